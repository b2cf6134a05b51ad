// SPDX-License-Identifier: BSD-2-Clause
/*
 * pipe_rdv.c - how the two ends of a pipe NAME{ID / NAME}ID find each
 * other, hand over the region and notice each other go: the rendezvous,
 * the handshake (owner and joiner side), the region built or mapped and
 * checked for an end, and the service path (pipe_service) that accepts
 * joiners and monitors and sees a hang-up. The data path, the
 * notification rules and the threads are described in lib/pipe.c; the
 * state both files share is lib/pipe_priv.h. Fds travel through
 * lib/fdpass.c (unm_send_fds/unm_recv_fds).
 *
 * Rendezvous. Each end computes the abstract Unix socket name
 * "\0unetmap.pipe.<euid>.<NAME>.<ID>" (or ".h<64-bit hash>" when that does
 * not fit in sun_path; the full name travels in the handshake and is
 * compared). The first opener binds it (the "owner"), builds the region
 * (UNM_REGION_PIPE, unm_if 0 = master, 1 = slave, one unm_pipe_ctl per
 * direction of each ring pair in the CSB area), listens and returns at
 * once: it may transmit into the peer's RX ring before the peer exists. A
 * later opener gets EADDRINUSE, connects (the "joiner") and sends
 * {magic, version, role, name} plus its wake eventfd (SCM_RIGHTS). The
 * owner accepts lazily, from its sync idle path, arm, and unm_wait wake-ups
 * (the listening socket is in its epoll set, so a sleeping owner wakes up),
 * checks uid (SO_PEERCRED), name and role, and replies with the region
 * memfd and its own wake eventfd. The joiner checks the owner's uid, the
 * memfd's seals and the region's pipe geometry, and maps it. An open in a
 * process that also owns the other end pumps that owner itself, so both
 * ends can live in one process. Abstract names disappear with the socket:
 * nothing to clean up after SIGKILL. Names are per network namespace.
 * Consequence of the lazy accept: a joiner's unm_open() completes only
 * while the owner syncs or waits (any unm_txsync/unm_rxsync/unm_wait);
 * otherwise it fails with -ETIMEDOUT after opts->timeout_ms. The owner's
 * unm_open() never waits for the peer.
 *
 * Threads: the rendezvous runs in unm_open; pipe_service in any thread
 * that syncs or waits, one at a time (svc_busy try-lock); the registry of
 * this process' owners is under reg_lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "internal.h"
#include "pipe_priv.h"

/* Owners in this process, so an open of the other end can pump them. */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pipe_priv *reg_head;

/* A forked child must not serve its parent's owners (it would accept the
 * parent's joiners on the inherited listening socket). */
static void reg_atfork_child(void)
{
	pthread_mutex_init(&reg_lock, NULL);
	reg_head = NULL;
}

static void reg_init(void)
{
	pthread_atfork(NULL, NULL, reg_atfork_child);
}

static void reg_add(struct pipe_priv *pp)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, reg_init);
	pthread_mutex_lock(&reg_lock);
	pp->next = reg_head;
	reg_head = pp;
	pthread_mutex_unlock(&reg_lock);
}

static void reg_del(struct pipe_priv *pp)
{
	pthread_mutex_lock(&reg_lock);
	for (struct pipe_priv **q = &reg_head; *q; q = &(*q)->next)
		if (*q == pp) {
			*q = pp->next;
			break;
		}
	pthread_mutex_unlock(&reg_lock);
}

static void set_state(struct pipe_priv *pp, int s)
{
	__atomic_store_n(&pp->state, s, __ATOMIC_RELEASE); /* [L1] pairs with [L2] */
}

/* ---- small helpers ------------------------------------------------------ */

/* "\0unetmap.<KIND>.<euid>.<KEY><SFX>", or a hash of KEY if too long. */
static unsigned pipe_addr(const char *kind, const char *key, const char *sfx,
			  struct sockaddr_un *a)
{
	char n[sizeof(a->sun_path)];
	int len;

	len = snprintf(n, sizeof(n), "unetmap.%s.%u.%s%s", kind, (unsigned)geteuid(), key, sfx);
	if (len < 0 || (size_t)len + 1 >= sizeof(n)) {
		uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 */

		for (const char *c = key; *c; c++)
			h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
		len = snprintf(n, sizeof(n), "unetmap.%s.%u.h%016llx%s", kind, (unsigned)geteuid(),
			       (unsigned long long)h, sfx);
	}
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path + 1, n, (size_t)len); /* abstract: leading NUL */
	return (unsigned)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len);
}

