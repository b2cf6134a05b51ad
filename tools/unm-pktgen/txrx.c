// SPDX-License-Identifier: BSD-2-Clause
/*
 * txrx.c - the sender (tx, txseq) and receiver (rx, rxseq) loops.
 *
 * Each worker thread owns its rings (every bound ring of the handle with
 * one thread, ring pair i of a shared handle with -p) and is the only
 * thread that touches them. Per batch it fills or consumes slots between
 * head and tail with the unm/ring.h inline helpers and makes one sync call
 * per ring: no library call per frame. When the ring has no room (TX) or
 * no frame (RX) it sleeps (pg_wait: unm_wait() alone on a handle,
 * unm_ring_wait() on a shared one) instead of spinning, and wakes at least
 * every WAIT_MS to notice the stop flag.
 *
 * Frames come from the generator (frame.c), from a capture (-P, pcap.c:
 * paced by the capture's timestamps, by -R, or not at all), or are not
 * written at all (-r).
 *
 * Counters are published to main (pg_counters) once per batch.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pktgen.h"

#define WAIT_MS 100

uint64_t pg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t pg_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int pg_txsync(struct pg_thread *t)
{
	int rc = 0;

	for (unsigned ri = t->first_tx; ri < t->last_tx; ri++) {
		int r = unm_txsync(t->port, (int)ri);

		if (r && !rc)
			rc = r;
	}
	return rc;
}

int pg_rxsync(struct pg_thread *t)
{
	int rc = 0;

	for (unsigned ri = t->first_rx; ri < t->last_rx; ri++) {
		int r = unm_rxsync(t->port, (int)ri);

		if (r && !rc)
			rc = r;
	}
	return rc;
}

int pg_wait(struct pg_thread *t, unsigned events, int timeout_ms)
{
	if (!t->shared)
		return unm_wait(t->port, events, timeout_ms);
	if (events & UNM_WAIT_RX)
		return unm_ring_wait(t->port, 0, t->first_rx, timeout_ms);
	return unm_ring_wait(t->port, 1, t->first_tx, timeout_ms);
}

void pg_sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };

	nanosleep(&ts, NULL);
}

bool pg_peer_gone(int rc)
{
	return rc == -EPIPE || rc == -ECONNRESET || rc == -EIO;
}

/* A pipe peer that leaves (-EPIPE) ends the run normally: that is how a
 * sender tells its receiver it is done. unmd going away (-ECONNRESET) or
 * the host erroring the port (-EIO) is a failure: exit status 1. */
void pg_note_closed(struct pg_thread *t, int rc, uint64_t frames)
{
	const char *who = rc == -ECONNRESET ? "unmd closed the connection" :
			  rc == -EIO ? "the port's host stopped serving it" : "peer closed";
	char thr[32] = "";

	t->peer_closed_at = frames;
	if (rc != -EPIPE)
		t->err = rc;
	if (t->conf->threads > 1)
		snprintf(thr, sizeof(thr), "thread %d: ", t->id);
	fprintf(stderr, PG_NAME ": %s%s after %" PRIu64 " frames (%s)\n", thr, who, frames,
		unm_strerror(rc));
}

void pg_fatal_sync(struct pg_thread *t, const char *what, int rc)
{
	t->err = rc;
	fprintf(stderr, PG_NAME ": %s: %s%s%s\n", what, unm_strerror(rc),
		unm_errmsg()[0] ? ": " : "", unm_errmsg());
}

/* ---- frames into slots ------------------------------------------------------ */

/* Bytes per fragment but the last: -M, or the frame split in -F equal
 * parts, or whole buffers. */
static unsigned frag_size(const struct pg_thread *t, unsigned len)
{
	const struct pg_conf *c = t->conf;

	if (c->frag_size)
		return c->frag_size;
	if (c->frags)
		return len / c->frags;
	return t->buf_size;
}

