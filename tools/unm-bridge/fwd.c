// SPDX-License-Identifier: BSD-2-Clause
/*
 * fwd.c - unm-bridge's forwarding engine (see fwd.h for the contract).
 *
 * Ownership: between the caller's syncs the engine owns the source RX
 * slots [head, tail) and the destination TX slots [head, tail); it
 * advances both heads over what it moved, never past tail. A frame is a
 * MOREFRAG chain of at most UNM_MAX_FRAGS slots; it moves whole: when its
 * end has not arrived it stays (source cur = tail, so the port wakes us
 * only when more slots arrive), when the destination lacks room it stays
 * and fwd_move() reports "blocked" (netmap's bridge waits the same way).
 *
 * Trust: the slots come from another process. Each source slot's buffer
 * index and length are read once, checked against the port's geometry
 * and only the checked copies are used; a bad frame is dropped and
 * counted. Destination TX buffer indexes are checked before a copy
 * writes to them.
 *
 * Swap mode (both ports map one region: same buffer pool): each source
 * slot's buffer goes to a destination slot and the destination slot's
 * free buffer comes back to the source slot, UNM_NS_BUF_CHANGED on both.
 * Copy mode re-fragments for the destination's buffer size and converts
 * the virtio-net header when the two ports' header lengths differ.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "fwd.h"

struct frag {
	uint32_t idx, len;
};

int fwd_port_init(struct fwd_port *fp, struct unm_port *p, const char *name)
{
	struct unm_port_info info = { .sz = sizeof(info) };
	int rc = unm_port_info(p, &info);

	if (rc)
		return rc;
	memset(fp, 0, sizeof(*fp));
	fp->p = p;
	fp->name = name;
	fp->nbufs = info.buf_count;
	fp->buf_size = info.buf_size;
	fp->vhl = info.vnet_hdr_len;
	fp->first_rx = info.first_rx, fp->last_rx = info.last_rx;
	fp->first_tx = info.first_tx, fp->last_tx = info.last_tx;
	return 0;
}

/* Device and inode of the file mapped at ADDR, from /proc/self/maps. */
static int map_id(uintptr_t addr, char *dev, size_t devlen, unsigned long *ino)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		uintptr_t lo, hi;
		char d[32];
		unsigned long i;

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %*s %*s %31s %lu", &lo, &hi, d, &i) != 4)
			continue;
		if (addr >= lo && addr < hi) {
			snprintf(dev, devlen, "%s", d);
			*ino = i;
			found = 1;
		}
	}
	fclose(f);
	return found;
}

int fwd_same_region(const struct fwd_port *a, const struct fwd_port *b)
{
	char da[32], db[32];
	unsigned long ia, ib;

	if (a->buf_size != b->buf_size || a->nbufs != b->nbufs || a->vhl != b->vhl)
		return 0;
	if (!map_id((uintptr_t)unm_nifp(a->p), da, sizeof(da), &ia) ||
	    !map_id((uintptr_t)unm_nifp(b->p), db, sizeof(db), &ib))
		return 0;
	return ia != 0 && ia == ib && !strcmp(da, db);
}

/* Copy N bytes at offset OFF of the chain's data into OUT (bounds known). */
static void chain_read(const struct unm_ring *rx, const struct frag *fr, unsigned nfr,
		       uint32_t off, uint8_t *out, uint32_t n)
{
	for (unsigned f = 0; f < nfr && n; f++) {
		if (off >= fr[f].len) {
			off -= fr[f].len;
			continue;
		}
		uint32_t take = fr[f].len - off < n ? fr[f].len - off : n;

		memcpy(out, unm_buf(rx, fr[f].idx) + off, take);
		out += take, n -= take, off = 0;
	}
}

/*
 * Copy one frame: HDR[0..hlen) first (the converted virtio-net header),
 * then the chain's bytes from offset SKIP, into destination slots from *J,
 * DBS bytes each. The caller checked there are enough slots.
 */
static void copy_frame(const struct fwd_dir *d, struct unm_ring *rx, const struct frag *fr,
		       unsigned nfr, uint32_t skip, const uint8_t *hdr, uint32_t hlen,
		       struct unm_ring *tx, uint32_t *j, uint32_t out_len)
{
	uint32_t dbs = d->dst->buf_size, left = out_len, f = 0, foff = skip;

