#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# 1. Every public header compiles on its own.
# 2. The CLI compiles with only include/ (and its own directory) on the
#    include path: it cannot reach library internals.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cc=${CC:-cc}
flags="-std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -Wall -Wextra -Werror -fsyntax-only"
crypto=$(pkg-config --cflags libcrypto)
jansson=$(pkg-config --cflags jansson)
status=0
for h in "$top"/include/ykssh/*.h; do
	name=ykssh/$(basename "$h")
	# shellcheck disable=SC2086
	if ! printf '#include "%s"\n' "$name" |
	    $cc $flags $crypto -I"$top/include" -x c -; then
		echo "include-check: $name does not compile on its own" >&2
		status=1
	fi
done
for c in "$top"/src/cli/*.c; do
	# shellcheck disable=SC2086
	if ! $cc $flags $crypto $jansson -I"$top/include" -I"$top/src/cli" \
	    -DYKSSH_SOURCE_DIR=\"src\" -DYKSSH_BUILD_DIR=\"build\" \
	    -iquote /nonexistent "$c"; then
		echo "include-check: $(basename "$c") needs more than include/" >&2
		status=1
	fi
done
[ $status -eq 0 ] && echo "include-check: all headers standalone, CLI sees only include/"
exit $status
