#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Private pcscd + vpcd + pivsim card for tests.

Isolation: every test script re-executes itself inside new mount, network
and PID namespaces (``unshare -mnp --fork --kill-child --mount-proc``;
needs root, which CI and developers here have).  Inside, a tmpfs is
mounted over /run/pcscd, so the private pcscd's socket and pid file are
invisible to (and cannot clash with) a system pcscd or a parallel test;
the network namespace has its own loopback, so vpcd's 0.0.0.0 listeners
cannot collide with the system's 35963/35964 or another test's ports.
When the script's process (PID 1 of the namespace) exits or is killed,
the kernel kills every process left in the namespace: nothing survives a
crashed or timed-out test.

Usage in a test:

    import pivenv
    pivenv.enter_namespace()          # first thing in the script
    with pivenv.PivEnv(pivsim, profile="5.4") as env:
        subprocess.run([...], env=env.env)
        env.control("touch deny")
"""

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

READER_NAME = "Yubico YubiKey vpcd"
READER = READER_NAME + " 00 00"
PCSCD = "/usr/sbin/pcscd"
VPCD_DRIVER = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
NS_MARK = "PIVENV_IN_NAMESPACE"


def enter_namespace():
    """Re-exec the running script in private mount+net+pid namespaces."""
    if os.environ.get(NS_MARK) == "ready":
        return
    if os.environ.get(NS_MARK) != "1" or os.getpid() != 1:
        if os.geteuid() != 0:
            sys.exit("pivenv: needs root for unshare(1) namespaces")
        env = dict(os.environ)
        env[NS_MARK] = "1"      # PID 1 inside the new PID namespace
        argv = ["unshare", "--mount", "--net", "--pid", "--fork",
                "--kill-child", "--mount-proc", "--propagation", "private",
                sys.executable] + sys.argv
        sys.stdout.flush()
        sys.stderr.flush()
        os.execvpe("unshare", argv, env)
    # Inside: private /run/pcscd and /run/sshd, loopback up.
    for d in ("/run/pcscd", "/run/sshd"):
        os.makedirs(d, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs",
                        d], check=True)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    os.environ[NS_MARK] = "ready"
    # Reap orphans (we are PID 1) and turn SIGTERM into a clean exit.
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(143))


def _port_pair_free(port):
    socks = []
    try:
        for p in (port, port + 1):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind(("0.0.0.0", p))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def free_port_pair():
    """A port p with p and p+1 free (vpcd listens on both)."""
    for _ in range(200):
        p = random.randrange(20000, 60000)
        if _port_pair_free(p):
            return p
    raise RuntimeError("no free port pair")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kill_group(proc, timeout=5.0):
    """SIGTERM the process group, SIGKILL after timeout, reap."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


