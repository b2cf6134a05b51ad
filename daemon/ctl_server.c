// SPDX-License-Identifier: BSD-2-Clause
/*
 * ctl_server.c - unmd's control requests (include/unm/ctl.h): one
 * handler per operation, each validating what the client sent before
 * acting on it.
 *
 * Threads: control thread only. Handlers take d->lock just around the
 * in-memory work and snapshots, never while sending a reply or opening an
 * in-daemon port (unm_open may block), so the forwarding thread is never
 * held up by a slow client.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "unmd.h"
#include "unm-ctlmsg.h"
#include "unm/vxlan.h"

struct items {
	struct unm_ctl_item *v;
	unsigned n, cap;
	uint32_t seq;
};

static struct unm_ctl_item *item_new(struct items *it, unsigned kind)
{
	if (it->n == it->cap) {
		unsigned cap = it->cap ? 2 * it->cap : 64;
		struct unm_ctl_item *v = realloc(it->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		it->v = v;
		it->cap = cap;
	}
	unm_ctl_item_init(&it->v[it->n], kind, it->seq);
	return &it->v[it->n++];
}

static int fail(struct unm_ctl_rep *rep, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct unm_ctl_rep *rep, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rep->msg, sizeof(rep->msg), fmt, ap);
	va_end(ap);
	rep->status = err;
	return err;
}

/* May connection C act on something owned by OWNER? (authz.c) */
static bool may(const struct ctl_conn *c, uid_t owner)
{
	return c->admin || c->uid == owner;
}

static int not_owner(struct unm_ctl_rep *rep, const char *what, const char *sw,
		     const char *name, uid_t owner, const char *verb)
{
	return fail(rep, -EPERM, "%s %s%s%.100s belongs to uid %u: only its owner or an "
		    "administrator (root, unmd --admin-group) may %s it", what, sw, sw[0] ? ":" : "",
		    name, (unsigned)owner, verb);
}

/*
 * The switch port REQ names: its spec (the client parsed the name;
 * unm_ctl_check_req checked the spec) gives switch and port, and with
 * GEOM the port's geometry, resolved by the client and range-checked
 * here.
 */
static int req_vale_port(const struct unm_ctl_req *req, bool geom, char *sw, char *port,
			 struct unm_ctl_geom *g, struct unm_ctl_rep *rep)
{
	const struct unm_ctl_portspec *w = &req->spec;

	if (strcmp(w->type, "vale"))
		return fail(rep, -EINVAL, "'%s' is not a switch port (valeX:PORT)", req->name);
	snprintf(sw, UNM_CTL_SW_MAX, "%s", w->sw);
	snprintf(port, 64, "%s", w->port);
	*g = w->geom;
	if (!geom)
		return 0;
	if (g->tx_rings < 1 || g->tx_rings > UNM_MAX_RINGS ||
	    g->rx_rings < 1 || g->rx_rings > UNM_MAX_RINGS ||
	    g->tx_slots < UNM_MIN_SLOTS || g->tx_slots > UNM_MAX_SLOTS ||
	    g->rx_slots < UNM_MIN_SLOTS || g->rx_slots > UNM_MAX_SLOTS ||
	    g->buf_size < UNM_MIN_BUF_SIZE || g->buf_size > UNM_MAX_BUF_SIZE ||
	    g->extra_bufs > 65536 ||
	    (g->vnet_hdr_len != 0 && g->vnet_hdr_len != 10 && g->vnet_hdr_len != 12))
		return fail(rep, -EINVAL, "%s: geometry out of range (rings 1..%u, slots %u..%u, "
			    "bufsize %u..%u)", req->name, UNM_MAX_RINGS, UNM_MIN_SLOTS, UNM_MAX_SLOTS,
			    UNM_MIN_BUF_SIZE, UNM_MAX_BUF_SIZE);
	g->flags &= UNM_CTL_GEOM_POW2;
	return 0;
}

/* Can UID have one more port of SIZE region bytes? 0, or -EDQUOT and the
 * reply's message naming the limit. Lock held. */
static int uid_quota(struct unmd *d, uid_t uid, uint64_t size, struct unm_ctl_rep *rep)
{
	char err[200];
	int rc = vs_uid_quota(d, uid, size, err, sizeof(err));

	return rc ? fail(rep, rc, "%s", err) : 0;
}

/* May C make one more switch (SW does not exist yet)? Administrators
 * always; a user up to --max-switches, so one user cannot take every
 * switch slot (or name) from the others. 0 or a failed reply. Lock held. */
static int sw_quota(struct unmd *d, const struct ctl_conn *c, const char *sw,
		    struct unm_ctl_rep *rep)
{
	unsigned n = 0;

	if (c->admin || vs_find(d, sw))
		return 0;
	for (unsigned i = 0; i < VS_MAX_SWITCHES; i++)
		n += d->sw[i] && d->sw[i]->uid == c->uid;
	if (n >= d->max_switches_uid)
		return fail(rep, -EDQUOT, "uid %u already owns %u switches (limit %u, unmd "
			    "--max-switches)", (unsigned)c->uid, n, d->max_switches_uid);
	return 0;
}

/* Create a CSB port charged to UID on switch SW. Lock held. */
static int new_csb_port(struct unmd *d, const char *sw, const char *port,
			const struct unm_ctl_geom *g, uid_t uid, struct vport **pp,
			struct unm_ctl_rep *rep)
{
	char err[256];
	struct vport *p;
	int rc;

	if ((rc = uid_quota(d, uid, 0, rep)))
		return rc;
	rc = vport_csb_create(&p, port, g, err, sizeof(err));
	if (rc)
		return fail(rep, rc, "%s:%s: %s", sw, port, err);
	/* the message is built before p goes (it once read a freed port) */
	if ((rc = uid_quota(d, uid, p->region_size, rep))) {
		p->ops->destroy(p);
		return rc;
	}
	p->uid = uid;
	rc = vs_port_add(d, sw, p, err, sizeof(err));
	if (rc) {
		p->ops->destroy(p);
		return fail(rep, rc, "%s", err);
	}
	*pp = p;
	return 0;
}

/*
 * Which trust domain would a new client port join ("" = none)? Only a
 * port opened by a client that can be a member (UNM_CTL_OPEN_DOMAIN:
 * libunm's vale ports), on a switch whose domains are on, with no
 * virtio-net header and not sized for a VM's BAR (ivshmem guests stay
 * isolated); @conf:domain=NAME names one, "none" opts out; otherwise,
 * with `domains uid`, the uid's own. Lock held.
 */
