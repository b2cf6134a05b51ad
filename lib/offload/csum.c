// SPDX-License-Identifier: BSD-2-Clause
/*
 * csum.c - Internet checksum (RFC 1071) helpers: fast partial sums,
 * fragment chains, IPv4 header, TCP/UDP over IPv4/IPv6, incremental
 * update (RFC 1624) and virtio NEEDS_CSUM completion.
 *
 * Stateless and thread-safe; see offload.h for the byte-order rules.
 * The sums are computed in memory order: the ones'-complement sum is
 * invariant under byte swapping (RFC 1071 2.(B)), so adding native
 * 64-bit loads and folding gives the memory image of the big-endian
 * result on any host, and no byte swap is needed on the fast path.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include "offload.h"

size_t unm_frags_len(const struct unm_frag *f, unsigned nf)
{
	size_t n = 0;

	for (unsigned i = 0; i < nf; i++)
		n += f[i].len;
	return n;
}

/* Move (*i, *off) forward to the fragment holding byte off of the chain.
 * Returns false if the chain ends before it. */
static bool frags_seek(const struct unm_frag *f, unsigned nf, size_t off,
		       unsigned *i, size_t *in_off)
{
	unsigned k = 0;

	while (k < nf && off >= f[k].len) {
		off -= f[k].len;
		k++;
	}
	*i = k;
	*in_off = off;
	return k < nf;
}

/* Copy LEN bytes between the fragments at offset OFF and BUF, in the
 * direction OUT says (true: fragments -> BUF); stops at the chain's end. */
static size_t frags_copy(const struct unm_frag *f, unsigned nf, size_t off,
			 uint8_t *buf, size_t len, bool out)
{
	unsigned i;
	size_t o, done = 0;

	if (!frags_seek(f, nf, off, &i, &o))
		return 0;
	for (; i < nf && done < len; i++, o = 0) {
		size_t n = f[i].len - o;
		uint8_t *p;

		if (n > len - done)
			n = len - done;
		if (n == 0)             /* empty fragments may have ptr NULL */
			continue;
		p = (uint8_t *)f[i].ptr + o;
		if (out)
			memcpy(buf + done, p, n);
		else
			memcpy(p, buf + done, n);
		done += n;
	}
	return done;
}

size_t unm_frags_read(const struct unm_frag *f, unsigned nf, size_t off,
		      void *dst, size_t len)
{
	return frags_copy(f, nf, off, dst, len, true);
}

size_t unm_frags_write(const struct unm_frag *f, unsigned nf, size_t off,
		       const void *src, size_t len)
{
	/* the fragments are the caller's writable buffers; SRC is only read */
	return frags_copy(f, nf, off, (uint8_t *)(uintptr_t)src, len, false);
}

/* ---- the fast path ----------------------------------------------------- */

#ifdef __SIZEOF_INT128__
/*
 * 64-bit words into a 128-bit accumulator: each addition is add + adc,
 * the carries pile up in the high half and are folded once at the end.
 * Overflow of the high half needs 2^64 additions: impossible.
 */
static uint64_t sum64(const uint8_t *p, size_t len)
{
	unsigned __int128 acc = 0;
	uint64_t w0, w1, w2, w3, r;

	while (len >= 32) {
		memcpy(&w0, p, 8);
		memcpy(&w1, p + 8, 8);
		memcpy(&w2, p + 16, 8);
		memcpy(&w3, p + 24, 8);
		acc += w0;
		acc += w1;
		acc += w2;
		acc += w3;
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		memcpy(&w0, p, 8);
		acc += w0;
		p += 8;
		len -= 8;
	}
	/* tail: 4, 2 and 1 bytes, each piece at an even offset so its 16-bit
	 * words keep their place (2^16 = 1 in the ones'-complement sum, so
	 * a 32-bit load adds its two words whatever the byte order). Fixed
	 * loads, not a variable-length copy into a zeroed word: that one
	 * became a byte loop whose 8-byte reload missed store forwarding,
	 * most of this function's time on 1.5 KB segments. */
	if (len & 4) {
		uint32_t x;

		memcpy(&x, p, 4);
		acc += x;
		p += 4;
	}
	if (len & 2) {
		uint16_t x;

		memcpy(&x, p, 2);
		acc += x;
		p += 2;
	}
	/* an odd last byte is zero-padded at the end (RFC 1071): the
	 * first byte of its word in memory order */
	if (len & 1)
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		acc += (uint32_t)p[0] << 8;
#else
		acc += p[0];
#endif
	r = (uint64_t)acc;
	w1 = (uint64_t)(acc >> 64);
	r += w1;
	return r + (r < w1);
}
#else
/* 32-bit hosts: 32-bit words into a 64-bit accumulator (2^32 additions
 * before it could overflow: more than any buffer we sum). */
