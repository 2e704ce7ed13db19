#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""ykssh enroll --piv against the software PIV card (tests/sim/piv), proven
by the real libykcs11, pkcs11-tool, ssh-keygen -D, ssh and sshd.

usage: test_enroll_piv.py PIVSIM YKPIV_CHECK [unittest args]
(YKSSH_BIN, YKSSH_SOURCE_DIR in the environment).  The script re-runs
itself in private namespaces (pivenv): pcscd, the card and sshd die with
it.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.environ["YKSSH_SOURCE_DIR"], "tests",
                                "sim", "piv"))
sys.path.insert(0, os.path.join(os.environ["YKSSH_SOURCE_DIR"], "tests",
                                "sim", "bitbucket"))
import bbenv  # noqa: E402
import e2elib  # noqa: E402
import pivenv  # noqa: E402

YKSSH = os.environ.get("YKSSH_BIN")
YKCS11 = "/usr/lib/x86_64-linux-gnu/libykcs11.so"
OPENSC = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
PIVSIM = None
YKPIV_CHECK = None
NEW_PIN = "24681357"
NEW_PUK = "97531864"


class Answers:
    """SSH_ASKPASS whose answer depends on the prompt: rules are
    (substring, answer); confirm prompts exit 0 when self.confirm."""

    def __init__(self, d):
        self.path = os.path.join(d, "askpass")
        self.rules = os.path.join(d, "askpass.rules")
        self.log = os.path.join(d, "askpass.log")
        self.confirm = os.path.join(d, "askpass.confirm")
        with open(self.path, "w") as f:
            f.write("#!/bin/sh\n"
                    "printf '%%s\\n' \"$1\" >> '%s'\n"
                    "if [ \"$SSH_ASKPASS_PROMPT\" = confirm ]; then\n"
                    "  [ \"$(cat '%s')\" = yes ]; exit $?\n"
                    "fi\n"
                    "while IFS='|' read -r pat ans; do\n"
                    "  case \"$1\" in *\"$pat\"*) printf '%%s\\n' \"$ans\";"
                    " exit 0;; esac\n"
                    "done < '%s'\n"
                    "exit 1\n" % (self.log, self.confirm, self.rules))
        os.chmod(self.path, 0o700)
        self.set()

    def set(self, confirm=False, **rules):
        """Keyword rules: pin=, puk=, mgmt=, new_pin=, new_puk=."""
        keys = {"new_pin": "new PIV PIN", "new_puk": "new PIV PUK",
                "pin": "PIN", "puk": "current PIV PUK",
                "mgmt": "management key"}
        with open(self.rules, "w") as f:
            # More specific patterns first.
            for k in ("new_pin", "new_puk", "puk", "mgmt", "pin"):
                if k in rules:
                    f.write("%s|%s\n" % (keys[k], rules[k]))
        with open(self.confirm, "w") as f:
            f.write("yes" if confirm else "no")
        open(self.log, "w").close()

    def prompts(self):
        with open(self.log) as f:
            return [l.rstrip("\n") for l in f]

    def env(self):
        return {"SSH_ASKPASS": self.path, "SSH_ASKPASS_REQUIRE": "force",
                "DISPLAY": ":0"}


def tlv(data, tag):
    i = 0
    while i + 2 <= len(data):
        t, n = data[i], data[i + 1]
        if t == tag:
            return data[i + 2:i + 2 + n]
        i += 2 + n
    return None


