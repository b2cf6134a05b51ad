// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: pipe notifications. (1) Ping-pong of 100k round trips
 * where both sides sleep in unm_wait() between frames, with the spin
 * phase disabled (UNM_PIPE_SPIN_US=0) so every wait really arms need_wake
 * and sleeps: a lost wake-up would hang the test (the watchdog fails it).
 * (2) The same with the default spin phase. (3) A busy one-way stream
 * where both sides use unm_wait() only when their ring is full/empty:
 * kicks (eventfd writes) stay far below one per batch.
 */
#include <stdlib.h>
#include "pipe-common.h"

#define LEN 64

static char nm_m[96], nm_s[96];

static struct unm_port *open_end(const char *nm)
{
	struct unm_port *p;

	T_ASSERT_EQ(unm_open(nm, &p, NULL), 0);
	return p;
}

static uint64_t kicks(struct unm_port *p)
{
	struct unm_port_stats st = { .sz = sizeof(st) };

	unm_port_stats(p, &st);
	return st.kicks;
}

/* Receive exactly one frame with sequence number *seq, sleeping. */
static void recv_one(struct unm_port *p, uint64_t *seq, uint32_t nbufs)
{
	for (;;) {
		int rc = unm_wait(p, UNM_WAIT_RX, 5000);

		if (rc <= 0)
			T_FAIL("unm_wait: %d waiting for frame %llu", rc, (unsigned long long)*seq);
		rc = pc_recv(p, 0, seq, LEN, nbufs);
		if (rc == 1)
			return;
		if (rc != 0)
			T_FAIL("recv: %d at %llu", rc, (unsigned long long)*seq);
	}
}

static void send_one(struct unm_port *p, uint64_t *seq)
{
	T_ASSERT_EQ(pc_send(p, 0, seq, 1, LEN), 1);
}

static void pingpong(unsigned rounds, int id)
{
	uint64_t sseq = 0, rseq = 0;
	struct unm_port *p;
	double t0 = t_now();
	pid_t pid;

	snprintf(nm_m, sizeof(nm_m), "%s{%d", t_uniq("wk"), id);
	snprintf(nm_s, sizeof(nm_s), "%s}%d", t_uniq("wk"), id);
	pid = fork();
	if (pid == 0) { /* echo side */
		p = open_end(nm_s);
		for (unsigned i = 0; i < rounds; i++) {
			recv_one(p, &rseq, pc_nbufs(p));
			send_one(p, &sseq);
		}
		T_ASSERT_EQ(unm_wait(p, UNM_WAIT_RX, 5000), -EPIPE);
		unm_close(p);
		_exit(0);
	}
	p = open_end(nm_m);
	for (unsigned i = 0; i < rounds; i++) {
		send_one(p, &sseq);
		recv_one(p, &rseq, pc_nbufs(p));
	}
	printf("ping-pong (%s spin): %u round trips, %.1f us each, %llu kicks\n",
	       getenv("UNM_PIPE_SPIN_US") ? "no" : "default", rounds,
	       (t_now() - t0) * 1e6 / rounds, (unsigned long long)kicks(p));
	unm_close(p);
	T_ASSERT_EQ(pc_reap(pid, 10), 0);
}

static void stream(uint64_t n)
{
	uint64_t seq = 0, k;
	unsigned batches;
	struct unm_port *p;
	double la[1];
	pid_t pid;
	int fds[2];

	T_ASSERT_EQ(pipe(fds), 0);
	snprintf(nm_m, sizeof(nm_m), "%s{9", t_uniq("wk"));
	snprintf(nm_s, sizeof(nm_s), "%s}9", t_uniq("wk"));
	pid = fork();
	if (pid == 0) {
		p = open_end(nm_s);
		while (seq < n) {
			int rc = pc_recv(p, 0, &seq, LEN, pc_nbufs(p));

			if (rc == 0)
				rc = unm_wait(p, UNM_WAIT_RX, 5000);
			T_ASSERT(rc >= 0);
		}
		k = kicks(p);
		T_ASSERT_EQ(write(fds[1], &k, sizeof(k)), (int)sizeof(k));
		unm_close(p);
		_exit(0);
	}
	p = open_end(nm_m);
	while (seq < n) {
		int rc = pc_send(p, 0, &seq, n - seq < 512 ? (unsigned)(n - seq) : 512, LEN);

		if (rc == 0)
			rc = unm_wait(p, UNM_WAIT_TX, 5000);
		T_ASSERT(rc >= 0);
	}
	while (unm_tx_pending(unm_ring_get(p, 1, 0)))
		T_ASSERT(unm_wait(p, UNM_WAIT_TX, 5000) >= 0);
	T_ASSERT_EQ(read(fds[0], &k, sizeof(k)), (int)sizeof(k));
	printf("consumer kicks %llu, producer kicks %llu\n", (unsigned long long)k, (unsigned long long)kicks(p));
	k += kicks(p);
	unm_close(p);
	T_ASSERT_EQ(pc_reap(pid, 10), 0);
	batches = (unsigned)(n / 512);
	printf("stream: %llu frames, %u batches, %llu kicks\n", (unsigned long long)n, batches,
	       (unsigned long long)k);
	/* On an idle machine both sides stay in their spin phase: ~0 kicks.
	 * A busy host deschedules them for longer than the spin phase, so
	 * only bound it loosely there. */
	if (getloadavg(la, 1) == 1 && la[0] < sysconf(_SC_NPROCESSORS_ONLN) - 0.5)
		T_ASSERT(k * 8 <= batches);
	else
		T_ASSERT(k <= batches);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	t_watchdog(40);
	setenv("UNM_PIPE_SPIN_US", "0", 1);
	pingpong(PC_SANITIZED ? 30000 : 100000, 1);
	unsetenv("UNM_PIPE_SPIN_US");
	pingpong(20000, 2);
	pc_light = 1;
	stream(PC_SANITIZED ? 1000000 : 4000000);
	printf("ok\n");
	return 0;
}
