/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unm/shm.h - the shared-memory ABI of unetmap: region header, port
 * descriptor (unm_if), ring, slot, CSB and pipe control blocks.
 *
 * Everything here is mapped by more than one process (and later by a VM),
 * each at its own address, so nothing in a region is a pointer: the header
 * locates port descriptors by offset from the region start, a descriptor
 * locates its rings by offset from itself, a ring locates the buffer pool by
 * offset from itself, and a slot names its buffer by index.
 *
 *   region (memfd)
 *   +--------------------+ 0
 *   | unm_region_hdr     |  magic, version, sizes, offsets
 *   +--------------------+ if_ofs[0]
 *   | unm_if (port 0)    |  name, ring counts, ring_ofs[] (from this unm_if)
 *   +--------------------+ if_ofs[1] (pipes: the second end)
 *   | unm_if (port 1)    |
 *   +--------------------+ ring_ofs[..]
 *   | unm_ring + slots[] |  one per ring; buf_ofs = pool - ring
 *   | ...                |
 *   +--------------------+ csb_ofs
 *   | CSB / pipe control |  64-byte entries, each written by one side only
 *   +--------------------+ buf_pool_ofs
 *   | buffer 0, 1        |  reserved: index 0 and 1 are never valid
 *   | buffer 2 ... N-1   |  buf_size bytes each
 *   +--------------------+ size
 *
 * unm_if, unm_ring and unm_slot are laid out byte for byte like netmap's
 * struct netmap_if, netmap_ring and netmap_slot (pinned by the static
 * asserts at the end), so netmap's own inline helpers work on our rings.
 *
 * Version: UNM_SHM_VERSION changes whenever any size or offset here changes;
 * it is independent of the library's SONAME.
 *
 * Trust: whoever maps a region can write all of it. Every reader of a
 * region written by another process validates what it reads (see
 * unm_region_validate() and the sync code); the fields tagged W:/R: below
 * say who is expected to write and read each one.
 */
#ifndef UNM_SHM_H
#define UNM_SHM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * C++ has static_assert instead of _Static_assert and no flexible array
 * members; g++ and clang++ accept those as an extension, marked (g++) or
 * silenced (clang++) so that the header stays clean under -pedantic.
 */
#ifdef __cplusplus
#define UNM__STATIC_ASSERT(c, m) static_assert(c, m)
#define UNM__FLEX __extension__
#ifdef __clang__
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wc99-extensions"
#endif
#else
#define UNM__STATIC_ASSERT(c, m) _Static_assert(c, m)
#define UNM__FLEX
#endif

#define UNM_REGION_MAGIC   0x524d4e55u /* "UNMR" little-endian */
#define UNM_SHM_VERSION    1
#define UNM_REGION_MAX_IFS 2           /* a pipe region holds both ends */
#define UNM_CACHELINE      64

/* Limits enforced when a region is created and when one is mapped. */
#define UNM_MAX_RINGS      16          /* per direction */
#define UNM_MIN_SLOTS      64
#define UNM_MAX_SLOTS      4096        /* any value in between; not a power of 2 */
#define UNM_MIN_BUF_SIZE   64
#define UNM_MAX_BUF_SIZE   65536
#define UNM_DEF_BUF_SIZE   2048
/* A pipe's default: one cache line over 2048, so buffer i starts 33 lines
 * after buffer i-1. At a power-of-two stride the first line of every
 * buffer (all a short frame touches) falls into 1/32 of the cache's sets
 * and the frames in flight on a pipe's two rings (2,048 lines) overflow
 * those sets; at an odd count of lines they use every set, and a copy's
 * source and destination no longer share their low 12 address bits. */
#define UNM_PIPE_DEF_BUF_SIZE (UNM_DEF_BUF_SIZE + UNM_CACHELINE)
#define UNM_DEF_SLOTS      1024
#define UNM_MAX_FRAGS      64          /* slots in one MOREFRAG chain */
#define UNM_MAX_FRAME      65535       /* bytes in one frame (all fragments) */
#define UNM_IFNAMSIZ       16

/* Slot flags: netmap's values where netmap has the meaning. */
#define UNM_NS_BUF_CHANGED 0x0001 /* buf_idx was replaced (swap) */
#define UNM_NS_REPORT      0x0002 /* ask for a completion report (TX) */
#define UNM_NS_FORWARD     0x0004 /* pass to the peer ring (netmap host rings) */
#define UNM_NS_NO_LEARN    0x0008 /* VALE: do not learn the source MAC */
#define UNM_NS_INDIRECT    0x0010 /* data at user address ptr (not supported: dropped) */
#define UNM_NS_MOREFRAG    0x0020 /* frame continues in the next slot */
#define UNM_NS_TXMON       0x0040 /* monitor: copy of a TX frame */
#define UNM_NS_PORT_SHIFT  8
#define UNM_NS_PORT_MASK   0xff00

