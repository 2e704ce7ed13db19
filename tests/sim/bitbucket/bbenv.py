# SPDX-License-Identifier: BSD-2-Clause
"""Test support: a Bitbucket emulator, a git-over-SSH sshd and a repository.

    import os, sys
    sys.path.insert(0, os.path.join(os.environ["YKSSH_SOURCE_DIR"],
                                    "tests", "sim", "bitbucket"))
    import bbenv

    with bbenv.BitbucketEnv() as bb:          # Cloud and Data Center
        bb.cloud_url, bb.dc_url, bb.cacert    # API endpoints, CA file
        bb.cloud_token("alice")               # (e-mail, API token)
        bb.fault("fail 1 429 retry-after 2")
        bb.api_requests(), bb.connections()   # the request log
        bb.git_url, bb.git_env(identity)      # git over SSH

Everything started here (emulator, sshd) runs in its own process group
and is stopped by stop()/__exit__, also when the test failed; every
temporary directory is removed.  Ports are chosen at run time, so several
environments can run at once.  See README.md.
"""

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import uuid as uuidlib

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
SSHD = "/usr/sbin/sshd"
GIT_SHELL = "/usr/bin/git-shell"

ALL_CLOUD_SCOPES = ["read:user:bitbucket", "read:ssh-key:bitbucket",
                    "write:ssh-key:bitbucket", "delete:ssh-key:bitbucket"]


def run(cmd, env=None, timeout=60, input=None, check=False, cwd=None):
    """Runs cmd without a controlling terminal; returns CompletedProcess."""
    p = subprocess.run(cmd, env=env, timeout=timeout, input=input, cwd=cwd,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       start_new_session=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (
            cmd, p.returncode, p.stdout, p.stderr))
    return p


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_ca(directory, name="ca", cn="ykssh test CA"):
    """A throwaway CA: returns (cert path, key path)."""
    cert = os.path.join(directory, name + ".pem")
    key = os.path.join(directory, name + ".key")
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
         "-out", cert, "-days", "2", "-subj", "/CN=" + cn,
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"], check=True)
    return cert, key


