// SPDX-License-Identifier: BSD-2-Clause
/*
 * nm-api.c - a netmap application (libnetmap, the current API) used by
 * the shell tests of tests/compat; built only with
 *     cc nm-api.c $(pkg-config --cflags --libs unm-netmap) -Wall -Wextra -Werror
 *
 *   nm-api selftest PIPE   every item of the API on pipe PIPE in one process
 *   nm-api ping PORT N     send frame i, wait for its echo, N times (netmap API)
 *   nm-api unm-echo PORT N receive frame i and echo it, N times (unetmap API)
 *   nm-api drain PIPE N HOLD exit|sigkill|fwd|kill
 *                          pkt-gen's sender ending while its receiver dies
 * Exit 0 when every check held.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libnetmap.h>
#include <unm.h>
#include "nm-common.h"

/* Put frame i into the next TX slot of d's first ring (no sync). */
static void put(struct nmport_d *d, uint32_t i, uint8_t id)
{
	struct netmap_ring *r = NETMAP_TXRING(d->nifp, d->first_tx_ring);
	uint32_t h = r->head;

	CHECK(!nm_ring_empty(r), "TX ring full");
	r->slot[h].len = (uint16_t)frame_make((uint8_t *)NETMAP_BUF(r, r->slot[h].buf_idx), i, id);
	r->head = r->cur = nm_ring_next(r, h);
}

/* Take and check frame i from d's first RX ring (must be there). */
static void take(struct nmport_d *d, uint32_t i, uint8_t id)
{
	struct netmap_ring *r = NETMAP_RXRING(d->nifp, d->first_rx_ring);
	struct netmap_slot *s;

	CHECK(!nm_ring_empty(r), "RX ring empty, want frame %u", i);
	s = &r->slot[r->head];
	if (frame_check((uint8_t *)NETMAP_BUF(r, s->buf_idx), s->len, i, id))
		FAIL("bad frame %u", i);
	r->head = r->cur = nm_ring_next(r, r->head);
}

static unsigned rx_avail(struct nmport_d *d)
{
	return nm_ring_space(NETMAP_RXRING(d->nifp, d->first_rx_ring));
}

static void test_names(void)
{
	static const struct { const char *spec; int err; } bad[] = {
		{ "netmap:nmc0^", ENOTSUP },          /* host rings */
		{ "netmap:nmc0*", ENOTSUP },
		{ "netmap:nmc0^1", ENOTSUP },
		{ "vale0:x@extmem:file=/nonexistent", ENOTSUP },
		{ "vale0:x@offset:bits=8", ENOTSUP },
		{ "netmap:p{1/q", EINVAL },           /* unknown flag */
		{ "vale0", EINVAL },                  /* no port */
		{ "netmap:p{", EINVAL },              /* no pipe id */
		{ "netmap:p{1@conf:bogus=1", EINVAL },
		{ "", EINVAL },
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		errno = 0;
		struct nmport_d *d = nmport_open(bad[k].spec);
		CHECK(!d, "'%s' opened", bad[k].spec);
		CHECK(errno == bad[k].err, "'%s': errno %d (%s), want %d", bad[k].spec,
		      errno, strerror(errno), bad[k].err);
	}
	/* NR_REG_SW through the register fields, not the name */
	struct nmport_d *d = nmport_prepare("netmap:nmc0");
	CHECK(d, "prepare");
	d->reg.nr_mode = NR_REG_SW;
	CHECK(nmport_open_desc(d) < 0 && errno == ENOTSUP, "NR_REG_SW: %s", strerror(errno));
	nmport_undo_prepare(d);
	/* extmem / offsets through the functions */
	d = nmport_prepare("vale0:x");
	CHECK(d, "prepare vale0:x");
	CHECK(nmport_extmem(d, NULL, 0) < 0 && errno == ENOTSUP, "nmport_extmem");
	CHECK(nmport_offset(d, 0, 0, 8, 0) < 0 && errno == ENOTSUP, "nmport_offset");
	nmport_undo_prepare(d);
	printf("names: ok\n");
}

