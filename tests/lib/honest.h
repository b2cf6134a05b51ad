/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * honest.h - the honest side of a port whose peer (or a scribbler) is
 * hostile: ring accesses that survive anything written into shared memory.
 * Header-only: each test is one program.
 */
#ifndef UNM_TEST_HONEST_H
#define UNM_TEST_HONEST_H

#include <stdint.h>
#include <string.h>
#include "unm/ring.h"

/*
 * Put up to MAX 64-byte frames (0x5a) in TX ring TX of NS slots over POOL
 * (NBUFS buffers of BS bytes). Everything in the ring can change under us,
 * so head and tail are read once and range-checked and a buffer index is
 * used only if it is in the pool. Returns the frames queued (the caller's
 * txsync publishes them).
 */
static inline unsigned t_fill_guarded(struct unm_ring *tx, uint32_t ns, char *pool, uint32_t bs,
				      uint32_t nbufs, unsigned max)
{
	uint32_t i = UNM_READ_ONCE(tx->head), t = UNM_READ_ONCE(tx->tail);
	unsigned n = 0;

	for (; i < ns && t < ns && i != t && n < max; n++) {
		uint32_t idx = UNM_READ_ONCE(tx->slot[i].buf_idx);

		if (idx < nbufs)
			memset(pool + (uint64_t)idx * bs, 0x5a, 64);
		tx->slot[i].len = 64;
		i = i + 1 == ns ? 0 : i + 1;
		tx->head = tx->cur = i;
	}
	return n;
}

#endif
