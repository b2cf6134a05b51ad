// SPDX-License-Identifier: BSD-2-Clause
/*
 * region.c - shared-memory regions: layout, creation on a memfd, mapping
 * and validation, and the buffer free list.
 *
 * A region is built once by its creator (a pipe's first end, unmd, an
 * embedded backend) and never resized. Whoever maps a region built by
 * another process runs unm_region_validate() before touching anything
 * else, so a corrupt or hostile header is refused instead of followed.
 * No locks: a region is immutable in shape after creation; the moving
 * parts (ring indexes, slots, CSB) follow the ring protocols.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"

#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((uint64_t)(a) - 1))
#define PAGE 4096u

struct layout_pos {
	uint64_t if_ofs[UNM_REGION_MAX_IFS];
	uint64_t ring_ofs[UNM_REGION_MAX_IFS][2 * UNM_MAX_RINGS]; /* absolute */
	uint64_t csb_ofs;
	uint64_t pool_ofs;
	uint32_t buf_count;
	uint64_t size;
};

static int check_layout(const struct unm_region_layout *l, char *err, size_t errlen)
{
	if (l->n_ifs < 1 || l->n_ifs > UNM_REGION_MAX_IFS)
		return snprintf(err, errlen, "%u port descriptors (1..%u)", l->n_ifs,
				UNM_REGION_MAX_IFS), -EINVAL;
	if (l->buf_size < UNM_MIN_BUF_SIZE || l->buf_size > UNM_MAX_BUF_SIZE)
		return snprintf(err, errlen, "buffer size %u out of range %u..%u", l->buf_size,
				UNM_MIN_BUF_SIZE, UNM_MAX_BUF_SIZE), -EINVAL;
	if (l->extra_bufs > 65536)
		return snprintf(err, errlen, "%u extra buffers (max 65536)", l->extra_bufs), -EINVAL;
	if (l->csb_entries > 4 * UNM_MAX_RINGS * UNM_REGION_MAX_IFS)
		return snprintf(err, errlen, "%u CSB entries", l->csb_entries), -EINVAL;
	if (l->vnet_hdr_len != 0 && l->vnet_hdr_len != 10 && l->vnet_hdr_len != 12)
		return snprintf(err, errlen, "virtio-net header length %u (0, 10 or 12)",
				l->vnet_hdr_len), -EINVAL;
	for (unsigned i = 0; i < l->n_ifs; i++) {
		const struct unm_if_layout *f = &l->ifs[i];

		if (f->tx_rings < 1 || f->tx_rings > UNM_MAX_RINGS ||
		    f->rx_rings < 1 || f->rx_rings > UNM_MAX_RINGS)
			return snprintf(err, errlen, "%u/%u rings (1..%u per direction)",
					f->tx_rings, f->rx_rings, UNM_MAX_RINGS), -EINVAL;
		if (f->tx_slots < UNM_MIN_SLOTS || f->tx_slots > UNM_MAX_SLOTS ||
		    f->rx_slots < UNM_MIN_SLOTS || f->rx_slots > UNM_MAX_SLOTS)
			return snprintf(err, errlen, "%u/%u slots per ring (%u..%u)",
					f->tx_slots, f->rx_slots, UNM_MIN_SLOTS,
					UNM_MAX_SLOTS), -EINVAL;
	}
	return 0;
}

static size_t ring_bytes(unsigned slots)
{
	return ALIGN_UP(sizeof(struct unm_ring) + (size_t)slots * sizeof(struct unm_slot),
			UNM_CACHELINE);
}

/* Place everything; the layout has been checked. */
static void place(const struct unm_region_layout *l, struct layout_pos *pos)
{
	uint64_t off = sizeof(struct unm_region_hdr);
	uint64_t nbufs = 2;

	for (unsigned i = 0; i < l->n_ifs; i++) {
		const struct unm_if_layout *f = &l->ifs[i];

		pos->if_ofs[i] = off;
		off = ALIGN_UP(off + sizeof(struct unm_if) +
			       8 * (f->tx_rings + f->rx_rings), UNM_CACHELINE);
	}
	for (unsigned i = 0; i < l->n_ifs; i++) {
		const struct unm_if_layout *f = &l->ifs[i];

		for (unsigned r = 0; r < f->tx_rings + f->rx_rings; r++) {
			unsigned slots = r < f->tx_rings ? f->tx_slots : f->rx_slots;

			pos->ring_ofs[i][r] = off;
			off += ring_bytes(slots);
			nbufs += slots;
		}
		nbufs += l->extra_bufs;
	}
	pos->csb_ofs = l->csb_entries ? off : 0;
	off += (uint64_t)l->csb_entries * 64;
	pos->pool_ofs = ALIGN_UP(off, PAGE);
	pos->buf_count = (uint32_t)nbufs;
	pos->size = ALIGN_UP(pos->pool_ofs + nbufs * l->buf_size, PAGE);
	if (l->pow2) {
		uint64_t p2 = PAGE;

		while (p2 < pos->size)
			p2 <<= 1;
		pos->size = p2;
	}
}

