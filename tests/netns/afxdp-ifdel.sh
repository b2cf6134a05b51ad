#!/bin/bash
# Description: AF_XDP port robustness. Deleting the interface while a port
# sleeps in unm_wait() makes the wait and the next sync fail with ENODEV
# within seconds (no hang, no crash). A port killed with SIGKILL leaves
# libxdp's program attached (harmless: frames pass to the stack); the next
# port opened and closed normally on that interface removes it.
. tests/lib/afxdp-netns.inc
veth_up 1
ip netns exec "$NSA" "$HELPER" hold afxdp:va 20 > "$TMPD/hold" 2>&1 &
pid=$!
PIDS+=($pid)
wait_for "$TMPD/hold" ready || fail "hold not ready: $(cat "$TMPD/hold")"
t0=$(date +%s%N)
ip -n "$NSA" link del va || fail "link del"
wait $pid; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
grep -E '^error' "$TMPD/hold"
[ $rc = 0 ] || fail "after interface removal (exit $rc): $(cat "$TMPD/hold")"
grep -q 'No such device' "$TMPD/hold" || fail "expected ENODEV: $(cat "$TMPD/hold")"
echo "interface removal reported after ${ms} ms"

veth_up 1
ip netns exec "$NSA" "$HELPER" hold afxdp:va 20 > "$TMPD/hold2" 2>&1 &
pid=$!
PIDS+=($pid)
wait_for "$TMPD/hold2" ready || fail "hold2 not ready"
kill -9 $pid; wait $pid 2>/dev/null
xdp_attached && echo "after SIGKILL: program left attached (expected)"
before=$(vb_rx)
out=$(in_a "$HELPER" tx afxdp:va 50 2>&1) || fail "reopen after SIGKILL: $out"
d=$(( $(vb_rx) - before ))
[ "$d" = 50 ] || fail "after SIGKILL: peer received $d of 50"
xdp_attached && fail "program still attached after a normal open/close"
echo ok
