/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * internal.h - libunm's private structures: parsed port names, regions,
 * the port object and the per-type ops table.
 *
 * Nothing here is shared memory: struct unm_port and struct unm_kring live
 * in the process that opened the port and hold the trusted copies of every
 * value the shared region also contains (ring geometry, hwcur/hwtail).
 * Shared values are read into locals, validated against these copies, and
 * never re-read (marked "untrusted" where it happens).
 */
#ifndef UNM_INTERNAL_H
#define UNM_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "unm.h"

struct epoll_event;

#define UNM_HIDDEN __attribute__((visibility("hidden")))
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- port names (name.c) ------------------------------------------------ */

enum unm_kind {
	UNM_KIND_NONE = 0,
	UNM_KIND_PIPE,      /* NAME{ID / NAME}ID */
	UNM_KIND_VALE,      /* valeX:PORT */
	UNM_KIND_TAP,       /* tap:IF */
	UNM_KIND_AFPACKET,  /* afpacket:IF */
	UNM_KIND_AFXDP,     /* afxdp:IF[-Q] */
	UNM_KIND_SHMIF,     /* shmif:PATH */
	UNM_KIND_MONITOR,   /* monitor:PORT (or PORT/t /r /z) */
	UNM_KIND_IVSHMEM,   /* ivshmem:PCI-ADDRESS (reserved) */
	UNM_KIND_VHOST,     /* vhost-user:PATH (lib/backend/vhost_user.c) */
	UNM_KIND_NULL,      /* null: discards TX, never receives */
	UNM_KIND_VXLAN,     /* vxlan:REMOTE[,REMOTE...] (lib/backend/vxlan.c) */
	UNM_KIND_DPDK,      /* dpdk:DEVARGS (plugin: lib/backend/dpdk.c) */
	UNM_KIND_MEMIF,     /* memif:PATH (lib/backend/memif.c) */
	UNM_KIND__COUNT
};

#define UNM_PIPE_MASTER 1
#define UNM_PIPE_SLAVE  2

#define UNM_SPEC_TX_ONLY   0x01 /* /T */
#define UNM_SPEC_RX_ONLY   0x02 /* /R */
#define UNM_SPEC_MON_TX    0x04 /* /t */
#define UNM_SPEC_MON_RX    0x08 /* /r */
#define UNM_SPEC_MON_ZCOPY 0x10 /* /z */
#define UNM_SPEC_EXCLUSIVE 0x20 /* /x */

#define UNM_NAME_MAX 64         /* switch, port, pipe, interface names */
#define UNM_PATH_MAX 256        /* shmif/vhost-user paths */

struct unm_spec {
	enum unm_kind kind;
	char type[16];              /* "pipe", "vale", "tap", ... */
	char sw[UNM_NAME_MAX];      /* vale: switch name ("vale0") */
	char port[UNM_NAME_MAX];    /* vale port / pipe NAME / interface name */
	char pipe_id[UNM_NAME_MAX]; /* pipe: ID */
	int pipe_role;              /* UNM_PIPE_MASTER / SLAVE, 0 if not a pipe */
	char path[UNM_PATH_MAX];    /* shmif / vhost-user path; monitor: inner name */
	int ring;                   /* -N: ring pair, -1 = all */
	unsigned flags;             /* UNM_SPEC_* */
	/* @conf: values, 0 = not given */
	unsigned tx_rings, rx_rings, tx_slots, rx_slots, buf_size, extra_bufs;
	int vnet_hdr_len;           /* -1 = not given */
	int fd;                     /* -1, or the resource already opened by
	                               whoever asked (unm_open_fd): backends
	                               that accept one dup it */
	char domain[16];            /* vale: @conf:domain=NAME ("none": stay
	                               isolated), "" if not given */
	enum unm_kind mon_kind;     /* monitor: the monitored port's kind */
	unsigned base_len;          /* name[0, base_len): the name without its
	                               suffixes (-N, /FLAGS, @conf) */
	char pool[UNM_NAME_MAX];    /* internal open option, never parsed from a
	                               name nor taken from a client: draw the
	                               ring buffers from the shared buffer pool
	                               of this name (bufpool.c; unmd: the switch
	                               an attached port joins). Honoured by
	                               types with UNM_TYPE_SWAP only; "" = the
	                               port's own buffers */
	char xconf[128];            /* vxlan, dpdk, memif: their own @conf options
	                               "k=v,k=v" (vxlan: validated by
	                               unm_vxlan_conf_parse; dpdk: eal=ARG+ARG,
	                               read by the port; memif: validated by
	                               unm_memif_conf_parse) */
};

