#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: the installed library is usable. `make install` into a
# temporary DESTDIR with PREFIX=/usr, then a small program that includes
# only the installed <unm.h> and uses the inline ring helpers is compiled
# with the flags from the installed libunm.pc - as C11 with gcc and clang
# under -Wall -Wextra -Werror -pedantic, and as C++ with g++ - linked
# against the installed libunm.so, and run: it opens the null port,
# injects frames, syncs, checks the counters and prints the version.
# Sanitizer builds (B=build-san) compile the program with the same
# sanitizer and skip clang (its ASan runtime differs from gcc's).
set -u
cd "$(dirname "$0")/../.." || exit 1
root=$PWD
B=${B:-build}
command -v pkg-config >/dev/null || { echo "SKIP: pkg-config not installed"; exit 77; }
command -v gcc >/dev/null || { echo "SKIP: gcc not installed"; exit 77; }
tmp=$(mktemp -d /tmp/unm-install.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
D=$tmp/dest

# Build in $B as `make check` did; only install copies files.
if ! make -s -C "$root" B="$B" ${SANITIZE:+SANITIZE=$SANITIZE} install DESTDIR="$D" \
	PREFIX=/usr > "$tmp/install.log" 2>&1; then
	cat "$tmp/install.log"; echo "FAIL: make install"; exit 1
fi
for f in usr/include/unm.h usr/include/unm/shm.h usr/include/unm/ring.h \
	 usr/lib/libunm.so.0.1.0 usr/lib/libunm.so.0 usr/lib/libunm.so usr/lib/libunm.a \
	 usr/lib/pkgconfig/libunm.pc; do
	[ -e "$D/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
[ "$(readlink "$D/usr/lib/libunm.so.0")" = libunm.so.0.1.0 ] ||
	{ echo "FAIL: libunm.so.0 does not point at libunm.so.0.1.0"; exit 1; }

export PKG_CONFIG_PATH=$D/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D PKG_CONFIG_LIBDIR=
pc_cflags=$(pkg-config --cflags libunm) && pc_libs=$(pkg-config --libs libunm) ||
	{ echo "FAIL: pkg-config cannot read the installed libunm.pc"; exit 1; }
[ "$(pkg-config --modversion libunm)" = 0.1.0 ] || { echo "FAIL: libunm.pc version"; exit 1; }
case $pc_cflags in *"$D/usr/include"*) ;; *) echo "FAIL: cflags '$pc_cflags'"; exit 1 ;; esac

cat > "$tmp/prog.c" <<'C'
#include <unm.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	struct unm_port *p;
	struct unm_port_stats st;
	struct unm_ring *r;
	unsigned char frame[60];
	int i, rc;

	memset(&st, 0, sizeof(st));
	st.sz = sizeof(st);
	memset(frame, 0x5a, sizeof(frame));
	rc = unm_open("null@conf:slots=64", &p, NULL);
	if (rc) {
		printf("unm_open: %d %s\n", rc, unm_errmsg());
		return 1;
	}
	r = unm_ring_get(p, 1, 0);
	if (!r || unm_ring_space(r) != 63 || unm_ring_next(r, 63) != 0)
		return 2;
	for (i = 0; i < 5; i++)
		if (unm_inject(p, frame, sizeof(frame)) != (int)sizeof(frame))
			return 3;
	if (unm_txsync(p, UNM_RING_ALL) || unm_port_stats(p, &st) ||
	    st.tx_frames != 5 || st.tx_bytes != 5 * sizeof(frame))
		return 4;
	unm_close(p);
	printf("libunm %s\n", unm_version());
	return 0;
}
C
cp "$tmp/prog.c" "$tmp/prog.cc"

san=
if [ "$B" = build-san ] || [ "${SANITIZE:-}" = 1 ]; then
	san="-fsanitize=address,undefined -fno-omit-frame-pointer"
fi
# name compiler flags... : build and run one variant
variant() {
	local name=$1 cc=$2 src=$3; shift 3
	echo "== $name: $cc $* $(basename "$src")"
	# shellcheck disable=SC2086
	if ! $cc "$@" $san $pc_cflags -o "$tmp/$name" "$src" $pc_libs > "$tmp/$name.log" 2>&1; then
		cat "$tmp/$name.log"; echo "FAIL: $name does not compile"; exit 1
	fi
	LD_LIBRARY_PATH=$D/usr/lib ldd "$tmp/$name" | grep -q "$D/usr/lib/libunm.so.0" ||
		{ LD_LIBRARY_PATH=$D/usr/lib ldd "$tmp/$name"; echo "FAIL: $name is not linked to the installed libunm.so"; exit 1; }
	out=$(LD_LIBRARY_PATH=$D/usr/lib "$tmp/$name")
	rc=$?
	[ $rc -eq 0 ] || { echo "$out"; echo "FAIL: $name exited with $rc"; exit 1; }
	[ "$out" = "libunm 0.1.0" ] || { echo "FAIL: $name printed '$out'"; exit 1; }
	echo "   $out"
}
cflags="-std=c11 -pedantic -Wall -Wextra -Werror"
variant c-gcc gcc "$tmp/prog.c" $cflags
if [ -n "$san" ]; then
	echo "== c-clang skipped: sanitizer build (clang's ASan runtime is not gcc's)"
elif command -v clang >/dev/null; then
	variant c-clang clang "$tmp/prog.c" $cflags
else
	echo "== c-clang skipped: clang not installed"
fi
if command -v g++ >/dev/null; then
	variant cxx-g++ g++ "$tmp/prog.cc" -std=c++11 -pedantic -Wall -Wextra -Werror
else
	echo "== C++ skipped: g++ not installed"
fi
echo ok
