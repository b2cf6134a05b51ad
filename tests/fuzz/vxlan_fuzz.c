// SPDX-License-Identifier: BSD-2-Clause
/*
 * vxlan_fuzz.c - fuzz target for the vxlan port's receive checks and its
 * learning table (lib/backend/vxlan_conf.c), the path every datagram from
 * the underlay takes before anything else sees it.
 *
 * Input: one text line "REMOTES@XCONF\n" (the vxlan name's remote list
 * and its own @conf options; if the parser refuses it, a fixed
 * configuration with remotes 198.18.0.2 and .3, VNI 42, learn=16 is used),
 * then records [len_hi][len_lo][src][flags][datagram: len bytes]: src
 * picks the datagram's source address (low bits: which remote, bit 7: an
 * address that is no remote; bit 6: the record is a UDP GRO read, its
 * first two bytes the segment size, the rest cut into datagrams by
 * unm_vxlan_gro_seg() as the RX sync cuts it), flags bit 0 marks it
 * truncated. Each datagram is its own exact-size heap block (ASan sees
 * any read past it) and goes through unm_vxlan_rx_check(); an accepted one
 * has its inner source MAC learned and its flow hashed, exactly as the RX
 * sync does, and its inner frame goes through the TCP coalescing checks:
 * as it is, and with its IPv4 and TCP checksums made right (so that the
 * fuzzer reaches past them). Invariants: the verdict is OK or a known
 * reason; an accepted datagram is at least header + Ethernet header long,
 * carries the I flag and the port's VNI; the table never holds more than
 * its limit; a learned MAC is found again behind the address it came
 * from; a parsed TCP segment's offsets lie inside it (with and without
 * its checksum checked, rxcsum=trust's parse, which accepts a superset
 * with the same offsets); a segment that
 * follows the previous one, appended to it and fixed up by
 * unm_vxlan_tcp_fix(), gives a frame whose NEEDS_CSUM checksum, once
 * completed, parses again with the summed payload.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "unm-internal.h"
#include "unm-vxlan.h"
#include "unm-offload.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static void fixed_conf(struct unm_vxlan_conf *vc)
{
	memset(vc, 0, sizeof(*vc));
	vc->family = AF_INET;
	vc->n_remotes = 2;
	for (unsigned i = 0; i < 2; i++) {
		vc->remote[i].v4.sin_family = AF_INET;
		vc->remote[i].v4.sin_addr.s_addr = htonl(0xc6120002u + i);
		vc->remote[i].v4.sin_port = htons(4789);
	}
	vc->vni = 42;
	vc->port = 4789;
	vc->learn_max = 16;
	vc->ageing_s = 300;
}

/* The previous segment that parsed (kept to try appending the next). */
static uint8_t prev[UNM_MAX_FRAME];
static size_t prev_len;
static struct vx_tcp prev_t;

/* Make the IPv4 header and TCP checksums of F right, when they can be. */
static void fix_sums(uint8_t *f, size_t len)
{
	size_t l4 = 0;
	uint16_t c;

	if (len >= 34 && f[12] == 0x08 && f[13] == 0 && (f[14] & 15) >= 5 &&
	    14 + (size_t)(f[14] & 15) * 4 + 20 <= len) {
		size_t ihl = (size_t)(f[14] & 15) * 4;

		f[16] = (uint8_t)((len - 14) >> 8);
		f[17] = (uint8_t)(len - 14);
		c = unm_csum_ipv4_hdr(f + 14, ihl);
		memcpy(f + 24, &c, 2);
		l4 = 14 + ihl;
		c = unm_csum_tcpudp_v4(f + 26, f + 30, 6, f + l4, len - l4);
	} else if (len >= 74 && f[12] == 0x86 && f[13] == 0xdd) {
		f[18] = (uint8_t)((len - 54) >> 8);
		f[19] = (uint8_t)(len - 54);
		l4 = 54;
		c = unm_csum_tcpudp_v6(f + 22, f + 38, 6, f + l4, len - l4);
	} else {
		return;
	}
	memcpy(f + l4 + 16, &c, 2);
}

