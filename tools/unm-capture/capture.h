/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capture.h - unm-capture's internal interfaces: the file writer (out.c:
 * pcap through libpcap, pcapng written here, size rotation) shared with
 * the capture loop (main.c). Single-threaded program: nothing here locks.
 */
#ifndef UNM_CAPTURE_H
#define UNM_CAPTURE_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

/*
 * One output "stream": FILE, then FILE1, FILE2, ... when rotating by size
 * (tcpdump's -C naming); with max_files the numbers wrap to 0 (FILE) and
 * older files are overwritten (tcpdump's -W ring buffer).
 */
struct out {
	/* configuration (set before out_open) */
	const char *base;          /* file name given with -w ("-" = stdout) */
	const char *ifname;        /* port name (pcapng if_name) */
	int pcapng;                /* 1: pcapng (written here), 0: pcap (libpcap) */
	uint32_t snaplen;
	uint64_t limit;            /* rotate before a record would pass this; 0 = never */
	unsigned max_files;        /* -W: 0 = unlimited */
	/* state */
	unsigned file_no;          /* number of the open file (0 = base name) */
	unsigned files;            /* files opened so far */
	uint64_t bytes;            /* bytes in the open file */
	uint64_t records;          /* records in the open file */
	FILE *f;                   /* pcapng */
	void *pcap, *dumper;       /* pcap_t, pcap_dumper_t (pcap) */
	char err[256];
};

/* Open the first file. Returns 0 or -errno with o->err set. */
int out_open(struct out *o);
/* Write one record (data[0..caplen) of a LEN-byte frame, taken at TS),
 * rotating first if needed. Returns 0 or -errno with o->err set. */
int out_write(struct out *o, const struct timespec *ts, const uint8_t *data,
	      uint32_t caplen, uint32_t len);
/* Flush and close the open file. Returns 0 or -errno with o->err set. */
int out_close(struct out *o);

#endif
