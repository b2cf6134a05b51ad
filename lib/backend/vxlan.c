// SPDX-License-Identifier: BSD-2-Clause
/*
 * vxlan.c - the vxlan port, "vxlan:REMOTE[,REMOTE...]@conf:vni=N[,port=P]
 * [,local=IP][,ttl=T][,learn=N][,ageing=S][,rxcsum=verify|trust]": Ethernet
 * frames carried in UDP (RFC 7348) to and from other VTEPs (Linux vxlan
 * devices, Open vSwitch, other unetmap hosts), over an IPv4 or IPv6
 * underlay.
 *
 * Owns: one UDP socket bound to LOCAL:PORT (any address if no local=;
 * any address and a group membership when the remote is a multicast
 * group) that receives, VX_NTX unconnected UDP sockets bound to LOCAL:0
 * that send, the port's epoll fd, and the learning table (inner source
 * MAC -> remote VTEP, vxlan_conf.c). One ring pair.
 *
 * Source ports: RFC 7348 asks for a source port from a hash of the inner
 * flow so that the underlay's ECMP spreads flows. Each send socket has its
 * own ephemeral port, which the kernel picks from
 * net.ipv4.ip_local_port_range (32768-60999 by default, the range Linux's
 * vxlan uses when no srcport range is given); a frame goes out through
 * socket hash(inner flow) % VX_NTX, so every frame of a flow leaves from
 * the same port and different flows use up to VX_NTX ports.
 *
 * Linux's defaults, kept: outer TTL inherited from the route (the
 * socket's default, net.ipv4.ip_default_ttl), 1 towards a multicast
 * group; DF clear on IPv4 (IP_PMTUDISC_DONT, Linux's "df unset"); the
 * inner MTU is the underlay MTU minus 50 (IPv4) or 70 (IPv6). The outer
 * UDP checksum is computed (Linux sends zero over IPv4 by default; RFC
 * 7348 lets receivers accept both, and UDP GSO needs it).
 *
 * TX: a sync walks the TX ring once. Each frame goes to the remote its
 * destination MAC was learned behind, or, for broadcast, multicast and
 * unknown unicast, to every remote in turn (head-end replication) or to
 * the group. Datagrams are queued in an array of mmsghdr (iovecs: the
 * port's constant 8-byte VXLAN header, then the slot buffers: no copy)
 * and sent with one sendmmsg per batch and socket; consecutive frames of
 * one size to one remote become one message with UDP_SEGMENT (the kernel
 * segments it, or the NIC does), so a burst of a TCP flow costs one
 * sendmsg per 64 frames. The kernel copies during the call: slots are
 * handed back at once. EAGAIN/ENOBUFS stop the sync at the first frame
 * (and replica) not sent; EPOLLOUT then wakes the waiter.
 *
 * Offloads: opened with a virtio-net header (@conf:vnet=10/12; unmd
 * attaches a vxlan port with 12 bytes unless told otherwise), the header
 * of each TX frame is read once and validated (unm_vnet_parse). A GSO
 * frame (TSO, USO) becomes complete inner frames, at most the inner MTU
 * each (inner headers replicated and fixed up, inner checksums complete:
 * lib/offload), each behind its VXLAN header, sent back to back as UDP
 * GSO messages: the kernel's UDP segmentation only cuts at equal offsets,
 * so every datagram on the wire is valid VXLAN with valid inner TCP. To
 * one remote only the headers are built (scratch area) and the payload is
 * sent from the slots; floods copy whole segments into the scratch area
 * once for all replicas. A partial checksum (NEEDS_CSUM) is completed in
 * a copy. Segment sizes and counts are bounded by the scratch area:
 * frames that would need more are dropped (tx_drops).
 *
 * RX: recvmmsg with UDP_GRO into private 64 KiB buffers (one per read:
 * a single datagram, or a GRO batch of datagrams of one size from one
 * source, cut by unm_vxlan_gro_seg). Each datagram is checked
 * (unm_vxlan_rx_check: short, I flag, VNI, source not a configured
 * remote, oversize; counted by reason and dropped), its inner source MAC
 * learned behind the source address (bounded table: vxlan_conf.c), and
 * its frame copied into the free RX slots. With a vnet header,
 * consecutive inner TCP segments of one flow whose IP and TCP checksums
 * are right (unm_vxlan_tcp_parse/_follows) are merged into one GSO frame
 * with NEEDS_CSUM (as a NIC's LRO hands them up; single ones get
 * DATA_VALID, everything else a zero header). Datagrams read but not yet
 * delivered (ring full) wait in the buffers for the next sync.
 *
 * rxcsum=trust (opt-in, @conf): the underlay is trusted not to corrupt
 * what it carries: the kernel verified each datagram's UDP checksum, or
 * the sender left it zero (Linux's IPv4 default) on a link that is
 * trusted anyway. Inner TCP segments are then coalesced on their headers
 * alone (no pass over the payload, which was most of RX's own work), and
 * every frame that is not a GSO frame goes up DATA_VALID. A corrupted
 * payload would reach the VM, or leave through another port with a
 * fresh checksum: only for underlays where that cannot happen.
 *
 * Threads: the API lets TX and RX rings be synced by different threads;
 * they share the learning table and counters, so each sync holds the
 * port's mutex (one uncontended lock per batch).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "internal.h"
#include "backend/vxlan.h"
#include "offload/offload.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

#define VX_NTX       8        /* send sockets (source ports) */
#define VX_BATCH     64       /* datagrams per sendmmsg / recvmmsg */
#define VX_TIOV      (VX_BATCH * 4 + 2 * UNM_MAX_FRAGS)
#define VX_GSO_SEGS  64       /* UDP_MAX_SEGMENTS of older kernels */
#define VX_GSO_BYTES 60000    /* payload of one UDP_SEGMENT message */
#define VX_SOCKBUF   (4 << 20)
#define VX_SCRATCH   (256 << 10) /* TX: segments built from offloaded frames */
#define VX_RXN       32       /* receive buffers (datagrams or GRO batches) per recvmmsg */
#define VX_RXSZ      65536    /* one receive buffer: the largest UDP payload */

struct vx_txm {               /* one queued message */
	uint32_t slot;            /* first slot of its first frame */
	uint16_t dest;            /* replica index of that frame */
	uint16_t nseg;            /* datagrams (frames) in it */
	uint32_t seg;             /* bytes per datagram (header included) */
	uint32_t bytes;           /* payload bytes of the message */
	uint32_t frames_done;     /* frames whose last replica it carries */
	bool closed;              /* its last segment is short: nothing may join */
	uint64_t inner_bytes;
};

/* A frame being written into RX slots from hwtail on (vx_rxsync). */
struct vx_chain {
	uint32_t start;           /* its first slot */
	unsigned n;               /* slots taken */
	uint32_t len;             /* bytes written, vnet header included */
	uint32_t idx[UNM_MAX_FRAGS]; /* their buffer indexes, read once, checked */
};

/* The inner TCP frame being coalesced on RX. */
struct vx_agg {
	bool open;
	struct vx_chain c;
	struct vx_tcp t;          /* its first segment */
	uint8_t hdr[14 + 60 + 60]; /* that segment's headers (t.poff bytes) */
	uint32_t next_seq;
	uint32_t segs;
	uint8_t flags;            /* TCP flags of the last segment */
};

