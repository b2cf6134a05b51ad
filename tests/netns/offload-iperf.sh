#!/bin/bash
# Description: TCP offloads end to end through VALE. unmd runs in its own
# namespace and attaches two tap ports to vale0 (it creates the devices),
# which are then moved into two more namespaces, one Linux stack each.
# Phase 1, both taps with @conf:vnet=12 (TSO/CSUM negotiated): iperf3 TCP
# works and the switch's gso_in counter is > 0 (64 KiB frames crossed it
# unsegmented). Phase 2, sender's tap with offloads, receiver's without:
# iperf3 works, the switch segments (segmented/segments_out move) and
# tcpdump -vv in the receiving namespace finds no bad IP or TCP checksum.
# Everything is created inside namespaces with a random suffix and removed
# on exit; SKIP (77) without root, iperf3 or tcpdump.
set -u
B=${B:-build}
UNMD=$PWD/$B/unmd
CTL=$PWD/$B/unm-ctl
T=${IPERF_T:-3}
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || skip "needs root (CAP_NET_ADMIN) for network namespaces"
for c in ip iperf3 tcpdump; do command -v $c >/dev/null || skip "$c not installed"; done
[ -c /dev/net/tun ] || skip "tap: /dev/net/tun not present"
[ -x "$UNMD" ] && [ -x "$CTL" ] || skip "unmd/unm-ctl not built"
NS_TAG=unmo
. "$(dirname "$0")/../lib/unmd-3ns.inc"

# plug NS TAP ADDR OPTS: attach tap:TAP[OPTS] (unmd creates it in NS0),
# move it into NS and configure it.
plug() {
	ctl attach vale0 "tap:$2$4" >/dev/null || fail "attach tap:$2$4: $(tail -3 "$TMPD/unmd.log")"
	ip -n $NS0 link set "$2" netns "$1" || fail "cannot move $2 into $1"
	ip -n "$1" addr add "$3/24" dev "$2"
	ip -n "$1" link set "$2" up
}

# counter NAME: sum of NAME over every port of vale0 (unm-ctl -j offload)
counter() {
	ctl -j offload vale0 | grep -o "\"$1\":[0-9]*" | cut -d: -f2 |
		awk '{ s += $1 } END { print s + 0 }'
}

# iperf NAME: iperf3 TCP from NS1 to NS2 for $T seconds; prints Mbit/s
iperf() {
	ip netns exec $NS2 iperf3 -s -1 -B 10.77.0.2 >/dev/null 2>&1 &
	PIDS+=($!)
	for ((i = 0; i < 200; i++)); do
		ip netns exec $NS2 ss -ltn 2>/dev/null | grep -q 10.77.0.2:5201 && break
		sleep 0.02
	done
	ip netns exec $NS1 ping -c 1 -W 2 10.77.0.2 >/dev/null || fail "$1: no ping through vale0"
	ip netns exec $NS1 timeout $((T + 15)) iperf3 -c 10.77.0.2 -t "$T" -f m \
		>"$TMPD/iperf.$1" 2>&1 || fail "$1: iperf3 failed: $(tail -3 "$TMPD/iperf.$1")"
	awk '/receiver/ { print $(NF-2), $(NF-1) }' "$TMPD/iperf.$1"
}

unplug() {
	ctl detach vale0 "tap:$1$2" >/dev/null || fail "detach tap:$1$2"
}

# Phase 1: offloads on both sides
A=ua$SUF B2=ub$SUF
plug $NS1 $A 10.77.0.1 "@conf:vnet=12"
plug $NS2 $B2 10.77.0.2 "@conf:vnet=12"
g0=$(counter gso_in)
r=$(iperf both)
g1=$(counter gso_in)
echo "vnet=12 <-> vnet=12: $r, gso_in $((g1 - g0))"
[ $((g1 - g0)) -gt 0 ] || fail "no GSO frame crossed the switch"
unplug $A "@conf:vnet=12"
unplug $B2 "@conf:vnet=12"

# Phase 2: sender with offloads, receiver without
A=uc$SUF B2=ud$SUF
plug $NS1 $A 10.77.0.1 "@conf:vnet=12"
plug $NS2 $B2 10.77.0.2 "@conf:vnet=0"
ip netns exec $NS2 tcpdump -i $B2 -w "$TMPD/rx.pcap" -c 3000 -n tcp >/dev/null 2>&1 &
PIDS+=($!)
for ((i = 0; i < 200; i++)); do [ -s "$TMPD/rx.pcap" ] && break; sleep 0.02; done
s0=$(counter segmented) o0=$(counter segments_out)
r=$(iperf mixed)
s1=$(counter segmented) o1=$(counter segments_out)
echo "vnet=12 -> no vnet: $r, segmented $((s1 - s0)) frames into $((o1 - o0)) segments"
[ $((s1 - s0)) -gt 0 ] || fail "the switch segmented nothing"
[ $((o1 - o0)) -gt $((s1 - s0)) ] || fail "segments_out did not move"
sleep 0.5
kill "${PIDS[-1]}" 2>/dev/null; wait "${PIDS[-1]}" 2>/dev/null
tcpdump -vv -n -r "$TMPD/rx.pcap" >"$TMPD/rx.txt" 2>/dev/null
pk=$(grep -c "IP " "$TMPD/rx.txt")
bad=$(grep -c -E "incorrect|bad cksum" "$TMPD/rx.txt")
good=$(grep -c "(correct)" "$TMPD/rx.txt")
echo "tcpdump: $pk packets, $good TCP checksums verified correct, $bad bad"
[ "$good" -gt 100 ] || fail "tcpdump verified only $good checksums"
[ "$pk" -gt 100 ] || fail "tcpdump saw only $pk packets"
[ "$bad" = 0 ] || fail "$bad bad checksums: $(grep -m 3 -E 'incorrect|bad cksum' "$TMPD/rx.txt")"
exit 0
