#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: unm-netmap-run runs a program that opens /dev/netmap by hand
# (NIOCREGIF for one pipe end, NIOCCTRL for the other, mmap, poll on both
# plus an ordinary pipe, NIOCTXSYNC/NIOCRXSYNC, munmap, close) and links
# nothing of unetmap: built against the compat headers alone, it fails
# without the wrapper (no /dev/netmap) and passes under it; built against
# netmap's own headers ($NETMAP_SRC, default /work/ext/netmap) when present,
# it passes under the wrapper too. Also: --help exits 0, a usage error 2.
cd "$(dirname "$0")/../.." || exit 1
. tests/compat/compat.inc
need_prog "$RUN"
# In the sanitizer build the shim is instrumented and the program is not:
# the shim brings the sanitizer runtimes as its own dependencies, loaded
# after it, so ASan's "runtime first" check is turned off for this run.
san_build && export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
"$RUN" --help | grep -q '^Usage: unm-netmap-run' || fail "--help"
"$RUN" --bogus true 2>/dev/null; [ $? = 2 ] || fail "usage error is not exit 2"
"$RUN" 2>/dev/null; [ $? = 2 ] || fail "no command is not exit 2"
CC=${CC:-cc}
$CC -O2 -Wall -Wextra -Werror -Iinclude/netmap-compat -Iinclude -o "$T/nm-raw" \
	tests/compat/nm-raw.c || fail "build against the compat headers"
if [ -e /dev/netmap ]; then
	echo "note: /dev/netmap exists here (netmap module?): not checking the failure without the wrapper"
elif "$T/nm-raw" "$(pname x)" 1 > "$T/out" 2>&1; then
	fail "ran without the wrapper: the test proves nothing"
fi
"$RUN" -q "$T/nm-raw" "$(pname c)" 500 > "$T/out" 2>&1 || { cat "$T/out"; fail "nm-raw (compat headers) under unm-netmap-run"; }
cat "$T/out"
NETMAP_SRC=${NETMAP_SRC:-/work/ext/netmap}
if [ -f "$NETMAP_SRC/sys/net/netmap_user.h" ]; then
	$CC -O2 -Wall -Wextra -Werror -I"$NETMAP_SRC/sys" -o "$T/nm-raw-netmap" \
		tests/compat/nm-raw.c || fail "build against netmap's headers"
	"$RUN" -q "$T/nm-raw-netmap" "$(pname n)" 500 > "$T/out" 2>&1 ||
		{ cat "$T/out"; fail "nm-raw (netmap's headers) under unm-netmap-run"; }
	echo "netmap's headers: $(cat "$T/out")"
else
	echo "note: netmap sources not found at $NETMAP_SRC: built against the compat headers only"
fi
echo PASS