static void domain_of(const struct vswitch *s, const struct unm_ctl_req *req,
		      const struct unm_ctl_geom *g, uid_t uid, char *out, size_t outlen)
{
	const char *dom = req->spec.domain; /* checked: letters, digits, '_', '-' */

	out[0] = '\0';
	if (!s || s->domains == VS_DOMAINS_OFF || !(req->flags & UNM_CTL_OPEN_DOMAIN) ||
	    g->vnet_hdr_len || (g->flags & UNM_CTL_GEOM_POW2) || !strcmp(dom, "none"))
		return;
	if (dom[0])
		snprintf(out, outlen, "%s", dom);
	else if (s->domains == VS_DOMAINS_UID)
		snprintf(out, outlen, "uid%u", (unsigned)uid);
}

/* A new member of trust domain DNAME on switch S. Lock held. */
static int new_dom_port(struct unmd *d, struct vswitch *s, const char *dname, const char *port,
			const struct unm_ctl_geom *g, uid_t uid, struct vport **pp,
			struct unm_ctl_rep *rep)
{
	char err[256];
	struct vport *p;
	int rc;

	if ((rc = uid_quota(d, uid, 0, rep)))
		return rc;
	rc = vdom_port_create(d, s, dname, uid, port, g, &p, err, sizeof(err));
	if (rc)
		return fail(rep, rc, "%s:%s: %s", s->name, port, err);
	if ((rc = uid_quota(d, uid, p->region_size, rep)) == 0) {
		p->uid = uid;
		rc = vs_port_add(d, s->name, p, err, sizeof(err));
		if (rc)
			fail(rep, rc, "%s", err);
	}
	if (rc) {
		vdom_port_removed(d, p); /* never on the switch: leaves its domain */
		p->ops->destroy(p);
		return rc;
	}
	*pp = p;
	return 0;
}

/* OPEN_PORT with monitor flags: a monitor of req->name (monitor.c). */
static int do_open_monitor(struct unmd *d, struct ctl_conn *c, const struct unm_ctl_req *req,
			   struct unm_ctl_rep *rep, int *fds, unsigned *nfds)
{
	char err[256];
	struct vport *p;
	int rc = mon_open(d, c, req, &p, err, sizeof(err));

	if (rc)
		return fail(rep, rc, "monitor of %.100s: %s", req->name, err);
	unmd_lock(d);
	c->port = p;
	if (p->dom) { /* zero-copy: a member of the target's domain */
		*nfds = vdom_fds(p, fds, UNM_CTL_MAX_FDS, &rep->dom_member, &rep->dom_token);
		rep->n_tx = rep->n_rx = 1;
		snprintf(rep->msg, sizeof(rep->msg), "zero-copy monitor: member %u of its domain",
			 rep->dom_member - 1);
	} else {
		*nfds = vport_csb_fds(p, fds, UNM_CTL_MAX_FDS);
		rep->n_tx = p->n_in;
		rep->n_rx = p->n_out;
	}
	rep->port_idx = p->idx;
	rep->region_size = p->region_size;
	unmd_unlock(d);
	ulog("%smonitor (%s%s) of %s opened by pid %d uid %u", rep->dom_member ? "zero-copy " : "",
	     req->flags & UNM_CTL_OPEN_MON_TX ? "tx" : "", req->flags & UNM_CTL_OPEN_MON_RX ? "rx" : "",
	     req->name, (int)c->pid, (unsigned)c->uid);
	return 0;
}

static int do_open(struct unmd *d, struct ctl_conn *c, const struct unm_ctl_req *req,
		   struct unm_ctl_rep *rep, int *fds, unsigned *nfds)
{
	char sw[UNM_CTL_SW_MAX], port[64], dname[UNM_DOM_NAME_MAX + 16];
	struct unm_ctl_geom g;
	struct vswitch *s;
	struct vport *p;
	int rc;

	if (c->port)
		return fail(rep, -EBUSY, "this connection already has a port");
	if (req->flags & UNM_CTL_OPEN_MON_MASK)
		return do_open_monitor(d, c, req, rep, fds, nfds);
	if ((rc = req_vale_port(req, true, sw, port, &g, rep)))
		return rc;
	unmd_lock(d);
	s = vs_find(d, sw);
	p = s ? vs_port_find(s, port) : NULL;
	if (p && p->persistent && !p->owner && p->uid == c->uid && vport_csb_stale(p)) {
		/* frames came while nobody had it, it errored, or its last
		 * renewal failed: a fresh region, so this client gets nothing
		 * queued before it and a clean start.
		 * Only the control thread adds or removes ports: P stays. */
		char err[256];

		unmd_unlock(d);
		rc = vport_csb_renew(d, p, false, err, sizeof(err));
		if (rc)
			return fail(rep, rc, "%s:%s: cannot make a fresh region: %s", sw, port, err);
		unmd_lock(d);
	}
	if (p && p->attached) {
		rc = fail(rep, -EBUSY, "%s:%s is an in-daemon port", sw, port);
	} else if (p && p->uid != c->uid) {
		/* nobody, root included, opens a port another uid made: a name
		 * squatted with port add would receive the opener's frames */
		rc = fail(rep, -EACCES, "%s:%s belongs to uid %u, not to you (uid %u): refusing "
			  "to open another user's port (its owner or an administrator may "
			  "delete it: unm-ctl port del)", sw, port, (unsigned)p->uid, (unsigned)c->uid);
	} else if (p && p->owner) {
		rc = fail(rep, -EBUSY, "%s:%s is in use by pid %d", sw, port, (int)p->owner->pid);
	} else if (p && (g.flags & UNM_CTL_GEOM_POW2) &&
		   (p->region_size & (p->region_size - 1))) {
		rc = fail(rep, -EINVAL, "%s:%s: region of %llu bytes is not a power of two",
			  sw, port, (unsigned long long)p->region_size);
	} else if (p) {
		rc = 0; /* persistent port: its region is fresh (see above) */
	} else if (!(rc = sw_quota(d, c, sw, rep))) {
		domain_of(s, req, &g, c->uid, dname, sizeof(dname));
		if (dname[0])
			rc = new_dom_port(d, s, dname, port, &g, c->uid, &p, rep);
		else
			rc = new_csb_port(d, sw, port, &g, c->uid, &p, rep);
	}
	if (!rc && p->dom) {
		p->owner = c;
		c->port = p;
		vdom_port_ready(p, c->pid);
		*nfds = vdom_fds(p, fds, UNM_CTL_MAX_FDS, &rep->dom_member, &rep->dom_token);
		rep->n_tx = rep->n_rx = 1;
		rep->port_idx = p->idx;
		rep->region_size = p->region_size;
		snprintf(rep->msg, sizeof(rep->msg), "member %u of trust domain %s",
			 rep->dom_member - 1, dname);
	} else if (!rc) {
		p->owner = c;
		c->port = p;
		*nfds = vport_csb_fds(p, fds, UNM_CTL_MAX_FDS);
		rep->n_tx = p->n_in;
		rep->n_rx = p->n_out;
		rep->port_idx = p->idx;
		rep->region_size = p->region_size;
	}
	unmd_unlock(d);
	if (!rc)
		ulog("port %s:%s attached by pid %d uid %u%s%s", sw, port, (int)c->pid,
		     (unsigned)c->uid, rep->dom_member ? " in trust domain " : "",
		     rep->dom_member ? dname : "");
	return rc;
}

