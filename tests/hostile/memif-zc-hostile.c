// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a hostile memif master against a memif slave port that
 * lends its buffers (@conf:zerocopy=1), opened in this process. The
 * master (this program, speaking the protocol itself) maps both regions
 * the slave gives (region 1 is the port's own), then: scribbles over
 * every buffer of the port's region and over the S2M descriptors while
 * holding the frames lent to it (the port must not reuse a held buffer:
 * 400 frames sent, the memif ring fills with lent ones and the rest wait,
 * and the application's buffers stay valid and distinct); returns them
 * (all 400 sent, all lent); posts
 * frames into the M2S buffers with good lengths, a length past the
 * buffer (dropped, bad_len) and descriptors rewritten to name other
 * offsets and regions (ignored: the port reads the buffer it posted):
 * exactly the good frames arrive, with the contents written into the
 * buffers the port posted; then publishes an S2M tail that goes backwards
 * (the port disconnects). Throughout, every buffer the application holds
 * (TX and RX slots; the extra buffers until the scribbling, which wrote
 * over the links of their list, as unm(7) warns) is valid and held once,
 * and a new master connection carries frames, all lent.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <unm.h>
#include <unm/ring.h>
#include <unm/shm.h>
#include <sys/stat.h>
#include <stddef.h>
#include "../lib/test.h"
#include "../lib/unmd.h"
#include "unm-memif.h"

#define SLOTS 256u
#define EXTRA 7u

static struct unm_port *port;
static int lfd = -1;
static bool scribbled;

struct master {
	int fd;
	unsigned n_reg;
	uint8_t *base[2];
	size_t size[2];
	struct memif_ring *s2m, *m2s;
	unsigned log2, mask;
	uint16_t s2m_tail, m2s_tail;
};

static void sync_port(void)
{
	unm_txsync(port, 0);
	unm_rxsync(port, 0);
}

/* A message from the slave (with its fd), pumping the port meanwhile. */
static int recv_msg(struct master *m, struct memif_msg *msg, int *fd)
{
	union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr h; } cm;
	struct iovec iov = { .iov_base = msg, .iov_len = sizeof(*msg) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
			     .msg_controllen = sizeof(cm.b) };
	double end = t_now() + 10;

	*fd = -1;
	while (t_now() < end) {
		ssize_t n = recvmsg(m->fd, &mh, MSG_DONTWAIT);

		if (n == (ssize_t)sizeof(*msg)) {
			struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

			if (c && c->cmsg_type == SCM_RIGHTS)
				memcpy(fd, CMSG_DATA(c), sizeof(int));
			return msg->type;
		}
		if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return 0;
		sync_port();
		usleep(200);
	}
	T_FAIL("no message from the slave");
}

static void send_msg(struct master *m, uint16_t type)
{
	struct memif_msg msg;

	memset(&msg, 0, sizeof(msg));
	msg.type = type;
	if (type == MEMIF_MSG_HELLO) {
		snprintf(msg.hello.name, sizeof(msg.hello.name), "hostile");
		msg.hello.min_version = msg.hello.max_version = MEMIF_VERSION;
		msg.hello.max_region = 15;
		msg.hello.max_log2_ring_size = 14;
	}
	T_ASSERT(send(m->fd, &msg, sizeof(msg), MSG_NOSIGNAL) == (ssize_t)sizeof(msg));
}

/* Accept the slave (it retries every 100 ms) and run the handshake. */
static void master_up(struct master *m)
{
	struct memif_msg msg;
	double end = t_now() + 10;
	int fd, t;

	memset(m, 0, sizeof(*m));
	while ((m->fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0) {
		if (t_now() > end)
			T_FAIL("the slave never connected");
		sync_port();
		usleep(1000);
	}
	send_msg(m, MEMIF_MSG_HELLO);
	T_ASSERT_EQ(recv_msg(m, &msg, &fd), MEMIF_MSG_INIT);
	send_msg(m, MEMIF_MSG_ACK);
	while ((t = recv_msg(m, &msg, &fd)) == MEMIF_MSG_ADD_REGION) {
		struct stat st;

		T_ASSERT(fd >= 0 && msg.add_region.index == m->n_reg && m->n_reg < 2);
		T_ASSERT(fstat(fd, &st) == 0 && (uint64_t)st.st_size >= msg.add_region.size);
		m->size[m->n_reg] = msg.add_region.size;
		m->base[m->n_reg] = mmap(NULL, msg.add_region.size, PROT_READ | PROT_WRITE,
					 MAP_SHARED, fd, 0);
		T_ASSERT(m->base[m->n_reg] != MAP_FAILED);
		close(fd);
		m->n_reg++;
		send_msg(m, MEMIF_MSG_ACK);
	}
	T_ASSERT_EQ(m->n_reg, 2);  /* zero copy: the port's region too */
	for (; t == MEMIF_MSG_ADD_RING; t = recv_msg(m, &msg, &fd)) {
		struct memif_ring *r = (void *)(m->base[msg.add_ring.region] + msg.add_ring.offset);

		T_ASSERT(msg.add_ring.region == 0 && msg.add_ring.index == 0);
		m->log2 = msg.add_ring.log2_ring_size;
		m->mask = (1u << m->log2) - 1;
		if (msg.add_ring.flags & MEMIF_RING_FLAG_S2M)
			m->s2m = r;
		else
			m->m2s = r;
		close(fd);
		send_msg(m, MEMIF_MSG_ACK);
	}
	T_ASSERT_EQ(t, MEMIF_MSG_CONNECT);
	T_ASSERT(m->s2m && m->m2s);
	m->s2m->head = m->s2m->tail = m->m2s->head = m->m2s->tail = 0;
	send_msg(m, MEMIF_MSG_CONNECTED);
	for (int i = 0; i < 1000; i++) {
		struct unm_port_info info = { .sz = sizeof(info) };

		sync_port();
		T_ASSERT_EQ(unm_port_info(port, &info), 0);
		if (info.link_up && m->m2s->head)
			return;
		usleep(1000);
	}
	T_FAIL("link not up");
}

static void master_down(struct master *m)
{
	close(m->fd);
	for (unsigned i = 0; i < m->n_reg; i++)
		munmap(m->base[i], m->size[i]);
}

/* Every buffer the application holds is valid and held once. The list's
 * links live in the buffers: once the master wrote over them (as it may:
 * unm(7)) the list is the application's loss. */
static void check_buffers(void)
{
	T_ASSERT_EQ(t_check_held_buffers(port, EXTRA, scribbled), scribbled ? 0 : EXTRA);
}

static void put_frames(unsigned n, uint8_t tag)
{
	uint8_t f[100];

	memset(f, tag, sizeof(f));
	memset(f, 0xff, 6);
	for (unsigned k = 0; k < n; k++) {
		double end = t_now() + 5;

		while (unm_inject(port, f, sizeof(f)) == 0) {
			if (t_now() > end)
				T_FAIL("TX ring stuck after %u of %u frames", k, n);
			sync_port();
		}
	}
	unm_txsync(port, 0);
}

static struct unm_port_stats stats(void)
{
	struct unm_port_stats st = { .sz = sizeof(st) };

	T_ASSERT_EQ(unm_port_stats(port, &st), 0);
	return st;
}

/* Take what the slave published on S2M; return it unless HOLD. */
static unsigned take_s2m(struct master *m, bool hold)
{
	uint16_t head = __atomic_load_n(&m->s2m->head, __ATOMIC_ACQUIRE);
	unsigned n = (uint16_t)(head - m->s2m_tail);

	if (!hold) {
		m->s2m_tail = head;
		__atomic_store_n(&m->s2m->tail, head, __ATOMIC_RELEASE);
	}
	return n;
}

int main(void)
{
	char name[160], path[80];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct unm_open_opts o = { .sz = sizeof(o), .tx_slots = SLOTS, .rx_slots = SLOTS,
				   .extra_bufs = EXTRA };
	struct unm_ring *rx;
	struct unm_port_stats s0, s1;
	struct master m;
	unsigned n, got = 0, want = 0;
	uint16_t tail;

	t_watchdog(60);
	snprintf(path, sizeof(path), "unm-mzh-%d", (int)getpid());
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	T_ASSERT(lfd >= 0);
	memcpy(sa.sun_path + 1, path, strlen(path));
	T_ASSERT(bind(lfd, (struct sockaddr *)&sa,
		      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path))) == 0);
	T_ASSERT(listen(lfd, 4) == 0);
	snprintf(name, sizeof(name), "memif:@%s@conf:role=slave,zerocopy=1", path);
	if (unm_open(name, &port, &o))
		T_FAIL("unm_open %s: %s", name, unm_errmsg());
	rx = unm_ring_get(port, 0, 0);
	check_buffers();
	master_up(&m);

	/* 1. hold what it lends and scribble over the whole port region */
	s0 = stats();
	put_frames(200, 0x11);
	for (int i = 0; i < 50; i++)
		sync_port();
	n = take_s2m(&m, true);
	printf("lent and held: %u descriptors\n", n);
	T_ASSERT(n > 0 && n <= (1u << m.log2));
	{  /* every buffer (the rings are the application's to fend off) */
		uint64_t pool = ((const struct unm_region_hdr *)(void *)m.base[1])->buf_pool_ofs;

		T_ASSERT(pool > 0 && pool < m.size[1]);
		memset(m.base[1] + pool, 0xee, m.size[1] - pool);
		scribbled = true;
	}
	for (unsigned j = 0; j <= m.mask; j++) {
		m.s2m->desc[j].region = 7;
		m.s2m->desc[j].offset = 0xfffffff0u;
		m.s2m->desc[j].length = 0xffffffffu;
	}
	put_frames(200, 0x22);  /* ring full: these wait, none is lent again */
	for (int i = 0; i < 50; i++)
		sync_port();
	s1 = stats();
	printf("zc tx %llu, copied %llu\n", (unsigned long long)(s1.zc_tx_frames - s0.zc_tx_frames),
	       (unsigned long long)(s1.copy_tx_frames - s0.copy_tx_frames));
	/* the ring filled up (all lent), the rest waits: nothing copied,
	 * no held buffer lent twice (check_buffers) */
	T_ASSERT_EQ(take_s2m(&m, true), 1u << m.log2);
	T_ASSERT_EQ(s1.zc_tx_frames - s0.zc_tx_frames, 1u << m.log2);
	T_ASSERT_EQ(s1.copy_tx_frames - s0.copy_tx_frames, 0);
	check_buffers();
	for (unsigned k = 0; k < 8; k++) {  /* return them, then the rest */
		take_s2m(&m, false);
		for (int i = 0; i < 20; i++)
			sync_port();
	}
	take_s2m(&m, false);
	s1 = stats();
	T_ASSERT_EQ(s1.tx_frames - s0.tx_frames, 400);
	T_ASSERT_EQ(s1.zc_tx_frames - s0.zc_tx_frames, 400);

	/* 2. frames into the buffers it posted, with lies around them */
	s0 = stats();
	tail = m.m2s_tail;
	for (unsigned k = 0; k < 40; k++) {
		struct memif_desc *d = &m.m2s->desc[(uint16_t)(tail + k) & m.mask];
		uint8_t *buf;

		T_ASSERT(d->region < m.n_reg && (uint64_t)d->offset + 2048 <= m.size[d->region]);
		buf = m.base[d->region] + d->offset;
		memset(buf, 0xff, 6);
		memset(buf + 6, 0x40 + k % 8, 94);
		d->length = 100;
		d->flags = 0;
		if (k % 10 == 3) {
			d->length = 5000;  /* past the buffer: dropped */
		} else {
			want++;
			if (k % 10 == 5)  /* names another place: ignored */
				d->offset = 0, d->region = (uint16_t)(k % 2);
		}
	}
	m.m2s_tail = (uint16_t)(tail + 40);
	__atomic_store_n(&m.m2s->tail, m.m2s_tail, __ATOMIC_RELEASE);
	for (int i = 0; i < 100 && got < want; i++) {
		uint32_t j;

		unm_rxsync(port, 0);
		for (j = rx->head; j != rx->tail; j = unm_ring_next(rx, j), got++) {
			const uint8_t *f = (const uint8_t *)unm_slot_buf(rx, j);

			if (rx->slot[j].len != 100 || f[6] < 0x40 || f[6] > 0x47 || f[99] != f[6])
				T_FAIL("frame %u: %u bytes, byte 6 %#x", got, rx->slot[j].len, f[6]);
		}
		unm_ring_advance(rx, j);
		usleep(1000);
	}
	s1 = stats();
	printf("rx: %u of %u good frames, bad_len %llu, zc %llu\n", got, want,
	       (unsigned long long)(s1.bad_len - s0.bad_len),
	       (unsigned long long)(s1.zc_rx_frames - s0.zc_rx_frames));
	T_ASSERT_EQ(got, want);
	T_ASSERT_EQ(s1.bad_len - s0.bad_len, 4);
	T_ASSERT_EQ(s1.zc_rx_frames - s0.zc_rx_frames, want);
	check_buffers();

	/* 3. a tail that goes backwards: disconnected */
	put_frames(10, 0x33);
	for (int i = 0; i < 20; i++)
		sync_port();
	take_s2m(&m, false);
	for (int i = 0; i < 5; i++)
		sync_port();  /* the port has seen them back */
	m.s2m->tail = (uint16_t)(m.s2m_tail - 5);
	s0 = stats();
	put_frames(1, 0x44);
	for (int i = 0; i < 20; i++)
		sync_port();
	T_ASSERT(stats().bad_ring > s0.bad_ring);
	master_down(&m);
	check_buffers();

	/* 4. a new master: frames again, lent */
	master_up(&m);
	s0 = stats();
	put_frames(100, 0x55);
	for (int i = 0; i < 20; i++)
		sync_port();
	T_ASSERT_EQ(take_s2m(&m, false), 100);
	T_ASSERT_EQ(stats().zc_tx_frames - s0.zc_tx_frames, 100);
	master_down(&m);
	for (int i = 0; i < 20; i++)
		sync_port();
	check_buffers();
	unm_close(port);
	close(lfd);
	printf("PASS\n");
	return 0;
}
