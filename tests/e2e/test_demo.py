#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""ykssh demo under a pseudo-terminal, as a newcomer runs it: the narrated
steps and the final git push; and Ctrl-C in the middle, after which no
process and no file of the demo is left.

usage: test_demo.py          (YKSSH_BIN in the environment)
"""

import glob
import os
import pty
import re
import select
import signal
import sys
import time
import unittest

YKSSH = os.environ.get("YKSSH_BIN")
NAMES = ("fidosim", "bbemu.py", "authkeys.py", "sshd -D")


def processes(marks=()):
    """pid -> command line of every process that looks like the demo's
    (and, with marks, mentions one of them)."""
    out = {}
    for d in glob.glob("/proc/[0-9]*"):
        try:
            with open(d + "/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(n in cmd for n in NAMES) and \
                (not marks or any(m in cmd for m in marks)):
            out[int(d[6:])] = cmd
    return out



def run_in_pty(argv, interrupt_at=None, timeout=180):
    """Runs argv on a new pty; returns (exit status, output).  With
    interrupt_at, types Ctrl-C once that text has appeared."""
    pid, fd = pty.fork()
    if pid == 0:
        env = dict(os.environ, TERM="xterm")
        env.pop("NO_COLOR", None)
        os.execve(argv[0], argv, env)
    out = b""
    sent = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
        if interrupt_at and not sent and interrupt_at.encode() in out:
            os.write(fd, b"\x03")       # Ctrl-C, as the user types it
            sent = True
    else:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


class DemoTest(unittest.TestCase):
    def assert_nothing_left(self, out):
        """The demo names its directories: nothing of them, and no process
        that mentions them, may be left (other tests may be running)."""
        m = re.search(r"Everything lives in (/tmp/ykssh-demo-\w+) \(its "
                      r"own HOME\)(?: and (/run/ykssh-demo-\w+))?", out)
        self.assertIsNotNone(m, out)
        marks = [d for d in m.groups() if d]
        for d in marks:
            self.assertFalse(os.path.exists(d), "left behind: " + d)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            left = processes(marks)
            if not left:
                break
            time.sleep(0.2)
        self.assertEqual(left, {}, "processes left behind")

    def test_full_demo_on_a_terminal(self):
        rc, out = run_in_pty([YKSSH, "demo"])
        self.assertEqual(rc, 0, out)
        for n in range(1, 7):
            self.assertIn("[%d/6]" % n, out)
        self.assertIn("Touch your YubiKey 5 Series now.", out)
        self.assertIn("registered on Bitbucket Cloud", out)
        self.assertIn("# ykssh:begin demo SHA256:", out)
        self.assertRegex(out, r"[0-9a-f]+\.\.[0-9a-f]+ +HEAD -> main")
        self.assertIn("Hello from ykssh demo", out)
        self.assertIn("\033[1m", out)           # bold on a terminal
        self.assertIn("every process the demo started are gone", out)
        self.assert_nothing_left(out)

    def test_ctrl_c_midway_leaves_nothing(self):
        rc, out = run_in_pty([YKSSH, "demo"],
                             interrupt_at="Touch your YubiKey")
        self.assertEqual(rc, 130, out)
        self.assertIn("interrupted; cleaning up", out)
        self.assertNotIn("[5/6]", out)
        self.assert_nothing_left(out)

    def test_installed_binary_refuses_with_a_hint(self):
        import shutil
        import subprocess
        import tempfile
        d = tempfile.mkdtemp()
        try:
            copy = os.path.join(d, "ykssh")
            shutil.copy(YKSSH, copy)
            p = subprocess.run([copy, "demo"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
            self.assertEqual(p.returncode, 80, p.stderr)
            self.assertIn("source build", p.stderr)
        finally:
            shutil.rmtree(d)


@unittest.skipUnless(os.geteuid() == 0, "ykssh demo --piv needs root")
class DemoPivTest(DemoTest):
    """ykssh demo --piv: the software PIV card in its private pcscd."""

    def setUp(self):
        global NAMES
        self.addCleanup(setattr, sys.modules[__name__], "NAMES", NAMES)
        NAMES = NAMES + ("pivsim", "pcscd")

    def test_full_demo_on_a_terminal(self):
        rc, out = run_in_pty([YKSSH, "demo", "--piv"])
        self.assertEqual(rc, 0, out)
        for n in range(1, 7):
            self.assertIn("[%d/6]" % n, out)
        self.assertIn("Created ECDSA key in PIV slot 9a", out)
        self.assertIn("registered on Bitbucket Cloud", out)
        self.assertIn("PKCS11Provider /usr/lib/x86_64-linux-gnu/"
                      "libykcs11.so", out)
        self.assertRegex(out, r"[0-9a-f]+\.\.[0-9a-f]+ +HEAD -> main")
        self.assertIn("Hello from ykssh demo", out)
        self.assertIn("every process the demo started are gone", out)
        self.assert_nothing_left(out)

    def test_ctrl_c_midway_leaves_nothing(self):
        rc, out = run_in_pty([YKSSH, "demo", "--piv"],
                             interrupt_at="ykssh enroll --piv")
        self.assertEqual(rc, 130, out)
        self.assertIn("interrupted; cleaning up", out)
        self.assertNotIn("[5/6]", out)
        self.assert_nothing_left(out)

    # The installed-binary check is the same as for FIDO2: not repeated.
    test_installed_binary_refuses_with_a_hint = None


class DemoPivNotRoot(unittest.TestCase):
    def test_needs_root_says_so(self):
        """Without root the demo says why and what to run instead."""
        import subprocess
        p = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             YKSSH, "demo", "--piv"] if os.geteuid() == 0 else
            [YKSSH, "demo", "--piv"], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("needs root", p.stderr)
        self.assertIn("'ykssh demo' (FIDO2)", p.stderr)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