/*
 * unm_parse_name - parse NAME into *spec. Returns 0, or -EINVAL with a
 * message "bad port name 'NAME': WHY" in err (errlen bytes), or
 * -EPROTONOSUPPORT for a well-formed name of an unknown type.
 */
UNM_HIDDEN int unm_parse_name(const char *name, struct unm_spec *spec,
			      char *err, size_t errlen);

/*
 * unm_spec_geometry - the geometry a port named SPEC gets: @conf values in
 * the name win over those already in O, then defaults fill what is still
 * 0 (1 ring each way, UNM_DEF_SLOTS, UNM_DEF_BUF_SIZE or for a pipe
 * UNM_PIPE_DEF_BUF_SIZE). Not range-checked.
 */
struct unm_open_opts;
UNM_HIDDEN void unm_spec_geometry(const struct unm_spec *spec, struct unm_open_opts *o);

/*
 * unm_open_spec - unm_open() of a name already parsed into SPEC (unmd:
 * a client's request, checked by unm_ctl_spec_get): nothing is parsed
 * again. LABEL is the name for messages (the port's name). FD as
 * unm_open_fd, or -1.
 */
struct unm_port;
UNM_HIDDEN int unm_open_spec(const char *label, const struct unm_spec *spec, int fd,
			     struct unm_port **portp, const struct unm_open_opts *opts);

/* ---- the port types (port_types.c) --------------------------------------- */

/* How the argument of a typed name ("TYPE:ARG") is spelled (name.c). */
enum unm_arg_syntax {
	UNM_ARG_NONE,       /* null[:] */
	UNM_ARG_SWITCH,     /* valeX:PORT (the prefix is the switch's name) */
	UNM_ARG_IFNAME,     /* an interface name, then -N /FLAGS @conf */
	UNM_ARG_PATH,       /* a path running to @conf */
	UNM_ARG_PCI,        /* [DDDD:]BB:DD.F */
	UNM_ARG_NAME,       /* another port's name (monitor:) */
	UNM_ARG_PIPE,       /* untyped NAME{ID / NAME}ID */
	UNM_ARG_VXLAN,      /* remote addresses running to @conf, whose
	                       type-specific options land in spec.xconf */
	UNM_ARG_MEMIF,      /* a socket path running to @conf ("@NAME":
	                       abstract), memif's own options in spec.xconf */
};

/* What a port type may do (unm_port_type.caps). */
#define UNM_TYPE_ATTACH 0x1 /* unmd may open it and attach it to a switch */
#define UNM_TYPE_DOMAIN 0x2 /* may join a trust domain of a switch */
#define UNM_TYPE_ADMIN  0x4 /* opening it needs privileges (network admin,
                               raw sockets, a PCI device) */
#define UNM_TYPE_FD     0x8 /* opens from a resource its opener already holds
                               (unm_open_fd; unmd: ATTACH with a handed-over fd) */
#define UNM_TYPE_SWAP   0x10 /* buffers may come from a shared pool (spec.pool)
                               and be swapped by the application: its region
                               is private (unm_port_create_self), every
                               buffer it uses is in a ring slot, and each
                               sync reads a slot's buf_idx afresh (TX: the
                               frame's buffers; RX: the buffer to fill) */

struct unm_port_ops;

struct unm_port_type {
	const char *name;           /* "tap": the prefix before ':' */
	const char *spelled;        /* how error messages list it ("valeN") */
	enum unm_kind kind;
	enum unm_arg_syntax arg;
	const struct unm_port_ops *ops;
	unsigned caps;              /* UNM_TYPE_* */
};

