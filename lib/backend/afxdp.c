// SPDX-License-Identifier: BSD-2-Clause
/*
 * afxdp.c - the AF_XDP port type "afxdp:IFNAME[-QUEUE]", embedded: the
 * process that opened the port does the I/O through libxdp/libbpf.
 *
 * Memory: the port's own region (UNM_REGION_SELF) is built with a buffer
 * size that is a valid XDP chunk size (2048 or 4096), and its buffer pool,
 * page aligned inside the memfd mapping, is registered as the UMEM: buffer
 * index idx is UMEM address idx * buf_size. Frames are never copied between
 * the UMEM and the slots; buffer indexes move between the XDP rings and the
 * slots by swapping, as netmap does with NIC rings:
 *   TX: slots [hwcur, head) become TX descriptors for their own buffers;
 *       each completion (or local drop) hands a free buffer to the slot at
 *       hwtail, which then becomes the application's again. Port-owned TX
 *       slots [hwtail, hwcur) hold stale indexes: nobody reads them.
 *   RX: every RX queue keeps a reserve of R free buffers (taken from the
 *       region's extra buffers) posted in its fill ring. A received frame's
 *       buffer goes into the slot at hwtail and that slot's old (free,
 *       port-owned) buffer goes to the fill ring, so the kernel always has R
 *       buffers whatever the application holds.
 * The kernel writes a received frame XDP_PACKET_HEADROOM (256) bytes after
 * the address taken from the fill ring. In copy mode the UMEM uses
 * unaligned chunks and the fill address is idx * buf_size - 256, so the
 * frame lands at the start of buffer idx (largest frame: buf_size - 256);
 * the 256 bytes of headroom overlap the previous buffer's tail and are
 * written only if an XDP program adds metadata or moves the packet head
 * (libxdp's default program does neither). In zero-copy mode a driver
 * DMAs into pages that need not be contiguous, so chunks stay aligned and
 * the frame is moved to the buffer start with one memmove.
 *
 * Queues: ring pair i is NIC queue i, one AF_XDP socket per bound queue, all
 * sharing the one UMEM (XDP_SHARED_UMEM), each with its own fill and
 * completion rings. "-Q" builds Q + 1 ring pairs and binds only pair Q.
 *
 * Modes: bind zero-copy in native (driver) XDP mode, else copy mode in
 * native mode, else copy mode in generic (skb) mode. Environment:
 *   UNM_AFXDP_BIND=auto|copy|zerocopy   UNM_AFXDP_XDP=auto|native|generic
 * XDP_USE_NEED_WAKEUP is always requested. Copy mode: the kernel sends at
 * most 32 frames per sendto() unless XDP_MAX_TX_SKB_BUDGET (Linux >= 6.17)
 * raises that to the TX ring size; a 1024-frame batch then takes one
 * syscall instead of 32 or more (strace, veth, 1 s: 752 sendto calls
 * instead of 10726, of which 10385 came back EAGAIN at the budget).
 *
 * XDP program: libxdp's default AF_XDP program (xsk_def_prog, loaded by
 * xsk_socket__create; through libxdp's dispatcher when a bpffs is mounted,
 * alone otherwise). libxdp detaches it when the process that attached it
 * deletes its last socket. After SIGKILL the program stays attached: it is
 * harmless (a queue with no socket passes frames to the stack), and the
 * next unetmap port on that interface reuses it and, being then the only
 * unetmap user, detaches it when it closes. Users are counted across
 * processes with flock() on UNM_AFXDP_LOCKDIR (default /run/unetmap)
 * /afxdp-NETNS-IFINDEX.lock; a non-unetmap program sharing libxdp's
 * default program on the same interface is not counted.
 *
 * Checksums: an XDP frame carries no checksum state. A veth whose peer
 * has checksum offload on (the default) hands us TCP/UDP packets whose
 * checksum field holds only the pseudo-header sum (the peer's skb was
 * CHECKSUM_PARTIAL and no device completed it): forwarded as they are,
 * the far end drops them (ping works, TCP never connects). rxsync
 * therefore parses every received frame (Ethernet + one VLAN tag, IPv4
 * not fragmented or IPv6 without extension headers, TCP or UDP, lengths
 * checked against the descriptor: the frame is untrusted) and completes a
 * checksum field that holds exactly the pseudo-header sum
 * (unm_csum_fix_partial(); a complete checksum is never changed, see
 * lib/offload/offload.h). Other frames cost a header parse and a
 * pseudo-header sum. Large frames: XDP on a veth turns its peer's GSO off
 * and the veth's GRO runs after XDP, so frames stay within the MTU; a
 * frame larger than a buffer (XDP multi-buffer, a jumbo MTU) is dropped
 * by the kernel (no XDP_USE_SG), as on any AF_XDP socket.
 *
 * Threads: one thread per ring (the unm.h contract). Queue i's sockets and
 * rings are touched only by whoever syncs ring pair i, except the netlink
 * socket, read by whichever sync notices the interface may be gone (it only
 * sets the sticky error; a race there costs one extra recv).
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config-host.h"
#include "internal.h"
#include "offload/offload.h"

#define AFXDP_NOT_BUILT "afxdp: not built: install libxdp-dev libbpf-dev"

#ifndef CONFIG_HAVE_LIBXDP

static int afxdp_open(struct unm_port *p, const struct unm_spec *s,
		      const struct unm_open_opts *o)
{
	return unm_seterr(-EPROTONOSUPPORT, AFXDP_NOT_BUILT);
}

static int afxdp_nosync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	return -EPROTONOSUPPORT;
}

const struct unm_port_ops unm_afxdp_ops = {
	.type = "afxdp",
	.open = afxdp_open,
	.txsync = afxdp_nosync,
	.rxsync = afxdp_nosync,
};

#else /* CONFIG_HAVE_LIBXDP */

