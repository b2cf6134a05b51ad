// SPDX-License-Identifier: BSD-2-Clause
/*
 * nmport.c - libnetmap's nmport_* and nmreq_* / nmctx_* API over the
 * netmap emulation of kern.c. The descriptor a program gets (d->fd) is one
 * of ours, so its own ioctl()/poll() calls on it are served as on netmap.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include "nmc.h"
#include <libnetmap.h>

/* ---- context --------------------------------------------------------- */

static void default_error(struct nmctx *ctx, const char *msg)
{
	(void)ctx;
	if (!getenv("UNM_NETMAP_QUIET"))
		fprintf(stderr, "%s\n", msg);
}

static void *default_malloc(struct nmctx *ctx, size_t sz)
{
	(void)ctx;
	return malloc(sz);
}

static void default_free(struct nmctx *ctx, void *p)
{
	(void)ctx;
	free(p);
}

static pthread_mutex_t ctx_mutex = PTHREAD_MUTEX_INITIALIZER;

static void default_lock(struct nmctx *ctx, int lock)
{
	(void)ctx;
	if (lock)
		pthread_mutex_lock(&ctx_mutex);
	else
		pthread_mutex_unlock(&ctx_mutex);
}

static struct nmctx default_ctx = {
	.verbose = 0,
	.error = default_error,
	.malloc = default_malloc,
	.free = default_free,
	.lock = default_lock,
};
static struct nmctx *cur_ctx = &default_ctx;

NMC_API int nmctx_threadsafe;

NMC_API struct nmctx *nmctx_get(void)
{
	return cur_ctx;
}

NMC_API struct nmctx *nmctx_set_default(struct nmctx *ctx)
{
	struct nmctx *old = cur_ctx;

	cur_ctx = ctx ? ctx : &default_ctx;
	return old;
}

NMC_API void nmctx_set_threadsafe(void)
{
	/* the default context always locks */
}

NMC_API void nmctx_ferror(struct nmctx *ctx, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!ctx)
		ctx = cur_ctx;
	if (ctx->error)
		ctx->error(ctx, buf);
}

NMC_API void *nmctx_malloc(struct nmctx *ctx, size_t sz)
{
	return ctx && ctx->malloc ? ctx->malloc(ctx, sz) : malloc(sz);
}

NMC_API void nmctx_free(struct nmctx *ctx, void *p)
{
	if (ctx && ctx->free)
		ctx->free(ctx, p);
	else
		free(p);
}

NMC_API void nmctx_lock(struct nmctx *ctx)
{
	if (ctx && ctx->lock)
		ctx->lock(ctx, 1);
}

NMC_API void nmctx_unlock(struct nmctx *ctx)
{
	if (ctx && ctx->lock)
		ctx->lock(ctx, 0);
}

/* ---- requests -------------------------------------------------------- */

NMC_API void nmreq_header_init(struct nmreq_header *hdr, uint16_t reqtype, void *body)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->nr_version = NETMAP_API;
	hdr->nr_reqtype = reqtype;
	hdr->nr_body = (uintptr_t)body;
}

NMC_API void nmreq_push_option(struct nmreq_header *h, struct nmreq_option *o)
{
	o->nro_next = h->nr_options;
	h->nr_options = (uintptr_t)o;
}

NMC_API void nmreq_remove_option(struct nmreq_header *h, struct nmreq_option *o)
{
	uint64_t *nxt = &h->nr_options;

	while (*nxt) {
		struct nmreq_option *c = (struct nmreq_option *)(uintptr_t)*nxt;
		if (c == o) {
			*nxt = o->nro_next;
			o->nro_next = 0;
			return;
		}
		nxt = &c->nro_next;
	}
}

NMC_API struct nmreq_option *nmreq_find_option(struct nmreq_header *h, uint32_t t)
{
	struct nmreq_option *o;

	nmreq_foreach_option(h, o)
		if (o->nro_reqtype == t)
			return o;
	return NULL;
}

NMC_API void nmreq_free_options(struct nmreq_header *h)
{
	/* options are only ever built by the application here: just unlink */
	h->nr_options = 0;
}

NMC_API const char *nmreq_option_name(uint32_t t)
{
	switch (t) {
	case NETMAP_REQ_OPT_EXTMEM: return "extmem";
	case NETMAP_REQ_OPT_SYNC_KLOOP_EVENTFDS: return "sync-kloop-eventfds";
	case NETMAP_REQ_OPT_CSB: return "csb";
	case NETMAP_REQ_OPT_SYNC_KLOOP_MODE: return "sync-kloop-mode";
	case NETMAP_REQ_OPT_OFFSETS: return "offsets";
	default: return "unknown";
	}
}

/* Split *ppspec at the end of the port name (hdr->nr_name); *ppspec then
 * points at the mode/flags/options part. */
NMC_API int nmreq_header_decode(const char **ppspec, struct nmreq_header *hdr,
				struct nmctx *ctx)
{
	struct nmc_spec sp;
	const char *spec = *ppspec;
	int rc = nmc_spec_parse(spec, &sp);

