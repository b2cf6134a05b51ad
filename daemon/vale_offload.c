// SPDX-License-Identifier: BSD-2-Clause
/*
 * vale_offload.c - virtio-net header offloads across the VALE switch.
 * vo_ = VALE offload: what this file defines for vale.c
 * (vale_offload.h); vr_ = a ring as the switch sees it (daemon/unmd.h).
 *
 * A switch port may carry a 10- or 12-byte virtio-net header in front of
 * every frame (geom.vnet_hdr_len, set when the port is created: "@conf:
 * vnet=12" in the name, or the opened port's own header for ATTACH). What
 * the switch does with a frame depends on the two ends:
 *
 *   source header  destination header  action
 *   yes            yes                 pass as is: GSO frames (up to 64 KiB,
 *                                      one buffer or a MOREFRAG chain) and
 *                                      partial checksums untouched; the
 *                                      header is re-encoded from the values
 *                                      validated in pass 1 (10 <-> 12 bytes
 *                                      converted; num_buffers copied 12 -> 12,
 *                                      0 from a 10-byte header)
 *   yes            no                  GSO frames segmented straight into the
 *                                      destination's buffers, NEEDS_CSUM
 *                                      checksums completed, header stripped
 *   no             yes                 a zero header (all bytes 0) is
 *                                      prepended
 *
 * Mixed buffer sizes: a frame longer than the destination can hold in one
 * chain (min(UNM_MAX_FRAGS, slots - 1) buffers, header included) is
 * segmented if it is a GSO frame (segments then carry a zero header if
 * the destination has headers: their checksums are complete) and dropped
 * as no_room otherwise. A source header that unm_vnet_parse() refuses is
 * a drop (bad_vnet), also counted by reason.
 *
 * Accounting rule (vale.c's identity, on the source port: tx_frames +
 * tx_extra_copies == tx_delivered + the drops of every reason):
 *  - a frame counts once in tx_frames; it has one pass-1 verdict at most:
 *    vo_in() only sees frames vale.c accepted, so a chain that is
 *    bad_buf/bad_len/too_long is that only, never also bad_vnet; a
 *    refused header is one bad_vnet drop and one vo.vnet_drops[reason]
 *    (their sum is drops[bad_vnet]: the pass-2 bad_vnet returns below
 *    cannot happen after vo_in);
 *  - the source header is not part of the frame: pass 1 allows
 *    UNM_MAX_FRAME + vnet_hdr_len bytes; the destination's header is part
 *    of what it must hold, in vo_slots() for both lossless reservations
 *    and pass 2, so both agree on no_room;
 *  - each copy is delivered once (one tx_delivered however many segments
 *    it became: those count in vo.segments_out) or dropped once: no_room
 *    and dst_full are decided from vo_slots() before anything is written,
 *    and a bad destination buffer index met in the middle of a copy or a
 *    segmentation is one dst_err (the caller errors the port; the slots
 *    already written are not published and count nowhere);
 *  - floods: tx_extra_copies adds (ports live at the start of pass 2
 *    other than the source) - 1, and exactly those ports get a copy; a
 *    port already errored gets none even if it has unicast frames (each a
 *    dst_err) in the same batch, one that errors during it gets its copy
 *    as a dst_err. tests/mp/vale-offload-accounting.c checks each case.
 *
 * Untrusted data: the source frame is in the sender's memory and may
 * change while we read it; lengths and buffer pointers come from vale.c's
 * single validated read of each slot, the header is read once (pass 1)
 * and only the decoded copy is used afterwards, and lib/offload's
 * segmenter bounds every access by the fragment lengths it is given.
 * Destination buffer indexes are read once each and checked.
 *
 * Threads: the forwarding thread only, d->lock held.
 */
#include <stdio.h>
#include <string.h>
#include "unmd.h"

#define VO_NO_REASON 0xff

static unsigned vnet_of(const struct vport *p)
{
	return p->geom.vnet_hdr_len;
}

/* The frame after the source's header, as lib/offload fragments. */
static unsigned body_frags(const struct fwd_frag *f, unsigned nf, unsigned skip,
			   struct unm_frag *out)
{
	for (unsigned i = 0; i < nf; i++) {
		out[i].ptr = (void *)(uintptr_t)f[i].buf;
		out[i].len = f[i].len;
	}
	out[0].ptr = (char *)out[0].ptr + skip;
	out[0].len -= skip;
	return nf;
}

