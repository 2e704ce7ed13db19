#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""ykssh enroll (FIDO2), proven by the real OpenSSH.

Against the software token: ssh-keygen reads back our files, a real sshd
accepts the keys (and refuses a key without user verification where
authorized_keys says verify-required), ssh-keygen -K recovers resident keys,
and ykssh's stub matches ssh-keygen's own field by field.  Every failure
class has its message, its exit status, and leaves no file behind.

usage: test_enroll.py FIDOSIM SK_PROVIDER   (YKSSH_BIN in the environment)
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.environ["YKSSH_SOURCE_DIR"], "tests",
                                "sim", "fido"))
import e2elib  # noqa: E402
import simtoken  # noqa: E402
from simtoken import SimToken  # noqa: E402

FIDOSIM = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("FIDOSIM")
PROVIDER = sys.argv[2] if len(sys.argv) > 2 else os.environ.get(
    "YKSSH_SK_PROVIDER")
YKSSH = os.environ.get("YKSSH_BIN")
PIN = "4242-test-pin"


class EnrollTest(unittest.TestCase):
    token_args = ()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ykssh-enroll-")
        self.home = os.path.join(self.tmp, "home")
        os.makedirs(self.home)
        self.token = SimToken(FIDOSIM, args=self.token_args,
                              workdir=os.path.join(self.tmp, "token"))
        os.makedirs(self.token.workdir)
        self.token.start()
        self.askpass = e2elib.Askpass(self.tmp)
        self.sshd = None

    def tearDown(self):
        if self.sshd is not None:
            self.sshd.stop()
        rc = self.token.stop()
        self.token.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(rc, 0, "fidosim did not quit cleanly")

    # helpers
    def device(self):
        return "udp://127.0.0.1:%d?local=0" % self.token.port

    def env(self, **extra):
        env = {"PATH": os.environ["PATH"], "HOME": self.home,
               "YKSSH_SK_DEVICE": self.device(), "LANG": "C"}
        # Trust the test root of the token's attestation certificate.
        env.update(simtoken.trust_env())
        env.update(self.askpass.env())
        env.update(extra)
        return env

    def ykssh(self, *args, env=None, timeout=60):
        return e2elib.run([YKSSH, "--json", "enroll", "--no-register",
                           "--no-config", "--device",
                           self.device()] + list(args),
                          env=env or self.env(), timeout=timeout)

    def enroll_ok(self, *args, env=None):
        p = self.ykssh(*args, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def ssh_dir_files(self):
        d = os.path.join(self.home, ".ssh")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def set_pin(self, pin=PIN):
        # Through ykssh's own offer: confirm + new PIN twice (askpass).
        from fido2.ctap2 import Ctap2
        from fido2.ctap2.pin import ClientPin
        dev = self.token.open_device()
        ClientPin(Ctap2(dev)).set_pin(pin)

    def check_with_ssh_keygen(self, r):
        stub, pub = r["stub"], r["public_key_file"]
        self.assertEqual(os.stat(stub).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(pub).st_mode & 0o777, 0o644)
        if os.path.dirname(stub) == os.path.join(self.home, ".ssh"):
            self.assertEqual(os.stat(os.path.dirname(stub)).st_mode &
                             0o777, 0o700)
        y = e2elib.run(["ssh-keygen", "-y", "-f", stub], check=True)
        with open(pub) as f:
            publine = f.read()
        self.assertTrue(publine.endswith("\n"))
        # ssh-keygen -y prints the key and the stub's comment.
        self.assertEqual(y.stdout.strip(), publine.strip())
        self.assertEqual(publine.strip(), r["public_key"])
        l = e2elib.run(["ssh-keygen", "-l", "-E", "sha256", "-f", stub],
                       check=True)
        self.assertEqual(l.stdout.split()[1], r["fingerprint"])
        label = "ED25519-SK" if "ed25519" in r["type"] else "ECDSA-SK"
        self.assertTrue(l.stdout.strip().endswith("(%s)" % label),
                        l.stdout)

    def start_sshd(self, extra=""):
        self.sshd = e2elib.Sshd(os.path.join(self.tmp), extra).start()
        return self.sshd

    def login(self, stub, env=None):
        return self.sshd.ssh(stub, env or self.env(), provider=PROVIDER)

    def assert_login(self, stub, env=None):
        p = self.login(stub, env)
        self.assertEqual(p.returncode, 0, p.stderr + self.sshd.read_log())
        self.assertIn("logged-in-ok", p.stdout)

    def assert_no_new_files(self, before):
        self.assertEqual(self.ssh_dir_files(), before)


class TestFilesAndLogin(EnrollTest):
    def test_ed25519_and_ecdsa_non_resident(self):
        self.start_sshd()
        stubs = []
        for t in ("ed25519-sk", "ecdsa-sk"):
            r = self.enroll_ok("--type", t, "--comment", "me@laptop")
            self.assertEqual(r["type"], {
                "ed25519-sk": "sk-ssh-ed25519@openssh.com",
                "ecdsa-sk": "sk-ecdsa-sha2-nistp256@openssh.com"}[t])
            self.assertFalse(r["resident"])
            self.assertFalse(r["pin_used"])
            self.check_with_ssh_keygen(r)
            self.sshd.authorize(r["public_key"])
            stubs.append(r["stub"])
        # Each key: stub, .pub, and its attestation (ykssh verify).
        self.assertEqual(self.ssh_dir_files(), [
            "id_ecdsa_sk", "id_ecdsa_sk.attest", "id_ecdsa_sk.pub",
            "id_ed25519_sk", "id_ed25519_sk.attest", "id_ed25519_sk.pub"])
        for s in stubs:
            self.assert_login(s)
        # A key that is not in authorized_keys is refused.
        r = self.enroll_ok("--label", "other")
        p = self.login(r["stub"])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("Permission denied", p.stderr)

    def test_default_names_never_collide(self):
        a = self.enroll_ok()
        b = self.enroll_ok()
        self.assertTrue(a["stub"].endswith("/.ssh/id_ed25519_sk"))
        self.assertTrue(b["stub"].endswith("/.ssh/id_ed25519_sk_2"))
        self.assertNotEqual(a["fingerprint"], b["fingerprint"])

    def test_resident_with_pin_offer_and_recovery(self):
        self.start_sshd()
        before = self.ssh_dir_files()
        # No PIN on the token: without a way to ask, a clear error.
        p = self.ykssh("--resident", "--label", "work",
                       env=self.env(SSH_ASKPASS_REQUIRE="never"))
        self.assertEqual(p.returncode, 81, p.stderr)
        self.assertIn("has no FIDO PIN", p.stderr)
        self.assert_no_new_files(before)
        # With askpass: confirm the offer, give the new PIN twice.
        self.askpass.set(pin=PIN, confirm=True)
        types = {}
        for t, label in (("ed25519-sk", "work"), ("ecdsa-sk", "home")):
            r = self.enroll_ok("--resident", "--label", label, "--type", t)
            self.assertTrue(r["resident"])
            self.assertTrue(r["pin_used"])
            self.assertEqual(r["application"], "ssh:" + label)
            self.check_with_ssh_keygen(r)
            self.sshd.authorize(r["public_key"])
            types[label] = r
        prompts = self.askpass.prompts()
        self.assertTrue(any("Set a FIDO PIN" in x for x in prompts),
                        prompts)
        self.assertTrue(any(x.startswith("New FIDO PIN") for x in prompts))
        # Both resident keys live side by side on the token.
        from fido2.ctap2 import Ctap2
        from fido2.ctap2.pin import ClientPin
        from fido2.ctap2.credman import CredentialManagement
        ctap = Ctap2(self.token.open_device())
        cp = ClientPin(ctap)
        token = cp.get_pin_token(PIN, ClientPin.PERMISSION.CREDENTIAL_MGMT)
        cm = CredentialManagement(ctap, cp.protocol, token)
        rps = sorted(r[3]["id"] for r in cm.enumerate_rps())
        self.assertEqual(rps, ["ssh:home", "ssh:work"])
        # New laptop: ssh-keygen -K recovers stubs that log in.
        laptop = os.path.join(self.tmp, "laptop")
        os.makedirs(laptop)
        # ssh-keygen -K writes into the current directory.
        k = subprocess.run(["ssh-keygen", "-K", "-N", ""], cwd=laptop,
                           env=self.env(SSH_SK_PROVIDER=PROVIDER),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60, start_new_session=True)
        self.assertEqual(k.returncode, 0, k.stderr)
        got = sorted(os.listdir(laptop))
        self.assertEqual(got, ["id_ecdsa_sk_rk_home", "id_ecdsa_sk_rk_home.pub",
                               "id_ed25519_sk_rk_work",
                               "id_ed25519_sk_rk_work.pub"])
        for name, label in (("id_ed25519_sk_rk_work", "work"),
                            ("id_ecdsa_sk_rk_home", "home")):
            with open(os.path.join(laptop, name + ".pub")) as f:
                self.assertEqual(f.read().split()[1],
                                 types[label]["public_key"].split()[1])
            self.assert_login(os.path.join(laptop, name))

    def test_second_resident_key_same_application_asks(self):
        self.set_pin()
        self.askpass.set(pin=PIN, confirm=False)
        r1 = self.enroll_ok("--resident", "--output",
                            os.path.join(self.home, "k1"))
        # Same application and user: refused unless confirmed.
        p = self.ykssh("--resident", "--output", os.path.join(self.home,
                                                              "k2"))
        self.assertEqual(p.returncode, 85, p.stderr)
        self.assertIn("already exists on the token", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.home, "k2")))
        prompts = self.askpass.prompts()
        self.assertTrue(any("Overwrite it" in x for x in prompts), prompts)
        # Confirmed: replaced.
        self.askpass.set(pin=PIN, confirm=True)
        r2 = self.enroll_ok("--resident", "--output",
                            os.path.join(self.home, "k2"))
        self.assertNotEqual(r1["fingerprint"], r2["fingerprint"])

    def test_verify_required_enforced_by_sshd(self):
        self.set_pin()
        self.askpass.set(pin=PIN)
        self.start_sshd()
        # With a PIN set, the token wants it for any key (CTAP 2.0
        # makeCredential without makeCredUvNotRqd): asked, not assumed.
        plain = self.enroll_ok("--label", "plain")
        uv = self.enroll_ok("--verify-required", "--label", "uv")
        self.assertTrue(uv["verify_required"])
        self.assertTrue(uv["pin_used"])
        self.check_with_ssh_keygen(uv)
        self.sshd.authorize(plain["public_key"], "verify-required")
        self.sshd.authorize(uv["public_key"], "verify-required")
        p = self.login(plain["stub"])
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("verification", self.sshd.read_log())
        self.assert_login(uv["stub"])
        # ssh asked for the PIN (through askpass) for the uv key.
        self.assertTrue(any("PIN" in x for x in self.askpass.prompts()))

    def test_attestation_file(self):
        chal = os.path.join(self.tmp, "challenge")
        with open(chal, "wb") as f:
            f.write(b"attestation challenge for the test")
        att = os.path.join(self.home, "att")
        r = self.enroll_ok("--attestation", att, "--challenge", chal)
        self.assertEqual(os.stat(att).st_mode & 0o777, 0o600)
        ours = parse_attestation(att)
        # ssh-keygen's own file for the same kind of key.
        ref = os.path.join(self.tmp, "ref")
        e2elib.run(["ssh-keygen", "-q", "-t", "ed25519-sk", "-N", "", "-f",
                    ref, "-O", "write-attestation=" + ref + ".att",
                    "-O", "challenge=" + chal],
                   env=self.env(SSH_SK_PROVIDER=PROVIDER), check=True)
        theirs = parse_attestation(ref + ".att")
        self.assertEqual(ours["magic"], theirs["magic"])
        self.assertEqual(len(ours["fields"]), len(theirs["fields"]))
        self.assertEqual(ours["tail"], theirs["tail"])
        # The self-attestation signature verifies over
        # authData || SHA-256(challenge) with the new key.
        verify_self_attestation(self, ours, r, b"attestation challenge "
                                b"for the test")