/* The counters of ST into PI. */
static void stats_item(struct unm_ctl_port_info *pi, const struct vport_stats *st)
{
	pi->tx_frames = st->tx_frames;
	pi->tx_bytes = st->tx_bytes;
	pi->rx_frames = st->rx_frames;
	pi->rx_bytes = st->rx_bytes;
	pi->tx_delivered = st->tx_delivered;
	pi->tx_extra_copies = st->tx_extra_copies;
	pi->tx_swapped = st->tx_swapped;
	memcpy(pi->drops, st->drops, sizeof(pi->drops));
	for (unsigned r = 0; r < UNM_DROP__COUNT; r++)
		pi->rx_drops += st->rx_drops[r];
	pi->rx_dst_full = st->rx_drops[UNM_DROP_DST_FULL];
	pi->rx_no_room = st->rx_drops[UNM_DROP_NO_ROOM];
	pi->rx_dst_err = st->rx_drops[UNM_DROP_DST_ERR];
	pi->bad_ring = st->bad_ring;
	pi->irqs_tx = st->irqs_tx;
	pi->yields = st->yields;
}

/* The switch's totals: its live ports' counters plus those folded in
 * when ports left (vs_port_remove); monitors' own copies excluded. */
static void total_item(struct unm_ctl_item *it, const struct vswitch *sw)
{
	struct unm_ctl_port_info *pi = &it->u.port;
	struct vport_stats st = sw->gone;

	for (unsigned k = 0; k < sw->n_active; k++)
		vport_stats_add(&st, &sw->ports[sw->active[k]]->st);
	snprintf(pi->sw, sizeof(pi->sw), "%s", sw->name);
	snprintf(pi->name, sizeof(pi->name), "total");
	snprintf(pi->type, sizeof(pi->type), "switch");
	pi->idx = UNM_CTL_TOTAL_IDX;
	pi->flags = UNM_CTL_PORT_TOTAL;
	pi->uid = (uint32_t)sw->uid;
	pi->ports_gone = sw->ports_gone;
	stats_item(pi, &st);
	pi->mon_copies = st.mon_copies;
	pi->mon_drops = st.mon_drops;
}

static void port_item(struct unm_ctl_item *it, const struct vport *p)
{
	struct unm_ctl_port_info *pi = &it->u.port;

	snprintf(pi->sw, sizeof(pi->sw), "%s", p->sw->name);
	snprintf(pi->name, sizeof(pi->name), "%s", p->name);
	snprintf(pi->type, sizeof(pi->type), "%s", p->type);
	pi->idx = p->idx;
	pi->flags = (p->persistent ? UNM_CTL_PORT_PERSISTENT : 0) |
		    (p->attached ? UNM_CTL_PORT_ATTACHED : 0) |
		    (p->errored ? UNM_CTL_PORT_ERRORED : 0) |
		    (p->owner ? UNM_CTL_PORT_CLIENT : 0) |
		    (p->pool ? UNM_CTL_PORT_POOLED : 0);
	pi->pid = p->owner ? p->owner->pid : 0;
	pi->uid = (uint32_t)p->uid;
	pi->geom = p->geom;
	pi->region_size = p->region_size;
	stats_item(pi, &p->st);
	mon_port_info(p, pi);
}

/* An attached port's backend counters (unm_port_stats of its port). */
static int backend_item(struct items *it, struct vport *p)
{
	struct unm_port *up = vport_attached_port(p);
	struct unm_port_stats s = { .sz = sizeof(s) };
	struct unm_ctl_backend_info *x;
	struct unm_ctl_item *i;

	if (!up || unm_port_stats(up, &s))
		return 0;
	if (!(i = item_new(it, UNM_CTL_ITEM_BACKEND)))
		return -ENOMEM;
	x = &i->u.backend;
	snprintf(x->sw, sizeof(x->sw), "%s", p->sw->name);
	snprintf(x->name, sizeof(x->name), "%s", p->name);
	x->idx = p->idx;
	x->tx_frames = s.tx_frames;
	x->tx_bytes = s.tx_bytes;
	x->rx_frames = s.rx_frames;
	x->rx_bytes = s.rx_bytes;
	x->drops = s.drops;
	x->bad_buf = s.bad_buf;
	x->bad_len = s.bad_len;
	x->gso_rx_frames = s.gso_rx_frames;
	x->gso_tx_frames = s.gso_tx_frames;
	x->vnet_drops = s.vnet_drops;
	x->zc_tx_frames = s.zc_tx_frames;
	x->zc_rx_frames = s.zc_rx_frames;
	x->copy_tx_frames = s.copy_tx_frames;
	x->copy_rx_frames = s.copy_rx_frames;
	return 0;
}

