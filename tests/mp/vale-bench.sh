#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: the VALE benchmark driver (bench/vale_tput) works in every
# mode the bench/vale_*.sh scripts use, so that their ratios mean
# something: 0.3 s runs through a private unmd with 2 and 6 ports, with
# flooding into a receiver process, and into the in-daemon null port
# (-N: attached with unm-ctl); each moves frames and prints rate=; and no
# unmd is left behind. Rates are not checked here.
set -u
cd "$(dirname "$0")/../.." || exit 1
BD=${UNM_BUILD:-$PWD/build}
VT=$BD/bench/vale_tput
[ -x "$VT" ] || VT=$PWD/build/bench/vale_tput
[ -x "$VT" ] || { echo "FAIL: $VT not built"; exit 1; }
fail() { echo "FAIL: $*"; exit 1; }

pids=()
for args in "" "-p 6" "-f" "-f -N" "-l 1514 -s 256"; do
	out=$(timeout 20 "$VT" -t 0.3 $args 2>&1) || fail "vale_tput $args: exit $?: $out"
	rate=$(echo "$out" | grep -o 'rate=[0-9.]*' | cut -d= -f2)
	[ -n "$rate" ] || fail "vale_tput $args: no rate: $out"
	awk -v r="$rate" 'BEGIN{exit !(r > 0)}' || fail "vale_tput $args: nothing received: $out"
	# unmd logs "serving SOCKET (mode ..., pid N)" on the shared stderr
	pids+=($(echo "$out" | sed -n 's/.*unmd: serving .*, pid \([0-9]*\)).*/\1/p'))
	echo "$out" | grep 'rate='
done
[ ${#pids[@]} = 5 ] || fail "expected 5 unmd pids, got: ${pids[*]}"
"$VT" -p 1 > /dev/null 2>&1; [ $? = 2 ] || fail "-p 1 not exit 2"
for pid in "${pids[@]}"; do
	[ -d "/proc/$pid" ] && [ "$(cat /proc/$pid/comm 2>/dev/null)" = unmd ] &&
		{ kill "$pid"; fail "unmd $pid left running"; }
done
echo ok
