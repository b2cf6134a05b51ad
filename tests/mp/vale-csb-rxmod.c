// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: RX-completion interrupt moderation on a CSB port (daemon/
 * vport_csb.c, rx_wake_later, opt-in with UNMD_CSB_RX_MODERATION=N us):
 * a receiver asleep on a 4096-slot RX ring is interrupted once half of
 * its ring is waiting for it or the stream pauses, not at the first
 * forwarding round that filled anything (512 slots). The sender sends
 * bursts of 7/8 of a ring (3584 frames of 1500 bytes, one txsync: within
 * what the fair share lets a lone sender fill), each after the receiver
 * took the whole previous one: unmd copies a burst in seven rounds, and a
 * receiver woken at the first round wakes again for the rounds that
 * follow its re-arm (5-7 interrupts per burst). Counted with unmd's irqs counter of
 * the receiving port: at most two interrupts per burst (half a ring, then
 * the rest when the stream pauses). The hold bound is set to 1 s so that
 * a descheduled forwarding thread cannot make the test fail; a receiver
 * descheduled for a whole burst would be interrupted once per burst
 * either way: on a heavily loaded machine the test can pass without the
 * feature. Also checks that moderation loses nothing: every frame of
 * every burst arrives, the last one included (its interrupt is sent when
 * the stream pauses).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"

#define SLOTS 4096
#define LEN 1500
#define BURSTS 24
#define BURST (7 * SLOTS / 8) /* within a lone sender's share (vale_fwd.c: 16/17) */

struct shared {
	volatile int stop;
	volatile uint64_t rx;
};

static void receiver(struct shared *sh)
{
	struct unm_port *r = t_open("vale0:r@conf:slots=4096");
	struct unm_ring *rx = unm_ring_get(r, 0, 0);
	uint64_t n = 0;

	while (!sh->stop) {
		uint32_t k = unm_ring_space(rx);

		if (k) {
			unm_ring_advance(rx, rx->tail);
			if (unm_rxsync(r, UNM_RING_ALL) < 0)
				_exit(1);
			n += k;
			__atomic_store_n(&sh->rx, n, __ATOMIC_RELEASE);
			continue;
		}
		if (unm_wait(r, UNM_WAIT_RX, 100) < 0)
			_exit(1);
	}
	unm_close(r);
	_exit(0);
}

/* Frames the receiver has taken reach WANT within 10 s. */
static int taken(struct shared *sh, uint64_t want)
{
	for (int i = 0; i < 100000; i++) {
		if (__atomic_load_n(&sh->rx, __ATOMIC_ACQUIRE) >= want)
			return 1;
		usleep(100);
	}
	return 0;
}

int main(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct unm_ctl_port_info pi;
	struct unm_port *s;
	struct unm_ring *tx;
	struct shared *sh;
	uint64_t sent = 0, irqs0, irqs;
	int status;
	pid_t d, c;

	t_watchdog(120);
	setenv("UNMD_CSB_RX_MODERATION", "1000000", 1); /* hold up to 1 s */
	d = t_unmd_start(NULL);
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(sh != MAP_FAILED);
	sh->stop = 0;
	sh->rx = 0;
	c = fork();
	T_ASSERT(c >= 0);
	if (c == 0)
		receiver(sh);
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
	T_ASSERT_EQ(t_port_info("vale0:r", &pi), 0);
	irqs0 = pi.irqs_tx;
	for (int b = 0; b < BURSTS; b++) {
		uint32_t k;

		/* the TX ring is whole again: unmd took the last burst */
		for (int i = 0; i < 10000 && unm_ring_space(tx) != SLOTS - 1; i++) {
			T_ASSERT_EQ(unm_txsync(s, UNM_RING_ALL), 0);
			if (unm_ring_space(tx) != SLOTS - 1)
				usleep(1000);
		}
		T_ASSERT_EQ(unm_ring_space(tx), SLOTS - 1);
		k = BURST;
		unm_ring_advance(tx, (tx->head + k) % SLOTS);
		sent += k;
		T_ASSERT_EQ(unm_txsync(s, UNM_RING_ALL), 0);
		if (!taken(sh, sent)) {
			fprintf(stderr, "burst %d: the receiver took %llu of %llu frames\n", b,
				(unsigned long long)sh->rx, (unsigned long long)sent);
			T_ASSERT(0);
		}
	}
	T_ASSERT_EQ(t_port_info("vale0:r", &pi), 0);
	irqs = pi.irqs_tx - irqs0;
	printf("%d bursts of %u frames, all received; %llu interrupts to the receiver "
	       "(%.1f per burst; moderated: <= 2)\n", BURSTS, BURST,
	       (unsigned long long)irqs, (double)irqs / BURSTS);
	T_ASSERT(irqs <= 2 * BURSTS + 2); /* + the start */
	unm_close(s);
	sh->stop = 1;
	T_ASSERT(waitpid(c, &status, 0) == c);
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	t_unmd_stop(d);
	printf("ok\n");
	return 0;
}
