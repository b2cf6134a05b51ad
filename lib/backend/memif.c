// SPDX-License-Identifier: BSD-2-Clause
/*
 * memif.c - the "memif:SOCKET" port type: a shared-memory interface
 * wire-compatible with DPDK's net_memif, libmemif and VPP's memif plugin
 * (protocol 2.0). A DPDK application (dpdk-testpmd --vdev=net_memif0,...)
 * or a VPP instance becomes a port, and attached to a switch it joins it.
 *
 *   memif:PATH[@conf:role=master|slave,id=N,secret=S,zerocopy=0|1,rings=N,...]
 *
 * PATH is a unix socket path, or "@NAME" for an abstract socket (DPDK's
 * default, socket-abstract=yes). role=master (the default; DPDK calls it
 * server) listens on PATH; role=slave (DPDK client) connects to it, and
 * retries every 100 ms until a master answers or after it went away.
 * Port TX ring i feeds memif queue i towards the peer, memif queue i from
 * the peer feeds port RX ring i; the slave decides how many queues there
 * are (at most the master's limits, which are the port's ring counts) and
 * the ring size (2^floor(log2(slots)), at most 2^14).
 *
 * Copies: by default frames are copied between the port's buffers and
 * memif buffers in both roles: the peer's memory is untrusted and may
 * change under us, so a frame is copied out of it once, after its
 * descriptor has been validated, and the peer never sees our buffers.
 * A DPDK zero-copy slave (zero-copy=yes) is served like any other one.
 * Frames longer than a memif buffer become descriptor chains (NEXT), and
 * chains become MOREFRAG slot chains, both ways.
 *
 * Zero copy (zerocopy=1, slave only: in memif the slave provides every
 * buffer, a master only ever writes into or reads from the slave's): the
 * port's own region (its memfd, whole: memif regions are mapped from
 * offset 0) is memif region 1, next to region 0 (rings and copy buffers).
 * TX lends a one-slot frame's buffer: the descriptor names it, the slot
 * gets a spare buffer (UNM_NS_BUF_CHANGED, as a pipe's swap), and the
 * buffer becomes a spare again once the master's tail has passed its
 * descriptor. RX posts spare buffers; a frame the master hands back
 * (tail) is swapped into the RX slot (the slot's buffer becomes a spare).
 * The peer is untrusted: which buffer each descriptor holds is kept in
 * mf_ring.zbuf, never read back from a descriptor; a returned length is
 * read once and checked against the buffer size; who holds each buffer
 * (mf_dev.zown: application, spare, peer) is private, and a buffer is lent
 * or swapped only from the application, so a buffer the peer holds is
 * never reused before it is returned (or the connection is gone). Frames
 * the peer cannot take whole this way (MOREFRAG chains, a slot buffer the
 * port or peer holds, no spare) are copied through region 0. The price,
 * why it is opt-in: the master maps the whole port region for as long as
 * it likes (rings, every buffer, the application's extra buffers) and may
 * rewrite any of it at any time, also a received frame after rxsync; the
 * library copes (it validates what the application writes), an
 * application must treat its frames and rings as a pipe peer's.
 * Counters zc_tx/rx_frames and copy_tx/rx_frames (unm_port_stats) tell
 * which way each frame went, in both roles.
 *
 * Link: with no peer connected, txsync drops what it is given (counted in
 * drops) and rxsync returns nothing. When the peer disconnects, dies, or
 * publishes an index no ring can have, every mapping and fd of that
 * connection is dropped and the port waits for the next peer. A
 * descriptor that names a region we do not have, a buffer outside its
 * region or a length beyond 65535 (or its buffer) loses its frame, which
 * is counted (unm_port_stats bad_buf / bad_len / drops, and per reason in
 * the port's log) and released; the ring keeps running.
 *
 * Notifications: a ring's receiver sets MASK_INT while it polls. We set it
 * on our receive rings while rxsync finds frames and clear it when a ring
 * would block (arm), with a full fence before re-checking it (double
 * check [F6]); the peer's interrupt eventfds are in the port's epoll set.
 * As sender we write the peer's eventfd after publishing unless its ring
 * has MASK_INT set ([F5]). memif has no "room available" signal, so a TX
 * ring that waits for room is retried from a timer (50 us, doubling up to
 * 10 ms); a receiver that was busy in the last 100 ms also re-checks once
 * after 1 ms, in case a sender that does not fence missed our unmasking.
 *
 * Barriers (docs/ordering.md):
 *   [F1] release of head by the slave (S2M frames written / M2S buffers
 *        posted); pairs with [F2].
 *   [F2] acquire of head by the master; pairs with [F1].
 *   [F3] release of tail by the master (S2M descriptors done / M2S frames
 *        written); pairs with [F4].
 *   [F4] acquire of tail by the slave; pairs with [F3].
 *   [F5] full fence between publishing (head or tail) and reading the
 *        receiver's MASK_INT; pairs with [F6].
 *   [F6] full fence between clearing MASK_INT and re-reading the index;
 *        pairs with [F5].
 *
 * Threads: one mutex per port (mf_dev.lock) serialises every entry point.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "backend/memif.h"

#define CTL_POLL_NS   1000000ull   /* syncs look at the control socket every 1 ms */
#define RETRY_MIN_NS  50000ull     /* TX waiting for room: first retry */
#define RETRY_MAX_NS  10000000ull
#define RECHECK_NS    1000000ull   /* a busy receiver re-checks once after arming */
#define BUSY_NS       100000000ull
#define MF_MAX_CHAIN  64           /* descriptors in one frame */
#define MF_MAX_LEN    65535u       /* a memif buffer is at most this long */
#define TX_DROP       (-1000000)   /* tx_frame: frame dropped, no descriptor used */

