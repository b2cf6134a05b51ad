// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a hostile client. One process writes random values into
 * its CSB, ring headers and slots and syncs/kicks, re-opening a new port
 * each time unmd errors the old one, while two honest ports A -> B carry
 * a sequence-checked stream. unmd must survive, error (and cut off) the
 * hostile ports only, and the honest stream must lose nothing. The
 * hostile process must see -EIO (port errored) or -ECONNRESET, never hang.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unm.h>
#include "unm-internal.h"
#include "../lib/test.h"
#include "../lib/unmd.h"

struct shared {
	volatile int stop;
	volatile long errored, reopened, syncs;
};

static uint64_t rnd_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Our own region header gets vandalised too: keep what we need. */
static uint64_t ctl_end, csb_ofs;
static uint32_t buf_count;

static void remember(struct unm_port *p)
{
	ctl_end = unm_region_hdr(&p->reg)->buf_pool_ofs;
	csb_ofs = unm_region_hdr(&p->reg)->csb_ofs;
	buf_count = unm_region_hdr(&p->reg)->buf_count;
}

static void vandalise(struct unm_port *p)
{
	struct unm_csb *csb = (struct unm_csb *)((char *)p->reg.base + csb_ofs);
	unsigned nent = 2, k = (unsigned)(rnd() % 6);
	struct unm_csb *e = &csb[rnd() % nent];
	struct unm_ring *tx = p->tx[0].ring;

	switch (k) {
	case 0: /* random head/cur, sometimes in range */
		e->a2h.head = rnd() & 1 ? (uint32_t)(rnd() % 1024) : (uint32_t)rnd();
		e->a2h.cur = (uint32_t)rnd();
		break;
	case 1: /* random slots in the TX ring, then a plausible head */
		for (int i = 0; i < 64; i++) {
			struct unm_slot *s = &tx->slot[rnd() % 1024];

			s->buf_idx = rnd() & 1 ? (uint32_t)(rnd() % buf_count) : (uint32_t)rnd();
			s->len = (uint16_t)rnd();
			s->flags = (uint16_t)rnd();
		}
		e = &csb[0];
		e->a2h.head = (uint32_t)(rnd() % 1024);
		break;
	case 2: /* random bytes anywhere in the control area */
		for (int i = 0; i < 32; i++)
			((uint8_t *)p->reg.base)[rnd() % ctl_end] = (uint8_t)rnd();
		break;
	case 3: /* notification flags and the host's half */
		e->a2h.appl_need_kick = (uint32_t)rnd();
		e->h2a.kern_need_kick = (uint32_t)rnd();
		e->h2a.hwtail = (uint32_t)rnd();
		break;
	case 4: /* valid-looking frames with random MACs */
		for (int i = 0; i < 32; i++) {
			uint32_t j = (uint32_t)(rnd() % 1024);
			uint32_t idx = tx->slot[j].buf_idx;
			char *b = kr_buf(&p->tx[0], idx);

			if (idx >= 2 && idx < buf_count)
				for (int q = 0; q < 64; q++)
					b[q] = (char)rnd();
			tx->slot[j].len = 64;
			tx->slot[j].flags = 0;
		}
		break;
	default: /* ordinary syncs on a garbled ring */
		tx->head = (uint32_t)(rnd() % 1200);
		tx->cur = tx->head;
		break;
	}
}

static int hostile(struct shared *sh)
{
	struct unm_port *p;
	char name[64];
	int gen = 0;

	rnd_state ^= (uint64_t)getpid() << 20;
	snprintf(name, sizeof(name), "vale0:h%d", gen++);
	p = t_open(name);
	remember(p);
	while (!sh->stop) {
		int rc;

		vandalise(p);
		rc = unm_txsync(p, UNM_RING_ALL);
		if (rc == 0 || rc == -EINVAL)
			rc = unm_rxsync(p, UNM_RING_ALL);
		if (rc == 0 || rc == -EINVAL)
			rc = unm_wait(p, UNM_WAIT_RX, 1);
		sh->syncs++;
		if (rc == -EIO || rc == -ECONNRESET) {
			sh->errored++;
			unm_close(p);
			snprintf(name, sizeof(name), "vale0:h%d", gen++);
			if (unm_open(name, &p, NULL))
				return 4;
			remember(p);
			sh->reopened++;
		} else if (rc < 0 && rc != -EINVAL) {
			printf("hostile: unexpected %d\n", rc);
			return 5;
		}
	}
	unm_close(p);
	return 0;
}

int main(void)
{
	struct shared *sh = t_shared(sizeof(*sh));
	static uint8_t f[128], r[70000];
	struct unm_ctl_port_info pa, pb;
	struct unm_port *a, *b;
	uint8_t mb[6];
	uint32_t next = 0, seq = 0;
	long junk = 0;
	pid_t d, h;
	int st;

	t_watchdog(30);
#ifdef VALE_HOSTILE_POLICY /* vale-hostile-policy.c */
	setenv("UNMD_CSB_RX_MODERATION", "50", 1);
	setenv("UNMD_CSB_YIELD", "5", 1);
#endif
	d = t_unmd_start(NULL);
	a = t_open("vale0:a");
	b = t_open("vale0:b@conf:rx-slots=4096");
	t_mac(mb, 2);
	T_ASSERT_EQ(t_send(b, f, t_frame(f, 60, (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 2, 0), 1000), 0);
	T_ASSERT_EQ(t_recv(a, r, sizeof(r), 2000), 60);
	if ((h = fork()) == 0)
		_exit(hostile(sh));
	for (double end = t_now() + 3; t_now() < end;) {
		T_ASSERT_EQ(t_blast(a, mb, 1, seq, 128, 60, 5000), 128);
		seq += 128;
		while (next < seq) {
			long n = t_recv(b, r, sizeof(r), 2000);

			if (n <= 0)
				T_FAIL("honest stream: frame %u lost (recv %ld)", next, n);
			if (n != 60 || r[11] != 1 || r[12] != 0x88) {
				junk++;
				continue;
			}
			T_ASSERT_EQ(t_frame_check(r, 60), next);
			next++;
		}
		while (a && t_recv(a, r, sizeof(r), 0) > 0)
			; /* floods from the hostile side */
	}
	sh->stop = 1;
	T_ASSERT_EQ(waitpid(h, &st, 0), h);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		T_FAIL("hostile process failed (0x%x)", st);
	printf("honest frames %u, junk seen by B %ld, hostile syncs %ld errored %ld\n", next,
	       junk, sh->syncs, sh->errored);
	T_ASSERT(sh->errored > 0);
	T_ASSERT_EQ(kill(d, 0), 0); /* unmd alive */
	T_ASSERT_EQ(t_port_info("vale0:a", &pa), 0);
	T_ASSERT_EQ(t_port_info("vale0:b", &pb), 0);
	T_ASSERT_EQ(pa.tx_frames, seq + 0);
	T_ASSERT_EQ(pa.drops[UNM_DROP_DST_FULL] + pa.drops[UNM_DROP_DST_ERR], 0);
	T_ASSERT_EQ(pa.bad_ring + pb.bad_ring, 0);
	unm_close(a);
	unm_close(b);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("ok\n");
	return 0;
}
