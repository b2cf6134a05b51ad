// SPDX-License-Identifier: BSD-2-Clause
/* pipe.c - placeholder until the pipe implementation lands. */
#include <errno.h>
#include "internal.h"

static int pipe_open(struct unm_port *p, const struct unm_spec *s,
		     const struct unm_open_opts *o)
{
	return unm_seterr(-EPROTONOSUPPORT, "pipes are not implemented yet");
}

const struct unm_port_ops unm_pipe_ops = { .type = "pipe", .open = pipe_open };
