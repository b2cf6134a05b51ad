/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * domain.h - trust domains of a switch (unm/shm.h UNM_REGION_DOMAIN):
 * what unmd (the region's maker, daemon/domain.c) and libunm (a member,
 * lib/domain.c) share: the layout, the learning-table hash and the claim
 * tokens. Exposed to unmd by lib/internal-api/unm-domain.h.
 * lt_ / LT_ = the domain's learning table (MAC -> member), not the
 * switch's (daemon/vale_learn.c).
 */
#ifndef UNM_DOMAIN_H
#define UNM_DOMAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "unm/shm.h"
#include "unm/ring.h"

#define UNM_DOM_LT_BUCKETS 256          /* x UNM_DOM_LT_WAYS entries */
#define UNM_DOM_UNMD_TOKEN 0xffffffffu  /* unmd's claim token */
#define UNM_DOM_NAME_MAX   16           /* @conf:domain=NAME, NUL included */

/* Member block: control lines, unm_if (+3 ring offsets), TX, RX, UP rings. */
#define UNM_DOM_IF_OFS   1024u
#define UNM_DOM_RING0    1152u
enum { UNM_DOM_TX = 0, UNM_DOM_RX = 1, UNM_DOM_UP = 2 };

/* Where everything is; a pure function of (max_members, nslots, buf_size). */
struct unm_dom_layout {
	uint32_t max_members, nslots, buf_size, lt_buckets, buf_count;
	uint64_t lt_ofs, members_ofs, member_size, ring_bytes, pool_ofs, size;
};

/* Fill L; -EINVAL if a value is out of range (members 1..UNM_DOM_MAX_MEMBERS,
 * slots UNM_MIN_SLOTS..UNM_MAX_SLOTS, buf_size UNM_MIN_BUF_SIZE..). */
int unm_dom_layout(uint32_t max_members, uint32_t nslots, uint32_t buf_size,
		   struct unm_dom_layout *l) __attribute__((visibility("hidden")));

/* Build a domain region for L in a new sealed memfd, mapped at *BASE.
 * Every ring starts empty with its own distinct buffers. 0 or -errno. */
int unm_dom_create(const struct unm_dom_layout *l, int *fd, void **base)
	__attribute__((visibility("hidden")));

/* Map and validate the domain region in FD (a member): the header must
 * give back exactly the layout its geometry computes. 0 or -EBADMSG. */
int unm_dom_map(int fd, struct unm_dom_layout *l, void **base, char *err, size_t errlen)
	__attribute__((visibility("hidden")));

/* Reset member K's indexes and rings to an empty start (unmd, at join). */
void unm_dom_member_reset(void *base, const struct unm_dom_layout *l, unsigned k)
	__attribute__((visibility("hidden")));

/* Member index + 1 of port P (lib/domain.c), 0 if P is not a domain member. */
struct unm_port;
uint32_t unm_dom_member_of(const struct unm_port *p) __attribute__((visibility("hidden")));

/* A member's ctail word (unm/shm.h): claim token and rx_hwtail. */
static inline uint64_t unm_dom_ct(uint32_t token, uint32_t tail)
{
	return (uint64_t)tail << 32 | token;
}

static inline uint32_t unm_dom_ct_token(uint64_t w)
{
	return (uint32_t)w;
}

static inline uint32_t unm_dom_ct_tail(uint64_t w)
{
	return (uint32_t)(w >> 32);
}

/* Clear token TOKEN's claim on ctail word *W, keeping its tail: true if
 * it was held by TOKEN and is cleared now (a CAS per attempt, so a claim
 * released or re-made meanwhile is left alone). Used by unmd for holders
 * that can no longer write (daemon/domain.c). */
