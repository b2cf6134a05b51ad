// SPDX-License-Identifier: BSD-2-Clause
/*
 * pipe_zmon.c - monitors of pipe ends served by the ends themselves, the
 * monitored (producing) end's side: the monitor rendezvous, the monitor
 * rings memfds, the zero-copy (/z) divert / forward data path that
 * replaces the direct swap of a TX ring while a /z monitor is attached,
 * and the copy monitor's copy-then-swap txsync (zc_*: unattached pipes'
 * monitor:/t/r). lib/zmon.c is the monitor's side; docs/zmon.md the
 * design; docs/ordering.md the [Zn] tags.
 *
 * Threads: zm_listen/zm_accept/zm_serve/zm_hangup run in pipe_service
 * (any thread, one at a time: svc_busy); they write a ring's zring only
 * while its pipe_ring.zm is 0 and hand it over with [Z9]. zm_txsync and
 * zm_arm run in the ring's sync thread (its txsync, or an idle rxsync of
 * the same ring pair) while zm != 0, and give it back with [Z11].
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "pipe_priv.h"

/* ---- zero-copy monitor: service side (docs/zmon.md) ----------------------- */

/* Bind this end's monitor rendezvous. Without it the end just cannot be
 * monitored (e.g. a stale name held by a forked child): not an error. */
void zm_listen(struct unm_port *p, struct pipe_priv *pp)
{
	struct sockaddr_un a;
	socklen_t al = (socklen_t)unm_pipe_mon_addr(pp->key, pp->role, &a);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return;
	if (bind(fd, (struct sockaddr *)&a, al) < 0 || listen(fd, 2) < 0 ||
	    pipe_ep_add(p->epfd, fd, EPOLLIN, EV_ZLISTEN) < 0) {
		unm_log(UNM_LOG_INFO, "%s: no zero-copy monitor rendezvous: %s", p->name,
			strerror(errno));
		close(fd);
		return;
	}
	pp->zm_lfd = fd;
}

static void zm_refuse(int fd, int status, const char *msg)
{
	struct zmon_rep rep;

	memset(&rep, 0, sizeof(rep));
	rep.magic = ZMON_MAGIC;
	rep.version = ZMON_PROTO;
	rep.status = status;
	snprintf(rep.msg, sizeof(rep.msg), "%s", msg);
	unm_send_fds(fd, &rep, sizeof(rep), NULL, 0);
}

/* The monitor rings memfd: per TX ring, a unm_zmon_ctl then the ring, and
 * for a copy monitor (COPY) the ring's own nslots buffers. One memfd of
 * each kind per end, built at its first attach and reused by later
 * monitors (ring threads and recheck() may hold pointers into it until
 * close). */
