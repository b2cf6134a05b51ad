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
#include "unm-ctlmsg.h"

/*
 * Limits hold from accept on: each uid may hold --max-conns connections;
 * beyond that a few (CONN_REFUSING per uid) are kept just long enough to
 * read their first request and answer it with the reason (EDQUOT), at most
 * CONN_REFUSE_MS; any more are closed at accept. Per-uid counts are kept
 * in a short list (one entry per uid with a connection), so a flood of
 * connections costs O(1) per accept.
 *
 * Replies never block: sockets are non-blocking, a reply that does not
 * fit waits in c->out (one per connection: no request is read while it
 * waits) and goes out on EPOLLOUT; a client that leaves a reply unread
 * for CONN_SLOW_MS after its last progress is cut off.
 */
#define CONN_REFUSING   4
#define CONN_REFUSE_MS  1000
#define CONN_SLOW_MS    5000
#define ACCEPT_BATCH    64      /* accepts per event: requests get their turn */

static struct uid_conns *uid_get(struct unmd *d, uid_t uid)
{
	struct uid_conns *u;

	for (u = d->uids; u; u = u->next)
		if (u->uid == uid)
			return u;
	if (!(u = calloc(1, sizeof(*u))))
		return NULL;
	u->uid = uid;
	u->next = d->uids;
	d->uids = u;
	return u;
}

static void uid_put(struct unmd *d, struct uid_conns *u)
{
	if (u->conns || u->refusing || u->jobs)
		return;
	for (struct uid_conns **pp = &d->uids; *pp; pp = &(*pp)->next)
		if (*pp == u) {
			*pp = u->next;
			free(u);
			return;
		}
}

static void set_deadline(struct unmd *d, struct ctl_conn *c, uint64_t ns)
{
	d->n_deadlines += (ns != 0) - (c->deadline_ns != 0);
	c->deadline_ns = ns;
}

/* Register what C waits for: a request (or its hang-up), room for its
 * queued reply, or nothing while its attach runs. EPOLLHUP and EPOLLERR
 * come anyway: a client that closed is seen in every state, and one that
 * only shut down its sending side still gets its reply. */
static void conn_arm(int ep, struct ctl_conn *c)
{
	uint32_t want = c->out ? EPOLLOUT : c->job ? 0 : EPOLLIN | EPOLLRDHUP;
	struct epoll_event ev = { .events = want, .data.ptr = c };

	if (want != c->ev && epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->ev = want;
}

/* Accept one connection; false when there is none left to accept. */
static bool conn_new(struct unmd *d, int ep, int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct uid_conns *u;
	struct ctl_conn *c;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return errno == ECONNABORTED || errno == EINTR;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || !(u = uid_get(d, cr.uid))) {
		close(fd);
		return true;
	}
	/* one uid cannot take unmd's fd table, or its time, from the others */
	if (u->conns >= d->max_conns_uid && u->refusing >= CONN_REFUSING) {
		udebug(d, "connection from pid %d uid %u closed: over --max-conns",
		       (int)cr.pid, (unsigned)cr.uid);
		close(fd);
		uid_put(d, u);
		return true;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		close(fd);
		uid_put(d, u);
		return true;
	}
	c->fd = fd;
	c->pid = cr.pid;
	c->uid = cr.uid;
	c->gid = cr.gid;
	c->uc = u;
	c->over_quota = u->conns >= d->max_conns_uid;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(c);
		close(fd);
		uid_put(d, u);
		return true;
	}
	c->ev = ev.events;
	if (c->over_quota) {
		u->refusing++;
		set_deadline(d, c, unm_now_ns() + CONN_REFUSE_MS * 1000000ull);
	} else {
		u->conns++;
	}
	c->next = d->conns;
	d->conns = c;
	udebug(d, "connection from pid %d uid %u gid %u", (int)cr.pid, (unsigned)cr.uid,
	       (unsigned)cr.gid);
	return true;
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
	set_deadline(d, c, 0);
	if (c->over_quota)
		c->uc->refusing--;
	else
		c->uc->conns--;
	uid_put(d, c->uc);
	for (struct ctl_conn **pp = &d->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	c->next = d->closed_conns;
	d->closed_conns = c;
}

