// SPDX-License-Identifier: BSD-2-Clause
/*
 * vale.c - VALE switches inside unmd: the switch table, port membership
 * (add, remove, errors) and each port's fair share of its destinations' rings.
 * The forwarding passes are in vale_fwd.c, the thread that runs them in
 * vale_thread.c.
 *
 * Prefix: vs_ (the switch, its table and its thread), vr_ (one ring of a
 * switch port); see daemon/unmd.h.
 *
 * Locking: see unmd.h. The forwarding thread holds d->lock except while
 * sleeping and while yielding to the control thread between rounds.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "unmd.h"

/* ---- switch table (control thread, lock held) ---------------------------- */

bool vs_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n < 4 || n >= UNM_CTL_SW_MAX || strncmp(name, "vale", 4))
		return false;
	for (size_t i = 4; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return false;
	return true;
}

struct vswitch *vs_find(struct unmd *d, const char *name)
{
	for (unsigned i = 0; i < VS_MAX_SWITCHES; i++)
		if (d->sw[i] && !strcmp(d->sw[i]->name, name))
			return d->sw[i];
	return NULL;
}

struct vport *vs_port_find(struct vswitch *sw, const char *name)
{
	for (unsigned k = 0; k < sw->n_active; k++)
		if (!strcmp(sw->ports[sw->active[k]]->name, name))
			return sw->ports[sw->active[k]];
	return NULL;
}

unsigned vs_uid_ports(struct unmd *d, uid_t uid, uint64_t *mem)
{
	unsigned n = 0;

	*mem = 0;
	for (unsigned i = 0; i < VS_MAX_SWITCHES; i++) {
		struct vswitch *sw = d->sw[i];

		for (unsigned k = 0; sw && k < sw->n_active; k++) {
			struct vport *p = sw->ports[sw->active[k]];

			if (p->uid == uid) { /* client, persistent and attached ports alike */
				n++;
				*mem += p->region_size;
			}
		}
	}
	return n + mon_uid_usage(uid, mem); /* and monitors, on no switch */
}

int vs_uid_quota(struct unmd *d, uid_t uid, uint64_t size, char *err, size_t errlen)
{
	uint64_t mem;
	unsigned n = vs_uid_ports(d, uid, &mem);

	if (n >= d->max_ports_uid)
		return snprintf(err, errlen, "uid %u already has %u ports and monitors (limit %u, "
				"unmd --max-ports)", (unsigned)uid, n, d->max_ports_uid), -EDQUOT;
	if (mem + size > d->max_mem_uid)
		return snprintf(err, errlen, "uid %u would use %llu bytes of port and monitor "
				"memory (limit %llu, unmd --max-mem)", (unsigned)uid,
				(unsigned long long)(mem + size),
				(unsigned long long)d->max_mem_uid), -EDQUOT;
	return 0;
}

static struct vswitch *vs_create(struct unmd *d, const char *name)
{
	struct vswitch *sw;
	unsigned slot = VS_MAX_SWITCHES;

	for (unsigned i = 0; i < VS_MAX_SWITCHES && slot == VS_MAX_SWITCHES; i++)
		if (!d->sw[i])
			slot = i;
	if (slot == VS_MAX_SWITCHES)
		return NULL;
	sw = calloc(1, sizeof(*sw));
	if (!sw)
		return NULL;
	snprintf(sw->name, sizeof(sw->name), "%s", name);
	sw->lookup = &vs_learning_ops;
	sw->lt = sw->lookup->create();
	if (!sw->lt) {
		free(sw);
		return NULL;
	}
	d->sw[slot] = sw;
	return sw;
}

/* Fair shares (their admission rule is in vale_fwd.c): per out ring, how
 * many of its slots each source port holds. */

static int share_alloc(struct vport *p)
{
	for (unsigned i = 0; i < p->n_out; i++) {
		struct vring *o = &p->out[i];
		struct vshare *sh = calloc(1, sizeof(*sh) + o->nslots);

		if (!sh) {
			for (unsigned j = 0; j < i; j++) {
				free(p->out[j].share);
				p->out[j].share = NULL;
			}
			return -ENOMEM;
		}
		memset(sh->owner, VS_NO_OWNER, o->nslots);
		sh->rel = UINT32_MAX; /* first look: nothing was filled yet */
		o->share = sh;
	}
	return 0;
}

static void share_free(struct vport *p)
{
	for (unsigned i = 0; i < p->n_out; i++) {
		free(p->out[i].share);
		p->out[i].share = NULL;
	}
}

