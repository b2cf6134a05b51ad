// SPDX-License-Identifier: BSD-2-Clause
/*
 * afpacket.c - the embedded AF_PACKET port, "afpacket:IFNAME": the
 * application's own process exchanges frames with an existing Linux
 * interface through packet sockets with memory-mapped rings.
 *
 * Owns, per bound ring pair i:
 *   - an RX socket: TPACKET_V3 block-based RX ring, bound to IFNAME with
 *     ETH_P_ALL, PACKET_IGNORE_OUTGOING (we see what arrives, not what the
 *     host or we send) and, when the port has more than one RX ring,
 *     PACKET_FANOUT (hash by flow) in a group whose id derives from the
 *     ifindex, so "afpacket:IF-0" and "afpacket:IF-1" opened by different
 *     processes share one group;
 *   - a TX socket: TPACKET_V2 TX ring (a socket has one TPACKET version for
 *     both rings, and V3's TX ring gains nothing), bound with protocol 0 so
 *     it receives nothing, PACKET_QDISC_BYPASS, PACKET_LOSS (a frame the
 *     kernel finds malformed is skipped instead of blocking the ring) and,
 *     on Linux >= 4.8, PACKET_VNET_HDR (see TX path).
 * The first RX socket also holds PACKET_MR_PROMISC: the interface is
 * promiscuous while the port is open, and the kernel drops the membership
 * when the socket closes, whatever way the process ends.
 * "/T" opens TX sockets only and "/R" RX sockets only: a TX-only user does
 * not make the interface promiscuous, does not fill an RX ring nobody
 * reads, and does not put an ETH_P_ALL tap on the device (the kernel
 * visits the taps for every frame sent, even the ones that ignore
 * outgoing frames).
 *
 * TX path: txsync copies each frame (a MOREFRAG chain is gathered) from the
 * slot buffers into the next free TX-ring frame, marks it SEND_REQUEST, and
 * issues one sendto(MSG_DONTWAIT) per batch. The slots complete at once
 * (the data has been copied). The alternative, sendmmsg() of up to 256
 * messages whose iovecs point at the slot buffers (no userspace copy; the
 * kernel copies), was implemented (git history: "sendmmsg TX variant")
 * and cost more CPU per frame at 64 and 1500 bytes (bench/NOTES.md). The
 * ring is kept: per frame the kernel builds the skb around the
 * ring page (no msghdr/iovec import, no per-message sockaddr/cmsg
 * handling), which outweighs our memcpy of a small frame.
 * Linear copy: without a virtio-net header the kernel copies only the
 * 14-byte Ethernet header into the skb and attaches the rest of the ring
 * frame as a page fragment marked zero-copy; a veth (or any device that
 * forwards into the stack) must then allocate a page and copy the frame
 * anyway (skb_copy_ubufs), and the ring page is reference counted per
 * frame. With PACKET_VNET_HDR, each frame is preceded by a virtio_net_hdr
 * whose hdr_len (the bytes the kernel copies into the linear part) we set
 * to the whole frame when it is at most AFP_COPYBREAK bytes: one small
 * kmalloc'ed skb, no fragments: less CPU per frame than the fragment
 * path, small and 1500-byte frames alike (bench/afpacket_tx.sh against
 * trafgen; figures in bench/NOTES.md). Larger frames keep
 * hdr_len 0 (the fragment path: no high-order allocation). The header also
 * turns off the kernel's check of tp_len against the MTU: afp_copy_out()
 * already limits frames to frame_max.
 * Kernels older than 4.8 are not asked for the header: their tpacket_snd
 * may accept the option and still send the header bytes as frame data
 * (a port with vnet= then fails to open).
 * With a port header (@conf:vnet=10/12), each frame's header is checked
 * with unm_vnet_parse() (the application wrote it) and its offloads go
 * into the socket's header: NEEDS_CSUM with csum_start/offset, GSO type
 * and size, hdr_len = the headers of a GSO frame. A GSO frame larger than
 * a ring frame (the ring is sized for the MTU) is sent by sendmsg() on a
 * companion socket (big_fd: a socket with a TX ring sends only from it)
 * after the ring is flushed: with qdisc bypass tpacket_snd transmits
 * before it returns, so a flow's frames keep their order.
 * The TX socket is in the port's epoll set only while the ring is armed:
 * a socket with a waiter on its wait queue takes a wake-up call (spin lock,
 * epoll callback) for every skb freed, i.e. for every frame sent, even
 * with an event mask of 0: a visible share of a small-frame flood's CPU
 * time. A TX socket never reports an error by EPOLLERR (it is bound to
 * protocol 0, and the kernel errors only sockets with a protocol hook on
 * a device going down): errors come from sendto.
 * While the link is down the kernel refuses the whole ring (ENETDOWN);
 * the queued frames are then dropped (counted) rather than held, so a
 * waiter is not stuck on a ring that never drains.
 *
 * RX path: rxsync walks the blocks the kernel handed over (block_status has
 * TP_STATUS_USER), copies each frame into free RX slots (frames larger than
 * a buffer become MOREFRAG chains; a VLAN tag the kernel stripped into
 * tp_vlan_tci is put back), and returns each block to the kernel as soon as
 * its last frame is copied. The position inside a partly consumed block is
 * kept across syncs when the RX ring fills up.
 * Offloads on RX: a local sender (a veth peer, the host's stack) hands the
 * socket CHECKSUM_PARTIAL packets, whose TCP/UDP checksum field holds only
 * the pseudo-header sum, and, with TSO/GSO on, GSO packets of up to 64 KiB
 * (one 256 KiB block holds one). Forwarded as they are, the far end drops
 * them. The RX sockets therefore have PACKET_VNET_HDR: tpacket_rcv writes
 * a virtio_net_hdr right before each frame (NEEDS_CSUM + csum_start/offset,
 * DATA_VALID, gso_type/size), checked with unm_vnet_parse() like any
 * header (the frame's bytes come from whoever sent them). With a port
 * header the frame goes up whole behind it (the switch's offload code
 * carries it to ports with headers, or completes and cuts it,
 * daemon/vale_offload.c); without one the port completes the checksum
 * (unm_csum_complete) or cuts the GSO frame into segments
 * (unm_gso_next_frags) straight into the RX slots, after checking they
 * all fit. Frames the header cannot describe (UFO, IPv6 extension headers
 * under GSO) are dropped and counted, the first of each reason logged.
 *
 * Notifications: level-triggered epoll on the sockets; arm() registers
 * EPOLLIN on the RX socket (a block is ready) or adds the TX socket with
 * EPOLLOUT (a TX-ring frame is free again); wakeup() removes it again once
 * the ring is no longer armed. EPOLLERR on the RX socket (its sk_err, set
 * when the interface goes down or away) is always reported; wakeup() reads
 * it.
 *
 * Interface deleted while open: TX sendto fails with ENXIO/ENODEV, and RX
 * notices through EPOLLERR in wakeup() or, for busy pollers that never
 * sleep, a liveness check at most every 50 ms while no frame arrives. The
 * port is then errored with -ENXIO (a mere link down is not an error: the
 * interface is checked to still exist).
 *
 * Threads: one thread per ring pair (API contract); ring pair i's state is
 * in rx[i]/tx[i] only. The kernel is the other party of every mmap'ed
 * ring: its partners of our barriers are named below ([K..]).
 */
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <endian.h>
#include <linux/virtio_net.h>
#include <arpa/inet.h>
#include "internal.h"
#include "offload/offload.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define AFP_BLOCK_SIZE   (256u << 10)  /* V3 RX block: holds a 64 KiB GSO frame */
#define AFP_BLOCK_TOV_MS 1             /* hand over a partly filled block after 1 ms */
#define AFP_CHECK_NS     (50ull * 1000 * 1000)
#define AFP_TX_HDR       TPACKET_ALIGN(sizeof(struct tpacket2_hdr)) /* data offset */
#define AFP_VNET_LEN     sizeof(struct virtio_net_hdr)
#define AFP_COPYBREAK    2048u         /* largest frame copied into a linear skb */
#define AFP_EV_TX        0x10000u      /* epoll data: TX socket of pair (low bits) */

