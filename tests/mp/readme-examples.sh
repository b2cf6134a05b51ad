#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: every C example of the README (fenced ```c blocks) is a
# complete program that compiles as written (gcc -Wall -Wextra -Werror,
# flags from pkg-config) against a fresh `make install DESTDIR=tmp`
# (headers, libunm.so, libunm.pc), and runs: without unmd it exits 1 with
# a message instead of crashing (the old fragment used rc unchecked and
# segfaulted), and against a private unmd it exits 0 while an unm-pktgen
# receiver on the same switch gets every frame it sent.
set -u
cd "$(dirname "$0")/../.." || exit 1
root=$PWD
B=${B:-build}
command -v pkg-config >/dev/null || { echo "SKIP: pkg-config not installed"; exit 77; }
command -v gcc >/dev/null || { echo "SKIP: gcc not installed"; exit 77; }
T=$(mktemp -d /tmp/readme-examples.XXXXXX) || exit 1
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*.log "$T"/*.err; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done; exit 1; }
unset MAKEFLAGS MFLAGS MAKELEVEL
D=$T/dest
make -s -C "$root" B="$B" ${SANITIZE:+SANITIZE=$SANITIZE} install DESTDIR="$D" PREFIX=/usr \
	> "$T/install.log" 2>&1 || fail "make install"
export PKG_CONFIG_PATH=$D/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D PKG_CONFIG_LIBDIR=
san=
[ "$B" = build-san ] || [ "${SANITIZE:-}" = 1 ] && san="-fsanitize=address,undefined -fno-omit-frame-pointer"

awk -v dir="$T" '/^```c$/ { n++; f = sprintf("%s/example%d.c", dir, n); inb = 1; next }
	/^```/ { inb = 0; next } inb { print > f }' README.md
ls "$T"/example*.c > /dev/null 2>&1 || fail "no \`\`\`c block in README.md"
export UNM_SOCKET=$T/unmd.sock
for src in "$T"/example*.c; do
	x=${src%.c}; n=$(basename "$x")
	# shellcheck disable=SC2046
	gcc -std=gnu11 -Wall -Wextra -Werror $san $(pkg-config --cflags libunm) -o "$x" "$src" \
		$(pkg-config --libs libunm) > "$T/$n.err" 2>&1 || { cat -n "$src"; fail "$n does not compile"; }
	# no unmd: a message and exit 1, no crash
	LD_LIBRARY_PATH=$D/usr/lib timeout 20 "$x" > "$T/$n-nod.log" 2> "$T/$n-nod.err"; rc=$?
	[ $rc = 1 ] || fail "$n without unmd: exit $rc (expected 1)"
	grep -q "is unmd running" "$T/$n-nod.err" || fail "$n without unmd: no useful message"
done

"$B/unmd" -f -s "$UNM_SOCKET" 2> "$T/unmd.log" & PIDS+=($!)
for ((i = 0; i < 100; i++)); do [ -S "$UNM_SOCKET" ] && break; sleep 0.05; done
[ -S "$UNM_SOCKET" ] || fail "unmd did not start"
for src in "$T"/example*.c; do
	x=${src%.c}; n=$(basename "$x")
	"$B/unm-pktgen" -f rx -i vale0:rx$n -T 0 > "$T/$n-rx.log" 2>&1 & rx=$!; PIDS+=($rx)
	sleep 0.5
	# lossless: a 1023-frame burst into a sleeping receiver's ring must not
	# be cut by the switch's fair-share drops (only close-time loss counts)
	"$B/unm-ctl" switch set vale0 lossless on > /dev/null || fail "lossless on"
	LD_LIBRARY_PATH=$D/usr/lib timeout 20 "$x" vale0:p1 > "$T/$n.log" 2> "$T/$n.err" ||
		fail "$n against unmd: exit $?"
	sent=$(sed -n 's/^\([0-9]*\) frames sent.*/\1/p' "$T/$n.log")
	sleep 0.5
	kill -INT $rx; wait $rx
	[ -n "$sent" ] && [ "$sent" -gt 0 ] || fail "$n: nothing sent"
	grep -q "^Received $sent packets" "$T/$n-rx.log" || fail "$n: sent $sent, receiver: $(tail -1 "$T/$n-rx.log")"
done
echo PASS
