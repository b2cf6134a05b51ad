#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: the loss a user sees (issue 15, item 7 in part): a port's
# counters show the frames dropped on their way to it, by reason (they
# were only counted on the sender, gone when it exits); unm-pktgen
# sending on a switch port reports the frames the switch dropped (unmd's
# counters for its port, by reason; it used to say nothing while a
# receiver's full ring dropped most of them); `unm-ctl stats` with no
# switch says so instead of printing nothing; `unm-ctl stats -w` prints
# tx and rx rates in pps and bps with units (it printed a raw tx_bps and
# no rx rate); `make demo`'s "switch counters" section shows this run's
# counters (it ran after the ports closed and was always empty).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/ctl-unmd.inc ctl-stats

"$B/unm-ctl" stats > "$T/empty.txt" 2>&1 || fail "stats with no switch: exit $?"
grep -q '^no switches$' "$T/empty.txt" || fail "stats with no switch printed: '$(cat "$T/empty.txt")'"

# a receiver that never reads (a persistent port without a client): its
# ring takes at most 1023 frames (less: the source's fair share), the
# switch drops the rest as dst_full
"$B/unm-ctl" port add vale0:sink$$ > /dev/null || fail "port add"
timeout 20 "$B/unm-pktgen" -f tx -i vale0:src$$ -n 5000 -T 0 -D 02:00:00:00:00:09 \
	> "$T/tx.txt" 2> "$T/tx-err.txt" || fail "sender exit $?"
d=$(sed -n 's/.*the switch dropped \([0-9]*\) of the frames sent (dst_full \1).*/\1/p' "$T/tx-err.txt")
[ -n "$d" ] && [ "$d" -ge 3000 ] && [ "$d" -le 5000 ] || fail "sender does not report the switch's drops"

# the receiver's own counters show what was dropped on the way to it
"$B/unm-ctl" stats "vale0:sink$$" > "$T/sink.txt" || fail "stats sink"
grep -q "dropped-toward $d (dst_full $d no_room 0 dst_err 0)" "$T/sink.txt" ||
	fail "the receiving port does not show the $d drops toward it"

# -w: human rates for tx and rx
timeout 20 "$B/unm-pktgen" -f rx -i vale0:r$$ -T 0 > /dev/null 2>&1 & PIDS+=($!)
timeout 6 "$B/unm-pktgen" -f tx -i vale0:t$$ -T 0 -R 200000 -D 02:00:00:00:00:09 > /dev/null 2>&1 & PIDS+=($!)
sleep 0.5
timeout -s INT 2.5 "$B/unm-ctl" stats "vale0:r$$" -w 1 > "$T/watch.txt" 2>&1
grep -Eq "^vale0:r$$ t=[0-9.]+ tx 0 pps 0 bps rx [0-9.]+K?pps [0-9.]+[KM]bps drops sent 0 toward [0-9]+$" "$T/watch.txt" ||
	fail "-w line: $(tail -1 "$T/watch.txt")"

# make demo's counters section
DEMO_SECONDS=1 B=${B#$PWD/} bash bench/demo.sh > "$T/demo.txt" 2>&1 || fail "demo exit $?"
sed -n '/^-- switch counters/,/^-- unmd log/p' "$T/demo.txt" | grep -Eq 'tx [1-9][0-9]* frames' ||
	fail "demo: no counters in the switch counters section"
echo PASS
