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
 * transfer; each side waits up to 30 s for the other.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"

#define NF 200000u

static int receiver(volatile int *ready, uint32_t total)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct unm_port *b = t_open("vale0:b");
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
	unm_close(b);
	return 0;
}

int main(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	volatile int *ready = t_shared(sizeof(int));
	struct unm_port *a;
	struct unm_ring *t;
	uint8_t bmac[6];
	pid_t d, rx;
	int st;

	t_watchdog(240);
	setenv("UNMD_IDLE_TIMEOUT_MS", "600000", 1);
	d = t_unmd_start(NULL);
	if ((rx = fork()) == 0)
		_exit(receiver(ready, 2 * NF));
	while (!*ready)
		usleep(1000);
	a = t_open("vale0:a");
	T_ASSERT_EQ(t_ctl(UNM_CTL_SWITCH_SET, "vale0", "lossless", 1), 0);
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

				unm_ring_advance(t, i >= t->num_slots ? i - t->num_slots : i);
				sent += k;
			}
			T_ASSERT_EQ(unm_txsync(a, 0), 0);
			if (unm_ring_empty(t) && unm_wait(a, UNM_WAIT_TX, 30000) == 0)
				T_FAIL("pass %d: no TX room for 30 s after %u of %u frames: the switch "
				       "did not resume", pass, sent, NF);
		}
	}
	T_ASSERT_EQ(waitpid(rx, &st, 0), rx);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	unm_close(a);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("ok\n");
	return 0;
}
