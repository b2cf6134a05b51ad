// SPDX-License-Identifier: BSD-2-Clause
/*
 * pipe_stride - what a pipe's buffer stride costs a short frame, on one CPU.
 *
 *   pipe_stride [-r ROUNDS] [-n FRAMES] [-l LEN]
 *
 * Both ends of a pipe in one process: the producer queues up to 512
 * frames of LEN bytes (default 60), syncs, the consumer takes them all
 * and releases them. Four ways, interleaved ROUNDS times (default 5):
 *   copy/2048  copy/2112  UNM_OPEN_PIPE_COPY (the netmap compat layer's
 *              pipe: each TX buffer written once, the pipe copies)
 *   swap/2048  swap/2112  buffers swap, the producer writes every frame
 *              (unm-pktgen's way)
 * at the power-of-two stride (@conf:bufsize=2048) and at the pipe's
 * default (UNM_PIPE_DEF_BUF_SIZE). It prints, per way, the process CPU
 * time per frame (min and median over the rounds; CPU time rather than
 * wall clock, so that a loaded machine's preemptions drop out). One CPU
 * shows cache-set and 4K aliasing, not the cross-core transfers two
 * processes add (bench/compat_pktgen.sh measures those).
 * Exit 0, 1 on a failure, 2 on a usage error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <unm.h>
#include <unm/ring.h>

#define MAXR 64

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One run: returns CPU ns per frame, or < 0 on failure. */
static double run(int copy, unsigned bufsize, unsigned len, long frames, int round)
{
	struct unm_open_opts o = { .sz = sizeof(o), .flags = copy ? UNM_OPEN_PIPE_COPY : 0 };
	struct unm_port *tx, *rx;
	struct unm_ring *t, *r;
	unsigned char frame[UNM_MAX_BUF_SIZE];
	char nm[128], conf[48] = "";
	long sent = 0;
	double t0 = 0, d;

	if (bufsize)
		snprintf(conf, sizeof(conf), "@conf:bufsize=%u", bufsize);
	/* the consumer opens first and so builds the region, with CONF */
	snprintf(nm, sizeof(nm), "pstride%d_%d%d}0%s", (int)getpid(), round, copy, conf);
	if (unm_open(nm, &rx, NULL)) {
		fprintf(stderr, "pipe_stride: %s: %s\n", nm, unm_errmsg());
		return -1;
	}
	snprintf(nm, sizeof(nm), "pstride%d_%d%d{0", (int)getpid(), round, copy);
	if (unm_open(nm, &tx, &o)) {
		fprintf(stderr, "pipe_stride: %s: %s\n", nm, unm_errmsg());
		unm_close(rx);
		return -1;
	}
	t = unm_ring_get(tx, 1, 0);
	r = unm_ring_get(rx, 0, 0);
	if (len > t->nr_buf_size)
		len = t->nr_buf_size;
	memset(frame, 0x5a, len);
	for (uint32_t i = 0; i < t->num_slots; i++)
		memcpy(unm_buf(t, t->slot[i].buf_idx), frame, len);
	for (long it = 0; sent < frames; it++) {
		uint32_t h = t->head, n = unm_ring_space(t);

		if (it == 100) { /* warm */
			t0 = cpu_now();
			sent = 0;
		}
		if (n > 512)
			n = 512;
		for (uint32_t k = 0; k < n; k++) {
			struct unm_slot *s = &t->slot[h];

			if (!copy)
				memcpy(unm_buf(t, s->buf_idx), frame, len);
			s->len = (uint16_t)len;
			s->flags = 0;
			h = unm_ring_next(t, h);
		}
		unm_ring_advance(t, h);
		if (unm_txsync(tx, 0) < 0 || unm_rxsync(rx, 0) < 0) {
			fprintf(stderr, "pipe_stride: sync: %s\n", unm_errmsg());
			sent = -1;
			break;
		}
		sent += n;
		unm_ring_advance(r, r->tail);
	}
	d = cpu_now() - t0;
	unm_close(tx);
	unm_close(rx);
	return sent > 0 ? d * 1e9 / (double)sent : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pipe_stride [-r ROUNDS] [-n FRAMES] [-l LEN]\n"
		"CPU time per frame of a pipe, both ends in one process: copy\n"
		"(UNM_OPEN_PIPE_COPY) and swap, at a 2048-byte buffer stride and at the\n"
		"pipe's default (%u), interleaved.\n"
		"  -r, --rounds N   rounds (default 5, at most %d)\n"
		"  -n, --frames N   frames per run (default 20000000)\n"
		"  -l, --len N      frame length (default 60)\n"
		"  -h, --help       this text\n",
		UNM_PIPE_DEF_BUF_SIZE, MAXR);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "rounds", 1, NULL, 'r' }, { "frames", 1, NULL, 'n' },
		{ "len", 1, NULL, 'l' },    { "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct { const char *name; int copy; unsigned bs; } way[4] = {
		{ "copy/2048", 1, 2048 }, { "copy/default", 1, 0 },
		{ "swap/2048", 0, 2048 }, { "swap/default", 0, 0 },
	};
	static double ns[4][MAXR];
	int rounds = 5, c;
	long frames = 20000000;
	unsigned len = 60;

	while ((c = getopt_long(argc, argv, "r:n:l:h", lo, NULL)) != -1) {
		switch (c) {
		case 'r': rounds = atoi(optarg); break;
		case 'n': frames = atol(optarg); break;
		case 'l': len = (unsigned)atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || rounds < 1 || rounds > MAXR || frames < 1 || len < 1 ||
	    len > UNM_MAX_BUF_SIZE) {
		usage(stderr);
		return 2;
	}
	for (int i = 0; i < rounds; i++)
		for (int w = 0; w < 4; w++) {
			/* alternate the order so no way always runs first */
			int k = i % 2 ? 3 - w : w;

			ns[k][i] = run(way[k].copy, way[k].bs, len, frames, i);
			if (ns[k][i] < 0)
				return 1;
		}
	printf("%-14s %8s %8s  (ns per %u-byte frame, CPU time, %d rounds)\n", "way", "min",
	       "median", len, rounds);
	for (int w = 0; w < 4; w++) {
		qsort(ns[w], (size_t)rounds, sizeof(double), cmp_double);
		printf("%-14s %8.2f %8.2f\n", way[w].name, ns[w][0], ns[w][rounds / 2]);
	}
	return 0;
}
