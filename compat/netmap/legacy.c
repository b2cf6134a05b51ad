// SPDX-License-Identifier: BSD-2-Clause
/*
 * legacy.c - netmap's NETMAP_WITH_LIBS API (nm_open, nm_close, nm_mmap,
 * nm_inject, nm_dispatch, nm_nextpkt, nm_parse) over kern.c. netmap ships
 * these as static functions in its header; here they are library code, so
 * the header stays small and one implementation serves every program.
 */
#define NETMAP_WITH_LIBS
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nmc.h"
#include <net/netmap_user.h>

#define SET_CONST(field, val) (*(__typeof__((void)0, (field)) *)(uintptr_t)&(field) = (val))

static void set_req_from_spec(struct nmreq *req, const struct nmc_spec *sp)
{
	const char *n = sp->base;

	if (!strncmp(n, "netmap:", 7))
		n += 7;
	size_t len = strnlen(n, sizeof(req->nr_name) - 1); /* cut: nm_open keeps the full name */

	memcpy(req->nr_name, n, len);
	req->nr_name[len] = '\0';
	req->nr_flags = (req->nr_flags & ~(uint32_t)NR_REG_MASK) |
			(sp->mode ? sp->mode : NR_REG_ALL_NIC) | (uint32_t)sp->flags;
	req->nr_ringid = (uint16_t)((req->nr_ringid & ~NETMAP_RING_MASK) |
				    (sp->ringid & NETMAP_RING_MASK));
	if (sp->tx_slots)
		req->nr_tx_slots = sp->tx_slots;
	if (sp->rx_slots)
		req->nr_rx_slots = sp->rx_slots;
	if (sp->tx_rings)
		req->nr_tx_rings = sp->tx_rings;
	if (sp->rx_rings)
		req->nr_rx_rings = sp->rx_rings;
}

NMC_API int nm_parse(const char *ifname, struct nm_desc *d, char *err)
{
	struct nmc_spec sp;
	int rc = nmc_spec_parse(ifname, &sp);

	if (rc) {
		if (err)
			snprintf(err, 80, "%s", nmc_errmsg());
		errno = -rc;
		return -1;
	}
	set_req_from_spec(&d->req, &sp);
	return 0;
}

static void set_mapping(struct nm_desc *d, struct nmc_port *np)
{
	struct netmap_if *nifp = NETMAP_IF(np->base, np->nifp_ofs);
	struct netmap_ring *some;

	d->mem = np->base;
	d->memsize = np->size;
	d->done_mmap = 1;
	SET_CONST(d->nifp, nifp);
	some = nifp->ni_tx_rings ? NETMAP_TXRING(nifp, 0) : NETMAP_RXRING(nifp, 0);
	SET_CONST(d->some_ring, some);
	SET_CONST(d->buf_start, (void *)NETMAP_BUF(some, 0));
	SET_CONST(d->buf_end, (void *)((char *)np->base + np->size));
}

NMC_API struct nm_desc *nm_open(const char *ifname, const struct nmreq *req,
				uint64_t flags, const struct nm_desc *parent)
{
	struct nm_desc *d;
	struct nmc_spec sp;
	struct nmc_port *np;
	const char *full = NULL;
	int rc, fd;

	d = calloc(1, sizeof(*d));
	if (!d) {
		errno = ENOMEM;
		return NULL;
	}
	d->self = d;
	d->fd = -1;
	if (req)
		d->req = *req;
	rc = nmc_spec_parse(ifname, &sp);
	if (rc)
		goto fail;
	if ((flags & NM_OPEN_IFNAME) && parent) {
		memcpy(d->req.nr_name, parent->req.nr_name, sizeof(d->req.nr_name));
		d->req.nr_ringid = parent->req.nr_ringid;
		d->req.nr_flags = parent->req.nr_flags;
	} else {
		set_req_from_spec(&d->req, &sp);
		full = sp.base; /* not cut to the 16 bytes of nr_name */
	}
	if (parent) {
		if (flags & NM_OPEN_ARG1)
			d->req.nr_arg1 = parent->req.nr_arg1;
		if (flags & NM_OPEN_ARG2)
			d->req.nr_arg2 = parent->req.nr_arg2;
		if (flags & NM_OPEN_ARG3)
			d->req.nr_arg3 = parent->req.nr_arg3;
		if (flags & NM_OPEN_RING_CFG) {
			d->req.nr_tx_slots = parent->req.nr_tx_slots;
			d->req.nr_rx_slots = parent->req.nr_rx_slots;
			d->req.nr_tx_rings = parent->req.nr_tx_rings;
			d->req.nr_rx_rings = parent->req.nr_rx_rings;
		}
	}
	d->req.nr_version = NETMAP_API;
	d->req.nr_cmd = 0;
	d->req.nr_ringid |= (uint16_t)(flags & (NETMAP_NO_TX_POLL | NETMAP_DO_RX_POLL));
	fd = nmc_dev_open(O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		rc = fd;
		goto fail;
	}
	d->fd = fd;
	np = nmc_lookup(fd);
	rc = nmc_legacy(np, NIOCREGIF, &d->req, full);
	if (rc)
		goto fail;
	d->first_tx_ring = np->last_tx > np->first_tx ? (uint16_t)np->first_tx : 0;
	d->last_tx_ring = np->last_tx > np->first_tx ? (uint16_t)(np->last_tx - 1) : 0;
	d->first_rx_ring = np->last_rx > np->first_rx ? (uint16_t)np->first_rx : 0;
	d->last_rx_ring = np->last_rx > np->first_rx ? (uint16_t)(np->last_rx - 1) : 0;
	d->cur_tx_ring = d->first_tx_ring;
	d->cur_rx_ring = d->first_rx_ring;
	set_mapping(d, np);
	return d;
fail:
	if (!getenv("UNM_NETMAP_QUIET"))
		fprintf(stderr, "nm_open(%s): %s\n", ifname ? ifname : "(null)",
			*nmc_errmsg() ? nmc_errmsg() : strerror(-rc));
	if (d->fd >= 0)
		nmc_dev_close(d->fd);
	free(d);
	errno = -rc;
	return NULL;
}

