// SPDX-License-Identifier: BSD-2-Clause
/*
 * fill.c - the sender's fast path for one fixed frame (the default: no
 * field varies, one slot per frame, no capture, no -r or -X).
 *
 * Every frame is the same bytes, so a TX buffer that received the frame
 * still holds it when its slot comes round again, unless something else
 * wrote it. pkt-gen writes each buffer once and then only sets lengths
 * (it stops copying after its first 100000 frames and trusts that); this
 * does the same, but keeps track: kept[i] is the buffer slot i held when
 * the frame was written into it, and a slot holding another buffer gets
 * the frame written again. Buffers that move between rings (pipes and
 * trust domains swap them) may have been written by their other holders
 * while away and may come back into the same slot: the first moved
 * buffer seen on a ring drops its kept array, and from then on every
 * frame is written. The caller passes no kept array at all (NULL) for a
 * port whose TX buffers anyone but the switch reading them may touch.
 * Either way every frame leaves with the template's bytes, which
 * tests/unit/pktgen-fill.c checks against a ring whose buffers move and
 * are scribbled on.
 */
#include <stdlib.h>
#include <string.h>
#include "pktgen.h"

uint32_t *pg_kept_new(const struct unm_ring *r)
{
	/* buf_idx 0 and 1 are never valid: 0 = nothing written yet */
	return calloc(r->num_slots, sizeof(uint32_t));
}

/* RUN slots from SL on, KP their kept entries: set the length, write the
 * frame where the slot's buffer does not hold it yet. Returns the slots
 * done: fewer than RUN when a slot came back with another buffer. */
static uint32_t run_kept(const struct unm_ring *r, struct unm_slot *sl, uint32_t *kp,
			 uint32_t run, const uint8_t *tmpl, uint16_t len, uint64_t *rewritten)
{
	struct unm_slot *const first = sl, *const end = sl + run;

	for (; sl != end; sl++, kp++) {
		uint32_t b = sl->buf_idx;

		if (__builtin_expect(*kp != b, 0)) {
			if (*kp)
				break; /* moved */
			memcpy(unm_buf(r, b), tmpl, len);
			*kp = b;
			++*rewritten;
		}
		sl->len = len;
		sl->flags = 0;
	}
	return (uint32_t)(sl - first);
}

/* The same without kept: the frame goes into every buffer. */
static void run_write(const struct unm_ring *r, struct unm_slot *sl, uint32_t run,
		      const uint8_t *tmpl, uint16_t len, uint64_t *rewritten)
{
	for (struct unm_slot *const end = sl + run; sl != end; sl++) {
		memcpy(unm_buf(r, sl->buf_idx), tmpl, len);
		sl->len = len;
		sl->flags = 0;
	}
	*rewritten += run;
}

unsigned pg_fill_fixed(struct unm_ring *r, uint32_t **kept, const uint8_t *tmpl, uint16_t len,
		       unsigned max, uint64_t *rewritten)
{
	const uint32_t nslots = r->num_slots;
	uint32_t i = r->head, n = unm_ring_space(r);

	if (n > max)
		n = max;
	for (uint32_t left = n; left; ) { /* up to the ring's end, then from slot 0 */
		uint32_t run = left < nslots - i ? left : nslots - i, done = 0;
		struct unm_slot *sl = &r->slot[i];

		if (*kept) {
			done = run_kept(r, sl, *kept + i, run, tmpl, len, rewritten);
			if (done < run) { /* a buffer moved: stop keeping */
				free(*kept);
				*kept = NULL;
			}
		}
		run_write(r, sl + done, run - done, tmpl, len, rewritten);
		left -= run;
		i += run;
		if (i == nslots)
			i = 0;
	}
	unm_ring_advance(r, i);
	return n;
}
