// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: unm-pktgen's ring code against a test double: in-memory
 * rings laid out as unetmap rings, with this test playing the port (a pipe
 * that copies TX slots into the RX ring). Checks that the sender writes
 * whole frames (MOREFRAG chains for frames larger than a buffer and for
 * -F/-M, never a chain cut by a full ring) with sequence numbers, that the
 * receiver stops after exactly the frames it may take even inside a
 * batch, follows a chain that tail cuts in two, and that rxseq counts a
 * dropped frame as lost and a replayed one as a duplicate.
 */
#include "../../tools/unm-pktgen/frame.c"
#include "../../tools/unm-pktgen/args.c"
#include "../../tools/unm-pktgen/stats.c"
#include "../../tools/unm-pktgen/txrx.c"
#include "../../tools/unm-pktgen/fill.c"
#include "../lib/test.h"

int pg_stop;
uint64_t pg_claim(uint64_t want) { return want; }
void pg_unclaim(uint64_t n) { (void)n; }
bool pg_budget_spent(void) { return false; }

#define NSLOTS 256
#define BUFSZ  512

static struct unm_ring *fake_ring(unsigned dir)
{
	size_t pool = 256 + NSLOTS * sizeof(struct unm_slot);
	struct unm_ring *r = calloc(1, pool + (size_t)(NSLOTS + 2) * BUFSZ);
	int64_t ofs = (int64_t)pool;
	uint32_t n = NSLOTS, b = BUFSZ;
	uint16_t d = (uint16_t)dir;

	T_ASSERT(r);
	memcpy((void *)&r->buf_ofs, &ofs, sizeof(ofs));
	memcpy((void *)&r->num_slots, &n, sizeof(n));
	memcpy((void *)&r->nr_buf_size, &b, sizeof(b));
	memcpy((void *)&r->dir, &d, sizeof(d));
	for (uint32_t i = 0; i < NSLOTS; i++)
		r->slot[i].buf_idx = i + 2;
	r->tail = dir ? 0 : NSLOTS - 1;   /* TX: all free; RX: empty */
	return r;
}

/* The "port": move TX slots [from, to) into the RX ring at its tail,
 * skipping SKIP_FRAME (a frame number, or -1), like a lossy pipe. */
static void deliver(struct unm_ring *tx, uint32_t from, uint32_t to, struct unm_ring *rx,
		    long skip_frame, long *frame_no)
{
	for (uint32_t i = from; i != to; i = unm_ring_next(tx, i)) {
		const struct unm_slot *s = &tx->slot[i];
		bool last = !(s->flags & UNM_NS_MOREFRAG);

		if (*frame_no != skip_frame) {
			uint32_t k = rx->tail;

			T_ASSERT(unm_ring_next(rx, k) != rx->head);
			memcpy(unm_slot_buf(rx, k), unm_slot_buf(tx, i), s->len);
			rx->slot[k].len = s->len;
			rx->slot[k].flags = s->flags;
			rx->tail = unm_ring_next(rx, k);
		}
		if (last)
			(*frame_no)++;
	}
	tx->tail = to == 0 ? NSLOTS - 1 : to - 1;   /* completed at once */
}

static void setup(struct pg_conf *c, struct pg_thread *t, enum pg_func f)
{
	struct pg_frame_cfg fc;
	char err[64];

	memset(t, 0, sizeof(*t));
	t->conf = c;
	t->buf_size = BUFSZ;
	c->func = f;
	memset(&fc, 0, sizeof(fc));
	fc.payload = f == PG_TXSEQ ? PG_PAY_SEQ : PG_PAY_NONE;
	fc.len_min = c->len_min;
	fc.len_max = c->len_max;
	fc.csum = true;
	T_ASSERT_EQ(pg_parse_span("10.0.0.1", &fc.src, err, sizeof(err)), 0);
	T_ASSERT_EQ(pg_parse_span("10.0.0.2", &fc.dst, err, sizeof(err)), 0);
	T_ASSERT_EQ(pg_gen_init(&t->gen, &fc, 5), 0);
	t->scratch = malloc(c->len_max);
	T_ASSERT(t->scratch);
}