UNM_HIDDEN extern const struct unm_port_type unm_port_types[];
UNM_HIDDEN extern const unsigned unm_n_port_types;
/* The entry of KIND, or NULL (UNM_KIND_NONE). */
UNM_HIDDEN const struct unm_port_type *unm_port_type(enum unm_kind kind);
/* The entry whose name is [S, S + LEN), or NULL. */
UNM_HIDDEN const struct unm_port_type *unm_port_type_named(const char *s, size_t len);
/* The names of the types that have every capability in CAPS, in table
 * order, as "a, b and c" into BUF (truncated to LEN). Returns BUF. */
UNM_HIDDEN char *unm_port_type_names(unsigned caps, char *buf, size_t len);

/*
 * Mappings of files another process controls (foreign.c): shmif bus files
 * and vhost-user frontend memory. Registered while mapped; a SIGBUS
 * handler (unmd's) calls unm_foreign_fault(si_addr): true = the mapping
 * holding ADDR was replaced with zero pages (retry the access), false =
 * not ours (die as usual). unm_foreign_faults() counts replacements.
 */
UNM_HIDDEN void unm_foreign_add(void *base, size_t len);
UNM_HIDDEN void unm_foreign_del(void *base);
UNM_HIDDEN bool unm_foreign_fault(void *addr);
UNM_HIDDEN uint64_t unm_foreign_faults(void);

/*
 * unm_open_fd - unm_open() on a resource FD that the caller already opened
 * with its own rights (unmd: handed over by a client with SCM_RIGHTS):
 * shmif: the bus file (read-write); vhost-user: a listening unix stream
 * socket; memif: a unix SOCK_SEQPACKET socket, listening (role=master)
 * or connected (role=slave); tap: a /dev/net/tun fd after TUNSETIFF (IFF_TAP | IFF_NO_PI,
 * IFF_VNET_HDR exactly when a vnet header is asked for; one ring pair).
 * NAME still gives the type, the label and @conf. The backend opens
 * nothing by name. FD stays the caller's (the port keeps a duplicate).
 * Other types: -EINVAL.
 */
UNM_HIDDEN int unm_open_fd(const char *name, int fd, struct unm_port **portp,
			   const struct unm_open_opts *opts);

/* ---- regions (region.c) ------------------------------------------------- */

struct unm_if_layout {
	char name[UNM_IFNAMSIZ];
	unsigned tx_rings, rx_rings;
	unsigned tx_slots, rx_slots;
};

struct unm_region_layout {
	unsigned kind;              /* UNM_REGION_* */
	unsigned n_ifs;
	struct unm_if_layout ifs[UNM_REGION_MAX_IFS];
	unsigned buf_size;
	unsigned extra_bufs;        /* per unm_if, chained from ni_bufs_head */
	unsigned csb_entries;       /* 64-byte entries */
	unsigned vnet_hdr_len;
	unsigned mtu;
	uint8_t mac[6];
	bool pow2;                  /* round the region size up to a power of two
	                               (QEMU ivshmem BAR); the tail is unused */
};

struct unm_region {
	void *base;
	size_t size;
	int fd;                     /* memfd, -1 once closed */
	/* Trusted copies of the validated header, taken once by create/map:
	 * a peer can rewrite the shared header at any time, so code that
	 * turns an index into an address uses these, never the header. */
	uint64_t if_ofs[UNM_REGION_MAX_IFS];
	uint64_t csb_ofs, pool_ofs;
	uint32_t n_ifs, csb_entries, buf_count, buf_size;
};

/*
 * unm_region_create - build a region for LAYOUT in a new memfd, map it and
 * initialise every ring (all slots hold distinct valid buffers; TX rings
 * start empty with tail = num_slots - 1, RX rings start with no frames).
 * Returns 0 or -EINVAL (layout out of limits, message in err), -ENOMEM.
 */
UNM_HIDDEN int unm_region_create(const struct unm_region_layout *layout,
				 struct unm_region *reg, char *err, size_t errlen);

/*
 * unm_region_map - map the region in memfd FD (size from fstat) and
 * validate it with unm_region_validate(). Takes no ownership of FD on
 * failure; on success reg->fd = FD.
 */
