#!/bin/bash
# pktgen_pipe.sh - unm-pktgen's TX rate over a zero-copy pipe (tx -> pipe
# -> rx, 60-byte frames, default batch, sender pinned to CPU 0 and receiver
# to CPU 1) against the reference ring bench/raw_ring (tput, 64-byte
# frames, CPUs 0 and 1, same slot count), interleaved by bench/ab.sh.
# Result: the median ratio unm-pktgen / raw_ring (goal >= 0.8).
#
# usage: bench/pktgen_pipe.sh [SECONDS] [ROUNDS]   (default 5 s, 5 rounds;
#        verify the script with 2 1)
#        bench/pktgen_pipe.sh --one SECONDS        (one unm-pktgen run; prints
#        rate=<Mpps>, the sender's frames over its own run time)
# unm-pktgen's summary is "Sent N packets ... : X pps"; this wrapper reads
# its JSON form (-j, field pps) and prints the rate= token ab.sh wants.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
PG=$PWD/$B/unm-pktgen
RAW=$PWD/$B/bench/raw_ring
[ -x "$PG" ] && [ -x "$RAW" ] || { echo "SKIP: build first (make)"; exit 77; }

if [ "${1:-}" = --one ]; then
	T=${2:-2}
	name=pgbench$$_$RANDOM
	log=$(mktemp /tmp/pktgen_pipe.XXXXXX)
	"$PG" -f ${PG_RX:-rx} -i "$name}0" -a 1 -T 0 > /dev/null 2>&1 &
	rx=$!
	trap 'kill -INT $rx 2>/dev/null; wait $rx 2>/dev/null; rm -f "$log"' EXIT
	sleep 0.3   # the receiver owns the pipe; the sender joins it
	timeout -s INT "$T" "$PG" -f ${PG_TX:-tx} -i "$name{0" -a 0 -T 0 -j > "$log" 2>&1
	pps=$(sed -n 's/.*"type":"summary".*"pps":\([0-9.]*\).*/\1/p' "$log" | tail -1)
	[ -n "$pps" ] || { cat "$log"; exit 1; }
	awk -v p="$pps" 'BEGIN { printf "unm-pktgen tx over a pipe: %.2f Mpps rate=%.2f\n", p / 1e6, p / 1e6 }'
	exit 0
fi

T=${1:-5}
N=${2:-5}
exec bench/ab.sh -n "$N" -t "unm-pktgen tx -> pipe -> rx (B) vs raw_ring tput (A), ${T}s runs" \
	-A "$RAW -m tput -t $T" -B "$PWD/bench/pktgen_pipe.sh --one $T"