struct vx_priv {
	struct unm_vxlan_conf vc;
	pthread_mutex_t lock;
	int rx_fd;
	int tx_fd[VX_NTX];
	uint32_t ev_reg[1 + VX_NTX]; /* events registered in p->epfd */
	bool tx_want;                 /* TX ring armed: EPOLLOUT wanted */
	uint8_t vxh[VX_HDR_LEN];      /* the header of every datagram we send */
	unsigned mtu, underlay_mtu, ttl, max_frame;
	unsigned vnet;                /* 0, 10 or 12: virtio-net header before each frame */
	bool gso_off;                 /* the kernel refused UDP_SEGMENT */
	uint32_t resume_slot, resume_dest; /* replicas of the frame at hwcur already sent */
	struct vx_fdb fdb;
	struct unm_vxlan_stats st;
	/* TX batch */
	struct mmsghdr tmsg[VX_BATCH];
	struct vx_txm tm[VX_BATCH];
	union vx_addr tname[VX_BATCH];
	union { char b[CMSG_SPACE(sizeof(uint16_t))]; struct cmsghdr a; } tcm[VX_BATCH];
	struct iovec tiov[VX_TIOV];
	unsigned nm, niov;
	int cur_sock;
	uint8_t *scr;                 /* VX_SCRATCH: datagrams built from offloaded frames */
	size_t scr_used;
	/* RX: datagrams read but not yet (all) delivered survive a sync that
	 * ran out of slots: message rcur, byte roff, of rn */
	uint8_t *rbuf;                /* VX_RXN * VX_RXSZ */
	struct mmsghdr rmsg[VX_RXN];
	struct iovec riov[VX_RXN];
	union vx_addr rname[VX_RXN];
	union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr a; } rcm[VX_RXN];
	uint32_t rlen[VX_RXN], rgso[VX_RXN];
	bool rtrunc[VX_RXN];
	unsigned rn, rcur;
	uint32_t roff;
	struct vx_agg agg;
	struct unm_frag xf[UNM_MAX_FRAGS]; /* TX: the frame being expanded */
};

static void vx_free(struct vx_priv *vx)
{
	if (!vx)
		return;
	if (vx->rx_fd >= 0)
		close(vx->rx_fd);
	for (unsigned i = 0; i < VX_NTX; i++)
		if (vx->tx_fd[i] >= 0)
			close(vx->tx_fd[i]);
	unm_vxlan_fdb_free(&vx->fdb);
	free(vx->scr);
	free(vx->rbuf);
	pthread_mutex_destroy(&vx->lock);
	free(vx);
}

static const char *addr_str(const union vx_addr *a, char *buf, size_t len)
{
	const void *x = a->sa.sa_family == AF_INET ? (const void *)&a->v4.sin_addr
						   : (const void *)&a->v6.sin6_addr;

	if (!inet_ntop(a->sa.sa_family, x, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

static socklen_t addr_len(int family)
{
	return family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

static void sockbuf(int fd, int opt_force, int opt)
{
	int v = VX_SOCKBUF;

	if (setsockopt(fd, SOL_SOCKET, opt_force, &v, sizeof(v)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v));
}

static int vx_socket(struct vx_priv *vx, const char *what)
{
	int one = 1;
	int fd = socket(vx->vc.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return unm_seterr(-errno, "vxlan: %s socket: %s", what, strerror(errno));
	if (vx->vc.family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	return fd;
}

/* Bind FD to the local address (or any) and PORT (host order). */
static int vx_bind(struct vx_priv *vx, int fd, uint16_t port, bool any)
{
	union vx_addr a;
	char ab[64];

	memset(&a, 0, sizeof(a));
	if (vx->vc.has_local && !any)
		a = vx->vc.local;
	a.sa.sa_family = (sa_family_t)vx->vc.family;
	if (vx->vc.family == AF_INET)
		a.v4.sin_port = htons(port);
	else
		a.v6.sin6_port = htons(port);
	if (bind(fd, &a.sa, addr_len(vx->vc.family)) == 0)
		return 0;
	addr_str(&a, ab, sizeof(ab));
	if (errno == EACCES && port < 1024)
		return unm_seterr(-EACCES, "vxlan: bind %s port %u: %s (ports below 1024 need "
				  "CAP_NET_BIND_SERVICE)", ab, port, strerror(errno));
	if (errno == EADDRINUSE)
		return unm_seterr(-EADDRINUSE, "vxlan: bind %s port %u: in use (a Linux vxlan "
				  "device or another vxlan port on this address?)", ab, port);
	if (errno == EADDRNOTAVAIL)
		return unm_seterr(-EADDRNOTAVAIL, "vxlan: local=%s is not an address of this host", ab);
	return unm_seterr(-errno, "vxlan: bind %s port %u: %s", ab, port, strerror(errno));
}

static int vx_join(struct vx_priv *vx)
{
	const union vx_addr *g = &vx->vc.remote[0];
	char ab[64];
	int rc;

	if (vx->vc.family == AF_INET) {
		struct ip_mreqn m;

		memset(&m, 0, sizeof(m));
		m.imr_multiaddr = g->v4.sin_addr;
		if (vx->vc.has_local)
			m.imr_address = vx->vc.local.v4.sin_addr;
		rc = setsockopt(vx->rx_fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m));
	} else {
		struct ipv6_mreq m;

		memset(&m, 0, sizeof(m));
		m.ipv6mr_multiaddr = g->v6.sin6_addr;
		rc = setsockopt(vx->rx_fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof(m));
	}
	if (rc < 0)
		return unm_seterr(-errno, "vxlan: joining group %s: %s (no route for it?)",
				  addr_str(g, ab, sizeof(ab)), strerror(errno));
	return 0;
}

/* Per send socket: ephemeral port, DF clear, TTL, no multicast loop. */
static int vx_tx_setup(struct vx_priv *vx, int fd)
{
	int zero = 0, ttl = (int)vx->vc.ttl;
	int rc;

	if (vx->vc.family == AF_INET) {
		int pmtu = IP_PMTUDISC_DONT;

		(void)setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
		(void)setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof(zero));
		if (ttl) {
			(void)setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
			(void)setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl));
		}
		if (vx->vc.mcast && vx->vc.has_local)
			(void)setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &vx->vc.local.v4.sin_addr,
					 sizeof(struct in_addr));
	} else {
		int pmtu = IPV6_PMTUDISC_DONT;

		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof(pmtu));
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof(zero));
		if (ttl) {
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl));
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof(ttl));
		}
	}
	sockbuf(fd, SO_SNDBUFFORCE, SO_SNDBUF);
	rc = vx_bind(vx, fd, 0, false);
	return rc;
}

