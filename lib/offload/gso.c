// SPDX-License-Identifier: BSD-2-Clause
/*
 * gso.c - software segmentation of TCP (TSO) and UDP (USO) GSO frames,
 * and NEEDS_CSUM completion for a frame copied to a port without a vnet
 * header.
 *
 * An iterator (struct unm_gso, owned by the caller, one per frame being
 * segmented; not shared between threads) writes one segment at a time
 * straight into the caller's output buffers, so a 64 KiB frame is never
 * copied whole: the headers are copied once into the iterator at init
 * (they may be split across input fragments), and each segment is built
 * from that private copy plus its slice of the payload, which is read
 * from the input chain exactly once per segment while it is copied and
 * summed. The input chain must not change under the iterator; if it does
 * (a hostile peer), the output is garbage but every access stays inside
 * the fragments, whose lengths were checked at init.
 */
#include <errno.h>
#include <string.h>
#include "offload.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

static void put_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static bool is_gso(const struct unm_gso *g)
{
	return g->info.hdr.gso_type != UNM_VNET_GSO_NONE;
}

/* The info must be what unm_vnet_parse() produces for this chain: the
 * iterator relies on it for every bound, so recheck the invariants. */
static bool info_sane(const struct unm_vnet_info *vi, size_t len)
{
	if (vi->frame_len != len || vi->frame_len < 14 || len > INT32_MAX)
		return false;
	if (vi->hdr.gso_type == UNM_VNET_GSO_NONE) {
		if (!(vi->hdr.flags & UNM_VNET_F_NEEDS_CSUM))
			return true;
		return vi->hdr.csum_start < len &&
		       (size_t)vi->hdr.csum_start + vi->hdr.csum_offset + 2 <= len;
	}
	if (vi->l3_off < 14 || vi->l4_off <= vi->l3_off ||
	    vi->payload_off <= vi->l4_off || vi->payload_off > UNM_GSO_HDR_MAX ||
	    vi->payload_off >= len || vi->payload_len != len - vi->payload_off ||
	    vi->hdr.gso_size == 0 || (vi->l4_proto != 6 && vi->l4_proto != 17))
		return false;
	/* header sizes decide which header bytes are read and written */
	if (vi->l3_off != 14 && vi->l3_off != 18)
		return false;
	if (vi->ipv6 ? vi->l4_off - vi->l3_off != 40 :
	    (vi->l4_off - vi->l3_off < 20 || vi->l4_off - vi->l3_off > 60 ||
	     (vi->l4_off - vi->l3_off) % 4))
		return false;
	if (vi->l4_proto == 6 && (vi->payload_off - vi->l4_off < 20 ||
				  vi->payload_off - vi->l4_off > 60 ||
				  (vi->payload_off - vi->l4_off) % 4))
		return false;
	if (vi->l4_proto == 17 && vi->payload_off - vi->l4_off != 8)
		return false;
	return vi->nsegs == (vi->payload_len + vi->hdr.gso_size - 1) /
			    vi->hdr.gso_size;
}

int unm_gso_init(struct unm_gso *g, const struct unm_vnet_info *info,
		 const struct unm_frag *f, unsigned nf)
{
	size_t len = unm_frags_len(f, nf);

	if (!info_sane(info, len))
		return -EINVAL;
	memset(g, 0, offsetof(struct unm_gso, hdr));
	g->in = f;
	g->nin = nf;
	g->info = *info;
	if (!is_gso(g))
		return 0;
	if (unm_frags_read(f, nf, 0, g->hdr, info->payload_off) !=
	    info->payload_off)
		return -EINVAL;
	/* input cursor at the first payload byte */
	g->cur_off = info->payload_off;
	while (g->cur_frag < nf && g->cur_off >= f[g->cur_frag].len)
		g->cur_off -= f[g->cur_frag++].len;
	if (info->ipv6 == 0)
		g->ip_id = (uint16_t)(g->hdr[info->l3_off + 4] << 8 |
				      g->hdr[info->l3_off + 5]);
	if (info->l4_proto == 6) {
		g->seq = be32(g->hdr + info->l4_off + 4);
		g->tcp_flags = g->hdr[info->l4_off + 13];
	}
	return 0;
}

static size_t seg_payload(const struct unm_gso *g)
{
	uint32_t left = g->info.payload_len - g->done;

	return left < g->info.hdr.gso_size ? left : g->info.hdr.gso_size;
}

