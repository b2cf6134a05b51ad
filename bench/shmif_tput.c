// SPDX-License-Identifier: BSD-2-Clause
/*
 * shmif_tput.c - throughput between two processes on one shmif bus file.
 *
 * A child process sends as fast as it can through a shmif port (full TX
 * rings, one txsync and one wake-up pwrite per batch); the parent receives
 * through another port on the same bus (unm_wait + rxsync). The bus is a
 * 1 MiB ring with no flow control, so a sender faster than the receiver
 * overruns it: "rx" is what arrived intact, "lost" what the receiver
 * counted as overrun (drops, in laps) plus frames never seen.
 *
 *   shmif_tput [-t SECONDS] [-s SIZE]... [-b BUSFILE]
 *   default: -t 1 -s 64 -s 1500, bus file in /tmp (removed afterwards)
 *
 * Output, one line per size:
 *   shmif size=64 t=1.000 tx_pps=... rx_pps=... rx_gbps=... lost=...% overruns=N
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static int sender(const char *name, unsigned size, double secs, int go_fd, int res_fd)
{
	struct unm_port *p;
	struct unm_ring *r;
	unsigned long long sent = 0;
	char c;

	if (unm_open(name, &p, NULL)) {
		fprintf(stderr, "sender: %s: %s\n", name, unm_errmsg());
		return 1;
	}
	r = unm_ring_get(p, 1, 0);
	for (uint32_t i = 0; i < r->num_slots; i++) {
		char *b = unm_slot_buf(r, i);

		memset(b, 0xff, 6);                 /* broadcast */
		memcpy(b + 6, "\x02\0\0\0\0\x02", 6);
		b[12] = 0x88, b[13] = 0xb5;
		memset(b + 14, 0x5a, size - 14);
	}
	if (read(go_fd, &c, 1) != 1)
		return 1;
	double t0 = now();

	while (now() - t0 < secs) {
		uint32_t n = unm_ring_space(r), i = r->head;

		for (uint32_t k = 0; k < n; k++) {
			r->slot[i].len = (uint16_t)size;
			r->slot[i].flags = 0;
			i = unm_ring_next(r, i);
		}
		unm_ring_advance(r, i);
		if (unm_txsync(p, 0))
			return 1;
		sent += n;
	}
	if (write(res_fd, &sent, sizeof(sent)) != sizeof(sent))
		return 1;
	unm_close(p);
	return 0;
}

static int run(const char *bus, unsigned size, double secs)
{
	struct unm_port *p;
	struct unm_port_stats st = { .sz = sizeof(st) };
	unsigned long long sent = 0, got = 0, bytes = 0;
	int go[2], res[2], status;
	char name[300];
	pid_t pid;

	snprintf(name, sizeof(name), "shmif:%s", bus);
	if (unm_open(name, &p, NULL)) {
		fprintf(stderr, "%s: %s\n", name, unm_errmsg());
		return 1;
	}
	if (pipe(go) || pipe(res))
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0)
		_exit(sender(name, size, secs, go[0], res[1]));
	close(res[1]);
	struct unm_ring *r = unm_ring_get(p, 0, 0);
	double t0 = now(), tlast = t0;

	if (write(go[1], "g", 1) != 1)
		return 1;
	/* receive until the sender reports and the bus is drained */
	for (;;) {
		int w = unm_wait(p, UNM_WAIT_RX, 200);

		if (w < 0)
			break;
		while (!unm_ring_empty(r)) {
			bytes += r->slot[r->head].len;
			got++;
			unm_ring_advance(r, unm_ring_next(r, r->head));
		}
		if (w > 0)
			tlast = now();
		if (w == 0 && now() - t0 > secs)
			break;
		if (now() - t0 > secs + 10)
			break;
	}
	if (read(res[0], &sent, sizeof(sent)) != sizeof(sent))
		sent = 0;
	waitpid(pid, &status, 0);
	unm_port_stats(p, &st);
	double dt = tlast - t0 > 0 ? tlast - t0 : 1e-9;

	printf("shmif size=%u t=%.3f tx_pps=%.0f rx_pps=%.0f rx_gbps=%.3f lost=%.1f%% overruns=%llu\n",
	       size, dt, sent / secs, got / dt, bytes * 8 / dt / 1e9,
	       sent ? 100.0 * (double)(sent - (got < sent ? got : sent)) / sent : 0.0,
	       (unsigned long long)st.drops);
	unm_close(p);
	close(go[0]), close(go[1]), close(res[0]);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "time", required_argument, 0, 't' }, { "size", required_argument, 0, 's' },
		{ "bus", required_argument, 0, 'b' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	unsigned sizes[8], nsizes = 0;
	double secs = 1;
	char bus[256] = "";
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "t:s:b:h", lo, NULL)) != -1) {
		switch (c) {
		case 't': secs = atof(optarg); break;
		case 's':
			if (nsizes < 8)
				sizes[nsizes++] = (unsigned)atoi(optarg);
			break;
		case 'b': snprintf(bus, sizeof(bus), "%s", optarg); break;
		case 'h':
			printf("usage: shmif_tput [-t SECONDS] [-s SIZE]... [-b BUSFILE]\n");
			return 0;
		default:
			fprintf(stderr, "try --help\n");
			return 2;
		}
	}
	if (!nsizes) {
		sizes[nsizes++] = 64;
		sizes[nsizes++] = 1500;
	}
	for (unsigned i = 0; i < nsizes; i++)
		if (sizes[i] < 14 || sizes[i] > 1514 || secs <= 0) {
			fprintf(stderr, "shmif_tput: size must be 14..1514, time > 0; try --help\n");
			return 2;
		}
	bool own = !bus[0];

	if (own)
		snprintf(bus, sizeof(bus), "/tmp/unm-shmif-tput-%d.bus", (int)getpid());
	for (unsigned i = 0; i < nsizes && !rc; i++) {
		unlink(bus);
		rc = run(bus, sizes[i], secs);
	}
	if (own)
		unlink(bus);
	return rc;
}
