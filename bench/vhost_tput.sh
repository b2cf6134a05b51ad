#!/bin/bash
# vhost_tput.sh [SECS [ROUNDS]] - throughput of the vhost-user port against DPDK's
# own vhost-user backend, measured in the same run (ratios matter on a
# shared 2-vCPU machine):
#   unm   : dpdk-testpmd net_virtio_user txonly -> our vhost-user port
#           (bench/vhost_sink busy-polls unm_rxsync on CPU 1)
#   dpdk  : dpdk-testpmd net_virtio_user txonly -> dpdk-testpmd net_vhost
#           rxonly (CPU 1)
#   user  : the path a user takes (issue 15 item 1): unmd with the
#           vhost-user port attached to vale0 (`unm-ctl attach`), a sleeping
#           unm-pktgen rx on vale0:vr, the same testpmd sender; its receiver
#           column counts what unm-pktgen got (the switch drops toward a
#           receiver that cannot keep up; USER_PATH=0 leaves this side out)
# The sender always runs on CPU 0 (main and forwarding lcore). On the
# user path the scheduler places unmd and the receiver; UNMD_CPUS=LIST
# and RX_CPUS=LIST (taskset lists) pin them instead, to tell placement
# from per-frame cost (e.g. RX_CPUS=1: the receiver never shares the
# sender's CPU, so a wake-up always finds unmd's yield). Rate =
# frames the sender's port counts as sent (TX-packets, 64-byte frames)
# during SECS seconds of forwarding, ROUNDS interleaved rounds, median of
# the per-round ratios; the receivers' totals are printed
# as a check (it must not be lower). testpmd busy-polls a core per
# instance: keep SECS small unless the machine is yours.
#   Usage: [B=build] [UNMD=path] [UNMD_CPUS=list] [RX_CPUS=list]
#          bench/vhost_tput.sh [SECS [ROUNDS]]   (default 2 5)
set -u
cd "$(dirname "$0")/.." || exit 1
SECS=${1:-2}
ROUNDS=${2:-5}
PROBE=$PWD/${B:-build}/bench/raw_ring
TP=/usr/bin/dpdk-testpmd
SINK=$PWD/${B:-build}/bench/vhost_sink
UNMD=${UNMD:-$PWD/${B:-build}/unmd}  # UNMD=: another unmd build (A/B)
CTL=$PWD/${B:-build}/unm-ctl
PKTGEN=$PWD/${B:-build}/unm-pktgen
USER_PATH=${USER_PATH:-1}
[ -x "$TP" ] || { echo "SKIP: $TP not installed (dpdk-dev)"; exit 77; }
[ -x "$SINK" ] || { echo "SKIP: $SINK not built (make)"; exit 77; }
TMPD=$(mktemp -d /tmp/unm-vbench.XXXXXX)
. bench/lib.sh
BENCH_FILES+=("$TMPD")
TP_PREFIX=unmvb$$
trap bench_cleanup EXIT

# Both setups stay up; rounds alternate between them (order flipped every
# round) and each round's ratio uses the TX-packets the sender added in
# it. While one side runs the other is paused (sink: SIGSTOP; testpmd
# rxonly: stop), so they do not share CPU 1.
SOCK=$TMPD/unm.sock
taskset -c 1 "$SINK" "$SOCK" 100000 > "$TMPD/sink.log" 2>&1 &
SINKPID=$!
BENCH_PIDS+=($SINKPID)
wait_for "$TMPD/sink.log" listening 5 || exit 1
tp_start va 0 "net_virtio_user0,path=$SOCK,queues=1"
wait_for "$TMPD/va.log" "testpmd>" 20 || exit 1
SOCK2=$TMPD/dpdk.sock
tp_start vh 1 "net_vhost0,iface=$SOCK2,queues=1"
wait_for "$TMPD/vh.log" "testpmd>" 20 || exit 1
tp_cmd vh "set fwd rxonly"
tp_start vb 0 "net_virtio_user0,path=$SOCK2,queues=1"
wait_for "$TMPD/vb.log" "testpmd>" 20 || exit 1
kill -STOP "$SINKPID"
if [ "$USER_PATH" = 1 ]; then
	USOCK=$TMPD/unmd.sock
	(on_cpus "${UNMD_CPUS:-}" "$UNMD" -f -s "$USOCK" 2>"$TMPD/unmd.log") &
	BENCH_PIDS+=($!)
	for _ in $(seq 100); do [ -S "$USOCK" ] && break; sleep 0.05; done
	"$CTL" -s "$USOCK" attach vale0 "vhost-user:$TMPD/user.sock" >/dev/null || exit 1
	(export UNM_SOCKET=$USOCK; on_cpus "${RX_CPUS:-}" "$PKTGEN" -f rx -i vale0:vr -n 1000000000 >"$TMPD/urx.log" 2>&1) &
	BENCH_PIDS+=($!)
	sleep 0.5
	tp_start vc 0 "net_virtio_user0,path=$TMPD/user.sock,queues=1"
	wait_for "$TMPD/vc.log" "testpmd>" 20 || exit 1
