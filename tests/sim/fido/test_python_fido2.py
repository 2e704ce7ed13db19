#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""fidosim against Debian's python3-fido2 (0.9.1), unmodified, over UDP.

usage: test_python_fido2.py PATH/TO/fidosim [unittest args]

Every test starts its own token (free port, temp state) and kills it at
the end.  Signatures and attestation are verified here with `cryptography`.
"""

import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cryptography import x509  # noqa: E402
from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: E402
    Ed25519PublicKey)
from fido2.attestation.base import verify_x509_chain  # noqa: E402
from fido2.attestation.packed import PackedAttestation  # noqa: E402
from fido2.ctap import CtapError  # noqa: E402
from fido2.ctap2 import ClientPin, CredentialManagement, Ctap2  # noqa: E402
from fido2.ctap2.pin import PinProtocolV1, PinProtocolV2  # noqa: E402
from fido2.hid import STATUS  # noqa: E402

from simtoken import SimToken  # noqa: E402

FIDOSIM = None
CA = None  # AttestationCA, made once per run

AAGUID_54 = bytes.fromhex("ee882879721c491397753dfcce97072a")
AAGUID_57 = bytes.fromhex("19083c3d83834b18bc038f1c9ab2fd1b")
AAGUID_51 = bytes.fromhex("cb69481e8ff7403993ec0a2729a154a8")

ED, ES = -8, -7
PERM = ClientPin.PERMISSION


class AttestationCA:
    """A test CA and an attestation certificate made with the openssl CLI."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="fidosim-ca-")
        d = self.dir

        def run(*args):
            subprocess.run(["openssl"] + list(args), check=True,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, cwd=d)
        ecp = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
               "-nodes"]
        run("req", "-x509", *ecp, "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "2", "-subj", "/CN=fidosim test CA",
            "-addext", "basicConstraints=critical,CA:TRUE")
        run("req", "-new", *ecp, "-keyout", "att.key", "-out", "att.csr",
            "-subj", "/C=SE/O=ykssh tests/OU=Authenticator Attestation/"
            "CN=fidosim attestation")
        with open(os.path.join(d, "ext.cnf"), "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\n"
                    "1.3.6.1.4.1.45724.1.1.4=DER:0410%s\n" % AAGUID_54.hex())
        run("x509", "-req", "-in", "att.csr", "-CA", "ca.pem", "-CAkey",
            "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf",
            "-out", "att.pem")
        # A second, unrelated CA: the chain check must reject it.
        run("req", "-x509", *ecp, "-keyout", "other.key", "-out",
            "other.pem", "-days", "2", "-subj", "/CN=unrelated CA")
        self.ca_der = self._der("ca.pem")
        self.other_der = self._der("other.pem")
        self.args = ["--attestation-cert", os.path.join(d, "att.pem"),
                     "--attestation-key", os.path.join(d, "att.key")]

    def _der(self, name):
        with open(os.path.join(self.dir, name), "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        from cryptography.hazmat.primitives.serialization import Encoding
        return cert.public_bytes(Encoding.DER)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def cdh():
    return os.urandom(32)


def cose_verify(cose, sig, data):
    """Verifies a signature with a COSE public key, using cryptography."""
    if cose[3] == ED:
        Ed25519PublicKey.from_public_bytes(cose[-2]).verify(sig, data)
    elif cose[3] == ES:
        nums = ec.EllipticCurvePublicNumbers(
            int.from_bytes(cose[-2], "big"), int.from_bytes(cose[-3], "big"),
            ec.SECP256R1())
        nums.public_key().verify(sig, data, ec.ECDSA(hashes.SHA256()))
    else:
        raise AssertionError("unknown alg %r" % cose[3])


def user(uid, name=None):
    u = {"id": uid}
    if name:
        u["name"] = name
        u["displayName"] = name.title()
    return u


class TokenCase(unittest.TestCase):
    token_args = ()

    def setUp(self):
        self.tok = SimToken(FIDOSIM, args=self.token_args)
        self.addCleanup(self.tok.cleanup)
        # The simulator's own default: self attestation, unless a test
        # passes --attestation-cert (SimToken would add the test root's).
        self.tok.attestation = None
        self.tok.start()
        self.addCleanup(self.check_clean_exit)
        self.ctap = Ctap2(self.tok.open_device())

    def check_clean_exit(self):
        self.assertEqual(self.tok.stop(), 0, "fidosim did not quit cleanly")

    def ctap_fresh(self):
        self.ctap = Ctap2(self.tok.open_device())
        return self.ctap

    def assertCtapError(self, code, fn, *args, **kw):
        with self.assertRaises(CtapError) as cm:
            fn(*args, **kw)
        self.assertEqual(int(cm.exception.code), code,
                         "expected 0x%02x, got 0x%02x" %
                         (code, int(cm.exception.code)))

    def make(self, rp="example.com", uid=b"user-1", alg=ED, rk=False,
             ext=None, pin_token=None, proto=None, exclude=None, name=None):
        h = cdh()
        kw = {}
        if pin_token is not None:
            kw["pin_uv_param"] = proto.authenticate(pin_token, h)
            kw["pin_uv_protocol"] = proto.VERSION
        att = self.ctap.make_credential(
            h, {"id": rp}, user(uid, name),
            [{"type": "public-key", "alg": alg}],
            exclude_list=exclude, extensions=ext,
            options={"rk": True} if rk else None, **kw)
        return h, att

    def set_pin(self, pin="1234", proto=None):
        cp = ClientPin(self.ctap, proto or PinProtocolV2())
        cp.set_pin(pin)
        return cp

    def token(self, cp, pin="1234", perms=PERM.MAKE_CREDENTIAL |
              PERM.GET_ASSERTION, rp="example.com"):
        return cp.get_pin_token(pin, perms, rp)


class InfoTest(TokenCase):
    def test_get_info_yubikey5_shape(self):
        info = self.ctap.info
        self.assertEqual(info.versions, ["FIDO_2_0", "FIDO_2_1_PRE",
                                         "FIDO_2_1"])
        self.assertEqual(info.extensions, ["credProtect"])
        self.assertEqual(info.aaguid, AAGUID_54)
        self.assertEqual(info.options, {
            "rk": True, "up": True, "plat": False, "clientPin": False,
            "credMgmt": True, "credentialMgmtPreview": True,
            "pinUvAuthToken": True})
        self.assertNotIn("uv", info.options)
        self.assertEqual(info.algorithms, [
            {"alg": ES, "type": "public-key"},
            {"alg": ED, "type": "public-key"}])
        self.assertEqual(info.pin_uv_protocols, [2, 1])
        self.assertEqual(info.max_msg_size, 1200)
        self.assertEqual(info.firmware_version, 0x050403)
        self.assertEqual(info.remaining_disc_creds, 25)
        dev = self.ctap.device
        self.assertEqual(dev.device_version, (5, 4, 3))
        self.assertEqual(dev.capabilities, 0x0D)  # WINK|CBOR|NMSG
        self.assertEqual(dev.ping(b"p" * 300), b"p" * 300)
        dev.wink()


class InfoVariantTest(TokenCase):
    token_args = ("--no-eddsa", "--rk-capacity", "100")

    def test_no_eddsa_and_capacity(self):
        info = self.ctap.info
        self.assertEqual(info.algorithms, [{"alg": ES, "type": "public-key"}])
        self.assertEqual(info.remaining_disc_creds, 100)
        self.assertEqual(info.aaguid, AAGUID_51)
        self.assertCtapError(0x26, self.make, alg=ED)
        self.make(alg=ES)


class UvNotRqdTest(TokenCase):
    token_args = ("--make-cred-uv-not-rqd",)

    def test_make_cred_uv_not_rqd(self):
        self.assertTrue(self.ctap.info.options["makeCredUvNotRqd"])
        self.set_pin()
        _, att = self.make(rk=False)
        self.assertEqual(att.auth_data.flags & 0x45, 0x41)  # UP|AT, no UV
        self.assertCtapError(0x36, self.make, rk=True)


class Ctap21PreTest(TokenCase):
    """YubiKey 5.2-5.6 style: FIDO_2_1_PRE, getPinToken, preview credman."""
    token_args = ("--ctap21-pre",)

    def test_ctap21_pre_profile(self):
        info = self.ctap.info
        self.assertEqual(info.versions, ["FIDO_2_0", "FIDO_2_1_PRE"])
        self.assertEqual(info.options, {
            "rk": True, "up": True, "plat": False, "clientPin": False,
            "credentialMgmtPreview": True})
        self.assertEqual(info.pin_uv_protocols, [1])
        self.assertIsNone(info.firmware_version)
        self.assertIsNone(info.remaining_disc_creds)
        self.assertCtapError(0x01, self.ctap.send_cbor, 0x0A, {1: 1})
        cp = ClientPin(self.ctap)
        self.assertEqual(cp.protocol.VERSION, 1)
        cp.set_pin("1234")
        self.assertCtapError(0x02, ClientPin(
            self.ctap, PinProtocolV2()).get_pin_retries)
        ka, shared = cp._get_shared_secret()
        self.assertCtapError(
            0x3E, self.ctap.client_pin, 1, 0x09, key_agreement=ka,
            pin_hash_enc=cp.protocol.encrypt(
                shared, hashlib.sha256(b"1234").digest()[:16]),
            permissions=1, permissions_rpid="example.com")
        # getPinToken (0x05): one token per power-up, for every command.
        t = cp.get_pin_token("1234")
        self.assertEqual(cp.get_pin_token("1234"), t)
        _, att = self.make(rk=True, pin_token=t, proto=cp.protocol)
        self.assertEqual(att.auth_data.flags & 0x05, 0x05)
        self.make(rp="other.example", uid=b"u2", rk=True, pin_token=t,
                  proto=cp.protocol)
        cm = CredentialManagement(self.ctap, cp.protocol, t)  # 0x41
        self.assertEqual(cm.get_metadata(), {1: 2, 2: 23})
        creds = cm.enumerate_creds(hashlib.sha256(b"example.com").digest())
        self.assertEqual(creds[0][7]["id"],
                         att.auth_data.credential_data.credential_id)
        cm.delete_cred(creds[0][7])
        self.assertEqual(cm.get_metadata()[1], 1)
        self.assertEqual(self.tok.stats()["ctap"]["credentialManagement"],
                         5)
        self.tok.control("powercycle")
        self.assertCtapError(0x33, self.make, pin_token=t, proto=cp.protocol)
        self.assertNotEqual(cp.get_pin_token("1234"), t)


class AttestedTest(TokenCase):
    @property
    def token_args(self):
        return CA.args

    def check_attestation(self, h, att, alg):
        self.assertEqual(att.fmt, "packed")
        st = att.att_statement
        self.assertEqual(st["alg"], ES)
        self.assertEqual(len(st["x5c"]), 1)
        PackedAttestation().verify(st, att.auth_data, h)
        verify_x509_chain(st["x5c"] + [CA.ca_der])
        with self.assertRaises(Exception):
            verify_x509_chain(st["x5c"] + [CA.other_der])
        # The signature check is real: a changed clientDataHash fails.
        with self.assertRaises(Exception):
            PackedAttestation().verify(st, att.auth_data, cdh())
        cert = x509.load_der_x509_certificate(st["x5c"][0])
        cert.public_key().verify(st["sig"], att.auth_data + h,
                                 ec.ECDSA(hashes.SHA256()))
        cd = att.auth_data.credential_data
        self.assertEqual(cd.aaguid, AAGUID_54)
        self.assertEqual(cd.public_key[3], alg)
        self.assertEqual(att.auth_data.flags & 0x41, 0x41)  # UP|AT

    def test_make_credential_and_assert(self):
        counter = 0
        for alg in (ED, ES):
            for rk in (False, True):
                with self.subTest(alg=alg, rk=rk):
                    rp = "rp%d%d.example" % (-alg, rk)
                    h, att = self.make(rp=rp, alg=alg, rk=rk)
                    self.check_attestation(h, att, alg)
                    ad = att.auth_data
                    self.assertGreater(ad.counter, counter)
                    counter = ad.counter
                    self.assertFalse(ad.flags & 0x80)  # no extensions
                    self.assertEqual(ad.rp_id_hash,
                                     hashlib.sha256(rp.encode()).digest())
                    cid = ad.credential_data.credential_id
                    self.assertEqual(len(cid), 16 if rk else 63)
                    cose = ad.credential_data.public_key
                    allow = None if rk else [{"type": "public-key",
                                              "id": cid}]
                    h2 = cdh()
                    a = self.ctap.get_assertion(rp, h2, allow_list=allow)
                    self.assertEqual(a.credential["id"], cid)
                    self.assertEqual(len(a.auth_data), 37)
                    self.assertEqual(a.auth_data.flags, 0x01)
                    self.assertGreater(a.auth_data.counter, counter)
                    counter = a.auth_data.counter
                    if alg == ED:
                        self.assertEqual(len(a.signature), 64)
                    else:
                        self.assertEqual(a.signature[0], 0x30)  # DER
                    cose_verify(cose, a.signature, a.auth_data + h2)
                    with self.assertRaises(InvalidSignature):
                        cose_verify(cose, a.signature, a.auth_data + cdh())
                    if rk:
                        self.assertEqual(a.user, {"id": b"user-1"})
                    else:
                        self.assertIsNone(a.user)
                    # Another RP cannot use the credential.
                    self.assertCtapError(
                        0x2E, self.ctap.get_assertion, "other.example",
                        cdh(), allow_list=[{"type": "public-key",
                                            "id": cid}])


class CredentialTest(TokenCase):
    def test_self_attestation(self):
        for alg in (ED, ES):
            h, att = self.make(alg=alg)
            self.assertEqual(att.fmt, "packed")
            self.assertNotIn("x5c", att.att_statement)
            self.assertEqual(att.att_statement["alg"], alg)
            PackedAttestation().verify(att.att_statement, att.auth_data, h)
            cose_verify(att.auth_data.credential_data.public_key,
                        att.att_statement["sig"], att.auth_data + h)

    def test_up_false_and_options(self):
        _, att = self.make()
        cid = att.auth_data.credential_data.credential_id
        allow = [{"type": "public-key", "id": cid}]
        before = self.tok.stats()["touches"]
        a = self.ctap.get_assertion("example.com", cdh(), allow_list=allow,
                                    options={"up": False})
        self.assertEqual(a.auth_data.flags, 0x00)
        self.assertEqual(self.tok.stats()["touches"], before)
        self.assertCtapError(0x2C, self.ctap.get_assertion, "example.com",
                             cdh(), allow_list=allow, options={"uv": True})
        self.assertCtapError(0x2B, self.ctap.get_assertion, "example.com",
                             cdh(), allow_list=allow, options={"rk": True})
        self.assertCtapError(0x2C, self.ctap.make_credential, cdh(),
                             {"id": "x"}, user(b"u"),
                             [{"type": "public-key", "alg": ED}],
                             options={"uv": True})
        self.assertCtapError(0x14, self.ctap.make_credential, cdh(),
                             {"id": "x"}, None,
                             [{"type": "public-key", "alg": ED}])
        self.assertCtapError(0x26, self.ctap.make_credential, cdh(),
                             {"id": "x"}, user(b"u"),
                             [{"type": "public-key", "alg": -257}])
        self.assertCtapError(0x2E, self.ctap.get_assertion, "nobody.example",
                             cdh())

    def test_discovery_newest_first_and_next(self):
        ids = []
        for i in range(3):
            _, att = self.make(uid=b"u%d" % i, rk=True, alg=(ED, ES)[i % 2])
            ids.append(att.auth_data.credential_data.credential_id)
        self.make(rp="other.example", uid=b"x", rk=True)
        a = self.ctap.get_assertion("example.com", cdh())
        self.assertEqual(a.number_of_credentials, 3)
        self.assertEqual(a.credential["id"], ids[2])
        n1 = self.ctap.get_next_assertion()
        n2 = self.ctap.get_next_assertion()
        self.assertEqual([n1.credential["id"], n2.credential["id"]],
                         [ids[1], ids[0]])
        self.assertIsNone(n1.number_of_credentials)
        self.assertEqual(n2.user, {"id": b"u0"})
        self.assertCtapError(0x30, self.ctap.get_next_assertion)
        # Any other command ends the enumeration.
        self.ctap.get_assertion("example.com", cdh())
        self.ctap.get_info()
        self.assertCtapError(0x30, self.ctap.get_next_assertion)

    def test_rk_overwrite_same_user(self):
        _, a1 = self.make(uid=b"same", rk=True)
        _, a2 = self.make(uid=b"same", rk=True)
        self.make(uid=b"other", rk=True)
        self.assertEqual(self.ctap.get_info().remaining_disc_creds, 23)
        a = self.ctap.get_assertion("example.com", cdh())
        self.assertEqual(a.number_of_credentials, 2)
        old = a1.auth_data.credential_data.credential_id
        self.assertCtapError(0x2E, self.ctap.get_assertion, "example.com",
                             cdh(), allow_list=[{"type": "public-key",
                                                 "id": old}])
        new = a2.auth_data.credential_data.credential_id
        self.ctap.get_assertion("example.com", cdh(), allow_list=[
            {"type": "public-key", "id": new}])

    def test_exclude_list(self):
        _, att = self.make()
        cid = att.auth_data.credential_data.credential_id
        self.assertCtapError(0x19, self.make, exclude=[
            {"type": "public-key", "id": cid}])
        # 0x19 whatever the touch gives (CTAP 2.1 §6.1.2 step 12).
        self.tok.control("up deny")
        self.assertCtapError(0x19, self.make, exclude=[
            {"type": "public-key", "id": cid}])
        self.tok.control("up approve")
        # Unknown ids and other RPs' ids do not exclude.
        self.make(exclude=[{"type": "public-key", "id": b"\x01" * 63}])
        self.make(rp="other.example", exclude=[
            {"type": "public-key", "id": cid}])

    def test_cred_protect(self):
        got = {}
        for level in (1, 2, 3):
            _, att = self.make(uid=b"cp%d" % level, rk=True,
                               ext={"credProtect": level},
                               name="cp%d" % level)
            self.assertEqual(att.auth_data.extensions,
                             {"credProtect": level})
            self.assertTrue(att.auth_data.flags & 0x80)
            got[level] = att.auth_data.credential_data.credential_id
        # Discovery without UV shows only level 1, without user details.
        a = self.ctap.get_assertion("example.com", cdh())
        self.assertIsNone(a.number_of_credentials)
        self.assertEqual(a.credential["id"], got[1])
        self.assertEqual(a.user, {"id": b"cp1"})
        # Level 2 works through an allowList, level 3 never without UV.
        self.ctap.get_assertion("example.com", cdh(), allow_list=[
            {"type": "public-key", "id": got[2]}])
        self.assertCtapError(0x2E, self.ctap.get_assertion, "example.com",
                             cdh(), allow_list=[{"type": "public-key",
                                                 "id": got[3]}])
        # With UV (a PIN token) all three are found.
        cp = self.set_pin()
        proto = cp.protocol
        t = self.token(cp, perms=PERM.GET_ASSERTION)
        h = cdh()
        a = self.ctap.get_assertion(
            "example.com", h, pin_uv_param=proto.authenticate(t, h),
            pin_uv_protocol=proto.VERSION)
        self.assertEqual(a.number_of_credentials, 3)
        self.assertEqual(a.auth_data.flags, 0x05)  # UP|UV
        # UV and several accounts: name and displayName are returned.
        self.assertEqual(a.user, {"id": b"cp3", "name": "cp3",
                                  "displayName": "Cp3"})
        n = self.ctap.get_next_assertion()
        self.assertEqual(n.user["name"], "cp2")
        # Non-resident credProtect 3 needs UV too.
        t = self.token(cp, perms=PERM.MAKE_CREDENTIAL)
        _, att = self.make(uid=b"nr", ext={"credProtect": 3},
                           pin_token=t, proto=proto)
        self.assertEqual(att.auth_data.flags & 0x04, 0x04)
        cid = att.auth_data.credential_data.credential_id
        self.assertCtapError(0x2E, self.ctap.get_assertion, "example.com",
                             cdh(), allow_list=[{"type": "public-key",
                                                 "id": cid}])

    def test_store_full(self):
        for i in range(25):
            self.make(uid=b"user%02d" % i, rk=True)
        self.assertEqual(self.ctap.get_info().remaining_disc_creds, 0)
        self.assertCtapError(0x28, self.make, uid=b"one-too-many", rk=True)
        # Overwriting an existing user still works when full.
        self.make(uid=b"user07", rk=True)
        self.make(uid=b"nonresident", rk=False)

    def test_selection_and_touch_probe(self):
        self.ctap.send_cbor(0x0B)
        # Zero-length pinUvAuthParam: touch, then PIN_NOT_SET / PIN_INVALID
        self.assertCtapError(0x35, self.ctap.make_credential, cdh(),
                             {"id": "localhost"}, user(b"\x01"),
                             [{"type": "public-key", "alg": ES}],
                             pin_uv_param=b"", pin_uv_protocol=2)
        self.set_pin()
        self.assertCtapError(0x31, self.ctap.make_credential, cdh(),
                             {"id": "localhost"}, user(b"\x01"),
                             [{"type": "public-key", "alg": ES}],
                             pin_uv_param=b"", pin_uv_protocol=1)
        self.tok.control("up deny")
        self.assertCtapError(0x27, self.ctap.send_cbor, 0x0B)
        self.assertCtapError(0x27, self.ctap.make_credential, cdh(),
                             {"id": "localhost"}, user(b"\x01"),
                             [{"type": "public-key", "alg": ES}],
                             pin_uv_param=b"", pin_uv_protocol=1)


class PinTest(TokenCase):
    def test_pin_protocols(self):
        for proto_cls in (PinProtocolV1, PinProtocolV2):
            with self.subTest(proto=proto_cls.VERSION):
                self.tok.restart()
                self.ctap_fresh().reset()
                self.ctap_fresh()
                cp = ClientPin(self.ctap, proto_cls())
                self.assertEqual(cp.get_pin_retries()[0], 8)
                self.assertCtapError(0x35, cp.get_pin_token, "1234")
                self.assertCtapError(0x37, cp.set_pin, "x" * 64)
                cp.set_pin("x" * 63)
                self.assertTrue(self.ctap.get_info().options["clientPin"])
                self.assertCtapError(0x33, cp.set_pin, "5678")
                cp.change_pin("x" * 63, "1234")
                # PIN required for makeCredential once set.
                self.assertCtapError(0x36, self.make, rk=True)
                self.assertCtapError(0x36, self.make, rk=False)
                t = self.token(cp)
                h, att = self.make(rk=True, pin_token=t, proto=cp.protocol)
                self.assertEqual(att.auth_data.flags & 0x05, 0x05)
                # The token lost mc/ga after use (CTAP 2.1): as for a
                # missing permission or another RP ID, AUTH_INVALID.
                self.assertCtapError(0x33, self.make, pin_token=t,
                                     proto=cp.protocol)
                t = self.token(cp, rp="example.com")
                self.assertCtapError(0x33, self.make, rp="other.example",
                                     pin_token=t, proto=cp.protocol)
                t = self.token(cp, perms=PERM.CREDENTIAL_MGMT, rp=None)
                self.assertCtapError(0x33, self.make, pin_token=t,
                                     proto=cp.protocol)
                # Permissions the token does not support at all.
                for perm in (PERM.BIO_ENROLL, PERM.LARGE_BLOB_WRITE,
                             PERM.AUTHENTICATOR_CFG):
                    self.assertCtapError(0x40, cp.get_pin_token, "1234",
                                         perm)
                self.assertCtapError(0x02, cp.get_pin_token, "1234", 0)
                self.assertCtapError(0x33, self.make, pin_token=os.urandom(
                    32), proto=cp.protocol)
                # Old PIN gone, new one works; retries restored.
                self.assertCtapError(0x31, cp.get_pin_token, "x" * 63,
                                     PERM.GET_ASSERTION, "example.com")
                self.token(cp)
                self.assertEqual(cp.get_pin_retries()[0], 8)
                self.assertCtapError(0x31, cp.change_pin, "0000", "5678")
                self.assertEqual(cp.get_pin_retries()[0], 7)
                # getPinToken (0x05) still works: mc+ga, no RP binding.
                ka, shared = cp._get_shared_secret()
                r = self.ctap.client_pin(
                    cp.protocol.VERSION, 0x05, key_agreement=ka,
                    pin_hash_enc=cp.protocol.encrypt(
                        shared, hashlib.sha256(b"1234").digest()[:16]))
                t = cp.protocol.decrypt(shared, r[2])
                self.make(rp="any.example", pin_token=t, proto=cp.protocol)
                self.assertEqual(cp.get_pin_retries()[0], 8)

    def test_wrong_pin_sequence(self):
        cp = self.set_pin()

        def wrong():
            return cp.get_pin_token("9999", PERM.GET_ASSERTION, "x")
        retries = lambda: cp.get_pin_retries()[0]  # noqa: E731
        self.assertCtapError(0x31, wrong)
        self.assertCtapError(0x31, wrong)
        self.assertCtapError(0x34, wrong)
        self.assertEqual(cp.get_pin_retries(), (5, True))
        # Blocked until power cycle, and nothing is counted meanwhile.
        self.assertCtapError(0x34, wrong)
        self.assertCtapError(0x34, cp.get_pin_token, "1234",
                             PERM.GET_ASSERTION, "x")
        self.assertEqual(retries(), 5)
        self.tok.control("powercycle")
        self.assertEqual(cp.get_pin_retries(), (5, False))
        self.assertCtapError(0x31, wrong)
        self.assertCtapError(0x31, wrong)
        self.assertCtapError(0x34, wrong)
        self.assertEqual(retries(), 2)
        self.tok.control("powercycle")
        self.assertCtapError(0x31, wrong)
        self.assertEqual(retries(), 1)
        self.assertCtapError(0x32, wrong)
        self.assertEqual(retries(), 0)
        self.assertCtapError(0x32, cp.get_pin_token, "1234",
                             PERM.GET_ASSERTION, "x")
        self.assertCtapError(0x32, cp.change_pin, "1234", "5678")
        # Still blocked after a restart (state file).
        self.tok.restart()
        cp = ClientPin(self.ctap_fresh(), PinProtocolV1())
        self.assertEqual(cp.get_pin_retries()[0], 0)
        self.assertCtapError(0x32, cp.get_pin_token, "1234")
        # Only reset helps.
        self.ctap.reset()
        self.assertEqual(cp.get_pin_retries()[0], 8)
        self.assertFalse(self.ctap.get_info().options["clientPin"])

    def test_correct_pin_resets_consecutive_count(self):
        cp = self.set_pin()
        for _ in range(3):
            self.assertCtapError(0x31, cp.get_pin_token, "0000",
                                 PERM.GET_ASSERTION, "x")
            self.assertCtapError(0x31, cp.get_pin_token, "0000",
                                 PERM.GET_ASSERTION, "x")
            self.token(cp)
        self.assertEqual(cp.get_pin_retries()[0], 8)


class CredmanTest(TokenCase):
    def test_list_and_delete(self):
        cp = self.set_pin()
        proto = cp.protocol
        made = {}
        for rp, uid, alg in (("a.example", b"alice", ED),
                             ("a.example", b"bob", ES),
                             ("b.example", b"carol", ED)):
            t = self.token(cp, rp=rp)
            _, att = self.make(rp=rp, uid=uid, alg=alg, rk=True,
                               pin_token=t, proto=proto, name=uid.decode(),
                               ext={"credProtect": 2})
            made[uid] = att.auth_data.credential_data
        t = self.token(cp, perms=PERM.CREDENTIAL_MGMT, rp=None)
        cm = CredentialManagement(self.ctap, proto, t)
        md = cm.get_metadata()
        self.assertEqual((md[1], md[2]), (3, 22))
        rps = cm.enumerate_rps()
        self.assertEqual(sorted(r[3]["id"] for r in rps),
                         ["a.example", "b.example"])
        self.assertEqual(rps[0][5], 2)
        h = hashlib.sha256(b"a.example").digest()
        creds = cm.enumerate_creds(h)
        self.assertEqual(len(creds), 2)
        by_user = {c[6]["id"]: c for c in creds}
        self.assertEqual(by_user[b"bob"][6]["name"], "bob")
        self.assertEqual(by_user[b"bob"][7]["id"], made[b"bob"].credential_id)
        self.assertEqual(by_user[b"bob"][8], made[b"bob"].public_key)
        self.assertEqual(by_user[b"alice"][10], 2)
        self.assertEqual(creds[0][9], 2)
        cm.update_user_info(by_user[b"bob"][7],
                            {"id": b"bob", "name": "robert"})
        creds = cm.enumerate_creds(h)
        self.assertIn("robert", [c[6].get("name") for c in creds])
        cm.delete_cred(by_user[b"alice"][7])
        self.assertEqual(cm.get_metadata()[1], 2)
        self.assertEqual(len(cm.enumerate_creds(h)), 1)
        self.assertCtapError(0x2E, cm.delete_cred, by_user[b"alice"][7])
        self.assertCtapError(0x2E, self.ctap.get_assertion, "a.example",
                             cdh(), allow_list=[by_user[b"alice"][7]])
        # NEXT out of sequence; no auth; wrong MAC; missing permission.
        self.assertCtapError(0x30, cm.enumerate_rps_next)
        self.assertCtapError(0x36, self.ctap.credential_mgmt, 0x01)
        bad = CredentialManagement(self.ctap, proto, os.urandom(32))
        self.assertCtapError(0x33, bad.get_metadata)
        t = self.token(cp)
        self.assertCtapError(0x33, CredentialManagement(
            self.ctap, proto, t).get_metadata)
        # cm token bound to an RP: only that RP's credentials.
        t = self.token(cp, perms=PERM.CREDENTIAL_MGMT, rp="b.example")
        bound = CredentialManagement(self.ctap, proto, t)
        self.assertCtapError(0x33, bound.get_metadata)
        self.assertCtapError(0x33, bound.enumerate_creds_begin, h)
        self.assertEqual(len(bound.enumerate_creds(hashlib.sha256(
            b"b.example").digest())), 1)
        # The preview command 0x41 answers the same way.
        t = self.token(cp, perms=PERM.CREDENTIAL_MGMT, rp=None)
        msg = b"\x01"
        r = self.ctap.send_cbor(0x41, {1: 1, 3: proto.VERSION,
                                       4: proto.authenticate(t, msg)})
        self.assertEqual(r, {1: 2, 2: 23})
        cm = CredentialManagement(self.ctap, proto, t)
        for rp in cm.enumerate_rps():
            for c in cm.enumerate_creds(rp[4]):
                cm.delete_cred(c[7])
        self.assertCtapError(0x2E, cm.enumerate_rps_begin)
        self.assertEqual(cm.get_metadata(), {1: 0, 2: 25})


class PresenceTest(TokenCase):
    token_args = ("--up-timeout", "600")

    def test_denied_touch(self):
        self.tok.control("up deny")
        self.assertCtapError(0x27, self.make)
        self.tok.control("up approve")
        self.make()

    def test_touch_timeout(self):
        self.tok.control("up never")
        t0 = time.monotonic()
        self.assertCtapError(0x2F, self.make)
        self.assertLess(time.monotonic() - t0, 5.0)
        self.assertCtapError(0x2F, self.ctap.send_cbor, 0x0B)

    def test_keepalive_while_delayed(self):
        self.tok.control("up-timeout 30000")
        self.tok.control("up delay 450")
        seen = []
        h = cdh()
        att = self.ctap.make_credential(
            h, {"id": "example.com"}, user(b"u"),
            [{"type": "public-key", "alg": ED}], on_keepalive=seen.append)
        self.assertEqual(seen, [STATUS.UPNEEDED])
        self.assertGreaterEqual(self.tok.stats()["keepalives"], 3)
        PackedAttestation().verify(att.att_statement, att.auth_data, h)

    def test_touch_while_waiting(self):
        self.tok.control("up-timeout 30000")
        self.tok.control("up never")
        timer = threading.Timer(0.3, self.tok.control, ("up approve",))
        timer.start()
        try:
            t0 = time.monotonic()
            h, att = self.make()
            self.assertLess(time.monotonic() - t0, 10.0)
        finally:
            timer.cancel()
        PackedAttestation().verify(att.att_statement, att.auth_data, h)
        self.tok.control("up never")
        timer = threading.Timer(0.3, self.tok.control, ("up deny",))
        timer.start()
        try:
            self.assertCtapError(0x27, self.make)
        finally:
            timer.cancel()

    def test_cancel(self):
        self.tok.control("up-timeout 30000")
        self.tok.control("up never")
        ev = threading.Event()
        timer = threading.Timer(0.3, ev.set)
        timer.start()
        try:
            t0 = time.monotonic()
            self.assertCtapError(0x2D, self.ctap.make_credential, cdh(),
                                 {"id": "example.com"}, user(b"u"),
                                 [{"type": "public-key", "alg": ED}],
                                 event=ev)
            self.assertLess(time.monotonic() - t0, 10.0)
        finally:
            timer.cancel()
        # The token is free again.
        self.tok.control("up approve")
        self.make()


class StateTest(TokenCase):
    def test_restart_keeps_state(self):
        _, nr = self.make(rk=False)
        _, res = self.make(uid=b"kept", rk=True, alg=ES)
        cp = self.set_pin()
        self.assertCtapError(0x31, cp.get_pin_token, "0000",
                             PERM.GET_ASSERTION, "x")
        a = self.ctap.get_assertion("example.com", cdh())
        counter = a.auth_data.counter
        self.tok.restart()
        self.ctap_fresh()
        info = self.ctap.info
        self.assertTrue(info.options["clientPin"])
        self.assertEqual(info.remaining_disc_creds, 24)
        cp = ClientPin(self.ctap)
        self.assertEqual(cp.get_pin_retries()[0], 7)
        # Resident credential, signature counter, wrapped id survive.
        h = cdh()
        a = self.ctap.get_assertion("example.com", h)
        self.assertEqual(a.user, {"id": b"kept"})
        self.assertGreater(a.auth_data.counter, counter)
        cose_verify(res.auth_data.credential_data.public_key, a.signature,
                    a.auth_data + h)
        h = cdh()
        a = self.ctap.get_assertion("example.com", h, allow_list=[
            {"type": "public-key",
             "id": nr.auth_data.credential_data.credential_id}])
        cose_verify(nr.auth_data.credential_data.public_key, a.signature,
                    a.auth_data + h)
        self.assertEqual(os.stat(self.tok.state).st_mode & 0o777, 0o600)
        self.assertFalse(os.path.exists(self.tok.state + ".tmp"))

    def test_bad_state_file_refused(self):
        self.assertEqual(self.tok.stop(), 0)
        with open(self.tok.state, "r+b") as f:
            data = f.read()
            f.seek(0)
            f.write(data[:len(data) // 2])
            f.truncate()
        with self.assertRaises(RuntimeError):
            self.tok.start()
        self.tok.kill()
        os.unlink(self.tok.state)
        self.tok.start()  # a missing file makes a new token
        self.assertEqual(Ctap2(self.tok.open_device()).info.aaguid,
                         AAGUID_54)

    def test_reset_window(self):
        _, nr = self.make()
        self.make(uid=b"r", rk=True)
        self.tok.control("up deny")
        self.assertCtapError(0x27, self.ctap.reset)
        self.tok.control("up approve")
        self.ctap.reset()
        # Old credentials are gone, wrapped ids included.
        self.assertCtapError(0x2E, self.ctap.get_assertion, "example.com",
                             cdh())
        self.assertCtapError(0x2E, self.ctap.get_assertion, "example.com",
                             cdh(), allow_list=[{
                                 "type": "public-key",
                                 "id": nr.auth_data.credential_data
                                 .credential_id}])
        # More than 10 s after power-up: NOT_ALLOWED.
        time.sleep(10.3)
        self.assertCtapError(0x30, self.ctap.reset)
        self.tok.control("powercycle")
        self.ctap.reset()


class FaultTest(TokenCase):
    def test_faults_and_stats(self):
        dev = self.ctap.device
        self.tok.control("fault corrupt-next")
        self.assertNotEqual(dev.ping(b"abcd"), b"abcd")
        self.assertEqual(dev.ping(b"abcd"), b"abcd")
        self.tok.control("fault bad-cbor-next")
        with self.assertRaises(Exception) as cm:
            self.ctap.get_info()
        self.assertNotIsInstance(cm.exception, CtapError)
        self.ctap.get_info()
        st = self.tok.stats()
        self.assertEqual(st["ctap"]["getInfo"], 3)
        self.assertEqual(st["ctap"]["makeCredential"], 0)
        self.make()
        self.assertEqual(self.tok.stats()["ctap"]["makeCredential"], 1)
        self.assertEqual(self.tok.stats()["touches"], 1)
        # Unplugged: the token stops answering after N more reports.
        short = self.tok.open_device(timeout=0.5)
        self.tok.control("fault drop-after 1")
        short.ping(b"x")
        with self.assertRaises(OSError):
            short.ping(b"y")
        self.tok.control("powercycle")
        self.assertEqual(short.ping(b"z"), b"z")

    def test_bad_control_command(self):
        with self.assertRaises(RuntimeError):
            self.tok.control("up sideways")
        self.tok.control("ping")


def main():
    global FIDOSIM, CA
    if len(sys.argv) < 2:
        sys.exit("usage: test_python_fido2.py FIDOSIM [unittest args]")
    FIDOSIM = sys.argv.pop(1)
    CA = AttestationCA()
    try:
        unittest.main(verbosity=2)
    finally:
        CA.cleanup()


if __name__ == "__main__":
    main()