void unm_region_layout_init(struct unm_region_layout *l, unsigned kind, const char *name,
			    const struct unm_open_opts *o)
{
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	l->n_ifs = 1;
	if (name)
		snprintf(l->ifs[0].name, sizeof(l->ifs[0].name), "%.*s",
			 (int)sizeof(l->ifs[0].name) - 1, name);
	l->ifs[0].tx_rings = o->tx_rings;
	l->ifs[0].rx_rings = o->rx_rings;
	l->ifs[0].tx_slots = o->tx_slots;
	l->ifs[0].rx_slots = o->rx_slots;
	l->buf_size = o->buf_size;
	l->extra_bufs = o->extra_bufs;
	l->vnet_hdr_len = o->vnet_hdr_len;
}

size_t unm_region_size(const struct unm_region_layout *l)
{
	struct layout_pos pos;
	char err[8];

	if (check_layout(l, err, sizeof(err)))
		return 0;
	place(l, &pos);
	return pos.size;
}

/* Take the trusted copies of a header that has been validated (or that
 * this process just wrote). */
static void snap_header(struct unm_region *reg, const struct unm_region_hdr *h)
{
	for (unsigned i = 0; i < UNM_REGION_MAX_IFS; i++)
		reg->if_ofs[i] = i < h->n_ifs ? h->if_ofs[i] : 0;
	reg->n_ifs = h->n_ifs;
	reg->csb_ofs = h->csb_ofs;
	reg->csb_entries = h->csb_entries;
	reg->pool_ofs = h->buf_pool_ofs;
	reg->buf_count = h->buf_count;
	reg->buf_size = h->buf_size;
}

/* Initialise one ring in a zeroed region; hands out buffers from *next. */
static void init_ring(char *base, uint64_t ofs, uint64_t pool_ofs, unsigned slots,
		      unsigned buf_size, uint16_t id, uint16_t dir, uint32_t *next)
{
	struct unm_ring *r = (struct unm_ring *)(base + ofs);

	/* The const fields are written exactly here, once. */
	*(int64_t *)&r->buf_ofs = (int64_t)pool_ofs - (int64_t)ofs;
	*(uint32_t *)&r->num_slots = slots;
	*(uint32_t *)&r->nr_buf_size = buf_size;
	*(uint16_t *)&r->ringid = id;
	*(uint16_t *)&r->dir = dir;
	r->head = r->cur = 0;
	r->tail = dir == 0 ? slots - 1 : 0;
	for (unsigned s = 0; s < slots; s++) {
		r->slot[s].buf_idx = (*next)++;
		r->slot[s].len = 0;
		r->slot[s].flags = 0;
	}
}

