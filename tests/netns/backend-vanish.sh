#!/bin/bash
# Description: the interface under an open tap or AF_PACKET port is deleted
# ("ip link del"): the port's syncs fail with ENXIO/ENODEV/ENETDOWN (port
# marked errored; TX syncs fail too), the process neither crashes nor hangs
# nor spins, both for a waiter sleeping on unm_fd() (unm_wait) and for a
# busy poller that only calls unm_rxsync(). Also: a mere link down is not
# an error.
. "$(dirname "$0")/../lib/backends.inc"
NS=unmvan$SUF
new_ns $NS

# del_under WHAT PORT IFNAME [hold options]: open PORT in a helper, delete
# IFNAME, the helper must exit 0 (saw the error) within 5 s.
del_under() {
	local what=$1 port=$2 ifn=$3; shift 3
	rm -f $TMPD/ready
	bg $NS "$BURST" hold "$port" -w 10000 -r $TMPD/ready "$@"; local P=$LASTPID
	wait_file $TMPD/ready
	sleep 0.2
	local t0=$(date +%s%N)
	in_ns $NS ip link del "$ifn" || fail "$what: ip link del"
	for ((i = 0; i < 500; i++)); do kill -0 $P 2>/dev/null || break; sleep 0.01; done
	kill -0 $P 2>/dev/null && fail "$what: port did not notice the deletion within 5 s"
	expect_ok $P "$what: sync did not fail with ENXIO/ENODEV/ENETDOWN"
	echo "$what: error after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

if [ -c /dev/net/tun ]; then
	del_under "tap (wait)" tap:unmq$SUF unmq$SUF
	del_under "tap (busy poll)" tap:unmq$SUF unmq$SUF -p
fi
for mode in wait busy; do
	in_ns $NS ip link add unmx$SUF type veth peer name unmy$SUF || skip "no veth"
	in_ns $NS ip link set unmx$SUF up
	in_ns $NS ip link set unmy$SUF up
	opt=; [ $mode = busy ] && opt=-p
	del_under "afpacket ($mode)" afpacket:unmx$SUF unmx$SUF $opt
done

# link down/up under an AF_PACKET port: no error, traffic resumes.
in_ns $NS ip link add unmx$SUF type veth peer name unmy$SUF
in_ns $NS ip link set unmx$SUF up
in_ns $NS ip link set unmy$SUF up
rm -f $TMPD/r
bg $NS "$BURST" rx afpacket:unmx$SUF 100 -w 8000 -r $TMPD/r; P=$LASTPID
wait_file $TMPD/r
in_ns $NS ip link set unmx$SUF down
sleep 0.2
in_ns $NS ip link set unmx$SUF up
sleep 0.2
in_ns $NS "$BURST" rawtx unmy$SUF 100 -b 50 -g 1000 || fail rawtx
expect_ok $P "afpacket: link down/up broke the port"
echo "link down/up: port survives"
exit 0
