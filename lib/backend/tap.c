// SPDX-License-Identifier: BSD-2-Clause
/*
 * tap.c - the embedded tap port, "tap:IFNAME": the application's own
 * process reads and writes a Linux tap device through /dev/net/tun.
 *
 * Owns: one /dev/net/tun file descriptor per bound ring pair ("queue"),
 * attached with IFF_TAP | IFF_NO_PI (and IFF_MULTI_QUEUE when the port has
 * more than one ring pair, so queue i serves TX ring i and RX ring i), and
 * the port's epoll fd, on which every queue fd is registered.
 *
 * Device life: if IFNAME does not exist, TUNSETIFF creates it; we do not
 * make it persistent, so the kernel deletes it when our last queue fd is
 * closed (unm_close()). We also bring a device we created up (IFF_UP): a
 * port that passes no traffic until someone runs "ip link set up" only
 * surprises. An existing device (persistent, or held by another process in
 * multi-queue mode) is attached to and left as it was, up or down.
 *
 * virtio-net header and offloads: with @conf:vnet=10 or 12 the device gets
 * IFF_VNET_HDR and TUNSETVNETHDRSZ, and the header travels as the first
 * vnet_hdr_len bytes of the first slot of every frame. TUNSETOFFLOAD then
 * turns on what our side accepts (tap_set_offload()): TUN_F_CSUM, TSO4,
 * TSO6, TSO_ECN, and USO4/USO6 when the kernel knows them (tried, then
 * retried without), so Linux hands us partially checksummed frames and TCP
 * (and UDP) GSO frames of up to ~64 KiB, and takes the same back. RX reads
 * such a frame into a MOREFRAG chain of up to max_iov slots with one
 * readv; the kernel's header is trusted and only counted (gso_rx_frames).
 * TX validates every header the application wrote with unm_vnet_parse()
 * before the kernel sees it, and hands the kernel a private copy of the
 * validated header (iovec 0), not the shared bytes, so the application
 * cannot change it between the check and the kernel's read; a bad header
 * is a drop counted in drops and vnet_drops (reason logged at DEBUG).
 *
 * Data path: tap moves one frame per read()/write() system call, so a sync
 * loops over the batch, one syscall per frame and no other per-frame cost
 * (no allocation, no copy in userspace: readv/writev go straight to the
 * slot buffers, a MOREFRAG chain is one writev; a received frame larger
 * than one buffer lands in consecutive slots through one readv).
 * TX uses raw io_uring when the kernel offers it (no liburing): one
 * io_uring_enter submits up to 128 unlinked IORING_OP_WRITE(V)s and waits
 * for all of them (tun writes complete inline, so the sync stays
 * synchronous): fewer system calls per frame, a higher frame rate
 * (bench/tap_iouring.c; figures in bench/NOTES.md). Linking the SQEs
 * (IOSQE_IO_LINK) loses most of the gain, so they are not linked: a write that fails with
 * EAGAIN while a later one succeeds is counted as a drop (tun practically
 * never returns EAGAIN on write). RX stays one read() per frame: unlinked
 * reads could fill slots out of order around an EAGAIN, and linked ones
 * stop at the first frame shorter than the buffer (every frame is).
 * Without io_uring (sysctl kernel.io_uring_disabled, seccomp) TX falls
 * back to write().
 *
 * TX completes synchronously: when write() returns the kernel has copied
 * the frame, so txsync hands the slots straight back (tail = hwcur - 1).
 *
 * TX writer thread (UNM_OPEN_TAP_TX_THREAD, or UNM_TAP_TX_THREAD=1 in the
 * environment): a write into a tun device costs the writer the kernel's copy
 * of the frame and, inside the same call, the receiving stack's whole
 * work on it (tun hands the skb to netif_rx and the softirq runs as the
 * call returns): for a 64 KiB TSO frame of a TCP stream that is the
 * receiver's TCP processing. On the thread that also serves a switch it
 * serialises all of that onto one CPU. With the option each TX queue gets
 * its own thread: txsync validates and describes the frames (no system
 * call), the thread writes them in ring order (writev per frame) and the
 * slots come back as it finishes them (tail trails hwcur: TX completes
 * asynchronously, as a NIC's does). A full ring waits on an eventfd the
 * thread signals (arm/wakeup); the thread sleeps on another after a short
 * spin. Closing the port writes what was handed over before the thread
 * exits. UNM_TAP_TX_THREAD=0/1 in the environment overrides the flag.
 *
 * Notifications: level-triggered epoll on the queue fds. arm() adds EPOLLIN
 * (RX ring empty) or EPOLLOUT (a write returned EAGAIN) to the queue's
 * registration; level triggering means an event that arrived before the
 * registration is still reported, so no double check is needed. Stale
 * registrations are removed lazily in wakeup() (one epoll_ctl per change,
 * none in steady state). EPOLLERR is always reported: tun reports it once
 * the device is gone, and wakeup() turns it into -ENXIO.
 *
 * Device deleted while open ("ip link del"): read/write return EBADFD; the
 * sync marks the port errored (p->error = -ENXIO), TX syncs return it at
 * once, RX syncs after the frames already received were consumed.
 *
 * Threads: each ring is synced by one thread at a time (API contract). TX
 * ring i and RX ring i share queue fd i; the only shared mutable state is
 * the queue's epoll registration (ev_reg), touched by arm() and wakeup(),
 * which must not run concurrently for the same queue: with one thread per
 * ring pair (the model) they never do.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <linux/if_tun.h>
#include <linux/io_uring.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"
#include "offload/offload.h"
#include "tap_uring.h"


/* Offload bits missing from older <linux/if_tun.h> (Debian 12 lacks USO). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif
#define TAP_OFFLOADS     (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)
#define TAP_OFFLOADS_USO (TUN_F_USO4 | TUN_F_USO6)

/* The frame whose first TX slot is this one, as txsync validated it
 * (threaded TX: the writer reads it, never the shared slot). */