static void make_addr(struct pipe_priv *pp)
{
	pp->addrlen = (socklen_t)pipe_addr("pipe", pp->key, "", &pp->addr);
}

unsigned unm_pipe_mon_addr(const char *key, int role, struct sockaddr_un *a)
{
	return pipe_addr("pipemon", key, role == UNM_PIPE_MASTER ? ".m" : ".s", a);
}

/* ---- owner side: serving joiners ------------------------------------------ */

static void refuse(int fd, const struct pipe_priv *pp, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void refuse(int fd, const struct pipe_priv *pp, int status, const char *fmt, ...)
{
	struct pipe_rep rep;
	va_list ap;

	memset(&rep, 0, sizeof(rep));
	rep.magic = PIPE_MAGIC;
	rep.version = PIPE_PROTO;
	rep.status = status;
	snprintf(rep.name, sizeof(rep.name), "%s", pp->key);
	va_start(ap, fmt);
	vsnprintf(rep.msg, sizeof(rep.msg), fmt, ap);
	va_end(ap);
	unm_send_fds(fd, &rep, sizeof(rep), NULL, 0);
}

/* Handle the request waiting on FD (accepted). Returns 1 if FD became the
 * connection, 0 if it was refused (caller closes), -EAGAIN if no request
 * has arrived yet. */
static int serve_request(struct pipe_priv *pp, int fd)
{
	struct unm_port *p = pp->p;
	struct pipe_req req;
	struct pipe_rep rep;
	struct ucred cr;
	socklen_t crl = sizeof(cr);
	int efd = -1, n, st;

	n = unm_recv_fds(fd, &req, sizeof(req), &efd, 1); /* untrusted */
	if (n == -EAGAIN)
		return -EAGAIN;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) < 0 || cr.uid != geteuid()) {
		refuse(fd, pp, -EACCES, "pipe %s belongs to uid %u", pp->key, (unsigned)geteuid());
		goto no;
	}
	req.name[sizeof(req.name) - 1] = '\0';
	if (n < 0 || req.magic != PIPE_MAGIC || req.version != PIPE_PROTO || n != 1 ||
	    strcmp(req.name, pp->key) || (req.role != UNM_PIPE_MASTER && req.role != UNM_PIPE_SLAVE)) {
		refuse(fd, pp, -EPROTO, "pipe %s: malformed request", pp->key);
		goto no;
	}
	st = get_state(pp);
	if (req.role == pp->role || st == PS_CONNECTED) {
		refuse(fd, pp, -EBUSY, "pipe end %s%c%s is already open", p->spec.port,
		       req.role == UNM_PIPE_MASTER ? '{' : '}', p->spec.pipe_id);
		goto no;
	}
	if (st == PS_GONE) {
		refuse(fd, pp, -EBUSY, "pipe %s: peer gone: both ends must reopen", pp->key);
		goto no;
	}
	if (!unm_efd_ok(efd)) {
		refuse(fd, pp, -EPROTO, "pipe %s: the wake fd is not an eventfd", pp->key);
		goto no;
	}
	memset(&rep, 0, sizeof(rep));
	rep.magic = PIPE_MAGIC;
	rep.version = PIPE_PROTO;
	snprintf(rep.name, sizeof(rep.name), "%s", pp->key);
	if (pipe_ep_add(p->epfd, fd, EPOLLIN | EPOLLRDHUP, EV_CONN) < 0)
		goto no;
	if (unm_send_fds(fd, &rep, sizeof(rep), (int[]){ p->reg.fd, pp->my_efd }, 2) < 0) {
		epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL);
		goto no;
	}
	pp->cfd = fd;
	pp->peer_efd = efd;
	set_state(pp, PS_CONNECTED); /* [L1] publishes cfd/peer_efd */
	unm_log(UNM_LOG_INFO, "%s: peer (pid %d) attached", p->name, (int)cr.pid);
	return 1;
no:
	close_fd(&efd);
	return 0;
}

static void pending_add(struct pipe_priv *pp, int fd)
{
	for (int i = 0; i < PIPE_PENDING; i++)
		if (pp->pending[i] < 0 &&
		    pipe_ep_add(pp->p->epfd, fd, EPOLLIN | EPOLLRDHUP, EV_PENDING + (uint32_t)i) == 0) {
			pp->pending[i] = fd;
			return;
		}
	close(fd); /* too many half-open joiners: they retry or time out */
}

