#!/bin/bash
# Description: two unetmap hosts joined by VXLAN, first over an IPv4
# underlay, then over IPv6 (fd00:4242::/64), each host with its own unmd
# (own socket, started inside its namespace), vale0, a tap with virtio-net
# offloads (@conf:vnet=12) into its VM namespace and a vxlan port. Checks:
# ping and iperf3 TCP both ways on each underlay; TSO frames from the taps
# reached the vxlan port whole (the switch segmented none: offload
# segmented 0) and left as UDP GSO batches (tso_frames > 0, gso_sends > 0);
# the receiving port read UDP GRO batches and handed coalesced TCP up as
# GSO frames (gro_reads > 0, coalesced > 0); inner MTU 1450 on IPv4 and
# 1430 on IPv6; no datagram dropped; the tap and the vxlan port share
# the switch's buffer pool and every frame between them is swapped, not
# copied (tx_swapped == tx_delivered, both > 0).
. "$(dirname "$0")/../lib/vxlan.inc"
hosts 2
V4A="vxlan:198.18.42.2@conf:vni=42,local=198.18.42.1"
V4B="vxlan:198.18.42.1@conf:vni=42,local=198.18.42.2"
V6A="vxlan:fd00:4242::2@conf:vni=42,local=fd00:4242::1"
V6B="vxlan:fd00:4242::1@conf:vni=42,local=fd00:4242::2"
unetmap_host 1 "$V4A" "@conf:vnet=12"
unetmap_host 2 "$V4B" "@conf:vnet=12"

check_pair() { # LABEL
	vm_ping 1 2 || fail "$1: no ping 1 -> 2"
	vm_ping 2 1 -6 || fail "$1: no IPv6 ping 2 -> 1"
	r1=$(vm_iperf 1 2) || fail "$1: iperf3 1 -> 2 failed"
	r2=$(vm_iperf 2 1) || fail "$1: iperf3 2 -> 1 failed"
	echo "$1: iperf3 TCP 1 -> 2 $r1 Mbit/s, 2 -> 1 $r2 Mbit/s"
	for h in 1 2; do
		ctl $h stats vale0 >"$TMPD/st$h"
		grep -q "vxlan rx .* short 0 flags 0 bad_vni 0 bad_source 0 oversize 0" "$TMPD/st$h" ||
			fail "$1: host $h dropped datagrams: $(grep 'vxlan rx' "$TMPD/st$h")"
		for c in tx_gso_sends tx_gso_frames rx_gro rx_coalesced; do
			g=$(vx_stat $h $c)
			[ "${g:-0}" -gt 0 ] || fail "$1: host $h: vxlan $c is 0: $(grep vxlan "$TMPD/st$h")"
		done
		s=$(ctl $h -j offload vale0 | grep -o '"segmented":[0-9]*' | cut -d: -f2 |
			awk '{ s += $1 } END { print s + 0 }')
		[ "$s" = 0 ] || fail "$1: host $h: the switch segmented $s TSO frames (the vxlan port takes them whole)"
		# tap and vxlan port share the switch's pool: every frame swapped
		for t in tap vxlan; do
			ctl $h -j stats vale0 | tr '{' '\n' | grep "\"name\":\"$t:" >"$TMPD/sw$h"
			d=$(grep -o '"tx_delivered":[0-9]*' "$TMPD/sw$h" | cut -d: -f2)
			c=$(grep -o '"tx_swapped":[0-9]*' "$TMPD/sw$h" | cut -d: -f2)
			echo "$1: host $h: $t delivered ${d:-?} swapped ${c:-?}"
			[ "${c:-0}" -gt 0 ] && [ "$c" = "$d" ] ||
				fail "$1: host $h: frames from the $t port were copied"
		done
	done
}
check_pair ipv4
grep -q "mtu 1450 (underlay 1500)" "$TMPD/st1" || fail "IPv4: inner MTU not 1450"

for h in 1 2; do
	eval old=\$V4$( [ $h = 1 ] && echo A || echo B)
	eval new=\$V6$( [ $h = 1 ] && echo A || echo B)
	ctl $h detach vale0 "$old" >/dev/null || fail "detach $old"
	ctl $h attach vale0 "$new" >/dev/null || fail "attach $new"
done
# the inner MTU of an IPv6 underlay is 20 bytes smaller
for v in 1 2; do ip -n v$v$SUF link set vt$v mtu 1430; done
check_pair ipv6
grep -q "underlay ipv6\|ipv6 remotes" "$TMPD/st1" || fail "IPv6 underlay not shown"
grep -q "mtu 1430 (underlay 1500)" "$TMPD/st1" || fail "IPv6: inner MTU not 1430"
exit 0