/* Underlay MTU towards the first remote (route lookup by connect). */
static unsigned vx_underlay_mtu(struct vx_priv *vx)
{
	int fd = socket(vx->vc.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int mtu = 0;
	socklen_t l = sizeof(mtu);

	if (fd < 0)
		return 1500;
	if (connect(fd, &vx->vc.remote[0].sa, addr_len(vx->vc.family)) == 0)
		(void)getsockopt(fd, vx->vc.family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
				 vx->vc.family == AF_INET ? IP_MTU : IPV6_MTU, &mtu, &l);
	close(fd);
	return mtu >= 576 && mtu <= 65535 ? (unsigned)mtu : 1500;
}

static int vx_open(struct unm_port *p, const struct unm_spec *s, const struct unm_open_opts *o)
{
	struct vx_priv *vx;
	char why[200];
	int rc, v;
	socklen_t l = sizeof(v);

	if (o->tx_rings != 1 || o->rx_rings != 1)
		return unm_seterr(-EINVAL, "vxlan: one ring pair only (@conf:rings=1)");
	if (o->vnet_hdr_len && o->vnet_hdr_len != UNM_VNET_HDR_LEN &&
	    o->vnet_hdr_len != UNM_VNET_HDR_LEN_MRG)
		return unm_seterr(-EINVAL, "vxlan: virtio-net header of %u bytes (0, 10 or 12)",
				  o->vnet_hdr_len);
	if (s->ring > 0 || (s->flags & (UNM_SPEC_TX_ONLY | UNM_SPEC_RX_ONLY)))
		return unm_seterr(-EINVAL, "vxlan: open the whole port");
	vx = calloc(1, sizeof(*vx));
	if (!vx)
		return -ENOMEM;
	pthread_mutex_init(&vx->lock, NULL);
	vx->rx_fd = -1;
	for (unsigned i = 0; i < VX_NTX; i++)
		vx->tx_fd[i] = -1;
	if (unm_vxlan_conf_parse(s, &vx->vc, why, sizeof(why))) {
		rc = unm_seterr(-EINVAL, "%s", why);
		goto fail;
	}
	vx->vxh[0] = VX_FLAG_I;
	vx->vxh[4] = (uint8_t)(vx->vc.vni >> 16);
	vx->vxh[5] = (uint8_t)(vx->vc.vni >> 8);
	vx->vxh[6] = (uint8_t)vx->vc.vni;

	if ((rc = vx->rx_fd = vx_socket(vx, "receive")) < 0)
		goto fail;
	sockbuf(vx->rx_fd, SO_RCVBUFFORCE, SO_RCVBUF);
	{
		/* coalesced reads (Linux 5.0+; without it one datagram each) */
		int one = 1;

		(void)setsockopt(vx->rx_fd, SOL_UDP, UDP_GRO, &one, sizeof(one));
	}
	if ((rc = vx_bind(vx, vx->rx_fd, vx->vc.port, vx->vc.mcast)) < 0)
		goto fail;
	if (vx->vc.mcast && (rc = vx_join(vx)) < 0)
		goto fail;
	for (unsigned i = 0; i < VX_NTX; i++) {
		if ((rc = vx->tx_fd[i] = vx_socket(vx, "send")) < 0)
			goto fail;
		if ((rc = vx_tx_setup(vx, vx->tx_fd[i])) < 0)
			goto fail;
	}
	if (getsockopt(vx->tx_fd[0], vx->vc.family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
		       vx->vc.mcast ? (vx->vc.family == AF_INET ? IP_MULTICAST_TTL : IPV6_MULTICAST_HOPS)
				    : (vx->vc.family == AF_INET ? IP_TTL : IPV6_UNICAST_HOPS),
		       &v, &l) == 0 && v > 0)
		vx->ttl = (unsigned)v;
	if (vx->ttl == 0)
		vx->ttl = vx->vc.ttl ? vx->vc.ttl : vx->vc.mcast ? 1 : 64;
	vx->underlay_mtu = vx_underlay_mtu(vx);
	vx->mtu = unm_vxlan_inner_mtu(vx->underlay_mtu, vx->vc.family);
	vx->max_frame = vx->mtu + 14 + 4;
	vx->vnet = o->vnet_hdr_len;
	if ((vx->vnet + vx->max_frame + o->buf_size - 1) / o->buf_size > UNM_MAX_FRAGS) {
		rc = unm_seterr(-EINVAL, "vxlan: inner MTU %u needs more than %d buffers of %u bytes",
				vx->mtu, UNM_MAX_FRAGS, o->buf_size);
		goto fail;
	}
	vx->scr = malloc(VX_SCRATCH);
	vx->rbuf = malloc((size_t)VX_RXN * VX_RXSZ);
	if (!vx->scr || !vx->rbuf) {
		rc = -ENOMEM;
		goto fail;
	}
	if ((rc = unm_vxlan_fdb_init(&vx->fdb, vx->vc.learn_max, vx->vc.ageing_s)) < 0)
		goto fail;
	vx->resume_slot = UINT32_MAX;
	p->priv = vx;
	rc = unm_port_create_self(p, o, vx->mtu, NULL);
	if (rc)
		goto fail;
	for (unsigned i = 0; i <= VX_NTX; i++)
		if ((rc = unm_port_watch(p, i ? vx->tx_fd[i - 1] : vx->rx_fd, 0, i)))
			goto fail;
	vx->st.vni = vx->vc.vni;
	vx->st.port = vx->vc.port;
	vx->st.family = (uint16_t)vx->vc.family;
	vx->st.mtu = vx->mtu;
	vx->st.underlay_mtu = vx->underlay_mtu;
	vx->st.n_remotes = vx->vc.n_remotes;
	vx->st.mcast = vx->vc.mcast;
	vx->st.ttl = vx->ttl;
	vx->st.learn_max = vx->vc.learn_max;
	vx->st.ageing_s = vx->vc.ageing_s;
	return 0;
fail: /* unm_open tears it down with vx_close (port_teardown, as unm_close) */
	p->priv = vx;
	return rc < 0 ? rc : -EINVAL;
}

static void vx_close(struct unm_port *p)
{
	vx_free(p->priv);
	p->priv = NULL;
}

/* ---- TX -------------------------------------------------------------------- */

/* Gather the frame at slot i (before head) into iov (at most UNM_MAX_FRAGS).
 * Returns its slots, 0 if incomplete, -slots to drop it. */
static int vx_gather(struct unm_port *p, struct unm_kring *kr, uint32_t i, uint32_t head,
		     struct iovec *iov, unsigned *niov, size_t *total)
{
	int n = 0;
	bool bad = false;

	*total = 0;
	*niov = 0;
	for (;;) {
		struct unm_slot *sl = &kr->ring->slot[i];
		uint32_t idx = sl->buf_idx, len = sl->len; /* untrusted: app-written */
		uint16_t fl = sl->flags;

		if (!unm_buf_ok(p, idx)) {
			p->st.bad_buf++;
			bad = true;
		} else if (len > kr->buf_size) {
			p->st.bad_len++;
			bad = true;
		} else if (*niov < UNM_MAX_FRAGS) {
			if (len) {
				iov[*niov].iov_base = kr_buf(kr, idx);
				iov[*niov].iov_len = len;
				(*niov)++;
			}
			*total += len;
		} else {
			bad = true;
		}
		n++;
		if (!(fl & UNM_NS_MOREFRAG))
			break;
		i = kr_next(kr, i);
		if (i == head)
			return 0;
	}
	return bad ? -n : n;
}

enum { VX_FLUSH_OK, VX_FLUSH_STOP, VX_FLUSH_RETRY, VX_DROP };

/* Send the queued messages through socket vx->cur_sock. On a stop or a
 * retry, *slot and *dest say where the next sync (or the retry) resumes. */
static int vx_flush(struct unm_port *p, struct vx_priv *vx, uint32_t *slot, uint32_t *dest)
{
	unsigned m = 0;
	int fd = vx->tx_fd[vx->cur_sock];
	int ret = VX_FLUSH_OK;

	for (unsigned k = 0; k < vx->nm; k++) {
		struct msghdr *h = &vx->tmsg[k].msg_hdr;

		h->msg_name = &vx->tname[k];
		h->msg_namelen = addr_len(vx->vc.family);
		if (vx->tm[k].nseg > 1) {
			struct cmsghdr *c = &vx->tcm[k].a;
			uint16_t gs = (uint16_t)vx->tm[k].seg;

			h->msg_control = vx->tcm[k].b;
			h->msg_controllen = sizeof(vx->tcm[k].b);
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			memcpy(CMSG_DATA(c), &gs, sizeof(gs));
		} else {
			h->msg_control = NULL;
			h->msg_controllen = 0;
		}
		h->msg_flags = 0;
	}
	while (m < vx->nm) {
		int r = sendmmsg(fd, vx->tmsg + m, vx->nm - m, MSG_DONTWAIT);
		const struct vx_txm *t;

		if (r > 0) {
			for (unsigned k = m; k < m + (unsigned)r; k++) {
				t = &vx->tm[k];
				vx->st.tx_datagrams += t->nseg;
				vx->st.tx_gso_sends += t->nseg > 1;
				vx->st.tx_frames += t->frames_done;
				p->st.tx_frames += t->frames_done;
				p->st.tx_bytes += t->inner_bytes;
			}
			m += (unsigned)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		t = &vx->tm[m];
		if (r == 0 || errno == EAGAIN || errno == ENOBUFS) {
			*slot = t->slot, *dest = t->dest;
			ret = VX_FLUSH_STOP;
			break;
		}
		if (t->nseg > 1 && (errno == EINVAL || errno == EIO || errno == EMSGSIZE)) {
			/* no UDP GSO on this path: from now on one datagram each */
			vx->gso_off = true;
			unm_log(UNM_LOG_INFO, "vxlan: UDP_SEGMENT refused (%s): sending one datagram "
				"per frame", strerror(errno));
			*slot = t->slot, *dest = t->dest;
			ret = VX_FLUSH_RETRY;
			break;
		}
		/* unreachable, refused, ...: these datagrams only */
		vx->st.tx_errors += t->nseg;
		p->st.drops += t->frames_done;
		m++;
	}
	vx->nm = vx->niov = 0;
	return ret;
}

/*
 * Queue one datagram for DEST: IOV[0..n) holds its SEG bytes, VXLAN
 * header included; it belongs to the frame at SLOT, replica D of NDEST.
 * It joins the previous message as one more UDP GSO segment when the
 * kernel allows (no longer than that message's segments, which it closes
 * if shorter; same remote; within the kernel's limits) and resuming
 * stays exact: frames to one remote only, or another datagram of the
 * same frame and replica. LAST: the frame's last datagram of its last
 * replica (the frame then counts as sent with INNER bytes).
 * Returns VX_FLUSH_OK or what a flush it needed returned.
 */
static int vx_queue(struct unm_port *p, struct vx_priv *vx, const union vx_addr *dest,
		    const struct iovec *iov, unsigned n, uint32_t seg, uint32_t slot, unsigned d,
		    unsigned ndest, bool last, uint64_t inner, uint32_t *rslot, uint32_t *rdest)
{
	struct vx_txm *t = vx->nm ? &vx->tm[vx->nm - 1] : NULL;
	unsigned ohdr = vx->vc.family == AF_INET ? 28 : 48;
	int fr;

	if (t && !vx->gso_off && !t->closed && seg <= t->seg && t->nseg < VX_GSO_SEGS &&
	    t->bytes + seg <= VX_GSO_BYTES && t->seg + ohdr <= vx->underlay_mtu &&
	    vx->niov + n <= VX_TIOV && (ndest == 1 || (t->slot == slot && t->dest == d)) &&
	    unm_vxlan_addr_eq(&vx->tname[vx->nm - 1], dest)) {
		memcpy(&vx->tiov[vx->niov], iov, n * sizeof(*iov));
		vx->niov += n;
		vx->tmsg[vx->nm - 1].msg_hdr.msg_iovlen += n;
		t->nseg++;
		t->bytes += seg;
		t->closed = seg < t->seg;
		t->frames_done += last;
		t->inner_bytes += last ? inner : 0;
		return VX_FLUSH_OK;
	}
	if (vx->nm == VX_BATCH || vx->niov + n > VX_TIOV) {
		fr = vx_flush(p, vx, rslot, rdest);
		if (fr != VX_FLUSH_OK)
			return fr;
	}
	t = &vx->tm[vx->nm];
	t->slot = slot;
	t->dest = (uint16_t)d;
	t->nseg = 1;
	t->seg = seg;
	t->bytes = seg;
	t->closed = false;
	t->frames_done = last;
	t->inner_bytes = last ? inner : 0;
	vx->tname[vx->nm] = *dest;
	memset(&vx->tmsg[vx->nm], 0, sizeof(vx->tmsg[0]));
	vx->tmsg[vx->nm].msg_hdr.msg_iov = &vx->tiov[vx->niov];
	vx->tmsg[vx->nm].msg_hdr.msg_iovlen = n;
	memcpy(&vx->tiov[vx->niov], iov, n * sizeof(*iov));
	vx->niov += n;
	vx->nm++;
	return VX_FLUSH_OK;
}

/*
 * A frame with a virtio-net header that asks for work (GSO, or a partial
 * checksum): build its datagrams in the scratch area, each the VXLAN
 * header then a complete inner frame (headers replicated and fixed up,
 * checksums complete: lib/offload's segmenter), so that consecutive ones
 * form a UDP GSO message the kernel only has to cut at equal offsets.
 * Segments are at most the inner MTU (plus the Ethernet header) long.
 * Returns the number of datagrams, *full their common size (the last may
 * be shorter, *lastlen), or 0 to drop the frame (too big for the scratch
 * area). The caller flushed first if the scratch area lacked room.
 */
/* Segments of a GSO frame at most the inner MTU (+ Ethernet header)
 * long: a smaller gso_size if need be. False if even the headers exceed. */
static bool vx_clamp(const struct vx_priv *vx, struct unm_vnet_info *vi)
{
	uint32_t maxf = vx->mtu + 14;

	if (vi->hdr.gso_type != UNM_VNET_GSO_NONE && vi->payload_off + vi->hdr.gso_size > maxf) {
		if (vi->payload_off >= maxf)
			return false;
		vi->hdr.gso_size = (uint16_t)(maxf - vi->payload_off);
		vi->nsegs = (vi->payload_len + vi->hdr.gso_size - 1) / vi->hdr.gso_size;
	}
	return true;
}

static unsigned vx_expand(struct vx_priv *vx, struct unm_vnet_info *vi,
			  const struct unm_frag *f, unsigned nf, uint32_t *full,
			  uint32_t *lastlen, uint8_t **base)
{
	struct unm_gso g;
	size_t need;
	uint8_t *b;

	if (!vx_clamp(vx, vi))
		return 0;
	if (vi->hdr.gso_type == UNM_VNET_GSO_NONE) {
		*full = *lastlen = VX_HDR_LEN + vi->frame_len;
		need = *full;
		if (vi->nsegs != 1)
			vi->nsegs = 1;
	} else {
		*full = VX_HDR_LEN + vi->payload_off + vi->hdr.gso_size;
		*lastlen = VX_HDR_LEN + vi->payload_off +
			   (vi->payload_len - (vi->nsegs - 1) * vi->hdr.gso_size);
		need = (size_t)(vi->nsegs - 1) * *full + *lastlen;
	}
	if (need > VX_SCRATCH - vx->scr_used || unm_gso_init(&g, vi, f, nf))
		return 0;
	b = *base = vx->scr + vx->scr_used;
	for (unsigned k = 0; k < vi->nsegs; k++) {
		uint32_t l = k + 1 == vi->nsegs ? *lastlen : *full;

		memcpy(b, vx->vxh, VX_HDR_LEN);
		if (unm_gso_next(&g, b + VX_HDR_LEN, l - VX_HDR_LEN) != (int)(l - VX_HDR_LEN))
			return 0; /* cannot happen: sizes come from vi */
		b += l;
	}
	vx->scr_used += need;
	return vi->nsegs;
}

/*
 * A GSO frame for one remote: each datagram's VXLAN header and inner
 * headers are built in the scratch area, its payload is sent from the
 * slot buffers where it lies (summed there for the inner checksum), so
 * the only copy is the kernel's. Same datagrams as vx_expand() makes.
 * Returns VX_FLUSH_OK, a flush's stop or retry, or VX_DROP.
 */
static int vx_send_gso(struct unm_port *p, struct vx_priv *vx, struct unm_vnet_info *vi,
		       unsigned nfi, const union vx_addr *dest, uint32_t slot, size_t len,
		       uint32_t *rslot, uint32_t *rdest)
{
	struct unm_gso g;
	size_t hl, need;
	int fr;

	if (!vx_clamp(vx, vi))
		return VX_DROP;
	hl = VX_HDR_LEN + vi->payload_off;
	need = (size_t)vi->nsegs * hl;
	if (vx->nm == 0)
		vx->scr_used = 0;
	if (need > VX_SCRATCH - vx->scr_used && vx->nm) {
		fr = vx_flush(p, vx, rslot, rdest);
		if (fr != VX_FLUSH_OK)
			return fr;
		vx->scr_used = 0;
	}
	if (need > VX_SCRATCH - vx->scr_used || unm_gso_init(&g, vi, vx->xf, nfi))
		return VX_DROP;
	for (unsigned k = 0; k < vi->nsegs; k++) {
		struct iovec iov[1 + UNM_MAX_FRAGS];
		struct unm_frag pl[UNM_MAX_FRAGS];
		uint8_t *h = vx->scr + vx->scr_used;
		unsigned npl;
		int r;

		memcpy(h, vx->vxh, VX_HDR_LEN);
		r = unm_gso_next_hdr(&g, h + VX_HDR_LEN, vi->payload_off, pl, UNM_MAX_FRAGS, &npl);
		if (r <= 0)
			return VX_DROP; /* cannot happen: sizes come from vi */
		vx->scr_used += hl;
		iov[0].iov_base = h;
		iov[0].iov_len = hl;
		for (unsigned j = 0; j < npl; j++) {
			iov[1 + j].iov_base = pl[j].ptr;
			iov[1 + j].iov_len = pl[j].len;
		}
		fr = vx_queue(p, vx, dest, iov, 1 + npl, (uint32_t)(VX_HDR_LEN + r), slot, 0, 1,
			      k + 1 == vi->nsegs, len, rslot, rdest);
		if (fr != VX_FLUSH_OK)
			return fr;
	}
	return VX_FLUSH_OK;
}

static int vx_txsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct vx_priv *vx = p->priv;
	uint32_t i = kr->hwcur, rslot = 0, rdest = 0;
	uint32_t d0 = vx->resume_slot == i ? vx->resume_dest : 0;
	uint64_t now = unm_now_ns();
	int fr;

	kr->armed = false;
	vx->resume_slot = UINT32_MAX;
	pthread_mutex_lock(&vx->lock);
	vx->nm = vx->niov = 0;
	vx->scr_used = 0;
	vx->cur_sock = 0;
again:
	while (i != head) {
		struct iovec fiov[1 + UNM_MAX_FRAGS];
		unsigned nfi, ndest = 1, nseg = 0;
		size_t len;
		int n = vx_gather(p, kr, i, head, fiov + 1, &nfi, &len);
		const union vx_addr *dests;
		const struct vx_fdb_ent *fe = NULL;
		struct unm_vnet_info vi;
		uint32_t full = 0, lastlen = 0;
		uint8_t eth[14], *sbase = NULL;
		int sock;

		if (n == 0)
			break; /* the chain continues past head */
		if (n > 0 && vx->vnet) {
			/* the header: read once, validated, then skipped */
			struct unm_frag f[UNM_MAX_FRAGS];
			uint8_t raw[UNM_VNET_HDR_LEN_MRG];
			enum unm_vnet_drop why = UNM_VNET_DROP_SHORT;

			if (nfi == 0 || fiov[1].iov_len < vx->vnet + 14) {
				n = -n;
			} else {
				memcpy(raw, fiov[1].iov_base, vx->vnet);
				fiov[1].iov_base = (char *)fiov[1].iov_base + vx->vnet;
				fiov[1].iov_len -= vx->vnet;
				len -= vx->vnet;
				for (unsigned k = 0; k < nfi; k++) {
					f[k].ptr = fiov[1 + k].iov_base;
					f[k].len = fiov[1 + k].iov_len;
				}
				if (unm_vnet_parse(raw, vx->vnet, f, nfi, &vi, &why))
					n = -n;
				else if (vi.hdr.gso_type != UNM_VNET_GSO_NONE ||
					 (vi.hdr.flags & UNM_VNET_F_NEEDS_CSUM))
					nseg = 1; /* expanded below, once the socket is known */
			}
			if (n < 0) {
				p->st.vnet_drops++;
				vx->st.tx_drops++;
				p->st.drops++;
				n = -n;
				goto next;
			}
			if (nseg) {
				for (unsigned k = 0; k < nfi; k++) {
					f[k].ptr = fiov[1 + k].iov_base;
					f[k].len = fiov[1 + k].iov_len;
				}
				/* keep f: vx_expand reads it after a possible flush */
				memcpy(vx->xf, f, nfi * sizeof(*f));
			}
		}
		if (n < 0 || len < 14 || (!nseg && len > VX_GSO_BYTES)) {
			vx->st.tx_drops++;
			p->st.drops++;
			n = n < 0 ? -n : n;
			goto next;
		}
		/* the first 14 bytes, once (shared memory) */
		for (unsigned k = 1, got = 0; got < 14; k++) {
			size_t c = fiov[k].iov_len < 14 - got ? fiov[k].iov_len : 14 - got;

			memcpy(eth + got, fiov[k].iov_base, c);
			got += (unsigned)c;
		}
		if (!(eth[0] & 1))
			fe = unm_vxlan_fdb_find(&vx->fdb, eth, now);
		if (fe) {
			dests = &fe->remote;
		} else {
			dests = vx->vc.remote;
			ndest = vx->vc.n_remotes;
			if (d0 == 0)
				vx->st.tx_flood++;
		}
		sock = 0;
		if (VX_NTX > 1) {
			uint8_t hb[64];
			size_t hl = len < sizeof(hb) ? len : sizeof(hb);

			/* the flow hash reads at most 64 header bytes, once */
			for (unsigned k = 1, got = 0; got < hl; k++) {
				size_t c = fiov[k].iov_len < hl - got ? fiov[k].iov_len : hl - got;

				memcpy(hb + got, fiov[k].iov_base, c);
				got += (unsigned)c;
			}
			sock = (int)(unm_vxlan_flow_hash(hb, hl) % VX_NTX);
		}
		if (vx->nm && sock != vx->cur_sock) {
			fr = vx_flush(p, vx, &rslot, &rdest);
			if (fr != VX_FLUSH_OK)
				goto flushed;
		}
		vx->cur_sock = sock;
		if (nseg && ndest == 1 && vi.hdr.gso_type != UNM_VNET_GSO_NONE) {
			fr = vx_send_gso(p, vx, &vi, nfi, dests, i, len, &rslot, &rdest);
			if (fr == VX_DROP) {
				vx->st.tx_drops++;
				p->st.drops++;
				goto next;
			}
			if (fr != VX_FLUSH_OK)
				goto flushed;
			vx->st.tx_gso_frames++;
			goto next;
		}
		if (nseg) {
			if (vx->nm == 0)
				vx->scr_used = 0;
			nseg = vx_expand(vx, &vi, vx->xf, nfi, &full, &lastlen, &sbase);
			if (nseg == 0 && vx->nm) {
				/* no room left in the scratch area: send what uses it */
				fr = vx_flush(p, vx, &rslot, &rdest);
				if (fr != VX_FLUSH_OK)
					goto flushed;
				vx->scr_used = 0;
				nseg = vx_expand(vx, &vi, vx->xf, nfi, &full, &lastlen, &sbase);
			}
			if (nseg == 0) {
				vx->st.tx_drops++;
				p->st.drops++;
				goto next;
			}
			if (vi.hdr.gso_type != UNM_VNET_GSO_NONE)
				vx->st.tx_gso_frames++;
			else
				vx->st.tx_csum++;
		}
		for (unsigned d = d0; d < ndest; d++) {
			if (nseg) {
				for (unsigned k = 0; k < nseg; k++) {
					struct iovec one = {
						.iov_base = sbase + (size_t)k * full,
						.iov_len = k + 1 == nseg ? lastlen : full,
					};

					fr = vx_queue(p, vx, &dests[d], &one, 1, (uint32_t)one.iov_len, i, d,
						      ndest, d + 1 == ndest && k + 1 == nseg, len,
						      &rslot, &rdest);
					if (fr != VX_FLUSH_OK)
						goto flushed;
				}
				continue;
			}
			fiov[0].iov_base = vx->vxh;
			fiov[0].iov_len = VX_HDR_LEN;
			fr = vx_queue(p, vx, &dests[d], fiov, 1 + nfi, (uint32_t)len + VX_HDR_LEN, i, d,
				      ndest, d + 1 == ndest, len, &rslot, &rdest);
			if (fr != VX_FLUSH_OK)
				goto flushed;
		}
next:
		d0 = 0;
		while (n--)
			i = kr_next(kr, i);
	}
	if (vx->nm) {
		fr = vx_flush(p, vx, &rslot, &rdest);
		if (fr != VX_FLUSH_OK)
			goto flushed;
	}
	goto out;
flushed:
	i = rslot;
	d0 = rdest;
	if (fr == VX_FLUSH_RETRY) {
		vx->scr_used = 0;
		goto again;
	}
	vx->resume_slot = i;
	vx->resume_dest = d0;
out:
	pthread_mutex_unlock(&vx->lock);
	kr->hwcur = i;
	kr->hwtail = i == 0 ? kr->nslots - 1 : i - 1;
	return 0;
}

/* ---- RX -------------------------------------------------------------------- */

static inline uint32_t kr_adv(const struct unm_kring *kr, uint32_t i, unsigned n)
{
	i += n;
	return i >= kr->nslots ? i - kr->nslots : i;
}

static inline unsigned slots_for(const struct unm_kring *kr, size_t len)
{
	return (unsigned)((len + kr->buf_size - 1) / kr->buf_size);
}

/* Append N bytes at SRC to chain C, taking the next slots' buffers as
 * needed (the caller checked there are enough free slots). Returns 0, or
 * -EINVAL if a slot holds a bad buffer index (the application's fault). */
static int ch_put(struct unm_port *p, struct unm_kring *kr, struct vx_chain *c,
		  const void *src, size_t n)
{
	const uint8_t *s = src;

	while (n) {
		unsigned k = c->len / kr->buf_size;
		size_t off = c->len % kr->buf_size, l = kr->buf_size - off;

		if (k >= UNM_MAX_FRAGS)
			return -EINVAL; /* callers check first: cannot happen */
		if (k == c->n) {
			uint32_t sl = kr_adv(kr, c->start, k);
			uint32_t idx = kr->ring->slot[sl].buf_idx; /* untrusted: app-written */

			if (unlikely(!unm_buf_ok(p, idx))) {
				p->st.bad_buf++;
				return unm_seterr(-EINVAL, "vxlan: RX slot %u has invalid buffer %u",
						  sl, idx);
			}
			c->idx[c->n++] = idx;
		}
		if (l > n)
			l = n;
		memcpy(kr_buf(kr, c->idx[k]) + off, s, l);
		s += l;
		n -= l;
		c->len += (uint32_t)l;
	}
	return 0;
}

/* Publish chain C (lengths, MOREFRAG); returns the slots it took. */
static unsigned ch_close(struct unm_kring *kr, const struct vx_chain *c)
{
	uint32_t left = c->len, s = c->start;

	for (unsigned k = 0; k < c->n; k++, s = kr_next(kr, s)) {
		struct unm_slot *sl = &kr->ring->slot[s];
		uint32_t l = left > kr->buf_size ? kr->buf_size : left;

		sl->len = (uint16_t)l;
		sl->flags = k + 1 < c->n ? UNM_NS_MOREFRAG : 0;
		left -= l;
	}
	return c->n;
}

/* Hand up the coalesced frame: headers fixed (one segment: as received,
 * checksum known good), the vnet header written. Returns its slots. */
static unsigned vx_agg_close(struct vx_priv *vx, struct unm_port *p, struct unm_kring *kr)
{
	struct vx_agg *a = &vx->agg;
	struct unm_vnet_hdr h = { .flags = UNM_VNET_F_DATA_VALID };
	uint8_t raw[UNM_VNET_HDR_LEN_MRG];

	a->open = false;
	if (a->segs > 1) {
		h.flags = UNM_VNET_F_NEEDS_CSUM;
		h.gso_type = a->t.v6 ? UNM_VNET_GSO_TCPV6 : UNM_VNET_GSO_TCPV4;
		h.hdr_len = a->t.poff;
		h.gso_size = (uint16_t)a->t.plen;
		h.csum_start = a->t.l4;
		h.csum_offset = 16;
		unm_vxlan_tcp_fix(a->hdr, &a->t, a->c.len - vx->vnet, a->flags);
		/* the headers sit in the first buffer (checked when opened) */
		memcpy(kr_buf(kr, a->c.idx[0]) + vx->vnet, a->hdr, a->t.poff);
		vx->st.rx_coalesced++;
	}
	unm_vnet_hdr_encode(raw, vx->vnet, &h);
	memcpy(kr_buf(kr, a->c.idx[0]), raw, vx->vnet);
	p->st.rx_frames++;
	p->st.rx_bytes += a->c.len - vx->vnet;
	return ch_close(kr, &a->c);
}

/* Read datagrams (UDP GRO batches: several datagrams of one size from one
 * source, back to back) into the private receive buffers, then check each
 * VXLAN datagram and copy its frame into the free slots [hwtail, hwcur - 1).
 * With a vnet header, consecutive inner TCP segments of one flow whose
 * checksums are right become one GSO frame (NEEDS_CSUM, as a NIC's LRO
 * would hand them up). */
static int vx_rxsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct vx_priv *vx = p->priv;
	struct vx_agg *a = &vx->agg;
	uint32_t free_slots, w;
	unsigned maxs = slots_for(kr, vx->vnet + vx->max_frame);
	bool can_agg = vx->vnet && kr->buf_size >= vx->vnet + sizeof(a->hdr);
	/* rxcsum=trust: inner checksums are not read (see the file's head) */
	bool (*seg_ok)(const uint8_t *, size_t, struct vx_tcp *) =
		vx->vc.rx_trust_csum ? unm_vxlan_tcp_seg : unm_vxlan_tcp_parse;
	bool drained = false;     /* a read returned less than asked: the socket was empty */
	uint64_t now = unm_now_ns();
	int rc = 0;

	kr->armed = false;
	kr->hwcur = head;
	free_slots = kr->nslots - 1 - kr_dist(kr, kr->hwcur, kr->hwtail);
	pthread_mutex_lock(&vx->lock);
	w = kr->hwtail;
	a->open = false;
	for (;;) {
		uint8_t *seg, *fr;
		size_t dlen, sl, flen;
		union vx_addr *src;
		struct vx_tcp t;
		unsigned need;
		bool tso;
		int why;

		if (vx->rcur == vx->rn) {
			int r;

			/* A short read emptied the socket: another recvmmsg
			 * now would mostly return EAGAIN (a system call for
			 * nothing). What arrived since keeps the socket
			 * readable (level-triggered), so the next sync gets it. */
			if (drained || free_slots < maxs + (a->open ? a->c.n : 0))
				break;
			for (unsigned m = 0; m < VX_RXN; m++) {
				struct msghdr *h = &vx->rmsg[m].msg_hdr;

				vx->riov[m].iov_base = vx->rbuf + (size_t)m * VX_RXSZ;
				vx->riov[m].iov_len = VX_RXSZ;
				memset(h, 0, sizeof(*h));
				h->msg_name = &vx->rname[m];
				h->msg_namelen = sizeof(vx->rname[m]);
				h->msg_iov = &vx->riov[m];
				h->msg_iovlen = 1;
				h->msg_control = vx->rcm[m].b;
				h->msg_controllen = sizeof(vx->rcm[m].b);
			}
			r = recvmmsg(vx->rx_fd, vx->rmsg, VX_RXN, MSG_DONTWAIT, NULL);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN)
					rc = unm_seterr(-errno, "vxlan: recvmmsg: %s", strerror(errno));
				break;
			}
			if (r == 0)
				break;
			drained = r < VX_RXN;
			for (unsigned m = 0; m < (unsigned)r; m++) {
				struct msghdr *h = &vx->rmsg[m].msg_hdr;
				struct cmsghdr *c;
				union vx_addr *s = &vx->rname[m];

				vx->rlen[m] = vx->rmsg[m].msg_len;
				vx->rtrunc[m] = (h->msg_flags & MSG_TRUNC) != 0;
				vx->rgso[m] = 0;
				for (c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
					int gs;

					if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO &&
					    c->cmsg_len >= CMSG_LEN(sizeof(int))) {
						memcpy(&gs, CMSG_DATA(c), sizeof(gs));
						if (gs > 0 && (uint32_t)gs < vx->rlen[m])
							vx->rgso[m] = (uint32_t)gs;
					}
				}
				if (vx->rgso[m])
					vx->st.rx_gro++;
				if (h->msg_namelen < sizeof(sa_family_t) || s->sa.sa_family != vx->vc.family)
					memset(s, 0, sizeof(*s));
				/* replies go to the VXLAN port of the remote, not to
				 * its (flow) source port */
				if (s->sa.sa_family == AF_INET)
					s->v4.sin_port = htons(vx->vc.port);
				else if (s->sa.sa_family == AF_INET6)
					s->v6.sin6_port = htons(vx->vc.port);
			}
			vx->rn = (unsigned)r;
			vx->rcur = 0;
			vx->roff = 0;
		}
		/* the next VXLAN datagram: the whole message, or its next GRO segment */
		dlen = vx->rlen[vx->rcur];
		sl = unm_vxlan_gro_seg(dlen, vx->roff, vx->rgso[vx->rcur]);
		seg = vx->rbuf + (size_t)vx->rcur * VX_RXSZ + vx->roff;
		src = &vx->rname[vx->rcur];
		/* with a vnet header a whole inner TSO frame can go up (below) */
		why = unm_vxlan_rx_check(&vx->vc, seg, sl, vx->rtrunc[vx->rcur], src,
					 vx->vnet ? UNM_MAX_FRAME - vx->vnet : vx->max_frame);
		if (why != VX_RX_OK) {
			vx->st.rx_drop[why]++;
			p->st.drops++;
			goto consumed;
		}
		fr = seg + VX_HDR_LEN;
		flen = sl - VX_HDR_LEN;
		tso = false;
		if (flen > vx->max_frame) {
			/* A Linux VTEP on a veth underlay hands the veth its
			 * inner TSO frames whole (the veth claims UDP tunnel
			 * segmentation), and they reach our socket as one
			 * datagram. A TCP one goes up as the GSO frame it is,
			 * cut to the inner MTU by whoever takes it; anything
			 * else that big is an oversize drop. */
			if (!unm_vxlan_tcp_hdrs(fr, flen, &t) ||
			    vx->mtu < (uint32_t)(t.poff - 14) + 8u) {
				vx->st.rx_drop[UNM_VXLAN_RX_OVERSIZE]++;
				p->st.drops++;
				goto consumed;
			}
			/* NEEDS_CSUM: the field must hold the pseudo-header
			 * sum, whatever the sender left in it */
			unm_vxlan_tcp_fix(fr, &t, flen, t.flags);
			tso = true;
		} else if (unm_csum_fix_partial(fr, flen)) {
			/* The same VTEP leaves the inner checksum of what it
			 * does not segment CHECKSUM_PARTIAL: the field holds
			 * only the pseudo-header sum and nothing on the way
			 * fills it in. The datagram carries no checksum
			 * state, so complete exactly that case (a right
			 * checksum is never changed), in our private receive
			 * buffer, before coalescing checks it: the peer needs
			 * no `ethtool -K tx off`. */
			vx->st.rx_csum++;
		}
		if (a->open) {
			if (seg_ok(fr, flen, &t) && t.plen <= a->t.plen &&
			    a->c.len + t.plen - vx->vnet <= UNM_MAX_FRAME &&
			    slots_for(kr, a->c.len + t.plen) <= UNM_MAX_FRAGS &&
			    slots_for(kr, a->c.len + t.plen) <= free_slots &&
			    unm_vxlan_tcp_follows(a->hdr, &a->t, a->next_seq, fr, &t)) {
				if ((rc = ch_put(p, kr, &a->c, fr + t.poff, t.plen)) < 0)
					goto out;
				a->next_seq += t.plen;
				a->segs++;
				a->flags = t.flags;
				if (t.flags != 0x10 || t.plen < a->t.plen) {
					need = vx_agg_close(vx, p, kr);
					free_slots -= need;
					w = kr_adv(kr, w, need);
				}
				goto delivered;
			}
			need = vx_agg_close(vx, p, kr);
			free_slots -= need;
			w = kr_adv(kr, w, need);
		}
		need = slots_for(kr, vx->vnet + flen);
		if (need > free_slots)
			break; /* ring full: this datagram waits for the next sync */
		if (!tso && can_agg && seg_ok(fr, flen, &t)) {
			memset(&a->c, 0, sizeof(a->c));
			a->c.start = w;
			a->c.len = vx->vnet; /* the header is written at close */
			a->t = t;
			memcpy(a->hdr, fr, t.poff);
			a->next_seq = t.seq + t.plen;
			a->segs = 1;
			a->flags = t.flags;
			a->open = true;
			if ((rc = ch_put(p, kr, &a->c, fr, flen)) < 0)
				goto out;
			if (t.flags != 0x10) {
				need = vx_agg_close(vx, p, kr);
				free_slots -= need;
				w = kr_adv(kr, w, need);
			}
		} else {
			struct vx_chain c = { .start = w };

			if (vx->vnet) {
				struct unm_vnet_hdr h = { 0 };
				uint8_t raw[UNM_VNET_HDR_LEN_MRG];

				if (tso) {
					h.flags = UNM_VNET_F_NEEDS_CSUM;
					h.gso_type = t.v6 ? UNM_VNET_GSO_TCPV6 : UNM_VNET_GSO_TCPV4;
					h.hdr_len = t.poff;
					h.gso_size = (uint16_t)(vx->mtu - (t.poff - 14u));
					h.csum_start = t.l4;
					h.csum_offset = 16;
					vx->st.rx_tso++;
				} else if (vx->vc.rx_trust_csum) {
					h.flags = UNM_VNET_F_DATA_VALID;
				}
				unm_vnet_hdr_encode(raw, vx->vnet, &h);
				rc = ch_put(p, kr, &c, raw, vx->vnet);
			}
			if (rc < 0 || (rc = ch_put(p, kr, &c, fr, flen)) < 0)
				goto out;
			need = ch_close(kr, &c);
			free_slots -= need;
			w = kr_adv(kr, w, need);
			p->st.rx_frames++;
			p->st.rx_bytes += flen;
		}
