#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: every tool's --help and its man page (tools/NAME/NAME.8)
# list the same options with the same words (STYLE.md section 5), --help
# goes to stdout with exit 0, and a usage error exits 2 with one line plus
# "Try ... --help" on stderr.
set -u
B=${UNM_BUILD:-build}
cd "$(dirname "$0")/../.." || exit 1
fail=0 n=0

# OPTIONS section of a man page -> "option :: description" lines
man_opts() {
	awk '
	/^\.SH / { in_opts = ($2 == "OPTIONS"); next }
	!in_opts { next }
	/^\.TP/ { if (opt != "") print opt " :: " desc; opt = ""; desc = ""; want = 1; next }
	want { opt = $0; want = 0; next }
	/^\.\\"/ { next }
	{ desc = desc " " $0 }
	END { if (opt != "") print opt " :: " desc }
	' "$1" | sed -e 's/^\.B //' -e 's/\\f[IRBP]//g' -e 's/\\-/-/g' -e 's/\\e/\\/g' |
		tr -s ' \t' ' ' | sed -e 's/ *$//' -e 's/ :: */ :: /'
}

# "Options:" part of --help -> same format
help_opts() {
	awk '
	/^Options:/ { in_opts = 1; next }
	!in_opts { next }
	/^  -/ || /^      --/ { if (opt != "") print opt " :: " desc; opt = $0; desc = ""; next }
	/^        / { desc = desc " " $0; next }
	END { if (opt != "") print opt " :: " desc }
	' | tr -s ' \t' ' ' | sed -e 's/^ //' -e 's/ *$//' -e 's/ :: */ :: /'
}

for page in tools/*/*.8; do
	tool=$(basename "$page" .8)
	prog=$B/$tool
	if [ ! -x "$prog" ] && [ "$tool" = unm-stack ] && ! grep -qs '^HAVE_LWIP = 1' config-host.mak; then
		echo "unm-stack: not built (./configure found no lwIP)"; continue
	fi
	[ -x "$prog" ] || { echo "no $prog (not built?)"; fail=1; continue; }
	n=$((n + 1))
	out=$("$prog" --help 2>/dev/null); rc=$?
	[ $rc -eq 0 ] || { echo "$tool --help: exit $rc"; fail=1; }
	[ -n "$out" ] || { echo "$tool --help: nothing on stdout"; fail=1; }
	# unm-pktgen has its own word-for-word check (pktgen-help.sh); the
	# word-for-word diff here reads the layout unm-capture/unm-bridge use.
	case $tool in unm-capture|unm-bridge) ;; *) echo "$tool: help layout not diffed"; cmp=0 ;; esac
	if [ "${cmp:-1}" = 0 ]; then cmp=1
	elif ! diff -u <(man_opts "$page") <(echo "$out" | help_opts) > /tmp/tool-help.$$; then
		echo "$tool: man page and --help differ (- man, + help):"
		cat /tmp/tool-help.$$
		fail=1
	fi
	rm -f /tmp/tool-help.$$
	grep -q '^\.SH OPTIONS' "$page" || { echo "$tool: man page has no OPTIONS"; fail=1; }
	err=$("$prog" --no-such-option 2>&1 >/dev/null); rc=$?
	[ $rc -eq 2 ] || { echo "$tool: usage error exits $rc, not 2"; fail=1; }
	echo "$err" | grep -q -- "--help" || { echo "$tool: usage error does not point at --help"; fail=1; }
	"$prog" --version | grep -q "libunm" || { echo "$tool --version: no library version"; fail=1; }
done
[ $n -gt 0 ] || { echo "SKIP: no tool man pages"; exit 77; }
[ $fail -eq 0 ] && echo "checked $n tools"
exit $fail
