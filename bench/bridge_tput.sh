#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bridge_tput.sh - unm-bridge forwarding rate, pipe -> pipe:
#
#   generator -> A{0 ==pipe A== A}0 <- unm-bridge -> B{0 ==pipe B== B}0 -> sink
#
# and, in the same run, the reference: generator -> one pipe -> sink (no
# bridge), so the result is a ratio. The bridge copies (two pipes are two
# regions). Usage: bench/bridge_tput.sh [SECONDS] [LEN] [BATCH]
# (defaults 2, 60, 512; B= build directory). Prints one line per setup
# and "ratio bridge/direct=R". Runs processes in the background and kills
# only those.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
SECS=${1:-2} LEN=${2:-60} BATCH=${3:-512}
PEERB=$B/bench/bridge_peer BRIDGE=$B/unm-bridge
for p in "$PEERB" "$BRIDGE"; do [ -x "$p" ] || { echo "bridge_tput: $p not built (make)"; exit 1; }; done
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
tag=bt$$

# reference: generator -> pipe -> sink
"$PEERB" gen "${tag}r{0" -t "$SECS" -l "$LEN" -b "$BATCH" & pids+=($!)
direct=$("$PEERB" sink "${tag}r}0" -t "$SECS") || { echo "bridge_tput: direct sink failed"; exit 1; }
echo "direct: $direct"
cleanup; pids=()

# generator -> A -> bridge -> B -> sink
"$PEERB" gen "${tag}A{0" -t "$SECS" -l "$LEN" -b "$BATCH" & pids+=($!)
"$BRIDGE" -i "${tag}A}0" -i "${tag}B{0" -b "$BATCH" 2> "/tmp/$tag.bridge" & pids+=($!)
bridged=$("$PEERB" sink "${tag}B}0" -t "$SECS") || { echo "bridge_tput: sink failed"; cat "/tmp/$tag.bridge"; exit 1; }
echo "bridge: $bridged"
cleanup; pids=()
sed 's/^/  /' "/tmp/$tag.bridge"; rm -f "/tmp/$tag.bridge"
m1=$(echo "$direct" | sed -n 's/.*mpps=\([0-9.]*\).*/\1/p')
m2=$(echo "$bridged" | sed -n 's/.*mpps=\([0-9.]*\).*/\1/p')
awk -v a="$m2" -v b="$m1" -v l="$LEN" -v n="$BATCH" \
	'BEGIN { printf "ratio bridge/direct=%.3f (len %s, batch %s)\n", (b > 0 ? a / b : 0), l, n }'
