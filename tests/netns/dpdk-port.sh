#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: dpdk: ports through Debian's DPDK (the plugin libunm-dpdk.so),
# without hugepages. 1) A process opens dpdk:net_null0 itself: unm-pktgen
# sends 200,000 frames into it and receives 100,000 frames of 3,000 bytes
# (MOREFRAG chains of 2 KiB buffers, copied: @conf:zerocopy=0) from it,
# counts exact (tests/mp/dpdk-zerocopy checks zero copy itself). 2) unmd
# attaches dpdk:net_af_packet0,iface=VETH (DPDK's AF_PACKET driver) to
# vale0 beside an afpacket: port; namespaces A and B behind the two veths
# ping each other both ways and unm-ctl shows A's MAC learned on the dpdk
# port; detached and attached again, it still forwards. 3) A device name
# DPDK does not know is refused with a message. 4) dpdk:net_memif0 as a
# client of testpmd memif servers: unm-pktgen receives 100,000 of 100,000
# frames from a txonly one, and an rxonly one sees unm-pktgen's frames.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/backends.inc
. tests/lib/unmd.inc
PKTGEN=$PWD/$B/unm-pktgen
export UNM_DPDK_PLUGIN=$PWD/$B/libunm-dpdk.so
[ -f "$UNM_DPDK_PLUGIN" ] || skip "$UNM_DPDK_PLUGIN not built (./configure found no libdpdk: apt-get install dpdk-dev)"
command -v ping >/dev/null || skip "ping not installed"
[ -e /usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0/librte_net_null.so ] ||
	ls /usr/lib/*/dpdk/pmds-*/librte_net_null.so >/dev/null 2>&1 ||
	skip "DPDK's net_null driver is not installed (librte-net-null)"

# 1. a process's own dpdk: port
out=$(timeout 60 "$PKTGEN" -f tx -i dpdk:net_null0 -n 200000 2>&1) ||
	{ echo "$out"; fail "unm-pktgen tx over dpdk:net_null0"; }
echo "$out" | grep -q "^Sent 200000 packets" || { echo "$out"; fail "tx count"; }
# (zerocopy=0: net_null says its frames are 3000 bytes long without
# writing them, and a 3000-byte frame cannot be in the 2 KiB region buffer
# a zero-copy mbuf has: that port drops them as bad lengths)
out=$(timeout 60 "$PKTGEN" -f rx -i dpdk:net_null0,size=3000@conf:zerocopy=0 -n 100000 2>&1) ||
	{ echo "$out"; fail "unm-pktgen rx over dpdk:net_null0"; }
echo "$out" | grep -q "^Received 100000 packets 300000000 bytes" ||
	{ echo "$out"; fail "rx of 3000-byte frames: count or bytes wrong"; }
echo "net_null: 200000 frames sent, 100000 x 3000 bytes received"

# 3. an unknown device
out=$(timeout 30 "$PKTGEN" -f rx -i dpdk:net_nosuchdriver0 -n 1 2>&1) &&
	fail "an unknown DPDK device opened"
echo "$out" | grep -q "no device 'net_nosuchdriver0'" || { echo "$out"; fail "unclear error"; }

