#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: a sender on a pipe whose peer has not opened says so once
# the rings have been full for a second ("no peer on NAME yet: N frames
# wait in the ring"; unm_port_info().peer == UNM_PEER_WAITING) instead of
# printing pps=0 lines with no hint, resumes when the peer opens (all -n
# frames arrive, no "no peer ever opened" note), and a sender that exits
# while the peer never opened says its frames are dropped with it. Before,
# it stalled after 2,046 frames without a word.
set -u
cd "$(dirname "$0")/../.." || exit 1
PG=${UNM_BUILD:-$PWD/build}/unm-pktgen
[ -x "$PG" ] || { echo "FAIL: $PG not built"; exit 1; }
T=$(mktemp -d /tmp/pktgen-nopeer.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*; do echo "--- $f"; cat "$f"; done; exit 1; }
P=nopeer$$

# the peer never comes: one hint while it runs, one note at the end
timeout -s INT 2.5 "$PG" -f tx -i "$P{0" -T 500 > "$T/a.out" 2> "$T/a.err"
[ "$(grep -c "no peer on $P{0 yet: [0-9]* frames wait in the ring" "$T/a.err")" = 1 ] ||
	fail "no single 'no peer yet' hint"
grep -q "no peer ever opened the other end of $P{0" "$T/a.err" || fail "no end note"

# the peer comes late: the sender resumes and everything arrives
timeout 20 "$PG" -f txseq -i "${P}b{0" -n 5000 -T 0 > "$T/b.out" 2> "$T/b.err" &
tx=$!; pids+=($tx)
sleep 1.6
timeout 20 "$PG" -f rxseq -i "${P}b}0" -n 5000 -T 0 > "$T/b-rx.out" 2> "$T/b-rx.err" ||
	fail "late receiver exit $?"
wait $tx || fail "sender exit $?"
grep -q "no peer on ${P}b{0 yet" "$T/b.err" || fail "late peer: no hint while waiting"
grep -q "no peer ever opened" "$T/b.err" && fail "late peer: end note although the peer came"
grep -q '^Received 5000 packets .*lost 0' "$T/b-rx.out" || fail "late peer: frames missing"
echo PASS
