#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# monitor_overhead.sh - what one monitor costs the port it watches: the
# rate of a VALE port -> port stream (bench/vale_tput: vale_bench:tx ->
# vale_bench:rx through unmd) without (A) and with (B) a TX+RX monitor of
# vale_bench:tx, interleaved by bench/ab.sh (median of per-round B/A).
#   -m drain (default): the monitor is read by unm-pktgen -f rx, as a
#      capture tool would (it competes for the 2 CPUs: the realistic cost);
#   -m idle: the monitor is opened and never read (it fills up, then every
#      copy is a counted drop: the cost of the hooks and of dropping).
# Both runs use one private unmd; the monitored port is persistent
# (unm-ctl port add) so the monitor can be opened before vale_tput takes it.
# rate = vale_tput's rx Mpps. In drain mode the script also reports the
# CPU the monitor's reader took (utime+stime from /proc, share of one vCPU,
# median over the B runs): CPU that the three forwarding processes lose on
# a 2-vCPU machine.
#
#   -d: inside a trust domain instead (unm-ctl switch set vale0 domains
#      uid): unm-pktgen -f tx on vale0:tx (CPU 0) -> unm-pktgen -f rx on
#      vale0:rx (CPU 1), the monitor an RX monitor of vale0:rx opened by
#      the same uid, hence zero-copy (vale0:rx hands it every frame it
#      released, by buffer swap); rate = the receiver's median interval
#      rate. The monitor's reader is not pinned (it shares the 2 vCPUs).
# usage: bench/monitor_overhead.sh [-n ROUNDS] [-t SECONDS] [-l LEN] [-m drain|idle] [-d]
#   B=BUILDDIR (default build). Verify with: -n 1 -t 1.
#   Internal: monitor_overhead.sh --run SOCK SECONDS LEN MODE (one run,
#   MODE none|drain|idle, prints rate=).
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.." || exit 1
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac

# CPU ticks (user + system) of process $1 so far
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }

one_run() { # sock secs len mode
	local sock=$1 secs=$2 len=$3 mode=$4 mon="" out rx
	export UNM_SOCKET=$sock
	"$B/unm-ctl" port add vale_bench:tx@conf:slots=1024 >/dev/null || return 1
	case $mode in
	drain)
		"$B/unm-pktgen" -i "monitor:vale_bench:tx${MON_CONF:-}" -f rx -T 0 >/dev/null 2>&1 &
		mon=$! ;;
	idle)
		# a monitor nobody reads: held open by a sleeping unm-pktgen -w
		"$B/unm-pktgen" -i monitor:vale_bench:tx -f rx -T 0 -w 3600 >/dev/null 2>&1 &
		mon=$! ;;
	esac
	[ -n "$mon" ] && sleep 0.2
	local c0 t0 c1 t1
	[ -n "$mon" ] && { c0=$(ticks "$mon"); t0=$(date +%s%N); }
	out=$("$B/bench/vale_tput" -S "$sock" -t "$secs" -l "$len" 2>&1)
	if [ -n "$mon" ]; then
		c1=$(ticks "$mon") t1=$(date +%s%N)
		[ "$mode" = drain ] && [ -n "${MON_CPU_LOG:-}" ] && [ -n "$c0" ] && [ -n "$c1" ] &&
			awk -v c=$((c1 - c0)) -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
				'BEGIN { printf "%.1f\n", 100 * c / hz / (t / 1e9) }' >>"$MON_CPU_LOG"
		kill "$mon" 2>/dev/null
		wait "$mon" 2>/dev/null
	fi
	for _ in $(seq 50); do "$B/unm-ctl" port del vale_bench:tx >/dev/null 2>&1 && break; sleep 0.05; done
	rx=$(printf '%s\n' "$out" | sed -n 's/.*rx \([0-9.]*\) Mpps.*/\1/p' | tail -1)
	printf '%s\n' "$out"
	[ -n "$rx" ] && echo "rate=$(awk -v r="$rx" 'BEGIN{printf "%.0f", r * 1e6}')"
}

