// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: software segmentation (lib/offload/gso.c). GSO frames
 * (TCP over IPv4 with IP and TCP options, over IPv6, VLAN-tagged, ECN
 * CWR, FIN/PSH, sequence and IP id wrap-around; UDP_L4 over IPv4 and
 * IPv6; payload a multiple of gso_size or not, or smaller than it) are
 * built by the naive builder of tests/lib/pkt.h, split into random
 * fragments (headers split too, odd and empty pieces), segmented into a
 * flat buffer and into chains of small output buffers, and every segment
 * is compared byte by byte with the segment the builder makes from
 * scratch. Also: NEEDS_CSUM completion of a non-GSO frame while it is
 * copied, -ENOSPC leaves the iterator where it was, skip works.
 *
 * With --write-corpus DIR, also writes seed inputs for tests/fuzz/vnet.
 */
#include <errno.h>
#include <stdint.h>
#include "unm-offload.h"
#include "../lib/pkt.h"
#include "../lib/test.h"

#define MAXF 70000

static uint8_t payload[MAXF], frame[MAXF], expect[MAXF], seg[MAXF];
static uint32_t rs = 42;
static const char *corpus_dir;
static int corpus_n;

/* Seed for tests/fuzz/vnet: [ctl][12-byte vnet header][frame]; ctl bit 0
 * = 12-byte header, ctl >> 1 = how the fuzzer cuts the frame. */
static void write_file(const char *name, uint8_t ctl, const uint8_t *vh,
		       const uint8_t *f, size_t len)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", corpus_dir, name);
	fp = fopen(path, "wb");
	if (!fp)
		T_FAIL("cannot write %s", path);
	fwrite(&ctl, 1, 1, fp);
	fwrite(vh, 1, 12, fp);
	fwrite(f, 1, len, fp);
	fclose(fp);
}

static void write_seed(const uint8_t *vh, const uint8_t *f, size_t len)
{
	static const struct { const char *name; int at; uint8_t v; size_t cut; } bad[] = {
		{ "bad-flags", 0, 0x05, 0 },    { "bad-ufo", 1, 3, 0 },
		{ "bad-gso-size", 4, 0, 0 },    { "bad-csum-start", 6, 0xff, 0 },
		{ "bad-type", 1, 0x86, 0 },     { "bad-short", -1, 0, 30 },
		{ "bad-ipv4-ihl", 13 + 14, 0x43, 0 }, { "bad-l4-proto", 13 + 23, 17, 0 },
	};
	char name[32];
	uint8_t v2[12], f2[256];

	if (!corpus_dir || corpus_n >= 12 || len > 9000)
		return;
	snprintf(name, sizeof(name), "gso-%02d", corpus_n);
	write_file(name, (uint8_t)(corpus_n * 2 + 1), vh, f, len);
	if (corpus_n++ != 0)
		return;
	/* malformed variants of the first (TCPv4) seed */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = bad[i].cut ? bad[i].cut : sizeof(f2);

		memcpy(v2, vh, 12);
		memcpy(f2, f, sizeof(f2));
		if (bad[i].at >= 13)
			f2[bad[i].at - 13] = bad[i].v;
		else if (bad[i].at >= 0)
			v2[bad[i].at] = bad[i].v;
		if (bad[i].at == 4)             /* both bytes of gso_size */
			v2[5] = 0;
		if (bad[i].cut)                 /* short in IP, not in csum range */
			v2[2] = v2[6] = v2[8] = 0;
		write_file(bad[i].name, 1, v2, f2, n);
	}
}

/* Split frame[0..len) into at most maxf fragments at random points,
 * sometimes inside the headers, with odd and empty pieces. */
static unsigned split(uint8_t *buf, size_t len, struct unm_frag *f,
		      unsigned maxf, size_t hdrs)
{
	size_t pos = 0;
	unsigned nf = 0;

	while (pos < len && nf + 1 < maxf) {
		size_t n;

		switch (t_rand(&rs) % 4) {
		case 0: n = t_rand(&rs) % (hdrs + 1); break;     /* in headers */
		case 1: n = 0; break;                           /* empty */
		case 2: n = 1 + t_rand(&rs) % 7; break;         /* tiny, odd */
		default: n = t_rand(&rs) % 3000; break;
		}
		if (n > len - pos)
			n = len - pos;
		f[nf].ptr = buf + pos;
		f[nf++].len = n;
		pos += n;
	}
	f[nf].ptr = buf + pos;
	f[nf++].len = len - pos;
	return nf;
}

