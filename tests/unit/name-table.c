// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: the port-name grammar, as a table. Every good name is parsed
 * by unm_parse_name() and every field of the resulting spec is compared
 * (kind, type, sw, port, pipe_id, pipe_role, path, ring, flags and each
 * @conf value); every bad name must fail with the expected errno and the
 * exact message text the application will see through unm_errmsg().
 * A second part builds names at and just past each length limit (interface
 * 15, switch/port 15, pipe name and id 63, path 255, whole name 400).
 * Single-threaded, no I/O.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unm-internal.h"
#include "../lib/test.h"

/* Expected ring and vnet are stored +1 so that an omitted field (0) means
 * the parser's "not given" value (-1). */
#define RING(n) .ring = (n) + 1
#define VNET(n) .vnet = (n) + 1

#define TXO UNM_SPEC_TX_ONLY
#define RXO UNM_SPEC_RX_ONLY
#define MTX UNM_SPEC_MON_TX
#define MRX UNM_SPEC_MON_RX
#define MZC UNM_SPEC_MON_ZCOPY
#define EXC UNM_SPEC_EXCLUSIVE

struct tcase {
	const char *name;
	int rc;                 /* 0, -EINVAL, -EPROTONOSUPPORT */
	const char *msg;        /* bad: the "why" after "bad port name 'NAME': " */
	enum unm_kind kind;
	const char *type, *sw, *port, *pipe_id, *path;
	int pipe_role, ring, vnet;
	unsigned flags;
	unsigned tx_rings, rx_rings, tx_slots, rx_slots, buf_size, extra_bufs;
};

#define GOOD(n, k, t, ...) { .name = (n), .kind = (k), .type = (t), __VA_ARGS__ }
#define BAD(n, why) { .name = (n), .rc = -EINVAL, .msg = (why) }

