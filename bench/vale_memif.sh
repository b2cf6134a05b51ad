#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# vale_memif.sh - VALE port -> port through unmd against DPDK's memif, in
# the same run, interleaved by bench/ab.sh:
#   A = memif: dpdk-testpmd txonly (client) -> dpdk-testpmd rxonly (server),
#       --no-huge, forwarding lcores pinned to different CPUs; the rate is
#       the rxonly side's Rx-pps (median of its per-second samples);
#   B = bench/vale_tput: sender -> vale_bench (unmd) -> receiver, rx rate;
#   mode probe = bench/raw_ring -m ping (cross-core RTT: fast/slow level).
# Prints each round, then the median ratio B/A and the modes seen.
#
# usage: bench/vale_memif.sh [-n ROUNDS] [-t SECONDS] [-l LEN] [-s SLOTS]
#   LEN: frame bytes without FCS (default 60, i.e. 64-byte frames);
#   SLOTS: ring size of both (a power of two, default 1024 as memif's);
#   B=BUILDDIR (default build). Verify with: -n 1 -t 1.
#   Internal: vale_memif.sh --memif SECONDS LEN SLOTS (A alone, prints rate=).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
if [ "${1:-}" = --memif ]; then
	memif_rate "$2" "$3" "${4:-1024}" "${5:-testpmd}"
	exit $?
fi
cd "$here/.." || exit 1
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
rounds=5 secs=3 len=60 slots=1024
while getopts "n:t:l:s:" o; do
	case $o in
	n) rounds=$OPTARG ;; t) secs=$OPTARG ;; l) len=$OPTARG ;; s) slots=$OPTARG ;; *) exit 2 ;;
	esac
done
command -v dpdk-testpmd >/dev/null || { echo "SKIP: dpdk-testpmd (dpdk-dev) not installed"; exit 77; }
[ -x "$B/bench/vale_tput" ] || { echo "SKIP: $B/bench/vale_tput not built (make)"; exit 77; }
exec bash "$here/ab.sh" -n "$rounds" -t "memif (A) vs VALE through unmd (B), $((len + 4))-byte frames, $slots slots, ${secs}s each" \
	-A "bash $here/vale_memif.sh --memif $secs $len $slots" \
	-B "$B/bench/vale_tput -t $secs -l $len -s $slots" \
	-M "$B/bench/raw_ring -m ping -t 0.2"
