#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# vhost_counts.sh [SECS [ROUNDS]] - where the CPU goes on the vhost-user
# user path (issue 15 item 1) against DPDK's own vhost <-> virtio_user,
# as counts per frame (CPU time hardly depends on the load; rates do):
#   user: testpmd net_virtio_user txonly (CPU 0) -> unmd vhost-user port
#         attached to vale0 -> sleeping unm-pktgen rx on vale0:vr
#   dpdk: testpmd net_virtio_user txonly (CPU 0) -> testpmd net_vhost
#         rxonly (CPU 1)
# For a window of SECS seconds of each side, per round (interleaved), per
# thread (testpmd's lcores, unmd's forwarding thread, unm-pktgen): CPU ns
# and run-queue wait ns per frame the sender counted, voluntary and
# involuntary context switches per 1000 frames, the CPUs it ran on; for
# unmd: interrupts to the receiver and yields per 1000 frames, drops by
# reason; testpmd's TX-dropped (frames its virtqueue could not take).
# UNMD_CPUS=LIST and RX_CPUS=LIST pin unmd and unm-pktgen (taskset lists;
# default: where the scheduler puts them), as in vhost_tput.sh.
#   Usage: [B=build] [UNMD_CPUS=list] [RX_CPUS=list]
#          bench/vhost_counts.sh [SECS [ROUNDS]]  (default 2 2). Root.
set -u
cd "$(dirname "$0")/.." || exit 1
SECS=${1:-2}
ROUNDS=${2:-2}
TP=/usr/bin/dpdk-testpmd
UNMD=$PWD/${B:-build}/unmd
CTL=$PWD/${B:-build}/unm-ctl
PKTGEN=$PWD/${B:-build}/unm-pktgen
[ -x "$TP" ] || { echo "SKIP: $TP not installed (dpdk-dev)"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
TMPD=$(mktemp -d /tmp/unm-vcount.XXXXXX)
. bench/lib.sh
BENCH_FILES+=("$TMPD")
TP_PREFIX=unmvc$$
trap bench_cleanup EXIT

USOCK=$TMPD/unmd.sock
(on_cpus "${UNMD_CPUS:-}" "$UNMD" -f -s "$USOCK" 2>"$TMPD/unmd.log") &
UPID=$!
BENCH_PIDS+=($UPID)
for _ in $(seq 100); do [ -S "$USOCK" ] && break; sleep 0.05; done
"$CTL" -s "$USOCK" attach vale0 "vhost-user:$TMPD/user.sock" >/dev/null || exit 1
(export UNM_SOCKET=$USOCK; on_cpus "${RX_CPUS:-}" "$PKTGEN" -f rx -i vale0:vr -n 1000000000 >"$TMPD/urx.log" 2>&1) &
RPID=$!
BENCH_PIDS+=($RPID)
sleep 0.5
tp_start vc 0 "net_virtio_user0,path=$TMPD/user.sock,queues=1"
VCPID=${BENCH_PIDS[-1]}
wait_for "$TMPD/vc.log" "testpmd>" 20 || exit 1
tp_start vh 1 "net_vhost0,iface=$TMPD/dpdk.sock,queues=1"
VHPID=${BENCH_PIDS[-1]}
wait_for "$TMPD/vh.log" "testpmd>" 20 || exit 1
tp_cmd vh "set fwd rxonly"
tp_start vb 0 "net_virtio_user0,path=$TMPD/dpdk.sock,queues=1"
VBPID=${BENCH_PIDS[-1]}
wait_for "$TMPD/vb.log" "testpmd>" 20 || exit 1

# per-thread sample of process PID: "tid comm runtime_ns wait_ns vcs ics cpu" lines
psample() {
	local t
	for t in /proc/$1/task/*; do
		echo "${t##*/} $(tr -d ' ' <"$t/comm") $(cut -d' ' -f1,2 "$t/schedstat")" \
		     "$(awk '/^voluntary_ctxt/ {v=$2} /^nonvoluntary_ctxt/ {n=$2} END {print v, n}' "$t/status")" \
		     "$(awk '{print $39}' "$t/stat")"
	done 2>/dev/null
}
# unmd's counters as one JSON snapshot
csample() { "$CTL" -s "$USOCK" -j stats vale0 2>/dev/null; }

