// SPDX-License-Identifier: BSD-2-Clause
/*
 * vport_attached.c - a switch port backed by any port type opened inside unmd
 * with unm_open() (null, a pipe end, and the tap/afpacket/afxdp/shmif
 * backends as they land): ATTACH. unmd is that port's application: the
 * switch reads frames from its RX rings and writes frames into its TX
 * rings, then calls unm_rxsync()/unm_txsync() once per round.
 *
 * The port's slots may still be shared with another process (a pipe's
 * peer), so the forwarding code validates them exactly as for a client
 * port; ring head/cur/tail are ours (libunm keeps them sane on each sync).
 *
 * Shared pool: the attached ports of one switch whose type allows it
 * (UNM_TYPE_SWAP: private rings, every buffer in a slot, buf_idx read at
 * each sync) draw their buffers from one pool named after the switch
 * (lib/bufpool.c), so a buffer index means the same buffer in each, and
 * the switch moves a frame between two of them by swapping slots
 * (vale_fwd.c, fwd_swap). No trust boundary is crossed: all of them are
 * unmd's own memory. The pool takes back what the slots hold at close.
 *
 * Threads: forwarding thread for the ops (lock held); control thread for
 * create (no lock: unm_open may block) and destroy (port off its switch).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include "unm-ctlmsg.h"
#include "unmd.h"

struct att_priv {
	struct unm_port *port;
	struct unm_pull pl[VS_BATCH]; /* in_pull's frames until in_pull_done */
};

static inline struct unm_port *P(struct vport *p)
{
	return ((struct att_priv *)p->priv)->port;
}

static int att_in_fetch(struct vport *p, struct vring *vr, uint32_t *end)
{
	int rc = unm_rxsync(P(p), (int)vr->id); /* also releases [.., hwcur) */

	vr->dirty = false;
	if (rc < 0 && !(rc == -EPIPE && vr->ring->tail != vr->hwcur))
		return vport_fail(p, rc, "rxsync: %s", strerror(-rc));
	*end = vr->ring->tail;
	return 0;
}

static void att_in_release(struct vport *p, struct vring *vr, uint32_t upto)
{
	vr->hwcur = upto;
	vr->ring->head = vr->ring->cur = upto;
	vr->dirty = true;
}

/*
 * In place (vhost-user: the guest's frames in its memory): the switch
 * copies each frame once, to its destination, instead of the backend
 * copying it into a slot first. Only with the port's RX ring empty (no
 * frame may overtake one in a slot); the release owed (dirty) goes with
 * rx_pull, as with rxsync. The backend holds its lock from a pull to its
 * done (its memory map cannot change in between).
 */
static unsigned att_in_pull(struct vport *p, struct vring *vr, struct fwd_frag *f, unsigned max)
{
	struct att_priv *ap = p->priv;
	struct unm_port *up = ap->port;
	int n;

	if (vr->hwcur != vr->ring->tail || vr->skip)
		return 0;
	if (max > VS_BATCH)
		max = VS_BATCH;
	n = up->ops->rx_pull(up, &up->rx[vr->id], vr->hwcur, ap->pl, max);
	vr->dirty = false;
	if (n <= 0)
		return 0;
	for (int i = 0; i < n; i++) {
		f[i].buf = (const char *)ap->pl[i].buf;
		f[i].len = ap->pl[i].len;
	}
	return (unsigned)n;
}

static void att_in_pull_done(struct vport *p, struct vring *vr, unsigned n)
{
	struct att_priv *ap = p->priv;
	struct unm_port *up = ap->port;

	up->ops->rx_pull_done(up, &up->rx[vr->id], ap->pl, n);
}

static int att_out_space(struct vport *p, struct vring *vr, uint32_t *end)
{
	struct unm_ring *r = vr->ring;

	/* A port whose TX completes in the background (a tap's TX thread)
	 * is synced every time: the tail it showed at the last sync is stale
	 * and the room behind it would be a dst_full drop or a stall. */
	if (r->head == r->tail || vr->dirty || P(p)->tx_async) {
		int rc = unm_txsync(P(p), (int)vr->id);

		vr->dirty = false;
		if (rc < 0)
			return vport_fail(p, rc, "txsync: %s", strerror(-rc));
	}
	vr->hwtail = r->head;
	*end = r->tail;
	return 0;
}

static void att_out_publish(struct vport *p, struct vring *vr, uint32_t upto)
{
	vr->hwtail = upto;
	vr->ring->head = vr->ring->cur = upto;
	vr->dirty = true;
}