class PivEnv:
    """pcscd with its own reader.conf + one pivsim card on its vpcd port.

    Attributes after __enter__: env (environment for clients), dir (temp
    dir), state (state file), ca (test root CA, PEM), control_path,
    reader (PC/SC reader name).
    """

    def __init__(self, pivsim, profile="5.4", touch="approve",
                 touch_timeout_ms=3000, serial=16000001, state=None,
                 verbose=False, pcscd_debug=False, reader=True,
                 card=True, piv=True):
        """reader=False: pcscd without readers; card=False: reader
        without a card; piv=False: a card without the PIV applet."""
        self.pivsim = pivsim
        self.profile = profile
        self.touch = touch
        self.touch_timeout_ms = touch_timeout_ms
        self.serial = serial
        self.state = state
        self.verbose = verbose
        self.pcscd_debug = pcscd_debug
        self.with_reader = reader
        self.with_card = card and reader
        self.piv = piv
        self.pcscd = None
        self.card = None
        self.dir = None

    # -- life cycle -------------------------------------------------------
    def __enter__(self):
        if os.environ.get(NS_MARK) != "ready":
            raise RuntimeError("call pivenv.enter_namespace() first")
        self.dir = tempfile.mkdtemp(prefix="pivenv-")
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        rc = self.stop_card()
        kill_group(self.pcscd)
        self.pcscd = None
        for f in ("pcscd.log",):
            p = os.path.join(self.dir, f)
            if exc and exc[0] is not None and os.path.exists(p):
                with open(p, errors="replace") as fh:
                    sys.stderr.write("--- %s ---\n%s" % (f, fh.read()[-4000:]))
        shutil.rmtree(self.dir, ignore_errors=True)
        if rc not in (None, 0) and (not exc or exc[0] is None):
            # e.g. a sanitizer report (leak, UB) at exit
            raise RuntimeError("pivsim exited with status %s" % rc)
        return False

    def _start(self):
        self.port = free_port_pair()
        conf = os.path.join(self.dir, "reader.conf.d")
        os.mkdir(conf)
        if self.with_reader:
            with open(os.path.join(conf, "vpcd"), "w") as f:
                f.write('FRIENDLYNAME "%s"\nDEVICENAME /dev/null:%d\n'
                        'LIBPATH %s\nCHANNELID %d\n'
                        % (READER_NAME, self.port, VPCD_DRIVER, self.port))
        if self.state is None:
            self.state = os.path.join(self.dir, "card.state")
        # The card's test root, alone in a trust directory for ykssh.
        os.mkdir(os.path.join(self.dir, "trust"))
        self.ca = os.path.join(self.dir, "trust", "ca.pem")
        self.control_path = os.path.join(self.dir, "control.sock")
        self.reader = READER
        self.env = dict(os.environ)
        self.env["PCSCLITE_CSOCK_NAME"] = "/run/pcscd/pcscd.comm"
        self.env["YKSSH_TRUST_DIR"] = os.path.dirname(self.ca)
        self.conf = conf
        self.start_pcscd()
        if self.with_card:
            self.start_card()
        else:
            self.wait_pcscd()

    def wait_pcscd(self, timeout=10.0):
        """Until pcscd accepts clients (for runs without a card)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pcscd.poll() is not None:
                raise RuntimeError("pcscd exited")
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                try:
                    s.connect("/run/pcscd/pcscd.comm")
                    time.sleep(0.3)     # readers get registered
                    return
                except OSError:
                    time.sleep(0.05)
        raise RuntimeError("pcscd did not come up")

    def start_pcscd(self):
        log = open(os.path.join(self.dir, "pcscd.log"), "a")
        args = [PCSCD, "-f", "-c", self.conf]
        if self.pcscd_debug:
            args += ["-d", "-a"]
        self.pcscd = subprocess.Popen(args, stdout=log, stderr=log,
                                      stdin=subprocess.DEVNULL,
                                      start_new_session=True)
        log.close()

    def restart_pcscd(self):
        """Stop and start pcscd; the card must find the new vpcd."""
        before = self.stats()["connects"]
        kill_group(self.pcscd)
        self.start_pcscd()
        self.wait_card(min_connects=before + 1)

    def start_card(self, wait=True):
        """Start (or restart) the card process on the same state file."""
        args = [self.pivsim, "--port", str(self.port),
                "--profile", self.profile, "--serial", str(self.serial),
                "--state", self.state, "--control", self.control_path,
                "--ca-cert", self.ca, "--touch", self.touch,
                "--touch-timeout", str(self.touch_timeout_ms)]
        if not self.piv:
            args.append("--no-piv")
        if self.verbose:
            args.append("-vv")
        self.card = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        if wait:
            self.wait_card()

    def stop_card(self):
        """Ask the card to quit; returns its exit status (None if it had
        to be killed or was not running)."""
        rc = None
        if self.card is None:
            return None
        if self.card.poll() is None:
            try:
                self.control("quit")
                rc = self.card.wait(10)
            except (OSError, RuntimeError, subprocess.TimeoutExpired):
                pass
        else:
            rc = self.card.returncode
        kill_group(self.card)
        self.card = None
        return rc

    def restart_card(self):
        rc = self.stop_card()
        if rc != 0:
            raise RuntimeError("pivsim exited with status %s" % rc)
        self.start_card()

    def card_present(self):
        """pcscd's view: does the reader hold a card? (no APDU sent)"""
        p = subprocess.run(["opensc-tool", "-l"], env=self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           stdin=subprocess.DEVNULL, text=True, timeout=30)
        return any(re.match(r"\d+\s+Yes\s+%s$" % re.escape(self.reader), l)
                   for l in p.stdout.splitlines())

    def wait_card(self, timeout=20.0, min_connects=1):
        """Until pcscd has this card process in its reader.

        pcscd 1.9.9 does not power a new vpcd card up; it learns about it
        from its presence poll (GET ATR) and powers it on only when a
        client connects.  vpcd accepts a new card only after its poll saw
        the previous connection fail, so once the new card has answered a
        poll, pcscd has already processed the removal: from then on
        "card present" refers to the new card."""
        deadline = time.monotonic() + timeout
        st = None
        while time.monotonic() < deadline:
            if self.card.poll() is not None:
                raise RuntimeError("pivsim exited with %d"
                                   % self.card.returncode)
            try:
                st = self.stats()
                if st["connected"] and st["atr_polls"] >= 1 and \
                        st["connects"] >= min_connects and \
                        self.card_present():
                    return
            except (OSError, ValueError, RuntimeError):
                pass
            time.sleep(0.05)
        raise RuntimeError("card did not come up within %.0f s: %s"
                           % (timeout, st))

    # -- control channel --------------------------------------------------
    def control(self, line, timeout=30.0):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.control_path)
            s.sendall(line.encode() + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                d = s.recv(4096)
                if not d:
                    break
                buf += d
        reply = buf.decode().strip()
        if reply.startswith("error"):
            raise RuntimeError("pivsim control %r: %s" % (line, reply))
        return reply

    def reader_name_filter(self):
        """Exact-reader selector for yubico-piv-tool -r."""
        return "@" + self.reader

    def stats(self):
        return json.loads(self.control("stats"))


def _main():
    """Shell helper: pivenv.py [--profile P] [--touch T] -- cmd args...

    Runs cmd inside a private pcscd + card; the environment variables
    PIVENV_CONTROL, PIVENV_CA, PIVENV_STATE, PIVENV_READER are set."""
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--pivsim", default=os.environ.get("PIVSIM", "pivsim"))
    ap.add_argument("--profile", default="5.4")
    ap.add_argument("--touch", default="approve")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    o = ap.parse_args()
    cmd = o.cmd[1:] if o.cmd[:1] == ["--"] else o.cmd
    if not cmd:
        ap.error("no command")
    enter_namespace()
    with PivEnv(os.path.abspath(shutil.which(o.pivsim) or o.pivsim),
                profile=o.profile, touch=o.touch) as e:
        env = dict(e.env, PIVENV_CONTROL=e.control_path, PIVENV_CA=e.ca,
                   PIVENV_STATE=e.state, PIVENV_READER=e.reader)
        rc = subprocess.run(cmd, env=env).returncode
    sys.exit(rc)


if __name__ == "__main__":
    _main()
