// SPDX-License-Identifier: BSD-2-Clause
/*
 * ctlspec.c - a port name on the control protocol's wire (struct
 * unm_ctl_portspec, include/unm/ctl.h): the client parses the name once
 * (name.c) and sends the result; unmd checks that result as untrusted
 * input and reads no text again.
 *
 * Client side: unm_ctl_req_spec() is the one place every request gets its
 * spec from its text (unm_ctl_call_fds runs it on every request whose
 * spec the caller left empty); unm_ctl_spec_put() when the caller parsed
 * the name already (lib/vale.c). unmd side: unm_ctl_spec_get(), which
 * unm_ctl_check_req runs on every request.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "ctlmsg.h"
#include "backend/vxlan.h"
#include "backend/memif.h"

_Static_assert(UNM_CTL_SPEC_TX_ONLY == UNM_SPEC_TX_ONLY && UNM_CTL_SPEC_RX_ONLY == UNM_SPEC_RX_ONLY &&
	       UNM_CTL_SPEC_MON_TX == UNM_SPEC_MON_TX && UNM_CTL_SPEC_MON_RX == UNM_SPEC_MON_RX &&
	       UNM_CTL_SPEC_MON_ZCOPY == UNM_SPEC_MON_ZCOPY &&
	       UNM_CTL_SPEC_EXCLUSIVE == UNM_SPEC_EXCLUSIVE, "spec flags are the wire's");
_Static_assert(sizeof(((struct unm_spec *)0)->path) == UNM_CTL_NAME_MAX &&
	       sizeof(((struct unm_spec *)0)->port) == UNM_CTL_PORT_MAX &&
	       sizeof(((struct unm_spec *)0)->pipe_id) == UNM_CTL_PORT_MAX &&
	       sizeof(((struct unm_spec *)0)->xconf) == UNM_CTL_XCONF_MAX &&
	       sizeof(((struct unm_spec *)0)->domain) ==
	       sizeof(((struct unm_ctl_portspec *)0)->domain) &&
	       sizeof(((struct unm_spec *)0)->type) >= UNM_CTL_TYPE_MAX,
	       "every spec string fits the wire's");

/* Copy string SRC into the wire's DST[N]; false if it does not fit. */
static bool put_str(char *dst, size_t n, const char *src, size_t len)
{
	if (len >= n)
		return false;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return true;
}

#define PUT(dst, src) put_str(dst, sizeof(dst), src, strlen(src))

int unm_ctl_spec_put(struct unm_ctl_portspec *w, const struct unm_spec *s, const char *name,
		     const struct unm_ctl_geom *req_geom, bool target, char *err, size_t errlen)
{
	enum unm_kind kind = target && s->kind == UNM_KIND_MONITOR ? s->mon_kind : s->kind;
	const struct unm_port_type *t = unm_port_type(kind);
	const char *conf = strstr(name, "@conf");
	size_t nlen = conf ? (size_t)(conf - name) : strlen(name);
	bool ok;

	memset(w, 0, sizeof(*w));
	if (!t)
		return snprintf(err, errlen, "bad port name '%.96s': no port type", name), -EINVAL;
	ok = PUT(w->type, t->name) && PUT(w->port, s->port) && PUT(w->pipe_id, s->pipe_id);
	w->pipe_role = (uint32_t)s->pipe_role;
	w->ring = -1;
	w->conf.vnet_hdr_len = UNM_CTL_UNSET;
	if (target && s->kind == UNM_KIND_MONITOR) {
		/* the monitored port: its name is the monitor's path, less a
		 * "valeX:" naming the switch of an attached port (in sw) */
		const char *tn = s->path;
		size_t swl = strlen(s->sw);

		if (kind != UNM_KIND_VALE && swl && !strncmp(tn, s->sw, swl) && tn[swl] == ':')
			tn += swl + 1;
		ok = ok && PUT(w->sw, s->sw) && PUT(w->name, tn);
		w->base_len = (uint32_t)strlen(w->name);
	} else {
		ok = ok && PUT(w->sw, s->sw) && PUT(w->path, s->path) && PUT(w->domain, s->domain) &&
		     PUT(w->xconf, s->xconf) && put_str(w->name, sizeof(w->name), name, nlen);
		w->base_len = (uint32_t)(s->base_len < nlen ? s->base_len : nlen);
		w->ring = s->ring;
		w->flags = s->flags;
		w->conf.tx_rings = s->tx_rings;
		w->conf.rx_rings = s->rx_rings;
		w->conf.tx_slots = s->tx_slots;
		w->conf.rx_slots = s->rx_slots;
		w->conf.buf_size = s->buf_size;
		w->conf.extra_bufs = s->extra_bufs;
		w->conf.vnet_hdr_len = s->vnet_hdr_len < 0 ? UNM_CTL_UNSET : (uint32_t)s->vnet_hdr_len;
	}
	if (!ok)
		return snprintf(err, errlen, "bad port name '%.96s': too long for unmd's protocol",
				name), -ENAMETOOLONG;
	if (kind == UNM_KIND_VALE && !target) {
		/* the port's geometry, resolved as unm_open resolves it: the
		 * name's @conf over the request's, then the defaults */
		struct unm_open_opts o = { .sz = sizeof(o) };

		if (req_geom)
			unm_ctl_geom_to_opts(req_geom, &o);
		unm_spec_geometry(s, &o);
		unm_ctl_geom_from_opts(&w->geom, &o);
		w->geom.flags = req_geom ? req_geom->flags & UNM_CTL_GEOM_POW2 : 0;
	}
	return 0;
}

