/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * net/netmap.h - netmap's data structures and control API, for programs
 * written against netmap that run over unetmap (see unm-netmap(7)).
 *
 * Written for unetmap from netmap's documented API (version 14): the names,
 * values and layouts below are netmap's, so source written for netmap
 * compiles unchanged; nothing here is netmap's code. The three shared
 * structures are unetmap's own unm_slot, unm_ring and unm_if, which are laid
 * out byte for byte like netmap's; the static asserts at the end pin that.
 *
 * Control requests (NIOCCTRL, NIOCREGIF, NIOCGINFO) and syncs (NIOCTXSYNC,
 * NIOCRXSYNC) are served by libunm-netmap on the descriptors it hands out
 * (open("/dev/netmap") or nmport_open()); see net/netmap_user.h.
 */
#ifndef _NET_NETMAP_H_
#define _NET_NETMAP_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/time.h>
#include <sys/ioctl.h>
#ifndef IFNAMSIZ
#include <net/if.h>
#endif
#include <unm/shm.h>

#define NETMAP_API     14 /* API version this header describes */
#define NETMAP_MIN_API 14 /* versions accepted in nr_version */
#define NETMAP_MAX_API 15

#define NM_CACHE_ALIGN 128

/* ---- shared memory: slot, ring, interface descriptor ---------------- */

struct netmap_slot {
	uint32_t buf_idx; /* buffer index */
	uint16_t len;     /* bytes in this slot (this fragment) */
	uint16_t flags;   /* NS_* */
	uint64_t ptr;     /* user address for NS_INDIRECT (unsupported) */
};

#define NS_BUF_CHANGED 0x0001 /* buf_idx changed: set on every buffer swap */
#define NS_REPORT      0x0002 /* ask for a completion report (TX) */
#define NS_FORWARD     0x0004 /* pass to the host/NIC peer ring (no host rings here) */
#define NS_NO_LEARN    0x0008 /* VALE: do not learn the source MAC */
#define NS_INDIRECT    0x0010 /* data at user address ptr (unetmap drops it) */
#define NS_MOREFRAG    0x0020 /* the packet continues in the next slot */
#define NS_TXMON       0x0040 /* monitor: the packet came from a TX ring */
#define NS_PORT_SHIFT  8
#define NS_PORT_MASK   (0xff << NS_PORT_SHIFT)
#define NS_RFRAGS(_slot) (((_slot)->flags >> 8) & 0xff)
#define NETMAP_MAX_FRAGS 64

/*
 * Ring: slots [head, tail) belong to the application, the rest to the
 * port; one slot stays empty. The application writes head and cur, the
 * port writes tail, during a sync (ioctl NIOCTXSYNC/NIOCRXSYNC or poll).
 */
struct netmap_ring {
	const int64_t  buf_ofs;     /* buffer pool minus this ring's address */
	const uint32_t num_slots;   /* not necessarily a power of two */
	const uint32_t nr_buf_size;
	const uint16_t ringid;
	const uint16_t dir;         /* 0 = TX, 1 = RX */
	uint32_t       head;        /* (app) first slot owned by the app */
	uint32_t       cur;         /* (app) wake-up point */
	uint32_t       tail;        /* (port) first slot owned by the port */
	uint32_t       flags;       /* NR_TIMESTAMP, NR_FORWARD */
	struct timeval ts;          /* time of the last sync */
	const uint64_t offset_mask; /* always 0 here: no buffer offsets */
	const uint64_t buf_align;
	uint8_t __attribute__((__aligned__(NM_CACHE_ALIGN))) sem[128];
	struct netmap_slot slot[];
};

#define NR_TIMESTAMP 0x0002 /* update ts on every sync */
#define NR_FORWARD   0x0004 /* enable NS_FORWARD */

/* True when the application owns no slot of the ring. */
static inline int nm_ring_empty(struct netmap_ring *ring)
{
	return ring->head == ring->tail;
}

/* One per bound descriptor; ring_ofs[] in the order NIC TX, host TX, NIC
 * RX, host RX (unetmap has no host rings: ni_host_*_rings are 0). */
