#!/bin/bash
# Description: head-end replication and multicast underlay, three hosts.
# Phase 1: host 1 is unetmap with two remotes (vxlan:198.18.42.2,
# 198.18.42.3), host 2 is Linux (vxlan0 with remote 198.18.42.1), host 3
# is unetmap with remote 198.18.42.1. A broadcast sent in VM 1 (ping -b
# to 10.42.0.255, 5 requests) reaches VM 2 and VM 3 exactly 5 times each
# (tcpdump in the VMs); host 1 counts 5 flooded frames, 10 datagrams for
# them. Phase 2: the three hosts are unetmap with the multicast group
# 239.1.42.42 as their remote (IP_ADD_MEMBERSHIP): a broadcast from VM 1
# reaches VM 2 and VM 3 exactly once per request, and unicast ping works
# once the sources were learned.
. "$(dirname "$0")/../lib/vxlan.inc"
command -v tcpdump >/dev/null || skip "tcpdump not installed"
hosts 3

# bcast_count: 5 broadcast pings from VM 1; prints what VM 2 and VM 3 saw
bcast_count() {
	local v tpids=()
	for v in 2 3; do
		ip netns exec v$v$SUF tcpdump -U -ni "$(vm_if $v)" -w "$TMPD/b$v.pcap" \
			icmp and dst host 10.42.0.255 >/dev/null 2>&1 &
		tpids+=($!)
		PIDS+=($!)
	done
	for v in 2 3; do
		for ((i = 0; i < 200; i++)); do [ -s "$TMPD/b$v.pcap" ] && break; sleep 0.02; done
	done
	sleep 0.5
	ip netns exec v1$SUF ping -b -c 5 -i 0.2 -W 1 10.42.0.255 >/dev/null 2>&1
	sleep 0.5
	kill "${tpids[@]}" 2>/dev/null; wait "${tpids[@]}" 2>/dev/null
	echo "$(tcpdump -nr "$TMPD/b2.pcap" 2>/dev/null | grep -c 'echo request') $(tcpdump -nr "$TMPD/b3.pcap" 2>/dev/null | grep -c 'echo request')"
}
vm_if() { [ $1 = 2 ] && [ $PHASE = 1 ] && echo eth0 || echo vt$1; }

PHASE=1
unetmap_host 1 "vxlan:198.18.42.2,198.18.42.3@conf:vni=42,local=198.18.42.1"
linux_host 2 198.18.42.1 198.18.42.2
unetmap_host 3 "vxlan:198.18.42.1@conf:vni=42,local=198.18.42.3"
vm_ping 1 2 || fail "phase 1: no ping 1 -> 2 (Linux)"
vm_ping 1 3 || fail "phase 1: no ping 1 -> 3 (unetmap)"
f0=$(vx_stat 1 tx_flood) d0=$(vx_stat 1 tx_datagrams)
c=$(bcast_count)
f1=$(vx_stat 1 tx_flood) d1=$(vx_stat 1 tx_datagrams)
echo "phase 1 (head-end replication): VM 2 and VM 3 saw $c of 5 broadcasts; host 1 flooded $((f1 - f0)) frames as $((d1 - d0)) datagrams"
[ "$c" = "5 5" ] || fail "phase 1: broadcasts seen '$c', expected '5 5'"
[ $((f1 - f0)) -ge 5 ] && [ $((d1 - d0)) -ge 10 ] || fail "phase 1: replication counters"

# Phase 2: all three unetmap, multicast group
PHASE=2
ip -n h2$SUF link del vxlan0
ip -n h2$SUF link del br0
for h in 1 2 3; do ip -n h$h$SUF route add 224.0.0.0/4 dev eth0; done
ctl 1 detach vale0 "vxlan:198.18.42.2,198.18.42.3@conf:vni=42,local=198.18.42.1" >/dev/null
ctl 3 detach vale0 "vxlan:198.18.42.1@conf:vni=42,local=198.18.42.3" >/dev/null
ip netns exec v2$SUF ip link del eth0 2>/dev/null
unetmap_host 2 "vxlan:239.1.42.42@conf:vni=42,local=198.18.42.2"
for h in 1 3; do
	ctl $h attach vale0 "vxlan:239.1.42.42@conf:vni=42,local=198.18.42.$h" >/dev/null ||
		fail "phase 2: attach multicast port on host $h"
done
# VM 2 has a new interface (new MAC): forget phase 1's neighbours
for v in 1 2 3; do ip -n v$v$SUF neigh flush all; done
vm_ping 1 2 || fail "phase 2: no ping 1 -> 2 over the multicast underlay"
vm_ping 3 1 || fail "phase 2: no ping 3 -> 1 over the multicast underlay"
c=$(bcast_count)
echo "phase 2 (multicast group 239.1.42.42): VM 2 and VM 3 saw $c of 5 broadcasts"
[ "$c" = "5 5" ] || fail "phase 2: broadcasts seen '$c', expected '5 5'"
ctl 1 stats vale0 | grep -q "multicast on" || fail "phase 2: port does not show multicast"
exit 0