static void check_chains(const struct unm_ring *r, uint32_t from, uint32_t to,
			 const struct pg_conf *c, unsigned *frames)
{
	unsigned bytes = 0, nslots = 0;

	for (uint32_t i = from; i != to; i = unm_ring_next(r, i)) {
		const struct unm_slot *s = &r->slot[i];

		T_ASSERT(s->len > 0 && s->len <= BUFSZ);
		bytes += s->len;
		nslots++;
		if (s->flags & UNM_NS_MOREFRAG)
			continue;
		T_ASSERT(bytes >= c->len_min && bytes <= c->len_max);
		if (c->frags)
			T_ASSERT_EQ(nslots, c->frags);
		if (c->frag_size)
			T_ASSERT(s->len <= c->frag_size || c->frags);
		(*frames)++;
		bytes = nslots = 0;
	}
	T_ASSERT_EQ(bytes, 0);   /* no chain cut at head */
}

static void run(unsigned lmin, unsigned lmax, unsigned frags, unsigned fsize)
{
	struct pg_conf ctx = { 0 }, crx = { 0 };
	struct pg_thread tt, tr;
	struct tx_state ts = { 0 };
	struct rx_state rs = { 0 };
	struct unm_ring *tx = fake_ring(0), *rx = fake_ring(1);
	long fno = 0;
	uint64_t sent = 0, got = 0;

	ctx.len_min = crx.len_min = lmin;
	ctx.len_max = crx.len_max = lmax;
	ctx.frags = frags;
	ctx.frag_size = fsize;
	setup(&ctx, &tt, PG_TXSEQ);
	setup(&crx, &tr, PG_RXSEQ);
	for (int round = 0; round < 50; round++) {
		uint32_t h0 = tx->head;
		unsigned n = tx_fill(&tt, &ts, tx, 97), frames = 0;

		check_chains(tx, h0, tx->head, &ctx, &frames);
		T_ASSERT_EQ(frames, n);
		sent += n;
		/* round 3 loses one frame, round 5 delivers the tail of a chain
		 * in a second step (tail cuts the chain) */
		uint32_t mid = tx->head;

		if (round == 5 && n) {
			for (mid = h0; mid != tx->head && !(tx->slot[mid].flags & UNM_NS_MOREFRAG);)
				mid = unm_ring_next(tx, mid);
			if (mid != tx->head)
				mid = unm_ring_next(tx, mid);
		}
		deliver(tx, h0, mid, rx, round == 3 ? (long)sent - 2 : -1, &fno);
		/* take at most 40 frames at a time: exact stop inside a batch */
		while (!unm_ring_empty(rx)) {
			uint32_t before = rx->head;
			unsigned k = rx_consume(&tr, &rs, rx, 40);

			T_ASSERT(k <= 40);
			got += k;
			if (rx->head == before)
				break;
		}
		if (mid != tx->head) {
			deliver(tx, mid, tx->head, rx, -1, &fno);
			got += rx_consume(&tr, &rs, rx, 1000);
		}
		tx->tail = tx->head == 0 ? NSLOTS - 1 : tx->head - 1;
	}
	T_ASSERT(sent > 500);
	T_ASSERT_EQ(got, sent - 1);
	T_ASSERT_EQ(tr.seq.lost, 1);
	T_ASSERT_EQ(tr.seq.dup + tr.seq.ooo + tr.seq.bad, 0);
	/* replay the last frame: a duplicate */
	T_ASSERT(rx->head == rx->tail);
	{
		uint32_t last = tx->head == 0 ? NSLOTS - 1 : tx->head - 1, first = last;

		while ((tx->slot[first == 0 ? NSLOTS - 1 : first - 1].flags & UNM_NS_MOREFRAG))
			first = first == 0 ? NSLOTS - 1 : first - 1;
		deliver(tx, first, unm_ring_next(tx, last), rx, -1, &fno);
		T_ASSERT_EQ(rx_consume(&tr, &rs, rx, 10), 1);
		T_ASSERT_EQ(tr.seq.dup, 1);
	}
	pg_gen_free(&tt.gen);
	pg_gen_free(&tr.gen);
	free(tt.scratch);
	free(tr.scratch);
	free(tx);
	free(rx);
}

int main(void)
{
	t_watchdog(30);
	run(60, 60, 0, 0);          /* one slot per frame */
	run(60, 1500, 0, 0);        /* frames above 512 bytes chain automatically */
	run(200, 1000, 3, 0);       /* -F 3 */
	run(100, 1500, 0, 100);     /* -M 100 */
	run(300, 600, 4, 90);       /* -F 4 -M 90 */
	printf("ok\n");
	return 0;
}
