// SPDX-License-Identifier: BSD-2-Clause
/* domain.c - implementation of tests/lib/domain.h. */
#include <stdint.h>
#include <stdlib.h>
#include "test.h"
#include "domain.h"
#include "unmd.h"

void t_dom_check_buffers(void *base, const struct unm_dom_layout *l)
{
	unsigned char *seen = calloc(l->buf_count, 1);

	T_ASSERT(seen);
	for (unsigned k = 0; k < l->max_members; k++)
		for (unsigned w = 0; w < 3; w++) {
			struct unm_ring *ring = unm_dom_ring(base, l, k, w);

			for (unsigned s = 0; s < l->nslots; s++) {
				uint32_t b = ring->slot[s].buf_idx;

				if (b < 2 || b >= l->buf_count)
					T_FAIL("member %u ring %u slot %u: buffer %u outside the pool",
					       k, w, s, b);
				if (seen[b]++)
					T_FAIL("buffer %u in two slots (member %u ring %u slot %u)", b,
					       k, w, s);
			}
		}
	for (uint32_t b = 2; b < l->buf_count; b++)
		if (!seen[b])
			T_FAIL("buffer %u in no slot", b);
	free(seen);
	printf("%u buffers, each in exactly one slot\n", l->buf_count - 2);
}

void t_dom_switch(const char *sw)
{
	T_ASSERT_EQ(t_ctl(UNM_CTL_SWITCH_ADD, sw, "", 0), 0);
	T_ASSERT_EQ(t_ctl(UNM_CTL_SWITCH_SET, sw, "domains", 1), 0);
}
