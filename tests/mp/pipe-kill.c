// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a pipe end killed with SIGKILL leaves nothing behind and
 * its peer notices. (1) The consumer (rendezvous owner) is killed: the
 * producer's txsync/unm_wait returns -EPIPE within 1 s. (2) The producer
 * (joiner) is killed while the consumer spins on unm_rxsync() without
 * sleeping: the consumer gets the frames still queued, then -EPIPE within
 * 1 s. (3) The producer kills itself while the consumer sleeps in
 * unm_wait(): the consumer wakes with -EPIPE. (4) The same pipe names are
 * opened again by two new processes and carry a frame. No file appears in
 * /dev/shm.
 */
#include <poll.h>
#include "pipe-common.h"

#define LEN 64

static char base[64];

static void name(char *buf, size_t n, int master, int id)
{
	snprintf(buf, n, "%s%c%d", base, master ? '{' : '}', id);
}

/* Child: wait for "go" (so it never inherits an open port), open NAME,
 * tell the parent, then consume (or produce) until killed. */
static int child_loop(const char *nm, int tx, int go_fd, int ready_fd, int selfkill_after)
{
	struct unm_port *p;
	uint64_t seq = 0;
	char c = 'r';

	if (read(go_fd, &c, 1) != 1 || unm_open(nm, &p, NULL))
		return 3;
	if (write(ready_fd, &c, 1) != 1)
		return 4;
	for (;;) {
		int rc;

		if (tx) {
			unsigned n = 64;

			if (selfkill_after && seq + n > (uint64_t)selfkill_after)
				n = (unsigned)(selfkill_after - seq);
			rc = pc_send(p, 0, &seq, n, LEN);
			if (selfkill_after && seq >= (uint64_t)selfkill_after &&
			    !unm_tx_pending(unm_ring_get(p, 1, 0))) {
				usleep(200000);
				kill(getpid(), SIGKILL);
			}
		} else {
			rc = pc_recv(p, 0, &seq, LEN, pc_nbufs(p));
		}
		if (rc == 0)
			usleep(50);
		if (rc < 0)
			return 5;
		if (tx && selfkill_after && seq == (uint64_t)selfkill_after)
			T_ASSERT_EQ(unm_txsync(p, 0), 0);
	}
}

struct kid { pid_t pid; int go, ready; };

static struct kid spawn(const char *nm, int tx, int selfkill_after)
{
	int go[2], ready[2];
	struct kid k;

	T_ASSERT_EQ(pipe(go), 0);
	T_ASSERT_EQ(pipe(ready), 0);
	k.pid = fork();
	if (k.pid == 0) {
		close(go[1]);
		close(ready[0]);
		_exit(child_loop(nm, tx, go[0], ready[1], selfkill_after));
	}
	close(go[0]);
	close(ready[1]);
	k.go = go[1];
	k.ready = ready[0];
	return k;
}

/* Let the child open, wait until it has. If we own the rendezvous (P),
 * keep syncing meanwhile: the owner answers joiners from its syncs. */
static void start(struct kid *k, struct unm_port *p)
{
	struct pollfd pfd = { .fd = k->ready, .events = POLLIN };
	char c = 'g';

	T_ASSERT_EQ(write(k->go, &c, 1), 1);
	while (p && poll(&pfd, 1, 0) == 0)
		T_ASSERT(unm_wait(p, UNM_WAIT_RX, 10) >= 0);
	T_ASSERT_EQ(read(k->ready, &c, 1), 1);
	close(k->go);
	close(k->ready);
}

static void consumer_killed(void)
{
	char m[96], s[96];
	struct unm_port *p;
	uint64_t seq = 0;
	struct kid k;
	pid_t pid;
	double t0;
	int rc;

	name(m, sizeof(m), 1, 1);
	name(s, sizeof(s), 0, 1);
	k = spawn(s, 0, 0);
	pid = k.pid;
	start(&k, NULL); /* the child owns the rendezvous */
	T_ASSERT_EQ(unm_open(m, &p, NULL), 0);
	for (int i = 0; i < 100; i++)
		T_ASSERT(pc_send(p, 0, &seq, 64, LEN) >= 0);
	kill(pid, SIGKILL);
	T_ASSERT_EQ(pc_reap(pid, 5), 128 + SIGKILL);
	t0 = t_now();
	do {
		rc = pc_send(p, 0, &seq, 64, LEN);
		if (rc >= 0)
			rc = unm_wait(p, UNM_WAIT_TX, 1000);
	} while (rc >= 0 && t_now() - t0 < 3);
	T_ASSERT_EQ(rc, -EPIPE);
	printf("consumer killed: producer got -EPIPE after %.1f ms\n", (t_now() - t0) * 1e3);
	T_ASSERT(t_now() - t0 < 1.0);
	T_ASSERT_EQ(unm_txsync(p, 0), -EPIPE);
	unm_close(p);
}

