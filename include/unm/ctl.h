/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unm/ctl.h - the control protocol between unmd and its clients (libunm's
 * vale ports, unm-ctl, anything else that speaks it).
 *
 * Transport: a SOCK_SEQPACKET Unix socket (default UNM_SOCKET_DEFAULT,
 * overridden by $UNM_SOCKET or unm_open_opts.socket_path). Message
 * boundaries are kept by the socket; every message has a fixed size and
 * starts with magic, version and its own size, so a receiver rejects
 * anything that is not exactly one of the structs below. File descriptors
 * travel with SCM_RIGHTS on the reply header, and on an ATTACH request
 * (one fd: the resource the client opened).
 *
 *   client                                 unmd
 *   unm_ctl_req (op, seq)        ----->
 *                                <-----    unm_ctl_rep (status, n_items, n_fds)
 *                                <-----    n_items x unm_ctl_item
 *
 * One request is outstanding per connection at a time. A connection that
 * opened a port (OPEN_PORT) stays open for the port's lifetime: unmd
 * removes an ephemeral port when the connection closes (the client closed
 * or died) and the client learns that unmd died when the connection
 * reports a hang-up. UNM_CTL_BYE (no reply) says "closing on purpose".
 *
 * Who checks what: unmd validates every field of every request (it may
 * come from any local user allowed by the socket's permissions); clients
 * validate replies (magic, version, op/seq echo, counts, fds) the same way.
 * Strings are NUL-terminated inside their arrays; a receiver forces the
 * last byte to NUL before use (unmd: refuses a request whose strings are
 * not). A port name travels parsed (struct unm_ctl_portspec): unmd reads
 * the parsed form, never the text.
 *
 * Access control: the socket file's owner, group and mode decide who may
 * connect (unmd -m/-g); SO_PEERCRED then names the caller. Administrators
 * are root and the members of unmd --admin-group. unmd acts only with the
 * caller's authority: host resources (shmif bus file, vhost-user socket,
 * tap) are opened by the client and handed over with ATTACH's fd; opening
 * one by name inside unmd (and afpacket, afxdp, ivshmem, pipes, monitors)
 * is for administrators (-EPERM otherwise). Every switch and port has an
 * owner uid (its creator): only the owner or an administrator may delete,
 * detach or monitor a port or change a switch; nobody opens another uid's
 * port (-EACCES naming the owner: no squatting). Per-uid limits (ports,
 * region bytes) apply to everyone.
 */
#ifndef UNM_CTL_H
#define UNM_CTL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UNM_CTL_MAGIC     0x43544d55u /* "UMTC" little-endian */
#define UNM_CTL_VERSION   2           /* 2: requests carry the parsed port name
                                         (struct unm_ctl_portspec) */
#define UNM_CTL_NAME_MAX  256         /* port names, with @conf suffixes */
#define UNM_CTL_SW_MAX    16          /* switch names (valeX) */
#define UNM_CTL_MSG_MAX   200         /* human-readable reply text */
#define UNM_CTL_MAX_FDS   (1 + 4 * 16) /* memfd + kick and irq per ring */
#define UNM_CTL_TYPE_MAX  16          /* port type names ("vhost-user") */
#define UNM_CTL_PORT_MAX  64          /* switch port, interface, pipe names */
#define UNM_CTL_XCONF_MAX 128         /* a type's own @conf options */

