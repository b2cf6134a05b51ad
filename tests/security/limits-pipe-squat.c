// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a squatted pipe name does not stall unmd. The test binds
 * the abstract socket name of pipe "sqPID{1" (anyone can: abstract names
 * have no permissions), listens and never answers; a child then asks
 * unmd to attach that pipe end three times in a row. Each attach must
 * fail (the rendezvous times out) while root's LIST, sent every 100 ms
 * meanwhile, is answered in under 0.5 s each time. Fails on commit
 * 71d5c11: the rendezvous ran on the control thread, which waited 3 s
 * per attach and answered nobody meanwhile.
 */
#include <stddef.h>
#include <sys/wait.h>
#include "limits-common.h"

int main(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char key[64], port[80];
	double worst = 0, t_end;
	int sq, st, len;
	pid_t d, kid;

	t_watchdog(60);
	d = t_unmd_start(NULL);
	snprintf(key, sizeof(key), "sq%d{1", (int)getpid());
	snprintf(port, sizeof(port), "%s", key);
	/* lib/pipe.c's rendezvous name for KEY, as unmd (euid 0) computes it */
	len = snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "unetmap.pipe.%u.%s",
		       (unsigned)geteuid(), key);
	sq = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	T_ASSERT(sq >= 0);
	T_ASSERT(bind(sq, (struct sockaddr *)&a,
		      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)) == 0);
	T_ASSERT(listen(sq, 16) == 0);
	kid = fork();
	T_ASSERT(kid >= 0);
	if (kid == 0) {
		for (int i = 0; i < 3; i++) {
			int rc = t_ctl(UNM_CTL_ATTACH, "vale0", port, 0);

			printf("attach %s: %d (%s)\n", port, rc, rc ? unm_errmsg() : "ok");
			if (rc == 0)
				_exit(1);
		}
		_exit(0);
	}
	t_end = t_now() + 20;
	while (waitpid(kid, &st, WNOHANG) == 0 && t_now() < t_end) {
		double t0 = t_now(), dt;

		T_ASSERT(t_list_ports("vale0", NULL, 0) >= 0);
		dt = t_now() - t0;
		if (dt > worst)
			worst = dt;
		usleep(100000);
	}
	printf("slowest LIST while the attaches waited: %.3f s\n", worst);
	T_ASSERT(worst < 0.5);
	T_ASSERT(waitpid(kid, &st, 0) == kid || WIFEXITED(st));
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(sq);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("PASS\n");
	return 0;
}
