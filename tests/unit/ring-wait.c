// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: unm_ring_wait(), the per-ring sleep for one thread per
 * ring on a shared handle: -EINVAL for a ring that is not bound, 0 at once
 * with timeout 0 and after about the timeout otherwise, 1 with a frame;
 * and two threads sleeping at the same time on rings 0 and 1 of one pipe
 * end (one wake eventfd for both) each wake up for their own frame, round
 * after round, although either may drain the other's wake-up.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <unm.h>
#include "../lib/test.h"

#define ROUNDS 30

static struct unm_port *rxp;
static uint64_t woke[2][ROUNDS];
static int rcs[2][ROUNDS];
static pthread_barrier_t bar;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *waiter(void *arg)
{
	unsigned ring = (unsigned)(uintptr_t)arg;
	struct unm_ring *r = unm_ring_get(rxp, 0, ring);

	for (int k = 0; k < ROUNDS; k++) {
		pthread_barrier_wait(&bar);
		rcs[ring][k] = unm_ring_wait(rxp, 0, ring, 5000);
		woke[ring][k] = now_ns();
		unm_ring_advance(r, r->tail);  /* consume, release at the next sync */
		unm_rxsync(rxp, (int)ring);
		pthread_barrier_wait(&bar);
	}
	return NULL;
}

static void send_one(struct unm_port *p, unsigned ring)
{
	struct unm_ring *r = unm_ring_get(p, 1, ring);

	T_ASSERT(unm_ring_space(r) > 0);
	memset(unm_slot_buf(r, r->head), 0xab, 60);
	r->slot[r->head].len = 60;
	unm_ring_advance(r, unm_ring_next(r, r->head));
	T_ASSERT_EQ(unm_txsync(p, (int)ring), 0);
}

int main(void)
{
	char a[64], b[64];
	struct unm_port *txp;
	pthread_t th[2];
	uint64_t t0, worst = 0;
	int rc;

	t_watchdog(30);
	snprintf(a, sizeof(a), "rwait%d}0@conf:rings=2", (int)getpid());
	snprintf(b, sizeof(b), "rwait%d{0", (int)getpid());
	rc = unm_open(a, &rxp, NULL);
	if (rc == -EPROTONOSUPPORT)
		T_SKIP("pipes are not built into this libunm");
	T_ASSERT_EQ(rc, 0);
	T_ASSERT_EQ(unm_open(b, &txp, NULL), 0);

	T_ASSERT_EQ(unm_ring_wait(rxp, 0, 2, 0), -EINVAL);
	T_ASSERT_EQ(unm_ring_wait(rxp, 0, 0, 0), 0);
	t0 = now_ns();
	T_ASSERT_EQ(unm_ring_wait(rxp, 0, 1, 30), 0);
	T_ASSERT(now_ns() - t0 >= 25000000ull);
	T_ASSERT_EQ(unm_ring_wait(rxp, 1, 0, 0), 1);   /* TX ring with room */

	pthread_barrier_init(&bar, NULL, 3);
	for (uintptr_t i = 0; i < 2; i++)
		T_ASSERT_EQ(pthread_create(&th[i], NULL, waiter, (void *)i), 0);
	for (int k = 0; k < ROUNDS; k++) {
		unsigned first = (unsigned)k & 1;
		uint64_t sent[2];

		pthread_barrier_wait(&bar);
		usleep(2000 + (k % 3) * 1000);      /* both asleep (armed) by now */
		sent[first] = now_ns();
		send_one(txp, first);
		usleep(3000);
		sent[!first] = now_ns();
		send_one(txp, !first);
		pthread_barrier_wait(&bar);
		for (int r = 0; r < 2; r++) {
			if (rcs[r][k] != 1)
				T_FAIL("round %d ring %d: unm_ring_wait returned %d", k, r, rcs[r][k]);
			if (woke[r][k] < sent[r])
				T_FAIL("round %d ring %d woke before its frame was sent", k, r);
			if (woke[r][k] - sent[r] > worst)
				worst = woke[r][k] - sent[r];
		}
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	printf("ok: %d rounds, two threads on one handle, worst wake-up %.2f ms\n", ROUNDS,
	       worst / 1e6);
	/* a lost wake-up costs at most one 1 ms slice; allow for a loaded host */
	T_ASSERT(worst < 500000000ull);
	unm_close(txp);
	unm_close(rxp);
	return 0;
}
