/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * net/netmap_user.h - netmap's application helpers, for programs written
 * against netmap that run over unetmap (see unm-netmap(7)).
 *
 * Written for unetmap from netmap's documented API; nothing here is
 * netmap's code. Build with
 *     cc app.c $(pkg-config --cflags --libs unm-netmap)
 * libunm-netmap then serves the descriptors it hands out: open() of
 * NETMAP_DEVICE_NAME, ioctl() (NIOCCTRL, NIOCREGIF, NIOCGINFO, NIOCTXSYNC,
 * NIOCRXSYNC), mmap()/munmap(), poll()/ppoll() and close() behave as
 * on netmap; every other descriptor passes through to the C library.
 *
 * With NETMAP_WITH_LIBS defined, the legacy pcap-like API (nm_open() and
 * friends) is declared; it lives in libunm-netmap instead of being static
 * code in this header.
 */
#ifndef _NET_NETMAP_USER_H_
#define _NET_NETMAP_USER_H_

#define NETMAP_DEVICE_NAME "/dev/netmap"

#include <stdint.h>
#include <sys/socket.h>
#include <net/if.h>
#include <ctype.h>
#include <string.h>
#include <sys/time.h>
#include <stdio.h>

#ifndef likely
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

#include <net/netmap.h>

#define _NETMAP_OFFSET(type, ptr, offset) \
	((type)(void *)((char *)(ptr) + (offset)))

/* The netmap_if at offset _ofs of the region mapped at _base. */
#define NETMAP_IF(_base, _ofs) _NETMAP_OFFSET(struct netmap_if *, _base, _ofs)

/* TX ring index of a netmap_if (0 .. ni_tx_rings - 1). */
#define NETMAP_TXRING(nifp, index) _NETMAP_OFFSET(struct netmap_ring *, \
	nifp, (nifp)->ring_ofs[index])

/* RX ring index of a netmap_if: RX rings follow every TX ring. */
#define NETMAP_RXRING(nifp, index) _NETMAP_OFFSET(struct netmap_ring *, \
	nifp, (nifp)->ring_ofs[(index) + (nifp)->ni_tx_rings + (nifp)->ni_host_tx_rings])

/* Address of buffer index of ring's pool, and its inverse. */
#define NETMAP_BUF(ring, index) \
	((char *)(ring) + (ring)->buf_ofs + ((size_t)(index) * (ring)->nr_buf_size))
#define NETMAP_BUF_IDX(ring, buf) \
	(((char *)(buf) - ((char *)(ring) + (ring)->buf_ofs)) / (ring)->nr_buf_size)

/* Buffer offsets (offset_mask is 0 over unetmap: the offset is always 0). */
#define NETMAP_ROFFSET(ring, slot) ((slot)->ptr & (ring)->offset_mask)
#define NETMAP_WOFFSET(ring, slot, offset) \
	do { (slot)->ptr = ((slot)->ptr & ~(ring)->offset_mask) | \
		((offset) & (ring)->offset_mask); } while (0)
#define NETMAP_BUF_OFFSET(ring, slot) \
	(NETMAP_BUF(ring, (slot)->buf_idx) + NETMAP_ROFFSET(ring, slot))

/* Slot after i, wrapping at num_slots. */
static inline uint32_t nm_ring_next(struct netmap_ring *r, uint32_t i)
{
	return unlikely(i + 1 == r->num_slots) ? 0 : i + 1;
}

/* TX: true while slots handed to the port have not completed. */
static inline int nm_tx_pending(struct netmap_ring *r)
{
	return nm_ring_next(r, r->tail) != r->head;
}

/* Slots the application owns: TX free slots, RX received slots. */
static inline uint32_t nm_ring_space(struct netmap_ring *ring)
{
	int ret = (int)(ring->tail - ring->head);

	if (ret < 0)
		ret += (int)ring->num_slots;
	return (uint32_t)ret;
}

/* Debug macros: D() prints a time-stamped line with function and line to
 * stderr, RD() at most lps lines per second per call site, ND() nothing. */