static int att_round_end(struct vport *p)
{
	int rc;

	for (unsigned i = 0; i < p->n_out; i++)
		if (p->out[i].dirty) {
			p->out[i].dirty = false;
			if ((rc = unm_txsync(P(p), (int)i)) < 0)
				return rc;
		}
	/* RX slots released this round go back with the next round's
	 * in_fetch (its rxsync passes the new head), or with pending's
	 * before the thread sleeps: a second rxsync here would only repeat
	 * that one's work (for vhost-user: lock, index reads, a fence). */
	return 0;
}

static void att_want_kicks(struct vport *p, bool on, bool out_too)
{
	/* libunm arms the port's notification in every sync that would block */
}

static bool att_pending(struct vport *p, bool out_too)
{
	for (unsigned i = 0; i < p->n_in; i++) {
		int rc;

		if (p->blocked) { /* its input waits for room: only release */
			if (p->in[i].dirty) {
				p->in[i].dirty = false;
				unm_rxsync(P(p), (int)i); /* an error shows at the next in_fetch */
			}
			continue;
		}
		rc = unm_rxsync(P(p), (int)i);
		p->in[i].dirty = false;
		if (rc < 0 && rc != -EPIPE)
			return true; /* let in_fetch report it */
		if (p->in[i].ring->tail != p->in[i].hwcur)
			return true;
	}
	return false;
}

static int att_on_wake(struct vport *p)
{
	struct unm_port *up = P(p);
	struct epoll_event ev[16];

	if (up->epfd >= 0)
		while (epoll_wait(up->epfd, ev, 16, 0) == 16)
			;
	if (up->ops->wakeup) {
		int rc = up->ops->wakeup(up);

		if (rc < 0 && rc != -EPIPE)
			return rc;
	}
	return 0;
}

static void att_set_error(struct vport *p)
{
}

static int att_fd(struct vport *p)
{
	return unm_fd(P(p));
}

static void att_destroy(struct vport *p)
{
	unm_close(P(p));
	vport_free(p);
}

/* Every attached port's ops; a backend that hands frames over in place
 * (rx_pull) adds in_pull/in_pull_done. */
#define ATT_VPORT_OPS \
	.type = "attached", \
	.in_fetch = att_in_fetch, \
	.in_release = att_in_release, \
	.out_space = att_out_space, \
	.out_publish = att_out_publish, \
	.round_end = att_round_end, \
	.want_kicks = att_want_kicks, \
	.pending = att_pending, \
	.on_wake = att_on_wake, \
	.set_error = att_set_error, \
	.destroy = att_destroy, \
	.fd = att_fd

static const struct vport_ops attached_vport_ops = { ATT_VPORT_OPS };

static const struct vport_ops attached_pull_vport_ops = {
	ATT_VPORT_OPS,
	.in_pull = att_in_pull,
	.in_pull_done = att_in_pull_done,
};

static void att_ring_setup(struct vring *vr, const struct unm_port *up, const struct unm_kring *kr)
{
	vr->ring = kr->ring;
	vr->slot = kr->ring->slot;
	vr->pool = (char *)kr->ring + kr->buf_ofs;
	vr->nslots = kr->nslots;
	vr->buf_size = kr->buf_size;
	vr->buf_count = up->reg.buf_count; /* the shared pool's if pooled */
	vr->id = kr->ringid;
	vr->hwcur = kr->ring->head;
	vr->hwtail = kr->ring->head;
	vr->seen_head = vr->hwcur;
}

