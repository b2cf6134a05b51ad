// SPDX-License-Identifier: BSD-2-Clause
/*
 * vport_csb.c - host side of the CSB passthrough protocol: a switch port
 * whose rings live in their own region (memfd, UNM_REGION_PORT) mapped by
 * an isolated client (lib/vale.c + lib/csb.c), with a kick and an irq
 * eventfd per ring. netmap's kloop, in userspace.
 *
 * The client can write anything anywhere in its region at any time. This
 * file therefore never reads a ring header field after creation (geometry
 * and pool address are kept in struct vring), reads each a2h index once
 * with acquire and validates it against its own hwcur/hwtail before use,
 * and leaves slot and buffer validation to the forwarding code (vale_fwd.c).
 * An impossible index errors the port (UNM_CSB_F_ERROR): the client's
 * syncs then fail with -EIO and unmd drops its connection.
 *
 * Barriers (partners in lib/csb.c):
 *   [H1] acquire of a2h.head          pairs with [A1] (client release)
 *   [H2] release of h2a.hwtail        pairs with [A2] (client acquire)
 *   [H3] kern_need_kick = 1, full fence (vale_thread.c: vs_sleep), re-read
 *        a2h.head (pending)           pairs with [A3]
 *   [H4] hwtail published, full fence, read appl_need_kick (round_end;
 *        a ring's interrupt may be owed to a later round_end, which
 *        fences again: tx_wake_later, rx_wake_later)  pairs with [A4]
 *   [H5] exchange of appl_need_kick with 0 before the interrupt it asked
 *        for (round_end: fire)        pairs with [A4]
 * Threads: forwarding thread for the ops; control thread for create,
 * reset (lock held) and destroy (port already off its switch).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "unm-ctlmsg.h"
#include "unmd.h"

struct csb_priv {
	struct unm_region reg;
	bool handed;          /* reg's memfd went to a client (vport_csb_fds) */
	uint64_t rx_at_make;  /* p->st.rx_frames when reg was made */
};

static void publish(struct vring *vr)
{
	UNM_WRITE_ONCE(vr->csb->h2a.hwcur, vr->hwcur);
	/* [H2] release: slots consumed (TX) or filled (RX) before hwtail are
	 * visible to the client; pairs with [A2]. */
	unm_store_release(&vr->csb->h2a.hwtail, vr->hwtail);
	vr->progress = true;
}

static int csb_in_fetch(struct vport *p, struct vring *vr, uint32_t *end)
{
	/* [H1] acquire: the slots before head are written; pairs with [A1].
	 * untrusted: any value < nslots is a legal TX head (the client owns
	 * every slot but hwtail.. after a copy switch consumed them). */
	uint32_t head = unm_load_acquire(&vr->csb->a2h.head);

	if (head >= vr->nslots) {
		p->st.bad_ring++;
		return vport_fail(p, -EIO, "head %u > %u", head, vr->nslots - 1);
	}
	*end = head;
	return 0;
}

static void csb_in_release(struct vport *p, struct vring *vr, uint32_t upto)
{
	vr->hwcur = upto;
	vr->hwtail = vr_prev(vr, upto);
	publish(vr);
}

static int csb_out_space(struct vport *p, struct vring *vr, uint32_t *end)
{
	/* [H1] acquire: the client is done with RX slots before head; pairs
	 * with [A1]. untrusted: it may only release what we gave it. */
	uint32_t head = unm_load_acquire(&vr->csb->a2h.head);

	if (head != vr->hwcur) {
		if (head >= vr->nslots ||
		    vr_dist(vr, vr->hwcur, head) > vr_dist(vr, vr->hwcur, vr->hwtail)) {
			p->st.bad_ring++;
			return vport_fail(p, -EIO, "RX head %u outside [%u, %u]", head, vr->hwcur,
					  vr->hwtail);
		}
		vr->hwcur = head;
		vr->waking = vr->yielded = false; /* it ran */
	}
	vr->seen_head = head;
	*end = vr_prev(vr, vr->hwcur);
	return 0;
}

