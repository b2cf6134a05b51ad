// SPDX-License-Identifier: BSD-2-Clause
/*
 * nm-raw.c - a netmap program that does everything by hand: open
 * /dev/netmap, NIOCREGIF (struct nmreq) for one pipe end and NIOCCTRL
 * (NETMAP_REQ_REGISTER) for the other, mmap, poll, NIOCTXSYNC/NIOCRXSYNC,
 * munmap, close. It uses only net/netmap.h and net/netmap_user.h and no
 * netmap library function, so it builds against netmap's own headers with
 * nothing of unetmap linked in; tests/compat/run-wrapper.sh runs such a
 * build under unm-netmap-run.
 *   nm-raw PIPE N    N frames master -> slave and N back, frame by frame
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <net/netmap_user.h>
#include "nm-common.h"

struct end {
	int fd;
	void *mem;
	size_t memsize;
	struct netmap_if *nifp;
};

static void open_legacy(struct end *e, const char *name)
{
	struct nmreq req;

	e->fd = open("/dev/netmap", O_RDWR);
	CHECK(e->fd >= 0, "open /dev/netmap: %s", strerror(errno));
	memset(&req, 0, sizeof(req));
	snprintf(req.nr_name, sizeof(req.nr_name), "%.15s", name);
	req.nr_version = NETMAP_API;
	req.nr_flags = NR_REG_ALL_NIC;
	CHECK(ioctl(e->fd, NIOCREGIF, &req) == 0, "NIOCREGIF %s: %s", name, strerror(errno));
	e->memsize = req.nr_memsize;
	e->mem = mmap(NULL, e->memsize, PROT_READ | PROT_WRITE, MAP_SHARED, e->fd, 0);
	CHECK(e->mem != MAP_FAILED, "mmap: %s", strerror(errno));
	e->nifp = NETMAP_IF(e->mem, req.nr_offset);
}

static void open_ctrl(struct end *e, const char *name)
{
	struct nmreq_header hdr;
	struct nmreq_register reg;

	e->fd = open("/dev/netmap", O_RDWR | O_CLOEXEC);
	CHECK(e->fd >= 0, "open /dev/netmap: %s", strerror(errno));
	memset(&hdr, 0, sizeof(hdr));
	memset(&reg, 0, sizeof(reg));
	hdr.nr_version = NETMAP_API;
	hdr.nr_reqtype = NETMAP_REQ_REGISTER;
	hdr.nr_body = (uintptr_t)&reg;
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "netmap:%.50s", name);
	reg.nr_mode = NR_REG_ALL_NIC;
	CHECK(ioctl(e->fd, NIOCCTRL, &hdr) == 0, "NIOCCTRL %s: %s", name, strerror(errno));
	e->memsize = reg.nr_memsize;
	e->mem = mmap(NULL, e->memsize, PROT_READ | PROT_WRITE, MAP_SHARED, e->fd, 0);
	CHECK(e->mem != MAP_FAILED, "mmap: %s", strerror(errno));
	e->nifp = NETMAP_IF(e->mem, reg.nr_offset);
}

static void close_end(struct end *e)
{
	CHECK(munmap(e->mem, e->memsize) == 0, "munmap: %s", strerror(errno));
	CHECK(close(e->fd) == 0, "close: %s", strerror(errno));
}

/* one frame a -> b, through poll() only (no explicit sync) */
static void one(struct end *a, struct end *b, uint32_t i, uint8_t id, int other)
{
	struct netmap_ring *tx = NETMAP_TXRING(a->nifp, 0), *rx = NETMAP_RXRING(b->nifp, 0);
	struct pollfd p[3] = {
		{ .fd = other, .events = POLLIN },
		{ .fd = a->fd, .events = POLLOUT },
		{ .fd = b->fd, .events = 0 },
	};

	CHECK(poll(p, 3, 2000) >= 1 && (p[1].revents & POLLOUT), "no TX space");
	struct netmap_slot *s = &tx->slot[tx->head];
	s->len = (uint16_t)frame_make((uint8_t *)NETMAP_BUF(tx, s->buf_idx), i, id);
	tx->head = tx->cur = nm_ring_next(tx, tx->head);
	if (i % 2)
		CHECK(ioctl(a->fd, NIOCTXSYNC, NULL) == 0, "TXSYNC");
	p[1].events = 0;  /* the poll below still txsyncs a (no NETMAP_NO_TX_POLL) */
	p[2].events = POLLIN;
	CHECK(poll(p, 3, 2000) >= 1 && (p[2].revents & POLLIN) && !p[0].revents,
	      "frame %u did not arrive", i);
	s = &rx->slot[rx->head];
	if (frame_check((uint8_t *)NETMAP_BUF(rx, s->buf_idx), s->len, i, id))
		FAIL("bad frame %u", i);
	rx->head = rx->cur = nm_ring_next(rx, rx->head);
	if (i % 3 == 0)
		CHECK(ioctl(b->fd, NIOCRXSYNC, NULL) == 0, "RXSYNC");
}

int main(int argc, char **argv)
{
	char mn[64], sn[64];
	struct end m, s;
	int fds[2];

	if (argc != 3) {
		fprintf(stderr, "usage: nm-raw PIPE N\n");
		return 2;
	}
	unsigned n = (unsigned)atoi(argv[2]);
	snprintf(mn, sizeof(mn), "%.10s{1", argv[1]);
	snprintf(sn, sizeof(sn), "%.10s}1", argv[1]);
	open_legacy(&m, mn);
	open_ctrl(&s, sn);
	CHECK(pipe(fds) == 0, "pipe");
	for (uint32_t i = 0; i < n; i++) {
		one(&m, &s, i, 1, fds[0]);
		one(&s, &m, i, 2, fds[0]);
	}
	close_end(&m);
	close_end(&s);
	close(fds[0]);
	close(fds[1]);
	printf("PASS %u frames each way\n", n);
	return 0;
}
