// SPDX-License-Identifier: BSD-2-Clause
/*
 * main.c - unm-pktgen: open the port once, load the capture of -P, give
 * each worker thread its rings (all of them with one thread, ring pair i
 * to thread i with -p), start the workers (tx/rx/ping/pong), print
 * interval statistics until they finish or a signal stops them, then the
 * summary.
 *
 * Why one open for -p: pipe ends and VALE ports can be opened only once,
 * and libunm's contract is one thread per ring, not one handle per ring.
 * The threads then cannot use unm_wait() (it syncs every ring), so they
 * sleep with unm_ring_wait() on their own ring.
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
#include <unistd.h>
#include "pktgen.h"
#include "unm-ctlmsg.h"

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

/* Open the port once: with -p N it is created (if this open creates it)
 * with N ring pairs, and must bind at least N in each direction used. */
static int open_port(const struct pg_conf *c, struct unm_port **port, struct unm_port_info *info)
{
	struct unm_open_opts o = { .sz = sizeof(o) };
	const char *name = c->ifname;
	bool need_tx = c->func != PG_RX && c->func != PG_RXSEQ;
	bool need_rx = c->func != PG_TX && c->func != PG_TXSEQ;
	int rc;

	o.tx_rings = o.rx_rings = c->threads;
	o.vnet_hdr_len = c->vnet_hdr_len;
	rc = unm_open(name, port, &o);
	if (rc) {
		fprintf(stderr, PG_NAME ": cannot open '%s': %s\n", name,
			unm_errmsg()[0] ? unm_errmsg() : unm_strerror(rc));
		return -1;
	}
	info->sz = sizeof(*info);
	unm_port_info(*port, info);
	if (info->vnet_hdr_len != c->vnet_hdr_len) {
		fprintf(stderr, PG_NAME ": %s uses a %u-byte virtio-net header, not %u\n",
			name, info->vnet_hdr_len, c->vnet_hdr_len);
		return -1;
	}
	if (c->verbose)
		fprintf(stderr, PG_NAME ": %s: type %s, %u/%u TX/RX rings (bound TX %u-%u, RX %u-%u), "
			"%u/%u slots, %u buffers of %u bytes, vnet %u\n", name, info->type,
			info->tx_rings, info->rx_rings, info->first_tx, info->last_tx, info->first_rx,
			info->last_rx, info->tx_slots, info->rx_slots, info->buf_count, info->buf_size,
			info->vnet_hdr_len);
	/* pkt-gen's default destination is broadcast, and so is ours (a
	 * pkt-gen user expects it); on a switch that means every frame is
	 * flooded to every port, taps included, which costs many times the
	 * rate without a word. Say it once. */
	if (need_tx && !c->dmac_given && !c->pcap_file && !strcmp(info->type, "vale"))
		fprintf(stderr, PG_NAME ": warning: destination MAC ff:ff:ff:ff:ff:ff (broadcast, "
			"the default): the switch floods every frame to all its ports; "
			"-D MAC sends unicast\n");
	if (c->threads > 1 &&
	    ((need_tx && info->last_tx - info->first_tx < c->threads) ||
	     (need_rx && info->last_rx - info->first_rx < c->threads))) {
		fprintf(stderr, PG_NAME ": %s binds %u %s ring(s); -p %u needs one per thread "
			"(create it with @conf:rings=%u)\n", name,
			need_tx ? info->last_tx - info->first_tx : info->last_rx - info->first_rx,
			need_tx ? "TX" : "RX", c->threads, c->threads);
		return -1;
	}
	return 0;
}

