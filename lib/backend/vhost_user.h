/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vhost_user.h - private state of the vhost-user port (vhost_user.c,
 * vhost_msg.c, vhost_mem.c, vhost_vq.c).
 *
 * We are the vhost-user *backend*: a virtio-net device driver runs in
 * another process (QEMU's virtio-net-pci for a guest, DPDK's virtio_user)
 * and it shares its memory with us (SET_MEM_TABLE, one fd per region), sets
 * up two split virtqueues (0 = guest RX, 1 = guest TX) and kicks us through
 * eventfds; we call it back through eventfds. The port's TX ring feeds
 * virtqueue 0, virtqueue 1 feeds the port's RX ring.
 *
 * Threads: the port is driven by whatever threads sync its rings; one mutex
 * (vu_dev.lock) serialises every entry point (txsync, rxsync, arm, wakeup),
 * so the control protocol, which may unmap guest memory, never runs while
 * the data path copies from it. No thread of our own exists.
 *
 * Trust: everything the frontend sends (messages, fds, memory contents) is
 * untrusted. Message fields are validated in vhost_msg.c, every guest
 * address goes through vu_mem_gpa()/vu_mem_uva() (which check the full
 * length against one mapping), and every index or length read from guest
 * memory is read once into a local and bounded in vhost_vq.c.
 */
#ifndef UNM_VHOST_USER_H
#define UNM_VHOST_USER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "internal.h"

/* ---- protocol constants (QEMU docs/interop/vhost-user.rst) -------------- */

enum vu_req {
	VU_GET_FEATURES = 1,
	VU_SET_FEATURES = 2,
	VU_SET_OWNER = 3,
	VU_RESET_OWNER = 4,
	VU_SET_MEM_TABLE = 5,
	VU_SET_LOG_BASE = 6,
	VU_SET_LOG_FD = 7,
	VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10,
	VU_GET_VRING_BASE = 11,
	VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13,
	VU_SET_VRING_ERR = 14,
	VU_GET_PROTOCOL_FEATURES = 15,
	VU_SET_PROTOCOL_FEATURES = 16,
	VU_GET_QUEUE_NUM = 17,
	VU_SET_VRING_ENABLE = 18,
	VU_SEND_RARP = 19,
	VU_NET_SET_MTU = 20,
	VU_REQ__MAX = 64,
};

#define VU_VERSION          0x1
#define VU_VERSION_MASK     0x3
#define VU_FLAG_REPLY       0x4
#define VU_FLAG_NEED_REPLY  0x8
#define VU_HDR_SIZE         12
#define VU_MAX_PAYLOAD      4096      /* our limit; the largest we parse is 264 */
#define VU_MAX_REGIONS      8         /* VHOST_MEMORY_BASELINE_NREGIONS */
#define VU_MAX_FDS          8         /* fds accepted with one message */
#define VU_VRING_IDX_MASK   0xffu
#define VU_VRING_NOFD       0x100u    /* SET_VRING_KICK/CALL/ERR: no fd (polling) */

/* Protocol feature bits we implement. */
#define VU_PROTO_REPLY_ACK  3

/* Virtio feature bits. */
#define VIRTIO_NET_F_CSUM        0
#define VIRTIO_NET_F_GUEST_CSUM  1
#define VIRTIO_NET_F_GUEST_TSO4  7
#define VIRTIO_NET_F_GUEST_TSO6  8
#define VIRTIO_NET_F_HOST_TSO4   11
#define VIRTIO_NET_F_HOST_TSO6   12
#define VIRTIO_NET_F_MRG_RXBUF   15
#define VIRTIO_RING_F_EVENT_IDX  29
#define VHOST_USER_F_PROTOCOL_FEATURES 30
#define VIRTIO_F_VERSION_1       32
#define VIRTIO_F_IN_ORDER        35

#define VU_BIT(b) (1ull << (b))

/* Split ring flags. */
#define VRING_DESC_F_NEXT        1
#define VRING_DESC_F_WRITE       2
#define VRING_DESC_F_INDIRECT    4
#define VRING_USED_F_NO_NOTIFY   1
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VU_MAX_QSIZE             32768  /* split rings: power of 2 up to this */

