/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vale_offload.h - virtio-net header offloads in the VALE switch: what
 * vale.c calls when the source or the destination port of a frame carries
 * a virtio-net header (struct unm_ctl_geom.vnet_hdr_len 10 or 12).
 *
 * Called only by the forwarding thread, with d->lock held (see unmd.h);
 * no state besides the per-port counters (struct vo_stats, in struct
 * vport) and the per-batch parse results the caller keeps.
 * vo_ = VALE offload: everything this header declares.
 */
#ifndef UNMD_VALE_OFFLOAD_H
#define UNMD_VALE_OFFLOAD_H

#include <stdint.h>
#include "unm-offload.h"

/* One fragment of a frame in a source ring (vale.c's pass 1 builds
 * these; buf points into the sender's buffer, len <= its buffer size). */
struct fwd_frag {
	const char *buf;
	uint32_t len;
};

/*
 * Offload counters of one switch port, all counted on the port that sent
 * the frame into the switch (as drops are):
 *  gso_in          GSO frames it sent (header validated);
 *  segmented       copies of them the switch cut into segments (towards a
 *                  port without a header, or one whose buffers cannot hold
 *                  the whole frame);
 *  segments_out    segments written by those;
 *  csum_completed  partial (NEEDS_CSUM) checksums the switch completed for
 *                  a port without a header (GSO segments not included);
 *  zero_hdr        frames without a header given a zero header for a port
 *                  that has one;
 *  vnet_drops[r]   frames refused by unm_vnet_parse() for reason r (their
 *                  sum is drops[UNM_DROP_BAD_VNET]).
 */
struct vo_stats {
	uint64_t gso_in, segmented, segments_out, csum_completed, zero_hdr;
	uint64_t vnet_drops[UNM_VNET_DROP__COUNT];
};

struct vport;
struct vring;

/*
 * vo_in - pass 1, source port with a header: validate the frame of NF
 * fragments F (header = first vnet_hdr_len bytes of F[0]; it must be
 * there whole, with at least an Ethernet header after it). Fills *VI.
 * Returns 0xff (accepted: vale.c's "no drop reason yet") or
 * UNM_DROP_BAD_VNET, counted by reason in src->vo.
 */
uint8_t vo_in(struct vport *src, const struct fwd_frag *f, unsigned nf,
	      struct unm_vnet_info *vi);

/*
 * vo_slots - destination slots the frame (LEN bytes with the source's
 * header, parse result VI when the source has a header) will take in ring
 * O of DP, segments included; 0 if it can never fit (no_room): a chain
 * longer than min(UNM_MAX_FRAGS, slots - 1), or more than slots - 1 in all.
 */
uint32_t vo_slots(const struct vport *src, const struct vport *dp, const struct vring *o,
		  uint32_t len, const struct unm_vnet_info *vi);

/*
 * vo_deliver - pass 2, source or destination has a header: write the
 * frame into out ring O of DP from slot *K, using at most *AVAIL slots:
 * header copied, converted, added or stripped; GSO frames segmented and
 * checksums completed where the destination cannot take them as they
 * are. On success advances *K, lowers *AVAIL and returns 0; otherwise
 * writes nothing visible and returns a UNM_DROP_* reason (> 0), or -1 if
 * a destination slot holds a bad buffer index (the caller errors DP).
 */
int vo_deliver(struct vport *src, struct vport *dp, struct vring *o, const struct fwd_frag *f,
	       unsigned nf, uint32_t len, const struct unm_vnet_info *vi, uint32_t *k,
	       uint32_t *avail);

/* Fill a PORT_OFFLOAD item for P (control thread, lock held). */
struct unm_ctl_offload_info;
void vo_item(struct unm_ctl_offload_info *oi, const struct vport *p);

#endif
