#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Bitbucket registration, proven by git push over SSH.

The software FIDO2 token, the Bitbucket emulator (Cloud 2.0 and Data
Center APIs over HTTPS with a test CA) and a real sshd whose
AuthorizedKeysCommand serves the registered keys.  git clone and git push
work with only what ykssh wrote (stub, config entry, registration); a key
that is not registered, or was deleted, is refused.  Each error class has
its message and exit status, through the emulator's fault injection.

usage: test_register.py FIDOSIM SK_PROVIDER    (YKSSH_BIN in the env)
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ["YKSSH_SOURCE_DIR"]
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "sim", "fido"))
sys.path.insert(0, os.path.join(SRC, "tests", "sim", "bitbucket"))
import bbenv  # noqa: E402
import e2elib  # noqa: E402
import simtoken  # noqa: E402
from simtoken import SimToken  # noqa: E402

FIDOSIM = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("FIDOSIM")
PROVIDER = sys.argv[2] if len(sys.argv) > 2 else None
YKSSH = os.environ.get("YKSSH_BIN")


class RegisterTest(unittest.TestCase):
    flavours = ("cloud", "dc")
    settings = {"cloud_accepts_sk": True}

    def setUp(self):
        # One emulator per test: settings and keys never leak between
        # tests.
        self.bb = bbenv.BitbucketEnv(flavours=self.flavours,
                                     settings=dict(self.settings))
        self.bb.start()
        self.addCleanup(self.bb.stop)
        self.tmp = tempfile.mkdtemp(prefix="ykssh-register-")
        self.home = os.path.join(self.tmp, "home")
        os.makedirs(self.home)
        self.token = SimToken(FIDOSIM, workdir=os.path.join(self.tmp, "t"))
        os.makedirs(self.token.workdir)
        self.token.start()
        self.nkeys = 0

    def tearDown(self):
        rc = self.token.stop()
        self.token.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(rc, 0)

    # environment of a user with Cloud or DC credentials
    def env(self, product="cloud", token="default", **extra):
        env = {"PATH": os.environ["PATH"], "HOME": self.home,
               "YKSSH_SK_DEVICE": "udp://127.0.0.1:%d?local=0" %
               self.token.port, "LANG": "C"}
        # Trust the test root of the token's attestation certificate.
        env.update(simtoken.trust_env())
        if product == "cloud" and token is not None:
            env["YKSSH_BITBUCKET_USER"], env["YKSSH_BITBUCKET_TOKEN"] = \
                self.bb.cloud_token("alice", "full" if token == "default"
                                    else token)
        elif product == "dc" and token is not None:
            env["YKSSH_BITBUCKET_TOKEN"] = self.bb.dc_token(
                "alice", "personal" if token == "default" else token)
        env.update(extra)
        return env

    def server_args(self, product="cloud"):
        if product == "cloud":
            return ["--api-url", self.bb.cloud_url, "--cacert",
                    self.bb.cacert]
        return ["--bitbucket-url", self.bb.dc_url, "--cacert",
                self.bb.cacert]

    def ykssh(self, *args, env=None, timeout=120):
        return e2elib.run([YKSSH, "--json"] + list(args), env=env or
                          self.env(), timeout=timeout)

    def enroll(self, product="cloud", *extra, env=None):
        return self.ykssh("enroll", "--device",
                          "udp://127.0.0.1:%d?local=0" % self.token.port,
                          *(self.server_args(product) + list(extra)),
                          env=env or self.env(product))

    def ssh_overrides(self, cloud_host=True):
        """What the test adds after ykssh's entry: where the emulator's
        sshd really is (for bitbucket.org), its host key, and the test
        SecurityKeyProvider.  ykssh's own lines come first and win."""
        with open(os.path.join(self.home, ".ssh", "config"), "a") as f:
            if cloud_host:
                f.write("\nHost bitbucket.org\n\tHostName 127.0.0.1\n"
                        "\tPort %d\n" % self.bb.ssh_port)
            f.write("\nHost *\n\tUserKnownHostsFile %s\n"
                    "\tSecurityKeyProvider %s\n\tBatchMode yes\n"
                    % (self.bb.known_hosts, PROVIDER))

    def ssh_config(self):
        return os.path.join(self.home, ".ssh", "config")

    def git(self, *args, cwd=None):
        # ssh reads the config of the password-database home, not $HOME:
        # name the file ykssh wrote.
        env = self.bb.git_env(extra={"HOME": self.home,
                                     "YKSSH_SK_DEVICE": self.env()[
                                         "YKSSH_SK_DEVICE"],
                                     "GIT_SSH_COMMAND": "ssh -F " +
                                     self.ssh_config()})
        return subprocess.run(["git"] + list(args), cwd=cwd, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=60,
                              start_new_session=True)

    def clone_and_push(self, url):
        work = os.path.join(self.tmp, "work")
        shutil.rmtree(work, ignore_errors=True)
        c = self.git("clone", "-q", url, work)
        if c.returncode != 0:
            return c
        with open(os.path.join(work, "change"), "w") as f:
            f.write("pushed by ykssh's key at %f\n" % time.time())
        self.git("add", "change", cwd=work)
        self.git("commit", "-q", "-m", "change", cwd=work)
        return self.git("push", "-q", "origin", "HEAD", cwd=work)

    def cloud_url(self):
        # The user in the URL wins over ykssh's "User git": the test sshd
        # logs in the user running the tests (see bbenv).
        return "ssh://%s@bitbucket.org%s" % (self.bb.login, self.bb.repo)


