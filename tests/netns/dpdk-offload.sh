#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: a dpdk: port with a virtio-net header maps the switch's
# offloads onto DPDK's. unmd attaches dpdk:net_tap0,iface=TAP@conf:vnet=12
# (DPDK's tap driver: TSO and checksum offloads, done in software by the
# driver) to vale0 beside afpacket:VETH (whose default on attach carries
# GSO frames and partial checksums). TAP is moved into namespace A, VETH's
# peer is in B, both with Linux's default offloads on: iperf3 TCP both
# ways must move data, and the frames the switch gave the dpdk port must
# be TSO frames (bytes per frame above 2000): without the mapping they
# would be dropped or leave with partial checksums (TCP stalls).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/backends.inc
. tests/lib/unmd.inc
export UNM_DPDK_PLUGIN=$PWD/$B/libunm-dpdk.so
[ -f "$UNM_DPDK_PLUGIN" ] || skip "$UNM_DPDK_PLUGIN not built (./configure found no libdpdk: apt-get install dpdk-dev)"
ls /usr/lib/*/dpdk/pmds-*/librte_net_tap.so >/dev/null 2>&1 || skip "DPDK's net_tap driver is not installed"
command -v iperf3 >/dev/null || skip "iperf3 not installed"
[ -e /dev/net/tun ] || skip "no /dev/net/tun"

hosts_behind_switch 10.79.0
# A's side is the DPDK tap, not the veth
ip -n "$A" link del eth0
start_unmd "$S"
T=dt$SUF
"$CTL" attach vale0 "dpdk:net_tap0,iface=$T@conf:vnet=12" 2> "$TMPD/att.err" ||
	{ cat "$TMPD/att.err" "$TMPD/unmd.log"; fail "attach dpdk:net_tap0 with vnet=12"; }
"$CTL" attach vale0 afpacket:vb$SUF || fail "attach afpacket:vb$SUF"
ip -n "$S" link set "$T" netns "$A" || fail "move $T into A"
ip -n "$A" addr add 10.79.0.1/24 dev "$T"; ip -n "$A" link set "$T" up
ok=0
for ((i = 0; i < 5; i++)); do
	in_ns "$A" ping -c 2 -i 0.2 -W 1 10.79.0.2 > "$TMPD/ping" 2>&1 && { ok=1; break; }
done
[ $ok = 1 ] || { cat "$TMPD/ping"; "$CTL" stats; fail "ping A -> B"; }
iperf() { # FROM-NS TO-NS TO-IP
	in_ns "$2" iperf3 -s -1 -p 5201 > "$TMPD/iperf-s" 2>&1 &
	local srv=$! r
	sleep 0.3
	in_ns "$1" timeout 20 iperf3 -c "$3" -p 5201 -t 2 -f m > "$TMPD/iperf" 2>&1 ||
		{ cat "$TMPD/iperf"; kill $srv; "$CTL" stats; fail "iperf3 $1 -> $2"; }
	wait $srv
	r=$(grep -E 'receiver' "$TMPD/iperf" | tail -1 | awk '{print $7}')
	echo "${r%.*}"
}
r1=$(iperf "$A" "$B_" 10.79.0.2) || exit 1
r2=$(iperf "$B_" "$A" 10.79.0.1) || exit 1
echo "iperf3 TCP: A (dpdk tap) -> B $r1 Mbit/s, B -> A $r2 Mbit/s"
[ "${r1:-0}" -ge 20 ] && [ "${r2:-0}" -ge 20 ] || fail "TCP through the dpdk port moved (almost) nothing"
# frames toward the dpdk port (its "rx" on the switch) were TSO frames
"$CTL" stats vale0 > "$TMPD/stats"
set -- $(grep -A3 "dpdk:net_tap0" "$TMPD/stats" | awk '$1 == "rx" {print $2, $4; exit}')
[ "${1:-0}" -gt 0 ] || { cat "$TMPD/stats"; fail "no stats for the dpdk port"; }
avg=$(( $2 / $1 ))
echo "toward the dpdk port: $1 frames, $2 bytes ($avg bytes a frame)"
[ $avg -gt 2000 ] || { cat "$TMPD/stats"; fail "no TSO frames reached the dpdk port"; }
echo "PASS"
