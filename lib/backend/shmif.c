// SPDX-License-Identifier: BSD-2-Clause
/*
 * shmif.c - port type "shmif:PATH": a port on a NetBSD-compatible shmif bus
 * file (see shmif_bus.h), so unetmap applications and rump kernels share
 * one unprivileged Ethernet segment.
 *
 * The port has a private region with 1 TX and 1 RX ring (more are not
 * offered: the bus is one queue). txsync writes every frame of
 * [hwcur, head) to the bus (MOREFRAG chains joined into one record),
 * then wakes the readers with one pwrite; all TX slots complete at once.
 * rxsync copies new bus records into the free RX slots (a frame larger
 * than a buffer becomes a MOREFRAG chain). Frames outside 14..1514 bytes
 * are not sent (counted in drops). MAC: b2:a0:xx:xx:xx:xx, random per open
 * (as NetBSD's allocif), MTU 1500, both in unm_port_info().
 *
 * Receive filter (NetBSD's): frames to the port's MAC, to group addresses,
 * or anything when promiscuous; own frames (same sender id) never. A
 * userspace port is promiscuous by default.
 *
 * Options (environment, read at open):
 *   UNM_SHMIF_PROMISC=0        not promiscuous: unicast only to our MAC
 *   UNM_SHMIF_POLL_MS=N        timed re-check of the bus while a waiter
 *                              sleeps (default 100 ms; 0 = inotify only)
 *   UNM_SHMIF_LOCK_STEAL_MS=N  take over a bus lock held longer than N ms
 *                              (default: never; give up after 2 s instead)
 *
 * Wake-ups: unm_fd() is an epoll set holding an inotify IN_MODIFY watch on
 * the bus file (raised by every writer's wake-up pwrite) and a one-shot
 * timerfd armed when a ring blocks. arm() drains both, re-arms the timer,
 * then re-checks the bus (double check: an event after the re-check leaves
 * the inotify fd readable).
 *
 * Threads: TX and RX may be synced by two threads; they share the bus
 * (lock word, fd) and the counters (struct unm_port's and the bus's, which
 * are then approximate), as every port type. One thread per port is exact.
 *
 * Counters: overruns -> drops (each one a lap: an unknown number of frames
 * lost); malformed bus values -> bad_len; frames not sent (size outside
 * 14..1514, bad slot, lock timeout) -> drops. Bus-level detail through
 * unm_shmif_port_stats() (shmif_bus.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "internal.h"
#include "backend/shmif_bus.h"

#define SHMIF_MTU        1500
#define TX_FRAMES_PER_LOCK 64  /* let readers in between frames of a batch */
#define RX_FRAMES_PER_LOCK 64
#define RX_SKIP_BUDGET   256   /* extra rx_next calls per sync (skips) */

struct shmif_port {
	struct shmif_bus bus;
	int ino_fd, timer_fd;
	bool timer_armed;
	bool promisc;
	unsigned poll_ms;
	uint8_t mac[6];
	uint64_t filtered;     /* frames not for us (not promiscuous) */
	struct shmif_bus_stats folded; /* bus counters already added to p->st */
};

static unsigned env_uint(const char *name, unsigned dflt)
{
	const char *v = getenv(name);
	char *end;
	unsigned long n;

	if (!v || !*v)
		return dflt;
	n = strtoul(v, &end, 10);
	return *end || n > 3600000 ? dflt : (unsigned)n;
}

/* Add what the bus counted since the last call to the port counters. */
static void fold_stats(struct unm_port *p, struct shmif_port *sp)
{
	const struct shmif_bus_stats *n = &sp->bus.st;
	struct shmif_bus_stats *o = &sp->folded;

	/* lock timeouts are not added: txsync counts each frame it drops */
	p->st.drops += n->overruns - o->overruns;
	p->st.bad_len += (n->bad_hdr - o->bad_hdr) + (n->bad_rec - o->bad_rec) +
			 (n->bad_chain - o->bad_chain);
	*o = *n;
}

