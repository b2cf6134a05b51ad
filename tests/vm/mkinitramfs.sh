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