static uint64_t sum64(const uint8_t *p, size_t len)
{
	uint64_t acc = 0;
	uint32_t w;

	while (len >= 4) {
		memcpy(&w, p, 4);
		acc += w;
		p += 4;
		len -= 4;
	}
	w = 0;
	if (len)
		memcpy(&w, p, len);
	acc += w;
	return acc;
}
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
/*
 * AVX2: each 64-bit lane of four accumulators takes the low and the high
 * 32-bit halves of the loaded 64-bit words separately (and, shift: no
 * carry chain, so the four run in parallel where the scalar loop is one
 * add-with-carry after another). A lane grows by less than 2^32 per 32
 * bytes, so it cannot overflow below 2^36 bytes. The lanes are then
 * added with end-around carry, which is the same ones'-complement sum
 * as sum64's (RFC 1071: any word size, any order).
 */
__attribute__((target("avx2"))) static uint64_t sum64_avx2(const uint8_t *p, size_t len)
{
	const __m256i lo32 = _mm256_set1_epi64x(0xffffffff);
	__m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
	uint64_t l[4], r = 0, t;

	while (len >= 64) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
		__m256i w = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));

		a0 = _mm256_add_epi64(a0, _mm256_and_si256(v, lo32));
		a1 = _mm256_add_epi64(a1, _mm256_srli_epi64(v, 32));
		a2 = _mm256_add_epi64(a2, _mm256_and_si256(w, lo32));
		a3 = _mm256_add_epi64(a3, _mm256_srli_epi64(w, 32));
		p += 64;
		len -= 64;
	}
	a0 = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
	_mm256_storeu_si256((__m256i *)(void *)l, a0);
	for (unsigned i = 0; i < 4; i++) {
		r += l[i];
		r += r < l[i];
	}
	t = sum64(p, len);
	r += t;
	return r + (r < t);
}

static int csum_avx2 = -1;    /* -1: not asked yet; a benign race (same answer) */

static uint64_t sum64_best(const uint8_t *p, size_t len)
{
	if (len < 256)            /* the vector set-up and fold cost more */
		return sum64(p, len);
	if (__builtin_expect(csum_avx2 < 0, 0)) {
		__builtin_cpu_init();
		csum_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
	}
	return csum_avx2 ? sum64_avx2(p, len) : sum64(p, len);
}
#else
#define sum64_best sum64
#endif

uint32_t unm_csum_partial(const void *buf, size_t len, uint32_t sum)
{
	uint64_t s = sum64_best(buf, len);
	uint32_t lo, hi;

	lo = (uint32_t)s;
	hi = (uint32_t)(s >> 32);
	return unm_csum_add(unm_csum_add(lo, hi), sum);
}

uint32_t unm_csum_partial_naive(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint32_t acc = 0;

	/* big-endian 16-bit words, one byte at a time */
	for (size_t i = 0; i < len; i++) {
		acc += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
		acc = (acc & 0xffff) + (acc >> 16);
	}
	/* back to memory order, to combine with the fast path's sums */
	acc = htons((uint16_t)acc);
	return unm_csum_add(acc, sum);
}

uint32_t unm_csum_frags(const struct unm_frag *f, unsigned nf, size_t off,
			size_t len, uint32_t sum)
{
	unsigned i;
	size_t o, pos = 0;

	if (!frags_seek(f, nf, off, &i, &o))
		return sum;
	for (; i < nf && pos < len; i++, o = 0) {
		size_t n = f[i].len - o;
		uint32_t s;

		if (n > len - pos)
			n = len - pos;
		if (n == 0)
			continue;
		s = unm_csum_partial((const uint8_t *)f[i].ptr + o, n, 0);
		/* this piece starts at an odd offset of the sum: its words
		 * straddle ours, so its folded sum is byte-swapped */
		if (pos & 1)
			s = unm_csum_shift(s);
		sum = unm_csum_add(sum, s);
		pos += n;
	}
	return sum;
}

/* ---- protocol helpers -------------------------------------------------- */

uint16_t unm_csum_ipv4_hdr(const void *iph, size_t hlen)
{
	uint16_t check;
	uint32_t s = unm_csum_partial(iph, hlen, 0);

	/* subtract the stored checksum: adding its complement */
	memcpy(&check, (const uint8_t *)iph + 10, 2);
	return unm_csum_finish(unm_csum_add(s, (uint16_t)~check));
}

bool unm_csum_ipv4_hdr_ok(const void *iph, size_t hlen)
{
	return unm_csum_fold(unm_csum_partial(iph, hlen, 0)) == 0xffff;
}

uint32_t unm_csum_pseudo_v4(const void *saddr, const void *daddr,
			    uint8_t proto, uint32_t l4len)
{
	uint32_t a, b;
	uint64_t s;

	memcpy(&a, saddr, 4);
	memcpy(&b, daddr, 4);
	/* words {0, proto} and {len} in memory order: htons() of each */
	s = (uint64_t)a + b + htons(proto) + htons((uint16_t)l4len);
	s = (s & 0xffffffff) + (s >> 32);
	return (uint32_t)s + (uint32_t)(s >> 32);
}

