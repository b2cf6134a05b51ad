#!/bin/bash
# soak-lifecycle.sh - the long lifecycle run: CYCLES (default 1000) cycles
# of open -> traffic -> SIGKILL (switch client, pipe pair, port attached to
# the switch: null, or a tap with TAP=1) while an honest pair keeps
# forwarding; unmd's fds, VmRSS and port table before/after; then unmd
# SIGKILLed and restarted under traffic. Plain build and, with SAN=1
# (default), the ASan build. Prints the figures; exit 0 when all passed.
#   CYCLES=50 SAN=0 bench/soak-lifecycle.sh    # a quick check
set -u
cd "$(dirname "$0")/.." || exit 1
cycles=${CYCLES:-1000}
builds=(${B:-build})
[ "${SAN:-1}" = 1 ] && builds+=(build-san)
extra=()
[ "${TAP:-0}" = 1 ] && extra+=(--tap)
log=$(mktemp /tmp/unm-soak-lc.XXXXXX)
trap 'rm -f "$log"' EXIT
fail=0
for b in "${builds[@]}"; do
	bin=$b/tests/hostile/unm-lifecycle
	if [ ! -x "$bin" ]; then
		echo "SKIP: $bin not built"
		continue
	fi
	UNM_BUILD=$PWD/$b "$bin" --cycles "$cycles" "${extra[@]}" 2> "$log"
	rc=$?
	reports=$(grep -cE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log")
	echo "[$b] exit $rc, sanitizer reports $reports"
	if [ $rc -ne 0 ] || [ "$reports" -ne 0 ]; then
		fail=1
		grep -B2 -A20 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log" | head -n 60
	fi
done
[ $fail = 0 ] && echo "soak-lifecycle: PASS" || echo "soak-lifecycle: FAIL"
exit $fail
