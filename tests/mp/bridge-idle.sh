#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: unm-bridge sleeps in poll() with no timeout when idle, so a
# lost wake-up would stall it for ever (it used to poll with a 1 ms..1 s
# backoff to hide one). Two pipe peers stream through the bridge both ways,
# pause 1.5 s at half way with every ring of the bridge armed, then send the
# second half: the bridge must forward all of it at once (the peers finish
# well within the timeout), count N frames each way with no drops, and
# report "0 timed out" (-v). Run twice: zero-copy pipe ends of one region
# are not possible across two pipes, so once plain and once with -c -b 7.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tools.inc
need_prog "$BRIDGE"; need_prog "$PEER"
N=${N:-4000}

run_case() { # label bridge-options...
	local label=$1; shift
	local a=$(pname "$label")a b=$(pname "$label")b t0=$SECONDS
	"$PEER" duplex "$a{0" -n $N -l 1500 -g 1500 > "$T/p1" 2>&1 & local p1=$!
	"$PEER" duplex "$b}0" -n $N -l 1500 -g 1500 > "$T/p2" 2>&1 & local p2=$!
	PIDS+=($p1 $p2)
	timeout 30 "$BRIDGE" -v -i "$a}0" -i "$b{0" "$@" 2> "$T/br" & local br=$!
	PIDS+=($br)
	wait $p1 || fail "$label: peer 1: $(cat "$T/p1")"
	wait $p2 || fail "$label: peer 2: $(cat "$T/p2")"
	wait $br || { cat "$T/br"; fail "$label: bridge exit status $?"; }
	local sum=$(grep "a>b frames=" "$T/br" | tail -n 1) dt=$((SECONDS - t0))
	echo "$label: ${dt}s: $sum; $(grep 'sleeps' "$T/br")"
	echo "$sum" | grep -q "a>b frames=$N .*drops=0 .*b>a frames=$N .*drops=0" ||
		fail "$label: summary: $sum"
	grep -q " 0 timed out" "$T/br" || fail "$label: $(grep sleeps "$T/br")"
	[ $dt -lt 15 ] || fail "$label: took ${dt}s (a 1.5 s gap): stalled"
}

run_case plain
run_case copy -c -b 7
echo PASS
