#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: the path a DPDK user takes (issue 15 item 1): unmd attaches
# a vhost-user port to vale0 (`unm-ctl attach vale0 vhost-user:PATH`), a
# sleeping unm-pktgen rx sits on vale0:vr, and dpdk-testpmd
# (net_virtio_user, txonly, 64-byte frames, its two lcores pinned on CPU 0
# as in the issue) sends for several seconds. Checks, with the switch
# lossless and then in its default mode: testpmd keeps sending (its
# TX-packets grows between two samples 2 s apart: no stall after a few
# hundred frames); every frame testpmd counts as sent reaches the switch
# (the vhost port's tx count, within 1%); lossless: the receiver gets
# every frame the switch took (at least 99%); default: every frame is
# either received or counted as dropped toward the receiver (dst_full),
# none vanish; most guest frames crossed in place (the backend's
# copy_rx_frames under half its rx_frames). SKIP (77) without root or dpdk-testpmd (dpdk-dev).
set -u
B=${B:-build}
UNMD=$PWD/$B/unmd
CTL=$PWD/$B/unm-ctl
PKTGEN=$PWD/$B/unm-pktgen
TP=${TESTPMD:-dpdk-testpmd}
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || skip "needs root (dpdk-testpmd, unmd)"
command -v "$TP" >/dev/null || skip "dpdk-testpmd not installed (dpdk-dev)"
[ -x "$UNMD" ] && [ -x "$CTL" ] && [ -x "$PKTGEN" ] || skip "unmd/unm-ctl/unm-pktgen not built"
TMPD=$(mktemp -d /tmp/unm-vhtp.XXXXXX)
SOCK=$TMPD/unmd.sock
VH=$TMPD/vh.sock
PIDS=()
TPFD=
cleanup() {
	[ -n "$TPFD" ] && eval "exec $TPFD>&-" 2>/dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$TMPD" "/var/run/dpdk/unmvhtp$$"*
}
trap cleanup EXIT

"$UNMD" -f -s "$SOCK" 2>"$TMPD/unmd.log" &
PIDS+=($!)
for ((i = 0; i < 300; i++)); do [ -S "$SOCK" ] && break; sleep 0.02; done
[ -S "$SOCK" ] || fail "unmd did not start: $(cat "$TMPD/unmd.log")"
ctl() { "$CTL" -s "$SOCK" "$@"; }
ctl attach vale0 "vhost-user:$VH" >/dev/null || fail "attach vhost-user: $(tail -3 "$TMPD/unmd.log")"
UNM_SOCKET=$SOCK "$PKTGEN" -f rx -i vale0:vr -n 1000000000 >"$TMPD/rx.log" 2>&1 &
PIDS+=($!)
for ((i = 0; i < 250; i++)); do ctl stats vale0 2>/dev/null | grep -q 'vale0:vr ' && break; sleep 0.02; done

mkfifo "$TMPD/tp.in"
stdbuf -oL "$TP" --lcores='0@0,1@0' --no-huge --no-pci -m 512 --single-file-segments \
	--file-prefix=unmvhtp$$ "--vdev=net_virtio_user0,path=$VH,queues=1" -- -i \
	--forward-mode=txonly --txpkts=64 --total-num-mbufs=16384 \
	<"$TMPD/tp.in" >"$TMPD/tp.log" 2>&1 &
PIDS+=($!)
exec {TPFD}>"$TMPD/tp.in"
tp() { printf '%s\n' "$1" >&"$TPFD"; }
for ((i = 0; i < 600; i++)); do grep -q 'testpmd>' "$TMPD/tp.log" && break; sleep 0.05; done
grep -q 'testpmd>' "$TMPD/tp.log" || fail "testpmd did not start: $(tail -5 "$TMPD/tp.log")"

