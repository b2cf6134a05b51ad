#!/bin/bash
# Description: AF_XDP port TX on veth. A counted burst sent from the port
# (afxdp:va) arrives at the peer vb exactly (vb's rx_packets counter in the
# peer namespace), in native (driver) XDP mode, in generic XDP mode, and
# on queue 1 of a two-queue veth (afxdp:va-1); no XDP program is left on
# va after each normal exit.
. tests/lib/afxdp-netns.inc
veth_up 1
for mode in native generic; do
	for len in 60 1500; do
		before=$(vb_rx)
		out=$(UNM_AFXDP_XDP=$mode in_a "$HELPER" tx afxdp:va 1000 $len 2>&1) ||
			fail "$mode tx: $out"
		echo "$out" | grep -E '^(mode|sent)'
		echo "$out" | grep -q "copy, $mode XDP" || fail "$mode: wrong mode: $out"
		d=$(( $(vb_rx) - before ))
		[ "$d" = 1000 ] || fail "$mode len $len: peer received $d of 1000"
		xdp_attached && fail "$mode: XDP program left on va"
	done
done
veth_up 2
before=$(vb_rx)
out=$(in_a "$HELPER" tx afxdp:va-1 500 2>&1) || fail "queue 1 tx: $out"
d=$(( $(vb_rx) - before ))
[ "$d" = 500 ] || fail "queue 1: peer received $d of 500"
xdp_attached && fail "queue 1: XDP program left on va"
echo "ok: 1000-frame bursts native and generic, 500 on queue 1"
