#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Unmodified yubico-piv-tool 2.2 against the test card."""

import re
import unittest

import pivtest
from pivtest import CardTest


def extensions(openssl, pem):
    """{oid: hex of extnValue} of the Yubico arc in a certificate."""
    out = openssl("asn1parse", "-in", pem).stdout.splitlines()
    ext = {}
    for i, line in enumerate(out):
        m = re.search(r"OBJECT\s+:(1\.3\.6\.1\.4\.1\.41482\.3\.\d+)$", line)
        if m and i + 1 < len(out):
            h = re.search(r"OCTET STRING\s+\[HEX DUMP\]:([0-9A-F]+)",
                          out[i + 1])
            if h:
                ext[m.group(1)] = h.group(1).lower()
    return ext


class ToolTest(CardTest):

    def test_version_and_status(self):
        self.assertEqual(self.tool("-a", "version").stdout.strip(),
                         "Application version 5.4.3 found.")
        st = self.tool("-a", "status").stdout
        self.assertIn("Version:\t5.4.3", st)
        self.assertIn("Serial Number:\t16000001", st)
        self.assertIn("PIN tries left:\t3", st)
        self.assertIn("CHUID:\tNo data available", st)

    def test_pin_verify_change_block_unblock(self):
        p = self.tool("-a", "verify-pin", "-P", "123456")
        self.assertIn("Successfully verified PIN", p.stdout + p.stderr)
        p = self.tool("-a", "verify-pin", "-P", "111111", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("2 tries left", p.stdout + p.stderr)
        self.assertIn("PIN tries left:\t2",
                      self.tool("-a", "status").stdout)
        self.tool("-a", "change-pin", "-P", "123456", "-N", "24681357")
        self.assertIn("PIN tries left:\t3",
                      self.tool("-a", "status").stdout)
        p = self.tool("-a", "verify-pin", "-P", "123456", check=False)
        self.assertNotEqual(p.returncode, 0)
        for _ in range(2):
            self.tool("-a", "verify-pin", "-P", "000000", check=False)
        p = self.tool("-a", "verify-pin", "-P", "24681357", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("blocked", (p.stdout + p.stderr).lower())
        p = self.tool("-a", "unblock-pin", "-P", "87654321", "-N", "111222",
                      check=False)
        self.assertNotEqual(p.returncode, 0)
        self.tool("-a", "unblock-pin", "-P", "12345678", "-N", "111222")
        self.tool("-a", "verify-pin", "-P", "111222")
        self.tool("-a", "change-puk", "-P", "12345678", "-N", "99998888")
        p = self.tool("-a", "change-puk", "-P", "12345678", "-N", "1",
                      check=False)
        self.assertNotEqual(p.returncode, 0)

    def _pub(self, pem):
        return self.openssl("pkey", "-pubin", "-in", pem, "-text",
                            "-noout").stdout

    def test_generate_ec_rsa_and_attest(self):
        self.tool("-a", "generate", "-s", "9a", "-A", "ECCP256",
                  "--pin-policy=once", "--touch-policy=cached",
                  "-o", self.path("ec.pem"))
        self.tool("-a", "generate", "-s", "9c", "-A", "RSA2048",
                  "-o", self.path("rsa.pem"))
        ec = self._pub(self.path("ec.pem"))
        self.assertIn("Public-Key: (256 bit)", ec)
        self.assertIn("NIST CURVE: P-256", ec)
        rsa = self._pub(self.path("rsa.pem"))
        self.assertIn("Public-Key: (2048 bit)", rsa)
        self.assertIn("Exponent: 65537", rsa)
        # RSA-2048 GENERATE needs 61xx + GET RESPONSE (270-byte reply).
        self.assertGreater(self.piv.stats()["ins"].get("c0", 0), 0)

        self.tool("-a", "attest", "-s", "9a", "-o", self.path("att.pem"))
        self.tool("-a", "read-certificate", "-s", "f9",
                  "-o", self.path("f9.pem"))
        v = self.openssl("verify", "-CAfile", self.piv.ca, "-untrusted",
                         self.path("f9.pem"), self.path("att.pem"))
        self.assertIn(": OK", v.stdout)
        # The attested key is the generated one.
        self.assertEqual(
            self.openssl("x509", "-in", self.path("att.pem"), "-noout",
                         "-pubkey").stdout,
            self.openssl("pkey", "-pubin", "-in", self.path("ec.pem")).stdout)
        ext = extensions(self.openssl, self.path("att.pem"))
        self.assertEqual(ext["1.3.6.1.4.1.41482.3.3"], "050403")
        self.assertEqual(ext["1.3.6.1.4.1.41482.3.7"], "0204%08x" % 16000001)
        self.assertEqual(ext["1.3.6.1.4.1.41482.3.8"], "0203")  # once, cached
        self.assertEqual(ext["1.3.6.1.4.1.41482.3.9"], "01")
        subj = self.openssl("x509", "-in", self.path("att.pem"), "-noout",
                            "-subject").stdout
        self.assertIn("YubiKey PIV Attestation 9a", subj)

        self.tool("-a", "attest", "-s", "9c", "-o", self.path("att9c.pem"))
        self.assertEqual(
            extensions(self.openssl, self.path("att9c.pem"))
            ["1.3.6.1.4.1.41482.3.8"], "0301")  # 9c default: always, never
        # A chain to another CA must not verify (the check can fail).
        self.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=x",
                     "-keyout", self.path("x.key"), "-out",
                     self.path("x.pem"))
        v = self.openssl("verify", "-CAfile", self.path("x.pem"),
                         "-untrusted", self.path("f9.pem"),
                         self.path("att.pem"), check=False)
        self.assertNotEqual(v.returncode, 0)

        # Empty slot: no attestation.
        p = self.tool("-a", "attest", "-s", "9d", check=False)
        self.assertNotEqual(p.returncode, 0)

    def test_wrong_management_key(self):
        p = self.tool("--key=" + "0102030405060708" * 2 + "1112131415161718",
                      "-a", "generate", "-s", "9a", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("authentication", (p.stdout + p.stderr).lower())

    def test_import_key_certificate_test_signature(self):
        k, c = self.path("k.pem"), self.path("c.pem")
        self.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:P-256", "-nodes", "-subj",
                     "/CN=pivsim ec", "-days", "30", "-keyout", k, "-out", c)
        self.tool("-a", "import-key", "-s", "9c", "-i", k)
        self.tool("-a", "import-certificate", "-s", "9c", "-i", c)
        p = self.tool("-a", "verify-pin", "-P", "123456", "-a",
                      "test-signature", "-s", "9c", "-i", c)
        self.assertIn("Successful ECDSA verification", p.stdout + p.stderr)
        # Imported keys cannot be attested.
        p = self.tool("-a", "attest", "-s", "9c", check=False)
        self.assertNotEqual(p.returncode, 0)

        rk, rc = self.path("rk.pem"), self.path("rc.pem")
        self.openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes",
                     "-subj", "/CN=pivsim rsa", "-days", "30",
                     "-keyout", rk, "-out", rc)
        self.tool("-a", "import-key", "-s", "9d", "-i", rk)
        # > 255 bytes: PUT DATA goes out chained (CLA 10).
        self.tool("-a", "import-certificate", "-s", "9d", "-i", rc)
        p = self.tool("-a", "verify-pin", "-P", "123456", "-a",
                      "test-signature", "-s", "9d", "-i", rc)
        self.assertIn("Successful RSA verification", p.stdout + p.stderr)
        got = self.tool("-a", "read-certificate", "-s", "9d").stdout
        self.assertEqual(
            self.openssl("x509", "-in", rc, "-outform", "PEM").stdout.strip(),
            got.strip())
        # A certificate that does not match the key fails the test.
        p = self.tool("-a", "verify-pin", "-P", "123456", "-a",
                      "test-signature", "-s", "9d", "-i", c, check=False)
        self.assertNotEqual(p.returncode, 0)


