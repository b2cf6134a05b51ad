// SPDX-License-Identifier: BSD-2-Clause
/*
 * vale.c - VALE switch ports served by unmd: the client side.
 *
 * unm_open("vale0:p1") connects to unmd's control socket, sends OPEN_PORT,
 * and receives the port's region memfd plus one kick eventfd (client ->
 * unmd) and one irq eventfd (unmd -> client) per ring. The region is
 * validated (unm_region_map) before anything in it is used; rings are then
 * driven through the CSB protocol (csb.c).
 *
 * The control connection stays open for the port's lifetime: unmd removes
 * an ephemeral port when it closes, and the client sees unmd die as a
 * hang-up on it. It sits in the port's epoll set (unm_fd()) next to the irq
 * eventfds, and a ring that would block checks it (at most once per
 * millisecond), so a dead unmd yields -ECONNRESET instead of a hang.
 *
 * The irq eventfds are edge-triggered in that set and never read, as
 * unmd's kick eventfds are: every write by unmd is a new edge whatever
 * the counter holds, and a wake-up is acknowledged by taking the events
 * off the epoll set (unm_vale_wakeup: one epoll_wait with timeout 0,
 * which also shows whether the socket is among them; none at all in
 * unm_wait, whose own epoll_wait took them: unm_vale_woke). Reading each ring's
 * eventfd until EAGAIN and peeking at the socket on every wake-up cost a
 * client four system calls more per wake-up, each microseconds on a
 * virtual machine.
 *
 * Threads: the unm_port contract (one thread per ring); the liveness check
 * and close touch only this port's fds.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "csb.h"
#include "ctlmsg.h"

#define VALE_EV_SOCK (~0u) /* epoll data of the control socket; rings: their entry */

struct vale_priv {
	struct unm_csb_client csb;  /* first: csb.h's shared port ops */
	int sock;
	unsigned n;              /* rings: n_tx + n_rx */
	int kick[2 * UNM_MAX_RINGS];
	int irq[2 * UNM_MAX_RINGS];
	uint64_t last_alive_ns;
};
_Static_assert(offsetof(struct vale_priv, csb) == 0, "csb first");

