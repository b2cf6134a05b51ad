// SPDX-License-Identifier: BSD-2-Clause
/*
 * pipe_ping - ping-pong RTT over a unetmap pipe, both sides busy-polling
 * (unm_rxsync/unm_txsync, no sleeping), one 64-byte frame in flight: the
 * same protocol as `raw_ring -m ping`, which bench/pipe.sh runs in the
 * same rounds as the reference.
 *
 *   pipe_ping [-t SECONDS] [-l LEN]
 *
 * Prints: pipe_ping: N round trips in S s: min X ns, median Y ns, p99 Z ns rtt_ns=Y
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <unm.h>

#define HIST 100000 /* ns buckets of 1 ns, above: clamped */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Send one frame of LEN bytes carrying SEQ; spins until there is room. */
static int send1(struct unm_port *p, struct unm_ring *tx, unsigned len, uint64_t seq)
{
	while (unm_ring_space(tx) == 0) {
		int rc = unm_txsync(p, 0);

		if (rc < 0)
			return rc;
	}
	uint32_t i = tx->head;

	memcpy(unm_slot_buf(tx, i), &seq, 8);
	tx->slot[i].len = (uint16_t)len;
	unm_ring_advance(tx, unm_ring_next(tx, i));
	return unm_txsync(p, 0);
}

/* Receive one frame; returns its sequence number or a negative errno. */
static int64_t recv1(struct unm_port *p, struct unm_ring *rx, uint64_t deadline)
{
	for (unsigned spins = 0; unm_ring_empty(rx); spins++) {
		int rc = unm_rxsync(p, 0);

		if (rc < 0)
			return rc;
		/* the clock only now and then: raw_ring's loop has none */
		if ((spins & 4095) == 4095 && unm_ring_empty(rx) && now_ns() > deadline)
			return -ETIMEDOUT;
	}
	uint64_t seq;
	uint32_t i = rx->head;

	memcpy(&seq, unm_slot_buf(rx, i), 8);
	unm_ring_advance(rx, unm_ring_next(rx, i));
	return (int64_t)(seq & 0x7fffffffffffffffull);
}

static int ponger(const char *name, unsigned len)
{
	struct unm_port *p;

	if (unm_open(name, &p, NULL)) {
		fprintf(stderr, "pipe_ping: %s: %s\n", name, unm_errmsg());
		return 1;
	}
	struct unm_ring *tx = unm_ring_get(p, 1, 0), *rx = unm_ring_get(p, 0, 0);

	for (;;) {
		int64_t s = recv1(p, rx, now_ns() + 5000000000ull);

		if (s < 0 || send1(p, tx, len, (uint64_t)s) < 0)
			break;
	}
	unm_close(p);
	return 0;
}

int main(int argc, char **argv)
{
	double secs = 1;
	unsigned len = 64;
	char m[64], s[64];
	int c, st;

	while ((c = getopt(argc, argv, "t:l:h")) != -1) {
		switch (c) {
		case 't': secs = atof(optarg); break;
		case 'l': len = (unsigned)atoi(optarg); break;
		default:
			fprintf(c == 'h' ? stdout : stderr, "usage: pipe_ping [-t SECONDS] [-l LEN]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (len < 8 || len > 2048 || secs <= 0)
		return 2;
	snprintf(m, sizeof(m), "ping%d{0", (int)getpid());
	snprintf(s, sizeof(s), "ping%d}0", (int)getpid());

	struct unm_port *p;

	if (unm_open(m, &p, NULL)) {
		fprintf(stderr, "pipe_ping: %s: %s\n", m, unm_errmsg());
		return 1;
	}
	pid_t pid = fork();

	if (pid == 0)
		_exit(ponger(s, len));

	struct unm_ring *tx = unm_ring_get(p, 1, 0), *rx = unm_ring_get(p, 0, 0);
	uint32_t *hist = calloc(HIST + 1, sizeof(*hist));
	uint64_t n = 0, t0 = now_ns(), end = t0 + (uint64_t)(secs * 1e9), mn = UINT64_MAX;
	int rc = 0;

	/* warm-up: the slave's join completes inside our syncs */
	while (n < 1000 + (uint64_t)1e12 && now_ns() < end) {
		uint64_t t = now_ns();

		if ((rc = send1(p, tx, len, n)) < 0)
			break;
		int64_t got = recv1(p, rx, t + 5000000000ull);

		if (got < 0) {
			rc = (int)got;
			break;
		}
		if ((uint64_t)got != n) {
			fprintf(stderr, "pipe_ping: got %lld, expected %llu\n", (long long)got,
				(unsigned long long)n);
			rc = -EPROTO;
			break;
		}
		uint64_t d = now_ns() - t;

		if (n >= 1000) {
			hist[d > HIST ? HIST : d]++;
			if (d < mn)
				mn = d;
		}
		n++;
	}
	unm_close(p);
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	if (rc < 0 || n <= 1000) {
		fprintf(stderr, "pipe_ping: %s\n", rc < 0 ? unm_strerror(rc) : "too few round trips");
		return 1;
	}
	uint64_t total = n - 1000, acc = 0, med = 0, p99 = 0;

	for (uint64_t d = 0; d <= HIST; d++) {
		acc += hist[d];
		if (!med && acc * 2 >= total)
			med = d;
		if (!p99 && acc * 100 >= total * 99) {
			p99 = d;
			break;
		}
	}
	printf("pipe_ping: %llu round trips in %.3f s: min %llu ns, median %llu ns, p99 %llu ns rtt_ns=%llu\n",
	       (unsigned long long)total, (now_ns() - t0) / 1e9, (unsigned long long)mn,
	       (unsigned long long)med, (unsigned long long)p99, (unsigned long long)med);
	free(hist);
	return 0;
}
