// SPDX-License-Identifier: BSD-2-Clause
/*
 * zmon.c - zero-copy monitors of pipe ends, monitor side: "NAME{ID/z"
 * (or "monitor:NAME{ID/z"). lib/pipe_zmon.c has the producer side and
 * docs/zmon.md the design. zm_ = zero-copy monitor (this file's state:
 * struct zm_priv, one zm_end per monitored direction, zm_ring per ring).
 *
 * /z monitors both directions of the named end, /zt only what it
 * transmits, /zr only what it receives. For each direction the monitor
 * connects to the producing end's monitor rendezvous
 * ("\0unetmap.pipemon.<euid>.<NAME>{<ID>.<m|s>") and receives the pipe
 * region (for the buffers), a memfd with one monitor ring per TX ring of
 * that end, and the end's wake eventfd. Monitor RX ring i < n is TX ring
 * i of the monitored end (slots flagged UNM_NS_TXMON); ring n + i is TX
 * ring i of its peer, i.e. RX ring i of the monitored end. The rings are
 * this port's RX rings; it has no TX ring.
 *
 * A slot handed out by rxsync names the producer's own buffer: the
 * monitor may read and rewrite the frame in place; the frame reaches the
 * consumer only when the monitor releases the slot (a later rxsync with
 * head past it). Whatever else the monitor writes into its slots is
 * ignored: the producer forwards from a private shadow.
 *
 * Liveness: the connections stay open; the producing end treats a hang-up
 * as "monitor gone" (forwards what is in flight). When a monitored end
 * closes, rxsync returns the frames still queued, then -EPIPE. The
 * monitored end answers only while it syncs or waits (like a pipe owner
 * answering a joiner), so unm_open() of a monitor of an idle end times
 * out.
 *
 * Copy mode (zp->copy): "monitor:NAME{ID", "/t", "/r" of a pipe end unmd
 * does not serve (lib/monitor.c falls back here). Same rendezvous and
 * rings, but each monitor ring has its own buffers in the rings memfd
 * (slot k owns buffer k) and the producer copies frames into them; the
 * monitor is not in the path (a full ring drops copies at the producer).
 *
 * Trust: the pipe ends are checked like any peer (m_hwtail range, slot
 * buffer indexes and lengths, memfd seals and size).
 * Threads: the unm_port contract (one thread per ring).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

#define ZMON_CHECK_NS 1000000ull /* hang-up check period while idle */

struct zm_end {
	int cfd, peer_efd;
	void *base;                   /* monitor rings memfd */
	size_t size;
	int gone;                     /* the end hung up (atomic) */
};

struct zm_ring {
	struct unm_zmon_ctl *mc;
	struct zm_end *e;
	bool armed;
	uint64_t next_check;
};

struct zm_priv {
	int my_efd;
	bool copy;                    /* copy monitor: slots own buffer k of their ring */
	unsigned n_ends;
	struct zm_end end[2];
	struct zm_ring *rings;
	void *nifp;
};