struct netmap_if {
	char           ni_name[IFNAMSIZ];
	const uint32_t ni_version;
	const uint32_t ni_flags;
#define NI_PRIV_MEM 0x1 /* private memory region */
	const uint32_t ni_tx_rings;
	const uint32_t ni_rx_rings;
	uint32_t       ni_bufs_head; /* extra buffers, chained by their first u32 */
	const uint32_t ni_host_tx_rings;
	const uint32_t ni_host_rx_rings;
	uint32_t       ni_spare1[3];
	const ssize_t  ring_ofs[];
};

#include <net/netmap_legacy.h>

/* ---- control API: NIOCCTRL ------------------------------------------- */

#define NETMAP_REQ_MAXSIZE 4096

struct nmreq_option {
	uint64_t nro_next;    /* pointer to the next option, 0 = last */
	uint32_t nro_reqtype; /* NETMAP_REQ_OPT_* */
	uint32_t nro_status;  /* (out) 0 or an errno */
	uint64_t nro_size;    /* size of the option body, for variable ones */
};

struct nmreq_header {
	uint16_t nr_version;  /* NETMAP_API */
	uint16_t nr_reqtype;  /* NETMAP_REQ_* */
	uint32_t nr_reserved; /* 0 */
#define NETMAP_REQ_IFNAMSIZ 64
	char     nr_name[NETMAP_REQ_IFNAMSIZ]; /* port name */
	uint64_t nr_options;  /* pointer to the first nmreq_option, 0 = none */
	uint64_t nr_body;     /* pointer to the request body */
};

enum {
	NETMAP_REQ_REGISTER = 1,
	NETMAP_REQ_PORT_INFO_GET,
	NETMAP_REQ_VALE_ATTACH,
	NETMAP_REQ_VALE_DETACH,
	NETMAP_REQ_VALE_LIST,
	NETMAP_REQ_PORT_HDR_SET,
	NETMAP_REQ_PORT_HDR_GET,
	NETMAP_REQ_VALE_NEWIF,
	NETMAP_REQ_VALE_DELIF,
	NETMAP_REQ_VALE_POLLING_ENABLE,
	NETMAP_REQ_VALE_POLLING_DISABLE,
	NETMAP_REQ_POOLS_INFO_GET,
	NETMAP_REQ_SYNC_KLOOP_START,
	NETMAP_REQ_SYNC_KLOOP_STOP,
	NETMAP_REQ_CSB_ENABLE,
};

enum {
	NETMAP_REQ_OPT_EXTMEM = 1,
	NETMAP_REQ_OPT_SYNC_KLOOP_EVENTFDS,
	NETMAP_REQ_OPT_CSB,
	NETMAP_REQ_OPT_SYNC_KLOOP_MODE,
	NETMAP_REQ_OPT_OFFSETS,
	NETMAP_REQ_OPT_MAX,
};

struct nmreq_register {
	uint64_t nr_offset;        /* (out) netmap_if offset in the region */
	uint64_t nr_memsize;       /* (out) region size */
	uint32_t nr_tx_slots;      /* (in: wish for a new port, out) */
	uint32_t nr_rx_slots;
	uint16_t nr_tx_rings;
	uint16_t nr_rx_rings;
	uint16_t nr_host_tx_rings; /* always 0 here */
	uint16_t nr_host_rx_rings;
	uint16_t nr_mem_id;        /* (out) region id */
	uint16_t nr_ringid;        /* ring for NR_REG_ONE_NIC / ONE_SW */
	uint32_t nr_mode;          /* NR_REG_* */
	uint32_t nr_extra_bufs;    /* (in/out) extra buffers */
	uint64_t nr_flags;         /* NR_* below */
#define NR_MONITOR_TX      0x100
#define NR_MONITOR_RX      0x200
#define NR_ZCOPY_MON       0x400
#define NR_EXCLUSIVE       0x800
#define NR_RX_RINGS_ONLY   0x2000
#define NR_TX_RINGS_ONLY   0x4000
#define NR_ACCEPT_VNET_HDR 0x8000
#define NR_DO_RX_POLL      0x10000
#define NR_NO_TX_POLL      0x20000
};

enum {
	NR_REG_DEFAULT = 0, /* legacy: the mode comes from nr_ringid */
	NR_REG_ALL_NIC = 1,
	NR_REG_SW = 2,      /* host rings: not available over unetmap */
	NR_REG_NIC_SW = 3,  /* idem */
	NR_REG_ONE_NIC = 4,
	NR_REG_PIPE_MASTER = 5,
	NR_REG_PIPE_SLAVE = 6,
	NR_REG_NULL = 7,
	NR_REG_ONE_SW = 8,  /* host rings: not available over unetmap */
};

