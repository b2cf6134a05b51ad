/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * memif.h - private state of the "memif:SOCKET" port (memif.c: data path
 * and ops; memif_ctl.c: the control protocol) and the memif wire format
 * (protocol version 2.0, as spoken by DPDK's net_memif, libmemif and VPP).
 *
 * Roles. The master (DPDK "server") listens on the socket and maps the
 * slave's memory; the slave (DPDK "client") connects and creates every
 * region, ring and interrupt eventfd. Ring direction names follow the
 * slave: S2M rings carry slave -> master frames, M2S rings master ->
 * slave. Our port's TX rings feed the rings we send on (S2M as slave,
 * M2S as master), our RX rings are fed by the others.
 *
 * Shared ring (memif_ring_t): the slave writes head, the master writes
 * tail; both are free-running u16 (slot = index & mask). On an S2M ring
 * the slave produces frames (head) and the master releases them (tail);
 * on an M2S ring the slave posts empty buffers (head) and the master
 * fills them (tail). The receiver of a ring owns its MASK_INT flag.
 *
 * Trust: the peer is another process and may write anything at any time
 * into the rings and descriptors (and, as slave, the regions we map).
 * Control messages are checked field by field (memif_ctl.c); ring indexes
 * and descriptors are read once into locals (marked untrusted) and
 * checked against our private copies (memif.c). Buffers we own as slave
 * are addressed from our own layout, never from a descriptor.
 *
 * Threads: one mutex per port (mf_dev.lock) serialises every op, so the
 * control path, which may unmap the peer's memory, never runs while the
 * data path copies from it. No thread of our own.
 */
#ifndef UNM_MEMIF_H
#define UNM_MEMIF_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../internal.h"

/* ---- wire format -------------------------------------------------------- */

#define MEMIF_VERSION       0x0200
#define MEMIF_COOKIE        0x3E31F20u
#define MEMIF_MSG_SIZE      128
#define MEMIF_NAME_LEN      32
#define MEMIF_SECRET_LEN    24
#define MEMIF_ERR_LEN       96
#define MEMIF_MAX_LOG2      14

enum memif_msg_type {
	MEMIF_MSG_NONE = 0,
	MEMIF_MSG_ACK = 1,
	MEMIF_MSG_HELLO = 2,
	MEMIF_MSG_INIT = 3,
	MEMIF_MSG_ADD_REGION = 4,
	MEMIF_MSG_ADD_RING = 5,
	MEMIF_MSG_CONNECT = 6,
	MEMIF_MSG_CONNECTED = 7,
	MEMIF_MSG_DISCONNECT = 8,
};

#define MEMIF_RING_FLAG_S2M    1   /* ADD_RING flags bit 0: an S2M ring */
#define MEMIF_RING_FLAG_MASK_INT 1 /* ring header flags: receiver polls */
#define MEMIF_DESC_FLAG_NEXT   1   /* the frame continues in the next slot */

struct memif_msg_hello {
	char name[MEMIF_NAME_LEN];
	uint16_t min_version, max_version;
	uint16_t max_region;        /* highest region index accepted */
	uint16_t max_m2s_ring;      /* highest ring index accepted */
	uint16_t max_s2m_ring;
	uint8_t max_log2_ring_size;
} __attribute__((packed));

struct memif_msg_init {
	uint16_t version;
	uint32_t id;
	uint8_t mode;               /* 0 = Ethernet (the only one we speak) */
	char secret[MEMIF_SECRET_LEN];
	char name[MEMIF_NAME_LEN];
} __attribute__((packed));

struct memif_msg_add_region {
	uint16_t index;
	uint64_t size;
} __attribute__((packed));

struct memif_msg_add_ring {
	uint16_t flags;
	uint16_t index;
	uint16_t region;
	uint32_t offset;
	uint8_t log2_ring_size;
	uint16_t private_hdr_size;
} __attribute__((packed));

struct memif_msg_connect {
	char if_name[MEMIF_NAME_LEN];
} __attribute__((packed));

struct memif_msg_disconnect {
	uint32_t code;
	char string[MEMIF_ERR_LEN];
} __attribute__((packed));

struct memif_msg {
	uint16_t type;
	union {
		struct memif_msg_hello hello;
		struct memif_msg_init init;
		struct memif_msg_add_region add_region;
		struct memif_msg_add_ring add_ring;
		struct memif_msg_connect connect;
		struct memif_msg_disconnect disconnect;
		uint8_t pad[MEMIF_MSG_SIZE - 2];
	};
} __attribute__((packed));

