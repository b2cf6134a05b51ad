// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: unm-pktgen's frame builder makes valid frames: Ethernet,
 * IPv4 or IPv6, UDP with the right lengths, addresses and ports, an IPv4
 * header checksum and a UDP checksum that an independent byte-by-byte
 * RFC 1071 computation here accepts (with and without a virtio-net
 * header, fixed and random lengths); -l ranges stay in range and reach
 * both ends; address/port ranges are walked in order and random ones stay
 * inside; pong's swap keeps checksums valid; the rxseq checker counts
 * lost, out-of-order and duplicate frames; -s/-d/-S parsing.
 * The tool's sources are compiled in (they have no main()).
 */
#include <arpa/inet.h>
#include "../../tools/unm-pktgen/frame.c"
#include "../../tools/unm-pktgen/args.c"
#include "../../tools/unm-pktgen/stats.c"
#include "../lib/test.h"

/* Independent reference: sum big-endian 16-bit words byte by byte. */
static uint32_t ref_sum(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 2)
		s += (uint32_t)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
	return s;
}

static uint16_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Check one frame of LEN bytes (vnet header included); returns seq. */
static uint64_t check_frame(const struct pg_frame_cfg *c, const uint8_t *buf, unsigned len,
			    bool want_csum)
{
	const uint8_t *f = buf + c->vnet_hdr_len;
	unsigned flen = len - c->vnet_hdr_len, l4, ulen;
	uint32_t s;

	for (unsigned i = 0; i < c->vnet_hdr_len; i++)
		T_ASSERT_EQ(buf[i], 0);
	T_ASSERT(!memcmp(f, c->dmac, 6));
	T_ASSERT(!memcmp(f + 6, c->smac, 6));
	if (c->v6) {
		T_ASSERT_EQ(be16(f + 12), 0x86dd);
		T_ASSERT_EQ(f[14] >> 4, 6);
		T_ASSERT_EQ(be16(f + 18), flen - 54);
		T_ASSERT_EQ(f[20], 17);
		l4 = 54;
		s = ref_sum(0, f + 22, 32);  /* pseudo header: addresses */
	} else {
		T_ASSERT_EQ(be16(f + 12), 0x0800);
		T_ASSERT_EQ(f[14], 0x45);
		T_ASSERT_EQ(be16(f + 16), flen - 14);
		T_ASSERT_EQ(f[23], 17);
		T_ASSERT(f[22] > 0);
		/* a correct header sums to 0xffff including its checksum */
		T_ASSERT_EQ(ref_fold(ref_sum(0, f + 14, 20)), 0xffff);
		l4 = 34;
		s = ref_sum(0, f + 26, 8);
	}
	ulen = flen - l4;
	T_ASSERT_EQ(be16(f + l4 + 4), ulen);
	if (!want_csum) {
		T_ASSERT_EQ(be16(f + l4 + 6), 0);
	} else {
		T_ASSERT(be16(f + l4 + 6) != 0);
		s += 17 + ulen;
		s = ref_sum(s, f + l4, ulen);
		T_ASSERT_EQ(ref_fold(s), 0xffff);
	}
	uint64_t seq = 0;

	if (c->payload != PG_PAY_NONE)
		memcpy(&seq, f + l4 + 8, 8);
	return seq;
}

static void cfg_init(struct pg_frame_cfg *c, bool v6, int payload, unsigned vnet,
		     unsigned lmin, unsigned lmax, bool csum)
{
	char err[128];

	memset(c, 0, sizeof(*c));
	c->v6 = v6;
	c->payload = payload;
	c->vnet_hdr_len = vnet;
	c->len_min = lmin;
	c->len_max = lmax;
	c->csum = csum;
	memset(c->dmac, 0xff, 6);
	memcpy(c->smac, "\x02\x00\x00\x00\x00\x07", 6);
	if (v6) {
		T_ASSERT_EQ(pg_parse_span("[fd00::1]:1000-[fd00::3]:1001", &c->src, err, sizeof(err)), 0);
		T_ASSERT_EQ(pg_parse_span("fd00::a01:1", &c->dst, err, sizeof(err)), 0);
	} else {
		T_ASSERT_EQ(pg_parse_span("10.0.0.1:1000-10.0.0.3:1001", &c->src, err, sizeof(err)), 0);
		T_ASSERT_EQ(pg_parse_span("10.1.0.1:5000", &c->dst, err, sizeof(err)), 0);
	}
}

