// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: libunm's own counters on switch ports (CSB clients):
 * unm_port_stats counts, on the sender, every frame and byte a txsync
 * hands over and, on the receiver, every frame and byte an rxsync makes
 * visible, exactly, with MOREFRAG chains (a chain is one frame) and with
 * the syncs' slot ranges wrapping round small rings many times. The
 * counting loop runs on every sync (lib/csb.c count_slots).
 */
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"

#define FRAMES 600

int main(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct unm_port_stats sa = { .sz = sizeof(sa) }, sb = { .sz = sizeof(sb) };
	uint8_t f[800], r[2048];
	uint64_t bytes = 0;
	unsigned got = 0, sent = 0;
	struct unm_port *a, *b;
	pid_t d;

	t_watchdog(60);
	d = t_unmd_start(NULL);
	a = t_open("vale0:a@conf:slots=64,bufsize=256");
	b = t_open("vale0:b@conf:slots=64,bufsize=256");
	T_ASSERT_EQ(t_ctl(UNM_CTL_SWITCH_SET, "vale0", "lossless", 1), 0);
	while (sent < FRAMES) {
		/* bursts of 1..9 frames of 60..759 bytes (1..3 slots), one sync */
		unsigned burst = 1 + sent % 9;

		for (unsigned k = 0; k < burst && sent < FRAMES; k++, sent++) {
			size_t len = 60 + (sent * 97) % 700;
			int rc;

			t_frame(f, len, bcast, 1, sent);
			while ((rc = unm_inject(a, f, len)) == 0) {
				T_ASSERT_EQ(unm_txsync(a, UNM_RING_ALL), 0);
				T_ASSERT(unm_wait(a, UNM_WAIT_TX, 1000) >= 0);
			}
			T_ASSERT_EQ(rc, (int)len);
			bytes += len;
		}
		T_ASSERT_EQ(unm_txsync(a, UNM_RING_ALL), 0);
		while (got < sent) {
			long n = t_recv(b, r, sizeof(r), 5000);

			T_ASSERT(n > 0);
			T_ASSERT_EQ(t_frame_check(r, (size_t)n), got);
			got++;
		}
	}
	T_ASSERT_EQ(unm_port_stats(a, &sa), 0);
	T_ASSERT_EQ(unm_port_stats(b, &sb), 0);
	T_ASSERT_EQ(sa.tx_frames, FRAMES);
	T_ASSERT_EQ(sa.tx_bytes, bytes);
	T_ASSERT_EQ(sb.rx_frames, FRAMES);
	T_ASSERT_EQ(sb.rx_bytes, bytes);
	unm_close(a);
	unm_close(b);
	t_unmd_stop(d);
	printf("ok\n");
	return 0;
}
