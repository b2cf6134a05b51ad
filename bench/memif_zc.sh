#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# memif_zc.sh - a memif: slave port copying (A) against lending its
# buffers (B, @conf:zerocopy=1), wall clock, interleaved A/B rounds in
# the same run, against dpdk-testpmd's net_memif server (--no-huge):
#   rx   testpmd txonly (LEN-byte frames, CPU 0) -> bench/memif_port rx
#        (CPU 1): N frames
#   tx   bench/memif_port tx (CPU 1) -> testpmd rxonly (CPU 0): N frames
# rate = frames / time from link-up to the last frame (memif_port). A
# fresh testpmd per run (DPDK 22.11's memif server does not survive a few
# short client sessions in a row). Prints per round each rate and B/A,
# then the median ratio per direction. The machine is shared: read the
# ratios, not the rates (bench/memif_zc_callgrind.sh counts
# instructions, load-independent).
#   usage: [B=build] bench/memif_zc.sh [-n ROUNDS] [-f FRAMES] [-l LEN] [-d "rx tx"]
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.." || exit 1
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
ROUNDS=5 N=2000000 LEN=64 DIRS="rx tx"
while getopts "n:f:l:d:" o; do
	case $o in
	n) ROUNDS=$OPTARG ;; f) N=$OPTARG ;; l) LEN=$OPTARG ;; d) DIRS=$OPTARG ;; *) exit 2 ;;
	esac
done
TP=/usr/bin/dpdk-testpmd
[ -x "$TP" ] || { echo "SKIP: $TP not installed (dpdk-dev)"; exit 77; }
[ -x "$B/bench/memif_port" ] || { echo "SKIP: $B/bench/memif_port not built (make)"; exit 77; }
TMPD=$(mktemp -d /tmp/unm-mzc.XXXXXX)
. bench/lib.sh
BENCH_FILES+=("$TMPD")
TP_PREFIX=unmzb$$
trap bench_cleanup EXIT
K=0
run() { # DIR MODE: sets RATE (Mpps)
	local dir=$1 sock=unm-mzc-$$-$K n=t$K out
	local conf="role=slave$([ "$2" = zc ] && echo ,zerocopy=1)"
	K=$((K + 1))
	tp_start $n 0 "net_memif0,role=server,socket=$sock"
	wait_for "$TMPD/$n.log" "testpmd>" 30 >/dev/null || exit 1
	tp_cmd $n "set txpkts $LEN"
	tp_cmd $n "set fwd $([ "$dir" = rx ] && echo txonly || echo rxonly)"
	tp_cmd $n "start"
	out=$(taskset -c 1 "$B/bench/memif_port" "$dir" "memif:@$sock@conf:$conf" "$N" "$LEN") ||
		{ echo "memif_port $dir $2: $out"; exit 1; }
	tp_cmd $n "quit"
	echo "$out" >> "$TMPD/runs"
	RATE=$(echo "$out" | awk '{print $1}')
}
echo "memif slave port, $LEN-byte frames, $N per run, $ROUNDS rounds (A = copy, B = zerocopy=1):"
printf '%-6s %-3s %10s %10s %8s\n' round dir A-Mpps B-Mpps B/A
for r in $(seq 1 "$ROUNDS"); do
	for dir in $DIRS; do
		if [ $((r % 2)) = 1 ]; then run $dir copy; a=$RATE; run $dir zc; b=$RATE
		else run $dir zc; b=$RATE; run $dir copy; a=$RATE; fi
		awk -v r=$r -v d=$dir -v a="$a" -v b="$b" 'BEGIN {
			printf "%-6s %-3s %10.3f %10.3f %8.3f\n", r, d, a, b, (a > 0 ? b / a : 0) }' |
			tee -a "$TMPD/rounds"
	done
done
for dir in $DIRS; do
	awk -v d=$dir '$2 == d {print $5}' "$TMPD/rounds" | sort -g | awk -v d=$dir \
		'{x[NR]=$1} END {if (NR) printf "median B/A %s = %.2f (min %.2f, max %.2f, %d rounds)\n", d, x[int((NR+1)/2)], x[1], x[NR], NR}'
done
