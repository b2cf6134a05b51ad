#!/bin/bash
# vxlan_cost.sh - where one iperf3 TCP stream over a VXLAN overlay costs
# unmd its CPU: two unetmap hosts as in bench/vxlan_iperf.sh (tap
# @conf:vnet=12 + vale0 + vxlan port each), one transfer of SECONDS, and
# for each host's unmd (h1 sends, h2 receives):
#   - CPU ms per GB of TCP payload (utime + stime from /proc, so load on
#     the machine inflates it less than a wall-clock rate)
#   - the vxlan counters of the transfer (TSO frames, UDP GSO sends, GRO
#     reads, coalesced frames handed to the tap)
#   - with -p: perf record -g of each unmd during the transfer, into
#     $OUT/tx.data and $OUT/rx.data (perf report -i ... --no-children)
#   - with -s: strace -c of each unmd (system calls and their counts;
#     strace slows unmd down: do not read the rate of that run)
#
#   - with -x OPTS: both vxlan ports add OPTS to their @conf (e.g.
#     -x rxcsum=trust)
#
# usage: [B=build] bench/vxlan_cost.sh [-t SECONDS] [-p | -s] [-o OUTDIR] [-x OPTS]
# Root; uses tests/lib/vxlan.inc (namespaces with a random suffix,
# deleted on exit).
set -u
T=6 MODE=none OUT=/tmp XC=
while getopts "t:pso:x:" o; do
	case $o in t) T=$OPTARG ;; p) MODE=perf ;; s) MODE=strace ;; o) OUT=$OPTARG ;; x) XC=,$OPTARG ;; *) exit 2 ;; esac
done
cd "$(dirname "$0")/.." || exit 1
. tests/lib/vxlan.inc
command -v iperf3 >/dev/null || skip "iperf3 not installed"
[ $MODE = perf ] && ! command -v perf >/dev/null && skip "perf not installed"
[ $MODE = strace ] && ! command -v strace >/dev/null && skip "strace not installed"
hosts 2
unetmap_host 1 "vxlan:198.18.42.2@conf:vni=42,local=198.18.42.1$XC" "@conf:vnet=12"
unetmap_host 2 "vxlan:198.18.42.1@conf:vni=42,local=198.18.42.2$XC" "@conf:vnet=12"
vm_ping 1 2 >/dev/null || fail "no ping"
U1=${PIDS[0]} U2=${PIDS[1]}
cpu() { awk '{ print $14 + $15 }' /proc/$1/stat; }
st() { ctl $1 -j stats vale0 | tr ',{}' '\n\n\n' | sed -n '/^"vxlan":/,$p' | grep "^\"$2\":" | head -1 | cut -d: -f2; }
ip netns exec v2$SUF iperf3 -s -1 -B 10.42.0.2 >/dev/null 2>&1 &
PIDS+=($!)
for ((i = 0; i < 200; i++)); do
	ip netns exec v2$SUF ss -ltn 2>/dev/null | grep -q 10.42.0.2:5201 && break
	sleep 0.02
done
declare -A S0
for k in tx_gso_frames tx_gso_sends tx_datagrams; do S0[1.$k]=$(st 1 $k); done
for k in rx_gro rx_coalesced rx_datagrams; do S0[2.$k]=$(st 2 $k); done
c1=$(cpu $U1) c2=$(cpu $U2)
ip netns exec v1$SUF timeout $((T + 20)) iperf3 -c 10.42.0.2 -t $T -f m >"$TMPD/ip.out" 2>&1 &
IP=$!
WAITS=()
if [ $MODE = perf ]; then
	perf record -g -o "$OUT/tx.data" -p $U1 -- sleep $((T - 1)) >/dev/null 2>&1 &
	WAITS+=($!)
	perf record -g -o "$OUT/rx.data" -p $U2 -- sleep $((T - 1)) >/dev/null 2>&1 &
	WAITS+=($!)
elif [ $MODE = strace ]; then
	timeout -s INT $((T - 1)) strace -c -f -p $U1 -o "$OUT/tx.strace" &
	WAITS+=($!)
	timeout -s INT $((T - 1)) strace -c -f -p $U2 -o "$OUT/rx.strace" &
	WAITS+=($!)
fi
wait $IP || { tail -3 "$TMPD/ip.out"; fail "iperf3 failed"; }
for w in "${WAITS[@]}"; do wait $w; done
d1=$(($(cpu $U1) - c1)) d2=$(($(cpu $U2) - c2))
v=$(awk '/receiver/ { v = $(NF-2) } END { print v }' "$TMPD/ip.out")
awk -v v="$v" -v t=$T -v a=$d1 -v b=$d2 -v hz="$(getconf CLK_TCK)" 'BEGIN {
	gb = v * t / 8000
	printf "iperf3 %.0f Mbit/s; unmd CPU per GB: sender host %.0f ms, receiver host %.0f ms\n",
		v, a * 1000 / hz / gb, b * 1000 / hz / gb }'
d() { echo $(($(st $1 $2) - ${S0[$1.$2]})); }
echo "sender host:   tso_frames $(d 1 tx_gso_frames) gso_sends $(d 1 tx_gso_sends) datagrams $(d 1 tx_datagrams)"
echo "receiver host: gro_reads $(d 2 rx_gro) coalesced $(d 2 rx_coalesced) datagrams $(d 2 rx_datagrams)"
[ $MODE = none ] || echo "profiles in $OUT (tx: sender host, rx: receiver host)"
