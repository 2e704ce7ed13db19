#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Regenerates the key fixtures with the real ssh-keygen (run from this
# directory).  Each KEY has KEY (private file), KEY.pub and KEY.fp (what
# ssh-keygen -l prints).  Throwaway keys: they protect nothing.
set -eu
rm -f ed25519* ecdsa256* ecdsa384* rsa2048* rsa1024*
ssh-keygen -q -t ed25519 -N '' -C 'alice@laptop' -f ed25519
ssh-keygen -q -t ed25519 -N 'fixture passphrase' -C 'secret comment' -f ed25519_enc
ssh-keygen -q -t ecdsa -b 256 -N '' -C 'ecdsa 256 key' -f ecdsa256
ssh-keygen -q -t ecdsa -b 384 -N '' -C '' -f ecdsa384
ssh-keygen -q -t rsa -b 2048 -N '' -C 'rsa key with  two spaces' -f rsa2048
for k in ed25519 ed25519_enc ecdsa256 ecdsa384 rsa2048; do
	ssh-keygen -l -E sha256 -f "$k.pub" > "$k.fp"
done
