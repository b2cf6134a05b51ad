// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: unm-hostile-pipe, a hostile pipe end against an honest one:
 * the hostile end writes random values everywhere in the region both ends
 * share (control lines, ring headers, slots, buffers) and dies without
 * closing; the honest end's syncs may only return 0, -EINVAL (a ring reset
 * after a bad index) or -EPIPE, and it must see the peer gone. With no -t
 * or -n, the short test make check runs (1.5 s).
 *
 *   unm-hostile-pipe [--mutations N] [--seconds S]
 *
 * Figures go to stdout (one JSON object with -j). Exit 0 when every
 * invariant held, 1 otherwise. Threads: none; the hostile end is a child
 * process.
 */
#include "unm-hostile.h"

/* The hostile end: random values everywhere in the shared region. */
static void pipe_scribble(struct unm_port *p, double secs, uint64_t max_mut)
{
	char *base = (char *)((uintptr_t)unm_nifp(p) & ~(uintptr_t)4095);
	const struct unm_region_hdr *h = (const struct unm_region_hdr *)base;
	uint64_t pool = h->buf_pool_ofs, size = h->size, csb = h->csb_ofs;
	uint32_t nctl = h->csb_entries / 2, ns = unm_ring_get(p, 1, 0)->num_slots;
	const struct unm_if *ifs[2] = {
		(const struct unm_if *)(base + h->if_ofs[0]),
		(const struct unm_if *)(base + h->if_ofs[1]),
	};
	struct unm_ring *rings[4] = { unm_txring(ifs[0], 0), unm_rxring(ifs[0], 0),
				      unm_txring(ifs[1], 0), unm_rxring(ifs[1], 0) };
	double end = t_now() + secs;

	while (t_now() < end && (!max_mut || F->mutations < max_mut)) {
		for (int k = 0; k < 1000; k++) {
			struct unm_ring *r = rings[rnd() % 4];
			struct unm_pipe_ctl *c = (struct unm_pipe_ctl *)(base + csb) + rnd() % nctl;
			struct unm_slot *s = &r->slot[rnd() % ns];

			switch (rnd() % 8) {
			case 0: *(uint32_t *)(base + (rnd() % (pool / 4)) * 4) = (uint32_t)rnd(); break;
			case 1: c->rx_hwtail = nasty(ns); break;
			case 2: c->rx_hwcur = nasty(ns); break;
			case 3: c->prod_need_wake = (uint32_t)rnd(); c->cons_need_wake = (uint32_t)rnd(); break;
			case 4: r->head = nasty(ns); r->cur = nasty(ns); r->tail = nasty(ns); break;
			case 5: *(uint32_t *)(uintptr_t)&r->num_slots = nasty(ns);
				*(int64_t *)(uintptr_t)&r->buf_ofs = (int64_t)rnd(); break;
			case 6: s->buf_idx = nasty(ns * 8); s->len = (uint16_t)rnd();
				s->flags = (uint16_t)rnd(); break;
			default:
				*(uint64_t *)(base + pool + (rnd() % ((size - pool) / 8)) * 8) = rnd();
				break;
			}
		}
		__atomic_add_fetch(&F->mutations, 1000, __ATOMIC_RELAXED);
		sched_yield();
	}
}

/* The honest end: owns what its private geometry says; any sync result but
 * 0, -EINVAL (ring reset after a bad index) or -EPIPE is a failure. */
static void pipe_honest(struct unm_port *p, uint64_t rc_count[3], uint64_t *frames)
{
	struct unm_ring *tx = unm_ring_get(p, 1, 0), *rx = unm_ring_get(p, 0, 0);
	struct unm_port_info info = { .sz = sizeof(info) };
	uint32_t ns = tx->num_slots, bs = tx->nr_buf_size, nbufs;
	char *pool = (char *)tx + tx->buf_ofs;
	double end = t_now() + O.seconds + 20;
	bool tx_dead = false, rx_dead = false;

	unm_port_info(p, &info);
	nbufs = info.buf_count;
	while (!(tx_dead && rx_dead)) {
		int rc[2];

		if (t_now() > end) {
			honest_fail("pipe: honest end still sees a live peer 20 s after the end");
			return;
		}
		rc[0] = unm_txsync(p, 0);
		*frames += t_fill_guarded(tx, ns, pool, bs, nbufs, 64);
		rc[1] = unm_rxsync(p, 0);
		uint32_t i = UNM_READ_ONCE(rx->head), t = UNM_READ_ONCE(rx->tail);
		if (i < ns && t < ns) {
			for (; i != t; i = i + 1 == ns ? 0 : i + 1)
				(*frames)++;
			rx->head = rx->cur = i;
		}
		for (int d = 0; d < 2; d++) {
			if (rc[d] == 0)
				rc_count[0]++;
			else if (rc[d] == -EINVAL)
				rc_count[1]++;
			else if (rc[d] == -EPIPE)
				rc_count[2]++;
			else
				honest_fail("pipe: sync returned %s", strerror(-rc[d]));
		}
		tx_dead |= rc[0] == -EPIPE;
		rx_dead |= rc[1] == -EPIPE;
		if (F->honest_err)
			return;
		if (rnd() % 16 == 0) {
			int w = unm_wait(p, UNM_WAIT_RX | UNM_WAIT_TX, 1);

			if (w < 0 && w != -EPIPE && w != -EINVAL)
				honest_fail("pipe: unm_wait returned %s", strerror(-w));
		}
	}
}

