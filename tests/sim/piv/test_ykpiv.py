#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Debian's libykpiv 2.2 (and its raw APDU transfer) against the card."""

import unittest

import pivtest
from pivtest import CardTest, DEFAULT_MGM

AES128 = "000102030405060708090a0b0c0d0e0f"
AES256 = "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
OTHER = "1112131415161718" * 3


class Ykpiv54Test(CardTest):

    def test_3des_default_key_generate_sign(self):
        out = self.ykpiv("auth-3des", DEFAULT_MGM,
                         "metadata", "9b",
                         "generate", "9a", "11", "0", "0",
                         "sign", "9a", "11",
                         "verify", "123456",
                         "sign", "9a", "11")
        self.assertEqual(out[0], "auth-3des rc=YKPIV_OK")
        # 9B: alg 3DES, touch never, default key
        self.assertEqual(out[1], "metadata 9b sw=9000 data=010103020200010501"
                         "01")
        self.assertRegex(out[2], "^generate 9a rc=YKPIV_OK point=04[0-9a-f]"
                         "{128}$")
        self.assertEqual(out[3], "sign 9a sw=6982 valid=0")
        self.assertTrue(out[4].startswith("verify rc=YKPIV_OK "))
        self.assertEqual(out[5], "sign 9a sw=9000 valid=1")

    def test_reset_clears_security_state(self):
        out = self.ykpiv("auth-3des", DEFAULT_MGM,
                         "generate", "9a", "11", "0", "0",
                         "verify", "123456", "sign", "9a", "11")
        self.assertEqual(out[3], "sign 9a sw=9000 valid=1")
        # ykpiv_done() disconnects with a card reset: PIN and mgmt-key
        # authentication are gone in the next session.
        out = self.ykpiv("sign", "9a", "11",
                         "raw", "db", "3f", "ff", "5c035fc102530100")
        self.assertEqual(out, ["sign 9a sw=6982 valid=0",
                               "raw db sw=6982 data="])
        # Selecting another applet drops them as well.
        out = self.ykpiv("verify", "123456",
                         "raw", "a4", "04", "00", "a000000527471117",
                         "raw", "a4", "04", "00", "a000000308",
                         "sign", "9a", "11")
        self.assertEqual(out[1:], ["raw a4 sw=9000 data=",
                                   "raw a4 sw=9000 data=61114f0600001000010"
                                   "0790"  "74f05a000000308",
                                   "sign 9a sw=6982 valid=0"])

    def test_wrong_management_key(self):
        out = self.ykpiv("auth-3des", OTHER,
                         "generate", "9a", "11", "0", "0",
                         "raw", "db", "3f", "ff", "5c035fc102530100")
        self.assertEqual(out[0], "auth-3des rc=YKPIV_AUTHENTICATION_ERROR")
        self.assertEqual(out[1], "generate 9a rc=YKPIV_AUTHENTICATION_ERROR "
                         "point=")
        self.assertEqual(out[2], "raw db sw=6982 data=")

    def test_set_aes_keys_and_touch_flag(self):
        out = self.ykpiv("auth-3des", DEFAULT_MGM,
                         "raw", "ff", "ff", "ff", "089b10" + AES128,
                         "metadata", "9b",
                         "auth-3des", DEFAULT_MGM,
                         "auth-aes", "0a", DEFAULT_MGM,
                         "auth-aes", "08", AES128,
                         "raw", "ff", "ff", "fe", "0c9b20" + AES256,
                         "single-auth", "0c", AES256,
                         "metadata", "9b")
        self.assertEqual(out[0], "auth-3des rc=YKPIV_OK")
        self.assertEqual(out[1], "raw ff sw=9000 data=")
        self.assertEqual(out[2], "metadata 9b sw=9000 data=010108020200010501"
                         "00")
        self.assertEqual(out[3], "auth-3des rc=YKPIV_AUTHENTICATION_ERROR")
        self.assertEqual(out[4], "auth-manual step1 sw=6a80")
        self.assertEqual(out[5], "auth-aes rc=fail")
        self.assertEqual(out[6], "auth-aes rc=ok")
        self.assertEqual(out[7], "raw ff sw=9000 data=")
        self.assertEqual(out[8], "single-auth step2 sw=9000")
        self.assertEqual(out[10], "metadata 9b sw=9000 data=01010c020200020501"
                         "00")
        self.assertEqual(self.piv.stats()["touches"], 1)
        self.piv.control("touch deny")
        out = self.ykpiv("single-auth", "0c", AES256)
        self.assertEqual(out[0], "single-auth step2 sw=6982")
        self.assertEqual(self.piv.stats()["touches_failed"], 1)

    def test_blocked_pin_and_reset(self):
        out = self.ykpiv("verify", "000000", "verify", "000000",
                         "verify", "000000", "raw-verify", "123456",
                         "verify", "123456", "raw", "fb", "00", "00", "-",
                         "metadata", "80")
        self.assertEqual(out[:3], ["verify rc=YKPIV_WRONG_PIN tries=2",
                                   "verify rc=YKPIV_WRONG_PIN tries=1",
                                   "verify rc=YKPIV_WRONG_PIN tries=0"])
        self.assertEqual(out[3], "raw-verify sw=6983")
        self.assertEqual(out[4], "verify rc=YKPIV_PIN_LOCKED tries=0")
        self.assertEqual(out[5], "raw fb sw=6985 data=")
        self.assertEqual(out[6], "metadata 80 sw=9000 data=050101060203"
                         "00")
        # Block the PUK too (RESET RETRY COUNTER with a wrong PUK), then
        # RESET restores the factory PIN and drops keys and objects.
        bad = "3131313131313131" + "313233343536ffff"
        out = self.ykpiv("auth-3des", DEFAULT_MGM,
                         "generate", "9a", "11", "0", "0",
                         "raw", "2c", "00", "80", bad,
                         "raw", "2c", "00", "80", bad,
                         "raw", "2c", "00", "80", bad,
                         "raw", "2c", "00", "80", bad,
                         "raw", "fb", "00", "00", "-",
                         "verify", "123456", "metadata", "9a",
                         "metadata", "f9")
        self.assertEqual(out[2:6], ["raw 2c sw=63c2 data=",
                                    "raw 2c sw=63c1 data=",
                                    "raw 2c sw=63c0 data=",
                                    "raw 2c sw=6983 data="])
        self.assertEqual(out[6], "raw fb sw=9000 data=")
        self.assertTrue(out[7].startswith("verify rc=YKPIV_OK"))
        self.assertEqual(out[8], "metadata 9a sw=6a88 data=")
        self.assertTrue(out[9].startswith("metadata f9 sw=9000"))

    def test_pin_policies(self):
        out = self.ykpiv("auth-3des", DEFAULT_MGM,
                         "generate", "9a", "11", "0", "0",
                         "generate", "9c", "14", "0", "0",
                         "generate", "9e", "11", "0", "0",
                         "generate", "9d", "11", "1", "0",
                         "sign", "9e", "11", "sign", "9d", "11",
                         "sign", "9a", "11", "sign", "9c", "14",
                         "verify", "123456",
                         "sign", "9a", "11", "sign", "9a", "11",
                         "sign", "9c", "14", "sign", "9c", "14",
                         "verify", "123456", "sign", "9c", "14",
                         "sign", "9a", "14")
        signs = [l for l in out if l.startswith("sign")]
        self.assertEqual(signs, [
            "sign 9e sw=9000 valid=1",      # never
            "sign 9d sw=9000 valid=1",      # never (explicit)
            "sign 9a sw=6982 valid=0",      # once, no PIN yet
            "sign 9c sw=6982 valid=0",      # always
            "sign 9a sw=9000 valid=1",
            "sign 9a sw=9000 valid=1",      # once: still fine
            "sign 9c sw=9000 valid=1",      # always: one use per VERIFY
            "sign 9c sw=6982 valid=0",
            "sign 9c sw=9000 valid=1",
            "sign 9a sw=6a80 valid=0",      # wrong algorithm for the slot
        ])
        out = self.ykpiv("metadata", "9c", "metadata", "9e")
        self.assertTrue(out[0].startswith("metadata 9c sw=9000 "
                                          "data=0101140202030103010104"))
        self.assertTrue(out[1].startswith("metadata 9e sw=9000 "
                                          "data=0101110202010103010104"))

    def test_objects_chaining_printed_and_retries(self):
        big = bytes(range(256)) * 11 + b"\x42" * 20        # 2836 bytes
        out = self.ykpiv("get", "5fc102",
                         "auth-3des", DEFAULT_MGM,
                         "put", "5fc102", big.hex(),
                         "get", "5fc102",
                         "put", "5fc109", "880489020102",
                         "raw", "cb", "3f", "ff", "5c035fc109",
                         "raw", "cb", "3f", "ff", "5c017e",
                         "raw", "fa", "05", "04", "-",
                         "verify", "123456",
                         "raw", "cb", "3f", "ff", "5c035fc109",
                         "raw", "fa", "05", "04", "-",
                         "metadata", "80", "metadata", "81",
                         "raw", "00", "00", "00", "-")
        self.assertEqual(out[0], "get rc=YKPIV_INVALID_OBJECT data=")
        self.assertEqual(out[2], "put rc=YKPIV_OK")
        self.assertEqual(out[3], "get rc=YKPIV_OK data=" + big.hex())
        self.assertEqual(out[4], "put rc=YKPIV_OK")
        self.assertEqual(out[5], "raw cb sw=6982 data=")
        self.assertEqual(out[6], "raw cb sw=9000 data=7e124f0ba000000308000"
                         "010000100" "5f2f024000")
        self.assertEqual(out[7], "raw fa sw=6982 data=")
        self.assertEqual(out[9], "raw cb sw=9000 data=5306880489020102")
        self.assertEqual(out[10], "raw fa sw=9000 data=")
        self.assertEqual(out[11], "metadata 80 sw=9000 data=050101060205"
                         "05")
        self.assertEqual(out[12], "metadata 81 sw=9000 data=050101060204"
                         "04")
        self.assertEqual(out[13], "raw 00 sw=6d00 data=")
        st = self.piv.stats()
        self.assertGreater(st["ins"]["c0"], 0)      # GET RESPONSE used

    def test_attest_status_words(self):
        out = self.ykpiv("raw", "f9", "9e", "00", "-",
                         "auth-3des", DEFAULT_MGM,
                         "raw", "fe", "11", "9d", "0620" + "11" * 32,
                         "raw", "f9", "9d", "00", "-",
                         "metadata", "9d",
                         "generate", "9a", "11", "0", "0",
                         "raw", "f9", "9a", "00", "-",
                         "raw", "f9", "f9", "00", "-",
                         "raw", "f9", "9b", "00", "-")
        self.assertEqual(out[0], "raw f9 sw=6a88 data=")
        self.assertEqual(out[2], "raw fe sw=9000 data=")
        self.assertEqual(out[3], "raw f9 sw=6a88 data=")
        # origin 02 = imported; public point of scalar 0x1111...11
        self.assertTrue(out[4].startswith("metadata 9d sw=9000 data=010111"
                                          "02020201030102"))
        self.assertRegex(out[6], "^raw f9 sw=9000 data=3082[0-9a-f]{4}30")
        self.assertEqual(out[7], "raw f9 sw=6a88 data=")
        self.assertEqual(out[8], "raw f9 sw=6b00 data=")

    def test_protected_management_key(self):
        # What ykssh --setup does with libykpiv on a 5.4 token.
        out = self.ykpiv("config",
                         "auth-3des", DEFAULT_MGM, "verify", "123456",
                         "set-protected", "config")
        self.assertEqual(out[0], "config rc=YKPIV_OK mgm_type=0 "
                         "puk_blocked=0")
        self.assertRegex(out[3], "^set-protected rc=YKPIV_OK "
                         "key=[0-9a-f]{48}$")
        key = out[3].split("key=")[1]
        self.assertNotEqual(key, DEFAULT_MGM)
        self.assertEqual(out[4], "config rc=YKPIV_OK mgm_type=2 "
                         "puk_blocked=0")
        out = self.ykpiv("get-protected", "verify", "123456",
                         "get-protected", "auth-3des", key,
                         "metadata", "9b")
        self.assertTrue(out[0].startswith("get-protected rc=YKPIV_"))
        self.assertNotEqual(out[0], "get-protected rc=YKPIV_OK key=" + key)
        self.assertEqual(out[2], "get-protected rc=YKPIV_OK key=" + key)
        self.assertEqual(out[3], "auth-3des rc=YKPIV_OK")
        self.assertEqual(out[4], "metadata 9b sw=9000 data=010103020200010"
                         "50100")

    def test_ed25519_needs_57(self):
        out = self.ykpiv("auth-3des", DEFAULT_MGM, "raw-generate", "9a",
                         "e0")
        self.assertEqual(out[1], "raw-generate sw=6a80 len=0")

    def test_persistence_across_restart(self):
        out = self.ykpiv("auth-3des", DEFAULT_MGM,
                         "generate", "9a", "14", "0", "3",
                         "put", "5fc102", "3019d4e739da739ced39ce739d",
                         "raw", "ff", "ff", "ff", "089b10" + AES128,
                         "raw", "24", "00", "80",
                         "313233343536ffff" + "3938373635343332",
                         "verify", "000000", "metadata", "9a")
        self.assertTrue(out[1].startswith("generate 9a rc=YKPIV_OK"))
        before = out[6]
        self.piv.restart_card()
        self.assertEqual(self.piv.stats()["apdus"], 0)
        out = self.ykpiv("metadata", "9a", "get", "5fc102",
                         "metadata", "80",
                         "verify", "123456", "verify", "98765432",
                         "auth-aes", "08", AES128)
        self.assertEqual(out[0], before)
        self.assertEqual(out[1], "get rc=YKPIV_OK data=3019d4e739da739ced39ce"
                         "739d")
        # PIN no longer default, 3 tries total, 2 left after the miss.
        self.assertEqual(out[2], "metadata 80 sw=9000 data=05010006020302")
        self.assertEqual(out[3], "verify rc=YKPIV_WRONG_PIN tries=1")
        self.assertTrue(out[4].startswith("verify rc=YKPIV_OK"))
        self.assertEqual(out[5], "auth-aes rc=ok")


