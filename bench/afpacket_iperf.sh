#!/bin/bash
# afpacket_iperf.sh - iperf3 TCP between two network namespaces whose veths
# (default offloads ON: checksum offload, TSO) have their host ends in a
# third namespace, joined by
#   bridge    a Linux bridge (the reference, same veths, same run)
#   afpacket  vale0 in unmd, `unm-ctl attach vale0 afpacket:IF` (vnet 12 by
#             default: GSO frames and partial checksums cross whole)
#   afp0      the same with afpacket:IF@conf:vnet=0 (the ports complete
#             checksums and cut GSO frames themselves)
#   afxdp     vale0 with afxdp:IF ports (checksums completed in software)
# 1 stream, Gbit/s at the receiver, each case ROUNDS times interleaved (the
# machine is noisy), median and ratio to the bridge.
#
# usage: [B=build] bench/afpacket_iperf.sh [-t SECONDS] [-n ROUNDS] [-c "CASES"]
# Root; namespaces with a random suffix, deleted on exit. Verify the script
# with -t 2 -n 1; measurements want -t 5 -n 5 or more.
set -u
B=${B:-build}
UNMD=$PWD/$B/unmd
CTL=$PWD/$B/unm-ctl
T=5 ROUNDS=3 CASES="bridge afpacket afp0 afxdp"
while getopts "t:n:c:" o; do
	case $o in
	t) T=$OPTARG ;; n) ROUNDS=$OPTARG ;; c) CASES=$OPTARG ;; *) exit 2 ;;
	esac
done
die() { echo "afpacket_iperf: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root"
for c in ip iperf3; do command -v $c >/dev/null || die "$c not installed"; done
[ -x "$UNMD" ] && [ -x "$CTL" ] || die "build unmd and unm-ctl first (make)"
SUF=$(printf '%04x%04x' $RANDOM $RANDOM)
NS0=unmab0$SUF NS1=unmab1$SUF NS2=unmab2$SUF
TMPD=$(mktemp -d /tmp/unm-abench.XXXXXX)
SOCK=$TMPD/unmd.sock
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	for ns in $NS0 $NS1 $NS2; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$TMPD"
}
trap cleanup EXIT
for ns in $NS0 $NS1 $NS2; do
	ip netns add $ns || die "cannot create namespaces"
	ip -n $ns link set lo up
	ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 >/dev/null 2>&1
done
for k in 1 2; do
	ns=$([ $k = 1 ] && echo $NS1 || echo $NS2)
	ip -n $NS0 link add h$k type veth peer name p$k netns $ns || die "veth"
	ip -n $NS0 link set h$k up
	ip -n $ns addr add 10.77.0.$k/24 dev p$k
	ip -n $ns link set p$k up
done
ip -n $NS0 link add br0 type bridge
ip netns exec $NS0 "$UNMD" -f -s "$SOCK" 2>"$TMPD/unmd.log" &
PIDS+=($!)
for ((i = 0; i < 300; i++)); do [ -S "$SOCK" ] && break; sleep 0.01; done
[ -S "$SOCK" ] || die "unmd did not start"
ctl() { ip netns exec $NS0 "$CTL" -s "$SOCK" "$@" >/dev/null; }

link_up() {
	case $1 in
	bridge) for k in 1 2; do ip -n $NS0 link set h$k master br0; done
		ip -n $NS0 link set br0 up ;;
	afpacket) ctl attach vale0 afpacket:h1 && ctl attach vale0 afpacket:h2 ;;
	afp0) ctl attach vale0 afpacket:h1@conf:vnet=0 && ctl attach vale0 afpacket:h2@conf:vnet=0 ;;
	afxdp) ctl attach vale0 afxdp:h1 && ctl attach vale0 afxdp:h2 ;;
	esac
}
link_down() {
	case $1 in
	bridge) for k in 1 2; do ip -n $NS0 link set h$k nomaster; done
		ip -n $NS0 link set br0 down ;;
	afpacket|afp0) ctl detach vale0 afpacket:h1; ctl detach vale0 afpacket:h2 ;;
	afxdp) ctl detach vale0 afxdp:h1; ctl detach vale0 afxdp:h2 ;;
	esac
}

# run_iperf -> Gbit/s (receiver side), 0 if nothing moved
run_iperf() {
	ip netns exec $NS2 iperf3 -s -1 -B 10.77.0.2 >/dev/null 2>&1 &
	local sp=$!
	for ((i = 0; i < 200; i++)); do
		ip netns exec $NS2 ss -ltn 2>/dev/null | grep -q 10.77.0.2:5201 && break
		sleep 0.02
	done
	ip netns exec $NS1 ping -c 1 -W 2 10.77.0.2 >/dev/null 2>&1
	ip netns exec $NS1 timeout $((T + 20)) iperf3 -c 10.77.0.2 -t "$T" -f g \
		--connect-timeout 3000 2>&1 |
		awk '/receiver/ { v = $(NF-2) } END { print (v == "") ? "0" : v }'
	kill $sp 2>/dev/null
	wait $sp 2>/dev/null
}

for r in $(seq 1 "$ROUNDS"); do
	for c in $CASES; do
		if ! link_up $c; then
			echo "$c: cannot attach: $(tail -1 "$TMPD/unmd.log")" >&2
			continue
		fi
		echo "$c $(run_iperf)" >>"$TMPD/res"
		link_down $c
	done
done
echo "# iperf3 TCP, 1 stream, $T s per run, median of $ROUNDS interleaved rounds (Gbit/s; ratio to bridge)"
printf '%-9s %8s %6s   %s\n' case Gbit/s ratio rounds
med() { grep "^$1 " "$TMPD/res" | awk '{print $2}' | sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : 0)}'; }
b=$(med bridge)
for c in $CASES; do
	v=$(med $c)
	printf '%-9s %8s %6s   %s\n' $c "$v" \
		"$(awk -v a="$v" -v b="$b" 'BEGIN { printf (b > 0) ? "%.2f" : "-", a / b }')" \
		"$(grep "^$c " "$TMPD/res" | awk '{printf "%s ", $2}')"
done
