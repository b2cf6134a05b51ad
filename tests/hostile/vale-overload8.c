// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: exact accounting with 8 senders and one receiver, all on
 * 64-slot rings (vale-overload.c has 2 senders and unicast only). Each
 * sender sends NF frames to the receiver's MAC, every 8th one broadcast
 * instead (copies to the receiver and to the 7 other senders, which
 * drain their RX rings and count what they get). Run in drop mode, then
 * in lossless mode on a fresh unmd. For every port, from unmd's counters:
 *   tx_frames + tx_extra_copies == tx_delivered + sum(drops)
 * and only dst_full drops; over the switch sum(tx_delivered) ==
 * sum(rx_frames); every process counted exactly its port's rx_frames,
 * intact and in order per sender. Lossless: no drop at all, and every
 * frame of every sender reached the receiver.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"

#define NS 8
#define NF 6000u
#define RX_ID 100

struct shared {
	volatile int ready[NS + 1], go, announced, stop, done[NS];
	volatile long count[NS + 1], bad[NS + 1];
};

static struct shared *sh;

/* Drain RX ring 0; check per-sender order. Returns frames taken. */
static unsigned drain(struct unm_port *p, int me, uint32_t next[NS], bool lossless)
{
	struct unm_ring *r = unm_ring_get(p, 0, 0);
	unsigned n = 0;

	unm_rxsync(p, 0);
	while (!unm_ring_empty(r)) {
		struct unm_slot *s = &r->slot[r->head];
		const uint8_t *b = (const uint8_t *)unm_buf(r, s->buf_idx);
		long seq = t_frame_check(b, s->len);
		unsigned src = b[11] - 1u;

		if (b[11] == RX_ID && seq == 0)
			; /* the receiver's announcement */
		else if (seq < 0 || src >= NS || (uint32_t)seq < next[src] ||
		    (lossless && me == NS && (uint32_t)seq != next[src]))
			sh->bad[me]++;
		else
			next[src] = (uint32_t)seq + 1;
		sh->count[me]++;
		n++;
		unm_ring_advance(r, unm_ring_next(r, r->head));
	}
	return n;
}

static int proc(int me, bool lossless)
{
	char name[64];
	struct unm_port *p;
	uint32_t next[NS] = { 0 }, seq = 0;
	uint8_t rx[6], bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	double idle = 0;

	snprintf(name, sizeof(name), "vale0:%c%d@conf:slots=64", me == NS ? 'r' : 's', me);
	p = t_open(name);
	t_mac(rx, RX_ID);
	sh->ready[me] = 1;
	while (!sh->go)
		usleep(1000);
	if (me == NS) { /* the receiver: announce, then drain slowly */
		uint8_t f[64];

		t_frame(f, 60, bc, RX_ID, 0);
		if (t_send(p, f, 60, 1000))
			return 2;
		sh->announced = 1;
	}
	while (!sh->announced)
		usleep(1000);
	while (!sh->stop || idle == 0 || t_now() - idle < 0.3) {
		struct unm_ring *tx = unm_ring_get(p, 1, 0);
		unsigned moved = drain(p, me, next, lossless);

		if (me < NS && seq < NF) {
			uint32_t i = tx->head;

			for (; seq < NF && i != tx->tail; i = unm_ring_next(tx, i), seq++) {
				t_frame((uint8_t *)unm_buf(tx, tx->slot[i].buf_idx), 60,
					seq % 8 == 7 ? bc : rx, (unsigned)me + 1, seq);
				tx->slot[i].len = 60;
				tx->slot[i].flags = 0;
				moved++;
			}
			unm_ring_advance(tx, i);
		}
		if (unm_txsync(p, 0) < 0)
			return 3;
		if (me < NS && seq == NF && !unm_tx_pending(tx))
			sh->done[me] = 1;
		if (moved) {
			idle = 0;
		} else {
			if (sh->stop && idle == 0)
				idle = t_now();
			unm_wait(p, UNM_WAIT_RX | UNM_WAIT_TX, 5);
		}
		if (me == NS && !lossless)
			usleep(300); /* a slow receiver */
	}
	while (sh->ready[0]) /* parent clears ready[0] once it read counters */
		usleep(1000);
	usleep(300000);
	unm_close(p);
	return 0;
}

