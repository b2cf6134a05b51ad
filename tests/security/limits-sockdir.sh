#!/bin/bash
# Description: unmd's socket set-up cannot be turned against root.
# unmd must refuse to start, with a message saying why, when the socket's
# directory, or a directory above it, is owned by another user (65534),
# or is writable by others without the sticky bit; it must not touch a
# file planted at the socket's name (a symlink to a victim file: the
# victim keeps its mode 0600, the link stays); and a user racing to swap
# the socket for a symlink to the victim (renaming one over it in a loop,
# in a directory that user owns) must never get the victim chmod'ed, over
# 20 starts. In a good directory that does not exist yet, unmd creates
# it 0755 and its socket has -m's mode and -g's group. Fails on commit
# 71d5c11: it started in a directory owned by another user and in a
# world-writable one.
set -u
cd "$(dirname "$0")/../.." || exit 1
UNMD=${UNM_BUILD:-$PWD/${B:-build}}/unmd
[ -x "$UNMD" ] || { echo "SKIP: $UNMD not built"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (directories owned by another user)"; exit 77; }
T=$(mktemp -d /tmp/unm-secb-sockdir.XXXXXX)
chmod 0755 "$T" # the other user must reach its directories
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# must_refuse DIR WHAT: unmd exits non-zero at once, saying WHAT
must_refuse() {
	local sock=$1/unmd.sock want=$2 rc
	timeout 5 "$UNMD" -f -s "$sock" > "$T/log" 2>&1
	rc=$?
	[ $rc = 124 ] && fail "unmd started on $sock (expected a refusal: $want)"
	[ $rc = 0 ] && fail "unmd exited 0 on $sock"
	grep -q -- "$want" "$T/log" || { cat "$T/log"; fail "no '$want' in unmd's message"; }
	[ -e "$sock" ] && fail "$sock was created"
	echo "refused $1: $(grep -m1 refusing "$T/log")"
}

echo secret > "$T/victim"
chmod 0600 "$T/victim"

# 1. owned by another user
mkdir "$T/user" && chown 65534:65534 "$T/user"
must_refuse "$T/user" "owned by uid 65534"
# 2. a directory above owned by another user
mkdir "$T/user/sub"
must_refuse "$T/user/sub" "owned by uid 65534"
# 3. world-writable, not sticky
mkdir -m 0777 "$T/ww" && chmod 0777 "$T/ww"
must_refuse "$T/ww" "lets others write"
# 4. group-writable by a group other than root's
mkdir "$T/gw" && chgrp 65534 "$T/gw" && chmod 0775 "$T/gw"
must_refuse "$T/gw" "lets its group write"

# 5. sticky and world-writable (like /tmp) is fine, but a link planted at
# the socket's name is neither followed nor removed
mkdir "$T/sticky" && chmod 1777 "$T/sticky"
setpriv --reuid 65534 --regid 65534 --clear-groups ln -s "$T/victim" "$T/sticky/unmd.sock" ||
	fail "cannot plant the link"
timeout 5 "$UNMD" -f -m 0666 -s "$T/sticky/unmd.sock" > "$T/log" 2>&1
[ $? = 124 ] && fail "unmd started over a planted link"
grep -q "not a socket" "$T/log" || { cat "$T/log"; fail "no 'not a socket' message"; }
[ -L "$T/sticky/unmd.sock" ] || fail "the planted link was removed"
[ "$(stat -c %a "$T/victim")" = 600 ] || fail "victim's mode changed: $(stat -c %a "$T/victim")"
echo "planted link left alone: $(cat "$T/log")"

# 6. the swap race, in a directory the attacker owns
setpriv --reuid 65534 --regid 65534 --clear-groups bash -c '
	cd "$1" || exit 1
	while :; do ln -sfn "$2" .l 2>/dev/null; mv -fT .l unmd.sock 2>/dev/null; done' \
	race "$T/user" "$T/victim" &
PIDS+=($!)
for i in $(seq 1 20); do
	timeout 2 "$UNMD" -f -m 0666 -s "$T/user/unmd.sock" > /dev/null 2>&1
	m=$(stat -c %a "$T/victim")
	[ "$m" = 600 ] || fail "round $i: the victim's mode became $m through the socket path"
done
kill "${PIDS[@]}" 2>/dev/null
echo "20 starts against a swapping attacker: victim still 0600"

# 7. a good directory, created on demand: mode and group as asked
timeout 10 "$UNMD" -f -m 0640 -g 65534 -s "$T/ok/sub/unmd.sock" > "$T/log" 2>&1 &
UP=$!
PIDS+=($UP)
for i in $(seq 1 100); do [ -S "$T/ok/sub/unmd.sock" ] && break; sleep 0.05; done
[ -S "$T/ok/sub/unmd.sock" ] || { cat "$T/log"; fail "unmd did not start in $T/ok/sub"; }
[ "$(stat -c %a "$T/ok/sub")" = 755 ] || fail "created directory mode $(stat -c %a "$T/ok/sub")"
[ "$(stat -c %a:%g "$T/ok/sub/unmd.sock")" = 640:65534 ] ||
	fail "socket mode:group $(stat -c %a:%g "$T/ok/sub/unmd.sock"), want 640:65534"
kill $UP; wait $UP 2>/dev/null
[ -e "$T/ok/sub/unmd.sock" ] && fail "socket left behind at exit"
echo "good directory: socket 0640 group 65534, removed at exit"
echo PASS
