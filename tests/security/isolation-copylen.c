// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: the switch copies only a frame's len bytes. The sender
 * fills each whole TX buffer with 0xAB (what an earlier, longer frame, or
 * a frame the sender received into that buffer, would leave there), then
 * sends short frames of 14..64 bytes from those buffers; the receiver
 * zeroed all its RX buffers first. Every received buffer must hold only
 * zeros past the frame's length. Fails on commit 71d5c11: frames up to
 * 64 bytes were copied as a whole 64-byte line, so the bytes after a
 * short frame reached the receiver.
 */
#include <unm.h>
#include "limits-common.h"

#define NF 51 /* lengths 14..64 */

int main(void)
{
	struct unm_port *s, *r;
	struct unm_ring *tx, *rx;
	uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, mac[6];
	unsigned got = 0, bad = 0;
	uint32_t h;
	pid_t d;

	t_watchdog(30);
	d = t_unmd_start(NULL);
	r = t_open("vale0:r");
	s = t_open("vale0:s");
	rx = unm_ring_get(r, 0, 0);
	tx = unm_ring_get(s, 1, 0);
	T_ASSERT(rx && tx && rx->nr_buf_size >= 128 && tx->num_slots > NF);
	for (uint32_t i = 0; i < rx->num_slots; i++)
		memset(unm_slot_buf(rx, i), 0, rx->nr_buf_size);
	t_mac(mac, 7);
	h = tx->head;
	for (unsigned k = 0; k < NF; k++) {
		char *b = unm_slot_buf(tx, h);
		unsigned len = 14 + k;

		memset(b, 0xab, tx->nr_buf_size);
		memcpy(b, bcast, 6);
		memcpy(b + 6, mac, 6);
		b[12] = (char)0x88;
		b[13] = (char)0xb5;
		memset(b + 14, 0x11, len - 14);
		tx->slot[h].len = (uint16_t)len;
		tx->slot[h].flags = 0;
		h = unm_ring_next(tx, h);
	}
	unm_ring_advance(tx, h);
	T_ASSERT_EQ(unm_txsync(s, 0), 0);
	for (double end = t_now() + 5; got < NF && t_now() < end;) {
		unm_wait(r, UNM_WAIT_RX, 100);
		T_ASSERT_EQ(unm_rxsync(r, 0), 0);
		while (!unm_ring_empty(rx)) {
			uint32_t i = rx->head;
			const uint8_t *b = (const uint8_t *)unm_slot_buf(rx, i);
			unsigned len = rx->slot[i].len;

			for (unsigned k = len; k < 128; k++)
				if (b[k]) {
					if (!bad)
						printf("frame of %u bytes: byte %u is 0x%02x, not 0\n",
						       len, k, b[k]);
					bad++;
					break;
				}
			got++;
			unm_ring_advance(rx, unm_ring_next(rx, i));
		}
	}
	printf("%u frames received, %u with bytes past their length\n", got, bad);
	T_ASSERT_EQ(got, NF);
	T_ASSERT_EQ(bad, 0);
	unm_close(s);
	unm_close(r);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("PASS\n");
	return 0;
}
