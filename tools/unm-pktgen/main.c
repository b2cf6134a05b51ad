// SPDX-License-Identifier: BSD-2-Clause
/*
 * main.c - unm-pktgen: open one port handle per worker thread, start the
 * workers (tx/rx/ping/pong), print interval statistics until they finish
 * or a signal stops them, then the summary.
 *
 * Threads: main owns setup, reporting and teardown. Workers block SIGINT
 * and SIGTERM, so signals always land in main, whose handler only sets
 * pg_stop; workers see it within their wait timeout. The -n budget is one
 * atomic counter shared by the workers (pg_claim).
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pktgen.h"

int pg_stop;
static uint64_t budget;       /* frames left under -n; atomic */
static bool budget_on;        /* written before the workers start */

uint64_t pg_claim(uint64_t want)
{
	uint64_t left;

	if (!budget_on)
		return want;
	left = __atomic_load_n(&budget, __ATOMIC_RELAXED);
	do {
		if (left == 0)
			return 0;
		if (want > left)
			want = left;
	} while (!__atomic_compare_exchange_n(&budget, &left, left - want, true,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return want;
}

bool pg_budget_spent(void)
{
	return budget_on && __atomic_load_n(&budget, __ATOMIC_RELAXED) == 0;
}

void pg_unclaim(uint64_t n)
{
	if (budget_on && n)
		__atomic_fetch_add(&budget, n, __ATOMIC_RELAXED);
}

static void on_signal(int sig)
{
	(void)sig;
	__atomic_store_n(&pg_stop, 1, __ATOMIC_RELAXED);
}

/*
 * NAME with ring pair I bound: "-I" goes before /FLAGS and @conf: as the
 * name grammar orders them (shmif paths contain '/', so only '@' counts
 * there).
 */
static void ring_name(const char *name, unsigned i, char *out, size_t n)
{
	size_t at = strcspn(name, "@"), cut = at;

	if (strncmp(name, "shmif:", 6)) {
		const char *slash = memchr(name, '/', at);

		while (slash) {
			const char *next = memchr(slash + 1, '/', at - (size_t)(slash + 1 - name));

			if (!next)
				break;
			slash = next;
		}
		if (slash && slash + 1 < name + at &&
		    strspn(slash + 1, "TRtrzx") == (size_t)(name + at - slash - 1))
			cut = (size_t)(slash - name);
	}
	snprintf(out, n, "%.*s-%u%s", (int)cut, name, i, name + cut);
}

static int check_frags(const struct pg_conf *c, unsigned bufsz)
{
	unsigned lmax = c->len_max + c->vnet_hdr_len, lmin = c->len_min + c->vnet_hdr_len;
	unsigned m, last;

	if (c->frags) {
		m = c->frag_size ? c->frag_size : lmax / c->frags;
		last = lmax - (c->frags - 1) * m;
		if (!c->frag_size && lmin / c->frags == 0)
			return -1;
	} else {
		m = c->frag_size ? c->frag_size : bufsz;
		last = m;
	}
	if (m > bufsz || last > bufsz) {
		fprintf(stderr, PG_NAME ": fragments of %u bytes do not fit the port's %u-byte buffers%s\n",
			m > last ? m : last, bufsz, c->frags ? "" : " (use -F/-M)");
		return -1;
	}
	return 0;
}

static int open_one(const struct pg_conf *c, struct pg_thread *t, unsigned i)
{
	struct unm_open_opts o = { .sz = sizeof(o) };
	struct unm_port_info info = { .sz = sizeof(info) };
	struct pg_frame_cfg fc;
	char name[256];
	int rc;

	if (c->threads > 1)
		ring_name(c->ifname, i, name, sizeof(name));
	else
		snprintf(name, sizeof(name), "%s", c->ifname);
	o.tx_rings = o.rx_rings = c->threads;
	o.vnet_hdr_len = c->vnet_hdr_len;
	rc = unm_open(name, &t->port, &o);
	if (rc) {
		fprintf(stderr, PG_NAME ": cannot open '%s': %s\n", name,
			unm_errmsg()[0] ? unm_errmsg() : unm_strerror(rc));
		return -1;
	}
	unm_port_info(t->port, &info);
	if (info.vnet_hdr_len != c->vnet_hdr_len) {
		fprintf(stderr, PG_NAME ": %s uses a %u-byte virtio-net header, not %u\n",
			name, info.vnet_hdr_len, c->vnet_hdr_len);
		return -1;
	}
	t->first_tx = info.first_tx, t->last_tx = info.last_tx;
	t->first_rx = info.first_rx, t->last_rx = info.last_rx;
	t->buf_size = info.buf_size;
	if (c->verbose)
		fprintf(stderr, PG_NAME ": %s: type %s, %u/%u TX/RX rings (bound TX %u-%u, RX %u-%u), "
			"%u/%u slots, %u buffers of %u bytes, vnet %u\n", name, info.type,
			info.tx_rings, info.rx_rings, info.first_tx, info.last_tx, info.first_rx,
			info.last_rx, info.tx_slots, info.rx_slots, info.buf_count, info.buf_size,
			info.vnet_hdr_len);
	bool need_tx = c->func != PG_RX && c->func != PG_RXSEQ;
	bool need_rx = c->func != PG_TX && c->func != PG_TXSEQ;

	if ((need_tx && t->first_tx == t->last_tx) || (need_rx && t->first_rx == t->last_rx)) {
		fprintf(stderr, PG_NAME ": %s has no bound %s ring\n", name,
			need_tx && t->first_tx == t->last_tx ? "TX" : "RX");
		return -1;
	}
	if (need_tx && check_frags(c, info.buf_size))
		return -1;
	memset(&fc, 0, sizeof(fc));
	fc.v6 = c->ipv6;
	fc.csum = c->csum > 0;
	fc.rand_src = c->rand_src;
	fc.rand_dst = c->rand_dst;
	fc.payload = c->func == PG_PING ? PG_PAY_PING : c->func == PG_TXSEQ ? PG_PAY_SEQ : PG_PAY_NONE;
	fc.vnet_hdr_len = c->vnet_hdr_len;
	fc.len_min = c->len_min;
	fc.len_max = c->len_max;
	memcpy(fc.dmac, c->dmac, 6);
	memcpy(fc.smac, c->smac, 6);
	if (!c->smac_given && memcmp(info.mac, "\0\0\0\0\0\0", 6))
		memcpy(fc.smac, info.mac, 6);
	fc.src = c->src;
	fc.dst = c->dst;
	if (pg_gen_init(&t->gen, &fc, pg_now_ns() ^ ((uint64_t)i << 32)) ||
	    !(t->scratch = malloc(c->len_max + c->vnet_hdr_len))) {
		fprintf(stderr, PG_NAME ": out of memory\n");
		return -1;
	}
	return 0;
}

static void *(*const worker[])(void *) = {
	[PG_TX] = pg_tx_main, [PG_TXSEQ] = pg_tx_main,
	[PG_RX] = pg_rx_main, [PG_RXSEQ] = pg_rx_main,
	[PG_PING] = pg_ping_main, [PG_PONG] = pg_pong_main,
};

static int start_workers(const struct pg_conf *c, struct pg_thread *th)
{
	sigset_t block, old;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (unsigned i = 0; i < c->threads; i++) {
		pthread_attr_t attr;
		int rc;

		pthread_attr_init(&attr);
		if (c->cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET((c->cpu + (int)i) % CPU_SETSIZE, &set);
			pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		}
		rc = pthread_create(&th[i].tid, &attr, worker[c->func], &th[i]);
		if (rc && c->cpu >= 0) {
			fprintf(stderr, PG_NAME ": cannot pin thread %u to cpu %d: %s\n", i,
				c->cpu + (int)i, strerror(rc));
			pthread_attr_destroy(&attr);
			pthread_attr_init(&attr);
			rc = pthread_create(&th[i].tid, &attr, worker[c->func], &th[i]);
		}
		pthread_attr_destroy(&attr);
		if (rc) {
			fprintf(stderr, PG_NAME ": pthread_create: %s\n", strerror(rc));
			__atomic_store_n(&pg_stop, 1, __ATOMIC_RELAXED);
			for (unsigned k = 0; k < i; k++)
				pthread_join(th[k].tid, NULL);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			return -1;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

static void sum_counters(const struct pg_thread *th, unsigned n, struct pg_totals *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < n; i++) {
		s->pkts += __atomic_load_n(&th[i].c.pkts, __ATOMIC_RELAXED);
		s->bytes += __atomic_load_n(&th[i].c.bytes, __ATOMIC_RELAXED);
		s->batches += __atomic_load_n(&th[i].c.batches, __ATOMIC_RELAXED);
		s->drops += __atomic_load_n(&th[i].c.drops, __ATOMIC_RELAXED);
	}
}

/* A hint for the report loop only: the results a worker leaves in its
 * pg_thread are read after pthread_join(), which orders them. */
static bool all_done(const struct pg_thread *th, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (!__atomic_load_n(&th[i].done, __ATOMIC_RELAXED))
			return false;
	return true;
}

/* Interval lines from measured deltas; intervals under 10 ms are dropped
 * (merged into the next). */
static void report_loop(const struct pg_conf *c, struct pg_thread *th)
{
	uint64_t start = pg_now_ns(), last = start, step = (uint64_t)c->report_ms * 1000000ull;
	uint64_t next = start + step;
	struct pg_totals prev = { 0 }, cur, d;

	while (!all_done(th, c->threads)) {
		uint64_t now = pg_now_ns();

		if (!step || now < next) {
			uint64_t nap = step && next - now < 10000000ull ? next - now : 10000000ull;

			pg_sleep_ns(nap);
			continue;
		}
		sum_counters(th, c->threads, &cur);
		if (now - last >= 10000000ull) {
			d.pkts = cur.pkts - prev.pkts;
			d.bytes = cur.bytes - prev.bytes;
			d.batches = cur.batches - prev.batches;
			d.drops = cur.drops - prev.drops;
			pg_report_interval(c, (now - start) / 1e9, &d, (now - last) / 1e9);
			prev = cur;
			last = now;
		}
		next += step;
		if (next <= now)
			next = now + step;
	}
}

int main(int argc, char **argv)
{
	struct pg_conf c;
	struct pg_thread *th;
	struct sigaction sa;
	int status;

	status = pg_parse_args(argc, argv, &c);
	if (status == 1)
		return 0;
	if (status)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;   /* no SA_RESTART: sleeps return early */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	th = calloc(c.threads, sizeof(*th));
	if (!th)
		return 1;
	status = 0;
	for (unsigned i = 0; i < c.threads && !status; i++) {
		th[i].id = (int)i;
		th[i].conf = &c;
		th[i].peer_closed_at = UINT64_MAX;
		if (open_one(&c, &th[i], i))
			status = 1;
	}
	if (!status && c.wait_s) {
		uint64_t end = pg_now_ns() + c.wait_s * 1000000000ull;

		while (!pg_stopping() && pg_now_ns() < end)
			pg_sleep_ns(10000000ull);
	}
	if (!status) {
		budget = c.count;
		budget_on = c.count != 0;
		if (start_workers(&c, th))
			status = 1;
	}
	if (!status) {
		report_loop(&c, th);
		for (unsigned i = 0; i < c.threads; i++)
			pthread_join(th[i].tid, NULL);
		status = pg_report_summary(&c, th, c.threads);
		if (c.func == PG_PING) {
			pg_report_rtt(&c, &th[0]);
			if (th[0].c.pkts && !th[0].rtt_count) {
				fprintf(stderr, PG_NAME ": no reply to any ping\n");
				status = 1;
			}
		}
	}
	for (unsigned i = 0; i < c.threads; i++) {
		unm_close(th[i].port);
		pg_gen_free(&th[i].gen);
		free(th[i].scratch);
		free(th[i].rtt);
	}
	free(th);
	return status;
}