class PivTest(unittest.TestCase):
    profile = "5.4"
    touch = "approve"
    env_args = {}

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="e2e-piv-")
        self.addCleanup(self.tmp.cleanup)
        self.home = os.path.join(self.tmp.name, "home")
        os.makedirs(self.home, mode=0o700)
        self.piv = pivenv.PivEnv(PIVSIM, profile=self.profile,
                                 touch=self.touch, **self.env_args)
        self.piv.__enter__()
        self.addCleanup(self.piv.__exit__, None, None, None)
        self.ask = Answers(self.tmp.name)
        self.env = dict(self.piv.env, HOME=self.home, **self.ask.env())

    def ykssh(self, *args, timeout=90):
        return e2elib.run([YKSSH] + list(args), env=self.env,
                          timeout=timeout)

    def enroll(self, *args, ok=True):
        p = self.ykssh("enroll", "--piv", "--no-register", "--reader",
                       pivenv.READER, *args)
        if ok and p.returncode != 0:
            raise AssertionError("enroll failed (%d):\n%s%s"
                                 % (p.returncode, p.stdout, p.stderr))
        return p

    def metadata(self, ref):
        out = subprocess.run([YKPIV_CHECK, "@" + self.piv.reader,
                              "metadata", ref], env=self.piv.env,
                             stdout=subprocess.PIPE, text=True,
                             timeout=60).stdout
        line = [l for l in out.splitlines()
                if l.startswith("metadata %s " % ref)][0]
        self.assertIn("sw=9000", line)
        return bytes.fromhex(line.split("data=")[1].strip())

    def pin_retries(self):
        return tlv(self.metadata("80"), 0x06)[1]

    def tool(self, *args):
        return e2elib.run(["yubico-piv-tool", "-r",
                           self.piv.reader_name_filter()] + list(args),
                          env=self.piv.env)

    def pub(self, slot="9a"):
        with open(os.path.join(self.home, ".ssh", "id_piv_%s.pub" % slot)) \
                as f:
            return f.read().strip()


