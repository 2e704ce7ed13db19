# SPDX-License-Identifier: BSD-2-Clause
"""OpenSSH public key parsing shared by the Bitbucket emulator pieces.

An authorized_keys line "<type> <base64> [comment]" is decoded and its
wire blob walked (RFC 4253 6.6, RFC 5656 3.1, RFC 8709 4, OpenSSH
PROTOCOL.u2f) so that a malformed key is refused the way a server that
parses keys refuses it.  Fingerprints are SHA-256 over the blob, base64
without padding and without the "SHA256:" prefix, as both Bitbucket
products print them.
"""

import base64
import binascii
import hashlib
import struct


class KeyError_(ValueError):
    """The key text is not an acceptable OpenSSH public key."""


SK_TYPES = ("sk-ssh-ed25519@openssh.com",
            "sk-ecdsa-sha2-nistp256@openssh.com")

_CURVES = {"nistp256": 256, "nistp384": 384, "nistp521": 521}


def _string(blob, off):
    if off + 4 > len(blob):
        raise KeyError_("truncated key blob")
    (n,) = struct.unpack(">I", blob[off:off + 4])
    if off + 4 + n > len(blob):
        raise KeyError_("truncated key blob")
    return blob[off + 4:off + 4 + n], off + 4 + n


def _mpint_bits(b):
    b = b.lstrip(b"\0")
    if not b:
        return 0
    return (len(b) - 1) * 8 + b[0].bit_length()


class PublicKey:
    """A parsed public key: type, blob, comment, algorithm and bits."""

    def __init__(self, ktype, blob, comment):
        self.type = ktype
        self.blob = blob
        self.comment = comment
        self.algorithm = None   # "RSA", "DSA", "ECDSA", "ED25519", "*-SK"
        self.bits = None
        self.sk = ktype in SK_TYPES

    @property
    def b64(self):
        return base64.b64encode(self.blob).decode()

    @property
    def text(self):
        """type and base64 (no comment)."""
        return "%s %s" % (self.type, self.b64)

    @property
    def fingerprint(self):
        d = hashlib.sha256(self.blob).digest()
        return base64.b64encode(d).decode().rstrip("=")


def parse(line):
    """Parses one authorized_keys-format line without options."""
    if not isinstance(line, str):
        raise KeyError_("key must be a string")
    if "\n" in line.strip() or "\r" in line.strip():
        raise KeyError_("key must be a single line")
    parts = line.strip().split(None, 2)
    if len(parts) < 2:
        raise KeyError_("key is not in OpenSSH authorized_keys format")
    ktype, b64 = parts[0], parts[1]
    comment = parts[2].strip() if len(parts) > 2 else ""
    try:
        blob = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise KeyError_("key data is not valid base64")
    inner, off = _string(blob, 0)
    if inner.decode("latin-1") != ktype:
        raise KeyError_("key type %r does not match the key data" % ktype)
    k = PublicKey(ktype, blob, comment)
    if ktype == "ssh-ed25519":
        pk, off = _string(blob, off)
        if len(pk) != 32:
            raise KeyError_("bad Ed25519 public key length")
        k.algorithm, k.bits = "ED25519", 256
    elif ktype == "sk-ssh-ed25519@openssh.com":
        pk, off = _string(blob, off)
        app, off = _string(blob, off)
        if len(pk) != 32:
            raise KeyError_("bad Ed25519 public key length")
        k.algorithm, k.bits = "ED25519_SK", 256
    elif ktype == "ssh-rsa":
        e, off = _string(blob, off)
        n, off = _string(blob, off)
        k.algorithm, k.bits = "RSA", _mpint_bits(n)
        if _mpint_bits(e) < 2 or k.bits < 512:
            raise KeyError_("bad RSA public key")
    elif ktype == "ssh-dss":
        p, off = _string(blob, off)
        for _ in range(3):
            _, off = _string(blob, off)
        k.algorithm, k.bits = "DSA", _mpint_bits(p)
    elif ktype.startswith("ecdsa-sha2-") or \
            ktype == "sk-ecdsa-sha2-nistp256@openssh.com":
        curve, off = _string(blob, off)
        point, off = _string(blob, off)
        cname = curve.decode("latin-1")
        want = ktype[len("ecdsa-sha2-"):] if not ktype.startswith("sk-") \
            else "nistp256"
        if cname != want or cname not in _CURVES:
            raise KeyError_("bad ECDSA curve %r" % cname)
        bits = _CURVES[cname]
        if len(point) != 1 + 2 * ((bits + 7) // 8) or point[0] != 4:
            raise KeyError_("bad ECDSA public point")
        k.bits = bits
        if ktype.startswith("sk-"):
            app, off = _string(blob, off)
            k.algorithm = "ECDSA_SK"
        else:
            k.algorithm = "ECDSA"
    else:
        raise KeyError_("unsupported key type %r" % ktype)
    if off != len(blob):
        raise KeyError_("trailing data in key blob")
    return k


# Minimum sizes from "Supported SSH key formats" (Bitbucket Cloud):
# Ed25519 256, ECDSA 256, RSA 2048, DSA 1024.
MIN_BITS = {"RSA": 2048, "DSA": 1024, "ECDSA": 256, "ED25519": 256,
            "ED25519_SK": 256, "ECDSA_SK": 256}


def length_ok(k):
    if k.algorithm == "DSA":
        return k.bits == 1024
    return k.bits >= MIN_BITS[k.algorithm]
