/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unm_virtif.h - the rump kernel virtif hypercall interface (revision
 * 20140313 of NetBSD's sys/rump/net/lib/libvirtif/virtif_user.h) as
 * libunm-virtif implements it, plus the rumpuser component calls it uses.
 * Declared here from the contract, so the library builds without NetBSD's
 * sources; a rump kernel compiles if_virt.c with the same VIRTIF_BASE.
 *
 * VIRTIF_BASE (default unm) names everything: interface unm<N>, hypercalls
 * rumpcomp_unm_{create,send,dying,destroy}, upcall rump_virtif_unm_deliverpkt.
 */
#ifndef UNM_VIRTIF_H
#define UNM_VIRTIF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#ifndef VIRTIF_BASE
#define VIRTIF_BASE unm
#endif

#define UNM_VIFHYPER_REVISION 20140313

#define UNM_VIF_CAT3_(a, b, c) a##b##c
#define UNM_VIF_CAT3(a, b, c) UNM_VIF_CAT3_(a, b, c)
#define UNM_VIF_STR_(x) #x
#define UNM_VIF_STR(x) UNM_VIF_STR_(x)
#define UNM_VIF_NAME UNM_VIF_STR(VIRTIF_BASE)
#define UNM_VIFHYPER_CREATE  UNM_VIF_CAT3(rumpcomp_, VIRTIF_BASE, _create)
#define UNM_VIFHYPER_SEND    UNM_VIF_CAT3(rumpcomp_, VIRTIF_BASE, _send)
#define UNM_VIFHYPER_DYING   UNM_VIF_CAT3(rumpcomp_, VIRTIF_BASE, _dying)
#define UNM_VIFHYPER_DESTROY UNM_VIF_CAT3(rumpcomp_, VIRTIF_BASE, _destroy)
#define UNM_VIF_DELIVERPKT   UNM_VIF_CAT3(rump_virtif_, VIRTIF_BASE, _deliverpkt)

struct virtif_sc;   /* the kernel's softc, opaque here */
struct virtif_user; /* ours */

/*
 * CREATE: open the port DEVSTR names (see unm_virtif.c), start its receive
 * thread, store the handle in *viup. ENADDR (6 bytes, the kernel's random
 * b2:0a:..) is overwritten with the port's MAC if the port has one.
 * Entered scheduled; returns 0 or a NetBSD errno (rumpuser_component_errtrans).
 */
int UNM_VIFHYPER_CREATE(const char *devstr, struct virtif_sc *sc, uint8_t *enaddr,
			struct virtif_user **viup);
/* SEND: one frame in IOVLEN (<= 32) iovecs, copied before returning; frames
 * shorter than 60 bytes are zero-padded; dropped (counted) if the ring stays
 * full TX_WAIT_MS. Thread-safe. */
void UNM_VIFHYPER_SEND(struct virtif_user *viu, struct iovec *iov, size_t iovlen);
/* DYING: stop delivering (the receive thread ends within 100 ms). Returns 0. */
int UNM_VIFHYPER_DYING(struct virtif_user *viu);
/* DESTROY: join the receive thread, close the port, free VIU. No delivery
 * happens after it returns. */
void UNM_VIFHYPER_DESTROY(struct virtif_user *viu);

/* The kernel's upcall: one received frame, copied before it returns;
 * called scheduled from the receive thread. */
void UNM_VIF_DELIVERPKT(struct virtif_sc *sc, struct iovec *iov, size_t iovlen);

/* librumpuser's component interface (rumpuser_component.h). */
void *rumpuser_component_unschedule(void);
void rumpuser_component_schedule(void *cookie);
int rumpuser_component_errtrans(int host_errno);
void rumpuser_component_kthread(void);
void rumpuser_component_kthread_release(void);

/* Counters of one interface (extra, not part of the hypercall contract). */
struct unm_virtif_stats {
	uint64_t rx_frames, rx_dropped, rx_errors, rx_csum_fixed, rx_gso_dropped;
	uint64_t tx_frames, tx_dropped;
};
int unm_virtif_stats(const struct virtif_user *viu, struct unm_virtif_stats *st);
/* The port name the interface opened. */
const char *unm_virtif_port_name(const struct virtif_user *viu);

#endif
