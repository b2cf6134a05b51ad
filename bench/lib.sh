# SPDX-License-Identifier: BSD-2-Clause
# bench/lib.sh - helpers sourced by the benchmarks: the DPDK memif
# reference (two dpdk-testpmd processes, txonly -> rxonly), interactive
# dpdk-testpmd instances driven through a fifo (memif.sh, vhost_tput.sh),
# three network namespaces with a private unmd and an iperf3 run between
# two of them (afpacket_iperf.sh, offload_iperf.sh), and cleanup of every
# process, fd, namespace and file they started.
#
# Everything started here is recorded in BENCH_PIDS / BENCH_FDS /
# BENCH_NETNS / BENCH_FILES and removed by bench_cleanup (the scripts
# install it as their EXIT trap).

BENCH_PIDS=()
BENCH_FDS=()
BENCH_NETNS=()
BENCH_FILES=()

bench_cleanup() {
	local p ns
	for p in "${BENCH_FDS[@]}"; do eval "exec $p>&-" 2>/dev/null; done
	BENCH_FDS=()
	for p in "${BENCH_PIDS[@]}"; do
		kill -INT "$p" 2>/dev/null
	done
	sleep 0.2
	for p in "${BENCH_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	BENCH_PIDS=()
	for ns in "${BENCH_NETNS[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	BENCH_NETNS=()
	rm -rf "${BENCH_FILES[@]}"
	BENCH_FILES=()
}

# ---- interactive dpdk-testpmd ------------------------------------------------
# tp_start NAME CPU VDEV: dpdk-testpmd -i (both lcores on CPU, EAL file
# prefix $TP_PREFIX$NAME) fed through the fifo $TMPD/NAME.in (tp_cmd NAME
# "COMMAND"), its output in $TMPD/NAME.log. The caller sets TMPD and
# TP_PREFIX (unique per run).
tp_start() {
	local name=$1 cpu=$2 vdev=$3 fd
	mkfifo "$TMPD/$name.in"
	stdbuf -oL "${TP:-/usr/bin/dpdk-testpmd}" --no-huge --no-pci -m 512 --single-file-segments \
		--file-prefix="$TP_PREFIX$name" --lcores="0@$cpu,1@$cpu" "--vdev=$vdev" \
		-- -i --total-num-mbufs=16384 --nb-cores=1 \
		< "$TMPD/$name.in" > "$TMPD/$name.log" 2>&1 &
	BENCH_PIDS+=($!)
	BENCH_FILES+=("/var/run/dpdk/$TP_PREFIX$name")
	exec {fd}>"$TMPD/$name.in"
	BENCH_FDS+=($fd)
	eval "TPFD_$name=$fd"
}
tp_cmd() { local v="TPFD_$1"; printf '%s\n' "$2" >&"${!v}"; }
# wait_for FILE STRING [TIMEOUT_S [N]]: until the Nth occurrence (default 1)
wait_for() {
	local n=${4:-1}
	for _ in $(seq 1 $(( ${3:-15} * 20 ))); do
		[ "$(grep -c -- "$2" "$1" 2>/dev/null)" -ge "$n" ] && return 0
		sleep 0.05
	done
	echo "timeout waiting for '$2' in $1:"; tail -20 "$1"; return 1
}
# the last TX-packets / RX-packets testpmd NAME printed
tx_packets() { grep 'TX-packets:' "$TMPD/$1.log" | tail -1 | awk '{print $2}'; }
# tp_txonly NAME N: SECS seconds of txonly on testpmd NAME (it resets its
# forward statistics at start and prints them at stop; N = how many
# "Done." its log must hold after this stop); prints that run's TX-packets
tp_txonly() {
	tp_cmd "$1" "set fwd txonly"
	tp_cmd "$1" "start"
	sleep "$SECS"
	tp_cmd "$1" "stop"
	wait_for "$TMPD/$1.log" "Done." 10 "$2" >/dev/null || return 1
	sleep 0.1
	tx_packets "$1"
}
rx_packets() { grep 'RX-packets:' "$TMPD/$1.log" | tail -1 | awk '{print $2}'; }

