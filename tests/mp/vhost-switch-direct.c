// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a vhost-user port attached to vale0 (`unm-ctl attach`),
 * fed by a test frontend that publishes whole batches of guest frames at
 * once, so that the switch sees exactly the batch the test built. The
 * batches cover both sides of the switch's one-pass delivery of a pulled
 * stream (vale_fwd.c fwd_pull_direct) and every reason to leave it:
 * a stream of one MAC pair flooded to the only receiver; a batch whose
 * MAC pair changes halfway; a batch with a runt (bad_len); a receiver
 * that does not read (every frame either received or counted dst_full,
 * and the receiver gets exactly the frames counted as delivered); a
 * unicast stream to a learned MAC with a second port present (only the
 * owner gets it); a flood with two receivers (each gets every frame).
 * Every received frame is checked (content and order); the vhost port's
 * counters add up (tx = delivered + drops by reason) after each batch.
 * VIRTIO_F_IN_ORDER is negotiated: the used ring reports buffers in
 * order, the last of each batch always, and a batch the switch pulled
 * whole by one entry (vhost_vq.c vu_vq_pull_done), not one per frame.
 */
#include <stdio.h>
#include <string.h>
#include "../lib/test.h"
#include "../lib/unmd.h"
#include "../lib/vhost-fe.inc"

#define QN 256 /* virtqueue entries: one batch of the switch (VS_BATCH 512) holds a whole one */
#define FE_F_INORDER (1ull << 35) /* VIRTIO_F_IN_ORDER */

static char vname[160];
static uint32_t seq;

/* The vhost-user port's counters, from unmd. */
static struct unm_ctl_port_info vinfo(void)
{
	struct unm_ctl_port_info pi[8];
	int n = t_list_ports("vale0", pi, 8);

	for (int i = 0; i < n; i++)
		if (strstr(pi[i].name, "vhost-user:"))
			return pi[i];
	T_FAIL("vhost-user port not listed");
	return pi[0];
}

/* Guest TX: N frames published with ONE avail index store and one kick;
 * frame i is LENS(i) bytes (t_frame, seq from the global counter, or a
 * runt of LEN < 14 bytes) to DST(i). Waits until the port took them all.
 * Returns how many of the N used entries the device wrote (IN_ORDER: it
 * may report a batch by its last buffer's entry, which it must write). */
static unsigned batch(struct fe *f, unsigned n, const uint8_t *dsts, const uint32_t *lens)
{
	struct fe_vq *q = &f->vq[1];
	uint16_t base = q->avail_idx;
	uint64_t one = 1;
	unsigned written = 0;

	T_ASSERT(n <= QN);
	for (unsigned i = 0; i < n; i++) /* a sentinel the device never writes */
		fe_used_elem(q, (uint16_t)(base + i))[0] = 0xffffffffu;
	for (unsigned i = 0; i < n; i++) {
		uint16_t d = (uint16_t)((base + i) & (QN - 1));
		uint64_t off = FE_BUFS + (uint64_t)d * 2048; /* the rings sit below */
		uint8_t frame[1600];
		uint32_t len = lens[i];

		if (len >= 14)
			t_frame(frame, len, dsts + 6 * i, 9, seq++);
		else
			memset(frame, 0xee, len);
		memset(f->mem + off, 0, 12);
		memcpy(f->mem + off + 12, frame, len);
		q->desc[d] = (struct fe_desc){ fe_gpa(off), 12 + len, 0, 0 };
		q->avail[2 + ((base + i) & (QN - 1))] = d;
	}
	q->avail_idx = (uint16_t)(base + n);
	__atomic_store_n(&q->avail[1], q->avail_idx, __ATOMIC_RELEASE);
	T_ASSERT(write(q->kick, &one, 8) == 8);
	for (int i = 0; i < 5000 && fe_used_idx(f, 1) != q->avail_idx; i++)
		usleep(1000);
	T_ASSERT_EQ(fe_used_idx(f, 1), q->avail_idx);
	for (unsigned i = 0; i < n; i++) {
		uint32_t id = fe_used_elem(q, (uint16_t)(base + i))[0];

		if (id != 0xffffffffu) {
			T_ASSERT_EQ(id, (uint32_t)((base + i) & (QN - 1))); /* in order */
			written++;
		}
	}
	T_ASSERT_EQ(fe_used_elem(q, (uint16_t)(base + n - 1))[0], (uint32_t)((base + n - 1) & (QN - 1)));
	return written;
}

/* Receive frames on P until none comes for 200 ms; each must carry the
 * next sequence number after *next (frames dropped by the switch leave
 * gaps, never reorderings). Returns how many. */
static unsigned drain(struct unm_port *p, long *next)
{
	uint8_t buf[2048];
	unsigned got = 0;
	long len;

	while ((len = t_recv(p, buf, sizeof(buf), 200)) > 0) {
		long s = t_frame_check(buf, (size_t)len);

		T_ASSERT(s >= 0);
		T_ASSERT(s >= *next);
		*next = s + 1;
		got++;
	}
	return got;
}

/* tx = delivered + every drop, on the vhost port (floods: + extra copies) */
static void check_sums(void)
{
	struct unm_ctl_port_info v = vinfo();
	uint64_t drops = 0;

	for (unsigned r = 0; r < UNM_DROP__COUNT; r++)
		drops += v.drops[r];
	T_ASSERT_EQ(v.tx_frames + v.tx_extra_copies, v.tx_delivered + drops);
}