static void csb_out_publish(struct vport *p, struct vring *vr, uint32_t upto)
{
	vr->hwtail = upto;
	publish(vr);
}

static void irq(struct vport *p, struct vring *vr)
{
	uint64_t one = 1;

	if (write(vr->irq_fd, &one, sizeof(one)) == sizeof(one))
		p->st.irqs_tx++;
}

/*
 * The ring moved: does the client want an interrupt? Called after the
 * [H4] fence. netmap's guest masks its interrupt in the handler; our
 * client can do so only when it next syncs (quiet() in lib/csb.c), some
 * wake-up latency later, and meanwhile every round that moves the ring
 * would write the eventfd again: a system call each on this thread for a
 * notification already on its way. So the host takes the request with
 * the interrupt [H5]: an atomic exchange to 0, interrupt iff it was set.
 * No wake-up is lost: every arm (a store of 1 by the client, then its
 * [A4] double check) is either consumed by exactly one exchange, which
 * is followed by an interrupt, or cleared by the client itself while it
 * runs. The plain read first keeps the client's line clean while it is
 * not armed (busy clients). Untrusted: any nonzero value asks, and the
 * client can only delay its own interrupts.
 */
static inline bool fire(struct unm_csb *e)
{
	return UNM_READ_ONCE(e->a2h.appl_need_kick) &&
	       __atomic_exchange_n(&e->a2h.appl_need_kick, 0, __ATOMIC_RELAXED);
}

/*
 * Notification policy, opt-in from unmd's environment (unmd(8)): which
 * of these wins depends on how the scheduler places a woken client on a
 * given machine (bench/csb_policy.sh measures them against each other).
 *   rx_mod_ns UNMD_CSB_RX_MODERATION=N (microseconds): rx_wake_later,
 *             holding an interrupt for at most N us (50 is a fair start).
 *   yield_ns  UNMD_CSB_YIELD=N (microseconds): yield_owed waits until the
 *             receiver has had N us to run elsewhere; "off": never yield.
 */
static struct {
	uint64_t rx_mod_ns;
	bool no_yield;
	uint64_t yield_ns;
} policy;

void vport_csb_config(void)
{
	const char *e = getenv("UNMD_CSB_RX_MODERATION");

	policy.rx_mod_ns = e && atoi(e) > 0 ? (uint64_t)atoi(e) * 1000 : 0;
	e = getenv("UNMD_CSB_YIELD");
	policy.no_yield = e && !strcmp(e, "off");
	policy.yield_ns = e && atoi(e) > 0 ? (uint64_t)atoi(e) * 1000 : 0;
}

/*
 * A receiver that sleeps shares the CPUs with this thread. Woken by our
 * interrupt it becomes runnable, but the scheduler lets a busy thread
 * finish its slice first (EEVDF's run-to-parity: up to milliseconds), and
 * meanwhile the switch fills the receiver's ring and drops the rest
 * (dst_full: 40% of a vhost-user stream into a sleeping unm-pktgen on 2
 * vCPUs). So once a receiver we woke has not released a slot and half
 * its ring is waiting, the thread yields the CPU, once per wake-up: the
 * receiver then takes half a ring per wake-up, not a frame, and no round
 * of up to VS_BATCH slots overflows a ring of 2 * VS_BATCH. A receiver
 * on another CPU, or one that never reads, costs one sched_yield per
 * interrupt, unless UNMD_CSB_YIELD=N defers the yield until the receiver
 * has had N us to run on another CPU (and release a slot).
 * "Has not released a slot" is asked of the receiver's head now, not as
 * of the round's out_space: the write of the interrupt itself usually
 * lets the woken receiver preempt this thread (wake-up preemption on a
 * shared CPU), and a receiver that ran then needs no yield. The round
 * that follows sees the same head (out_space: waking ends). Untrusted:
 * any head only spares or costs the client its own yield.
 */