static const struct tcase cases[] = {
	/* pipes */
	GOOD("pipeA{1", UNM_KIND_PIPE, "pipe", .port = "pipeA", .pipe_id = "1",
	     .pipe_role = UNM_PIPE_MASTER),
	GOOD("pipeA}1", UNM_KIND_PIPE, "pipe", .port = "pipeA", .pipe_id = "1",
	     .pipe_role = UNM_PIPE_SLAVE),
	GOOD("p_2{ab_C9", UNM_KIND_PIPE, "pipe", .port = "p_2", .pipe_id = "ab_C9",
	     .pipe_role = UNM_PIPE_MASTER),
	GOOD("x}y-3/T", UNM_KIND_PIPE, "pipe", .port = "x", .pipe_id = "y",
	     .pipe_role = UNM_PIPE_SLAVE, RING(3), .flags = TXO),
	GOOD("pipeA{1/x@conf:slots=128", UNM_KIND_PIPE, "pipe", .port = "pipeA",
	     .pipe_id = "1", .pipe_role = UNM_PIPE_MASTER, .flags = EXC,
	     .tx_slots = 128, .rx_slots = 128),
	GOOD("null{1", UNM_KIND_PIPE, "pipe", .port = "null", .pipe_id = "1",
	     .pipe_role = UNM_PIPE_MASTER),
	GOOD("pipeA{1/t", UNM_KIND_MONITOR, "monitor", .port = "pipeA", .pipe_id = "1",
	     .pipe_role = UNM_PIPE_MASTER, .path = "pipeA{1", .flags = MTX),
	BAD("pipeA{", "missing pipe id"),
	BAD("pipeA}", "missing pipe id"),
	BAD("{1", "missing pipe name"),
	BAD("pipeA{1{2", "more than one '{' or '}'"),
	BAD("pipeA{1}2", "more than one '{' or '}'"),
	BAD("pipe-A{1", "pipe name may contain only letters, digits and '_' (found '-')"),
	BAD("pipeA{1.2", "unexpected '.' at offset 7"),
	BAD("pipeA{1:x", "unexpected ':' at offset 7"),
	BAD("pipeA", "no port type: expected TYPE:ARG (vale0:p1, tap:tap0, ...) or a pipe NAME{ID"),

	/* VALE: "vale" followed by an optional id, as netmap allows */
	GOOD("vale0:p1", UNM_KIND_VALE, "vale", .sw = "vale0", .port = "p1"),
	GOOD("vale:x", UNM_KIND_VALE, "vale", .sw = "vale", .port = "x"),
	GOOD("valeA_b:Port_7", UNM_KIND_VALE, "vale", .sw = "valeA_b", .port = "Port_7"),
	GOOD("vale0:p1-2", UNM_KIND_VALE, "vale", .sw = "vale0", .port = "p1", RING(2)),
	GOOD("vale0:p1/R", UNM_KIND_VALE, "vale", .sw = "vale0", .port = "p1", .flags = RXO),
	GOOD("vale1:a/x-15", UNM_KIND_VALE, "vale", .sw = "vale1", .port = "a",
	     .flags = EXC, RING(15)),
	GOOD("vale0:p1/t", UNM_KIND_MONITOR, "monitor", .sw = "vale0", .port = "p1",
	     .path = "vale0:p1", .flags = MTX),
	GOOD("vale0:p1/r", UNM_KIND_MONITOR, "monitor", .sw = "vale0", .port = "p1",
	     .path = "vale0:p1", .flags = MRX),
	GOOD("vale0:p1/z", UNM_KIND_MONITOR, "monitor", .sw = "vale0", .port = "p1",
	     .path = "vale0:p1", .flags = MZC),
	GOOD("vale0:p1-1/tr", UNM_KIND_MONITOR, "monitor", .sw = "vale0", .port = "p1",
	     .path = "vale0:p1", .flags = MTX | MRX, RING(1)),
	BAD("vale0:", "missing switch port name"),
	BAD("vale-0:p", "switch name may contain only letters, digits and '_'"),
	BAD("vale0:p.1", "switch port name may contain only letters, digits and '_' (found '.')"),
	BAD("vale0:p1:x", "switch port name may contain only letters, digits and '_' (found ':')"),
	BAD("vale0:p1{2", "pipes of switch ports are not supported; use a pipe NAME{ID"),
	BAD("vale0:p1-16", "ring=16 out of range 0..15"),
	BAD("vale0:p1-", "missing value for 'ring'"),
	BAD("vale0:p1-1-2", "ring given twice"),

	/* flags */
	GOOD("null/T", UNM_KIND_NULL, "null", .flags = TXO),
	GOOD("null/xR", UNM_KIND_NULL, "null", .flags = EXC | RXO),
	GOOD("null/x/R-0", UNM_KIND_NULL, "null", .flags = EXC | RXO, RING(0)),
	GOOD("null/zx", UNM_KIND_MONITOR, "monitor", .path = "null", .flags = MZC | EXC),
	BAD("null/TR", "/T and /R exclude each other"),
	BAD("null/", "empty flag list after '/'"),
	BAD("null/@conf=2", "empty flag list after '/'"),
	BAD("null/q", "unknown flag 'q' (flags are x z t r T R)"),

	/* @conf */
	GOOD("null@conf=4", UNM_KIND_NULL, "null", .tx_rings = 4, .rx_rings = 4),
	GOOD("null@conf:rings=2,slots=100,bufsize=1024", UNM_KIND_NULL, "null",
	     .tx_rings = 2, .rx_rings = 2, .tx_slots = 100, .rx_slots = 100, .buf_size = 1024),
	GOOD("null@conf:tx-rings=1,rx-rings=16,tx-slots=64,rx-slots=4096", UNM_KIND_NULL,
	     "null", .tx_rings = 1, .rx_rings = 16, .tx_slots = 64, .rx_slots = 4096),
	GOOD("null@conf:bufsize=64,extra-bufs=65536,vnet=12", UNM_KIND_NULL, "null",
	     .buf_size = 64, .extra_bufs = 65536, VNET(12)),
	GOOD("null@conf:buf-size=65536,vnet=0", UNM_KIND_NULL, "null",
	     .buf_size = 65536, VNET(0)),
	GOOD("null@conf:vnet=10@conf:rings=3", UNM_KIND_NULL, "null", VNET(10),
	     .tx_rings = 3, .rx_rings = 3),
	GOOD("null@conf:rings=2,tx-rings=5", UNM_KIND_NULL, "null", .tx_rings = 5, .rx_rings = 2),
	BAD("null@conf", "expected ':' or '=' after @conf"),
	BAD("null@conf:", "empty @conf option list"),
	BAD("null@conf:,rings=2", "empty @conf option"),
	BAD("null@conf:rings", "@conf option 'rings' has no value"),
	BAD("null@conf:rings=", "missing value for 'rings'"),
	BAD("null@conf:rings=2,", "trailing ',' in @conf"),
	BAD("null@conf:rings=0", "rings=0 out of range 1..16"),
	BAD("null@conf=17", "rings=17 out of range 1..16"),
	BAD("null@conf:tx-rings=17", "tx-rings=17 out of range 1..16"),
	BAD("null@conf:slots=63", "slots=63 out of range 64..4096"),
	BAD("null@conf:rx-slots=4097", "rx-slots=4097 out of range 64..4096"),
	BAD("null@conf:bufsize=63", "bufsize=63 out of range 64..65536"),
	BAD("null@conf:bufsize=65537", "bufsize=65537 out of range 64..65536"),
	BAD("null@conf:extra-bufs=65537", "extra-bufs=65537 out of range 0..65536"),
	BAD("null@conf:vnet=11", "vnet=11: the virtio-net header is 0, 10 or 12 bytes"),
	BAD("null@conf:vnet=13", "vnet=13 out of range 0..12"),
	BAD("null@conf:slots=99999999999", "slots=99999999999 is too large"),
	BAD("null@conf:rings=two", "'two' is not a number for 'rings'"),
	BAD("null@conf:rings=-1", "'-1' is not a number for 'rings'"),
	BAD("null@conf:mtu=1500", "unknown @conf option 'mtu'"),
	BAD("null@config", "unknown option '@config' (supported: @conf)"),
	BAD("null@share=vale0:p1", "unknown option '@share' (supported: @conf)"),
	BAD("null@extmem:file=/x", "unknown option '@extmem' (supported: @conf)"),
	BAD("null@1", "memory region ids (@N) are not supported: each port has its own region"),
	BAD("null@", "unknown option '@' (supported: @conf)"),

	/* null */
	GOOD("null", UNM_KIND_NULL, "null"),
	GOOD("null:", UNM_KIND_NULL, "null"),
	GOOD("null-1", UNM_KIND_NULL, "null", RING(1)),
	GOOD("null:-1", UNM_KIND_NULL, "null", RING(1)),
	BAD("null:foo", "the null port takes no argument"),
	BAD("nullx", "no port type: expected TYPE:ARG (vale0:p1, tap:tap0, ...) or a pipe NAME{ID"),

	/* interface backends: '-' inside a name, -N at the end is the ring */
	GOOD("tap:tap0", UNM_KIND_TAP, "tap", .port = "tap0"),
	GOOD("afpacket:veth-a", UNM_KIND_AFPACKET, "afpacket", .port = "veth-a"),
	GOOD("afpacket:eth0-2", UNM_KIND_AFPACKET, "afpacket", .port = "eth0", RING(2)),
	GOOD("afpacket:veth-1a-2", UNM_KIND_AFPACKET, "afpacket", .port = "veth-1a", RING(2)),
	/* name_fuzz find: as a monitor target "afpacket:veth-1" meant ring 1 of veth */
	BAD("afpacket:veth-1-2", "interface name 'veth-1' ends in -N, which reads as a ring number"),
	BAD("afpacket:.-0-2/t", "interface name '.-0' ends in -N, which reads as a ring number"),
	GOOD("afpacket:veth.10", UNM_KIND_AFPACKET, "afpacket", .port = "veth.10"),
	GOOD("afxdp:eth0-3", UNM_KIND_AFXDP, "afxdp", .port = "eth0", RING(3)),
	GOOD("afxdp:eth0/x@conf:slots=2048", UNM_KIND_AFXDP, "afxdp", .port = "eth0",
	     .flags = EXC, .tx_slots = 2048, .rx_slots = 2048),
	GOOD("tap:tap0@conf:vnet=12", UNM_KIND_TAP, "tap", .port = "tap0", VNET(12)),
	GOOD("tap:tap0-", UNM_KIND_TAP, "tap", .port = "tap0-"),
	GOOD("tap:tap0/r", UNM_KIND_MONITOR, "monitor", .port = "tap0", .path = "tap:tap0",
	     .flags = MRX),
	BAD("tap:", "missing interface name"),
	BAD("tap:-1", "missing interface name"),
	BAD("tap:.", "'.' is not an interface name"),
	BAD("tap:..", "'..' is not an interface name"),
	BAD("tap:a{b", "interface name may not contain '{'"),
	BAD("afpacket:eth0:1", "interface name may not contain ':'"),
	BAD("afxdp:eth0-99", "ring=99 out of range 0..15"),

	/* paths: '-', '/' and '.' are part of the path, @conf ends it */
	GOOD("shmif:/tmp/bus-1", UNM_KIND_SHMIF, "shmif", .path = "/tmp/bus-1"),
	GOOD("shmif:/tmp/bus@conf:slots=128", UNM_KIND_SHMIF, "shmif", .path = "/tmp/bus",
	     .tx_slots = 128, .rx_slots = 128),
	GOOD("shmif:rel/bus/T", UNM_KIND_SHMIF, "shmif", .path = "rel/bus/T"),
	GOOD("shmif:/tmp/a@b", UNM_KIND_SHMIF, "shmif", .path = "/tmp/a@b"),
	GOOD("vhost-user:/run/x.sock", UNM_KIND_VHOST, "vhost-user", .path = "/run/x.sock"),
	GOOD("vxlan:198.18.0.2@conf:vni=42", UNM_KIND_VXLAN, "vxlan", .path = "198.18.0.2"),
	GOOD("vxlan:198.18.0.2,198.18.0.3@conf:vni=42,port=8472,local=198.18.0.1,slots=256",
	     UNM_KIND_VXLAN, "vxlan", .path = "198.18.0.2,198.18.0.3", .tx_slots = 256,
	     .rx_slots = 256),
	GOOD("vxlan:fd00::2@conf:vni=7,local=fd00::1", UNM_KIND_VXLAN, "vxlan", .path = "fd00::2"),
	GOOD("vxlan:239.1.1.1@conf:vni=1,ttl=4,learn=64,ageing=30", UNM_KIND_VXLAN, "vxlan",
	     .path = "239.1.1.1"),
	BAD("vxlan:198.18.0.2", "vxlan: missing @conf:vni=N (the VXLAN network identifier)"),
	BAD("vxlan:198.18.0.2@conf:vni=16777216", "vxlan: vni must be 0..16777215"),
	BAD("vxlan:198.18.0.300@conf:vni=1", "vxlan: remote '198.18.0.300' is not an IPv4 or IPv6 address"),
	BAD("vxlan:198.18.0.2,fd00::2@conf:vni=1", "vxlan: remotes mix IPv4 and IPv6"),
	BAD("vxlan:239.1.1.1,198.18.0.2@conf:vni=1", "vxlan: a multicast group must be the only remote"),
	BAD("vxlan:198.18.0.2@conf:vni=1,local=fd00::1", "vxlan: local and remote addresses are of different families"),
	BAD("vxlan:198.18.0.2@conf:vni=1,learn=0", "vxlan: learn must be 1..65536 entries"),
	GOOD("vxlan:198.18.0.2@conf:vni=1,rxcsum=trust", UNM_KIND_VXLAN, "vxlan",
	     .path = "198.18.0.2"),
	GOOD("vxlan:198.18.0.2@conf:rxcsum=verify,vni=1", UNM_KIND_VXLAN, "vxlan",
	     .path = "198.18.0.2"),
	BAD("vxlan:198.18.0.2@conf:vni=1,rxcsum=trusted", "vxlan: rxcsum must be verify or trust"),
	BAD("vxlan:198.18.0.2@conf:vni=1,rxcsum=", "vxlan: rxcsum must be verify or trust"),
	GOOD("dpdk:0000:03:00.0", UNM_KIND_DPDK, "dpdk", .path = "0000:03:00.0"),
	GOOD("dpdk:net_memif0,role=client,socket=/run/m.sock@conf:rings=2", UNM_KIND_DPDK,
	     "dpdk", .path = "net_memif0,role=client,socket=/run/m.sock", .tx_rings = 2,
	     .rx_rings = 2),
	GOOD("dpdk:net_null0@conf:eal=--no-huge+-m+64", UNM_KIND_DPDK, "dpdk",
	     .path = "net_null0"),
	GOOD("dpdk:net_null0@conf:zerocopy=0,eal=--no-huge", UNM_KIND_DPDK, "dpdk",
	     .path = "net_null0"),
	BAD("vxlan:198.18.0.2@conf:vni=1,zerocopy=1", "unknown @conf option 'zerocopy'"),
	BAD("dpdk:net_null0@conf:vni=4", "unknown @conf option 'vni'"),
	BAD("vxlan:198.18.0.2@conf:vni=1,eal=x", "unknown @conf option 'eal'"),
	BAD("dpdk:", "missing path"),
	BAD("vxlan:@conf:vni=1", "missing path"),
	BAD("shmif:", "missing path"),
	BAD("shmif:@conf=2", "missing path"),
	BAD("shmif:/x@conf:rings=x", "'x' is not a number for 'rings'"),
	BAD("vhost-user:/x@conf:bad=1", "unknown @conf option 'bad'"),
	GOOD("memif:/run/unetmap/m0.sock", UNM_KIND_MEMIF, "memif", .path = "/run/unetmap/m0.sock"),
	GOOD("memif:/tmp/m.sock@conf:role=slave,id=3,secret=s3,rings=2", UNM_KIND_MEMIF, "memif",
	     .path = "/tmp/m.sock", .tx_rings = 2, .rx_rings = 2),
	GOOD("memif:@dpdk-abstract@conf:role=master", UNM_KIND_MEMIF, "memif",
	     .path = "@dpdk-abstract"),
	BAD("memif:/x@conf:role=boss", "role=boss: the memif role is master (or server) or slave (or client)"),
	BAD("memif:/x@conf:id=4294967296", "id=4294967296 out of range 0..4294967295"),
	BAD("memif:/x@conf:secret=123456789012345678901234", "secret: 1 to 23 characters"),
	BAD("memif:@", "missing abstract socket name after '@'"),
	BAD("memif:/x@conf:vni=1", "unknown @conf option 'vni'"),

	/* ivshmem: a PCI address */
	GOOD("ivshmem:0000:00:04.0", UNM_KIND_IVSHMEM, "ivshmem", .path = "0000:00:04.0"),
	GOOD("ivshmem:00:1f.7", UNM_KIND_IVSHMEM, "ivshmem", .path = "00:1f.7"),
	GOOD("ivshmem:ABCD:ef:1F.0", UNM_KIND_IVSHMEM, "ivshmem", .path = "ABCD:ef:1F.0"),
	BAD("ivshmem:00:20.0", "'00:20.0' is not a PCI address ([DDDD:]BB:DD.F, hex)"),
	BAD("ivshmem:00:04.8", "'00:04.8' is not a PCI address ([DDDD:]BB:DD.F, hex)"),
	BAD("ivshmem::::", "':::' is not a PCI address ([DDDD:]BB:DD.F, hex)"),
	BAD("ivshmem:0000:00:04.0/x", "unexpected '/' at offset 20"),
	BAD("ivshmem:", "missing PCI address"),

	/* monitors */
	GOOD("monitor:vale0:p1", UNM_KIND_MONITOR, "monitor", .sw = "vale0", .port = "p1",
	     .path = "vale0:p1", .flags = MTX | MRX),
	GOOD("monitor:vale0:p1/t", UNM_KIND_MONITOR, "monitor", .sw = "vale0", .port = "p1",
	     .path = "vale0:p1", .flags = MTX),
	GOOD("monitor:vale0:p1-2@conf:slots=128", UNM_KIND_MONITOR, "monitor", .sw = "vale0",
	     .port = "p1", .path = "vale0:p1", .flags = MTX | MRX, RING(2),
	     .tx_slots = 128, .rx_slots = 128),
	GOOD("monitor:pipeB}x/z", UNM_KIND_MONITOR, "monitor", .port = "pipeB", .pipe_id = "x",
	     .pipe_role = UNM_PIPE_SLAVE, .path = "pipeB}x", .flags = MZC),
	GOOD("monitor:shmif:/tmp/bus@conf:slots=64", UNM_KIND_MONITOR, "monitor",
	     .path = "shmif:/tmp/bus", .flags = MTX | MRX, .tx_slots = 64, .rx_slots = 64),
	GOOD("monitor:null", UNM_KIND_MONITOR, "monitor", .path = "null", .flags = MTX | MRX),
	BAD("monitor:", "empty name"),
	BAD("monitor:monitor:null", "a monitor of a monitor"),
	BAD("monitor:vale0:", "missing switch port name"),

	/* types */
	{ .name = "bogus:x", .rc = -EPROTONOSUPPORT,
	  .msg = "unknown port type 'bogus' (known: valeN, tap, afpacket, afxdp, shmif, monitor, ivshmem, vhost-user, vxlan, dpdk, memif, null, or a pipe NAME{ID)" },
	{ .name = "netmap:eth0", .rc = -EPROTONOSUPPORT,
	  .msg = "unknown port type 'netmap' (known: valeN, tap, afpacket, afxdp, shmif, monitor, ivshmem, vhost-user, vxlan, dpdk, memif, null, or a pipe NAME{ID)" },
	{ .name = "TAP:tap0", .rc = -EPROTONOSUPPORT,
	  .msg = "unknown port type 'TAP' (known: valeN, tap, afpacket, afxdp, shmif, monitor, ivshmem, vhost-user, vxlan, dpdk, memif, null, or a pipe NAME{ID)" },
	{ .name = "abcdefghijklmnopqrstuvwxyz:x", .rc = -EPROTONOSUPPORT,
	  .msg = "unknown port type 'abcdefghijklmnopqrst' (known: valeN, tap, afpacket, afxdp, shmif, monitor, ivshmem, vhost-user, vxlan, dpdk, memif, null, or a pipe NAME{ID)" },
	{ .name = "monitor:foo:bar", .rc = -EPROTONOSUPPORT,
	  .msg = "unknown port type 'foo' (known: valeN, tap, afpacket, afxdp, shmif, monitor, ivshmem, vhost-user, vxlan, dpdk, memif, null, or a pipe NAME{ID)" },
	BAD(":x", "missing port type before ':'"),

	/* characters */
	BAD("", "empty name"),
	BAD(" null", "contains a space, control or non-ASCII character at offset 0"),
	BAD("null ", "contains a space, control or non-ASCII character at offset 4"),
	BAD("vale0:p 1", "contains a space, control or non-ASCII character at offset 7"),
	BAD("tap:t\tap", "contains a space, control or non-ASCII character at offset 5"),
	BAD("tap:\xc3\xa9t", "contains a space, control or non-ASCII character at offset 4"),
};

