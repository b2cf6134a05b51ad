// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a shmif port reads a bus written by an independent writer
 * (tests/unit/shmif-common.h, written from the format description, no
 * library code): two different sender ids, the port's own sender id
 * (skipped), short records (skipped), and one ring crossing of each kind
 * - a record header split across the end, a payload split across the
 * end, a record ending exactly at the end, a header ending exactly at the
 * end - so the generation wraps four times. Every frame arrives once, in
 * order, byte for byte; shm_gen, shm_first and the post-mortem walk agree.
 */
#include <errno.h>
#include <unm.h>
#include "unm-shmif-bus.h"
#include "shmif-common.h"

#define S1 0x1111222233334444ull
#define S2 0x5555666677778888ull

static uint8_t *bus;
static int bus_fd;
static struct unm_port *port;
static struct rxstate rx = { .next_seq = 0 };
static uint32_t seq;
static uint64_t own;
static unsigned skipped_own, skipped_short;

static uint32_t next_pos(void)
{
	uint32_t last = tw_h32(bus, 20);

	return (last + TW_PH + tw_len_at(bus, last)) % TW_DATA;
}

static void send(uint32_t len)
{
	static uint8_t f[1514];

	tf_make(f, seq++, len, tf_bcast);
	tw_send(bus, bus_fd, seq & 1 ? S1 : S2, f, len);
}

/* Write frames until the next record starts at TARGET. Keeps the port
 * drained so it is never overrun. */
static void go_to(uint32_t target)
{
	for (unsigned n = 0;; n++) {
		uint32_t gap = (target + TW_DATA - next_pos()) % TW_DATA;

		if (gap == 0)
			break;
		T_ASSERT(gap >= TW_PH + 22);
		if (gap <= TW_PH + 1514)
			send(gap - TW_PH);
		else if (gap - (TW_PH + 1514) >= TW_PH + 22)
			send(1514);
		else
			send(1000);
		if (n % 64 == 63)
			rx_all(port, &rx);
	}
}

/* Noise the port must skip: its own sender id, and short records. */
static void noise(void)
{
	static uint8_t f[64];

	memset(f, 0xee, sizeof(f));
	tw_send(bus, bus_fd, own, f, 60);
	skipped_own++;
	tw_send(bus, bus_fd, S1, f, 0);
	tw_send(bus, bus_fd, S2, f, 13);
	skipped_short += 2;
}

static unsigned walked;

static void walk_cb(const struct tw_pkt *pk, void *arg)
{
	long *expect = arg;
	long s = tf_check(pk->frame, pk->len);

	if (pk->len < 14 || pk->sender == own)
		return;
	T_ASSERT(s >= 0);
	T_ASSERT(*expect < 0 || s == *expect);
	*expect = s + 1;
	walked++;
}

int main(void)
{
	const char *path = tb_newpath("fmt");
	struct shmif_bus_stats bst;
	char name[200];

	t_watchdog(30);
	bus = tb_map(path, &bus_fd);
	tw_init(bus);
	/* some history before the port joins: it must not see it */
	for (int i = 0; i < 50; i++)
		send(1400);
	snprintf(name, sizeof(name), "shmif:%s", path);
	T_ASSERT_EQ(unm_open(name, &port, NULL), 0);
	T_ASSERT_EQ(unm_shmif_port_stats(port, NULL, NULL, &own), 0);
	T_ASSERT(own != 0 && own != S1 && own != S2);
	seq = 0;
	rx.next_seq = 0;

	/* 1: header split across the end (10 bytes before, 14 after) */
	noise();
	go_to(TW_DATA - 10);
	send(300);
	T_ASSERT_EQ(tw_h32(bus, 20), TW_DATA - 10);
	T_ASSERT_EQ(tw_gen(bus), 1);
	rx_all(port, &rx);

	/* 2: header intact, payload split (100 bytes before the end) */
	noise();
	go_to(TW_DATA - TW_PH - 100);
	send(500);
	T_ASSERT_EQ(tw_gen(bus), 2);
	rx_all(port, &rx);

	/* 3: a record ending exactly at the end; the next starts at 0 */
	go_to(TW_DATA - TW_PH - 200);
	send(200);
	T_ASSERT_EQ(next_pos(), 0);
	T_ASSERT_EQ(tw_gen(bus), 3);
	send(100);
	T_ASSERT_EQ(tw_h32(bus, 20), 0);
	rx_all(port, &rx);

	/* 4: a header ending exactly at the end; the payload starts at 0 */
	noise();
	go_to(TW_DATA - TW_PH);
	send(400);
	T_ASSERT_EQ(tw_gen(bus), 4);
	noise();
	send(64);
	rx_all(port, &rx);

	T_ASSERT_EQ(rx.bad, 0);
	T_ASSERT_EQ(rx.got, seq);
	T_ASSERT_EQ(rx.next_seq, seq);
	T_ASSERT_EQ(unm_shmif_port_stats(port, &bst, NULL, NULL), 0);
	T_ASSERT_EQ(bst.rx_own, skipped_own);
	T_ASSERT_EQ(bst.rx_short, skipped_short);
	T_ASSERT_EQ(bst.overruns, 0);
	T_ASSERT_EQ(bst.bad_hdr + bst.bad_rec, 0);

	/* shm_first is a record boundary: the post-mortem walk from it
	 * reaches shm_last through consecutive valid frames. */
	long expect = -1;
	long n = tw_walk(bus, walk_cb, &expect);

	T_ASSERT(n > 600);
	T_ASSERT_EQ(expect, seq);

	/* The library's own reader, lapped on purpose (devgen 0, offset 0),
	 * resynchronises to shm_first and reads the same frames. */
	static uint8_t copy[TW_BUS];
	struct shmif_bus b;
	struct shmif_rec rec;
	char err[200];
	unsigned got = 0;
	long prev = -1;

	memcpy(copy, bus, TW_BUS);
	T_ASSERT_EQ(unm_shmif_bus_attach_mem(&b, copy, err, sizeof(err)), 0);
	b.nextpkt = 0;
	b.devgen = 0;
	for (unsigned guard = 0; guard < 100000; guard++) {
		int r = unm_shmif_bus_rx_next(&b, &rec);
		uint8_t f[1514];

		if (r == SHMIF_RX_EMPTY)
			break;
		T_ASSERT(r > 0);
		if (r == SHMIF_RX_SKIP)
			continue;
		unm_shmif_bus_rx_copy(&b, &rec, 0, f, rec.len);
		unm_shmif_bus_rx_consume(&b, &rec);
		if (rec.sender == own)
			continue;
		long s = tf_check(f, rec.len);

		T_ASSERT(s >= 0);
		T_ASSERT(prev < 0 || s == prev + 1);
		prev = s;
		got++;
	}
	T_ASSERT_EQ(b.st.overruns, 1);
	T_ASSERT_EQ(got, walked);
	T_ASSERT_EQ(prev + 1, seq);
	unm_close(port);
	printf("ok: %u frames, %u in the intact window\n", rx.got, got);
	return 0;
}
