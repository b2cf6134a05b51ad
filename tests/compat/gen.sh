#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: nm-gen, the lean netmap-API generator bench/compat_pktgen.sh -g
# measures, sends exactly COUNT fixed 60-byte frames over a pipe and the
# unetmap receiver (unm-pktgen rx) gets all of them, byte count included:
# with the compat layer's default pipe (buffers lent, back unchanged), with
# UNM_NETMAP_PIPE_LOAN=0 (the copy: each TX buffer written once, then only
# lengths set) and
# with UNM_NETMAP_PIPE_SWAP=1 (buffers swap, marked NS_BUF_CHANGED, and the
# generator rewrites them).
cd "$(dirname "$0")/../.." || exit 1
. tests/compat/compat.inc
need_prog "$C/nm-gen"
PG=$PWD/$B/unm-pktgen
need_prog "$PG"
N=200000
for mode in copy loan swap; do
	p=$(pname "g$mode")
	"$PG" -f rx -i "$p}0" -n $N -j -T 0 > "$T/rx.$mode" 2>&1 & rx=$!; PIDS+=($rx)
	if [ $mode = swap ]; then
		UNM_NETMAP_PIPE_SWAP=1 timeout 60 "$C/nm-gen" "netmap:$p{0" 60 0 $N > "$T/tx.$mode" 2>&1
	elif [ $mode = copy ]; then
		UNM_NETMAP_PIPE_LOAN=0 timeout 60 "$C/nm-gen" "netmap:$p{0" 60 0 $N > "$T/tx.$mode" 2>&1
	else
		timeout 60 "$C/nm-gen" "netmap:$p{0" 60 0 $N > "$T/tx.$mode" 2>&1
	fi || { cat "$T/tx.$mode" "$T/rx.$mode"; fail "nm-gen ($mode)"; }
	for ((i = 0; i < 600; i++)); do kill -0 $rx 2>/dev/null || break; sleep 0.1; done
	wait $rx
	cat "$T/tx.$mode" "$T/rx.$mode"
	grep -q "nm-gen: sent $N frames" "$T/tx.$mode" || fail "sender count ($mode)"
	grep -q "\"packets\":$N,\"bytes\":$((N * 60))," "$T/rx.$mode" ||
		fail "receiver did not get $N frames of 60 bytes ($mode)"
done
echo PASS