static int check_str(const char *name, const char *field, const char *got, const char *want)
{
	if (!want)
		want = "";
	if (strcmp(got, want)) {
		printf("FAIL '%s': %s = '%s', expected '%s'\n", name, field, got, want);
		return 1;
	}
	return 0;
}

static int check_uint(const char *name, const char *field, long long got, long long want)
{
	if (got != want) {
		printf("FAIL '%s': %s = %lld, expected %lld\n", name, field, got, want);
		return 1;
	}
	return 0;
}

/* Returns the number of mismatches. */
static int run_case(const struct tcase *t)
{
	struct unm_spec s;
	char err[512], want[768];
	int rc, bad = 0;

	memset(&s, 0x5a, sizeof(s)); /* the parser must reset every field */
	rc = unm_parse_name(t->name, &s, err, sizeof(err));
	if (rc != t->rc) {
		printf("FAIL '%s': rc %d, expected %d (%s)\n", t->name, rc, t->rc, err);
		return 1;
	}
	if (rc) {
		snprintf(want, sizeof(want), "bad port name '%.96s': %s", t->name, t->msg);
		return check_str(t->name, "message", err, want);
	}
	bad += check_str(t->name, "err", err, "");
	bad += check_uint(t->name, "kind", s.kind, t->kind);
	bad += check_str(t->name, "type", s.type, t->type);
	bad += check_str(t->name, "sw", s.sw, t->sw);
	bad += check_str(t->name, "port", s.port, t->port);
	bad += check_str(t->name, "pipe_id", s.pipe_id, t->pipe_id);
	bad += check_str(t->name, "path", s.path, t->path);
	bad += check_uint(t->name, "pipe_role", s.pipe_role, t->pipe_role);
	bad += check_uint(t->name, "ring", s.ring, t->ring - 1);
	bad += check_uint(t->name, "flags", s.flags, t->flags);
	bad += check_uint(t->name, "tx_rings", s.tx_rings, t->tx_rings);
	bad += check_uint(t->name, "rx_rings", s.rx_rings, t->rx_rings);
	bad += check_uint(t->name, "tx_slots", s.tx_slots, t->tx_slots);
	bad += check_uint(t->name, "rx_slots", s.rx_slots, t->rx_slots);
	bad += check_uint(t->name, "buf_size", s.buf_size, t->buf_size);
	bad += check_uint(t->name, "extra_bufs", s.extra_bufs, t->extra_bufs);
	bad += check_uint(t->name, "vnet_hdr_len", s.vnet_hdr_len, t->vnet - 1);
	return bad;
}

