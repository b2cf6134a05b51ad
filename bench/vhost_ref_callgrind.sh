#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# vhost_ref_callgrind.sh - the reference's side of bench/vhost_callgrind.sh:
# instructions per frame of DPDK's own vhost-user backend (dpdk-testpmd
# net_vhost, rxonly) receiving from dpdk-testpmd net_virtio_user txonly
# (64-byte frames). The vhost side runs under valgrind --tool=callgrind
# (so the figure does not depend on the machine's load); prints the frames
# it received and the instructions per frame of its forwarding lcore
# thread (the one with the most instructions: busy polling included, as
# unmd's vs_thread is in vhost_callgrind.sh) and of the whole process.
#   usage: [CG_KEEP=DIR] bench/vhost_ref_callgrind.sh [SECS]   (default 5). Root.
# CG_KEEP: keep callgrind's per-thread files there (callgrind_annotate FILE).
set -u
cd "$(dirname "$0")/.." || exit 1
SECS=${1:-5}
TP=/usr/bin/dpdk-testpmd
die() { echo "vhost_ref_callgrind: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root"
[ -x "$TP" ] || { echo "SKIP: $TP not installed (dpdk-dev)"; exit 77; }
command -v valgrind >/dev/null || die "valgrind not installed"
TMPD=$(mktemp -d /tmp/unm-vhrcg.XXXXXX)
. bench/lib.sh
BENCH_FILES+=("$TMPD")
TP_PREFIX=unmvhrcg$$
trap bench_cleanup EXIT

OUT=$TMPD/cg.out
printf '#!/bin/sh\nexec valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=%s %s "$@"\n' \
	"$OUT" "$TP" > "$TMPD/vg-testpmd"
chmod +x "$TMPD/vg-testpmd"
TP=$TMPD/vg-testpmd tp_start vh 1 "net_vhost0,iface=$TMPD/vh.sock,queues=1"
wait_for "$TMPD/vh.log" "testpmd>" 120 >/dev/null || die "testpmd (vhost) did not start"
tp_cmd vh "set fwd rxonly"
tp_start vb 0 "net_virtio_user0,path=$TMPD/vh.sock,queues=1"
wait_for "$TMPD/vb.log" "testpmd>" 60 >/dev/null || die "testpmd (virtio_user) did not start"
tp_cmd vh start
sleep 1
sent=$(tp_txonly vb 1) || die "txonly failed"
sleep 1
tp_cmd vh stop
wait_for "$TMPD/vh.log" "Done." 60 >/dev/null || die "vhost side did not stop"
sleep 0.5
recv=$(rx_packets vh)
tp_cmd vb quit
tp_cmd vh quit
for _ in $(seq 600); do ls "$OUT"* >/dev/null 2>&1 && ! pgrep -f "callgrind-out-file=$OUT" >/dev/null && break; sleep 0.1; done
[ -n "${CG_KEEP:-}" ] && mkdir -p "$CG_KEEP" && cp "$OUT"* "$CG_KEEP"/
echo "testpmd virtio_user sent $sent, vhost rxonly received $recv"
[ -n "$recv" ] && [ "$recv" -gt 0 ] || die "nothing received"
best=0 all=0
for f in "$OUT"*; do
	ir=$(awk '/^summary:/ { print $2; exit }' "$f")
	[ -n "$ir" ] || continue
	all=$((all + ir))
	[ "$ir" -gt "$best" ] && best=$ir
done
awk -v b="$best" -v a="$all" -v n="$recv" 'BEGIN {
	printf "lcore thread     %8.1f Ir/frame\nwhole process    %8.1f Ir/frame (start-up included)\n", b / n, a / n }'
