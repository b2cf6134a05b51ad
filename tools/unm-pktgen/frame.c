// SPDX-License-Identifier: BSD-2-Clause
/*
 * frame.c - building and parsing the frames unm-pktgen sends: optional
 * virtio-net header, Ethernet, IPv4 or IPv6, UDP, payload (a pattern, a
 * sequence number, or a sequence number and a send time), with a correct
 * IPv4 header checksum and, when asked, the UDP checksum.
 *
 * Each worker thread owns its struct pg_gen; nothing here is shared. This
 * file depends on pktgen.h only, so tests can compile it into themselves.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "pktgen.h"

#define ETH_HLEN   14
#define IP4_HLEN   20
#define IP6_HLEN   40
#define UDP_HLEN   8
#define ETH_P_IP   0x0800
#define ETH_P_IPV6 0x86dd
#define PROTO_UDP  17

unsigned pg_frame_min_len(bool v6, int payload)
{
	return ETH_HLEN + (v6 ? IP6_HLEN : IP4_HLEN) + UDP_HLEN +
	       (payload == PG_PAY_SEQ ? 8 : payload == PG_PAY_PING ? 16 : 0);
}

/* xorshift64*: fast, per-thread, good enough for sizes and addresses. */
uint64_t pg_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/*
 * RFC 1071 sum in native byte order: the folded one's complement sum is
 * the same whichever byte order the words are read in, as long as the
 * result is stored back in that order. An odd final byte is padded with a
 * zero at the higher address; only the last piece of a sum may be odd.
 */
uint32_t pg_csum_add(uint32_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t acc = sum;

	while (len >= 4) {
		uint32_t w;

		memcpy(&w, b, 4);
		acc += w;
		b += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, b, 2);
		acc += w;
		b += 2;
		len -= 2;
	}
	if (len) {
		uint8_t pad[2] = { b[0], 0 };
		uint16_t w;

		memcpy(&w, pad, 2);
		acc += w;
	}
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

uint16_t pg_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t host)
{
	uint16_t n = htons(host);

	memcpy(p, &n, 2);
}

static void put32(uint8_t *p, uint32_t host)
{
	uint32_t n = htonl(host);

	memcpy(p, &n, 4);
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t n;

	memcpy(&n, p, 2);
	return ntohs(n);
}

static bool span_single(const struct pg_span *s)
{
	return s->ip_lo == s->ip_hi && s->port_lo == s->port_hi;
}

static uint32_t rand_in(uint64_t *rng, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(pg_rand(rng) % ((uint64_t)hi - lo + 1));
}

/* Advance the addresses: source port fastest, then source address, then
 * destination port, then destination address (each wraps to its start). */
static void next_addrs(struct pg_gen *g)
{
	const struct pg_frame_cfg *c = &g->cfg;

	if (c->rand_src) {
		if (span_single(&c->src)) {
			uint64_t r = pg_rand(&g->rng);

			g->sip = (uint32_t)r;
			g->sport = (uint16_t)(r >> 32);
		} else {
			g->sip = rand_in(&g->rng, c->src.ip_lo, c->src.ip_hi);
			g->sport = (uint16_t)rand_in(&g->rng, c->src.port_lo, c->src.port_hi);
		}
	}
	if (c->rand_dst) {
		if (span_single(&c->dst)) {
			uint64_t r = pg_rand(&g->rng);

			g->dip = (uint32_t)r;
			g->dport = (uint16_t)(r >> 32);
		} else {
			g->dip = rand_in(&g->rng, c->dst.ip_lo, c->dst.ip_hi);
			g->dport = (uint16_t)rand_in(&g->rng, c->dst.port_lo, c->dst.port_hi);
		}
	}
	if (c->rand_src && c->rand_dst)
		return;
	/* Sequential walk over the parts that are not random. */
	if (!c->rand_src) {
		if (g->sport < c->src.port_hi) {
			g->sport++;
			return;
		}
		g->sport = c->src.port_lo;
		if (g->sip < c->src.ip_hi) {
			g->sip++;
			return;
		}
		g->sip = c->src.ip_lo;
	}
	if (!c->rand_dst) {
		if (g->dport < c->dst.port_hi) {
			g->dport++;
			return;
		}
		g->dport = c->dst.port_lo;
		if (g->dip < c->dst.ip_hi)
			g->dip++;
		else
			g->dip = c->dst.ip_lo;
	}
}

