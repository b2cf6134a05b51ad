// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a hostile zero-copy monitor. A forked process opens
 * "NAME{ID/z" and for ~1.5 s writes random values into everything it
 * can reach of its monitor side (m_hwcur, m_hwtail, need_wake flags,
 * monitor slots, ring head/cur/tail and constant fields), mixed with
 * honest releases, then exits. Meanwhile the parent streams frames both
 * ways. The pipe ends must never crash, their syncs return only 0, the
 * bad m_hwcur values must be counted (bad_ring on the monitored end),
 * the peer must see nothing bad (no bad_buf/bad_ring), every frame must
 * arrive exactly once and in order, and the buffer indexes of all four
 * rings must still be a permutation.
 */
#include <stdbool.h>
#include "../mp/zmon-common.h"
#include "../lib/hostile.h"

#define LEN 64

static char mname[96], sname[96], zname[100];

static int hostile(void *arg, int ready)
{
	struct unm_port *z;
	double end = t_now() + (PC_SANITIZED ? 1.0 : 1.5);
	char c = 'r';
	unsigned long writes = 0;

	(void)arg;
	t_rnd_seed(t_rnd_state ^ (uint64_t)getpid());
	if (unm_open(zname, &z, NULL))
		return printf("monitor open: %s\n", unm_errmsg()), 10;
	if (write(ready, &c, 1) != 1)
		return 11;
	/* ring pointers and sizes cached: we scribble on the headers */
	struct unm_ring *rs[2] = { unm_ring_get(z, 0, 0), unm_ring_get(z, 0, 1) };
	uint32_t nss[2] = { rs[0]->num_slots, rs[1]->num_slots };

	while (t_now() < end) {
		unsigned d0 = (unsigned)(rnd() % 2);
		struct unm_ring *r = rs[d0];
		struct unm_zmon_ctl *mc = (struct unm_zmon_ctl *)((char *)r - sizeof(*mc));
		uint32_t ns = nss[d0], *w;

		switch (rnd() % 8) {
		case 0: case 1:
			UNM_WRITE_ONCE(mc->m_hwcur, nasty(ns));
			break;
		case 2:
			w = (uint32_t *)mc + rnd() % 32; /* anything in the block */
			UNM_WRITE_ONCE(*w, nasty(ns));
			break;
		case 3:
			r->slot[rnd() % ns].buf_idx = nasty(1u << 20);
			r->slot[rnd() % ns].len = (uint16_t)rnd();
			break;
		case 4:
			w = (uint32_t *)r + rnd() % 8; /* header: constants, head, cur, tail */
			UNM_WRITE_ONCE(*w, nasty(ns));
			break;
		default: /* honest: release everything we were given */
			unm_rxsync(z, UNM_RING_ALL);
			for (unsigned d = 0; d < 2; d++) {
				struct unm_ring *q = rs[d];
				uint32_t t = q->tail;

				if (t < nss[d])
					unm_ring_advance(q, t);
			}
			unm_rxsync(z, UNM_RING_ALL);
			usleep(50);
			continue;
		}
		writes++;
	}
	printf("hostile monitor: %lu random writes\n", writes);
	_exit(0); /* no close: like a crash, but the socket hangs up */
}

int main(void)
{
	struct unm_port *m, *s;
	struct unm_port_stats sm = { .sz = sizeof(sm) }, ss = { .sz = sizeof(ss) };
	uint64_t seq[4] = { 0, 0, 0, 0 };
	struct zm_kid k;
	bool alive = true;
	double end;
	uint32_t nb;
	int st;

	t_watchdog(30);
	snprintf(mname, sizeof(mname), "%s{1", t_uniq("zmonhostile"));
	snprintf(sname, sizeof(sname), "%s", mname);
	*strchr(sname, '{') = '}';
	snprintf(zname, sizeof(zname), "%s/z", mname);
	k = zm_spawn(hostile, NULL);
	T_ASSERT_EQ(unm_open(mname, &m, NULL), 0);
	T_ASSERT_EQ(unm_open(sname, &s, NULL), 0);
	nb = pc_nbufs(m);
	T_ASSERT_EQ(zm_start(&k, m, s), 'r');
	end = t_now() + 8;
	while (alive || seq[1] < seq[0] || seq[3] < seq[2] || seq[0] < 5000) {
		int moved = 0;

		if (t_now() > end)
			T_FAIL("stuck: %llu/%llu %llu/%llu", (unsigned long long)seq[0],
			       (unsigned long long)seq[1], (unsigned long long)seq[2],
			       (unsigned long long)seq[3]);
		if (alive && waitpid(k.pid, &st, WNOHANG) == k.pid) {
			if (!WIFEXITED(st) || WEXITSTATUS(st))
				T_FAIL("hostile monitor: status %#x", st);
			alive = false;
		}
		if (alive || seq[0] < 5000) {
			moved += pc_send(m, 0, &seq[0], 64, LEN) > 0;
			moved += pc_send(s, 0, &seq[2], 16, LEN) > 0;
		} else {
			/* flush: the last frames need a txsync each side */
			T_ASSERT_EQ(unm_txsync(m, 0), 0);
			T_ASSERT_EQ(unm_txsync(s, 0), 0);
		}
		moved += (st = pc_recv(s, 0, &seq[1], LEN, nb)) > 0;
		T_ASSERT(st >= 0);
		moved += (st = pc_recv(m, 0, &seq[3], LEN, nb)) > 0;
		T_ASSERT(st >= 0);
		if (!moved)
			usleep(20);
	}
	while (unm_tx_pending(unm_ring_get(m, 1, 0)) || unm_tx_pending(unm_ring_get(s, 1, 0)))
		zm_pump(m, s);
	zm_check_perm(m, s);
	unm_port_stats(m, &sm);
	unm_port_stats(s, &ss);
	printf("frames %llu + %llu delivered once; monitored end: bad_ring %llu; slave end: "
	       "bad_ring %llu\n", (unsigned long long)seq[1], (unsigned long long)seq[3],
	       (unsigned long long)sm.bad_ring, (unsigned long long)ss.bad_ring);
	T_ASSERT(sm.bad_ring + ss.bad_ring > 0);
	T_ASSERT_EQ(sm.bad_buf + sm.bad_len + ss.bad_buf + ss.bad_len, 0);
	unm_close(s);
	unm_close(m);
	printf("ok\n");
	return 0;
}
