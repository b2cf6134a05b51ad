// SPDX-License-Identifier: BSD-2-Clause
/*
 * vxlan_conf.c - the vxlan port's pure parts (no I/O): configuration from
 * the port name, the check of a received VXLAN header (RFC 7348 section
 * 5), the bounded learning table and the inner flow hash. See vxlan.h.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "backend/vxlan.h"
#include "offload/offload.h"

static const char *const conf_keys[] = { "vni", "port", "local", "ttl", "learn", "ageing", "rxcsum" };

bool unm_vxlan_conf_key(const char *key, size_t klen)
{
	for (size_t i = 0; i < ARRAY_SIZE(conf_keys); i++)
		if (klen == strlen(conf_keys[i]) && !memcmp(key, conf_keys[i], klen))
			return true;
	return false;
}

static int cerr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int cerr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* One address of [s, e): IPv4 dotted quad or IPv6, optionally in []. */
static int parse_addr(const char *s, const char *e, union vx_addr *a)
{
	char buf[64];
	size_t n = (size_t)(e - s);

	if (n >= 2 && s[0] == '[' && e[-1] == ']')
		s++, n -= 2;
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, buf, &a->v4.sin_addr) == 1) {
		a->v4.sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &a->v6.sin6_addr) == 1) {
		a->v6.sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

static bool addr_mcast(const union vx_addr *a)
{
	if (a->sa.sa_family == AF_INET)
		return IN_MULTICAST(ntohl(a->v4.sin_addr.s_addr));
	return IN6_IS_ADDR_MULTICAST(&a->v6.sin6_addr);
}

static bool addr_unusable(const union vx_addr *a)
{
	if (a->sa.sa_family == AF_INET) {
		uint32_t h = ntohl(a->v4.sin_addr.s_addr);

		return h == 0 || h == 0xffffffffu;
	}
	return IN6_IS_ADDR_UNSPECIFIED(&a->v6.sin6_addr);
}

static int parse_num(const char *s, const char *e, unsigned long lo, unsigned long hi,
		     unsigned long *out)
{
	unsigned long v = 0;

	if (s == e)
		return -1;
	for (; s < e; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > hi)
			return -1;
	}
	if (v < lo)
		return -1;
	*out = v;
	return 0;
}

