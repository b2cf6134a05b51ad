#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: a netmap-API program (libnetmap, poll + NIOCTXSYNC) on
# vale0:a and a unetmap-API program on vale0:b of a private unmd exchange
# frames one by one: the netmap side sends frame i, the unetmap side checks
# every byte and sends it back, the netmap side checks the echo; 2000 round
# trips of 60..1514 bytes.
cd "$(dirname "$0")/../.." || exit 1
. tests/compat/compat.inc
need_prog "$C/nm-api"
UNMD=$PWD/$B/unmd
need_prog "$UNMD"
N=${N:-2000}
export UNM_SOCKET=$T/unmd.sock
"$UNMD" -f -s "$UNM_SOCKET" 2> "$T/unmd.log" & PIDS+=($!)
for ((i = 0; i < 100; i++)); do [ -S "$UNM_SOCKET" ] && break; sleep 0.05; done
[ -S "$UNM_SOCKET" ] || { cat "$T/unmd.log"; fail "unmd did not start"; }
sw=vale$$
"$C/nm-api" unm-echo "$sw:b" $N > "$T/echo" 2>&1 & echo_pid=$!; PIDS+=($echo_pid)
for ((i = 0; i < 100; i++)); do grep -q ready "$T/echo" && break; sleep 0.05; done
grep -q ready "$T/echo" || { cat "$T/echo"; fail "unetmap side did not start"; }
"$C/nm-api" ping "$sw:a" $N > "$T/ping" 2>&1 || { cat "$T/ping" "$T/echo"; fail "netmap side"; }
wait $echo_pid || { cat "$T/echo"; fail "unetmap side"; }
cat "$T/ping" "$T/echo"
grep -q "ping: $N round trips ok" "$T/ping" || fail "ping summary"
grep -q "unm-echo: $N frames ok" "$T/echo" || fail "echo summary"
echo PASS
