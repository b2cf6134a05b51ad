// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a monitor whose port goes away gets an error. The copies
 * already queued are still returned, then rxsync (and unm_wait) return
 * -EPIPE, and txsync -EPIPE; a monitor asleep in unm_wait is woken.
 * Also: a monitor of a port unmd does not have fails with -ENOENT, a
 * zero-copy monitor (/z) with -EOPNOTSUPP, a monitor of a monitor is a
 * bad name (-EINVAL), and several monitors are refused past the limit.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include "monitor-common.h"

int main(void)
{
	struct unm_port *a, *b, *m, *m2, *x;
	struct mon_count c = { 0 };
	uint8_t mb[6];
	double t0;
	pid_t d, k;
	int st, rc;

	t_watchdog(20);
	d = t_unmd_start(NULL);
	a = t_open("vale0:a");
	b = t_open("vale0:b");
	m = t_open("vale0:a/tr");
	t_mac(mb, 2);
	T_ASSERT_EQ(t_blast(a, mb, 1, 0, 10, 80, 2000), 10);
	T_ASSERT_EQ(recv_n(b, 10, 2000), 10);
	usleep(50000);
	unm_close(a); /* the monitored port goes away (ephemeral: removed) */
	/* the 10 copies first, then -EPIPE */
	mon_wait(m, &c, 11, 3000);
	printf("after close: %ld copies, err %d\n", c.frames, c.err);
	T_ASSERT_EQ(c.frames, 10);
	T_ASSERT_EQ(c.txmon, 10);
	T_ASSERT_EQ(c.err, -EPIPE);
	T_ASSERT_EQ(unm_rxsync(m, 0), -EPIPE);
	T_ASSERT_EQ(unm_txsync(m, 0), -EPIPE);
	T_ASSERT_EQ(unm_wait(m, UNM_WAIT_RX, 100), -EPIPE);
	unm_close(m);

	/* a monitor asleep in unm_wait wakes up when its port goes: the
	 * port's process exits while we sleep */
	{
		volatile int *ready = t_shared(sizeof(int));

		if ((k = fork()) == 0) {
			struct unm_port *c2 = t_open("vale0:c");

			*ready = 1;
			while (*ready == 1)
				usleep(1000);
			usleep(200000);
			_exit(c2 ? 0 : 1);
		}
		while (!*ready)
			usleep(1000);
		m2 = t_open("monitor:vale0:c");
		*ready = 2;
		t0 = t_now();
		rc = unm_wait(m2, UNM_WAIT_RX, 5000);
		printf("sleeping monitor: %d after %.3f s\n", rc, t_now() - t0);
		T_ASSERT_EQ(rc, -EPIPE);
		T_ASSERT(t_now() - t0 > 0.1 && t_now() - t0 < 3.0);
		T_ASSERT_EQ(waitpid(k, &st, 0), k);
	}
	unm_close(b);
	unm_close(m2);

	T_ASSERT_EQ(unm_open("monitor:vale0:nosuch", &x, NULL), -ENOENT);
	printf("no such port: %s\n", unm_errmsg());
	T_ASSERT_EQ(unm_open("monitor:vale9:nosuch", &x, NULL), -ENOENT);
	T_ASSERT_EQ(unm_open("monitor:pipeZ{1", &x, NULL), -ENOENT);
	printf("unattached pipe: %s\n", unm_errmsg());
	T_ASSERT_EQ(unm_open("vale0:a/z", &x, NULL), -EOPNOTSUPP);
	T_ASSERT_EQ(unm_open("monitor:monitor:vale0:a", &x, NULL), -EINVAL);

	/* at most 16 monitors per port */
	{
		struct unm_port *p = t_open("vale0:p"), *ms[17];

		for (int i = 0; i < 16; i++)
			ms[i] = t_open("vale0:p/t");
		T_ASSERT_EQ(unm_open("vale0:p/t", &ms[16], NULL), -ENOSPC);
		for (int i = 0; i < 16; i++)
			unm_close(ms[i]);
		unm_close(p);
	}
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("ok\n");
	return 0;
}