/* Write addresses, lengths, payload and checksums for a frame of FLEN
 * Ethernet bytes at f (f points at the Ethernet header). */
static void patch(struct pg_gen *g, uint8_t *f, unsigned flen, uint64_t seq, uint64_t ts)
{
	const struct pg_frame_cfg *c = &g->cfg;
	unsigned l3 = ETH_HLEN, l4 = l3 + (c->v6 ? IP6_HLEN : IP4_HLEN), pay = l4 + UDP_HLEN;
	unsigned ulen = flen - l4;
	uint32_t sum;

	if (c->v6) {
		put16(f + l3 + 4, (uint16_t)ulen);
		put32(f + l3 + 8 + 12, g->sip);
		put32(f + l3 + 24 + 12, g->dip);
	} else {
		put16(f + l3 + 2, (uint16_t)(flen - l3));
		put32(f + l3 + 12, g->sip);
		put32(f + l3 + 16, g->dip);
		f[l3 + 10] = f[l3 + 11] = 0;
		uint16_t ck = pg_csum_fold(pg_csum_add(0, f + l3, IP4_HLEN));
		memcpy(f + l3 + 10, &ck, 2);
	}
	put16(f + l4, g->sport);
	put16(f + l4 + 2, g->dport);
	put16(f + l4 + 4, (uint16_t)ulen);
	if (c->payload >= PG_PAY_SEQ)
		memcpy(f + pay, &seq, 8);
	if (c->payload == PG_PAY_PING)
		memcpy(f + pay + 8, &ts, 8);
	f[l4 + 6] = f[l4 + 7] = 0;
	if (c->csum) {
		/* pseudo header: addresses, protocol, UDP length */
		if (c->v6)
			sum = pg_csum_add(0, f + l3 + 8, 32);
		else
			sum = pg_csum_add(0, f + l3 + 12, 8);
		uint8_t ph[4] = { 0, PROTO_UDP, (uint8_t)(ulen >> 8), (uint8_t)ulen };

		sum = pg_csum_add(sum, ph, 4);
		sum = pg_csum_add(sum, f + l4, ulen);
		uint16_t ck = pg_csum_fold(sum);

		if (ck == 0)
			ck = 0xffff; /* 0 means "no checksum" in UDP */
		memcpy(f + l4 + 6, &ck, 2);
	}
}

int pg_gen_init(struct pg_gen *g, const struct pg_frame_cfg *cfg, uint64_t seed)
{
	const struct pg_frame_cfg *c = cfg;
	unsigned total = c->vnet_hdr_len + c->len_max;
	uint8_t *f;

	memset(g, 0, sizeof(*g));
	g->cfg = *cfg;
	if (c->len_min < pg_frame_min_len(c->v6, c->payload) || c->len_min > c->len_max ||
	    total > UNM_MAX_FRAME + 12)
		return -EINVAL;
	g->tmpl = calloc(1, total);
	if (!g->tmpl)
		return -ENOMEM;
	g->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
	g->l2_ofs = c->vnet_hdr_len;
	g->l3_ofs = g->l2_ofs + ETH_HLEN;
	g->l4_ofs = g->l3_ofs + (c->v6 ? IP6_HLEN : IP4_HLEN);
	g->pay_ofs = g->l4_ofs + UDP_HLEN;
	g->sip = c->src.ip_lo, g->sport = c->src.port_lo;
	g->dip = c->dst.ip_lo, g->dport = c->dst.port_lo;

	/* The virtio-net header stays zero: no offload, no GSO. */
	f = g->tmpl + g->l2_ofs;
	memcpy(f, c->dmac, 6);
	memcpy(f + 6, c->smac, 6);
	put16(f + 12, c->v6 ? ETH_P_IPV6 : ETH_P_IP);
	f += ETH_HLEN;
	if (c->v6) {
		put32(f, 0x60000000);          /* version 6, no class, no flow */
		f[6] = PROTO_UDP;
		f[7] = 64;                     /* hop limit */
		memcpy(f + 8, c->src.ip6_hi, 12);
		memcpy(f + 24, c->dst.ip6_hi, 12);
	} else {
		f[0] = 0x45;                   /* version 4, 5 words */
		f[6] = 0x40;                   /* DF */
		f[8] = 64;                     /* TTL */
		f[9] = PROTO_UDP;
	}
	for (unsigned i = g->pay_ofs; i < total; i++)
		g->tmpl[i] = (uint8_t)("unetmap pkt-gen payload "[(i - g->pay_ofs) % 24]);
	patch(g, g->tmpl + g->l2_ofs, c->len_max, 0, 0);
	g->fixed = c->len_min == c->len_max && c->payload == PG_PAY_NONE &&
		   !c->rand_src && !c->rand_dst && span_single(&c->src) && span_single(&c->dst);
	return 0;
}

