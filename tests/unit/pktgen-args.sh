#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: unm-pktgen's command line: every kind of usage error exits 2
# with one message line plus "try --help" on stderr and nothing on stdout;
# a sender on the null port sends exactly -n frames (one thread or several,
# text and JSON summaries), -l ranges give byte counts inside the range,
# -H/-F/-M/-6/-C runs work, a receiver stopped by SIGINT prints its summary
# and fails when fewer than -n frames came, an unknown port exits 1.
set -u
cd "$(dirname "$0")/../.." || exit 1
PG=${UNM_BUILD:-$PWD/build}/unm-pktgen
[ -x "$PG" ] || PG=$PWD/build/unm-pktgen
[ -x "$PG" ] || { echo "FAIL: $PG not built"; exit 1; }
tmp=$(mktemp -d /tmp/pktgen-args.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

usage_error() { # args...: must exit 2, one line + try --help on stderr
	"$PG" "$@" > "$tmp/out" 2> "$tmp/err"
	local rc=$?
	[ $rc = 2 ] || fail "'$*' exit $rc, expected 2 ($(cat "$tmp/err"))"
	[ -s "$tmp/out" ] && fail "'$*' wrote to stdout"
	[ "$(wc -l < "$tmp/err")" = 2 ] || fail "'$*': stderr is not 2 lines: $(cat "$tmp/err")"
	grep -q "^unm-pktgen: " "$tmp/err" || fail "'$*': no message"
	grep -q -- "--help" "$tmp/err" || fail "'$*': no try --help"
}

usage_error
usage_error -f tx
usage_error -f bogus -i null
usage_error -i null -x
usage_error -i null --bogus
usage_error -i null -n
usage_error -i null -n -5
usage_error -i null -n 12abc
usage_error -i null -b 0
usage_error -i null -l 10
usage_error -i null -l 60 -l 70 -l 80
usage_error -i null -l 60-
usage_error -i null -l 70000
usage_error -i null -6 -l 60
usage_error -i null -R 0
usage_error -i null -T 5
usage_error -i null -p 0
usage_error -i null -p 99
usage_error -i null -f ping -p 2
usage_error -i null -s 10.0.0.300
usage_error -i null -s 10.0.0.9-10.0.0.1
usage_error -i null -d fd00::1
usage_error -i null -6 -s 10.0.0.1
usage_error -i null -S 02:00:00
usage_error -i null -H 11
usage_error -i null -F 0
usage_error -i null -F 65
usage_error -i null -F 4 -M 20 -l 60
usage_error -i null -a x
usage_error -i null extra

# exact count, text and JSON
out=$("$PG" -f tx -i null -n 100000 -T 0) || fail "tx exit $?"
echo "$out" | grep -q '^Sent 100000 packets 6000000 bytes in ' || fail "tx summary: $out"
out=$("$PG" -f tx -i null -n 100000 -T 0 -j) || fail "tx -j exit $?"
echo "$out" | grep -q '^{"type":"summary","function":"tx",.*"packets":100000,' || fail "tx -j: $out"
out=$("$PG" -f txseq -i null -n 100001 -p 3 -b 64 -T 0) || fail "tx -p 3 exit $?"
echo "$out" | grep -q '^Sent 100001 packets ' || fail "tx -p 3: $out"

# -l range: the byte count lies between n*min and n*max, and is not n*min
out=$("$PG" -f tx -i null -n 20000 -l 64-1500 -T 0 -N) || fail "tx -l exit $?"
bytes=$(echo "$out" | sed -n 's/^Sent 20000 packets \([0-9]*\) bytes.*/\1/p')
[ -n "$bytes" ] || fail "tx -l summary: $out"
[ "$bytes" -gt $((20000 * 64)) ] && [ "$bytes" -lt $((20000 * 1500)) ] || fail "-l 64-1500: $bytes bytes"
out=$("$PG" -f tx -i null -n 1000 -l 100 -l 100 -T 0) || fail "tx -l -l exit $?"
echo "$out" | grep -q '^Sent 1000 packets 100000 bytes' || fail "-l 100 -l 100: $out"

# offload and fragment paths (bytes exclude the virtio-net header)
for args in "-H 12 -C" "-F 3" "-M 100 -l 1000" "-6 -z -Z" "-H 10 -F 2 -M 40 -6" \
	    "-l 3000 @" "-R 50000"; do
	a=${args/@/}
	out=$("$PG" -f txseq -i null -n 5000 -T 0 $a 2>&1) || fail "tx $a: exit $?: $out"
	echo "$out" | grep -q '^Sent 5000 packets' || fail "tx $a: $out"
done
"$PG" -f tx -i null@conf:bufsize=256 -n 10 -l 1000 -F 2 -T 0 > /dev/null 2>&1 && fail "-F 2 of 1000 into 256-byte buffers accepted"

# a receiver that gets nothing: SIGINT stops it with a summary
"$PG" -f rx -i null -n 5 -T 0 > "$tmp/rx" 2>&1 &
pid=$!
sleep 0.5
kill -INT $pid
wait $pid
rc=$?
[ $rc = 1 ] || fail "rx -n 5 interrupted: exit $rc"
grep -q '^Received 0 packets' "$tmp/rx" || fail "rx summary: $(cat "$tmp/rx")"
"$PG" -f rxseq -i null -T 100 > "$tmp/rx" 2>&1 &
pid=$!
sleep 0.5
kill -TERM $pid
wait $pid || fail "rxseq without -n interrupted: exit $?"
grep -q '^t=0.[0-9]* pkts=0 ' "$tmp/rx" || fail "no interval line: $(cat "$tmp/rx")"

"$PG" -f tx -i bogus:x -n 1 > /dev/null 2> "$tmp/err"
[ $? = 1 ] || fail "unknown port type: not exit 1"
grep -q "cannot open 'bogus:x'" "$tmp/err" || fail "open error: $(cat "$tmp/err")"
echo ok
exit 0
