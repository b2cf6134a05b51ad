#!/bin/bash
# Description: AF_XDP port RX on veth. A counted burst sent from the peer
# namespace with AF_PACKET (frames of EtherType 0x88b5) is received by the
# port exactly, each frame starting at its buffer start with its payload
# intact, in native and in generic XDP mode, with short and 1400-byte
# frames.
. tests/lib/afxdp-netns.inc
veth_up 1
for mode in native generic; do
	for len in 60 1400; do
		rm -f "$TMPD/rx"
		UNM_AFXDP_XDP=$mode ip netns exec "$NSA" "$HELPER" rx afxdp:va 500 10 > "$TMPD/rx" 2>&1 &
		pid=$!
		PIDS+=($pid)
		wait_for "$TMPD/rx" ready || fail "$mode: receiver not ready: $(cat "$TMPD/rx")"
		in_b "$HELPER" pktsend vb 500 $len > /dev/null || fail "pktsend"
		wait $pid; rc=$?
		grep -E '^(mode|received)' "$TMPD/rx"
		[ $rc = 0 ] || fail "$mode len $len: $(cat "$TMPD/rx")"
		grep -q "copy, $mode XDP" "$TMPD/rx" || fail "$mode: wrong mode"
	done
done
echo "ok: 500-frame bursts received exactly, native and generic"
