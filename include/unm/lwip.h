/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unm/lwip.h - libunm-lwip: any unetmap port as an lwIP network interface.
 *
 * Binds one open port (pipe end, switch port, tap, AF_PACKET, AF_XDP,
 * shmif, vhost-user, ...) to one lwIP struct netif: received frames are
 * taken from every bound RX ring in batches and handed to lwIP's Ethernet
 * input, frames lwIP sends are copied into TX slots that are synced once
 * per batch (unm_lwip_flush(), done by unm_lwip_poll()).
 *
 * Threading: lwIP's raw API is single-threaded. Everything here, and every
 * raw-API call of the application, runs in ONE thread: the one that called
 * unm_lwip_init(). The stack is driven by calling unm_lwip_poll() in a
 * loop; it sleeps on the port and runs lwIP's timers. Debian's liblwip is
 * built with NO_SYS=0: this library calls lwip_init() itself and never
 * starts the tcpip thread, so the netconn/socket APIs are not usable.
 *
 * Link: the port's MAC address if it has one (unm_port_info()), else the
 * one given in the options, else a random locally administered unicast
 * address. MTU: the option, else the port's MTU, else 1500, capped by what
 * the port's buffers can carry. Link state: up while the port works; down
 * when the pipe peer closed, unmd went away, or a vhost-user port has no
 * running device (checked once a second).
 *
 * Virtio-net headers (port opened with vnet_hdr_len 10 or 12): received
 * frames with a partial checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM) are
 * completed before lwIP sees them, and GSO frames (TSO/USO super-frames up
 * to 64 KiB) are passed to lwIP whole, as one large segment, so a Linux
 * peer with offloads needs no segmentation on the way. Frames sent carry a
 * zero header: lwIP computes every checksum itself (Debian's build has no
 * per-netif checksum control) and never builds GSO frames.
 *
 * IPv4 neighbours that asked or answered us by ARP are also kept in a
 * cache of the binding's own, so that lwIP's small ARP table, churned by a
 * flood from many addresses, cannot starve an honest peer.
 *
 * Requires lwIP 2.1 (pkg-config lwip); include lwIP's headers before
 * calling lwIP, this header needs none of them.
 */
#ifndef UNM_LWIP_H
#define UNM_LWIP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct unm_port;
struct netif;
struct unm_lwip; /* opaque: one port bound to one netif */

/*
 * Options for unm_lwip_attach(). Zero-initialise, set sz, then the fields
 * you need; zero means default.
 */
struct unm_lwip_opts {
	size_t sz;
	uint8_t mac[6];        /* used if the port has none; all-zero = random */
	unsigned mtu;          /* 0 = the port's MTU or 1500; 576..9000 */
	char name[2];          /* lwIP interface name, default "un" */
	unsigned rx_budget;    /* frames taken per RX ring per poll, default 256 */
	unsigned max_syn_rcvd; /* half-open TCP connections kept, default 512:
	                          beyond it the oldest are dropped (SYN flood) */
	unsigned flags;        /* UNM_LWIP_* */
};

/* Make the netif lwIP's default interface (routes and sources). */
#define UNM_LWIP_DEFAULT   0x1
/* Use opts->mac even if the port reports a MAC of its own. */
#define UNM_LWIP_FORCE_MAC 0x2
/* No bound on half-open TCP connections (see max_syn_rcvd). */
#define UNM_LWIP_NO_SYN_LIMIT 0x4

/* Counters of one binding; see unm_lwip_stats(). */
struct unm_lwip_stats {
	size_t sz;                  /* set by the caller */
	uint64_t rx_frames, rx_bytes;   /* handed to lwIP */
	uint64_t tx_frames, tx_bytes;   /* written into TX slots */
	uint64_t rx_bad;            /* dropped: runt, oversize, bad chain, bad vnet header */
	uint64_t rx_nomem;          /* dropped: no pbuf */
	uint64_t rx_csum_fixed;     /* partial checksums completed (vnet) */
	uint64_t rx_gso;            /* GSO super-frames passed whole (vnet) */
	uint64_t tx_full;           /* dropped: TX ring full after a sync */
	uint64_t tx_too_long;       /* dropped: frame larger than the port can carry */
	uint64_t syn_dropped;       /* half-open connections dropped (max_syn_rcvd) */
	uint64_t nb_hits;           /* IPv4 frames sent through the neighbour cache */
	uint64_t polls, sleeps;
	uint32_t link_up;           /* current link state */
};

/*
 * unm_lwip_init - initialise lwIP (lwip_init()) once per process. The
 * calling thread becomes the lwIP thread. Idempotent; returns 0.
 */
int unm_lwip_init(void);

/*
 * unm_lwip_attach - bind PORT (open, owned by the caller, must outlive the
 * binding) to a new lwIP netif with no address, set it up (link up unless
 * the port reports otherwise) and store the binding in *lwp. The caller
 * then adds addresses with lwIP's netif calls on unm_lwip_netif(). The
 * caller must have called unm_lwip_init(). Returns 0, -EINVAL (bad option,
 * port without bound RX or TX ring), -ENOMEM, or an error of unm_port_info().
 */
int unm_lwip_attach(struct unm_port *port, const struct unm_lwip_opts *opts,
		    struct unm_lwip **lwp);

/* unm_lwip_netif - the lwIP netif of a binding (valid until detach). */
struct netif *unm_lwip_netif(struct unm_lwip *lw);

/*
 * unm_lwip_detach - take the netif down, remove it from lwIP, sync pending
 * TX slots and free the binding. The port stays open. NULL is ignored.
 */
void unm_lwip_detach(struct unm_lwip *lw);

/*
 * unm_lwip_input - hand up to the RX budget of received frames of every
 * bound RX ring to lwIP (its callbacks run from here), then release their
 * slots. Never blocks. Returns the number of frames handed up, or a
 * negative errno of unm_rxsync() (-EPIPE: the pipe peer closed; the link
 * is then down).
 */
int unm_lwip_input(struct unm_lwip *lw);

/*
 * unm_lwip_flush - sync the TX slots lwIP filled since the last flush.
 * Never blocks. Returns 0 or a negative errno of unm_txsync().
 */
int unm_lwip_flush(struct unm_lwip *lw);

/*
 * unm_lwip_poll - one round of the stack's loop: flush TX, take received
 * frames, run lwIP's due timers; if nothing arrived, sleep on the port
 * until a frame arrives, the next lwIP timer is due, or TIMEOUT_MS passes
 * (-1 = only lwIP's timers bound the sleep; 0 = never sleep), then do the
 * same again. Returns the number of frames handed to lwIP (>= 0), -EINTR if
 * a signal cut the sleep, or a negative errno of the port (-EPIPE, -EIO,
 * -ECONNRESET: the link is down; calling again is allowed and keeps the
 * timers running).
 */
int unm_lwip_poll(struct unm_lwip *lw, int timeout_ms);

/* unm_lwip_stats - fill *st (st->sz must be set). Returns 0 or -EINVAL. */
int unm_lwip_stats(const struct unm_lwip *lw, struct unm_lwip_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* UNM_LWIP_H */