/* The vxlan item that follows a vxlan port's item in PORT_STATS. */
static int vxlan_item(struct items *it, struct vport *p)
{
	struct unm_port *up = vport_attached_port(p);
	struct unm_vxlan_stats v = { .sz = sizeof(v) };
	struct unm_ctl_vxlan_info *x;
	struct unm_ctl_item *i;

	if (!up || unm_vxlan_stats(up, &v))
		return 0;
	if (!(i = item_new(it, UNM_CTL_ITEM_VXLAN)))
		return -ENOMEM;
	x = &i->u.vxlan;
	snprintf(x->sw, sizeof(x->sw), "%s", p->sw->name);
	snprintf(x->name, sizeof(x->name), "%s", p->name);
	x->idx = p->idx;
	x->vni = v.vni;
	x->port = v.port;
	x->family = v.family;
	x->mtu = v.mtu;
	x->underlay_mtu = v.underlay_mtu;
	x->n_remotes = v.n_remotes;
	x->mcast = v.mcast;
	x->ttl = v.ttl;
	x->learn_max = v.learn_max;
	x->learn_entries = v.learn_entries;
	x->ageing_s = v.ageing_s;
	x->tx_frames = v.tx_frames;
	x->tx_datagrams = v.tx_datagrams;
	x->tx_flood = v.tx_flood;
	x->tx_gso_sends = v.tx_gso_sends;
	x->tx_errors = v.tx_errors;
	x->tx_drops = v.tx_drops;
	x->rx_datagrams = v.rx_datagrams;
	x->rx_frames = v.rx_frames;
	_Static_assert(UNM_CTL_VXLAN_RX_DROPS == UNM_VXLAN_RX__COUNT, "vxlan drop reasons");
	memcpy(x->rx_drop, v.rx_drop, sizeof(x->rx_drop));
	x->learn_full = v.learn_full;
	x->learn_moves = v.learn_moves;
	x->tx_gso_frames = v.tx_gso_frames;
	x->tx_csum = v.tx_csum;
	x->rx_gro = v.rx_gro;
	x->rx_coalesced = v.rx_coalesced;
	x->rx_csum = v.rx_csum;
	x->rx_tso = v.rx_tso;
	return 0;
}

static int switch_items(struct vswitch *sw, struct items *it, bool with_sw, const char *port,
			bool offload, bool vxlan, bool totals)
{
	struct unm_ctl_item *x;

	if (with_sw) {
		if (!(x = item_new(it, UNM_CTL_ITEM_SWITCH)))
			return -ENOMEM;
		snprintf(x->u.sw.sw, sizeof(x->u.sw.sw), "%s", sw->name);
		snprintf(x->u.sw.lookup, sizeof(x->u.sw.lookup), "%s", sw->lookup->name);
		x->u.sw.n_ports = sw->n_active;
		x->u.sw.lossless = sw->lossless;
		x->u.sw.mac_entries = sw->lookup->count(sw->lt, unm_now_ns());
		x->u.sw.frames = sw->frames;
		x->u.sw.uid = (uint32_t)sw->uid;
		x->u.sw.flags = sw->kept ? UNM_CTL_SWITCH_KEPT : 0;
		x->u.sw.flags |= sw->domains == VS_DOMAINS_UID ? UNM_CTL_SWITCH_DOMAINS_UID :
				 sw->domains == VS_DOMAINS_NAMED ? UNM_CTL_SWITCH_DOMAINS_NAMED : 0;
	}
	for (unsigned i = 0; i < VS_MAX_PORTS; i++) {
		if (!sw->ports[i] || (port && strcmp(sw->ports[i]->name, port)))
			continue;
		if (!(x = item_new(it, offload ? UNM_CTL_ITEM_OFFLOAD : UNM_CTL_ITEM_PORT)))
			return -ENOMEM;
		if (offload) {
			vo_item(&x->u.off, sw->ports[i]);
			continue;
		}
		port_item(x, sw->ports[i]);
		if (vxlan && (backend_item(it, sw->ports[i]) || vxlan_item(it, sw->ports[i])))
			return -ENOMEM;
		/* its monitors follow it, in listings of whole switches */
		for (unsigned k = 0; !port && mon_nth(sw->ports[i], k); k++) {
			if (!(x = item_new(it, UNM_CTL_ITEM_PORT)))
				return -ENOMEM;
			mon_self_info(mon_nth(sw->ports[i], k), &x->u.port);
		}
	}
	/* PORT_STATS of a whole switch ends with its totals */
	if (totals && !port) {
		if (!(x = item_new(it, UNM_CTL_ITEM_PORT)))
			return -ENOMEM;
		total_item(x, sw);
	}
	return 0;
}

/* LIST, PORT_STATS, PORT_OFFLOAD: name "" (all), "valeX" or "valeX:P". */
static int do_list(struct unmd *d, const struct unm_ctl_req *req, struct unm_ctl_rep *rep,
		   struct items *it)
{
	char sw[UNM_CTL_SW_MAX] = "", port[64] = "";
	bool with_sw = req->op == UNM_CTL_LIST;
	const struct unm_ctl_portspec *w = &req->spec;
	int rc = 0;

	if (w->type[0] && strcmp(w->type, "vale") && w->sw[0]) {
		/* "valeX:TYPE:ARG": an attached port is named after its
		 * type ("tap:t0", "vhost-user:/run/vm.sock"), without @conf */
		snprintf(sw, sizeof(sw), "%s", w->sw);
		snprintf(port, sizeof(port), "%.63s", w->name);
		if (!vs_name_ok(sw))
			return fail(rep, -EINVAL, "bad switch name '%.64s': " VS_NAME_RULE, sw);
	} else if (w->type[0]) {
		struct unm_ctl_geom g;

		if ((rc = req_vale_port(req, false, sw, port, &g, rep)))
			return rc;
	} else if (req->name[0]) {
		if (!vs_name_ok(req->name))
			return fail(rep, -EINVAL, "bad switch name '%.64s': " VS_NAME_RULE, req->name);
		snprintf(sw, sizeof(sw), "%.15s", req->name);
	}
	unmd_lock(d);
	for (unsigned i = 0; i < VS_MAX_SWITCHES && !rc; i++)
		if (d->sw[i] && (!sw[0] || !strcmp(sw, d->sw[i]->name)))
			rc = switch_items(d->sw[i], it, with_sw, port[0] ? port : NULL,
					  req->op == UNM_CTL_PORT_OFFLOAD,
					  req->op == UNM_CTL_PORT_STATS,
					  req->op == UNM_CTL_PORT_STATS);
	unmd_unlock(d);
	if (rc)
		return fail(rep, rc, "out of memory");
	if (sw[0] && !it->n)
		return fail(rep, -ENOENT, "no such %s: %.100s", port[0] ? "port" : "switch",
			    req->name);
	return 0;
}

struct mac_ctx {
	struct items *it;
	struct vswitch *sw;
	int rc;
};

