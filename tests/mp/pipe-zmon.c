// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a zero-copy monitor "NAME{ID/z" of a pipe's master end sees
 * exactly the frames of both directions, in order, with the buffer index
 * the peer then receives (no copy), TX frames flagged UNM_NS_TXMON; each
 * peer receives every frame, only after the monitor released it. The
 * buffer indexes of all four rings stay a permutation. After the monitor
 * closes, traffic goes on (direct swapping again). A second monitor of
 * the same end ("monitor:NAME{ID/z" spelling) is refused with -EBUSY, /z of a non-pipe with -EOPNOTSUPP.
 */
#include "zmon-common.h"

#define LEN 60
#define NTX (PC_SANITIZED ? 20000 : 100000) /* master -> slave */
#define NRX (NTX / 4)                       /* slave -> master */

static char mname[96], sname[96], zname[100];
static uint32_t *idx_tx, *idx_rx; /* [seq]: buffer the monitor saw (shared) */

/* Monitor: consume both rings, check order/flags/content, record buffers. */
static int monitor(void *arg, int ready)
{
	struct unm_port *z, *z2;
	uint64_t seq[2] = { 0, 0 }, want[2] = { NTX, NRX };
	double end = t_now() + 5;
	uint32_t nb;
	char c = 'r';

	(void)arg;
	if (unm_open(zname, &z, NULL))
		return printf("monitor open: %s\n", unm_errmsg()), 10;
	char alt[128];

	/* the monitor: spelling reaches the same end, which is taken */
	snprintf(alt, sizeof(alt), "monitor:%s", zname);
	if (unm_open(alt, &z2, NULL) != -EBUSY)
		return printf("second monitor (%s) not refused: %s\n", alt, unm_errmsg()), 11;
	nb = pc_nbufs(z);
	if (unm_ring_get(z, 0, 0) == NULL || unm_ring_get(z, 0, 1) == NULL ||
	    unm_ring_get(z, 0, 2) != NULL || unm_ring_get(z, 1, 0) != NULL)
		return 12;
	if (write(ready, &c, 1) != 1)
		return 13;
	while (seq[0] < want[0] || seq[1] < want[1]) {
		if (t_now() > end)
			return printf("monitor: timeout at %llu/%llu\n", (unsigned long long)seq[0],
				      (unsigned long long)seq[1]), 14;
		if (unm_wait(z, UNM_WAIT_RX, 100) < 0)
			return 15;
		for (unsigned d = 0; d < 2; d++) {
			struct unm_ring *r = unm_ring_get(z, 0, d);
			uint32_t i;

			for (i = r->head; i != r->tail; i = unm_ring_next(r, i)) {
				struct unm_slot *s = &r->slot[i];

				if (s->buf_idx < 2 || s->buf_idx >= nb || s->len != LEN ||
				    seq[d] >= want[d] ||
				    pc_check(unm_buf(r, s->buf_idx), seq[d], LEN) ||
				    (!(s->flags & UNM_NS_TXMON)) != d)
					return printf("monitor ring %u: bad frame seq %llu idx %u len %u "
						      "flags %#x\n", d, (unsigned long long)seq[d],
						      s->buf_idx, s->len, s->flags), 16;
				(d ? idx_rx : idx_tx)[seq[d]++] = s->buf_idx;
			}
			unm_ring_advance(r, i);
		}
	}
	unm_rxsync(z, UNM_RING_ALL); /* release the last ones */
	unm_close(z);
	return 0;
}