/* What segment i must be: the TCP rules applied by the test itself. */
static size_t expected_seg(const struct tpkt *orig, unsigned i, unsigned nsegs,
			   unsigned mss, size_t plen)
{
	struct tpkt t = *orig;
	size_t off = (size_t)i * mss, n = plen - off < mss ? plen - off : mss;

	t.ip_id = (uint16_t)(orig->ip_id + i);
	t.seq = orig->seq + (uint32_t)off;
	if (i + 1 != nsegs)
		t.flags &= (uint8_t)~0x09;      /* FIN, PSH: last only */
	if (i != 0)
		t.flags &= (uint8_t)~0x80;      /* CWR: first only */
	return t_build(&t, payload + off, n, expect, T_CSUM_FULL);
}

/* Segment one frame every way and check every segment. */
static void check_gso(const struct tpkt *t, size_t plen, unsigned mss,
		      uint8_t gso_type)
{
	struct unm_frag in[40], out[40];
	struct unm_vnet_info vi;
	struct unm_gso g;
	enum unm_vnet_drop why;
	unsigned l4 = t_l4_off(t), nsegs = (unsigned)((plen + mss - 1) / mss);
	size_t len;
	uint8_t vh[12];

	t_fill(payload, plen, &rs);
	len = t_build(t, payload, plen, frame, T_CSUM_PARTIAL);
	t_vnet(vh, UNM_VNET_F_NEEDS_CSUM, gso_type, t_hdrs(t), mss, l4,
	       t->udp ? 6 : 16);
	write_seed(vh, frame, len);
	for (int mode = 0; mode < 3; mode++) {
		unsigned nin = 1;

		in[0].ptr = frame;
		in[0].len = len;
		if (mode > 0)
			nin = split(frame, len, in, 40, t_hdrs(t));
		T_ASSERT_EQ(unm_vnet_parse(vh, 12, in, nin, &vi, &why), 0);
		T_ASSERT_EQ(vi.nsegs, nsegs);
		T_ASSERT_EQ(vi.payload_off, t_hdrs(t));
		T_ASSERT_EQ(vi.payload_len, plen);
		T_ASSERT_EQ(unm_gso_init(&g, &vi, in, nin), 0);
		for (unsigned i = 0; i < nsegs; i++) {
			size_t elen = expected_seg(t, i, nsegs, mss, plen);
			int r;

			T_ASSERT_EQ(unm_gso_peek_len(&g), elen);
			if (mode < 2) {
				r = unm_gso_next(&g, seg, sizeof(seg));
			} else {
				/* output chain: headers in the first buffer,
				 * the rest in small odd-sized buffers */
				size_t o = 0;
				unsigned nout = 0;

				while (o < elen + 5 && nout < 40) {
					size_t n = nout == 0 ? t_hdrs(t) + t_rand(&rs) % 3
						 : 1 + t_rand(&rs) % 700;

					if (nout == 39)
						n = elen + 5 - o;
					out[nout].ptr = seg + o;
					out[nout++].len = n;
					o += n;
				}
				memset(seg, 0xee, o);
				r = unm_gso_next_frags(&g, out, nout);
			}
			if (r != (int)elen || memcmp(seg, expect, elen) != 0) {
				for (size_t k = 0; k < elen; k++)
					if (seg[k] != expect[k])
						T_FAIL("mode %d seg %u/%u: byte %zu is %02x, expected %02x",
						       mode, i, nsegs, k, seg[k], expect[k]);
				T_FAIL("mode %d seg %u: length %d, expected %zu", mode, i, r, elen);
			}
		}
		T_ASSERT_EQ(unm_gso_peek_len(&g), 0);
		T_ASSERT_EQ(unm_gso_next(&g, seg, sizeof(seg)), 0);
	}
}

static struct tpkt base(int ipv6, int udp)
{
	struct tpkt t = {
		.ipv6 = ipv6, .udp = udp, .ip_id = 0x1234, .frag = 0x4000,
		.ttl = 64, .seq = 0x10000000, .ack = 0x55667788, .flags = 0x10,
		.win = 512, .sport = 40000, .dport = 5201,
		.src = { 10, 0, 0, 1 }, .dst = { 10, 0, 0, 2 },
	};

	if (ipv6) {
		for (int i = 0; i < 16; i++) {
			t.src[i] = (uint8_t)(0x20 + i);
			t.dst[i] = (uint8_t)(0xfe - i);
		}
	}
	return t;
}

