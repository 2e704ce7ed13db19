#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# cmake --install lays out the binary, the man page and the udev rules, both
# with --prefix and with DESTDIR; the installed binary runs and the
# installed man page renders.
set -eu
. "$YKSSH_SOURCE_DIR/tests/lib.sh"

run cmake --install "$YKSSH_BUILD_DIR" --prefix "$TMP/x"
check "cmake --install --prefix succeeds" eq "$RC" 0
check "binary in bin/" test -x "$TMP/x/bin/ykssh"
check "man page in share/man/man1/" test -f "$TMP/x/share/man/man1/ykssh.1"
check "udev rules in lib/udev/rules.d/" test -f "$TMP/x/lib/udev/rules.d/70-ykssh.rules"
check "bash completion" test -f "$TMP/x/share/bash-completion/completions/ykssh"
check "zsh completion" test -f "$TMP/x/share/zsh/vendor-completions/_ykssh"
run "$TMP/x/bin/ykssh" --version
check "installed binary runs" contains "$OUT" "ykssh "
run env MANWIDTH=80 MANPAGER=cat man -l "$TMP/x/share/man/man1/ykssh.1"
check "installed man page renders" contains "$OUT" "ykssh"
mode=$(stat -c %a "$TMP/x/share/man/man1/ykssh.1")
check "man page is not writable by others" eq "$mode" 644

run env DESTDIR="$TMP/d" cmake --install "$YKSSH_BUILD_DIR" --prefix /usr
check "DESTDIR install succeeds" eq "$RC" 0
check "DESTDIR binary" test -x "$TMP/d/usr/bin/ykssh"
check "DESTDIR udev rules under /usr/lib/udev/rules.d" test -f "$TMP/d/usr/lib/udev/rules.d/70-ykssh.rules"
check "DESTDIR man page" test -f "$TMP/d/usr/share/man/man1/ykssh.1"
finish
