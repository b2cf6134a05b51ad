// SPDX-License-Identifier: BSD-2-Clause
/*
 * csb.c - application side of the CSB passthrough protocol (netmap ptnet
 * guest's txsync/rxsync), independent of the transport (see csb.h).
 *
 * Threads: each ring is synced by one application thread at a time (the
 * unm_txsync contract); the host runs concurrently in another process or
 * VM. The only shared state is the CSB entry of the ring and the ring's
 * slots, ordered by these barrier pairs:
 *   [A1] app release of a2h.head: slots before head are written (TX) or
 *        done with (RX).             partner [H1]: host acquire of a2h.head.
 *   [A2] app acquire of h2a.hwtail.  partner [H2]: host release of hwtail
 *        after filling RX slots / consuming TX slots.
 *   [A3] app full fence between publishing head and reading
 *        kern_need_kick.             partner [H3]: host sets kern_need_kick,
 *        full fence, re-reads head (its double check before sleeping).
 *   [A4] app sets appl_need_kick, full fence, re-reads hwtail (double
 *        check).                     partner [H4]: host publishes hwtail,
 *        full fence, reads appl_need_kick to decide on an interrupt.
 * Without [A3]/[H3] (a Dekker pair) each side could miss the other's flag
 * and both would sleep with work pending. The host takes appl_need_kick
 * back to 0 with the interrupt it sends ([H5], an atomic exchange): one
 * interrupt per arm, so after an arm the application sees either the new
 * hwtail in its double check or, later, that interrupt. quiet() also
 * clears the flag while the application runs; both sides only ever
 * replace a request by 0, so no arm is lost between them.
 */
#include <errno.h>
#include "csb.h"

static inline uint32_t kr_prev(const struct unm_kring *kr, uint32_t i)
{
	return i == 0 ? kr->nslots - 1 : i - 1;
}

bool unm_csb_errored(const struct unm_csb_client *c)
{
	for (unsigned e = 0; e < c->n_tx + c->n_rx; e++)
		if (UNM_READ_ONCE(c->csb[e].h2a.host_flags) & UNM_CSB_F_ERROR)
			return true;
	return false;
}

static int bad_hwtail(struct unm_port *p, struct unm_kring *kr, uint32_t hwtail,
		      uint32_t limit)
{
	p->st.bad_ring++;
	unm_log(UNM_LOG_ERR, "%s: host published %s hwtail %u outside [%u, %u]; port errored",
		p->name, kr->dir ? "RX" : "TX", hwtail, kr->hwtail, limit);
	p->error = -EIO;
	return -EIO;
}

/* Publish cur then head [A1]; kick if the host sleeps ([A3]). */
static int publish(struct unm_csb_client *c, struct unm_port *p, struct unm_kring *kr,
		   struct unm_csb *e, uint32_t head)
{
	UNM_WRITE_ONCE(e->a2h.cur, UNM_READ_ONCE(kr->ring->cur));
	/* [A1] release: slots before head are ready; pairs with [H1]. */
	unm_store_release(&e->a2h.head, head);
	kr->hwcur = head;
	/* [A3] full fence: store head / load kern_need_kick; pairs with [H3]. */
	unm_smp_mb();
	if (UNM_READ_ONCE(e->h2a.kern_need_kick)) {
		int rc = c->kick(c->arg, (unsigned)(e - c->csb));

		p->st.kicks++;
		if (rc)
			return rc;
	}
	return 0;
}

/* Add the bytes and frames (slots without MOREFRAG) of slots [from, to)
 * to *bytes and *frames: port statistics only, so untrusted slot values
 * are fine here. Runs up to the ring's end then from slot 0, sums in
 * locals: this is per slot on every sync. */
static void count_slots(const struct unm_kring *kr, uint32_t from, uint32_t to,
			uint64_t *bytes, uint64_t *frames)
{
	const struct unm_slot *slot = kr->ring->slot;
	uint32_t n = kr_dist(kr, from, to);
	uint64_t b = 0, f = n, more = 0;

	while (n) {
		uint32_t run = n < kr->nslots - from ? n : kr->nslots - from;

		for (const struct unm_slot *s = slot + from, *end = s + run; s != end; s++) {
			b += s->len;
			more += s->flags & UNM_NS_MOREFRAG; /* a multiple of the flag */
		}
		n -= run;
		from = 0;
	}
	*bytes += b;
	*frames += f - more / UNM_NS_MOREFRAG;
}