/* NIOCCTRL requests other than REGISTER, on an open port. */
static void test_ctrl(struct nmport_d *m, const char *name)
{
	struct nmreq_header hdr;
	struct nmreq_port_info_get info;
	struct nmreq_port_hdr ph;

	memset(&info, 0, sizeof(info));
	nmreq_header_init(&hdr, NETMAP_REQ_PORT_INFO_GET, &info);
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", name);
	CHECK(ioctl(m->fd, NIOCCTRL, &hdr) == 0, "PORT_INFO_GET: %s", strerror(errno));
	CHECK(info.nr_memsize == m->reg.nr_memsize && info.nr_tx_slots == m->reg.nr_tx_slots &&
	      info.nr_tx_rings == m->reg.nr_tx_rings && info.nr_mem_id == m->reg.nr_mem_id,
	      "PORT_INFO_GET differs from REGISTER");
	memset(&ph, 0, sizeof(ph));
	ph.nr_hdr_len = 99;
	nmreq_header_init(&hdr, NETMAP_REQ_PORT_HDR_GET, &ph);
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", name);
	CHECK(ioctl(m->fd, NIOCCTRL, &hdr) == 0 && ph.nr_hdr_len == 0, "PORT_HDR_GET");
	nmreq_header_init(&hdr, NETMAP_REQ_PORT_HDR_SET, &ph);
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", name);
	ph.nr_hdr_len = 0;
	CHECK(ioctl(m->fd, NIOCCTRL, &hdr) == 0, "PORT_HDR_SET 0: %s", strerror(errno));
	ph.nr_hdr_len = 10;
	CHECK(ioctl(m->fd, NIOCCTRL, &hdr) < 0 && errno == ENOTSUP, "PORT_HDR_SET 10");
	/* a second REGISTER on a bound descriptor */
	struct nmreq_register reg;
	memset(&reg, 0, sizeof(reg));
	nmreq_header_init(&hdr, NETMAP_REQ_REGISTER, &reg);
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", name);
	reg.nr_mode = NR_REG_ALL_NIC;
	CHECK(ioctl(m->fd, NIOCCTRL, &hdr) < 0 && errno == EBUSY, "second REGISTER");
	/* requests unetmap does not serve fail cleanly */
	struct nmreq_vale_list vl;
	memset(&vl, 0, sizeof(vl));
	nmreq_header_init(&hdr, NETMAP_REQ_VALE_LIST, &vl);
	CHECK(ioctl(m->fd, NIOCCTRL, &hdr) < 0 && errno == EOPNOTSUPP, "VALE_LIST");
	nmreq_header_init(&hdr, NETMAP_REQ_REGISTER, &reg);
	hdr.nr_version = 11;
	CHECK(ioctl(m->fd, NIOCCTRL, &hdr) < 0 && errno == EINVAL, "old API version");
	CHECK(ioctl(m->fd, _IO('i', 199), NULL) < 0 && errno == ENOTTY, "unknown ioctl");
	printf("ctrl: ok\n");
}

/* REGISTER by hand on open("/dev/netmap"), mmap, munmap, close. */
static void test_raw(const char *pipe)
{
	struct nmreq_header hdr;
	struct nmreq_register reg;
	int fd = open(NETMAP_DEVICE_NAME, O_RDWR);
	void *mem;

	CHECK(fd >= 0, "open %s: %s", NETMAP_DEVICE_NAME, strerror(errno));
	memset(&reg, 0, sizeof(reg));
	nmreq_header_init(&hdr, NETMAP_REQ_REGISTER, &reg);
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "netmap:%s{7", pipe);
	reg.nr_mode = NR_REG_ALL_NIC;
	reg.nr_tx_slots = reg.nr_rx_slots = 256;
	CHECK(ioctl(fd, NIOCCTRL, &hdr) == 0, "REGISTER: %s", strerror(errno));
	CHECK(reg.nr_memsize > 0 && reg.nr_offset < reg.nr_memsize, "register results");
	CHECK(reg.nr_tx_slots == 256 && reg.nr_tx_rings == 1 && reg.nr_host_tx_rings == 0,
	      "geometry %u slots %u rings", reg.nr_tx_slots, reg.nr_tx_rings);
	mem = mmap(NULL, reg.nr_memsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(mem != MAP_FAILED, "mmap: %s", strerror(errno));
	struct netmap_if *nifp = NETMAP_IF(mem, reg.nr_offset);
	CHECK(nifp->ni_tx_rings == 1 && nifp->ni_rx_rings == 1, "nifp rings");
	struct netmap_ring *r = NETMAP_TXRING(nifp, 0);
	CHECK(r->num_slots == 256 && nm_ring_space(r) == 255, "ring %u slots, %u free",
	      r->num_slots, nm_ring_space(r));
	CHECK(ioctl(fd, NIOCTXSYNC, NULL) == 0 && ioctl(fd, NIOCRXSYNC, NULL) == 0, "syncs");
	CHECK(munmap(mem, reg.nr_memsize) == 0, "munmap");
	CHECK(close(fd) == 0, "close");
	/* the descriptor is gone: the pipe end can be opened again */
	struct nmport_d *d;
	char spec[64];
	snprintf(spec, sizeof(spec), "netmap:%s{7", pipe);
	d = nmport_open(spec);
	CHECK(d, "reopen after close: %s", strerror(errno));
	nmport_close(d);
	printf("raw: ok\n");
}

