#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: unmd (root) acts only with the authority of the client that
# asks (issue 13, "Authority"). As a throwaway unprivileged user in the
# socket's group (unmd -m 0660 -g GROUP, as daemon/unmd.service starts it):
# shmif of a root-only file, of a new file in root's directory, through a
# symlink or "..", of a file that is not a bus (left untouched, content not
# quoted); vhost-user sockets in root's directory, and the detach that
# followed a directory swapped for a symlink (deleted root's file);
# afpacket:lo, afpacket:IF, afxdp:IF, tap:NEW and root's persistent tap by
# name: each refused with the exact message the user gets. An --admin-group
# member is refused symlinks and ".." too, and unmd removes only the
# vhost-user socket it bound itself. Positive: root and an --admin-group
# member attach afpacket and tap by name; the user attaches a shmif bus, a
# vhost-user socket and a tap it owns (ip tuntap ... user UID) by handing
# fds; one interface cannot be attached twice. On commit 71d5c11 every
# attack succeeded (unmd opened each name as root; no --admin-group, so
# unmd does not even start): the test fails there.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/secuser.sh
CTL=$PWD/$B/unm-ctl
[ -x "$CTL" ] || skip "$CTL not built"
secuser_ns
secuser_new
secuser_new_admin
secuser_unmd
NS=$SU_NS
R=$SU_DIR/rootonly
U=$SU_DIR/u
mkdir -m 0700 "$R"
mkdir "$U" && chown "$SU_USER" "$U"
printf 'ssh-ed25519 AAAAC3NzaSECRETKEY root@host\n' > "$R/authorized_keys2"
cp "$R/authorized_keys2" "$SU_DIR/ref"
ADMIN_ONLY='unmd opens it by name only for an administrator \(root, unmd --admin-group\)'

echo "== shmif"
expect_fail "shmif of a root-only file" \
	"cannot open $R/authorized_keys2: Permission denied; and by name: shmif:$R/authorized_keys2: $ADMIN_ONLY" \
	as_user "$CTL" attach vale7 "shmif:$R/authorized_keys2"
expect_fail "shmif creating a file in root's directory" \
	"cannot open $R/new: Permission denied; and by name: .*$ADMIN_ONLY" \
	as_user "$CTL" attach vale7 "shmif:$R/new"
[ -e "$R/new" ] && fail "unmd created $R/new"
as_user ln -s "$R/authorized_keys2" "$U/link"
expect_fail "shmif through a symlink" \
	"cannot open $U/link: Permission denied; and by name: .*$ADMIN_ONLY" \
	as_user "$CTL" attach vale7 "shmif:$U/link"
expect_fail "shmif through .." "Permission denied; and by name: .*$ADMIN_ONLY" \
	as_user "$CTL" attach vale7 "shmif:$U/../rootonly/authorized_keys2"
expect_fail "admin: shmif through a symlink" "$U/link is a symbolic link \(not followed on a client's behalf\)" \
	as_admin "$CTL" attach vale7 "shmif:$U/link"
expect_fail "admin: shmif through .." "'\.' and '\.\.' are not followed" \
	as_admin "$CTL" attach vale7 "shmif:$U/../rootonly/authorized_keys2"
as_user sh -c "printf 'SECRETDATA-0123456789' > $U/notabus"
expect_fail "user: shmif of a file of its own that is not a bus" \
	"shmif $U/notabus: not a shmif bus \(bus is not magical, 21 bytes\): left untouched" \
	as_user "$CTL" attach vale7 "shmif:$U/notabus"
echo "$OUT" | grep -Eqi 'SECR|0x52434553|0x53454352' && fail "the refusal quotes the file: $OUT"
[ "$(cat "$U/notabus")" = SECRETDATA-0123456789 ] || fail "$U/notabus was changed"
expect_fail "root: shmif of a file that is not a bus" \
	"shmif $R/authorized_keys2: not a shmif bus \(bus is not magical, 41 bytes\): left untouched" \
	"$CTL" attach vale7 "shmif:$R/authorized_keys2"
cmp -s "$R/authorized_keys2" "$SU_DIR/ref" || fail "$R/authorized_keys2 was changed"

echo "== vhost-user"
expect_fail "vhost-user socket in root's directory" \
	"cannot listen on $R/vh.sock: Permission denied; and by name: .*$ADMIN_ONLY" \
	as_user "$CTL" attach vale7 "vhost-user:$R/vh.sock"
[ -e "$R/vh.sock" ] && fail "unmd created $R/vh.sock"
# the user's own socket, then its directory swapped for a symlink to a
# root directory holding a file of that name, then detach
as_user mkdir "$U/d"
expect_ok "user: vhost-user socket of its own" as_user "$CTL" attach vale7 "vhost-user:$U/d/vh.sock"
echo keep > "$R/vh.sock"
as_user mv "$U/d" "$U/d.old"
as_user ln -s "$R" "$U/d"
expect_ok "user: detach after the swap" as_user "$CTL" detach vale7 "vhost-user:$U/d/vh.sock"
[ -f "$R/vh.sock" ] || fail "detach deleted root's $R/vh.sock"
# an administrator's socket bound by unmd (the admin may not write there):
# after a swap, unmd removes its own socket and nothing else
mkdir "$SU_DIR/adm"
expect_ok "admin: vhost-user by name" as_admin "$CTL" attach vale7 "vhost-user:$SU_DIR/adm/vh.sock"
[ -S "$SU_DIR/adm/vh.sock" ] || fail "no socket at $SU_DIR/adm/vh.sock"
mv "$SU_DIR/adm" "$SU_DIR/adm.old"
mkdir "$SU_DIR/adm"
echo keep > "$SU_DIR/adm/vh.sock"
expect_ok "admin: detach after the swap" as_admin "$CTL" detach vale7 "vhost-user:$SU_DIR/adm/vh.sock"
[ -f "$SU_DIR/adm/vh.sock" ] || fail "detach deleted the file swapped in"
[ -e "$SU_DIR/adm.old/vh.sock" ] && fail "detach left the socket unmd bound"

