#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# vale_scale.sh - what idle ports cost the switch: vale_tput (one sender,
# one receiver, 64-byte frames) with 2, 8 and 64 ports on the switch (the
# extra ones attached and idle), run back to back in rotating order each
# round. Prints each round's rates and, per port count, the median ratio
# to the 2-port rate of the same round (goal: 64 ports >= 0.8).
#
# usage: bench/vale_scale.sh [-n ROUNDS] [-t SECONDS] [-p "2 8 64"] [-s SLOTS]
#   B=BUILDDIR (default build). Verify with: -n 1 -t 1.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.." || exit 1
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
rounds=5 secs=2 ports="2 8 64" slots=1024
while getopts "n:t:p:s:" o; do
	case $o in
	n) rounds=$OPTARG ;; t) secs=$OPTARG ;; p) ports=$OPTARG ;; s) slots=$OPTARG ;; *) exit 2 ;;
	esac
done
[ -x "$B/bench/vale_tput" ] || { echo "SKIP: $B/bench/vale_tput not built (make)"; exit 77; }
read -r -a P <<<"$ports"
n=${#P[@]}
rate_of() { grep -o 'rate=[0-9.e+]*' | tail -1 | cut -d= -f2; }
echo "## VALE rate vs ports on the switch (2 active), $slots slots, ${secs}s each"
printf '%-6s' round; for p in "${P[@]}"; do printf ' %10s' "${p}p"; done; printf '  mode\n'
declare -A ratios
for r in $(seq 1 "$rounds"); do
	rtt=$("$B/bench/raw_ring" -m ping -t 0.2 2>/dev/null | grep -o 'rtt_ns=[0-9.]*' | cut -d= -f2)
	mode=$(awk -v r="${rtt:-0}" 'BEGIN{print (r == 0) ? "-" : (r < 600) ? "fast(" int(r) "ns)" : "slow(" int(r) "ns)"}')
	declare -A rate=()
	for k in $(seq 0 $((n - 1))); do
		p=${P[$(((k + r) % n))]}   # rotate the order each round
		rate[$p]=$("$B/bench/vale_tput" -t "$secs" -s "$slots" -p "$p" 2>&1 | rate_of)
	done
	printf '%-6s' "$r"; for p in "${P[@]}"; do printf ' %10s' "${rate[$p]:-fail}"; done; printf '  %s\n' "$mode"
	base=${rate[${P[0]}]:-}
	for p in "${P[@]}"; do
		[ -n "$base" ] && [ -n "${rate[$p]:-}" ] &&
			ratios[$p]+="$(awk -v a="$base" -v b="${rate[$p]}" 'BEGIN{printf "%.3f", b / a}') "
	done
done
for p in "${P[@]:1}"; do
	printf '%s\n' ${ratios[$p]:-} | sort -g | awk -v p="$p" -v b="${P[0]}" 'NF {v[++n]=$1} END {
		if (!n) { printf "%s ports: no valid rounds\n", p; exit }
		m = (n % 2) ? v[(n+1)/2] : (v[n/2] + v[n/2+1]) / 2;
		printf "median rate(%s ports) / rate(%s ports) = %.3f  (min %.3f, max %.3f, %d rounds)\n",
		       p, b, m, v[1], v[n], n }'
done
