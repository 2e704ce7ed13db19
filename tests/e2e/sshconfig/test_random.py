#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Differential test against the real ssh: generates random (seeded)
configs from Host/Match/Include/top-level pieces that set the options
ykssh writes, applies entries with "ykssh config apply", and checks with
ssh -G that

 - the target host gets exactly our values (or ykssh refused, naming the
   line that wins);
 - every other host's ssh -G output is unchanged;
 - applying again changes no byte, and removing restores the bytes.

usage: test_random.py YKSSH [COUNT] [SEED]   (YKSSH: the ykssh binary)
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile

TOOL = sys.argv[1]
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 60
SEED = int(sys.argv[3]) if len(sys.argv) > 3 else 6

HOSTS = ["bitbucket.org", "github.com", "bitbucket.org-piv",
         "git.corp.example", "x.org"]
PATTERNS = ["bitbucket.org", "*", "*.org", "bit*", "!bitbucket.org",
            "github.com", "bitbucket.org-piv", "b?tbucket.org", "git.*",
            "*.example", "x.org"]
OPTIONS = [
    ("User", ["alice", "git", "bob"]),
    ("Port", ["2222", "22", "7999"]),
    ("IdentityFile", ["~/.ssh/id_rsa", "~/.ssh/id_other", "/k/x"]),
    ("IdentitiesOnly", ["no", "yes"]),
    ("HostName", ["%h.proxy.example", "10.0.0.1", "bitbucket.org"]),
    ("PKCS11Provider", ["/usr/lib/other.so"]),
    ("ControlPersist", ["1m"]),
    ("ServerAliveInterval", ["30"]),
    ("Compression", ["yes"]),
]
MATCHES = ["all", "host bitbucket.org", "host *.org,!github.com",
           "originalhost bitbucket.org*", "user git", "user root",
           "!user nobody", "localuser root", "exec true", "exec false",
           "host github.com exec true", "!host x.org", "final",
           "canonical", "host bitbucket.org final", "originalhost git.*"]

VARIANTS = [
    (["--label", "work", "--identity-file", "~/.ssh/id_sk"],
     "bitbucket.org", {"user": "git", "hostname": "bitbucket.org",
                       "port": "22", "identitiesonly": "yes",
                       "identityfile": "~/.ssh/id_sk"}),
    (["--label", "piv", "--host", "bitbucket.org-piv", "--hostname",
      "bitbucket.org", "--identity-file", "~/.ssh/piv.pub",
      "--pkcs11-provider", "/usr/lib/x86_64-linux-gnu/libykcs11.so"],
     "bitbucket.org-piv", {"user": "git", "hostname": "bitbucket.org",
                           "port": "22", "identitiesonly": "yes",
                           "identityfile": "~/.ssh/piv.pub",
                           "pkcs11provider":
                           "/usr/lib/x86_64-linux-gnu/libykcs11.so"}),
    (["--label", "dc", "--host", "git.corp.example", "--port", "7999",
      "--persist", "2m", "--identity-file", "/keys/dc sk"],
     "git.corp.example", {"user": "git", "hostname": "git.corp.example",
                          "port": "7999", "identitiesonly": "yes",
                          "identityfile": "/keys/dc sk",
                          "controlpersist": "120"}),
]


def opt_line(rng):
    k, vals = rng.choice(OPTIONS)
    v = rng.choice(vals)
    sep = rng.choice([" ", " ", "=", " = ", "\t"])
    indent = rng.choice(["", "  ", "    ", "\t"])
    return "%s%s%s%s" % (indent, k, sep, v)


def gen(rng, incdir):
    lines = []
    if rng.random() < 0.5:
        for _ in range(rng.randint(1, 3)):
            lines.append(opt_line(rng)[0:].lstrip())
    for _ in range(rng.randint(1, 6)):
        r = rng.random()
        if r < 0.1:
            lines.append("# comment %d" % rng.randint(0, 99))
        if r < 0.55:
            pats = rng.sample(PATTERNS, rng.randint(1, 2))
            if all(p.startswith("!") for p in pats):
                pats.append("*")
            lines.append("Host " + " ".join(pats))
        elif r < 0.85:
            lines.append("Match " + rng.choice(MATCHES))
        else:
            lines.append("Include %s/*.conf" % incdir)
            continue
        for _ in range(rng.randint(0, 3)):
            lines.append(opt_line(rng))
        if rng.random() < 0.5:
            lines.append("")
    text = "\n".join(lines)
    if rng.random() < 0.8:
        text += "\n"
    if rng.random() < 0.1:
        text = text.replace("\n", "\r\n")
    return text


def ssh_g(config, host):
    p = subprocess.run(["ssh", "-G", "-F", config, host],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True)
    return p.returncode, p.stdout


def tool(config, args):
    return subprocess.run([TOOL, "-q", "config", "--config", config] + args,
                          stdin=subprocess.DEVNULL, capture_output=True,
                          text=True)


def main():
    rng = random.Random(SEED)
    tmp = tempfile.mkdtemp(prefix="ykssh-random-")
    failures = refused = 0
    try:
        incdir = os.path.join(tmp, "inc")
        os.mkdir(incdir)
        for i in range(2):
            path = os.path.join(incdir, "%d.conf" % i)
            with open(path, "w") as f:
                f.write(gen(rng, "/nonexistent"))
            os.chmod(path, 0o600)
        config = os.path.join(tmp, "config")
        for n in range(COUNT):
            text = gen(rng, incdir)
            args, host, want = VARIANTS[n % len(VARIANTS)]
            with open(config, "w", newline="") as f:
                f.write(text)
            os.chmod(config, 0o600)
            if ssh_g(config, host)[0] != 0:
                continue    # ssh rejects it: covered by the corpus
            others = [h for h in HOSTS if h != host]
            before = {h: ssh_g(config, h) for h in others}
            p = tool(config, ["apply"] + args)
            tag = "case %d (%s)" % (n, host)
            if p.returncode != 0:
                if "wins" in p.stderr:
                    refused += 1
                    continue
                print("FAIL %s: apply: %s\n%s" % (tag, p.stderr, text))
                failures += 1
                continue
            with open(config, newline="") as f:
                after = f.read()
            g = {}
            for line in ssh_g(config, host)[1].splitlines():
                k, _, v = line.partition(" ")
                g.setdefault(k, v)
            bad = {k: (g.get(k), v) for k, v in want.items()
                   if g.get(k) != v}
            if bad:
                print("FAIL %s: ssh -G got/want %s\n--- in:\n%s--- out:\n%s"
                      % (tag, bad, text, after))
                failures += 1
            for h in others:
                if ssh_g(config, h) != before[h]:
                    print("FAIL %s: ssh -G %s changed\n--- in:\n%s--- out:"
                          "\n%s" % (tag, h, text, after))
                    failures += 1
            tool(config, ["apply"] + args)
            with open(config, newline="") as f:
                if f.read() != after:
                    print("FAIL %s: not idempotent" % tag)
                    failures += 1
            p = tool(config, ["remove", args[1]])
            with open(config, newline="") as f:
                if p.returncode != 0 or f.read() != text:
                    print("FAIL %s: remove did not restore" % tag)
                    failures += 1
            for name in os.listdir(tmp):
                if ".ykssh-backup-" in name:
                    os.unlink(os.path.join(tmp, name))
    finally:
        shutil.rmtree(tmp)
    print("%d random configs, %d refused, %d failures" % (
        COUNT, refused, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
