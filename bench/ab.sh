#!/bin/bash
# ab.sh - interleaved A/B measurement, the only way rates on this noisy
# 2-vCPU machine mean anything: the cross-core cost flips between two levels
# every few seconds to minutes, so A and B run back to back, ROUNDS times,
# and the result is the median of the per-round ratios B/A, with the mode
# (cross-core level) seen in each round.
#
# usage: ab.sh [-n ROUNDS] [-t TITLE] -A "command for the reference" -B "command measured"
#              [-M "mode probe command"]
# Each command prints, on some line, "rate=<number>" (last one wins). The
# mode probe prints "rtt_ns=<number>"; below 600 ns is "fast", else "slow".
set -u
rounds=5 title="" cmd_a="" cmd_b="" probe=""
while getopts "n:t:A:B:M:" o; do
	case $o in
	n) rounds=$OPTARG ;; t) title=$OPTARG ;; A) cmd_a=$OPTARG ;;
	B) cmd_b=$OPTARG ;; M) probe=$OPTARG ;; *) exit 2 ;;
	esac
done
[ -n "$cmd_a" ] && [ -n "$cmd_b" ] || { echo "usage: ab.sh -A CMD -B CMD [-n N] [-M PROBE]" >&2; exit 2; }
rate_of() { grep -o 'rate=[0-9.e+]*' | tail -1 | cut -d= -f2; }
ratios=() modes=()
[ -n "$title" ] && echo "## $title"
printf '%-6s %14s %14s %8s %s\n' round A B B/A mode
for i in $(seq 1 "$rounds"); do
	mode="-"
	if [ -n "$probe" ]; then
		rtt=$(bash -c "$probe" 2>/dev/null | grep -o 'rtt_ns=[0-9.]*' | tail -1 | cut -d= -f2)
		[ -n "$rtt" ] && mode=$(awk -v r="$rtt" 'BEGIN{print (r < 600) ? "fast(" int(r) "ns)" : "slow(" int(r) "ns)"}')
	fi
	# alternate the order so neither side always runs first
	if [ $((i % 2)) = 1 ]; then
		a=$(bash -c "$cmd_a" 2>&1 | rate_of); b=$(bash -c "$cmd_b" 2>&1 | rate_of)
	else
		b=$(bash -c "$cmd_b" 2>&1 | rate_of); a=$(bash -c "$cmd_a" 2>&1 | rate_of)
	fi
	if [ -z "$a" ] || [ -z "$b" ]; then
		printf '%-6s %14s %14s %8s %s\n' "$i" "${a:-fail}" "${b:-fail}" "-" "$mode"
		continue
	fi
	r=$(awk -v a="$a" -v b="$b" 'BEGIN{ if (a > 0) printf "%.3f", b / a; else print "inf" }')
	ratios+=("$r"); modes+=("$mode")
	printf '%-6s %14s %14s %8s %s\n' "$i" "$a" "$b" "$r" "$mode"
done
[ ${#ratios[@]} -gt 0 ] || { echo "no valid rounds"; exit 1; }
printf '%s\n' "${ratios[@]}" | sort -g | awk '{v[NR]=$1} END {
	m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2;
	printf "median B/A = %.3f  (min %.3f, max %.3f, %d rounds)\n", m, v[1], v[NR], NR }'
printf '%s\n' "${modes[@]}" | sed 's/(.*//' | sort | uniq -c | awk '{printf "mode %s: %d rounds\n", $2, $1}'
