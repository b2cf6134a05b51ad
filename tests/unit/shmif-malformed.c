// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: malformed shmif buses are refused or skipped with a counted
 * error, never a crash, an out-of-range access or a hang: a wrong or
 * byte-swapped magic, shm_first/shm_last outside the data area and a
 * newest record longer than 1514 bytes are refused at open; the same
 * corruption appearing later makes syncs count an error and deliver
 * nothing (and recover once repaired); a bad record length mid-ring is
 * skipped; a ring full of zero-length records is walked in bounded steps;
 * a broken record chain under shm_first is repaired by the writer; a lock
 * word that is neither 0 nor 1 is taken and restored, a lock held forever
 * times out (or is taken over when UNM_SHMIF_LOCK_STEAL_MS says so).
 */
#include <errno.h>
#include <unm.h>
#include "unm-shmif-bus.h"
#include "shmif-common.h"

static char name[200];
static const char *path;

static void write_file(void (*fill)(uint8_t *bus))
{
	uint8_t *bus;

	unlink(path);
	bus = tb_map(path, NULL);
	fill(bus);
	munmap(bus, TW_BUS);
}

static void f_badmagic(uint8_t *bus) { tw_s32(bus, 0, 0xdeadbeef); }
static void f_swapped(uint8_t *bus) { tw_init(bus); tw_s32(bus, 0, 0x54d011ca); }
static void f_lastout(uint8_t *bus) { tw_init(bus); tw_s32(bus, 20, TW_DATA); }
static void f_firstout(uint8_t *bus) { tw_init(bus); tw_s32(bus, 16, TW_DATA + 1); }
static void f_lastlen(uint8_t *bus) { tw_init(bus); tw_s32(bus, 32 + 0, 1515); }
static void f_zeromagic_garbage(uint8_t *bus) { tw_s32(bus, 20, 0xffffff00u); }

static void refused(void (*fill)(uint8_t *), const char *why)
{
	struct unm_port *p = NULL;

	write_file(fill);
	int rc = unm_open(name, &p, NULL);

	if (rc != -EBADMSG)
		T_FAIL("%s: unm_open returned %d, expected -EBADMSG", why, rc);
	if (!strstr(unm_errmsg(), "shmif"))
		T_FAIL("%s: message '%s'", why, unm_errmsg());
}

static void send(struct unm_port *p, uint32_t seq, uint32_t len)
{
	uint8_t f[1514];

	tf_make(f, seq, len, tf_bcast);
	T_ASSERT_EQ(unm_inject(p, f, len), (int)len);
	T_ASSERT_EQ(unm_txsync(p, 0), 0);
}

static struct shmif_bus_stats bst(struct unm_port *p)
{
	struct shmif_bus_stats s;

	T_ASSERT_EQ(unm_shmif_port_stats(p, &s, NULL, NULL), 0);
	return s;
}

static void walk_cb(const struct tw_pkt *pk, void *arg)
{
	*(long *)arg = tf_check(pk->frame, pk->len);
}

/* Corruption appearing while ports are open. */
static void runtime(void)
{
	struct unm_port *a, *b;
	struct rxstate rx = { .next_seq = 0 };
	struct unm_port_stats ps = { .sz = sizeof(ps) };
	uint8_t *bus;
	uint32_t saved;

	unlink(path);
	T_ASSERT_EQ(unm_open(name, &a, NULL), 0);
	T_ASSERT_EQ(unm_open(name, &b, NULL), 0);
	bus = tb_map(path, NULL);
	send(a, 0, 100);
	rx_all(b, &rx);
	T_ASSERT_EQ(rx.got, 1);

	/* shm_last outside the data area: nothing sent or received, counted */
	saved = tw_h32(bus, 20);
	tw_s32(bus, 20, 0x7fffffff);
	send(a, 1, 100);
	rx_all(b, &rx);
	T_ASSERT_EQ(rx.got, 1);
	T_ASSERT(bst(a).bad_hdr >= 1);
	T_ASSERT(bst(b).bad_hdr >= 1);
	T_ASSERT_EQ(unm_port_stats(a, &ps), 0);
	T_ASSERT(ps.drops >= 1 && ps.bad_len >= 1);
	tw_s32(bus, 20, saved);
	/* shm_first outside: the same */
	saved = tw_h32(bus, 16);
	tw_s32(bus, 16, TW_DATA + 24);
	send(a, 1, 100);
	rx_all(b, &rx);
	T_ASSERT_EQ(rx.got, 1);
	tw_s32(bus, 16, saved);
	/* repaired: traffic flows again */
	send(a, 1, 100);
	rx_all(b, &rx);
	T_ASSERT_EQ(rx.got, 2);
	T_ASSERT_EQ(rx.bad, 0);

	/* a bad length in a record the reader has not read yet: skipped to
	 * the writer's position, no garbage delivered */
	send(a, 2, 100);
	uint32_t rec2 = tw_h32(bus, 20);

	send(a, 3, 100);
	send(a, 4, 100);
	tw_s32(bus, 32 + rec2, 60000);
	rx_all(b, &rx);
	T_ASSERT_EQ(rx.got, 2);
	T_ASSERT_EQ(bst(b).bad_rec, 1);
	tw_s32(bus, 32 + rec2, 100);
	rx.next_seq = -1;
	send(a, 5, 100);
	rx_all(b, &rx);
	T_ASSERT_EQ(rx.got, 3);
	T_ASSERT_EQ(rx.next_seq, 6);
	T_ASSERT_EQ(rx.bad, 0);

	/* a lock word that is neither 0 nor 1: taken, left 0 */
	tw_s32(bus, 24, 7);
	send(a, 6, 100);
	rx_all(b, &rx);
	T_ASSERT_EQ(rx.got, 4);
	T_ASSERT_EQ(tw_h32(bus, 24), 0);
	T_ASSERT_EQ(bst(a).lock_bad, 1);

	/* a broken chain under shm_first when the writer must advance it:
	 * shm_first becomes the record being written; the walk still works */
	uint32_t pos = (tw_h32(bus, 20) + TW_PH + tw_len_at(bus, tw_h32(bus, 20))) % TW_DATA;

	tw_s32(bus, 16, pos + 10);
	tw_s32(bus, 32 + pos + 10, 9999);
	send(a, 7, 100);
	T_ASSERT_EQ(bst(a).bad_chain, 1);
	T_ASSERT_EQ(tw_h32(bus, 16), pos);
	T_ASSERT_EQ(tw_h32(bus, 20), pos);
	long seen = -1;

	T_ASSERT_EQ(tw_walk(bus, walk_cb, &seen), 1);
	T_ASSERT_EQ(seen, 7);
	munmap(bus, TW_BUS);
	unm_close(a);
	unm_close(b);
}