static bool yield_owed(struct vport *p)
{
	bool owed = false;

	if (p->self_mon || policy.no_yield) /* a monitor's copies: mon_round_end */
		return false;
	for (unsigned i = 0; i < p->n_out; i++) {
		struct vring *vr = &p->out[i];

		if (vr->waking && !vr->yielded &&
		    vr_dist(vr, vr->hwcur, vr->hwtail) >= vr->nslots / 2 &&
		    UNM_READ_ONCE(vr->csb->a2h.head) == vr->hwcur &&
		    (!policy.yield_ns || unm_now_ns() - vr->woke_at >= policy.yield_ns)) {
			vr->yielded = owed = true;
			p->st.yields++;
		}
	}
	return owed;
}

/*
 * TX-completion moderation (virtio-net's delayed TX callback): a client
 * that arms a TX ring waits for room, and the room it finds decides how
 * many frames it sends per wake-up. Interrupted at the first round that
 * took anything, it refills one round's worth (at most VS_BATCH) per
 * wake-up whatever its ring size, and on a loaded host falls into
 * lock-step with small rounds. So while this thread keeps taking frames
 * from an armed ring and more than half of the ring is still waiting,
 * the interrupt is owed, not sent: the client is woken once at least half
 * of its ring is free. A round that takes nothing from an owing ring
 * (drained, blocked by a lossless destination, or the thread going idle:
 * every round calls round_end) sends it at once, so no wake-up waits on
 * anything but this ring's own progress.
 * The pending count uses the client's head as of the arm, not as fetched
 * at the start of the round: a client that refilled and armed during the
 * round is owed its interrupt from then. The arm is read with acquire
 * and the client published head before it ([A1], then its [A3] fence),
 * so the head read after it is at least that one. Untrusted: an
 * impossible head sends the interrupt (the next fetch errors the port);
 * any head only delays the client's own interrupt.
 */
static inline bool tx_wake_later(const struct vring *vr)
{
	uint32_t head;

	if (!__atomic_load_n(&vr->csb->a2h.appl_need_kick, __ATOMIC_ACQUIRE))
		return false; /* not armed: nothing to send or owe */
	head = UNM_READ_ONCE(vr->csb->a2h.head);
	return head < vr->nslots && vr_dist(vr, vr->hwcur, head) >= vr->nslots / 2;
}

/*
 * RX-completion moderation (opt-in, UNMD_CSB_RX_MODERATION=N), the receive
 * side of tx_wake_later: a receiver asleep on its RX ring is woken by the
 * first round that fills anything, and then takes what arrived until it
 * runs; on rings larger than two rounds (VS_BATCH) that is a fraction of
 * the ring per wake-up. So while rounds keep filling an armed ring that
 * holds less than half a ring for it, the interrupt is owed, not sent.
 * A round that fills nothing (the stream paused, the thread going idle:
 * every round calls round_end) sends it at once, and so does any round
 * N us after it was first owed: a trickle that never pauses
 * still reaches a sleeping receiver within that bound, and a lone frame
 * is sent with the next round. The pending count uses the receiver's
 * head as of its arm (read after it, as in tx_wake_later), not as seen
 * by the round's out_space: a receiver that drained and re-armed during
 * the round is owed nothing yet. Untrusted: a head outside [hwcur,
 * hwtail] sends the interrupt (the next out_space errors the port); any
 * head only delays the client's own interrupt.
 */
static inline bool rx_wake_later(struct vring *vr)
{
	uint32_t head;
	uint64_t now;

	if (!__atomic_load_n(&vr->csb->a2h.appl_need_kick, __ATOMIC_ACQUIRE))
		return false; /* not armed: nothing to send or owe */
	head = UNM_READ_ONCE(vr->csb->a2h.head);
	if (head >= vr->nslots ||
	    vr_dist(vr, vr->hwcur, head) > vr_dist(vr, vr->hwcur, vr->hwtail) ||
	    vr_dist(vr, head, vr->hwtail) >= vr->nslots / 2)
		return false;
	now = unm_now_ns();
	if (!vr->owed)
		vr->owed_at = now;
	return now - vr->owed_at < policy.rx_mod_ns;
}