static void selftest(const char *pname)
{
	char mname[64], sname[64];
	struct nmport_d *m, *s;
	int opipe[2];
	const unsigned N = 3000;

	test_names();
	test_raw(pname);
	snprintf(mname, sizeof(mname), "netmap:%s{1", pname);
	snprintf(sname, sizeof(sname), "netmap:%s}1", pname);
	m = nmport_open(mname);
	CHECK(m, "nmport_open %s: %s", mname, strerror(errno));
	s = nmport_open(sname);
	CHECK(s, "nmport_open %s: %s", sname, strerror(errno));
	CHECK(m->fd >= 0 && m->nifp && m->mem && m->register_done && m->mmap_done, "desc fields");
	CHECK(m->first_tx_ring == 0 && m->last_tx_ring == 0 && s->first_rx_ring == 0 &&
	      s->last_rx_ring == 0, "ring ranges");
	CHECK(m->mem != s->mem, "distinct regions have distinct nmem_d");
	CHECK(!strcmp(m->hdr.nr_name, mname) && m->reg.nr_mode == NR_REG_ALL_NIC, "hdr/reg");
	test_ctrl(m, mname);

	/* poll: two netmap fds and an ordinary pipe in one array */
	CHECK(pipe(opipe) == 0, "pipe");
	struct pollfd pfd[3] = {
		{ .fd = s->fd, .events = POLLIN },
		{ .fd = opipe[0], .events = POLLIN },
		{ .fd = m->fd, .events = POLLOUT },
	};
	CHECK(poll(pfd, 3, 0) == 1 && pfd[2].revents == POLLOUT && !pfd[0].revents &&
	      !pfd[1].revents, "poll idle: %x %x %x", pfd[0].revents, pfd[1].revents, pfd[2].revents);
	CHECK(write(opipe[1], "x", 1) == 1, "write");
	int nread = -1;
	CHECK(ioctl(opipe[0], FIONREAD, &nread) == 0 && nread == 1, "ioctl passthrough");
	pfd[2].events = 0;
	CHECK(poll(pfd, 3, 1000) == 1 && pfd[1].revents == POLLIN && !pfd[0].revents,
	      "poll ordinary fd");
	char ch;
	CHECK(read(opipe[0], &ch, 1) == 1, "read");
	/* an ordinary fd wakes a poll that sleeps on netmap fds too */
	pfd[1].events = POLLIN;
	pfd[2].events = 0;
	CHECK(poll(pfd, 3, 50) == 0, "poll timeout");

	/* frame by frame: TXSYNC ioctl, poll(POLLIN) must rxsync */
	for (uint32_t i = 0; i < N; i++) {
		put(m, i, 1);
		CHECK(ioctl(m->fd, NIOCTXSYNC, NULL) == 0, "TXSYNC");
		struct pollfd p1[2] = { { .fd = opipe[0], .events = POLLIN },
					{ .fd = s->fd, .events = POLLIN } };
		CHECK(poll(p1, 2, 2000) == 1 && p1[1].revents == POLLIN, "poll RX %u", i);
		take(s, i, 1);
		CHECK(ioctl(s->fd, NIOCRXSYNC, NULL) == 0, "RXSYNC");
	}
	printf("frames: %u ok\n", N);

	/* batches: ioctl(NIOCRXSYNC) alone brings them */
	for (uint32_t b = 0; b < 50; b++) {
		for (uint32_t k = 0; k < 100; k++)
			put(m, b * 100 + k, 1);
		CHECK(ioctl(m->fd, NIOCTXSYNC, NULL) == 0, "TXSYNC");
		CHECK(ioctl(s->fd, NIOCRXSYNC, NULL) == 0, "RXSYNC");
		CHECK(rx_avail(s) == 100, "batch %u: %u frames", b, rx_avail(s));
		for (uint32_t k = 0; k < 100; k++)
			take(s, b * 100 + k, 1);
	}
	printf("batches: ok\n");

	/* poll() syncs TX even when only POLLIN is asked (no NETMAP_NO_TX_POLL) */
	put(m, 7, 1);
	struct pollfd pm = { .fd = m->fd, .events = POLLIN };
	CHECK(poll(&pm, 1, 0) == 0, "poll POLLIN on the sender");
	CHECK(ioctl(s->fd, NIOCRXSYNC, NULL) == 0 && rx_avail(s) == 1, "poll did not txsync");
	take(s, 7, 1);

	/* nmport_inject + nmport_clone with NR_NO_TX_POLL, on a new pipe pair */
	nmport_close(m);
	nmport_close(s);
	snprintf(mname, sizeof(mname), "netmap:%s{2", pname);
	snprintf(sname, sizeof(sname), "netmap:%s}2", pname);
	struct nmport_d *p = nmport_prepare(mname);
	CHECK(p, "prepare");
	struct nmport_d *c = nmport_clone(p);
	CHECK(c && c->fd == -1 && !c->register_done && !strcmp(c->hdr.nr_name, mname), "clone");
	nmport_undo_prepare(p);
	c->reg.nr_flags |= NR_NO_TX_POLL;
	CHECK(nmport_open_desc(c) == 0, "open clone: %s", strerror(errno));
	s = nmport_open(sname);
	CHECK(s, "nmport_open %s: %s", sname, strerror(errno));
	uint8_t fb[1514];
	unsigned fl = frame_make(fb, 42, 3);
	CHECK(nmport_inject(c, fb, fl) == (int)fl, "inject");
	/* NO_TX_POLL: a poll without POLLOUT does not send */
	CHECK(poll(&(struct pollfd){ .fd = c->fd, .events = POLLIN }, 1, 0) == 0, "POLLIN");
	CHECK(ioctl(s->fd, NIOCRXSYNC, NULL) == 0 && rx_avail(s) == 0, "NO_TX_POLL ignored");
	CHECK(ioctl(c->fd, NIOCTXSYNC, NULL) == 0, "TXSYNC");
	CHECK(ioctl(s->fd, NIOCRXSYNC, NULL) == 0 && rx_avail(s) == 1, "inject lost");
	take(s, 42, 3);
	/* fill the ring with inject until it says 0; first the receiver
	 * releases frame 42 and a TX sync takes back its lent buffer (a pipe
	 * TX slot is the sender's again once the receiver released it) */
	CHECK(ioctl(s->fd, NIOCRXSYNC, NULL) == 0, "RXSYNC");
	CHECK(ioctl(c->fd, NIOCTXSYNC, NULL) == 0, "TXSYNC");
	int n = 0;
	while (nmport_inject(c, fb, 60) == 60)
		n++;
	CHECK(n == (int)c->reg.nr_tx_slots - 1, "inject filled %d slots", n);
	/* POLLOUT syncs TX even with NO_TX_POLL (netmap's rule); the ring
	 * is then full of lent buffers until the receiver releases them, so
	 * POLLOUT itself need not be ready */
	CHECK(poll(&(struct pollfd){ .fd = c->fd, .events = POLLOUT }, 1, 0) >= 0, "POLLOUT");
	CHECK(ioctl(s->fd, NIOCRXSYNC, NULL) == 0 && rx_avail(s) + 1 >= (unsigned)n, "POLLOUT sent %u",
	      rx_avail(s));
	nmport_close(c);
	nmport_close(s);
	close(opipe[0]);
	close(opipe[1]);
	printf("PASS\n");
}

