// SPDX-License-Identifier: BSD-2-Clause
/*
 * ctl_fuzz.c - libFuzzer target for unmd's control-request server: the
 * receive, validation (unm_ctl_check_req) and every request handler of
 * daemon/ctl_server.c, with the real switch table (vale.c), client ports
 * (vport_csb.c, regions and eventfds) and in-daemon ports (vport_attached.c),
 * but no forwarding thread and no listening socket.
 *
 * unmd's core comes from libunmd.a (everything of unmd but main.c), with
 * one context set up here as main.c does, minus the threads and socket.
 * Input: a sequence of messages, each [u16 little-endian length][bytes];
 * bit 15 of the length attaches an fd (unmd must close it). Each message
 * goes over a SOCK_SEQPACKET socketpair to ctl_handle() as a client's
 * would; replies are read back, their fds closed, and checked: a reply
 * to a request that unm_ctl_check_req refuses must carry an error. After
 * the input the connection goes (ctl_conn_gone) and every switch is torn
 * down, so no state leaks into the next input: LeakSanitizer and the fd
 * count check that.
 *
 * Requests carry the port name parsed (struct unm_ctl_portspec): the
 * spec check (unm_ctl_spec_get, through unm_ctl_check_req and directly)
 * sees every byte the fuzzer writes there. ATTACH is restricted to specs
 * of type "null": other port types would open real devices (tap,
 * AF_PACKET) on the fuzzing host.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../daemon/unmd.h"
#include "unm-ctlmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct unmd *D; /* the harness's context, kept across inputs */

static bool terminated(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

static void quiet(const char *msg)
{
	(void)msg;
}

static void setup_once(void)
{
	static struct unmd daemon;

	if (D)
		return;
	if (unmd_init(&daemon))
		abort();
	D = &daemon;
	unmd_set_log(quiet);
	/* as vs_start, without the forwarding thread */
	D->ep = epoll_create1(EPOLL_CLOEXEC);
	D->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	D->max_ports_uid = 8;
	D->max_mem_uid = 64ull << 20;
}

/* Read every reply waiting on FD; close the fds they carry. */
static void drain_replies(int fd, bool refused)
{
	union {
		struct unm_ctl_rep rep;
		struct unm_ctl_item it;
		char raw[512];
	} u;
	union {
		char buf[CMSG_SPACE(sizeof(int) * UNM_CTL_MAX_FDS)];
		struct cmsghdr align;
	} cm;
	bool first = true;

	for (;;) {
		struct iovec iov = { .iov_base = u.raw, .iov_len = sizeof(u.raw) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (n <= 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < k; i++) {
				int x;

				memcpy(&x, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				close(x);
			}
		}
		if (first && refused && n == sizeof(u.rep) && u.rep.status == 0)
			abort(); /* a malformed request was served */
		first = false;
	}
}

/* What ctl_loop.c does after ctl_handle: wait for an attach running on
 * its worker thread, then send the queued reply (here blocking: the
 * harness reads everything). */
static void finish(struct ctl_conn *c)
{
	if (c->job) {
		struct pollfd pf = { .fd = D->job_fd[0], .events = POLLIN };
		struct ctl_job *j;

		if (poll(&pf, 1, 10000) != 1 || read(D->job_fd[0], &j, sizeof(j)) != sizeof(j))
			abort(); /* an attach of null never takes that long */
		struct uid_conns *u;

		ctl_job_done(D, j, &u);
	}
	if (c->out) {
		struct ctl_out *o = c->out;
		int rc = unm_ctl_send(c->fd, &o->rep, sizeof(o->rep), o->fds, o->nfds);

		for (unsigned i = 0; !rc && i < o->n_items; i++)
			rc = unm_ctl_send(c->fd, &o->items[i], sizeof(o->items[i]), NULL, 0);
		ctl_out_free(o);
		c->out = NULL;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uid_conns uc = { 0 };
	struct ctl_conn c = { .fd = -1, .uc = &uc };
	int sv[2];
	struct timeval tv = { .tv_sec = 1 };
	int bufsz = 1 << 20;

	setup_once();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	c.fd = sv[0];
	c.pid = getpid();
	c.uid = getuid();
	while (size >= 2) {
		uint16_t hdr = (uint16_t)(data[0] | data[1] << 8);
		size_t len = hdr & 0x7fff;
		int fd = -1, rc;
		bool refused;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		/* fixed-size requests only reach the handlers at their size */
		if (len == sizeof(struct unm_ctl_req)) {
			struct unm_ctl_req r;
			struct unm_spec s;
			char err[160] = "";

			memcpy(&r, data, sizeof(r));
			/* unmd opens what the parsed spec says, never the text */
			if (r.op == UNM_CTL_ATTACH && memcmp(r.spec.type, "null", 5))
				break;
			refused = unm_ctl_check_req(&r, sizeof(r), err, sizeof(err)) != 0;
			/* the spec check alone, as either form (a port, a
			 * monitored port): it must agree with itself */
			for (int target = 0; target < 2; target++) {
				int a = unm_ctl_spec_get(&r.spec, target, &s, err, sizeof(err));

				if (unm_ctl_spec_get(&r.spec, target, &s, err, sizeof(err)) != a ||
				    (a && a != -EINVAL) || (!a && !terminated(err, sizeof(err))))
					abort();
				if (!a && s.kind != UNM_KIND_NONE && !unm_port_type(s.kind))
					abort();
			}
		} else {
			refused = true;
		}
		if (hdr & 0x8000)
			fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		rc = unm_ctl_send(sv[1], data, len, fd >= 0 ? &fd : NULL, fd >= 0);
		if (fd >= 0)
			close(fd);
		data += len;
		size -= len;
		if (rc)
			break;
		rc = ctl_handle(D, &c);
		if (rc >= 0)
			finish(&c);
		drain_replies(sv[1], refused);
		if (rc < 0)
			break;
	}
	ctl_conn_gone(D, &c, NULL);
	close(sv[0]);
	close(sv[1]);
	unmd_lock(D);
	unmd_remove_all(D);
	unmd_unlock(D);
	return 0;
}
