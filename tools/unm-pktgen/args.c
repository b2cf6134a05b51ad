// SPDX-License-Identifier: BSD-2-Clause
/*
 * args.c - unm-pktgen's command line: getopt_long built from the option
 * table of help.h, value parsing and the checks that make a usage error
 * (exit 2, one line plus "try --help" on stderr). Main thread only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pktgen.h"
#include "help.h"

#define NOPTS (sizeof(pg_optdocs) / sizeof(pg_optdocs[0]))

static const char *const func_names[] = {
	[PG_TX] = "tx", [PG_RX] = "rx", [PG_PING] = "ping",
	[PG_PONG] = "pong", [PG_TXSEQ] = "txseq", [PG_RXSEQ] = "rxseq",
};

const char *pg_func_name(enum pg_func f)
{
	return func_names[f];
}

static int usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PG_NAME ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\ntry '" PG_NAME " --help'\n");
	return 2;
}

static void print_help(void)
{
	fputs(pg_help_head, stdout);
	for (size_t i = 0; i < NOPTS; i++) {
		const struct pg_optdoc *d = &pg_optdocs[i];
		char head[96];
		int n;

		if (d->val < 0x100)
			n = snprintf(head, sizeof(head), "  -%c, --%s", d->val, d->name);
		else
			n = snprintf(head, sizeof(head), "      --%s", d->name);
		if (d->arg)
			snprintf(head + n, sizeof(head) - (size_t)n, " %s", d->arg);
		printf("%s\n", head);
		/* wrap the description at 72 columns, indented by 8 */
		const char *p = d->help;
		while (*p) {
			size_t w = strlen(p), cut = w;

			if (w > 70) {
				cut = 70;
				while (cut > 0 && p[cut] != ' ')
					cut--;
				if (cut == 0)
					cut = 70;
			}
			printf("        %.*s\n", (int)cut, p);
			p += cut;
			while (*p == ' ')
				p++;
		}
	}
	fputs(pg_help_tail, stdout);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	uint64_t v;

	if (parse_u64(s, max, &v))
		return -1;
	*out = (unsigned)v;
	return 0;
}

int pg_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

/* One end: IPv4[:PORT], IPv6, or [IPv6]:PORT. */
static int parse_end(const char *s, bool *v6, uint8_t ip[16], int *port)
{
	char buf[80];
	const char *addr = buf, *colon;
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n + 1);
	*port = -1;
	if (buf[0] == '[') {
		char *rb = strchr(buf, ']');

		if (!rb)
			return -1;
		*rb = '\0';
		addr = buf + 1;
		if (rb[1] == ':') {
			unsigned p;

			if (parse_uint(rb + 2, 65535, &p))
				return -1;
			*port = (int)p;
		} else if (rb[1]) {
			return -1;
		}
		*v6 = true;
	} else if ((colon = strchr(buf, ':')) && strchr(colon + 1, ':')) {
		*v6 = true;   /* bare IPv6, no port */
	} else if (colon) {
		unsigned p;

		if (parse_uint(colon + 1, 65535, &p))
			return -1;
		*port = (int)p;
		buf[colon - buf] = '\0';
		*v6 = false;
	} else {
		*v6 = false;
	}
	if (*v6)
		return inet_pton(AF_INET6, addr, ip) == 1 ? 0 : -1;
	return inet_pton(AF_INET, addr, ip) == 1 ? 0 : -1;
}

