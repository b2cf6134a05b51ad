// SPDX-License-Identifier: BSD-2-Clause
/*
 * pipe_tput - throughput of one pipe ring pair between two processes.
 *
 *   pipe_tput [-t SECONDS] [-b BATCH] [-l LEN] [-s SLOTS] [-w] [-n]
 *
 * Forks a consumer (slave end) and runs the producer (master end) in the
 * parent; both spin on unm_txsync()/unm_rxsync() with BATCH slots per
 * sync. The payload is not touched unless -w (producer writes LEN bytes,
 * consumer reads them), so the default measures the slot swap itself, as a
 * raw shared-memory SPSC ring of buffer indexes would. -n makes both
 * sides sleep with unm_wait() when there is nothing to do instead of
 * spinning. The consumer measures from its first frame for SECONDS and
 * prints one line:
 *   pipe_tput: secs=1.000 frames=123456789 mpps=123.46 batch=512 len=64 kicks=0/0
 * (kicks = producer / consumer eventfd writes). Exit 0 on success.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <unm.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct shared { volatile int stop; uint64_t cons_kicks; };

static void usage(FILE *f)
{
	fprintf(f, "usage: pipe_tput [-t SECONDS] [-b BATCH] [-l LEN] [-s SLOTS] [-w] [-n]\n");
}

static int consumer(const char *name, double secs, int touch, int sleepy, unsigned batch,
		    unsigned len, struct shared *sh)
{
	struct unm_port *p;
	struct unm_port_stats st = { .sz = sizeof(st) };
	struct unm_ring *r;
	uint64_t frames = 0, sum = 0;
	double t0 = 0, t1;
	int rc;

	if ((rc = unm_open(name, &p, NULL))) {
		fprintf(stderr, "pipe_tput: open %s: %s\n", name, unm_errmsg());
		return 1;
	}
	r = unm_ring_get(p, 0, 0);
	for (;;) {
		uint32_t i = r->head, n = unm_ring_space(r);

		if (n > batch)
			n = batch;
		if (n) {
			if (!t0)
				t0 = now();
			for (uint32_t k = 0; k < n; k++) {
				if (touch)
					sum += *(volatile uint64_t *)unm_slot_buf(r, i);
				i = unm_ring_next(r, i);
			}
			unm_ring_advance(r, i);
			frames += n;
			if ((frames & 0xffff) < n && now() - t0 >= secs)
				break;
		} else if (t0 && now() - t0 >= secs) {
			break;
		}
		rc = sleepy && !n ? unm_wait(p, UNM_WAIT_RX, 100) : unm_rxsync(p, 0);
		if (rc < 0) {
			fprintf(stderr, "pipe_tput: rxsync: %s\n", unm_strerror(rc));
			return 1;
		}
	}
	t1 = now();
	sh->stop = 1;
	unm_port_stats(p, &st);
	sh->cons_kicks = st.kicks;
	printf("pipe_tput: secs=%.3f frames=%llu mpps=%.2f batch=%u len=%u",
	       t1 - t0, (unsigned long long)frames, frames / (t1 - t0) / 1e6, batch, len);
	fflush(stdout);
	unm_close(p);
	return sum == 1 ? 2 : 0; /* keeps the reads */
}

static int producer(const char *name, int touch, int sleepy, unsigned batch, unsigned len,
		    struct shared *sh, uint64_t *kicks)
{
	struct unm_port *p;
	struct unm_port_stats st = { .sz = sizeof(st) };
	struct unm_ring *r;
	uint64_t seq = 0;
	int rc;

	if ((rc = unm_open(name, &p, NULL))) {
		fprintf(stderr, "pipe_tput: open %s: %s\n", name, unm_errmsg());
		return 1;
	}
	r = unm_ring_get(p, 1, 0);
	while (!sh->stop) {
		uint32_t i = r->head, n = unm_ring_space(r);

		if (n > batch)
			n = batch;
		for (uint32_t k = 0; k < n; k++) {
			r->slot[i].len = (uint16_t)len;
			if (touch)
				memset(unm_slot_buf(r, i), (int)seq++, len);
			i = unm_ring_next(r, i);
		}
		unm_ring_advance(r, i);
		rc = sleepy && !n ? unm_wait(p, UNM_WAIT_TX, 100) : unm_txsync(p, 0);
		if (rc < 0 && rc != -EPIPE) {
			fprintf(stderr, "pipe_tput: txsync: %s\n", unm_strerror(rc));
			return 1;
		}
		if (rc == -EPIPE)
			break;
	}
	unm_port_stats(p, &st);
	*kicks = st.kicks;
	unm_close(p);
	return 0;
}

int main(int argc, char **argv)
{
	double secs = 1;
	unsigned batch = 512, len = 64, slots = 1024;
	int touch = 0, sleepy = 0, c, st;
	char m[96], s[96];
	struct shared *sh;
	uint64_t pkicks = 0;
	pid_t pid;

	while ((c = getopt(argc, argv, "t:b:l:s:wnh")) != -1) {
		switch (c) {
		case 't': secs = atof(optarg); break;
		case 'b': batch = (unsigned)atoi(optarg); break;
		case 'l': len = (unsigned)atoi(optarg); break;
		case 's': slots = (unsigned)atoi(optarg); break;
		case 'w': touch = 1; break;
		case 'n': sleepy = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (secs <= 0 || !batch || len < 8 || len > 2048) {
		usage(stderr);
		return 2;
	}
	snprintf(m, sizeof(m), "tput%d{0@conf:slots=%u", (int)getpid(), slots);
	snprintf(s, sizeof(s), "tput%d}0@conf:slots=%u", (int)getpid(), slots);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(consumer(s, secs, touch, sleepy, batch, len, sh));
	if (producer(m, touch, sleepy, batch, len, sh, &pkicks)) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		return 1;
	}
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return 1;
	printf(" kicks=%llu/%llu\n", (unsigned long long)pkicks, (unsigned long long)sh->cons_kicks);
	return 0;
}
