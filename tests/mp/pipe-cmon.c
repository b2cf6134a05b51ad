// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: copy monitors of a pipe end that unmd does not serve
 * ("monitor:NAME{ID", "/t", "/r"). The parent owns both ends; forked
 * children open the monitors. (1) A monitor of both directions, paced by
 * the test so its ring never fills, sees exactly the frames each side
 * sent (count, order, bytes; TX copies flagged UNM_NS_TXMON, RX copies
 * not) while both peers receive everything, and nothing is dropped.
 * (2) A /t monitor that never reads and writes a bad release index and
 * garbage slots: the pipe moves 20000 frames at full speed and loses
 * none, the master counts the copies it dropped and the bad index once.
 * (3) That monitor is SIGKILLed: the pipe keeps working, and a new /r
 * monitor attaches and sees the slave's frames.
 */
#include "zmon-common.h"

#define LEN   60
#define BATCH 64
#define N1    3000

static char mname[96], sname[96], bothname[120], tname[100], rname[100];

/* Phase 1: read BATCH frames of each direction, check them, ack. */
static int watcher(void *arg, int ready)
{
	struct unm_port *z;
	uint64_t seen[2] = { 0, 0 }, next = BATCH;
	double end = t_now() + 8;
	char c = 'r';

	(void)arg;
	if (unm_open(bothname, &z, NULL))
		return printf("monitor open: %s\n", unm_errmsg()), 10;
	if (unm_ring_get(z, 0, 0)->num_slots < 2 * BATCH)
		return 11;
	if (write(ready, &c, 1) != 1)
		return 11;
	while (seen[0] < N1 || seen[1] < N1) {
		if (t_now() > end)
			return printf("monitor saw %llu/%llu\n", (unsigned long long)seen[0],
				      (unsigned long long)seen[1]), 12;
		unm_wait(z, UNM_WAIT_RX, 10);
		for (unsigned d = 0; d < 2; d++) {
			struct unm_ring *r = unm_ring_get(z, 0, d);
			uint32_t i = r->head;

			for (; i != r->tail; i = unm_ring_next(r, i), seen[d]++) {
				struct unm_slot *s = &r->slot[i];
				uint16_t want = d == 0 ? UNM_NS_TXMON : 0;

				if (s->len != LEN || (s->flags & UNM_NS_TXMON) != want ||
				    pc_check(unm_buf(r, s->buf_idx), seen[d] + (d ? 1000000 : 0), LEN))
					return printf("bad copy dir %u seq %llu len %u flags %x\n", d,
						      (unsigned long long)seen[d], s->len, s->flags), 13;
			}
			unm_ring_advance(r, i);
		}
		if (seen[0] >= next && seen[1] >= next) {
			c = 'a';
			if (write(ready, &c, 1) != 1)
				return 14;
			next += BATCH;
		}
	}
	unm_rxsync(z, UNM_RING_ALL);
	unm_close(z);
	return 0;
}

/* Phase 2: open, say ready, never read. */
static int sleeper(void *arg, int ready)
{
	struct unm_port *z;
	char c = 'r';

	if (unm_open((const char *)arg, &z, NULL))
		return printf("monitor open: %s\n", unm_errmsg()), 10;
	/* hostile: a release index out of range, garbage in every slot (the
	 * producer must count the one and never read the others) */
	struct unm_ring *r = unm_ring_get(z, 0, 0);
	struct unm_zmon_ctl *mc = (struct unm_zmon_ctl *)((char *)r - sizeof(*mc));

	for (uint32_t i = 0; i < r->num_slots; i++)
		r->slot[i] = (struct unm_slot){ .buf_idx = 0xfffffff0u, .len = 0xffff };
	__atomic_store_n(&mc->m_hwcur, 0xdeadbeefu, __ATOMIC_RELEASE);
	if (write(ready, &c, 1) != 1)
		return 11;
	for (;;)
		pause();
}

/* Phase 3: a /r monitor of the master sees the slave's frames from FIRST. */
static int rwatch(void *arg, int ready)
{
	struct unm_port *z;
	uint64_t seq = *(uint64_t *)arg, got = 0;
	double end = t_now() + 8;
	char c = 'r';

	if (unm_open(rname, &z, NULL))
		return printf("monitor open: %s\n", unm_errmsg()), 10;
	if (write(ready, &c, 1) != 1)
		return 11;
	while (got < BATCH) {
		struct unm_ring *r = unm_ring_get(z, 0, 0);
		uint32_t i;

		if (t_now() > end)
			return 12;
		unm_wait(z, UNM_WAIT_RX, 10);
		for (i = r->head; i != r->tail && got < BATCH; i = unm_ring_next(r, i), got++)
			if ((r->slot[i].flags & UNM_NS_TXMON) ||
			    pc_check(unm_buf(r, r->slot[i].buf_idx), seq + got, LEN))
				return 13;
		unm_ring_advance(r, i);
	}
	unm_close(z);
	return 0;
}

/* Sync both ends for 20 ms: their service paths run. */
static void settle(struct unm_port *m, struct unm_port *s)
{
	double end = t_now() + 0.02;

	while (t_now() < end) {
		zm_pump(m, s);
		usleep(500);
	}
}

