#!/bin/bash
# Description: a tap attached by its plain name (`unm-ctl attach vale0
# tap:NAME`, no @conf) negotiates the 12-byte virtio-net header with TSO
# and checksum offloads by default: `unm-ctl -j list` reports vnet 12 for
# both taps, iperf3 TCP tap <-> vale0 <-> tap moves data and 64 KiB GSO
# frames cross the switch unsegmented (gso_in > 0). A tap attached as
# tap:NAME@conf:vnet=0 reports vnet 0 (offloads off). Before offloads
# were the default, the plain name gave vnet 0 and no GSO frame. unmd and
# the taps live in namespaces with a random suffix, removed on exit; SKIP
# without root, iperf3 or /dev/net/tun.
set -u
B=${B:-build}
UNMD=$PWD/$B/unmd
CTL=$PWD/$B/unm-ctl
T=${IPERF_T:-2}
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || skip "needs root (CAP_NET_ADMIN) for network namespaces"
for c in ip iperf3; do command -v $c >/dev/null || skip "$c not installed"; done
[ -c /dev/net/tun ] || skip "tap: /dev/net/tun not present"
[ -x "$UNMD" ] && [ -x "$CTL" ] || skip "unmd/unm-ctl not built"
NS_TAG=unmd
. "$(dirname "$0")/../lib/unmd-3ns.inc"

plug() { # NS TAP ADDR NAME-SUFFIX
	ctl attach vale0 "tap:$2$4" >/dev/null || fail "attach tap:$2$4: $(tail -3 "$TMPD/unmd.log")"
	ip -n $NS0 link set "$2" netns "$1" || fail "cannot move $2 into $1"
	ip -n "$1" addr add "$3/24" dev "$2"
	ip -n "$1" link set "$2" up
}
# vnet_of TAP: the vnet header length unm-ctl lists for the port named tap:TAP*
vnet_of() {
	ctl -j list | tr '{' '\n' | grep "\"tap:$1" | grep -o '"vnet_hdr_len":[0-9]*' |
		head -1 | cut -d: -f2
}
counter() {
	ctl -j offload vale0 | grep -o "\"$1\":[0-9]*" | cut -d: -f2 |
		awk '{ s += $1 } END { print s + 0 }'
}

A=ta$SUF B2=tb$SUF
plug $NS1 $A 10.79.0.1 ""
plug $NS2 $B2 10.79.0.2 ""
va=$(vnet_of $A) vb=$(vnet_of $B2)
echo "default: tap:$A vnet ${va:-?}, tap:$B2 vnet ${vb:-?}"
[ "$va" = 12 ] && [ "$vb" = 12 ] || fail "a plainly attached tap has no vnet header (vnet ${va:-?}/${vb:-?})"

ip netns exec $NS2 iperf3 -s -1 -B 10.79.0.2 >/dev/null 2>&1 &
PIDS+=($!)
for ((i = 0; i < 200; i++)); do
	ip netns exec $NS2 ss -ltn 2>/dev/null | grep -q 10.79.0.2:5201 && break
	sleep 0.02
done
ip netns exec $NS1 ping -c 1 -W 2 10.79.0.2 >/dev/null || fail "no ping through vale0"
g0=$(counter gso_in)
ip netns exec $NS1 timeout $((T + 15)) iperf3 -c 10.79.0.2 -t "$T" -f m >"$TMPD/iperf" 2>&1 ||
	fail "iperf3 failed: $(tail -3 "$TMPD/iperf")"
g1=$(counter gso_in)
r=$(awk '/receiver/ { print $(NF-2), $(NF-1) }' "$TMPD/iperf")
echo "iperf3 tap <-> vale0 <-> tap, default: $r, gso_in $((g1 - g0))"
[ -n "$r" ] || fail "iperf3 printed no receiver rate: $(tail -3 "$TMPD/iperf")"
[ $((g1 - g0)) -gt 0 ] || fail "no GSO frame crossed the switch: offloads not negotiated"

# an existing tap: unm-ctl opens it and hands the fd over (same default)
E=te$SUF
ip -n $NS0 tuntap add dev $E mode tap || fail "ip tuntap add $E"
ctl attach vale0 "tap:$E" >/dev/null || fail "attach existing tap:$E: $(tail -3 "$TMPD/unmd.log")"
ve=$(vnet_of $E)
echo "existing tap:$E: vnet ${ve:-?}"
[ "$ve" = 12 ] || fail "an existing tap attached plainly has vnet ${ve:-?}"

C=tc$SUF
ctl attach vale0 "tap:$C@conf:vnet=0" >/dev/null || fail "attach tap:$C@conf:vnet=0"
vc=$(vnet_of $C)
echo "tap:$C@conf:vnet=0: vnet ${vc:-?}"
[ "$vc" = 0 ] || fail "@conf:vnet=0 did not turn the header off (vnet ${vc:-?})"
exit 0
