// SPDX-License-Identifier: BSD-2-Clause
/*
 * unm_lwip.c - libunm-lwip: an unetmap port as an lwIP netif.
 *
 * Owns the glue between one port's rings and one struct netif: the RX
 * path (slots -> pbufs -> ethernet_input), the TX path (linkoutput: pbuf
 * -> TX slots, synced per batch) and the loop step (unm_lwip_poll()) that
 * sleeps on the port's fd no longer than lwIP's next timer.
 *
 * Threads: exactly one, the lwIP thread (see unm/lwip.h). Nothing here is
 * locked. Uses only the public libunm API.
 *
 * Untrusted input: every received byte comes from whoever can write the
 * port (another process, a guest, the wire). Slot lengths and chains are
 * checked against the buffer size and UNM_MAX_FRAGS, the virtio-net
 * header is read once into a local copy and its offsets are checked
 * against the frame before the checksum is completed, and the frame is
 * copied into a pbuf before lwIP parses it, so a peer rewriting the buffer
 * cannot change what lwIP already validated.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <unm.h>
#include <unm/lwip.h>

#include "lwip/opt.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/inet_chksum.h"
#include "lwip/timeouts.h"
#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h"
#include "netif/ethernet.h"

#if !LWIP_IPV4 || !LWIP_TCP || !LWIP_ETHERNET
#error "libunm-lwip needs lwIP built with IPv4, TCP and Ethernet"
#endif

#define ETH_HDR      14
#define ETH_MIN      60             /* frames are padded to this (no FCS) */
#define VNET_F_NEEDS_CSUM 1
#define VNET_GSO_NONE     0
#define VNET_GSO_ECN      0x80
#define DEF_BUDGET   256
#define LINK_CHECK_MS 1000
#define DEF_SYN_RCVD 512
#define NB_SLOTS     256            /* neighbour cache, direct mapped */
#define NB_MAX_AGE_MS (300 * 1000)  /* lwIP's ARP_MAXAGE */

/* The first 10 bytes of struct virtio_net_hdr (little endian on the wire
 * for virtio 1.0 and for tap with TUNSETVNETLE / x86). */
struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

/* An IPv4 neighbour that answered or asked us by ARP (see nb_learn()). */
struct nb_entry {
	uint32_t ip;                /* network order, 0 = empty */
	uint32_t seen;              /* sys_now() of the last ARP from it */
	struct eth_addr mac;
};

struct unm_lwip {
	struct netif netif;
	struct nb_entry nb[NB_SLOTS];
	struct unm_port *port;
	unsigned first_tx, first_rx, last_rx;
	unsigned vnet;              /* header bytes in front of every frame */
	unsigned buf_size;
	unsigned max_frame;         /* largest frame (no header) we can send */
	unsigned budget;
	unsigned max_syn_rcvd;      /* 0: no limit */
	int is_vhost;
	int tx_dirty;               /* TX slots filled since the last sync */
	uint32_t next_link_check;
	uint8_t *rxbuf;             /* reassembly of MOREFRAG chains */
	size_t rxbuf_len;
	struct unm_lwip_stats st;
};

static int lwip_started;

int unm_lwip_init(void)
{
	if (!lwip_started) {
		lwip_init();
		lwip_started = 1;
	}
	return 0;
}

struct netif *unm_lwip_netif(struct unm_lwip *lw)
{
	return &lw->netif;
}

static void set_link(struct unm_lwip *lw, int up)
{
	if (up && !netif_is_link_up(&lw->netif))
		netif_set_link_up(&lw->netif);
	else if (!up && netif_is_link_up(&lw->netif))
		netif_set_link_down(&lw->netif);
	lw->st.link_up = up ? 1 : 0;
}

/* ---- TX ---------------------------------------------------------------- */

/*
 * Copy frame P (with a zero virtio-net header in front if the port has
 * one) into the next TX slot(s) of the first bound TX ring. A frame longer
 * than one buffer becomes a MOREFRAG chain. If the ring is full the batch
 * is synced once; still full = drop (TCP will retransmit).
 */