int unm_ctl_req_spec(struct unm_ctl_req *r, char *err, size_t errlen)
{
	struct unm_spec s;
	char name[UNM_CTL_NAME_MAX + 16];
	const char *colon;
	int rc;

	memset(&r->spec, 0, sizeof(r->spec));
	r->name[sizeof(r->name) - 1] = '\0';
	r->arg[sizeof(r->arg) - 1] = '\0';
	switch (r->op) {
	case UNM_CTL_OPEN_PORT:
		if (r->flags & UNM_CTL_OPEN_MON_MASK) { /* name: the monitored port */
			snprintf(name, sizeof(name), "monitor:%s", r->name);
			if ((rc = unm_parse_name(name, &s, err, errlen)))
				return rc;
			return unm_ctl_spec_put(&r->spec, &s, r->name, NULL, true, err, errlen);
		}
		/* fall through */
	case UNM_CTL_PORT_ADD:
	case UNM_CTL_PORT_DEL:
		if ((rc = unm_parse_name(r->name, &s, err, errlen)))
			return rc;
		return unm_ctl_spec_put(&r->spec, &s, r->name, r->op == UNM_CTL_PORT_DEL ? NULL :
					&r->geom, false, err, errlen);
	case UNM_CTL_LIST:
	case UNM_CTL_PORT_STATS:
	case UNM_CTL_PORT_OFFLOAD:
		if (!(colon = strchr(r->name, ':')))
			return 0; /* "" or a switch: unmd checks it */
		/* "valeX:TYPE:ARG", an attached port (named after its type,
		 * which is no switch port name), else a switch port */
		if ((size_t)(colon - r->name) < UNM_CTL_SW_MAX &&
		    strlen(colon + 1) < UNM_CTL_PORT_MAX &&
		    unm_parse_name(colon + 1, &s, err, errlen) == 0 &&
		    (unm_port_type(s.kind)->caps & UNM_TYPE_ATTACH)) {
			if ((rc = unm_ctl_spec_put(&r->spec, &s, colon + 1, NULL, false, err, errlen)))
				return rc;
			memcpy(r->spec.sw, r->name, (size_t)(colon - r->name));
			r->spec.sw[colon - r->name] = '\0';
			return 0;
		}
		if ((rc = unm_parse_name(r->name, &s, err, errlen)) ||
		    (rc = unm_ctl_spec_put(&r->spec, &s, r->name, NULL, false, err, errlen)))
			return rc;
		if (s.kind != UNM_KIND_VALE) /* no switch named: unmd says it is no switch port */
			r->spec.sw[0] = '\0';
		return 0;
	case UNM_CTL_ATTACH:
		if ((rc = unm_parse_name(r->arg, &s, err, errlen)))
			return rc;
		return unm_ctl_spec_put(&r->spec, &s, r->arg, NULL, false, err, errlen);
	case UNM_CTL_DETACH:
		/* only the name is read: one that does not parse names no port */
		if (unm_parse_name(r->arg, &s, err, errlen) == 0 &&
		    unm_ctl_spec_put(&r->spec, &s, r->arg, NULL, false, err, errlen) == 0)
			return 0;
		memset(&r->spec, 0, sizeof(r->spec));
		colon = strstr(r->arg, "@conf");
		put_str(r->spec.name, sizeof(r->spec.name), r->arg,
			colon ? (size_t)(colon - r->arg) : strlen(r->arg));
		r->spec.base_len = (uint32_t)strlen(r->spec.name);
		r->spec.ring = -1;
		r->spec.conf.vnet_hdr_len = UNM_CTL_UNSET;
		return 0;
	default:
		return 0;
	}
}

