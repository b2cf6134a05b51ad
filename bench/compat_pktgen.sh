#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# compat_pktgen.sh - netmap's own pkt-gen, built unchanged against the
# compat headers (unm-netmap.pc from a staged install), against unm-pktgen
# on the same path: tx -> pipe -> rx (default) or tx -> vale0 -> rx with a
# private unmd (-v). Interleaved by bench/ab.sh; the result is the median
# of pkt-gen / unm-pktgen sender rates (goal >= 0.95).
#
# Like with like: both send one fixed 60-byte frame, 512 frames per batch
# (pkt-gen's -b default, unm-pktgen's -b default), on rings of the default
# size, sender pinned to CPU 0, the same receiver (unm-pktgen rx, CPU 1),
# and both put the frame's bytes into a buffer once per frame on the pipe
# and never on vale0: on the pipe unm-pktgen writes every frame (its
# buffers swap with the receiver's, so its fixed-frame fill cannot keep
# them) while pkt-gen writes each buffer once and the compat layer's pipe
# copies the frame into the receiver's buffer (UNM_OPEN_PIPE_COPY); on
# vale0 unmd copies and neither sender rewrites a buffer. pkt-gen's loop
# still tests its options per frame and reloads the ring's fields; that
# is pkt-gen's own cost, not the compat layer's (bench/NOTES.md has the
# instruction counts per frame). Each line also gives the receiver's
# rate (rx=): on vale0 the switch drops what the receiver cannot take, so
# a sender's rate is what the switch accepted from it.
#
# -g measures nm-gen (tests/compat/nm-gen.c) instead of pkt-gen: a netmap-API
# sender whose loop is as lean as unm-pktgen's, so the ratio is what the
# compat layer itself costs (needs no netmap sources).
#
# The compat pipe lends TX buffers (UNM_OPEN_PIPE_LOAN) by default;
# UNM_NETMAP_PIPE_LOAN=0 (environment) measures it copying short frames
# instead; to compare the two directly: bench/ab.sh -A
# "UNM_NETMAP_PIPE_LOAN=0 bench/compat_pktgen.sh --one pktgen 3" -B
# "bench/compat_pktgen.sh --one pktgen 3" (after one plain run has built
# pkt-gen).
#
# RXCONF=@conf:bufsize=2048 (environment) gives the pipe the power-of-two
# buffer stride pipes had before UNM_PIPE_DEF_BUF_SIZE (the receiver opens
# first and so builds the region); empty, the pipe's default.
#
# usage: bench/compat_pktgen.sh [-v] [-g] [SECONDS] [ROUNDS]  (default 3 s, 5 rounds)
#        bench/compat_pktgen.sh --one pktgen|gen|unm [-v] SECONDS
# pkt-gen needs netmap's sources ($NETMAP_SRC, default /work/ext/netmap: a
# checkout of luigirizzo/netmap, never part of this tree); skips (77)
# without them.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
PG=$PWD/$B/unm-pktgen
NETMAP_SRC=${NETMAP_SRC:-/work/ext/netmap}
STAGE=${COMPAT_STAGE:-/tmp/unm-compat-bench}
NMPG=$STAGE/pkt-gen

build_pktgen() {
	[ -f "$NETMAP_SRC/apps/pkt-gen/pkt-gen.c" ] ||
		{ echo "SKIP: netmap sources not found at \$NETMAP_SRC=$NETMAP_SRC"; exit 77; }
	[ -x "$PG" ] || { echo "SKIP: build first (make)"; exit 77; }
	rm -rf "$STAGE" && mkdir -p "$STAGE"
	make install DESTDIR="$STAGE/root" PREFIX=/usr > "$STAGE/install.log" 2>&1 ||
		{ tail "$STAGE/install.log"; exit 1; }
	# -Wno-address-of-packed-member: pkt-gen's own Makefile sets it too.
	PKG_CONFIG_PATH=$STAGE/root/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$STAGE/root \
		sh -c 'cc -O2 -Wall -Wextra -Werror -Wno-address-of-packed-member \
			-I"$1/apps/include" -o "$2" "$1/apps/pkt-gen/pkt-gen.c" \
			$(pkg-config --cflags --libs unm-netmap) -lpcap -lm -lpthread -lrt' _ \
		"$NETMAP_SRC" "$NMPG" || exit 1
}

