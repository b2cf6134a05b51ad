// SPDX-License-Identifier: BSD-2-Clause
/*
 * memif_port.c - one memif: (or any) port driven as a plain application
 * does, for bench/memif_zc_callgrind.sh: wait until the link is up, then
 * send N frames of LEN bytes (each written into its slot's buffer, as a
 * sender must when buffers move: UNM_NS_BUF_CHANGED) or receive N frames,
 * and print the rate from link-up to the last frame, and the port's
 * counters. Nothing is sent before the link is up,
 * so every sync measured moves frames.
 *   usage: memif_port tx|rx PORT N LEN
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unm.h>
#include <unm/ring.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct unm_port_info info = { .sz = sizeof(info) };
	struct unm_port_stats st = { .sz = sizeof(st) };
	struct unm_port *port;
	unsigned long n, len, done = 0;
	unsigned char frame[9000];
	double end, t0;
	int tx;

	if (argc != 5 || (strcmp(argv[1], "tx") && strcmp(argv[1], "rx"))) {
		fprintf(stderr, "usage: memif_port tx|rx PORT N LEN\n");
		return 2;
	}
	tx = !strcmp(argv[1], "tx");
	n = strtoul(argv[3], NULL, 0);
	len = strtoul(argv[4], NULL, 0);
	if (len < 60 || len > sizeof(frame))
		len = 60;
	if (unm_open(argv[2], &port, NULL)) {
		fprintf(stderr, "memif_port: %s: %s\n", argv[2], unm_errmsg());
		return 1;
	}
	for (end = now() + 30; unm_port_info(port, &info) == 0 && !info.link_up; ) {
		if (now() > end) {
			fprintf(stderr, "memif_port: link never came up\n");
			return 1;
		}
		unm_wait(port, UNM_WAIT_RX, 10);
	}
	memset(frame, 0x5a, sizeof(frame));
	memset(frame, 0xff, 6);
	frame[12] = 0x88, frame[13] = 0xb5;
	t0 = now();
	end = t0 + 600;
	if (tx) {
		struct unm_ring *r = unm_ring_get(port, 1, 0);

		while (done < n && now() < end) {
			uint32_t i = r->head, space = unm_ring_space(r);

			for (; space && done < n; space--, done++, i = unm_ring_next(r, i)) {
				memcpy(unm_slot_buf(r, i), frame, len);
				r->slot[i].len = (uint16_t)len;
				r->slot[i].flags = 0;
			}
			unm_ring_advance(r, i);
			if (unm_wait(port, UNM_WAIT_TX, 100) < 0)
				break;
		}
		while (unm_tx_pending(r) && now() < end)
			unm_wait(port, UNM_WAIT_TX, 100);
	} else {
		struct unm_ring *r = unm_ring_get(port, 0, 0);

		while (done < n && now() < end) {
			uint32_t i = r->head;

			if (unm_wait(port, UNM_WAIT_RX, 100) < 0)
				break;
			for (; i != r->tail && done < n; i = unm_ring_next(r, i))
				done++;
			unm_ring_advance(r, i);
		}
	}
	t0 = now() - t0;
	unm_port_stats(port, &st);
	printf("%.3f Mpps (%.3f s) ", t0 > 0 ? done / t0 / 1e6 : 0, t0);
	printf("%s %lu frames of %lu bytes: tx %llu (zc %llu, copied %llu) rx %llu (zc %llu, "
	       "copied %llu) drops %llu\n", argv[1], done, len, (unsigned long long)st.tx_frames,
	       (unsigned long long)st.zc_tx_frames, (unsigned long long)st.copy_tx_frames,
	       (unsigned long long)st.rx_frames, (unsigned long long)st.zc_rx_frames,
	       (unsigned long long)st.copy_rx_frames, (unsigned long long)st.drops);
	unm_close(port);
	return done == n ? 0 : 1;
}
