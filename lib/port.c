// SPDX-License-Identifier: BSD-2-Clause
/*
 * port.c - the port object every port type shares: open by name through the
 * table of port types (port_types.c), generic sync (validation of head/cur, restoring the ring's
 * constant fields, notification arming), wait, inject/dispatch, info.
 *
 * Threads: each ring is synced by one thread at a time (the API contract);
 * nothing here takes a lock. The per-type work happens in the ops table
 * (pipe.c, vale.c, lib/backend/).
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/time.h>
#include <unistd.h>
#include "internal.h"

static int open_port(const char *name, int fd, struct unm_port **portp,
		     const struct unm_open_opts *uopts);

/*
 * Release a port: the type's close, then what every port has (epoll fd,
 * region, rings). The one path for unm_close and for an open that failed
 * part way: ops->close copes with whatever its open had set up (p->priv
 * NULL or partly built), so a backend's failed open only returns.
 */
static void pool_release(struct unm_port *p);

static void port_teardown(struct unm_port *p)
{
	if (p->ops && p->ops->close)
		p->ops->close(p);
	if (p->epfd >= 0)
		close(p->epfd);
	if (p->pool)
		pool_release(p);
	unm_region_unmap(&p->reg);
	free(p->tx);
	free(p->rx);
	free(p);
}

UNM_API int unm_open(const char *name, struct unm_port **portp,
		     const struct unm_open_opts *uopts)
{
	return open_port(name, -1, portp, uopts);
}

int unm_open_fd(const char *name, int fd, struct unm_port **portp,
		const struct unm_open_opts *opts)
{
	if (fd < 0)
		return unm_seterr(-EBADF, "unm_open_fd: no fd");
	return open_port(name, fd, portp, opts);
}

