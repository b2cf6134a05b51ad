// SPDX-License-Identifier: BSD-2-Clause
/*
 * vnet_fuzz.c - fuzz target for the virtio-net header parser and the
 * software segmenter (lib/offload).
 *
 * Input: [ctl][12 header bytes][frame]. ctl bit 0 picks the 12-byte
 * (set) or 10-byte header; ctl >> 1 seeds how the frame is cut into
 * fragments (0: one fragment). Each fragment and each output buffer is
 * its own exact-size heap block, so ASan sees any access outside them.
 * If the parser accepts the frame, every segment is written into a chain
 * of small output buffers and checked: length as announced, IPv4 header
 * checksum, IP lengths, TCP/UDP checksum verifies, payload adds up. Then
 * the NEEDS_CSUM completion runs in place on the input. Last, the whole
 * frame (one exact-size block) goes through unm_csum_fix_partial() (the
 * AF_XDP RX parser of untrusted frames), twice: the second pass must
 * change nothing (a completed checksum is left alone).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "unm-offload.h"

#define MAXF 64
#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static unsigned cut(const uint8_t *d, size_t len, unsigned seed,
		    struct unm_frag *f)
{
	size_t pos = 0;
	unsigned nf = 0;
	uint32_t x = seed * 2654435761u + 1;

	while (nf + 1 < MAXF && pos < len && seed) {
		size_t n;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		n = x % 67;                     /* 0..66: empty and odd pieces */
		if (n > len - pos)
			n = len - pos;
		f[nf].ptr = n ? malloc(n) : NULL;   /* empty: no buffer at all */
		if (n)
			memcpy(f[nf].ptr, d + pos, n);
		f[nf++].len = n;
		pos += n;
	}
	f[nf].ptr = malloc(len - pos ? len - pos : 1);
	memcpy(f[nf].ptr, d + pos, len - pos);
	f[nf++].len = len - pos;
	return nf;
}

/* Invariants of one GSO segment in seg[0..len). */
static void check_seg(const struct unm_vnet_info *vi, const uint8_t *seg,
		      size_t len, size_t plen)
{
	const uint8_t *l3 = seg + vi->l3_off, *l4 = seg + vi->l4_off;
	size_t l4len = len - vi->l4_off;
	uint32_t s;

	CHECK(len == vi->payload_off + plen);
	if (!vi->ipv6) {
		CHECK(unm_csum_ipv4_hdr_ok(l3, vi->l4_off - vi->l3_off));
		CHECK((size_t)(l3[2] << 8 | l3[3]) == len - vi->l3_off);
		s = unm_csum_pseudo_v4(l3 + 12, l3 + 16, vi->l4_proto, (uint32_t)l4len);
	} else {
		CHECK((size_t)(l3[4] << 8 | l3[5]) == l4len);
		s = unm_csum_pseudo_v6(l3 + 8, l3 + 24, vi->l4_proto, (uint32_t)l4len);
	}
	if (vi->l4_proto == 17)
		CHECK((size_t)(l4[4] << 8 | l4[5]) == l4len);
	CHECK(unm_csum_fold(unm_csum_partial(l4, l4len, s)) == 0xffff);
}

/* Write one segment into a chain of small heap buffers, gather it back. */
static int emit(struct unm_gso *g, uint8_t *flat, size_t want, unsigned seed)
{
	struct unm_frag out[MAXF] = { { 0 } };
	unsigned nout = 0;
	size_t pos = 0, first = g->info.payload_off + seed % 7;
	int r;

	while (pos < want && nout + 1 < MAXF) {
		size_t n = nout == 0 ? first : 1 + (seed + nout * 131) % 1500;

		if (n > want - pos)
			n = want - pos;
		out[nout].ptr = n ? malloc(n) : NULL;
		out[nout++].len = n;
		pos += n;
	}
	if (pos < want) {
		out[nout].ptr = malloc(want - pos);
		out[nout++].len = want - pos;
	}
	r = unm_gso_next_frags(g, out, nout);
	if (r > 0)
		CHECK(unm_frags_read(out, nout, 0, flat, (size_t)r) == (size_t)r);
	for (unsigned i = 0; i < nout; i++)
		free(out[i].ptr);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct unm_frag f[MAXF];
	struct unm_vnet_info vi;
	enum unm_vnet_drop why;
	struct unm_gso g;
	unsigned nf, hlen;
	uint8_t hdr[12], *flat = NULL;

	if (size < 13)
		return 0;
	hlen = data[0] & 1 ? 12 : 10;
	memcpy(hdr, data + 1, 12);
	nf = cut(data + 13, size - 13, data[0] >> 1, f);
	if (unm_vnet_parse(hdr, hlen, f, nf, &vi, &why) == 0) {
		size_t total = 0, n;
		int r;

		CHECK(why == UNM_VNET_OK);
		CHECK(unm_gso_init(&g, &vi, f, nf) == 0);
		flat = malloc(vi.frame_len + UNM_GSO_HDR_MAX);
		CHECK(flat != NULL);
		for (uint32_t i = 0; (n = unm_gso_peek_len(&g)) != 0; i++) {
			CHECK(i < vi.nsegs);
			/* one byte short: refused, nothing consumed */
			CHECK(emit(&g, flat, n - 1, i) == -ENOSPC);
			CHECK(unm_gso_peek_len(&g) == n);
			if (vi.nsegs > 4 && i % 3 == 1) {
				CHECK(unm_gso_skip(&g) == n);
				total += n - vi.payload_off;
				continue;
			}
			r = emit(&g, flat, n, data[0] + i);
			CHECK(r == (int)n);
			if (vi.hdr.gso_type != UNM_VNET_GSO_NONE) {
				check_seg(&vi, flat, n, n - vi.payload_off);
				total += n - vi.payload_off;
			}
		}
		if (vi.hdr.gso_type != UNM_VNET_GSO_NONE)
			CHECK(total == vi.payload_len);
		CHECK(unm_gso_next(&g, flat, 1) == 0);
		if (vi.hdr.flags & UNM_VNET_F_NEEDS_CSUM)
			CHECK(unm_csum_complete(f, nf, vi.hdr.csum_start,
						vi.hdr.csum_offset) == 0);
	} else {
		CHECK(why != UNM_VNET_OK && why < UNM_VNET_DROP__COUNT);
	}
	free(flat);
	for (unsigned i = 0; i < nf; i++)
		free(f[i].ptr);
	{
		size_t fl = size - 13;
		uint8_t *b = malloc(fl ? fl : 1), *c = malloc(fl ? fl : 1);
		int r;

		CHECK(b != NULL && c != NULL);
		memcpy(b, data + 13, fl);
		r = unm_csum_fix_partial(b, fl);
		CHECK(r == 0 || r == 1);
		memcpy(c, b, fl);
		(void)unm_csum_fix_partial(b, fl);
		CHECK(memcmp(b, c, fl) == 0);
		free(b);
		free(c);
	}
	return 0;
}
