// SPDX-License-Identifier: BSD-2-Clause
/*
 * out.c - unm-capture's writer: classic pcap with nanosecond timestamps
 * through libpcap (a "dead" handle + pcap_dump), or pcapng written here
 * (libpcap 1.10 cannot write it): one Section Header Block, one Interface
 * Description Block with if_tsresol = 9 (nanoseconds), then one Enhanced
 * Packet Block per frame, all in host byte order (the SHB's byte-order
 * magic tells readers which). Rotation by size follows tcpdump -C/-W.
 * Single-threaded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unm.h>
#include "config-host.h"
#include "capture.h"
#ifdef CONFIG_HAVE_PCAP
#include <pcap/pcap.h>
#endif

#define PCAP_FILE_HDR 24u
#define PCAP_REC_HDR  16u
#define NG_SHB   0x0A0D0D0Au
#define NG_IDB   0x00000001u
#define NG_EPB   0x00000006u
#define NG_BOM   0x1A2B3C4Du
#define LINKTYPE_ETHERNET 1

static uint32_t pad4(uint32_t n)
{
	return (n + 3) & ~3u;
}

/* Name of file number N: the base name, then base1, base2, ... */
static void file_name(const struct out *o, unsigned n, char *buf, size_t len)
{
	if (n == 0)
		snprintf(buf, len, "%s", o->base);
	else
		snprintf(buf, len, "%s%u", o->base, n);
}

/* ---- pcapng ----------------------------------------------------------------- */

/* Append option CODE with LEN bytes of VAL at P (padded); returns bytes used. */
static size_t ng_opt(uint8_t *p, uint16_t code, const void *val, uint16_t len)
{
	memcpy(p, &code, 2);
	memcpy(p + 2, &len, 2);
	if (len)
		memcpy(p + 4, val, len);
	memset(p + 4 + len, 0, pad4(len) - len);
	return 4 + pad4(len);
}

/* Finish block B of type TYPE whose body is B[8..used): total length at
 * both ends. Returns the block's length. */
static uint32_t ng_close_block(uint8_t *b, uint32_t type, size_t used)
{
	uint32_t total = (uint32_t)used + 4;

	memcpy(b, &type, 4);
	memcpy(b + 4, &total, 4);
	memcpy(b + used, &total, 4);
	return total;
}

static int ng_header(struct out *o)
{
	uint8_t b[512];
	size_t n = 8;
	uint32_t bom = NG_BOM, len, snap = o->snaplen;
	uint16_t ver[2] = { 1, 0 }, lt[2] = { LINKTYPE_ETHERNET, 0 };
	int64_t section = -1;
	uint8_t tsresol = 9;
	char app[64];

	memcpy(b + n, &bom, 4), n += 4;
	memcpy(b + n, ver, 4), n += 4;
	memcpy(b + n, &section, 8), n += 8;
	snprintf(app, sizeof(app), "unm-capture (libunm %s)", unm_version());
	n += ng_opt(b + n, 4, app, (uint16_t)strlen(app)); /* shb_userappl */
	n += ng_opt(b + n, 0, NULL, 0);                     /* opt_endofopt */
	len = ng_close_block(b, NG_SHB, n);
	if (fwrite(b, len, 1, o->f) != 1)
		return -EIO;
	o->bytes += len;

	n = 8;
	memcpy(b + n, lt, 4), n += 4;
	memcpy(b + n, &snap, 4), n += 4;
	if (o->ifname && o->ifname[0]) /* if_name, at most 255 bytes */
		n += ng_opt(b + n, 2, o->ifname, (uint16_t)strnlen(o->ifname, 255));
	n += ng_opt(b + n, 9, &tsresol, 1);                 /* if_tsresol: 10^-9 s */
	n += ng_opt(b + n, 0, NULL, 0);
	len = ng_close_block(b, NG_IDB, n);
	if (fwrite(b, len, 1, o->f) != 1)
		return -EIO;
	o->bytes += len;
	return 0;
}