static int zm_build(struct unm_port *p, struct pipe_priv *pp, struct zmon_rep *rep, bool copy)
{
	int *mfd = copy ? &pp->zc_memfd : &pp->zm_memfd;
	void **base = copy ? &pp->zc_base : &pp->zm_base;
	size_t off = 0;

	for (unsigned i = 0; i < p->n_tx; i++) {
		off += sizeof(struct unm_zmon_ctl);
		rep->ring_ofs[i] = (uint32_t)off;
		rep->nslots[i] = p->tx[i].nslots;
		off += sizeof(struct unm_ring) + 16ull * p->tx[i].nslots;
		off = (off + UNM_CACHELINE - 1) & ~(size_t)(UNM_CACHELINE - 1);
		if (copy) {
			rep->bufs_ofs[i] = (uint32_t)off;
			off += (size_t)pp->buf_size * p->tx[i].nslots;
			off = (off + UNM_CACHELINE - 1) & ~(size_t)(UNM_CACHELINE - 1);
		}
		if (off > UINT32_MAX)
			return -EFBIG;
	}
	rep->n_rings = (uint16_t)p->n_tx;
	rep->size = (uint32_t)off;
	rep->copy = copy;
	if (*base)
		return 0;
	for (unsigned i = 0; !copy && i < p->n_tx; i++) {
		pp->rings[i].z.shadow = calloc(p->tx[i].nslots, sizeof(struct unm_slot));
		if (!pp->rings[i].z.shadow)
			return -ENOMEM;
	}
	*mfd = memfd_create(copy ? "unetmap-cmon" : "unetmap-zmon", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (*mfd < 0)
		return -errno;
	if (ftruncate(*mfd, (off_t)off) < 0 ||
	    fcntl(*mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		return -errno;
	*base = mmap(NULL, off, PROT_READ | PROT_WRITE, MAP_SHARED, *mfd, 0);
	if (*base == MAP_FAILED) {
		*base = NULL;
		return -errno;
	}
	if (copy)
		pp->zc_size = off;
	else
		pp->zm_size = off;
	return 0;
}

/* (Re)initialise the monitor rings for a new monitor: every slot aliases
 * reserved buffer 1 (/z) or owns buffer k (copy), indexes 0. No ring
 * thread looks at them (all zm 0). */
static void zm_reset(struct unm_port *p, struct pipe_priv *pp, const struct zmon_rep *rep,
		     uint16_t mflag)
{
	char *base = rep->copy ? pp->zc_base : pp->zm_base;

	for (unsigned i = 0; i < p->n_tx; i++) {
		char *b = base + rep->ring_ofs[i];
		struct unm_ring *r = (struct unm_ring *)b;
		struct pipe_zring *z = &pp->rings[i].z;

		z->mc = (struct unm_zmon_ctl *)(b - sizeof(struct unm_zmon_ctl));
		memset(z->mc, 0, sizeof(*z->mc) + sizeof(*r));
		*(uint32_t *)&r->num_slots = rep->nslots[i];
		*(uint32_t *)&r->nr_buf_size = pp->buf_size;
		*(uint16_t *)&r->ringid = (uint16_t)i;
		*(uint16_t *)&r->dir = 1;
		for (uint32_t k = 0; k < rep->nslots[i]; k++)
			r->slot[k] = (struct unm_slot){ .buf_idx = rep->copy ? k : 1 };
		z->mslot = r->slot;
		z->mbufs = rep->copy ? base + rep->bufs_ofs[i] : NULL;
		z->efd = pp->zm_efd;
		z->mflag = mflag;
	}
}

/* A monitor's request is waiting on pp->zm_pend (untrusted). */
void zm_serve(struct unm_port *p, struct pipe_priv *pp)
{
	int fd = pp->zm_pend, efd = -1, n, rc;
	struct zmon_req req;
	struct zmon_rep rep;
	struct ucred cr;
	socklen_t crl = sizeof(cr);

	n = unm_recv_fds(fd, &req, sizeof(req), &efd, 1);
	if (n == -EAGAIN)
		return;
	epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL);
	pp->zm_pend = -1;
	req.name[sizeof(req.name) - 1] = '\0';
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) < 0 || cr.uid != geteuid()) {
		zm_refuse(fd, -EACCES, "the pipe belongs to another user");
	} else if (n != 1 || req.magic != ZMON_MAGIC || req.version != ZMON_PROTO ||
		   req.role != pp->role || strcmp(req.name, pp->key) || !unm_efd_ok(efd)) {
		zm_refuse(fd, -EPROTO, "malformed monitor request");
	} else if (pp->zm_cfd >= 0) {
		zm_refuse(fd, -EBUSY, "this pipe end already has a monitor of its own");
	} else {
		for (unsigned i = 0; i < p->n_tx; i++)
			/* [Z12] acquire pairs with [Z11]: the ring thread is
			 * done with the previous monitor's state. */
			if (__atomic_load_n(&pp->rings[i].zm, __ATOMIC_ACQUIRE)) {
				zm_refuse(fd, -EBUSY, "the previous monitor is still draining");
				goto out;
			}
		memset(&rep, 0, sizeof(rep));
		rc = zm_build(p, pp, &rep, req.copy != 0);
		if (rc) {
			zm_refuse(fd, rc, "cannot build the monitor rings");
			goto out;
		}
		rep.magic = ZMON_MAGIC;
		rep.version = ZMON_PROTO;
		close_fd(&pp->zm_efd);
		pp->zm_efd = efd;
		efd = -1;
		zm_reset(p, pp, &rep, req.txmon ? UNM_NS_TXMON : 0);
		if (pipe_ep_add(p->epfd, fd, EPOLLIN | EPOLLRDHUP, EV_ZCONN) < 0)
			goto out;
		if (unm_send_fds(fd, &rep, sizeof(rep),
				 (int[]){ p->reg.fd, rep.copy ? pp->zc_memfd : pp->zm_memfd,
					  pp->my_efd }, 3) < 0) {
			epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL);
			goto out;
		}
		pp->zm_cfd = fd;
		fd = -1;
		for (unsigned i = 0; i < p->n_tx; i++)
			/* [Z9] release: the zring set up above; pairs with [Z10]. */
			__atomic_store_n(&pp->rings[i].zm, rep.copy ? ZM_REQ | ZM_COPY : ZM_REQ,
					 __ATOMIC_RELEASE);
		unm_log(UNM_LOG_INFO, "%s: %s monitor (pid %d) attached", p->name,
			rep.copy ? "copy" : "zero-copy", (int)cr.pid);
	}
