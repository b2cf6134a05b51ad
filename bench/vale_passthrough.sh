#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# vale_passthrough.sh - what driving a port through the CSB from another
# process costs, against the same traffic into a port driven in-process,
# interleaved by bench/ab.sh:
#   A = vale_tput -f -N: sender (CSB client) -> switch -> unmd's in-daemon
#       null port (unm-ctl attach: synced by the forwarding thread itself);
#   B = vale_tput -f:    sender (CSB client) -> switch -> receiver process
#       (CSB client: hwtail/irq to it, head/kick back);
# both flood (unknown destination MAC), so the switch path is the same.
# Prints each round and the median ratio B/A (goal >= 0.7).
#
# usage: bench/vale_passthrough.sh [-n ROUNDS] [-t SECONDS] [-l LEN] [-s SLOTS]
#   B=BUILDDIR (default build). Verify with: -n 1 -t 1.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.." || exit 1
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
rounds=5 secs=2 len=60 slots=1024
while getopts "n:t:l:s:" o; do
	case $o in
	n) rounds=$OPTARG ;; t) secs=$OPTARG ;; l) len=$OPTARG ;; s) slots=$OPTARG ;; *) exit 2 ;;
	esac
done
for f in bench/vale_tput unmd unm-ctl; do
	[ -x "$B/$f" ] || { echo "SKIP: $B/$f not built (make)"; exit 77; }
done
exec bash "$here/ab.sh" -n "$rounds" \
	-t "in-process receiving port (A) vs CSB client (B), $((len + 4))-byte frames, $slots slots, ${secs}s each" \
	-A "$B/bench/vale_tput -f -N -t $secs -l $len -s $slots" \
	-B "$B/bench/vale_tput -f -t $secs -l $len -s $slots" \
	-M "$B/bench/raw_ring -m ping -t 0.2"
