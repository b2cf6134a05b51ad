/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unm-hostile.h - what the three unm-hostile programs share (common.c):
 * their options, the figures their processes share, the random source,
 * the honest ports' sender and checker, and reaping a child.
 *
 *   unm-hostile-switch.c  a hostile vale port (and control-socket garbage)
 *                         next to an honest pair and a sink, through unmd
 *   unm-hostile-pipe.c    a hostile pipe end vs an honest one
 *   unm-hostile-shmif.c   a hostile writer on a bus two honest ports share
 *
 * Every actor is its own process; F is a MAP_SHARED page they all write.
 */
#ifndef UNM_HOSTILE_H
#define UNM_HOSTILE_H

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unm.h>
#include <unm/ctl.h>
#include "unm-internal.h"
#include "unm-ctlmsg.h"
#include "unm-shmif-bus.h"
#include "../../lib/test.h"
#include "../../lib/unmd.h"
#include "../../lib/honest.h"

/* the honest ports' ids (t_mac): A and B exchange, S is the sink */
#define ID_A 0x0a
#define ID_B 0x0b
#define ID_S 0x05

struct opts {
	uint64_t mutations;         /* stop after this many (0: time only) */
	double seconds;
	uint64_t seed;
	bool lossless, json, selftest;
	const char *socket;
};

/* Figures shared by the processes of one run (MAP_SHARED page). */
struct figs {
	volatile int stop, honest_stop, honest_ready, honest_done;
	uint64_t mutations, sessions, errored, reopen_busy, opens_refused;
	uint64_t ctl_msgs, ctl_replied, ctl_cut, ctl_bad_ok;
	uint64_t sent[2], recv[2], lost[2], corrupt[2], foreign[2];
	uint64_t sink_rx, sink_tx;
	struct unm_ctl_port_info hpi[3];   /* A, B, S from unmd before they close */
	int honest_err;
	char why[256];
};

extern struct figs *F;
extern struct opts O;

/* --help lines of the options every program takes (hostile_init) */
#define HOSTILE_OPTS_RUN \
"  -n, --mutations N   stop after N mutations\n" \
"  -t, --seconds S     stop after S seconds (default 5; 0: mutations only)\n" \
"  -r, --seed X        random seed (default: time)\n"
#define HOSTILE_OPTS_OUT \
"  -j, --json          figures as one JSON object\n" \
"  -h, --help          this text\n"

/* Parses the options (usage text USAGE; -l and -s only if SWITCH_OPTS),
 * ignores SIGPIPE, maps F and prints the seed. Without -t or -n the run
 * is the short one make check runs (O.selftest, under a 60 s watchdog). */
void hostile_init(int argc, char **argv, const char *usage, bool switch_opts);

/* xorshift64, one state per process: reseed(salt) after fork. */
extern uint64_t hostile_rs;

static inline uint64_t rnd(void)
{
	hostile_rs ^= hostile_rs << 13;
	hostile_rs ^= hostile_rs >> 7;
	hostile_rs ^= hostile_rs << 17;
	return hostile_rs;
}

void reseed(uint64_t salt);

/* An index a validator has to think about: edges, small, huge, junk. */
static inline uint32_t nasty(uint32_t n)
{
	switch (rnd() % 8) {
	case 0: return 0;
	case 1: return 1;
	case 2: return n;
	case 3: return n - 1;
	case 4: return n + (uint32_t)(rnd() % n);  /* another port's range */
	case 5: return 0xffffffffu;
	case 6: return 1u << (rnd() % 32);
	default: return (uint32_t)rnd();
	}
}

/* The first honest-side failure wins: F->honest_err, its text in F->why. */
void honest_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* An honest port: the switch's a, b, s or a shmif port. */
struct hport {
	struct unm_port *p;
	unsigned id;
};

/* Queue up to N frames on TX ring 0 of P (dst DST, src id, seq from *seq);
 * FIXED: 60-byte frames, else lengths vary with the sequence number. */
unsigned hsend(struct hport *hp, const uint8_t dst[6], uint32_t *seq, unsigned n, bool fixed);

/* Drain RX ring 0 of the honest port HP, checking frames of sender PEER
 * (direction D into F's counters; D < 0: a sink, count only). Returns
 * frames taken. */
unsigned hrecv(struct hport *hp, unsigned peer, int d, uint32_t *expect);

/* Wait up to SECS for PID (then SIGKILL it); its exit status, 128+signal,
 * or 255 when it had to be killed. */
int reap(pid_t pid, double secs);

#endif
