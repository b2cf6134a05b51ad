// SPDX-License-Identifier: BSD-2-Clause
/*
 * stats.c - what unm-pktgen prints: per-interval lines computed from the
 * measured deltas, the final summary, the ping RTT statistics, all through
 * one field emitter (pg_out_*) that writes either text or one JSON object
 * per line, so the two forms cannot drift. Also the rxseq sequence checker.
 *
 * Threads: the pg_out_* helpers and the reports run in the main thread
 * only; pg_seq_check runs in the worker that owns the pg_seq.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pktgen.h"

/* ---- sequence checking ---------------------------------------------------- */

static inline bool seen_test_set(struct pg_seq *s, uint64_t seq)
{
	uint64_t *w = &s->seen[(seq / 64) % (PG_SEQ_WINDOW / 64)];
	uint64_t bit = 1ull << (seq % 64);
	bool was = *w & bit;

	*w |= bit;
	return was;
}

static inline void seen_clear(struct pg_seq *s, uint64_t seq)
{
	s->seen[(seq / 64) % (PG_SEQ_WINDOW / 64)] &= ~(1ull << (seq % 64));
}

/*
 * Frames are expected in order from 0. A jump forward counts the skipped
 * numbers as lost; a number below the next expected one is a duplicate if
 * it was already seen within the last PG_SEQ_WINDOW numbers, otherwise a
 * late (out-of-order) frame that was counted as lost and is not any more.
 */
void pg_seq_check(struct pg_seq *s, uint64_t seq)
{
	if (seq >= s->next) {
		uint64_t gap = seq - s->next;

		if (gap >= PG_SEQ_WINDOW)
			memset(s->seen, 0, sizeof(s->seen));
		else
			for (uint64_t q = s->next; q < seq; q++)
				seen_clear(s, q);
		if (gap < PG_SEQ_WINDOW || seq % 64 != 0)
			seen_clear(s, seq);
		seen_test_set(s, seq);
		s->lost += gap;
		s->next = seq + 1;
		return;
	}
	if (s->next - seq > PG_SEQ_WINDOW) {
		s->ooo++;   /* too old to tell: assume late, not duplicate */
		if (s->lost)
			s->lost--;
		return;
	}
	if (seen_test_set(s, seq)) {
		s->dup++;
		return;
	}
	s->ooo++;
	s->lost--;
}

/* ---- field emitter ------------------------------------------------------------ */

struct pg_out {
	bool json, raw;
	const char *sep;      /* between a number and its unit in text */
	size_t n;
	char buf[4096];
};

static struct pg_out out_single;

