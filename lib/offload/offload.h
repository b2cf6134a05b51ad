/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * offload.h - software offloads: Internet checksums, the virtio-net header
 * and segmentation of GSO frames. Internal API of libunm (not exported),
 * called by the switch and by backends that carry a vnet header (tap).
 *
 * Owns no state: every function works on the caller's buffers and on a
 * caller-owned iterator (struct unm_gso). Any number of threads may call
 * these functions at once on different data; nothing here allocates,
 * locks, logs or makes a syscall.
 *
 * Untrusted input: the vnet header and the frame come from another
 * process. unm_vnet_parse() reads only inside the buffers it is given
 * (header bytes, fragment list) and checks every field the segmenter
 * relies on; unm_gso_init() accepts only what unm_vnet_parse() accepted.
 * The frame's bytes may change under us while we read them (shared
 * memory): the segmenter reads each header byte once, into a private
 * copy, and everything it computes from payload bytes is a function of
 * what it read, so a racing writer can corrupt that frame's output but
 * never make us read or write outside the buffers.
 *
 * Byte order conventions (read this before using the checksum calls):
 *  - A "partial sum" (uint32_t) is a ones'-complement sum of the 16-bit
 *    words of some bytes, taken in memory order. It is opaque: combine
 *    partial sums with unm_csum_add(), unm_csum_partial() seeds, and end
 *    with unm_csum_fold() / unm_csum_finish().
 *  - A 16-bit checksum (uint16_t) returned here is ready to be stored in
 *    the packet with memcpy(); a field read from the packet with memcpy()
 *    can be passed back (unm_csum_update16()). On a little-endian host it
 *    is therefore byte-swapped relative to ntohs().
 *  - Plain header fields (lengths, ports, sequence numbers) in the API
 *    structs are host order.
 *
 * Limits (checked; frames outside them are refused with a reason):
 * Ethernet II with at most one 802.1Q/802.1ad tag; IPv4 with options
 * (not a fragment); IPv6 without extension headers (next header must be
 * TCP or UDP directly); TCP with options; UDP. No UFO (gso_type 3), no
 * tunnels, no BIG TCP (IP lengths stay 16-bit).
 */
#ifndef UNM_OFFLOAD_H
#define UNM_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef UNM_HIDDEN
#define UNM_HIDDEN __attribute__((visibility("hidden")))
#endif

/*
 * A frame is a chain of fragments (one per slot of a MOREFRAG chain, or
 * one for a contiguous buffer). Fragments may have any length, odd ones
 * and empty ones included. Functions that only read a frame take
 * "const struct unm_frag *" and never write through ptr.
 */
struct unm_frag {
	void *ptr;
	size_t len;
};

/* Total length of a chain. */
UNM_HIDDEN size_t unm_frags_len(const struct unm_frag *f, unsigned nf);

/*
 * unm_frags_read - copy bytes [off, off+len) of a chain into dst.
 * Returns the number of bytes copied: less than len only if the chain
 * ends first. Never reads outside the fragments.
 */
UNM_HIDDEN size_t unm_frags_read(const struct unm_frag *f, unsigned nf,
				 size_t off, void *dst, size_t len);

/*
 * unm_frags_write - copy len bytes from src to [off, off+len) of a chain.
 * Returns the number of bytes written (less than len if the chain ends).
 */
UNM_HIDDEN size_t unm_frags_write(const struct unm_frag *f, unsigned nf,
				  size_t off, const void *src, size_t len);

/* ===== Internet checksum (csum.c) ====================================== */

/* End-around-carry addition of two partial sums. */
static inline uint32_t unm_csum_add(uint32_t a, uint32_t b)
{
	a += b;
	return a + (a < b);
}

/* Fold a partial sum to 16 bits (ones'-complement sum, not inverted). */
static inline uint16_t unm_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Fold and invert: the value to store in a checksum field. */
static inline uint16_t unm_csum_finish(uint32_t sum)
{
	return (uint16_t)~unm_csum_fold(sum);
}