/* Thread I's rings and generator. */
static int setup_thread(const struct pg_conf *c, struct pg_thread *t, unsigned i,
			struct unm_port *port, const struct unm_port_info *info,
			const struct pg_pcap *replay)
{
	const char *name = c->ifname;
	struct pg_frame_cfg fc;

	t->port = port;
	t->shared = c->threads > 1;
	t->replay = replay;
	t->first_tx = info->first_tx, t->last_tx = info->last_tx;
	t->first_rx = info->first_rx, t->last_rx = info->last_rx;
	if (t->shared) {   /* ring pair i, or none in a direction with fewer rings */
		t->first_tx = t->first_tx + i < t->last_tx ? t->first_tx + i : t->last_tx;
		t->last_tx = t->first_tx < t->last_tx ? t->first_tx + 1 : t->last_tx;
		t->first_rx = t->first_rx + i < t->last_rx ? t->first_rx + i : t->last_rx;
		t->last_rx = t->first_rx < t->last_rx ? t->first_rx + 1 : t->last_rx;
	}
	t->buf_size = info->buf_size;
	/* a switch port's TX buffers are read by the switch, never written:
	 * a buffer that holds our frame still holds it when its slot comes
	 * back (unless the slot comes back with another buffer: txrx.c) */
	t->tx_keep_ok = !strcmp(info->type, "vale");
	bool need_tx = c->func != PG_RX && c->func != PG_RXSEQ;
	bool need_rx = c->func != PG_TX && c->func != PG_TXSEQ;

	if ((need_tx && t->first_tx == t->last_tx) || (need_rx && t->first_rx == t->last_rx)) {
		fprintf(stderr, PG_NAME ": %s has no bound %s ring\n", name,
			need_tx && t->first_tx == t->last_tx ? "TX" : "RX");
		return -1;
	}
	if (need_tx && check_frags(c, info->buf_size))
		return -1;
	memset(&fc, 0, sizeof(fc));
	fc.v6 = c->ipv6;
	fc.csum = c->csum > 0;
	fc.rand_src = c->rand_src;
	fc.rand_dst = c->rand_dst;
	fc.payload = pg_payload(c);
	fc.vnet_hdr_len = c->vnet_hdr_len;
	fc.len_min = c->len_min;
	fc.len_max = c->len_max;
	if (replay) {   /* the generator only lends its RNG */
		fc.len_min = fc.len_max = pg_frame_min_len(false, PG_PAY_NONE);
		fc.payload = PG_PAY_NONE;
	}
	memcpy(fc.dmac, c->dmac, 6);
	memcpy(fc.smac, c->smac, 6);
	if (!c->smac_given && memcmp(info->mac, "\0\0\0\0\0\0", 6))
		memcpy(fc.smac, info->mac, 6);
	fc.src = c->src;
	fc.dst = c->dst;
	if (pg_gen_init(&t->gen, &fc, pg_now_ns() ^ ((uint64_t)i << 32)) ||
	    !(t->scratch = malloc(c->len_max + c->vnet_hdr_len + 1))) {
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

/* -a CPU [-c N]: thread i on CPU (CPU + i) mod N, N = online CPUs by
 * default (netmap's pkt-gen wraps the same way). */
static int thread_cpu(const struct pg_conf *c, unsigned i)
{
	long n = c->cpus ? (long)c->cpus : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1 || n > CPU_SETSIZE)
		n = CPU_SETSIZE;
	return (int)(((long)c->cpu + (long)i) % n);
}

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
			CPU_SET(thread_cpu(c, i), &set);
			pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		}
		rc = pthread_create(&th[i].tid, &attr, worker[c->func], &th[i]);
		if (rc && c->cpu >= 0) {
			fprintf(stderr, PG_NAME ": cannot pin thread %u to cpu %d: %s\n", i,
				thread_cpu(c, i), strerror(rc));
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
static void report_loop(const struct pg_conf *c, struct pg_thread *th, struct pg_rate_acc *acc)
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
			double dt = (now - last) / 1e9, pps = d.pkts / dt;
			double bps = pg_bps(c, d.bytes, d.pkts, dt);

			pg_report_interval(c, (now - start) / 1e9, &d, dt);
			acc->n++;
			acc->pps += pps, acc->pps2 += pps * pps;
			acc->bps += bps, acc->bps2 += bps * bps;
			prev = cur;
			last = now;
		}
		next += step;
		if (next <= now)
			next = now + step;
	}
}

