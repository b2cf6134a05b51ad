/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * zmon-common.h - helpers for the zero-copy monitor tests (header only).
 * The parent opens both ends of a pipe (master = owner, slave joins in
 * the same process); a forked child opens the monitor "pipe{ID/z" after
 * the parent says go, so it never inherits an open port.
 */
#ifndef UNM_ZMON_COMMON_H
#define UNM_ZMON_COMMON_H

#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "pipe-common.h"

struct zm_kid { pid_t pid; int go, ready; };

/* Fork a child running FN(arg, ready_fd) once the parent says go. */
static inline struct zm_kid zm_spawn(int (*fn)(void *, int), void *arg)
{
	int go[2], ready[2];
	struct zm_kid k;
	char c;

	T_ASSERT_EQ(pipe(go), 0);
	T_ASSERT_EQ(pipe(ready), 0);
	k.pid = fork();
	T_ASSERT(k.pid >= 0);
	if (k.pid == 0) {
		close(go[1]);
		close(ready[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		_exit(fn(arg, ready[1]));
	}
	close(go[0]);
	close(ready[1]);
	k.go = go[1];
	k.ready = ready[0];
	return k;
}

/* Sync every ring of both ends once (serves the monitor's rendezvous). */
static inline void zm_pump(struct unm_port *a, struct unm_port *b)
{
	unm_txsync(a, UNM_RING_ALL);
	unm_rxsync(a, UNM_RING_ALL);
	unm_txsync(b, UNM_RING_ALL);
	unm_rxsync(b, UNM_RING_ALL);
}

/* Say go, then pump both ends until the child writes one byte (returned). */
static inline char zm_start(struct zm_kid *k, struct unm_port *a, struct unm_port *b)
{
	struct pollfd pfd = { .fd = k->ready, .events = POLLIN };
	double end = t_now() + 5;
	char c = 'g';

	T_ASSERT_EQ(write(k->go, &c, 1), 1);
	while (poll(&pfd, 1, 0) == 0) {
		T_ASSERT(t_now() < end);
		zm_pump(a, b);
		usleep(100);
	}
	T_ASSERT_EQ(read(k->ready, &c, 1), 1);
	return c;
}

static int zm_cmp(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

/* Every slot of both ends' rings names a distinct valid buffer. */
static inline void zm_check_perm(struct unm_port *a, struct unm_port *b)
{
	struct unm_port *ps[2] = { a, b };
	uint32_t nb = pc_nbufs(a), *v, n = 0, cap = 0;

	for (int e = 0; e < 2; e++)
		for (int tx = 0; tx < 2; tx++)
			cap += unm_ring_get(ps[e], tx, 0)->num_slots;
	v = calloc(cap, sizeof(*v));
	T_ASSERT(v);
	for (int e = 0; e < 2; e++)
		for (int tx = 0; tx < 2; tx++) {
			struct unm_ring *r = unm_ring_get(ps[e], tx, 0);

			for (uint32_t i = 0; i < r->num_slots; i++)
				v[n++] = r->slot[i].buf_idx;
		}
	qsort(v, n, sizeof(*v), zm_cmp);
	for (uint32_t i = 0; i < n; i++) {
		if (v[i] < 2 || v[i] >= nb || (i && v[i] == v[i - 1]))
			T_FAIL("buffer %u %s", v[i], v[i] < 2 || v[i] >= nb ? "invalid" : "twice");
	}
	free(v);
}

#endif