#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/rtnetlink.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#define RX_HEADROOM 256u          /* XDP_PACKET_HEADROOM of linux/bpf.h */
#ifndef XDP_MAX_TX_SKB_BUDGET
#define AFX_MAX_TX_SKB_BUDGET 9    /* linux/if_xdp.h, Linux >= 6.17 */
#else
#define AFX_MAX_TX_SKB_BUDGET XDP_MAX_TX_SKB_BUDGET
#endif
#define TX_BATCH 32u              /* frames the kernel sends per copy-mode kick */
#define NL_CHECK_NS 1000000ull    /* idle syncs look for link removal at most every 1 ms */
#define XSK_PROG_NAME "xsk_def_prog"

struct afx_queue {
	struct xsk_socket *xsk;   /* NULL: this queue is not bound */
	struct xsk_ring_cons rx, comp;
	struct xsk_ring_prod tx, fill;
	int fd;
	bool has_rx, has_tx;
	bool out_armed;           /* EPOLLOUT registered: a TX ring is blocked */
	uint32_t tx_batch;        /* frames a copy-mode sendto sends at most */
};

struct afx {
	struct xsk_umem *umem;
	char *umem_area;          /* the region's buffer pool */
	uint64_t umem_size;
	uint32_t bs, nbufs;
	uint32_t shift;           /* RX_HEADROOM in copy mode (unaligned chunks), else 0 */
	int ifindex;
	char ifname[IF_NAMESIZE];
	unsigned nq;              /* queues = max(TX rings, RX rings) */
	struct afx_queue *q;
	uint32_t reserve;         /* free buffers per RX queue (fill ring) */
	int nl_fd;                /* rtnetlink link events, -1 if none */
	int lock_fd;              /* per-interface user count (flock) */
	char lock_path[300];
	uint64_t nl_next_ns;
	uint64_t csum_fixed;      /* RX: partial TCP/UDP checksums completed */
	bool zerocopy, generic;
};

/* ---- logging: libxdp/libbpf print to stderr unless told otherwise ------- */

static int xdp_print(enum libxdp_print_level lvl, const char *fmt, va_list ap)
{
	char msg[256];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	if (n && msg[n - 1] == '\n')
		msg[n - 1] = '\0';
	unm_log(lvl == LIBXDP_WARN ? UNM_LOG_WARN : UNM_LOG_DEBUG, "afxdp: %s", msg);
	return 0;
}

static int bpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	return xdp_print(lvl == LIBBPF_WARN ? LIBXDP_WARN : LIBXDP_DEBUG, fmt, ap);
}

struct print_save {
	libxdp_print_fn_t xdp;
	libbpf_print_fn_t bpf;
};

/* Route libxdp/libbpf output to unm_log() for the duration of one call
 * (their print hooks are process-wide: the application's are restored). */
static void print_grab(struct print_save *s)
{
	s->xdp = libxdp_set_print(xdp_print);
	s->bpf = libbpf_set_print(bpf_print);
}

static void print_restore(const struct print_save *s)
{
	libxdp_set_print(s->xdp);
	libbpf_set_print(s->bpf);
}

/* ---- the interface ---------------------------------------------------- */

static void if_query(const char *ifname, unsigned *mtu, uint8_t mac[6])
{
	*mtu = 0;
	memset(mac, 0, 6);
	unm_netdev_query(ifname, -1, mtu, mac);
}

static int nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void set_gone(struct unm_port *p, int err, const char *why)
{
	struct afx *x = p->priv;

	if (p->error)
		return;
	p->error = err;
	unm_seterr(err, "afxdp:%s: %s", x->ifname, why);
	unm_log(UNM_LOG_WARN, "afxdp:%s: %s", x->ifname, why);
}

