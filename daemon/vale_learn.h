/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vale_learn.h - the learning bridge's parameters (vale_learn.c; lt_ =
 * learning table), shared with its fuzz target's shadow model.
 */
#ifndef VALE_LEARN_H
#define VALE_LEARN_H

#define LT_WAYS   4
#define LT_SETS   1024
#define LT_AGE_NS (300ull * 1000000000ull)
/* A MAC moves to another port only once it has been quiet this long on
 * the port it is learned on (at once if that port left: port_gone). A
 * port that keeps sending cannot have its address taken over by another
 * port replaying one of its frames (a hostile client holding a copy of a
 * flooded frame in its buffers does that without meaning to): its
 * traffic would go to the thief until it sent again. Sources refresh
 * their entry at least every 100 ms (lt_lookup), well inside the hold. */
#define LT_MOVE_HOLD_NS (1000ull * 1000000ull)

#endif
