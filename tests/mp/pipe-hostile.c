// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a hostile pipe peer. A forked process opens the other end
 * (so it maps the whole region, as any pipe end does) and for ~2 s writes
 * random values everywhere in the control area (region header, port
 * descriptors, ring head/cur/tail and constant fields, slots, pipe control
 * blocks) and into buffers, while the honest end keeps sending, receiving
 * and sleeping. The honest end must not crash, its syncs may only return
 * 0, -EINVAL (ring reset) or -EPIPE, the bad values must be counted
 * (bad_ring/bad_buf/bad_len/fixups), and after the hostile process is
 * killed the honest end sees -EPIPE. Run twice: honest end owning the
 * rendezvous, then joining it.
 */
#include <poll.h>
#include <sched.h>
#include "pipe-common.h"
#include "../lib/hostile.h"
#include "../lib/honest.h"

static void scribble(struct unm_port *p, double secs)
{
	char *base = (char *)((uintptr_t)unm_nifp(p) & ~(uintptr_t)4095);
	const struct unm_region_hdr *h = (const struct unm_region_hdr *)base;
	uint64_t pool = h->buf_pool_ofs, size = h->size, csb = h->csb_ofs;
	uint32_t nctl = h->csb_entries / 2, ns = unm_ring_get(p, 1, 0)->num_slots;
	struct unm_ring *rings[2][2];
	uint32_t *w32;
	double end = t_now() + secs;
	const struct unm_if *ifs[2] = {
		(const struct unm_if *)(base + h->if_ofs[0]), (const struct unm_if *)(base + h->if_ofs[1]),
	};

	for (int i = 0; i < 2; i++) {
		rings[i][0] = unm_txring(ifs[i], 0);
		rings[i][1] = unm_rxring(ifs[i], 0);
	}
	while (t_now() < end) {
		for (int k = 0; k < 1000; k++) {
			struct unm_ring *r = rings[rnd() & 1][rnd() & 1];
			struct unm_pipe_ctl *c = (struct unm_pipe_ctl *)(base + csb) + rnd() % nctl;
			struct unm_slot *s = &r->slot[rnd() % ns];

			switch (rnd() % 8) {
			case 0: /* anywhere in the control area */
				w32 = (uint32_t *)(base + (rnd() % (pool / 4)) * 4);
				*w32 = (uint32_t)rnd();
				break;
			case 1: c->rx_hwtail = nasty(ns); break;
			case 2: c->rx_hwcur = nasty(ns); break;
			case 3: c->prod_need_wake = (uint32_t)rnd(); c->cons_need_wake = (uint32_t)rnd(); break;
			case 4: r->head = nasty(ns); r->cur = nasty(ns); r->tail = nasty(ns); break;
			case 5: *(uint32_t *)&r->num_slots = nasty(ns); *(int64_t *)&r->buf_ofs = (int64_t)rnd(); break;
			case 6: s->buf_idx = nasty(ns * 8); s->len = (uint16_t)rnd(); s->flags = (uint16_t)rnd(); break;
			default: /* a buffer */
				*(uint64_t *)(base + pool + (rnd() % ((size - pool) / 8)) * 8) = rnd();
				break;
			}
		}
		sched_yield();
	}
}

/* The honest end: fill/consume what the rings say it owns, through
 * private geometry only, tolerate resets. Returns when both directions
 * report -EPIPE. */
struct geom { uint32_t ns, bs, nbufs; char *pool; };

/* Taken right after open, before the peer starts writing. */
static struct geom geometry(struct unm_port *p)
{
	struct unm_ring *tx = unm_ring_get(p, 1, 0);

	return (struct geom){ .ns = tx->num_slots, .bs = tx->nr_buf_size, .nbufs = pc_nbufs(p),
			      .pool = (char *)tx + tx->buf_ofs };
}