struct afp_rx {
	int fd;
	uint8_t *map;
	size_t map_len;
	unsigned nblocks, blk;      /* current block */
	unsigned pkts_left;         /* frames left in the open block, 0 = not open */
	uint32_t pkt_off;           /* offset of the next frame in the open block */
	uint32_t ev_reg;
	bool vnet;                  /* PACKET_VNET_HDR: a header before each frame */
};

struct afp_tx {
	int fd;
	uint8_t *map;
	size_t map_len;
	unsigned frame_size, nframes, next;
	unsigned vnet;              /* 0 or AFP_VNET_LEN: header before each frame */
	int big_fd;                 /* frames larger than a ring frame (port header only) */
	bool kick;                  /* frames queued that no sendto has taken */
	uint32_t ev_reg;
};

struct afp_priv {
	char ifname[IFNAMSIZ];
	int ifindex;
	unsigned mtu, frame_max;    /* frame_max: largest frame the device takes */
	unsigned first, last;       /* ring pairs with sockets */
	unsigned vnet;              /* the port's header: 0, 10 or 12 bytes in the slots */
	uint64_t csum_done, gso_cut; /* RX, port without header: checksums completed, GSO frames cut */
	uint64_t rx_why[UNM_VNET_DROP__COUNT], tx_why[UNM_VNET_DROP__COUNT]; /* log once each */
	uint64_t next_check;        /* liveness check deadline (unm_now_ns) */
	struct afp_rx rx[UNM_MAX_RINGS];
	struct afp_tx tx[UNM_MAX_RINGS];
};

static int sockopt(int fd, int opt, const void *v, socklen_t len)
{
	return setsockopt(fd, SOL_PACKET, opt, v, len) < 0 ? -errno : 0;
}

static int afp_socket(struct afp_priv *ap)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0) {
		int e = errno;

		if (e == EPERM || e == EACCES)
			return unm_seterr(-e, "afpacket: socket(AF_PACKET): %s (needs CAP_NET_RAW)",
					  strerror(e));
		return unm_seterr(-e, "afpacket: socket(AF_PACKET): %s", strerror(e));
	}
	return fd;
}

static int afp_bind(struct afp_priv *ap, int fd, uint16_t proto)
{
	struct sockaddr_ll sll;

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(proto);
	sll.sll_ifindex = ap->ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return unm_seterr(-errno, "afpacket: %s: bind: %s", ap->ifname, strerror(errno));
	return 0;
}

#define OPT_OR_FAIL(fd, opt, val)                                                      \
	do {                                                                           \
		int _rc = sockopt(fd, opt, &(val), sizeof(val));                        \
		if (_rc)                                                               \
			return unm_seterr(_rc, "afpacket: %s: " #opt ": %s", ap->ifname, \
					  strerror(-_rc));                             \
	} while (0)

static int afp_open_rx(struct afp_priv *ap, struct afp_rx *rx, unsigned ring_slots,
		       unsigned buf_size, unsigned nrx, bool promisc)
{
	struct tpacket_req3 req;
	int ver = TPACKET_V3, one = 1, fd, rc;
	size_t want = (size_t)ring_slots * buf_size * 2;

	fd = afp_socket(ap);
	if (fd < 0)
		return fd;
	rx->fd = fd;
	OPT_OR_FAIL(fd, PACKET_VERSION, ver);
	/* Before the ring (EBUSY after): the checksum state and GSO type of
	 * each frame (see RX path); without it, the old kernel's frames are
	 * taken as they are. */
	if (sockopt(fd, PACKET_VNET_HDR, &one, sizeof(one)) == 0)
		rx->vnet = true;
	else if (ap->vnet)
		return unm_seterr(-EOPNOTSUPP, "afpacket: %s: vnet=%u: the kernel refuses "
				  "PACKET_VNET_HDR on RX", ap->ifname, ap->vnet);
	else
		unm_log(UNM_LOG_INFO, "afpacket: %s: RX without PACKET_VNET_HDR: partial "
			"checksums and GSO frames of local senders are not handled", ap->ifname);
	memset(&req, 0, sizeof(req));
	req.tp_block_size = AFP_BLOCK_SIZE;
	req.tp_block_nr = (unsigned)((want + AFP_BLOCK_SIZE - 1) / AFP_BLOCK_SIZE);
	if (req.tp_block_nr < 4)
		req.tp_block_nr = 4;
	if (req.tp_block_nr > 64)
		req.tp_block_nr = 64;
	req.tp_frame_size = 2048; /* V3 ignores it but checks the arithmetic */
	req.tp_frame_nr = req.tp_block_nr * (AFP_BLOCK_SIZE / req.tp_frame_size);
	req.tp_retire_blk_tov = AFP_BLOCK_TOV_MS;
	OPT_OR_FAIL(fd, PACKET_RX_RING, req);
	rx->nblocks = req.tp_block_nr;
	rx->map_len = (size_t)req.tp_block_nr * req.tp_block_size;
	rx->map = mmap(NULL, rx->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (rx->map == MAP_FAILED) {
		rx->map = NULL;
		return unm_seterr(-errno, "afpacket: %s: mmap RX ring: %s", ap->ifname, strerror(errno));
	}
	OPT_OR_FAIL(fd, PACKET_IGNORE_OUTGOING, one);
	rc = afp_bind(ap, fd, ETH_P_ALL);
	if (rc)
		return rc;
	if (nrx > 1) {
		int fanout = (ap->ifindex & 0xffff) | (PACKET_FANOUT_HASH << 16);

		OPT_OR_FAIL(fd, PACKET_FANOUT, fanout);
	}
	if (promisc) {
		struct packet_mreq mr;

		memset(&mr, 0, sizeof(mr));
		mr.mr_ifindex = ap->ifindex;
		mr.mr_type = PACKET_MR_PROMISC;
		rc = sockopt(fd, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr));
		if (rc)
			unm_log(UNM_LOG_WARN, "afpacket: %s: promiscuous mode: %s", ap->ifname,
				strerror(-rc));
	}
	return 0;
}

