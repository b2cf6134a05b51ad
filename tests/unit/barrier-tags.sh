#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: memory-ordering tags stay paired. Every acquire, release and
# fence carries a tag like [P1] and its comment names the partner tag, so
# each tag used in lib/, daemon/ or include/ must appear at least twice
# (its own site and its partner's comment). Tags that appear only in
# include/unm/shm.h, which names them next to the shared fields they
# order, are declared but not used by any barrier yet: reported, not
# failed. When docs/ordering.md exists, every tag used in the code must
# have a row there and every tag in the table must still be in the code.
# With no tags at all the test passes with a note. [Kn] tags pair with
# code in the Linux kernel and appear once.
set -u
cd "$(dirname "$0")/../.." || exit 1
tag_re='\[[A-Z][0-9]+\]'
files=$(find lib daemon include tools -name '*.[ch]' 2>/dev/null | sort)
[ -n "$files" ] || { echo "SKIP: no sources found"; exit 77; }

# "file:tag" for every occurrence
occ=$(grep -oE "$tag_re" -H $files | sort)
if [ -z "$occ" ]; then
	echo "note: no barrier tags in lib/ daemon/ include/ yet"
	exit 0
fi
fail=0 used=() declared_only=()
for t in $(printf '%s\n' "$occ" | cut -d: -f2- | sort -u); do
	total=$(printf '%s\n' "$occ" | grep -cF ":$t")
	code=$(printf '%s\n' "$occ" | grep -F ":$t" | grep -vc '^include/unm/shm.h:')
	if [ "$code" -eq 0 ]; then
		declared_only+=("$t")
	elif [[ $t == "[K"* ]]; then
		# [Kn]: the partner is in the Linux kernel (io_uring, AF_PACKET,
		# AF_XDP rings), which cannot carry our tag; the comment names it.
		used+=("$t")
	elif [ "$total" -lt 2 ] || [ "$code" -lt 2 ]; then
		echo "FAIL: $t appears only once outside include/unm/shm.h:" \
			"$(grep -nF "$t" $files | grep -v '^include/unm/shm.h:' | head -1)"
		echo "      (its partner's comment must name it too)"
		fail=1
		used+=("$t")
	else
		used+=("$t")
	fi
done
[ ${#declared_only[@]} -gt 0 ] &&
	echo "note: declared in include/unm/shm.h, no barrier uses them yet: ${declared_only[*]}"

if [ -f docs/ordering.md ]; then
	doc=$(grep -oE "$tag_re" docs/ordering.md | sort -u)
	for t in "${used[@]}"; do
		printf '%s\n' $doc | grep -qxF "$t" ||
			{ echo "FAIL: $t is used in the code but has no row in docs/ordering.md"; fail=1; }
	done
	for t in $doc; do
		printf '%s\n' "$occ" | grep -qF ":$t" ||
			{ echo "FAIL: docs/ordering.md lists $t, which no source file mentions"; fail=1; }
	done
elif [ ${#used[@]} -gt 0 ]; then
	echo "note: docs/ordering.md does not exist yet (tags in use: ${used[*]})"
fi
[ $fail -eq 0 ] && echo "ok: ${#used[@]} tags paired, ${#declared_only[@]} declared only"
exit $fail