int pg_parse_span(const char *s, struct pg_span *sp, char *err, size_t errlen)
{
	char a[128], *dash;
	uint8_t ip1[16], ip2[16];
	bool v6a, v6b;
	int p1, p2;

	if (strlen(s) >= sizeof(a)) {
		snprintf(err, errlen, "address '%s' is too long", s);
		return -1;
	}
	strcpy(a, s);
	dash = strchr(a, '-');
	if (dash)
		*dash = '\0';
	if (parse_end(a, &v6a, ip1, &p1)) {
		snprintf(err, errlen, "bad address '%s'", a);
		return -1;
	}
	if (dash) {
		if (parse_end(dash + 1, &v6b, ip2, &p2)) {
			snprintf(err, errlen, "bad address '%s'", dash + 1);
			return -1;
		}
		if (v6a != v6b) {
			snprintf(err, errlen, "range '%s' mixes IPv4 and IPv6", s);
			return -1;
		}
	} else {
		memcpy(ip2, ip1, 16);
		p2 = p1;
	}
	if (p1 < 0)
		p1 = 1234;
	if (p2 < 0)
		p2 = p1;
	memset(sp, 0, sizeof(*sp));
	sp->v6 = v6a;
	sp->given = true;
	if (v6a) {
		if (memcmp(ip1, ip2, 12)) {
			snprintf(err, errlen, "IPv6 range '%s' may vary only the last 32 bits", s);
			return -1;
		}
		memcpy(sp->ip6_hi, ip1, 12);
		sp->ip_lo = ntohl(*(uint32_t *)(void *)(ip1 + 12));
		sp->ip_hi = ntohl(*(uint32_t *)(void *)(ip2 + 12));
	} else {
		uint32_t x, y;

		memcpy(&x, ip1, 4);
		memcpy(&y, ip2, 4);
		sp->ip_lo = ntohl(x);
		sp->ip_hi = ntohl(y);
	}
	sp->port_lo = (uint16_t)p1;
	sp->port_hi = (uint16_t)p2;
	if (sp->ip_lo > sp->ip_hi || sp->port_lo > sp->port_hi) {
		snprintf(err, errlen, "range '%s' ends before it starts", s);
		return -1;
	}
	return 0;
}

static int parse_func(const char *s, enum pg_func *f)
{
	for (unsigned i = 0; i < sizeof(func_names) / sizeof(func_names[0]); i++)
		if (!strcmp(s, func_names[i])) {
			*f = (enum pg_func)i;
			return 0;
		}
	return -1;
}

static void set_defaults(struct pg_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->func = PG_RX;
	c->report_ms = 1000;
	c->threads = 1;
	c->cpu = -1;
	c->csum = -1;
	memset(c->dmac, 0xff, 6);
	c->smac[0] = 0x02;
	c->smac[5] = 0x01;
}

static void default_span(struct pg_span *sp, bool v6, uint32_t v4addr, uint32_t v6low)
{
	memset(sp, 0, sizeof(*sp));
	sp->v6 = v6;
	if (v6) {
		sp->ip6_hi[0] = 0xfd;   /* fd00::/8 unique local */
		sp->ip_lo = sp->ip_hi = v6low;
	} else {
		sp->ip_lo = sp->ip_hi = v4addr;
	}
	sp->port_lo = sp->port_hi = 1234;
}

int pg_payload(const struct pg_conf *c)
{
	if (c->func == PG_PING || (c->ts && (c->func == PG_TX || c->func == PG_TXSEQ)))
		return PG_PAY_PING;
	return c->func == PG_TXSEQ ? PG_PAY_SEQ : PG_PAY_NONE;
}

