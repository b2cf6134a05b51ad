// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: TX-completion interrupt moderation on a CSB port (daemon/
 * vport_csb.c, tx_wake_later): a sender that streams into a 4096-slot TX
 * ring and sleeps in unm_wait whenever the ring is full is interrupted
 * only once at least half of its ring is free again, not at the first
 * forwarding round that took anything (512 slots). Counted with unmd's
 * irqs counter of the sending port against the frames the switch took
 * from it: at most one interrupt per half ring (plus slack for the
 * start), where interrupting at the first round made one per 512 to
 * ~1000 frames. A receiver process copies every frame (1500 bytes), so
 * the forwarding thread drains the ring at a copying pace, not at once.
 * A sender descheduled for longer than the whole drain would find the
 * ring empty either way: on a heavily loaded machine the test can pass
 * without the feature; it does not depend on timing to pass with it.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"

#define SLOTS 4096
#define LEN 1500
#define FRAMES (48ull * SLOTS)

static void receiver(volatile int *stop)
{
	struct unm_port *r = t_open("vale0:r@conf:slots=4096");
	struct unm_ring *rx = unm_ring_get(r, 0, 0);

	while (!*stop) {
		if (!unm_ring_empty(rx)) {
			unm_ring_advance(rx, rx->tail);
			if (unm_rxsync(r, UNM_RING_ALL) < 0)
				_exit(1);
			continue;
		}
		if (unm_wait(r, UNM_WAIT_RX, 100) < 0)
			_exit(1);
	}
	unm_close(r);
	_exit(0);
}

int main(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct unm_ctl_port_info pi;
	struct unm_port *s;
	struct unm_ring *tx;
	volatile int *stop;
	uint64_t sent = 0, irqs, taken;
	int status;
	pid_t d, c;

	t_watchdog(120);
	d = t_unmd_start(NULL);
	stop = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(stop != MAP_FAILED);
	*stop = 0;
	c = fork();
	T_ASSERT(c >= 0);
	if (c == 0)
		receiver(stop);
	for (int i = 0; i < 5000 && t_port_info("vale0:r", &pi) != 0; i++)
		usleep(1000); /* the receiver's port is there */
	T_ASSERT_EQ(t_port_info("vale0:r", &pi), 0);
	s = t_open("vale0:s@conf:slots=4096");
	tx = unm_ring_get(s, 1, 0);
	T_ASSERT_EQ(tx->num_slots, SLOTS);
	for (uint32_t i = 0; i < tx->num_slots; i++) { /* written once, sent many times */
		t_frame((uint8_t *)unm_buf(tx, tx->slot[i].buf_idx), LEN, bcast, 1, i);
		tx->slot[i].len = LEN;
		tx->slot[i].flags = 0;
	}
	while (sent < FRAMES) {
		uint32_t k = unm_ring_space(tx);

		if (k) {
			uint32_t i = tx->head + k;

			unm_ring_advance(tx, i >= tx->num_slots ? i - tx->num_slots : i);
			sent += k;
		}
		T_ASSERT_EQ(unm_txsync(s, UNM_RING_ALL), 0);
		if (unm_ring_empty(tx))
			T_ASSERT(unm_wait(s, UNM_WAIT_TX, 5000) > 0);
	}
	T_ASSERT_EQ(t_port_info("vale0:s", &pi), 0);
	irqs = pi.irqs_tx;
	taken = pi.tx_frames;
	printf("%llu frames taken, %llu interrupts (one per %.0f frames; moderated: >= %u)\n",
	       (unsigned long long)taken, (unsigned long long)irqs,
	       irqs ? (double)taken / (double)irqs : 0.0, SLOTS / 2);
	T_ASSERT(taken >= FRAMES - SLOTS);
	T_ASSERT(irqs >= 1);
	T_ASSERT(irqs * (SLOTS / 2) <= taken + 2 * SLOTS);
	unm_close(s);
	*stop = 1;
	T_ASSERT(waitpid(c, &status, 0) == c);
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	t_unmd_stop(d);
	printf("ok\n");
	return 0;
}