unsigned pg_frame_slots(const struct pg_thread *t, unsigned len)
{
	const struct pg_conf *c = t->conf;

	if (c->frags)
		return c->frags;
	if (len <= t->buf_size && !c->frag_size)
		return 1;
	unsigned m = frag_size(t, len);

	return (len + m - 1) / m;
}

/* The current capture record and its length with the vnet header. */
static const struct pg_rec *replay_rec(const struct pg_thread *t)
{
	return &t->replay->rec[t->rp_idx % t->replay->n];
}

/* LEN bytes of the next frame into dst: from the capture (a zero
 * virtio-net header, then the bytes as captured), or the generator. */
static void frame_bytes(struct pg_thread *t, uint8_t *dst, unsigned len, uint64_t seq,
			uint64_t ts)
{
	if (t->replay) {
		const struct pg_rec *rec = replay_rec(t);
		unsigned vnet = t->conf->vnet_hdr_len;

		memset(dst, 0, vnet);
		memcpy(dst + vnet, t->replay->data + rec->off, len - vnet);
		t->rp_idx++;
		return;
	}
	pg_gen_write(&t->gen, dst, len, seq, ts);
}

void pg_put_frame(struct pg_thread *t, struct unm_ring *r, uint32_t *i, unsigned len,
		  uint64_t seq, uint64_t ts)
{
	unsigned nf = pg_frame_slots(t, len), m, off = 0;
	bool rubbish = t->conf->rubbish;
	uint32_t k = *i;

	if (nf == 1) {
		if (!rubbish)
			frame_bytes(t, (uint8_t *)unm_slot_buf(r, k), len, seq, ts);
		r->slot[k].len = (uint16_t)len;
		r->slot[k].flags = 0;
		if (t->conf->dump)
			pg_dump(t, "tx", r->ringid, k, (const uint8_t *)unm_slot_buf(r, k), len, 0);
		*i = unm_ring_next(r, k);
		return;
	}
	/* Fragmented: build the whole frame once, then cut it into slots. */
	if (!rubbish)
		frame_bytes(t, t->scratch, len, seq, ts);
	m = frag_size(t, len);
	for (unsigned f = 0; f < nf; f++) {
		unsigned n = f + 1 == nf ? len - off : m;

		if (!rubbish)
			memcpy(unm_slot_buf(r, k), t->scratch + off, n);
		r->slot[k].len = (uint16_t)n;
		r->slot[k].flags = f + 1 == nf ? 0 : UNM_NS_MOREFRAG;
		if (t->conf->dump)
			pg_dump(t, "tx", r->ringid, k, (const uint8_t *)unm_slot_buf(r, k), n,
				r->slot[k].flags);
		off += n;
		k = unm_ring_next(r, k);
	}
	*i = k;
}

/* ---- sender ------------------------------------------------------------------- */

struct tx_state {
	unsigned pending_len;   /* a frame that did not fit last time */
	uint64_t seq, sent, bytes, batches;
};

/* Fill up to MAX frames into R from head; returns the frames written. */
static unsigned tx_fill(struct pg_thread *t, struct tx_state *s, struct unm_ring *r,
			unsigned max)
{
	uint32_t i = r->head, space = unm_ring_space(r);
	unsigned n = 0, vnet = t->conf->vnet_hdr_len;
	bool seq = t->conf->func == PG_TXSEQ, ts = t->conf->ts;

	while (n < max) {
		unsigned len = s->pending_len ? s->pending_len :
			       t->replay ? vnet + replay_rec(t)->len : pg_gen_len(&t->gen);
		unsigned nf = pg_frame_slots(t, len);

		if (nf > space) {
			s->pending_len = len;
			break;
		}
		s->pending_len = 0;
		pg_put_frame(t, r, &i, len, seq ? s->seq++ : 0, ts ? pg_wall_ns() : 0);
		space -= nf;
		s->bytes += len - vnet;
		n++;
	}
	unm_ring_advance(r, i);
	return n;
}

