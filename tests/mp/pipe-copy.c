// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: UNM_OPEN_PIPE_COPY (the pipes the netmap compat layer
 * opens): a short single-slot frame is copied into the peer's RX buffer,
 * so the TX slot keeps its buffer index and gets no NS_BUF_CHANGED, and a
 * buffer written once can be resent by setting its length only (pkt-gen's
 * way); frames longer than UNM_PIPE_COPY_MAX, and slots whose RX buffer the
 * consumer spoiled, are swapped as before (NS_BUF_CHANGED, bad_buf
 * counted). Every frame arrives intact, at every length around the
 * copy's block sizes (8 .. UNM_PIPE_COPY_MAX), with the slot's ptr. Without
 * the flag the buffers swap.
 */
#include <stdlib.h>
#include <unistd.h>
#include "pipe-common.h"

#define N 200

static uint32_t idx0[4096];

static void open_pair(const char *tag, unsigned flags, struct unm_port **m, struct unm_port **s)
{
	struct unm_open_opts o = { .sz = sizeof(o), .flags = flags };
	char nm[96];

	snprintf(nm, sizeof(nm), "%s%d{0", tag, (int)getpid());
	T_ASSERT_EQ(unm_open(nm, m, &o), 0);
	snprintf(nm, sizeof(nm), "%s%d}0", tag, (int)getpid());
	T_ASSERT_EQ(unm_open(nm, s, NULL), 0);
}

/* Send n frames of len from *seq, receive and check them all. */
static void round_trip(struct unm_port *m, struct unm_port *s, uint64_t *sseq, uint64_t *rseq,
		       unsigned n, unsigned len, uint32_t nbufs)
{
	unsigned got = 0;

	T_ASSERT_EQ(pc_send(m, 0, sseq, n, len), (int)n);
	for (int tries = 0; got < n && tries < 1000; tries++) {
		int rc = pc_recv(s, 0, rseq, len, nbufs);

		T_ASSERT(rc >= 0);
		got += (unsigned)rc;
		if (!rc)
			usleep(1000);
	}
	T_ASSERT_EQ(got, n);
	T_ASSERT_EQ(unm_rxsync(s, 0), 0); /* release */
	T_ASSERT_EQ(unm_txsync(m, 0), 0); /* take the slots back */
}