# window NAME SENDER PIDS...: SECS seconds of txonly on testpmd NAME,
# threads of PIDS sampled inside; prints a report
window() {
	local name=$1 n=$2 f pid; shift 2
	tp_cmd "$name" "set fwd txonly"
	tp_cmd "$name" "start"
	sleep 0.3
	for pid in "$@"; do psample "$pid" | sed "s/^/$pid /"; done >"$TMPD/s0"
	csample >"$TMPD/c0"
	sleep "$SECS"
	for pid in "$@"; do psample "$pid" | sed "s/^/$pid /"; done >"$TMPD/s1"
	csample >"$TMPD/c1"
	tp_cmd "$name" "stop"
	wait_for "$TMPD/$name.log" "Done." 10 "$n" >/dev/null || return 1
	sleep 0.1
	f=$(tx_packets "$name")
	# frames sent in the window: scale the run's total by window/run time
	local sent=$(awk -v f="$f" -v s="$SECS" 'BEGIN { printf "%d", f * s / (s + 0.3) }')
	local drop=$(grep 'TX-dropped:' "$TMPD/$name.log" | tail -1 | awk '{print $4}')
	echo "$name: sent $f in $(awk -v s="$SECS" 'BEGIN{print s + 0.3}') s ($(awk -v f="$f" -v s="$SECS" 'BEGIN{printf "%.2f", f/(s+0.3)/1e6}') Mpps), TX-dropped $drop; per frame (window, ~$sent frames):"
	join <(sort "$TMPD/s0" | awk '{print $1"/"$2, $3, $4, $5, $6, $7, $8}' | sort) \
	     <(sort "$TMPD/s1" | awk '{print $1"/"$2, $4, $5, $6, $7, $8}' | sort) |
	awk -v n="$sent" '{ cpu = ($8 - $3) / n; if (cpu < 0.5) next;
		printf "  %-22s %-16s cpu %6.1f ns  wait %6.1f ns  vcs %7.3f  ics %7.3f /1000  cpu#%s\n",
			$1, $2, cpu, ($9 - $4) / n, ($10 - $5) * 1000 / n, ($11 - $6) * 1000 / n, $12 }'
}
ureport() {
	# per 1000 frames the switch took from the vhost-user port
	jq -r -s '.[0] as $a | .[1] as $b |
		([$b[] | select(.name | test("vhost-user"))][0].tx_frames -
		 [$a[] | select(.name | test("vhost-user"))][0].tx_frames) as $n |
		[$b[] | select(.name != "total")] | map(. as $p | ($a[] | select(.name == $p.name)) as $q |
		"  unmd " + $p.name + ": tx " + (($p.tx_frames - $q.tx_frames) | tostring) +
		" rx " + (($p.rx_frames - $q.rx_frames) | tostring) +
		" irqs " + (((($p.irqs // 0) - ($q.irqs // 0)) * 1000 / $n) * 100 | round / 100 | tostring) + "/1000" +
		" yields " + (((($p.yields // 0) - ($q.yields // 0)) * 1000 / $n) * 100 | round / 100 | tostring) + "/1000" +
		" drops " + ([($p | to_entries[] | select(.key | test("drop")) | .key) as $k | select(($p[$k] | type) == "number") | select($p[$k] != $q[$k]) | "\($k)=\($p[$k] - $q[$k])"] | join(","))) | .[]' \
		"$TMPD/c0" "$TMPD/c1"
}
for r in $(seq 1 "$ROUNDS"); do
	echo "== round $r"
	window vc "$r" "$VCPID" "$UPID" "$RPID"
	ureport 2>&1 | head -5
	tp_cmd vh start
	window vb "$r" "$VBPID" "$VHPID"
	tp_cmd vh stop
done
echo "unm-pktgen: $(tail -2 "$TMPD/urx.log" | tr '\n' ' ')"
exit 0
