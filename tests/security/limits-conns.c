// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: --max-conns holds from accept on. A private unmd (socket
 * mode 0666, --max-conns 16) is flooded by another uid (65534, a forked
 * child) with 20,000 idle connections that never send a request (fewer
 * if the hard fd limit is lower: then that limit less 100). unmd
 * must hold no more than the limit plus the few it keeps to refuse
 * (its fd count stays bounded), close the rest (the flooder sees EOF on
 * all but 100 of them), not spin (under 0.5 s of CPU over the 2 s
 * after the flood), and answer root's LIST in under 2 s meanwhile; a
 * connection refused after its request gets the EDQUOT reason. Fails on
 * commit 71d5c11: every idle connection was accepted and kept (the limit
 * was only checked at a connection's first request).
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "limits-common.h"

#define FLOOD 20000
#define LIMIT 16

static int flood_n = FLOOD;

static int flooder(int ready_fd, int done_fd)
{
	static int fds[FLOOD];
	int n = 0, eof = 0;
	char c;

	if (setgid(65534) || setuid(65534))
		return 10;
	while (n < flood_n) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return 11;
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", t_unmd_sock());
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			close(fd);
			if (errno == EAGAIN || errno == EINTR) {
				usleep(1000);
				continue;
			}
			return 12;
		}
		fds[n++] = fd;
	}
	if (write(ready_fd, "r", 1) != 1)
		return 13;
	/* the parent measures; then count which of ours unmd closed */
	if (read(done_fd, &c, 1) != 1)
		return 14;
	for (int i = 0; i < n; i++) {
		struct pollfd p = { .fd = fds[i], .events = POLLIN };

		if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLIN))) {
			char b[16];

			if (recv(fds[i], b, sizeof(b), MSG_DONTWAIT) <= 0)
				eof++;
		}
	}
	printf("flooder: %d of %d connections closed by unmd\n", eof, n);
	return eof >= flood_n - 100 ? 0 : 15;
}

int main(void)
{
	const char *const extra[] = { "-m", "0666", "--max-conns", "16", NULL };
	int to_parent[2], to_child[2], st, base, n;
	double t0, cpu0, cpu1;
	pid_t d, kid;
	char c;

	t_watchdog(150);
	if (geteuid() != 0)
		T_SKIP("needs root (a second uid floods)");
	{ /* as many as the hard fd limit allows (the machine may cap it) */
		struct rlimit rl;

		T_ASSERT(getrlimit(RLIMIT_NOFILE, &rl) == 0);
		if (rl.rlim_max < FLOOD + 100)
			flood_n = (int)rl.rlim_max - 100;
		rl.rlim_cur = rl.rlim_max;
		T_ASSERT(setrlimit(RLIMIT_NOFILE, &rl) == 0);
		printf("flooding with %d connections\n", flood_n);
	}
	d = t_unmd_start(extra);
	usleep(100000);
	base = lc_nfds(d);
	T_ASSERT(pipe(to_parent) == 0 && pipe(to_child) == 0);
	kid = fork();
	T_ASSERT(kid >= 0);
	if (kid == 0) {
		close(to_parent[0]);
		close(to_child[1]);
		_exit(flooder(to_parent[1], to_child[0]));
	}
	close(to_parent[1]);
	close(to_child[0]);
	/* while the flood goes on, root is served */
	for (int i = 0; i < 5; i++) {
		t0 = t_now();
		T_ASSERT_EQ(t_list_ports("vale0", NULL, 0), 0);
		printf("root LIST during the flood: %.3f s\n", t_now() - t0);
		T_ASSERT(t_now() - t0 < 2.0);
		usleep(200000);
	}
	if (read(to_parent[0], &c, 1) != 1) {
		waitpid(kid, &st, 0);
		T_FAIL("flooder failed (status 0x%x)", st);
	}
	/* the flood is done: unmd holds at most the limit + its refusals */
	n = lc_nfds_settle(d, base + LIMIT + 4, 3);
	printf("unmd fds: %d at start, %d with %d connections of uid 65534\n", base, n, flood_n);
	T_ASSERT(n <= base + LIMIT + 4);
	cpu0 = lc_cpu(d);
	usleep(2000000);
	cpu1 = lc_cpu(d);
	printf("unmd CPU over 2 s after the flood: %.2f s\n", cpu1 - cpu0);
	T_ASSERT(cpu1 - cpu0 < 0.5);
	t0 = t_now();
	T_ASSERT_EQ(t_list_ports("vale0", NULL, 0), 0);
	printf("root LIST after the flood: %.3f s\n", t_now() - t0);
	T_ASSERT(t_now() - t0 < 2.0);
	T_ASSERT(write(to_child[1], "d", 1) == 1);
	T_ASSERT(waitpid(kid, &st, 0) == kid);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	{ /* root over its own limit: the 17th gets the reason */
		int held[LIMIT];
		struct unm_port *p;

		for (int i = 0; i < LIMIT; i++)
			held[i] = lc_connect();
		usleep(100000);
		T_ASSERT_EQ(unm_open("vale0:x", &p, NULL), -EDQUOT);
		printf("17th connection: %s\n", unm_errmsg());
		T_ASSERT(strstr(unm_errmsg(), "--max-conns"));
		for (int i = 0; i < LIMIT; i++)
			close(held[i]);
	}
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("PASS\n");
	return 0;
}