static void producer_killed(int sleeping)
{
	char m[96], s[96];
	struct unm_port *p;
	uint64_t seq = 0;
	double t0 = 0;
	struct kid k;
	pid_t pid;
	int rc;

	name(m, sizeof(m), 1, 2 + sleeping);
	name(s, sizeof(s), 0, 2 + sleeping);
	/* sleeping: the producer sends 5000 frames then SIGKILLs itself */
	k = spawn(m, 1, sleeping ? 5000 : 0);
	pid = k.pid;
	T_ASSERT_EQ(unm_open(s, &p, NULL), 0); /* we own the rendezvous */
	start(&k, p);
	for (;;) {
		rc = sleeping ? unm_wait(p, UNM_WAIT_RX, 2000) : 0;
		if (rc >= 0)
			rc = pc_recv(p, 0, &seq, LEN, pc_nbufs(p));
		if (rc < 0)
			break;
		if (!sleeping && seq > 20000 && !t0) {
			kill(pid, SIGKILL);
			t0 = t_now();
		}
		if (sleeping && seq >= 5000 && !t0)
			t0 = t_now(); /* it dies about 200 ms from now */
		T_ASSERT(!t0 || t_now() - t0 < 3);
	}
	T_ASSERT_EQ(rc, -EPIPE);
	T_ASSERT_EQ(pc_reap(pid, 5), 128 + SIGKILL);
	printf("producer killed (%s consumer): %llu frames, -EPIPE after %.1f ms\n",
	       sleeping ? "sleeping" : "spinning", (unsigned long long)seq, (t_now() - t0) * 1e3);
	T_ASSERT(t_now() - t0 < 1.0 + (sleeping ? 0.2 : 0));
	if (sleeping)
		T_ASSERT_EQ(seq, 5000);
	unm_close(p);
}

static void reopen(int id)
{
	char m[96], s[96];
	struct unm_port *p;
	uint64_t seq = 0, rseq = 0;
	pid_t pid;
	double end = t_now() + 5;
	int rc;

	name(m, sizeof(m), 1, id);
	name(s, sizeof(s), 0, id);
	pid = fork();
	if (pid == 0) {
		T_ASSERT_EQ(unm_open(m, &p, NULL), 0);
		T_ASSERT_EQ(pc_send(p, 0, &seq, 1, LEN), 1);
		while (unm_tx_pending(unm_ring_get(p, 1, 0)))
			T_ASSERT_EQ(unm_txsync(p, 0), 0);
		/* wait for the slave to hang up */
		while ((rc = unm_wait(p, UNM_WAIT_RX, 1000)) >= 0 && t_now() < end)
			;
		_exit(rc == -EPIPE ? 0 : 6);
	}
	T_ASSERT_EQ(unm_open(s, &p, NULL), 0);
	while ((rc = pc_recv(p, 0, &rseq, LEN, pc_nbufs(p))) == 0 && t_now() < end)
		unm_wait(p, UNM_WAIT_RX, 100);
	T_ASSERT_EQ(rc, 1);
	unm_close(p);
	T_ASSERT_EQ(pc_reap(pid, 5), 0);
}

int main(void)
{
	int shm0 = pc_shm_count();

	t_watchdog(30);
	snprintf(base, sizeof(base), "%s", t_uniq("kill"));
	consumer_killed();
	producer_killed(0);
	producer_killed(1);
	reopen(1);
	reopen(2);
	reopen(3);
	T_ASSERT_EQ(pc_shm_count(), shm0);
	printf("ok\n");
	return 0;
}
