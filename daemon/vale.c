// SPDX-License-Identifier: BSD-2-Clause
/*
 * vale.c - VALE switches inside unmd: the switch table, port membership,
 * and the forwarding thread that copies frames between ports.
 *
 * Threading model: ONE forwarding thread serves every ring of every port
 * of every switch. This machine class has 2 vCPUs that the forwarding
 * thread shares with the clients it serves; a thread per switch or per
 * ring would only add context switches and cache-line ping-pong between
 * threads competing for the same two CPUs, and a per-switch thread can
 * always be added later by giving each switch its own lock and epoll. The
 * thread busy-polls while rounds make progress (no syscall on the fast
 * path: clients see kern_need_kick == 0 and do not kick), keeps polling
 * for VS_SPIN_NS after the last progress, then does netmap's double
 * check: set kern_need_kick on every ring, full fence [H3], re-read
 * every head; only if still nothing is pending does it sleep in
 * epoll_wait on all kick eventfds (edge-triggered: a kick is never
 * read, the write itself wakes us).
 * Clients are interrupted (irq eventfd) at most once per ring per round,
 * and only if they asked (appl_need_kick) and the ring moved.
 *
 * Forwarding (netmap's nm_bdg_flush, split in its two passes): for each
 * source ring, take up to VS_BATCH slots; pass 1 (fwd_gather +
 * fwd_lookup) validates every slot, builds frames from MOREFRAG chains,
 * prefetches the buffers, then looks up every frame's destination; pass 2
 * (fwd_deliver, once per destination) copies that destination's frames,
 * re-fragmenting to its buffer size. Accounting is exact: every frame
 * taken from a ring is delivered or counted under one drop reason, per
 * copy for floods (see unm/ctl.h).
 *
 * Offloads: ports with a virtio-net header (geom.vnet_hdr_len) go through
 * three hooks into vale_offload.c: vo_in() validates the header in pass 1
 * (a bad one is a bad_vnet drop), vo_slots() sizes a copy for lossless
 * reservations, and vo_deliver() replaces fwd_copy() in pass 2 whenever
 * the source or the destination has a header (header conversion,
 * segmentation, checksum completion). The lookup sees the frame after
 * the header.
 *
 * Overload: by default a full destination ring drops (dst_full). In
 * lossless mode pass 1 reserves room in every destination before it
 * accepts a frame and stops the batch at the first frame that does not
 * fit: the sender's TX ring is left unconsumed (backpressure) and the
 * thread then sleeps with kern_need_kick also set on out rings, so a
 * receiver releasing slots wakes it.
 *
 * Monitors (monitor.c): two hooks, taken only when a port has monitors.
 * fwd_ring hands mon_frames() the frames consumed from a source ring
 * (pass 1's fragments) before releasing them, fwd_deliver hands
 * mon_ring() the slots filled in a destination ring before publishing them; monitors never take part in lossless
 * reservations (a full monitor drops). vs_port_remove tells a departing
 * port's monitors (mon_port_gone).
 *
 * Locking: see unmd.h. The forwarding thread holds d->lock except while
 * sleeping and while yielding to the control thread between rounds.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "unmd.h"

struct fwd_ent {
	uint32_t frag;       /* first fragment in fwd_batch.frag[] */
	uint32_t len;        /* bytes in the whole frame */
	uint32_t slot_end;   /* source slot after the frame */
	uint16_t nfrags;
	uint8_t dst;         /* port, VS_BCAST or VS_DROP */
	uint8_t reason;      /* UNM_DROP_* when dst == VS_DROP */
	uint16_t next;       /* next entry in its destination list */
	bool skip_after;     /* over-long chain continues after slot_end */
	bool whole;          /* every slot valid and in frag[]: monitors copy it */
};

#define FWD_NONE 0xffff

struct fwd_batch {
	struct fwd_ent ent[VS_BATCH];
	struct fwd_frag frag[VS_BATCH];
	struct unm_vnet_info vi[VS_BATCH]; /* pass 1 parse, sources with a vnet header */
	unsigned n_ent, n_frag;
	uint32_t start;                    /* first slot of the first frame */
	uint32_t src_buf_size;             /* buffer size of the source ring */
	uint64_t now;                      /* this round's time */
	uint16_t lhead[VS_MAX_PORTS + 1], ltail[VS_MAX_PORTS + 1];
	/* lossless (fwd_reserve), per batch: a port's ring and free slots
	 * left, valid once room_ok; fast: neither side has a vnet header,
	 * so a frame of up to room_o's buffer size takes one slot; the ports
	 * a flood reaches, and once fl_fast, the largest frame that takes
	 * one slot in each (all fast) */
	uint32_t room[VS_MAX_PORTS];
	struct vring *room_o[VS_MAX_PORTS];
	struct mon_frame mf[VS_BATCH];     /* frames handed to monitors */
	bool room_ok[VS_MAX_PORTS], fast[VS_MAX_PORTS];
	uint8_t fl[VS_MAX_PORTS];
	unsigned n_fl;
	bool fl_checked, fl_fast;
	uint32_t fl_buf;
};

static inline uint32_t slots_for(uint32_t len, uint32_t buf_size)
{
	return len ? (len + buf_size - 1) / buf_size : 1;
}

/* ---- switch table (control thread, lock held) ---------------------------- */

bool vs_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n < 4 || n >= UNM_CTL_SW_MAX || strncmp(name, "vale", 4))
		return false;
	for (size_t i = 4; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return false;
	return true;
}

