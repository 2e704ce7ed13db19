#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""ykssh rotate of a PIV key (issue 8): the new key is made in another slot
of the card; afterwards the old key is refused by the Bitbucket emulator's
sshd and the new one pushes through the config, with the real libykcs11
PKCS11Provider (PIN from SSH_ASKPASS).  Killed after every step (before
and after it is recorded: YKSSH_TEST_ROTATE_KILL_AFTER) and run again, it
converges to that state.

usage: test_rotate_piv.py PIVSIM YKPIV_CHECK [unittest args]
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
import test_piv_lifecycle as tpl  # noqa: E402
import e2elib  # noqa: E402
import pivenv  # noqa: E402

STEPS = ("planned", "enrolled", "registered", "proven", "config",
         "old-files", "old-removed", "token")


class RotatePiv(tpl.LifeTest):
    def start(self):
        rep = self.enroll_piv("--label", "work")
        self.overrides()
        c = self.clone_and_push()
        self.assertEqual(c.returncode, 0, c.stderr + self.bb.read_sshd_log())
        return rep

    def rotate(self, *args, kill=None):
        env = dict(self.env)
        if kill is not None:
            env["YKSSH_TEST_ROTATE_KILL_AFTER"] = kill
        return e2elib.run([tep.YKSSH, "rotate", "--json", "--reader",
                           pivenv.READER, "--check-user", self.bb.login] +
                          self.server() + list(args) + ["work"], env=env,
                          timeout=120)

    def push_with(self, pub):
        """clone offering this .pub's key alone, through libykcs11 (no
        BatchMode: the PIN comes from askpass)."""
        env = self.bb.git_env(extra=dict(self.piv.env, HOME=self.home,
                                         **self.ask.env()))
        env["GIT_SSH_COMMAND"] = (
            "ssh -F /dev/null -o IdentitiesOnly=yes -o IdentityAgent=none "
            "-o PasswordAuthentication=no -o KbdInteractiveAuthentication=no"
            " -o StrictHostKeyChecking=yes -o UserKnownHostsFile=%s "
            "-o PKCS11Provider=%s -o IdentityFile=%s"
            % (self.bb.known_hosts, tep.YKCS11, pub))
        url = "ssh://%s@127.0.0.1:%d%s" % (self.bb.login, self.bb.ssh_port,
                                          self.bb.repo)
        return subprocess.run(["git", "ls-remote", url], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=90, start_new_session=True)

    def config_reads(self):
        """One login through the config (cheaper than clone and push)."""
        return self.git("ls-remote", "ssh://%s@bitbucket.org%s"
                        % (self.bb.login, self.bb.repo))

    def keep(self, path):
        kept = os.path.join(self.tmp.name, "kept-%f.pub" % time.time())
        shutil.copy(path, kept)
        return kept

    def fingerprint(self, path):
        return e2elib.run(["ssh-keygen", "-l", "-f", path],
                          check=True).stdout.split()[1]

    def registered(self):
        return ["SHA256:" + k["fingerprint"] for k in self.bb.keys()["cloud"]]

    def assert_rotated(self, out, old_pub, push=True):
        """The new key alone is registered, named and pushes (push: clone
        and push, and the old key is refused when offered alone; else one
        read through the config: each PIV login costs seconds)."""
        new_pub = out["public_key_file"]
        self.assertEqual(self.fingerprint(new_pub), out["new_fingerprint"])
        self.assertEqual(self.registered(), [out["new_fingerprint"]])
        g = e2elib.run(["ssh", "-F", self.config(), "-G", "bitbucket.org"],
                       env=self.env, check=True).stdout
        self.assertIn("identityfile " + new_pub + "\n", g)
        self.assertIn("pkcs11provider " + tep.YKCS11, g)
        c = self.clone_and_push() if push else self.config_reads()
        self.assertEqual(c.returncode, 0, c.stderr + self.read(self.config()))
        if push:
            c = self.push_with(old_pub)
            self.assertNotEqual(c.returncode, 0)
            self.assertIn("Permission denied", c.stderr)
        self.assertFalse(os.path.exists(os.path.join(
            self.ssh_dir(), ".ykssh-rotate-work")))

    def test_rotate_then_old_refused(self):
        rep = self.start()
        old_pub = rep["public_key_file"]
        kept = self.keep(old_pub)
        # The old key, offered alone, works before.
        c = self.push_with(kept)
        self.assertEqual(c.returncode, 0, c.stderr)
        p = self.rotate()
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual(out["kind"], "piv")
        self.assertEqual(out["old_slot"], "9a")
        self.assertEqual(out["slot"], "9c")
        self.assertEqual(out["step"], "done")
        self.assertTrue(out["checked"])
        self.assertIn("Authenticated to", out["check"])
        self.assertEqual(out["old_fingerprint"], rep["fingerprint"])
        new_pub = os.path.join(self.ssh_dir(), "id_piv_9c_work.pub")
        self.assertEqual(out["public_key_file"], new_pub)
        self.assertEqual(out["old_public_key_file"], old_pub + ".old")
        # The old files are retired (not *.pub: list does not see them).
        names = sorted(n for n in os.listdir(self.ssh_dir())
                       if not n.startswith(".") and n.startswith("id_"))
        self.assertEqual(names, [
            "id_piv_9a_work-attestation.pem.old", "id_piv_9a_work.pub.old",
            "id_piv_9c_work-attestation.pem", "id_piv_9c_work.pub"])
        # Same algorithm and policies as the old key, attested.
        v = e2elib.run(["openssl", "verify", "-CAfile", self.piv.ca,
                        "-untrusted", os.path.join(
                            self.ssh_dir(), "id_piv_9c_work-attestation.pem"),
                        os.path.join(self.ssh_dir(),
                                     "id_piv_9c_work-attestation.pem")])
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.assertEqual(self.read(new_pub).split()[0], "ecdsa-sha2-nistp256")
        self.assert_rotated(out, kept)
        # ykssh verify checks the new key's attestation.
        p = self.ykssh("verify", "work")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # Without --on-token the old key stays in its slot.
        st = self.tool("-a", "status").stdout
        self.assertIn("Slot 9a", st)
        self.assertIn("Slot 9c", st)

    def test_on_token_and_no_free_slot(self):
        rep = self.start()
        kept = self.keep(rep["public_key_file"])
        pub = self.read(rep["public_key_file"])
        p = self.rotate("--on-token", "--slot", "84")
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual(out["slot"], "84")
        self.assertEqual(out["token"], "deleted")
        st = self.tool("-a", "status").stdout
        self.assertNotIn("Slot 9a", st)
        self.assertNotIn(" ".join(pub.split()[:2]), self.ykcs11_keys())
        self.assert_rotated(out, kept)
        # --slot naming the key's own slot, or a used one: refused.
        p = self.rotate("--slot", "84")
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("another slot", p.stderr)
        # Every other slot used: a clear error, nothing touched.
        key = "010203040506070801020304050607080102030405060708"
        for i in range(24):
            slot = "%02x" % ([0x9a, 0x9c, 0x9d, 0x9e] +
                             list(range(0x82, 0x96)))[i]
            if slot == "84":
                continue
            r = self.tool("-a", "generate", "-s", slot, "-A", "ECCP256",
                          "--key=" + key)
            self.assertEqual(r.returncode, 0, r.stderr)
            # A key without a certificate object looks empty to PKCS#11
            # but not to ykssh (metadata).
        cfg = self.read(self.config())
        p = self.rotate()
        self.assertEqual(p.returncode, 85, p.stderr)
        self.assertIn("no empty PIV slot", p.stderr)
        self.assertEqual(self.read(self.config()), cfg)
        self.assertFalse(os.path.exists(os.path.join(
            self.ssh_dir(), ".ykssh-rotate-work")))

    def test_killed_at_every_step_converges(self):
        rep = self.start()
        old_fp = rep["fingerprint"]
        pub = rep["public_key_file"]
        for i, step in enumerate(STEPS):
            # Each step once: "done but not recorded" for most.
            point = step if step in ("enrolled", "config") else \
                step + "/unrecorded"
            with self.subTest(kill=point):
                kept = self.keep(pub)
                p = self.rotate("--on-token", kill=point)
                self.assertEqual(p.returncode, -9, p.stderr)
                # Killed: a key still works through the config.
                c = self.config_reads()
                self.assertEqual(c.returncode, 0,
                                 c.stderr + self.bb.read_sshd_log())
                p = self.rotate("--on-token")
                self.assertEqual(p.returncode, 0, p.stderr)
                out = json.loads(p.stdout)
                self.assertEqual(out["old_fingerprint"], old_fp)
                self.assertEqual(out["step"], "done")
                self.assertEqual(out["resumed"],
                                 point != "planned/unrecorded")
                self.assertTrue(out["checked"])
                self.assert_rotated(out, kept, push=False)
                # One key on the card: the new one (never a second).
                self.assertEqual(len([ln for ln in self.tool(
                    "-a", "status").stdout.splitlines()
                    if ln.startswith("Slot ")]), 1)
                old_fp = out["new_fingerprint"]
                pub = out["public_key_file"]


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
