#!/bin/bash
# afpacket_tx.sh - AF_PACKET port rates against trafgen, same run, same veth.
#
#   TX: 64-byte frames (60 + FCS) from "afpacket:VA" into a veth pair, one
#       core; reference: trafgen (netsniff-ng, TX_RING + qdisc bypass, -P 1)
#       on the same veth. Rate = frames counted by the peer's rx_packets over
#       the measured interval, for both.
#   RX: trafgen floods the peer end; the port counts what it receives.
#
# Usage: bench/afpacket_tx.sh [SECONDS]   (default 5; verify with 1)
# Needs root; everything happens in two private namespaces deleted on exit.
# Prints one line per measurement and "ratio" lines (port / trafgen).
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
T=${1:-5}
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

# trafgen TX for T seconds on NS/IF; rate measured at the peer PNS/PIF.
trafgen_tx() {
	local ns=$1 ifn=$2 pns=$3 pif=$4
	local c0=$(cnt $pns $pif rx_packets) t0=$(now)
	timeout -s INT $T ip netns exec $ns taskset -c 0 trafgen -o $ifn -c $TMPD/f64.cfg -P 1 -Q -C >/dev/null 2>&1
	local c1=$(cnt $pns $pif rx_packets) t1=$(now)
	rate $((c1 - c0)) $t0 $t1
}

# TX: port vs trafgen on VA, counted at VB.
ref=$(trafgen_tx $NA $VA $NB $VB)
c0=$(cnt $NB $VB rx_packets); t0=$(now)
out=$(ip netns exec $NA taskset -c 0 "$BURST" tx afpacket:$VA 0 -t $T -l 60)
c1=$(cnt $NB $VB rx_packets); t1=$(now)
port=$(rate $((c1 - c0)) $t0 $t1)
echo "tx trafgen      pps=$ref"
echo "tx afpacket     pps=$port   ($out)"
awk -v a=$port -v b=$ref 'BEGIN { printf "ratio tx afpacket/trafgen = %.2f\n", b ? a / b : 0 }'

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
