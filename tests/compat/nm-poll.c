// SPDX-License-Identifier: BSD-2-Clause
/*
 * nm-poll.c - what poll() costs on netmap descriptors (tests/compat/poll-cost.sh);
 * built only with the unm-netmap pkg-config line.
 *
 *   nm-poll PIPE    both ends of pipe PIPE in this process, then:
 *
 * 1. poll() on a descriptor that is ready (TX room, or a frame waiting)
 *    returns at once, its own work being the syncs: no poll/ppoll system
 *    call, no sched_yield (a netmap sender polls once per batch, and the
 *    compat layer must cost it no more than unm_txsync() would). Checked
 *    with a seccomp filter that turns those system calls into SIGSYS,
 *    counted by the handler. (The syncs themselves may look at the
 *    port's liveness with an epoll_wait(0) now and then: not trapped.)
 * 2. poll() on a descriptor that is not ready sleeps without spinning on
 *    sched_yield() (a sender pinned to a CPU it shares with unmd would keep
 *    the switch from draining its ring): RX with nothing sent, 30 ms.
 * 3. poll() still wakes up for a frame sent while it sleeps (a thread
 *    sends after 20 ms; the poll has 5 s).
 * 4. A signal ends the sleep: -1 and EINTR (pkt-gen stops on SIGINT so).
 * 5. A pipe whose peer closed: the frames still queued stay readable, then
 *    poll() reports nothing and sleeps its whole timeout, alone and among
 *    other descriptors (netmap's pipes are silent: pkt-gen tests POLLERR
 *    only, and a POLLHUP made its receiver spin), without using the CPU.
 * Exit 0 when every check held, 77 when seccomp is not available.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <libnetmap.h>
#include "nm-common.h"

static volatile sig_atomic_t trapped[512];

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_syscall >= 0 && si->si_syscall < 512)
		trapped[si->si_syscall]++;
}

#define TRAP(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
		 BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP)

/* Trap sched_yield always; with ALL, the sleeping calls too. Filters stack
 * and cannot be removed: install the narrow one first. */
