#!/bin/bash
# demo.sh - the main job (make demo): start unmd on a private socket, a
# receiver on vale0:rx and a generator on vale0:tx, run for DEMO_SECONDS
# (default 5), print the rates both report, stop everything it started.
# With DEMO=pipe it runs generator -> zero-copy pipe -> sink instead.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
secs=${DEMO_SECONDS:-5}
len=${DEMO_LEN:-60}
dir=$(mktemp -d /tmp/unm-demo.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

if [ "${DEMO:-vale}" = pipe ] || [ ! -x "$B/unmd" ]; then
	name=demo$$
	echo "== unm-pktgen tx -> pipe $name -> unm-pktgen rx, ${len}-byte frames, ${secs}s"
	"$B/unm-pktgen" -f rx -i "$name}0" -T 1000 > "$dir/rx.log" 2>&1 & pids+=($!)
	sleep 0.3
	timeout -s INT "$secs" "$B/unm-pktgen" -f tx -i "$name{0" -l "$len" -T 1000
	sleep 0.3
	kill -INT "${pids[0]}" 2>/dev/null; wait "${pids[0]}" 2>/dev/null
	echo "-- receiver:"; cat "$dir/rx.log"
	exit 0
fi

export UNM_SOCKET=$dir/unmd.sock
"$B/unmd" -f -s "$UNM_SOCKET" 2> "$dir/unmd.log" & pids+=($!)
for _ in $(seq 50); do [ -S "$UNM_SOCKET" ] && break; sleep 0.1; done
[ -S "$UNM_SOCKET" ] || { echo "unmd did not start:"; cat "$dir/unmd.log"; exit 1; }
echo "== unmd on $UNM_SOCKET; unm-pktgen tx -> vale0 -> unm-pktgen rx, ${len}-byte frames, ${secs}s"
# persistent ports keep their counters after the programs exit, so the
# "switch counters" below show this run (a client port goes with its client)
"$B/unm-ctl" port add vale0:tx > /dev/null && "$B/unm-ctl" port add vale0:rx > /dev/null ||
	{ echo "cannot create the demo ports:"; cat "$dir/unmd.log"; exit 1; }
"$B/unm-pktgen" -f rx -i vale0:rx -T 1000 > "$dir/rx.log" 2>&1 & rxpid=$!; pids+=($rxpid)
sleep 0.5
# -D: a unicast destination (two ports: it floods to the one receiver anyway)
timeout -s INT "$secs" "$B/unm-pktgen" -f tx -i vale0:tx -l "$len" -T 1000 -D 02:00:00:00:00:02
sleep 0.5
kill -INT "$rxpid" 2>/dev/null; wait "$rxpid" 2>/dev/null
echo "-- receiver (vale0:rx):"; cat "$dir/rx.log"
echo "-- switch counters (unm-ctl stats):"
"$B/unm-ctl" stats || true
echo "-- unmd log:"; cat "$dir/unmd.log"
