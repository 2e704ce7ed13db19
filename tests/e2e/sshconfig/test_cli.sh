#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# "ykssh config" as a user sees it: show (human and --json), PIV and Data
# Center entries, a symlinked ~/.ssh/config under $HOME, exit statuses,
# --dry-run, and the lock.  usage: test_cli.sh YKSSH
set -eu
tool=$1
tmp=$(mktemp -d /tmp/ykssh-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

export HOME="$tmp/home"
mkdir -p "$HOME/dotfiles"
printf 'Host github.com\n    User git\n' > "$HOME/dotfiles/ssh_config"
chmod 600 "$HOME/dotfiles/ssh_config"
# ~/.ssh does not exist yet: apply creates it 0700, with a symlink kept.
"$tool" -q config apply --identity-file '~/.ssh/id_ed25519_sk' \
    --label work --key-id SHA256:abc || fail "apply creating ~/.ssh/config"
[ "$(stat -c %a "$HOME/.ssh")" = 700 ] || fail "~/.ssh not 0700"
rm "$HOME/.ssh/config"
ln -s ../dotfiles/ssh_config "$HOME/.ssh/config"
"$tool" -q config apply --identity-file '~/.ssh/id_ed25519_sk' \
    --label work --key-id SHA256:abc || fail "apply"
[ -L "$HOME/.ssh/config" ] || fail "symlink replaced"
grep -q '^# ykssh:begin work SHA256:abc$' "$HOME/dotfiles/ssh_config" ||
    fail "target not edited"

# show: human
out=$("$tool" config show bitbucket.org)
echo "$out" | grep -q "^work	lines 4-9	Host bitbucket.org	key SHA256:abc$" ||
    fail "show: $out"
echo "$out" | grep -q "^  identityfile ~/.ssh/id_ed25519_sk$" ||
    fail "show ssh -G: $out"
# show: --json
"$tool" --json config show bitbucket.org > "$tmp/show.json"
/usr/bin/python3 - "$tmp/show.json" <<'PY' || fail "show --json"
import json, sys
d = json.load(open(sys.argv[1]))
b = d["blocks"][0]
assert b["label"] == "work" and b["host"] == "bitbucket.org", b
assert b["first_line"] == 4 and b["last_line"] == 9 and not b["edited"], b
assert "identitiesonly yes" in d["host"]["ssh_g"], d
PY

# PIV entry on an alias, Data Center with --persist; --json report
"$tool" --json config apply --label piv --host bitbucket.org-piv \
    --hostname bitbucket.org --identity-file '~/.ssh/piv 9a.pub' \
    --pkcs11-provider /usr/lib/x86_64-linux-gnu/libykcs11.so > "$tmp/a.json"
/usr/bin/python3 - "$tmp/a.json" <<'PY' || fail "apply --json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["changed"] and d["written"] and d["backup"], d
assert d["diff"].startswith("--- "), d
PY
ssh -G -F "$HOME/.ssh/config" bitbucket.org-piv 2>/dev/null | grep -q '^pkcs11provider /usr/lib/x86_64-linux-gnu/libykcs11.so$' ||
    fail "PIV: ssh -G"
"$tool" -q config apply --label dc --host git.corp.example --port 7999 \
    --identity-file /keys/dc_sk --persist 10m || fail "DC apply"
g=$(ssh -G -F "$HOME/.ssh/config" git.corp.example 2>/dev/null)
echo "$g" | grep -q '^port 7999$' || fail "DC port"
echo "$g" | grep -q '^controlpersist 600$' || fail "DC persist"
echo "$g" | grep -q "^controlpath $tmp/home/.ssh/cm-" ||
    echo "$g" | grep -q '^controlpath .*/.ssh/cm-' || fail "DC controlpath"

# --dry-run remove prints a diff and writes nothing
before=$(cat "$HOME/dotfiles/ssh_config")
"$tool" config remove --dry-run dc > "$tmp/diff" || fail "dry-run remove"
grep -q '^-# ykssh:begin dc$' "$tmp/diff" || fail "dry-run diff"
[ "$before" = "$(cat "$HOME/dotfiles/ssh_config")" ] || fail "dry-run wrote"

# Exit statuses: usage 64, unknown label 78, ssh rejects 78, locked 75
st=0; "$tool" config apply 2>/dev/null || st=$?
[ $st = 64 ] || fail "usage status $st"
st=0; "$tool" config remove nosuch 2>"$tmp/err" || st=$?
[ $st = 78 ] && grep -q "no ykssh block labelled 'nosuch'" "$tmp/err" ||
    fail "unknown label status $st"
printf 'Bogus yes\n' > "$tmp/bad"; chmod 600 "$tmp/bad"
st=0; "$tool" config --config "$tmp/bad" apply --identity-file /k 2>"$tmp/err" || st=$?
[ $st = 78 ] && grep -q "ssh rejects .*Bad configuration option: bogus" \
    "$tmp/err" || fail "ssh rejects status $st: $(cat "$tmp/err")"
# hold the lock with flock(1) while ykssh tries
flock "$HOME/.ssh/.config.ykssh-lock" sleep 4 &
lockpid=$!
sleep 0.5
st=0; "$tool" config apply --identity-file /k --label x --host y.example \
    2>"$tmp/err" || st=$?
kill $lockpid 2>/dev/null || true
wait $lockpid 2>/dev/null || true
[ $st = 75 ] && grep -q "another ykssh is editing" "$tmp/err" ||
    fail "lock status $st: $(cat "$tmp/err")"

# a backup token's key: --identity-file again, tried second by ssh
"$tool" -q config apply --label pair --host pair.example \
    --identity-file /keys/first_sk --identity-file '/keys/back up%_sk' \
    --key-id SHA256:one,SHA256:two || fail "apply two identities"
g=$(ssh -G -F "$HOME/.ssh/config" pair.example 2>/dev/null | grep '^identityfile ')
[ "$g" = "$(printf 'identityfile /keys/first_sk\nidentityfile /keys/back up%%%%_sk')" ] ||
    fail "two identities: $g"
grep -q '^# ykssh:begin pair SHA256:one,SHA256:two$' \
    "$HOME/dotfiles/ssh_config" || fail "two fingerprints in the marker"

# remove all: back to the user's bytes
for l in work piv dc pair; do "$tool" -q config remove $l || fail "remove $l"; done
[ "$(cat "$HOME/dotfiles/ssh_config")" = "$(printf 'Host github.com\n    User git')" ] ||
    fail "not restored: $(cat "$HOME/dotfiles/ssh_config")"
echo "ok: config CLI"
