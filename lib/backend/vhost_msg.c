// SPDX-License-Identifier: BSD-2-Clause
/*
 * vhost_msg.c - the vhost-user control connection of a vhost-user port:
 * listen (server, the default) or connect (client), reassemble messages
 * and their fds from the non-blocking stream, validate and apply them,
 * reply, and tear everything down on disconnect.
 *
 * Threads: every function runs with vu_dev.lock held, from a sync or a
 * wakeup of the port (no thread of our own); nothing here blocks: the
 * socket is non-blocking, a partial message waits in vu_dev.buf for the
 * next call, and a reply that does not fit the socket buffer at once drops
 * the connection (a frontend waits for our replies; one that does not read
 * them is broken).
 *
 * Trust: messages are untrusted. The header must carry version 1 and no
 * REPLY flag and announce at most VU_MAX_PAYLOAD bytes (else the
 * connection is dropped); each request checks its payload size, vring
 * index and fd count, and answers a failure (REPLY_ACK) or ignores the
 * message. Fds we do not keep are closed before the next message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>
#include "backend/vhost_user.h"

/* epoll tags (data.u32) of the port's fds */
#define TAG_LISTEN 1
#define TAG_CONN   2
#define TAG_TIMER  3
#define TAG_KICK   0x10 /* + vq index */

#define RECONNECT_NS 100000000ull /* client mode: retry every 100 ms */

