// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: virtio-net header parsing and validation
 * (lib/offload/vnet.c): decode/encode of the 10- and 12-byte forms,
 * the layout reported for valid GSO frames, and every malformed header
 * or frame refused with its own drop reason and errno. Frames sit at the
 * very end of heap buffers so ASan catches any read past them.
 */
#include <errno.h>
#include <stdint.h>
#include "unm-offload.h"
#include "../lib/pkt.h"
#include "../lib/test.h"

static uint8_t payload[70000], frame[70000];

static struct tpkt base(int ipv6, int udp)
{
	struct tpkt t = {
		.ipv6 = ipv6, .udp = udp, .ip_id = 1, .ttl = 64, .seq = 1,
		.flags = 0x18, .win = 100, .sport = 1, .dport = 2,
		.src = { 10, 0, 0, 1 }, .dst = { 10, 0, 0, 2 },
	};
	return t;
}

/* Parse vh + frame[0..len) copied to the end of a heap buffer. */
static int parse(const uint8_t *vh, unsigned hlen, size_t len,
		 struct unm_vnet_info *vi, enum unm_vnet_drop *why)
{
	uint8_t *h = malloc(hlen), *b = malloc(len ? len : 1);
	struct unm_frag f = { b, len };
	int r;

	T_ASSERT(h && b);
	memcpy(h, vh, hlen);
	memcpy(b, frame, len);
	*why = UNM_VNET_DROP__COUNT;
	r = unm_vnet_parse(h, hlen, &f, 1, vi, why);
	free(h);
	free(b);
	return r;
}

#define EXPECT(vh, len, err, reason) do { \
	struct unm_vnet_info _vi; enum unm_vnet_drop _w; \
	int _r = parse(vh, 12, len, &_vi, &_w); \
	if (_r != (err) || _w != (reason)) \
		T_FAIL("got %d/%s, expected %d/%s", _r, unm_vnet_drop_name(_w), \
		       (err), unm_vnet_drop_name(reason)); \
} while (0)

static void test_codec(void)
{
	struct unm_vnet_hdr h = { .flags = 1, .gso_type = 0x81, .hdr_len = 0x1234,
				  .gso_size = 0xabcd, .csum_start = 0x22,
				  .csum_offset = 0x10, .num_buffers = 3 }, d;
	uint8_t b[12];
	static const uint8_t want[12] = { 1, 0x81, 0x34, 0x12, 0xcd, 0xab,
					  0x22, 0, 0x10, 0, 3, 0 };

	unm_vnet_hdr_encode(b, 12, &h);
	T_ASSERT(memcmp(b, want, 12) == 0);
	unm_vnet_hdr_decode(b, 12, &d);
	T_ASSERT(memcmp(&d, &h, sizeof(d)) == 0);
	unm_vnet_hdr_decode(b, 10, &d);
	T_ASSERT_EQ(d.num_buffers, 0);
	/* names: distinct, none unknown */
	for (int i = 0; i < UNM_VNET_DROP__COUNT; i++) {
		T_ASSERT(strcmp(unm_vnet_drop_name(i), "unknown") != 0);
		for (int j = 0; j < i; j++)
			T_ASSERT(strcmp(unm_vnet_drop_name(i), unm_vnet_drop_name(j)));
	}
	T_ASSERT(strcmp(unm_vnet_drop_name(UNM_VNET_DROP__COUNT), "unknown") == 0);
}