#define NIOCCTRL   _IOWR('i', 151, struct nmreq_header)
#define NIOCTXSYNC _IO('i', 148)
#define NIOCRXSYNC _IO('i', 149)

struct nmreq_port_info_get {
	uint64_t nr_memsize;
	uint32_t nr_tx_slots;
	uint32_t nr_rx_slots;
	uint16_t nr_tx_rings;
	uint16_t nr_rx_rings;
	uint16_t nr_host_tx_rings;
	uint16_t nr_host_rx_rings;
	uint16_t nr_mem_id;
	uint16_t pad[3];
};

#define NM_BDG_NAME "vale"

struct nmreq_vale_attach {
	struct nmreq_register reg;
	uint32_t port_index;
	uint32_t pad1;
};

struct nmreq_vale_detach {
	uint32_t port_index;
	uint32_t pad1;
};

struct nmreq_vale_list {
	uint16_t nr_bridge_idx;
	uint16_t pad1;
	uint32_t nr_port_idx;
};

struct nmreq_port_hdr {
	uint32_t nr_hdr_len; /* virtio-net header length: 0, 10 or 12 */
	uint32_t pad1;
};

struct nmreq_vale_newif {
	uint32_t nr_tx_slots;
	uint32_t nr_rx_slots;
	uint16_t nr_tx_rings;
	uint16_t nr_rx_rings;
	uint16_t nr_mem_id;
	uint16_t pad1;
};

struct nmreq_vale_polling {
	uint32_t nr_mode;
#define NETMAP_POLLING_MODE_SINGLE_CPU 1
#define NETMAP_POLLING_MODE_MULTI_CPU  2
	uint32_t nr_first_cpu_id;
	uint32_t nr_num_polling_cpus;
	uint32_t pad1;
};

struct nmreq_pools_info {
	uint64_t nr_memsize;
	uint16_t nr_mem_id;
	uint16_t pad1[3];
	uint64_t nr_if_pool_offset;
	uint32_t nr_if_pool_objtotal;
	uint32_t nr_if_pool_objsize;
	uint64_t nr_ring_pool_offset;
	uint32_t nr_ring_pool_objtotal;
	uint32_t nr_ring_pool_objsize;
	uint64_t nr_buf_pool_offset;
	uint32_t nr_buf_pool_objtotal;
	uint32_t nr_buf_pool_objsize;
};

struct nmreq_sync_kloop_start {
	uint32_t sleep_us;
	uint32_t pad1;
};

/* CSB entries (64 bytes each), one per bound ring, TX rings first. */
struct nm_csb_atok {
	uint32_t head;
	uint32_t cur;
	uint32_t appl_need_kick;
	uint32_t sync_flags;
	uint32_t pad[12];
};

struct nm_csb_ktoa {
	uint32_t hwcur;
	uint32_t hwtail;
	uint32_t kern_need_kick;
	uint32_t pad[13];
};

static inline void nm_stst_barrier(void)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void nm_ldld_barrier(void)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
}

/* Application side of a CSB: publish cur before head, read hwtail before
 * hwcur (the order netmap's kernel loop pairs with). */
static inline void nm_sync_kloop_appl_write(struct nm_csb_atok *atok,
					    uint32_t cur, uint32_t head)
{
	nm_stst_barrier();
	__atomic_store_n(&atok->cur, cur, __ATOMIC_RELAXED);
	nm_stst_barrier();
	__atomic_store_n(&atok->head, head, __ATOMIC_RELAXED);
}

static inline void nm_sync_kloop_appl_read(struct nm_csb_ktoa *ktoa,
					   uint32_t *hwtail, uint32_t *hwcur)
{
	*hwtail = __atomic_load_n(&ktoa->hwtail, __ATOMIC_RELAXED);
	nm_ldld_barrier();
	*hwcur = __atomic_load_n(&ktoa->hwcur, __ATOMIC_RELAXED);
	nm_ldld_barrier();
}

