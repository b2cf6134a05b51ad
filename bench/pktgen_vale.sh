#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# pktgen_vale.sh - unm-pktgen through a VALE switch (tx -> vale0 -> rx,
# 60-byte frames, the default options a user starts with: broadcast
# destination, batch 512) against the switch's own benchmark bench/vale_tput
# (unicast, its buffers written once), interleaved by bench/ab.sh, in drop
# mode and in lossless mode (unm-ctl switch set vale0 lossless on vs
# vale_tput -L). Both start their own unmd; neither pins a CPU. The rate of
# both is what the receiver got per second. Goal: median ratio >= 0.9.
#
# usage: bench/pktgen_vale.sh [SECONDS] [ROUNDS]   (default 2 s, 5 rounds)
#        bench/pktgen_vale.sh --one [-L] SECONDS    (one unm-pktgen run;
#        prints rate=<Mpps>, frames received over the receiver's run time)
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
PG=$PWD/$B/unm-pktgen
VT=$PWD/$B/bench/vale_tput
[ -x "$PG" ] && [ -x "$VT" ] || { echo "SKIP: build first (make)"; exit 77; }

if [ "${1:-}" = --one ]; then
	shift
	lossless=0; [ "${1:-}" = -L ] && { lossless=1; shift; }
	T=${1:-2}
	tag=pgv$$_$RANDOM
	export UNM_SOCKET=/tmp/$tag.sock
	rxlog=$(mktemp /tmp/pktgen_vale.XXXXXX)
	pids=()
	cleanup() { for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null; done
		    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
		    rm -f "$rxlog" "$UNM_SOCKET"; }
	trap cleanup EXIT
	"$PWD/$B/unmd" -f -s "$UNM_SOCKET" > /dev/null 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do [ -S "$UNM_SOCKET" ] && break; sleep 0.05; done
	"$PG" -f rx -i vale0:rx -T 0 -j > "$rxlog" 2>&1 &
	rx=$!
	pids=("$rx" "${pids[@]}")
	sleep 0.3
	if [ $lossless = 1 ]; then
		"$PWD/$B/unm-ctl" switch set vale0 lossless on > /dev/null || exit 1
	fi
	timeout -s INT "$T" "$PG" -f tx -i vale0:tx -T 0 > /dev/null 2>&1
	sleep 0.1
	kill -INT "$rx"; wait "$rx" 2>/dev/null
	pps=$(sed -n 's/.*"type":"summary".*"pps":\([0-9.]*\).*/\1/p' "$rxlog" | tail -1)
	[ -n "$pps" ] || { cat "$rxlog"; exit 1; }
	awk -v p="$pps" -v l=$lossless 'BEGIN { printf "unm-pktgen tx -> vale0%s -> rx: %.2f Mpps rate=%.3f\n",
		l ? " (lossless)" : "", p / 1e6, p / 1e6 }'
	exit 0
fi

T=${1:-2}
N=${2:-5}
probe="$PWD/$B/bench/raw_ring -m ping -t 0.2"
bench/ab.sh -n "$N" -t "unm-pktgen (B) vs bench/vale_tput (A), tx -> vale0 -> rx, drop mode, ${T}s runs" \
	-A "$VT -t $T" -B "$PWD/bench/pktgen_vale.sh --one $T" -M "$probe"
echo
bench/ab.sh -n "$N" -t "unm-pktgen (B) vs bench/vale_tput -L (A), tx -> vale0 -> rx, lossless, ${T}s runs" \
	-A "$VT -t $T -L" -B "$PWD/bench/pktgen_vale.sh --one -L $T" -M "$probe"
