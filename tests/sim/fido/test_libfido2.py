#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""fidosim against libfido2 1.12 through fido_dev_set_io_functions.

usage: test_libfido2.py PATH/TO/fidosim PATH/TO/fidosim_fido2_client

The C client (fido2_client.c over ykssh's fido-io.c) runs one libfido2 operation per
call and prints key=value lines; this script checks them, and verifies the
x5c certificate chain to the test CA.
"""

import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fido2.attestation.base import verify_x509_chain  # noqa: E402

from simtoken import SimToken  # noqa: E402
from test_python_fido2 import AAGUID_54, AttestationCA  # noqa: E402

FIDOSIM = CLIENT = None
CA = None

# libfido2 reports CTAP status codes as FIDO_ERR_* with the same number.
PIN_INVALID, PIN_BLOCKED, PIN_AUTH_BLOCKED = 0x31, 0x32, 0x34
PIN_REQUIRED, NO_CREDENTIALS, OPERATION_DENIED = 0x36, 0x2E, 0x27
USER_ACTION_TIMEOUT, UNSUPPORTED_ALGORITHM = 0x2F, 0x26
UP, UV, AT, ED = 0x01, 0x04, 0x40, 0x80


class ClientError(Exception):
    def __init__(self, code, out):
        super().__init__("libfido2 error %d: %s" % (code, out))
        self.code = code


def parse(out):
    d = {}
    for line in out.splitlines():
        k, _, v = line.partition("=")
        d.setdefault(k, []).append(v)
    return {k: v[0] if len(v) == 1 else v for k, v in d.items()}


class Libfido2Case(unittest.TestCase):
    token_args = ()

    def setUp(self):
        self.tok = SimToken(FIDOSIM, args=list(self.token_args))
        self.addCleanup(self.tok.cleanup)
        # The simulator's own default: self attestation, unless a test
        # passes --attestation-cert (SimToken would add the test root's).
        self.tok.attestation = None
        self.tok.start()
        self.addCleanup(self.check_clean_exit)
        # local=0: an ephemeral client port, so tests run in parallel.
        self.url = "udp://127.0.0.1:%d?local=0" % self.tok.port

    def check_clean_exit(self):
        self.assertEqual(self.tok.stop(), 0, "fidosim did not quit cleanly")

    def run_client(self, *args):
        p = subprocess.run([CLIENT, self.url] + [str(a) for a in args],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60)
        out = parse(p.stdout)
        if p.returncode == 3 and "error" in out:
            raise ClientError(int(out["error"].split()[0]), p.stdout)
        if p.returncode != 0:
            raise AssertionError("client rc=%d\n%s%s" % (
                p.returncode, p.stdout, p.stderr))
        return out

    def assertClientError(self, code, *args):
        with self.assertRaises(ClientError) as cm:
            self.run_client(*args)
        self.assertEqual(cm.exception.code, code, str(cm.exception))

    def enroll(self, alg="eddsa", rk=0, pin="-", prot=0, rp="ssh:",
               user="openssh", x5c="-"):
        return self.run_client("enroll", alg, rk, pin, prot, rp, user, x5c)

    def assertion(self, rp, cred_id, alg, pub, pin="-", up=1):
        return self.run_client("assert", rp, cred_id, alg, pub, pin, up)


class InfoTest(Libfido2Case):
    def test_open_and_info(self):
        out = self.run_client("info")
        self.assertEqual(out["versions"], "FIDO_2_0,FIDO_2_1_PRE,FIDO_2_1")
        self.assertEqual(out["extensions"], "credProtect")
        self.assertEqual(out["aaguid"], AAGUID_54.hex())
        self.assertEqual(out["algorithms"], "-7,-8")
        self.assertEqual(out["protocols"], "2,1")
        self.assertEqual(out["maxmsgsiz"], "1200")
        self.assertEqual(out["fwversion"], str(0x050403))
        self.assertEqual(out["rk_remaining"], "25")
        for k, v in (("supports_cred_prot", "1"), ("supports_pin", "1"),
                     ("has_pin", "0"), ("supports_credman", "1"),
                     ("supports_uv", "0"), ("is_fido2", "1")):
            self.assertEqual(out[k], v, k)
        self.assertNotIn("uv:", out["options"])

    def test_touch_select(self):
        self.assertEqual(self.run_client("touch")["touched"], "1")
        self.run_client("setpin", "1234")
        self.assertEqual(self.run_client("touch")["touched"], "1")
        st = self.tok.stats()
        self.assertEqual(st["touches"], 2)


class NoEddsaTest(Libfido2Case):
    token_args = ("--no-eddsa",)

    def test_no_eddsa(self):
        self.assertEqual(self.run_client("info")["algorithms"], "-7")
        self.assertClientError(UNSUPPORTED_ALGORITHM, "enroll", "eddsa", 0,
                               "-", 0, "ssh:", "u", "-")
        self.enroll(alg="es256")


class Ctap21PreTest(Libfido2Case):
    token_args = ("--ctap21-pre",)

    def test_ctap21_pre(self):
        out = self.run_client("info")
        self.assertEqual(out["versions"], "FIDO_2_0,FIDO_2_1_PRE")
        self.assertEqual(out["protocols"], "1")
        self.assertNotIn("pinUvAuthToken", out["options"])
        self.assertNotIn("credMgmt:", out["options"])
        self.assertEqual(out["supports_credman"], "1")
        self.run_client("setpin", "1234")
        e = self.enroll("eddsa", 1, "1234", 2, "ssh:", "alice")
        self.assertEqual(int(e["flags"]), UP | UV | AT | ED)
        b = self.enroll("es256", 1, "1234", 2, "ssh:", "bob")
        a = self.assertion("ssh:", "-", "es256", b["pubkey"], "1234")
        self.assertEqual(a["count"], "2")
        self.assertEqual(a["assert_verified"], "1")
        # libfido2 1.12 takes getPinToken (0x05) tokens to credman 0x41.
        out = self.run_client("credman", "1234", "ssh:")
        self.assertEqual((out["existing"], out["remaining"]), ("2", "23"))
        self.run_client("delete", "1234", e["id"])
        self.assertEqual(self.run_client("credman", "1234",
                                         "ssh:")["existing"], "1")
        self.run_client("changepin", "1234", "5678")
        self.assertClientError(PIN_INVALID, "enroll", "eddsa", 0, "1234", 0,
                               "ssh:", "u", "-")


class EnrollTest(Libfido2Case):
    @property
    def token_args(self):
        return CA.args

    def test_enroll_and_sign_without_pin(self):
        counter = 0
        for alg in ("eddsa", "es256"):
            for rk in (0, 1):
                with self.subTest(alg=alg, rk=rk):
                    rp = "ssh:%s%d" % (alg, rk)
                    x5c = os.path.join(self.tok.workdir, "x5c.der")
                    out = self.enroll(alg, rk, "-", 2 if rk else 0, rp,
                                      "alice", x5c)
                    self.assertEqual(out["fmt"], "packed")
                    self.assertEqual(out["verified"], "x5c")
                    self.assertEqual(int(out["flags"]),
                                     UP | AT | (ED if rk else 0))
                    self.assertEqual(out["aaguid"], AAGUID_54.hex())
                    self.assertEqual(len(out["id"]) // 2, 16 if rk else 63)
                    self.assertEqual(len(out["pubkey"]) // 2,
                                     32 if alg == "eddsa" else 64)
                    self.assertEqual(out["prot"], "2" if rk else "0")
                    with open(x5c, "rb") as f:
                        verify_x509_chain([f.read(), CA.ca_der])
                    self.assertGreater(int(out["sigcount"]), counter)
                    counter = int(out["sigcount"])
                    if rk:
                        # credProtect 2: not discoverable without UV.
                        self.assertClientError(
                            NO_CREDENTIALS, "assert", rp, "-", alg,
                            out["pubkey"], "-", 1)
                    a = self.assertion(rp, out["id"], alg, out["pubkey"])
                    self.assertEqual(a["assert_verified"], "1")
                    self.assertEqual(a["count"], "1")
                    self.assertEqual(int(a["flags"]), UP)
                    self.assertGreater(int(a["sigcount"]), counter)
                    counter = int(a["sigcount"])
                    if rk:
                        self.assertEqual(a["user_id"], "616c696365" +
                                         "00" * 27)
                    # Silent probe, as OpenSSH's sk_try does.
                    a = self.assertion(rp, out["id"], alg, out["pubkey"],
                                       up=0)
                    self.assertEqual(int(a["flags"]), 0)
                    # A signature from another key must not verify.
                    other = self.enroll(alg, 0, "-", 0, rp, "x")
                    with self.assertRaises(ClientError):
                        self.assertion(rp, out["id"], alg, other["pubkey"])

    def test_discovery_several(self):
        outs = [self.enroll("eddsa", 1, "-", 1, "ssh:many", "u%d" % i)
                for i in range(3)]
        a = self.assertion("ssh:many", "-", "eddsa", outs[2]["pubkey"])
        self.assertEqual(a["count"], "3")
        self.assertEqual(a["assert_id"], [o["id"] for o in reversed(outs)])


class PinTest(Libfido2Case):
    def test_pin_enroll_sign_credman(self):
        self.run_client("setpin", "1234")
        self.assertEqual(self.run_client("info")["has_pin"], "1")
        self.assertEqual(self.run_client("retries")["retries"], "8")
        self.assertClientError(PIN_REQUIRED, "enroll", "eddsa", 1, "-", 2,
                               "ssh:", "u", "-")
        self.assertClientError(PIN_REQUIRED, "enroll", "es256", 0, "-", 0,
                               "ssh:", "u", "-")
        made = {}
        for alg in ("eddsa", "es256"):
            for rk in (0, 1):
                rp = "ssh:" if rk else "ssh:nr"
                user = "%s%d" % (alg, rk)
                out = self.enroll(alg, rk, "1234", 3 if rk else 0, rp, user)
                self.assertEqual(out["verified"], "self")
                self.assertEqual(int(out["flags"]),
                                 UP | UV | AT | (ED if rk else 0))
                a = self.assertion(rp, out["id"], alg, out["pubkey"],
                                   "1234")
                self.assertEqual(int(a["flags"]), UP | UV)
                made[user] = out
        # credProtect 3: invisible without the PIN, found with it.
        ed = made["eddsa1"]
        self.assertClientError(NO_CREDENTIALS, "assert", "ssh:", ed["id"],
                               "eddsa", ed["pubkey"], "-", 1)
        a = self.assertion("ssh:", "-", "es256", made["es2561"]["pubkey"],
                           "1234")
        self.assertEqual(a["count"], "2")
        # Change the PIN; the old one is refused.
        self.assertClientError(PIN_INVALID, "changepin", "9999", "5678")
        self.assertEqual(self.run_client("retries")["retries"], "7")
        self.run_client("changepin", "1234", "5678")
        self.assertEqual(self.run_client("retries")["retries"], "8")
        # Credential management on command 0x41 (libfido2 1.12).
        out = self.run_client("credman", "5678", "ssh:")
        self.assertEqual((out["existing"], out["remaining"]), ("2", "23"))
        self.assertEqual(out["rp"], "ssh:")
        rks = out["rk"]
        self.assertEqual(len(rks), 2)
        self.assertEqual(sorted(r.split(",")[:3][2] for r in rks),
                         ["eddsa1", "es2561"])
        self.assertIn("-8,3,eddsa1,id=" + ed["id"], rks)
        self.run_client("delete", "5678", ed["id"])
        out = self.run_client("credman", "5678", "ssh:")
        self.assertEqual(out["existing"], "1")
        self.assertIsInstance(out["rk"], str)
        self.assertClientError(NO_CREDENTIALS, "assert", "ssh:", ed["id"],
                               "eddsa", ed["pubkey"], "5678", 1)
        self.assertClientError(NO_CREDENTIALS, "delete", "5678", ed["id"])
        st = self.tok.stats()["ctap"]
        self.assertGreater(st["credentialManagement"], 6)
        self.assertGreater(st["clientPIN"], 20)

    def test_wrong_pin_sequence(self):
        self.run_client("setpin", "1234")
        enroll_wrong = ("enroll", "eddsa", 0, "0000", 0, "ssh:", "u", "-")
        for code in (PIN_INVALID, PIN_INVALID, PIN_AUTH_BLOCKED,
                     PIN_AUTH_BLOCKED):
            self.assertClientError(code, *enroll_wrong)
        self.assertEqual(self.run_client("retries")["retries"], "5")
        self.tok.control("powercycle")
        for code in (PIN_INVALID, PIN_INVALID, PIN_AUTH_BLOCKED):
            self.assertClientError(code, *enroll_wrong)
        self.tok.control("powercycle")
        self.assertClientError(PIN_INVALID, *enroll_wrong)
        self.assertClientError(PIN_BLOCKED, *enroll_wrong)
        self.assertEqual(self.run_client("retries")["retries"], "0")
        self.assertClientError(PIN_BLOCKED, "enroll", "eddsa", 0, "1234", 0,
                               "ssh:", "u", "-")


class PresenceTest(Libfido2Case):
    token_args = ("--up-timeout", "500")

    def test_denied_and_timeout(self):
        self.tok.control("up deny")
        self.assertClientError(OPERATION_DENIED, "enroll", "eddsa", 0, "-",
                               0, "ssh:", "u", "-")
        self.tok.control("up never")
        t0 = time.monotonic()
        self.assertClientError(USER_ACTION_TIMEOUT, "enroll", "eddsa", 0,
                               "-", 0, "ssh:", "u", "-")
        self.assertLess(time.monotonic() - t0, 10)
        # Touch-select with no touch, then fido_dev_cancel: the token
        # answers the pending request 0x2D and is free again.
        # (Were the first not cancelled, the second would get
        # CHANNEL_BUSY and fail.)
        self.tok.control("up-timeout 30000")
        for _ in range(2):
            self.assertEqual(self.run_client("touch-cancel")["touched"], "0")
        self.tok.control("up approve")
        self.assertEqual(self.run_client("touch")["touched"], "1")
        # Delayed touch: libfido2 skips the KEEPALIVEs and succeeds.
        self.tok.control("up-timeout 30000")
        self.tok.control("up delay 300")
        self.enroll()
        self.assertGreaterEqual(self.tok.stats()["keepalives"], 2)


def main():
    global FIDOSIM, CLIENT, CA
    if len(sys.argv) < 3:
        sys.exit("usage: test_libfido2.py FIDOSIM CLIENT [unittest args]")
    FIDOSIM = sys.argv.pop(1)
    CLIENT = sys.argv.pop(1)
    CA = AttestationCA()
    try:
        unittest.main(verbosity=2)
    finally:
        CA.cleanup()


if __name__ == "__main__":
    main()
