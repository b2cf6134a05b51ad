// SPDX-License-Identifier: BSD-2-Clause
/* vale.c - placeholder until the unmd client implementation lands. */
#include <errno.h>
#include "internal.h"

static int vale_open(struct unm_port *p, const struct unm_spec *s,
		     const struct unm_open_opts *o)
{
	return unm_seterr(-EPROTONOSUPPORT, "switch ports are not implemented yet");
}

const struct unm_port_ops unm_vale_ops = { .type = "vale", .open = vale_open };
