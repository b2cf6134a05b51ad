// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: virtio-net header offloads across VALE, with CSB client
 * ports on a private unmd. A 40000-byte TCP GSO frame (12-byte header,
 * partial checksum) from a vnet=12 port: reaches another vnet=12 port
 * byte for byte; reaches a port without a header as 28 segments whose
 * IPv4 and TCP checksums, lengths, ids, sequence numbers, flags and
 * payload the test verifies itself; reaches a vnet=12 port with small
 * buffers (chain capacity below the frame) as the same segments behind
 * zero headers; reaches a vnet=10 port with its header shortened. A UDP
 * frame with NEEDS_CSUM reaches the header-less port with its checksum
 * completed; a frame from the header-less port gets a zero header; a bad
 * header (GSO with gso_size 0) is dropped and counted as bad_vnet and by
 * reason. PORT_OFFLOAD counters and the accounting identity are checked.
 */
#include <errno.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"

#define PAYLOAD 40000
#define MSS     1448
#define NSEGS   ((PAYLOAD + MSS - 1) / MSS)
#define HL      12
#define SEQ0    0x01020304u
#define IPID0   0x1234

static uint8_t f[70000], r[70000], payload[PAYLOAD];
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ip_a[4] = { 10, 0, 0, 1 }, ip_b[4] = { 10, 0, 0, 2 };

