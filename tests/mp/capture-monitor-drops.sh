#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: unm-capture on a monitor served by unmd reports the copies
# unmd dropped because the monitor's ring was full (unmd's mon_drops for
# that monitor) in its dropped= count: with a 64-slot monitor ring and a
# sender faster than the capture, received + dropped equals the frames
# the monitored port sent, and dropped > 0. It used to print dropped=0
# while the switch dropped a quarter of the copies.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tools.inc
need_prog "$CAP"; need_prog "$B/unmd"; need_prog "$B/unm-pktgen"
"$CAP" -i 'bad{' -w /dev/null 2>&1 | grep -q "not built with libpcap" &&
	skip "unm-capture not built with libpcap: install libpcap-dev"
export UNM_SOCKET=$T/unmd.sock
"$B/unmd" -f -s "$UNM_SOCKET" 2> "$T/unmd.log" & PIDS+=($!)
for ((i = 0; i < 100; i++)); do [ -S "$UNM_SOCKET" ] && break; sleep 0.05; done
[ -S "$UNM_SOCKET" ] || fail "unmd did not start"
N=50000
"$B/unm-pktgen" -f rx -i "vale0:r$$" -T 0 > "$T/rx.log" 2>&1 & PIDS+=($!)
"$B/unm-ctl" port add "vale0:t$$" > /dev/null || fail "port add"
"$CAP" -i "monitor:vale0:t$$@conf:slots=64" -w "$T/m.pcap" -q 2> "$T/cap.err" & cap=$!; PIDS+=($cap)
for ((i = 0; i < 50; i++)); do
	"$B/unm-ctl" list 2>/dev/null | grep -q 'flags <monitor' && break; sleep 0.1
done
timeout 20 "$B/unm-pktgen" -f tx -i "vale0:t$$" -n $N -T 0 -D 02:00:00:00:00:09 > "$T/tx.log" 2>&1 ||
	fail "sender: $(cat "$T/tx.log")"
sleep 1
kill -INT $cap; wait $cap
line=$(grep '^unm-capture: received=' "$T/cap.err") || fail "no summary: $(cat "$T/cap.err")"
echo "$line"
rcv=$(echo "$line" | sed 's/.*received=\([0-9]*\).*/\1/')
drp=$(echo "$line" | sed 's/.*dropped=\([0-9]*\).*/\1/')
[ "$drp" -gt 0 ] || fail "dropped=0 with a 64-slot monitor ring (unmd: $("$B/unm-ctl" stats "vale0:t$$" | grep monitors))"
[ $((rcv + drp)) = $N ] || fail "received $rcv + dropped $drp != $N sent"
echo PASS