int vport_attached_create(struct vport **pp, const char *sw, const char *label,
			  const struct unm_ctl_portspec *w, int fd, const struct unm_ctl_geom *g,
			  char *err, size_t errlen)
{
	struct unm_open_opts o = { .sz = sizeof(o) };
	const char *name = label;
	struct unm_port *up;
	struct unm_spec s;
	struct vport *p;
	int rc;

	if ((rc = unm_ctl_spec_get(w, false, &s, err, errlen)))
		return rc;
	if (strlen(w->name) >= sizeof(p->name))
		return snprintf(err, errlen, "port name longer than %zu characters",
				sizeof(p->name) - 1), -ENAMETOOLONG;
	unm_ctl_geom_to_opts(g, &o);
	o.timeout_ms = 1000; /* on an attach worker thread (ctl_server.c), never the control thread */
	/* An attached tap, AF_PACKET or vxlan port gets offloads unless
	 * told otherwise: the switch is its application and converts
	 * headers (vale_offload.c), so nobody sees a different frame
	 * format, and without TSO and checksum offload TCP through it
	 * runs at a fraction of the rate (an AF_PACKET port then cuts the
	 * kernel's GSO frames itself; a vxlan port sends a TSO frame as
	 * UDP GSO batches and hands up coalesced TCP, lib/backend/vxlan.c).
	 * @conf:vnet=0 in the name (or a request's vnet length) says no. */
	if (!o.vnet_hdr_len && (s.kind == UNM_KIND_TAP || s.kind == UNM_KIND_AFPACKET ||
				s.kind == UNM_KIND_VXLAN) && s.vnet_hdr_len < 0)
		o.vnet_hdr_len = UNM_TAP_ATTACH_VNET;
	/* A tap's writes carry the receiving stack's work (lib/backend/tap.c);
	 * a writer thread per queue (UNM_OPEN_TAP_TX_THREAD) takes it off the
	 * forwarding thread but is not set here: on a quiet 2-vCPU host it cut
	 * one TCP stream tap -> vale0 -> tap from 0.77x to 0.60x the Linux
	 * bridge and left four streams level (bench/NOTES.md), so it stays an
	 * opt-in, UNM_TAP_TX_THREAD=1 in unmd's environment. */
	/* One trust domain: every port attached to a switch is unmd's own
	 * (its rings are in unmd's memory, no client maps them), so those
	 * whose type allows it (UNM_TYPE_SWAP) take their buffers from one
	 * pool per switch and frames between them move by buffer swap
	 * (vale_fwd.c). A type that cannot, or a full pool, keeps its own
	 * buffers and is copied to, as any port. */
	snprintf(s.pool, sizeof(s.pool), "%s", sw);
	rc = unm_open_spec(label, &s, fd, &up, &o);
	if (rc)
		return snprintf(err, errlen, "%s", unm_errmsg()), rc;
	/* Only whole ports: the switch drives every ring. */
	if (up->first_tx != 0 || up->last_tx != up->n_tx || up->first_rx != 0 ||
	    up->last_rx != up->n_rx) {
		unm_close(up);
		return snprintf(err, errlen, "%s: attach the whole port (no -N, /T, /R)", name),
		       -EINVAL;
	}
	p = vport_alloc(up->n_rx, up->n_tx, sizeof(struct att_priv));
	if (!p) {
		unm_close(up);
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	}
	((struct att_priv *)p->priv)->port = up;
	p->attached = true;
	p->pool = up->pool;
	/* a port's name is its name without options (detach, stats, monitor) */
	snprintf(p->name, sizeof(p->name), "%s", w->name);
	snprintf(p->base, sizeof(p->base), "%.*s", (int)w->base_len, w->name);
	snprintf(p->type, sizeof(p->type), "%s", up->ops->type);
	p->region_size = up->reg.size;
	p->geom.tx_rings = up->n_tx;
	p->geom.rx_rings = up->n_rx;
	p->geom.tx_slots = up->n_tx ? up->tx[0].nslots : 0;
	p->geom.rx_slots = up->n_rx ? up->rx[0].nslots : 0;
	p->geom.buf_size = up->n_tx ? up->tx[0].buf_size : 0;
	/* the opened port's own header (@conf:vnet= in the name, or opts) */
	p->geom.vnet_hdr_len = UNM_READ_ONCE(unm_region_hdr(&up->reg)->vnet_hdr_len);
	if (p->geom.vnet_hdr_len != 10 && p->geom.vnet_hdr_len != 12)
		p->geom.vnet_hdr_len = 0;
	/* in place only without a header: the backend's frames are then the
	 * switch's frames as they are (vale_fwd.c, fwd_ring_pull) */
	p->ops = up->ops->rx_pull && up->ops->rx_pull_done && !p->geom.vnet_hdr_len
			 ? &attached_pull_vport_ops : &attached_vport_ops;
	for (unsigned i = 0; i < up->n_rx; i++)
		att_ring_setup(&p->in[i], up, &up->rx[i]);
	for (unsigned i = 0; i < up->n_tx; i++)
		att_ring_setup(&p->out[i], up, &up->tx[i]);
	*pp = p;
	return 0;
}

struct unm_port *vport_attached_port(struct vport *p)
{
	return p->ops == &attached_vport_ops || p->ops == &attached_pull_vport_ops ? P(p) : NULL;
}