struct tap_txjob {
	uint16_t nslots;         /* slots the frame spans (>= 1) */
	uint8_t drop;            /* refused by txsync (counted there): skip it */
	uint8_t hlen;            /* 0, or the vnet header length: hdr goes first */
	uint8_t hdr[UNM_VNET_HDR_LEN_MRG]; /* the validated header, private */
};

/*
 * A queue's TX writer thread (UNM_OPEN_TAP_TX_THREAD): txsync validates
 * the frames and publishes them (ready); the thread writes them to the
 * tun fd in ring order and publishes its progress (done); txsync hands
 * back the slots before done. ready and done are the only indexes both
 * threads touch (release/acquire); job[] and iov[] entries of a slot are
 * written by txsync only while the slot is outside [done, ready), read
 * by the writer only while it is inside.
 */
struct tap_txt {
	pthread_t th;
	bool started;
	int fd;                  /* the queue's tun fd */
	int kick_fd;             /* eventfd, blocking: txsync -> sleeping writer */
	int done_fd;             /* eventfd in the port's epfd: writer -> waiter */
	uint32_t nslots;
	struct iovec *iov;       /* per slot: its validated piece of the frame */
	struct tap_txjob *job;   /* per slot: the frame starting there */
	uint32_t ready;          /* [txsync, release] slots before it are jobs */
	uint32_t done;           /* [writer, release] slots before it are written */
	int sleeping;            /* the writer is (about to be) asleep on kick_fd */
	int want_done;           /* the TX ring is armed: signal done_fd */
	int stop;                /* close: write what is ready, then exit */
	int gone;                /* a write found the device gone */
	uint64_t fails;          /* [writer] writes that failed (counted as sent) */
	uint64_t fails_seen;     /* [txsync] of those, folded into the stats */
};

struct tap_queue {
	int fd;                  /* /dev/net/tun, -1 if the pair is not bound */
	uint32_t ev_reg;         /* EPOLLIN/EPOLLOUT now registered in epfd */
	struct tap_uring *ur;    /* NULL: write() per frame */
	struct tap_txt *txt;     /* NULL: txsync writes itself */
};

/* epoll tag of a queue's done_fd (tags below UNM_MAX_RINGS are tun fds) */
#define TAP_EV_DONE 0x100u

struct tap_priv {
	char ifname[IFNAMSIZ];
	unsigned nq;             /* ring pairs = max(tx_rings, rx_rings) */
	unsigned vnet;           /* 0, 10 or 12 */
	unsigned tun_f;          /* TUN_F_* accepted by TUNSETOFFLOAD */
	uint64_t vnet_why[UNM_VNET_DROP__COUNT]; /* TX header drops by reason */
	unsigned max_iov;        /* slots the largest expected frame needs */
	unsigned mtu;
	bool created;            /* we created the device (it dies with us) */
	struct tap_queue q[UNM_MAX_RINGS];
};

#define TAP_TUN_PATH "/dev/net/tun"

/* ---- TX writer thread (UNM_OPEN_TAP_TX_THREAD) ---- */

/* Writer spin before sleeping: long enough to catch the next sync of a
 * busy switch round, short against the cost of a frame it writes. */
#define TAP_TXT_SPIN 2000

static inline void cpu_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void txt_signal(int fd)
{
	uint64_t one = 1;

	while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

/* Write the frame of job J (its slots from slot S on). Returns 0 or -errno
 * of a write that cannot be retried; waits (poll) while tun is full. */
static int txt_write(struct tap_txt *t, uint32_t s, const struct tap_txjob *j)
{
	struct iovec iov[TAP_FRAME_IOV];
	int n = 0;

	if (j->hlen) {
		iov[n].iov_base = (void *)j->hdr;
		iov[n++].iov_len = j->hlen;
	}
	for (unsigned k = 0; k < j->nslots && n < TAP_FRAME_IOV; k++) {
		iov[n++] = t->iov[s];
		s = s + 1 == t->nslots ? 0 : s + 1;
	}
	for (;;) {
		ssize_t w = writev(t->fd, iov, n);
		struct pollfd pf = { .fd = t->fd, .events = POLLOUT };

		if (w >= 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != ENOBUFS)
			return -errno;
		if (__atomic_load_n(&t->stop, __ATOMIC_RELAXED))
			return -errno; /* closing: do not wait for a stuck device */
		(void)poll(&pf, 1, 20);
	}
}

static void *txt_main(void *arg)
{
	struct tap_txt *t = arg;
	uint32_t cur = __atomic_load_n(&t->done, __ATOMIC_RELAXED);

	for (;;) {
		uint32_t ready = __atomic_load_n(&t->ready, __ATOMIC_ACQUIRE);

		if (cur == ready) {
			uint64_t v;

			if (__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE) &&
			    __atomic_load_n(&t->ready, __ATOMIC_ACQUIRE) == cur)
				break;
			for (unsigned k = 0; k < TAP_TXT_SPIN && ready == cur; k++) {
				cpu_pause();
				ready = __atomic_load_n(&t->ready, __ATOMIC_ACQUIRE);
			}
			if (ready != cur)
				continue;
			/* [TT1] sleeping before the re-read of ready, full
			 * fence; pairs with [TT2] in txsync */
			__atomic_store_n(&t->sleeping, 1, __ATOMIC_RELAXED);
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			if (__atomic_load_n(&t->ready, __ATOMIC_ACQUIRE) == cur &&
			    !__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE))
				while (read(t->kick_fd, &v, sizeof(v)) < 0 && errno == EINTR)
					;
			__atomic_store_n(&t->sleeping, 0, __ATOMIC_RELAXED);
			continue;
		}
		while (cur != ready) {
			const struct tap_txjob *j = &t->job[cur];
			uint32_t next = cur + j->nslots;

			if (!j->drop && !__atomic_load_n(&t->gone, __ATOMIC_RELAXED)) {
				int e = txt_write(t, cur, j);

				if (e == -EBADFD || e == -ENXIO || e == -ENODEV)
					__atomic_store_n(&t->gone, 1, __ATOMIC_RELAXED);
				else if (e)
					__atomic_fetch_add(&t->fails, 1, __ATOMIC_RELAXED);
			}
			cur = next >= t->nslots ? next - t->nslots : next;
			/* [TT3] the slot's buffer is read: it may go back */
			__atomic_store_n(&t->done, cur, __ATOMIC_RELEASE);
			/* [TT4] done before want_done, full fence; pairs with
			 * [TT5] in arm() */
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			if (__atomic_load_n(&t->want_done, __ATOMIC_RELAXED) &&
			    __atomic_exchange_n(&t->want_done, 0, __ATOMIC_RELAXED))
				txt_signal(t->done_fd);
		}
	}
	return NULL;
}

