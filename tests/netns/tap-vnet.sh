#!/bin/bash
# Description: tap with a 10- and a 12-byte virtio-net header (@conf:vnet=):
# the header is carried as the first vnet_hdr_len bytes of each slot and
# passed through untouched. A frame written with an all-zero header arrives
# intact on the Linux side (same bytes, same length), and a frame Linux
# sends arrives with the header in front and the frame intact after it.
. "$(dirname "$0")/../lib/backends.inc"
[ -c /dev/net/tun ] || skip "tap: /dev/net/tun not present"
N=500
NS=unmvn$SUF
new_ns $NS
for V in 10 12; do
	T=unmv$V$SUF
	in_ns $NS ip tuntap add dev $T mode tap vnet_hdr || skip "cannot create tap devices"
	in_ns $NS ip link set $T up
	# port -> Linux (also a 1400-byte frame length)
	for L in 60 1400; do
		bg $NS "$BURST" rawrx $T $N -l $L -w 8000 -r $TMPD/r$V$L; P=$LASTPID
		wait_file $TMPD/r$V$L
		in_ns $NS "$BURST" tx "tap:$T@conf:vnet=$V" $N -v $V -l $L -b 50 -g 500 ||
			fail "vnet=$V tx"
		expect_ok $P "vnet=$V len=$L: Linux did not get $N intact frames"
	done
	# Linux -> port
	bg $NS "$BURST" rx "tap:$T@conf:vnet=$V" $N -v $V -w 8000 -r $TMPD/x$V; P=$LASTPID
	wait_file $TMPD/x$V
	in_ns $NS "$BURST" rawtx $T $N -b 50 -g 1000 || fail rawtx
	expect_ok $P "vnet=$V: port did not receive $N frames with the header in front"
	echo "vnet=$V: ok both ways"
done
exit 0
