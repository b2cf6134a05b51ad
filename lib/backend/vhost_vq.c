// SPDX-License-Identifier: BSD-2-Clause
/*
 * vhost_vq.c - split virtqueues of the vhost-user port: ring setup from the
 * frontend's addresses, descriptor chains, the used ring, notification
 * suppression both ways (VIRTIO_RING_F_EVENT_IDX or the flags), and the two
 * copies: guest TX virtqueue -> port RX ring, port TX ring -> guest RX
 * virtqueue (mergeable buffers, virtio-net header conversion).
 *
 * Threads: called with vu_dev.lock held from the port's syncs and wakeup.
 *
 * Ownership (virtio 1.x split ring): the driver (guest) writes the
 * descriptor table and the avail ring, we write the used ring. Avail
 * entries [last_avail, avail->idx) are ours to consume; used entries we
 * write become the driver's when we publish used->idx.
 *
 * Trust: guest memory is read once per field into locals (UNM_READ_ONCE)
 * and validated: avail->idx may run at most num ahead of last_avail, a
 * chain head and every next index must be < num, a chain has at most num
 * hops (so loops end), indirect descriptors are refused (not offered), the
 * direction flag must match the queue, and every buffer must translate with
 * its full length into one mapped region. A violation breaks the queue:
 * counted, logged, the port errored (-EIO) until the frontend reconnects,
 * and the err eventfd signalled. Frames too long are dropped (counted) and
 * their buffers returned, the queue keeps running.
 *
 * Barriers:
 *   [V1] acquire of avail->idx: the driver wrote descriptors and avail
 *        entries before publishing the index (its write barrier).
 *   [V2] release of used->idx: our used elements and the data we wrote
 *        into the guest's buffers are visible before the index.
 *   [V3] full fence between publishing used->idx and reading used_event /
 *        avail->flags (double check against the driver's "enable
 *        interrupts, fence, re-read used->idx").
 *   [V4] full fence between requesting kicks (avail_event / used->flags)
 *        and re-reading avail->idx (our double check; the driver fences
 *        between writing avail->idx and reading our avail_event).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "backend/vhost_user.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "vhost-user port: virtio 1.x rings are little-endian; only LE hosts are supported"
#endif

static inline uint16_t *avail_ring(const struct vu_vq *vq)
{
	return vq->avail + 2;
}

static inline uint16_t *used_event(const struct vu_vq *vq)
{
	return vq->avail + 2 + vq->num;
}

static inline uint16_t *avail_event(const struct vu_vq *vq)
{
	return (uint16_t *)(void *)(vq->used_ring + vq->num);
}

static inline bool has_feature(const struct vu_dev *d, unsigned bit)
{
	return d->features & VU_BIT(bit);
}

void vu_vq_break(struct vu_dev *d, unsigned qi, const char *why, uint64_t val)
{
	struct vu_vq *vq = &d->vq[qi];
	uint64_t one = 1;

	vq->bad++;
	if (vq->broken)
		return;
	vq->broken = true;
	d->port->error = -EIO;
	unm_log(UNM_LOG_WARN, "%s: virtqueue %u broken: %s (0x%llx)", d->port->name, qi, why,
		(unsigned long long)val);
	if (vq->err_fd >= 0 && write(vq->err_fd, &one, sizeof(one)) < 0)
		unm_log(UNM_LOG_DEBUG, "%s: err eventfd write failed", d->port->name);
}

void vu_vq_stop(struct vu_dev *d, unsigned qi)
{
	d->vq[qi].ready = false;
	d->vq[qi].started = false;
}

void vu_vq_update(struct vu_dev *d, unsigned qi)
{
	struct vu_vq *vq = &d->vq[qi];
	uint64_t num = vq->num;
	void *desc, *avail, *used;

	if (!(d->mem.n && num && vq->addr_set && vq->started && vq->enabled)) {
		vq->ready = false;
		return;
	}
	desc = vu_mem_xlate(&d->mem, vq->addr.desc, 16 * num, true);
	avail = vu_mem_xlate(&d->mem, vq->addr.avail, 6 + 2 * num, true);
	used = vu_mem_xlate(&d->mem, vq->addr.used, 6 + 8 * num, true);
	if (!desc || !avail || !used || ((uintptr_t)desc & 15) || ((uintptr_t)avail & 1) ||
	    ((uintptr_t)used & 3)) {
		vq->ready = false;
		d->port->st.bad_ring++;
		vu_vq_break(d, qi, "ring addresses outside the memory table or misaligned",
			    !desc ? vq->addr.desc : !avail ? vq->addr.avail : vq->addr.used);
		return;
	}
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->used_ring = (struct vring_used_elem *)(void *)((uint8_t *)used + 4);
	if (!vq->ready) {
		vq->ready = true;
		vq->signalled_valid = false;
		vq->kick_on = false;
		vu_vq_want_kicks(d, qi, true);
	}
}

bool vu_vq_want_kicks(struct vu_dev *d, unsigned qi, bool on)
{
	struct vu_vq *vq = &d->vq[qi];

	if (!vq->ready || vq->broken)
		return false;
	if (!on) {
		/* With event idx a stale avail_event is enough: the driver
		 * kicks again only when its index crosses it. */
		if (vq->kick_on && !has_feature(d, VIRTIO_RING_F_EVENT_IDX))
			UNM_WRITE_ONCE(vq->used[0], VRING_USED_F_NO_NOTIFY);
		vq->kick_on = false;
		return false;
	}
	if (has_feature(d, VIRTIO_RING_F_EVENT_IDX))
		UNM_WRITE_ONCE(*avail_event(vq), vq->last_avail);
	else if (!vq->kick_on)
		UNM_WRITE_ONCE(vq->used[0], 0);
	vq->kick_on = true;
	/* [V4] double check: kicks requested, then re-read the index. */
	unm_smp_mb();
	return UNM_READ_ONCE(vq->avail[1]) != vq->last_avail;
}

