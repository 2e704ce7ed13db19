#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""ykssh rotate: a key replaced, proven by git push and sshd's refusals.

A key enrolled and registered pushes.  After 'ykssh rotate' the old stub
(kept aside) is refused by the emulator's sshd, the config's key pushes
and is the new one (ssh-keygen reads it back), the emulator holds only the
new key.  ykssh is killed at every step boundary (before and after the
journal records the step, YKSSH_TEST_ROTATE_KILL_AFTER): each time a key
still pushes through the config, and running rotate again converges to the
same final state.  A server that refuses the new key, and one that cannot
be reached, stop the rotation with the old key working.  --on-token
deletes the old resident credential.

usage: test_rotate.py FIDOSIM SK_PROVIDER    (YKSSH_BIN in the env)
"""

import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from test_revoke import PIN, RevokeTest  # noqa: E402

STEPS = ("planned", "enrolled", "registered", "proven", "backed-up",
         "pub-cleared", "stub-switched", "pub-switched", "config",
         "old-removed", "token")


class RotateTest(RevokeTest):
    def setUp(self):
        super().setUp()
        self.kept = 0

    def start(self, *enroll_args, env=None):
        p = self.enroll("cloud", "--label", "work", *enroll_args, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.ssh_overrides()
        return json.loads(p.stdout)

    def rotate(self, *args, kill=None, env=None, device=None,
               product="cloud"):
        env = dict(env or self.env(product))
        if kill is not None:
            env["YKSSH_TEST_ROTATE_KILL_AFTER"] = kill
        return self.ykssh("rotate", "--device", device or self.device(),
                          "--check-user", self.bb.login,
                          *(self.server_args(product) + list(args) +
                            ["work"]), env=env)

    def keep(self, stub):
        """A copy of a stub, to try it after it is gone."""
        self.kept += 1
        kept = os.path.join(self.tmp, "kept-%d" % self.kept)
        shutil.copy(stub, kept)
        os.chmod(kept, 0o600)
        return kept

    def push_with(self, stub):
        """clone with this stub alone (no config: its IdentityFile would
        be offered too)."""
        env = self.bb.git_env(extra={"HOME": self.home,
                                     "YKSSH_SK_DEVICE": self.device()})
        env["GIT_SSH_COMMAND"] = self.bb.ssh_command(stub) + \
            " -o SecurityKeyProvider=" + sys.argv[2]
        work = os.path.join(self.tmp, "work-%d" % len(os.listdir(self.tmp)))
        url = "ssh://%s@127.0.0.1:%d%s" % (self.bb.login, self.bb.ssh_port,
                                          self.bb.repo)
        return subprocess.run(["git", "clone", "-q", url, work], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=60, start_new_session=True)

    def fingerprint(self, path):
        return e2elib.run(["ssh-keygen", "-l", "-f", path],
                          check=True).stdout.split()[1]

    def config_pushes(self):
        c = self.clone_and_push(self.cloud_url())
        self.assertEqual(c.returncode, 0, c.stderr + self.bb.read_sshd_log())

    def journal(self):
        return os.path.join(self.home, ".ssh", ".ykssh-rotate-work")

    def assert_rotated(self, stub, old_fp, old_kept):
        """The final state, as a user observes it; returns the new fp."""
        new_fp = self.fingerprint(stub + ".pub")
        self.assertNotEqual(new_fp, old_fp)
        # ssh-keygen reads the files back: stub and .pub agree.
        y = e2elib.run(["ssh-keygen", "-y", "-f", stub], check=True)
        with open(stub + ".pub") as f:
            self.assertEqual(y.stdout.split()[:2], f.read().split()[:2])
        # The config names the stub and the new key.
        with open(self.ssh_config()) as f:
            text = f.read()
        self.assertIn("# ykssh:begin work %s" % new_fp, text)
        g = e2elib.run(["ssh", "-F", self.ssh_config(), "-G",
                        "bitbucket.org"], env=self.env())
        self.assertIn("identityfile %s" % stub, g.stdout)
        # Bitbucket has the new key only; sshd refuses the old one.
        self.assertEqual([k["fingerprint"] for k in self.bb.keys()["cloud"]],
                         [new_fp.split(":", 1)[1]])
        c = self.push_with(old_kept)
        self.assertNotEqual(c.returncode, 0)
        self.assertIn("Permission denied", c.stderr)
        self.config_pushes()
        self.assertFalse(os.path.exists(self.journal()))
        self.assertFalse(os.path.exists(stub + ".new"))
        self.assertFalse(os.path.exists(stub + ".new.pub"))
        # The attestation beside the stub is the new key's (verify checks
        # it attests the key of the .pub) and chains to the test root.
        self.assertFalse(os.path.exists(stub + ".new.attest"))
        v = self.ykssh("verify", "work", env=self.env())
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.assertEqual(json.loads(v.stdout)["keys"][0]["attestation"]
                         ["status"], "verified")
        return new_fp


class TestRotate(RotateTest):
    def test_untrusted_new_key_refused_old_key_kept(self):
        r = self.start()
        empty = os.path.join(self.tmp, "no-roots")
        os.mkdir(empty)
        p = self.rotate(env=self.env(YKSSH_TRUST_DIR=empty))
        self.assertEqual(p.returncode, 86, p.stderr)
        self.assertIn("untrusted", p.stderr)
        self.assertIn("--allow-unattested", p.stderr)
        self.assertFalse(os.path.exists(r["stub"] + ".new"))
        self.assertEqual([k["fingerprint"] for k in self.bb.keys()["cloud"]],
                         [r["fingerprint"].split(":", 1)[1]])
        self.config_pushes()
        # With the roots, the same command finishes the job.
        p = self.rotate()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assert_rotated(r["stub"], r["fingerprint"], self.keep(
            r["stub"] + ".old"))

    def test_rotate_then_old_key_refused(self):
        r = self.start("--expires", "30")
        old = self.keep(r["stub"])
        self.config_pushes()
        p = self.rotate()
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual(out["old_fingerprint"], r["fingerprint"])
        self.assertEqual(out["stub"], r["stub"])
        self.assertEqual(out["step"], "done")
        self.assertFalse(out["resumed"])
        self.assertTrue(out["checked"])
        self.assertIn("Authenticated to", out["check"])
        # Same kind and options as the old key; its lifetime kept.
        self.assertEqual(out["type"], "sk-ssh-ed25519@openssh.com")
        self.assertEqual(out["application"], "ssh:")
        self.assertFalse(out["resident"])
        self.assertTrue(out["touch_required"])
        self.assertEqual(out["expires_days"], 30)
        new_fp = self.assert_rotated(r["stub"], r["fingerprint"], old)
        self.assertEqual(out["new_fingerprint"], new_fp)
        # "work" is the old key's until it goes: the first free label.
        self.assertEqual(self.bb.keys()["cloud"][0]["label"], "work (2)")
        self.assertTrue(self.bb.keys()["cloud"][0]["expires_on"])
        # The old files are kept aside and hold the old key.
        self.assertEqual(self.fingerprint(out["old_stub"]),
                         r["fingerprint"])
        self.assertEqual(self.fingerprint(out["old_public_key_file"]),
                         r["fingerprint"])
        # 'ykssh list' sees one key, the new one, with nothing wrong (the
        # retired key's files are not taken for a live key).
        p = self.ykssh("list", *self.server_args())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([(k["fingerprint"], k["problems"]) for k in
                          json.loads(p.stdout)["keys"]], [(new_fp, [])])
        # Options can change: ecdsa-sk this time, no expiry.
        p = self.rotate("--type", "ecdsa-sk", "--no-expires")
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual(out["type"], "sk-ecdsa-sha2-nistp256@openssh.com")
        self.assertEqual(out["expires_days"], 0)
        self.assertTrue(out["old_stub"].endswith(".old.2"), out)
        self.assert_rotated(r["stub"], new_fp, self.keep(out["old_stub"]))

    def test_data_center_keeps_expiry(self):
        p = self.enroll("dc", "--label", "work", "--expires", "7")
        self.assertEqual(p.returncode, 0, p.stderr)
        r = json.loads(p.stdout)
        self.ssh_overrides(cloud_host=False)
        p = self.rotate(product="dc")
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual(out["expires_days"], 7)
        self.assertIn("Authenticated to 127.0.0.1", out["check"])
        keys = self.bb.keys()["dc"]
        self.assertEqual([(k["fingerprint"], k["expiryDays"]) for k in keys],
                         [(out["new_fingerprint"].split(":", 1)[1], 7)])
        url = "ssh://%s@127.0.0.1:%d%s" % (self.bb.login, self.bb.ssh_port,
                                          self.bb.repo)
        c = self.clone_and_push(url)
        self.assertEqual(c.returncode, 0, c.stderr)
        c = self.push_with(self.keep(out["old_stub"]))
        self.assertNotEqual(c.returncode, 0)
        self.assertIn("Permission denied", c.stderr)
        self.assertNotEqual(r["fingerprint"], out["new_fingerprint"])

    def test_killed_at_every_step_converges(self):
        r = self.start()
        stub = r["stub"]
        old_fp = r["fingerprint"]
        for step in STEPS:
            for point in (step + "/unrecorded", step):
                with self.subTest(kill=point):
                    old = self.keep(stub)
                    p = self.rotate(kill=point)
                    self.assertEqual(p.returncode, -9, p.stderr)
                    # Killed: a key still works through the config.
                    self.config_pushes()
                    p = self.rotate()
                    self.assertEqual(p.returncode, 0, p.stderr)
                    out = json.loads(p.stdout)
                    self.assertEqual(out["old_fingerprint"], old_fp)
                    self.assertEqual(out["step"], "done")
                    # Nothing was recorded before the first step's kill.
                    self.assertEqual(out["resumed"],
                                     point != "planned/unrecorded")
                    self.assertTrue(out["checked"])
                    old_fp = self.assert_rotated(stub, old_fp, old)
                    self.assertEqual(out["new_fingerprint"], old_fp)

    def test_server_refuses_new_key(self):
        r = self.start()
        old = self.keep(r["stub"])
        # Registered, then gone from the server before the login check
        # (as a registration that never reached sshd).
        p = self.rotate(kill="registered")
        self.assertEqual(p.returncode, -9, p.stderr)
        new = [k for k in self.bb.keys()["cloud"]
               if "SHA256:" + k["fingerprint"] != r["fingerprint"]]
        self.assertEqual(len(new), 1)
        d = self.ykssh("register", "--delete",
                       "SHA256:" + new[0]["fingerprint"],
                       *self.server_args())
        self.assertEqual(d.returncode, 0, d.stderr)
        p = self.rotate()
        self.assertEqual(p.returncode, 97, p.stderr)
        self.assertIn("refused the new key", p.stderr)
        self.assertIn("old key %s: in use" % r["fingerprint"], p.stderr)
        self.assertIn("refused by its ssh server", p.stderr)
        self.assertIn("run the same command again", p.stderr)
        # The old key still works, alone and through the config.
        c = self.push_with(old)
        self.assertEqual(c.returncode, 0, c.stderr)
        self.config_pushes()
        self.assertEqual(self.fingerprint(r["stub"]), r["fingerprint"])
        # Again: registered again, proven, finished.
        p = self.rotate()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assert_rotated(r["stub"], r["fingerprint"], old)

    def test_unreachable_server_stops_before_switch(self):
        r = self.start()
        old = self.keep(r["stub"])
        # bitbucket.org now points at a closed port.
        with open(self.ssh_config()) as f:
            text = f.read()
        closed = e2elib.free_port()
        with open(self.ssh_config(), "w") as f:
            f.write(text.replace("Port %d" % self.bb.ssh_port,
                                 "Port %d" % closed))
        p = self.rotate()
        self.assertEqual(p.returncode, 90, p.stderr)
        self.assertIn("cannot reach 127.0.0.1 port %d" % closed, p.stderr)
        self.assertIn("Connection refused", p.stderr)
        self.assertIn("old key %s: in use" % r["fingerprint"], p.stderr)
        self.assertIn("not yet proven", p.stderr)
        self.assertTrue(os.path.exists(self.journal()))
        self.assertEqual(self.fingerprint(r["stub"]), r["fingerprint"])
        with open(self.ssh_config()) as f:
            self.assertIn("# ykssh:begin work %s" % r["fingerprint"],
                          f.read())
        # The old key still pushes (the network is back).
        with open(self.ssh_config(), "w") as f:
            f.write(text)
        c = self.push_with(old)
        self.assertEqual(c.returncode, 0, c.stderr)
        # --abort undoes it: new key unregistered, side files gone.
        p = self.ykssh("rotate", "--abort", *self.server_args(), "work")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([k["fingerprint"] for k in self.bb.keys()["cloud"]],
                         [r["fingerprint"].split(":", 1)[1]])
        self.assertFalse(os.path.exists(self.journal()))
        self.assertFalse(os.path.exists(r["stub"] + ".new"))
        self.config_pushes()
        # Then a rotation finishes.
        p = self.rotate()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assert_rotated(r["stub"], r["fingerprint"], old)

    def test_no_check_when_asked(self):
        r = self.start()
        old = self.keep(r["stub"])
        closed = e2elib.free_port()
        self.set_port(self.bb.ssh_port, closed)
        p = self.rotate("--no-check")
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertFalse(out["checked"])
        self.assertIsNone(out["check"])
        self.set_port(closed, self.bb.ssh_port)
        self.assert_rotated(r["stub"], r["fingerprint"], old)

    def set_port(self, old, new):
        """Where the test's own lines send bitbucket.org."""
        with open(self.ssh_config()) as f:
            text = f.read()
        self.assertIn("Port %d\n" % old, text)
        with open(self.ssh_config(), "w") as f:
            f.write(text.replace("Port %d\n" % old, "Port %d\n" % new))

    def test_resident_on_token(self):
        self.askpass.set(pin=PIN, confirm=True)   # ykssh offers a PIN
        env = self.env(**self.askpass.env())
        r = self.start("--resident", env=env)
        old = self.keep(r["stub"])
        self.assertEqual(self.resident_rps(), ["ssh:work"])
        before = self.resident_users()
        self.assertEqual(len(before), 1)
        # Killed once the old key left Bitbucket; then the token is not
        # there: the old key is gone from Bitbucket, still on the token,
        # and the new one works.
        p = self.rotate("--on-token", env=env, kill="old-removed")
        self.assertEqual(p.returncode, -9, p.stderr)
        p = self.rotate("--on-token", env=env, device="udp://127.0.0.1:%d"
                        "?local=0" % e2elib.free_port())
        self.assertEqual(p.returncode, 69, p.stderr)
        self.assertIn("the token still has it", p.stderr)
        users = self.resident_users()
        self.assertEqual(len(users), 2)     # the old and the new key
        self.assertIn(before[0], users)
        self.config_pushes()
        p = self.rotate("--on-token", env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertTrue(out["resident"])
        self.assertEqual(out["application"], "ssh:work")
        self.assertEqual(out["token"], "deleted")
        self.assert_rotated(r["stub"], r["fingerprint"], old)
        # One credential left on the token: the new key's, and
        # ssh-keygen -K recovers it.
        after = self.resident_users()
        self.assertEqual(len(after), 1)
        self.assertNotEqual(after, before)
        laptop = os.path.join(self.tmp, "laptop")
        os.makedirs(laptop)
        k = subprocess.run(["ssh-keygen", "-K", "-N", ""], cwd=laptop,
                           env=self.env(SSH_SK_PROVIDER=sys.argv[2],
                                        **self.askpass.env()),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60, start_new_session=True)
        self.assertEqual(k.returncode, 0, k.stderr)
        pubs = [n for n in os.listdir(laptop) if n.endswith(".pub")]
        self.assertEqual(len(pubs), 1)
        self.assertEqual(self.fingerprint(os.path.join(laptop, pubs[0])),
                         self.fingerprint(r["stub"] + ".pub"))

    def resident_users(self):
        from fido2.ctap2 import Ctap2
        from fido2.ctap2.credman import CredentialManagement
        from fido2.ctap2.pin import ClientPin
        ctap = Ctap2(self.token.open_device())
        cp = ClientPin(ctap)
        tok = cp.get_pin_token(PIN, ClientPin.PERMISSION.CREDENTIAL_MGMT)
        cm = CredentialManagement(ctap, cp.protocol, tok)
        users = []
        for rp in cm.enumerate_rps():
            for c in cm.enumerate_creds(rp[4]):
                users.append(bytes(c[6]["id"]))
        return sorted(users)

    def test_unknown_label_and_piv(self):
        p = self.rotate()
        self.assertEqual(p.returncode, 66, p.stderr)
        self.assertIn("no ykssh entry \"work\"", p.stderr)
        self.assertIn("ykssh list", p.stderr)
        p = self.ykssh("rotate", *self.server_args())
        self.assertEqual(p.returncode, 64, p.stderr)
        p = self.ykssh("rotate", "--abort", "--on-token", "x")
        self.assertEqual(p.returncode, 64, p.stderr)
        # A PIV-style entry (PKCS11Provider, IdentityFile the .pub).
        ssh = os.path.join(self.home, ".ssh")
        os.makedirs(ssh, mode=0o700, exist_ok=True)
        key = os.path.join(ssh, "id_piv")
        e2elib.run(["ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", key],
                   check=True)
        provider = os.path.join(self.tmp, "libykcs11.so")
        open(provider, "w").close()
        p = self.ykssh("config", "apply", "--label", "work",
                       "--identity-file", key + ".pub",
                       "--pkcs11-provider", provider, "--no-ssh-check")
        self.assertEqual(p.returncode, 0, p.stderr)
        # PIV keys are rotated (test_rotate_piv.py); with no card here,
        # nothing starts.
        p = self.rotate()
        self.assertEqual(p.returncode, 69, p.stderr)
        self.assertIn("no smart-card reader", p.stderr)
        self.assertFalse(os.path.exists(self.journal()))
        # FIDO2-only options on a PIV entry: refused before the card.
        p = self.rotate("--resident")
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("for FIDO2 keys", p.stderr)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
