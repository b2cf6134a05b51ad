#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: a QEMU guest's stock virtio-net device, served by unmd as a
# vhost-user port on vale0, pings a Linux stack through the switch and a
# tap port. unmd runs in namespace D (it creates the tap there); the tap
# is moved into namespace H and given 10.R.S.1/24. QEMU (TCG unless KVM
# works; guest memory a shared memfd; virtio-net-pci with vectors=0, see
# below) connects to the port's socket (unmd is the vhost-user server);
# the guest (tests/vm/guest-init, unm.job=ping) loads virtio_net from the
# installed linux-image-amd64, takes 10.R.S.2/24 and pings 10.R.S.1 N times
# (0.2 s apart). Checks: the guest reports exactly N sent and N received;
# unm-ctl stats shows each of vhost-user rx/tx and tap rx/tx moved by N to
# N+8 frames (the echoes plus ARP); with no frontend connected (before
# the first VM, after the last) unmd uses <= 50 ms of CPU per second;
# unmd survives, exits 0 on SIGTERM and logs no sanitizer report.
# Round 2 (reconnect): QEMU is killed (SIGKILL, no clean vhost-user
# teardown) and started again on the same socket; the same port must serve
# the new guest and N pings must again all be answered.
# Namespaces have a random suffix and are deleted on exit; SKIP (77)
# without root, ip(8), /dev/net/tun, QEMU, a kernel and its modules,
# busybox-static or cpio. N=pings per round (default 5).
set -u
source "$(dirname "$0")/../lib/vm.inc"
vm_preflight
[ "$(id -u)" = 0 ] || vm_skip "needs root (CAP_NET_ADMIN) for network namespaces"
command -v ip >/dev/null || vm_skip "ip(8) not installed"
[ -c /dev/net/tun ] || vm_skip "/dev/net/tun not present"
N=${N:-5}
SUF=$(printf '%04x%04x' $RANDOM $RANDOM)
NSD=unmvd$SUF NSH=unmvh$SUF TAP=uvp$SUF
NET=10.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))
WORK=$(mktemp -d /tmp/unm-vhost-ping.XXXXXX)
SOCK=$WORK/vm.sock
BOOT_PID=
NSES=()
fail() { echo "FAIL: $*"; exit 1; }