/* Call the driver if it wants to hear about used entries up to used_idx. */
static void vq_notify(struct vu_dev *d, struct vu_vq *vq)
{
	uint64_t one = 1;
	uint16_t new = vq->used_idx, old = vq->signalled_used;
	bool need;

	if (vq->signalled_valid && new == old)
		return;
	/* [V3] used->idx is published before we look at the driver's wish. */
	unm_smp_mb();
	if (has_feature(d, VIRTIO_RING_F_EVENT_IDX)) {
		uint16_t ev = UNM_READ_ONCE(*used_event(vq)); /* untrusted: any value is harmless */

		need = !vq->signalled_valid || (uint16_t)(new - ev - 1) < (uint16_t)(new - old);
	} else {
		need = !(UNM_READ_ONCE(vq->avail[0]) & VRING_AVAIL_F_NO_INTERRUPT);
	}
	vq->signalled_used = new;
	vq->signalled_valid = true;
	if (need && vq->call_fd >= 0) {
		if (write(vq->call_fd, &one, sizeof(one)) == (ssize_t)sizeof(one)) {
			d->calls++;
			d->port->st.kicks++;
		}
	}
}

static inline void used_push(struct vu_vq *vq, uint16_t at, uint16_t head, uint32_t len)
{
	struct vring_used_elem *e = &vq->used_ring[at & (vq->num - 1)];

	UNM_WRITE_ONCE(e->id, head);
	UNM_WRITE_ONCE(e->len, len);
}

static inline void used_publish(struct vu_dev *d, struct vu_vq *vq, uint16_t n)
{
	if (!n)
		return;
	vq->used_idx = (uint16_t)(vq->used_idx + n);
	/* [V2] release: used elements and buffer contents before the index. */
	unm_store_release(&vq->used[1], vq->used_idx);
	vq_notify(d, vq);
}

/* Entries the driver has made available, or -1 if the index is invalid. */
static int avail_count(struct vu_dev *d, unsigned qi)
{
	struct vu_vq *vq = &d->vq[qi];
	/* [V1] acquire: pairs with the driver's barrier before avail->idx. */
	uint16_t idx = unm_load_acquire(&vq->avail[1]); /* untrusted */
	uint16_t n = (uint16_t)(idx - vq->last_avail);

	if (n > vq->num) {
		d->port->st.bad_ring++;
		vu_vq_break(d, qi, "avail index ran ahead by more than the queue size", idx);
		return -1;
	}
	return n;
}

