// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: every fd a client sends unmd with SCM_RIGHTS is closed,
 * whatever the message. Against a private unmd, counting its
 * /proc/PID/fd before and after: 40 requests (LIST, a valid operation
 * that takes no fds) each carrying 70 fds (more than the control buffer
 * holds: MSG_CTRUNC), 40 carrying 66 (exactly what the rounded-up buffer
 * holds, one more than UNM_CTL_MAX_FDS: the case that leaked), 40
 * carrying 253 (the kernel's maximum), 40 short (malformed) messages
 * with 10 fds, 40 requests of an unknown operation with 5 fds, and 40
 * requests with 5 fds on a connection over --max-conns. unmd must end
 * with exactly the fds it started with, and still answer. Fails on
 * commit 71d5c11: each message of 66 or more fds left one fd open in
 * unmd (+80 here).
 */
#include <fcntl.h>
#include "limits-common.h"

static void burst(pid_t d, int victim, unsigned op, size_t len, unsigned nfds, int n)
{
	for (int i = 0; i < n; i++) {
		struct unm_ctl_req r;
		int fd = lc_connect();
		char rep[4096];

		lc_req(&r, op, "", (uint32_t)i + 1);
		if (lc_send_fds(fd, &r, len, victim, nfds) < 0)
			T_FAIL("sendmsg with %u fds: %s", nfds, strerror(errno));
		/* wait for the answer (or the cut) so unmd is done with it */
		struct timeval tv = { .tv_sec = 2 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		while (recv(fd, rep, sizeof(rep), 0) > 0)
			;
		close(fd);
	}
	(void)d;
}

int main(void)
{
	const char *const extra[] = { "--max-conns", "3", NULL };
	int victim, base, n;
	pid_t d;

	t_watchdog(120);
	d = t_unmd_start(extra);
	victim = open("/dev/null", O_RDONLY | O_CLOEXEC);
	T_ASSERT(victim >= 0);
	usleep(100000);
	base = lc_nfds(d);
	printf("unmd pid %d starts with %d fds\n", (int)d, base);

	burst(d, victim, UNM_CTL_LIST, sizeof(struct unm_ctl_req), 70, 40);
	n = lc_nfds_settle(d, base, 2);
	printf("after 40 x 70 fds: %d\n", n);
	T_ASSERT_EQ(n, base);

	burst(d, victim, UNM_CTL_LIST, sizeof(struct unm_ctl_req), 66, 40);
	n = lc_nfds_settle(d, base, 2);
	printf("after 40 x 66 fds: %d\n", n);
	T_ASSERT_EQ(n, base);

	burst(d, victim, UNM_CTL_LIST, sizeof(struct unm_ctl_req), 253, 40);
	n = lc_nfds_settle(d, base, 2);
	printf("after 40 x 253 fds: %d\n", n);
	T_ASSERT_EQ(n, base);

	burst(d, victim, UNM_CTL_LIST, 100, 10, 40);
	n = lc_nfds_settle(d, base, 2);
	printf("after 40 short messages x 10 fds: %d\n", n);
	T_ASSERT_EQ(n, base);

	burst(d, victim, 999, sizeof(struct unm_ctl_req), 5, 40);
	n = lc_nfds_settle(d, base, 2);
	printf("after 40 unknown ops x 5 fds: %d\n", n);
	T_ASSERT_EQ(n, base);

	{ /* over --max-conns: 3 held, the 4th sends fds with its request */
		int held[3];

		for (int i = 0; i < 3; i++)
			held[i] = lc_connect();
		usleep(100000);
		burst(d, victim, UNM_CTL_LIST, sizeof(struct unm_ctl_req), 5, 40);
		for (int i = 0; i < 3; i++)
			close(held[i]);
		n = lc_nfds_settle(d, base, 2);
		printf("after 40 refused connections x 5 fds: %d\n", n);
		T_ASSERT_EQ(n, base);
	}

	/* and it still serves */
	T_ASSERT_EQ(t_list_ports("vale0", NULL, 0), 0);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("PASS\n");
	return 0;
}