/*
 * A pipe lends TX buffers (UNM_OPEN_PIPE_LOAN, the compat default): the
 * receiver gets the sender's own buffer (same index, NS_BUF_CHANGED on the
 * RX slot), the TX slot stays the sender's (tail does not pass it) until
 * the receiver has released it, and then has its buffer back untouched,
 * without NS_BUF_CHANGED, for any frame length; a receiver that swaps a
 * buffer out of its RX slot hands the sender the one it put there, with
 * NS_BUF_CHANGED, and no buffer is in two slots.
 */
static void loan(const char *pname)
{
	char mname[80], sname[80];

	snprintf(mname, sizeof(mname), "netmap:%s{3", pname);
	snprintf(sname, sizeof(sname), "netmap:%s}3", pname);
	struct nmport_d *m = nmport_open(mname);
	CHECK(m, "open %s: %s", mname, strerror(errno));
	struct nmport_d *s = nmport_open(sname);
	CHECK(s, "open %s: %s", sname, strerror(errno));
	struct netmap_ring *tx = NETMAP_TXRING(m->nifp, m->first_tx_ring);
	struct netmap_ring *rx = NETMAP_RXRING(s->nifp, s->first_rx_ring);
	/* the receiver's own TX ring: a buffer to swap into its RX slot */
	struct netmap_ring *stx = NETMAP_TXRING(s->nifp, s->first_tx_ring);
	const uint32_t ns = tx->num_slots;
	uint32_t idx[8];

	/* 8 frames of 60..1392 bytes (frame_len(9k)): longer than a copy takes */
	for (uint32_t k = 0; k < 8; k++) {
		struct netmap_slot *sl = &tx->slot[tx->head];

		idx[k] = sl->buf_idx;
		sl->len = (uint16_t)frame_make((uint8_t *)NETMAP_BUF(tx, sl->buf_idx), 9 * k, 5);
		sl->flags = 0;
		tx->head = tx->cur = nm_ring_next(tx, tx->head);
	}
	CHECK(ioctl(m->fd, NIOCTXSYNC, NULL) == 0, "TXSYNC");
	CHECK(nm_ring_space(tx) == ns - 1 - 8, "TX space %u with 8 frames on loan", nm_ring_space(tx));
	CHECK(ioctl(s->fd, NIOCRXSYNC, NULL) == 0 && nm_ring_space(rx) == 8, "RX has %u",
	      nm_ring_space(rx));
	for (uint32_t k = 0; k < 8; k++) {
		struct netmap_slot *sl = &rx->slot[(rx->head + k) % rx->num_slots];

		CHECK(sl->buf_idx == idx[k], "frame %u: RX buffer %u, the sender's is %u", k,
		      sl->buf_idx, idx[k]);
		CHECK(sl->flags & NS_BUF_CHANGED, "frame %u: RX slot without NS_BUF_CHANGED", k);
		CHECK(!frame_check((uint8_t *)NETMAP_BUF(rx, sl->buf_idx), sl->len, 9 * k, 5),
		      "frame %u bad", k);
	}
	/* not released yet: a TX sync gives nothing back */
	CHECK(ioctl(m->fd, NIOCTXSYNC, NULL) == 0 && nm_ring_space(tx) == ns - 1 - 8,
	      "TX space %u before the release", nm_ring_space(tx));
	/* the receiver swaps frame 0's buffer for its TX slot's, releases 0..3 */
	struct netmap_slot *r0 = &rx->slot[rx->head], *t0 = &stx->slot[stx->head];
	uint32_t mine = t0->buf_idx;
	t0->buf_idx = r0->buf_idx;
	t0->flags = NS_BUF_CHANGED;
	r0->buf_idx = mine;
	r0->flags = NS_BUF_CHANGED;
	rx->head = rx->cur = (rx->head + 4) % rx->num_slots;
	CHECK(ioctl(s->fd, NIOCRXSYNC, NULL) == 0, "RXSYNC");
	CHECK(ioctl(m->fd, NIOCTXSYNC, NULL) == 0 && nm_ring_space(tx) == ns - 1 - 4,
	      "TX space %u after 4 released", nm_ring_space(tx));
	uint32_t first = (tx->head + ns - 8) % ns;
	CHECK(tx->slot[first].buf_idx == mine && (tx->slot[first].flags & NS_BUF_CHANGED),
	      "swapped slot: TX buffer %u flags %#x, want %u and NS_BUF_CHANGED",
	      tx->slot[first].buf_idx, tx->slot[first].flags, mine);
	for (uint32_t k = 1; k < 4; k++) {
		struct netmap_slot *sl = &tx->slot[(first + k) % ns];

		CHECK(sl->buf_idx == idx[k] && !(sl->flags & NS_BUF_CHANGED),
		      "frame %u: TX buffer %u flags %#x, want %u, unchanged", k, sl->buf_idx,
		      sl->flags, idx[k]);
		CHECK(!frame_check((uint8_t *)NETMAP_BUF(tx, sl->buf_idx), sl->len, 9 * k, 5),
		      "frame %u: the buffer came back changed", k);
	}
	/* the rest */
	rx->head = rx->cur = (rx->head + 4) % rx->num_slots;
	CHECK(ioctl(s->fd, NIOCRXSYNC, NULL) == 0, "RXSYNC");
	CHECK(ioctl(m->fd, NIOCTXSYNC, NULL) == 0 && nm_ring_space(tx) == ns - 1, "TX space %u",
	      nm_ring_space(tx));
	for (uint32_t k = 4; k < 8; k++)
		CHECK(tx->slot[(first + k) % ns].buf_idx == idx[k] &&
		      !(tx->slot[(first + k) % ns].flags & NS_BUF_CHANGED), "frame %u's buffer changed", k);
	/* the buffer the receiver swapped out is in its TX slot only */
	CHECK(stx->slot[stx->head].buf_idx == idx[0], "receiver's TX slot");
	nmport_close(m);
	nmport_close(s);
	printf("loan: ok\n");
}