static void ep_add(struct vu_dev *d, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	if (epoll_ctl(d->port->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		unm_log(UNM_LOG_WARN, "%s: epoll_ctl: %s", d->port->name, strerror(errno));
}

static void ep_del_close(struct vu_dev *d, int *fd)
{
	if (*fd < 0)
		return;
	epoll_ctl(d->port->epfd, EPOLL_CTL_DEL, *fd, NULL);
	close(*fd);
	*fd = -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void timer_set(struct vu_dev *d, bool on)
{
	struct itimerspec it = { 0 };

	if (d->timer_fd < 0)
		return;
	if (on) {
		it.it_value.tv_nsec = (long)RECONNECT_NS;
		it.it_interval.tv_nsec = (long)RECONNECT_NS;
	}
	timerfd_settime(d->timer_fd, 0, &it, NULL);
}

static void vq_reset(struct vu_dev *d, unsigned qi)
{
	struct vu_vq *vq = &d->vq[qi];
	uint64_t bad = vq->bad;

	vu_vq_stop(d, qi);
	ep_del_close(d, &vq->kick_fd);
	close_fd(&vq->call_fd);
	close_fd(&vq->err_fd);
	memset(vq, 0, sizeof(*vq));
	vq->kick_fd = vq->call_fd = vq->err_fd = -1;
	vq->bad = bad;
}

static void drop_fds(struct vu_dev *d)
{
	for (unsigned i = 0; i < d->nfds; i++)
		close(d->fds[i]);
	d->nfds = 0;
}

void vu_ctl_disconnect(struct vu_dev *d, const char *why)
{
	if (d->conn_fd < 0)
		return;
	unm_log(UNM_LOG_INFO, "%s: vhost-user frontend disconnected (%s)", d->port->name, why);
	ep_del_close(d, &d->conn_fd);
	for (unsigned qi = 0; qi < VU_NVQ; qi++)
		vq_reset(d, qi);
	vu_mem_clear(&d->mem);
	drop_fds(d);
	d->have = 0;
	d->features = d->proto_features = 0;
	d->features_set = false;
	d->guest_hdr_len = 12;
	d->disconnects++;
	if (d->listen_fd >= 0)
		ep_add(d, d->listen_fd, TAG_LISTEN);
	/* A broken queue errored the port; the next device starts clean. */
	d->port->error = 0;
	timer_set(d, d->client);
}

/* ---- replies ------------------------------------------------------------- */

static void send_reply(struct vu_dev *d, uint32_t req, const void *payload, uint32_t size)
{
	uint8_t out[VU_HDR_SIZE + 64];
	struct vu_msg_hdr h = { .request = req, .flags = VU_VERSION | VU_FLAG_REPLY, .size = size };
	ssize_t n;

	memcpy(out, &h, sizeof(h));
	memcpy(out + VU_HDR_SIZE, payload, size);
	n = send(d->conn_fd, out, VU_HDR_SIZE + size, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n != (ssize_t)(VU_HDR_SIZE + size))
		vu_ctl_disconnect(d, n < 0 ? strerror(errno) : "short reply write");
}

static void reply_u64(struct vu_dev *d, uint32_t req, uint64_t v)
{
	send_reply(d, req, &v, sizeof(v));
}

/* ---- request handlers ------------------------------------------------------
 * Each returns 0 (success) or a negative errno (the request was refused);
 * vu_handle() turns that into a REPLY_ACK answer when one was asked for.
 * A request with its own reply sends it and returns 0. */

static int take_fd(struct vu_dev *d, bool nofd, int *out)
{
	int fl;

	*out = -1;
	if (nofd)
		return d->nfds == 0 ? 0 : -EINVAL;
	if (d->nfds != 1)
		return -EINVAL;
	*out = d->fds[0];
	d->nfds = 0;
	/* Eventfds shared with an untrusted peer: never let a read or write of
	 * ours block (the peer could drain or saturate the counter). */
	fl = fcntl(*out, F_GETFL);
	if (fl >= 0)
		fcntl(*out, F_SETFL, fl | O_NONBLOCK);
	return 0;
}

static int h_vring_fd(struct vu_dev *d, uint32_t req, uint64_t v)
{
	unsigned qi = (unsigned)(v & VU_VRING_IDX_MASK);
	bool nofd = v & VU_VRING_NOFD;
	struct vu_vq *vq;
	int fd, rc;

	if (qi >= VU_NVQ || (v >> 9))
		return -EINVAL;
	rc = take_fd(d, nofd, &fd);
	if (rc)
		return rc;
	vq = &d->vq[qi];
	if (req == VU_SET_VRING_KICK) {
		ep_del_close(d, &vq->kick_fd);
		vq->kick_fd = fd;
		if (fd >= 0)
			ep_add(d, fd, TAG_KICK + qi);
		/* The ring starts when it gets its kick fd (vhost-user.rst). */
		vq->started = true;
		vu_vq_update(d, qi);
	} else if (req == VU_SET_VRING_CALL) {
		close_fd(&vq->call_fd);
		vq->call_fd = fd;
	} else {
		close_fd(&vq->err_fd);
		vq->err_fd = fd;
	}
	return 0;
}

static int h_set_features(struct vu_dev *d, uint64_t v)
{
	if (v & ~d->offered)
		return -EINVAL;
	d->features = v;
	d->features_set = true;
	d->guest_hdr_len = (v & (VU_BIT(VIRTIO_F_VERSION_1) | VU_BIT(VIRTIO_NET_F_MRG_RXBUF))) ? 12 : 10;
	for (unsigned qi = 0; qi < VU_NVQ; qi++) {
		if (!(v & VU_BIT(VHOST_USER_F_PROTOCOL_FEATURES)))
			d->vq[qi].enabled = true;
		vu_vq_update(d, qi);
	}
	return 0;
}

static int h_mem_table(struct vu_dev *d, const uint8_t *pl, uint32_t size)
{
	struct vu_mem_table_msg mt;
	char why[160] = "";
	int rc;

	memset(&mt, 0, sizeof(mt));
	memcpy(&mt, pl, size < sizeof(mt) ? size : sizeof(mt));
	if (size < 8 || mt.nregions > VU_MAX_REGIONS || size < 8 + mt.nregions * sizeof(mt.r[0])) {
		drop_fds(d);
		vu_mem_clear(&d->mem);
		rc = -EINVAL;
		snprintf(why, sizeof(why), "payload of %u bytes", size);
	} else {
		rc = vu_mem_set(&d->mem, &mt, d->fds, d->nfds, why, sizeof(why));
		d->nfds = 0;
	}
	if (rc) {
		d->bad_msgs++;
		unm_log(UNM_LOG_WARN, "%s: SET_MEM_TABLE refused: %s", d->port->name, why);
	}
	for (unsigned qi = 0; qi < VU_NVQ; qi++)
		vu_vq_update(d, qi);
	return rc;
}

static int h_vring_state(struct vu_dev *d, uint32_t req, const struct vu_vring_state *s)
{
	struct vu_vq *vq;

	if (s->index >= VU_NVQ)
		return -EINVAL;
	vq = &d->vq[s->index];
	switch (req) {
	case VU_SET_VRING_NUM:
		if (s->num == 0 || s->num > VU_MAX_QSIZE || (s->num & (s->num - 1)))
			return -EINVAL;
		vu_vq_stop(d, s->index);
		vq->num = s->num;
		vu_vq_update(d, s->index);
		return 0;
	case VU_SET_VRING_BASE:
		if (s->num > 0xffff)
			return -EINVAL;
		vq->base = (uint16_t)s->num;
		vq->last_avail = vq->used_idx = vq->base;
		vq->signalled_used = vq->base;
		return 0;
	case VU_GET_VRING_BASE: {
		struct vu_vring_state r = { s->index, vq->last_avail };

		vu_vq_stop(d, s->index);
		send_reply(d, req, &r, sizeof(r));
		return 0;
	}
	case VU_SET_VRING_ENABLE:
		if (s->num > 1)
			return -EINVAL;
		vq->enabled = s->num == 1;
		vu_vq_update(d, s->index);
		return 0;
	}
	return -EINVAL;
}

static int h_vring_addr(struct vu_dev *d, const struct vu_vring_addr *a)
{
	if (a->index >= VU_NVQ)
		return -EINVAL;
	d->vq[a->index].addr = *a;
	d->vq[a->index].addr_set = true;
	vu_vq_update(d, a->index);
	return 0;
}

static uint32_t payload_need(uint32_t req)
{
	switch (req) {
	case VU_SET_FEATURES: case VU_SET_PROTOCOL_FEATURES:
	case VU_SET_VRING_KICK: case VU_SET_VRING_CALL: case VU_SET_VRING_ERR:
		return 8;
	case VU_SET_VRING_NUM: case VU_SET_VRING_BASE: case VU_GET_VRING_BASE:
	case VU_SET_VRING_ENABLE:
		return sizeof(struct vu_vring_state);
	case VU_SET_VRING_ADDR:
		return sizeof(struct vu_vring_addr);
	case VU_SET_MEM_TABLE:
		return 8;
	}
	return 0;
}

/* Apply one complete message (header + payload in d->buf, fds in d->fds). */
static void vu_handle(struct vu_dev *d)
{
	struct vu_msg_hdr h;
	const uint8_t *pl = d->buf + VU_HDR_SIZE;
	uint64_t v = 0;
	int rc = 0;
	bool own_reply = false;

	memcpy(&h, d->buf, sizeof(h));
	d->msgs++;
	if (h.size < payload_need(h.request)) {
		rc = -EINVAL;
		goto done;
	}
	if (h.size >= 8)
		memcpy(&v, pl, 8);
	switch (h.request) {
	case VU_GET_FEATURES:
		reply_u64(d, h.request, d->offered);
		own_reply = true;
		break;
	case VU_SET_FEATURES:
		rc = h_set_features(d, v);
		break;
	case VU_GET_PROTOCOL_FEATURES:
		reply_u64(d, h.request, VU_BIT(VU_PROTO_REPLY_ACK));
		own_reply = true;
		break;
	case VU_SET_PROTOCOL_FEATURES:
		d->proto_features = v & VU_BIT(VU_PROTO_REPLY_ACK);
		break;
	case VU_GET_QUEUE_NUM:
		reply_u64(d, h.request, 1);
		own_reply = true;
		break;
	case VU_SET_OWNER:
		break;
	case VU_RESET_OWNER:
		for (unsigned qi = 0; qi < VU_NVQ; qi++)
			vq_reset(d, qi);
		d->features_set = false;
		break;
	case VU_SET_MEM_TABLE:
		rc = h_mem_table(d, pl, h.size);
		break;
	case VU_SET_VRING_NUM: case VU_SET_VRING_BASE: case VU_SET_VRING_ENABLE:
	case VU_GET_VRING_BASE: {
		struct vu_vring_state s;

		memcpy(&s, pl, sizeof(s));
		rc = h_vring_state(d, h.request, &s);
		own_reply = h.request == VU_GET_VRING_BASE && rc == 0;
		break;
	}
	case VU_SET_VRING_ADDR: {
		struct vu_vring_addr a;

		memcpy(&a, pl, sizeof(a));
		rc = h_vring_addr(d, &a);
		break;
	}
	case VU_SET_VRING_KICK: case VU_SET_VRING_CALL: case VU_SET_VRING_ERR:
		rc = h_vring_fd(d, h.request, v);
		break;
	default:
		/* SET_LOG_*, SEND_RARP, NET_SET_MTU, ...: none of their
		 * features is offered; a frontend that sends them anyway
		 * gets a refusal if it asked for one. */
		rc = -EOPNOTSUPP;
		break;
	}
done:
	if (rc) {
		d->bad_msgs++;
		unm_log(UNM_LOG_WARN, "%s: vhost-user request %u refused: %s", d->port->name,
			h.request, strerror(-rc));
	}
	drop_fds(d);
	if (d->conn_fd >= 0 && !own_reply && (h.flags & VU_FLAG_NEED_REPLY) &&
	    (d->proto_features & VU_BIT(VU_PROTO_REPLY_ACK)))
		reply_u64(d, h.request, rc ? 1 : 0);
	/* A GET_VRING_BASE we refused still owes the frontend an answer. */
	if (d->conn_fd >= 0 && rc && (h.request == VU_GET_FEATURES ||
				       h.request == VU_GET_VRING_BASE ||
				       h.request == VU_GET_PROTOCOL_FEATURES))
		vu_ctl_disconnect(d, "refused a request that needs an answer");
}

/* ---- reading -------------------------------------------------------------- */

/* Read what is available; handle each complete message. */
static void ctl_read(struct vu_dev *d)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * VU_MAX_FDS)];
		struct cmsghdr align;
	} cbuf;

	while (d->conn_fd >= 0) {
		struct vu_msg_hdr h;
		uint32_t want = VU_HDR_SIZE;
		struct iovec iov;
		struct msghdr mh = { 0 };
		ssize_t n;

		if (d->have >= VU_HDR_SIZE) {
			memcpy(&h, d->buf, sizeof(h));
			want = VU_HDR_SIZE + h.size;
		}
		iov.iov_base = d->buf + d->have;
		iov.iov_len = want - d->have;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf.b;
		mh.msg_controllen = sizeof(cbuf.b);
		n = recvmsg(d->conn_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			vu_ctl_disconnect(d, n == 0 ? "connection closed" : strerror(errno));
			return;
		}
		/* Past VU_MAX_FDS the fds are closed: the message will be
		 * refused on its fd count. */
		unm_fdpass_take(&mh, d->fds, &d->nfds, VU_MAX_FDS);
		if (mh.msg_flags & MSG_CTRUNC) {
			d->bad_msgs++;
			vu_ctl_disconnect(d, "too many fds in one message");
			return;
		}
		d->have += (uint32_t)n;
		if (d->have == VU_HDR_SIZE) {
			memcpy(&h, d->buf, sizeof(h));
			if ((h.flags & VU_VERSION_MASK) != VU_VERSION || (h.flags & VU_FLAG_REPLY) ||
			    h.size > VU_MAX_PAYLOAD) {
				d->bad_msgs++;
				unm_log(UNM_LOG_WARN, "%s: bad vhost-user header (request %u flags 0x%x size %u)",
					d->port->name, h.request, h.flags, h.size);
				vu_ctl_disconnect(d, "protocol error");
				return;
			}
		}
		if (d->have >= VU_HDR_SIZE && d->have == VU_HDR_SIZE + ((struct vu_msg_hdr *)(void *)d->buf)->size) {
			vu_handle(d);
			d->have = 0;
		}
	}
}

