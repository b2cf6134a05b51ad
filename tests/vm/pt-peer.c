// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: traffic end for the passthrough tests and benchmark
 * (tests/vm/ivshmem-pt.sh, bench/vm_tput.sh). Built by those scripts, not
 * by the Makefile: statically for the guest (it runs from the initramfs),
 * normally for the host. Sends and/or receives a counted stream of frames
 * with sequence numbers through any unetmap port and checks every frame:
 * order, length and payload. Exit 0 only if every count is exact.
 *
 *   pt-peer [-n N] [-l LEN] [-t SECONDS] MODE PORT
 *     tx    send N frames          rx    receive N frames
 *     txrx  send N, then receive N rxtx  receive N, then send N
 *   Frames: 02:00:00:00:00:0S -> 02:00:00:00:00:0D, ethertype 0x88b5,
 *   32-bit sequence number, payload byte i = (seq + i) & 0xff. The sender
 *   of "tx"/"txrx" is id 1 and of "rxtx" id 2, so a learning switch
 *   unicasts the replies.
 * One line per phase: "tx: N frames LEN bytes in S s = R pps" or
 * "rx: N frames ... bad B" (B = frames out of order or corrupt), then
 * "stats: ..." with the port's sync and notification counters.
 *
 * Single-threaded; the whole run is bounded by -t (default 60 s).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <unm.h>
#include <unm/ring.h>

#define HDR 18 /* Ethernet header + seq */

static double deadline;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void fill(char *b, unsigned len, unsigned src, unsigned dst, uint32_t seq)
{
	static const uint8_t mac[5] = { 2, 0, 0, 0, 0 };

	memcpy(b, mac, 5);
	b[5] = (char)dst;
	memcpy(b + 6, mac, 5);
	b[11] = (char)src;
	b[12] = (char)0x88, b[13] = (char)0xb5;
	memcpy(b + 14, &seq, 4);
	for (unsigned i = HDR; i < len; i++)
		b[i] = (char)(seq + i);
}

/* 0 if the frame is seq WANT, LEN bytes, payload intact. */
/* 0 if the frame is seq *WANT, LEN bytes, payload intact; *WANT moves
 * past the sequence number received, so one loss counts once. */
static int check(const char *b, unsigned len, unsigned want_len, uint32_t *want)
{
	uint32_t seq;

	if (len != want_len || len < HDR)
		return -1;
	memcpy(&seq, b + 14, 4);
	if (seq != *want) {
		*want = seq + 1;
		return -1;
	}
	*want = seq + 1;
	if ((uint8_t)b[12] != 0x88 || (uint8_t)b[13] != 0xb5)
		return -1;
	for (unsigned i = HDR; i < len; i++)
		if ((uint8_t)b[i] != (uint8_t)(seq + i))
			return -1;
	return 0;
}

static unsigned n_tx_rings(struct unm_port *p)
{
	unsigned n = 0;

	while (unm_ring_get(p, 1, n))
		n++;
	return n;
}

static int do_tx(struct unm_port *p, unsigned n, unsigned len, unsigned src, unsigned dst)
{
	struct unm_ring *r = unm_ring_get(p, 1, 0);
	double t0 = now(), t1;
	unsigned sent = 0;
	int rc;

	if (!r || n_tx_rings(p) < 1)
		return fprintf(stderr, "tx: no TX ring\n"), -1;
	while (sent < n) {
		uint32_t i = r->head, space = unm_ring_space(r);

		for (; space && sent < n; space--, sent++) {
			fill(unm_slot_buf(r, i), len, src, dst, sent);
			r->slot[i].len = (uint16_t)len;
			r->slot[i].flags = 0;
			i = unm_ring_next(r, i);
		}
		unm_ring_advance(r, i);
		rc = sent < n ? unm_wait(p, UNM_WAIT_TX, 200) : unm_txsync(p, 0);
		if (rc < 0)
			return fprintf(stderr, "tx: %s\n", unm_strerror(rc)), -1;
		if (now() > deadline)
			return fprintf(stderr, "tx: timeout after %u of %u frames\n", sent, n), -1;
	}
	/* until the port has taken every slot */
	while (unm_tx_pending(r)) {
		if ((rc = unm_txsync(p, 0)) < 0)
			return fprintf(stderr, "tx: %s\n", unm_strerror(rc)), -1;
		if (now() > deadline)
			return fprintf(stderr, "tx: timeout draining the ring\n"), -1;
		if (unm_tx_pending(r))
			usleep(200);
	}
	t1 = now();
	printf("tx: %u frames %u bytes in %.3f s = %.0f pps\n", n, len, t1 - t0, n / (t1 - t0));
	fflush(stdout);
	return 0;
}

