#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# dpdk_memif.sh - a unetmap application on a dpdk: port against DPDK itself,
# same run, interleaved by bench/ab.sh (issue 20's "unm-pktgen over
# dpdk:net_memif0 to a testpmd memif server"):
#   A = dpdk-testpmd txonly (memif client) -> dpdk-testpmd rxonly (server);
#   B = unm-pktgen -f tx on dpdk:net_memif0,role=client (pinned to CPU 0,
#       the client's forwarding CPU in A) -> the same testpmd rxonly server;
#   rate = the server's Rx-pps (bench/lib.sh memif_rate), both sides;
#   mode probe = bench/raw_ring -m ping (cross-core level).
# With -z, zero copy A/B instead: A = unm-pktgen on dpdk:net_memif0 with
# @conf:zerocopy=0 (each frame copied into an mbuf), B = the same with
# zerocopy=1 (the slot's buffer lent to net_memif), same server. Frames
# below 512 bytes are copied either way (the port's lending threshold):
# use -l 1496 (and -l 600) to see zero copy.
# usage: bench/dpdk_memif.sh [-z] [-n ROUNDS] [-t SECONDS] [-l LEN]
#   B=BUILDDIR (default build; needs libunm-dpdk.so: ./configure with dpdk-dev).
#   Verify with: -n 1 -t 1.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.." || exit 1
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
rounds=5 secs=3 len=60 zc=0
while getopts "zn:t:l:" o; do
	case $o in
	z) zc=1 ;; n) rounds=$OPTARG ;; t) secs=$OPTARG ;; l) len=$OPTARG ;; *) exit 2 ;;
	esac
done
command -v dpdk-testpmd >/dev/null || { echo "SKIP: dpdk-testpmd (dpdk-dev) not installed"; exit 77; }
[ -f "$B/libunm-dpdk.so" ] || { echo "SKIP: $B/libunm-dpdk.so not built (./configure with dpdk-dev)"; exit 77; }
export UNM_DPDK_PLUGIN=$B/libunm-dpdk.so
if [ $zc = 1 ]; then
	exec bash "$here/ab.sh" -n "$rounds" \
		-t "unm-pktgen on dpdk:net_memif0 -> memif -> testpmd rxonly: zerocopy=0 (A) vs zerocopy=1 (B), $((len + 4))-byte frames, ${secs}s each" \
		-A "MEMIF_PKTGEN_CONF=zerocopy=0 bash $here/vale_memif.sh --memif $secs $len 1024 pktgen:$B/unm-pktgen" \
		-B "MEMIF_PKTGEN_CONF=zerocopy=1 bash $here/vale_memif.sh --memif $secs $len 1024 pktgen:$B/unm-pktgen" \
		-M "$B/bench/raw_ring -m ping -t 0.2"
fi
exec bash "$here/ab.sh" -n "$rounds" \
	-t "testpmd -> memif -> testpmd (A) vs unm-pktgen on dpdk:net_memif0 -> memif -> testpmd (B), $((len + 4))-byte frames, ${secs}s each" \
	-A "bash $here/vale_memif.sh --memif $secs $len 1024" \
	-B "bash $here/vale_memif.sh --memif $secs $len 1024 pktgen:$B/unm-pktgen" \
	-M "$B/bench/raw_ring -m ping -t 0.2"