/* virtio-net header (little-endian on the wire; VERSION_1 or MRG_RXBUF: 12). */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_GSO_NONE     0
#define VIRTIO_NET_HDR_GSO_TCPV4    1
#define VIRTIO_NET_HDR_GSO_TCPV6    4
#define VIRTIO_NET_HDR_GSO_ECN      0x80

/* Virtqueue indexes. */
#define VU_VQ_RX 0  /* guest RX: device writes (our port's TX) */
#define VU_VQ_TX 1  /* guest TX: device reads (our port's RX) */
#define VU_NVQ   2

/* ---- wire structures (host byte order = little-endian only) ------------- */

struct vu_msg_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
};

struct vu_vring_state {
	uint32_t index;
	uint32_t num;
};

struct vu_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc;   /* frontend virtual addresses (uva) */
	uint64_t used;
	uint64_t avail;
	uint64_t log;
};

struct vu_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uva;
	uint64_t mmap_offset;
};

struct vu_mem_table_msg {
	uint32_t nregions;
	uint32_t padding;
	struct vu_mem_region r[VU_MAX_REGIONS];
};

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

/* ---- memory table (vhost_mem.c) ----------------------------------------- */

struct vu_map {
	uint64_t gpa, uva, size;    /* the region as the frontend described it */
	uint8_t *host;              /* its first byte in our address space */
	void *mmap_base;            /* what munmap needs */
	size_t mmap_len;
};

struct vu_mem {
	unsigned n;
	struct vu_map m[VU_MAX_REGIONS];
};

/*
 * vu_mem_set - replace *mem by the table in MSG, mapping FDS[i] for region
 * i (the fds are consumed: closed whether or not mapping succeeds). On
 * failure the old table has been dropped and *mem is empty. Returns 0 or
 * -EINVAL (bad table: overflow, file too small), -errno of mmap.
 */
UNM_HIDDEN int vu_mem_set(struct vu_mem *mem, const struct vu_mem_table_msg *msg,
			  int *fds, unsigned nfds, char *why, size_t whylen);
UNM_HIDDEN void vu_mem_clear(struct vu_mem *mem);

/* Host pointer for [addr, addr + len) wholly inside one region, or NULL. */
static inline void *vu_mem_xlate(const struct vu_mem *mem, uint64_t addr,
				 uint64_t len, bool uva)
{
	for (unsigned i = 0; i < mem->n; i++) {
		const struct vu_map *m = &mem->m[i];
		uint64_t start = uva ? m->uva : m->gpa;

		if (addr >= start && addr - start <= m->size && len <= m->size - (addr - start))
			return m->host + (addr - start);
	}
	return NULL;
}

/* ---- virtqueues (vhost_vq.c) -------------------------------------------- */

struct vu_vq {
	/* what the frontend set (validated when the ring starts) */
	uint32_t num;               /* 0 = not set */
	struct vu_vring_addr addr;
	bool addr_set;
	uint16_t base;              /* SET_VRING_BASE */
	int kick_fd, call_fd, err_fd;
	bool started;               /* kick received (or no-fd polling), not stopped */
	bool enabled;               /* SET_VRING_ENABLE (true if no protocol features) */
	/* live state, valid while ready */
	bool ready;                 /* rings translated, data path may run */
	bool broken;                /* the guest published something invalid */
	struct vring_desc *desc;    /* guest memory: untrusted, read once */
	uint16_t *avail;            /* flags, idx, ring[num], used_event */
	uint16_t *used;             /* flags, idx, then elems at used + 2 */
	struct vring_used_elem *used_ring;
	uint16_t last_avail;        /* next avail entry we will consume */
	uint16_t used_idx;          /* our shadow of used->idx */
	uint16_t signalled_used;    /* used idx at the last call (event idx) */
	bool signalled_valid;       /* signalled_used means something */
	bool kick_on;               /* kicks requested from the driver */
	uint64_t bad;               /* invalid things the guest published */
};

struct vu_dev;

