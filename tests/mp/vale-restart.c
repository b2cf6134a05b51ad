// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: unmd restart. A client with an open port sees unmd die
 * (SIGKILL) as an error, not a hang: unm_wait returns -ECONNRESET and TX
 * syncs on a full ring fail with -ECONNRESET too. A new unmd on the same
 * socket path (the stale socket file is replaced) serves new opens.
 */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"

int main(void)
{
	const char *extra[] = { NULL };
	uint8_t f[128], r[2048];
	struct unm_port *a, *b, *c;
	char sock[108];
	double t0;
	pid_t d;
	int st, rc = 0;

	t_watchdog(20);
	d = t_unmd_start(extra);
	snprintf(sock, sizeof(sock), "%s", t_unmd_sock());
	a = t_open("vale0:a@conf:slots=64");
	b = t_open("vale0:b");
	T_ASSERT_EQ(kill(d, SIGKILL), 0);
	T_ASSERT_EQ(waitpid(d, &st, 0), d);

	t0 = t_now();
	rc = unm_wait(b, UNM_WAIT_RX, 5000);
	T_ASSERT_EQ(rc, -ECONNRESET);
	T_ASSERT(t_now() - t0 < 2);
	/* fill a's TX ring: the would-block sync notices the dead host */
	t0 = t_now();
	for (int i = 0; i < 200 && rc != -ECONNRESET; i++) {
		rc = unm_inject(a, f, t_frame(f, 60, (const uint8_t[6]){ 2, 0, 0, 0, 0, 2 }, 1, (uint32_t)i));
		if (rc == 0)
			rc = unm_wait(a, UNM_WAIT_TX, 1000);
		if (rc > 0)
			rc = unm_txsync(a, UNM_RING_ALL);
	}
	T_ASSERT_EQ(rc, -ECONNRESET);
	T_ASSERT(t_now() - t0 < 3);
	unm_close(a);
	unm_close(b);

	/* a new unmd on the same path */
	T_ASSERT_EQ(access(sock, F_OK), 0); /* the dead unmd's socket file */
	d = t_unmd_start_at(sock, NULL);
	a = t_open("vale0:a");
	c = t_open("vale0:c");
	T_ASSERT_EQ(t_send(a, f, t_frame(f, 60, (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 1, 5), 1000), 0);
	T_ASSERT_EQ(t_recv(c, r, sizeof(r), 2000), 60);
	unm_close(a);
	unm_close(c);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("ok\n");
	return 0;
}
