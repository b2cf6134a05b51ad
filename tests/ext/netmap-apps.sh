#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: netmap's own pkt-gen and bridge, from netmap's current apps
# ($NETMAP_SRC, default /work/ext/netmap) and from its 2019 nm_open-era
# apps ($NETMAP_2019_SRC, default /work/ext/n2019), build unchanged against
# a staged install's compat headers with "-Wall -Wextra -Werror" (gcc and
# clang) and run: pkt-gen tx -> pipe -> pkt-gen rx (every frame arrives),
# pkt-gen tx -> pipe -> bridge -> pipe -> pkt-gen rx (every frame), and
# pkt-gen tx -> vale -> pkt-gen rx on a private unmd (the switch may drop
# under load: frames must arrive, not all of them). Skips when neither
# netmap snapshot is there (they are fetched, never part of this tree), so
# `make check-ext` runs it, not `make check`.
cd "$(dirname "$0")/../.." || exit 1
. tests/compat/compat.inc
command -v pkg-config >/dev/null || skip "pkg-config not installed"
NETMAP_SRC=${NETMAP_SRC:-/work/ext/netmap}
NETMAP_2019_SRC=${NETMAP_2019_SRC:-/work/ext/n2019}
gens=()
[ -f "$NETMAP_SRC/apps/pkt-gen/pkt-gen.c" ] && gens+=("current:$NETMAP_SRC")
[ -f "$NETMAP_2019_SRC/apps/pkt-gen/pkt-gen.c" ] && gens+=("2019:$NETMAP_2019_SRC")
[ ${#gens[@]} -gt 0 ] ||
	skip "netmap sources not found (\$NETMAP_SRC=$NETMAP_SRC, \$NETMAP_2019_SRC=$NETMAP_2019_SRC)"
need_prog "$PWD/$B/unmd"
SAN=
san_build && SAN="SANITIZE=1"
D=$T/stage
make -s install B="$B" $SAN DESTDIR="$D" PREFIX=/usr > "$T/install.log" 2>&1 ||
	{ tail -n 20 "$T/install.log"; fail "make install"; }
export PKG_CONFIG_PATH=$D/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D
export LD_LIBRARY_PATH=$D/usr/lib
flags=$(pkg-config --cflags --libs unm-netmap) || fail "pkg-config unm-netmap"
compilers="gcc clang" SANFLAGS=
if san_build; then
	# one ASan runtime per process: build with the compiler of the libraries
	SANFLAGS="-fsanitize=address,undefined"
	readelf -p .comment "$PWD/$B/libunm-netmap.so" 2>/dev/null | grep -q clang &&
		compilers=clang || compilers=gcc
fi
# glibc 2.32 dropped <sys/sysctl.h>, which the 2019 pkt-gen includes (and
# uses nothing from on Linux): an empty one, only if the system has none.
mkdir -p "$T/shim/sys"
printf '#include <sys/sysctl.h>\n' | cc -E -x c - > /dev/null 2>&1 ||
	: > "$T/shim/sys/sysctl.h"
# libpcap as pkt-gen's own Makefile takes it (WITH_PCAP), else -DNO_PCAP
pcap="-DNO_PCAP"
printf '#include <pcap/pcap.h>\nint main(void){return 0;}\n' |
	cc -x c - -lpcap -o "$T/pcaptest" > /dev/null 2>&1 && pcap="-lpcap"

# build NAME-VER-CC from SRC's apps/NAME/NAME.c
build() {
	local name=$1 ver=$2 src=$3 cc=$4
	# -Wno-address-of-packed-member: netmap's own pkt-gen Makefile sets it
	$cc -O2 -Wall -Wextra -Werror -Wno-address-of-packed-member $SANFLAGS \
		-I"$src/apps/include" -I"$T/shim" -o "$T/$name-$ver-$cc" \
		"$src/apps/$name/$name.c" $flags $pcap -lm -lpthread -lrt \
		> "$T/build.log" 2>&1 || { cat "$T/build.log"; fail "$cc: $ver $name does not build"; }
}
# received COUNT from pkt-gen rx's summary ("Received N packets ...")
received() { sed -n 's/.*Received \([0-9]*\) packets.*/\1/p' "$1" | tail -1; }
wait_gone() { # PID [TENTHS], up to 30 s
	for ((i = 0; i < ${2:-300}; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	return 1
}
# a receiver after its sender is done: the current pkt-gen rx stops at -n;
# the 2019 one ignores -n in rx and, with -W, would stop after a second of
# silence, but the compat poll() reports the pipe's hang-up (POLLHUP)
# where netmap stays silent, so it is stopped with SIGINT (pkt-gen then
# prints its summary) once it had 2 s to take what is queued
rx_done() {
	wait_gone "$1" 20 || kill -INT "$1"
	wait_gone "$1" && wait "$1"
}

export UNM_SOCKET=$T/unmd.sock
"$PWD/$B/unmd" -f -s "$UNM_SOCKET" 2> "$T/unmd.log" & PIDS+=($!)
for ((i = 0; i < 100; i++)); do [ -S "$UNM_SOCKET" ] && break; sleep 0.05; done
[ -S "$UNM_SOCKET" ] || { cat "$T/unmd.log"; fail "unmd did not start"; }

N=20000
for g in "${gens[@]}"; do
	ver=${g%%:*} src=${g#*:}
	cc1=
	for cc in $compilers; do
		command -v $cc > /dev/null || { echo "note: $cc not installed"; continue; }
		build pkt-gen "$ver" "$src" $cc
		build bridge "$ver" "$src" $cc
		echo "$ver: pkt-gen and bridge built with $cc"
		[ -n "$cc1" ] || cc1=$cc
	done
	[ -n "$cc1" ] || skip "no C compiler"
	PGEN=$T/pkt-gen-$ver-$cc1 BR=$T/bridge-$ver-$cc1

	# pipe: every frame
	p=$(pname "a$ver")
	timeout 60 "$PGEN" -i "netmap:$p}0" -f rx -n $N -w 1 > "$T/rx" 2>&1 & rx=$!; PIDS+=($rx)
	sleep 0.3
	timeout 60 "$PGEN" -i "netmap:$p{0" -f tx -n $N -l 60 -w 1 > "$T/tx" 2>&1 ||
		{ cat "$T/tx" "$T/rx"; fail "$ver pkt-gen tx over a pipe"; }
	rx_done $rx || { cat "$T/tx" "$T/rx"; fail "$ver pkt-gen rx over a pipe"; }
	[ "$(received "$T/rx")" = $N ] || { cat "$T/tx" "$T/rx"; fail "$ver pipe: not $N frames"; }
	echo "$ver: pkt-gen tx -> pipe -> rx: $N of $N"

	# pipe -> bridge -> pipe: every frame
	a=$(pname "b$ver") b=$(pname "c$ver")
	timeout 60 "$PGEN" -i "netmap:$b{0" -f rx -n $N -w 1 > "$T/rx" 2>&1 & rx=$!; PIDS+=($rx)
	"$BR" -i "netmap:$a}0" -i "netmap:$b}0" -w 1 > "$T/br" 2>&1 & br=$!; PIDS+=($br)
	sleep 0.5
	timeout 60 "$PGEN" -i "netmap:$a{0" -f tx -n $N -l 60 -w 2 > "$T/tx" 2>&1 ||
		{ cat "$T/tx" "$T/br" "$T/rx"; fail "$ver pkt-gen tx into the bridge"; }
	rx_done $rx || { cat "$T/tx" "$T/br" "$T/rx"; fail "$ver pkt-gen rx behind the bridge"; }
	[ "$(received "$T/rx")" = $N ] || { cat "$T/tx" "$T/br" "$T/rx"; fail "$ver bridge: not $N frames"; }
	kill -INT $br; wait_gone $br || fail "$ver bridge did not stop on SIGINT"
	echo "$ver: pkt-gen tx -> pipe -> bridge -> pipe -> rx: $N of $N"

	# vale: the switch drops what the receiver cannot take; some must arrive
	sw=vale$$${ver:0:1}
	timeout 60 "$PGEN" -i "$sw:r" -f rx -W -w 1 > "$T/rx" 2>&1 & rx=$!; PIDS+=($rx)
	sleep 0.5
	timeout 60 "$PGEN" -i "$sw:t" -f tx -n $N -l 60 -w 1 > "$T/tx" 2>&1 ||
		{ cat "$T/tx" "$T/rx"; fail "$ver pkt-gen tx into vale"; }
	# -W: it stops a second after the last frame (a SIGINT that lands
	# while it is already on its way out can cost its summary)
	wait_gone $rx || kill -INT $rx
	wait_gone $rx; wait $rx
	got=$(received "$T/rx")
	[ -n "$got" ] && [ "$got" -gt 0 ] && [ "$got" -le $N ] ||
		{ cat "$T/tx" "$T/rx"; fail "$ver vale: received '${got}' of $N"; }
	echo "$ver: pkt-gen tx -> vale -> rx: $got of $N"
done
echo PASS