/* Open the port P->spec names (P allocated, its spec filled); frees P on failure. */
static int open_parsed(struct unm_port *p, const char *name, int fd, struct unm_port **portp,
		       const struct unm_open_opts *uopts)
{
	struct unm_open_opts opts;
	int rc;

	memset(&opts, 0, sizeof(opts));
	if (uopts)
		memcpy(&opts, uopts, uopts->sz < sizeof(opts) ? uopts->sz : sizeof(opts));
	opts.sz = sizeof(opts);
	p->spec.fd = fd;
	if (fd >= 0 && !(unm_port_type(p->spec.kind)->caps & UNM_TYPE_FD)) {
		char can[80];

		free(p);
		return unm_seterr(-EINVAL, "%s: this port type cannot be opened from a file "
				  "descriptor (%s can)", name,
				  unm_port_type_names(UNM_TYPE_FD, can, sizeof(can)));
	}
	/* @conf: in the name wins over the option struct. */
	unm_spec_geometry(&p->spec, &opts);
	if (opts.timeout_ms <= 0) opts.timeout_ms = 5000;

	p->ops = unm_port_type(p->spec.kind) ? unm_port_type(p->spec.kind)->ops : NULL;
	if (!p->ops) {
		rc = unm_seterr(-EPROTONOSUPPORT, "port type '%s' is not built in this libunm",
				p->spec.type[0] ? p->spec.type : "?");
		free(p);
		return rc;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	rc = p->ops->open(p, &p->spec, &opts);
	if (rc) {
		if (!unm_errmsg()[0])
			unm_seterr(rc, "%s: %s", name, strerror(-rc));
		port_teardown(p); /* whatever the open had set up, as unm_close */
		return rc;
	}
	*portp = p;
	return 0;
}

static struct unm_port *port_alloc(void)
{
	struct unm_port *p = calloc(1, sizeof(*p));

	if (p) {
		p->epfd = -1;
		p->reg.fd = -1;
	}
	return p;
}

static int open_port(const char *name, int fd, struct unm_port **portp,
		     const struct unm_open_opts *uopts)
{
	struct unm_port *p;
	char err[256];
	int rc;

	unm_clearerr();
	if (!name || !portp)
		return unm_seterr(-EINVAL, "unm_open: NULL argument");
	p = port_alloc();
	if (!p)
		return -ENOMEM;
	rc = unm_parse_name(name, &p->spec, err, sizeof(err));
	if (rc) {
		free(p);
		return unm_seterr(rc, "%s", err);
	}
	return open_parsed(p, name, fd, portp, uopts);
}

int unm_open_spec(const char *label, const struct unm_spec *spec, int fd,
		  struct unm_port **portp, const struct unm_open_opts *opts)
{
	struct unm_port *p;

	unm_clearerr();
	if (!label || !spec || !portp || !unm_port_type(spec->kind))
		return unm_seterr(-EINVAL, "unm_open_spec: bad argument");
	p = port_alloc();
	if (!p)
		return -ENOMEM;
	p->spec = *spec;
	return open_parsed(p, label, fd, portp, opts);
}

UNM_API void unm_close(struct unm_port *p)
{
	if (p)
		port_teardown(p);
}

/*
 * Take the trusted copy of one ring's geometry. The region was validated,
 * but a peer sharing it may have rewritten ring_ofs or the ring header
 * since, so everything is read once here and checked again against the
 * validated region copies before it is used.
 */
static int kring_init(struct unm_port *p, struct unm_kring *kr, int64_t rel, int tx)
{
	const struct unm_region *reg = &p->reg;
	uint64_t ifo = (uint64_t)((char *)p->nifp - (char *)reg->base);
	uint64_t ro = ifo + (uint64_t)rel;
	struct unm_ring *ring;

	if (rel < -(int64_t)ifo || ro % 64 || ro < sizeof(struct unm_region_hdr) ||
	    ro + sizeof(struct unm_ring) > reg->pool_ofs)
		return unm_seterr(-EBADMSG, "%s: ring offset %lld changed under us", p->name,
				  (long long)rel);
	ring = (struct unm_ring *)((char *)reg->base + ro);
	kr->ring = ring;
	kr->nslots = UNM_READ_ONCE(*(const uint32_t *)&ring->num_slots);
	kr->buf_size = UNM_READ_ONCE(*(const uint32_t *)&ring->nr_buf_size);
	kr->buf_ofs = UNM_READ_ONCE(*(const int64_t *)&ring->buf_ofs);
	kr->ringid = ring->ringid;
	kr->dir = tx ? 0 : 1;
	if (kr->nslots < UNM_MIN_SLOTS || kr->nslots > UNM_MAX_SLOTS ||
	    kr->buf_size != reg->buf_size ||
	    kr->buf_ofs != (int64_t)reg->pool_ofs - (int64_t)ro ||
	    ro + sizeof(struct unm_ring) + 16ull * kr->nslots > reg->pool_ofs)
		return unm_seterr(-EBADMSG, "%s: ring geometry changed under us", p->name);
	kr->hwcur = UNM_READ_ONCE(ring->head) % kr->nslots;
	kr->hwtail = UNM_READ_ONCE(ring->tail) % kr->nslots;
	return 0;
}

int unm_port_bind_rings(struct unm_port *p, struct unm_if *nifp)
{
	const struct unm_spec *s = &p->spec;

	p->nifp = nifp;
	p->n_tx = UNM_READ_ONCE(*(const uint32_t *)&nifp->ni_tx_rings);
	p->n_rx = UNM_READ_ONCE(*(const uint32_t *)&nifp->ni_rx_rings);
	if (p->n_tx < 1 || p->n_tx > UNM_MAX_RINGS || p->n_rx < 1 || p->n_rx > UNM_MAX_RINGS)
		return unm_seterr(-EBADMSG, "%s: ring counts changed under us", p->name);
	p->tx = calloc(p->n_tx, sizeof(*p->tx));
	p->rx = calloc(p->n_rx, sizeof(*p->rx));
	if (!p->tx || !p->rx)
		return -ENOMEM;
	for (unsigned i = 0; i < p->n_tx + p->n_rx; i++) {
		int tx = i < p->n_tx;
		int rc = kring_init(p, tx ? &p->tx[i] : &p->rx[i - p->n_tx],
				    UNM_READ_ONCE(*(const int64_t *)&nifp->ring_ofs[i]), tx);

		if (rc)
			return rc;
	}
	p->first_tx = 0, p->last_tx = p->n_tx;
	p->first_rx = 0, p->last_rx = p->n_rx;
	if (s->ring >= 0) {
		if ((unsigned)s->ring >= p->n_tx && (unsigned)s->ring >= p->n_rx)
			return unm_seterr(-EINVAL, "%s: ring %d does not exist (%u TX, %u RX rings)",
					  p->name, s->ring, p->n_tx, p->n_rx);
		p->first_tx = p->first_rx = (unsigned)s->ring;
		p->last_tx = (unsigned)s->ring < p->n_tx ? (unsigned)s->ring + 1 : (unsigned)s->ring;
		p->last_rx = (unsigned)s->ring < p->n_rx ? (unsigned)s->ring + 1 : (unsigned)s->ring;
	}
	if (s->flags & UNM_SPEC_RX_ONLY)
		p->last_tx = p->first_tx;
	if (s->flags & UNM_SPEC_TX_ONLY)
		p->last_rx = p->first_rx;
	p->cur_tx = p->first_tx;
	p->cur_rx = p->first_rx;
	return 0;
}

/*
 * Restore the ring's constant fields if someone sharing the region wrote
 * them: the inline helpers of unm/ring.h trust them.
 */
static inline void fix_ring(struct unm_port *p, struct unm_kring *kr)
{
	struct unm_ring *r = kr->ring;

	if (unlikely(r->num_slots != kr->nslots || r->nr_buf_size != kr->buf_size ||
		     r->buf_ofs != kr->buf_ofs)) {
		*(uint32_t *)&r->num_slots = kr->nslots;
		*(uint32_t *)&r->nr_buf_size = kr->buf_size;
		*(int64_t *)&r->buf_ofs = kr->buf_ofs;
		p->st.fixups++;
		unm_log(UNM_LOG_WARN, "%s: ring %u constant fields overwritten; restored",
			p->name, kr->ringid);
	}
}

/* head/cur are application-owned: valid iff hwcur <= head <= cur <= hwtail
 * circularly. On error reset them as netmap does (netmap_ring_reinit). */
static inline int check_head(struct unm_port *p, struct unm_kring *kr,
			     uint32_t head, uint32_t cur)
{
	uint32_t span = kr_dist(kr, kr->hwcur, kr->hwtail);

	if (likely(head < kr->nslots && cur < kr->nslots &&
		   kr_dist(kr, kr->hwcur, head) <= span &&
		   kr_dist(kr, kr->hwcur, cur) <= span &&
		   kr_dist(kr, kr->hwcur, head) <= kr_dist(kr, kr->hwcur, cur)))
		return 0;
	p->st.bad_ring++;
	unm_log(UNM_LOG_WARN, "%s: %s ring %u: head %u cur %u outside [%u, %u]; ring reset",
		p->name, kr->dir ? "RX" : "TX", kr->ringid, head, cur, kr->hwcur, kr->hwtail);
	kr->ring->head = kr->ring->cur = kr->hwcur;
	kr->ring->tail = kr->hwtail;
	return -EINVAL;
}

static void stamp(struct unm_ring *r)
{
	if (r->flags & UNM_NR_TIMESTAMP)
		gettimeofday(&r->ts, NULL);
}

static int sync_ring(struct unm_port *p, struct unm_kring *kr, int tx)
{
	struct unm_ring *r = kr->ring;
	uint32_t head = UNM_READ_ONCE(r->head);
	uint32_t cur = UNM_READ_ONCE(r->cur);
	int rc;

	fix_ring(p, kr);
	rc = check_head(p, kr, head, cur);
	if (rc)
		return rc;
	rc = tx ? p->ops->txsync(p, kr, head) : p->ops->rxsync(p, kr, head);
	if (tx)
		p->st.tx_syncs++;
	else
		p->st.rx_syncs++;
	/* The ring blocks while cur == tail: arm, then double check. */
	if (cur == kr->hwtail && p->ops->arm && rc == 0) {
		if (p->ops->arm(p, kr)) {
			int rc2 = tx ? p->ops->txsync(p, kr, head) : p->ops->rxsync(p, kr, head);

			if (rc2)
				rc = rc2;
		}
	}
	UNM_WRITE_ONCE(r->tail, kr->hwtail);
	stamp(r);
	return rc;
}

static int sync_rings(struct unm_port *p, int ring, int tx)
{
	unsigned first = tx ? p->first_tx : p->first_rx;
	unsigned last = tx ? p->last_tx : p->last_rx;
	struct unm_kring *krs = tx ? p->tx : p->rx;
	int rc = 0;

	if (unlikely(p->error) && tx)
		return p->error;
	if (ring >= 0) {
		if ((unsigned)ring < first || (unsigned)ring >= last)
			return -EINVAL;
		return sync_ring(p, &krs[ring], tx);
	}
	for (unsigned i = first; i < last; i++) {
		int r = sync_ring(p, &krs[i], tx);

		if (r && !rc)
			rc = r;
	}
	return rc;
}

UNM_API int unm_txsync(struct unm_port *p, int ring)
{
	return sync_rings(p, ring, 1);
}

UNM_API int unm_rxsync(struct unm_port *p, int ring)
{
	return sync_rings(p, ring, 0);
}

UNM_API int unm_fd(const struct unm_port *p)
{
	return p->epfd;
}

static unsigned ready_events(const struct unm_port *p, unsigned events)
{
	unsigned ready = 0;

	if (events & UNM_WAIT_RX)
		for (unsigned i = p->first_rx; i < p->last_rx; i++)
			if (p->rx[i].ring->cur != p->rx[i].hwtail) {
				ready |= UNM_WAIT_RX;
				break;
			}
	if (events & UNM_WAIT_TX)
		for (unsigned i = p->first_tx; i < p->last_tx; i++)
			if (p->tx[i].ring->cur != p->tx[i].hwtail) {
				ready |= UNM_WAIT_TX;
				break;
			}
	return ready;
}

UNM_API int unm_wait(struct unm_port *p, unsigned events, int timeout_ms)
{
	uint64_t deadline = timeout_ms > 0 ? unm_now_ns() + (uint64_t)timeout_ms * 1000000ull : 0;

	for (;;) {
		int rc = 0, r;
		unsigned ready;

		if (events & UNM_WAIT_TX) {
			r = unm_txsync(p, UNM_RING_ALL);
			if (r && r != -EINVAL)
				rc = r;
		}
		if (events & UNM_WAIT_RX) {
			r = unm_rxsync(p, UNM_RING_ALL);
			if (r && r != -EINVAL)
				rc = r;
		}
		ready = ready_events(p, events);
		if (ready)
			return (int)ready;
		if (rc)
			return rc;
		if (timeout_ms == 0)
			return 0;

		int wait = -1;

		if (timeout_ms > 0) {
			uint64_t now = unm_now_ns();

			if (now >= deadline)
				return 0;
			wait = (int)((deadline - now + 999999) / 1000000);
		}
		if (p->epfd >= 0) {
			struct epoll_event ev[4];
			int n = epoll_wait(p->epfd, ev, 4, wait);

			if (n < 0)
				return -errno;
			if (n > 0) {
				p->st.wakeups++;
				r = 0;
				if (p->ops->woke && n < (int)(sizeof(ev) / sizeof(ev[0])))
					r = p->ops->woke(p, ev, n);
				else if (p->ops->wakeup)
					r = p->ops->wakeup(p);
				if (r)
					return r;
			}
		} else {
			usleep(wait < 0 || wait > 1 ? 1000 : (useconds_t)wait * 1000);
		}
	}
}

/*
 * Per-ring wait. The port has one notification fd for all its rings, and
 * whichever thread drains it (ops->wakeup, or a ring's arm in its spin or
 * arm phase) may take a wake-up meant for another ring's thread. So no
 * thread sleeps longer than UNM_RING_WAIT_SLICE_MS before re-syncing its
 * own ring: a stolen wake-up costs at most one slice of latency, never a
 * hang. Several threads may poll() the same epoll fd at once.
 */
#define UNM_RING_WAIT_SLICE_MS 1

/* Before the first poll, re-sync for this long, yielding the CPU between
 * attempts: a busy stream's next batch is usually microseconds away, and
 * with more threads than CPUs the yield lets the peer thread produce it;
 * without the spin, stolen wake-ups cost whole slices. A longer spin
 * gains nothing and an idle waiter costs the same either way
 * (bench/NOTES.md). Same figure as the pipe's spin phase. */
#define UNM_RING_WAIT_SPIN_NS 50000ull

UNM_API int unm_ring_wait(struct unm_port *p, int tx, unsigned ring, int timeout_ms)
{
	unsigned first = tx ? p->first_tx : p->first_rx, last = tx ? p->last_tx : p->last_rx;
	struct unm_kring *kr;
	uint64_t deadline = timeout_ms > 0 ? unm_now_ns() + (uint64_t)timeout_ms * 1000000ull : 0;
	uint64_t spin_end;

	if (ring < first || ring >= last)
		return -EINVAL;
	kr = tx ? &p->tx[ring] : &p->rx[ring];
	spin_end = timeout_ms ? unm_now_ns() + UNM_RING_WAIT_SPIN_NS : 0;
	for (;;) {
		int rc = sync_rings(p, (int)ring, tx), slice = UNM_RING_WAIT_SLICE_MS;

		if (kr->ring->cur != kr->hwtail)
			return 1;
		if (rc && rc != -EINVAL)
			return rc;
		if (timeout_ms == 0)
			return 0;
		if (unm_now_ns() < spin_end) {
			sched_yield();
			continue;
		}
		if (timeout_ms > 0) {
			uint64_t now = unm_now_ns();

			if (now >= deadline)
				return 0;
			if (deadline - now < 1000000ull * UNM_RING_WAIT_SLICE_MS)
				slice = (int)((deadline - now + 999999) / 1000000);
		}
		if (p->epfd >= 0) {
			struct pollfd pfd = { .fd = p->epfd, .events = POLLIN };
			int n = poll(&pfd, 1, slice);

			if (n < 0)
				return -errno;
			if (n > 0) {
				__atomic_fetch_add(&p->st.wakeups, 1, __ATOMIC_RELAXED);
				if (p->ops->wakeup) {
					rc = p->ops->wakeup(p);
					if (rc)
						return rc;
				}
			}
		} else {
			usleep((useconds_t)slice * 1000);
		}
	}
}

UNM_API struct unm_if *unm_nifp(const struct unm_port *p)
{
	return p->nifp;
}

UNM_API struct unm_ring *unm_ring_get(const struct unm_port *p, int tx, unsigned i)
{
	if (tx)
		return i >= p->first_tx && i < p->last_tx ? p->tx[i].ring : NULL;
	return i >= p->first_rx && i < p->last_rx ? p->rx[i].ring : NULL;
}

UNM_API int unm_wakeup(struct unm_port *p)
{
	__atomic_fetch_add(&p->st.wakeups, 1, __ATOMIC_RELAXED);
	return p->ops->wakeup ? p->ops->wakeup(p) : 0;
}

UNM_API int unm_port_mem(const struct unm_port *p, void **base, size_t *size)
{
	if (!p)
		return -EINVAL;
	if (base)
		*base = p->reg.base;
	if (size)
		*size = p->reg.size;
	return 0;
}

UNM_API int unm_port_info(const struct unm_port *p, struct unm_port_info *uinfo)
{
	struct unm_port_info info;
	const struct unm_region_hdr *h;

	if (!p || !uinfo || uinfo->sz == 0)
		return -EINVAL;
	memset(&info, 0, sizeof(info));
	info.sz = sizeof(info);
	snprintf(info.name, sizeof(info.name), "%s", p->name);
	snprintf(info.type, sizeof(info.type), "%s", p->ops->type);
	info.tx_rings = p->n_tx;
	info.rx_rings = p->n_rx;
	info.first_tx = p->first_tx, info.last_tx = p->last_tx;
	info.first_rx = p->first_rx, info.last_rx = p->last_rx;
	info.tx_slots = p->n_tx ? p->tx[0].nslots : 0;
	info.rx_slots = p->n_rx ? p->rx[0].nslots : 0;
	if (p->reg.base) {
		h = unm_region_hdr(&p->reg);
		info.buf_size = h->buf_size;
		info.buf_count = p->pool ? p->reg.buf_count : h->buf_count;
		info.vnet_hdr_len = h->vnet_hdr_len;
		info.mtu = p->mtu ? p->mtu : h->mtu;
		memcpy(info.mac, h->mac, 6);
		info.mem_size = p->reg.size;
	}
	if (p->ops->info)
		p->ops->info(p, &info);
	memcpy(uinfo, &info, uinfo->sz < sizeof(info) ? uinfo->sz : sizeof(info));
	uinfo->sz = uinfo->sz < sizeof(info) ? uinfo->sz : sizeof(info);
	return 0;
}

UNM_API int unm_port_stats(const struct unm_port *p, struct unm_port_stats *st)
{
	size_t n;

	if (!p || !st || st->sz == 0)
		return -EINVAL;
	n = st->sz < sizeof(p->st) ? st->sz : sizeof(p->st);
	memcpy(st, &p->st, n);
	st->sz = n;
	return 0;
}

/*
 * inject/dispatch run on the application's side of the rings, but the
 * rings are shared: a pipe peer may rewrite head, tail or slots at any
 * time. Both work from the kring's private copies (hwcur/hwtail, nslots,
 * buf_size) and check every buffer index before turning it into an
 * address.
 */
UNM_API int unm_inject(struct unm_port *p, const void *buf, size_t len)
{
	unsigned nr = p->last_tx - p->first_tx;

	if (nr == 0)
		return -EINVAL;
	if (len > UNM_MAX_FRAME)
		return -EMSGSIZE;
	for (int attempt = 0; attempt < 2; attempt++) {
		for (unsigned k = 0; k < nr; k++) {
			unsigned ri = p->first_tx + (p->cur_tx - p->first_tx + k) % nr;
			struct unm_kring *kr = &p->tx[ri];
			struct unm_ring *r = kr->ring;
			uint32_t bs = kr->buf_size;
			uint32_t need = len ? (uint32_t)((len + bs - 1) / bs) : 1;
			uint32_t head = UNM_READ_ONCE(r->head);
			uint32_t i;
			size_t off = 0;

			if (need > UNM_MAX_FRAGS)
				return -EMSGSIZE;
			if (head >= kr->nslots ||
			    kr_dist(kr, kr->hwcur, head) > kr_dist(kr, kr->hwcur, kr->hwtail))
				return -EINVAL;
			if (kr_dist(kr, head, kr->hwtail) < need)
				continue;
			i = head;
			do {
				struct unm_slot *s = &r->slot[i];
				uint32_t idx = UNM_READ_ONCE(s->buf_idx);
				size_t n = len - off > bs ? bs : len - off;

				if (!unm_buf_ok(p, idx))
					return -EIO;
				memcpy(kr_buf(kr, idx), (const char *)buf + off, n);
				s->len = (uint16_t)n;
				off += n;
				s->flags = off < len ? UNM_NS_MOREFRAG : 0;
				i = kr_next(kr, i);
			} while (off < len);
			r->cur = i;
			unm_store_release(&r->head, i);
			p->cur_tx = ri;
			return (int)len;
		}
		if (attempt == 0) {
			int rc = unm_txsync(p, UNM_RING_ALL);

			if (rc && rc != -EINVAL)
				return rc;
		}
	}
	return 0;
}

UNM_API int unm_dispatch(struct unm_port *p, int cnt, unm_frame_cb cb, void *arg)
{
	unsigned nr = p->last_rx - p->first_rx;
	int got = 0, rc;

	if (nr == 0)
		return -EINVAL;
	rc = unm_rxsync(p, UNM_RING_ALL);
	if (rc && rc != -EPIPE)
		return rc;
	for (unsigned k = 0; k < nr && (cnt <= 0 || got < cnt); k++) {
		unsigned ri = p->first_rx + (p->cur_rx - p->first_rx + k) % nr;
		struct unm_kring *kr = &p->rx[ri];
		struct unm_ring *r = kr->ring;
		uint32_t i = kr->hwcur; /* == head after the sync above */

		while (i != kr->hwtail && (cnt <= 0 || got < cnt)) {
			struct unm_slot s = r->slot[i]; /* one snapshot */

			if (unm_buf_ok(p, s.buf_idx) && s.len <= kr->buf_size) {
				cb(arg, (const uint8_t *)kr_buf(kr, s.buf_idx), s.len, &r->slot[i]);
				got++;
			} else {
				p->st.drops++;
			}
			/* skip the rest of a MOREFRAG chain */
			while ((UNM_READ_ONCE(r->slot[i].flags) & UNM_NS_MOREFRAG) &&
			       kr_next(kr, i) != kr->hwtail)
				i = kr_next(kr, i);
			i = kr_next(kr, i);
		}
		r->head = r->cur = i;
		if (got)
			p->cur_rx = ri;
	}
	if (got)
		unm_rxsync(p, UNM_RING_ALL);
	else if (rc)
		return rc;
	return got;
}

int unm_port_watch(struct unm_port *p, int fd, uint32_t events, uint32_t tag)
{
	struct epoll_event ev = { .events = events, .data.u32 = tag };

	if (p->epfd < 0)
		p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0 || epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return unm_seterr(-errno, "%s: epoll: %s", p->ops->type, strerror(errno));
	return 0;
}

int unm_port_gone(struct unm_port *p, const char *ifname)
{
	if (!p->error) {
		p->error = -ENXIO;
		unm_seterr(-ENXIO, "%s: interface '%s' went away", p->ops->type, ifname);
		unm_log(UNM_LOG_ERR, "%s: interface '%s' went away; port errored",
			p->ops->type, ifname);
	}
	return p->error;
}

/* Give back the buffers P's slots hold now (a pooled port: its rings are
 * this process's own, and whatever the application swapped in came from
 * the same pool), then P's reference. */
static void pool_release(struct unm_port *p)
{
	unsigned bad = 0;

	for (unsigned i = 0; p->tx && p->rx && i < p->n_tx + p->n_rx; i++) {
		struct unm_kring *kr = i < p->n_tx ? &p->tx[i] : &p->rx[i - p->n_tx];
		uint32_t idx[256], n = 0;

		for (uint32_t s = 0; kr->ring && s < kr->nslots; s++) {
			idx[n++] = kr->ring->slot[s].buf_idx;
			if (n == 256 || s + 1 == kr->nslots) {
				bad += unm_bufpool_give(p->pool, idx, n);
				n = 0;
			}
		}
	}
	if (bad)
		unm_log(UNM_LOG_WARN, "%s: %u slot buffers at close were not the pool's "
			"(lost, not reused)", p->name, bad);
	unm_bufpool_put(p->pool);
	p->pool = NULL;
}

/* Point every ring of P (just bound, own region) at the shared pool
 * p->spec.pool: each slot gets a buffer taken from it. On failure the
 * port keeps its own buffers (and copies) and nothing is taken. */
static void pool_adopt(struct unm_port *p, const struct unm_open_opts *o)
{
	struct unm_bufpool *bp;
	uint64_t n = 0;
	uint32_t *idx, k = 0;

	if (o->extra_bufs || !(unm_port_type(p->spec.kind)->caps & UNM_TYPE_SWAP))
		return;
	for (unsigned i = 0; i < p->n_tx + p->n_rx; i++)
		n += i < p->n_tx ? p->tx[i].nslots : p->rx[i - p->n_tx].nslots;
	if (!(bp = unm_bufpool_get(p->spec.pool, p->reg.buf_size)))
		return;
	if (!(idx = malloc(n * sizeof(*idx))) || unm_bufpool_take(bp, idx, (uint32_t)n)) {
		unm_log(UNM_LOG_INFO, "%s: shared buffer pool %s full: own buffers", p->name,
			p->spec.pool);
		free(idx);
		unm_bufpool_put(bp);
		return;
	}
	for (unsigned i = 0; i < p->n_tx + p->n_rx; i++) {
		struct unm_kring *kr = i < p->n_tx ? &p->tx[i] : &p->rx[i - p->n_tx];

		kr->buf_ofs = unm_bufpool_base(bp) - (char *)kr->ring;
		*(int64_t *)&kr->ring->buf_ofs = kr->buf_ofs;
		for (uint32_t s = 0; s < kr->nslots; s++)
			kr->ring->slot[s].buf_idx = idx[k++];
	}
	free(idx);
	p->reg.buf_count = unm_bufpool_count(bp);
	p->pool = bp;
}

int unm_port_create_self(struct unm_port *p, const struct unm_open_opts *o,
			 unsigned mtu, const uint8_t mac[6])
{
	struct unm_region_layout l;
	char err[200];
	int rc;

	unm_region_layout_init(&l, UNM_REGION_SELF, p->spec.port[0] ? p->spec.port : p->spec.type, o);
	l.mtu = mtu;
	p->mtu = mtu;
	if (mac)
		memcpy(l.mac, mac, 6);
	rc = unm_region_create(&l, &p->reg, err, sizeof(err));
	if (rc)
		return unm_seterr(rc, "%s: %s", p->name, err);
	rc = unm_port_bind_rings(p, unm_region_if(&p->reg, 0));
	if (!rc && p->spec.pool[0])
		pool_adopt(p, o);
	return rc;
}