class ToolAdminTest(CardTest):

    NEW = "0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a09080"

    def test_mgm_key_pin_retries_reset(self):
        self.tool("-a", "set-mgm-key", "-n", self.NEW)
        p = self.tool("-a", "set-chuid", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.tool("--key=" + self.NEW, "-a", "set-chuid", "-a", "set-ccc")
        st = self.tool("-a", "status").stdout
        self.assertRegex(st, "CHUID:\t3019d4e7")
        self.assertRegex(st, "CCC:\tf015a000000116")
        # pin-retries needs the PIN too; PIN and PUK go back to defaults.
        self.tool("-a", "change-pin", "-P", "123456", "-N", "55667788")
        p = self.tool("--key=" + self.NEW, "-a", "pin-retries",
                      "--pin-retries=5", "--puk-retries=4", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.tool("--key=" + self.NEW, "-P", "55667788", "-a", "verify-pin",
                  "-a", "pin-retries", "--pin-retries=5", "--puk-retries=4")
        self.assertIn("PIN tries left:\t5",
                      self.tool("-a", "status").stdout)
        # reset only with PIN and PUK blocked
        p = self.tool("-a", "reset", check=False)
        self.assertNotEqual(p.returncode, 0)
        for _ in range(5):
            self.tool("-a", "verify-pin", "-P", "000000", check=False)
        for _ in range(4):
            self.tool("-a", "unblock-pin", "-P", "00000000", "-N", "000000",
                      check=False)
        self.tool("-a", "reset")
        st = self.tool("-a", "status").stdout
        self.assertIn("PIN tries left:\t3", st)
        self.assertIn("CHUID:\tNo data available", st)
        self.tool("-a", "set-chuid")                # default key again

    def test_decipher_ecdh_rsa_delete_certificate(self):
        k, c = self.path("k.pem"), self.path("c.pem")
        self.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:P-384", "-nodes", "-subj",
                     "/CN=ecdh", "-keyout", k, "-out", c)
        self.tool("-a", "import-key", "-s", "9d", "-i", k)
        self.tool("-a", "import-certificate", "-s", "9d", "-i", c)
        p = self.tool("-a", "verify-pin", "-P", "123456", "-a",
                      "test-decipher", "-s", "9d", "-i", c)
        self.assertIn("Successfully performed ECDH exchange",
                      p.stdout + p.stderr)
        rk, rc = self.path("rk.pem"), self.path("rc.pem")
        self.openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes",
                     "-subj", "/CN=dec", "-keyout", rk, "-out", rc)
        self.tool("-a", "import-key", "-s", "82", "-i", rk)
        self.tool("-a", "import-certificate", "-s", "82", "-i", rc)
        p = self.tool("-a", "verify-pin", "-P", "123456", "-a",
                      "test-decipher", "-s", "82", "-i", rc)
        self.assertIn("Successfully performed RSA decryption",
                      p.stdout + p.stderr)
        self.tool("-a", "delete-certificate", "-s", "82")
        p = self.tool("-a", "read-certificate", "-s", "82", check=False)
        self.assertNotEqual(p.returncode, 0)


class Tool57Test(CardTest):
    profile = "5.7"

    def test_version_and_aes_default_key(self):
        self.assertIn("5.7.2", self.tool("-a", "version").stdout)
        # libykpiv 2.2 speaks only 3DES: the AES-192 factory key fails.
        p = self.tool("-a", "generate", "-s", "9a", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("authentication", (p.stdout + p.stderr).lower())
        self.assertEqual(self.piv.stats()["ins"].get("47", 0), 0)


if __name__ == "__main__":
    pivtest.main()
