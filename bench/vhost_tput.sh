#!/bin/bash
# vhost_tput.sh [SECS] - throughput of the vhost-user port against DPDK's
# own vhost-user backend, measured in the same run (ratios matter on a
# shared 2-vCPU machine):
#   unm   : dpdk-testpmd net_virtio_user txonly -> our vhost-user port
#           (bench/vhost_sink busy-polls unm_rxsync on CPU 1)
#   dpdk  : dpdk-testpmd net_virtio_user txonly -> dpdk-testpmd net_vhost
#           rxonly (CPU 1)
# The sender always runs on CPU 0 (main and forwarding lcore). Rate =
# frames the sender's port counts as sent (TX-packets, 64-byte frames)
# during SECS seconds of forwarding; the receiver's own count is printed
# as a check (it must not be lower). testpmd busy-polls a core per
# instance: keep SECS small unless the machine is yours.
#   Usage: B=build bench/vhost_tput.sh 2
set -u
cd "$(dirname "$0")/.." || exit 1
SECS=${1:-2}
TP=/usr/bin/dpdk-testpmd
SINK=$PWD/${B:-build}/bench/vhost_sink
[ -x "$TP" ] || { echo "SKIP: $TP not installed (dpdk-dev)"; exit 77; }
[ -x "$SINK" ] || { echo "SKIP: $SINK not built (make)"; exit 77; }
TMPD=$(mktemp -d /tmp/unm-vbench.XXXXXX)
PIDS=()
FDS=()
cleanup() {
	for fd in "${FDS[@]}"; do eval "exec $fd>&-" 2>/dev/null; done
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$TMPD"
}
trap cleanup EXIT

# tp_start NAME CPU VDEV: testpmd -i on CPU, commands through $TMPD/NAME.in
tp_start() {
	local name=$1 cpu=$2 vdev=$3
	mkfifo "$TMPD/$name.in"
	stdbuf -oL "$TP" --no-huge --no-pci -m 512 --single-file-segments \
		--file-prefix="unmvb$$$name" --lcores="0@$cpu,1@$cpu" "--vdev=$vdev" \
		-- -i --total-num-mbufs=16384 --nb-cores=1 \
		< "$TMPD/$name.in" > "$TMPD/$name.log" 2>&1 &
	PIDS+=($!)
	local fd
	exec {fd}>"$TMPD/$name.in"
	FDS+=($fd)
	eval "TPFD_$name=$fd"
}
tp_cmd() { local v="TPFD_$1"; printf '%s\n' "$2" >&"${!v}"; }
# wait_for FILE STRING [TIMEOUT_S]: until the Nth occurrence (N = $4, default 1)
wait_for() {
	local n=${4:-1}
	for _ in $(seq 1 $(( ${3:-15} * 20 ))); do
		[ "$(grep -c -- "$2" "$1" 2>/dev/null)" -ge "$n" ] && return 0
		sleep 0.05
	done
	echo "timeout waiting for '$2' in $1:"; tail -20 "$1"; return 1
}
tx_packets() { grep 'TX-packets:' "$TMPD/$1.log" | tail -1 | awk '{print $2}'; }
rx_packets() { grep 'RX-packets:' "$TMPD/$1.log" | tail -1 | awk '{print $2}'; }

# send NAME: SECS of txonly from testpmd NAME, then its stats
send() {
	tp_cmd "$1" "set fwd txonly"
	tp_cmd "$1" "start"
	sleep "$SECS"
	tp_cmd "$1" "stop"
	wait_for "$TMPD/$1.log" "Done." 10 || return 1
	tp_cmd "$1" "show port stats all"
	wait_for "$TMPD/$1.log" "NIC statistics for port 0" 10 || return 1
	sleep 0.2
}

report() { # LABEL SENT RECEIVED
	awk -v l="$1" -v s="$2" -v r="$3" -v t="$SECS" \
		'BEGIN{printf "%-6s %8.2f Mpps   sent %d, received %d in %ss\n", l, s/t/1e6, s, r, t}'
}

# ---- unm: virtio_user -> our port ----
SOCK=$TMPD/unm.sock
taskset -c 1 "$SINK" "$SOCK" $((SECS + 40)) > "$TMPD/sink.log" 2>&1 &
SINKPID=$!
PIDS+=($SINKPID)
wait_for "$TMPD/sink.log" listening 5 || exit 1
tp_start va 0 "net_virtio_user0,path=$SOCK,queues=1"
wait_for "$TMPD/va.log" "testpmd>" 20 || exit 1
send va || exit 1
UNM_SENT=$(tx_packets va)
tp_cmd va quit
sleep 0.5
kill -INT "$SINKPID"; wait "$SINKPID" 2>/dev/null
UNM_RECV=$(sed -n 's/.*frames=\([0-9]*\).*/\1/p' "$TMPD/sink.log")

# ---- dpdk: virtio_user -> net_vhost ----
SOCK2=$TMPD/dpdk.sock
tp_start vh 1 "net_vhost0,iface=$SOCK2,queues=1"
wait_for "$TMPD/vh.log" "testpmd>" 20 || exit 1
tp_cmd vh "set fwd rxonly"
tp_cmd vh "start"
tp_start vb 0 "net_virtio_user0,path=$SOCK2,queues=1"
wait_for "$TMPD/vb.log" "testpmd>" 20 || exit 1
send vb || exit 1
DPDK_SENT=$(tx_packets vb)
tp_cmd vh "stop"
wait_for "$TMPD/vh.log" "Done." 10
tp_cmd vh "show port stats all"
wait_for "$TMPD/vh.log" "NIC statistics for port 0" 10
sleep 0.2
DPDK_RECV=$(rx_packets vh)
tp_cmd vb quit
tp_cmd vh quit
sleep 0.5

echo "vhost-user receive, 64-byte frames from testpmd net_virtio_user txonly (sender on CPU 0, receiver on CPU 1):"
report unm "${UNM_SENT:-0}" "${UNM_RECV:-0}"
report dpdk "${DPDK_SENT:-0}" "${DPDK_RECV:-0}"
awk -v a="${UNM_SENT:-0}" -v b="${DPDK_SENT:-0}" 'BEGIN{ if (b > 0) printf "ratio unm/dpdk = %.2f\n", a/b }'
