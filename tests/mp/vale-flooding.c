// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: VALE flooding. Four ports: a broadcast frame, a multicast
 * frame and an unknown-unicast frame from A each reach B, C and D once
 * and never come back to A; flood accounting (tx + extra copies ==
 * delivered) is exact. Also: a switch with a single port drops with
 * no_dst, and a second switch (vale1) is independent of vale0.
 */
#include <errno.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"

int main(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	uint8_t f[256], r[2048], unknown[6];
	struct unm_port *p[4], *lone;
	struct unm_ctl_port_info pi;
	const char *names[4] = { "vale0:a", "vale0:b", "vale0:c", "vale0:d" };
	pid_t d;

	t_watchdog(20);
	d = t_unmd_start(NULL);
	for (int i = 0; i < 4; i++)
		p[i] = t_open(names[i]);
	lone = t_open("vale1:alone");
	t_mac(unknown, 99);
	const uint8_t *dsts[3] = { bcast, mcast, unknown };
	for (int k = 0; k < 3; k++) {
		T_ASSERT_EQ(t_send(p[0], f, t_frame(f, 200, dsts[k], 1, (uint32_t)k), 1000), 0);
		for (int i = 1; i < 4; i++) {
			T_ASSERT_EQ(t_recv(p[i], r, sizeof(r), 2000), 200);
			T_ASSERT_EQ(t_frame_check(r, 200), k);
		}
	}
	for (int i = 0; i < 4; i++)
		T_ASSERT_EQ(t_recv(p[i], r, sizeof(r), 100), 0);
	T_ASSERT_EQ(t_port_info("vale0:a", &pi), 0);
	T_ASSERT_EQ(pi.tx_frames, 3);
	T_ASSERT_EQ(pi.tx_extra_copies, 6);
	T_ASSERT_EQ(pi.tx_delivered, 9);

	/* alone on vale1: nobody to send to */
	T_ASSERT_EQ(t_send(lone, f, t_frame(f, 60, bcast, 5, 9), 1000), 0);
	for (int i = 0; i < 50; i++) {
		T_ASSERT_EQ(t_port_info("vale1:alone", &pi), 0);
		if (pi.tx_frames == 1)
			break;
		usleep(10000);
	}
	T_ASSERT_EQ(pi.tx_frames, 1);
	T_ASSERT_EQ(pi.drops[UNM_DROP_NO_DST], 1);
	T_ASSERT_EQ(t_recv(p[1], r, sizeof(r), 100), 0);

	for (int i = 0; i < 4; i++)
		unm_close(p[i]);
	unm_close(lone);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("ok\n");
	return 0;
}