enum unm_ctl_op {
	UNM_CTL_OPEN_PORT = 1, /* name = "valeX:P[@conf...]", geom: open (create if
	                          needed) and attach this connection; reply fds:
	                          [0] region memfd, [1 .. n] kick eventfds,
	                          [n+1 .. 2n] irq eventfds, n = n_tx + n_rx, TX
	                          rings first, in CSB entry order. With
	                          UNM_CTL_OPEN_MON_* flags: open a monitor of
	                          the port named instead (see below) */
	UNM_CTL_LIST,          /* name = "" or switch: items SWITCH then its PORTs */
	UNM_CTL_PORT_STATS,    /* name = "" or "valeX:P" or "valeX": items PORT */
	UNM_CTL_MAC_TABLE,     /* name = switch: items MAC */
	UNM_CTL_PORT_ADD,      /* name = "valeX:P[@conf...]": persistent port */
	UNM_CTL_PORT_DEL,      /* name = "valeX:P": delete a persistent port */
	UNM_CTL_ATTACH,        /* name = switch, arg = any unm_open() name: open
	                          that port inside unmd and make it a switch port.
	                          With one fd (SCM_RIGHTS on the request): the
	                          resource the client opened itself (shmif: bus
	                          file; vhost-user: listening socket; tap: tun fd
	                          after TUNSETIFF), arg naming its type and label.
	                          The port is named arg without its @conf suffix */
	UNM_CTL_DETACH,        /* name = switch, arg = the attached port's name
	                          (an @conf suffix is ignored) */
	UNM_CTL_SWITCH_SET,    /* name = switch, arg = key, value: "lossless"
	                          0|1; "domains" 0 off, 1 uid (a client's ports
	                          join its uid's trust domain), 2 named (only
	                          ports with @conf:domain=NAME join one) */
	UNM_CTL_BYE,           /* no reply: the connection is closing on purpose */
	UNM_CTL_PORT_OFFLOAD,  /* name as PORT_STATS: items OFFLOAD (virtio-net
	                          header offload counters of each port) */
	UNM_CTL_SWITCH_ADD,    /* name = switch: create it, owned by the caller;
	                          it stays (settings too) until SWITCH_DEL */
	UNM_CTL_SWITCH_DEL,    /* name = switch: delete a switch without ports */
	UNM_CTL__OP_MAX
};

/* Geometry of a new port; 0 = default. @conf in the name wins. */
struct unm_ctl_geom {
	uint32_t tx_rings, rx_rings;
	uint32_t tx_slots, rx_slots;
	uint32_t buf_size;
	uint32_t extra_bufs;
	uint32_t vnet_hdr_len;
	uint32_t flags;                 /* UNM_CTL_GEOM_*; unknown bits ignored */
};

/* The region memfd is sized to a power of two (the tail is unused): QEMU's
 * ivshmem-doorbell maps it as a PCI BAR, which must be a power of two. */
#define UNM_CTL_GEOM_POW2 0x1

/*
 * A port name as the client's parser (libunm's lib/name.c) read it: the
 * name travels parsed, and unmd does not read the text again (req.name and
 * req.arg stay for messages and logs). unmd checks every field as it
 * checks anything a client sends: each string NUL-terminated inside its
 * array and of the characters its kind allows, type one of its port
 * types, every number in range, fields a type does not use empty.
 *
 * Which requests carry one (type != ""), and for what:
 *   OPEN_PORT, PORT_ADD, PORT_DEL   the switch port of req.name (type
 *                                   "vale": sw, port, domain, geom)
 *   OPEN_PORT with UNM_CTL_OPEN_MON_*  the monitored port (type: its
 *                                   type; name: its name without suffixes
 *                                   and without a "valeX:" qualifier,
 *                                   which is in sw)
 *   LIST, PORT_STATS, PORT_OFFLOAD  "" for req.name "" or a switch; a
 *                                   switch port (type "vale") or an
 *                                   attached port ("valeX:TYPE:ARG": sw
 *                                   valeX, type TYPE, name TYPE:ARG)
 *   ATTACH                          the port to open (req.arg), whole
 *   DETACH                          the attached port (req.arg): only name
 *                                   is read; type "" if it did not parse
 * Other requests: all zero.
 */
struct unm_ctl_portspec {
	char type[UNM_CTL_TYPE_MAX];    /* the port type's name in libunm's
	                                   table: "vale", "tap", "pipe", "null",
	                                   ... ("" = no port named) */
	char sw[UNM_CTL_SW_MAX];        /* vale: the switch; else "" (monitor
	                                   target, LIST: the switch named) */
	char port[UNM_CTL_PORT_MAX];    /* vale: the port; tap, afpacket, afxdp:
	                                   the interface; pipe: NAME */
	char pipe_id[UNM_CTL_PORT_MAX]; /* pipe: ID */
	char path[UNM_CTL_NAME_MAX];    /* shmif, vhost-user, memif: the path;
	                                   vxlan: remotes; dpdk: devargs;
	                                   ivshmem: PCI address */
	char name[UNM_CTL_NAME_MAX];    /* the name without its @conf options
	                                   (what an attached port is called) */
	char domain[16];                /* vale: @conf:domain=NAME, "" */
	char xconf[UNM_CTL_XCONF_MAX];  /* vxlan, dpdk, memif: their own @conf
	                                   options, "k=v,k=v" */
	struct unm_ctl_geom conf;       /* the name's @conf values, 0 = not
	                                   given (vnet_hdr_len: UNM_CTL_UNSET) */
	struct unm_ctl_geom geom;       /* vale: the port's geometry, resolved:
	                                   @conf over req.geom, defaults filled */
	uint32_t base_len;              /* name[0, base_len) is the name without
	                                   any suffix (-N, /FLAGS, @conf) */
	int32_t ring;                   /* -N: the ring pair, -1 = all */
	uint32_t flags;                 /* UNM_CTL_SPEC_* (/x /z /t /r /T /R) */
	uint32_t pipe_role;             /* pipe: 1 master '{', 2 slave '}'; else 0 */
};

