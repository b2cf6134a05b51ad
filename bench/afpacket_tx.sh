#!/bin/bash
# afpacket_tx.sh - AF_PACKET port rates against trafgen, same run, same veth.
#
#   TX: 64-byte frames (60 + FCS) from "afpacket:VA/T" into a veth pair, one
#       core; reference: trafgen (netsniff-ng, TX_RING + qdisc bypass, -P 1)
#       on the same veth. Both pinned to CPU 0, same frame, same duration,
#       ROUNDS interleaved rounds (the order alternates), and the result is
#       the median of the per-round ratios port/trafgen, as bench/ab.sh
#       does. Two figures per round: the wall-clock rate (frames counted by
#       the peer's rx_packets over the interval) and the rate per CPU-second
#       (the same frames over the user+system time of the sender's process
#       tree). On a shared machine the wall-clock rate mostly measures who
#       got the CPU; the per-CPU-second rate is the cost per frame and is
#       the figure to compare there. "/T" binds the TX ring only, as
#       trafgen opens a TX socket only (no RX socket, no ETH_P_ALL tap on
#       the device, not promiscuous).
#   RX: trafgen floods the peer end; the port counts what it receives.
#
# Usage: bench/afpacket_tx.sh [SECONDS [ROUNDS]]  (default 2 s, 5 rounds;
#        verify with 1 1)
# Needs root; everything happens in two private namespaces deleted on exit.
# Prints one line per round and "median ... ratio" lines (port / trafgen).
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
T=${1:-2}
R=${2:-5}
BURST=$PWD/$B/tests/mp/backend-burst
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v trafgen >/dev/null || { echo "SKIP: trafgen (netsniff-ng) not installed"; exit 77; }
[ -x "$BURST" ] || { echo "SKIP: $BURST not built (make)"; exit 77; }
S=$(printf '%04x' $RANDOM)
NA=unmbxa$S NB=unmbxb$S VA=unmbxa$S VB=unmbxb$S
TMPD=$(mktemp -d /tmp/unm-bench.XXXXXX)
cleanup() {
	for ns in $NA $NB; do
		ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del $ns 2>/dev/null
	done
	rm -rf "$TMPD"
}
trap cleanup EXIT
ip netns add $NA && ip netns add $NB || exit 1
ip link add $VA netns $NA type veth peer name $VB netns $NB || exit 1
for n in $NA:$VA $NB:$VB; do
	ip netns exec ${n%%:*} sysctl -qw net.ipv6.conf.all.disable_ipv6=1 >/dev/null
	ip -n ${n%%:*} link set ${n#*:} up
done
cat > $TMPD/f64.cfg <<'CFG'
{ 0xff,0xff,0xff,0xff,0xff,0xff, 0x02,0x00,0x00,0x00,0x00,0x01, 0x88,0xb5, fill(0x00, 46) }
CFG
cnt() { ip netns exec $1 cat /sys/class/net/$2/statistics/$3; }
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }

# measure CMD...: run it; print "<peer frames per wall second> <per CPU second>".
# CPU = user+system time of CMD and its waited-for descendants (bash time).
measure() {
	local c0 c1 t0 t1 cpu
	c0=$(cnt $NB $VB rx_packets); t0=$(now)
	cpu=$( { TIMEFORMAT='%3U %3S'; time "$@" >/dev/null 2>&1; } 2>&1 | awk '{print $1 + $2}')
	c1=$(cnt $NB $VB rx_packets); t1=$(now)
	awk -v n=$((c1 - c0)) -v a=$t0 -v b=$t1 -v c="$cpu" \
		'BEGIN { printf "%.0f %.0f\n", n / (b - a), (c > 0) ? n / c : 0 }'
}
tg_tx() { measure timeout -s INT $T ip netns exec $NA taskset -c 0 trafgen -o $VA -c $TMPD/f64.cfg -P 1 -Q -C; }
port_tx() { measure ip netns exec $NA taskset -c 0 "$BURST" tx "afpacket:$VA/T" 0 -t $T -l 60; }
median() { sort -g | awk '{ v[NR] = $1 } END { printf "%.2f (min %.2f, max %.2f, %d rounds)", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[1], v[NR], NR }'; }

# TX: port vs trafgen on VA, counted at VB, interleaved.
: > $TMPD/wall; : > $TMPD/cpu
printf '%-6s %22s %22s %7s %7s\n' round "trafgen pps (/cpu-s)" "afpacket pps (/cpu-s)" wall cpu
for i in $(seq 1 $R); do
	if [ $((i % 2)) = 1 ]; then a=$(tg_tx); b=$(port_tx); else b=$(port_tx); a=$(tg_tx); fi
	set -- $a $b
	rw=$(awk -v a=$1 -v b=$3 'BEGIN { printf "%.3f", a ? b / a : 0 }')
	rc=$(awk -v a=$2 -v b=$4 'BEGIN { printf "%.3f", a ? b / a : 0 }')
	echo $rw >> $TMPD/wall; echo $rc >> $TMPD/cpu
	printf '%-6s %10s (%9s) %10s (%9s) %7s %7s\n' $i $1 $2 $3 $4 $rw $rc
done
echo "median tx afpacket/trafgen ratio, wall-clock rate:  $(median < $TMPD/wall)"
echo "median tx afpacket/trafgen ratio, per CPU-second:   $(median < $TMPD/cpu)"

# RX: trafgen floods VB; the port on VA counts.
ip netns exec $NA taskset -c 0 "$BURST" rx afpacket:$VA 0 -t $((T + 1)) > $TMPD/rx.out &
rxpid=$!
sleep 0.3
s0=$(cnt $NB $VB tx_packets)
timeout -s INT $T ip netns exec $NB taskset -c 1 trafgen -o $VB -c $TMPD/f64.cfg -P 1 -Q -C >/dev/null 2>&1
s1=$(cnt $NB $VB tx_packets)
wait $rxpid
got=$(sed -n 's/.*frames=\([0-9]*\).*/\1/p' $TMPD/rx.out)
echo "rx afpacket     received $got of $((s1 - s0)) offered by trafgen in ${T}s:" \
	"pps=$((got / T)) ($(cat $TMPD/rx.out))"
