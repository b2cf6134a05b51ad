#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: libnetmap API over unetmap pipes, in one process: nmport_open/
# prepare/clone/open_desc/inject/close, struct nmport_d fields, NIOCCTRL
# (REGISTER by hand on open("/dev/netmap") + mmap/munmap/close, PORT_INFO_GET,
# PORT_HDR_GET/SET, a second REGISTER refused, unsupported requests refused),
# NIOCTXSYNC/NIOCRXSYNC, poll() on two netmap fds and an ordinary pipe with
# netmap's sync rules (TX synced unless NR_NO_TX_POLL, RX on POLLIN), ioctl
# passthrough on ordinary fds, and names netmap accepts that unetmap cannot
# serve (host rings, @extmem, @offset) failing with ENOTSUP. 3000 frames one
# by one and 50 batches of 100, every byte checked.
cd "$(dirname "$0")/../.." || exit 1
. tests/compat/compat.inc
need_prog "$C/nm-api"
"$C/nm-api" selftest "$(pname a)" > "$T/out" 2>&1 || { cat "$T/out"; fail "nm-api selftest"; }
cat "$T/out"
grep -q '^PASS' "$T/out" || fail "no PASS line"
grep -q "host-stack rings .* not available over unetmap" "$T/out" ||
	fail "host-ring refusal does not say why"