static void test_tcp(void)
{
	struct tpkt t = base(0, 0);

	/* 3 segments, last short, PSH|FIN on the last only */
	t.flags = 0x19;
	check_gso(&t, 4000, 1448, UNM_VNET_GSO_TCPV4);
	/* IP options, TCP timestamps-sized options, VLAN, ECN CWR */
	t.ip_opts = 8;
	t.tcp_opts = 12;
	t.vlan = 0x0064;
	t.flags = 0x98;                         /* CWR|ACK|PSH */
	t.tos = 0x02;
	check_gso(&t, 3 * 1400, 1400, UNM_VNET_GSO_TCPV4 | UNM_VNET_GSO_ECN);
	/* max options, sequence and id wrap-around */
	t.ip_opts = 40;
	t.tcp_opts = 40;
	t.seq = 0xfffff000;
	t.ip_id = 0xfffe;
	t.flags = 0x11;
	check_gso(&t, 9000, 1000, UNM_VNET_GSO_TCPV4);
	/* a 64 KiB frame, odd mss */
	t = base(0, 0);
	t.tcp_opts = 12;
	check_gso(&t, 65535 - 20 - 32, 1447, UNM_VNET_GSO_TCPV4);
	/* payload smaller than gso_size: one segment */
	check_gso(&t, 100, 1448, UNM_VNET_GSO_TCPV4);
	/* one-byte segments */
	check_gso(&t, 17, 1, UNM_VNET_GSO_TCPV4);
	/* IPv6 */
	t = base(1, 0);
	t.tcp_opts = 12;
	t.flags = 0x18;
	check_gso(&t, 20000, 1428, UNM_VNET_GSO_TCPV6);
	t.vlan = 5;
	t.flags = 0x99;
	check_gso(&t, 2 * 1440, 1440, UNM_VNET_GSO_TCPV6 | UNM_VNET_GSO_ECN);
	check_gso(&t, 65535 - 32, 9000, UNM_VNET_GSO_TCPV6);
}

static void test_udp(void)
{
	struct tpkt t = base(0, 1);

	check_gso(&t, 3000, 1000, UNM_VNET_GSO_UDP_L4);
	check_gso(&t, 2500, 1000, UNM_VNET_GSO_UDP_L4);
	t.ip_opts = 4;
	t.vlan = 7;
	check_gso(&t, 60000, 1472, UNM_VNET_GSO_UDP_L4);
	t = base(1, 1);
	check_gso(&t, 2500, 1000, UNM_VNET_GSO_UDP_L4);
	check_gso(&t, 999, 1000, UNM_VNET_GSO_UDP_L4);
	/* many random shapes */
	for (int i = 0; i < 60; i++) {
		t = base(i & 1, (i >> 1) & 1);
		t.vlan = (i >> 2) & 1 ? 3 : 0;
		t.ip_opts = t.ipv6 ? 0 : 4 * (t_rand(&rs) % 11);
		t.tcp_opts = t.udp ? 0 : 4 * (t_rand(&rs) % 11);
		t.seq = t_rand(&rs);
		t.ip_id = (uint16_t)t_rand(&rs);
		t.flags = (uint8_t)(t_rand(&rs) & 0xff);
		check_gso(&t, 1 + t_rand(&rs) % 20000, 1 + t_rand(&rs) % 3000,
			  t.udp ? UNM_VNET_GSO_UDP_L4 :
			  t.ipv6 ? UNM_VNET_GSO_TCPV6 : UNM_VNET_GSO_TCPV4);
	}
}

/* Non-GSO NEEDS_CSUM frame going to a port without headers. */
static void test_copy_complete(void)
{
	struct unm_frag in[40], out[4];
	struct unm_vnet_info vi;
	struct unm_gso g;
	uint8_t vh[12];

	for (int i = 0; i < 200; i++) {
		struct tpkt t = base(i & 1, (i >> 1) & 1);
		size_t plen = t_rand(&rs) % 3000, len, l4 = t_l4_off(&t);
		unsigned nin;
		int cf = (i >> 2) & 1;

		t_fill(payload, plen, &rs);
		len = t_build(&t, payload, plen, frame, cf ? T_CSUM_PARTIAL : T_CSUM_FULL);
		t_build(&t, payload, plen, expect, T_CSUM_FULL);
		if (!t.udp && expect[l4 + 16] == 0 && expect[l4 + 17] == 0)
			expect[l4 + 16] = expect[l4 + 17] = 0xff;
		t_vnet(vh, cf ? UNM_VNET_F_NEEDS_CSUM : 0, 0, 0, 0, cf ? l4 : 0,
		       cf ? (t.udp ? 6 : 16) : 0);
		if (i < 4)
			write_seed(vh, frame, len);
		nin = split(frame, len, in, 40, t_hdrs(&t));
		T_ASSERT_EQ(unm_vnet_parse(vh, 10, in, nin, &vi, NULL), 0);
		T_ASSERT_EQ(vi.nsegs, 1);
		T_ASSERT_EQ(unm_gso_init(&g, &vi, in, nin), 0);
		T_ASSERT_EQ(unm_gso_peek_len(&g), len);
		/* output: two slots with the checksum field maybe straddling */
		out[0].ptr = seg;
		out[0].len = t_rand(&rs) % len;
		out[1].ptr = seg + out[0].len;
		out[1].len = len - out[0].len;
		T_ASSERT_EQ(unm_gso_next_frags(&g, out, 1), -ENOSPC);
		T_ASSERT_EQ(unm_gso_next_frags(&g, out, 2), (int)len);
		T_ASSERT(memcmp(seg, expect, len) == 0);
		T_ASSERT_EQ(unm_gso_next(&g, seg, sizeof(seg)), 0);
	}
}

