/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nm-common.h - frames and checks shared by the netmap-API test programs of
 * tests/compat (built only with the unm-netmap pkg-config line).
 * Frame i: broadcast destination, source 02:00:00:00:00:ID, EtherType
 * 0x88b5, a 32-bit sequence number, then bytes derived from (i, ID);
 * length 60 + (i * 37) % 1455 (60..1514).
 */
#ifndef NM_COMMON_H
#define NM_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...) do { fprintf(stderr, "FAIL: " __VA_ARGS__); fprintf(stderr, "\n"); exit(1); } while (0)
#define CHECK(c, ...) do { if (!(c)) FAIL(__VA_ARGS__); } while (0)

static inline unsigned frame_len(uint32_t i)
{
	return 60 + (i * 37) % 1455;
}

static inline unsigned frame_make(uint8_t *b, uint32_t i, uint8_t id)
{
	unsigned len = frame_len(i);

	memset(b, 0xff, 6);
	memcpy(b + 6, "\x02\x00\x00\x00\x00", 5);
	b[11] = id;
	b[12] = 0x88;
	b[13] = 0xb5;
	memcpy(b + 14, &i, 4);
	for (unsigned k = 18; k < len; k++)
		b[k] = (uint8_t)(i * 7 + k + id);
	return len;
}

/* 0 if B (LEN bytes) is frame I from ID, else prints why and returns -1. */
static inline int frame_check(const uint8_t *b, unsigned len, uint32_t i, uint8_t id)
{
	uint8_t want[1514];
	unsigned wl = frame_make(want, i, id);

	if (len != wl) {
		uint32_t got = 0;
		if (len >= 18)
			memcpy(&got, b + 14, 4);
		fprintf(stderr, "frame %u from %u: length %u, want %u (seq in frame %u)\n",
			i, id, len, wl, got);
		return -1;
	}
	if (memcmp(b, want, wl)) {
		fprintf(stderr, "frame %u from %u: content differs\n", i, id);
		return -1;
	}
	return 0;
}

#endif
