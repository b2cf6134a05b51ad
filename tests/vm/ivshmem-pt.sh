#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: a VALE switch port passed through to a QEMU guest (stock
# QEMU ivshmem-doorbell, no guest driver). unmd runs on a private socket;
# unm-ivshmem serves port vale0:vm to QEMU; a host process on vale0:host
# receives a counted stream of frames that the guest's program sends
# through ivshmem:BDF (its rings in BAR2, kicks as doorbell writes), then
# sends the same count back. Both ends check every sequence number and
# payload byte; the counts must be exact (lossless switch). Runs as any
# user (TCG); skips without QEMU, a kernel, busybox-static or cpio.
# N=frames (default 10000). Prints boot and transfer times. Finishes in
# well under 90 s under TCG.
set -u
source "$(dirname "$0")/../lib/vm.inc"
vm_preflight
N=${N:-10000}
WORK=$(mktemp -d /tmp/unm-ivshmem-pt.XXXXXX)
trap 'vm_cleanup; rm -rf "$WORK"' EXIT

t0=$(vm_now)
vm_build "$WORK" || exit 1
t_build=$(vm_now)
vm_unmd "$WORK" || exit 1
vm_server "$WORK" vale0:vm || exit 1
"$BUILD/unm-ctl" switch set vale0 lossless on >/dev/null || { echo "FAIL: lossless"; exit 1; }
"$WORK/pt-peer" -t 80 -n "$N" rxtx vale0:host > "$WORK/host.log" 2>&1 &
PEER_PID=$!

t_boot=$(vm_now)
bash "$TOP/tests/vm/boot.sh" --timeout 85 --append "unm.n=$N unm.mode=txrx" "$WORK/guest.cpio" \
	-- $QEMU_OPTS > "$WORK/console.log" 2>&1
qrc=$?
t_end=$(vm_now)
wait "$PEER_PID"
hrc=$?
PEER_PID=

sed -n '/guest:/p; /^[tr]x:/p; /^stats:/p' "$WORK/console.log" | sed 's/^/  guest| /'
sed 's/^/  host | /' "$WORK/host.log"
echo "  build $(vm_dt "$t0" "$t_build") s, boot+run+poweroff $(vm_dt "$t_boot" "$t_end") s (qemu exit $qrc)"
grep 'unm-ivshmem' "$WORK/ivsh.log" | sed 's/^/  /'
grep -q "^rx: $N frames .* bad 0" "$WORK/console.log" || { tail -n 30 "$WORK/console.log"; echo "FAIL: guest did not receive $N intact frames"; exit 1; }
grep -q "^guest: pt-peer exit 0" "$WORK/console.log" || { echo "FAIL: guest program failed"; exit 1; }
[ $hrc -eq 0 ] || { echo "FAIL: host peer exit $hrc"; exit 1; }
[ $qrc -eq 0 ] || { echo "FAIL: qemu exit $qrc"; exit 1; }
echo "PASS: $N frames guest -> host and $N host -> guest through the ivshmem passthrough, exact"