static void test_valid(void)
{
	struct unm_vnet_info vi;
	enum unm_vnet_drop w;
	struct tpkt t = base(0, 0);
	uint8_t vh[12];
	size_t len;

	/* TCPv4 with VLAN and options */
	t.vlan = 9;
	t.ip_opts = 12;
	t.tcp_opts = 20;
	len = t_build(&t, payload, 3001, frame, T_CSUM_PARTIAL);
	t_vnet(vh, 1, UNM_VNET_GSO_TCPV4 | UNM_VNET_GSO_ECN, 18 + 32 + 40, 1000,
	       18 + 32, 16);
	T_ASSERT_EQ(parse(vh, 10, len, &vi, &w), 0);
	T_ASSERT_EQ(w, UNM_VNET_OK);
	T_ASSERT_EQ(vi.frame_len, len);
	T_ASSERT_EQ(vi.l3_off, 18);
	T_ASSERT_EQ(vi.l4_off, 50);
	T_ASSERT_EQ(vi.payload_off, 90);
	T_ASSERT_EQ(vi.payload_len, 3001);
	T_ASSERT_EQ(vi.nsegs, 4);
	T_ASSERT_EQ(vi.ipv6, 0);
	T_ASSERT_EQ(vi.l4_proto, 6);
	T_ASSERT_EQ(vi.hdr.gso_size, 1000);
	/* hdr_len 0 (unknown) and hdr_len in the middle of TCP are fine */
	vh[2] = 0;
	T_ASSERT_EQ(parse(vh, 12, len, &vi, &w), 0);
	vh[2] = 60;
	T_ASSERT_EQ(parse(vh, 12, len, &vi, &w), 0);
	/* UDP_L4 over IPv6 */
	t = base(1, 1);
	len = t_build(&t, payload, 100, frame, T_CSUM_PARTIAL);
	t_vnet(vh, 1, UNM_VNET_GSO_UDP_L4, 62, 30, 54, 6);
	T_ASSERT_EQ(parse(vh, 12, len, &vi, &w), 0);
	T_ASSERT_EQ(vi.ipv6, 1);
	T_ASSERT_EQ(vi.l4_proto, 17);
	T_ASSERT_EQ(vi.payload_off, 62);
	T_ASSERT_EQ(vi.nsegs, 4);
	/* non-GSO: an ARP frame with a zero header; DATA_VALID alone */
	memset(frame, 0, 60);
	frame[12] = 0x08;
	frame[13] = 0x06;
	t_vnet(vh, 0, 0, 0, 0, 0, 0);
	T_ASSERT_EQ(parse(vh, 12, 60, &vi, &w), 0);
	T_ASSERT_EQ(vi.nsegs, 1);
	t_vnet(vh, 2, 0, 0, 1234, 0, 0);       /* gso_size ignored w/o GSO */
	T_ASSERT_EQ(parse(vh, 10, 60, &vi, &w), 0);
	/* NEEDS_CSUM with the field in the last two bytes */
	t_vnet(vh, 1, 0, 0, 0, 50, 8);
	T_ASSERT_EQ(parse(vh, 10, 60, &vi, &w), 0);
}

