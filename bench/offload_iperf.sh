#!/bin/bash
# offload_iperf.sh - iperf3 TCP throughput, 1 and 4 streams, between two
# network namespaces joined by
#   bridge   veth <-> Linux bridge <-> veth (the reference, same run)
#   default  tap <-> vale0 in unmd <-> tap, plain tap:NAME (attached taps
#            get vnet=12 + TSO/CSUM by default)
#   vnet12   tap <-> vale0 in unmd <-> tap, both @conf:vnet=12 (TSO/CSUM)
#   plain    tap <-> vale0 in unmd <-> tap, @conf:vnet=0 (no offloads)
#   mixed    tap with offloads -> vale0 -> tap without (switch segments)
#   rps      as default, with Receive Packet Steering over every CPU on
#            both taps (rps_cpus): the receiving stack's work on a frame
#            unmd writes is queued to the CPU of the frame's flow hash
#            instead of running inside unmd's write
#   bufN     as default, with N-byte buffers (@conf:bufsize=N): fewer
#            slots and iovecs per 64 KiB TSO frame
#   ovs      tap <-> Open vSwitch userspace datapath (datapath_type=netdev,
#            a private ovsdb-server/ovs-vswitchd in NS0) <-> tap: issue
#            16's other reference (goal: default >= 10x ovs)
# and prints Gbit/s per case and the ratio to the bridge. Each case runs
# ROUNDS times, interleaved (the machine is noisy), and reports the median.
#
# usage: [B=build] [UNMD_ENV="VAR=VALUE ..."] bench/offload_iperf.sh [-t SECONDS]
#        [-n ROUNDS] [-c "CASES"] [-p] [-w]
#   -c: the cases to run, of "bridge default vnet12 plain mixed rps ovs"
#       (default: all but rps and ovs);
#   -w: also the CPU work per byte moved: CPU-seconds per GB of the
#       sending iperf3, the receiving one (iperf3's own getrusage figures,
#       softirq work done in their system calls included) and unmd (the
#       whole process, /proc; its polling spin included, so an unmd that
#       is not saturated looks dearer than it is), and the rate those
#       would allow if every CPU did nothing else ("bound" = CPUs x 8 /
#       total, Gbit/s). The bound's ratio to the bridge's is about the
#       most a case can reach when both are CPU-bound; it depends on the
#       machine's load far less than the rates do (a CPU share taken by
#       others does not change it, cache contention does: run -n 3+);
#       ovs: its daemons are not counted;
#   -p: also profile every run with `perf record -a` (and -g on unmd; perf,
#       T >= 4): where the CPU went (share of samples per program, idle
#       included) and the share spent in copies (_copy_to_iter /
#       _copy_from_iter in the kernel, memmove in unmd), and for unmd what
#       its samples are inside: tun reads, tun writes (of those, the
#       receiving stack's work, rxstack), system call entry/exit and
#       other calls, and the rest (the switch, polling), printed after
#       the table. That split is why the tap path
#       cannot reach the bridge on 2 vCPUs (README, bench/NOTES.md).
# Root; namespaces with a random suffix, deleted on exit. Verify the script
# with -t 2 -n 1; real measurements want -t 10 -n 5 on an idle machine.
set -u
B=${B:-build}
UNMD=$PWD/$B/unmd
CTL=$PWD/$B/unm-ctl
T=10 ROUNDS=3 PROF=0 WORK=0 CASES="bridge default vnet12 plain mixed"
while getopts "t:n:c:pw" o; do
	case $o in
	t) T=$OPTARG ;; n) ROUNDS=$OPTARG ;; c) CASES=$OPTARG ;; p) PROF=1 ;; w) WORK=1 ;; *) exit 2 ;;
	esac
