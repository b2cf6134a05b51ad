// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a pipe opened with the default geometry gets buffers of
 * UNM_PIPE_DEF_BUF_SIZE bytes, an odd number of cache lines, so the first
 * lines of a ring's buffers spread over every cache set (64 distinct
 * 64-byte positions modulo 4 KiB) instead of two at a 2048-byte stride;
 * both ends see that stride; an explicit @conf:bufsize=2048 is still
 * honoured. Frames cross the coloured pipe intact, copied (short frames
 * with UNM_OPEN_PIPE_COPY, the TX slot keeps its buffer) and swapped
 * (NS_BUF_CHANGED, new buffer index), up to a frame that needs the
 * coloured buffer's extra line.
 */
#include <stdlib.h>
#include <unistd.h>
#include "pipe-common.h"

#define N 100

static void open_pair(const char *tag, const char *conf, unsigned flags, struct unm_port **m,
		      struct unm_port **s)
{
	struct unm_open_opts o = { .sz = sizeof(o), .flags = flags };
	char nm[128];

	/* the first opener builds the region: the slave end, as unm-pktgen rx
	 * does in bench/compat_pktgen.sh */
	snprintf(nm, sizeof(nm), "%s%d}0%s", tag, (int)getpid(), conf);
	T_ASSERT_EQ(unm_open(nm, s, NULL), 0);
	snprintf(nm, sizeof(nm), "%s%d{0", tag, (int)getpid());
	T_ASSERT_EQ(unm_open(nm, m, &o), 0);
}

/* Distinct 64-byte positions modulo 4 KiB of the TX ring's buffers: the
 * L1 sets (and 4K-aliasing classes) a ring's short frames use. */
static unsigned line_classes(const struct unm_ring *t)
{
	uint64_t seen = 0;
	unsigned n = 0;

	for (uint32_t i = 0; i < t->num_slots; i++)
		seen |= 1ull << (((uintptr_t)unm_buf(t, t->slot[i].buf_idx) >> 6) & 63);
	for (unsigned b = 0; b < 64; b++)
		n += (seen >> b) & 1;
	return n;
}

/* N frames of LEN over the pipe and back to the producer; returns how
 * many TX slots came back with another buffer (swapped). */
static unsigned trip(struct unm_port *m, struct unm_port *s, uint64_t *sseq, uint64_t *rseq,
		     unsigned len, uint32_t nbufs)
{
	struct unm_ring *t = unm_ring_get(m, 1, 0);
	uint32_t h0 = t->head, before[N];
	unsigned got = 0, moved = 0;

	for (unsigned k = 0; k < N; k++)
		before[k] = t->slot[(h0 + k) % t->num_slots].buf_idx;
	T_ASSERT_EQ(pc_send(m, 0, sseq, N, len), N);
	for (int tries = 0; got < N && tries < 1000; tries++) {
		int rc = pc_recv(s, 0, rseq, len, nbufs);

		T_ASSERT(rc >= 0);
		got += (unsigned)rc;
		if (!rc)
			usleep(1000);
	}
	T_ASSERT_EQ(got, N);
	T_ASSERT_EQ(unm_rxsync(s, 0), 0);
	T_ASSERT_EQ(unm_txsync(m, 0), 0);
	for (unsigned k = 0; k < N; k++) {
		const struct unm_slot *sl = &t->slot[(h0 + k) % t->num_slots];

		if (sl->buf_idx != before[k]) {
			T_ASSERT(sl->flags & UNM_NS_BUF_CHANGED);
			moved++;
		}
	}
	return moved;
}

int main(void)
{
	struct unm_port *m, *s;
	struct unm_ring *t, *r;
	uint64_t sseq = 0, rseq = 0;
	uint32_t nb;

	t_watchdog(30);
	T_ASSERT(UNM_PIPE_DEF_BUF_SIZE % UNM_CACHELINE == 0);
	T_ASSERT((UNM_PIPE_DEF_BUF_SIZE / UNM_CACHELINE) % 2 == 1);

	/* default geometry: coloured, on both ends */
	open_pair("pstride", "", UNM_OPEN_PIPE_COPY, &m, &s);
	t = unm_ring_get(m, 1, 0);
	r = unm_ring_get(s, 0, 0);
	T_ASSERT_EQ(t->nr_buf_size, UNM_PIPE_DEF_BUF_SIZE);
	T_ASSERT_EQ(r->nr_buf_size, UNM_PIPE_DEF_BUF_SIZE);
	T_ASSERT(t->num_slots >= 64);
	T_ASSERT_EQ(line_classes(t), 64);
	T_ASSERT_EQ(line_classes(r), 64);
	nb = pc_nbufs(m);
	/* short frames copied: the TX buffers stay; long ones swap, up to a
	 * frame only the coloured buffer holds */
	for (int k = 0; k < 30; k++)
		T_ASSERT_EQ(trip(m, s, &sseq, &rseq, 60, nb), 0);
	T_ASSERT_EQ(trip(m, s, &sseq, &rseq, UNM_PIPE_COPY_MAX, nb), 0);
	T_ASSERT_EQ(trip(m, s, &sseq, &rseq, 1514, nb), N);
	T_ASSERT_EQ(trip(m, s, &sseq, &rseq, UNM_PIPE_DEF_BUF_SIZE, nb), N);
	unm_close(m);
	unm_close(s);

	/* without UNM_OPEN_PIPE_COPY every frame swaps, intact */
	sseq = rseq = 0;
	open_pair("pstrsw", "", 0, &m, &s);
	nb = pc_nbufs(m);
	for (int k = 0; k < 30; k++)
		T_ASSERT_EQ(trip(m, s, &sseq, &rseq, 60, nb), N);
	unm_close(m);
	unm_close(s);

	/* an explicit size is the caller's: a power of two stays one */
	open_pair("pstr2k", "@conf:bufsize=2048", 0, &m, &s);
	T_ASSERT_EQ(unm_ring_get(m, 1, 0)->nr_buf_size, 2048);
	T_ASSERT_EQ(unm_ring_get(s, 0, 0)->nr_buf_size, 2048);
	T_ASSERT_EQ(line_classes(unm_ring_get(m, 1, 0)), 2);
	unm_close(m);
	unm_close(s);
	printf("PASS: pipe buffers %u bytes apart, 64 line classes; copy and swap intact\n",
	       UNM_PIPE_DEF_BUF_SIZE);
	return 0;
}
