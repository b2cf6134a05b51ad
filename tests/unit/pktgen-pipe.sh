#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: unm-pktgen end to end over a pipe: txseq -> rxseq moves
# exactly -n frames with no loss (one ring pair and, with -p 2 over
# @conf:rings=2 and one open per end, two: per-ring order), ping
# gets RTTs from pong, and a receiver whose sender exits says "peer closed
# after N frames". Skips while pipes are not built into libunm.
set -u
cd "$(dirname "$0")/../.." || exit 1
PG=${UNM_BUILD:-$PWD/build}/unm-pktgen
[ -x "$PG" ] || PG=$PWD/build/unm-pktgen
[ -x "$PG" ] || { echo "FAIL: $PG not built"; exit 1; }
tmp=$(mktemp -d /tmp/pktgen-pipe.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/*; do echo "--- $f"; cat "$f"; done; exit 1; }
P=pgt$$

skip_if_no_pipes() {
	if grep -qE 'not implemented|not built|Protocol not supported' "$@" 2>/dev/null; then
		echo "SKIP: pipes are not available in this libunm"
		exit 77
	fi
}

# rxseq <- txseq, exact count
timeout 20 "$PG" -f rxseq -i "$P}0" -n 200000 -T 0 > "$tmp/rx" 2> "$tmp/rx.err" &
rx=$!; pids+=($rx)
sleep 0.3   # the receiver first: a sender alone may finish before it joins
timeout 20 "$PG" -f txseq -i "$P{0" -n 200000 -T 0 > "$tmp/tx" 2> "$tmp/tx.err"
txrc=$?
wait $rx; rxrc=$?
skip_if_no_pipes "$tmp/rx.err" "$tmp/tx.err"
[ $txrc = 0 ] || fail "txseq exit $txrc"
[ $rxrc = 0 ] || fail "rxseq exit $rxrc"
grep -q '^Sent 200000 packets' "$tmp/tx" || fail "tx summary"
grep -q '^Received 200000 packets .*lost 0, out-of-order 0, duplicates 0, malformed 0' "$tmp/rx" ||
	fail "rx summary"

# two ring pairs, two threads each side, one open each (a pipe end opens
# once): rxseq checks each ring's own sequence, so order is per ring
timeout 20 "$PG" -f rxseq -i "${P}b}0@conf:rings=2" -p 2 -n 100000 -T 0 > "$tmp/rx2" 2> "$tmp/rx2.err" &
rx=$!; pids+=($rx)
sleep 0.3   # the receiver first: a sender alone may finish before it joins
timeout 20 "$PG" -f txseq -i "${P}b{0" -p 2 -n 100000 -T 0 > "$tmp/tx2" 2> "$tmp/tx2.err"
txrc=$?
wait $rx; rxrc=$?
[ $txrc = 0 ] || fail "txseq -p 2 exit $txrc"
[ $rxrc = 0 ] || fail "rxseq -p 2 exit $rxrc"
grep -q '^Sent 100000 packets' "$tmp/tx2" || fail "tx -p 2 summary"
grep -q '^Received 100000 packets .*lost 0, out-of-order 0, duplicates 0, malformed 0' "$tmp/rx2" ||
	fail "rx -p 2 summary"

# -p 2 on a pipe created with one ring pair: a clear refusal
timeout 20 "$PG" -f rx -i "${P}e}0" -T 0 > /dev/null 2>&1 &
rx=$!; pids+=($rx)
sleep 0.3
timeout 20 "$PG" -f tx -i "${P}e{0" -p 2 -n 10 -T 0 > /dev/null 2> "$tmp/tx5.err"
[ $? = 1 ] || fail "-p 2 on a one-ring pipe: not exit 1"
grep -q 'needs one per thread' "$tmp/tx5.err" || fail "-p 2 on a one-ring pipe: $(cat "$tmp/tx5.err")"
kill -INT $rx; wait $rx

# the sender leaves: the receiver says so
timeout 20 "$PG" -f rx -i "${P}c}0" -T 0 > "$tmp/rx3" 2> "$tmp/rx3.err" &
rx=$!; pids+=($rx)
sleep 0.3   # the receiver first: a sender alone may finish before it joins
timeout 20 "$PG" -f tx -i "${P}c{0" -n 1000 -T 0 > /dev/null 2>&1 || fail "tx 1000 exit $?"
wait $rx || fail "rx after peer close: exit $?"
grep -q 'peer closed after 1000 frames' "$tmp/rx3.err" || fail "no 'peer closed' message"

# ping / pong
timeout 20 "$PG" -f pong -i "${P}d}0" -n 1000 -T 0 > "$tmp/pong" 2>&1 &
rx=$!; pids+=($rx)
sleep 0.3   # the receiver first: a sender alone may finish before it joins
timeout 20 "$PG" -f ping -i "${P}d{0" -n 1000 -T 0 > "$tmp/ping" 2>&1 || fail "ping exit $?"
wait $rx || fail "pong exit $?"
grep -q '^RTT over 1000 transactions: min [0-9]* ns, median' "$tmp/ping" || fail "ping RTT"
grep -q 'lost 0' "$tmp/ping" || fail "ping lost frames"
echo ok
exit 0
