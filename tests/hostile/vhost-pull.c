// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: the vhost-user port's in-place handover (rx_pull /
 * rx_pull_done, what unmd's switch uses to copy a guest's frame once,
 * straight to its destination) against a frontend that publishes good and
 * hostile descriptors. Checks: plain frames (one descriptor, header and
 * frame) come as pointers into the guest's memory at the frame, with
 * their lengths; rx_pull_done(N) returns only the first N to the guest
 * (used ring), the rest come again; a chained frame, a runt, a frame
 * longer than a slot, a buffer outside the memory table or running past
 * its region, an indirect descriptor, a bad avail entry or index end the
 * run before them (nothing of them is handed over) and the ordinary
 * rxsync then takes them as it always did (delivered in order, dropped or
 * the queue broken and counted); nothing is handed over while frames wait
 * in the port's RX slots; the counters add up (rx_frames of both ways,
 * copy_rx_frames of the slot way only). Fails without rx_pull.
 */
#include <stdio.h>
#include "../lib/test.h"
#include "../lib/vhost-fe.inc"
#include "unm-internal.h"

static char path[128];

static struct unm_port_stats stats(struct fe *f)
{
	struct unm_port_stats st = { .sz = sizeof(st) };

	unm_port_stats(f->port, &st);
	return st;
}

static void setup(struct fe *f)
{
	struct unm_port_info info = { .sz = sizeof(info) };
	int rc = fe_setup(f, path, FE_F_V1 | FE_F_MRG | FE_F_EVIDX | FE_F_PROTO, 64);

	if (rc)
		T_FAIL("setup step %d failed", rc);
	unm_port_info(f->port, &info);
	T_ASSERT_EQ(info.link_up, 1);
}

static struct unm_kring *rxk(struct fe *f)
{
	return &f->port->rx[0];
}

/* rx_pull at the ring's head (as unmd does: its head is the ring's) */
static int pull(struct fe *f, struct unm_pull *pl, unsigned max)
{
	struct unm_ring *r = unm_ring_get(f->port, 0, 0);

	/* no fe_pump: its rxsync would take the frames into slots */
	return f->port->ops->rx_pull(f->port, rxk(f), r->head, pl, max);
}

static void done(struct fe *f, struct unm_pull *pl, unsigned n)
{
	f->port->ops->rx_pull_done(f->port, rxk(f), pl, n);
}

static void frame_of(uint8_t *fr, unsigned len, uint8_t tag)
{
	memset(fr, tag, len);
	memset(fr, 0x02, 6); /* unicast destination */
	memset(fr + 6, 0x04, 6);
}

/* frames in the RX ring after rxsyncs (the slot way) */
static unsigned slot_frames(struct fe *f)
{
	struct unm_ring *r = unm_ring_get(f->port, 0, 0);

	for (int i = 0; i < 100; i++) {
		fe_pump(f);
		unm_rxsync(f->port, 0);
	}
	return unm_ring_space(r);
}

static void release_slots(struct fe *f)
{
	struct unm_ring *r = unm_ring_get(f->port, 0, 0);

	unm_ring_advance(r, r->tail);
	unm_rxsync(f->port, 0);
}