/* Does tpacket_snd() honour PACKET_VNET_HDR (Linux >= 4.8)? */
static bool afp_tx_vnet_ok(void)
{
	struct utsname u;
	unsigned maj = 0, min = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &maj, &min) != 2)
		return false;
	return maj > 4 || (maj == 4 && min >= 8);
}

/* The TX ring's companion for GSO frames larger than a ring frame: a
 * plain packet socket with PACKET_VNET_HDR (sendmsg), protocol 0, qdisc
 * bypass like the ring's (same path, so the order of a flow is kept), and
 * a send buffer for a few 64 KiB frames in flight. */
static int afp_open_big(struct afp_priv *ap, struct afp_tx *tx)
{
	int one = 1, sndbuf = 4 << 20, fd = afp_socket(ap);

	if (fd < 0)
		return fd;
	tx->big_fd = fd;
	OPT_OR_FAIL(fd, PACKET_VNET_HDR, one);
	(void)sockopt(fd, PACKET_QDISC_BYPASS, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	return afp_bind(ap, fd, 0);
}

static int afp_open_tx(struct afp_priv *ap, struct afp_tx *tx, unsigned ring_slots)
{
	struct tpacket_req req;
	int ver = TPACKET_V2, one = 1, fd;
	unsigned fs = 256, bs, fpb;

	fd = afp_socket(ap);
	if (fd < 0)
		return fd;
	tx->fd = fd;
	OPT_OR_FAIL(fd, PACKET_VERSION, ver);
	OPT_OR_FAIL(fd, PACKET_LOSS, one);
	if (sockopt(fd, PACKET_QDISC_BYPASS, &one, sizeof(one)))
		unm_log(UNM_LOG_INFO, "afpacket: %s: no PACKET_QDISC_BYPASS", ap->ifname);
	/* Before the ring: the kernel refuses it (EBUSY) once a ring exists. */
	if (afp_tx_vnet_ok() && !sockopt(fd, PACKET_VNET_HDR, &one, sizeof(one)))
		tx->vnet = AFP_VNET_LEN;
	else if (ap->vnet)
		return unm_seterr(-EOPNOTSUPP, "afpacket: %s: vnet=%u needs PACKET_VNET_HDR on "
				  "TX rings (Linux >= 4.8)", ap->ifname, ap->vnet);
	else
		unm_log(UNM_LOG_INFO, "afpacket: %s: TX without PACKET_VNET_HDR", ap->ifname);
	if (ap->vnet) {
		int rc = afp_open_big(ap, tx);

		if (rc)
			return rc;
	}
	while (fs < AFP_TX_HDR + tx->vnet + ap->frame_max)
		fs <<= 1;
	bs = fs > 4096 ? fs : 4096;
	fpb = bs / fs;
	memset(&req, 0, sizeof(req));
	req.tp_frame_size = fs;
	req.tp_block_size = bs;
	req.tp_block_nr = (ring_slots + fpb - 1) / fpb;
	req.tp_frame_nr = req.tp_block_nr * fpb;
	OPT_OR_FAIL(fd, PACKET_TX_RING, req);
	tx->frame_size = fs;
	tx->nframes = req.tp_frame_nr;
	tx->map_len = (size_t)req.tp_block_nr * bs;
	tx->map = mmap(NULL, tx->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (tx->map == MAP_FAILED) {
		tx->map = NULL;
		return unm_seterr(-errno, "afpacket: %s: mmap TX ring: %s", ap->ifname, strerror(errno));
	}
	return afp_bind(ap, fd, 0); /* protocol 0: this socket receives nothing */
}

static void afp_free(struct afp_priv *ap)
{
	if (!ap)
		return;
	for (unsigned i = 0; i < UNM_MAX_RINGS; i++) {
		if (ap->rx[i].map)
			munmap(ap->rx[i].map, ap->rx[i].map_len);
		if (ap->rx[i].fd >= 0)
			close(ap->rx[i].fd);
		if (ap->tx[i].map)
			munmap(ap->tx[i].map, ap->tx[i].map_len);
		if (ap->tx[i].fd >= 0)
			close(ap->tx[i].fd);
		if (ap->tx[i].big_fd >= 0)
			close(ap->tx[i].big_fd);
	}
	free(ap);
}

/* MTU and MAC of the interface through the (first) packet socket. */
static void afp_query_dev(struct afp_priv *ap, int fd, uint8_t mac[6])
{
	ap->mtu = 1500;
	unm_netdev_query(ap->ifname, fd, &ap->mtu, mac);
	ap->frame_max = ap->mtu + 14 + 4;
	if (ap->frame_max > UNM_MAX_FRAME)
		ap->frame_max = UNM_MAX_FRAME;
}

static int afp_open_pairs(struct unm_port *p, struct afp_priv *ap, const struct unm_spec *s,
			  const struct unm_open_opts *o)
{
	int rc;

	for (unsigned i = ap->first; i < ap->last; i++) {
		if (i < o->rx_rings && !(s->flags & UNM_SPEC_TX_ONLY)) {
			rc = afp_open_rx(ap, &ap->rx[i], o->rx_slots, o->buf_size, o->rx_rings,
					 i == ap->first);
			if (rc)
				return rc;
			rc = unm_port_watch(p, ap->rx[i].fd, 0, i);
			if (rc)
				return rc;
		}
		if (i < o->tx_rings && !(s->flags & UNM_SPEC_RX_ONLY)) {
			/* not in the epoll set until armed (see the header) */
			rc = afp_open_tx(ap, &ap->tx[i], o->tx_slots);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int afp_open(struct unm_port *p, const struct unm_spec *s, const struct unm_open_opts *o)
{
	struct afp_priv *ap;
	uint8_t mac[6] = { 0 };
	unsigned npairs = o->tx_rings > o->rx_rings ? o->tx_rings : o->rx_rings;
	int rc, fd;

	if (o->vnet_hdr_len && o->vnet_hdr_len != 10 && o->vnet_hdr_len != 12)
		return unm_seterr(-EINVAL, "afpacket: %s: vnet=%u: the header is 0, 10 or 12 bytes",
				  s->port, o->vnet_hdr_len);
	if (strlen(s->port) >= IFNAMSIZ)
		return unm_seterr(-EINVAL, "afpacket: interface name '%s' longer than %d characters",
				  s->port, IFNAMSIZ - 1);
	if (npairs > UNM_MAX_RINGS)
		return unm_seterr(-EINVAL, "afpacket: %u ring pairs (max %u)", npairs, UNM_MAX_RINGS);
	ap = calloc(1, sizeof(*ap));
	if (!ap)
		return -ENOMEM;
	for (unsigned i = 0; i < UNM_MAX_RINGS; i++)
		ap->rx[i].fd = ap->tx[i].fd = ap->tx[i].big_fd = -1;
	snprintf(ap->ifname, sizeof(ap->ifname), "%s", s->port);
	ap->vnet = o->vnet_hdr_len;
	ap->first = s->ring >= 0 ? (unsigned)s->ring : 0;
	ap->last = s->ring >= 0 ? (unsigned)s->ring + 1 : npairs;
	p->priv = ap;
	if (ap->first >= npairs) {
		rc = unm_seterr(-EINVAL, "afpacket: %s: ring %d does not exist (%u ring pairs)",
				s->port, s->ring, npairs);
		goto fail;
	}
	/* A socket first, so a missing capability is reported as such. */
	fd = afp_socket(ap);
	if (fd < 0) {
		rc = fd;
		goto fail;
	}
	ap->ifindex = (int)if_nametoindex(ap->ifname);
	if (ap->ifindex <= 0) {
		close(fd);
		rc = unm_seterr(-ENODEV, "afpacket: no interface '%s'", ap->ifname);
		goto fail;
	}
	afp_query_dev(ap, fd, mac);
	close(fd);
	rc = unm_port_create_self(p, o, ap->mtu, mac);
	if (rc)
		goto fail;
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0) {
		rc = unm_seterr(-errno, "afpacket: epoll_create1: %s", strerror(errno));
		goto fail;
	}
	rc = afp_open_pairs(p, ap, s, o);
	if (rc)
		goto fail;
	ap->next_check = unm_now_ns() + AFP_CHECK_NS;
	return 0;
fail: /* unm_open tears the rest down (port_teardown, as unm_close) */
	return rc;
}

static void afp_close(struct unm_port *p)
{
	afp_free(p->priv);
	p->priv = NULL;
}

/* A socket reported an error (sk_err): consume it; error the port only if
 * the interface no longer exists (link down is not fatal). */
static void afp_check_sock(struct unm_port *p, int fd)
{
	struct afp_priv *ap = p->priv;
	char name[IF_NAMESIZE];
	int err = 0;
	socklen_t len = sizeof(err);

	if (fd >= 0)
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (!if_indextoname((unsigned)ap->ifindex, name) || strcmp(name, ap->ifname) != 0)
		unm_port_gone(p, ap->ifname);
}

/* ---- TX ------------------------------------------------------------------ */

static inline struct tpacket2_hdr *afp_tx_frame(const struct afp_tx *tx, unsigned i)
{
	return (struct tpacket2_hdr *)(tx->map + (size_t)i * tx->frame_size);
}

/* The frame at slot i as fragments (one per slot of its MOREFRAG chain,
 * each index and length read once). Returns slots used (> 0) with *nf
 * and *len, 0 if the chain runs past head, or -slots if a slot is bad or
 * the chain longer than UNM_MAX_FRAGS (the frame is dropped). */
static int afp_tx_frags(struct unm_port *p, struct unm_kring *kr, uint32_t i, uint32_t head,
			struct unm_frag *f, unsigned *nf, uint32_t *len)
{
	uint32_t total = 0;
	int n = 0;
	bool bad = false;

	for (;;) {
		const struct unm_slot *sl = &kr->ring->slot[i];
		uint32_t idx = sl->buf_idx, l = sl->len; /* app-written */

		if (!unm_buf_ok(p, idx)) {
			p->st.bad_buf++;
			bad = true;
		} else if (l > kr->buf_size) {
			p->st.bad_len++;
			bad = true;
		} else if (n >= UNM_MAX_FRAGS) {
			bad = true;
		} else if (!bad) {
			f[n].ptr = kr_buf(kr, idx);
			f[n].len = l;
			total += l;
		}
		n++;
		if (!(sl->flags & UNM_NS_MOREFRAG))
			break;
		i = kr_next(kr, i);
		if (i == head)
			return 0;
	}
	*nf = (unsigned)n;
	*len = total;
	return bad ? -n : n;
}

/* The port's header in front of the frame F (NF fragments, LEN bytes):
 * checked with unm_vnet_parse() (the application wrote it), stripped from
 * F and LEN, and turned into the socket's header in *KH (the kernel's
 * checks are not ours to rely on). Returns 0, or -1 for a bad header
 * (counted by reason). */
static int afp_tx_hdr(struct unm_port *p, struct unm_frag *f, unsigned nf, uint32_t *len,
		      struct unm_vnet_hdr *kh, struct unm_vnet_info *vi)
{
	struct afp_priv *ap = p->priv;
	enum unm_vnet_drop why = UNM_VNET_DROP_SHORT;
	uint8_t raw[UNM_VNET_HDR_LEN_MRG];

	if (f[0].len >= ap->vnet + 14) {
		memcpy(raw, f[0].ptr, ap->vnet); /* untrusted: read once */
		f[0].ptr = (uint8_t *)f[0].ptr + ap->vnet;
		f[0].len -= ap->vnet;
		*len -= ap->vnet;
		if (unm_vnet_parse(raw, ap->vnet, f, nf, vi, &why) == 0) {
			*kh = vi->hdr;
			kh->flags &= UNM_VNET_F_NEEDS_CSUM; /* DATA_VALID means nothing on TX */
			kh->num_buffers = 0;
			kh->hdr_len = kh->gso_type != UNM_VNET_GSO_NONE ? vi->payload_off : 0;
			return 0;
		}
	}
	p->st.vnet_drops++;
	if (why < UNM_VNET_DROP__COUNT && ap->tx_why[why]++ == 0)
		unm_log(UNM_LOG_INFO, "afpacket: %s: TX frame dropped: bad vnet header: %s "
			"(first of its kind)", ap->ifname, unm_vnet_drop_name(why));
	return -1;
}

/* A GSO frame larger than a TX-ring frame: sendmsg() on the TX ring's
 * companion socket (a socket with a TX ring sends only from its ring),
 * header + the slot buffers as they are (the kernel copies). Returns 0
 * (sent, or dropped and counted) or the port's error. */
static int afp_send_big(struct unm_port *p, struct afp_tx *tx, const struct unm_vnet_hdr *kh,
			const struct unm_frag *f, unsigned nf)
{
	struct iovec iov[UNM_MAX_FRAGS + 1];
	uint8_t raw[AFP_VNET_LEN];
	struct msghdr m;

	unm_vnet_hdr_encode(raw, AFP_VNET_LEN, kh);
	iov[0].iov_base = raw;
	iov[0].iov_len = sizeof(raw);
	for (unsigned i = 0; i < nf; i++) {
		iov[i + 1].iov_base = f[i].ptr;
		iov[i + 1].iov_len = f[i].len;
	}
	memset(&m, 0, sizeof(m));
	m.msg_iov = iov;
	m.msg_iovlen = nf + 1;
	if (sendmsg(tx->big_fd, &m, MSG_DONTWAIT) >= 0)
		return 0;
	switch (errno) {
	case ENXIO: case ENODEV:
		return unm_port_gone(p, ((struct afp_priv *)p->priv)->ifname);
	default: /* EAGAIN, ENOBUFS (device queue full), ENETDOWN: this frame only */
		p->st.drops++;
		return 0;
	}
}

/* Link down: the kernel will not take the queued frames. Only our sendto
 * makes it touch SEND_REQUEST frames, so turning them back to AVAILABLE
 * here cannot race; SENDING frames belong to skbs in flight: left alone. */
static void afp_tx_discard(struct unm_port *p, struct afp_tx *tx)
{
	for (unsigned f = 0; f < tx->nframes; f++) {
		struct tpacket2_hdr *h = afp_tx_frame(tx, f);

		if (UNM_READ_ONCE(h->tp_status) == TP_STATUS_SEND_REQUEST) {
			UNM_WRITE_ONCE(h->tp_status, TP_STATUS_AVAILABLE);
			p->st.drops++;
		}
	}
	tx->kick = false;
}

/* The socket's header before a frame of LEN bytes in the TX ring: the
 * offloads of KH (NULL: none); hdr_len (bytes the kernel copies into the
 * skb's linear part) = the whole frame if small enough, else the headers
 * of a GSO frame or 0 (Ethernet header only, the rest as a fragment). */
static inline void afp_vnet_put(uint8_t *dst, unsigned len, const struct unm_vnet_hdr *kh)
{
	struct unm_vnet_hdr vh;

	if (kh)
		vh = *kh;
	else
		memset(&vh, 0, sizeof(vh));
	if (len <= AFP_COPYBREAK)
		vh.hdr_len = (uint16_t)len;
	unm_vnet_hdr_encode(dst, AFP_VNET_LEN, &vh);
}

static int afp_kick(struct unm_port *p, struct afp_tx *tx)
{
	if (sendto(tx->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0) {
		tx->kick = false;
		return 0;
	}
	switch (errno) {
	case EAGAIN: case ENOBUFS: case EINTR:
		return 0; /* frames stay queued; the next sync kicks again */
	case ENXIO: case ENODEV:
		return unm_port_gone(p, ((struct afp_priv *)p->priv)->ifname);
	case ENETDOWN:
		afp_check_sock(p, tx->fd);
		if (!p->error)
			afp_tx_discard(p, tx);
		return p->error;
	default:
		return unm_seterr(-errno, "afpacket: %s: sendto: %s",
				  ((struct afp_priv *)p->priv)->ifname, strerror(errno));
	}
}

static int afp_txsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct afp_priv *ap = p->priv;
	struct afp_tx *tx = &ap->tx[kr->ringid];
	uint32_t i = kr->hwcur;
	int rc = 0;

	kr->armed = false;
	while (i != head) {
		struct tpacket2_hdr *h = afp_tx_frame(tx, tx->next);
		struct unm_frag f[UNM_MAX_FRAGS];
		struct unm_vnet_hdr kh = { 0 };
		struct unm_vnet_info vi;
		unsigned nf = 0;
		uint32_t len = 0;
		uint8_t *dst;
		int n;

		/* [AT1] acquire: the kernel is done with this frame; pairs with
		 * the kernel's store of TP_STATUS_AVAILABLE in its skb
		 * destructor [K1] (smp_wmb + status write). */
		if (unm_load_acquire(&h->tp_status) != TP_STATUS_AVAILABLE)
			break; /* TX ring full: arm() waits for EPOLLOUT */
		n = afp_tx_frags(p, kr, i, head, f, &nf, &len);
		if (n == 0)
			break;
		if (n < 0 || (ap->vnet && afp_tx_hdr(p, f, nf, &len, &kh, &vi)) ||
		    len < 14 || (len > ap->frame_max && (!ap->vnet || kh.gso_type == UNM_VNET_GSO_NONE ||
							 len > UNM_MAX_FRAME))) {
			p->st.drops++;
			goto next;
		}
		if (ap->vnet && kh.gso_type != UNM_VNET_GSO_NONE)
			p->st.gso_tx_frames++;
		p->st.tx_frames++;
		p->st.tx_bytes += len;
		if (len > ap->frame_max) {
			/* the ring's frames go first: tpacket_snd sends them
			 * before it returns (qdisc bypass), so order is kept */
			if (tx->kick && (rc = afp_kick(p, tx)))
				break;
			if ((rc = afp_send_big(p, tx, &kh, f, nf)))
				break;
			goto next;
		}
		dst = (uint8_t *)h + AFP_TX_HDR + tx->vnet;
		for (unsigned k = 0, off = 0; k < nf; off += (unsigned)f[k].len, k++)
			memcpy(dst + off, f[k].ptr, f[k].len);
		if (tx->vnet)
			afp_vnet_put((uint8_t *)h + AFP_TX_HDR, len, ap->vnet ? &kh : NULL);
		h->tp_len = len + tx->vnet;
		/* [AT2] release: frame data and tp_len written before the
		 * kernel sees SEND_REQUEST; pairs with the kernel's read
		 * of tp_status in tpacket_snd [K2] (smp_rmb after). */
		unm_store_release(&h->tp_status, TP_STATUS_SEND_REQUEST);
		tx->next = tx->next + 1 == tx->nframes ? 0 : tx->next + 1;
		tx->kick = true;
next:
		n = n < 0 ? -n : n;
		while (n--)
			i = kr_next(kr, i);
	}
	if (tx->kick && !rc)
		rc = afp_kick(p, tx);
	kr->hwcur = i;
	kr->hwtail = i == 0 ? kr->nslots - 1 : i - 1;
	return rc;
}

/* ---- RX ------------------------------------------------------------------ */

static inline struct tpacket_block_desc *afp_block(const struct afp_rx *rx, unsigned b)
{
	return (struct tpacket_block_desc *)(rx->map + (size_t)b * AFP_BLOCK_SIZE);
}

/* The frame at SRC (SNAP bytes) as fragments, with a VLAN tag the kernel
 * stripped (TAG, or NULL) put back after the two MAC addresses. */
static unsigned afp_rx_frags(const uint8_t *src, uint32_t snap, const uint8_t *tag,
			     struct unm_frag *f)
{
	if (likely(!tag)) {
		f[0].ptr = (void *)(uintptr_t)src;
		f[0].len = snap;
		return 1;
	}
	f[0].ptr = (void *)(uintptr_t)src;
	f[0].len = 12;
	f[1].ptr = (void *)(uintptr_t)tag;
	f[1].len = 4;
	f[2].ptr = (void *)(uintptr_t)(src + 12);
	f[2].len = snap - 12;
	return 3;
}

static inline uint32_t afp_nslots(uint32_t len, uint32_t buf_size)
{
	return len ? (len + buf_size - 1) / buf_size : 1;
}

/* The buffers of the slots from kr->hwtail that hold LEN bytes, as
 * fragments of exactly LEN bytes in all. Returns the slot count, or -1 if
 * the application left an invalid buffer index in one. */
static int afp_dst(struct unm_port *p, struct unm_kring *kr, uint32_t len, struct unm_frag *out)
{
	uint32_t n = afp_nslots(len, kr->buf_size), k = kr->hwtail;

	for (uint32_t i = 0; i < n; i++, k = kr_next(kr, k)) {
		uint32_t idx = kr->ring->slot[k].buf_idx; /* app-written */

		if (unlikely(!unm_buf_ok(p, idx))) {
			p->st.bad_buf++;
			return unm_seterr(-EINVAL, "afpacket: RX slot %u has invalid buffer %u", k,
					  idx), -1;
		}
		out[i].ptr = kr_buf(kr, idx);
		out[i].len = len - i * kr->buf_size > kr->buf_size ? kr->buf_size :
								      len - i * kr->buf_size;
	}
	return (int)n;
}

/* Publish the LEN bytes afp_dst() described: slot lengths and MOREFRAG. */
static void afp_dst_close(struct unm_port *p, struct unm_kring *kr, uint32_t len)
{
	p->st.rx_frames++;
	p->st.rx_bytes += len;
	do {
		struct unm_slot *sl = &kr->ring->slot[kr->hwtail];
		uint32_t n = len < kr->buf_size ? len : kr->buf_size;

		len -= n;
		sl->len = (uint16_t)n;
		sl->flags = len ? UNM_NS_MOREFRAG : 0;
		kr->hwtail = kr_next(kr, kr->hwtail);
	} while (len);
}

/* Slots all segments of the GSO frame VI take (each its own chain); 0 if
 * one can never fit in the ring. */
static uint32_t afp_seg_slots(const struct unm_kring *kr, const struct unm_vnet_info *vi)
{
	uint32_t full = vi->payload_off + vi->hdr.gso_size;
	uint32_t last = vi->payload_off + (vi->payload_len - (vi->nsegs - 1) * vi->hdr.gso_size);
	uint32_t nf = afp_nslots(full, kr->buf_size), nl = afp_nslots(last, kr->buf_size);
	uint64_t need = (uint64_t)(vi->nsegs - 1) * nf + nl;

	if (nf > UNM_MAX_FRAGS || kr->buf_size < vi->payload_off || need > kr->nslots - 1)
		return 0;
	return (uint32_t)need;
}

/* A frame the kernel handed over that we cannot take: counted, with the
 * first occurrence of each vnet reason logged. */
static int afp_rx_drop(struct unm_port *p, enum unm_vnet_drop why)
{
	struct afp_priv *ap = p->priv;

	if (why != UNM_VNET_OK && why < UNM_VNET_DROP__COUNT && ap->rx_why[why]++ == 0)
		unm_log(UNM_LOG_INFO, "afpacket: %s: RX frame dropped: %s (first of its kind)",
			ap->ifname, unm_vnet_drop_name(why));
	return -1;
}

/*
 * Copy frame H (in its block) into the free slots from kr->hwtail, putting
 * back a VLAN tag the kernel stripped, and carry or complete its offload
 * state (the virtio_net_hdr the kernel wrote before it when the socket has
 * PACKET_VNET_HDR; see the header): with a port header, the frame goes up
 * whole behind it; without, a partial checksum is completed and a GSO
 * frame is cut into segments. Returns 1 if copied, 0 if it does not fit in
 * FREE slots now, -1 if dropped, or a negative errno < -1 for a bad slot.
 */
static int afp_copy_in(struct unm_port *p, struct unm_kring *kr, const struct tpacket3_hdr *h,
		       uint32_t room_in_block, uint32_t free_slots, bool rx_vnet)
{
	struct afp_priv *ap = p->priv;
	const uint8_t *src = (const uint8_t *)h + h->tp_mac;
	uint32_t snap = h->tp_snaplen, total, need;
	uint8_t tag[4], raw[AFP_VNET_LEN];
	struct unm_frag in[3], out[UNM_MAX_FRAGS];
	struct unm_vnet_hdr vh;
	struct unm_vnet_info vi;
	enum unm_vnet_drop why = UNM_VNET_OK;
	unsigned nin, pv = ap->vnet;
	bool vlan = (h->tp_status & TP_STATUS_VLAN_VALID) != 0;
	int n;

	if (h->tp_mac > room_in_block || snap > room_in_block - h->tp_mac || snap < 14 ||
	    snap < h->tp_len)
		return -1; /* truncated or not where the block says */
	total = snap + (vlan ? 4 : 0);
	if (total > UNM_MAX_FRAME)
		return afp_rx_drop(p, UNM_VNET_DROP_TOO_LONG);
	memset(&vh, 0, sizeof(vh));
	if (rx_vnet) {
		/* tpacket_rcv writes the header right before the frame */
		if (h->tp_mac < sizeof(*h) + AFP_VNET_LEN)
			return -1;
		unm_vnet_hdr_decode(src - AFP_VNET_LEN, AFP_VNET_LEN, &vh);
		/* hdr_len is the skb's linear length, a hint that may end
		 * before the TCP header of a forwarded frame: not ours to check */
		vh.hdr_len = 0;
		vh.num_buffers = 0;
	}
	if (vlan) {
		uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ?
				h->hv1.tp_vlan_tpid : ETH_P_8021Q;

		tag[0] = (uint8_t)(tpid >> 8), tag[1] = (uint8_t)tpid;
		tag[2] = (uint8_t)(h->hv1.tp_vlan_tci >> 8), tag[3] = (uint8_t)h->hv1.tp_vlan_tci;
		/* the kernel's offsets count from the frame without the tag */
		if (vh.flags & UNM_VNET_F_NEEDS_CSUM) {
			if (vh.csum_start > 0xffff - 4)
				return afp_rx_drop(p, UNM_VNET_DROP_CSUM_RANGE);
			vh.csum_start += 4;
		}
	}
	nin = afp_rx_frags(src, snap, vlan ? tag : NULL, in);
	/* The kernel's header is checked like any other: the frame's bytes
	 * come from whoever sent them. */
	unm_vnet_hdr_encode(raw, AFP_VNET_LEN, &vh);
	if (unm_vnet_parse(raw, AFP_VNET_LEN, in, nin, &vi, &why))
		return afp_rx_drop(p, why);
	if (pv) {
		/* the port carries the header: the frame goes up whole */
		need = afp_nslots(pv + total, kr->buf_size);
		if (need > UNM_MAX_FRAGS || need > kr->nslots - 1 || kr->buf_size < pv)
			return afp_rx_drop(p, UNM_VNET_DROP_TOO_LONG);
		if (need > free_slots)
			return 0;
		if ((n = afp_dst(p, kr, pv + total, out)) < 0)
			return -EINVAL;
		unm_vnet_hdr_encode(out[0].ptr, pv, &vi.hdr);
		for (unsigned i = 0, off = pv; i < nin; off += (unsigned)in[i].len, i++)
			unm_frags_write(out, (unsigned)n, off, in[i].ptr, in[i].len);
		afp_dst_close(p, kr, pv + total);
		if (vi.hdr.gso_type != UNM_VNET_GSO_NONE)
			p->st.gso_rx_frames++;
		return 1;
	}
	if (vi.hdr.gso_type != UNM_VNET_GSO_NONE) {
		/* no header to carry it: cut the frame as the device would have */
		struct unm_gso g;
		size_t sl;

		need = afp_seg_slots(kr, &vi);
		if (!need)
			return afp_rx_drop(p, UNM_VNET_DROP_GSO_SIZE);
		if (need > free_slots)
			return 0;
		if (unm_gso_init(&g, &vi, in, nin))
			return afp_rx_drop(p, UNM_VNET_DROP_GSO_TYPE);
		ap->gso_cut++;
		while ((sl = unm_gso_peek_len(&g)) > 0) {
			if ((n = afp_dst(p, kr, (uint32_t)sl, out)) < 0)
				return -EINVAL;
			if (unm_gso_next_frags(&g, out, (unsigned)n) != (int)sl)
				return -1; /* cannot happen: room computed from vi */
			afp_dst_close(p, kr, (uint32_t)sl);
		}
		return 1;
	}
	need = afp_nslots(total, kr->buf_size);
	if (need > UNM_MAX_FRAGS)
		return -1;
	if (need > free_slots)
		return 0;
	if ((n = afp_dst(p, kr, total, out)) < 0)
		return -EINVAL;
	for (unsigned i = 0, off = 0; i < nin; off += (unsigned)in[i].len, i++)
		unm_frags_write(out, (unsigned)n, off, in[i].ptr, in[i].len);
	if (vi.hdr.flags & UNM_VNET_F_NEEDS_CSUM) {
		/* a local sender left the checksum to the device */
		unm_csum_complete(out, (unsigned)n, vi.hdr.csum_start, vi.hdr.csum_offset);
		ap->csum_done++;
	}
	afp_dst_close(p, kr, total);
	return 1;
}

/*
 * The kernel dropped frames because every block was still ours (a reader
 * not scheduled for longer than the ring lasts): it marks the next block
 * it closes TP_STATUS_LOSING while its drop counter is non-zero. Reading
 * PACKET_STATISTICS returns and clears that counter; the drops go into the
 * port's, so a loss on a loaded machine is counted, not silent: one
 * syscall per losing block, and one per idle check (afp_liveness), for
 * drops after which no block was closed (the traffic stopped).
 */
static void afp_rx_losses(struct unm_port *p, const struct afp_rx *rx)
{
	struct tpacket_stats_v3 s;
	socklen_t l = sizeof(s);

	if (getsockopt(rx->fd, SOL_PACKET, PACKET_STATISTICS, &s, &l) == 0)
		p->st.drops += s.tp_drops;
}

static void afp_liveness(struct unm_port *p, struct afp_rx *rx)
{
	struct afp_priv *ap = p->priv;
	uint64_t now = unm_now_ns();
	struct pollfd pfd = { .fd = rx->fd, .events = 0 };

	if (now < ap->next_check)
		return;
	ap->next_check = now + AFP_CHECK_NS;
	afp_rx_losses(p, rx);
	if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)))
		afp_check_sock(p, rx->fd);
}

static int afp_rxsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct afp_priv *ap = p->priv;
	struct afp_rx *rx = &ap->rx[kr->ringid];
	uint32_t free_slots;
	bool got = false;

	kr->armed = false;
	kr->hwcur = head;
	free_slots = kr->nslots - 1 - kr_dist(kr, kr->hwcur, kr->hwtail);
	while (free_slots) {
		struct tpacket_block_desc *bd = afp_block(rx, rx->blk);
		const struct tpacket3_hdr *h;
		uint32_t before = kr->hwtail;
		int r;

		if (!rx->pkts_left) {
			/* [AR1] acquire: the block's frames are written; pairs
			 * with the kernel's smp_wmb before it stores
			 * TP_STATUS_USER in prb_close_block [K3]. */
			uint32_t bst = unm_load_acquire(&bd->hdr.bh1.block_status);

			if (!(bst & TP_STATUS_USER))
				break;
			if (unlikely(bst & TP_STATUS_LOSING))
				afp_rx_losses(p, rx);
			rx->pkts_left = bd->hdr.bh1.num_pkts;
			rx->pkt_off = bd->hdr.bh1.offset_to_first_pkt;
			if (!rx->pkts_left)
				goto release;
		}
		if (rx->pkt_off < sizeof(*bd) || rx->pkt_off > AFP_BLOCK_SIZE - sizeof(*h)) {
			p->st.drops += rx->pkts_left; /* nonsense offset: give the block back */
			goto release;
		}
		h = (const struct tpacket3_hdr *)((uint8_t *)bd + rx->pkt_off);
		r = afp_copy_in(p, kr, h, AFP_BLOCK_SIZE - rx->pkt_off, free_slots, rx->vnet);
		if (r == 0)
			break; /* RX ring full: resume here next sync */
		if (r < 0) {
			if (r != -1)
				return r;
			p->st.drops++;
		}
		got = true;
		free_slots -= kr_dist(kr, before, kr->hwtail);
		rx->pkt_off += h->tp_next_offset;
		if (--rx->pkts_left)
			continue;
release:
		rx->pkts_left = 0;
		/* [AR2] release: our reads of the block are done before the
		 * kernel may refill it; pairs with the kernel's read of
		 * block_status in prb_dispatch_next_block/tpacket_rcv [K4]. */
		unm_store_release(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL);
		rx->blk = rx->blk + 1 == rx->nblocks ? 0 : rx->blk + 1;
	}
	if (!got && !p->error)
		afp_liveness(p, rx);
	if (unlikely(p->error)) /* report it once the app has drained the ring */
		return kr->hwcur == kr->hwtail ? p->error : 0;
	return 0;
}