static inline bool unm_dom_ct_clear(uint64_t *w, uint32_t token)
{
	uint64_t c = __atomic_load_n(w, __ATOMIC_ACQUIRE);

	while (token && unm_dom_ct_token(c) == token)
		if (__atomic_compare_exchange_n(w, &c, c & ~0xffffffffull, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return true;
	return false;
}

static inline struct unm_dom_hdr *unm_dom_hdr(void *base)
{
	return (struct unm_dom_hdr *)((char *)base + 256);
}

static inline struct unm_dom_member *unm_dom_member(void *base, const struct unm_dom_layout *l,
						    unsigned k)
{
	return (struct unm_dom_member *)((char *)base + l->members_ofs + (uint64_t)k * l->member_size);
}

static inline struct unm_ring *unm_dom_ring(void *base, const struct unm_dom_layout *l,
					    unsigned k, unsigned which)
{
	return (struct unm_ring *)((char *)unm_dom_member(base, l, k) + UNM_DOM_RING0 +
				   (uint64_t)which * l->ring_bytes);
}

static inline struct unm_dom_lt_ent *unm_dom_lt(void *base, const struct unm_dom_layout *l)
{
	return (struct unm_dom_lt_ent *)((char *)base + l->lt_ofs);
}

static inline uint64_t unm_dom_mac(const uint8_t *m)
{
	return (uint64_t)m[0] | (uint64_t)m[1] << 8 | (uint64_t)m[2] << 16 |
	       (uint64_t)m[3] << 24 | (uint64_t)m[4] << 32 | (uint64_t)m[5] << 40;
}

/* Destination and source MAC of frame F (at least 12 bytes), as
 * unm_dom_mac gives them, with two loads instead of twelve. */
static inline void unm_dom_macs(const uint8_t *f, uint64_t *dmac, uint64_t *smac)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t w0, w1;

	memcpy(&w0, f, 8);
	memcpy(&w1, f + 4, 8);
	*dmac = w0 & 0xffffffffffffull;
	*smac = w1 >> 16;
#else
	*dmac = unm_dom_mac(f);
	*smac = unm_dom_mac(f + 6);
#endif
}

static inline unsigned unm_dom_bucket(uint64_t mac)
{
	uint64_t h = mac * 0x9e3779b97f4a7c15ull;

	return (unsigned)(h >> 56) & (UNM_DOM_LT_BUCKETS - 1);
}

/*
 * Lookup of MAC (48 bits): member index, UNM_DOM_UPLINK, or -1 (unknown).
 * The table is shared and racy by design: each entry is one 64-bit word,
 * read once; any value is possible and the caller range-checks it.
 */
static inline int unm_dom_lookup(struct unm_dom_lt_ent *lt, uint64_t mac)
{
	struct unm_dom_lt_ent *b = lt + (size_t)unm_dom_bucket(mac) * UNM_DOM_LT_WAYS;

	for (unsigned w = 0; w < UNM_DOM_LT_WAYS; w++) {
		uint64_t k = __atomic_load_n(&b[w].key, __ATOMIC_RELAXED);

		if (k && (k & 0xffffffffffffull) == mac)
			return (int)(k >> 48) - 1;
	}
	return -1;
}

/* Learn MAC -> WHO (member index or UNM_DOM_UPLINK) at NOW_MS. Group
 * addresses are never learned. Replaces the oldest way of the bucket. */
static inline void unm_dom_learn(struct unm_dom_lt_ent *lt, uint64_t mac, unsigned who,
				 uint32_t now_ms)
{
	struct unm_dom_lt_ent *b = lt + (size_t)unm_dom_bucket(mac) * UNM_DOM_LT_WAYS;
	uint64_t want = mac | (uint64_t)(who + 1) << 48;
	unsigned victim = 0;
	uint32_t best_age = 0;
	bool empty = false;

	if (mac & 1)
		return;
	for (unsigned w = 0; w < UNM_DOM_LT_WAYS; w++) {
		uint64_t k = __atomic_load_n(&b[w].key, __ATOMIC_RELAXED);
		uint32_t seen = __atomic_load_n(&b[w].seen_ms, __ATOMIC_RELAXED);

		if (k && (k & 0xffffffffffffull) == mac) {
			if (k != want)
				__atomic_store_n(&b[w].key, want, __ATOMIC_RELAXED);
			if (seen != now_ms)
				__atomic_store_n(&b[w].seen_ms, now_ms, __ATOMIC_RELAXED);
			return;
		}
		if (!k && !empty) {
			victim = w;
			empty = true;
		} else if (k && !empty && now_ms - seen >= best_age) {
			victim = w;
			best_age = now_ms - seen;
		}
	}
	__atomic_store_n(&b[victim].seen_ms, now_ms, __ATOMIC_RELAXED);
	__atomic_store_n(&b[victim].key, want, __ATOMIC_RELAXED);
}

#endif
