#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: the ABI of libunm.so. Every dynamic symbol the library
# defines starts with unm_ and carries the version node UNM_0.1; the
# SONAME is libunm.so.0; the exported set equals the UNM_API functions
# declared in the public headers (nothing internal leaks, nothing public
# is missing). Reads $UNM_BUILD/libunm.so.0.1.0 (default build/).
set -u
cd "$(dirname "$0")/../.." || exit 1
so=${UNM_BUILD:-$PWD/build}/libunm.so.0.1.0
for t in nm readelf; do
	command -v $t >/dev/null || { echo "SKIP: $t not installed (binutils)"; exit 77; }
done
[ -f "$so" ] || { echo "FAIL: $so not built"; exit 1; }
fail=0

soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" != libunm.so.0 ]; then
	echo "FAIL: SONAME is '$soname', expected libunm.so.0"; fail=1
fi

# "ADDR T name@@UNM_0.1"; the version node itself is an absolute symbol.
syms=$(nm -D --defined-only "$so" | awk '$2 != "A" { print $3 }')
[ -n "$syms" ] || { echo "FAIL: no dynamic symbols in $so"; exit 1; }
exported=()
for s in $syms; do
	name=${s%%@*}
	ver=none
	[[ $s == *@* ]] && { ver=${s#*@}; ver=${ver#@}; }
	case $name in unm_*) ;; *) echo "FAIL: exported symbol '$name' lacks the unm_ prefix"; fail=1 ;; esac
	if [ "$ver" != UNM_0.1 ]; then
		echo "FAIL: symbol '$name' has version '$ver', expected UNM_0.1"; fail=1
	fi
	exported+=("$name")
done

# Functions declared UNM_API in the installed headers.
declared=$(grep -h 'UNM_API' include/unm.h include/unm/*.h | grep -v '#define' |
	grep -o '\bunm_[a-z0-9_]*[[:space:]]*(' | tr -d ' (' | sort -u)
for d in $declared; do
	printf '%s\n' "${exported[@]}" | grep -qx "$d" ||
		{ echo "FAIL: $d is declared UNM_API but not exported"; fail=1; }
done
for e in "${exported[@]}"; do
	printf '%s\n' $declared | grep -qx "$e" ||
		{ echo "FAIL: $e is exported but not declared UNM_API in a public header"; fail=1; }
done
[ $fail -eq 0 ] && echo "ok: ${#exported[@]} symbols, all unm_* @UNM_0.1, SONAME libunm.so.0"
exit $fail
