#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: unm-capture -c N on a pipe end writes exactly N frames
# (nanosecond pcap) that tshark reads back with the same total length as
# the sender sent, including frames longer than a buffer (MOREFRAG chains,
# reassembled into one record); -s truncates records but keeps the original
# length; the capture exits 0 with a summary line; on a port with a
# virtio-net header the header is stripped.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tools.inc
need_capture
N=400
p=$(pname cnt)
"$PEER" send "$p{0" -n $N -l 5000 -m -x > "$T/sent" & PIDS+=($!)
timeout 20 "$CAP" -i "$p}0" -w "$T/a.pcap" -c $N 2> "$T/err" || { cat "$T/err"; fail "capture exit $?"; }
wait "${PIDS[0]}" || fail "sender failed: $(cat "$T/sent")"
read -r frames bytes <<< "$(tshark_count "$T/a.pcap")"
sent_bytes=$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' "$T/sent")
echo "sent: $(cat "$T/sent"); tshark: $frames frames, $bytes bytes"
[ "$frames" = $N ] || fail "tshark read $frames frames, expected $N"
[ "$bytes" = "$sent_bytes" ] || fail "tshark total $bytes bytes, sender sent $sent_bytes"
big=$(tshark -r "$T/a.pcap" -T fields -e frame.len 2>/dev/null | awk '$1 > 2048' | wc -l)
[ "$big" -gt 0 ] || fail "no frame longer than one buffer was captured"
capinfos -t "$T/a.pcap" 2>/dev/null | grep -qi nanosecond || fail "not a nanosecond pcap"
grep -q "received=$N matched=$N written=$N" "$T/err" || fail "summary: $(cat "$T/err")"

# snaplen: every record at most 100 bytes, original lengths kept
p=$(pname snap)
"$PEER" send "$p{0" -n 50 -l 1500 -x > "$T/sent" & PIDS+=($!)
timeout 20 "$CAP" -i "$p}0" -w "$T/s.pcap" -c 50 -s 100 -q 2> "$T/err" || fail "snaplen capture"
cap=$(tshark -r "$T/s.pcap" -T fields -e frame.cap_len 2>/dev/null | sort -n | tail -1)
orig=$(tshark -r "$T/s.pcap" -T fields -e frame.len 2>/dev/null | awk '{s+=$1} END {print s}')
[ "$cap" -le 100 ] || fail "caplen $cap > snaplen 100"
[ "$orig" = "$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' "$T/sent")" ] || fail "original lengths lost"

# a port with a 10-byte virtio-net header: stripped, frames intact
p=$(pname vnet)
"$PEER" send "$p{0@conf:vnet=10" -n 100 -l 3000 -H 10 -x > "$T/sent" & PIDS+=($!)
timeout 20 "$CAP" -i "$p}0@conf:vnet=10" -w "$T/v.pcap" -c 100 -q 2> "$T/err" || fail "vnet capture: $(cat "$T/err")"
read -r frames bytes <<< "$(tshark_count "$T/v.pcap")"
[ "$frames" = 100 ] && [ "$bytes" = "$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' "$T/sent")" ] ||
	fail "vnet: $frames frames, $bytes bytes; sender: $(cat "$T/sent")"
udp=$(tshark -r "$T/v.pcap" -T fields -e udp.dstport 2>/dev/null | grep -c '^9$')
[ "$udp" = 100 ] || fail "vnet: $udp of 100 frames decode as UDP port 9 (header not stripped?)"
echo "PASS"
