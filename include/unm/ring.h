/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unm/ring.h - inline fast path: ring arithmetic, slot to buffer, barriers.
 *
 * A sender or receiver loop uses only these helpers between two syncs, so
 * it makes no library call per frame. They trust the ring header, which is
 * the library's to keep sane: every sync re-checks head/cur and rewrites the
 * ring's constant fields from the library's private copy if a peer changed
 * them. Everything here is ABI forever: keep it small.
 */
#ifndef UNM_RING_H
#define UNM_RING_H

#include <stdint.h>
#include <unm/shm.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Barriers. Every use in the library carries a tag [Xn] naming its partner;
 * docs/ordering.md lists the pairs.
 */
#define UNM_READ_ONCE(x)     __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define UNM_WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define unm_load_acquire(p)  __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define unm_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define unm_smp_mb()         __atomic_thread_fence(__ATOMIC_SEQ_CST)

/* TX ring i of a port descriptor. i < ni_tx_rings. */
static inline struct unm_ring *unm_txring(const struct unm_if *nifp, unsigned i)
{
	return (struct unm_ring *)((char *)(uintptr_t)nifp + nifp->ring_ofs[i]);
}

/* RX ring i of a port descriptor. i < ni_rx_rings. */
static inline struct unm_ring *unm_rxring(const struct unm_if *nifp, unsigned i)
{
	return (struct unm_ring *)((char *)(uintptr_t)nifp +
		nifp->ring_ofs[i + nifp->ni_tx_rings + nifp->ni_host_tx_rings]);
}

/* Slot index after i (wraps at num_slots). */
static inline uint32_t unm_ring_next(const struct unm_ring *r, uint32_t i)
{
	return i + 1 == r->num_slots ? 0 : i + 1;
}

/* Slots the application owns: [head, tail). TX: free slots; RX: frames. */
static inline uint32_t unm_ring_space(const struct unm_ring *r)
{
	int32_t n = (int32_t)(r->tail - r->head);

	return (uint32_t)(n < 0 ? n + (int32_t)r->num_slots : n);
}

/* True when the application owns no slot (TX full / RX empty). */
static inline int unm_ring_empty(const struct unm_ring *r)
{
	return r->head == r->tail;
}

/* TX: true while slots handed to the port have not completed. */
static inline int unm_tx_pending(const struct unm_ring *r)
{
	return unm_ring_next(r, r->tail) != r->head;
}

/* Address of buffer idx of the ring's region. idx must be valid. */
static inline char *unm_buf(const struct unm_ring *r, uint32_t idx)
{
	return (char *)(uintptr_t)r + r->buf_ofs + (uint64_t)idx * r->nr_buf_size;
}

/* Buffer index of an address inside the ring's buffer pool. */
static inline uint32_t unm_buf_idx(const struct unm_ring *r, const char *buf)
{
	return (uint32_t)((uint64_t)(buf - ((const char *)r + r->buf_ofs)) /
			  r->nr_buf_size);
}

/* Address of the data of slot i. */
static inline char *unm_slot_buf(const struct unm_ring *r, uint32_t i)
{
	return unm_buf(r, r->slot[i].buf_idx);
}

/* Advance head and cur to i (after filling or consuming up to i). */
static inline void unm_ring_advance(struct unm_ring *r, uint32_t i)
{
	r->head = r->cur = i;
}

#ifdef __cplusplus
}
#endif
#endif /* UNM_RING_H */