delivered:
		unm_vxlan_fdb_learn(&vx->fdb, fr + 6, src, now);
		vx->st.rx_frames++;
consumed:
		vx->st.rx_datagrams++;
		vx->roff += (uint32_t)sl;
		if (vx->roff >= dlen) {
			vx->rcur++;
			vx->roff = 0;
		}
	}
out:
	if (a->open && rc == 0) {
		unsigned need = vx_agg_close(vx, p, kr);

		w = kr_adv(kr, w, need);
	}
	a->open = false;
	kr->hwtail = w;
	vx->st.learn_full = vx->fdb.full;
	vx->st.learn_moves = vx->fdb.moves;
	pthread_mutex_unlock(&vx->lock);
	return rc;
}

/* ---- notifications ----------------------------------------------------- */

static void vx_reg(struct unm_port *p, unsigned k, uint32_t want)
{
	struct vx_priv *vx = p->priv;
	struct epoll_event ev = { .events = want, .data.u32 = k };

	if (vx->ev_reg[k] == want)
		return;
	if (epoll_ctl(p->epfd, EPOLL_CTL_MOD, k ? vx->tx_fd[k - 1] : vx->rx_fd, &ev) == 0)
		vx->ev_reg[k] = want;
}

static bool vx_arm(struct unm_port *p, struct unm_kring *kr)
{
	kr->armed = true;
	if (kr->dir) {
		vx_reg(p, 0, EPOLLIN);
	} else {
		for (unsigned k = 1; k <= VX_NTX; k++)
			vx_reg(p, k, EPOLLOUT);
	}
	return false; /* level-triggered: nothing can be missed */
}

