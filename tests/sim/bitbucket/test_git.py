#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Registration has the effect it has on bitbucket.org: a key added with
curl through the emulator's API lets real git clone and push over SSH to
the sshd it feeds; an unregistered, deleted or expired key is refused."""

import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bbenv  # noqa: E402
from bbtest import curl, keygen  # noqa: E402


class GitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bb = bbenv.BitbucketEnv().__enter__()
        cls.tmp = tempfile.mkdtemp(prefix="bbemu-git-")
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        errors = cls.bb.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        if errors:
            raise AssertionError("bbemu reported errors:\n" + errors)

    def setUp(self):
        self.bb.fault("reset")

    def newkey(self):
        GitTest.n += 1
        return keygen(self.tmp, "id%d" % self.n, "ed25519")

    def cloud_add(self, pub, query=""):
        r = curl(self.bb, "POST", "%s/users/%s/ssh-keys%s" % (
            self.bb.cloud_url, self.bb.cloud_user()["account_id"], query),
            auth=self.bb.cloud_token(), data={"key": pub, "label": "git"})
        self.assertEqual(r.status, 201, r)
        return r.json()

    def dc_add(self, pub, **extra):
        body = {"text": pub}
        body.update(extra)
        r = curl(self.bb, "POST", self.bb.dc_url + "/rest/ssh/1.0/keys",
                 bearer=self.bb.dc_token(), data=body)
        self.assertEqual(r.status, 201, r)
        return r.json()

    def clone(self, key, name):
        dest = os.path.join(self.tmp, name)
        p = bbenv.run(["git", "clone", "-q", self.bb.git_url, dest],
                      env=self.bb.git_env(key))
        return p, dest

    def assertRefused(self, key, name):
        p, dest = self.clone(key, name)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("Permission denied (publickey)", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(dest, ".git")))

    def test_cloud_clone_push_then_delete(self):
        key, pub = self.newkey()
        self.assertRefused(key, "before")
        k = self.cloud_add(pub)
        p, dest = self.clone(key, "cloud")
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(dest, "README")) as f:
            self.assertEqual(f.read(), "seed\n")
        with open(os.path.join(dest, "new.txt"), "w") as f:
            f.write("pushed over ssh\n")
        env = self.bb.git_env(key)
        bbenv.run(["git", "-C", dest, "add", "new.txt"], env=env, check=True)
        bbenv.run(["git", "-C", dest, "commit", "-q", "-m", "via ssh"],
                  env=env, check=True)
        p = bbenv.run(["git", "-C", dest, "push", "-q", "origin", "main"],
                      env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = bbenv.run(["git", "--git-dir", self.bb.repo, "log", "-1",
                       "--format=%s", "main"], env=env, check=True)
        self.assertEqual(p.stdout.strip(), "via ssh")
        self.assertIn("Accepted publickey", self.bb.read_sshd_log())
        # Deleted through the API: refused.
        r = curl(self.bb, "DELETE", k["links"]["self"]["href"],
                 auth=self.bb.cloud_token())
        self.assertEqual(r.status, 204, r)
        self.assertRefused(key, "after")

    def test_dc_clone_then_delete(self):
        key, pub = self.newkey()
        k = self.dc_add(pub)
        p, _ = self.clone(key, "dc")
        self.assertEqual(p.returncode, 0, p.stderr)
        r = curl(self.bb, "DELETE", "%s/rest/ssh/1.0/keys/%d" % (
            self.bb.dc_url, k["id"]), bearer=self.bb.dc_token())
        self.assertEqual(r.status, 204, r)
        self.assertRefused(key, "dc-after")

    def test_unregistered_key_refused(self):
        key, _ = self.newkey()
        other, pub = self.newkey()
        self.cloud_add(pub)
        self.assertRefused(key, "unreg")

    def test_expiry(self):
        ck, cpub = self.newkey()
        dk, dpub = self.newkey()
        self.cloud_add(cpub, "?expires_on=2099-01-01")
        self.dc_add(dpub, expiryDays=3)
        for k, n in ((ck, "c1"), (dk, "d1")):
            self.assertEqual(self.clone(k, n)[0].returncode, 0)
        # Four days later the Data Center key has expired.
        self.bb.advance_clock(4 * 86400)
        try:
            self.assertEqual(self.clone(ck, "c2")[0].returncode, 0)
            self.assertRefused(dk, "d2")
            self.bb.advance_clock(100 * 365 * 86400)
            self.assertRefused(ck, "c3")
            # Both products still list expired keys.
            self.assertIn(cpub.split()[1], json.dumps(self.bb.keys()))
            self.assertIn(dpub.split()[1], json.dumps(self.bb.keys()))
        finally:
            self.bb.advance_clock(-(4 * 86400 + 100 * 365 * 86400))

    def test_git_shell_only(self):
        key, pub = self.newkey()
        self.cloud_add(pub)
        ssh = self.bb.ssh_command(key).split()
        p = bbenv.run(ssh + ["-p", str(self.bb.ssh_port),
                             self.bb.login + "@127.0.0.1", "id"])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("unrecognized command", p.stderr)
        self.assertNotIn("uid=", p.stdout)
        # No shell either (git-shell has no git-shell-commands here).
        p = bbenv.run(ssh + ["-p", str(self.bb.ssh_port),
                             self.bb.login + "@127.0.0.1"])
        self.assertNotEqual(p.returncode, 0)

    def test_authkeys_output(self):
        key, pub = self.newkey()
        self.cloud_add(pub)
        p = bbenv.run([self.bb.authkeys, "--state", self.bb.state_dir,
                       "--flavour", "cloud"], check=True)
        line = [l for l in p.stdout.splitlines() if pub.split()[1] in l]
        self.assertEqual(len(line), 1)
        self.assertTrue(line[0].startswith(
            'command="/usr/bin/git-shell -c \\"$SSH_ORIGINAL_COMMAND\\"",'
            'no-port-forwarding,no-X11-forwarding,no-agent-forwarding,'
            'no-pty ssh-ed25519 '), line[0])
        p = bbenv.run([self.bb.authkeys, "--state", self.bb.state_dir,
                       "--flavour", "dc"], check=True)
        self.assertNotIn(pub.split()[1], p.stdout)
        st = os.stat(self.bb.authkeys)
        self.assertEqual((st.st_uid, st.st_mode & 0o022), (0, 0))


if __name__ == "__main__":
    unittest.main(verbosity=2)