size_t unm_gso_peek_len(const struct unm_gso *g)
{
	if (g->seg >= g->info.nsegs)
		return 0;
	if (!is_gso(g))
		return g->info.frame_len;
	return g->info.payload_off + seg_payload(g);
}

/* Move the input cursor forward by n bytes. */
static void cursor_advance(struct unm_gso *g, size_t n)
{
	g->cur_off += n;
	while (g->cur_frag < g->nin && g->cur_off >= g->in[g->cur_frag].len)
		g->cur_off -= g->in[g->cur_frag++].len;
}

size_t unm_gso_skip(struct unm_gso *g)
{
	size_t n = unm_gso_peek_len(g), p;

	if (n == 0)
		return 0;
	if (is_gso(g)) {
		p = seg_payload(g);
		cursor_advance(g, p);
		g->done += (uint32_t)p;
	}
	g->seg++;
	return n;
}

/*
 * Copy len payload bytes from the input cursor to the output chain at
 * byte ooff, adding them to sum (the first byte at an even offset of the
 * checksummed data: L4 headers have even lengths). Each piece is summed
 * while it is in L1 right before it is copied.
 */
static uint32_t copy_sum(struct unm_gso *g, const struct unm_frag *out,
			 unsigned nout, size_t ooff, size_t len, uint32_t sum)
{
	unsigned oi = 0;
	size_t pos = 0;

	while (oi < nout && ooff >= out[oi].len)
		ooff -= out[oi++].len;
	while (pos < len && oi < nout && g->cur_frag < g->nin) {
		const struct unm_frag *in = &g->in[g->cur_frag];
		const uint8_t *src = (const uint8_t *)in->ptr + g->cur_off;
		size_t n = len - pos;
		uint32_t s;

		if (n > in->len - g->cur_off)
			n = in->len - g->cur_off;
		if (n > out[oi].len - ooff)
			n = out[oi].len - ooff;
		if (n == 0) {           /* empty output buffer */
			oi++;
			ooff = 0;
			continue;
		}
		s = unm_csum_partial(src, n, 0);
		sum = unm_csum_add(sum, (pos & 1) ? unm_csum_shift(s) : s);
		memcpy((uint8_t *)out[oi].ptr + ooff, src, n);
		pos += n;
		ooff += n;
		if (ooff == out[oi].len) {
			oi++;
			ooff = 0;
		}
		cursor_advance(g, n);
	}
	return sum;
}

/* Headers of the next GSO segment (plen payload bytes) into h; returns
 * the partial sum of the pseudo-header and the L4 header. */
static uint32_t build_headers(const struct unm_gso *g, uint8_t *h, size_t plen)
{
	const struct unm_vnet_info *vi = &g->info;
	uint8_t *l3 = h + vi->l3_off, *l4 = h + vi->l4_off;
	size_t l4hl = vi->payload_off - vi->l4_off;
	uint32_t l4len = (uint32_t)(l4hl + plen), pseudo;
	bool last = g->seg + 1 == vi->nsegs;
	uint16_t c;

	memcpy(h, g->hdr, vi->payload_off);
	if (!vi->ipv6) {
		size_t ihl = vi->l4_off - vi->l3_off;

		put_be16(l3 + 2, (uint32_t)(ihl + l4len));
		put_be16(l3 + 4, (uint16_t)(g->ip_id + g->seg));
		c = unm_csum_ipv4_hdr(l3, ihl);
		memcpy(l3 + 10, &c, 2);
		pseudo = unm_csum_pseudo_v4(l3 + 12, l3 + 16, vi->l4_proto, l4len);
	} else {
		put_be16(l3 + 4, l4len);
		pseudo = unm_csum_pseudo_v6(l3 + 8, l3 + 24, vi->l4_proto, l4len);
	}
	if (vi->l4_proto == 6) {
		uint8_t fl = g->tcp_flags;

		if (!last)
			fl &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if (g->seg != 0)
			fl &= (uint8_t)~TCP_CWR;
		put_be32(l4 + 4, g->seq + g->done);
		l4[13] = fl;
		l4[16] = l4[17] = 0;
	} else {
		put_be16(l4 + 4, l4len);
		l4[6] = l4[7] = 0;
	}
	return unm_csum_partial(l4, l4hl, pseudo);
}

