#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: legacy netmap API (NETMAP_WITH_LIBS) over unetmap pipes:
# nm_parse, nm_open (NM_OPEN_RING_CFG from a parent, host rings refused with
# ENOTSUP), nm_inject, poll(POLLOUT) syncing TX, nm_dispatch with a count and
# with 0, nm_nextpkt for 2000 frames one by one (every byte checked),
# nm_pkt_copy, D/RD/ND, struct nmreq by hand (NIOCREGIF with
# NETMAP_NO_TX_POLL, mmap, NIOCGINFO, NETMAP_VNET_HDR_GET, NETMAP_BDG_VNET_HDR,
# NETMAP_SW_RING refused), nm_close.
cd "$(dirname "$0")/../.." || exit 1
. tests/compat/compat.inc
need_prog "$C/nm-legacy"
"$C/nm-legacy" "$(pname l)" > "$T/out" 2>&1 || { cat "$T/out"; fail "nm-legacy"; }
cat "$T/out"
grep -q '^PASS' "$T/out" || fail "no PASS line"
grep -q 'main \[[0-9]*\] legacy API test' "$T/out" || fail "D() output missing"