/* Ring flags (unm_ring.flags), netmap's values. */
#define UNM_NR_TIMESTAMP   0x0002 /* update ts on every sync */
#define UNM_NR_FORWARD     0x0004

/* unm_if.ni_flags */
#define UNM_NI_PRIV_MEM    0x1    /* the region is private to this port */

/* Slot: 16 bytes, netmap_slot. W: the ring's current owner (see unm_ring). */
struct unm_slot {
	uint32_t buf_idx;  /* buffer index in the region's pool; 0 and 1 invalid */
	uint16_t len;      /* bytes in this slot's buffer (this fragment) */
	uint16_t flags;    /* UNM_NS_* */
	uint64_t ptr;      /* INDIRECT address or aux data; never a region pointer */
};

/*
 * Ring: 256-byte header then num_slots slots (netmap_ring).
 *
 * Ownership (netmap's rule): slots [head, tail) and their buffers belong to
 * the application, [tail, head) to the port. Indexes run 0..num_slots-1 and
 * wrap (not free-running); one slot is always left empty.
 *   TX: the application fills slots from head and advances head (and cur);
 *       txsync hands [old head, head) to the port and moves tail forward
 *       over slots whose transmission completed.
 *   RX: rxsync releases [old head, head) to the port and moves tail forward
 *       over newly received slots.
 * cur is the wake-up point: a port is "blocked" while cur == tail.
 * head and cur: W:app R:port.  tail: W:port R:app.  The const fields are
 * written once when the region is built.
 */
struct unm_ring {
	const int64_t  buf_ofs;     /* pool start minus this ring's address */
	const uint32_t num_slots;
	const uint32_t nr_buf_size;
	const uint16_t ringid;
	const uint16_t dir;         /* 0 = TX, 1 = RX */
	uint32_t head;
	uint32_t cur;
	uint32_t tail;
	uint32_t flags;             /* UNM_NR_* */
	uint32_t __pad0;
	struct timeval ts;          /* time of the last sync (UNM_NR_TIMESTAMP) */
	const uint64_t offset_mask; /* always 0: buffer offsets are not used */
	const uint64_t buf_align;
	uint8_t __pad1[56];
	uint8_t sem[128];           /* opaque, unused */
	UNM__FLEX struct unm_slot slot[];
};

/* Port descriptor: 56 bytes then ring_ofs[] (netmap_if). */
struct unm_if {
	char           ni_name[UNM_IFNAMSIZ];
	const uint32_t ni_version;       /* UNM_SHM_VERSION */
	const uint32_t ni_flags;         /* UNM_NI_* */
	const uint32_t ni_tx_rings;
	const uint32_t ni_rx_rings;
	uint32_t       ni_bufs_head;     /* extra buffers, chained by first u32 */
	const uint32_t ni_host_tx_rings; /* always 0 */
	const uint32_t ni_host_rx_rings; /* always 0 */
	uint32_t       ni_spare1[3];
	UNM__FLEX const int64_t ring_ofs[];       /* TX rings then RX rings, from this unm_if */
};

/* Kinds of region (unm_region_hdr.kind). */
#define UNM_REGION_PIPE 1 /* two ends, pipe control blocks */
#define UNM_REGION_PORT 2 /* one port served through a CSB (unmd, VMs) */
#define UNM_REGION_SELF 3 /* one port driven in-process (backends) */

/* Region header: 256 bytes at offset 0. Written once by the creator. */
struct unm_region_hdr {
	uint32_t magic;                          /* UNM_REGION_MAGIC */
	uint16_t version;                        /* UNM_SHM_VERSION */
	uint16_t hdr_size;                       /* sizeof(struct unm_region_hdr) */
	uint64_t size;                           /* bytes in the region */
	uint32_t kind;                           /* UNM_REGION_* */
	uint32_t n_ifs;                          /* 1..UNM_REGION_MAX_IFS */
	uint64_t if_ofs[UNM_REGION_MAX_IFS];     /* from region start */
	uint64_t csb_ofs;                        /* from region start, 0 = none */
	uint32_t csb_entries;                    /* 64-byte entries at csb_ofs */
	uint32_t buf_size;                       /* bytes per buffer */
	uint64_t buf_pool_ofs;                   /* from region start */
	uint32_t buf_count;                      /* buffers, 0 and 1 included */
	uint32_t vnet_hdr_len;                   /* 0, 10 or 12 */
	uint8_t  mac[6];                         /* port MAC (informational) */
	uint16_t mtu;
	uint32_t flags;
	uint8_t  __pad[256 - 84];
};