struct vswitch *vs_find(struct unmd *d, const char *name)
{
	for (unsigned i = 0; i < VS_MAX_SWITCHES; i++)
		if (d->sw[i] && !strcmp(d->sw[i]->name, name))
			return d->sw[i];
	return NULL;
}

struct vport *vs_port_find(struct vswitch *sw, const char *name)
{
	for (unsigned k = 0; k < sw->n_active; k++)
		if (!strcmp(sw->ports[sw->active[k]]->name, name))
			return sw->ports[sw->active[k]];
	return NULL;
}

unsigned vs_uid_ports(struct unmd *d, uid_t uid, uint64_t *mem)
{
	unsigned n = 0;

	*mem = 0;
	for (unsigned i = 0; i < VS_MAX_SWITCHES; i++) {
		struct vswitch *sw = d->sw[i];

		for (unsigned k = 0; sw && k < sw->n_active; k++) {
			struct vport *p = sw->ports[sw->active[k]];

			if (p->uid == uid) { /* client, persistent and attached ports alike */
				n++;
				*mem += p->region_size;
			}
		}
	}
	return n + mon_uid_usage(uid, mem); /* and monitors, on no switch */
}

int vs_uid_quota(struct unmd *d, uid_t uid, uint64_t size, char *err, size_t errlen)
{
	uint64_t mem;
	unsigned n = vs_uid_ports(d, uid, &mem);

	if (n >= d->max_ports_uid)
		return snprintf(err, errlen, "uid %u already has %u ports and monitors (limit %u, "
				"unmd --max-ports)", (unsigned)uid, n, d->max_ports_uid), -EDQUOT;
	if (mem + size > d->max_mem_uid)
		return snprintf(err, errlen, "uid %u would use %llu bytes of port and monitor "
				"memory (limit %llu, unmd --max-mem)", (unsigned)uid,
				(unsigned long long)(mem + size),
				(unsigned long long)d->max_mem_uid), -EDQUOT;
	return 0;
}

static struct vswitch *vs_create(struct unmd *d, const char *name)
{
	struct vswitch *sw;
	unsigned slot = VS_MAX_SWITCHES;

	for (unsigned i = 0; i < VS_MAX_SWITCHES && slot == VS_MAX_SWITCHES; i++)
		if (!d->sw[i])
			slot = i;
	if (slot == VS_MAX_SWITCHES)
		return NULL;
	sw = calloc(1, sizeof(*sw));
	if (!sw)
		return NULL;
	snprintf(sw->name, sizeof(sw->name), "%s", name);
	sw->lookup = &vs_learning_ops;
	sw->lt = sw->lookup->create();
	if (!sw->lt) {
		free(sw);
		return NULL;
	}
	d->sw[slot] = sw;
	return sw;
}

/* ---- fair share of destination rings (drop mode) ----------------------------
 *
 * Without it one port flooding a receiver (broadcasts, unknown unicast)
 * fills that receiver's RX ring whenever the receiver is slow for a
 * moment, and every other sender to it loses frames: a hostile client
 * could make an honest stream lossy at will. With it the switch applies
 * dynamic-threshold admission (Choudhury & Hahne): a frame from source s
 * needing `need` slots is admitted only if
 *     occ[s] + need <= VS_SHARE_ALPHA * (free - need),
 * With A = VS_SHARE_ALPHA and a ring of N slots: a lone sender may fill
 * A/(A+1) of the ring, k flooders leave about N/(kA+1) slots free, and a
 * sender holding fewer than AN/((k+1)A+1) slots (about N/(k+1)) is never
 * refused by a full ring. A large A costs a lone sender almost nothing
 * (a small A leaves a receiver waking from sleep less backlog and costs
 * throughput; the figures are in bench/NOTES.md). Refusals count as
 * dst_full. Lossless mode reserves room instead
 * (fwd_reserve) and has no shares.
 */
#define VS_SHARE_ALPHA 16u

static int share_alloc(struct vport *p)
{
	for (unsigned i = 0; i < p->n_out; i++) {
		struct vring *o = &p->out[i];
		struct vshare *sh = calloc(1, sizeof(*sh) + o->nslots);

		if (!sh) {
			for (unsigned j = 0; j < i; j++) {
				free(p->out[j].share);
				p->out[j].share = NULL;
			}
			return -ENOMEM;
		}
		memset(sh->owner, VS_NO_OWNER, o->nslots);
		sh->rel = UINT32_MAX; /* first look: nothing was filled yet */
		o->share = sh;
	}
	return 0;
}

static void share_free(struct vport *p)
{
	for (unsigned i = 0; i < p->n_out; i++) {
		free(p->out[i].share);
		p->out[i].share = NULL;
	}
}

/* The owner released slots up to END (the free region is [hwtail, END)):
 * return the slots filled since the last look to their sources. */
static void share_release(struct vring *o, uint32_t end)
{
	struct vshare *sh = o->share;

	if (sh->rel >= o->nslots) {
		sh->rel = end;
		return;
	}
	for (uint32_t i = sh->rel; i != end; i = vr_next(o, i))
		if (sh->owner[i] != VS_NO_OWNER) {
			sh->occ[sh->owner[i]]--;
			sh->owner[i] = VS_NO_OWNER;
		}
	sh->rel = end;
}