/* Stop the writer after it wrote what is ready, and free it (NULL: no-op). */
static void txt_free(struct tap_txt *t)
{
	if (!t)
		return;
	if (t->started) {
		__atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
		txt_signal(t->kick_fd);
		pthread_join(t->th, NULL);
	}
	if (t->kick_fd >= 0)
		close(t->kick_fd);
	if (t->done_fd >= 0)
		close(t->done_fd);
	free(t->iov);
	free(t->job);
	free(t);
}

/* A writer thread for queue QI, whose TX ring KR has just been set up. */
static int txt_start(struct unm_port *p, struct tap_queue *q, unsigned qi,
		     const struct unm_kring *kr)
{
	struct tap_txt *t = calloc(1, sizeof(*t));
	sigset_t all, old;
	int rc;

	if (!t)
		return -ENOMEM;
	q->txt = t;
	t->fd = q->fd;
	t->nslots = kr->nslots;
	t->ready = t->done = kr->hwcur;
	t->kick_fd = eventfd(0, EFD_CLOEXEC);
	t->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	t->iov = calloc(kr->nslots, sizeof(*t->iov));
	t->job = calloc(kr->nslots, sizeof(*t->job));
	if (t->kick_fd < 0 || t->done_fd < 0 || !t->iov || !t->job)
		return unm_seterr(-ENOMEM, "tap: TX thread: %s", strerror(errno ? errno : ENOMEM));
	if ((rc = unm_port_watch(p, t->done_fd, EPOLLIN, TAP_EV_DONE | qi)))
		return rc;
	/* signals stay with the application's threads */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t->th, NULL, txt_main, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return unm_seterr(-rc, "tap: TX thread: %s", strerror(rc));
	t->started = true;
	(void)pthread_setname_np(t->th, "unm-tap-tx"); /* ps -L, tests */
	return 0;
}

/* Fold what the writer counted into the port's stats (sync thread). */
static void txt_fold(struct unm_port *p, struct tap_txt *t)
{
	uint64_t f = __atomic_load_n(&t->fails, __ATOMIC_RELAXED);

	if (f != t->fails_seen) {
		p->st.tx_frames -= f - t->fails_seen;
		p->st.drops += f - t->fails_seen;
		t->fails_seen = f;
	}
}


/*
 * tap_set_offload - tell the kernel which offloads our side accepts in
 * frames we read: with TUN_F_CSUM the kernel may hand us partially
 * checksummed frames, with TSO/USO up to 64 KiB GSO frames, both described
 * by the virtio-net header (and it then also takes them from us, which it
 * does whatever we set). Everything we can segment and checksum in
 * software (lib/offload) is asked for; USO4/6 (Linux 6.2) are retried
 * without when the kernel refuses them. Without a vnet header nothing can
 * be described, so everything stays off. Records the result in tp->tun_f.
 */
static int tap_set_offload(struct tap_priv *tp, int fd)
{
	unsigned long f = tp->vnet ? TAP_OFFLOADS | TAP_OFFLOADS_USO : 0;

	if (ioctl(fd, TUNSETOFFLOAD, f) < 0 && (errno != EINVAL || !f ||
						ioctl(fd, TUNSETOFFLOAD, f &= ~TAP_OFFLOADS_USO) < 0))
		return -errno;
	tp->tun_f = (unsigned)f;
	return 0;
}

/* Queue QI's fd FD, created or adopted: its TX engine, header size and
 * offloads. The fd is the queue's from here on (closed with the port). */
static int tap_queue_setup(struct tap_priv *tp, unsigned qi, int fd)
{
	int e;

	tp->q[qi].fd = fd;
	tp->q[qi].ur = tap_uring_new();
	if (tp->vnet) {
		int len = (int)tp->vnet;

		if (ioctl(fd, TUNSETVNETHDRSZ, &len) < 0)
			return unm_seterr(-errno, "tap: %s: TUNSETVNETHDRSZ %d: %s", tp->ifname,
					  len, strerror(errno));
	}
	e = tap_set_offload(tp, fd);
	if (e)
		return unm_seterr(e, "tap: %s: TUNSETOFFLOAD: %s", tp->ifname, strerror(-e));
	return 0;
}

