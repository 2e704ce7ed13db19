#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# cpack makes a .deb with the right dependencies; installed into a scratch
# root with dpkg, it lays out the binary, man page, udev rules and
# completions, and the installed binary runs.
set -eu
. "$YKSSH_SOURCE_DIR/tests/lib.sh"

# A build configured for /usr, as a package is.
run cmake -S "$YKSSH_SOURCE_DIR" -B "$TMP/b" -DCMAKE_INSTALL_PREFIX=/usr \
    -DYKSSH_BUILD_TESTS=OFF
check "configure for packaging" eq "$RC" 0
run cmake --build "$TMP/b" -j2 --target ykssh
check "build" eq "$RC" 0
run sh -c "cd '$TMP/b' && cpack -G DEB"
check "cpack -G DEB" eq "$RC" 0
deb=$(ls "$TMP"/b/ykssh_*.deb 2>/dev/null | head -1)
check "a .deb was made" test -f "$deb"

run dpkg-deb -f "$deb" Depends
for dep in libfido2-1 libykpiv2 libssl3 libjansson4 libcbor0.8 libcurl4 \
    openssh-client libc6; do
	check "Depends names $dep" contains "$OUT" "$dep"
done
run dpkg-deb -f "$deb" Recommends
check "Recommends pcscd and a PKCS#11 module" contains "$OUT" "ykcs11"

# Install into a scratch root with a dpkg database of its own.
R=$TMP/root
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"
: > "$R/var/lib/dpkg/status"
: > "$R/var/lib/dpkg/available"
run dpkg --root="$R" --force-depends --force-not-root --log=/dev/null -i "$deb"
check "dpkg -i into the scratch root" eq "$RC" 0
for f in usr/bin/ykssh usr/share/man/man1/ykssh.1 \
    usr/lib/udev/rules.d/70-ykssh.rules \
    usr/share/bash-completion/completions/ykssh \
    usr/share/zsh/vendor-completions/_ykssh; do
	check "package installs /$f" test -f "$R/$f"
done
run "$R/usr/bin/ykssh" --version
check "installed ykssh runs" contains "$OUT" "ykssh "
run dpkg --root="$R" -s ykssh
check "dpkg knows the package" contains "$OUT" "Status: install ok installed"
finish