static int do_rx(struct unm_port *p, unsigned n, unsigned len)
{
	unsigned got = 0, bad = 0;
	uint32_t want = 0;
	double t0 = 0, t1;
	int rc;

	while (got < n) {
		rc = unm_wait(p, UNM_WAIT_RX, 200);
		if (rc < 0)
			return fprintf(stderr, "rx: %s\n", unm_strerror(rc)), -1;
		for (unsigned k = 0; unm_ring_get(p, 0, k); k++) {
			struct unm_ring *r = unm_ring_get(p, 0, k);
			uint32_t i = r->head;

			if (i != r->tail && !t0)
				t0 = now();
			for (; i != r->tail; i = unm_ring_next(r, i), got++)
				bad += check(unm_slot_buf(r, i), r->slot[i].len, len, &want) != 0;
			unm_ring_advance(r, i);
		}
		if (now() > deadline) {
			fprintf(stderr, "rx: timeout after %u of %u frames\n", got, n);
			break;
		}
	}
	unm_rxsync(p, UNM_RING_ALL);
	t1 = now();
	printf("rx: %u frames %u bytes in %.3f s = %.0f pps, bad %u\n", got, len,
	       t0 ? t1 - t0 : 0, t0 && t1 > t0 ? got / (t1 - t0) : 0, bad);
	fflush(stdout);
	return got == n && bad == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	unsigned n = 10000, len = 60, secs = 60;
	struct unm_port *p;
	const char *mode;
	int c, rc;

	while ((c = getopt(argc, argv, "n:l:t:")) != -1) {
		switch (c) {
		case 'n': n = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'l': len = (unsigned)strtoul(optarg, NULL, 0); break;
		case 't': secs = (unsigned)strtoul(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	if (argc - optind != 2 || len < HDR || len > 2048) {
		fprintf(stderr, "usage: pt-peer [-n N] [-l LEN] [-t S] tx|rx|txrx|rxtx PORT\n");
		return 2;
	}
	mode = argv[optind];
	deadline = now() + secs;
	rc = unm_open(argv[optind + 1], &p, NULL);
	if (rc) {
		fprintf(stderr, "pt-peer: %s\n", unm_errmsg());
		return 1;
	}
	if (!strcmp(mode, "tx"))
		rc = do_tx(p, n, len, 1, 2);
	else if (!strcmp(mode, "rx"))
		rc = do_rx(p, n, len);
	else if (!strcmp(mode, "txrx"))
		rc = do_tx(p, n, len, 1, 2) || do_rx(p, n, len);
	else if (!strcmp(mode, "rxtx"))
		rc = do_rx(p, n, len) || do_tx(p, n, len, 2, 1);
	else
		rc = (fprintf(stderr, "pt-peer: unknown mode %s\n", mode), 2);
	{
		struct unm_port_stats st = { .sz = sizeof(st) };

		if (!unm_port_stats(p, &st))
			printf("stats: txsyncs %llu rxsyncs %llu kicks %llu wakeups %llu\n",
			       (unsigned long long)st.tx_syncs, (unsigned long long)st.rx_syncs,
			       (unsigned long long)st.kicks, (unsigned long long)st.wakeups);
	}
	unm_close(p);
	return rc ? 1 : 0;
}
