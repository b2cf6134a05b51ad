// SPDX-License-Identifier: BSD-2-Clause
/*
 * monitor.c - copy monitors of switch ports (netmap's /t /r monitors, in
 * unmd): a client opens "monitor:valeX:P" (or an attached port's name) and
 * receives, in the RX rings of its own CSB port region, a copy of every
 * frame the monitored port transmits and/or receives.
 *
 * A monitor is a vport_csb port (vport_csb.c: region, CSB, eventfds, the
 * client is lib/vale.c through lib/monitor.c) with one unused TX ring,
 * which is on no switch: it is reachable only from the monitored port's
 * list (vport->mons) and from its client's connection (ctl_conn->port).
 *
 * Prefixes: mon_ = what the rest of unmd calls (unmd.h); mo_ = one
 * monitor's output during one copy (struct mon_out: begin, put, end).
 *
 * What "TX" and "RX" mean is the monitored port's point of view, as in
 * netmap. For a client port (vale0:p1) TX is what its application puts in
 * its TX rings (the switch's "in" rings), RX what the switch delivers into
 * its RX rings ("out"). For an attached port (null, a pipe end, a backend)
 * the switch is the application: TX is what the switch writes into that
 * port's TX rings ("out"), RX what the port received ("in").
 *
 * Which frames: the forwarding thread calls mon_frames() with the frames
 * it just took from an in ring (parsed by its pass 1, before the slots go
 * back) and mon_ring() with the slots it just filled in an out ring
 * (before publishing them). So a TX monitor of a client port
 * sees every well-formed frame the switch consumed from the port's TX
 * ring, delivered or dropped afterwards (no_dst, dst_full): what the ring
 * sent, as netmap's TX monitor. Frames the switch refused as malformed
 * (bad_buf, bad_len, too_long) are not copied. An RX monitor sees exactly
 * what was delivered, after segmentation if the switch segmented. Copies
 * of TX frames carry UNM_NS_TXMON in every slot.
 *
 * Interrupts are moderated (MON_IRQ_DIV below): at most one per round,
 * and only once a quarter of the monitor's ring is queued or the switch
 * goes idle.
 *
 * Never backpressure: a copy that does not fit in the monitor's RX ring
 * is dropped and counted (mon_drops on the monitor and on the monitored
 * port), whatever the switch's lossless setting. The monitor's client is
 * never asked for kicks (kern_need_kick stays 0): unmd never waits for it.
 *
 * When the monitored port leaves its switch (its client closed, port del,
 * detach, the port errored), mon_port_gone() sets UNM_CSB_F_GONE on every
 * CSB entry of each monitor [M1] and interrupts it; lib/monitor.c then
 * returns the copies still queued and -EPIPE. The monitor itself stays
 * until its client closes.
 *
 * Ring mapping: copies of monitored ring i go to monitor RX ring
 * i % (monitor's RX rings). Slots are read once and validated (the sender
 * may rewrite them at any time); a bad buffer index in the monitor's own
 * RX ring errors the monitor, never the monitored port.
 *
 * Zero-copy RX monitors of domain ports (mon_open_zc) are members of the
 * monitored port's domain (daemon/domain.c vdom_mon_create): they are on
 * its mons list for listing and GONE, but the copy hooks skip them
 * (mp->dom): the monitored member's own rxsync feeds them.
 *
 * Threads and locking: mon_ring/mon_port_gone run with d->lock held
 * (forwarding thread, or control thread through vs_port_remove); mon_open
 * and mon_close are the control thread's, lock taken inside/held.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "unmd.h"

#define MON_MAX_PER_PORT 16 /* bounds the forwarding thread's extra work */

struct vmon {
	struct vport *port;    /* the monitor's CSB port (RX rings get copies) */
	struct vport *target;  /* monitored port; NULL once it went away */
	char sw[UNM_CTL_SW_MAX], name[64]; /* of the target, for LIST */
	unsigned dirs;         /* UNM_CTL_OPEN_MON_TX | _RX */
	bool owed;             /* copies published since its last round_end */
	struct vmon *next;     /* in target->mons */
	struct vmon *all_next; /* in all_mons */
};

