#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: `make demo` builds in parallel by default (one job per CPU
# when no -j is given; an explicit -j1 wins) and builds only what the demo
# runs (libunm, unmd, unm-pktgen, unm-ctl), not the tests and benchmarks
# of `make all`. Before, it built all 121 units one at a time. Checked
# with make -n -p in an empty build directory (nothing is built).
set -u
cd "$(dirname "$0")/../.." || exit 1
command -v make >/dev/null || { echo "SKIP: make not installed"; exit 77; }
T=$(mktemp -d /tmp/make-demo.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# run as a user would: not as a sub-make of `make check`
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
make -n -p demo B="$T/b" > "$T/db" 2> "$T/err" || { cat "$T/err"; fail "make -n demo failed"; }
n=$(nproc 2>/dev/null || echo 1)
grep -q "^MAKEFLAGS = .*-j$n\b" "$T/db" || fail "no default -j$n: $(grep '^MAKEFLAGS' "$T/db")"
make -n -p -j1 demo B="$T/b" 2> /dev/null | grep -q '^MAKEFLAGS = .*-j1\b' || fail "-j1 not honoured"
make -n demo B="$T/b" > "$T/cmds" 2> "$T/err" || fail "make -n demo"
grep -qE -- "-o $T/b/lib/[a-z_/]*\.o" "$T/cmds" || fail "demo does not build libunm"
grep -qE -- "-o $T/b/unm-pktgen " "$T/cmds" || fail "demo does not link unm-pktgen"
grep -qE -- "-o $T/b/unmd " "$T/cmds" || fail "demo does not link unmd"
other=$(grep -E -- "-o $T/b/(tests|bench|fuzz)/" "$T/cmds" | wc -l)
[ "$other" = 0 ] || fail "demo builds $other test/bench/fuzz units first"
echo PASS