class EnrollMixin:
    """The happy path, run for each token profile."""

    def test_enroll_ssh_login(self):
        p = self.enroll("--json")
        rep = json.loads(p.stdout)
        self.assertEqual(rep["kind"], "piv")
        self.assertEqual(rep["slot"], "9a")
        self.assertEqual(rep["algorithm"], "eccp256")
        self.assertEqual(rep["pin_policy"], "once")
        self.assertEqual(rep["touch_policy"], "cached")
        self.assertEqual(rep["token"]["firmware"],
                         "5.4.3" if self.profile == "5.4" else "5.7.2")
        self.assertEqual(rep["management_key"],
                         "3des" if self.profile == "5.4" else "aes192")
        self.assertEqual(sorted(rep["factory_credentials"]),
                         ["factory PIN", "factory PUK",
                          "factory management key"])
        self.assertIn("factory PIV PIN", p.stderr)
        self.assertEqual(rep["pkcs11_module"], YKCS11)
        pub = self.pub()
        self.assertEqual(rep["public_key"], pub)
        st = os.stat(rep["public_key_file"])
        self.assertEqual(st.st_mode & 0o777, 0o644)
        # The attestation chain verifies up to the card's test root.
        v = e2elib.run(["openssl", "verify", "-CAfile", self.piv.ca,
                        "-untrusted", rep["attestation_file"],
                        rep["attestation_file"]])
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        # libykcs11 and pkcs11-tool see the same key.
        d = e2elib.run(["ssh-keygen", "-D", YKCS11], env=self.piv.env,
                       check=True).stdout
        self.assertIn(" ".join(pub.split()[:2]) +
                      " Public key for PIV Authentication", d)
        o = e2elib.run(["pkcs11-tool", "--module", YKCS11, "-O"],
                       env=self.piv.env, check=True).stdout
        self.assertIn("Public key for PIV Authentication", o)
        # OpenSC needs the certificate object: the attestation certificate.
        d = e2elib.run(["ssh-keygen", "-D", OPENSC], env=self.piv.env,
                       check=True).stdout
        self.assertIn(" ".join(pub.split()[:2]) + " PIV AUTH pubkey", d)
        # The config entry: module and the .pub as IdentityFile.
        cfg = os.path.join(self.home, ".ssh", "config")
        g = e2elib.run(["ssh", "-F", cfg, "-G", "bitbucket.org"],
                       env=self.env, check=True).stdout
        self.assertIn("pkcs11provider " + YKCS11, g)
        self.assertIn("identityfile " + self.home + "/.ssh/id_piv_9a.pub",
                      g)
        self.assertIn("identitiesonly yes", g)
        # A real login through that config entry, PIN via askpass.
        sshd = e2elib.Sshd(self.tmp.name)
        sshd.authorize(pub)
        sshd.start()
        self.addCleanup(sshd.stop)

        def login():
            return e2elib.run(
                ["ssh", "-F", cfg, "-o", "HostName=127.0.0.1", "-p",
                 str(sshd.port), "-o", "User=root", "-o",
                 "UserKnownHostsFile=" + sshd.known_hosts, "-o",
                 "PasswordAuthentication=no", "-o",
                 "KbdInteractiveAuthentication=no", "-o",
                 "ConnectTimeout=20", "bitbucket.org", "echo",
                 "logged-in-ok"], env=self.env, timeout=90)
        self.ask.set(pin="654321")
        before = self.pin_retries()
        r = login()
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn("logged-in-ok", r.stdout)
        self.assertEqual(self.pin_retries(), before - 1)
        self.ask.set(pin="123456")
        r = login()
        self.assertEqual(r.returncode, 0, r.stderr + sshd.read_log())
        self.assertIn("logged-in-ok", r.stdout)

    def test_setup_then_pin_only(self):
        self.ask.set(new_pin=NEW_PIN, new_puk=NEW_PUK)
        p = self.enroll("--setup", "--json")
        rep = json.loads(p.stdout)
        self.assertTrue(rep["setup"])
        self.assertTrue(rep["management_key_protected"])
        self.assertEqual(rep["factory_credentials"], [])
        self.assertNotIn("factory", p.stderr)
        for ref in ("80", "81", "9b"):
            self.assertEqual(tlv(self.metadata(ref), 0x05), b"\x00", ref)
        alg = tlv(self.metadata("9b"), 0x01)
        self.assertEqual(alg, b"\x03" if self.profile == "5.4" else
                         b"\x0a")
        # The factory PIN no longer verifies (yubico-piv-tool), the new does.
        self.assertNotEqual(self.tool("-a", "verify-pin", "-P",
                                      "123456").returncode, 0)
        self.assertEqual(self.tool("-a", "verify-pin", "-P",
                                   NEW_PIN).returncode, 0)
        # A later enroll asks only for the PIN.
        self.ask.set(pin=NEW_PIN)
        p = self.enroll("--slot", "9c", "--json")
        rep = json.loads(p.stdout)
        self.assertTrue(rep["pin_used"])
        prompts = self.ask.prompts()
        self.assertEqual(len(prompts), 1, prompts)
        self.assertIn("PIV PIN", prompts[0])
        self.assertNotIn("management", prompts[0])
        # The card was reset: the PIN is not left verified (libykpiv's
        # status would say -1 tries while it is).
        st = self.tool("-a", "status").stdout
        self.assertRegex(st, r"PIN tries left:\s*3")
        # Wrong PIN: 82 with the tries left, and the counter dropped.
        self.ask.set(pin="11112222")
        p = self.enroll("--slot", "9d", ok=False)
        self.assertEqual(p.returncode, 82, p.stderr)
        self.assertIn("wrong PIV PIN (2 tries left)", p.stderr)
        self.assertEqual(self.pin_retries(), 2)
        # One try left: not spent without confirmation.
        self.assertNotEqual(self.tool("-a", "verify-pin", "-P",
                                      "11112222").returncode, 0)
        self.ask.set(pin="11112222", confirm=False)
        p = self.enroll("--slot", "9d", ok=False)
        self.assertEqual(p.returncode, 81, p.stderr)
        self.assertIn("one PIN attempt left: ykssh did not use it",
                      p.stderr)
        self.assertEqual(self.pin_retries(), 1)
        # Confirmed and wrong: blocked (83), then refused as blocked.
        self.ask.set(pin="11112222", confirm=True)
        p = self.enroll("--slot", "9d", ok=False)
        self.assertEqual(p.returncode, 83, p.stderr)
        p = self.enroll("--slot", "9d", ok=False)
        self.assertEqual(p.returncode, 83, p.stderr)
        self.assertIn("PIN is blocked", p.stderr)
        self.assertIn("unblock", p.stderr)


