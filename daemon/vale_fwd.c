// SPDX-License-Identifier: BSD-2-Clause
/*
 * vale_fwd.c - the forwarding passes of a VALE switch in unmd: one round
 * over every ring of every port (vs_round), run by vale_thread.c.
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
 * mon_ring() the slots filled in a destination ring before publishing
 * them; monitors never take part in lossless reservations (a full
 * monitor drops). vs_port_remove tells a departing
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
	unsigned fl_last;                  /* pass 2: the last port a flood
	                                      reaches (the one that may swap) */
	bool pulled;                       /* frames read in place (fwd_ring_pull):
	                                      no source slots, so no swap */
};

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

static inline uint32_t slots_for(uint32_t len, uint32_t buf_size)
{
	return len ? (len + buf_size - 1) / buf_size : 1;
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

/*
 * Zero copy between two ports of one shared pool (vport_attached.c: the
 * attached ports of a switch). Frame E of SRC's ring VR may go to O by
 * swapping its slots with O's free ones when:
 *  - SRC and DP draw from the same pool (a buffer index means the same
 *    buffer in both; both are unmd's own, so nobody else can see or
 *    change the buffer on the way: no trust boundary is crossed);
 *  - O is the frame's last destination (a unicast, or the last port of a
 *    flood: the ones before it copied already);
 *  - no transformation is needed: both ports have the same vnet header
 *    length (none, or equal: the header is re-encoded in place from pass
 *    1's validated copy, as vo_copy writes it) and the frame need not be
 *    segmented (vo_slots without segmentation);
 *  - the chain is compact (NEED, the slots a copy would take, equals its
 *    fragments): lossless reservations and drop-mode shares counted
 *    NEED slots.
 * Each source slot then holds the destination slot's free buffer
 * (NS_BUF_CHANGED: the backend refills it) and the destination slot the
 * frame's buffer, length and MOREFRAG: every buffer stays in exactly one
 * slot. Monitors still get copies: a source's from pass 1's fragments
 * (the buffer sits unsent in O until this round's sync), a destination's
 * from its slots.
 */
static inline bool swap_ok(const struct vport *src, const struct vport *dp,
			   const struct vring *o, const struct fwd_ent *e,
			   const struct fwd_batch *b, uint32_t need)
{
	return src->pool && src->pool == dp->pool && e->nfrags == need &&
	       (e->dst != VS_BCAST || dp->idx == b->fl_last) &&
	       src->geom.vnet_hdr_len == dp->geom.vnet_hdr_len &&
	       (!src->geom.vnet_hdr_len ||
		!(b->vi[e - b->ent].hdr.gso_type != UNM_VNET_GSO_NONE &&
		  need > (o->nslots - 1 < UNM_MAX_FRAGS ? o->nslots - 1 : UNM_MAX_FRAGS)));
}

/* Swap frame E (slots of VR) into O from *k (free, enough of them); false
 * if a destination slot holds a bad buffer index (nothing changed). */
static bool fwd_swap(struct vring *vr, struct vring *o, const struct fwd_ent *e,
		     const struct fwd_batch *b, unsigned vnet, uint32_t *k)
{
	uint32_t i = e->slot_end >= e->nfrags ? e->slot_end - e->nfrags
					      : e->slot_end + vr->nslots - e->nfrags;
	uint32_t j = *k, first = vr->slot[i].buf_idx;

	/* both rings are unmd's own (pass 1 checked the source's indexes and
	 * nobody else writes them): checked again, it costs a compare */
	for (unsigned f = 0, m = i; f < e->nfrags; f++, j = vr_next(o, j), m = vr_next(vr, m)) {
		uint32_t x = vr->slot[m].buf_idx, y = o->slot[j].buf_idx;

		if (y < 2 || y >= o->buf_count || x < 2 || x >= o->buf_count)
			return false;
	}
	for (unsigned f = 0; f < e->nfrags; f++) {
		struct unm_slot *ss = &vr->slot[i], *ds = &o->slot[*k];
		uint32_t y = ds->buf_idx;

		ds->buf_idx = ss->buf_idx;
		ds->len = (uint16_t)b->frag[e->frag + f].len;
		ds->flags = UNM_NS_BUF_CHANGED | (f + 1 < e->nfrags ? UNM_NS_MOREFRAG : 0);
		ss->buf_idx = y;
		ss->flags = UNM_NS_BUF_CHANGED;
		i = vr_next(vr, i);
		*k = vr_next(o, *k);
	}
	if (vnet) /* as vo_copy: the header the destination gets is pass 1's */
		unm_vnet_hdr_encode(o->pool + (uint64_t)first * o->buf_size, vnet,
				    &b->vi[e - b->ent].hdr);
	return true;
}

/* A frame of SRC toward DP dropped for REASON: counted on the sender (the
 * exact accounting of struct unm_ctl_port_info) and toward the receiver,
 * so a port's own counters show what was lost on the way to it. */
static inline void drop_to(struct vport *src, struct vport *dp, unsigned reason)
{
	src->st.drops[reason]++;
	dp->st.rx_drops[reason]++;
}

/*
 * End of a delivery into destination ring O, claimed by out_space: the
 * slots up to K are written. Monitors see them, then the port publishes
 * them; with nothing written, or after a bad slot (OK false: the frames
 * were counted as dropped), the claim is given back instead.
 */
static inline void out_commit(struct unmd *d, struct vport *dp, struct vring *o, bool ok,
			      uint32_t k)
{
	if (ok && k != o->hwtail && unlikely(dp->mons)) /* monitor hook: frames delivered */
		mon_ring(d, dp, o, false, o->hwtail, k);
	if (ok && k != o->hwtail)
		dp->ops->out_publish(dp, o, k);
	else if (dp->ops->out_unclaim)
		dp->ops->out_unclaim(dp, o);
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
	/* swap_ok's first test; frames read in place have no slot to swap */
	bool pool = src->pool && src->pool == dp->pool && !b->pulled;

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
	if (ok && (f == FWD_NONE || u == FWD_NONE) && !vo && !pool && !learn) {
		/* The common stream: one list (unicast frames to DP, or the
		 * floods, e.g. to a receiver whose MAC is not learned yet),
		 * plain copies (no header work, no swap, no domain learning).
		 * The same checks in the same order as the loop below, with
		 * the counters and the share bookkeeping summed once for the
		 * run: every slot filled here, [k0, k), is SRC's. Stops at a
		 * bad destination slot and leaves the rest to the loop below
		 * (dst_err). */
		uint16_t *lp = f == FWD_NONE ? &u : &f;
		uint32_t k0 = k, occ = sh ? sh->occ[src->idx] : 0;
		uint64_t frames = 0, bytes = 0;

		for (; *lp != FWD_NONE; *lp = b->ent[*lp].next) {
			const struct fwd_ent *e = &b->ent[*lp];
			uint32_t need = e->len <= o->buf_size ? 1 : slots_for(e->len, o->buf_size);

			if (sh && need < avail && occ + need > VS_SHARE_ALPHA * (avail - need)) {
				drop_to(src, dp, UNM_DROP_DST_FULL); /* over its share */
			} else if (need > o->nslots - 1 || need > UNM_MAX_FRAGS) {
				drop_to(src, dp, UNM_DROP_NO_ROOM);
			} else if (need > avail) {
				drop_to(src, dp, UNM_DROP_DST_FULL);
			} else if (!fwd_copy(o, e, b, &k)) {
				vs_port_error(d, dp, "RX slot with buffer index outside [2, %u)",
					      o->buf_count);
				drop_to(src, dp, UNM_DROP_DST_ERR);
				ok = false;
				*lp = b->ent[*lp].next;
				break;
			} else {
				avail -= need;
				occ += need;
				frames++;
				bytes += e->len;
			}
		}
		src->st.tx_delivered += frames;
		dp->st.rx_frames += frames;
		dp->st.rx_bytes += bytes;
		if (sh && k != k0)
			share_take(o, src->idx, k0, k);
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
		/* by buffer swap (fwd_swap), which no offload work precedes */
		bool swap = pool && ok && swap_ok(src, dp, o, e, b, need) &&
			    need <= o->nslots - 1 && need <= UNM_MAX_FRAGS;
		int r;

		if (!ok) {
			drop_to(src, dp, UNM_DROP_DST_ERR);
		} else if (sh && need < avail &&
			   sh->occ[src->idx] + need > VS_SHARE_ALPHA * (avail - need)) {
			drop_to(src, dp, UNM_DROP_DST_FULL); /* over its share (see above) */
			continue;
		} else if (vo && !swap) { /* offload hook: header copy/add/strip, segmentation */
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
		} else if (!(swap ? fwd_swap(vr, o, e, b, src->geom.vnet_hdr_len, &k)
				  : fwd_copy(o, e, b, &k))) {
			vs_port_error(d, dp, "RX slot with buffer index outside [2, %u)",
				      o->buf_count);
			drop_to(src, dp, UNM_DROP_DST_ERR);
			ok = false;
		} else {
			avail -= need;
			src->st.tx_delivered++;
			src->st.tx_swapped += swap;
			dp->st.rx_frames++;
			dp->st.rx_bytes += e->len;
			if (learn) /* members reach this sender through unmd */
				vdom_learn_uplink(dp->dom, (const uint8_t *)b->frag[e->frag].buf +
						  src->geom.vnet_hdr_len + 6, b->now);
		}
		if (sh && k != k0)
			share_take(o, src->idx, k0, k);
	}
	out_commit(d, dp, o, ok, k);
}

static void fwd_pass2(struct unmd *d, struct vswitch *sw, struct vport *src, struct vring *vr,
		      struct fwd_batch *b, unsigned n)
{
	unsigned ndst = 0;
	bool flood[VS_MAX_PORTS]; /* counted in ndst: gets one copy of each flood */

	b->fl_last = VS_DROP;
	for (unsigned k = 0; k < sw->n_active; k++) {
		struct vport *dp = sw->ports[sw->active[k]];

		b->lhead[dp->idx] = FWD_NONE;
		/* a domain's own frames reached its members already (lib/domain.c) */
		flood[dp->idx] = dp != src && !dp->errored && !(src->dom && dp->dom == src->dom);
		ndst += flood[dp->idx];
		if (flood[dp->idx])
			b->fl_last = dp->idx; /* delivered in this order below */
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

/*
 * fwd_ring_pull's common batch in one pass: a stream (every frame carries
 * the first one's 12-byte MAC pair, so fwd_lookup would look up once and
 * give every frame that answer), drop mode, an L2 lookup, a source with
 * no monitor, domain or vnet header, and one destination (a unicast, or a
 * flood that reaches one port) that needs no header work or domain
 * learning and takes each frame in one slot. Then the frames go straight
 * from the batch's fragments into the destination ring, with the checks,
 * drops and counters of fwd_lookup + fwd_pass2 + fwd_deliver's one-list
 * loop, without building entries and lists. Returns false, with nothing
 * done but a lookup (learning is idempotent: the general path repeats
 * it), for any other batch.
 */
static __attribute__((noinline)) bool fwd_pull_direct(struct unmd *d, struct vswitch *sw,
						      struct vport *src, struct vring *vr,
						      struct fwd_batch *b, uint64_t now,
						      unsigned np)
{
	const struct fwd_frag *fr = b->frag;
	const uint8_t *f0 = (const uint8_t *)fr[0].buf;
	struct vport *dp = NULL;
	struct vring *o;
	struct vshare *sh;
	uint64_t k8, bytes = 0, dbytes = 0, frames = 0;
	uint32_t k4, maxlen = 0, end, k, k0, avail, occ;
	unsigned dst, i;
	bool ok = true;
	int rc;

	if (sw->lossless || !sw->lookup->l2_only || src->mons || src->dom ||
	    src->geom.vnet_hdr_len)
		return false;
	memcpy(&k8, f0, 8); /* frames are at least 14 bytes: checked below */
	memcpy(&k4, f0 + 8, 4);
	for (i = 0; i < np; i++) {
		uint32_t len = fr[i].len;
		uint64_t x8;
		uint32_t x4;

		if (len < 14 || len > UNM_MAX_FRAME)
			return false; /* a drop: the general path counts it */
		memcpy(&x8, fr[i].buf, 8);
		memcpy(&x4, fr[i].buf + 8, 4);
		if (x8 != k8 || x4 != k4)
			return false;
		bytes += len;
		maxlen = len > maxlen ? len : maxlen;
	}
	dst = sw->lookup->lookup(sw->lt, f0, fr[0].len, src->idx, now);
	if (dst == VS_BCAST) {
		for (unsigned a = 0; a < sw->n_active; a++) {
			struct vport *p = sw->ports[sw->active[a]];

			if (p == src || p->errored)
				continue;
			if (dp)
				return false; /* a flood to several ports */
			dp = p;
		}
	} else if (dst < VS_MAX_PORTS && dst != src->idx) {
		dp = sw->ports[dst];
	}
	if (!dp || dp->errored || dp->dom || dp->geom.vnet_hdr_len)
		return false;
	o = &dp->out[vr->id % dp->n_out];
	if (o->nslots < 2 || maxlen > o->buf_size)
		return false;
	/* committed: fwd_pass2's source counters, then fwd_deliver's */
	src->st.tx_frames += np;
	src->st.tx_bytes += bytes;
	if ((rc = dp->ops->out_space(dp, o, &end))) {
		vs_port_failed(d, dp, rc);
		for (i = 0; i < np; i++)
			drop_to(src, dp, UNM_DROP_DST_ERR);
		if (dp->ops->out_unclaim)
			dp->ops->out_unclaim(dp, o);
		return true;
	}
	k = k0 = o->hwtail;
	avail = vr_dist(o, k, end);
	sh = o->share; /* drop mode, no domain: shares apply */
	if (sh)
		share_release(o, end);
	occ = sh ? sh->occ[src->idx] : 0;
	for (i = 0; i < np; i++) {
		uint32_t len = fr[i].len;

		if ((sh && 1 < avail && occ + 1 > VS_SHARE_ALPHA * (avail - 1)) || !avail) {
			drop_to(src, dp, UNM_DROP_DST_FULL); /* over its share, or full */
			continue;
		}
		if (!(len <= VR_LINE && o->buf_size >= VR_LINE
			      ? vr_copy_line(o, fr[i].buf, len, 0, &k)
			      : vr_copy_frame(o, &fr[i], 1, len, 0, &k))) {
			vs_port_error(d, dp, "RX slot with buffer index outside [2, %u)",
				      o->buf_count);
			for (; i < np; i++) /* this frame and the rest */
				drop_to(src, dp, UNM_DROP_DST_ERR);
			ok = false;
			break;
		}
		avail--;
		occ++;
		frames++;
		dbytes += len;
	}
	src->st.tx_delivered += frames;
	dp->st.rx_frames += frames;
	dp->st.rx_bytes += dbytes;
	if (sh && k != k0)
		share_take(o, src->idx, k0, k);
	out_commit(d, dp, o, ok, k);
	return true;
}

/*
 * One source ring whose frames the port hands over in place (in_pull: a
 * vhost-user port's guest TX frames, in the guest's memory): one copy,
 * from there to each destination, instead of the backend's copy into a
 * slot and the switch's from the slot. NP frames in b->frag[], one
 * fragment each; pass 1 is only the checks that fwd_gather makes of a
 * one-slot frame (the port checked them already: kept, they cost two
 * compares), then the lookup and pass 2 as for slots, without swapping.
 * The frames not taken (lossless backpressure) stay with the port.
 */
static __attribute__((noinline)) unsigned fwd_ring_pull(struct unmd *d, struct vswitch *sw,
							struct vport *src, struct vring *vr,
							struct fwd_batch *b, uint64_t now,
							unsigned np)
{
	unsigned n;

	if (fwd_pull_direct(d, sw, src, vr, b, now, np)) {
		src->blocked = false;
		sw->frames += np;
		src->ops->in_pull_done(src, vr, np);
		return np;
	}
	b->src_buf_size = UNM_MAX_FRAME; /* each fragment is its whole frame */
	b->now = now;
	b->n_ent = b->n_frag = np;
	b->start = vr->hwcur;
	for (unsigned i = 0; i < np; i++) {
		struct fwd_ent *e = &b->ent[i];
		uint32_t len = b->frag[i].len;

		e->frag = i;
		e->nfrags = 1;
		e->len = len;
		e->slot_end = vr->hwcur;
		e->skip_after = false;
		e->reason = len < 14 ? UNM_DROP_BAD_LEN : len > UNM_MAX_FRAME ? UNM_DROP_TOO_LONG : 0xff;
		e->whole = e->reason == 0xff;
		e->dst = e->reason == 0xff ? 0 : VS_DROP;
	}
	n = fwd_lookup(d, sw, src, vr, b, now);
	b->pulled = true;
	fwd_pass2(d, sw, src, vr, b, n);
	b->pulled = false;
	src->blocked = n < np;
	sw->frames += n;
	if (unlikely(src->mons) && n) { /* monitor hook, as in fwd_ring */
		struct mon_frame *mf = b->mf;
		unsigned m = 0;

		for (unsigned i = 0; i < n; i++)
			if (b->ent[i].whole)
				mf[m++] = (struct mon_frame){ &b->frag[i], 1, b->ent[i].len };
		mon_frames(d, src, vr, true, mf, m);
	}
	src->ops->in_pull_done(src, vr, n);
	return n;
}

/* One source ring: returns the number of slots consumed. */
static unsigned fwd_ring(struct unmd *d, struct vswitch *sw, struct vport *src,
			 struct vring *vr, struct fwd_batch *b, uint64_t now)
{
	uint32_t end, done, moved;
	unsigned n;
	int rc;

	if (src->ops->in_pull && (n = src->ops->in_pull(src, vr, b->frag, VS_BATCH)))
		return fwd_ring_pull(d, sw, src, vr, b, now, n);
	if ((rc = src->ops->in_fetch(src, vr, &end))) {
		vs_port_failed(d, src, rc);
		return 0;
	}
	if (end == vr->hwcur) {
		/* a port whose frames wait in its peer's memory (in_pull) was
		 * blocked by its last pulled batch, not by slots: none wait
		 * now, so pending() must look at it again (it asks the peer
		 * for kicks) */
		if (src->ops->in_pull)
			src->blocked = false;
		return 0;
	}
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

/* One round over every port of every switch (vale_thread.c); B is the
 * scratch from vs_batch_new. Returns the frames moved. Lock held. */
unsigned vs_round(struct unmd *d, struct fwd_batch *b, uint64_t now)
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

			if (p->errored)
				rc = 0;
			else if ((rc = p->ops->round_end(p)) < 0)
				vs_port_error(d, p, "sync: %s", strerror(-rc));
			if (rc > 0)
				d->yield_owed = true; /* vale_thread.c yields after the round */
			if (unlikely(p->mons))
				mon_round_end(p, false);
		}
	}
	return work;
}

struct fwd_batch *vs_batch_new(void)
{
	return calloc(1, sizeof(struct fwd_batch));
}