/* One fixed frame (the default): pg_fill_fixed (fill.c) puts it in the
 * slots, writing a buffer only when it may not hold the frame already.
 * kept: per TX ring of the thread, NULL where the port's buffers may be
 * written by others (t->tx_keep_ok false) or were seen to move. */
struct tx_fixed {
	unsigned len;           /* the frame, vnet header included */
	uint32_t **kept;
	uint64_t rewritten;     /* -v: frames written in full */
	bool moved;             /* -v: some ring's buffers moved */
};

static bool tx_fixed_usable(struct pg_thread *t)
{
	const struct pg_conf *c = t->conf;

	return !t->replay && t->gen.fixed && !c->rubbish && !c->dump && !c->ts &&
	       c->func == PG_TX && !c->frags && !c->frag_size &&
	       pg_frame_slots(t, pg_gen_len(&t->gen)) == 1;
}

static void tx_fixed_free(struct pg_thread *t, struct tx_fixed *fx)
{
	for (unsigned ri = 0; fx->kept && ri < t->last_tx - t->first_tx; ri++)
		free(fx->kept[ri]);
	free(fx->kept);
	fx->kept = NULL;
}

/* 0, or -1 when the fast path is not for this configuration. */
static int tx_fixed_init(struct pg_thread *t, struct tx_fixed *fx)
{
	unsigned nr = t->last_tx - t->first_tx;

	memset(fx, 0, sizeof(*fx));
	if (!tx_fixed_usable(t))
		return -1;
	fx->len = pg_gen_len(&t->gen);
	if (t->tx_keep_ok && (fx->kept = calloc(nr, sizeof(*fx->kept))))
		for (unsigned ri = 0; ri < nr; ri++) /* a NULL one: written every time */
			fx->kept[ri] = pg_kept_new(unm_ring_get(t->port, 1, t->first_tx + ri));
	return 0;
}

static unsigned tx_fill_fixed(struct pg_thread *t, struct tx_fixed *fx, struct tx_state *s,
			      unsigned ri, unsigned max)
{
	uint32_t *dummy = NULL, **kept = fx->kept ? &fx->kept[ri - t->first_tx] : &dummy;
	bool had = *kept != NULL;
	unsigned n = pg_fill_fixed(unm_ring_get(t->port, 1, ri), kept, t->gen.tmpl,
				   (uint16_t)fx->len, max, &fx->rewritten);

	fx->moved |= had && !*kept;
	s->bytes += (uint64_t)n * (fx->len - t->conf->vnet_hdr_len);
	return n;
}

/* Frames the rate limit allows now (per thread share of -R). */
static uint64_t rate_allow(const struct pg_thread *t, uint64_t t0, uint64_t sent, uint64_t *wait_ns)
{
	double rate = t->conf->rate / t->conf->threads;
	double due = (pg_now_ns() - t0) * 1e-9 * rate + 1;

	if (due > (double)sent)
		return (uint64_t)(due - (double)sent);
	*wait_ns = (uint64_t)(((double)sent + 1 - due) / rate * 1e9) + 1;
	return 0;
}

/* When record K (counting passes) of the capture is due, from the start. */
static uint64_t replay_due(const struct pg_pcap *pc, uint64_t k)
{
	uint64_t pass = k / pc->n, rel = pc->rec[k % pc->n].rel_ns;

	/* saturate: a capture spanning years, looped, is due "never" */
	if (pass && pc->period_ns > (UINT64_MAX - rel) / pass)
		return UINT64_MAX;
	return pass * pc->period_ns + rel;
}

/* --replay-timing=orig: the frames whose capture offset has come, up to
 * MAX; or 0 and how long until the next one. */
static uint64_t replay_allow(const struct pg_thread *t, uint64_t t0, uint64_t sent, uint64_t max,
			     uint64_t *wait_ns)
{
	uint64_t now = pg_now_ns() - t0, n = 0, due = 0;

	while (n < max && (due = replay_due(t->replay, sent + n)) <= now)
		n++;
	if (!n)
		*wait_ns = due - now;
	return n;
}