static void run(bool lossless)
{
	struct unm_ctl_port_info pi[NS + 1];
	uint64_t deliv = 0, rxs = 0, drops_all = 0, extra = 0, rx_recv;
	pid_t d, kids[NS + 1];
	int st;

	memset(sh, 0, sizeof(*sh));
	d = t_unmd_start(NULL);
	if (lossless) { /* the switch must exist to be set: a placeholder port */
		T_ASSERT_EQ(t_ctl(UNM_CTL_PORT_ADD, "vale0:z", NULL, 0), 0);
		T_ASSERT_EQ(t_ctl(UNM_CTL_SWITCH_SET, "vale0", "lossless", 1), 0);
	}
	for (int i = 0; i <= NS; i++)
		if ((kids[i] = fork()) == 0)
			_exit(proc(i, lossless));
	/* once every port is there (the switch would go with its last port, and
	 * its setting with it), before the senders start: a clientless port
	 * would block floods for ever in lossless mode */
	for (int i = 0; i <= NS; i++)
		while (!sh->ready[i])
			usleep(1000);
	if (lossless)
		T_ASSERT_EQ(t_ctl(UNM_CTL_PORT_DEL, "vale0:z", NULL, 0), 0);
	sh->go = 1;
	for (double end = t_now() + 40;;) {
		int done = 0;

		for (int i = 0; i < NS; i++)
			done += sh->done[i];
		if (done == NS)
			break;
		for (int i = 0; i <= NS; i++)
			if (waitpid(kids[i], &st, WNOHANG) == kids[i])
				T_FAIL("process %d exited early (0x%x)", i, st);
		T_ASSERT(t_now() < end);
		usleep(5000);
	}
	sh->stop = 1;
	usleep(600000); /* everyone idle for 0.3 s: the switch is drained */
	for (int i = 0; i <= NS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "vale0:%c%d", i == NS ? 'r' : 's', i);
		T_ASSERT_EQ(t_port_info(name, &pi[i]), 0);
	}
	sh->ready[0] = 0;
	for (int i = 0; i <= NS; i++) {
		uint64_t dr = 0;

		for (int k = 0; k < UNM_DROP__COUNT; k++)
			dr += pi[i].drops[k];
		T_ASSERT_EQ(pi[i].tx_frames + pi[i].tx_extra_copies, pi[i].tx_delivered + dr);
		T_ASSERT_EQ(dr, pi[i].drops[UNM_DROP_DST_FULL]);
		T_ASSERT_EQ((long)pi[i].rx_frames, sh->count[i]);
		if (sh->bad[i])
			T_FAIL("%s: process %d saw %ld bad frames", lossless ? "lossless" : "drop", i,
			       sh->bad[i]);
		if (i < NS)
			T_ASSERT_EQ(pi[i].tx_frames, NF);
		deliv += pi[i].tx_delivered;
		rxs += pi[i].rx_frames;
		drops_all += dr;
		extra += pi[i].tx_extra_copies;
	}
	T_ASSERT_EQ(deliv, rxs);
	rx_recv = pi[NS].rx_frames;
	printf("%s: %u senders x %u frames: delivered %llu (receiver %llu), dropped %llu "
	       "(dst_full), extra copies %llu\n", lossless ? "lossless" : "drop", NS, NF,
	       (unsigned long long)deliv, (unsigned long long)rx_recv,
	       (unsigned long long)drops_all,
	       (unsigned long long)extra);
	if (lossless) {
		T_ASSERT_EQ(drops_all, 0);
		T_ASSERT_EQ(rx_recv, (uint64_t)NS * NF);
	} else {
		T_ASSERT(drops_all > 0);
	}
	for (int i = 0; i <= NS; i++) {
		T_ASSERT_EQ(waitpid(kids[i], &st, 0), kids[i]);
		T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	T_ASSERT_EQ(t_unmd_stop(d), 0);
}

int main(void)
{
	t_watchdog(55);
	sh = t_shared(sizeof(*sh));
	run(false);
	run(true);
	printf("ok\n");
	return 0;
}