static void shmif_close(struct unm_port *p)
{
	struct shmif_port *sp = p->priv;

	if (!sp)
		return;
	unm_shmif_bus_close(&sp->bus);
	if (sp->ino_fd >= 0)
		close(sp->ino_fd);
	if (sp->timer_fd >= 0)
		close(sp->timer_fd);
	free(sp);
	p->priv = NULL;
}

static int epoll_add(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int shmif_setup_wait(struct unm_port *p, struct shmif_port *sp, const char *path)
{
	sp->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (sp->ino_fd < 0)
		return unm_seterr(-errno, "shmif %s: inotify_init1: %s", path, strerror(errno));
	if (inotify_add_watch(sp->ino_fd, path, IN_MODIFY) < 0)
		return unm_seterr(-errno, "shmif %s: inotify_add_watch: %s", path, strerror(errno));
	sp->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (sp->timer_fd < 0)
		return unm_seterr(-errno, "shmif %s: timerfd_create: %s", path, strerror(errno));
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0)
		return unm_seterr(-errno, "shmif %s: epoll_create1: %s", path, strerror(errno));
	if (epoll_add(p->epfd, sp->ino_fd) || epoll_add(p->epfd, sp->timer_fd))
		return unm_seterr(-errno, "shmif %s: epoll_ctl: %s", path, strerror(errno));
	return 0;
}

static int shmif_open(struct unm_port *p, const struct unm_spec *s,
		      const struct unm_open_opts *o)
{
	struct unm_open_opts oo = *o;
	struct shmif_port *sp;
	uint32_t r;
	char err[400], wpath[UNM_PATH_MAX + 32];
	int rc;

	if (o->vnet_hdr_len)
		return unm_seterr(-EINVAL, "%s: shmif ports carry no virtio-net header", p->name);
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	sp->ino_fd = sp->timer_fd = -1;
	p->priv = sp;
	/* NetBSD allocif: b2:a0 and 32 random bits. */
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)unm_now_ns() ^ (uint32_t)getpid();
	sp->mac[0] = 0xb2;
	sp->mac[1] = 0xa0;
	memcpy(sp->mac + 2, &r, 4);
	sp->promisc = env_uint("UNM_SHMIF_PROMISC", 1) != 0;
	sp->poll_ms = env_uint("UNM_SHMIF_POLL_MS", 100);

	if (s->fd >= 0) {
		/* handed over: the opener's rights, not ours, decided */
		int fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);

		if (fd < 0) {
			rc = unm_seterr(-errno, "shmif %s: dup: %s", s->path, strerror(errno));
			goto fail;
		}
		rc = unm_shmif_bus_open_fd(&sp->bus, fd, s->path, err, sizeof(err));
		snprintf(wpath, sizeof(wpath), "/proc/self/fd/%d", fd);
	} else {
		rc = unm_shmif_bus_open(&sp->bus, s->path, err, sizeof(err));
		snprintf(wpath, sizeof(wpath), "%s", s->path);
	}
	if (rc) {
		unm_seterr(rc, "%s", err);
		goto fail;
	}
	sp->bus.lock_steal_ns = (uint64_t)env_uint("UNM_SHMIF_LOCK_STEAL_MS", 0) * 1000000ull;
	/* The bus is one queue: one ring pair, whatever was asked. */
	oo.tx_rings = oo.rx_rings = 1;
	rc = unm_port_create_self(p, &oo, SHMIF_MTU, sp->mac);
	if (rc)
		goto fail;
	rc = shmif_setup_wait(p, sp, wpath);
	if (rc)
		goto fail;
	return 0;
fail: /* unm_open tears the rest down (port_teardown, as unm_close) */
	return rc;
}

/* Validate the slots of one frame (a MOREFRAG chain from slot *I) and
 * gather them into IOV. Returns the frame length, or -1 (bad slot, too
 * many fragments or a chain cut by head: counted). *I moves past it. */
static long gather(struct unm_port *p, struct unm_kring *kr, uint32_t *i, uint32_t head,
		   struct iovec *iov, int *iovcnt)
{
	long len = 0;
	bool bad = false, more;
	int n = 0;

