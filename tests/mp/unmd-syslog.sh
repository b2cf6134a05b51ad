#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Description: unmd without -f logs to syslog once detached (it used to
# keep writing to the stderr of the shell that started it): its "serving"
# line and the line of a client's open arrive on /dev/log tagged unmd,
# nothing more reaches the starting shell's stderr; with -f it logs to
# stderr. /dev/log is a datagram socket this test owns, bound over /dev in
# a private mount namespace (needs root and unshare; skips otherwise).
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${UNM_BUILD:-$PWD/build}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for a private mount namespace"; exit 77; }
command -v unshare > /dev/null || { echo "SKIP: unshare(1) not installed"; exit 77; }
command -v python3 > /dev/null || { echo "SKIP: python3 not installed"; exit 77; }
T=$(mktemp -d /tmp/unmd-syslog.XXXXXX)
PIDS=()
cleanup() {
	[ -f "$T/unmd.pid" ] && kill "$(cat "$T/unmd.pid")" 2>/dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*.txt; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done; exit 1; }
for p in unmd unm-ctl unm-pktgen; do [ -x "$B/$p" ] || fail "$B/$p not built"; done

mkdir "$T/dev"
mknod "$T/dev/null" c 1 3 && chmod 666 "$T/dev/null" || { echo "SKIP: cannot mknod"; exit 77; }
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2], "w").close()
with open(sys.argv[3], "a", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode("utf-8", "replace") + "\n")
' "$T/dev/log" "$T/ready" "$T/syslog.txt" & PIDS+=($!)
for ((i = 0; i < 100; i++)); do [ -e "$T/ready" ] && break; sleep 0.05; done
[ -e "$T/ready" ] || fail "syslog listener did not start"

export UNM_SOCKET=$T/unmd.sock
unshare -m bash -c 'mount --make-rprivate / && mount --bind "$1/dev" /dev && exec "$2" -s "$3" -v' \
	_ "$T" "$B/unmd" "$UNM_SOCKET" 2> "$T/stderr.txt"
rc=$?
[ $rc = 0 ] || fail "unmd without -f: exit $rc"
for ((i = 0; i < 100; i++)); do [ -S "$UNM_SOCKET" ] && break; sleep 0.05; done
pid=$(pgrep -f "unmd -s $UNM_SOCKET" | head -1)
[ -n "$pid" ] && echo "$pid" > "$T/unmd.pid"
timeout 10 "$B/unm-pktgen" -f tx -i vale0:s$$ -n 10 -T 0 -D 02:00:00:00:00:02 > /dev/null 2>&1
"$B/unm-ctl" list > /dev/null || fail "unmd not answering"
sleep 0.3
grep -q 'unmd\[[0-9]*\]: serving ' "$T/syslog.txt" || fail "no 'serving' line in syslog"
grep -q "vale0:s$$" "$T/syslog.txt" || fail "the client's port is not in syslog"
grep -q 'serving\|vale0' "$T/stderr.txt" && fail "log lines reached the starting shell's stderr"
[ -n "$pid" ] && kill "$pid"

# -f: stderr, as before
"$B/unmd" -f -s "$T/f.sock" 2> "$T/f-stderr.txt" & PIDS+=($!)
for ((i = 0; i < 100; i++)); do grep -q serving "$T/f-stderr.txt" 2>/dev/null && break; sleep 0.05; done
grep -q '^unmd: serving ' "$T/f-stderr.txt" || fail "-f: no 'serving' line on stderr"
echo PASS