struct mf_port {
	struct mf_dev d;
	uint32_t tx_head[UNM_MAX_RINGS]; /* port TX ring heads at the last txsync */
};

static inline struct mf_port *MP(struct unm_port *p)
{
	return p->priv;
}

static void timer_ns(struct mf_dev *d, uint64_t ns)
{
	struct itimerspec it = { .it_value = { .tv_sec = (time_t)(ns / 1000000000ull),
					       .tv_nsec = (long)(ns % 1000000000ull) } };

	if (d->timer_fd >= 0)
		timerfd_settime(d->timer_fd, 0, &it, NULL);
}

static void ctl_maybe(struct mf_dev *d)
{
	if (unm_now_ns() - d->last_ctl_ns >= CTL_POLL_NS)
		mf_ctl_poll(d);
}

static void irq_send(struct mf_dev *d, struct mf_ring *r)
{
	uint64_t one = 1;

	/* [F5] what we published is visible before we read the mask */
	unm_smp_mb();
	if (!(UNM_READ_ONCE(r->r->flags) & MEMIF_RING_FLAG_MASK_INT) && /* untrusted: any value is harmless */
	    write(r->efd, &one, sizeof(one)) == (ssize_t)sizeof(one)) {
		d->irq_sent++;
		d->port->st.kicks++;
	}
}

/* The ring's indexes are impossible: the peer is broken or hostile. */
static void ring_broken(struct mf_dev *d, const char *what, unsigned v)
{
	d->bad_index++;
	d->port->st.bad_ring++;
	unm_log(UNM_LOG_WARN, "%s: memif peer published %s (%u): disconnected", d->port->name,
		what, v);
	mf_disconnect(d, "Invalid ring index");
}

/*
 * Slave: post an empty buffer at descriptor J of M2S ring R: with zero
 * copy the port buffer the descriptor already holds (a frame that was
 * copied out of it), else a spare one, else (no spare) the descriptor's
 * own region 0 buffer. Every field is written: the peer may have
 * changed any of them.
 */
static void post_buf(struct mf_dev *d, struct mf_ring *r, uint16_t j)
{
	struct memif_desc *ds = &r->r->desc[j & r->mask];
	uint32_t b = r->zbuf ? r->zbuf[j & r->mask] : 0;

	if (r->zbuf && !b && d->n_spare) {
		b = d->spare[--d->n_spare];
		d->zown[b] = MF_ZO_PEER;
		r->zbuf[j & r->mask] = b;
	}
	if (b) {
		ds->region = 1;
		ds->offset = (uint32_t)(d->pool_ofs + (uint64_t)b * d->bsize);
	} else {
		ds->region = 0;
		ds->offset = (uint32_t)(r->buf0 + (size_t)(j & r->mask) * d->bsize);
	}
	ds->length = d->bsize;
	ds->flags = 0;
}

void mf_link_up(struct mf_dev *d)
{
	bool master = d->conf.master;

	for (unsigned k = 0; k < d->n_s2m + d->n_m2s; k++) {
		bool s2m = k < d->n_s2m;
		unsigned i = s2m ? k : k - d->n_s2m;
		struct mf_ring *r = s2m ? &d->s2m[i] : &d->m2s[i];
		bool we_receive = s2m == master;

		r->last = 0;
		r->posted = 0;
		UNM_WRITE_ONCE(r->r->tail, 0);
		UNM_WRITE_ONCE(r->r->head, 0);
		if (we_receive) {
			struct epoll_event ev = { .events = EPOLLIN, .data.u32 = MF_EV_IRQ + i };

			UNM_WRITE_ONCE(r->r->flags, MEMIF_RING_FLAG_MASK_INT);
			r->masked = true;
			if (d->port->epfd >= 0)
				epoll_ctl(d->port->epfd, EPOLL_CTL_ADD, r->efd, &ev);
		} else {
			UNM_WRITE_ONCE(r->r->flags, 0);
		}
		r->done = 0;
		if (!master && !s2m) {
			/* post every buffer of our receive ring: [F1] */
			for (uint32_t j = 0; j < r->size; j++)
				post_buf(d, r, (uint16_t)j);
			r->posted = (uint16_t)r->size;
			unm_store_release(&r->r->head, r->posted);
		}
	}
	d->state = MF_UP;
	d->connects++;
	d->retry_ns = 0;
	unm_log(UNM_LOG_INFO, "%s: memif connected (%s, peer '%s', %u S2M + %u M2S rings of %u)",
		d->port->name, master ? "master" : "slave", d->peer_name, d->n_s2m, d->n_m2s,
		1u << d->log2);
}