	do {
		struct unm_slot *sl = &kr->ring->slot[*i];
		uint32_t idx = UNM_READ_ONCE(sl->buf_idx);
		uint16_t slen = UNM_READ_ONCE(sl->len);

		more = UNM_READ_ONCE(sl->flags) & UNM_NS_MOREFRAG;
		*i = kr_next(kr, *i);
		if (!unm_buf_ok(p, idx)) {
			p->st.bad_buf++;
			bad = true;
		} else if (slen > kr->buf_size) {
			p->st.bad_len++;
			bad = true;
		} else if (n == UNM_MAX_FRAGS) {
			bad = true;
		} else if (!bad) {
			iov[n].iov_base = kr_buf(kr, idx);
			iov[n++].iov_len = slen;
			len += slen;
		}
	} while (more && *i != head);
	if (more) /* chain not finished before head */
		bad = true;
	*iovcnt = n;
	return bad ? -1 : len;
}

static int shmif_txsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct shmif_port *sp = p->priv;
	struct iovec iov[UNM_MAX_FRAGS];
	unsigned sent = 0, in_lock = 0;
	bool locked = false, lock_failed = false;
	struct timeval tv;
	int rc = 0;

	gettimeofday(&tv, NULL);
	for (uint32_t i = kr->hwcur; i != head;) {
		int iovcnt;
		long len = gather(p, kr, &i, head, iov, &iovcnt);

		if (len < SHMIF_MIN_FRAME || len > SHMIF_MAX_FRAME || lock_failed) {
			p->st.drops++;
			continue;
		}
		if (!locked) {
			if (unm_shmif_bus_lock(&sp->bus)) {
				lock_failed = true;
				rc = -ETIMEDOUT;
				p->st.drops++;
				continue;
			}
			locked = true;
		}
		if (unm_shmif_bus_write(&sp->bus, iov, iovcnt, (uint32_t)len, (uint32_t)tv.tv_sec,
				    (uint32_t)tv.tv_usec) == 0) {
			p->st.tx_frames++;
			p->st.tx_bytes += (uint64_t)len;
			sent++;
		} else {
			p->st.drops++;
		}
		if (++in_lock == TX_FRAMES_PER_LOCK) {
			unm_shmif_bus_unlock(&sp->bus);
			locked = false;
			in_lock = 0;
		}
	}
	if (locked)
		unm_shmif_bus_unlock(&sp->bus);
	if (sent && unm_shmif_bus_wakeup(&sp->bus) == 0)
		p->st.kicks++;
	kr->hwcur = head;
	kr->hwtail = head == 0 ? kr->nslots - 1 : head - 1;
	fold_stats(p, sp);
	return rc;
}

/* Receive filter (NetBSD shmif_rcv): our MAC, group bit, or promiscuous. */
static bool rx_wanted(struct shmif_port *sp, const struct shmif_rec *rec)
{
	uint8_t dst[6];

	if (sp->promisc)
		return true;
	unm_shmif_bus_rx_copy(&sp->bus, rec, 0, dst, sizeof(dst));
	return (dst[0] & 1) || !memcmp(dst, sp->mac, 6);
}

/* Copy REC into the RX slots from *J (all K of them are free). Returns
 * false (frame dropped, slots untouched) if one has a bad buffer index. */
static bool rx_fill(struct unm_port *p, struct unm_kring *kr, struct shmif_port *sp,
		    const struct shmif_rec *rec, uint32_t *j, uint32_t k)
{
	uint32_t i = *j, from = 0;

	for (uint32_t n = 0; n < k; n++, i = kr_next(kr, i))
		if (!unm_buf_ok(p, UNM_READ_ONCE(kr->ring->slot[i].buf_idx))) {
			p->st.bad_buf++;
			return false;
		}
	for (uint32_t n = 0; n < k; n++) {
		struct unm_slot *sl = &kr->ring->slot[*j];
		uint32_t c = rec->len - from < kr->buf_size ? rec->len - from : kr->buf_size;

		unm_shmif_bus_rx_copy(&sp->bus, rec, from, kr_buf(kr, sl->buf_idx), c);
		from += c;
		sl->len = (uint16_t)c;
		sl->flags = n + 1 < k ? UNM_NS_MOREFRAG : 0;
		*j = kr_next(kr, *j);
	}
	return true;
}