static void zclose(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Ask the end KEY/ROLE for its monitor rings; returns 0 with *rep and
 * fds {region, rings, wake} or -errno. */
static int zm_connect(struct unm_port *p, struct zm_priv *zp, const char *key, int role,
		      bool txmon, int timeout_ms, struct zmon_rep *rep, int fds[3], int *cfd)
{
	struct sockaddr_un a;
	socklen_t al = (socklen_t)unm_pipe_mon_addr(key, role, &a);
	struct zmon_req req;
	struct pollfd pfd;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), n;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, al) < 0) {
		n = -errno;
		close(fd);
		return unm_seterr(n == -ECONNREFUSED ? -ENOENT : n,
				  "%s: the %s end of pipe %s is not open (%s)", p->name,
				  role == UNM_PIPE_MASTER ? "master" : "slave", key, strerror(-n));
	}
	memset(&req, 0, sizeof(req));
	req.magic = ZMON_MAGIC;
	req.version = ZMON_PROTO;
	req.role = (uint16_t)role;
	req.txmon = txmon;
	req.copy = zp->copy;
	snprintf(req.name, sizeof(req.name), "%s", key);
	n = unm_send_fds(fd, &req, sizeof(req), &zp->my_efd, 1);
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (!n && poll(&pfd, 1, timeout_ms) != 1)
		n = unm_seterr(-ETIMEDOUT, "%s: the pipe end did not answer (is it syncing?)",
			       p->name);
	if (!n) {
		n = unm_recv_fds(fd, rep, sizeof(*rep), fds, 3);
		if (n >= 0 && (rep->magic != ZMON_MAGIC || rep->version != ZMON_PROTO ||
			       (rep->status == 0 && (n != 3 || rep->copy != zp->copy)) ||
			       (rep->status && n))) {
			for (int i = 0; i < n; i++)
				close(fds[i]);
			n = -EPROTO;
		}
		if (n >= 0 && rep->status) {
			rep->msg[sizeof(rep->msg) - 1] = '\0';
			n = unm_seterr(rep->status < 0 && rep->status > -4096 ? rep->status : -EPROTO,
				       "%s: %s", p->name, rep->msg);
		} else if (n >= 0) {
			n = 0;
		}
	}
	if (n) {
		close(fd);
		return n == -ECONNRESET ? -ENOENT : n;
	}
	*cfd = fd;
	return 0;
}

/* Check and map the rings memfd RFD of end E described by REP. */
static int zm_map(struct unm_port *p, struct zm_priv *zp, struct zm_end *e,
		  const struct zmon_rep *rep, int rfd)
{
	struct stat st;
	int seals = fcntl(rfd, F_GET_SEALS);

	if (fstat(rfd, &st) < 0 || seals < 0 || !(seals & F_SEAL_SHRINK) ||
	    (uint64_t)st.st_size != rep->size || rep->n_rings < 1 ||
	    rep->n_rings > UNM_MAX_RINGS)
		return unm_seterr(-EBADMSG, "%s: bad monitor rings from the pipe end", p->name);
	for (unsigned i = 0; i < rep->n_rings; i++)
		if (rep->nslots[i] < UNM_MIN_SLOTS || rep->nslots[i] > UNM_MAX_SLOTS ||
		    rep->ring_ofs[i] % UNM_CACHELINE || rep->ring_ofs[i] < sizeof(struct unm_zmon_ctl) ||
		    (uint64_t)rep->ring_ofs[i] + sizeof(struct unm_ring) + 16ull * rep->nslots[i] >
			    rep->size)
			return unm_seterr(-EBADMSG, "%s: bad monitor ring %u geometry", p->name, i);
		else if (zp->copy &&
			 (rep->bufs_ofs[i] % UNM_CACHELINE ||
			  rep->bufs_ofs[i] < rep->ring_ofs[i] + sizeof(struct unm_ring) +
						     16ull * rep->nslots[i] ||
			  (uint64_t)rep->bufs_ofs[i] + (uint64_t)p->reg.buf_size * rep->nslots[i] >
				  rep->size))
			return unm_seterr(-EBADMSG, "%s: bad monitor ring %u buffers", p->name, i);
	e->base = mmap(NULL, rep->size, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0);
	if (e->base == MAP_FAILED) {
		e->base = NULL;
		return -errno;
	}
	e->size = rep->size;
	return 0;
}