UNM_HIDDEN int unm_region_map(int fd, struct unm_region *reg, char *err,
			      size_t errlen);

/*
 * unm_region_attach - validate a region that is already mapped at BASE
 * (SIZE bytes) and take the trusted copies. For memory that cannot shrink
 * under us and has no memfd to check seals on: a QEMU guest's ivshmem BAR2
 * (the host sealed the memfd behind it). On success reg->fd = -1 and
 * unm_region_unmap() unmaps BASE. Returns 0 or -EBADMSG (reason in err).
 */
UNM_HIDDEN int unm_region_attach(void *base, size_t size, struct unm_region *reg,
				 char *err, size_t errlen);

/*
 * unm_region_validate - check every header, descriptor and ring field of
 * the region at BASE against its mapped SIZE: offsets and sizes in range
 * and without overflow, ring geometry within limits, rings inside the
 * region and outside the buffer pool. Returns 0 or -EBADMSG with the
 * reason in err. Never reads outside [base, base + size).
 */
UNM_HIDDEN int unm_region_validate(const void *base, size_t size, char *err,
				   size_t errlen);

/*
 * unm_region_layout_init - the one-interface layout of kind KIND for the
 * geometry in O (rings, slots, buffer size, extra buffers, vnet header),
 * interface 0 named NAME (truncated to fit; NULL: unnamed). Everything
 * else (csb_entries, mtu, mac, pow2, more interfaces) is zero, for the
 * caller to set.
 */
UNM_HIDDEN void unm_region_layout_init(struct unm_region_layout *l, unsigned kind,
				       const char *name, const struct unm_open_opts *o);

/* unm_region_size - bytes a region for LAYOUT needs (0 if out of limits). */
UNM_HIDDEN size_t unm_region_size(const struct unm_region_layout *layout);

UNM_HIDDEN void unm_region_unmap(struct unm_region *reg);

static inline struct unm_region_hdr *unm_region_hdr(const struct unm_region *r)
{
	return (struct unm_region_hdr *)r->base;
}

static inline struct unm_if *unm_region_if(const struct unm_region *r, unsigned i)
{
	return (struct unm_if *)((char *)r->base + r->if_ofs[i]);
}

static inline void *unm_region_csb(const struct unm_region *r, unsigned entry)
{
	return (char *)r->base + r->csb_ofs + (size_t)entry * 64;
}

/*
 * Buffer free list (buffers chained through their first u32, LIFO). HEAD
 * may be in shared memory: pop returns 0 when the list is empty or its
 * head is not a valid index; push ignores an invalid index.
 */
UNM_HIDDEN uint32_t unm_buf_pop(const struct unm_region *r, uint32_t *head);
UNM_HIDDEN void unm_buf_push(const struct unm_region *r, uint32_t *head, uint32_t idx);

/* ---- shared buffer pools (bufpool.c) ------------------------------------ */

/*
 * A pool of buffers of one size, named by KEY, shared by the ports of one
 * process that were opened with spec.pool = KEY (see bufpool.c: a buffer
 * index means the same buffer in every such port, so an application
 * driving several of them may move a frame by swapping indexes).
 * unm_bufpool_get: the pool KEY of BUF_SIZE-byte buffers, made on first
 * use, with a reference; NULL on ENOMEM or a bad argument.
 * unm_bufpool_put: drop a reference (the last one frees the pool: every
 * buffer must have been given back).
 * unm_bufpool_take: N distinct buffers into IDX, or -ENOSPC (none taken).
 * unm_bufpool_give: return N buffers; returns how many were refused (not
 * handed out by this pool, or returned twice: not reused).
 * unm_bufpool_base/_count: buffer i is at base + i * buf_size, valid
 * indexes [2, count). unm_bufpool_in_use: buffers handed out now.
 */
struct unm_bufpool;
UNM_HIDDEN struct unm_bufpool *unm_bufpool_get(const char *key, uint32_t buf_size);
UNM_HIDDEN void unm_bufpool_put(struct unm_bufpool *bp);
UNM_HIDDEN int unm_bufpool_take(struct unm_bufpool *bp, uint32_t *idx, uint32_t n);
UNM_HIDDEN unsigned unm_bufpool_give(struct unm_bufpool *bp, const uint32_t *idx, uint32_t n);
UNM_HIDDEN char *unm_bufpool_base(const struct unm_bufpool *bp);
UNM_HIDDEN uint32_t unm_bufpool_count(const struct unm_bufpool *bp);
UNM_HIDDEN uint64_t unm_bufpool_in_use(struct unm_bufpool *bp);

