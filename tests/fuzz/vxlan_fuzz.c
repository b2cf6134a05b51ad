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
 * address that is no remote), flags bit 0 marks it truncated. Each
 * datagram is its own exact-size heap block (ASan sees any read past it)
 * and goes through unm_vxlan_rx_check(); an accepted one has its inner
 * source MAC learned and its flow hashed, exactly as the RX sync does.
 * Invariants: the verdict is OK or a known reason; an accepted datagram
 * is at least header + Ethernet header long, carries the I flag and the
 * port's VNI; the table never holds more than its limit; a learned MAC is
 * found again behind the address it came from.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "unm-internal.h"
#include "unm-vxlan.h"

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
	while (pos + 4 <= size) {
		size_t len = (size_t)data[pos] << 8 | data[pos + 1];
		uint8_t sel = data[pos + 2], fl = data[pos + 3];
		union vx_addr src;
		uint8_t *d;
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
		v = unm_vxlan_rx_check(&vc, d, len, fl & 1, &src, 1518);
		CHECK(v == VX_RX_OK || (v >= 0 && v < UNM_VXLAN_RX_REASONS));
		if (v == VX_RX_OK) {
			const struct vx_fdb_ent *e;

			CHECK(len >= VX_HDR_LEN + 14 && len - VX_HDR_LEN <= 1518 && !(fl & 1));
			CHECK(d[0] & VX_FLAG_I);
			CHECK(((uint32_t)d[4] << 16 | (uint32_t)d[5] << 8 | d[6]) == vc.vni);
			unm_vxlan_fdb_learn(&t, d + VX_HDR_LEN + 6, &src, now);
			e = unm_vxlan_fdb_find(&t, d + VX_HDR_LEN + 6, now);
			if (e)
				CHECK(unm_vxlan_addr_eq(&e->remote, &src));
			(void)unm_vxlan_flow_hash(d + VX_HDR_LEN, len - VX_HDR_LEN);
		}
		CHECK(t.n_used <= t.max);
		CHECK(unm_vxlan_fdb_count(&t, now) <= t.max);
		now += (uint64_t)(fl >> 1) * 10000000000ull; /* up to ~21 min: ageing */
		free(d);
	}
	unm_vxlan_fdb_free(&t);
	return 0;
}
