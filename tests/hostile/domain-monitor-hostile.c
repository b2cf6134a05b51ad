// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a hostile zero-copy monitor of a domain port hurts only
 * its own view. The monitor (vale0:b/r, a member of b's domain) writes
 * garbage into its own RX ring (buffer indexes out of range, indexes of
 * buffers other rings hold, huge lengths), its rx_hwcur and its ctail
 * claim word (a claim nobody holds), and never drains. Meanwhile a -> b
 * (in the domain) and a -> c (isolated, through unmd) lose nothing: every
 * frame arrives intact and in order, b and a count no bad buffer, unmd
 * keeps serving. b's hand-offs resume once unmd clears the garbage claim.
 */
#include <errno.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"
#include "unm-internal.h"
#include "../lib/domain.h"

static struct unm_dom_member *member(struct unm_port *p, struct unm_dom_layout *l)
{
	const struct unm_dom_hdr *h = unm_dom_hdr(p->reg.base);

	T_ASSERT_EQ(unm_dom_layout(h->max_members, h->nslots, h->buf_size, l), 0);
	return unm_dom_member(p->reg.base, l, unm_dom_member_of(p) - 1);
}

/* N frames a -> DST, each received intact and in order at RCV. */
static void stream(struct unm_port *a, struct unm_port *rcv, const uint8_t *dst, uint32_t seq0,
		   unsigned n)
{
	uint8_t f[2048], r[2048];
	long len;

	for (uint32_t q = seq0; q < seq0 + n; q++) {
		size_t l = t_frame(f, 60 + q % 200, dst, 1, q);

		T_ASSERT_EQ(t_send(a, f, l, 2000), 0);
		len = t_recv(rcv, r, sizeof(r), 2000);
		if (len != (long)l || t_frame_check(r, (size_t)len) != q)
			T_FAIL("frame %u: got %ld bytes, seq %ld", q, len,
			       len > 0 ? t_frame_check(r, (size_t)len) : -1);
	}
}

int main(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t f[2048], r[2048], mb[6], mc[6];
	struct unm_port *a, *b, *c, *mon;
	struct unm_dom_member *bm, *mm;
	struct unm_dom_layout l;
	struct unm_ctl_port_info pi;
	struct unm_ring *mrx, *atx;
	uint64_t h0;

	t_watchdog(120);
	t_unmd_start(NULL);
	t_mac(mb, 2);
	t_mac(mc, 3);
	t_dom_switch("vale0");
	a = t_open("vale0:a");
	b = t_open("vale0:b");
	c = t_open("vale0:c@conf:domain=none");
	mon = t_open("vale0:b/r");
	T_ASSERT(unm_dom_member_of(mon) && !unm_dom_member_of(c));
	bm = member(b, &l);
	mm = member(mon, &l);
	/* b and c announce themselves (learned: unicast from now on) */
	T_ASSERT_EQ(t_send(b, f, t_frame(f, 60, bcast, 2, 0), 1000), 0);
	T_ASSERT_EQ(t_send(c, f, t_frame(f, 60, bcast, 3, 0), 1000), 0);
	while (t_recv(a, r, sizeof(r), 200) > 0)
		;
	while (t_recv(b, r, sizeof(r), 50) > 0)
		;
	while (t_recv(c, r, sizeof(r), 50) > 0)
		;
	stream(a, b, mb, 1, 10); /* b has met its monitor */
	T_ASSERT_EQ(bm->mon_handed, 10);

	/* garbage in the monitor's own ring and rx_hwcur */
	mrx = unm_ring_get(mon, 0, 0);
	atx = unm_ring_get(a, 1, 0);
	for (uint32_t s = 0; s < mrx->num_slots; s++) {
		uint32_t bad[4] = { 0, 1, 0xfffffff0u, atx->slot[s % atx->num_slots].buf_idx };

		mrx->slot[s].buf_idx = bad[s % 4];
		mrx->slot[s].len = 0xffff;
		mrx->slot[s].flags = UNM_NS_MOREFRAG;
	}
	__atomic_store_n(&mm->rx_hwcur, 0xfffffff0u, __ATOMIC_RELEASE);
	stream(a, b, mb, 100, 2000);
	stream(a, c, mc, 5000, 200);
	__atomic_store_n(&mm->rx_hwcur, 3, __ATOMIC_RELEASE);
	stream(a, b, mb, 3000, 2000);

	/* a claim on the monitor's ring that nobody holds */
	h0 = bm->mon_handed;
	__atomic_store_n(&mm->ctail, unm_dom_ct(0x7777777u, 5), __ATOMIC_RELEASE);
	stream(a, b, mb, 6000, 500);
	stream(a, c, mc, 7000, 100);
	/* unmd clears it within 100 ms; then b hands frames over again */
	for (int i = 0; i < 100 && unm_dom_ct_token(__atomic_load_n(&mm->ctail,
								   __ATOMIC_ACQUIRE)); i++)
		usleep(10000);
	T_ASSERT_EQ(unm_dom_ct_token(__atomic_load_n(&mm->ctail, __ATOMIC_ACQUIRE)), 0);
	/* the monitor drains what it has (garbage and all: its own view) */
	__atomic_store_n(&mm->rx_hwcur, unm_dom_ct_tail(mm->ctail), __ATOMIC_RELEASE);
	stream(a, b, mb, 8000, 50);
	T_ASSERT(bm->mon_handed > h0);

	T_ASSERT_EQ(b->st.bad_buf, 0);
	T_ASSERT_EQ(a->st.bad_buf, 0);
	T_ASSERT_EQ(b->st.bad_ring, 0);
	T_ASSERT_EQ(t_port_info("vale0:c", &pi), 0); /* unmd is alive */
	unm_close(mon);
	stream(a, b, mb, 9000, 20);
	unm_close(a);
	unm_close(b);
	unm_close(c);
	printf("PASS\n");
	return 0;
}