uint8_t vo_in(struct vport *src, const struct fwd_frag *f, unsigned nf,
	      struct unm_vnet_info *vi)
{
	struct unm_frag b[UNM_MAX_FRAGS];
	enum unm_vnet_drop why = UNM_VNET_DROP_SHORT;
	uint8_t raw[UNM_VNET_HDR_LEN_MRG];
	unsigned hl = vnet_of(src);

	if (nf && nf <= UNM_MAX_FRAGS && f[0].len >= hl + 14) {
		memcpy(raw, f[0].buf, hl); /* untrusted: read once */
		body_frags(f, nf, hl, b);
		if (unm_vnet_parse(raw, hl, b, nf, vi, &why) == 0) {
			if (vi->hdr.gso_type != UNM_VNET_GSO_NONE)
				src->vo.gso_in++;
			return VO_NO_REASON;
		}
	}
	src->vo.vnet_drops[why]++;
	return UNM_DROP_BAD_VNET;
}

static inline uint32_t nslots_for(uint32_t len, uint32_t buf_size)
{
	return len ? (len + buf_size - 1) / buf_size : 1;
}

/* Slots one chain of ring O may use. */
static uint32_t chain_max(const struct vring *o)
{
	return o->nslots - 1 < UNM_MAX_FRAGS ? o->nslots - 1 : UNM_MAX_FRAGS;
}

/* Segment this copy? (GSO frame that the destination cannot take whole.) */
static bool must_segment(const struct vport *src, const struct vport *dp, const struct vring *o,
			 uint32_t blen, const struct unm_vnet_info *vi)
{
	if (!vnet_of(src) || vi->hdr.gso_type == UNM_VNET_GSO_NONE)
		return false;
	return !vnet_of(dp) || nslots_for(vnet_of(dp) + blen, o->buf_size) > chain_max(o);
}

/* Slots for all segments of VI with a DV-byte header each; 0 if one of
 * them can never fit (or the headers do not fit in the first buffer). */
static uint32_t seg_slots(const struct vring *o, unsigned dv, const struct unm_vnet_info *vi)
{
	uint32_t full = vi->payload_off + vi->hdr.gso_size;
	uint32_t last = vi->payload_off + (vi->payload_len - (vi->nsegs - 1) * vi->hdr.gso_size);
	uint32_t nf = nslots_for(dv + full, o->buf_size), nl = nslots_for(dv + last, o->buf_size);

	if (nf > chain_max(o) || o->buf_size < dv + vi->payload_off)
		return 0;
	return (vi->nsegs - 1) * nf + nl;
}

uint32_t vo_slots(const struct vport *src, const struct vport *dp, const struct vring *o,
		  uint32_t len, const struct unm_vnet_info *vi)
{
	uint32_t blen = len - vnet_of(src), need;

	if (must_segment(src, dp, o, blen, vi))
		need = seg_slots(o, vnet_of(dp), vi);
	else if ((need = nslots_for(vnet_of(dp) + blen, o->buf_size)) > chain_max(o))
		need = 0;
	return need > o->nslots - 1 ? 0 : need;
}

/* Buffers of N destination slots from K as fragments; false if one
 * holds a bad buffer index. */
static bool dst_frags(const struct vring *o, uint32_t k, uint32_t n, struct unm_frag *out)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t idx = UNM_READ_ONCE(o->slot[k].buf_idx); /* untrusted */

		if (idx < 2 || idx >= o->buf_count)
			return false;
		out[i].ptr = o->pool + (uint64_t)idx * o->buf_size;
		out[i].len = o->buf_size;
		k = k + 1 == o->nslots ? 0 : k + 1;
	}
	return true;
}

/* Lengths and MOREFRAG of the chain of LEN bytes from *K; advances *K. */
static void dst_close(struct vring *o, uint32_t *k, uint32_t len)
{
	do {
		struct unm_slot *s = &o->slot[*k];
		uint32_t n = len < o->buf_size ? len : o->buf_size;

		len -= n;
		UNM_WRITE_ONCE(s->len, (uint16_t)n);
		UNM_WRITE_ONCE(s->flags, len ? UNM_NS_MOREFRAG : 0);
		*k = *k + 1 == o->nslots ? 0 : *k + 1;
	} while (len);
}

static void put_hdr(void *dst, unsigned dv, const struct unm_vnet_hdr *h)
{
	unm_vnet_hdr_encode(dst, dv, h);
}