/* ---- notifications ---------------------------------------------------- */

/* Register WANT for FD. An RX socket stays in the set (mask 0 still
 * reports EPOLLERR); a TX socket is added for a non-zero mask and removed
 * for 0 (see the header: a registered TX socket costs a wake-up per frame). */
static void afp_ev_update(struct unm_port *p, int fd, uint32_t *ev_reg, uint32_t data, uint32_t want)
{
	struct epoll_event ev = { .events = want, .data.u32 = data };
	int op = EPOLL_CTL_MOD;

	if (fd < 0 || want == *ev_reg)
		return;
	if (data & AFP_EV_TX)
		op = !want ? EPOLL_CTL_DEL : !*ev_reg ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	if (epoll_ctl(p->epfd, op, fd, &ev) == 0)
		*ev_reg = want;
}

static bool afp_arm(struct unm_port *p, struct unm_kring *kr)
{
	struct afp_priv *ap = p->priv;
	unsigned i = kr->ringid;

	kr->armed = true;
	if (kr->dir)
		afp_ev_update(p, ap->rx[i].fd, &ap->rx[i].ev_reg, i, EPOLLIN);
	else
		afp_ev_update(p, ap->tx[i].fd, &ap->tx[i].ev_reg, i | AFP_EV_TX, EPOLLOUT);
	return false; /* level-triggered: nothing can be missed */
}

