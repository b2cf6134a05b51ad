// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: the vhost-user port against a minimal in-process frontend
 * (tests/lib/vhost-fe.inc): handshake with REPLY_ACK, guest TX frames
 * (header in its own descriptor or not) arrive in the port's RX ring
 * without the header and are returned in the used ring; port TX frames
 * land in guest RX buffers with a 12-byte header, a 3000-byte frame spread
 * over three mergeable buffers (num_buffers = 3); with no guest buffers
 * the frame waits and goes once buffers are posted (through a kick and the
 * port's wakeup); @conf:vnet=12 passes the header through; after the
 * frontend disconnects the port drops TX, and a new frontend works.
 */
#include <stdio.h>
#include "../lib/test.h"
#include "../lib/vhost-fe.inc"

static char path[128];

static void check_rx(struct fe *f, const uint8_t *frame, uint32_t len, unsigned vnet)
{
	struct unm_ring *r = unm_ring_get(f->port, 0, 0);

	for (int i = 0; i < 100 && unm_ring_empty(r); i++)
		fe_pump(f);
	T_ASSERT(!unm_ring_empty(r));
	struct unm_slot *s = &r->slot[r->head];
	T_ASSERT_EQ(s->len, len + vnet);
	T_ASSERT_EQ(s->flags & UNM_NS_MOREFRAG, 0);
	T_ASSERT(memcmp(unm_buf(r, s->buf_idx) + vnet, frame, len) == 0);
	unm_ring_advance(r, unm_ring_next(r, r->head));
	unm_rxsync(f->port, 0);
}

static void basic(struct fe *f)
{
	struct unm_port_info info = { .sz = sizeof(info) };
	struct unm_port_stats st = { .sz = sizeof(st) };
	uint8_t frame[3000], hdr[12];
	uint32_t *e;

	for (unsigned i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7 + 1);
	T_ASSERT_EQ(fe_setup(f, path, FE_F_V1 | FE_F_MRG | FE_F_EVIDX | FE_F_PROTO, 256), 0);
	T_ASSERT_EQ(unm_port_info(f->port, &info), 0);
	T_ASSERT_EQ(info.link_up, 1);
	T_ASSERT(!strcmp(info.type, "vhost-user"));

	/* guest TX: one descriptor, then header split from the frame */
	fe_tx(f, 0, FE_BUFS, frame, 60, 0);
	check_rx(f, frame, 60, 0);
	fe_tx(f, 4, FE_BUFS + 4096, frame + 1, 1400, 1);
	check_rx(f, frame + 1, 1400, 0);
	T_ASSERT_EQ(fe_used_idx(f, 1), 2);
	e = fe_used_elem(&f->vq[1], 1);
	T_ASSERT_EQ(e[0], 4);

	/* guest RX: 60 bytes in one buffer, 3000 over three 1024-byte ones */
	for (uint16_t d = 0; d < 4; d++)
		fe_rx_post(f, d, FE_BUFS + 65536 + d * 1024, 1024);
	T_ASSERT_EQ(unm_inject(f->port, frame, 60), 60);
	T_ASSERT_EQ(unm_inject(f->port, frame, 3000), 3000);
	T_ASSERT_EQ(unm_txsync(f->port, 0), 0);
	T_ASSERT_EQ(fe_used_idx(f, 0), 4);
	e = fe_used_elem(&f->vq[0], 0);
	T_ASSERT_EQ(e[0], 0);
	T_ASSERT_EQ(e[1], 72);
	memcpy(hdr, f->mem + FE_BUFS + 65536, 12);
	T_ASSERT_EQ(hdr[10], 1);
	T_ASSERT(memcmp(f->mem + FE_BUFS + 65536 + 12, frame, 60) == 0);
	T_ASSERT_EQ(fe_used_elem(&f->vq[0], 1)[1], 1024);
	T_ASSERT_EQ(fe_used_elem(&f->vq[0], 2)[1], 1024);
	T_ASSERT_EQ(fe_used_elem(&f->vq[0], 3)[1], 3012 - 2048);
	T_ASSERT_EQ(f->mem[FE_BUFS + 65536 + 1024 + 10], 3);
	T_ASSERT(memcmp(f->mem + FE_BUFS + 65536 + 1024 + 12, frame, 1012) == 0);
	T_ASSERT(memcmp(f->mem + FE_BUFS + 65536 + 2048, frame + 1012, 1024) == 0);
	T_ASSERT(memcmp(f->mem + FE_BUFS + 65536 + 3072, frame + 2036, 964) == 0);

	/* no buffers: the frame waits in the ring, then goes through wakeup */
	T_ASSERT_EQ(unm_inject(f->port, frame, 100), 100);
	T_ASSERT_EQ(unm_txsync(f->port, 0), 0);
	T_ASSERT_EQ(fe_used_idx(f, 0), 4);
	/* after the idle delay (100 us) kicks are requested: avail_event ==
	 * our last_avail (event idx) */
	for (int i = 0; i < 5; i++)
		unm_wait(f->port, UNM_WAIT_RX, 1);
	T_ASSERT_EQ(*(uint16_t *)((uint8_t *)(f->vq[0].used + 2) + 8 * 256), 4);
	fe_rx_post(f, 4, FE_BUFS + 65536 + 8192, 2048);
	for (int i = 0; i < 100 && fe_used_idx(f, 0) == 4; i++)
		unm_wait(f->port, UNM_WAIT_RX, 1);
	T_ASSERT_EQ(fe_used_idx(f, 0), 5);
	T_ASSERT_EQ(fe_used_elem(&f->vq[0], 4)[1], 112);
	uint64_t calls = 0;
	T_ASSERT(read(f->vq[0].call, &calls, 8) == 8 && calls >= 1);

	T_ASSERT_EQ(unm_port_stats(f->port, &st), 0);
	T_ASSERT_EQ(st.rx_frames, 2);
	T_ASSERT_EQ(st.tx_frames, 3);
	T_ASSERT_EQ(st.drops, 0);
	T_ASSERT_EQ(st.bad_ring + st.bad_buf + st.bad_len, 0);

	/* disconnect: link down, TX dropped and counted */
	fe_disconnect(f);
	T_ASSERT_EQ(unm_port_info(f->port, &info), 0);
	T_ASSERT_EQ(info.link_up, 0);
	T_ASSERT_EQ(unm_inject(f->port, frame, 60), 60);
	T_ASSERT_EQ(unm_txsync(f->port, 0), 0);
	T_ASSERT_EQ(unm_port_stats(f->port, &st), 0);
	T_ASSERT_EQ(st.drops, 1);

	/* a new frontend (no event idx, no mergeable buffers) */
	T_ASSERT_EQ(fe_setup(f, path, FE_F_V1 | FE_F_PROTO, 64), 0);
	fe_tx(f, 0, FE_BUFS, frame, 200, 0);
	check_rx(f, frame, 200, 0);
	fe_rx_post(f, 0, FE_BUFS + 65536, 2048);
	T_ASSERT_EQ(unm_inject(f->port, frame, 1500), 1500);
	T_ASSERT_EQ(unm_txsync(f->port, 0), 0);
	T_ASSERT_EQ(fe_used_idx(f, 0), 1);
	T_ASSERT_EQ(fe_used_elem(&f->vq[0], 0)[1], 1512);
	/* non-mergeable: a chain too small for the frame drops it */
	fe_rx_post(f, 1, FE_BUFS + 65536 + 4096, 100);
	T_ASSERT_EQ(unm_inject(f->port, frame, 1500), 1500);
	T_ASSERT_EQ(unm_txsync(f->port, 0), 0);
	T_ASSERT_EQ(fe_used_idx(f, 0), 1);
	T_ASSERT_EQ(unm_port_stats(f->port, &st), 0);
	T_ASSERT_EQ(st.drops, 2);
	fe_disconnect(f);
}

static void vnet(struct fe *f)
{
	uint8_t frame[200], gh[12] = { 1, 1, 54, 0, 0x40, 0x05, 34, 0, 16, 0, 0, 0 };
	struct unm_ring *r;

	memset(frame, 0x5a, sizeof(frame));
	T_ASSERT_EQ(fe_setup(f, path, FE_F_V1 | FE_F_MRG | FE_F_EVIDX | FE_F_PROTO | (1ull << 1) |
			     (1ull << 7), 256), 0);
	/* guest TX with a checksum/TSO header: passed through as 12 bytes */
	memcpy(f->mem + FE_BUFS, gh, 12);
	memcpy(f->mem + FE_BUFS + 12, frame, 200);
	f->vq[1].desc[0] = (struct fe_desc){ fe_gpa(FE_BUFS), 212, 0, 0 };
	fe_publish(f, 1, 0);
	r = unm_ring_get(f->port, 0, 0);
	for (int i = 0; i < 100 && unm_ring_empty(r); i++)
		fe_pump(f);
	T_ASSERT(!unm_ring_empty(r));
	T_ASSERT_EQ(r->slot[r->head].len, 212);
	T_ASSERT(memcmp(unm_buf(r, r->slot[r->head].buf_idx), gh, 10) == 0);
	unm_ring_advance(r, unm_ring_next(r, r->head));
	/* port TX with its own header reaches the guest unchanged */
	uint8_t out[212];
	memcpy(out, gh, 12);
	memcpy(out + 12, frame, 200);
	fe_rx_post(f, 0, FE_BUFS + 65536, 2048);
	T_ASSERT_EQ(unm_inject(f->port, out, 212), 212);
	T_ASSERT_EQ(unm_txsync(f->port, 0), 0);
	T_ASSERT_EQ(fe_used_idx(f, 0), 1);
	T_ASSERT(memcmp(f->mem + FE_BUFS + 65536, gh, 10) == 0);
	T_ASSERT_EQ(f->mem[FE_BUFS + 65536 + 10], 1);
	/* a TSO6 frame: the guest did not negotiate GUEST_TSO6 -> dropped */
	out[1] = 4;
	fe_rx_post(f, 1, FE_BUFS + 65536 + 4096, 2048);
	T_ASSERT_EQ(unm_inject(f->port, out, 212), 212);
	T_ASSERT_EQ(unm_txsync(f->port, 0), 0);
	T_ASSERT_EQ(fe_used_idx(f, 0), 1);
	fe_disconnect(f);
}

int main(void)
{
	struct fe f = { .sock = -1 };
	char name[200];

	t_watchdog(30);
	snprintf(path, sizeof(path), "/tmp/unm-vhost-fe-%d.sock", (int)getpid());
	snprintf(name, sizeof(name), "vhost-user:%s", path);
	T_ASSERT_EQ(unm_open(name, &f.port, NULL), 0);
	basic(&f);
	unm_close(f.port);
	T_ASSERT(access(path, F_OK) != 0);

	snprintf(name, sizeof(name), "vhost-user:%s@conf:vnet=12", path);
	T_ASSERT_EQ(unm_open(name, &f.port, NULL), 0);
	vnet(&f);
	unm_close(f.port);
	printf("ok\n");
	return 0;
}
