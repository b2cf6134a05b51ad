#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: a shmif bus attached to vale0 in unmd, shared with two
# unetmap processes: frames sent on a switch port reach both bus readers
# exactly, and frames a bus process sends reach the switch port exactly.
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
PG=$PWD/$B/unm-pktgen
[ -x "$PG" ] || skip "unm-pktgen not built"
TMPD=$(mktemp -d /tmp/unm-shmsw.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMPD"; }
trap cleanup EXIT
. tests/lib/unmd.inc
start_unmd
BUS=$TMPD/bus
N=2000
"$CTL" attach vale0 "shmif:$BUS" || fail "attach shmif:$BUS"
# two bus readers (separate processes), then a sender on a switch port
for i in 1 2; do
	timeout 20 "$PG" -f rx -i "shmif:$BUS" -n $N -T 0 > "$TMPD/rx$i" 2>&1 & PIDS+=($!); RX[$i]=$!
done
sleep 0.5
# a rate the bus readers sustain (the bus has no flow control, by design)
timeout 20 "$PG" -f tx -i vale0:a -n $N -R 20000 -T 0 > "$TMPD/tx" 2>&1 || { cat "$TMPD/tx"; fail "tx on vale0:a"; }
for i in 1 2; do
	wait "${RX[$i]}" || { cat "$TMPD/rx$i"; fail "bus reader $i did not get $N frames"; }
	grep -q "Received $N packets" "$TMPD/rx$i" || { cat "$TMPD/rx$i"; fail "bus reader $i count"; }
done
echo "switch -> bus: both readers got exactly $N"
# the other way: a bus process sends, the switch port receives. Lossless:
# a receiver not scheduled for a while (a loaded machine) holds the bus's
# frames back in unmd instead of losing what overflows its 1024 slots; the
# bus itself keeps what unmd has not read yet until the writer laps it.
"$CTL" switch set vale0 lossless on || fail "switch set vale0 lossless on"
timeout 20 "$PG" -f rx -i vale0:b -n $N -T 0 > "$TMPD/rxb" 2>&1 & rxb=$!; PIDS+=($rxb)
sleep 0.5
timeout 20 "$PG" -f tx -i "shmif:$BUS" -n $N -R 20000 -T 0 > "$TMPD/txb" 2>&1 || { cat "$TMPD/txb"; fail "tx on bus"; }
wait $rxb || { cat "$TMPD/rxb"; "$CTL" stats; fail "vale0:b did not get $N frames"; }
echo "bus -> switch: vale0:b got exactly $N"
# an attached port is named after its backend: it can be asked for alone
st=$("$CTL" -j stats "vale0:shmif:$BUS") || fail "stats vale0:shmif:$BUS"
echo "$st" | grep -q "\"name\":\"shmif:$BUS\"" || fail "stats of the attached port: $st"
[ "$(echo "$st" | grep -o '"name"' | wc -l)" = 1 ] || fail "stats returned more than the port: $st"
echo "stats vale0:shmif:...: that port only"
exit 0
