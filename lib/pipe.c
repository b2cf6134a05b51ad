// SPDX-License-Identifier: BSD-2-Clause
/*
 * pipe.c - zero-copy pipes NAME{ID (master) / NAME}ID (slave) between any
 * two processes of the same user, with no daemon and nothing on disk.
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
 * Liveness. The connected socket stays open, in both ends' epoll sets
 * (p->epfd = unm_fd()): POLLHUP means the peer closed or died. A sync that
 * finds nothing to do looks at it (one epoll_wait(0)) at most once per
 * PIPE_CHECK_NS per ring, so a spinning end notices a SIGKILLed peer
 * within about a millisecond and a busy one makes no syscall. Once the
 * peer is gone: txsync returns -EPIPE; rxsync returns the frames still
 * queued and -EPIPE once the ring is drained. An owner whose peer is gone
 * refuses later joiners with -EBUSY ("both ends must reopen").
 *
 * Data path (per ring pair i, per direction; "producer" = the end whose
 * TX ring i feeds the other end's RX ring i). The producer's txsync swaps
 * each TX slot [hwcur, head) with the next free slot of the peer's RX ring
 * (the whole 16-byte slot goes over; the RX slot's buffer, released earlier
 * by the consumer, comes back into the TX slot): no copy, one release store
 * of rx_hwtail per batch. The consumer's rxsync releases [hwcur, head) with
 * one release store of rx_hwcur and takes [hwtail, rx_hwtail), reading
 * and writing back each new slot's first 8 bytes once (check_rx_slots:
 * validation, and it makes the slot lines migrate back to the producer in
 * one transfer instead of two). TX slots
 * complete at once, so a TX ring's tail is always hwcur - 1. Each side keeps
 * private copies (kring hwcur/hwtail, prod_tail, cached rx_hwcur refreshed
 * only when the RX ring looks full), so the fast path touches one shared
 * line per batch besides the slots.
 *
 * Ordering (tags; docs/ordering.md has the table):
 *   [P1] producer release of ctl->rx_hwtail      <-> [C1] consumer acquire
 *   [C2] consumer release of ctl->rx_hwcur       <-> [P2] producer acquire
 *   [P3] producer full fence after [P1], then reads cons_need_wake;
 *        pairs with [C4] (consumer: need_wake = 1, fence, re-read rx_hwtail)
 *   [C3] consumer full fence after [C2], then reads prod_need_wake;
 *        pairs with [P4] (producer: need_wake = 1, fence, re-read rx_hwcur)
 *   [L1] release of pp->state (peer connected / gone) <-> [L2] acquire, in
 *        this process: publishes pp->peer_efd to the other ring threads.
 *   [W1] release of need_wake after the ring's wait word <-> [W2] full
 *        fence after a drain, before recheck() loads the wait words and
 *        indexes (the chain runs through the peer's kick and the eventfd).
 *
 * Notification suppression. An end whose ring would block (port.c calls
 * arm) first spins: for spin_ns after its last progress it does not ask
 * the peer for a kick but makes its own unm_fd() readable (one eventfd
 * write per idle spell), so a poller comes back and re-syncs and a busy
 * stream costs the peer no syscall. After that it arms for real: sets its
 * need_wake flag, full fence, re-checks the peer's index (double check).
 * The peer kicks (eventfd write) only when it published something and saw
 * the flag. spin_ns defaults to 50 us; $UNM_PIPE_SPIN_US overrides it (0 =
 * arm at once). Kicks are counted in st.kicks.
 *
 * One eventfd serves every ring of the end, so a drain done for one ring
 * can eat a kick meant for another ring that armed earlier and already
 * passed its double check. Rule: every drain is followed by a re-check of
 * every waiting ring before anyone sleeps. Each ring publishes what it
 * waits for in its wait word (W_SPIN, or W_ARMED | the peer index it armed
 * at); drains in the sync path (arm, the idle liveness check, an open
 * pumping its owner) call recheck(), which makes unm_fd() readable again
 * if a ring is spinning or its peer index moved. pipe_wakeup drains
 * without recheck(): its caller (unm_wait, unmd) re-syncs next every ring
 * it waits for; it also drops the W_SPIN of rings nobody re-syncs. Arm
 * drains only when the eventfd may hold our spin signal or a kick that
 * came after its ring moved (kick_left, set on disarm), so a poller does
 * not spin on a stale kick and a spinning caller makes no read.
 *
 * Trust. The peer maps the whole region and may write anything at any
 * time. Every value read from it is read once and validated: rx_hwtail
 * and rx_hwcur must lie in the span the peer may legally move them over
 * (else st.bad_ring, value ignored); each RX slot taken by rxsync must have
 * a buffer index in [2, buf_count) and len <= buf_size (else the slot is
 * rewritten to reserved buffer 1 with len 0: st.bad_buf / st.bad_len and
 * st.drops); each buffer index a producer takes back from the RX ring is
 * checked the same way (bad: buffer 1, st.bad_buf). Buffer 1 is real
 * memory inside the pool, so an application writing to it stays inside the
 * region. Ring pointers, geometry and buffer count are private copies
 * taken at open. Slots the application owns can still be rewritten by the
 * peer after a sync: an application that does not trust its peer must
 * range-check buf_idx itself before following it.
 *
 * Threads. One thread per ring pair: a sync of ring i touches only pair
 * i's kring, pipe_ring and ctl blocks. Shared per-port state (connection
 * state, the service path) uses atomics and a try-lock. Sleeping on
 * unm_fd()/unm_wait() is for one thread per port (one wake eventfd per
 * end); threads that each own a ring sleep with unm_ring_wait(), which
 * re-syncs every millisecond because they share (and may drain) that one
 * eventfd. st counters are plain increments (exact with one thread).
 * Do not fork with a pipe end open: the child would keep the sockets.
 *
 * Monitors of this end (NAME{ID/z zero-copy, NAME{ID/t /r copy without
 * unmd): lib/pipe_zmon.c, sharing this file's
 * state through lib/pipe_priv.h; the only cost to an unmonitored ring is
 * the pr->zm test at the top of pipe_txsync.
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

int pipe_ep_add(int epfd, int fd, uint32_t events, uint32_t tag)
{
	struct epoll_event ev = { .events = events, .data.u32 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* A wake fd received from another process must be an anonymous inode
 * (eventfd) and is made non-blocking, so a kick can never block or grow a
 * file whatever the peer sent. */