static void mac_cb(void *arg, const uint8_t mac[6], unsigned port, uint32_t age_ms)
{
	struct mac_ctx *m = arg;
	struct unm_ctl_item *x = item_new(m->it, UNM_CTL_ITEM_MAC);

	if (!x) {
		m->rc = -ENOMEM;
		return;
	}
	snprintf(x->u.mac.sw, sizeof(x->u.mac.sw), "%s", m->sw->name);
	memcpy(x->u.mac.mac, mac, 6);
	x->u.mac.port_idx = (uint16_t)port;
	x->u.mac.age_ms = age_ms;
	if (port < VS_MAX_PORTS && m->sw->ports[port]) {
		struct unm_port *up = vport_attached_port(m->sw->ports[port]);

		snprintf(x->u.mac.port, sizeof(x->u.mac.port), "%s", m->sw->ports[port]->name);
		/* behind a vxlan port: which remote VTEP */
		if (up)
			(void)unm_vxlan_lookup(up, mac, x->u.mac.remote, sizeof(x->u.mac.remote));
	}
}

static int do_mac(struct unmd *d, const struct unm_ctl_req *req, struct unm_ctl_rep *rep,
		  struct items *it)
{
	struct mac_ctx m = { it, NULL, 0 };

	unmd_lock(d);
	m.sw = vs_find(d, req->name);
	if (m.sw)
		m.sw->lookup->dump(m.sw->lt, unm_now_ns(), mac_cb, &m);
	unmd_unlock(d);
	if (!m.sw)
		return fail(rep, -ENOENT, "no such switch: %.64s", req->name);
	return m.rc ? fail(rep, m.rc, "out of memory") : 0;
}

static int do_port_add(struct unmd *d, struct ctl_conn *c, const struct unm_ctl_req *req,
		       struct unm_ctl_rep *rep)
{
	char sw[UNM_CTL_SW_MAX], port[64];
	struct unm_ctl_geom g;
	struct vswitch *s;
	struct vport *p;
	int rc;

	if ((rc = req_vale_port(req, true, sw, port, &g, rep)))
		return rc;
	unmd_lock(d);
	s = vs_find(d, sw);
	if (s && vs_port_find(s, port))
		rc = fail(rep, -EEXIST, "%s:%s exists", sw, port);
	else if (!(rc = sw_quota(d, c, sw, rep)) &&
		 !(rc = new_csb_port(d, sw, port, &g, c->uid, &p, rep)))
		p->persistent = true;
	unmd_unlock(d);
	if (!rc)
		ulog("persistent port %s:%s created by pid %d uid %u", sw, port, (int)c->pid,
		     (unsigned)c->uid);
	return rc;
}

static int do_port_del(struct unmd *d, struct ctl_conn *c, const struct unm_ctl_req *req,
		       struct unm_ctl_rep *rep)
{
	char sw[UNM_CTL_SW_MAX], port[64];
	struct unm_ctl_geom g;
	struct vswitch *s;
	struct vport *p = NULL;
	int rc;

	if ((rc = req_vale_port(req, false, sw, port, &g, rep)))
		return rc;
	unmd_lock(d);
	s = vs_find(d, sw);
	p = s ? vs_port_find(s, port) : NULL;
	if (!p)
		rc = fail(rep, -ENOENT, "no such port: %s:%s", sw, port);
	else if (!may(c, p->uid))
		rc = not_owner(rep, "port", sw, port, p->uid, "delete");
	else if (!p->persistent)
		rc = fail(rep, -EINVAL, "%s:%s is not persistent (it goes when its client closes;"
			  " in-daemon ports go with detach)", sw, port);
	else if (p->owner)
		rc = fail(rep, -EBUSY, "%s:%s is in use by pid %d", sw, port, (int)p->owner->pid);
	else
		vs_port_remove(d, p);
	unmd_unlock(d);
	if (rc)
		return rc;
	p->ops->destroy(p);
	ulog("persistent port %s:%s deleted by pid %d", sw, port, (int)c->pid);
	return 0;
}

/* A resource attached already (on any switch)? Lock held. */
static struct vport *res_find(struct unmd *d, const char *key)
{
	for (unsigned i = 0; key[0] && i < VS_MAX_SWITCHES; i++)
		for (unsigned k = 0; d->sw[i] && k < d->sw[i]->n_active; k++) {
			struct vport *p = d->sw[i]->ports[d->sw[i]->active[k]];

			if (p->attached && !strcmp(p->res, key))
				return p;
		}
	return NULL;
}

/*
 * Who may attach what (authz.c): with FD (the client opened the resource
 * with its own rights) shmif, vhost-user, memif and tap; by name, "null" for
 * anyone and everything else for administrators only, paths taken
 * literally. 0 or a failed reply.
 */
static int attach_allowed(struct ctl_conn *c, const struct unm_spec *s, const char *name,
			  int fd, struct unm_ctl_rep *rep)
{
	char err[200];
	int rc;

	if (fd >= 0) {
		if (!(unm_port_type(s->kind)->caps & UNM_TYPE_FD))
			return fail(rep, -EINVAL, "%.60s: only %s ports are attached from a "
				    "handed-over fd", name,
				    unm_port_type_names(UNM_TYPE_FD, err, sizeof(err)));
		if (s->kind == UNM_KIND_MEMIF && !authz_memif_fd(s, fd))
			return fail(rep, -EINVAL, "%.60s: the handed-over socket is not a unix "
				    "SOCK_SEQPACKET socket listening on that path (role=master) or "
				    "connected to it (role=slave)", name);
		if (s->kind == UNM_KIND_VHOST) {
			struct sockaddr_un sa;
			socklen_t len = sizeof(sa);

			/* the name must be the socket's own address */
			memset(&sa, 0, sizeof(sa));
			if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 ||
			    sa.sun_family != AF_UNIX || len <= offsetof(struct sockaddr_un, sun_path) ||
			    strncmp(sa.sun_path, s->path, sizeof(sa.sun_path)))
				return fail(rep, -EINVAL, "%.60s: the handed-over socket is not bound "
					    "to that path", name);
		}
		return 0;
	}
	if (s->kind == UNM_KIND_NULL)
		return 0;
	if (!c->admin)
		return fail(rep, -EPERM, "%.60s: unmd opens it by name only for an administrator "
			    "(root, unmd --admin-group); unm-ctl attach hands over your own fd for "
			    "%s", name, unm_port_type_names(UNM_TYPE_FD, err, sizeof(err)));
	if ((s->kind == UNM_KIND_SHMIF || s->kind == UNM_KIND_VHOST ||
	     (s->kind == UNM_KIND_MEMIF && s->path[0] != '@')) &&
	    (rc = authz_path(s->path, err, sizeof(err))))
		return fail(rep, rc, "%s", err);
	return 0;
}