uint32_t unm_csum_pseudo_v6(const void *saddr, const void *daddr,
			    uint8_t proto, uint32_t l4len)
{
	/* addresses, 32-bit length, 24 zero bits, next header */
	uint32_t s = unm_csum_partial(saddr, 16, 0);

	s = unm_csum_partial(daddr, 16, s);
	s = unm_csum_add(s, htonl(l4len));
	return unm_csum_add(s, htonl(proto));
}

static uint16_t l4_finish(uint32_t s, uint8_t proto, const void *l4,
			  size_t l4len)
{
	size_t coff = proto == 6 ? 16 : 6;
	uint16_t check = 0, r;

	if (l4len >= coff + 2)
		memcpy(&check, (const uint8_t *)l4 + coff, 2);
	s = unm_csum_partial(l4, l4len, s);
	r = unm_csum_finish(unm_csum_add(s, (uint16_t)~check));
	return (proto == 17 && r == 0) ? 0xffff : r;
}

uint16_t unm_csum_tcpudp_v4(const void *saddr, const void *daddr,
			    uint8_t proto, const void *l4, size_t l4len)
{
	return l4_finish(unm_csum_pseudo_v4(saddr, daddr, proto, (uint32_t)l4len),
			 proto, l4, l4len);
}

uint16_t unm_csum_tcpudp_v6(const void *saddr, const void *daddr,
			    uint8_t proto, const void *l4, size_t l4len)
{
	return l4_finish(unm_csum_pseudo_v6(saddr, daddr, proto, (uint32_t)l4len),
			 proto, l4, l4len);
}

uint16_t unm_csum_update16(uint16_t check, uint16_t old_v, uint16_t new_v)
{
	uint32_t s = (uint32_t)(uint16_t)~check + (uint16_t)~old_v + new_v;

	return unm_csum_finish(s);
}

uint16_t unm_csum_update32(uint16_t check, uint32_t old_v, uint32_t new_v)
{
	uint32_t o = ~old_v;
	uint64_t s = (uint64_t)(uint16_t)~check + (o & 0xffff) + (o >> 16) +
		     (new_v & 0xffff) + (new_v >> 16);

	return unm_csum_finish((uint32_t)s);
}

int unm_csum_complete(const struct unm_frag *f, unsigned nf,
		      size_t csum_start, size_t csum_offset)
{
	size_t len = unm_frags_len(f, nf);
	size_t field = csum_start + csum_offset;
	uint16_t c;

	if (len < 2 || csum_start >= len || field < csum_start || field > len - 2)
		return -EINVAL;
	/* the field holds the pseudo-header sum: it is summed as data */
	c = unm_csum_finish(unm_csum_frags(f, nf, csum_start,
					   len - csum_start, 0));
	/* 0 and 0xffff are the same ones'-complement value; 0 would mean
	 * "no checksum" to UDP (Linux's skb_checksum_help does the same) */
	if (c == 0)
		c = 0xffff;
	unm_frags_write(f, nf, field, &c, 2);
	return 0;
}

int unm_csum_fix_partial(void *buf, size_t len)
{
	uint8_t *b = buf;
	size_t l3 = 14, l4, l4len, off;
	uint16_t et, field;
	uint32_t ps;
	uint8_t proto;
	struct unm_frag f;

	if (len < 14)
		return 0;
	et = (uint16_t)(b[12] << 8 | b[13]);
	if (et == 0x8100 || et == 0x88a8) {
		if (len < 18)
			return 0;
		et = (uint16_t)(b[16] << 8 | b[17]);
		l3 = 18;
	}
	if (et == 0x0800) {
		size_t ihl, tot;

		if (len < l3 + 20 || (b[l3] >> 4) != 4)
			return 0;
		ihl = (size_t)(b[l3] & 15) * 4;
		tot = (size_t)(b[l3 + 2] << 8 | b[l3 + 3]);
		if (ihl < 20 || tot < ihl || tot > len - l3)
			return 0;
		if ((b[l3 + 6] & 0x3f) || b[l3 + 7])
			return 0; /* a fragment: its checksum covers the whole datagram */
		proto = b[l3 + 9];
		l4 = l3 + ihl;
		l4len = tot - ihl;
		ps = unm_csum_pseudo_v4(b + l3 + 12, b + l3 + 16, proto, (uint32_t)l4len);
	} else if (et == 0x86dd) {
		if (len < l3 + 40 || (b[l3] >> 4) != 6)
			return 0;
		l4len = (size_t)(b[l3 + 4] << 8 | b[l3 + 5]);
		if (l4len > len - l3 - 40)
			return 0;
		proto = b[l3 + 6];
		l4 = l3 + 40;
		ps = unm_csum_pseudo_v6(b + l3 + 8, b + l3 + 24, proto, (uint32_t)l4len);
	} else {
		return 0;
	}
	if (proto == 6 && l4len >= 20)
		off = 16;
	else if (proto == 17 && l4len >= 8)
		off = 6;
	else
		return 0;
	memcpy(&field, b + l4 + off, 2);
	if (field != unm_csum_fold(ps))
		return 0;
	f.ptr = b;
	f.len = l4 + l4len;
	return unm_csum_complete(&f, 1, l4, off) == 0;
}
