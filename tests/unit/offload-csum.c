// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: Internet checksum helpers of lib/offload: the RFC 1071
 * example, a real IPv4 header with its known checksum, the fast partial
 * sum against a byte-by-byte sum for every length 0..300 at every
 * alignment, fragment chains with odd and empty fragments, TCP/UDP over
 * IPv4 and IPv6 against the test's own pseudo-header sum, RFC 1624
 * incremental updates equal to a recomputation on random data,
 * NEEDS_CSUM completion in place across fragments, and the completion of
 * partial checksums found by parsing a frame (AF_XDP: no checksum state),
 * which leaves complete checksums, fragments, short and lying frames alone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include "unm-offload.h"
#include "../lib/pkt.h"
#include "../lib/test.h"

/* the library's 16-bit result as a host-order number */
static unsigned h16(uint16_t c)
{
	return ntohs(c);
}

static void test_vectors(void)
{
	/* RFC 1071 section 3: sum of 0001 f203 f4f5 f6f7 is ddf2 */
	static const uint8_t rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	/* a real IPv4 header (UDP 192.168.0.1 -> 192.168.0.199), check b861 */
	static const uint8_t iph[] = {
		0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
	};
	uint8_t copy[20];

	T_ASSERT_EQ(h16(unm_csum_fold(unm_csum_partial(rfc, 8, 0))), 0xddf2);
	T_ASSERT_EQ(h16(unm_csum_finish(unm_csum_partial(rfc, 8, 0))), 0x220d);
	T_ASSERT_EQ(h16(unm_csum_fold(unm_csum_partial_naive(rfc, 8, 0))), 0xddf2);
	T_ASSERT_EQ(h16(unm_csum_ipv4_hdr(iph, 20)), 0xb861);
	T_ASSERT(unm_csum_ipv4_hdr_ok(iph, 20));
	memcpy(copy, iph, 20);
	copy[10] = copy[11] = 0;                /* field ignored by the helper */
	T_ASSERT_EQ(h16(unm_csum_ipv4_hdr(copy, 20)), 0xb861);
	T_ASSERT(!unm_csum_ipv4_hdr_ok(copy, 20));
	copy[8] = 0x3f;                         /* TTL decremented */
	T_ASSERT_EQ(h16(unm_csum_ipv4_hdr(copy, 20)), 0xb961);
	/* odd length: last byte padded with zero */
	T_ASSERT_EQ(h16(unm_csum_fold(unm_csum_partial(rfc, 7, 0))), 0xddf2 - 0xf7);
}

static void test_partial(void)
{
	/* long enough for the vector path (256 bytes and more, where the
	 * CPU has it) with every tail and alignment */
	static uint8_t buf[9000];
	uint32_t s = 1;

	t_fill(buf, sizeof(buf), &s);
	for (size_t al = 0; al < 8; al++)
		for (size_t n = 0; n <= 8900; n += n < 600 ? 1 : 1 + t_rand(&s) % 97) {
			uint16_t want = (uint16_t)htons(t_fold(t_sum(buf + al, n, 0)));

			T_ASSERT_EQ(unm_csum_fold(unm_csum_partial(buf + al, n, 0)), want);
			T_ASSERT_EQ(unm_csum_fold(unm_csum_partial_naive(buf + al, n, 0)), want);
		}
	/* a sum that is zero mod 0xffff keeps the non-zero representation
	 * (0xffff) on every path: 0x0001 and 0xfffe words */
	for (size_t n = 0; n < 4096; n += 4) {
		buf[n] = 0x00, buf[n + 1] = 0x01, buf[n + 2] = 0xff, buf[n + 3] = 0xfe;
	}
	T_ASSERT_EQ(unm_csum_fold(unm_csum_partial(buf, 4096, 0)), 0xffff);
	memset(buf, 0, 4096);
	T_ASSERT_EQ(unm_csum_fold(unm_csum_partial(buf, 4096, 0)), 0);
	/* a large buffer of 0xff words: many carries */
	memset(buf, 0xff, sizeof(buf));
	T_ASSERT_EQ(unm_csum_fold(unm_csum_partial(buf, sizeof(buf), 0)), 0xffff);
	/* seeds combine */
	t_fill(buf, sizeof(buf), &s);
	T_ASSERT_EQ(unm_csum_fold(unm_csum_partial(buf + 100, 200,
				  unm_csum_partial(buf, 100, 0))),
		    unm_csum_fold(unm_csum_partial(buf, 300, 0)));
}