/* Head of avail entry AT, or -1 (queue broken) if out of range. */
static int avail_head(struct vu_dev *d, unsigned qi, uint16_t at)
{
	struct vu_vq *vq = &d->vq[qi];
	uint16_t head = UNM_READ_ONCE(avail_ring(vq)[at & (vq->num - 1)]); /* untrusted */

	if (head >= vq->num) {
		d->port->st.bad_ring++;
		vu_vq_break(d, qi, "avail entry names a descriptor beyond the table", head);
		return -1;
	}
	return head;
}

/* ---- descriptor chains ---------------------------------------------------- */

struct chain {
	uint16_t idx;
	uint32_t hops;
	bool done;
};

/*
 * Next buffer of the chain: returns 1 and sets *ptr and *len, 0 at the end of
 * the chain, -1 if the queue broke. WRITE: the queue is device-writable.
 */
static int chain_seg(struct vu_dev *d, unsigned qi, struct chain *c, uint8_t **ptr,
		     uint32_t *len, bool write)
{
	struct vu_vq *vq = &d->vq[qi];
	const struct vring_desc *dp;
	uint64_t addr;
	uint32_t l;
	uint16_t fl, nx;

	if (c->done)
		return 0;
	if (++c->hops > vq->num) {
		d->port->st.bad_ring++;
		vu_vq_break(d, qi, "descriptor chain longer than the queue (a loop)", c->hops);
		return -1;
	}
	dp = &vq->desc[c->idx];
	addr = UNM_READ_ONCE(dp->addr); /* untrusted, each field read once */
	l = UNM_READ_ONCE(dp->len);
	fl = UNM_READ_ONCE(dp->flags);
	nx = UNM_READ_ONCE(dp->next);
	if (fl & VRING_DESC_F_INDIRECT) {
		d->port->st.bad_ring++;
		vu_vq_break(d, qi, "indirect descriptor (not negotiated)", c->idx);
		return -1;
	}
	if (!!(fl & VRING_DESC_F_WRITE) != write) {
		d->port->st.bad_ring++;
		vu_vq_break(d, qi, "descriptor with the wrong direction", c->idx);
		return -1;
	}
	*ptr = l ? vu_mem_xlate(&d->mem, addr, l, false) : NULL;
	if (l && !*ptr) {
		d->port->st.bad_buf++;
		vu_vq_break(d, qi, "buffer outside the memory table", addr);
		return -1;
	}
	if (fl & VRING_DESC_F_NEXT) {
		if (nx >= vq->num) {
			d->port->st.bad_ring++;
			vu_vq_break(d, qi, "next index beyond the table", nx);
			return -1;
		}
		c->idx = nx;
	} else {
		c->done = true;
	}
	*len = l;
	return 1;
}

/* ---- guest TX virtqueue -> port RX ring ------------------------------------ */

/* Writes one frame into RX slots [first, limit) of kr as a MOREFRAG chain. */
struct slot_writer {
	struct unm_port *p;
	struct unm_kring *kr;
	uint32_t j, limit;      /* current slot; first slot we may not use */
	uint32_t off;           /* bytes in slot j */
	unsigned frags;
	char *buf;              /* buffer of slot j */
};

enum { FR_OK, FR_NOSPACE, FR_DROP, FR_BROKEN, FR_WAIT };

static int sw_slot(struct slot_writer *w)
{
	uint32_t idx = w->kr->ring->slot[w->j].buf_idx;

	if (w->j == w->limit)
		return FR_NOSPACE;
	if (!unm_buf_ok(w->p, idx)) {
		w->p->st.bad_buf++;
		return FR_DROP;
	}
	w->buf = kr_buf(w->kr, idx);
	w->off = 0;
	return FR_OK;
}

static int sw_put(struct slot_writer *w, const uint8_t *src, uint32_t len)
{
	while (len) {
		uint32_t n;

		if (w->off == w->kr->buf_size) {
			struct unm_slot *s = &w->kr->ring->slot[w->j];
			int rc;

			s->len = (uint16_t)w->off;
			s->flags = UNM_NS_MOREFRAG;
			w->j = kr_next(w->kr, w->j);
			if (++w->frags > UNM_MAX_FRAGS)
				return FR_DROP;
			if ((rc = sw_slot(w)) != FR_OK)
				return rc;
		}
		n = w->kr->buf_size - w->off;
		n = n < len ? n : len;
		memcpy(w->buf + w->off, src, n);
		w->off += n;
		src += n;
		len -= n;
	}
	return FR_OK;
}