static inline void quiet(struct unm_csb *e)
{
	/* The application is running: no interrupts until it arms again. */
	if (UNM_READ_ONCE(e->a2h.appl_need_kick))
		UNM_WRITE_ONCE(e->a2h.appl_need_kick, 0);
}

int unm_csb_txsync(struct unm_csb_client *c, struct unm_port *p, struct unm_kring *kr,
		   uint32_t head)
{
	struct unm_csb *e = unm_csb_entry(c, kr);
	uint32_t hwtail, limit;
	int rc;

	if (p->error)
		return p->error;
	if (UNM_READ_ONCE(e->h2a.host_flags) & UNM_CSB_F_ERROR)
		return p->error = -EIO;
	quiet(e);
	if (head != kr->hwcur) {
		count_slots(kr, kr->hwcur, head, &p->st.tx_bytes, &p->st.tx_frames);
		rc = publish(c, p, kr, e, head);
		if (rc)
			return rc;
	}
	/* [A2] acquire: the host consumed the slots before hwtail + 1; pairs
	 * with [H2]. untrusted: the host may only move hwtail forward, up to
	 * the slot before head. */
	hwtail = unm_load_acquire(&e->h2a.hwtail);
	if (hwtail == kr->hwtail)
		return 0;
	limit = kr_prev(kr, head);
	if (hwtail >= kr->nslots || kr_dist(kr, kr->hwtail, hwtail) > kr_dist(kr, kr->hwtail, limit))
		return bad_hwtail(p, kr, hwtail, limit);
	kr->hwtail = hwtail;
	return 0;
}

int unm_csb_rxsync(struct unm_csb_client *c, struct unm_port *p, struct unm_kring *kr,
		   uint32_t head)
{
	struct unm_csb *e = unm_csb_entry(c, kr);
	uint32_t hwtail, limit;
	int rc;

	if (UNM_READ_ONCE(e->h2a.host_flags) & UNM_CSB_F_ERROR)
		return p->error = -EIO;
	quiet(e);
	/* [A2] acquire: RX slots before hwtail are filled; pairs with [H2].
	 * untrusted: the host may fill up to the slot before the head it saw,
	 * which is at most our last published head (kr->hwcur). */
	hwtail = unm_load_acquire(&e->h2a.hwtail);
	if (hwtail != kr->hwtail) {
		limit = kr_prev(kr, kr->hwcur);
		if (hwtail >= kr->nslots ||
		    kr_dist(kr, kr->hwtail, hwtail) > kr_dist(kr, kr->hwtail, limit))
			return bad_hwtail(p, kr, hwtail, limit);
		count_slots(kr, kr->hwtail, hwtail, &p->st.rx_bytes, &p->st.rx_frames);
		kr->hwtail = hwtail;
	}
	if (head != kr->hwcur) {
		rc = publish(c, p, kr, e, head);
		if (rc)
			return rc;
	}
	if (p->error && head == kr->hwtail)
		return p->error; /* host gone and nothing left to read */
	return 0;
}

bool unm_csb_arm(struct unm_csb_client *c, struct unm_port *p, struct unm_kring *kr)
{
	struct unm_csb *e = unm_csb_entry(c, kr);
	uint32_t hwtail;

	if (c->alive && !p->error) {
		int rc = c->alive(c->arg);

		if (rc) {
			p->error = rc;
			return true;
		}
	}
	UNM_WRITE_ONCE(e->a2h.appl_need_kick, 1);
	/* [A4] full fence: store appl_need_kick / load hwtail (double
	 * check); pairs with [H4]. */
	unm_smp_mb();
	hwtail = UNM_READ_ONCE(e->h2a.hwtail);
	return hwtail != kr->hwtail ||
	       (UNM_READ_ONCE(e->h2a.host_flags) & UNM_CSB_F_ERROR);
}

int unm_csb_port_txsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	return unm_csb_txsync(p->priv, p, kr, head);
}

int unm_csb_port_rxsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	return unm_csb_rxsync(p->priv, p, kr, head);
}

bool unm_csb_port_arm(struct unm_port *p, struct unm_kring *kr)
{
	return unm_csb_arm(p->priv, p, kr);
}
