#!/bin/bash
# Description: malformed and spoofed VXLAN datagrams from the underlay.
# Host 1 is unetmap (vxlan:198.18.42.2@conf:vni=42,learn=64); host 2
# (its configured remote) and host 3 (not a remote) send, with a Python
# UDP socket: datagrams too short for a VXLAN and an Ethernet header, the
# I flag clear, VNI 43, a valid datagram from host 3 (spoofed source), and
# an inner frame of 2000 bytes (more than the inner MTU allows), and one
# of 2000 bytes that starts as IPv4 TCP but whose IP length lies (only a
# well-formed TCP frame may pass as a whole TSO frame). Each is
# counted under its reason and dropped: VM 1's tap receives nothing, the
# switch learns nothing from them, unmd keeps running. Then host 2 sends
# 3000 valid frames from 3000 source MACs: the port's learning table
# stays at its limit of 64 (learn_full counts the rest), and a ping across
# the overlay (to a Linux VM behind host 2) still works.
. "$(dirname "$0")/../lib/vxlan.inc"
command -v python3 >/dev/null || skip "python3 not installed"
command -v tcpdump >/dev/null || skip "tcpdump not installed"
hosts 3
unetmap_host 1 "vxlan:198.18.42.2@conf:vni=42,local=198.18.42.1,learn=64"
linux_host 2 198.18.42.1 198.18.42.2
vm_ping 1 2 || fail "no ping across the overlay before the attack"

# send HOST KIND COUNT: KIND short|flags|vni|good|big|biglie|macs
send() {
	ip netns exec h$1$SUF python3 - "$2" "$3" <<'PY'
import socket, struct, sys
kind, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
def frame(src=b"\x02\x00\x00\x00\x00\x99", size=60):
    f = b"\xff\xff\xff\xff\xff\xff" + src + b"\x88\xb5"
    return f + bytes(size - len(f))
def tcp_lie(size=2000):
    f = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x98" + b"\x08\x00"
    f += struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0,
                     bytes([10, 42, 0, 9]), bytes([10, 42, 0, 1])) + bytes(20)
    return f + bytes(size - len(f))
def hdr(flags=0x08, vni=42):
    return struct.pack("!B3xI", flags, vni << 8)
for i in range(n):
    if kind == "short": d = bytes(i % 22)
    elif kind == "flags": d = hdr(flags=0x00) + frame()
    elif kind == "vni": d = hdr(vni=43) + frame()
    elif kind == "good": d = hdr() + frame(b"\x02\x00\x00\x00\x00\x33")
    elif kind == "big": d = hdr() + frame(size=2000)
    elif kind == "biglie": d = hdr() + tcp_lie()
    elif kind == "macs": d = hdr() + frame(b"\x02\x77" + struct.pack("!I", i))
    s.sendto(d, ("198.18.42.1", 4789))
PY
}

# every test frame has EtherType 0x88b5 (local experimental): VM 1 must see none
ip netns exec v1$SUF tcpdump -U -ni vt1 -w "$TMPD/v1.pcap" ether proto 0x88b5 >/dev/null 2>&1 &
TD=$!
PIDS+=($TD)
for ((i = 0; i < 200; i++)); do [ -s "$TMPD/v1.pcap" ] && break; sleep 0.02; done
send 2 short 22
send 2 flags 10
send 2 vni 10
send 3 good 10
send 2 big 5
send 2 biglie 5
sleep 0.5
for r in short flags bad_vni bad_source oversize; do
	v=$(vx_stat 1 $r)
	echo "dropped $r: $v"
	eval "c_$r=\${v:-0}"
done
[ "$c_short" = 22 ] || fail "short: $c_short, expected 22"
[ "$c_flags" = 10 ] || fail "flags: $c_flags, expected 10"
[ "$c_bad_vni" = 10 ] || fail "bad_vni: $c_bad_vni, expected 10"
[ "$c_bad_source" = 10 ] || fail "bad_source: $c_bad_source, expected 10"
[ "$c_oversize" = 10 ] || fail "oversize: $c_oversize, expected 10"
kill $TD; wait $TD 2>/dev/null
got=$(tcpdump -nr "$TMPD/v1.pcap" 2>/dev/null | wc -l)
[ "$got" = 0 ] || fail "VM 1 received $got frames from bad datagrams"
ctl 1 mac vale0 | grep -q "02:00:00:00:00:33\|02:00:00:00:00:99\|02:00:00:00:00:98" && fail "a bad datagram's source was learned"

send 2 macs 3000
sleep 0.5
n=$(vx_stat 1 learned) full=$(vx_stat 1 learn_full)
echo "after 3000 source MACs: $n learned (limit 64), learn_full $full"
[ "$n" -le 64 ] || fail "the learning table grew to $n entries (limit 64)"
[ "${full:-0}" -gt 0 ] || fail "learn_full did not count the refused sources"
ip netns exec v1$SUF ip neigh flush all
vm_ping 1 2 || fail "no ping across the overlay after the attack"
[ -S "$TMPD/unmd1.sock" ] && ctl 1 list >/dev/null || fail "unmd no longer answers"
exit 0
