#!/bin/bash
# run-all.sh - make bench: every benchmark, one after another (never two at
# once: they share 2 vCPUs), each as interleaved A/B ratios against its
# reference; output also saved in bench/results/DATE.txt. ROUNDS (default
# 5) rounds each where the script takes a count. The long soaks are not
# here: bench/soak-hostile.sh, bench/soak-lifecycle.sh.
cd "$(dirname "$0")/.." || exit 1
export B=${B:-build}
R=${ROUNDS:-5}
mkdir -p bench/results
out=bench/results/$(date +%Y%m%d-%H%M%S).txt
run() {
	echo; echo "################ $*"
	timeout 900 "$@" 2>&1
}
{
	echo "unetmap benchmarks, $(date -u), $(uname -r), $(nproc) CPUs"
	run bench/pipe.sh "$R" 1
	run bench/pktgen_pipe.sh
	run bench/pktgen_vale.sh 2 "$R"
	[ -x bench/vale_memif.sh ] && run bench/vale_memif.sh
	for s in bench/vale_scale.sh bench/vale_passthrough.sh bench/vale_rtt.sh \
		 bench/vale_1500.sh bench/monitor_overhead.sh; do
		[ -x "$s" ] && run "$s"
	done
	run bench/bridge_tput.sh
	run bench/afpacket_tx.sh
	run bench/afxdp_vs_afpacket.sh
	run "$B/bench/shmif_tput"
	run bench/offload_iperf.sh
	run bench/vhost_tput.sh
	run bench/memif.sh
	[ -x "$B/unm-stack" ] && run bench/stack.sh -n "$R"
	run bench/vm_tput.sh
	run "$B/bench/csum_bench"
} | tee "$out"
echo "saved in $out"
