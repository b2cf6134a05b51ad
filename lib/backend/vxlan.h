/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vxlan.h - the parts of the vxlan port (vxlan.c) that have no I/O: the
 * configuration parser (also used by the name parser, so a bad vxlan name
 * fails when it is read), the check of a received VXLAN header, the
 * learning table (inner source MAC -> remote VTEP) and the flow hash. They
 * are separate from the socket code so the fuzz target
 * (tests/fuzz/vxlan_fuzz.c) and the unit test drive them directly.
 *
 * Nothing here is thread-safe: each table belongs to one port and is used
 * by whoever syncs that port (and, in unmd, under the daemon's lock).
 */
#ifndef UNM_VXLAN_H
#define UNM_VXLAN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "unm/vxlan.h"

#define UNM_HIDDEN __attribute__((visibility("hidden")))

struct unm_spec;

#define VX_MAX_REMOTES   16
#define VX_DEF_PORT      4789     /* IANA (RFC 7348) */
#define VX_DEF_LEARN     1024     /* learning entries per port */
#define VX_MAX_LEARN     65536
#define VX_DEF_AGEING    300      /* seconds, Linux's vxlan default */
#define VX_HDR_LEN       8
#define VX_FLAG_I        0x08     /* first byte: the VNI is valid */

/* An underlay address: family AF_INET or AF_INET6, port in network order. */
union vx_addr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

struct unm_vxlan_conf {
	int family;                          /* AF_INET or AF_INET6 */
	unsigned n_remotes;                  /* >= 1 */
	union vx_addr remote[VX_MAX_REMOTES]; /* port = the UDP port */
	bool mcast;                          /* the one remote is a group */
	bool has_local;
	union vx_addr local;                 /* port 0 */
	uint32_t vni;                        /* 0 .. 2^24 - 1 */
	uint16_t port;                       /* host order */
	unsigned ttl;                        /* 0: Linux's default (below) */
	unsigned learn_max;                  /* entries */
	unsigned ageing_s;
	/* rxcsum=trust: the underlay is trusted not to corrupt datagrams (the
	 * kernel verified their UDP checksum, or a zero one is accepted), so
	 * inner checksums are not verified on RX and frames go up
	 * checksum-valid (default false: rxcsum=verify) */
	bool rx_trust_csum;
};

/*
 * unm_vxlan_conf_key - true if the KLEN bytes at KEY name a vxlan @conf
 * option (vni, port, local, ttl, learn, ageing). No side effects.
 */
UNM_HIDDEN bool unm_vxlan_conf_key(const char *key, size_t klen);

/*
 * unm_vxlan_conf_parse - read spec->path (the remotes) and spec->xconf
 * (the vxlan @conf options) into *vc, with defaults for what is missing.
 * Returns 0, or -EINVAL with the reason in err. No I/O.
 */
UNM_HIDDEN int unm_vxlan_conf_parse(const struct unm_spec *spec, struct unm_vxlan_conf *vc,
				    char *err, size_t errlen);

/* Why a received datagram was dropped (index into unm_vxlan_stats.rx_drop). */
enum vx_rx_verdict {
	VX_RX_OK = -1,
};

/*
 * unm_vxlan_rx_check - decide whether a datagram of DLEN bytes (TRUNC:
 * longer than the buffers it was read into) from SRC, whose first
 * min(DLEN, 8) bytes are HDR, carries a frame for this port. max_frame is
 * the largest inner frame accepted. Returns VX_RX_OK or an
 * UNM_VXLAN_RX_* reason. Reads only HDR[0 .. min(dlen, 8)).
 */
UNM_HIDDEN int unm_vxlan_rx_check(const struct unm_vxlan_conf *vc, const uint8_t *hdr,
				  size_t dlen, bool trunc, const union vx_addr *src,
				  size_t max_frame);

/* True if A and B are the same address (family, address; ports ignored). */
UNM_HIDDEN bool unm_vxlan_addr_eq(const union vx_addr *a, const union vx_addr *b);

/* ---- learning table ------------------------------------------------------ */

struct vx_fdb_ent {
	uint8_t mac[6];
	uint8_t used;                /* 0: empty */
	uint8_t __pad;
	uint64_t seen_ns;            /* last frame from mac */
	union vx_addr remote;
};

/*
 * At most max live-or-expired entries exist at any time (n_used <=
 * max): a flood of source MACs can only recycle expired entries, never
 * grow the table. Entries sit within VX_FDB_PROBE slots of their hash.
 */
struct vx_fdb {
	struct vx_fdb_ent *e;
	uint32_t mask;               /* slots - 1 (slots: power of two >= 2 * max) */
	uint32_t n_used, max;
	uint64_t ageing_ns;
	uint64_t full;               /* learning refused: table full */
	uint64_t moves;              /* a MAC moved to another remote */
};

#define VX_FDB_PROBE 8

UNM_HIDDEN int unm_vxlan_fdb_init(struct vx_fdb *t, unsigned max, unsigned ageing_s);
UNM_HIDDEN void unm_vxlan_fdb_free(struct vx_fdb *t);
/* Learn MAC (unicast only; others are ignored) behind REMOTE at NOW. */
UNM_HIDDEN void unm_vxlan_fdb_learn(struct vx_fdb *t, const uint8_t *mac,
				    const union vx_addr *remote, uint64_t now);
/* The live entry for MAC, or NULL. */
UNM_HIDDEN const struct vx_fdb_ent *unm_vxlan_fdb_find(const struct vx_fdb *t,
							const uint8_t *mac, uint64_t now);
/* Live entries now. */
UNM_HIDDEN unsigned unm_vxlan_fdb_count(const struct vx_fdb *t, uint64_t now);

/*
 * unm_vxlan_flow_hash - hash of the inner flow of FRAME (LEN bytes, the
 * caller checked LEN >= 14): MACs and EtherType, plus the IPv4/IPv6
 * addresses and the TCP/UDP ports when present, so all frames of one flow
 * hash alike and flows spread.
 */
UNM_HIDDEN uint32_t unm_vxlan_flow_hash(const uint8_t *frame, size_t len);

/*
 * unm_vxlan_gro_seg - length of the datagram at byte OFF of a read of
 * DLEN bytes that the kernel coalesced with UDP GRO into segments of GSO
 * bytes (the last may be shorter; GSO 0: the read is one datagram).
 * Always > 0 for OFF < DLEN, never past DLEN.
 */
static inline size_t unm_vxlan_gro_seg(size_t dlen, size_t off, uint32_t gso)
{
	size_t l = dlen - off;

	return gso && l > gso ? gso : l;
}

/* ---- inner TCP coalescing (RX towards a port with vnet headers) --------- */

/* An inner TCP segment that may be coalesced, as unm_vxlan_tcp_parse()
 * found it. Offsets from the frame's first byte. */
struct vx_tcp {
	uint16_t l4;                 /* TCP header: 14 + IP header length */
	uint16_t poff;               /* payload: l4 + TCP header length */
	uint8_t v6;                  /* 0: IPv4, 1: IPv6 */
	uint8_t flags;               /* TCP flags: ACK, or ACK|PSH */
	uint32_t seq;
	uint32_t plen;               /* payload bytes: len - poff > 0 */
};

/*
 * unm_vxlan_tcp_parse - true if the LEN bytes at FRAME are an untagged
 * Ethernet frame with IPv4 (any options, not a fragment, header checksum
 * right) or IPv6 (next header TCP) whose IP length is exactly the rest of
 * the frame, then TCP with payload, flags ACK or ACK|PSH only and a
 * correct checksum; fills *t. Everything else (pure ACKs, SYN/FIN/RST/
 * URG/ECE/CWR, padding, a checksum a sender left for a NIC) is false: it
 * travels on uncoalesced. Reads only FRAME[0 .. len).
 */
UNM_HIDDEN bool unm_vxlan_tcp_parse(const uint8_t *frame, size_t len, struct vx_tcp *t);

/*
 * unm_vxlan_tcp_seg - unm_vxlan_tcp_parse without the TCP checksum: for
 * a port whose underlay is trusted (rxcsum=trust), where the payload is
 * not read at all. Reads only FRAME[0 .. len), at most its headers.
 */
UNM_HIDDEN bool unm_vxlan_tcp_seg(const uint8_t *frame, size_t len, struct vx_tcp *t);

/*
 * unm_vxlan_tcp_hdrs - the header checks of unm_vxlan_tcp_parse only (any
 * TCP flags, checksum not read): for an inner TSO frame that a Linux VTEP
 * on a veth sends whole, with its checksum left partial for GSO.
 */
UNM_HIDDEN bool unm_vxlan_tcp_hdrs(const uint8_t *frame, size_t len, struct vx_tcp *t);

/*
 * unm_vxlan_tcp_follows - true if segment B (parsed TB) can be appended
 * to a coalesced frame whose first segment's headers are A (parsed TA)
 * and whose next expected sequence number is NEXT_SEQ: same header sizes,
 * Ethernet header, IP header except lengths (and IPv4 id and checksum),
 * TCP header except sequence number, flags and checksum. Reads A and B
 * up to TA->poff only.
 */
UNM_HIDDEN bool unm_vxlan_tcp_follows(const uint8_t *a, const struct vx_tcp *ta,
				      uint32_t next_seq, const uint8_t *b,
				      const struct vx_tcp *tb);

/*
 * unm_vxlan_tcp_fix - rewrite HDR (the first T->poff bytes of a coalesced
 * frame, the first segment's headers) for a frame of TOTAL bytes (at most
 * 14 + 65535): IP length, IPv4 header checksum, TCP flags = FLAGS, and
 * the TCP checksum field = the pseudo-header sum, as a virtio-net
 * NEEDS_CSUM frame carries it (csum_start T->l4, csum_offset 16).
 */
UNM_HIDDEN void unm_vxlan_tcp_fix(uint8_t *hdr, const struct vx_tcp *t, size_t total,
				  uint8_t flags);

/* The inner MTU for an underlay of MTU bytes (-50 IPv4, -70 IPv6). */
static inline unsigned unm_vxlan_inner_mtu(unsigned mtu, int family)
{
	unsigned o = family == AF_INET6 ? 70 : 50;

	return mtu > o + 68 ? mtu - o : 68;
}

#endif /* UNM_VXLAN_H */