static void run_frames(bool v6, unsigned vnet, unsigned lmin, unsigned lmax, bool csum)
{
	struct pg_frame_cfg c;
	struct pg_gen g;
	uint8_t buf[9100];
	unsigned seen_min = ~0u, seen_max = 0;

	cfg_init(&c, v6, PG_PAY_SEQ, vnet, lmin, lmax, csum);
	T_ASSERT_EQ(pg_gen_init(&g, &c, 42), 0);
	for (uint64_t i = 0; i < 20000; i++) {
		unsigned len = pg_gen_len(&g);
		const uint8_t *f = buf + vnet;
		unsigned l3 = 14, sip_ofs = v6 ? l3 + 20 : l3 + 12, l4 = v6 ? 54 : 34;

		T_ASSERT(len >= lmin + vnet && len <= lmax + vnet);
		seen_min = len < seen_min ? len : seen_min;
		seen_max = len > seen_max ? len : seen_max;
		pg_gen_write(&g, buf, len, i * 3, 0);
		T_ASSERT_EQ(check_frame(&c, buf, len, csum), i * 3);
		/* src walk: port fastest over 1000..1001, then address 1..3 */
		T_ASSERT_EQ(be16(f + l4), 1000 + i % 2);
		T_ASSERT_EQ(be32(f + sip_ofs) & 0xff, 1 + (i / 2) % 3);
	}
	if (lmin != lmax) {
		T_ASSERT_EQ(seen_min, lmin + vnet);
		T_ASSERT_EQ(seen_max, lmax + vnet);
	}
	/* pong swap keeps both checksums valid */
	unsigned len = pg_gen_len(&g);

	pg_gen_write(&g, buf, len, 7, 0);
	pg_swap(buf, len, vnet);
	T_ASSERT(!memcmp(buf + vnet, c.smac, 6));
	memcpy(c.dmac, c.smac, 6);
	memset(c.smac, 0xff, 6);
	T_ASSERT_EQ(check_frame(&c, buf, len, csum), 7);
	uint64_t seq = 0;

	T_ASSERT(pg_parse(buf, len, vnet, &seq, NULL) > 0);
	T_ASSERT_EQ(seq, 7);
	pg_gen_free(&g);
}

static void test_random_and_fixed(void)
{
	struct pg_frame_cfg c;
	struct pg_gen g;
	uint8_t buf[2048], first[2048];

	cfg_init(&c, false, PG_PAY_NONE, 0, 60, 60, false);
	c.rand_src = true;
	T_ASSERT_EQ(pg_gen_init(&g, &c, 1), 0);
	for (int i = 0; i < 5000; i++) {
		pg_gen_write(&g, buf, 60, 0, 0);
		check_frame(&c, buf, 60, false);
		uint32_t sip = be32(buf + 26);

		T_ASSERT(sip >= 0x0a000001 && sip <= 0x0a000003);
		T_ASSERT(be16(buf + 34) == 1000 || be16(buf + 34) == 1001);
	}
	pg_gen_free(&g);
	/* nothing varies: every frame is the template, checksums included */
	cfg_init(&c, false, PG_PAY_NONE, 10, 128, 128, true);
	c.src.ip_hi = c.src.ip_lo;
	c.src.port_hi = c.src.port_lo;
	T_ASSERT_EQ(pg_gen_init(&g, &c, 1), 0);
	T_ASSERT(g.fixed);
	pg_gen_write(&g, first, 138, 0, 0);
	check_frame(&c, first, 138, true);
	pg_gen_write(&g, buf, 138, 0, 0);
	T_ASSERT(!memcmp(buf, first, 138));
	pg_gen_free(&g);
	/* too short for the headers */
	cfg_init(&c, true, PG_PAY_PING, 0, 61, 100, false);
	T_ASSERT_EQ(pg_gen_init(&g, &c, 1), -EINVAL);
}