class TestGitPush(RegisterTest):
    def test_cloud_enroll_register_push(self):
        p = self.enroll("cloud", "--label", "work")
        self.assertEqual(p.returncode, 0, p.stderr)
        r = json.loads(p.stdout)
        self.assertEqual(r["registration"]["label"], "work")
        self.assertFalse(r["registration"]["already"])
        self.assertEqual(r["ssh_config"]["host"], "bitbucket.org")
        self.assertIn("does not document FIDO2", p.stderr)   # the warning
        self.ssh_overrides()
        g = e2elib.run(["ssh", "-F", self.ssh_config(), "-G",
                        "bitbucket.org"], env={"HOME": self.home, "PATH":
                                               os.environ["PATH"]})
        # $HOME is not the passwd home here: an absolute path, which ssh
        # reads the same whatever $HOME says.
        self.assertIn("identityfile %s" % r["stub"], g.stdout)
        self.assertIn("user git", g.stdout)
        p = self.clone_and_push(self.cloud_url())
        self.assertEqual(p.returncode, 0, p.stderr + self.bb.read_sshd_log())
        # Registered: the key is on alice's account in the emulator.
        keys = self.bb.keys()["cloud"]
        self.assertTrue(any(k["fingerprint"] == r["fingerprint"].split(
            ":", 1)[1] for k in keys), keys)
        # Deleted with ykssh: sshd refuses it now.
        d = self.ykssh("register", "--delete", r["fingerprint"],
                       *self.server_args("cloud"))
        self.assertEqual(d.returncode, 0, d.stderr)
        p = self.clone_and_push(self.cloud_url())
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("Permission denied", p.stderr)

    def test_dc_enroll_register_push(self):
        p = self.enroll("dc", "--label", "dc")
        self.assertEqual(p.returncode, 0, p.stderr)
        r = json.loads(p.stdout)
        # The SSH address comes from the server's SSH settings.
        self.assertEqual(r["ssh_config"]["host"], "127.0.0.1")
        self.assertEqual(r["ssh_config"]["port"], self.bb.ssh_port)
        self.ssh_overrides(cloud_host=False)
        url = "ssh://%s@127.0.0.1:%d%s" % (self.bb.login, self.bb.ssh_port,
                                          self.bb.repo)
        p = self.clone_and_push(url)
        self.assertEqual(p.returncode, 0, p.stderr + self.bb.read_sshd_log())

    def test_unregistered_key_refused(self):
        p = self.ykssh("enroll", "--device", "udp://127.0.0.1:%d?local=0" %
                       self.token.port, "--no-register", env=self.env())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.ssh_overrides()
        p = self.clone_and_push(self.cloud_url())
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("Permission denied", p.stderr)

    def test_second_key_gets_an_alias(self):
        a = self.enroll("cloud", "--label", "one")
        self.assertEqual(a.returncode, 0, a.stderr)
        b = self.enroll("cloud", "--label", "two")
        self.assertEqual(b.returncode, 0, b.stderr)
        r = json.loads(b.stdout)
        self.assertEqual(r["ssh_config"]["host"], "bitbucket.org-two")
        self.assertEqual(r["ssh_config"]["hostname"], "bitbucket.org")


