#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""ykssh doctor with a PIV key: pcscd down is named, with its fix.

A PIV key enrolled on the software card (pcscd + vpcd, tests/sim/piv) and
its config entry; doctor passes; then pcscd stops and the token check
fails with "pcscd not running" and the way to start it, while the checks
that do not need the card still pass.

usage: test_doctor_piv.py PIVSIM YKPIV_CHECK [unittest args]
(YKSSH_BIN, YKSSH_SOURCE_DIR in the environment).  Runs in private
namespaces (pivenv), like test_enroll_piv.py.
"""

import json
import os
import shutil
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import e2elib  # noqa: E402
import test_enroll_piv as tep  # noqa: E402
from test_enroll_piv import pivenv  # noqa: E402

FAILED = 89


class TestDoctorPiv(tep.PivTest):
    def doctor(self, status):
        p = self.ykssh("--json", "doctor", "--offline", "--no-bitbucket",
                       "bitbucket.org")
        self.assertEqual(p.returncode, status, p.stdout + p.stderr)
        t = json.loads(p.stdout)["targets"][0]
        self.assertEqual(t["kind"], "piv")
        return {c["id"]: c for c in t["checks"]}

    def test_pcscd_down(self):
        rep = json.loads(self.enroll("--json").stdout)
        # bitbucket.org's host key known (any key: nothing connects).
        kh = os.path.join(self.home, "known_hosts")
        hk = os.path.join(self.home, "hostkey")
        e2elib.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    hk], check=True)
        with open(hk + ".pub") as f, open(kh, "w") as o:
            o.write("bitbucket.org " + " ".join(f.read().split()[:2]) +
                    "\n")
        with open(os.path.join(self.home, ".ssh", "config"), "a") as f:
            f.write("\nHost *\n\tUserKnownHostsFile %s\n" % kh)
        c = self.doctor(0)
        want = {"token": "pass", "config": "pass", "key": "pass",
                "hostkey": "pass"}
        self.assertEqual({k: c[k]["status"] for k in want}, want, c)
        self.assertIn(rep["public_key_file"], c["key"]["finding"])
        # pcscd goes away.
        pivenv.kill_group(self.piv.pcscd)
        c = self.doctor(FAILED)
        want["token"] = "fail"
        self.assertEqual({k: c[k]["status"] for k in want}, want, c)
        self.assertIn("pcscd not running", c["token"]["finding"])
        self.assertIn("systemctl start pcscd.socket", c["token"]["fix"])
        # Back: passes again.
        self.piv.start_pcscd()
        self.piv.wait_card()
        self.doctor(0)


def main():
    pivenv.enter_namespace()
    tep.PIVSIM = os.path.abspath(sys.argv.pop(1))
    tep.YKPIV_CHECK = os.path.abspath(sys.argv.pop(1))
    if not tep.YKSSH or shutil.which("pcscd") is None and \
            not os.path.exists(pivenv.PCSCD):
        sys.exit("needs YKSSH_BIN and pcscd")
    child = os.fork()
    if child == 0:
        unittest.main(verbosity=2)
    while True:
        pid, status = os.wait()
        if pid == child:
            sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