/* The port's header (PHL bytes) from the guest's (GHL bytes). */
static void port_hdr_from_guest(uint8_t *out, unsigned phl, const uint8_t *gh)
{
	memcpy(out, gh, 10);
	if (phl == 12)
		out[10] = out[11] = 0; /* num_buffers means nothing in a slot */
}

static int tx_frame(struct vu_dev *d, struct slot_writer *w, uint16_t head)
{
	struct chain c = { .idx = head };
	unsigned ghl = d->guest_hdr_len, phl = d->port_hdr_len;
	uint8_t gh[12], ph[12];
	uint32_t got = 0, len;
	uint64_t total = 0;
	uint8_t *ptr;
	int rc, r = FR_OK;

	w->frags = 1;
	if ((rc = sw_slot(w)) != FR_OK)
		return rc;
	while ((rc = chain_seg(d, VU_VQ_TX, &c, &ptr, &len, false)) == 1) {
		total += len;
		if (total > ghl + (uint64_t)UNM_MAX_FRAME - phl) {
			d->port->st.bad_len++;
			return FR_DROP;
		}
		if (got < ghl) {
			uint32_t n = ghl - got < len ? ghl - got : len;

			memcpy(gh + got, ptr, n);
			got += n;
			ptr += n;
			len -= n;
			if (got == ghl && phl) {
				port_hdr_from_guest(ph, phl, gh);
				r = sw_put(w, ph, phl);
			}
		}
		if (r == FR_OK && len)
			r = sw_put(w, ptr, len);
		if (r != FR_OK)
			return r;
	}
	if (rc < 0)
		return FR_BROKEN;
	if (total <= ghl) {
		d->port->st.bad_len++;
		return FR_DROP;
	}
	w->kr->ring->slot[w->j].len = (uint16_t)w->off;
	w->kr->ring->slot[w->j].flags = 0;
	w->j = kr_next(w->kr, w->j);
	d->port->st.rx_bytes += total - ghl + phl;
	return FR_OK;
}

/*
 * The common frame: one device-readable descriptor holding the guest's
 * header and a frame that fits in one slot (what virtio_user and Linux's
 * virtio-net send for anything up to a buffer's size). Copied straight
 * into slot J's buffer; false if the frame is anything else (tx_frame
 * then takes it, and reports whatever is wrong with it). The descriptor
 * is read once (untrusted), as in chain_seg.
 */
static inline bool tx_frame_1(struct vu_dev *d, struct unm_kring *kr, uint32_t j, uint16_t head)
{
	const struct vring_desc *dp = &d->vq[VU_VQ_TX].desc[head];
	uint64_t addr = UNM_READ_ONCE(dp->addr);
	uint32_t l = UNM_READ_ONCE(dp->len);
	uint16_t fl = UNM_READ_ONCE(dp->flags);
	unsigned ghl = d->guest_hdr_len, phl = d->port_hdr_len;
	struct unm_slot *s = &kr->ring->slot[j];
	uint32_t idx = s->buf_idx, flen;
	const uint8_t *ptr;
	char *buf;

	if (fl & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE))
		return false;
	if (l <= ghl || l - ghl > kr->buf_size - phl || l - ghl + phl > UNM_MAX_FRAME ||
	    !unm_buf_ok(d->port, idx))
		return false;
	if (!(ptr = vu_mem_xlate(&d->mem, addr, l, false)))
		return false;
	flen = l - ghl;
	buf = kr_buf(kr, idx);
	if (phl) {
		uint8_t gh[12];

		memcpy(gh, ptr, ghl);
		port_hdr_from_guest((uint8_t *)buf, phl, gh);
	}
	memcpy(buf + phl, ptr + ghl, flen);
	s->len = (uint16_t)(flen + phl);
	s->flags = 0;
	d->port->st.rx_bytes += flen + phl;
	return true;
}

