#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: unm-capture --pcapng writes a file tshark reads as pcapng
# with nanosecond resolution, the right frame count and total bytes,
# frames in the order sent (IP id = sequence), MOREFRAG chains whole.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tools.inc
need_capture
N=300
p=$(pname ng)
"$PEER" send "$p{0" -n $N -l 4000 -x > "$T/sent" & PIDS+=($!)
timeout 20 "$CAP" -i "$p}0" -w "$T/a.pcapng" --pcapng -c $N -q 2> "$T/err" || fail "capture: $(cat "$T/err")"
wait "${PIDS[0]}"
capinfos -t "$T/a.pcapng" 2>/dev/null | grep -q pcapng || fail "not pcapng: $(capinfos -t "$T/a.pcapng" 2>&1)"
capinfos "$T/a.pcapng" 2>/dev/null | grep -qi "precision.*nanoseconds" || fail "not nanosecond resolution"
read -r frames bytes <<< "$(tshark_count "$T/a.pcapng")"
[ "$frames" = $N ] || fail "tshark read $frames frames, expected $N"
[ "$bytes" = "$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' "$T/sent")" ] || fail "total bytes $bytes differ"
i=0
while read -r id; do
	[ $((id)) = $((i % 65536)) ] || fail "record $i carries ip.id $id: out of order"
	i=$((i + 1))
done < <(tshark -r "$T/a.pcapng" -T fields -e ip.id 2>/dev/null)
[ $i = $N ] || fail "read $i ids"
echo "PASS: $frames frames, $bytes bytes"
