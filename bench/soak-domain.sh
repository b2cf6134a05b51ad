#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# soak-domain.sh - the long run of tests/hostile/domain-hostile (make
# check runs it with 40 kills): KILLS (default 1000) SIGKILLs of a trust
# domain member on vale0, half while it blasts frames at random moments
# into another member, half while it holds that member's RX ring claim;
# after each kill the domain must forward a -> b again within 5 s (unmd
# repairs the dead holder) and an isolated pair on the same switch must
# not miss a frame; then the scribbler part (DOMAIN_SCRIBBLE_MS, default
# 1500). Prints the wall time, the repair latencies the test reports
# (median and worst, kill to first frame through) and PASS/FAIL; with
# SAN=1 also in the ASan+UBSan build (make SANITIZE=1 first), whose
# stderr is scanned for sanitizer reports. Exit 0 when every run passed.
#   bench/soak-domain.sh                 # 1,000 kills, plain build
#   KILLS=100 SAN=1 bench/soak-domain.sh
# Not part of make check (minutes on a loaded machine).
set -u
case "${1:-}" in
-h|--help) sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) echo "usage: [KILLS=N] [SAN=1] [B=build] bench/soak-domain.sh" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.." || exit 1
kills=${KILLS:-1000}
builds=(${B:-build})
[ "${SAN:-0}" = 1 ] && builds+=(build-san)
log=$(mktemp -d /tmp/unm-soak-domain.XXXXXX)
trap 'rm -rf "$log"' EXIT
fail=0
for b in "${builds[@]}"; do
	bin=$b/tests/hostile/domain-hostile
	if [ ! -x "$bin" ]; then
		echo "SKIP: $bin not built (make${b#build}; for build-san: make SANITIZE=1)"
		continue
	fi
	case $b in /*) ub=$b ;; *) ub=$PWD/$b ;; esac
	t0=$(date +%s.%N)
	UNM_BUILD=$ub DOMAIN_KILLS=$kills ASAN_OPTIONS=detect_leaks=1 \
		"$bin" > "$log/out" 2> "$log/err"
	rc=$?
	dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
	reports=$(grep -cE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log/err")
	res=PASS
	if [ $rc -ne 0 ] || [ "$reports" -ne 0 ]; then
		res=FAIL
		fail=1
	fi
	echo "[$b] $kills kills: ${dt}s exit $rc sanitizer_reports $reports: $res"
	grep -a 'kills:' "$log/out"
	if [ $res = FAIL ]; then
		tail -n 20 "$log/out" "$log/err"
	fi
done
exit $fail