class TestRegisterCommand(RegisterTest):
    def make_key(self):
        self.nkeys += 1
        k = os.path.join(self.tmp, "id%d" % self.nkeys)
        e2elib.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                    "me@test", "-f", k], check=True)
        return k + ".pub"

    def requests(self, expect=None):
        """The emulator's request log.  It records a request just after
        answering it, so wait (briefly) for the count expected."""
        deadline = time.monotonic() + 5
        while True:
            reqs = self.bb.api_requests()
            if expect is None or len(reqs) >= expect or \
                    time.monotonic() > deadline:
                return reqs
            time.sleep(0.05)

    def register(self, *args, product="cloud", env=None):
        return self.ykssh("register", *(self.server_args(product) +
                                         list(args)),
                          env=env or self.env(product))

    def test_twice_adds_nothing_and_costs_three_requests(self):
        pub = self.make_key()
        p = self.register(pub, "--label", "laptop")
        self.assertEqual(p.returncode, 0, p.stderr)
        r = json.loads(p.stdout)
        self.assertFalse(r["already_registered"])
        reqs = self.requests(expect=3)
        self.assertEqual([(x["method"], x["status"]) for x in reqs],
                         [("GET", 200), ("GET", 200), ("POST", 201)])
        self.assertEqual(self.bb.connections(), 1)
        self.bb.clear_log()
        p = self.register(pub, "--label", "other-label")
        self.assertEqual(p.returncode, 0, p.stderr)
        r2 = json.loads(p.stdout)
        self.assertTrue(r2["already_registered"])
        self.assertEqual(r2["key"]["id"], r["key"]["id"])
        self.assertNotIn("POST", [x["method"] for x in
                                  self.requests(expect=2)])
        # --list shows it; Data Center too.
        p = self.register("--list")
        self.assertIn(r["fingerprint"], p.stdout)
        p = self.register(pub, product="dc")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.register(pub, product="dc")
        self.assertTrue(json.loads(p.stdout)["already_registered"])

    def test_paging_is_followed(self):
        self.bb.set("cloud_max_pagelen", 2)
        self.bb.set("dc_max_limit", 2)
        pubs = []
        for i in range(5):
            pubs.append(self.make_key())
            self.assertEqual(self.register(pubs[-1], "--label",
                                           "k%d" % i).returncode, 0)
            self.assertEqual(self.register(pubs[-1], "--label", "k%d" % i,
                                           product="dc").returncode, 0)
        # The first key is on page 1 of 3: found, nothing added.
        for product in ("cloud", "dc"):
            p = self.register(pubs[0], "--label", "k0", product=product)
            self.assertTrue(json.loads(p.stdout)["already_registered"])
            p = self.register("--list", product=product)
            self.assertEqual(len(json.loads(p.stdout)["keys"]), 5)

    def expect(self, p, status, *texts):
        self.assertEqual(p.returncode, status, p.stdout + p.stderr)
        for t in texts:
            self.assertIn(t, p.stderr)

    def test_credential_errors(self):
        pub = self.make_key()
        e = self.env("cloud")
        e["YKSSH_BITBUCKET_TOKEN"] = "ATATT3xnot-a-real-token"
        self.expect(self.register(pub, env=e), 92,
                    "did not accept the credentials")
        user, app = self.bb.cloud_app_password()
        e = self.env("cloud", token=None, YKSSH_BITBUCKET_USER=user,
                     YKSSH_BITBUCKET_TOKEN=app)
        self.expect(self.register(pub, env=e), 92, "app password")
        self.expect(self.register(pub, env=self.env("cloud", "nowrite")),
                    93, "write:ssh-key:bitbucket")
        self.expect(self.register(pub, env=self.env("cloud", "noread")),
                    93, "read:user:bitbucket")
        self.expect(self.register(pub, env=self.env("cloud", None)), 92,
                    "no Bitbucket credentials found", "YKSSH_BITBUCKET_TOKEN")
        self.expect(self.register(pub, product="dc",
                                  env=self.env("dc", "expired")), 92)

    def test_git_credential_helper_and_settings_file(self):
        pub = self.make_key()
        user, tok = self.bb.cloud_token()
        # The user's git credential helper knows the API host.
        store = os.path.join(self.tmp, "git-credentials")
        host = self.bb.cloud_url.split("/")[2]
        with open(store, "w") as f:
            f.write("https://%s:%s@%s\n" % (user.replace("@", "%40"), tok,
                                          host))
        os.chmod(store, 0o600)
        with open(os.path.join(self.home, ".gitconfig"), "w") as f:
            f.write("[credential]\n\thelper = store --file %s\n" % store)
        # The server and CA come from the settings file.
        os.makedirs(os.path.join(self.home, ".config", "ykssh"))
        with open(os.path.join(self.home, ".config", "ykssh", "config"),
                  "w") as f:
            f.write("api-url = %s\ncacert = %s\n" % (self.bb.cloud_url,
                                                     self.bb.cacert))
        p = self.ykssh("register", pub, env=self.env("cloud", token=None))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(any(r["method"] == "POST" for r in
                            self.requests(expect=3)))

    def test_secrets_never_in_output(self):
        pub = self.make_key()
        e = self.env("cloud")
        p = e2elib.run([YKSSH, "-vvv", "register", pub] +
                       self.server_args("cloud"), env=e)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("GET", p.stderr)      # -vvv does log the requests
        self.assertNotIn(e["YKSSH_BITBUCKET_TOKEN"], p.stderr + p.stdout)
        e["YKSSH_BITBUCKET_TOKEN"] += "x"   # a failing one, likewise
        p = e2elib.run([YKSSH, "-vvv", "register", "--list"] +
                       self.server_args("cloud"), env=e)
        self.assertEqual(p.returncode, 92)
        self.assertNotIn(e["YKSSH_BITBUCKET_TOKEN"], p.stderr + p.stdout)

    def test_token_file_must_be_private(self):
        pub = self.make_key()
        os.makedirs(os.path.join(self.home, ".config", "ykssh"))
        f = os.path.join(self.home, ".config", "ykssh", "bitbucket")
        user, tok = self.bb.cloud_token()
        with open(f, "w") as fh:
            fh.write("user = %s\ntoken = %s\n" % (user, tok))
        os.chmod(f, 0o644)
        e = self.env("cloud", token=None)
        self.expect(self.register(pub, env=e), 77, "chmod 600")
        os.chmod(f, 0o600)
        p = self.register(pub, env=e)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_conflicts_and_not_found(self):
        pub = self.make_key()
        # On bob's account already: Cloud says so with a 400.
        e = self.env("cloud")
        e["YKSSH_BITBUCKET_USER"], e["YKSSH_BITBUCKET_TOKEN"] = \
            self.bb.cloud_token("bob")
        self.assertEqual(self.register(pub, env=e).returncode, 0)
        self.expect(self.register(pub), 95, "another Bitbucket account")
        # DC answers 409.
        e = self.env("dc")
        e["YKSSH_BITBUCKET_TOKEN"] = self.bb.dc_token("bob")
        self.assertEqual(self.register(pub, product="dc", env=e).returncode,
                         0)
        self.expect(self.register(pub, product="dc"), 95, "already exists")
        # A label used by another of alice's keys: a clear choice.
        other = self.make_key()
        self.assertEqual(self.register(other, "--label",
                                       "taken").returncode, 0)
        mine = self.make_key()
        self.expect(self.register(mine, "--label", "taken"), 95,
                    "already used by another key", "--delete")
        self.expect(self.register("--delete", "SHA256:nothing"), 94,
                    "no key")

    def test_rate_limit_and_server_errors(self):
        pub = self.make_key()
        self.bb.fault("fail 1 429 retry-after 1")
        t0 = time.monotonic()
        p = self.register(pub)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertGreaterEqual(time.monotonic() - t0, 1.0)
        statuses = [x["status"] for x in self.requests(expect=4)]
        self.assertEqual(statuses[0], 429)
        # Longer than ykssh waits: reported, not slept through.
        self.bb.fault("fail 1 429 retry-after 3600")
        self.expect(self.register("--list"), 96, "rate limited")
        # Reads survive a 500 and a dropped connection.
        self.bb.fault("reset")
        self.bb.fault("fail 1 500")
        self.assertEqual(self.register("--list").returncode, 0)
        self.bb.fault("drop 1")
        self.assertEqual(self.register("--list").returncode, 0)
        # A server that keeps failing is reported after bounded retries.
        self.bb.fault("fail 10 502")
        self.expect(self.register("--list"), 96, "server error 502")
        self.bb.fault("reset")

    def test_lost_write_is_checked_not_repeated(self):
        pub = self.make_key()
        self.bb.fault("fail-after-commit 1 500 method POST")
        p = self.register(pub)
        self.assertEqual(p.returncode, 0, p.stderr)
        posts = [x for x in self.requests(expect=4) if x["method"] == "POST"]
        self.assertEqual(len(posts), 1, self.bb.api_requests())
        self.assertEqual(len([k for k in self.bb.keys()["cloud"]
                              if k["label"] == json.loads(
                                  p.stdout)["key"]["label"]]), 1)

    def test_bad_replies_and_tls(self):
        self.bb.fault("malformed 5")
        self.expect(self.register("--list"), 98, "not valid JSON")
        self.bb.fault("reset")
        self.bb.fault("huge 5")
        self.expect(self.register("--list"), 98, "larger than")
        self.bb.fault("reset")
        # The wrong CA: verification fails, and is never turned off.
        p = self.ykssh("register", "--list", "--api-url", self.bb.cloud_url,
                       "--cacert", self.bb.other_cacert)
        self.expect(p, 91, "TLS", "--cacert")
        p = self.ykssh("register", "--list", "--api-url", self.bb.cloud_url)
        self.expect(p, 91, "TLS")
        # A timeout: the server is slower than http-timeout allows.
        os.makedirs(os.path.join(self.home, ".config", "ykssh"),
                    exist_ok=True)
        with open(os.path.join(self.home, ".config", "ykssh", "config"),
                  "w") as f:
            f.write("http-timeout = 1\n")
        self.bb.fault("latency 3000")
        self.expect(self.register("--list"), 90, "timed out")
        self.bb.fault("reset")


