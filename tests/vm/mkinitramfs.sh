#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: build a tiny guest initramfs (busybox-static + static test
# programs + an /init script) as an uncompressed newc cpio: the guest kernel
# unpacks it without a decompressor, which saves time under TCG.
#
#   mkinitramfs.sh OUT.cpio INIT [PROGRAM...]
#     INIT     shell script that becomes /init (run by busybox sh)
#     PROGRAM  statically linked programs copied into /bin
#
# Kernel modules (optional): UNM_INITRAMFS_MODULES="virtio_pci virtio_net"
# names modules of kernel UNM_INITRAMFS_KVER (default: the newest
# /lib/modules/*; UNM_INITRAMFS_MODDIR names another tree); they and their dependencies (modules.dep) are copied,
# decompressed (.ko, .ko.xz, .ko.zst, .ko.gz), into /lib/modules/ of the
# image, and /lib/modules/load-order lists the files in an order that
# insmod can follow (dependencies first). Modules built into that kernel
# (modules.builtin) are left out. A missing module is a skip (77).
#
# With no arguments (as tests/run.sh runs every tests/*/*.sh) it checks
# itself: builds a throwaway image and lists it. Needs busybox-static and
# cpio; exits 77 with the reason when either is missing.
set -eu

# A program with a PT_INTERP header needs a dynamic loader and libc.
is_dynamic() {
	LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}

find_busybox() {
	local b
	for b in /bin/busybox /usr/bin/busybox; do
		[ -x "$b" ] || continue
		# a dynamic busybox would need the host's libc inside the guest
		if ! is_dynamic "$b"; then
			echo "$b"
			return 0
		fi
	done
	return 1
}

# Print the module files (relative to /lib/modules/KVER) of NAME and its
# dependencies, dependencies first, each once: modules.dep lists a
# module's dependencies such that loading them last-to-first works, which
# is what modprobe does.
mod_path() { # dir name
	local n=${2//-/_}
	grep -E "(^|/)(${n}|${n//_/-})\.ko(\.(xz|zst|gz))?:" "$1/modules.dep" | head -n 1 | cut -d: -f1
}
mod_order() { # dir name seen-file
	local p deps d i
	p=$(mod_path "$1" "$2")
	if [ -z "$p" ]; then
		grep -qE "/${2//-/_}\.ko\$" "$1/modules.builtin" 2>/dev/null && return 0
		echo "SKIP: module $2 not found in $1 (apt-get install linux-image-amd64)"
		return 77
	fi
	grep -qxF "$p" "$3" && return 0
	deps=($(grep -E "^${p//./\\.}:" "$1/modules.dep" | cut -d: -f2-))
	for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
		d=$(basename "${deps[i]}")
		mod_order "$1" "${d%%.ko*}" "$3" || return $?
	done
	grep -qxF "$p" "$3" || echo "$p" >> "$3"
}

add_modules() { # root
	local kver=${UNM_INITRAMFS_KVER:-} dir m p f rc
	[ -n "$kver" ] || kver=$(ls -1 /lib/modules 2>/dev/null | sort -V | tail -n 1)
	dir=${UNM_INITRAMFS_MODDIR:-/lib/modules/$kver}
	[ -r "$dir/modules.dep" ] ||
		{ echo "SKIP: no modules for kernel '$kver' in /lib/modules (apt-get install linux-image-amd64)"; return 77; }
	mkdir -p "$1/lib/modules"
	: > "$1/lib/modules/.paths"
	for m in $UNM_INITRAMFS_MODULES; do
		rc=0
		mod_order "$dir" "$m" "$1/lib/modules/.paths" || rc=$?
		[ $rc -eq 0 ] || return $rc
	done
	: > "$1/lib/modules/load-order"
	while read -r p; do
		f=$(basename "$p")
		f=${f%%.ko*}.ko
		case $p in
		*.ko.xz)  command -v xz >/dev/null || { echo "SKIP: xz missing for $p (apt-get install xz-utils)"; return 77; } ;;
		*.ko.zst) command -v zstd >/dev/null || { echo "SKIP: zstd missing for $p (apt-get install zstd)"; return 77; } ;;
		esac
		case $p in
		*.ko)     cp "$dir/$p" "$1/lib/modules/$f" ;;
		*.ko.xz)  xz -dc "$dir/$p" > "$1/lib/modules/$f" ;;
		*.ko.zst) zstd -dcq "$dir/$p" > "$1/lib/modules/$f" ;;
		*.ko.gz)  gzip -dc "$dir/$p" > "$1/lib/modules/$f" ;;
		esac || { echo "mkinitramfs: cannot decompress $dir/$p" >&2; return 1; }
		echo "$f" >> "$1/lib/modules/load-order"
	done < "$1/lib/modules/.paths"
	rm -f "$1/lib/modules/.paths"
}

build() { # out init progs...
	local out=$1 init=$2
	shift 2
	local bb root
	bb=$(find_busybox) || { echo "SKIP: no static busybox (apt-get install busybox-static)"; return 77; }
	command -v cpio >/dev/null || { echo "SKIP: cpio missing (apt-get install cpio)"; return 77; }
	root=$(mktemp -d /tmp/unm-initramfs.XXXXXX)
	mkdir -p "$root"/{bin,dev,proc,sys,tmp,mnt}
	cp "$bb" "$root/bin/busybox"
	local applet
	for applet in $("$bb" --list); do
		[ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
	done
	ln -s bin "$root/sbin"
	install -m 755 "$init" "$root/init"
	if [ -n "${UNM_INITRAMFS_MODULES:-}" ]; then
		local mrc=0
		add_modules "$root" || mrc=$?
		[ $mrc -eq 0 ] || { rm -rf "$root"; return $mrc; }
	fi
	local p
	for p in "$@"; do
		if is_dynamic "$p"; then
			echo "mkinitramfs: $p is dynamically linked; the guest has no libc" >&2
			rm -rf "$root"
			return 1
		fi
		install -m 755 "$p" "$root/bin/"
	done
	# The kernel opens /dev/console before running /init; without it /init
	# starts with no stdio until it mounts devtmpfs.
	mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$out.tmp"
	mv "$out.tmp" "$out"
	rm -rf "$root"
}

if [ $# -eq 0 ]; then
	tmp=$(mktemp -d /tmp/unm-mkinitramfs-test.XXXXXX)
	trap 'rm -rf "$tmp"' EXIT
	printf '#!/bin/sh\necho hello\npoweroff -f\n' > "$tmp/init"
	rc=0
	build "$tmp/t.cpio" "$tmp/init" || rc=$?
	[ $rc -eq 0 ] || exit $rc
	list=$(cpio -it --quiet < "$tmp/t.cpio")
	for f in init bin/busybox bin/sh bin/poweroff bin/mount; do
		grep -qx "$f" <<< "$list" || { echo "FAIL: $f missing from the image"; exit 1; }
	done
	echo "PASS: initramfs of $(stat -c %s "$tmp/t.cpio") bytes, $(wc -l <<< "$list") entries"
	exit 0
fi
[ $# -ge 2 ] || { echo "usage: $0 OUT.cpio INIT [PROGRAM...]" >&2; exit 2; }
build "$@"