/* Every open monitor, its target gone or not: they count against their
 * uid's --max-ports and --max-mem (mon_uid_usage). Under d->lock. */
static struct vmon *all_mons;

unsigned mon_uid_usage(uid_t uid, uint64_t *mem)
{
	unsigned n = 0;

	for (const struct vmon *m = all_mons; m; m = m->all_next)
		if (m->port->uid == uid) {
			n++;
			*mem += m->port->region_size;
		}
	return n;
}

/*
 * Interrupt moderation. A monitor that drains as fast as copies come
 * sleeps after every batch, and interrupting it once per batch cost the
 * forwarding thread an eventfd write and a context switch per round
 * (0.72x of the unmonitored rate on 2 vCPUs). So a sleeping monitor is
 * interrupted only once 1/MON_IRQ_DIV of its RX ring is queued, or when
 * the switch goes idle (mon_flush from vs_sleep, before the double check):
 * the delay is bounded by a quarter ring or the end of the burst.
 */
#define MON_IRQ_DIV 4

/*
 * Read the next frame of [*i, to) in VR (untrusted slots, each read once).
 * Returns its length, or -1 if it is malformed or cut at TO (skip it).
 */
static long next_frame(const struct vring *vr, uint32_t *i, uint32_t to, struct fwd_frag *f,
		       unsigned *nf)
{
	uint64_t len = 0;
	bool ok = true;

	*nf = 0;
	while (*i != to) {
		struct unm_slot s;

		memcpy(&s, &vr->slot[*i], sizeof(s)); /* untrusted: one copy */
		*i = vr_next(vr, *i);
		if (*nf == UNM_MAX_FRAGS || s.buf_idx < 2 || s.buf_idx >= vr->buf_count ||
		    s.len > vr->buf_size) {
			ok = false;
		} else {
			f[*nf].buf = vr->pool + (uint64_t)s.buf_idx * vr->buf_size;
			f[(*nf)++].len = s.len;
			len += s.len;
		}
		if (!(s.flags & UNM_NS_MOREFRAG))
			return ok && len <= UNM_MAX_FRAME ? (long)len : -1;
	}
	return -1;
}

/* Where copies for one monitor go during one call: its RX ring O, the
 * next slot K and the free slots left (mo_ = monitor output: the
 * functions that fill one). */
struct mon_out {
	struct vport *mp;
	struct vring *o;
	uint32_t k, avail;
};

static bool mo_begin(struct unmd *d, struct vmon *m, const struct vring *vr, struct mon_out *mo)
{
	uint32_t end;
	int rc;

	mo->mp = m->port;
	mo->o = &mo->mp->out[vr->id % mo->mp->n_out];
	if ((rc = mo->mp->ops->out_space(mo->mp, mo->o, &end))) {
		vs_port_failed(d, mo->mp, rc); /* bad RX head from the monitor's client */
		return false;
	}
	mo->k = mo->o->hwtail;
	mo->avail = vr_dist(mo->o, mo->k, end);
	return true;
}

/*
 * A monitor's region has no virtio-net header (mon_open refuses one), so
 * the copies of a port that has one lose it: the monitor gets frames as
 * they are on the wire, which is what its readers (unm-capture writing
 * pcap) expect; a GSO frame stays one large frame, as tcpdump shows it on
 * a Linux host. F/NF/LEN become the frame after the first VHL bytes, in
 * SF. False if the frame is shorter than its header (not copied).
 */
static bool strip_vnet(uint32_t vhl, const struct fwd_frag **f, unsigned *nf, uint32_t *len,
		       struct fwd_frag *sf)
{
	unsigned j = 0;
	uint32_t skip = vhl;

	if (*len < vhl)
		return false;
	for (unsigned k = 0; k < *nf; k++) {
		if (skip >= (*f)[k].len) {
			skip -= (*f)[k].len;
			continue;
		}
		sf[j].buf = (*f)[k].buf + skip;
		sf[j++].len = (*f)[k].len - skip;
		skip = 0;
	}
	if (j == 0) {   /* a header and nothing else: an empty frame */
		sf[0].buf = (*f)[0].buf;
		sf[j++].len = 0;
	}
	*f = sf;
	*nf = j;
	*len -= vhl;
	return true;
}