static void out_add(struct pg_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_add(struct pg_out *o, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (o->n >= sizeof(o->buf) - 1)
		return;
	va_start(ap, fmt);
	k = vsnprintf(o->buf + o->n, sizeof(o->buf) - o->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->n += (size_t)k < sizeof(o->buf) - o->n ? (size_t)k : sizeof(o->buf) - o->n - 1;
}

struct pg_out *pg_out_begin(const struct pg_conf *c, const char *type)
{
	struct pg_out *o = &out_single;

	o->json = c->json;
	o->raw = c->raw;
	o->sep = strcmp(type, "interval") ? " " : "";
	o->n = 0;
	if (o->json)
		out_add(o, "{\"type\":\"%s\"", type);
	return o;
}

static void fmt_units_sep(char *b, size_t n, double v, bool raw, const char *sep, int prec)
{
	static const char units[] = "KMGTP";
	int u = -1;

	if (raw || fabs(v) < 1000) {
		snprintf(b, n, "%.0f%s", v, sep);
		return;
	}
	while (fabs(v) >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	snprintf(b, n, "%.*f%s%c", prec, v, sep, units[u]);
}

void pg_fmt_units(char *buf, size_t n, double v, bool raw)
{
	fmt_units_sep(buf, n, v, raw, "", 2);
}

static void text_field(struct pg_out *o, const char *fmt, const char *num)
{
	out_add(o, fmt, num);
}

void pg_out_u64(struct pg_out *o, const char *key, const char *fmt, uint64_t v, bool exact)
{
	char num[64];

	if (o->json) {
		out_add(o, ",\"%s\":%" PRIu64, key, v);
		return;
	}
	if (exact)
		snprintf(num, sizeof(num), "%" PRIu64, v);
	else
		fmt_units_sep(num, sizeof(num), (double)v, o->raw, o->sep, 1);
	text_field(o, fmt, num);
}

void pg_out_dbl(struct pg_out *o, const char *key, const char *fmt, double v, int prec)
{
	char num[64];

	snprintf(num, sizeof(num), "%.*f", prec, v);
	if (o->json)
		out_add(o, ",\"%s\":%s", key, num);
	else
		text_field(o, fmt, num);
}

void pg_out_rate(struct pg_out *o, const char *key, const char *fmt, double v)
{
	char num[64];

	if (o->json) {
		out_add(o, ",\"%s\":%.0f", key, v);
		return;
	}
	fmt_units_sep(num, sizeof(num), v, o->raw, o->sep, o->sep[0] ? 1 : 2);
	text_field(o, fmt, num);
}

void pg_out_str(struct pg_out *o, const char *key, const char *fmt, const char *v)
{
	if (o->json) {
		out_add(o, ",\"%s\":\"", key);
		for (const char *p = v; *p; p++) {
			if (*p == '"' || *p == '\\')
				out_add(o, "\\%c", *p);
			else if ((unsigned char)*p < 0x20)
				out_add(o, "\\u%04x", (unsigned char)*p);
			else
				out_add(o, "%c", *p);
		}
		out_add(o, "\"");
	} else {
		text_field(o, fmt, v);
	}
}

void pg_out_end(struct pg_out *o)
{
	if (o->json)
		out_add(o, "}");
	fprintf(stdout, "%s\n", o->buf);
	fflush(stdout);
}

/* ---- reports ------------------------------------------------------------------ */

double pg_bps(const struct pg_conf *c, uint64_t bytes, uint64_t pkts, double secs)
{
	if (!(secs > 0))
		return 0;
	return ((double)bytes + (c->framing ? 24.0 * (double)pkts : 0)) * 8.0 / secs;
}

void pg_report_interval(const struct pg_conf *c, double t, const struct pg_totals *d, double dt)
{
	struct pg_out *o = pg_out_begin(c, "interval");

	pg_out_dbl(o, "t", "t=%s", t, 3);
	pg_out_u64(o, "pkts", " pkts=%s", d->pkts, false);
	pg_out_rate(o, "pps", " pps=%s", d->pkts / dt);
	pg_out_rate(o, "bps", " bps=%s", pg_bps(c, d->bytes, d->pkts, dt));
	pg_out_u64(o, "drops", " drops=%s", d->drops, false);
	pg_out_dbl(o, "batch", " batch=%s", d->batches ? (double)d->pkts / d->batches : 0.0, 1);
	pg_out_end(o);
}

static const char *verb(enum pg_func f)
{
	switch (f) {
	case PG_TX: case PG_TXSEQ: return "Sent";
	case PG_PING: return "Pinged";
	case PG_PONG: return "Answered";
	default: return "Received";
	}
}

int pg_report_summary(const struct pg_conf *c, struct pg_thread *th, unsigned n)
{
	struct pg_totals t = { 0 };
	struct pg_seq sq = { 0 };
	uint64_t t0 = UINT64_MAX, t1 = 0, closed = 0;
	double secs;
	int status = 0;

	for (unsigned i = 0; i < n; i++) {
		t.pkts += th[i].c.pkts;
		t.bytes += th[i].c.bytes;
		t.batches += th[i].c.batches;
		sq.lost += th[i].seq.lost;
		sq.ooo += th[i].seq.ooo;
		sq.dup += th[i].seq.dup;
		sq.bad += th[i].seq.bad;
		if (th[i].t_first && th[i].t_first < t0)
			t0 = th[i].t_first;
		if (th[i].t_last > t1)
			t1 = th[i].t_last;
		if (th[i].peer_closed_at != UINT64_MAX)
			closed++;
		if (th[i].err)
			status = 1;
	}
	secs = t0 < t1 ? (t1 - t0) / 1e9 : 0;
	/* A receiver told how many frames to expect counts the missing tail as
	 * lost: the sequence check alone cannot see it. */
	if (c->func == PG_RXSEQ && c->count && t.pkts < c->count)
		sq.lost += c->count - t.pkts;

	struct pg_out *o = pg_out_begin(c, "summary");

	pg_out_str(o, "function", "", pg_func_name(c->func));
	pg_out_str(o, "verb", "%s", verb(c->func));
	pg_out_u64(o, "packets", " %s packets", t.pkts, true);
	pg_out_u64(o, "bytes", " %s bytes", t.bytes, true);
	pg_out_dbl(o, "seconds", " in %s s", secs, 3);
	pg_out_rate(o, "pps", ": %spps", secs > 0 ? t.pkts / secs : 0);
	pg_out_rate(o, "bps", ", %sbps", pg_bps(c, t.bytes, t.pkts, secs));
	pg_out_dbl(o, "batch", ", avg batch %s", t.batches ? (double)t.pkts / t.batches : 0.0, 1);
	if (c->func == PG_RXSEQ) {
		pg_out_u64(o, "lost", ", lost %s", sq.lost, true);
		pg_out_u64(o, "out_of_order", ", out-of-order %s", sq.ooo, true);
		pg_out_u64(o, "duplicates", ", duplicates %s", sq.dup, true);
		pg_out_u64(o, "malformed", ", malformed %s", sq.bad, true);
		if (sq.lost || sq.ooo || sq.dup || sq.bad)
			status = 1;
	}
	if (c->func == PG_PING) {
		uint64_t lost = 0;

		for (unsigned i = 0; i < n; i++)
			lost += th[i].ping_lost;
		pg_out_u64(o, "lost", ", lost %s", lost, true);
	}
	if (closed)
		pg_out_str(o, "peer", ", %s", "peer closed");
	pg_out_end(o);
	if (c->count && t.pkts < c->count) {
		fprintf(stderr, PG_NAME ": %" PRIu64 " of %" PRIu64 " %s\n", t.pkts, c->count,
			c->func == PG_PING || c->func == PG_PONG ? "transactions" : "frames");
		status = 1;
	}
	return status;
}

/* ---- latency statistics ------------------------------------------------------ */

void pg_lat_record(struct pg_lat *l, uint64_t ns, uint64_t *rng)
{
	int b = ns ? 63 - __builtin_clzll(ns) : 0;

	if (!l->count) {   /* first value: no memory means exact stats only */
		l->s = malloc(PG_RTT_SAMPLES * sizeof(*l->s));
		l->cap = l->s ? PG_RTT_SAMPLES : 0;
	}
	l->hist[b]++;
	if (!l->count || ns < l->min)
		l->min = ns;
	if (ns > l->max)
		l->max = ns;
	l->count++;
	if (!l->s)
		return;
	if (l->n < l->cap) {
		l->s[l->n++] = ns;
	} else {
		/* reservoir sampling keeps quantiles unbiased past the cap */
		uint64_t j = pg_rand(rng) % l->count;

		if (j < l->cap)
			l->s[j] = ns;
	}
}

void pg_lat_merge(struct pg_lat *d, const struct pg_lat *src)
{
	if (!src->count)
		return;
	if (!d->count || src->min < d->min)
		d->min = src->min;
	if (src->max > d->max)
		d->max = src->max;
	d->count += src->count;
	for (int b = 0; b < 64; b++)
		d->hist[b] += src->hist[b];
	if (!d->s && src->n) {
		d->s = malloc(PG_RTT_SAMPLES * sizeof(*d->s));
		d->cap = d->s ? PG_RTT_SAMPLES : 0;
	}
	for (size_t i = 0; i < src->n && d->n < d->cap; i++)
		d->s[d->n++] = src->s[i];
}

void pg_lat_free(struct pg_lat *l)
{
	free(l->s);
	memset(l, 0, sizeof(*l));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void fmt_ns(char *b, size_t n, uint64_t ns)
{
	if (ns < 10000)
		snprintf(b, n, "%" PRIu64 "ns", ns);
	else if (ns < 10000000)
		snprintf(b, n, "%.1fus", ns / 1e3);
	else
		snprintf(b, n, "%.1fms", ns / 1e6);
}

void pg_report_lat(const struct pg_conf *c, const char *type, const char *what,
		   const char *label, struct pg_lat *l)
{
	uint64_t med, p99, top = 0;
	size_t n = l->n;
	struct pg_out *o;
	char head[64], bucket[32];
	int lo = 64, hi = -1;

	o = pg_out_begin(c, type);
	if (n == 0) {
		snprintf(head, sizeof(head), "%s: %%s samples", what);
		pg_out_u64(o, "samples", head, 0, true);
		pg_out_end(o);
		return;
	}
	/* min, max and the histogram are exact; the quantiles come from the
	 * sample (all values up to PG_RTT_SAMPLES, a uniform reservoir beyond) */
	qsort(l->s, n, sizeof(l->s[0]), cmp_u64);
	med = l->s[(n - 1) / 2];
	p99 = l->s[(size_t)ceil(0.99 * (double)n) - 1];
	snprintf(head, sizeof(head), "%s over %%s %s:", what, label);
	pg_out_u64(o, "samples", head, l->count, true);
	pg_out_u64(o, "min_ns", " min %s ns", l->min, true);
	pg_out_u64(o, "median_ns", ", median %s ns", med, true);
	pg_out_u64(o, "p99_ns", ", p99 %s ns", p99, true);
	pg_out_u64(o, "max_ns", ", max %s ns", l->max, true);
	pg_out_end(o);
	for (int b = 0; b < 64; b++)
		if (l->hist[b]) {
			lo = b < lo ? b : lo;
			hi = b;
			top = l->hist[b] > top ? l->hist[b] : top;
		}
	/* log2 histogram: bucket b holds values in [2^b, 2^(b+1)) ns */
	snprintf(bucket, sizeof(bucket), "%s_bucket", type);
	for (int b = lo; b <= hi; b++) {
		char lo_s[24], hi_s[24], bar[41];
		size_t w = (size_t)(l->hist[b] * 40 / top);

		fmt_ns(lo_s, sizeof(lo_s), 1ull << b);
		fmt_ns(hi_s, sizeof(hi_s), b < 63 ? 2ull << b : UINT64_MAX);
		memset(bar, '#', w);
		bar[w] = '\0';
		o = pg_out_begin(c, bucket);
		pg_out_str(o, "lo", "  [%8s, ", lo_s);
		pg_out_str(o, "hi", "%8s)", hi_s);
		pg_out_u64(o, "lo_ns", "", 1ull << b, true);
		pg_out_u64(o, "count", " %10s ", l->hist[b], true);
		pg_out_str(o, "bar", "%s", bar);
		pg_out_end(o);
	}
}

/* ---- -A and -X ----------------------------------------------------------------- */

void pg_report_rate_stats(const struct pg_conf *c, const struct pg_rate_acc *a)
{
	struct pg_out *o = pg_out_begin(c, "rate_stats");
	double n = (double)a->n;
	double mp = a->n ? a->pps / n : 0, mb = a->n ? a->bps / n : 0;
	double vp = a->n > 1 ? (a->pps2 - n * mp * mp) / (n - 1) : 0;
	double vb = a->n > 1 ? (a->bps2 - n * mb * mb) / (n - 1) : 0;

	pg_out_u64(o, "intervals", "Rate over %s intervals:", a->n, true);
	pg_out_rate(o, "pps_mean", " mean %spps", mp);
	pg_out_rate(o, "pps_stddev", " stddev %spps", vp > 0 ? sqrt(vp) : 0);
	pg_out_rate(o, "bps_mean", ", mean %sbps", mb);
	pg_out_rate(o, "bps_stddev", " stddev %sbps", vb > 0 ? sqrt(vb) : 0);
	pg_out_end(o);
}

/* One slot as offset, 16 hex bytes and their ASCII; the lock keeps the
 * lines of one slot together when several threads dump. */
void pg_dump(const struct pg_thread *t, const char *dir, unsigned ring, uint32_t slot,
	     const uint8_t *buf, unsigned len, unsigned flags)
{
	flockfile(stdout);
	printf("%s thread %d ring %u slot %u len %u%s\n", dir, t->id, ring, slot, len,
	       flags & UNM_NS_MOREFRAG ? " MOREFRAG" : "");
	for (unsigned i = 0; i < len; i += 16) {
		char hex[16 * 3 + 1], asc[17];
		unsigned k;

		for (k = 0; k < 16 && i + k < len; k++) {
			uint8_t b = buf[i + k];

			snprintf(hex + 3 * k, 4, "%02x ", b);
			asc[k] = b >= 0x20 && b < 0x7f ? (char)b : '.';
		}
		asc[k] = '\0';
		printf("  %04x  %-48s %s\n", i, k ? hex : "", asc);
	}
	funlockfile(stdout);
}
