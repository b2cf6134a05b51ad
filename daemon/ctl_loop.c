// SPDX-License-Identifier: BSD-2-Clause
/*
 * ctl_loop.c - the control thread's event loop: accept connections, serve
 * their requests (ctl_server.c), cut off clients whose port errored,
 * stop cleanly on a signal.
 *
 * Connections (struct ctl_conn) belong to the control thread alone; ports
 * point back at their connection (p->owner) under d->lock, and a
 * connection is freed only after its port left it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include "unmd.h"

static void conn_new(struct unmd *d, int ep, int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	struct timeval tv = { .tv_sec = 2 };
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct ctl_conn *c;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		free(c);
		close(fd);
		return;
	}
	/* a client that stops reading cannot stall us for more than 2 s */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c->fd = fd;
	c->pid = cr.pid;
	c->uid = cr.uid;
	c->gid = cr.gid;
	{ /* one uid cannot take unmd's fd table from the others */
		unsigned n = 0;

		for (struct ctl_conn *o = d->conns; o; o = o->next)
			n += o->uid == c->uid;
		c->over_quota = n >= d->max_conns_uid;
	}
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(c);
		close(fd);
		return;
	}
	c->next = d->conns;
	d->conns = c;
	udebug(d, "connection from pid %d uid %u gid %u", (int)cr.pid, (unsigned)cr.uid,
	       (unsigned)cr.gid);
}

static void conn_close(struct unmd *d, int ep, struct ctl_conn *c, const char *why)
{
	if (c->fd < 0)
		return;
	ctl_conn_gone(d, c, why);
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	shutdown(c->fd, SHUT_RDWR);
	close(c->fd);
	c->fd = -1;
	for (struct ctl_conn **pp = &d->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	c->next = d->closed_conns;
	d->closed_conns = c;
}

static void free_closed_conns(struct unmd *d)
{
	while (d->closed_conns) {
		struct ctl_conn *c = d->closed_conns;

		d->closed_conns = c->next;
		free(c);
	}
}

/* Ports the forwarding thread errored: cut their clients off. */
static void reap(struct unmd *d, int ep)
{
	uint64_t cnt;
	struct ctl_conn *c, *next;

	if (read(d->reap_fd, &cnt, sizeof(cnt)) < 0)
		return;
	for (c = d->conns; c; c = next) {
		bool bad;

		next = c->next;
		unmd_lock(d);
		bad = c->port && c->port->errored;
		unmd_unlock(d);
		if (bad)
			conn_close(d, ep, c, "cut off (port errored)");
	}
}

static void shutdown_all(struct unmd *d, int ep)
{
	while (d->conns)
		conn_close(d, ep, d->conns, "disconnected at shutdown");
	vs_stop(d);
	unmd_remove_all(d);
}

int unmd_serve(struct unmd *d, int lfd, int sfd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		return -errno;
	ev.data.ptr = &lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.ptr = &sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.ptr = &d->reap_fd;
	epoll_ctl(ep, EPOLL_CTL_ADD, d->reap_fd, &ev);
	for (;;) {
		struct epoll_event evs[16];
		int n = epoll_wait(ep, evs, 16, -1);

		if (n < 0 && errno != EINTR) {
			ulog("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &lfd) {
				conn_new(d, ep, lfd);
			} else if (p == &sfd) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					ulog("signal %u: shutting down", si.ssi_signo);
					shutdown_all(d, ep);
					free_closed_conns(d);
					close(ep);
					return 0;
				}
			} else if (p == &d->reap_fd) {
				reap(d, ep);
			} else {
				struct ctl_conn *c = p;

				/* a request, or the hang-up: ctl_handle sees both */
				if (c->fd >= 0 && ctl_handle(d, c) < 0)
					conn_close(d, ep, c, NULL);
			}
		}
		free_closed_conns(d);
	}
	shutdown_all(d, ep);
	free_closed_conns(d);
	close(ep);
	return 1;
}