/* Options that only make sense with some functions. */
static int check_combos(const struct pg_conf *c, bool timing_given)
{
	bool rx = c->func == PG_RX || c->func == PG_RXSEQ;
	bool tx = c->func == PG_TX || c->func == PG_TXSEQ;

	if (c->pcap_file) {
		if (c->func != PG_TX)
			return usage_err("-P replays with -f tx only");
		if (c->threads > 1 || c->frags || c->rubbish || c->ts)
			return usage_err("-P cannot be combined with %s", c->threads > 1 ? "-p" :
					 c->frags ? "-F (use -M)" : c->rubbish ? "-r" : "--ts");
		if (timing_given && c->rate > 0 && c->replay_timing == PG_REPLAY_ORIG)
			return usage_err("--replay-timing=orig and -R contradict each other");
	} else if (timing_given) {
		return usage_err("--replay-timing needs -P");
	}
	if (c->ts && !rx && !tx)
		return usage_err("--ts is for tx, txseq, rx and rxseq (ping measures round trips)");
	if (c->rubbish && c->func != PG_TX)
		return usage_err("-r is for -f tx only");
	if (c->exit_empty && !rx)
		return usage_err("-W is for rx and rxseq only");
	if (c->rate_stats && !c->report_ms)
		return usage_err("-A needs interval lines (-T > 0)");
	if (c->cpus && c->cpu < 0)
		return usage_err("-c needs -a");
	if (c->cpus && (unsigned)c->cpu >= c->cpus)
		return usage_err("-a %d is not below -c %u", c->cpu, c->cpus);
	return 0;
}

/* Checks that need the whole command line. */
static int check_conf(struct pg_conf *c, unsigned nlen, const unsigned *lens, bool timing_given)
{
	bool ping = c->func == PG_PING || c->func == PG_PONG;
	int pay = pg_payload(c), rc;
	unsigned minlen;

	if (!c->ifname)
		return usage_err("no port given (-i PORT)");
	rc = check_combos(c, timing_given);
	if (rc)
		return rc;
	if (c->pcap_file && c->rate > 0)
		c->replay_timing = PG_REPLAY_RATE;
	if (c->src.given && c->src.v6 != c->ipv6)
		return usage_err("-s is an %s address but frames are %s (use %s)",
				 c->src.v6 ? "IPv6" : "IPv4", c->ipv6 ? "IPv6" : "IPv4",
				 c->src.v6 ? "-6" : "an IPv6 address");
	if (c->dst.given && c->dst.v6 != c->ipv6)
		return usage_err("-d is an %s address but frames are %s (use %s)",
				 c->dst.v6 ? "IPv6" : "IPv4", c->ipv6 ? "IPv6" : "IPv4",
				 c->dst.v6 ? "-6" : "an IPv6 address");
	if (!c->src.given)
		default_span(&c->src, c->ipv6, 0x0a000001, 0x0a000001);
	if (!c->dst.given)
		default_span(&c->dst, c->ipv6, 0x0a010001, 0x0a010001);
	if (c->csum < 0)
		c->csum = c->ipv6;
	minlen = pg_frame_min_len(c->ipv6, pay);
	if (nlen == 0) {
		c->len_min = c->len_max = minlen > 60 ? minlen : 60;
	} else {
		c->len_min = lens[0];
		c->len_max = nlen > 1 ? lens[1] : lens[0];
		if (c->len_min > c->len_max) {
			unsigned t = c->len_min;

			c->len_min = c->len_max;
			c->len_max = t;
		}
		if (c->len_min < minlen)
			return usage_err("frame length %u is below the %u bytes the %s headers%s need",
					 c->len_min, minlen, c->ipv6 ? "IPv6/UDP" : "IPv4/UDP",
					 pay == PG_PAY_NONE ? "" : " and payload");
	}
	if (c->len_max + c->vnet_hdr_len > UNM_MAX_FRAME)
		return usage_err("frame length %u exceeds %u bytes", c->len_max,
				 UNM_MAX_FRAME - c->vnet_hdr_len);
	if (c->batch == 0)
		c->batch = ping ? 1 : 512;
	if (ping && c->threads > 1)
		return usage_err("-f %s runs one thread only", pg_func_name(c->func));
	if (c->frags) {
		unsigned total_min = c->len_min + c->vnet_hdr_len;

		if (c->frag_size && (uint64_t)(c->frags - 1) * c->frag_size >= total_min)
			return usage_err("%u fragments of %u bytes do not fit a %u-byte frame",
					 c->frags, c->frag_size, c->len_min);
		if (!c->frag_size && total_min < c->frags)
			return usage_err("a %u-byte frame cannot be split in %u fragments",
					 c->len_min, c->frags);
	} else if (c->frag_size &&
		   (c->len_max + c->vnet_hdr_len + c->frag_size - 1) / c->frag_size > UNM_MAX_FRAGS) {
		return usage_err("fragments of %u bytes: a %u-byte frame needs more than %u",
				 c->frag_size, c->len_max, UNM_MAX_FRAGS);
	}
	return 0;
}