/* Emit the segments of a GSO frame (each with a zero DV-byte header). */
static int vo_segment(struct vport *src, struct vring *o, unsigned dv, const struct unm_frag *in,
		      unsigned nin, const struct unm_vnet_info *vi, uint32_t *k)
{
	static const struct unm_vnet_hdr zero;
	struct unm_frag out[UNM_MAX_FRAGS];
	struct unm_gso g;
	uint64_t segs = 0;
	size_t sl;

	if (unm_gso_init(&g, vi, in, nin))
		return UNM_DROP_BAD_VNET; /* cannot happen after vo_in */
	while ((sl = unm_gso_peek_len(&g)) > 0) {
		uint32_t n = nslots_for(dv + (uint32_t)sl, o->buf_size);
		int r;

		if (!dst_frags(o, *k, n, out))
			return -1;
		if (dv)
			put_hdr(out[0].ptr, dv, &zero);
		out[0].ptr = (char *)out[0].ptr + dv;
		out[0].len -= dv;
		r = unm_gso_next_frags(&g, out, n);
		if (r <= 0)
			return UNM_DROP_BAD_VNET; /* cannot happen: sizes come from vi */
		dst_close(o, k, dv + (uint32_t)r);
		segs++;
	}
	src->vo.segmented++;
	src->vo.segments_out += segs;
	return 0;
}

/* One copy with the header converted/added/stripped; NEEDS_CSUM completed
 * when the destination has no header to carry it. */
static int vo_copy(struct vport *src, struct vport *dp, struct vring *o, const struct unm_frag *in,
		   unsigned nin, uint32_t blen, const struct unm_vnet_info *vi, uint32_t need,
		   uint32_t *k)
{
	unsigned sv = vnet_of(src), dv = vnet_of(dp);
	struct unm_frag out[UNM_MAX_FRAGS];
	size_t off = dv;

	if (!dst_frags(o, *k, need, out))
		return -1;
	if (dv) {
		struct unm_vnet_hdr h = { 0 };

		if (sv) {
			h = vi->hdr; /* num_buffers: copied 12 -> 12, else 0 */
		} else {
			src->vo.zero_hdr++;
		}
		put_hdr(out[0].ptr, dv, &h);
	}
	if (sv && !dv && (vi->hdr.flags & UNM_VNET_F_NEEDS_CSUM)) {
		struct unm_gso g;

		if (unm_gso_init(&g, vi, in, nin) || unm_gso_next_frags(&g, out, need) != (int)blen)
			return UNM_DROP_BAD_VNET;
		src->vo.csum_completed++;
	} else {
		for (unsigned i = 0; i < nin; i++) {
			unm_frags_write(out, need, off, in[i].ptr, in[i].len);
			off += in[i].len;
		}
	}
	dst_close(o, k, dv + blen);
	return 0;
}

int vo_deliver(struct vport *src, struct vport *dp, struct vring *o, const struct fwd_frag *f,
	       unsigned nf, uint32_t len, const struct unm_vnet_info *vi, uint32_t *k,
	       uint32_t *avail)
{
	struct unm_frag in[UNM_MAX_FRAGS];
	unsigned sv = vnet_of(src);
	uint32_t blen = len - sv, need = vo_slots(src, dp, o, len, vi), k0 = *k;
	int r;

	if (need == 0)
		return UNM_DROP_NO_ROOM;
	if (need > *avail)
		return UNM_DROP_DST_FULL;
	body_frags(f, nf, sv, in);
	if (must_segment(src, dp, o, blen, vi))
		r = vo_segment(src, o, vnet_of(dp), in, nf, vi, k);
	else
		r = vo_copy(src, dp, o, in, nf, blen, vi, need, k);
	if (r) {
		*k = k0; /* nothing is published: the slots are reused */
		return r;
	}
	*avail -= need;
	return 0;
}

_Static_assert(UNM_VNET_DROP__COUNT <= UNM_CTL_VNET_DROPS, "vnet drop reasons fit the ctl item");

void vo_item(struct unm_ctl_offload_info *oi, const struct vport *p)
{
	snprintf(oi->sw, sizeof(oi->sw), "%s", p->sw->name);
	snprintf(oi->name, sizeof(oi->name), "%s", p->name);
	oi->idx = p->idx;
	oi->vnet_hdr_len = vnet_of(p);
	oi->gso_in = p->vo.gso_in;
	oi->segmented = p->vo.segmented;
	oi->segments_out = p->vo.segments_out;
	oi->csum_completed = p->vo.csum_completed;
	oi->zero_hdr = p->vo.zero_hdr;
	for (unsigned r = 0; r < UNM_VNET_DROP__COUNT; r++)
		oi->vnet_drops[r] = p->vo.vnet_drops[r];
}