/* ---- ports (port.c) ----------------------------------------------------- */

/* Private per-ring state: the trusted side of one shared ring. */
struct unm_kring {
	struct unm_ring *ring;      /* shared */
	uint32_t nslots;            /* private copy of ring->num_slots */
	uint32_t buf_size;          /* private copy of ring->nr_buf_size */
	int64_t buf_ofs;            /* private copy of ring->buf_ofs */
	uint32_t hwcur;             /* next slot the port will consume (TX) or
	                               first slot not yet released (RX) */
	uint32_t hwtail;            /* first slot the application does not own */
	uint16_t ringid, dir;
	bool armed;                 /* notification armed by the last sync */
	void *priv;                 /* per-ring backend state */
};

struct unm_port;

/* A received frame read in place from the peer's memory (rx_pull). */
struct unm_pull {
	const uint8_t *buf;         /* LEN bytes, readable until rx_pull_done; the
	                               peer may still write them: read once */
	uint32_t len;
	uint32_t cookie;            /* the type's own (vhost-user: the chain head) */
};

struct unm_port_ops {
	const char *type;
	/* Fill port->reg, ->nifp, rings, ->epfd. Return 0 or -errno (set a
	 * message with unm_seterr()). */
	int (*open)(struct unm_port *p, const struct unm_spec *spec,
		    const struct unm_open_opts *opts);
	/* Move [kr->hwcur, head) out; update kr->hwcur/hwtail. HEAD has been
	 * validated. Return 0 or -errno. Must not block (a tap with a TX
	 * thread waits at most 2 ms for it: backpressure). */
	int (*txsync)(struct unm_port *p, struct unm_kring *kr, uint32_t head);
	/* Release [kr->hwcur, head); bring new frames: kr->hwtail. */
	int (*rxsync)(struct unm_port *p, struct unm_kring *kr, uint32_t head);
	/* Enable notifications for kr (the ring would block) and return true
	 * if, re-checked after a full barrier, it no longer would (double
	 * check). NULL: the port's fd is always armed. */
	bool (*arm)(struct unm_port *p, struct unm_kring *kr);
	/* Called after the port's fd woke a waiter: drain eventfds, check the
	 * peer. Return 0 or -errno (-EPIPE, -ECONNRESET). May be NULL. */
	int (*wakeup)(struct unm_port *p);
	/* Optional, instead of wakeup when the waiter's own epoll_wait on the
	 * port's fd returned EV[0..N) (N below the array it passed, so no
	 * event is left in the set): the same job, told what woke it, for a
	 * type that would otherwise ask the epoll set again. */
	int (*woke)(struct unm_port *p, const struct epoll_event *ev, int n);
	/* Release what the type set up (p->priv). Also called when open
	 * failed part way: copes with p->priv NULL or partly built. The
	 * port's epfd, region and rings are unm_close's (port.c), not this. */
	void (*close)(struct unm_port *p);
	/* Optional, for unmd's switch (daemon/vport_attached.c), which then
	 * copies each frame once, from the peer's memory to its destination,
	 * instead of from a slot the type filled: release [kr->hwcur, head)
	 * as rxsync does and, if the ring then holds no frame, put up to MAX
	 * received frames into PL (the type's plain form only: it stops at
	 * anything else, which rxsync takes). Returns how many, or 0 (nothing
	 * plain waits, or the port has an error: rxsync then, which reports
	 * it). Never blocks. On > 0 the port stays locked for the caller:
	 * rx_pull_done must follow before any other op on the port; it
	 * consumes the first N <= the count (the rest stay with the peer)
	 * and unlocks. */
	int (*rx_pull)(struct unm_port *p, struct unm_kring *kr, uint32_t head,
		       struct unm_pull *pl, unsigned max);
	void (*rx_pull_done)(struct unm_port *p, struct unm_kring *kr, const struct unm_pull *pl,
			     unsigned n);
	/* Optional: fill type-specific info (mac, mtu). */
	void (*info)(const struct unm_port *p, struct unm_port_info *info);
};

