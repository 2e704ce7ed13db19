#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Card mechanics: touch scripting, control channel, fault injection,
state file, harness clean-up."""

import os
import subprocess
import sys
import threading
import time
import unittest

import pivenv
import pivtest
from pivtest import CardTest, DEFAULT_MGM


def processes(names):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % pid) as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm in names:
            found.append((int(pid), comm))
    return found


class TouchTest(CardTest):

    def setUp(self):
        super().setUp()
        out = self.ykpiv("auth-3des", DEFAULT_MGM,
                         "generate", "9a", "11", "1", "2",     # always
                         "generate", "9c", "11", "1", "3")     # cached
        self.assertTrue(out[1].startswith("generate 9a rc=YKPIV_OK"))
        self.assertTrue(out[2].startswith("generate 9c rc=YKPIV_OK"))

    def sign(self, slot="9a"):
        t = time.monotonic()
        out = self.ykpiv("sign", slot, "11")
        return out[0], time.monotonic() - t

    def test_approve_deny_delay_never(self):
        self.assertEqual(self.sign()[0], "sign 9a sw=9000 valid=1")
        self.piv.control("touch deny")
        self.assertEqual(self.sign()[0], "sign 9a sw=6982 valid=0")
        self.piv.control("touch delay 1200")
        line, took = self.sign()
        self.assertEqual(line, "sign 9a sw=9000 valid=1")
        self.assertGreaterEqual(took, 1.2)
        self.piv.control("touch-timeout 1500")
        self.piv.control("touch never")
        line, took = self.sign()
        self.assertEqual(line, "sign 9a sw=6982 valid=0")
        self.assertGreaterEqual(took, 1.5)
        st = self.piv.stats()
        self.assertEqual((st["touches"], st["touches_failed"]), (2, 2))

    def test_touch_arrives_while_waiting(self):
        self.piv.control("touch-timeout 20000")
        self.piv.control("touch never")
        timer = threading.Timer(0.7, self.piv.control, ["touch approve"])
        timer.start()
        self.addCleanup(timer.cancel)
        line, took = self.sign()
        self.assertEqual(line, "sign 9a sw=9000 valid=1")
        self.assertGreaterEqual(took, 0.7)
        self.assertLess(took, 15)

    def test_cached(self):
        self.assertEqual(self.sign("9c")[0], "sign 9c sw=9000 valid=1")
        self.piv.control("touch deny")
        # Within 15 s the cached touch still counts; policy "always" not.
        self.assertEqual(self.sign("9c")[0], "sign 9c sw=9000 valid=1")
        self.assertEqual(self.sign("9a")[0], "sign 9a sw=6982 valid=0")
        st = self.piv.stats()
        self.assertEqual((st["touches"], st["touches_failed"]), (1, 1))


class ControlFaultTest(CardTest):

    def test_control_errors(self):
        for bad in ("touch maybe", "touch delay x", "fault pull-after -1",
                    "frobnicate"):
            with self.assertRaises(RuntimeError):
                self.piv.control(bad)
        self.assertEqual(self.piv.control("touch approve"), "ok")

    def wait_reconnect(self, pulls):
        self.piv.wait_card(min_connects=2)
        self.assertEqual(self.piv.stats()["pulls"], pulls)

    def test_pull_mid_chained_command(self):
        k, c = self.path("k.pem"), self.path("c.pem")
        self.openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes",
                     "-subj", "/CN=pull", "-keyout", k, "-out", c)
        # connect: SELECT, VERIFY, GET VERSION, GET SERIAL; mgmt auth: 2;
        # then PUT DATA in 255-byte chunks: the 2nd chunk is pulled.
        self.piv.control("fault pull-after 7")
        t = time.monotonic()
        p = self.tool("-a", "import-certificate", "-s", "9a", "-i", c,
                      check=False, timeout=30)
        self.assertLess(time.monotonic() - t, 20)
        self.assertNotEqual(p.returncode, 0)
        st = self.piv.stats()
        # Stats count processed APDUs: the first chunk only (the second
        # was pulled before processing).
        self.assertEqual(st["ins"]["db"], 1)
        self.assertEqual(st["pulls"], 1)
        self.wait_reconnect(1)
        # Card back, nothing half-written.
        self.assertIn("5.4.3", self.tool("-a", "version").stdout)
        p = self.tool("-a", "read-certificate", "-s", "9a", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.tool("-a", "import-certificate", "-s", "9a", "-i", c)

    def test_pull_during_signature(self):
        out = self.ykpiv("auth-3des", DEFAULT_MGM,
                         "generate", "9e", "11", "0", "0")
        self.assertTrue(out[1].startswith("generate 9e rc=YKPIV_OK"))
        # ykpiv_check connect: SELECT, VERIFY, VERSION, SERIAL; then sign.
        self.piv.control("fault pull-after 4")
        t = time.monotonic()
        p = pivtest.run([pivtest.YKPIV_CHECK, "@" + self.piv.reader, "sign",
                         "9e", "11"], self.env, check=False, timeout=30)
        self.assertLess(time.monotonic() - t, 20)
        # libykpiv 2.2's ykpiv_transfer_data reports YKPIV_OK with SW 0000
        # when the card vanishes mid-command; any real SW would be wrong.
        self.assertRegex(p.stdout, r"^(transfer rc=YKPIV_\w+\n|"
                         r"sign 9e sw=0000 valid=0\n)")
        self.wait_reconnect(1)
        out = self.ykpiv("sign", "9e", "11")
        self.assertEqual(out, ["sign 9e sw=9000 valid=1"])


class ReconnectTest(CardTest):

    def test_pcscd_restart(self):
        self.tool("-a", "generate", "-s", "9a", "-o", self.path("a.pem"))
        self.assertEqual(self.piv.stats()["connects"], 1)
        self.piv.restart_pcscd()
        st = self.piv.stats()
        self.assertEqual(st["connects"], 2)
        self.assertEqual(st["pulls"], 0)
        self.tool("-a", "attest", "-s", "9a", "-o", self.path("att.pem"))
        self.assertEqual(
            self.openssl("x509", "-in", self.path("att.pem"), "-noout",
                         "-pubkey").stdout,
            self.openssl("pkey", "-pubin", "-in", self.path("a.pem")).stdout)


class FailureModesTest(unittest.TestCase):
    """No reader / reader without card / card without PIV, as the product
    tests need them; each is told apart with opensc-tool -l."""

    def check(self, kw, listing, ykpiv_rc):
        with pivenv.PivEnv(pivtest.PIVSIM, **kw) as e:
            p = pivtest.run(["opensc-tool", "-l"], e.env, check=False)
            self.assertRegex(p.stdout, listing)
            p = pivtest.run(["yubico-piv-tool", "-a", "version"], e.env,
                            check=False)
            self.assertEqual(p.returncode, 1)
            self.assertIn("Failed to connect", p.stderr)
            p = pivtest.run([pivtest.YKPIV_CHECK, "Yubico", "metadata",
                             "80"], e.env, check=False)
            self.assertEqual(p.stdout, "connect rc=%s\n" % ykpiv_rc)
            p = pivtest.run(["ssh-keygen", "-D", pivtest.YKCS11], e.env,
                            check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertEqual(p.stdout, "")

    def test_no_reader(self):
        self.check(dict(reader=False), r"No smart card readers found",
                   "YKPIV_PCSC_ERROR")

    def test_no_card(self):
        self.check(dict(card=False), r"\d+\s+No\s+Yubico YubiKey vpcd 00 00",
                   "YKPIV_PCSC_ERROR")

    def test_not_piv(self):
        self.check(dict(piv=False),
                   r"\d+\s+Yes\s+Yubico YubiKey vpcd 00 00",
                   "YKPIV_GENERIC_ERROR")


class HarnessTest(unittest.TestCase):

    def test_cleanup_and_reuse(self):
        for profile in ("5.4", "5.7"):
            with pivenv.PivEnv(pivtest.PIVSIM, profile=profile) as e:
                self.assertTrue(processes({"pcscd"}))
                self.assertTrue(processes({"pivsim"}))
                state = e.state
                self.assertTrue(os.path.exists(state))
            self.assertEqual(processes({"pcscd", "pivsim"}), [])
            self.assertFalse(os.path.exists(state))

    def test_cleanup_on_error(self):
        with self.assertRaises(ZeroDivisionError):
            with pivenv.PivEnv(pivtest.PIVSIM):
                1 / 0
        self.assertEqual(processes({"pcscd", "pivsim"}), [])

    def test_invalid_state_file(self):
        d = self.enterContext(__import__("tempfile").TemporaryDirectory())
        st = os.path.join(d, "bad.state")
        with open(st, "wb") as f:
            f.write(b"PIVSIM\x00\x02garbage")
        p = subprocess.run([pivtest.PIVSIM, "--port", "40000", "--state",
                            st], capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 1)
        self.assertIn("invalid state file", p.stderr)
        p = subprocess.run([pivtest.PIVSIM, "--port", "0"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 2)

    def test_shell_wrapper(self):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "pivenv.py")
        p = subprocess.run(
            [sys.executable, script, "--pivsim", pivtest.PIVSIM,
             "--profile", "5.7", "--",
             "sh", "-c", 'yubico-piv-tool -r "@$PIVENV_READER" -a version'],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("5.7.2", p.stdout)
        self.assertEqual(processes({"pcscd", "pivsim"}), [])


if __name__ == "__main__":
    pivtest.main()
