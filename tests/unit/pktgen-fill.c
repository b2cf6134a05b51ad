// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: unm-pktgen's fixed-frame fast path (fill.c) against an
 * in-memory ring: every slot it fills holds the whole frame with the
 * right length and flags; on a ring whose buffers stay put it writes
 * each buffer once and then only sets lengths; a slot that comes back
 * with another buffer (a scribbled one) gets the frame written again;
 * once a buffer has moved it stops trusting any buffer (one scribbled in
 * place afterwards is rewritten too); without a kept array it writes
 * every frame; head wraps and max is obeyed.
 */
#include "../../tools/unm-pktgen/fill.c"
#include "../lib/test.h"

#define NSLOTS 16
#define NBUFS  40
#define BUFSZ  256
#define LEN    60

static struct unm_ring *fake_ring(void)
{
	size_t pool = 256 + NSLOTS * sizeof(struct unm_slot);
	struct unm_ring *r = calloc(1, pool + (size_t)NBUFS * BUFSZ);
	int64_t ofs = (int64_t)pool;
	uint32_t n = NSLOTS, b = BUFSZ;

	T_ASSERT(r);
	memcpy((void *)&r->buf_ofs, &ofs, sizeof(ofs));
	memcpy((void *)&r->num_slots, &n, sizeof(n));
	memcpy((void *)&r->nr_buf_size, &b, sizeof(b));
	for (uint32_t i = 0; i < NSLOTS; i++) {
		r->slot[i].buf_idx = i + 2;
		r->slot[i].flags = UNM_NS_MOREFRAG; /* garbage the fill must clear */
	}
	r->tail = NSLOTS - 1; /* TX: all free */
	return r;
}

/* Slots [from, from + n) hold the frame. */
static void check_frames(const struct unm_ring *r, uint32_t from, uint32_t n, const uint8_t *tmpl)
{
	for (uint32_t k = 0, i = from; k < n; k++, i = unm_ring_next(r, i)) {
		T_ASSERT_EQ(r->slot[i].len, LEN);
		T_ASSERT_EQ(r->slot[i].flags, 0);
		T_ASSERT(memcmp(unm_slot_buf(r, i), tmpl, LEN) == 0);
	}
}

/* The port completes everything: all slots but one free again. */
static void complete(struct unm_ring *r)
{
	r->tail = r->head == 0 ? NSLOTS - 1 : r->head - 1;
}

int main(void)
{
	struct unm_ring *r = fake_ring();
	uint8_t tmpl[LEN];
	uint64_t wr = 0;
	uint32_t *kept = pg_kept_new(r), *none = NULL, h;

	for (unsigned i = 0; i < LEN; i++)
		tmpl[i] = (uint8_t)(i * 7 + 1);
	T_ASSERT(kept);

	/* first pass: every buffer written, max obeyed */
	T_ASSERT_EQ(pg_fill_fixed(r, &kept, tmpl, LEN, 5, &wr), 5);
	T_ASSERT_EQ(r->head, 5);
	T_ASSERT_EQ(r->cur, 5);
	T_ASSERT_EQ(wr, 5);
	T_ASSERT_EQ(pg_fill_fixed(r, &kept, tmpl, LEN, 100, &wr), NSLOTS - 1 - 5);
	T_ASSERT_EQ(wr, NSLOTS - 1);
	check_frames(r, 0, NSLOTS - 1, tmpl);

	/* the next passes (wrapping) write nothing new: buffers stay put */
	for (int pass = 0; pass < 3; pass++) {
		complete(r);
		h = r->head;
		T_ASSERT_EQ(pg_fill_fixed(r, &kept, tmpl, LEN, 100, &wr), NSLOTS - 1);
		check_frames(r, h, NSLOTS - 1, tmpl);
	}
	T_ASSERT_EQ(wr, NSLOTS); /* the one slot never filled before, once */
	T_ASSERT(kept != NULL);

	/* a slot comes back with a buffer never seen, scribbled: rewritten,
	 * and the ring stops keeping */
	complete(r);
	h = r->head;
	r->slot[h].buf_idx = NSLOTS + 10;
	memset(unm_slot_buf(r, h), 0xee, BUFSZ);
	T_ASSERT_EQ(pg_fill_fixed(r, &kept, tmpl, LEN, 3, &wr), 3);
	check_frames(r, h, 3, tmpl);
	T_ASSERT(kept == NULL);

	/* after a move nothing is trusted: a buffer scribbled in place (its
	 * index unchanged, as when it went away and came back) is rewritten */
	complete(r);
	h = r->head;
	for (uint32_t k = 0, i = h; k < NSLOTS - 1; k++, i = unm_ring_next(r, i))
		memset(unm_slot_buf(r, i), 0x55, LEN);
	T_ASSERT_EQ(pg_fill_fixed(r, &kept, tmpl, LEN, 100, &wr), NSLOTS - 1);
	check_frames(r, h, NSLOTS - 1, tmpl);

	/* no kept array at all (a port whose buffers others may write) */
	complete(r);
	h = r->head;
	memset(unm_slot_buf(r, h), 0, LEN);
	wr = 0;
	T_ASSERT_EQ(pg_fill_fixed(r, &none, tmpl, LEN, 4, &wr), 4);
	T_ASSERT_EQ(wr, 4);
	check_frames(r, h, 4, tmpl);

	/* a full ring: nothing */
	T_ASSERT_EQ(pg_fill_fixed(r, &none, tmpl, LEN, 100, &wr), NSLOTS - 1 - 4);
	T_ASSERT_EQ(pg_fill_fixed(r, &none, tmpl, LEN, 100, &wr), 0);
	free(r);
	printf("ok\n");
	return 0;
}
