/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unm-domain.h - the trust-domain region (lib/domain.h: layout, learning
 * table, claims) for unmd, which makes and serves domains, and for tests.
 */
#ifndef UNM_DOMAIN_API_H
#define UNM_DOMAIN_API_H
#include "../domain.h"
#endif