static int run_pipe(double secs, uint64_t max_mut)
{
	struct unm_port_stats st = { .sz = sizeof(st) };
	uint64_t rcs[3] = { 0 }, frames = 0;
	char m[96], s[96];
	struct unm_port *p;
	int fail = 0, rc;
	pid_t pid;

	memset(F, 0, sizeof(*F));
	snprintf(m, sizeof(m), "%s{1", t_uniq("uh"));
	snprintf(s, sizeof(s), "%s}1", t_uniq("uh"));
	if ((rc = unm_open(m, &p, &(struct unm_open_opts){ .sz = sizeof(struct unm_open_opts),
							  .flags = UNM_OPEN_NO_WAIT_PEER })))
		T_FAIL("open %s: %s", m, unm_errmsg());
	pid = fork();
	if (pid == 0) {
		struct unm_port *hp;

		reseed(3);
		if (unm_open(s, &hp, NULL))
			_exit(3);
		F->honest_ready = 1;
		pipe_scribble(hp, secs, max_mut);
		_exit(0); /* no unm_close: as a crash would */
	}
	reseed(4);
	pipe_honest(p, rcs, &frames);
	rc = reap(pid, 5);
	unm_port_stats(p, &st);
	unm_close(p);
	fail = rc != 0 || F->honest_err;
	if (O.json)
		printf("{\"mode\":\"pipe\",\"mutations\":%llu,\"honest_frames\":%llu,\"syncs_ok\":%llu,"
		       "\"syncs_einval\":%llu,\"syncs_epipe\":%llu,\"bad_ring\":%llu,\"bad_buf\":%llu,"
		       "\"bad_len\":%llu,\"fixups\":%llu,\"pass\":%s}\n",
		       (unsigned long long)F->mutations, (unsigned long long)frames,
		       (unsigned long long)rcs[0], (unsigned long long)rcs[1],
		       (unsigned long long)rcs[2], (unsigned long long)st.bad_ring,
		       (unsigned long long)st.bad_buf, (unsigned long long)st.bad_len,
		       (unsigned long long)st.fixups, fail ? "false" : "true");
	else
		printf("pipe: %llu mutations; honest end: %llu slots moved, syncs ok %llu / "
		       "-EINVAL %llu / -EPIPE %llu; counted bad_ring %llu bad_buf %llu bad_len %llu "
		       "fixups %llu%s%s\npipe: %s\n", (unsigned long long)F->mutations,
		       (unsigned long long)frames, (unsigned long long)rcs[0],
		       (unsigned long long)rcs[1], (unsigned long long)rcs[2],
		       (unsigned long long)st.bad_ring, (unsigned long long)st.bad_buf,
		       (unsigned long long)st.bad_len, (unsigned long long)st.fixups,
		       F->honest_err ? "; " : "", F->honest_err ? F->why : "",
		       fail ? "FAIL" : "PASS");
	if (rc)
		printf("FAIL: hostile pipe end exit %d\n", rc);
	return fail;
}

static const char usage_text[] =
"Usage: unm-hostile-pipe [OPTIONS]\n"
"A hostile pipe end against an honest one; with no -t or -n, the short\n"
"test make check runs (exit 0 pass, 1 fail).\n"
"\n"
HOSTILE_OPTS_RUN
HOSTILE_OPTS_OUT;

int main(int argc, char **argv)
{
	hostile_init(argc, argv, usage_text, false);
	if (O.selftest)
		return run_pipe(1.5, 0);
	return run_pipe(O.seconds, O.mutations);
}
