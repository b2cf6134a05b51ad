#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: DPDK's net_memif (dpdk-testpmd, --no-huge) joins a VALE
# switch through a memif port that unm-ctl attaches to unmd, in both memif
# roles, with exact frame counts on a lossless switch:
#   1. unmd's port is the master (unm-ctl binds the socket and hands unmd
#      the listening fd), testpmd role=client: testpmd txonly -> memif ->
#      vale0 -> unm-pktgen rx receives exactly testpmd's TX-packets; then
#      unm-pktgen tx sends N -> vale0 -> memif -> testpmd rxonly counts
#      exactly N;
#   2. testpmd role=server, unmd's port the slave (unm-ctl connects and
#      hands over the connection): the same two directions;
#   3. as 2 with @conf:zerocopy=1: every frame both ways lent or swapped,
#      none copied (unm-ctl's backend counters of the port).
# testpmd sees the link come up; detach removes the port. SKIPs without dpdk-testpmd or if it cannot start.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
TESTPMD=${TESTPMD:-/usr/bin/dpdk-testpmd}
fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
[ -x "$TESTPMD" ] || skip "$TESTPMD not installed (package dpdk-dev)"
for p in unmd unm-ctl unm-pktgen; do [ -x "$B/$p" ] || fail "$B/$p not built"; done
T=$(mktemp -d /tmp/unm-memif-vale.XXXXXX)
TAG=unmmv$$
PIDS=()
cleanup() {
	exec 3>&- 2>/dev/null
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$T" /var/run/dpdk/${TAG}* 2>/dev/null
}
trap cleanup EXIT
N=20000

export UNM_SOCKET=$T/unmd.sock
"$B/unmd" -f -s "$UNM_SOCKET" 2> "$T/unmd.log" &
UNMD=$!
PIDS+=($UNMD)
for _ in $(seq 100); do [ -S "$UNM_SOCKET" ] && break; sleep 0.05; done
[ -S "$UNM_SOCKET" ] || fail "unmd did not start: $(cat "$T/unmd.log")"
ctl() { "$B/unm-ctl" "$@"; }
ctl switch add vale0 >/dev/null || fail "switch add"
ctl switch set vale0 lossless on >/dev/null || fail "lossless on"

# testpmd VDEV LABEL: interactive, stdin a fifo on fd 3, output in $T/LABEL.log
TP=
start_testpmd() {
	local vdev=$1 label=$2
	rm -f "$T/in"; mkfifo "$T/in"
	LOG=$T/$label.log
	stdbuf -oL "$TESTPMD" --no-huge --no-pci -m 512 --single-file-segments \
		--file-prefix="$TAG$label" --lcores=0@0,1@1 --vdev="$vdev" -- -i \
		--total-num-mbufs=16384 --nb-cores=1 < "$T/in" > "$LOG" 2>&1 &
	TP=$!
	PIDS+=($TP)
	exec 3> "$T/in"
	for _ in $(seq 300); do grep -q 'testpmd>' "$LOG" && return 0; sleep 0.1
		kill -0 $TP 2>/dev/null || break; done
	grep -qE 'EAL: FATAL|Cannot init|No probed' "$LOG" && skip "testpmd cannot start: $(head -c 300 "$LOG")"
	fail "testpmd did not start: $(cat "$LOG")"
}
cmd() { echo "$*" >&3; }
# wait_log PATTERN [SECONDS]: until the testpmd log has PATTERN more times than before
count_of() { grep -c -- "$1" "$LOG"; }
wait_more() { # PATTERN BEFORE
	for _ in $(seq 100); do [ "$(count_of "$1")" -gt "$2" ] && return 0; sleep 0.1; done
	fail "testpmd: no '$1': $(tail -20 "$LOG")"
}
# last value of "KEY: N" in the log
last_stat() { grep -o -- "$1: *[0-9]*" "$LOG" | tail -1 | grep -o '[0-9]*$'; }
stats() {
	local n; n=$(count_of 'NIC statistics for port 0')
	cmd "show port stats all"
	wait_more 'NIC statistics for port 0' "$n"
	sleep 0.2
}
quit_testpmd() {
	cmd quit
	exec 3>&-
	for _ in $(seq 100); do kill -0 $TP 2>/dev/null || break; sleep 0.1; done
	kill -9 $TP 2>/dev/null
	wait $TP 2>/dev/null
}
link_up() { # testpmd reports the memif link up
	for _ in $(seq 50); do
		cmd "show port info 0"
		sleep 0.2
		[ "$(grep -o 'Link status: *[a-z]*' "$LOG" | tail -1 | awk '{print $3}')" = up ] &&
			return 0
	done
	return 1
}
# rx_frames SWITCH:PORT: frames the switch delivered to that port
rx_frames() { ctl -j stats "$1" | grep -o '"rx_frames":[0-9]*' | grep -o '[0-9]*$'; }

