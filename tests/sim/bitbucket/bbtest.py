# SPDX-License-Identifier: BSD-2-Clause
"""Helpers of the emulator's own tests: curl as the client, key makers."""

import base64
import json
import os
import struct
import subprocess
import tempfile

import bbenv


class Response:
    def __init__(self, rc, status, headers, body, stderr, time_total):
        self.rc = rc                  # curl's exit code
        self.status = status
        self.headers = headers        # lower-case names
        self.body = body
        self.stderr = stderr
        self.time = time_total

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<curl rc=%d status=%s body=%r>" % (
            self.rc, self.status, self.body[:300])


def curl(bb, method, url, auth=None, bearer=None, data=None, cacert=None,
         extra=(), urls=()):
    """One curl run against the emulator (a real client nobody on the
    project wrote).  auth: (user, password) for Basic; bearer: a token;
    data: an object sent as JSON.  Credentials go through curl's config
    on stdin, not argv."""
    with tempfile.TemporaryDirectory() as d:
        hdr = os.path.join(d, "h")
        out = os.path.join(d, "b")
        cfg = []
        if auth is not None:
            cfg.append('user = "%s:%s"' % auth)
        if bearer is not None:
            cfg.append('header = "Authorization: Bearer %s"' % bearer)
        cmd = ["curl", "-sS", "--globoff", "--noproxy", "*",
               "--cacert", cacert or bb.cacert,
               "-X", method,
               "-D", hdr, "-o", out, "-w", "%{http_code} %{time_total}\n",
               "--max-time", "60", "-K", "-"]
        if data is not None:
            cmd += ["-H", "Content-Type: application/json", "--data-binary",
                    json.dumps(data)]
        cmd += list(extra) + [url]
        for u in urls:
            cmd += ["-o", os.devnull, u]
        p = subprocess.run(cmd, input="\n".join(cfg) + "\n",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=120, start_new_session=True)
        parts = p.stdout.split()
        status = int(parts[0]) if parts else 0
        tt = float(parts[1]) if len(parts) > 1 else 0.0
        headers = {}
        if os.path.exists(hdr):
            with open(hdr, "rb") as f:
                for line in f.read().decode("latin-1").split("\r\n"):
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
        body = b""
        if os.path.exists(out):
            with open(out, "rb") as f:
                body = f.read()
        r = Response(p.returncode, status, headers, body, p.stderr, tt)
        r.statuses = [int(x) for x in parts[0::2]]
        return r


def keygen(directory, name, ktype="ed25519", bits=None, comment=None):
    """ssh-keygen makes a key; returns (private path, public line)."""
    path = os.path.join(directory, name)
    cmd = ["ssh-keygen", "-q", "-t", ktype, "-N", "", "-f", path]
    if bits:
        cmd += ["-b", str(bits)]
    if comment is not None:
        cmd += ["-C", comment]
    bbenv.run(cmd, check=True)
    with open(path + ".pub") as f:
        return path, f.read().strip()


def fingerprint(pub_line):
    """ssh-keygen's SHA256 fingerprint without the "SHA256:" prefix."""
    with tempfile.NamedTemporaryFile("w", suffix=".pub") as f:
        f.write(pub_line + "\n")
        f.flush()
        out = bbenv.run(["ssh-keygen", "-l", "-E", "sha256", "-f", f.name],
                        check=True).stdout.split()[1]
    assert out.startswith("SHA256:")
    return out[len("SHA256:"):]


def _s(b):
    return struct.pack(">I", len(b)) + b


def sk_ed25519_pub(comment="sk@test"):
    """An sk-ssh-ed25519@openssh.com public key line (PROTOCOL.u2f), made
    from random bytes: the server never verifies a signature with it."""
    blob = _s(b"sk-ssh-ed25519@openssh.com") + _s(os.urandom(32)) + \
        _s(b"ssh:")
    return "sk-ssh-ed25519@openssh.com %s %s" % (
        base64.b64encode(blob).decode(), comment)


def sk_ecdsa_pub(comment="sk@test"):
    """An sk-ecdsa-sha2-nistp256@openssh.com public key line (random
    point bytes: the emulator checks the encoding, not the curve)."""
    point = b"\x04" + os.urandom(64)
    blob = _s(b"sk-ecdsa-sha2-nistp256@openssh.com") + _s(b"nistp256") + \
        _s(point) + _s(b"ssh:")
    return "sk-ecdsa-sha2-nistp256@openssh.com %s %s" % (
        base64.b64encode(blob).decode(), comment)