class Profile54(EnrollMixin, PivTest):
    profile = "5.4"


class Profile57(EnrollMixin, PivTest):
    profile = "5.7"


class Touch(PivTest):
    profile = "5.7"

    def test_touch_always_denied(self):
        self.enroll("--touch-policy", "always", "--pin-policy", "never",
                    "--no-config")
        pub = self.pub()
        sshd = e2elib.Sshd(self.tmp.name)
        sshd.authorize(pub)
        sshd.start()
        self.addCleanup(sshd.stop)
        ident = os.path.join(self.home, ".ssh", "id_piv_9a.pub")
        self.ask.set(pin="123456")
        self.piv.control("touch deny")
        r = sshd.ssh(ident, self.env, extra=["-o", "PKCS11Provider=" +
                                             YKCS11])
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn("logged-in-ok", r.stdout)
        self.assertGreaterEqual(self.piv.stats()["touches_failed"], 1)
        self.piv.control("touch approve")
        r = sshd.ssh(ident, self.env, extra=["-o", "PKCS11Provider=" +
                                             YKCS11])
        self.assertEqual(r.returncode, 0, r.stderr)


class Failures(PivTest):
    profile = "5.4"

    def test_slot_occupied(self):
        self.enroll("--no-config")
        p = self.enroll("--no-config", ok=False)
        self.assertEqual(p.returncode, 85)
        self.assertIn("slot 9a of the token in %s already holds an eccp256 "
                      "key (generated on the token, PIN once, touch cached)"
                      % pivenv.READER, p.stderr)
        self.assertIn("YubiKey PIV Attestation 9a", p.stderr)
        self.assertIn("--force", p.stderr)
        p = self.enroll("--no-config", "--force", "--algorithm", "rsa2048",
                        "--json")
        rep = json.loads(p.stdout)
        self.assertIn("eccp256 key", rep["replaced"])
        self.assertTrue(rep["public_key"].startswith("ssh-rsa "))
        d = e2elib.run(["ssh-keygen", "-D", YKCS11], env=self.piv.env,
                       check=True).stdout
        self.assertIn(" ".join(rep["public_key"].split()[:2]), d)

    def test_register_cloud(self):
        """Registration and config entry with the Bitbucket emulator."""
        bb = bbenv.BitbucketEnv(flavours=("cloud",))
        bb.start()
        self.addCleanup(bb.stop)
        user, token = bb.cloud_token("alice", "full")
        self.env.update(YKSSH_BITBUCKET_USER=user,
                        YKSSH_BITBUCKET_TOKEN=token)
        p = self.ykssh("enroll", "--piv", "--reader", pivenv.READER,
                       "--label", "piv-work", "--api-url", bb.cloud_url,
                       "--cacert", bb.cacert, "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        rep = json.loads(p.stdout)
        self.assertEqual(rep["registration"]["label"], "piv-work")
        self.assertEqual(rep["ssh_config"]["host"], "bitbucket.org")
        self.assertNotIn("FIDO2", p.stderr)
        keys = bb.keys()["cloud"]
        blob = rep["public_key"].split()[1]
        self.assertTrue(any(blob in json.dumps(k) for k in keys), keys)
        self.assertTrue(rep["public_key_file"].endswith(
            "/.ssh/id_piv_9a_piv-work.pub"))

    def test_ed25519_unsupported(self):
        p = self.enroll("--algorithm", "ed25519", ok=False)
        self.assertEqual(p.returncode, 80)
        self.assertIn("firmware 5.7 and libykpiv 2.5", p.stderr)

    def test_wrong_management_key(self):
        key = "0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a09080"
        r = self.tool("--key=010203040506070801020304050607080102030405"
                      "060708", "-a", "set-mgm-key", "-n", key)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.ask.set(mgmt="00" * 24)
        p = self.enroll("--no-config", ok=False)
        self.assertEqual(p.returncode, 82, p.stderr)
        self.assertIn("wrong PIV management key", p.stderr)
        self.ask.set(mgmt=key)
        p = self.enroll("--no-config")
        self.assertIn("management key", self.ask.prompts()[0])

    def test_aes_management_keys(self):
        """AES-256 and AES-128 management keys (asked in hex), by hand."""
        k256 = bytes(range(0x40, 0x60)).hex()
        k128 = bytes(range(0x70, 0x80)).hex()
        rdr = "@" + self.piv.reader
        out = subprocess.run(
            [YKPIV_CHECK, rdr, "auth-3des", "01020304050607080102030405060708"
             "0102030405060708", "raw", "ff", "ff", "ff", "0c9b20" + k256],
            env=self.piv.env, stdout=subprocess.PIPE, text=True,
            timeout=60).stdout
        self.assertIn("raw ff sw=9000", out)
        self.ask.set(mgmt=k128 + k128)     # 32 bytes, but not the key
        p = self.enroll("--no-config", ok=False)
        self.assertEqual(p.returncode, 82, p.stderr)
        self.assertIn("wrong PIV management key", p.stderr)
        self.ask.set(mgmt=k256)
        rep = json.loads(self.enroll("--no-config", "--json").stdout)
        self.assertEqual(rep["management_key"], "aes256")
        out = subprocess.run(
            [YKPIV_CHECK, rdr, "auth-aes", "0c", k256, "raw", "ff", "ff",
             "ff", "089b10" + k128], env=self.piv.env,
            stdout=subprocess.PIPE, text=True, timeout=60).stdout
        self.assertIn("raw ff sw=9000", out)
        self.ask.set(mgmt=k128)
        rep = json.loads(self.enroll("--no-config", "--json", "--slot",
                                     "9c").stdout)
        self.assertEqual(rep["management_key"], "aes128")

    def test_card_pulled(self):
        """The card vanishes mid-enrollment: a clear error, no files."""
        for n in (5, 14):
            self.piv.control("fault pull-after %d" % n)
            p = self.enroll("--no-config", ok=False)
            self.assertEqual(p.returncode, 74, (n, p.stderr))
            self.assertRegex(p.stderr, r"card stopped answering|"
                             r"card communication", p.stderr)
            self.assertFalse(os.path.exists(os.path.join(
                self.home, ".ssh", "id_piv_9a.pub")))
            self.piv.wait_card(min_connects=2 if n == 5 else 3)

    def test_usage(self):
        p = self.ykssh("enroll", "--piv", "--resident")
        self.assertEqual(p.returncode, 64)
        self.assertIn("--resident is for FIDO2 keys", p.stderr)
        p = self.ykssh("enroll", "--slot", "9a")
        self.assertEqual(p.returncode, 64)
        self.assertIn("--slot needs --piv", p.stderr)
        p = self.ykssh("enroll", "--piv", "--slot", "9b")
        self.assertEqual(p.returncode, 64)


class NoReader(PivTest):
    env_args = {"reader": False}

    def test_no_reader(self):
        p = self.enroll(ok=False)
        self.assertEqual(p.returncode, 69)
        self.assertIn("no smart-card reader found", p.stderr)


class NoCard(PivTest):
    env_args = {"card": False}

    def test_no_card(self):
        p = self.enroll(ok=False)
        self.assertEqual(p.returncode, 69)
        self.assertIn("no card in reader", p.stderr)


class NotPiv(PivTest):
    env_args = {"piv": False}

    def test_not_piv(self):
        p = self.enroll(ok=False)
        self.assertEqual(p.returncode, 69)
        self.assertIn("is not a PIV card", p.stderr)


class Attestation(PivTest):
    """The PIV attestation (slot certificate signed by F9, F9 by the
    card's test root) decides whether enroll keeps the key."""
    profile = "5.4"

    def other_root(self):
        d = os.path.join(self.tmp.name, "other-trust")
        os.makedirs(d)
        e2elib.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", os.path.join(d, "key"), "-out",
                    os.path.join(d, "root.pem"), "-subj",
                    "/CN=some other PIV root", "-days", "30"], check=True)
        return d

    def test_trusted_root_passes(self):
        rep = json.loads(self.enroll("--no-config", "--json").stdout)
        a = rep["attestation"]
        self.assertEqual(a["status"], "verified", a)
        self.assertEqual(a["serial"], 16000001)
        self.assertEqual(a["firmware"], "5.4.3")
        self.assertEqual(a["pin_policy"], "once")
        self.assertEqual(a["touch_policy"], "cached")
        p = self.ykssh("--json", "verify", rep["public_key_file"])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertTrue(json.loads(p.stdout)["verified"])

    def test_untrusted_root_refused(self):
        self.env["YKSSH_TRUST_DIR"] = self.other_root()
        p = self.enroll("--no-config", "--json", ok=False)
        self.assertEqual(p.returncode, 86, p.stdout + p.stderr)
        err = json.loads(p.stdout)["error"]
        self.assertEqual(err["code"], "YKSSH_ERR_ATTESTATION")
        self.assertIn("untrusted", err["message"])
        self.assertIn("generated in slot 9a", err["message"])
        self.assertIn("--allow-unattested", err["hint"])
        ssh = os.path.join(self.home, ".ssh")
        self.assertEqual([n for n in os.listdir(ssh)
                          if n.startswith("id_piv")] if os.path.isdir(ssh)
                         else [], [])
        # --allow-unattested keeps it, with a warning.
        p = self.enroll("--no-config", "--json", "--force",
                        "--allow-unattested")
        self.assertIn("--allow-unattested", p.stderr)
        rep = json.loads(p.stdout)
        self.assertEqual(rep["attestation"]["status"], "untrusted")
        # verify: untrusted there, verified with the card's root.
        p = self.ykssh("verify", rep["public_key_file"])
        self.assertEqual(p.returncode, 86, p.stdout)
        self.assertIn("untrusted", p.stdout)
        p = self.ykssh("verify", "--trust-dir",
                       os.path.dirname(self.piv.ca), rep["public_key_file"])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("serial       16000001", p.stdout)

    def test_foreign_attestation(self):
        a = json.loads(self.enroll("--no-config", "--json").stdout)
        b = json.loads(self.enroll("--no-config", "--json", "--slot", "9c",
                                   "--pin-policy", "default").stdout)
        shutil.copy(b["attestation_file"], a["attestation_file"])
        p = self.ykssh("--json", "verify", a["public_key_file"])
        self.assertEqual(p.returncode, 86, p.stdout)
        att = json.loads(p.stdout)["keys"][0]["attestation"]
        self.assertEqual(att["status"], "invalid")
        self.assertIn("another key", att["reason"])


def main():
    global PIVSIM, YKPIV_CHECK
    pivenv.enter_namespace()
    PIVSIM = os.path.abspath(sys.argv.pop(1))
    YKPIV_CHECK = os.path.abspath(sys.argv.pop(1))
    if not YKSSH or shutil.which("pcscd") is None and \
            not os.path.exists(pivenv.PCSCD):
        sys.exit("needs YKSSH_BIN and pcscd")
    # The tests run in a child of PID 1: the Bitbucket emulator's
    # --die-with-parent takes a parent of PID 1 for a dead parent.
    child = os.fork()
    if child == 0:
        unittest.main(verbosity=2)
    while True:
        pid, status = os.wait()
        if pid == child:
            sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
