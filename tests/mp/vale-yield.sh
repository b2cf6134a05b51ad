#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: unmd's forwarding thread yields its CPU to a sleeping
# receiver it woke (issue 15, item 1: a vhost-user stream into a sleeping
# unm-pktgen lost 40% as dst_full because the receiver, runnable on the
# thread's CPU, waited for the end of the thread's time slice). A
# receiver that sleeps in unm_wait is stopped (SIGSTOP) so it never
# releases a slot; a sender floods 3000 frames at it. The thread
# interrupts it, and once half its 1024-slot ring waits it yields: the
# receiver's `yields` counter is exactly 1 (once per wake-up, not once
# per round while the receiver does not run), its irqs at least 1; every
# frame is delivered or counted as dst_full toward it. After SIGCONT the
# receiver takes what was delivered.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/ctl-unmd.inc vale-yield

RX=vale0:r$$
"$B/unm-pktgen" -f rx -i "$RX" -n 1000000000 > "$T/rx.txt" 2>&1 & RXPID=$!
PIDS+=($RXPID)
# a stopped receiver would ignore cleanup's SIGTERM
trap 'rc=$?; kill -CONT $RXPID 2>/dev/null; (exit $rc); cleanup' EXIT
for ((i = 0; i < 200; i++)); do
	"$B/unm-ctl" stats vale0 2>/dev/null | grep -q " $RX " && break
	sleep 0.05
done
"$B/unm-ctl" stats vale0 | grep -q " $RX " || fail "the receiver's port did not appear"
kill -STOP $RXPID

timeout 20 "$B/unm-pktgen" -f tx -i "vale0:s$$" -n 3000 -T 0 -D 02:00:00:00:00:09 \
	> "$T/tx.txt" 2>&1 || fail "sender exit $?"
# counter LINE-KEY FIELD: FIELD's value on the receiver's LINE-KEY line
counter() {
	"$B/unm-ctl" stats "$RX" | awk -v k="$1" -v f="$2" \
		'$1 == k { for (i = 1; i < NF; i++) if ($i == f) print $(i + 1) }'
}
# the thread takes the sender's frames asynchronously: wait until all
# 3000 are accounted for (delivered or dropped toward the receiver)
for ((i = 0; i < 200; i++)); do
	got=$(counter rx rx) full=$(counter rx "(dst_full")
	[ -n "$got" ] && [ -n "$full" ] && [ $((got + full)) -ge 3000 ] && break
	sleep 0.05
done
"$B/unm-ctl" stats "$RX" > "$T/stats.txt"
[ $((got + full)) = 3000 ] || fail "3000 sent, $got delivered + $full dropped toward the receiver"
[ "$got" -ge 512 ] && [ "$got" -le 1023 ] || fail "$got frames delivered into a 1024-slot ring"
irqs=$(counter drops irqs) yields=$(counter drops yields)
[ -n "$yields" ] || fail "no yields counter"
[ "$irqs" -ge 1 ] || fail "the receiver was never interrupted"
[ "$yields" = 1 ] || fail "yields $yields toward a stopped receiver (want 1: once per wake-up)"
"$B/unm-ctl" -j stats "$RX" | grep -q '"yields":1' || fail "JSON: no \"yields\":1"

# awake again, it takes every delivered frame
kill -CONT $RXPID
for ((i = 0; i < 200; i++)); do
	n=$(sed -n 's/.*pkts=\([0-9]*\).*/\1/p' "$T/rx.txt" | tail -1)
	[ "${n:-0}" -ge "$got" ] && break
	sleep 0.05
done
[ "$(counter rx rx)" = "$got" ] || fail "more frames delivered after the sender left"
echo PASS