static err_t link_output(struct netif *netif, struct pbuf *p)
{
	struct unm_lwip *lw = netif->state;
	struct unm_ring *r = unm_ring_get(lw->port, 1, lw->first_tx);
	unsigned flen = p->tot_len < ETH_MIN ? ETH_MIN : p->tot_len;
	unsigned total = flen + lw->vnet;
	unsigned nslots = (total + lw->buf_size - 1) / lw->buf_size;

	if (!r)
		return ERR_IF;
	if (flen > lw->max_frame) {
		lw->st.tx_too_long++;
		return ERR_VAL;
	}
	if (unm_ring_space(r) < nslots) {
		unm_txsync(lw->port, (int)lw->first_tx);
		lw->tx_dirty = 0;
		if (unm_ring_space(r) < nslots) {
			lw->st.tx_full++;
			return ERR_MEM;
		}
	}
	uint32_t i = r->head;
	unsigned done = 0; /* bytes of the padded frame + header written */
	unsigned plen = p->tot_len;
	while (done < total) {
		char *b = unm_slot_buf(r, i);
		unsigned n = total - done < lw->buf_size ? total - done : lw->buf_size;
		unsigned off = 0;
		if (done < lw->vnet) { /* the header fits the first buffer */
			memset(b, 0, lw->vnet);
			off = lw->vnet;
		}
		unsigned fpos = done + off - lw->vnet; /* position in the frame */
		unsigned want = n - off;
		unsigned copy = fpos < plen ? (plen - fpos < want ? plen - fpos : want) : 0;
		if (copy)
			pbuf_copy_partial(p, b + off, (u16_t)copy, (u16_t)fpos);
		if (copy < want)
			memset(b + off + copy, 0, want - copy);
		r->slot[i].len = (uint16_t)n;
		done += n;
		r->slot[i].flags = done < total ? UNM_NS_MOREFRAG : 0;
		i = unm_ring_next(r, i);
	}
	unm_ring_advance(r, i);
	lw->tx_dirty = 1;
	lw->st.tx_frames++;
	lw->st.tx_bytes += p->tot_len;
	return ERR_OK;
}

int unm_lwip_flush(struct unm_lwip *lw)
{
	if (!lw->tx_dirty)
		return 0;
	lw->tx_dirty = 0;
	return unm_txsync(lw->port, (int)lw->first_tx);
}

/* ---- RX ---------------------------------------------------------------- */

/* Complete a partial checksum: the field holds the pseudo-header sum, the
 * ones' complement of the sum from csum_start to the end goes there. */
static int vnet_fix_csum(struct unm_lwip *lw, uint8_t *f, unsigned len, const struct vnet_hdr *h)
{
	unsigned start = h->csum_start, off = h->csum_offset;

	if (start < ETH_HDR || start >= len || off > len - start || len - start - off < 2)
		return -1;
	if (len - start > 0xffff)
		return -1;
	u16_t c = inet_chksum(f + start, (u16_t)(len - start));
	if (c == 0)
		c = 0xffff; /* same value in ones' complement; UDP needs this form */
	memcpy(f + start + off, &c, 2);
	lw->st.rx_csum_fixed++;
	return 0;
}

/*
 * IPv4 neighbour cache beside lwIP's ARP table. Debian's lwIP has 10 ARP
 * entries: a flood of SYNs from many addresses of the subnet makes lwIP ARP
 * for each of them, evicting an honest peer's entry over and over, until
 * that peer's connection times out. Addresses that sent us an ARP request
 * or reply for our own address are kept here too (a flood's spoofed
 * sources never answer), and output to them skips lwIP's table. The cache
 * believes ARP exactly as lwIP does (an attacker who sends ARP can poison
 * both): an entry is replaced by the next ARP from that address and
 * expires after ARP_MAXAGE without one.
 */
static struct nb_entry *nb_slot(struct unm_lwip *lw, uint32_t ip)
{
	uint32_t h = ip * 2654435761u;
	return &lw->nb[h >> 24];
}

