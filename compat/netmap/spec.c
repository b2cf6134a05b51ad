// SPDX-License-Identifier: BSD-2-Clause
/*
 * spec.c - netmap port specifications (libnetmap, nm_open and kernel-side
 * nr_name spellings) parsed into a struct nmc_spec.
 *
 *   spec   := [ 'netmap:' ] IFNAME [ pipe ] suffix*      host interface or pipe
 *           | 'vale' ID ':' PORT [ pipe ] suffix*        VALE port
 *           | 'unm:' UNM-NAME                            any unetmap name, verbatim
 *   pipe   := '{' ID | '}' ID
 *   suffix := '^' [N] | '*' | '-' N | '/' [xztrRT]+ | '@' N
 *           | '@conf' ( '=' N | ':' KEY '=' N (',' KEY '=' N)* )
 *           | '@share=' PORT (accepted, no effect) | '@extmem...' '@offset...' (ENOTSUP)
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nmc.h"

static __thread char errbuf[NMC_ERRLEN];

const char *nmc_errmsg(void)
{
	return errbuf;
}

int nmc_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return err;
}

static int ident(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* A decimal number at *s (advanced), at most MAX. */
static int number(const char **s, unsigned long max, unsigned long *out)
{
	char *e;
	unsigned long v;

	if (!isdigit((unsigned char)**s))
		return -1;
	errno = 0;
	v = strtoul(*s, &e, 10);
	if (errno || v > max)
		return -1;
	*s = e;
	*out = v;
	return 0;
}

static int conf_key(struct nmc_spec *sp, const char *key, size_t klen,
		    unsigned long v, const char *spec)
{
#define K(s) (klen == sizeof(s) - 1 && !memcmp(key, s, klen))
	if (K("rings")) {
		sp->tx_rings = sp->rx_rings = (uint16_t)v;
	} else if (K("tx-rings")) {
		sp->tx_rings = (uint16_t)v;
	} else if (K("rx-rings")) {
		sp->rx_rings = (uint16_t)v;
	} else if (K("host-rings")) {
		sp->host_tx_rings = sp->host_rx_rings = (uint16_t)v;
	} else if (K("host-tx-rings")) {
		sp->host_tx_rings = (uint16_t)v;
	} else if (K("host-rx-rings")) {
		sp->host_rx_rings = (uint16_t)v;
	} else if (K("slots")) {
		sp->tx_slots = sp->rx_slots = (uint32_t)v;
	} else if (K("tx-slots")) {
		sp->tx_slots = (uint32_t)v;
	} else if (K("rx-slots")) {
		sp->rx_slots = (uint32_t)v;
	} else {
		return nmc_fail(-EINVAL, "bad port name '%.80s': unknown @conf key '%.*s'",
				spec, (int)klen, key);
	}
#undef K
	return 0;
}

/* @conf=N or @conf:k=v,k=v,... at s (after "@conf"); *end = where it stops. */
static int parse_conf(struct nmc_spec *sp, const char *s, const char **end,
		      const char *spec)
{
	unsigned long v;

	if (*s == '=') {
		s++;
		if (number(&s, 65535, &v))
			return nmc_fail(-EINVAL, "bad port name '%.80s': @conf=N needs a number", spec);
		sp->tx_rings = sp->rx_rings = (uint16_t)v;
		*end = s;
		return 0;
	}
	if (*s != ':')
		return nmc_fail(-EINVAL, "bad port name '%.80s': @conf needs '=' or ':'", spec);
	do {
		const char *k = ++s;
		int rc;

		while (*s && *s != '=' && *s != ',' && *s != '@')
			s++;
		if (*s != '=')
			return nmc_fail(-EINVAL, "bad port name '%.80s': @conf key without value", spec);
		size_t klen = (size_t)(s - k);
		s++;
		if (number(&s, 1u << 20, &v))
			return nmc_fail(-EINVAL, "bad port name '%.80s': bad @conf value", spec);
		rc = conf_key(sp, k, klen, v, spec);
		if (rc)
			return rc;
	} while (*s == ',');
	*end = s;
	return 0;
}