/* Drain link events; a removal of our interface makes the port fail. */
static void nl_check(struct unm_port *p)
{
	struct afx *x = p->priv;
	char buf[8192] __attribute__((aligned(4)));
	bool overrun = false;

	if (x->nl_fd < 0)
		return;
	for (;;) {
		ssize_t n = recv(x->nl_fd, buf, sizeof(buf), MSG_DONTWAIT);
		struct nlmsghdr *h;

		if (n < 0) {
			if (errno == ENOBUFS) {
				overrun = true;
				continue;
			}
			break;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			const struct ifinfomsg *ifi = NLMSG_DATA(h);

			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
				continue;
			if (h->nlmsg_type == RTM_DELLINK && ifi->ifi_index == x->ifindex)
				set_gone(p, -ENODEV, "interface removed");
		}
	}
	if (overrun && (int)if_nametoindex(x->ifname) != x->ifindex)
		set_gone(p, -ENODEV, "interface removed");
}

/* Idle syncs look for link removal, at most once per NL_CHECK_NS. */
static void idle_check(struct unm_port *p)
{
	struct afx *x = p->priv;
	uint64_t now = unm_now_ns();

	if (now < x->nl_next_ns)
		return;
	x->nl_next_ns = now + NL_CHECK_NS;
	nl_check(p);
}

/* ---- cross-process user count and the XDP program ------------------------ */

static int lock_open(struct afx *x)
{
	const char *dir = getenv("UNM_AFXDP_LOCKDIR");
	struct stat st, fst;

	if (!dir || !*dir)
		dir = "/run/unetmap";
	if (stat("/proc/self/ns/net", &st) < 0)
		st.st_ino = 0;
	(void)mkdir(dir, 0755);
	snprintf(x->lock_path, sizeof(x->lock_path), "%s/afxdp-%llu-%d.lock", dir,
		 (unsigned long long)st.st_ino, x->ifindex);
	/* The last user unlinks the file while holding LOCK_EX: a lock taken
	 * on a file that was unlinked meanwhile counts nobody, so retry. */
	for (int t = 0; t < 100; t++) {
		int fd = open(x->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0)
			return -1;
		if (flock(fd, LOCK_SH) == 0 && fstat(fd, &fst) == 0 &&
		    stat(x->lock_path, &st) == 0 && st.st_ino == fst.st_ino)
			return fd;
		close(fd);
	}
	return -1;
}

/*
 * Called after our sockets are gone: if no other unetmap port (in any
 * process) uses the interface, remove a default AF_XDP program that is
 * still attached (left by a killed process, or reused by us from one).
 */
static void prog_cleanup(struct afx *x)
{
	struct xdp_multiprog *mp;
	struct xdp_program *prog = NULL;

	if (x->lock_fd < 0 || flock(x->lock_fd, LOCK_EX | LOCK_NB) < 0)
		return;
	unlink(x->lock_path); /* still locked: see lock_open() */
	/* The interface is gone (its index may be reused by another one). */
	if ((int)if_nametoindex(x->ifname) != x->ifindex)
		return;
	mp = xdp_multiprog__get_from_ifindex(x->ifindex);
	if (!mp || libxdp_get_error(mp))
		return;
	while ((prog = xdp_multiprog__next_prog(prog, mp)))
		if (!strcmp(xdp_program__name(prog), XSK_PROG_NAME))
			break;
	if (!prog && xdp_multiprog__is_legacy(mp)) {
		prog = xdp_multiprog__main_prog(mp);
		if (prog && strcmp(xdp_program__name(prog), XSK_PROG_NAME))
			prog = NULL;
	}
	if (prog) {
		int rc;

		if (xdp_multiprog__is_legacy(mp) || xdp_multiprog__program_count(mp) <= 1)
			rc = xdp_multiprog__detach(mp);
		else
			rc = xdp_program__detach(prog, x->ifindex,
						 xdp_multiprog__attach_mode(mp), 0);
		unm_log(rc ? UNM_LOG_WARN : UNM_LOG_INFO,
			"afxdp:%s: removing the leftover AF_XDP program: %s",
			x->ifname, rc ? strerror(-rc) : "done");
	}
	xdp_multiprog__close(mp);
}

/* ---- sockets ------------------------------------------------------------ */

static uint32_t pow2(uint32_t v)
{
	uint32_t r = 1;

	while (r < v)
		r <<= 1;
	return r;
}

static void sockets_close(struct afx *x)
{
	for (unsigned i = 0; i < x->nq; i++) {
		if (x->q[i].xsk)
			xsk_socket__delete(x->q[i].xsk);
		x->q[i].xsk = NULL;
	}
	if (x->umem)
		xsk_umem__delete(x->umem);
	x->umem = NULL;
}