static void test_frags(void)
{
	static uint8_t buf[2000];
	struct unm_frag f[16];
	uint32_t s = 7;

	t_fill(buf, sizeof(buf), &s);
	for (int iter = 0; iter < 2000; iter++) {
		size_t total = t_rand(&s) % sizeof(buf), pos = 0, off, len;
		unsigned nf = 0;

		while (pos < total && nf < 15) {   /* odd, even, empty pieces */
			size_t n = t_rand(&s) % 9 == 0 ? 0 : t_rand(&s) % 97;

			if (n > total - pos)
				n = total - pos;
			f[nf].ptr = buf + pos;
			f[nf++].len = n;
			pos += n;
		}
		f[nf].ptr = buf + pos;
		f[nf++].len = total - pos;
		T_ASSERT_EQ(unm_frags_len(f, nf), total);
		off = total ? t_rand(&s) % total : 0;
		len = total - off ? t_rand(&s) % (total - off + 1) : 0;
		T_ASSERT_EQ(unm_csum_fold(unm_csum_frags(f, nf, off, len, 0)),
			    (uint16_t)htons(t_fold(t_sum(buf + off, len, 0))));
		/* read back across fragments */
		uint8_t tmp[2000];
		T_ASSERT_EQ(unm_frags_read(f, nf, off, tmp, len), len);
		T_ASSERT(memcmp(tmp, buf + off, len) == 0);
		T_ASSERT_EQ(unm_frags_read(f, nf, total, tmp, 1), 0);
	}
}

/* TCP/UDP over IPv4 and IPv6 vs the test's own naive pseudo-header sum */
static void test_l4(void)
{
	uint8_t src[16], dst[16], seg[1600];
	uint32_t s = 99;

	for (int iter = 0; iter < 500; iter++) {
		size_t len = 8 + t_rand(&s) % 1500;
		int udp = iter & 1;
		uint8_t proto = udp ? 17 : 6;
		size_t coff = udp ? 6 : 16;
		uint32_t acc;
		uint16_t want;

		if (!udp && len < 20)
			len = 20;
		t_fill(src, 16, &s);
		t_fill(dst, 16, &s);
		t_fill(seg, len, &s);
		seg[coff] = seg[coff + 1] = 0;
		/* v4 */
		acc = t_sum(src, 4, 0) + t_sum(dst, 4, 0) + proto + (uint32_t)len;
		want = (uint16_t)~t_fold(t_sum(seg, len, acc));
		if (udp && want == 0)
			want = 0xffff;
		seg[coff] = 0xaa;               /* the field is ignored */
		T_ASSERT_EQ(h16(unm_csum_tcpudp_v4(src, dst, proto, seg, len)), want);
		seg[coff] = 0;
		/* v6: 32-bit length, next header in the last byte */
		acc = t_sum(src, 16, 0) + t_sum(dst, 16, 0) + proto + (uint32_t)len;
		want = (uint16_t)~t_fold(t_sum(seg, len, acc));
		if (udp && want == 0)
			want = 0xffff;
		T_ASSERT_EQ(h16(unm_csum_tcpudp_v6(src, dst, proto, seg, len)), want);
	}
}

/* RFC 1624: update one 16-bit field / one 32-bit value, compare */
static void test_incremental(void)
{
	uint8_t pkt[64];
	uint32_t s = 1234;

	for (int iter = 0; iter < 20000; iter++) {
		size_t len = 20 + 2 * (t_rand(&s) % 22), pos;
		uint16_t c, o16, n16;
		uint32_t o32, n32;

		t_fill(pkt, len, &s);
		pkt[10] = pkt[11] = 0;
		c = (uint16_t)htons((uint16_t)~t_fold(t_sum(pkt, len, 0)));
		memcpy(pkt + 10, &c, 2);
		pos = 12 + 2 * (t_rand(&s) % ((len - 12) / 2));
		memcpy(&o16, pkt + pos, 2);
		n16 = (uint16_t)t_rand(&s);
		memcpy(pkt + pos, &n16, 2);
		c = unm_csum_update16(c, o16, n16);
		T_ASSERT_EQ(c, unm_csum_ipv4_hdr(pkt, len));
		memcpy(pkt + 10, &c, 2);
		T_ASSERT(unm_csum_fold(unm_csum_partial(pkt, len, 0)) == 0xffff);
		/* a 32-bit value at an even offset (e.g. an address) */
		pos = 12 + 2 * (t_rand(&s) % ((len - 14) / 2));
		memcpy(&o32, pkt + pos, 4);
		n32 = t_rand(&s);
		memcpy(pkt + pos, &n32, 4);
		c = unm_csum_update32(c, o32, n32);
		T_ASSERT_EQ(c, unm_csum_ipv4_hdr(pkt, len));
	}
}