cleanup() {
	local f
	for f in "$WORK"/qemu.*.pid; do
		[ -s "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
	[ -n "$BOOT_PID" ] && wait "$BOOT_PID" 2>/dev/null
	vm_cleanup
	local ns
	for ns in "${NSES[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

t0=$(vm_now)
for ns in $NSD $NSH; do
	ip netns add $ns 2>/dev/null || vm_skip "cannot create network namespaces"
	NSES+=($ns)
	ip -n $ns link set lo up
	ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
done

# The guest image: busybox, guest-init (unm.job=ping) and the modules of
# the kernel boot.sh will boot (its rule: $UNM_VM_KERNEL, else the newest).
KERNEL=${UNM_VM_KERNEL:-$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)}
KVER=${UNM_VM_KVER:-$(basename "$KERNEL" | sed 's/^vmlinuz-//')}
rc=0
UNM_INITRAMFS_KVER=$KVER UNM_INITRAMFS_MODULES="virtio_pci virtio_net" \
	bash "$TOP/tests/vm/mkinitramfs.sh" "$WORK/guest.cpio" "$TOP/tests/vm/guest-init" \
	> "$WORK/mkinitramfs.log" 2>&1 || rc=$?
[ $rc -eq 77 ] && vm_skip "$(sed -n 's/^SKIP: //p' "$WORK/mkinitramfs.log" | head -n 1)"
[ $rc -eq 0 ] || { cat "$WORK/mkinitramfs.log"; fail "cannot build the guest initramfs"; }

ip netns exec $NSD "$BUILD/unmd" -f -s "$WORK/unmd.sock" > "$WORK/unmd.log" 2>&1 &
UNMD_PID=$!
vm_wait_for "$WORK/unmd.sock" 50 || { cat "$WORK/unmd.log"; fail "unmd did not start"; }
ctl() { ip netns exec $NSD "$BUILD/unm-ctl" -s "$WORK/unmd.sock" "$@"; }
ctl attach vale0 "vhost-user:$SOCK" > /dev/null || fail "attach vhost-user:$SOCK: $(tail -n 3 "$WORK/unmd.log")"
ctl attach vale0 "tap:$TAP" > /dev/null || fail "attach tap:$TAP: $(tail -n 3 "$WORK/unmd.log")"
ip -n $NSD link set "$TAP" netns $NSH || fail "cannot move $TAP into $NSH"
ip -n $NSH addr add "$NET.1/24" dev "$TAP"
ip -n $NSH link set "$TAP" up
vm_wait_for "$SOCK" 50 || fail "no vhost-user socket at $SOCK"

# counter PORT FIELD: one counter of an attached port of vale0, from
# "unm-ctl -j stats vale0" (one JSON object per port, split on "},{"idx")
counter() {
	ctl -j stats vale0 | sed 's/},{"idx"/}\n{"idx"/g' | grep -F "\"name\":\"$1\"" |
		grep -o "\"$2\":[0-9]*" | head -n 1 | cut -d: -f2
}
VU=vhost-user:$SOCK
snap() { # -> "vu_rx vu_tx tap_rx tap_tx"
	echo "$(counter "$VU" rx_frames) $(counter "$VU" tx_frames)" \
		"$(counter "tap:$TAP" rx_frames) $(counter "tap:$TAP" tx_frames)"
}

# QEMU 7.2 under TCG dereferences a null pointer in
# msix_set_vector_notifiers when vhost-user starts on an MSI-X virtio-net
# (a QEMU bug, reproduced with DPDK's backend too): vectors=0 makes the
# device use INTx. $UNM_VM_VECTORS overrides (empty: QEMU's default).
VECTORS=${UNM_VM_VECTORS-0}
MEM=256
MAC=52:54:00:$(printf '%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256))):01
# boot ROUND HOLD: boot the guest (background); console in WORK/console.ROUND,
# QEMU's pid in WORK/qemu.ROUND.pid, boot.sh's in BOOT_PID.
boot() {
	bash "$TOP/tests/vm/boot.sh" --timeout 45 --mem $MEM \
		--append "unm.job=ping unm.ip=$NET.2/24 unm.peer=$NET.1 unm.n=$N unm.hold=$2 ipv6.disable=1" \
		"$WORK/guest.cpio" -- -pidfile "$WORK/qemu.$1.pid" \
		-object memory-backend-memfd,id=mem,size=${MEM}M,share=on -machine memory-backend=mem \
		-chardev socket,id=vu,path="$SOCK" -netdev vhost-user,id=net0,chardev=vu \
		-device virtio-net-pci,netdev=net0,romfile=,${VECTORS:+vectors=$VECTORS,}mac=$MAC \
		> "$WORK/console.$1" 2>&1 &
	BOOT_PID=$!
}

# result ROUND: wait for the guest's result line (or boot.sh's end); check it
result() {
	local i line ts=$(vm_now) state
	for ((i = 0; i < 450; i++)); do
		grep -qs '^guest: ping sent' "$WORK/console.$1" && break
		kill -0 "$BOOT_PID" 2>/dev/null || break
		sleep 0.1
	done
	line=$(grep -s '^guest: ping sent' "$WORK/console.$1" | tr -d '\r')
	sed -n '/^guest/p' "$WORK/console.$1" | tr -d '\r' | sed "s/^/  vm$1| /"
	if [ "$line" != "guest: ping sent $N received $N" ]; then
		tail -n 25 "$WORK/console.$1"
		tail -n 10 "$WORK/unmd.log"
		state="QEMU still running"
		kill -0 "$BOOT_PID" 2>/dev/null || { wait "$BOOT_PID"; state="boot.sh exit $?"; BOOT_PID=; }
		fail "round $1: expected $N echo replies of $N, got '${line:-no result line}' after $(vm_dt "$ts" "$(vm_now)") s ($state)"
	fi
}

# delta ROUND BEFORE AFTER: each of the four counters moved by N..N+8
# (N echo requests or replies plus ARP)
delta() {
	local b=($2) a=($3) k names=(vhost-rx vhost-tx tap-rx tap-tx) d
	echo "  round $1 frames: vhost-user rx $((a[0] - b[0])) tx $((a[1] - b[1])), tap rx $((a[2] - b[2])) tx $((a[3] - b[3]))"
	for k in 0 1 2 3; do
		d=$((a[k] - b[k]))
		[ $d -ge $N ] && [ $d -le $((N + 8)) ] ||
			{ ctl stats vale0; fail "round $1: ${names[k]} moved by $d, expected $N..$((N + 8))"; }
	done
}

qemu_kill() { # ROUND: SIGKILL the guest's QEMU (its pid file), reap boot.sh
	local p
	p=$(cat "$WORK/qemu.$1.pid" 2>/dev/null)
	[ -n "$p" ] && kill -9 "$p" 2>/dev/null
	wait "$BOOT_PID" 2>/dev/null
	BOOT_PID=
}

# idle (WHEN set by the caller): with no frontend connected the port has nothing to poll; unmd
# must sleep (it used to re-arm a 100 us timer forever: 20-30% of a CPU).
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
idle() {
	local a b ms
	a=$(awk '{print $14 + $15}' "/proc/$UNMD_PID/stat")
	sleep 1
	b=$(awk '{print $14 + $15}' "/proc/$UNMD_PID/stat")
	ms=$(((b - a) * 1000 / HZ))
	echo "  unmd CPU $WHEN: $ms ms in 1 s"
	[ $ms -le 50 ] || fail "unmd busy ($ms ms of CPU in 1 s) with an idle vhost-user port ($WHEN)"
}

WHEN="before the first VM" idle
# Round 1: ping, then the VM stays up until it is SIGKILLed (no vhost-user
# teardown: the port sees the socket close with queues running).
s0=$(snap)
t1=$(vm_now)
boot 1 1
result 1
t1e=$(vm_now)
s1=$(snap)
delta 1 "$s0" "$s1"
qemu_kill 1
# Round 2: a new QEMU on the same socket, same port; clean poweroff.
t2=$(vm_now)
boot 2 0
result 2
wait "$BOOT_PID"
qrc=$?
BOOT_PID=
t2e=$(vm_now)
s2=$(snap)
delta 2 "$s1" "$s2"
[ $qrc -eq 0 ] || fail "round 2: qemu exit $qrc"
kill -0 "$UNMD_PID" 2>/dev/null || fail "unmd died"
WHEN="after the poweroff" idle
kill "$UNMD_PID"
wait "$UNMD_PID"
urc=$?
UNMD_PID=
grep -E 'Sanitizer|runtime error' "$WORK/unmd.log" && fail "sanitizer report in unmd.log"
[ $urc -eq 0 ] || { tail -n 5 "$WORK/unmd.log"; fail "unmd exit $urc after SIGTERM"; }
echo "  guest image $(vm_dt "$t0" "$t1") s (setup included), round 1 $(vm_dt "$t1" "$t1e") s, round 2 $(vm_dt "$t2" "$t2e") s"
echo "PASS: $N/$N pings guest -> $NSH through vhost-user, vale0 and tap; again after SIGKILL and restart of QEMU"
