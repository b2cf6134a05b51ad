/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pkt.h - an independent, deliberately naive packet builder for the
 * offload tests: Ethernet [+ VLAN] + IPv4 (options) / IPv6 + TCP
 * (options) / UDP, lengths and checksums computed from scratch one byte
 * at a time. It shares no code with lib/offload, so tests can compare
 * the library's output against frames built here byte by byte.
 */
#ifndef UNM_TEST_PKT_H
#define UNM_TEST_PKT_H

#include <stdint.h>
#include <string.h>

/* Big-endian 16-bit word sum, one byte at a time (RFC 1071 by the book). */
static inline uint32_t t_sum(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i < n; i++)
		acc += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return acc;
}

static inline uint16_t t_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static inline void t_be16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void t_be32(uint8_t *p, uint32_t v)
{
	t_be16(p, v >> 16);
	t_be16(p + 2, v & 0xffff);
}

struct tpkt {
	int ipv6;               /* 0: IPv4, 1: IPv6 */
	int udp;                /* 0: TCP, 1: UDP */
	unsigned vlan;          /* 0: untagged, else 802.1Q TCI */
	unsigned ip_opts;       /* IPv4 option bytes (multiple of 4, <= 40) */
	unsigned tcp_opts;      /* TCP option bytes (multiple of 4, <= 40) */
	uint16_t ip_id;
	uint16_t frag;          /* IPv4 flags + fragment offset, e.g. 0x4000 */
	uint8_t tos, ttl;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win, urg;
	uint16_t sport, dport;
	uint8_t src[16], dst[16];
};

/* csum modes for t_build() */
#define T_CSUM_FULL    0   /* complete TCP/UDP checksum */
#define T_CSUM_PARTIAL 1   /* pseudo-header sum only (virtio NEEDS_CSUM) */

static inline unsigned t_l3_off(const struct tpkt *t)
{
	return t->vlan ? 18 : 14;
}

static inline unsigned t_l4_off(const struct tpkt *t)
{
	return t_l3_off(t) + (t->ipv6 ? 40 : 20 + t->ip_opts);
}

static inline unsigned t_hdrs(const struct tpkt *t)
{
	return t_l4_off(t) + (t->udp ? 8 : 20 + t->tcp_opts);
}

/* Build the frame carrying payload[0..plen) into out; returns its length. */
static inline size_t t_build(const struct tpkt *t, const uint8_t *payload,
			     size_t plen, uint8_t *out, int mode)
{
	static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const uint8_t smac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	unsigned l3 = t_l3_off(t), l4 = t_l4_off(t), h = t_hdrs(t);
	unsigned l4len = (unsigned)(h - l4 + plen), proto = t->udp ? 17 : 6;
	uint8_t *ip = out + l3, *p = out + l4;
	uint32_t acc = 0;
	uint16_t c;

	memcpy(out, dmac, 6);
	memcpy(out + 6, smac, 6);
	if (t->vlan) {
		t_be16(out + 12, 0x8100);
		t_be16(out + 14, t->vlan);
	}
	t_be16(out + l3 - 2, t->ipv6 ? 0x86dd : 0x0800);
	if (!t->ipv6) {
		unsigned ihl = 20 + t->ip_opts;

		ip[0] = (uint8_t)(0x40 | ihl / 4);
		ip[1] = t->tos;
		t_be16(ip + 2, ihl + l4len);
		t_be16(ip + 4, t->ip_id);
		t_be16(ip + 6, t->frag);
		ip[8] = t->ttl;
		ip[9] = (uint8_t)proto;
		ip[10] = ip[11] = 0;
		memcpy(ip + 12, t->src, 4);
		memcpy(ip + 16, t->dst, 4);
		for (unsigned i = 0; i < t->ip_opts; i++)  /* NOPs, then EOL */
			ip[20 + i] = i + 1 == t->ip_opts ? 0 : 1;
		t_be16(ip + 10, (uint16_t)~t_fold(t_sum(ip, ihl, 0)));
		acc = t_sum(ip + 12, 8, 0);
	} else {
		ip[0] = (uint8_t)(0x60 | t->tos >> 4);
		ip[1] = (uint8_t)(t->tos << 4);
		ip[2] = 0x12;
		ip[3] = 0x34;
		t_be16(ip + 4, l4len);
		ip[6] = (uint8_t)proto;
		ip[7] = t->ttl;
		memcpy(ip + 8, t->src, 16);
		memcpy(ip + 24, t->dst, 16);
		acc = t_sum(ip + 8, 32, 0);
	}
	acc += proto + l4len;       /* pseudo-header: zero, proto, length */
	t_be16(p, t->sport);
	t_be16(p + 2, t->dport);
	if (t->udp) {
		t_be16(p + 4, l4len);
		p[6] = p[7] = 0;
	} else {
		t_be32(p + 4, t->seq);
		t_be32(p + 8, t->ack);
		p[12] = (uint8_t)((20 + t->tcp_opts) / 4 << 4);
		p[13] = t->flags;
		t_be16(p + 14, t->win);
		p[16] = p[17] = 0;
		t_be16(p + 18, t->urg);
		for (unsigned i = 0; i < t->tcp_opts; i++)  /* kind 254, then NOPs */
			p[20 + i] = i == 0 ? 254 : i == 1 ? 2 : 1;
	}
	memcpy(out + h, payload, plen);
	if (mode == T_CSUM_PARTIAL) {
		c = t_fold(acc);
	} else {
		c = (uint16_t)~t_fold(t_sum(p, l4len, acc));
		if (t->udp && c == 0)
			c = 0xffff;
	}
	t_be16(p + (t->udp ? 6 : 16), c);
	return h + plen;
}

/* A virtio-net header (little-endian fields) in 12 bytes. */
static inline void t_vnet(uint8_t *v, uint8_t flags, uint8_t gso_type,
			  unsigned hdr_len, unsigned gso_size,
			  unsigned csum_start, unsigned csum_offset)
{
	memset(v, 0, 12);
	v[0] = flags;
	v[1] = gso_type;
	v[2] = (uint8_t)hdr_len;
	v[3] = (uint8_t)(hdr_len >> 8);
	v[4] = (uint8_t)gso_size;
	v[5] = (uint8_t)(gso_size >> 8);
	v[6] = (uint8_t)csum_start;
	v[7] = (uint8_t)(csum_start >> 8);
	v[8] = (uint8_t)csum_offset;
	v[9] = (uint8_t)(csum_offset >> 8);
}

/* Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
static inline uint32_t t_rand(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static inline void t_fill(uint8_t *p, size_t n, uint32_t *s)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)t_rand(s);
}

#endif