static void nb_learn(struct unm_lwip *lw, const uint8_t *f, unsigned len)
{
	const ip4_addr_t *me = netif_ip4_addr(&lw->netif);
	uint32_t sip, tip;

	if (len < ETH_HDR + 28 || ip4_addr_isany(me))
		return;
	const uint8_t *a = f + ETH_HDR;
	if (a[0] != 0 || a[1] != 1 || a[2] != 8 || a[3] != 0 || a[4] != 6 || a[5] != 4)
		return;
	memcpy(&sip, a + 14, 4);
	memcpy(&tip, a + 24, 4);
	if (tip != ip4_addr_get_u32(me) || sip == 0 || sip == tip || (a[8] & 1))
		return; /* not about us, no source, or a multicast sender MAC */
	ip4_addr_t s4;
	ip4_addr_set_u32(&s4, sip);
	if (!ip4_addr_netcmp(&s4, me, netif_ip4_netmask(&lw->netif)))
		return;
	struct nb_entry *e = nb_slot(lw, sip);
	e->ip = sip;
	e->seen = sys_now();
	memcpy(e->mac.addr, a + 8, 6);
}

static err_t nb_output(struct netif *netif, struct pbuf *p, const ip4_addr_t *ipaddr)
{
	struct unm_lwip *lw = netif->state;
	const ip4_addr_t *hop = ipaddr;

	if (ip4_addr_ismulticast(ipaddr) || ip4_addr_isbroadcast(ipaddr, netif))
		return etharp_output(netif, p, ipaddr);
	if (!ip4_addr_netcmp(ipaddr, netif_ip4_addr(netif), netif_ip4_netmask(netif)) &&
	    !ip4_addr_islinklocal(ipaddr) && !ip4_addr_isany(netif_ip4_gw(netif)))
		hop = netif_ip4_gw(netif);
	struct nb_entry *e = nb_slot(lw, ip4_addr_get_u32(hop));
	if (e->ip == ip4_addr_get_u32(hop) && sys_now() - e->seen < NB_MAX_AGE_MS) {
		lw->st.nb_hits++;
		return ethernet_output(netif, p, (const struct eth_addr *)netif->hwaddr, &e->mac,
				       ETHTYPE_IP);
	}
	return etharp_output(netif, p, ipaddr);
}

/* Hand one frame (header included if the port has one) to lwIP. */
static void deliver(struct unm_lwip *lw, uint8_t *buf, unsigned len)
{
	struct vnet_hdr h;

	if (lw->vnet) {
		if (len < lw->vnet)
			goto bad;
		memcpy(&h, buf, sizeof(h)); /* one read; the buffer may change */
		h.hdr_len = le16toh(h.hdr_len);
		h.gso_size = le16toh(h.gso_size);
		h.csum_start = le16toh(h.csum_start);
		h.csum_offset = le16toh(h.csum_offset);
		buf += lw->vnet;
		len -= lw->vnet;
	}
	if (len < ETH_HDR || len > 0xffff)
		goto bad;
	if (!lw->vnet && len > lw->netif.mtu + ETH_HDR + 4u)
		goto bad; /* no GSO without a header: larger than the link */
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
	if (!p) {
		lw->st.rx_nomem++;
		return;
	}
	/* PBUF_RAM is one contiguous buffer: fix the copy, not the slot */
	memcpy(p->payload, buf, len);
	if (lw->vnet) {
		if ((h.gso_type & ~VNET_GSO_ECN) != VNET_GSO_NONE) {
			if (!(h.flags & VNET_F_NEEDS_CSUM) || h.gso_size == 0)
				goto bad_free;
			lw->st.rx_gso++;
		} else if (len > lw->netif.mtu + ETH_HDR + 4u) {
			goto bad_free;
		}
		if ((h.flags & VNET_F_NEEDS_CSUM) && vnet_fix_csum(lw, p->payload, len, &h))
			goto bad_free;
	}
	if (((uint8_t *)p->payload)[12] == 0x08 && ((uint8_t *)p->payload)[13] == 0x06)
		nb_learn(lw, p->payload, len);
	lw->st.rx_frames++;
	lw->st.rx_bytes += len;
	if (lw->netif.input(p, &lw->netif) != ERR_OK)
		pbuf_free(p);
	return;
bad_free:
	pbuf_free(p);
bad:
	lw->st.rx_bad++;
}