class Ykpiv57Test(CardTest):
    profile = "5.7"

    def test_aes192_factory_key(self):
        out = self.ykpiv("raw-auth", "03",
                         "auth-3des", DEFAULT_MGM,
                         "metadata", "9b",
                         "generate", "9a", "11", "0", "0",
                         "auth-aes", "0a", DEFAULT_MGM,
                         "generate", "9a", "11", "0", "0",
                         "raw-generate", "9c", "e0",
                         "auth-aes", "0a", OTHER,
                         "single-auth", "0a", DEFAULT_MGM)
        self.assertEqual(out[0], "raw-auth sw=6a80")
        self.assertEqual(out[1], "auth-3des rc=YKPIV_AUTHENTICATION_ERROR")
        self.assertEqual(out[2], "metadata 9b sw=9000 data=01010a0202000105"
                         "0101")
        self.assertEqual(out[3], "generate 9a rc=YKPIV_AUTHENTICATION_ERROR "
                         "point=")
        self.assertEqual(out[4], "auth-aes rc=ok")
        self.assertRegex(out[5], "^generate 9a rc=YKPIV_OK point=04")
        self.assertEqual(out[6], "raw-generate sw=9000 len=37")
        self.assertEqual(out[7], "auth-manual step2 sw=6982")
        self.assertEqual(out[8], "auth-aes rc=fail")
        self.assertEqual(out[10], "single-auth rc=ok")
        out = self.ykpiv("raw", "fd", "00", "00", "-", "raw", "f8", "00",
                         "00", "-")
        self.assertEqual(out, ["raw fd sw=9000 data=050702",
                               "raw f8 sw=9000 data=%08x" % 16000001])


if __name__ == "__main__":
    pivtest.main()
