#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: the control-socket errors a new user meets say what to do:
# a bad switch name says what a switch name looks like (it used to be
# just "bad switch name 'vlae0'"); -s DIR says DIR is a directory, not a
# socket (it used to say "Connection refused"); "Permission denied" on the
# socket names the socket's group and how to join it (as an unprivileged
# user, needs root to switch to it; that part skips otherwise).
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${UNM_BUILD:-$PWD/build}
T=$(mktemp -d /tmp/ctl-messages.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
for p in unmd unm-ctl; do [ -x "$B/$p" ] || fail "$B/$p not built"; done
export UNM_SOCKET=$T/unmd.sock
"$B/unmd" -f -s "$UNM_SOCKET" 2> "$T/unmd.log" & PIDS+=($!)
for ((i = 0; i < 100; i++)); do [ -S "$UNM_SOCKET" ] && break; sleep 0.05; done
[ -S "$UNM_SOCKET" ] || fail "unmd did not start"

"$B/unm-ctl" attach vlae0 null > /dev/null 2> "$T/e1"; rc=$?
[ $rc = 1 ] || fail "bad switch name: exit $rc"
grep -q "bad switch name 'vlae0': a switch name is 'vale' followed by" "$T/e1" ||
	fail "bad switch name: $(cat "$T/e1")"
"$B/unm-ctl" stats vlae0 > /dev/null 2> "$T/e1b"
grep -q "a switch name is 'vale'" "$T/e1b" || fail "stats bad switch name: $(cat "$T/e1b")"

"$B/unm-ctl" -s "$T" list > /dev/null 2> "$T/e2"; rc=$?
[ $rc = 1 ] || fail "-s DIR: exit $rc"
grep -q "is a directory, not a socket" "$T/e2" || fail "-s DIR: $(cat "$T/e2")"
grep -q "Connection refused" "$T/e2" && fail "-s DIR still says Connection refused"

if [ "$(id -u)" != 0 ] || ! command -v setpriv > /dev/null; then
	echo "SKIP: permission message needs root and setpriv to act as another user"
	exit 77
fi
grp=$(getent group 1 | cut -d: -f1)   # "daemon" on Debian
[ -n "$grp" ] || { echo "SKIP: no group with gid 1"; exit 77; }
chmod 755 "$T"
chgrp "$grp" "$UNM_SOCKET" && chmod 660 "$UNM_SOCKET"
# the tool may live where nobody cannot read: run a copy from $T
cp "$B/unm-ctl" "$T/unm-ctl" && chmod 755 "$T/unm-ctl"
setpriv --reuid=65534 --regid=65534 --clear-groups "$T/unm-ctl" list > /dev/null 2> "$T/e3"; rc=$?
[ $rc = 1 ] || fail "permission: exit $rc"
grep -q "Permission denied: .* belongs to group '$grp' (mode 660); join it (usermod -aG $grp" "$T/e3" ||
	fail "permission: $(cat "$T/e3")"
echo PASS
