#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""ykssh revoke: a key taken out of service, proven by git push.

A key enrolled and registered pushes; after 'ykssh revoke' (token lost:
not plugged in) the same stub, kept aside, is refused by the emulator's
sshd, ~/.ssh/config no longer names it and its files are gone.  With
--on-token the resident credential leaves the token (checked with
python-fido2's credential management); a wrong PIN fails that step alone
and running revoke again by fingerprint finishes the job.

usage: test_revoke.py FIDOSIM SK_PROVIDER    (YKSSH_BIN in the env)
"""

import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from test_register import RegisterTest  # noqa: E402

PIN = "4242-revoke-pin"


class RevokeTest(RegisterTest):
    def setUp(self):
        super().setUp()
        self.askpass = e2elib.Askpass(self.tmp)

    def device(self):
        return "udp://127.0.0.1:%d?local=0" % self.token.port

    def revoke(self, *args, product="cloud", env=None, force=True):
        return self.ykssh("revoke", *(("--force",) if force else ()) + args,
                          env=env or self.env(product))

    def push_with(self, stub):
        """clone + push using only this stub."""
        env = self.bb.git_env(extra={
            "HOME": self.home, "YKSSH_SK_DEVICE": self.device(),
            "GIT_SSH_COMMAND": "ssh -F %s -o IdentitiesOnly=yes -i %s" %
            (self.ssh_config(), stub)})
        work = os.path.join(self.tmp, "work-%d" % len(os.listdir(self.tmp)))
        c = subprocess.run(["git", "clone", "-q", self.cloud_url(), work],
                           env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60,
                           start_new_session=True)
        return c

    def resident_rps(self):
        from fido2.ctap2 import Ctap2
        from fido2.ctap2.credman import CredentialManagement
        from fido2.ctap2.pin import ClientPin
        ctap = Ctap2(self.token.open_device())
        cp = ClientPin(ctap)
        tok = cp.get_pin_token(PIN, ClientPin.PERMISSION.CREDENTIAL_MGMT)
        cm = CredentialManagement(ctap, cp.protocol, tok)
        if cm.get_metadata()[1] == 0:    # existing resident credentials
            return []
        return sorted(r[3]["id"] for r in cm.enumerate_rps())


class TestRevoke(RevokeTest):
    def test_lost_token_registration_config_and_files(self):
        p = self.enroll("cloud", "--label", "work")
        self.assertEqual(p.returncode, 0, p.stderr)
        r = json.loads(p.stdout)
        self.ssh_overrides()
        kept = os.path.join(self.tmp, "kept-stub")
        shutil.copy(r["stub"], kept)
        os.chmod(kept, 0o600)
        c = self.push_with(kept)
        self.assertEqual(c.returncode, 0, c.stderr + self.bb.read_sshd_log())
        # The token is lost: nothing answers where it was (and this
        # machine has no /dev/hidraw token).
        p = self.revoke("work", "--on-token", "--device",
                        "udp://127.0.0.1:%d?local=0" % e2elib.free_port(),
                        *self.server_args())
        self.assertEqual(p.returncode, 69, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual(out["fingerprint"], r["fingerprint"])
        states = {k: v["state"] for k, v in out["steps"].items()}
        self.assertEqual(states, {"bitbucket": "done", "config": "done",
                                  "files": "done", "token": "pending"})
        self.assertIn("run 'ykssh revoke %s' again" % r["fingerprint"],
                      p.stderr)
        # What the user observes: the kept stub is refused, ssh no longer
        # uses the key for bitbucket.org, the files are gone.
        c = self.push_with(kept)
        self.assertNotEqual(c.returncode, 0)
        self.assertIn("Permission denied", c.stderr)
        self.assertFalse(os.path.exists(r["stub"]))
        self.assertFalse(os.path.exists(r["stub"] + ".pub"))
        g = e2elib.run(["ssh", "-F", self.ssh_config(), "-G",
                        "bitbucket.org"], env=self.env())
        self.assertNotIn(r["stub"], g.stdout)
        with open(self.ssh_config()) as f:
            text = f.read()
        self.assertNotIn("IdentityFile", text)
        self.assertNotIn("# ykssh:", text)     # its marker lines
        self.assertEqual(self.bb.keys()["cloud"], [])
        # Again, by fingerprint: nothing left, exit 0 (idempotent).
        p = self.revoke(r["fingerprint"], *self.server_args())
        self.assertEqual(p.returncode, 0, p.stderr)
        states = {k: v["state"] for k, v in
                  json.loads(p.stdout)["steps"].items()}
        self.assertEqual(states, {"bitbucket": "absent", "config": "absent",
                                  "files": "absent", "token": "skipped"})

    def test_resident_credential_deleted_from_token(self):
        self.askpass.set(pin=PIN, confirm=True)   # ykssh offers a PIN
        env = self.env(**self.askpass.env())
        p = self.ykssh("enroll", "--device", self.device(), "--resident",
                       "--label", "home", "--no-register", env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        r = json.loads(p.stdout)
        p = self.ykssh("enroll", "--device", self.device(), "--resident",
                       "--label", "other", "--no-register", env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.resident_rps(), ["ssh:home", "ssh:other"])
        # It asks first; "no" changes nothing.
        files = sorted(os.listdir(os.path.join(self.home, ".ssh")))
        self.askpass.set(pin=PIN, confirm=False)
        p = self.revoke("home", "--no-bitbucket", "--on-token", "--device",
                        self.device(), env=env, force=False)
        self.assertEqual(p.returncode, 130, p.stderr)
        self.assertIn("--force", p.stderr)
        self.assertTrue(any(x.startswith("Revoke %s (home)" %
                                         r["fingerprint"])
                            for x in self.askpass.prompts()),
                        self.askpass.prompts())
        self.assertEqual(sorted(os.listdir(os.path.join(self.home, ".ssh"))),
                         files)
        # A wrong PIN fails the token step alone, with the PIN's status.
        self.askpass.set(pin="wrong-pin-1")
        p = self.revoke("home", "--no-bitbucket", "--on-token", "--device",
                        self.device(), env=env)
        self.assertEqual(p.returncode, 82, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual(out["steps"]["token"]["state"], "failed")
        self.assertEqual(out["steps"]["token"]["error"],
                         "YKSSH_ERR_PIN_INVALID")
        self.assertEqual(out["steps"]["files"]["state"], "done")
        self.assertEqual(out["steps"]["bitbucket"]["state"], "skipped")
        self.assertNotIn("wrong-pin-1", p.stdout + p.stderr)
        self.assertEqual(self.resident_rps(), ["ssh:home", "ssh:other"])
        # Again by fingerprint with the right PIN: only that one goes.
        self.askpass.set(pin=PIN)
        p = self.revoke(r["fingerprint"], "--no-bitbucket", "--on-token",
                        "--device", self.device(), env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual(out["steps"]["token"]["state"], "done")
        self.assertEqual(self.resident_rps(), ["ssh:other"])
        # ssh-keygen -K now recovers only the other key.
        laptop = os.path.join(self.tmp, "laptop")
        os.makedirs(laptop)
        k = subprocess.run(["ssh-keygen", "-K", "-N", ""], cwd=laptop,
                           env=self.env(SSH_SK_PROVIDER=sys.argv[2],
                                        **self.askpass.env()),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60, start_new_session=True)
        self.assertEqual(k.returncode, 0, k.stderr)
        self.assertEqual(sorted(os.listdir(laptop)),
                         ["id_ed25519_sk_rk_other",
                          "id_ed25519_sk_rk_other.pub"])

    def test_piv_style_key_without_card_token_step_pending(self):
        # A key that is not FIDO2 (as a PIV key's .pub): the token step is
        # the PIV card's; with no card (no PC/SC service here) everything
        # but the token is revoked and the token step waits (exit 69).
        # The PIV card itself: tests/e2e/test_piv_lifecycle.py.
        ssh = os.path.join(self.home, ".ssh")
        os.makedirs(ssh, mode=0o700)
        key = os.path.join(ssh, "id_piv")
        e2elib.run(["ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", key],
                   check=True)
        fp = e2elib.run(["ssh-keygen", "-l", "-f", key + ".pub"],
                        check=True).stdout.split()[1]
        p = self.ykssh("config", "apply", "--label", "piv", "--key-id", fp,
                       "--identity-file", key + ".pub", "--no-ssh-check")
        self.assertEqual(p.returncode, 0, p.stderr)
        env = self.env(PCSCLITE_CSOCK_NAME=os.path.join(self.tmp,
                                                        "no-pcscd"))
        p = self.revoke("piv", "--no-bitbucket", "--on-token", env=env)
        self.assertEqual(p.returncode, 69, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual(out["fingerprint"], fp)
        self.assertEqual({k: v["state"] for k, v in out["steps"].items()},
                         {"bitbucket": "skipped", "config": "done",
                          "files": "done", "token": "pending"})
        self.assertIn("no PIV card", out["steps"]["token"]["detail"])
        self.assertEqual(os.listdir(ssh), [n for n in os.listdir(ssh)
                                           if not n.startswith("id_piv")])
        # --device names a FIDO2 token: not with --piv.
        p = self.revoke(fp, "--no-bitbucket", "--on-token", "--piv",
                        "--device", self.device(), env=env)
        self.assertEqual(p.returncode, 64, p.stderr)

    def test_unknown_key_and_usage(self):
        p = self.revoke("nosuch", "--no-bitbucket")
        self.assertEqual(p.returncode, 66, p.stderr)
        self.assertIn("no key \"nosuch\"", p.stderr)
        self.assertIn("SHA256 fingerprint", p.stderr)
        p = self.revoke("--no-bitbucket")
        self.assertEqual(p.returncode, 64, p.stderr)
        p = self.revoke("x", "--device", "udp://127.0.0.1:1")
        self.assertEqual(p.returncode, 64, p.stderr)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