/*
 * unm_csum_partial - add the 16-bit words of buf[0..len) to sum.
 * buf may have any alignment; an odd len pads the last byte with a zero
 * byte (as RFC 1071 does). The sum is taken as if buf starts at an even
 * offset of the checksummed data: to append bytes that start at an odd
 * offset, use unm_csum_frags() or swap with unm_csum_shift().
 * Fast path: 64 bits per addition, carries folded once at the end.
 */
UNM_HIDDEN uint32_t unm_csum_partial(const void *buf, size_t len, uint32_t sum);

/* Reference implementation (one byte at a time); for tests and bench. */
UNM_HIDDEN uint32_t unm_csum_partial_naive(const void *buf, size_t len,
					   uint32_t sum);

/* A partial sum of bytes that start at an odd offset, re-aligned so that
 * it can be added to a sum of data that starts at an even offset. */
static inline uint32_t unm_csum_shift(uint32_t sum)
{
	uint16_t f = unm_csum_fold(sum);

	return (uint16_t)((f << 8) | (f >> 8));
}

/*
 * unm_csum_frags - add bytes [off, off+len) of a chain to sum, across
 * fragment boundaries (odd-length fragments included). Byte off counts
 * as an even offset. Stops at the end of the chain.
 */
UNM_HIDDEN uint32_t unm_csum_frags(const struct unm_frag *f, unsigned nf,
				   size_t off, size_t len, uint32_t sum);

/*
 * unm_csum_ipv4_hdr - checksum of an IPv4 header of hlen bytes (20..60),
 * computed as if its checksum field (bytes 10-11) were zero, so the
 * header need not be modified first. Returns the value to store.
 * unm_csum_ipv4_hdr_ok() is true if the stored checksum is correct.
 */
UNM_HIDDEN uint16_t unm_csum_ipv4_hdr(const void *iph, size_t hlen);
UNM_HIDDEN bool unm_csum_ipv4_hdr_ok(const void *iph, size_t hlen);

/*
 * Pseudo-header partial sums for TCP/UDP (RFC 793, RFC 768, RFC 8200
 * 8.1). saddr/daddr point at the addresses as in the packet (4 or 16
 * bytes, any alignment); proto is 6 or 17; l4len is the length of the
 * TCP/UDP header plus payload (host order).
 */
UNM_HIDDEN uint32_t unm_csum_pseudo_v4(const void *saddr, const void *daddr,
				       uint8_t proto, uint32_t l4len);
UNM_HIDDEN uint32_t unm_csum_pseudo_v6(const void *saddr, const void *daddr,
				       uint8_t proto, uint32_t l4len);

/*
 * unm_csum_tcpudp_v4 / _v6 - full TCP or UDP checksum of the l4len bytes
 * at l4 (header + payload, contiguous), with the checksum field taken as
 * zero whatever it holds. For UDP a result of 0 is returned as 0xffff
 * (RFC 768: 0 means "no checksum"). Returns the value to store.
 */
UNM_HIDDEN uint16_t unm_csum_tcpudp_v4(const void *saddr, const void *daddr,
				       uint8_t proto, const void *l4, size_t l4len);
UNM_HIDDEN uint16_t unm_csum_tcpudp_v6(const void *saddr, const void *daddr,
				       uint8_t proto, const void *l4, size_t l4len);

/*
 * Incremental update (RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')).
 * check: the stored checksum; old/new: the field before and after, all
 * as read from / written to the packet with memcpy (16 or 32 bits, e.g.
 * a port or an IPv4 address). Returns the new checksum to store. Equals
 * a recomputation except that it never turns a result into 0xffff/0
 * for UDP: callers of UDP map 0 to 0xffff themselves.
 */
UNM_HIDDEN uint16_t unm_csum_update16(uint16_t check, uint16_t old_v,
				      uint16_t new_v);
UNM_HIDDEN uint16_t unm_csum_update32(uint16_t check, uint32_t old_v,
				      uint32_t new_v);