done
die() { echo "offload_iperf: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root"
[ $WORK = 0 ] || command -v jq >/dev/null || die "-w: jq not installed"
for c in ip iperf3; do command -v $c >/dev/null || die "$c not installed"; done
[ $PROF = 0 ] || command -v perf >/dev/null || die "-p: perf not installed (linux-perf)"
[ $PROF = 0 ] || [ "${T%.*}" -ge 4 ] || die "-p wants -t 4 or more (perf skips the first and last second)"
[ -x "$UNMD" ] && [ -x "$CTL" ] || die "build unmd and unm-ctl first (make)"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/../tests/lib/ovs.inc"
TMPD=$(mktemp -d /tmp/unm-obench.XXXXXX)
BENCH_FILES+=("$TMPD")
trap bench_cleanup EXIT
netns3_up unmb

# Links between NS1 (10.78.0.1) and NS2 (10.78.0.2) for one case; the
# "unlink" half removes them again.
link_bridge() {
	ip -n $NS0 link add br0 type bridge
	ip -n $NS0 link set br0 up
	for k in 1 2; do
		ip -n $NS0 link add v$k type veth peer name e$k netns $([ $k = 1 ] && echo $NS1 || echo $NS2)
		ip -n $NS0 link set v$k master br0 up
	done
	ip -n $NS1 addr add 10.78.0.1/24 dev e1 && ip -n $NS1 link set e1 up
	ip -n $NS2 addr add 10.78.0.2/24 dev e2 && ip -n $NS2 link set e2 up
}
unlink_bridge() { ip -n $NS0 link del v1; ip -n $NS0 link del v2; ip -n $NS0 link del br0; }

# link_ovs: the taps o1/o2 of an OVS netdev bridge in NS0, moved into NS1
# and NS2 (OVS keeps reading and writing them through its tun fds). The
# daemons start once, on first use, and stay for later rounds.
OVSD=$TMPD/ovs
link_ovs() {
	local k ns i
	if [ ! -S "$OVSD/db.sock" ]; then
		ovs_have || die "ovs: $OVS_WHY"
		ovs_daemons $NS0 "$OVSD" || die "ovs: $OVS_WHY"
		BENCH_PIDS+=($(cat "$OVSD"/*.pid))
		ovs_vsctl "$OVSD" add-br ob$SUF -- set bridge ob$SUF datapath_type=netdev ||
			die "ovs add-br"
	fi
	for k in 1 2; do
		ns=$([ $k = 1 ] && echo $NS1 || echo $NS2)
		ovs_vsctl "$OVSD" add-port ob$SUF o$k$SUF -- set interface o$k$SUF type=tap ||
			die "ovs add-port o$k$SUF"
		for ((i = 0; i < 100; i++)); do
			ip -n $NS0 link show o$k$SUF >/dev/null 2>&1 && break
			sleep 0.05
		done
		ip -n $NS0 link set o$k$SUF netns $ns || die "move o$k$SUF"
		ip -n $ns addr add 10.78.0.$k/24 dev o$k$SUF
		ip -n $ns link set o$k$SUF up
	done
	ip -n $NS0 link set ob$SUF up 2>/dev/null
}
unlink_ovs() {
	ovs_vsctl "$OVSD" del-port ob$SUF o1$SUF
	ovs_vsctl "$OVSD" del-port ob$SUF o2$SUF
	ip -n $NS1 link del o1$SUF 2>/dev/null
	ip -n $NS2 link del o2$SUF 2>/dev/null
}

# link_taps OPTS1 OPTS2: tap:t1 (NS1) and tap:t2 (NS2) attached to vale0
link_taps() {
	local k ns opt
	for k in 1 2; do
		ns=$([ $k = 1 ] && echo $NS1 || echo $NS2)
		opt=$([ $k = 1 ] && echo "$1" || echo "$2")
		ctl attach vale0 "tap:t$k$SUF$opt" || die "attach: $(tail -2 "$TMPD/unmd.log")"
		ip -n $NS0 link set t$k$SUF netns $ns
		ip -n $ns addr add 10.78.0.$k/24 dev t$k$SUF
		ip -n $ns link set t$k$SUF up
	done
}
unlink_taps() { ctl detach vale0 "tap:t1$SUF$1"; ctl detach vale0 "tap:t2$SUF$2"; }

# rps_taps: Receive Packet Steering over every CPU on both taps
rps_taps() {
	local k ns mask
	mask=$(printf '%x' $(((1 << $(nproc)) - 1)))
	for k in 1 2; do
		ns=$([ $k = 1 ] && echo $NS1 || echo $NS2)
		ip netns exec $ns sh -c "echo $mask > /sys/class/net/t$k$SUF/queues/rx-0/rps_cpus" ||
			die "rps_cpus on t$k$SUF"
	done
}

# profile NAME: perf over the middle of the run (T-2 s), split appended to
# $TMPD/prof. Sample shares: a halted vCPU is "swapper". Tap cases: a
# second perf with call graphs on this unmd alone.
profile() {
	local data=$TMPD/perf.data udata=$TMPD/perf-unmd.data up=""
	sleep 1
	case $CASE in
	bridge|ovs) ;;
	*)
		perf record -g -F 999 -p "$UNMD_PID" -o "$udata" -- sleep $((${T%.*} - 2)) \
			>/dev/null 2>&1 &
		up=$!
		;;
	esac
	perf record -a -F 999 -o "$data" -- sleep $((${T%.*} - 2)) >/dev/null 2>&1 || return
	[ -z "$up" ] || wait "$up"
	perf report -i "$data" --no-children --sort comm,sym -g none 2>/dev/null |
		awk -v name="$1" '
		/^ *[0-9.]+%/ {
			p = $1; sub("%", "", p); comm = $2; sym = $NF
			cpu[comm] += p
			if (sym ~ /^_copy_(to|from)_iter$|memmove|memcpy/) copy[comm] += p
		}
		END {
			line = name ":"
			for (c in cpu) if (cpu[c] >= 1)
				line = line sprintf(" %s %.0f%% (copies %.0f%%)", c, cpu[c], copy[c])
			print line
		}' >>"$TMPD/prof"
	# unmd's samples (100%) by what they are inside: tun reads, tun
	# writes (of those, the receiving stack's work: rxstack), the copies
	# of each, system call entry and exit plus other calls (epoll), and
	# the rest (the switch's own work and polling in user space)
	[ -n "$up" ] && perf report -i "$udata" --children --sort sym -g none 2>/dev/null |
		awk -v name="$1" '
		/^ *[0-9.]+%/ {
			p = $1; sub("%", "", p); s = $NF
			if (s == "do_readv" || s == "ksys_read") rd += p
			if (s == "__do_sys_io_uring_enter" || s == "do_writev" || s == "ksys_write") wr += p
			if (s == "netif_receive_skb") st = p
			if (s == "_copy_to_iter") ct = p
			if (s == "_copy_from_iter") cf = p
			if (s == "do_syscall_64") sc = p
		}
		END {
			printf "%s: unmd: reads %.0f%% (copy %.0f%%) writes %.0f%% (copy %.0f%%, rxstack %.0f%%) entry/exit+other %.0f%% rest %.0f%%\n",
				name, rd, ct, wr, cf, st, sc - rd - wr, 100 - sc
		}' >>"$TMPD/prof"
	rm -f "$data" "$udata"
}

# unmd's CPU time so far (all threads, clock ticks)
unmd_ticks() { awk '{ print $14 + $15 }' "/proc/$UNMD_PID/stat"; }

# iperf_work STREAMS -> Gbit/s (receiver side); appends "CASE STREAMS
# snd|rcv|unmd CPU-SECONDS-PER-GB" lines to $TMPD/work
iperf_work() {
	local sp i j u0 u1 hz
	hz=$(getconf CLK_TCK)
	ip netns exec $NS2 iperf3 -s -1 -B 10.78.0.2 >/dev/null 2>&1 &
	sp=$!
	for ((i = 0; i < 200; i++)); do
		ip netns exec $NS2 ss -ltn 2>/dev/null | grep -q "10.78.0.2:5201" && break
		sleep 0.02
	done
	ip netns exec $NS1 ping -c 1 -W 2 10.78.0.2 >/dev/null 2>&1
	u0=$(unmd_ticks)
	j=$(ip netns exec $NS1 timeout $((${T%.*} + 20)) iperf3 -c 10.78.0.2 -t "$T" -P "$1" -J 2>/dev/null)
	u1=$(unmd_ticks)
	kill $sp 2>/dev/null
	wait $sp 2>/dev/null
	echo "$j" | jq -r --arg c "$CASE $1" --argjson u $(((u1 - u0))) --argjson hz "$hz" \
		--argjson tap $([ "$CASE" = bridge ] || [ "$CASE" = ovs ] && echo 0 || echo 1) '
		.end as $e | ($e.sum_received.bytes / 1e9) as $gb | $e.sum_sent.seconds as $s |
		if $gb > 0 then
			"\($c) snd \($e.cpu_utilization_percent.host_total / 100 * $s / $gb)",
			"\($c) rcv \($e.cpu_utilization_percent.remote_total / 100 * $s / $gb)",
			"\($c) unmd \($tap * $u / $hz / $gb)"
		else empty end' >>"$TMPD/work" 2>/dev/null
	echo "$j" | jq -r '.end.sum_received.bits_per_second // 0 | . / 1e7 | floor | . / 100' \
		2>/dev/null || echo 0
}

# run_iperf STREAMS -> Gbit/s (receiver side), profiled with -p
run_iperf() {
	local pp=""
	if [ $PROF = 1 ]; then
		profile "$CASE $1 stream(s)" &
		pp=$!
	fi
	if [ $WORK = 1 ]; then
		iperf_work "$1"
	else
		iperf_gbps 10.78.0.2 "$T" -P "$1"
	fi
	[ -z "$pp" ] || wait "$pp"
}

# case NAME -> set up, measure 1 and 4 streams, tear down
measure() {
	CASE=$1
	case $1 in
	bridge) link_bridge ;;
	default) link_taps "" "" ;;
	vnet12) link_taps "@conf:vnet=12" "@conf:vnet=12" ;;
	plain) link_taps "@conf:vnet=0" "@conf:vnet=0" ;;
	mixed) link_taps "@conf:vnet=12" "@conf:vnet=0" ;;
	rps) link_taps "" "" && rps_taps ;;
	buf*) link_taps "@conf:bufsize=${1#buf}" "@conf:bufsize=${1#buf}" ;;
	ovs) link_ovs ;;
	esac
	echo "$1 1 $(run_iperf 1)" >>"$TMPD/res"
	echo "$1 4 $(run_iperf 4)" >>"$TMPD/res"
	case $1 in
	bridge) unlink_bridge ;;
	default) unlink_taps "" "" ;;
	vnet12) unlink_taps "@conf:vnet=12" "@conf:vnet=12" ;;
	plain) unlink_taps "@conf:vnet=0" "@conf:vnet=0" ;;
	mixed) unlink_taps "@conf:vnet=12" "@conf:vnet=0" ;;
	rps) unlink_taps "" "" ;;
	buf*) unlink_taps "@conf:bufsize=${1#buf}" "@conf:bufsize=${1#buf}" ;;
	ovs) unlink_ovs ;;
	esac
}

for r in $(seq 1 "$ROUNDS"); do
	for c in $CASES; do measure $c; done
done
echo "# iperf3 TCP, $T s per run, median of $ROUNDS rounds (Gbit/s; ratio to bridge)"
printf '%-8s %10s %8s %10s %8s\n' case 1-stream ratio 4-streams ratio
b1=$(median "$TMPD/res" bridge 1) b4=$(median "$TMPD/res" bridge 4)
for c in $CASES; do
	v1=$(median "$TMPD/res" $c 1) v4=$(median "$TMPD/res" $c 4)
	printf '%-8s %10s %8s %10s %8s\n' $c "$v1" \
		"$(awk -v a="$v1" -v b="$b1" 'BEGIN { printf (b > 0) ? "%.2f" : "-", a / b }')" "$v4" \
		"$(awk -v a="$v4" -v b="$b4" 'BEGIN { printf (b > 0) ? "%.2f" : "-", a / b }')"
done
if [[ " $CASES " == *" ovs "* ]]; then
	o1=$(median "$TMPD/res" ovs 1) o4=$(median "$TMPD/res" ovs 4)
	echo "# ratio to Open vSwitch's userspace datapath (issue 16: default >= 10x)"
	for c in $CASES; do
		case $c in bridge|ovs) continue ;; esac
		printf '%-8s %10s %8s\n' $c \
			"$(awk -v a="$(median "$TMPD/res" $c 1)" -v b="$o1" 'BEGIN { printf (b > 0) ? "%.1f" : "-", a / b }')" \
			"$(awk -v a="$(median "$TMPD/res" $c 4)" -v b="$o4" 'BEGIN { printf (b > 0) ? "%.1f" : "-", a / b }')"
	done
fi
if [ $WORK = 1 ]; then
	echo "# CPU-seconds per GB moved (median), and the rate they allow on $(nproc) CPUs"
	printf '%-8s %3s %6s %6s %6s %6s %8s %6s\n' case P snd rcv unmd total bound ratio
	for p in 1 4; do
		wb=$(awk -v s="$(median "$TMPD/work" bridge $p snd)" \
			-v r="$(median "$TMPD/work" bridge $p rcv)" 'BEGIN { print s + r }')
		for c in $CASES; do
			ws=$(median "$TMPD/work" $c $p snd) wr=$(median "$TMPD/work" $c $p rcv)
			wu=$(median "$TMPD/work" $c $p unmd)
			awk -v c=$c -v p=$p -v s="$ws" -v r="$wr" -v u="$wu" -v b="${wb:-0}" -v n=$(nproc) 'BEGIN {
				t = s + r + u
				bound = (t > 0) ? n * 8 / t : 0
				ratio = (t > 0 && b > 0) ? sprintf("%.2f", b / t) : "-"
				printf "%-8s %3s %6.3f %6.3f %6.3f %6.3f %8.1f %6s\n", c, p, s, r, u, t,
					bound, ratio
			}'
		done
	done
fi
if [ $PROF = 1 ]; then
	echo "# where the CPU went (perf -a, share of all samples; copies: the copy routines)"
	cat "$TMPD/prof"
fi