# stat PORT FIELD: a counter of vale0's port PORT from unm-ctl stats
# (FIELD tx|rx: frames; dst_full: drops toward it)
stat() {
	ctl stats vale0 | awk -v p="vale0:$1" -v f="$2" '
		$2 == p { on = 1; next }
		/^  [^ ]/ { on = 0 }
		on && f == "tx" && $1 == "tx" { print $2 }
		on && f == "rx" && $1 == "rx" { print $2 }
		on && f == "dst_full" && $1 == "rx" { for (i = 1; i < NF; i++) if ($i == "(dst_full") print $(i + 1) }'
}
# txp: testpmd's TX-packets now (its answer to a new "show port stats":
# txp runs in $(...), so the lines are counted here, not in a variable of
# the caller; a stale answer read too early made a running testpmd look
# stalled under load)
txp() {
	local n0 i
	n0=$(grep -c 'TX-packets:' "$TMPD/tp.log")
	tp "show port stats 0"
	for ((i = 0; i < 400; i++)); do
		[ "$(grep -c 'TX-packets:' "$TMPD/tp.log")" -gt "$n0" ] && break
		sleep 0.05
	done
	grep 'TX-packets:' "$TMPD/tp.log" | tail -1 | awk '{ print $2 }'
}
# wait_equal CMD... : until two reads 0.3 s apart agree (the switch drained)
settle() {
	local a b
	for ((i = 0; i < 40; i++)); do
		a=$("$@"); sleep 0.3; b=$("$@")
		[ "$a" = "$b" ] && break
	done
	echo "$b"
}
VHP=vhost-user:$VH

run() { # MODE
	local s0 t0 r0 d0 s1 s2 sent took got dropped
	s0=$(txp) t0=$(stat "$VHP" tx) r0=$(stat vr rx) d0=$(stat vr dst_full)
	tp start
	sleep 2
	s1=$(txp)
	sleep 2
	s2=$(txp)
	tp stop
	sleep 0.5
	sent=$(( $(txp) - s0 ))
	took=$(( $(settle stat "$VHP" tx) - t0 ))
	got=$(( $(settle stat vr rx) - r0 ))
	dropped=$(( $(stat vr dst_full) - d0 ))
	echo "$1: testpmd sent $sent (at 2 s: $((s1 - s0)), at 4 s: $((s2 - s0))), switch took $took, receiver got $got, dropped toward it $dropped"
	[ $sent -gt 1000 ] || fail "$1: testpmd sent only $sent frames"
	[ $((s2 - s1)) -gt 1000 ] || fail "$1: testpmd stopped sending after $((s1 - s0)) frames (stall)"
	[ $((took * 100)) -ge $((sent * 99)) ] && [ $took -le $sent ] ||
		fail "$1: testpmd sent $sent frames, the switch took $took"
	if [ "$1" = lossless ]; then
		[ $((got * 100)) -ge $((took * 99)) ] || fail "$1: the receiver got $got of $took frames"
	else
		[ $((got + dropped)) = $took ] ||
			fail "$1: $took frames in, $got received + $dropped dropped toward the receiver"
	fi
}
ctl switch set vale0 lossless on >/dev/null || fail "switch set lossless on"
run lossless
ctl switch set vale0 lossless off >/dev/null || fail "switch set lossless off"
run default
# the guest's frames went the in-place way (read from the guest's memory
# and copied once, to the receiver): the vhost-user backend copied into
# its RX slots only a few (those that came while frames waited in slots)
bj=$(ctl -j stats vale0 | tr '{' '\n' | grep '"copy_rx_frames"' | head -1)
brx=$(echo "$bj" | grep -o '"rx_frames":[0-9]*' | cut -d: -f2)
bcp=$(echo "$bj" | grep -o '"copy_rx_frames":[0-9]*' | cut -d: -f2)
echo "vhost-user backend: rx $brx frames, $bcp of them copied into RX slots"
[ -n "$brx" ] && [ -n "$bcp" ] || fail "no backend counters in unm-ctl -j stats"
[ $((bcp * 2)) -lt "$brx" ] || fail "in place: $bcp of $brx guest frames went through RX slots"
tp quit
exit 0
