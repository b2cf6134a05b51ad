#!/bin/bash
# vhost_callgrind.sh - instructions per frame in unmd on the path a DPDK
# user takes (issue 15 item 1): dpdk-testpmd net_virtio_user txonly (64-byte
# frames) -> unmd's vhost-user port attached to vale0 -> a sleeping
# unm-pktgen rx on vale0:vr. unmd runs under valgrind --tool=callgrind,
# so the figure does not depend on the machine's load (the frame rate
# does: valgrind slows unmd, testpmd drops what the virtqueue cannot take).
# Prints the frames the switch forwarded and the inclusive instructions
# per frame of unmd's forwarding round (vs_round), the guest copy
# (vu_vq_to_port), delivery (fwd_pass2), and the thread's whole loop
# (vs_thread: sleeping, waking, yielding included).
#   usage: [B=build] [CG_KEEP=FILE] bench/vhost_callgrind.sh [SECS]   (default 5)
# CG_KEEP: keep callgrind's output there (callgrind_annotate FILE).
# Compare two builds by running the script once per build. Root.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
SECS=${1:-5}
UNMD=$PWD/$B/unmd
CTL=$PWD/$B/unm-ctl
PKTGEN=$PWD/$B/unm-pktgen
TP=/usr/bin/dpdk-testpmd
die() { echo "vhost_callgrind: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root"
[ -x "$TP" ] || { echo "SKIP: $TP not installed (dpdk-dev)"; exit 77; }
for c in valgrind callgrind_annotate; do command -v $c >/dev/null || die "$c not installed"; done
[ -x "$UNMD" ] && [ -x "$CTL" ] && [ -x "$PKTGEN" ] || die "build first ($UNMD)"
TMPD=$(mktemp -d /tmp/unm-vhcg.XXXXXX)
. bench/lib.sh
BENCH_FILES+=("$TMPD")
TP_PREFIX=unmvhcg$$
trap bench_cleanup EXIT

incl() {
	callgrind_annotate --inclusive=yes "$1" 2>/dev/null |
		awk -v f="$2" '$0 ~ ("[ :]" f " ") || $0 ~ ("[ :]" f "$") { gsub(",", "", $1); print $1; exit }'
}
SOCK=$TMPD/unmd.sock
OUT=$TMPD/cg.out
valgrind --tool=callgrind --callgrind-out-file="$OUT" "$UNMD" -f -s "$SOCK" 2>"$TMPD/unmd.log" &
BENCH_PIDS+=($!)
UPID=$!
for ((i = 0; i < 3000; i++)); do [ -S "$SOCK" ] && break; sleep 0.01; done
[ -S "$SOCK" ] || die "unmd did not start: $(tail -3 "$TMPD/unmd.log")"
"$CTL" -s "$SOCK" attach vale0 "vhost-user:$TMPD/vh.sock" >/dev/null || die "attach failed"
UNM_SOCKET=$SOCK "$PKTGEN" -f rx -i vale0:vr -n 1000000000 >"$TMPD/rx.log" 2>&1 &
BENCH_PIDS+=($!)
for ((i = 0; i < 500; i++)); do "$CTL" -s "$SOCK" stats vale0 2>/dev/null | grep -q 'vale0:vr ' && break; sleep 0.02; done
tp_start vc 0 "net_virtio_user0,path=$TMPD/vh.sock,queues=1"
wait_for "$TMPD/vc.log" "testpmd>" 60 >/dev/null || die "testpmd did not start"
sent=$(tp_txonly vc 1) || die "testpmd txonly failed"
sleep 1
"$CTL" -s "$SOCK" stats vale0 > "$TMPD/stats"
tp_cmd vc quit
sleep 0.5
kill -INT "$UPID"
wait "$UPID" 2>/dev/null
[ -n "${CG_KEEP:-}" ] && cp "$OUT" "$CG_KEEP"
frames=$(awk '$1 == "total" || /^  total/ { t = 1 } t && $1 == "tx" { print $2; exit }' "$TMPD/stats")
[ -n "$frames" ] || frames=$(awk '$2 ~ /vhost-user/ { on = 1; next } /^  [^ ]/ { on = 0 } on && $1 == "tx" { print $2; exit }' "$TMPD/stats")
cat "$TMPD/stats" >&2
echo "testpmd sent $sent, switch forwarded ${frames:-?} frames"
[ -n "$frames" ] && [ "$frames" -gt 0 ] || die "no frames forwarded"
for f in vs_thread vs_round vu_vq_to_port fwd_pass2 fwd_gather fwd_lookup fwd_deliver att_pending att_on_wake; do
	ir=$(incl "$OUT" "$f")
	[ -n "$ir" ] && awk -v f="$f" -v ir="$ir" -v n="$frames" 'BEGIN { printf "%-16s %8.1f Ir/frame\n", f, ir / n }'
done