/* FD: a new connection (SLOT < 0) or pending[SLOT], now readable. */
static void serve_fd(struct pipe_priv *pp, int fd, int slot)
{
	int rc;

	if (slot >= 0) {
		epoll_ctl(pp->p->epfd, EPOLL_CTL_DEL, fd, NULL);
		pp->pending[slot] = -1;
	}
	rc = serve_request(pp, fd);
	if (rc == -EAGAIN)
		pending_add(pp, fd);
	else if (rc == 0)
		close(fd);
}

static void accept_all(struct pipe_priv *pp)
{
	int fd;

	while ((fd = accept4(pp->lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		serve_fd(pp, fd, -1);
}

static void peer_gone(struct pipe_priv *pp)
{
	if (get_state(pp) != PS_GONE) {
		set_state(pp, PS_GONE); /* [L1] */
		unm_log(UNM_LOG_INFO, "%s: pipe peer closed", pp->p->name);
	}
}

/*
 * The slow path: one epoll_wait(0) on unm_fd()'s set, then accept joiners,
 * notice a hung-up peer, drain our wake eventfd. Never blocks. Any thread
 * may call it; one runs it at a time (others skip).
 */
void pipe_service(struct pipe_priv *pp)
{
	struct epoll_event ev[8 + PIPE_PENDING];
	int n;

	if (__atomic_exchange_n(&pp->svc_busy, 1, __ATOMIC_ACQUIRE))
		return;
	n = epoll_wait(pp->p->epfd, ev, (int)ARRAY_SIZE(ev), 0);
	for (int i = 0; i < n; i++) {
		uint32_t tag = ev[i].data.u32;

		if (tag == EV_WAKE && !__atomic_load_n(&pp->self_sig, __ATOMIC_RELAXED))
			pipe_drain_recheck(pp->p, pp); /* (our own signal stays: spin phase) */
		else if (tag == EV_LISTEN)
			accept_all(pp);
		else if (tag == EV_CONN)
			peer_gone(pp); /* we never send after the handshake: any event is EOF/HUP */
		else if (tag >= EV_PENDING && tag < EV_PENDING + PIPE_PENDING &&
			 pp->pending[tag - EV_PENDING] >= 0)
			serve_fd(pp, pp->pending[tag - EV_PENDING], (int)(tag - EV_PENDING));
		else if (tag == EV_ZLISTEN)
			zm_accept(pp->p, pp);
		else if (tag == EV_ZPEND && pp->zm_pend >= 0)
			zm_serve(pp->p, pp);
		else if (tag == EV_ZCONN && pp->zm_cfd >= 0)
			zm_hangup(pp->p, pp); /* a monitor never sends after the handshake */
	}
	__atomic_store_n(&pp->svc_busy, 0, __ATOMIC_RELEASE);
}

/* ---- an end's region, and the joiner's side of the handshake ------------- */

/* Check a kring's private geometry (copied from shared memory by
 * unm_port_bind_rings) against the region snapshot: ring inside the
 * control area, slots within limits, buffers where the pool is. */
static int check_kring(const struct unm_port *p, const struct unm_kring *kr, uint64_t pool,
		       uint32_t bs)
{
	uintptr_t base = (uintptr_t)p->reg.base, r = (uintptr_t)kr->ring;
	uint64_t off = r - base;

	if (r < base || off % UNM_CACHELINE || off < sizeof(struct unm_region_hdr) ||
	    kr->nslots < UNM_MIN_SLOTS || kr->nslots > UNM_MAX_SLOTS ||
	    off + sizeof(struct unm_ring) + 16ull * kr->nslots > pool ||
	    kr->buf_size != bs || kr->buf_ofs != (int64_t)pool - (int64_t)off)
		return unm_seterr(-EBADMSG, "%s: pipe ring %u has a bad geometry", p->name,
				  kr->ringid);
	return 0;
}

/* Peer RX ring I: located through a snapshot of the peer's ring table and
 * checked like check_kring against the slot count NS it must have. */
static struct unm_ring *peer_rxring(const struct unm_port *p, const struct unm_if *peer,
				    uint64_t ifo, uint32_t ptx, unsigned i, uint32_t ns,
				    uint64_t pool)
{
	int64_t rel = UNM_READ_ONCE(*(const int64_t *)&peer->ring_ofs[ptx + i]);
	uint64_t off = ifo + (uint64_t)rel;
	struct unm_ring *r;

	if (rel < -(int64_t)ifo || rel > (int64_t)pool || off % UNM_CACHELINE ||
	    off < sizeof(struct unm_region_hdr) || off + sizeof(*r) + 16ull * ns > pool)
		return NULL;
	r = (struct unm_ring *)((char *)p->reg.base + off);
	return r->num_slots == ns ? r : NULL;
}

/* Bind our rings, find the peer's RX rings and the control blocks, and
 * reset our rings' indexes. Every geometry value used later is a private
 * copy checked here. */
static int pipe_setup(struct unm_port *p, struct pipe_priv *pp)
{
	const struct unm_region_hdr *h = unm_region_hdr(&p->reg);
	const unsigned me = pp->role == UNM_PIPE_MASTER ? 0 : 1;
	uint64_t pool = UNM_READ_ONCE(h->buf_pool_ofs), csb = UNM_READ_ONCE(h->csb_ofs);
	uint64_t ifo[2] = { UNM_READ_ONCE(h->if_ofs[0]), UNM_READ_ONCE(h->if_ofs[1]) };
	uint32_t nb = UNM_READ_ONCE(h->buf_count), bs = UNM_READ_ONCE(h->buf_size);
	uint32_t nent = UNM_READ_ONCE(h->csb_entries), ptx, prx;
	const struct unm_if *peer;
	unsigned npairs;
	int rc;

	if (UNM_READ_ONCE(h->kind) != UNM_REGION_PIPE || UNM_READ_ONCE(h->n_ifs) != 2 ||
	    nb < 3 || bs < UNM_MIN_BUF_SIZE || bs > UNM_MAX_BUF_SIZE || pool > p->reg.size ||
	    pool + (uint64_t)nb * bs > p->reg.size ||
	    ifo[0] + 256 > pool || ifo[1] + 256 > pool || ifo[0] % 8 || ifo[1] % 8)
		return unm_seterr(-EBADMSG, "%s: not a pipe region", p->name);
	rc = unm_port_bind_rings(p, (struct unm_if *)((char *)p->reg.base + ifo[me]));
	if (rc)
		return rc;
	peer = (const struct unm_if *)((char *)p->reg.base + ifo[1 - me]);
	ptx = UNM_READ_ONCE(*(const uint32_t *)&peer->ni_tx_rings);
	prx = UNM_READ_ONCE(*(const uint32_t *)&peer->ni_rx_rings);
	npairs = p->n_tx > p->n_rx ? p->n_tx : p->n_rx;
	if (p->n_tx > UNM_MAX_RINGS || p->n_rx > UNM_MAX_RINGS || ptx != p->n_rx ||
	    prx != p->n_tx || nent < 4 * npairs || csb < sizeof(*h) || csb % 64 ||
	    csb + 64ull * nent > pool)
		return unm_seterr(-EBADMSG, "%s: pipe ends do not match", p->name);
	pp->nbufs = nb;
	pp->buf_size = bs;
	pp->rings = aligned_alloc(UNM_CACHELINE, sizeof(*pp->rings) * (p->n_tx + p->n_rx));
	if (!pp->rings)
		return -ENOMEM;
	memset(pp->rings, 0, sizeof(*pp->rings) * (p->n_tx + p->n_rx));
	for (unsigned i = 0; i < p->n_tx + p->n_rx; i++) {
		int tx = i < p->n_tx;
		unsigned ri = tx ? i : i - p->n_tx;
		struct unm_kring *kr = tx ? &p->tx[ri] : &p->rx[ri];
		struct pipe_ring *pr = &pp->rings[i];
		struct unm_ring *prx_ring;

		rc = check_kring(p, kr, pool, bs);
		if (rc)
			return rc;
		/* ctl block 2 * pair + direction (0 = master -> slave) */
		pr->ctl = (struct unm_pipe_ctl *)((char *)p->reg.base + csb +
						  128ull * (2 * ri + (tx ? me : 1 - me)));
		kr->priv = pr;
		kr->hwcur = 0;
		kr->hwtail = tx ? kr->nslots - 1 : 0;
		kr->ring->head = kr->ring->cur = 0;
		kr->ring->tail = kr->hwtail;
		if (tx) {
			prx_ring = peer_rxring(p, peer, ifo[1 - me], ptx, ri, kr->nslots, pool);
			if (!prx_ring)
				return unm_seterr(-EBADMSG, "%s: peer RX ring %u does not match TX ring %u",
						  p->name, ri, ri);
			pr->peer_slot = prx_ring->slot;
			pr->my_wake = &pr->ctl->prod_need_wake;
			UNM_WRITE_ONCE(pr->ctl->prod_state, UNM_PIPE_OPEN);
		} else {
			pr->my_wake = &pr->ctl->cons_need_wake;
			UNM_WRITE_ONCE(pr->ctl->cons_state, UNM_PIPE_OPEN);
		}
		pr->progressed = true;
	}
	return 0;
}

static int pipe_create(struct unm_port *p, struct pipe_priv *pp, const struct unm_open_opts *o)
{
	const unsigned me = pp->role == UNM_PIPE_MASTER ? 0 : 1;
	struct unm_region_layout l;
	struct unm_if_layout self;
	char err[200];
	int rc;

	/* our interface as asked, the peer's its mirror image */
	unm_region_layout_init(&l, UNM_REGION_PIPE, NULL, o);
	self = l.ifs[0];
	l.n_ifs = 2;
	l.ifs[me] = self;
	l.ifs[1 - me] = (struct unm_if_layout){ .tx_rings = self.rx_rings, .rx_rings = self.tx_rings,
						.tx_slots = self.rx_slots, .rx_slots = self.tx_slots };
	for (unsigned i = 0; i < 2; i++) {
		char n[2 * UNM_NAME_MAX + 2] = ""; /* "NAME{ID", truncated to fit ni_name */

		snprintf(n, sizeof(n), "%s%c%s", p->spec.port, i == 0 ? '{' : '}', p->spec.pipe_id);
		memcpy(l.ifs[i].name, n, sizeof(l.ifs[i].name) - 1);
	}
	l.csb_entries = 4 * (o->tx_rings > o->rx_rings ? o->tx_rings : o->rx_rings);
	rc = unm_region_create(&l, &p->reg, err, sizeof(err));
	if (rc)
		return unm_seterr(rc, "%s: %s", p->name, err);
	return pipe_setup(p, pp);
}

/* We bound the rendezvous name on FD: build the region, listen. */
static int become_owner(struct unm_port *p, struct pipe_priv *pp, int fd,
			const struct unm_open_opts *o)
{
	int rc;

	pp->owner = true;
	pp->lfd = fd;
	rc = pipe_create(p, pp, o);
	if (rc)
		return rc;
	if (listen(fd, 8) < 0)
		return unm_seterr(-errno, "%s: listen: %s", p->name, strerror(errno));
	rc = pipe_ep_add(p->epfd, fd, EPOLLIN, EV_LISTEN);
	if (rc)
		return rc;
	set_state(pp, PS_WAITING);
	reg_add(pp);
	return 0;
}

/* While waiting for an owner's answer: if the owner lives in this process,
 * serve it ourselves (its thread may be the one waiting here). */
static void pump_local(const char *key)
{
	pthread_mutex_lock(&reg_lock);
	for (struct pipe_priv *o = reg_head; o; o = o->next)
		if (!strcmp(o->key, key))
			pipe_service(o);
	pthread_mutex_unlock(&reg_lock);
}

/* Wait for the owner's reply on FD until DEADLINE; returns unm_recv_fds(). */
static int await_reply(struct unm_port *p, struct pipe_priv *pp, int fd, uint64_t deadline,
		       struct pipe_rep *rep, int fds[2])
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now;

		pump_local(pp->key);
		if (poll(&pfd, 1, 5) > 0)
			return unm_recv_fds(fd, rep, sizeof(*rep), fds, 2);
		now = unm_now_ns();
		if (now >= deadline)
			return unm_seterr(-ETIMEDOUT, "%s: the pipe's other end did not answer in time "
					  "(is it syncing?)", p->name);
	}
}

/* We connected to the owner on FD: ask for our role, map its region. */
static int join(struct unm_port *p, struct pipe_priv *pp, int fd, uint64_t deadline)
{
	struct pipe_req req;
	struct pipe_rep rep;
	struct ucred cr;
	socklen_t crl = sizeof(cr);
	int fds[2] = { -1, -1 }, n, rc;
	char err[200];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) < 0)
		return -errno;
	if (cr.uid != geteuid())
		return unm_seterr(-EACCES, "%s: the pipe is held by uid %u (pid %d), not by us",
				  p->name, (unsigned)cr.uid, (int)cr.pid);
	memset(&req, 0, sizeof(req));
	req.magic = PIPE_MAGIC;
	req.version = PIPE_PROTO;
	req.role = (uint16_t)pp->role;
	snprintf(req.name, sizeof(req.name), "%s", pp->key);
	rc = unm_send_fds(fd, &req, sizeof(req), &pp->my_efd, 1);
	if (rc)
		return rc == -EPIPE || rc == -ECONNRESET ? -EAGAIN : rc;
	n = await_reply(p, pp, fd, deadline, &rep, fds);
	if (n == -ECONNRESET || n == -EPIPE)
		return -EAGAIN; /* the owner went away: retry the rendezvous */
	if (n < 0)
		return n;
	rep.name[sizeof(rep.name) - 1] = rep.msg[sizeof(rep.msg) - 1] = '\0';
	rc = -EPROTO;
	if (rep.magic != PIPE_MAGIC || rep.version != PIPE_PROTO || strcmp(rep.name, pp->key))
		unm_seterr(rc, "%s: bad answer from the pipe's other end", p->name);
	else if (rep.status)
		rc = unm_seterr(rep.status < 0 && rep.status > -4096 ? rep.status : -EPROTO,
				"%s: %s", p->name, rep.msg);
	else if (n != 2 || !unm_efd_ok(fds[1]))
		unm_seterr(rc, "%s: the pipe's other end sent bad descriptors", p->name);
	else if (!(fcntl(fds[0], F_GET_SEALS) & F_SEAL_SHRINK))
		unm_seterr(rc, "%s: the pipe region is not sealed against shrinking", p->name);
	else if ((rc = unm_region_map(fds[0], &p->reg, err, sizeof(err))) != 0)
		unm_seterr(rc, "%s: %s", p->name, err);
	else
		fds[0] = -1; /* owned by p->reg now */
	if (rc) {
		close_fd(&fds[0]);
		close_fd(&fds[1]);
		return rc;
	}
	pp->peer_efd = fds[1];
	rc = pipe_setup(p, pp);
	if (rc)
		return rc;
	rc = pipe_ep_add(p->epfd, fd, EPOLLIN | EPOLLRDHUP, EV_CONN);
	if (rc)
		return rc;
	pp->cfd = fd;
	set_state(pp, PS_CONNECTED); /* [L1] */
	return 0;
}