/* (Re)validate and translate vq's ring addresses; mark it ready or not. */
UNM_HIDDEN void vu_vq_update(struct vu_dev *d, unsigned qi);
/* Stop vq (GET_VRING_BASE, disconnect): not ready, not started. */
UNM_HIDDEN void vu_vq_stop(struct vu_dev *d, unsigned qi);
/* Mark the queue broken (WHY logged), count, error the port, signal err fd. */
UNM_HIDDEN void vu_vq_break(struct vu_dev *d, unsigned qi, const char *why, uint64_t val);
/* Request (on) or suppress (off) driver kicks; returns true if, after a
 * full barrier, the avail ring already holds unconsumed entries. */
UNM_HIDDEN bool vu_vq_want_kicks(struct vu_dev *d, unsigned qi, bool on);
/* Guest TX vq -> port RX ring: fill [kr->hwtail, ..) up to hwcur - 1. */
UNM_HIDDEN void vu_vq_to_port(struct unm_port *p, struct unm_kring *kr);
/* Guest TX vq, in place: up to MAX plain frames from the next avail entry
 * into PL (pointers into guest memory, validated), their count; 0 when
 * the next is not plain (vu_vq_to_port takes it). Lock held until
 * vu_vq_pull_done, which returns the first N to the guest. */
UNM_HIDDEN unsigned vu_vq_pull(struct unm_port *p, struct unm_kring *kr, struct unm_pull *pl,
			       unsigned max);
UNM_HIDDEN void vu_vq_pull_done(struct unm_port *p, const struct unm_pull *pl, unsigned n);
/* Port TX ring [kr->hwcur, head) -> guest RX vq; advances kr->hwcur. */
UNM_HIDDEN void vu_port_to_vq(struct unm_port *p, struct unm_kring *kr, uint32_t head);

/* ---- the device (one per port) ------------------------------------------ */

struct vu_dev {
	pthread_mutex_t lock;
	struct unm_port *port;
	char path[UNM_PATH_MAX];
	bool client;                /* we connect (UNM_VHOST_CLIENT=1) */
	int listen_fd;              /* server mode, -1 in client mode */
	int given_fd;               /* a listening socket handed over
	                               (unm_open_fd), or -1: its path is
	                               not ours to create or remove */
	struct unm_usock_file sock_file; /* the socket file we bound: removed
	                               on close if it is still that file */
	int conn_fd;                /* the frontend, -1 when disconnected */
	int timer_fd;               /* client mode: reconnect tick */
	/* message reassembly (a message may arrive in pieces) */
	uint8_t buf[VU_HDR_SIZE + VU_MAX_PAYLOAD];
	uint32_t have;              /* bytes of buf filled */
	int fds[VU_MAX_FDS];
	unsigned nfds;
	/* negotiated state */
	uint64_t offered, features, proto_features;
	bool features_set;
	unsigned guest_hdr_len;     /* 10 or 12 */
	unsigned port_hdr_len;      /* 0, 10 or 12 (@conf:vnet=) */
	struct vu_mem mem;
	struct vu_vq vq[VU_NVQ];
	/* counters beyond unm_port_stats */
	uint64_t connects, disconnects, msgs, bad_msgs, calls, kicks_seen;
	uint64_t last_ctl_ns;       /* last control poll from a sync */
	uint32_t tx_head;           /* TX ring head at the last txsync */
	/* kick policy (vhost_user.c) */
	int idle_fd;                /* one-shot timer: a waiter may sleep */
	bool idle_pending;
	uint64_t idle_deadline;
	bool waiting[VU_NVQ];       /* a blocked ring waits on this vq */
};

/* vhost_msg.c: the control connection. */
UNM_HIDDEN int vu_ctl_open(struct vu_dev *d, char *why, size_t whylen);
/* Accept/connect, read and handle every complete message; never blocks. */
UNM_HIDDEN void vu_ctl_poll(struct vu_dev *d);
/* Drop the connection and everything negotiated over it. */
UNM_HIDDEN void vu_ctl_disconnect(struct vu_dev *d, const char *why);
UNM_HIDDEN void vu_ctl_close(struct vu_dev *d);

/* A device is live when connected; the vq says whether it runs. */
static inline bool vu_connected(const struct vu_dev *d)
{
	return d->conn_fd >= 0;
}

#endif /* UNM_VHOST_USER_H */
