#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Fault injection, the request log, persistence and process hygiene of
the Bitbucket emulator, checked with curl."""

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
import bbenv  # noqa: E402
from bbtest import curl, keygen  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


class FaultTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bb = bbenv.BitbucketEnv(sshd=False, repo=False).__enter__()
        cls.tmp = tempfile.mkdtemp(prefix="bbemu-faults-")
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        errors = cls.bb.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        if errors:
            raise AssertionError("bbemu reported errors:\n" + errors)

    def setUp(self):
        self.bb.fault("reset")
        self.user = self.bb.cloud_url + "/user"
        self.auth = self.bb.cloud_token()
        self.keys = "%s/users/%s/ssh-keys" % (
            self.bb.cloud_url, self.bb.cloud_user()["account_id"])

    def newkey(self):
        FaultTest.n += 1
        return keygen(self.tmp, "k%d" % self.n)[1]

    def get_user(self, **kw):
        return curl(self.bb, "GET", self.user, auth=self.auth, **kw)

    def test_latency(self):
        self.bb.fault("latency 400")
        r = self.get_user()
        self.assertEqual(r.status, 200)
        self.assertGreaterEqual(r.time, 0.38)
        self.bb.fault("reset")
        r = self.get_user()
        self.assertEqual(r.status, 200)
        self.assertLess(r.time, 0.38)

    def test_429_retry_after(self):
        self.bb.fault("fail 2 429 retry-after 7")
        for _ in range(2):
            r = self.get_user()
            self.assertEqual(r.status, 429, r)
            self.assertEqual(r.headers.get("retry-after"), "7")
            j = r.json()
            self.assertEqual(j["type"], "error")
            self.assertEqual(j["error"]["message"],
                             "Rate limit for this resource has been exceeded.")
        self.assertEqual(self.get_user().status, 200)
        # Data Center paths get Data Center's error body.
        self.bb.fault("fail 1 429")
        r = curl(self.bb, "GET", self.bb.dc_url + "/rest/ssh/1.0/keys",
                 bearer=self.bb.dc_token())
        self.assertEqual(r.status, 429)
        self.assertNotIn("retry-after", r.headers)
        self.assertIn("errors", r.json())

    def test_fail_statuses_and_bodies(self):
        for st in (500, 502, 503):
            self.bb.fault("fail 1 %d" % st)
            r = self.get_user()
            self.assertEqual(r.status, st)
            self.assertEqual(r.json()["type"], "error")
        self.bb.fault("fail 1 502 body=html")
        r = self.get_user()
        self.assertEqual((r.status, r.headers["content-type"]),
                         (502, "text/html"))
        self.bb.fault("fail 1 503 body=empty")
        r = self.get_user()
        self.assertEqual((r.status, r.body), (503, b""))

    def test_fail_filtered_post_not_stored(self):
        self.bb.fault("fail 1 500 method=POST path=/2.0/users")
        self.assertEqual(self.get_user().status, 200)
        pub = self.newkey()
        r = curl(self.bb, "POST", self.keys, auth=self.auth,
                 data={"key": pub})
        self.assertEqual(r.status, 500, r)
        self.assertNotIn(pub.split()[1], json.dumps(self.bb.keys()))
        log = self.bb.api_requests()[-1]
        self.assertEqual((log["fault"], log["committed"], log["auth"]),
                         ("fail", False, "basic-api-token"))
        r = curl(self.bb, "POST", self.keys, auth=self.auth,
                 data={"key": pub})
        self.assertEqual(r.status, 201, r)

    def test_fail_after_commit(self):
        pub = self.newkey()
        self.bb.fault("fail-after-commit 1 500 method=POST")
        r = curl(self.bb, "POST", self.keys, auth=self.auth,
                 data={"key": pub})
        self.assertEqual(r.status, 500, r)
        self.assertIn(pub.split()[1], json.dumps(self.bb.keys()))
        log = self.bb.api_requests()[-1]
        self.assertEqual((log["fault"], log["committed"], log["status"]),
                         ("fail-after-commit", True, 500))
        # A retry now finds the key already registered.
        r = curl(self.bb, "POST", self.keys, auth=self.auth,
                 data={"key": pub})
        self.assertEqual(r.status, 400, r)
        pub = self.newkey()
        self.bb.fault("fail-after-commit 1 drop method=POST")
        r = curl(self.bb, "POST", self.keys, auth=self.auth,
                 data={"key": pub})
        self.assertEqual(r.rc, 52, r)     # empty reply from server
        self.assertIn(pub.split()[1], json.dumps(self.bb.keys()))

    def test_drop(self):
        self.bb.fault("drop 1")
        r = self.get_user()
        self.assertEqual(r.rc, 52, r)
        e = self.bb.api_requests()[-1]
        self.assertEqual((e["fault"], e["status"], e["committed"]),
                         ("drop", None, False))
        self.assertEqual(self.get_user().status, 200)

    def test_drop_on_reused_connection(self):
        # libcurl silently retries a request whose reused connection
        # closed without an answer (once, on a new connection): drop 1
        # is then invisible to the client; drop 2 is not.
        self.bb.clear_log()
        self.bb.fault("drop 1 path=/2.0/users")
        r = curl(self.bb, "GET", self.user, auth=self.auth, urls=[self.keys])
        self.assertEqual((r.rc, r.statuses), (0, [200, 200]), r)
        log = self.bb.log()
        self.assertEqual([e["event"] for e in log],
                         ["connect", "request", "request", "connect",
                          "request"])
        self.assertEqual(log[2]["fault"], "drop")
        self.assertTrue(log[3]["tls_resumed"])
        self.bb.fault("drop 2 path=/2.0/users")
        r = curl(self.bb, "GET", self.user, auth=self.auth, urls=[self.keys])
        self.assertEqual(r.rc, 52, r)

    def test_truncate(self):
        self.bb.fault("truncate 1")
        r = self.get_user()
        self.assertEqual(r.rc, 18, r)     # partial file
        self.assertEqual(r.status, 200)
        self.assertLess(len(r.body), int(r.headers["content-length"]))
        with self.assertRaises(ValueError):
            r.json()

    def test_malformed(self):
        self.bb.fault("malformed 1")
        r = self.get_user()
        self.assertEqual((r.rc, r.status), (0, 200), r)
        self.assertEqual(len(r.body), int(r.headers["content-length"]))
        with self.assertRaises(ValueError):
            r.json()
        self.assertEqual(self.get_user().json()["nickname"], "alice")

    def test_huge(self):
        self.bb.fault("huge 1 3")
        r = self.get_user()
        self.assertEqual((r.rc, r.status), (0, 200), r)
        self.assertEqual(r.headers.get("transfer-encoding"), "chunked")
        self.assertGreater(len(r.body), 3 * 1000 * 1000)
        self.assertLessEqual(len(r.body), 3 << 20)
        self.assertGreater(len(r.json()["values"]), 3000)
        # With a Content-Length a client can refuse before reading.
        self.bb.fault("huge 1 length")
        r = self.get_user(extra=["--max-filesize", "100000"])
        self.assertEqual(r.rc, 63, r)     # maximum file size exceeded
        self.assertGreater(int(r.headers["content-length"]), 50 * 1000000)
        # The default is 50 MB, streamed; a client that gives up early
        # does not upset the emulator.
        self.bb.fault("huge 1")
        p = subprocess.Popen(["curl", "-sS", "--globoff", "--cacert",
                              self.bb.cacert, "-u", "%s:%s" % self.auth,
                              self.user], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
        got = p.stdout.read(1 << 20)
        p.kill()
        p.wait()
        p.stdout.close()
        self.assertEqual(len(got), 1 << 20)
        self.assertEqual(self.get_user().status, 200)

    def test_fault_count_and_reset(self):
        self.bb.fault("fail 3 500")
        self.assertEqual(self.get_user().status, 500)
        self.assertEqual(json.loads(self.bb.control("faults"))[0]["count"], 2)
        self.bb.fault("reset")
        self.assertEqual(self.get_user().status, 200)
        self.assertEqual(self.bb.control("faults"), "[]")
        for bad in ("fail", "fail 1", "fail 1 200", "fail x 500", "drop 0",
                    "latency -1", "bogus", "huge 1 x", "set nothing 1",
                    "fail 1 500 colour=red"):
            self.assertTrue(self.bb.control(bad).startswith("error"), bad)

    def test_request_log_connections_and_secrets(self):
        self.bb.clear_log()
        # One curl, three URLs: one connection, one TLS handshake.
        r = curl(self.bb, "GET", self.user, auth=self.auth,
                 urls=[self.keys, self.user])
        self.assertEqual(r.statuses, [200, 200, 200])
        self.assertEqual(self.bb.connections(), 1)
        self.get_user()
        self.assertEqual(self.bb.connections(), 2)
        reqs = self.bb.api_requests()
        self.assertEqual([(e["method"], e["path"], e["status"])
                          for e in reqs],
                         [("GET", "/2.0/user", 200),
                          ("GET", self.keys[len(self.bb.base):], 200),
                          ("GET", "/2.0/user", 200),
                          ("GET", "/2.0/user", 200)])
        c = [e["conn"] for e in reqs]
        self.assertEqual(c[:3], [c[0]] * 3)
        self.assertNotEqual(c[3], c[0])
        self.assertEqual({e["auth"] for e in reqs}, {"basic-api-token"})
        for e in reqs:
            self.assertIsInstance(e["ts"], float)
            self.assertIsInstance(e["ms"], float)
        # Same entries in the JSON-lines file.
        with open(os.path.join(self.bb.state_dir, "requests.jsonl")) as f:
            lines = [json.loads(line) for line in f]
        self.assertEqual(lines, self.bb.log())
        # Use every kind of credential, then look for them in the logs.
        curl(self.bb, "GET", self.user, bearer=self.bb.cloud_oauth())
        curl(self.bb, "GET", self.user, auth=self.bb.cloud_app_password())
        curl(self.bb, "GET", self.bb.dc_url + "/rest/ssh/1.0/keys",
             auth=("alice", self.bb.dc_user()["password"]))
        curl(self.bb, "GET", self.bb.dc_url + "/rest/ssh/1.0/keys",
             bearer=self.bb.dc_token())
        with open(os.path.join(self.bb.state_dir, "requests.jsonl")) as f:
            text = f.read() + self.bb.control("log")
        secrets = []
        for u in self.bb.state["cloud"]["users"]:
            secrets += [t["token"] for t in u["api_tokens"] +
                        u["oauth_tokens"]] + u["app_passwords"]
        for u in self.bb.state["dc"]["users"]:
            secrets += [t["token"] for t in u["tokens"]] + [u["password"]]
        for s in secrets:
            self.assertNotIn(s, text)
            self.assertNotIn(s[4:20], text)

    def test_tls_untrusted_ca_fails(self):
        r = curl(self.bb, "GET", self.user, auth=self.auth,
                 cacert=self.bb.other_cacert)
        self.assertEqual(r.rc, 60, r)     # peer certificate not verified
        r = curl(self.bb, "GET", self.user.replace("127.0.0.1", "localhost"),
                 auth=self.auth)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(any(e["event"] == "handshake-failed"
                            for e in self.bb.log()))


class ProcessTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="bbemu-proc-")
        self.ca = bbenv.make_ca(self.tmp)
        self.cert = bbenv.make_server_cert(self.tmp, self.ca)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            if p.stdout:
                p.stdout.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, state, *extra):
        p = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(HERE, "bbemu.py"), "--state",
             state, "--port", "0", "--cert", self.cert[0], "--key",
             self.cert[1]] + list(extra), stdout=subprocess.PIPE,
            start_new_session=True)
        self.procs.append(p)
        line = p.stdout.readline().decode()
        self.assertTrue(line.startswith("READY port="), line)
        return p, int(line.split("=")[1])

    def test_state_persists_across_restart(self):
        state = os.path.join(self.tmp, "state")
        os.mkdir(state)
        st = bbenv.default_state()
        with open(os.path.join(state, "state.json"), "w") as f:
            json.dump(st, f)
        p, port = self.start(state, "--fault", "latency 1")
        u = st["cloud"]["users"][0]
        pub = keygen(self.tmp, "k")[1]

        class B:
            cacert = self.ca[0]
        url = "https://127.0.0.1:%d/2.0/users/%s/ssh-keys" % (
            port, u["account_id"])
        tok = (u["email"], u["api_tokens"][0]["token"])
        self.assertEqual(curl(B, "POST", url, auth=tok,
                              data={"key": pub}).status, 201)
        os.killpg(p.pid, signal.SIGTERM)
        self.assertEqual(p.wait(timeout=10), 0)
        self.assertEqual(oct(os.stat(os.path.join(state, "state.json"))
                             .st_mode & 0o777), "0o600")
        p, port = self.start(state)
        url = "https://127.0.0.1:%d/2.0/users/%s/ssh-keys" % (
            port, u["account_id"])
        r = curl(B, "GET", url, auth=tok)
        self.assertEqual([v["key"] for v in r.json()["values"]],
                         [" ".join(pub.split()[:2])])
        self.assertEqual(os.listdir(state).count("state.json"), 1)
        self.assertFalse([f for f in os.listdir(state) if ".tmp." in f])

    def test_control_quit(self):
        state = os.path.join(self.tmp, "q")
        os.mkdir(state)
        sock = os.path.join(self.tmp, "ctl")
        p, port = self.start(state, "--control", sock)
        import socket
        c = socket.socket(socket.AF_UNIX)
        c.connect(sock)
        f = c.makefile("rwb")
        for cmd, want in ((b"ping", b"ok"), (b"nonsense", b"error"),
                          (b"latency 5", b"ok"), (b"conns", b"0"),
                          (b"quit", b"ok")):
            f.write(cmd + b"\n")
            f.flush()
            self.assertTrue(f.readline().startswith(want), cmd)
        f.close()
        c.close()
        self.assertEqual(p.wait(timeout=10), 0)
        self.assertFalse(os.path.exists(sock))

    def test_bad_start_fault_refused(self):
        state = os.path.join(self.tmp, "s")
        os.mkdir(state)
        p = subprocess.run(
            ["/usr/bin/python3", os.path.join(HERE, "bbemu.py"), "--state",
             state, "--cert", self.cert[0], "--key", self.cert[1],
             "--fault", "fail 1"], capture_output=True, text=True,
            timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("fail 1", p.stderr)
        self.assertEqual(p.stdout, "")

    def test_die_with_parent(self):
        state = os.path.join(self.tmp, "s")
        os.mkdir(state)
        pidfile = os.path.join(self.tmp, "pid")
        # A parent that starts the emulator, reports its pid, then waits.
        code = ("import subprocess,sys\n"
                "p=subprocess.Popen(['/usr/bin/python3',%r,'--state',%r,"
                "'--cert',%r,'--key',%r,'--die-with-parent'],"
                "stdout=subprocess.PIPE)\n"
                "sys.stdout.write(p.stdout.readline().decode())\n"
                "open(%r,'w').write(str(p.pid))\n"
                "sys.stdout.flush()\n"
                "import time; time.sleep(120)\n"
                % (os.path.join(HERE, "bbemu.py"), state, self.cert[0],
                   self.cert[1], pidfile))
        parent = subprocess.Popen(["/usr/bin/python3", "-c", code],
                                  stdout=subprocess.PIPE,
                                  start_new_session=True)
        self.procs.append(parent)
        self.assertTrue(parent.stdout.readline().startswith(b"READY"))
        deadline = time.monotonic() + 10
        while not os.path.exists(pidfile) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.05)
        with open(pidfile) as f:
            child = int(f.read())
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                break
            # A zombie reparented to init is gone for our purpose.
            try:
                with open("/proc/%d/stat" % child) as f:
                    if f.read().split(")")[1].split()[0] == "Z":
                        break
            except OSError:
                break
            time.sleep(0.05)
        else:
            os.kill(child, signal.SIGKILL)
            self.fail("emulator outlived its parent")

    def test_two_emulators_at_once(self):
        with bbenv.BitbucketEnv(sshd=False, repo=False) as a, \
                bbenv.BitbucketEnv(sshd=False, repo=False) as b:
            self.assertNotEqual(a.port, b.port)
            pub = keygen(self.tmp, "k2")[1]
            url = "%s/users/%s/ssh-keys" % (a.cloud_url,
                                            a.cloud_user()["account_id"])
            self.assertEqual(curl(a, "POST", url, auth=a.cloud_token(),
                                  data={"key": pub}).status, 201)
            # b knows neither a's users nor a's keys.
            self.assertEqual(curl(b, "GET", url.replace(a.cloud_url,
                                                        b.cloud_url),
                                  auth=a.cloud_token()).status, 401)
            self.assertEqual(b.keys(), {"cloud": [], "dc": []})
            # Each trusts only its own CA.
            self.assertEqual(curl(b, "GET", b.cloud_url + "/user",
                                  cacert=a.cacert).rc, 60)
            dirs = (a.tmp, b.tmp)
            pids = (a.emu.pid, b.emu.pid)
        for d in dirs:
            self.assertFalse(os.path.exists(d))
        for pid in pids:
            with self.assertRaises(ProcessLookupError):
                os.kill(pid, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