/*
 * unm_csum_complete - finish a partial checksum as virtio NEEDS_CSUM
 * asks: sum bytes [csum_start, end of frame), where the field at
 * csum_start + csum_offset already holds the pseudo-header sum the
 * sender put there, and store the inverted result in that field.
 * Works in place on a chain (the field may straddle two fragments).
 * A result of 0 is stored as 0xffff (same value; 0 means "none" to UDP).
 * Returns 0, or -EINVAL if the field is not inside the frame.
 */
UNM_HIDDEN int unm_csum_complete(const struct unm_frag *f, unsigned nf,
				 size_t csum_start, size_t csum_offset);

/*
 * unm_csum_fix_partial - complete a TCP or UDP checksum that a local
 * sender left partial, in an Ethernet frame buf[0..len) handed over by a
 * transport that carries no checksum state (AF_XDP on a veth whose peer
 * has checksum offload on: Linux stores only the folded pseudo-header
 * sum in the field of a CHECKSUM_PARTIAL packet and leaves the rest to
 * the device). Parses Ethernet [+ one 802.1Q/802.1ad tag], IPv4 (not a
 * fragment) or IPv6 without extension headers, then TCP or UDP; the L4
 * length comes from the IP header and must fit in len (the frame is
 * untrusted; Ethernet padding is not summed). The field is completed
 * only if it holds exactly the pseudo-header sum: a complete checksum is
 * left alone (one that happens to equal that sum comes out of the
 * completion unchanged, so a right checksum is never spoiled). A result
 * of 0 is stored as 0xffff. Returns 1 if it completed the field, else 0.
 */
UNM_HIDDEN int unm_csum_fix_partial(void *buf, size_t len);

/* ===== virtio-net header (vnet.c) ====================================== */

#define UNM_VNET_HDR_LEN        10  /* legacy struct virtio_net_hdr */
#define UNM_VNET_HDR_LEN_MRG    12  /* + num_buffers (mergeable rx buffers) */

#define UNM_VNET_F_NEEDS_CSUM   1
#define UNM_VNET_F_DATA_VALID   2

#define UNM_VNET_GSO_NONE       0
#define UNM_VNET_GSO_TCPV4      1
#define UNM_VNET_GSO_UDP        3   /* UFO: refused */
#define UNM_VNET_GSO_TCPV6      4
#define UNM_VNET_GSO_UDP_L4     5   /* USO */
#define UNM_VNET_GSO_ECN        0x80

/* The header, decoded (wire: little-endian fields). */
struct unm_vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;       /* only with the 12-byte header */
};

/* Why unm_vnet_parse() refused a frame (index into drop counters). */
enum unm_vnet_drop {
	UNM_VNET_OK = 0,
	UNM_VNET_DROP_HDR_SIZE,     /* header length not 10 or 12 */
	UNM_VNET_DROP_FLAGS,        /* unknown flag bits */
	UNM_VNET_DROP_GSO_TYPE,     /* unknown gso_type, or ECN without TCP */
	UNM_VNET_DROP_UFO,          /* gso_type UDP (UFO): not supported */
	UNM_VNET_DROP_CSUM_RANGE,   /* csum_start/csum_offset outside frame */
	UNM_VNET_DROP_GSO_NO_CSUM,  /* GSO without NEEDS_CSUM */
	UNM_VNET_DROP_GSO_SIZE,     /* gso_size 0, or a segment > 64 KiB */
	UNM_VNET_DROP_HDR_LEN,      /* hdr_len beyond frame or before L4 */
	UNM_VNET_DROP_SHORT,        /* frame shorter than its headers */
	UNM_VNET_DROP_L2,           /* not IPv4/IPv6 (after <= 1 VLAN tag) */
	UNM_VNET_DROP_GSO_L3,       /* TCPV4 on IPv6 or TCPV6 on IPv4 */
	UNM_VNET_DROP_BAD_IPV4,     /* version, ihl, fragment */
	UNM_VNET_DROP_BAD_IPV6,     /* version */
	UNM_VNET_DROP_IPV6_EXT,     /* IPv6 extension header: not supported */
	UNM_VNET_DROP_NOT_TCP,      /* TCPV4/TCPV6 but L4 is not TCP */
	UNM_VNET_DROP_NOT_UDP,      /* UDP_L4 but L4 is not UDP */
	UNM_VNET_DROP_BAD_TCP,      /* data offset < 5 */
	UNM_VNET_DROP_CSUM_L4,      /* GSO: csum_start/offset not the L4 field */
	UNM_VNET_DROP_NO_PAYLOAD,   /* GSO frame without payload */
	UNM_VNET_DROP_TOO_LONG,     /* GSO frame: IP part > 65535 bytes */
	UNM_VNET_DROP__COUNT
};

