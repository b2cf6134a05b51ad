// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a trust-domain member publishes a long run in pieces while
 * it still holds the destination's claim (lib/domain.c, push_member: the
 * ctail word keeps the holder's token while its rx_hwtail half advances
 * every DOM_PUB_CHUNK slots), so the receiver works on the first frames
 * while the sender still swaps the rest. The test hook
 * UNM_TEST_DOM_STALL_MS=400 stalls the holder before its last publish:
 * (1) the receiver gets all but the last piece of a 600-frame run before
 * the sender's txsync returns, then the rest: every frame once, in order,
 * the claim free afterwards. (2) The sender is SIGKILLed in that stall:
 * the receiver keeps exactly the published prefix (in order, nothing
 * garbled, none of the swapped-in but unpublished frames), unmd clears the
 * dead holder's claim and another member's frames reach the ring again;
 * every buffer of the domain is in exactly one slot afterwards. Without
 * mid-run publishing the receiver gets nothing before the txsync returns.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"
#include "unm-internal.h"
#include "../lib/domain.h"

#define STALL_MS "400"
#define RUN 600u
#define MIN_EARLY 256u /* all but the last piece: the pieces are smaller */

struct shm {
	volatile uint32_t go, done;
};

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* Child: open a member with the stall hook, queue RUN frames to DST with
 * seq SEQ0.. in its TX ring and hand them over in one txsync. */
static void sender(struct shm *sh, const char *name, const uint8_t dst[6], uint32_t seq0)
{
	struct unm_port *p;
	struct unm_ring *tx;
	uint32_t i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setenv("UNM_TEST_DOM_STALL_MS", STALL_MS, 1);
	p = t_open(name);
	T_ASSERT(unm_dom_member_of(p));
	tx = unm_ring_get(p, 1, 0);
	T_ASSERT(unm_ring_space(tx) >= RUN);
	i = tx->head;
	for (uint32_t k = 0; k < RUN; k++, i = unm_ring_next(tx, i))
		tx->slot[i].len = (uint16_t)t_frame((uint8_t *)unm_slot_buf(tx, i), 60, dst, 9,
						    seq0 + k);
	unm_ring_advance(tx, i);
	sh->go = 1;
	T_ASSERT_EQ(unm_txsync(p, 0), 0); /* claim, pieces, stall, last publish */
	sh->done = 1;
	pause(); /* alive: its rings keep their buffers for the count */
	_exit(0);
}

static struct unm_dom_member *rm; /* the receiver's member block */

/* Take what R has; every frame must be the next of SRC's sequence *NEXT.
 * *HELD (if given) counts the frames taken while R's ring was still
 * claimed: published before the holder's last publish, which releases
 * the claim in the same CAS. */
static unsigned take(struct unm_port *r, unsigned src, uint32_t *next, int ms, unsigned *held)
{
	uint8_t b[2048];
	unsigned got = 0;
	long n;

	while ((n = t_recv(r, b, sizeof(b), ms)) > 0) {
		long s = t_frame_check(b, (size_t)n);

		if (n != 60 || b[11] != src || s != (long)*next)
			T_FAIL("got a stale, garbled or out-of-order frame: %ld bytes from %u, "
			       "seq %ld, %u expected", n, n > 11 ? b[11] : 0, s, *next);
		if (held && unm_dom_ct_token(__atomic_load_n(&rm->ctail, __ATOMIC_ACQUIRE)))
			(*held)++;
		(*next)++;
		got++;
	}
	T_ASSERT(n == 0);
	return got;
}

int main(void)
{
	struct shm *sh = t_shared(4096);
	uint8_t f[128], mr[6];
	struct unm_port *rp, *q;
	struct unm_dom_layout l;
	struct unm_dom_hdr *h;
	uint32_t next = 1;
	unsigned early = 0, got = 0, held = 0;
	pid_t d, c, c2;
	int st;
	double t0;

	t_watchdog(60);
	d = t_unmd_start(NULL);
	t_mac(mr, 2);
	t_dom_switch("vale0");
	rp = t_open("vale0:r");
	T_ASSERT(unm_dom_member_of(rp));
	/* r makes itself known: the senders' runs are unicast to it */
	T_ASSERT_EQ(t_send(rp, f, t_frame(f, 60, bcast, 2, 0), 1000), 0);
	h = unm_dom_hdr(rp->reg.base);
	T_ASSERT_EQ(unm_dom_layout(h->max_members, h->nslots, h->buf_size, &l), 0);
	T_ASSERT(l.nslots > RUN);
	rm = unm_dom_member(rp->reg.base, &l, unm_dom_member_of(rp) - 1);

	/* (1) published in pieces, the last after the stall */
	if ((c = fork()) == 0)
		sender(sh, "vale0:s", mr, 1);
	while (!sh->go)
		usleep(200);
	t0 = t_now();
	while (!sh->done && t_now() < t0 + 5)
		got += take(rp, 9, &next, 5, &held);
	got += take(rp, 9, &next, 300, &held);
	printf("run of %u frames: %u received while the sender held the claim, %u after\n",
	       RUN, held, got - held);
	if (held < MIN_EARLY)
		T_FAIL("only %u of %u frames before the holder's last publish: the run was not "
		       "published in pieces", held, RUN);
	T_ASSERT_EQ(got, RUN);
	T_ASSERT_EQ(unm_dom_ct_token(__atomic_load_n(&rm->ctail, __ATOMIC_ACQUIRE)), 0);
	T_ASSERT_EQ(kill(c, SIGKILL), 0);
	T_ASSERT_EQ(waitpid(c, &st, 0), c);

	/* (2) the holder dies in its stall: the published prefix stays */
	sh->go = sh->done = 0;
	next = 1;
	if ((c2 = fork()) == 0)
		sender(sh, "vale0:s2", mr, 1);
	while (!sh->go)
		usleep(200);
	early = 0;
	t0 = t_now();
	while (early < MIN_EARLY && t_now() < t0 + 5)
		early += take(rp, 9, &next, 5, NULL);
	T_ASSERT(!sh->done); /* still in its stall */
	T_ASSERT_EQ(kill(c2, SIGKILL), 0);
	T_ASSERT_EQ(waitpid(c2, &st, 0), c2);
	early += take(rp, 9, &next, 200, NULL);
	printf("holder killed in its stall: %u of %u frames received (the published "
	       "pieces)\n", early, RUN);
	T_ASSERT(early >= MIN_EARLY && early < RUN);
	/* unmd clears the dead holder's claim; another member gets through */
	q = t_open("vale0:q");
	T_ASSERT(unm_dom_member_of(q));
	next = 1;
	got = 0;
	t0 = t_now();
	for (uint32_t s = 1; got < 20 && t_now() < t0 + 5; s++) {
		T_ASSERT_EQ(t_send(q, f, t_frame(f, 60, mr, 5, s), 1000), 0);
		usleep(10000);
		got += take(rp, 5, &next, 1, NULL); /* held back while claimed, never dropped */
	}
	printf("after the kill: %u frames of another member received (%.0f ms)\n", got,
	       (t_now() - t0) * 1000);
	T_ASSERT(got >= 20);

	/* every buffer of the domain in exactly one slot (all quiet now) */
	t_dom_check_buffers(rp->reg.base, &l);

	unm_close(q);
	unm_close(rp);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("PASS\n");
	return 0;
}