static void plain(struct fe *f)
{
	struct unm_pull pl[8];
	struct unm_port_stats st0, st;
	uint8_t fr[100];
	int n;

	setup(f);
	st0 = stats(f);
	T_ASSERT_EQ(pull(f, pl, 8), 0); /* nothing published */
	for (unsigned i = 0; i < 3; i++) {
		frame_of(fr, 60 + i, (uint8_t)(0x10 + i));
		fe_tx(f, (uint16_t)i, FE_BUFS + i * 4096, fr, 60 + i, 0);
	}
	n = pull(f, pl, 8);
	T_ASSERT_EQ(n, 3);
	for (unsigned i = 0; i < 3; i++) {
		T_ASSERT_EQ(pl[i].buf - pl[0].buf, (long)i * 4096);
		T_ASSERT_EQ(pl[i].len, 60 + i);
		T_ASSERT_EQ(pl[i].buf[20], 0x10 + i);
	}
	/* in place: the port's view is the guest's memory (its own mapping) */
	f->mem[FE_BUFS + 4096 + 12 + 30] = 0x77;
	T_ASSERT_EQ(((volatile const uint8_t *)pl[1].buf)[30], 0x77);
	done(f, pl, 2); /* the third stays with the guest */
	T_ASSERT_EQ(fe_used_idx(f, 1), 2);
	n = pull(f, pl, 8);
	T_ASSERT_EQ(n, 1);
	T_ASSERT_EQ(pl[0].len, 62);
	T_ASSERT_EQ(pl[0].buf[20], 0x12);
	done(f, pl, 1);
	T_ASSERT_EQ(fe_used_idx(f, 1), 3);
	/* MAX limits a pull */
	for (unsigned i = 0; i < 3; i++) {
		frame_of(fr, 64, 0x20);
		fe_tx(f, (uint16_t)(3 + i), FE_BUFS + (3 + i) * 4096, fr, 64, 0);
	}
	T_ASSERT_EQ(pull(f, pl, 2), 2);
	done(f, pl, 2);
	T_ASSERT_EQ(pull(f, pl, 2), 1);
	done(f, pl, 1);
	T_ASSERT_EQ(fe_used_idx(f, 1), 6);
	st = stats(f);
	T_ASSERT_EQ(st.rx_frames - st0.rx_frames, 6);
	T_ASSERT_EQ(st.rx_bytes - st0.rx_bytes, 60 + 61 + 62 + 3 * 64);
	T_ASSERT_EQ(st.copy_rx_frames, st0.copy_rx_frames);
	printf("  %-44s handed over in place, partly consumed\n", "plain frames");
	fe_disconnect(f);
}

/* A plain frame, then OTHER (descriptor 1, and NEXT as descriptor 3 if
 * its len is not 0; published here), then a plain frame: the pull stops
 * before OTHER. Then rxsync: SLOTS slots with FRAMES frames, or the queue
 * BROKEN. */
static void stops_at(struct fe *f, const char *what, struct fe_desc other, struct fe_desc next,
		     int slots, int frames, int broken)
{
	struct unm_pull pl[8];
	struct unm_port_stats st0, st;
	uint8_t fr[64];

	setup(f);
	st0 = stats(f);
	frame_of(fr, 64, 0x31);
	fe_tx(f, 0, FE_BUFS, fr, 64, 0);
	f->vq[1].desc[1] = other;
	if (next.len)
		f->vq[1].desc[3] = next;
	fe_publish(f, 1, 1);
	frame_of(fr, 64, 0x33);
	fe_tx(f, 2, FE_BUFS + 2 * 4096 + 2048, fr, 64, 0);
	T_ASSERT_EQ(pull(f, pl, 8), 1);
	T_ASSERT_EQ(pl[0].buf[20], 0x31);
	done(f, pl, 1);
	T_ASSERT_EQ(pull(f, pl, 8), 0); /* OTHER at the head: rxsync's */
	if (broken) {
		int rc = 0;

		for (int i = 0; i < 50 && rc != -EIO; i++) {
			fe_pump(f);
			rc = unm_rxsync(f->port, 0);
		}
		T_ASSERT_EQ(rc, -EIO);
		st = stats(f);
		T_ASSERT(st.bad_ring + st.bad_buf > st0.bad_ring + st0.bad_buf);
		T_ASSERT_EQ(pull(f, pl, 8), 0); /* never from a broken queue */
	} else {
		T_ASSERT_EQ(slot_frames(f), (unsigned)slots); /* OTHER (unless dropped) and the last */
		T_ASSERT_EQ(pull(f, pl, 8), 0); /* frames in slots go first */
		release_slots(f);
		st = stats(f);
		T_ASSERT_EQ(st.copy_rx_frames - st0.copy_rx_frames, (uint64_t)frames);
		T_ASSERT_EQ(st.rx_frames - st0.rx_frames, 1 + (uint64_t)frames);
		T_ASSERT_EQ(fe_used_idx(f, 1), 3);
	}
	printf("  %-44s not handed over, %s\n", what,
	       broken ? "queue broken by rxsync" : "rxsync took it");
	fe_disconnect(f);
}

