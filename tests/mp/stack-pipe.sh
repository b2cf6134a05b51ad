#!/bin/bash
# Description: two unm-stacks (lwIP) talk with no kernel networking: over
# a zero-copy pipe (NAME{1 / NAME}1) and over a shmif bus file, one serves
# a 24 MiB file over HTTP and the other fetches it (sha256 checked), then
# the client sends 64 MiB to the server's TCP sink (all acknowledged).
# Needs no privileges (no unmd, no namespace).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/stack.inc
mkdir -p "$TMPD/www"
mkfile "$TMPD/www/big.bin" 24
want=$(sha "$TMPD/www/big.bin")

# pair NAME SERVER_PORT CLIENT_PORT
pair() {
	local n=$1
	start_stack srv$n -i "$2" -a 198.18.9.1/24 --http "$TMPD/www"
	timeout 90 "$STACK" -i "$3" -a 198.18.9.2/24 -t 60 \
		--connect http://198.18.9.1/big.bin -o "$TMPD/got.$n" 2>"$TMPD/cli.$n" ||
		fail "$n: fetch failed: $(cat "$TMPD/cli.$n")"
	[ "$(sha "$TMPD/got.$n")" = "$want" ] || fail "$n: sha256 differs"
	echo "$n: $(grep received "$TMPD/cli.$n")"
	# a pipe server exits (status 0) once its peer closed; shmif has no peer
	stop_stack srv$n || fail "$n: server exit status $?: $(tail -3 "$TMPD/srv$n.log")"
}
pair pipe "stk$SUF{1" "stk$SUF}1"
pair shmif "shmif:$TMPD/bus" "shmif:$TMPD/bus"

# bulk send into the sink over a pipe
start_stack sink -i "stb$SUF{1" -a 198.18.9.1/24
timeout 90 "$STACK" -i "stb$SUF}1" -a 198.18.9.2/24 -t 60 \
	--connect tcp://198.18.9.1:5001 --send 64M 2>"$TMPD/cli.send" ||
	fail "bulk send failed: $(cat "$TMPD/cli.send")"
echo "pipe bulk: $(grep sent "$TMPD/cli.send")"
sleep 0.2
stop_stack sink
grep -q "sink 67108864 bytes" "$TMPD/sink.log" || fail "sink did not count 64 MiB: $(tail -2 "$TMPD/sink.log")"
exit 0
