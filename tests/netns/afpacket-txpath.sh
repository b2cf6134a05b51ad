#!/bin/bash
# Description: the AF_PACKET port's TX path and its /T and /R binds, on a
# veth pair (peer in a second namespace):
#  1. "/T" opens only the TX socket: /proc/net/packet of the namespace shows
#     one socket, protocol 0, and the interface is not made promiscuous;
#     "/R" opens only the RX socket (ETH_P_ALL) and does make it promiscuous;
#  2. "/T" sends exact, intact frames on both sides of the linear-copy
#     threshold (frames <= 2048 bytes go into linear skbs through the
#     virtio-net header, larger ones as a page fragment): 60, 2048, 2049
#     and 9000 bytes with MTU 9000, each counted and checked by a plain
#     packet socket on the peer.
. "$(dirname "$0")/../lib/backends.inc"
N=500
NA=unmatpa$SUF NB=unmatpb$SUF
VA=unmta$SUF VB=unmtb$SUF
veth_pair $NA $VA $NB $VB

promisc() { promisc_of $NA $VA; }
# protocol column of every packet socket in NA (hex, e.g. 0000, 0003)
protos() { in_ns $NA awk 'NR > 1 { print $4 }' /proc/net/packet | sort | tr '\n' ' '; }

# 1. which sockets each bind opens
bg $NA "$BURST" hold "afpacket:$VA/T" -w 4000 -r $TMPD/holdT; P=$LASTPID
wait_file $TMPD/holdT
[ "$(protos)" = "0000 " ] || fail "/T: packet sockets with protocols '$(protos)', expected one with 0"
[ "$(promisc)" = 0 ] || fail "/T: interface made promiscuous"
kill $P; wait $P 2>/dev/null
bg $NA "$BURST" hold "afpacket:$VA/R" -w 4000 -r $TMPD/holdR; P=$LASTPID
wait_file $TMPD/holdR
[ "$(protos)" = "0003 " ] || fail "/R: packet sockets with protocols '$(protos)', expected one with 0003"
[ "$(promisc)" = 1 ] || fail "/R: interface not promiscuous"
kill $P; wait $P 2>/dev/null
echo "binds: /T opens one TX socket, /R one RX socket"

# 2. exact, intact frames across the linear-copy threshold
in_ns $NA ip link set $VA mtu 9000
in_ns $NB ip link set $VB mtu 9000
for len in 60 2048 2049 9000; do
	before=$(ifstat $NB $VB rx_packets)
	bg $NB "$BURST" rawrx $VB $N -l $len -w 8000 -r $TMPD/r$len; P=$LASTPID
	wait_file $TMPD/r$len
	in_ns $NA "$BURST" tx "afpacket:$VA/T" $N -l $len -b 50 -g 500 || fail "$len: port tx"
	expect_ok $P "$len: peer did not see exactly $N intact frames"
	after=$(ifstat $NB $VB rx_packets)
	[ $((after - before)) = $N ] || fail "$len: peer rx_packets +$((after - before)), expected $N"
	echo "tx $len bytes: $N frames, exact and intact"
done
exit 0