/* a plain frame, then an avail entry naming descriptor 64 (of 64) */
static void avail_bad(struct fe *f)
{
	struct unm_pull pl[8];
	struct unm_port_stats st0;
	uint8_t fr[64];
	int rc = 0;

	setup(f);
	st0 = stats(f);
	frame_of(fr, 64, 0x41);
	fe_tx(f, 0, FE_BUFS, fr, 64, 0);
	fe_publish(f, 1, 64);
	T_ASSERT_EQ(pull(f, pl, 8), 1); /* the frame before it, then the queue broke */
	done(f, pl, 1);
	T_ASSERT_EQ(fe_used_idx(f, 1), 1);
	T_ASSERT(stats(f).bad_ring > st0.bad_ring);
	T_ASSERT_EQ(pull(f, pl, 8), 0);
	for (int i = 0; i < 50 && rc != -EIO; i++)
		rc = unm_rxsync(f->port, 0);
	T_ASSERT_EQ(rc, -EIO);
	printf("  %-44s frames before it only, queue broken\n", "avail entry beyond the table");
	fe_disconnect(f);
}

int main(void)
{
	struct fe f = { .sock = -1 };
	char name[200];
	uint64_t buf = FE_GPA + FE_BUFS + 4096;

	t_watchdog(60);
	snprintf(path, sizeof(path), "/tmp/unm-vhost-pull-%d.sock", (int)getpid());
	snprintf(name, sizeof(name), "vhost-user:%s", path);
	T_ASSERT_EQ(unm_open(name, &f.port, NULL), 0);
	if (!f.port->ops->rx_pull || !f.port->ops->rx_pull_done)
		T_FAIL("vhost-user port has no in-place handover (rx_pull)");
	plain(&f);
	struct fe_desc none = { 0, 0, 0, 0 };
	/* header then frame in two descriptors: the slot way, in order */
	stops_at(&f, "chained frame", (struct fe_desc){ buf, 12, 1, 3 },
		 (struct fe_desc){ buf + 12, 64, 0, 0 }, 2, 2, 0);
	/* a runt (header + 10 bytes): the switch drops it, not the port */
	stops_at(&f, "runt", (struct fe_desc){ buf, 12 + 10, 0, 0 }, none, 2, 2, 0);
	/* longer than a slot (2048): the slot way makes it a chain */
	stops_at(&f, "frame longer than a slot", (struct fe_desc){ buf, 12 + 3000, 0, 0 }, none,
		 3, 2, 0);
	stops_at(&f, "buffer outside the table",
		 (struct fe_desc){ FE_GPA + FE_MEM + 4096, 100, 0, 0 }, none, 0, 0, 1);
	stops_at(&f, "buffer past its region",
		 (struct fe_desc){ FE_GPA + FE_MEM - 40, 100, 0, 0 }, none, 0, 0, 1);
	stops_at(&f, "indirect descriptor", (struct fe_desc){ buf, 16, 4, 0 }, none, 0, 0, 1);
	stops_at(&f, "device-writable descriptor", (struct fe_desc){ buf, 76, 2, 0 }, none, 0, 0,
		 1);
	stops_at(&f, "chain with a next beyond the table", (struct fe_desc){ buf, 12, 1, 99 },
		 none, 0, 0, 1);
	avail_bad(&f);
	unm_close(f.port);
	printf("ok\n");
	return 0;
}
