// SPDX-License-Identifier: BSD-2-Clause
/*
 * unm-bridge - netmap's bridge for unetmap: forward frames both ways
 * between two ports of any kinds, zero-copy (buffer swap) when the two
 * ports share a region, by copy otherwise. The engine is fwd.c.
 *
 * Loop, per round and per direction: rxsync the source (releases what the
 * last round consumed, shows new frames), fwd_move() up to BATCH frames,
 * txsync the destination (hands them over, reclaims space). A direction
 * whose destination is full keeps its frames in the source ring and waits.
 * When a round moves nothing, those syncs have armed each port's
 * notification (RX rings with nothing to read, TX rings with no room), so
 * the bridge sleeps in poll() on both unm_fd()s until one fires.
 *
 * Single-threaded. SIGINT/SIGTERM set a flag (no SA_RESTART: poll returns
 * EINTR); the loop ends and prints the summary.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "fwd.h"

#define PROG "unm-bridge"

/* Kept word for word in unm-bridge.8 (tests/unit/tool-help.sh diffs them). */
static const char usage_text[] =
"Usage: unm-bridge -i PORT_A -i PORT_B [OPTIONS]\n"
"Forward frames both ways between two unetmap ports.\n"
"\n"
"Options:\n"
"  -i, --interface PORT\n"
"        A port to bridge: any unetmap port name. Give it twice.\n"
"  -b, --batch BATCH\n"
"        Move at most BATCH frames per direction between two syncs\n"
"        (default 1024).\n"
"  -w, --wait-link WAIT_S\n"
"        Wait up to WAIT_S seconds for each port to appear: retry the open\n"
"        while the port, its interface or unmd is not there yet (default 0).\n"
"  -c, --copy\n"
"        Always copy, even when the two ports share a region.\n"
"  -v, --verbose\n"
"        Describe the ports and the forwarding mode at start.\n"
"  -T, --interval MS\n"
"        Print a line with the rates every MS milliseconds (default 0: none).\n"
"  -h, --help\n"
"        Print this help and exit.\n"
"  --version\n"
"        Print the version of libunm and exit.\n";

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	stop_sig = sig;
}

static void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '" PROG " --help' for more information.\n");
	exit(2);
}

static unsigned long parse_num(const char *s, const char *what, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		usage_error(what, s);
	return v;
}

static double now_mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Errors that mean "not there yet": worth retrying with -w. */
static int transient(int rc)
{
	return rc == -ENOENT || rc == -ECONNREFUSED || rc == -ENODEV || rc == -ENXIO ||
	       rc == -ENETDOWN || rc == -EAGAIN || rc == -ETIMEDOUT;
}

static int open_port(const char *name, unsigned wait_s, struct unm_port **p)
{
	double end = now_mono() + wait_s;
	int rc;

	while ((rc = unm_open(name, p, NULL)) && transient(rc) && now_mono() < end && !stop_sig)
		usleep(100000);
	if (rc) {
		const char *m = unm_errmsg();

		fprintf(stderr, PROG ": %s: %s\n", name, m[0] ? m : unm_strerror(rc));
	}
	return rc;
}

struct bridge {
	struct fwd_port port[2];
	struct fwd_dir dir[2];           /* 0: A -> B, 1: B -> A */
	int done[2];                     /* direction finished (a pipe peer left) */
	uint64_t sleeps, timeouts;       /* poll() calls, and those that timed out */
	int gone[2];                     /* "peer closed" already said for port k */
};

static void say_gone(struct bridge *br, const struct fwd_port *fp)
{
	int k = fp == &br->port[1];

	if (!br->gone[k])
		fprintf(stderr, PROG ": %s: peer closed\n", fp->name);
	br->gone[k] = 1;
}

/* Are frames left in the bound RX rings of P (consumed or not)? */
static int rx_left(const struct fwd_port *fp)
{
	for (unsigned i = fp->first_rx; i < fp->last_rx; i++) {
		struct unm_ring *r = unm_ring_get(fp->p, 0, i);

		if (r && !unm_ring_empty(r))
			return 1;
	}
	return 0;
}

/* Are slots queued on the bound TX rings of P, not yet taken by the port? */
static int tx_left(const struct fwd_port *fp)
{
	for (unsigned i = fp->first_tx; i < fp->last_tx; i++) {
		struct unm_ring *r = unm_ring_get(fp->p, 1, i);

		if (r && unm_tx_pending(r))
			return 1;
	}
	return 0;
}

/*
 * Blocked on a full destination, fwd_move() set cur = tail on the TX rings
 * it filled, so the txsync that follows arms them and the port wakes us
 * when room appears. But that txsync may already have made room (the
 * consumer released slots since the last sync): tail then moved past cur,
 * the ring does not block, nothing is armed and no wake-up will come. Has
 * a bound TX ring of P room beyond what the blocked move saw?
 */