bool unm_efd_ok(int fd)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st) < 0 || (st.st_mode & S_IFMT) != 0)
		return false;
	fl = fcntl(fd, F_GETFL);
	return fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) >= 0;
}

void pipe_kick(struct unm_port *p, struct pipe_priv *pp)
{
	uint64_t one = 1;

	if (get_state(pp) != PS_CONNECTED)
		return;
	if (write(pp->peer_efd, &one, sizeof(one)) == (ssize_t)sizeof(one))
		p->st.kicks++;
}

/* Empty my_efd (one read resets an eventfd counter). Whoever drains must
 * then re-check every ring that waits: pipe_wakeup's caller re-syncs the
 * rings it waits for, everyone else calls recheck(). */
static void drain(struct pipe_priv *pp)
{
	uint64_t v;

	__atomic_store_n(&pp->kick_left, 0, __ATOMIC_RELAXED);
	if (read(pp->my_efd, &v, sizeof(v)) < 0)
		v = 0; /* empty already */
	/* After the read: a self_signal racing with it saw 1 and wrote
	 * nothing; its ring is W_SPIN and recheck() signals again. */
	__atomic_store_n(&pp->self_sig, 0, __ATOMIC_RELAXED);
}

/* Make unm_fd() readable without involving the peer (spin phase). */
void pipe_self_signal(struct pipe_priv *pp)
{
	uint64_t one = 1;

	if (!__atomic_exchange_n(&pp->self_sig, 1, __ATOMIC_RELAXED))
		if (write(pp->my_efd, &one, sizeof(one)) < 0)
			__atomic_store_n(&pp->self_sig, 0, __ATOMIC_RELAXED);
}

/*
 * After a drain outside pipe_wakeup: the drain may have eaten a kick meant
 * for any armed ring (or the signal of a spinning one), whichever thread
 * syncs it and whenever it armed. Look at every ring's wait word and make
 * unm_fd() readable again if one can move now or is spinning. Idle path.
 */
