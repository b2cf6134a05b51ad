// SPDX-License-Identifier: BSD-2-Clause
/*
 * name.c - the port-name parser (no I/O, no allocation, no global state).
 * Which prefixes are types, and how each spells its argument, comes from
 * the table of port types (port_types.c).
 *
 * Grammar (netmap's spelling where netmap has one):
 *   name     := base suffix*
 *   base     := NAME '{' ID | NAME '}' ID          pipe master / slave
 *             | 'vale' [A-Za-z0-9_]* ':' PORT       VALE switch port
 *             | ('tap'|'afpacket'|'afxdp') ':' IFNAME
 *             | ('shmif'|'vhost-user') ':' PATH     (PATH ends at "@conf")
 *             | 'ivshmem' ':' [HHHH ':'] HH ':' HH '.' H
 *             | 'monitor' ':' name                  (copy monitor, TX+RX)
 *             | 'vxlan' ':' REMOTE (',' REMOTE)*     (REMOTE: IPv4 or IPv6
 *                                                    address; ends at "@conf")
 *             | 'memif' ':' PATH                     (unix socket path, or
 *                                                    '@' NAME: abstract;
 *                                                    ends at "@conf")
 *             | 'null' [':']
 *   suffix   := '-' DIGITS                          one ring pair
 *             | '/' [xztrRT]+                       flags
 *             | '@conf' ('=' N | ':' KEY '=' N (',' KEY '=' N)*)
 * '-N' and '/FLAGS' may come in any order; an @conf option runs to the next
 * '@' or the end. The whole name is at most NAME_LEN_MAX printable ASCII
 * characters. A name with /t, /r or /z opens a monitor of the port it names
 * (netmap): for every monitor, spec.path is the monitored port's name
 * without its suffixes, and spec.sw/port/pipe_id/pipe_role describe that
 * port, so the monitor code can re-parse path to find its target.
 * Every error is "bad port name 'NAME': WHY" (NAME cut at 96 characters).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "backend/vxlan.h"
#include "backend/memif.h"

#define NAME_LEN_MAX 400

struct pctx {
	const char *name;
	char *err;
	size_t errlen;
	const char *sfx;    /* where the suffixes of the last base parsed begin */
};

static int bad(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct pctx *c, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "bad port name '%.96s': %s", c->name, why);
	return -EINVAL;
}

static bool ident_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_';
}

/* Interface names: what Linux accepts, minus the characters we use as
 * separators ('/', '@', ':', '{', '}'). '-' is allowed; "-DIGITS" at the end
 * is the ring suffix (netmap's rule). */
static bool ifname_char(char ch)
{
	return isgraph((unsigned char)ch) && !strchr("/@:{}", ch);
}

/* True if S ends in '-' followed by one or more digits. */
static bool ends_in_ring(const char *s)
{
	const char *dash = strrchr(s, '-');

	return dash && dash[1] && strspn(dash + 1, "0123456789") == strlen(dash + 1);
}