void vu_vq_to_port(struct unm_port *p, struct unm_kring *kr)
{
	struct vu_dev *d = p->priv;
	struct vu_vq *vq = &d->vq[VU_VQ_TX];
	struct slot_writer w = { .p = p, .kr = kr };
	uint16_t done = 0;
	int n;

	if (!vq->ready || vq->broken)
		return;
	n = avail_count(d, VU_VQ_TX);
	w.limit = kr->hwcur == 0 ? kr->nslots - 1 : kr->hwcur - 1;
	w.j = kr->hwtail;
	for (; n > 0 && w.j != w.limit; n--) {
		uint32_t start = w.j;
		int head = avail_head(d, VU_VQ_TX, vq->last_avail);
		int r;

		if (head < 0)
			break;
		if (tx_frame_1(d, kr, w.j, (uint16_t)head)) {
			w.j = kr_next(kr, w.j);
			p->st.rx_frames++;
			p->st.copy_rx_frames++;
			used_push(vq, (uint16_t)(vq->used_idx + done), (uint16_t)head, 0);
			done++;
			vq->last_avail++;
			continue;
		}
		r = tx_frame(d, &w, (uint16_t)head);
		if (r == FR_BROKEN) {
			w.j = start; /* nothing of a broken chain is delivered */
			break;
		}
		if (r == FR_NOSPACE && w.frags < kr->nslots - 1) {
			w.j = start; /* wait for the application to free slots */
			break;
		}
		if (r != FR_OK) {
			/* too long, too many fragments, bad slot, or more than the
			 * whole ring could hold: drop it and return the buffers */
			w.j = start;
			p->st.drops++;
		} else {
			p->st.rx_frames++;
			p->st.copy_rx_frames++;
		}
		used_push(vq, (uint16_t)(vq->used_idx + done), (uint16_t)head, 0);
		done++;
		vq->last_avail++;
	}
	kr->hwtail = w.j;
	used_publish(d, vq, done);
}

/*
 * In place (unmd's switch, vu_vq_pull): the guest's frames as pointers
 * into its memory, for a caller that copies each one once, straight to
 * where it goes. Only the plain form is taken (tx_frame_1's: one
 * device-readable descriptor, the guest's header and a frame of 14 bytes
 * up to a slot's size) and only while the port's header is none (the
 * guest's is skipped, as tx_frame_1 does then); anything else ends the
 * run, and rxsync's walker takes it (with its checks, drops and breaks).
 * Each descriptor is read once (untrusted) and translated with its whole
 * length, so the pointers stay inside one mapped region; the bytes behind
 * them are the guest's and may change while read (as a client's shared
 * buffers may): the caller reads each field it needs once.
 */
/* [ADDR, ADDR + LEN) inside region M (guest physical): vu_mem_xlate's test */
static inline bool in_map(const struct vu_map *m, uint64_t addr, uint64_t len)
{
	return addr >= m->gpa && addr - m->gpa <= m->size && len <= m->size - (addr - m->gpa);
}

unsigned vu_vq_pull(struct unm_port *p, struct unm_kring *kr, struct unm_pull *pl, unsigned max)
{
	struct vu_dev *d = p->priv;
	struct vu_vq *vq = &d->vq[VU_VQ_TX];
	unsigned ghl = d->guest_hdr_len, k = 0;
	uint32_t maxlen = kr->buf_size < UNM_MAX_FRAME ? kr->buf_size : UNM_MAX_FRAME;
	const struct vu_map *m = NULL; /* the region of the frame before */
	int n;

	if (!vq->ready || vq->broken || d->port_hdr_len)
		return 0;
	n = avail_count(d, VU_VQ_TX);
	if (n > (int)max)
		n = (int)max;
	for (; k < (unsigned)(n > 0 ? n : 0); k++) {
		uint16_t at = (uint16_t)(vq->last_avail + k);
		uint16_t head = UNM_READ_ONCE(avail_ring(vq)[at & (vq->num - 1)]); /* untrusted */
		const struct vring_desc *dp;
		uint64_t addr;
		uint32_t l;
		uint16_t fl;
		const uint8_t *ptr;

		if (head >= vq->num) { /* avail_head (read again) breaks the queue */
			avail_head(d, VU_VQ_TX, at);
			break; /* what came before is fine */
		}
		dp = &vq->desc[head];
		addr = UNM_READ_ONCE(dp->addr);
		l = UNM_READ_ONCE(dp->len);
		fl = UNM_READ_ONCE(dp->flags);
		if ((fl & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE)) ||
		    l < ghl + 14 || l - ghl > maxlen)
			break;
		/* vu_mem_xlate, trying the region of the frame before first (a
		 * guest's buffers are mostly in one) */
		if (!m || !in_map(m, addr, l)) {
			m = NULL;
			for (unsigned r = 0; r < d->mem.n && !m; r++)
				if (in_map(&d->mem.m[r], addr, l))
					m = &d->mem.m[r];
			if (!m)
				break;
		}
		ptr = m->host + (addr - m->gpa);
		pl[k].buf = ptr + ghl;
		pl[k].len = l - ghl;
		pl[k].cookie = (uint16_t)head;
	}
	return k;
}

