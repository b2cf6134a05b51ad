// SPDX-License-Identifier: BSD-2-Clause
/*
 * nm-legacy.c - a netmap application of the legacy generation
 * (NETMAP_WITH_LIBS: nm_open, nm_inject, nm_dispatch, nm_nextpkt, struct
 * nmreq with NIOCREGIF/NIOCGINFO) used by tests/compat/legacy.sh; built
 * only with the unm-netmap pkg-config line, -Wall -Wextra -Werror.
 *   nm-legacy PIPE    every check on pipes named PIPE, in one process
 */
#define NETMAP_WITH_LIBS
#include <net/netmap_user.h>
#include <poll.h>
#include "nm-common.h"

static uint32_t expect;

static void cb(u_char *arg, const struct nm_pkthdr *h, const u_char *buf)
{
	uint8_t id = *(uint8_t *)arg;

	CHECK(h->len == h->caplen && h->buf == buf && h->slot && h->d, "pkthdr fields");
	if (frame_check(buf, h->len, expect, id))
		FAIL("nm_dispatch: bad frame %u", expect);
	expect++;
}

static void wait_fd(int fd, short ev)
{
	struct pollfd p = { .fd = fd, .events = ev };

	CHECK(poll(&p, 1, 2000) == 1 && (p.revents & ev), "poll %x: %x", ev, p.revents);
}

