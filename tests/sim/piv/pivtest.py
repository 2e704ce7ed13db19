# SPDX-License-Identifier: BSD-2-Clause
"""Shared helpers for the pivsim tests (argv: PIVSIM YKPIV_CHECK)."""

import os
import subprocess
import sys
import tempfile
import unittest

import pivenv

YKCS11 = "/usr/lib/x86_64-linux-gnu/libykcs11.so"
DEFAULT_MGM = "010203040506070801020304050607080102030405060708"
PIVSIM = None
YKPIV_CHECK = None


def main():
    """Enter the namespace, take the two binaries from argv, run tests."""
    global PIVSIM, YKPIV_CHECK
    pivenv.enter_namespace()
    if len(sys.argv) < 3:
        sys.exit("usage: %s PIVSIM YKPIV_CHECK [unittest args]"
                 % sys.argv[0])
    PIVSIM = os.path.abspath(sys.argv.pop(1))
    YKPIV_CHECK = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)


def run(cmd, env, check=True, timeout=60, input=None, cwd=None):
    """Run a client; returns CompletedProcess with text stdout/stderr."""
    p = subprocess.run(cmd, env=env, input=input, cwd=cwd,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s"
                             % (cmd, p.returncode, p.stdout, p.stderr))
    return p


class CardTest(unittest.TestCase):
    """Each test gets its own pcscd + card (profile from the class)."""
    profile = "5.4"
    touch = "approve"

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pivtest-")
        self.addCleanup(self.tmp.cleanup)
        self.piv = pivenv.PivEnv(PIVSIM, profile=self.profile,
                                 touch=self.touch)
        self.piv.__enter__()
        self.addCleanup(self.piv.__exit__, None, None, None)
        self.env = self.piv.env

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def tool(self, *args, check=True, timeout=60):
        return run(["yubico-piv-tool", "-r", self.piv.reader_name_filter()]
                   + list(args), self.env, check=check, timeout=timeout)

    def ykpiv(self, *steps, timeout=60):
        """Run ykpiv_check; returns {step: line-rest} (last wins) + list."""
        p = run([YKPIV_CHECK, "@" + self.piv.reader] + list(steps),
                self.env, check=False, timeout=timeout)
        if p.returncode != 0:
            raise AssertionError("ykpiv_check %s: rc %d\n%s%s"
                                 % (steps, p.returncode, p.stdout,
                                    p.stderr))
        return p.stdout.splitlines()

    def openssl(self, *args, check=True):
        return run(["openssl"] + list(args), self.env, check=check)
