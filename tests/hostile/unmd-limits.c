// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: per-uid resource limits and control-socket permissions of
 * unmd. With --max-ports 3 a uid gets 3 ports (client, persistent and
 * attached ports count alike) and the 4th open fails with -EDQUOT and a
 * message naming the limit; closing one frees its share. With --max-mem a
 * port whose region would exceed the uid's budget is refused with -EDQUOT
 * (the refusal path once read a freed port: ASan checks it). With
 * --max-conns 2 a third control connection is answered -EDQUOT. Limits are
 * per uid: user nobody (65534) has its own 3. With the socket at mode
 * 0600 nobody cannot connect at all (-EACCES, "cannot reach unmd").
 * Needs root (to become nobody); skips otherwise.
 */
#include <errno.h>
#include <signal.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"

#define NOBODY 65534

/* In a child running as nobody: open N ports, expect the (N+1)th result. */
static int as_nobody(int n_ok, int want_last)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		struct unm_port *p[8];
		char name[32];
		int rc;

		if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY))
			_exit(10);
		for (int i = 0; i < n_ok; i++) {
			snprintf(name, sizeof(name), "vale0:n%d", i);
			if ((rc = unm_open(name, &p[i], NULL))) {
				printf("nobody: open %s: %s\n", name, unm_errmsg());
				_exit(11);
			}
		}
		rc = unm_open("vale0:nlast", &p[7], NULL);
		printf("nobody: last open: %s (%s)\n", rc ? strerror(-rc) : "ok",
		       rc ? unm_errmsg() : "");
		fflush(stdout);
		if (rc != want_last)
			_exit(12);
		if (want_last == -EACCES && !strstr(unm_errmsg(), "cannot reach unmd"))
			_exit(13);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

int main(void)
{
	static const char *const lim[] = { "--max-ports", "3", "--max-mem", "48M", "-m", "0666",
					   NULL };
	struct unm_port *p[4], *big;
	pid_t d;
	int rc;

	t_watchdog(30);
	if (geteuid() != 0)
		T_SKIP("needs root to run a client as another uid");
	d = t_unmd_start(lim);
	T_ASSERT_EQ(unm_open("vale0:a", &p[0], NULL), 0);
	T_ASSERT_EQ(unm_open("vale0:b", &p[1], NULL), 0);
	T_ASSERT_EQ(t_ctl(UNM_CTL_PORT_ADD, "vale0:c", NULL, 0), 0);
	rc = unm_open("vale0:d", &p[3], NULL);
	printf("4th port: %s (%s)\n", strerror(-rc), unm_errmsg());
	T_ASSERT_EQ(rc, -EDQUOT);
	T_ASSERT(strstr(unm_errmsg(), "limit 3") && strstr(unm_errmsg(), "--max-ports"));
	rc = t_ctl(UNM_CTL_PORT_ADD, "vale0:e", NULL, 0);
	T_ASSERT_EQ(rc, -EDQUOT);
	/* a port opened inside unmd (attach) is charged to its uid too */
	rc = t_ctl(UNM_CTL_ATTACH, "vale0", "null", 0);
	T_ASSERT_EQ(rc, -EDQUOT);
	/* another uid has its own budget; root's ports do not count */
	T_ASSERT_EQ(as_nobody(3, -EDQUOT), 0);
	/* a close frees the share (unmd sees the hang-up asynchronously) */
	unm_close(p[1]);
	for (int i = 0; i < 100 && (rc = unm_open("vale0:d", &p[3], NULL)) == -EDQUOT; i++)
		usleep(10000);
	T_ASSERT_EQ(rc, 0);
	unm_close(p[3]);
	T_ASSERT_EQ(t_ctl(UNM_CTL_PORT_DEL, "vale0:c", NULL, 0), 0);
	/* memory: 2 x 16 rings x 4096 slots x 2 KiB buffers is far beyond 48M */
	rc = unm_open("vale0:big@conf:rings=16,slots=4096", &big, NULL);
	printf("big port: %s (%s)\n", strerror(-rc), unm_errmsg());
	T_ASSERT_EQ(rc, -EDQUOT);
	T_ASSERT(strstr(unm_errmsg(), "--max-mem"));
	/* the port that fits still opens */
	T_ASSERT_EQ(unm_open("vale0:small", &big, NULL), 0);
	unm_close(big);
	unm_close(p[0]);
	T_ASSERT_EQ(t_unmd_stop(d), 0);

	/* connections: with --max-conns 2 the third is answered -EDQUOT (each
	 * client port holds one); a close gives the slot back */
	d = t_unmd_start((const char *const[]){ "--max-conns", "2", NULL });
	T_ASSERT_EQ(unm_open("vale0:a", &p[0], NULL), 0);
	T_ASSERT_EQ(unm_open("vale0:b", &p[1], NULL), 0);
	rc = unm_open("vale0:c", &p[2], NULL);
	printf("3rd connection: %s (%s)\n", strerror(-rc), unm_errmsg());
	T_ASSERT_EQ(rc, -EDQUOT);
	T_ASSERT(strstr(unm_errmsg(), "--max-conns"));
	unm_close(p[1]);
	for (int i = 0; i < 100 && (rc = unm_open("vale0:c", &p[2], NULL)) == -EDQUOT; i++)
		usleep(10000);
	T_ASSERT_EQ(rc, 0);
	unm_close(p[2]);
	unm_close(p[0]);
	T_ASSERT_EQ(t_unmd_stop(d), 0);

	/* socket permissions: 0600 keeps nobody out */
	d = t_unmd_start((const char *const[]){ "-m", "0600", NULL });
	{
		struct stat st;

		T_ASSERT_EQ(stat(t_unmd_sock(), &st), 0);
		T_ASSERT_EQ(st.st_mode & 0777, 0600);
	}
	T_ASSERT_EQ(as_nobody(0, -EACCES), 0);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("ok\n");
	return 0;
}