int main(int argc, char **argv)
{
	char mn[64], sn[64], err[128];
	struct nm_desc *m, *s, tmp;
	uint8_t fb[1514], id = 5;

	if (argc != 2) {
		fprintf(stderr, "usage: nm-legacy PIPE\n");
		return 2;
	}
	D("legacy API test on pipes %s (D macro)", argv[1]);
	RD(1, "RD macro %d", 1);
	ND("ND macro %d", 2);

	/* nm_parse */
	memset(&tmp, 0, sizeof(tmp));
	CHECK(nm_parse("netmap:eth0-2/T", &tmp, err) == 0, "nm_parse: %s", err);
	CHECK((tmp.req.nr_flags & NR_REG_MASK) == NR_REG_ONE_NIC &&
	      (tmp.req.nr_ringid & NETMAP_RING_MASK) == 2 &&
	      (tmp.req.nr_flags & NR_TX_RINGS_ONLY) && !strcmp(tmp.req.nr_name, "eth0"),
	      "nm_parse result %x %x '%s'", tmp.req.nr_flags, tmp.req.nr_ringid, tmp.req.nr_name);
	CHECK(nm_parse("netmap:eth0/Q", &tmp, err) == -1 && err[0], "nm_parse accepted a bad flag");
	CHECK(!nm_open("netmap:eth0^", NULL, 0, NULL) && errno == ENOTSUP, "host rings");

	/* nm_open with ring configuration taken from a parent */
	snprintf(mn, sizeof(mn), "netmap:%s{1", argv[1]);
	snprintf(sn, sizeof(sn), "netmap:%s}1", argv[1]);
	memset(&tmp, 0, sizeof(tmp));
	tmp.req.nr_tx_slots = tmp.req.nr_rx_slots = 512;
	m = nm_open(mn, NULL, NM_OPEN_RING_CFG, &tmp);
	CHECK(m, "nm_open %s: %s", mn, strerror(errno));
	s = nm_open(sn, NULL, 0, NULL);
	CHECK(s, "nm_open %s: %s", sn, strerror(errno));
	CHECK(IS_NETMAP_DESC(m) && NETMAP_FD(m) == m->fd && m->mem && m->memsize &&
	      m->nifp && m->some_ring && m->buf_start < m->buf_end && m->done_mmap, "nm_desc");
	CHECK(m->req.nr_tx_slots == 512 && m->first_tx_ring == 0 && m->last_tx_ring == 0 &&
	      NETMAP_TXRING(m->nifp, 0)->num_slots == 512, "RING_CFG: %u slots", m->req.nr_tx_slots);
	CHECK(m->req.nr_arg2 != 0 && m->req.nr_arg2 != s->req.nr_arg2, "mem ids");

	/* nm_inject + poll(POLLOUT) syncs TX; nm_dispatch with a count, then all */
	for (uint32_t i = 0; i < 10; i++) {
		unsigned l = frame_make(fb, i, id);
		CHECK(nm_inject(m, fb, l) == (int)l, "nm_inject %u", i);
	}
	wait_fd(m->fd, POLLOUT);
	wait_fd(s->fd, POLLIN);
	expect = 0;
	CHECK(nm_dispatch(s, 4, cb, &id) == 4 && expect == 4, "nm_dispatch 4");
	CHECK(nm_dispatch(s, 0, cb, &id) == 6 && expect == 10, "nm_dispatch all");
	CHECK(nm_dispatch(s, 0, cb, &id) == 0, "nm_dispatch empty");
	CHECK(ioctl(s->fd, NIOCRXSYNC, NULL) == 0, "RXSYNC");

	/* nm_nextpkt, frame by frame, over many ring wraps */
	for (uint32_t i = 0; i < 2000; i++) {
		unsigned l = frame_make(fb, i, id);
		struct nm_pkthdr h;
		u_char *b;

		CHECK(nm_inject(m, fb, l) == (int)l, "nm_inject %u", i);
		CHECK(ioctl(m->fd, NIOCTXSYNC, NULL) == 0, "TXSYNC");
		wait_fd(s->fd, POLLIN);
		b = nm_nextpkt(s, &h);
		CHECK(b, "nm_nextpkt %u", i);
		if (frame_check(b, h.len, i, id))
			FAIL("nm_nextpkt: bad frame %u", i);
	}

	/* nm_pkt_copy: 64-byte words and memcpy */
	uint8_t src[256], dst[256];
	for (int k = 0; k < 256; k++)
		src[k] = (uint8_t)k;
	nm_pkt_copy(src, dst, 128);
	CHECK(!memcmp(src, dst, 128), "nm_pkt_copy 128");
	nm_pkt_copy(src + 1, dst, 100);
	CHECK(!memcmp(src + 1, dst, 100), "nm_pkt_copy 100");

	/* struct nmreq by hand: NIOCREGIF, NIOCGINFO, vnet header commands */
	struct nmreq req;
	int fd = open(NETMAP_DEVICE_NAME, O_RDWR);
	CHECK(fd >= 0, "open /dev/netmap: %s", strerror(errno));
	memset(&req, 0, sizeof(req));
	snprintf(req.nr_name, sizeof(req.nr_name), "%.8s{9", argv[1]);
	req.nr_version = NETMAP_API;
	req.nr_ringid = NETMAP_NO_TX_POLL;
	req.nr_flags = NR_REG_ALL_NIC | NR_ACCEPT_VNET_HDR;
	CHECK(ioctl(fd, NIOCREGIF, &req) == 0, "NIOCREGIF: %s", strerror(errno));
	void *mem = mmap(NULL, req.nr_memsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(mem != MAP_FAILED, "mmap: %s", strerror(errno));
	struct netmap_if *nifp = NETMAP_IF(mem, req.nr_offset);
	CHECK(nifp->ni_tx_rings == req.nr_tx_rings && req.nr_tx_slots > 0, "NIOCREGIF results");
	struct nmreq info = req;
	info.nr_memsize = 0;
	CHECK(ioctl(fd, NIOCGINFO, &info) == 0 && info.nr_memsize == req.nr_memsize, "NIOCGINFO");
	info.nr_cmd = NETMAP_VNET_HDR_GET;
	info.nr_arg1 = 77;
	CHECK(ioctl(fd, NIOCREGIF, &info) == 0 && info.nr_arg1 == 0, "VNET_HDR_GET");
	info.nr_cmd = NETMAP_BDG_VNET_HDR;
	info.nr_arg1 = 0;
	CHECK(ioctl(fd, NIOCREGIF, &info) == 0, "BDG_VNET_HDR 0");
	CHECK(munmap(mem, req.nr_memsize) == 0 && close(fd) == 0, "munmap/close");
	/* host ring via the legacy ringid */
	fd = open(NETMAP_DEVICE_NAME, O_RDWR);
	memset(&req, 0, sizeof(req));
	snprintf(req.nr_name, sizeof(req.nr_name), "eth0");
	req.nr_version = NETMAP_API;
	req.nr_ringid = NETMAP_SW_RING;
	CHECK(ioctl(fd, NIOCREGIF, &req) < 0 && errno == ENOTSUP, "NETMAP_SW_RING");
	close(fd);
	(void)NS_BUF_CHANGED; (void)NS_REPORT; (void)NS_FORWARD; (void)NS_NO_LEARN;
	(void)NS_INDIRECT; (void)NS_MOREFRAG; (void)NS_TXMON; (void)NETMAP_BDG_VNET_HDR;

	CHECK(nm_close(m) == 0 && nm_close(s) == 0, "nm_close");
	printf("PASS\n");
	return 0;
}