/* virtio NEEDS_CSUM: field holds the pseudo sum; complete over frags */
static void test_complete(void)
{
	struct tpkt t = { .ttl = 64, .seq = 1, .flags = 0x18, .win = 100,
			  .sport = 1000, .dport = 80, .src = { 10, 0, 0, 1 },
			  .dst = { 10, 0, 0, 2 } };
	uint8_t payload[1500], full[1600], part[1600];
	struct unm_frag f[8];
	uint32_t s = 5;

	for (int iter = 0; iter < 400; iter++) {
		size_t plen = t_rand(&s) % 1400, len, l4, pos = 0;
		unsigned nf = 0;

		t.ipv6 = iter & 1;
		t.udp = (iter >> 1) & 1;
		t.tcp_opts = 4 * (t_rand(&s) % 11);
		t_fill(payload, plen, &s);
		len = t_build(&t, payload, plen, full, T_CSUM_FULL);
		t_build(&t, payload, plen, part, T_CSUM_PARTIAL);
		l4 = t_l4_off(&t);
		for (int k = 0; k < 7 && pos < len; k++) {
			size_t n = 1 + t_rand(&s) % 120;

			if (n > len - pos)
				n = len - pos;
			f[nf].ptr = part + pos;
			f[nf++].len = n;
			pos += n;
		}
		f[nf].ptr = part + pos;
		f[nf++].len = len - pos;
		T_ASSERT_EQ(unm_csum_complete(f, nf, l4, t.udp ? 6 : 16), 0);
		if (!t.udp && full[l4 + 16] == 0 && full[l4 + 17] == 0)
			full[l4 + 16] = full[l4 + 17] = 0xff;  /* 0 stored as 0xffff */
		T_ASSERT(memcmp(full, part, len) == 0);
	}
	T_ASSERT_EQ(unm_csum_complete(f, 1, f[0].len - 1, 0), -EINVAL);
	T_ASSERT_EQ(unm_csum_complete(f, 1, 0, f[0].len), -EINVAL);
	T_ASSERT_EQ(unm_csum_complete(f, 1, 0, SIZE_MAX), -EINVAL);
}

/* unm_csum_fix_partial: a partial checksum becomes the full one; full
 * ones, IPv4 fragments and frames whose lengths lie are left as they are */
static void test_fix_partial(void)
{
	struct tpkt t = { .ttl = 64, .seq = 7, .flags = 0x10, .win = 512,
			  .sport = 4000, .dport = 5201, .src = { 10, 0, 0, 1 },
			  .dst = { 10, 0, 0, 2 } };
	uint8_t payload[1500], full[1600], part[1600], copy[1600];
	uint32_t s = 77;

	for (int iter = 0; iter < 800; iter++) {
		size_t plen = t_rand(&s) % 1400, len, l4, pad = iter % 3 ? 0 : 10;

		t.ipv6 = iter & 1;
		t.udp = (iter >> 1) & 1;
		t.vlan = (iter >> 2) & 1 ? 100 : 0;
		t.tcp_opts = 4 * (t_rand(&s) % 11);
		t.ip_opts = t.ipv6 ? 0 : 4 * (t_rand(&s) % 3);
		t.frag = 0x4000;
		t_fill(payload, plen, &s);
		len = t_build(&t, payload, plen, full, T_CSUM_FULL);
		t_build(&t, payload, plen, part, T_CSUM_PARTIAL);
		l4 = t_l4_off(&t);
		/* Ethernet padding after the IP packet is not summed */
		memset(full + len, 0xab, pad);
		memset(part + len, 0xab, pad);
		T_ASSERT_EQ(unm_csum_fix_partial(part, len + pad), 1);
		if (full[l4 + (t.udp ? 6 : 16)] == 0 && full[l4 + (t.udp ? 7 : 17)] == 0)
			full[l4 + (t.udp ? 6 : 16)] = full[l4 + (t.udp ? 7 : 17)] = 0xff;
		T_ASSERT(memcmp(full, part, len + pad) == 0);
		/* a complete checksum: untouched */
		memcpy(copy, full, len + pad);
		T_ASSERT_EQ(unm_csum_fix_partial(copy, len + pad), 0);
		T_ASSERT(memcmp(copy, full, len + pad) == 0);
		/* lengths beyond the frame: untouched */
		t_build(&t, payload, plen, part, T_CSUM_PARTIAL);
		memcpy(copy, part, len);
		T_ASSERT_EQ(unm_csum_fix_partial(copy, len - 1), 0);
		T_ASSERT(memcmp(copy, part, len) == 0);
		for (size_t cut = 0; cut < t_hdrs(&t); cut++)
			T_ASSERT_EQ(unm_csum_fix_partial(copy, cut), 0);
		if (!t.ipv6) {
			/* a fragment's checksum covers the datagram: untouched */
			t.frag = 0x2000;
			len = t_build(&t, payload, plen, part, T_CSUM_PARTIAL);
			memcpy(copy, part, len);
			T_ASSERT_EQ(unm_csum_fix_partial(copy, len), 0);
			T_ASSERT(memcmp(copy, part, len) == 0);
		}
	}
}

int main(void)
{
	t_watchdog(30);
	test_vectors();
	test_partial();
	test_frags();
	test_l4();
	test_incremental();
	test_complete();
	test_fix_partial();
	printf("ok\n");
	return 0;
}
