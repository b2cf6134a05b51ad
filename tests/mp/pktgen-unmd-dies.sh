#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: unm-pktgen sending on a switch port exits 1 and says that
# unmd closed the connection when unmd dies under it (it used to print
# "peer closed ... Connection reset by peer" and exit 0, so a script could
# not tell a dead daemon from a finished run). A pipe peer that leaves is
# still a normal end (tests/unit/pktgen-pipe.sh).
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${UNM_BUILD:-$PWD/build}
T=$(mktemp -d /tmp/pktgen-unmd-dies.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*.log "$T"/*.err; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done; exit 1; }
for p in unmd unm-pktgen; do [ -x "$B/$p" ] || fail "$B/$p not built"; done
export UNM_SOCKET=$T/unmd.sock
"$B/unmd" -f -s "$UNM_SOCKET" 2> "$T/unmd.log" & U=$!; PIDS+=($U)
for ((i = 0; i < 100; i++)); do [ -S "$UNM_SOCKET" ] && break; sleep 0.05; done
[ -S "$UNM_SOCKET" ] || fail "unmd did not start"
for f in tx rx; do
	timeout 20 "$B/unm-pktgen" -f $f -i vale0:$f$$ -T 0 > "$T/$f.out" 2> "$T/$f.err" &
	PIDS+=($!); eval "pg_$f=$!"
done
sleep 1
kill -9 $U
wait "$pg_tx"; txrc=$?
wait "$pg_rx"; rxrc=$?
[ $txrc = 1 ] || fail "tx exit $txrc after unmd died, expected 1"
[ $rxrc = 1 ] || fail "rx exit $rxrc after unmd died, expected 1"
grep -q 'unmd closed the connection' "$T/tx.err" || fail "tx: no message saying unmd went away"
grep -q 'unmd closed the connection' "$T/rx.err" || fail "rx: no message saying unmd went away"
echo PASS
