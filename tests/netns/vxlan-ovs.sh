#!/bin/bash
# Description: a unetmap host and an Open vSwitch host joined by VXLAN
# (VNI 42, port 4789). Host 1: unmd + vale0 + a tap into VM namespace v1
# + vxlan:198.18.42.2@conf:vni=42,local=198.18.42.1. Host 2: a private
# ovsdb-server and ovs-vswitchd (db, pid, log and control sockets in the
# test's temporary directory, started in host 2's namespace and stopped
# on exit), userspace datapath (datapath_type=netdev) with OVS's native
# tunneling layout: br-phy holds the underlay port and address, br-int a
# type=vxlan port and a veth into VM namespace v2. Checks: ping both ways,
# iperf3 TCP both ways, v2's MAC learned behind 198.18.42.2, no drops.
# The underlay veths have TX checksum offload off: OVS reads the underlay
# through AF_PACKET, where a checksum left for a NIC (a veth never fills
# it in) reads as wrong.
. "$(dirname "$0")/../lib/vxlan.inc"
command -v ethtool >/dev/null || skip "ethtool not installed"
hosts 2
unetmap_host 1 "vxlan:198.18.42.2@conf:vni=42,local=198.18.42.1"
ovs_host 2 198.18.42.1 198.18.42.2
for h in 1 2; do ip netns exec h$h$SUF ethtool -K eth0 tx off >/dev/null 2>&1; done
ip netns exec v2$SUF ethtool -K eth0 tx off >/dev/null 2>&1

vm_ping 1 2 || fail "no ping from the unetmap VM to the OVS VM"
vm_ping 2 1 || fail "no ping from the OVS VM to the unetmap VM"
r1=$(vm_iperf 1 2) || fail "iperf3 unetmap -> OVS failed"
r2=$(vm_iperf 2 1) || fail "iperf3 OVS -> unetmap failed"
echo "iperf3 TCP: unetmap -> OVS $r1 Mbit/s, OVS -> unetmap $r2 Mbit/s"
mac2=$(ip -n v2$SUF link show eth0 | awk '/link\/ether/ { print $2 }')
ctl 1 mac vale0 | grep -q "^$mac2 .* remote 198.18.42.2 " ||
	fail "$mac2 not learned behind 198.18.42.2: $(ctl 1 mac vale0)"
ctl 1 stats vale0 >"$TMPD/st"
grep -q "vxlan rx .* short 0 flags 0 bad_vni 0 bad_source 0 oversize 0" "$TMPD/st" ||
	fail "drops on clean traffic: $(grep 'vxlan rx' "$TMPD/st")"
exit 0
