#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# domain_monitor_counts.sh - what a drained zero-copy RX monitor of a
# trust-domain port costs, in load-independent units: unm-pktgen -f tx on
# vale0:tx (CPU 0) -> unm-pktgen -f rx on vale0:rx (CPU 1), the monitor
# vale0:rx/r read by unm-pktgen -f rx (not pinned), as
# bench/monitor_overhead.sh -d runs them; over SECONDS - 1 seconds, per
# 1000 frames the receiver released (handed + monitor drops): the
# receiver's and the monitor reader's context switches, eventfd writes
# (write) and epoll_wait calls (perf stat, software events and syscall
# tracepoints), their CPU (task-clock) per frame, and the share of frames
# the monitor got. Wall-clock rates swing 3-4x on a loaded machine; these
# counts do not (much). Needs perf with syscall tracepoints (root).
# usage: bench/domain_monitor_counts.sh [-t SECONDS] [-n ROUNDS]
#   B=BUILDDIR (default build); run once per build to compare builds.
set -u
case "${1:-}" in -h|--help) sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.." || exit 1
B=${B:-build}
secs=3 rounds=1
while getopts "t:n:" o; do
	case $o in t) secs=$OPTARG ;; n) rounds=$OPTARG ;; *) exit 2 ;; esac
done
[ "$secs" -ge 2 ] 2>/dev/null || { echo "domain_monitor_counts.sh: -t >= 2" >&2; exit 2; }
for p in unmd unm-ctl unm-pktgen; do
	[ -x "$B/$p" ] || { echo "SKIP: $B/$p not built (make)"; exit 77; }
done
command -v perf >/dev/null || { echo "SKIP: no perf"; exit 77; }
tmp=$(mktemp -d /tmp/domain_monitor_counts.XXXXXX)
sock=$tmp/unmd.sock
unmd="" rxp="" mon=""
cleanup() {
	for p in $mon $rxp $unmd; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export UNM_SOCKET=$sock
"$B/unmd" -f -s "$sock" >/dev/null 2>&1 &
unmd=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.02; done
"$B/unm-ctl" switch add vale0 >/dev/null && "$B/unm-ctl" switch set vale0 domains uid >/dev/null ||
	exit 1
ev=task-clock,context-switches,syscalls:sys_enter_write,syscalls:sys_enter_epoll_wait
counts() { "$B/unm-ctl" list | awk '/monitor rx copies/ { print $4, $6; exit }'; }
for r in $(seq "$rounds"); do
	"$B/unm-pktgen" -f rx -i vale0:rx -a 1 -T 0 >/dev/null 2>&1 &
	rxp=$!
	sleep 0.3
	"$B/unm-pktgen" -i vale0:rx/r -f rx -T 0 >/dev/null 2>&1 &
	mon=$!
	sleep 0.2
	timeout -s INT "$secs" "$B/unm-pktgen" -f tx -i vale0:tx -a 0 -l 60 -T 0 \
		>/dev/null 2>&1 &
	txp=$!
	sleep 0.5
	c0=$(counts)
	perf stat -x, -e "$ev" -p "$rxp" -o "$tmp/rx" -- sleep $((secs - 1)) &
	pr=$!
	perf stat -x, -e "$ev" -p "$mon" -o "$tmp/mon" -- sleep $((secs - 1)) &
	pm=$!
	wait "$pr" "$pm"
	c1=$(counts)
	wait "$txp"
	for p in $mon $rxp; do kill -INT "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	mon="" rxp=""
	# shellcheck disable=SC2086
	set -- $c0 $c1
	[ $# = 4 ] || { echo "round $r: no monitor counts" >&2; exit 1; }
	hand=$(($3 - $1)) drop=$(($4 - $2))
	tot=$((hand + drop))
	[ "$tot" -gt 0 ] || { echo "round $r: no frames" >&2; exit 1; }
	echo "round $r: $tot frames released, monitor got $(awk -v h=$hand -v t=$tot 'BEGIN { printf "%.1f%%", 100 * h / t }')"
	for who in rx mon; do
		printf '  %-4s per 1000 frames:' "$who"
		awk -F, -v n="$tot" '
			$3 == "task-clock" { cpu = $1 * 1e6 / n }
			$3 == "context-switches" { printf " cswitch %.3f", $1 * 1000 / n }
			$3 ~ /sys_enter_write/ { printf " write %.3f", $1 * 1000 / n }
			$3 ~ /sys_enter_epoll_wait/ { printf " epoll_wait %.3f", $1 * 1000 / n }
			END { printf "; CPU %.2f ns/frame\n", cpu }' "$tmp/$who"
	done
done
