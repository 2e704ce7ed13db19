#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The bash and zsh completions know every command of 'ykssh --help' and
# every option of 'ykssh COMMAND --help'; the bash one loads in bash.
set -eu
. "$YKSSH_SOURCE_DIR/tests/lib.sh"
BASH_C=$YKSSH_SOURCE_DIR/completion/ykssh.bash
ZSH_C=$YKSSH_SOURCE_DIR/completion/_ykssh

run "$YKSSH_BIN" --help
cmds=$(printf '%s\n' "$OUT" | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 {print $1}')
for c in $cmds; do
	check "bash completion knows '$c'" grep -q "commands=.*\b$c\b" "$BASH_C"
	check "zsh completion knows '$c'" grep -q "'$c:" "$ZSH_C"
	run "$YKSSH_BIN" "$c" --help
	for o in $(printf '%s\n' "$OUT" | grep -Eo -- '--[a-z][a-z0-9-]*' | sort -u); do
		check "bash completion offers $c $o" grep -q -- "$o\b" "$BASH_C"
		check "zsh completion offers $c $o" grep -q -e "$o\[" -e "$o}" "$ZSH_C"
	done
done
check "bash completion parses" bash -n "$BASH_C"
if command -v zsh >/dev/null 2>&1; then
	check "zsh completion parses" zsh -n "$ZSH_C"
fi
finish