/* ---- receive: memif ring -> port RX ring ---------------------------------- */

struct dcopy {                  /* one descriptor, read once */
	uint16_t flags;
	uint16_t region;
	uint32_t length;
	uint32_t offset;
};

/* The buffer of descriptor C, or NULL (counted). Master: in the slave's
 * regions; slave: our own buffer for slot J of ring R, whatever C says. */
static const uint8_t *rx_buf(struct mf_dev *d, const struct mf_ring *r, uint16_t j,
			     const struct dcopy *c)
{
	if (c->length > MF_MAX_LEN) {
		d->bad_length++;
		return NULL;
	}
	if (!d->conf.master) {
		if (c->length > d->bsize) {
			d->bad_length++;
			return NULL;
		}
		if (r->zbuf && r->zbuf[j & r->mask])
			return d->pool + (uint64_t)r->zbuf[j & r->mask] * d->bsize;
		return d->reg[0].base + r->buf0 + (size_t)(j & r->mask) * d->bsize;
	}
	if (c->region >= d->n_regions || !d->reg[c->region].base) {
		d->bad_region++;
		return NULL;
	}
	if ((uint64_t)c->offset + c->length > d->reg[c->region].size) {
		d->bad_offset++;
		return NULL;
	}
	return d->reg[c->region].base + c->offset;
}

/*
 * Move complete frames from memif ring R (published up to END, an index
 * already checked) into port RX ring KR while it has room. Returns the
 * index up to which descriptors were consumed.
 */
static uint16_t rx_frames(struct unm_port *p, struct mf_dev *d, struct mf_ring *r,
			  struct unm_kring *kr, uint16_t end, int *err)
{
	uint16_t last = r->last;
	uint32_t room = kr->nslots - 1 - kr_dist(kr, kr->hwcur, kr->hwtail);

