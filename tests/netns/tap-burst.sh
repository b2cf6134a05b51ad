#!/bin/bash
# Description: the embedded tap port moves exact frame counts both ways.
#  1. port TX -> Linux: N frames from "tap:IF" (attached to a persistent tap
#     made with ip tuntap) raise the interface's rx_packets by exactly N, and
#     a packet socket on the tap sees every frame intact;
#  2. Linux -> port RX: N frames sent with a packet socket out of a tap that
#     the port created arrive exactly once each; the device is gone once the
#     port is closed (we created it, it was not persistent);
#  3. multi-queue (rings=2) attaches and receives the exact count.
. "$(dirname "$0")/../lib/backends.inc"
[ -c /dev/net/tun ] || skip "tap: /dev/net/tun not present"
N=2000
NS=unmtap$SUF
new_ns $NS

# 1. port -> Linux, attached to an existing persistent device.
T1=unmp$SUF
in_ns $NS ip tuntap add dev $T1 mode tap || skip "cannot create tap devices"
in_ns $NS ip link set $T1 up
before=$(ifstat $NS $T1 rx_packets)
bg $NS "$BURST" rawrx $T1 $N -w 8000 -r $TMPD/r1; P=$LASTPID
wait_file $TMPD/r1
in_ns $NS "$BURST" tx tap:$T1 $N -b 64 -g 500 || fail "port tx"
expect_ok $P "Linux side did not see exactly $N intact frames"
after=$(ifstat $NS $T1 rx_packets)
[ $((after - before)) = $N ] || fail "tap rx_packets moved by $((after - before)), expected $N"
in_ns $NS ip link show $T1 >/dev/null || fail "persistent tap vanished after the port closed"
echo "port -> Linux: $N frames, rx_packets +$((after - before))"

# 2. Linux -> port, device created by the port.
T2=unmc$SUF
bg $NS "$BURST" rx tap:$T2 $N -w 8000 -r $TMPD/r2; P=$LASTPID
wait_file $TMPD/r2
in_ns $NS ip link show $T2 | grep -q 'UP' || fail "created tap is not up"
# the kernel queues up to txqueuelen frames for the reader (1000 by
# default) and drops the rest uncounted by the port: room for the whole
# burst, so a loaded machine that does not run the reader for a while
# cannot turn a kernel queue overflow into a failure of the port
in_ns $NS ip link set $T2 txqueuelen $((N * 2))
in_ns $NS "$BURST" rawtx $T2 $N -b 50 -g 1000 || fail "rawtx"
expect_ok $P "port did not receive exactly $N frames"
in_ns $NS ip link show $T2 >/dev/null 2>&1 && fail "tap created by the port survived unm_close"
echo "Linux -> port: $N frames; created device removed on close"

# 3. multi-queue device, two ring pairs.
T3=unmm$SUF
bg $NS "$BURST" rx "tap:$T3@conf:rings=2" $N -w 8000 -r $TMPD/r3; P=$LASTPID
wait_file $TMPD/r3
in_ns $NS ip -d link show $T3 | grep -q multi_queue || fail "rings=2 did not make a multi-queue tap"
in_ns $NS ip link set $T3 txqueuelen $((N * 2))
in_ns $NS "$BURST" rawtx $T3 $N -b 50 -g 1000 || fail "rawtx"
expect_ok $P "multi-queue port did not receive exactly $N frames"
echo "multi-queue: ok"
exit 0
