#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: unm-pktgen's fixed-frame sender writes each TX buffer once
# and afterwards only sets slot lengths (as pkt-gen does), and every frame
# still leaves with the whole frame: 3000 frames (three passes over the
# ring) through a lossless vale0 all arrive byte for byte equal to the
# expected frame, and the sender says only the first pass wrote buffers.
# Where buffers move (a trust-domain switch swaps them between rings, a
# pipe too) the sender notices and writes every frame, and the receiver
# again sees only whole, equal frames.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/ctl-unmd.inc pktgen-fixed
N=3000

# frames FILE: one line per frame dumped by -X (its bytes in hex)
frames() {
	awk '/^rx thread/ { if (f != "") print f; f = ""; next }
	     /^  [0-9a-f][0-9a-f][0-9a-f][0-9a-f]  / { for (i = 2; i <= 17 && $i ~ /^[0-9a-f][0-9a-f]$/; i++) f = f $i }
	     END { if (f != "") print f }' "$1"
}

# check TAG: the receiver got N frames, all equal, and the frame is the
# default one (broadcast, IPv4 UDP 10.0.0.1:1234 -> 10.1.0.1:1234, 60 bytes)
check() {
	local tag=$1 n u
	grep -q "^Received $N packets" "$T/$tag-rx.dump" || tail -1 "$T/$tag-rx.dump" >> "$T/$tag-rx.txt" || true
	grep -q "^Received $N packets" "$T/$tag-rx.dump" || fail "$tag: receiver did not get $N frames"
	n=$(frames "$T/$tag-rx.dump" | wc -l)
	[ "$n" = $N ] || fail "$tag: $n frames dumped, not $N"
	u=$(frames "$T/$tag-rx.dump" | sort -u)
	[ "$(echo "$u" | wc -l)" = 1 ] || fail "$tag: the frames differ: $(echo "$u" | sort | uniq -c | head)"
	[ ${#u} = 120 ] || fail "$tag: frame of ${#u} hex digits, not 120"
	case $u in
	ffffffffffff????????????08004500002e????40004011????0a0000010a01000104d204d2001a0000756e65746d6170*)
		;;
	*) fail "$tag: not the default frame: $u" ;;
	esac
}

# run TAG RXPORT TXPORT: receiver first (dumping), then the sender
run() {
	local tag=$1 rx
	timeout 60 "$B/unm-pktgen" -f rx -i "$2" -n $N -X -T 0 > "$T/$tag-rx.dump" 2> "$T/$tag-rx.txt" &
	rx=$!
	PIDS+=($rx)
	sleep 0.3
	timeout 60 "$B/unm-pktgen" -f tx -i "$3" -n $N -v -T 0 > "$T/$tag-tx.txt" 2>&1 ||
		fail "$tag: sender exit $?"
	wait $rx || fail "$tag: receiver exit $?"
}

# an isolated switch port: buffers stay in place, written once each
"$B/unm-ctl" switch add vale0 > "$T/ctl.txt" 2>&1 || fail "switch add"
"$B/unm-ctl" switch set vale0 lossless on >> "$T/ctl.txt" 2>&1 || fail "lossless on"
run csb vale0:r vale0:t
check csb
w=$(sed -n 's/.*: \([0-9]*\) of '$N' frames written in full.*/\1/p' "$T/csb-tx.txt")
[ -n "$w" ] || fail "csb: the sender did not say how many frames it wrote"
grep -q 'buffers move' "$T/csb-tx.txt" && fail "csb: buffers moved on an isolated port"
slots=$(timeout 10 "$B/unm-pktgen" -f rx -i vale0:probe -v -W -T 0 2>&1 |
	sed -n 's/.*, \([0-9]*\)\/[0-9]* slots,.*/\1/p')
[ -n "$slots" ] || fail "no slot count from -v"
[ "$w" -le "$slots" ] || fail "csb: $w frames written in full, more than the $slots TX slots"

# a trust domain: frames move by buffer swap, so every frame is written
"$B/unm-ctl" switch add vale1 >> "$T/ctl.txt" 2>&1 || fail "switch add vale1"
"$B/unm-ctl" switch set vale1 domains uid >> "$T/ctl.txt" 2>&1 || fail "domains uid"
"$B/unm-ctl" switch set vale1 lossless on >> "$T/ctl.txt" 2>&1 || fail "vale1 lossless on"
run dom vale1:r vale1:t
check dom
grep -q "buffers move on this port" "$T/dom-tx.txt" ||
	fail "dom: the sender did not notice buffers moving"

# a pipe (buffers swap between its ends)
P=pgff$$
run pipe "$P}0" "$P{0"
grep -qE 'not implemented|not built|Protocol not supported' "$T"/pipe-*.txt "$T"/pipe-rx.dump &&
	{ echo "SKIP: pipes are not available in this libunm"; exit 77; }
check pipe
echo PASS