/* Slots [from, to) now hold a frame of source SRC. */
static void share_take(struct vring *o, unsigned src, uint32_t from, uint32_t to)
{
	struct vshare *sh = o->share;

	for (uint32_t i = from; i != to; i = vr_next(o, i)) {
		if (sh->owner[i] != VS_NO_OWNER) /* cannot happen: kept for the invariant */
			sh->occ[sh->owner[i]]--;
		sh->owner[i] = (uint8_t)src;
		sh->occ[src]++;
	}
}

void vs_port_epoll(struct unmd *d, struct vport *p, int op)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	int fd = p->ops->fd ? p->ops->fd(p) : -1;

	for (unsigned i = 0; i < p->n_in + p->n_out; i++) {
		struct vring *vr = i < p->n_in ? &p->in[i] : &p->out[i - p->n_in];

		if (vr->kick_fd >= 0)
			epoll_ctl(d->ep, op, vr->kick_fd, &ev);
	}
	if (fd >= 0)
		epoll_ctl(d->ep, op, fd, &ev);
}

int vs_port_add(struct unmd *d, const char *name, struct vport *p, char *err, size_t errlen)
{
	struct vswitch *sw = vs_find(d, name);
	unsigned idx = VS_MAX_PORTS;
	uint64_t one = 1;

	if (!sw) {
		if (!(sw = vs_create(d, name)))
			return snprintf(err, errlen, "cannot create switch %s: %u switches exist "
					"or no memory", name, VS_MAX_SWITCHES), -ENOSPC;
		sw->uid = p->uid; /* made on demand: its first port's owner owns it */
	}
	for (unsigned i = 0; i < VS_MAX_PORTS && idx == VS_MAX_PORTS; i++)
		if (!sw->ports[i])
			idx = i;
	if (idx == VS_MAX_PORTS)
		return snprintf(err, errlen, "switch %s is full (%u ports)", name, VS_MAX_PORTS),
		       -ENOSPC;
	if (share_alloc(p))
		return snprintf(err, errlen, "no memory for the ring shares of %s", p->name),
		       -ENOMEM;
	p->sw = sw;
	p->idx = idx;
	sw->ports[idx] = p;
	sw->active[sw->n_active++] = (uint8_t)idx;
	vdom_switch_changed(sw);
	vs_port_epoll(d, p, EPOLL_CTL_ADD);
	/* a sleeping forwarding thread re-arms with the new port included */
	if (write(d->wake_fd, &one, sizeof(one)) < 0)
		return 0;
	return 0;
}

void vport_stats_add(struct vport_stats *to, const struct vport_stats *from)
{
	uint64_t *t = (uint64_t *)to;
	const uint64_t *f = (const uint64_t *)from;

	_Static_assert(sizeof(*to) % sizeof(uint64_t) == 0, "vport_stats: only uint64_t");
	for (size_t i = 0; i < sizeof(*to) / sizeof(uint64_t); i++)
		t[i] += f[i];
}

void vs_port_remove(struct unmd *d, struct vport *p)
{
	struct vswitch *sw;

	if (!p)
		return;
	sw = p->sw;
	mon_port_gone(p); /* monitor hook: its monitors see UNM_CSB_F_GONE */
	vs_port_epoll(d, p, EPOLL_CTL_DEL);
	sw->ports[p->idx] = NULL;
	for (unsigned k = 0; k < sw->n_active; k++)
		if (sw->active[k] == p->idx) {
			sw->active[k] = sw->active[--sw->n_active];
			break;
		}
	sw->lookup->port_gone(sw->lt, p->idx);
	vport_stats_add(&sw->gone, &p->st);
	sw->ports_gone++;
	if (p->dom)
		vdom_port_removed(d, p);
	vdom_switch_changed(sw);
	p->sw = NULL;
	share_free(p);
	if (sw->n_active == 0 && !sw->kept)
		vs_switch_free(d, sw);
}

void vs_switch_free(struct unmd *d, struct vswitch *sw)
{
	for (unsigned i = 0; i < VS_MAX_SWITCHES; i++)
		if (d->sw[i] == sw)
			d->sw[i] = NULL;
	sw->lookup->destroy(sw->lt);
	free(sw);
}

int vs_switch_add(struct unmd *d, const char *name, uid_t uid)
{
	struct vswitch *sw = vs_find(d, name);

	if (sw) {
		/* one made on demand by the same owner becomes kept */
		if (sw->kept || sw->uid != uid)
			return -EEXIST;
		sw->kept = true;
		return 0;
	}
	if (!(sw = vs_create(d, name)))
		return -ENOSPC;
	sw->uid = uid;
	sw->kept = true;
	return 0;
}

void vs_port_error(struct unmd *d, struct vport *p, const char *fmt, ...)
{
	char why[200];
	va_list ap;
	uint64_t one = 1;

	if (p->errored)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	p->errored = true;
	if (p->owner)
		ulog("bad ring values from pid %d on %s:%s: %s; port errored",
		     (int)p->owner->pid, p->sw ? p->sw->name : "?", p->name, why);
	else
		ulog("port %s on %s failed: %s; port errored", p->name,
		     p->sw ? p->sw->name : "?", why);
	p->ops->set_error(p);
	if (write(d->reap_fd, &one, sizeof(one)) < 0)
		return;
}

void vs_port_failed(struct unmd *d, struct vport *p, int rc)
{
	if (p->why[0])
		vs_port_error(d, p, "%s", p->why);
	else
		vs_port_error(d, p, "%s", strerror(-rc));
}

/* ---- pass 1: gather, validate, look up ------------------------------------ */

