# SPDX-License-Identifier: BSD-2-Clause
"""Shared pieces of the end-to-end tests.

- run(): a command with no controlling terminal (as in CI), a timeout, and
  its output captured.
- Askpass: an SSH_ASKPASS program whose answers the test controls (PIN,
  confirm yes/no), so prompts are answered the way a user would.
- Sshd: a real sshd on 127.0.0.1 (random free port, throwaway host key,
  private authorized_keys), always stopped.
- read_openssh_key(): an independent reader of openssh-key-v1 files, so
  the bytes ykssh writes are checked by code it does not share.
"""

import base64
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

SSHD = "/usr/sbin/sshd"


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(cmd, env=None, timeout=60, input=None, check=False):
    """Runs cmd in a new session (no /dev/tty), returns CompletedProcess."""
    p = subprocess.run(cmd, env=env, timeout=timeout, input=input,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       start_new_session=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (
            cmd, p.returncode, p.stdout, p.stderr))
    return p


class Askpass:
    """An SSH_ASKPASS program: prints self.pin, answers confirms."""

    def __init__(self, directory):
        self.dir = directory
        self.path = os.path.join(directory, "askpass")
        self.pin_file = os.path.join(directory, "askpass.pin")
        self.confirm_file = os.path.join(directory, "askpass.confirm")
        self.log = os.path.join(directory, "askpass.log")
        with open(self.path, "w") as f:
            f.write("#!/bin/sh\n"
                    "printf '%%s\\n' \"$1\" >> '%s'\n"
                    "if [ \"$SSH_ASKPASS_PROMPT\" = confirm ]; then\n"
                    "  [ \"$(cat '%s')\" = yes ]; exit $?\n"
                    "fi\n"
                    "[ -s '%s' ] || exit 1\n"
                    "cat '%s'\n" % (self.log, self.confirm_file,
                                    self.pin_file, self.pin_file))
        os.chmod(self.path, 0o700)
        self.set(pin=None, confirm=False)

    def set(self, pin=None, confirm=False):
        with open(self.pin_file, "w") as f:
            f.write("" if pin is None else pin + "\n")
        with open(self.confirm_file, "w") as f:
            f.write("yes" if confirm else "no")
        open(self.log, "w").close()

    def prompts(self):
        with open(self.log) as f:
            return [l.rstrip("\n") for l in f]

    def env(self):
        return {"SSH_ASKPASS": self.path, "SSH_ASKPASS_REQUIRE": "force",
                "DISPLAY": ":0"}


class Sshd:
    """A loopback sshd accepting the keys in self.authorized_keys."""

    def __init__(self, directory, extra_config=""):
        self.dir = directory
        self.port = None
        self.proc = None
        self.authorized_keys = os.path.join(directory, "authorized_keys")
        self.log = os.path.join(directory, "sshd.log")
        self.hostkey = os.path.join(directory, "hostkey")
        self.known_hosts = os.path.join(directory, "known_hosts")
        self.extra = extra_config

    def start(self):
        # sshd insists on its privilege separation directory.
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
             self.hostkey], check=True)
        with open(self.hostkey + ".pub") as f:
            hostpub = f.read().split()
        if not os.path.exists(self.authorized_keys):
            open(self.authorized_keys, "w").close()
        os.chmod(self.authorized_keys, 0o600)
        self.port = free_port()
        with open(self.known_hosts, "w") as f:
            f.write("[127.0.0.1]:%d %s %s\n" % (self.port, hostpub[0],
                                                 hostpub[1]))
        cfg = os.path.join(self.dir, "sshd_config")
        with open(cfg, "w") as f:
            f.write("Port %d\nListenAddress 127.0.0.1\nHostKey %s\n"
                    "AuthorizedKeysFile %s\nStrictModes no\nUsePAM no\n"
                    "PubkeyAuthentication yes\nPasswordAuthentication no\n"
                    "KbdInteractiveAuthentication no\nPermitRootLogin "
                    "prohibit-password\nPidFile none\nLogLevel VERBOSE\n"
                    "MaxAuthTries 10\n%s\n"
                    % (self.port, self.hostkey, self.authorized_keys,
                       self.extra))
        logf = open(self.log, "w")
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", cfg],
                                     stdout=logf, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        logf.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("sshd exited: " + self.read_log())
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("sshd did not start: " + self.read_log())

    def read_log(self):
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""

    def authorize(self, pub_line, options=None):
        with open(self.authorized_keys, "a") as f:
            f.write((options + " " if options else "") + pub_line.strip() +
                    "\n")

    def ssh(self, identity, env, provider=None, extra=(), timeout=60):
        cmd = ["ssh", "-F", "/dev/null", "-p", str(self.port),
               "-o", "UserKnownHostsFile=" + self.known_hosts,
               "-o", "StrictHostKeyChecking=yes",
               "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
               "-o", "PasswordAuthentication=no",
               "-o", "KbdInteractiveAuthentication=no",
               "-o", "ConnectTimeout=10", "-i", identity]
        if provider:
            cmd += ["-o", "SecurityKeyProvider=" + provider]
        cmd += list(extra)
        import pwd
        user = pwd.getpwuid(os.getuid()).pw_name
        cmd += [user + "@127.0.0.1", "echo", "logged-in-ok"]
        return run(cmd, env=env, timeout=timeout)

    def stop(self):
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            self.proc = None


def _string(buf, off):
    (n,) = struct.unpack(">I", buf[off:off + 4])
    if off + 4 + n > len(buf):
        raise ValueError("truncated string")
    return buf[off + 4:off + 4 + n], off + 4 + n


def read_openssh_key(path):
    """Fields of an unencrypted openssh-key-v1 file holding an sk key."""
    with open(path) as f:
        text = f.read()
    lines = text.split("\n")
    assert lines[0] == "-----BEGIN OPENSSH PRIVATE KEY-----", lines[0]
    end = lines.index("-----END OPENSSH PRIVATE KEY-----")
    body = lines[1:end]
    blob = base64.b64decode("".join(body), validate=True)
    k = {"armor_line_lengths": [len(l) for l in body],
         "trailing": "\n".join(lines[end + 1:])}
    assert blob[:15] == b"openssh-key-v1\0"
    off = 15
    k["cipher"], off = _string(blob, off)
    k["kdf"], off = _string(blob, off)
    k["kdfopts"], off = _string(blob, off)
    (k["nkeys"],) = struct.unpack(">I", blob[off:off + 4])
    off += 4
    k["pubblob"], off = _string(blob, off)
    priv, off = _string(blob, off)
    k["after_priv"] = len(blob) - off
    c1, c2 = struct.unpack(">II", priv[:8])
    k["checks_equal"] = c1 == c2
    p = 8
    k["type"], p = _string(priv, p)
    if k["type"] == b"sk-ecdsa-sha2-nistp256@openssh.com":
        k["curve"], p = _string(priv, p)
    k["pk"], p = _string(priv, p)
    k["application"], p = _string(priv, p)
    k["flags"] = priv[p]
    p += 1
    k["key_handle"], p = _string(priv, p)
    k["reserved"], p = _string(priv, p)
    k["comment"], p = _string(priv, p)
    k["padding"] = priv[p:]
    k["private_len"] = len(priv)
    return k


def need(path, what):
    if not path or not os.path.exists(path):
        print("missing %s: %s" % (what, path), file=sys.stderr)
        sys.exit(1)
