// SPDX-License-Identifier: BSD-2-Clause
/*
 * ping.c - the ping and pong loops. ping sends one frame carrying a
 * sequence number and its send time, waits for the frame with that number
 * to come back, and records the round trip; pong echoes every frame it
 * receives with Ethernet, IP and UDP source and destination swapped.
 *
 * One worker thread, owning the port handle's first bound TX and RX ring.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "pktgen.h"

#define WAIT_MS       100
#define PING_TIMEOUT  1000000000ull /* a reply later than 1 s is lost */

/* Consume every frame in R; true if the one numbered SEQ was among them. */
static bool ping_scan(struct pg_thread *t, struct unm_ring *r, uint64_t seq)
{
	uint32_t i = r->head;
	bool match = false, first = true;

	while (i != r->tail) {
		const struct unm_slot *sl = &r->slot[i];

		if (first) {
			uint64_t s, ts;
			unsigned len = sl->len < r->nr_buf_size ? sl->len : r->nr_buf_size;

			if (pg_parse((const uint8_t *)unm_buf(r, sl->buf_idx), len,
				     t->conf->vnet_hdr_len, &s, &ts) >= 0 && s == seq)
				match = true;
			else
				t->ping_stale++;
		}
		first = !(sl->flags & UNM_NS_MOREFRAG);
		i = unm_ring_next(r, i);
	}
	unm_ring_advance(r, i);
	return match;
}

/* Send one ping frame; 0, or a negative errno from the sync. */
static int ping_send(struct pg_thread *t, struct unm_ring *txr, uint64_t seq, uint64_t *sent_at,
		     uint64_t *bytes)
{
	unsigned len = pg_gen_len(&t->gen);
	uint32_t i;
	int rc;

	while (unm_ring_space(txr) < pg_frame_slots(t, len)) {
		if (pg_stopping())
			return -EINTR;
		rc = unm_wait(t->port, UNM_WAIT_TX, WAIT_MS);
		if (rc < 0)
			return rc;
	}
	i = txr->head;
	*sent_at = pg_now_ns();
	pg_put_frame(t, txr, &i, len, seq, *sent_at);
	unm_ring_advance(txr, i);
	*bytes += len - t->conf->vnet_hdr_len;
	return unm_txsync(t->port, (int)t->first_tx);
}

void *pg_ping_main(void *arg)
{
	struct pg_thread *t = arg;
	const struct pg_conf *c = t->conf;
	struct unm_ring *txr = unm_ring_get(t->port, 1, t->first_tx);
	struct unm_ring *rxr = unm_ring_get(t->port, 0, t->first_rx);
	uint64_t seq, pkts = 0, bytes = 0;
	int rc = 0;

	t->t_first = pg_now_ns();
	for (seq = 0; !pg_stopping() && pg_claim(1); seq++) {
		uint64_t sent_at, deadline;
		bool match = false;

		if (c->rate > 0) {
			uint64_t due = t->t_first + (uint64_t)(seq / c->rate * 1e9), now = pg_now_ns();

			if (due > now)
				pg_sleep_ns(due - now);
		}
		rc = ping_send(t, txr, seq, &sent_at, &bytes);
		if (rc < 0)
			break;
		deadline = sent_at + PING_TIMEOUT;
		for (;;) {
			uint64_t now;

			if (ping_scan(t, rxr, seq)) {
				pg_lat_record(&t->lat, pg_now_ns() - sent_at, &t->gen.rng);
				match = true;
				break;
			}
			now = pg_now_ns();
			if (now >= deadline || pg_stopping())
				break;
			rc = unm_wait(t->port, UNM_WAIT_RX, WAIT_MS);
			if (rc < 0 && rc != -EINTR)
				break;
		}
		if (rc < 0 && rc != -EINTR)
			break;
		rc = 0;
		if (!match)
			t->ping_lost++;
		pkts++;
		pg_publish(&t->c.pkts, pkts);
		pg_publish(&t->c.bytes, bytes);
		pg_publish(&t->c.batches, pkts);
		pg_publish(&t->c.drops, t->ping_lost);
	}
	t->t_last = pg_now_ns();
	if (rc < 0 && rc != -EINTR) {
		if (pg_peer_gone(rc))
			pg_note_closed(t, rc, pkts);
		else
			pg_fatal_sync(t, "sync", rc);
	}
	__atomic_store_n(&t->done, true, __ATOMIC_RELAXED);
	return NULL;
}

