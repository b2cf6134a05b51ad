#!/bin/bash
# Description: attached ports of one switch are one domain (#16 item 6):
# two taps attached to vale0 take their buffers from the switch's shared
# pool (unm-ctl flag "pooled") and every frame between them moves by
# buffer swap: after pings of many sizes and patterns (ICMP checksums
# checked by the receiving kernel), an 8 MiB TCP transfer whose SHA-256
# must match at the far end (64 KiB TSO frames: MOREFRAG chains with a
# virtio-net header) and a second pair of taps without vnet headers on a
# lossless switch (pings and a ping flood),
# each port's tx_swapped is > 0 and equals its tx_delivered (zero
# copies). A monitor of one tap still gets its frames (copies, bytes
# intact). A third tap with vnet 0 on the first pair's switch is copied
# to (header conversion: no swap). Detaching all ports gives every
# buffer back (no "not the pool's" warning). Before the shared pool,
# tx_swapped did not exist and every delivery was a copy. unmd and the
# taps live in namespaces with a random suffix, removed on exit; SKIP
# without root, python3 or /dev/net/tun.
set -u
B=${B:-build}
UNMD=$PWD/$B/unmd
CTL=$PWD/$B/unm-ctl
CAP=$PWD/$B/unm-capture
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; [ -n "${TMPD:-}" ] && tail -5 "$TMPD/unmd.log" 2>/dev/null; exit 1; }
[ "$(id -u)" = 0 ] || skip "needs root (CAP_NET_ADMIN) for network namespaces"
for c in ip python3 sha256sum; do command -v $c >/dev/null || skip "$c not installed"; done
[ -c /dev/net/tun ] || skip "tap: /dev/net/tun not present"
[ -x "$UNMD" ] && [ -x "$CTL" ] && [ -x "$CAP" ] || skip "unmd/unm-ctl/unm-capture not built"
NS_TAG=uas
. "$(dirname "$0")/../lib/unmd-3ns.inc"

plug() { # SWITCH NS TAP ADDR [@conf...]
	ctl attach "$1" "tap:$3${5:-}" >/dev/null || fail "attach tap:$3${5:-} to $1"
	ip -n $NS0 link set "$3" netns "$2" || fail "cannot move $3 into $2"
	ip -n "$2" addr add "$4/24" dev "$3"
	ip -n "$2" link set "$3" up
}
# field SWITCH TAP KEY: KEY of the port item tap:TAP in `unm-ctl -j stats SWITCH`
field() {
	ctl -j stats "$1" | tr '{' '\n' | grep "\"name\":\"tap:$2\"" |
		grep -o "\"$3\":[0-9]*" | head -1 | cut -d: -f2
}
flags_of() {
	ctl -j stats "$1" | tr '{' '\n' | grep "\"name\":\"tap:$2\"" |
		grep -o '"flags":"[^"]*"' | head -1
}
# zero_copy SWITCH TAP...: every delivery of each TAP was a swap, some were
zero_copy() {
	local sw=$1 t d s
	shift
	for t in "$@"; do
		# one snapshot: frames may still be moving (a late reply)
		ctl -j stats $sw | tr '{' '\n' | grep "\"name\":\"tap:$t\"" >"$TMPD/snap"
		d=$(grep -o '"tx_delivered":[0-9]*' "$TMPD/snap" | head -1 | cut -d: -f2)
		s=$(grep -o '"tx_swapped":[0-9]*' "$TMPD/snap" | head -1 | cut -d: -f2)
		echo "$sw tap:$t: delivered ${d:-?} swapped ${s:-?}"
		[ -n "$d" ] && [ -n "$s" ] || fail "no counters for tap:$t"
		[ "$s" -gt 0 ] || fail "tap:$t: no frame moved by swap"
		[ "$s" = "$d" ] || fail "tap:$t: $((d - s)) of $d deliveries copied"
	done
}
pings() { # NS DST: sizes across one and several buffers, patterns
	local s
	for s in 0 18 56 200 1000 1472 2100 4000 8000 30000 65000; do
		ip netns exec "$1" ping -c 2 -i 0.2 -W 2 -s $s -p "a5$(printf %02x $((s % 256)))c3" "$2" \
			>/dev/null || fail "ping -s $s to $2 lost or corrupted"
	done
}

A=sa$SUF B2=sb$SUF
plug vale0 $NS1 $A 10.81.0.1
plug vale0 $NS2 $B2 10.81.0.2
for t in $A $B2; do
	flags_of vale0 $t | grep -q pooled || fail "tap:$t not in the switch's pool: $(flags_of vale0 $t)"
done

