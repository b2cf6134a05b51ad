// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: shared buffer pools (lib/bufpool.c), as unmd uses them for
 * the attached ports of one switch. Two null ports opened with one pool
 * name get distinct buffers from one memory area (an index addresses the
 * same bytes through either port's ring), a slot swapped from one port's
 * ring into the other's keeps its data, and closing both gives every
 * buffer back (in use 0 after the swaps). A pool refuses an index it did
 * not hand out and one given back twice. A port with extra buffers, a
 * pool of another name and a port type without UNM_TYPE_SWAP (pipe end)
 * keep their own buffers; a pool too small for a port leaves it its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unm-internal.h"
#include "../lib/test.h"

static struct unm_port *open_pooled(const char *name, const char *pool)
{
	struct unm_port *p = NULL;
	struct unm_spec s;
	char err[256];

	T_ASSERT_EQ(unm_parse_name(name, &s, err, sizeof(err)), 0);
	snprintf(s.pool, sizeof(s.pool), "%s", pool);
	T_ASSERT_EQ(unm_open_spec(name, &s, -1, &p, NULL), 0);
	return p;
}

static unsigned slots_of(const struct unm_port *p)
{
	unsigned n = 0;

	for (unsigned i = 0; i < p->n_tx; i++)
		n += p->tx[i].nslots;
	for (unsigned i = 0; i < p->n_rx; i++)
		n += p->rx[i].nslots;
	return n;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Every slot of A and B holds a distinct valid buffer of the pool. */
static void check_distinct(const struct unm_port *a, const struct unm_port *b)
{
	unsigned n = slots_of(a) + slots_of(b), k = 0;
	uint32_t *v = malloc(n * sizeof(*v));
	const struct unm_port *ps[2] = { a, b };

	T_ASSERT(v != NULL);
	for (unsigned q = 0; q < 2; q++)
		for (unsigned i = 0; i < ps[q]->n_tx + ps[q]->n_rx; i++) {
			const struct unm_kring *kr = i < ps[q]->n_tx ? &ps[q]->tx[i]
								    : &ps[q]->rx[i - ps[q]->n_tx];

			for (uint32_t s = 0; s < kr->nslots; s++) {
				v[k] = kr->ring->slot[s].buf_idx;
				T_ASSERT(unm_buf_ok(ps[q], v[k]));
				k++;
			}
		}
	qsort(v, n, sizeof(*v), cmp_u32);
	for (unsigned i = 1; i < n; i++)
		T_ASSERT(v[i] != v[i - 1]);
	free(v);
}

int main(void)
{
	struct unm_port *a, *b, *c, *d, *e;
	struct unm_bufpool *bp;
	struct unm_kring *ta, *rb;
	uint32_t x, y, idx[4];

	t_watchdog(30);
	/* a reference of our own keeps the pool alive to look at it */
	bp = unm_bufpool_get("sw-test", 2048);
	T_ASSERT(bp != NULL);
	T_ASSERT_EQ(unm_bufpool_in_use(bp), 0);
	a = open_pooled("null@conf:rings=2,slots=64", "sw-test");
	b = open_pooled("null@conf:slots=128", "sw-test");
	T_ASSERT(a->pool == bp && b->pool == bp);
	T_ASSERT_EQ(unm_bufpool_in_use(bp), slots_of(a) + slots_of(b));
	T_ASSERT_EQ(a->reg.buf_count, unm_bufpool_count(bp));
	check_distinct(a, b);

	/* one index, one buffer: written through A's TX ring, read through B's */
	ta = &a->tx[1];
	rb = &b->rx[0];
	x = ta->ring->slot[3].buf_idx;
	y = rb->ring->slot[5].buf_idx;
	T_ASSERT(kr_buf(ta, x) == kr_buf(rb, x));
	memset(kr_buf(ta, x), 0x5a, 2048);
	/* the swap the switch does: exchange the two slots' buffers */
	ta->ring->slot[3].buf_idx = y;
	rb->ring->slot[5].buf_idx = x;
	for (unsigned i = 0; i < 2048; i++)
		T_ASSERT_EQ((unsigned char)kr_buf(rb, rb->ring->slot[5].buf_idx)[i], 0x5a);
	check_distinct(a, b);

	/* not pooled: extra buffers, another type, another pool name */
	c = open_pooled("null@conf:extra-bufs=4", "sw-test");
	T_ASSERT(c->pool == NULL);
	d = open_pooled("null", "other");
	T_ASSERT(d->pool != NULL && d->pool != bp);
	T_ASSERT(!(unm_port_type(UNM_KIND_PIPE)->caps & UNM_TYPE_SWAP));
	T_ASSERT(!(unm_port_type(UNM_KIND_AFXDP)->caps & UNM_TYPE_SWAP));
	T_ASSERT(!(unm_port_type(UNM_KIND_DPDK)->caps & UNM_TYPE_SWAP));
	T_ASSERT(unm_port_type(UNM_KIND_TAP)->caps & UNM_TYPE_SWAP);
	unm_close(c);
	unm_close(d);

	/* every buffer comes back, whichever port's slot holds it at close */
	unm_close(a);
	T_ASSERT_EQ(unm_bufpool_in_use(bp), slots_of(b));
	unm_close(b);
	T_ASSERT_EQ(unm_bufpool_in_use(bp), 0);

	/* refused: never handed out, given twice, out of range */
	T_ASSERT_EQ(unm_bufpool_take(bp, idx, 2), 0);
	T_ASSERT_EQ(unm_bufpool_give(bp, idx, 1), 0);
	T_ASSERT_EQ(unm_bufpool_give(bp, idx, 1), 1);
	idx[2] = 1;
	idx[3] = unm_bufpool_count(bp);
	T_ASSERT_EQ(unm_bufpool_give(bp, idx + 1, 3), 2);
	T_ASSERT_EQ(unm_bufpool_in_use(bp), 0);
	T_ASSERT_EQ(unm_bufpool_take(bp, idx, unm_bufpool_count(bp)), -ENOSPC);

	/* a pool of 64 KiB buffers cannot hold ports of 4096 x 2 slots
	 * beyond its size: the one that does not fit keeps its own */
	e = open_pooled("null@conf:slots=4096,bufsize=65536", "big");
	T_ASSERT(e->pool != NULL);
	{
		struct unm_port *f[8];
		unsigned own = 0;

		for (unsigned i = 0; i < 8; i++) {
			f[i] = open_pooled("null@conf:slots=4096,bufsize=65536", "big");
			own += f[i]->pool == NULL;
		}
		T_ASSERT(own > 0);
		for (unsigned i = 0; i < 8; i++)
			unm_close(f[i]);
	}
	unm_close(e);
	unm_bufpool_put(bp);
	printf("PASS\n");
	return 0;
}
