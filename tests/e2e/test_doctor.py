#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""ykssh doctor: each staged fault named by its check, with its fix.

A healthy setup first: a key enrolled on the software token, registered
on the Bitbucket emulator, its config entry, the emulator's sshd as
bitbucket.org and its host key known.  doctor passes every check and logs
in for real.  Then one fault at a time, in an otherwise healthy setup:
the check that names it fails with its fix (exit 89) and the checks it
does not touch still pass.  The PIV fault (pcscd down) is in
test_doctor_piv.py.

usage: test_doctor.py FIDOSIM SK_PROVIDER    (YKSSH_BIN in the env)
"""

import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ["YKSSH_SOURCE_DIR"]
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "sim", "fido"))
sys.path.insert(0, os.path.join(SRC, "tests", "sim", "bitbucket"))
import e2elib  # noqa: E402
from bbtest import curl  # noqa: E402
from simtoken import SimToken  # noqa: E402
from test_register import FIDOSIM, RegisterTest  # noqa: E402

CHECKS = ["token", "config", "key", "agent", "bitbucket", "hostkey", "auth"]
FAILED = 89


class DoctorTest(RegisterTest):
    maxDiff = None

    def device(self, token=None):
        return "udp://127.0.0.1:%d?local=0" % (token or self.token).port

    def setup_healthy(self, register=True):
        args = [] if register else ["--no-register"]
        p = self.ykssh("enroll", "--device", self.device(), "--label",
                       "work", *(args + ([] if not register else
                                         self.server_args())))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.key = json.loads(p.stdout)
        self.ssh_overrides()

    def doctor(self, *args, env=None, status=None, host=True):
        target = ["%s@bitbucket.org" % self.bb.login] if host else []
        server = [] if "--no-bitbucket" in args else self.server_args()
        p = self.ykssh("doctor", "--device", self.device(),
                       *(server + list(args) + target),
                       env=env)
        if status is not None:
            self.assertEqual(p.returncode, status, p.stdout + p.stderr)
        r = json.loads(p.stdout)
        self.assertEqual(len(r["targets"]), 1, r)
        t = r["targets"][0]
        self.assertEqual([c["id"] for c in t["checks"]], CHECKS)
        return p, t, {c["id"]: c for c in t["checks"]}

    def assertStatus(self, checks, **want):
        got = {k: checks[k]["status"] for k in want}
        self.assertEqual(got, want, json.dumps(checks, indent=1))


class TestDoctor(DoctorTest):
    def test_healthy_logs_in(self):
        self.setup_healthy()
        p, t, c = self.doctor(status=0)
        self.assertEqual(t["host"], "bitbucket.org")
        self.assertEqual(t["label"], "work")
        self.assertEqual(t["fingerprint"], self.key["fingerprint"])
        self.assertEqual(t["kind"], "fido2")
        self.assertStatus(c, token="pass", config="pass", key="pass",
                          agent="skip", bitbucket="pass", hostkey="pass",
                          auth="pass")
        self.assertIn(self.key["stub"], c["config"]["finding"])
        self.assertIn(self.key["fingerprint"], c["auth"]["finding"])
        self.assertIn("Touch your", p.stderr)      # before the login
        self.assertTrue(all(x["fix"] is None for x in t["checks"]
                            if x["status"] == "pass"))
        # The login doctor reports is real: sshd logged it.
        self.assertIn("Accepted publickey", self.bb.read_sshd_log())
        # Human output: a line per check, no colour without a terminal.
        h = e2elib.run([os.environ["YKSSH_BIN"], "doctor", "--offline",
                        "--device", self.device()] + self.server_args() +
                       ["bitbucket.org"], env=self.env())
        self.assertEqual(h.returncode, 0, h.stdout + h.stderr)
        for name in CHECKS:
            self.assertRegex(h.stdout, r"\n  (ok  |skip)  %s " % name)
        self.assertIn("skip  auth       offline", h.stdout)
        self.assertNotIn("\033", h.stdout)
        self.assertIn("No check failed.", h.stdout)

    def test_json_shape(self):
        self.setup_healthy()
        p, t, c = self.doctor("--offline", "--no-bitbucket", status=0)
        r = json.loads(p.stdout)
        self.assertEqual(sorted(r), ["failed", "targets", "warned"])
        self.assertEqual(r["failed"], 0)
        self.assertEqual(sorted(t), ["checks", "fingerprint", "host",
                                     "kind", "label"])
        for x in t["checks"]:
            self.assertEqual(sorted(x), ["finding", "fix", "id", "status"])
            self.assertIn(x["status"], ("pass", "warn", "fail", "skip"))
            self.assertIsInstance(x["finding"], str)
        self.assertStatus(c, bitbucket="skip", auth="skip")
        self.assertEqual(p.stderr, "")
        # An unknown host: no entry, named, exit 89.
        p = self.ykssh("doctor", "--offline", "--no-bitbucket",
                       "example.org")
        self.assertEqual(p.returncode, FAILED, p.stderr)
        t = json.loads(p.stdout)["targets"][0]
        self.assertIsNone(t["label"])
        self.assertIn("no ykssh entry for example.org",
                      t["checks"][1]["finding"])
        p = self.ykssh("doctor", "a", "b")
        self.assertEqual(p.returncode, 64, p.stderr)

    # --- the faults ----------------------------------------------------

    def test_fault_wrong_identityfile(self):
        self.setup_healthy()
        other = os.path.join(self.home, ".ssh", "id_ed25519_other")
        e2elib.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    other], check=True)
        cfg = self.ssh_config()
        with open(cfg) as f:
            text = f.read()
        self.assertIn("IdentityFile %s\n" % self.key["stub"], text)
        with open(cfg, "w") as f:
            f.write(text.replace("IdentityFile %s\n" % self.key["stub"],
                                 "IdentityFile %s\n" % other))
        p, t, c = self.doctor(status=FAILED)
        self.assertStatus(c, token="pass", config="fail", key="pass",
                          bitbucket="pass", hostkey="pass")
        self.assertIn("wrong IdentityFile: %s" % other,
                      c["config"]["finding"])
        self.assertIn(self.key["fingerprint"], c["config"]["finding"])
        self.assertIn("the key is %s" % self.key["stub"], c["config"]["fix"])
        # What the user sees: the login does not happen.
        self.assertEqual(c["auth"]["status"], "skip")

    def test_fault_earlier_host_block_wins(self):
        self.setup_healthy()
        other = os.path.join(self.home, ".ssh", "id_ed25519_old")
        e2elib.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    other], check=True)
        cfg = self.ssh_config()
        with open(cfg) as f:
            text = f.read()
        with open(cfg, "w") as f:
            f.write("# mine\nHost bitbucket.org\n\tUser bob\n"
                    "\tIdentityFile %s\n\n" % other + text)
        p, t, c = self.doctor("--offline", host=False, status=FAILED)
        self.assertStatus(c, token="pass", config="fail", key="pass",
                          bitbucket="pass", hostkey="pass")
        self.assertIn("earlier Host block wins: %s:3 (Host bitbucket.org) "
                      "sets User first, so ssh uses 'bob', not the entry's "
                      "'git'" % cfg, c["config"]["finding"])
        self.assertIn("ykssh config apply", c["config"]["fix"])
        # With the login name given (-l wins over User), the IdentityFile
        # of that block is what still wins.
        p, t, c = self.doctor("--offline", status=FAILED)
        self.assertIn("%s:4 (Host bitbucket.org) sets IdentityFile first, "
                      "so ssh tries '%s' before the entry's key"
                      % (cfg, other), c["config"]["finding"])

    def test_fault_key_not_registered(self):
        self.setup_healthy(register=False)
        p, t, c = self.doctor(status=FAILED)
        self.assertStatus(c, token="pass", config="pass", key="pass",
                          bitbucket="fail", hostkey="pass", auth="fail")
        self.assertIn("key not registered: %s" % self.key["fingerprint"],
                      c["bitbucket"]["finding"])
        self.assertEqual(c["bitbucket"]["fix"],
                         "ykssh register %s.pub" % self.key["stub"])
        # The live login shows what the user meets.
        self.assertIn("permission denied (publickey)",
                      c["auth"]["finding"])

    def test_fault_stale_agent_key(self):
        self.setup_healthy()
        with open(self.key["stub"] + ".pub") as f:
            comment = f.read().split(None, 2)[2].strip()
        old = os.path.join(self.tmp, "old_key")
        e2elib.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                    comment, "-f", old], check=True)
        sock = os.path.join(self.tmp, "agent.sock")
        agent = subprocess.Popen(["ssh-agent", "-D", "-a", sock],
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL,
                                 start_new_session=True)

        def stop():
            os.killpg(agent.pid, signal.SIGTERM)
            agent.wait(10)
        self.addCleanup(stop)
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        env = self.env(SSH_AUTH_SOCK=sock)
        e2elib.run(["ssh-add", old], env=env, check=True)
        oldfp = e2elib.run(["ssh-keygen", "-lf", old + ".pub"],
                           check=True).stdout.split()[1]
        # ykssh's entry says IdentitiesOnly yes: ssh does not offer the
        # old key to bitbucket.org, so it is a warning, not a failure.
        p, t, c = self.doctor("--offline", env=env, status=0)
        self.assertStatus(c, token="pass", config="pass", key="pass",
                          agent="warn", bitbucket="pass", hostkey="pass")
        self.assertIn("older key for this entry, %s" % oldfp,
                      c["agent"]["finding"])
        # A line above the entry turns IdentitiesOnly off: now ssh offers
        # the stale key first.
        cfg = self.ssh_config()
        with open(cfg) as f:
            text = f.read()
        with open(cfg, "w") as f:
            f.write("Host *\n\tIdentitiesOnly no\n\n" + text)
        p, t, c = self.doctor(env=env, status=FAILED)
        self.assertStatus(c, token="pass", config="pass", key="pass",
                          agent="fail", bitbucket="pass", hostkey="pass")
        self.assertIn("stale agent key: ssh offers 1 agent key to "
                      "bitbucket.org before the entry's key "
                      "(IdentitiesOnly no from %s:2 (Host *)), first %s"
                      % (cfg, oldfp), c["agent"]["finding"])
        self.assertIn("ssh-add -d", c["agent"]["fix"])
        # ssh did offer it: sshd saw the old key before ours.
        self.assertIn(oldfp, self.bb.read_sshd_log())
        # The agent ssh uses may come from IdentityAgent, not the
        # environment: doctor asks that one.
        with open(cfg, "w") as f:
            f.write("Host *\n\tIdentitiesOnly no\n\tIdentityAgent %s\n\n"
                    % sock + text)
        p, t, c = self.doctor("--offline", status=FAILED)
        self.assertEqual(c["agent"]["status"], "fail", c["agent"])
        self.assertIn(oldfp, c["agent"]["finding"])

    def test_fault_stub_from_another_token(self):
        self.setup_healthy()
        other = SimToken(FIDOSIM, workdir=os.path.join(self.tmp, "t2"))
        os.makedirs(other.workdir)
        other.start()

        def stop():
            other.stop()
            other.cleanup()
        self.addCleanup(stop)
        p = self.ykssh("doctor", "--offline", "--device",
                       self.device(other), *self.server_args(),
                       "bitbucket.org")
        self.assertEqual(p.returncode, FAILED, p.stdout + p.stderr)
        c = {x["id"]: x for x in json.loads(p.stdout)["targets"][0]
             ["checks"]}
        self.assertStatus(c, token="pass", config="pass", key="fail",
                          bitbucket="pass", hostkey="pass")
        self.assertIn("stub from another token: the credential of %s is "
                      "not on the attached" % self.key["stub"],
                      c["key"]["finding"])
        self.assertIn("attach the token the key was enrolled on",
                      c["key"]["fix"])
        # ssh with that token cannot sign either.
        e = self.env(YKSSH_SK_DEVICE=self.device(other))
        p2, t, c = self.doctor(env=e, status=FAILED)
        self.assertEqual(c["auth"]["status"], "fail", c["auth"])

    def test_fault_expired_key(self):
        self.setup_healthy(register=False)
        # Bitbucket takes no expiry in the past: register while the
        # emulator's clock is ten days back, with an expiry two days ago.
        past = datetime.datetime.now(datetime.timezone.utc) - \
            datetime.timedelta(days=2)
        when = past.strftime("%Y-%m-%dT%H:%M:%S")
        self.bb.advance_clock(-10 * 86400)
        with open(self.key["stub"] + ".pub") as f:
            pub = f.read().strip()
        r = curl(self.bb, "POST", "%s/users/%s/ssh-keys?expires_on=%s" % (
            self.bb.cloud_url, self.bb.cloud_user()["account_id"], when),
            auth=self.bb.cloud_token(), data={"key": pub, "label": "work"})
        self.assertEqual(r.status, 201, r)
        self.bb.advance_clock(10 * 86400)
        p, t, c = self.doctor(status=FAILED)
        self.assertStatus(c, token="pass", config="pass", key="pass",
                          bitbucket="fail", hostkey="pass", auth="fail")
        self.assertIn("expired key: the registration 'work' expired on %s"
                      % when[:10], c["bitbucket"]["finding"])
        self.assertEqual(c["bitbucket"]["fix"], "ykssh rotate work")
        self.assertIn("permission denied", c["auth"]["finding"])

    def test_fault_no_token(self):
        self.setup_healthy()
        gone = "udp://127.0.0.1:%d?local=0" % e2elib.free_port()
        p = self.ykssh("doctor", "--device", gone, *self.server_args(),
                       "bitbucket.org")
        self.assertEqual(p.returncode, FAILED, p.stdout + p.stderr)
        c = {x["id"]: x for x in json.loads(p.stdout)["targets"][0]
             ["checks"]}
        self.assertStatus(c, token="fail", config="pass", key="skip",
                          bitbucket="pass", hostkey="pass", auth="skip")
        self.assertIn("no token:", c["token"]["finding"])
        self.assertIn("plug in the YubiKey", c["token"]["fix"])
        self.assertIn("udev", c["token"]["fix"])


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
