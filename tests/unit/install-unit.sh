#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: make install puts unmd's systemd unit and the sysusers.d
# file for its group where systemd looks for them, and make uninstall
# takes back exactly the files install added. Into a temporary DESTDIR
# with PREFIX=/usr: the unit lands in usr/lib/systemd/system/unmd.service
# with the installed unmd's path and the sysusers file's path filled in
# (no @...@ left), its ExecStart keeps the socket under /run/unetmap (the
# RuntimeDirectory, mode 0755) with group unetmap; the sysusers file
# (usr/lib/sysusers.d/unetmap.conf) declares group unetmap;
# systemd-analyze verify accepts the unit when available; after
# uninstall no file is left under DESTDIR.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
tmp=$(mktemp -d /tmp/unm-install-unit.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
D=$tmp/dest
fail() { echo "FAIL: $*"; exit 1; }

make -s B="$B" ${SANITIZE:+SANITIZE=$SANITIZE} install DESTDIR="$D" PREFIX=/usr \
	> "$tmp/log" 2>&1 || { cat "$tmp/log"; fail "make install"; }
u=$D/usr/lib/systemd/system/unmd.service
s=$D/usr/lib/sysusers.d/unetmap.conf
[ -f "$u" ] || fail "unit not installed at ${u#$D}"
[ -f "$s" ] || fail "sysusers file not installed at ${s#$D}"
grep -q @ "$u" && fail "unsubstituted placeholder in the unit: $(grep @ "$u")"
grep -q '^ExecStart=/usr/sbin/unmd -f -s /run/unetmap/unmd.sock -m 0660 -g unetmap$' "$u" ||
	fail "ExecStart: $(grep ^ExecStart= "$u")"
grep -q '^ExecStartPre=+-/usr/bin/systemd-sysusers /usr/lib/sysusers.d/unetmap.conf$' "$u" ||
	fail "ExecStartPre: $(grep ^ExecStartPre "$u")"
grep -q '^RuntimeDirectory=unetmap$' "$u" && grep -q '^RuntimeDirectoryMode=0755$' "$u" ||
	fail "/run/unetmap must be the unit's RuntimeDirectory, mode 0755"
grep -q '^g unetmap' "$s" || fail "the sysusers file does not declare group unetmap"
if command -v systemd-analyze >/dev/null; then
	# verify needs the ExecStart binaries where the unit says
	sed -e "s|/usr/sbin/unmd|$PWD/$B/unmd|" -e 's|^ExecStartPre=.*||' "$u" > "$tmp/unmd.service"
	if ! systemd-analyze verify "$tmp/unmd.service" > "$tmp/verify" 2>&1; then
		grep -v "Failed to .*bus\|Cannot .*bus\|System has not been booted\|Command 'man " "$tmp/verify" | grep -q . &&
			{ cat "$tmp/verify"; fail "systemd-analyze verify"; }
	fi
fi
make -s B="$B" ${SANITIZE:+SANITIZE=$SANITIZE} uninstall DESTDIR="$D" PREFIX=/usr \
	> "$tmp/log" 2>&1 || { cat "$tmp/log"; fail "make uninstall"; }
left=$(find "$D" ! -type d)
[ -z "$left" ] || fail "left after uninstall: $left"
echo "unit and sysusers file installed, substituted, removed by uninstall"
echo PASS
