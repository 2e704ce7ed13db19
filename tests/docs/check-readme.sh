#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The README keeps its two commands for a fresh Debian 12 machine: the
# demo (set up, build, run) and the test suite, which is what CI runs.
set -eu
. "$YKSSH_SOURCE_DIR/tests/lib.sh"
README=$YKSSH_SOURCE_DIR/README.md
DEMO='    scripts/install-deps && cmake -S . -B build && cmake --build build -j2 && ./build/src/cli/ykssh demo'

check "README has the demo command" grep -qxF "$DEMO" "$README"
check "README has the test command" grep -qxF "    scripts/test" "$README"
check "the demo command comes first" sh -c "
	d=\$(grep -nxF '$DEMO' '$README' | cut -d: -f1)
	t=\$(grep -nxF '    scripts/test' '$README' | cut -d: -f1)
	[ \"\$d\" -lt \"\$t\" ]"
check "CI runs the README's test command" \
	grep -qx 'exec scripts/test' "$YKSSH_SOURCE_DIR/.ci/run"
check "the demo command's pieces exist" sh -c "
	[ -x '$YKSSH_SOURCE_DIR/scripts/install-deps' ] &&
	[ -x '$YKSSH_SOURCE_DIR/scripts/test' ]"
finish
