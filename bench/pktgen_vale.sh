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
#        bench/pktgen_vale.sh --cg [-L] [FRAMES]    (load-independent: each
#        process under valgrind --tool=callgrind, instructions per frame
#        of the sender's loop, the receiver's loop and unmd's forwarding
#        thread, for unm-pktgen (FRAMES received, default 300000) and for
#        vale_tput (1 s); both sides run 30-50x slower, so their batches
#        and the drop rate differ from a real run: compare per frame sent
#        for tx and the switch, per frame received for rx)
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
PG=$PWD/$B/unm-pktgen
VT=$PWD/$B/bench/vale_tput
[ -x "$PG" ] && [ -x "$VT" ] || { echo "SKIP: build first (make)"; exit 77; }

# cg_one MODE LOSSLESS: one callgrind run, prints the per-frame line
cg_one() {
	local mode=$1 L=$2 out sock ud rx tx txf rxf t r u f
	out=$(mktemp -d /tmp/pktgen_vale_cg.XXXXXX)
	sock=$out/unmd.sock
	local VG="valgrind --tool=callgrind --collect-atstart=no"
	$VG --toggle-collect=vs_thread --callgrind-out-file="$out/unmd.cg" "$PWD/$B/unmd" -f \
		-s "$sock" > "$out/unmd.log" 2>&1 &
	ud=$!
	for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.1; done
	if [ "$mode" = unm-pktgen ]; then
		UNM_SOCKET=$sock $VG --toggle-collect=pg_rx_main --callgrind-out-file="$out/rx.cg" \
			"$PG" -f rx -i vale0:rx -T 0 -n "$CGN" > "$out/rx.log" 2>&1 &
		rx=$!
		sleep 3
		[ "$L" = 1 ] && { UNM_SOCKET=$sock "$PWD/$B/unm-ctl" switch set vale0 lossless on || exit 1; }
		UNM_SOCKET=$sock $VG --toggle-collect=pg_tx_main --callgrind-out-file="$out/tx.cg" \
			"$PG" -f tx -i vale0:tx -T 0 > "$out/tx.log" 2>&1 &
		tx=$!
		wait $rx
		kill -INT $tx; wait $tx
		txf=$(sed -n 's/^Sent \([0-9]*\) packets.*/\1/p' "$out/tx.log")
		rxf=$(sed -n 's/^Received \([0-9]*\) packets.*/\1/p' "$out/rx.log")
	else
		$VG --toggle-collect=receiver --toggle-collect=sender \
			--callgrind-out-file="$out/vt.%p.cg" "$VT" -S "$sock" -t 1 \
			$([ "$L" = 1 ] && echo -L) -v > "$out/vt.log" 2>&1
		txf=$(sed -n 's/^sender: \([0-9]*\) frames.*/\1/p' "$out/vt.log")
		rxf=$(sed -n 's/.*receiver: \([0-9]*\) frames.*/\1/p' "$out/vt.log")
		for f in "$out"/vt.*.cg; do # the forked receiver's file has receiver()
			if callgrind_annotate "$f" 2>/dev/null | grep -q ':receiver '; then
				mv "$f" "$out/rx.cg"
			else
				mv "$f" "$out/tx.cg"
			fi
		done
	fi
	kill -TERM $ud; wait $ud
	ir() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }'; }
	t=$(ir "$out/tx.cg"); r=$(ir "$out/rx.cg"); u=$(ir "$out/unmd.cg")
	[ -n "$txf" ] && [ -n "$rxf" ] && [ -n "$t" ] && [ -n "$r" ] && [ -n "$u" ] ||
		{ echo "$mode: callgrind run failed (logs in $out)"; return 1; }
	awk -v m="$mode" -v l="$L" -v tf="$txf" -v rf="$rxf" -v t="$t" -v r="$r" -v u="$u" 'BEGIN {
		printf "%-10s %s: sent %d, received %d (%.0f%%); instructions per frame: tx %.1f, " \
		       "rx %.1f, forwarding thread %.1f per frame sent\n", m, l ? "lossless" : "drop",
		       tf, rf, 100 * rf / tf, t / tf, r / rf, u / tf }'
	rm -rf "$out"
}

if [ "${1:-}" = --cg ]; then
	shift
	lossless=0; [ "${1:-}" = -L ] && { lossless=1; shift; }
	CGN=${1:-300000}
	command -v valgrind > /dev/null && command -v callgrind_annotate > /dev/null ||
		{ echo "SKIP: valgrind not installed"; exit 77; }
	cg_one vale_tput $lossless
	cg_one unm-pktgen $lossless
	exit 0
fi

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
