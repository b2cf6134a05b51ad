/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ivshmem.h - how a switch port is passed through to a QEMU guest over
 * stock QEMU's ivshmem-doorbell device, shared by the host-side server
 * (tools/unm-ivshmem) and the guest-side port (lib/backend/ivshmem.c).
 *
 * Host: unm-ivshmem opens the port in unmd (OPEN_PORT with
 * UNM_CTL_GEOM_POW2, so the region memfd can be a PCI BAR) and serves
 * QEMU's chardev socket with the ivshmem protocol (QEMU
 * docs/specs/ivshmem-spec.rst): 8-byte little-endian messages, version 0,
 * the guest's peer id, -1 with the region memfd, then for peer
 * UNM_IVSHMEM_SERVER_ID one message per vector carrying that vector's
 * doorbell eventfd, then the guest's own id once per vector carrying its
 * interrupt eventfds. Vector v is CSB entry v (TX rings, then RX rings):
 *   doorbell eventfd of (server, v) = unmd's kick eventfd of entry v
 *   guest's own eventfd v           = unmd's irq eventfd of entry v
 * so a guest write of (UNM_IVSHMEM_SERVER_ID << 16 | v) to its Doorbell
 * register wakes unmd's loop exactly as a host client's eventfd write.
 *
 * Guest: BAR0 = registers, BAR2 = the region (its size is the memfd's, a
 * power of two, and the region header says the same size). The server's
 * peer id is the constant below rather than a field in the region: the
 * region is unmd's and shaped before any server exists, and the ivshmem
 * protocol lets the server choose every id.
 */
#ifndef UNM_IVSHMEM_H
#define UNM_IVSHMEM_H

#define UNM_IVSHMEM_SERVER_ID 0     /* the server's (unmd's) peer id */
#define UNM_IVSHMEM_GUEST_ID  1     /* the id the server gives the guest */
#define UNM_IVSHMEM_PROTO     0     /* ivshmem protocol version */

/* BAR0 registers (32-bit). */
#define UNM_IVSHMEM_INTRMASK   0
#define UNM_IVSHMEM_INTRSTATUS 4
#define UNM_IVSHMEM_IVPOSITION 8   /* read: the guest's own peer id */
#define UNM_IVSHMEM_DOORBELL   12  /* write: peer << 16 | vector */

#define UNM_IVSHMEM_VENDOR 0x1af4  /* Red Hat / Qumranet */
#define UNM_IVSHMEM_DEVICE 0x1110

#endif
