/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * limits-common.h - helpers for the limits-* and isolation-* tests: look
 * at a running unmd from outside (open fds, CPU time) and talk to it with
 * raw control messages.
 */
#ifndef UNM_TEST_LIMITS_COMMON_H
#define UNM_TEST_LIMITS_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <unm/ctl.h>
#include "../lib/test.h"
#include "../lib/unmd.h"

/* Open fds of process PID (its /proc/PID/fd entries). */
static inline int lc_nfds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if (!(d = opendir(path)))
		T_FAIL("%s: %s", path, strerror(errno));
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Wait until PID's open fds are at most MAX (unmd closes asynchronously);
 * returns the last count. */
static inline int lc_nfds_settle(pid_t pid, int max, double secs)
{
	double end = t_now() + secs;
	int n;

	while ((n = lc_nfds(pid)) > max && t_now() < end)
		usleep(20000);
	return n;
}

/* CPU seconds (user + system) PID used so far. */
static inline double lc_cpu(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")) || !fgets(buf, sizeof(buf), f))
		T_FAIL("%s: %s", path, strerror(errno));
	fclose(f);
	p = strrchr(buf, ')'); /* the command may hold spaces */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
			 &st) != 2)
		T_FAIL("cannot parse %s", path);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A raw control connection to the test's unmd. */
static inline int lc_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", t_unmd_sock());
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		T_FAIL("connect %s: %s", sa.sun_path, strerror(errno));
	return fd;
}

/* A request of OP on NAME (not sent). */
static inline void lc_req(struct unm_ctl_req *r, unsigned op, const char *name, uint32_t seq)
{
	memset(r, 0, sizeof(*r));
	r->magic = UNM_CTL_MAGIC;
	r->version = UNM_CTL_VERSION;
	r->op = (uint16_t)op;
	r->size = sizeof(*r);
	r->seq = seq;
	snprintf(r->name, sizeof(r->name), "%s", name);
}

/* Send LEN bytes of MSG on FD with NFDS copies of fd FD_TO_SEND attached;
 * returns sendmsg's result. */
static inline ssize_t lc_send_fds(int fd, const void *msg, size_t len, int fd_to_send,
				  unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 253)];
		struct cmsghdr align;
	} cm;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		for (unsigned i = 0; i < nfds; i++)
			memcpy(CMSG_DATA(c) + i * sizeof(int), &fd_to_send, sizeof(int));
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL);
}

#endif