#ifndef ND
#define ND(_fmt, ...) do {} while (0)
#define D(_fmt, ...) \
	do { \
		struct timeval _t0; \
		gettimeofday(&_t0, NULL); \
		fprintf(stderr, "%03d.%06d %s [%d] " _fmt "\n", \
			(int)(_t0.tv_sec % 1000), (int)_t0.tv_usec, \
			__func__, __LINE__, ##__VA_ARGS__); \
	} while (0)
#define RD(lps, _fmt, ...) \
	do { \
		static int __t0, __cnt; \
		struct timeval __xxts; \
		gettimeofday(&__xxts, NULL); \
		if (__t0 != __xxts.tv_sec) { \
			__t0 = (int)__xxts.tv_sec; \
			__cnt = 0; \
		} \
		if (__cnt++ < lps) \
			D(_fmt, ##__VA_ARGS__); \
	} while (0)
#endif

/*
 * Copy a packet between buffers: 64-byte words when l is a multiple of 64
 * below 1024 (the caller must allow the copy to round up to 64 bytes),
 * memcpy() otherwise.
 */
static inline void nm_pkt_copy(const void *_src, void *_dst, int l)
{
	const uint64_t *src = (const uint64_t *)_src;
	uint64_t *dst = (uint64_t *)_dst;

	if (unlikely(l >= 1024 || l % 64)) {
		memcpy(dst, src, (size_t)l);
		return;
	}
	for (; likely(l > 0); l -= 64) {
		for (int w = 0; w < 8; w++)
			*dst++ = *src++;
	}
}

#ifdef NETMAP_WITH_LIBS
#ifndef HAVE_NETMAP_WITH_LIBS
#define HAVE_NETMAP_WITH_LIBS

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nm_desc;

/* Per-packet header handed to nm_dispatch() callbacks and nm_nextpkt()
 * (its first part is pcap_pkthdr's). */
struct nm_pkthdr {
	struct timeval ts;
	uint32_t caplen;
	uint32_t len;
	uint64_t flags;            /* NM_MORE_PKTS */
#define NM_MORE_PKTS 1
	struct nm_desc *d;
	struct netmap_slot *slot;
	uint8_t *buf;
};

struct nm_stat {
	u_int ps_recv;
	u_int ps_drop;
	u_int ps_ifdrop;
};

#define NM_ERRBUF_SIZE 512
#define MAXERRMSG 80 /* size of the error buffer nm_parse() writes */

/* A port opened by nm_open(). Read-only for the application except the
 * cur_*_ring cursors. */
struct nm_desc {
	struct nm_desc *self;      /* == the descriptor: IS_NETMAP_DESC() */
	int fd;
	void *mem;                 /* region mapping */
	size_t memsize;
	int done_mmap;
	struct netmap_if * const nifp;
	uint16_t first_tx_ring, last_tx_ring, cur_tx_ring; /* inclusive range */
	uint16_t first_rx_ring, last_rx_ring, cur_rx_ring;
	struct nmreq req;          /* the request as registered (nr_name, ...) */
	struct nm_pkthdr hdr;
	struct netmap_ring * const some_ring;
	void * const buf_start;
	void * const buf_end;
	int snaplen;
	int promisc;
	int to_ms;
	char *errbuf;
	uint32_t if_flags;
	uint32_t if_reqcap;
	uint32_t if_curcap;
	struct nm_stat st;
	char msg[NM_ERRBUF_SIZE];
};

#define P2NMD(p)          ((const struct nm_desc *)(p))
#define IS_NETMAP_DESC(d) ((d) && P2NMD(d)->self == P2NMD(d))
#define NETMAP_FD(d)      (P2NMD(d)->fd)

typedef void (*nm_cb_t)(u_char *, const struct nm_pkthdr *, const u_char *d);

/* nm_open() flags (besides NETMAP_NO_TX_POLL and NETMAP_DO_RX_POLL). */
enum {
	NM_OPEN_NO_MMAP  = 0x040000, /* share the parent's mapping */
	NM_OPEN_IFNAME   = 0x080000, /* take nr_name, nr_ringid, nr_flags from parent */
	NM_OPEN_ARG1     = 0x100000,
	NM_OPEN_ARG2     = 0x200000,
	NM_OPEN_ARG3     = 0x400000,
	NM_OPEN_RING_CFG = 0x800000, /* ring and slot counts from req/parent */
};

/*
 * nm_open - open port IFNAME ("netmap:IF", "valeX:Y", "netmap:pipe{N", with
 * the -N ^ * / @ suffixes), optionally taking fields of REQ (ring
 * configuration) and PARENT as FLAGS say. Returns a descriptor or NULL with
 * errno set (the reason is also printed on stderr).
 */
struct nm_desc *nm_open(const char *ifname, const struct nmreq *req,
			uint64_t flags, const struct nm_desc *arg);

/* nm_close - unbind and free D. Returns 0, or EINVAL if D is not one. */
int nm_close(struct nm_desc *d);

/* nm_mmap - map D's region (done by nm_open() unless NM_OPEN_NO_MMAP). */
int nm_mmap(struct nm_desc *d, const struct nm_desc *parent);

/* nm_inject - copy one packet into the next free TX slot (rotating over
 * the bound rings). Returns SIZE, or 0 if every ring is full. No sync. */
int nm_inject(struct nm_desc *d, const void *buf, size_t size);

/* nm_dispatch - call CB for up to CNT received packets (all if CNT <= 0),
 * releasing their slots. Returns the count. No sync. */
int nm_dispatch(struct nm_desc *d, int cnt, nm_cb_t cb, u_char *arg);

/* nm_nextpkt - the next received packet (filling *HDR) or NULL. No sync. */
u_char *nm_nextpkt(struct nm_desc *d, struct nm_pkthdr *hdr);

/* nm_parse - parse IFNAME into D->req and the ring range (nm_open's first
 * step). Returns 0, or -1 with the reason in ERR (at least 80 bytes). */
int nm_parse(const char *ifname, struct nm_desc *d, char *err);

#ifdef __cplusplus
}
#endif
#endif /* !HAVE_NETMAP_WITH_LIBS */
#endif /* NETMAP_WITH_LIBS */

#endif /* _NET_NETMAP_USER_H_ */
