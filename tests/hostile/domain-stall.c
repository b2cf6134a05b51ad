// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: an honest trust-domain member descheduled between its swap
 * and its publish keeps its claim on the destination ring, however long
 * (lib/domain.c's test hook UNM_TEST_DOM_STALL_MS=400 makes the stall,
 * eight times unmd's hold threshold), while an isolated port sends to the
 * same destination through unmd all along: the destination gets the
 * stalled member's frame exactly once, the isolated frames in order and
 * nothing stale, garbled or duplicated; the member lost nothing (its
 * tx_lost counter) and every buffer of the domain is in exactly one slot
 * afterwards. (unmd used to clear a claim held 50 ms by a live member:
 * its own copy then went into the slot the member had swapped into, and
 * the member's late publish moved the ring's tail backwards.)
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"
#include "unm-internal.h"
#include "../lib/domain.h"

#define STALL_MS "400"
#define CHILD_SEQ 7777u

struct shm {
	volatile uint32_t go, done;
	volatile uint64_t lost;
};

int main(void)
{
	struct shm *sh = t_shared(4096);
	uint8_t f[128], r[2048], mr[6];
	const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct unm_port *rp, *iso;
	uint32_t seq = 1, last_iso = 0, child_got = 0, iso_got = 0, iso_after = 0;
	struct unm_dom_layout l;
	struct unm_dom_hdr *h;
	double done_at = 0;
	pid_t d, c;
	int st;
	long n;

	t_watchdog(60);
	d = t_unmd_start(NULL);
	t_mac(mr, 2);
	t_dom_switch("vale0");
	rp = t_open("vale0:r");
	iso = t_open("vale0:iso@conf:domain=none");
	T_ASSERT(unm_dom_member_of(rp) && !unm_dom_member_of(iso));
	/* both make themselves known (the domain's table and the switch's) */
	T_ASSERT_EQ(t_send(rp, f, t_frame(f, 60, bc, 2, 0), 1000), 0);
	T_ASSERT_EQ(t_send(iso, f, t_frame(f, 60, bc, 3, 0), 1000), 0);
	usleep(100000);
	while (t_recv(rp, r, sizeof(r), 50) > 0)
		;
	while (t_recv(iso, r, sizeof(r), 50) > 0)
		;

	if ((c = fork()) == 0) {
		struct unm_port *p;
		struct unm_dom_layout pl;
		struct unm_dom_hdr *ph;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setenv("UNM_TEST_DOM_STALL_MS", STALL_MS, 1);
		p = t_open("vale0:s");
		ph = unm_dom_hdr(p->reg.base);
		T_ASSERT_EQ(unm_dom_layout(ph->max_members, ph->nslots, ph->buf_size, &pl), 0);
		sh->go = 1;
		/* the sync claims r's ring, swaps, stalls 400 ms, publishes */
		T_ASSERT_EQ(t_send(p, f, t_frame(f, 60, mr, 9, CHILD_SEQ), 2000), 0);
		sh->lost = unm_dom_member(p->reg.base, &pl, unm_dom_member_of(p) - 1)->tx_lost;
		sh->done = 1;
		pause(); /* alive: its rings keep their buffers for the count */
		_exit(0);
	}
	while (!sh->go)
		usleep(200);
	/* the isolated port sends to r all along, and r takes what comes */
	for (;;) {
		if (sh->done && !done_at)
			done_at = t_now();
		if (done_at && t_now() > done_at + 0.3)
			break;
		T_ASSERT_EQ(t_send(iso, f, t_frame(f, 60, mr, 3, seq), 1000), 0);
		seq++;
		usleep(1000);
		while ((n = t_recv(rp, r, sizeof(r), 1)) > 0) {
			long s = t_frame_check(r, (size_t)n);

			if (n == 60 && r[11] == 9 && s == CHILD_SEQ) {
				child_got++;
			} else if (n == 60 && r[11] == 3 && s > (long)last_iso && s < (long)seq) {
				last_iso = (uint32_t)s;
				iso_got++;
				iso_after += done_at != 0;
			} else {
				T_FAIL("r got a stale, garbled or duplicated frame: %ld bytes from %u, "
				       "seq %ld (last isolated seq %u)", n, n > 11 ? r[11] : 0, s,
				       last_iso);
			}
		}
	}
	printf("stalled member's frame received %u time(s); %u of %u isolated frames "
	       "(%u after the stall); member's tx_lost %llu\n", child_got, iso_got, seq - 1,
	       iso_after, (unsigned long long)sh->lost);
	if (child_got != 1)
		T_FAIL("the stalled member's frame arrived %u times (once expected): its claim "
		       "was taken while it held it", child_got);
	T_ASSERT_EQ(sh->lost, 0);
	T_ASSERT(iso_after > 0);

	/* every buffer of the domain in exactly one slot (all quiet now) */
	h = unm_dom_hdr(rp->reg.base);
	T_ASSERT_EQ(unm_dom_layout(h->max_members, h->nslots, h->buf_size, &l), 0);
	t_dom_check_buffers(rp->reg.base, &l);

	T_ASSERT_EQ(kill(c, SIGKILL), 0);
	T_ASSERT_EQ(waitpid(c, &st, 0), c);
	unm_close(rp);
	unm_close(iso);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("PASS\n");
	return 0;
}
