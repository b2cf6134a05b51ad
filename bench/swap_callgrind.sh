#!/bin/bash
# swap_callgrind.sh - instructions per frame in unmd's forwarding between
# two attached taps (tap <-> vale0 <-> tap, default offloads: vnet 12),
# counted by callgrind, so the figure does not depend on the machine's
# load: where zero copy between attached ports (a shared pool, buffer
# swap) saves and what it costs.
#   64    ping -f of 64-byte frames (ICMP echo and reply)
#   tso   iperf3 TCP, one stream, 64 MiB: mostly 64 KiB GSO frames (each a
#         MOREFRAG chain of 2 KiB buffers with a virtio-net header)
# unmd runs under valgrind --tool=callgrind; after the traffic its
# counters give the frames forwarded, callgrind_annotate the inclusive
# instructions of vs_round (one forwarding round: syncs of the backends,
# gather, lookup, delivery) and fwd_pass2 (delivery: the copy or the swap).
# Prints one line per case: frames, Ir/frame of each.
#
# usage: [B=build] bench/swap_callgrind.sh [-c "64 tso"] [-n FRAMES]
#   B: the build to measure (a path relative to the current directory);
#   compare two builds by running the script once per build.
# Root; namespaces with a random suffix, deleted on exit.
set -u
B=${B:-build}
UNMD=$PWD/$B/unmd
CTL=$PWD/$B/unm-ctl
CASES="64 tso" N=4000
while getopts "c:n:" o; do
	case $o in
	c) CASES=$OPTARG ;; n) N=$OPTARG ;; *) exit 2 ;;
	esac
done
die() { echo "swap_callgrind: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root"
for c in ip iperf3 valgrind callgrind_annotate; do command -v $c >/dev/null || die "$c not installed"; done
[ -x "$UNMD" ] && [ -x "$CTL" ] || die "build unmd and unm-ctl first ($UNMD)"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
TMPD=$(mktemp -d /tmp/unm-swcg.XXXXXX)
BENCH_FILES+=("$TMPD")
trap bench_cleanup EXIT

# inclusive Ir of function FN in callgrind output OUT
incl() {
	callgrind_annotate --inclusive=yes "$1" 2>/dev/null |
		awk -v f="$2" '$0 ~ ("[ :]" f " ") || $0 ~ ("[ :]" f "$") { gsub(",", "", $1); print $1; exit }'
}

run_case() {
	local c=$1 ns i up frames r p2 out=$TMPD/cg.$1
	netns3_make ucg
	SOCK=$TMPD/unmd.$c.sock
	ip netns exec $NS0 valgrind --tool=callgrind --callgrind-out-file="$out" \
		"$UNMD" -f -s "$SOCK" 2>"$TMPD/unmd.$c.log" &
	up=$!
	BENCH_PIDS+=($up)
	for ((i = 0; i < 3000; i++)); do [ -S "$SOCK" ] && break; sleep 0.01; done
	[ -S "$SOCK" ] || die "unmd did not start: $(tail -3 "$TMPD/unmd.$c.log")"
	for k in 1 2; do
		ns=$([ $k = 1 ] && echo $NS1 || echo $NS2)
		ip netns exec $NS0 "$CTL" -s "$SOCK" attach vale0 tap:cg$k$SUF >/dev/null ||
			die "attach failed"
		ip -n $NS0 link set cg$k$SUF netns $ns
		ip -n $ns addr add 10.77.0.$k/24 dev cg$k$SUF
		ip -n $ns link set cg$k$SUF up
	done
	ip netns exec $NS1 ping -c 3 -W 5 10.77.0.2 >/dev/null || die "no ping through vale0"
	if [ $c = 64 ]; then
		# 14 + 20 + 8 + 22 = 64 bytes
		ip netns exec $NS1 ping -q -f -c "$N" -s 22 -W 1 10.77.0.2 >/dev/null
	else
		ip netns exec $NS2 iperf3 -s -1 -B 10.77.0.2 >/dev/null 2>&1 &
		for ((i = 0; i < 500; i++)); do
			ip netns exec $NS2 ss -ltn 2>/dev/null | grep -q "10.77.0.2:5201" && break
			sleep 0.02
		done
		ip netns exec $NS1 timeout 300 iperf3 -c 10.77.0.2 -n 64M >/dev/null 2>&1 ||
			die "iperf3 failed"
	fi
	frames=$(ip netns exec $NS0 "$CTL" -s "$SOCK" -j stats vale0 | tr '{' '\n' |
		 grep '"name":"total"' | grep -o '"tx_frames":[0-9]*' | cut -d: -f2)
	sw=$(ip netns exec $NS0 "$CTL" -s "$SOCK" -j stats vale0 | tr '{' '\n' |
	     grep '"name":"total"' | grep -o '"tx_swapped":[0-9]*' | cut -d: -f2)
	kill $up
	wait $up 2>/dev/null
	r=$(incl "$out" vs_round) p2=$(incl "$out" fwd_pass2)
	[ -n "$frames" ] && [ "$frames" -gt 0 ] && [ -n "$r" ] || die "no figures ($c)"
	printf '%-4s %s: frames %s (swapped %s)  vs_round %s Ir/frame  fwd_pass2 %s Ir/frame\n' \
		"$c" "$B" "$frames" "${sw:-n/a}" $((r / frames)) $(( ${p2:-0} / frames ))
	for ns in $NS0 $NS1 $NS2; do ip netns pids $ns | xargs -r kill 2>/dev/null; ip netns del $ns; done
	BENCH_NETNS=()
}

for c in $CASES; do run_case $c; done