/* Child of drain(): receive every frame of the pipe's slave end, release
 * all but the last HOLD, and with "fwd" bounce those HOLD back to the
 * sender zero-copy (each RX buffer swapped with one of its TX slots and
 * sent); then die (exit without closing, as pkt-gen's receiver does at -n,
 * or SIGKILL), or with "kill" loop until the parent kills it. */
static void drain_child(const char *sname, unsigned n, unsigned hold, const char *how, int ready)
{
	struct nmport_d *s = nmport_open(sname);

	if (!s)
		_exit(3);
	if (write(ready, "r", 1) != 1)
		_exit(4);
	struct netmap_ring *rx = NETMAP_RXRING(s->nifp, s->first_rx_ring);
	struct netmap_ring *tx = NETMAP_TXRING(s->nifp, s->first_tx_ring);
	unsigned got = 0;

	for (;;) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };

		if (poll(&p, 1, 5000) <= 0)
			_exit(5);
		got += nm_ring_space(rx);
		if (!strcmp(how, "kill")) { /* release all, until killed */
			rx->head = rx->cur = rx->tail;
			continue;
		}
		if (got < n) {
			uint32_t keep = got + hold >= n ? hold - (n - got) : 0;
			uint32_t h = rx->tail;

			if (keep > nm_ring_space(rx))
				keep = nm_ring_space(rx);
			h = (h + rx->num_slots - keep) % rx->num_slots;
			rx->head = rx->cur = h;
			continue;
		}
		break;
	}
	/* all N seen; release all but the last HOLD */
	uint32_t h = (rx->tail + rx->num_slots - hold) % rx->num_slots;
	rx->head = rx->cur = h;
	ioctl(s->fd, NIOCRXSYNC, NULL);
	if (!strcmp(how, "fwd")) {
		for (uint32_t k = 0, i = h; k < hold; k++, i = nm_ring_next(rx, i)) {
			struct netmap_slot *r = &rx->slot[i], *t = &tx->slot[tx->head];
			uint32_t b = t->buf_idx;

			if (nm_ring_empty(tx))
				_exit(6);
			t->buf_idx = r->buf_idx;
			t->len = r->len;
			t->flags = NS_BUF_CHANGED;
			r->buf_idx = b;
			r->flags = NS_BUF_CHANGED;
			tx->head = tx->cur = nm_ring_next(tx, tx->head);
		}
		ioctl(s->fd, NIOCTXSYNC, NULL);
	}
	if (!strcmp(how, "sigkill") || !strcmp(how, "fwd"))
		raise(SIGKILL);
	_exit(0); /* exits without releasing the last HOLD, as pkt-gen rx -n does */
}