static int vx_wakeup(struct unm_port *p)
{
	struct epoll_event ev[1 + VX_NTX];
	int n = epoll_wait(p->epfd, ev, 1 + VX_NTX, 0);

	for (int k = 0; k < n; k++) {
		if (ev[k].data.u32 == 0 && (ev[k].events & EPOLLIN))
			p->rx[0].armed = false;
		if (ev[k].data.u32 > 0 && (ev[k].events & EPOLLOUT))
			p->tx[0].armed = false;
	}
	vx_reg(p, 0, p->rx[0].armed ? EPOLLIN : 0);
	for (unsigned k = 1; k <= VX_NTX; k++)
		vx_reg(p, k, p->tx[0].armed ? EPOLLOUT : 0);
	return p->error;
}

const struct unm_port_ops unm_vxlan_ops = {
	.type = "vxlan",
	.open = vx_open,
	.txsync = vx_txsync,
	.rxsync = vx_rxsync,
	.arm = vx_arm,
	.wakeup = vx_wakeup,
	.close = vx_close,
};

/* ---- public: counters and learning table --------------------------------- */

UNM_API int unm_vxlan_stats(const struct unm_port *p, struct unm_vxlan_stats *st)
{
	struct vx_priv *vx;
	struct unm_vxlan_stats tmp;
	size_t sz;

	if (!p || !st || st->sz < sizeof(size_t))
		return -EINVAL;
	if (p->ops != &unm_vxlan_ops)
		return -ENOTSUP;
	vx = p->priv;
	pthread_mutex_lock(&vx->lock);
	tmp = vx->st;
	tmp.learn_entries = unm_vxlan_fdb_count(&vx->fdb, unm_now_ns());
	tmp.learn_full = vx->fdb.full;
	tmp.learn_moves = vx->fdb.moves;
	pthread_mutex_unlock(&vx->lock);
	sz = st->sz < sizeof(tmp) ? st->sz : sizeof(tmp);
	tmp.sz = st->sz;
	memcpy(st, &tmp, sz);
	return 0;
}

