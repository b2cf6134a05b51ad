/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unm/vxlan.h - what a vxlan port ("vxlan:REMOTE[,REMOTE...]@conf:vni=N")
 * tells about itself beyond the common port counters: its configuration,
 * its drops by reason and its learning table (inner MAC -> remote VTEP).
 *
 * Both calls read state that the port's syncs write: call them from the
 * thread that syncs the port (or with the lock that serialises it, as
 * unmd does).
 */
#ifndef UNM_VXLAN_PUB_H
#define UNM_VXLAN_PUB_H

#include <stddef.h>
#include <stdint.h>
#include "unm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reasons a received datagram is dropped (unm_vxlan_stats.rx_drop[]). */
enum unm_vxlan_rx_drop {
	UNM_VXLAN_RX_SHORT = 0,     /* shorter than VXLAN header + Ethernet header */
	UNM_VXLAN_RX_FLAGS,         /* I flag (VNI valid) not set */
	UNM_VXLAN_RX_VNI,           /* another VNI than the port's */
	UNM_VXLAN_RX_SOURCE,        /* source address not a configured remote */
	UNM_VXLAN_RX_OVERSIZE,      /* inner frame larger than the inner MTU allows */
	UNM_VXLAN_RX__COUNT = 8     /* room for more reasons (ABI) */
};

#define UNM_VXLAN_RX_REASONS 5
#define UNM_VXLAN_RX_DROP_NAMES { "short", "flags", "bad_vni", "bad_source", "oversize" }

struct unm_vxlan_stats {
	size_t sz;                      /* set by the caller */
	uint32_t vni;
	uint16_t port;                  /* UDP destination port (host order) */
	uint16_t family;                /* AF_INET or AF_INET6 */
	uint32_t mtu;                   /* inner MTU: underlay MTU - 50 / - 70 */
	uint32_t underlay_mtu;
	uint32_t n_remotes;
	uint32_t mcast;                 /* 1: the remote is a multicast group */
	uint32_t ttl;                   /* outer TTL / hop limit used */
	uint32_t learn_max;             /* learning table limit (entries) */
	uint32_t learn_entries;         /* live entries now */
	uint32_t ageing_s;
	uint64_t tx_frames;             /* inner frames sent */
	uint64_t tx_datagrams;          /* outer datagrams (replicas included) */
	uint64_t tx_flood;              /* frames sent to every remote (broadcast,
	                                   multicast, unknown unicast) */
	uint64_t tx_gso_sends;          /* sendmsg calls with UDP_SEGMENT */
	uint64_t tx_errors;             /* datagrams the kernel refused */
	uint64_t tx_drops;              /* frames dropped: bad slot, too short/long */
	uint64_t rx_datagrams;          /* datagrams read */
	uint64_t rx_frames;             /* inner frames delivered */
	uint64_t rx_drop[UNM_VXLAN_RX__COUNT];
	uint64_t learn_full;            /* sources not learned: table full */
	uint64_t learn_moves;           /* a MAC moved to another remote */
	/* offloads (a port opened with a virtio-net header, as unmd attaches it) */
	uint64_t tx_gso_frames;         /* GSO (TSO/USO) frames cut into datagrams here */
	uint64_t tx_csum;               /* partial checksums completed here */
	uint64_t rx_gro;                /* reads that returned a UDP GRO batch */
	uint64_t rx_coalesced;          /* inner TCP frames handed up built from
	                                   several datagrams (a GSO frame) */
	uint64_t rx_csum;               /* inner TCP/UDP checksums the remote left
	                                   partial (a Linux VTEP on a veth with tx
	                                   offload on), completed here */
	uint64_t rx_tso;                /* inner TSO frames received whole in one
	                                   datagram (the same VTEP), handed up as
	                                   GSO frames */
};

/*
 * unm_vxlan_stats - fill *st (st->sz must be set) for a vxlan port.
 * Returns 0, or -EINVAL (NULL argument, sz too small) or -ENOTSUP (not a
 * vxlan port).
 */
UNM_API int unm_vxlan_stats(const struct unm_port *port, struct unm_vxlan_stats *st);

/* Callback of unm_vxlan_fdb(): one learned MAC, the remote VTEP it is
 * behind (text: "198.18.0.2" or "fd00::2") and its age. */
typedef void (*unm_vxlan_fdb_cb)(void *arg, const uint8_t mac[6], const char *remote,
				 uint32_t age_ms);

/*
 * unm_vxlan_fdb - call CB for every live entry of a vxlan port's learning
 * table. Returns the number of entries, or -EINVAL / -ENOTSUP as above.
 */
UNM_API int unm_vxlan_fdb(const struct unm_port *port, unm_vxlan_fdb_cb cb, void *arg);

/*
 * unm_vxlan_lookup - write the remote VTEP that MAC was learned behind
 * (text, at most LEN bytes with the NUL) into REMOTE. Returns 0, -ENOENT
 * (not learned, or aged out), -EINVAL / -ENOTSUP as above.
 */
UNM_API int unm_vxlan_lookup(const struct unm_port *port, const uint8_t mac[6], char *remote,
			     size_t len);

#ifdef __cplusplus
}
#endif
#endif /* UNM_VXLAN_PUB_H */