	while (last != end) {
		struct dcopy c[MF_MAX_CHAIN];
		const uint8_t *src[MF_MAX_CHAIN];
		uint16_t avail = (uint16_t)(end - last);
		unsigned n = 0, need = 0;
		bool complete = false, bad = false;
		uint64_t total = 0;

		while (n < avail && n < MF_MAX_CHAIN) {
			struct memif_desc *ds = &r->r->desc[(uint16_t)(last + n) & r->mask];

			/* untrusted: each field read once, checked below */
			c[n].flags = UNM_READ_ONCE(ds->flags);
			c[n].region = UNM_READ_ONCE(ds->region);
			c[n].length = UNM_READ_ONCE(ds->length);
			c[n].offset = UNM_READ_ONCE(ds->offset);
			if (!(c[n++].flags & MEMIF_DESC_FLAG_NEXT)) {
				complete = true;
				break;
			}
		}
		if (!complete) {
			if (n < MF_MAX_CHAIN && avail < r->size)
				break; /* the rest of the chain is not published yet */
			/* a chain longer than we take, or filling the ring */
			d->bad_chain++;
			p->st.drops++;
			bad = true;
		}
		for (unsigned k = 0; k < n && !bad; k++) {
			src[k] = rx_buf(d, r, (uint16_t)(last + k), &c[k]);
			if (!src[k]) {
				/* (as slave the buffer is ours: only its length
				 * can be wrong) */
				bool lng = c[k].length > MF_MAX_LEN || !d->conf.master;

				bad = true;
				p->st.bad_len += lng;
				p->st.bad_buf += !lng;
				p->st.drops++;
				break;
			}
			total += c[k].length;
			need += c[k].length ? (c[k].length + kr->buf_size - 1) / kr->buf_size : 1;
		}
		if (!bad && total > UNM_MAX_FRAME + 64) {
			d->bad_length++;
			p->st.bad_len++;
			p->st.drops++;
			bad = true;
		}
		if (!bad && need > room)
			break; /* the port RX ring is full: the peer waits */
		if (!bad) {
			uint32_t t = kr->hwtail;
			bool zc = r->zbuf != NULL;

			for (unsigned k = 0; k < n; k++) {
				uint32_t left = c[k].length, at = 0;
				uint16_t dj = (uint16_t)(last + k) & r->mask;
				uint32_t x = r->zbuf ? r->zbuf[dj] : 0;

				if (x) {
					/* zero copy: the slot takes the peer's
					 * buffer (returned: tail passed it), the
					 * slot's own becomes a spare */
					struct unm_slot *sl = &kr->ring->slot[t];
					uint32_t y = UNM_READ_ONCE(sl->buf_idx); /* application-written */

					if (unm_buf_ok(p, y) && y < d->buf_count &&
					    d->zown[y] == MF_ZO_APP) {
						d->zown[x] = MF_ZO_APP;
						r->zbuf[dj] = 0;
						mf_zc_give(d, y);
						sl->buf_idx = x;
						sl->len = (uint16_t)left;
						sl->flags = UNM_NS_BUF_CHANGED |
							    (k + 1 < n ? UNM_NS_MOREFRAG : 0);
						t = kr_next(kr, t);
						room--;
						continue;
					}
				}
				zc = false;
				do {
					struct unm_slot *sl = &kr->ring->slot[t];
					uint32_t idx = sl->buf_idx; /* application-written */
					uint32_t len = left > kr->buf_size ? kr->buf_size : left;

					if (unlikely(!unm_buf_ok(p, idx))) {
						p->st.bad_buf++;
						*err = unm_seterr(-EINVAL, "%s: RX slot %u has invalid "
								  "buffer %u", p->name, t, idx);
						return last;
					}
					memcpy(kr_buf(kr, idx), src[k] + at, len);
					sl->len = (uint16_t)len;
					left -= len;
					at += len;
					sl->flags = (k + 1 < n || left) ? UNM_NS_MOREFRAG : 0;
					t = kr_next(kr, t);
					room--;
				} while (left);
			}
			kr->hwtail = t;
			p->st.rx_frames++;
			p->st.rx_bytes += total;
			if (zc)
				p->st.zc_rx_frames++;
			else
				p->st.copy_rx_frames++;
		}
		/* clear the flags we consumed: DPDK 22.11 leaves a stale NEXT
		 * on a slot that once held the head of a chain */
		if (d->conf.master)
			for (unsigned k = 0; k < n; k++)
				UNM_WRITE_ONCE(r->r->desc[(uint16_t)(last + k) & r->mask].flags, 0);
		last = (uint16_t)(last + n);
	}
	return last;
}

static int rx_ring(struct unm_port *p, struct mf_dev *d, unsigned i, struct unm_kring *kr)
{
	struct mf_ring *r = mf_rxr(d, i);
	uint16_t end, before;
	int err = 0;

	if (d->conf.master) {
		/* [F2] acquire: pairs with the slave's [F1] */
		end = unm_load_acquire(&r->r->head); /* untrusted */
		if ((uint16_t)(end - r->last) > r->size) {
			ring_broken(d, "an S2M head beyond its ring", end);
			return 0;
		}
	} else {
		/* [F4] acquire: pairs with the master's [F3] */
		end = unm_load_acquire(&r->r->tail); /* untrusted */
		if ((uint16_t)(end - r->last) > (uint16_t)(r->posted - r->last)) {
			ring_broken(d, "an M2S tail beyond the buffers posted", end);
			return 0;
		}
	}
	before = r->last;
	r->last = rx_frames(p, d, r, kr, end, &err);
	if (r->last == before)
		return err;
	d->last_rx_ns = unm_now_ns();
	if (d->conf.master) {
		/* [F3] release: we are done with the slave's buffers */
		unm_store_release(&r->r->tail, r->last);
	} else {
		/* post the consumed buffers again, ours, at our offsets */
		for (uint16_t j = r->posted; j != (uint16_t)(r->last + r->size); j++)
			post_buf(d, r, j);
		r->posted = (uint16_t)(r->last + r->size);
		/* [F1] release: buffers posted */
		unm_store_release(&r->r->head, r->posted);
	}
	if (!r->masked) {
		/* busy: we poll, the sender need not signal */
		UNM_WRITE_ONCE(r->r->flags, MEMIF_RING_FLAG_MASK_INT);
		r->masked = true;
	}
	return err;
}

/* ---- transmit: port TX ring -> memif ring -------------------------------- */

/* Slots of the frame starting at I before HEAD, 0 if incomplete. */
static unsigned frame_slots(const struct unm_kring *kr, uint32_t i, uint32_t head)
{
	unsigned n = 0;

	while (i != head) {
		n++;
		if (!(kr->ring->slot[i].flags & UNM_NS_MOREFRAG))
			return n;
		if (n >= UNM_MAX_FRAGS)
			return n; /* over-long chain: sent cut (the last slot ends it) */
		i = kr_next(kr, i);
	}
	return 0;
}