struct unm_port {
	const struct unm_port_ops *ops;
	struct unm_spec spec;
	char name[128];
	struct unm_region reg;      /* mapped region (owned) */
	struct unm_if *nifp;
	unsigned n_tx, n_rx;        /* rings in the port */
	unsigned first_tx, last_tx, first_rx, last_rx;  /* bound rings [first,last) */
	struct unm_kring *tx, *rx;  /* n_tx / n_rx entries */
	int epfd;                   /* unm_fd(); -1 if none */
	int error;                  /* sticky negative errno, 0 if fine */
	unsigned cur_tx, cur_rx;    /* inject/dispatch rotation */
	unsigned mtu;               /* unm_port_create_self's; 0: the region header's
	                               (which holds 16 bits: lo's 65536 does not fit) */
	struct unm_port_stats st;
	void *priv;                 /* backend state */
	bool tx_async;              /* txsync may leave slots in flight (tail trails
	                               head: a tap's TX thread); a later txsync
	                               hands back what completed since */
	struct unm_bufpool *pool;   /* ring buffers from this shared pool (spec.pool,
	                               unm_port_create_self), NULL: the region's own.
	                               Then reg.buf_count is the pool's and no
	                               buffer is on the region's free list */
};

/*
 * unm_port_bind_rings - allocate p->tx/p->rx for nifp's rings, copy each
 * ring's geometry into the kring and set hwcur/hwtail from the ring, bind
 * the rings selected by spec (ring, /T, /R). Return 0 or -ENOMEM/-EINVAL.
 */
UNM_HIDDEN int unm_port_bind_rings(struct unm_port *p, struct unm_if *nifp);

/*
 * unm_port_create_self - build a private region (UNM_REGION_SELF) with the
 * geometry in opts for a port driven in this process (null, embedded
 * backends) and bind its rings. Returns 0 or -errno with unm_errmsg() set.
 */
/*
 * unm_port_watch - add FD to the port's epoll set (unm_fd()), creating
 * the set on first use, with EVENTS and data.u32 = TAG. Returns 0 or
 * -errno with the message set ("TYPE: epoll: ...").
 */
UNM_HIDDEN int unm_port_watch(struct unm_port *p, int fd, uint32_t events, uint32_t tag);

/*
 * unm_port_gone - the kernel interface IFNAME behind P went away: error the
 * port with -ENXIO (once: later calls keep the first error and log nothing)
 * and return p->error. Every later sync returns that error.
 */
UNM_HIDDEN int unm_port_gone(struct unm_port *p, const char *ifname);

UNM_HIDDEN int unm_port_create_self(struct unm_port *p, const struct unm_open_opts *o,
				    unsigned mtu, const uint8_t mac[6]);

/* Buffer index bounds check against the port's region. */
static inline bool unm_buf_ok(const struct unm_port *p, uint32_t idx)
{
	return idx >= 2 && idx < p->reg.buf_count;
}

/* Circular helpers on a kring (indexes 0..nslots-1). */
static inline uint32_t kr_next(const struct unm_kring *kr, uint32_t i)
{
	return i + 1 == kr->nslots ? 0 : i + 1;
}

static inline uint32_t kr_dist(const struct unm_kring *kr, uint32_t from, uint32_t to)
{
	return to >= from ? to - from : to + kr->nslots - from;
}

static inline char *kr_buf(const struct unm_kring *kr, uint32_t idx)
{
	return (char *)kr->ring + kr->buf_ofs + (uint64_t)idx * kr->buf_size;
}

