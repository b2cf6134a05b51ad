// SPDX-License-Identifier: BSD-2-Clause
/*
 * common.c - what the unm-hostile programs share (unm-hostile.h): options,
 * the figures page, the random source, the honest sender and checker.
 */
#include "unm-hostile.h"

struct figs *F;
struct opts O;
uint64_t hostile_rs = 88172645463325252ull;

void reseed(uint64_t salt)
{
	hostile_rs = (O.seed ^ (salt * 0x9e3779b97f4a7c15ull)) | 1;
	for (int i = 0; i < 8; i++)
		rnd();
}

void honest_fail(const char *fmt, ...)
{
	va_list ap;

	if (F->honest_err)
		return;
	va_start(ap, fmt);
	vsnprintf(F->why, sizeof(F->why), fmt, ap);
	va_end(ap);
	F->honest_err = 1;
}

/* Queue up to N frames on TX ring 0 of P (dst DST, src id, seq from *seq). */
unsigned hsend(struct hport *hp, const uint8_t dst[6], uint32_t *seq, unsigned n,
	       bool fixed)
{
	struct unm_ring *r = unm_ring_get(hp->p, 1, 0);
	uint32_t i = r->head;
	unsigned k = 0;

	for (; k < n && i != r->tail; k++) {
		struct unm_slot *s = &r->slot[i];
		size_t len = fixed ? 60 : 60 + (*seq * 7919u) % 1455u;

		t_frame((uint8_t *)unm_buf(r, s->buf_idx), len, dst, hp->id, (*seq)++);
		s->len = (uint16_t)len;
		s->flags = 0;
		i = unm_ring_next(r, i);
	}
	unm_ring_advance(r, i);
	return k;
}

/* Drain RX ring 0 of the honest port HP, checking frames of sender PEER
 * (direction D); anything else is foreign. Returns frames taken. */
unsigned hrecv(struct hport *hp, unsigned peer, int d, uint32_t *expect)
{
	static uint8_t fb[UNM_MAX_FRAME + 1];
	struct unm_ring *r = unm_ring_get(hp->p, 0, 0);
	uint8_t pmac[6];
	uint32_t i = r->head;
	unsigned got = 0;

	t_mac(pmac, peer);
	while (i != r->tail) {
		size_t n = 0;
		unsigned nfr = 0;

		for (;;) { /* one whole frame; the switch never leaves half a chain */
			struct unm_slot *s = &r->slot[i];

			if (n + s->len <= sizeof(fb))
				memcpy(fb + n, unm_buf(r, s->buf_idx), s->len);
			n += s->len;
			nfr++;
			i = unm_ring_next(r, i);
			if (!(s->flags & UNM_NS_MOREFRAG))
				break;
			if (i == r->tail) {
				honest_fail("port %u: half a chain published", hp->id);
				return got;
			}
		}
		got++;
		if (d < 0) {
			F->sink_rx++;
			continue;
		}
		if (n < 14 || memcmp(fb + 6, pmac, 6)) {
			F->foreign[d]++;
			continue;
		}
		long seq = nfr == 1 ? t_frame_check(fb, n) : -1;

		F->recv[d]++;
		if (seq < 0) {
			F->corrupt[d]++;
		} else if ((uint32_t)seq == *expect) {
			(*expect)++;
		} else if ((uint32_t)seq > *expect) {
			F->lost[d] += (uint32_t)seq - *expect;
			*expect = (uint32_t)seq + 1;
		} else {
			F->corrupt[d]++; /* duplicate or reordered */
		}
	}
	unm_ring_advance(r, i);
	return got;
}

int reap(pid_t pid, double secs)
{
	double end = t_now() + secs;
	int st;

	while (t_now() < end) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(2000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return 255;
}

void hostile_init(int argc, char **argv, const char *usage, bool switch_opts)
{
	static const struct option lo[] = {
		{ "mutations", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "lossless", no_argument, NULL, 'l' },  /* switch_opts only, from here */
		{ "socket", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prog = program_invocation_short_name;
	bool timed = false;
	int c;

	O.seconds = 5;
	O.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	while ((c = getopt_long(argc, argv, switch_opts ? "n:t:r:jhls:" : "n:t:r:jh",
				switch_opts ? lo : (const struct option[]){
					lo[0], lo[1], lo[2], lo[3], lo[4], { NULL, 0, NULL, 0 } },
				NULL)) != -1) {
		switch (c) {
		case 'n': O.mutations = strtoull(optarg, NULL, 0); timed = true; break;
		case 't': O.seconds = strtod(optarg, NULL); timed = true; break;
		case 'r': O.seed = strtoull(optarg, NULL, 0); break;
		case 'l': O.lossless = true; break;
		case 's': O.socket = optarg; break;
		case 'j': O.json = true; break;
		case 'h': fputs(usage, stdout); exit(0);
		default: fprintf(stderr, "try '%s --help'\n", prog); exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\ntry '%s --help'\n", prog,
			argv[optind], prog);
		exit(2);
	}
	if (O.seconds <= 0 && !O.mutations)
		O.seconds = 5;
	if (O.seconds <= 0)
		O.seconds = 1e9;
	O.selftest = !timed;
	signal(SIGPIPE, SIG_IGN);
	F = t_shared(sizeof(*F));
	if (O.selftest) /* the make check version */
		t_watchdog(60);
	if (O.selftest || !O.json)
		printf("seed 0x%llx\n", (unsigned long long)O.seed);
}
