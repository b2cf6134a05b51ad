#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# vm_tput.sh - guest-to-host rate through the ivshmem passthrough compared
# with the same switch port driven by a host process.
#
#   N=frames LEN=bytes bench/vm_tput.sh      (defaults: N=2000000 LEN=60)
#
# Both runs: a private unmd, switch vale0 lossless, a host receiver
# (pt-peer rx) on vale0:host timing first to last frame.
#   passthrough  the QEMU guest (TCG unless KVM works) sends N frames on
#                ivshmem:BDF = vale0:vm served by unm-ivshmem;
#   host         a host process sends N frames on vale0:vm directly.
# Prints both rates, their ratio, and unmd's CPU time per frame (the
# host-side cost of the switch port; /proc/PID/stat, 10 ms resolution),
# plus the guest's doorbell count. Under TCG the guest's own speed bounds
# the passthrough rate: compare the ratio only on the same machine.
# Needs root, QEMU, a kernel, busybox-static (as tests/vm/ivshmem-pt.sh).
set -u
source "$(dirname "$0")/../tests/lib/vm.inc"
vm_preflight
N=${N:-2000000}
LEN=${LEN:-60}
WORK=$(mktemp -d /tmp/unm-vm-tput.XXXXXX)
trap 'vm_cleanup; rm -rf "$WORK"' EXIT
vm_build "$WORK" || exit 1

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
rate_of() { sed -n 's/^rx: .* = \([0-9]*\) pps.*/\1/p' "$1"; }

# passthrough
vm_unmd "$WORK" || exit 1
vm_server "$WORK" vale0:vm || exit 1
"$BUILD/unm-ctl" switch set vale0 lossless on >/dev/null || exit 1
"$WORK/pt-peer" -t 300 -n "$N" -l "$LEN" rx vale0:host > "$WORK/pt-rx.log" 2>&1 &
PEER_PID=$!
c0=$(ticks "$UNMD_PID")
bash "$TOP/tests/vm/boot.sh" --timeout 300 --append "unm.n=$N unm.len=$LEN unm.mode=tx" \
	"$WORK/guest.cpio" -- $QEMU_OPTS > "$WORK/console.log" 2>&1
wait "$PEER_PID" || { cat "$WORK/pt-rx.log"; tail "$WORK/console.log"; echo "FAIL: passthrough run"; exit 1; }
PEER_PID=
c1=$(ticks "$UNMD_PID")
wait "$IVSH_PID" 2>/dev/null
IVSH_PID=
pt_rate=$(rate_of "$WORK/pt-rx.log")
pt_ns=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v n="$N" 'BEGIN{printf "%.0f", t / hz * 1e9 / n}')
kicks=$(sed -n 's/^stats: .*kicks \([0-9]*\).*/\1/p' "$WORK/console.log")

# host process on the same port name
"$WORK/pt-peer" -t 300 -n "$N" -l "$LEN" rx vale0:host > "$WORK/h-rx.log" 2>&1 &
PEER_PID=$!
sleep 0.2
"$BUILD/unm-ctl" switch set vale0 lossless on >/dev/null || exit 1
c0=$(ticks "$UNMD_PID")
"$WORK/pt-peer" -t 300 -n "$N" -l "$LEN" tx vale0:vm > "$WORK/h-tx.log" 2>&1 || { cat "$WORK/h-tx.log"; exit 1; }
wait "$PEER_PID" || { cat "$WORK/h-rx.log"; echo "FAIL: host run"; exit 1; }
PEER_PID=
c1=$(ticks "$UNMD_PID")
h_rate=$(rate_of "$WORK/h-rx.log")
h_ns=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v n="$N" 'BEGIN{printf "%.0f", t / hz * 1e9 / n}')
h_kicks=$(sed -n 's/^stats: .*kicks \([0-9]*\).*/\1/p' "$WORK/h-tx.log")

accel=$(cat "$UNM_VM_CACHE"/accel-* 2>/dev/null | head -n 1)
printf 'vm_tput: %u frames of %u bytes, guest accel %s\n' "$N" "$LEN" "${accel:-?}"
printf '  passthrough (guest)  %10s pps  unmd %5s ns/frame  doorbells %s\n' "$pt_rate" "$pt_ns" "${kicks:-?}"
printf '  host process         %10s pps  unmd %5s ns/frame  kicks %s\n' "$h_rate" "$h_ns" "${h_kicks:-?}"
awk -v a="$pt_rate" -v b="$h_rate" 'BEGIN{ if (b > 0) printf "  ratio passthrough/host %.2f\n", a / b }'