/* Port types, one ops table per file (listed in port_types.c). */
extern const struct unm_port_ops unm_pipe_ops UNM_HIDDEN;
extern const struct unm_port_ops unm_vale_ops UNM_HIDDEN;
extern const struct unm_port_ops unm_null_ops UNM_HIDDEN;
extern const struct unm_port_ops unm_monitor_ops UNM_HIDDEN;
extern const struct unm_port_ops unm_afxdp_ops UNM_HIDDEN;
extern const struct unm_port_ops unm_shmif_ops UNM_HIDDEN;
extern const struct unm_port_ops unm_tap_ops UNM_HIDDEN;      /* backend/tap.c */
extern const struct unm_port_ops unm_afpacket_ops UNM_HIDDEN; /* backend/afpacket.c */
extern const struct unm_port_ops unm_ivshmem_ops UNM_HIDDEN;
extern const struct unm_port_ops unm_vhost_ops UNM_HIDDEN;
extern const struct unm_port_ops unm_zmon_ops UNM_HIDDEN;      /* zmon.c: /z of pipes */
extern const struct unm_port_ops unm_vxlan_ops UNM_HIDDEN;     /* backend/vxlan.c */
extern const struct unm_port_ops unm_dpdk_ops UNM_HIDDEN;      /* backend/dpdk_load.c */
extern const struct unm_port_ops unm_memif_ops UNM_HIDDEN;     /* backend/memif.c */

/* ---- Unix sockets at a path (unixsock.c) --------------------------------- */

struct sockaddr_un;

/* The socket file a listener bound: removed on close only if it is still
 * that file. dir_fd -1: nothing to remove (abstract, handed over, or the
 * file could not be identified). */
struct unm_usock_file {
	int dir_fd;                 /* O_PATH of the directory we bound in */
	dev_t dev;                  /* the socket file we bound */
	ino_t ino;
};

#define UNM_USOCK_ABSTRACT 1u /* a PATH "@NAME" is the abstract name NAME */

/* unm_usock_addr - the address of PATH (FLAGS: UNM_USOCK_ABSTRACT) in *SA,
 * its length in *LEN. 0, or -ENAMETOOLONG (also for an empty PATH). */
UNM_HIDDEN int unm_usock_addr(const char *path, unsigned flags, struct sockaddr_un *sa,
			      socklen_t *len);
/* unm_usock_connect - a non-blocking, close-on-exec socket of TYPE
 * (SOCK_STREAM, SOCK_SEQPACKET) connected to PATH: the fd, or -errno. */
UNM_HIDDEN int unm_usock_connect(const char *path, unsigned flags, int type);
/* unm_usock_listen - a non-blocking, close-on-exec socket of TYPE
 * listening on PATH (backlog 4). A socket file there that nobody accepts
 * on is removed first; a file that is not a socket (-EEXIST) or a socket
 * another process serves (-EADDRINUSE) is left alone. *F remembers the
 * file bound (for unm_usock_forget). The fd, or -errno with WHY set
 * (but for socket()'s errors). */
UNM_HIDDEN int unm_usock_listen(const char *path, unsigned flags, int type,
				struct unm_usock_file *f, char *why, size_t whylen);
/* unm_usock_forget - after closing the listener: remove PATH's file if it
 * is still the one *F remembers; releases *F (dir_fd -1). */
UNM_HIDDEN void unm_usock_forget(struct unm_usock_file *f, const char *path);

/* ---- kernel interfaces (netdev.c) ---------------------------------------- */

/*
 * unm_netdev_query - MTU and MAC address of interface IFNAME, asked through
 * SOCK (any socket; -1: a temporary one). Sets *MTU and MAC only for what
 * the kernel answered, so callers preset their defaults. Returns 0, or the
 * first -errno (the other value may still have been set).
 */
UNM_HIDDEN int unm_netdev_query(const char *ifname, int sock, unsigned *mtu, uint8_t mac[6]);

/* ---- fd passing (fdpass.c) --------------------------------------------- */

struct msghdr;

#define UNM_FDPASS_MAX 72 /* fds in one message, either way (>= UNM_CTL_MAX_FDS) */

/*
 * unm_fdpass_send - send LEN bytes of BUF and NFDS fds (SCM_RIGHTS, at most
 * UNM_FDPASS_MAX) as one message; FLAGS as sendmsg's (MSG_NOSIGNAL always
 * added). Retries EINTR; the fds stay the caller's. Returns the bytes sent
 * or -errno (-EINVAL for too many fds).
 */
