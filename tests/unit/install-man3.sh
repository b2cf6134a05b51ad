#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: `make install` installs a man3 page for every function of
# the public headers (exported UNM_API functions and the inline ring
# helpers): a page with NAME, SYNOPSIS, DESCRIPTION, RETURN VALUE, ERRORS
# and SEE ALSO for each family and a .so link for every other name;
# every "name(3)" that a man page of the tree cites exists; the pages
# render without groff warnings. A real install (no DESTDIR) runs
# ldconfig (LDCONFIG=, here a marker command), a staged one (DESTDIR=)
# does not. Before, no man3 page existed and no ldconfig ran, so the
# first run said "libunm.so.0: cannot open shared object file".
set -u
cd "$(dirname "$0")/../.." || exit 1
root=$PWD
B=${B:-build}
tmp=$(mktemp -d /tmp/unm-man3.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset MAKEFLAGS MFLAGS MAKELEVEL
D=$tmp/dest
make -s -C "$root" B="$B" ${SANITIZE:+SANITIZE=$SANITIZE} install DESTDIR="$D" PREFIX=/usr \
	LDCONFIG="touch $tmp/ldconfig-staged" > "$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; fail "make install DESTDIR"; }
[ -e "$tmp/ldconfig-staged" ] && fail "ldconfig ran for a DESTDIR install"
make -s -C "$root" B="$B" ${SANITIZE:+SANITIZE=$SANITIZE} install PREFIX="$tmp/prefix" \
	LDCONFIG="touch $tmp/ldconfig-real" > "$tmp/install2.log" 2>&1 ||
	{ cat "$tmp/install2.log"; fail "make install PREFIX"; }
[ -e "$tmp/ldconfig-real" ] || fail "make install (no DESTDIR) did not run ldconfig"

M=$D/usr/share/man/man3
funcs=$(cat include/unm.h include/unm/ring.h |
	sed -n -e 's/^UNM_API [^(]*[ *]\(unm_[a-z0-9_]*\)(.*/\1/p' \
	       -e 's/^static inline [^(]*[ *]\(unm_[a-z0-9_]*\)(.*/\1/p' | sort -u)
[ "$(echo "$funcs" | wc -w)" -ge 20 ] || fail "found only $(echo "$funcs" | wc -w) functions in the headers"
pages=()
for f in $funcs; do
	p=$M/$f.3
	[ -f "$p" ] || fail "no man page for $f"
	if so=$(sed -n 's/^\.so man3\/\(.*\)$/\1/p' "$p") && [ -n "$so" ]; then
		p=$M/$so
		[ -f "$p" ] || fail "$f.3 links to missing $so"
	fi
	grep -q "\\b$f\\b" "$p" || fail "$(basename "$p") does not mention $f"
	pages+=("$p")
done
for p in $(printf '%s\n' "${pages[@]}" | sort -u); do
	for s in NAME SYNOPSIS DESCRIPTION "RETURN VALUE" ERRORS "SEE ALSO"; do
		grep -q "^\.SH \"\?$s\"\?\$" "$p" || fail "$(basename "$p") has no $s section"
	done
	if command -v groff > /dev/null; then
		groff -t -man -ww -z "$p" 2> "$tmp/groff.err"
		[ -s "$tmp/groff.err" ] && { cat "$tmp/groff.err"; fail "groff warnings in $(basename "$p")"; }
	fi
done
# every page in the tree cites only man3 pages that exist
for m in man/man*/*.[0-9] daemon/*.8 tools/*/*.8; do
	for c in $(grep -ho '^\.BR* unm_[a-z0-9_]* (3)' "$m" | awk '{print $2}'); do
		[ -f "$M/$c.3" ] || fail "$m cites $c(3), which is not installed"
	done
done
echo "PASS: $(echo "$funcs" | wc -w) functions, $(printf '%s\n' "${pages[@]}" | sort -u | wc -l) pages"
