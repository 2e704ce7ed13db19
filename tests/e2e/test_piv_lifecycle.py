#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""PIV keys after enrollment: recover on a new laptop, revoke on the token,
list with the card.  Proven by git push through the Bitbucket emulator's
sshd with the real libykcs11 PKCS11Provider (PIN from SSH_ASKPASS),
ssh-keygen -D and yubico-piv-tool.

usage: test_piv_lifecycle.py PIVSIM YKPIV_CHECK [unittest args]
(YKSSH_BIN, YKSSH_SOURCE_DIR in the environment).  Runs in private
namespaces (pivenv), as test_enroll_piv.py.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_enroll_piv as tep  # noqa: E402
import bbenv  # noqa: E402
import e2elib  # noqa: E402
import pivenv  # noqa: E402

PIN = "123456"


class LifeTest(tep.PivTest):
    """A card, the Bitbucket emulator (Cloud) and askpass for the PIN."""

    def setUp(self):
        super().setUp()
        self.bb = bbenv.BitbucketEnv(flavours=("cloud",))
        self.bb.start()
        self.addCleanup(self.bb.stop)
        user, token = self.bb.cloud_token("alice", "full")
        self.env.update(YKSSH_BITBUCKET_USER=user,
                        YKSSH_BITBUCKET_TOKEN=token, LANG="C")
        self.ask.set(pin=PIN)

    def server(self):
        return ["--api-url", self.bb.cloud_url, "--cacert", self.bb.cacert]

    def enroll_piv(self, *args):
        server = [] if "--no-register" in args else self.server()
        p = self.ykssh("enroll", "--piv", "--reader", pivenv.READER,
                       "--json", *(server + list(args)))
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def new_home(self, name):
        self.home = os.path.join(self.tmp.name, name)
        os.makedirs(self.home, mode=0o700)
        self.env["HOME"] = self.home

    def recover(self, *args, register=True):
        return self.ykssh("recover", "--piv", "--json",
                          *((self.server() if register else []) +
                            list(args)))

    def ssh_dir(self):
        return os.path.join(self.home, ".ssh")

    def config(self):
        return os.path.join(self.ssh_dir(), "config")

    def overrides(self):
        """After ykssh's entry: where the emulator's sshd really is."""
        with open(self.config(), "a") as f:
            f.write("\nHost bitbucket.org\n\tHostName 127.0.0.1\n"
                    "\tPort %d\n\nHost *\n\tUserKnownHostsFile %s\n"
                    % (self.bb.ssh_port, self.bb.known_hosts))

    def git(self, *args, cwd=None):
        env = self.bb.git_env(extra=dict(
            self.piv.env, HOME=self.home,
            GIT_SSH_COMMAND="ssh -F " + self.config(), **self.ask.env()))
        return subprocess.run(["git"] + list(args), cwd=cwd, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=90, start_new_session=True)

    def clone_and_push(self):
        url = "ssh://%s@bitbucket.org%s" % (self.bb.login, self.bb.repo)
        work = os.path.join(self.tmp.name, "work")
        shutil.rmtree(work, ignore_errors=True)
        c = self.git("clone", "-q", url, work)
        if c.returncode != 0:
            return c
        with open(os.path.join(work, "change"), "w") as f:
            f.write("pushed by a PIV key at %f\n" % time.time())
        self.git("add", "change", cwd=work)
        self.git("commit", "-q", "-m", "change", cwd=work)
        return self.git("push", "-q", "origin", "HEAD", cwd=work)

    def ykcs11_keys(self):
        return e2elib.run(["ssh-keygen", "-D", tep.YKCS11],
                          env=self.piv.env).stdout

    def read(self, path):
        with open(path) as f:
            return f.read()