/* ---- unmd: the spec as untrusted input --------------------------------- */

static bool terminated(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

/* Every character of S is one ACCEPT accepts. */
static bool chars_ok(const char *s, int (*accept)(int))
{
	for (; *s; s++)
		if (!accept((unsigned char)*s))
			return false;
	return true;
}

static int ident(int ch)
{
	return isalnum(ch) || ch == '_';
}

static int domain_char(int ch)
{
	return isalnum(ch) || ch == '_' || ch == '-';
}

static int ifname_char(int ch)
{
	return isgraph(ch) && !strchr("/@:{}", ch);
}

static int graph(int ch)
{
	return isgraph(ch);
}

static bool conf_ok(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v == 0 || (v >= lo && v <= hi);
}

#define BAD(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

int unm_ctl_spec_get(const struct unm_ctl_portspec *w, bool target, struct unm_spec *s,
		     char *err, size_t errlen)
{
	const struct unm_port_type *t;
	const struct unm_ctl_geom *c = &w->conf;
	bool empty;

	memset(s, 0, sizeof(*s));
	s->ring = -1;
	s->vnet_hdr_len = -1;
	s->fd = -1;
	if (!terminated(w->type, sizeof(w->type)) || !terminated(w->sw, sizeof(w->sw)) ||
	    !terminated(w->port, sizeof(w->port)) || !terminated(w->pipe_id, sizeof(w->pipe_id)) ||
	    !terminated(w->path, sizeof(w->path)) || !terminated(w->name, sizeof(w->name)) ||
	    !terminated(w->domain, sizeof(w->domain)) || !terminated(w->xconf, sizeof(w->xconf)))
		return BAD("port spec: unterminated string");
	if (!chars_ok(w->name, graph) || w->base_len > strlen(w->name))
		return BAD("port spec: bad name");
	empty = !w->type[0];
	if (empty) {
		/* no port (or DETACH of a name that does not parse): only the
		 * name may be set */
		static const struct unm_ctl_portspec zero;
		struct unm_ctl_portspec x = *w;

		memset(x.name, 0, sizeof(x.name));
		x.base_len = 0;
		x.ring = 0;
		x.conf.vnet_hdr_len = 0;
		if ((w->ring != 0 && w->ring != -1) ||
		    (w->conf.vnet_hdr_len != 0 && w->conf.vnet_hdr_len != UNM_CTL_UNSET) ||
		    memcmp(&x, &zero, sizeof(x)))
			return BAD("port spec without a type has fields set");
		s->kind = UNM_KIND_NONE;
		return 0;
	}
	t = unm_port_type_named(w->type, strlen(w->type));
	if (!t)
		return BAD("port spec: unknown port type '%.16s'", w->type);
	if (!w->name[0])
		return BAD("port spec: no name");
	if (w->ring < -1 || w->ring >= UNM_MAX_RINGS)
		return BAD("port spec: ring %d out of range", (int)w->ring);
	if ((w->flags & ~(uint32_t)UNM_CTL_SPEC_MASK) ||
	    ((w->flags & UNM_CTL_SPEC_TX_ONLY) && (w->flags & UNM_CTL_SPEC_RX_ONLY)))
		return BAD("port spec: bad flags 0x%x", w->flags);
	if (!conf_ok(c->tx_rings, 1, UNM_MAX_RINGS) || !conf_ok(c->rx_rings, 1, UNM_MAX_RINGS) ||
	    !conf_ok(c->tx_slots, UNM_MIN_SLOTS, UNM_MAX_SLOTS) ||
	    !conf_ok(c->rx_slots, UNM_MIN_SLOTS, UNM_MAX_SLOTS) ||
	    !conf_ok(c->buf_size, UNM_MIN_BUF_SIZE, UNM_MAX_BUF_SIZE) || c->extra_bufs > 65536 ||
	    (c->vnet_hdr_len != UNM_CTL_UNSET && c->vnet_hdr_len != 0 && c->vnet_hdr_len != 10 &&
	     c->vnet_hdr_len != 12) || c->flags)
		return BAD("port spec: @conf value out of range");
	/* sw: a switch port's switch (checked below); else the switch a
	 * request names besides the port, which unmd checks where it is
	 * used (vs_name_ok) */
	if (!chars_ok(w->pipe_id, ident) || !chars_ok(w->path, graph) ||
	    !chars_ok(w->xconf, graph) || !chars_ok(w->domain, domain_char))
		return BAD("port spec: bad character in a name");
	if (target) {
		/* a monitored port: unmd finds it by type, switch, port and
		 * name; nothing else is set and nothing is opened from it */
		if (t->kind == UNM_KIND_MONITOR || w->flags || w->ring != -1 || w->path[0] ||
		    w->domain[0] || w->xconf[0] || memcmp(c, &(struct unm_ctl_geom){
			.vnet_hdr_len = UNM_CTL_UNSET }, sizeof(*c)) ||
		    memcmp(&w->geom, &(struct unm_ctl_geom){ 0 }, sizeof(w->geom)) ||
		    (t->kind == UNM_KIND_VALE && (!w->sw[0] || !w->port[0])))
			return BAD("port spec: a monitored port is named by type, switch, port and "
				   "name only");
		s->kind = t->kind;
		snprintf(s->type, sizeof(s->type), "%s", t->name);
		memcpy(s->sw, w->sw, sizeof(w->sw));
		memcpy(s->port, w->port, sizeof(w->port));
		s->base_len = w->base_len;
		return 0;
	}
	if (!chars_ok(w->port, graph) || w->pipe_role > UNM_PIPE_SLAVE)
		return BAD("port spec: bad character in a name");
	/* a monitor's other fields describe the port it monitors (any type) */
	if (t->kind != UNM_KIND_MONITOR) {
		if (w->domain[0] && t->kind != UNM_KIND_VALE)
			return BAD("port spec: only switch ports join a domain");
		if (w->xconf[0] && t->kind != UNM_KIND_VXLAN && t->kind != UNM_KIND_DPDK &&
		    t->kind != UNM_KIND_MEMIF)
			return BAD("port spec: %s has no options of its own", t->name);
		if ((t->kind == UNM_KIND_PIPE) != (w->pipe_role != 0) ||
		    (t->kind == UNM_KIND_PIPE) != (w->pipe_id[0] != 0))
			return BAD("port spec: pipe fields of a %s port", t->name);
	} else if ((w->pipe_role != 0) != (w->pipe_id[0] != 0)) {
		return BAD("port spec: pipe fields of a monitor");
	}
	switch (t->arg) {
	case UNM_ARG_SWITCH:
		if (strncmp(w->sw, "vale", 4) || !chars_ok(w->sw, ident) || !w->port[0] ||
		    strlen(w->port) >= UNM_IFNAMSIZ || !chars_ok(w->port, ident) || w->path[0])
			return BAD("port spec: a switch port is valeX:PORT (letters, digits, '_')");
		break;
	case UNM_ARG_IFNAME:
		if (!w->port[0] || strlen(w->port) >= UNM_IFNAMSIZ || !chars_ok(w->port, ifname_char) ||
		    !strcmp(w->port, ".") || !strcmp(w->port, "..") || w->path[0])
			return BAD("port spec: bad interface name");
		break;
	case UNM_ARG_PIPE:
		if (!w->port[0] || !chars_ok(w->port, ident) || w->path[0])
			return BAD("port spec: bad pipe name");
		break;
	case UNM_ARG_NONE:
		if (w->port[0] || w->path[0])
			return BAD("port spec: the null port takes no argument");
		break;
	case UNM_ARG_NAME: /* a monitor: path is the monitored port's name */
		if (!w->path[0] || !chars_ok(w->port, graph))
			return BAD("port spec: a monitor names its port");
		break;
	default: /* a path, remotes, a PCI address */
		if (!w->path[0] || w->port[0])
			return BAD("port spec: %s takes a path", t->name);
		break;
	}
	if (t->kind != UNM_KIND_VALE &&
	    (w->geom.tx_rings || w->geom.rx_rings || w->geom.tx_slots || w->geom.rx_slots ||
	     w->geom.buf_size || w->geom.extra_bufs || w->geom.vnet_hdr_len || w->geom.flags))
		return BAD("port spec: geometry of a port that is not a switch port");
	s->kind = t->kind;
	snprintf(s->type, sizeof(s->type), "%s", t->name);
	memcpy(s->sw, w->sw, sizeof(w->sw));
	memcpy(s->port, w->port, sizeof(w->port));
	memcpy(s->pipe_id, w->pipe_id, sizeof(w->pipe_id));
	s->pipe_role = (int)w->pipe_role;
	memcpy(s->path, w->path, sizeof(w->path));
	memcpy(s->domain, w->domain, sizeof(w->domain));
	memcpy(s->xconf, w->xconf, sizeof(w->xconf));
	s->ring = w->ring;
	s->flags = w->flags;
	s->tx_rings = c->tx_rings;
	s->rx_rings = c->rx_rings;
	s->tx_slots = c->tx_slots;
	s->rx_slots = c->rx_slots;
	s->buf_size = c->buf_size;
	s->extra_bufs = c->extra_bufs;
	s->vnet_hdr_len = c->vnet_hdr_len == UNM_CTL_UNSET ? -1 : (int)c->vnet_hdr_len;
	s->base_len = w->base_len;
	if (t->kind == UNM_KIND_MONITOR && !(s->flags & (UNM_SPEC_MON_TX | UNM_SPEC_MON_RX |
							  UNM_SPEC_MON_ZCOPY)))
		return BAD("port spec: a monitor without a direction");
	/* the type's own options, checked as the parser checks them */
	if (t->kind == UNM_KIND_VXLAN) {
		struct unm_vxlan_conf vc;
		char why[160];

		if (unm_vxlan_conf_parse(s, &vc, why, sizeof(why)))
			return BAD("port spec: %s", why);
	} else if (t->kind == UNM_KIND_MEMIF) {
		struct unm_memif_conf mc;
		char why[160];

		if (strlen(s->path) >= 108 || (s->path[0] == '@' && !s->path[1]) ||
		    unm_memif_conf_parse(s, &mc, why, sizeof(why)))
			return BAD("port spec: bad memif socket or options");
	}
	return 0;
}

int unm_ctl_req_port(const struct unm_ctl_req *r, struct unm_spec *s, char *err, size_t errlen)
{
	bool mon = r->op == UNM_CTL_OPEN_PORT && (r->flags & UNM_CTL_OPEN_MON_MASK);
	int rc = unm_ctl_spec_get(&r->spec, mon, s, err, errlen);

	if (rc)
		return rc;
	switch (r->op) {
	case UNM_CTL_OPEN_PORT:
	case UNM_CTL_PORT_ADD:
	case UNM_CTL_PORT_DEL:
	case UNM_CTL_ATTACH:
		if (s->kind == UNM_KIND_NONE)
			return BAD("this request names a port: its parsed form is missing");
		return 0;
	case UNM_CTL_DETACH:
		return r->spec.name[0] ? 0 : BAD("detach of no port");
	case UNM_CTL_LIST:
	case UNM_CTL_PORT_STATS:
	case UNM_CTL_PORT_OFFLOAD:
		return 0;
	default:
		return s->kind == UNM_KIND_NONE && !r->spec.name[0] ? 0 :
		       BAD("this request names no port");
	}
}