int main(void)
{
	struct unm_port *m, *s;
	struct unm_port_info info = { .sz = sizeof(info) };
	struct unm_port_stats st = { .sz = sizeof(st) };
	struct unm_ring *t, *r;
	uint64_t sseq = 0, rseq = 0;
	unsigned same = 0, changed = 0;

	t_watchdog(30);
	open_pair("pcopy", UNM_OPEN_PIPE_COPY, &m, &s);
	T_ASSERT_EQ(unm_port_info(m, &info), 0);
	t = unm_ring_get(m, 1, 0);
	r = unm_ring_get(s, 0, 0);
	T_ASSERT(t->num_slots <= 4096 && N < t->num_slots);
	for (uint32_t i = 0; i < t->num_slots; i++)
		idx0[i] = t->slot[i].buf_idx;

	/* short frames: copied, the TX buffers stay where they are; the
	 * lengths around the 64-byte block of the fast path and the 32-byte
	 * blocks of the longer copies, across the rings' ends */
	for (int k = 0; k < 20; k++)
		round_trip(m, s, &sseq, &rseq, N, 60, info.buf_count);
	{
		static const unsigned lens[] = { 8, 31, 33, 63, 64, 65, 96, 127, 128, 200,
						 UNM_PIPE_COPY_MAX - 1, UNM_PIPE_COPY_MAX };

		for (unsigned k = 0; k < sizeof(lens) / sizeof(lens[0]); k++)
			round_trip(m, s, &sseq, &rseq, N, lens[k], info.buf_count);
	}
	/* the slot's ptr travels with the copy, as with a swap */
	{
		uint32_t i = t->head;

		for (unsigned k = 0; k < 4; k++) {
			pc_fill(unm_buf(t, t->slot[i].buf_idx), sseq++, 60);
			t->slot[i].len = 60;
			t->slot[i].flags = 0;
			t->slot[i].ptr = 0xabcd0000ull + k;
			i = unm_ring_next(t, i);
		}
		unm_ring_advance(t, i);
		T_ASSERT_EQ(unm_txsync(m, 0), 0);
		for (int tries = 0; unm_ring_space(r) < 4 && tries < 1000; tries++) {
			usleep(1000);
			T_ASSERT_EQ(unm_rxsync(s, 0), 0);
		}
		T_ASSERT_EQ(unm_ring_space(r), 4);
		for (unsigned k = 0; k < 4; k++) {
			uint32_t ri = (r->head + k) % r->num_slots;

			T_ASSERT_EQ(r->slot[ri].ptr, 0xabcd0000ull + k);
			T_ASSERT(pc_check(unm_buf(r, r->slot[ri].buf_idx), rseq++, 60) == 0);
			T_ASSERT_EQ(r->slot[ri].flags & UNM_NS_BUF_CHANGED, 0);
		}
		unm_ring_advance(r, r->tail);
		T_ASSERT_EQ(unm_rxsync(s, 0), 0);
		T_ASSERT_EQ(unm_txsync(m, 0), 0);
	}
	for (uint32_t i = 0; i < t->num_slots; i++) {
		same += t->slot[i].buf_idx == idx0[i];
		changed += (t->slot[i].flags & UNM_NS_BUF_CHANGED) != 0;
	}
	T_ASSERT_EQ(same, t->num_slots);
	T_ASSERT_EQ(changed, 0);

	/* resend without rewriting: set the lengths only */
	{
		uint32_t i = t->head, h0 = t->head;

		for (unsigned k = 0; k < 8; k++) {
			t->slot[i].len = 60;
			i = unm_ring_next(t, i);
		}
		unm_ring_advance(t, i);
		T_ASSERT_EQ(unm_txsync(m, 0), 0);
		for (int tries = 0; unm_ring_space(r) < 8 && tries < 1000; tries++) {
			usleep(1000);
			T_ASSERT_EQ(unm_rxsync(s, 0), 0);
		}
		T_ASSERT_EQ(unm_ring_space(r), 8);
		for (unsigned k = 0; k < 8; k++) {
			uint32_t ti = (h0 + k) % t->num_slots, ri = (r->head + k) % r->num_slots;

			/* the frame this TX buffer carried last, byte for byte */
			T_ASSERT(!memcmp(unm_buf(r, r->slot[ri].buf_idx), unm_buf(t, t->slot[ti].buf_idx), 60));
			T_ASSERT(r->slot[ri].buf_idx != t->slot[ti].buf_idx);
		}
		unm_ring_advance(r, r->tail);
		T_ASSERT_EQ(unm_rxsync(s, 0), 0);
		T_ASSERT_EQ(unm_txsync(m, 0), 0);
		/* the pattern checker counts from sseq: realign both ends */
		rseq = sseq;
	}

	/* long frames: swapped as before */
	round_trip(m, s, &sseq, &rseq, 10, UNM_PIPE_COPY_MAX + 100, info.buf_count);
	changed = 0;
	for (uint32_t i = 0; i < t->num_slots; i++)
		changed += (t->slot[i].flags & UNM_NS_BUF_CHANGED) != 0;
	T_ASSERT_EQ(changed, 10);

	/* a spoiled RX buffer index: that slot is swapped, buffer 1, bad_buf */
	{
		round_trip(m, s, &sseq, &rseq, 1, 60, info.buf_count);
		/* the RX slot the next frame lands in, not ours to touch */
		r->slot[r->head].buf_idx = 0xffffff;
		T_ASSERT_EQ(unm_port_stats(m, &st), 0);
		uint64_t bad0 = st.bad_buf;
		uint32_t ti = t->head;

		T_ASSERT_EQ(pc_send(m, 0, &sseq, 1, 60), 1);
		T_ASSERT_EQ(unm_port_stats(m, &st), 0);
		T_ASSERT_EQ(st.bad_buf, bad0 + 1);
		T_ASSERT_EQ(t->slot[ti].buf_idx, 1);
		for (int tries = 0; unm_ring_space(r) < 1 && tries < 1000; tries++) {
			usleep(1000);
			T_ASSERT_EQ(unm_rxsync(s, 0), 0);
		}
		T_ASSERT(pc_check(unm_buf(r, r->slot[r->head].buf_idx), rseq, 60) == 0);
	}
	unm_close(m);
	unm_close(s);

	/* without the flag the buffers swap */
	sseq = rseq = 0;
	open_pair("pswap", 0, &m, &s);
	t = unm_ring_get(m, 1, 0);
	for (uint32_t i = 0; i < t->num_slots; i++)
		idx0[i] = t->slot[i].buf_idx;
	round_trip(m, s, &sseq, &rseq, N, 60, info.buf_count);
	same = 0;
	for (uint32_t i = 0; i < N; i++)
		same += t->slot[i].buf_idx == idx0[i];
	T_ASSERT_EQ(same, 0);
	unm_close(m);
	unm_close(s);
	printf("ok\n");
	return 0;
}
