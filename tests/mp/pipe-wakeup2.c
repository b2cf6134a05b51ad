// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: pipe wake-ups with several rings of one end armed at once
 * (regression: a drain of the end's wake eventfd done for one ring could
 * eat the kick meant for another, already armed ring).
 * (1) Deterministic, both ends in this process: the slave's TX ring is
 *     full and armed, the master frees space (kick), then a sync of the
 *     slave's RX ring drains the eventfd, once through the idle liveness
 *     check (spin phase off) and once when leaving its spin phase (1 ms):
 *     unm_fd() must still be readable. Also: after a wake-up is consumed,
 *     the next arm empties the eventfd (a poll() caller does not spin).
 * (2) A waiter sleeps in unm_wait(RX|TX) on one end (64-slot rings, so TX
 *     blocks too) while the peer, after a random short delay, either
 *     frees TX space or sends a frame, then waits for the waiter to react.
 *     Every reaction must come within STALL_S (a lost kick costs the
 *     waiter's 2 s timeout). Once with one ring pair (waiter in a child
 *     process), once with two (waiter in a thread, unm_wait on the whole
 *     port).
 */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "pipe-common.h"

#define LEN      64
#define SLOTS    64
#define STALL_S  0.5
#define MAXR     2

static struct unm_port *open_end(const char *nm, unsigned rings)
{
	struct unm_open_opts o = { .sz = sizeof(o), .tx_rings = rings, .rx_rings = rings,
				   .tx_slots = SLOTS, .rx_slots = SLOTS };
	struct unm_port *p;

	T_ASSERT_EQ(unm_open(nm, &p, &o), 0);
	return p;
}

static int readable(struct unm_port *p)
{
	struct pollfd pfd = { .fd = unm_fd(p), .events = POLLIN };

	return poll(&pfd, 1, 0);
}

/* Fill S's TX ring 0 until the peer's RX ring is full; the last sync arms. */
static void fill_tx(struct unm_port *s, uint64_t *seq)
{
	while (pc_send(s, 0, seq, SLOTS, LEN) > 0)
		;
	T_ASSERT_EQ(unm_ring_space(unm_ring_get(s, 1, 0)), 0);
}

/* M consumes and releases everything S sent: S's TX ring gets space. */
static void free_space(struct unm_port *m, uint64_t *seq)
{
	T_ASSERT(pc_recv(m, 0, seq, LEN, pc_nbufs(m)) > 0);
	T_ASSERT_EQ(unm_rxsync(m, 0), 0);
}

static void det_pair(const char *tag, struct unm_port **m, struct unm_port **s)
{
	char nm[96];

	snprintf(nm, sizeof(nm), "%s{1", t_uniq(tag));
	*m = open_end(nm, 1);
	snprintf(nm, sizeof(nm), "%s}1", t_uniq(tag));
	*s = open_end(nm, 1);
}

/* Spin phase off: the drain is the idle liveness check's (1 ms period). */
static void det_idle_check(void)
{
	uint64_t sseq = 0, mseq = 0, rseq = 0, m2 = 0;
	struct unm_port *m, *s;

	setenv("UNM_PIPE_SPIN_US", "0", 1);
	det_pair("w2a", &m, &s);
	fill_tx(s, &sseq);
	T_ASSERT_EQ(pc_recv(s, 0, &rseq, LEN, pc_nbufs(s)), 0); /* RX armed too */
	T_ASSERT_EQ(readable(s), 0);
	free_space(m, &mseq);                                   /* kick */
	usleep(2500);                                           /* liveness check due */
	T_ASSERT_EQ(pc_recv(s, 0, &rseq, LEN, pc_nbufs(s)), 0); /* drains */
	if (readable(s) != 1)
		T_FAIL("idle check: TX space appeared but unm_fd() is not readable (lost kick)");
	T_ASSERT_EQ(unm_wait(s, UNM_WAIT_TX, 1000), UNM_WAIT_TX);
	T_ASSERT(pc_send(s, 0, &sseq, SLOTS, LEN) > 0);
	/* A consumed wake-up: M sends one frame (kick), S takes it and
	 * syncs again (re-arms): the eventfd must be empty, no 1 ms spin. */
	T_ASSERT_EQ(pc_recv(s, 0, &rseq, LEN, pc_nbufs(s)), 0);
	T_ASSERT_EQ(pc_send(m, 0, &m2, 1, LEN), 1);
	T_ASSERT_EQ(readable(s), 1);
	T_ASSERT_EQ(pc_recv(s, 0, &rseq, LEN, pc_nbufs(s)), 1);
	T_ASSERT_EQ(pc_recv(s, 0, &rseq, LEN, pc_nbufs(s)), 0);
	T_ASSERT_EQ(unm_txsync(s, 0), 0);
	if (readable(s) != 0)
		T_FAIL("a consumed kick stays in unm_fd() after the next arm");
	unm_close(s);
	unm_close(m);
	unsetenv("UNM_PIPE_SPIN_US");
}

