// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a client that does not read its replies cannot stall
 * unmd. With 100 persistent ports (so a PORT_STATS of everything is 101
 * messages), 10 connections each send 3 PORT_STATS requests and never
 * read. Another client's LIST must still be answered in under 2 s, a
 * new port open and close normally, and unmd must cut the non-readers
 * off (each sees the hang-up within 15 s). Fails on commit 71d5c11:
 * each unread reply blocked the control thread for 2 s (SO_SNDTIMEO), so
 * the LIST waited about 20 s.
 */
#include <poll.h>
#include "limits-common.h"

#define NPORTS 100
#define NSLOW 10

int main(void)
{
	int slow[NSLOW];
	struct unm_port *p;
	char name[32];
	double t0;
	pid_t d;

	t_watchdog(90);
	d = t_unmd_start(NULL);
	for (int i = 0; i < NPORTS; i++) {
		snprintf(name, sizeof(name), "vale0:p%d", i);
		T_ASSERT_EQ(t_ctl(UNM_CTL_PORT_ADD, name, NULL, 0), 0);
	}
	for (int i = 0; i < NSLOW; i++) {
		slow[i] = lc_connect();
		for (int k = 0; k < 3; k++) {
			struct unm_ctl_req r;

			lc_req(&r, UNM_CTL_PORT_STATS, "", (uint32_t)k + 1);
			T_ASSERT(send(slow[i], &r, sizeof(r), MSG_NOSIGNAL) == sizeof(r));
		}
	}
	usleep(200000);
	t0 = t_now();
	T_ASSERT_EQ(t_list_ports("vale0", NULL, 0), NPORTS);
	printf("LIST with %d clients not reading: %.3f s\n", NSLOW, t_now() - t0);
	T_ASSERT(t_now() - t0 < 2.0);
	t0 = t_now();
	p = t_open("vale0:fresh");
	unm_close(p);
	printf("open + close meanwhile: %.3f s\n", t_now() - t0);
	T_ASSERT(t_now() - t0 < 2.0);
	/* the non-readers are cut off */
	for (int i = 0; i < NSLOW; i++) {
		struct pollfd pf = { .fd = slow[i], .events = POLLRDHUP };

		T_ASSERT(poll(&pf, 1, 15000) == 1);
		T_ASSERT(pf.revents & (POLLHUP | POLLRDHUP));
		close(slow[i]);
	}
	printf("the %d non-readers were cut off\n", NSLOW);
	T_ASSERT_EQ(t_list_ports("vale0", NULL, 0), NPORTS);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("PASS\n");
	return 0;
}
