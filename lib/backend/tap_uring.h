/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tap_uring.h - the tap backend's TX engine: a raw io_uring (no liburing)
 * that submits a batch of writes to a tun fd with one io_uring_enter and
 * collects every result. tap.c fills the SQEs from its TX ring
 * (tap_uring_fill) and interprets the results; this file owns the ring's
 * setup, teardown and the submit/complete loop. One ring per tap queue,
 * used by that queue's TX sync thread only.
 */
#ifndef UNM_TAP_URING_H
#define UNM_TAP_URING_H

#include <linux/io_uring.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "internal.h"
#include "offload/offload.h"

#define TAP_URING_BATCH 128   /* writes per io_uring_enter */
/* Per frame: its slots plus, with a vnet header, the private header copy. */
#define TAP_FRAME_IOV   (UNM_MAX_FRAGS + 1)
#define TAP_URING_IOV   (2 * TAP_URING_BATCH + TAP_FRAME_IOV)

/* Raw io_uring for TX (no liburing): SQ/CQ rings shared with the kernel. */
struct tap_uring {
	int fd;                  /* -1: io_uring unavailable, write() is used */
	unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	void *sq_map, *cq_map;
	size_t sq_len, cq_len, sqe_len;
	uint32_t start[TAP_URING_BATCH];  /* first slot of each write */
	uint32_t nslots[TAP_URING_BATCH]; /* slots in it */
	uint32_t bytes[TAP_URING_BATCH];
	int32_t res[TAP_URING_BATCH];     /* completion result of each write */
	uint8_t gso[TAP_URING_BATCH];     /* 1: a GSO frame */
	uint8_t hdr[TAP_URING_BATCH][UNM_VNET_HDR_LEN_MRG]; /* validated vnet headers */
	struct iovec iov[TAP_URING_IOV];  /* stable until the batch completes */
};

/* An io_uring of TAP_URING_BATCH entries, or NULL (then write() is used). */
UNM_HIDDEN struct tap_uring *tap_uring_new(void);
/* Unmap and close U (NULL: nothing). */
UNM_HIDDEN void tap_uring_free(struct tap_uring *u);
/* Submit the N queued writes and collect all N results into u->res
 * (indexed by user_data). Returns 0 or -errno of io_uring_enter. */
UNM_HIDDEN int tap_uring_run(struct tap_uring *u, unsigned n);

#endif
