/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unm-memif.h - the memif port's wire format and @conf parser
 * (lib/backend/memif.h) for unmd's and unm-ctl's checks of a handed-over
 * socket (which role it is for), the name fuzz oracle and the hostile
 * memif peer test.
 */
#ifndef UNM_MEMIF_API_H
#define UNM_MEMIF_API_H
#include "../backend/memif.h"
#endif