NMC_API int nm_close(struct nm_desc *d)
{
	if (!IS_NETMAP_DESC(d)) {
		errno = EINVAL;
		return EINVAL;
	}
	if (d->fd >= 0 && nmc_dev_close(d->fd) < 0)
		close(d->fd);
	d->self = NULL;
	free(d);
	return 0;
}

NMC_API int nm_mmap(struct nm_desc *d, const struct nm_desc *parent)
{
	struct nmc_port *np = nmc_lookup(d->fd);

	(void)parent;
	if (d->done_mmap)
		return 0;
	if (!np || !np->port) {
		errno = EINVAL;
		return EINVAL;
	}
	set_mapping(d, np);
	return 0;
}

NMC_API int nm_inject(struct nm_desc *d, const void *buf, size_t size)
{
	if (!d->nifp)
		return 0;
	return nmc_inject(d->nifp, d->first_tx_ring, d->last_tx_ring, &d->cur_tx_ring,
			  buf, size);
}

/* The next received slot of the bound RX rings from cur_rx_ring, or NULL. */
static struct netmap_slot *next_slot(struct nm_desc *d, struct netmap_ring **rp)
{
	unsigned n = (unsigned)(d->last_rx_ring - d->first_rx_ring) + 1;
	uint16_t ri = d->cur_rx_ring;

	for (unsigned c = 0; c < n; c++, ri = ri >= d->last_rx_ring ? d->first_rx_ring : ri + 1) {
		struct netmap_ring *r;

		if (ri < d->first_rx_ring || ri > d->last_rx_ring)
			ri = d->first_rx_ring;
		r = NETMAP_RXRING(d->nifp, ri);
		if (nm_ring_empty(r))
			continue;
		d->cur_rx_ring = ri;
		*rp = r;
		return &r->slot[r->head];
	}
	return NULL;
}

static u_char *take(struct nm_desc *d, struct netmap_ring *r, struct netmap_slot *s,
		    struct nm_pkthdr *hdr)
{
	u_char *buf = (u_char *)NETMAP_BUF(r, s->buf_idx);

	hdr->ts = r->ts;
	hdr->len = hdr->caplen = s->len;
	hdr->flags = (s->flags & NS_MOREFRAG) ? NM_MORE_PKTS : 0;
	hdr->d = d;
	hdr->slot = s;
	hdr->buf = buf;
	return buf;
}

NMC_API int nm_dispatch(struct nm_desc *d, int cnt, nm_cb_t cb, u_char *arg)
{
	struct netmap_ring *r;
	struct netmap_slot *s;
	int got = 0;

	if (!d->nifp)
		return 0;
	while ((cnt <= 0 || got < cnt) && (s = next_slot(d, &r))) {
		u_char *buf = take(d, r, s, &d->hdr);
		cb(arg, &d->hdr, buf);
		r->head = r->cur = nm_ring_next(r, r->head); /* released after the callback */
		got++;
	}
	return got;
}

NMC_API u_char *nm_nextpkt(struct nm_desc *d, struct nm_pkthdr *hdr)
{
	struct netmap_ring *r;
	struct netmap_slot *s;

	u_char *buf;

	if (!d->nifp || !(s = next_slot(d, &r)))
		return NULL;
	buf = take(d, r, s, hdr);
	r->head = r->cur = nm_ring_next(r, r->head);
	return buf;
}
