// SPDX-License-Identifier: BSD-2-Clause
/*
 * null.c - the "null" port: TX completes at once (frames are counted and
 * discarded), RX never has frames. A sink for generators, and the
 * smallest example of a port type.
 */
#include <errno.h>
#include "internal.h"

static int null_open(struct unm_port *p, const struct unm_spec *s,
		     const struct unm_open_opts *o)
{
	return unm_port_create_self(p, o, 0, NULL);
}

static int null_txsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	for (uint32_t i = kr->hwcur; i != head; i = kr_next(kr, i)) {
		p->st.tx_bytes += kr->ring->slot[i].len;
		if (!(kr->ring->slot[i].flags & UNM_NS_MOREFRAG))
			p->st.tx_frames++;
	}
	kr->hwcur = head;
	kr->hwtail = head == 0 ? kr->nslots - 1 : head - 1;
	return 0;
}

static int null_rxsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	kr->hwcur = head;
	return 0;
}

const struct unm_port_ops unm_null_ops = {
	.type = "null",
	.open = null_open,
	.txsync = null_txsync,
	.rxsync = null_rxsync,
};
