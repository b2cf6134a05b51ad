// SPDX-License-Identifier: BSD-2-Clause
/*
 * pcap.c - the built-in capture reader behind -P: classic pcap (microsecond
 * and nanosecond stamps, either byte order) and pcapng (enhanced, simple
 * and obsolete packet blocks; if_tsresol per interface, several sections).
 * Built in rather than libpcap so -P works in every build and the replay
 * has the file's exact bytes and stamps with no copy: the whole file is
 * read into memory and each record points into it.
 *
 * The file is untrusted input: every length is checked against what is
 * left of the block and of the file before use; a malformed file is an
 * error, a record larger than the caller's limit or empty is skipped and
 * counted. Main thread only (load before the workers start, free after).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pktgen.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define NG_SHB        0x0a0d0d0au
#define NG_IDB        1u
#define NG_OPB        2u
#define NG_SPB        3u
#define NG_EPB        6u
#define NG_BOM        0x1a2b3c4du
#define NG_MAX_IF     256

struct rd {
	const uint8_t *p;
	size_t len;
	bool swap;
};

static uint32_t rd32(const struct rd *r, size_t off)
{
	uint32_t v;

	memcpy(&v, r->p + off, 4);
	return r->swap ? __builtin_bswap32(v) : v;
}

static uint16_t rd16(const struct rd *r, size_t off)
{
	uint16_t v;

	memcpy(&v, r->p + off, 2);
	return r->swap ? __builtin_bswap16(v) : v;
}

static int add_rec(struct pg_pcap *pc, size_t *cap, uint64_t ts_ns, size_t off, uint32_t len,
		   unsigned maxlen)
{
	if (len == 0 || len > maxlen) {
		pc->skipped++;
		return 0;
	}
	if (pc->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 1024;
		struct pg_rec *r = realloc(pc->rec, ncap * sizeof(*r));

		if (!r)
			return -1;
		pc->rec = r;
		*cap = ncap;
	}
	/* rel_ns holds the absolute stamp until finish() */
	pc->rec[pc->n++] = (struct pg_rec){ .rel_ns = ts_ns, .off = off, .len = len };
	return 0;
}

static int load_pcap(struct pg_pcap *pc, struct rd *r, unsigned maxlen, char *err, size_t errlen)
{
	size_t off = 24, cap = 0;

	if (r->len < 24) {
		snprintf(err, errlen, "truncated pcap header");
		return -1;
	}
	pc->linktype = rd32(r, 20) & 0x0fffffff; /* upper bits: FCS info */
	while (off < r->len) {
		uint64_t sec, frac, ts;
		uint32_t incl;

		if (r->len - off < 16) {
			snprintf(err, errlen, "truncated record header at byte %zu", off);
			return -1;
		}
		sec = rd32(r, off);
		frac = rd32(r, off + 4);
		incl = rd32(r, off + 8);
		if (incl > r->len - off - 16) {
			snprintf(err, errlen, "record at byte %zu: %u bytes past the end of the file",
				 off, incl);
			return -1;
		}
		ts = sec * 1000000000ull + (pc->nsec ? frac : frac * 1000ull);
		if (add_rec(pc, &cap, ts, off + 16, incl, maxlen)) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		off += 16 + (size_t)incl;
	}
	return 0;
}

/* pcapng: stamps in units of 10^-v or 2^-v seconds (if_tsresol). */
static uint64_t ng_ns(uint64_t ts, uint8_t resol)
{
	unsigned v = resol & 0x7f;

	if (resol & 0x80)
		return (uint64_t)((unsigned __int128)ts * 1000000000u >> (v > 63 ? 63 : v));
	if (v <= 9) {
		uint64_t m = 1;

		for (unsigned i = v; i < 9; i++)
			m *= 10;
		return ts * m;
	}
	for (unsigned i = 9; i < v && i < 30; i++)
		ts /= 10;
	return ts;
}

/* IDB options: find if_tsresol (code 9, one byte). */
static uint8_t ng_tsresol(const struct rd *r, size_t off, size_t end)
{
	while (end - off >= 4) {
		uint16_t code = rd16(r, off), len = rd16(r, off + 2);
		size_t padded = ((size_t)len + 3) & ~(size_t)3;

		if (code == 0 || padded > end - off - 4)
			break;
		if (code == 9 && len >= 1)
			return r->p[off + 4];
		off += 4 + padded;
	}
	return 6;
}

struct ng_if {
	unsigned n;
	uint8_t resol[NG_MAX_IF];
	uint32_t snap[NG_MAX_IF];
};

/* One packet block (EPB, OPB, SPB) of BLEN bytes at OFF. */
static int ng_packet(struct pg_pcap *pc, const struct rd *r, size_t off, size_t blen, uint32_t type,
		     struct ng_if *ifs, uint64_t *last_ts, size_t *cap, unsigned maxlen)
{
	size_t body = off + 8, end = off + blen - 4, hdr = type == NG_SPB ? 4 : 20;
	uint32_t ifid = 0, caplen;
	uint64_t ts = *last_ts;

	if (end - body < hdr)
		return -1;
	if (type == NG_SPB) {
		caplen = rd32(r, body);   /* original length, cut to what is there */
		if (ifs->n && ifs->snap[0] && caplen > ifs->snap[0])
			caplen = ifs->snap[0];
		if (caplen > end - body - 4)
			caplen = (uint32_t)(end - body - 4);
	} else {
		ifid = type == NG_EPB ? rd32(r, body) : rd16(r, body);
		if (ifid >= ifs->n)
			return -1;
		ts = ng_ns((uint64_t)rd32(r, body + 4) << 32 | rd32(r, body + 8), ifs->resol[ifid]);
		caplen = rd32(r, body + 12);
		if (caplen > end - body - 20)
			return -1;
	}
	*last_ts = ts;
	return add_rec(pc, cap, ts, body + hdr, caplen, maxlen) ? -2 : 0;
}

