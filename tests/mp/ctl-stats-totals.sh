#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: per-switch totals that outlive the clients (issue 15, item
# 7): a sender's counters, its dst_full drops among them, are folded into
# its switch's totals when it closes, so `unm-ctl stats SWITCH` still shows
# every frame sent and every drop by reason after the sender exited (they
# vanished with the sending port); -j gives the same item (flags "total",
# ports_gone) and -w a rate line for it.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/ctl-unmd.inc ctl-totals

# a receiver that never reads (a persistent port, no client): most of
# each sender's frames are dropped as dst_full, counted on the sender
"$B/unm-ctl" port add vale0:sink$$ > /dev/null || fail "port add"
total_d=0
for k in 1 2; do
	timeout 20 "$B/unm-pktgen" -f tx -i vale0:src$k -n 5000 -T 0 -D 02:00:00:00:00:09 \
		> "$T/tx$k.txt" 2> "$T/tx$k-err.txt" || fail "sender $k exit $?"
	d=$(sed -n 's/.*the switch dropped \([0-9]*\) of the frames sent.*/\1/p' "$T/tx$k-err.txt")
	[ -n "$d" ] && [ "$d" -gt 0 ] || fail "sender $k: no drops reported"
	total_d=$((total_d + d))
done

# both senders are gone: the switch's totals still have their frames
"$B/unm-ctl" stats vale0 > "$T/stats.txt" || fail "stats vale0"
sed -n '/^  vale0 total/,$p' "$T/stats.txt" > "$T/total.txt"
grep -q '^  vale0 total (live ports and 2 closed)$' "$T/total.txt" || fail "no totals item"
grep -q '^    tx 10000 frames 600000 bytes' "$T/total.txt" || fail "totals: tx is not 10000 frames"
grep -q "^    drops $total_d dst_full $total_d " "$T/total.txt" ||
	fail "totals: drops are not the senders' $total_d dst_full"
grep -q "dropped-toward $total_d (dst_full $total_d " "$T/total.txt" ||
	fail "totals: dropped-toward is not $total_d"
"$B/unm-ctl" -j stats vale0 > "$T/stats.json" || fail "stats -j"
grep -q "\"name\":\"total\",\"flags\":\"total\",\"ports_gone\":2,\"tx_frames\":10000," "$T/stats.json" ||
	fail "JSON totals item"
# one port's stats carry no totals
"$B/unm-ctl" stats "vale0:sink$$" | grep -q total && fail "totals in a port's stats"

# -w: a rate line for the totals too
timeout 20 "$B/unm-pktgen" -f tx -i vale0:t$$ -T 0 -R 100000 -D 02:00:00:00:00:09 > /dev/null 2>&1 & PIDS+=($!)
sleep 0.5
timeout -s INT 2.5 "$B/unm-ctl" stats vale0 -w 1 > "$T/watch.txt" 2>&1
grep -Eq "^vale0:total t=[0-9.]+ tx [0-9.]+K?pps [0-9.]+[KM]?bps rx [0-9.]+ ?[KM]?pps [0-9.]+ ?[KM]?bps drops sent [0-9]+ toward [0-9]+$" "$T/watch.txt" ||
	fail "-w: no totals line"
echo PASS