/*
 * Copy the frame of N slots at I into the memif ring from descriptor
 * LAST, with at most ROOM descriptors (nothing is published here).
 * Returns the descriptors used (> 0), 0 if it does not fit now, TX_DROP
 * if the frame is bad (dropped, no descriptor used), or -K when the K-th
 * buffer the slave posted is invalid (master; the frame is dropped and
 * those K descriptors are to be handed back empty).
 */
static int tx_frame(struct unm_port *p, struct mf_dev *d, struct mf_ring *r,
		    struct unm_kring *kr, uint32_t i, unsigned n, uint16_t last, uint16_t room)
{
	unsigned used = 0;
	struct memif_desc *ds = NULL;
	uint8_t *dst = NULL;
	uint32_t cap = 0, fill = 0;

	if (r->zbuf && n == 1 && room && d->n_spare) {
		/* zero copy: lend the slot's buffer to the peer until its
		 * tail passes the descriptor (tx_reclaim); the slot gets a
		 * spare buffer. Not a buffer the port or the peer holds. */
		struct unm_slot *sl = &kr->ring->slot[i];
		uint32_t idx = UNM_READ_ONCE(sl->buf_idx), len = UNM_READ_ONCE(sl->len);

		if (len && len <= kr->buf_size && unm_buf_ok(p, idx) && idx < d->buf_count &&
		    d->zown[idx] == MF_ZO_APP) {
			uint16_t j = last & (uint16_t)r->mask;
			uint32_t b = d->spare[--d->n_spare];

			ds = &r->r->desc[j];
			UNM_WRITE_ONCE(ds->region, 1);
			UNM_WRITE_ONCE(ds->offset, (uint32_t)(d->pool_ofs + (uint64_t)idx * d->bsize));
			UNM_WRITE_ONCE(ds->length, len);
			UNM_WRITE_ONCE(ds->flags, 0);
			r->zbuf[j] = idx;
			d->zown[idx] = MF_ZO_PEER;
			d->zown[b] = MF_ZO_APP;
			sl->buf_idx = b;
			sl->flags = UNM_NS_BUF_CHANGED;
			p->st.zc_tx_frames++;
			return 1;
		}
	}

	for (unsigned s = 0; s < n; s++, i = kr_next(kr, i)) {
		const struct unm_slot *sl = &kr->ring->slot[i];
		uint32_t idx = sl->buf_idx, len = sl->len, at = 0; /* application-written */

		if (!unm_buf_ok(p, idx) || len > kr->buf_size) {
			p->st.bad_buf += !unm_buf_ok(p, idx);
			p->st.bad_len += len > kr->buf_size;
			p->st.drops++;
			return TX_DROP;
		}
		while (at < len || (s == 0 && used == 0)) {
			if (fill == cap) {
				/* next descriptor */
				if (used == room)
					return 0;
				if (ds)
					UNM_WRITE_ONCE(ds->flags, MEMIF_DESC_FLAG_NEXT);
				ds = &r->r->desc[(uint16_t)(last + used) & r->mask];
				used++;
				if (d->conf.master) {
					struct dcopy c = {
						.region = UNM_READ_ONCE(ds->region), /* untrusted */
						.offset = UNM_READ_ONCE(ds->offset),
						.length = UNM_READ_ONCE(ds->length),
					};

					if (!c.length || c.length > MF_MAX_LEN ||
					    !(dst = (uint8_t *)rx_buf(d, r, 0, &c))) {
						if (!c.length || c.length > MF_MAX_LEN)
							d->bad_length++;
						p->st.bad_buf++;
						p->st.drops++;
						return -(int)used;
					}
					cap = c.length;
				} else {
					size_t off = r->buf0 + (size_t)((uint16_t)(last + used - 1) & r->mask) *
								 d->bsize;

					dst = d->reg[0].base + off;
					cap = d->bsize;
					if (r->zbuf)  /* (lent ones came back: tx_reclaim) */
						r->zbuf[(uint16_t)(last + used - 1) & r->mask] = 0;
					UNM_WRITE_ONCE(ds->region, 0);
					UNM_WRITE_ONCE(ds->offset, (uint32_t)off);
				}
				fill = 0;
				UNM_WRITE_ONCE(ds->length, 0);
			}
			uint32_t k = len - at < cap - fill ? len - at : cap - fill;

			memcpy(dst + fill, kr_buf(kr, idx) + at, k);
			fill += k;
			at += k;
			UNM_WRITE_ONCE(ds->length, fill);
			if (len == 0)
				break;
		}
	}
	if (ds)
		UNM_WRITE_ONCE(ds->flags, 0);
	return (int)used;
}