/*
 * Take frames from [vr->hwcur, end), at most VS_BATCH slots. Each slot is
 * read once (untrusted) and checked; bad frames are kept as entries with
 * dst = VS_DROP so they are consumed and counted. A chain still open at
 * `end` is left for the next round (its sender is still writing it).
 */
static void fwd_gather(struct vport *src, struct vring *vr, uint32_t end, struct fwd_batch *b)
{
	uint32_t i = vr->hwcur, budget = VS_BATCH;
	uint32_t max_len = UNM_MAX_FRAME + src->geom.vnet_hdr_len;

	b->n_ent = b->n_frag = 0;
	/* finish dropping an over-long chain from the previous round */
	while (vr->skip && i != end && budget) {
		uint16_t fl = UNM_READ_ONCE(vr->slot[i].flags); /* untrusted */

		i = vr_next(vr, i);
		budget--;
		vr->skip = fl & UNM_NS_MOREFRAG;
	}
	b->start = i;
	while (i != end && budget) {
		struct fwd_ent *e = &b->ent[b->n_ent];
		uint32_t j = i, nf = 0, f0 = b->n_frag;
		bool complete = false;

		e->len = 0;
		e->reason = 0xff;
		e->skip_after = false;
		while (j != end && nf < budget) {
			struct unm_slot s;

			memcpy(&s, &vr->slot[j], sizeof(s)); /* untrusted: one copy */
			j = vr_next(vr, j);
			nf++;
			if (e->reason == 0xff) {
				if (s.buf_idx < 2 || s.buf_idx >= vr->buf_count) {
					e->reason = UNM_DROP_BAD_BUF;
				} else if (s.len > vr->buf_size) {
					e->reason = UNM_DROP_BAD_LEN;
				} else {
					const char *buf = vr->pool + (uint64_t)s.buf_idx * vr->buf_size;

					__builtin_prefetch(buf);
					b->frag[b->n_frag].buf = buf;
					b->frag[b->n_frag++].len = s.len;
					e->len += s.len;
					if (e->len > max_len)
						e->reason = UNM_DROP_TOO_LONG;
				}
			}
			if (!(s.flags & UNM_NS_MOREFRAG)) {
				complete = true;
				break;
			}
			if (nf >= UNM_MAX_FRAGS)
				e->reason = UNM_DROP_TOO_LONG; /* consume the rest, unrecorded */
		}
		if (!complete && nf >= UNM_MAX_FRAGS) {
			/* over-long and still open: drop what we have, skip the rest later */
			e->skip_after = complete = true;
		}
		if (!complete) {
			b->n_frag = f0; /* open chain: wait for the rest */
			break;
		}
		if (e->reason == 0xff && b->frag[f0].len < 14)
			e->reason = UNM_DROP_BAD_LEN; /* runt: no Ethernet header */
		e->whole = e->reason == 0xff; /* monitors skip bad_buf/len, too_long */
		if (e->reason == 0xff && src->geom.vnet_hdr_len) /* offload hook */
			e->reason = vo_in(src, &b->frag[f0], b->n_frag - f0, &b->vi[b->n_ent]);
		e->frag = f0;
		e->nfrags = (uint16_t)(b->n_frag - f0);
		e->slot_end = j;
		e->dst = e->reason == 0xff ? 0 : VS_DROP;
		budget -= nf;
		b->n_ent++;
		i = j;
	}
}

/* Lossless, once per batch of SRC's ring VR: forget the rooms, list the
 * ports a flood reaches. */
static void reserve_begin(struct vswitch *sw, struct vport *src, struct fwd_batch *b)
{
	memset(b->room_ok, 0, sizeof(b->room_ok));
	b->n_fl = 0;
	b->fl_checked = b->fl_fast = false;
	for (unsigned k = 0; k < sw->n_active; k++) {
		struct vport *dp = sw->ports[sw->active[k]];

		if (dp && dp != src && !dp->errored && !(src->dom && dp->dom == src->dom))
			b->fl[b->n_fl++] = sw->active[k];
	}
}

/* First use of port D in this batch: its ring for VR and its free slots.
 * Only this can error a port during pass 1, so a port found usable and
 * fast here stays so for the batch. */
static __attribute__((noinline)) void reserve_load(struct unmd *ud, struct vport *src,
						   struct vport *dp, struct vring *vr,
						   struct fwd_batch *b, unsigned d)
{
	struct vring *o = b->room_o[d] = &dp->out[vr->id % dp->n_out];
	uint32_t oend;
	int rc;

	if ((rc = dp->ops->out_space(dp, o, &oend)))
		vs_port_failed(ud, dp, rc);
	b->room[d] = rc ? 0 : vr_dist(o, o->hwtail, oend);
	b->room_ok[d] = true;
	b->fast[d] = !rc && !src->geom.vnet_hdr_len && !dp->geom.vnet_hdr_len && o->nslots > 1;
}

/* Slots frame E needs in port D's ring (its room loaded into the batch on
 * first use), or 0: D takes no part (gone, errored, in SRC's domain, or
 * the frame can never fit: dropped as no_room in pass 2). Per frame and
 * destination: inline. */