/* After the join: summary, ping RTT or receive latency, -A. */
static int report_end(const struct pg_conf *c, struct pg_thread *th, const struct pg_rate_acc *acc)
{
	int status = pg_report_summary(c, th, c->threads);

	if (c->func == PG_PING) {
		pg_report_lat(c, "rtt", "RTT", "transactions", &th[0].lat);
		if (th[0].c.pkts && !th[0].lat.count) {
			fprintf(stderr, PG_NAME ": no reply to any ping\n");
			status = 1;
		}
	} else if (c->ts && (c->func == PG_RX || c->func == PG_RXSEQ)) {
		struct pg_lat all = { 0 };

		for (unsigned i = 0; i < c->threads; i++)
			pg_lat_merge(&all, &th[i].lat);
		pg_report_lat(c, "latency", "Latency", "frames", &all);
		pg_lat_free(&all);
	}
	if (c->rate_stats)
		pg_report_rate_stats(c, acc);
	return status;
}

/*
 * Drops the switch counted for our port (unmd's PORT_STATS: frames this
 * port sent that were dropped, by reason): the library cannot see them,
 * and without them a sender on a switch says nothing of the frames its
 * receiver never got. Read once after the open and once before the
 * close; the difference is this run's. False if unmd did not answer.
 */
static bool switch_drops(const char *name, uint64_t d[UNM_DROP__COUNT])
{
	static uint32_t seq;
	struct unm_ctl_req req;
	struct unm_ctl_rep rep;
	bool found = false;
	int fd = unm_ctl_connect(unm_ctl_path(NULL));

	if (fd < 0)
		return false;
	unm_ctl_req_init(&req, UNM_CTL_PORT_STATS, ++seq);
	snprintf(req.name, sizeof(req.name), "%s", name);
	if (strlen(name) < sizeof(req.name) && unm_ctl_call(fd, &req, &rep, NULL, 0, 1000) == 0 &&
	    rep.status == 0) {
		for (unsigned i = 0; i < rep.n_items; i++) {
			struct unm_ctl_item it;

			if (unm_ctl_recv_item(fd, &it, seq, 1000))
				break;
			if (it.kind == UNM_CTL_ITEM_PORT && !(it.u.port.flags & UNM_CTL_PORT_MONITOR) &&
			    !found) {
				memcpy(d, it.u.port.drops, sizeof(it.u.port.drops));
				found = true;
			}
		}
	}
	close(fd);
	return found;
}

static void report_switch_drops(const struct pg_conf *c, const uint64_t d0[UNM_DROP__COUNT])
{
	static const char *const names[UNM_DROP__COUNT] = UNM_CTL_DROP_NAMES;
	uint64_t d1[UNM_DROP__COUNT], total = 0;
	char why[256] = "";
	size_t n = 0;

	if (!switch_drops(c->ifname, d1))
		return;
	for (unsigned i = 0; i < UNM_DROP__COUNT; i++) {
		uint64_t k = d1[i] - d0[i];

		total += k;
		if (k && n < sizeof(why))
			n += (size_t)snprintf(why + n, sizeof(why) - n, "%s%s %" PRIu64, n ? ", " : "",
					      names[i], k);
	}
	if (total)
		fprintf(stderr, PG_NAME ": the switch dropped %" PRIu64 " of the frames sent (%s); "
			"unm-ctl stats shows them by port\n", total, why);
}

/* A pipe end closing before its peer ever opened takes the frames it
 * sent with it (unm_open()'s contract): say so rather than let "Sent N
 * packets" suggest they arrived. */
static void note_peer_missing(const struct pg_conf *c, struct unm_port *port)
{
	struct unm_port_info info = { .sz = sizeof(info) };

	if (c->func == PG_RX || c->func == PG_RXSEQ || unm_port_info(port, &info) ||
	    info.peer != UNM_PEER_WAITING)
		return;
	fprintf(stderr, PG_NAME ": no peer ever opened the other end of %s: the frames sent "
		"are dropped with this end\n", c->ifname);
}

