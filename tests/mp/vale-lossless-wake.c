// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: lossless backpressure wakes the switch again. A sender
 * keeps its TX ring full of broadcast (then unicast) frames toward one
 * receiver that takes everything it finds with one sync and then sleeps,
 * as unm-pktgen and vale_tput do: the switch keeps filling the
 * receiver's ring and holding the rest back, over and over. unmd runs
 * with UNMD_IDLE_TIMEOUT_MS at ten minutes, so a lost wake-up or a
 * reservation that refuses free room (a stale room read once did, and
 * the flood then crawled at the pace of the 1 s safety net) hangs the
 * transfer; each side waits up to 30 s for the other. Six rounds, each
 * on a switch of its own: isolated ports and trust-domain members, with
 * lossless switched on after the sender's port opened and before either
 * port opened (a port opened on a lossless switch must get every
 * lossless path: backpressure instead of drops, and the wake-ups), and
 * isolated -> member, member -> isolated with lossless on before. The
 * receiver also checks that nothing was lost or added.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"
#include "unm-internal.h"
#include "unm-domain.h"

#define NF 200000u

static int receiver(const char *sw, bool dom, volatile int *ready, uint32_t total)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	char name[64];
	struct unm_port *b;

	snprintf(name, sizeof(name), "%s:b%s", sw, dom ? "" : "@conf:domain=none");
	b = t_open(name);
	struct unm_ring *r = unm_ring_get(b, 0, 0);
	uint8_t f[64];

	uint32_t got = 0;

	t_frame(f, 60, bcast, 2, 0); /* announce b's MAC */
	if (t_send(b, f, 60, 1000))
		return 2;
	*ready = 1;
	while (got < total) {
		if (unm_rxsync(b, 0) < 0)
			return 3;
		if (unm_ring_empty(r)) {
			if (unm_wait(b, UNM_WAIT_RX, 30000) == 0) {
				printf("receiver: nothing for 30 s after %u of %u frames\n", got, total);
				return 4;
			}
			continue;
		}
		got += unm_ring_space(r);
		unm_ring_advance(r, r->tail);
	}
	/* lossless: nothing beyond what was sent either */
	usleep(50000);
	unm_rxsync(b, 0);
	if (got != total || !unm_ring_empty(r)) {
		printf("receiver: %u frames and %u more, %u sent\n", got, unm_ring_space(r), total);
		return 5;
	}
	unm_close(b);
	return 0;
}

/* One round on switch SW, sender a -> receiver b: each a member of one
 * trust domain (DOMAIN, BDOM) or an isolated port; lossless switched on
 * BEFORE either port opens, or after the sender's. */
static void round_on(const char *sw, bool domain, bool bdom, bool before)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	volatile int *ready = t_shared(sizeof(int));
	struct unm_port *a;
	struct unm_ring *t;
	uint8_t bmac[6];
	char name[64];
	pid_t rx;
	int st;
	double t0 = t_now();

	T_ASSERT_EQ(t_ctl(UNM_CTL_SWITCH_ADD, sw, "", 0), 0);
	if (domain || bdom)
		T_ASSERT_EQ(t_ctl(UNM_CTL_SWITCH_SET, sw, "domains", 1), 0);
	if (before)
		T_ASSERT_EQ(t_ctl(UNM_CTL_SWITCH_SET, sw, "lossless", 1), 0);
	if ((rx = fork()) == 0)
		_exit(receiver(sw, bdom, ready, 2 * NF));
	while (!*ready)
		usleep(1000);
	snprintf(name, sizeof(name), "%s:a%s", sw, domain ? "" : "@conf:domain=none");
	a = t_open(name);
	T_ASSERT_EQ(!!unm_dom_member_of(a), domain);
	if (!before)
		T_ASSERT_EQ(t_ctl(UNM_CTL_SWITCH_SET, sw, "lossless", 1), 0);
	t = unm_ring_get(a, 1, 0);
	t_mac(bmac, 2);
	for (int pass = 0; pass < 2; pass++) {
		const uint8_t *dst = pass ? bmac : bcast;

		for (uint32_t i = 0; i < t->num_slots; i++) /* write the frame once */
			t->slot[i].len = (uint16_t)t_frame((uint8_t *)unm_buf(t, t->slot[i].buf_idx),
							   60, dst, 1, 0);
		for (uint32_t sent = 0; sent < NF;) {
			uint32_t k = unm_ring_space(t);

			if (k > NF - sent)
				k = NF - sent;
			if (k) {
				uint32_t i = t->head + k;

				/* a domain swaps buffers: the free ones that come
				 * back hold whatever the receiver left in them */
				for (uint32_t q = 0, x = t->head; domain && q < k; q++) {
					t->slot[x].len = (uint16_t)t_frame(
						(uint8_t *)unm_buf(t, t->slot[x].buf_idx), 60, dst, 1, 0);
					t->slot[x].flags = 0;
					x = x + 1 == t->num_slots ? 0 : x + 1;
				}

				unm_ring_advance(t, i >= t->num_slots ? i - t->num_slots : i);
				sent += k;
			}
			T_ASSERT_EQ(unm_txsync(a, 0), 0);
			if (unm_ring_empty(t) && unm_wait(a, UNM_WAIT_TX, 30000) == 0)
				T_FAIL("%s, %s, lossless %s: pass %d: no TX room for 30 s after %u of "
				       "%u frames: the switch did not resume", sw,
				       domain ? (bdom ? "domain" : "domain -> isolated") : bdom ? "isolated -> domain" : "isolated", before ? "before" : "after",
				       pass, sent, NF);
		}
	}
	/* a domain member's TX moves only in its own syncs: finish it */
	for (double end = t_now() + 30; unm_ring_space(t) != t->num_slots - 1;) {
		if (t_now() > end)
			T_FAIL("%s: the last frames not taken in 30 s", sw);
		T_ASSERT_EQ(unm_txsync(a, 0), 0);
		unm_wait(a, UNM_WAIT_TX, 100);
	}
	T_ASSERT_EQ(waitpid(rx, &st, 0), rx);
	{
		struct unm_port_stats ps = { .sz = sizeof(ps) };

		unm_port_stats(a, &ps);
		printf("sender: %llu frames, %llu dropped\n", (unsigned long long)ps.tx_frames,
		       (unsigned long long)ps.drops);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		T_FAIL("%s (%s ports, lossless on %s they opened): the receiver failed (%d): "
		       "frames dropped", sw, domain ? (bdom ? "domain" : "domain -> isolated") : bdom ? "isolated -> domain" : "isolated",
		       before ? "before" : "after", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	unm_close(a);
	printf("%s: %s ports, lossless on %s the sender opened: %u frames, none lost "
	       "(%.2f s)\n", sw, domain ? (bdom ? "domain" : "domain -> isolated") : bdom ? "isolated -> domain" : "isolated", before ? "before" : "after",
	       2 * NF, t_now() - t0);
}

int main(void)
{
	pid_t d;

	t_watchdog(240);
	setenv("UNMD_IDLE_TIMEOUT_MS", "600000", 1);
	d = t_unmd_start(NULL);
	round_on("vale0", false, false, false);
	round_on("vale1", false, false, true);
	round_on("vale2", true, true, false);
	round_on("vale3", true, true, true);
	round_on("vale4", false, true, true); /* unmd waits for a member's ring */
	round_on("vale5", true, false, true); /* a member waits for unmd (UP) */
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("ok\n");
	return 0;
}
