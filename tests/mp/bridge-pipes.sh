#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: unm-bridge between two pipes (separate regions: copy mode)
# forwards a sequence-checked stream both ways at once with zero loss and
# no reordering, MOREFRAG chains whole: peer1 <-> a{/a} <-bridge-> b{/b}
# <-> peer2, each peer sending N frames of 64..3000 bytes and checking the
# N it receives. Run twice: default batch with equal buffer sizes, and -c
# with -b 7 and 1024-byte buffers on one side (chains re-fragmented). The
# bridge ends by itself when both peers have left, exit 0, and its summary
# counts N frames each way and no drops.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tools.inc
need_prog "$BRIDGE"; need_prog "$PEER"
N=${N:-20000}

run_case() { # label conf-for-pipe-b bridge-options...
	local label=$1 conf=$2; shift 2
	local a=$(pname "$label")a b=$(pname "$label")b
	"$PEER" duplex "$a{0" -n $N -l 3000 > "$T/p1" 2>&1 & local p1=$!
	"$PEER" duplex "$b}0$conf" -n $N -l 3000 > "$T/p2" 2>&1 & local p2=$!
	PIDS+=($p1 $p2)
	timeout 40 "$BRIDGE" -i "$a}0" -i "$b{0$conf" "$@" 2> "$T/br" & local br=$!
	PIDS+=($br)
	wait $p1 || fail "$label: peer 1: $(cat "$T/p1")"
	wait $p2 || fail "$label: peer 2: $(cat "$T/p2")"
	wait $br || { cat "$T/br"; fail "$label: bridge exit status $?"; }
	local sum=$(tail -n 1 "$T/br")
	echo "$label: $sum"
	echo "$sum" | grep -q "a>b frames=$N .*drops=0 .*b>a frames=$N .*drops=0" ||
		fail "$label: summary: $sum"
}

run_case same ""
run_case frag "@conf:bufsize=1024" -c -b 7
echo PASS
