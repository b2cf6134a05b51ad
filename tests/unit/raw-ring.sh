#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: the reference ring of bench/raw_ring.c is correct (the
# benchmark's numbers mean nothing otherwise): a 0.2 s throughput run with
# small and odd geometries delivers every frame in sequence and a ping run
# gets every echo back; bad arguments exit 2. Rates are not checked here.
set -u
cd "$(dirname "$0")/../.." || exit 1
RR=${UNM_BUILD:-$PWD/build}/bench/raw_ring
[ -x "$RR" ] || RR=$PWD/build/bench/raw_ring
[ -x "$RR" ] || { echo "FAIL: $RR not built"; exit 1; }
fail() { echo "FAIL: $*"; exit 1; }

for args in "" "-n 64 -b 7 -l 100" "-n 2 -b 1 -l 8 -s 64 -c none"; do
	out=$("$RR" -t 0.2 $args) || fail "raw_ring $args: exit $?: $out"
	echo "$out" | grep -q ', 0 errors)' || fail "raw_ring $args: $out"
	echo "$out"
done
out=$("$RR" -m ping -t 0.2 -j) || fail "ping: exit $?: $out"
echo "$out" | grep -q '"errors":0}$' || fail "ping: $out"
echo "$out"
"$RR" -n 100 > /dev/null 2>&1; [ $? = 2 ] || fail "-n 100 (not a power of two) not exit 2"
"$RR" -m bogus > /dev/null 2>&1; [ $? = 2 ] || fail "-m bogus not exit 2"
echo ok
