#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: netmap's pkt-gen sender ending over a compat pipe (which
# lends its TX buffers by default) while the receiver dies holding frames
# lent to it: the sender's nm_tx_pending() + NIOCTXSYNC loop ends (the
# lent slots complete once the peer is gone), every buffer of its TX ring
# (and of frames bounced back into its RX ring) is in one slot only, and a
# sender that keeps sending gets at most one ring of room, then none.
# Receiver: exits at N holding 100 (pkt-gen rx -n), is SIGKILLed so, swaps
# the held buffers into its TX ring and sends them back before its
# SIGKILL, or is SIGKILLed by the sender mid-stream (tests/compat/nm-api.c
# drain).
cd "$(dirname "$0")/../.." || exit 1
. tests/compat/compat.inc
need_prog "$C/nm-api"
for how in exit sigkill fwd kill; do
	timeout 60 "$C/nm-api" drain "$(pname "$how")" 3000 100 $how > "$T/out" 2>&1 ||
		{ cat "$T/out"; fail "drain $how"; }
	grep "ok" "$T/out"
done
echo PASS