/* Rendezvous: bind (become the owner) or connect (join), until deadline. */
int pipe_rendezvous(struct unm_port *p, struct pipe_priv *pp, const struct unm_open_opts *o)
{
	uint64_t deadline = unm_now_ns() + (uint64_t)o->timeout_ms * 1000000ull;

	make_addr(pp);

	for (;;) {
		int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), rc;

		if (fd < 0)
			return unm_seterr(-errno, "%s: socket: %s", p->name, strerror(errno));
		if (bind(fd, (struct sockaddr *)&pp->addr, pp->addrlen) == 0) {
			rc = become_owner(p, pp, fd, o);
			if (rc && pp->lfd < 0)
				close(fd);
			return rc;
		}
		if (errno != EADDRINUSE) {
			rc = -errno;
			close(fd);
			return unm_seterr(rc, "%s: bind: %s", p->name, strerror(-rc));
		}
		if (connect(fd, (struct sockaddr *)&pp->addr, pp->addrlen) == 0) {
			rc = join(p, pp, fd, deadline);
			if (rc != -EAGAIN) {
				if (pp->cfd != fd)
					close(fd);
				return rc;
			}
			unm_region_unmap(&p->reg);
		} else if (errno != ECONNREFUSED && errno != EAGAIN && errno != ENOENT) {
			rc = -errno;
			close(fd);
			return unm_seterr(rc, "%s: connect: %s", p->name, strerror(-rc));
		}
		/* Owner between bind and listen, backlog full, or gone: retry. */
		close(fd);
		if (unm_now_ns() >= deadline)
			return unm_seterr(-ETIMEDOUT, "%s: pipe rendezvous timed out", p->name);
		usleep(1000);
	}
}

void pipe_rdv_forget(struct pipe_priv *pp)
{
	if (pp->owner)
		reg_del(pp);
}