#define UNM_CTL_UNSET       0xffffffffu
#define UNM_CTL_SPEC_TX_ONLY   0x01     /* /T */
#define UNM_CTL_SPEC_RX_ONLY   0x02     /* /R */
#define UNM_CTL_SPEC_MON_TX    0x04     /* /t */
#define UNM_CTL_SPEC_MON_RX    0x08     /* /r */
#define UNM_CTL_SPEC_MON_ZCOPY 0x10     /* /z */
#define UNM_CTL_SPEC_EXCLUSIVE 0x20     /* /x */
#define UNM_CTL_SPEC_MASK      0x3f

/* Request: client -> unmd, 1536 bytes. An unmd refuses any other size or
 * version (a version 1 client gets -EPROTO "protocol version 1, unmd
 * speaks 2", in a reply of this version, which it refuses with the same
 * words). */
struct unm_ctl_req {
	uint32_t magic;                 /* UNM_CTL_MAGIC */
	uint16_t version;               /* UNM_CTL_VERSION */
	uint16_t op;                    /* enum unm_ctl_op */
	uint32_t size;                  /* sizeof(struct unm_ctl_req) */
	uint32_t seq;                   /* echoed in the reply */
	char name[UNM_CTL_NAME_MAX];
	char arg[UNM_CTL_NAME_MAX];
	struct unm_ctl_geom geom;
	uint32_t value;                 /* SWITCH_SET */
	uint32_t flags;                 /* 0, or OPEN_PORT: UNM_CTL_OPEN_MON_* */
	struct unm_ctl_portspec spec;   /* the port named, parsed (above) */
	uint8_t __pad[1536 - 1464];
};

/*
 * Monitors (OPEN_PORT with req.flags = UNM_CTL_OPEN_MON_TX and/or _RX):
 * name = the monitored port, either "valeX:P" (a switch port, client,
 * persistent or attached) or the name an in-daemon port was attached with
 * ("null", "pipeA{1", "afpacket:veth0"; @conf suffixes may be left out),
 * searched on every switch, or only on switch arg if arg is not "", or
 * "valeX:TYPE:ARG" (that attached port of valeX). Only the port's owner or
 * an administrator may monitor it (-EPERM).
 * geom: the monitor's rings (rx_rings, rx_slots, buf_size; 0 = default).
 * The reply is OPEN_PORT's (a CSB port region, fds, n_tx = 1 unused TX
 * ring, n_rx RX rings that receive the copies; port_idx = the monitored
 * port's index). Copies never backpressure the monitored port: a full
 * monitor RX ring drops the copy (counted in mon_drops). When the
 * monitored port goes away, unmd sets UNM_CSB_F_GONE on every CSB entry
 * of the monitor and interrupts it. An older unmd refuses the flags
 * ("unknown flags", -EINVAL).
 */
#define UNM_CTL_OPEN_MON_TX 0x1         /* copies of what the port transmits */
#define UNM_CTL_OPEN_MON_RX 0x2         /* copies of what the port receives */
#define UNM_CTL_OPEN_MON_MASK 0x3
/* The client can be a trust-domain member (lib/domain.c): unmd may then
 * answer with a domain membership (unm_ctl_rep.dom_member) when the
 * switch's domains are on; without it the port is isolated. */
#define UNM_CTL_OPEN_DOMAIN   0x4

