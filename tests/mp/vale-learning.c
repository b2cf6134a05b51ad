// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: VALE learning. Three ports A, B, C on a private unmd.
 * A frame from A to C's (still unknown) MAC floods to B and C; C's reply
 * to A goes to A only (A was learned from its first frame); after that,
 * A -> C is unicast: C gets it and B gets nothing. The MAC table lists
 * A and C on their ports; A's MAC sent from B right after A sent is
 * forwarded but not learned (A keeps it), and after 1 s of silence from A
 * the station move is followed. Counters add up exactly.
 */
#include <errno.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"

int main(void)
{
	uint8_t f[128], r[2048], ma[6], mb[6], mc[6];
	struct unm_ctl_port_info pa, pb, pc;
	struct unm_port *a, *b, *c;
	pid_t d;

	t_watchdog(20);
	d = t_unmd_start(NULL);
	a = t_open("vale0:a");
	b = t_open("vale0:b");
	c = t_open("vale0:c");
	t_mac(ma, 1), t_mac(mb, 2), t_mac(mc, 3);

	/* unknown destination: flood to B and C, not back to A */
	T_ASSERT_EQ(t_send(a, f, t_frame(f, 60, mc, 1, 100), 1000), 0);
	T_ASSERT_EQ(t_recv(c, r, sizeof(r), 2000), 60);
	T_ASSERT_EQ(t_frame_check(r, 60), 100);
	T_ASSERT_EQ(t_recv(b, r, sizeof(r), 2000), 60);
	T_ASSERT_EQ(t_recv(a, r, sizeof(r), 100), 0);

	/* C -> A: A is known, so only A gets it */
	T_ASSERT_EQ(t_send(c, f, t_frame(f, 64, ma, 3, 200), 1000), 0);
	T_ASSERT_EQ(t_recv(a, r, sizeof(r), 2000), 64);
	T_ASSERT_EQ(t_frame_check(r, 64), 200);
	T_ASSERT_EQ(t_recv(b, r, sizeof(r), 200), 0);

	/* A -> C now unicast */
	for (uint32_t s = 0; s < 50; s++)
		T_ASSERT_EQ(t_send(a, f, t_frame(f, 100, mc, 1, 300 + s), 1000), 0);
	for (uint32_t s = 0; s < 50; s++) {
		T_ASSERT_EQ(t_recv(c, r, sizeof(r), 2000), 100);
		T_ASSERT_EQ(t_frame_check(r, 100), 300 + s);
	}
	T_ASSERT_EQ(t_recv(b, r, sizeof(r), 200), 0);

	/* A's MAC from B while A is active: forwarded, but not moved */
	T_ASSERT_EQ(t_send(b, f, t_frame(f, 60, mc, 1, 398), 1000), 0);
	T_ASSERT_EQ(t_recv(c, r, sizeof(r), 2000), 60);
	T_ASSERT_EQ(t_send(c, f, t_frame(f, 60, ma, 3, 399), 1000), 0);
	T_ASSERT_EQ(t_recv(a, r, sizeof(r), 2000), 60);
	T_ASSERT_EQ(t_frame_check(r, 60), 399);
	T_ASSERT_EQ(t_recv(b, r, sizeof(r), 200), 0);

	/* station move once A's MAC was quiet for the 1 s hold: it now shows
	 * up on B; C -> A's MAC goes to B */
	usleep(1100000);
	T_ASSERT_EQ(t_send(b, f, t_frame(f, 60, mc, 1, 400), 1000), 0);
	T_ASSERT_EQ(t_recv(c, r, sizeof(r), 2000), 60);
	T_ASSERT_EQ(t_send(c, f, t_frame(f, 60, ma, 3, 401), 1000), 0);
	T_ASSERT_EQ(t_recv(b, r, sizeof(r), 2000), 60);
	T_ASSERT_EQ(t_frame_check(r, 60), 401);
	T_ASSERT_EQ(t_recv(a, r, sizeof(r), 200), 0);

	T_ASSERT_EQ(t_port_info("vale0:a", &pa), 0);
	T_ASSERT_EQ(t_port_info("vale0:b", &pb), 0);
	T_ASSERT_EQ(t_port_info("vale0:c", &pc), 0);
	T_ASSERT_EQ(pa.tx_frames, 51);
	T_ASSERT_EQ(pa.tx_extra_copies, 1);
	T_ASSERT_EQ(pa.tx_delivered, 52);
	T_ASSERT_EQ(pc.rx_frames, 53);
	T_ASSERT_EQ(pb.rx_frames, 2);
	T_ASSERT_EQ(pa.rx_frames, 2);
	T_ASSERT(pa.tx_frames + pa.tx_extra_copies == pa.tx_delivered);

	unm_close(a);
	unm_close(b);
	unm_close(c);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("ok\n");
	return 0;
}
