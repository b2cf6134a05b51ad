#!/bin/bash
# Description: a unetmap host and a Linux host joined by VXLAN (VNI 42,
# port 4789) over a veth underlay (198.18.42.0/24 in namespaces the test
# creates). Host 1: unmd + vale0 + a tap into VM namespace v1 + the port
# vxlan:198.18.42.2@conf:vni=42,local=198.18.42.1. Host 2: Linux vxlan0
# in a bridge with a veth into VM namespace v2. Checks: IPv4 and IPv6
# ping both ways across the overlay; iperf3 TCP both ways; tcpdump on the
# underlay decodes valid VXLAN (flags [I], vni 42, to port 4789) in both
# directions; unm-ctl mac shows v2's MAC behind 198.18.42.2; the port
# reports inner MTU 1450 and no drops. Host 1's underlay veth segments
# UDP GSO sends in software (tx-udp-segmentation off), so that the capture
# shows each datagram as the wire carries it: at most the underlay MTU,
# inner TCP checksums right (tcpdump -vv) although they were built from TSO
# frames by the vxlan port. Host 2's underlay veth keeps its default TX
# checksum offload: Linux then leaves the inner TCP checksum of what it
# sends for a NIC to fill in, a veth never does, and the vxlan port must
# complete it (stats "csum" on the rx line > 0) for TCP to connect.
. "$(dirname "$0")/../lib/vxlan.inc"
command -v tcpdump >/dev/null || skip "tcpdump not installed"
command -v ethtool >/dev/null || skip "ethtool not installed"
VX="vxlan:198.18.42.2@conf:vni=42,local=198.18.42.1"
hosts 2
unetmap_host 1 "$VX"
linux_host 2 198.18.42.1 198.18.42.2
ip netns exec h1$SUF ethtool -K eth0 tx-udp-segmentation off >/dev/null 2>&1 ||
	skip "cannot turn off UDP segmentation offload on a veth"

ip netns exec h1$SUF tcpdump -ni eth0 -w "$TMPD/u.pcap" -c 400 udp port 4789 >/dev/null 2>&1 &
TD=$!
PIDS+=($TD)
for ((i = 0; i < 200; i++)); do [ -s "$TMPD/u.pcap" ] && break; sleep 0.02; done

vm_ping 1 2 || fail "no IPv4 ping from the unetmap VM to the Linux VM"
vm_ping 2 1 || fail "no IPv4 ping from the Linux VM to the unetmap VM"
vm_ping 1 2 -6 || fail "no IPv6 ping across the overlay"
r1=$(vm_iperf 1 2) || fail "iperf3 unetmap -> Linux failed"
r2=$(vm_iperf 2 1) || fail "iperf3 Linux -> unetmap failed"
echo "iperf3 TCP: unetmap -> Linux $r1 Mbit/s, Linux -> unetmap $r2 Mbit/s"
kill $TD 2>/dev/null; wait $TD 2>/dev/null

tcpdump -nr "$TMPD/u.pcap" 2>/dev/null >"$TMPD/u.txt"
out=$(grep -c "198.18.42.1.[0-9]* > 198.18.42.2.4789: VXLAN, flags \[I\] (0x08), vni 42" "$TMPD/u.txt")
in=$(grep -c "198.18.42.2.[0-9]* > 198.18.42.1.4789: VXLAN, flags \[I\] (0x08), vni 42" "$TMPD/u.txt")
echo "tcpdump on the underlay: $out VXLAN datagrams out, $in in"
[ "$out" -gt 10 ] && [ "$in" -gt 10 ] || fail "tcpdump did not decode VXLAN both ways"
sports=$(grep -o "198.18.42.1.[0-9]* > 198.18.42.2.4789" "$TMPD/u.txt" | cut -d. -f5 | cut -d' ' -f1 | sort -u)
# the capture ends inside the unetmap -> Linux iperf3 transfer (TSO frames)
tcpdump -vvnr "$TMPD/u.pcap" 2>/dev/null >"$TMPD/uv.txt"
good=$(grep -c "10.42.0.1.[0-9]* > 10.42.0.2.5201: Flags .*cksum 0x[0-9a-f]* (correct)" "$TMPD/uv.txt")
# only what unetmap built: Linux's own inner checksums are partial on a veth
bad=$(grep -c "10.42.0.1.[0-9]* > 10.42.0.2.[0-9]*: .*incorrect" "$TMPD/uv.txt")
big=$(tcpdump -nr "$TMPD/u.pcap" -e 2>/dev/null | grep "198.18.42.1.[0-9]* > 198.18.42.2.4789" |
	awk '{ for (i = 1; i < NF; i++) if ($i == "length") { l = $(i + 1) + 0; if (l > 1514) n++; break } } END { print n + 0 }')
echo "inner TCP to the Linux VM: $good segments with a correct checksum, $bad incorrect; $big frames over 1514 bytes"
[ "$good" -gt 10 ] || fail "no inner TCP segment with a correct checksum in the capture: $(grep -m3 5201 "$TMPD/uv.txt")"
[ "$bad" = 0 ] || fail "incorrect checksums on the wire: $(grep -m3 incorrect "$TMPD/uv.txt")"
[ "$big" = 0 ] || fail "$big frames on the wire larger than the underlay MTU"
for sp in $sports; do
	[ "$sp" -ge 1024 ] || fail "source port $sp outside the ephemeral range"
done

mac2=$(ip -n v2$SUF link show eth0 | awk '/link\/ether/ { print $2 }')
ctl 1 mac vale0 >"$TMPD/mac.txt"
grep -q "^$mac2 .*vxlan:.* remote 198.18.42.2 " "$TMPD/mac.txt" ||
	fail "unm-ctl mac does not show $mac2 behind 198.18.42.2: $(cat "$TMPD/mac.txt")"
ctl 1 stats vale0 >"$TMPD/stats.txt"
grep -q "mtu 1450 (underlay 1500)" "$TMPD/stats.txt" || fail "inner MTU not shown as 1450: $(cat "$TMPD/stats.txt")"
grep -q "vxlan rx .* short 0 flags 0 bad_vni 0 bad_source 0 oversize 0" "$TMPD/stats.txt" ||
	fail "drops on clean traffic: $(grep 'vxlan rx' "$TMPD/stats.txt")"
rxcsum=$(grep -o "vxlan rx .* coalesced [0-9]* csum [0-9]*" "$TMPD/stats.txt" | awk '{ print $NF }')
[ "${rxcsum:-0}" -gt 0 ] ||
	fail "no partial inner checksum completed on RX (Linux peer with tx offload on): $(grep 'vxlan rx' "$TMPD/stats.txt")"
rxtso=$(grep -o "vxlan rx .* csum [0-9]* tso [0-9]*" "$TMPD/stats.txt" | awk '{ print $NF }')
echo "ok: $rxcsum partial inner checksums from the Linux VTEP completed, ${rxtso:-0} whole TSO frames taken as GSO"
echo "ok: $mac2 learned behind 198.18.42.2; $(grep 'vxlan tx' "$TMPD/stats.txt" | sed 's/^ *//')"
exit 0
