#!/bin/bash
# vxlan_pps.sh - 64-byte frames (60 bytes without CRC) through a VXLAN
# overlay (VNI 42 over a veth underlay), one flow, receiver's rate:
#   unetmap  unm-pktgen tx -> vale0 -> vxlan port -> veth underlay ->
#            vxlan port -> vale0 -> unm-pktgen rx  (each host its own unmd)
#   ovs      unm-pktgen tx (afpacket) -> veth -> Open vSwitch userspace
#            datapath (datapath_type=netdev, br-int with a vxlan port, br-phy
#            with the underlay veth) -> veth underlay -> the same on the far
#            host -> veth -> unm-pktgen rx (afpacket)
# Both pairs share one underlay switch (the wire namespace) and run
# interleaved, ROUNDS times each; the figure of a run is the median of the
# receiver's per-second rates (first and last second left out). Prints
# the median per case and the ratio unetmap / ovs.
#
# usage: [B=build] bench/vxlan_pps.sh [-t SECONDS] [-n ROUNDS]
# Root; uses tests/lib/vxlan.inc (namespaces with a random suffix, private
# ovsdb-server/ovs-vswitchd with their files in a temporary directory,
# everything removed on exit). Verify with -t 3 -n 1; figures: -t 8 -n 5.
set -u
T=5 ROUNDS=3
while getopts "t:n:" o; do
	case $o in t) T=$OPTARG ;; n) ROUNDS=$OPTARG ;; *) exit 2 ;; esac
done
cd "$(dirname "$0")/.." || exit 1
. tests/lib/vxlan.inc
PG=$PWD/$B/unm-pktgen
[ -x "$PG" ] || skip "unm-pktgen not built"
# hosts 1+2: unetmap pair; hosts 3+4: Open vSwitch pair (same wire)
hosts 4
for n in 1 2; do
	unmd_host $n
	r=$((3 - n))
	ctl $n attach vale0 "vxlan:198.18.42.$r@conf:vni=42,local=198.18.42.$n" >/dev/null ||
		fail "host $n: attach vxlan"
done
ovs_host 3 198.18.42.4 198.18.42.3
ovs_host 4 198.18.42.3 198.18.42.4
# resolves OVS's tunnel neighbour (its own ARP table) before measuring
vm_ping 3 4 >/dev/null || fail "no ping across the Open vSwitch pair"

# run_pair CASE: prints the receiver's median rate (frames/s)
run_pair() {
	local rx tx out=$TMPD/rx.$1 i
	if [ $1 = unetmap ]; then
		rx=(ip netns exec h2$SUF env UNM_SOCKET=$TMPD/unmd2.sock "$PG" -f rx -i vale0:rx$SUF)
		tx=(ip netns exec h1$SUF env UNM_SOCKET=$TMPD/unmd1.sock "$PG" -f tx -i vale0:tx$SUF)
	else
		rx=(ip netns exec v4$SUF "$PG" -f rx -i afpacket:eth0)
		tx=(ip netns exec v3$SUF "$PG" -f tx -i afpacket:eth0)
	fi
	"${rx[@]}" -j -N -T 1000 >"$out" 2>/dev/null &
	i=$!
	PIDS+=($i)
	sleep 0.5
	# broadcast destination: each switch has two ports, so a flood is one copy
	timeout -s INT $((T + 2)) "${tx[@]}" -l 60 -T 0 >/dev/null 2>&1
	kill -INT $i 2>/dev/null
	wait $i 2>/dev/null
	grep '"type":"interval"' "$out" | sed -n 's/.*"pps":\([0-9.]*\).*/\1/p' | sed '1d;$d' |
		sort -n | awk '{ a[NR] = $1 } END { print NR ? a[int((NR + 1) / 2)] : 0 }'
}

declare -A R
for ((r = 1; r <= ROUNDS; r++)); do
	for c in unetmap ovs; do
		v=$(run_pair $c)
		[ "${v%.*}" -gt 0 ] 2>/dev/null || fail "$c: no frames received"
		R[$c]="${R[$c]:-} $v"
		echo "round $r: $c $(awk -v v="$v" 'BEGIN { printf "%.3f", v / 1e6 }') Mpps"
	done
done
med() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
u=$(echo ${R[unetmap]} | med) o=$(echo ${R[ovs]} | med)
echo "64-byte frames over VXLAN: unetmap $(awk -v v="$u" 'BEGIN { printf "%.3f", v / 1e6 }') Mpps," \
	"Open vSwitch userspace datapath $(awk -v v="$o" 'BEGIN { printf "%.3f", v / 1e6 }') Mpps," \
	"ratio $(awk -v a="$u" -v b="$o" 'BEGIN { printf "%.2f", b ? a / b : 0 }')x"
