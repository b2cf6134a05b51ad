/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * shmif-common.h - helpers for the shmif tests (header only):
 * - numbered test frames whose every byte is checkable (tf_*),
 * - an independent bus writer and a post-mortem bus walker written from
 *   the format description (refs/shmif.md sections 2-4 and 7), sharing no
 *   code with lib/backend/shmif_bus.c, so the library is checked against a
 *   second reading of the specification (tw_*),
 * - a temporary bus file path.
 */
#ifndef SHMIF_COMMON_H
#define SHMIF_COMMON_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <unm.h>
#include "../lib/test.h"

/* ---- test frames ------------------------------------------------------------ */

/* Frame SEQ of LEN (>= 24) bytes: dst, src, ethertype 0x88b5, seq, len,
 * then bytes derived from seq and position. */
static inline void tf_make(uint8_t *f, uint32_t seq, uint32_t len, const uint8_t dst[6])
{
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 1 };

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x88, f[13] = 0xb5;
	memcpy(f + 14, &seq, 4);
	memcpy(f + 18, &len, 4);
	for (uint32_t i = 22; i < len; i++)
		f[i] = (uint8_t)(seq * 7 + i);
}

/* Returns the frame's seq, or -1 if any byte is not what tf_make wrote. */
static inline long tf_check(const uint8_t *f, uint32_t len)
{
	uint32_t seq, l;

	if (len < 22 || f[12] != 0x88 || f[13] != 0xb5)
		return -1;
	memcpy(&seq, f + 14, 4);
	memcpy(&l, f + 18, 4);
	if (l != len)
		return -1;
	for (uint32_t i = 22; i < len; i++)
		if (f[i] != (uint8_t)(seq * 7 + i))
			return -1;
	return seq;
}

static const uint8_t tf_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* ---- bus file ----------------------------------------------------------------- */

static char tb_path[128];

static void tb_cleanup(void)
{
	if (tb_path[0])
		unlink(tb_path);
}

/* A fresh (absent) bus path under /tmp, removed at exit. */
static inline const char *tb_newpath(const char *tag)
{
	snprintf(tb_path, sizeof(tb_path), "/tmp/unm-shmif-%s-%d.bus", tag, (int)getpid());
	unlink(tb_path);
	atexit(tb_cleanup);
	return tb_path;
}

/* Map the bus file PATH (created, 1 MiB) read-write; fd in *fdp. */
static inline uint8_t *tb_map(const char *path, int *fdp)
{
	int fd = open(path, O_RDWR | O_CREAT, 0600);
	void *m;

	T_ASSERT(fd >= 0);
	T_ASSERT(ftruncate(fd, 1 << 20) == 0);
	m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	T_ASSERT(m != MAP_FAILED);
	if (fdp)
		*fdp = fd;
	else
		close(fd);
	return m;
}

/* ---- independent writer (from the format description) --------------------- */

#define TW_BUS   1048576u
#define TW_DATA  (TW_BUS - 32u)   /* data area */
#define TW_PH    24u              /* record header */

static inline uint32_t tw_h32(const uint8_t *bus, unsigned off)
{
	uint32_t v;

	memcpy(&v, bus + off, 4);
	return v;
}

static inline void tw_s32(uint8_t *bus, unsigned off, uint32_t v)
{
	memcpy(bus + off, &v, 4);
}

static inline uint64_t tw_gen(const uint8_t *bus)
{
	uint64_t v;

	memcpy(&v, bus + 8, 8);
	return v;
}

/* The byte at ring position POS (any value: taken modulo the data size). */
static inline uint8_t *tw_at(uint8_t *bus, uint64_t pos)
{
	return bus + 32 + pos % TW_DATA;
}

/* Little-endian-agnostic: the record length at data offset OFF. */
static inline uint32_t tw_len_at(uint8_t *bus, uint32_t off)
{
	uint8_t b[4];

	for (int i = 0; i < 4; i++)
		b[i] = *tw_at(bus, (uint64_t)off + (unsigned)i);
	uint32_t v;

	memcpy(&v, b, 4);
	return v;
}

