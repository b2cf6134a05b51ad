/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hostile.h - the random source of the tests that write garbage into
 * shared memory: a xorshift64 generator (one state per process: seed it
 * with t_rnd_seed() after fork) and nasty(), a value a validator has to
 * think about. Header-only: each test is one program.
 */
#ifndef UNM_TEST_HOSTILE_H
#define UNM_TEST_HOSTILE_H

#include <stdint.h>

static uint64_t t_rnd_state = 0x9e3779b97f4a7c15ull;

static inline void t_rnd_seed(uint64_t seed)
{
	t_rnd_state = seed | 1; /* xorshift never leaves 0 */
}

static inline uint64_t rnd(void)
{
	t_rnd_state ^= t_rnd_state << 13;
	t_rnd_state ^= t_rnd_state >> 7;
	t_rnd_state ^= t_rnd_state << 17;
	return t_rnd_state;
}

/* For a ring of NS slots: in range, the last slot, edges, small, junk. */
static inline uint32_t nasty(uint32_t ns)
{
	switch (rnd() % 6) {
	case 0: return (uint32_t)(rnd() % (ns + 2));
	case 1: return ns - 1;
	case 2: return 0xffffffffu;
	case 3: return (uint32_t)rnd() % 8;
	case 4: return 1u << (rnd() % 32);
	default: return (uint32_t)rnd();
	}
}

#endif