/* A ring full of zero-length records and a lapped reader: bounded syncs. */
static void zero_records(void)
{
	struct unm_port *b;
	uint8_t *bus;
	uint64_t g;

	unlink(path);
	T_ASSERT_EQ(unm_open(name, &b, NULL), 0);
	bus = tb_map(path, NULL);
	memset(bus + 32, 0, TW_DATA);
	tw_s32(bus, 16, 100);          /* records at 100, 124, ... */
	tw_s32(bus, 20, TW_DATA - 4);  /* newest: header split, len 0 */
	g = 7;                         /* the reader is lapped */
	memcpy(bus + 8, &g, 8);
	unsigned syncs = 0;
	uint64_t prev = ~0ull;
	double t0 = t_now();

	/* each sync walks a bounded number of records */
	while (syncs < 1000 && bst(b).rx_short != prev) {
		struct rxstate rx = { .next_seq = -1 };

		prev = bst(b).rx_short;
		rx_all(b, &rx);
		T_ASSERT_EQ(rx.got, 0);
		syncs++;
	}
	T_ASSERT(syncs > 10 && syncs < 1000);
	T_ASSERT(t_now() - t0 < 5);
	/* from 100 to TW_DATA - 4 in steps of 24, then caught up */
	T_ASSERT_EQ(bst(b).rx_short, (TW_DATA - 4 - 100) / TW_PH + 1);
	T_ASSERT_EQ(bst(b).overruns, 1);
	T_ASSERT_EQ(unm_wait(b, UNM_WAIT_RX, 0), 0);
	munmap(bus, TW_BUS);
	unm_close(b);
}

/* The lock held forever: give up (bus level), or take over when allowed. */
static void stuck_lock(void)
{
	static uint8_t mem[TW_BUS];
	struct shmif_bus sb;
	struct unm_port *a;
	char err[200];
	uint8_t *bus;

	T_ASSERT_EQ(unm_shmif_bus_attach_mem(&sb, mem, err, sizeof(err)), 0);
	tw_s32(mem, 24, 1);
	sb.lock_warn_ns = 20000000;
	sb.lock_giveup_ns = 50000000;
	T_ASSERT_EQ(unm_shmif_bus_lock(&sb), -ETIMEDOUT);
	T_ASSERT_EQ(sb.st.lock_timeouts, 1);
	T_ASSERT_EQ(tw_h32(mem, 24), 1);

	unlink(path);
	setenv("UNM_SHMIF_LOCK_STEAL_MS", "100", 1);
	T_ASSERT_EQ(unm_open(name, &a, NULL), 0);
	unsetenv("UNM_SHMIF_LOCK_STEAL_MS");
	bus = tb_map(path, NULL);
	tw_s32(bus, 24, 1);
	send(a, 0, 100);
	T_ASSERT_EQ(bst(a).lock_steals, 1);
	T_ASSERT_EQ(bst(a).tx_frames, 1);
	T_ASSERT_EQ(tw_h32(bus, 24), 0);
	munmap(bus, TW_BUS);
	unm_close(a);
}

int main(void)
{
	struct unm_port *p;

	t_watchdog(30);
	path = tb_newpath("bad");
	snprintf(name, sizeof(name), "shmif:%s", path);
	refused(f_badmagic, "bad magic");
	T_ASSERT(strstr(unm_errmsg(), "not magical"));
	refused(f_swapped, "byte-swapped magic");
	T_ASSERT(strstr(unm_errmsg(), "other byte order"));
	refused(f_lastout, "last outside");
	refused(f_firstout, "first outside");
	refused(f_lastlen, "newest record too long");
	refused(f_zeromagic_garbage, "fresh magic, garbage last");
	T_ASSERT(unm_open("shmif:/tmp", &p, NULL) < 0);
	T_ASSERT_EQ(unm_open("shmif:/nonexistent-dir/bus", &p, NULL), -ENOENT);
	runtime();
	zero_records();
	stuck_lock();
	printf("ok\n");
	return 0;
}