static int tap_open_queue(struct unm_port *p, struct tap_priv *tp, unsigned qi, short flags)
{
	struct ifreq ifr;
	int fd, e;

	fd = open(TAP_TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == EACCES || e == EPERM)
			return unm_seterr(-e, "tap: %s: %s (needs CAP_NET_ADMIN)", TAP_TUN_PATH, strerror(e));
		if (e == ENOENT || e == ENODEV || e == ENXIO)
			return unm_seterr(-e, "tap: %s: %s (no tun driver: modprobe tun)", TAP_TUN_PATH,
					  strerror(e));
		return unm_seterr(-e, "tap: %s: %s", TAP_TUN_PATH, strerror(e));
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tp->ifname);
	ifr.ifr_flags = flags;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		close(fd);
		if (e == EPERM || e == EACCES)
			return unm_seterr(-e, "tap: %s: %s (creating or attaching needs CAP_NET_ADMIN, "
					  "or the device belongs to another user)", tp->ifname, strerror(e));
		if (e == EINVAL)
			return unm_seterr(-e, "tap: '%s' exists and is not a %stap device without "
					  "packet info", tp->ifname, tp->nq > 1 ? "multi-queue " : "single-queue ");
		if (e == EBUSY)
			return unm_seterr(-e, "tap: '%s' is already attached to another file "
					  "(single-queue device)", tp->ifname);
		return unm_seterr(-e, "tap: %s: TUNSETIFF: %s", tp->ifname, strerror(e));
	}
	/* The kernel may have expanded a "%d" pattern: keep the real name. */
	snprintf(tp->ifname, sizeof(tp->ifname), "%s", ifr.ifr_name);
	return tap_queue_setup(tp, qi, fd);
}

/*
 * A queue fd handed over (unm_open_fd): opened and attached with TUNSETIFF
 * by whoever asked, with their rights. It must be the tap named, with the
 * flags this port would have used; we only set the header size and
 * offloads on it (ioctls on the fd itself). Never created here.
 */
static int tap_adopt_fd(struct tap_priv *tp, int given, short flags)
{
	struct ifreq ifr;
	int fd, e;

	if (tp->nq != 1)
		return unm_seterr(-EINVAL, "tap: %s: a handed-over tap fd serves one ring pair",
				  tp->ifname);
	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(given, TUNGETIFF, &ifr) < 0)
		return unm_seterr(-EINVAL, "tap: %s: the handed-over fd is not an attached tun/tap "
				  "fd (TUNGETIFF: %s)", tp->ifname, strerror(errno));
	ifr.ifr_name[IFNAMSIZ - 1] = '\0';
	if (strcmp(ifr.ifr_name, tp->ifname))
		return unm_seterr(-EINVAL, "tap: the handed-over fd is attached to '%s', not '%s'",
				  ifr.ifr_name, tp->ifname);
	if ((ifr.ifr_flags & (IFF_TAP | IFF_TUN | IFF_NO_PI | IFF_VNET_HDR)) !=
	    (flags & (IFF_TAP | IFF_TUN | IFF_NO_PI | IFF_VNET_HDR)))
		return unm_seterr(-EINVAL, "tap: %s: the handed-over fd has flags 0x%x, expected "
				  "IFF_TAP | IFF_NO_PI%s", tp->ifname, (unsigned)ifr.ifr_flags & 0xffff,
				  (flags & IFF_VNET_HDR) ? " | IFF_VNET_HDR" : " (no IFF_VNET_HDR)");
	fd = fcntl(given, F_DUPFD_CLOEXEC, 0);
	if (fd < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		return unm_seterr(-e, "tap: %s: %s", tp->ifname, strerror(e));
	}
	return tap_queue_setup(tp, 0, fd);
}

/* MTU and MAC through an ordinary socket (any family answers SIOCGIF*);
 * bring the device up when we created it. Failures here are not fatal. */
static void tap_query_dev(struct tap_priv *tp, uint8_t mac[6])
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	tp->mtu = 1500;
	if (s < 0)
		s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return;
	unm_netdev_query(tp->ifname, s, &tp->mtu, mac);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tp->ifname);
	if (tp->created && ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			unm_log(UNM_LOG_WARN, "tap: %s: cannot bring the device up: %s",
				tp->ifname, strerror(errno));
	}
	close(s);
}

static void tap_free(struct tap_priv *tp)
{
	if (!tp)
		return;
	for (unsigned i = 0; i < UNM_MAX_RINGS; i++) {
		txt_free(tp->q[i].txt); /* before its fd closes */
		tap_uring_free(tp->q[i].ur);
		if (tp->q[i].fd >= 0)
			close(tp->q[i].fd);
	}
	free(tp);
}

/* UNM_OPEN_TAP_TX_THREAD, unless the environment says otherwise:
 * UNM_TAP_TX_THREAD=1 turns it on for every tap this process opens (unmd's
 * attached taps), =0 off. */
static bool tap_want_txt(const struct unm_open_opts *o)
{
	const char *e = getenv("UNM_TAP_TX_THREAD");

	if (e && (!strcmp(e, "0") || !strcmp(e, "1")))
		return e[0] == '1';
	return (o->flags & UNM_OPEN_TAP_TX_THREAD) != 0;
}