out:
	close_fd(&efd);
	close_fd(&fd);
}

void zm_accept(struct unm_port *p, struct pipe_priv *pp)
{
	int fd;

	while ((fd = accept4(pp->zm_lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		if (pp->zm_pend >= 0 || pipe_ep_add(p->epfd, fd, EPOLLIN | EPOLLRDHUP, EV_ZPEND) < 0) {
			close(fd); /* one request at a time: the monitor retries or fails */
			continue;
		}
		pp->zm_pend = fd;
		zm_serve(p, pp);
	}
}

/* The monitor closed or died: every ring forwards what is in flight and
 * goes back to direct swapping at its next txsync. */
void zm_hangup(struct unm_port *p, struct pipe_priv *pp)
{
	epoll_ctl(p->epfd, EPOLL_CTL_DEL, pp->zm_cfd, NULL);
	close_fd(&pp->zm_cfd);
	for (unsigned i = 0; i < p->n_tx; i++) {
		uint32_t *zm = &pp->rings[i].zm, w = __atomic_load_n(zm, __ATOMIC_RELAXED);

		while (w && !__atomic_compare_exchange_n(zm, &w,
							 (w & ~ZM_COPY) == ZM_REQ ? 0 : w | ZM_DETACH,
							 false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			;
	}
	unm_log(UNM_LOG_INFO, "%s: monitor detached", p->name);
}

void zm_free(struct unm_port *p, struct pipe_priv *pp)
{
	close_fd(&pp->zm_lfd);
	close_fd(&pp->zm_pend);
	close_fd(&pp->zm_cfd);
	close_fd(&pp->zm_efd);
	close_fd(&pp->zm_memfd);
	close_fd(&pp->zc_memfd);
	if (pp->zm_base)
		munmap(pp->zm_base, pp->zm_size);
	if (pp->zc_base)
		munmap(pp->zc_base, pp->zc_size);
	for (unsigned i = 0; pp->rings && i < p->n_tx; i++)
		free(pp->rings[i].z.shadow);
}

/* ---- zero-copy monitor: data path (docs/zmon.md) --------------------------- */


static void zm_kick_monitor(struct unm_port *p, const struct pipe_zring *z)
{
	uint64_t one = 1;

	if (write(z->efd, &one, sizeof(one)) == (ssize_t)sizeof(one))
		p->st.kicks++;
}

/* Divert TX slots [hwcur, head) to the monitor: shadow them, alias them in
 * the monitor ring, publish. While detaching they are only shadowed. */
static void zm_divert(struct unm_port *p, struct unm_kring *kr, struct pipe_zring *z,
		      uint32_t head, bool detach)
{
	const struct unm_slot *txs = kr->ring->slot;
	const uint32_t ns = kr->nslots;
	uint32_t mt;

	for (uint32_t t = kr->hwcur; t != head; t = kr_next(kr, t)) {
		struct unm_slot s = txs[t]; /* the application's, read once */

		z->shadow[t] = s;
		if (!detach) {
			s.flags |= z->mflag;
			z->mslot[t >= z->moff ? t - z->moff : t + ns - z->moff] = s;
		}
	}
	kr->hwcur = head;
	if (detach)
		return;
	mt = head >= z->moff ? head - z->moff : head + ns - z->moff;
	/* [Z1] release: monitor slots before mt are written; pairs with [Z2]. */
	unm_store_release(&z->mc->m_hwtail, mt);
	/* [Z5] full fence: m_hwtail before the read of mon_need_wake; pairs
	 * with [Z6] (the monitor's double check in zmon_arm). */
	unm_smp_mb();
	if (UNM_READ_ONCE(z->mc->mon_need_wake))
		zm_kick_monitor(p, z);
}

/* How far the shadow may be forwarded: everything (detaching) or up to
 * the monitor's release, which must lie in [fwd, hwcur] (untrusted). */
static uint32_t zm_released(struct unm_port *p, const struct unm_kring *kr, struct pipe_zring *z,
			    bool detach)
{
	const uint32_t ns = kr->nslots;
	uint32_t c, t;

	if (detach)
		return kr->hwcur;
	c = unm_load_acquire(&z->mc->m_hwcur); /* [Z4] pairs with [Z3]; untrusted */
	t = c + z->moff >= ns ? c + z->moff - ns : c + z->moff;
	if (likely(c < ns && kr_dist(kr, z->fwd, t) <= kr_dist(kr, z->fwd, kr->hwcur))) {
		z->mseen = c;
		return t;
	}
	if (c != z->mseen) { /* count each bad value once, not once per sync */
		p->st.bad_ring++;
		z->mseen = c;
	}
	return z->fwd;
}

/* Swap up to M shadow slots from fwd into the consumer's RX ring, as
 * pipe_txsync does with TX slots; the returned buffers go to the TX ring.
 * Returns the slots forwarded. */
static uint32_t zm_forward(struct unm_port *p, struct unm_kring *kr, struct pipe_ring *pr,
			   uint32_t m)
{
	struct pipe_priv *pp = p->priv;
	struct pipe_zring *z = &pr->z;
	struct unm_slot *txs = kr->ring->slot;
	const uint32_t ns = kr->nslots;
	uint32_t used = pr->prod_tail >= pr->cons_cache ? pr->prod_tail - pr->cons_cache
						       : pr->prod_tail + ns - pr->cons_cache;
	uint32_t space = ns - 1 - used, j = pr->prod_tail, t = z->fwd;

	if (space < m)
		space = pipe_refresh_space(p, pr, ns);
	if (m > space)
		m = space;
	if (!m)
		return 0;
	p->st.tx_bytes += pipe_swap_slots(p, pp, pr, z->shadow, ns, t, j, m);
	p->st.tx_frames += m;
	for (uint32_t k = 0; k < m; k++, t = kr_next(kr, t)) {
		txs[t].buf_idx = z->shadow[t].buf_idx;
		txs[t].flags = UNM_NS_BUF_CHANGED;
	}
	z->fwd = t;
	j += m;
	if (j >= ns)
		j -= ns;
	pr->prod_tail = j;
	/* [P1] release: RX slots up to j are written; pairs with [C1]. */
	unm_store_release(&pr->ctl->rx_hwtail, j);
	/* [P3] full fence: rx_hwtail before cons_need_wake; pairs with [C4]. */
	unm_smp_mb();
	if (unlikely(UNM_READ_ONCE(pr->ctl->cons_need_wake)))
		pipe_kick(p, pp);
	return m;
}

/* Stop diverting: the ring is back to direct swapping. */
static void zm_off(struct pipe_ring *pr)
{
	__atomic_store_n(&pr->zwait, 0, __ATOMIC_RELAXED);
	if (pr->z.armed)
		UNM_WRITE_ONCE(pr->z.mc->prod_need_wake, 0);
	pr->z.armed = false;
	/* [Z11] release: done with the zring; pairs with [Z12] (next attach). */
	__atomic_store_n(&pr->zm, 0, __ATOMIC_RELEASE);
}

/* ---- copy monitor: data path (docs/zmon.md) -------------------------------- */

/*
 * Copy TX slots [cpos, head) into the monitor ring's own buffers: a frame
 * goes in if the ring has room, else it is dropped (st.drops); the
 * monitor is never waited for. Only m_hwcur comes from the monitor:
 * read once, it must lie in [mcur, mtail], else bad_ring (once per
 * distinct value) and the last valid one is kept. Slots and buffers are
 * written at our own indexes, never at one the monitor wrote.
 */
static void zc_copy(struct unm_port *p, struct pipe_priv *pp, struct unm_kring *kr,
		    struct pipe_zring *z, uint32_t head)
{
	const struct unm_slot *txs = kr->ring->slot;
	const char *pool = (const char *)p->reg.base + p->reg.pool_ofs;
	const uint32_t ns = kr->nslots, bs = pp->buf_size;
	uint32_t c = unm_load_acquire(&z->mc->m_hwcur); /* [Z4] pairs with [Z3]; untrusted */
	uint32_t mt = z->mtail, room;

	if (likely(c < ns && kr_dist(kr, z->mcur, c) <= kr_dist(kr, z->mcur, mt))) {
		z->mcur = c;
	} else if (c != z->mseen) {
		p->st.bad_ring++;
	}
	z->mseen = c;
	room = ns - 1 - kr_dist(kr, z->mcur, mt);
	for (uint32_t t = z->cpos; t != head; t = kr_next(kr, t)) {
		struct unm_slot s = txs[t]; /* the application's, read once */

		if (unlikely(!room || s.buf_idx - 2 >= pp->nbufs - 2 || s.len > bs)) {
			p->st.drops++;
			continue;
		}
		memcpy(z->mbufs + (size_t)mt * bs, pool + (size_t)s.buf_idx * bs, s.len);
		z->mslot[mt] = (struct unm_slot){ .buf_idx = mt, .len = s.len,
						  .flags = (uint16_t)((s.flags & UNM_NS_MOREFRAG) |
								      z->mflag) };
		mt = kr_next(kr, mt);
		room--;
	}
	z->cpos = head;
	if (mt == z->mtail)
		return;
	z->mtail = mt;
	/* [Z1] release: monitor slots and buffers before mt are written;
	 * pairs with [Z2]. */
	unm_store_release(&z->mc->m_hwtail, mt);
	/* [Z5] full fence: m_hwtail before the read of mon_need_wake; pairs
	 * with [Z6] (the monitor's double check in zmon_arm). */
	unm_smp_mb();
	if (UNM_READ_ONCE(z->mc->mon_need_wake))
		zm_kick_monitor(p, z);
}

/*
 * pipe_txsync with a copy monitor on this ring (zm has ZM_COPY). Frames
 * are copied when handed over (head), before the swap, since afterwards
 * the consumer owns their buffers; the swap is pipe_txsync's own. Nothing
 * is in flight, so a detach is immediate.
 */
static int zc_txsync(struct unm_port *p, struct unm_kring *kr, uint32_t head, uint32_t w)
{
	struct pipe_ring *pr = kr->priv;
	struct pipe_zring *z = &pr->z;
	int rc;

	if (!(w & ZM_ON)) {
		if (w != (ZM_REQ | ZM_COPY) ||
		    !__atomic_compare_exchange_n(&pr->zm, &w, ZM_ON | ZM_COPY, false,
						 __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
			zm_off(pr);
			return pipe_txsync_direct(p, kr, head);
		}
		z->cpos = kr->hwcur;
		z->mtail = z->mcur = z->mseen = 0;
		z->armed = false;
		w = ZM_ON | ZM_COPY;
	}
	if (unlikely(w & ZM_DETACH)) {
		zm_off(pr);
		return pipe_txsync_direct(p, kr, head);
	}
	/* cpos lies in [hwcur, head]; an idle rxsync passes head = hwcur */
	if (kr_dist(kr, kr->hwcur, z->cpos) < kr_dist(kr, kr->hwcur, head))
		zc_copy(p, p->priv, kr, z, head);
	rc = pipe_txsync_direct(p, kr, head);
	if (rc == -EPIPE)
		z->cpos = kr->hwcur; /* tx_dead discarded [hwcur, head) */
	return rc;
}

/*
 * pipe_txsync with a monitor on this ring (pr->zm != 0). TX slots [fwd,
 * hwcur) are in flight; the TX ring's tail is fwd - 1. The producer is the
 * only writer of the consumer's RX ring, from its private shadow: nothing
 * the monitor writes can lose or duplicate a buffer.
 */
int zm_txsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct pipe_priv *pp = p->priv;
	struct pipe_ring *pr = kr->priv;
	struct pipe_zring *z = &pr->z;
	uint32_t w = __atomic_load_n(&pr->zm, __ATOMIC_ACQUIRE); /* [Z10] pairs with [Z9] */
	uint32_t n, m;
	bool detach;

	if (w & ZM_COPY)
		return zc_txsync(p, kr, head, w);

	if (!(w & ZM_ON)) {
		if (w != ZM_REQ ||
		    !__atomic_compare_exchange_n(&pr->zm, &w, ZM_ON, false, __ATOMIC_RELAXED,
						 __ATOMIC_RELAXED)) {
			zm_off(pr); /* the monitor left before we started */
			return pipe_txsync(p, kr, head);
		}
		z->fwd = z->moff = kr->hwcur;
		z->mseen = 0;
		z->armed = false;
		w = ZM_ON;
	}
	if (unlikely(get_state(pp) == PS_GONE)) {
		z->fwd = head;
		zm_off(pr);
		return tx_dead(kr, head);
	}
	detach = w & ZM_DETACH;
	n = kr_dist(kr, kr->hwcur, head);
	if (n)
		zm_divert(p, kr, z, head, detach);
	m = kr_dist(kr, z->fwd, zm_released(p, kr, z, detach));
	if (m)
		m = zm_forward(p, kr, pr, m);
	kr->hwtail = z->fwd ? z->fwd - 1 : kr->nslots - 1;
	if (n | m) {
		disarm(pp, pr);
		if (z->armed) {
			UNM_WRITE_ONCE(z->mc->prod_need_wake, 0);
			z->armed = false;
		}
		__atomic_store_n(&pr->zwait, 0, __ATOMIC_RELAXED);
	}
	if (detach && z->fwd == kr->hwcur)
		zm_off(pr);
	else if (z->fwd != kr->hwcur)
		pipe_tx_blocked(p, kr, head); /* frames in flight: be woken by the release */
	if (!(n | m))
		pipe_idle_check(pp, pr);
	return 0;
}

/* pipe_arm of a TX ring with a monitor: also wait for the monitor's
 * release. Called before the [P4]/[Z8] fence of pipe_arm. */
void zm_arm(struct pipe_ring *pr)
{
	struct pipe_zring *z = &pr->z;

	if ((__atomic_load_n(&pr->zm, __ATOMIC_RELAXED) & (ZM_ON | ZM_COPY)) != ZM_ON)
		return; /* nothing diverted; a copy monitor is never waited for */
	/* [Z13] release: zwait after the zring it points recheck() to;
	 * pairs with [Z14]. */
	__atomic_store_n(&pr->zwait, W_ARMED | z->mseen, __ATOMIC_RELEASE);
	if (!z->armed) {
		UNM_WRITE_ONCE(z->mc->prod_need_wake, 1u);
		z->armed = true;
	}
}