	while (f < nfr && foff >= fr[f].len) /* skip never spans past the data */
		foff -= fr[f].len, f++;
	do {
		struct unm_slot *s = &tx->slot[*j];
		uint32_t idx = s->buf_idx, off = 0;
		uint8_t *dbuf = (idx >= 2 && idx < d->dst->nbufs) ? (uint8_t *)unm_buf(tx, idx) : NULL;

		while (off < dbs && off < left) {
			uint32_t take;

			if (hlen) {
				take = hlen < dbs - off ? hlen : dbs - off;
				if (dbuf)
					memcpy(dbuf + off, hdr, take);
				hdr += take, hlen -= take;
			} else {
				take = fr[f].len - foff;
				if (take > dbs - off)
					take = dbs - off;
				if (dbuf)
					memcpy(dbuf + off, unm_buf(rx, fr[f].idx) + foff, take);
				foff += take;
				if (foff == fr[f].len)
					f++, foff = 0;
			}
			off += take;
		}
		left -= off;
		s->len = (uint16_t)off;
		s->flags = left ? UNM_NS_MOREFRAG : 0;
		*j = unm_ring_next(tx, *j);
	} while (left);
}

static void swap_frame(struct unm_ring *rx, uint32_t i, const struct frag *fr, unsigned nfr,
		       struct unm_ring *tx, uint32_t *j)
{
	for (unsigned f = 0; f < nfr; f++) {
		struct unm_slot *rs = &rx->slot[i], *ts = &tx->slot[*j];
		uint32_t spare = ts->buf_idx; /* ours (TX [head, tail)); the port checks it */

		ts->buf_idx = fr[f].idx;
		ts->len = (uint16_t)fr[f].len;
		ts->flags = UNM_NS_BUF_CHANGED | (f + 1 < nfr ? UNM_NS_MOREFRAG : 0);
		rs->buf_idx = spare;
		rs->len = 0;
		rs->flags = UNM_NS_BUF_CHANGED;
		i = unm_ring_next(rx, i);
		*j = unm_ring_next(tx, *j);
	}
}

/*
 * Read the chain starting at slot I into FR (checked copies). Returns the
 * number of slots, 0 if the chain's end has not arrived; *bad is set for a
 * malformed chain (bad index or length, too long), which still ends at
 * the returned count.
 */
static unsigned scan_chain(const struct fwd_port *src, const struct unm_ring *rx, uint32_t i,
			   uint32_t tail, struct frag *fr, uint32_t *total, int *bad)
{
	unsigned nfr = 0;

	*total = 0;
	*bad = 0;
	for (;;) {
		const struct unm_slot *s = &rx->slot[i];
		uint32_t idx = UNM_READ_ONCE(s->buf_idx);  /* untrusted */
		uint32_t len = UNM_READ_ONCE(s->len);      /* untrusted */
		uint16_t fl = UNM_READ_ONCE(s->flags);     /* untrusted */

		if (idx < 2 || idx >= src->nbufs || len > src->buf_size)
			*bad = 1, len = 0;
		fr[nfr].idx = idx;
		fr[nfr].len = len;
		*total += len;
		nfr++;
		i = unm_ring_next(rx, i);
		if (!(fl & UNM_NS_MOREFRAG))
			break;
		if (nfr == UNM_MAX_FRAGS) { /* cut: drop what we have */
			*bad = 1;
			break;
		}
		if (i == tail)
			return 0;
	}
	if (*total > UNM_MAX_FRAME)
		*bad = 1;
	return nfr;
}

/*
 * Plan the copy of a frame of TOTAL bytes: the destination header in HDR
 * (*hlen bytes), source bytes to skip, output length. Returns the number
 * of destination slots, 0 if the frame cannot be delivered (too long, or
 * it needs an offload the destination cannot take).
 */