static int tx_unblocked(const struct fwd_port *fp)
{
	for (unsigned i = fp->first_tx; i < fp->last_tx; i++) {
		struct unm_ring *r = unm_ring_get(fp->p, 1, i);

		if (r && r->cur != r->tail)
			return 1;
	}
	return 0;
}

/*
 * Nothing moved: fwd_move() may have set cur = tail on a source ring that
 * holds only the start of a chain ("wake me when more slots arrive"),
 * after this round's rxsync. Only a sync arms that, so sync again before
 * sleeping. Returns 1 if that sync brought new slots (go round again), 0,
 * or a negative errno.
 */
static int rx_rearm(const struct fwd_port *fp)
{
	uint32_t tails[64];
	unsigned n = 0;
	int rc;

	for (unsigned i = fp->first_rx; i < fp->last_rx && n < 64; i++) {
		struct unm_ring *r = unm_ring_get(fp->p, 0, i);

		tails[n++] = r ? r->tail : 0;
	}
	rc = unm_rxsync(fp->p, UNM_RING_ALL);
	if (rc && rc != -EPIPE)
		return rc;
	n = 0;
	for (unsigned i = fp->first_rx; i < fp->last_rx && n < 64; i++) {
		struct unm_ring *r = unm_ring_get(fp->p, 0, i);

		if (r && r->tail != tails[n++])
			return 1;
	}
	return 0;
}

/*
 * One round in direction D. Returns frames moved (or 1 if nothing moved
 * but the next round can move: see tx_unblocked(), rx_rearm()), or -1 on a fatal error
 * (message printed). A direction ends when its source's pipe peer left
 * and everything it sent has been handed to the destination, or when the
 * destination's peer left.
 */
static int round_dir(struct bridge *br, int k)
{
	struct fwd_dir *d = &br->dir[k];
	int rc, src_gone = 0;
	unsigned moved;

	if (br->done[k])
		return 0;
	rc = unm_rxsync(d->src->p, UNM_RING_ALL);
	if (rc == -EPIPE)
		src_gone = 1;
	else if (rc) {
		fprintf(stderr, PROG ": %s: %s\n", d->src->name, unm_strerror(rc));
		return -1;
	}
	moved = fwd_move(d);
	rc = unm_txsync(d->dst->p, UNM_RING_ALL);
	if (rc == -EPIPE) {
		say_gone(br, d->dst);
		br->done[k] = 1;
	} else if (rc) {
		fprintf(stderr, PROG ": %s: %s\n", d->dst->name, unm_strerror(rc));
		return -1;
	}
	if (src_gone && !moved && !rx_left(d->src) && !tx_left(d->dst)) {
		say_gone(br, d->src);
		br->done[k] = 1;
	}
	if (!moved && d->blocked && !br->done[k] && tx_unblocked(d->dst))
		return 1;
	if (!moved && !src_gone && !br->done[k]) {
		rc = rx_rearm(d->src);
		if (rc < 0) {
			fprintf(stderr, PROG ": %s: %s\n", d->src->name, unm_strerror(rc));
			return -1;
		}
		return rc;
	}
	return (int)moved;
}

static void print_dir(FILE *f, const char *label, const struct fwd_dir *d, double dt,
		      uint64_t f0, uint64_t b0)
{
	fprintf(f, " %s pps=%.0f bps=%.0f frames=%llu stalls=%llu", label,
		dt > 0 ? (double)(d->frames - f0) / dt : 0.0,
		dt > 0 ? (double)(d->bytes - b0) * 8 / dt : 0.0,
		(unsigned long long)d->frames, (unsigned long long)d->stalls);
}

static void summary(const struct bridge *br, double secs)
{
	fprintf(stderr, PROG ": t=%.3f mode=%s", secs, br->dir[0].swap ? "swap" : "copy");
	for (int k = 0; k < 2; k++) {
		const struct fwd_dir *d = &br->dir[k];

		fprintf(stderr, " %s frames=%llu bytes=%llu drops=%llu stalls=%llu",
			k ? "b>a" : "a>b", (unsigned long long)d->frames,
			(unsigned long long)d->bytes, (unsigned long long)d->drops,
			(unsigned long long)d->stalls);
	}
	fprintf(stderr, "\n");
}

