// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a slow shmif reader is overrun and resynchronises. Port A
 * writes 0.5 to 10 bus sizes of frames (varied lengths) while port B does
 * not sync; B then receives only intact frames: every received frame is
 * checked byte for byte, sequence numbers strictly increase, the newest
 * frame is the last one sent, about one bus worth of frames survives, and
 * each lap is counted as an overrun (port drops). A reader that keeps up
 * loses nothing and counts no overrun.
 */
#include <errno.h>
#include <unm.h>
#include "unm-shmif-bus.h"
#include "shmif-common.h"

static uint32_t flen(uint32_t seq)
{
	return 60 + (seq * 131) % 1400;
}

int main(void)
{
	const char *path = tb_newpath("ovr");
	static const double laps[] = { 0.5, 0.99, 1.2, 1.5, 2.5, 10 };
	struct unm_port *a, *b;
	struct shmif_bus_stats bst;
	struct unm_port_stats ps = { .sz = sizeof(ps) };
	char name[200];
	uint8_t f[1514];
	uint32_t seq = 0;
	uint64_t overruns = 0;

	t_watchdog(30);
	snprintf(name, sizeof(name), "shmif:%s", path);
	T_ASSERT_EQ(unm_open(name, &a, NULL), 0);
	T_ASSERT_EQ(unm_open(name, &b, NULL), 0);

	for (unsigned k = 0; k < sizeof(laps) / sizeof(laps[0]); k++) {
		uint64_t bytes = 0, target = (uint64_t)(laps[k] * TW_DATA);
		uint32_t first_seq = seq;
		struct rxstate rx = { .next_seq = -1 };
		long prev = -1;

		while (bytes < target) {
			uint32_t len = flen(seq);

			tf_make(f, seq++, len, tf_bcast);
			T_ASSERT_EQ(unm_inject(a, f, len), (int)len);
			bytes += TW_PH + len;
		}
		T_ASSERT_EQ(unm_txsync(a, 0), 0);

		/* B catches up; check each frame, and order with gaps allowed */
		struct unm_ring *r = unm_ring_get(b, 0, 0);
		unsigned got = 0;

		T_ASSERT_EQ(unm_rxsync(b, 0), 0);
		while (!unm_ring_empty(r)) {
			struct unm_slot *s = &r->slot[r->head];
			long sq = tf_check((uint8_t *)unm_slot_buf(r, r->head), s->len);

			T_ASSERT(!(s->flags & UNM_NS_MOREFRAG));
			if (sq < 0 || sq <= prev || (uint32_t)sq < first_seq || s->len != flen((uint32_t)sq))
				T_FAIL("lap %.2f: frame %u: seq %ld after %ld, len %u", laps[k], got, sq,
				       prev, s->len);
			prev = sq;
			got++;
			unm_ring_advance(r, unm_ring_next(r, r->head));
			if (unm_ring_empty(r))
				T_ASSERT_EQ(unm_rxsync(b, 0), 0);
		}
		T_ASSERT_EQ(prev + 1, seq); /* the newest frame always survives */
		T_ASSERT_EQ(unm_shmif_port_stats(b, &bst, NULL, NULL), 0);
		if (laps[k] < 1) {
			T_ASSERT_EQ(got, seq - first_seq);
			T_ASSERT_EQ(bst.overruns, overruns);
		} else {
			/* lapped: one bus worth survives (mean record ~760 bytes) */
			T_ASSERT(bst.overruns == overruns + 1);
			T_ASSERT(got < seq - first_seq);
			T_ASSERT(got > TW_DATA / 1514);
			T_ASSERT((uint64_t)got * (TW_PH + 1460) >= TW_DATA - 2 * 1538);
		}
		overruns = bst.overruns;
		(void)rx;
	}
	T_ASSERT_EQ(unm_port_stats(b, &ps), 0);
	T_ASSERT_EQ(ps.drops, overruns);
	T_ASSERT_EQ(bst.bad_hdr + bst.bad_rec, 0);
	unm_close(a);
	unm_close(b);
	printf("ok: %llu overruns\n", (unsigned long long)overruns);
	return 0;
}