static void tcp_checks(const uint8_t *f, size_t len)
{
	static uint8_t m[UNM_MAX_FRAME + 2048];
	struct vx_tcp t, t2, h, ts;
	struct unm_frag fr;
	bool hd = unm_vxlan_tcp_hdrs(f, len, &h);
	bool sg = unm_vxlan_tcp_seg(f, len, &ts);

	/* rxcsum=trust's parse: the headers' checks and the flags, no
	 * checksum; whatever parses with its checksum parses without */
	CHECK(!sg || (hd && (ts.flags == 0x10 || ts.flags == 0x18) && ts.poff == h.poff &&
		      ts.plen == h.plen && ts.seq == h.seq));
	CHECK(sg || !hd || (h.flags != 0x10 && h.flags != 0x18));

	if (hd) {
		/* the whole-TSO-frame path: any flags, the checksum field
		 * rewritten to the pseudo-header sum, completed by the taker */
		CHECK(h.l4 >= 34 && h.poff >= h.l4 + 20 && h.poff < len && h.plen == len - h.poff);
		memcpy(m, f, len);
		unm_vxlan_tcp_fix(m, &h, len, h.flags);
		fr.ptr = m;
		fr.len = len;
		CHECK(unm_csum_complete(&fr, 1, h.l4, 16) == 0);
		CHECK(unm_vxlan_tcp_hdrs(m, len, &t2) && t2.plen == h.plen && t2.seq == h.seq);
		if (h.flags == 0x10 || h.flags == 0x18)
			CHECK(unm_vxlan_tcp_parse(m, len, &t2));
	}
	if (!unm_vxlan_tcp_parse(f, len, &t))
		return;
	CHECK(hd && sg);
	CHECK(t.l4 >= 34 && t.poff >= t.l4 + 20 && t.poff < len && t.plen == len - t.poff);
	CHECK(t.flags == 0x10 || t.flags == 0x18);
	if (prev_len && !(prev_t.flags & 0x08) && t.plen <= prev_t.plen &&
	    prev_len + t.plen <= UNM_MAX_FRAME &&
	    unm_vxlan_tcp_follows(prev, &prev_t, prev_t.seq + prev_t.plen, f, &t)) {
		size_t total = prev_len + t.plen;

		CHECK(!memcmp(prev, f, 14) && t.poff == prev_t.poff);
		memcpy(m, prev, prev_len);
		memcpy(m + prev_len, f + t.poff, t.plen);
		unm_vxlan_tcp_fix(m, &prev_t, total, t.flags);
		fr.ptr = m;
		fr.len = total;
		CHECK(unm_csum_complete(&fr, 1, prev_t.l4, 16) == 0);
		CHECK(unm_vxlan_tcp_parse(m, total, &t2));
		CHECK(t2.plen == prev_t.plen + t.plen && t2.seq == prev_t.seq && t2.flags == t.flags);
	}
	memcpy(prev, f, len);
	prev_len = len;
	prev_t = t;
}

