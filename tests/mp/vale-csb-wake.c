// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a CSB client's wake-up costs no read of its interrupt
 * eventfds (lib/vale.c keeps them edge-triggered and acknowledges with
 * one epoll_wait): a receiver sleeping in unm_wait is woken by each frame
 * a sender process sends, receives every frame in order, and its read
 * system calls (syscr in /proc/self/io, which counts reads that fail
 * with EAGAIN too) stay below its wake-up count, where reading each
 * ring's eventfd until EAGAIN made three per wake-up. Also: after
 * unm_wakeup the port's fd is not readable until the next interrupt.
 * Then, under a seccomp filter that traps epoll_wait with a zero timeout
 * (counted, not run), more wake-ups in unm_wait: none of them asks the
 * epoll set again (unm_wait's own epoll_wait already took the events:
 * ops->woke), where acknowledging with a second epoll_wait made one each.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"

#define ROUNDS 40

static volatile sig_atomic_t trapped;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	trapped++;
}

/* Trap (count, and fail with ENOSYS) epoll_wait/epoll_pwait whose timeout
 * (argument 3, an int: the low word on little-endian) is 0. Returns 0, or
 * -1 where seccomp filters are not available. */
static int trap_zero_epoll_waits(void)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef SYS_epoll_wait
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_epoll_wait, 1, 0),
#else
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_epoll_pwait, 1, 0),
#endif
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_epoll_pwait, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[3])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };

	if (sigaction(SIGSYS, &sa, NULL) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
#else
	return -1;
#endif
}

static long syscr(void)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/self/io", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "syscr: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static void sender(int go, const uint8_t dst[6])
{
	struct unm_port *a = t_open("vale0:a");
	uint8_t f[60];
	char c;

	for (uint32_t i = 0; i < 2 * ROUNDS && read(go, &c, 1) == 1; i++) {
		usleep(2000); /* lets the receiver fall asleep (not needed for correctness) */
		t_frame(f, sizeof(f), dst, 1, i);
		if (t_send(a, f, sizeof(f), 2000))
			_exit(1);
	}
	unm_close(a);
	_exit(0);
}

int main(void)
{
	uint8_t mac_b[6], bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, r[2048], f[60];
	struct unm_port_stats st = { .sz = sizeof(st) };
	struct unm_ctl_port_info pi;
	struct unm_port *b;
	int go[2], status;
	long r0, r1;
	uint64_t w0;
	pid_t d, c;

	t_watchdog(60);
	if (syscr() < 0)
		T_SKIP("no /proc/self/io (task I/O accounting) to count read calls");
	d = t_unmd_start(NULL);
	b = t_open("vale0:b");
	t_mac(mac_b, 2);
	t_frame(f, sizeof(f), bcast, 2, 0); /* the switch learns b */
	T_ASSERT_EQ(t_send(b, f, sizeof(f), 2000), 0);
	T_ASSERT(pipe(go) == 0);
	c = fork();
	T_ASSERT(c >= 0);
	if (c == 0) {
		close(go[1]);
		sender(go[0], mac_b);
	}
	close(go[0]);
	for (int i = 0; i < 3000 && !(t_port_info("vale0:a", &pi) == 0); i++)
		usleep(1000); /* the sender's port is there */
	T_ASSERT_EQ(unm_port_stats(b, &st), 0);
	w0 = st.wakeups;
	r0 = syscr();
	for (uint32_t i = 0; i < ROUNDS; i++) {
		struct unm_ring *rx = unm_ring_get(b, 0, 0);
		long n;

		T_ASSERT_EQ(write(go[1], "x", 1), 1);
		while (unm_ring_empty(rx))
			T_ASSERT(unm_wait(b, UNM_WAIT_RX, 5000) > 0);
		n = t_recv(b, r, sizeof(r), 0);
		T_ASSERT_EQ(n, 60);
		T_ASSERT_EQ(t_frame_check(r, (size_t)n), i);
		T_ASSERT_EQ(unm_rxsync(b, UNM_RING_ALL), 0);
	}
	r1 = syscr();
	T_ASSERT_EQ(unm_port_stats(b, &st), 0);
	printf("%llu wake-ups, %ld read calls\n", (unsigned long long)(st.wakeups - w0), r1 - r0);
	if (st.wakeups - w0 < ROUNDS / 4)
		T_SKIP("the receiver slept only %llu times in %d rounds (machine too busy)",
		       (unsigned long long)(st.wakeups - w0), ROUNDS);
	T_ASSERT(r1 - r0 < (long)(st.wakeups - w0));

	/* unm_wakeup acknowledges: the fd is quiet until the next interrupt */
	{
		struct pollfd pfd = { .fd = unm_fd(b), .events = POLLIN };

		T_ASSERT_EQ(unm_wakeup(b), 0);
		T_ASSERT_EQ(poll(&pfd, 1, 0), 0);
	}

	/* no second epoll_wait per wake-up in unm_wait */
	if (trap_zero_epoll_waits()) {
		printf("SKIP: seccomp filter: %s\n", strerror(errno));
		kill(c, SIGKILL);
		waitpid(c, &status, 0);
		t_unmd_stop(d);
		return 77;
	}
	w0 = st.wakeups;
	for (uint32_t i = ROUNDS; i < 2 * ROUNDS; i++) {
		struct unm_ring *rx = unm_ring_get(b, 0, 0);
		long n;

		T_ASSERT_EQ(write(go[1], "x", 1), 1);
		while (unm_ring_empty(rx))
			T_ASSERT(unm_wait(b, UNM_WAIT_RX, 5000) > 0);
		n = t_recv(b, r, sizeof(r), 0);
		T_ASSERT_EQ(n, 60);
		T_ASSERT_EQ(t_frame_check(r, (size_t)n), i);
		T_ASSERT_EQ(unm_rxsync(b, UNM_RING_ALL), 0);
	}
	T_ASSERT_EQ(unm_port_stats(b, &st), 0);
	printf("%llu wake-ups, %d zero-timeout epoll_waits\n",
	       (unsigned long long)(st.wakeups - w0), (int)trapped);
	if (st.wakeups - w0 < ROUNDS / 4)
		T_SKIP("the receiver slept only %llu times in %d rounds (machine too busy)",
		       (unsigned long long)(st.wakeups - w0), ROUNDS);
	T_ASSERT(trapped < (int)(st.wakeups - w0) / 2);
	T_ASSERT(waitpid(c, &status, 0) == c);
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(go[1]);
	unm_close(b);
	t_unmd_stop(d);
	printf("ok\n");
	return 0;
}