void pg_gen_free(struct pg_gen *g)
{
	free(g->tmpl);
	g->tmpl = NULL;
}

unsigned pg_gen_len(struct pg_gen *g)
{
	const struct pg_frame_cfg *c = &g->cfg;

	if (c->len_min == c->len_max)
		return c->vnet_hdr_len + c->len_min;
	return c->vnet_hdr_len + rand_in(&g->rng, c->len_min, c->len_max);
}

void pg_gen_write(struct pg_gen *g, uint8_t *dst, unsigned len, uint64_t seq, uint64_t ts)
{
	memcpy(dst, g->tmpl, len);
	if (g->fixed)
		return;
	patch(g, dst + g->l2_ofs, len - g->l2_ofs, seq, ts);
	next_addrs(g);
}

int pg_parse(const uint8_t *f, unsigned len, unsigned vnet, uint64_t *seq, uint64_t *ts)
{
	unsigned l3 = vnet + ETH_HLEN, pay;
	uint16_t et;

	if (len < l3 + IP4_HLEN)
		return -1;
	et = get16(f + vnet + 12);
	if (et == ETH_P_IP) {
		unsigned ihl = (f[l3] & 0x0f) * 4u;

		if ((f[l3] >> 4) != 4 || ihl < IP4_HLEN || f[l3 + 9] != PROTO_UDP)
			return -1;
		pay = l3 + ihl + UDP_HLEN;
	} else if (et == ETH_P_IPV6) {
		if (len < l3 + IP6_HLEN || (f[l3] >> 4) != 6 || f[l3 + 6] != PROTO_UDP)
			return -1;
		pay = l3 + IP6_HLEN + UDP_HLEN;
	} else {
		return -1;
	}
	if (len < pay + 8)
		return -1;
	memcpy(seq, f + pay, 8);
	if (ts && len >= pay + 16)
		memcpy(ts, f + pay + 8, 8);
	return (int)pay;
}

static void swap_bytes(uint8_t *a, uint8_t *b, unsigned n)
{
	uint8_t t[16];

	memcpy(t, a, n);
	memcpy(a, b, n);
	memcpy(b, t, n);
}

void pg_swap(uint8_t *f, unsigned len, unsigned vnet)
{
	unsigned l3 = vnet + ETH_HLEN;
	uint16_t et;

	if (len < l3)
		return;
	swap_bytes(f + vnet, f + vnet + 6, 6);
	et = get16(f + vnet + 12);
	if (et == ETH_P_IP && len >= l3 + IP4_HLEN) {
		unsigned ihl = (f[l3] & 0x0f) * 4u;

		swap_bytes(f + l3 + 12, f + l3 + 16, 4);
		if (f[l3 + 9] == PROTO_UDP && ihl >= IP4_HLEN && len >= l3 + ihl + 4)
			swap_bytes(f + l3 + ihl, f + l3 + ihl + 2, 2);
	} else if (et == ETH_P_IPV6 && len >= l3 + IP6_HLEN) {
		swap_bytes(f + l3 + 8, f + l3 + 24, 16);
		if (f[l3 + 6] == PROTO_UDP && len >= l3 + IP6_HLEN + 4)
			swap_bytes(f + l3 + IP6_HLEN, f + l3 + IP6_HLEN + 2, 2);
	}
}