static void honest(struct unm_port *p, struct geom g, double max_secs)
{
	struct unm_ring *tx = unm_ring_get(p, 1, 0), *rx = unm_ring_get(p, 0, 0);
	const uint32_t ns = g.ns, bs = g.bs, nbufs = g.nbufs;
	char *pool = g.pool;
	double end = t_now() + max_secs;
	int tx_dead = 0, rx_dead = 0;
	uint64_t rx_frames = 0;

	while (!(tx_dead && rx_dead)) {
		int rc;

		if (t_now() >= end) {
			struct unm_port_stats st = { .sz = sizeof(st) };
			unm_port_stats(p, &st);
			printf("stuck: txdead %d rxdead %d tx head %u cur %u tail %u rx head %u cur %u tail %u "
			       "txrc %d rxrc %d bad_ring %llu\n", tx_dead, rx_dead, tx->head, tx->cur, tx->tail,
			       rx->head, rx->cur, rx->tail, unm_txsync(p, 0), unm_rxsync(p, 0),
			       (unsigned long long)st.bad_ring);
		}
		T_ASSERT(t_now() < end);
		rc = unm_txsync(p, 0);
		T_ASSERT(rc == 0 || rc == -EINVAL || rc == -EPIPE);
		tx_dead |= rc == -EPIPE;
		t_fill_guarded(tx, ns, pool, bs, nbufs, 64);
		rc = unm_rxsync(p, 0);
		T_ASSERT(rc == 0 || rc == -EINVAL || rc == -EPIPE);
		rx_dead |= rc == -EPIPE;
		uint32_t i = UNM_READ_ONCE(rx->head), t = UNM_READ_ONCE(rx->tail);
		if (i >= ns || t >= ns)
			continue; /* the next sync resets the ring */
		for (; i != t; i = i + 1 == ns ? 0 : i + 1) {
			uint32_t idx = UNM_READ_ONCE(rx->slot[i].buf_idx);

			if (idx < nbufs) /* validated by rxsync, but the peer may rewrite it since */
				rx_frames += pool[(uint64_t)idx * bs] != 0x11;
		}
		rx->head = rx->cur = i;
		if (rnd() % 16 == 0) {
			rc = unm_wait(p, UNM_WAIT_RX | UNM_WAIT_TX, 1);
			T_ASSERT(rc >= 0 || rc == -EPIPE || rc == -EINVAL);
		}
	}
	(void)rx_frames;
}

static void run(int honest_owns)
{
	char m[96], s[96], c;
	struct unm_port_stats st = { .sz = sizeof(st) };
	struct unm_port *p;
	int go[2], ready[2];
	struct pollfd pfd;
	struct geom g;
	pid_t pid;

	snprintf(m, sizeof(m), "%s{%d", t_uniq("hostile"), honest_owns);
	snprintf(s, sizeof(s), "%s}%d", t_uniq("hostile"), honest_owns);
	T_ASSERT_EQ(pipe(go), 0);
	T_ASSERT_EQ(pipe(ready), 0);
	pid = fork();
	if (pid == 0) {
		struct unm_port *hp;

		t_rnd_seed((uint64_t)getpid() * 0x9e3779b97f4a7c15ull);
		if (read(go[0], &c, 1) != 1 || unm_open(s, &hp, NULL) || write(ready[1], "r", 1) != 1)
			_exit(3);
		/* as owner: keep answering until the honest end has joined */
		pfd = (struct pollfd){ .fd = go[0], .events = POLLIN };
		while (!honest_owns && poll(&pfd, 1, 0) == 0)
			unm_wait(hp, UNM_WAIT_RX, 10);
		scribble(hp, 2.0);
		_exit(0); /* dies without unm_close, as a crash would */
	}
	t_rnd_seed(88172645463325252ull);
	if (honest_owns) {
		T_ASSERT_EQ(unm_open(m, &p, NULL), 0);
		g = geometry(p);
	}
	T_ASSERT_EQ(write(go[1], "g", 1), 1);
	pfd = (struct pollfd){ .fd = ready[0], .events = POLLIN };
	while (honest_owns && poll(&pfd, 1, 0) == 0)
		T_ASSERT(unm_wait(p, UNM_WAIT_RX, 10) >= 0);
	T_ASSERT_EQ(read(ready[0], &c, 1), 1);
	if (!honest_owns) {
		T_ASSERT_EQ(unm_open(m, &p, NULL), 0);
		g = geometry(p);
		T_ASSERT_EQ(write(go[1], "j", 1), 1);
	}
	honest(p, g, 10);
	T_ASSERT_EQ(pc_reap(pid, 5), 0);
	unm_port_stats(p, &st);
	printf("honest %s: tx %llu rx %llu frames; bad_ring %llu bad_buf %llu bad_len %llu "
	       "fixups %llu drops %llu kicks %llu\n", honest_owns ? "owner" : "joiner",
	       (unsigned long long)st.tx_frames, (unsigned long long)st.rx_frames,
	       (unsigned long long)st.bad_ring, (unsigned long long)st.bad_buf,
	       (unsigned long long)st.bad_len, (unsigned long long)st.fixups,
	       (unsigned long long)st.drops, (unsigned long long)st.kicks);
	T_ASSERT(st.bad_ring > 0);
	T_ASSERT(st.bad_buf + st.bad_len > 0);
	T_ASSERT(st.fixups > 0);
	unm_close(p);
	for (int i = 0; i < 2; i++) {
		close(go[i]);
		close(ready[i]);
	}
}

int main(void)
{
	t_watchdog(40);
	run(1);
	run(0);
	printf("ok\n");
	return 0;
}
