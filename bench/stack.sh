#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bench/stack.sh - unm-stack (lwIP over unetmap) against Linux's stack, in
# interleaved rounds (ratios are what to read on this noisy machine):
#  1. TCP throughput, iperf 2 from a Linux namespace whose tap (virtio-net
#     offloads, vnet=12) is on vale0: to unm-stack on a vale0 port (with
#     --vnet 12, and without a header) vs to a Linux namespace whose tap
#     (vnet=12) is on the same switch (B/A = unm-stack / Linux);
#  2. lwIP <-> lwIP over a pipe, no kernel: unm-stack --send into the sink;
#  3. TCP echo transactions per second, one connection, LEN-byte requests
#     (bench/tcp_rr), to unm-stack's echo vs to tcp_rr -s in the Linux
#     namespace, both over vale0.
# usage: bench/stack.sh [-n ROUNDS] [-t SECS] [-l LEN]   (root)
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
N=3 T=3 LEN=64
while getopts "n:t:l:h" o; do
	case $o in
	n) N=$OPTARG ;; t) T=$OPTARG ;; l) LEN=$OPTARG ;;
	*) sed -n '2,15p' "$0"; exit 2 ;;
	esac
done
STACK=$PWD/$B/unm-stack UNMD=$PWD/$B/unmd CTL=$PWD/$B/unm-ctl RR=$PWD/$B/bench/tcp_rr
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (namespaces)"; exit 77; }
[ -x "$STACK" ] || { echo "SKIP: unm-stack not built (no lwIP)"; exit 77; }
command -v iperf >/dev/null || { echo "SKIP: iperf (2) not installed"; exit 77; }
SUF=$(printf '%04x' $RANDOM)
NS0=ubs0$SUF NS1=ubs1$SUF NS2=ubs2$SUF
TMPD=$(mktemp -d /tmp/unm-bstack.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for ns in $NS0 $NS1 $NS2; do
		ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del $ns 2>/dev/null
	done
	rm -rf "$TMPD"
}
trap cleanup EXIT
for ns in $NS0 $NS1 $NS2; do
	ip netns add $ns && ip -n $ns link set lo up
	ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 >/dev/null 2>&1
done
export UNM_SOCKET=$TMPD/unmd.sock
ip netns exec $NS0 "$UNMD" -f -s "$UNM_SOCKET" 2>"$TMPD/unmd.log" &
PIDS+=($!)
for _ in $(seq 200); do [ -S "$UNM_SOCKET" ] && break; sleep 0.02; done
plug() { # NS TAP ADDR
	ip netns exec $NS0 "$CTL" -s "$UNM_SOCKET" attach vale0 "tap:$2@conf:vnet=12" >/dev/null || exit 1
	ip -n $NS0 link set "$2" netns "$1"
	ip -n "$1" addr add "$3/24" dev "$2"
	ip -n "$1" link set "$2" up
}
plug $NS1 bsa$SUF 198.18.90.1
plug $NS2 bsb$SUF 198.18.90.2
ip netns exec $NS2 iperf -s -D >/dev/null 2>&1 || { ip netns exec $NS2 iperf -s >/dev/null 2>&1 & PIDS+=($!); }
ip netns exec $NS2 "$RR" -s 7 & PIDS+=($!)
"$STACK" -q -i vale0:bv$SUF -a 198.18.90.10/24 --vnet 12 & PIDS+=($!)
"$STACK" -q -i vale0:bp$SUF -a 198.18.90.11/24 & PIDS+=($!)
sleep 0.5
for a in 2 10 11; do ip netns exec $NS1 ping -c 1 -W 2 198.18.90.$a >/dev/null || { echo "FAIL: no ping to .$a"; exit 1; }; done

mbps() { ip netns exec $NS1 timeout $((T + 20)) iperf -c "$1" -t "$T" -f m 2>&1 | grep -o '[0-9.]* Mbits/sec' | tail -1 | cut -d' ' -f1; }
rr() { ip netns exec $NS1 timeout $((T + 20)) "$RR" -c "$1" -p 7 -t "$T" -l "$LEN" 2>&1 | grep -o 'rate=[0-9.]*' | cut -d= -f2; }
pipe_gbps() {
	"$STACK" -q -i "bpp$SUF$1{1" -a 198.18.91.1/24 & local s=$!
	"$STACK" -i "bpp$SUF$1}1" -a 198.18.91.2/24 --connect tcp://198.18.91.1:5001 --send 512M 2>&1 |
		grep -o '[0-9.]* Gbit/s' | cut -d' ' -f1
	kill $s 2>/dev/null; wait $s 2>/dev/null
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", b / a; else print "-" }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "unm-stack vs Linux, $(date -u), $(nproc) CPUs, $N rounds of ${T}s"
printf '%-5s %10s %10s %10s %7s %7s | %9s | %9s %9s %6s\n' round linux_Mb stackv_Mb stackp_Mb v/lin p/lin pipe_Gb linux_tps stack_tps s/lin
rv=() rp=() rt=() pg=()
for i in $(seq 1 "$N"); do
	if [ $((i % 2)) = 1 ]; then
		l=$(mbps 198.18.90.2); v=$(mbps 198.18.90.10); p=$(mbps 198.18.90.11)
		lt=$(rr 198.18.90.2); st=$(rr 198.18.90.10)
	else
		p=$(mbps 198.18.90.11); v=$(mbps 198.18.90.10); l=$(mbps 198.18.90.2)
		st=$(rr 198.18.90.10); lt=$(rr 198.18.90.2)
	fi
	g=$(pipe_gbps $i)
	r1=$(ratio "$l" "$v") r2=$(ratio "$l" "$p") r3=$(ratio "$lt" "$st")
	printf '%-5s %10s %10s %10s %7s %7s | %9s | %9s %9s %6s\n' "$i" "${l:-fail}" "${v:-fail}" "${p:-fail}" \
		"$r1" "$r2" "${g:-fail}" "${lt:-fail}" "${st:-fail}" "$r3"
	rv+=("$r1") rp+=("$r2") rt+=("$r3") pg+=("${g:-0}")
done
echo "median: stack(vnet12)/linux throughput $(printf '%s\n' "${rv[@]}" | grep -v - | median)x," \
	"stack(no header)/linux $(printf '%s\n' "${rp[@]}" | grep -v - | median)x," \
	"lwIP<->lwIP pipe $(printf '%s\n' "${pg[@]}" | median) Gbit/s," \
	"TCP echo ${LEN} B stack/linux $(printf '%s\n' "${rt[@]}" | grep -v - | median)x"