static int vale_kick(void *arg, unsigned e)
{
	struct vale_priv *v = arg;
	uint64_t one = 1;

	if (e >= v->n)
		return -EINVAL;
	if (write(v->kick[e], &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

/* -ECONNRESET once unmd has closed its end (it died or dropped us). */
static int sock_check(struct vale_priv *v)
{
	char b;
	ssize_t n = recv(v->sock, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		return -ECONNRESET;
	return 0;
}

static int vale_alive(void *arg)
{
	struct vale_priv *v = arg;
	uint64_t now = unm_now_ns();

	if (now - v->last_alive_ns < 1000000)
		return 0;
	v->last_alive_ns = now;
	return sock_check(v);
}

static void priv_free(struct vale_priv *v)
{
	if (!v)
		return;
	for (unsigned i = 0; i < v->n; i++) {
		close(v->kick[i]);
		close(v->irq[i]);
	}
	if (v->sock >= 0)
		close(v->sock);
	free(v);
}

static int open_request(struct unm_port *p, const struct unm_open_opts *o, struct vale_priv *v,
			int *fds, struct unm_ctl_rep *rep)
{
	bool mon = p->spec.kind == UNM_KIND_MONITOR;
	struct unm_ctl_req req;
	char err[256];
	int rc;

	unm_ctl_req_init(&req, UNM_CTL_OPEN_PORT, 1);
	snprintf(req.name, sizeof(req.name), "%s", p->name);
	if (mon) { /* lib/monitor.c: the monitored port */
		snprintf(req.name, sizeof(req.name), "%s", p->spec.path);
		req.flags = (p->spec.flags & UNM_SPEC_MON_TX ? UNM_CTL_OPEN_MON_TX : 0) |
			    (p->spec.flags & UNM_SPEC_MON_RX ? UNM_CTL_OPEN_MON_RX : 0);
		/* an RX monitor of a domain member may join its domain
		 * (zero copy, lib/domain.c mon_handoff): unmd decides */
		req.flags |= UNM_CTL_OPEN_DOMAIN;
	} else {
		req.flags = UNM_CTL_OPEN_DOMAIN; /* unmd decides (lib/domain.c) */
	}
	unm_ctl_geom_from_opts(&req.geom, o);
	/* the name as parsed when the port was opened: unmd reads no text */
	rc = unm_ctl_spec_put(&req.spec, &p->spec, mon ? p->spec.path : p->name, &req.geom, mon,
			      err, sizeof(err));
	if (rc)
		return unm_seterr(rc, "%s", err);
	return unm_ctl_call(v->sock, &req, rep, fds, UNM_CTL_MAX_FDS, o->timeout_ms);
}

/* Check the reply against the mapped region; every number came from unmd. */
static int check_port(struct unm_port *p, const struct unm_ctl_rep *rep)
{
	const struct unm_region_hdr *h = unm_region_hdr(&p->reg);
	struct unm_if *nifp;

	if (h->kind != UNM_REGION_PORT || h->n_ifs != 1 ||
	    h->csb_entries < 2 * (rep->n_tx + rep->n_rx))
		return unm_seterr(-EBADMSG, "%s: unmd sent a region that is not a CSB port region",
				  p->name);
	nifp = unm_region_if(&p->reg, 0);
	if (nifp->ni_tx_rings != rep->n_tx || nifp->ni_rx_rings != rep->n_rx)
		return unm_seterr(-EBADMSG, "%s: ring counts disagree with the region", p->name);
	for (unsigned i = 0; i < rep->n_tx + rep->n_rx; i++) {
		struct unm_ring *r = i < rep->n_tx ? unm_txring(nifp, i) : unm_rxring(nifp, i - rep->n_tx);
		uint32_t head = UNM_READ_ONCE(r->head), tail = UNM_READ_ONCE(r->tail);

		if (head >= r->num_slots || tail >= r->num_slots)
			return unm_seterr(-EBADMSG, "%s: ring %u starts with head %u tail %u",
					  p->name, i, head, tail);
		r->cur = head;
	}
	return 0;
}

static int vale_setup(struct unm_port *p, struct vale_priv *v, const struct unm_ctl_rep *rep,
		      int *fds)
{
	char err[256];
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	int rc;

	rc = unm_region_map(fds[0], &p->reg, err, sizeof(err));
	if (rc)
		return unm_seterr(rc, "%s: region from unmd refused: %s", p->name, err);
	fds[0] = -1; /* owned by p->reg now */
	if ((rc = check_port(p, rep)))
		return rc;
	if ((rc = unm_port_bind_rings(p, unm_region_if(&p->reg, 0))))
		return rc;
	v->csb.csb = unm_region_csb(&p->reg, 0);
	v->csb.n_tx = rep->n_tx;
	v->csb.n_rx = rep->n_rx;
	v->csb.kick = vale_kick;
	v->csb.alive = vale_alive;
	v->csb.arg = v;
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0)
		return unm_seterr(-errno, "epoll_create1: %s", strerror(errno));
	for (unsigned i = 0; i < v->n; i++) {
		ev.data.u32 = i;
		if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, v->irq[i], &ev) < 0)
			return unm_seterr(-errno, "epoll_ctl: %s", strerror(errno));
	}
	ev.events = EPOLLIN | EPOLLRDHUP; /* level: stays reported while unmd is gone */
	ev.data.u32 = VALE_EV_SOCK;
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, v->sock, &ev) < 0)
		return unm_seterr(-errno, "epoll_ctl: %s", strerror(errno));
	return 0;
}

static int vale_open(struct unm_port *p, const struct unm_spec *s, const struct unm_open_opts *o)
{
	struct unm_ctl_rep rep;
	int fds[UNM_CTL_MAX_FDS];
	struct vale_priv *v;
	unsigned n;
	int rc;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->sock = unm_ctl_connect(unm_ctl_path(o->socket_path));
	if (v->sock < 0) {
		rc = v->sock;
		free(v);
		return rc;
	}
	rc = open_request(p, o, v, fds, &rep);
	if (rc) {
		char why[256];

		snprintf(why, sizeof(why), "%s", unm_errmsg());
		priv_free(v);
		return unm_seterr(rc, "%s: %s", p->name, why);
	}
	if (rep.dom_member &&
	    (p->spec.kind == UNM_KIND_VALE || p->spec.kind == UNM_KIND_MONITOR)) {
		/* a trust-domain member: lib/domain.c takes the fds and the socket */
		rc = unm_dom_open(p, v->sock, &rep, fds, rep.n_fds);
		if (rc) {
			for (unsigned i = 0; i < rep.n_fds; i++)
				close(fds[i]);
			priv_free(v);
			return rc;
		}
		free(v);
		return 0;
	}
	n = rep.n_tx + rep.n_rx;
	if (rep.n_tx < 1 || rep.n_tx > UNM_MAX_RINGS || rep.n_rx < 1 || rep.n_rx > UNM_MAX_RINGS ||
	    rep.n_fds != 1 + 2 * n) {
		for (unsigned i = 0; i < rep.n_fds; i++)
			close(fds[i]);
		priv_free(v);
		return unm_seterr(-EBADMSG, "%s: unmd sent %u fds for %u/%u rings", p->name,
				  rep.n_fds, rep.n_tx, rep.n_rx);
	}
	v->n = n;
	memcpy(v->kick, fds + 1, n * sizeof(int));
	memcpy(v->irq, fds + 1 + n, n * sizeof(int));
	rc = vale_setup(p, v, &rep, fds);
	if (rc) { /* no BYE for a port never set up: unm_open tears down the rest */
		if (fds[0] >= 0)
			close(fds[0]);
		priv_free(v);
		return rc;
	}
	p->priv = v;
	return 0;
}

