/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unm-ctlmsg.h - the control socket's message helpers (lib/ctlmsg.h:
 * connect, send/receive with fds, request checks) for unmd, unm-ctl,
 * unm-ivshmem and the tests that speak the control protocol.
 */
#ifndef UNM_CTLMSG_API_H
#define UNM_CTLMSG_API_H
#include "../ctlmsg.h"
#endif
