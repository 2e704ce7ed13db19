#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Writes the seed corpus of fuzz_ctaphid (tests/fuzz/corpus/ctaphid).

Input format (see tests/fuzz/fuzz_ctaphid.c): byte 0 = UP mode, byte 1 =
flags (0x04: PIN "1234" set and pinUvAuthToken = 32 x 0x11 live), then
64-byte reports.  The first INIT on broadcast allocates CID 1.

usage: mkseeds.py OUTDIR
"""

import hashlib
import hmac
import os
import struct
import sys

from fido2 import cbor

CID = 1
BCAST = 0xFFFFFFFF
TOKEN = b"\x11" * 32
CDH = hashlib.sha256(b"fuzz").digest()


def frames(cid, cmd, data):
    out = [struct.pack(">IBH", cid, 0x80 | cmd, len(data)) + data[:57]]
    data, seq = data[57:], 0
    while data:
        out.append(struct.pack(">IB", cid, seq) + data[:59])
        data, seq = data[59:], seq + 1
    return [f.ljust(64, b"\0") for f in out]


def init():
    return frames(BCAST, 0x06, b"\x01\x02\x03\x04\x05\x06\x07\x08")


def ctap(cmd, args=None):
    return frames(CID, 0x10, bytes([cmd]) + (cbor.encode(args)
                                             if args is not None else b""))


def auth(proto, msg):
    mac = hmac.new(TOKEN, msg, hashlib.sha256).digest()
    return mac[:16] if proto == 1 else mac


def mc(alg=-7, rk=False, ext=None, pin=None, excl=None, uid=b"u"):
    a = {1: CDH, 2: {"id": "ssh:", "name": "x"},
         3: {"id": uid, "name": "n", "displayName": "d"},
         4: [{"alg": alg, "type": "public-key"}]}
    if excl:
        a[5] = excl
    if ext:
        a[6] = ext
    if rk:
        a[7] = {"rk": True}
    if pin:
        a[8], a[9] = auth(pin, CDH), pin
    return ctap(0x01, a)


def ga(allow=None, up=None, pin=None, rp="ssh:"):
    a = {1: rp, 2: CDH}
    if allow:
        a[3] = allow
    if up is not None:
        a[5] = {"up": up}
    if pin:
        a[6], a[7] = auth(pin, CDH), pin
    return ctap(0x02, a)


def cm(sub, params=None, proto=2, cmd=0x0A):
    a = {1: sub}
    if params is not None:
        a[2] = params
    msg = bytes([sub]) + (cbor.encode(params) if params is not None else b"")
    a[3], a[4] = proto, auth(proto, msg)
    return ctap(cmd, a)


KA = {1: 2, 3: -25, -1: 1,
      -2: bytes.fromhex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0"
                        "f4a13945d898c296"),
      -3: bytes.fromhex("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ece"
                        "cbb6406837bf51f5")}

SEEDS = {
    "getinfo": (0, 0, init() + ctap(0x04)),
    "ping_frag": (0, 0, init() + frames(CID, 0x01, bytes(range(200)))),
    "wink_msg_lock": (0, 0, init() + frames(CID, 0x08, b"") +
                      frames(CID, 0x03, b"\0\x01\0\0") +
                      frames(CID, 0x04, b"\x05")),
    "mc_es256": (0, 0, init() + mc()),
    "mc_eddsa_rk_cp2": (0, 0, init() + mc(-8, True, {"credProtect": 2})),
    "mc_excl_ga": (0, 0, init() + mc(rk=True) + mc(excl=[
        {"id": b"\x01" * 63, "type": "public-key"}]) + ga() + ga(up=False)),
    "ga_next": (0, 0, init() + mc(rk=True, uid=b"a") +
                mc(-8, rk=True, uid=b"b") + ga() + ctap(0x08) + ctap(0x08)),
    "ga_allow": (0, 0, init() + ga(allow=[
        {"id": b"\x01" + b"\x22" * 62, "type": "public-key"},
        {"id": b"\x33" * 16, "type": "public-key"}])),
    "pin_retries_ka": (0, 0, init() + ctap(0x06, {1: 1, 2: 1}) +
                       ctap(0x06, {1: 2, 2: 2})),
    "pin_set": (0, 0, init() + ctap(0x06, {1: 2, 2: 3, 3: KA, 4: b"\0" * 32,
                                           5: b"\0" * 80})),
    "pin_change": (0, 4, init() + ctap(0x06, {1: 1, 2: 4, 3: KA,
                                              4: b"\0" * 16, 5: b"\0" * 64,
                                              6: b"\0" * 16})),
    "pin_token_perm": (0, 4, init() + ctap(0x06, {1: 2, 2: 9, 3: KA,
                                                  6: b"\0" * 32, 9: 3,
                                                  10: "ssh:"})),
    "pin_token_legacy": (0, 4, init() + ctap(0x06, {1: 1, 2: 5, 3: KA,
                                                    6: b"\0" * 16})),
    "mc_pin_p1": (0, 4, init() + mc(-8, True, {"credProtect": 3}, pin=1)),
    "mc_ga_pin_p2": (0, 4, init() + mc(rk=True, pin=2) + ga(pin=2)),
    "touch_probe": (0, 4, init() + ctap(0x01, {
        1: CDH, 2: {"id": "localhost"}, 3: {"id": b"\x01", "name": "dummy"},
        4: [{"alg": -7, "type": "public-key"}], 8: b"", 9: 2})),
    "credman": (0, 4, init() + cm(0x01) + mc(rk=True, pin=1) + cm(0x02) +
                cm(0x03, proto=1) + cm(0x04, {1: hashlib.sha256(
                    b"ssh:").digest()}) + frames(CID, 0x10, b"\x0a" +
                                                 cbor.encode({1: 5}))),
    "ga_pin_p1": (0, 4, init() + ga(pin=1, up=False)),
    "ctap21pre_pin_cm": (0, 0x0C, init() + ctap(0x04) +
                         mc(rk=True, pin=1) + cm(0x01, proto=1, cmd=0x41) +
                         cm(0x01) + ctap(0x06, {1: 1, 2: 9, 3: KA,
                                                6: b"\0" * 16, 9: 1})),
    "uv_not_rqd": (0, 0x14, init() + ctap(0x04) + mc() + mc(rk=True)),
    "credman_pre_delete": (0, 4, init() + cm(0x01, cmd=0x41) + cm(0x06, {
        2: {"id": b"\x44" * 16, "type": "public-key"}}) + cm(0x07, {
            2: {"id": b"\x44" * 16, "type": "public-key"},
            3: {"id": b"u", "name": "new"}})),
    "reset_selection": (0, 0, init() + ctap(0x07) + ctap(0x0B)),
    "delay_cancel": (1, 0, init() + mc() + frames(CID, 0x11, b"") + mc()),
    "deny_never": (2, 0, init() + mc() + ctap(0x0B)),
    "never_busy": (3, 0, init() + init() + mc() + frames(2, 0x01, b"x")),
    "bad_seq_busy": (0, 0, init() + init() + [
        frames(CID, 0x01, bytes(100))[0],
        frames(2, 0x01, b"y")[0],
        struct.pack(">IB", CID, 3).ljust(64, b"\0")]),
    # Regression: a map header declaring 2^32 entries made libcbor 0.8
    # allocate ~26 GB before reading them (found by libFuzzer).
    "huge_map_header": (0, 0, init() + frames(CID, 0x10, b"\x01\xba\x63"
                                              b"\x61\x6c\x67\xa0") +
                        frames(CID, 0x10, b"\x06\x9b" + b"\xff" * 8)),
    "bad_cbor": (0, 0, init() + frames(CID, 0x10, b"\x01\xa5\x01") +
                 frames(CID, 0x10, b"\x02\x80") + ctap(0x42, {})),
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, (mode, flags, reps) in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes([mode, flags]) + b"".join(reps))


if __name__ == "__main__":
    main()