int unm_vxlan_conf_parse(const struct unm_spec *spec, struct unm_vxlan_conf *vc, char *err,
			 size_t errlen)
{
	const char *s = spec->path, *e = s + strnlen(s, sizeof(spec->path));
	bool have_vni = false;

	memset(vc, 0, sizeof(*vc));
	vc->port = VX_DEF_PORT;
	vc->learn_max = VX_DEF_LEARN;
	vc->ageing_s = VX_DEF_AGEING;
	if (s == e)
		return cerr(err, errlen, "vxlan: no remote (vxlan:ADDR[,ADDR...]@conf:vni=N)");
	while (s < e) {
		const char *c = memchr(s, ',', (size_t)(e - s));
		const char *end = c ? c : e;
		union vx_addr *a = &vc->remote[vc->n_remotes];

		if (vc->n_remotes == VX_MAX_REMOTES)
			return cerr(err, errlen, "vxlan: more than %d remotes", VX_MAX_REMOTES);
		if (parse_addr(s, end, a))
			return cerr(err, errlen, "vxlan: remote '%.*s' is not an IPv4 or IPv6 address",
				    (int)(end - s > 48 ? 48 : end - s), s);
		if (addr_unusable(a))
			return cerr(err, errlen, "vxlan: remote '%.*s' is not a unicast or multicast address",
				    (int)(end - s > 48 ? 48 : end - s), s);
		if (vc->n_remotes && a->sa.sa_family != vc->family)
			return cerr(err, errlen, "vxlan: remotes mix IPv4 and IPv6");
		vc->family = a->sa.sa_family;
		if (addr_mcast(a))
			vc->mcast = true;
		vc->n_remotes++;
		if (c && c + 1 == e)
			return cerr(err, errlen, "vxlan: trailing ',' after the remotes");
		s = c ? c + 1 : e;
	}
	if (vc->mcast && vc->n_remotes > 1)
		return cerr(err, errlen, "vxlan: a multicast group must be the only remote");
	for (unsigned i = 0; i < vc->n_remotes; i++)
		for (unsigned j = 0; j < i; j++)
			if (unm_vxlan_addr_eq(&vc->remote[i], &vc->remote[j]))
				return cerr(err, errlen, "vxlan: remote %u repeats remote %u", i + 1, j + 1);

	s = spec->xconf;
	e = s + strnlen(s, sizeof(spec->xconf));
	while (s < e) {
		const char *c = memchr(s, ',', (size_t)(e - s));
		const char *end = c ? c : e;
		const char *eq = memchr(s, '=', (size_t)(end - s));
		unsigned long v;

		if (!eq)
			return cerr(err, errlen, "vxlan: @conf option without a value");
#define KEY(k) ((size_t)(eq - s) == strlen(k) && !memcmp(s, k, strlen(k)))
		if (KEY("vni")) {
			if (parse_num(eq + 1, end, 0, 0xffffff, &v))
				return cerr(err, errlen, "vxlan: vni must be 0..16777215");
			vc->vni = (uint32_t)v;
			have_vni = true;
		} else if (KEY("port")) {
			if (parse_num(eq + 1, end, 1, 65535, &v))
				return cerr(err, errlen, "vxlan: port must be 1..65535");
			vc->port = (uint16_t)v;
		} else if (KEY("ttl")) {
			if (parse_num(eq + 1, end, 1, 255, &v))
				return cerr(err, errlen, "vxlan: ttl must be 1..255");
			vc->ttl = (unsigned)v;
		} else if (KEY("learn")) {
			if (parse_num(eq + 1, end, 1, VX_MAX_LEARN, &v))
				return cerr(err, errlen, "vxlan: learn must be 1..%d entries", VX_MAX_LEARN);
			vc->learn_max = (unsigned)v;
		} else if (KEY("ageing")) {
			if (parse_num(eq + 1, end, 1, 1000000, &v))
				return cerr(err, errlen, "vxlan: ageing must be 1..1000000 seconds");
			vc->ageing_s = (unsigned)v;
		} else if (KEY("rxcsum")) {
			if ((size_t)(end - eq - 1) == 6 && !memcmp(eq + 1, "verify", 6))
				vc->rx_trust_csum = false;
			else if ((size_t)(end - eq - 1) == 5 && !memcmp(eq + 1, "trust", 5))
				vc->rx_trust_csum = true;
			else
				return cerr(err, errlen, "vxlan: rxcsum must be verify or trust");
		} else if (KEY("local")) {
			if (parse_addr(eq + 1, end, &vc->local) || addr_unusable(&vc->local) ||
			    addr_mcast(&vc->local))
				return cerr(err, errlen, "vxlan: local must be a unicast IPv4 or IPv6 address");
			vc->has_local = true;
		} else {
			return cerr(err, errlen, "vxlan: unknown option '%.*s'", (int)(eq - s), s);
		}
#undef KEY
		s = c ? c + 1 : e;
	}
	if (!have_vni)
		return cerr(err, errlen, "vxlan: missing @conf:vni=N (the VXLAN network identifier)");
	if (vc->has_local && vc->local.sa.sa_family != vc->family)
		return cerr(err, errlen, "vxlan: local and remote addresses are of different families");
	for (unsigned i = 0; i < vc->n_remotes; i++) {
		if (vc->family == AF_INET)
			vc->remote[i].v4.sin_port = htons(vc->port);
		else
			vc->remote[i].v6.sin6_port = htons(vc->port);
	}
	return 0;
}

bool unm_vxlan_addr_eq(const union vx_addr *a, const union vx_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->v4.sin_addr.s_addr == b->v4.sin_addr.s_addr;
	if (a->sa.sa_family == AF_INET6)
		return !memcmp(&a->v6.sin6_addr, &b->v6.sin6_addr, 16);
	return false;
}