/* Forward until a signal or both directions end. Returns the exit status. */
static int run(struct bridge *br, unsigned interval_ms)
{
	double t0 = now_mono(), last = t0, next = interval_ms ? t0 + interval_ms / 1e3 : 0;
	uint64_t f0[2] = { 0, 0 }, b0[2] = { 0, 0 };
	struct pollfd pfd[2];
	int nfd = 0, nofd = 0;

	for (int k = 0; k < 2; k++) {
		int fd = unm_fd(br->port[k].p);

		if (fd >= 0)
			pfd[nfd++] = (struct pollfd){ .fd = fd, .events = POLLIN };
		else
			nofd = 1; /* a port without fd: poll it every millisecond */
	}
	while (!stop_sig && !(br->done[0] && br->done[1])) {
		int m0 = round_dir(br, 0), m1 = round_dir(br, 1);
		double now;

		if (m0 < 0 || m1 < 0)
			return 1;
		now = now_mono();
		if (next && now >= next) {
			if (now - last >= 0.01) { /* drop intervals under 10 ms */
				fprintf(stderr, "t=%.3f", now - t0);
				for (int k = 0; k < 2; k++) {
					print_dir(stderr, k ? "b>a" : "a>b", &br->dir[k], now - last,
						  f0[k], b0[k]);
					f0[k] = br->dir[k].frames;
					b0[k] = br->dir[k].bytes;
				}
				fprintf(stderr, "\n");
				last = now;
			}
			next = now + interval_ms / 1e3;
		}
		if (m0 || m1)
			continue;
		/* Idle or blocked: the syncs above armed what we wait for, and
		 * the ports promise a wake-up (lib/pipe.c re-checks every armed
		 * ring after draining its eventfd), so sleep without a timeout
		 * unless a port has no fd (1 ms) or a -T report is due. Only
		 * the 1 ms polls of fd-less ports count as timeouts (-v prints
		 * the count), so with ports that have fds it stays 0. */
		int to = nofd ? 1 : -1;

		if (next) {
			int left = (int)((next - now) * 1000) + 1;

			if (to < 0 || left < to)
				to = left;
		}

		int rc = poll(pfd, (nfds_t)nfd, to);

		br->sleeps++;
		if (rc == 0 && nofd)
			br->timeouts++;
		if (rc < 0 && errno != EINTR) {
			perror(PROG ": poll");
			return 1;
		}
	}
	return 0;
}

static void describe(const struct bridge *br, int same)
{
	for (int k = 0; k < 2; k++) {
		const struct fwd_port *fp = &br->port[k];
		struct unm_port_info info = { .sz = sizeof(info) };

		unm_port_info(fp->p, &info);
		fprintf(stderr, PROG ": %c: %s type %s, rx rings %u-%u, tx rings %u-%u, "
			"%u/%u slots, %u buffers of %u bytes, vnet header %u\n",
			k ? 'b' : 'a', fp->name, info.type, fp->first_rx, fp->last_rx,
			fp->first_tx, fp->last_tx, info.rx_slots, info.tx_slots, fp->nbufs,
			fp->buf_size, fp->vhl);
	}
	fprintf(stderr, PROG ": %s region: %s\n", same ? "shared" : "separate",
		br->dir[0].swap ? "zero-copy (buffer swap)" : "copy");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "batch", required_argument, NULL, 'b' },
		{ "wait-link", required_argument, NULL, 'w' },
		{ "copy", no_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "interval", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct bridge br;
	const char *names[2] = { NULL, NULL };
	unsigned batch = 1024, wait_s = 0, interval = 0, ni = 0;
	int copy = 0, verbose = 0, opt, same, status;
	struct unm_port *p[2] = { NULL, NULL };
	struct sigaction sa;
	double t0;

	while ((opt = getopt_long(argc, argv, "i:b:w:cvT:h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (ni == 2)
				usage_error("%s", "more than two ports");
			names[ni++] = optarg;
			break;
		case 'b': batch = (unsigned)parse_num(optarg, "bad batch '%s'", 1u << 20); break;
		case 'w': wait_s = (unsigned)parse_num(optarg, "bad wait '%s'", 3600); break;
		case 'c': copy = 1; break;
		case 'v': verbose = 1; break;
		case 'T': interval = (unsigned)parse_num(optarg, "bad interval '%s'", 3600000); break;
		case 'h': fputs(usage_text, stdout); return 0;
		case 'V': printf(PROG " (libunm %s)\n", unm_version()); return 0;
		default:
			fprintf(stderr, "Try '" PROG " --help' for more information.\n");
			return 2;
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (ni != 2)
		usage_error("%s", "need two ports: -i PORT_A -i PORT_B");
	if (batch == 0)
		usage_error("bad batch '%s'", "0");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (int k = 0; k < 2; k++) {
		if (open_port(names[k], wait_s, &p[k]) ||
		    fwd_port_init(&br.port[k], p[k], names[k])) {
			unm_close(p[0]);
			unm_close(p[1]);
			return 1;
		}
	}
	same = fwd_same_region(&br.port[0], &br.port[1]);
	for (int k = 0; k < 2; k++) {
		br.dir[k].src = &br.port[k];
		br.dir[k].dst = &br.port[!k];
		br.dir[k].swap = same && !copy;
		br.dir[k].batch = batch;
	}
	if (verbose)
		describe(&br, same);
	t0 = now_mono();
	status = run(&br, interval);
	summary(&br, now_mono() - t0);
	if (verbose)
		fprintf(stderr, PROG ": %llu sleeps, %llu timed out\n",
			(unsigned long long)br.sleeps, (unsigned long long)br.timeouts);
	unm_close(p[0]);
	unm_close(p[1]);
	return status;
}