static int afp_wakeup(struct unm_port *p)
{
	struct afp_priv *ap = p->priv;
	struct epoll_event ev[2 * UNM_MAX_RINGS];
	int n = epoll_wait(p->epfd, ev, 2 * UNM_MAX_RINGS, 0);

	for (int k = 0; k < n; k++) {
		unsigned i = ev[k].data.u32 & ~AFP_EV_TX;
		bool is_tx = ev[k].data.u32 & AFP_EV_TX;

		if (i >= UNM_MAX_RINGS)
			continue;
		if (ev[k].events & (EPOLLERR | EPOLLHUP))
			afp_check_sock(p, is_tx ? ap->tx[i].fd : ap->rx[i].fd);
		if (is_tx && (ev[k].events & EPOLLOUT) && i < p->n_tx)
			p->tx[i].armed = false;
		if (!is_tx && (ev[k].events & EPOLLIN) && i < p->n_rx)
			p->rx[i].armed = false;
	}
	for (unsigned i = ap->first; i < ap->last; i++) {
		if (i < p->n_rx)
			afp_ev_update(p, ap->rx[i].fd, &ap->rx[i].ev_reg, i,
				      p->rx[i].armed ? EPOLLIN : 0);
		if (i < p->n_tx)
			afp_ev_update(p, ap->tx[i].fd, &ap->tx[i].ev_reg, i | AFP_EV_TX,
				      p->tx[i].armed ? EPOLLOUT : 0);
	}
	return p->error;
}

const struct unm_port_ops unm_afpacket_ops = {
	.type = "afpacket",
	.open = afp_open,
	.txsync = afp_txsync,
	.rxsync = afp_rxsync,
	.arm = afp_arm,
	.wakeup = afp_wakeup,
	.close = afp_close,
};
