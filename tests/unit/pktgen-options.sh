#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: the netmap pkt-gen options unm-pktgen added last: --ts
# (one-way latency over a pipe: min/median/p99/max and histogram lines,
# text and JSON), -X (hex dump of sent and received slots), -W (a receiver
# with empty rings stops at once), -r (lengths only, frames still
# delivered), -B (bps counts 24 more bytes per frame), -A (mean and
# standard deviation of the interval rates), -c (CPU wrap for -a), and the
# usage errors of -P, --replay-timing, --ts, -r, -W, -A and -c.
set -u
cd "$(dirname "$0")/../.." || exit 1
PG=${UNM_BUILD:-$PWD/build}/unm-pktgen
[ -x "$PG" ] || PG=$PWD/build/unm-pktgen
[ -x "$PG" ] || { echo "FAIL: $PG not built"; exit 1; }
tmp=$(mktemp -d /tmp/pktgen-options.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/*; do [ -f "$f" ] && { echo "--- $f"; head -40 "$f"; }; done; exit 1; }
P=pgo$$

usage_error() {
	"$PG" "$@" > "$tmp/out" 2> "$tmp/err"
	local rc=$?
	[ $rc = 2 ] || fail "'$*' exit $rc, expected 2 ($(cat "$tmp/err"))"
	[ "$(wc -l < "$tmp/err")" = 2 ] || fail "'$*': stderr is not 2 lines: $(cat "$tmp/err")"
}
usage_error -i null -f rx -P x.pcap
usage_error -i null -f txseq -P x.pcap
usage_error -i null -f tx -P x.pcap -p 2
usage_error -i null -f tx -P x.pcap -F 2
usage_error -i null -f tx --replay-timing=fast
usage_error -i null -f tx -P x.pcap --replay-timing=slow
usage_error -i null -f tx -P x.pcap --replay-timing=orig -R 10
usage_error -i null -f ping --ts
usage_error -i null -f txseq -r
usage_error -i null -f tx -W
usage_error -i null -f tx -A -T 0
usage_error -i null -f tx -c 2
usage_error -i null -f tx -a 3 -c 2
"$PG" -f tx -i null -P "$tmp/missing.pcap" > /dev/null 2> "$tmp/err"
[ $? = 1 ] || fail "-P of a missing file: not exit 1"
grep -q 'missing.pcap' "$tmp/err" || fail "-P missing file message: $(cat "$tmp/err")"
printf 'not a capture at all' > "$tmp/bad.pcap"
"$PG" -f tx -i null -P "$tmp/bad.pcap" > /dev/null 2> "$tmp/err"
[ $? = 1 ] && grep -q 'not a pcap' "$tmp/err" || fail "-P of garbage: $(cat "$tmp/err")"

# --ts: one-way latency across a pipe
timeout 20 "$PG" -f rxseq --ts -i "$P}0" -n 20000 -T 0 > "$tmp/lat" 2> "$tmp/lat.err" &
rx=$!; pids+=($rx)
sleep 0.3
timeout 20 "$PG" -f txseq --ts -i "$P{0" -n 20000 -T 0 > /dev/null 2>&1 || fail "txseq --ts exit $?"
wait $rx || fail "rxseq --ts exit $?"
grep -q '^Received 20000 packets .*lost 0, out-of-order 0, duplicates 0, malformed 0' "$tmp/lat" ||
	fail "rxseq --ts summary"
grep -Eq '^Latency over 20000 frames: min [0-9]+ ns, median [0-9]+ ns, p99 [0-9]+ ns, max [0-9]+ ns$' \
	"$tmp/lat" || fail "no latency line"
grep -Eq '^  \[ *[0-9.]+[num]?s, +[0-9.]+[num]?s\) +[0-9]+ #' "$tmp/lat" || fail "no histogram lines"
# JSON, plain tx stamping for a plain rx
timeout 20 "$PG" -f rx --ts -j -i "${P}j}0" -n 1000 -T 0 > "$tmp/latj" 2>&1 &
rx=$!; pids+=($rx)
sleep 0.3
timeout 20 "$PG" -f tx --ts -i "${P}j{0" -n 1000 -T 0 > /dev/null 2>&1 || fail "tx --ts exit $?"
wait $rx || fail "rx --ts -j exit $?"
grep -q '^{"type":"latency","samples":1000,"min_ns":' "$tmp/latj" || fail "latency JSON"
grep -q '^{"type":"latency_bucket",' "$tmp/latj" || fail "latency bucket JSON"

# -X: each slot, header then hex; received slots too
out=$("$PG" -f tx -i null -n 2 -T 0 -X) || fail "tx -X exit $?"
[ "$(echo "$out" | grep -c '^tx thread 0 ring 0 slot [01] len 60$')" = 2 ] || fail "tx -X headers: $out"
echo "$out" | grep -q '^  0000  ff ff ff ff ff ff 02 00 00 00 00 01 08 00 45 00  ' || fail "tx -X hex: $out"
[ "$(echo "$out" | grep -c '^  00[0-3]0  ')" = 8 ] || fail "tx -X: not 4 lines per 60-byte frame"
timeout 20 "$PG" -f rx -X -i "${P}x}0" -n 3 -T 0 > "$tmp/dump" 2>&1 &
rx=$!; pids+=($rx)
sleep 0.3
timeout 20 "$PG" -f tx -i "${P}x{0" -n 3 -l 100 -T 0 > /dev/null 2>&1 || fail "tx into -X exit $?"
wait $rx || fail "rx -X exit $?"
[ "$(grep -c '^rx thread 0 ring 0 slot [0-9]* len 100$' "$tmp/dump")" = 3 ] || fail "rx -X"

# -W: empty rings at the first look end the receiver at once
start=$(date +%s%N)
out=$(timeout 10 "$PG" -f rx -W -i "${P}w}0" -T 0) || fail "rx -W exit $?"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "$out" | grep -q '^Received 0 packets' || fail "rx -W: $out"
[ $ms -lt 2000 ] || fail "rx -W took $ms ms"

# -r: only lengths are set; the receiver still counts whole frames
timeout 20 "$PG" -f rx -i "${P}r}0" -n 50000 -T 0 > "$tmp/rub" 2>&1 &
rx=$!; pids+=($rx)
sleep 0.3
timeout 20 "$PG" -f tx -r -i "${P}r{0" -n 50000 -l 128 -T 0 > /dev/null 2>&1 || fail "tx -r exit $?"
wait $rx || fail "rx after -r exit $?"
grep -q '^Received 50000 packets 6400000 bytes' "$tmp/rub" || fail "rx after tx -r: $(cat "$tmp/rub")"

# -B: bits = 8 * (bytes + 24 per frame) over the same seconds
field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" | head -1; }
j=$("$PG" -f tx -i null -n 20000 -R 100000 -T 0 -j -B) || fail "tx -B exit $?"
bps=$(echo "$j" | field bps) secs=$(echo "$j" | field seconds)
awk -v b="$bps" -v s="$secs" 'BEGIN { want = (20000 * 60 + 20000 * 24) * 8 / s;
	exit !(s > 0 && b > want * 0.99 && b < want * 1.01) }' || fail "-B: bps $bps over $secs s"

# -A: mean and stddev of the interval rates
out=$("$PG" -f tx -i null -n 8000 -R 20000 -T 100 -A -N) || fail "tx -A exit $?"
line=$(echo "$out" | grep '^Rate over ') || fail "no -A line: $out"
n=$(echo "$line" | sed -n 's/^Rate over \([0-9]*\) intervals: mean [0-9]* *pps stddev [0-9]* *pps, mean [0-9]* *bps stddev [0-9]* *bps$/\1/p')
mean=$(echo "$line" | sed -n 's/.*: mean \([0-9]*\) *pps.*/\1/p')
[ -n "$n" ] && [ "$n" -ge 2 ] || fail "-A intervals: $line"
[ "$mean" -gt 10000 ] && [ "$mean" -lt 30000 ] || fail "-A mean $mean, expected about 20000: $line"

# -c: -a 0 -c 1 puts both threads on CPU 0 and runs
out=$("$PG" -f tx -i 'null@conf:rings=2' -p 2 -a 0 -c 1 -n 10000 -T 0 2>&1) || fail "-a 0 -c 1: $out"
echo "$out" | grep -q '^Sent 10000 packets' || fail "-c: $out"
echo ok
exit 0
