#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""ykssh recover: a new laptop, proven by git push.

Resident keys enrolled (and registered) on one HOME; a fresh HOME with the
same token runs 'ykssh recover' and git clone + push then work with no
other step.  The stubs carry what ssh-keygen -K writes for the same
credentials (public key, application, flags, key handle).  Running it
again changes nothing; a file holding another key is a per-key error, kept
unless --force (with a backup).

usage: test_recover.py FIDOSIM SK_PROVIDER    (YKSSH_BIN in the env)
"""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from test_register import RegisterTest  # noqa: E402

PIN = "4242-recover-pin"


class RecoverTest(RegisterTest):
    def setUp(self):
        super().setUp()
        self.askpass = e2elib.Askpass(self.tmp)
        self.askpass.set(pin=PIN, confirm=True)   # ykssh offers a PIN

    def device(self):
        return "udp://127.0.0.1:%d?local=0" % self.token.port

    def penv(self):
        return self.env(**self.askpass.env())

    def new_home(self, name):
        self.home = os.path.join(self.tmp, name)
        os.makedirs(self.home)

    def recover(self, *args):
        server = [] if "--no-register" in args else self.server_args()
        return self.ykssh("recover", "--device", self.device(),
                          *(server + list(args)), env=self.penv())

    def enroll_two(self):
        """work: resident, registered; home: resident ecdsa, not."""
        p = self.ykssh("enroll", "--device", self.device(), "--resident",
                       "--label", "work", *self.server_args(),
                       env=self.penv())
        self.assertEqual(p.returncode, 0, p.stderr)
        work = json.loads(p.stdout)
        p = self.ykssh("enroll", "--device", self.device(), "--resident",
                       "--label", "home", "--type", "ecdsa-sk",
                       "--no-register", "--no-config", env=self.penv())
        self.assertEqual(p.returncode, 0, p.stderr)
        return work, json.loads(p.stdout)


class TestRecover(RecoverTest):
    maxDiff = None

    def test_new_laptop_pushes(self):
        work, home = self.enroll_two()
        self.new_home("laptop")
        p = self.recover()
        self.assertEqual(p.returncode, 0, p.stderr)
        r = json.loads(p.stdout)
        keys = {k["label"]: k for k in r["keys"]}
        self.assertEqual(sorted(keys), ["home", "work"])
        self.assertEqual(keys["work"]["fingerprint"], work["fingerprint"])
        self.assertEqual(keys["home"]["fingerprint"], home["fingerprint"])
        self.assertEqual(keys["work"]["files"], "written")
        # Registered already on the old laptop: nothing added.
        self.assertTrue(keys["work"]["registration"]["already"])
        self.assertFalse(keys["home"]["registration"]["already"])
        ssh = os.path.join(self.home, ".ssh")
        self.assertEqual(sorted(n for n in os.listdir(ssh)
                                if n.startswith("id_")), [
            "id_ecdsa_sk_home", "id_ecdsa_sk_home.pub",
            "id_ed25519_sk_work", "id_ed25519_sk_work.pub"])
        self.assertEqual(os.stat(os.path.join(ssh, "id_ed25519_sk_work"))
                         .st_mode & 0o777, 0o600)
        # Again: nothing changes, no backup appears.
        before = {n: os.stat(os.path.join(ssh, n)).st_mtime_ns
                  for n in os.listdir(ssh)}
        with open(os.path.join(ssh, "config")) as f:
            cfg = f.read()
        p = self.recover()
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(ssh, "config")) as f:
            self.assertEqual(f.read(), cfg)
        self.assertEqual([k["files"] for k in json.loads(p.stdout)["keys"]],
                         ["present", "present"])
        self.assertEqual({n: os.stat(os.path.join(ssh, n)).st_mtime_ns
                          for n in os.listdir(ssh)}, before)
        # git push with nothing but what recover wrote (plus the test's
        # pointer to the emulator's sshd).
        self.ssh_overrides()
        c = self.clone_and_push(self.cloud_url())
        self.assertEqual(c.returncode, 0, c.stderr + self.bb.read_sshd_log())
        # Real OpenSSH reads them back as the same keys ssh-keygen -K
        # recovers from the token.
        kdir = os.path.join(self.tmp, "keygen")
        os.makedirs(kdir)
        k = subprocess.run(["ssh-keygen", "-K", "-N", ""], cwd=kdir,
                           env=self.env(SSH_SK_PROVIDER=sys.argv[2],
                                        **self.askpass.env()),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60, start_new_session=True)
        self.assertEqual(k.returncode, 0, k.stderr)
        for ours, theirs in (("id_ed25519_sk_work", "id_ed25519_sk_rk_work"),
                             ("id_ecdsa_sk_home", "id_ecdsa_sk_rk_home")):
            a = e2elib.read_openssh_key(os.path.join(ssh, ours))
            b = e2elib.read_openssh_key(os.path.join(kdir, theirs))
            for f in ("pubblob", "type", "application", "flags",
                      "key_handle"):
                self.assertEqual(a[f], b[f], (ours, f))
            y = e2elib.run(["ssh-keygen", "-y", "-f",
                            os.path.join(ssh, ours)], check=True)
            with open(os.path.join(ssh, ours + ".pub")) as f:
                self.assertEqual(y.stdout.split()[:2], f.read().split()[:2])

    def test_other_file_in_the_way(self):
        self.enroll_two()
        self.new_home("other")
        ssh = os.path.join(self.home, ".ssh")
        os.makedirs(ssh, mode=0o700)
        mine = os.path.join(ssh, "id_ed25519_sk_work")
        e2elib.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    mine], check=True)
        with open(mine) as f:
            old = f.read()
        p = self.recover("--no-register", "--no-config")
        self.assertEqual(p.returncode, 73, p.stderr)
        keys = {k["label"]: k for k in json.loads(p.stdout)["keys"]}
        self.assertEqual(keys["work"]["files"], "failed")
        self.assertEqual(keys["work"]["error"]["code"],
                         "YKSSH_ERR_FILE_EXISTS")
        self.assertEqual(keys["home"]["files"], "written")
        with open(mine) as f:
            self.assertEqual(f.read(), old)       # untouched
        p = self.recover("--no-register", "--no-config", "--force")
        self.assertEqual(p.returncode, 0, p.stderr)
        keys = {k["label"]: k for k in json.loads(p.stdout)["keys"]}
        self.assertEqual(keys["work"]["files"], "replaced")
        backups = [n for n in os.listdir(ssh)
                   if n.startswith("id_ed25519_sk_work") and
                   n not in ("id_ed25519_sk_work", "id_ed25519_sk_work.pub")]
        self.assertTrue(backups, os.listdir(ssh))
        backups = [n for n in backups if ".pub" not in n]
        with open(os.path.join(ssh, backups[0])) as f:
            self.assertEqual(f.read(), old)

    def test_two_users_one_application(self):
        # Two resident keys of ssh:work (different user ids) get two
        # files and two config entries, not one overwriting the other.
        for user in ("alice", "bob"):
            p = self.ykssh("enroll", "--device", self.device(),
                           "--resident", "--label", "work", "--user", user,
                           "--output", os.path.join(self.tmp, user),
                           "--no-register", "--no-config", env=self.penv())
            self.assertEqual(p.returncode, 0, p.stderr)
        self.new_home("laptop2")
        p = self.recover("--no-register")
        self.assertEqual(p.returncode, 0, p.stderr)
        keys = json.loads(p.stdout)["keys"]
        self.assertEqual(sorted(k["user"] for k in keys), ["alice", "bob"])
        self.assertEqual(sorted(os.path.basename(k["stub"]) for k in keys),
                         ["id_ed25519_sk_work", "id_ed25519_sk_work_2"])
        self.assertEqual(sorted(k["ssh_config"]["label"] for k in keys),
                         ["id_ed25519_sk_work_2", "work"])
        self.assertEqual(len({k["ssh_config"]["host"] for k in keys}), 2)

    def test_no_pin_way_and_no_token(self):
        self.enroll_two()
        self.new_home("nopin")
        p = self.ykssh("recover", "--device", self.device(),
                       "--no-register", env=self.env(
                           SSH_ASKPASS_REQUIRE="never"))
        self.assertEqual(p.returncode, 81, p.stderr)
        self.assertIn("PIN", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.home, ".ssh")))
        p = self.ykssh("recover", "--device", "udp://127.0.0.1:%d?local=0"
                       % e2elib.free_port(), "--no-register",
                       env=self.penv())
        self.assertEqual(p.returncode, 69, p.stderr)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
