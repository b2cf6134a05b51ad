// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: trust domains (unm-ctl switch set SW domains uid). Two
 * client ports of one uid share one region and a frame between them
 * moves by buffer swap in the sender's txsync: the buffer index the
 * sender put in its TX slot is the one the receiver finds in its RX
 * slot, for every frame, and unmd never sees them (its counters stay 0).
 * An isolated port (@conf:domain=none) and a member of another named
 * domain have regions of their own and see nothing of that unicast
 * stream; frames between them and the domain cross unmd (copies, the
 * domain learns the outsider's MAC as "through unmd"). A domain of
 * another uid cannot be joined by name (tested in ctl: uid mismatch is
 * refused). With domains off the same names give isolated ports. Lossless
 * mode: 20000 frames to a receiver that reads slowly arrive all, in order.
 * A domain's buffers have the pipes' 2112-byte stride when its first member
 * asked for the default 2048.
 */
#include <errno.h>
#include <sys/stat.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"
#include "unm-internal.h"
#include "unm-domain.h"

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static ino_t region_ino(struct unm_port *p)
{
	struct stat st;

	T_ASSERT_EQ(fstat(p->reg.fd, &st), 0);
	return st.st_ino;
}

static const char *type_of(const char *name)
{
	static struct unm_ctl_port_info pi;

	T_ASSERT_EQ(t_port_info(name, &pi), 0);
	return pi.type;
}

/* Nothing arrives at P within MS. */
static void quiet(struct unm_port *p, int ms)
{
	uint8_t r[2048];

	T_ASSERT_EQ(t_recv(p, r, sizeof(r), ms), 0);
}

int main(void)
{
	uint8_t f[2048], r[2048], ma[6], mb[6], mc[6], mx[6];
	struct unm_port *a, *b, *c, *x, *y;
	struct unm_ctl_port_info pi;
	long n;

	t_watchdog(60);
	t_unmd_start(NULL);
	t_mac(ma, 1);
	t_mac(mb, 2);
	t_mac(mc, 3);
	t_mac(mx, 4);

	/* domains off (default): a switch port is isolated as before */
	y = t_open("vale1:y");
	T_ASSERT(!unm_dom_member_of(y));
	T_ASSERT(!strcmp(type_of("vale1:y"), "csb"));
	unm_close(y);

	T_ASSERT_EQ(t_ctl(UNM_CTL_SWITCH_ADD, "vale0", "", 0), 0);
	T_ASSERT_EQ(t_ctl(UNM_CTL_SWITCH_SET, "vale0", "domains", 3), -EINVAL);
	T_ASSERT_EQ(t_ctl(UNM_CTL_SWITCH_SET, "vale0", "domains", 1), 0);
	a = t_open("vale0:a");
	b = t_open("vale0:b");
	c = t_open("vale0:c@conf:domain=none");
	x = t_open("vale0:x@conf:domain=other");
	T_ASSERT(unm_dom_member_of(a) && unm_dom_member_of(b) && unm_dom_member_of(x));
	T_ASSERT(!unm_dom_member_of(c));
	T_ASSERT(!strcmp(type_of("vale0:a"), "domain") && !strcmp(type_of("vale0:c"), "csb"));
	T_ASSERT(region_ino(a) == region_ino(b));
	T_ASSERT(region_ino(a) != region_ino(c) && region_ino(a) != region_ino(x));
	T_ASSERT(region_ino(c) != region_ino(x));
	/* a domain asked for the default buffer size strides its pool at
	 * 2112 bytes, as pipes do (the buffers' first lines spread over every
	 * cache set); an isolated port keeps 2048 */
	T_ASSERT_EQ(unm_ring_get(a, 1, 0)->nr_buf_size, UNM_PIPE_DEF_BUF_SIZE);
	T_ASSERT_EQ(unm_ring_get(c, 1, 0)->nr_buf_size, UNM_DEF_BUF_SIZE);

	/* b and c announce themselves: everyone else gets the broadcasts */
	T_ASSERT_EQ(t_send(b, f, t_frame(f, 60, bcast, 2, 0), 1000), 0);
	T_ASSERT_EQ(t_recv(a, r, sizeof(r), 2000), 60);
	T_ASSERT_EQ(t_recv(c, r, sizeof(r), 2000), 60);
	T_ASSERT_EQ(t_recv(x, r, sizeof(r), 2000), 60);
	T_ASSERT_EQ(t_send(c, f, t_frame(f, 60, bcast, 3, 0), 1000), 0);
	T_ASSERT_EQ(t_recv(a, r, sizeof(r), 2000), 60);
	T_ASSERT_EQ(t_recv(b, r, sizeof(r), 2000), 60);
	T_ASSERT_EQ(t_recv(x, r, sizeof(r), 2000), 60);
	T_ASSERT_EQ(r[11], 3);
	quiet(c, 50);

	/* zero copy a -> b: the same buffer index end to end */
	for (uint32_t s = 1; s <= 200; s++) {
		struct unm_ring *tx = unm_ring_get(a, 1, 0), *rx;
		uint32_t idx, got;

		T_ASSERT(tx && !unm_ring_empty(tx));
		idx = tx->slot[tx->head].buf_idx;
		t_frame((uint8_t *)unm_buf(tx, idx), 60 + s % 64, mb, 1, s);
		tx->slot[tx->head].len = (uint16_t)(60 + s % 64);
		tx->slot[tx->head].flags = 0;
		unm_ring_advance(tx, unm_ring_next(tx, tx->head));
		T_ASSERT_EQ(unm_txsync(a, 0), 0);
		rx = unm_ring_get(b, 0, 0);
		for (int i = 0; i < 2000 && unm_ring_empty(rx); i++) {
			T_ASSERT(unm_wait(b, UNM_WAIT_RX, 10) >= 0);
			rx = unm_ring_get(b, 0, 0);
		}
		T_ASSERT(!unm_ring_empty(rx));
		got = rx->slot[rx->head].buf_idx;
		if (got != idx)
			T_FAIL("frame %u: sent in buffer %u, received in buffer %u", s, idx, got);
		T_ASSERT_EQ(rx->slot[rx->head].len, 60 + s % 64);
		T_ASSERT(rx->slot[rx->head].flags & UNM_NS_BUF_CHANGED);
		T_ASSERT_EQ(t_frame_check((const uint8_t *)unm_buf(rx, got), 60 + s % 64), s);
		unm_ring_advance(rx, unm_ring_next(rx, rx->head));
		T_ASSERT_EQ(unm_rxsync(b, 0), 0);
	}
	/* nobody else saw the unicast stream; unmd never carried it */
	quiet(c, 50);
	quiet(x, 50);
	T_ASSERT_EQ(t_port_info("vale0:a", &pi), 0);
	T_ASSERT_EQ(pi.tx_frames, 0);

	/* a -> c (outside the domain): through unmd, into c's own region */
	T_ASSERT_EQ(t_send(a, f, t_frame(f, 60, mc, 1, 7), 1000), 0);
	T_ASSERT_EQ(n = t_recv(c, r, sizeof(r), 2000), 60);
	T_ASSERT_EQ(t_frame_check(r, (size_t)n), 7);
	quiet(b, 50);
	quiet(x, 50);
	T_ASSERT_EQ(t_port_info("vale0:a", &pi), 0);
	T_ASSERT_EQ(pi.tx_frames, 1);
	T_ASSERT_EQ(pi.tx_delivered, 1);

	/* x (another domain) -> b: through unmd as well */
	T_ASSERT_EQ(t_send(x, f, t_frame(f, 60, mb, 4, 9), 1000), 0);
	T_ASSERT_EQ(n = t_recv(b, r, sizeof(r), 2000), 60);
	T_ASSERT_EQ(t_frame_check(r, (size_t)n), 9);
	quiet(a, 50);
	quiet(c, 50);

	/* c -> a: unmd delivers into the domain, a gets a copy */
	T_ASSERT_EQ(t_send(c, f, t_frame(f, 60, ma, 3, 11), 1000), 0);
	T_ASSERT_EQ(n = t_recv(a, r, sizeof(r), 2000), 60);
	T_ASSERT_EQ(t_frame_check(r, (size_t)n), 11);

	/* lossless in the domain: a slow receiver loses nothing */
	T_ASSERT_EQ(t_ctl(UNM_CTL_SWITCH_SET, "vale0", "lossless", 1), 0);
	{
		uint32_t next = 0, sent = 0, total = 20000;

		while (next < total) {
			struct unm_ring *tx = unm_ring_get(a, 1, 0);

			while (sent < total && unm_ring_space(tx)) {
				struct unm_slot *s = &tx->slot[tx->head];

				s->len = (uint16_t)t_frame((uint8_t *)unm_buf(tx, s->buf_idx), 60, mb, 1,
							   sent++);
				s->flags = 0;
				unm_ring_advance(tx, unm_ring_next(tx, tx->head));
			}
			T_ASSERT_EQ(unm_txsync(a, 0), 0);
			/* read at most 7 frames per round: the sender must wait */
			for (int k = 0; k < 7; k++) {
				n = t_recv(b, r, sizeof(r), 1);
				if (n <= 0)
					break;
				if (t_frame_check(r, (size_t)n) != next)
					T_FAIL("lossless: expected frame %u, got %ld", next,
					       t_frame_check(r, (size_t)n));
				next++;
			}
		}
	}
	unm_close(a);
	unm_close(b);
	unm_close(c);
	unm_close(x);
	printf("PASS\n");
	return 0;
}