struct afx_mode {
	const char *name;
	uint16_t bind;            /* XDP_COPY / XDP_ZEROCOPY */
	uint32_t xdp_flags;       /* XDP_FLAGS_DRV_MODE / XDP_FLAGS_SKB_MODE */
};

static const struct afx_mode modes[] = {
	{ "zero-copy, native XDP", XDP_ZEROCOPY, XDP_FLAGS_DRV_MODE },
	{ "copy, native XDP", XDP_COPY, XDP_FLAGS_DRV_MODE },
	{ "copy, generic XDP", XDP_COPY, XDP_FLAGS_SKB_MODE },
};

static bool mode_allowed(const struct afx_mode *m, const char **why)
{
	const char *b = getenv("UNM_AFXDP_BIND"), *d = getenv("UNM_AFXDP_XDP");

	if (b && *b && strcmp(b, "auto")) {
		if (strcmp(b, "copy") && strcmp(b, "zerocopy"))
			return *why = "UNM_AFXDP_BIND must be auto, copy or zerocopy", false;
		if ((m->bind == XDP_ZEROCOPY) != !strcmp(b, "zerocopy"))
			return false;
	}
	if (d && *d && strcmp(d, "auto")) {
		if (strcmp(d, "native") && strcmp(d, "generic"))
			return *why = "UNM_AFXDP_XDP must be auto, native or generic", false;
		if ((m->xdp_flags == XDP_FLAGS_SKB_MODE) != !strcmp(d, "generic"))
			return false;
	}
	return true;
}

/* Open the UMEM and one socket per bound queue in mode M. */
static int sockets_open(struct unm_port *p, const struct afx_mode *m)
{
	struct afx *x = p->priv;
	struct xsk_umem_config uc;
	uint32_t rx_slots = p->n_rx ? p->rx[0].nslots : UNM_MIN_SLOTS;
	uint32_t tx_slots = p->n_tx ? p->tx[0].nslots : UNM_MIN_SLOTS;
	int rc = 0;

	x->shift = m->bind == XDP_ZEROCOPY ? 0 : RX_HEADROOM;
	memset(&uc, 0, sizeof(uc));
	uc.fill_size = pow2(2 * (x->reserve ? x->reserve : 1)); /* see afxdp_rxsync */
	uc.comp_size = pow2(tx_slots);
	uc.frame_size = x->bs;
	uc.frame_headroom = 0;
	uc.flags = x->shift ? XDP_UMEM_UNALIGNED_CHUNK_FLAG : 0;
	for (unsigned i = 0; i < x->nq; i++) {
		struct afx_queue *q = &x->q[i];
		struct xsk_socket_config sc;

		if (!q->has_rx && !q->has_tx)
			continue;
		if (!x->umem) {
			rc = xsk_umem__create(&x->umem, x->umem_area, x->umem_size,
					      &q->fill, &q->comp, &uc);
			if (rc) {
				x->umem = NULL;
				return unm_seterr(rc, "afxdp:%s: registering the UMEM: %s",
						  x->ifname, strerror(-rc));
			}
		}
		memset(&sc, 0, sizeof(sc));
		sc.rx_size = pow2(rx_slots);
		sc.tx_size = pow2(tx_slots);
		sc.xdp_flags = m->xdp_flags;
		sc.bind_flags = m->bind | XDP_USE_NEED_WAKEUP;
		/* A queue freed by a socket closed just before is released
		 * by a kernel work item: EBUSY for a few milliseconds. */
		for (int t = 0; t < 50; t++) {
			rc = xsk_socket__create_shared(&q->xsk, x->ifname, i, x->umem,
						       q->has_rx ? &q->rx : NULL,
						       q->has_tx ? &q->tx : NULL,
						       &q->fill, &q->comp, &sc);
			if (rc != -EBUSY)
				break;
			usleep(10000);
		}
		if (rc) {
			q->xsk = NULL;
			return unm_seterr(rc, "afxdp:%s: queue %u (%s): %s", x->ifname, i,
					  m->name, strerror(-rc));
		}
		q->fd = xsk_socket__fd(q->xsk);
		q->tx_batch = TX_BATCH;
		if (q->has_tx) {
			/* Copy mode sends at most TX_BATCH frames per sendto
			 * unless told more (Linux >= 6.17); the whole TX ring
			 * per call saves nslots/32 - 1 syscalls per batch.
			 * Older kernels refuse the option: no harm. */
			unsigned budget = sc.tx_size;

			if (setsockopt(q->fd, SOL_XDP, AFX_MAX_TX_SKB_BUDGET, &budget,
				       sizeof(budget)) == 0)
				q->tx_batch = budget;
		}
	}
	return 0;
}

