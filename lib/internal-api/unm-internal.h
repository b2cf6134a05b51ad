/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unm-internal.h - libunm's private structures (lib/internal.h: parsed
 * port names, the port-type table, regions, struct unm_port) for the two
 * kinds of code that must see them: unmd, which opens ports and builds
 * regions inside the library's process model, and white-box tests and
 * fuzz targets. Applications use include/unm.h only.
 */
#ifndef UNM_INTERNAL_API_H
#define UNM_INTERNAL_API_H
#include "../internal.h"
#endif