static int load_replay(struct pg_conf *c, struct pg_pcap *pc)
{
	char err[160];

	if (pg_pcap_load(c->pcap_file, UNM_MAX_FRAME - c->vnet_hdr_len, pc, err, sizeof(err))) {
		fprintf(stderr, PG_NAME ": %s: %s\n", c->pcap_file, err);
		return -1;
	}
	if (pc->linktype != 1)
		fprintf(stderr, PG_NAME ": %s: link type %u, not Ethernet: frames go out as captured\n",
			c->pcap_file, pc->linktype);
	if (pc->skipped)
		fprintf(stderr, PG_NAME ": %s: %llu empty or oversized records skipped\n",
			c->pcap_file, (unsigned long long)pc->skipped);
	/* the lengths -M and the buffer check see */
	c->len_min = UINT32_MAX, c->len_max = 0;
	for (size_t i = 0; i < pc->n; i++) {
		c->len_min = pc->rec[i].len < c->len_min ? pc->rec[i].len : c->len_min;
		c->len_max = pc->rec[i].len > c->len_max ? pc->rec[i].len : c->len_max;
	}
	if (c->frag_size &&
	    (c->len_max + c->vnet_hdr_len + c->frag_size - 1) / c->frag_size > UNM_MAX_FRAGS) {
		fprintf(stderr, PG_NAME ": -M %u: a %u-byte frame of %s needs more than %u fragments\n",
			c->frag_size, c->len_max, c->pcap_file, UNM_MAX_FRAGS);
		return -1;
	}
	if (c->verbose)
		fprintf(stderr, PG_NAME ": %s: %zu frames of %u..%u bytes over %.6f s (%s%s)\n",
			c->pcap_file, pc->n, c->len_min, c->len_max, pc->rec[pc->n - 1].rel_ns / 1e9,
			pc->ng ? "pcapng" : "pcap", pc->ng ? "" : pc->nsec ? ", ns" : ", us");
	return 0;
}

int main(int argc, char **argv)
{
	struct pg_conf c;
	struct pg_thread *th;
	struct sigaction sa;
	struct unm_port *port = NULL;
	struct unm_port_info info = { .sz = sizeof(info) };
	struct pg_pcap replay = { 0 };
	struct pg_rate_acc acc = { 0 };
	uint64_t drops0[UNM_DROP__COUNT];
	bool vale;
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
	if (c.pcap_file && load_replay(&c, &replay))
		status = 1;
	if (!status && open_port(&c, &port, &info))
		status = 1;
	for (unsigned i = 0; i < c.threads && !status; i++) {
		th[i].id = (int)i;
		th[i].conf = &c;
		th[i].peer_closed_at = UINT64_MAX;
		if (setup_thread(&c, &th[i], i, port, &info, c.pcap_file ? &replay : NULL))
			status = 1;
	}
	if (!status && c.wait_s) {
		uint64_t end = pg_now_ns() + c.wait_s * 1000000000ull;

		while (!pg_stopping() && pg_now_ns() < end)
			pg_sleep_ns(10000000ull);
	}
	vale = !status && !strcmp(info.type, "vale") && c.func != PG_RX && c.func != PG_RXSEQ &&
	       switch_drops(c.ifname, drops0);
	if (!status) {
		/* -P without -n: the file once */
		budget = c.count ? c.count : c.pcap_file ? replay.n : 0;
		budget_on = budget != 0;
		if (start_workers(&c, th))
			status = 1;
	}
	if (!status) {
		report_loop(&c, th, &acc);
		for (unsigned i = 0; i < c.threads; i++)
			pthread_join(th[i].tid, NULL);
		status = report_end(&c, th, &acc);
		note_peer_missing(&c, port);
		if (vale)
			report_switch_drops(&c, drops0);
	}
	unm_close(port);
	for (unsigned i = 0; i < c.threads; i++) {
		pg_gen_free(&th[i].gen);
		free(th[i].scratch);
		pg_lat_free(&th[i].lat);
	}
	pg_pcap_free(&replay);
	free(th);
	return status;
}