/* Same memfd? (both ends must hand out the one pipe region) */
static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Connect end number K (TXMON: the monitored end's own TX) and append its
 * rings to reps/ends. */
static int zm_attach(struct unm_port *p, struct zm_priv *zp, const struct unm_spec *in,
		     int role, bool txmon, const struct unm_open_opts *o, struct zmon_rep *rep)
{
	struct zm_end *e = &zp->end[zp->n_ends];
	char key[ZMON_KEYLEN], err[200];
	int fds[3] = { -1, -1, -1 }, rc;

	snprintf(key, sizeof(key), "%s{%s", in->port, in->pipe_id);
	rc = zm_connect(p, zp, key, role, txmon, o->timeout_ms, rep, fds, &e->cfd);
	if (rc)
		return rc;
	zp->n_ends++;
	e->peer_efd = fds[2];
	fds[2] = -1;
	if (!unm_efd_ok(e->peer_efd))
		rc = unm_seterr(-EPROTO, "%s: the pipe end sent a bad wake fd", p->name);
	else if (!p->reg.base) {
		if ((rc = unm_region_map(fds[0], &p->reg, err, sizeof(err))) != 0)
			unm_seterr(rc, "%s: %s", p->name, err);
		else if (unm_region_hdr(&p->reg)->kind != UNM_REGION_PIPE)
			rc = unm_seterr(-EBADMSG, "%s: not a pipe region", p->name);
		else
			fds[0] = -1;
	} else if (!same_file(fds[0], p->reg.fd)) {
		rc = unm_seterr(-EBADMSG, "%s: the two pipe ends sent different regions", p->name);
	}
	if (!rc)
		rc = zm_map(p, zp, e, rep, fds[1]);
	if (!rc)
		rc = epoll_ctl(p->epfd, EPOLL_CTL_ADD, e->cfd,
			       &(struct epoll_event){ .events = EPOLLIN | EPOLLRDHUP,
						      .data.u32 = 1 + zp->n_ends - 1 }) < 0 ? -errno : 0;
	zclose(&fds[0]);
	zclose(&fds[1]);
	return rc;
}

/* Build the krings over the ends' monitor rings and a private unm_if. */
static int zm_rings(struct unm_port *p, struct zm_priv *zp, const struct zmon_rep *reps)
{
	char *pool = (char *)p->reg.base + p->reg.pool_ofs;
	struct unm_if *nifp;
	unsigned n = 0, k = 0;

	for (unsigned e = 0; e < zp->n_ends; e++)
		n += reps[e].n_rings;
	p->rx = calloc(n, sizeof(*p->rx));
	zp->rings = calloc(n, sizeof(*zp->rings));
	nifp = zp->nifp = calloc(1, sizeof(*nifp) + n * sizeof(int64_t));
	if (!p->rx || !zp->rings || !nifp)
		return -ENOMEM;
	memcpy(nifp->ni_name, p->spec.path, strnlen(p->spec.path, sizeof(nifp->ni_name) - 1));
	*(uint32_t *)&nifp->ni_version = UNM_SHM_VERSION;
	*(uint32_t *)&nifp->ni_rx_rings = n;
	for (unsigned e = 0; e < zp->n_ends; e++)
		for (unsigned i = 0; i < reps[e].n_rings; i++, k++) {
			char *b = (char *)zp->end[e].base + reps[e].ring_ofs[i];
			struct unm_ring *r = (struct unm_ring *)b;
			struct unm_kring *kr = &p->rx[k];

			kr->ring = r;
			kr->nslots = reps[e].nslots[i];
			kr->buf_size = p->reg.buf_size;
			kr->buf_ofs = zp->copy ? (char *)zp->end[e].base + reps[e].bufs_ofs[i] - b
					       : pool - b;
			kr->ringid = (uint16_t)k;
			kr->dir = 1;
			kr->priv = &zp->rings[k];
			/* our view of the shared header: fix_ring keeps it so */
			*(int64_t *)&r->buf_ofs = kr->buf_ofs;
			*(uint32_t *)&r->num_slots = kr->nslots;
			*(uint32_t *)&r->nr_buf_size = kr->buf_size;
			*(uint16_t *)&r->ringid = (uint16_t)k;
			r->head = r->cur = r->tail = 0;
			zp->rings[k].mc = (struct unm_zmon_ctl *)(b - sizeof(struct unm_zmon_ctl));
			zp->rings[k].e = &zp->end[e];
			*(int64_t *)&nifp->ring_ofs[k] = b - (char *)nifp;
		}
	p->nifp = nifp;
	p->n_tx = 0;
	p->n_rx = n;
	p->first_tx = p->last_tx = p->first_rx = 0;
	p->last_rx = n;
	return 0;
}

static int zmon_open(struct unm_port *p, const struct unm_spec *s, const struct unm_open_opts *o)
{
	unsigned dirs = s->flags & (UNM_SPEC_MON_TX | UNM_SPEC_MON_RX);
	struct zmon_rep reps[2];
	struct unm_spec in;
	struct zm_priv *zp;
	char err[200];
	int rc;

	if (unm_parse_name(s->path, &in, err, sizeof(err)) || in.kind != UNM_KIND_PIPE)
		return !(s->flags & UNM_SPEC_MON_ZCOPY) ? -ENOENT : unm_seterr(-EOPNOTSUPP, "%s: zero-copy monitors (/z) exist only for pipe "
				  "ends NAME{ID / NAME}ID; use a copy monitor (/t, /r)", p->name);
	zp = calloc(1, sizeof(*zp));
	if (!zp)
		return -ENOMEM;
	p->priv = zp;
	zp->copy = !(s->flags & UNM_SPEC_MON_ZCOPY);
	zp->end[0].cfd = zp->end[1].cfd = zp->end[0].peer_efd = zp->end[1].peer_efd = -1;
	zp->my_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (zp->my_efd < 0 || p->epfd < 0)
		return unm_seterr(-errno, "%s: %s", p->name, strerror(errno));
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, zp->my_efd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.u32 = 0 }) < 0)
		return -errno;
	if (!dirs)
		dirs = UNM_SPEC_MON_TX | UNM_SPEC_MON_RX;
	rc = 0;
	if (dirs & UNM_SPEC_MON_TX)
		rc = zm_attach(p, zp, &in, in.pipe_role, true, o, &reps[zp->n_ends]);
	if (!rc && (dirs & UNM_SPEC_MON_RX))
		rc = zm_attach(p, zp, &in, in.pipe_role == UNM_PIPE_MASTER ? UNM_PIPE_SLAVE
									    : UNM_PIPE_MASTER,
			       false, o, &reps[zp->n_ends]);
	if (!rc)
		rc = zm_rings(p, zp, reps);
	return rc; /* on failure port.c calls nothing: zmon_close via monitor_open */
}

