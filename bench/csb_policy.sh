#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# csb_policy.sh - unmd's opt-in CSB notification policies (unmd(8):
# UNMD_CSB_RX_MODERATION, UNMD_CSB_YIELD) against the default, in the
# setting of bench/vale_passthrough.sh, interleaved in one run:
#   A        = vale_tput -f -N: CSB sender -> vale0 -> unmd's in-daemon null port;
#   B:LABEL  = vale_tput -f:    CSB sender -> vale0 -> CSB receiver process,
#              unmd started with the policy LABEL stands for.
# Each round runs A then every policy (order rotated per round); prints
# each rate, each policy's ratio to the same round's A, and per policy the
# median ratio. Policies (-P, comma-separated, default all):
#   default  no variable set
#   rxmod    UNMD_CSB_RX_MODERATION=50
#   yield20  UNMD_CSB_YIELD=20
#   both     UNMD_CSB_RX_MODERATION=50 UNMD_CSB_YIELD=20
#   noyield  UNMD_CSB_YIELD=off
#
# usage: bench/csb_policy.sh [-n ROUNDS] [-t SECONDS] [-s SLOTS] [-P LIST]
#   B=BUILDDIR (default build). Verify with: -n 1 -t 1.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.." || exit 1
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
rounds=5 secs=2 slots=1024 list=default,rxmod,yield20,both,noyield
while getopts "n:t:s:P:" o; do
	case $o in
	n) rounds=$OPTARG ;; t) secs=$OPTARG ;; s) slots=$OPTARG ;; P) list=$OPTARG ;; *) exit 2 ;;
	esac
done
for f in bench/vale_tput unmd unm-ctl; do
	[ -x "$B/$f" ] || { echo "SKIP: $B/$f not built (make)"; exit 77; }
done
envs() {
	case $1 in
	default) echo "" ;;
	rxmod) echo "UNMD_CSB_RX_MODERATION=50" ;;
	yield20) echo "UNMD_CSB_YIELD=20" ;;
	both) echo "UNMD_CSB_RX_MODERATION=50 UNMD_CSB_YIELD=20" ;;
	noyield) echo "UNMD_CSB_YIELD=off" ;;
	*) echo "csb_policy.sh: unknown policy $1" >&2; exit 2 ;;
	esac
}
IFS=, read -r -a pols <<<"$list"
for p in "${pols[@]}"; do envs "$p" >/dev/null || exit 2; done
tmp=$(mktemp -d /tmp/csb_policy.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
rate() { grep -o 'rate=[0-9.]*' | tail -1 | cut -d= -f2; }
echo "## CSB receiver policies vs in-daemon port, $((60 + 4))-byte frames, $slots slots, ${secs}s each"
for i in $(seq "$rounds"); do
	a=$(env -u UNMD_CSB_RX_MODERATION -u UNMD_CSB_YIELD \
		"$B/bench/vale_tput" -f -N -t "$secs" -s "$slots" 2>&1 | rate)
	line="round $i A=${a:-fail}"
	n=${#pols[@]}
	for k in $(seq 0 $((n - 1))); do
		p=${pols[$(((k + i) % n))]}
		# shellcheck disable=SC2046
		b=$(env -u UNMD_CSB_RX_MODERATION -u UNMD_CSB_YIELD $(envs "$p") \
			"$B/bench/vale_tput" -f -t "$secs" -s "$slots" 2>&1 | rate)
		r=$(awk -v a="${a:-0}" -v b="${b:-0}" 'BEGIN{ if (a > 0) printf "%.3f", b / a; else print "-" }')
		line="$line $p=${b:-fail}($r)"
		[ "$r" != - ] && echo "$r" >>"$tmp/$p"
	done
	echo "$line"
done
for p in "${pols[@]}"; do
	[ -s "$tmp/$p" ] || { echo "$p: no valid rounds"; continue; }
	sort -g "$tmp/$p" | awk -v p="$p" '{v[NR]=$1} END {
		m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2;
		printf "%-8s median B/A = %.3f  (min %.3f, max %.3f, %d rounds)\n", p, m, v[1], v[NR], NR }'
done
