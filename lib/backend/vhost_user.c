// SPDX-License-Identifier: BSD-2-Clause
/*
 * vhost_user.c - the "vhost-user:PATH" port type: an unmodified virtio-net
 * device (QEMU virtio-net-pci with a vhost-user netdev, DPDK's
 * net_virtio_user) becomes a unetmap port. We are the vhost-user backend.
 *
 *   port TX ring  --(txsync)-->  virtqueue 0 (guest RX, device writes)
 *   port RX ring  <--(rxsync)--  virtqueue 1 (guest TX, device reads)
 *
 * Modes: server (default: we listen on PATH, the frontend connects, as
 * QEMU's default "-chardev socket,path=PATH" and DPDK's virtio_user do), or
 * client (we connect to PATH and retry every 100 ms; QEMU "server=on",
 * virtio_user "server=1"), chosen by UNM_OPEN_VHOST_CLIENT in
 * unm_open_opts.flags or UNM_VHOST_CLIENT=1 in the environment.
 *
 * Headers: frames in the port's rings carry no virtio-net header unless
 * the port is opened with @conf:vnet=10 or 12 (opts.vnet_hdr_len); then the
 * guest's header is passed through in front of each frame (and checksum
 * and TSO offloads are offered to the guest). Towards the guest we prepend
 * a zero header, or the frame's own (dropped, counted, if it asks for an
 * offload the guest did not negotiate).
 *
 * Link: with no frontend connected, txsync drops what it is given (counted
 * in drops) and rxsync returns nothing; when the frontend disconnects (VM
 * reset, testpmd exit), mappings and queue state are dropped and the port
 * waits for the next one. Connected but with the guest's RX queue stopped
 * or full, TX frames stay in the ring (the ring blocks; unm_fd wakes when
 * the guest adds buffers; unm_wait's wakeup also pushes them).
 *
 * Progress is made only inside syncs, arm and wakeup: the control socket
 * and the kick eventfds are in the port's epoll set (unm_fd); wakeup
 * handles control messages, drains kicks and pushes pending TX frames;
 * syncs also poll the control socket at most once per millisecond. Nothing
 * blocks.
 *
 * Threads: one mutex per port serialises the ops (the control path may
 * unmap guest memory). A thread that calls unm_wait()/wakeup on one ring
 * while another syncs the other ring is safe with respect to guest memory;
 * the model is one thread per port (unmd).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "backend/vhost_user.h"

#define CTL_POLL_NS 1000000ull /* syncs look at the control socket every 1 ms */
#define IDLE_NS     100000     /* a waiter gets kicks after 100 us without progress */

static void ctl_maybe(struct vu_dev *d)
{
	if (unm_now_ns() - d->last_ctl_ns >= CTL_POLL_NS)
		vu_ctl_poll(d);
}

static inline uint32_t kr_prev(const struct unm_kring *kr, uint32_t i)
{
	return i == 0 ? kr->nslots - 1 : i - 1;
}

