#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# memif_zc_callgrind.sh - instructions per frame of a memif: slave port,
# copying (default) against lending its buffers (@conf:zerocopy=1),
# counted by callgrind, so the figure does not depend on the machine's
# load. The peer is dpdk-testpmd's net_memif as server (--no-huge):
#   rx   testpmd txonly (LEN-byte frames) -> the port: inclusive Ir of
#        memif_rxsync per frame received
#   tx   the port (LEN-byte frames) -> testpmd rxonly:
#        inclusive Ir of memif_txsync per frame sent
# bench/memif_port (a plain application: it waits for the link, writes
# every TX frame into its slot's buffer) runs under valgrind
# --tool=callgrind, only the sync function collected, N frames per case;
# a fresh testpmd per case. Prints one line per direction, mode and
# length; the zc/copy counters of the port are checked to say what they
# should.
#
# usage: [B=build] bench/memif_zc_callgrind.sh [-n FRAMES] [-l "64 1500"]
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.." || exit 1
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
N=100000 LENS="64 1500"
while getopts "n:l:" o; do
	case $o in
	n) N=$OPTARG ;; l) LENS=$OPTARG ;; *) exit 2 ;;
	esac
done
TP=/usr/bin/dpdk-testpmd
[ -x "$TP" ] || { echo "SKIP: $TP not installed (dpdk-dev)"; exit 77; }
for c in valgrind callgrind_annotate; do
	command -v $c >/dev/null || { echo "SKIP: $c not installed (valgrind)"; exit 77; }
done
[ -x "$B/bench/memif_port" ] || { echo "SKIP: $B/bench/memif_port not built (make)"; exit 77; }
TMPD=$(mktemp -d /tmp/unm-mzcg.XXXXXX)
. bench/lib.sh
BENCH_FILES+=("$TMPD")
TP_PREFIX=unmzc$$
trap bench_cleanup EXIT

# inclusive Ir of function FN in callgrind output OUT
incl() {
	callgrind_annotate --inclusive=yes "$1" 2>/dev/null |
		awk -v f="$2" '$0 ~ ("[ :]" f " ") || $0 ~ ("[ :]" f "$") { gsub(",", "", $1); print $1; exit }'
}

# A fresh testpmd per case: DPDK 22.11's memif server does not survive a
# few short client sessions in a row (segfault, or "PANIC in
# eal_intr_thread_main(): Error adding fd ... Bad file descriptor"),
# whatever the client does.
K=0
one() { # DIR MODE LEN
	local dir=$1 mode=$2 len=$3 out=$TMPD/cg.$1.$2.$3 sock=unm-mzcg-$$-$K n=s$K
	local conf="role=slave$([ "$2" = zc ] && echo ,zerocopy=1)"
	local fn=$([ "$1" = rx ] && echo memif_rxsync || echo memif_txsync) ir frames zcn cpn
	K=$((K + 1))
	tp_start $n 0 "net_memif0,role=server,socket=$sock"
	wait_for "$TMPD/$n.log" "testpmd>" 30 >/dev/null || exit 1
	tp_cmd $n "set txpkts $len"
	tp_cmd $n "set fwd $([ "$dir" = rx ] && echo txonly || echo rxonly)"
	tp_cmd $n "start"
	timeout 300 valgrind --tool=callgrind --callgrind-out-file="$out" \
		--toggle-collect="$fn" "$B/bench/memif_port" "$dir" "memif:@$sock@conf:$conf" \
		"$N" "$len" > "$TMPD/pg.out" 2>&1 ||
		{ echo "memif_port $dir $mode failed:"; tail "$TMPD/pg.out"; exit 1; }
	# frames the syncs moved (rx: may be a few more than N), by which way
	read -r frames zcn cpn < <(sed -n "s/.* $dir \([0-9]*\) (zc \([0-9]*\), copied \([0-9]*\)).*/\1 \2 \3/p" \
		"$TMPD/pg.out")
	[ -n "${frames:-}" ] && [ "$frames" -gt 0 ] ||
		{ echo "no frame moved:"; cat "$TMPD/pg.out"; exit 1; }
	[ "$([ "$mode" = zc ] && echo "$zcn" || echo "$cpn")" = "$frames" ] ||
		{ echo "$mode: not every frame went that way:"; cat "$TMPD/pg.out"; exit 1; }
	tp_cmd $n "quit"
	ir=$(incl "$out" "$fn")
	[ -n "${VERBOSE:-}" ] && cat "$TMPD/pg.out"
	awk -v d="$dir" -v m="$mode" -v l="$len" -v n="$frames" -v ir="${ir:-0}" \
		'BEGIN { printf "%-4s %-5s %6s %10d %12.1f\n", d, m, l, n, ir / n }'
}

printf '%-4s %-5s %6s %10s %12s\n' dir mode len frames Ir/frame
for len in $LENS; do
	for dir in rx tx; do
		for mode in copy zc; do
			one $dir $mode $len
		done
	done
done