/* Short stable name for a drop reason ("gso_size", ...), for counters. */
UNM_HIDDEN const char *unm_vnet_drop_name(enum unm_vnet_drop why);

/* Layout of a frame that unm_vnet_parse() accepted. Offsets from the
 * frame's first byte (after the vnet header). */
struct unm_vnet_info {
	struct unm_vnet_hdr hdr;    /* decoded header */
	uint32_t frame_len;         /* total length of the chain */
	/* The rest is filled for GSO frames only (hdr.gso_type != NONE). */
	uint16_t l3_off;            /* 14, or 18 with a VLAN tag */
	uint16_t l4_off;            /* l3_off + IP header length */
	uint16_t payload_off;       /* l4_off + TCP/UDP header length */
	uint8_t ipv6;               /* 0: IPv4, 1: IPv6 */
	uint8_t l4_proto;           /* 6 or 17 */
	uint32_t payload_len;       /* frame_len - payload_off, > 0 */
	uint32_t nsegs;             /* segments unm_gso_next() will produce */
};

/*
 * unm_vnet_parse - decode a vnet header and validate it against the
 * frame that follows it. hdr: hlen bytes (10 or 12); f/nf: the frame.
 * Checks what the offloads rely on:
 *  - flags: only NEEDS_CSUM and DATA_VALID;
 *  - NEEDS_CSUM: the 2-byte field at csum_start + csum_offset is inside
 *    the frame;
 *  - GSO (TCPV4, TCPV6, UDP_L4, optional ECN with TCP): NEEDS_CSUM set,
 *    Ethernet [+ 1 VLAN] + IPv4/IPv6 + TCP/UDP headers present and sane,
 *    csum_start = L4 offset and csum_offset = TCP/UDP check field,
 *    0 < gso_size, headers + gso_size fit in a 16-bit IP length,
 *    hdr_len 0 or within [L4 offset, frame_len], payload present,
 *    IP part of the whole frame at most 65535 bytes (no BIG TCP).
 * hdr_len is a hint and is not used further; IPv4 total length and IPv6
 * payload length of a GSO frame are ignored (rewritten per segment).
 * Every frame must hold at least an Ethernet header (14 bytes). Non-GSO
 * frames are not parsed beyond that and the checksum range (an ARP frame
 * with a zero header is fine).
 * Returns 0 and fills *info (may be NULL), or a negative errno with
 * *why (may be NULL) set: -EINVAL for a bad header or frame,
 * -EOPNOTSUPP for UFO and IPv6 extension headers. Never reads outside
 * hdr[0..hlen) and the fragments. Thread-safe.
 */
UNM_HIDDEN int unm_vnet_parse(const void *hdr, unsigned hlen,
			      const struct unm_frag *f, unsigned nf,
			      struct unm_vnet_info *info, enum unm_vnet_drop *why);

/* Decode hlen (10 or 12) bytes into *h without checks. */
UNM_HIDDEN void unm_vnet_hdr_decode(const void *hdr, unsigned hlen,
				    struct unm_vnet_hdr *h);
/* Encode *h into hlen (10 or 12) bytes at dst (num_buffers only in 12). */
UNM_HIDDEN void unm_vnet_hdr_encode(void *dst, unsigned hlen,
				    const struct unm_vnet_hdr *h);

/* ===== software segmentation (gso.c) =================================== */

/* Longest header block (Ethernet + VLAN + IP + L4) the segmenter handles:
 * 18 + 60 + 60 = 138 for IPv4 with options and TCP with options. */
#define UNM_GSO_HDR_MAX 160

