#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: a non-admin user attaches a shmif bus file of its own (fd
# handed over by unm-ctl), then truncates the file while the switch writes
# frames into it: unmd's next access to the mapping would raise SIGBUS and
# kill the daemon with every port of every user. unmd must survive (the
# mapping becomes zero pages, only that user's port loses traffic), keep
# forwarding between other ports, and detach the port. On commit 71d5c11
# unmd died of SIGBUS (and had no --admin-group): the test fails there.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/secuser.sh
CTL=$PWD/$B/unm-ctl
PG=$PWD/$B/unm-pktgen
[ -x "$CTL" ] || skip "$CTL not built"
[ -x "$PG" ] || skip "$PG not built"
secuser_new
secuser_new_admin
secuser_unmd
U=$SU_DIR/u
mkdir "$U" && chown "$SU_USER" "$U"
expect_ok "user: its own bus" as_user "$CTL" attach vale3 "shmif:$U/bus"
# root's receiver and sender on the same switch: flooded frames also go
# to the bus while the user truncates it
timeout 30 "$PG" -f rx -i vale3:r -n 20000 -T 0 > "$SU_DIR/rx" 2>&1 &
rx=$!
SU_PIDS+=($rx)
sleep 0.3
timeout 30 "$PG" -f tx -i vale3:t -n 40000 -R 4000 -T 0 > "$SU_DIR/tx" 2>&1 &
tx=$!
SU_PIDS+=($tx)
sleep 1
as_user truncate -s 0 "$U/bus" || fail "truncate"
sleep 2
as_user truncate -s 4096 "$U/bus"
sleep 1
kill -0 "$SU_UNMD_PID" 2>/dev/null || { cat "$SU_DIR/unmd.log"; fail "unmd died (SIGBUS)"; }
wait $rx || { cat "$SU_DIR/rx"; fail "root's receiver on vale3 did not get its frames"; }
echo "unmd survived the truncation; vale3 kept forwarding"
expect_ok "user: detach" as_user "$CTL" detach vale3 "shmif:$U/bus"
expect_ok "list" "$CTL" list
kill $tx 2>/dev/null
exit 0