_Static_assert(sizeof(struct memif_msg) == MEMIF_MSG_SIZE, "memif message size");
_Static_assert(offsetof(struct memif_msg, hello.min_version) == 34, "hello.min_version");
_Static_assert(offsetof(struct memif_msg, hello.max_log2_ring_size) == 44, "hello.max_log2");
_Static_assert(offsetof(struct memif_msg, init.id) == 4, "init.id");
_Static_assert(offsetof(struct memif_msg, init.mode) == 8, "init.mode");
_Static_assert(offsetof(struct memif_msg, init.secret) == 9, "init.secret");
_Static_assert(offsetof(struct memif_msg, init.name) == 33, "init.name");
_Static_assert(offsetof(struct memif_msg, add_region.size) == 4, "add_region.size");
_Static_assert(offsetof(struct memif_msg, add_ring.offset) == 8, "add_ring.offset");
_Static_assert(offsetof(struct memif_msg, add_ring.log2_ring_size) == 12, "add_ring.log2");
_Static_assert(offsetof(struct memif_msg, add_ring.private_hdr_size) == 13, "add_ring.priv");
_Static_assert(offsetof(struct memif_msg, disconnect.string) == 6, "disconnect.string");

struct memif_desc {
	uint16_t flags;             /* MEMIF_DESC_FLAG_NEXT */
	uint16_t region;
	uint32_t length;
	uint32_t offset;
	uint32_t metadata;
};

/* Ring header; head and tail on their own 64-byte cache lines. */
struct memif_ring {
	uint32_t cookie;            /* W:slave before CONNECT */
	uint16_t flags;             /* W:receiver of the ring (MASK_INT) */
	uint16_t head;              /* W:slave R:master  release/acquire [F1]/[F2] */
	uint8_t pad0[56];
	uint16_t tail;              /* W:master R:slave  release/acquire [F3]/[F4] */
	uint8_t pad1[62];
	struct memif_desc desc[];
};

_Static_assert(sizeof(struct memif_desc) == 16, "memif descriptor size");
_Static_assert(offsetof(struct memif_ring, head) == 6, "ring head");
_Static_assert(offsetof(struct memif_ring, tail) == 64, "ring tail");
_Static_assert(offsetof(struct memif_ring, desc) == 128, "ring descriptors");

static inline size_t memif_ring_bytes(unsigned log2)
{
	return sizeof(struct memif_ring) + sizeof(struct memif_desc) * ((size_t)1 << log2);
}

/* ---- @conf options of a memif name (memif_ctl.c) ----------------------- */

struct unm_memif_conf {
	bool master;                /* role=master (default) | slave */
	uint32_t id;                /* id=N: interface id on the socket (0) */
	char secret[MEMIF_SECRET_LEN]; /* secret=S, at most 23 characters */
	bool zerocopy;              /* zerocopy=1 (slave only): lend our buffers */
};

/* True if [KEY, KEY + LEN) is one of memif's own @conf keys. */
UNM_HIDDEN bool unm_memif_conf_key(const char *key, size_t len);
/*
 * unm_memif_conf_parse - read spec->xconf ("k=v,k=v", memif's keys only)
 * into *conf (defaults first). Returns 0 or -EINVAL with WHY.
 */
UNM_HIDDEN int unm_memif_conf_parse(const struct unm_spec *spec, struct unm_memif_conf *conf,
				    char *why, size_t whylen);

/* ---- private state ------------------------------------------------------ */

#define MF_MAX_REGIONS 16           /* regions a slave may give us */

struct mf_region {
	uint8_t *base;              /* NULL: not mapped */
	size_t size;                /* as announced, checked against the file */
	int fd;
	bool foreign;               /* registered with unm_foreign_add */
	bool port;                  /* the port's own region (zero copy): its
	                               mapping and fd are the port's */
};

/* One memif ring, the trusted side. */
struct mf_ring {
	struct memif_ring *r;       /* shared header, NULL = not set up */
	uint32_t size, mask;        /* 2^log2 */
	int efd;                    /* interrupt eventfd (the slave's), -1 */
	uint16_t last;              /* our index: slave S2M: head written;
	                               slave M2S: tail consumed up to;
	                               master S2M: tail written; master M2S:
	                               tail written */
	uint16_t posted;            /* slave M2S: head posted */
	size_t buf0;                /* slave: offset of this ring's first
	                               buffer in region 0 (ours) */
	bool masked;                /* receiver: MASK_INT currently set */
	/* slave zero copy (mf_dev.zc): the port buffer each descriptor
	 * names (0: the descriptor's region 0 buffer); private, never read
	 * back from a descriptor */
	uint32_t *zbuf;
	uint16_t done;              /* slave S2M: lent buffers back up to here */
};