/*
 * Iterator over the segments of one frame, owned by the caller (stack or
 * per-thread); holds a private copy of the headers and a cursor into the
 * input chain, which must stay valid and unchanged until the last
 * unm_gso_next*() call.
 */
struct unm_gso {
	const struct unm_frag *in;
	unsigned nin;
	struct unm_vnet_info info;
	uint32_t seg;               /* index of the next segment */
	uint32_t done;              /* payload bytes already emitted */
	unsigned cur_frag;          /* input cursor: fragment ... */
	size_t cur_off;             /* ... and offset in it */
	uint32_t seq;               /* TCP sequence number of segment 0 */
	uint16_t ip_id;             /* IPv4 id of segment 0 */
	uint8_t tcp_flags;          /* original flags (byte 13) */
	uint8_t hdr[UNM_GSO_HDR_MAX]; /* headers [0, payload_off) */
};

/*
 * unm_gso_init - prepare to emit the segments of a frame that
 * unm_vnet_parse() accepted (info is its output; f/nf the same chain).
 *  - GSO frame: info->nsegs segments of at most info->hdr.gso_size
 *    payload bytes (the last one shorter if the payload is not a
 *    multiple), each a complete frame: IPv4 total length, id (original
 *    + segment index), header checksum; IPv6 payload length; TCP
 *    sequence advanced by the payload before it, FIN and PSH only on the
 *    last segment, CWR only on the first; UDP length; TCP/UDP checksum
 *    complete. Ethernet and VLAN headers copied unchanged.
 *  - Non-GSO frame: one segment, a copy of the frame, with the checksum
 *    completed if NEEDS_CSUM is set (unm_csum_complete()).
 * The output carries no vnet header: segments are for a port without
 * one (or the caller prepends a header with flags 0 / DATA_VALID).
 * Returns 0, or -EINVAL if info does not describe a supported frame.
 */
UNM_HIDDEN int unm_gso_init(struct unm_gso *g, const struct unm_vnet_info *info,
			    const struct unm_frag *f, unsigned nf);

/* Length of the next segment, or 0 if all were emitted. Lets the caller
 * reserve room (slots) before writing. */
UNM_HIDDEN size_t unm_gso_peek_len(const struct unm_gso *g);

/*
 * unm_gso_next - write the next segment into buf (size bytes).
 * Returns its length (> 0), 0 when all segments were emitted, or
 * -ENOSPC if buf is too small (the iterator does not move: retry with a
 * larger buffer, or skip with unm_gso_skip()).
 */
UNM_HIDDEN int unm_gso_next(struct unm_gso *g, void *buf, size_t size);

/*
 * unm_gso_next_frags - same, writing the segment across a chain of
 * output buffers (e.g. destination slots, filled in order, each full
 * before the next is used). For GSO frames out[0] must hold at least
 * info.payload_off bytes (the headers). Returns the segment length, 0,
 * or -ENOSPC (the chain is too short or out[0] too small for the
 * headers; nothing consumed).
 */
UNM_HIDDEN int unm_gso_next_frags(struct unm_gso *g, const struct unm_frag *out,
				  unsigned nout);

/*
 * unm_gso_next_hdr - the next segment of a GSO frame without copying its
 * payload: write its headers (info.payload_off bytes, checksum complete:
 * the payload is summed where it lies) into hbuf (hsize bytes) and point
 * pl[0 .. *npl) (at most maxpl) at its payload in the input chain, for a
 * gathering send. The input must stay unchanged until the payload is
 * sent (else that segment carries a wrong checksum, nothing worse).
 * Returns the segment length, 0 when all were emitted, -ENOSPC (hbuf or
 * maxpl too small; the iterator does not move) or -EINVAL (not a GSO
 * frame).
 */
UNM_HIDDEN int unm_gso_next_hdr(struct unm_gso *g, void *hbuf, size_t hsize,
				struct unm_frag *pl, unsigned maxpl, unsigned *npl);

/* Drop the next segment without writing it. Returns its length or 0. */
UNM_HIDDEN size_t unm_gso_skip(struct unm_gso *g);

#endif
