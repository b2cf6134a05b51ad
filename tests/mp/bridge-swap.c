// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: unm-bridge's engine (tools/unm-bridge/fwd.c, compiled in)
 * in zero-copy swap mode and in copy mode. Two ends of one pipe opened in
 * this process share a region, the only case where unm-bridge swaps, so
 * fwd_same_region() must say yes for them and no for two different pipes.
 * Bridging the two ends of one pipe makes a loop: frames injected on the
 * master arrive on the slave, the bridge sends them back through the
 * master, and so on. After many rounds the slave's RX ring must hold every
 * frame once, in cyclic order, content intact (MOREFRAG chains included).
 * In swap mode each frame must still be in the buffer it started in (the
 * buffers travelled, nothing was copied); in copy mode they must not be.
 */
#include "../../tools/unm-bridge/fwd.c"
#include "pipe-common.h"

#define NFR    200
#define MAXLEN 3000
#define ROUNDS 300

static uint8_t frame[UNM_MAX_FRAME], got[UNM_MAX_FRAME];

static unsigned flen(unsigned seq)
{
	return 64 + (seq * 7919) % (MAXLEN - 63);
}

static void fill(uint8_t *f, unsigned seq, unsigned len)
{
	memcpy(f, &seq, 4);
	for (unsigned k = 4; k < len; k++)
		f[k] = (uint8_t)(seq * 13 + k);
}

/* Read every frame of P's RX ring without consuming: seq of each frame
 * in order into seqs[], first buffer index into bufs[]. Returns count. */
static unsigned peek(struct unm_port *p, uint32_t nbufs, unsigned *seqs, uint32_t *bufs)
{
	struct unm_ring *r = unm_ring_get(p, 0, 0);
	unsigned n = 0;

	for (uint32_t i = r->head; i != r->tail;) {
		uint32_t total = 0, first = r->slot[i].buf_idx;
		int more;

		do {
			struct unm_slot *s = &r->slot[i];

			T_ASSERT(s->buf_idx >= 2 && s->buf_idx < nbufs);
			T_ASSERT(total + s->len <= sizeof(got));
			memcpy(got + total, unm_buf(r, s->buf_idx), s->len);
			total += s->len;
			more = s->flags & UNM_NS_MOREFRAG;
			i = unm_ring_next(r, i);
		} while (more && i != r->tail);
		T_ASSERT(!more);
		unsigned seq;

		memcpy(&seq, got, 4);
		T_ASSERT(seq < NFR);
		T_ASSERT_EQ(total, flen(seq));
		fill(frame, seq, total);
		if (memcmp(frame, got, total))
			T_FAIL("frame %u: content differs", seq);
		T_ASSERT(n < NFR);
		seqs[n] = seq;
		bufs[n++] = first;
	}
	return n;
}

static void loop_test(int swap)
{
	struct unm_port *pa, *pb;
	struct fwd_port fa, fb;
	struct fwd_dir d[2];
	char na[64], nb[64];
	unsigned seqs[NFR], seqs2[NFR];
	uint32_t bufs[NFR], bufs2[NFR];
	unsigned n, same_buf = 0;

	snprintf(na, sizeof(na), "%s{%d", t_uniq("bswap"), swap);
	snprintf(nb, sizeof(nb), "%s}%d", t_uniq("bswap"), swap);
	T_ASSERT_EQ(unm_open(na, &pa, NULL), 0);
	T_ASSERT_EQ(unm_open(nb, &pb, NULL), 0);
	T_ASSERT_EQ(fwd_port_init(&fa, pa, na), 0);
	T_ASSERT_EQ(fwd_port_init(&fb, pb, nb), 0);
	T_ASSERT_EQ(fwd_same_region(&fa, &fb), 1);
	memset(d, 0, sizeof(d));
	d[0] = (struct fwd_dir){ .src = &fa, .dst = &fb, .swap = swap, .batch = 64 };
	d[1] = (struct fwd_dir){ .src = &fb, .dst = &fa, .swap = swap, .batch = 64 };

	for (unsigned s = 0; s < NFR; s++) {
		fill(frame, s, flen(s));
		T_ASSERT_EQ(unm_inject(pa, frame, flen(s)), (int)flen(s));
	}
	T_ASSERT_EQ(unm_txsync(pa, 0), 0);
	T_ASSERT_EQ(unm_rxsync(pb, 0), 0);
	n = peek(pb, fb.nbufs, seqs, bufs);
	T_ASSERT_EQ(n, NFR);

	for (unsigned r = 0; r < ROUNDS; r++) { /* what unm-bridge's loop does */
		for (int k = 0; k < 2; k++) {
			T_ASSERT_EQ(unm_rxsync(d[k].src->p, UNM_RING_ALL), 0);
			fwd_move(&d[k]);
			T_ASSERT_EQ(unm_txsync(d[k].dst->p, UNM_RING_ALL), 0);
		}
	}
	/* release what the last round consumed, take what it sent */
	T_ASSERT_EQ(unm_rxsync(pb, 0), 0);
	n = peek(pb, fb.nbufs, seqs2, bufs2);
	T_ASSERT_EQ(n, NFR);
	for (unsigned i = 0; i < NFR; i++) {
		if (seqs2[i] != (seqs2[0] + i) % NFR)
			T_FAIL("position %u holds frame %u after frame %u", i, seqs2[i],
			       seqs2[i ? i - 1 : 0]);
		same_buf += bufs2[i] == bufs[seqs2[i]];
	}
	T_ASSERT_EQ(d[1].frames, 64ull * ROUNDS); /* a full batch every round */
	T_ASSERT_EQ(d[0].frames, 0);
	T_ASSERT_EQ(d[1].drops, 0);
	printf("%s: %llu frames forwarded in %u rounds; %u of %u frames still in their first buffer\n",
	       swap ? "swap" : "copy", (unsigned long long)d[1].frames, ROUNDS, same_buf, NFR);
	if (swap)
		T_ASSERT_EQ(same_buf, NFR);
	else
		T_ASSERT(same_buf < NFR);
	unm_close(pa);
	unm_close(pb);
}

int main(void)
{
	struct unm_port *p1, *p2;
	struct fwd_port f1, f2;
	char n1[64], n2[64];

	t_watchdog(30);
	loop_test(1);
	loop_test(0);

	/* two different pipes: separate regions, never swapped */
	snprintf(n1, sizeof(n1), "%s{0", t_uniq("bsepa"));
	snprintf(n2, sizeof(n2), "%s{0", t_uniq("bsepb"));
	T_ASSERT_EQ(unm_open(n1, &p1, NULL), 0);
	T_ASSERT_EQ(unm_open(n2, &p2, NULL), 0);
	T_ASSERT_EQ(fwd_port_init(&f1, p1, n1), 0);
	T_ASSERT_EQ(fwd_port_init(&f2, p2, n2), 0);
	T_ASSERT_EQ(fwd_same_region(&f1, &f2), 0);
	unm_close(p1);
	unm_close(p2);
	return 0;
}
