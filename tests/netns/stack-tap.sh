#!/bin/bash
# Description: unm-stack (lwIP) on a VALE port serves a Linux namespace
# whose tap (virtio-net offloads on) is on the same switch: ping, curl of
# an 8 MiB file checked by sha256, iperf (2) -c against the TCP sink, TCP
# and UDP echo. Phase 2 runs the stack with its own virtio-net header
# (--vnet 12): the tap's TSO frames then reach lwIP whole (gso counter > 0)
# and their partial checksums are completed (csum_fixed > 0). unmd runs in
# its own namespace with a private socket; all is removed on exit.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/stack.inc
need_root
need curl iperf ping
NS0=unss0$SUF NS1=unss1$SUF TAP=ust$SUF
new_ns $NS0
new_ns $NS1
start_unmd $NS0
plug $NS1 $TAP 198.18.77.1/24 "@conf:vnet=12"
mkdir -p "$TMPD/www"
mkfile "$TMPD/www/f.bin" 8
want=$(sha "$TMPD/www/f.bin")

# run_checks NAME: the client-side checks against the stack at .10
run_checks() {
	local n=$1
	in1() { ip netns exec $NS1 "$@"; }
	in1 ping -c 3 -i 0.2 -W 2 198.18.77.10 >"$TMPD/ping.$n" 2>&1 ||
		fail "$n: ping: $(tail -3 "$TMPD/ping.$n")"
	in1 curl -sS --max-time 60 -o "$TMPD/got.$n" http://198.18.77.10/f.bin ||
		fail "$n: curl failed"
	[ "$(sha "$TMPD/got.$n")" = "$want" ] || fail "$n: sha256 of the fetched file differs"
	code=$(in1 curl -s -o /dev/null -w '%{http_code}' --max-time 10 http://198.18.77.10/../etc/passwd)
	[ "$code" = 404 ] || [ "$code" = 403 ] || [ "$code" = 400 ] || fail "$n: traversal answered $code"
	in1 timeout 30 iperf -c 198.18.77.10 -t 2 -f m >"$TMPD/iperf.$n" 2>&1 ||
		fail "$n: iperf: $(tail -3 "$TMPD/iperf.$n")"
	rate=$(grep -o '[0-9.]* Mbits/sec' "$TMPD/iperf.$n" | tail -1)
	[ -n "$rate" ] || fail "$n: iperf printed no rate: $(cat "$TMPD/iperf.$n")"
	echo "$n: ping ok, curl 8 MiB sha256 ok, iperf $rate"
	# TCP echo of 200 KB and a UDP echo datagram, with Linux's tools
	head -c 200000 /dev/urandom >"$TMPD/echo.in"
	in1 timeout 20 python3 - "$TMPD/echo.in" <<'PY' || fail "$n: TCP/UDP echo"
import socket, sys
data = open(sys.argv[1], 'rb').read()
s = socket.create_connection(('198.18.77.10', 7), timeout=10)
s.sendall(data); s.shutdown(socket.SHUT_WR)
got = b''
while True:
    b = s.recv(65536)
    if not b: break
    got += b
assert got == data, (len(got), len(data))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(3)
for _ in range(3):
    u.sendto(b'ping-udp', ('198.18.77.10', 7))
    try:
        assert u.recvfrom(100)[0] == b'ping-udp'; break
    except socket.timeout: pass
else:
    sys.exit(1)
PY
}

command -v python3 >/dev/null || skip "python3 not installed"
start_stack s1 -i vale0:w$SUF -a 198.18.77.10/24 --http "$TMPD/www"
run_checks plain
stack_alive s1
stop_stack s1
grep -q "rx_bad 0" "$TMPD/s1.log" || echo "note: $(grep rx_bad "$TMPD/s1.log")"

start_stack s2 -i vale0:v$SUF -a 198.18.77.10/24 --http "$TMPD/www" --vnet 12
ip netns exec $NS1 ip neigh flush dev $TAP
run_checks vnet12
stack_alive s2
stop_stack s2
line=$(grep "csum_fixed" "$TMPD/s2.log")
echo "vnet12 counters: $line"
gso=$(echo "$line" | grep -o 'gso [0-9]*' | cut -d' ' -f2)
fix=$(echo "$line" | grep -o 'csum_fixed [0-9]*' | cut -d' ' -f2)
[ "${gso:-0}" -gt 0 ] || fail "no GSO frame reached lwIP whole with --vnet 12"
[ "${fix:-0}" -gt 0 ] || fail "no partial checksum was completed with --vnet 12"
exit 0
