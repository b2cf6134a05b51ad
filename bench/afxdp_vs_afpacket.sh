#!/bin/bash
# afxdp_vs_afpacket.sh [SECS] - AF_XDP port TX and RX rates on a veth pair
# against AF_PACKET, measured in the same run (ratios are what matter on a
# shared 2-vCPU machine). Two namespaces with a random suffix, deleted on
# exit. TX rate = frames counted by the peer's rx_packets per second; RX
# rate = frames counted by the receiver while the peer floods with
# AF_PACKET sendmmsg. The AF_PACKET side is the afpacket:IF port type when
# this libunm has it, else a raw AF_PACKET sendmmsg/recvmmsg loop (also
# always measured, as "raw").   Usage: B=build bench/afxdp_vs_afpacket.sh 2
set -u
cd "$(dirname "$0")/.." || exit 1
SECS=${1:-2}
BIN=$PWD/${B:-build}/bench/afxdp_vs_afpacket
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -x "$BIN" ] || { echo "SKIP: $BIN not built (make)"; exit 77; }
S=$(mktemp -u XXXXXXXX)
NSA=unm-bxa-$S NSB=unm-bxb-$S
TMPD=$(mktemp -d /tmp/unm-bench.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	ip netns del "$NSA" 2>/dev/null; ip netns del "$NSB" 2>/dev/null; rm -rf "$TMPD"
}
trap cleanup EXIT
ip netns add "$NSA" && ip netns add "$NSB" || exit 1
for ns in "$NSA" "$NSB"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip -n "$NSA" link add va type veth peer name vb netns "$NSB"
ip -n "$NSA" link set va up && ip -n "$NSB" link set vb up
vb_rx() { ip netns exec "$NSB" cat /sys/class/net/vb/statistics/rx_packets; }

# tx LABEL ENV... -- CMD...: run CMD in NSA, print delivered pps.
tx() {
	local label=$1; shift
	local b=$(vb_rx) out
	out=$(env "$@" 2>&1) || { printf '%-28s failed: %s\n' "$label" "$(echo "$out" | tail -1)"; return; }
	local secs=$(echo "$out" | sed -n 's/.*secs=\([0-9.]*\).*/\1/p')
	local d=$(( $(vb_rx) - b ))
	local pps=$(awk -v d="$d" -v s="$secs" 'BEGIN{printf "%.0f", d/s}')
	printf '%-28s %10s pps delivered (%s)\n' "$label" "$pps" "$(echo "$out" | grep -o 'pps=[0-9]*')"
	echo "$label $pps" >> "$TMPD/tx"
}

# rx LABEL ENV... CMD...: receiver in NSA while vb floods.
rx() {
	local label=$1; shift
	env "$@" > "$TMPD/out" 2>&1 &
	local pid=$!; PIDS+=($pid)
	for _ in $(seq 100); do grep -q ready "$TMPD/out" && break; sleep 0.05; done
	ip netns exec "$NSB" "$BIN" raw-tx vb "$(awk -v s="$SECS" 'BEGIN{print s+0.5}')" > /dev/null 2>&1 &
	local fl=$!; PIDS+=($fl)
	wait $pid; wait $fl
	local pps=$(sed -n 's/.*pps=\([0-9]*\).*/\1/p' "$TMPD/out")
	[ -n "$pps" ] || { printf '%-28s failed: %s\n' "$label" "$(tail -1 "$TMPD/out")"; return; }
	printf '%-28s %10s pps received\n' "$label" "$pps"
	echo "$label $pps" >> "$TMPD/rx"
}

have_afpacket=0
ip netns exec "$NSA" "$BIN" port-tx afpacket:va 0.01 >/dev/null 2>&1 && have_afpacket=1
echo "== TX va -> vb, 60-byte frames, ${SECS}s each"
tx "afxdp native (copy)" UNM_AFXDP_XDP=native ip netns exec "$NSA" "$BIN" port-tx afxdp:va "$SECS"
tx "afxdp generic (copy)" UNM_AFXDP_XDP=generic ip netns exec "$NSA" "$BIN" port-tx afxdp:va "$SECS"
[ $have_afpacket = 1 ] && tx "afpacket port" X=1 ip netns exec "$NSA" "$BIN" port-tx afpacket:va "$SECS"
tx "raw AF_PACKET sendmmsg" X=1 ip netns exec "$NSA" "$BIN" raw-tx va "$SECS"
echo "== RX vb -> va (vb floods with AF_PACKET sendmmsg), ${SECS}s each"
rx "afxdp native (copy)" UNM_AFXDP_XDP=native ip netns exec "$NSA" "$BIN" port-rx afxdp:va "$SECS"
rx "afxdp generic (copy)" UNM_AFXDP_XDP=generic ip netns exec "$NSA" "$BIN" port-rx afxdp:va "$SECS"
[ $have_afpacket = 1 ] && rx "afpacket port" X=1 ip netns exec "$NSA" "$BIN" port-rx afpacket:va "$SECS"
rx "raw AF_PACKET recvmmsg" X=1 ip netns exec "$NSA" "$BIN" raw-rx va "$SECS"
echo "== ratios against raw AF_PACKET"
for d in tx rx; do
	[ -f "$TMPD/$d" ] || continue
	base=$(grep '^raw' "$TMPD/$d" | awk '{print $NF}')
	grep -v '^raw' "$TMPD/$d" | while read -r line; do
		v=${line##* }; l=${line% *}
		awk -v l="$l" -v v="$v" -v b="$base" -v d="$d" \
			'BEGIN{ if (b > 0) printf "%s %-24s %.2fx\n", d, l, v/b }'
	done
done