def make_server_cert(directory, ca, name="server"):
    """A server certificate for 127.0.0.1 and localhost signed by ca."""
    cert = os.path.join(directory, name + ".pem")
    key = os.path.join(directory, name + ".key")
    csr = os.path.join(directory, name + ".csr")
    ext = os.path.join(directory, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\n")
    run(["openssl", "req", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
         "-out", csr, "-subj", "/CN=127.0.0.1"], check=True)
    run(["openssl", "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey",
         ca[1], "-set_serial", str(secrets.randbits(63)), "-days", "2",
         "-extfile", ext, "-out", cert], check=True)
    return cert, key


def _tok(prefix):
    return prefix + secrets.token_urlsafe(24)


def cloud_user(nickname, display_name=None):
    """A Cloud account with the usual credential set (random secrets).

    api_tokens by name: full (all four scopes), read (read:user +
    read:ssh-key), nowrite (no write scope), nodelete (no delete scope),
    noread (no read:user), expired (all scopes, expired);
    oauth_tokens: write (account, account:write), read (account),
    expired; app_passwords: one.
    """
    u = str(uuidlib.uuid4())
    r = ["read:user:bitbucket", "read:ssh-key:bitbucket"]

    def api(name, scopes, expires=None):
        t = {"name": name, "token": _tok("ATATT3x"), "scopes": scopes}
        if expires:
            t["expires"] = expires
        return t
    return {
        "uuid": "{%s}" % u,
        "account_id": "557058:" + u,
        "email": "%s@example.com" % nickname,
        "nickname": nickname,
        "display_name": display_name or nickname.capitalize() + " Example",
        "api_tokens": [
            api("full", list(ALL_CLOUD_SCOPES)),
            api("read", r),
            api("nowrite", r + ["delete:ssh-key:bitbucket"]),
            api("nodelete", r + ["write:ssh-key:bitbucket"]),
            api("noread", ["read:ssh-key:bitbucket",
                           "write:ssh-key:bitbucket",
                           "delete:ssh-key:bitbucket"]),
            api("expired", list(ALL_CLOUD_SCOPES), "2026-01-01T00:00:00Z"),
        ],
        "oauth_tokens": [
            {"name": "write", "token": _tok("oa-"),
             "scopes": ["account", "account:write"]},
            {"name": "read", "token": _tok("oa-"), "scopes": ["account"]},
            {"name": "expired", "token": _tok("oa-"),
             "scopes": ["account", "account:write"],
             "expires": "2026-01-01T00:00:00Z"},
        ],
        "app_passwords": [_tok("ATBB")],
        "keys": [],
    }


def dc_user(slug, admin=False):
    """A Data Center user: password, personal HTTP access tokens
    "personal" and "expired"."""
    return {"slug": slug, "name": slug, "email": "%s@example.com" % slug,
            "display_name": slug.capitalize() + " Example", "admin": admin,
            "password": _tok("pw-"),
            "tokens": [{"name": "personal", "token": _tok("BBDC-")},
                       {"name": "expired", "token": _tok("BBDC-"),
                        "expires": "2026-01-01T00:00:00Z"}],
            "keys": []}


def default_state(flavours=("cloud", "dc"), settings=None):
    """Cloud users alice and bob; DC users alice, bob and admin."""
    st = {"settings": {"flavours": list(flavours)},
          "cloud": {"users": [cloud_user("alice"), cloud_user("bob")]},
          "dc": {"users": [dc_user("alice"), dc_user("bob"),
                           dc_user("admin", admin=True)], "next_id": 1}}
    st["settings"].update(settings or {})
    return st


class BitbucketEnv:
    """Emulator (+ sshd + bare repository) for one test or test class."""

    def __init__(self, flavours=("cloud", "dc"), settings=None, state=None,
                 sshd=True, repo=True, faults=(), run_parent="/run"):
        self.flavours = list(flavours)
        self.state = state or default_state(flavours, settings)
        if state is not None:
            st = self.state.setdefault("settings", {})
            st.setdefault("flavours", list(flavours))
            st.update(settings or {})
        self.run_parent = run_parent
        self.want_sshd = sshd
        self.want_repo = repo
        self.start_faults = list(faults)
        self.tmp = None
        self.rundir = None
        self.emu = None
        self.sshd = None
        self.port = None
        self.ssh_port = None
        self.login = pwd.getpwuid(os.geteuid()).pw_name

    # --- life cycle --------------------------------------------------

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        errors = self.stop()
        if exc_type is None and errors:
            raise AssertionError("bbemu reported errors:\n" + errors)
        return False

    def start(self):
        """Starts everything; on failure stops what was started."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self):
        if self.want_sshd and os.geteuid() != 0:
            raise unittest.SkipTest(
                "sshd with an AuthorizedKeysCommand needs root (see "
                "tests/sim/bitbucket/README.md)")
        self.tmp = tempfile.mkdtemp(prefix="ykssh-bbenv-")
        self.state_dir = os.path.join(self.tmp, "state")
        os.mkdir(self.state_dir, 0o700)
        self.ca = make_ca(self.tmp)
        self.cacert = self.ca[0]
        self.cert = make_server_cert(self.tmp, self.ca)
        self.other_ca = make_ca(self.tmp, "other-ca", "untrusted test CA")
        self.other_cacert = self.other_ca[0]
        self.home = os.path.join(self.tmp, "home")
        os.mkdir(self.home, 0o700)
        if self.want_sshd:
            self._prepare_sshd()
        with open(os.path.join(self.state_dir, "state.json"), "w") as f:
            json.dump(self.state, f, indent=1)
        self._start_emulator()
        if self.want_repo:
            self._make_repo()
        if self.want_sshd:
            self._start_sshd()
        return self

    def _start_emulator(self):
        self.control_path = os.path.join(self.tmp, "control.sock")
        cmd = [PYTHON, os.path.join(HERE, "bbemu.py"), "--state",
               self.state_dir, "--port", "0", "--cert", self.cert[0],
               "--key", self.cert[1], "--control", self.control_path,
               "--die-with-parent"]
        for f in self.start_faults:
            cmd += ["--fault", f]
        self.emu_log = open(os.path.join(self.tmp, "bbemu.stderr"), "w")
        self.emu = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                    stderr=self.emu_log,
                                    start_new_session=True)
        import select
        r, _, _ = select.select([self.emu.stdout], [], [], 15)
        line = self.emu.stdout.readline().decode() if r else ""
        if not line.startswith("READY port="):
            raise AssertionError("bbemu did not start: %r %s" % (
                line, self._read(self.emu_log.name)))
        self.port = int(line.split("=", 1)[1])
        self.base = "https://127.0.0.1:%d" % self.port
        self.cloud_url = self.base + "/2.0"
        self.dc_url = self.base

    def _prepare_sshd(self):
        # sshd requires the AuthorizedKeysCommand and every directory
        # above it to be root-owned and not group/world writable: /tmp is
        # 1777, so the command gets its own directory under /run.
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        # run_parent must itself be root-owned and not group/world
        # writable, all the way up (sshd checks).
        self.rundir = tempfile.mkdtemp(prefix="ykssh-bbenv-",
                                       dir=self.run_parent)
        os.chmod(self.rundir, 0o755)
        self.authkeys = os.path.join(self.rundir, "authkeys.py")
        shutil.copyfile(os.path.join(HERE, "authkeys.py"), self.authkeys)
        os.chmod(self.authkeys, 0o755)
        self.sshd_dir = os.path.join(self.tmp, "sshd")
        os.mkdir(self.sshd_dir, 0o700)
        self.hostkey = os.path.join(self.sshd_dir, "hostkey")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bbenv",
             "-f", self.hostkey], check=True)
        fp = run(["ssh-keygen", "-l", "-E", "sha256", "-f",
                  self.hostkey + ".pub"], check=True).stdout.split()[1]
        self.ssh_port = free_port()
        s = self.state["settings"]
        s["ssh_port"] = self.ssh_port
        s["ssh_host"] = "127.0.0.1"
        s["ssh_fingerprint"] = {"algorithm": "SHA256",
                                "value": fp.split(":", 1)[1]}

    def _start_sshd(self):
        with open(self.hostkey + ".pub") as f:
            hostpub = f.read().split()
        self.known_hosts = os.path.join(self.tmp, "known_hosts")
        self.sshd_log = os.path.join(self.sshd_dir, "sshd.log")
        for attempt in range(5):
            if attempt:
                self.ssh_port = free_port()
                self.control("set ssh_port %d" % self.ssh_port)
            with open(self.known_hosts, "w") as f:
                f.write("[127.0.0.1]:%d %s %s\n" % (
                    self.ssh_port, hostpub[0], hostpub[1]))
            cfg = os.path.join(self.sshd_dir, "sshd_config")
            with open(cfg, "w") as f:
                f.write(
                    "Port %d\nListenAddress 127.0.0.1\nHostKey %s\n"
                    "AuthorizedKeysFile none\n"
                    "AuthorizedKeysCommand %s --state %s %%u\n"
                    "AuthorizedKeysCommandUser root\n"
                    "PubkeyAuthentication yes\nPasswordAuthentication no\n"
                    "KbdInteractiveAuthentication no\nUsePAM no\n"
                    "StrictModes no\nPermitRootLogin prohibit-password\n"
                    "PidFile none\nLogLevel VERBOSE\nMaxAuthTries 10\n"
                    "AllowTcpForwarding no\nX11Forwarding no\n"
                    "PermitUserEnvironment no\n"
                    % (self.ssh_port, self.hostkey, self.authkeys,
                       self.state_dir))
            logf = open(self.sshd_log, "w")
            self.sshd = subprocess.Popen([SSHD, "-D", "-e", "-f", cfg],
                                         stdout=logf,
                                         stderr=subprocess.STDOUT,
                                         start_new_session=True)
            logf.close()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if self.sshd.poll() is not None:
                    break
                try:
                    socket.create_connection(("127.0.0.1", self.ssh_port),
                                             timeout=0.5).close()
                    return
                except OSError:
                    time.sleep(0.05)
            log = self._read(self.sshd_log)
            self._stop_proc(self.sshd)
            self.sshd = None
            if "Address already in use" not in log:
                raise AssertionError("sshd did not start: " + log)
        raise AssertionError("sshd: no free port found")

    def _make_repo(self):
        gdir = os.path.join(self.tmp, "git")
        os.mkdir(gdir)
        work = os.path.join(gdir, "seed")
        self.repo = os.path.join(gdir, "repo.git")
        env = self.git_env()
        run(["git", "init", "-q", "-b", "main", work], env=env, check=True)
        with open(os.path.join(work, "README"), "w") as f:
            f.write("seed\n")
        run(["git", "-C", work, "add", "README"], env=env, check=True)
        run(["git", "-C", work, "commit", "-q", "-m", "initial"], env=env,
            check=True)
        run(["git", "clone", "-q", "--bare", work, self.repo], env=env,
            check=True)
        shutil.rmtree(work)
        self.git_url = "ssh://%s@127.0.0.1:%s%s" % (
            self.login, self.ssh_port, self.repo)

    def stop(self):
        """Stops everything; returns the emulator's tracebacks ("" if
        none) so a caller can fail on emulator bugs."""
        for p in (self.sshd, self.emu):
            if p is not None:
                self._stop_proc(p)
        self.sshd = self.emu = None
        errors = ""
        if getattr(self, "emu_log", None):
            self.emu_log.close()
            text = self._read(self.emu_log.name)
            if "Traceback" in text:
                errors = text
            self.emu_log = None
        for d in (self.rundir, self.tmp):
            if d:
                shutil.rmtree(d, ignore_errors=True)
        self.rundir = self.tmp = None
        return errors

    @staticmethod
    def _stop_proc(p):
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        if p.stdout:
            p.stdout.close()

    @staticmethod
    def _read(path):
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            return ""

    # --- control socket ----------------------------------------------

    def control(self, command):
        """Sends one control command; returns the reply line."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect(self.control_path)
            s.sendall(command.encode() + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                b = s.recv(1 << 16)
                if not b:
                    break
                buf += b
        finally:
            s.close()
        return buf.decode().rstrip("\n")

    def fault(self, command):
        """A control command that must answer "ok" (faults, reset...)."""
        r = self.control(command)
        if r != "ok":
            raise AssertionError("bbemu %r: %s" % (command, r))

    def set(self, setting, value):
        self.fault("set %s %s" % (setting, json.dumps(value)))

    def advance_clock(self, seconds):
        self.control("clock %d" % seconds)

    def log(self):
        return json.loads(self.control("log"))

    def api_requests(self):
        """The logged requests: dicts with method, path, status, conn,
        auth, fault, committed, ms, ts."""
        return [e for e in self.log() if e["event"] == "request"]

    def connections(self):
        """Number of TLS handshakes completed (= connections accepted)."""
        return sum(1 for e in self.log() if e["event"] == "connect")

    def clear_log(self):
        self.fault("clear-log")

    def keys(self):
        """{"cloud": [...], "dc": [...]} as stored, without secrets."""
        return json.loads(self.control("keys"))

    # --- credentials -------------------------------------------------

    def _user(self, flavour, name):
        for u in self.state[flavour]["users"]:
            if name in (u.get("nickname"), u.get("slug")):
                return u
        raise KeyError(name)

    def cloud_user(self, name="alice"):
        return self._user("cloud", name)

    def dc_user(self, name="alice"):
        return self._user("dc", name)

    def cloud_token(self, user="alice", name="full"):
        """(e-mail, API token) for HTTP Basic."""
        u = self.cloud_user(user)
        for t in u["api_tokens"]:
            if t["name"] == name:
                return u["email"], t["token"]
        raise KeyError(name)

    def cloud_oauth(self, user="alice", name="write"):
        for t in self.cloud_user(user)["oauth_tokens"]:
            if t["name"] == name:
                return t["token"]
        raise KeyError(name)

    def cloud_app_password(self, user="alice"):
        u = self.cloud_user(user)
        return u["nickname"], u["app_passwords"][0]

    def dc_token(self, user="alice", name="personal"):
        for t in self.dc_user(user)["tokens"]:
            if t["name"] == name:
                return t["token"]
        raise KeyError(name)

    # --- git over SSH ------------------------------------------------

    def ssh_command(self, identity):
        return ("ssh -F /dev/null -o IdentitiesOnly=yes "
                "-o IdentityAgent=none -o PasswordAuthentication=no "
                "-o KbdInteractiveAuthentication=no -o BatchMode=yes "
                "-o StrictHostKeyChecking=yes -o UserKnownHostsFile=%s "
                "-o ConnectTimeout=10 -i %s" % (self.known_hosts, identity))

    def git_env(self, identity=None, extra=None):
        """Environment for git: private HOME, no system config, an
        identity, and GIT_SSH_COMMAND for identity (if given)."""
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "HOME": self.home, "GIT_CONFIG_NOSYSTEM": "1",
               "GIT_AUTHOR_NAME": "bbenv", "GIT_AUTHOR_EMAIL":
               "bbenv@example.com", "GIT_COMMITTER_NAME": "bbenv",
               "GIT_COMMITTER_EMAIL": "bbenv@example.com",
               "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
        if identity:
            env["GIT_SSH_COMMAND"] = self.ssh_command(identity)
        env.update(extra or {})
        return env

    def read_sshd_log(self):
        return self._read(self.sshd_log)