UNM_HIDDEN ssize_t unm_fdpass_send(int sock, const void *buf, size_t len, const int *fds,
				   unsigned nfds, int flags);

/*
 * unm_fdpass_recv - receive one message into BUF (LEN bytes) with at most
 * MAX fds (<= UNM_FDPASS_MAX, close-on-exec); FLAGS as recvmsg's. Retries
 * EINTR. Returns the bytes received with *NFDS set, 0 if the peer closed,
 * -EBADMSG if the message or its fds were truncated or there were more
 * than MAX fds, or -errno; on any return but a positive one no fd is kept.
 */
UNM_HIDDEN ssize_t unm_fdpass_recv(int sock, void *buf, size_t len, int flags, int *fds,
				   unsigned max, unsigned *nfds);

/*
 * unm_fdpass_take - for callers with their own recvmsg: move the fds MH
 * carries to FDS[*N...] while *N < MAX, closing the rest. Returns how many
 * it closed.
 */
UNM_HIDDEN unsigned unm_fdpass_take(struct msghdr *mh, int *fds, unsigned *n, unsigned max);

/* Fixed-size messages (the pipe rendezvous, zmon, memif): one message of
 * exactly LEN bytes over a SOCK_SEQPACKET socket, never blocking. send: 0
 * or -errno; recv: the number of fds received (at most maxfds <= 4), or
 * -errno / -EBADMSG (fds closed), -ECONNRESET if the peer closed. */
UNM_HIDDEN int unm_send_fds(int fd, const void *buf, size_t len, const int *fds, int nfds);
UNM_HIDDEN int unm_recv_fds(int fd, void *buf, size_t len, int *fds, int maxfds);
/* A received wake fd is an eventfd; made non-blocking. */
UNM_HIDDEN bool unm_efd_ok(int fd);

/* ---- pipes and their zero-copy monitors (pipe*.c, zmon.c) ----------------- */

struct sockaddr_un;


/* Abstract socket where pipe end KEY ("NAME{ID") of ROLE accepts its
 * zero-copy monitor. Returns the address length. */
UNM_HIDDEN unsigned unm_pipe_mon_addr(const char *key, int role, struct sockaddr_un *a);

#define ZMON_MAGIC 0x4d5a4e55u /* "UNZM" */
#define ZMON_PROTO 2 /* 2: copy monitors (docs/zmon.md) */
#define ZMON_KEYLEN (2 * UNM_NAME_MAX + 2)

struct zmon_req {                  /* monitor -> pipe end, + [monitor wake efd] */
	uint32_t magic;
	uint16_t version;
	uint16_t role;                 /* UNM_PIPE_MASTER / SLAVE: the end wanted */
	uint16_t txmon;                /* flag the copies UNM_NS_TXMON */
	uint16_t copy;                 /* 1: copy monitor (own buffers), 0: /z */
	uint16_t __pad[2];
	char name[ZMON_KEYLEN];        /* "NAME{ID" */
};

struct zmon_rep {                  /* pipe end -> monitor, + [region, rings, wake efd] */
	uint32_t magic;
	uint16_t version;
	uint16_t n_rings;              /* TX rings of the end = monitor rings */
	int32_t status;                /* 0 or -errno */
	uint32_t size;                 /* bytes of the rings memfd */
	uint32_t nslots[UNM_MAX_RINGS];
	uint32_t ring_ofs[UNM_MAX_RINGS]; /* ring header; its unm_zmon_ctl is 128 bytes before */
	uint32_t bufs_ofs[UNM_MAX_RINGS]; /* copy: the ring's nslots buffers (index = slot) */
	uint32_t copy;                 /* as requested */
	char msg[128];
};

/* ---- errors and logging (util.c) ---------------------------------------- */

/* Set this thread's unm_errmsg() text; returns ERR for tail calls. */
UNM_HIDDEN int unm_seterr(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
UNM_HIDDEN void unm_clearerr(void);
UNM_HIDDEN void unm_log(enum unm_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Monotonic clock in nanoseconds. */
UNM_HIDDEN uint64_t unm_now_ns(void);

#endif /* UNM_INTERNAL_H */