/* Sleep until some TX ring of ours has room for a frame of LEN bytes: set
 * cur to tail (netmap's idiom: "wake me when tail moves") so unm_wait()
 * does not return at once when there is room for less than a frame. */
static int tx_wait(struct pg_thread *t, int timeout_ms)
{
	int rc;

	for (unsigned ri = t->first_tx; ri < t->last_tx; ri++) {
		struct unm_ring *r = unm_ring_get(t->port, 1, ri);

		r->cur = r->tail;
	}
	rc = pg_wait(t, UNM_WAIT_TX, timeout_ms);
	for (unsigned ri = t->first_tx; ri < t->last_tx; ri++) {
		struct unm_ring *r = unm_ring_get(t->port, 1, ri);

		r->cur = r->head;
	}
	return rc < 0 ? rc : 0;
}

static bool tx_pending(struct pg_thread *t)
{
	for (unsigned ri = t->first_tx; ri < t->last_tx; ri++)
		if (unm_tx_pending(unm_ring_get(t->port, 1, ri)))
			return true;
	return false;
}

/* After the last frame: give the port up to a second to complete what it
 * still holds (a pipe whose peer ring was full keeps frames in ours). */
static void tx_drain(struct pg_thread *t)
{
	uint64_t deadline = pg_now_ns() + 1000000000ull;

	while (tx_pending(t) && !pg_stopping() && pg_now_ns() < deadline) {
		int rc = tx_wait(t, WAIT_MS);

		if (rc < 0 && rc != -EINTR)
			break;
	}
}

/*
 * A pipe end sends before its peer opens: the frames wait in the peer's
 * RX ring, and once both rings are full the sender makes no progress and
 * its interval lines say pps=0 with no reason. Say why, once for the
 * whole program, when the rings have stayed full for a second from the
 * start and the library reports the peer missing (unm_port_info.peer).
 */
