#!/bin/bash
# Description: @conf:rxcsum=trust on a vxlan port: inner TCP segments are
# coalesced on their headers alone (their checksums are not read), while
# the default (rxcsum=verify) coalesces only segments whose checksum is
# right. Hosts 1 (rxcsum=trust) and 3 (default) are unetmap, both with
# host 2 as their remote; from host 2 a Python UDP socket sends each of
# them, as one UDP GSO send (read as one GRO batch), VXLAN datagrams
# carrying 8 consecutive segments of one inner TCP flow whose checksums
# are wrong: host 1 coalesces them (rx_coalesced counts), host 3 passes
# them on one by one (rx_coalesced stays 0). Then a TCP transfer between
# two trusting hosts (1 and 2, host 2 unetmap too) still carries the data
# (iperf3, coalesced frames counted on the receiver), and an unknown
# rxcsum value is refused.
. "$(dirname "$0")/../lib/vxlan.inc"
command -v python3 >/dev/null || skip "python3 not installed"
hosts 3
unetmap_host 1 "vxlan:198.18.42.2@conf:vni=42,local=198.18.42.1,rxcsum=trust" "@conf:vnet=12"
unetmap_host 2 "vxlan:198.18.42.1,198.18.42.3@conf:vni=42,rxcsum=trust" "@conf:vnet=12"
unetmap_host 3 "vxlan:198.18.42.2@conf:vni=42,local=198.18.42.3" "@conf:vnet=12"
vm_ping 1 2 >/dev/null || fail "no ping across the overlay (trusting hosts)"
vm_ping 3 2 >/dev/null || fail "no ping across the overlay (trusting and verifying host)"

# send DST: 8 TCP segments (ACK, 1000 bytes each, consecutive sequence
# numbers, TCP checksum 0x0bad: wrong) from 10.42.0.99 to VM DST, one GSO send
send() {
	ip netns exec h2$SUF python3 - "$1" <<'PY'
import socket, struct, sys
dst = int(sys.argv[1])
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def seg(seq, n=1000):
    tcp = struct.pack("!HHIIBBHHH", 40000, 5201, seq, 1, 5 << 4, 0x10, 512, 0x0bad, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 20 + n, 7, 0x4000, 64, 6, 0,
                     bytes([10, 42, 0, 99]), bytes([10, 42, 0, dst]))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = b"\xff\xff\xff\xff\xff\xff" + b"\x02\x00\x00\x00\x00\x63" + b"\x08\x00"
    return struct.pack("!B3xI", 0x08, 42 << 8) + eth + ip + tcp + bytes(n)
d = [seg(1000 + 1000 * i) for i in range(8)]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(17, 103, len(d[0]))  # UDP_SEGMENT
s.sendto(b"".join(d), ("198.18.42.%d" % dst, 4789))
PY
}
for h in 1 3; do c0[$h]=$(vx_stat $h rx_coalesced); f0[$h]=$(vx_stat $h rx_frames); done
send 1 || skip "UDP_SEGMENT not supported by this kernel"
send 3
for h in 1 3; do
	for ((i = 0; i < 250; i++)); do
		[ $(($(vx_stat $h rx_frames) - ${f0[$h]})) -ge 8 ] && break
		sleep 0.02
	done
	c[$h]=$(($(vx_stat $h rx_coalesced) - ${c0[$h]}))
	f[$h]=$(($(vx_stat $h rx_frames) - ${f0[$h]}))
	echo "host $h: $((f[$h])) segments received, $((c[$h])) coalesced frame(s)"
done
[ ${f[1]} -ge 8 ] && [ ${f[3]} -ge 8 ] || fail "expected the 8 segments (and any other traffic) on hosts 1 and 3"
[ ${c[1]} -ge 1 ] || fail "rxcsum=trust did not coalesce segments with wrong checksums"
[ ${c[3]} = 0 ] || fail "rxcsum=verify coalesced segments with wrong checksums"

c0=$(vx_stat 2 rx_coalesced)
v=$(vm_iperf 1 2) || fail "iperf3 between trusting hosts failed"
c=$(($(vx_stat 2 rx_coalesced) - c0))
echo "iperf3 1 -> 2 with rxcsum=trust: $v Mbit/s, $c coalesced frames on host 2"
[ "$c" -gt 0 ] || fail "no coalesced frames on the trusting receiver"

ctl 1 attach vale1 "vxlan:198.18.42.2@conf:vni=43,port=4790,rxcsum=maybe" >"$TMPD/bad.out" 2>&1 &&
	fail "rxcsum=maybe was accepted"
grep -q "rxcsum" "$TMPD/bad.out" || fail "no reason given for rxcsum=maybe: $(cat "$TMPD/bad.out")"
exit 0