UNM_API int unm_vxlan_fdb(const struct unm_port *p, unm_vxlan_fdb_cb cb, void *arg)
{
	struct vx_priv *vx;
	uint64_t now = unm_now_ns();
	int n = 0;

	if (!p || !cb)
		return -EINVAL;
	if (p->ops != &unm_vxlan_ops)
		return -ENOTSUP;
	vx = p->priv;
	pthread_mutex_lock(&vx->lock);
	for (uint32_t i = 0; i <= vx->fdb.mask; i++) {
		const struct vx_fdb_ent *x = &vx->fdb.e[i];
		char ab[64];

		if (!x->used || now - x->seen_ns >= vx->fdb.ageing_ns)
			continue;
		cb(arg, x->mac, addr_str(&x->remote, ab, sizeof(ab)),
		   (uint32_t)((now - x->seen_ns) / 1000000));
		n++;
	}
	pthread_mutex_unlock(&vx->lock);
	return n;
}

UNM_API int unm_vxlan_lookup(const struct unm_port *p, const uint8_t mac[6], char *remote,
			     size_t len)
{
	const struct vx_fdb_ent *x;
	struct vx_priv *vx;
	int rc = -ENOENT;

	if (!p || !mac || !remote || !len)
		return -EINVAL;
	if (p->ops != &unm_vxlan_ops)
		return -ENOTSUP;
	vx = p->priv;
	pthread_mutex_lock(&vx->lock);
	x = unm_vxlan_fdb_find(&vx->fdb, mac, unm_now_ns());
	if (x) {
		addr_str(&x->remote, remote, len);
		rc = 0;
	}
	pthread_mutex_unlock(&vx->lock);
	return rc;
}