/* Copy one frame of P's ring VR (NF fragments, LEN bytes) to the monitor;
 * false if the monitor's ring turned out bad (it is errored: stop). */
static bool mo_put(struct unmd *d, struct vport *p, struct mon_out *mo, const struct vring *vr,
		   bool tx, const struct fwd_frag *f, unsigned nf, uint32_t len)
{
	struct fwd_frag sf[UNM_MAX_FRAGS];
	struct vring *o = mo->o;
	uint16_t fl = tx ? UNM_NS_TXMON : 0;

	if (p->geom.vnet_hdr_len && !strip_vnet(p->geom.vnet_hdr_len, &f, &nf, &len, sf))
		return true;

	uint32_t need = len ? (len + o->buf_size - 1) / o->buf_size : 1;

	if (need > mo->avail || need > UNM_MAX_FRAGS) {
		mo->mp->st.mon_drops++;
		p->st.mon_drops++;
		return true;
	}
	/* a stripped frame starts up to vnet_hdr_len bytes into its buffer */
	if (!(nf == 1 && len <= VR_LINE && vr->buf_size >= VR_LINE + p->geom.vnet_hdr_len &&
	      o->buf_size >= VR_LINE ?
	      vr_copy_line(o, f[0].buf, len, fl, &mo->k) :
	      vr_copy_frame(o, f, nf, len, fl, &mo->k))) {
		vs_port_error(d, mo->mp, "monitor RX slot with buffer index outside [2, %u)",
			      o->buf_count);
		return false;
	}
	mo->avail -= need;
	mo->mp->st.rx_frames++;
	mo->mp->st.rx_bytes += len;
	mo->mp->st.mon_copies++;
	p->st.mon_copies++;
	return true;
}

static void mo_end(struct vmon *m, struct mon_out *mo)
{
	if (mo->k != mo->o->hwtail) {
		mo->mp->ops->out_publish(mo->mp, mo->o, mo->k);
		m->owed = true; /* interrupt it (if it sleeps): mon_round_end */
	}
}

/* Copy the frames of [from, to) of VR (a ring of m->target) to monitor M. */
static void mon_copy(struct unmd *d, struct vport *p, struct vmon *m, const struct vring *vr,
		     bool tx, uint32_t from, uint32_t to)
{
	struct fwd_frag f[UNM_MAX_FRAGS];
	struct mon_out mo;
	uint32_t i = from;
	unsigned nf;
	long len;

	if (!mo_begin(d, m, vr, &mo))
		return;
	while (i != to)
		if ((len = next_frame(vr, &i, to, f, &nf)) >= 0 &&
		    !mo_put(d, p, &mo, vr, tx, f, nf, (uint32_t)len))
			return;
	mo_end(m, &mo);
}

/* Copies queued in M's fullest RX ring reach 1/MON_IRQ_DIV of it. */
static bool mon_full_enough(const struct vport *mp)
{
	for (unsigned i = 0; i < mp->n_out; i++) {
		const struct vring *o = &mp->out[i];

		if (vr_dist(o, o->hwcur, o->hwtail) >= o->nslots / MON_IRQ_DIV)
			return true;
	}
	return false;
}

void mon_round_end(struct vport *p, bool idle)
{
	for (struct vmon *m = p->mons; m; m = m->next) {
		struct vport *mp = m->port;

		if (!m->owed || mp->errored || mp->dom || !(idle || mon_full_enough(mp)))
			continue;
		m->owed = false;
		mp->ops->round_end(mp); /* [H4] fence, irq if appl_need_kick */
	}
}

void mon_ring(struct unmd *d, struct vport *p, const struct vring *vr, bool in, uint32_t from,
	      uint32_t to)
{
	/* in rings: a client's TX rings, an attached port's RX rings */
	bool tx = in != p->attached;
	unsigned dir = tx ? UNM_CTL_OPEN_MON_TX : UNM_CTL_OPEN_MON_RX;

	for (struct vmon *m = p->mons; m; m = m->next)
		if ((m->dirs & dir) && !m->port->errored && !m->port->dom)
			mon_copy(d, p, m, vr, tx, from, to);
}