/* D's TX ring (every slot) and RX ring (slots [head, tail)): each buffer
 * index valid and in one slot only. */
static void check_owned(struct nmport_d *d, const char *what)
{
	struct netmap_ring *tx = NETMAP_TXRING(d->nifp, d->first_tx_ring);
	struct netmap_ring *rx = NETMAP_RXRING(d->nifp, d->first_rx_ring);
	static uint8_t seen[1 << 20];
	unsigned n = 0;

	memset(seen, 0, sizeof(seen));
	for (uint32_t i = 0; i < tx->num_slots; i++, n++) {
		uint32_t b = tx->slot[i].buf_idx;

		CHECK(b >= 2 && b < sizeof(seen), "%s: TX slot %u has buffer %u", what, i, b);
		CHECK(!seen[b], "%s: buffer %u in two slots (TX slot %u)", what, b, i);
		seen[b] = 1;
	}
	for (uint32_t i = rx->head; i != rx->tail; i = nm_ring_next(rx, i), n++) {
		uint32_t b = rx->slot[i].buf_idx;

		CHECK(b >= 2 && b < sizeof(seen), "%s: RX slot %u has buffer %u", what, i, b);
		CHECK(!seen[b], "%s: buffer %u in two slots (RX slot %u)", what, b, i);
		seen[b] = 1;
	}
	printf("%s: %u buffers, each once\n", what, n);
}