static void inner_checks(const uint8_t *f, size_t len)
{
	uint8_t *c = malloc(len);

	tcp_checks(f, len);
	memcpy(c, f, len);
	fix_sums(c, len);
	tcp_checks(c, len);
	free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size < 400 ? size : 400);
	struct unm_vxlan_conf vc;
	struct unm_spec sp;
	struct vx_fdb t;
	uint64_t now = 1000000000ull;
	char err[160];
	size_t pos = 0;

	memset(&sp, 0, sizeof(sp));
	if (nl) {
		const uint8_t *at = memchr(data, '@', (size_t)(nl - data));
		size_t rl = at ? (size_t)(at - data) : (size_t)(nl - data);
		size_t xl = at ? (size_t)(nl - at - 1) : 0;

		if (rl < sizeof(sp.path) && xl < sizeof(sp.xconf)) {
			memcpy(sp.path, data, rl);
			if (at)
				memcpy(sp.xconf, at + 1, xl);
		}
		pos = (size_t)(nl - data) + 1;
	}
	if (!nl || unm_vxlan_conf_parse(&sp, &vc, err, sizeof(err))) {
		fixed_conf(&vc);
	} else {
		CHECK(vc.n_remotes >= 1 && vc.n_remotes <= VX_MAX_REMOTES);
		CHECK(vc.vni <= 0xffffff && vc.learn_max >= 1 && vc.learn_max <= VX_MAX_LEARN);
		CHECK(vc.family == AF_INET || vc.family == AF_INET6);
		if (vc.learn_max > 256)
			vc.learn_max = 256; /* keep each run fast */
	}
	if (unm_vxlan_fdb_init(&t, vc.learn_max, vc.ageing_s))
		return 0;
	prev_len = 0;
	while (pos + 4 <= size) {
		size_t len = (size_t)data[pos] << 8 | data[pos + 1];
		uint8_t sel = data[pos + 2], fl = data[pos + 3];
		union vx_addr src;
		uint8_t *d;
		size_t off;
		uint32_t gso;
		int v;

		pos += 4;
		if (len > size - pos)
			len = size - pos;
		d = malloc(len ? len : 1);
		memcpy(d, data + pos, len);
		pos += len;
		src = vc.remote[sel % vc.n_remotes];
		if (sel & 0x80) { /* an address that is no configured remote */
			if (src.sa.sa_family == AF_INET)
				src.v4.sin_addr.s_addr ^= htonl(0x00ff0000u);
			else
				src.v6.sin6_addr.s6_addr[1] ^= 0xff;
		}
		gso = 0;
		off = 0;
		if ((sel & 0x40) && len >= 2) {
			gso = (uint32_t)d[0] << 8 | d[1];
			off = 2;
		}
		while (off < len || off == 0) {
			size_t sl = off < len ? unm_vxlan_gro_seg(len, off, gso) : 0;
			uint8_t *g = malloc(sl ? sl : 1);

			CHECK(off + sl <= len && (sl > 0 || len == 0 || off == len));
			memcpy(g, d + off, sl);
			v = unm_vxlan_rx_check(&vc, g, sl, fl & 1, &src, 1518);
			CHECK(v == VX_RX_OK || (v >= 0 && v < UNM_VXLAN_RX_REASONS));
			if (v == VX_RX_OK) {
				const struct vx_fdb_ent *e;

				CHECK(sl >= VX_HDR_LEN + 14 && sl - VX_HDR_LEN <= 1518 && !(fl & 1));
				CHECK(g[0] & VX_FLAG_I);
				CHECK(((uint32_t)g[4] << 16 | (uint32_t)g[5] << 8 | g[6]) == vc.vni);
				unm_vxlan_fdb_learn(&t, g + VX_HDR_LEN + 6, &src, now);
				e = unm_vxlan_fdb_find(&t, g + VX_HDR_LEN + 6, now);
				if (e)
					CHECK(unm_vxlan_addr_eq(&e->remote, &src));
				(void)unm_vxlan_flow_hash(g + VX_HDR_LEN, sl - VX_HDR_LEN);
				inner_checks(g + VX_HDR_LEN, sl - VX_HDR_LEN);
			}
			free(g);
			if (sl == 0)
				break;
			off += sl;
		}
		CHECK(t.n_used <= t.max);
		CHECK(unm_vxlan_fdb_count(&t, now) <= t.max);
		now += (uint64_t)(fl >> 1) * 10000000000ull; /* up to ~21 min: ageing */
		free(d);
	}
	unm_vxlan_fdb_free(&t);
	return 0;
}
