// SPDX-License-Identifier: BSD-2-Clause
/*
 * vhost_sink - open vhost-user:PATH (server) and busy-poll its RX ring,
 * counting frames, until SIGINT/SIGTERM or MAXSECS; then print
 * "frames=N secs=S pps=P" where S runs from the first received frame.
 * Used by bench/vhost_tput.sh (testpmd virtio_user txonly -> this port).
 * Usage: vhost_sink PATH [MAXSECS]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unm.h>

static volatile sig_atomic_t stop;

static void on_sig(int s)
{
	(void)s;
	stop = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char name[300];
	struct unm_port *p;
	struct unm_ring *r;
	unsigned long long frames = 0;
	double t0 = 0, t1 = 0, deadline;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: vhost_sink PATH [MAXSECS]\n");
		return 2;
	}
	deadline = now() + (argc > 2 ? atof(argv[2]) : 60);
	snprintf(name, sizeof(name), "vhost-user:%s", argv[1]);
	rc = unm_open(name, &p, NULL);
	if (rc) {
		fprintf(stderr, "vhost_sink: %s: %s\n", name, unm_errmsg());
		return 1;
	}
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	r = unm_ring_get(p, 0, 0);
	printf("listening\n");
	fflush(stdout);
	/* The clock is read every 256 polls only: a vDSO clock_gettime per
	 * poll was 30% of this loop (perf), a cost testpmd's rxonly, the
	 * reference, does not pay. */
	for (unsigned iter = 0; !stop; iter++) {
		uint32_t i;

		if ((iter & 255) == 0 && now() >= deadline)
			break;
		unm_rxsync(p, 0);
		if (unm_ring_empty(r))
			continue;
		for (i = r->head; i != r->tail; i = unm_ring_next(r, i))
			if (!(r->slot[i].flags & UNM_NS_MOREFRAG))
				frames++;
		unm_ring_advance(r, r->tail);
		if (t0 == 0)
			t0 = now();
		else if ((iter & 255) == 0)
			t1 = now();
	}
	if (t0)
		t1 = now();
	printf("frames=%llu secs=%.3f pps=%.0f\n", frames, t1 - t0,
	       t1 > t0 ? frames / (t1 - t0) : 0.0);
	unm_close(p);
	return 0;
}
