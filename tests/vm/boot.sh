#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: boot Debian's own kernel (linux-image-amd64) with a test
# initramfs under qemu-system-x86_64, console on ttyS0 (this script's
# stdout), and return when the guest powers off.
#
#   boot.sh [--timeout S] [--mem MiB] [--append ARGS] INITRD [-- QEMU_ARGS...]
#
# The kernel is /boot/vmlinuz-* (newest, or $UNM_VM_KERNEL). Its ELF vmlinux
# is extracted once (xz or zstd payload) into $UNM_VM_CACHE (default
# $B/vm, else /tmp/unm-vm) and booted through its PVH entry point, which
# skips the bzImage decompressor and real-mode setup (about 3 s under TCG
# instead of 6-8 s); if extraction fails the bzImage is booted.
# Accelerator: KVM only if a short trial boot with it prints the guest's
# hello (on nested hosts /dev/kvm may exist and hang); the verdict is cached
# per kernel in the cache directory. $UNM_VM_ACCEL=tcg|kvm overrides.
#
# Exit status: QEMU's (0 after the guest's poweroff), 124 on timeout, 77
# with "SKIP: reason" if QEMU, the kernel or the tools are missing.
#
# With no arguments (tests/run.sh runs every tests/*/*.sh) it is the boot
# smoke test: a guest whose /init prints "hello from the guest" and powers
# off.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
CACHE=${UNM_VM_CACHE:-}
if [ -z "$CACHE" ]; then
	if [ -n "${UNM_BUILD:-}" ]; then CACHE=$UNM_BUILD/vm
	elif [ -n "${B:-}" ]; then CACHE=$TOP/$B/vm
	else CACHE=/tmp/unm-vm; fi
fi
QEMU=${QEMU:-qemu-system-x86_64}

skip() { echo "SKIP: $*"; exit 77; }

find_kernel() {
	if [ -n "${UNM_VM_KERNEL:-}" ]; then echo "$UNM_VM_KERNEL"; return; fi
	ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1
}

# Offset of the first occurrence of a byte string (grep -P, C locale).
find_magic() { # file pattern
	LC_ALL=C grep -obUaP -m1 "$2" "$1" 2>/dev/null | head -n 1 | cut -d: -f1
}

# Extract the ELF vmlinux from a bzImage: the compressed payload starts at
# the first xz or zstd magic; decompress and check the ELF header.
extract_vmlinux() { # bzimage out
	local off tool
	for tool in xz zstd; do
		case $tool in
		xz)   off=$(find_magic "$1" '\xfd7zXZ\x00') ;;
		zstd) off=$(find_magic "$1" '\x28\xb5\x2f\xfd') ;;
		esac
		[ -n "$off" ] && command -v $tool >/dev/null || continue
		case $tool in
		xz)   tail -c +$((off + 1)) "$1" | xz -dc --single-stream > "$2.tmp" 2>/dev/null ;;
		zstd) tail -c +$((off + 1)) "$1" | zstd -dcq > "$2.tmp" 2>/dev/null ;;
		esac
		if [ "$(head -c 4 "$2.tmp" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
			mv "$2.tmp" "$2"
			return 0
		fi
	done
	rm -f "$2.tmp"
	return 1
}

kernel_image() { # prints the image to boot
	local k=$1 v
	v=$(basename "$k")
	mkdir -p "$CACHE"
	if [ ! -s "$CACHE/$v.elf" ] && [ ! -e "$CACHE/$v.noelf" ]; then
		extract_vmlinux "$k" "$CACHE/$v.elf" || touch "$CACHE/$v.noelf"
	fi
	if [ -s "$CACHE/$v.elf" ]; then echo "$CACHE/$v.elf"; else echo "$k"; fi
}

run_qemu() { # accel timeout mem append initrd image qemu-args...
	local accel=$1 tmo=$2 mem=$3 append=$4 initrd=$5 image=$6
	shift 6
	timeout -k 2 "$tmo" "$QEMU" -accel "$accel" -m "$mem" -smp 1 \
		-nodefaults -no-user-config -nographic -no-reboot \
		-serial stdio -monitor none \
		-kernel "$image" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 oops=panic quiet loglevel=3 mitigations=off $append" \
		"$@"
}

# Trial boot with KVM; the verdict is cached next to the kernel image.
pick_accel() { # image initrd-hello
	local v
	v=$CACHE/accel-$(basename "$1")
	if [ -n "${UNM_VM_ACCEL:-}" ]; then echo "$UNM_VM_ACCEL"; return; fi
	if [ -s "$v" ]; then cat "$v"; return; fi
	local a=tcg
	if [ -r /dev/kvm ] && [ -w /dev/kvm ] &&
	   run_qemu kvm 8 128 "" "$2" "$1" 2>/dev/null | grep -q 'hello from the guest'; then
		a=kvm
	fi
	echo "$a" > "$v"
	echo "$a"
}

hello_initrd() { # out
	local init
	init=$(mktemp /tmp/unm-hello-init.XXXXXX)
	printf '#!/bin/sh\necho hello from the guest\npoweroff -f\n' > "$init"
	"$HERE/mkinitramfs.sh" "$1" "$init" >/dev/null
	local rc=$?
	rm -f "$init"
	return $rc
}

preflight() {
	command -v "$QEMU" >/dev/null || skip "$QEMU missing (apt-get install qemu-system-x86)"
	KERNEL=$(find_kernel)
	[ -n "$KERNEL" ] && [ -r "$KERNEL" ] || skip "no readable /boot/vmlinuz-* (apt-get install linux-image-amd64)"
	IMAGE=$(kernel_image "$KERNEL")
	mkdir -p "$CACHE"
	HELLO=$CACHE/hello.cpio
	if [ ! -s "$HELLO" ]; then
		hello_initrd "$HELLO"
		local rc=$?
		[ $rc -eq 77 ] && skip "static busybox or cpio missing (apt-get install busybox-static cpio)"
		[ $rc -eq 0 ] || { echo "FAIL: cannot build the hello initramfs"; exit 1; }
	fi
	ACCEL=$(pick_accel "$IMAGE" "$HELLO")
}

timeout_s=60 mem=256 append=""
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) timeout_s=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--) shift; break ;;
	-h|--help) sed -n '4,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "boot.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
	*) break ;;
	esac
done

preflight
if [ $# -eq 0 ]; then
	t0=$(date +%s.%N)
	out=$(run_qemu "$ACCEL" "$timeout_s" 128 "" "$HELLO" "$IMAGE" 2>&1)
	rc=$?
	dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}')
	echo "$out" | tail -n 5
	if [ $rc -eq 0 ] && grep -q 'hello from the guest' <<< "$out"; then
		echo "PASS: $(basename "$IMAGE") booted with $ACCEL, hello and poweroff in ${dt}s"
		exit 0
	fi
	echo "FAIL: boot with $ACCEL exited $rc after ${dt}s"
	exit 1
fi
initrd=$1
shift
[ "${1:-}" = "--" ] && shift
echo "boot.sh: $(basename "$IMAGE") accel=$ACCEL" >&2
run_qemu "$ACCEL" "$timeout_s" "$mem" "$append" "$initrd" "$IMAGE" "$@"
