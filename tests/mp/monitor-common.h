/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * monitor-common.h - helpers shared by the tests/mp/monitor-*.c tests:
 * drain a monitor port and count what it saw.
 */
#ifndef MONITOR_COMMON_H
#define MONITOR_COMMON_H

#include <errno.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"

struct mon_count {
	long frames, bytes, txmon, bad, chains;
	int err;                 /* last sync error (e.g. -EPIPE) */
};

/* Take every whole frame in RX ring 0 of M (one sync), count it. */
static inline void mon_drain(struct unm_port *m, struct mon_count *c)
{
	struct unm_ring *r = unm_ring_get(m, 0, 0);
	int rc = unm_rxsync(m, 0);

	if (rc)
		c->err = rc;
	while (!unm_ring_empty(r)) {
		struct unm_slot *s = &r->slot[r->head];
		long seq = t_frame_check((const uint8_t *)unm_buf(r, s->buf_idx), s->len);

		if (seq < 0 || (s->flags & UNM_NS_MOREFRAG))
			c->bad++;
		c->frames++;
		c->bytes += s->len;
		c->txmon += !!(s->flags & UNM_NS_TXMON);
		unm_ring_advance(r, unm_ring_next(r, r->head));
	}
}

/* Drain M until it has seen WANT frames or TIMEOUT_MS passed. */
static inline void mon_wait(struct unm_port *m, struct mon_count *c, long want, int timeout_ms)
{
	double end = t_now() + timeout_ms / 1000.0;

	for (;;) {
		mon_drain(m, c);
		if (c->frames >= want || t_now() > end || c->err)
			return;
		unm_wait(m, UNM_WAIT_RX, 20);
	}
}

/* Receive frames on P until N arrived or timeout; returns the count. */
static inline long recv_n(struct unm_port *p, long n, int timeout_ms)
{
	uint8_t buf[2048];
	long got = 0;

	while (got < n) {
		long len = t_recv(p, buf, sizeof(buf), timeout_ms);

		if (len <= 0 || t_frame_check(buf, (size_t)len) < 0)
			break;
		got++;
	}
	return got;
}

#endif