# a monitor of tap A: copies, intact (started before the traffic)
UNM_SOCKET=$SOCK timeout 30 ip netns exec $NS0 "$CAP" -i "monitor:vale0:tap:$A" -w "$TMPD/mon.pcap" \
	-c 4 -q icmp >/dev/null 2>"$TMPD/cap.err" &
cap=$!
PIDS+=($cap)
sleep 0.5
ip netns exec $NS1 ping -c 2 -i 0.2 -W 2 -s 300 -p 5aa5f00f 10.81.0.2 >/dev/null ||
	fail "no ping through vale0"
pings $NS1 10.81.0.2
wait $cap || fail "monitor of tap:$A got no 4 ICMP frames: $(cat "$TMPD/cap.err")"
od -An -tx1 -v "$TMPD/mon.pcap" | tr -d ' \n' | grep -q "5aa5f00f5aa5f00f5aa5f00f" ||
	fail "the monitor's copies lack the ping payload"

# 8 MiB over TCP (TSO/GSO frames of up to 64 KiB), checked end to end
head -c 8388608 /dev/urandom >"$TMPD/data"
want=$(sha256sum <"$TMPD/data" | cut -d' ' -f1)
ip netns exec $NS2 timeout 60 python3 -c '
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.81.0.2", 5301)); s.listen(1); open(sys.argv[1], "w").close()
c, _ = s.accept(); h = hashlib.sha256()
while True:
    b = c.recv(1 << 20)
    if not b: break
    h.update(b)
print(h.hexdigest())' "$TMPD/listening" >"$TMPD/got" 2>&1 &
srv=$!
PIDS+=($srv)
for ((i = 0; i < 500; i++)); do [ -e "$TMPD/listening" ] && break; sleep 0.02; done
ip netns exec $NS1 timeout 60 python3 -c '
import socket, sys
c = socket.create_connection(("10.81.0.2", 5301)); c.sendall(open(sys.argv[1], "rb").read())
c.close()' "$TMPD/data" || fail "TCP transfer failed"
wait $srv
got=$(cat "$TMPD/got")
[ "$got" = "$want" ] || fail "TCP data corrupted through the swap: $got != $want"
gso=$(ctl -j offload vale0 | grep -o '"gso_in":[0-9]*' | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }')
echo "8 MiB over TCP intact, GSO frames $gso"
[ "$gso" -gt 0 ] || fail "no GSO frame: the MOREFRAG/vnet swap path was not taken"
zero_copy vale0 $A $B2

# without vnet headers (vale1, lossless: reservations count the swapped
# slots): the plain swap path
C=sc$SUF D=sd$SUF
ctl switch add vale1 >/dev/null || fail "switch add vale1"
ctl switch set vale1 lossless on >/dev/null || fail "lossless on"
plug vale1 $NS1 $C 10.82.0.1 "@conf:vnet=0"
plug vale1 $NS2 $D 10.82.0.2 "@conf:vnet=0"
pings $NS1 10.82.0.2
ip netns exec $NS1 ping -q -f -c 3000 -s 1000 10.82.0.2 >"$TMPD/flood" 2>&1 ||
	fail "ping -f through lossless vale1: $(tail -2 "$TMPD/flood")"
zero_copy vale1 $C $D

# a third tap on vale0 without a header: frames toward it need a header
# stripped, so they are copied; it is still pooled
E=se$SUF
ctl attach vale0 "tap:$E@conf:vnet=0" >/dev/null || fail "attach tap:$E"
ip -n $NS0 link set $E netns $NS1 && ip -n $NS1 link set $E up
ip netns exec $NS1 ping -c 2 -W 1 -b 10.81.0.255 >/dev/null 2>&1 # floods reach it
d=$(field vale0 $E rx_frames)
echo "vale0 tap:$E (vnet 0): rx ${d:-?} frames"
[ "${d:-0}" -gt 0 ] || fail "the vnet-0 tap got no flood"
ctl -j stats vale0 | tr '{' '\n' | grep "\"name\":\"tap:$A\"" >"$TMPD/snap"
dl=$(grep -o '"tx_delivered":[0-9]*' "$TMPD/snap" | head -1 | cut -d: -f2)
sw=$(grep -o '"tx_swapped":[0-9]*' "$TMPD/snap" | head -1 | cut -d: -f2)
[ "$sw" -lt "$dl" ] || fail "frames toward a vnet-0 port were swapped (no header conversion)"

for t in $A $B2 $E; do ctl detach vale0 "tap:$t" >/dev/null || fail "detach tap:$t"; done
for t in $C $D; do ctl detach vale1 "tap:$t" >/dev/null || fail "detach tap:$t"; done
! grep -q "not the pool's" "$TMPD/unmd.log" || fail "buffers lost: $(grep "not the pool's" "$TMPD/unmd.log")"
exit 0