	if (rc) {
		nmctx_ferror(ctx, "%s", nmc_errmsg());
		errno = -rc;
		return -1;
	}
	snprintf(hdr->nr_name, sizeof(hdr->nr_name), "%s", sp.base);
	*ppspec = spec + (strncmp(sp.base, "unm:", 4) ? strlen(sp.base) : strlen(spec));
	return 0;
}

/* Parse the mode and flags part ("-1/T", "^", ...) into REG. */
NMC_API int nmreq_register_decode(const char **pmode, struct nmreq_register *reg,
				  struct nmctx *ctx)
{
	char tmp[NETMAP_REQ_IFNAMSIZ + 64];
	struct nmc_spec sp;
	const char *m = *pmode, *e = m;
	int rc;

	while (*e && *e != '@')
		e++;
	snprintf(tmp, sizeof(tmp), "netmap:x%.*s", (int)(e - m), m);
	rc = nmc_spec_parse(tmp, &sp);
	if (rc) {
		nmctx_ferror(ctx, "%s", nmc_errmsg());
		errno = -rc;
		return -1;
	}
	reg->nr_mode = sp.mode ? sp.mode : NR_REG_ALL_NIC;
	reg->nr_ringid = sp.ringid;
	reg->nr_flags |= sp.flags;
	*pmode = e;
	return 0;
}

NMC_API int32_t nmreq_get_mem_id(const char **portname, struct nmctx *ctx)
{
	(void)portname;
	nmctx_ferror(ctx, "nmreq_get_mem_id: memory ids are not meaningful over unetmap "
		     "(each port has its own region)");
	errno = ENOTSUP;
	return -1;
}

/* ---- nmport ------------------------------------------------------------ */

static int fail(struct nmport_d *d, int err)
{
	nmctx_ferror(d ? d->ctx : NULL, "%s", nmc_errmsg());
	errno = -err;
	return -1;
}

