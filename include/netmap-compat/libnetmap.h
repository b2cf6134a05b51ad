/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libnetmap.h - netmap's libnetmap API (nmport_*), for programs written
 * against netmap that run over unetmap (see unm-netmap(7)).
 *
 * Written for unetmap from libnetmap's documented API; the implementation
 * is libunm-netmap (cc app.c $(pkg-config --cflags --libs unm-netmap)).
 *
 * Port specifications: "netmap:IF" (host interface IF through AF_XDP or
 * AF_PACKET, see UNM_NETMAP_BACKEND), "valeX:Y" (VALE port, needs unmd),
 * "netmap:NAME{N" / "netmap:NAME}N" and "valeX:Y{N" / "valeX:Y}N" (pipes),
 * followed by -N (one ring pair), /FLAGS (x t r z R T) and options
 * @conf:rings=,tx-rings=,rx-rings=,slots=,tx-slots=,rx-slots= . Host rings
 * (^, *), @extmem and @offset are refused with ENOTSUP and a message.
 *
 * Errors are reported through the context's error callback (by default a
 * line on stderr) and, for the functions returning int, -1 with errno set.
 */
#ifndef LIBNETMAP_H_
#define LIBNETMAP_H_

#include <stddef.h>
#include <stdint.h>
#include <net/netmap_user.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nmctx;
struct nmport_d;
struct nmem_d;
struct nmport_cleanup_d;

/* An opened (or prepared) port. */
struct nmport_d {
	struct nmreq_header hdr;   /* hdr.nr_name: the port name */
	struct nmreq_register reg; /* mode, ring and slot wishes; results */
	/* read-only from here on */
	struct nmem_d *mem;        /* equal for two ports iff they share a region */
	struct nmctx *ctx;
	int register_done;
	int mmap_done;
	struct nmreq_opt_extmem *extmem; /* always NULL over unetmap */
	/* nm_open()-compatible part */
	int fd;                    /* for ioctl() and poll(); -1 if not open */
	struct netmap_if *nifp;
	uint16_t first_tx_ring;    /* bound rings, inclusive ranges */
	uint16_t last_tx_ring;
	uint16_t first_rx_ring;
	uint16_t last_rx_ring;
	uint16_t cur_tx_ring;      /* next ring nmport_inject() tries */
	uint16_t cur_rx_ring;
	struct nmport_cleanup_d *clist;
};

/* nmport_open - prepare + open_desc. NULL with errno on failure. */
struct nmport_d *nmport_open(const char *portspec);
/* nmport_close - undo everything nmport_open() did; NULL is ignored. */
void nmport_close(struct nmport_d *d);
/* nmport_inject - copy one packet into the next free TX slot, rotating
 * from cur_tx_ring; no sync. Returns SIZE, or 0 if every ring is full. */
int nmport_inject(struct nmport_d *d, const void *buf, size_t size);

/* Step by step: new + parse = prepare; register + mmap = open_desc. */
struct nmport_d *nmport_new(void);
int nmport_parse(struct nmport_d *d, const char *portspec);
int nmport_register(struct nmport_d *d);
int nmport_mmap(struct nmport_d *d);
void nmport_delete(struct nmport_d *d);
void nmport_undo_parse(struct nmport_d *d);
void nmport_undo_register(struct nmport_d *d);
void nmport_undo_mmap(struct nmport_d *d);
struct nmport_d *nmport_prepare(const char *portspec);
int nmport_open_desc(struct nmport_d *d);
void nmport_undo_prepare(struct nmport_d *d);
void nmport_undo_open_desc(struct nmport_d *d);
/* nmport_clone - a prepared (not registered) copy of D, same context. */
struct nmport_d *nmport_clone(struct nmport_d *d);

/* External memory and buffer offsets: not available over unetmap (the
 * region belongs to the port); these fail with ENOTSUP. */
int nmport_extmem(struct nmport_d *d, void *base, size_t size);
int nmport_extmem_from_file(struct nmport_d *d, const char *fname);
struct nmreq_pools_info *nmport_extmem_getinfo(struct nmport_d *d);
int nmport_offset(struct nmport_d *d, uint64_t initial, uint64_t maxoff,
		  uint64_t bits, uint64_t mingap);
void nmport_disable_option(const char *opt);
int nmport_enable_option(const char *opt);

/* Request helpers. */
void nmreq_header_init(struct nmreq_header *hdr, uint16_t reqtype, void *body);
int nmreq_header_decode(const char **ppspec, struct nmreq_header *hdr,
			struct nmctx *ctx);
int nmreq_register_decode(const char **pmode, struct nmreq_register *reg,
			  struct nmctx *ctx);
int32_t nmreq_get_mem_id(const char **portname, struct nmctx *ctx);
void nmreq_push_option(struct nmreq_header *h, struct nmreq_option *o);
void nmreq_remove_option(struct nmreq_header *h, struct nmreq_option *o);
struct nmreq_option *nmreq_find_option(struct nmreq_header *h, uint32_t t);
void nmreq_free_options(struct nmreq_header *h);
const char *nmreq_option_name(uint32_t t);
#define nmreq_foreach_option(h_, o_) \
	for ((o_) = (struct nmreq_option *)((uintptr_t)((h_)->nr_options)); \
	     (o_) != NULL; \
	     (o_) = (struct nmreq_option *)((uintptr_t)((o_)->nro_next)))

/* Context: error reporting, allocation, locking. */
typedef void (*nmctx_error_cb)(struct nmctx *, const char *);
typedef void *(*nmctx_malloc_cb)(struct nmctx *, size_t);
typedef void (*nmctx_free_cb)(struct nmctx *, void *);
typedef void (*nmctx_lock_cb)(struct nmctx *, int);

struct nmctx {
	int verbose;
	nmctx_error_cb error;
	nmctx_malloc_cb malloc;
	nmctx_free_cb free;
	nmctx_lock_cb lock;
	struct nmem_d *mem_descs;
};

struct nmctx *nmctx_get(void);
struct nmctx *nmctx_set_default(struct nmctx *ctx);
void nmctx_set_threadsafe(void);
void nmctx_ferror(struct nmctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void *nmctx_malloc(struct nmctx *ctx, size_t sz);
void nmctx_free(struct nmctx *ctx, void *p);
void nmctx_lock(struct nmctx *ctx);
void nmctx_unlock(struct nmctx *ctx);

/* A mapped region, shared by the nmport_d's that use it. */
struct nmem_d {
	uint16_t mem_id;
	int refcount;
	void *mem;   /* region base */
	size_t size;
	int is_extmem;
	struct nmem_d *next;
	struct nmem_d *prev;
};

#ifdef __cplusplus
}
#endif
#endif /* LIBNETMAP_H_ */
