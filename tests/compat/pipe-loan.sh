#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: over the compat layer a pipe lends TX buffers to the
# receiver (UNM_OPEN_PIPE_LOAN, the default) instead of copying or
# swapping: the
# receiver sees the sender's own buffer index, the TX slot stays the
# sender's until the receiver released it and then has its buffer back,
# frame intact and without NS_BUF_CHANGED, at any length; a buffer the
# receiver swapped out comes back as the one it put in, with
# NS_BUF_CHANGED (tests/compat/nm-api.c loan). With UNM_NETMAP_PIPE_LOAN=0
# the pipe copies: the same check must fail there.
cd "$(dirname "$0")/../.." || exit 1
. tests/compat/compat.inc
need_prog "$C/nm-api"
"$C/nm-api" loan "$(pname l)" > "$T/out" 2>&1 ||
	{ cat "$T/out"; fail "nm-api loan"; }
cat "$T/out"
UNM_NETMAP_PIPE_LOAN=0 "$C/nm-api" loan "$(pname c)" > "$T/out" 2>&1 &&
	{ cat "$T/out"; fail "UNM_NETMAP_PIPE_LOAN=0: the pipe lent buffers"; }
grep -q "FAIL: TX space" "$T/out" || { cat "$T/out"; fail "copy mode: unexpected failure"; }
echo PASS
