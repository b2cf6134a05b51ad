// SPDX-License-Identifier: BSD-2-Clause
/*
 * monitor.c - monitor ports, client side: "monitor:PORT" or netmap's
 * suffix form "PORT/t" (TX), "PORT/r" (RX), "PORT/tr" = "monitor:PORT"
 * (both). The copies are made by unmd (daemon/monitor.c), so PORT must be
 * served by unmd: a switch port "valeX:P", or any port attached to a
 * switch, named as it was attached ("null", "pipeA{1", "afpacket:veth0").
 *
 * A monitor is a vale-style client port (lib/vale.c opens it with the
 * OPEN_PORT monitor flags, lib/csb.c drives its rings): its RX rings
 * receive the copies (TX copies flagged UNM_NS_TXMON); its one TX ring is
 * unused (frames put there are never read). A monitor never slows the
 * monitored port down: when its RX ring is full unmd drops the copy and
 * counts it (mon_drops in unm-ctl stats).
 *
 * When the monitored port goes away unmd sets UNM_CSB_F_GONE in the
 * monitor's CSB and interrupts it: rxsync then returns the copies still
 * queued, and -EPIPE once the application has consumed them all; txsync
 * returns -EPIPE. Ports not served by unmd (a pipe nobody attached, a
 * backend opened in this process) cannot be monitored: unm_open fails
 * with -ENOENT (unmd does not know the port) or the connect error. The
 * exception is an open pipe end unmd does not serve: the monitor then
 * asks the ends themselves (lib/zmon.c in copy mode, docs/zmon.md).
 *
 * Zero-copy monitors of pipe ends (/z) are lib/zmon.c's: monitor_open
 * hands the port over to unm_zmon_ops. An RX monitor of a trust-domain
 * port whose domain is this process's uid is zero-copy too: unmd answers
 * with a domain membership and lib/vale.c hands the port to lib/domain.c
 * (unm_dom_mon_ops, fed by the monitored member's mon_handoff).
 *
 * Threads: the unm_port contract; everything else is lib/vale.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include "csb.h"

static const struct unm_csb *mon_csb(const struct unm_port *p, const struct unm_kring *kr)
{
	/* lib/vale.c checked csb_entries >= 2 * (n_tx + n_rx) at open */
	const struct unm_csb *c = unm_region_csb(&p->reg, 0);

	return &c[kr->dir ? p->n_tx + kr->ringid : kr->ringid];
}

static bool gone(const struct unm_port *p, const struct unm_kring *kr)
{
	/* [M2] acquire: if unmd set GONE ([M1], after its last [H2] hwtail
	 * release), the hwtail the sync reads next is the final one. */
	return unm_load_acquire(&mon_csb(p, kr)->h2a.host_flags) & UNM_CSB_F_GONE;
}

/* Hand P over to lib/zmon.c (syncs and close included); undo on failure. */
static int zmon_open(struct unm_port *p, const struct unm_spec *s, const struct unm_open_opts *o)
{
	int rc;

	p->ops = &unm_zmon_ops;
	rc = unm_zmon_ops.open(p, s, o);
	if (rc) {
		unm_zmon_ops.close(p);
		if (p->epfd >= 0)
			close(p->epfd);
		p->epfd = -1;
		unm_region_unmap(&p->reg);
		free(p->rx);
		p->rx = NULL;
		p->ops = &unm_monitor_ops;
	}
	return rc;
}

static int monitor_open(struct unm_port *p, const struct unm_spec *s,
			const struct unm_open_opts *o)
{
	int rc;

	if (s->flags & UNM_SPEC_MON_ZCOPY)
		return zmon_open(p, s, o);
	rc = unm_vale_ops.open(p, s, o);
	if (rc == -ENOENT || rc == -ECONNREFUSED) {
		char why[256], why2[128];
		struct unm_spec in;

		snprintf(why, sizeof(why), "%s", unm_errmsg());
		if (!unm_parse_name(s->path, &in, why2, sizeof(why2)) && in.kind == UNM_KIND_PIPE) {
			/* a pipe end unmd does not serve: the end's own copy
			 * monitor (lib/zmon.c, lib/pipe_zmon.c) */
			rc = zmon_open(p, s, o);
			if (rc != -ENOENT)
				return rc;
			snprintf(why, sizeof(why), "%s", unm_errmsg());
		}
		return unm_seterr(rc, "%s (only ports served by unmd, or pipe ends that are "
				  "open, can be monitored: a switch port valeX:P, or a port "
				  "attached with unm-ctl attach)", why);
	}
	return rc;
}
static int monitor_txsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	if (gone(p, kr))
		return -EPIPE;
	return unm_csb_port_txsync(p, kr, head);
}

static int monitor_rxsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	bool g = gone(p, kr);
	int rc = unm_csb_port_rxsync(p, kr, head);

	if (rc == 0 && g && head == kr->hwtail)
		return -EPIPE; /* monitored port gone, every copy consumed */
	return rc;
}

static bool monitor_arm(struct unm_port *p, struct unm_kring *kr)
{
	return unm_csb_port_arm(p, kr) || gone(p, kr);
}

const struct unm_port_ops unm_monitor_ops = {
	.type = "monitor",
	.open = monitor_open,
	.txsync = monitor_txsync,
	.rxsync = monitor_rxsync,
	.arm = monitor_arm,
	.wakeup = unm_vale_wakeup,  /* a copy monitor is a CSB port of unmd's */
	.woke = unm_vale_woke,
	.close = unm_vale_close,
};
