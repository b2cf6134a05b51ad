/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * csb.h - the application (client) side of the CSB passthrough protocol,
 * independent of the transport. A transport (lib/vale.c over a Unix
 * socket and eventfds; a QEMU guest over ivshmem doorbells,
 * lib/backend/ivshmem.c)
 * fills a struct unm_csb_client with where the CSB entries are and how to
 * kick the host, then calls these from its port ops.
 *
 * Entry layout (include/unm/shm.h): entry e at csb + e; TX ring i is entry
 * i, RX ring i is entry n_tx + i. Values the host writes (h2a) are
 * untrusted: every one is range-checked against the application's own
 * kring state before use.
 */
#ifndef UNM_CSB_H
#define UNM_CSB_H

#include "internal.h"

struct unm_csb_client {
	struct unm_csb *csb;    /* entry 0 (in the mapped region) */
	unsigned n_tx, n_rx;
	/* Notify the host that entry E has work. Returns 0 or -errno. */
	int (*kick)(void *arg, unsigned e);
	/* Called (rate-limited by the transport) while a ring would block:
	 * 0 if the host is alive, -ECONNRESET if it is gone. May be NULL. */
	int (*alive)(void *arg);
	void *arg;
};

/* CSB entry of a kring. */
static inline struct unm_csb *unm_csb_entry(const struct unm_csb_client *c,
					    const struct unm_kring *kr)
{
	return &c->csb[kr->dir ? c->n_tx + kr->ringid : kr->ringid];
}

/*
 * unm_csb_txsync / unm_csb_rxsync - the port ops' txsync/rxsync: publish
 * cur then head, kick the host if it asked (kern_need_kick), read the
 * host's hwtail. -EIO if the host flagged the port errored or published
 * an impossible hwtail (counted in p->st.bad_ring), p->error if set.
 */
UNM_HIDDEN int unm_csb_txsync(struct unm_csb_client *c, struct unm_port *p,
			      struct unm_kring *kr, uint32_t head);
UNM_HIDDEN int unm_csb_rxsync(struct unm_csb_client *c, struct unm_port *p,
			      struct unm_kring *kr, uint32_t head);

/*
 * unm_csb_arm - the ring would block: ask the host for an interrupt
 * (appl_need_kick = 1), full fence, re-read hwtail (the double check).
 * Returns true if the ring would no longer block (the caller syncs again).
 * Also runs c->alive; on failure sets p->error and returns true.
 */
UNM_HIDDEN bool unm_csb_arm(struct unm_csb_client *c, struct unm_port *p,
			    struct unm_kring *kr);

/* Host flagged the port errored (UNM_CSB_F_ERROR on any entry)? */
UNM_HIDDEN bool unm_csb_errored(const struct unm_csb_client *c);

/*
 * The same as port ops, for every transport (vale.c, monitor.c,
 * backend/ivshmem.c): the port's p->priv begins with its struct
 * unm_csb_client (each transport asserts it).
 */
UNM_HIDDEN int unm_csb_port_txsync(struct unm_port *p, struct unm_kring *kr, uint32_t head);
UNM_HIDDEN int unm_csb_port_rxsync(struct unm_port *p, struct unm_kring *kr, uint32_t head);
UNM_HIDDEN bool unm_csb_port_arm(struct unm_port *p, struct unm_kring *kr);

/* vale.c's wakeup, woke and close, which a copy monitor (monitor.c) shares. */
UNM_HIDDEN int unm_vale_wakeup(struct unm_port *p);
UNM_HIDDEN int unm_vale_woke(struct unm_port *p, const struct epoll_event *ev, int n);
UNM_HIDDEN void unm_vale_close(struct unm_port *p);

/* domain.c: the port becomes member rep->dom_member - 1 of a trust
 * domain; FDS (NFDS of them) and SOCK become the port's on success
 * (p->ops is then unm_dom_ops, or unm_dom_mon_ops for a monitor); on
 * failure they stay the caller's. */
struct unm_ctl_rep;
UNM_HIDDEN int unm_dom_open(struct unm_port *p, int sock, const struct unm_ctl_rep *rep,
			    int *fds, unsigned nfds);
extern const struct unm_port_ops unm_dom_ops UNM_HIDDEN;
extern const struct unm_port_ops unm_dom_mon_ops UNM_HIDDEN; /* zero-copy monitor */

#endif