/*
 * ATTACH runs unm_open() on a worker thread: opening a backend may wait
 * (a pipe rendezvous with a peer that never answers, a vhost-user
 * frontend, a slow device), and the control thread must never wait on
 * anything one client controls. The connection reads no request until
 * the job is done (ctl_job_done); a uid has at most CTL_JOBS_UID jobs at
 * once, so threads are bounded by uids x CTL_JOBS_UID.
 */
#define CTL_JOBS_UID 4

struct ctl_job {
	struct unmd *d;
	struct ctl_conn *c;         /* NULL once the connection went */
	struct uid_conns *uc;
	struct unm_ctl_req req;
	int fd;                     /* our dup of the client's fd, or -1 */
	bool handed;                /* the client handed over an fd */
	char key[sizeof(((struct vport *)0)->res)], base[64];
	struct vport *p;            /* result */
	int rc;
	char err[256];
};

static void *attach_worker(void *arg)
{
	struct ctl_job *j = arg;

	j->rc = vport_attached_create(&j->p, j->req.name, j->req.arg, &j->req.spec, j->fd,
				      &j->req.geom, j->err, sizeof(j->err));
	if (j->fd >= 0) { /* the port, if any, holds its own duplicate */
		close(j->fd);
		j->fd = -1;
	}
	/* the pipe is never full: at most uids x CTL_JOBS_UID pointers */
	if (write(j->d->job_fd[1], &j, sizeof(j)) != sizeof(j))
		ulog("attach job: cannot report to the control thread: %s", strerror(errno));
	return NULL;
}

static int do_attach(struct unmd *d, struct ctl_conn *c, const struct unm_ctl_req *req,
		     struct unm_ctl_rep *rep, int fd)
{
	char err[256], base[64], key[sizeof(((struct vport *)0)->res)];
	struct unm_spec s;
	struct vswitch *sw;
	struct ctl_job *j;
	struct vport *q;
	pthread_attr_t a;
	pthread_t t;
	int rc;

	if (!vs_name_ok(req->name))
		return fail(rep, -EINVAL, "bad switch name '%.64s': " VS_NAME_RULE, req->name);
	if (strlen(req->arg) >= sizeof(((struct vport *)0)->name))
		return fail(rep, -ENAMETOOLONG, "port name longer than %zu characters",
			    sizeof(((struct vport *)0)->name) - 1);
	/* the client parsed the name; unm_ctl_check_req checked the result */
	rc = unm_ctl_spec_get(&req->spec, false, &s, err, sizeof(err));
	if (rc)
		return fail(rep, rc, "%s", err);
	if (!(unm_port_type(s.kind)->caps & UNM_TYPE_ATTACH))
		return fail(rep, -EINVAL, "%s: switch ports cannot be attached to a switch "
			    "(connect the switches with a pipe or a backend)", req->arg);
	if ((rc = attach_allowed(c, &s, req->arg, fd, rep)))
		return rc;
	snprintf(base, sizeof(base), "%.63s", req->spec.name); /* without @conf */
	authz_res_key(&s, fd, key, sizeof(key));
	unmd_lock(d);
	sw = vs_find(d, req->name);
	q = res_find(d, key);
	if ((rc = sw_quota(d, c, req->name, rep)))
		;
	else if (sw && vs_port_find(sw, base))
		rc = fail(rep, -EEXIST, "%s already has a port %s", req->name, base);
	else if (q)
		rc = fail(rep, -EEXIST, "%s is attached already, as %s:%s (uid %u)", base,
			  q->sw->name, q->name, (unsigned)q->uid);
	unmd_unlock(d);
	if (rc)
		return rc;
	if (c->uc->jobs >= CTL_JOBS_UID)
		return fail(rep, -EAGAIN, "uid %u already has %u attaches in progress",
			    (unsigned)c->uid, c->uc->jobs);
	if (!(j = calloc(1, sizeof(*j))))
		return fail(rep, -ENOMEM, "out of memory");
	j->d = d;
	j->c = c;
	j->uc = c->uc;
	j->req = *req;
	snprintf(j->key, sizeof(j->key), "%s", key);
	snprintf(j->base, sizeof(j->base), "%s", base);
	j->fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1; /* the caller closes FD */
	j->handed = fd >= 0;
	if (fd >= 0 && j->fd < 0) {
		rc = -errno;
		free(j);
		return fail(rep, rc, "cannot keep the handed-over fd: %s", strerror(-rc));
	}
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 256 << 10);
	rc = pthread_create(&t, &a, attach_worker, j);
	pthread_attr_destroy(&a);
	if (rc) {
		if (j->fd >= 0)
			close(j->fd);
		free(j);
		return fail(rep, -rc, "cannot start the attach: %s", strerror(rc));
	}
	c->uc->jobs++;
	c->job = j;
	return 1; /* the reply comes from ctl_job_done */
}

struct ctl_conn *ctl_job_done(struct unmd *d, struct ctl_job *j, struct uid_conns **ucp)
{
	struct ctl_conn *c = j->c;
	struct unm_ctl_rep rep;
	struct vswitch *sw;
	struct vport *p = j->p, *q;
	bool handed = j->handed;
	int rc = j->rc;

	j->uc->jobs--;
	*ucp = j->uc;
	unm_ctl_rep_init(&rep, &j->req);
	if (rc) {
		fail(&rep, rc, "%s", j->err);
	} else if (!c) {
		rc = -ECONNRESET; /* its client went: the port goes too */
	} else {
		char err[256];

		p->uid = c->uid;
		snprintf(p->res, sizeof(p->res), "%s", j->key);
		unmd_lock(d);
		sw = vs_find(d, j->req.name);
		/* an attached port counts against its uid's limits like any other */
		rc = uid_quota(d, c->uid, p->region_size, &rep);
		if (!rc && sw && vs_port_find(sw, p->name))
			rc = fail(&rep, -EEXIST, "%s already has a port %s", j->req.name, p->name);
		else if (!rc && (q = res_find(d, j->key)))
			rc = fail(&rep, -EEXIST, "%s is attached already, as %s:%s (uid %u)", j->base,
				  q->sw->name, q->name, (unsigned)q->uid);
		else if (!rc && (rc = vs_port_add(d, j->req.name, p, err, sizeof(err))))
			fail(&rep, rc, "%s", err);
		unmd_unlock(d);
	}
	if (rc && p)
		p->ops->destroy(p);
	else if (!rc)
		ulog("port %s (%s) attached to %s by pid %d uid %u%s", p->name, p->type,
		     j->req.name, (int)c->pid, (unsigned)c->uid, handed ? " (its own fd)" : "");
	if (c) {
		c->job = NULL;
		ctl_queue(c, &rep, NULL, 0, NULL, 0); /* c->out stays NULL on ENOMEM */
	}
	free(j);
	return c;
}