/* Reply header: unmd -> client, 256 bytes. */
struct unm_ctl_rep {
	uint32_t magic;
	uint16_t version;
	uint16_t op;                    /* echo */
	uint32_t size;                  /* sizeof(struct unm_ctl_rep) */
	uint32_t seq;                   /* echo */
	int32_t status;                 /* 0 or a negative errno */
	uint32_t n_items;               /* unm_ctl_item messages that follow */
	uint32_t n_fds;                 /* fds attached to this message */
	uint32_t n_tx, n_rx;            /* OPEN_PORT: rings of the port */
	uint32_t port_idx;              /* OPEN_PORT: index on the switch */
	uint64_t region_size;           /* OPEN_PORT: bytes of the memfd */
	char msg[UNM_CTL_MSG_MAX];      /* why, when status != 0; else info */
	uint32_t dom_member;            /* OPEN_PORT: 0 = isolated port (fds as
	                                   above); k + 1 = member k of a trust
	                                   domain: fds [0] domain region memfd
	                                   (unm/shm.h UNM_REGION_DOMAIN), [1]
	                                   kick eventfd to unmd, [2 ..] the wake
	                                   eventfd of every member slot
	                                   (UNM_DOM_MAX_MEMBERS) */
	uint32_t dom_token;             /* OPEN_PORT: the member's claim token */
};

/* Drop reasons, counted on the port whose frame was dropped (the sender). */
enum unm_ctl_drop {
	UNM_DROP_DST_FULL = 0, /* a destination RX ring had no room, or no room
	                        * within this source's fair share of it (drop
	                        * mode: held slots <= 16 x free slots); per copy */
	UNM_DROP_BAD_BUF,      /* slot with a buffer index outside [2, buf_count) */
	UNM_DROP_BAD_LEN,      /* slot length > buffer size, or a runt (< 14 bytes) */
	UNM_DROP_TOO_LONG,     /* chain > UNM_MAX_FRAGS slots or > UNM_MAX_FRAME bytes */
	UNM_DROP_NO_ROOM,      /* frame needs more slots than the destination ring
	                          can ever hold (per copy) */
	UNM_DROP_NO_DST,       /* destination is the sender itself, or no other port */
	UNM_DROP_DST_ERR,      /* destination errored while copying (per copy) */
	UNM_DROP_BAD_VNET,     /* bad virtio-net header (reasons: PORT_OFFLOAD) */
	UNM_DROP__COUNT = 8
};

#define UNM_CTL_DROP_NAMES { "dst_full", "bad_buf", "bad_len", "too_long", \
	"no_room", "no_dst", "dst_err", "bad_vnet" }

#define UNM_CTL_PORT_PERSISTENT 0x1 /* created by PORT_ADD */
#define UNM_CTL_PORT_ATTACHED   0x2 /* in-daemon port (ATTACH) */
#define UNM_CTL_PORT_ERRORED    0x4 /* host stopped serving it */
#define UNM_CTL_PORT_CLIENT     0x8 /* a client is connected */
#define UNM_CTL_PORT_MONITOR    0x10 /* a monitor (item after its port) */
#define UNM_CTL_PORT_POOLED     0x40 /* attached, its buffers in its switch's
                                        shared pool: frames between two such
                                        ports move by buffer swap */
