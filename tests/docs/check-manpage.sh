#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The man page is valid mdoc, renders, and documents every command and
# global option ykssh --help shows.  (Exit statuses are checked against the
# error table by tests/unit/test_manpage.c.)
set -eu
. "$YKSSH_SOURCE_DIR/tests/lib.sh"
MAN=$YKSSH_SOURCE_DIR/docs/ykssh.1

run mandoc -T lint -W warning "$MAN"
check "mandoc -T lint reports no warnings" eq "$OUT$ERR" ""
# Style too, except what depends on this machine's manual database.
lint=$(mandoc -T lint -W style "$MAN" 2>&1 | grep -v 'mandoc\.db' || true)
check "mandoc -T lint reports no style messages" eq "$lint" ""
run env MANWIDTH=80 MANPAGER=cat man -l "$MAN"
check "man -l renders the page" contains "$OUT" "EXIT STATUS"

run "$YKSSH_BIN" --help
help=$OUT
cmds=$(printf '%s\n' "$help" | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 {print $1}')
check "--help lists at least one command" test -n "$cmds"
for c in $cmds; do
	check "command '$c' is in the man page" grep -q "^\.It Cm $c\( \|$\)" "$MAN"
done
opts=$(printf '%s\n' "$help" | grep -Eo -- '--[a-z][a-z-]*' | sort -u)
for c in $cmds; do
	run "$YKSSH_BIN" "$c" --help
	check "'ykssh $c --help' works" eq "$RC" 0
	opts="$opts $(printf '%s\n' "$OUT" | grep -Eo -- '--[a-z][a-z0-9-]*' | sort -u)"
done
for o in $(printf '%s\n' $opts | sort -u); do
	check "option '$o' is in the man page" grep -q "Fl -${o#--}\( \|$\)" "$MAN"
done
finish