/* Take up to budget frames from ring R. Returns frames handed up. */
static int input_ring(struct unm_lwip *lw, struct unm_ring *r)
{
	unsigned n = 0;
	uint32_t i = r->head;

	while (i != r->tail && n < lw->budget) {
		struct unm_slot *s = &r->slot[i];
		unsigned len = s->len;
		if (!(s->flags & UNM_NS_MOREFRAG)) {
			if (len <= lw->buf_size)
				deliver(lw, (uint8_t *)unm_slot_buf(r, i), len);
			else
				lw->st.rx_bad++;
			i = unm_ring_next(r, i);
			n++;
			continue;
		}
		/* a chain: gather it; incomplete at tail = wait for the rest */
		uint32_t j = i;
		unsigned frags = 0, total = 0, ok = 1;
		for (;;) {
			if (j == r->tail)
				goto out; /* rest not yet visible */
			unsigned l = r->slot[j].len;
			if (l > lw->buf_size)
				ok = 0;
			total += l;
			frags++;
			uint16_t fl = r->slot[j].flags;
			j = unm_ring_next(r, j);
			if (!(fl & UNM_NS_MOREFRAG) || frags >= UNM_MAX_FRAGS)
				break;
		}
		if (ok && total <= lw->rxbuf_len) {
			unsigned pos = 0;
			for (uint32_t k = i; k != j; k = unm_ring_next(r, k)) {
				unsigned l = r->slot[k].len;
				if (l > lw->buf_size || pos + l > total) { /* changed under us */
					ok = 0;
					break;
				}
				memcpy(lw->rxbuf + pos, unm_slot_buf(r, k), l);
				pos += l;
			}
			if (ok)
				deliver(lw, lw->rxbuf, pos);
		}
		if (!ok || total > lw->rxbuf_len)
			lw->st.rx_bad++;
		i = j;
		n++;
	}
out:
	unm_ring_advance(r, i);
	return (int)n;
}

/*
 * SYN-flood bound. lwIP (2.1, no TCP_LISTEN_BACKLOG in Debian's build)
 * gives every SYN to a listening port a pcb in SYN_RCVD that lives up to
 * 20 s, and every segment's demultiplexing walks the list of pcbs: a flood
 * would grow it without bound. After each input batch, keep only the
 * newest max_syn_rcvd half-open pcbs: older ones are dropped silently (no
 * RST to a probably spoofed source). New SYNs always get in, so an honest
 * handshake, which completes in one round trip, survives a flood as long
 * as that round trip is shorter than the time the flood takes to send
 * max_syn_rcvd SYNs. Walking the list is bounded by the same limit plus the
 * established connections.
 */
static void syn_trim(struct unm_lwip *lw)
{
	unsigned n = 0;
	struct tcp_pcb *pcb, *next;

	if (!lw->max_syn_rcvd)
		return;
	for (pcb = tcp_active_pcbs; pcb; pcb = pcb->next)
		n += pcb->state == SYN_RCVD;
	if (n <= lw->max_syn_rcvd)
		return;
	/* new pcbs are put at the head of the list: skip the newest */
	unsigned keep = lw->max_syn_rcvd;
	for (pcb = tcp_active_pcbs; pcb; pcb = next) {
		next = pcb->next;
		if (pcb->state != SYN_RCVD)
			continue;
		if (keep) {
			keep--;
			continue;
		}
		tcp_arg(pcb, NULL);
		tcp_err(pcb, NULL);
		tcp_abandon(pcb, 0);
		lw->st.syn_dropped++;
	}
}