/* Send what C's reply queue holds, as far as the socket takes it. Returns
 * 0 (sent, or waiting for EPOLLOUT) or < 0: cut the connection. */
static int conn_flush(struct unmd *d, int ep, struct ctl_conn *c)
{
	struct ctl_out *o = c->out;
	bool moved = false;

	while (o && o->pos <= o->n_items) {
		int rc = o->pos == 0 ?
			unm_ctl_send(c->fd, &o->rep, sizeof(o->rep), o->fds, o->nfds) :
			unm_ctl_send(c->fd, &o->items[o->pos - 1], sizeof(o->items[0]), NULL, 0);

		if (rc == -EAGAIN || rc == -ENOBUFS)
			break;
		if (rc) {
			udebug(d, "reply to pid %d: %s", (int)c->pid, strerror(-rc));
			return rc;
		}
		if (o->pos == 0) { /* the fds are the peer's now: drop our dups */
			for (unsigned i = 0; i < o->nfds; i++)
				close(o->fds[i]);
			o->nfds = 0;
		}
		o->pos++;
		moved = true;
	}
	if (o && o->pos > o->n_items) {
		ctl_out_free(o);
		c->out = NULL;
	}
	if (!c->over_quota)
		set_deadline(d, c, !c->out ? 0 : moved || !c->deadline_ns ?
			     unm_now_ns() + CONN_SLOW_MS * 1000000ull : c->deadline_ns);
	conn_arm(ep, c);
	return 0;
}

/* One epoll event on connection C. */
static void conn_event(struct unmd *d, int ep, struct ctl_conn *c, uint32_t events)
{
	if (c->fd < 0)
		return;
	if (c->out || c->job) {
		/* no request is read meanwhile; a hang-up ends it */
		if (events & (EPOLLHUP | EPOLLERR))
			conn_close(d, ep, c, NULL);
		else if (c->out && conn_flush(d, ep, c) < 0)
			conn_close(d, ep, c, NULL);
		return;
	}
	/* a request, or the hang-up: ctl_handle sees both */
	if (ctl_handle(d, c) < 0 || conn_flush(d, ep, c) < 0)
		conn_close(d, ep, c, NULL);
}

/* Cut connections past their deadline (a walk of all connections: at
 * most every 100 ms). */
static void conn_expire(struct unmd *d, int ep)
{
	static uint64_t last;
	uint64_t now = unm_now_ns();
	struct ctl_conn *c, *next;

	if (now - last < 100000000ull)
		return;
	last = now;
	for (c = d->conns; c && d->n_deadlines; c = next) {
		next = c->next;
		if (c->deadline_ns && now >= c->deadline_ns)
			conn_close(d, ep, c, c->over_quota ? NULL : "cut off (does not read its replies)");
	}
}

/* Attach jobs the worker threads finished. */
static void jobs_done(struct unmd *d, int ep)
{
	struct ctl_job *j;

	while (read(d->job_fd[0], &j, sizeof(j)) == sizeof(j)) {
		struct uid_conns *u;
		struct ctl_conn *c = ctl_job_done(d, j, &u);

		if (c && (!c->out || conn_flush(d, ep, c) < 0))
			conn_close(d, ep, c, NULL);
		uid_put(d, u); /* its connections may all be gone */
	}
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
	ev.data.ptr = &d->job_fd[0];
	epoll_ctl(ep, EPOLL_CTL_ADD, d->job_fd[0], &ev);
	for (;;) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, d->n_deadlines ? 200 : -1);

		if (n < 0 && errno != EINTR) {
			ulog("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &lfd) {
				for (int k = 0; k < ACCEPT_BATCH && conn_new(d, ep, lfd); k++)
					;
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
			} else if (p == &d->job_fd[0]) {
				jobs_done(d, ep);
			} else {
				conn_event(d, ep, p, evs[i].events);
			}
		}
		if (d->n_deadlines)
			conn_expire(d, ep);
		free_closed_conns(d);
	}
	shutdown_all(d, ep);
	free_closed_conns(d);
	close(ep);
	return 1;
}