static void tx_note_no_peer(struct pg_thread *t, uint64_t t0, uint64_t sent)
{
	static int warned;
	struct unm_port_info info = { .sz = sizeof(info) };

	if (__atomic_load_n(&warned, __ATOMIC_RELAXED) || pg_now_ns() - t0 < 1000000000ull)
		return;
	if (unm_port_info(t->port, &info) || info.peer != UNM_PEER_WAITING)
		return;
	if (__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
		return;
	fprintf(stderr, PG_NAME ": no peer on %s yet: %" PRIu64 " frames wait in the ring, "
		"which is full; sending resumes when the other end opens\n", t->conf->ifname, sent);
}

static void tx_publish(struct pg_thread *t, const struct tx_state *s)
{
	pg_publish(&t->c.pkts, s->sent);
	pg_publish(&t->c.bytes, s->bytes);
	pg_publish(&t->c.batches, s->batches);
}

void *pg_tx_main(void *arg)
{
	struct pg_thread *t = arg;
	const struct pg_conf *c = t->conf;
	struct tx_state s = { 0 };
	struct tx_fixed fx;
	bool fixed = tx_fixed_init(t, &fx) == 0;
	uint64_t t0 = pg_now_ns();
	int rc = 0;

	t->t_first = t0;
	while (!pg_stopping()) {
		uint64_t want = c->batch, wait_ns = 0, got;
		unsigned filled = 0;

		if (c->rate > 0 || (t->replay && c->replay_timing == PG_REPLAY_ORIG)) {
			uint64_t allow = c->rate > 0 ? rate_allow(t, t0, s.sent, &wait_ns) :
				replay_allow(t, t0, s.sent, want, &wait_ns);

			if (!allow) {
				pg_sleep_ns(wait_ns < 50000000 ? wait_ns : 50000000);
				continue;
			}
			want = allow < want ? allow : want;
		}
		want = pg_claim(want);
		if (!want)
			break;
		for (unsigned ri = t->first_tx; ri < t->last_tx && filled < want; ri++)
			filled += fixed ? tx_fill_fixed(t, &fx, &s, ri, (unsigned)(want - filled)) :
				  tx_fill(t, &s, unm_ring_get(t->port, 1, ri),
					  (unsigned)(want - filled));
		got = filled;
		if (got < want)
			pg_unclaim(want - got);
		if (filled) {
			rc = pg_txsync(t);
			s.sent += filled;
			s.batches++;
			tx_publish(t, &s);
		} else {
			tx_note_no_peer(t, t0, s.sent);
			rc = tx_wait(t, WAIT_MS);
		}
		if (rc < 0 && rc != -EINTR) {
			if (pg_peer_gone(rc))
				pg_note_closed(t, rc, s.sent);
			else
				pg_fatal_sync(t, "txsync", rc);
			break;
		}
	}
	if (rc >= 0 || rc == -EINTR)
		tx_drain(t);
	t->t_last = pg_now_ns();
	tx_publish(t, &s);
	if (fixed && c->verbose)
		fprintf(stderr, PG_NAME ": %s%" PRIu64 " of %" PRIu64 " frames written in full "
			"(the others found their buffer holding the frame)\n", fx.moved ?
			"buffers move on this port: " : "", fx.rewritten, s.sent);
	if (fixed)
		tx_fixed_free(t, &fx);
	__atomic_store_n(&t->done, true, __ATOMIC_RELAXED);
	return NULL;
}

/* ---- receiver ------------------------------------------------------------------ */

struct rx_state {
	uint64_t got, bytes, batches;
	uint64_t now_wall;      /* --ts: wall clock after the last rxsync */
	unsigned frame_bytes;   /* bytes of the chain being received */
};

/* The first slot of a frame: rxseq reads its sequence number, --ts its
 * send time (a frame without one counts as malformed with rxseq only). */
static void rx_first(struct pg_thread *t, struct rx_state *s, struct unm_ring *r,
		     const struct unm_slot *sl)
{
	uint64_t seq, ts = 0;
	unsigned len = sl->len < r->nr_buf_size ? sl->len : r->nr_buf_size;
	bool rxseq = t->conf->func == PG_RXSEQ;

	if (pg_parse((const uint8_t *)unm_buf(r, sl->buf_idx), len, t->conf->vnet_hdr_len,
		     &seq, t->conf->ts ? &ts : NULL) < 0) {
		if (rxseq)
			t->seq.bad++;
		return;
	}
	if (rxseq)
		pg_seq_check(&t->seq, seq);
	if (ts)   /* clocks a little apart: a stamp from the future is 0 ns */
		pg_lat_record(&t->lat, s->now_wall > ts ? s->now_wall - ts : 0, &t->gen.rng);
}

/* Count the frames in the SLOTS slots from *I: len and flags only. The
 * state is in locals (stores through a pointer would make the compiler
 * reload the slots). */
static unsigned rx_count(const struct unm_ring *r, uint32_t *ip, uint32_t slots, unsigned vnet,
			 unsigned *fbp, uint64_t *bytesp)
{
	const uint32_t nslots = r->num_slots;
	uint32_t i = *ip;
	unsigned n = 0, fb = *fbp;
	uint64_t bytes = 0;

	while (slots) { /* up to the ring's end, then from slot 0 */
		uint32_t run = slots < nslots - i ? slots : nslots - i;
		const struct unm_slot *sl = &r->slot[i], *end = sl + run;

		for (; sl != end; sl++) {
			fb += sl->len;
			if (__builtin_expect(!(sl->flags & UNM_NS_MOREFRAG), 1)) {
				bytes += fb > vnet ? fb - vnet : 0;
				fb = 0;
				n++;
			} else if (fb == 0) {
				fb = 1; /* empty first fragment: still inside a chain */
			}
		}
		slots -= run;
		i += run;
		if (i == nslots)
			i = 0;
	}
	*ip = i;
	*fbp = fb;
	*bytesp += bytes;
	return n;
}

/* Consume up to MAX complete frames from R; returns the frames counted.
 * A chain cut by tail is continued at the next call. Only rxseq, --ts and
 * -X look into the frames; without them, and when MAX cannot stop us
 * early, the slots are only counted (rx_count). */
static unsigned rx_consume(struct pg_thread *t, struct rx_state *s, struct unm_ring *r,
			   uint64_t max)
{
	uint32_t i = r->head, tail = r->tail;
	unsigned n = 0, vnet = t->conf->vnet_hdr_len;
	bool first = t->conf->func == PG_RXSEQ || t->conf->ts, dump = t->conf->dump;

	if (!first && !dump && max >= unm_ring_space(r)) {
		n = rx_count(r, &i, unm_ring_space(r), vnet, &s->frame_bytes, &s->bytes);
		unm_ring_advance(r, i);
		return n;
	}
	while (i != tail && n < max) {
		const struct unm_slot *sl = &r->slot[i];

		if (s->frame_bytes == 0 && first)
			rx_first(t, s, r, sl);
		if (dump)
			pg_dump(t, "rx", r->ringid, i, (const uint8_t *)unm_buf(r, sl->buf_idx),
				sl->len < r->nr_buf_size ? sl->len : r->nr_buf_size, sl->flags);
		n += rx_count(r, &i, 1, vnet, &s->frame_bytes, &s->bytes);
	}
	unm_ring_advance(r, i);
	return n;
}

static uint64_t rx_avail(struct pg_thread *t)
{
	uint64_t n = 0;

	for (unsigned ri = t->first_rx; ri < t->last_rx; ri++)
		n += unm_ring_space(unm_ring_get(t->port, 0, ri));
	return n;
}

static void rx_publish(struct pg_thread *t, const struct rx_state *s)
{
	pg_publish(&t->c.pkts, s->got);
	pg_publish(&t->c.bytes, s->bytes);
	pg_publish(&t->c.batches, s->batches);
	pg_publish(&t->c.drops, t->seq.lost);
}

void *pg_rx_main(void *arg)
{
	struct pg_thread *t = arg;
	struct rx_state s = { 0 };
	int rc = 0;

	rc = pg_rxsync(t);
	while (!pg_stopping() && (rc >= 0 || rc == -EINTR)) {
		uint64_t avail = rx_avail(t), want, got = 0;

		if (!avail) {
			if (pg_budget_spent())
				break; /* -n reached: nothing left to wait for */
			if (t->conf->exit_empty)
				break;   /* -W: nothing (more) to take */
			rc = pg_wait(t, UNM_WAIT_RX, WAIT_MS);
			continue;
		}
		if (t->conf->ts)
			s.now_wall = pg_wall_ns();
		want = pg_claim(avail);
		if (!want)
			break;
		for (unsigned ri = t->first_rx; ri < t->last_rx && got < want; ri++)
			got += rx_consume(t, &s, unm_ring_get(t->port, 0, ri), want - got);
		if (got < want)
			pg_unclaim(want - got);
		if (got) {
			uint64_t now = pg_now_ns();

			if (!t->t_first)
				t->t_first = now;
			t->t_last = now;
			s.got += got;
			s.batches++;
			rx_publish(t, &s);
		}
		rc = pg_rxsync(t);
	}
	if (rc < 0 && rc != -EINTR) {
		/* the sender may leave as soon as our last frame is in: that is
		 * no news when we have all we wanted */
		if (pg_peer_gone(rc) && pg_budget_spent())
			pg_rxsync(t);
		else if (pg_peer_gone(rc))
			pg_note_closed(t, rc, s.got);
		else
			pg_fatal_sync(t, "rxsync", rc);
	} else {
		pg_rxsync(t); /* release what we consumed */
	}
	rx_publish(t, &s);
	__atomic_store_n(&t->done, true, __ATOMIC_RELAXED);
	return NULL;
}
