#!/bin/bash
# run.sh - unetmap test runner (make check).
#
# Runs every C test program under $B/tests/{unit,mp,hostile,security},
# every shell test tests/*/*.sh but those in tests/lib/ (what tests source),
# and replays each fuzz corpus through its gcc-built replay program. Each
# test gets a timeout (TIMEOUT, default 180 s); exit 0 = pass, 77 = skip
# (the test prints the reason), anything else = fail, and a failing test's
# output is shown. TESTS="name ..." runs only tests whose path contains one
# of the names. The last line is "N passed, N failed, N skipped"; the exit
# status is non-zero on failure.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
export B UNM_BUILD=$PWD/$B
TIMEOUT=${TIMEOUT:-180}
pass=0 fail=0 skip=0
failed=()
logdir=$(mktemp -d /tmp/unm-tests.XXXXXX)

selected() {
	[ -z "${TESTS:-}" ] && return 0
	for t in $TESTS; do case "$1" in *"$t"*) return 0 ;; esac; done
	return 1
}

run_one() { # name cmd...
	local name=$1; shift
	selected "$name" || return 0
	local log=$logdir/$(echo "$name" | tr '/ ' '__').log
	local t0=$(date +%s.%N)
	timeout -k 5 "$TIMEOUT" "$@" > "$log" 2>&1 < /dev/null
	local rc=$?
	local dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
	case $rc in
	0)  pass=$((pass+1)); printf 'PASS  %-40s %6ss\n' "$name" "$dt" ;;
	77) skip=$((skip+1)); printf 'SKIP  %-40s %6ss  %s\n' "$name" "$dt" \
		"$(grep -m1 '^SKIP' "$log" | sed 's/^SKIP:* *//')" ;;
	*)  fail=$((fail+1)); failed+=("$name")
	    [ $rc = 124 ] && echo "(timed out after ${TIMEOUT}s)" >> "$log"
	    printf 'FAIL  %-40s %6ss  (exit %d)\n' "$name" "$dt" "$rc"
	    tail -n 30 "$log" | sed 's/^/      | /' ;;
	esac
}

for t in "$B"/tests/{unit,mp,hostile,security}/*; do
	# not objects, nor the object directories of test groups (Makefile)
	case $t in *.o|*.d) continue ;; esac
	[ -f "$t" ] && [ -x "$t" ] || continue
	run_one "${t#$B/}" "$t"
done
# tests/ext/ needs code this tree may not hold (fetched netmap sources):
# run by `make check-ext`, never by `make check`, where it could only skip
ext='^tests/ext/'
[ -n "${UNM_TESTS_EXT:-}" ] && ext='^$'
for t in $(ls tests/*/*.sh 2>/dev/null | grep -v '^tests/lib/' | grep -v "$ext"); do
	run_one "$t" bash "$t"
done
for r in $(ls "$B"/fuzz/*-replay 2>/dev/null); do
	n=$(basename "$r" -replay)
	[ -d tests/fuzz/corpus/$n ] || continue
	run_one "fuzz-replay/$n" "$r" tests/fuzz/corpus/$n
done

rm -rf "$logdir"
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
