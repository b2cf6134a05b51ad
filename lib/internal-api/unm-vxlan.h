/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unm-vxlan.h - the vxlan port's pure parts (lib/backend/vxlan.h: its
 * configuration parser, receive checks, learning table and flow hash) for
 * the vxlan fuzz target.
 */
#ifndef UNM_VXLAN_API_H
#define UNM_VXLAN_API_H
#include "../backend/vxlan.h"
#endif