static void drain_kicks(struct vu_dev *d)
{
	for (unsigned qi = 0; qi < VU_NVQ; qi++) {
		uint64_t v;

		if (d->vq[qi].kick_fd >= 0 &&
		    read(d->vq[qi].kick_fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
			d->kicks_seen += v;
	}
}

/*
 * Kick policy. A kick costs the driver a system call per batch, so kicks
 * stay off while we are polling a queue and making progress, and are
 * turned on only once something has waited on the queue for IDLE_NS
 * without a sync having made progress (the idle timer, handled by
 * wakeup), or at once when they are on already. A waiter that sleeps right
 * after arming is therefore woken by the idle timer at the latest, which
 * turns kicks on and re-checks the queue (no lost wake-up; at most IDLE_NS
 * of extra latency for the frames of that moment).
 */
static void idle_start(struct vu_dev *d)
{
	struct itimerspec it = { .it_value.tv_nsec = IDLE_NS };
	uint64_t now = unm_now_ns();

	if (d->idle_pending && now < d->idle_deadline)
		return;
	if (timerfd_settime(d->idle_fd, 0, &it, NULL) == 0) {
		d->idle_pending = true;
		d->idle_deadline = now + IDLE_NS;
	}
}

/*
 * Someone waits on vq QI: true if, kicks being on, it has work already.
 * A queue that is not ready (no frontend, rings not set up yet) or broken
 * has nothing for the idle timer to find, and whatever makes it ready
 * arrives on the control socket, which is in the epoll set: no timer then
 * (otherwise an idle unmd re-arms it every IDLE_NS, forever).
 */
static bool want_kick(struct vu_dev *d, unsigned qi)
{
	d->waiting[qi] = true;
	if (!d->vq[qi].ready || d->vq[qi].broken)
		return false;
	if (d->vq[qi].kick_on)
		return vu_vq_want_kicks(d, qi, true); /* refresh avail_event, double check */
	idle_start(d);
	return false;
}

static void progress(struct vu_dev *d, unsigned qi)
{
	d->waiting[qi] = false;
	if (d->vq[qi].kick_on)
		vu_vq_want_kicks(d, qi, false);
}

/* Push [hwcur, tx_head) into the guest; frames that wait want a kick. */
static void tx_push(struct unm_port *p, struct unm_kring *kr)
{
	struct vu_dev *d = p->priv;
	uint32_t before = kr->hwcur;

	if (!vu_connected(d)) {
		for (uint32_t i = kr->hwcur; i != d->tx_head; i = kr_next(kr, i))
			if (!(kr->ring->slot[i].flags & UNM_NS_MOREFRAG))
				p->st.drops++;
		kr->hwcur = d->tx_head;
	} else {
		vu_port_to_vq(p, kr, d->tx_head);
		if (kr->hwcur != before)
			progress(d, VU_VQ_RX);
		if (kr->hwcur != d->tx_head && want_kick(d, VU_VQ_RX))
			vu_port_to_vq(p, kr, d->tx_head);
	}
	kr->hwtail = kr_prev(kr, kr->hwcur);
}

static int vhost_txsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct vu_dev *d = p->priv;
	int rc;

	pthread_mutex_lock(&d->lock);
	ctl_maybe(d);
	kr->armed = false;
	d->tx_head = head;
	tx_push(p, kr);
	rc = p->error;
	pthread_mutex_unlock(&d->lock);
	return rc;
}

static int vhost_rxsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct vu_dev *d = p->priv;
	uint32_t before;
	int rc;

	pthread_mutex_lock(&d->lock);
	ctl_maybe(d);
	kr->hwcur = head;
	kr->armed = false;
	d->waiting[VU_VQ_TX] = false;
	before = kr->hwtail;
	vu_vq_to_port(p, kr);
	if (kr->hwtail != before)
		progress(d, VU_VQ_TX);
	rc = kr->hwtail == kr->hwcur ? p->error : 0;
	pthread_mutex_unlock(&d->lock);
	return rc;
}

/* rx_pull (see lib/internal.h): rxsync's work, with the guest's frames
 * left in its memory for the caller, which holds the lock until
 * vhost_rx_pull_done. */
static int vhost_rx_pull(struct unm_port *p, struct unm_kring *kr, uint32_t head,
			 struct unm_pull *pl, unsigned max)
{
	struct vu_dev *d = p->priv;
	unsigned n;

	pthread_mutex_lock(&d->lock);
	ctl_maybe(d);
	kr->hwcur = head;
	/* frames in slots go first; an error is rxsync's to report */
	n = kr->hwtail == head && !p->error ? vu_vq_pull(p, kr, pl, max) : 0;
	if (!n) {
		pthread_mutex_unlock(&d->lock);
		return 0;
	}
	kr->armed = false;
	d->waiting[VU_VQ_TX] = false;
	return (int)n;
}

static void vhost_rx_pull_done(struct unm_port *p, struct unm_kring *kr,
			       const struct unm_pull *pl, unsigned n)
{
	struct vu_dev *d = p->priv;

	(void)kr;
	vu_vq_pull_done(p, pl, n);
	if (n)
		progress(d, VU_VQ_TX);
	pthread_mutex_unlock(&d->lock);
}

/*
 * The ring would block: ask the driver to kick (TX: guest RX buffers
 * added; RX: guest frames sent) and report whether, after the fence in
 * vu_vq_want_kicks, a sync could already progress.
 */
static bool vhost_arm(struct unm_port *p, struct unm_kring *kr)
{
	struct vu_dev *d = p->priv;
	bool again;

	pthread_mutex_lock(&d->lock);
	kr->armed = true;
	if (kr->dir == 0)
		again = kr->hwcur != d->tx_head && want_kick(d, VU_VQ_RX);
	else
		again = want_kick(d, VU_VQ_TX) &&
			kr_dist(kr, kr->hwcur, kr->hwtail) < kr->nslots - 1;
	pthread_mutex_unlock(&d->lock);
	return again;
}