static void build_getopt(struct option *lo, char *so)
{
	size_t k = 0;

	for (size_t i = 0; i < NOPTS; i++) {
		const struct pg_optdoc *d = &pg_optdocs[i];

		lo[i] = (struct option){ d->name, d->arg ? required_argument : no_argument,
					 NULL, d->val };
		if (d->val < 0x100) {
			so[k++] = (char)d->val;
			if (d->arg)
				so[k++] = ':';
		}
	}
	lo[NOPTS] = (struct option){ 0, 0, 0, 0 };
	so[k] = '\0';
}

static int parse_len(const char *arg, unsigned *lens, unsigned *nlen)
{
	const char *dash = strchr(arg, '-');

	if (dash && dash != arg) {
		char a[32];
		size_t n = (size_t)(dash - arg);

		if (n >= sizeof(a) || *nlen > 0)
			return -1;
		memcpy(a, arg, n);
		a[n] = '\0';
		if (parse_uint(a, UNM_MAX_FRAME, &lens[0]) ||
		    parse_uint(dash + 1, UNM_MAX_FRAME, &lens[1]))
			return -1;
		*nlen = 2;
		return 0;
	}
	if (*nlen >= 2 || parse_uint(arg, UNM_MAX_FRAME, &lens[*nlen]))
		return -1;
	(*nlen)++;
	return 0;
}

