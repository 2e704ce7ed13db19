#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Applies ykssh config entries to every config in corpus/ and checks the
result with the real ssh -G:

 - the target host gets our User, HostName, Port, IdentitiesOnly, first
   IdentityFile (and PKCS11Provider, ControlMaster) as ssh computes them;
 - every other host checked (fixed names plus the names in the file) has
   exactly the same ssh -G output as before;
 - --dry-run writes nothing and prints a diff;
 - applying again changes no byte; the mode is kept; a symlink stays one;
 - removing the block gives back the original bytes;
 - configs ssh rejects, broken markers and hand-edited blocks are refused
   with a precise message and the file is untouched.

usage: test_corpus.py YKSSH   (the ykssh binary; runs "ykssh config")
"""
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
INCLUDES = os.path.join(HERE, "includes")
TOOL = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("YKSSH_BIN")

VARIANTS = {
    "fido2": dict(args=["--label", "work", "--key-id", "SHA256:Zm9v",
                        "--identity-file", "~/.ssh/id_ed25519_sk_work"],
                  host="bitbucket.org", hostname="bitbucket.org", port="22",
                  idfile="~/.ssh/id_ed25519_sk_work"),
    "piv": dict(args=["--label", "piv", "--host", "bitbucket.org-piv",
                      "--hostname", "bitbucket.org",
                      "--identity-file", "~/.ssh/id_piv 9a.pub",
                      "--pkcs11-provider",
                      "/usr/lib/x86_64-linux-gnu/libykcs11.so"],
                host="bitbucket.org-piv", hostname="bitbucket.org",
                port="22", idfile="~/.ssh/id_piv 9a.pub",
                pkcs11="/usr/lib/x86_64-linux-gnu/libykcs11.so"),
    "dc": dict(args=["--label", "dc", "--host", "git.corp.example",
                     "--port", "7999", "--persist", "10m",
                     "--identity-file", "/opt/keys/id 50%_sk"],
               host="git.corp.example", hostname="git.corp.example",
               port="7999", idfile="/opt/keys/id 50%%_sk", persist=True),
}

# Files ykssh must refuse to edit: (message fragment, exit status).
REFUSE = {
    "24-ssh-rejects.conf": ("ssh rejects", 78),
    "25-broken-markers.conf": ("has no ykssh:end marker", 78),
    "27-edited-ykssh-block.conf": ("was edited by hand", 78),
}
# The edited block may only be refused for its own label.
REFUSE_LABELS = {"27-edited-ykssh-block.conf": {"work"}}
# Files that already hold a block of the label (no byte-exact removal).
HAS_BLOCK = {"21-existing-ykssh-block.conf": {"work"}}
MODES = {"02-simple-hosts.conf": 0o644, "04-toplevel-options.conf": 0o640}

FIXED_HOSTS = ["bitbucket.org", "github.com", "example.com",
               "srv0003", "bitbucket.org-piv", "git.corp.example",
               "foo.example.com", "x.internal", "bitbucket.org-old"]

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def ssh_g(config, host):
    p = subprocess.run(["ssh", "-G", "-F", config, host],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True)
    return p.returncode, p.stdout


def parse_g(out):
    d = {}
    for line in out.splitlines():
        k, _, v = line.partition(" ")
        d.setdefault(k, []).append(v)
    return d


def hosts_in(text):
    names = set()
    for line in text.splitlines():
        m = re.match(r"\s*host\s*[= ]\s*(.*)", line, re.I)
        if m:
            for tok in m.group(1).split("#")[0].split():
                tok = tok.strip("\"'")
                if tok and not set("*?!") & set(tok):
                    names.add(tok)
    names = sorted(names)
    if len(names) > 12:
        names = names[:6] + names[-6:]
    return names


def run_tool(config, args):
    p = subprocess.run([TOOL, "config", "--config", config] + args,
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True)
    return p.returncode, p.stdout, p.stderr


def read(path):
    with open(path, "rb") as f:
        return f.read()


def setup(tmp, name):
    for sub in ("conf.d", "snippets"):
        shutil.copytree(os.path.join(INCLUDES, sub),
                        os.path.join(tmp, sub))
        for f in os.listdir(os.path.join(tmp, sub)):
            if os.path.isfile(os.path.join(tmp, sub, f)):
                os.chmod(os.path.join(tmp, sub, f), 0o600)
    text = read(os.path.join(CORPUS, name)).replace(
        b"@DIR@", tmp.encode())
    config = os.path.join(tmp, "config")
    real = config
    if "symlink" in name:
        os.mkdir(os.path.join(tmp, "dotfiles"))
        real = os.path.join(tmp, "dotfiles", "ssh_config")
        os.symlink("dotfiles/ssh_config", config)
    with open(real, "wb") as f:
        f.write(text)
    os.chmod(real, MODES.get(name, 0o600))
    return config, real, text


def check_variant(name, vname, v):
    tmp = tempfile.mkdtemp(prefix="ykssh-corpus-")
    try:
        config, real, orig = setup(tmp, name)
        tag = "%s/%s" % (name, vname)
        hosts = sorted(set(FIXED_HOSTS + hosts_in(orig.decode("utf-8",
                                                              "replace"))))
        others = [h for h in hosts if h != v["host"]]
        before = {h: ssh_g(config, h) for h in others}
        mode = stat.S_IMODE(os.stat(real).st_mode)

        refuse = REFUSE.get(name)
        if refuse and (name not in REFUSE_LABELS or
                       v["args"][1] in REFUSE_LABELS[name]):
            rc, out, err = run_tool(config, ["apply"] + v["args"])
            if rc != refuse[1] or refuse[0] not in err:
                fail("%s: expected refusal '%s' (%d), got %d: %s" %
                     (tag, refuse[0], refuse[1], rc, err.strip()))
            if read(real) != orig:
                fail("%s: refused, but the file changed" % tag)
            return

        # Dry run: a diff on stdout, nothing written.
        rc, out, err = run_tool(config, ["apply"] + v["args"] + ["--dry-run"])
        if rc != 0:
            fail("%s: dry run failed (%d): %s" % (tag, rc, err.strip()))
            return
        if read(real) != orig or not out.startswith("--- "):
            fail("%s: dry run wrote or printed no diff" % tag)

        rc, out, err = run_tool(config, ["apply"] + v["args"])
        if rc != 0:
            fail("%s: apply failed (%d): %s" % (tag, rc, err.strip()))
            return
        after = read(real)
        if "symlink" in name and not os.path.islink(config):
            fail("%s: the symlink was replaced" % tag)
        if stat.S_IMODE(os.stat(real).st_mode) != mode:
            fail("%s: mode %o became %o" % (tag, mode,
                 stat.S_IMODE(os.stat(real).st_mode)))

        rc, out = ssh_g(config, v["host"])
        g = parse_g(out)
        want = {"user": "git", "hostname": v["hostname"], "port": v["port"],
                "identitiesonly": "yes"}
        if "pkcs11" in v:
            want["pkcs11provider"] = v["pkcs11"]
        if v.get("persist"):
            want["controlmaster"] = "auto"
            want["controlpersist"] = "600"
        for k, val in want.items():
            if g.get(k, [None])[0] != val:
                fail("%s: ssh -G %s: %s is %s, want %s" % (
                     tag, v["host"], k, g.get(k), val))
        if g.get("identityfile", [None])[0] != v["idfile"]:
            fail("%s: ssh -G %s: first identityfile %s, want %s" % (
                 tag, v["host"], g.get("identityfile"), v["idfile"]))

        for h in others:
            if ssh_g(config, h) != before[h]:
                fail("%s: ssh -G %s changed" % (tag, h))

        rc, out, err = run_tool(config, ["apply"] + v["args"])
        if rc != 0 or read(real) != after:
            fail("%s: second apply changed the file (%d) %s" % (
                 tag, rc, err.strip()))
        if "already up to date" not in err:
            fail("%s: second apply did not say up to date" % tag)

        label = v["args"][1]
        rc, out, err = run_tool(config, ["remove", label])
        if rc != 0:
            fail("%s: remove failed (%d): %s" % (tag, rc, err.strip()))
        elif label not in HAS_BLOCK.get(name, ()) and read(real) != orig:
            fail("%s: apply + remove did not restore the bytes" % tag)
        if label not in HAS_BLOCK.get(name, ()):
            for h in others:
                if ssh_g(config, h) != before[h]:
                    fail("%s: after remove, ssh -G %s changed" % (tag, h))
        # Backups (and the lock) are next to the name given: for a
        # symlinked config, not in the dotfiles directory.
        backups = [f for f in os.listdir(os.path.dirname(config))
                   if ".ykssh-backup-" in f]
        if real != config and [f for f in os.listdir(os.path.dirname(real))
                               if "ykssh" in f]:
            fail("%s: ykssh files left in the dotfiles directory" % tag)
        for b in backups:
            bm = stat.S_IMODE(os.lstat(os.path.join(
                os.path.dirname(config), b)).st_mode)
            if bm & 0o077 and bm != mode:
                fail("%s: backup %s has mode %o" % (tag, b, bm))
        if orig and not backups:
            fail("%s: no backup was made" % tag)
        leftovers = [f for f in os.listdir(os.path.dirname(real))
                     if ".ykssh-tmp-" in f]
        if leftovers:
            fail("%s: temporary files left: %s" % (tag, leftovers))
    finally:
        shutil.rmtree(tmp)


def main():
    if not TOOL or not os.access(TOOL, os.X_OK):
        print("usage: test_corpus.py YKSSH", file=sys.stderr)
        return 2
    names = sorted(n for n in os.listdir(CORPUS) if n.endswith(".conf"))
    if len(names) < 20:
        fail("corpus has only %d configs" % len(names))
    for name in names:
        for vname, v in VARIANTS.items():
            check_variant(name, vname, v)
        print("ok %s" % name)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("all %d configs x %d variants passed" % (len(names),
                                                   len(VARIANTS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