static void test_seq(void)
{
	struct pg_seq s;
	static const uint64_t in[] = { 0, 1, 2, 5, 3, 4, 4, 6, 1 };

	memset(&s, 0, sizeof(s));
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		pg_seq_check(&s, in[i]);
	T_ASSERT_EQ(s.next, 7);
	T_ASSERT_EQ(s.lost, 0);
	T_ASSERT_EQ(s.ooo, 2);
	T_ASSERT_EQ(s.dup, 2);
	/* a gap larger than the window, then one late frame from it */
	pg_seq_check(&s, 7 + 10000);
	T_ASSERT_EQ(s.lost, 10000);
	pg_seq_check(&s, 7 + 9999);
	T_ASSERT_EQ(s.lost, 9999);
	T_ASSERT_EQ(s.ooo, 3);
	pg_seq_check(&s, 7 + 9999);
	T_ASSERT_EQ(s.dup, 3);
	/* in-order stream across many windows: nothing counted */
	memset(&s, 0, sizeof(s));
	for (uint64_t i = 0; i < 3 * PG_SEQ_WINDOW + 17; i++)
		pg_seq_check(&s, i);
	T_ASSERT_EQ(s.lost + s.ooo + s.dup, 0);
}

static void test_parse(void)
{
	struct pg_span sp;
	char err[128];
	uint8_t mac[6];

	T_ASSERT_EQ(pg_parse_span("10.0.0.1", &sp, err, sizeof(err)), 0);
	T_ASSERT(!sp.v6 && sp.ip_lo == 0x0a000001 && sp.ip_hi == sp.ip_lo);
	T_ASSERT_EQ(sp.port_lo, 1234);
	T_ASSERT_EQ(pg_parse_span("10.0.0.1:7-10.0.0.9", &sp, err, sizeof(err)), 0);
	T_ASSERT(sp.ip_hi == 0x0a000009 && sp.port_lo == 7 && sp.port_hi == 7);
	T_ASSERT_EQ(pg_parse_span("[fd00::1]:80-[fd00::ff]:90", &sp, err, sizeof(err)), 0);
	T_ASSERT(sp.v6 && sp.ip_lo == 1 && sp.ip_hi == 0xff && sp.port_hi == 90);
	T_ASSERT_EQ(sp.ip6_hi[0], 0xfd);
	T_ASSERT_EQ(pg_parse_span("10.0.0.9-10.0.0.1", &sp, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "ends before"));
	T_ASSERT_EQ(pg_parse_span("10.0.0.1-fd00::1", &sp, err, sizeof(err)), -1);
	T_ASSERT_EQ(pg_parse_span("fd00::1-fd01::1", &sp, err, sizeof(err)), -1);
	T_ASSERT_EQ(pg_parse_span("10.0.0.1:70000", &sp, err, sizeof(err)), -1);
	T_ASSERT_EQ(pg_parse_span("10.0.0", &sp, err, sizeof(err)), -1);
	T_ASSERT_EQ(pg_parse_mac("02:aa:bb:cc:dd:0e", mac), 0);
	T_ASSERT(!memcmp(mac, "\x02\xaa\xbb\xcc\xdd\x0e", 6));
	T_ASSERT_EQ(pg_parse_mac("02:aa:bb:cc:dd", mac), -1);
	T_ASSERT_EQ(pg_parse_mac("02:aa:bb:cc:dd:0e:ff", mac), -1);
}

int main(void)
{
	t_watchdog(30);
	run_frames(false, 0, 60, 60, false);
	run_frames(false, 0, 60, 60, true);
	run_frames(false, 12, 50, 1514, true);
	run_frames(true, 0, 70, 9000, true);
	run_frames(true, 10, 70, 71, false);
	run_frames(false, 0, 51, 53, true);   /* odd lengths: padded checksum */
	test_random_and_fixed();
	test_seq();
	test_parse();
	printf("ok\n");
	return 0;
}
