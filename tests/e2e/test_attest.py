#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Attestation (FIDO2): ykssh keeps a key only when the token proves it
made it.

The software token carries an attestation certificate from a test root
made per run (simtoken.py).  Trusted root: enroll passes and 'ykssh
verify' agrees.  A certificate from another root, a self-attesting token,
or a certificate that breaks WebAuthn's rules (CA, wrong OU, wrong AAGUID,
expired): refused with exit 86 and nothing written, unless
--allow-unattested.  'ykssh verify' finds tampered and foreign
attestations; 'ykssh list' shows the status.

usage: test_attest.py FIDOSIM SK_PROVIDER   (YKSSH_BIN in the environment)
"""

import json
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from test_enroll import EnrollTest, PIN, YKSSH, FIDOSIM, PROVIDER  # noqa
import simtoken  # noqa: E402  (on the path through test_enroll)

ATTESTATION_EXIT = 86


class AttestTest(EnrollTest):
    def use_certificate(self, **kw):
        """Restart the token with an attestation certificate made by
        simtoken.make_attestation_cert(CA, **kw); ca= another root."""
        ca = kw.pop("ca", None)
        if ca is None:
            ca = simtoken.test_ca()
            ca = (ca["cert"], ca["key"])
        cert, key = simtoken.make_attestation_cert(ca[0], ca[1], **kw)
        args = simtoken.write_attestation(self.token.workdir, cert, key)
        self.token.restart(args=args)

    def refused(self, *args, env=None, why=""):
        before = self.ssh_dir_files()
        p = self.ykssh(*args, env=env)
        self.assertEqual(p.returncode, ATTESTATION_EXIT, p.stderr + p.stdout)
        err = json.loads(p.stdout)["error"]
        self.assertEqual(err["code"], "YKSSH_ERR_ATTESTATION")
        self.assertIn(why, err["message"])
        self.assertIn("--allow-unattested", err["hint"])
        self.assert_no_new_files(before)
        return err

    def verify(self, *args, env=None):
        p = e2elib.run([YKSSH, "--json", "verify"] + list(args),
                       env=env or self.env())
        return p.returncode, json.loads(p.stdout) if p.stdout else None


class TestEnroll(AttestTest):
    def test_trusted_root_passes(self):
        r = self.enroll_ok()
        a = r["attestation"]
        self.assertEqual(a["status"], "verified")
        self.assertEqual(a["root"], "CN = ykssh test FIDO attestation root")
        self.assertIn("OU = Authenticator Attestation", a["subject"])
        self.assertEqual(a["aaguid"], r["token"]["aaguid"])
        # Saved beside the key, and 'ykssh verify' agrees.
        self.assertEqual(r["attestation_file"], r["stub"] + ".attest")
        self.assertTrue(os.path.isfile(r["attestation_file"]))
        rc, v = self.verify(r["public_key_file"])
        self.assertEqual(rc, 0, v)
        self.assertTrue(v["verified"])
        self.assertEqual(v["keys"][0]["attestation"]["status"], "verified")
        # The key works with ssh.
        self.start_sshd()
        self.sshd.authorize(r["public_key"])
        self.assert_login(r["stub"])

    def test_untrusted_root_refused(self):
        self.use_certificate(ca=simtoken.make_ca("some other root"))
        err = self.refused(why="untrusted")
        self.assertIn("does not chain to a trusted root", err["message"])
        self.assertIn("nothing was written", err["message"])
        # The same token is fine once its root is trusted.
        other = os.path.join(self.tmp, "trust")
        os.makedirs(other)
        p = self.ykssh(env=self.env(YKSSH_TRUST_DIR=other))
        self.assertEqual(p.returncode, ATTESTATION_EXIT)
        self.assertIn("no trusted attestation roots", p.stdout)

    def test_no_roots_refused_with_where_to_put_them(self):
        env = self.env()
        del env["YKSSH_TRUST_DIR"]
        err = self.refused(env=env, why="untrusted")
        self.assertIn(os.path.join(self.home, ".config", "ykssh", "trust"),
                      err["hint"])
        # Put there, the root is found without any option.
        d = os.path.join(self.home, ".config", "ykssh", "trust")
        os.makedirs(d)
        shutil.copy(os.path.join(simtoken.trust_dir(), "ca.pem"),
                    os.path.join(d, "yubico-fido-root.pem"))
        self.assertEqual(self.enroll_ok(env=env)["attestation"]["status"],
                         "verified")

    def test_trust_dir_option_and_setting(self):
        empty = os.path.join(self.tmp, "empty")
        os.makedirs(empty)
        self.refused("--trust-dir", empty, why="untrusted")
        # A missing directory stops enroll before the token is used.
        made = self.token.stats()["ctap"]["makeCredential"]
        p = self.ykssh("--trust-dir", os.path.join(self.tmp, "nope"))
        self.assertEqual(p.returncode, 66, p.stdout)
        self.assertIn("trust directory", json.loads(p.stdout)["error"][
            "message"])
        self.assertEqual(self.token.stats()["ctap"]["makeCredential"], made)
        # The setting in ~/.config/ykssh/config.
        env = self.env()
        del env["YKSSH_TRUST_DIR"]
        os.makedirs(os.path.join(self.home, ".config", "ykssh"))
        with open(os.path.join(self.home, ".config", "ykssh", "config"),
                  "w") as f:
            f.write("trust-dir = %s\n" % simtoken.trust_dir())
        self.enroll_ok(env=env)

    def test_allow_unattested_warns(self):
        self.use_certificate(ca=simtoken.make_ca("some other root"))
        p = self.ykssh("--allow-unattested")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("warning", p.stderr)
        self.assertIn("--allow-unattested", p.stderr)
        r = json.loads(p.stdout)
        self.assertEqual(r["attestation"]["status"], "untrusted")
        self.check_with_ssh_keygen(r)
        rc, v = self.verify()
        self.assertEqual(rc, ATTESTATION_EXIT)
        self.assertEqual(v["keys"][0]["attestation"]["status"], "untrusted")
        p = e2elib.run([YKSSH, "--json", "list", "--no-bitbucket"],
                       env=self.env(), check=True)
        self.assertEqual(json.loads(p.stdout)["keys"][0]["attestation"],
                         "untrusted")

    def test_self_attesting_token_refused(self):
        self.token.attestation = None
        self.token.restart(args=[])
        self.refused(why="self attestation")
        p = self.ykssh("--allow-unattested")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["attestation"]["status"],
                         "none")

    def test_certificate_rules(self):
        bad = {
            "a CA certificate": dict(is_ca=True),
            "subject OU": dict(ou="Some Unit"),
            "AAGUID": dict(aaguid=b"\x01" * 16),
            "expired": dict(days=-1),
        }
        for why, kw in bad.items():
            with self.subTest(why=why):
                self.use_certificate(**kw)
                err = self.refused(why=why)
                self.assertIn("invalid", err["message"])

    def test_matching_aaguid_extension_passes(self):
        r = self.enroll_ok()
        aaguid = bytes.fromhex(r["token"]["aaguid"].replace("-", ""))
        self.use_certificate(aaguid=aaguid)
        self.assertEqual(self.enroll_ok()["attestation"]["status"],
                         "verified")

    def test_resident_key_refused_is_deleted(self):
        self.set_pin()
        self.askpass.set(pin=PIN)
        self.use_certificate(ca=simtoken.make_ca("some other root"))
        err = self.refused("--resident", "--label", "r", why="untrusted")
        self.assertIn("deleted from the token again", err["message"])
        from fido2.ctap2 import Ctap2
        from fido2.ctap2.credman import CredentialManagement
        from fido2.ctap2.pin import ClientPin
        ctap = Ctap2(self.token.open_device())
        cp = ClientPin(ctap)
        tok = cp.get_pin_token(PIN, ClientPin.PERMISSION.CREDENTIAL_MGMT)
        cm = CredentialManagement(ctap, cp.protocol, tok)
        self.assertEqual(cm.get_metadata()[1], 0)   # no resident keys


class TestVerify(AttestTest):
    def test_tampered_foreign_missing(self):
        a = self.enroll_ok("--label", "a")
        b = self.enroll_ok("--label", "b")
        rc, v = self.verify()
        self.assertEqual(rc, 0, v)
        self.assertEqual(len(v["keys"]), 2)
        # Tampered: one bit of the signature.
        with open(a["attestation_file"], "rb") as f:
            good = f.read()
        # string magic, string certificate, string signature, ...
        off = 0
        for _ in range(2):
            off += 4 + int.from_bytes(good[off:off + 4], "big")
        sig_len = int.from_bytes(good[off:off + 4], "big")
        self.assertGreater(sig_len, 60)
        bad = bytearray(good)
        bad[off + 4 + sig_len - 5] ^= 0x01     # inside s of (r, s)
        with open(a["attestation_file"], "wb") as f:
            f.write(bad)
        rc, v = self.verify(a["public_key_file"])
        self.assertEqual(rc, ATTESTATION_EXIT)
        self.assertEqual(v["keys"][0]["attestation"]["status"], "invalid")
        # Foreign: b's (valid) attestation beside a's key.
        shutil.copy(b["attestation_file"], a["attestation_file"])
        rc, v = self.verify(a["stub"])
        self.assertEqual(rc, ATTESTATION_EXIT)
        self.assertEqual(v["keys"][0]["attestation"]["status"], "invalid")
        self.assertIn("another key", v["keys"][0]["attestation"]["reason"])
        # Missing.
        os.unlink(a["attestation_file"])
        rc, v = self.verify(a["public_key_file"], b["public_key_file"])
        self.assertEqual(rc, ATTESTATION_EXIT)
        self.assertEqual([k["attestation"]["status"] for k in v["keys"]],
                         ["missing", "verified"])
        p = e2elib.run([YKSSH, "verify", a["public_key_file"]],
                       env=self.env())
        self.assertEqual(p.returncode, ATTESTATION_EXIT)
        self.assertIn("missing", p.stdout)
        # Not a file at all.
        with open(a["attestation_file"], "wb") as f:
            f.write(b"garbage")
        rc, v = self.verify(a["public_key_file"])
        self.assertEqual(v["keys"][0]["attestation"]["status"], "invalid")

    def test_ssh_keygen_attestation_with_challenge(self):
        chal = os.path.join(self.tmp, "challenge")
        with open(chal, "wb") as f:
            f.write(b"a challenge of the user's own")
        att = os.path.join(self.tmp, "att")
        r = self.enroll_ok("--attestation", att, "--challenge", chal)
        # ssh-keygen's format has no challenge: it must be given.
        rc, v = self.verify("--attestation", att, r["public_key_file"])
        self.assertEqual(rc, ATTESTATION_EXIT)
        self.assertIn("challenge", v["keys"][0]["attestation"]["reason"])
        rc, v = self.verify("--attestation", att, "--challenge", chal,
                            r["public_key_file"])
        self.assertEqual(rc, 0, v)
        # A wrong challenge does not verify.
        with open(chal, "wb") as f:
            f.write(b"another challenge")
        rc, v = self.verify("--attestation", att, "--challenge", chal,
                            r["public_key_file"])
        self.assertEqual(rc, ATTESTATION_EXIT)
        self.assertEqual(v["keys"][0]["attestation"]["status"], "invalid")

    def test_untrusted_on_verify(self):
        r = self.enroll_ok()
        other = os.path.join(self.tmp, "other")
        os.makedirs(other)
        cert, _ = simtoken.make_ca("some other root")
        simtoken._write_pem(os.path.join(other, "root.pem"), cert=cert)
        rc, v = self.verify("--trust-dir", other, r["public_key_file"])
        self.assertEqual(rc, ATTESTATION_EXIT)
        self.assertEqual(v["keys"][0]["attestation"]["status"], "untrusted")
        p = e2elib.run([YKSSH, "list", "--no-bitbucket"], env=self.env(),
                       check=True)
        self.assertIn("attested   verified", p.stdout)


if __name__ == "__main__":
    e2elib.need(FIDOSIM, "fidosim")
    e2elib.need(PROVIDER, "SecurityKeyProvider")
    e2elib.need(YKSSH, "ykssh")
    unittest.main(argv=[sys.argv[0], "-v"])