void vu_vq_pull_done(struct unm_port *p, const struct unm_pull *pl, unsigned n)
{
	struct vu_dev *d = p->priv;
	struct vu_vq *vq = &d->vq[VU_VQ_TX];
	uint64_t bytes = 0;

	if (!n)
		return;
	/* IN_ORDER (virtio 1.1, 2.7.9 / 2.6.9): buffers are used in the order
	 * they were made available, and a batch may be reported by one used
	 * entry, the last buffer's (the driver counts the others by the used
	 * index): one line written per pull instead of one entry a frame.
	 * Each frame here is one descriptor, so its head is its cookie. */
	if (has_feature(d, VIRTIO_F_IN_ORDER))
		used_push(vq, (uint16_t)(vq->used_idx + n - 1), (uint16_t)pl[n - 1].cookie, 0);
	else
		for (unsigned i = 0; i < n; i++)
			used_push(vq, (uint16_t)(vq->used_idx + i), (uint16_t)pl[i].cookie, 0);
	for (unsigned i = 0; i < n; i++)
		bytes += pl[i].len;
	vq->last_avail = (uint16_t)(vq->last_avail + n);
	p->st.rx_frames += n;
	p->st.rx_bytes += bytes;
	used_publish(d, vq, (uint16_t)n);
}

/* ---- port TX ring -> guest RX virtqueue ------------------------------------ */

/* Reads a frame out of TX slots. */
struct slot_reader {
	struct unm_kring *kr;
	uint32_t s;             /* current slot */
	uint32_t off, len;      /* position in it, its length */
};

static uint32_t sr_copy(struct slot_reader *r, uint8_t *dst, uint32_t want)
{
	uint32_t done = 0;

	while (done < want) {
		uint32_t n;

		while (r->off == r->len) {
			if (!(r->kr->ring->slot[r->s].flags & UNM_NS_MOREFRAG))
				return done;
			r->s = kr_next(r->kr, r->s);
			r->off = 0;
			r->len = r->kr->ring->slot[r->s].len;
		}
		n = r->len - r->off < want - done ? r->len - r->off : want - done;
		memcpy(dst + done, kr_buf(r->kr, r->kr->ring->slot[r->s].buf_idx) + r->off, n);
		r->off += n;
		done += n;
	}
	return done;
}

/*
 * Check the frame at slot I (up to HEAD): sets *end to the slot after it
 * and *total to its bytes. FR_WAIT if its MOREFRAG chain is incomplete,
 * FR_DROP if a slot is invalid. The slot fields are the application's
 * (same process): validated once here, the reader trusts them after.
 */
static int frame_scan(struct unm_port *p, struct unm_kring *kr, uint32_t i, uint32_t head,
		      uint32_t *end, uint32_t *total)
{
	unsigned nfr = 0;
	int r = FR_OK;

	*total = 0;
	for (;;) {
		const struct unm_slot *s = &kr->ring->slot[i];

		if (!unm_buf_ok(p, s->buf_idx)) {
			p->st.bad_buf++;
			r = FR_DROP;
		} else if (s->len > kr->buf_size) {
			p->st.bad_len++;
			r = FR_DROP;
		}
		*total += s->len;
		i = kr_next(kr, i);
		if (!(s->flags & UNM_NS_MOREFRAG) || ++nfr >= UNM_MAX_FRAGS)
			break;
		if (i == head)
			return FR_WAIT;
	}
	*end = i;
	return r;
}