static void zmon_close(struct unm_port *p)
{
	struct zm_priv *zp = p->priv;

	if (!zp)
		return;
	for (unsigned e = 0; e < 2; e++) {
		zclose(&zp->end[e].cfd);
		zclose(&zp->end[e].peer_efd);
		if (zp->end[e].base)
			munmap(zp->end[e].base, zp->end[e].size);
	}
	zclose(&zp->my_efd);
	free(zp->rings);
	free(zp->nifp);
	free(zp);
	p->priv = NULL;
}

/* One epoll_wait(0): notice ends that hung up, empty our eventfd. */
static void zm_service(struct unm_port *p)
{
	struct zm_priv *zp = p->priv;
	struct epoll_event ev[3];
	int n = epoll_wait(p->epfd, ev, 3, 0);
	uint64_t v;

	for (int i = 0; i < n; i++) {
		if (ev[i].data.u32 == 0) {
			if (read(zp->my_efd, &v, sizeof(v)) < 0)
				v = 0;
		} else if (ev[i].data.u32 <= zp->n_ends) {
			struct zm_end *e = &zp->end[ev[i].data.u32 - 1];

			epoll_ctl(p->epfd, EPOLL_CTL_DEL, e->cfd, NULL);
			__atomic_store_n(&e->gone, 1, __ATOMIC_RELAXED);
		}
	}
}

static int zmon_txsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	(void)p, (void)kr, (void)head;
	return -EOPNOTSUPP; /* no TX rings */
}