static void tx_ring(struct unm_port *p, struct mf_dev *d, unsigned ri, struct unm_kring *kr,
		    uint32_t head)
{
	struct mf_ring *r = mf_txr(d, ri);
	uint16_t room, last = r->last;
	uint32_t i = kr->hwcur;
	bool sent = false;

	if (d->conf.master) {
		/* [F2] acquire: pairs with the slave's [F1] (buffers posted) */
		uint16_t h = unm_load_acquire(&r->r->head); /* untrusted */

		room = (uint16_t)(h - last);
		if (room > r->size) {
			ring_broken(d, "an M2S head beyond its ring", h);
			return;
		}
	} else {
		/* [F4] acquire: pairs with the master's [F3] */
		uint16_t t = unm_load_acquire(&r->r->tail); /* untrusted */
		uint16_t inflight = (uint16_t)(last - t);

		if (inflight > r->size || (uint16_t)(t - r->done) > (uint16_t)(last - r->done)) {
			ring_broken(d, "an S2M tail beyond what we sent", t);
			return;
		}
		room = (uint16_t)(r->size - inflight);
		/* zero copy: what the peer released is ours again */
		for (; r->zbuf && r->done != t; r->done++) {
			uint32_t *b = &r->zbuf[r->done & r->mask];

			if (*b) {
				mf_zc_give(d, *b);
				*b = 0;
			}
		}
		r->done = t;
	}
	while (i != head) {
		unsigned n = frame_slots(kr, i, head);
		int used;

		if (n == 0)
			break; /* chain continues past head */
		used = tx_frame(p, d, r, kr, i, n, last, room);
		if (used == 0) {
			if (room < r->size)
				break; /* no room now: retry */
			used = TX_DROP; /* never fits: drop it */
			p->st.drops++;
		}
		if (used > 0) {
			uint64_t bytes = 0;

			for (unsigned s = 0, j = i; s < n; s++, j = kr_next(kr, j))
				bytes += kr->ring->slot[j].len;
			p->st.tx_frames++;
			p->st.tx_bytes += bytes;
			if (!r->zbuf || !r->zbuf[last & r->mask])
				p->st.copy_tx_frames++;  /* (else lent: zc_tx_frames) */
		} else if (used != TX_DROP) {
			/* invalid buffers posted by the slave: consumed empty */
			for (int k = 0; k < -used; k++) {
				struct memif_desc *ds = &r->r->desc[(uint16_t)(last + k) & r->mask];

				UNM_WRITE_ONCE(ds->length, 0);
				UNM_WRITE_ONCE(ds->flags, 0);
			}
			used = -used;
		} else {
			used = 0;
		}
		last = (uint16_t)(last + used);
		room = (uint16_t)(room - used);
		sent |= used > 0;
		while (n--)
			i = kr_next(kr, i);
	}
	kr->hwcur = i;
	kr->hwtail = i == 0 ? kr->nslots - 1 : i - 1;
	if (!sent)
		return;
	r->last = last;
	if (d->conf.master)
		unm_store_release(&r->r->tail, last); /* [F3] release: frames written */
	else
		unm_store_release(&r->r->head, last); /* [F1] release: frames written */
	irq_send(d, r);
}

/* Push [hwcur, tx_head) of port TX ring KR; frames with nowhere to go are
 * dropped. */
static void tx_push(struct unm_port *p, struct mf_dev *d, struct unm_kring *kr)
{
	uint32_t head = MP(p)->tx_head[kr->ringid];

	if (d->state != MF_UP || kr->ringid >= mf_n_tx(d)) {
		for (uint32_t i = kr->hwcur; i != head; i = kr_next(kr, i))
			if (!(kr->ring->slot[i].flags & UNM_NS_MOREFRAG))
				p->st.drops++;
		kr->hwcur = head;
		kr->hwtail = head == 0 ? kr->nslots - 1 : head - 1;
		return;
	}
	tx_ring(p, d, kr->ringid, kr, head);
	if (kr->hwcur == head)
		d->retry_ns = 0;
}

/* ---- ops --------------------------------------------------------------------- */

static int memif_txsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct mf_dev *d = &MP(p)->d;
	int rc;

	pthread_mutex_lock(&d->lock);
	ctl_maybe(d);
	kr->armed = false;
	MP(p)->tx_head[kr->ringid] = head;
	tx_push(p, d, kr);
	rc = p->error;
	pthread_mutex_unlock(&d->lock);
	return rc;
}

static int memif_rxsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct mf_dev *d = &MP(p)->d;
	int rc = 0;

	pthread_mutex_lock(&d->lock);
	ctl_maybe(d);
	kr->hwcur = head;
	kr->armed = false;
	if (d->state == MF_UP && kr->ringid < mf_n_rx(d))
		rc = rx_ring(p, d, kr->ringid, kr);
	if (!rc && kr->hwtail == kr->hwcur)
		rc = p->error;
	pthread_mutex_unlock(&d->lock);
	return rc;
}