int main(void)
{
	static uint8_t dsts[QN * 6];
	static uint32_t lens[QN];
	uint8_t unk1[6] = { 0x02, 0, 0, 0, 0, 0x71 }, unk2[6] = { 0x02, 0, 0, 0, 0, 0x72 };
	uint8_t mac5[6], buf[128];
	struct unm_ctl_port_info v0, v1, pr;
	struct fe f = { .sock = -1 };
	struct unm_port *r1, *r2;
	long n1 = 0, n2 = 0;
	unsigned got, slots;
	pid_t d;
	int rc;

	t_watchdog(60);
	d = t_unmd_start(NULL);
	snprintf(vname, sizeof(vname), "vhost-user:/tmp/%s.sock", t_uniq("vhdirect"));
	r1 = t_open("vale0:r1");
	T_ASSERT_EQ(t_ctl(UNM_CTL_ATTACH, "vale0", vname, 0), 0);
	f.port = r1; /* fe_pump's waits */
	rc = fe_setup(&f, vname + strlen("vhost-user:"), FE_F_V1 | FE_F_MRG | FE_F_EVIDX | FE_F_PROTO | FE_F_INORDER, QN);
	if (rc)
		T_FAIL("frontend setup step %d failed", rc);
	slots = unm_ring_get(r1, 0, 0)->num_slots;

	/* 1: a stream of one MAC pair to an unknown MAC: a flood to r1 alone */
	for (unsigned i = 0; i < QN; i++) {
		memcpy(dsts + 6 * i, unk1, 6);
		lens[i] = 60 + (i % 3) * 500; /* line copies and longer ones */
	}
	/* one pull took the batch: one used entry for it, not 200 */
	T_ASSERT(batch(&f, 200, dsts, lens) <= 4);
	T_ASSERT_EQ(drain(r1, &n1), 200);
	check_sums();

	/* 2: the MAC pair changes halfway: the general path, same result */
	for (unsigned i = 100; i < 200; i++)
		memcpy(dsts + 6 * i, unk2, 6);
	batch(&f, 200, dsts, lens);
	T_ASSERT_EQ(drain(r1, &n1), 200);
	check_sums();

	/* 3: a runt in the stream: dropped as bad_len, the rest delivered */
	v0 = vinfo();
	for (unsigned i = 0; i < QN; i++)
		memcpy(dsts + 6 * i, unk1, 6);
	lens[25] = 10;
	batch(&f, 50, dsts, lens);
	lens[25] = 60;
	T_ASSERT_EQ(drain(r1, &n1), 49);
	v1 = vinfo();
	T_ASSERT_EQ(v1.drops[UNM_DROP_BAD_LEN] - v0.drops[UNM_DROP_BAD_LEN], 1);
	check_sums();

	/* 4: r1 does not read: what does not fit is dst_full, counted once
	 * per frame, and r1 then holds exactly the frames delivered */
	v0 = vinfo();
	for (unsigned sent = 0; sent < slots + 300; sent += 200)
		batch(&f, 200, dsts, lens);
	v1 = vinfo();
	T_ASSERT(v1.drops[UNM_DROP_DST_FULL] > v0.drops[UNM_DROP_DST_FULL]);
	got = drain(r1, &n1);
	T_ASSERT_EQ(got, v1.tx_delivered - v0.tx_delivered);
	T_ASSERT_EQ(v1.tx_frames - v0.tx_frames, got + v1.drops[UNM_DROP_DST_FULL] -
						 v0.drops[UNM_DROP_DST_FULL]);
	T_ASSERT_EQ(t_port_info("vale0:r1", &pr), 0);
	T_ASSERT_EQ(pr.rx_dst_full, v1.drops[UNM_DROP_DST_FULL]);
	check_sums();

	/* 5: unicast to r1's MAC (learned from a frame r1 sends), r2 present */
	t_mac(mac5, 5);
	T_ASSERT_EQ(t_port_info("vale0:r1", &pr), 0);
	T_ASSERT_EQ(t_send(r1, buf, t_frame(buf, 60, unk1, 5, 0), 2000), 0);
	for (int i = 0; i < 5000; i++) { /* the switch took it: mac5 is learned on r1 */
		struct unm_ctl_port_info p2;

		T_ASSERT_EQ(t_port_info("vale0:r1", &p2), 0);
		if (p2.tx_frames > pr.tx_frames)
			break;
		usleep(1000);
	}
	r2 = t_open("vale0:r2");
	for (unsigned i = 0; i < QN; i++)
		memcpy(dsts + 6 * i, mac5, 6);
	batch(&f, 200, dsts, lens);
	T_ASSERT_EQ(drain(r1, &n1), 200);
	T_ASSERT_EQ(drain(r2, &n2), 0);
	check_sums();

	/* 6: a flood with two receivers: each gets every frame */
	for (unsigned i = 0; i < QN; i++)
		memcpy(dsts + 6 * i, unk2, 6);
	n2 = n1;
	batch(&f, 200, dsts, lens);
	T_ASSERT_EQ(drain(r1, &n1), 200);
	T_ASSERT_EQ(drain(r2, &n2), 200);
	check_sums();
	v1 = vinfo();
	printf("vhost port: tx %llu delivered %llu extra %llu dst_full %llu bad_len %llu\n",
	       (unsigned long long)v1.tx_frames, (unsigned long long)v1.tx_delivered,
	       (unsigned long long)v1.tx_extra_copies,
	       (unsigned long long)v1.drops[UNM_DROP_DST_FULL],
	       (unsigned long long)v1.drops[UNM_DROP_BAD_LEN]);

	close(f.sock);
	unm_close(r2);
	unm_close(r1);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("ok\n");
	return 0;
}
