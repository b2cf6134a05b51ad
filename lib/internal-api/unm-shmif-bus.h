/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unm-shmif-bus.h - the shmif bus format (lib/backend/shmif_bus.h) for
 * the shmif unit tests, fuzz target and unm-hostile, which write buses
 * byte by byte.
 */
#ifndef UNM_SHMIF_BUS_API_H
#define UNM_SHMIF_BUS_API_H
#include "../backend/shmif_bus.h"
#endif