/*
 * pkt-gen's sender over a pipe, to its end: send N frames (poll for room,
 * fill, advance), flush with NIOCTXSYNC, then loop on nm_tx_pending() +
 * NIOCTXSYNC until the ring drained, while the receiver (a child: HOW =
 * "exit", "sigkill" or "fwd" after N frames, holding the last HOLD; "kill":
 * killed by us halfway, and we stop sending) dies holding frames lent to
 * it. The loop must
 * end within 10 s; then every TX buffer is the sender's once (with "fwd"
 * the bounced ones arrive in our RX ring, and the TX slots have the
 * buffers the receiver swapped in); and a sender that keeps sending gets
 * one ring of room at most, then none: no fake throughput.
 */
static void drain(const char *pname, unsigned n, unsigned hold, const char *how)
{
	char mname[80], sname[80];
	int pfd[2];

	snprintf(mname, sizeof(mname), "netmap:%s{5", pname);
	snprintf(sname, sizeof(sname), "netmap:%s}5", pname);
	CHECK(pipe(pfd) == 0, "pipe");
	pid_t pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		close(pfd[0]);
		drain_child(sname, n, hold, how, pfd[1]);
	}
	close(pfd[1]);
	char c;
	CHECK(read(pfd[0], &c, 1) == 1, "child did not open %s", sname);
	struct nmport_d *m = nmport_open(mname);
	CHECK(m, "open %s: %s", mname, strerror(errno));
	struct netmap_ring *tx = NETMAP_TXRING(m->nifp, m->first_tx_ring);
	const uint32_t ns = tx->num_slots;
	unsigned sent = 0;

	while (sent < n) {
		struct pollfd p = { .fd = m->fd, .events = POLLOUT };

		if (!strcmp(how, "kill") && sent >= n / 2) {
			kill(pid, SIGKILL); /* wherever the receiver is */
			break;
		}
		CHECK(poll(&p, 1, 5000) > 0, "no TX room after %u frames", sent);
		for (uint32_t k = nm_ring_space(tx); k && sent < n; k--, sent++) {
			struct netmap_slot *sl = &tx->slot[tx->head];

			sl->len = (uint16_t)frame_make((uint8_t *)NETMAP_BUF(tx, sl->buf_idx), sent, 7);
			tx->head = tx->cur = nm_ring_next(tx, tx->head);
		}
	}
	ioctl(m->fd, NIOCTXSYNC, NULL);
	for (unsigned spins = 0; nm_tx_pending(tx); spins++) {
		CHECK(spins < 10 * 1000 * 10, "TX ring still pending after 10 s (tail %u head %u)",
		      tx->tail, tx->head);
		ioctl(m->fd, NIOCTXSYNC, NULL);
		usleep(100);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
	printf("drain %s: %u sent, TX ring drained\n", how, sent);
	ioctl(m->fd, NIOCRXSYNC, NULL); /* frames the receiver bounced, if any */
	check_owned(m, "after the receiver died");
	/* a sync with nothing new keeps the ring drained */
	ioctl(m->fd, NIOCTXSYNC, NULL);
	CHECK(!nm_tx_pending(tx), "an empty sync made the ring pending again");
	/* keep sending: one ring of room at most, then none */
	unsigned more = 0;
	for (int round = 0; round < 4; round++) {
		struct pollfd p = { .fd = m->fd, .events = POLLOUT };

		if (poll(&p, 1, 100) <= 0)
			break;
		for (uint32_t k = nm_ring_space(tx); k; k--, more++)
			tx->head = tx->cur = nm_ring_next(tx, tx->head);
		ioctl(m->fd, NIOCTXSYNC, NULL);
	}
	CHECK(more <= ns - 1, "%u frames taken after the peer died (ring of %u)", more, ns);
	CHECK(nm_ring_space(tx) == 0, "TX room %u after the peer died", nm_ring_space(tx));
	check_owned(m, "after sending on");
	nmport_close(m);
	printf("drain %s: ok (%u more frames taken, then stalled)\n", how, more);
}

