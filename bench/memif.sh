#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# memif.sh [SECS [ROUNDS]] - DPDK applications joining a switch: testpmd's
# net_memif through our memif port, against the virtio path it replaces
# and against DPDK talking to itself, in the same run, interleaved:
#   memif : dpdk-testpmd net_memif (role=client) txonly -> unmd memif port
#           (master, attached by unm-ctl) -> vale0 -> unm-pktgen rx
#   vhost : dpdk-testpmd net_virtio_user txonly -> unmd vhost-user port
#           -> vale1 -> unm-pktgen rx
#   dpdk  : dpdk-testpmd net_memif client txonly -> dpdk-testpmd
#           net_memif server rxonly (no switch)
# 64-byte frames. Both switches are lossless, so the sender's TX-packets
# (frames its port accepted) are frames that reached the receiver; the
# receivers' totals are printed as a check. Senders on CPU 0, receivers
# (unm-pktgen, testpmd rxonly) on CPU 1; unmd's thread floats. Rate =
# sender TX-packets during SECS of forwarding; each round runs the three
# in rotating order; ratios are per round, medians printed.
#   Usage: B=build bench/memif.sh [SECS [ROUNDS]]   (default 2 5)
set -u
cd "$(dirname "$0")/.." || exit 1
SECS=${1:-2}
ROUNDS=${2:-5}
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
TP=/usr/bin/dpdk-testpmd
[ -x "$TP" ] || { echo "SKIP: $TP not installed (dpdk-dev)"; exit 77; }
for p in unmd unm-ctl unm-pktgen; do
	[ -x "$B/$p" ] || { echo "SKIP: $B/$p not built (make)"; exit 77; }
done
TMPD=$(mktemp -d /tmp/unm-mbench.XXXXXX)
. bench/lib.sh
BENCH_FILES+=("$TMPD")
TP_PREFIX=unmmb$$
trap bench_cleanup EXIT

export UNM_SOCKET=$TMPD/unmd.sock
"$B/unmd" -f -s "$UNM_SOCKET" 2> "$TMPD/unmd.log" &
BENCH_PIDS+=($!)
wait_for "$TMPD/unmd.log" serving 5 || exit 1
for sw in vale0 vale1; do
	"$B/unm-ctl" switch add $sw >/dev/null && "$B/unm-ctl" switch set $sw lossless on >/dev/null ||
		{ echo "cannot set up $sw"; exit 1; }
done
"$B/unm-ctl" attach vale0 "memif:$TMPD/m.sock" || exit 1
"$B/unm-ctl" attach vale1 "vhost-user:$TMPD/v.sock" || exit 1
for sw in vale0 vale1; do
	taskset -c 1 "$B/unm-pktgen" -f rx -i $sw:rx -T 0 > "$TMPD/$sw.rx" 2>&1 &
	BENCH_PIDS+=($!)
	eval "RX_$sw=$!"
done
tp_start ma 0 "net_memif0,role=client,socket=$TMPD/m.sock,socket-abstract=no"
tp_start va 0 "net_virtio_user0,path=$TMPD/v.sock,queues=1"
tp_start ds 1 "net_memif0,role=server,socket=$TMPD/d.sock,socket-abstract=no"
for n in ma va ds; do wait_for "$TMPD/$n.log" "testpmd>" 30 || exit 1; done
tp_cmd ds "set fwd rxonly"
tp_start dc 0 "net_memif0,role=client,socket=$TMPD/d.sock,socket-abstract=no"
wait_for "$TMPD/dc.log" "testpmd>" 30 || exit 1
sleep 1

run_dpdk() {
	tp_cmd ds "start"
	tp_txonly dc "$1" || return 1
	tp_cmd ds "stop"
}
echo "64-byte frames from testpmd txonly (CPU 0) to a receiver on CPU 1, ${SECS}s each, $ROUNDS rounds:"
printf '%-6s %10s %10s %10s %12s %12s\n' round memif-Mpps vhost-Mpps dpdk-Mpps memif/vhost memif/dpdk
M_SENT=0 V_SENT=0 D_SENT=0
for r in $(seq 1 "$ROUNDS"); do
	case $((r % 3)) in
	1) m=$(tp_txonly ma "$r") && v=$(tp_txonly va "$r") && d=$(run_dpdk "$r") || exit 1 ;;
	2) v=$(tp_txonly va "$r") && d=$(run_dpdk "$r") && m=$(tp_txonly ma "$r") || exit 1 ;;
	0) d=$(run_dpdk "$r") && m=$(tp_txonly ma "$r") && v=$(tp_txonly va "$r") || exit 1 ;;
	esac
	M_SENT=$((M_SENT + m)) V_SENT=$((V_SENT + v)) D_SENT=$((D_SENT + d))
	awk -v r="$r" -v m="$m" -v v="$v" -v d="$d" -v t="$SECS" 'BEGIN{
		printf "%-6s %10.2f %10.2f %10.2f %12.3f %12.3f\n", r, m/t/1e6, v/t/1e6, d/t/1e6,
		       (v > 0) ? m/v : 0, (d > 0) ? m/d : 0}' | tee -a "$TMPD/rounds"
done
tp_cmd ds "show port stats all"
wait_for "$TMPD/ds.log" "NIC statistics for port 0" 10
sleep 0.5
D_RECV=$(rx_packets ds)
for sw in vale0 vale1; do v="RX_$sw"; kill -INT "${!v}"; wait "${!v}" 2>/dev/null; done
M_RECV=$(grep -o 'Received [0-9]*' "$TMPD/vale0.rx" | grep -o '[0-9]*')
V_RECV=$(grep -o 'Received [0-9]*' "$TMPD/vale1.rx" | grep -o '[0-9]*')
echo "check: memif sent $M_SENT, unm-pktgen received ${M_RECV:-?}; vhost sent $V_SENT, received ${V_RECV:-?}; dpdk sent $D_SENT, rxonly received ${D_RECV:-?} (since its last connect)"
for col in 5 6; do
	awk -v c=$col '{print $c}' "$TMPD/rounds" | sort -g | awk -v n=$([ $col = 5 ] && echo memif/vhost || echo memif/dpdk) \
		'{a[NR]=$1} END {if (NR) printf "median %s = %.2f (min %.2f, max %.2f, %d rounds)\n", n, a[int((NR+1)/2)], a[1], a[NR], NR}'
done