/* Ones'-complement sum of big-endian 16-bit words (independent of lib/offload). */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t pseudo(uint8_t proto, size_t l4len)
{
	return sum16(ip_a, 4, sum16(ip_b, 4, 0)) + proto + (uint32_t)l4len;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Ethernet + IPv4 (20 bytes, DF) at b; returns the L4 offset. */
static size_t eth_ip(uint8_t *b, const uint8_t dst[6], unsigned src_id, uint8_t proto,
		     size_t l4len)
{
	memcpy(b, dst, 6);
	t_mac(b + 6, src_id);
	put16(b + 12, 0x0800);
	b += 14;
	memset(b, 0, 20);
	b[0] = 0x45;
	put16(b + 2, (uint16_t)(20 + l4len));
	put16(b + 4, IPID0);
	put16(b + 6, 0x4000);
	b[8] = 64;
	b[9] = proto;
	memcpy(b + 12, ip_a, 4);
	memcpy(b + 16, ip_b, 4);
	put16(b + 10, (uint16_t)~fold(sum16(b, 20, 0)));
	return 34;
}

/* vnet header + TCP GSO frame of PAYLOAD bytes (gso_size MSS), partial
 * checksum as Linux leaves it (pseudo-header sum, not inverted). */
static size_t tcp_gso(uint8_t *b, const uint8_t dst[6], unsigned src_id, uint16_t gso_size)
{
	uint8_t *e = b + HL, *t;
	size_t l4 = eth_ip(e, dst, src_id, 6, 20 + PAYLOAD);

	memset(b, 0, HL);
	b[0] = 1;                        /* NEEDS_CSUM */
	b[1] = 1;                        /* TCPV4 */
	b[2] = 54;                       /* hdr_len (little-endian fields) */
	b[4] = (uint8_t)gso_size, b[5] = (uint8_t)(gso_size >> 8);
	b[6] = 34;                       /* csum_start */
	b[8] = 16;                       /* csum_offset */
	t = e + l4;
	memset(t, 0, 20);
	put16(t, 1000);
	put16(t + 2, 2000);
	put16(t + 4, SEQ0 >> 16);
	put16(t + 6, SEQ0 & 0xffff);
	t[12] = 5 << 4;
	t[13] = 0x18;                    /* ACK PSH */
	put16(t + 14, 0xffff);
	put16(t + 16, fold(pseudo(6, 20 + PAYLOAD)));
	memcpy(t + 20, payload, PAYLOAD);
	return HL + 54 + PAYLOAD;
}

/* Segment k of the frame above, as received (no vnet header). */
static void check_seg(const uint8_t *s, long len, unsigned k, unsigned src_id)
{
	size_t pl = k + 1 < NSEGS ? MSS : PAYLOAD - (NSEGS - 1) * MSS;
	const uint8_t *ip = s + 14, *t = s + 34;
	uint8_t mac[6];

	t_mac(mac, src_id);
	T_ASSERT_EQ(len, (long)(54 + pl));
	T_ASSERT(!memcmp(s + 6, mac, 6));
	T_ASSERT_EQ(get16(ip + 2), 40 + pl);
	T_ASSERT_EQ(get16(ip + 4), IPID0 + k);
	T_ASSERT_EQ(fold(sum16(ip, 20, 0)), 0xffff);
	T_ASSERT_EQ(get32(t + 4), SEQ0 + k * MSS);
	T_ASSERT_EQ(t[13], k + 1 < NSEGS ? 0x10 : 0x18); /* PSH only on the last */
	T_ASSERT_EQ(fold(sum16(t, 20 + pl, pseudo(6, 20 + pl))), 0xffff);
	T_ASSERT(!memcmp(t + 20, payload + k * MSS, pl));
}

static void drain(struct unm_port *p)
{
	while (t_recv(p, r, sizeof(r), 150) > 0)
		;
}

/* A broadcast from port P (id ID) so the switch learns its MAC. */
static void hello(struct unm_port *p, unsigned id, unsigned hl)
{
	memset(f, 0, hl);
	T_ASSERT_EQ(t_send(p, f, hl + t_frame(f + hl, 60, bcast, id, 0), 1000), 0);
}

int main(void)
{
	struct unm_port *a, *b, *c, *d, *e;
	struct unm_ctl_offload_info oa, oc;
	struct unm_ctl_port_info pi;
	uint8_t mb[6], mc[6], md[6], me[6];
	uint64_t sum = 0;
	size_t len;
	long n;
	pid_t dmn;

	t_watchdog(30);
	for (size_t i = 0; i < PAYLOAD; i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	dmn = t_unmd_start(NULL);
	a = t_open("vale0:a@conf:vnet=12");
	b = t_open("vale0:b@conf:vnet=12");
	c = t_open("vale0:c");
	d = t_open("vale0:d@conf:vnet=12,bufsize=512,slots=256");
	e = t_open("vale0:e@conf:vnet=10");
	t_mac(mb, 2), t_mac(mc, 3), t_mac(md, 4), t_mac(me, 5);
	hello(b, 2, 12), hello(c, 3, 0), hello(d, 4, 12), hello(e, 5, 10);
	drain(a), drain(b), drain(c), drain(d), drain(e);

	/* vnet=12 -> vnet=12: byte-identical */
	len = tcp_gso(f, mb, 1, MSS);
	T_ASSERT_EQ(t_send(a, f, len, 2000), 0);
	T_ASSERT_EQ(t_recv(b, r, sizeof(r), 2000), (long)len);
	T_ASSERT(!memcmp(r, f, len));

	/* vnet=12 -> no header: segments */
	len = tcp_gso(f, mc, 1, MSS);
	T_ASSERT_EQ(t_send(a, f, len, 2000), 0);
	for (unsigned k = 0; k < NSEGS; k++) {
		n = t_recv(c, r, sizeof(r), 2000);
		check_seg(r, n, k, 1);
	}
	T_ASSERT_EQ(t_recv(c, r, sizeof(r), 100), 0);

	/* vnet=12 -> vnet=12 with a chain capacity of 64 x 512 bytes: segments
	 * behind zero headers */
	len = tcp_gso(f, md, 1, MSS);
	T_ASSERT_EQ(t_send(a, f, len, 2000), 0);
	for (unsigned k = 0; k < NSEGS; k++) {
		static const uint8_t zero[HL];

		n = t_recv(d, r, sizeof(r), 2000);
		T_ASSERT(n > HL);
		T_ASSERT(!memcmp(r, zero, HL));
		check_seg(r + HL, n - HL, k, 1);
	}

	/* vnet=12 -> vnet=10: header shortened, frame unchanged */
	len = tcp_gso(f, me, 1, MSS);
	T_ASSERT_EQ(t_send(a, f, len, 2000), 0);
	T_ASSERT_EQ(t_recv(e, r, sizeof(r), 2000), (long)len - 2);
	T_ASSERT(!memcmp(r, f, 10));
	T_ASSERT(!memcmp(r + 10, f + HL, len - HL));

	/* UDP with NEEDS_CSUM -> no header: checksum completed */
	{
		uint8_t *u = f + HL + 34;

		memset(f, 0, HL);
		f[0] = 1, f[6] = 34, f[8] = 6;
		eth_ip(f + HL, mc, 1, 17, 8 + 100);
		put16(u, 5000), put16(u + 2, 6000), put16(u + 4, 108);
		put16(u + 6, fold(pseudo(17, 108)));
		memcpy(u + 8, payload, 100);
		T_ASSERT_EQ(t_send(a, f, HL + 34 + 108, 2000), 0);
		T_ASSERT_EQ(t_recv(c, r, sizeof(r), 2000), 34 + 108);
		T_ASSERT(!memcmp(r, f + HL, 34 + 6));
		T_ASSERT(get16(r + 34 + 6) != 0);
		T_ASSERT_EQ(fold(sum16(r + 34, 108, pseudo(17, 108))), 0xffff);
		T_ASSERT(!memcmp(r + 34 + 8, payload, 100));
	}

	/* no header -> vnet=12: zero header in front */
	len = t_frame(f, 200, mb, 3, 42);
	T_ASSERT_EQ(t_send(c, f, len, 2000), 0);
	T_ASSERT_EQ(t_recv(b, r, sizeof(r), 2000), (long)len + HL);
	for (unsigned i = 0; i < HL; i++)
		T_ASSERT_EQ(r[i], 0);
	T_ASSERT_EQ(t_frame_check(r + HL, len), 42);

	/* bad header: GSO with gso_size 0 */
	len = tcp_gso(f, mb, 1, 0);
	T_ASSERT_EQ(t_send(a, f, len, 2000), 0);
	T_ASSERT_EQ(t_recv(b, r, sizeof(r), 300), 0);

	T_ASSERT_EQ(t_port_offload("vale0:a", &oa), 0);
	T_ASSERT_EQ(t_port_offload("vale0:c", &oc), 0);
	T_ASSERT_EQ(t_port_info("vale0:a", &pi), 0);
	printf("a: gso_in %llu segmented %llu segments_out %llu csum_completed %llu "
	       "bad_vnet %llu (gso_size %llu)\n", (unsigned long long)oa.gso_in,
	       (unsigned long long)oa.segmented, (unsigned long long)oa.segments_out,
	       (unsigned long long)oa.csum_completed,
	       (unsigned long long)pi.drops[UNM_DROP_BAD_VNET],
	       (unsigned long long)oa.vnet_drops[7]);
	T_ASSERT_EQ(oa.vnet_hdr_len, 12);
	T_ASSERT_EQ(oc.vnet_hdr_len, 0);
	T_ASSERT_EQ(pi.geom.vnet_hdr_len, 12);
	T_ASSERT_EQ(oa.gso_in, 4);
	T_ASSERT_EQ(oa.segmented, 2);
	T_ASSERT_EQ(oa.segments_out, 2 * NSEGS);
	T_ASSERT_EQ(oa.csum_completed, 1);
	T_ASSERT_EQ(oc.zero_hdr, 4 + 1); /* hello to a b d e, then one frame to b */
	T_ASSERT_EQ(pi.drops[UNM_DROP_BAD_VNET], 1);
	T_ASSERT_EQ(oa.vnet_drops[7], 1); /* UNM_CTL_VNET_DROP_NAMES[7] = "gso_size" */
	for (unsigned i = 0; i < UNM_DROP__COUNT; i++)
		sum += pi.drops[i];
	T_ASSERT_EQ(pi.tx_frames + pi.tx_extra_copies, pi.tx_delivered + sum);
	unm_close(a), unm_close(b), unm_close(c), unm_close(d), unm_close(e);
	T_ASSERT_EQ(t_unmd_stop(dmn), 0);
	printf("ok\n");
	return 0;
}
