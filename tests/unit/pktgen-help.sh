#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: unm-pktgen's --help and its man page stay one text: every
# option of --help (short form, long form, argument and description, word
# for word) is in the OPTIONS section of tools/unm-pktgen/unm-pktgen.8 and
# that section has no other option; --help and --version exit 0 on stdout;
# the page renders without groff warnings.
set -u
cd "$(dirname "$0")/../.." || exit 1
PG=${UNM_BUILD:-$PWD/build}/unm-pktgen
[ -x "$PG" ] || PG=$PWD/build/unm-pktgen
[ -x "$PG" ] || { echo "FAIL: $PG not built"; exit 1; }
MAN=tools/unm-pktgen/unm-pktgen.8
tmp=$(mktemp -d /tmp/pktgen-help.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

"$PG" --help > "$tmp/help" 2> "$tmp/help.err" || { echo "FAIL: --help exit $?"; exit 1; }
[ -s "$tmp/help.err" ] && { echo "FAIL: --help wrote to stderr"; exit 1; }
"$PG" --version | grep -q '^unm-pktgen [0-9]' || { echo "FAIL: --version"; exit 1; }

# --help: "  -x, --long ARG" or "      --long", then 8-space description lines
awk '
/^  -., --|^      --/ { if (h != "") print h "|" d; h = $0; sub(/^ +/, "", h); d = ""; next }
/^        [^ ]/ && h != "" { t = $0; sub(/^ +/, "", t); d = d == "" ? t : d " " t; next }
{ if (h != "") print h "|" d; h = "" }
END { if (h != "") print h "|" d }' "$tmp/help" | sort > "$tmp/from-help"

# man page: .TP, header line, description lines, inside .SH OPTIONS only
awk '
function plain(s) { gsub(/\\f[BIRP]/, "", s); gsub(/\\-/, "-", s); gsub(/\\e/, "\\", s); return s }
/^\.SH/ { if (h != "") print h "|" d; h = ""; opts = ($2 == "OPTIONS"); next }
!opts { next }
/^\.TP/ { if (h != "") print h "|" d; h = ""; want = 1; next }
want { h = plain($0); d = ""; want = 0; next }
h != "" && NF && !/^\./ { t = plain($0); d = d == "" ? t : d " " t }' "$MAN" | sort > "$tmp/from-man"

n=$(wc -l < "$tmp/from-help")
[ "$n" -ge 20 ] || { echo "FAIL: only $n options parsed from --help"; cat "$tmp/help"; exit 1; }
if ! diff -u "$tmp/from-help" "$tmp/from-man" > "$tmp/diff"; then
	echo "FAIL: --help (-) and $MAN OPTIONS (+) differ:"
	cat "$tmp/diff"
	exit 1
fi
# every long option getopt accepts is documented (the table drives both)
for o in $(sed -n 's/^[^|]*--\([a-z0-9-]*\).*/\1/p' "$tmp/from-help"); do
	grep -q -- "\\\\-\\\\-${o//-/\\\\-}" "$MAN" || { echo "FAIL: --$o not in $MAN"; exit 1; }
done

if command -v groff > /dev/null; then
	groff -t -man -ww -z "$MAN" 2> "$tmp/groff.err"
	if [ -s "$tmp/groff.err" ]; then
		echo "FAIL: groff warnings:"; cat "$tmp/groff.err"; exit 1
	fi
fi
echo "ok: $n options, --help and man page agree"
exit 0