static int tap_open(struct unm_port *p, const struct unm_spec *s, const struct unm_open_opts *o)
{
	struct tap_priv *tp;
	uint8_t mac[6] = { 0 };
	unsigned first, last, frame_max;
	short flags = IFF_TAP | IFF_NO_PI;
	int rc;

	if (strlen(s->port) >= IFNAMSIZ)
		return unm_seterr(-EINVAL, "tap: interface name '%s' longer than %d characters",
				  s->port, IFNAMSIZ - 1);
	tp = calloc(1, sizeof(*tp));
	if (!tp)
		return -ENOMEM;
	for (unsigned i = 0; i < UNM_MAX_RINGS; i++)
		tp->q[i].fd = -1;
	snprintf(tp->ifname, sizeof(tp->ifname), "%s", s->port);
	tp->nq = o->tx_rings > o->rx_rings ? o->tx_rings : o->rx_rings;
	tp->vnet = o->vnet_hdr_len;
	if (tp->nq > UNM_MAX_RINGS || (tp->vnet && tp->vnet != 10 && tp->vnet != 12)) {
		rc = unm_seterr(-EINVAL, "tap: %u ring pairs, vnet=%u: out of range", tp->nq, tp->vnet);
		free(tp);
		return rc;
	}
	if (tp->nq > 1)
		flags |= IFF_MULTI_QUEUE;
	if (tp->vnet)
		flags |= IFF_VNET_HDR;
	/* Only the bound pairs get a queue (another process may open the
	 * other pairs of the same multi-queue device with "tap:IF-N"). */
	first = s->ring >= 0 ? (unsigned)s->ring : 0;
	last = s->ring >= 0 ? (unsigned)s->ring + 1 : tp->nq;
	if (first >= tp->nq) {
		rc = unm_seterr(-EINVAL, "tap: %s: ring %d does not exist (%u ring pairs)",
				s->port, s->ring, tp->nq);
		free(tp);
		return rc;
	}
	if (s->fd >= 0) {
		rc = tap_adopt_fd(tp, s->fd, flags);
		if (rc) {
			tap_free(tp);
			return rc;
		}
	} else {
		tp->created = if_nametoindex(tp->ifname) == 0;
		for (unsigned i = first; i < last; i++) {
			rc = tap_open_queue(p, tp, i, flags);
			if (rc) {
				tap_free(tp);
				return rc;
			}
		}
	}
	tap_query_dev(tp, mac);
	/* Ethernet header, a VLAN tag and the vnet header around the MTU, or
	 * a whole GSO frame when the kernel may send those; a larger frame is
	 * counted as a drop when it arrives. */
	frame_max = tp->vnet + 14 + 4 + tp->mtu;
	if (tp->tun_f & (TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6))
		frame_max = tp->vnet + UNM_MAX_FRAME;
	tp->max_iov = (frame_max + o->buf_size - 1) / o->buf_size;
	if (tp->max_iov > UNM_MAX_FRAGS)
		tp->max_iov = UNM_MAX_FRAGS;
	p->priv = tp;
	rc = unm_port_create_self(p, o, tp->mtu, mac);
	if (rc)
		goto fail;
	/* events 0: only EPOLLERR/EPOLLHUP until a ring is armed. */
	for (unsigned i = first; i < last; i++)
		if ((rc = unm_port_watch(p, tp->q[i].fd, 0, i)))
			goto fail;
	if (tap_want_txt(o)) {
		for (unsigned i = first; i < last && i < p->n_tx; i++)
			if ((rc = txt_start(p, &tp->q[i], i, &p->tx[i])))
				goto fail;
		p->tx_async = true;
	}
	return 0;
fail: /* unm_open tears the rest down (port_teardown, as unm_close) */
	return rc;
}

static void tap_close(struct unm_port *p)
{
	tap_free(p->priv);
	p->priv = NULL;
}

static bool tap_dev_gone_errno(int e)
{
	return e == EBADFD || e == ENXIO || e == ENODEV;
}

/* Gather the complete frame starting at slot i (stops before head).
 * Returns slots in the chain, 0 if the chain is not complete yet, or
 * -slots if the frame must be dropped (bad buffer or length). */
static int tap_gather(struct unm_port *p, struct unm_kring *kr, uint32_t i, uint32_t head,
		      struct iovec *iov, size_t *total)
{
	int n = 0;
	bool bad = false;

	*total = 0;
	for (;;) {
		struct unm_slot *sl = &kr->ring->slot[i];
		uint32_t idx = sl->buf_idx, len = sl->len; /* app-written */

		if (!unm_buf_ok(p, idx)) {
			p->st.bad_buf++;
			bad = true;
		} else if (len > kr->buf_size) {
			p->st.bad_len++;
			bad = true;
		} else if (n < UNM_MAX_FRAGS) {
			iov[n].iov_base = kr_buf(kr, idx);
			iov[n].iov_len = len;
			*total += len;
		} else {
			bad = true;
		}
		n++;
		if (!(sl->flags & UNM_NS_MOREFRAG))
			break;
		i = kr_next(kr, i);
		if (i == head)
			return 0;
	}
	return bad ? -n : n;
}

/*
 * tap_vnet_tx - check the vnet header of a gathered frame of niov iovecs
 * (the header is the first tp->vnet bytes of iov[0]) with
 * unm_vnet_parse(), write the validated values into HDR (private) and
 * make iov {HDR, frame after the header, ...}: *niov grows by one, iov
 * must have room for it. Returns 1 for a GSO frame, 0 for another valid
 * one, -1 for a bad header (counted: drops, vnet_drops, by reason).
 */
static int tap_vnet_tx(struct unm_port *p, struct tap_priv *tp, struct iovec *iov, int *niov,
		       uint8_t *hdr)
{
	struct unm_frag f[TAP_FRAME_IOV];
	struct unm_vnet_info info;
	enum unm_vnet_drop why = UNM_VNET_DROP_SHORT;
	uint8_t raw[UNM_VNET_HDR_LEN_MRG];
	int n = *niov;

	if (iov[0].iov_len >= tp->vnet) {
		memcpy(raw, iov[0].iov_base, tp->vnet); /* untrusted: one copy */
		f[0].ptr = (char *)iov[0].iov_base + tp->vnet;
		f[0].len = iov[0].iov_len - tp->vnet;
		for (int k = 1; k < n; k++)
			f[k].ptr = iov[k].iov_base, f[k].len = iov[k].iov_len;
		if (unm_vnet_parse(raw, tp->vnet, f, (unsigned)n, &info, &why) == 0) {
			unm_vnet_hdr_encode(hdr, tp->vnet, &info.hdr);
			memmove(&iov[1], &iov[0], (size_t)n * sizeof(iov[0]));
			iov[1].iov_base = f[0].ptr;
			iov[1].iov_len = f[0].len;
			iov[0].iov_base = hdr;
			iov[0].iov_len = tp->vnet;
			*niov = n + 1;
			return info.hdr.gso_type != UNM_VNET_GSO_NONE;
		}
	}
	p->st.drops++;
	p->st.vnet_drops++;
	if (tp->vnet_why[why]++ == 0)
		unm_log(UNM_LOG_DEBUG, "tap: %s: TX frame dropped, bad virtio-net header (%s)",
			tp->ifname, unm_vnet_drop_name(why));
	return -1;
}