if [ "${1:-}" = --one ]; then
	who=$2; shift 2
	vale=0; [ "${1:-}" = -v ] && { vale=1; shift; }
	T=${1:-3}
	tag=cpb$$_$RANDOM
	log=$(mktemp /tmp/compat_pktgen.XXXXXX)
	pids=()
	cleanup() { for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null; done
		    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
		    rm -rf "$log" "$log.rx" "/tmp/$tag.sock"; }
	trap cleanup EXIT
	if [ $vale = 1 ]; then
		export UNM_SOCKET=/tmp/$tag.sock
		"$PWD/$B/unmd" -f -s "$UNM_SOCKET" > /dev/null 2>&1 &
		pids+=($!)
		for _ in $(seq 100); do [ -S "$UNM_SOCKET" ] && break; sleep 0.05; done
		rxn="vale0:r$tag" txn="vale0:t$tag" nmtx="vale0:t$tag"
	else
		rxn="$tag}0" txn="$tag{0" nmtx="netmap:$tag{0"
	fi
	rxn=$rxn${RXCONF:-}
	rxlog=$log.rx
	LD_LIBRARY_PATH=$STAGE/root/usr/lib "$PG" -f rx -i "$rxn" -a 1 -j -T 0 > "$rxlog" 2>&1 &
	rxpid=$!
	pids+=($rxpid)
	sleep 0.3
	if [ "$who" = pktgen ]; then
		LD_LIBRARY_PATH=$STAGE/root/usr/lib timeout -s INT "$T" \
			taskset -c 0 "$NMPG" -i "$nmtx" -f tx -l 60 -w 0 > "$log" 2>&1
		# pkt-gen's summary: "Speed: 48.772 Mpps Bandwidth: ..."
		rate=$(sed -n 's/^Speed: *\([0-9.]*\) *\([KMG]\?\)pps.*/\1 \2/p' "$log" | tail -1 |
		       awk '{ m = $2 == "K" ? 1e3 : $2 == "M" ? 1e6 : $2 == "G" ? 1e9 : 1; print $1 * m }')
	elif [ "$who" = gen ]; then
		taskset -c 0 "$PWD/$B/tests/compat/nm-gen" "$nmtx" 60 "$T" > "$log" 2>&1
		rate=$(sed -n 's/.*rate=\([0-9.]*\).*/\1/p' "$log" | tail -1 | awk '{ print $1 * 1e6 }')
	else
		timeout -s INT "$T" "$PG" -f tx -i "$txn" -a 0 -l 60 -j > "$log" 2>&1
		rate=$(sed -n 's/.*"type":"summary".*"pps":\([0-9.]*\).*/\1/p' "$log" | tail -1)
	fi
	[ -n "$rate" ] || { cat "$log"; exit 1; }
	sleep 0.2 # the frames still in flight
	kill -INT "$rxpid" 2>/dev/null
	wait "$rxpid" 2>/dev/null
	rx=$(sed -n 's/.*"type":"summary".*"pps":\([0-9.]*\).*/\1/p' "$rxlog" | tail -1)
	awk -v p="$rate" -v w="$who" -v r="${rx:-0}" 'BEGIN {
		printf "%s tx: %.2f Mpps (rx=%.2f) rate=%.3f\n", w, p / 1e6, r / 1e6, p / 1e6 }'
	exit 0
fi

vflag=""; path=pipe; gen=pktgen; title="netmap pkt-gen"
while [ $# -gt 0 ]; do
	case $1 in
	-v) vflag=-v; path=vale0; shift ;;
	-g) gen=gen; title="nm-gen (netmap API, lean loop)"; shift ;;
	*) break ;;
	esac
done
T=${1:-3}
N=${2:-5}
if [ $gen = pktgen ]; then
	build_pktgen
else
	[ -x "$B/tests/compat/nm-gen" ] && [ -x "$PG" ] || { echo "SKIP: build first (make)"; exit 77; }
fi
exec bench/ab.sh -n "$N" -t "$title (B) vs unm-pktgen (A), tx -> $path -> rx, ${T}s runs" \
	-A "$PWD/bench/compat_pktgen.sh --one unm $vflag $T" \
	-B "$PWD/bench/compat_pktgen.sh --one $gen $vflag $T"