int unm_lwip_input(struct unm_lwip *lw)
{
	int total = 0, err = 0;

	for (unsigned q = lw->first_rx; q < lw->last_rx; q++) {
		struct unm_ring *r = unm_ring_get(lw->port, 0, q);
		if (!r)
			continue;
		int rc = unm_rxsync(lw->port, (int)q);
		if (rc < 0) {
			err = rc;
			continue;
		}
		total += input_ring(lw, r);
	}
	if (total)
		syn_trim(lw);
	if (err && total == 0) {
		set_link(lw, 0);
		return err;
	}
	return total;
}

/* ---- loop -------------------------------------------------------------- */

static void check_link(struct unm_lwip *lw)
{
	if (!lw->is_vhost)
		return;
	uint32_t now = sys_now();
	if ((int32_t)(now - lw->next_link_check) < 0)
		return;
	lw->next_link_check = now + LINK_CHECK_MS;
	struct unm_port_info pi = { .sz = sizeof(pi) };
	if (unm_port_info(lw->port, &pi) == 0)
		set_link(lw, pi.link_up != 0);
}

int unm_lwip_poll(struct unm_lwip *lw, int timeout_ms)
{
	int rc, n;

	lw->st.polls++;
	unm_lwip_flush(lw);
	n = unm_lwip_input(lw);
	sys_check_timeouts();
	check_link(lw);
	unm_lwip_flush(lw);
	if (n != 0 || timeout_ms == 0)
		return n;

	u32_t sleep = sys_timeouts_sleeptime();
	int t = sleep == SYS_TIMEOUTS_SLEEPTIME_INFINITE ? -1 : (int)(sleep > 1000 ? 1000 : sleep);
	if (lw->is_vhost && (t < 0 || t > LINK_CHECK_MS))
		t = LINK_CHECK_MS;
	/* a txsync moves only what the peer has room for (a pipe): while
	 * frames are pending, come back soon to push them */
	struct unm_ring *txr = unm_ring_get(lw->port, 1, lw->first_tx);
	if (txr && unm_tx_pending(txr) && (t < 0 || t > 1))
		t = 1;
	if (timeout_ms > 0 && (t < 0 || timeout_ms < t))
		t = timeout_ms;
	if (t != 0) {
		lw->st.sleeps++;
		rc = unm_wait(lw->port, UNM_WAIT_RX, t);
		if (rc == -EINTR)
			return rc;
		if (rc < 0) {
			/* port gone: keep lwIP's timers going at a slow pace */
			set_link(lw, 0);
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
			sys_check_timeouts();
			return rc;
		}
	}
	n = unm_lwip_input(lw);
	sys_check_timeouts();
	unm_lwip_flush(lw);
	return n;
}

/* ---- attach / detach --------------------------------------------------- */

static err_t netif_init_cb(struct netif *netif)
{
	netif->linkoutput = link_output;
	netif->output = nb_output;
#if LWIP_IPV6
	netif->output_ip6 = ethip6_output;
#endif
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
#if LWIP_IGMP
	netif->flags |= NETIF_FLAG_IGMP;
#endif
#if LWIP_IPV6 && LWIP_IPV6_MLD
	netif->flags |= NETIF_FLAG_MLD6;
#endif
	return ERR_OK;
}

int unm_lwip_attach(struct unm_port *port, const struct unm_lwip_opts *opts,
		    struct unm_lwip **lwp)
{
	struct unm_lwip_opts o = { 0 };
	struct unm_port_info pi = { .sz = sizeof(pi) };
	int rc;

