// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a hostile memif slave against a memif master port that
 * unm-ctl attached to vale0 in a private unmd, next to two ordinary
 * ports a and b. The peer (this program, speaking the memif protocol
 * itself) tries: messages of the wrong size, a wrong version, a region
 * without its fd, a ring outside its region, a ring in a region it never
 * added (each refused: DISCONNECT or EOF, and a correct peer is accepted
 * afterwards); then, connected, descriptors naming a region it does not
 * have, offsets past its region, a length past the region's end, a huge
 * length, mixed with good frames: exactly the good frames reach a; bad
 * posted M2S buffers while a floods; a head that jumps past the ring (the
 * port disconnects it); a disconnect in the middle of a burst; its region
 * truncated under the port (unmd's SIGBUS guard); and SIGKILL of a forked
 * peer while it sends. After each, a new peer gets its frames through,
 * a -> b traffic is whole, and unmd is alive.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../lib/test.h"
#include "../lib/unmd.h"
#include "unm-memif.h"

#define LOG2  8
#define SLOTS (1u << LOG2)
#define BSZ   2048u

static char sock_path[108];
static struct unm_port *pa, *pb;
static uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct peer {
	int fd, memfd, efd[2];
	uint8_t *base;
	size_t size;
	struct memif_ring *s2m, *m2s;
	uint16_t head;
};

static int send_raw(int fd, const void *m, size_t len, int pass)
{
	union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr h; } cm;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)m, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (pass >= 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof(cm.b);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass, sizeof(int));
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* Next message type from the master, 0 on EOF / error, -1 on timeout. */
static int recv_type(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct memif_msg m;
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return -1;
	n = recv(fd, &m, sizeof(m), 0);
	if (n != (ssize_t)sizeof(m))
		return 0;
	return m.type;
}

static int peer_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	T_ASSERT(fd >= 0);
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	for (int i = 0; i < 100; i++) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		usleep(20000);
	}
	T_ASSERT_EQ(recv_type(fd, 5000), MEMIF_MSG_HELLO);
	return fd;
}

/* The master must refuse: a DISCONNECT, or EOF, within 5 s. */
static void expect_refused(int fd, const char *what)
{
	for (;;) {
		int t = recv_type(fd, 5000);

		if (t == MEMIF_MSG_DISCONNECT || t == 0)
			break;
		if (t < 0)
			T_FAIL("%s: not refused", what);
	}
	close(fd);
	printf("refused: %s\n", what);
}

static void msg_init(struct memif_msg *m, uint16_t version)
{
	memset(m, 0, sizeof(*m));
	m->type = MEMIF_MSG_INIT;
	m->init.version = version;
	snprintf(m->init.name, sizeof(m->init.name), "hostile");
}

static void ring_msg(struct memif_msg *m, bool s2m, uint16_t region, uint32_t off)
{
	memset(m, 0, sizeof(*m));
	m->type = MEMIF_MSG_ADD_RING;
	m->add_ring.flags = s2m ? MEMIF_RING_FLAG_S2M : 0;
	m->add_ring.region = region;
	m->add_ring.offset = off;
	m->add_ring.log2_ring_size = LOG2;
}

static void bad_handshakes(void)
{
	struct memif_msg m;
	int fd, mfd;

	fd = peer_connect();
	T_ASSERT(send(fd, "short", 5, MSG_NOSIGNAL) == 5);
	expect_refused(fd, "a 5-byte message");

	fd = peer_connect();
	msg_init(&m, 0x0100);
	T_ASSERT(send_raw(fd, &m, sizeof(m), -1) == 0);
	expect_refused(fd, "version 1.0");

	fd = peer_connect();
	msg_init(&m, MEMIF_VERSION);
	T_ASSERT(send_raw(fd, &m, sizeof(m), -1) == 0);
	T_ASSERT_EQ(recv_type(fd, 5000), MEMIF_MSG_ACK);
	memset(&m, 0, sizeof(m));
	m.type = MEMIF_MSG_ADD_REGION;
	m.add_region.size = 1 << 20;
	T_ASSERT(send_raw(fd, &m, sizeof(m), -1) == 0);
	expect_refused(fd, "a region without its fd");

	mfd = (int)memfd_create("hostile", MFD_CLOEXEC);
	T_ASSERT(mfd >= 0 && ftruncate(mfd, 65536) == 0);
	for (int k = 0; k < 3; k++) {
		int efd = eventfd(0, EFD_CLOEXEC);

		fd = peer_connect();
		msg_init(&m, MEMIF_VERSION);
		T_ASSERT(send_raw(fd, &m, sizeof(m), -1) == 0);
		T_ASSERT_EQ(recv_type(fd, 5000), MEMIF_MSG_ACK);
		memset(&m, 0, sizeof(m));
		m.type = MEMIF_MSG_ADD_REGION;
		/* k == 2: a region larger than its file */
		m.add_region.size = k == 2 ? (1u << 30) : 65536;
		T_ASSERT(send_raw(fd, &m, sizeof(m), mfd) == 0);
		if (k == 2) {
			expect_refused(fd, "a region larger than its file");
			close(efd);
			continue;
		}
		T_ASSERT_EQ(recv_type(fd, 5000), MEMIF_MSG_ACK);
		if (k == 0)
			ring_msg(&m, true, 0, 65536 - 64); /* ring past the region's end */
		else
			ring_msg(&m, true, 4, 0);          /* a region it never added */
		T_ASSERT(send_raw(fd, &m, sizeof(m), efd) == 0);
		expect_refused(fd, k == 0 ? "a ring outside its region" : "a ring in region 4");
		close(efd);
	}
	close(mfd);
}