static int vhost_wakeup(struct unm_port *p)
{
	struct vu_dev *d = p->priv;

	pthread_mutex_lock(&d->lock);
	uint64_t ticks;

	vu_ctl_poll(d);
	drain_kicks(d);
	if (read(d->idle_fd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks)) {
		/* Still waiting after IDLE_NS: the waiter may sleep; turn
		 * kicks on. The caller syncs after wakeup (double check). */
		d->idle_pending = false;
		for (unsigned qi = 0; qi < VU_NVQ; qi++)
			if (d->waiting[qi])
				vu_vq_want_kicks(d, qi, true);
	}
	if (p->n_tx && p->tx[0].hwcur != d->tx_head)
		tx_push(p, &p->tx[0]);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

static void vhost_info(const struct unm_port *p, struct unm_port_info *info)
{
	struct vu_dev *d = p->priv;

	info->link_up = vu_connected(d) && d->vq[VU_VQ_RX].ready && d->vq[VU_VQ_TX].ready &&
			!d->vq[VU_VQ_RX].broken && !d->vq[VU_VQ_TX].broken;
}

static void vhost_close(struct unm_port *p)
{
	struct vu_dev *d = p->priv;

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	vu_ctl_close(d);
	pthread_mutex_unlock(&d->lock);
	if (d->idle_fd >= 0)
		close(d->idle_fd);
	pthread_mutex_destroy(&d->lock);
	free(d);
	p->priv = NULL;
}

static int vhost_open(struct unm_port *p, const struct unm_spec *s,
		      const struct unm_open_opts *o)
{
	const char *env = getenv("UNM_VHOST_CLIENT");
	struct vu_dev *d;
	char why[160] = "";
	int rc;

	if (o->tx_rings != 1 || o->rx_rings != 1)
		return unm_seterr(-EINVAL, "%s: a vhost-user port has one ring pair (no multiqueue)",
				  p->name);
	if (o->vnet_hdr_len != 0 && o->vnet_hdr_len != 10 && o->vnet_hdr_len != 12)
		return unm_seterr(-EINVAL, "%s: vnet header length must be 0, 10 or 12", p->name);
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	pthread_mutex_init(&d->lock, NULL);
	d->port = p;
	snprintf(d->path, sizeof(d->path), "%s", s->path);
	d->client = (o->flags & UNM_OPEN_VHOST_CLIENT) || (env && strcmp(env, "1") == 0);
	d->listen_fd = d->conn_fd = d->timer_fd = d->idle_fd = d->sock_file.dir_fd = -1;
	d->given_fd = -1;
	if (s->fd >= 0) {
		if (d->client) {
			free(d);
			return unm_seterr(-EINVAL, "%s: a handed-over vhost-user socket is a "
					  "listening one (server mode)", p->name);
		}
		d->given_fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);
		if (d->given_fd < 0) {
			rc = -errno;
			free(d);
			return unm_seterr(rc, "%s: dup: %s", p->name, strerror(-rc));
		}
	}
	for (unsigned qi = 0; qi < VU_NVQ; qi++)
		d->vq[qi].kick_fd = d->vq[qi].call_fd = d->vq[qi].err_fd = -1;
	d->port_hdr_len = o->vnet_hdr_len;
	d->guest_hdr_len = 12;
	/* IN_ORDER: both queues already use buffers in the order they were
	 * made available (vhost_vq.c pushes used entries in avail order, a
	 * dropped frame gives its buffer to the next one), and the driver
	 * then keeps cheaper books (virtio_user's in-order TX path). */
	d->offered = VU_BIT(VIRTIO_F_VERSION_1) | VU_BIT(VIRTIO_NET_F_MRG_RXBUF) |
		     VU_BIT(VIRTIO_RING_F_EVENT_IDX) | VU_BIT(VIRTIO_F_IN_ORDER) |
		     VU_BIT(VHOST_USER_F_PROTOCOL_FEATURES);
	if (d->port_hdr_len)
		d->offered |= VU_BIT(VIRTIO_NET_F_CSUM) | VU_BIT(VIRTIO_NET_F_GUEST_CSUM) |
			      VU_BIT(VIRTIO_NET_F_HOST_TSO4) | VU_BIT(VIRTIO_NET_F_HOST_TSO6) |
			      VU_BIT(VIRTIO_NET_F_GUEST_TSO4) | VU_BIT(VIRTIO_NET_F_GUEST_TSO6);
	rc = unm_port_create_self(p, o, 0, NULL);
	if (rc)
		goto fail;
	p->priv = d;
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0) {
		rc = -errno;
		goto fail;
	}
	d->idle_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->idle_fd < 0) {
		rc = -errno;
		goto fail;
	}
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 4 };

		if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, d->idle_fd, &ev) < 0) {
			rc = -errno;
			goto fail;
		}
	}
	rc = vu_ctl_open(d, why, sizeof(why));
	if (rc) {
		unm_seterr(rc, "vhost-user:%s: %s", d->path, why[0] ? why : strerror(-rc));
		goto fail;
	}
	return 0;
fail: /* unm_open tears it down with vhost_close (port_teardown, as unm_close) */
	p->priv = d;
	return rc;
}

const struct unm_port_ops unm_vhost_ops = {
	.type = "vhost-user",
	.open = vhost_open,
	.txsync = vhost_txsync,
	.rxsync = vhost_rxsync,
	.rx_pull = vhost_rx_pull,
	.rx_pull_done = vhost_rx_pull_done,
	.arm = vhost_arm,
	.wakeup = vhost_wakeup,
	.close = vhost_close,
	.info = vhost_info,
};