static bool memif_arm(struct unm_port *p, struct unm_kring *kr)
{
	struct mf_dev *d = &MP(p)->d;
	bool again = false;

	pthread_mutex_lock(&d->lock);
	kr->armed = true;
	if (d->state != MF_UP)
		goto out; /* the control socket wakes us when a peer comes */
	if (kr->dir == 0) {
		if (kr->hwcur != MP(p)->tx_head[kr->ringid]) {
			/* waiting for room: nobody tells us, poll with backoff */
			d->retry_ns = d->retry_ns ? d->retry_ns * 2 : RETRY_MIN_NS;
			if (d->retry_ns > RETRY_MAX_NS)
				d->retry_ns = RETRY_MAX_NS;
			timer_ns(d, d->retry_ns);
		}
	} else if (kr->ringid < mf_n_rx(d)) {
		struct mf_ring *r = mf_rxr(d, kr->ringid);
		uint16_t end;

		if (r->masked) {
			UNM_WRITE_ONCE(r->r->flags, 0);
			r->masked = false;
		}
		/* [F6] double check: unmasked, then re-read the index */
		unm_smp_mb();
		end = d->conf.master ? UNM_READ_ONCE(r->r->head) : UNM_READ_ONCE(r->r->tail);
		again = end != r->last && kr_dist(kr, kr->hwcur, kr->hwtail) < kr->nslots - 1;
		if (!again && unm_now_ns() - d->last_rx_ns < BUSY_NS)
			timer_ns(d, RECHECK_NS);
	}
out:
	pthread_mutex_unlock(&d->lock);
	return again;
}