/* A correct slave: one region (2 rings, then 2 x SLOTS buffers). */
static void peer_up(struct peer *p, bool seal)
{
	size_t rb = memif_ring_bytes(LOG2);
	struct memif_msg m;

	memset(p, 0, sizeof(*p));
	p->size = 2 * rb + 2 * SLOTS * BSZ;
	p->memfd = (int)memfd_create("hostile", MFD_CLOEXEC | (seal ? MFD_ALLOW_SEALING : 0));
	T_ASSERT(p->memfd >= 0 && ftruncate(p->memfd, (off_t)p->size) == 0);
	if (seal)
		T_ASSERT(fcntl(p->memfd, F_ADD_SEALS, F_SEAL_SHRINK) == 0);
	p->base = mmap(NULL, p->size, PROT_READ | PROT_WRITE, MAP_SHARED, p->memfd, 0);
	T_ASSERT(p->base != MAP_FAILED);
	p->s2m = (struct memif_ring *)(void *)p->base;
	p->m2s = (struct memif_ring *)(void *)(p->base + rb);
	p->s2m->cookie = p->m2s->cookie = MEMIF_COOKIE;
	p->fd = peer_connect();
	msg_init(&m, MEMIF_VERSION);
	T_ASSERT(send_raw(p->fd, &m, sizeof(m), -1) == 0);
	T_ASSERT_EQ(recv_type(p->fd, 5000), MEMIF_MSG_ACK);
	memset(&m, 0, sizeof(m));
	m.type = MEMIF_MSG_ADD_REGION;
	m.add_region.size = p->size;
	T_ASSERT(send_raw(p->fd, &m, sizeof(m), p->memfd) == 0);
	T_ASSERT_EQ(recv_type(p->fd, 5000), MEMIF_MSG_ACK);
	for (int k = 0; k < 2; k++) {
		p->efd[k] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ring_msg(&m, k == 0, 0, (uint32_t)(k * rb));
		T_ASSERT(send_raw(p->fd, &m, sizeof(m), p->efd[k]) == 0);
		T_ASSERT_EQ(recv_type(p->fd, 5000), MEMIF_MSG_ACK);
	}
	memset(&m, 0, sizeof(m));
	m.type = MEMIF_MSG_CONNECT;
	T_ASSERT(send_raw(p->fd, &m, sizeof(m), -1) == 0);
	T_ASSERT_EQ(recv_type(p->fd, 5000), MEMIF_MSG_CONNECTED);
	p->head = 0;
}

static void peer_down(struct peer *p)
{
	close(p->fd);
	close(p->efd[0]);
	close(p->efd[1]);
	munmap(p->base, p->size);
	close(p->memfd);
}

/* Put one descriptor on S2M (not published). */
static void put(struct peer *p, uint16_t region, uint32_t off, uint32_t len, uint16_t flags)
{
	struct memif_desc *d = &p->s2m->desc[p->head & (SLOTS - 1)];

	d->region = region;
	d->offset = off;
	d->length = len;
	d->flags = flags;
	p->head++;
}

/* A good frame with SEQ in buffer slot J of S2M. */
static void put_good(struct peer *p, uint32_t seq)
{
	size_t off = 2 * memif_ring_bytes(LOG2) + (size_t)(p->head & (SLOTS - 1)) * BSZ;

	t_frame(p->base + off, 60, bcast, 9, seq);
	put(p, 0, (uint32_t)off, 60, 0);
}

static void publish(struct peer *p)
{
	uint64_t one = 1;

	__atomic_store_n(&p->s2m->head, p->head, __ATOMIC_RELEASE);
	if (write(p->efd[0], &one, sizeof(one)) < 0)
		T_FAIL("eventfd write");
}

/* Frames a receives within MS, checking they are our good ones (src 9). */
static unsigned drain_a(int ms)
{
	uint8_t buf[4096];
	unsigned n = 0;
	long len;

	while ((len = t_recv(pa, buf, sizeof(buf), ms)) > 0) {
		if (buf[11] == 9) {
			T_ASSERT(t_frame_check(buf, (size_t)len) >= 0);
			n++;
		}
		ms = 300;
	}
	return n;
}

