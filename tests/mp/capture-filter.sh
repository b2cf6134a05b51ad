#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: a BPF filter given to unm-capture ("udp port 9") selects
# exactly the matching subset of a mixed stream (UDP 9, UDP 10, TCP 9),
# checked with tshark; a bad filter expression is a usage error (exit 2).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tools.inc
need_capture
N=900
p=$(pname flt)
"$PEER" send "$p{0" -n $N -l 1200 -m -x > "$T/sent" & PIDS+=($!)
want=$(( (N + 2) / 3 ))
timeout 20 "$CAP" -i "$p}0" -w "$T/f.pcap" -c $want -q udp port 9 2> "$T/err" || fail "capture: $(cat "$T/err")"
wait "${PIDS[0]}"
udp9=$(sed -n 's/.*udp9=\([0-9]*\).*/\1/p' "$T/sent")
[ "$udp9" = $want ] || fail "sender says $udp9 UDP/9 frames, expected $want"
got=$(tshark -r "$T/f.pcap" -T fields -e udp.dstport 2>/dev/null | grep -c '^9$')
all=$(tshark -r "$T/f.pcap" -T fields -e frame.number 2>/dev/null | wc -l)
echo "matched $got of $all records; sender sent $udp9 UDP/9 frames of $N"
[ "$all" = $want ] && [ "$got" = $want ] || fail "filter selected $got/$all, expected $want"
# every UDP/9 frame was seen: received covers the whole stream up to the last match
grep -q "matched=$want written=$want" "$T/err" || fail "summary: $(cat "$T/err")"
"$CAP" -i "$p}1" -w "$T/x.pcap" udp port 2> "$T/err"
[ $? = 2 ] || fail "bad filter is not a usage error"
echo "PASS"