void mon_frames(struct unmd *d, struct vport *p, const struct vring *vr, bool in,
		const struct mon_frame *fr, unsigned n)
{
	bool tx = in != p->attached;
	unsigned dir = tx ? UNM_CTL_OPEN_MON_TX : UNM_CTL_OPEN_MON_RX;

	for (struct vmon *m = p->mons; m; m = m->next) {
		struct mon_out mo;
		unsigned i;

		if (!(m->dirs & dir) || m->port->errored || m->port->dom ||
		    !mo_begin(d, m, vr, &mo))
			continue;
		for (i = 0; i < n && mo_put(d, p, &mo, vr, tx, fr[i].f, fr[i].nf, fr[i].len); i++)
			;
		if (i == n)
			mo_end(m, &mo);
	}
}

void mon_port_gone(struct vport *p)
{
	uint64_t one = 1;

	while (p->mons) {
		struct vmon *m = p->mons;
		struct vport *mp = m->port;

		p->mons = m->next;
		m->next = NULL;
		m->target = NULL;
		if (mp->dom) { /* zero-copy: p is still in the domain here */
			vdom_mon_gone(mp, p);
			continue;
		}
		for (unsigned i = 0; i < mp->n_in + mp->n_out; i++) {
			struct vring *vr = i < mp->n_in ? &mp->in[i] : &mp->out[i - mp->n_in];

			/* [M1] seq_cst RMW after every [H2] hwtail release of this
			 * monitor: a client that sees GONE with [M2] also sees the
			 * last hwtail (lib/monitor.c: mon_rxsync). */
			__atomic_fetch_or(&vr->csb->h2a.host_flags, UNM_CSB_F_GONE, __ATOMIC_SEQ_CST);
			if (write(vr->irq_fd, &one, sizeof(one)) == sizeof(one))
				mp->st.irqs_tx++;
		}
	}
}

/* Is P the port WANT names? Exact, or equal without suffixes (an
 * attached "null/x" is "null" to a monitor). */
static bool name_matches(const struct vport *p, const char *want)
{
	return !strcmp(p->name, want) || (p->attached && !strcmp(p->base, want));
}

/* The monitored port, as req->spec names it (the client parsed the name;
 * unm_ctl_check_req checked the spec). Lock held. */
static struct vport *find_target(struct unmd *d, const struct unm_ctl_req *req, char *err,
				 size_t errlen)
{
	const struct unm_ctl_portspec *w = &req->spec;
	struct vport *found = NULL;
	unsigned n = 0;
	bool vale = !strcmp(w->type, "vale");
	const char *name = w->name, *only = req->arg;

	/* "valeX:TYPE:ARG": an attached port named on its switch */
	if (!vale && w->sw[0]) {
		if (only[0] && strcmp(only, w->sw))
			name = req->name; /* two switches named: no port is both */
		else
			only = w->sw;
	}
	for (unsigned i = 0; i < VS_MAX_SWITCHES; i++) {
		struct vswitch *sw = d->sw[i];

		if (!sw || (vale && strcmp(sw->name, w->sw)) || (only[0] && strcmp(sw->name, only)))
			continue;
		for (unsigned k = 0; k < sw->n_active; k++) {
			struct vport *p = sw->ports[sw->active[k]];

			if (vale ? name_matches(p, w->port) : p->attached && name_matches(p, name)) {
				found = p;
				n++;
			}
		}
	}
	if (n > 1) {
		snprintf(err, errlen, "%.100s is attached to several switches: say which "
			 "(monitor:valeX:NAME)", req->name);
		return NULL;
	}
	if (!found)
		snprintf(err, errlen, "no port %.100s on %s switch of this unmd", name,
			 only[0] ? only : "any");
	return found;
}

/*
 * A zero-copy monitor (lib/domain.c mon_handoff) when it fits: an RX-only
 * monitor (/r) of a domain member, asked by a client that can be a member
 * (UNM_CTL_OPEN_DOMAIN) of the domain's uid. It joins the domain as a
 * member that only receives: the target's rxsync hands it every frame
 * the application releases, by buffer swap. Everyone else (other uids,
 * administrators included, TX monitors, old clients) gets a copy monitor
 * as before. 1: not applicable (copy monitor), else 0 or -errno.
 */
