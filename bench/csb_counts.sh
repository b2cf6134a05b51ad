#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# csb_counts.sh - where a CSB receiver's cost goes: the counts behind
# bench/vale_passthrough.sh, per 1000 frames the switch took from the
# sender (dlv: the share delivered; B drops what its receiver's ring
# cannot take), for
#   A = vale_tput -f -N: CSB sender -> switch -> unmd's in-daemon null port;
#   B = vale_tput -f:    CSB sender -> switch -> CSB receiver process.
# Over a window of SECONDS in the middle of a run it samples, per thread
# (unmd's forwarding thread, the sender, the receiver): CPU time (ns per
# frame, from /proc/.../schedstat), voluntary and involuntary context
# switches (an involuntary one on unmd's thread is a preemption, e.g. by
# a client it just woke), system calls (perf's raw_syscalls tracepoint,
# if perf works here), and unmd's own counters: interrupts written to
# each client and yields (unm-ctl stats). Counts, unlike rates, hardly
# depend on how loaded the machine is; involuntary switches do.
#
# usage: bench/csb_counts.sh [-w SECONDS] [-s SLOTS] [-r ROUNDS] [-- vale_tput args]
#   B=BUILDDIR (default build). Each round runs A then B. Verify with: -w 0.5.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.." || exit 1
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
win=1 slots=1024 rounds=1
while getopts "w:s:r:" o; do
	case $o in
	w) win=$OPTARG ;; s) slots=$OPTARG ;; r) rounds=$OPTARG ;; *) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
for f in bench/vale_tput unmd unm-ctl; do
	[ -x "$B/$f" ] || { echo "SKIP: $B/$f not built (make)"; exit 77; }
done
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
have_perf=0
perf stat -e raw_syscalls:sys_enter true >/dev/null 2>&1 && have_perf=1
tmp=$(mktemp -d /tmp/csb_counts.XXXXXX)
up=0 vp=0
cleanup() {
	[ "$vp" -gt 0 ] && kill "$vp" 2>/dev/null
	[ "$up" -gt 0 ] && kill "$up" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# thread sample: "runtime_ns vol invol waiting_ns" of PID/TID
tsample() {
	local d=/proc/$1/task/$2
	echo "$(cut -d' ' -f1 "$d/schedstat" 2>/dev/null || echo 0)" \
	     "$(awk '/^voluntary_ctxt/ {print $2}' "$d/status" 2>/dev/null || echo 0)" \
	     "$(awk '/^nonvoluntary_ctxt/ {print $2}' "$d/status" 2>/dev/null || echo 0)" \
	     "$(cut -d' ' -f2 "$d/schedstat" 2>/dev/null || echo 0)"
}
# unmd counters: "taken irqs_tx_port irqs_rx_port yields delivered"
csample() {
	"$B/unm-ctl" -s "$1" -j stats vale_bench 2>/dev/null | jq -r '
		(map(select(.name == "total"))[0].tx_delivered) as $d |
		(map(select(.name == "tx"))[0].tx_frames) as $t |
		(map(select(.name == "tx"))[0].irqs // 0) as $it |
		(map(select(.name == "rx"))[0].irqs // 0) as $ir |
		([.[] | select(.name != "total") | .yields] | add) as $y |
		"\($t) \($it) \($ir) \($y) \($d)"'
}

one() { # MODE(A|B) [vale_tput args]: prints one line
	local mode=$1 args="-f" fwd tx rx s0 s1 c0 c1
	local sock=$tmp/unmd-$mode.sock
	[ "$mode" = A ] && args="-f -N"
	"$B/unmd" -f -s "$sock" >"$tmp/unmd.log" 2>&1 & up=$!
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	"$B/bench/vale_tput" -S "$sock" -t "$(awk -v w="$win" 'BEGIN{print w + 5}')" -s "$slots" \
		$args "$@" >"$tmp/tput.log" 2>&1 & vp=$!
	sleep 1
	# unmd's forwarding thread: the busiest of its threads
	fwd=$(for t in /proc/$up/task/*; do echo "$(cut -d' ' -f1 "$t/schedstat") ${t##*/}"; done |
	      sort -n | tail -1 | cut -d' ' -f2)
	tx=$vp
	rx=$(pgrep -P "$vp" | grep -vx "$up" | head -1)
	# both samples inside perf's window: the counts cover the same time
	export -f tsample csample
	export B tmp
	cat >"$tmp/window.sh" <<-EOF
		csample "$sock" >"$tmp/c0"
		echo "\$(tsample $up $fwd) \$(tsample $tx $tx) \$(${rx:+tsample $rx $rx} ${rx:-echo 0 0 0 0})" >"$tmp/s0"
		sleep $win
		echo "\$(tsample $up $fwd) \$(tsample $tx $tx) \$(${rx:+tsample $rx $rx} ${rx:-echo 0 0 0 0})" >"$tmp/s1"
		csample "$sock" >"$tmp/c1"
	EOF
	if [ $have_perf = 1 ]; then
		perf stat --per-thread -x, -o "$tmp/perf.log" -e raw_syscalls:sys_enter \
			-p "$up,$tx${rx:+,$rx}" -- bash "$tmp/window.sh" >/dev/null 2>&1
	else
		bash "$tmp/window.sh"
	fi
	s0=$(cat "$tmp/s0") s1=$(cat "$tmp/s1") c0=$(cat "$tmp/c0") c1=$(cat "$tmp/c1")
	sc() { awk -F, -v t="$1" '$1 ~ "-"t"$" {print $2; exit}' "$tmp/perf.log" 2>/dev/null; }
	wait "$vp"; vp=0
	kill "$up"; wait "$up" 2>/dev/null; up=0
	awk -v mode="$mode" -v s0="$s0" -v s1="$s1" -v c0="$c0" -v c1="$c1" \
	    -v sf="$(sc "$fwd")" -v st="$(sc "$tx")" -v sr="$( [ -n "$rx" ] && sc "$rx")" \
	    -v rate="$(grep -o 'rate=[0-9.]*' "$tmp/tput.log" | cut -d= -f2)" 'BEGIN {
		split(s0, a); split(s1, b); split(c0, x); split(c1, y)
		f = y[1] - x[1]; if (f <= 0) { print mode ": no frames"; exit }
		k = 1000 / f
		printf "%s %6.2f Mpps %3.0f%% dlv | unmd %5.1f ns %5.1f wait %5.2f vcs %5.2f ics %5.2f sys %5.2f irq-tx %5.2f irq-rx %5.2f yld | tx %5.1f ns %5.2f vcs %5.2f sys | rx %5.1f ns %5.2f vcs %5.2f sys\n",
			mode, rate, 100 * (y[5] - x[5]) / f,
			(b[1]-a[1]) / f, (b[4]-a[4]) / f, (b[2]-a[2]) * k, (b[3]-a[3]) * k, sf * k,
			(y[2]-x[2]) * k, (y[3]-x[3]) * k, (y[4]-x[4]) * k,
			(b[5]-a[5]) / f, (b[6]-a[6]) * k, st * k,
			(b[9]-a[9]) / f, (b[10]-a[10]) * k, sr * k }'
}

echo "## per 1000 frames taken from the sender (ns: CPU ns per frame), ${win}s windows, $slots slots, $rounds round(s)"
echo "## vcs/ics: voluntary/involuntary context switches, sys: system calls (perf: $have_perf)"
for _ in $(seq "$rounds"); do
	one A "$@"
	one B "$@"
done