# one run inside a domain: receiver, then (MODE drain|idle) its zero-copy
# RX monitor, then the sender for SECS; prints rate=
one_run_dom() { # sock secs len mode
	local sock=$1 secs=$2 len=$3 mode=$4 mon="" log rxp c0 t0 c1 t1
	export UNM_SOCKET=$sock
	log=$(mktemp /tmp/monitor_overhead.XXXXXX)
	"$B/unm-pktgen" -f rx -i vale0:rx -a 1 -T 500 -j >"$log" 2>&1 &
	rxp=$!
	sleep 0.3
	case $mode in
	drain) "$B/unm-pktgen" -i vale0:rx/r -f rx -T 0 >/dev/null 2>&1 & mon=$! ;;
	idle) "$B/unm-pktgen" -i vale0:rx/r -f rx -T 0 -w 3600 >/dev/null 2>&1 & mon=$! ;;
	esac
	[ -n "$mon" ] && { sleep 0.2; c0=$(ticks "$mon"); t0=$(date +%s%N); }
	timeout -s INT "$secs" "$B/unm-pktgen" -f tx -i vale0:tx -a 0 -l "$len" -T 0 \
		>/dev/null 2>&1
	if [ -n "$mon" ]; then
		c1=$(ticks "$mon") t1=$(date +%s%N)
		[ "$mode" = drain ] && [ -n "${MON_CPU_LOG:-}" ] && [ -n "$c0" ] && [ -n "$c1" ] &&
			awk -v c=$((c1 - c0)) -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
				'BEGIN { printf "%.1f\n", 100 * c / hz / (t / 1e9) }' >>"$MON_CPU_LOG"
	fi
	sleep 0.2
	kill -INT "$rxp" 2>/dev/null
	wait "$rxp" 2>/dev/null
	if [ -n "$mon" ]; then
		kill "$mon" 2>/dev/null
		wait "$mon" 2>/dev/null
	fi
	# median of the receiver's interval rates, first and last out
	grep -a '"type":"interval"' "$log" | sed 's/.*"pps":\([0-9]*\).*/\1/' |
		awk '{ v[NR] = $1 } END { for (i = 2; i < NR; i++) if (v[i] > 0) print v[i] }' |
		sort -n | awk '{ v[NR] = $1 } END { if (!NR) exit 1
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "unm-pktgen rx: %.2f Mpps\nrate=%.0f\n", m / 1e6, m }'
	local rc=$?
	rm -f "$log"
	return $rc
}

if [ "${1:-}" = --run-dom ]; then
	one_run_dom "$2" "$3" "$4" "$5"
	exit $?
fi
if [ "${1:-}" = --run ]; then
	one_run "$2" "$3" "$4" "$5"
	exit $?
fi
rounds=5 secs=3 len=60 mode=drain dom=0
while getopts "n:t:l:m:d" o; do
	case $o in
	n) rounds=$OPTARG ;; t) secs=$OPTARG ;; l) len=$OPTARG ;; m) mode=$OPTARG ;; d) dom=1 ;;
	*) exit 2 ;;
	esac
done
case $mode in drain|idle) ;; *) echo "monitor_overhead.sh: -m drain|idle" >&2; exit 2 ;; esac
for p in unmd unm-ctl unm-pktgen bench/vale_tput; do
	[ -x "$B/$p" ] || { echo "SKIP: $B/$p not built (make)"; exit 77; }
done
sock=/tmp/monitor_overhead-$$.sock
"$B/unmd" -f -s "$sock" >/dev/null 2>&1 &
unmd=$!
export MON_CPU_LOG=/tmp/monitor_overhead-$$.cpu
trap 'kill $unmd 2>/dev/null; wait $unmd 2>/dev/null; rm -f "$sock" "$MON_CPU_LOG"' EXIT
trap 'exit 130' INT TERM
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.02; done
if [ "$dom" = 1 ]; then
	UNM_SOCKET=$sock "$B/unm-ctl" switch add vale0 >/dev/null &&
		UNM_SOCKET=$sock "$B/unm-ctl" switch set vale0 domains uid >/dev/null || exit 1
	bash "$here/ab.sh" -n "$rounds" \
		-t "vale0 trust domain tx -> rx, $((len + 4))-byte frames, ${secs}s each: no monitor (A) vs one $mode zero-copy RX monitor of rx (B)" \
		-A "bash $here/monitor_overhead.sh --run-dom $sock $secs $len none" \
		-B "bash $here/monitor_overhead.sh --run-dom $sock $secs $len $mode"
	rc=$?
	[ -s "$MON_CPU_LOG" ] && sort -g "$MON_CPU_LOG" |
		awk '{ a[NR] = $1 } END { printf "monitor reader CPU: median %s%% of one vCPU (min %s, max %s, %d runs)\n", a[int((NR + 1) / 2)], a[1], a[NR], NR }'
	exit $rc
fi
bash "$here/ab.sh" -n "$rounds" \
	-t "VALE port -> port, $((len + 4))-byte frames, ${secs}s each: no monitor (A) vs one $mode monitor (B)" \
	-A "bash $here/monitor_overhead.sh --run $sock $secs $len none" \
	-B "bash $here/monitor_overhead.sh --run $sock $secs $len $mode"
rc=$?
[ -s "$MON_CPU_LOG" ] && sort -g "$MON_CPU_LOG" |
	awk '{ a[NR] = $1 } END { printf "monitor reader CPU: median %s%% of one vCPU (min %s, max %s, %d runs)\n", a[int((NR + 1) / 2)], a[1], a[NR], NR }'
exit $rc