static int mon_open_zc(struct unmd *d, struct ctl_conn *c, const struct unm_ctl_req *req,
		       struct vport **pp, char *err, size_t errlen)
{
	struct vport *t, *mp;
	struct vmon *m;
	unsigned n = 0;
	int rc;

	if ((req->flags & UNM_CTL_OPEN_MON_MASK) != UNM_CTL_OPEN_MON_RX ||
	    !(req->flags & UNM_CTL_OPEN_DOMAIN))
		return 1;
	m = calloc(1, sizeof(*m));
	if (!m)
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	unmd_lock(d);
	t = find_target(d, req, err, errlen);
	if (!t || !t->dom || t->uid != c->uid || !t->owner) {
		unmd_unlock(d);
		free(m);
		return 1;
	}
	for (struct vmon *x = t->mons; x; x = x->next)
		n++;
	if (n >= MON_MAX_PER_PORT) {
		snprintf(err, errlen, "%s:%s already has %u monitors", t->sw->name, t->name, n);
		rc = -ENOSPC;
	} else if (!(rc = vdom_mon_create(d, t, c->pid, &mp, err, errlen)) &&
		   (rc = vs_uid_quota(d, c->uid, mp->region_size, err, errlen))) {
		vdom_mon_removed(d, mp, t);
		unmd_unlock(d);
		mp->ops->destroy(mp);
		free(m);
		return rc;
	}
	if (rc) {
		unmd_unlock(d);
		free(m);
		return rc;
	}
	m->port = mp;
	m->target = t;
	m->dirs = UNM_CTL_OPEN_MON_RX;
	snprintf(m->sw, sizeof(m->sw), "%s", t->sw->name);
	snprintf(m->name, sizeof(m->name), "%s", t->name);
	mp->self_mon = m;
	mp->idx = t->idx;
	mp->uid = c->uid;
	mp->owner = c;
	m->next = t->mons;
	t->mons = m;
	m->all_next = all_mons;
	all_mons = m;
	unmd_unlock(d);
	*pp = mp;
	return 0;
}

int mon_open(struct unmd *d, struct ctl_conn *c, const struct unm_ctl_req *req,
	     struct vport **pp, char *err, size_t errlen)
{
	struct unm_ctl_geom g = req->geom;
	struct vport *t, *mp;
	struct vmon *m;
	unsigned n = 0;
	int rc = mon_open_zc(d, c, req, pp, err, errlen);

	if (rc <= 0)
		return rc;
	g.tx_rings = 1;           /* unused: a copy monitor only receives */
	g.tx_slots = UNM_MIN_SLOTS;
	if (!g.rx_rings) g.rx_rings = 1;
	if (!g.rx_slots) g.rx_slots = UNM_DEF_SLOTS;
	if (!g.buf_size) g.buf_size = UNM_DEF_BUF_SIZE;
	if (g.rx_rings > UNM_MAX_RINGS || g.rx_slots < UNM_MIN_SLOTS ||
	    g.rx_slots > UNM_MAX_SLOTS || g.buf_size < UNM_MIN_BUF_SIZE ||
	    g.buf_size > UNM_MAX_BUF_SIZE || g.extra_bufs > 65536 || g.vnet_hdr_len)
		return snprintf(err, errlen, "monitor geometry out of range (rings 1..%u, slots "
				"%u..%u, bufsize %u..%u, no vnet header)", UNM_MAX_RINGS,
				UNM_MIN_SLOTS, UNM_MAX_SLOTS, UNM_MIN_BUF_SIZE,
				UNM_MAX_BUF_SIZE), -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	/* the region is built without the lock (it may take a while) */
	rc = vport_csb_create(&mp, "monitor", &g, err, errlen);
	if (rc) {
		free(m);
		return rc;
	}
	unmd_lock(d);
	t = find_target(d, req, err, errlen);
	for (struct vmon *x = t ? t->mons : NULL; x; x = x->next)
		n++;
	if (!t) {
		rc = -ENOENT;
	} else if (!c->admin && t->uid != c->uid) {
		/* a monitor sees every frame of the port: its owner's business */
		snprintf(err, errlen, "%s:%s belongs to uid %u: only its owner or an administrator "
			 "(root, unmd --admin-group) may monitor it", t->sw->name, t->name,
			 (unsigned)t->uid);
		rc = -EPERM;
	} else if ((rc = vs_uid_quota(d, c->uid, mp->region_size, err, errlen))) {
		/* a monitor holds a region like a port: same limits */
	} else if (n >= MON_MAX_PER_PORT) {
		snprintf(err, errlen, "%s:%s already has %u monitors", t->sw->name, t->name, n);
		rc = -ENOSPC;
	} else {
		for (unsigned i = 0; i < mp->n_out; i++)
			UNM_WRITE_ONCE(mp->out[i].csb->h2a.kern_need_kick, 0); /* never kick us */
		UNM_WRITE_ONCE(mp->in[0].csb->h2a.kern_need_kick, 0);
		m->port = mp;
		m->target = t;
		m->dirs = req->flags & UNM_CTL_OPEN_MON_MASK;
		snprintf(m->sw, sizeof(m->sw), "%s", t->sw->name);
		snprintf(m->name, sizeof(m->name), "%s", t->name);
		snprintf(mp->type, sizeof(mp->type), "monitor");
		mp->self_mon = m;
		mp->idx = t->idx;
		mp->uid = c->uid;
		mp->owner = c;
		m->next = t->mons;
		t->mons = m; /* the forwarding thread copies from its next round */
		m->all_next = all_mons;
		all_mons = m;
	}
	unmd_unlock(d);
	if (rc) {
		mp->ops->destroy(mp);
		free(m);
		return rc;
	}
	*pp = mp;
	return 0;
}

