// SPDX-License-Identifier: BSD-2-Clause
/*
 * bridge_peer - generator and sink for bench/bridge_tput.sh.
 *
 *   bridge_peer gen PORT [-t SECONDS] [-l LEN] [-b BATCH]
 *   bridge_peer sink PORT [-t SECONDS]
 *
 * gen fills every TX slot with LEN (default 60) and syncs BATCH (default
 * 512) slots at a time, payload untouched (as pkt-gen's default), until
 * SECONDS + 2 have passed or the port's peer leaves; it sleeps in
 * unm_wait() when the ring is full. sink consumes everything and, from its
 * first frame, measures SECONDS (default 2) and prints one line:
 *   bridge_peer: secs=2.000 frames=N mpps=R gbps=R
 * Single-threaded; exit 0 on success, 1 on failure, 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unm.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int gen(struct unm_port *p, double secs, unsigned len, unsigned batch)
{
	struct unm_ring *r = unm_ring_get(p, 1, 0);
	double end = now() + secs + 2;
	unsigned k = 0;

	while ((++k & 1023) || now() < end) {
		uint32_t i = r->head, n = unm_ring_space(r);
		int rc;

		if (n > batch)
			n = batch;
		for (uint32_t j = 0; j < n; j++) {
			r->slot[i].len = (uint16_t)len;
			r->slot[i].flags = 0;
			i = unm_ring_next(r, i);
		}
		unm_ring_advance(r, i);
		rc = unm_txsync(p, 0);
		if (rc == -EPIPE)
			break;
		if (rc < 0) {
			fprintf(stderr, "bridge_peer gen: %s\n", unm_strerror(rc));
			return 1;
		}
		if (unm_ring_empty(r) && unm_wait(p, UNM_WAIT_TX, 10) == -EPIPE)
			break;
	}
	return 0;
}

static int sink(struct unm_port *p, double secs)
{
	struct unm_ring *r = unm_ring_get(p, 0, 0);
	uint64_t frames = 0, bytes = 0;
	double t0 = 0, t = 0, wait_end = now() + 10;

	for (;;) {
		int rc = unm_rxsync(p, 0);

		if (rc < 0 && rc != -EPIPE) {
			fprintf(stderr, "bridge_peer sink: %s\n", unm_strerror(rc));
			return 1;
		}
		for (uint32_t i = r->head; i != r->tail; i = unm_ring_next(r, i))
			bytes += r->slot[i].len, frames++;
		unm_ring_advance(r, r->tail);
		t = now();
		if (!t0 && frames)
			t0 = t, frames = bytes = 0; /* measure from the first batch on */
		if (t0 && t - t0 >= secs)
			break;
		if (!t0 && t > wait_end) {
			fprintf(stderr, "bridge_peer sink: no frame in 10 s\n");
			return 1;
		}
		if (unm_ring_empty(r) && (rc = unm_wait(p, UNM_WAIT_RX, 10)) == -EPIPE) {
			fprintf(stderr, "bridge_peer sink: peer left\n");
			return 1;
		}
	}
	printf("bridge_peer: secs=%.3f frames=%llu mpps=%.3f gbps=%.3f\n", t - t0,
	       (unsigned long long)frames, frames / (t - t0) / 1e6, bytes * 8 / (t - t0) / 1e9);
	return 0;
}

int main(int argc, char **argv)
{
	struct unm_port *p;
	double secs = 2;
	unsigned len = 60, batch = 512;
	int opt, rc;

	if (argc < 3 || (strcmp(argv[1], "gen") && strcmp(argv[1], "sink"))) {
		fprintf(stderr, "usage: bridge_peer gen|sink PORT [-t SECONDS] [-l LEN] [-b BATCH]\n");
		return 2;
	}
	optind = 3;
	while ((opt = getopt(argc, argv, "t:l:b:")) != -1) {
		switch (opt) {
		case 't': secs = atof(optarg); break;
		case 'l': len = (unsigned)atoi(optarg); break;
		case 'b': batch = (unsigned)atoi(optarg); break;
		default: return 2;
		}
	}
	if (secs <= 0 || len < 14 || len > 2048 || batch == 0) {
		fprintf(stderr, "bridge_peer: bad -t, -l or -b\n");
		return 2;
	}
	rc = unm_open(argv[2], &p, NULL);
	if (rc) {
		fprintf(stderr, "bridge_peer: %s: %s\n", argv[2], unm_errmsg());
		return 1;
	}
	rc = argv[1][0] == 'g' ? gen(p, secs, len, batch) : sink(p, secs);
	unm_close(p);
	return rc;
}