static int do_detach(struct unmd *d, struct ctl_conn *c, const struct unm_ctl_req *req,
		     struct unm_ctl_rep *rep)
{
	char base[64];
	struct vswitch *sw;
	struct vport *p;
	int rc = 0;

	snprintf(base, sizeof(base), "%.63s", req->spec.name); /* without @conf */
	unmd_lock(d);
	sw = vs_find(d, req->name);
	p = sw ? vs_port_find(sw, base) : NULL;
	if (!p)
		rc = fail(rep, -ENOENT, "%.64s has no port %.100s", req->name, base);
	else if (!p->attached)
		rc = fail(rep, -EINVAL, "%s:%s is a client port, not an attached one",
			  req->name, base);
	else if (!may(c, p->uid))
		rc = not_owner(rep, "port", req->name, base, p->uid, "detach");
	else
		vs_port_remove(d, p);
	unmd_unlock(d);
	if (rc)
		return rc;
	p->ops->destroy(p);
	ulog("port %s detached from %s by pid %d uid %u", base, req->name, (int)c->pid,
	     (unsigned)c->uid);
	return 0;
}

static int do_switch_set(struct unmd *d, struct ctl_conn *c, const struct unm_ctl_req *req,
			 struct unm_ctl_rep *rep)
{
	struct vswitch *sw;
	int rc = 0;

	bool doms = !strcmp(req->arg, "domains");

	if (strcmp(req->arg, "lossless") && !doms)
		return fail(rep, -EINVAL, "unknown switch setting '%.64s' (known: lossless, "
			    "domains)", req->arg);
	if (!doms && req->value > 1)
		return fail(rep, -EINVAL, "lossless takes 0 or 1");
	if (doms && req->value > VS_DOMAINS_NAMED)
		return fail(rep, -EINVAL, "domains takes 0 (off), 1 (uid) or 2 (named)");
	unmd_lock(d);
	sw = vs_find(d, req->name);
	if (!sw)
		rc = fail(rep, -ENOENT, "no such switch: %.64s (unm-ctl switch add creates one)",
			  req->name);
	else if (!may(c, sw->uid))
		rc = not_owner(rep, "switch", "", sw->name, sw->uid, "change");
	else if (doms)
		sw->domains = (uint8_t)req->value;
	else
		sw->lossless = req->value;
	if (!rc)
		vdom_switch_changed(sw);
	unmd_unlock(d);
	if (!rc && doms)
		ulog("switch %s: domains %s (uid %u)", req->name,
		     req->value == VS_DOMAINS_UID ? "uid" : req->value ? "named" : "off",
		     (unsigned)c->uid);
	else if (!rc)
		ulog("switch %s: lossless %s (uid %u)", req->name, req->value ? "on" : "off",
		     (unsigned)c->uid);
	return rc;
}

static int do_switch_add(struct unmd *d, struct ctl_conn *c, const struct unm_ctl_req *req,
			 struct unm_ctl_rep *rep)
{
	struct vswitch *sw;
	int rc;

	if (!vs_name_ok(req->name))
		return fail(rep, -EINVAL, "bad switch name '%.64s': " VS_NAME_RULE, req->name);
	unmd_lock(d);
	if ((rc = sw_quota(d, c, req->name, rep))) {
		unmd_unlock(d);
		return rc;
	}
	rc = vs_switch_add(d, req->name, c->uid);
	sw = vs_find(d, req->name);
	if (rc == -EEXIST)
		fail(rep, rc, "switch %s exists already (uid %u)", req->name,
		     sw ? (unsigned)sw->uid : 0u);
	else if (rc)
		fail(rep, rc, "cannot create switch %s: %u switches exist or no memory", req->name,
		     VS_MAX_SWITCHES);
	unmd_unlock(d);
	if (!rc)
		ulog("switch %s created by pid %d uid %u", req->name, (int)c->pid, (unsigned)c->uid);
	return rc;
}

static int do_switch_del(struct unmd *d, struct ctl_conn *c, const struct unm_ctl_req *req,
			 struct unm_ctl_rep *rep)
{
	struct vswitch *sw;
	int rc = 0;

	unmd_lock(d);
	sw = vs_find(d, req->name);
	if (!sw)
		rc = fail(rep, -ENOENT, "no such switch: %.64s", req->name);
	else if (!may(c, sw->uid))
		rc = not_owner(rep, "switch", "", sw->name, sw->uid, "delete");
	else if (sw->n_active)
		rc = fail(rep, -EBUSY, "switch %s still has %u ports (detach or close them first)",
			  sw->name, sw->n_active);
	else
		vs_switch_free(d, sw);
	unmd_unlock(d);
	if (!rc)
		ulog("switch %s deleted by pid %d uid %u", req->name, (int)c->pid, (unsigned)c->uid);
	return rc;
}

static int dispatch(struct unmd *d, struct ctl_conn *c, const struct unm_ctl_req *req,
		    struct unm_ctl_rep *rep, struct items *it, int *fds, unsigned *nfds, int in_fd)
{
	if (in_fd >= 0 && req->op != UNM_CTL_ATTACH)
		return fail(rep, -EINVAL, "this request takes no file descriptor");
	switch (req->op) {
	case UNM_CTL_OPEN_PORT: return do_open(d, c, req, rep, fds, nfds);
	case UNM_CTL_LIST:
	case UNM_CTL_PORT_STATS:
	case UNM_CTL_PORT_OFFLOAD: return do_list(d, req, rep, it);
	case UNM_CTL_MAC_TABLE: return do_mac(d, req, rep, it);
	case UNM_CTL_PORT_ADD: return do_port_add(d, c, req, rep);
	case UNM_CTL_PORT_DEL: return do_port_del(d, c, req, rep);
	case UNM_CTL_ATTACH: return do_attach(d, c, req, rep, in_fd);
	case UNM_CTL_DETACH: return do_detach(d, c, req, rep);
	case UNM_CTL_SWITCH_SET: return do_switch_set(d, c, req, rep);
	case UNM_CTL_SWITCH_ADD: return do_switch_add(d, c, req, rep);
	case UNM_CTL_SWITCH_DEL: return do_switch_del(d, c, req, rep);
	}
	return fail(rep, -EOPNOTSUPP, "unknown operation");
}

