// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: jumbo frames through VALE as MOREFRAG chains: 9000- and
 * 65535-byte frames from a 2048-byte-buffer port to a 4096-byte-buffer
 * port and to a 1024-byte-buffer port (the switch re-fragments to each
 * destination's buffer size), content checked byte for byte; a chain
 * longer than UNM_MAX_FRAGS slots is dropped as too_long, and the stream
 * continues after it.
 */
#include <errno.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"

static uint8_t f[70000], r[70000];

int main(void)
{
	struct unm_port *a, *b, *c;
	struct unm_ctl_port_info pi;
	uint8_t mb[6], mc[6];
	static const size_t sizes[] = { 9000, 65535, 1514, 4096, 4097, 60 };
	pid_t d;

	t_watchdog(20);
	d = t_unmd_start(NULL);
	a = t_open("vale0:a@conf:bufsize=2048");
	b = t_open("vale0:b@conf:bufsize=4096");
	c = t_open("vale0:c@conf:bufsize=1024,slots=256");
	t_mac(mb, 2);
	t_mac(mc, 3);
	/* make b and c known */
	T_ASSERT_EQ(t_send(b, f, t_frame(f, 60, (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 2, 0), 1000), 0);
	T_ASSERT_EQ(t_send(c, f, t_frame(f, 60, (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 3, 0), 1000), 0);
	T_ASSERT_EQ(t_recv(a, r, sizeof(r), 2000), 60);
	T_ASSERT_EQ(t_recv(a, r, sizeof(r), 2000), 60);
	T_ASSERT_EQ(t_recv(b, r, sizeof(r), 2000), 60);
	T_ASSERT_EQ(t_recv(c, r, sizeof(r), 2000), 60);
	for (unsigned k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t len = t_frame(f, sizes[k], mb, 1, 1000 + k);

		T_ASSERT_EQ(t_send(a, f, len, 2000), 0);
		T_ASSERT_EQ(t_recv(b, r, sizeof(r), 2000), (long)len);
		T_ASSERT_EQ(t_frame_check(r, len), 1000 + k);
		len = t_frame(f, sizes[k], mc, 1, 2000 + k);
		T_ASSERT_EQ(t_send(a, f, len, 2000), 0);
		T_ASSERT_EQ(t_recv(c, r, sizeof(r), 2000), (long)len);
		T_ASSERT_EQ(t_frame_check(r, len), 2000 + k);
	}
	/* 65 chained slots of 1000 bytes: over UNM_MAX_FRAGS, dropped */
	{
		struct unm_ring *tx = unm_ring_get(a, 1, 0);
		uint32_t i = tx->head;

		t_frame(f, 2048, mb, 1, 1);
		for (int s = 0; s < UNM_MAX_FRAGS + 1; s++) {
			memcpy(unm_buf(tx, tx->slot[i].buf_idx), f, 1000);
			tx->slot[i].len = 1000;
			tx->slot[i].flags = s < UNM_MAX_FRAGS ? UNM_NS_MOREFRAG : 0;
			i = unm_ring_next(tx, i);
		}
		unm_ring_advance(tx, i);
		T_ASSERT_EQ(unm_txsync(a, 0), 0);
	}
	size_t len = t_frame(f, 3000, mb, 1, 77);
	T_ASSERT_EQ(t_send(a, f, len, 2000), 0);
	T_ASSERT_EQ(t_recv(b, r, sizeof(r), 2000), 3000);
	T_ASSERT_EQ(t_frame_check(r, 3000), 77);
	T_ASSERT_EQ(t_port_info("vale0:a", &pi), 0);
	T_ASSERT_EQ(pi.drops[UNM_DROP_TOO_LONG], 1);
	T_ASSERT_EQ(pi.tx_frames, 2 * 6 + 2);
	T_ASSERT_EQ(pi.tx_delivered, 2 * 6 + 1);
	unm_close(a);
	unm_close(b);
	unm_close(c);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("ok\n");
	return 0;
}