static inline __attribute__((always_inline)) uint32_t
reserve_need(struct unmd *ud, struct vswitch *sw, struct vport *src, struct vring *vr,
	     const struct fwd_ent *e, struct fwd_batch *b, unsigned d)
{
	struct vport *dp = sw->ports[d];
	const struct vring *o;
	uint32_t need;

	if (!dp || dp == src || dp->errored || (src->dom && dp->dom == src->dom))
		return 0;
	if (!b->room_ok[d])
		reserve_load(ud, src, dp, vr, b, d);
	o = b->room_o[d];
	if (src->geom.vnet_hdr_len || dp->geom.vnet_hdr_len) /* offload hook */
		return vo_slots(src, dp, o, e->len, &b->vi[e - b->ent]);
	need = e->len <= o->buf_size ? 1 : slots_for(e->len, o->buf_size);
	return need > o->nslots - 1 || need > UNM_MAX_FRAGS ? 0 : need;
}

/* fwd_reserve's general case: any frame, any port (vnet headers, chains). */
static __attribute__((noinline)) bool fwd_reserve_slow(struct unmd *ud, struct vswitch *sw,
						       struct vport *src, struct vring *vr,
						       struct fwd_ent *e, struct fwd_batch *b)
{
	uint32_t need[VS_MAX_PORTS];
	unsigned d = e->dst;

	if (d != VS_BCAST) {
		need[0] = reserve_need(ud, sw, src, vr, e, b, d);
		if (b->room[d] < need[0])
			return false;
		b->room[d] -= need[0];
		return true;
	}
	for (unsigned k = 0; k < b->n_fl; k++) {
		need[k] = reserve_need(ud, sw, src, vr, e, b, b->fl[k]); /* loads the room */
		if (b->room[b->fl[k]] < need[k])
			return false;
	}
	for (unsigned k = 0; k < b->n_fl; k++)
		b->room[b->fl[k]] -= need[k];
	if (!b->fl_checked) { /* every flood port loaded now */
		b->fl_checked = b->fl_fast = true;
		b->fl_buf = UINT32_MAX;
		for (unsigned k = 0; k < b->n_fl; k++) {
			d = b->fl[k];
			b->fl_fast &= b->room_ok[d] && b->fast[d];
			if (b->room_ok[d] && b->room_o[d]->buf_size < b->fl_buf)
				b->fl_buf = b->room_o[d]->buf_size;
		}
	}
	return true;
}

/* Lossless: can every destination of frame E take it? Reserve if so. A
 * flood goes over the ports listed by reserve_begin (walking all
 * VS_MAX_PORTS slots twice per frame made a lossless flood several times
 * slower than unicast): check all, then take. Inline here: a frame that
 * takes one slot in ports already loaded this batch (the common case). */
static inline bool fwd_reserve(struct unmd *ud, struct vswitch *sw, struct vport *src,
			       struct vring *vr, struct fwd_ent *e, struct fwd_batch *b)
{
	unsigned d = e->dst;

	if (d != VS_BCAST && b->room_ok[d] && b->fast[d] && e->len <= b->room_o[d]->buf_size) {
		if (!b->room[d])
			return false;
		b->room[d]--;
		return true;
	}
	if (d == VS_BCAST && b->fl_fast && e->len <= b->fl_buf) {
		for (unsigned k = 0; k < b->n_fl; k++)
			if (!b->room[b->fl[k]])
				return false;
		for (unsigned k = 0; k < b->n_fl; k++)
			b->room[b->fl[k]]--;
		return true;
	}
	return fwd_reserve_slow(ud, sw, src, vr, e, b);
}

static unsigned fwd_lookup(struct unmd *d, struct vswitch *sw, struct vport *src,
			   struct vring *vr, struct fwd_batch *b, uint64_t now)
{
	bool repeat_ok = sw->lookup->l2_only, have_prev = false;
	uint64_t prev8 = 0;
	uint32_t prev4 = 0;
	unsigned n, prev_dst = VS_DROP;

	if (sw->lossless)
		reserve_begin(sw, src, b);
	for (n = 0; n < b->n_ent; n++) {
		struct fwd_ent *e = &b->ent[n];
		/* after the vnet header (vo_in checked 14 bytes follow it) */
		const uint8_t *frame = (const uint8_t *)b->frag[e->frag].buf +
				       src->geom.vnet_hdr_len;
		uint64_t k8;
		uint32_t k4;
		unsigned dst;

		if (e->dst == VS_DROP)
			continue;
		/* A stream repeats its MAC pair frame after frame: the same 12
		 * bytes as the previous frame of this batch give the same
		 * answer (its learning already happened, same now). */
		memcpy(&k8, frame, 8);
		memcpy(&k4, frame + 8, 4);
		if (repeat_ok && have_prev && k8 == prev8 && k4 == prev4) {
			dst = prev_dst;
		} else {
			dst = sw->lookup->lookup(sw->lt, frame, e->len - src->geom.vnet_hdr_len, src->idx, now);
			prev8 = k8;
			prev4 = k4;
			prev_dst = dst;
			have_prev = true;
		}
		if (dst != VS_BCAST && (dst >= VS_MAX_PORTS || dst == src->idx)) {
			e->dst = VS_DROP;
			e->reason = UNM_DROP_NO_DST;
			continue;
		}
		e->dst = (uint8_t)dst;
		if (sw->lossless && !fwd_reserve(d, sw, src, vr, e, b))
			break; /* backpressure: the rest stays in the sender's ring */
	}
	return n;
}

/* ---- pass 2: copy per destination ------------------------------------------ */