/* Post the reserve of each RX queue to its fill ring. */
static int fill_reserve(struct unm_port *p)
{
	struct afx *x = p->priv;
	uint32_t *head = &p->nifp->ni_bufs_head;

	for (unsigned i = p->first_rx; i < p->last_rx; i++) {
		struct afx_queue *q = &x->q[i];
		uint32_t at;

		if (xsk_ring_prod__reserve(&q->fill, x->reserve, &at) != x->reserve)
			return unm_seterr(-ENOSPC, "afxdp:%s: fill ring too small", x->ifname);
		for (uint32_t k = 0; k < x->reserve; k++) {
			uint32_t idx = unm_buf_pop(&p->reg, head);

			if (!idx)
				return unm_seterr(-ENOMEM, "afxdp:%s: out of extra buffers", x->ifname);
			*xsk_ring_prod__fill_addr(&q->fill, at + k) = (uint64_t)idx * x->bs - x->shift;
		}
		xsk_ring_prod__submit(&q->fill, x->reserve);
	}
	return 0;
}

static int epoll_setup(struct unm_port *p)
{
	struct afx *x = p->priv;
	struct epoll_event ev;

	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0)
		return -errno;
	for (unsigned i = 0; i < x->nq; i++) {
		if (!x->q[i].xsk)
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.events = x->q[i].has_rx ? EPOLLIN : 0;
		ev.data.u32 = i;
		if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, x->q[i].fd, &ev) < 0)
			return -errno;
	}
	if (x->nl_fd >= 0) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u32 = UINT32_MAX;
		if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, x->nl_fd, &ev) < 0)
			return -errno;
	}
	return 0;
}

/* ---- open / close --------------------------------------------------------- */

static void afxdp_close(struct unm_port *p)
{
	struct afx *x = p->priv;
	struct print_save ps;

	if (!x)
		return;
	print_grab(&ps);
	if (x->q)
		sockets_close(x);
	prog_cleanup(x);
	print_restore(&ps);
	if (x->nl_fd >= 0)
		close(x->nl_fd);
	if (x->lock_fd >= 0)
		close(x->lock_fd);
	free(x->q);
	free(x);
	p->priv = NULL;
}

/* Geometry: ring pair i is queue i; "-Q" needs Q + 1 pairs; every bound RX
 * ring gets a fill reserve of rx_slots buffers on top of the user's extra
 * buffers. */
static int afxdp_geometry(struct unm_port *p, const struct unm_spec *s,
			  const struct unm_open_opts *o, struct unm_open_opts *g,
			  uint32_t *reserve)
{
	unsigned bound_rx;

	*g = *o;
	if (g->buf_size != 2048 && g->buf_size != 4096)
		return unm_seterr(-EINVAL, "afxdp:%s: bufsize=%u: AF_XDP needs 2048 or 4096",
				  s->port, g->buf_size);
	if (g->vnet_hdr_len)
		return unm_seterr(-EINVAL, "afxdp:%s: no virtio-net header on AF_XDP", s->port);
	if (s->ring >= 0) {
		if (g->tx_rings < (unsigned)s->ring + 1)
			g->tx_rings = (unsigned)s->ring + 1;
		if (g->rx_rings < (unsigned)s->ring + 1)
			g->rx_rings = (unsigned)s->ring + 1;
	}
	bound_rx = (s->flags & UNM_SPEC_TX_ONLY) ? 0 : s->ring >= 0 ? 1 : g->rx_rings;
	*reserve = g->rx_slots;
	if (g->extra_bufs + (uint64_t)bound_rx * *reserve > 65536)
		return unm_seterr(-EINVAL, "afxdp:%s: too many buffers (%u extra + %u x %u fill reserve)",
				  s->port, g->extra_bufs, bound_rx, *reserve);
	g->extra_bufs += bound_rx * *reserve;
	return 0;
}

static int afxdp_open_modes(struct unm_port *p)
{
	char errs[400] = "";
	const char *why = NULL;
	size_t off = 0;
	int rc = -EOPNOTSUPP;

	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		if (!mode_allowed(&modes[i], &why)) {
			if (why)
				return unm_seterr(-EINVAL, "afxdp: %s", why);
			continue;
		}
		rc = sockets_open(p, &modes[i]);
		if (rc == 0) {
			struct afx *x = p->priv;

			x->zerocopy = modes[i].bind == XDP_ZEROCOPY;
			x->generic = modes[i].xdp_flags == XDP_FLAGS_SKB_MODE;
			unm_log(UNM_LOG_INFO, "afxdp:%s: %s", x->ifname, modes[i].name);
			return 0;
		}
		off += (size_t)snprintf(errs + off, sizeof(errs) - off, "%s%s",
					off ? "; " : "", unm_errmsg());
		if (off >= sizeof(errs))
			off = sizeof(errs) - 1;
		sockets_close(p->priv);
	}
	if (!errs[0])
		return unm_seterr(-EINVAL, "afxdp: UNM_AFXDP_BIND/UNM_AFXDP_XDP leave no mode");
	return unm_seterr(rc, "%s", errs);
}