/* Receive on P ring 0, check against *seq and the monitor's buffer index. */
static int recv_check(struct unm_port *p, uint64_t *seq, const uint32_t *idx, uint32_t nb)
{
	struct unm_ring *r = unm_ring_get(p, 0, 0);
	int n = 0, rc = unm_rxsync(p, 0);
	uint32_t i;

	T_ASSERT(rc == 0);
	for (i = r->head; i != r->tail; i = unm_ring_next(r, i), n++) {
		struct unm_slot *s = &r->slot[i];

		if (s->buf_idx < 2 || s->buf_idx >= nb || pc_check(unm_buf(r, s->buf_idx), *seq, LEN))
			T_FAIL("bad frame seq %llu idx %u", (unsigned long long)*seq, s->buf_idx);
		if (idx && idx[*seq] != s->buf_idx)
			T_FAIL("seq %llu: monitor saw buffer %u, peer got %u", (unsigned long long)*seq,
			       idx[*seq], s->buf_idx);
		(*seq)++;
	}
	unm_ring_advance(r, i);
	return n;
}

int main(void)
{
	struct unm_port *m, *s, *bad;
	uint64_t txs = 0, rxs = 0, txr = 0, rxr = 0;
	struct unm_port_stats st = { .sz = sizeof(st) };
	struct zm_kid k;
	double end;
	uint32_t nb;
	size_t sz = sizeof(uint32_t) * (NTX + NRX);

	t_watchdog(30);
	pc_light = 1;
	snprintf(mname, sizeof(mname), "%s{1", t_uniq("zmon"));
	snprintf(sname, sizeof(sname), "%s", mname);
	*strchr(sname, '{') = '}';
	snprintf(zname, sizeof(zname), "%s/z", mname);
	T_ASSERT_EQ(unm_open("null/z", &bad, NULL), -EOPNOTSUPP);
	idx_tx = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(idx_tx != MAP_FAILED);
	idx_rx = idx_tx + NTX;
	k = zm_spawn(monitor, NULL);
	T_ASSERT_EQ(unm_open(mname, &m, NULL), 0);
	T_ASSERT_EQ(unm_open(sname, &s, NULL), 0);
	nb = pc_nbufs(m);
	T_ASSERT_EQ(zm_start(&k, m, s), 'r');
	end = t_now() + 20;
	while (txr < NTX || rxr < NRX) {
		int moved = 0;

		if (t_now() > end)
			T_FAIL("stuck: sent %llu/%llu received %llu/%llu", (unsigned long long)txs,
			       (unsigned long long)rxs, (unsigned long long)txr, (unsigned long long)rxr);
		if (txs < NTX)
			moved += pc_send(m, 0, &txs, NTX - txs < 256 ? (unsigned)(NTX - txs) : 256, LEN);
		if (rxs < NRX)
			moved += pc_send(s, 0, &rxs, NRX - rxs < 64 ? (unsigned)(NRX - rxs) : 64, LEN);
		moved += recv_check(s, &txr, idx_tx, nb);
		moved += recv_check(m, &rxr, idx_rx, nb);
		T_ASSERT(txr <= txs && rxr <= rxs);
		if (!moved)
			usleep(20);
	}
	T_ASSERT_EQ(pc_reap(k.pid, 10), 0);
	printf("monitored: %llu + %llu frames, every one seen by the monitor with the peer's "
	       "buffer\n", (unsigned long long)txr, (unsigned long long)rxr);
	/* monitor gone: direct swapping again */
	end = t_now() + 5;
	for (uint64_t stop = txs + 5000; txr < stop;) {
		T_ASSERT(t_now() < end);
		if (txs < stop)
			pc_send(m, 0, &txs, 256 < stop - txs ? 256 : (unsigned)(stop - txs), LEN);
		if (!recv_check(s, &txr, NULL, nb))
			usleep(20);
	}
	while (unm_tx_pending(unm_ring_get(m, 1, 0)) || unm_tx_pending(unm_ring_get(s, 1, 0)))
		zm_pump(m, s);
	zm_check_perm(m, s);
	unm_port_stats(m, &st);
	T_ASSERT_EQ(st.bad_ring + st.bad_buf, 0);
	unm_close(s);
	unm_close(m);
	printf("ok\n");
	return 0;
}