class TestMatchesSshKeygen(EnrollTest):
    def test_stub_fields_match_ssh_keygen(self):
        self.set_pin()
        self.askpass.set(pin=PIN)
        cases = [("ed25519-sk", [], []),
                 ("ecdsa-sk", [], []),
                 ("ed25519-sk", ["--resident", "--label", "r"],
                  ["-O", "resident", "-O", "application=ssh:s"]),
                 ("ed25519-sk", ["--verify-required"],
                  ["-O", "verify-required"]),
                 ("ed25519-sk", ["--no-touch-required"],
                  ["-O", "no-touch-required"])]
        for i, (t, ours_args, theirs_args) in enumerate(cases):
            out = os.path.join(self.tmp, "ours%d" % i)
            r = self.enroll_ok("--type", t, "--output", out, "--comment",
                               "c", *ours_args)
            ref = os.path.join(self.tmp, "theirs%d" % i)
            e2elib.run(["ssh-keygen", "-q", "-t", t, "-N", "", "-C", "c",
                        "-f", ref] + theirs_args,
                       env=self.env(SSH_SK_PROVIDER=PROVIDER), check=True,
                       timeout=60)
            a = e2elib.read_openssh_key(out)
            b = e2elib.read_openssh_key(ref)
            for field in ("key_handle", "pk", "pubblob", "comment"):
                a.pop(field)
                b.pop(field)
            if "--resident" in ours_args:
                # Two resident keys need two applications.
                self.assertEqual(a.pop("application"), b"ssh:r")
                self.assertEqual(b.pop("application"), b"ssh:s")
            self.assertEqual(a, b, "case %s %s" % (t, ours_args))
            with open(out + ".pub") as f1, open(ref + ".pub") as f2:
                self.assertEqual(f1.read().split()[0], f2.read().split()[0])


