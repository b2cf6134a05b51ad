// SPDX-License-Identifier: BSD-2-Clause
/*
 * csum_bench.c - throughput of lib/offload: the Internet checksum fast
 * path against the byte-at-a-time reference (GB/s, buffers hot in cache),
 * and software segmentation of a 64 KiB TCP/IPv4 GSO frame (frames/s,
 * segments/s, payload Gbit/s) into one flat buffer per segment.
 * Single-threaded; numbers are for ratios on the same machine.
 *
 *   csum_bench [-t SECONDS]    time per measurement (default 0.25)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "unm-offload.h"

static volatile uint32_t sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef uint32_t (*sum_fn)(const void *, size_t, uint32_t);

/* Bytes per second of fn over a buf of len bytes for about secs. */
static double rate(sum_fn fn, const uint8_t *buf, size_t len, double secs)
{
	double t0 = now(), t;
	uint64_t bytes = 0;
	uint32_t acc = 0;

	do {
		for (int i = 0; i < 64; i++)
			acc = fn(buf + (i & 1), len, acc);  /* odd alignment too */
		bytes += 64 * (uint64_t)len;
		t = now() - t0;
	} while (t < secs);
	sink = acc;
	return bytes / t;
}

/* A TCP/IPv4 GSO frame carrying plen payload bytes; returns its length. */
static size_t make_frame(uint8_t *f, size_t plen, uint8_t *vh)
{
	size_t ipl = 20 + 20 + plen;
	struct unm_vnet_hdr h = {
		.flags = UNM_VNET_F_NEEDS_CSUM, .gso_type = UNM_VNET_GSO_TCPV4,
		.hdr_len = 54, .gso_size = 1448, .csum_start = 34, .csum_offset = 16,
	};

	memset(f, 0, 54);
	memset(f, 0x02, 12);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = (uint8_t)(ipl >> 8);
	f[17] = (uint8_t)ipl;
	f[20] = 0x40;
	f[22] = 64;
	f[23] = 6;
	f[26] = 10; f[29] = 1;
	f[30] = 10; f[33] = 2;
	f[34 + 12] = 0x50;
	f[34 + 13] = 0x18;
	for (size_t i = 0; i < plen; i++)
		f[54 + i] = (uint8_t)(i * 7);
	unm_vnet_hdr_encode(vh, UNM_VNET_HDR_LEN, &h);
	return 54 + plen;
}

static int bench_gso(double secs)
{
	static uint8_t frame[65536], seg[2048];
	uint8_t vh[UNM_VNET_HDR_LEN];
	struct unm_frag in = { frame, 0 };
	struct unm_vnet_info vi;
	enum unm_vnet_drop why;
	uint64_t frames = 0, segs = 0, bytes = 0;
	double t0, t;
	int r;

	in.len = make_frame(frame, 65535 - 40, vh);
	if (unm_vnet_parse(vh, sizeof(vh), &in, 1, &vi, &why) != 0) {
		fprintf(stderr, "csum_bench: frame refused: %s\n", unm_vnet_drop_name(why));
		return 1;
	}
	t0 = now();
	do {
		for (int k = 0; k < 16; k++) {
			struct unm_gso g;

			unm_gso_init(&g, &vi, &in, 1);
			while ((r = unm_gso_next(&g, seg, sizeof(seg))) > 0) {
				segs++;
				bytes += (uint64_t)r - vi.payload_off;
			}
			if (r < 0) {
				fprintf(stderr, "csum_bench: unm_gso_next: %d\n", r);
				return 1;
			}
			frames++;
		}
		t = now() - t0;
	} while (t < secs);
	sink = seg[40];
	printf("gso  frame=%zu mss=%u segs/frame=%u frames/s=%.0f segs/s=%.2fM payload_gbps=%.2f\n",
	       in.len, vi.hdr.gso_size, vi.nsegs, frames / t, segs / t / 1e6,
	       bytes * 8 / t / 1e9);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "time", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const size_t sizes[] = { 64, 1500, 65536 };
	static uint8_t buf[65536 + 8];
	double secs = 0.25;
	int c;

	while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			secs = atof(optarg);
			break;
		case 'h':
			printf("usage: csum_bench [-t|--time SECONDS]\n"
			       "  checksum GB/s (fast path vs byte loop) and GSO rate of a\n"
			       "  64 KiB TCP frame; SECONDS per measurement (default 0.25)\n");
			return 0;
		default:
			fprintf(stderr, "try --help\n");
			return 2;
		}
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		double fast = rate(unm_csum_partial, buf, sizes[i], secs);
		double slow = rate(unm_csum_partial_naive, buf, sizes[i], secs);

		printf("csum len=%zu fast_gbs=%.2f naive_gbs=%.2f ratio=%.1f\n",
		       sizes[i], fast / 1e9, slow / 1e9, fast / slow);
	}
	return bench_gso(secs);
}