/* The contract is in unmd.h (shared with monitor.c). */
bool vr_copy_frame(struct vring *o, const struct fwd_frag *f, unsigned nf, uint32_t len,
		   uint16_t flags, uint32_t *k)
{
	const struct fwd_frag *fend = f + nf;
	uint32_t foff = 0, left = len;

	do {
		struct unm_slot *s = &o->slot[*k];
		uint32_t idx = UNM_READ_ONCE(s->buf_idx); /* untrusted */
		uint32_t room = o->buf_size, n = 0;
		char *dbuf;

		if (idx < 2 || idx >= o->buf_count)
			return false;
		dbuf = o->pool + (uint64_t)idx * o->buf_size;
		while (room && f < fend) {
			uint32_t c = f->len - foff < room ? f->len - foff : room;

			memcpy(dbuf + n, f->buf + foff, c);
			n += c;
			room -= c;
			foff += c;
			if (foff == f->len) {
				f++;
				foff = 0;
			}
		}
		left -= n;
		UNM_WRITE_ONCE(s->len, (uint16_t)n);
		UNM_WRITE_ONCE(s->flags, (uint16_t)(flags | (left ? UNM_NS_MOREFRAG : 0)));
		*k = vr_next(o, *k);
	} while (left);
	return true;
}

/* Copy frame E into dst slots from *k; false if a dst slot is bad. */
static bool fwd_copy(struct vring *o, const struct fwd_ent *e, const struct fwd_batch *b,
		     uint32_t *k)
{
	const struct fwd_frag *f = &b->frag[e->frag];

	if (e->nfrags == 1 && e->len <= VR_LINE && b->src_buf_size >= VR_LINE &&
	    o->buf_size >= VR_LINE)
		return vr_copy_line(o, f->buf, e->len, 0, k);
	return vr_copy_frame(o, f, e->nfrags, e->len, 0, k);
}

/* A frame of SRC toward DP dropped for REASON: counted on the sender (the
 * exact accounting of struct unm_ctl_port_info) and toward the receiver,
 * so a port's own counters show what was lost on the way to it. */
static inline void drop_to(struct vport *src, struct vport *dp, unsigned reason)
{
	src->st.drops[reason]++;
	dp->st.rx_drops[reason]++;
}

/* Deliver DP's unicast list (and the flood list if FLOOD) to port DP. */
static void fwd_deliver(struct unmd *d, struct vport *src, struct vring *vr, struct vport *dp,
			struct fwd_batch *b, bool flood)
{
	struct vring *o = &dp->out[vr->id % dp->n_out];
	uint16_t u = b->lhead[dp->idx], f = flood ? b->lhead[VS_BCAST] : FWD_NONE;
	uint32_t end = 0, k, avail = 0;
	bool ok = !dp->errored;
	bool vo = src->geom.vnet_hdr_len || dp->geom.vnet_hdr_len;
	/* a domain's RX ring has other producers: no per-source shares */
	struct vshare *sh = dp->sw->lossless || dp->dom ? NULL : o->share;
	bool learn = dp->dom && dp->dom != src->dom;

	if (ok) {
		int rc = dp->ops->out_space(dp, o, &end);

		if (rc) {
			vs_port_failed(d, dp, rc);
			ok = false;
		}
	}
	if (ok) {
		k = o->hwtail;
		avail = vr_dist(o, k, end);
		if (sh)
			share_release(o, end);
	} else {
		k = 0;
	}
	while (u != FWD_NONE || f != FWD_NONE) {
		uint16_t n;

		if (f == FWD_NONE || (u != FWD_NONE && u < f)) {
			n = u;
			u = b->ent[u].next;
		} else {
			n = f;
			f = b->ent[f].next;
		}
		const struct fwd_ent *e = &b->ent[n];
		uint32_t need = ok ? slots_for(e->len, o->buf_size) : 0, k0 = k;
		int r;

		if (!ok) {
			drop_to(src, dp, UNM_DROP_DST_ERR);
		} else if (sh && need < avail &&
			   sh->occ[src->idx] + need > VS_SHARE_ALPHA * (avail - need)) {
			drop_to(src, dp, UNM_DROP_DST_FULL); /* over its share (see above) */
			continue;
		} else if (vo) { /* offload hook: header copy/add/strip, segmentation */
			r = vo_deliver(src, dp, o, &b->frag[e->frag], e->nfrags, e->len, &b->vi[n],
				       &k, &avail);
			if (r < 0) {
				vs_port_error(d, dp, "RX slot with buffer index outside [2, %u)",
					      o->buf_count);
				drop_to(src, dp, UNM_DROP_DST_ERR);
				ok = false;
			} else if (r > 0) {
				drop_to(src, dp, r);
			} else {
				src->st.tx_delivered++;
				dp->st.rx_frames++;
				dp->st.rx_bytes += e->len;
			}
		} else if (need > o->nslots - 1 || need > UNM_MAX_FRAGS) {
			drop_to(src, dp, UNM_DROP_NO_ROOM);
		} else if (need > avail) {
			drop_to(src, dp, UNM_DROP_DST_FULL);
		} else if (!fwd_copy(o, e, b, &k)) {
			vs_port_error(d, dp, "RX slot with buffer index outside [2, %u)",
				      o->buf_count);
			drop_to(src, dp, UNM_DROP_DST_ERR);
			ok = false;
		} else {
			avail -= need;
			src->st.tx_delivered++;
			dp->st.rx_frames++;
			dp->st.rx_bytes += e->len;
			if (learn) /* members reach this sender through unmd */
				vdom_learn_uplink(dp->dom, (const uint8_t *)b->frag[e->frag].buf +
						  src->geom.vnet_hdr_len + 6, b->now);
		}
		if (sh && k != k0)
			share_take(o, src->idx, k0, k);
	}
	if (ok && k != o->hwtail && unlikely(dp->mons)) /* monitor hook: frames delivered */
		mon_ring(d, dp, o, false, o->hwtail, k);
	if (ok && k != o->hwtail)
		dp->ops->out_publish(dp, o, k);
	else if (dp->ops->out_unclaim)
		dp->ops->out_unclaim(dp, o);
}