static int load_pcapng(struct pg_pcap *pc, struct rd *r, unsigned maxlen, char *err, size_t errlen)
{
	struct ng_if ifs = { 0 };
	size_t off = 0, cap = 0;
	uint64_t last_ts = 0;
	bool have_shb = false;

	while (off < r->len) {
		uint32_t type, blen;
		int rc = 0;

		if (r->len - off < 12) {
			snprintf(err, errlen, "truncated block at byte %zu", off);
			return -1;
		}
		memcpy(&type, r->p + off, 4);
		if (type == NG_SHB) {   /* new section: its own byte order */
			uint32_t bom;

			memcpy(&bom, r->p + off + 8, 4);
			if (bom != NG_BOM && bom != __builtin_bswap32(NG_BOM)) {
				snprintf(err, errlen, "bad pcapng byte-order magic at byte %zu", off);
				return -1;
			}
			r->swap = bom != NG_BOM;
			ifs.n = 0;
			have_shb = true;
		} else if (!have_shb) {
			break;
		}
		type = rd32(r, off);
		blen = rd32(r, off + 4);
		if (blen < 12 || blen % 4 || blen > r->len - off || rd32(r, off + blen - 4) != blen) {
			snprintf(err, errlen, "bad pcapng block length %u at byte %zu", blen, off);
			return -1;
		}
		if (type == NG_IDB) {
			if (blen < 20 || ifs.n == NG_MAX_IF) {
				snprintf(err, errlen, "bad or too many interface blocks at byte %zu", off);
				return -1;
			}
			if (ifs.n == 0)
				pc->linktype = rd16(r, off + 8);
			ifs.snap[ifs.n] = rd32(r, off + 12);
			ifs.resol[ifs.n] = ng_tsresol(r, off + 16, off + blen - 4);
			ifs.n++;
		} else if (type == NG_EPB || type == NG_OPB || type == NG_SPB) {
			rc = ng_packet(pc, r, off, blen, type, &ifs, &last_ts, &cap, maxlen);
		}
		if (rc) {
			snprintf(err, errlen, rc == -2 ? "out of memory" :
				 "malformed packet block at byte %zu", off);
			return -1;
		}
		off += blen;
	}
	if (!have_shb) {
		snprintf(err, errlen, "no pcapng section header");
		return -1;
	}
	return 0;
}

static uint8_t *read_all(const char *file, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(file, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			uint8_t *nb = cap > ((size_t)1 << 34) ? NULL : realloc(buf, cap ? cap * 2 : 65536);

			if (!nb) {
				snprintf(err, errlen, "out of memory (or file too large)");
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap = cap ? cap * 2 : 65536;
		}
		size_t k = fread(buf + n, 1, cap - n, f);

		n += k;
		if (k == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "read error");
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

/* Offsets are capped (about 31 years) so a pass and the sums made of
 * them cannot overflow, whatever a file's stamps say. */
#define MAX_REL_NS 1000000000000000000ull

/* Stamps become offsets from the first record, never going back. */
static void finish(struct pg_pcap *pc)
{
	uint64_t t0 = pc->rec[0].rel_ns, prev = 0;

	for (size_t i = 0; i < pc->n; i++) {
		uint64_t abs = pc->rec[i].rel_ns, rel = abs > t0 ? abs - t0 : 0;

		if (rel > MAX_REL_NS)
			rel = MAX_REL_NS;
		if (rel < prev)
			rel = prev;
		pc->rec[i].rel_ns = prev = rel;
	}
	pc->period_ns = prev + (pc->n > 1 ? prev / (pc->n - 1) : 0);
}

int pg_pcap_load(const char *file, unsigned maxlen, struct pg_pcap *pc, char *err, size_t errlen)
{
	size_t len;
	uint8_t *data = read_all(file, &len, err, errlen);

	memset(pc, 0, sizeof(*pc));
	if (!data)
		return -1;
	return pg_pcap_parse(pc, data, len, maxlen, err, errlen);
}

int pg_pcap_parse(struct pg_pcap *pc, uint8_t *data, size_t len, unsigned maxlen, char *err,
		  size_t errlen)
{
	struct rd r = { .p = data, .len = len };
	uint32_t magic = 0;
	int rc;

	memset(pc, 0, sizeof(*pc));
	pc->data = data;
	if (r.len >= 4)
		memcpy(&magic, r.p, 4);
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS ||
	    magic == __builtin_bswap32(PCAP_MAGIC_US) || magic == __builtin_bswap32(PCAP_MAGIC_NS)) {
		r.swap = magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS;
		pc->nsec = magic == PCAP_MAGIC_NS || magic == __builtin_bswap32(PCAP_MAGIC_NS);
		rc = load_pcap(pc, &r, maxlen, err, errlen);
	} else if (magic == NG_SHB) {
		pc->ng = pc->nsec = true;
		rc = load_pcapng(pc, &r, maxlen, err, errlen);
	} else {
		snprintf(err, errlen, "not a pcap or pcapng file");
		rc = -1;
	}
	if (!rc && pc->n == 0) {
		snprintf(err, errlen, "no frame to replay (%llu skipped: empty or longer than %u bytes)",
			 (unsigned long long)pc->skipped, maxlen);
		rc = -1;
	}
	if (rc) {
		pg_pcap_free(pc);
		return -1;
	}
	finish(pc);
	return 0;
}

void pg_pcap_free(struct pg_pcap *pc)
{
	free(pc->data);
	free(pc->rec);
	memset(pc, 0, sizeof(*pc));
}