static int next_gso(struct unm_gso *g, const struct unm_frag *out,
		    unsigned nout)
{
	const struct unm_vnet_info *vi = &g->info;
	size_t plen = seg_payload(g), seglen = vi->payload_off + plen;
	uint8_t *h = out[0].ptr;
	uint32_t sum;
	uint16_t c;

	if (out[0].len < vi->payload_off || unm_frags_len(out, nout) < seglen)
		return -ENOSPC;
	sum = build_headers(g, h, plen);
	sum = copy_sum(g, out, nout, vi->payload_off, plen, sum);
	c = unm_csum_finish(sum);
	if (vi->l4_proto == 17 && c == 0)
		c = 0xffff;
	memcpy(h + vi->l4_off + (vi->l4_proto == 6 ? 16 : 6), &c, 2);
	g->done += (uint32_t)plen;
	g->seg++;
	return (int)seglen;
}

/* Non-GSO: the frame, copied, with NEEDS_CSUM completed in the copy. */
static int next_copy(struct unm_gso *g, const struct unm_frag *out,
		     unsigned nout)
{
	const struct unm_vnet_hdr *h = &g->info.hdr;
	size_t len = g->info.frame_len, done = 0;
	unsigned i;
	uint16_t c = 0;

	if (unm_frags_len(out, nout) < len)
		return -ENOSPC;
	/* summed from the input before the copy: the field holds the
	 * pseudo-header sum, summed as data */
	if (h->flags & UNM_VNET_F_NEEDS_CSUM)
		c = unm_csum_finish(unm_csum_frags(g->in, g->nin, h->csum_start,
						   len - h->csum_start, 0)) ?: 0xffff;
	for (i = 0; i < g->nin && done < len; i++) {
		size_t n = g->in[i].len;

		if (n > len - done)
			n = len - done;
		if (n)
			unm_frags_write(out, nout, done, g->in[i].ptr, n);
		done += n;
	}
	if (h->flags & UNM_VNET_F_NEEDS_CSUM)
		unm_frags_write(out, nout, (size_t)h->csum_start + h->csum_offset,
				&c, 2);
	g->seg++;
	return (int)len;
}

int unm_gso_next_frags(struct unm_gso *g, const struct unm_frag *out,
		       unsigned nout)
{
	if (g->seg >= g->info.nsegs)
		return 0;
	if (nout == 0)
		return -ENOSPC;
	return is_gso(g) ? next_gso(g, out, nout) : next_copy(g, out, nout);
}

int unm_gso_next(struct unm_gso *g, void *buf, size_t size)
{
	struct unm_frag out = { buf, size };

	return unm_gso_next_frags(g, &out, 1);
}

int unm_gso_next_hdr(struct unm_gso *g, void *hbuf, size_t hsize, struct unm_frag *pl,
		     unsigned maxpl, unsigned *npl)
{
	const struct unm_vnet_info *vi = &g->info;
	size_t plen, pos = 0, co = g->cur_off;
	unsigned cf = g->cur_frag, n = 0;
	uint8_t *h = hbuf;
	uint32_t sum;
	uint16_t c;

	*npl = 0;
	if (!is_gso(g))
		return -EINVAL;
	if (g->seg >= vi->nsegs)
		return 0;
	plen = seg_payload(g);
	if (hsize < vi->payload_off)
		return -ENOSPC;
	/* count the pieces first: nothing moves on -ENOSPC */
	while (pos < plen && cf < g->nin) {
		size_t l = g->in[cf].len - co;

		if (l > plen - pos)
			l = plen - pos;
		n += l > 0;
		pos += l;
		co += l;
		if (co >= g->in[cf].len) {
			cf++;
			co = 0;
		}
	}
	if (pos < plen)
		return -EINVAL; /* the chain ends early: cannot happen after init */
	if (n > maxpl)
		return -ENOSPC;
	sum = build_headers(g, h, plen);
	for (pos = 0, n = 0; pos < plen;) {
		const struct unm_frag *in = &g->in[g->cur_frag];
		const uint8_t *src = (const uint8_t *)in->ptr + g->cur_off;
		size_t l = in->len - g->cur_off;

		if (l > plen - pos)
			l = plen - pos;
		if (l) {
			uint32_t s = unm_csum_partial(src, l, 0);

			sum = unm_csum_add(sum, (pos & 1) ? unm_csum_shift(s) : s);
			pl[n].ptr = (void *)(uintptr_t)src;
			pl[n].len = l;
			n++;
		}
		pos += l;
		cursor_advance(g, l);
	}
	c = unm_csum_finish(sum);
	if (vi->l4_proto == 17 && c == 0)
		c = 0xffff;
	memcpy(h + vi->l4_off + (vi->l4_proto == 6 ? 16 : 6), &c, 2);
	g->done += (uint32_t)plen;
	g->seg++;
	*npl = n;
	return (int)(vi->payload_off + plen);
}