int unm_vxlan_rx_check(const struct unm_vxlan_conf *vc, const uint8_t *hdr, size_t dlen,
		       bool trunc, const union vx_addr *src, size_t max_frame)
{
	uint32_t vni;

	if (dlen < VX_HDR_LEN + 14)
		return UNM_VXLAN_RX_SHORT;
	/* RFC 7348 5: I must be 1; the other flag bits and the reserved
	 * fields are ignored on receipt. */
	if (!(hdr[0] & VX_FLAG_I))
		return UNM_VXLAN_RX_FLAGS;
	vni = (uint32_t)hdr[4] << 16 | (uint32_t)hdr[5] << 8 | hdr[6];
	if (vni != vc->vni)
		return UNM_VXLAN_RX_VNI;
	/* Listed unicast remotes: only they may inject frames. A multicast
	 * group admits any member (as Linux does). */
	if (!vc->mcast) {
		unsigned i;

		for (i = 0; i < vc->n_remotes; i++)
			if (unm_vxlan_addr_eq(&vc->remote[i], src))
				break;
		if (i == vc->n_remotes)
			return UNM_VXLAN_RX_SOURCE;
	}
	if (trunc || dlen - VX_HDR_LEN > max_frame)
		return UNM_VXLAN_RX_OVERSIZE;
	return VX_RX_OK;
}

/* ---- learning table ------------------------------------------------------ */

int unm_vxlan_fdb_init(struct vx_fdb *t, unsigned max, unsigned ageing_s)
{
	uint32_t slots = 16;

	memset(t, 0, sizeof(*t));
	if (max < 1 || max > VX_MAX_LEARN)
		return -EINVAL;
	while (slots < 2 * max)
		slots <<= 1;
	t->e = calloc(slots, sizeof(*t->e));
	if (!t->e)
		return -ENOMEM;
	t->mask = slots - 1;
	t->max = max;
	t->ageing_ns = (uint64_t)ageing_s * 1000000000ull;
	return 0;
}

void unm_vxlan_fdb_free(struct vx_fdb *t)
{
	free(t->e);
	t->e = NULL;
}

static uint32_t mac_hash(const uint8_t *m)
{
	uint32_t a, b;

	memcpy(&a, m, 4);
	b = (uint32_t)m[4] | (uint32_t)m[5] << 8;
	a ^= b * 0x9e3779b1u;
	a *= 0x85ebca6bu;
	return a ^ (a >> 15);
}

static bool live(const struct vx_fdb *t, const struct vx_fdb_ent *x, uint64_t now)
{
	return x->used && now - x->seen_ns < t->ageing_ns;
}

/* Forget every expired entry: called when the table looks full. */
static void fdb_sweep(struct vx_fdb *t, uint64_t now)
{
	for (uint32_t i = 0; i <= t->mask; i++)
		if (t->e[i].used && !live(t, &t->e[i], now)) {
			t->e[i].used = 0;
			t->n_used--;
		}
}

void unm_vxlan_fdb_learn(struct vx_fdb *t, const uint8_t *mac, const union vx_addr *remote,
			 uint64_t now)
{
	uint32_t h = mac_hash(mac);
	struct vx_fdb_ent *empty = NULL, *stale = NULL;

	if (!t->e || (mac[0] & 1))
		return; /* group addresses are never a source */
	for (unsigned k = 0; k < VX_FDB_PROBE; k++) {
		struct vx_fdb_ent *x = &t->e[(h + k) & t->mask];

		if (!x->used) {
			if (!empty)
				empty = x;
			continue;
		}
		if (!memcmp(x->mac, mac, 6)) {
			if (!unm_vxlan_addr_eq(&x->remote, remote)) {
				x->remote = *remote;
				t->moves++;
			}
			x->seen_ns = now;
			return;
		}
		if (!stale && !live(t, x, now))
			stale = x;
	}
	if (stale) {
		empty = stale; /* reuse: n_used does not change */
	} else {
		if (t->n_used >= t->max) {
			fdb_sweep(t, now);
			if (t->n_used >= t->max) {
				t->full++;
				return;
			}
		}
		if (!empty) {
			t->full++; /* every slot near its hash is live */
			return;
		}
		t->n_used++;
	}
	memcpy(empty->mac, mac, 6);
	empty->used = 1;
	empty->seen_ns = now;
	empty->remote = *remote;
}

