#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: every installed public header (include/unm.h,
# include/unm/*.h) compiles on its own as C++11 with g++ and clang++
# (-Wall -Wextra -pedantic -Werror), and as C with the project's compiler
# flags: a C++ application can include them. unm/ctl.h once used a bare
# _Static_assert, which C++ does not have.
set -u
cd "$(dirname "$0")/../.." || exit 1
T=$(mktemp -d /tmp/headers-cxx.XXXXXX)
trap 'rm -rf "$T"' EXIT
ran=0 bad=0
for cxx in g++ clang++; do
	command -v $cxx >/dev/null || continue
	for h in include/unm.h include/unm/*.h; do
		inc=${h#include/}
		printf '#include <%s>\nint main() { return 0; }\n' "$inc" > "$T/t.cc"
		if ! $cxx -std=c++11 -Wall -Wextra -pedantic -Werror -Iinclude -c -o "$T/t.o" \
			"$T/t.cc" > "$T/err" 2>&1; then
			echo "FAIL: $cxx: $inc"; head -5 "$T/err"; bad=1
		fi
		ran=1
	done
done
[ $ran = 1 ] || { echo "SKIP: neither g++ nor clang++ installed"; exit 77; }
for h in include/unm.h include/unm/*.h; do
	printf '#include <%s>\nint main(void) { return 0; }\n' "${h#include/}" > "$T/t.c"
	${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -Iinclude -c -o "$T/t.o" "$T/t.c" > "$T/err" 2>&1 ||
		{ echo "FAIL: C: $h"; head -5 "$T/err"; bad=1; }
done
[ $bad = 0 ] || exit 1
echo PASS