class Recover(LifeTest):
    maxDiff = None

    def test_new_laptop_pushes(self):
        old = self.enroll_piv("--label", "work")
        old_pub = self.read(old["public_key_file"])
        old_chain = self.read(old["attestation_file"])
        # A second key, made by another tool (no attestation in the slot):
        # not ykssh's, so not recovered unless named.
        r = self.tool("-a", "generate", "-s", "9c", "-A", "ECCP256",
                      "--key=010203040506070801020304050607080102030405"
                      "060708")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.new_home("laptop")
        p = self.recover()
        self.assertEqual(p.returncode, 0, p.stderr)
        rep = json.loads(p.stdout)
        self.assertEqual(len(rep["keys"]), 1, rep)
        k = rep["keys"][0]
        self.assertEqual(k["slot"], "9a")
        self.assertEqual(k["fingerprint"], old["fingerprint"])
        self.assertEqual(k["label"], "work")     # from the registration
        self.assertEqual(k["files"], "written")
        self.assertTrue(k["verified"])
        self.assertTrue(k["registration"]["already"])
        self.assertIn("slot 9c holds a key", p.stderr)
        # The files are what enroll wrote, under the same names.
        self.assertEqual(sorted(n for n in os.listdir(self.ssh_dir())
                                if not n.startswith(".")), [
            "config", "id_piv_9a_work-attestation.pem",
            "id_piv_9a_work.pub"])
        self.assertEqual(self.read(k["public_key_file"]), old_pub)
        self.assertEqual(self.read(k["attestation_file"]), old_chain)
        self.assertEqual(os.stat(k["public_key_file"]).st_mode & 0o777,
                         0o644)
        g = e2elib.run(["ssh", "-F", self.config(), "-G", "bitbucket.org"],
                       env=self.env, check=True).stdout
        self.assertIn("pkcs11provider " + tep.YKCS11, g)
        self.assertIn("identityfile " + k["public_key_file"], g)
        self.assertIn("identitiesonly yes", g)
        # Again: nothing changes.
        before = {n: os.stat(os.path.join(self.ssh_dir(), n)).st_mtime_ns
                  for n in os.listdir(self.ssh_dir())}
        cfg = self.read(self.config())
        p = self.recover()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["keys"][0]["files"],
                         "present")
        self.assertEqual(self.read(self.config()), cfg)
        self.assertEqual({n: os.stat(os.path.join(self.ssh_dir(), n))
                          .st_mtime_ns for n in os.listdir(self.ssh_dir())},
                         before)
        # git push with what recover wrote, the PIN from askpass.
        self.overrides()
        c = self.clone_and_push()
        self.assertEqual(c.returncode, 0, c.stderr + self.bb.read_sshd_log())
        self.assertIn("PIN", " ".join(self.ask.prompts()))
        # --slot takes the other key too.
        p = self.recover("--slot", "9c", "--no-register", "--no-config",
                         register=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        k = json.loads(p.stdout)["keys"][0]
        self.assertEqual(k["slot"], "9c")
        self.assertIsNone(k["attestation_file"])
        self.assertTrue(os.path.exists(os.path.join(self.ssh_dir(),
                                                    "id_piv_9c.pub")))

    def test_unregistered_key_gets_registered(self):
        self.enroll_piv("--no-register")
        self.new_home("laptop")
        p = self.recover()
        self.assertEqual(p.returncode, 0, p.stderr)
        k = json.loads(p.stdout)["keys"][0]
        self.assertIsNone(k["label"])
        self.assertFalse(k["registration"]["already"])
        self.assertTrue(k["public_key_file"].endswith("/id_piv_9a.pub"))
        self.overrides()
        c = self.clone_and_push()
        self.assertEqual(c.returncode, 0, c.stderr + self.bb.read_sshd_log())

    def test_existing_file(self):
        self.enroll_piv("--no-register", "--no-config")
        self.new_home("laptop")
        os.makedirs(self.ssh_dir(), mode=0o700)
        other = os.path.join(self.ssh_dir(), "id_piv_9a.pub")
        e2elib.run(["ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f",
                    os.path.join(self.tmp.name, "other")], check=True)
        shutil.copy(os.path.join(self.tmp.name, "other.pub"), other)
        mine = self.read(other)
        p = self.recover("--no-register", register=False)
        self.assertEqual(p.returncode, 73, p.stderr)
        k = json.loads(p.stdout)["keys"][0]
        self.assertEqual(k["files"], "failed")
        self.assertIn("holds something else", k["error"]["message"])
        p = self.ykssh("recover", "--piv", "--no-register")   # human
        self.assertEqual(p.returncode, 73)
        self.assertIn("--force", p.stderr)
        self.assertEqual(self.read(other), mine)
        self.assertFalse(os.path.exists(self.config()))
        p = self.recover("--no-register", "--force", register=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["keys"][0]["files"],
                         "replaced")
        self.assertNotEqual(self.read(other), mine)
        backups = [n for n in os.listdir(self.ssh_dir())
                   if n.startswith("id_piv_9a.pub.ykssh-backup")]
        self.assertEqual(len(backups), 1, os.listdir(self.ssh_dir()))

    def test_usage_and_no_key(self):
        p = self.ykssh("recover", "--slot", "9a", "--no-register")
        self.assertEqual(p.returncode, 64)
        self.assertIn("--slot needs --piv", p.stderr)
        p = self.recover("--no-register", register=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["keys"], [])
        self.assertIn("no PIV key made by 'ykssh enroll --piv'", p.stderr)


class RevokeMixin:
    def test_revoke_on_token(self):
        rep = self.enroll_piv("--label", "work")
        pub = self.read(rep["public_key_file"])
        self.assertIn(" ".join(pub.split()[:2]), self.ykcs11_keys())
        self.assertIn("Slot 9a", self.tool("-a", "status").stdout)
        self.overrides()
        c = self.clone_and_push()
        self.assertEqual(c.returncode, 0, c.stderr + self.bb.read_sshd_log())
        p = self.ykssh("revoke", "--json", "--force", "--on-token",
                       "--reader", pivenv.READER, "work", *self.server())
        self.assertEqual(p.returncode, 0, p.stderr)
        r = json.loads(p.stdout)
        steps = r["steps"]
        self.assertEqual(steps["token"]["state"], "done", r)
        self.assertIn("9a", steps["token"]["detail"])
        self.assertIn("deleted" if self.profile == "5.7" else "overwritten",
                      steps["token"]["detail"])
        self.assertEqual(steps["bitbucket"]["state"], "done")
        # The card no longer has the key: no certificate, not offered.
        st = self.tool("-a", "status").stdout
        self.assertNotIn("Slot 9a", st)
        self.assertNotIn(" ".join(pub.split()[:2]), self.ykcs11_keys())
        md = subprocess.run([tep.YKPIV_CHECK, "@" + self.piv.reader,
                             "metadata", "9a"], env=self.piv.env,
                            stdout=subprocess.PIPE, text=True,
                            timeout=60).stdout
        if self.profile == "5.7":
            self.assertIn("sw=6a88", md.lower())
        else:
            self.assertIn("sw=9000", md)
            self.assertNotIn(pub.split()[1], md)
        # Registration gone: even a config pointing at the old .pub
        # cannot push.
        self.assertEqual(self.bb.keys()["cloud"], [])
        self.assertFalse(os.path.exists(rep["public_key_file"]))
        # The old key, offered by hand through libykcs11: refused (it is
        # not on the card any more, nor on the account).
        with open(self.config(), "a") as f:
            f.write("\nHost bitbucket.org\n\tPKCS11Provider %s\n"
                    "\tIdentitiesOnly no\n" % tep.YKCS11)
        c = self.clone_and_push()
        self.assertNotEqual(c.returncode, 0)
        self.assertIn("Permission denied", c.stderr)
        # Again: nothing left anywhere.
        p = self.ykssh("revoke", "--json", "--force", "--on-token",
                       "--reader", pivenv.READER, rep["fingerprint"],
                       *self.server())
        r = json.loads(p.stdout)
        steps = r["steps"]
        self.assertEqual(steps["token"]["state"], "absent", r)


class Revoke54(RevokeMixin, LifeTest):
    profile = "5.4"

    def test_revoke_by_file_name(self):
        """No config entry: the label finds id_piv_9a_LABEL.pub."""
        rep = self.enroll_piv("--label", "old", "--no-config",
                              "--no-register")
        p = self.ykssh("revoke", "--json", "--force", "--on-token",
                       "--no-bitbucket", "old")
        self.assertEqual(p.returncode, 0, p.stderr)
        r = json.loads(p.stdout)
        self.assertEqual(r["fingerprint"], rep["fingerprint"])
        self.assertEqual(r["steps"]["token"]["state"], "done", r)
        self.assertEqual(r["steps"]["files"]["state"], "done", r)
        self.assertNotIn("Slot 9a", self.tool("-a", "status").stdout)

    def test_card_refuses_f6(self):
        """Firmware 5.4 has no DELETE KEY: the simulator says so too."""
        out = subprocess.run(
            [tep.YKPIV_CHECK, "@" + self.piv.reader, "raw", "f6", "ff",
             "9a", "-"], env=self.piv.env, stdout=subprocess.PIPE,
            text=True, timeout=60).stdout
        self.assertIn("sw=6d00", out.lower())


class Revoke57(RevokeMixin, LifeTest):
    profile = "5.7"

    def test_f6_needs_management_key(self):
        out = subprocess.run(
            [tep.YKPIV_CHECK, "@" + self.piv.reader, "raw", "f6", "ff",
             "9a", "-"], env=self.piv.env, stdout=subprocess.PIPE,
            text=True, timeout=60).stdout
        self.assertIn("sw=6982", out.lower())


class RevokeNoCard(LifeTest):
    def test_token_pending(self):
        """The card is lost: everything else is done, the token step
        waits (exit 69)."""
        rep = self.enroll_piv("--label", "lost")
        self.piv.stop_card()
        p = self.ykssh("revoke", "--json", "--force", "--on-token", "lost",
                       *self.server())
        self.assertEqual(p.returncode, 69, p.stderr)
        steps = json.loads(p.stdout)["steps"]
        self.assertEqual(steps["token"]["state"], "pending", steps)
        self.assertIn("--piv", steps["token"]["detail"])
        self.assertEqual(steps["bitbucket"]["state"], "done", steps)
        self.assertEqual(steps["config"]["state"], "done", steps)
        self.assertEqual(steps["files"]["state"], "done", steps)
        self.assertFalse(os.path.exists(rep["public_key_file"]))


class ListPiv(LifeTest):
    def test_list_token_piv(self):
        rep = self.enroll_piv("--label", "work")
        p = self.ykssh("list", "--json", "--token", "--piv", "--reader",
                       pivenv.READER, *self.server())
        self.assertEqual(p.returncode, 0, p.stderr)
        items = json.loads(p.stdout)
        items = items["keys"] if isinstance(items, dict) else items
        mine = [i for i in items if i["fingerprint"] == rep["fingerprint"]]
        self.assertEqual(len(mine), 1, items)
        self.assertTrue(mine[0]["on_token"], mine)
        self.assertEqual(mine[0]["problems"], [], mine)
        # On a new laptop the card's key is flagged: recover fixes it.
        self.new_home("laptop")
        p = self.ykssh("list", "--json", "--token", "--piv", "--reader",
                       pivenv.READER, "--no-bitbucket")
        items = json.loads(p.stdout)
        items = items["keys"] if isinstance(items, dict) else items
        mine = [i for i in items if i["fingerprint"] == rep["fingerprint"]]
        self.assertIn("not_local", mine[0]["problems"], mine)


def main():
    pivenv.enter_namespace()
    tep.PIVSIM = os.path.abspath(sys.argv.pop(1))
    tep.YKPIV_CHECK = os.path.abspath(sys.argv.pop(1))
    if not tep.YKSSH:
        sys.exit("needs YKSSH_BIN")
    # The tests run in a child of PID 1 (see test_enroll_piv.py).
    child = os.fork()
    if child == 0:
        unittest.main(verbosity=2)
    while True:
        pid, status = os.wait()
        if pid == child:
            sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
