#!/bin/bash
# Description: the embedded AF_PACKET port on one end of a veth pair (its
# peer in a second namespace) moves exact frame counts both ways:
#  1. port TX: N frames raise the peer's rx_packets by exactly N and a
#     packet socket on the peer sees each one intact;
#  2. port RX: N frames sent from the peer arrive exactly once each;
#  3. frames larger than a buffer (bufsize=1024, 1400-byte frames) become
#     MOREFRAG chains on RX and are reassembled on TX, intact;
#  4. two ring pairs (PACKET_FANOUT hash) receive the exact count;
#  5. the interface is promiscuous while the port is open, not after;
#  6. a reader stopped (SIGSTOP) while the peer sends more than the
#     kernel's RX ring holds: every frame is delivered intact or counted
#     as dropped by the port (the kernel's drops, PACKET_STATISTICS).
. "$(dirname "$0")/../lib/backends.inc"
N=2000
NA=unmafa$SUF NB=unmafb$SUF
VA=unma$SUF VB=unmb$SUF
veth_pair $NA $VA $NB $VB

# promisc count is 0 now; the port adds one while open
promisc() { promisc_of $NA $VA; }
[ "$(promisc)" = 0 ] || fail "unexpected promiscuity before the test"

run_case() { # what port-name len rings
	local what=$1 port=$2 len=$3
	# port TX -> peer
	local before=$(ifstat $NB $VB rx_packets)
	bg $NB "$BURST" rawrx $VB $N -l $len -w 8000 -r $TMPD/t$what; local P=$LASTPID
	wait_file $TMPD/t$what
	in_ns $NA "$BURST" tx "$port" $N -l $len -b 64 -g 500 || fail "$what: port tx"
	expect_ok $P "$what: peer did not see exactly $N intact frames"
	local after=$(ifstat $NB $VB rx_packets)
	[ $((after - before)) = $N ] || fail "$what: peer rx_packets +$((after - before)), expected $N"
	# peer -> port RX
	bg $NA "$BURST" rx "$port" $N -l $len -w 8000 -r $TMPD/r$what; P=$LASTPID
	wait_file $TMPD/r$what
	[ "$(promisc)" = 1 ] || fail "$what: interface not promiscuous while the port is open"
	in_ns $NB "$BURST" rawtx $VB $N -l $len -b 50 -g 1000 || fail "$what: rawtx"
	expect_ok $P "$what: port did not receive exactly $N frames"
	echo "$what: $N frames each way, exact"
}
run_case basic afpacket:$VA 60
in_ns $NA ip link set $VA mtu 1500
run_case chains "afpacket:$VA@conf:bufsize=1024" 1400
run_case fanout "afpacket:$VA@conf:rings=2" 60
[ "$(promisc)" = 0 ] || fail "interface still promiscuous after the port closed"

# 6: the ring holds 16 blocks, each handed over after 1 ms: 50 frames per
# ms overflow it within 20 ms while the reader is stopped
NL=4000
bg $NA "$BURST" rx afpacket:$VA $NL -L -w 8000 -r $TMPD/rloss; P=$LASTPID
wait_file $TMPD/rloss
kill -STOP $P
in_ns $NB "$BURST" rawtx $VB $NL -b 50 -g 1000 || { kill -CONT $P; fail "loss: rawtx"; }
kill -CONT $P
expect_ok $P "loss: frames lost without being counted"
exit 0