static int tap_txsync_write(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct tap_priv *tp = p->priv;
	int fd = tp->q[kr->ringid].fd;
	struct iovec iov[TAP_FRAME_IOV];
	uint8_t hdr[UNM_VNET_HDR_LEN_MRG];
	uint32_t i = kr->hwcur;
	int rc = 0;

	while (i != head) {
		size_t total;
		int n = tap_gather(p, kr, i, head, iov, &total), niov = n, gso = 0;
		ssize_t w;

		if (n == 0)
			break; /* chain continues past head: wait for the rest */
		if (n < 0) {
			p->st.drops++;
			n = -n;
			goto next;
		}
		if (tp->vnet && (gso = tap_vnet_tx(p, tp, iov, &niov, hdr)) < 0)
			goto next;
		w = niov == 1 ? write(fd, iov[0].iov_base, iov[0].iov_len) : writev(fd, iov, niov);
		if (w < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			if (e == EAGAIN || e == ENOBUFS)
				break; /* kernel full: keep the rest, arm() waits for EPOLLOUT */
			if (tap_dev_gone_errno(e)) {
				rc = unm_port_gone(p, tp->ifname);
				break;
			}
			/* EIO (device down), EINVAL (bad vnet header), ...: this frame only */
			p->st.drops++;
		} else {
			p->st.tx_frames++;
			p->st.tx_bytes += total;
			p->st.gso_tx_frames += (unsigned)gso;
		}
next:
		while (n--)
			i = kr_next(kr, i);
	}
	kr->hwcur = i;
	kr->hwtail = i == 0 ? kr->nslots - 1 : i - 1;
	return rc;
}

static inline uint32_t kr_adv(const struct unm_kring *kr, uint32_t i, unsigned n)
{
	i += n;
	return i >= kr->nslots ? i - kr->nslots : i;
}

/* Queue writes for the complete frames from *ip (before head) as SQEs;
 * frames to drop are consumed (*ip moves past them while nothing is
 * queued). Returns writes queued; *endp: slot after the last frame seen. */
static unsigned tap_uring_fill(struct unm_port *p, struct unm_kring *kr, struct tap_queue *q,
			       uint32_t *ip, uint32_t head, uint32_t *endp, bool *incomplete)
{
	struct tap_priv *tp = p->priv;
	struct tap_uring *u = q->ur;
	unsigned n = 0, niov = 0, tail = *u->sq_tail;
	uint32_t j = *ip;

	*incomplete = false;
	while (j != head && n < TAP_URING_BATCH && niov + TAP_FRAME_IOV <= TAP_URING_IOV) {
		struct io_uring_sqe *e;
		size_t total;
		int k = tap_gather(p, kr, j, head, &u->iov[niov], &total), fiov = k, gso = 0;

		if (k == 0) {
			*incomplete = true;
			break;
		}
		if (k < 0) {
			p->st.drops++;
			j = kr_adv(kr, j, (unsigned)-k);
			if (n == 0)
				*ip = j;
			continue;
		}
		if (tp->vnet && (gso = tap_vnet_tx(p, tp, &u->iov[niov], &fiov, u->hdr[n])) < 0) {
			j = kr_adv(kr, j, (unsigned)k);
			if (n == 0)
				*ip = j;
			continue;
		}
		e = &u->sqes[tail & *u->sq_mask];
		memset(e, 0, sizeof(*e));
		e->opcode = fiov == 1 ? IORING_OP_WRITE : IORING_OP_WRITEV;
		e->addr = fiov == 1 ? (uintptr_t)u->iov[niov].iov_base : (uintptr_t)&u->iov[niov];
		e->len = fiov == 1 ? (uint32_t)u->iov[niov].iov_len : (uint32_t)fiov;
		e->fd = q->fd;
		e->off = (uint64_t)-1;
		e->user_data = n;
		u->sq_array[tail & *u->sq_mask] = tail & *u->sq_mask;
		u->start[n] = j;
		u->bytes[n] = (uint32_t)total;
		u->gso[n] = (uint8_t)gso;
		u->res[n] = -ECANCELED;
		tail++, n++, niov += (unsigned)fiov;
		j = kr_adv(kr, j, (unsigned)k);
	}
	/* [TU1] release: the SQEs are written before the kernel sees the new
	 * tail; pairs with the kernel's acquire of sq.tail when it fetches
	 * SQEs in io_submit_sqes [K5]. */
	unm_store_release(u->sq_tail, tail);
	*endp = j;
	return n;
}

static int tap_txsync_uring(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct tap_priv *tp = p->priv;
	struct tap_queue *q = &tp->q[kr->ringid];
	struct tap_uring *u = q->ur;
	uint32_t i = kr->hwcur, end;
	bool incomplete;
	int rc = 0;

	while (i != head) {
		unsigned n = tap_uring_fill(p, kr, q, &i, head, &end, &incomplete), k, last_ok = 0;
		bool any_ok = false;

		if (n == 0) {
			i = end;
			if (incomplete)
				break;
			continue;
		}
		rc = tap_uring_run(u, n);
		if (rc)
			return unm_seterr(rc, "tap: %s: io_uring_enter: %s", tp->ifname, strerror(-rc));
		for (k = 0; k < n; k++)
			if (u->res[k] >= 0)
				any_ok = true, last_ok = k;
		for (k = 0; k < n; k++) {
			int r = u->res[k];

			if (r >= 0) {
				p->st.tx_frames++;
				p->st.tx_bytes += u->bytes[k];
				p->st.gso_tx_frames += u->gso[k];
			} else if (tap_dev_gone_errno(-r)) {
				rc = unm_port_gone(p, tp->ifname);
				break;
			} else if ((r == -EAGAIN || r == -ENOBUFS) && (!any_ok || k > last_ok)) {
				break; /* nothing after it went: keep it for the next sync */
			} else {
				p->st.drops++;
			}
		}
		if (k < n) {
			i = rc ? end : u->start[k];
			break;
		}
		i = end;
		if (incomplete)
			break;
	}
	kr->hwcur = i;
	kr->hwtail = i == 0 ? kr->nslots - 1 : i - 1;
	return rc;
}