static void test_enospc_skip(void)
{
	struct tpkt t = base(0, 0);
	struct unm_frag in = { frame, 0 }, out[2];
	struct unm_vnet_info vi;
	struct unm_gso g;
	uint8_t vh[12];
	size_t plen = 3000;

	t_fill(payload, plen, &rs);
	in.len = t_build(&t, payload, plen, frame, T_CSUM_PARTIAL);
	t_vnet(vh, 1, UNM_VNET_GSO_TCPV4, 0, 1000, 34, 16);
	T_ASSERT_EQ(unm_vnet_parse(vh, 10, &in, 1, &vi, NULL), 0);
	T_ASSERT_EQ(unm_gso_init(&g, &vi, &in, 1), 0);
	T_ASSERT_EQ(unm_gso_next(&g, seg, 1053), -ENOSPC);
	T_ASSERT_EQ(unm_gso_next_frags(&g, out, 0), -ENOSPC);
	out[0].ptr = seg;                       /* headers don't fit out[0] */
	out[0].len = 53;
	out[1].ptr = seg + 53;
	out[1].len = 2000;
	T_ASSERT_EQ(unm_gso_next_frags(&g, out, 2), -ENOSPC);
	T_ASSERT_EQ(unm_gso_skip(&g), 1054);
	T_ASSERT_EQ(unm_gso_next(&g, seg, 1054), 1054);
	expected_seg(&t, 1, 3, 1000, plen);
	T_ASSERT(memcmp(seg, expect, 1054) == 0);
	T_ASSERT_EQ(unm_gso_next(&g, seg, 1054), 1054);
	expected_seg(&t, 2, 3, 1000, plen);
	T_ASSERT(memcmp(seg, expect, 1054) == 0);
	T_ASSERT_EQ(unm_gso_skip(&g), 0);
	/* empty fragments without a buffer, in the input and the output */
	struct unm_frag in3[3] = { { frame, 20 }, { NULL, 0 }, { frame + 20, in.len - 20 } };
	struct unm_frag out3[3] = { { seg, 60 }, { NULL, 0 }, { seg + 60, 2000 } };
	T_ASSERT_EQ(unm_gso_init(&g, &vi, in3, 3), 0);
	T_ASSERT_EQ(unm_gso_next_frags(&g, out3, 3), 1054);
	expected_seg(&t, 0, 3, 1000, plen);
	T_ASSERT(memcmp(seg, expect, 1054) == 0);
	/* info that does not match the chain, or is inconsistent, is refused */
	struct unm_vnet_info bad = vi;
	bad.l4_off = 40;
	T_ASSERT_EQ(unm_gso_init(&g, &bad, &in, 1), -EINVAL);
	bad = vi;
	bad.payload_off = 200;
	T_ASSERT_EQ(unm_gso_init(&g, &bad, &in, 1), -EINVAL);
	bad = vi;
	bad.nsegs++;
	T_ASSERT_EQ(unm_gso_init(&g, &bad, &in, 1), -EINVAL);
	bad = vi;
	bad.ipv6 = 1;
	T_ASSERT_EQ(unm_gso_init(&g, &bad, &in, 1), -EINVAL);
	in.len--;
	T_ASSERT_EQ(unm_gso_init(&g, &vi, &in, 1), -EINVAL);
}

int main(int argc, char **argv)
{
	t_watchdog(50);
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
		corpus_dir = argv[2];
	test_tcp();
	test_udp();
	test_copy_complete();
	test_enospc_skip();
	printf("ok\n");
	return 0;
}
