/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * domain.h - checks on a trust domain's shared region for the domain tests
 * (tests/mp/vale-domain-*, tests/hostile/domain-*).
 */
#ifndef UNM_TEST_DOMAIN_H
#define UNM_TEST_DOMAIN_H

#include "unm-domain.h"

/* Create switch SW on the test's unmd with trust domains on (domains uid):
 * the ports this process opens on it then form one domain. */
void t_dom_switch(const char *sw);
/* With the domain quiet (no member mid-sync), every buffer of the pool at
 * BASE, laid out as L, sits in exactly one slot of the members' rings:
 * none outside the pool, none in two slots, none lost. Fails the test
 * otherwise; prints the count when it holds. */
void t_dom_check_buffers(void *base, const struct unm_dom_layout *l);

#endif