static void fwd_pass2(struct unmd *d, struct vswitch *sw, struct vport *src, struct vring *vr,
		      struct fwd_batch *b, unsigned n)
{
	unsigned ndst = 0;
	bool flood[VS_MAX_PORTS]; /* counted in ndst: gets one copy of each flood */

	for (unsigned k = 0; k < sw->n_active; k++) {
		struct vport *dp = sw->ports[sw->active[k]];

		b->lhead[dp->idx] = FWD_NONE;
		/* a domain's own frames reached its members already (lib/domain.c) */
		flood[dp->idx] = dp != src && !dp->errored && !(src->dom && dp->dom == src->dom);
		ndst += flood[dp->idx];
	}
	b->lhead[VS_BCAST] = FWD_NONE;
	for (unsigned i = 0; i < n; i++) {
		struct fwd_ent *e = &b->ent[i];

		src->st.tx_frames++;
		src->st.tx_bytes += e->len;
		if (e->dst == VS_BCAST && ndst == 0) {
			e->dst = VS_DROP;
			e->reason = UNM_DROP_NO_DST;
		}
		if (e->dst == VS_DROP) {
			src->st.drops[e->reason]++;
			continue;
		}
		if (e->dst != VS_BCAST && (!sw->ports[e->dst] ||
					   (src->dom && sw->ports[e->dst]->dom == src->dom))) {
			src->st.drops[UNM_DROP_NO_DST]++;
			continue;
		}
		if (e->dst == VS_BCAST)
			src->st.tx_extra_copies += ndst - 1;
		e->next = FWD_NONE;
		if (b->lhead[e->dst] == FWD_NONE)
			b->lhead[e->dst] = (uint16_t)i;
		else
			b->ent[b->ltail[e->dst]].next = (uint16_t)i;
		b->ltail[e->dst] = (uint16_t)i;
	}
	for (unsigned k = 0; k < sw->n_active; k++) {
		struct vport *dp = sw->ports[sw->active[k]];

		/* Floods reach exactly the ndst ports counted above (an errored
		 * port with unicast frames gets those only: they are dst_err) */
		if (b->lhead[dp->idx] != FWD_NONE ||
		    (flood[dp->idx] && b->lhead[VS_BCAST] != FWD_NONE))
			fwd_deliver(d, src, vr, dp, b, flood[dp->idx]);
	}
}

/* One source ring: returns the number of slots consumed. */
static unsigned fwd_ring(struct unmd *d, struct vswitch *sw, struct vport *src,
			 struct vring *vr, struct fwd_batch *b, uint64_t now)
{
	uint32_t end, done, moved;
	unsigned n;
	int rc;

	if ((rc = src->ops->in_fetch(src, vr, &end))) {
		vs_port_failed(d, src, rc);
		return 0;
	}
	if (end == vr->hwcur)
		return 0;
	b->src_buf_size = vr->buf_size;
	b->now = now;
	fwd_gather(src, vr, end, b);
	n = fwd_lookup(d, sw, src, vr, b, now);
	fwd_pass2(d, sw, src, vr, b, n);
	done = n ? b->ent[n - 1].slot_end : b->start;
	if (n)
		vr->skip = b->ent[n - 1].skip_after;
	src->blocked = n < b->n_ent;
	if (done == vr->hwcur)
		return 0;
	moved = vr_dist(vr, vr->hwcur, done);
	sw->frames += n;
	if (unlikely(src->mons)) { /* monitor hook: frames leaving src's in ring */
		/* pass 1 already read and checked these slots: hand over its
		 * fragments instead of letting the monitor walk them again */
		struct mon_frame *mf = b->mf;
		unsigned m = 0;

		for (unsigned i = 0; i < n; i++)
			if (b->ent[i].whole)
				mf[m++] = (struct mon_frame){ &b->frag[b->ent[i].frag],
							      b->ent[i].nfrags, b->ent[i].len };
		mon_frames(d, src, vr, true, mf, m);
	}
	src->ops->in_release(src, vr, done);
	return moved;
}

/* ---- the forwarding thread ------------------------------------------------ */

static unsigned round_all(struct unmd *d, struct fwd_batch *b, uint64_t now)
{
	unsigned work = 0;

	for (unsigned s = 0; s < VS_MAX_SWITCHES; s++) {
		struct vswitch *sw = d->sw[s];

		for (unsigned k = 0; sw && k < sw->n_active; k++) {
			struct vport *p = sw->ports[sw->active[k]];

			for (unsigned r = 0; r < p->n_in && !p->errored; r++)
				work += fwd_ring(d, sw, p, &p->in[r], b, now);
		}
		for (unsigned k = 0; sw && k < sw->n_active; k++) {
			struct vport *p = sw->ports[sw->active[k]];
			int rc;

			if (!p->errored && (rc = p->ops->round_end(p)) < 0)
				vs_port_error(d, p, "sync: %s", strerror(-rc));
			if (unlikely(p->mons))
				mon_round_end(p, false);
		}
	}
	return work;
}