/* The guest's header from the port's; FR_DROP if the guest cannot take it. */
static int guest_hdr_from_port(const struct vu_dev *d, uint8_t *gh, const uint8_t *ph)
{
	uint8_t gso = ph[1] & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	memset(gh, 0, 12);
	if (!d->port_hdr_len)
		return FR_OK;
	memcpy(gh, ph, 10);
	if ((ph[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !has_feature(d, VIRTIO_NET_F_GUEST_CSUM))
		return FR_DROP;
	if (gso == VIRTIO_NET_HDR_GSO_NONE)
		return FR_OK;
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4 && has_feature(d, VIRTIO_NET_F_GUEST_TSO4))
		return FR_OK;
	if (gso == VIRTIO_NET_HDR_GSO_TCPV6 && has_feature(d, VIRTIO_NET_F_GUEST_TSO6))
		return FR_OK;
	return FR_DROP;
}

struct hdr_piece {
	uint8_t *dst;
	uint8_t len;
};

/*
 * Copy one frame (reader positioned after the port header, DATA bytes)
 * into guest RX buffers, header first. Consumes avail entries from
 * vq->last_avail (committed only on FR_OK) and writes used elements from
 * vq->used_idx + *nused.
 */
static int rx_frame(struct vu_dev *d, struct slot_reader *rd, uint8_t *gh, uint32_t data,
		    int avail, uint16_t *nused)
{
	struct vu_vq *vq = &d->vq[VU_VQ_RX];
	bool mrg = has_feature(d, VIRTIO_NET_F_MRG_RXBUF);
	uint32_t ghl = d->guest_hdr_len, need = ghl + data, written = 0;
	struct hdr_piece hp[12];
	unsigned npieces = 0, hdr_left = ghl;
	uint16_t la = vq->last_avail, bufs = 0;

	while (written < need) {
		struct chain c;
		uint32_t cw = 0, len;
		uint8_t *ptr;
		int head, rc = 0;

		if ((int)(uint16_t)(la - vq->last_avail) >= avail)
			return (uint16_t)(la - vq->last_avail) >= vq->num ? FR_DROP : FR_NOSPACE;
		if ((head = avail_head(d, VU_VQ_RX, la)) < 0)
			return FR_BROKEN;
		c = (struct chain){ .idx = (uint16_t)head };
		while (written + cw < need && (rc = chain_seg(d, VU_VQ_RX, &c, &ptr, &len, true)) == 1) {
			while (hdr_left && len) {
				uint32_t n = hdr_left < len ? hdr_left : len;

				hp[npieces++] = (struct hdr_piece){ ptr, (uint8_t)n };
				hdr_left -= n, ptr += n, len -= n, cw += n;
			}
			if (len)
				cw += sr_copy(rd, ptr, len < need - written - cw ? len : need - written - cw);
		}
		if (written + cw < need && rc < 0)
			return FR_BROKEN;
		used_push(vq, (uint16_t)(vq->used_idx + *nused + bufs), (uint16_t)head, cw);
		written += cw;
		bufs++;
		la++;
		if (!mrg && written < need)
			return FR_DROP; /* one chain must hold the frame */
	}
	if (ghl == 12)
		memcpy(gh + 10, &bufs, 2);
	for (unsigned k = 0, o = 0; k < npieces; o += hp[k].len, k++)
		memcpy(hp[k].dst, gh + o, hp[k].len);
	vq->last_avail = la;
	*nused = (uint16_t)(*nused + bufs);
	return FR_OK;
}

void vu_port_to_vq(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct vu_dev *d = p->priv;
	struct vu_vq *vq = &d->vq[VU_VQ_RX];
	uint16_t nused = 0, la0 = vq->last_avail;
	uint32_t i = kr->hwcur;
	int avail;

	if (!vq->ready || vq->broken)
		return;
	avail = avail_count(d, VU_VQ_RX);
	while (i != head && avail >= 0) {
		uint32_t end, total, phl = d->port_hdr_len;
		struct slot_reader rd = { kr, i, 0, kr->ring->slot[i].len };
		uint8_t ph[12] = { 0 }, gh[12];
		int r = frame_scan(p, kr, i, head, &end, &total);

		if (r == FR_WAIT)
			break;
		if (r == FR_OK && (total < phl || sr_copy(&rd, ph, phl) != phl ||
				   total - phl == 0)) {
			p->st.bad_len++;
			r = FR_DROP;
		}
		if (r == FR_OK)
			r = guest_hdr_from_port(d, gh, ph);
		if (r == FR_OK)
			r = rx_frame(d, &rd, gh, total - phl,
				     avail - (int)(uint16_t)(vq->last_avail - la0), &nused);
		if (r == FR_NOSPACE || r == FR_BROKEN)
			break;
		if (r == FR_OK) {
			p->st.tx_frames++;
			p->st.tx_bytes += total;
		} else {
			p->st.drops++;
		}
		i = end;
	}
	kr->hwcur = i;
	used_publish(d, vq, nused);
}
