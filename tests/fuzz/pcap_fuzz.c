// SPDX-License-Identifier: BSD-2-Clause
/*
 * pcap_fuzz.c - fuzz target for unm-pktgen's capture reader (pcap.c, the
 * -P input: an untrusted file). The input is parsed as a whole file with
 * a frame limit of 1..9000 bytes taken from its first byte. On success
 * every record must lie inside the input, be 1..limit bytes long, and
 * have a non-decreasing offset in time; the period must cover the last
 * offset. On failure the message must be a terminated, non-empty string.
 * Single-threaded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../tools/unm-pktgen/pcap.c"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned maxlen = size ? 1 + (unsigned)data[0] * 35 : 9000;
	uint8_t *copy = malloc(size ? size : 1);
	struct pg_pcap pc;
	char err[160];

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	err[0] = '\0';
	if (pg_pcap_parse(&pc, copy, size, maxlen, err, sizeof(err))) {
		CHECK(err[0] && memchr(err, '\0', sizeof(err)));
		CHECK(pc.data == NULL && pc.rec == NULL);
		return 0;
	}
	CHECK(pc.n > 0);
	for (size_t i = 0; i < pc.n; i++) {
		const struct pg_rec *r = &pc.rec[i];

		CHECK(r->len >= 1 && r->len <= maxlen);
		CHECK(r->off <= size && r->len <= size - r->off);
		CHECK(i == 0 || r->rel_ns >= pc.rec[i - 1].rel_ns);
	}
	CHECK(pc.rec[0].rel_ns == 0 && pc.period_ns >= pc.rec[pc.n - 1].rel_ns);
	CHECK(pc.period_ns <= 2000000000000000000ull);
	pg_pcap_free(&pc);
	return 0;
}
