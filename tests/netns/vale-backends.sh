#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: Linux's own stack on both sides, unetmap in the middle.
# Two namespaces (hosts A and B) are connected to vale0 in a private unmd
# running in a third namespace, first through AF_PACKET ports on veths,
# then through AF_XDP ports on the same veths, then through two tap ports
# (created by unmd, then moved into A and B). Each time: ping works both
# ways, iperf3 TCP completes, tcpdump in B sees A's frames, and the MAC
# table in unm-ctl shows both hosts; between the two afpacket ports and
# between the two taps every frame moves by buffer swap (the switch's
# shared pool), between the afxdp ports none does. Finally a backend
# whose interface is deleted errors that port only: the others keep
# forwarding.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/backends.inc
. tests/lib/unmd.inc
command -v ping >/dev/null || skip "ping not installed"
HAVE_IPERF=1; command -v iperf3 >/dev/null || HAVE_IPERF=0
HAVE_TCPDUMP=1; command -v tcpdump >/dev/null || HAVE_TCPDUMP=0

hosts_behind_switch 10.77.0
# Frames crossing a userspace switch must be real frames: no GSO/GRO
# super-packets and no partial checksums (the offload issue adds them for
# tap ports with virtio-net headers).
command -v ethtool >/dev/null || skip "ethtool not installed"
for nsif in "$A eth0" "$B_ eth0" "$S va$SUF" "$S vb$SUF"; do
	set -- $nsif
	ip netns exec "$1" ethtool -K "$2" tso off gso off gro off tx off rx off >/dev/null 2>&1
done
start_unmd "$S"

check_path() { # label
	local label=$1
	in_ns "$A" ping -c 3 -i 0.2 -W 2 10.77.0.2 > "$TMPD/ping1" 2>&1 ||
		{ cat "$TMPD/ping1"; "$CTL" stats; fail "$label: ping A->B"; }
	in_ns "$B_" ping -c 3 -i 0.2 -W 2 10.77.0.1 > "$TMPD/ping2" 2>&1 ||
		{ cat "$TMPD/ping2"; fail "$label: ping B->A"; }
	"$CTL" mac vale0 > "$TMPD/mac" || fail "$label: unm-ctl mac"
	local ma mb
	ma=$(ip -n "$A" -br link show eth0 | awk '{print $3}')
	mb=$(ip -n "$B_" -br link show eth0 | awk '{print $3}')
	[ "$label" = tap ] && ma=$(ip -n "$A" -br link show tA$SUF | awk '{print $3}') &&
		mb=$(ip -n "$B_" -br link show tB$SUF | awk '{print $3}')
	grep -qi "$ma" "$TMPD/mac" || { cat "$TMPD/mac"; fail "$label: MAC of A ($ma) not learned"; }
	grep -qi "$mb" "$TMPD/mac" || { cat "$TMPD/mac"; fail "$label: MAC of B ($mb) not learned"; }
	if [ $HAVE_TCPDUMP = 1 ]; then
		in_ns "$B_" timeout 5 tcpdump -n -c 2 -i "$2" icmp > "$TMPD/td" 2>&1 &
		local td=$!
		sleep 0.5
		in_ns "$A" ping -c 2 -i 0.2 -W 2 10.77.0.2 > /dev/null 2>&1
		wait $td || { cat "$TMPD/td"; fail "$label: tcpdump in B saw no ICMP"; }
	fi
	if [ $HAVE_IPERF = 1 ]; then
		in_ns "$B_" iperf3 -s -1 -p 5201 > "$TMPD/iperf-s" 2>&1 &
		local srv=$!
		sleep 0.3
		in_ns "$A" timeout 20 iperf3 -c 10.77.0.2 -p 5201 -t 2 > "$TMPD/iperf" 2>&1 ||
			{ cat "$TMPD/iperf"; kill $srv; fail "$label: iperf3"; }
		wait $srv
		echo "$label: $(grep -E 'receiver' "$TMPD/iperf" | tail -1 | awk '{print $7, $8}')"
	fi
	echo "$label: ping both ways, MAC table, tcpdump, iperf3 ok"
}

# swaps LABEL TYPE yes|no: every frame between the two TYPE ports moved by
# buffer swap (their type shares the switch's pool), or none did
swaps() {
	local d c
	"$CTL" -j stats vale0 | tr '{' '\n' | grep "\"name\":\"$2:" >"$TMPD/sw" ||
		fail "$1: no $2 ports in stats"
	d=$(grep -o '"tx_delivered":[0-9]*' "$TMPD/sw" | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }')
	c=$(grep -o '"tx_swapped":[0-9]*' "$TMPD/sw" | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }')
	echo "$1: delivered $d, swapped $c"
	if [ "$3" = yes ]; then
		[ "$c" -gt 0 ] && [ "$c" = "$d" ] || fail "$1: frames between pooled ports were copied"
	else
		[ "$c" = 0 ] || fail "$1: $c frames swapped into or out of a port that cannot take it"
	fi
}

# 1. AF_PACKET
"$CTL" attach vale0 afpacket:va$SUF || fail "attach afpacket:va$SUF"
"$CTL" attach vale0 afpacket:vb$SUF || fail "attach afpacket:vb$SUF"
check_path afpacket eth0
swaps afpacket afpacket yes
"$CTL" detach vale0 afpacket:va$SUF || fail "detach"
"$CTL" detach vale0 afpacket:vb$SUF || fail "detach"

# 2. AF_XDP (skipped with a reason if the build has no libxdp)
if "$CTL" attach vale0 afxdp:va$SUF 2> "$TMPD/xdp.err"; then
	"$CTL" attach vale0 afxdp:vb$SUF || fail "attach afxdp:vb$SUF"
	check_path afxdp eth0
	swaps afxdp afxdp no # UMEM buffers: not in the switch's pool
	"$CTL" detach vale0 afxdp:va$SUF; "$CTL" detach vale0 afxdp:vb$SUF
else
	grep -q "not built" "$TMPD/xdp.err" || { cat "$TMPD/xdp.err"; fail "attach afxdp"; }
	echo "afxdp: not built, part skipped"
fi

# 3. tap: unmd creates the taps in its namespace; move them into A and B.
"$CTL" attach vale0 tap:tA$SUF || fail "attach tap:tA$SUF"
"$CTL" attach vale0 tap:tB$SUF || fail "attach tap:tB$SUF"
ip -n "$S" link set tA$SUF netns "$A"; ip -n "$S" link set tB$SUF netns "$B_"
ip -n "$A" link set eth0 down; ip -n "$B_" link set eth0 down
ip -n "$A" addr flush dev eth0; ip -n "$B_" addr flush dev eth0
ip -n "$A" addr add 10.77.0.1/24 dev tA$SUF; ip -n "$A" link set tA$SUF up
ip -n "$B_" addr add 10.77.0.2/24 dev tB$SUF; ip -n "$B_" link set tB$SUF up
check_path tap tB$SUF
swaps tap tap yes

# 4. An interface disappears: that port errors, the taps keep forwarding.
"$CTL" attach vale0 afpacket:va$SUF || fail "re-attach afpacket"
ip -n "$S" link del va$SUF
sleep 0.5
in_ns "$A" ping -c 2 -i 0.2 -W 2 10.77.0.2 > /dev/null 2>&1 || fail "taps stopped forwarding after ip link del"
kill -0 "$UNMD_PID" 2>/dev/null || fail "unmd died"
"$CTL" list > "$TMPD/list" || fail "unm-ctl list after link del"
echo "interface deleted: unmd alive, others forwarding"
cat "$TMPD/list"
exit 0