static int parse_one(struct pg_conf *c, int opt, const char *arg,
		     unsigned *lens, unsigned *nlen, bool *timing_given)
{
	char err[160];
	unsigned u;

	switch (opt) {
	case 'f':
		if (parse_func(arg, &c->func))
			return usage_err("unknown function '%s' (tx, rx, ping, pong, txseq, rxseq)", arg);
		break;
	case 'i': c->ifname = arg; break;
	case 'l':
		if (parse_len(arg, lens, nlen))
			return usage_err("bad length '%s' (LEN or MIN-MAX, at most twice)", arg);
		break;
	case 'n':
		if (parse_u64(arg, UINT64_MAX, &c->count))
			return usage_err("bad count '%s'", arg);
		break;
	case 'b':
		if (parse_uint(arg, UNM_MAX_SLOTS, &c->batch) || c->batch == 0)
			return usage_err("bad batch '%s' (1..%u)", arg, UNM_MAX_SLOTS);
		break;
	case 'R': {
		char *end;

		errno = 0;
		c->rate = strtod(arg, &end);
		if (errno || *end || !(c->rate > 0) || c->rate > 1e12)
			return usage_err("bad rate '%s' (packets per second > 0)", arg);
		break;
	}
	case 'T':
		if (parse_uint(arg, 3600000, &c->report_ms) || (c->report_ms && c->report_ms < 10))
			return usage_err("bad report interval '%s' (0, or 10..3600000 ms)", arg);
		break;
	case 'w':
		if (parse_uint(arg, 3600, &c->wait_s))
			return usage_err("bad wait '%s' (0..3600 s)", arg);
		break;
	case 'p':
		if (parse_uint(arg, UNM_MAX_RINGS, &c->threads) || c->threads == 0)
			return usage_err("bad thread count '%s' (1..%u)", arg, UNM_MAX_RINGS);
		break;
	case 'a':
		if (parse_uint(arg, 4095, &u))
			return usage_err("bad cpu '%s'", arg);
		c->cpu = (int)u;
		break;
	case 's':
	case 'd':
		if (pg_parse_span(arg, opt == 's' ? &c->src : &c->dst, err, sizeof(err)))
			return usage_err("-%c: %s", opt, err);
		break;
	case 'S':
	case 'D':
		if (pg_parse_mac(arg, opt == 'S' ? c->smac : c->dmac))
			return usage_err("bad MAC address '%s'", arg);
		if (opt == 'S')
			c->smac_given = true;
		else
			c->dmac_given = true;
		break;
	case 'z': c->rand_src = true; break;
	case 'Z': c->rand_dst = true; break;
	case '4': c->ipv6 = false; break;
	case '6': c->ipv6 = true; break;
	case 'C': c->csum = 1; break;
	case PG_OPT_NO_CSUM: c->csum = 0; break;
	case 'H':
		if (parse_uint(arg, 12, &c->vnet_hdr_len) ||
		    (c->vnet_hdr_len != 0 && c->vnet_hdr_len != 10 && c->vnet_hdr_len != 12))
			return usage_err("bad virtio-net header length '%s' (0, 10 or 12)", arg);
		break;
	case 'F':
		if (parse_uint(arg, UNM_MAX_FRAGS, &c->frags) || c->frags == 0)
			return usage_err("bad fragment count '%s' (1..%u)", arg, UNM_MAX_FRAGS);
		break;
	case 'M':
		if (parse_uint(arg, UNM_MAX_BUF_SIZE, &c->frag_size) || c->frag_size == 0)
			return usage_err("bad fragment size '%s' (1..%u)", arg, UNM_MAX_BUF_SIZE);
		break;
	case 'c':
		if (parse_uint(arg, 4096, &c->cpus))
			return usage_err("bad cpu count '%s' (0..4096)", arg);
		break;
	case 'P': c->pcap_file = arg; break;
	case PG_OPT_REPLAY_TIMING:
		if (!strcmp(arg, "orig"))
			c->replay_timing = PG_REPLAY_ORIG;
		else if (!strcmp(arg, "fast"))
			c->replay_timing = PG_REPLAY_FAST;
		else
			return usage_err("bad --replay-timing '%s' (orig or fast)", arg);
		*timing_given = true;
		break;
	case PG_OPT_TS: c->ts = true; break;
	case 'X': c->dump = true; break;
	case 'W': c->exit_empty = true; break;
	case 'r': c->rubbish = true; break;
	case 'B': c->framing = true; break;
	case 'A': c->rate_stats = true; break;
	case 'N': c->raw = true; break;
	case 'j': c->json = true; break;
	case 'v': c->verbose++; break;
	default:
		return 2;   /* getopt printed the reason */
	}
	return 0;
}

int pg_parse_args(int argc, char **argv, struct pg_conf *c)
{
	struct option lo[NOPTS + 1];
	char so[2 * NOPTS + 2];
	unsigned lens[2], nlen = 0;
	bool timing_given = false;
	int opt, rc;

	set_defaults(c);
	build_getopt(lo, so);
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		if (opt == 'h') {
			print_help();
			return 1;
		}
		if (opt == PG_OPT_VERSION) {
			printf(PG_NAME " %d.%d.%d (libunm %s)\n", UNM_VERSION_MAJOR,
			       UNM_VERSION_MINOR, UNM_VERSION_PATCH, unm_version());
			return 1;
		}
		if (opt == '?') {
			if (optopt && optopt < 0x100 && strchr(so, optopt))
				return usage_err("option -%c needs an argument", optopt);
			if (optopt)
				return usage_err("unknown option -%c", optopt);
			return usage_err("unknown or incomplete option '%s'", argv[optind - 1]);
		}
		if (opt == ':')
			return usage_err("option needs an argument");
		rc = parse_one(c, opt, optarg, lens, &nlen, &timing_given);
		if (rc)
			return rc;
	}
	if (optind < argc)
		return usage_err("unexpected argument '%s'", argv[optind]);
	return check_conf(c, nlen, lens, timing_given);
}