enum mf_state {
	MF_DOWN = 0,                /* no peer */
	MF_WAIT_HELLO,              /* slave: connected, HELLO expected */
	MF_WAIT_ACK,                /* slave: a message sent, its ACK expected */
	MF_WAIT_CONNECTED,          /* slave: CONNECT sent */
	MF_WAIT_INIT,               /* master: HELLO sent, INIT expected */
	MF_SETUP,                   /* master: regions and rings arriving */
	MF_UP,                      /* connected: the data path runs */
};

struct mf_dev {
	pthread_mutex_t lock;
	struct unm_port *port;
	struct unm_memif_conf conf;
	char path[UNM_PATH_MAX];    /* "@name": abstract */
	int listen_fd;              /* master */
	int conn_fd;                /* the peer, -1 when none */
	int given_fd;               /* handed-over socket (unm_open_fd), -1 */
	bool given_used;            /* slave: the handed-over connection ran */
	int timer_fd;               /* slave reconnect / TX retry tick */
	struct unm_usock_file sock_file; /* master: the socket file we bound */
	enum mf_state state;
	unsigned step;              /* slave: messages sent after INIT */
	/* negotiated */
	unsigned n_s2m, n_m2s, log2, bsize;
	struct mf_region reg[MF_MAX_REGIONS];
	unsigned n_regions;
	struct mf_ring s2m[UNM_MAX_RINGS], m2s[UNM_MAX_RINGS];
	char peer_name[MEMIF_NAME_LEN];
	/* timers */
	uint64_t last_ctl_ns, last_rx_ns, retry_ns;
	bool tx_blocked;
	/* counters beyond unm_port_stats, by reason */
	uint64_t connects, disconnects, bad_msgs, refused;
	uint64_t bad_region, bad_offset, bad_length, bad_chain, bad_index;
	uint64_t irq_sent, irq_seen;
	/* Zero copy (slave, conf.zerocopy): the port's region is region 1,
	 * descriptors name its buffers. Who holds each buffer (zown) and the
	 * port's spare buffers (a stack) are private; see memif.c. */
	bool zc;
	uint8_t *zown;              /* MF_ZO_* per buffer of the port's region */
	uint32_t *spare;
	unsigned n_spare, spare_cap;
	uint8_t *pool;              /* the port's buffer 0 */
	uint64_t pool_ofs;          /* its offset in the region */
	uint32_t buf_count;         /* trusted copies (port->reg) */
};

enum { MF_ZO_APP = 0, MF_ZO_SPARE = 1, MF_ZO_PEER = 2 };

/* Zero copy: spare buffer B back on the stack. */
static inline void mf_zc_give(struct mf_dev *d, uint32_t b)
{
	d->zown[b] = MF_ZO_SPARE;
	if (d->n_spare < d->spare_cap)  /* always: one in per one out */
		d->spare[d->n_spare++] = b;
}

/* memif_ctl.c: control channel. */
UNM_HIDDEN int mf_ctl_open(struct mf_dev *d, char *why, size_t whylen);
/* Accept / connect, read and handle every queued message; never blocks. */
UNM_HIDDEN void mf_ctl_poll(struct mf_dev *d);
/* Tell the peer (if WHY), drop the connection and everything negotiated. */
UNM_HIDDEN void mf_disconnect(struct mf_dev *d, const char *why);
UNM_HIDDEN void mf_ctl_close(struct mf_dev *d);
/* memif.c: called by the control path when the link comes up. */
UNM_HIDDEN void mf_link_up(struct mf_dev *d);

/* Our send / receive ring I. */
static inline struct mf_ring *mf_txr(struct mf_dev *d, unsigned i)
{
	return d->conf.master ? &d->m2s[i] : &d->s2m[i];
}

static inline struct mf_ring *mf_rxr(struct mf_dev *d, unsigned i)
{
	return d->conf.master ? &d->s2m[i] : &d->m2s[i];
}

static inline unsigned mf_n_tx(const struct mf_dev *d)
{
	return d->conf.master ? d->n_m2s : d->n_s2m;
}

static inline unsigned mf_n_rx(const struct mf_dev *d)
{
	return d->conf.master ? d->n_s2m : d->n_m2s;
}

/* epoll tags in the port's set (data.u32) */
#define MF_EV_LISTEN 1
#define MF_EV_CONN   2
#define MF_EV_TIMER  3
#define MF_EV_IRQ    0x100 /* + receive ring index */

#endif /* UNM_MEMIF_H */