/*
 * Backpressure: the writer is more than half a ring behind (READY is what
 * was handed over). Wait for it, at most TAP_TXT_WAIT_NS, on done_fd: a
 * sender whose frames come faster than the device takes them (a switch
 * reading another tap) must slow down to the writer's pace here, as it
 * did when it wrote itself, instead of finding the ring full and
 * dropping (a TCP stream then loses a segment per overrun). Returns the
 * writer's done index.
 */
#define TAP_TXT_WAIT_NS 2000000L
static uint32_t txt_wait_room(const struct unm_kring *kr, struct tap_txt *t, uint32_t ready)
{
	struct timespec t0, now;
	uint32_t done;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pf = { .fd = t->done_fd, .events = POLLIN };
		struct timespec ts = { 0, 0 };
		long left;
		uint64_t v;

		__atomic_store_n(&t->want_done, 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST); /* [TT5] */
		done = __atomic_load_n(&t->done, __ATOMIC_ACQUIRE);
		if (kr_dist(kr, done, ready) <= kr->nslots / 2 ||
		    __atomic_load_n(&t->gone, __ATOMIC_RELAXED))
			return done;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = TAP_TXT_WAIT_NS - ((now.tv_sec - t0.tv_sec) * 1000000000L +
					  (now.tv_nsec - t0.tv_nsec));
		if (left <= 0)
			return done;
		ts.tv_nsec = left;
		(void)ppoll(&pf, 1, &ts, NULL);
		if (read(t->done_fd, &v, sizeof(v)) < 0) {
			/* EAGAIN: woken by the timeout */
		}
	}
}

/*
 * Threaded TX: validate the complete frames of [hwcur, head) as the other
 * engines do (drops counted here), describe them in the writer's job and
 * iov entries, publish them (ready) and wake the writer if it sleeps;
 * hand back the slots the writer is done with. Frames count as sent when
 * published (tx_frames: "handed to the port"); a write that fails later
 * moves from tx_frames to drops at a later sync.
 */
static int tap_txsync_thread(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct tap_priv *tp = p->priv;
	struct tap_txt *t = tp->q[kr->ringid].txt;
	struct iovec iov[TAP_FRAME_IOV];
	uint32_t i = kr->hwcur, done;

	txt_fold(p, t);
	if (__atomic_load_n(&t->gone, __ATOMIC_RELAXED))
		unm_port_gone(p, tp->ifname);
	while (i != head && !p->error) {
		struct tap_txjob *j = &t->job[i];
		size_t total;
		int n = tap_gather(p, kr, i, head, iov, &total), niov = n, gso = 0, first = 0;

		if (n == 0)
			break; /* chain continues past head: wait for the rest */
		j->drop = 1;
		j->hlen = 0;
		j->nslots = (uint16_t)(n < 0 ? -n : n);
		if (n < 0) {
			p->st.drops++;
		} else if (!tp->vnet || (gso = tap_vnet_tx(p, tp, iov, &niov, j->hdr)) >= 0) {
			if (tp->vnet) {
				j->hlen = (uint8_t)tp->vnet;
				first = 1;
			}
			for (int k = first; k < niov; k++)
				t->iov[kr_adv(kr, i, (unsigned)(k - first))] = iov[k];
			j->drop = 0;
			p->st.tx_frames++;
			p->st.tx_bytes += total;
			p->st.gso_tx_frames += (unsigned)gso;
		}
		i = kr_adv(kr, i, j->nslots);
	}
	if (i != kr->hwcur) {
		/* [TT2] the jobs before ready, then sleeping, full fence;
		 * pairs with [TT1] in the writer */
		__atomic_store_n(&t->ready, i, __ATOMIC_RELEASE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&t->sleeping, __ATOMIC_RELAXED))
			txt_signal(t->kick_fd);
		kr->hwcur = i;
	}
	done = __atomic_load_n(&t->done, __ATOMIC_ACQUIRE); /* [TT3] */
	if (kr_dist(kr, done, i) > kr->nslots / 2)
		done = txt_wait_room(kr, t, i);
	if (done != i) {
		/* Slots still in flight: whoever waits for room (a switch
		 * that must not drop, a sender with a partly full ring) hears
		 * of the next ones the writer finishes. [TT5] as in arm(). */
		__atomic_store_n(&t->want_done, 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		done = __atomic_load_n(&t->done, __ATOMIC_ACQUIRE);
	}
	kr->hwtail = done == 0 ? kr->nslots - 1 : done - 1;
	return p->error;
}

static int tap_txsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct tap_priv *tp = p->priv;

	kr->armed = false;
	if (tp->q[kr->ringid].txt)
		return tap_txsync_thread(p, kr, head);
	if (tp->q[kr->ringid].ur)
		return tap_txsync_uring(p, kr, head);
	return tap_txsync_write(p, kr, head);
}

