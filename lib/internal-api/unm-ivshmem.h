/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unm-ivshmem.h - the ivshmem-doorbell protocol (lib/backend/ivshmem.h)
 * for unm-ivshmem (the host's server) and the test that fakes a device.
 */
#ifndef UNM_IVSHMEM_API_H
#define UNM_IVSHMEM_API_H
#include "../backend/ivshmem.h"
#endif