void vs_port_epoll(struct unmd *d, struct vport *p, int op)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	int fd = p->ops->fd ? p->ops->fd(p) : -1;

	for (unsigned i = 0; i < p->n_in + p->n_out; i++) {
		struct vring *vr = i < p->n_in ? &p->in[i] : &p->out[i - p->n_in];

		if (vr->kick_fd >= 0)
			epoll_ctl(d->ep, op, vr->kick_fd, &ev);
	}
	if (fd >= 0)
		epoll_ctl(d->ep, op, fd, &ev);
}

int vs_port_add(struct unmd *d, const char *name, struct vport *p, char *err, size_t errlen)
{
	struct vswitch *sw = vs_find(d, name);
	unsigned idx = VS_MAX_PORTS;
	uint64_t one = 1;

	if (!sw) {
		if (!(sw = vs_create(d, name)))
			return snprintf(err, errlen, "cannot create switch %s: %u switches exist "
					"or no memory", name, VS_MAX_SWITCHES), -ENOSPC;
		sw->uid = p->uid; /* made on demand: its first port's owner owns it */
	}
	for (unsigned i = 0; i < VS_MAX_PORTS && idx == VS_MAX_PORTS; i++)
		if (!sw->ports[i])
			idx = i;
	if (idx == VS_MAX_PORTS)
		return snprintf(err, errlen, "switch %s is full (%u ports)", name, VS_MAX_PORTS),
		       -ENOSPC;
	if (share_alloc(p))
		return snprintf(err, errlen, "no memory for the ring shares of %s", p->name),
		       -ENOMEM;
	p->sw = sw;
	p->idx = idx;
	sw->ports[idx] = p;
	sw->active[sw->n_active++] = (uint8_t)idx;
	vdom_switch_changed(sw);
	vs_port_epoll(d, p, EPOLL_CTL_ADD);
	/* a sleeping forwarding thread re-arms with the new port included */
	if (write(d->wake_fd, &one, sizeof(one)) < 0)
		return 0;
	return 0;
}

void vport_stats_add(struct vport_stats *to, const struct vport_stats *from)
{
	uint64_t *t = (uint64_t *)to;
	const uint64_t *f = (const uint64_t *)from;

	_Static_assert(sizeof(*to) % sizeof(uint64_t) == 0, "vport_stats: only uint64_t");
	for (size_t i = 0; i < sizeof(*to) / sizeof(uint64_t); i++)
		t[i] += f[i];
}

void vs_port_remove(struct unmd *d, struct vport *p)
{
	struct vswitch *sw;

	if (!p)
		return;
	sw = p->sw;
	mon_port_gone(p); /* monitor hook: its monitors see UNM_CSB_F_GONE */
	vs_port_epoll(d, p, EPOLL_CTL_DEL);
	sw->ports[p->idx] = NULL;
	for (unsigned k = 0; k < sw->n_active; k++)
		if (sw->active[k] == p->idx) {
			sw->active[k] = sw->active[--sw->n_active];
			break;
		}
	sw->lookup->port_gone(sw->lt, p->idx);
	vport_stats_add(&sw->gone, &p->st);
	sw->ports_gone++;
	if (p->dom)
		vdom_port_removed(d, p);
	vdom_switch_changed(sw);
	p->sw = NULL;
	share_free(p);
	if (sw->n_active == 0 && !sw->kept)
		vs_switch_free(d, sw);
}

void vs_switch_free(struct unmd *d, struct vswitch *sw)
{
	for (unsigned i = 0; i < VS_MAX_SWITCHES; i++)
		if (d->sw[i] == sw)
			d->sw[i] = NULL;
	sw->lookup->destroy(sw->lt);
	free(sw);
}

int vs_switch_add(struct unmd *d, const char *name, uid_t uid)
{
	struct vswitch *sw = vs_find(d, name);

	if (sw) {
		/* one made on demand by the same owner becomes kept */
		if (sw->kept || sw->uid != uid)
			return -EEXIST;
		sw->kept = true;
		return 0;
	}
	if (!(sw = vs_create(d, name)))
		return -ENOSPC;
	sw->uid = uid;
	sw->kept = true;
	return 0;
}

void vs_port_error(struct unmd *d, struct vport *p, const char *fmt, ...)
{
	char why[200];
	va_list ap;
	uint64_t one = 1;

	if (p->errored)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	p->errored = true;
	if (p->owner)
		ulog("bad ring values from pid %d on %s:%s: %s; port errored",
		     (int)p->owner->pid, p->sw ? p->sw->name : "?", p->name, why);
	else
		ulog("port %s on %s failed: %s; port errored", p->name,
		     p->sw ? p->sw->name : "?", why);
	p->ops->set_error(p);
	if (write(d->reap_fd, &one, sizeof(one)) < 0)
		return;
}

void vs_port_failed(struct unmd *d, struct vport *p, int rc)
{
	if (p->why[0])
		vs_port_error(d, p, "%s", p->why);
	else
		vs_port_error(d, p, "%s", strerror(-rc));
}