/* Read frames into the free slots [hwtail, hwcur - 1). */
static int tap_rxsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct tap_priv *tp = p->priv;
	int fd = tp->q[kr->ringid].fd;
	struct iovec iov[UNM_MAX_FRAGS];
	uint32_t free_slots;

	kr->armed = false;
	kr->hwcur = head;
	if (unlikely(p->error)) /* report it once the app has drained the ring */
		return kr->hwcur == kr->hwtail ? p->error : 0;
	free_slots = kr->nslots - 1 - kr_dist(kr, kr->hwcur, kr->hwtail);
	while (free_slots >= tp->max_iov) {
		uint32_t i = kr->hwtail, k;
		size_t cap = 0;
		ssize_t n;

		for (k = 0; k < tp->max_iov; k++, i = kr_next(kr, i)) {
			uint32_t idx = kr->ring->slot[i].buf_idx; /* app-written */

			if (unlikely(!unm_buf_ok(p, idx))) {
				p->st.bad_buf++;
				return unm_seterr(-EINVAL, "tap: %s: RX slot %u has invalid buffer %u",
						  tp->ifname, i, idx);
			}
			iov[k].iov_base = kr_buf(kr, idx);
			iov[k].iov_len = kr->buf_size;
			cap += kr->buf_size;
		}
		n = k == 1 ? read(fd, iov[0].iov_base, iov[0].iov_len) : readv(fd, iov, (int)k);
		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			if (e == EAGAIN)
				break;
			if (tap_dev_gone_errno(e))
				return unm_port_gone(p, tp->ifname);
			return unm_seterr(-e, "tap: %s: read: %s", tp->ifname, strerror(e));
		}
		if (n == 0)
			break;
		if ((size_t)n > cap) {
			/* tun returns the full length of a frame it truncated:
			 * count it and size later reads for such frames. */
			p->st.drops++;
			if ((size_t)n <= UNM_MAX_FRAME + tp->vnet) {
				unsigned need = (unsigned)(((size_t)n + kr->buf_size - 1) / kr->buf_size);

				tp->max_iov = need < UNM_MAX_FRAGS ? need : UNM_MAX_FRAGS;
			}
			continue;
		}
		p->st.rx_frames++;
		p->st.rx_bytes += (uint64_t)n;
		/* byte 1 of the (kernel-written) vnet header: gso_type */
		if (tp->vnet && (size_t)n > tp->vnet &&
		    ((const uint8_t *)iov[0].iov_base)[1] != UNM_VNET_GSO_NONE)
			p->st.gso_rx_frames++;
		for (size_t left = (size_t)n;;) {
			struct unm_slot *sl = &kr->ring->slot[kr->hwtail];
			size_t len = left > kr->buf_size ? kr->buf_size : left;

			sl->len = (uint16_t)len;
			left -= len;
			sl->flags = left ? UNM_NS_MOREFRAG : 0;
			kr->hwtail = kr_next(kr, kr->hwtail);
			free_slots--;
			if (!left)
				break;
		}
	}
	return 0;
}

/* Register (or drop) EPOLLIN/EPOLLOUT for queue qi to match what its rings
 * want; registration only grows in arm(), it shrinks here (lazily). */
static void tap_q_update(struct unm_port *p, unsigned qi, uint32_t want)
{
	struct tap_priv *tp = p->priv;
	struct tap_queue *q = &tp->q[qi];
	struct epoll_event ev = { .events = want, .data.u32 = qi };

	if (want == q->ev_reg || q->fd < 0)
		return;
	if (epoll_ctl(p->epfd, EPOLL_CTL_MOD, q->fd, &ev) == 0)
		q->ev_reg = want;
}

static bool tap_arm(struct unm_port *p, struct unm_kring *kr)
{
	struct tap_priv *tp = p->priv;
	struct tap_txt *t = tp->q[kr->ringid].txt;

	kr->armed = true;
	if (!kr->dir && t) {
		uint32_t done;

		/* [TT5] want_done before re-reading done, full fence; pairs
		 * with [TT4] in the writer. Slots came back since the sync:
		 * no need to wait. */
		__atomic_store_n(&t->want_done, 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		done = __atomic_load_n(&t->done, __ATOMIC_ACQUIRE);
		return kr->hwtail != (done == 0 ? kr->nslots - 1 : done - 1);
	}
	tap_q_update(p, kr->ringid, tp->q[kr->ringid].ev_reg | (kr->dir ? EPOLLIN : EPOLLOUT));
	return false; /* level-triggered: nothing can be missed */
}

/* After epfd woke a waiter: the rings whose event fired are no longer
 * armed (the next sync re-arms them if they still block), stale
 * registrations go, and EPOLLERR means the device is gone. */
static int tap_wakeup(struct unm_port *p)
{
	struct tap_priv *tp = p->priv;
	struct epoll_event ev[2 * UNM_MAX_RINGS];
	int n = epoll_wait(p->epfd, ev, 2 * UNM_MAX_RINGS, 0);

	for (int k = 0; k < n; k++) {
		unsigned qi = ev[k].data.u32;

		if ((qi & TAP_EV_DONE) && (qi & ~TAP_EV_DONE) < tp->nq &&
		    tp->q[qi & ~TAP_EV_DONE].txt) {
			uint64_t v;

			qi &= ~TAP_EV_DONE;
			if (read(tp->q[qi].txt->done_fd, &v, sizeof(v)) < 0) {
				/* nothing to drain: EAGAIN */
			}
			if (qi < p->n_tx)
				p->tx[qi].armed = false;
			continue;
		}
		if (qi >= tp->nq)
			continue;
		if (ev[k].events & (EPOLLERR | EPOLLHUP))
			unm_port_gone(p, tp->ifname);
		if ((ev[k].events & EPOLLIN) && qi < p->n_rx)
			p->rx[qi].armed = false;
		if ((ev[k].events & EPOLLOUT) && qi < p->n_tx)
			p->tx[qi].armed = false;
	}
	for (unsigned qi = 0; qi < tp->nq; qi++) {
		uint32_t want = 0;

		if (qi < p->n_rx && p->rx[qi].armed)
			want |= EPOLLIN;
		if (qi < p->n_tx && p->tx[qi].armed && !tp->q[qi].txt)
			want |= EPOLLOUT; /* a writer thread waits for room itself */
		tap_q_update(p, qi, want);
	}
	return p->error;
}

const struct unm_port_ops unm_tap_ops = {
	.type = "tap",
	.open = tap_open,
	.txsync = tap_txsync,
	.rxsync = tap_rxsync,
	.arm = tap_arm,
	.wakeup = tap_wakeup,
	.close = tap_close,
};
