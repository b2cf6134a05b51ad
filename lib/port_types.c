// SPDX-License-Identifier: BSD-2-Clause
/*
 * port_types.c - the one table of port types. The name parser (name.c)
 * finds a typed name's prefix here and parses its argument with the
 * syntax the entry gives; unm_open (port.c) takes the ops from here; unmd
 * asks it what a type may do (attach to a switch, ...).
 *
 * Adding a port type: its enum unm_kind value (internal.h), one entry
 * below, and its file (lib/backend/NAME.c, with the ops table).
 *
 * UNM_TYPE_SWAP (unmd's attached ports share a buffer pool and swap
 * buffers): the types that copy between their device and the slots,
 * reading each slot's buf_idx when they use it. Not afxdp (its buffers
 * are the UMEM the kernel holds indexes of), not dpdk (mbufs wrap pool
 * buffers it tracks), not a pipe end (its buffers are shared with the
 * peer process), not monitor or ivshmem (not private regions). A port
 * with extra buffers keeps its own (unm_port_create_self): so a memif
 * slave with zerocopy=1, which lends its region's buffers to the peer,
 * is never pooled.
 */
#include <stdio.h>
#include <string.h>
#include "internal.h"

const struct unm_port_type unm_port_types[] = {
	/* The order is the one "unknown port type" lists them in. */
	{ "vale", "valeN", UNM_KIND_VALE, UNM_ARG_SWITCH, &unm_vale_ops, UNM_TYPE_DOMAIN },
	{ "tap", "tap", UNM_KIND_TAP, UNM_ARG_IFNAME, &unm_tap_ops,
	  UNM_TYPE_ATTACH | UNM_TYPE_ADMIN | UNM_TYPE_FD | UNM_TYPE_SWAP },
	{ "afpacket", "afpacket", UNM_KIND_AFPACKET, UNM_ARG_IFNAME, &unm_afpacket_ops,
	  UNM_TYPE_ATTACH | UNM_TYPE_ADMIN | UNM_TYPE_SWAP },
	{ "afxdp", "afxdp", UNM_KIND_AFXDP, UNM_ARG_IFNAME, &unm_afxdp_ops,
	  UNM_TYPE_ATTACH | UNM_TYPE_ADMIN },
	{ "shmif", "shmif", UNM_KIND_SHMIF, UNM_ARG_PATH, &unm_shmif_ops,
	  UNM_TYPE_ATTACH | UNM_TYPE_FD | UNM_TYPE_SWAP },
	{ "monitor", "monitor", UNM_KIND_MONITOR, UNM_ARG_NAME, &unm_monitor_ops,
	  UNM_TYPE_ATTACH },
	{ "ivshmem", "ivshmem", UNM_KIND_IVSHMEM, UNM_ARG_PCI, &unm_ivshmem_ops,
	  UNM_TYPE_ATTACH | UNM_TYPE_ADMIN },
	{ "vhost-user", "vhost-user", UNM_KIND_VHOST, UNM_ARG_PATH, &unm_vhost_ops,
	  UNM_TYPE_ATTACH | UNM_TYPE_FD | UNM_TYPE_SWAP },
	/* Binds UDP ports and sends from the host: an administrator's act
	 * when unmd does it (a process may open one itself). */
	{ "vxlan", "vxlan", UNM_KIND_VXLAN, UNM_ARG_VXLAN, &unm_vxlan_ops,
	  UNM_TYPE_ATTACH | UNM_TYPE_ADMIN | UNM_TYPE_SWAP },
	/* Any DPDK ethdev, a NIC or a vdev: the administrator's (it may
	 * take a whole device). The ops load the DPDK plugin on first use. */
	{ "dpdk", "dpdk", UNM_KIND_DPDK, UNM_ARG_PATH, &unm_dpdk_ops,
	  UNM_TYPE_ATTACH | UNM_TYPE_ADMIN },
	/* DPDK net_memif / libmemif / VPP peers over a unix socket */
	{ "memif", "memif", UNM_KIND_MEMIF, UNM_ARG_MEMIF, &unm_memif_ops,
	  UNM_TYPE_ATTACH | UNM_TYPE_FD | UNM_TYPE_SWAP },
	{ "null", "null", UNM_KIND_NULL, UNM_ARG_NONE, &unm_null_ops,
	  UNM_TYPE_ATTACH | UNM_TYPE_SWAP },
	/* untyped: NAME{ID / NAME}ID */
	{ "pipe", "or a pipe NAME{ID", UNM_KIND_PIPE, UNM_ARG_PIPE, &unm_pipe_ops,
	  UNM_TYPE_ATTACH },
};

const unsigned unm_n_port_types = ARRAY_SIZE(unm_port_types);

const struct unm_port_type *unm_port_type(enum unm_kind kind)
{
	for (unsigned i = 0; i < ARRAY_SIZE(unm_port_types); i++)
		if (unm_port_types[i].kind == kind)
			return &unm_port_types[i];
	return NULL;
}

const struct unm_port_type *unm_port_type_named(const char *s, size_t len)
{
	for (unsigned i = 0; i < ARRAY_SIZE(unm_port_types); i++) {
		const char *n = unm_port_types[i].name;

		if (strlen(n) == len && !memcmp(n, s, len))
			return &unm_port_types[i];
	}
	return NULL;
}

void unm_spec_geometry(const struct unm_spec *s, struct unm_open_opts *o)
{
	if (s->tx_rings) o->tx_rings = s->tx_rings;
	if (s->rx_rings) o->rx_rings = s->rx_rings;
	if (s->tx_slots) o->tx_slots = s->tx_slots;
	if (s->rx_slots) o->rx_slots = s->rx_slots;
	if (s->buf_size) o->buf_size = s->buf_size;
	if (s->extra_bufs) o->extra_bufs = s->extra_bufs;
	if (s->vnet_hdr_len >= 0) o->vnet_hdr_len = (unsigned)s->vnet_hdr_len;
	if (!o->tx_rings) o->tx_rings = 1;
	if (!o->rx_rings) o->rx_rings = 1;
	if (!o->tx_slots) o->tx_slots = UNM_DEF_SLOTS;
	if (!o->rx_slots) o->rx_slots = UNM_DEF_SLOTS;
	if (!o->buf_size)
		o->buf_size = s->kind == UNM_KIND_PIPE ? UNM_PIPE_DEF_BUF_SIZE : UNM_DEF_BUF_SIZE;
}

char *unm_port_type_names(unsigned caps, char *buf, size_t len)
{
	unsigned n = 0, k = 0;
	size_t off = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(unm_port_types); i++)
		n += (unm_port_types[i].caps & caps) == caps;
	if (len)
		buf[0] = '\0';
	for (unsigned i = 0; i < ARRAY_SIZE(unm_port_types) && off < len; i++) {
		if ((unm_port_types[i].caps & caps) != caps)
			continue;
		k++;
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					k == 1 ? "" : k == n ? " and " : ", ", unm_port_types[i].name);
	}
	return buf;
}