/* ---- connection ------------------------------------------------------------ */

static void set_conn(struct vu_dev *d, int fd)
{
	d->conn_fd = fd;
	d->have = 0;
	d->connects++;
	ep_add(d, fd, TAG_CONN);
	/* One frontend at a time: later ones wait in the listen backlog, and
	 * the listening socket leaves the epoll set meanwhile (it would stay
	 * readable and make every wait spin). */
	if (d->listen_fd >= 0)
		epoll_ctl(d->port->epfd, EPOLL_CTL_DEL, d->listen_fd, NULL);
	timer_set(d, false);
	unm_log(UNM_LOG_INFO, "%s: vhost-user frontend connected", d->port->name);
}

static void try_connect(struct vu_dev *d)
{
	int fd = unm_usock_connect(d->path, 0, SOCK_STREAM);

	if (fd >= 0)
		set_conn(d, fd);
}

void vu_ctl_poll(struct vu_dev *d)
{
	uint64_t ticks;

	d->last_ctl_ns = unm_now_ns();
	if (d->conn_fd < 0) {
		if (d->client) {
			if (read(d->timer_fd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks))
				try_connect(d);
		} else {
			int fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

			if (fd >= 0)
				set_conn(d, fd);
		}
	}
	ctl_read(d);
	/* A frontend that connected while its predecessor was still being
	 * torn down waits in the backlog: serve it now. */
	if (d->conn_fd < 0 && !d->client) {
		int fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			set_conn(d, fd);
			ctl_read(d);
		}
	}
}