#define UNM_CTL_PORT_TOTAL      0x20 /* PORT_STATS of a whole switch ends with
                                        one such item: name "total", idx
                                        UNM_CTL_TOTAL_IDX, the sum of the
                                        counters of every port the switch
                                        has had, live or closed (a closing
                                        port's counters are folded into its
                                        switch's); ports_gone = closed ports */
#define UNM_CTL_TOTAL_IDX       0xffffffffu

/*
 * Per-port counters, from the switch's point of view of that port:
 * tx = frames the port sent into the switch, rx = frames delivered to it.
 * Exact accounting, for every port:
 *   tx_frames + tx_extra_copies == tx_delivered + sum(drops[])
 * where tx_extra_copies counts the second and later copies of flooded
 * frames (unicast traffic: tx_frames == tx_delivered + sum(drops)).
 */
struct unm_ctl_port_info {
	char sw[UNM_CTL_SW_MAX];
	char name[64];                  /* port part ("p1") or attached name */
	char type[16];                  /* "csb", "null", "pipe", "tap", ... */
	uint32_t idx;                   /* index on the switch */
	uint32_t flags;                 /* UNM_CTL_PORT_* */
	int32_t pid;                    /* client pid, 0 if none */
	uint32_t uid;                   /* owner (creator; a monitor's opener) */
	struct unm_ctl_geom geom;
	uint64_t region_size;
	uint64_t tx_frames, tx_bytes;
	uint64_t rx_frames, rx_bytes;
	uint64_t tx_delivered, tx_extra_copies;
	uint64_t drops[UNM_DROP__COUNT];
	uint64_t bad_ring;              /* ring index violations seen */
	uint64_t irqs_tx;               /* interrupts sent to the client */
	uint64_t rx_drops;              /* frames toward this port that the switch
	                                   dropped (any reason; also counted in
	                                   the sender's drops[]) */
	/* Monitors. A monitor item (flags & UNM_CTL_PORT_MONITOR) has sw/name
	 * of the monitored port, type "monitor", idx of the monitored port;
	 * its rx_frames/rx_bytes count the copies it received. */
	uint32_t monitors;              /* port: monitors attached to it now */
	uint32_t mon_dirs;              /* monitor: UNM_CTL_OPEN_MON_TX | _RX */
	uint64_t mon_copies;            /* port: copies made for its monitors;
	                                   monitor: copies delivered to it */
	uint64_t mon_drops;             /* copies dropped because a monitor's
	                                   RX ring was full (port: all monitors) */
	/* rx_drops by reason (the reasons a frame can have toward a port) */
	uint64_t rx_dst_full, rx_no_room, rx_dst_err;
	uint64_t ports_gone;            /* total item: ports folded in (closed) */
	uint64_t tx_swapped;            /* of tx_delivered: delivered by swapping
	                                   buffers, not copied (both ports
	                                   UNM_CTL_PORT_POOLED; 0 from an older
	                                   unmd) */
	uint64_t yields;                /* times unmd's forwarding thread gave up
	                                   the CPU to this sleeping receiver: it
	                                   woke it and half its RX ring waited */
};

/*
 * Offload counters of a port (PORT_OFFLOAD), counted on the port that
 * sent the frames into the switch, as drops are (see daemon/vale_offload.h):
 * vnet_drops[r] counts frames whose header was refused for reason r of
 * UNM_CTL_VNET_DROP_NAMES; they are also in drops[UNM_DROP_BAD_VNET].
 */
#define UNM_CTL_VNET_DROPS 24
#define UNM_CTL_VNET_DROP_NAMES { "ok", "hdr_size", "flags", "gso_type", "ufo", \
	"csum_range", "gso_no_csum", "gso_size", "hdr_len", "short", "l2", "gso_l3", \
	"bad_ipv4", "bad_ipv6", "ipv6_ext", "not_tcp", "not_udp", "bad_tcp", "csum_l4", \
	"no_payload", "too_long" }

struct unm_ctl_offload_info {
	char sw[UNM_CTL_SW_MAX];
	char name[64];
	uint32_t idx;
	uint32_t vnet_hdr_len;          /* 0, 10 or 12 */
	uint64_t gso_in;                /* GSO frames it sent (valid header) */
	uint64_t segmented;             /* copies of them the switch segmented */
	uint64_t segments_out;          /* segments those produced */
	uint64_t csum_completed;        /* NEEDS_CSUM checksums completed */
	uint64_t zero_hdr;              /* frames given a zero header */
	uint64_t vnet_drops[UNM_CTL_VNET_DROPS];
};

struct unm_ctl_switch_info {
	char sw[UNM_CTL_SW_MAX];
	char lookup[16];                /* lookup function in use */
	uint32_t n_ports;
	uint32_t lossless;
	uint32_t mac_entries;
	uint32_t uid;                   /* owner: whoever created it */
	uint64_t frames;                /* frames taken from all ports */
	uint32_t flags;                 /* UNM_CTL_SWITCH_* */
};

#define UNM_CTL_SWITCH_KEPT 0x1         /* created by SWITCH_ADD: stays when
                                           its last port goes */
#define UNM_CTL_SWITCH_DOMAINS_UID   0x2 /* domains uid (SWITCH_SET "domains" 1) */
#define UNM_CTL_SWITCH_DOMAINS_NAMED 0x4 /* domains named (SWITCH_SET "domains" 2) */

struct unm_ctl_mac {
	char sw[UNM_CTL_SW_MAX];
	uint8_t mac[6];
	uint16_t port_idx;
	uint32_t age_ms;
	char port[64];
	char remote[48];                /* vxlan port: the remote VTEP the MAC was
	                                   learned behind ("" if none or unknown) */
};

/*
 * A vxlan port's own state (PORT_STATS: the item follows the port's
 * UNM_CTL_ITEM_PORT): configuration, inner MTU, drops by reason
 * (UNM_CTL_VXLAN_RX_DROP_NAMES, as unm/vxlan.h), learning table size.
 */
