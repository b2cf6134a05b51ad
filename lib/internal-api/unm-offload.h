/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unm-offload.h - virtio-net header parsing, checksums and segmentation
 * (lib/offload/offload.h) for unmd's switch (daemon/vale_offload.c), the
 * offload unit tests, fuzz target and checksum benchmark.
 */
#ifndef UNM_OFFLOAD_API_H
#define UNM_OFFLOAD_API_H
#include "../offload/offload.h"
#endif
