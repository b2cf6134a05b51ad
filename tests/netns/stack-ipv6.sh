#!/bin/bash
# Description: IPv6 to unm-stack (lwIP) on a VALE port from a Linux
# namespace whose tap is on the same switch: ping -6 to the stack's global
# and link-local addresses (neighbour discovery both ways) and curl -6 of
# a 4 MiB file checked by sha256. unmd runs in its own namespace with a
# private socket; all is removed on exit.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/stack.inc
need_root
need curl ping
NS0=unsv0$SUF NS1=unsv1$SUF TAP=us6$SUF
new_ns $NS0
new_ns $NS1 v6
start_unmd $NS0
plug $NS1 $TAP 198.18.78.1/24 ""
ip -n $NS1 addr add fd00:198:18::1/64 dev $TAP nodad
mkdir -p "$TMPD/www"
mkfile "$TMPD/www/f6.bin" 4
want=$(sha "$TMPD/www/f6.bin")
start_stack s6 -i vale0:s6$SUF -a 198.18.78.10/24 -6 fd00:198:18::10/64 \
	-m 02:00:5e:10:00:0a --http "$TMPD/www"
in1() { ip netns exec $NS1 "$@"; }
in1 ping -6 -c 3 -i 0.2 -W 2 fd00:198:18::10 >"$TMPD/ping6" 2>&1 ||
	fail "ping -6 global: $(tail -3 "$TMPD/ping6")"
# link-local from the MAC (modified EUI-64): 02:00:5e:10:00:0a -> fe80::5eff:fe10:a
in1 ping -6 -c 2 -i 0.2 -W 2 "fe80::5eff:fe10:a%$TAP" >"$TMPD/ping6ll" 2>&1 ||
	fail "ping -6 link-local: $(tail -3 "$TMPD/ping6ll")"
in1 curl -6 -sS --max-time 60 -o "$TMPD/got6" "http://[fd00:198:18::10]/f6.bin" ||
	fail "curl -6 failed"
[ "$(sha "$TMPD/got6")" = "$want" ] || fail "sha256 of the file fetched over IPv6 differs"
stack_alive s6
echo "ping -6 (global, link-local) ok, curl -6 4 MiB sha256 ok"
exit 0