static int csb_round_end(struct vport *p)
{
	struct vring *rings[2] = { p->in, p->out };
	unsigned counts[2] = { p->n_in, p->n_out };
	bool any = false;

	for (int d = 0; d < 2 && !any; d++)
		for (unsigned i = 0; i < counts[d]; i++)
			any |= rings[d][i].progress || rings[d][i].owed;
	if (!any)
		return 0;
	/* [H4] full fence: hwtail stores / appl_need_kick loads; pairs with
	 * [A4] (client: set appl_need_kick, fence, re-read hwtail). */
	unm_smp_mb();
	for (int d = 0; d < 2; d++)
		for (unsigned i = 0; i < counts[d]; i++) {
			struct vring *vr = &rings[d][i];

			if (vr->progress && (d == 0 ? tx_wake_later(vr)
						    : policy.rx_mod_ns && rx_wake_later(vr))) {
				vr->owed = true; /* the client's arm stays set */
				vr->progress = false;
				continue;
			}
			if ((vr->progress || vr->owed) && fire(vr->csb)) {
				irq(p, vr);
				if (d == 1) {
					vr->waking = true;
					if (policy.yield_ns)
						vr->woke_at = unm_now_ns();
				}
			}
			vr->progress = vr->owed = false;
		}
	return yield_owed(p);
}

static void csb_want_kicks(struct vport *p, bool on, bool out_too)
{
	for (unsigned i = 0; i < p->n_in; i++)
		UNM_WRITE_ONCE(p->in[i].csb->h2a.kern_need_kick, on);
	for (unsigned i = 0; i < p->n_out; i++)
		UNM_WRITE_ONCE(p->out[i].csb->h2a.kern_need_kick, on && out_too);
}

/* After want_kicks(on) and the [H3] fence in vs_sleep: re-read the heads. */
static bool csb_pending(struct vport *p, bool out_too)
{
	if (!p->blocked)
		for (unsigned i = 0; i < p->n_in; i++)
			if (UNM_READ_ONCE(p->in[i].csb->a2h.head) != p->in[i].hwcur || p->in[i].skip)
				return true;
	if (out_too)
		for (unsigned i = 0; i < p->n_out; i++)
			if (UNM_READ_ONCE(p->out[i].csb->a2h.head) != p->out[i].seen_head)
				return true;
	return false;
}

static void csb_set_error(struct vport *p)
{
	for (unsigned i = 0; i < p->n_in + p->n_out; i++) {
		struct vring *vr = i < p->n_in ? &p->in[i] : &p->out[i - p->n_in];

		__atomic_fetch_or(&vr->csb->h2a.host_flags, UNM_CSB_F_ERROR, __ATOMIC_SEQ_CST);
		irq(p, vr);
	}
}

static void csb_destroy(struct vport *p)
{
	struct csb_priv *c = p->priv;

	for (unsigned i = 0; i < p->n_in + p->n_out; i++) {
		struct vring *vr = i < p->n_in ? &p->in[i] : &p->out[i - p->n_in];

		if (vr->kick_fd >= 0)
			close(vr->kick_fd);
		if (vr->irq_fd >= 0)
			close(vr->irq_fd);
	}
	unm_region_unmap(&c->reg);
	vport_free(p);
}

static const struct vport_ops csb_ops = {
	.type = "csb",
	.in_fetch = csb_in_fetch,
	.in_release = csb_in_release,
	.out_space = csb_out_space,
	.out_publish = csb_out_publish,
	.round_end = csb_round_end,
	.want_kicks = csb_want_kicks,
	.pending = csb_pending,
	.set_error = csb_set_error,
	.destroy = csb_destroy,
};

