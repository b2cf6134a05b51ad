// SPDX-License-Identifier: BSD-2-Clause
/*
 * bufpool.c - shared buffer pools for the ports one process drives itself
 * (unmd's attached backends): every port drawing from the pool named K
 * has its ring buffers in one memory area, so a buffer index means the
 * same buffer in each of them and a frame can move from one port's RX
 * ring to another's TX ring by swapping buffer indexes (NS_BUF_CHANGED),
 * as a pipe does, instead of being copied. unmd names a pool after the
 * switch (ATTACH), so the attached ports of one switch share one pool.
 *
 * Why this is safe: only ports of types whose every buffer is in a ring
 * slot and whose syncs read each slot's buf_idx afresh (UNM_TYPE_SWAP)
 * join a pool, and only through unm_port_create_self (a region private to
 * this process: no other process maps the rings or the pool). The pool
 * is anonymous memory of this process: nothing here is shared memory, so
 * nothing here is untrusted.
 *
 * Conservation: unm_bufpool_take hands out distinct buffers (each marked
 * held in a bitmap), the port's rings keep each in exactly one slot (a
 * swap exchanges two slots' buffers), and port teardown gives back what
 * its slots hold then (unm_bufpool_give refuses an index not marked held,
 * so a bug can leak a buffer but never hand one out twice).
 *
 * Size: a pool reserves UNM_BUFPOOL_BYTES of address space (no memory
 * is committed until a buffer is first written), enough for dozens of
 * ports of the default geometry; a port that does not fit any more keeps
 * its own buffers (and is copied to and from, as before).
 *
 * Threads: the registry and each pool's free list have a mutex (ports
 * open on unmd's attach workers and close on its control thread); the
 * buffers themselves follow the rings' rules.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "internal.h"

#define UNM_BUFPOOL_BYTES (2ull << 30)

struct unm_bufpool {
	struct unm_bufpool *next;   /* registry */
	char key[UNM_NAME_MAX];
	uint32_t buf_size;
	unsigned refs;              /* ports holding it (registry lock) */
	pthread_mutex_t lock;       /* free list, bump, held */
	char *base;                 /* buffer i at base + i * buf_size */
	size_t size;
	uint32_t buf_count;         /* indexes [2, buf_count) */
	uint32_t bump;              /* never handed out: [bump, buf_count) */
	uint32_t n_free;            /* entries in free[] */
	uint32_t *free;             /* returned buffers (LIFO) */
	uint8_t *held;              /* bit per buffer: handed out */
	uint64_t in_use;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct unm_bufpool *pools;

static void *reserve(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void pool_destroy(struct unm_bufpool *bp)
{
	uint64_t n = bp->buf_count;

	if (bp->base)
		munmap(bp->base, bp->size);
	if (bp->free)
		munmap(bp->free, n * sizeof(uint32_t));
	if (bp->held)
		munmap(bp->held, (n + 7) / 8);
	pthread_mutex_destroy(&bp->lock);
	free(bp);
}

static struct unm_bufpool *pool_new(const char *key, uint32_t buf_size)
{
	struct unm_bufpool *bp = calloc(1, sizeof(*bp));
	uint64_t n = UNM_BUFPOOL_BYTES / buf_size;

	if (!bp)
		return NULL;
	if (n > UINT32_MAX)
		n = UINT32_MAX;
	snprintf(bp->key, sizeof(bp->key), "%s", key);
	bp->buf_size = buf_size;
	bp->buf_count = (uint32_t)n;
	bp->bump = 2;
	bp->size = (size_t)n * buf_size;
	pthread_mutex_init(&bp->lock, NULL);
	bp->base = reserve(bp->size);
	bp->free = reserve(n * sizeof(uint32_t));
	bp->held = reserve((n + 7) / 8);
	if (!bp->base || !bp->free || !bp->held) {
		pool_destroy(bp);
		return NULL;
	}
	return bp;
}

struct unm_bufpool *unm_bufpool_get(const char *key, uint32_t buf_size)
{
	struct unm_bufpool *bp;

	if (!key || !key[0] || buf_size < UNM_MIN_BUF_SIZE || buf_size > UNM_MAX_BUF_SIZE)
		return NULL;
	pthread_mutex_lock(&reg_lock);
	for (bp = pools; bp; bp = bp->next)
		if (bp->buf_size == buf_size && !strcmp(bp->key, key))
			break;
	if (!bp && (bp = pool_new(key, buf_size))) {
		bp->next = pools;
		pools = bp;
	}
	if (bp)
		bp->refs++;
	pthread_mutex_unlock(&reg_lock);
	return bp;
}

void unm_bufpool_put(struct unm_bufpool *bp)
{
	struct unm_bufpool **pp;

	if (!bp)
		return;
	pthread_mutex_lock(&reg_lock);
	if (--bp->refs == 0) {
		for (pp = &pools; *pp && *pp != bp; pp = &(*pp)->next)
			;
		if (*pp)
			*pp = bp->next;
	} else {
		bp = NULL;
	}
	pthread_mutex_unlock(&reg_lock);
	if (bp)
		pool_destroy(bp); /* every port gave its buffers back */
}

static inline bool held(const struct unm_bufpool *bp, uint32_t i)
{
	return bp->held[i / 8] & (1u << (i % 8));
}

int unm_bufpool_take(struct unm_bufpool *bp, uint32_t *idx, uint32_t n)
{
	int rc = 0;

	pthread_mutex_lock(&bp->lock);
	if ((uint64_t)bp->n_free + (bp->buf_count - bp->bump) < n) {
		rc = -ENOSPC;
	} else {
		for (uint32_t k = 0; k < n; k++) {
			uint32_t i = bp->n_free ? bp->free[--bp->n_free] : bp->bump++;

			bp->held[i / 8] |= (uint8_t)(1u << (i % 8));
			idx[k] = i;
		}
		bp->in_use += n;
	}
	pthread_mutex_unlock(&bp->lock);
	return rc;
}

unsigned unm_bufpool_give(struct unm_bufpool *bp, const uint32_t *idx, uint32_t n)
{
	unsigned bad = 0;

	pthread_mutex_lock(&bp->lock);
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = idx[k];

		if (i < 2 || i >= bp->bump || !held(bp, i)) {
			bad++; /* not ours, or given back twice: never hand it out again */
			continue;
		}
		bp->held[i / 8] &= (uint8_t)~(1u << (i % 8));
		bp->free[bp->n_free++] = i;
		bp->in_use--;
	}
	pthread_mutex_unlock(&bp->lock);
	return bad;
}

char *unm_bufpool_base(const struct unm_bufpool *bp)
{
	return bp->base;
}

uint32_t unm_bufpool_count(const struct unm_bufpool *bp)
{
	return bp->buf_count;
}

uint64_t unm_bufpool_in_use(struct unm_bufpool *bp)
{
	uint64_t n;

	pthread_mutex_lock(&bp->lock);
	n = bp->in_use;
	pthread_mutex_unlock(&bp->lock);
	return n;
}