	if (!port || !lwp)
		return -EINVAL;
	if (opts) {
		if (opts->sz < sizeof(size_t) || opts->sz > sizeof(o))
			return -EINVAL;
		memcpy(&o, opts, opts->sz);
	}
	if (o.mtu && (o.mtu < 576 || o.mtu > 9000))
		return -EINVAL;
	rc = unm_port_info(port, &pi);
	if (rc < 0)
		return rc;
	if (pi.last_tx <= pi.first_tx || pi.last_rx <= pi.first_rx || pi.buf_size < 64)
		return -EINVAL;
	struct unm_lwip *lw = calloc(1, sizeof(*lw));
	if (!lw)
		return -ENOMEM;
	lw->port = port;
	lw->first_tx = pi.first_tx;
	lw->first_rx = pi.first_rx;
	lw->last_rx = pi.last_rx;
	lw->vnet = pi.vnet_hdr_len;
	lw->buf_size = pi.buf_size;
	lw->budget = o.rx_budget ? o.rx_budget : DEF_BUDGET;
	lw->max_syn_rcvd = o.flags & UNM_LWIP_NO_SYN_LIMIT ? 0 :
			   o.max_syn_rcvd ? o.max_syn_rcvd : DEF_SYN_RCVD;
	lw->is_vhost = strcmp(pi.type, "vhost-user") == 0 || strcmp(pi.type, "vhost") == 0;
	/* a TX chain is at most UNM_MAX_FRAGS buffers and one slot stays empty */
	unsigned frags = UNM_MAX_FRAGS < pi.tx_slots - 1 ? UNM_MAX_FRAGS : pi.tx_slots - 1;
	uint64_t cap = (uint64_t)frags * pi.buf_size - lw->vnet;
	lw->max_frame = cap > 0xffff ? 0xffff : (unsigned)cap;
	lw->rxbuf_len = (size_t)UNM_MAX_FRAGS * pi.buf_size;
	lw->rxbuf = malloc(lw->rxbuf_len);
	if (!lw->rxbuf) {
		free(lw);
		return -ENOMEM;
	}

	unsigned mtu = o.mtu ? o.mtu : (pi.mtu >= 576 && pi.mtu <= 9000 ? pi.mtu : 1500);
	if (mtu + ETH_HDR > lw->max_frame)
		mtu = lw->max_frame - ETH_HDR;

	uint8_t mac[6];
	static const uint8_t zero[6];
	if (memcmp(pi.mac, zero, 6) && !(o.flags & UNM_LWIP_FORCE_MAC && memcmp(o.mac, zero, 6)))
		memcpy(mac, pi.mac, 6);
	else if (memcmp(o.mac, zero, 6))
		memcpy(mac, o.mac, 6);
	else {
		if (getrandom(mac, 6, 0) != 6) {
			for (int k = 0; k < 6; k++)
				mac[k] = (uint8_t)rand();
		}
		mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
	}

	struct netif *nif = &lw->netif;
	if (!netif_add(nif, NULL, NULL, NULL, lw, netif_init_cb, ethernet_input)) {
		free(lw->rxbuf);
		free(lw);
		return -ENOMEM;
	}
	nif->name[0] = o.name[0] ? o.name[0] : 'u';
	nif->name[1] = o.name[1] ? o.name[1] : 'n';
	nif->mtu = (u16_t)mtu;
#if LWIP_IPV6 && LWIP_ND6_ALLOW_RA_UPDATES
	nif->mtu6 = (u16_t)mtu;
#endif
	nif->hwaddr_len = 6;
	memcpy(nif->hwaddr, mac, 6);
	if (o.flags & UNM_LWIP_DEFAULT)
		netif_set_default(nif);
	netif_set_up(nif);
	set_link(lw, lw->is_vhost ? pi.link_up != 0 : 1);
#if LWIP_IPV6
	netif_create_ip6_linklocal_address(nif, 1);
#endif
	*lwp = lw;
	return 0;
}

void unm_lwip_detach(struct unm_lwip *lw)
{
	if (!lw)
		return;
	unm_lwip_flush(lw);
	netif_set_down(&lw->netif);
	netif_remove(&lw->netif);
	free(lw->rxbuf);
	free(lw);
}

int unm_lwip_stats(const struct unm_lwip *lw, struct unm_lwip_stats *st)
{
	if (!lw || !st || st->sz < sizeof(size_t) || st->sz > sizeof(*st))
		return -EINVAL;
	size_t sz = st->sz;
	memcpy(st, &lw->st, sz);
	st->sz = sz;
	return 0;
}