#define UNM_CTL_VXLAN_RX_DROPS 8
struct unm_ctl_vxlan_info {
	char sw[UNM_CTL_SW_MAX];
	char name[64];
	uint32_t idx;
	uint32_t vni;
	uint16_t port, family;          /* UDP port; AF_INET or AF_INET6 */
	uint32_t mtu, underlay_mtu;
	uint32_t n_remotes, mcast, ttl;
	uint32_t learn_max, learn_entries, ageing_s;
	uint64_t tx_frames, tx_datagrams, tx_flood, tx_gso_sends, tx_errors, tx_drops;
	uint64_t rx_datagrams, rx_frames;
	uint64_t rx_drop[UNM_CTL_VXLAN_RX_DROPS];
	uint64_t learn_full, learn_moves;
	uint64_t tx_gso_frames, tx_csum, rx_gro, rx_coalesced; /* offloads: unm/vxlan.h */
	uint64_t rx_csum, rx_tso;       /* 0 from an unmd older than these fields */
};

/*
 * The counters an attached port's own backend keeps (PORT_STATS: the item
 * follows the port's UNM_CTL_ITEM_PORT), as unm_port_stats() gives them to
 * a process that opened the port itself: what the backend moved to and
 * from its device, what it dropped there (an AF_PACKET ring the kernel
 * overflowed, a refused frame), bad slots, offloads, and how frames
 * crossed (zero copy or copied, dpdk: ports).
 */
struct unm_ctl_backend_info {
	char sw[UNM_CTL_SW_MAX];
	char name[64];
	uint32_t idx, __pad;
	uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes;
	uint64_t drops, bad_buf, bad_len;
	uint64_t gso_rx_frames, gso_tx_frames, vnet_drops;
	uint64_t zc_tx_frames, zc_rx_frames, copy_tx_frames, copy_rx_frames;
};

enum unm_ctl_item_kind {
	UNM_CTL_ITEM_SWITCH = 1,
	UNM_CTL_ITEM_PORT,
	UNM_CTL_ITEM_MAC,
	UNM_CTL_ITEM_OFFLOAD,
	UNM_CTL_ITEM_VXLAN,
	UNM_CTL_ITEM_BACKEND,
};

/* Reply record: unmd -> client, 384 bytes. */
struct unm_ctl_item {
	uint32_t magic;
	uint16_t version;
	uint16_t kind;                  /* enum unm_ctl_item_kind */
	uint32_t size;                  /* sizeof(struct unm_ctl_item) */
	uint32_t seq;                   /* echo of the request's seq */
	union {
		struct unm_ctl_port_info port;
		struct unm_ctl_switch_info sw;
		struct unm_ctl_mac mac;
		struct unm_ctl_offload_info off;
		struct unm_ctl_vxlan_info vxlan;
		struct unm_ctl_backend_info backend;
		uint8_t __raw[368];
	} u;
};

/* C++ spells it static_assert (unm/shm.h has the same switch). */
#ifdef __cplusplus
#define UNM__CTL_ASSERT(c, m) static_assert(c, m)
#else
#define UNM__CTL_ASSERT(c, m) _Static_assert(c, m)
#endif
UNM__CTL_ASSERT(sizeof(struct unm_ctl_portspec) == 896, "unm_ctl_portspec size");
UNM__CTL_ASSERT(sizeof(struct unm_ctl_req) == 1536, "unm_ctl_req size");
UNM__CTL_ASSERT(sizeof(struct unm_ctl_rep) == 256, "unm_ctl_rep size");
UNM__CTL_ASSERT(sizeof(struct unm_ctl_item) == 384, "unm_ctl_item size");
UNM__CTL_ASSERT(sizeof(struct unm_ctl_port_info) <= 368, "port info fits");
UNM__CTL_ASSERT(sizeof(struct unm_ctl_offload_info) <= 368, "offload info fits");
UNM__CTL_ASSERT(sizeof(struct unm_ctl_vxlan_info) <= 368, "vxlan info fits");
UNM__CTL_ASSERT(sizeof(struct unm_ctl_backend_info) <= 368, "backend info fits");
UNM__CTL_ASSERT(sizeof(struct unm_ctl_mac) <= 368, "mac item fits");
#undef UNM__CTL_ASSERT

#ifdef __cplusplus
}
#endif
#endif /* UNM_CTL_H */
