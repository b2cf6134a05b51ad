// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: pipe data path between two processes. (1) One ring pair:
 * the master sends a few million 64-byte frames with sequence numbers in
 * batches of 512; the slave (opened first, so it owns the rendezvous)
 * receives every frame exactly once, in order, content intact, then sees
 * -EPIPE once the master has closed and the ring is drained. (2) Four
 * ring pairs, one thread per pair in each process, both directions at
 * once: every ring's stream arrives complete and in order.
 */
#include <pthread.h>
#include <sched.h>
#include "pipe-common.h"

#define LEN    64
#define BATCH  512

static char name_m[64], name_s[64];
static uint64_t nframes;

static void send_all(struct unm_port *p, unsigned ring, uint64_t n)
{
	uint64_t seq = 0;
	struct unm_ring *r = unm_ring_get(p, 1, ring);

	while (seq < n) {
		unsigned want = n - seq < BATCH ? (unsigned)(n - seq) : BATCH;
		int rc = pc_send(p, ring, &seq, want, LEN);

		if (rc == 0) /* ring full: sleep until the slave frees slots */
			rc = unm_wait(p, UNM_WAIT_TX, 100);
		if (rc < 0)
			T_FAIL("ring %u: txsync %d after %llu frames", ring, rc, (unsigned long long)seq);
	}
	while (unm_tx_pending(r)) /* let every queued slot reach the peer */
		T_ASSERT_EQ(unm_txsync(p, (int)ring), 0);
}

static void recv_all(struct unm_port *p, unsigned ring, uint64_t n, uint32_t nbufs)
{
	uint64_t seq = 0;

	while (seq < n) {
		int rc = pc_recv(p, ring, &seq, LEN, nbufs);

		if (rc == 0) /* nothing yet: sleep until the master sends */
			rc = unm_wait(p, UNM_WAIT_RX, 100);
		if (rc < 0)
			T_FAIL("ring %u: rx %d after %llu frames", ring, rc, (unsigned long long)seq);
	}
}

static int slave_main(void)
{
	struct unm_port *p;
	uint64_t seq;
	double end;
	int rc;

	T_ASSERT_EQ(unm_open(name_s, &p, NULL), 0);
	recv_all(p, 0, nframes, pc_nbufs(p));
	/* the master closes after sending: -EPIPE, and nothing more arrives */
	seq = nframes;
	end = t_now() + 5;
	while ((rc = pc_recv(p, 0, &seq, LEN, pc_nbufs(p))) == 0 && t_now() < end)
		usleep(100);
	T_ASSERT_EQ(rc, -EPIPE);
	T_ASSERT_EQ(unm_txsync(p, 0), -EPIPE);
	unm_close(p);
	return 0;
}

struct thr {
	struct unm_port *p;
	unsigned ring;
	uint64_t n;
	uint32_t nbufs;
};

/* One ring pair, both directions, interleaved batches. */
static void *pair_thread(void *arg)
{
	struct thr *t = arg;
	struct unm_ring *tx = unm_ring_get(t->p, 1, t->ring);
	uint64_t sseq = 0, rseq = 0;

	while (sseq < t->n || rseq < t->n || unm_tx_pending(tx)) {
		int moved = 0;

		if (sseq < t->n || unm_tx_pending(tx)) {
			unsigned want = t->n - sseq < BATCH ? (unsigned)(t->n - sseq) : BATCH;
			int rc = pc_send(t->p, t->ring, &sseq, want, LEN);

			if (rc < 0)
				T_FAIL("ring %u: txsync %d", t->ring, rc);
			moved += rc;
		}
		if (rseq < t->n) {
			int rc = pc_recv(t->p, t->ring, &rseq, LEN, t->nbufs);

			if (rc < 0)
				T_FAIL("ring %u: rx %d at %llu", t->ring, rc, (unsigned long long)rseq);
			moved += rc;
		}
		if (!moved) /* unm_wait() syncs every ring: not for one thread per ring */
			sched_yield();
	}
	return NULL;
}

static int multi_main(const char *name, unsigned rings, uint64_t n)
{
	struct unm_port *p;
	pthread_t th[8];
	struct thr t[8];

	T_ASSERT_EQ(unm_open(name, &p, NULL), 0);
	for (unsigned i = 0; i < rings; i++) {
		t[i] = (struct thr){ .p = p, .ring = i, .n = n, .nbufs = pc_nbufs(p) };
		T_ASSERT_EQ(pthread_create(&th[i], NULL, pair_thread, &t[i]), 0);
	}
	for (unsigned i = 0; i < rings; i++)
		pthread_join(th[i], NULL);
	unm_close(p);
	return 0;
}

int main(void)
{
	struct unm_port *p;
	double t0;
	pid_t pid;
	int shm0 = pc_shm_count();
	char mm[96], ms[96];

	t_watchdog(40);
	nframes = PC_SANITIZED ? 1000000 : 3000000;
	snprintf(name_m, sizeof(name_m), "%s{0", t_uniq("seq"));
	snprintf(name_s, sizeof(name_s), "%s}0", t_uniq("seq"));

	/* (1) slave opens first and owns the rendezvous */
	pid = fork();
	if (pid == 0)
		_exit(slave_main());
	usleep(20000);
	t0 = t_now();
	T_ASSERT_EQ(unm_open(name_m, &p, NULL), 0);
	send_all(p, 0, nframes);
	unm_close(p);
	T_ASSERT_EQ(pc_reap(pid, 20), 0);
	printf("one ring: %llu frames in %.2f s\n", (unsigned long long)nframes, t_now() - t0);

	/* (2) four ring pairs, one thread per pair on each side */
	snprintf(mm, sizeof(mm), "%s{1@conf:rings=4,slots=256", t_uniq("seq"));
	snprintf(ms, sizeof(ms), "%s}1@conf:rings=4,slots=256", t_uniq("seq"));
	t0 = t_now();
	pid = fork();
	if (pid == 0)
		_exit(multi_main(ms, 4, nframes / 8));
	T_ASSERT_EQ(multi_main(mm, 4, nframes / 8), 0);
	T_ASSERT_EQ(pc_reap(pid, 20), 0);
	printf("4 rings x 2 directions: %llu frames each in %.2f s\n",
	       (unsigned long long)nframes / 8, t_now() - t0);
	T_ASSERT_EQ(pc_shm_count(), shm0);
	printf("ok\n");
	return 0;
}
