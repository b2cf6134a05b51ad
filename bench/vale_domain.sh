#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# vale_domain.sh - unm-pktgen -f tx -> vale0 -> unm-pktgen -f rx inside a
# trust domain (unm-ctl switch set vale0 domains uid: the frames move by
# buffer swap in the sender's txsync, unmd's thread is not on the path)
# against a reference measured in the same run, interleaved by bench/ab.sh:
#   -r memif: DPDK memif, dpdk-testpmd txonly -> rxonly with zero-copy=yes
#             on the receiving side (DPDK's memif zero-copy is a client
#             mode: the rxonly side is the client), forwarding lcores on
#             CPUs 0 and 1; rate = the rxonly side's Rx-pps;
#   -r pipe:  the same two unm-pktgen over a zero-copy pipe (same build);
#   B:        the domain, sender pinned to CPU 0, receiver to CPU 1; rate =
#             median of the receiver's per-interval rates (-T 500 -j).
# Mode -m drop (default) or lossless (the switch's setting; the pipe is
# lossless either way). Prints each round, the median ratio B/A and the
# cross-core modes seen (bench/raw_ring ping).
#
# -R: ping-pong RTT instead (unm-pktgen -f ping / pong, both sleeping in
# unm_wait between frames): the pipe (A) against two domain ports (B).
#
# usage: bench/vale_domain.sh [-n ROUNDS] [-t SECONDS] [-m drop|lossless] [-r memif|pipe] [-l LEN] [-R]
#   B=BUILDDIR (default build). Verify with: -n 1 -t 1.
#   Internal: --domain SECS MODE LEN | --memif SECS LEN | --pipe SECS LEN |
#             --rtt-domain SECS LEN | --rtt-pipe SECS LEN
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
cd "$here/.." || exit 1
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac

# median of the receiver's interval rates, first and last intervals out
# median of numbers on stdin, as "<what>: X Mpps rate=X"
median_rate() {
	sort -n | awk -v what="$1" '{ v[NR] = $1 } END {
		if (!NR) { print what ": no rate"; exit 1 }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
		printf "%s: %.2f Mpps rate=%.3f\n", what, m / 1e6, m / 1e6 }'
}

# median of the receiver's interval rates, first and last intervals out
rx_rate() {
	grep -a '"type":"interval"' "$1" | sed 's/.*"pps":\([0-9]*\).*/\1/' |
		awk '{ v[NR] = $1 } END { for (i = 2; i < NR; i++) if (v[i] > 0) print v[i] }' |
		median_rate "unm-pktgen rx"
}

# pair SECS LEN RXPORT TXPORT: receiver on CPU 1, sender on CPU 0
pair() {
	local secs=$1 len=$2 rx=$3 tx=$4 log
	log=$(mktemp /tmp/vale_domain.XXXXXX)
	BENCH_FILES+=("$log")
	"$B/unm-pktgen" -f rx -i "$rx" -a 1 -T 500 -j >"$log" 2>&1 &
	BENCH_PIDS+=("$!")
	local rxp=$!
	sleep 0.3
	timeout -s INT "$secs" "$B/unm-pktgen" -f tx -i "$tx" -a 0 -l "$len" -T 0 >/dev/null 2>&1
	sleep 0.2
	kill -INT "$rxp" 2>/dev/null
	wait "$rxp" 2>/dev/null
	rx_rate "$log"
}

domain_rate() {
	domain_up "$2" || { echo "no unmd"; return 1; }
	pair "$1" "$3" vale0:rx vale0:tx
}

memif_zc_rate() {
	local secs=$1 len=$2 tag="unmdz$$_$RANDOM" sock log_r log_t rxp txp
	sock=/tmp/$tag.sock log_r=/tmp/$tag.rx.log log_t=/tmp/$tag.tx.log
	BENCH_FILES+=("$sock" "/var/run/dpdk/${tag}s" "/var/run/dpdk/${tag}c")
	[ -n "${KEEP_LOGS:-}" ] || BENCH_FILES+=("$log_r" "$log_t")
	command -v dpdk-testpmd >/dev/null || { echo "SKIP: dpdk-testpmd not installed"; return 77; }
	dpdk-testpmd --no-huge --no-pci -m 256 --single-file-segments --file-prefix="${tag}s" \
		--lcores=0@1,1@0 --vdev="net_memif0,socket=$sock,socket-abstract=no,role=server" -- \
		--forward-mode=txonly --txpkts="$len" --stats-period=1 --total-num-mbufs=16384 \
		>"$log_t" 2>&1 &
	txp=$!
	BENCH_PIDS+=("$txp")
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	dpdk-testpmd --no-huge --no-pci -m 256 --single-file-segments --file-prefix="${tag}c" \
		--lcores=0@0,1@1 \
		--vdev="net_memif0,socket=$sock,socket-abstract=no,role=client,zero-copy=yes" -- \
		--forward-mode=rxonly --stats-period=1 --total-num-mbufs=16384 \
		> >(stamp >"$log_r") 2>&1 &
	rxp=$!
	BENCH_PIDS+=("$rxp")
	for _ in $(seq 100); do
		grep -a ' RX-packets:' "$log_r" | awk '$3 > 0 {f = 1} END {exit !f}' && break
		sleep 0.05
	done
	sleep "$secs"
	kill -INT "$rxp" "$txp" 2>/dev/null
	wait "$rxp" "$txp" 2>/dev/null
	# Rx-pps of each 1 s block, median (first block with traffic out)
	grep -a 'Rx-pps:' "$log_r" | awk '{ for (i = 1; i < NF; i++) if ($i == "Rx-pps:") print $(i + 1) }' |
		awk '{ v[NR] = $1 } END { for (i = 2; i <= NR; i++) if (v[i] > 0) print v[i] }' |
		median_rate "memif zero-copy receiver"
}

