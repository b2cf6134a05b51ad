#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: a staged "make install DESTDIR=..." provides
# include/unm/netmap-compat/{net/netmap.h,net/netmap_user.h,
# net/netmap_legacy.h,libnetmap.h}, libunm-netmap, the preload shim and
# unm-netmap.pc; netmap programs of both generations build with
# "cc app.c $(pkg-config --cflags --libs unm-netmap) -Wall -Wextra -Werror"
# with gcc and clang (when installed) against it and run.
cd "$(dirname "$0")/../.." || exit 1
. tests/compat/compat.inc
command -v pkg-config >/dev/null || skip "pkg-config not installed"
SAN=
san_build && SAN="SANITIZE=1"
D=$T/stage
make -s install B="$B" $SAN DESTDIR="$D" PREFIX=/usr > "$T/install.log" 2>&1 ||
	{ tail -n 20 "$T/install.log"; fail "make install"; }
for f in include/unm/netmap-compat/net/netmap.h include/unm/netmap-compat/net/netmap_user.h \
	 include/unm/netmap-compat/net/netmap_legacy.h include/unm/netmap-compat/libnetmap.h \
	 lib/pkgconfig/unm-netmap.pc lib/libunm-netmap.so lib/unetmap/unm-netmap-preload.so \
	 bin/unm-netmap-run; do
	[ -e "$D/usr/$f" ] || fail "not installed: $f"
done
export PKG_CONFIG_PATH=$D/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D
flags=$(pkg-config --cflags --libs unm-netmap) || fail "pkg-config unm-netmap"
case "$flags" in -I$D/usr/include/unm/netmap-compat*) ;; *) fail "cflags do not put netmap-compat first: $flags" ;; esac
SANFLAGS=
compilers="gcc clang"
if san_build; then
	# one ASan runtime per process: build with the compiler of the libraries
	SANFLAGS="-fsanitize=address,undefined"
	readelf -p .comment "$PWD/$B/libunm-netmap.so" 2>/dev/null | grep -q clang &&
		compilers=clang || compilers=gcc
fi
built=0
for cc in $compilers; do
	command -v $cc >/dev/null || { echo "note: $cc not installed"; continue; }
	for p in nm-api nm-legacy; do
		$cc -O2 -Wall -Wextra -Werror $SANFLAGS -o "$T/$p-$cc" tests/compat/$p.c $flags ||
			fail "$cc: $p"
	done
	LD_LIBRARY_PATH=$D/usr/lib "$T/nm-legacy-$cc" "$(pname $cc)" > "$T/out" 2>&1 ||
		{ cat "$T/out"; fail "$cc: nm-legacy against the staged install"; }
	LD_LIBRARY_PATH=$D/usr/lib "$T/nm-api-$cc" selftest "$(pname a$cc)" > "$T/out" 2>&1 ||
		{ cat "$T/out"; fail "$cc: nm-api against the staged install"; }
	echo "$cc: built and ran nm-api, nm-legacy"
	built=$((built + 1))
done
[ $built -gt 0 ] || skip "no C compiler"
echo PASS
