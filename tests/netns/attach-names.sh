#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: names and switch life (issue 15, items 11 and 12). An
# attached port is named without its @conf suffix: after
# "attach vale0 tap:T@conf:vnet=12", list shows tap:T, "detach vale0 tap:T"
# works, and so do "stats vale0:tap:T" and a monitor opened as
# monitor:vale0:tap:T (switch-qualified). "switch add" makes a switch that
# takes settings before any port exists and keeps them after its last port
# left, until "switch del"; del refuses a switch with ports. On commit
# 71d5c11 detach said "vale0 has no port tap:T", monitor:vale0:tap:T was a
# bad name, and switch add/del did not exist: the test fails there.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/backends.inc
. tests/lib/unmd.inc
PG=$PWD/$B/unm-pktgen
[ -x "$PG" ] || skip "$PG not built"
NS=unmnm$SUF
new_ns "$NS"
start_unmd "$NS"
ctl() { in_ns "$NS" "$CTL" "$@"; }
T=nct$SUF

ctl attach vale0 "tap:$T@conf:vnet=12" || fail "attach tap:$T@conf:vnet=12"
L=$(ctl -j list)
echo "$L" | grep -q "\"name\":\"tap:$T\"" || fail "attached port not named tap:$T: $L"
echo "$L" | grep -q "@conf" && fail "a port name keeps its @conf: $L"
ctl -j stats "vale0:tap:$T" | grep -q "\"name\":\"tap:$T\"" || fail "stats vale0:tap:$T"
echo "stats vale0:tap:$T: ok"
in_ns "$NS" timeout 20 "$PG" -f rx -i "monitor:vale0:tap:$T" -n 1 -T 0 > "$TMPD/mon" 2>&1 &
mon=$!
PIDS+=($mon)
for ((i = 0; i < 100; i++)); do
	ctl -j list | grep -q '"type":"monitor"' && break
	kill -0 $mon 2>/dev/null || { cat "$TMPD/mon"; fail "monitor:vale0:tap:$T refused"; }
	sleep 0.1
done
ctl -j list | grep -q "\"type\":\"monitor\"" || fail "no monitor of vale0:tap:$T"
kill $mon
wait $mon 2>/dev/null
echo "monitor:vale0:tap:$T: ok"
ctl detach vale0 "tap:$T" || fail "detach vale0 tap:$T"
ctl attach vale0 "tap:$T@conf:vnet=12" || fail "attach again"
ctl detach vale0 "tap:$T@conf:vnet=12" || fail "detach with the @conf suffix"
echo "detach by the name without (and with) @conf: ok"

out=$(ctl switch set vale5 lossless on 2>&1) && fail "switch set on a missing switch: $out"
echo "$out" | grep -q "no such switch: vale5 (unm-ctl switch add creates one)" || fail "message: $out"
ctl switch add vale5 || fail "switch add vale5"
out=$(ctl switch add vale5 2>&1) && fail "switch add twice"
echo "$out" | grep -q "switch vale5 exists already (uid 0)" || fail "message: $out"
ctl switch set vale5 lossless on || fail "switch set on a switch without ports"
ctl -j list | grep -q '"switch":"vale5","ports":0,"lossless":true' || fail "vale5: $(ctl -j list)"
in_ns "$NS" timeout 10 "$PG" -f tx -i vale5:p -n 1 -T 0 > /dev/null || fail "a port on vale5"
ctl port add vale5:q || fail "port add vale5:q"
out=$(ctl switch del vale5 2>&1) && fail "switch del with a port"
echo "$out" | grep -q "switch vale5 still has 1 ports" || fail "message: $out"
ctl port del vale5:q || fail "port del"
ctl -j list | grep -q '"switch":"vale5","ports":0,"lossless":true' ||
	fail "vale5 lost its settings with its last port: $(ctl -j list)"
echo "switch add: settings before the first port and after the last: ok"
ctl switch del vale5 || fail "switch del vale5"
ctl list | grep -q "no switches" || fail "vale5 still listed: $(ctl list)"
# a switch made on demand still goes with its last port
in_ns "$NS" timeout 10 "$PG" -f tx -i vale6:p -n 1 -T 0 > /dev/null || fail "a port on vale6"
ctl list | grep -q "no switches" || fail "vale6 outlived its port: $(ctl list)"
echo "switch del: ok"
exit 0