static inline void tw_init(uint8_t *bus)
{
	memset(bus, 0, 32);
	tw_s32(bus, 0, 0xca11d054u);
	tw_s32(bus, 4, 3);
	tw_s32(bus, 16, TW_DATA);
}

static inline void tw_lock(uint8_t *bus)
{
	uint32_t *w = (uint32_t *)(void *)(bus + 24);
	uint32_t z = 0;

	while (!__atomic_compare_exchange_n(w, &z, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		z = 0;
		usleep(100);
	}
}

static inline void tw_unlock(uint8_t *bus)
{
	__atomic_store_n((uint32_t *)(void *)(bus + 24), 0, __ATOMIC_RELEASE);
}

/* Store one contiguous piece [at, at + n) (never crossing the end), first
 * advancing shm_first over the records it overwrites; a piece that ends
 * at the very end counts one byte more (it covers the sentinel). */
static inline void tw_piece(uint8_t *bus, uint32_t at, const uint8_t *src, uint32_t n)
{
	uint32_t test_n = at + n == TW_DATA ? n + 1 : n;
	uint32_t first = tw_h32(bus, 16);

	while (at <= first + TW_PH && at + test_n > first) {
		uint32_t nf = first + TW_PH + tw_len_at(bus, first % TW_DATA);

		first = nf >= TW_DATA ? nf - TW_DATA : nf;
	}
	tw_s32(bus, 16, first);
	memcpy(bus + 32 + at, src, n);
}

/* Store N bytes at *pos, split at the end; returns true if it reached it. */
static inline bool tw_copy(uint8_t *bus, uint32_t *pos, const uint8_t *src, uint32_t n)
{
	uint32_t room = TW_DATA - *pos;

	if (n < room) {
		tw_piece(bus, *pos, src, n);
		*pos += n;
		return false;
	}
	tw_piece(bus, *pos, src, room);
	if (n > room)
		tw_piece(bus, 0, src + room, n - room);
	*pos = n - room;
	return true;
}

/* Append frame F (LEN bytes) as SENDER; lock held by the caller or not
 * needed. Returns the data offset of the new record. */
static uint32_t tw_sec = 0x12, tw_usec = 0x34; /* timestamps: anything */

static inline uint32_t tw_send_nolock(uint8_t *bus, uint64_t sender, const uint8_t *f, uint32_t len)
{
	uint32_t last = tw_h32(bus, 20);
	uint32_t pos = last + TW_PH + tw_len_at(bus, last);
	uint8_t ph[TW_PH] = { 0 };
	bool wrapped;

	if (pos >= TW_DATA)
		pos -= TW_DATA;
	uint32_t rec = pos;

	tw_s32(bus, 20, pos);
	memcpy(ph, &len, 4);
	memcpy(ph + 4, &tw_sec, 4);
	memcpy(ph + 8, &tw_usec, 4);
	memcpy(ph + 16, &sender, 8);
	wrapped = tw_copy(bus, &pos, ph, TW_PH);
	wrapped |= tw_copy(bus, &pos, f, len);
	if (wrapped) {
		uint64_t g = tw_gen(bus) + 1;

		memcpy(bus + 8, &g, 8);
	}
	return rec;
}

static inline uint32_t tw_send(uint8_t *bus, int fd, uint64_t sender, const uint8_t *f, uint32_t len)
{
	uint32_t three = 3, rec;

	tw_lock(bus);
	rec = tw_send_nolock(bus, sender, f, len);
	tw_unlock(bus);
	if (fd >= 0)
		T_ASSERT(pwrite(fd, &three, 4, 4) == 4);
	return rec;
}

/* ---- post-mortem walk (shmif_dumpbus, section 7 last bullet) ------------- */

struct tw_pkt {
	uint32_t off;       /* payload data offset */
	uint32_t len;
	uint64_t sender;
	uint8_t frame[1514];
};

/* Walk the intact records from shm_first as shmif_dumpbus does, without
 * the lock (start at first, DATASIZE meaning 0; go on past last only while
 * the ring must still wrap), up to and including the record at shm_last;
 * call CB for every record with sp_len != 0. Returns the number
 * of records reported, or -1 if the bus is not a v3 bus or a length is
 * impossible. */
static inline long tw_walk(uint8_t *bus, void (*cb)(const struct tw_pkt *, void *), void *arg)
{
	uint32_t first = tw_h32(bus, 16), last = tw_h32(bus, 20);
	uint32_t off = first == TW_DATA ? 0 : first;
	bool must_wrap = last < (first == TW_DATA ? 0 : first), wrapped = false;
	static struct tw_pkt pkt;
	long n = 0;

	if (tw_h32(bus, 0) != 0xca11d054u || tw_h32(bus, 4) != 3 || first > TW_DATA || last >= TW_DATA)
		return -1;
	for (unsigned guard = 0; guard < TW_DATA / TW_PH + 2; guard++) {
		uint8_t ph[TW_PH];

		/* Past last without having met it: not a record chain. */
		if (!(must_wrap && !wrapped) && off > last)
			return -1;
		for (unsigned i = 0; i < TW_PH; i++)
			ph[i] = *tw_at(bus, (uint64_t)off + i);
		memcpy(&pkt.len, ph, 4);
		memcpy(&pkt.sender, ph + 16, 8);
		if (pkt.len > 1514)
			return -1;
		pkt.off = (off + TW_PH) % TW_DATA;
		for (unsigned i = 0; i < pkt.len; i++)
			pkt.frame[i] = *tw_at(bus, (uint64_t)off + TW_PH + i);
		bool at_last = off == last;

		if (off + TW_PH + pkt.len >= TW_DATA)
			wrapped = true;
		off = (off + TW_PH + pkt.len) % TW_DATA;
		if (pkt.len) {
			cb(&pkt, arg);
			n++;
		}
		/* The record at shm_last is the newest: the walk ends with it
		 * (a newest record that crosses the end leaves off <= last). */
		if (at_last)
			return n;
	}
	return -1;
}

/* ---- receiving test frames from a port ---------------------------------- */

struct rxstate {
	long next_seq;  /* expected seq, -1 = any */
	unsigned got, bad;
	uint32_t len;   /* expected length, 0 = any */
};

/* Receive every available frame (joining MOREFRAG chains) and check it:
 * content (tf_check), order (next_seq), length. */
static inline void rx_all(struct unm_port *p, struct rxstate *st)
{
	struct unm_ring *r = unm_ring_get(p, 0, 0);
	static uint8_t f[4096];
	uint32_t flen = 0;

	T_ASSERT(unm_rxsync(p, 0) == 0);
	while (!unm_ring_empty(r)) {
		struct unm_slot *s = &r->slot[r->head];

		T_ASSERT(flen + s->len <= sizeof(f));
		memcpy(f + flen, unm_slot_buf(r, r->head), s->len);
		flen += s->len;
		if (!(s->flags & UNM_NS_MOREFRAG)) {
			long seq = tf_check(f, flen);

			if (seq < 0 || (st->next_seq >= 0 && seq != st->next_seq) ||
			    (st->len && flen != st->len)) {
				if (st->bad++ < 5)
					printf("bad frame: seq %ld (expected %ld) len %u\n",
					       seq, st->next_seq, flen);
			}
			st->next_seq = seq + 1;
			st->got++;
			flen = 0;
		}
		unm_ring_advance(r, unm_ring_next(r, r->head));
		if (unm_ring_empty(r))
			T_ASSERT(unm_rxsync(p, 0) == 0);
	}
	T_ASSERT_EQ(flen, 0);
}

#endif
