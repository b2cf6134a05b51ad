/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * net/netmap_legacy.h - netmap's legacy control API (struct nmreq with
 * NIOCREGIF / NIOCGINFO), included by net/netmap.h. Written for unetmap from
 * netmap's documented API; served by libunm-netmap (see unm-netmap(7)).
 */
#ifndef _NET_NETMAP_LEGACY_H_
#define _NET_NETMAP_LEGACY_H_

#include <stdint.h>
#include <sys/ioctl.h>
#ifndef IFNAMSIZ
#include <net/if.h>
#endif

struct nmreq {
	char     nr_name[IFNAMSIZ]; /* port name (without the netmap: prefix
	                               when built by nm_open) */
	uint32_t nr_version;        /* NETMAP_API */
	uint32_t nr_offset;         /* (out) netmap_if offset in the region */
	uint32_t nr_memsize;        /* (out) region size */
	uint32_t nr_tx_slots;
	uint32_t nr_rx_slots;
	uint16_t nr_tx_rings;
	uint16_t nr_rx_rings;
	uint16_t nr_ringid;         /* ring number and the flags below */
#define NETMAP_HW_RING    0x4000 /* one NIC ring pair */
#define NETMAP_SW_RING    0x2000 /* host ring pair (not available) */
#define NETMAP_RING_MASK  0x0fff /* the ring number */
#define NETMAP_NO_TX_POLL 0x1000 /* poll() does not txsync */
#define NETMAP_DO_RX_POLL 0x8000 /* poll() rxsyncs even without POLLIN */
	uint16_t nr_cmd;            /* 0 = register, else one of: */
#define NETMAP_BDG_ATTACH      1
#define NETMAP_BDG_DETACH      2
#define NETMAP_BDG_REGOPS      3
#define NETMAP_BDG_LIST        4
#define NETMAP_BDG_VNET_HDR    5  /* set the virtio-net header length (nr_arg1) */
#define NETMAP_BDG_NEWIF       6
#define NETMAP_BDG_DELIF       7
#define NETMAP_PT_HOST_CREATE  8
#define NETMAP_PT_HOST_DELETE  9
#define NETMAP_BDG_POLLING_ON  10
#define NETMAP_BDG_POLLING_OFF 11
#define NETMAP_VNET_HDR_GET    12 /* get the virtio-net header length (nr_arg1) */
	uint16_t nr_arg1;
#define NETMAP_BDG_HOST 1
	uint16_t nr_arg2;           /* (out) memory region id */
	uint32_t nr_arg3;           /* (in/out) extra buffers */
	uint32_t nr_flags;          /* NR_REG_* mode and NR_* flags */
#define NR_REG_MASK 0xf
	uint32_t spare2[1];
};

#define NM_IFRDATA_LEN 256
struct nm_ifreq {
	char nifr_name[IFNAMSIZ];
	char data[NM_IFRDATA_LEN];
};

#define NIOCGINFO   _IOWR('i', 145, struct nmreq)
#define NIOCREGIF   _IOWR('i', 146, struct nmreq)
#define NIOCCONFIG  _IOWR('i', 150, struct nm_ifreq)

#endif /* _NET_NETMAP_LEGACY_H_ */
