#!/bin/bash
# vxlan_iperf.sh - iperf3 TCP between two "VM" namespaces across a VXLAN
# overlay (VNI 42 over a veth underlay), 1 and 4 streams:
#   unetmap  each host: unmd + vale0 + tap @conf:vnet=12 (TSO/CSUM) + a
#            vxlan: port (the switch segments TSO frames for it; it sends
#            them as UDP GSO batches)
#   linux    each host: Linux bridge + kernel vxlan device + veth (the
#            reference, same run)
# Prints the median Mbit/s per case and the ratio unetmap / linux. The
# cases run interleaved, ROUNDS times each (the machine is noisy).
#
#   xconf    (with -x OPTS) a second unetmap pair whose vxlan ports add
#            OPTS to their @conf (e.g. -x rxcsum=trust), interleaved with
#            the others: an A/B of a vxlan option in the same run
#
# usage: [B=build] bench/vxlan_iperf.sh [-t SECONDS] [-n ROUNDS] [-x OPTS]
# Root; uses tests/lib/vxlan.inc (namespaces with a random suffix, deleted
# on exit). Verify with -t 2 -n 1; real figures want -t 10 -n 5.
set -u
T=5 ROUNDS=3 XC=
while getopts "t:n:x:" o; do
	case $o in t) T=$OPTARG ;; n) ROUNDS=$OPTARG ;; x) XC=$OPTARG ;; *) exit 2 ;; esac
done
cd "$(dirname "$0")/.." || exit 1
. tests/lib/vxlan.inc
IPERF_T=$T
# hosts 1+2: unetmap pair; hosts 3+4: Linux pair (same wire, own remotes);
# hosts 5+6 (-x): unetmap pair with the extra options
CASES="unetmap linux"
[ -n "$XC" ] && CASES="unetmap xconf linux"
hosts $([ -n "$XC" ] && echo 6 || echo 4)
unetmap_host 1 "vxlan:198.18.42.2@conf:vni=42,local=198.18.42.1" "@conf:vnet=12"
unetmap_host 2 "vxlan:198.18.42.1@conf:vni=42,local=198.18.42.2" "@conf:vnet=12"
linux_host 3 198.18.42.4 198.18.42.3
linux_host 4 198.18.42.3 198.18.42.4
if [ -n "$XC" ]; then
	unetmap_host 5 "vxlan:198.18.42.6@conf:vni=42,local=198.18.42.5,$XC" "@conf:vnet=12"
	unetmap_host 6 "vxlan:198.18.42.5@conf:vni=42,local=198.18.42.6,$XC" "@conf:vnet=12"
fi
for p in "1 2" "3 4" ${XC:+"5 6"}; do vm_ping $p >/dev/null || fail "no ping $p"; done

declare -A R
for ((r = 1; r <= ROUNDS; r++)); do
	for P in 1 4; do
		for c in $CASES; do
			case $c in unetmap) pair="1 2" ;; linux) pair="3 4" ;; xconf) pair="5 6" ;; esac
			v=$(vm_iperf $pair "-P $P") || fail "$c -P $P: iperf3 failed"
			R[$c.$P]="${R[$c.$P]:-} $v"
			echo "round $r: $c $P stream(s): $v Mbit/s"
		done
	done
done
med() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
for P in 1 4; do
	u=$(echo ${R[unetmap.$P]} | med) l=$(echo ${R[linux.$P]} | med)
	echo "$P stream(s): unetmap $u Mbit/s, linux bridge + kernel vxlan $l Mbit/s," \
		"ratio $(awk -v a="$u" -v b="$l" 'BEGIN { printf "%.2f", b ? a / b : 0 }')x"
	if [ -n "$XC" ]; then
		x=$(echo ${R[xconf.$P]} | med)
		echo "$P stream(s): unetmap with $XC $x Mbit/s, ratio" \
			"$(awk -v a="$x" -v b="$l" 'BEGIN { printf "%.2f", b ? a / b : 0 }')x" \
			"(against unetmap without: $(awk -v a="$x" -v b="$u" 'BEGIN { printf "%.2f", b ? a / b : 0 }')x)"
	fi
done
