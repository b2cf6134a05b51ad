/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * help.h - the one table of unm-pktgen's options: getopt_long's option
 * array, the short-option string and --help are all built from it, and
 * tests/unit/pktgen-help.sh checks that every option and every description
 * here appears in unm-pktgen.8 and that the man page lists nothing else.
 * When an option changes, change this table and the OPTIONS section of the
 * man page together (same words).
 */
#ifndef UNM_PKTGEN_HELP_H
#define UNM_PKTGEN_HELP_H

/* Long-only options get codes above the char range. */
enum { PG_OPT_NO_CSUM = 0x100, PG_OPT_VERSION, PG_OPT_REPLAY_TIMING, PG_OPT_TS };

struct pg_optdoc {
	int val;            /* short option char or PG_OPT_* */
	const char *name;   /* long option */
	const char *arg;    /* argument name, NULL if none */
	const char *help;   /* one paragraph; same words as the man page */
};

static const struct pg_optdoc pg_optdocs[] = {
	{ 'f', "function", "FUNC",
	  "What to do: tx, rx, ping, pong, txseq or rxseq (default rx)." },
	{ 'i', "interface", "PORT",
	  "The unetmap port to open, e.g. pipeA{1, vale0:p1, tap:tap0 or null (required)." },
	{ 'l', "length", "LEN",
	  "Ethernet frame length in bytes without CRC (default 60, or the minimum the headers need). "
	  "Given twice, or as MIN-MAX, each frame gets a random length in that range." },
	{ 'n', "count", "COUNT",
	  "A sender sends exactly COUNT frames, a receiver stops after exactly COUNT frames, "
	  "ping and pong stop after COUNT transactions (default 0: forever)." },
	{ 'b', "batch", "BATCH",
	  "Frames per sync (default 512, 1 for ping and pong)." },
	{ 'R', "rate", "PPS",
	  "Send at most PPS frames per second in total (default: as fast as possible)." },
	{ 'T', "report", "MS",
	  "Print a statistics line every MS milliseconds (default 1000, 0: none)." },
	{ 'w', "wait", "SECONDS",
	  "Wait SECONDS after opening the port before starting (default 0)." },
	{ 'p', "threads", "THREADS",
	  "Run THREADS worker threads, each on its own ring pair of the port, which is opened once "
	  "and needs THREADS ring pairs (default 1)." },
	{ 'a', "affinity", "CPU",
	  "Pin the first thread to CPU and each next thread to the next CPU." },
	{ 'c', "cpus", "N",
	  "With -a, use only N CPUs: thread i goes on CPU (CPU+i) modulo N (default 0: all online CPUs)." },
	{ 's', "src", "IP[:PORT][-IP[:PORT]]",
	  "Source address and UDP port, or a range of them (default 10.0.0.1:1234, fd00::a00:1 with -6). "
	  "Write an IPv6 address with a port as [ADDR]:PORT." },
	{ 'd', "dst", "IP[:PORT][-IP[:PORT]]",
	  "Destination address and UDP port, or a range (default 10.1.0.1:1234, fd00::a01:1 with -6)." },
	{ 'S', "src-mac", "MAC",
	  "Source MAC address (default the port's, or 02:00:00:00:00:01)." },
	{ 'D', "dst-mac", "MAC",
	  "Destination MAC address (default ff:ff:ff:ff:ff:ff, broadcast, as in netmap's pkt-gen). "
	  "A switch floods broadcast frames to every port, taps and attached interfaces included, "
	  "which multiplies its work by the number of ports; sending on a switch port without -D "
	  "prints a one-time warning. A unicast address stops the flooding once the switch has "
	  "learned it, that is once the receiving port has sent a frame from it (netmap's VALE "
	  "learns the same way); until then unknown unicast floods as broadcast does." },
	{ 'z', "random-src", NULL,
	  "Random source address and port: within the range if -s gives one, else any." },
	{ 'Z', "random-dst", NULL,
	  "Random destination address and port: within the range if -d gives one, else any." },
	{ '4', "ipv4", NULL,
	  "Send IPv4 frames (the default)." },
	{ '6', "ipv6", NULL,
	  "Send IPv6 frames." },
	{ 'C', "csum", NULL,
	  "Compute the UDP checksum (default off for IPv4, on for IPv6)." },
	{ PG_OPT_NO_CSUM, "no-csum", NULL,
	  "Send a zero UDP checksum, also with IPv6." },
	{ 'H', "vnet-hdr", "LEN",
	  "Put a virtio-net header of LEN bytes (0, 10 or 12) before each frame "
	  "and open the port with @conf:vnet=LEN." },
	{ 'F', "frags", "N",
	  "Split each frame into N slots chained with MOREFRAG (default: one slot, "
	  "or as many as a frame larger than a buffer needs)." },
	{ 'M', "frag-size", "SIZE",
	  "Bytes in each fragment but the last (default: the frame length divided by N)." },
	{ 'P', "pcap", "FILE",
	  "Replay the frames of FILE (pcap with micro- or nanosecond stamps, or pcapng) "
	  "exactly as captured, with -f tx: once, or -n COUNT frames looping over the file." },
	{ PG_OPT_REPLAY_TIMING, "replay-timing", "orig|fast",
	  "With -P: keep the capture's timing (orig, the default unless -R is given) "
	  "or send as fast as possible (fast); -R PPS sends at a set rate instead." },
	{ PG_OPT_TS, "ts", NULL,
	  "A sender puts its send time (CLOCK_REALTIME) in each frame; a receiver given --ts too "
	  "prints one-way latency: min, median, p99, max and a histogram." },
	{ 'X', "dump", NULL,
	  "Print every frame sent or received as hex (one block per slot)." },
	{ 'W', "exit-empty", NULL,
	  "A receiver stops as soon as it finds its RX rings empty, the first look included, "
	  "instead of waiting for frames." },
	{ 'r', "rubbish", NULL,
	  "tx only: send the buffers as they are, setting only the lengths (no frame is written)." },
	{ 'B', "framing", NULL,
	  "Count 24 bytes of Ethernet framing (preamble, gap, CRC) per frame in bps." },
	{ 'A', "rate-stats", NULL,
	  "At the end, print the mean and standard deviation of the interval rates." },
	{ 'N', "raw", NULL,
	  "Print raw numbers instead of K/M/G units." },
	{ 'j', "json", NULL,
	  "Print every statistics line as one JSON object." },
	{ 'v', "verbose", NULL,
	  "Print the port's geometry at start and, after a fixed-frame tx, how many frames were written in full; twice, more." },
	{ 'h', "help", NULL,
	  "Print this help and exit." },
	{ PG_OPT_VERSION, "version", NULL,
	  "Print the version of unm-pktgen and libunm and exit." },
};

static const char pg_help_head[] =
	"Usage: unm-pktgen -i PORT [-f tx|rx|ping|pong|txseq|rxseq] [OPTIONS]\n"
	"\n"
	"Generate, receive or echo UDP frames on a unetmap port, as netmap's pkt-gen does.\n"
	"\n"
	"Options:\n";

static const char pg_help_tail[] =
	"\n"
	"Functions:\n"
	"  tx      send frames as fast as allowed\n"
	"  rx      count received frames\n"
	"  txseq   send frames carrying a 64-bit sequence number\n"
	"  rxseq   receive them and count lost, out-of-order and duplicate frames\n"
	"  ping    send one frame, wait for its echo, report round-trip times\n"
	"  pong    echo every received frame back with addresses swapped\n"
	"\n"
	"Exit status: 0 success, 1 runtime failure (including loss in rxseq or\n"
	"fewer than COUNT frames), 2 usage error. See unm-pktgen(8).\n";

#endif /* UNM_PKTGEN_HELP_H */
