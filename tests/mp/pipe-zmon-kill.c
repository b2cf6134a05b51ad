// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a zero-copy monitor killed with SIGKILL while it holds
 * frames does not stall the pipe. The monitor of "NAME{ID/z" consumes a
 * few hundred frames of each direction, then stops releasing and tells
 * the parent, which sees both TX rings blocked on frames in flight and
 * kills it. Traffic resumes within a second: every frame of both
 * directions is delivered exactly once and in order, and the buffer
 * indexes of all four rings are still a permutation. A new monitor can
 * then attach to the same end and sees the traffic that follows.
 */
#include "zmon-common.h"

#define LEN 60
#define HOLD 300 /* frames per direction the monitor releases before holding */

static char mname[96], sname[96], zname[100];

static int monitor(void *arg, int ready)
{
	int hold = arg != NULL;
	struct unm_port *z;
	uint64_t seen[2] = { 0, 0 };
	double end = t_now() + 10;
	char c = 'r';

	if (unm_open(zname, &z, NULL))
		return printf("monitor open: %s\n", unm_errmsg()), 10;
	if (write(ready, &c, 1) != 1)
		return 11;
	for (;;) {
		if (t_now() > end)
			return 12;
		unm_wait(z, UNM_WAIT_RX, 10);
		for (unsigned d = 0; d < 2; d++) {
			struct unm_ring *r = unm_ring_get(z, 0, d);
			uint32_t i = r->head;

			while (i != r->tail && (!hold || seen[d] < HOLD)) {
				i = unm_ring_next(r, i);
				seen[d]++;
			}
			unm_ring_advance(r, i);
		}
		if (hold && seen[0] >= HOLD && seen[1] >= HOLD) {
			unm_rxsync(z, UNM_RING_ALL); /* release exactly HOLD, keep the rest */
			c = 'h';
			if (write(ready, &c, 1) != 1)
				return 13;
			for (;;)
				pause(); /* holding frames until SIGKILLed */
		}
		if (!hold && seen[0] >= 1000 && seen[1] >= 1000) {
			unm_close(z);
			return 0;
		}
	}
}

static int recv_seq(struct unm_port *p, uint64_t *seq, uint32_t nb)
{
	int rc = pc_recv(p, 0, seq, LEN, nb);

	T_ASSERT(rc >= 0);
	return rc;
}

/* Run both directions until each peer got TOTAL frames. */
static void traffic(struct unm_port *m, struct unm_port *s, uint64_t seq[4], uint64_t total,
		    struct zm_kid *k)
{
	double end = t_now() + 5;
	struct pollfd pfd = { .fd = k ? k->ready : -1, .events = POLLIN };
	uint32_t nb = pc_nbufs(m);

	while (seq[1] < total || seq[3] < total) {
		int moved = 0;

		if (t_now() > end)
			T_FAIL("stuck: %llu/%llu %llu/%llu", (unsigned long long)seq[0],
			       (unsigned long long)seq[1], (unsigned long long)seq[2],
			       (unsigned long long)seq[3]);
		for (int d = 0; d < 2; d++) {
			uint64_t left = total - seq[2 * d];

			if (left)
				moved += pc_send(d ? s : m, 0, &seq[2 * d], left < 128 ? (unsigned)left : 128,
						 LEN) > 0;
		}
		moved += recv_seq(s, &seq[1], nb) > 0;
		moved += recv_seq(m, &seq[3], nb) > 0;
		if (k && poll(&pfd, 1, 0) == 1) {
			struct unm_ring *mt = unm_ring_get(m, 1, 0), *st = unm_ring_get(s, 1, 0);
			char c;

			T_ASSERT_EQ(read(k->ready, &c, 1), 1);
			T_ASSERT_EQ(c, 'h');
			/* frames in flight on both sides: the TX rings stay blocked */
			for (int i = 0; i < 20; i++) {
				zm_pump(m, s);
				usleep(1000);
			}
			T_ASSERT(unm_tx_pending(mt) && unm_tx_pending(st));
			T_ASSERT(seq[1] < seq[0] && seq[3] < seq[2]);
			printf("monitor holds %llu + %llu frames; SIGKILL\n",
			       (unsigned long long)(seq[0] - seq[1]), (unsigned long long)(seq[2] - seq[3]));
			kill(k->pid, SIGKILL);
			T_ASSERT_EQ(pc_reap(k->pid, 5), 128 + SIGKILL);
			k = NULL;
			end = t_now() + 1; /* traffic must resume within a second */
		}
		if (!moved)
			usleep(20);
	}
	T_ASSERT(!k);
}

int main(void)
{
	struct unm_port *m, *s;
	uint64_t seq[4] = { 0, 0, 0, 0 }; /* sent/received master->slave, slave->master */
	struct zm_kid k, k2;

	t_watchdog(30);
	pc_light = 0;
	snprintf(mname, sizeof(mname), "%s{1", t_uniq("zmonkill"));
	snprintf(sname, sizeof(sname), "%s", mname);
	*strchr(sname, '{') = '}';
	snprintf(zname, sizeof(zname), "%s/z", sname); /* monitor the slave end */
	k = zm_spawn(monitor, (void *)1);
	k2 = zm_spawn(monitor, NULL); /* forked now: children never inherit a port */
	T_ASSERT_EQ(unm_open(mname, &m, NULL), 0);
	T_ASSERT_EQ(unm_open(sname, &s, NULL), 0);
	T_ASSERT_EQ(zm_start(&k, m, s), 'r');
	traffic(m, s, seq, 20000, &k);
	zm_check_perm(m, s);
	printf("after SIGKILL: %llu + %llu frames delivered once, in order\n",
	       (unsigned long long)seq[1], (unsigned long long)seq[3]);
	/* a new monitor attaches once the old one drained */
	T_ASSERT_EQ(zm_start(&k2, m, s), 'r');
	traffic(m, s, seq, 40000, NULL);
	T_ASSERT_EQ(pc_reap(k2.pid, 5), 0);
	while (unm_tx_pending(unm_ring_get(m, 1, 0)) || unm_tx_pending(unm_ring_get(s, 1, 0)))
		zm_pump(m, s);
	zm_check_perm(m, s);
	unm_close(s);
	unm_close(m);
	printf("ok\n");
	return 0;
}