int vu_ctl_open(struct vu_dev *d, char *why, size_t whylen)
{
	struct sockaddr_un sa;
	socklen_t len;
	int rc;

	if (d->given_fd >= 0) {
		int on = 0;
		socklen_t olen = sizeof(on);

		/* handed over: listening already, bound by whoever opened it */
		if (getsockopt(d->given_fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &olen) < 0 || !on ||
		    fcntl(d->given_fd, F_SETFL, fcntl(d->given_fd, F_GETFL) | O_NONBLOCK) < 0) {
			snprintf(why, whylen, "the handed-over fd is not a listening socket");
			close_fd(&d->given_fd);
			return -EINVAL;
		}
		d->listen_fd = d->given_fd;
		d->given_fd = -1;
		ep_add(d, d->listen_fd, TAG_LISTEN);
		return 0;
	}
	if ((rc = unm_usock_addr(d->path, 0, &sa, &len))) {
		snprintf(why, whylen, "socket path too long");
		return rc;
	}
	if (d->client) {
		d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (d->timer_fd < 0)
			return -errno;
		ep_add(d, d->timer_fd, TAG_TIMER);
		try_connect(d);
		if (d->conn_fd < 0)
			timer_set(d, true);
		return 0;
	}
	rc = unm_usock_listen(d->path, 0, SOCK_STREAM, &d->sock_file, why, whylen);
	if (rc < 0)
		return rc;
	d->listen_fd = rc;
	ep_add(d, d->listen_fd, TAG_LISTEN);
	return 0;
}

void vu_ctl_close(struct vu_dev *d)
{
	vu_ctl_disconnect(d, "port closed");
	if (d->listen_fd >= 0) {
		close_fd(&d->listen_fd);
		unm_usock_forget(&d->sock_file, d->path);
	}
	close_fd(&d->given_fd);
	close_fd(&d->sock_file.dir_fd);
	close_fd(&d->timer_fd);
}
