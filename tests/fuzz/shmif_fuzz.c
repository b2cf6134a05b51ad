// SPDX-License-Identifier: BSD-2-Clause
/*
 * shmif_fuzz.c - libFuzzer target for the shmif bus reader and writer.
 *
 * The input is written over a zeroed 1 MiB bus image (header + the first
 * bytes of the data area; the rest stays zero, so corpus files stay
 * small); its data part is also copied to the very end of the data area
 * so that small inputs reach the ring-end cases (split headers and
 * payloads, wrapping generations). Then: attach (magic/header checks, lock), the receive path until
 * it reports nothing new (bounded), a few transmits (advancing shm_first
 * over whatever records the image holds), the receive path again, and a
 * reader placed at an input-chosen position and generation. Every
 * delivered frame must be 14..1514 bytes. The sanitizers catch any
 * access outside the image; the bounded loops catch hangs.
 *
 * A lock word of 1 in the input is cleared first (a held lock makes the
 * real code wait 2 s); other non-0/1 values exercise the lock repair.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "unm-internal.h"
#include "unm-shmif-bus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drain(struct shmif_bus *b, unsigned max)
{
	static uint8_t frame[SHMIF_MAX_FRAME];
	struct shmif_rec rec;

	for (unsigned i = 0; i < max; i++) {
		int r = unm_shmif_bus_rx_next(b, &rec);

		if (r == SHMIF_RX_SKIP)
			continue;
		if (r != SHMIF_RX_FRAME)
			return;
		if (rec.len < SHMIF_MIN_FRAME || rec.len > SHMIF_MAX_FRAME)
			abort();
		unm_shmif_bus_rx_copy(b, &rec, 0, frame, rec.len);
		unm_shmif_bus_rx_consume(b, &rec);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *img;
	static uint8_t payload[SHMIF_MAX_FRAME];
	struct shmif_bus b;
	char err[256];
	uint32_t spare = 0, lockw;

	if (!img && !(img = aligned_alloc(4096, SHMIF_BUS_SIZE)))
		return 0;
	memset(img, 0, SHMIF_BUS_SIZE);
	if (size > SHMIF_BUS_SIZE)
		size = SHMIF_BUS_SIZE;
	memcpy(img, data, size);
	if (size > SHMIF_HDR_SIZE && size <= SHMIF_HDR_SIZE + SHMIF_DATA_SIZE / 2)
		memcpy(img + SHMIF_BUS_SIZE - (size - SHMIF_HDR_SIZE), data + SHMIF_HDR_SIZE,
		       size - SHMIF_HDR_SIZE);
	memcpy(&lockw, img + SHMIF_OFF_LOCK, 4);
	if (lockw == 1)
		memset(img + SHMIF_OFF_LOCK, 0, 4);
	memcpy(&spare, img + 28, 4);

	if (unm_shmif_bus_attach_mem(&b, img, err, sizeof(err)) != 0) {
		/* refused; the reader must still survive the image */
		b.nextpkt = spare % SHMIF_DATA_SIZE;
		b.devgen = spare & 3;
	}
	drain(&b, 4096);
	(void)unm_shmif_bus_pending(&b);

	/* transmit a few frames whose sizes come from the input */
	memset(payload, 0x5a, sizeof(payload));
	for (unsigned i = 0; i < 3; i++) {
		uint32_t len = SHMIF_MIN_FRAME + (spare >> (i * 8) & 0xff) * 6;
		struct iovec iov = { payload, len };

		if (len > SHMIF_MAX_FRAME)
			len = SHMIF_MAX_FRAME;
		iov.iov_len = len;
		if (unm_shmif_bus_lock(&b) == 0) {
			(void)unm_shmif_bus_write(&b, &iov, 1, len, 1, 2);
			unm_shmif_bus_unlock(&b);
		}
	}
	drain(&b, 4096);

	/* a reader at an arbitrary position and generation */
	uint64_t gen;

	memcpy(&gen, img + SHMIF_OFF_GEN, 8);
	b.nextpkt = spare % SHMIF_DATA_SIZE;
	b.devgen = gen - (spare >> 30);
	drain(&b, 4096);
	return 0;
}