# rtt SECS LEN A B: unm-pktgen ping on A, pong on B (both sleep in
# unm_wait between frames); prints the median RTT as rate=NS
rtt() {
	local secs=$1 len=$2 out
	"$B/unm-pktgen" -f pong -i "$4" -a 1 -l "$len" -T 0 >/dev/null 2>&1 &
	BENCH_PIDS+=("$!")
	sleep 0.3
	out=$(timeout -s INT "$(awk -v s="$secs" 'BEGIN{print s + 5}')" \
		"$B/unm-pktgen" -f ping -i "$3" -a 0 -l "$len" -T 0 \
		-n "$(awk -v s="$secs" 'BEGIN{printf "%d", s * 20000}')" 2>&1)
	echo "$out" | grep -a '^RTT over'
	echo "$out" | grep -a -o 'median [0-9]* ns' | awk '{print "rate=" $2}'
}

domain_up() {
	local mode=$1 sock=/tmp/unmdom$$_$RANDOM.sock
	BENCH_FILES+=("$sock")
	"$B/unmd" -f -s "$sock" 2>/dev/null &
	BENCH_PIDS+=("$!")
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	export UNM_SOCKET=$sock
	"$B/unm-ctl" switch add vale0 >/dev/null &&
	"$B/unm-ctl" switch set vale0 domains uid >/dev/null &&
	"$B/unm-ctl" switch set vale0 lossless "$([ "$mode" = lossless ] && echo on || echo off)" >/dev/null
}

case "${1:-}" in
--domain) domain_rate "$2" "$3" "$4"; exit $? ;;
--rtt-domain) domain_up drop && rtt "$2" "$3" vale0:ping vale0:pong; exit $? ;;
--rtt-pipe) n=prtt$$_$RANDOM; rtt "$2" "$3" "$n{0" "$n}0"; exit $? ;;
--memif) memif_zc_rate "$2" "$3"; exit $? ;;
--pipe) n=pdom$$_$RANDOM; pair "$2" "$3" "$n}0" "$n{0"; exit $? ;;
esac
rounds=5 secs=3 mode=drop ref=memif len=60 rtt=0
while getopts "n:t:m:r:l:R" o; do
	case $o in
	n) rounds=$OPTARG ;; t) secs=$OPTARG ;; m) mode=$OPTARG ;; r) ref=$OPTARG ;;
	l) len=$OPTARG ;; R) rtt=1 ;; *) exit 2 ;;
	esac
done
if [ "$rtt" = 1 ]; then
	trap - EXIT
	exec bash "$here/ab.sh" -n "$rounds" \
		-t "RTT (median ns): unm-pktgen ping/pong over a pipe (A) vs between two ports of a vale0 trust domain (B), $((len + 4))-byte frames" \
		-A "B=$B bash $here/vale_domain.sh --rtt-pipe $secs $len" \
		-B "B=$B bash $here/vale_domain.sh --rtt-domain $secs $len" \
		-M "$B/bench/raw_ring -m ping -t 0.2"
fi
case $mode in drop|lossless) ;; *) echo "usage: -m drop|lossless" >&2; exit 2 ;; esac
case $ref in memif|pipe) ;; *) echo "usage: -r memif|pipe" >&2; exit 2 ;; esac
for f in unmd unm-ctl unm-pktgen bench/raw_ring; do
	[ -x "$B/$f" ] || { echo "SKIP: $B/$f not built (make)"; exit 77; }
done
[ "$ref" = memif ] && ! command -v dpdk-testpmd >/dev/null &&
	{ echo "SKIP: dpdk-testpmd (dpdk-dev) not installed"; exit 77; }
trap - EXIT
exec bash "$here/ab.sh" -n "$rounds" \
	-t "$ref (A) vs unm-pktgen tx -> vale0 trust domain ($mode) -> rx (B), $((len + 4))-byte frames, ${secs}s" \
	-A "B=$B bash $here/vale_domain.sh --$ref $secs $len" \
	-B "B=$B bash $here/vale_domain.sh --domain $secs $mode $len" \
	-M "$B/bench/raw_ring -m ping -t 0.2"
