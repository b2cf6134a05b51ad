// SPDX-License-Identifier: BSD-2-Clause
/*
 * region_fuzz.c - fuzz target for unm_region_validate(), the check every
 * process runs before touching a region another process built.
 *
 * Input: the first bytes of a region image (header, descriptors, rings).
 * The image is grown with zeros to the size its header claims (when that
 * is between 256 bytes and IMG_MAX) so truncated real regions stay valid,
 * and is allocated at exactly that size, page aligned like an mmap, so
 * ASan reports any access past its end.
 *
 * On success the target walks the region the way the library and an
 * application do - every port descriptor, every ring through
 * unm_txring()/unm_rxring(), every slot, the buffer of every slot whose
 * index passes the library's unm_buf_ok() rule (via unm_buf()), the CSB
 * entries and the extra-buffer chain through unm_buf_pop() - and touches
 * the memory: if validation let anything out of range through, ASan stops
 * here. Single-threaded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "unm-internal.h"

#define IMG_MAX (1u << 20)

static volatile uint8_t sink;

static void touch(const void *p, size_t n)
{
	const volatile uint8_t *b = p;

	if (n)
		sink ^= b[0] ^ b[n - 1];
}

static void walk(char *base, size_t size)
{
	const struct unm_region_hdr *h = (const void *)base;
	/* the trusted copies unm_region_map() would take */
	struct unm_region reg = {
		.base = base, .size = size, .fd = -1, .n_ifs = h->n_ifs,
		.if_ofs = { h->if_ofs[0], h->if_ofs[1] }, .csb_ofs = h->csb_ofs,
		.pool_ofs = h->buf_pool_ofs, .csb_entries = h->csb_entries,
		.buf_count = h->buf_count, .buf_size = h->buf_size,
	};

	if (h->csb_entries)
		touch(base + h->csb_ofs, (size_t)h->csb_entries * 64);
	for (unsigned i = 0; i < h->n_ifs; i++) {
		struct unm_if *nifp = (struct unm_if *)(base + h->if_ofs[i]);
		unsigned ntx = nifp->ni_tx_rings, nrx = nifp->ni_rx_rings;
		uint32_t head = nifp->ni_bufs_head;

		touch(nifp->ni_name, sizeof(nifp->ni_name));
		for (unsigned r = 0; r < ntx + nrx; r++) {
			struct unm_ring *ring = r < ntx ? unm_txring(nifp, r) :
							  unm_rxring(nifp, r - ntx);

			touch(ring, sizeof(*ring));
			for (uint32_t s = 0; s < ring->num_slots; s++) {
				uint32_t idx = ring->slot[s].buf_idx;

				touch(&ring->slot[s], sizeof(ring->slot[s]));
				if (idx >= 2 && idx < h->buf_count)
					touch(unm_buf(ring, idx), ring->nr_buf_size);
			}
		}
		/* the extra-buffer chain; bounded, a hostile chain may loop */
		for (uint32_t n = 0; n < h->buf_count; n++) {
			uint32_t idx = unm_buf_pop(&reg, &head);

			if (!idx)
				break;
			touch(base + h->buf_pool_ofs + (uint64_t)idx * h->buf_size, h->buf_size);
		}
	}
	/* the last buffer of the pool */
	touch(base + h->buf_pool_ofs + (uint64_t)(h->buf_count - 1) * h->buf_size, h->buf_size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t want = 0;
	size_t img;
	char err[256];
	void *base;

	if (size >= 16)
		memcpy(&want, data + 8, sizeof(want)); /* unm_region_hdr.size */
	if (want >= sizeof(struct unm_region_hdr) && want <= IMG_MAX)
		img = (size_t)want;
	else
		img = size < IMG_MAX ? size : IMG_MAX;
	if (img == 0)
		img = 1;
	if (posix_memalign(&base, 4096, img))
		return 0;
	memset(base, 0, img);
	memcpy(base, data, size < img ? size : img);
	if (unm_region_validate(base, img, err, sizeof(err)) == 0)
		walk(base, img);
	else if (!err[0] || !memchr(err, '\0', sizeof(err)))
		abort(); /* every refusal carries a message */
	free(base);
	return 0;
}
