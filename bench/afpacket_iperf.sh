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
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
TMPD=$(mktemp -d /tmp/unm-abench.XXXXXX)
BENCH_FILES+=("$TMPD")
trap bench_cleanup EXIT
netns3_up unmab
for k in 1 2; do
	ns=$([ $k = 1 ] && echo $NS1 || echo $NS2)
	ip -n $NS0 link add h$k type veth peer name p$k netns $ns || die "veth"
	ip -n $NS0 link set h$k up
	ip -n $ns addr add 10.77.0.$k/24 dev p$k
	ip -n $ns link set p$k up
done
ip -n $NS0 link add br0 type bridge

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

for r in $(seq 1 "$ROUNDS"); do
	for c in $CASES; do
		if ! link_up $c; then
			echo "$c: cannot attach: $(tail -1 "$TMPD/unmd.log")" >&2
			continue
		fi
		echo "$c $(iperf_gbps 10.77.0.2 "$T" --connect-timeout 3000)" >>"$TMPD/res"
		link_down $c
	done
done
echo "# iperf3 TCP, 1 stream, $T s per run, median of $ROUNDS interleaved rounds (Gbit/s; ratio to bridge)"
printf '%-9s %8s %6s   %s\n' case Gbit/s ratio rounds
b=$(median "$TMPD/res" bridge)
for c in $CASES; do
	v=$(median "$TMPD/res" $c)
	printf '%-9s %8s %6s   %s\n' $c "$v" \
		"$(awk -v a="$v" -v b="$b" 'BEGIN { printf (b > 0) ? "%.2f" : "-", a / b }')" \
		"$(grep "^$c " "$TMPD/res" | awk '{printf "%s ", $2}')"
done