# ---- three namespaces, a private unmd, iperf3 --------------------------------
# netns3_up PREFIX: namespaces NS0 NS1 NS2 = PREFIX{0,1,2}$SUF (SUF
# random), loopback up, IPv6 off; a private unmd in NS0 on $TMPD/unmd.sock
# (log $TMPD/unmd.log), with UNMD_ENV ("VAR=VALUE ...", e.g.
# UNM_TAP_TX_THREAD=1) in its environment for A/B runs, its PID in
# UNMD_PID; ctl ARGS runs unm-ctl against it. The caller sets
# TMPD, UNMD, CTL and defines die. Everything goes in bench_cleanup.
# netns3_make PREFIX: only the namespaces (for a caller that starts unmd
# its own way).
netns3_make() {
	local ns
	SUF=$(printf '%04x%04x' $RANDOM $RANDOM)
	NS0=${1}0$SUF NS1=${1}1$SUF NS2=${1}2$SUF
	for ns in $NS0 $NS1 $NS2; do
		ip netns add $ns || die "cannot create namespaces"
		BENCH_NETNS+=($ns)
		ip -n $ns link set lo up
		ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 >/dev/null 2>&1
	done
}

netns3_up() {
	local i
	netns3_make "$1"
	SOCK=$TMPD/unmd.sock
	# ip netns exec and env exec: $! is unmd's PID
	ip netns exec $NS0 env ${UNMD_ENV:-} "$UNMD" -f -s "$SOCK" 2>"$TMPD/unmd.log" &
	UNMD_PID=$!
	BENCH_PIDS+=($!)
	for ((i = 0; i < 300; i++)); do [ -S "$SOCK" ] && break; sleep 0.01; done
	[ -S "$SOCK" ] || die "unmd did not start"
}
ctl() { ip netns exec $NS0 "$CTL" -s "$SOCK" "$@" >/dev/null; }

# iperf_gbps ADDR SECONDS [IPERF3 CLIENT OPTIONS...]: an iperf3 server in
# NS2 bound to ADDR, a client in NS1 for SECONDS (after one ping, so that
# neighbours are resolved); prints the receiver's Gbit/s, 0 if nothing
# moved.
iperf_gbps() {
	local addr=$1 t=$2 sp i
	shift 2
	ip netns exec $NS2 iperf3 -s -1 -B "$addr" >/dev/null 2>&1 &
	sp=$!
	for ((i = 0; i < 200; i++)); do
		ip netns exec $NS2 ss -ltn 2>/dev/null | grep -q "$addr:5201" && break
		sleep 0.02
	done
	ip netns exec $NS1 ping -c 1 -W 2 "$addr" >/dev/null 2>&1
	ip netns exec $NS1 timeout $((${t%.*} + 20)) iperf3 -c "$addr" -t "$t" -f g "$@" 2>&1 |
		awk '/receiver/ { v = $(NF-2) } END { print (v == "") ? "0" : v }'
	kill $sp 2>/dev/null
	wait $sp 2>/dev/null
}

# median FILE KEY...: median of the last field of FILE's lines that start
# with "KEY... " (0 when there is none)
median() {
	local f=$1
	shift
	grep "^$* " "$f" | awk '{print $NF}' | sort -g |
		awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : 0)}'
}

# Stamp each line with the time it was read (testpmd's own stats period
# drifts to 2 s when its main lcore shares a CPU with a busy one).
stamp() {
	perl -MTime::HiRes=time -ne '$|=1; printf "%.4f %s", time, $_'
}

