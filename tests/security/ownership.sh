#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: every switch and port has an owner uid, shown by unm-ctl
# list (and -j); only its owner or an administrator (root, unmd
# --admin-group) may delete, detach, monitor or reconfigure it, and nobody
# opens another uid's port (issue 13, "Ownership"). As a throwaway
# unprivileged user in the socket's group: deleting root's persistent
# port, detaching root's attached port, lossless on and switch del of
# root's switch, a monitor of root's port, opening root's port, and a name
# squatted with port add that root then opens: each refused with the exact
# message. An --admin-group member may do each; the user manages its own,
# and owns at most 16 switches (--max-switches).
# On commit 71d5c11 every one of these succeeded for any socket user (and
# unmd had no --admin-group): the test fails there.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/secuser.sh
CTL=$PWD/$B/unm-ctl
PG=$PWD/$B/unm-pktgen
[ -x "$CTL" ] || skip "$CTL not built"
[ -x "$PG" ] || skip "$PG not built"
secuser_new
secuser_new_admin
secuser_unmd
NOT_YOURS='only its owner or an administrator \(root, unmd --admin-group\) may'

expect_ok "root: switch add" "$CTL" switch add vale8
expect_ok "root: port add" "$CTL" port add vale8:rp
expect_ok "root: attach null" "$CTL" attach vale8 null
"$CTL" list | grep -q "^vale8: .* owner uid 0 .*kept on" || fail "list: $("$CTL" list)"

expect_fail "user: port del of root's port" "port vale8:rp belongs to uid 0: $NOT_YOURS delete it" \
	as_user "$CTL" port del vale8:rp
expect_fail "user: detach of root's port" "port vale8:null belongs to uid 0: $NOT_YOURS detach it" \
	as_user "$CTL" detach vale8 null
expect_fail "user: lossless on root's switch" "switch vale8 belongs to uid 0: $NOT_YOURS change it" \
	as_user "$CTL" switch set vale8 lossless on
expect_fail "user: switch del of root's switch" "switch vale8 belongs to uid 0: $NOT_YOURS delete it" \
	as_user "$CTL" switch del vale8
expect_fail "user: monitor of root's port" "vale8:rp belongs to uid 0: $NOT_YOURS monitor it" \
	as_user timeout 10 "$PG" -f rx -i monitor:vale8:rp -n 1 -T 0
expect_fail "user: monitor of root's attached port" "vale8:null belongs to uid 0: $NOT_YOURS monitor it" \
	as_user timeout 10 "$PG" -f rx -i monitor:vale8:null -n 1 -T 0
expect_fail "user: open root's port" \
	"vale8:rp belongs to uid 0, not to you \(uid $SU_UID\): refusing to open another user's port" \
	as_user timeout 10 "$PG" -f tx -i vale8:rp -n 1 -T 0
"$CTL" -j list | grep -q '"lossless":false' || fail "lossless changed"

# squatting: the user makes vale8:vm1 before root opens it
expect_ok "user: port add vale8:vm1" as_user "$CTL" port add vale8:vm1
"$CTL" -j list | grep -q "\"name\":\"vm1\"[^}]*\"uid\":$SU_UID" || fail "vm1 owner: $("$CTL" -j list)"
expect_fail "root: open the squatted name" \
	"vale8:vm1 belongs to uid $SU_UID, not to you \(uid 0\): refusing to open another user's port" \
	timeout 10 "$PG" -f tx -i vale8:vm1 -n 1 -T 0
expect_fail "admin: open the squatted name" "vale8:vm1 belongs to uid $SU_UID, not to you" \
	as_admin timeout 10 "$PG" -f tx -i vale8:vm1 -n 1 -T 0
expect_ok "admin: delete the squatter's port" as_admin "$CTL" port del vale8:vm1
expect_ok "root: open the name, now its own" timeout 10 "$PG" -f tx -i vale8:vm1 -n 1 -T 0

# administrators may do each
as_admin timeout 20 "$PG" -f rx -i monitor:vale8:rp -n 1 -T 0 > "$SU_DIR/mon" 2>&1 &
mon=$!
SU_PIDS+=($mon)
for ((i = 0; i < 100; i++)); do
	"$CTL" -j list | grep -q '"type":"monitor"' && break
	kill -0 $mon 2>/dev/null || { cat "$SU_DIR/mon"; fail "admin: monitor of root's port"; }
	sleep 0.1
done
"$CTL" -j list | grep -q "\"type\":\"monitor\"[^}]*\"uid\":$SA_UID" ||
	fail "admin: no monitor of root's port: $("$CTL" -j list)"
kill $mon; wait $mon 2>/dev/null
echo "ok: admin: monitor of root's port"
expect_ok "admin: lossless on root's switch" as_admin "$CTL" switch set vale8 lossless on
expect_ok "admin: detach root's port" as_admin "$CTL" detach vale8 null
expect_ok "admin: delete root's port" as_admin "$CTL" port del vale8:rp
expect_ok "admin: delete root's switch" as_admin "$CTL" switch del vale8

# the user manages what it owns
expect_ok "user: switch add" as_user "$CTL" switch add vale_u
expect_ok "user: lossless on its switch" as_user "$CTL" switch set vale_u lossless on
expect_ok "user: port add" as_user "$CTL" port add vale_u:p
expect_ok "user: attach null" as_user "$CTL" attach vale_u null
as_user timeout 20 "$PG" -f rx -i monitor:vale_u:p -n 1 -T 0 > "$SU_DIR/umon" 2>&1 &
mon=$!
SU_PIDS+=($mon)
for ((i = 0; i < 100; i++)); do
	"$CTL" -j list | grep -q '"type":"monitor"' && break
	kill -0 $mon 2>/dev/null || { cat "$SU_DIR/umon"; fail "user: monitor of its own port"; }
	sleep 0.1
done
kill $mon; wait $mon 2>/dev/null
echo "ok: user: monitor of its own port"
expect_fail "root: switch add of the user's switch" "switch vale_u exists already \(uid $SU_UID\)" \
	"$CTL" switch add vale_u
expect_ok "user: detach" as_user "$CTL" detach vale_u null
expect_ok "user: port del" as_user "$CTL" port del vale_u:p
expect_ok "user: switch del" as_user "$CTL" switch del vale_u
# one user cannot take every switch (64 in all): 16 each (--max-switches)
for ((i = 0; i < 16; i++)); do
	as_user "$CTL" switch add vale_q$i > /dev/null 2>&1 || fail "user: switch add vale_q$i"
done
expect_fail "user: a 17th switch" "uid $SU_UID already owns 16 switches \(limit 16, unmd --max-switches\)" \
	as_user "$CTL" switch add vale_q16
expect_fail "user: a 17th switch, on demand" "already owns 16 switches" \
	as_user timeout 10 "$PG" -f tx -i vale_q17:p -n 1 -T 0
expect_ok "admin: switch add beyond the user's limit" as_admin "$CTL" switch add vale_a
for ((i = 0; i < 16; i++)); do
	as_user "$CTL" switch del vale_q$i > /dev/null 2>&1 || fail "user: switch del vale_q$i"
done
kill -0 "$SU_UNMD_PID" || fail "unmd died"
echo "PASS"
exit 0