void mon_close(struct unmd *d, struct vport *mp)
{
	struct vmon *m = mp->self_mon;

	if (mp->dom)
		vdom_mon_removed(d, mp, m->target);

	if (m->target)
		for (struct vmon **pm = &m->target->mons; *pm; pm = &(*pm)->next)
			if (*pm == m) {
				*pm = m->next;
				break;
			}
	for (struct vmon **pm = &all_mons; *pm; pm = &(*pm)->all_next)
		if (*pm == m) {
			*pm = m->all_next;
			break;
		}
	mp->self_mon = NULL;
	free(m);
}

const struct vmon *mon_nth(const struct vport *p, unsigned n)
{
	const struct vmon *m = p->mons;

	while (m && n--)
		m = m->next;
	return m;
}

void mon_port_info(const struct vport *p, struct unm_ctl_port_info *pi)
{
	for (const struct vmon *m = p->mons; m; m = m->next)
		pi->monitors++;
	pi->mon_copies = p->st.mon_copies;
	pi->mon_drops = p->st.mon_drops;
	if (p->dom) /* a zero-copy monitor's frames, as the member counts them */
		vdom_mon_counts(p, &pi->mon_copies, &pi->mon_drops);
}

void mon_self_info(const struct vmon *m, struct unm_ctl_port_info *pi)
{
	const struct vport *mp = m->port;

	snprintf(pi->sw, sizeof(pi->sw), "%s", m->sw);
	snprintf(pi->name, sizeof(pi->name), "%s", m->name);
	snprintf(pi->type, sizeof(pi->type), "monitor");
	pi->idx = mp->idx;
	pi->flags = UNM_CTL_PORT_MONITOR | (mp->errored ? UNM_CTL_PORT_ERRORED : 0) |
		    (mp->owner ? UNM_CTL_PORT_CLIENT : 0);
	pi->pid = mp->owner ? mp->owner->pid : 0;
	pi->uid = (uint32_t)mp->uid;
	pi->geom = mp->geom;
	pi->region_size = mp->region_size;
	pi->rx_frames = mp->st.rx_frames;
	pi->rx_bytes = mp->st.rx_bytes;
	pi->bad_ring = mp->st.bad_ring;
	pi->irqs_tx = mp->st.irqs_tx;
	pi->mon_dirs = m->dirs;
	pi->mon_copies = mp->st.mon_copies;
	pi->mon_drops = mp->st.mon_drops;
	if (mp->dom && m->target) /* zero-copy: what its target handed over */
		vdom_mon_counts(m->target, &pi->mon_copies, &pi->mon_drops);
}
