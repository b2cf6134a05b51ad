/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fwd.h - unm-bridge's forwarding engine: move frames from the RX rings
 * of one port to the TX rings of another, by buffer swap when both ports
 * share a region, by copy otherwise. Used by unm-bridge's main loop and,
 * compiled in, by tests/mp/bridge-swap.c. One thread drives both
 * directions; nothing here syncs, sleeps or locks: the caller syncs the
 * source's RX rings before fwd_move() and the destination's TX rings after.
 */
#ifndef UNM_BRIDGE_FWD_H
#define UNM_BRIDGE_FWD_H

#include <stdint.h>
#include <unm.h>

/* What the engine needs of a port, read once after open. */
struct fwd_port {
	struct unm_port *p;
	const char *name;
	uint32_t nbufs, buf_size, vhl;   /* buffers, bytes each, vnet header */
	unsigned first_rx, last_rx, first_tx, last_tx;
};

struct fwd_dir {
	struct fwd_port *src, *dst;
	int swap;                        /* 1: exchange buffers, 0: copy */
	unsigned batch;                  /* frames per fwd_move() at most */
	/* counters */
	uint64_t frames, bytes;          /* forwarded (bytes as sent to dst) */
	uint64_t drops;                  /* malformed frames discarded */
	uint64_t stalls;                 /* fwd_move() calls stopped by a full dst */
	int blocked;                     /* the last fwd_move() stopped on a full dst */
};

/* Fill *fp for port P (opened). Returns 0 or a negative errno. */
int fwd_port_init(struct fwd_port *fp, struct unm_port *p, const char *name);

/*
 * fwd_same_region - 1 if A and B are mapped from the same shared-memory
 * region (so a buffer index means the same buffer in both), 0 if not or
 * unknown. Found from /proc/self/maps: the mappings that hold the two
 * port descriptors name the same file (device and inode).
 */
int fwd_same_region(const struct fwd_port *a, const struct fwd_port *b);

/*
 * fwd_move - move up to d->batch complete frames from d->src's RX rings
 * [head, tail) into d->dst's TX rings, advancing both rings' head and cur.
 * A frame (MOREFRAG chain) moves whole or not at all; when the destination
 * has no room the rest stays in the source ring (never dropped) and
 * d->blocked is set. Returns the number of frames moved or dropped.
 */
unsigned fwd_move(struct fwd_dir *d);

#endif