/* Echo the frames of RXR into TXR; returns frames echoed (at most MAX). */
static unsigned pong_echo(struct pg_thread *t, struct unm_ring *rxr, struct unm_ring *txr,
			  uint64_t max, uint64_t *bytes)
{
	uint32_t i = rxr->head, o = txr->head;
	uint32_t space = unm_ring_space(txr);
	unsigned n = 0, vnet = t->conf->vnet_hdr_len;

	while (i != rxr->tail && n < max) {
		uint32_t j = i, k = 1;

		/* a whole chain must be here and fit in TX */
		while ((rxr->slot[j].flags & UNM_NS_MOREFRAG) && unm_ring_next(rxr, j) != rxr->tail) {
			j = unm_ring_next(rxr, j);
			k++;
		}
		if ((rxr->slot[j].flags & UNM_NS_MOREFRAG) || k > space)
			break;
		for (uint32_t f = 0; f < k; f++) {
			const struct unm_slot *rs = &rxr->slot[i];
			unsigned len = rs->len;

			if (len > rxr->nr_buf_size)
				len = rxr->nr_buf_size;
			if (len > txr->nr_buf_size)
				len = txr->nr_buf_size;
			if (t->conf->dump)
				pg_dump(t, "rx", rxr->ringid, i, (const uint8_t *)unm_buf(rxr, rs->buf_idx),
					len, rs->flags);
			memcpy(unm_slot_buf(txr, o), unm_buf(rxr, rs->buf_idx), len);
			if (f == 0)
				pg_swap((uint8_t *)unm_slot_buf(txr, o), len, vnet);
			txr->slot[o].len = (uint16_t)len;
			txr->slot[o].flags = rs->flags & UNM_NS_MOREFRAG;
			*bytes += len;
			i = unm_ring_next(rxr, i);
			o = unm_ring_next(txr, o);
		}
		*bytes -= vnet;
		space -= k;
		n++;
	}
	unm_ring_advance(rxr, i);
	unm_ring_advance(txr, o);
	return n;
}

void *pg_pong_main(void *arg)
{
	struct pg_thread *t = arg;
	struct unm_ring *txr = unm_ring_get(t->port, 1, t->first_tx);
	struct unm_ring *rxr = unm_ring_get(t->port, 0, t->first_rx);
	uint64_t pkts = 0, bytes = 0, batches = 0;
	int rc = 0;

	while (!pg_stopping()) {
		uint64_t want, n;

		if (unm_ring_empty(rxr)) {
			rc = unm_wait(t->port, UNM_WAIT_RX, WAIT_MS);
			if (rc < 0 && rc != -EINTR)
				break;
			continue;
		}
		want = pg_claim(unm_ring_space(rxr));
		if (!want)
			break;
		n = pong_echo(t, rxr, txr, want, &bytes);
		if (n < want)
			pg_unclaim(want - n);
		if (n) {
			uint64_t now = pg_now_ns();

			if (!t->t_first)
				t->t_first = now;
			t->t_last = now;
			pkts += n;
			batches++;
			pg_publish(&t->c.pkts, pkts);
			pg_publish(&t->c.bytes, bytes);
			pg_publish(&t->c.batches, batches);
			rc = unm_txsync(t->port, (int)t->first_tx);
			if (rc >= 0)
				rc = unm_rxsync(t->port, (int)t->first_rx);
		} else {
			/* TX full, or a chain cut by tail: wake when either tail
			 * moves (cur = tail is netmap's "not before more") */
			rxr->cur = rxr->tail;
			txr->cur = txr->tail;
			rc = unm_wait(t->port, UNM_WAIT_RX | UNM_WAIT_TX, WAIT_MS);
			rxr->cur = rxr->head;
			txr->cur = txr->head;
		}
		if (rc < 0 && rc != -EINTR)
			break;
	}
	if (rc < 0 && rc != -EINTR) {
		if (pg_peer_gone(rc))
			pg_note_closed(t, rc, pkts);
		else
			pg_fatal_sync(t, "sync", rc);
	}
	__atomic_store_n(&t->done, true, __ATOMIC_RELAXED);
	return NULL;
}
