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
            attestation_args(self) + self.args
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


# Attestation.  Every SimToken carries an attestation certificate issued by
# one test root CA made per test process (a stand-in for Yubico's FIDO
# root), unless its args bring their own --attestation-cert or its
# `attestation` attribute is set to None before start() (a self-attesting
# token).  Point ykssh at the root with trust_env() (YKSSH_TRUST_DIR).
_test_ca = {}


def _new_key():
    from cryptography.hazmat.primitives.asymmetric import ec
    return ec.generate_private_key(ec.SECP256R1())


def _write_pem(path, cert=None, key=None):
    from cryptography.hazmat.primitives import serialization
    with open(path, "wb") as f:
        if cert is not None:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        if key is not None:
            f.write(key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()))


def make_ca(name="ykssh test FIDO attestation root"):
    """A self-signed root: (certificate, key)."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID
    key = _new_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject)
            .issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .sign(key, hashes.SHA256()))
    return cert, key


def make_attestation_cert(ca_cert, ca_key, ou="Authenticator Attestation",
                          is_ca=False, aaguid=None, days=3650, key=None):
    """A packed attestation certificate (WebAuthn 8.2.1) for a token:
    (certificate, key).  The arguments make broken ones for tests."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID
    key = key or _new_key()
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ykssh tests"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou),
        x509.NameAttribute(NameOID.COMMON_NAME, "fidosim attestation")])
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(subject)
         .issuer_name(ca_cert.subject).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(days=2))
         .not_valid_after(now + datetime.timedelta(days=days))
         .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None),
                        critical=True))
    if aaguid is not None:
        # extnValue: OCTET STRING { OCTET STRING (16 bytes) }
        b = b.add_extension(x509.UnrecognizedExtension(
            x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4"),
            b"\x04\x10" + aaguid), critical=False)
    return b.sign(ca_key, hashes.SHA256()), key


def test_ca():
    """The per-process test root: dict(cert, key, dir); dir is a trust
    directory holding only its ca.pem (removed at exit)."""
    if not _test_ca:
        import atexit
        d = tempfile.mkdtemp(prefix="fidosim-ca-")
        atexit.register(shutil.rmtree, d, True)
        cert, key = make_ca()
        os.mkdir(os.path.join(d, "trust"))
        _write_pem(os.path.join(d, "trust", "ca.pem"), cert=cert)
        _test_ca.update(cert=cert, key=key, dir=d,
                        trust=os.path.join(d, "trust"))
    return _test_ca


def trust_dir():
    """A trust directory with the test root of every SimToken."""
    return test_ca()["trust"]


def trust_env():
    """The environment that makes ykssh trust the SimTokens' root."""
    return {"YKSSH_TRUST_DIR": trust_dir()}


def write_attestation(workdir, cert, key):
    """Writes cert and key for --attestation-cert/-key; returns the args."""
    c = os.path.join(workdir, "attestation-cert.pem")
    k = os.path.join(workdir, "attestation-key.pem")
    _write_pem(c, cert=cert)
    _write_pem(k, key=key)
    os.chmod(k, 0o600)
    return ["--attestation-cert", c, "--attestation-key", k]


def attestation_args(tok):
    """fidosim arguments for tok's attestation (see above)."""
    if getattr(tok, "attestation", "test-ca") is None or \
            "--attestation-cert" in tok.args:
        return []
    c = os.path.join(tok.workdir, "attestation-cert.pem")
    k = os.path.join(tok.workdir, "attestation-key.pem")
    if not (os.path.exists(c) and os.path.exists(k)):
        ca = test_ca()
        os.makedirs(tok.workdir, exist_ok=True)
        cert, key = make_attestation_cert(ca["cert"], ca["key"])
        return write_attestation(tok.workdir, cert, key)
    return ["--attestation-cert", c, "--attestation-key", k]