/* Every ring back to a state both sides agree on; the client maps it next. */
void vport_csb_reset(struct vport *p)
{
	for (unsigned i = 0; i < p->n_in + p->n_out; i++) {
		bool in = i < p->n_in;
		struct vring *vr = in ? &p->in[i] : &p->out[i - p->n_in];
		struct unm_csb *e = vr->csb;

		if (in)
			vr->hwtail = vr_prev(vr, vr->hwcur); /* pending TX is dropped */
		vr->seen_head = vr->hwcur;
		vr->skip = false;
		vr->progress = false;
		vr->waking = vr->yielded = vr->owed = false;
		vr->ring->head = vr->ring->cur = vr->hwcur;
		vr->ring->tail = vr->hwtail;
		e->a2h.head = e->a2h.cur = vr->hwcur;
		e->a2h.appl_need_kick = 1;
		e->a2h.sync_flags = 0;
		e->h2a.hwcur = vr->hwcur;
		e->h2a.hwtail = vr->hwtail;
		e->h2a.kern_need_kick = 1;
		e->h2a.host_flags = 0;
	}
	p->errored = false;
	p->blocked = false;
}

static int ring_setup(struct vport *p, struct vring *vr, struct unm_ring *ring,
		      const struct unm_region *reg, unsigned entry)
{
	const struct unm_region_hdr *h = unm_region_hdr(reg);

	vr->ring = ring;
	vr->slot = ring->slot;
	vr->pool = (char *)reg->base + h->buf_pool_ofs;
	vr->nslots = ring->num_slots;
	vr->buf_size = h->buf_size;
	vr->buf_count = h->buf_count;
	vr->hwcur = ring->head;
	vr->hwtail = ring->tail;
	vr->csb = unm_region_csb(reg, 2 * entry);
	vr->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vr->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return vr->kick_fd < 0 || vr->irq_fd < 0 ? -errno : 0;
}

int vport_csb_create(struct vport **pp, const char *port, const struct unm_ctl_geom *g,
		     char *err, size_t errlen)
{
	struct unm_open_opts o = { .sz = sizeof(o) };
	struct unm_region_layout l;
	struct csb_priv *c;
	struct vport *p;
	struct unm_if *nifp;
	int rc;

	p = vport_alloc(g->tx_rings, g->rx_rings, sizeof(*c));
	if (!p)
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	c = p->priv;
	c->reg.fd = -1;
	p->ops = &csb_ops;
	snprintf(p->name, sizeof(p->name), "%s", port);
	snprintf(p->type, sizeof(p->type), "csb");
	p->geom = *g;
	unm_ctl_geom_to_opts(g, &o);
	unm_region_layout_init(&l, UNM_REGION_PORT, port, &o);
	l.csb_entries = 2 * (g->tx_rings + g->rx_rings);
	l.mtu = 1500;
	l.pow2 = !!(g->flags & UNM_CTL_GEOM_POW2);
	rc = unm_region_create(&l, &c->reg, err, errlen);
	if (rc) {
		vport_free(p);
		return rc;
	}
	p->region_size = c->reg.size;
	nifp = unm_region_if(&c->reg, 0);
	for (unsigned i = 0; i < p->n_in + p->n_out; i++) {
		bool in = i < p->n_in;
		struct vring *vr = in ? &p->in[i] : &p->out[i - p->n_in];
		struct unm_ring *ring = in ? unm_txring(nifp, i) : unm_rxring(nifp, i - p->n_in);

		vr->id = in ? i : i - p->n_in;
		if ((rc = ring_setup(p, vr, ring, &c->reg, i))) {
			snprintf(err, errlen, "eventfd: %s", strerror(-rc));
			csb_destroy(p);
			return rc;
		}
	}
	vport_csb_reset(p);
	*pp = p;
	return 0;
}