class TestFailures(EnrollTest):
    def test_no_token(self):
        before = self.ssh_dir_files()
        port = e2elib.free_port()
        p = e2elib.run([YKSSH, "enroll", "--no-register", "--no-config",
                        "--device", "udp://127.0.0.1:%d?local=0" % port],
                       env=self.env(), timeout=30)
        self.assertEqual(p.returncode, 69, p.stderr)
        self.assertIn("no FIDO token answers", p.stderr)
        self.assertIn("hint:", p.stderr)
        # Discovery with nothing plugged in (no hidraw here).
        if not any(n.startswith("hidraw") for n in os.listdir("/dev")):
            p = e2elib.run([YKSSH, "enroll", "--no-register",
                            "--no-config"], env=self.env(), timeout=30)
            self.assertEqual(p.returncode, 69, p.stderr)
            self.assertIn("no FIDO token found", p.stderr)
        self.assertEqual(self.ssh_dir_files(), before)

    def test_output_exists_checked_before_touch(self):
        out = os.path.join(self.home, "taken")
        with open(out, "w") as f:
            f.write("precious\n")
        p = self.ykssh("--output", out)
        self.assertEqual(p.returncode, 73, p.stderr)
        self.assertIn("already exists", p.stderr)
        self.assertIn("--force", p.stderr)
        with open(out) as f:
            self.assertEqual(f.read(), "precious\n")
        self.assertEqual(self.token.stats()["ctap"]["makeCredential"], 0)
        # --force replaces it and keeps a backup.
        r = self.enroll_ok("--output", out, "--force")
        self.assertEqual(len(r["backups"]), 1)
        with open(r["backups"][0]) as f:
            self.assertEqual(f.read(), "precious\n")
        self.check_with_ssh_keygen(r)

    def test_ssh_dir_not_writable(self):
        sshdir = os.path.join(self.home, ".ssh")
        os.makedirs(sshdir, mode=0o700)
        if os.geteuid() == 0:
            # root ignores modes: make it a read-only mount instead.
            cmd = ["unshare", "-m", "sh", "-c",
                   'mount -t tmpfs -o ro,mode=700 none "$1" && shift && '
                   'exec "$@"', "sh", sshdir, YKSSH, "enroll",
                   "--no-register", "--no-config", "--device",
                   self.device()]
        else:
            os.chmod(sshdir, 0o500)
            cmd = [YKSSH, "enroll", "--no-register", "--no-config", "--device",
             self.device()]
        p = e2elib.run(cmd, env=self.env())
        self.assertEqual(p.returncode, 77, p.stderr)
        self.assertIn("cannot write to", p.stderr)
        self.assertEqual(self.token.stats()["ctap"]["makeCredential"], 0)

    def test_touch_denied_and_timeout(self):
        before = self.ssh_dir_files()
        self.token.control("up deny")
        p = self.ykssh()
        self.assertEqual(p.returncode, 84, p.stderr)
        self.assertIn("refused", p.stderr)
        self.token.control("up-timeout 1500")
        self.token.control("up never")
        p = self.ykssh()
        self.assertEqual(p.returncode, 84, p.stderr)
        self.assertIn("nobody touched", p.stderr)
        # The prompt appeared because the token really waited.
        self.assertIn("Touch your", p.stderr)
        self.assert_no_new_files(before)

    def test_touch_prompt_only_when_token_waits(self):
        p = self.ykssh()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("Touch your", p.stderr)
        self.token.control("up delay 600")
        p = self.ykssh()
        self.assertEqual(p.returncode, 0, p.stderr)
        # Named from the getInfo reply libfido2 fetched when opening.
        self.assertIn("Touch your YubiKey 5 Series now.", p.stderr)

    def test_wrong_pin_shows_retries_and_stops(self):
        self.set_pin()
        self.askpass.set(pin="wrong-pin")
        before = self.ssh_dir_files()
        p = self.ykssh("--resident")
        self.assertEqual(p.returncode, 82, p.stderr)
        self.assertIn("wrong PIN, 7 attempts left", p.stderr)
        # Asked exactly once: never retried toward a lockout.
        self.assertEqual(len(self.askpass.prompts()), 1)
        self.assert_no_new_files(before)

    def test_pin_blocked(self):
        self.set_pin()
        from fido2.ctap import CtapError
        from fido2.ctap2 import Ctap2
        from fido2.ctap2.pin import ClientPin
        # Spend every retry, power-cycling after each PIN_AUTH_BLOCKED.
        for _ in range(20):
            cp = ClientPin(Ctap2(self.token.open_device()))
            if cp.get_pin_retries()[0] == 0:
                break
            try:
                cp.get_pin_token("not-the-pin",
                                 ClientPin.PERMISSION.MAKE_CREDENTIAL,
                                 "ssh:")
                self.fail("a wrong PIN was accepted")
            except CtapError as e:
                self.assertIn(e.code, (CtapError.ERR.PIN_INVALID,
                                       CtapError.ERR.PIN_AUTH_BLOCKED,
                                       CtapError.ERR.PIN_BLOCKED))
                if e.code == CtapError.ERR.PIN_AUTH_BLOCKED:
                    self.token.control("powercycle")
        cp = ClientPin(Ctap2(self.token.open_device()))
        self.assertEqual(cp.get_pin_retries()[0], 0)
        self.token.control("powercycle")
        self.askpass.set(pin=PIN)
        p = self.ykssh("--resident")
        self.assertEqual(p.returncode, 83, p.stderr)
        self.assertIn("PIN is blocked", p.stderr)
        self.assertIn("reset", p.stderr)

    def test_token_gone_mid_operation(self):
        before = self.ssh_dir_files()
        self.token.control("up delay 20000")
        proc = subprocess.Popen(
            [YKSSH, "enroll", "--no-register", "--no-config", "--device",
             self.device()],
            env=self.env(YKSSH_TOKEN_TIMEOUT="2"), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True)
        time.sleep(1.0)
        self.token.kill()     # unplugged while waiting for the touch
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 74, err)
        self.assertIn("lost contact with the token", err)
        self.assert_no_new_files(before)
        self.token.start()    # for tearDown's clean stop

    def test_ctrl_c_cancels_and_writes_nothing(self):
        before = self.ssh_dir_files()
        self.token.control("up delay 20000")
        proc = subprocess.Popen(
            [YKSSH, "enroll", "--no-register", "--no-config", "--device",
             self.device()], env=self.env(),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        # Wait for the prompt, which means the token is waiting.
        deadline = time.monotonic() + 10
        buf = ""
        while "Touch your" not in buf and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            buf += line
        self.assertIn("Touch your", buf)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 130, buf + err)
        self.assertIn("cancelled", err)
        self.assert_no_new_files(before)
        # The token saw the cancel and is free for the next request.
        self.token.control("up approve")
        self.enroll_ok()


