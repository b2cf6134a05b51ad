#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: unm-capture on a monitor of a switch port with a 12-byte
# virtio-net header (vale0:P@conf:vnet=12) writes plain Ethernet frames:
# every record decodes as the UDP frames the sender made, with their
# length (the copies used to keep the header, so tcpdump saw ethertype
# 0x1e19 in every record), as unm-capture(8) says; the TX and RX
# monitors both strip it.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tools.inc
need_capture
need_prog "$B/unmd"; need_prog "$B/unm-pktgen"
export UNM_SOCKET=$T/unmd.sock
"$B/unmd" -f -s "$UNM_SOCKET" 2> "$T/unmd.log" & PIDS+=($!)
for ((i = 0; i < 100; i++)); do [ -S "$UNM_SOCKET" ] && break; sleep 0.05; done
[ -S "$UNM_SOCKET" ] || fail "unmd did not start"
N=200
"$B/unm-pktgen" -f rx -i "vale0:r$$@conf:vnet=12" -H 12 -T 0 > "$T/rx.log" 2>&1 & PIDS+=($!)
sleep 0.3
# a port must exist before its monitor opens: the sender's is persistent
"$B/unm-ctl" port add "vale0:t$$@conf:vnet=12" > /dev/null || fail "port add"
timeout 20 "$CAP" -i "monitor:vale0:t$$" -w "$T/tx.pcap" -c $N -q 2> "$T/cap-tx.err" & ctx=$!
timeout 20 "$CAP" -i "vale0:r$$/r" -w "$T/rx.pcap" -c $N -q 2> "$T/cap-rx.err" & crx=$!
for ((i = 0; i < 50; i++)); do
	[ "$("$B/unm-ctl" list 2>/dev/null | grep -c 'flags <monitor')" = 2 ] && break; sleep 0.1
done
timeout 20 "$B/unm-pktgen" -f tx -i "vale0:t$$@conf:vnet=12" -H 12 -l 100 -n $N -T 0 \
	-D 02:00:00:00:00:09 > "$T/tx.log" 2>&1 || true
"$B/unm-ctl" list > "$T/list.txt" 2>&1
wait $ctx || fail "TX monitor capture: exit $?: $(cat "$T/cap-tx.err" "$T/list.txt")"
wait $crx || fail "RX monitor capture: exit $?: $(cat "$T/cap-rx.err")"
for d in tx rx; do
	read -r frames bytes <<< "$(tshark_count "$T/$d.pcap")"
	[ "$frames" = $N ] || fail "$d monitor: $frames records, expected $N"
	[ "$bytes" = $((N * 100)) ] || fail "$d monitor: $bytes bytes, expected $((N * 100)) (header kept?)"
	udp=$(tshark -r "$T/$d.pcap" -T fields -e udp.dstport 2>/dev/null | grep -c '^1234$')
	[ "$udp" = $N ] || fail "$d monitor: $udp of $N records decode as UDP port 1234 (header not stripped?)"
done
echo PASS
