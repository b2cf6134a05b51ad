#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: unmd's forwarding thread sleeps beside a busy lossless
# trust domain that has nothing for it to forward. unm-pktgen tx ->
# vale0 (domains uid, lossless on) -> unm-pktgen rx: the members forward
# in their own syncs, so unmd may only wake for its claim sweeps. It once
# asked for out-ring kicks whenever the switch was lossless, even with no
# frame of its own held back, and a member's release (which it never
# delivered into) kept its double check true: the thread spun, as
# runnable as the sender. The check compares CPU shares, not rates:
# while the sender uses 1 s of CPU (polled, generous timeout), unmd must
# use less than a quarter of that (spinning, it took about as much).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/ctl-unmd.inc vale-domain-lossless-idle
UNMD=${PIDS[0]}
HZ=$(getconf CLK_TCK)

# ticks PID: user + system CPU ticks of the process (all its threads)
ticks() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	set -- $s
	echo $((${12} + ${13}))
}

"$B/unm-ctl" switch add vale0 > "$T/ctl.txt" 2>&1 || fail "switch add"
"$B/unm-ctl" switch set vale0 domains uid >> "$T/ctl.txt" 2>&1 || fail "domains uid"
"$B/unm-ctl" switch set vale0 lossless on >> "$T/ctl.txt" 2>&1 || fail "lossless on"
"$B/unm-pktgen" -f rx -i vale0:r -T 0 > "$T/rx.txt" 2>&1 & PIDS+=($!)
sleep 0.3
"$B/unm-pktgen" -f tx -i vale0:t -T 0 > "$T/tx.txt" 2>&1 & PIDS+=($!)
TX=$!
sleep 0.5
"$B/unm-ctl" list > "$T/list.txt" 2>&1
grep -q domain "$T/list.txt" || fail "the ports are not domain members"
u0=$(ticks "$UNMD") || fail "unmd gone"
s0=$(ticks "$TX") || fail "sender gone"
s1=$s0
for ((i = 0; i < 600; i++)); do
	sleep 0.1
	s1=$(ticks "$TX") || fail "sender gone"
	[ $((s1 - s0)) -ge "$HZ" ] && break
done
u1=$(ticks "$UNMD") || fail "unmd gone"
[ $((s1 - s0)) -ge "$HZ" ] || fail "the sender got under 1 s of CPU in 60 s"
echo "sender $((s1 - s0)) ticks, unmd $((u1 - u0)) ticks (HZ $HZ)"
[ $((4 * (u1 - u0))) -lt $((s1 - s0)) ] ||
	fail "unmd used $((u1 - u0)) CPU ticks while the sender used $((s1 - s0)): it spins beside the domain"
exit 0
