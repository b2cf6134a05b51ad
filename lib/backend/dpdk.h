// SPDX-License-Identifier: BSD-2-Clause
/*
 * dpdk.h - the contract between libunm (dpdk_load.c) and the DPDK plugin
 * libunm-dpdk.so (dpdk.c). Both are built from one tree: the plugin uses
 * internal.h's structures directly and libunm's hidden functions through
 * struct unm_dpdk_host. Bump UNM_DPDK_ABI when this table or the layout of
 * struct unm_port / unm_kring changes in a way sizeof does not show.
 */
#ifndef UNM_BACKEND_DPDK_H
#define UNM_BACKEND_DPDK_H

#include "internal.h"
#include "offload/offload.h"

#define UNM_DPDK_ABI   3u
#define UNM_DPDK_ENTRY "unm_dpdk_plugin"

struct unm_dpdk_host {
	unsigned abi;               /* UNM_DPDK_ABI of the loading libunm */
	size_t port_size;           /* sizeof(struct unm_port) there */
	int (*seterr)(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
	int (*create_self)(struct unm_port *p, const struct unm_open_opts *o, unsigned mtu,
			   const uint8_t mac[6]);
	uint64_t (*now_ns)(void);
	/* lib/offload: the virtio-net header of a TX frame, checked */
	int (*vnet_parse)(const void *hdr, unsigned hlen, const struct unm_frag *f, unsigned nf,
			  struct unm_vnet_info *info, enum unm_vnet_drop *why);
	void (*vnet_encode)(void *dst, unsigned hlen, const struct unm_vnet_hdr *h);
	int (*csum_complete)(const struct unm_frag *f, unsigned nf, size_t csum_start,
			     size_t csum_offset);
};

/*
 * The plugin's one exported symbol, named UNM_DPDK_ENTRY: checks HOST's abi
 * and port_size against its own and returns its port ops, or NULL when they
 * differ (a plugin from another build). HOST must outlive the plugin.
 */
typedef const struct unm_port_ops *unm_dpdk_entry_fn(const struct unm_dpdk_host *host);

#endif /* UNM_BACKEND_DPDK_H */
