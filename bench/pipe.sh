#!/bin/bash
# pipe.sh - pipe throughput and RTT against the raw shared-memory ring, in
# interleaved rounds (bench/ab.sh): 64-byte frames, batch 512, every frame
# written with a sequence number and checked by the receiver on both sides
# (raw_ring tput vs pipe_tput -w), then ping-pong RTT (raw_ring -m ping vs
# pipe_ping, both busy-polling). Each round also probes the cross-core mode.
#   bench/pipe.sh [ROUNDS] [SECONDS]
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
R=${1:-7} T=${2:-1}
probe="$B/bench/raw_ring -m ping -t 0.2"
bench/ab.sh -n "$R" -t "pipe throughput / raw ring (64 B, batch 512, verified)" \
	-A "$B/bench/raw_ring -t $T" -B "$B/bench/pipe_tput -w -t $T" -M "$probe"
echo
# RTT: ab.sh compares rates, so feed it 1/RTT: the median B/A is raw/pipe.
inv() { echo "bash -c '$1 | grep -o \"rtt_ns=[0-9]*\" | tail -1 | awk -F= \"{printf \\\"rate=%.6f\\\\n\\\", 1000/\\\$2}\"'"; }
bench/ab.sh -n "$R" -t "ping-pong: raw ring RTT / pipe RTT (1/x of the RTT ratio)" \
	-A "$(inv "$B/bench/raw_ring -m ping -t $T")" -B "$(inv "$B/bench/pipe_ping -t $T")" -M "$probe"
