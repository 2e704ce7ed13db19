#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Backup tokens (ykssh enroll --backup), proven by git push.

Two software FIDO2 tokens.  The first is enrolled as "work"; the second
with 'ykssh enroll --backup work': its key is registered too, and the
ykssh entry for bitbucket.org names both keys, the first token's first
(checked with ssh -G).  With both tokens attached git push signs with the
first; with the first token's simulator stopped (lost), git push signs
with the backup; with the backup stopped, with the first (the sshd log
says which key was accepted).  The test SecurityKeyProvider sees both
tokens, like two plugged in, and picks the one that holds the key, as
OpenSSH's built-in provider does.  Revoking one key leaves the other
working; the refusals (no entry, the same token twice, existing files, a
second backup, a plain enroll under an enrolled label, --piv) have their
messages and exit statuses and change nothing.

usage: test_backup.py FIDOSIM SK_PROVIDER    (YKSSH_BIN in the env)
"""

import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
import test_register  # noqa: E402
from test_register import RegisterTest  # noqa: E402
from simtoken import SimToken  # noqa: E402


class BackupTest(RegisterTest):
    flavours = ("cloud",)

    def setUp(self):
        super().setUp()
        self.spare = SimToken(test_register.FIDOSIM,
                              workdir=os.path.join(self.tmp, "t2"))
        os.makedirs(self.spare.workdir)
        self.spare.start()
        self.addCleanup(self.spare.cleanup)

    def tearDown(self):
        # A test that stopped a token starts it again before it ends.
        self.assertEqual(self.spare.stop(), 0)
        super().tearDown()

    @staticmethod
    def dev(tok):
        return "udp://127.0.0.1:%d?local=0" % tok.port

    def env(self, product="cloud", token="default", **extra):
        # Both tokens "plugged in" for ssh: the provider picks by key.
        env = super().env(product, token, **extra)
        if getattr(self, "plugged", None) is not None:
            env["YKSSH_SK_DEVICE"] = ",".join(self.dev(t)
                                              for t in self.plugged)
        elif "YKSSH_SK_DEVICE" not in extra:
            env["YKSSH_SK_DEVICE"] = "%s,%s" % (self.dev(self.token),
                                                self.dev(self.spare))
        return env

    def enroll_backup(self, *extra, device=None, label="work"):
        return self.ykssh("enroll", "--device", device or
                          self.dev(self.spare), "--backup", label,
                          *(self.server_args("cloud") + list(extra)))

    def enroll_pair(self):
        p = self.enroll("cloud", "--label", "work")
        self.assertEqual(p.returncode, 0, p.stderr)
        first = json.loads(p.stdout)
        p = self.enroll_backup()
        self.assertEqual(p.returncode, 0, p.stderr)
        backup = json.loads(p.stdout)
        # Where the emulator's sshd is goes on ssh's command line, not in
        # the config: revoke rewrites the entry, which then writes
        # HostName and Port itself when a later line sets them.
        self.ssh_overrides(cloud_host=False)
        return first, backup

    def git(self, *args, cwd=None):
        env = self.bb.git_env(extra={
            "HOME": self.home,
            "YKSSH_SK_DEVICE": self.env()["YKSSH_SK_DEVICE"],
            "GIT_SSH_COMMAND": "ssh -F %s -o HostName=127.0.0.1 -o Port=%d"
            % (self.ssh_config(), self.bb.ssh_port)})
        return subprocess.run(["git"] + list(args), cwd=cwd, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=60,
                              start_new_session=True)

    def identity_files(self):
        g = e2elib.run(["ssh", "-F", self.ssh_config(), "-G",
                        "bitbucket.org"], env={"HOME": self.home, "PATH":
                                               os.environ["PATH"]})
        self.assertEqual(g.returncode, 0, g.stderr)
        return [ln.split(" ", 1)[1] for ln in g.stdout.splitlines()
                if ln.startswith("identityfile ")]

    def registered(self):
        return {"SHA256:" + k["fingerprint"]: k["label"]
                for k in self.bb.keys()["cloud"]}

    def push(self):
        """git clone + push; the fingerprint sshd accepted, or None."""
        log = len(self.bb.read_sshd_log())
        p = self.clone_and_push(self.cloud_url())
        accepted = re.findall(r"Accepted publickey for \S+ from .* "
                              r"(SHA256:\S+)", self.bb.read_sshd_log()[log:])
        return p, accepted[-1] if accepted else None

    def config_text(self):
        with open(self.ssh_config()) as f:
            return f.read()


class TestBackupPush(BackupTest):
    def test_either_token_pushes(self):
        first, backup = self.enroll_pair()
        self.assertEqual(backup["stub"], first["stub"] + "-backup")
        self.assertEqual(backup["ssh_config"]["label"], "work")
        self.assertEqual(backup["backup_of"], "work")
        self.assertEqual(backup["type"], first["type"])
        self.assertEqual(backup["ssh_config"]["host"], "bitbucket.org")
        self.assertEqual(backup["registration"]["label"], "work (backup)")
        # One entry, both identities, the first token's first.
        self.assertEqual(self.identity_files(),
                         [first["stub"], backup["stub"]])
        self.assertIn("# ykssh:begin work %s,%s\n" % (
            first["fingerprint"], backup["fingerprint"]),
            self.config_text())
        reg = self.registered()
        self.assertEqual(reg.get(first["fingerprint"]), "work")
        self.assertEqual(reg.get(backup["fingerprint"]), "work (backup)")

        p, fp = self.push()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(fp, first["fingerprint"])

        # The first token is lost: the backup signs.
        self.assertEqual(self.token.stop(), 0)
        p, fp = self.push()
        self.assertEqual(p.returncode, 0, p.stderr +
                         self.bb.read_sshd_log())
        self.assertEqual(fp, backup["fingerprint"])
        # The same with only the backup plugged in.
        self.plugged = [self.spare]
        p, fp = self.push()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(fp, backup["fingerprint"])
        self.plugged = None

        # Found again, and the backup is the one missing now.
        self.token.start()
        self.assertEqual(self.spare.stop(), 0)
        p, fp = self.push()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(fp, first["fingerprint"])
        self.spare.start()

        # Both gone: nobody gets in.
        self.assertEqual(self.token.stop(), 0)
        self.assertEqual(self.spare.stop(), 0)
        p, fp = self.push()
        self.assertNotEqual(p.returncode, 0)
        self.assertIsNone(fp)
        self.token.start()
        self.spare.start()

    def test_list_shows_the_pair(self):
        first, backup = self.enroll_pair()
        p = self.ykssh("list", *self.server_args("cloud"))
        self.assertEqual(p.returncode, 0, p.stderr)
        keys = {k["fingerprint"]: k for k in json.loads(p.stdout)["keys"]}
        a, b = keys[first["fingerprint"]], keys[backup["fingerprint"]]
        self.assertEqual(a["backup"], "work-backup")
        self.assertNotIn("backup_of", a)
        self.assertEqual(b["backup_of"], "work")
        self.assertEqual(b["config_label"], "work")
        self.assertEqual(b["stub"], backup["stub"])
        self.assertEqual(b["problems"], [])
        self.assertEqual(a["problems"], [])
        p = e2elib.run([test_register.YKSSH, "list"] +
                       self.server_args("cloud"), env=self.env())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("backup     work-backup", p.stdout)
        self.assertIn("backup of  work", p.stdout)


class TestBackupRevoke(BackupTest):
    def revoke(self, which):
        p = self.ykssh("revoke", "--force", which,
                       *self.server_args("cloud"))
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def test_revoke_backup_keeps_first(self):
        first, backup = self.enroll_pair()
        r = self.revoke("work-backup")
        self.assertEqual(r["fingerprint"], backup["fingerprint"])
        self.assertTrue(r["backup"])
        self.assertEqual(self.identity_files(), [first["stub"]])
        self.assertIn("# ykssh:begin work %s\n" % first["fingerprint"],
                      self.config_text())
        self.assertEqual(list(self.registered()), [first["fingerprint"]])
        self.assertFalse(os.path.exists(backup["stub"]))
        self.assertTrue(os.path.exists(first["stub"]))
        p, fp = self.push()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(fp, first["fingerprint"])
        # Without the first token, the backup token no longer gets in.
        self.assertEqual(self.token.stop(), 0)
        p, fp = self.push()
        self.assertNotEqual(p.returncode, 0)
        self.assertIsNone(fp)
        self.token.start()
        # The last key takes the entry with it.
        self.revoke("work")
        self.assertNotIn("ykssh:begin", self.config_text())

    def test_revoke_backup_by_fingerprint(self):
        first, backup = self.enroll_pair()
        r = self.revoke(backup["fingerprint"])
        self.assertEqual(r["label"], "work")
        self.assertTrue(r["backup"])
        self.assertEqual(self.identity_files(), [first["stub"]])
        self.assertEqual(list(self.registered()), [first["fingerprint"]])
        self.assertFalse(os.path.exists(backup["stub"] + ".pub"))
        p, fp = self.push()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(fp, first["fingerprint"])

    def test_revoke_first_keeps_backup(self):
        first, backup = self.enroll_pair()
        r = self.revoke("work")
        self.assertEqual(r["fingerprint"], first["fingerprint"])
        self.assertFalse(r["backup"])
        # The entry is the backup's alone, under the backup's label.
        self.assertEqual(self.identity_files(), [backup["stub"]])
        self.assertIn("# ykssh:begin work-backup %s\n" %
                      backup["fingerprint"], self.config_text())
        self.assertEqual(list(self.registered()), [backup["fingerprint"]])
        self.assertFalse(os.path.exists(first["stub"]))
        p, fp = self.push()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(fp, backup["fingerprint"])
        # "work" is gone: revoking it again finds nothing.
        p = self.ykssh("revoke", "--force", "work",
                       *self.server_args("cloud"))
        self.assertEqual(p.returncode, 66, p.stderr)
        self.revoke("work-backup")
        self.assertNotIn("ykssh:begin", self.config_text())


class TestBackupKept(BackupTest):
    PIN = "4242-backup-pin"

    def test_recover_again_keeps_the_pair(self):
        askpass = e2elib.Askpass(self.tmp)
        askpass.set(pin=self.PIN, confirm=True)   # ykssh offers a PIN
        env = self.env(**askpass.env())
        env["YKSSH_SK_DEVICE"] = self.env()["YKSSH_SK_DEVICE"]
        p = self.ykssh("enroll", "--device", self.dev(self.token),
                       "--resident", "--label", "work",
                       *self.server_args("cloud"), env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.ykssh("enroll", "--device", self.dev(self.spare),
                       "--resident", "--backup", "work",
                       *self.server_args("cloud"), env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        backup = json.loads(p.stdout)
        self.assertEqual(backup["application"], "ssh:work-backup")
        before = self.config_text()
        # recover with either token: the entry stays as it is.
        for tok in (self.token, self.spare):
            p = self.ykssh("recover", "--device", self.dev(tok),
                           *self.server_args("cloud"), env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(self.config_text(), before)

    def test_force_replaces_first_key_keeps_backup(self):
        first, backup = self.enroll_pair()
        p = self.ykssh("enroll", "--device", self.dev(self.token),
                       "--label", "work", "--force", "--no-register")
        self.assertEqual(p.returncode, 0, p.stderr)
        new = json.loads(p.stdout)
        self.assertNotEqual(new["fingerprint"], first["fingerprint"])
        self.assertEqual(self.identity_files(),
                         [new["stub"], backup["stub"]])
        self.assertIn("# ykssh:begin work %s,%s\n" % (
            new["fingerprint"], backup["fingerprint"]), self.config_text())
        self.assertEqual(self.token.stop(), 0)
        p, fp = self.push()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(fp, backup["fingerprint"])
        self.token.start()


class TestBackupRefusals(BackupTest):
    def assertRefused(self, p, status, *texts):
        self.assertEqual(p.returncode, status, p.stderr)
        for t in texts:
            self.assertIn(t, p.stderr)

    def snapshot(self):
        ssh = os.path.join(self.home, ".ssh")
        files = {}
        for n in sorted(os.listdir(ssh)) if os.path.isdir(ssh) else []:
            if ".ykssh-" in n:
                continue
            with open(os.path.join(ssh, n), "rb") as f:
                files[n] = f.read()
        return files, sorted(self.registered())

    def test_no_entry(self):
        before = self.snapshot()
        p = self.enroll_backup()
        self.assertRefused(p, 66, "no ykssh entry 'work'",
                           "ykssh enroll --label work")
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.spare.stats()["touches"], 0)

    def test_same_token_twice(self):
        p = self.enroll("cloud", "--label", "work")
        self.assertEqual(p.returncode, 0, p.stderr)
        before = self.snapshot()
        p = self.enroll_backup(device=self.dev(self.token))
        self.assertRefused(p, 85, "holds the primary key",
                           "a backup must be another token")
        self.assertEqual(self.snapshot(), before)

    def test_existing_files_and_second_backup(self):
        p = self.enroll("cloud", "--label", "work")
        self.assertEqual(p.returncode, 0, p.stderr)
        first = json.loads(p.stdout)
        with open(first["stub"] + "-backup", "w") as f:
            f.write("someone's file\n")
        before = self.snapshot()
        p = self.enroll_backup()
        self.assertRefused(p, 73, "already exists", "--force")
        self.assertEqual(self.snapshot(), before)
        # --force replaces the files (keeping a copy).
        p = self.enroll_backup("--force")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(json.loads(p.stdout)["backups"]), 1)
        # A second backup: refused, the first one stays.
        before = self.snapshot()
        p = self.ykssh("enroll", "--device", self.dev(self.spare),
                       "--backup", "work", "--no-register")
        self.assertRefused(p, 73, "has a backup already",
                           "ykssh revoke work-backup")
        self.assertEqual(self.snapshot(), before)

    def test_plain_enroll_under_enrolled_label(self):
        p = self.enroll("cloud", "--label", "work")
        self.assertEqual(p.returncode, 0, p.stderr)
        before = self.snapshot()
        p = self.ykssh("enroll", "--device", self.dev(self.spare),
                       "--label", "work", *self.server_args("cloud"))
        self.assertRefused(p, 73, "'work' is enrolled already",
                           "ykssh enroll --backup work")
        self.assertEqual(self.snapshot(), before)

    def test_rotate_of_a_pair(self):
        # Rotation replaces one key; a pair is refused before any touch,
        # with the way through, and nothing changes.
        first, backup = self.enroll_pair()
        before = self.snapshot()
        touches = self.token.stats()["touches"]
        p = self.ykssh("rotate", "work", "--device", self.dev(self.token),
                       *self.server_args("cloud"))
        self.assertRefused(p, 80, "offers a backup token's key too",
                           "ykssh revoke work-backup",
                           "ykssh enroll --backup work")
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.token.stats()["touches"], touches)
        p, fp = self.push()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(fp, first["fingerprint"])

    def test_options(self):
        p = self.ykssh("enroll", "--piv", "--backup", "work")
        self.assertRefused(p, 80, "--backup is for FIDO2 keys")
        p = self.ykssh("enroll", "--backup", "work", "--label", "x")
        self.assertRefused(p, 64, "--label does not go with --backup")
        p = self.ykssh("enroll", "--backup", "work", "--host", "x")
        self.assertRefused(p, 64, "--host does not go with --backup")


if __name__ == "__main__":
    e2elib.need(test_register.FIDOSIM, "fidosim")
    e2elib.need(test_register.PROVIDER, "SecurityKeyProvider")
    e2elib.need(test_register.YKSSH, "ykssh")
    unittest.main(argv=[sys.argv[0], "-v"])
