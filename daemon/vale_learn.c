// SPDX-License-Identifier: BSD-2-Clause
/*
 * vale_learn.c - the default lookup function of a switch: an Ethernet
 * learning bridge (netmap's netmap_bdg_learning), behind vs_lookup_ops.
 *
 * Table: LT_SETS x LT_WAYS = 4096 entries, set-associative, hashed on the
 * MAC. A source MAC is learned (or moved to its new port: station move,
 * once it has been quiet for LT_MOVE_HOLD_NS where it was) on every frame
 * whose source is unicast; an entry not refreshed for
 * LT_AGE_NS is ignored and reused. Unknown unicast, broadcast and
 * multicast destinations flood (VS_BCAST); a destination on the source
 * port itself is dropped (netmap does the same).
 *
 * Prefixes: lt_ / LT_ = learning table (this file; parameters in
 * vale_learn.h); vs_ = the switch (vale.c, daemon/unmd.h).
 *
 * Threads: called by the forwarding thread (lookup) and the control
 * thread (port_gone, dump, count), always with d->lock held.
 */
#include <stdlib.h>
#include <string.h>
#include "unmd.h"
#include "vale_learn.h"

struct lt_ent {
	uint8_t mac[6];
	uint8_t port;
	uint8_t used;
	uint64_t seen_ns;
};

struct lt {
	struct lt_ent set[LT_SETS][LT_WAYS];
	/* Streams repeat the same MACs frame after frame: remember the last
	 * source learned and the last destination found. gen changes
	 * whenever any MAC -> port mapping does, invalidating dst_cache. */
	uint64_t gen;
	uint8_t src_mac[6], dst_mac[6];
	unsigned src_port, dst_port;
	uint64_t src_ns, dst_ns, dst_gen;
	bool src_ok, dst_ok;
};

static inline unsigned lt_hash(const uint8_t *m)
{
	uint64_t v = 0;

	memcpy(&v, m, 6);
	v *= 0x9e3779b97f4a7c15ull;
	return (unsigned)(v >> 54) & (LT_SETS - 1);
}

static inline bool live(const struct lt_ent *e, uint64_t now)
{
	return e->used && now - e->seen_ns < LT_AGE_NS;
}

static void *lt_create(void)
{
	return calloc(1, sizeof(struct lt));
}

static void lt_destroy(void *t)
{
	free(t);
}

static void learn(struct lt *t, const uint8_t *src, unsigned port, uint64_t now)
{
	struct lt_ent *s = t->set[lt_hash(src)];
	struct lt_ent *victim = &s[0];

	for (unsigned w = 0; w < LT_WAYS; w++) {
		if (s[w].used && !memcmp(s[w].mac, src, 6)) {
			if (s[w].port != port) {
				if (live(&s[w], now) && now - s[w].seen_ns < LT_MOVE_HOLD_NS)
					return; /* still in use where it is: no move */
				t->gen++; /* station move */
			}
			s[w].port = (uint8_t)port;
			s[w].seen_ns = now;
			return;
		}
		if (!live(&s[w], now))
			victim = &s[w];
		else if (live(victim, now) && s[w].seen_ns < victim->seen_ns)
			victim = &s[w];
	}
	t->gen++;
	memcpy(victim->mac, src, 6);
	victim->port = (uint8_t)port;
	victim->used = 1;
	victim->seen_ns = now;
}

static unsigned lt_lookup(void *vt, const uint8_t *frame, unsigned len, unsigned src,
			  uint64_t now)
{
	struct lt *t = vt;
	uint8_t dst[6], smac[6];
	struct lt_ent *s;

	memcpy(dst, frame, 6);      /* the sender may rewrite: one copy */
	memcpy(smac, frame + 6, 6);
	if (!(smac[0] & 1)) {
		/* refresh at most every 100 ms for a repeated source */
		if (!t->src_ok || t->src_port != src || memcmp(t->src_mac, smac, 6) ||
		    now - t->src_ns > 100000000ull) {
			learn(t, smac, src, now);
			memcpy(t->src_mac, smac, 6);
			t->src_port = src;
			t->src_ns = now;
			t->src_ok = true;
		}
	}
	if (dst[0] & 1)
		return VS_BCAST;
	/* a cached answer is at most 1 s old (ageing is 300 s) */
	if (t->dst_ok && t->dst_gen == t->gen && !memcmp(t->dst_mac, dst, 6) &&
	    now - t->dst_ns < 1000000000ull)
		return t->dst_port == src ? VS_DROP : t->dst_port;
	s = t->set[lt_hash(dst)];
	for (unsigned w = 0; w < LT_WAYS; w++)
		if (live(&s[w], now) && !memcmp(s[w].mac, dst, 6)) {
			memcpy(t->dst_mac, dst, 6);
			t->dst_port = s[w].port;
			t->dst_gen = t->gen;
			t->dst_ns = now;
			t->dst_ok = true;
			return s[w].port == src ? VS_DROP : s[w].port;
		}
	return VS_BCAST;
}

static void lt_port_gone(void *vt, unsigned port)
{
	struct lt *t = vt;

	for (unsigned i = 0; i < LT_SETS; i++)
		for (unsigned w = 0; w < LT_WAYS; w++)
			if (t->set[i][w].used && t->set[i][w].port == port)
				t->set[i][w].used = 0;
	t->gen++;
	t->src_ok = t->dst_ok = false;
}

static void lt_dump(void *vt, uint64_t now,
		    void (*cb)(void *arg, const uint8_t mac[6], unsigned port, uint32_t age_ms),
		    void *arg)
{
	struct lt *t = vt;

	for (unsigned i = 0; i < LT_SETS; i++)
		for (unsigned w = 0; w < LT_WAYS; w++)
			if (live(&t->set[i][w], now))
				cb(arg, t->set[i][w].mac, t->set[i][w].port,
				   (uint32_t)((now - t->set[i][w].seen_ns) / 1000000));
}

static unsigned lt_count(void *vt, uint64_t now)
{
	struct lt *t = vt;
	unsigned n = 0;

	for (unsigned i = 0; i < LT_SETS; i++)
		for (unsigned w = 0; w < LT_WAYS; w++)
			n += live(&t->set[i][w], now);
	return n;
}

const struct vs_lookup_ops vs_learning_ops = {
	.name = "learning",
	.l2_only = true,
	.create = lt_create,
	.destroy = lt_destroy,
	.lookup = lt_lookup,
	.port_gone = lt_port_gone,
	.dump = lt_dump,
	.count = lt_count,
};