static int afxdp_open(struct unm_port *p, const struct unm_spec *s,
		      const struct unm_open_opts *o)
{
	const struct unm_region_hdr *h;
	struct unm_open_opts g;
	struct print_save ps;
	struct afx *x;
	uint8_t mac[6];
	unsigned mtu;
	int rc, ifindex;

	ifindex = (int)if_nametoindex(s->port);
	if (!ifindex)
		return unm_seterr(-ENODEV, "afxdp:%s: no such interface", s->port);
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->nl_fd = x->lock_fd = -1;
	x->ifindex = ifindex;
	snprintf(x->ifname, sizeof(x->ifname), "%.15s", s->port);
	p->priv = x;
	rc = afxdp_geometry(p, s, o, &g, &x->reserve);
	if (rc)
		goto fail;
	if_query(x->ifname, &mtu, mac);
	rc = unm_port_create_self(p, &g, mtu, mac);
	if (rc)
		goto fail;
	h = unm_region_hdr(&p->reg);
	x->bs = h->buf_size;
	x->nbufs = h->buf_count;
	x->umem_area = (char *)p->reg.base + h->buf_pool_ofs;
	x->umem_size = p->reg.size - h->buf_pool_ofs; /* both page aligned */
	x->nq = p->n_tx > p->n_rx ? p->n_tx : p->n_rx;
	x->q = calloc(x->nq, sizeof(*x->q));
	if (!x->q) {
		rc = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < x->nq; i++) {
		x->q[i].fd = -1;
		x->q[i].has_tx = i >= p->first_tx && i < p->last_tx;
		x->q[i].has_rx = i >= p->first_rx && i < p->last_rx;
	}
	x->nl_fd = nl_open();
	x->lock_fd = lock_open(x);
	print_grab(&ps);
	rc = afxdp_open_modes(p);
	print_restore(&ps);
	if (rc)
		goto fail;
	rc = fill_reserve(p);
	if (!rc)
		rc = epoll_setup(p);
	if (rc) {
		if (!unm_errmsg()[0])
			unm_seterr(rc, "afxdp:%s: %s", x->ifname, strerror(-rc));
		goto fail;
	}
	return 0;
fail: /* unm_open tears the rest down (port_teardown, as unm_close) */
	return rc;
}

/* ---- TX ------------------------------------------------------------------- */

/* Hand free buffer IDX to the TX slot at hwtail, which becomes the
 * application's. Only called while slots are in flight (hwtail + 1 != hwcur). */
static inline void tx_complete(struct unm_kring *kr, uint32_t idx)
{
	struct unm_slot *s = &kr->ring->slot[kr->hwtail];

	if (s->buf_idx != idx) {
		s->buf_idx = idx;
		s->flags = UNM_NS_BUF_CHANGED;
	} else {
		s->flags = 0;
	}
	kr->hwtail = kr_next(kr, kr->hwtail);
}

static void tx_reclaim(struct unm_port *p, struct unm_kring *kr, struct afx_queue *q)
{
	struct afx *x = p->priv;
	uint32_t at, n = xsk_ring_cons__peek(&q->comp, kr->nslots, &at);

	for (uint32_t k = 0; k < n; k++) {
		uint64_t addr = *xsk_ring_cons__comp_addr(&q->comp, at + k);
		uint32_t idx = (uint32_t)(addr / x->bs);

		/* The kernel returns what we submitted; anything else (or
		 * more completions than frames in flight) is counted. */
		if (addr % x->bs || idx < 2 || idx >= x->nbufs ||
		    kr_next(kr, kr->hwtail) == kr->hwcur) {
			p->st.bad_buf++;
			continue;
		}
		tx_complete(kr, idx);
	}
	if (n)
		xsk_ring_cons__release(&q->comp, n);
}