/* A string of N copies of CH (static storage, one per call site is enough). */
static char *rep(char *buf, char ch, size_t n)
{
	memset(buf, ch, n);
	buf[n] = '\0';
	return buf;
}

/* Names built at run time: each limit, and one past it. */
static int run_limits(void)
{
	static char a[300], b[300], name[1024], why[320];
	struct tcase t;
	int bad = 0;

#define LIM_GOOD(...) do { t = (struct tcase){ .name = name, __VA_ARGS__ }; bad += run_case(&t); } while (0)
#define LIM_BAD(w) do { t = (struct tcase){ .name = name, .rc = -EINVAL, .msg = (w) }; bad += run_case(&t); } while (0)
	/* interface names: 15 characters (IFNAMSIZ - 1) */
	snprintf(name, sizeof(name), "tap:%s", rep(a, 'i', 15));
	LIM_GOOD(.kind = UNM_KIND_TAP, .type = "tap", .port = a);
	snprintf(name, sizeof(name), "afxdp:%s-1", rep(a, 'i', 15));
	LIM_GOOD(.kind = UNM_KIND_AFXDP, .type = "afxdp", .port = a, RING(1));
	snprintf(name, sizeof(name), "tap:%s", rep(a, 'i', 16));
	LIM_BAD("interface name longer than 15 characters");
	/* VALE switch and port: 15 each */
	snprintf(name, sizeof(name), "vale%s:%s", rep(a, '1', 11), rep(b, 'p', 15));
	snprintf(why, sizeof(why), "vale%s", a);
	LIM_GOOD(.kind = UNM_KIND_VALE, .type = "vale", .sw = why, .port = b);
	snprintf(name, sizeof(name), "vale%s:p", rep(a, '1', 12));
	LIM_BAD("switch name longer than 15 characters");
	snprintf(name, sizeof(name), "vale0:%s", rep(a, 'p', 16));
	LIM_BAD("switch port name longer than 15 characters");
	/* pipe name and id: 63 each */
	snprintf(name, sizeof(name), "%s{%s", rep(a, 'n', 63), rep(b, '9', 63));
	LIM_GOOD(.kind = UNM_KIND_PIPE, .type = "pipe", .port = a, .pipe_id = b,
		 .pipe_role = UNM_PIPE_MASTER);
	snprintf(name, sizeof(name), "%s}1", rep(a, 'n', 64));
	LIM_BAD("pipe name longer than 63 characters");
	snprintf(name, sizeof(name), "p}%s", rep(a, 'i', 64));
	LIM_BAD("pipe id longer than 63 characters");
	/* paths: 255 */
	rep(a, 'f', 255);
	a[0] = '/';
	snprintf(name, sizeof(name), "shmif:%s", a);
	LIM_GOOD(.kind = UNM_KIND_SHMIF, .type = "shmif", .path = a);
	snprintf(name, sizeof(name), "vhost-user:%s/", a);
	LIM_BAD("path longer than 255 characters");
	/* a monitor's target name is a path too: "shmif:" + 249 fits */
	a[249] = '\0';
	snprintf(name, sizeof(name), "monitor:shmif:%s", a);
	snprintf(why, sizeof(why), "shmif:%s", a);
	LIM_GOOD(.kind = UNM_KIND_MONITOR, .type = "monitor", .path = why, .flags = MTX | MRX);
	snprintf(name, sizeof(name), "monitor:shmif:%s/", a);
	LIM_BAD("monitored port longer than 255 characters");
	/* the whole name: 400 characters; the message quotes 96 of them */
	/* exactly 400: "shmif:" + 254 + 20 x "@conf=2" */
	snprintf(name, sizeof(name), "shmif:%s", rep(a, 'f', 400 - 6 - 7 * 20));
	for (int i = 0; i < 20; i++)
		strcat(name, "@conf=2");
	T_ASSERT_EQ(strlen(name), 400);
	LIM_GOOD(.kind = UNM_KIND_SHMIF, .type = "shmif", .path = a,
		 .tx_rings = 2, .rx_rings = 2);
	strcat(name, "x");
	LIM_BAD("longer than 400 characters");
	T_ASSERT(strlen(name) == 401);
	/* a very long name: refused by length before anything else */
	{
		char *big = malloc(4097);

		T_ASSERT(big);
		memset(big, 'a', 4096);
		memcpy(big, "tap:", 4);
		big[4096] = '\0';
		t = (struct tcase){ .name = big, .rc = -EINVAL, .msg = "longer than 400 characters" };
		bad += run_case(&t);
		free(big);
	}
	/* NULL name, and a tiny or absent error buffer */
	{
		struct unm_spec s;
		char err[8];

		T_ASSERT_EQ(unm_parse_name(NULL, &s, err, sizeof(err)), -EINVAL);
		T_ASSERT(!strcmp(err, "bad por"));
		T_ASSERT_EQ(unm_parse_name("nope", &s, NULL, 0), -EINVAL);
		T_ASSERT_EQ(unm_parse_name("null", &s, NULL, 0), 0);
	}
	return bad;
#undef LIM_GOOD
#undef LIM_BAD
}

int main(void)
{
	int bad = 0;
	unsigned n = ARRAY_SIZE(cases);

	t_watchdog(30);
	for (unsigned i = 0; i < n; i++)
		bad += run_case(&cases[i]);
	bad += run_limits();
	if (bad) {
		printf("FAIL: %d mismatches\n", bad);
		return T_EXIT_FAIL;
	}
	printf("ok: %u table names and the length limits\n", n);
	return T_EXIT_PASS;
}