static unsigned plan_copy(const struct fwd_dir *d, const struct unm_ring *rx,
			  const struct frag *fr, unsigned nfr, uint32_t total,
			  uint8_t hdr[12], uint32_t *hlen, uint32_t *skip, uint32_t *out_len)
{
	uint32_t hs = d->src->vhl, hd = d->dst->vhl, n;

	*hlen = 0;
	*skip = 0;
	if (hs != hd) {
		if (total < hs)
			return 0;
		memset(hdr, 0, 12);
		chain_read(rx, fr, nfr, 0, hdr, hs < hd ? hs : hd);
		/* virtio-net: flags (NEEDS_CSUM = 1) and gso_type are bytes 0, 1 */
		if (hs && !hd) {
			uint8_t h2[2] = { 0, 0 };

			chain_read(rx, fr, nfr, 0, h2, 2);
			if ((h2[0] & 1) || h2[1])
				return 0;
		}
		if (hs == 12 && hd == 10)
			hdr[10] = hdr[11] = 0;
		*hlen = hd;
		*skip = hs;
	}
	*out_len = total - *skip + *hlen;
	if (*out_len > UNM_MAX_FRAME)
		return 0;
	n = *out_len ? (*out_len + d->dst->buf_size - 1) / d->dst->buf_size : 1;
	return n <= UNM_MAX_FRAGS ? n : 0;
}

/* Move frames from RX to TX until one of them runs out or BUDGET frames. */
static unsigned move_ring(struct fwd_dir *d, struct unm_ring *rx, struct unm_ring *tx,
			  unsigned budget)
{
	uint32_t i = rx->head, tail = rx->tail, j = tx->head, space = unm_ring_space(tx);
	struct frag fr[UNM_MAX_FRAGS];
	unsigned moved = 0;
	int partial = 0;

	while (i != tail && moved < budget) {
		uint32_t total, hlen = 0, skip = 0, out_len = 0, need;
		uint8_t hdr[12];
		int bad;
		unsigned nfr = scan_chain(d->src, rx, i, tail, fr, &total, &bad);

		if (!nfr) {
			partial = 1;
			break;
		}
		need = bad ? 0 : d->swap ? nfr :
			plan_copy(d, rx, fr, nfr, total, hdr, &hlen, &skip, &out_len);
		if (need > space) {
			d->blocked = 1;
			break;
		}
		if (!need) {
			d->drops++;
		} else {
			if (d->swap) {
				swap_frame(rx, i, fr, nfr, tx, &j);
				out_len = total;
			} else {
				copy_frame(d, rx, fr, nfr, skip, hdr, hlen, tx, &j, out_len);
			}
			space -= need;
			d->frames++;
			d->bytes += out_len;
		}
		for (unsigned f = 0; f < nfr; f++)
			i = unm_ring_next(rx, i);
		moved++;
	}
	rx->head = i;
	rx->cur = partial ? tail : i;
	/* Blocked on a chain longer than the free slots: cur = tail, so the
	 * next txsync arms the notification although the ring is not full. */
	tx->head = j;
	tx->cur = d->blocked ? tx->tail : j;
	return moved;
}

unsigned fwd_move(struct fwd_dir *d)
{
	const struct fwd_port *s = d->src, *t = d->dst;
	unsigned si = s->first_rx, di = t->first_tx, moved = 0;

	d->blocked = 0;
	while (si < s->last_rx && di < t->last_tx && moved < d->batch) {
		struct unm_ring *rx = unm_ring_get(s->p, 0, si);
		struct unm_ring *tx = unm_ring_get(t->p, 1, di);

		if (!rx || unm_ring_empty(rx)) {
			si++;
			continue;
		}
		d->blocked = 0;
		moved += move_ring(d, rx, tx, d->batch - moved);
		if (d->blocked) /* this TX ring is full: try the next one */
			di++;
		else
			si++;
	}
	if (d->blocked || (si < s->last_rx && di >= t->last_tx)) {
		/* frames left behind for lack of room: wait, do not drop */
		for (; si < s->last_rx; si++) {
			struct unm_ring *rx = unm_ring_get(s->p, 0, si);

			if (rx && rx->cur != rx->tail)
				break;
		}
		d->blocked = si < s->last_rx;
		d->stalls += d->blocked;
	}
	return moved;
}
