#!/bin/bash
# Description: TCP through veths attached to vale0 by AF_PACKET and by
# AF_XDP, with the veth peers' default offloads ON (no `ethtool -K ... tx
# off`): the peers hand the switch CHECKSUM_PARTIAL frames (and, for
# AF_PACKET, 64 KiB GSO frames), which the ports must complete or carry.
# For each port type, iperf3 TCP NS1 -> NS2 and the reverse (-R) must
# each move more than MIN_MBPS (default 50 Mbit/s, far below what the path
# does; a broken checksum gives 0: the connection never opens). The
# afpacket ports are attached plainly (vnet 12 by default) and once more
# as afpacket:IF@conf:vnet=0 (checksums completed and GSO frames cut in
# the port itself); in the default mode 64 KiB GSO frames must cross the
# switch whole (unm-ctl offload: gso_in grows). Before the fix ping worked and iperf3 never connected.
# unmd and the veths live in namespaces with a random suffix, removed on
# exit; SKIP without root or iperf3; the afxdp part is skipped (with the
# reason) when libxdp is not built in or the kernel refuses XDP.
set -u
B=${B:-build}
UNMD=$PWD/$B/unmd
CTL=$PWD/$B/unm-ctl
T=${IPERF_T:-3}
MIN_MBPS=${MIN_MBPS:-50}
MODES=${MODES:-afpacket afpacket@vnet0 afxdp}
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || skip "needs root (CAP_NET_ADMIN) for network namespaces"
for c in ip iperf3; do command -v $c >/dev/null || skip "$c not installed"; done
[ -x "$UNMD" ] && [ -x "$CTL" ] || skip "unmd/unm-ctl not built"
NS_TAG=unmvt
. "$(dirname "$0")/../lib/unmd-3ns.inc"

# veth pairs with the kernel's default offloads: h1 (NS0) <-> p1 (NS1),
# h2 (NS0) <-> p2 (NS2)
for k in 1 2; do
	ns=$([ $k = 1 ] && echo $NS1 || echo $NS2)
	ip -n $NS0 link add h$k type veth peer name p$k netns $ns || skip "no veth support"
	ip -n $NS0 link set h$k up
	ip -n $ns addr add 10.81.0.$k/24 dev p$k
	ip -n $ns link set p$k up
done

# iperf DIR-FLAG LABEL: one iperf3 TCP run NS1 -> NS2 (or -R), rate checked
iperf() {
	local out=$TMPD/iperf.$2 r
	ip netns exec $NS2 iperf3 -s -1 -B 10.81.0.2 >/dev/null 2>&1 &
	PIDS+=($!)
	for ((i = 0; i < 250; i++)); do
		ip netns exec $NS2 ss -ltn 2>/dev/null | grep -q 10.81.0.2:5201 && break
		sleep 0.02
	done
	ip netns exec $NS1 timeout $((T + 20)) iperf3 -c 10.81.0.2 -t "$T" -f m $1 \
		--connect-timeout 5000 >"$out" 2>&1 ||
		fail "$2: iperf3 failed: $(tail -3 "$out")"
	r=$(awk '/receiver/ { print $(NF-2) }' "$out")
	echo "$2: iperf3 TCP with default veth offloads: ${r:-none} Mbit/s"
	[ -n "$r" ] || fail "$2: iperf3 printed no receiver rate: $(tail -3 "$out")"
	awk -v r="$r" -v m="$MIN_MBPS" 'BEGIN { exit !(r > m) }' ||
		fail "$2: $r Mbit/s, not more than $MIN_MBPS (checksums or GSO frames lost)"
}

counter() {
	ctl -j offload vale0 | grep -o "\"$1\":[0-9]*" | cut -d: -f2 |
		awk '{ s += $1 } END { print s + 0 }'
}

for mode in $MODES; do
	case $mode in
	afpacket) type=afpacket conf= ;;
	afpacket@vnet0) type=afpacket conf=@conf:vnet=0 ;;
	afxdp) type=afxdp conf= ;;
	esac
	if ! ctl attach vale0 "$type:h1$conf" >/dev/null 2>"$TMPD/attach.err"; then
		if [ $type = afxdp ]; then
			echo "afxdp: part skipped: $(tail -1 "$TMPD/attach.err")"
			continue
		fi
		fail "attach $type:h1$conf: $(cat "$TMPD/attach.err") $(tail -3 "$TMPD/unmd.log")"
	fi
	ctl attach vale0 "$type:h2$conf" >/dev/null || fail "attach $type:h2$conf: $(tail -3 "$TMPD/unmd.log")"
	ip netns exec $NS1 ping -c 1 -W 3 10.81.0.2 >/dev/null || fail "$mode: no ping through vale0"
	g0=$(counter gso_in)
	iperf "" "$mode NS1->NS2"
	iperf -R "$mode NS2->NS1"
	g1=$(counter gso_in)
	echo "$mode: GSO frames into the switch: $((g1 - g0))"
	if [ "$mode" = afpacket ]; then
		[ $((g1 - g0)) -gt 0 ] || fail "afpacket: no GSO frame crossed the switch whole"
	fi
	ctl detach vale0 "$type:h1" >/dev/null || fail "detach $type:h1"
	ctl detach vale0 "$type:h2" >/dev/null || fail "detach $type:h2"
done
exit 0
