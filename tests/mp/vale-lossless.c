// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: lossless mode (switch set vale0 lossless on): the
 * overload scenario of vale-overload.c with backpressure instead of
 * drops: no drop at all, every frame of both senders arrives in order.
 */
#define LOSSLESS 1
#include "vale-overload.c"