static uint64_t stat_of(struct unm_port *p, int bad_ring)
{
	struct unm_port_stats st = { .sz = sizeof(st) };

	T_ASSERT_EQ(unm_port_stats(p, &st), 0);
	return bad_ring ? st.bad_ring : st.drops;
}
#define drops(p) stat_of(p, 0)

/* Send up to TOTAL frames each way (sequences seq[0] m->s, seq[2] s->m,
 * slave's from 1000000), receive and check everything. */
static void run(struct unm_port *m, struct unm_port *s, uint64_t seq[4], uint64_t tm,
		uint64_t ts)
{
	double end = t_now() + 5;
	uint32_t nb = pc_nbufs(m);

	while (seq[1] < tm || seq[3] < ts) {
		int moved = 0;

		T_ASSERT(t_now() < end);
		if (seq[0] < tm)
			moved += pc_send(m, 0, &seq[0], tm - seq[0] < 256 ? (unsigned)(tm - seq[0]) : 256,
					 LEN) > 0;
		if (seq[2] < ts)
			moved += pc_send(s, 0, &seq[2], ts - seq[2] < 256 ? (unsigned)(ts - seq[2]) : 256,
					 LEN) > 0;
		int a = pc_recv(s, 0, &seq[1], LEN, nb), b = pc_recv(m, 0, &seq[3], LEN, nb);

		T_ASSERT(a >= 0 && b >= 0);
		moved += a + b > 0;
		if (!moved)
			usleep(20);
	}
}

int main(void)
{
	struct unm_port *m, *s;
	uint64_t seq[4] = { 0, 0, 1000000, 1000000 };
	uint64_t first;
	struct zm_kid k1, k2, k3;
	double t0, dt;
	char c;

	t_watchdog(30);
	snprintf(mname, sizeof(mname), "%s{1", t_uniq("cmon"));
	snprintf(sname, sizeof(sname), "%s", mname);
	*strchr(sname, '{') = '}';
	snprintf(bothname, sizeof(bothname), "monitor:%s", mname);
	snprintf(tname, sizeof(tname), "%s/t", mname);
	snprintf(rname, sizeof(rname), "%s/r", mname);
	/* forked before any port is open: children never inherit one */
	k1 = zm_spawn(watcher, NULL);
	k2 = zm_spawn(sleeper, tname);
	first = 1000000 + N1 + 5000; /* the slave's next frame when k3 attaches */
	k3 = zm_spawn(rwatch, &first);
	T_ASSERT_EQ(unm_open(mname, &m, NULL), 0);
	T_ASSERT_EQ(unm_open(sname, &s, NULL), 0);

	/* (1) paced: exactly the frames sent, nothing dropped */
	T_ASSERT_EQ(zm_start(&k1, m, s), 'r');
	for (uint64_t b = BATCH; b <= N1; b += BATCH) {
		struct pollfd pfd = { .fd = k1.ready, .events = POLLIN };

		run(m, s, seq, b, 1000000 + b);
		T_ASSERT_EQ(poll(&pfd, 1, 5000), 1);
		T_ASSERT_EQ(read(k1.ready, &c, 1), 1);
		T_ASSERT_EQ(c, 'a');
	}
	run(m, s, seq, N1, 1000000 + N1); /* the tail beyond the last batch */
	T_ASSERT_EQ(pc_reap(k1.pid, 5), 0);
	T_ASSERT_EQ(drops(m) + drops(s), 0);
	printf("paced monitor: %d + %d frames copied exactly, no drop\n", N1, N1);

	/* (2) a monitor that never reads: full speed, nothing lost */
	settle(m, s); /* k1's hang-up is noticed (else k2 would get EBUSY) */
	T_ASSERT_EQ(zm_start(&k2, m, s), 'r');
	t0 = t_now();
	run(m, s, seq, N1 + 20000, 1000000 + N1);
	dt = t_now() - t0;
	printf("stalled monitor: 20000 frames in %.3f s, %llu copies dropped\n", dt,
	       (unsigned long long)drops(m));
	T_ASSERT(drops(m) >= 20000 - unm_ring_get(m, 1, 0)->num_slots);
	T_ASSERT_EQ(drops(s), 0);
	T_ASSERT_EQ(stat_of(m, 1), 1); /* the bad m_hwcur, counted once */

	/* (3) SIGKILL: the pipe keeps working; a new monitor attaches */
	kill(k2.pid, SIGKILL);
	T_ASSERT_EQ(pc_reap(k2.pid, 5), 128 + SIGKILL);
	run(m, s, seq, N1 + 25000, 1000000 + N1 + 5000);
	T_ASSERT_EQ(seq[2], first);
	settle(m, s); /* the hang-up is noticed: the end takes a new monitor */
	T_ASSERT_EQ(zm_start(&k3, m, s), 'r');
	run(m, s, seq, N1 + 25000 + BATCH, 1000000 + N1 + 5000 + BATCH);
	T_ASSERT_EQ(pc_reap(k3.pid, 5), 0);
	unm_close(s);
	unm_close(m);
	printf("ok\n");
	return 0;
}