/* a -> b still whole: N frames sent, N received. */
static void a_to_b(unsigned n)
{
	uint8_t mac[6], buf[4096];
	unsigned got = 0;

	long len;

	while (t_recv(pb, buf, sizeof(buf), 100) > 0)
		; /* the peer's broadcasts reach b too */
	t_mac(mac, 2);
	/* in rounds that fit b's RX ring: the switch is not lossless */
	for (unsigned k = 0; k < n; k += 250) {
		unsigned m = n - k < 250 ? n - k : 250;

		T_ASSERT(t_blast(pa, mac, 1, k, m, 60, 5000) == (long)m);
		while (got < k + m && (len = t_recv(pb, buf, sizeof(buf), 2000)) > 0)
			if (buf[11] == 1 && t_frame_check(buf, (size_t)len) == (long)got)
				got++;
	}
	T_ASSERT_EQ(got, n);
}

static void good_burst(const char *after)
{
	struct peer p;

	peer_up(&p, true);
	for (uint32_t i = 0; i < 10; i++)
		put_good(&p, i);
	publish(&p);
	T_ASSERT_EQ(drain_a(3000), 10);
	peer_down(&p);
	printf("after %s: a new peer's 10 frames arrive\n", after);
}

int main(void)
{
	char cmd[400], name[200];
	struct peer p;
	pid_t unmd, child;

	t_watchdog(100);
	signal(SIGPIPE, SIG_IGN);
	unmd = t_unmd_start(NULL);
	snprintf(sock_path, sizeof(sock_path), "/tmp/unm-memif-hostile-%d.sock", (int)getpid());
	snprintf(name, sizeof(name), "memif:%s@conf:role=master", sock_path);
	snprintf(cmd, sizeof(cmd), "%s attach vale0 '%s'", t_prog("unm-ctl"), name);
	pa = t_open("vale0:a");
	pb = t_open("vale0:b");
	if (system(cmd) != 0)
		T_FAIL("%s failed", cmd);

	bad_handshakes();
	good_burst("bad handshakes");

	/* garbage descriptors between good frames */
	peer_up(&p, true);
	put_good(&p, 100);
	put(&p, 7, 0, 60, 0);                          /* region it does not have */
	put_good(&p, 101);
	put(&p, 0, (uint32_t)p.size + 100, 60, 0);     /* offset past its region */
	put(&p, 0, (uint32_t)p.size - 10, 100, 0);     /* runs past its end */
	put(&p, 0, 0, 0xfffffff0u, 0);                 /* huge length */
	put_good(&p, 102);
	put(&p, 9, 0, 60, MEMIF_DESC_FLAG_NEXT);       /* bad chain head */
	put(&p, 0, 0, 60, 0);
	put_good(&p, 103);
	publish(&p);
	T_ASSERT_EQ(drain_a(3000), 4);
	printf("garbage descriptors dropped, the 4 good frames between them arrive\n");
	/* bad M2S buffers posted while a floods towards the port */
	for (unsigned j = 0; j < 8; j++) {
		struct memif_desc *d = &p.m2s->desc[j];

		d->region = (uint16_t)(j & 1 ? 5 : 0);
		d->offset = j & 1 ? 0 : (uint32_t)p.size;
		d->length = BSZ;
	}
	__atomic_store_n(&p.m2s->head, 8, __ATOMIC_RELEASE);
	a_to_b(500);
	/* a head far past the ring: the port hangs up */
	p.head = (uint16_t)(p.head + 5000);
	publish(&p);
	expect_refused(p.fd, "a head 5000 slots ahead");
	p.fd = -1;
	peer_down(&p);
	good_burst("a jumping head");

	/* disconnect in the middle of a burst */
	peer_up(&p, true);
	for (uint32_t i = 0; i < 200; i++)
		put_good(&p, 1000 + i);
	publish(&p);
	peer_down(&p);
	drain_a(500);
	good_burst("a disconnect mid-burst");

	/* the region shrinks under the port (not sealed): SIGBUS guard */
	peer_up(&p, false);
	put_good(&p, 7);
	/* keep the ring headers (we still publish), drop the buffers */
	T_ASSERT(ftruncate(p.memfd, 4096 * 3) == 0);
	publish(&p);
	usleep(300000);
	peer_down(&p);
	drain_a(300);
	T_ASSERT(kill(unmd, 0) == 0);
	good_burst("a truncated region");

	/* SIGKILL of a peer while it sends */
	child = fork();
	T_ASSERT(child >= 0);
	if (child == 0) {
		peer_up(&p, true);
		for (uint32_t s = 0;; s++) {
			while ((uint16_t)(p.head - __atomic_load_n(&p.s2m->tail, __ATOMIC_ACQUIRE)) >=
			       SLOTS)
				usleep(100);
			put_good(&p, s);
			publish(&p);
			if ((s & 63) == 0)
				usleep(1000);
		}
	}
	{
		uint8_t buf[4096];
		unsigned seen = 0;

		/* let it run for a few hundred frames, then kill it */
		while (seen < 300 && t_recv(pa, buf, sizeof(buf), 5000) > 0)
			seen++;
		T_ASSERT_EQ(seen, 300);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	drain_a(500);
	good_burst("SIGKILL");

	a_to_b(1000);
	T_ASSERT(kill(unmd, 0) == 0);
	unm_close(pa);
	unm_close(pb);
	T_ASSERT_EQ(t_unmd_stop(unmd), 0);
	unlink(sock_path);
	printf("ok\n");
	return 0;
}
