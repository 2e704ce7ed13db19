#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""libykcs11 (pkcs11-tool, ssh-keygen -D) and a real ssh login to sshd."""

import os
import socket
import subprocess
import time
import unittest

import pivenv
import pivtest
from pivtest import CardTest, YKCS11

OPENSC = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"


class Sshd:
    """sshd on 127.0.0.1:<free port>, throwaway host key, temp files."""

    def __init__(self, d, authorized):
        self.dir = d
        self.port = pivenv.free_port()
        hk = os.path.join(d, "hostkey")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                        hk], check=True)
        ak = os.path.join(d, "authorized_keys")
        with open(ak, "w") as f:
            f.write(authorized)
        self.cfg = os.path.join(d, "sshd_config")
        with open(self.cfg, "w") as f:
            f.write("Port %d\nListenAddress 127.0.0.1\nHostKey %s\n"
                    "AuthorizedKeysFile %s\nStrictModes no\nUsePAM no\n"
                    "PasswordAuthentication no\n"
                    "KbdInteractiveAuthentication no\n"
                    "PubkeyAuthentication yes\nPermitRootLogin yes\n"
                    "PidFile none\nLogLevel VERBOSE\n" % (self.port, hk, ak))
        self.log = open(os.path.join(d, "sshd.log"), "w")
        self.proc = subprocess.Popen(["/usr/sbin/sshd", "-f", self.cfg,
                                      "-D", "-e"], stdout=self.log,
                                     stderr=self.log, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("sshd did not start")

    def stop(self):
        pivenv.kill_group(self.proc)
        self.log.close()

    def logtext(self):
        with open(os.path.join(self.dir, "sshd.log")) as f:
            return f.read()


class Pkcs11Test(CardTest):

    def generate(self, slot="9a", *extra):
        pem = self.path("pub-%s.pem" % slot)
        self.tool("-a", "generate", "-s", slot, "-A", "ECCP256",
                  "-o", pem, *extra)
        return pivtest.run(["ssh-keygen", "-i", "-m", "PKCS8", "-f", pem],
                           self.env).stdout.split()[:2]

    def token_keys(self):
        out = pivtest.run(["ssh-keygen", "-D", YKCS11], self.env).stdout
        return {" ".join(l.split()[2:]): l.split()[:2]
                for l in out.splitlines() if l.strip()}

    def test_pkcs11_tool_and_ssh_keygen(self):
        key = self.generate()
        out = pivtest.run(["pkcs11-tool", "--module", YKCS11, "-O"],
                          self.env).stdout
        self.assertIn("Public key for PIV Authentication", out)
        self.assertIn("EC_POINT 256 bits", out)
        self.assertEqual(
            self.token_keys()["Public key for PIV Authentication"], key)

    def test_opensc_pkcs11(self):
        """OpenSC (other APDU forms: case-1 VERIFY, SELECT with Le, GET
        DATA with Le) needs a certificate object to show the key."""
        key = self.generate()
        pub, cert = self.path("pub-9a.pem"), self.path("c.pem")
        self.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=ca",
                     "-keyout", self.path("ca.key"), "-out",
                     self.path("ca.pem"))
        self.openssl("x509", "-new", "-force_pubkey", pub, "-subj",
                     "/CN=pivsim opensc", "-key", self.path("ca.key"),
                     "-out", cert)
        self.tool("-a", "import-certificate", "-s", "9a", "-i", cert)
        out = pivtest.run(["ssh-keygen", "-D", OPENSC], self.env).stdout
        self.assertIn(" ".join(key) + " PIV AUTH pubkey", out)
        data, sig = self.path("data"), self.path("sig")
        with open(data, "w") as f:
            f.write("signed through OpenSC\n")
        pivtest.run(["pkcs11-tool", "--module", OPENSC, "--login", "--pin",
                     "123456", "--sign", "--mechanism", "ECDSA-SHA256",
                     "--signature-format", "openssl", "--id", "01",
                     "-i", data, "-o", sig], self.env)
        v = self.openssl("dgst", "-sha256", "-verify", pub, "-signature",
                         sig, data)
        self.assertIn("Verified OK", v.stdout)
        with open(data, "a") as f:
            f.write("tampered\n")
        v = self.openssl("dgst", "-sha256", "-verify", pub, "-signature",
                         sig, data, check=False)
        self.assertNotEqual(v.returncode, 0)

    def login(self, sshd, pin, cmd="echo pivsim-login-ok", timeout=60):
        askpass = self.path("askpass")
        with open(askpass, "w") as f:
            f.write("#!/bin/sh\necho %s\n" % pin)
        os.chmod(askpass, 0o700)
        env = dict(self.env, SSH_ASKPASS=askpass,
                   SSH_ASKPASS_REQUIRE="force", DISPLAY=":0")
        return pivtest.run(
            ["ssh", "-F", "/dev/null", "-o", "PKCS11Provider=" + YKCS11,
             "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null",
             "-o", "PasswordAuthentication=no",
             "-o", "KbdInteractiveAuthentication=no",
             "-o", "IdentityFile=" + self.path("no-such-key"),
             "-o", "ConnectTimeout=20",
             "-p", str(sshd.port), "root@127.0.0.1", cmd],
            env, check=False, timeout=timeout)

    def pin_retries(self):
        """Remaining PIN tries from GET METADATA (tag 06: total, left).

        Not yubico-piv-tool -a status: libykpiv 2.2 reports -1 there while
        the PIN is still verified from an earlier session (ykcs11 leaves
        the card without a reset)."""
        out = self.ykpiv("metadata", "80")
        line = [l for l in out if l.startswith("metadata 80 ")][0]
        self.assertIn("sw=9000", line)
        data = line.split("data=")[1]
        i = data.index("0602")
        return int(data[i + 6:i + 8], 16)

    def test_ssh_login_pin(self):
        key = self.generate()
        sshd = Sshd(self.tmp.name, " ".join(key) + "\n")
        self.addCleanup(sshd.stop)
        p = self.login(sshd, "123456")
        self.assertEqual(p.returncode, 0, p.stderr + sshd.logtext())
        self.assertEqual(p.stdout.strip(), "pivsim-login-ok")
        self.assertGreater(self.piv.stats()["ins"].get("87", 0), 0)

        p = self.login(sshd, "654321")
        self.assertNotEqual(p.returncode, 0)
        self.assertNotIn("pivsim-login-ok", p.stdout)
        self.assertEqual(self.pin_retries(), 2)

    def test_ssh_touch_always(self):
        key = self.generate("9a", "--touch-policy=always")
        sshd = Sshd(self.tmp.name, " ".join(key) + "\n")
        self.addCleanup(sshd.stop)
        p = self.login(sshd, "123456")
        self.assertEqual(p.returncode, 0, p.stderr)
        st = self.piv.stats()
        self.assertEqual(st["touches"], 1)
        self.assertEqual(st["touches_failed"], 0)

        self.piv.control("touch deny")
        p = self.login(sshd, "123456")
        self.assertNotEqual(p.returncode, 0)
        self.assertNotIn("pivsim-login-ok", p.stdout)
        st = self.piv.stats()
        self.assertEqual(st["touches"], 1)
        self.assertGreaterEqual(st["touches_failed"], 1)
        self.assertEqual(self.pin_retries(), 3)


if __name__ == "__main__":
    pivtest.main()
