#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: poll() on netmap descriptors costs a netmap application
# what unm_wait() costs a unetmap one: a ready descriptor (TX room, a
# frame waiting) returns without a poll/ppoll or sched_yield system call,
# and a descriptor that is not ready sleeps without a sched_yield() spin
# (which kept a sender pinned to the CPU it shares with unmd from letting
# the switch drain its ring), sleeps its whole timeout, still wakes up for
# a frame sent while it sleeps, and returns -1/EINTR when a signal comes.
# Checked by nm-poll under a seccomp filter that counts those system calls.
cd "$(dirname "$0")/../.." || exit 1
. tests/compat/compat.inc
need_prog "$C/nm-poll"
"$C/nm-poll" "$(pname p)" > "$T/out" 2>&1
rc=$?
cat "$T/out"
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "nm-poll exit $rc"
grep -q '^PASS' "$T/out" || fail "no PASS line"