/* Make the kernel consume the TX ring (copy mode sends TX_BATCH per call). */
static int tx_kick(struct unm_port *p, struct afx_queue *q, uint32_t pending)
{
	uint32_t tries = pending / q->tx_batch + 2;

	while (tries--) {
		uint32_t before = __atomic_load_n(q->tx.consumer, __ATOMIC_RELAXED);

		/* Copy mode: only sendto() moves the TX ring. */
		if (!xsk_ring_prod__needs_wakeup(&q->tx) && ((struct afx *)p->priv)->zerocopy)
			return 0;
		if (sendto(q->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0) {
			switch (errno) {
			case EAGAIN: case EBUSY: case ENOBUFS: case EINTR:
				break;
			case ENXIO: case ENODEV:
				set_gone(p, -ENODEV, "interface removed");
				return p->error;
			default:
				return -errno;
			}
		}
		/* [XK1] acquire of the kernel's TX consumer index; pairs with
		 * the kernel's release when it consumes descriptors
		 * (net/xdp/xsk_queue.h). The XDP rings' other barriers are in
		 * libxdp's inline xsk_ring_* helpers. */
		if (__atomic_load_n(q->tx.consumer, __ATOMIC_ACQUIRE) == *q->tx.producer)
			return 0;
		if (__atomic_load_n(q->tx.consumer, __ATOMIC_RELAXED) == before)
			return 0;
	}
	return 0;
}

/* One TX slot: a descriptor, or a drop that completes at once. */
static inline bool tx_one(struct unm_port *p, struct unm_kring *kr, uint32_t i,
			  struct xdp_desc *d, bool *in_chain)
{
	struct afx *x = p->priv;
	struct unm_slot *s = &kr->ring->slot[i];
	uint32_t idx = UNM_READ_ONCE(s->buf_idx);
	uint16_t len = UNM_READ_ONCE(s->len), fl = UNM_READ_ONCE(s->flags);
	bool chain = *in_chain || (fl & UNM_NS_MOREFRAG);

	*in_chain = fl & UNM_NS_MOREFRAG;
	if (likely(!chain && idx >= 2 && idx < x->nbufs && len && len <= x->bs)) {
		d->addr = (uint64_t)idx * x->bs;
		d->len = len;
		d->options = 0;
		p->st.tx_frames++;
		p->st.tx_bytes += len;
		return true;
	}
	/* Multi-buffer frames are not sent (no XDP_USE_SG): dropped whole. */
	if (chain) {
		if (!*in_chain)
			p->st.drops++;
	} else if (idx < 2 || idx >= x->nbufs) {
		p->st.bad_buf++;
	} else {
		p->st.bad_len++;
	}
	return false;
}

static int afxdp_txsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct afx *x = p->priv;
	struct afx_queue *q = &x->q[kr->ringid];
	uint32_t n = kr_dist(kr, kr->hwcur, head), at = 0, sent = 0;
	bool in_chain = false;
	int rc = 0;

	if (unlikely(p->error))
		return p->error;
	if (n) {
		/* The TX ring has at least nslots entries and at most
		 * nslots - 1 frames are in flight, so this never comes short. */
		if (xsk_ring_prod__reserve(&q->tx, n, &at) != n)
			return -EAGAIN;
		for (uint32_t i = kr->hwcur; i != head; i = kr_next(kr, i)) {
			struct xdp_desc *d = xsk_ring_prod__tx_desc(&q->tx, at + sent);
			uint32_t idx = kr->ring->slot[i].buf_idx;

			if (tx_one(p, kr, i, d, &in_chain)) {
				sent++;
				kr->hwcur = kr_next(kr, i);
			} else {
				kr->hwcur = kr_next(kr, i);
				tx_complete(kr, idx);
			}
		}
		/* Unused reservations are taken back before publishing. */
		q->tx.cached_prod -= n - sent;
		if (sent)
			xsk_ring_prod__submit(&q->tx, sent);
	}
	if (*q->tx.producer != __atomic_load_n(q->tx.consumer, __ATOMIC_ACQUIRE)) /* [XK1] */
		rc = tx_kick(p, q, *q->tx.producer - *q->tx.consumer);
	tx_reclaim(p, kr, q);
	if (!n && kr_next(kr, kr->hwtail) == kr->hwcur)
		idle_check(p);
	return rc ? rc : p->error;
}

/* ---- RX ------------------------------------------------------------------- */

/* Buffer index of a received descriptor, with its data moved to the buffer
 * start if it is elsewhere; 0 if the descriptor is not one of ours. */
static inline uint32_t rx_buf(struct afx *x, const struct xdp_desc *d)
{
	uint64_t base = x->shift ? xsk_umem__extract_addr(d->addr) : d->addr - d->addr % x->bs;
	uint64_t data = xsk_umem__add_offset_to_addr(d->addr);
	uint64_t start;
	uint32_t idx;

	if ((base + x->shift) % x->bs)
		return 0;
	idx = (uint32_t)((base + x->shift) / x->bs);
	start = (uint64_t)idx * x->bs;
	if (idx < 2 || idx >= x->nbufs || data < base || data + d->len > start + x->bs ||
	    d->len > x->bs)
		return 0;
	if (data != start)
		memmove(x->umem_area + start, x->umem_area + data, d->len);
	return idx;
}