/*
 * CSB (Communication Status Block), one pair per ring, TX rings first.
 * Entry r of a port region lives at csb_ofs + r * 128: the a2h half in the
 * first cache line, h2a in the second, so the two writers never share a
 * line. Field semantics are netmap's nm_csb_atok / nm_csb_ktoa.
 */
struct unm_csb_a2h {                 /* application -> host */
	uint32_t head;               /* W:app R:host  [A1] release / [H1] acquire */
	uint32_t cur;                /* W:app R:host  written before head */
	uint32_t appl_need_kick;     /* W:app R:host  app sleeps: interrupt it
	                              * (the host exchanges it to 0 as it does) */
	uint32_t sync_flags;         /* W:app R:host  reserved */
	uint32_t __pad[12];
};

struct unm_csb_h2a {                 /* host -> application */
	uint32_t hwcur;              /* W:host R:app */
	uint32_t hwtail;             /* W:host R:app  [H2] release / [A2] acquire */
	uint32_t kern_need_kick;     /* W:host R:app  host sleeps: kick it */
	uint32_t host_flags;         /* W:host R:app  UNM_CSB_F_* */
	uint32_t __pad[12];
};

#define UNM_CSB_F_ERROR 0x1          /* host marked this port as errored */
#define UNM_CSB_F_GONE  0x2          /* monitor: the monitored port went away */

struct unm_csb {
	struct unm_csb_a2h a2h;
	struct unm_csb_h2a h2a;
};

/*
 * Pipe control: one block per direction of each ring pair. Direction d of
 * pair i moves frames from one end's TX ring i into the other end's RX ring
 * i. Block index: 2 * i + (0 for master->slave, 1 for slave->master).
 * The producer (TX end) owns the first line, the consumer (RX end) the
 * second. Indexes are the consumer RX ring's slot indexes (0..num_slots-1).
 * Each side validates what it reads from the other (lib/pipe.c); tags are
 * listed in docs/ordering.md.
 */
struct unm_pipe_ctl {
	/* W:producer R:consumer */
	uint32_t rx_hwtail;          /* RX slots [.., rx_hwtail) filled: [P1] release / [C1] acquire */
	uint32_t prod_need_wake;     /* producer sleeps waiting for space: set, [P4] fence, re-check */
	uint32_t prod_state;         /* UNM_PIPE_* of the producer end (informational) */
	uint32_t __pad0[13];
	/* W:consumer R:producer */
	uint32_t rx_hwcur;           /* RX slots [.., rx_hwcur) released: [C2] release / [P2] acquire */
	uint32_t cons_need_wake;     /* consumer sleeps waiting for frames: set, [C4] fence, re-check */
	uint32_t cons_state;         /* UNM_PIPE_* of the consumer end (informational) */
	uint32_t __pad1[13];
};

#define UNM_PIPE_OPEN   1
#define UNM_PIPE_CLOSED 2

/*
 * Zero-copy monitor of a pipe end (NAME{ID/z, lib/pipe.c + lib/zmon.c).
 * The monitored end (the producer of the direction) creates one sealed
 * memfd per attached monitor, separate from the pipe region: for each of
 * its TX rings, this 128-byte control block immediately followed by the
 * monitor RX ring (256-byte header + one slot per TX ring slot, no
 * buffers of its own: the slots alias the producer's buffers in the pipe
 * region). Monitor ring indexes are the TX ring's shifted by the TX index
 * at attach time (private to the producer). The producer owns the first
 * line, the monitor the second; each validates what it reads.
 */
struct unm_zmon_ctl {
	/* W:producer R:monitor */
	uint32_t m_hwtail;           /* monitor slots [.., m_hwtail) filled: [Z1] release / [Z2] acquire */
	uint32_t prod_need_wake;     /* producer sleeps waiting for releases: set, [Z8] fence, re-check */
	uint32_t __pad0[14];
	/* W:monitor R:producer */
	uint32_t m_hwcur;            /* slots [.., m_hwcur) released: [Z3] release / [Z4] acquire */
	uint32_t mon_need_wake;      /* monitor sleeps waiting for frames: set, [Z6] fence, re-check */
	uint32_t __pad1[14];
};