bool vport_csb_stale(const struct vport *p)
{
	const struct csb_priv *c = p->priv;

	return c->handed || p->errored || p->st.rx_frames != c->rx_at_make;
}

/*
 * A persistent port outlives its clients, its region must not: a client
 * that keeps its mapping after closing would otherwise read every frame
 * of the next client and could write its CSB, and frames it never
 * consumed would reach the next one. So the port gets a new region when
 * its client goes and, if frames arrived meanwhile, again when the next
 * one opens it (ctl_server.c). The new region is built without the lock
 * as a whole temporary port Q of the same geometry; under the lock P and
 * Q swap rings, regions and eventfds (P keeps its switch, index, counters,
 * monitors and ring shares, which restart empty), and Q, now holding the
 * old ones, is destroyed after.
 */
int vport_csb_renew(struct unmd *d, struct vport *p, bool keep_error, char *err, size_t errlen)
{
	struct vport *q;
	struct vring *t;
	void *priv;
	bool errored;
	int rc = vport_csb_create(&q, p->name, &p->geom, err, errlen);

	if (rc)
		return rc;
	unmd_lock(d);
	if (p->sw)
		vs_port_epoll(d, p, EPOLL_CTL_DEL); /* the old kick fds may live on in a client */
	t = p->in; p->in = q->in; q->in = t;
	t = p->out; p->out = q->out; q->out = t;
	priv = p->priv; p->priv = q->priv; q->priv = priv;
	for (unsigned i = 0; i < p->n_out; i++) {
		struct vshare *sh = q->out[i].share;

		q->out[i].share = NULL;
		p->out[i].share = sh;
		if (sh) { /* every slot is free again: nobody holds any */
			memset(sh->occ, 0, sizeof(sh->occ));
			memset(sh->owner, VS_NO_OWNER, p->out[i].nslots);
			sh->rel = UINT32_MAX;
		}
	}
	errored = p->errored;
	vport_csb_reset(p);
	p->errored = keep_error && errored;
	((struct csb_priv *)p->priv)->rx_at_make = p->st.rx_frames;
	if (p->sw)
		vs_port_epoll(d, p, EPOLL_CTL_ADD);
	unmd_unlock(d);
	csb_destroy(q);
	return 0;
}

unsigned vport_csb_fds(struct vport *p, int *fds, unsigned max)
{
	struct csb_priv *c = p->priv;
	unsigned n = p->n_in + p->n_out, k = 0;

	if (1 + 2 * n > max)
		return 0;
	c->handed = true;
	fds[k++] = c->reg.fd;
	for (unsigned i = 0; i < n; i++)
		fds[k++] = i < p->n_in ? p->in[i].kick_fd : p->out[i - p->n_in].kick_fd;
	for (unsigned i = 0; i < n; i++)
		fds[k++] = i < p->n_in ? p->in[i].irq_fd : p->out[i - p->n_in].irq_fd;
	return k;
}

struct vport *vport_alloc(unsigned n_in, unsigned n_out, size_t priv_size)
{
	struct vport *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->in = calloc(n_in ? n_in : 1, sizeof(*p->in));
	p->out = calloc(n_out ? n_out : 1, sizeof(*p->out));
	p->priv = priv_size ? calloc(1, priv_size) : NULL;
	if (!p->in || !p->out || (priv_size && !p->priv)) {
		vport_free(p);
		return NULL;
	}
	p->n_in = n_in;
	p->n_out = n_out;
	for (unsigned i = 0; i < n_in; i++)
		p->in[i].kick_fd = p->in[i].irq_fd = -1;
	for (unsigned i = 0; i < n_out; i++)
		p->out[i].kick_fd = p->out[i].irq_fd = -1;
	return p;
}

int vport_fail(struct vport *p, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	return rc;
}

void vport_free(struct vport *p)
{
	if (!p)
		return;
	free(p->in);
	free(p->out);
	free(p->priv);
	free(p);
}