/* Spin phase 1 ms: the TX ring arms for real while the RX ring still
 * spins; the RX ring's own arm, 1 ms later, drains the eventfd. */
static void det_spin_end(void)
{
	uint64_t sseq = 0, mseq = 0, rseq = 0, m2 = 0;
	struct unm_port *m, *s;
	double t0;

	setenv("UNM_PIPE_SPIN_US", "1000", 1);
	det_pair("w2b", &m, &s);
	for (int tries = 0;; tries++) {
		t0 = t_now();
		fill_tx(s, &sseq);                    /* TX idle from t0: spins */
		usleep(1200);
		T_ASSERT_EQ(pc_send(m, 0, &m2, 1, LEN), 1);
		T_ASSERT_EQ(pc_recv(s, 0, &rseq, LEN, pc_nbufs(s)), 1);
		T_ASSERT_EQ(pc_recv(s, 0, &rseq, LEN, pc_nbufs(s)), 0); /* RX spins */
		T_ASSERT_EQ(unm_txsync(s, 0), 0);     /* TX arms for real */
		T_ASSERT_EQ(pc_recv(s, 0, &rseq, LEN, pc_nbufs(s)), 0); /* RX signals */
		free_space(m, &mseq);                 /* kick for TX */
		if (t_now() - t0 < 1.9 || tries == 20)
			break;                        /* else descheduled: retry */
		T_ASSERT_EQ(unm_wait(s, UNM_WAIT_TX, 1000), UNM_WAIT_TX);
	}
	usleep(1200);
	T_ASSERT_EQ(pc_recv(s, 0, &rseq, LEN, pc_nbufs(s)), 0); /* RX arms: drains */
	if (readable(s) != 1)
		T_FAIL("spin end: TX space appeared but unm_fd() is not readable (lost kick)");
	T_ASSERT(unm_wait(s, UNM_WAIT_TX, 1000) > 0);
	unm_close(s);
	unm_close(m);
	unsetenv("UNM_PIPE_SPIN_US");
}

/* ---- (2) randomized waiter/peer ------------------------------------------- */

struct shared {
	uint64_t w_tx, w_rx;       /* frames the waiter sent / received */
	int stop, ready, fail;
	unsigned rings;
	double max_wait;
	char nm_s[96];
};

static struct shared *sh;

static void *waiter(void *arg)
{
	struct unm_port *s = arg;
	uint64_t sseq[MAXR] = { 0 }, rseq[MAXR] = { 0 };
	uint32_t nbufs = pc_nbufs(s);

	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		int moved = 0;

		for (unsigned r = 0; r < sh->rings; r++) {
			int n = pc_send(s, r, &sseq[r], SLOTS, LEN);

			if (n < 0 && n != -EPIPE)
				sh->fail = n;
			if (n > 0) {
				__atomic_add_fetch(&sh->w_tx, (uint64_t)n, __ATOMIC_RELEASE);
				moved = 1;
			}
			n = pc_recv(s, r, &rseq[r], LEN, nbufs);
			if (n < 0 && n != -EPIPE)
				sh->fail = n;
			if (n > 0) {
				__atomic_add_fetch(&sh->w_rx, (uint64_t)n, __ATOMIC_RELEASE);
				moved = 1;
			}
		}
		if (moved)
			continue;
		double t = t_now();
		int rc = unm_wait(s, UNM_WAIT_RX | UNM_WAIT_TX, 2000);

		t = t_now() - t;
		if (t > sh->max_wait)
			sh->max_wait = t;
		if (rc < 0) {
			if (rc != -EPIPE)
				sh->fail = rc;
			break;
		}
	}
	return NULL;
}

