// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a hostile vhost-user frontend against the vhost-user port.
 * Each case connects, sets up the queues, publishes one bad thing and
 * checks that the port counted it, marked itself errored (-EIO from the
 * sync) or dropped the frame, touched nothing outside the memory table
 * (ASan build) and, after the frontend reconnects, works again:
 *   descriptor address outside the table, length running past the
 *   region's end, a chain that loops, avail idx ahead by more than the
 *   queue size, an avail entry naming a descriptor beyond the table, a
 *   read-only buffer in the RX queue, an indirect descriptor, ring
 *   addresses outside the table, a TX frame longer than 64 KiB (dropped,
 *   queue keeps going), a memory table bigger than its file (refused), a
 *   vring index out of range (refused), a bad header version and an
 *   oversized payload (connection dropped), and garbage bytes.
 */
#include <stdio.h>
#include "../lib/test.h"
#include "../lib/vhost-fe.inc"

static char path[128];

static struct unm_port_stats stats(struct fe *f)
{
	struct unm_port_stats st = { .sz = sizeof(st) };

	unm_port_stats(f->port, &st);
	return st;
}

static int link_up(struct fe *f)
{
	struct unm_port_info info = { .sz = sizeof(info) };

	unm_port_info(f->port, &info);
	return (int)info.link_up;
}

static void setup(struct fe *f)
{
	int rc = fe_setup(f, path, FE_F_V1 | FE_F_MRG | FE_F_EVIDX | FE_F_PROTO, 64);

	if (rc)
		T_FAIL("setup step %d failed", rc);
	T_ASSERT_EQ(link_up(f), 1);
}

/* Pump the port; expect it errored (sync -EIO) and counter *CNT grown. */
static void expect_broken(struct fe *f, const char *what, uint64_t before, int which)
{
	struct unm_port_stats st;
	uint64_t now = 0;
	int rc = 0;

	for (int i = 0; i < 50; i++) {
		fe_pump(f);
		rc = unm_txsync(f->port, 0);
		st = stats(f);
		now = which == 0 ? st.bad_ring : which == 1 ? st.bad_buf : st.bad_len;
		if (now > before && rc == -EIO)
			break;
	}
	if (!(now > before && rc == -EIO))
		T_FAIL("%s: counter %llu -> %llu, txsync %d", what, (unsigned long long)before,
		       (unsigned long long)now, rc);
	T_ASSERT_EQ(link_up(f), 0);
	printf("  %-44s counted, port errored\n", what);
	fe_disconnect(f);
	T_ASSERT_EQ(unm_txsync(f->port, 0), 0); /* a disconnect clears the error */
}

static void tx_desc(struct fe *f, uint16_t d, uint64_t addr, uint32_t len, uint16_t flags,
		    uint16_t next)
{
	f->vq[1].desc[d] = (struct fe_desc){ addr, len, flags, next };
}

static void rx_after_broken_tx(struct fe *f)
{
	/* the port's RX side of a guest that behaves: frames arrive */
	uint8_t frame[64];
	struct unm_ring *r = unm_ring_get(f->port, 0, 0);

	memset(frame, 0x33, sizeof(frame));
	setup(f);
	fe_tx(f, 0, FE_BUFS, frame, 64, 0);
	for (int i = 0; i < 100 && unm_ring_empty(r); i++)
		fe_pump(f);
	T_ASSERT(!unm_ring_empty(r));
	T_ASSERT_EQ(r->slot[r->head].len, 64);
	unm_ring_advance(r, unm_ring_next(r, r->head));
	unm_rxsync(f->port, 0);
	fe_disconnect(f);
}

static void descriptors(struct fe *f)
{
	struct unm_port_stats st;
	uint8_t frame[64] = { 0 };

	setup(f);
	tx_desc(f, 0, FE_GPA + FE_MEM + 4096, 100, 0, 0);
	fe_publish(f, 1, 0);
	expect_broken(f, "TX buffer outside the table", stats(f).bad_buf, 1);

	setup(f);
	tx_desc(f, 0, FE_GPA + FE_MEM - 100, 0xffffffffu, 0, 0);
	fe_publish(f, 1, 0);
	expect_broken(f, "TX buffer length past the region", stats(f).bad_buf, 1);

	setup(f);
	tx_desc(f, 0, FE_GPA + FE_BUFS, 12, 1, 1);
	tx_desc(f, 1, FE_GPA + FE_BUFS + 12, 60, 1, 0);
	fe_publish(f, 1, 0);
	expect_broken(f, "descriptor chain loop", stats(f).bad_ring, 0);

	setup(f);
	f->vq[1].avail_idx = 64 + 5;
	fe_publish(f, 1, 0);
	expect_broken(f, "avail idx ahead by more than the queue", stats(f).bad_ring, 0);

	setup(f);
	fe_publish(f, 1, 64);
	expect_broken(f, "avail entry beyond the table", stats(f).bad_ring, 0);

	setup(f);
	tx_desc(f, 0, FE_GPA + FE_BUFS, 72, 0, 0);
	tx_desc(f, 0, FE_GPA + FE_BUFS, 72, 1, 99);
	fe_publish(f, 1, 0);
	expect_broken(f, "next index beyond the table", stats(f).bad_ring, 0);

	setup(f);
	tx_desc(f, 0, FE_GPA + FE_BUFS, 16, 4, 0);
	fe_publish(f, 1, 0);
	expect_broken(f, "indirect descriptor", stats(f).bad_ring, 0);

	setup(f);
	f->vq[0].desc[0] = (struct fe_desc){ FE_GPA + FE_BUFS, 2048, 0, 0 }; /* not WRITE */
	fe_publish(f, 0, 0);
	T_ASSERT_EQ(unm_inject(f->port, frame, 64), 64);
	expect_broken(f, "read-only buffer in the RX queue", stats(f).bad_ring, 0);

	setup(f);
	f->vq[0].desc[0] = (struct fe_desc){ FE_GPA + FE_MEM - 8, 2048, 2, 0 };
	fe_publish(f, 0, 0);
	T_ASSERT_EQ(unm_inject(f->port, frame, 64), 64);
	expect_broken(f, "RX buffer past the region", stats(f).bad_buf, 1);

	/* a 70000-byte TX frame: dropped and counted, the queue keeps going */
	setup(f);
	st = stats(f);
	tx_desc(f, 0, FE_GPA + FE_BUFS, 70000, 0, 0);
	fe_publish(f, 1, 0);
	fe_tx(f, 1, FE_BUFS + 131072, frame, 64, 0);
	struct unm_ring *r = unm_ring_get(f->port, 0, 0);
	for (int i = 0; i < 100 && unm_ring_empty(r); i++)
		fe_pump(f);
	T_ASSERT_EQ(unm_ring_space(r), 1);
	T_ASSERT_EQ(stats(f).bad_len, st.bad_len + 1);
	T_ASSERT_EQ(stats(f).drops, st.drops + 1);
	T_ASSERT_EQ(fe_used_idx(f, 1), 2);
	T_ASSERT_EQ(link_up(f), 1);
	unm_ring_advance(r, r->tail);
	unm_rxsync(f->port, 0);
	printf("  %-44s dropped, queue alive\n", "TX frame of 70000 bytes");
	fe_disconnect(f);
	rx_after_broken_tx(f);
}

