# SPDX-License-Identifier: BSD-2-Clause
"""Test support for fidosim, the software FIDO2 token on HID-over-UDP.

SimToken starts a token on a free port with a temporary state file and
control socket, talks to the control socket, and always kills the process
(its whole process group) on stop().  UdpCtapHidConnection lets unmodified
python-fido2 (Debian's 0.9.1: fido2.hid.CtapHidDevice, Ctap2, ClientPin,
CredentialManagement) drive the token.

    with SimToken(binary) as tok:
        dev = tok.open_device()
        ctap = Ctap2(dev)
"""

import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from fido2.hid import CtapHidDevice
from fido2.hid.base import CtapHidConnection, HidDescriptor

REPORT_LEN = 64


class UdpCtapHidConnection(CtapHidConnection):
    """One 64-byte CTAPHID report per datagram, no report-id byte."""

    def __init__(self, host, port, timeout=10.0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.connect((host, port))
        self.sock.settimeout(timeout)

    def write_packet(self, data):
        if len(data) != REPORT_LEN:
            raise OSError("CTAPHID packet must be 64 bytes")
        self.sock.send(data)

    def read_packet(self):
        data = self.sock.recv(REPORT_LEN + 1)
        if len(data) != REPORT_LEN:
            raise OSError("short CTAPHID packet")
        return data

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def open_udp_device(port, host="127.0.0.1", timeout=10.0):
    path = "udp://%s:%d" % (host, port)
    desc = HidDescriptor(path, 0x1050, 0x0407, REPORT_LEN, REPORT_LEN)
    return CtapHidDevice(desc, UdpCtapHidConnection(host, port, timeout))


class SimToken:
    def __init__(self, binary, *, args=(), workdir=None, state=None,
                 start_timeout=10.0):
        self.binary = binary
        self.args = list(args)
        self._own_dir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="fidosim-")
        self.state = state or os.path.join(self.workdir, "state.cbor")
        self.control_path = os.path.join(self.workdir, "control.sock")
        self.start_timeout = start_timeout
        self.proc = None
        self.port = None
        self._ctl = None
        self._ctl_buf = b""
        self._ctl_lock = threading.Lock()
        self._devices = []

    # lifecycle
    def start(self):
        cmd = [self.binary, "--port", "0", "--state", self.state,
               "--control", self.control_path, "--die-with-parent"] + \
            self.args
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     start_new_session=True)
        try:
            line = self._read_ready()
            if not line.startswith("READY port="):
                raise RuntimeError("fidosim did not start: %r" % line)
            self.port = int(line.split("=", 1)[1])
        except BaseException:
            self.kill()
            raise
        return self

    def _read_ready(self):
        deadline = time.monotonic() + self.start_timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("fidosim: no READY line")
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 256)
                if not chunk:
                    raise RuntimeError("fidosim exited (rc=%r)" %
                                       self.proc.wait(5))
                buf += chunk
        return buf.split(b"\n", 1)[0].decode()

    def kill(self):
        for d in self._devices:
            try:
                d.close()
            except Exception:
                pass
        self._devices = []
        if self._ctl is not None:
            self._ctl.close()
            self._ctl = None
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.wait(10)
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = None

    def stop(self):
        """Quits through the control socket, kills in any case.

        Returns the exit status of a clean quit (0 expected; sanitizer
        builds report errors and leaks through it), or None when the
        process had to be killed or was not running.
        """
        rc = None
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.control("quit")
                rc = self.proc.wait(5)
            except Exception:
                rc = None
        elif self.proc is not None:
            rc = self.proc.returncode
        self.kill()
        return rc

    def restart(self, args=None):
        """Stops the process and starts a new one on the same state file."""
        rc = self.stop()
        if rc != 0:
            raise RuntimeError("fidosim exited with status %r" % rc)
        if args is not None:
            self.args = list(args)
        return self.start()

    def cleanup(self):
        self.kill()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
        return False

    # control channel
    def control(self, line, timeout=10.0):
        """Sends one command line, returns the reply line (thread-safe)."""
        with self._ctl_lock:
            return self._control(line, timeout)

    def _control(self, line, timeout):
        if self._ctl is None:
            self._ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._ctl.settimeout(timeout)
            self._ctl.connect(self.control_path)
            self._ctl_buf = b""
        self._ctl.sendall(line.encode() + b"\n")
        while b"\n" not in self._ctl_buf:
            chunk = self._ctl.recv(4096)
            if not chunk:
                raise RuntimeError("control socket closed")
            self._ctl_buf += chunk
        reply, self._ctl_buf = self._ctl_buf.split(b"\n", 1)
        reply = reply.decode()
        if line != "stats" and reply != "OK":
            raise RuntimeError("control %r: %s" % (line, reply))
        return reply

    def stats(self):
        import json
        return json.loads(self.control("stats"))

    # devices
    def open_device(self, timeout=10.0):
        dev = open_udp_device(self.port, timeout=timeout)
        self._devices.append(dev)
        return dev