static int afxdp_rxsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct afx *x = p->priv;
	struct afx_queue *q = &x->q[kr->ringid];
	uint32_t room = kr->nslots - 1 - kr_dist(kr, head, kr->hwtail);
	uint32_t at = 0, fat = 0, n, posted = 0;

	/* Released slots [hwcur, head) are port-owned free buffers now:
	 * each is swapped out when a frame lands in its slot. */
	kr->hwcur = head;
	/* The fill ring is twice the reserve: the kernel publishes its fill
	 * consumer index lazily, so up to `reserve` entries it has already
	 * used may still look occupied. Never take more frames than there
	 * are fill entries to swap their slots' buffers into. */
	n = xsk_cons_nb_avail(&q->rx, room);
	if (n)
		n = xsk_prod_nb_free(&q->fill, n) < n ? xsk_prod_nb_free(&q->fill, n) : n;
	if (n) {
		xsk_ring_cons__peek(&q->rx, n, &at);
		xsk_ring_prod__reserve(&q->fill, n, &fat);
		for (uint32_t k = 0; k < n; k++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&q->rx, at + k);
			struct unm_slot *s = &kr->ring->slot[kr->hwtail];
			uint32_t idx = rx_buf(x, d);
			uint32_t old = UNM_READ_ONCE(s->buf_idx); /* free, port-owned */

			if (!idx) {
				p->st.bad_buf++;
				continue;
			}
			if (old < 2 || old >= x->nbufs) {
				/* The application left garbage: keep the
				 * fill level by recycling the frame instead. */
				p->st.bad_buf++;
				p->st.drops++;
				*xsk_ring_prod__fill_addr(&q->fill, fat + posted++) =
					(uint64_t)idx * x->bs - x->shift;
				continue;
			}
			*xsk_ring_prod__fill_addr(&q->fill, fat + posted++) =
				(uint64_t)old * x->bs - x->shift;
			/* see the header: checksums a local sender left partial */
			if (unm_csum_fix_partial(x->umem_area + (uint64_t)idx * x->bs, d->len))
				x->csum_fixed++;
			s->buf_idx = idx;
			s->len = (uint16_t)d->len;
			s->flags = UNM_NS_BUF_CHANGED;
			p->st.rx_frames++;
			p->st.rx_bytes += d->len;
			kr->hwtail = kr_next(kr, kr->hwtail);
		}
		q->fill.cached_prod -= n - posted;
		if (posted)
			xsk_ring_prod__submit(&q->fill, posted);
		xsk_ring_cons__release(&q->rx, n);
	}
	if (xsk_ring_prod__needs_wakeup(&q->fill) && x->zerocopy)
		(void)recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	if (!n) {
		idle_check(p);
		if (p->error && kr->hwtail == head)
			return p->error;
	}
	return 0;
}

/* ---- notifications -------------------------------------------------------- */

/*
 * RX: the socket fd stays registered for EPOLLIN (readable while its RX
 * ring has frames). TX: EPOLLOUT is registered only while a TX ring is
 * blocked, and dropped again by wakeup; the kernel wakes the socket when a
 * completion frees a buffer. Double check: the XDP rings' producer indexes
 * are re-read after registering (the epoll_ctl syscall is the full barrier).
 */
static bool afxdp_arm(struct unm_port *p, struct unm_kring *kr)
{
	struct afx *x = p->priv;
	struct afx_queue *q = &x->q[kr->ringid];

	idle_check(p);
	if (p->error)
		return false;
	if (kr->dir == 0) {
		if (!q->out_armed) {
			struct epoll_event ev = { .events = EPOLLOUT | (q->has_rx ? EPOLLIN : 0),
						  .data.u32 = kr->ringid };

			if (epoll_ctl(p->epfd, EPOLL_CTL_MOD, q->fd, &ev) == 0)
				q->out_armed = true;
		}
		kr->armed = true;
		return xsk_cons_nb_avail(&q->comp, 1) > 0;
	}
	kr->armed = true;
	return xsk_cons_nb_avail(&q->rx, 1) > 0;
}

static int afxdp_wakeup(struct unm_port *p)
{
	struct afx *x = p->priv;

	for (unsigned i = 0; i < x->nq; i++) {
		struct afx_queue *q = &x->q[i];
		struct epoll_event ev = { .events = q->has_rx ? EPOLLIN : 0, .data.u32 = i };

		if (q->out_armed && epoll_ctl(p->epfd, EPOLL_CTL_MOD, q->fd, &ev) == 0)
			q->out_armed = false;
	}
	x->nl_next_ns = 0;
	nl_check(p);
	return p->error;
}

const struct unm_port_ops unm_afxdp_ops = {
	.type = "afxdp",
	.open = afxdp_open,
	.txsync = afxdp_txsync,
	.rxsync = afxdp_rxsync,
	.arm = afxdp_arm,
	.wakeup = afxdp_wakeup,
	.close = afxdp_close,
};

#endif /* CONFIG_HAVE_LIBXDP */
