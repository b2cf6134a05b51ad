#!/bin/bash
# Description: AF_XDP bind modes. Forcing zero-copy (UNM_AFXDP_BIND=zerocopy)
# either works (then a burst is checked at the peer) or fails cleanly with
# EOPNOTSUPP (veth has no zero-copy support); the default mode falls back
# to copy mode in native XDP; a bad mode name is refused with a message.
. tests/lib/afxdp-netns.inc
veth_up 1
before=$(vb_rx)
out=$(UNM_AFXDP_BIND=zerocopy in_a "$HELPER" tx afxdp:va 200 2>&1); rc=$?
case $rc in
0)  d=$(( $(vb_rx) - before )); [ "$d" = 200 ] || fail "zero-copy: peer received $d of 200"
    echo "zero-copy: works" ;;
3)  echo "$out" | grep -q 'Operation not supported' || fail "zero-copy: $out"
    echo "zero-copy: not supported on veth (EOPNOTSUPP), as expected" ;;
*)  fail "zero-copy: exit $rc: $out" ;;
esac
xdp_attached && fail "XDP program left after the zero-copy attempt"
out=$(in_a "$HELPER" tx afxdp:va 10 2>&1) || fail "default mode: $out"
echo "$out" | grep -E '^mode'
echo "$out" | grep -qE 'copy, native XDP|zero-copy, native XDP' || fail "default mode: $out"
out=$(UNM_AFXDP_BIND=bogus in_a "$HELPER" tx afxdp:va 10 2>&1) && fail "bogus mode accepted"
echo "$out" | grep -q 'UNM_AFXDP_BIND must be' || fail "bogus mode: $out"
echo ok
