#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Regenerates the doctor fixtures with the real OpenSSH client: what
# ssh -G and ssh-add -L print.  Run in this directory.
set -eu
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cat > "$t/cfg" <<'CFG'
Host bitbucket.org
	User git
	IdentityFile /home/u/.ssh/id_ed25519_sk_work
	IdentitiesOnly yes
Host *
	IdentityFile /home/u/.ssh/id_old
	UserKnownHostsFile /home/u/kh1 /home/u/kh2
	HostKeyAlias bb
CFG
ssh -G -F "$t/cfg" bitbucket.org > sshg-bitbucket.txt
ssh -G -F /dev/null -p 7999 -l alice bitbucket.example.com > sshg-default.txt
ssh-keygen -q -t ed25519 -N "" -C "work key" -f "$t/k1"
ssh-keygen -q -t ecdsa -N "" -C "" -f "$t/k2"
eval "$(ssh-agent -s)" > /dev/null
(cd "$t" && ssh-add k1 k2 2> /dev/null)
ssh-add -L > agent-two.txt
ssh-keygen -lf "$t/k1.pub" | cut -d' ' -f2 > agent-two.fp
ssh-keygen -lf "$t/k2.pub" | cut -d' ' -f2 >> agent-two.fp
ssh-add -D 2> /dev/null
ssh-add -L > agent-none.txt || true
kill "$SSH_AGENT_PID"