fi
# frames unm-pktgen rx on vale0:vr got so far (unm-ctl stats)
vr_rx() {
	"$CTL" -s "$USOCK" stats vale0 | awk '$2 == "vale0:vr" { on = 1; next }
		/^  [^ ]/ { on = 0 } on && $1 == "rx" { print $2 }'
}

# ROUND: each sender runs once per round, so its log holds ROUND "Done."
run_unm() {
	kill -CONT "$SINKPID"
	tp_txonly va "$1" || return 1
	kill -STOP "$SINKPID"
}
run_user() { # prints "sent received"
	local r0 t
	[ "$USER_PATH" = 1 ] || { echo "0 0"; return 0; }
	r0=$(vr_rx)
	t=$(tp_txonly vc "$1") || return 1
	sleep 0.3
	echo "$t $(( $(vr_rx) - r0 ))"
}
run_dpdk() {
	tp_cmd vh "start"
	tp_txonly vb "$1" || return 1
	tp_cmd vh "stop"
}
echo "vhost-user receive, 64-byte frames from testpmd net_virtio_user txonly (sender on CPU 0, receiver on CPU 1), ${SECS}s per side, $ROUNDS rounds:"
printf '%-6s %10s %10s %7s %10s %10s %7s %s\n' round unm-Mpps dpdk-Mpps ratio user-Mpps user-rx user/dpdk mode
UNM_SENT=0 DPDK_SENT=0
for r in $(seq 1 "$ROUNDS"); do
	mode=$([ -x "$PROBE" ] && "$PROBE" -m ping -t 0.2 2>/dev/null | sed -n 's/.*rtt_ns=\([0-9]*\).*/\1/p')
	if [ $((r % 2)) = 1 ]; then u=$(run_unm $r) && d=$(run_dpdk $r) && us=$(run_user $r) || exit 1
	else us=$(run_user $r) && d=$(run_dpdk $r) && u=$(run_unm $r) || exit 1; fi
	UNM_SENT=$((UNM_SENT + u)) DPDK_SENT=$((DPDK_SENT + d))
	awk -v r="$r" -v u="$u" -v d="$d" -v us="$us" -v t="$SECS" -v m="${mode:-?}" 'BEGIN{split(us, x, " "); printf "%-6s %10.2f %10.2f %7.3f %10.2f %10.2f %7.3f %s\n", r, u/t/1e6, d/t/1e6, (d > 0) ? u/d : 0, x[1]/t/1e6, x[2]/t/1e6, (d > 0) ? x[1]/d : 0, (m == "?") ? "-" : ((m < 400) ? "fast(" m "ns)" : "slow(" m "ns)")}' | tee -a "$TMPD/rounds"
done
kill -CONT "$SINKPID"
tp_cmd vh "show port stats all"
wait_for "$TMPD/vh.log" "NIC statistics for port 0" 10
sleep 0.2
DPDK_RECV=$(rx_packets vh)
tp_cmd va quit
tp_cmd vb quit
[ "$USER_PATH" = 1 ] && tp_cmd vc quit
tp_cmd vh quit
sleep 0.5
kill -INT "$SINKPID"; wait "$SINKPID" 2>/dev/null
UNM_RECV=$(sed -n 's/.*frames=\([0-9]*\).*/\1/p' "$TMPD/sink.log")
echo "check: unm sent $UNM_SENT in the rounds, sink received ${UNM_RECV:-?} in all; dpdk sent $DPDK_SENT, vhost rxonly received ${DPDK_RECV:-?}"
awk '{print $4}' "$TMPD/rounds" | sort -g | awk '{a[NR]=$1} END {if (NR) printf "median ratio unm/dpdk = %.2f (min %.2f, max %.2f, %d rounds)\n", a[int((NR+1)/2)], a[1], a[NR], NR}'
[ "$USER_PATH" = 1 ] && awk '{print $7}' "$TMPD/rounds" | sort -g | awk '{a[NR]=$1} END {if (NR) printf "median ratio user path (sent)/dpdk = %.2f (min %.2f, max %.2f)\n", a[int((NR+1)/2)], a[1], a[NR]}'
[ "$USER_PATH" = 1 ] && awk '{print $6 / $3}' "$TMPD/rounds" | sort -g | awk '{a[NR]=$1} END {if (NR) printf "median ratio user path (received)/dpdk = %.2f (min %.2f, max %.2f)\n", a[int((NR+1)/2)], a[1], a[NR]}'
exit 0