/*
 * Trust domain of a switch (UNM_REGION_DOMAIN; lib/domain.c, daemon/domain.c,
 * docs/architecture.md "Trust domains"). One region per domain, made by
 * unmd and mapped by every member: the region header (buf_size,
 * buf_pool_ofs, buf_count), then at offset 256 this domain header, then
 * the learning table, then max_members member blocks of member_size bytes
 * each, then the buffer pool. Everything is placed by unm_dom_layout()
 * from (max_members, nslots, buf_size) alone: a mapper recomputes the
 * layout and compares, it never follows an offset it read. Each member
 * block holds its control lines (struct unm_dom_member), its unm_if and
 * three rings: TX and RX (the port's rings) and UP (member -> unmd: frames
 * for ports outside the domain). Buffers move between rings by swap.
 *
 * Everything in a domain region can be written by every member: members
 * trust each other for data and liveness (that is what joining means);
 * unmd trusts nothing in it and validates every index it reads.
 */
#define UNM_REGION_DOMAIN  4
#define UNM_DOM_MAGIC      0x4d4f4455u /* "UDOM" */
#define UNM_DOM_MAX_MEMBERS 16
#define UNM_DOM_UPLINK     UNM_DOM_MAX_MEMBERS /* lookup result: through unmd */
#define UNM_DOM_LT_WAYS    4
#define UNM_DOM_WAIT_UNMD  0x80000000u /* wait_mask bit: unmd waits for room */

struct unm_dom_hdr {                 /* at offset 256; written by unmd only */
	uint32_t magic;              /* UNM_DOM_MAGIC */
	uint32_t max_members;
	uint32_t nslots;             /* every ring of every member */
	uint32_t buf_size;
	uint32_t lt_buckets;         /* power of two, UNM_DOM_LT_WAYS entries each */
	uint32_t member_size;
	uint64_t lt_ofs, members_ofs;
	uint32_t lossless;           /* switch mode, rewritten on change */
	uint32_t outside;            /* the switch has ports outside this domain */
	uint8_t  __pad[256 - 48];
};

/* Learning table entry: key = MAC (48 bits) | (member + 1) << 48, 0 = empty. */
struct unm_dom_lt_ent {
	uint64_t key;
	uint32_t seen_ms;            /* CLOCK_MONOTONIC ms of the last frame */
	uint32_t __pad;
};

/*
 * A member block's control lines. RX ring: any member (or unmd) that
 * holds the claim writes its slots [rx_hwtail, ..) and publishes
 * rx_hwtail; the owner consumes and publishes rx_hwcur. The claim token
 * and rx_hwtail are one 64-bit word, ctail (token in the low 32 bits,
 * rx_hwtail in the high 32; lib/domain.h packs it), changed only by
 * compare-and-swap: claiming sets the token where it is 0, publishing
 * stores the new tail and token 0 in one CAS that fails if the word is
 * not the one the claim made, so a holder whose claim was cleared under
 * it never publishes. A token is 0 (free) or the holder's (member
 * tokens: (gen << 8) | (index + 1); unmd's 0xffffffff); unmd clears the
 * claims of a member whose process is gone and tokens no member has,
 * never a live member's. UP ring: the member produces (up_hwtail),
 * unmd consumes (up_hwcur).
 */
struct unm_dom_member {
	/* W:unmd */
	uint32_t token;              /* occupant's token, 0 = free slot */
	uint32_t pid;
	uint32_t port_idx;           /* its index on the switch */
	/* zero-copy RX monitors (daemon/domain.c vdom_mon_create): in a
	 * monitored member's block, rx_mon = the monitor's index + 1 (0:
	 * none); in a monitor's block, mon_of = the monitored member's
	 * index + 1 (a monitor is never a destination) and mon_gone = 1 once
	 * the monitored port left. */
	uint32_t rx_mon, mon_of, mon_gone;
	uint32_t __pad0[10];
	/* W:claim holder (producers of the RX ring), by CAS only */
	uint64_t ctail;              /* token | rx_hwtail << 32; [D1] / [D2] */
	uint32_t __pad1[14];
	/* W:producers waiting for room (lossless), cleared by the owner */
	uint32_t wait_mask;          /* bit i: member i; UNM_DOM_WAIT_UNMD */
	uint32_t __pad2[15];
	/* W:owner (consumer of the RX ring) */
	uint32_t rx_hwcur;           /* [D3] release / [D4] acquire */
	uint32_t cons_need_wake;     /* set, [D5] fence, re-read rx_hwtail */
	uint32_t __pad3[14];
	/* W:owner (producer of UP) */
	uint32_t up_hwtail;
	uint32_t up_wait;            /* owner waits for unmd to release UP slots */
	uint32_t __pad4[14];
	/* W:unmd (consumer of UP) */
	uint32_t up_hwcur;
	uint32_t up_need_kick;       /* unmd sleeps: kick it after publishing */
	uint32_t __pad5[14];
	/* W:owner: counters of frames unmd never sees (informational) */
	uint64_t tx_frames, tx_bytes, tx_local, tx_up, tx_drops, rx_frames;
	uint64_t tx_lost;            /* swapped in, not published: claim lost */
	/* frames handed to the zero-copy RX monitor after their release /
	 * released but not handed (its ring full or busy, buffer taken) */
	uint64_t mon_handed;
	uint64_t mon_drops;
	uint8_t  __pad7[1024 - 456];
};

