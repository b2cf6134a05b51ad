// SPDX-License-Identifier: BSD-2-Clause
/*
 * tap_uring.c - the io_uring engine of the tap backend's TX path (see
 * tap_uring.h; tap.c's header comment says when it is used and why).
 * Barrier tags [TU2] [TU3] pair with the kernel's [K6] [K7]
 * (docs/ordering.md); [TU1] is in tap.c's tap_uring_fill.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "tap_uring.h"
#include "unm/ring.h"

void tap_uring_free(struct tap_uring *u)
{
	if (!u)
		return;
	if (u->sqes && u->sqes != MAP_FAILED)
		munmap(u->sqes, u->sqe_len);
	if (u->cq_map && u->cq_map != MAP_FAILED)
		munmap(u->cq_map, u->cq_len);
	if (u->sq_map && u->sq_map != MAP_FAILED)
		munmap(u->sq_map, u->sq_len);
	if (u->fd >= 0)
		close(u->fd);
	free(u);
}

struct tap_uring *tap_uring_new(void)
{
	struct io_uring_params prm;
	struct tap_uring *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	memset(&prm, 0, sizeof(prm));
	u->fd = (int)syscall(__NR_io_uring_setup, TAP_URING_BATCH, &prm);
	if (u->fd < 0) {
		free(u);
		return NULL;
	}
	fcntl(u->fd, F_SETFD, FD_CLOEXEC);
	u->sq_len = prm.sq_off.array + prm.sq_entries * sizeof(unsigned);
	u->cq_len = prm.cq_off.cqes + prm.cq_entries * sizeof(struct io_uring_cqe);
	u->sqe_len = prm.sq_entries * sizeof(struct io_uring_sqe);
	u->sq_map = mmap(NULL, u->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			 u->fd, IORING_OFF_SQ_RING);
	u->cq_map = mmap(NULL, u->cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			 u->fd, IORING_OFF_CQ_RING);
	u->sqes = mmap(NULL, u->sqe_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		       u->fd, IORING_OFF_SQES);
	if (u->sq_map == MAP_FAILED || u->cq_map == MAP_FAILED || u->sqes == MAP_FAILED ||
	    prm.sq_entries < TAP_URING_BATCH || prm.cq_entries < TAP_URING_BATCH) {
		tap_uring_free(u);
		return NULL;
	}
	u->sq_tail = (unsigned *)((char *)u->sq_map + prm.sq_off.tail);
	u->sq_mask = (unsigned *)((char *)u->sq_map + prm.sq_off.ring_mask);
	u->sq_array = (unsigned *)((char *)u->sq_map + prm.sq_off.array);
	u->cq_head = (unsigned *)((char *)u->cq_map + prm.cq_off.head);
	u->cq_tail = (unsigned *)((char *)u->cq_map + prm.cq_off.tail);
	u->cq_mask = (unsigned *)((char *)u->cq_map + prm.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)((char *)u->cq_map + prm.cq_off.cqes);
	return u;
}

int tap_uring_run(struct tap_uring *u, unsigned n)
{
	unsigned submitted = 0, got = 0;

	while (got < n) {
		long r = syscall(__NR_io_uring_enter, u->fd, n - submitted, n - got,
				 IORING_ENTER_GETEVENTS, NULL, 0);
		unsigned head = *u->cq_head;

		if (r < 0 && errno != EINTR && errno != EAGAIN && errno != EBUSY)
			return -errno;
		if (r > 0)
			submitted += (unsigned)r;
		/* [TU2] acquire: CQEs up to tail are written; pairs with the
		 * kernel's release of cq.tail in io_commit_cqring [K6]. */
		for (unsigned t = unm_load_acquire(u->cq_tail); head != t; head++) {
			const struct io_uring_cqe *c = &u->cqes[head & *u->cq_mask];

			if (c->user_data < TAP_URING_BATCH)
				u->res[c->user_data] = c->res;
			got++;
		}
		/* [TU3] release: CQEs consumed; pairs with the kernel's read of
		 * cq.head before it reuses those entries [K7]. */
		unm_store_release(u->cq_head, head);
	}
	return 0;
}