class TestSeveralTokens(EnrollTest):
    def test_touch_selects_the_token(self):
        other = SimToken(FIDOSIM, workdir=os.path.join(self.tmp, "other"))
        os.makedirs(other.workdir)
        other.start()
        try:
            # The first token is never touched; the second is.
            self.token.control("up-timeout 30000")
            self.token.control("up never")
            p = e2elib.run([YKSSH, "--json", "enroll", "--no-register",
                            "--no-config", "--device", self.device(),
                            "--device", "udp://127.0.0.1:%d?local=0" %
                            other.port], env=self.env(), timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("touch the one to use", p.stderr)
            r = json.loads(p.stdout)
            self.assertEqual(r["token"]["path"],
                             "udp://127.0.0.1:%d?local=0" % other.port)
            self.check_with_ssh_keygen(r)
            # The key was made on the touched token: it can sign with it.
            self.start_sshd()
            self.sshd.authorize(r["public_key"])
            self.assert_login(r["stub"], env=self.env(
                YKSSH_SK_DEVICE="udp://127.0.0.1:%d?local=0" % other.port))
            # The untouched token's wait was cancelled, not left hanging.
            self.token.control("up approve")
            self.enroll_ok()
        finally:
            self.assertEqual(other.stop(), 0)
            other.cleanup()


class TestNoEddsa(EnrollTest):
    token_args = ("--no-eddsa",)

    def test_token_without_eddsa(self):
        before = self.ssh_dir_files()
        p = self.ykssh(env=self.env(SSH_ASKPASS_REQUIRE="never"))
        self.assertEqual(p.returncode, 80, p.stderr)
        self.assertIn("cannot make ed25519-sk keys", p.stderr)
        self.assertIn("--type ecdsa-sk", p.stderr)
        self.assert_no_new_files(before)
        # On request, offered (never switched silently).
        self.askpass.set(confirm=True)
        r = self.enroll_ok()
        self.assertEqual(r["type"], "sk-ecdsa-sha2-nistp256@openssh.com")
        self.assertTrue(r["stub"].endswith("id_ecdsa_sk"))
        self.assertTrue(any("ecdsa-sk key instead" in x
                            for x in self.askpass.prompts()))


def parse_attestation(path):
    import struct
    with open(path, "rb") as f:
        data = f.read()
    fields = []
    off = 0
    for _ in range(4):
        (n,) = struct.unpack(">I", data[off:off + 4])
        fields.append(data[off + 4:off + 4 + n])
        off += 4 + n
    return {"magic": fields[0], "fields": fields[1:],
            "cert": fields[1], "sig": fields[2], "authdata": fields[3],
            "tail": data[off:]}


def verify_self_attestation(test, att, r, challenge):
    import base64
    import hashlib
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PublicKey)
    # authData is CBOR-wrapped (byte string header), as OpenSSH stores it.
    ad = att["authdata"]
    hdr = ad[0]
    if hdr == 0x59:
        ad = ad[3:]
    elif hdr == 0x58:
        ad = ad[2:]
    else:
        test.fail("authdata is not a CBOR byte string")
    signed = ad + hashlib.sha256(challenge).digest()
    if att["cert"] != b"":
        # Full attestation (the test token's certificate): its key signs.
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        cert = x509.load_der_x509_certificate(att["cert"])
        cert.public_key().verify(att["sig"], signed,
                                 ec.ECDSA(hashes.SHA256()))
        return
    blob = base64.b64decode(r["public_key"].split()[1])
    pk = blob[4 + 26 + 4:4 + 26 + 4 + 32]
    Ed25519PublicKey.from_public_bytes(pk).verify(att["sig"], signed)


if __name__ == "__main__":
    e2elib.need(FIDOSIM, "fidosim")
    e2elib.need(PROVIDER, "SecurityKeyProvider")
    e2elib.need(YKSSH, "ykssh")
    unittest.main(argv=[sys.argv[0], "-v"])