int unm_region_create(const struct unm_region_layout *l, struct unm_region *reg,
		      char *err, size_t errlen)
{
	struct layout_pos pos;
	struct unm_region_hdr *h;
	uint32_t next = 2;
	char *base;
	int fd, rc;

	rc = check_layout(l, err, errlen);
	if (rc)
		return rc;
	memset(&pos, 0, sizeof(pos));
	place(l, &pos);

	fd = memfd_create("unetmap", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return snprintf(err, errlen, "memfd_create: %s", strerror(errno)), -errno;
	if (ftruncate(fd, (off_t)pos.size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		rc = -errno;
		snprintf(err, errlen, "sizing region of %llu bytes: %s",
			 (unsigned long long)pos.size, strerror(errno));
		close(fd);
		return rc;
	}
	base = mmap(NULL, pos.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "mmap of %llu bytes: %s",
			 (unsigned long long)pos.size, strerror(errno));
		close(fd);
		return rc;
	}

	h = (struct unm_region_hdr *)base;
	h->magic = UNM_REGION_MAGIC;
	h->version = UNM_SHM_VERSION;
	h->hdr_size = sizeof(*h);
	h->size = pos.size;
	h->kind = l->kind;
	h->n_ifs = l->n_ifs;
	h->csb_ofs = pos.csb_ofs;
	h->csb_entries = l->csb_entries;
	h->buf_size = l->buf_size;
	h->buf_pool_ofs = pos.pool_ofs;
	h->buf_count = pos.buf_count;
	h->vnet_hdr_len = l->vnet_hdr_len;
	memcpy(h->mac, l->mac, 6);
	h->mtu = (uint16_t)l->mtu;

	for (unsigned i = 0; i < l->n_ifs; i++) {
		const struct unm_if_layout *f = &l->ifs[i];
		struct unm_if *nifp = (struct unm_if *)(base + pos.if_ofs[i]);
		unsigned nr = f->tx_rings + f->rx_rings;

		h->if_ofs[i] = pos.if_ofs[i];
		memcpy(nifp->ni_name, f->name, UNM_IFNAMSIZ);
		nifp->ni_name[UNM_IFNAMSIZ - 1] = '\0';
		*(uint32_t *)&nifp->ni_version = UNM_SHM_VERSION;
		*(uint32_t *)&nifp->ni_flags = UNM_NI_PRIV_MEM;
		*(uint32_t *)&nifp->ni_tx_rings = f->tx_rings;
		*(uint32_t *)&nifp->ni_rx_rings = f->rx_rings;
		for (unsigned r = 0; r < nr; r++) {
			int tx = r < f->tx_rings;

			*(int64_t *)&nifp->ring_ofs[r] = (int64_t)pos.ring_ofs[i][r] -
							 (int64_t)pos.if_ofs[i];
			init_ring(base, pos.ring_ofs[i][r], pos.pool_ofs,
				  tx ? f->tx_slots : f->rx_slots, l->buf_size,
				  (uint16_t)(tx ? r : r - f->tx_rings), tx ? 0 : 1, &next);
		}
	}
	/* Extra buffers after the ring buffers, one chain per unm_if. */
	for (unsigned i = 0; i < l->n_ifs; i++) {
		struct unm_if *nifp = (struct unm_if *)(base + pos.if_ofs[i]);

		nifp->ni_bufs_head = 0;
		for (unsigned e = 0; e < l->extra_bufs; e++) {
			uint32_t idx = next++;

			/* memcpy: buffers are unaligned when buf_size % 4 != 0 */
			memcpy(base + pos.pool_ofs + (uint64_t)idx * l->buf_size,
			       &nifp->ni_bufs_head, sizeof(uint32_t));
			nifp->ni_bufs_head = idx;
		}
	}
	reg->base = base;
	reg->size = pos.size;
	reg->fd = fd;
	snap_header(reg, h);
	return 0;
}

#define BAD(...) (snprintf(err, errlen, __VA_ARGS__), -EBADMSG)

/*
 * Everything below reads a region another process wrote: each value is
 * read once into a local and range-checked before it is used as an offset.
 * Offsets are compared as "ofs <= limit - len" with limit >= len known, so
 * no sum of untrusted values can wrap.
 */

/* One object of the control area, for the overlap check. */
struct span {
	uint64_t start, end;
	const char *what;
	unsigned a, b;
};

#define MAX_SPANS (1 + UNM_REGION_MAX_IFS * (1 + 2 * UNM_MAX_RINGS) + 1)

static int check_header(const struct unm_region_hdr *h, size_t size, char *err,
			size_t errlen)
{
	if (h->magic != UNM_REGION_MAGIC)
		return BAD("bad magic 0x%08x", h->magic);
	if (h->version != UNM_SHM_VERSION)
		return BAD("layout version %u, expected %u", h->version, UNM_SHM_VERSION);
	if (h->hdr_size != sizeof(*h))
		return BAD("header size %u, expected %zu", h->hdr_size, sizeof(*h));
	if (h->size != size)
		return BAD("header says %llu bytes, mapping has %zu",
			   (unsigned long long)h->size, size);
	if (h->n_ifs < 1 || h->n_ifs > UNM_REGION_MAX_IFS)
		return BAD("%u port descriptors", h->n_ifs);
	if (h->buf_size < UNM_MIN_BUF_SIZE || h->buf_size > UNM_MAX_BUF_SIZE)
		return BAD("buffer size %u", h->buf_size);
	if (h->buf_count < 3)
		return BAD("%u buffers", h->buf_count);
	if (h->buf_pool_ofs < sizeof(*h) || h->buf_pool_ofs % 64 || h->buf_pool_ofs > size)
		return BAD("buffer pool offset %llu", (unsigned long long)h->buf_pool_ofs);
	/* count * size < 2^48: no wrap */
	if ((uint64_t)h->buf_count * h->buf_size > size - h->buf_pool_ofs)
		return BAD("buffer pool (%u x %u at %llu) exceeds the region",
			   h->buf_count, h->buf_size, (unsigned long long)h->buf_pool_ofs);
	if (h->csb_entries > 4 * UNM_MAX_RINGS * UNM_REGION_MAX_IFS)
		return BAD("%u CSB entries", h->csb_entries);
	if (!h->csb_entries && h->csb_ofs)
		return BAD("CSB offset %llu with no CSB entries", (unsigned long long)h->csb_ofs);
	if (h->csb_entries && (h->csb_ofs < sizeof(*h) || h->csb_ofs % 64 ||
			       h->csb_ofs > h->buf_pool_ofs ||
			       (uint64_t)h->csb_entries * 64 > h->buf_pool_ofs - h->csb_ofs))
		return BAD("CSB at %llu (%u entries) outside the control area",
			   (unsigned long long)h->csb_ofs, h->csb_entries);
	if (h->vnet_hdr_len != 0 && h->vnet_hdr_len != 10 && h->vnet_hdr_len != 12)
		return BAD("virtio-net header length %u", h->vnet_hdr_len);
	return 0;
}

/* Port descriptor I and its rings; appends their spans. */
static int check_if(const char *base, size_t size, const struct unm_region_hdr *h,
		    unsigned i, struct span *sp, unsigned *nsp, char *err, size_t errlen)
{
	uint64_t pool = h->buf_pool_ofs, ifo = h->if_ofs[i];
	const struct unm_if *nifp;
	uint32_t ntx, nrx;

	if (ifo < sizeof(*h) || ifo % 8 || ifo > pool - sizeof(struct unm_if))
		return BAD("port descriptor %u at %llu", i, (unsigned long long)ifo);
	nifp = (const struct unm_if *)(base + ifo);
	ntx = UNM_READ_ONCE(*(const uint32_t *)&nifp->ni_tx_rings);
	nrx = UNM_READ_ONCE(*(const uint32_t *)&nifp->ni_rx_rings);
	if (ntx < 1 || ntx > UNM_MAX_RINGS || nrx < 1 || nrx > UNM_MAX_RINGS)
		return BAD("port descriptor %u: %u TX / %u RX rings", i, ntx, nrx);
	if (nifp->ni_host_tx_rings || nifp->ni_host_rx_rings)
		return BAD("port descriptor %u: host rings are not supported", i);
	if (8ull * (ntx + nrx) > pool - sizeof(struct unm_if) - ifo)
		return BAD("port descriptor %u: ring table exceeds the control area", i);
	sp[(*nsp)++] = (struct span){ ifo, ifo + sizeof(struct unm_if) + 8ull * (ntx + nrx),
				      "port descriptor", i, 0 };
	for (unsigned r = 0; r < ntx + nrx; r++) {
		int64_t rel = nifp->ring_ofs[r];
		const struct unm_ring *ring;
		uint64_t ro;
		uint32_t ns, bs;

		/* ifo < pool <= size: ro = ifo + rel is in [0, 2 * size] */
		if (rel < -(int64_t)ifo || rel > (int64_t)size)
			return BAD("port %u ring %u at offset %lld outside the control area",
				   i, r, (long long)rel);
		ro = ifo + (uint64_t)rel;
		if (ro < sizeof(*h) || ro % 64 || ro > pool - sizeof(*ring))
			return BAD("port %u ring %u at offset %lld outside the control area",
				   i, r, (long long)rel);
		ring = (const struct unm_ring *)(base + ro);
		ns = ring->num_slots;
		bs = ring->nr_buf_size;
		if (ns < UNM_MIN_SLOTS || ns > UNM_MAX_SLOTS)
			return BAD("port %u ring %u: %u slots", i, r, ns);
		if (bs != h->buf_size)
			return BAD("port %u ring %u: buffer size %u, region has %u",
				   i, r, bs, h->buf_size);
		if (ring->buf_ofs != (int64_t)pool - (int64_t)ro)
			return BAD("port %u ring %u: buffer offset %lld does not reach the pool",
				   i, r, (long long)ring->buf_ofs);
		if (16ull * ns > pool - sizeof(*ring) - ro)
			return BAD("port %u ring %u: %u slots run into the buffer pool",
				   i, r, ns);
		if (ring->dir != (r < ntx ? 0 : 1))
			return BAD("port %u ring %u: direction %u", i, r, ring->dir);
		sp[(*nsp)++] = (struct span){ ro, ro + sizeof(*ring) + 16ull * ns, "ring", i, r };
	}
	return 0;
}

/* No two objects of the control area may share a byte: a ring that
 * overlaps another ring (or a descriptor) would let one side's writes
 * corrupt the other's slots. */
static int check_overlap(const struct span *sp, unsigned n, char *err, size_t errlen)
{
	for (unsigned x = 0; x < n; x++)
		for (unsigned y = x + 1; y < n; y++)
			if (sp[x].start < sp[y].end && sp[y].start < sp[x].end)
				return BAD("%s %u.%u [%llu, %llu) overlaps %s %u.%u [%llu, %llu)",
					   sp[x].what, sp[x].a, sp[x].b,
					   (unsigned long long)sp[x].start,
					   (unsigned long long)sp[x].end,
					   sp[y].what, sp[y].a, sp[y].b,
					   (unsigned long long)sp[y].start,
					   (unsigned long long)sp[y].end);
	return 0;
}

/* Validate the region at BASE; *h is the header snapshot that was checked. */
static int validate(const char *base, size_t size, struct unm_region_hdr *h, char *err,
		    size_t errlen)
{
	struct span sp[MAX_SPANS];
	unsigned nsp = 0;
	int rc;

	if (size < sizeof(*h))
		return BAD("region of %zu bytes is smaller than its header", size);
	memcpy(h, base, sizeof(*h)); /* untrusted: one snapshot */
	if ((rc = check_header(h, size, err, errlen)))
		return rc;
	sp[nsp++] = (struct span){ 0, sizeof(*h), "header", 0, 0 };
	if (h->csb_entries)
		sp[nsp++] = (struct span){ h->csb_ofs, h->csb_ofs + 64ull * h->csb_entries,
					   "CSB", 0, 0 };
	for (unsigned i = 0; i < h->n_ifs; i++)
		if ((rc = check_if(base, size, h, i, sp, &nsp, err, errlen)))
			return rc;
	return check_overlap(sp, nsp, err, errlen);
}

int unm_region_validate(const void *base, size_t size, char *err, size_t errlen)
{
	struct unm_region_hdr h;

	return validate(base, size, &h, err, errlen);
}

int unm_region_map(int fd, struct unm_region *reg, char *err, size_t errlen)
{
	struct unm_region_hdr h;
	struct stat st;
	void *base;
	int rc, seals;

	if (fstat(fd, &st) < 0)
		return snprintf(err, errlen, "fstat: %s", strerror(errno)), -errno;
	if (st.st_size < (off_t)sizeof(struct unm_region_hdr) || st.st_size > (1ll << 40))
		return BAD("region file of %lld bytes", (long long)st.st_size);
	/* An unsealed memfd could be shrunk by its creator after we map it,
	 * and touching the lost pages would kill us with SIGBUS. */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return BAD("region memfd is not sealed against shrinking");
	base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return snprintf(err, errlen, "mmap: %s", strerror(errno)), -errno;
	rc = validate(base, (size_t)st.st_size, &h, err, errlen);
	if (rc) {
		munmap(base, (size_t)st.st_size);
		return rc;
	}
	reg->base = base;
	reg->size = (size_t)st.st_size;
	reg->fd = fd;
	snap_header(reg, &h); /* the values that were validated, not a re-read */
	return 0;
}

int unm_region_attach(void *base, size_t size, struct unm_region *reg, char *err,
		      size_t errlen)
{
	struct unm_region_hdr h;
	int rc = validate(base, size, &h, err, errlen);

	if (rc)
		return rc;
	reg->base = base;
	reg->size = size;
	reg->fd = -1;
	snap_header(reg, &h);
	return 0;
}

void unm_region_unmap(struct unm_region *reg)
{
	if (reg->base)
		munmap(reg->base, reg->size);
	if (reg->fd >= 0)
		close(reg->fd);
	reg->base = NULL;
	reg->size = 0;
	reg->fd = -1;
}

/* Free list: a LIFO of buffers linked through their first 4 bytes. The
 * head word and the links live in shared memory: every index read is
 * checked against the trusted copies. Links are copied with memcpy: a
 * buffer size that is not a multiple of 4 leaves buffers unaligned. */
static char *pool_buf(const struct unm_region *r, uint32_t idx)
{
	return (char *)r->base + r->pool_ofs + (uint64_t)idx * r->buf_size;
}

uint32_t unm_buf_pop(const struct unm_region *r, uint32_t *head)
{
	uint32_t idx = UNM_READ_ONCE(*head); /* untrusted */
	uint32_t next;

	if (idx < 2 || idx >= r->buf_count)
		return 0;
	memcpy(&next, pool_buf(r, idx), sizeof(next));
	*head = next;
	return idx;
}

void unm_buf_push(const struct unm_region *r, uint32_t *head, uint32_t idx)
{
	uint32_t old = UNM_READ_ONCE(*head);

	if (idx < 2 || idx >= r->buf_count)
		return;
	memcpy(pool_buf(r, idx), &old, sizeof(old));
	*head = idx;
}