/* Layout pins: changing any of these is an UNM_SHM_VERSION bump. */
#define UNM__PIN(t, f, o) UNM__STATIC_ASSERT(offsetof(t, f) == (o), #t "." #f)
UNM__STATIC_ASSERT(sizeof(struct unm_slot) == 16, "unm_slot size");
UNM__PIN(struct unm_slot, buf_idx, 0);
UNM__PIN(struct unm_slot, len, 4);
UNM__PIN(struct unm_slot, flags, 6);
UNM__PIN(struct unm_slot, ptr, 8);
UNM__STATIC_ASSERT(sizeof(struct unm_ring) == 256, "unm_ring size");
UNM__PIN(struct unm_ring, buf_ofs, 0);
UNM__PIN(struct unm_ring, num_slots, 8);
UNM__PIN(struct unm_ring, nr_buf_size, 12);
UNM__PIN(struct unm_ring, ringid, 16);
UNM__PIN(struct unm_ring, dir, 18);
UNM__PIN(struct unm_ring, head, 20);
UNM__PIN(struct unm_ring, cur, 24);
UNM__PIN(struct unm_ring, tail, 28);
UNM__PIN(struct unm_ring, flags, 32);
UNM__PIN(struct unm_ring, ts, 40);
UNM__PIN(struct unm_ring, offset_mask, 56);
UNM__PIN(struct unm_ring, buf_align, 64);
UNM__PIN(struct unm_ring, sem, 128);
UNM__PIN(struct unm_ring, slot, 256);
UNM__STATIC_ASSERT(sizeof(struct unm_if) == 56, "unm_if size");
UNM__PIN(struct unm_if, ni_version, 16);
UNM__PIN(struct unm_if, ni_flags, 20);
UNM__PIN(struct unm_if, ni_tx_rings, 24);
UNM__PIN(struct unm_if, ni_rx_rings, 28);
UNM__PIN(struct unm_if, ni_bufs_head, 32);
UNM__PIN(struct unm_if, ni_host_tx_rings, 36);
UNM__PIN(struct unm_if, ni_host_rx_rings, 40);
UNM__PIN(struct unm_if, ring_ofs, 56);
UNM__STATIC_ASSERT(sizeof(struct unm_region_hdr) == 256, "unm_region_hdr size");
UNM__PIN(struct unm_region_hdr, if_ofs, 24);
UNM__PIN(struct unm_region_hdr, csb_ofs, 40);
UNM__PIN(struct unm_region_hdr, buf_pool_ofs, 56);
UNM__PIN(struct unm_region_hdr, mac, 72);
UNM__STATIC_ASSERT(sizeof(struct unm_csb_a2h) == 64, "csb a2h");
UNM__STATIC_ASSERT(sizeof(struct unm_csb_h2a) == 64, "csb h2a");
UNM__STATIC_ASSERT(sizeof(struct unm_pipe_ctl) == 128, "pipe ctl");
UNM__PIN(struct unm_pipe_ctl, rx_hwcur, 64);
UNM__STATIC_ASSERT(sizeof(struct unm_zmon_ctl) == 128, "zmon ctl");
UNM__PIN(struct unm_zmon_ctl, m_hwcur, 64);
UNM__STATIC_ASSERT(sizeof(struct unm_dom_hdr) == 256, "dom hdr");
UNM__STATIC_ASSERT(sizeof(struct unm_dom_lt_ent) == 16, "dom lt entry");
UNM__STATIC_ASSERT(sizeof(struct unm_dom_member) == 1024, "dom member");
UNM__PIN(struct unm_dom_member, ctail, 64);
UNM__PIN(struct unm_dom_member, rx_hwcur, 192);
UNM__PIN(struct unm_dom_member, up_hwcur, 320);

#if defined(__cplusplus) && defined(__clang__)
#pragma clang diagnostic pop
#endif
#ifdef __cplusplus
}
#endif
#endif /* UNM_SHM_H */