void ctl_out_free(struct ctl_out *o)
{
	if (!o)
		return;
	for (unsigned i = 0; i < o->nfds; i++)
		close(o->fds[i]);
	free(o->items);
	free(o);
}

int ctl_queue(struct ctl_conn *c, const struct unm_ctl_rep *rep, struct unm_ctl_item *items,
	      unsigned n_items, const int *fds, unsigned nfds)
{
	struct ctl_out *o = calloc(1, sizeof(*o));

	if (!o) {
		free(items);
		return -ENOMEM;
	}
	o->rep = *rep;
	o->items = items;
	o->n_items = n_items;
	/* our own copies: the port (and its fds) may go before this is sent */
	for (unsigned i = 0; i < nfds; i++) {
		int fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);

		if (fd < 0) {
			ctl_out_free(o);
			return -errno;
		}
		o->fds[o->nfds++] = fd;
	}
	ctl_out_free(c->out); /* none: main.c reads no request while one is queued */
	c->out = o;
	return 0;
}

int ctl_handle(struct unmd *d, struct ctl_conn *c)
{
	struct unm_ctl_req req;
	struct unm_ctl_rep rep;
	struct items it = { 0 };
	int fds[UNM_CTL_MAX_FDS], in_fd = -1;
	unsigned nfds = 0, n_in = 0;
	char err[160];
	int rc;

	/* at most one fd comes with a request (ATTACH); more: the message
	 * is refused and every fd closed (unm_ctl_recv) */
	memset(&req, 0, sizeof(req));
	rc = unm_ctl_recv(c->fd, &req, sizeof(req), &in_fd, 1, &n_in, 0);
	if (!n_in)
		in_fd = -1;
	if (rc == -ETIMEDOUT || rc == -EAGAIN)
		return 0;
	if (rc == -ECONNRESET)
		return rc;
	unm_ctl_rep_init(&rep, &req);
	if (rc == -EBADMSG && req.magic == UNM_CTL_MAGIC && req.version != UNM_CTL_VERSION)
		/* another version's request (version 1's was smaller): say so,
		 * and the client refuses our reply naming both versions */
		fail(&rep, -EPROTO, "protocol version %u, unmd speaks %u", req.version,
		     UNM_CTL_VERSION);
	else if (rc)
		fail(&rep, rc, "malformed request (%s)", strerror(-rc));
	else if ((rc = unm_ctl_check_req(&req, sizeof(req), err, sizeof(err))))
		fail(&rep, rc, "%s", err);
	if (rc && in_fd >= 0) {
		close(in_fd);
		in_fd = -1;
	}
	if (rc) {
		udebug(d, "bad request from pid %d: %s", (int)c->pid, rep.msg);
		if (rep.magic == req.magic) /* best effort, never waits: it is cut anyway */
			unm_ctl_send(c->fd, &rep, sizeof(rep), NULL, 0);
		return -EBADMSG; /* one bad message and the connection is cut */
	}
	if (req.op == UNM_CTL_BYE) {
		if (in_fd >= 0)
			close(in_fd);
		c->bye = true;
		return 0;
	}
	if (c->over_quota) {
		if (in_fd >= 0)
			close(in_fd);
		fail(&rep, -EDQUOT, "uid %u is at its limit of %u control connections (unmd "
		     "--max-conns)", (unsigned)c->uid, d->max_conns_uid);
		unm_ctl_send(c->fd, &rep, sizeof(rep), NULL, 0);
		return -EDQUOT; /* and the connection goes */
	}
	if (!c->admin_known) {
		c->admin = authz_admin(d, c->uid, c->gid);
		c->admin_known = true;
	}
	it.seq = req.seq;
	rc = dispatch(d, c, &req, &rep, &it, fds, &nfds, in_fd);
	if (in_fd >= 0)
		close(in_fd); /* the port or the attach job holds its own duplicate */
	if (rc > 0)
		return 0; /* asynchronous (attach): no reply yet */
	rep.n_items = rep.status ? 0 : it.n;
	rep.n_fds = rep.status ? 0 : nfds;
	rc = ctl_queue(c, &rep, it.v, rep.n_items, fds, rep.n_fds);
	if (rc)
		udebug(d, "reply to pid %d: %s", (int)c->pid, strerror(-rc));
	return rc;
}

void ctl_conn_gone(struct unmd *d, struct ctl_conn *c, const char *why)
{
	struct vport *p = c->port;
	char name[UNM_CTL_SW_MAX + 70];
	bool persistent;

	if (c->job) { /* its attach finishes without it (ctl_job_done) */
		c->job->c = NULL;
		c->job = NULL;
	}
	ctl_out_free(c->out);
	c->out = NULL;
	if (!p)
		return;
	if (p->self_mon) {
		unmd_lock(d);
		mon_close(d, p);
		p->owner = NULL;
		unmd_unlock(d);
		c->port = NULL;
		p->ops->destroy(p);
		ulog("monitor of pid %d closed%s%s", (int)c->pid, why ? ": " : "", why ? why : "");
		return;
	}
	unmd_lock(d);
	snprintf(name, sizeof(name), "%s:%s", p->sw->name, p->name);
	persistent = p->persistent;
	p->owner = NULL;
	if (!persistent)
		vs_port_remove(d, p);
	unmd_unlock(d);
	c->port = NULL;
	if (!persistent) {
		p->ops->destroy(p);
	} else {
		/* the departed client may keep its mapping: from now on it is
		 * not the port's (if this fails, the next open retries) */
		char err[256];

		if (vport_csb_renew(d, p, true, err, sizeof(err)))
			ulog("port %s: no fresh region yet: %s", name, err);
	}
	if (why)
		ulog("client pid %d %s: port %s %s", (int)c->pid, why, name,
		     persistent ? "kept (persistent)" : "removed");
	else if (c->bye)
		ulog("port %s closed by pid %d%s", name, (int)c->pid,
		     persistent ? " (persistent: kept)" : "");
	else
		ulog("client pid %d died: port %s %s", (int)c->pid, name,
		     persistent ? "kept (persistent)" : "removed");
}