/* netmap side of the VALE round trip */
static void ping(const char *port, unsigned n)
{
	struct nmport_d *d = nmport_open(port);

	CHECK(d, "open %s: %s", port, strerror(errno));
	for (uint32_t i = 0; i < n; i++) {
		struct pollfd p = { .fd = d->fd, .events = POLLOUT };
		CHECK(poll(&p, 1, 2000) == 1, "no TX space");
		put(d, i, 1);
		CHECK(ioctl(d->fd, NIOCTXSYNC, NULL) == 0, "TXSYNC");
		for (;;) {
			p.events = POLLIN;
			CHECK(poll(&p, 1, 3000) == 1, "no echo for frame %u", i);
			struct netmap_ring *r = NETMAP_RXRING(d->nifp, d->first_rx_ring);
			/* the switch floods: skip anything not from the echo side */
			while (!nm_ring_empty(r)) {
				struct netmap_slot *s = &r->slot[r->head];
				uint8_t *b = (uint8_t *)NETMAP_BUF(r, s->buf_idx);
				if (b[11] == 2)
					goto got;
				r->head = r->cur = nm_ring_next(r, r->head);
			}
		}
got:
		take(d, i, 2);
	}
	printf("ping: %u round trips ok\n", n);
	nmport_close(d);
}

/* unetmap side: receive frame i from the netmap program and send it back */
static void unm_echo(const char *port, unsigned n)
{
	struct unm_port *p;
	int rc = unm_open(port, &p, NULL);

	CHECK(rc == 0, "unm_open %s: %s %s", port, unm_strerror(rc), unm_errmsg());
	struct unm_ring *rx = unm_ring_get(p, 0, 0), *tx = unm_ring_get(p, 1, 0);
	printf("ready\n");
	fflush(stdout);
	for (uint32_t i = 0; i < n; ) {
		rc = unm_ring_wait(p, 0, 0, 5000);
		CHECK(rc > 0, "no frame %u (%d)", i, rc);
		while (!unm_ring_empty(rx)) {
			struct unm_slot *s = &rx->slot[rx->head];
			if (frame_check((uint8_t *)unm_buf(rx, s->buf_idx), s->len, i, 1))
				FAIL("unetmap side: bad frame %u", i);
			unm_ring_advance(rx, unm_ring_next(rx, rx->head));
			CHECK(unm_ring_wait(p, 1, 0, 2000) > 0, "no TX space");
			struct unm_slot *t = &tx->slot[tx->head];
			t->len = (uint16_t)frame_make((uint8_t *)unm_buf(tx, t->buf_idx), i, 2);
			unm_ring_advance(tx, unm_ring_next(tx, tx->head));
			CHECK(unm_txsync(p, 0) == 0, "txsync");
			i++;
		}
	}
	printf("unm-echo: %u frames ok\n", n);
	unm_close(p);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "selftest"))
		selftest(argv[2]);
	else if (argc == 3 && !strcmp(argv[1], "loan"))
		loan(argv[2]);
	else if (argc == 6 && !strcmp(argv[1], "drain"))
		drain(argv[2], (unsigned)atoi(argv[3]), (unsigned)atoi(argv[4]), argv[5]);
	else if (argc == 4 && !strcmp(argv[1], "ping"))
		ping(argv[2], (unsigned)atoi(argv[3]));
	else if (argc == 4 && !strcmp(argv[1], "unm-echo"))
		unm_echo(argv[2], (unsigned)atoi(argv[3]));
	else {
		fprintf(stderr, "usage: nm-api selftest PIPE | loan PIPE | drain PIPE N HOLD HOW | ping PORT N | "
			"unm-echo PORT N\n");
		return 2;
	}
	return 0;
}
