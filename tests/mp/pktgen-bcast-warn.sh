#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: unm-pktgen sending on a switch port with the default
# (broadcast, pkt-gen's) destination MAC warns exactly once that the
# switch floods every frame, and says -D sends unicast; with -D, or on a
# pipe, it says nothing. Before, it flooded every tap on the switch
# without a word.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${UNM_BUILD:-$PWD/build}
T=$(mktemp -d /tmp/pktgen-bcast.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*.err; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done; exit 1; }
for p in unmd unm-pktgen; do [ -x "$B/$p" ] || fail "$B/$p not built"; done
export UNM_SOCKET=$T/unmd.sock
"$B/unmd" -f -s "$UNM_SOCKET" 2> "$T/unmd.err" & PIDS+=($!)
for ((i = 0; i < 100; i++)); do [ -S "$UNM_SOCKET" ] && break; sleep 0.05; done
[ -S "$UNM_SOCKET" ] || fail "unmd did not start"
timeout 20 "$B/unm-pktgen" -f tx -i vale0:a$$ -n 5000 -T 0 > /dev/null 2> "$T/bcast.err" ||
	fail "tx exit $?"
[ "$(grep -c 'warning: destination MAC ff:ff:ff:ff:ff:ff' "$T/bcast.err")" = 1 ] ||
	fail "no single broadcast warning"
grep -q -- '-D MAC sends unicast' "$T/bcast.err" || fail "the warning does not say what to do"
timeout 20 "$B/unm-pktgen" -f tx -i vale0:b$$ -D 02:00:00:00:00:02 -n 5000 -T 0 > /dev/null \
	2> "$T/ucast.err" || fail "tx -D exit $?"
grep -q warning "$T/ucast.err" && fail "warned with -D"
timeout 20 "$B/unm-pktgen" -f tx -i "pb$$}0" -n 10 -T 0 > /dev/null 2> "$T/pipe.err"
grep -q warning "$T/pipe.err" && fail "warned on a pipe"
echo PASS
