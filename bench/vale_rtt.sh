#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# vale_rtt.sh - ping-pong round-trip time through a VALE switch against
# the raw shared-memory ring, interleaved by bench/ab.sh:
#   A = bench/raw_ring -m ping: two pinned busy-polling processes, one
#       frame in flight (the floor: two cache-line transfers each way);
#   B = unm-pktgen -f ping on vale_rtt:a <-> unm-pktgen -f pong on
#       vale_rtt:b through a private unmd: both sides sleep in unm_wait
#       between frames, so each leg includes an irq and a wake-up.
# The "rate" of each side is its median RTT in ns: B/A is how many times
# slower a round trip through the switch is. Each B run also prints its
# min/median/p99.
#
# usage: bench/vale_rtt.sh [-n ROUNDS] [-t SECONDS] [-l LEN]
#   B=BUILDDIR (default build). Verify with: -n 1 -t 1.
#   Internal: vale_rtt.sh --vale SECONDS LEN (B alone, prints rate=).
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.." || exit 1
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
. "$here/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

vale_rtt() {
	local secs=$1 len=$2 sock=/tmp/unmbr$$_$RANDOM.sock out
	BENCH_FILES+=("$sock")
	"$B/unmd" -f -s "$sock" 2>/dev/null &
	BENCH_PIDS+=("$!")
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	UNM_SOCKET=$sock "$B/unm-pktgen" -f pong -i vale_rtt:b -l "$len" -T 0 >/dev/null 2>&1 &
	BENCH_PIDS+=("$!")
	sleep 0.3
	out=$(UNM_SOCKET=$sock timeout -s INT "$(awk -v s="$secs" 'BEGIN{print s + 5}')" \
		"$B/unm-pktgen" -f ping -i vale_rtt:a -l "$len" -T 0 \
		-n "$(awk -v s="$secs" 'BEGIN{printf "%d", s * 20000}')" 2>&1)
	echo "$out" | grep -a '^RTT over'
	echo "$out" | grep -a -o 'median [0-9]* ns' | awk '{print "rate=" $2}'
}
if [ "${1:-}" = --vale ]; then
	vale_rtt "$2" "$3"
	exit 0
fi
rounds=5 secs=1 len=60
while getopts "n:t:l:" o; do
	case $o in
	n) rounds=$OPTARG ;; t) secs=$OPTARG ;; l) len=$OPTARG ;; *) exit 2 ;;
	esac
done
for f in bench/raw_ring unmd unm-pktgen; do
	[ -x "$B/$f" ] || { echo "SKIP: $B/$f not built (make)"; exit 77; }
done
trap - EXIT
exec bash "$here/ab.sh" -n "$rounds" \
	-t "RTT (median ns): raw ring ping (A) vs ping/pong through VALE (B), $((len + 4))-byte frames" \
	-A "$B/bench/raw_ring -m ping -t $secs -l $len | sed 's/rtt_ns=/rate=/'" \
	-B "B=$B bash $here/vale_rtt.sh --vale $secs $len" \
	-M "$B/bench/raw_ring -m ping -t 0.2"
