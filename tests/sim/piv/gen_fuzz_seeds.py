#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Write the seed corpus of fuzz_piv_apdu (tests/fuzz/corpus/piv_apdu).

Format: flags byte, then <u16 BE length><APDU> records (see the harness).
The harness makes the card's witnesses and challenges all-zero, so the
management-key steps below are the real ones for the default key.
Run: gen_fuzz_seeds.py <corpus dir>
"""

import os
import struct
import subprocess
import sys

P256_G = bytes.fromhex(
    "04"
    "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")
MGM = bytes.fromhex("010203040506070801020304050607080102030405060708")


def apdu(ins, p1=0, p2=0, data=b"", cla=0):
    if not data:
        return bytes([cla, ins, p1, p2, 0])
    return bytes([cla, ins, p1, p2, len(data)]) + data


def chained(ins, p1, p2, data):
    out = []
    while len(data) > 255:
        out.append(apdu(ins, p1, p2, data[:255], cla=0x10))
        data = data[255:]
    out.append(apdu(ins, p1, p2, data))
    return out


def tlv(tag, value):
    n = len(value)
    if n < 0x80:
        h = bytes([n])
    elif n < 0x100:
        h = bytes([0x81, n])
    else:
        h = bytes([0x82, n >> 8, n & 0xff])
    t = tag.to_bytes(2 if tag > 0xff else 1, "big")
    return t + h + value


def ecb(alg, key, block):
    ciph = {0x03: "des-ede3", 0x08: "aes-128-ecb", 0x0a: "aes-192-ecb",
            0x0c: "aes-256-ecb"}[alg]
    return subprocess.run(["openssl", "enc", "-" + ciph, "-K", key.hex(),
                           "-nopad"], input=block, capture_output=True,
                          check=True).stdout


def auth(alg=0x03):
    bs = 8 if alg == 0x03 else 16
    return [apdu(0x87, alg, 0x9b, tlv(0x7c, tlv(0x80, b""))),
            apdu(0x87, alg, 0x9b, tlv(0x7c, tlv(0x80, bytes(bs)) +
                                      tlv(0x81, b"\x11" * bs)))]


def pin(p):
    return p.encode().ljust(8, b"\xff")


def seed(flags, apdus):
    out = bytes([flags])
    for a in apdus:
        out += struct.pack(">H", len(a)) + a
    return out


GR = apdu(0xc0)
SELECT = apdu(0xa4, 4, 0, bytes.fromhex("a000000308"))


def seeds():
    s = {}
    s["connect"] = seed(0, [
        SELECT, apdu(0x20, 0, 0x80), apdu(0xfd), apdu(0xf8),
        apdu(0xa4, 4, 0, bytes.fromhex("a000000527471117")),
        apdu(0x20, 0, 0x80), SELECT,
        apdu(0xf7, 0, 0x80), apdu(0xf7, 0, 0x81), apdu(0xf7, 0, 0x9b),
        apdu(0xf7, 0, 0xf9), apdu(0xcb, 0x3f, 0xff, bytes.fromhex("5c017e")),
        apdu(0xcb, 0x3f, 0xff, bytes.fromhex("5c035fc102")), apdu(0x42)])
    s["ec-sign-attest"] = seed(0, auth() + [
        apdu(0x47, 0, 0x9a, tlv(0xac, tlv(0x80, b"\x11") + tlv(0xaa, b"\x02")
                                + tlv(0xab, b"\x03"))),
        apdu(0x20, 0, 0x80, pin("123456")),
        apdu(0x87, 0x11, 0x9a, tlv(0x7c, tlv(0x82, b"") +
                                   tlv(0x81, bytes(range(32))))),
        apdu(0x87, 0x11, 0x9a, tlv(0x7c, tlv(0x82, b"") +
                                   tlv(0x85, P256_G))),
        apdu(0xf9, 0x9a), GR, GR, GR, apdu(0xf7, 0, 0x9a),
        apdu(0xcb, 0x3f, 0xff, bytes.fromhex("5c035fff01")), GR, GR, GR,
        b"\x02",
        apdu(0x87, 0x11, 0x9a, tlv(0x7c, tlv(0x82, b"") +
                                   tlv(0x81, bytes(range(32)))))])
    value = tlv(0x70, bytes(range(256)) * 2 + b"\x30" * 88) + \
        bytes.fromhex("710100fe00")
    s["chained-put-data"] = seed(0, auth() + chained(
        0xdb, 0x3f, 0xff, tlv(0x5c, bytes.fromhex("5fc105")) +
        tlv(0x53, value)) + [
        apdu(0xcb, 0x3f, 0xff, bytes.fromhex("5c035fc105")), GR, GR, GR,
        apdu(0xdb, 0x3f, 0xff, bytes.fromhex("5c035fc105") + b"\x53\x00"),
        apdu(0xdb, 0x3f, 0xff, bytes.fromhex("5c035fc109") +
             tlv(0x53, tlv(0x88, tlv(0x89, MGM)))),
        apdu(0xcb, 0x3f, 0xff, bytes.fromhex("5c035fc109")),
        apdu(0x20, 0, 0x80, pin("123456")),
        apdu(0xcb, 0x3f, 0xff, bytes.fromhex("5c035fc109"))])
    msg = b"\x00\x01" + b"\xff" * 202 + bytes(20) + bytes(range(32))
    s["rsa"] = seed(0, auth() + [
        apdu(0x47, 0, 0x9c, tlv(0xac, tlv(0x80, b"\x07"))), GR,
        apdu(0x20, 0, 0x80, pin("123456"))] + chained(
        0x87, 0x07, 0x9c, tlv(0x7c, tlv(0x82, b"") + tlv(0x81, msg))) +
        [GR, apdu(0xf9, 0x9c), GR, GR, GR, GR])
    s["pin-puk"] = seed(0, [
        apdu(0x20, 0, 0x80, pin("000000")), apdu(0x20, 0, 0x80, pin("000000")),
        apdu(0x20, 0, 0x80, pin("000000")), apdu(0x20, 0, 0x80, pin("123456")),
        apdu(0xfb), apdu(0x2c, 0, 0x80, pin("87654321") + pin("111111")),
        apdu(0x2c, 0, 0x80, pin("87654321") + pin("111111")),
        apdu(0x2c, 0, 0x80, pin("87654321") + pin("111111")),
        apdu(0xfb), apdu(0x20, 0, 0x80, pin("123456")),
        apdu(0x24, 0, 0x80, pin("123456") + pin("654321")),
        apdu(0x24, 0, 0x81, pin("12345678") + pin("87654321")),
        apdu(0x2c, 0, 0x80, pin("87654321") + pin("123456")),
        apdu(0x20, 0xff, 0x80)] + auth() + [
        apdu(0x20, 0, 0x80, pin("123456")), apdu(0xfa, 5, 4)])
    k128 = bytes(range(16))
    s["mgmt-import"] = seed(0, auth() + [
        apdu(0xff, 0xff, 0xff, b"\x08\x9b\x10" + k128)] + auth(0x08) + [
        apdu(0x87, 0x08, 0x9b, tlv(0x7c, tlv(0x81, b""))),
        apdu(0x87, 0x08, 0x9b, tlv(0x7c, tlv(0x82, ecb(0x08, k128,
                                                      bytes(16))))),
        apdu(0xfe, 0x11, 0x9d, tlv(0x06, b"\x11" * 32) + tlv(0xaa, b"\x01")),
        apdu(0xf7, 0, 0x9d), apdu(0xf9, 0x9d),
        apdu(0xff, 0xff, 0xfe, b"\x03\x9b\x18" + MGM), apdu(0xf7, 0, 0x9b)])
    s["fw57-aes192-ed25519"] = seed(1, [apdu(0xfd)] + auth(0x03) + auth(0x0a)
                                    + [
        apdu(0x47, 0, 0x9a, tlv(0xac, tlv(0x80, b"\xe0"))),
        apdu(0x47, 0, 0x9e, tlv(0xac, tlv(0x80, b"\x14"))),
        apdu(0x20, 0, 0x80, pin("123456")),
        apdu(0x87, 0xe0, 0x9a, tlv(0x7c, tlv(0x82, b"") +
                                   tlv(0x81, b"message to sign"))),
        apdu(0x87, 0x14, 0x9e, tlv(0x7c, tlv(0x82, b"") +
                                   tlv(0x81, bytes(48)))),
        apdu(0xf7, 0, 0x9a), apdu(0xf9, 0x9a), GR, GR])
    s["touch-denied"] = seed(2, auth() + [
        apdu(0x47, 0, 0x9a, tlv(0xac, tlv(0x80, b"\x11") +
                                tlv(0xab, b"\x02"))),
        apdu(0x20, 0, 0x80, pin("123456")),
        apdu(0x87, 0x11, 0x9a, tlv(0x7c, tlv(0x82, b"") +
                                   tlv(0x81, bytes(32)))),
        apdu(0xff, 0xff, 0xfe, b"\x03\x9b\x18" + MGM)] + auth())
    return s


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    for name, data in seeds().items():
        with open(os.path.join(d, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
