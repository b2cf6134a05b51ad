// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: who may open a pipe end. In one process: a second open of
 * the same end is -EBUSY (with a message), the other end opens, a third
 * open of either end is -EBUSY. Across processes: the same, the owner
 * answering from unm_wait(). After the joiner closes, the owner sees
 * -EPIPE and a new joiner is refused ("peer gone"). After the owner
 * closes, the name is free again. A socket squatting the name under
 * another uid is refused with -EACCES, and an owner refuses a joiner of
 * another uid; a squatter that never answers gives -ETIMEDOUT.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include "pipe-common.h"

static char nm_m[96], nm_s[96];

static void same_process(void)
{
	struct unm_port *m, *s, *x;

	T_ASSERT_EQ(unm_open(nm_m, &m, NULL), 0);
	T_ASSERT_EQ(unm_open(nm_m, &x, NULL), -EBUSY);
	T_ASSERT(strstr(unm_errmsg(), "already open"));
	T_ASSERT_EQ(unm_open(nm_s, &s, NULL), 0);
	T_ASSERT_EQ(unm_open(nm_s, &x, NULL), -EBUSY);
	T_ASSERT_EQ(unm_open(nm_m, &x, NULL), -EBUSY);
	/* frames flow both ways inside one process */
	T_ASSERT_EQ(unm_inject(m, "hello, slave", 12), 12);
	T_ASSERT_EQ(unm_txsync(m, 0), 0);
	T_ASSERT_EQ(unm_rxsync(s, 0), 0);
	T_ASSERT_EQ(unm_ring_space(unm_ring_get(s, 0, 0)), 1);
	/* the joiner leaves: the owner's syncs report it, newcomers are refused */
	unm_close(s);
	T_ASSERT_EQ(unm_wait(m, UNM_WAIT_TX, 1000), -EPIPE);
	T_ASSERT_EQ(unm_open(nm_s, &x, NULL), -EBUSY);
	T_ASSERT(strstr(unm_errmsg(), "peer gone"));
	unm_close(m);
	/* the name is free again */
	T_ASSERT_EQ(unm_open(nm_s, &s, NULL), 0);
	T_ASSERT_EQ(unm_open(nm_m, &m, NULL), 0);
	unm_close(s); /* owner leaves first: the joiner sees -EPIPE */
	T_ASSERT_EQ(unm_wait(m, UNM_WAIT_RX, 1000), -EPIPE);
	unm_close(m);
}

/* Child: open NAME and keep syncing until the parent kills it. */
static pid_t holder(const char *nm, int fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct unm_port *p;
		char c = 'r';

		if (unm_open(nm, &p, NULL) || write(fd, &c, 1) != 1)
			_exit(3);
		for (;;)
			unm_wait(p, UNM_WAIT_RX, 100);
	}
	return pid;
}

static void cross_process(void)
{
	struct unm_port *s, *x;
	int fds[2];
	char c;
	pid_t pid;

	T_ASSERT_EQ(pipe(fds), 0);
	pid = holder(nm_m, fds[1]);
	T_ASSERT_EQ(read(fds[0], &c, 1), 1);
	T_ASSERT_EQ(unm_open(nm_m, &x, NULL), -EBUSY);
	T_ASSERT(strstr(unm_errmsg(), "already open"));
	T_ASSERT_EQ(unm_open(nm_s, &s, NULL), 0);
	/* a third process (here: a second port of ours) wanting either end */
	T_ASSERT_EQ(unm_open(nm_s, &x, NULL), -EBUSY);
	kill(pid, SIGKILL);
	T_ASSERT_EQ(pc_reap(pid, 5), 128 + SIGKILL);
	T_ASSERT_EQ(unm_wait(s, UNM_WAIT_RX, 2000), -EPIPE);
	unm_close(s);
	close(fds[0]);
	close(fds[1]);
}

static socklen_t rendezvous_addr(struct sockaddr_un *a, unsigned uid, const char *key)
{
	int n;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "unetmap.pipe.%u.%s", uid, key);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

/* A process of another uid binds our pipe's rendezvous name. */
static void squatter(const char *key, unsigned as_uid, int expect)
{
	struct unm_open_opts o = { .sz = sizeof(o), .timeout_ms = 300 };
	struct unm_port *x;
	int fds[2];
	char c;
	pid_t pid;

	T_ASSERT_EQ(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		struct sockaddr_un a;
		socklen_t al = rendezvous_addr(&a, (unsigned)geteuid(), key);
		int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);

		if (as_uid != geteuid() && setresuid(as_uid, as_uid, as_uid))
			_exit(3);
		if (bind(s, (struct sockaddr *)&a, al) || listen(s, 4) || write(fds[1], "r", 1) != 1)
			_exit(4);
		pause();
		_exit(0);
	}
	T_ASSERT_EQ(read(fds[0], &c, 1), 1);
	T_ASSERT_EQ(unm_open(nm_m, &x, &o), expect);
	printf("squatter uid %u: %s\n", as_uid, unm_errmsg());
	kill(pid, SIGKILL);
	pc_reap(pid, 5);
	close(fds[0]);
	close(fds[1]);
}

/* A client of another uid connects to our owner: refused with -EACCES. */
static void foreign_joiner(const char *key)
{
	struct unm_port *m;
	int fds[2], st = -1;
	pid_t pid;

	T_ASSERT_EQ(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		struct sockaddr_un a;
		socklen_t al = rendezvous_addr(&a, (unsigned)geteuid(), key);
		char req[256] = { 0 }, rep[512];
		int32_t status;
		int s;

		if (setresuid(65534, 65534, 65534))
			_exit(3);
		s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		if (read(fds[0], rep, 1) != 1 || connect(s, (struct sockaddr *)&a, al) ||
		    send(s, req, sizeof(req), 0) < 0 || recv(s, rep, sizeof(rep), 0) < 12)
			_exit(4);
		memcpy(&status, rep + 8, 4); /* pipe.c's reply: magic, version, pad, status */
		_exit(status == -EACCES ? 0 : 5);
	}
	T_ASSERT_EQ(unm_open(nm_m, &m, NULL), 0);
	T_ASSERT_EQ(write(fds[1], "g", 1), 1);
	/* the owner answers from its syncs */
	for (double end = t_now() + 5; t_now() < end;) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		T_ASSERT(unm_wait(m, UNM_WAIT_RX, 10) >= 0);
	}
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	unm_close(m);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	char key[96];

	t_watchdog(30);
	snprintf(key, sizeof(key), "%s{0", t_uniq("busy"));
	snprintf(nm_m, sizeof(nm_m), "%s{0", t_uniq("busy"));
	snprintf(nm_s, sizeof(nm_s), "%s}0", t_uniq("busy"));
	same_process();
	cross_process();
	squatter(key, (unsigned)geteuid(), -ETIMEDOUT);
	if (geteuid() == 0) {
		squatter(key, 65534, -EACCES);
		foreign_joiner(key);
	} else {
		printf("not root: uid checks not tested\n");
	}
	printf("ok\n");
	return 0;
}