class TestTargetChecks(RegisterTest):
    settings = {"cloud_accepts_sk": False, "dc_version": "8.9.0"}

    def test_dc_too_old_for_sk_refused_before_touch(self):
        p = self.enroll("dc")
        self.assertEqual(p.returncode, 80, p.stderr)
        self.assertIn("8.13", p.stderr)
        self.assertIn("--piv", p.stderr)
        self.assertEqual(self.token.stats()["ctap"]["makeCredential"], 0)

    def test_cloud_refusing_sk_points_to_piv(self):
        p = self.enroll("cloud")
        self.assertEqual(p.returncode, 97, p.stderr)
        self.assertIn("not registered", p.stderr)
        self.assertIn("ykssh register", p.stderr)
        # The key files are there; ~/.ssh/config was not pointed at it.
        self.assertFalse(os.path.exists(os.path.join(self.home, ".ssh",
                                                     "config")))


class TestDcVerifyRequired(RegisterTest):
    settings = {"dc_version": "9.2.1"}

    def test_dc_verify_required_refused_before_touch(self):
        p = self.enroll("dc", "--verify-required")
        self.assertEqual(p.returncode, 80, p.stderr)
        self.assertIn("verify-required", p.stderr)
        self.assertEqual(self.token.stats()["ctap"]["makeCredential"], 0)


if __name__ == "__main__":
    e2elib.need(FIDOSIM, "fidosim")
    e2elib.need(PROVIDER, "SecurityKeyProvider")
    e2elib.need(YKSSH, "ykssh")
    unittest.main(argv=[sys.argv[0], "-v"])
