#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# compat_pktgen.sh - netmap's own pkt-gen, built unchanged against the
# compat headers (unm-netmap.pc from a staged install), against unm-pktgen
# on the same path: tx -> pipe -> rx (default) or tx -> vale0 -> rx with a
# private unmd (-v). 60-byte frames, sender pinned to CPU 0, receiver to
# CPU 1 (an unm-pktgen rx in both cases). Interleaved by bench/ab.sh; the
# result is the median of pkt-gen / unm-pktgen sender rates (goal >= 0.95).
#
# usage: bench/compat_pktgen.sh [-v] [SECONDS] [ROUNDS]  (default 3 s, 5 rounds)
#        bench/compat_pktgen.sh --one pktgen|unm [-v] SECONDS
# Needs netmap's sources ($NETMAP_SRC, default /work/ext/netmap: a checkout
# of luigirizzo/netmap, never part of this tree); skips (77) without them.
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
		    rm -rf "$log" "/tmp/$tag.sock"; }
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
	LD_LIBRARY_PATH=$STAGE/root/usr/lib "$PG" -f rx -i "$rxn" -a 1 > /dev/null 2>&1 &
	pids+=($!)
	sleep 0.3
	if [ "$who" = pktgen ]; then
		LD_LIBRARY_PATH=$STAGE/root/usr/lib timeout -s INT "$T" \
			taskset -c 0 "$NMPG" -i "$nmtx" -f tx -l 60 -w 0 > "$log" 2>&1
		# pkt-gen's summary: "Speed: 48.772 Mpps Bandwidth: ..."
		rate=$(sed -n 's/^Speed: *\([0-9.]*\) *\([KMG]\?\)pps.*/\1 \2/p' "$log" | tail -1 |
		       awk '{ m = $2 == "K" ? 1e3 : $2 == "M" ? 1e6 : $2 == "G" ? 1e9 : 1; print $1 * m }')
	else
		timeout -s INT "$T" "$PG" -f tx -i "$txn" -a 0 -l 60 -j > "$log" 2>&1
		rate=$(sed -n 's/.*"type":"summary".*"pps":\([0-9.]*\).*/\1/p' "$log" | tail -1)
	fi
	[ -n "$rate" ] || { cat "$log"; exit 1; }
	awk -v p="$rate" -v w="$who" 'BEGIN { printf "%s tx: %.2f Mpps rate=%.3f\n", w, p / 1e6, p / 1e6 }'
	exit 0
fi

vflag=""; path=pipe
[ "${1:-}" = -v ] && { vflag=-v; path=vale0; shift; }
T=${1:-3}
N=${2:-5}
build_pktgen
exec bench/ab.sh -n "$N" -t "netmap pkt-gen (B) vs unm-pktgen (A), tx -> $path -> rx, ${T}s runs" \
	-A "$PWD/bench/compat_pktgen.sh --one unm $vflag $T" \
	-B "$PWD/bench/compat_pktgen.sh --one pktgen $vflag $T"
