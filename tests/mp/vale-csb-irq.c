// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: notification suppression on a CSB port, host side: unmd
 * interrupts a client once per arm, not once per forwarding round until
 * the client runs. A receiver that armed (appl_need_kick set) and then
 * does not sync for a while (asleep, descheduled, or just slow to wake)
 * gets exactly one interrupt however many rounds deliver to it meanwhile;
 * once it has synced and armed again, the next delivery interrupts it
 * again. Counted with the port's irqs counter (unm_ctl_port_info), no
 * timing involved: each burst is consumed by the switch (a round of its
 * own) before the next is sent.
 */
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"

#define BURSTS 20
#define PER_BURST 10

/* Wait until unmd counts RX frames toward PORT, return its info. */
static void info_when(const char *port, uint64_t rx, struct unm_ctl_port_info *pi)
{
	for (int i = 0; i < 5000; i++) {
		T_ASSERT_EQ(t_port_info(port, pi), 0);
		if (pi->rx_frames >= rx)
			return;
		usleep(1000);
	}
	T_FAIL("%s: %llu frames counted, %llu expected", port, (unsigned long long)pi->rx_frames,
	       (unsigned long long)rx);
}

int main(void)
{
	uint8_t mac_b[6], r[2048];
	struct unm_ctl_port_info pi;
	struct unm_port *a, *b;
	unsigned got = 0;
	uint64_t irqs0;
	pid_t d;

	t_watchdog(60);
	d = t_unmd_start(NULL);
	a = t_open("vale0:a@conf:slots=256");
	b = t_open("vale0:b@conf:slots=256");
	t_mac(mac_b, 2);
	/* b announces its MAC (a unicast path: one destination, no flood) */
	{
		uint8_t f[60], bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

		t_frame(f, sizeof(f), bcast, 2, 0);
		T_ASSERT_EQ(t_send(b, f, sizeof(f), 2000), 0);
		info_when("vale0:a", 1, &pi);
	}
	/* b arms: an rxsync on its empty ring sets appl_need_kick */
	T_ASSERT_EQ(unm_rxsync(b, UNM_RING_ALL), 0);
	T_ASSERT_EQ(t_port_info("vale0:b", &pi), 0);
	irqs0 = pi.irqs_tx;
	for (unsigned k = 0; k < BURSTS; k++)
		T_ASSERT_EQ(t_blast(a, mac_b, 1, k * PER_BURST, PER_BURST, 60, 5000), PER_BURST);
	info_when("vale0:b", BURSTS * PER_BURST, &pi);
	T_ASSERT_EQ(pi.rx_frames, BURSTS * PER_BURST);
	/* one arm, one interrupt (it was one per burst) */
	T_ASSERT_EQ(pi.irqs_tx - irqs0, 1);

	/* b wakes: the interrupt is there, then every frame in order */
	T_ASSERT(unm_wait(b, UNM_WAIT_RX, 2000) > 0);
	while (got < BURSTS * PER_BURST) {
		long n = t_recv(b, r, sizeof(r), 2000);

		T_ASSERT_EQ(n, 60);
		T_ASSERT_EQ(t_frame_check(r, (size_t)n), got);
		got++;
	}
	/* released and armed again (the ring is empty): the next delivery
	 * interrupts again, once */
	T_ASSERT_EQ(unm_rxsync(b, UNM_RING_ALL), 0);
	T_ASSERT_EQ(t_port_info("vale0:b", &pi), 0);
	irqs0 = pi.irqs_tx;
	for (unsigned k = 0; k < 3; k++)
		T_ASSERT_EQ(t_blast(a, mac_b, 1, got + k * PER_BURST, PER_BURST, 60, 5000),
			    PER_BURST);
	info_when("vale0:b", (BURSTS + 3) * PER_BURST, &pi);
	T_ASSERT_EQ(pi.irqs_tx - irqs0, 1);
	T_ASSERT(unm_wait(b, UNM_WAIT_RX, 2000) > 0);
	unm_close(a);
	unm_close(b);
	t_unmd_stop(d);
	printf("ok\n");
	return 0;
}
