#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# udev rules: every line is a comment, blank, or a rule made only of
# KEY[{attr}]OP"value" pairs udev knows; both YubiKey interfaces are covered.
set -eu
. "$YKSSH_SOURCE_DIR/tests/lib.sh"
RULES=$YKSSH_SOURCE_DIR/udev/70-ykssh.rules

bad=$(grep -vE '^[[:space:]]*(#|$)' "$RULES" | awk '
{
	line = $0
	n = split(line, parts, /", /)
	for (i = 1; i <= n; i++) {
		p = parts[i]
		if (i < n) p = p "\""
		if (p !~ /^(ACTION|KERNEL|SUBSYSTEM|ENV\{[A-Z_]+\}|ATTRS?\{[A-Za-z]+\}|TAG|LABEL|GOTO)(==|!=|=|\+=)"[^"]*"$/) {
			print NR ": " p
		}
	}
}')
check "every rule uses known keys and operators" eq "$bad" ""
check "GOTO target exists" sh -c "grep -q 'GOTO=\"ykssh_end\"' '$RULES' && grep -q 'LABEL=\"ykssh_end\"' '$RULES'"
check "FIDO hidraw of Yubico is tagged uaccess" grep -qE '^KERNEL=="hidraw\*", SUBSYSTEM=="hidraw", ATTRS\{idVendor\}=="1050", .*0402\|0403\|0406\|0407.*TAG\+="uaccess"$' "$RULES"
check "CCID usb device of Yubico is tagged uaccess" grep -qE '^SUBSYSTEM=="usb", ENV\{DEVTYPE\}=="usb_device", ATTR\{idVendor\}=="1050", .*0404\|0405\|0406\|0407.*TAG\+="uaccess"$' "$RULES"
check "no rule makes devices world-accessible" sh -c "! grep -q 'MODE=\"0666\"' '$RULES'"
finish