/* Going idle: interrupt every monitor still owed one (mon_round_end). */
static void mon_flush_all(struct unmd *d)
{
	for (unsigned s = 0; s < VS_MAX_SWITCHES; s++) {
		struct vswitch *sw = d->sw[s];

		for (unsigned k = 0; sw && k < sw->n_active; k++) {
			struct vport *p = sw->ports[sw->active[k]];

			if (unlikely(p->mons))
				mon_round_end(p, true);
		}
	}
}

static void want_kicks_all(struct unmd *d, bool on)
{
	for (unsigned s = 0; s < VS_MAX_SWITCHES; s++) {
		struct vswitch *sw = d->sw[s];

		for (unsigned k = 0; sw && k < sw->n_active; k++) {
			struct vport *p = sw->ports[sw->active[k]];

			if (!p->errored)
				p->ops->want_kicks(p, on, sw->lossless);
		}
	}
}

static bool pending_all(struct unmd *d)
{
	for (unsigned s = 0; s < VS_MAX_SWITCHES; s++) {
		struct vswitch *sw = d->sw[s];

		for (unsigned k = 0; sw && k < sw->n_active; k++) {
			struct vport *p = sw->ports[sw->active[k]];

			if (!p->errored && p->ops->pending(p, sw->lossless))
				return true;
		}
	}
	return false;
}

/* Nothing moved: double check, then sleep until a kick. Lock held. */
static void vs_sleep(struct unmd *d)
{
	struct epoll_event ev[64];

	mon_flush_all(d);
	want_kicks_all(d, true);
	/* [H3] full fence: kern_need_kick stores / head loads (double check);
	 * pairs with [A3] in lib/csb.c. */
	unm_smp_mb();
	if (!pending_all(d) && !__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		unmd_unlock(d);
		/* domains: wake up for vdom_sweep's repairs within 100 ms */
		if (epoll_wait(d->ep, ev, 64, d->n_domains ? 20 : d->idle_ms) < 0 && errno != EINTR)
			ulog("epoll_wait: %s", strerror(errno));
		unmd_lock(d);
		for (unsigned s = 0; s < VS_MAX_SWITCHES; s++) {
			struct vswitch *sw = d->sw[s];

			for (unsigned k = 0; sw && k < sw->n_active; k++) {
				struct vport *p = sw->ports[sw->active[k]];
				int rc;

				if (p->ops->on_wake && !p->errored && (rc = p->ops->on_wake(p)) < 0)
					vs_port_error(d, p, "%s", strerror(-rc));
			}
		}
	}
	want_kicks_all(d, false);
}

/*
 * After the last round that moved something, keep polling for VS_SPIN_NS
 * before the double check and epoll_wait: a client woken by our irq needs
 * some microseconds to refill, and catching that without sleeping saves
 * it a kick and us a wake-up. The spin pauses (cpu_relax) between rounds
 * and keeps the CPU: sched_yield() here handed it to unrelated processes
 * for ~100 us at a time on a loaded host, and a client we wake on this
 * CPU preempts the spinner anyway.
 */
#define VS_SPIN_NS  50000
#define VS_SPIN_RELAX 64       /* pauses between two idle rounds */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

static void *vs_thread(void *arg)
{
	struct unmd *d = arg;
	struct fwd_batch *b = calloc(1, sizeof(*b));
	uint64_t idle_since = 0;

	if (!b) {
		ulog("forwarding thread: out of memory");
		return NULL;
	}
	unmd_lock(d);
	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&d->ctl_waiting, __ATOMIC_ACQUIRE)) {
			unmd_unlock(d);
			while (__atomic_load_n(&d->ctl_waiting, __ATOMIC_ACQUIRE))
				sched_yield();
			unmd_lock(d);
		}
		uint64_t now = unm_now_ns();

		if (unlikely(d->n_domains))
			vdom_sweep(d, now); /* dead or stuck claim holders (domain.c) */
		if (round_all(d, b, now)) {
			idle_since = 0;
			continue;
		}
		if (!idle_since)
			idle_since = now;
		if (now - idle_since < VS_SPIN_NS) {
			for (unsigned i = 0; i < VS_SPIN_RELAX; i++)
				cpu_relax();
			continue;
		}
		vs_sleep(d);
		idle_since = 0;
	}
	unmd_unlock(d);
	free(b);
	return NULL;
}

int vs_start(struct unmd *d)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	int rc;

	/* The sleep is bounded only as a safety net: every event that makes
	 * work writes an eventfd. UNMD_IDLE_TIMEOUT_MS (tests) widens the
	 * net, so a lost wake-up shows as a stall instead of a 1 s hiccup. */
	const char *idle = getenv("UNMD_IDLE_TIMEOUT_MS");

	d->idle_ms = idle && atoi(idle) > 0 ? atoi(idle) : 1000;
	d->ep = epoll_create1(EPOLL_CLOEXEC);
	d->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->ep < 0 || d->wake_fd < 0)
		return -errno;
	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, d->wake_fd, &ev) < 0)
		return -errno;
	rc = pthread_create(&d->worker, NULL, vs_thread, d);
	return -rc;
}

void vs_stop(struct unmd *d)
{
	uint64_t one = 1;

	__atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
	if (write(d->wake_fd, &one, sizeof(one)) < 0)
		ulog("wake: %s", strerror(errno));
	pthread_join(d->worker, NULL);
	close(d->ep);
	close(d->wake_fd);
}