static int memif_wakeup(struct unm_port *p)
{
	struct mf_dev *d = &MP(p)->d;

	pthread_mutex_lock(&d->lock);
	mf_ctl_poll(d);
	for (unsigned i = 0; d->state == MF_UP && i < mf_n_rx(d); i++) {
		uint64_t v;

		if (read(mf_rxr(d, i)->efd, &v, sizeof(v)) == (ssize_t)sizeof(v))
			d->irq_seen += v;
	}
	for (unsigned i = 0; i < p->n_tx; i++)
		if (p->tx[i].hwcur != MP(p)->tx_head[i])
			tx_push(p, d, &p->tx[i]);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

static void memif_info(const struct unm_port *p, struct unm_port_info *info)
{
	const struct mf_dev *d = &((const struct mf_port *)p->priv)->d;

	info->link_up = d->state == MF_UP;
}

static void memif_free(struct unm_port *p)
{
	struct mf_port *mp = p->priv;

	if (!mp)
		return;
	pthread_mutex_lock(&mp->d.lock);
	mf_ctl_close(&mp->d);
	if (mp->d.disconnects || mp->d.bad_msgs || mp->d.bad_index || mp->d.bad_region ||
	    mp->d.bad_offset || mp->d.bad_length || mp->d.bad_chain)
		unm_log(UNM_LOG_INFO, "%s: memif: %llu connects, %llu disconnects, bad: %llu messages, "
			"%llu indexes, %llu regions, %llu offsets, %llu lengths, %llu chains",
			p->name, (unsigned long long)mp->d.connects,
			(unsigned long long)mp->d.disconnects, (unsigned long long)mp->d.bad_msgs,
			(unsigned long long)mp->d.bad_index, (unsigned long long)mp->d.bad_region,
			(unsigned long long)mp->d.bad_offset, (unsigned long long)mp->d.bad_length,
			(unsigned long long)mp->d.bad_chain);
	pthread_mutex_unlock(&mp->d.lock);
	pthread_mutex_destroy(&mp->d.lock);
	free(mp->d.zown);
	free(mp->d.spare);
	free(mp);
	p->priv = NULL;
}

static void memif_close(struct unm_port *p)
{
	memif_free(p);
}

/*
 * Zero copy: take the spares off the extra-buffer list that
 * unm_port_create_self made (before the application sees the region).
 * Descriptor offsets are 32 bits: the region must be below 4 GiB.
 */
static int zc_setup(struct unm_port *p, struct mf_dev *d)
{
	uint32_t head = p->nifp->ni_bufs_head;

	/* (a port with extra buffers never takes its buffers from a shared
	 * pool, lib/bufpool.c: the region the master maps is the port's
	 * own, holding nothing of another port's) */
	if (p->pool)
		return unm_seterr(-EINVAL, "%s: zerocopy=1 on a port with pooled buffers",
				  p->name);
	if (p->reg.fd < 0 || p->reg.size > UINT32_MAX)
		return unm_seterr(-EINVAL, "%s: zerocopy=1: the port's region (%zu bytes) is "
				  "not one memif can name (at most 4 GiB, in one file)", p->name,
				  p->reg.size);
	d->pool = (uint8_t *)p->reg.base + p->reg.pool_ofs;
	d->pool_ofs = p->reg.pool_ofs;
	d->buf_count = p->reg.buf_count;
	d->zown = calloc(d->buf_count, 1);
	d->spare = malloc(d->spare_cap * sizeof(*d->spare));
	if (!d->zown || !d->spare)
		return -ENOMEM;
	for (unsigned k = 0; k < d->spare_cap; k++) {
		uint32_t idx = head;

		if (!unm_buf_ok(p, idx) || idx >= d->buf_count || d->zown[idx])
			return unm_seterr(-EBADMSG, "%s: extra buffer %u of the new region is "
					  "not valid", p->name, idx);
		memcpy(&head, d->pool + (uint64_t)idx * p->reg.buf_size, sizeof(head));
		mf_zc_give(d, idx);
	}
	p->nifp->ni_bufs_head = head;
	d->zc = true;
	return 0;
}

static int memif_open(struct unm_port *p, const struct unm_spec *s,
		      const struct unm_open_opts *o)
{
	struct unm_open_opts oz = *o;
	struct mf_port *mp;
	struct mf_dev *d;
	char why[160] = "";
	int rc;

	if (o->vnet_hdr_len != 0)
		return unm_seterr(-EINVAL, "%s: memif carries plain Ethernet frames (vnet=0)",
				  p->name);
	if (o->buf_size > MF_MAX_LEN)
		return unm_seterr(-EINVAL, "%s: memif buffers are at most %u bytes", p->name,
				  MF_MAX_LEN);
	mp = calloc(1, sizeof(*mp));
	if (!mp)
		return -ENOMEM;
	d = &mp->d;
	if (unm_memif_conf_parse(s, &d->conf, why, sizeof(why))) {
		free(mp);
		return unm_seterr(-EINVAL, "%s: %s", p->name, why);
	}
	pthread_mutex_init(&d->lock, NULL);
	d->port = p;
	snprintf(d->path, sizeof(d->path), "%s", s->path);
	d->listen_fd = d->conn_fd = d->timer_fd = d->sock_file.dir_fd = d->given_fd = -1;
	for (unsigned i = 0; i < UNM_MAX_RINGS; i++)
		d->s2m[i].efd = d->m2s[i].efd = -1;
	for (unsigned i = 0; i < MF_MAX_REGIONS; i++)
		d->reg[i].fd = -1;
	if (s->fd >= 0) {
		d->given_fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);
		if (d->given_fd < 0) {
			rc = -errno;
			pthread_mutex_destroy(&d->lock);
			free(mp);
			return unm_seterr(rc, "%s: dup: %s", p->name, strerror(-rc));
		}
	}
	if (d->conf.zerocopy && d->conf.master) {
		pthread_mutex_destroy(&d->lock);
		if (d->given_fd >= 0)
			close(d->given_fd);
		free(mp);
		return unm_seterr(-EINVAL, "%s: zerocopy=1 is for role=slave: a master uses the "
				  "slave's buffers, it has none to lend", p->name);
	}
	if (d->conf.zerocopy) {
		/* spares: one per slot of every ring (a memif ring has at most
		 * that many descriptors), taken off the extra-buffer list */
		oz.extra_bufs += o->tx_rings * o->tx_slots + o->rx_rings * o->rx_slots;
		d->spare_cap = o->tx_rings * o->tx_slots + o->rx_rings * o->rx_slots;
	}
	rc = unm_port_create_self(p, &oz, 0, NULL);
	if (rc) {
		if (d->given_fd >= 0)
			close(d->given_fd);
		pthread_mutex_destroy(&d->lock);
		free(mp);
		return rc;
	}
	p->priv = mp;
	for (unsigned i = 0; i < p->n_tx; i++)
		mp->tx_head[i] = p->tx[i].hwcur;
	if (d->conf.zerocopy && (rc = zc_setup(p, d)))
		return rc;
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0)
		return -errno;
	pthread_mutex_lock(&d->lock);
	rc = mf_ctl_open(d, why, sizeof(why));
	pthread_mutex_unlock(&d->lock);
	if (rc)
		unm_seterr(rc, "memif:%s: %s", d->path, why[0] ? why : strerror(-rc));
	/* on failure unm_open runs memif_close and the rest (port_teardown) */
	return rc;
}

const struct unm_port_ops unm_memif_ops = {
	.type = "memif",
	.open = memif_open,
	.txsync = memif_txsync,
	.rxsync = memif_rxsync,
	.arm = memif_arm,
	.wakeup = memif_wakeup,
	.close = memif_close,
	.info = memif_info,
};
