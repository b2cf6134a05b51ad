// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a persistent port's next client gets no stale frame.
 * vale0:s sends 10 frames to persistent port vale0:pp while a first
 * client holds it and never reads them (unmd delivered them: rx_frames
 * 10), the client closes, then 5 more frames go to the port while
 * nobody holds it. A second client opening vale0:pp must receive none of
 * those 15, and then the frame sent after it opened. Fails on commit
 * 71d5c11: the second client received the first client's unread frames.
 */
#include "limits-common.h"

static void send_seq(struct unm_port *s, uint32_t seq0, unsigned n)
{
	uint8_t f[96], bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	for (unsigned i = 0; i < n; i++) {
		t_frame(f, sizeof(f), bcast, 9, seq0 + i);
		T_ASSERT_EQ(t_send(s, f, sizeof(f), 1000), 0);
	}
}

int main(void)
{
	struct unm_port *c1, *c2, *s;
	struct unm_ctl_port_info pi;
	uint8_t buf[2048];
	long len;
	pid_t d;

	t_watchdog(30);
	d = t_unmd_start(NULL);
	T_ASSERT_EQ(t_ctl(UNM_CTL_PORT_ADD, "vale0:pp", NULL, 0), 0);
	s = t_open("vale0:s");
	c1 = t_open("vale0:pp");
	send_seq(s, 100, 10);
	for (double end = t_now() + 5; t_now() < end; usleep(10000))
		if (t_port_info("vale0:pp", &pi) == 0 && pi.rx_frames >= 10)
			break;
	T_ASSERT_EQ(pi.rx_frames, 10);
	unm_close(c1);
	usleep(100000);
	send_seq(s, 200, 5);
	usleep(100000);
	c2 = t_open("vale0:pp");
	len = t_recv(c2, buf, sizeof(buf), 500);
	if (len > 0)
		T_FAIL("the second client received a stale frame (seq %ld)",
		       t_frame_check(buf, (size_t)len));
	T_ASSERT_EQ(len, 0);
	send_seq(s, 300, 1);
	len = t_recv(c2, buf, sizeof(buf), 2000);
	T_ASSERT(len > 0);
	T_ASSERT_EQ(t_frame_check(buf, (size_t)len), 300);
	printf("no stale frame; the first frame seen is the one sent after the open\n");
	unm_close(c2);
	unm_close(s);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("PASS\n");
	return 0;
}