static int shmif_rxsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct shmif_port *sp = p->priv;
	uint32_t nfree, j = kr->hwtail;
	unsigned budget, in_lock = 0;
	struct shmif_rec rec;
	bool locked = false;

	kr->hwcur = head; /* release [old hwcur, head) */
	nfree = kr->nslots - 1 - kr_dist(kr, kr->hwcur, kr->hwtail);
	budget = nfree + RX_SKIP_BUDGET;
	while (nfree > 0 && budget-- > 0) {
		int r;

		if (!locked) {
			if (unm_shmif_bus_lock(&sp->bus))
				break;
			locked = true;
		}
		r = unm_shmif_bus_rx_next(&sp->bus, &rec);
		if (r == SHMIF_RX_SKIP)
			continue;
		if (r != SHMIF_RX_FRAME)
			break;
		if (!rx_wanted(sp, &rec)) {
			sp->filtered++;
			unm_shmif_bus_rx_consume(&sp->bus, &rec);
			continue;
		}
		uint32_t k = (rec.len + kr->buf_size - 1) / kr->buf_size;

		if (k > nfree)
			break; /* left on the bus for the next sync */
		if (rx_fill(p, kr, sp, &rec, &j, k)) {
			nfree -= k;
			p->st.rx_frames++;
			p->st.rx_bytes += rec.len;
		} else {
			p->st.drops++;
		}
		unm_shmif_bus_rx_consume(&sp->bus, &rec);
		if (++in_lock == RX_FRAMES_PER_LOCK) {
			unm_shmif_bus_unlock(&sp->bus);
			locked = false;
			in_lock = 0;
		}
	}
	if (locked)
		unm_shmif_bus_unlock(&sp->bus);
	kr->hwtail = j;
	fold_stats(p, sp);
	return 0;
}

static void drain(struct shmif_port *sp)
{
	char buf[4096] __attribute__((aligned(8)));
	uint64_t ticks;

	/* Bounded: the fd is non-blocking and a read takes many events. */
	for (int i = 0; i < 64 && read(sp->ino_fd, buf, sizeof(buf)) > 0; i++)
		;
	if (read(sp->timer_fd, &ticks, sizeof(ticks)) == sizeof(ticks))
		sp->timer_armed = false;
}

static bool shmif_arm(struct unm_port *p, struct unm_kring *kr)
{
	struct shmif_port *sp = p->priv;

	if (kr->dir == 0)
		return false; /* TX completes inside txsync: never waits */
	drain(sp);
	if (sp->poll_ms && !sp->timer_armed) {
		struct itimerspec its = {
			.it_value = { .tv_sec = sp->poll_ms / 1000,
				      .tv_nsec = (long)(sp->poll_ms % 1000) * 1000000 },
		};

		if (timerfd_settime(sp->timer_fd, 0, &its, NULL) == 0)
			sp->timer_armed = true;
	}
	/* Double check after draining: a write after this point leaves
	 * the inotify fd readable. */
	return unm_shmif_bus_pending(&sp->bus);
}

static int shmif_wakeup(struct unm_port *p)
{
	drain(p->priv);
	return 0;
}

const struct unm_port_ops unm_shmif_ops = {
	.type = "shmif",
	.open = shmif_open,
	.txsync = shmif_txsync,
	.rxsync = shmif_rxsync,
	.arm = shmif_arm,
	.wakeup = shmif_wakeup,
	.close = shmif_close,
};

/* For tests: the bus counters and the filtered count of a shmif port. */
int unm_shmif_port_stats(const struct unm_port *p, struct shmif_bus_stats *st,
			 uint64_t *filtered, uint64_t *sender)
{
	const struct shmif_port *sp;

	if (!p || p->ops != &unm_shmif_ops)
		return -EINVAL;
	sp = p->priv;
	if (st)
		*st = sp->bus.st;
	if (filtered)
		*filtered = sp->filtered;
	if (sender)
		*sender = sp->bus.sender;
	return 0;
}
