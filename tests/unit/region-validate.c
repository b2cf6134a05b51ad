// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: shared-memory regions. unm_region_create() accepts every
 * geometry inside the limits (1..16 rings, 64..4096 slots, any count in
 * between, buffers of 64..65536 bytes) and refuses the values just
 * outside; in every region each slot and each extra buffer holds a
 * distinct valid buffer, TX rings start with all slots but one free and RX
 * rings empty. unm_region_validate() refuses each corrupted header,
 * descriptor and ring field (magic, version, sizes, offsets, counts,
 * slots, buf_ofs, nr_buf_size, dir, overlapping objects) with -EBADMSG
 * and a message. unm_region_map() refuses a truncated memfd and an
 * unsealed one; the creator's memfd cannot be shrunk or grown. The free
 * list pops and pushes LIFO and ignores invalid indexes.
 *
 * With "--dump-corpus DIR" it writes the seed corpus of the region fuzz
 * target instead: a few real regions, cut after their last non-zero byte
 * (the fuzz harness zero-fills them back to their header's size). Without
 * arguments it also checks that every seed-* file of
 * tests/fuzz/corpus/region still validates once re-grown.
 * Single-threaded.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "unm-internal.h"
#include "../lib/test.h"

#define CORPUS "tests/fuzz/corpus/region"

static struct unm_region_layout lay(unsigned n_ifs, unsigned ntx, unsigned nrx,
				    unsigned txs, unsigned rxs, unsigned bs)
{
	struct unm_region_layout l;

	memset(&l, 0, sizeof(l));
	l.kind = n_ifs == 2 ? UNM_REGION_PIPE : UNM_REGION_SELF;
	l.n_ifs = n_ifs;
	for (unsigned i = 0; i < n_ifs; i++) {
		snprintf(l.ifs[i].name, sizeof(l.ifs[i].name), "if%u", i);
		l.ifs[i].tx_rings = ntx;
		l.ifs[i].rx_rings = nrx;
		l.ifs[i].tx_slots = txs;
		l.ifs[i].rx_slots = rxs;
	}
	l.buf_size = bs;
	return l;
}

/*
 * Check a freshly created region: validation passes, every ring is where
 * its descriptor says, starts in the documented state, and every slot and
 * extra buffer holds its own valid buffer; together they use the pool.
 */
static void check_fresh(const struct unm_region_layout *l, const struct unm_region *reg)
{
	const struct unm_region_hdr *h = unm_region_hdr(reg);
	char err[256];
	uint8_t *seen;
	uint64_t used = 0;

	T_ASSERT_EQ(unm_region_validate(reg->base, reg->size, err, sizeof(err)), 0);
	T_ASSERT_EQ(reg->size, unm_region_size(l));
	T_ASSERT_EQ(h->n_ifs, l->n_ifs);
	T_ASSERT_EQ(h->buf_size, l->buf_size);
	T_ASSERT_EQ(reg->buf_count, h->buf_count);
	T_ASSERT(h->buf_pool_ofs + (uint64_t)h->buf_count * h->buf_size <= reg->size);
	seen = calloc(h->buf_count, 1);
	T_ASSERT(seen);
	for (unsigned i = 0; i < l->n_ifs; i++) {
		struct unm_if *nifp = unm_region_if(reg, i);
		const struct unm_if_layout *f = &l->ifs[i];
		struct unm_region tmp = *reg;
		uint32_t head = nifp->ni_bufs_head, idx;

		T_ASSERT_EQ(nifp->ni_tx_rings, f->tx_rings);
		T_ASSERT_EQ(nifp->ni_rx_rings, f->rx_rings);
		T_ASSERT(!strcmp(nifp->ni_name, f->name));
		for (unsigned r = 0; r < f->tx_rings + f->rx_rings; r++) {
			int tx = r < f->tx_rings;
			struct unm_ring *ring = tx ? unm_txring(nifp, r) :
						     unm_rxring(nifp, r - f->tx_rings);
			unsigned ns = tx ? f->tx_slots : f->rx_slots;

			T_ASSERT_EQ(ring->num_slots, ns);
			T_ASSERT_EQ(ring->dir, tx ? 0 : 1);
			T_ASSERT_EQ(ring->ringid, tx ? r : r - f->tx_rings);
			T_ASSERT_EQ(ring->nr_buf_size, l->buf_size);
			T_ASSERT_EQ(ring->head, 0);
			T_ASSERT_EQ(ring->cur, 0);
			T_ASSERT_EQ(ring->tail, tx ? ns - 1 : 0);
			T_ASSERT_EQ(unm_ring_space(ring), tx ? ns - 1 : 0);
			T_ASSERT((char *)ring + ring->buf_ofs ==
				 (char *)reg->base + h->buf_pool_ofs);
			for (unsigned s = 0; s < ns; s++) {
				idx = ring->slot[s].buf_idx;
				T_ASSERT(idx >= 2 && idx < h->buf_count);
				T_ASSERT(!seen[idx]);
				seen[idx] = 1;
				T_ASSERT_EQ(ring->slot[s].len, 0);
				T_ASSERT_EQ(ring->slot[s].flags, 0);
				T_ASSERT(unm_buf(ring, idx) + l->buf_size <=
					 (char *)reg->base + reg->size);
				used++;
			}
		}
		/* extra buffers: exactly extra_bufs, all fresh */
		for (unsigned e = 0; e < l->extra_bufs; e++) {
			idx = unm_buf_pop(&tmp, &head);
			T_ASSERT(idx >= 2 && idx < h->buf_count);
			T_ASSERT(!seen[idx]);
			seen[idx] = 1;
			used++;
		}
		T_ASSERT_EQ(unm_buf_pop(&tmp, &head), 0);
	}
	T_ASSERT_EQ(used, h->buf_count - 2);
	free(seen);
}

static void create_ok(const struct unm_region_layout *l)
{
	struct unm_region reg;
	char err[256] = "";

	if (unm_region_create(l, &reg, err, sizeof(err)))
		T_FAIL("create %u ifs %u/%u rings %u/%u slots %u B: %s", l->n_ifs,
		       l->ifs[0].tx_rings, l->ifs[0].rx_rings, l->ifs[0].tx_slots,
		       l->ifs[0].rx_slots, l->buf_size, err);
	check_fresh(l, &reg);
	unm_region_unmap(&reg);
}

static void create_bad(const struct unm_region_layout *l, const char *msg)
{
	struct unm_region reg;
	char err[256] = "";

	T_ASSERT_EQ(unm_region_create(l, &reg, err, sizeof(err)), -EINVAL);
	if (strcmp(err, msg))
		T_FAIL("create: message '%s', expected '%s'", err, msg);
	T_ASSERT_EQ(unm_region_size(l), 0);
}

static void test_geometry(void)
{
	struct unm_region_layout l;

	l = lay(1, 1, 1, 64, 64, 64);
	create_ok(&l);
	l = lay(1, 16, 16, 64, 64, 65536);
	create_ok(&l);
	l = lay(1, 16, 16, 4096, 4096, 2048);
	create_ok(&l);
	l = lay(2, 3, 7, 65, 4095, 66);     /* nothing a power of two */
	l.extra_bufs = 9;
	l.csb_entries = 20;
	create_ok(&l);
	l = lay(2, 1, 16, 1000, 100, 1500);
	l.ifs[1].tx_rings = 5;
	l.ifs[1].rx_slots = 3000;
	l.vnet_hdr_len = 12;
	create_ok(&l);
	for (unsigned n = 1; n <= 16; n += 5) {
		l = lay(1, n, 17 - n, 64 + 268 * (n - 1), 4096 - 267 * (n - 1),
			64 + 4364 * (n - 1));
		create_ok(&l);
	}

	l = lay(1, 0, 1, 64, 64, 2048);
	create_bad(&l, "0/1 rings (1..16 per direction)");
	l = lay(1, 1, 17, 64, 64, 2048);
	create_bad(&l, "1/17 rings (1..16 per direction)");
	l = lay(1, 1, 1, 63, 64, 2048);
	create_bad(&l, "63/64 slots per ring (64..4096)");
	l = lay(1, 1, 1, 64, 4097, 2048);
	create_bad(&l, "64/4097 slots per ring (64..4096)");
	l = lay(1, 1, 1, 64, 64, 63);
	create_bad(&l, "buffer size 63 out of range 64..65536");
	l = lay(1, 1, 1, 64, 64, 65537);
	create_bad(&l, "buffer size 65537 out of range 64..65536");
	l = lay(1, 1, 1, 64, 64, 2048);
	l.n_ifs = 0;
	create_bad(&l, "0 port descriptors (1..2)");
	l.n_ifs = 3;
	create_bad(&l, "3 port descriptors (1..2)");
	l = lay(1, 1, 1, 64, 64, 2048);
	l.extra_bufs = 65537;
	create_bad(&l, "65537 extra buffers (max 65536)");
	l.extra_bufs = 0;
	l.vnet_hdr_len = 11;
	create_bad(&l, "virtio-net header length 11 (0, 10 or 12)");
	l.vnet_hdr_len = 0;
	l.csb_entries = 129;
	create_bad(&l, "129 CSB entries");
	l = lay(2, 1, 1, 64, 64, 2048);
	l.ifs[1].rx_slots = 5000;
	create_bad(&l, "64/5000 slots per ring (64..4096)");
}

/* ---- corruption -------------------------------------------------------- */

static struct unm_region ref;        /* the pristine region */
static char *img;                    /* page-aligned scratch copy */

#define HDR   ((struct unm_region_hdr *)img)
#define IF(i) ((struct unm_if *)(img + HDR->if_ofs[i]))
#define RING(i, r) ((struct unm_ring *)((char *)IF(i) + IF(i)->ring_ofs[r]))
/* const fields of the shared structs, written as a peer would */
#define W32(lv) (*(uint32_t *)&(lv))
#define W16(lv) (*(uint16_t *)&(lv))
#define W64(lv) (*(int64_t *)&(lv))

static void reset(void)
{
	memcpy(img, ref.base, ref.size);
}

static void expect_bad(int line, const char *what, const char *msg)
{
	char err[256] = "";
	int rc = unm_region_validate(img, ref.size, err, sizeof(err));

	if (rc != -EBADMSG)
		T_FAIL("line %d: %s: validate returned %d, expected -EBADMSG", line, what, rc);
	if (!strstr(err, msg))
		T_FAIL("line %d: %s: message '%s' lacks '%s'", line, what, err, msg);
	reset();
}
#define BAD(what, msg) expect_bad(__LINE__, what, msg)

static void test_corruption(void)
{
	struct unm_region_layout l = lay(2, 2, 2, 100, 64, 128);
	char err[256];
	uint64_t pool;
	int64_t r0;

	l.csb_entries = 8;
	l.extra_bufs = 4;
	T_ASSERT_EQ(unm_region_create(&l, &ref, err, sizeof(err)), 0);
	T_ASSERT_EQ(posix_memalign((void **)&img, 4096, ref.size), 0);
	reset();
	T_ASSERT_EQ(unm_region_validate(img, ref.size, err, sizeof(err)), 0);
	pool = HDR->buf_pool_ofs;

	/* header */
	HDR->magic ^= 1;                    BAD("magic", "bad magic 0x524d4e54");
	HDR->version = 2;                   BAD("version", "layout version 2, expected 1");
	HDR->hdr_size = 128;                BAD("hdr_size", "header size 128, expected 256");
	HDR->size += 4096;                  BAD("size", "header says");
	HDR->size = 0;                      BAD("size 0", "header says 0 bytes");
	HDR->n_ifs = 0;                     BAD("n_ifs 0", "0 port descriptors");
	HDR->n_ifs = 3;                     BAD("n_ifs 3", "3 port descriptors");
	HDR->buf_size = 63;                 BAD("buf_size", "buffer size 63");
	HDR->buf_size = 70000;              BAD("buf_size big", "buffer size 70000");
	HDR->buf_count = 2;                 BAD("buf_count", "2 buffers");
	HDR->buf_count = UINT32_MAX;        BAD("buf_count big", "exceeds the region");
	HDR->buf_size = 65536;              BAD("buf_size vs pool", "exceeds the region");
	HDR->buf_pool_ofs = 100;            BAD("pool misaligned", "buffer pool offset 100");
	HDR->buf_pool_ofs = 64;             BAD("pool in header", "buffer pool offset 64");
	HDR->buf_pool_ofs = ref.size + 64;  BAD("pool past end", "buffer pool offset");
	HDR->buf_pool_ofs = UINT64_MAX - 63; BAD("pool wraps", "buffer pool offset");
	HDR->csb_entries = 129;             BAD("csb entries", "129 CSB entries");
	HDR->csb_ofs = pool - 64;           BAD("csb into pool", "outside the control area");
	HDR->csb_ofs = UINT64_MAX - 63;     BAD("csb wraps", "outside the control area");
	HDR->csb_ofs = 0;                   BAD("csb at 0", "outside the control area");
	HDR->csb_ofs += 8;                  BAD("csb misaligned", "outside the control area");
	HDR->csb_entries = 0;               BAD("csb without entries", "CSB offset");
	HDR->vnet_hdr_len = 7;              BAD("vnet", "virtio-net header length 7");

	/* port descriptors */
	HDR->if_ofs[1] = 0;                 BAD("if_ofs 0", "port descriptor 1 at 0");
	HDR->if_ofs[0] += 4;                BAD("if_ofs misaligned", "port descriptor 0 at");
	HDR->if_ofs[0] = pool - 48;         BAD("if_ofs in pool", "port descriptor 0 at");
	/* the region fuzz target's first find: ofs + 56 wrapped to 0 */
	HDR->if_ofs[0] = UINT64_MAX - 55;   BAD("if_ofs wraps", "port descriptor 0 at");
	W32(IF(0)->ni_tx_rings) = 0;        BAD("tx rings 0", "port descriptor 0: 0 TX / 2 RX rings");
	W32(IF(1)->ni_rx_rings) = 17;       BAD("rx rings 17", "port descriptor 1: 2 TX / 17 RX rings");
	W32(IF(0)->ni_rx_rings) = UINT32_MAX; BAD("rx rings huge", "RX rings");
	W32(IF(0)->ni_host_tx_rings) = 1;   BAD("host rings", "host rings are not supported");
	HDR->if_ofs[1] = pool - 64;         /* 56 + 4 x 8 bytes do not fit in 64 */
	W32(IF(1)->ni_tx_rings) = 2;
	W32(IF(1)->ni_rx_rings) = 2;        BAD("ring table", "port descriptor 1: ring table exceeds the control area");

	/* rings */
	r0 = IF(0)->ring_ofs[0];
	W64(IF(0)->ring_ofs[0]) = r0 + 8;   BAD("ring misaligned", "port 0 ring 0 at offset");
	W64(IF(0)->ring_ofs[1]) = INT64_MIN; BAD("ring far below", "port 0 ring 1 at offset");
	W64(IF(0)->ring_ofs[1]) = INT64_MAX; BAD("ring far above", "port 0 ring 1 at offset");
	W64(IF(1)->ring_ofs[3]) = (int64_t)pool - (int64_t)HDR->if_ofs[1];
	BAD("ring in pool", "port 1 ring 3 at offset");
	W64(IF(0)->ring_ofs[0]) = -(int64_t)HDR->if_ofs[0];
	BAD("ring in header", "port 0 ring 0 at offset");
	W32(RING(0, 0)->num_slots) = 63;    BAD("slots 63", "port 0 ring 0: 63 slots");
	W32(RING(0, 1)->num_slots) = 4097;  BAD("slots 4097", "port 0 ring 1: 4097 slots");
	W32(RING(1, 3)->num_slots) = 4096;  BAD("slots into pool", "port 1 ring 3: 4096 slots run into the buffer pool");
	W32(RING(0, 2)->nr_buf_size) = 2048; BAD("nr_buf_size", "port 0 ring 2: buffer size 2048, region has 128");
	W64(RING(0, 3)->buf_ofs) += 128;    BAD("buf_ofs", "port 0 ring 3: buffer offset");
	W64(RING(1, 0)->buf_ofs) = INT64_MIN; BAD("buf_ofs min", "port 1 ring 0: buffer offset");
	W16(RING(0, 0)->dir) = 1;           BAD("dir tx", "port 0 ring 0: direction 1");
	W16(RING(1, 2)->dir) = 0;           BAD("dir rx", "port 1 ring 2: direction 0");

	/* overlapping objects: each stays inside the control area */
	W64(IF(0)->ring_ofs[1]) = IF(0)->ring_ofs[0];
	BAD("ring on ring", "overlaps");
	W64(IF(1)->ring_ofs[0]) = (int64_t)(HDR->if_ofs[0] + IF(0)->ring_ofs[0]) -
				  (int64_t)HDR->if_ofs[1];
	BAD("two ports share a ring", "overlaps");
	HDR->if_ofs[1] = HDR->if_ofs[0];    BAD("two ports share a descriptor", "overlaps");
	HDR->csb_ofs = HDR->if_ofs[0] + IF(0)->ring_ofs[2];
	BAD("CSB on a ring", "overlaps");
	/* ring 0 of port 0 moved up by 64 bytes: its slots reach ring 1 */
	memmove((char *)RING(0, 0) + 64, RING(0, 0), 256);
	W64(IF(0)->ring_ofs[0]) = r0 + 64;
	W64(RING(0, 0)->buf_ofs) -= 64;
	BAD("ring shifted into the next", "overlaps");

	/* smaller than a header */
	T_ASSERT_EQ(unm_region_validate(img, 100, err, sizeof(err)), -EBADMSG);
	T_ASSERT(!strcmp(err, "region of 100 bytes is smaller than its header"));
	T_ASSERT_EQ(unm_region_validate(img, ref.size, err, sizeof(err)), 0);
	free(img);
}

/* ---- mapping and seals ------------------------------------------------- */

/* A new memfd holding the first LEN bytes of the reference region. */
static int copy_fd(size_t len, bool seal)
{
	int fd = memfd_create("unm-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	T_ASSERT(fd >= 0);
	T_ASSERT_EQ(ftruncate(fd, (off_t)len), 0);
	T_ASSERT_EQ(pwrite(fd, ref.base, len, 0), (ssize_t)len);
	if (seal)
		T_ASSERT_EQ(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
	return fd;
}

static void test_map(void)
{
	struct unm_region m;
	char err[256];
	int fd, seals;

	/* the creator's memfd: sealed, cannot shrink, grow or be unsealed */
	seals = fcntl(ref.fd, F_GET_SEALS);
	T_ASSERT(seals >= 0);
	T_ASSERT((seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) ==
		 (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL));
	T_ASSERT(ftruncate(ref.fd, (off_t)ref.size - 4096) < 0 && errno == EPERM);
	T_ASSERT(ftruncate(ref.fd, (off_t)ref.size + 4096) < 0 && errno == EPERM);
	T_ASSERT(fcntl(ref.fd, F_ADD_SEALS, F_SEAL_WRITE) < 0 && errno == EPERM);

	/* a second process maps it: same region, trusted copies taken */
	fd = dup(ref.fd);
	T_ASSERT(fd >= 0);
	T_ASSERT_EQ(unm_region_map(fd, &m, err, sizeof(err)), 0);
	T_ASSERT_EQ(m.size, ref.size);
	T_ASSERT(!memcmp(m.base, ref.base, 4096));
	T_ASSERT_EQ(m.buf_count, ref.buf_count);
	T_ASSERT_EQ(m.pool_ofs, ref.pool_ofs);
	T_ASSERT_EQ(m.if_ofs[1], ref.if_ofs[1]);
	/* writes through one mapping are seen by the other */
	unm_txring(unm_region_if(&m, 0), 0)->head = 5;
	T_ASSERT_EQ(unm_txring(unm_region_if(&ref, 0), 0)->head, 5);
	unm_txring(unm_region_if(&m, 0), 0)->head = 0;
	/* a peer growing buf_count after mapping does not move our bound */
	unm_region_hdr(&m)->buf_count += 1000;
	T_ASSERT_EQ(m.buf_count, ref.buf_count);
	unm_region_hdr(&m)->buf_count -= 1000;
	unm_region_unmap(&m);
	T_ASSERT_EQ(m.fd, -1);

	/* truncated by a page (sealed): the header's size does not match */
	fd = copy_fd(ref.size - 4096, true);
	T_ASSERT_EQ(unm_region_map(fd, &m, err, sizeof(err)), -EBADMSG);
	T_ASSERT(strstr(err, "header says"));
	close(fd);
	/* truncated inside the header */
	fd = copy_fd(100, true);
	T_ASSERT_EQ(unm_region_map(fd, &m, err, sizeof(err)), -EBADMSG);
	T_ASSERT(!strcmp(err, "region file of 100 bytes"));
	close(fd);
	/* complete but not sealed: it could shrink under us */
	fd = copy_fd(ref.size, false);
	T_ASSERT_EQ(unm_region_map(fd, &m, err, sizeof(err)), -EBADMSG);
	T_ASSERT(!strcmp(err, "region memfd is not sealed against shrinking"));
	T_ASSERT_EQ(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	T_ASSERT_EQ(unm_region_map(fd, &m, err, sizeof(err)), 0);
	unm_region_unmap(&m);
}

/* ---- free list ---------------------------------------------------------- */

static void test_free_list(void)
{
	struct unm_region_layout l = lay(1, 1, 1, 64, 64, 66); /* unaligned buffers */
	struct unm_region reg;
	uint32_t head, got[8], idx;
	char err[256];

	l.extra_bufs = 8;
	T_ASSERT_EQ(unm_region_create(&l, &reg, err, sizeof(err)), 0);
	head = unm_region_if(&reg, 0)->ni_bufs_head;
	for (int i = 0; i < 8; i++) {
		got[i] = unm_buf_pop(&reg, &head);
		T_ASSERT(got[i] >= 2 + 128 && got[i] < reg.buf_count); /* not a ring's */
		for (int j = 0; j < i; j++)
			T_ASSERT(got[j] != got[i]);
	}
	T_ASSERT_EQ(head, 0);
	T_ASSERT_EQ(unm_buf_pop(&reg, &head), 0);
	for (int i = 0; i < 8; i++)
		unm_buf_push(&reg, &head, got[i]);
	for (int i = 7; i >= 0; i--)
		T_ASSERT_EQ(unm_buf_pop(&reg, &head), got[i]); /* LIFO */
	/* invalid indexes are ignored by push */
	head = got[0];
	unm_buf_push(&reg, &head, 0);
	unm_buf_push(&reg, &head, 1);
	unm_buf_push(&reg, &head, reg.buf_count);
	unm_buf_push(&reg, &head, UINT32_MAX);
	T_ASSERT_EQ(head, got[0]);
	/* a corrupt head (or link) ends the list */
	head = reg.buf_count;
	T_ASSERT_EQ(unm_buf_pop(&reg, &head), 0);
	head = 1;
	T_ASSERT_EQ(unm_buf_pop(&reg, &head), 0);
	idx = got[3];
	memset(reg.base + 0 + reg.pool_ofs + (uint64_t)idx * reg.buf_size, 0xff, 4);
	head = idx;
	T_ASSERT_EQ(unm_buf_pop(&reg, &head), idx);
	T_ASSERT_EQ(head, UINT32_MAX);
	T_ASSERT_EQ(unm_buf_pop(&reg, &head), 0);
	unm_region_unmap(&reg);
}

/* ---- fuzz seed corpus ------------------------------------------------------ */

static const struct { const char *name; struct unm_region_layout l; } seeds[] = {
	{ "seed-self-1x1", { .kind = UNM_REGION_SELF, .n_ifs = 1, .buf_size = 64,
	  .ifs = { { "p", 1, 1, 64, 64 } } } },
	{ "seed-pipe-2x2-csb", { .kind = UNM_REGION_PIPE, .n_ifs = 2, .buf_size = 128,
	  .csb_entries = 8, .ifs = { { "m", 2, 2, 100, 100 }, { "s", 2, 2, 100, 100 } } } },
	{ "seed-port-odd", { .kind = UNM_REGION_PORT, .n_ifs = 1, .buf_size = 66,
	  .csb_entries = 7, .extra_bufs = 3, .vnet_hdr_len = 12,
	  .ifs = { { "odd", 4, 3, 65, 200 } } } },
	{ "seed-16x16", { .kind = UNM_REGION_SELF, .n_ifs = 1, .buf_size = 64,
	  .ifs = { { "wide", 16, 16, 64, 64 } } } },
	{ "seed-pipe-extra", { .kind = UNM_REGION_PIPE, .n_ifs = 2, .buf_size = 256,
	  .extra_bufs = 10, .ifs = { { "a", 1, 1, 300, 64 }, { "b", 1, 1, 64, 300 } } } },
};

static int dump_corpus(const char *dir)
{
	for (unsigned i = 0; i < ARRAY_SIZE(seeds); i++) {
		struct unm_region reg;
		char err[256], path[512];
		size_t len;
		FILE *f;

		if (unm_region_create(&seeds[i].l, &reg, err, sizeof(err))) {
			fprintf(stderr, "%s: %s\n", seeds[i].name, err);
			return 1;
		}
		/* the control area, cut after its last non-zero byte */
		len = reg.pool_ofs;
		while (len > sizeof(struct unm_region_hdr) && !((char *)reg.base)[len - 1])
			len--;
		snprintf(path, sizeof(path), "%s/%s", dir, seeds[i].name);
		f = fopen(path, "wb");
		if (!f || fwrite(reg.base, 1, len, f) != len || fclose(f)) {
			perror(path);
			return 1;
		}
		printf("%s: %zu of %zu bytes\n", path, len, reg.size);
		unm_region_unmap(&reg);
	}
	return 0;
}

/* Each committed seed, zero-filled to its header's size, must validate. */
static void check_corpus(void)
{
	DIR *d = opendir(CORPUS);
	struct dirent *e;
	int n = 0;

	if (!d) {
		printf("note: %s not found, seeds not checked\n", CORPUS);
		return;
	}
	while ((e = readdir(d))) {
		char path[512], err[256];
		struct unm_region_hdr h;
		void *buf;
		FILE *f;
		size_t len;

		if (strncmp(e->d_name, "seed-", 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s", CORPUS, e->d_name);
		f = fopen(path, "rb");
		T_ASSERT(f);
		T_ASSERT_EQ(fread(&h, 1, sizeof(h), f), sizeof(h));
		T_ASSERT(h.size <= (1u << 20));
		T_ASSERT_EQ(posix_memalign(&buf, 4096, h.size), 0);
		memset(buf, 0, h.size);
		rewind(f);
		len = fread(buf, 1, h.size, f);
		fclose(f);
		if (unm_region_validate(buf, h.size, err, sizeof(err)))
			T_FAIL("%s (%zu bytes): %s", path, len, err);
		free(buf);
		n++;
	}
	closedir(d);
	T_ASSERT(n >= (int)ARRAY_SIZE(seeds));
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--dump-corpus"))
		return dump_corpus(argv[2]);
	t_watchdog(60);
	test_geometry();
	test_corruption();
	test_map();
	test_free_list();
	check_corpus();
	unm_region_unmap(&ref);
	printf("ok\n");
	return T_EXIT_PASS;
}