static void messages(struct fe *f)
{
	struct { uint32_t n, pad; uint64_t gpa, size, uva, off; } mt = { 1, 0, FE_GPA, FE_MEM * 2, FE_UVA, 0 };
	uint32_t st[2] = { 7, 64 };
	uint64_t a[5] = { 0, FE_UVA + FE_MEM, FE_UVA, FE_UVA + 4096, 0 };
	uint64_t kv = 0;
	int efd = eventfd(0, EFD_CLOEXEC);

	setup(f);
	T_ASSERT_EQ(fe_ack(f, FE_SET_MEM_TABLE, &mt, 40, &f->memfd, 1), 1);
	printf("  %-44s refused\n", "memory table larger than its file");
	T_ASSERT_EQ(fe_ack(f, FE_SET_VRING_NUM, st, 8, NULL, 0), 1);
	st[0] = 0, st[1] = 100;
	T_ASSERT_EQ(fe_ack(f, FE_SET_VRING_NUM, st, 8, NULL, 0), 1);
	printf("  %-44s refused\n", "vring index 7, queue size 100");
	T_ASSERT_EQ(fe_ack(f, 99, NULL, 0, NULL, 0), 1);
	T_ASSERT_EQ(fe_ack(f, FE_SET_VRING_KICK, &kv, 8, NULL, 0), 1); /* fd missing */
	fe_disconnect(f);

	/* ring addresses outside the table: the queue breaks when it starts */
	setup(f);
	uint64_t before = stats(f).bad_ring;
	T_ASSERT_EQ(fe_ack(f, FE_SET_VRING_ADDR, a, 40, NULL, 0), 0);
	T_ASSERT_EQ(fe_ack(f, FE_SET_VRING_KICK, &kv, 8, &efd, 1), 0);
	expect_broken(f, "ring address outside the table", before, 0);

	/* protocol errors: the connection is dropped, the port waits */
	const uint32_t bad_hdrs[][3] = { { 1, 0x2, 0 }, { 1, 0x1, 1u << 20 }, { 1, 0x5, 0 } };
	for (unsigned k = 0; k < 3; k++) {
		char c;

		setup(f);
		T_ASSERT(send(f->sock, bad_hdrs[k], 12, MSG_NOSIGNAL) == 12);
		T_ASSERT_EQ(fe_wait_sock(f, 2000), 0);
		T_ASSERT_EQ(recv(f->sock, &c, 1, 0), 0); /* EOF: dropped */
		fe_disconnect(f);
	}
	printf("  %-44s connection dropped\n", "bad version, 1 MiB payload, REPLY flag");
	/* garbage stream and an early close in the middle of a message */
	setup(f);
	uint8_t junk[300];
	for (unsigned i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37);
	T_ASSERT(send(f->sock, junk, sizeof(junk), MSG_NOSIGNAL) == (ssize_t)sizeof(junk));
	for (int i = 0; i < 20; i++)
		fe_pump(f);
	fe_disconnect(f);
	setup(f);
	uint32_t half[3] = { FE_SET_MEM_TABLE, 1, 40 };
	T_ASSERT(send(f->sock, half, 12, MSG_NOSIGNAL) == 12);
	fe_pump(f);
	fe_disconnect(f);
	close(efd);
}

static void logcb(enum unm_log_level lvl, const char *msg, void *arg)
{
	(void)arg;
	if (lvl <= UNM_LOG_INFO)
		printf("    log: %s\n", msg);
}

int main(void)
{
	struct fe f = { .sock = -1 };
	char name[200];

	t_watchdog(50);
	unm_set_log(logcb, NULL);
	snprintf(path, sizeof(path), "/tmp/unm-vhost-hostile-%d.sock", (int)getpid());
	snprintf(name, sizeof(name), "vhost-user:%s", path);
	T_ASSERT_EQ(unm_open(name, &f.port, NULL), 0);
	descriptors(&f);
	messages(&f);
	/* the port survived all of it: a well-behaved frontend still works */
	rx_after_broken_tx(&f);
	printf("  %-44s ok\n", "well-behaved frontend afterwards");
	unm_close(f.port);
	printf("ok\n");
	return 0;
}