echo "== interfaces"
ip -n "$NS" link add va$SU_SUF type veth peer name vb$SU_SUF || skip "cannot create veth pairs"
ip -n "$NS" link set va$SU_SUF up
ip -n "$NS" link set vb$SU_SUF up
expect_fail "afpacket:lo" "afpacket:lo: $ADMIN_ONLY" as_user "$CTL" attach vale7 afpacket:lo
expect_fail "afpacket:IF" "afpacket:va$SU_SUF: $ADMIN_ONLY" as_user "$CTL" attach vale7 afpacket:va$SU_SUF
expect_fail "afxdp:IF" "afxdp:va$SU_SUF: $ADMIN_ONLY" as_user "$CTL" attach vale7 afxdp:va$SU_SUF
expect_fail "tap: a new one" "tap:nt$SU_SUF: $ADMIN_ONLY" as_user "$CTL" attach vale7 tap:nt$SU_SUF
ip -n "$NS" link show nt$SU_SUF >/dev/null 2>&1 && fail "tap nt$SU_SUF was created"
# owned by root (a tap with neither owner nor group is anybody's: the
# kernel lets any user attach it, with or without unmd)
ip -n "$NS" tuntap add dev rt$SU_SUF mode tap user 0 || skip "ip tuntap add failed"
expect_fail "tap: root's persistent tap" \
	"cannot attach to tap rt$SU_SUF: Operation not permitted \(not yours: ip tuntap add ... user YOU\); and by name: tap:rt$SU_SUF: $ADMIN_ONLY" \
	as_user "$CTL" attach vale7 tap:rt$SU_SUF

echo "== administrators"
expect_ok "root: afpacket by name" ${NS:+ip netns exec "$NS"} "$CTL" attach vale9 afpacket:va$SU_SUF
expect_fail "root: the same interface twice" "afpacket:va$SU_SUF is attached already, as vale9:afpacket:va$SU_SUF \(uid 0\)" \
	${NS:+ip netns exec "$NS"} "$CTL" attach vale10 afpacket:va$SU_SUF
expect_ok "admin: afpacket by name" as_admin "$CTL" attach vale9 afpacket:vb$SU_SUF
"$CTL" -j list | grep -q "\"name\":\"afpacket:vb$SU_SUF\"[^}]*\"uid\":$SA_UID" ||
	fail "afpacket:vb$SU_SUF not owned by the admin: $("$CTL" -j list)"
expect_ok "root: tap by name (created)" ip netns exec "$NS" "$CTL" attach vale9 tap:nt$SU_SUF
expect_ok "admin: detach root's port" as_admin "$CTL" detach vale9 afpacket:va$SU_SUF
expect_ok "admin: detach" as_admin "$CTL" detach vale9 afpacket:vb$SU_SUF
expect_ok "root: detach the tap" "$CTL" detach vale9 tap:nt$SU_SUF

echo "== the user's own resources, handed over"
ip -n "$NS" tuntap add dev ut$SU_SUF mode tap user "$SU_UID" || skip "ip tuntap add ... user failed"
expect_ok "user: its own tap" as_user "$CTL" attach vale11 tap:ut$SU_SUF
expect_fail "user: its own tap twice" "tap:ut$SU_SUF" as_user "$CTL" attach vale12 tap:ut$SU_SUF
expect_ok "user: detach its tap" as_user "$CTL" detach vale11 tap:ut$SU_SUF
expect_ok "user: its own tap with a vnet header" as_user "$CTL" attach vale11 "tap:ut$SU_SUF@conf:vnet=12"
expect_ok "user: its own shmif bus" as_user "$CTL" attach vale11 "shmif:$U/bus"
[ "$(stat -c %s "$U/bus")" = 1048576 ] || fail "bus not sized"
expect_ok "user: its own vhost-user socket" as_user "$CTL" attach vale11 "vhost-user:$U/vh2.sock"
L=$("$CTL" -j list)
for n in "tap:ut$SU_SUF" "shmif:$U/bus" "vhost-user:$U/vh2.sock"; do
	echo "$L" | grep -q "\"name\":\"$n\"[^}]*\"uid\":$SU_UID" || fail "$n not owned by uid $SU_UID: $L"
done
"$CTL" list | grep -q "vale11:.*owner uid $SU_UID" || fail "list: no owner column: $("$CTL" list)"
expect_ok "user: detach" as_user "$CTL" detach vale11 "tap:ut$SU_SUF"
expect_ok "user: detach" as_user "$CTL" detach vale11 "shmif:$U/bus"
expect_ok "user: detach" as_user "$CTL" detach vale11 "vhost-user:$U/vh2.sock"
kill -0 "$SU_UNMD_PID" || fail "unmd died"
echo "PASS"
exit 0
