#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: unm-capture -C rotates by size (files FILE, FILE1, FILE2...,
# none larger than the limit, together holding every frame once) and -W N
# keeps at most N files, overwriting from FILE again; pcap and pcapng.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tools.inc
need_capture
N=2000
p=$(pname rot)
"$PEER" send "$p{0" -n $N -l 1000 -x > "$T/sent" & PIDS+=($!)
timeout 20 "$CAP" -i "$p}0" -w "$T/r.pcap" -c $N -C 200k -q 2> "$T/err" || fail "capture: $(cat "$T/err")"
wait "${PIDS[0]}"
bytes=$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' "$T/sent")
# pcap: 24-byte file header, 16 bytes per record
total=$((24 + 16 * N + bytes))
want=$(( (total + 199999) / 200000 ))
files=$(ls "$T"/r.pcap* | wc -l)
echo "$total bytes of pcap at 200 kB per file: $files files (at least $want)"
[ "$files" -ge "$want" ] && [ "$files" -le $((want + 1)) ] || fail "$files files, expected $want or $((want + 1))"
[ -f "$T/r.pcap" ] && [ -f "$T/r.pcap1" ] && [ -f "$T/r.pcap$((files - 1))" ] || fail "names: $(ls "$T")"
sum=0
for f in "$T"/r.pcap*; do
	sz=$(stat -c %s "$f")
	[ "$sz" -le 200000 ] || fail "$f is $sz bytes"
	n=$(tshark_count "$f" | cut -d' ' -f1)
	sum=$((sum + n))
done
[ $sum = $N ] || fail "files hold $sum frames, expected $N"
grep -q "files=$files" "$T/err" || fail "summary: $(cat "$T/err")"

# -W 2: two files only, the ring wrapped
p=$(pname rotw)
"$PEER" send "$p{0" -n $N -l 1000 -x > "$T/sent" & PIDS+=($!)
timeout 20 "$CAP" -i "$p}0" -w "$T/w.pcapng" --pcapng -c $N -C 200k -W 2 -q 2> "$T/err" ||
	fail "capture: $(cat "$T/err")"
files=$(ls "$T"/w.pcapng* | wc -l)
[ "$files" = 2 ] || fail "-W 2 left $files files: $(ls "$T")"
opened=$(sed -n 's/.*files=\([0-9]*\).*/\1/p' "$T/err")
[ "$opened" -gt 2 ] || fail "the ring did not wrap ($opened files opened)"
for f in "$T"/w.pcapng*; do tshark -r "$f" >/dev/null 2>&1 || fail "tshark cannot read $f"; done
"$CAP" -i x -w y -W 2 2>/dev/null; [ $? = 2 ] || fail "-W without -C is not a usage error"
echo "PASS"