/* Copy [s, e) into dst (size n); fail if empty or too long. */
static int take(struct pctx *c, char *dst, size_t n, const char *s, const char *e,
		const char *what)
{
	size_t len = (size_t)(e - s);

	if (len == 0)
		return bad(c, "missing %s", what);
	if (len >= n)
		return bad(c, "%s longer than %zu characters", what, n - 1);
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

static int parse_uint(struct pctx *c, const char *s, const char *e, unsigned lo,
		      unsigned hi, const char *key, unsigned *out)
{
	unsigned long v = 0;

	if (s == e)
		return bad(c, "missing value for '%s'", key);
	for (const char *q = s; q < e; q++) {
		if (!isdigit((unsigned char)*q))
			return bad(c, "'%.*s' is not a number for '%s'", (int)(e - s), s, key);
		v = v * 10 + (unsigned long)(*q - '0');
		if (v > 1000000)
			return bad(c, "%s=%.*s is too large", key, (int)(e - s), s);
	}
	if (v < lo || v > hi)
		return bad(c, "%s=%lu out of range %u..%u", key, v, lo, hi);
	*out = (unsigned)v;
	return 0;
}

static int parse_conf(struct pctx *c, const char *s, const char *e, struct unm_spec *sp)
{
	if (s < e && *s == '=') {  /* @conf=N: the default key is rings */
		unsigned v;
		int rc = parse_uint(c, s + 1, e, 1, UNM_MAX_RINGS, "rings", &v);

		if (rc)
			return rc;
		sp->tx_rings = sp->rx_rings = v;
		return 0;
	}
	if (s == e || *s != ':')
		return bad(c, "expected ':' or '=' after @conf");
	s++;
	if (s == e)
		return bad(c, "empty @conf option list");
	while (s < e) {
		const char *comma = memchr(s, ',', (size_t)(e - s));
		const char *end = comma ? comma : e;
		const char *eq = memchr(s, '=', (size_t)(end - s));
		unsigned v;
		int rc;

		if (end == s)
			return bad(c, "empty @conf option");
		if (!eq)
			return bad(c, "@conf option '%.*s' has no value", (int)(end - s), s);
#define KEY(k) ((size_t)(eq - s) == strlen(k) && !memcmp(s, k, strlen(k)))
		if (KEY("rings")) {
			if ((rc = parse_uint(c, eq + 1, end, 1, UNM_MAX_RINGS, "rings", &v)))
				return rc;
			sp->tx_rings = sp->rx_rings = v;
		} else if (KEY("tx-rings")) {
			if ((rc = parse_uint(c, eq + 1, end, 1, UNM_MAX_RINGS, "tx-rings", &sp->tx_rings)))
				return rc;
		} else if (KEY("rx-rings")) {
			if ((rc = parse_uint(c, eq + 1, end, 1, UNM_MAX_RINGS, "rx-rings", &sp->rx_rings)))
				return rc;
		} else if (KEY("slots")) {
			if ((rc = parse_uint(c, eq + 1, end, UNM_MIN_SLOTS, UNM_MAX_SLOTS, "slots", &v)))
				return rc;
			sp->tx_slots = sp->rx_slots = v;
		} else if (KEY("tx-slots")) {
			if ((rc = parse_uint(c, eq + 1, end, UNM_MIN_SLOTS, UNM_MAX_SLOTS, "tx-slots",
					     &sp->tx_slots)))
				return rc;
		} else if (KEY("rx-slots")) {
			if ((rc = parse_uint(c, eq + 1, end, UNM_MIN_SLOTS, UNM_MAX_SLOTS, "rx-slots",
					     &sp->rx_slots)))
				return rc;
		} else if (KEY("bufsize") || KEY("buf-size")) {
			if ((rc = parse_uint(c, eq + 1, end, UNM_MIN_BUF_SIZE, UNM_MAX_BUF_SIZE,
					     "bufsize", &sp->buf_size)))
				return rc;
		} else if (KEY("extra-bufs")) {
			if ((rc = parse_uint(c, eq + 1, end, 0, 65536, "extra-bufs", &sp->extra_bufs)))
				return rc;
		} else if (KEY("vnet")) {
			if ((rc = parse_uint(c, eq + 1, end, 0, 12, "vnet", &v)))
				return rc;
			if (v != 0 && v != 10 && v != 12)
				return bad(c, "vnet=%u: the virtio-net header is 0, 10 or 12 bytes", v);
			sp->vnet_hdr_len = (int)v;
		} else if (KEY("domain") && sp->kind == UNM_KIND_VALE) {
			/* a trust domain of the switch (docs/architecture.md) */
			size_t n = (size_t)(end - eq - 1);

			if (n == 0 || n >= sizeof(sp->domain))
				return bad(c, "domain=NAME takes 1 to %zu characters",
					   sizeof(sp->domain) - 1);
			for (const char *q = eq + 1; q < end; q++)
				if (!isalnum((unsigned char)*q) && *q != '_' && *q != '-')
					return bad(c, "domain=%.*s: a domain name is letters, digits, "
						   "'_' and '-'", (int)n, eq + 1);
			memcpy(sp->domain, eq + 1, n);
			sp->domain[n] = '\0';
		} else if ((sp->kind == UNM_KIND_VXLAN && unm_vxlan_conf_key(s, (size_t)(eq - s))) ||
			   (sp->kind == UNM_KIND_DPDK && (KEY("eal") || KEY("zerocopy"))) ||
			   (sp->kind == UNM_KIND_MEMIF && unm_memif_conf_key(s, (size_t)(eq - s)))) {
			/* the type's own option: collected here, checked by
			 * unm_vxlan_conf_parse() / unm_memif_conf_parse() once
			 * the name is read (vxlan, memif) or by the port (dpdk:
			 * eal=ARG+ARG, EAL's arguments; zerocopy=0|1) */
			size_t have = strlen(sp->xconf), add = (size_t)(end - s);

			if (have + add + 2 > sizeof(sp->xconf))
				return bad(c, "%s @conf options longer than %zu characters",
					   sp->kind == UNM_KIND_DPDK ? "dpdk" :
					   sp->kind == UNM_KIND_MEMIF ? "memif" : "vxlan",
					   sizeof(sp->xconf) - 2);
			if (have)
				sp->xconf[have++] = ',';
			memcpy(sp->xconf + have, s, add);
			sp->xconf[have + add] = '\0';
		} else {
			return bad(c, "unknown @conf option '%.*s'", (int)(eq - s), s);
		}
#undef KEY
		s = comma ? comma + 1 : e;
		if (comma && s == e)
			return bad(c, "trailing ',' in @conf");
	}
	return 0;
}

/* Parse the suffixes in [s, e): -N, /FLAGS, @conf... */
static int parse_suffixes(struct pctx *c, const char *s, const char *e, struct unm_spec *sp,
			  bool allow_ring, bool allow_flags)
{
	c->sfx = s;
	while (s < e) {
		if (*s == '-' && allow_ring) {
			const char *q = s + 1;
			unsigned v;
			int rc;

			while (q < e && isdigit((unsigned char)*q))
				q++;
			if (sp->ring >= 0)
				return bad(c, "ring given twice");
			if ((rc = parse_uint(c, s + 1, q, 0, UNM_MAX_RINGS - 1, "ring", &v)))
				return rc;
			sp->ring = (int)v;
			s = q;
		} else if (*s == '/' && allow_flags) {
			const char *q = s + 1;

			if (q == e || *q == '@' || *q == '/')
				return bad(c, "empty flag list after '/'");
			for (; q < e && *q != '@' && *q != '/' && *q != '-'; q++) {
				switch (*q) {
				case 'x': sp->flags |= UNM_SPEC_EXCLUSIVE; break;
				case 'z': sp->flags |= UNM_SPEC_MON_ZCOPY; break;
				case 't': sp->flags |= UNM_SPEC_MON_TX; break;
				case 'r': sp->flags |= UNM_SPEC_MON_RX; break;
				case 'T': sp->flags |= UNM_SPEC_TX_ONLY; break;
				case 'R': sp->flags |= UNM_SPEC_RX_ONLY; break;
				default:
					return bad(c, "unknown flag '%c' (flags are x z t r T R)", *q);
				}
			}
			if ((sp->flags & UNM_SPEC_TX_ONLY) && (sp->flags & UNM_SPEC_RX_ONLY))
				return bad(c, "/T and /R exclude each other");
			s = q;
		} else if (*s == '@') {
			const char *q = s + 1;
			int rc;

			if ((size_t)(e - q) >= 4 && !memcmp(q, "conf", 4) &&
			    (q + 4 == e || strchr(":=@", q[4]))) {
				const char *end = q + 4;

				/* @conf runs to the next '@' (another option) or the end */
				while (end < e && *end != '@')
					end++;
				if ((rc = parse_conf(c, q + 4, end, sp)))
					return rc;
				s = end;
			} else if (q < e && isdigit((unsigned char)*q)) {
				return bad(c, "memory region ids (@N) are not supported: each port has its own region");
			} else {
				const char *end = q;

				while (end < e && (isalnum((unsigned char)*end) || *end == '-' ||
						   *end == '_'))
					end++;
				return bad(c, "unknown option '@%.*s' (supported: @conf)", (int)(end - q), q);
			}
		} else {
			return bad(c, "unexpected '%c' at offset %d", *s, (int)(s - c->name));
		}
	}
	return 0;
}

/* End of the base part: the first suffix character that applies. */
static const char *base_end(const char *s, const char *e, bool ring_ok)
{
	for (const char *q = s; q < e; q++) {
		if (*q == '/' || *q == '@')
			return q;
		if (*q == '-' && ring_ok) {
			const char *d = q + 1;

			while (d < e && isdigit((unsigned char)*d))
				d++;
			if (d > q + 1 && (d == e || *d == '/' || *d == '@'))
				return q;
		}
	}
	return e;
}

static int parse_pipe(struct pctx *c, const char *s, const char *e, struct unm_spec *sp)
{
	const char *br = s;
	const char *id, *idend;
	int rc;

	while (br < e && *br != '{' && *br != '}')
		br++;
	for (const char *q = s; q < br; q++)
		if (!ident_char(*q))
			return bad(c, "pipe name may contain only letters, digits and '_' (found '%c')", *q);
	if ((rc = take(c, sp->port, sizeof(sp->port), s, br, "pipe name")))
		return rc;
	sp->pipe_role = *br == '{' ? UNM_PIPE_MASTER : UNM_PIPE_SLAVE;
	id = br + 1;
	idend = id;
	while (idend < e && ident_char(*idend))
		idend++;
	if ((rc = take(c, sp->pipe_id, sizeof(sp->pipe_id), id, idend, "pipe id")))
		return rc;
	if (idend < e && (*idend == '{' || *idend == '}'))
		return bad(c, "more than one '{' or '}'");
	sp->kind = UNM_KIND_PIPE;
	snprintf(sp->type, sizeof(sp->type), "pipe");
	return parse_suffixes(c, idend, e, sp, true, true);
}

static int parse_ifname(struct pctx *c, const char *s, const char *e, struct unm_spec *sp,
			bool ring_ok)
{
	const char *be = base_end(s, e, ring_ok);
	int rc;

	for (const char *q = s; q < be; q++)
		if (!ifname_char(*q))
			return bad(c, "interface name may not contain '%c'", *q);
	if ((rc = take(c, sp->port, UNM_IFNAMSIZ, s, be, "interface name")))
		return rc;
	if (!strcmp(sp->port, ".") || !strcmp(sp->port, ".."))
		return bad(c, "'%s' is not an interface name", sp->port);
	/* "-DIGITS" at the end always reads as the ring (netmap's rule), so
	 * an interface so named could not be written without one, and the
	 * name alone (a monitor's target) would mean another port. */
	if (ends_in_ring(sp->port))
		return bad(c, "interface name '%s' ends in -N, which reads as a ring number",
			   sp->port);
	return parse_suffixes(c, be, e, sp, ring_ok, true);
}

static int parse_path(struct pctx *c, const char *s, const char *e, struct unm_spec *sp)
{
	const char *at = s;
	int rc;

	/* A path runs to "@conf" (or the end): paths may contain '/', '-'. */
	while (at < e && !(e - at >= 5 && !memcmp(at, "@conf", 5)))
		at++;
	if ((rc = take(c, sp->path, sizeof(sp->path), s, at, "path")))
		return rc;
	return parse_suffixes(c, at, e, sp, false, false);
}

/* [DDDD:]BB:DD.F in hex, as lspci prints it; device <= 0x1f, function <= 7. */
static bool pci_address_ok(const char *a)
{
	unsigned len = (unsigned)strlen(a);
	const char *f = len == 12 ? "hhhh:hh:hh.h" : len == 7 ? "hh:hh.h" : NULL;

	if (!f)
		return false;
	for (unsigned i = 0; i < len; i++)
		if (f[i] == 'h' ? !isxdigit((unsigned char)a[i]) : a[i] != f[i])
			return false;
	return strtoul(a + len - 4, NULL, 16) <= 0x1f && a[len - 1] <= '7';
}

#define MON_FLAGS (UNM_SPEC_MON_TX | UNM_SPEC_MON_RX | UNM_SPEC_MON_ZCOPY)

/*
 * Turn sp, the parsed spec of the port named at BASE, into a monitor of
 * that port: path = the port's name up to its suffixes (c->sfx); the
 * suffixes stay the monitor's own. No /t /r /z means a copy monitor of
 * both directions.
 */
static int make_monitor(struct pctx *c, struct unm_spec *sp, const char *base)
{
	int rc = take(c, sp->path, sizeof(sp->path), base, c->sfx, "monitored port");

	if (rc)
		return rc;
	/* @conf:domain= belongs to a switch port, which a monitor is not */
	if (sp->domain[0])
		return bad(c, "a monitor joins no trust domain");
	sp->mon_kind = sp->kind;
	sp->kind = UNM_KIND_MONITOR;
	snprintf(sp->type, sizeof(sp->type), "monitor");
	if (!(sp->flags & MON_FLAGS))
		sp->flags |= UNM_SPEC_MON_TX | UNM_SPEC_MON_RX;
	return 0;
}

static int parse(struct pctx *c, const char *s, struct unm_spec *sp, int depth)
{
	const char *e = s + strlen(s);
	const char *colon = strchr(s, ':');
	const struct unm_port_type *t;
	size_t tlen;
	int rc;

	if (s == e)
		return bad(c, "empty name");
	if (!strncmp(s, "null", 4) && s[4] && strchr(":@/-", s[4])) {
		const char *q = s + 4 + (s[4] == ':');

		if (q < e && !strchr("@/-", *q))
			return bad(c, "the null port takes no argument");
		sp->kind = UNM_KIND_NULL;
		snprintf(sp->type, sizeof(sp->type), "null");
		return parse_suffixes(c, q, e, sp, true, true);
	}
	if (!strcmp(s, "null")) {
		sp->kind = UNM_KIND_NULL;
		snprintf(sp->type, sizeof(sp->type), "null");
		c->sfx = e;
		return 0;
	}
	/* No type prefix: a pipe (the only untyped form) */
	if (!colon || (strpbrk(s, "{}") && strpbrk(s, "{}") < colon)) {
		if (!strpbrk(s, "{}"))
			return bad(c, "no port type: expected TYPE:ARG (vale0:p1, tap:tap0, ...) or a pipe NAME{ID");
		return parse_pipe(c, s, e, sp);
	}
	tlen = (size_t)(colon - s);
	if (tlen == 0)
		return bad(c, "missing port type before ':'");
	t = tlen >= 4 && !memcmp(s, "vale", 4) ? unm_port_type(UNM_KIND_VALE) :
	    unm_port_type_named(s, tlen);
	if (!t || t->arg == UNM_ARG_NONE || t->arg == UNM_ARG_PIPE) {
		/* null and pipes were parsed above; anything else is unknown */
		char tn[24], known[200] = "";
		size_t kl = 0;

		for (unsigned i = 0; i < unm_n_port_types; i++)
			kl += (size_t)snprintf(known + kl, kl < sizeof(known) ? sizeof(known) - kl : 0,
					       "%s%s", i ? ", " : "", unm_port_types[i].spelled);
		snprintf(tn, sizeof(tn), "%.*s", (int)(tlen > 20 ? 20 : tlen), s);
		snprintf(c->err, c->errlen,
			 "bad port name '%.96s': unknown port type '%s' (known: %s)",
			 c->name, tn, known);
		return -EPROTONOSUPPORT;
	}
	sp->kind = t->kind;
	switch (t->arg) {
	case UNM_ARG_SWITCH: {
		const char *p = colon + 1, *pe;

		for (const char *q = s; q < colon; q++)
			if (!ident_char(*q))
				return bad(c, "switch name may contain only letters, digits and '_'");
		if ((rc = take(c, sp->sw, UNM_IFNAMSIZ, s, colon, "switch name")))
			return rc;
		pe = p;
		while (pe < e && ident_char(*pe))
			pe++;
		if (depth > 0 && pe < e && *pe == ':') {
			/* monitor:valeX:TYPE:ARG - a port attached to valeX,
			 * named on its switch (sp->sw says which). One level
			 * only: TYPE is never a switch, or the inner switch
			 * would overwrite sp->sw. */
			if (e - p >= 4 && !memcmp(p, "vale", 4))
				return bad(c, "valeX:TYPE:ARG names a port attached to a switch");
			if ((rc = parse(c, p, sp, depth)))
				return rc;
			if (sp->kind == UNM_KIND_VALE || sp->kind == UNM_KIND_MONITOR)
				return bad(c, "valeX:TYPE:ARG names a port attached to a switch");
			return 0;
		}
		if (pe < e && (*pe == '{' || *pe == '}'))
			return bad(c, "pipes of switch ports are not supported; use a pipe NAME{ID");
		if (pe < e && *pe != '-' && *pe != '/' && *pe != '@')
			return bad(c, "switch port name may contain only letters, digits and '_' (found '%c')", *pe);
		if ((rc = take(c, sp->port, UNM_IFNAMSIZ, p, pe, "switch port name")))
			return rc;
		rc = parse_suffixes(c, pe, e, sp, true, true);
		break;
	}
	case UNM_ARG_IFNAME:
		rc = parse_ifname(c, colon + 1, e, sp, true);
		break;
	case UNM_ARG_PATH:
		rc = parse_path(c, colon + 1, e, sp);
		break;
	case UNM_ARG_VXLAN: {
		struct unm_vxlan_conf vc;
		char why[160];

		if ((rc = parse_path(c, colon + 1, e, sp)))
			return rc;
		if (unm_vxlan_conf_parse(sp, &vc, why, sizeof(why)))
			return bad(c, "%s", why);
		break;
	}
	case UNM_ARG_MEMIF: {
		struct unm_memif_conf mc;
		char why[160];

		if ((rc = parse_path(c, colon + 1, e, sp)))
			return rc;
		if (sp->path[0] == '@' && !sp->path[1])
			return bad(c, "missing abstract socket name after '@'");
		if (strlen(sp->path) >= 108)
			return bad(c, "socket path longer than 107 characters");
		if (unm_memif_conf_parse(sp, &mc, why, sizeof(why)))
			return bad(c, "%s", why);
		break;
	}
	case UNM_ARG_PCI: {
		const char *be = base_end(colon + 1, e, false);

		if ((rc = take(c, sp->path, sizeof(sp->path), colon + 1, be, "PCI address")))
			return rc;
		if (!pci_address_ok(sp->path))
			return bad(c, "'%s' is not a PCI address ([DDDD:]BB:DD.F, hex)", sp->path);
		rc = parse_suffixes(c, be, e, sp, false, false);
		break;
	}
	case UNM_ARG_NAME:
	default:
		if (depth > 0)
			return bad(c, "a monitor of a monitor");
		/* The inner name fills sp (its suffixes are the monitor's). */
		if ((rc = parse(c, colon + 1, sp, depth + 1)))
			return rc;
		if (sp->kind == UNM_KIND_MONITOR)
			return bad(c, "a monitor of a monitor");
		return make_monitor(c, sp, colon + 1);
	}
	if (rc)
		return rc;
	snprintf(sp->type, sizeof(sp->type), "%s", t->name);
	return 0;
}

int unm_parse_name(const char *name, struct unm_spec *sp, char *err, size_t errlen)
{
	struct pctx c = { name ? name : "", err, errlen, NULL };
	int rc;

	memset(sp, 0, sizeof(*sp));
	sp->ring = -1;
	sp->vnet_hdr_len = -1;
	sp->fd = -1;
	if (errlen)
		err[0] = '\0';
	if (!name)
		return bad(&c, "NULL");
	if (strlen(name) > NAME_LEN_MAX)
		return bad(&c, "longer than %d characters", NAME_LEN_MAX);
	for (const char *q = name; *q; q++)
		if (!isgraph((unsigned char)*q))
			return bad(&c, "contains a space, control or non-ASCII character at offset %d",
				   (int)(q - name));
	rc = parse(&c, name, sp, 0);
	if (rc)
		return rc;
	sp->base_len = (unsigned)((c.sfx ? c.sfx : name + strlen(name)) - name);
	/* /t /r /z on a plain port name: open a monitor of that port. */
	if (sp->kind != UNM_KIND_MONITOR && (sp->flags & MON_FLAGS))
		return make_monitor(&c, sp, name);
	return 0;
}