# 4. dpdk:net_memif0 (a client) against testpmd memif servers. testpmd's
# memif counters restart at every disconnect, so the exact count is taken
# on our side: a txonly server's frames received by unm-pktgen; then
# unm-pktgen sends to an rxonly server, which must see them arrive.
memif_server() { # MODE SOCKET LOG
	dpdk-testpmd --no-huge --no-pci -m 256 --single-file-segments --file-prefix=unmt$SUF \
		--lcores=0@0,1@0 --vdev="net_memif0,socket=$2,socket-abstract=no,role=server" -- \
		--forward-mode="$1" --stats-period=1 --total-num-mbufs=16384 > "$3" 2>&1 &
	SRV=$!
	PIDS+=($SRV)
	# its first statistics block: the port is up (an earlier client can
	# abort testpmd's memif server)
	for ((i = 0; i < 200; i++)); do grep -aq ' RX-packets:' "$3" && return; sleep 0.05; done
}
memif_client() { # SOCKET pktgen-args...
	local sock=$1
	shift
	UNM_DPDK_EAL="--no-huge -m 128 --no-shconf --no-telemetry --no-pci --file-prefix=unmc$SUF" \
		timeout 60 "$PKTGEN" -T 0 -i "dpdk:net_memif0,socket=$sock,socket-abstract=no,role=client" "$@"
}
if command -v dpdk-testpmd >/dev/null; then
	memif_server txonly "$TMPD/m1.sock" "$TMPD/srv1.log"
	out=$(memif_client "$TMPD/m1.sock" -f rx -n 100000 2>&1) ||
		{ echo "$out"; fail "unm-pktgen rx over dpdk:net_memif0"; }
	kill -INT $SRV 2>/dev/null; wait $SRV 2>/dev/null
	echo "$out" | grep -q "^Received 100000 packets 6400000 bytes" ||
		{ echo "$out"; fail "testpmd txonly -> dpdk:net_memif0: count or bytes wrong"; }
	memif_server rxonly "$TMPD/m2.sock" "$TMPD/srv2.log"
	out=$(memif_client "$TMPD/m2.sock" -f tx -R 100000 -n 200000 2>&1) ||
		{ echo "$out"; fail "unm-pktgen tx over dpdk:net_memif0"; }
	kill -INT $SRV 2>/dev/null; wait $SRV 2>/dev/null
	rm -rf /var/run/dpdk/unmt$SUF
	max=$(grep -a ' RX-packets:' "$TMPD/srv2.log" | awk '$2 > m {m = $2} END {print m + 0}')
	[ "$max" -gt 0 ] || { tail -20 "$TMPD/srv2.log"; fail "testpmd rxonly saw none of our frames"; }
	echo "dpdk:net_memif0: 100000 of 100000 frames from testpmd; testpmd counted $max of ours"
else
	echo "dpdk:net_memif0: not run (dpdk-testpmd not installed)"
fi

# 2. attached to a switch by unmd
hosts_behind_switch 10.78.0
start_unmd "$S"
"$CTL" attach vale0 "dpdk:net_af_packet0,iface=va$SUF" 2> "$TMPD/att.err" ||
	{ cat "$TMPD/att.err" "$TMPD/unmd.log"; fail "attach dpdk:net_af_packet0"; }
"$CTL" attach vale0 afpacket:vb$SUF || fail "attach afpacket:vb$SUF"
ok=0
for ((i = 0; i < 5; i++)); do  # the first ARP may race the ports' start
	in_ns "$A" ping -c 2 -i 0.2 -W 1 10.78.0.2 > "$TMPD/ping" 2>&1 && { ok=1; break; }
done
[ $ok = 1 ] || { cat "$TMPD/ping"; "$CTL" stats; fail "ping A -> B through the dpdk port"; }
in_ns "$B_" ping -c 3 -i 0.2 -W 2 10.78.0.1 > "$TMPD/ping" 2>&1 ||
	{ cat "$TMPD/ping"; fail "ping B -> A"; }
ma=$(ip -n "$A" -br link show eth0 | awk '{print $3}')
"$CTL" mac vale0 > "$TMPD/mac"
grep -i "$ma" "$TMPD/mac" | grep -q dpdk || { cat "$TMPD/mac"; fail "A's MAC not learned on the dpdk port"; }
# the attached ports' own backend counters reach unm-ctl stats: the dpdk
# port received by buffer swap (zero copy), the afpacket port counted frames
"$CTL" stats vale0 > "$TMPD/stats"
grep -A1 "backend dpdk:net_af_packet0" "$TMPD/stats" | grep -Eq "zero-copy tx [0-9]+ rx [1-9]" ||
	{ cat "$TMPD/stats"; fail "no zero-copy RX counted for the attached dpdk port in unm-ctl stats"; }
grep -Eq "backend afpacket:vb$SUF tx [1-9][0-9]* frames .* rx [1-9]" "$TMPD/stats" ||
	{ cat "$TMPD/stats"; fail "no backend counters for the attached afpacket port in unm-ctl stats"; }
"$CTL" detach vale0 "dpdk:net_af_packet0,iface=va$SUF" || fail "detach the dpdk port"
# the same device again in the same unmd (EAL is up; the device re-probed)
"$CTL" attach vale0 "dpdk:net_af_packet0,iface=va$SUF" 2> "$TMPD/att.err" ||
	{ cat "$TMPD/att.err"; fail "attach the dpdk port again after detach"; }
in_ns "$A" ping -c 2 -i 0.2 -W 2 10.78.0.2 > "$TMPD/ping" 2>&1 ||
	{ cat "$TMPD/ping"; fail "ping A -> B after re-attach"; }
echo "dpdk:net_af_packet0 on vale0: ping both ways, MAC learned, detached, attached again"
echo "PASS"