/* Wait until *CTR > OLD; returns the time it took. */
static double await(const uint64_t *ctr, uint64_t old)
{
	double t0 = t_now(), t;

	while ((t = t_now() - t0) < 3 && __atomic_load_n(ctr, __ATOMIC_ACQUIRE) <= old)
		usleep(10);
	return t;
}

/* The peer: ITERS random steps on end M; returns the number of stalls. */
static unsigned peer(struct unm_port *m, unsigned iters, double *worst)
{
	uint64_t sseq[MAXR] = { 0 }, rseq[MAXR] = { 0 };
	uint32_t nbufs = pc_nbufs(m);
	unsigned stalls = 0;

	*worst = 0;
	for (unsigned i = 0; i < iters; i++) {
		unsigned r = (unsigned)rand() % sh->rings;
		uint64_t old;
		double t;

		usleep((useconds_t)(rand() % 150));
		if (rand() & 1) {
			/* free the waiter's TX space once it is full */
			old = __atomic_load_n(&sh->w_tx, __ATOMIC_ACQUIRE);
			int n = pc_recv(m, r, &rseq[r], LEN, nbufs);

			T_ASSERT(n >= 0);
			T_ASSERT_EQ(unm_rxsync(m, (int)r), 0);
			if (n == 0)
				continue;
			t = await(&sh->w_tx, old);
		} else {
			old = __atomic_load_n(&sh->w_rx, __ATOMIC_ACQUIRE);
			if (pc_send(m, r, &sseq[r], 1, LEN) != 1)
				continue;
			t = await(&sh->w_rx, old);
		}
		if (t > *worst)
			*worst = t;
		if (t > STALL_S) {
			stalls++;
			printf("  stall %.3f s at step %u\n", t, i);
		}
	}
	return stalls;
}

static void run_random(unsigned rings, int threaded, unsigned iters)
{
	char nm_m[96];
	struct unm_port *m, *s = NULL;
	pthread_t th;
	pid_t pid = -1;
	unsigned stalls;
	double worst, t0 = t_now();

	memset(sh, 0, sizeof(*sh));
	sh->rings = rings;
	snprintf(nm_m, sizeof(nm_m), "%s{%u", t_uniq("w2r"), rings);
	snprintf(sh->nm_s, sizeof(sh->nm_s), "%s}%u", t_uniq("w2r"), rings);
	if (threaded) {
		m = open_end(nm_m, rings);
		s = open_end(sh->nm_s, rings);
		T_ASSERT_EQ(pthread_create(&th, NULL, waiter, s), 0);
	} else {
		pid = fork();
		T_ASSERT(pid >= 0);
		if (pid == 0) {
			s = open_end(sh->nm_s, rings);
			__atomic_store_n(&sh->ready, 1, __ATOMIC_RELEASE);
			waiter(s);
			unm_close(s);
			_exit(sh->fail ? 1 : 0);
		}
		while (!__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE))
			usleep(100);
		m = open_end(nm_m, rings);
	}
	stalls = peer(m, iters, &worst);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	if (threaded) {
		unm_close(m);
		pthread_join(th, NULL);
		unm_close(s);
	} else {
		unm_close(m);
		T_ASSERT_EQ(pc_reap(pid, 10), 0);
	}
	printf("random, %u ring pair(s), waiter in a %s: %u steps in %.2f s, waiter frames "
	       "tx %llu rx %llu, slowest reaction %.1f ms, longest wait %.1f ms, %u stalls\n",
	       rings, threaded ? "thread" : "process", iters, t_now() - t0,
	       (unsigned long long)sh->w_tx, (unsigned long long)sh->w_rx, worst * 1e3,
	       sh->max_wait * 1e3, stalls);
	T_ASSERT_EQ(sh->fail, 0);
	T_ASSERT_EQ(stalls, 0);
}

int main(int argc, char **argv)
{
	unsigned iters = argc > 1 ? (unsigned)atoi(argv[1]) : PC_SANITIZED ? 2000 : 4000;

	setvbuf(stdout, NULL, _IOLBF, 0);
	t_watchdog(55);
	srand((unsigned)getpid());
	pc_light = 1;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(sh != MAP_FAILED);
	if (argc <= 2) { /* "pipe-wakeup2 ITERS random": the randomized part only */
		det_idle_check();
		printf("deterministic (idle check drain): ok\n");
		det_spin_end();
		printf("deterministic (spin end drain): ok\n");
	}
	run_random(1, 0, iters);
	run_random(2, 1, iters);
	printf("ok\n");
	return 0;
}