both_ways() { # LABEL PORTNAME
	local label=$1 pname=$2 n sent got
	# testpmd -> memif -> vale0 -> unm-pktgen rx
	"$B/unm-pktgen" -f rx -i vale0:rx -T 0 > "$T/rx.out" 2>&1 &
	local rx=$!
	PIDS+=($rx)
	sleep 0.5
	n=$(count_of 'Telling cores to stop')
	cmd "set fwd txonly"
	cmd "start"
	sleep 1
	cmd "stop"
	wait_more 'Telling cores to stop' "$n"
	sleep 0.5
	stats
	sent=$(last_stat TX-packets)
	# poll until the switch has delivered them all (lossless: none may
	# be missing), then until the receiver stops counting
	for _ in $(seq 100); do
		[ "$(rx_frames vale0:rx)" = "$sent" ] && break
		sleep 0.1
	done
	sleep 0.3
	kill -INT $rx; wait $rx
	got=$(grep -o 'Received [0-9]*' "$T/rx.out" | grep -o '[0-9]*')
	echo "$label: testpmd TX-packets $sent, unm-pktgen received $got"
	[ -n "$sent" ] && [ "$sent" -gt 0 ] || fail "$label: testpmd sent nothing: $(tail -30 "$LOG")"
	[ "$got" = "$sent" ] || fail "$label: received $got of $sent; $(cat "$T/rx.out"); $(ctl stats vale0)"

	# unm-pktgen tx -> vale0 -> memif -> testpmd rxonly
	cmd "clear port stats all"
	n=$(count_of 'packet forwarding - ports=')
	cmd "set fwd rxonly"
	cmd "start"
	wait_more 'packet forwarding - ports=' "$n"
	"$B/unm-pktgen" -f tx -i vale0:tx -n $N -T 0 > "$T/tx.out" 2>&1 ||
		fail "$label: unm-pktgen tx: $(cat "$T/tx.out")"
	for _ in $(seq 50); do
		stats
		[ "$(last_stat RX-packets)" = "$N" ] && break
	done
	n=$(count_of 'Telling cores to stop')
	cmd "stop"
	wait_more 'Telling cores to stop' "$n"
	stats
	got=$(last_stat RX-packets)
	echo "$label: unm-pktgen sent $N, testpmd RX-packets $got"
	[ "$got" = "$N" ] || fail "$label: testpmd received $got of $N; $(ctl stats vale0)"
}

# 1. our port is the master, testpmd the client
SOCK=$T/m0.sock
ctl attach vale0 "memif:$SOCK@conf:role=master" > "$T/ctl.out" 2>&1 ||
	fail "attach master: $(cat "$T/ctl.out")"
start_testpmd "net_memif0,role=client,socket=$SOCK,socket-abstract=no" cli
link_up || fail "master: link never up: $(ctl list); $(tail -20 "$LOG")"
both_ways master "memif:$SOCK"
quit_testpmd
ctl detach vale0 "memif:$SOCK@conf:role=master" > "$T/ctl.out" 2>&1 ||
	fail "detach master: $(cat "$T/ctl.out")"

# 2. testpmd is the server (abstract socket, DPDK's default), our port the slave
ABS=unm-memif-vale-$$
start_testpmd "net_memif0,role=server,socket=$ABS" srv
sleep 0.5
ctl attach vale0 "memif:@$ABS@conf:role=slave" > "$T/ctl.out" 2>&1 ||
	fail "attach slave: $(cat "$T/ctl.out")"
link_up || fail "slave: link never up: $(ctl list); $(tail "$LOG")"
both_ways slave "memif:@$ABS"
quit_testpmd
ctl detach vale0 "memif:@$ABS@conf:role=slave" > "$T/ctl.out" 2>&1 ||
	fail "detach slave: $(cat "$T/ctl.out")"

# 3. the same, our slave lending its buffers (zero copy): every frame
# either way moved by buffer, none copied (unm-ctl's backend counters)
ABS=unm-memif-valez-$$
start_testpmd "net_memif0,role=server,socket=$ABS" srvz
sleep 0.5
ctl attach vale0 "memif:@$ABS@conf:role=slave,zerocopy=1" > "$T/ctl.out" 2>&1 ||
	fail "attach slave zerocopy: $(cat "$T/ctl.out")"
link_up || fail "slave zerocopy: link never up: $(ctl list); $(tail "$LOG")"
both_ways slave-zc "memif:@$ABS"
zc=$(ctl -j stats vale0 | jq -c '[.. | objects | select(has("zc_tx_frames"))] | .[0] | [.tx_frames, .zc_tx_frames, .copy_tx_frames, .rx_frames, .zc_rx_frames, .copy_rx_frames]')
echo "slave-zc: backend [tx, zc tx, copied tx, rx, zc rx, copied rx] = $zc"
echo "$zc" | jq -e '.[0] > 0 and .[0] == .[1] and .[2] == 0 and .[3] > 0 and .[3] == .[4] and .[5] == 0' >/dev/null ||
	fail "slave zerocopy: frames copied, or none lent: $zc; $(ctl stats vale0)"
quit_testpmd
ctl detach vale0 "memif:@$ABS@conf:role=slave,zerocopy=1" > "$T/ctl.out" 2>&1 ||
	fail "detach slave zerocopy: $(cat "$T/ctl.out")"
kill -0 $UNMD || fail "unmd died"
echo PASS