NMC_API struct nmport_d *nmport_new(void)
{
	struct nmctx *ctx = nmctx_get();
	struct nmport_d *d = nmctx_malloc(ctx, sizeof(*d));

	if (!d) {
		nmctx_ferror(ctx, "nmport_new: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	memset(d, 0, sizeof(*d));
	nmreq_header_init(&d->hdr, NETMAP_REQ_REGISTER, &d->reg);
	d->fd = -1;
	d->ctx = ctx;
	return d;
}

NMC_API void nmport_delete(struct nmport_d *d)
{
	if (d)
		nmctx_free(d->ctx, d);
}

NMC_API int nmport_parse(struct nmport_d *d, const char *spec)
{
	struct nmc_spec sp;
	int rc = nmc_spec_parse(spec, &sp);

	if (rc)
		return fail(d, rc);
	snprintf(d->hdr.nr_name, sizeof(d->hdr.nr_name), "%s", sp.base);
	d->reg.nr_mode = sp.mode ? sp.mode : NR_REG_ALL_NIC;
	d->reg.nr_ringid = sp.ringid;
	d->reg.nr_flags = sp.flags;
	d->reg.nr_tx_slots = sp.tx_slots;
	d->reg.nr_rx_slots = sp.rx_slots;
	d->reg.nr_tx_rings = sp.tx_rings;
	d->reg.nr_rx_rings = sp.rx_rings;
	d->reg.nr_host_tx_rings = sp.host_tx_rings;
	d->reg.nr_host_rx_rings = sp.host_rx_rings;
	d->reg.nr_extra_bufs = sp.extra_bufs;
	return 0;
}

NMC_API void nmport_undo_parse(struct nmport_d *d)
{
	memset(&d->reg, 0, sizeof(d->reg));
	nmreq_header_init(&d->hdr, NETMAP_REQ_REGISTER, &d->reg);
}

NMC_API struct nmport_d *nmport_prepare(const char *spec)
{
	struct nmport_d *d = nmport_new();

	if (!d)
		return NULL;
	if (nmport_parse(d, spec) < 0) {
		int e = errno;
		nmport_delete(d);
		errno = e;
		return NULL;
	}
	return d;
}

NMC_API void nmport_undo_prepare(struct nmport_d *d)
{
	if (!d)
		return;
	nmport_undo_parse(d);
	nmport_delete(d);
}

NMC_API int nmport_register(struct nmport_d *d)
{
	struct nmc_port *np;
	int fd, rc;

	if (d->register_done) {
		nmc_fail(-EINVAL, "%s: already registered", d->hdr.nr_name);
		return fail(d, -EINVAL);
	}
	fd = nmc_dev_open(O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail(d, fd);
	np = nmc_lookup(fd);
	d->hdr.nr_body = (uintptr_t)&d->reg;
	d->hdr.nr_version = NETMAP_API;
	d->hdr.nr_reqtype = NETMAP_REQ_REGISTER;
	rc = nmc_ctrl(np, &d->hdr);
	if (rc) {
		nmc_dev_close(fd);
		return fail(d, rc);
	}
	d->fd = fd;
	d->register_done = 1;
	return 0;
}

NMC_API void nmport_undo_register(struct nmport_d *d)
{
	if (d->fd >= 0)
		nmc_dev_close(d->fd);
	d->fd = -1;
	d->register_done = 0;
}

NMC_API int nmport_mmap(struct nmport_d *d)
{
	struct nmc_port *np = nmc_lookup(d->fd);
	struct nmem_d *m;

	if (d->mmap_done)
		return 0;
	if (!d->register_done || !np || !np->port) {
		nmc_fail(-EINVAL, "nmport_mmap: '%s' is not registered", d->hdr.nr_name);
		return fail(d, -EINVAL);
	}
	m = nmctx_malloc(d->ctx, sizeof(*m));
	if (!m) {
		nmc_fail(-ENOMEM, "nmport_mmap: out of memory");
		return fail(d, -ENOMEM);
	}
	memset(m, 0, sizeof(*m));
	m->mem_id = np->mem_id;
	m->refcount = 1;
	m->mem = np->base;
	m->size = np->size;
	d->mem = m;
	d->nifp = NETMAP_IF(np->base, d->reg.nr_offset);
	d->first_tx_ring = np->last_tx > np->first_tx ? (uint16_t)np->first_tx : 0;
	d->last_tx_ring = np->last_tx > np->first_tx ? (uint16_t)(np->last_tx - 1) : 0;
	d->first_rx_ring = np->last_rx > np->first_rx ? (uint16_t)np->first_rx : 0;
	d->last_rx_ring = np->last_rx > np->first_rx ? (uint16_t)(np->last_rx - 1) : 0;
	d->cur_tx_ring = d->first_tx_ring;
	d->cur_rx_ring = d->first_rx_ring;
	d->mmap_done = 1;
	return 0;
}

NMC_API void nmport_undo_mmap(struct nmport_d *d)
{
	if (d->mem && --d->mem->refcount <= 0)
		nmctx_free(d->ctx, d->mem);
	d->mem = NULL;
	d->nifp = NULL;
	d->mmap_done = 0;
}

NMC_API int nmport_open_desc(struct nmport_d *d)
{
	if (nmport_register(d) < 0)
		return -1;
	if (nmport_mmap(d) < 0) {
		int e = errno;
		nmport_undo_register(d);
		errno = e;
		return -1;
	}
	return 0;
}

NMC_API void nmport_undo_open_desc(struct nmport_d *d)
{
	nmport_undo_mmap(d);
	nmport_undo_register(d);
}

NMC_API struct nmport_d *nmport_open(const char *spec)
{
	struct nmport_d *d = nmport_prepare(spec);

	if (!d)
		return NULL;
	if (nmport_open_desc(d) < 0) {
		int e = errno;
		nmport_undo_prepare(d);
		errno = e;
		return NULL;
	}
	return d;
}

NMC_API void nmport_close(struct nmport_d *d)
{
	if (!d)
		return;
	nmport_undo_open_desc(d);
	nmport_undo_prepare(d);
}

NMC_API struct nmport_d *nmport_clone(struct nmport_d *d)
{
	struct nmport_d *c = nmctx_malloc(d->ctx, sizeof(*c));

	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->hdr = d->hdr;
	c->hdr.nr_options = 0;
	c->reg = d->reg;
	c->hdr.nr_body = (uintptr_t)&c->reg;
	c->ctx = d->ctx;
	c->fd = -1;
	return c;
}

NMC_API int nmport_inject(struct nmport_d *d, const void *buf, size_t size)
{
	if (!d->nifp)
		return 0;
	return nmc_inject(d->nifp, d->first_tx_ring, d->last_tx_ring, &d->cur_tx_ring,
			  buf, size);
}

static int unsupported(struct nmport_d *d, const char *what)
{
	nmc_fail(-ENOTSUP, "%s is not supported over unetmap: the port's region is "
		 "allocated by unetmap (one per port) and buffer offsets are not implemented",
		 what);
	return fail(d, -ENOTSUP);
}

NMC_API int nmport_extmem(struct nmport_d *d, void *base, size_t size)
{
	(void)base;
	(void)size;
	return unsupported(d, "nmport_extmem");
}

NMC_API int nmport_extmem_from_file(struct nmport_d *d, const char *fname)
{
	(void)fname;
	return unsupported(d, "nmport_extmem_from_file");
}

NMC_API struct nmreq_pools_info *nmport_extmem_getinfo(struct nmport_d *d)
{
	(void)d;
	return NULL;
}

NMC_API int nmport_offset(struct nmport_d *d, uint64_t initial, uint64_t maxoff,
			  uint64_t bits, uint64_t mingap)
{
	(void)initial;
	(void)maxoff;
	(void)bits;
	(void)mingap;
	return unsupported(d, "nmport_offset");
}

NMC_API int nmport_enable_option(const char *opt)
{
	if (opt && (!strcmp(opt, "conf") || !strcmp(opt, "share")))
		return 0;
	nmc_fail(-EOPNOTSUPP, "option '%s' is not available over unetmap", opt ? opt : "");
	return fail(NULL, -EOPNOTSUPP);
}

NMC_API void nmport_disable_option(const char *opt)
{
	(void)opt;
}