struct nmreq_opt_sync_kloop_eventfds {
	struct nmreq_option nro_opt;
	struct {
		int32_t ioeventfd;
		int32_t irqfd;
	} eventfds[];
};

struct nmreq_opt_sync_kloop_mode {
	struct nmreq_option nro_opt;
#define NM_OPT_SYNC_KLOOP_DIRECT_TX (1 << 0)
#define NM_OPT_SYNC_KLOOP_DIRECT_RX (1 << 1)
	uint32_t mode;
};

struct nmreq_opt_extmem {
	struct nmreq_option nro_opt;
	uint64_t nro_usrptr;
	struct nmreq_pools_info nro_info;
};

struct nmreq_opt_csb {
	struct nmreq_option nro_opt;
	uint64_t csb_atok;
	uint64_t csb_ktoa;
};

struct nmreq_opt_offsets {
	struct nmreq_option nro_opt;
	uint64_t nro_max_offset;
	uint64_t nro_initial_offset;
	uint32_t nro_offset_bits;
	uint32_t nro_tx_align;
	uint64_t nro_min_gap;
};

/* ---- the shared structures are unetmap's ------------------------------ */
#ifdef __cplusplus
#define NM__ASSERT(c, m) static_assert(c, m)
#else
#define NM__ASSERT(c, m) _Static_assert(c, m)
#endif
#define NM__SAME(a, b, f) \
	NM__ASSERT(offsetof(struct a, f) == offsetof(struct b, f) && \
		   sizeof(((struct a *)0)->f) == sizeof(((struct b *)0)->f), #a "." #f)
NM__ASSERT(sizeof(struct netmap_slot) == sizeof(struct unm_slot), "netmap_slot size");
NM__SAME(netmap_slot, unm_slot, buf_idx);
NM__SAME(netmap_slot, unm_slot, len);
NM__SAME(netmap_slot, unm_slot, flags);
NM__SAME(netmap_slot, unm_slot, ptr);
NM__ASSERT(sizeof(struct netmap_ring) == sizeof(struct unm_ring), "netmap_ring size");
NM__SAME(netmap_ring, unm_ring, buf_ofs);
NM__SAME(netmap_ring, unm_ring, num_slots);
NM__SAME(netmap_ring, unm_ring, nr_buf_size);
NM__SAME(netmap_ring, unm_ring, ringid);
NM__SAME(netmap_ring, unm_ring, dir);
NM__SAME(netmap_ring, unm_ring, head);
NM__SAME(netmap_ring, unm_ring, cur);
NM__SAME(netmap_ring, unm_ring, tail);
NM__SAME(netmap_ring, unm_ring, flags);
NM__SAME(netmap_ring, unm_ring, ts);
NM__SAME(netmap_ring, unm_ring, offset_mask);
NM__SAME(netmap_ring, unm_ring, buf_align);
NM__SAME(netmap_ring, unm_ring, sem);
NM__ASSERT(offsetof(struct netmap_ring, slot) == offsetof(struct unm_ring, slot), "netmap_ring.slot");
NM__ASSERT(sizeof(struct netmap_if) == sizeof(struct unm_if), "netmap_if size");
NM__SAME(netmap_if, unm_if, ni_name);
NM__SAME(netmap_if, unm_if, ni_version);
NM__SAME(netmap_if, unm_if, ni_flags);
NM__SAME(netmap_if, unm_if, ni_tx_rings);
NM__SAME(netmap_if, unm_if, ni_rx_rings);
NM__SAME(netmap_if, unm_if, ni_bufs_head);
NM__SAME(netmap_if, unm_if, ni_host_tx_rings);
NM__SAME(netmap_if, unm_if, ni_host_rx_rings);
NM__ASSERT(offsetof(struct netmap_if, ring_ofs) == offsetof(struct unm_if, ring_ofs) &&
	   sizeof(ssize_t) == sizeof(int64_t), "netmap_if.ring_ofs");
NM__ASSERT(sizeof(struct nmreq_header) == 88, "nmreq_header size");
NM__ASSERT(sizeof(struct nmreq_register) == 56, "nmreq_register size");
NM__ASSERT(NETMAP_NO_TX_POLL == 0x1000 && NR_REG_MASK == 0xf, "legacy flags");
#undef NM__SAME
#undef NM__ASSERT

#endif /* _NET_NETMAP_H_ */