# memif_rate SECONDS LEN [SLOTS]: prints "memif: ... rate=MPPS": frames received
# by the rxonly side per second between its first statistics block with
# traffic and its last block before the stop (cumulative RX-packets over
# the stamped interval: 2 s blocks, so SECONDS=3 measures 2 s). The client
# sends until SECONDS after the first block with traffic. Forwarding lcores
# are pinned to different CPUs (server fwd on 1, client fwd on 0), main
# lcores (stats only) to the other one. SLOTS (a power of two, default
# 1024: memif's default) sets memif's ring size (rsize=log2).
#   CLIENT (4th argument, default testpmd): "pktgen:UNM_PKTGEN" sends with
#   unm-pktgen over a dpdk:net_memif0 port instead (pinned to CPU 0);
#   MEMIF_PKTGEN_CONF=k=v,... adds @conf options to its name (zerocopy=0).
memif_rate() {
	local secs=$1 len=$2 slots=${3:-1024} client=${4:-testpmd} tag="unmbm$$_$RANDOM"
	local sock log_s log_c srv cli t_stop rc
	local vdev rsize=0
	sock=/tmp/$tag.sock log_s=/tmp/$tag.srv.log log_c=/tmp/$tag.cli.log
	BENCH_FILES+=("$sock" "$log_s" "$log_c" "/var/run/dpdk/${tag}s" "/var/run/dpdk/${tag}c")
	command -v dpdk-testpmd >/dev/null || { echo "SKIP: dpdk-testpmd not installed"; return 77; }
	command -v perl >/dev/null || { echo "SKIP: perl not installed"; return 77; }
	while [ $((1 << rsize)) -lt "$slots" ]; do rsize=$((rsize + 1)); done
	vdev="net_memif0,socket=$sock,socket-abstract=no,rsize=$rsize"
	dpdk-testpmd --no-huge --no-pci -m 256 --single-file-segments --file-prefix="${tag}s" \
		--lcores=0@0,1@1 --vdev="$vdev,role=server" -- \
		--forward-mode=rxonly --stats-period=1 --total-num-mbufs=16384 \
		> >(stamp >"$log_s") 2>&1 &
	srv=$!
	BENCH_PIDS+=("$srv")
	# the server's first statistics block: its port is started (a client
	# that connects earlier can abort testpmd's memif server)
	for _ in $(seq 200); do grep -aq ' RX-packets:' "$log_s" && break; sleep 0.05; done
	case $client in
	pktgen:*)
		UNM_DPDK_EAL="--no-huge -m 256 --no-shconf --no-telemetry --no-pci -l0 --file-prefix=${tag}c" \
			taskset -c 0 "${client#pktgen:}" -f tx -l "$len" -T 0 \
			-i "dpdk:$vdev,role=client@conf:slots=$((1 << rsize))${MEMIF_PKTGEN_CONF:+,$MEMIF_PKTGEN_CONF}" \
			>"$log_c" 2>&1 &
		;;
	*)
		dpdk-testpmd --no-huge --no-pci -m 256 --single-file-segments --file-prefix="${tag}c" \
			--lcores=0@1,1@0 --vdev="$vdev,role=client" -- \
			--forward-mode=txonly --txpkts="$len" --stats-period=1 --total-num-mbufs=16384 \
			>"$log_c" 2>&1 &
		;;
	esac
	cli=$!
	BENCH_PIDS+=("$cli")
	# wait for the first block with traffic, then SECONDS more
	for _ in $(seq 100); do
		grep -a ' RX-packets:' "$log_s" | awk '$3 > 0 {f = 1} END {exit !f}' && break
		sleep 0.05
	done
	sleep "$secs"
	t_stop=$(perl -MTime::HiRes=time -e 'printf "%.4f", time')
	kill -INT "$srv" "$cli" 2>/dev/null
	wait "$srv" "$cli" 2>/dev/null
	# (time, cumulative RX-packets) of each block: rate between the first
	# block with traffic and the last one before the stop
	grep -a ' RX-packets:' "$log_s" | awk -v l="$len" -v s="$((1 << rsize))" -v ts="$t_stop" '
		{ t[NR] = $1; n[NR] = $3 }
		END {
			f = 0; for (i = 1; i <= NR; i++) if (n[i] > 0) { f = i; break }
			e = 0; for (i = NR; i > f; i--) if (t[i] < ts) { e = i; break }
			if (!f || !e) { printf "memif: no rate (%d statistics blocks)\n", NR; exit 1 }
			r = (n[e] - n[f]) / (t[e] - t[f]);
			printf "memif: %d-byte frames, %d slots, %.2f s measured: %.2f Mpps (%.2f Gbit/s) rate=%.3f\n",
			       l + 4, s, t[e] - t[f], r / 1e6, r * (l + 4) * 8 / 1e9, r / 1e6 }'
	rc=$?
	[ $rc = 0 ] || { echo "--- server log:"; tail -5 "$log_s"; echo "--- client log:"; tail -5 "$log_c"; }
	rm -rf "$sock" "$log_s" "$log_c" "/var/run/dpdk/${tag}s" "/var/run/dpdk/${tag}c"
	return $rc
}

# on_cpus LIST CMD...: exec CMD pinned to the CPUs in LIST (taskset), or
# where the scheduler puts it when LIST is empty; run it in a subshell
# ( on_cpus ... ) & so that $! is CMD's pid
on_cpus() {
	local l=$1; shift
	if [ -n "$l" ]; then exec taskset -c "$l" "$@"; else exec "$@"; fi
}