static int ng_record(struct out *o, const struct timespec *ts, const uint8_t *data,
		     uint32_t caplen, uint32_t len)
{
	uint64_t t = (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
	uint32_t h[7], total = 32 + pad4(caplen), zero = 0;

	h[0] = NG_EPB;
	h[1] = total;
	h[2] = 0;                        /* interface id */
	h[3] = (uint32_t)(t >> 32);
	h[4] = (uint32_t)t;
	h[5] = caplen;
	h[6] = len;
	if (fwrite(h, sizeof(h), 1, o->f) != 1 ||
	    (caplen && fwrite(data, caplen, 1, o->f) != 1) ||
	    (pad4(caplen) != caplen && fwrite(&zero, pad4(caplen) - caplen, 1, o->f) != 1) ||
	    fwrite(&total, 4, 1, o->f) != 1)
		return -EIO;
	o->bytes += total;
	return 0;
}

/* ---- open / rotate / close -------------------------------------------------- */

static int open_file(struct out *o)
{
	char name[4096];

	file_name(o, o->file_no, name, sizeof(name));
	o->bytes = o->records = 0;
	if (o->pcapng) {
		o->f = strcmp(o->base, "-") ? fopen(name, "wb") : stdout;
		if (!o->f) {
			int e = errno;

			snprintf(o->err, sizeof(o->err), "%.200s: %s", name, strerror(e));
			return -e;
		}
		if (ng_header(o)) {
			snprintf(o->err, sizeof(o->err), "%.200s: write failed", name);
			return -EIO;
		}
	} else {
#ifdef CONFIG_HAVE_PCAP
		o->dumper = pcap_dump_open(o->pcap, name);
		if (!o->dumper) {
			snprintf(o->err, sizeof(o->err), "%s", pcap_geterr(o->pcap));
			return -EIO;
		}
		o->bytes = PCAP_FILE_HDR;
#else
		snprintf(o->err, sizeof(o->err), "not built with libpcap");
		return -ENOSYS;
#endif
	}
	o->files++;
	return 0;
}

int out_open(struct out *o)
{
	o->file_no = 0;
	o->files = 0;
	if (!o->pcapng) {
#ifdef CONFIG_HAVE_PCAP
		o->pcap = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, (int)o->snaplen,
							       PCAP_TSTAMP_PRECISION_NANO);
		if (!o->pcap) {
			snprintf(o->err, sizeof(o->err), "pcap_open_dead failed");
			return -ENOMEM;
		}
#else
		snprintf(o->err, sizeof(o->err), "not built with libpcap");
		return -ENOSYS;
#endif
	}
	return open_file(o);
}

static int close_file(struct out *o)
{
	int rc = 0;

	if (o->f) {
		if (fflush(o->f) || ferror(o->f))
			rc = -EIO;
		if (o->f != stdout && fclose(o->f))
			rc = -EIO;
		o->f = NULL;
	}
#ifdef CONFIG_HAVE_PCAP
	if (o->dumper) {
		FILE *f = pcap_dump_file(o->dumper);

		if (pcap_dump_flush(o->dumper) || ferror(f))
			rc = -EIO;
		pcap_dump_close(o->dumper);
		o->dumper = NULL;
	}
#endif
	if (rc)
		snprintf(o->err, sizeof(o->err), "write to %s failed", o->base);
	return rc;
}

int out_write(struct out *o, const struct timespec *ts, const uint8_t *data,
	      uint32_t caplen, uint32_t len)
{
	uint64_t rec = o->pcapng ? 32 + pad4(caplen) : PCAP_REC_HDR + caplen;
	int rc;

	/* Rotate before a record that would take the file past the limit
	 * (a file always gets at least one record). */
	if (o->limit && o->records && o->bytes + rec > o->limit && strcmp(o->base, "-")) {
		rc = close_file(o);
		if (rc)
			return rc;
		o->file_no++;
		if (o->max_files && o->file_no >= o->max_files)
			o->file_no = 0;
		rc = open_file(o);
		if (rc)
			return rc;
	}
	if (o->pcapng) {
		rc = ng_record(o, ts, data, caplen, len);
		if (rc) {
			snprintf(o->err, sizeof(o->err), "write to %s failed", o->base);
			return rc;
		}
	} else {
#ifdef CONFIG_HAVE_PCAP
		struct pcap_pkthdr h;

		/* nanosecond precision: libpcap stores tv_usec as nanoseconds */
		h.ts.tv_sec = ts->tv_sec;
		h.ts.tv_usec = ts->tv_nsec;
		h.caplen = caplen;
		h.len = len;
		pcap_dump((u_char *)o->dumper, &h, data);
		o->bytes += rec;
#endif
	}
	o->records++;
	return 0;
}

int out_close(struct out *o)
{
	int rc = close_file(o);

#ifdef CONFIG_HAVE_PCAP
	if (o->pcap)
		pcap_close(o->pcap);
	o->pcap = NULL;
#endif
	return rc;
}
