#!/bin/bash
# soak-hostile.sh - the long hostile run (docs/threat-model.md has the
# figures): unm-hostile-switch (drop mode, then lossless), -pipe and -shmif,
# each until MUTATIONS mutations (default 1e8 for the switch and the pipe,
# 1e7 for shmif, whose writer sleeps under the bus lock), in the plain
# build and, with SAN=1 (default), in the ASan+UBSan build (make
# SANITIZE=1 first). Prints one JSON line per run and a summary; unmd's
# and the tools' stderr is scanned for sanitizer reports. Exit 0 when
# every run passed with no report.
#   MUTATIONS=1e6 SAN=0 bench/soak-hostile.sh     # a quick check
set -u
cd "$(dirname "$0")/.." || exit 1
M=${MUTATIONS:-1e8}
MS=${SHMIF_MUTATIONS:-$(awk -v m="$M" 'BEGIN{printf "%d", m/10}')}
M=$(awk -v m="$M" 'BEGIN{printf "%d", m}')
MS=$(awk -v m="$MS" 'BEGIN{printf "%d", m}')
builds=(${B:-build})
[ "${SAN:-1}" = 1 ] && builds+=(build-san)
log=$(mktemp -d /tmp/unm-soak.XXXXXX)
trap 'rm -rf "$log"' EXIT
fail=0
for b in "${builds[@]}"; do
	bin=$b/tests/hostile/unm-hostile
	if [ ! -x "$bin-switch" ]; then
		echo "SKIP: $bin-switch not built (make${b#build}; for build-san: make SANITIZE=1)"
		continue
	fi
	for run in "switch" "switch -l" "pipe" "shmif"; do
		n=$M
		[ "$run" = shmif ] && n=$MS
		t0=$(date +%s.%N)
		UNM_BUILD=$PWD/$b ASAN_OPTIONS=detect_leaks=1 \
			"$bin-"$run -t 0 -n "$n" -j > "$log/out" 2> "$log/err"
		rc=$?
		dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
		reports=$(grep -cE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log/err")
		echo "[$b] $run: ${dt}s exit $rc sanitizer_reports $reports"
		grep '^{' "$log/out"
		if [ $rc -ne 0 ] || [ "$reports" -ne 0 ]; then
			fail=1
			grep -v '^{' "$log/out" | tail -n 20
			grep -B2 -A20 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log/err" | head -n 60
		fi
	done
done
[ $fail = 0 ] && echo "soak-hostile: PASS" || echo "soak-hostile: FAIL"
exit $fail