const struct vx_fdb_ent *unm_vxlan_fdb_find(const struct vx_fdb *t, const uint8_t *mac,
					     uint64_t now)
{
	uint32_t h;

	if (!t->e)
		return NULL;
	h = mac_hash(mac);
	for (unsigned k = 0; k < VX_FDB_PROBE; k++) {
		const struct vx_fdb_ent *x = &t->e[(h + k) & t->mask];

		if (x->used && !memcmp(x->mac, mac, 6))
			return live(t, x, now) ? x : NULL;
	}
	return NULL;
}

unsigned unm_vxlan_fdb_count(const struct vx_fdb *t, uint64_t now)
{
	unsigned n = 0;

	for (uint32_t i = 0; t->e && i <= t->mask; i++)
		n += live(t, &t->e[i], now);
	return n;
}

/* ---- flow hash --------------------------------------------------------- */

static inline uint32_t mix(uint32_t h, uint32_t v)
{
	h ^= v;
	h *= 0x01000193u;
	return h ^ (h >> 13);
}

uint32_t unm_vxlan_flow_hash(const uint8_t *f, size_t len)
{
	uint32_t h = 0x811c9dc5u, w;
	uint16_t et = (uint16_t)(f[12] << 8 | f[13]);
	size_t l3 = 14, l4 = 0;
	unsigned proto = 0;

	for (unsigned i = 0; i < 12; i += 4) {
		memcpy(&w, f + i, 4);
		h = mix(h, w);
	}
	if (et == 0x8100 && len >= 18) {
		et = (uint16_t)(f[16] << 8 | f[17]);
		l3 = 18;
	}
	h = mix(h, et);
	if (et == 0x0800 && len >= l3 + 20) {
		unsigned ihl = (f[l3] & 15u) * 4;
		uint16_t frag = (uint16_t)((f[l3 + 6] & 0x3f) << 8 | f[l3 + 7]);

		memcpy(&w, f + l3 + 12, 4);
		h = mix(h, w);
		memcpy(&w, f + l3 + 16, 4);
		h = mix(h, w);
		proto = f[l3 + 9];
		if (ihl >= 20 && !frag)
			l4 = l3 + ihl;
	} else if (et == 0x86dd && len >= l3 + 40) {
		for (unsigned i = 8; i < 40; i += 4) {
			memcpy(&w, f + l3 + i, 4);
			h = mix(h, w);
		}
		proto = f[l3 + 6];
		l4 = l3 + 40;
	}
	if (l4 && (proto == 6 || proto == 17) && len >= l4 + 4) {
		memcpy(&w, f + l4, 4);
		h = mix(h, w ^ proto);
	}
	return h;
}

/* ---- inner TCP coalescing (RX) ------------------------------------------- */

#define TCPF_ACK 0x10
#define TCPF_PSH 0x08

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool unm_vxlan_tcp_hdrs(const uint8_t *f, size_t len, struct vx_tcp *t)
{
	size_t l4, thl, iplen;

	if (len < 14 + 20 + 20 || len > UNM_MAX_FRAME)
		return false;
	if (f[12] == 0x08 && f[13] == 0x00) {
		size_t ihl = (size_t)(f[14] & 15) * 4;

		/* version 4, no fragment (MF or offset), TCP, exact length */
		if ((f[14] >> 4) != 4 || ihl < 20 || (f[20] & 0x3f) || f[21] || f[23] != 6)
			return false;
		iplen = (size_t)f[16] << 8 | f[17];
		if (iplen != len - 14 || iplen < ihl + 20 || !unm_csum_ipv4_hdr_ok(f + 14, ihl))
			return false;
		l4 = 14 + ihl;
		t->v6 = 0;
	} else if (f[12] == 0x86 && f[13] == 0xdd) {
		if (len < 14 + 40 + 20 || (f[14] >> 4) != 6 || f[20] != 6)
			return false;
		iplen = (size_t)f[18] << 8 | f[19];
		if (iplen != len - 54)
			return false;
		l4 = 54;
		t->v6 = 1;
	} else {
		return false;
	}
	thl = (size_t)(f[l4 + 12] >> 4) * 4;
	if (thl < 20 || l4 + thl >= len)
		return false; /* bad offset, or no payload */
	t->flags = f[l4 + 13];
	t->l4 = (uint16_t)l4;
	t->poff = (uint16_t)(l4 + thl);
	t->seq = rd32(f + l4 + 4);
	t->plen = (uint32_t)(len - l4 - thl);
	return true;
}

