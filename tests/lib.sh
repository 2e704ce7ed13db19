# SPDX-License-Identifier: BSD-2-Clause
# Helpers for shell tests.  Source it; set -eu is the caller's.
# run CMD...: runs a command capturing OUT, ERR and RC (never fails).

TEST_NAME=${TEST_NAME:-$(basename "$0")}
FAILURES=0
CHECKS=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ykssh-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

run() {
	set +e
	"$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	set -e
	OUT=$(cat "$TMP/out")
	ERR=$(cat "$TMP/err")
}

fail() {
	FAILURES=$((FAILURES + 1))
	printf 'FAIL: %s\n' "$*" >&2
}

check() {	# check DESCRIPTION TEST-COMMAND...
	desc=$1
	shift
	CHECKS=$((CHECKS + 1))
	if "$@"; then
		printf 'ok: %s\n' "$desc"
	else
		fail "$desc"
	fi
}

eq() { [ "$1" = "$2" ] || { printf '  expected [%s]\n  got      [%s]\n' "$2" "$1" >&2; return 1; }; }
contains() { case $1 in *"$2"*) return 0;; esac; printf '  [%s] does not contain [%s]\n' "$1" "$2" >&2; return 1; }
lacks() { case $1 in *"$2"*) printf '  [%s] contains [%s]\n' "$1" "$2" >&2; return 1;; esac; return 0; }
lines() { printf '%s\n' "$1" | grep -c '' ; }

finish() {
	if [ "$FAILURES" -ne 0 ]; then
		printf '%s: %d of %d checks failed\n' "$TEST_NAME" "$FAILURES" "$CHECKS" >&2
		exit 1
	fi
	printf '%s: all %d checks passed\n' "$TEST_NAME" "$CHECKS"
}
