#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""sshd AuthorizedKeysCommand fed by the Bitbucket emulator's key store.

    authkeys.py --state DIR [--flavour cloud|dc] [--git-shell PATH] [%u]

Prints every SSH key registered in DIR/state.json (the flavours the
emulator serves, or the one named) as an authorized_keys line whose
forced command is git-shell, so a registered key can run git and nothing
else, as on bitbucket.org.  Keys past their expiry are left out: Cloud's
expires_on, Data Center's createdDate + expiryDays.  The emulator's
"clock" offset applies.  Standard library only; sshd runs it as
AuthorizedKeysCommandUser, so it must not depend on the caller's
environment.
"""

import argparse
import datetime
import json
import os
import sys
import time


def epoch(text):
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    d = datetime.datetime.fromisoformat(t)
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return d.timestamp()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--state", required=True)
    ap.add_argument("--flavour", choices=("cloud", "dc"))
    ap.add_argument("--git-shell", default="/usr/bin/git-shell")
    ap.add_argument("user", nargs="?")
    a = ap.parse_args()
    try:
        with open(os.path.join(a.state, "state.json")) as f:
            st = json.load(f)
    except (OSError, ValueError) as e:
        sys.stderr.write("authkeys: %s\n" % e)
        return 1
    settings = st.get("settings", {})
    now = time.time() + float(settings.get("clock_offset", 0))
    flavours = [a.flavour] if a.flavour else \
        settings.get("flavours", ["cloud", "dc"])
    opts = ('command="%s -c \\"$SSH_ORIGINAL_COMMAND\\"",no-port-forwarding,'
            'no-X11-forwarding,no-agent-forwarding,no-pty' % a.git_shell)
    out = []
    if "cloud" in flavours:
        for u in st.get("cloud", {}).get("users", []):
            for k in u.get("keys", []):
                if k.get("expires_on") and epoch(k["expires_on"]) <= now:
                    continue
                kt = k["key"].split()
                out.append("%s %s %s bbemu-cloud:%s" % (
                    opts, kt[0], kt[1], u["account_id"]))
    if "dc" in flavours:
        for u in st.get("dc", {}).get("users", []):
            for k in u.get("keys", []):
                if k.get("expiryDays") and \
                        k["_created"] + k["expiryDays"] * 86400 <= now:
                    continue
                kt = k["text"].split()
                out.append("%s %s %s bbemu-dc:%s" % (
                    opts, kt[0], kt[1], u["slug"]))
    sys.stdout.write("".join(line + "\n" for line in out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