static int trap_syscalls(int all)
{
	struct sock_filter narrow[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		TRAP(SYS_sched_yield),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter wide[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		TRAP(SYS_sched_yield),
		TRAP(SYS_ppoll),
#ifdef SYS_poll
		TRAP(SYS_poll),
#endif
#ifdef SYS_select
		TRAP(SYS_select),
#endif
		TRAP(SYS_pselect6),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = all ?
		(struct sock_fprog){ .len = sizeof(wide) / sizeof(wide[0]), .filter = wide } :
		(struct sock_fprog){ .len = sizeof(narrow) / sizeof(narrow[0]), .filter = narrow };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static unsigned total_trapped(void)
{
	unsigned n = 0;

	for (int i = 0; i < 512; i++)
		n += (unsigned)trapped[i];
	return n;
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void put(struct nmport_d *d, uint32_t i)
{
	struct netmap_ring *r = NETMAP_TXRING(d->nifp, d->first_tx_ring);
	uint32_t h = r->head;

	CHECK(!nm_ring_empty(r), "TX ring full");
	r->slot[h].len = (uint16_t)frame_make((uint8_t *)NETMAP_BUF(r, r->slot[h].buf_idx), i, 1);
	r->head = r->cur = nm_ring_next(r, h);
}

static void *late_sender(void *arg)
{
	struct nmport_d *m = arg;

	usleep(20000);
	put(m, 7);
	if (ioctl(m->fd, NIOCTXSYNC, NULL))
		FAIL("NIOCTXSYNC: %s", strerror(errno));
	return NULL;
}

/* Open pipe ID of PIPE: its master end in *M, its slave end in *S. */
static void open_pair(const char *pipe, int id, struct nmport_d **m, struct nmport_d **s)
{
	char mname[128], sname[128];

	snprintf(mname, sizeof(mname), "netmap:%s{%d", pipe, id);
	snprintf(sname, sizeof(sname), "netmap:%s}%d", pipe, id);
	*m = nmport_open(mname);
	CHECK(*m, "nmport_open %s: %s", mname, strerror(errno));
	*s = nmport_open(sname);
	CHECK(*s, "nmport_open %s: %s", sname, strerror(errno));
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	struct nmport_d *m, *s;
	struct netmap_ring *rx;
	pthread_t th;
	double t0;
	int rc;

	if (argc != 2)
		FAIL("usage: nm-poll PIPE");
	open_pair(argv[1], 0, &m, &s);
	rx = NETMAP_RXRING(s->nifp, s->first_rx_ring);
	sigaction(SIGSYS, &sa, NULL);

	/* 2: not ready, nothing else watched: sleep, no yield loop */
	if (trap_syscalls(0)) {
		printf("SKIP: seccomp filter: %s\n", strerror(errno));
		return 77;
	}
	t0 = now_ms();
	rc = poll(&(struct pollfd){ .fd = s->fd, .events = POLLIN }, 1, 30);
	CHECK(rc == 0, "poll on an empty RX ring returned %d", rc);
	CHECK(now_ms() - t0 >= 29, "poll with 30 ms returned after %.1f ms", now_ms() - t0);
	CHECK(trapped[SYS_sched_yield] == 0, "poll spun: %d sched_yield calls while waiting 30 ms",
	      (int)trapped[SYS_sched_yield]);

	/* 3: wakes up for a frame sent while it sleeps */
	CHECK(pthread_create(&th, NULL, late_sender, m) == 0, "pthread_create");
	rc = poll(&(struct pollfd){ .fd = s->fd, .events = POLLIN }, 1, 5000);
	CHECK(rc == 1, "poll for a late frame returned %d", rc);
	pthread_join(th, NULL);
	CHECK(!nm_ring_empty(rx), "POLLIN but no frame");
	CHECK(frame_check((uint8_t *)NETMAP_BUF(rx, rx->slot[rx->head].buf_idx),
			  rx->slot[rx->head].len, 7, 1) == 0, "late frame");
	rx->head = rx->cur = nm_ring_next(rx, rx->head);

	/* 4: a signal ends the sleep */
	{
		struct sigaction al = { .sa_handler = on_alarm }; /* no SA_RESTART */
		struct itimerval it = { .it_value = { .tv_usec = 20000 } };

		sigaction(SIGALRM, &al, NULL);
		setitimer(ITIMER_REAL, &it, NULL);
		rc = poll(&(struct pollfd){ .fd = s->fd, .events = POLLIN }, 1, 5000);
		CHECK(rc == -1 && errno == EINTR, "poll interrupted by a signal: %d (%s)", rc,
		      strerror(errno));
		CHECK(alarms == 1, "SIGALRM not delivered");
	}

	/* 5: the peer closed: its last frame readable, then silence */
	{
		struct nmport_d *m2, *s2;
		struct netmap_ring *rx2;
		int pfd[2];

		open_pair(argv[1], 1, &m2, &s2);
		rx2 = NETMAP_RXRING(s2->nifp, s2->first_rx_ring);
		put(m2, 9);
		CHECK(ioctl(m2->fd, NIOCTXSYNC, NULL) == 0, "NIOCTXSYNC: %s", strerror(errno));
		nmport_close(m2);
		struct pollfd p = { .fd = s2->fd, .events = POLLIN };
		rc = poll(&p, 1, 2000);
		CHECK(rc == 1 && p.revents == POLLIN, "poll for the closed peer's last frame: %d "
		      "(revents %#x)", rc, (unsigned)p.revents);
		CHECK(frame_check((uint8_t *)NETMAP_BUF(rx2, rx2->slot[rx2->head].buf_idx),
				  rx2->slot[rx2->head].len, 9, 1) == 0, "the closed peer's last frame");
		rx2->head = rx2->cur = nm_ring_next(rx2, rx2->head);
		CHECK(pipe(pfd) == 0, "pipe");
		for (int many = 0; many < 2; many++) {
			struct pollfd ps[2] = { { .fd = s2->fd, .events = POLLIN },
						{ .fd = pfd[0], .events = POLLIN } };
			struct timespec c0, c1;
			double cpu;

			clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
			t0 = now_ms();
			rc = poll(ps, many ? 2 : 1, 200);
			clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
			cpu = (double)(c1.tv_sec - c0.tv_sec) * 1e3 + (double)(c1.tv_nsec - c0.tv_nsec) / 1e6;
			CHECK(rc == 0 && ps[0].revents == 0, "poll (%d fds) on a pipe whose peer closed: "
			      "%d, revents %#x (netmap's pipes report nothing)", many + 1, rc,
			      (unsigned)ps[0].revents);
			CHECK(now_ms() - t0 >= 199, "poll (%d fds) with 200 ms on a pipe whose peer closed "
			      "returned after %.1f ms", many + 1, now_ms() - t0);
			CHECK(cpu < 100, "poll (%d fds) on a pipe whose peer closed spun: %.1f ms of CPU "
			      "in 200 ms", many + 1, cpu);
		}
		close(pfd[0]);
		close(pfd[1]);
		nmport_close(s2);
	}

	/* 1: ready descriptors: no system call that could sleep or yield */
	CHECK(trap_syscalls(1) == 0, "second seccomp filter: %s", strerror(errno));
	for (uint32_t i = 0; i < 100; i++) {
		struct pollfd p = { .fd = m->fd, .events = POLLOUT };

		rc = poll(&p, 1, 2000);
		CHECK(rc == 1 && p.revents == POLLOUT, "poll POLLOUT with room: %d", rc);
		put(m, 100 + i);
		CHECK(ioctl(m->fd, NIOCTXSYNC, NULL) == 0, "NIOCTXSYNC: %s", strerror(errno));
		p = (struct pollfd){ .fd = s->fd, .events = POLLIN };
		rc = poll(&p, 1, 2000);
		CHECK(rc == 1 && p.revents == POLLIN, "poll POLLIN with a frame (%u): %d", i, rc);
		CHECK(frame_check((uint8_t *)NETMAP_BUF(rx, rx->slot[rx->head].buf_idx),
				  rx->slot[rx->head].len, 100 + i, 1) == 0, "frame %u", 100 + i);
		rx->head = rx->cur = nm_ring_next(rx, rx->head);
	}
	CHECK(total_trapped() == 0, "poll on ready descriptors made %u system calls "
	      "(sched_yield %d, ppoll %d)", total_trapped(),
	      (int)trapped[SYS_sched_yield], (int)trapped[SYS_ppoll]);
	nmport_close(m);
	nmport_close(s);
	printf("PASS: poll on ready netmap descriptors makes no poll or yield system call; a waiting one "
	       "sleeps without spinning and wakes up for a frame; a pipe whose peer closed is "
	       "silent\n");
	return 0;
}