/* New slots [from, to): validated (they name buffers of the region). */
static void zm_check(struct unm_port *p, struct unm_kring *kr, uint32_t from, uint32_t to)
{
	struct unm_slot *s = kr->ring->slot;
	const bool copy = ((struct zm_priv *)p->priv)->copy;

	for (uint32_t i = from; i != to; i = kr_next(kr, i)) {
		uint32_t idx = UNM_READ_ONCE(s[i].buf_idx), len = UNM_READ_ONCE(s[i].len);
		bool ok = copy ? idx < kr->nslots : unm_buf_ok(p, idx);

		if (unlikely(!ok || len > kr->buf_size)) {
			if (!ok)
				p->st.bad_buf++;
			else
				p->st.bad_len++;
			s[i].buf_idx = copy ? i : 1;
			s[i].len = 0;
			len = 0;
		}
		p->st.rx_bytes += len;
		p->st.rx_frames += !(UNM_READ_ONCE(s[i].flags) & UNM_NS_MOREFRAG);
	}
}

static int zmon_rxsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct zm_ring *zr = kr->priv;
	const uint32_t ns = kr->nslots;
	uint64_t one = 1, now;
	uint32_t t, adv;
	int gone;

	if (head != kr->hwcur) {
		/* [Z3] release: done with slots (and frame data) before head;
		 * pairs with [Z4]. */
		unm_store_release(&zr->mc->m_hwcur, head);
		kr->hwcur = head;
		/* [Z7] full fence: m_hwcur before prod_need_wake; pairs with [Z8]. */
		unm_smp_mb();
		if (UNM_READ_ONCE(zr->mc->prod_need_wake) &&
		    write(zr->e->peer_efd, &one, sizeof(one)) == (ssize_t)sizeof(one))
			p->st.kicks++;
	}
	gone = __atomic_load_n(&zr->e->gone, __ATOMIC_RELAXED);
	t = unm_load_acquire(&zr->mc->m_hwtail); /* [Z2] pairs with [Z1]; untrusted */
	if (t != kr->hwtail) {
		adv = t < ns ? kr_dist(kr, kr->hwtail, t) : ns;
		if (likely(adv <= ns - 1 - kr_dist(kr, kr->hwcur, kr->hwtail))) {
			zm_check(p, kr, kr->hwtail, t);
			kr->hwtail = t;
			if (zr->armed) {
				UNM_WRITE_ONCE(zr->mc->mon_need_wake, 0);
				zr->armed = false;
			}
			return 0;
		}
		p->st.bad_ring++;
	}
	if (gone)
		return kr->hwtail == kr->hwcur ? -EPIPE : 0;
	now = unm_now_ns();
	if (now >= zr->next_check) {
		zr->next_check = now + ZMON_CHECK_NS;
		zm_service(p);
	}
	return 0;
}

static bool zmon_arm(struct unm_port *p, struct unm_kring *kr)
{
	struct zm_ring *zr = kr->priv;

	(void)p;
	if (__atomic_load_n(&zr->e->gone, __ATOMIC_RELAXED))
		return true;
	if (kr->dir == 0)
		return false;
	if (!zr->armed) {
		UNM_WRITE_ONCE(zr->mc->mon_need_wake, 1u);
		zr->armed = true;
	}
	/* [Z6] full fence: mon_need_wake before the re-read of m_hwtail;
	 * pairs with [Z5]. */
	unm_smp_mb();
	return UNM_READ_ONCE(zr->mc->m_hwtail) != kr->hwtail;
}

static int zmon_wakeup(struct unm_port *p)
{
	zm_service(p);
	return 0;
}

const struct unm_port_ops unm_zmon_ops = {
	.type = "monitor",
	.open = zmon_open,
	.txsync = zmon_txsync,
	.rxsync = zmon_rxsync,
	.arm = zmon_arm,
	.wakeup = zmon_wakeup,
	.close = zmon_close,
};
