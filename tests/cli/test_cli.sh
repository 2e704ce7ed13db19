#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The CLI skeleton as a user sees it: help, version, global options, usage
# errors (exit 64 with a one-line hint), JSON output.
set -eu
. "$YKSSH_SOURCE_DIR/tests/lib.sh"
Y=$YKSSH_BIN

run "$Y" --help
check "--help exits 0" eq "$RC" 0
check "--help lists commands" contains "$OUT" "Commands:"
check "--help lists help" contains "$OUT" "  help "
check "--help lists version" contains "$OUT" "  version "
check "--help prints nothing on stderr" eq "$ERR" ""

run "$Y" -h
check "-h is --help" eq "$RC" 0

run "$Y" --version
check "--version exits 0" eq "$RC" 0
check "--version format" sh -c "printf '%s' '$OUT' | grep -Eqx 'ykssh [0-9]+\.[0-9]+\.[0-9]+'"

run "$Y" version
check "version exits 0" eq "$RC" 0
check "version names libfido2" contains "$OUT" "libfido2"
check "version names libykpiv" contains "$OUT" "libykpiv"

run "$Y" --json version
check "--json version exits 0" eq "$RC" 0
check "--json version is JSON with the version" sh -c \
    "printf '%s' '$OUT' | $PYTHON -c 'import json,sys; d=json.load(sys.stdin); assert d[\"version\"]; assert \"openssl\" in d[\"libraries\"]'"
run "$Y" version --json
check "--json after the command works too" eq "$RC" 0
check "--json after the command gives JSON" contains "$OUT" '"libraries"'

run "$Y" version --help
check "COMMAND --help exits 0" eq "$RC" 0
check "COMMAND --help shows usage" contains "$OUT" "usage: ykssh version"
run "$Y" help version
check "help COMMAND is COMMAND --help" contains "$OUT" "usage: ykssh version"
run "$Y" help
check "help alone shows the overview" contains "$OUT" "Commands:"

# Usage errors: exit 64, one error line and one hint line, nothing on stdout.
for args in "frobnicate" "--frob" "-x" "version --bogus" "version -z" \
    "version extra" "help nosuch" ""; do
	# shellcheck disable=SC2086
	run "$Y" $args
	check "'ykssh $args' is a usage error (64)" eq "$RC" 64
	check "'ykssh $args' prints two lines on stderr" eq "$(lines "$ERR")" 2
	check "'ykssh $args' hints at --help" contains "$ERR" "--help'."
	check "'ykssh $args' prints nothing on stdout" eq "$OUT" ""
done
run "$Y" frobnicate
check "unknown command is named" contains "$ERR" "unknown command 'frobnicate'"
run "$Y" verison
check "typo gets a suggestion" contains "$ERR" "did you mean 'version'?"
run "$Y" --frob
check "unknown option is named" contains "$ERR" "unknown option '--frob'"
run "$Y" version --bogus
check "command option error points at the command's help" \
    contains "$ERR" "Try 'ykssh version --help'."

# Colour only on a terminal, never when NO_COLOR is set or stderr is a file.
run "$Y" frob
check "no escape codes when stderr is not a tty" lacks "$ERR" "$(printf '\033')"

# Output errors are reported, not silently lost.
if [ -w /dev/full ]; then
	set +e
	"$Y" --help >/dev/full 2>"$TMP/err"
	RC=$?
	set -e
	check "write error on stdout is an I/O error (74)" eq "$RC" 74
fi

finish