int nmc_spec_parse(const char *spec, struct nmc_spec *sp)
{
	const char *s = spec, *name_end;
	unsigned long v;
	size_t len;

	memset(sp, 0, sizeof(*sp));
	if (!spec || !*spec)
		return nmc_fail(-EINVAL, "empty port name");
	if (!strncmp(s, "unm:", 4)) {
		if (strlen(s) >= sizeof(sp->base))
			return nmc_fail(-ENAMETOOLONG, "port name '%.80s' too long", spec);
		strcpy(sp->base, s);
		sp->mode = NR_REG_ALL_NIC;
		return 0;
	}
	if (!strncmp(s, "vale", 4)) {
		s += 4;
		while (ident(*s))
			s++;
		if (*s != ':')
			return nmc_fail(-EINVAL, "bad port name '%.80s': VALE names are valeX:PORT", spec);
		s++;
		if (!ident(*s))
			return nmc_fail(-EINVAL, "bad port name '%.80s': missing VALE port name", spec);
		while (ident(*s))
			s++;
	} else {
		if (!strncmp(s, "netmap:", 7))
			s += 7;
		const char *n = s;
		while (*s && !strchr("{}^*/@", *s) &&
		       !(*s == '-' && isdigit((unsigned char)s[1])))
			s++;
		if (s == n)
			return nmc_fail(-EINVAL, "bad port name '%.80s': missing interface name", spec);
		for (const char *c = n; c < s; c++)
			if (*c == ':' || isspace((unsigned char)*c))
				return nmc_fail(-EINVAL, "bad port name '%.80s': bad character in interface name", spec);
	}
	if (*s == '{' || *s == '}') {
		s++;
		if (!ident(*s))
			return nmc_fail(-EINVAL, "bad port name '%.80s': missing pipe id", spec);
		while (ident(*s))
			s++;
	}
	name_end = s;
	len = (size_t)(name_end - spec);
	if (len >= sizeof(sp->base))
		return nmc_fail(-ENAMETOOLONG, "port name '%.80s' too long", spec);
	memcpy(sp->base, spec, len);
	sp->base[len] = '\0';

	while (*s) {
		switch (*s) {
		case '^':
			s++;
			if (isdigit((unsigned char)*s)) {
				if (number(&s, NETMAP_RING_MASK, &v))
					goto bad_ring;
				sp->mode = NR_REG_ONE_SW;
				sp->ringid = (uint16_t)v;
			} else {
				sp->mode = NR_REG_SW;
			}
			break;
		case '*':
			s++;
			sp->mode = NR_REG_NIC_SW;
			break;
		case '-':
			s++;
			if (number(&s, NETMAP_RING_MASK, &v))
				goto bad_ring;
			sp->mode = NR_REG_ONE_NIC;
			sp->ringid = (uint16_t)v;
			break;
		case '/':
			s++;
			if (!*s || *s == '@')
				return nmc_fail(-EINVAL, "bad port name '%.80s': empty /flags", spec);
			for (; *s && *s != '@' && *s != '-' && *s != '^' && *s != '*'; s++) {
				switch (*s) {
				case 'x': sp->flags |= NR_EXCLUSIVE; break;
				case 'z': sp->flags |= NR_ZCOPY_MON; break;
				case 't': sp->flags |= NR_MONITOR_TX; break;
				case 'r': sp->flags |= NR_MONITOR_RX; break;
				case 'R': sp->flags |= NR_RX_RINGS_ONLY; break;
				case 'T': sp->flags |= NR_TX_RINGS_ONLY; break;
				default:
					return nmc_fail(-EINVAL, "bad port name '%.80s': unknown flag '%c'",
							spec, *s);
				}
			}
			break;
		case '@':
			s++;
			if (isdigit((unsigned char)*s)) {
				if (number(&s, 65535, &v)) /* memory id: one region per port here */
					return nmc_fail(-EINVAL, "bad port name '%.80s': bad memory id", spec);
			} else if (!strncmp(s, "conf", 4) && (s[4] == ':' || s[4] == '=')) {
				int rc = parse_conf(sp, s + 4, &s, spec);
				if (rc)
					return rc;
			} else if (!strncmp(s, "share=", 6)) {
				/* every unetmap port has its own region: nothing to share */
				s += 6;
				while (*s && *s != '@')
					s++;
			} else if (!strncmp(s, "extmem", 6) || !strncmp(s, "offset", 6)) {
				return nmc_fail(-ENOTSUP,
						"port '%.80s': @%.6s is not supported over unetmap (the port's "
						"region is allocated by unetmap; buffer offsets are not implemented)",
						spec, s);
			} else {
				return nmc_fail(-EINVAL, "bad port name '%.80s': unknown option '@%.20s'",
						spec, s);
			}
			break;
		default:
			return nmc_fail(-EINVAL, "bad port name '%.80s': unexpected '%c'", spec, *s);
		}
	}
	return 0;
bad_ring:
	return nmc_fail(-EINVAL, "bad port name '%.80s': bad ring number", spec);
}