/* Woken, the events taken off the set: SOCK if the control socket was
 * among them (unmd may be gone). */
static int woke(struct unm_port *p, struct vale_priv *v, bool sock)
{
	int rc = 0;

	if (unm_csb_errored(&v->csb))
		return p->error = -EIO;
	if (sock)
		rc = sock_check(v);
	if (rc && !p->error)
		p->error = rc;
	return rc;
}

/* unm_wait's epoll_wait took the events already: no system call. */
int unm_vale_woke(struct unm_port *p, const struct epoll_event *ev, int n)
{
	bool sock = false;

	for (int i = 0; i < n; i++)
		sock |= ev[i].data.u32 == VALE_EV_SOCK;
	return woke(p, p->priv, sock);
}

int unm_vale_wakeup(struct unm_port *p)
{
	struct vale_priv *v = p->priv;
	struct epoll_event ev[2 * UNM_MAX_RINGS + 1];
	bool sock = false;
	int n;

	/* Acknowledge: take the pending edges off the set (a caller's own
	 * epoll_wait may have taken them already); the level-triggered
	 * socket is reported again if it is still readable or hung up. */
	do {
		n = epoll_wait(p->epfd, ev, (int)(sizeof(ev) / sizeof(ev[0])), 0);
		for (int i = 0; i < n; i++)
			sock |= ev[i].data.u32 == VALE_EV_SOCK;
	} while (n == (int)(sizeof(ev) / sizeof(ev[0])) && !sock);
	if (n < 0 && errno != EINTR)
		sock = true; /* cannot tell: ask the socket */
	return woke(p, v, sock);
}

/*
 * Delivery is asynchronous: unmd's forwarding thread takes the frames a
 * txsync published some time later, and drops what is left in a TX ring
 * when the port goes. So close first waits until unmd has consumed every
 * synced slot of this handle's TX rings (hwtail reached the slot before
 * hwcur), sleeping on the rings' interrupts, for at most
 * UNM_CLOSE_FLUSH_MS (include/unm.h): a lossless switch whose receiver
 * never reads must not hang close. Slots advanced but never synced are
 * not ours to send (the unm_close contract).
 */
#define UNM_CLOSE_FLUSH_NS (UNM_CLOSE_FLUSH_MS * 1000000ull)

static bool tx_flushed(struct unm_port *p, struct vale_priv *v)
{
	bool done = true;

	for (unsigned i = p->first_tx; i < p->last_tx; i++) {
		struct unm_kring *kr = &p->tx[i];
		uint32_t last = kr->hwcur == 0 ? kr->nslots - 1 : kr->hwcur - 1;

		/* head = hwcur: publishes nothing new, only reads hwtail */
		if (unm_csb_txsync(&v->csb, p, kr, kr->hwcur) < 0)
			return true; /* errored: nobody will take them */
		if (kr->hwtail != last) {
			done = false;
			unm_csb_arm(&v->csb, p, kr); /* the interrupt ends our sleep */
		}
	}
	return done || p->error;
}

static void vale_flush(struct unm_port *p, struct vale_priv *v)
{
	uint64_t end = unm_now_ns() + UNM_CLOSE_FLUSH_NS;

	while (!tx_flushed(p, v)) {
		struct epoll_event ev[8];
		uint64_t now = unm_now_ns();

		if (now >= end) {
			unm_log(UNM_LOG_WARN, "%s: closed with TX frames unmd had not taken after %u ms",
				p->name, UNM_CLOSE_FLUSH_MS);
			return;
		}
		/* 1 ms slices: the interrupt may be consumed by the re-check */
		if (epoll_wait(p->epfd, ev, 8, 1) < 0 && errno != EINTR)
			return;
		if (unm_vale_wakeup(p) < 0)
			return; /* unmd gone or the port errored */
	}
}

void unm_vale_close(struct unm_port *p)
{
	struct vale_priv *v = p->priv;

	if (!v)
		return;
	if (v->sock >= 0 && !p->error && p->epfd >= 0)
		vale_flush(p, v);
	if (v->sock >= 0 && !p->error) {
		struct unm_ctl_req req;

		unm_ctl_req_init(&req, UNM_CTL_BYE, 2);
		unm_ctl_send(v->sock, &req, sizeof(req), NULL, 0);
	}
	priv_free(v);
	p->priv = NULL;
}

const struct unm_port_ops unm_vale_ops = {
	.type = "vale",
	.open = vale_open,
	.txsync = unm_csb_port_txsync,
	.rxsync = unm_csb_port_rxsync,
	.arm = unm_csb_port_arm,
	.wakeup = unm_vale_wakeup,
	.woke = unm_vale_woke,
	.close = unm_vale_close,
};
