#!/bin/bash
# Description: with UNM_TAP_TX_THREAD=1 in unmd's environment, taps attached
# to a switch write their TX frames from a thread of their own
# (UNM_OPEN_TAP_TX_THREAD, lib/backend/tap.c): unmd
# runs one "unm-tap-tx" thread per attached tap; 64 MiB over TCP (TSO
# frames of up to 64 KiB, default offloads) in four parallel connections
# arrive intact (SHA-256 of each); the receiving tap's backend counted
# every frame the switch delivered to it (one stats snapshot, after the
# transfer: asynchronous completion loses nothing); detaching both taps
# during a ping flood stops their threads and unmd keeps serving. Without
# the writer thread the first check fails. Namespaces with a random
# suffix, removed on exit; SKIP without root, python3 or /dev/net/tun.
set -u
B=${B:-build}
UNMD=$PWD/$B/unmd
CTL=$PWD/$B/unm-ctl
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; [ -n "${TMPD:-}" ] && tail -5 "$TMPD/unmd.log" 2>/dev/null; exit 1; }
[ "$(id -u)" = 0 ] || skip "needs root (CAP_NET_ADMIN) for network namespaces"
for c in ip python3 sha256sum; do command -v $c >/dev/null || skip "$c not installed"; done
[ -c /dev/net/tun ] || skip "tap: /dev/net/tun not present"
[ -x "$UNMD" ] && [ -x "$CTL" ] || skip "unmd/unm-ctl not built"
export UNM_TAP_TX_THREAD=1  # unmd's attached taps get writer threads only when asked
NS_TAG=utt
. "$(dirname "$0")/../lib/unmd-3ns.inc"
UPID=${PIDS[0]}

plug() { # NS TAP ADDR
	ctl attach vale0 "tap:$2" >/dev/null || fail "attach tap:$2"
	ip -n $NS0 link set "$2" netns "$1" || fail "cannot move $2 into $1"
	ip -n "$1" addr add "$3/24" dev "$2"
	ip -n "$1" link set "$2" up
}
writers() { grep -lx "unm-tap-tx" /proc/$UPID/task/*/comm 2>/dev/null | wc -l; }

A=ta$SUF B2=tb$SUF
plug $NS1 $A 10.83.0.1
plug $NS2 $B2 10.83.0.2
n=$(writers)
echo "unmd threads named unm-tap-tx: $n"
[ "$n" = 2 ] || fail "expected 2 tap TX threads in unmd, found $n"
ip netns exec $NS1 ping -c 2 -i 0.2 -W 2 10.83.0.2 >/dev/null || fail "no ping through vale0"

# 4 x 16 MiB over TCP at once, each checked end to end
head -c 16777216 /dev/urandom >"$TMPD/data"
want=$(sha256sum <"$TMPD/data" | cut -d' ' -f1)
ip netns exec $NS2 timeout 120 python3 -c '
import hashlib, socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.83.0.2", 5302)); s.listen(4); open(sys.argv[1], "w").close()
out = []
def rx(c):
    h = hashlib.sha256()
    while True:
        b = c.recv(1 << 20)
        if not b: break
        h.update(b)
    out.append(h.hexdigest())
ts = []
for _ in range(4):
    c, _ = s.accept(); t = threading.Thread(target=rx, args=(c,)); t.start(); ts.append(t)
for t in ts: t.join()
print("\n".join(out))' "$TMPD/listening" >"$TMPD/got" 2>&1 &
srv=$!
PIDS+=($srv)
for ((i = 0; i < 500; i++)); do [ -e "$TMPD/listening" ] && break; sleep 0.02; done
ip netns exec $NS1 timeout 120 python3 -c '
import socket, sys, threading
data = open(sys.argv[1], "rb").read()
def tx():
    c = socket.create_connection(("10.83.0.2", 5302)); c.sendall(data); c.close()
ts = [threading.Thread(target=tx) for _ in range(4)]
for t in ts: t.start()
for t in ts: t.join()' "$TMPD/data" || fail "TCP transfer failed"
wait $srv
ok=$(grep -cx "$want" "$TMPD/got")
[ "$ok" = 4 ] || fail "$ok of 4 streams intact: $(head -4 "$TMPD/got")"
echo "4 x 16 MiB over TCP intact"

# one snapshot: what the switch delivered to tap B2 (its rx) = what B2's
# backend took (TX frames count when handed to the writer thread)
sleep 0.5
ctl -j stats vale0 >"$TMPD/snap.json" || fail "unm-ctl -j stats"
read -r dl bt < <(python3 -c '
import json, sys
for p in json.load(open(sys.argv[1])):
    if p.get("name") == "tap:" + sys.argv[2]:
        print(p["rx_frames"], p["backend"]["tx_frames"])' "$TMPD/snap.json" $B2)
echo "tap:$B2: switch delivered ${dl:-?} frames, its backend took ${bt:-?}"
[ -n "${dl:-}" ] && [ -n "${bt:-}" ] || fail "stats of tap:$B2 not found"
[ "$dl" -gt 1000 ] || fail "only $dl frames reached tap:$B2"
[ "$dl" = "$bt" ] || fail "delivered $dl frames to tap:$B2, its backend counted $bt"

# detach under load: the threads stop, unmd lives on
ip netns exec $NS1 ping -q -f -w 3 -s 1400 10.83.0.2 >/dev/null 2>&1 &
fl=$!
PIDS+=($fl)
sleep 0.5
ctl detach vale0 "tap:$A" >/dev/null || fail "detach tap:$A"
ctl detach vale0 "tap:$B2" >/dev/null || fail "detach tap:$B2"
wait $fl 2>/dev/null
for ((i = 0; i < 100; i++)); do [ "$(writers)" = 0 ] && break; sleep 0.05; done
n=$(writers)
[ "$n" = 0 ] || fail "$n tap TX threads left after detaching both taps"
kill -0 $UPID 2>/dev/null || fail "unmd died"
ctl list >/dev/null || fail "unmd does not answer after the detaches"
echo "detached under a ping flood: threads gone, unmd serving"
exit 0
