// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: vale-hostile (a client writing random values into its CSB,
 * ring headers and slots while an honest stream A -> B must lose nothing)
 * with unmd's opt-in CSB notification policies on: UNMD_CSB_RX_MODERATION
 * (rx_wake_later reads the client's appl_need_kick and RX head in a place
 * of its own) and a deferred yield (UNMD_CSB_YIELD=5). unmd must survive,
 * error the hostile ports only, and deliver every honest frame.
 */
#define VALE_HOSTILE_POLICY 1
#include "vale-hostile.c"