static void test_refused(void)
{
	struct tpkt t = base(0, 0);
	uint8_t vh[12], v2[12];
	struct unm_vnet_info vi;
	enum unm_vnet_drop w;
	size_t len;

	len = t_build(&t, payload, 3000, frame, T_CSUM_PARTIAL);
	t_vnet(vh, 1, UNM_VNET_GSO_TCPV4, 54, 1000, 34, 16);
	EXPECT(vh, len, 0, UNM_VNET_OK);
	T_ASSERT_EQ(parse(vh, 11, len, &vi, &w), -EINVAL);
	T_ASSERT_EQ(w, UNM_VNET_DROP_HDR_SIZE);
	EXPECT(vh, 13, -EINVAL, UNM_VNET_DROP_SHORT);
#define WITH(field_stmt, err, reason) do { \
	memcpy(v2, vh, 12); field_stmt; EXPECT(v2, len, err, reason); } while (0)
	WITH(v2[0] = 5, -EINVAL, UNM_VNET_DROP_FLAGS);
	WITH(v2[1] = 2, -EINVAL, UNM_VNET_DROP_GSO_TYPE);
	WITH(v2[1] = 0x80, -EINVAL, UNM_VNET_DROP_GSO_TYPE);
	WITH(v2[1] = 0x85, -EINVAL, UNM_VNET_DROP_GSO_TYPE);
	WITH(v2[1] = 6, -EINVAL, UNM_VNET_DROP_GSO_TYPE);
	WITH(v2[1] = 3, -EOPNOTSUPP, UNM_VNET_DROP_UFO);
	WITH(v2[0] = 0, -EINVAL, UNM_VNET_DROP_GSO_NO_CSUM);
	WITH((v2[6] = 0xff, v2[7] = 0xff), -EINVAL, UNM_VNET_DROP_CSUM_RANGE);
	WITH((v2[8] = (uint8_t)(len - 34 - 1), v2[9] = (uint8_t)((len - 35) >> 8)),
	     -EINVAL, UNM_VNET_DROP_CSUM_RANGE);
	WITH((v2[8] = 0xff, v2[9] = 0xff), -EINVAL, UNM_VNET_DROP_CSUM_RANGE);
	WITH(v2[6] = 35, -EINVAL, UNM_VNET_DROP_CSUM_L4);
	WITH(v2[8] = 6, -EINVAL, UNM_VNET_DROP_CSUM_L4);
	WITH((v2[4] = 0, v2[5] = 0), -EINVAL, UNM_VNET_DROP_GSO_SIZE);
	WITH((v2[4] = 0xff, v2[5] = 0xff), -EINVAL, UNM_VNET_DROP_GSO_SIZE);
	WITH((v2[4] = 0xe0, v2[5] = 0xff), -EINVAL, UNM_VNET_DROP_GSO_SIZE);
	WITH((v2[2] = 0xff, v2[3] = 0xff), -EINVAL, UNM_VNET_DROP_HDR_LEN);
	WITH(v2[2] = 20, -EINVAL, UNM_VNET_DROP_HDR_LEN);
	WITH(v2[1] = UNM_VNET_GSO_TCPV6, -EINVAL, UNM_VNET_DROP_GSO_L3);
	WITH(v2[1] = UNM_VNET_GSO_UDP_L4, -EINVAL, UNM_VNET_DROP_NOT_UDP);
	/* frames cut short: in Ethernet, IP, TCP (with options) */
	EXPECT(vh, 10, -EINVAL, UNM_VNET_DROP_SHORT);
	t_vnet(v2, 1, UNM_VNET_GSO_TCPV4, 0, 1000, 0, 0);
	EXPECT(v2, 30, -EINVAL, UNM_VNET_DROP_SHORT);
	frame[46] = 0xf0;                       /* doff 15: 60-byte TCP header */
	EXPECT(vh, 80, -EINVAL, UNM_VNET_DROP_SHORT);
	EXPECT(vh, 94, -EINVAL, UNM_VNET_DROP_NO_PAYLOAD);
	frame[46] = 0x40;                       /* doff 4 */
	EXPECT(vh, len, -EINVAL, UNM_VNET_DROP_BAD_TCP);
	frame[46] = 0x50;
	EXPECT(vh, 54, -EINVAL, UNM_VNET_DROP_NO_PAYLOAD);
	/* IPv4 header */
	frame[14] = 0x55;
	EXPECT(vh, len, -EINVAL, UNM_VNET_DROP_BAD_IPV4);
	frame[14] = 0x44;
	EXPECT(vh, len, -EINVAL, UNM_VNET_DROP_BAD_IPV4);
	frame[14] = 0x4f;                       /* 60-byte header: csum_start wrong */
	EXPECT(vh, len, -EINVAL, UNM_VNET_DROP_CSUM_L4);
	frame[14] = 0x45;
	frame[20] = 0x20;                       /* MF */
	EXPECT(vh, len, -EINVAL, UNM_VNET_DROP_BAD_IPV4);
	frame[20] = 0x00;
	frame[21] = 0x01;                       /* fragment offset */
	EXPECT(vh, len, -EINVAL, UNM_VNET_DROP_BAD_IPV4);
	frame[21] = 0x00;
	frame[23] = 17;
	EXPECT(vh, len, -EINVAL, UNM_VNET_DROP_NOT_TCP);
	frame[23] = 6;
	/* Ethernet: ARP, two VLAN tags */
	frame[12] = 0x08;
	frame[13] = 0x06;
	EXPECT(vh, len, -EINVAL, UNM_VNET_DROP_L2);
	t.vlan = 1;
	len = t_build(&t, payload, 3000, frame, T_CSUM_PARTIAL);
	frame[16] = 0x81;
	frame[17] = 0x00;
	t_vnet(vh, 1, UNM_VNET_GSO_TCPV4, 0, 1000, 38, 16);
	EXPECT(vh, len, -EINVAL, UNM_VNET_DROP_L2);
	/* IP part longer than 65535 */
	t = base(0, 0);
	len = t_build(&t, payload, 65535 - 40 + 1, frame, T_CSUM_PARTIAL);
	t_vnet(vh, 1, UNM_VNET_GSO_TCPV4, 0, 1000, 34, 16);
	EXPECT(vh, len, -EINVAL, UNM_VNET_DROP_TOO_LONG);
	EXPECT(vh, len - 1, 0, UNM_VNET_OK);
	/* IPv6 */
	t = base(1, 0);
	len = t_build(&t, payload, 3000, frame, T_CSUM_PARTIAL);
	t_vnet(vh, 1, UNM_VNET_GSO_TCPV6, 0, 1000, 54, 16);
	EXPECT(vh, len, 0, UNM_VNET_OK);
	WITH(v2[1] = UNM_VNET_GSO_TCPV4, -EINVAL, UNM_VNET_DROP_GSO_L3);
	WITH((v2[4] = 0xeb, v2[5] = 0xff), 0, UNM_VNET_OK); /* 65515 + 20 */
	WITH((v2[4] = 0xec, v2[5] = 0xff), -EINVAL, UNM_VNET_DROP_GSO_SIZE);
	t_vnet(v2, 1, UNM_VNET_GSO_TCPV6, 0, 1000, 0, 0);
	EXPECT(v2, 40, -EINVAL, UNM_VNET_DROP_SHORT);
	frame[14] = 0x40;
	EXPECT(vh, len, -EINVAL, UNM_VNET_DROP_BAD_IPV6);
	frame[14] = 0x60;
	frame[20] = 0;                          /* hop-by-hop options */
	EXPECT(vh, len, -EOPNOTSUPP, UNM_VNET_DROP_IPV6_EXT);
	frame[20] = 44;                         /* fragment header */
	EXPECT(vh, len, -EOPNOTSUPP, UNM_VNET_DROP_IPV6_EXT);
	frame[20] = 17;
	EXPECT(vh, len, -EINVAL, UNM_VNET_DROP_NOT_TCP);
#undef WITH
}

int main(void)
{
	t_watchdog(30);
	test_codec();
	test_valid();
	test_refused();
	printf("ok\n");
	return 0;
}