bool unm_vxlan_tcp_seg(const uint8_t *f, size_t len, struct vx_tcp *t)
{
	return unm_vxlan_tcp_hdrs(f, len, t) &&
	       (t->flags == TCPF_ACK || t->flags == (TCPF_ACK | TCPF_PSH));
}

bool unm_vxlan_tcp_parse(const uint8_t *f, size_t len, struct vx_tcp *t)
{
	uint32_t sum;

	if (!unm_vxlan_tcp_seg(f, len, t))
		return false;
	sum = t->v6 ? unm_csum_pseudo_v6(f + 22, f + 38, 6, (uint32_t)(len - t->l4))
		    : unm_csum_pseudo_v4(f + 26, f + 30, 6, (uint32_t)(len - t->l4));
	return unm_csum_fold(unm_csum_partial(f + t->l4, len - t->l4, sum)) == 0xffff;
}

bool unm_vxlan_tcp_follows(const uint8_t *a, const struct vx_tcp *ta, uint32_t next_seq,
			   const uint8_t *b, const struct vx_tcp *tb)
{
	unsigned l3 = 14, l4 = ta->l4;

	if (ta->v6 != tb->v6 || ta->l4 != tb->l4 || ta->poff != tb->poff || tb->seq != next_seq)
		return false;
	if (memcmp(a, b, 14))
		return false;
	if (ta->v6) {
		/* all but the payload length */
		if (memcmp(a + l3, b + l3, 4) || memcmp(a + l3 + 6, b + l3 + 6, 34))
			return false;
	} else {
		/* all but total length, id and header checksum */
		if (memcmp(a + l3, b + l3, 2) || memcmp(a + l3 + 6, b + l3 + 6, 4) ||
		    memcmp(a + l3 + 12, b + l3 + 12, l4 - l3 - 12))
			return false;
	}
	/* ports; ack, data offset; window, (checksum skipped) urgent, options */
	return !memcmp(a + l4, b + l4, 4) && !memcmp(a + l4 + 8, b + l4 + 8, 5) &&
	       !memcmp(a + l4 + 14, b + l4 + 14, 2) &&
	       !memcmp(a + l4 + 18, b + l4 + 18, ta->poff - l4 - 18u);
}

void unm_vxlan_tcp_fix(uint8_t *h, const struct vx_tcp *t, size_t total, uint8_t flags)
{
	uint32_t l4len = (uint32_t)(total - t->l4), sum;
	uint16_t c;

	if (t->v6) {
		h[18] = (uint8_t)((total - 54) >> 8);
		h[19] = (uint8_t)(total - 54);
		sum = unm_csum_pseudo_v6(h + 22, h + 38, 6, l4len);
	} else {
		h[16] = (uint8_t)((total - 14) >> 8);
		h[17] = (uint8_t)(total - 14);
		c = unm_csum_ipv4_hdr(h + 14, t->l4 - 14u);
		memcpy(h + 24, &c, 2);
		sum = unm_csum_pseudo_v4(h + 26, h + 30, 6, l4len);
	}
	h[t->l4 + 13] = flags;
	c = unm_csum_fold(sum); /* NEEDS_CSUM: the pseudo-header sum, not inverted */
	memcpy(h + t->l4 + 16, &c, 2);
}