static void recheck(struct unm_port *p, struct pipe_priv *pp)
{
	bool spin = false, ready = false;
	uint64_t one = 1;

	/* [W2] full fence: the eventfd read (after the peer's kick, which
	 * followed its [P3]/[C3] fence and its read of need_wake) before the
	 * loads of the wait words and the peer indexes; pairs with [W1]. */
	unm_smp_mb();
	for (unsigned i = 0; i < p->n_tx + p->n_rx; i++) {
		struct pipe_ring *pr = &pp->rings[i];
		uint64_t w = __atomic_load_n(&pr->wait, __ATOMIC_RELAXED);
		uint32_t idx;

		if (w == W_SPIN) {
			spin = true;
		} else if (w & W_ARMED) {
			idx = UNM_READ_ONCE(*(i < p->n_tx ? &pr->ctl->rx_hwcur : &pr->ctl->rx_hwtail));
			ready |= idx != (uint32_t)w; /* untrusted: only compared */
		}
		if (i < p->n_tx) {
			/* [Z14] acquire pairs with [Z13]: z.mc is set. */
			w = __atomic_load_n(&pr->zwait, __ATOMIC_ACQUIRE);
			if (w & W_ARMED)
				ready |= UNM_READ_ONCE(pr->z.mc->m_hwcur) != (uint32_t)w;
		}
	}
	if (spin) {
		pipe_self_signal(pp);
	} else if (ready && write(pp->my_efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, unm_fd() is readable */
	}
}

static void drain_recheck(struct unm_port *p, struct pipe_priv *pp)
{
	drain(pp);
	recheck(p, pp);
}

/* The rendezvous' messages: fd passing itself is fdpass.c's. */
int unm_send_fds(int fd, const void *buf, size_t len, const int *fds, int nfds)
{
	ssize_t r;

	if (nfds < 0 || nfds > 4)
		return -EINVAL;
	r = unm_fdpass_send(fd, buf, len, fds, (unsigned)nfds, MSG_DONTWAIT);
	if (r < 0)
		return (int)r;
	return (size_t)r == len ? 0 : -EIO;
}

int unm_recv_fds(int fd, void *buf, size_t len, int *fds, int maxfds)
{
	unsigned n;
	ssize_t r;

	if (maxfds < 0 || maxfds > 4)
		return -EINVAL;
	r = unm_fdpass_recv(fd, buf, len, MSG_DONTWAIT, fds, (unsigned)maxfds, &n);
	if (r < 0)
		return (int)r;
	if (r == 0)
		return -ECONNRESET;
	if ((size_t)r != len) {
		for (unsigned i = 0; i < n; i++)
			close(fds[i]);
		return -EBADMSG;
	}
	return (int)n;
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
static void pipe_service(struct pipe_priv *pp)
{
	struct epoll_event ev[8 + PIPE_PENDING];
	int n;

	if (__atomic_exchange_n(&pp->svc_busy, 1, __ATOMIC_ACQUIRE))
		return;
	n = epoll_wait(pp->p->epfd, ev, (int)ARRAY_SIZE(ev), 0);
	for (int i = 0; i < n; i++) {
		uint32_t tag = ev[i].data.u32;

		if (tag == EV_WAKE && !__atomic_load_n(&pp->self_sig, __ATOMIC_RELAXED))
			drain_recheck(pp->p, pp); /* (our own signal stays: spin phase) */
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

/* Idle path of a sync: liveness/joiner check at most every PIPE_CHECK_NS. */
void pipe_idle_check(struct pipe_priv *pp, struct pipe_ring *pr)
{
	uint64_t now = unm_now_ns();

	if (now < pr->next_check)
		return;
	pr->next_check = now + PIPE_CHECK_NS;
	pipe_service(pp);
}

/* ---- data path ------------------------------------------------------------ */

/* Free peer RX slots after refreshing the cached rx_hwcur. */
static uint32_t refresh_space(struct unm_port *p, struct pipe_ring *pr, uint32_t ns)
{
	uint32_t c = unm_load_acquire(&pr->ctl->rx_hwcur); /* [P2] pairs with [C2]; untrusted */
	uint32_t used = pr->prod_tail >= pr->cons_cache ? pr->prod_tail - pr->cons_cache
						       : pr->prod_tail + ns - pr->cons_cache;
	uint32_t adv = c >= pr->cons_cache ? c - pr->cons_cache : c + ns - pr->cons_cache;

	/* The consumer may only release slots it was given. */
	if (likely(c < ns && adv <= used))
		pr->cons_cache = c;
	else
		p->st.bad_ring++;
	used = pr->prod_tail >= pr->cons_cache ? pr->prod_tail - pr->cons_cache
					       : pr->prod_tail + ns - pr->cons_cache;
	return ns - 1 - used;
}

/*
 * Swap M slots from our TX ring (from T) into the peer's RX ring (from J).
 * Each TX slot goes over whole; the RX slot's buffer (released by the
 * consumer, untrusted) comes back into the TX slot after a range check.
 */
static uint64_t swap_slots(struct unm_port *p, const struct pipe_priv *pp, struct pipe_ring *pr,
			   struct unm_slot *txs, uint32_t ns, uint32_t t, uint32_t j, uint32_t m)
{
	struct unm_slot *rxs = pr->peer_slot;
	const uint32_t nb = pp->nbufs;
	uint64_t bytes = 0;

	while (m) {
		uint32_t chunk = m;

		if (chunk > ns - t)
			chunk = ns - t;
		if (chunk > ns - j)
			chunk = ns - j;
		for (uint32_t k = 0; k < chunk; k++) {
			struct unm_slot s = txs[t + k];
			uint32_t rb = UNM_READ_ONCE(rxs[j + k].buf_idx); /* untrusted */

			s.flags |= UNM_NS_BUF_CHANGED;
			rxs[j + k] = s;
			bytes += s.len;
			if (unlikely(rb - 2 >= nb - 2)) {
				p->st.bad_buf++;
				rb = 1; /* reserved buffer: inside the pool, never valid */
			}
			txs[t + k].buf_idx = rb;
			txs[t + k].flags = UNM_NS_BUF_CHANGED;
		}
		t = t + chunk == ns ? 0 : t + chunk;
		j = j + chunk == ns ? 0 : j + chunk;
		m -= chunk;
	}
	return bytes;
}

/*
 * UNM_OPEN_PIPE_COPY: short single-slot frames are copied into the RX
 * slot's buffer (released by the consumer, index untrusted: checked) and
 * the TX slot is left as the application wrote it; anything else is
 * swapped as in swap_slots. Buffers are reached through the private
 * kring copies of the pool offset and size, never the shared ring's.
 */
static uint64_t copy_slots(struct unm_port *p, const struct pipe_priv *pp, struct pipe_ring *pr,
			   const struct unm_kring *kr, uint32_t t, uint32_t j, uint32_t m)
{
	struct unm_slot *txs = kr->ring->slot, *rxs = pr->peer_slot;
	char *pool = (char *)kr->ring + kr->buf_ofs;
	const uint32_t nb = pp->nbufs, ns = kr->nslots, bs = kr->buf_size;
	uint64_t bytes = 0;

	for (; m; m--) {
		struct unm_slot s = txs[t];
		uint32_t rb = UNM_READ_ONCE(rxs[j].buf_idx); /* untrusted */

		bytes += s.len;
		if (likely(s.len <= UNM_PIPE_COPY_MAX && s.len <= bs &&
			   !(s.flags & UNM_NS_MOREFRAG) && s.buf_idx - 2 < nb - 2 &&
			   rb - 2 < nb - 2)) {
			char *d = pool + (uint64_t)rb * bs;
			const char *f = pool + (uint64_t)s.buf_idx * bs;

			/* whole 32-byte blocks when they fit the buffer: inlined
			 * moves instead of a library call per short frame */
			if (likely(((s.len + 31u) & ~31u) <= bs))
				for (uint32_t o = 0; o < s.len; o += 32)
					__builtin_memcpy(d + o, f + o, 32);
			else
				memcpy(d, f, s.len);
			s.buf_idx = rb;
			s.flags &= (uint16_t)~UNM_NS_BUF_CHANGED;
			rxs[j] = s;
		} else {
			s.flags |= UNM_NS_BUF_CHANGED;
			rxs[j] = s;
			if (unlikely(rb - 2 >= nb - 2)) {
				p->st.bad_buf++;
				rb = 1; /* reserved buffer: inside the pool, never valid */
			}
			txs[t].buf_idx = rb;
			txs[t].flags = UNM_NS_BUF_CHANGED;
		}
		t = t + 1 == ns ? 0 : t + 1;
		j = j + 1 == ns ? 0 : j + 1;
	}
	return bytes;
}

/* For lib/pipe_zmon.c; the fast path above keeps its inlined copies. */
uint32_t pipe_refresh_space(struct unm_port *p, struct pipe_ring *pr, uint32_t ns)
{
	return refresh_space(p, pr, ns);
}

uint64_t pipe_swap_slots(struct unm_port *p, const struct pipe_priv *pp, struct pipe_ring *pr,
			 struct unm_slot *txs, uint32_t ns, uint32_t t, uint32_t j, uint32_t m)
{
	return swap_slots(p, pp, pr, txs, ns, t, j, m);
}

/*
 * TX slots [hwcur, head) were handed over but the consumer's RX ring is
 * full. port.c arms a ring only when cur == tail, and an application
 * with free TX slots left (a bridge whose source ran dry) would then
 * sleep with frames stuck here and nobody to wake it: arm as if the
 * ring were full, so the consumer's release kicks us. Slow path only.
 */
void pipe_tx_blocked(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	(void)head;
	if (kr->ring->cur != kr->hwtail && pipe_arm(p, kr)) {
		struct pipe_priv *pp = p->priv;

		/* re-checked: space appeared; signal ourselves, the caller
		 * will sync again when its fd fires */
		pipe_self_signal(pp);
	}
}

/* The swap itself; pipe_txsync adds the monitor test. */
static inline __attribute__((always_inline)) int txsync_direct(struct unm_port *p,
							      struct unm_kring *kr, uint32_t head)
{
	struct pipe_priv *pp = p->priv;
	struct pipe_ring *pr = kr->priv;
	const uint32_t ns = kr->nslots;
	uint32_t n, space, m;
	int st;

	st = get_state(pp); /* [L2] */
	if (unlikely(st == PS_GONE))
		return tx_dead(kr, head);
	n = kr_dist(kr, kr->hwcur, head);
	m = 0;
	if (n) {
		uint32_t used = pr->prod_tail >= pr->cons_cache ? pr->prod_tail - pr->cons_cache
							       : pr->prod_tail + ns - pr->cons_cache;

		space = ns - 1 - used;
		if (space < n)
			space = refresh_space(p, pr, ns);
		m = n < space ? n : space;
	}
	if (likely(m)) {
		uint32_t j = pr->prod_tail;

		if (unlikely(pp->copy_small))
			p->st.tx_bytes += copy_slots(p, pp, pr, kr, kr->hwcur, j, m);
		else
			p->st.tx_bytes += swap_slots(p, pp, pr, kr->ring->slot, ns, kr->hwcur, j, m);
		p->st.tx_frames += m;
		j += m;
		if (j >= ns)
			j -= ns;
		pr->prod_tail = j;
		/* [P1] release: RX slots up to j are written; pairs with [C1]. */
		unm_store_release(&pr->ctl->rx_hwtail, j);
		kr->hwcur = kr->hwcur + m >= ns ? kr->hwcur + m - ns : kr->hwcur + m;
		kr->hwtail = kr->hwcur ? kr->hwcur - 1 : ns - 1;
		disarm(pp, pr);
		/* [P3] full fence: our rx_hwtail store before the read of
		 * cons_need_wake; pairs with [C4] (double check in pipe_arm). */
		unm_smp_mb();
		if (unlikely(UNM_READ_ONCE(pr->ctl->cons_need_wake)))
			pipe_kick(p, pp);
		if (unlikely(m < n))
			pipe_tx_blocked(p, kr, head);
		return 0;
	}
	if (n)
		pipe_tx_blocked(p, kr, head);
	pipe_idle_check(pp, pr);
	return get_state(pp) == PS_GONE ? tx_dead(kr, head) : 0;
}

int pipe_txsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct pipe_ring *pr = kr->priv;

	/* The one branch a monitor (zero-copy or copy) costs an
	 * unmonitored ring. */
	if (unlikely(__atomic_load_n(&pr->zm, __ATOMIC_RELAXED)))
		return zm_txsync(p, kr, head);
	return txsync_direct(p, kr, head);
}

/* For a copy monitor's txsync (lib/pipe_zmon.c): copy done, now swap. */
int pipe_txsync_direct(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	return txsync_direct(p, kr, head);
}

/* The first 8 bytes of a slot: buf_idx | len << 32 | flags << 48. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "check_rx_slots reads a slot's first 8 bytes as one little-endian word"
#endif
typedef uint64_t __attribute__((may_alias)) slot_word;

/*
 * Check newly visible RX slots [from, to): each slot's buf_idx/len/flags
 * word is read once, and written back (with buffer 1 and len 0 if bad).
 * The write-back is also what keeps the swap fast: a line the consumer
 * has written migrates to the producer in one transfer when it refills
 * the slot, while a line the consumer only read would need a second
 * round trip (an invalidation) for the producer's store.
 */
static void check_rx_slots(struct unm_port *p, struct unm_kring *kr, uint32_t from, uint32_t to)
{
	const struct pipe_priv *pp = p->priv;
	struct unm_slot *s = kr->ring->slot;
	const uint32_t nb = pp->nbufs, bs = pp->buf_size;
	uint64_t bytes = 0, frags = 0, n = 0;

	for (uint32_t i = from; i != to; i = kr_next(kr, i), n++) {
		slot_word *wp = (slot_word *)&s[i];
		uint64_t w = UNM_READ_ONCE(*wp); /* untrusted */
		uint32_t idx = (uint32_t)w, len = (uint16_t)(w >> 32);

		if (unlikely(idx - 2 >= nb - 2 || len > bs)) {
			if (idx - 2 >= nb - 2)
				p->st.bad_buf++;
			else
				p->st.bad_len++;
			p->st.drops++;
			w = (w & 0xffff000000000000ull) | 1; /* buffer 1, len 0 */
			len = 0;
		}
		UNM_WRITE_ONCE(*wp, w);
		bytes += len;
		frags += (w >> 48 & UNM_NS_MOREFRAG) != 0;
	}
	p->st.rx_bytes += bytes;
	p->st.rx_frames += n - frags;
}

static int pipe_rxsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct pipe_priv *pp = p->priv;
	struct pipe_ring *pr = kr->priv;
	const uint32_t ns = kr->nslots;
	uint32_t t, free_, adv;
	int st;

	if (head != kr->hwcur) {
		/* [C2] release: we are done with RX slots before head; pairs with [P2]. */
		unm_store_release(&pr->ctl->rx_hwcur, head);
		kr->hwcur = head;
		/* [C3] full fence: rx_hwcur store before the read of
		 * prod_need_wake; pairs with [P4] (double check in pipe_arm). */
		unm_smp_mb();
		if (unlikely(UNM_READ_ONCE(pr->ctl->prod_need_wake)))
			pipe_kick(p, pp);
	}
	st = get_state(pp); /* [L2]: before rx_hwtail, so a dead peer's last frames are seen */
	t = unm_load_acquire(&pr->ctl->rx_hwtail); /* [C1] pairs with [P1]; untrusted */
	if (t != kr->hwtail) {
		/* The producer may fill up to the slot before hwcur. */
		free_ = ns - 1 - kr_dist(kr, kr->hwcur, kr->hwtail);
		adv = t < ns ? kr_dist(kr, kr->hwtail, t) : ns;
		if (likely(adv <= free_)) {
			check_rx_slots(p, kr, kr->hwtail, t);
			kr->hwtail = t;
			disarm(pp, pr);
			return 0;
		}
		p->st.bad_ring++;
	}
	if (st == PS_GONE)
		return kr->hwtail == kr->hwcur ? -EPIPE : 0;
	/* Idle: forward what our monitor released on TX ring i of the same
	 * pair (same thread), so an end that only waits for RX delivers. */
	if (kr->ringid < p->n_tx) {
		struct unm_kring *tk = &p->tx[kr->ringid];

		if (__atomic_load_n(&((struct pipe_ring *)tk->priv)->zm, __ATOMIC_RELAXED))
			zm_txsync(p, tk, tk->hwcur);
	}
	pipe_idle_check(pp, pr);
	return 0;
}

/*
 * port.c calls this when a ring would block (cur == tail). Spin phase:
 * make unm_fd() readable ourselves. Then: empty the eventfd if it may hold
 * our signal or a stale kick, and re-check every waiting ring (recheck);
 * then wait = W_ARMED | index, need_wake = 1, full fence, re-read the
 * peer's index (double check). True = re-sync.
 */
bool pipe_arm(struct unm_port *p, struct unm_kring *kr)
{
	struct pipe_priv *pp = p->priv;
	struct pipe_ring *pr = kr->priv;
	uint64_t now = unm_now_ns();
	uint32_t seen;

	if (get_state(pp) == PS_GONE)
		return false; /* the hung-up socket keeps unm_fd() readable */
	if (pr->progressed) {
		pr->progressed = false;
		pr->idle_since = now;
	}
	if (now - pr->idle_since < pp->spin_ns) {
		/* Before the signal: a drain that eats it sees W_SPIN. */
		__atomic_store_n(&pr->wait, W_SPIN, __ATOMIC_RELAXED);
		pr->spinning = true;
		pipe_self_signal(pp);
		return false;
	}
	if (__atomic_load_n(&pp->self_sig, __ATOMIC_RELAXED) |
	    __atomic_load_n(&pp->kick_left, __ATOMIC_RELAXED))
		drain_recheck(p, pp);
	seen = kr->dir == 0 ? pr->cons_cache : kr->hwtail;
	__atomic_store_n(&pr->wait, W_ARMED | seen, __ATOMIC_RELAXED);
	pr->spinning = false;
	if (kr->dir == 0)
		zm_arm(pr);
	if (!pr->armed) {
		/* [W1] release: the wait word before need_wake, so a thread
		 * that drains the kick answering need_wake sees it in
		 * recheck(); pairs with [W2] (through the peer's kick). */
		unm_store_release(pr->my_wake, 1u);
		pr->armed = true;
	}
	/* [P4]/[C4] full fence: need_wake store before the re-read of the
	 * peer's index; pairs with [C3] (TX ring) or [P3] (RX ring).
	 * With a monitor also [Z8]: prod_need_wake before the re-read of
	 * m_hwcur; pairs with [Z7] (zmon_rxsync). */
	unm_smp_mb();
	if (kr->dir == 0)
		return UNM_READ_ONCE(pr->ctl->rx_hwcur) != seen ||
		       ((__atomic_load_n(&pr->zm, __ATOMIC_RELAXED) & (ZM_ON | ZM_COPY)) == ZM_ON &&
			UNM_READ_ONCE(pr->z.mc->m_hwcur) != pr->z.mseen);
	return UNM_READ_ONCE(pr->ctl->rx_hwtail) != seen;
}

/*
 * After an epoll_wait on unm_fd() (unm_wait, unmd): empty the eventfd
 * without recheck(), since the caller re-syncs every ring it waits for
 * next; accept; notice a hang-up. The syncs that follow report -EPIPE
 * (after RX drained). Spinning rings stop asking for signals: the caller
 * re-syncs those it still waits for, which spin again.
 */
static int pipe_wakeup(struct unm_port *p)
{
	struct pipe_priv *pp = p->priv;
	uint64_t now;

	for (unsigned i = 0; i < p->n_tx + p->n_rx; i++) {
		uint64_t w = W_SPIN;

		__atomic_compare_exchange_n(&pp->rings[i].wait, &w, 0, false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED);
	}
	/* In the spin phase unm_fd() stays readable on purpose and unm_wait
	 * loops through here: look at the sockets only every PIPE_CHECK_NS. */
	if (__atomic_load_n(&pp->self_sig, __ATOMIC_RELAXED)) {
		now = unm_now_ns();
		/* relaxed: several unm_ring_wait() threads may get here */
		if (now < __atomic_load_n(&pp->next_service, __ATOMIC_RELAXED))
			return 0;
		__atomic_store_n(&pp->next_service, now + PIPE_CHECK_NS, __ATOMIC_RELAXED);
	} else {
		drain(pp);
	}
	pipe_service(pp);
	return 0;
}

/* ---- open / close ---------------------------------------------------------- */

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

static void pipe_free(struct unm_port *p, struct pipe_priv *pp)
{
	if (pp->owner)
		reg_del(pp);
	close_fd(&pp->cfd);
	close_fd(&pp->lfd);
	for (int i = 0; i < PIPE_PENDING; i++)
		close_fd(&pp->pending[i]);
	close_fd(&pp->peer_efd);
	close_fd(&pp->my_efd);
	zm_free(p, pp);
	free(pp->rings);
	free(pp);
	p->priv = NULL;
}

/* Rendezvous: bind (become the owner) or connect (join), until deadline. */
static int rendezvous(struct unm_port *p, struct pipe_priv *pp, const struct unm_open_opts *o)
{
	uint64_t deadline = unm_now_ns() + (uint64_t)o->timeout_ms * 1000000ull;

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

static int pipe_open(struct unm_port *p, const struct unm_spec *s, const struct unm_open_opts *o)
{
	struct pipe_priv *pp = calloc(1, sizeof(*pp));
	const char *env = getenv("UNM_PIPE_SPIN_US");
	int rc;

	if (!pp)
		return -ENOMEM;
	pp->p = p;
	pp->role = s->pipe_role;
	pp->copy_small = (o->flags & UNM_OPEN_PIPE_COPY) != 0;
	pp->lfd = pp->cfd = pp->my_efd = pp->peer_efd = -1;
	pp->zm_lfd = pp->zm_pend = pp->zm_cfd = pp->zm_efd = pp->zm_memfd = pp->zc_memfd = -1;
	for (int i = 0; i < PIPE_PENDING; i++)
		pp->pending[i] = -1;
	pp->spin_ns = env ? strtoull(env, NULL, 10) * 1000ull : PIPE_SPIN_NS;
	if (pp->spin_ns > 1000000000ull)
		pp->spin_ns = 1000000000ull;
	snprintf(pp->key, sizeof(pp->key), "%s{%s", s->port, s->pipe_id);
	make_addr(pp);
	p->priv = pp;
	pp->my_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (pp->my_efd < 0 || p->epfd < 0)
		rc = unm_seterr(-errno, "%s: %s", p->name, strerror(errno));
	else if (!(rc = pipe_ep_add(p->epfd, pp->my_efd, EPOLLIN, EV_WAKE)))
		rc = rendezvous(p, pp, o);
	if (!rc)
		zm_listen(p, pp);
	if (rc) { /* no ring to flush: free what the rendezvous built, unm_open the rest */
		pipe_free(p, pp);
		p->priv = NULL;
	}
	return rc;
}

static void pipe_close(struct unm_port *p)
{
	struct pipe_priv *pp = p->priv;

	if (!pp)
		return;
	for (unsigned i = 0; pp->rings && i < p->n_tx + p->n_rx; i++) {
		struct pipe_ring *pr = &pp->rings[i];

		if (pr->ctl)
			UNM_WRITE_ONCE(*(i < p->n_tx ? &pr->ctl->prod_state : &pr->ctl->cons_state),
				       UNM_PIPE_CLOSED);
	}
	pipe_free(p, pp);
}

static void pipe_info(const struct unm_port *p, struct unm_port_info *info)
{
	struct pipe_priv *pp = p->priv;
	int st = pp ? get_state(pp) : PS_GONE;

	info->zero_copy_peer = 1;
	info->peer = st == PS_WAITING ? UNM_PEER_WAITING :
		     st == PS_CONNECTED ? UNM_PEER_CONNECTED : UNM_PEER_GONE;
}

const struct unm_port_ops unm_pipe_ops = {
	.type = "pipe",
	.open = pipe_open,
	.txsync = pipe_txsync,
	.rxsync = pipe_rxsync,
	.arm = pipe_arm,
	.wakeup = pipe_wakeup,
	.close = pipe_close,
	.info = pipe_info,
};
