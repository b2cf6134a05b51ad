// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a pipe end that lends its TX buffers (UNM_OPEN_PIPE_LOAN)
 * gets them back when its peer dies holding them. The peer receives 200
 * lent frames, releases 150 and dies (SIGKILL) holding 50: (plain) having
 * touched nothing, the sender's TX ring drains (unm_tx_pending() false)
 * and holds exactly the buffers it started with; (swap) having swapped the
 * 50 held buffers into its TX ring and sent them back, the sender's TX
 * ring has the buffers the peer left in its RX slots and the bounced ones
 * arrive in its RX ring, each buffer in one slot only; (hostile) having
 * written invalid and duplicate indexes into its held RX slots, the TX
 * ring still has each buffer at most once, all valid (bad_buf counted).
 * Then a sync with nothing new leaves the ring drained, and a sender that
 * keeps sending gets one ring of room, then none (-EPIPE, no space).
 */
#include <poll.h>
#include "pipe-common.h"

#define NS   256
#define SENT 200
#define HOLD 50

static char base[64];

static void child(const char *nm, const char *mode, int go, int ready)
{
	struct unm_open_opts o = { .sz = sizeof(o), .tx_slots = NS, .rx_slots = NS };
	struct unm_port *p;
	char c;

	if (read(go, &c, 1) != 1)
		_exit(3);
	int rc = unm_open(nm, &p, &o);
	if (rc) {
		printf("child: open %s: %s\n", nm, unm_errmsg());
		_exit(3);
	}
	struct unm_ring *rx = unm_ring_get(p, 0, 0), *tx = unm_ring_get(p, 1, 0);
	double end = t_now() + 5;

	while (unm_ring_space(rx) < SENT && t_now() < end) {
		unm_rxsync(p, 0);
		usleep(1000);
	}
	if (unm_ring_space(rx) != SENT) {
		printf("child: %u frames, want %u\n", unm_ring_space(rx), SENT);
		_exit(4);
	}
	uint32_t h = (rx->head + SENT - HOLD) % rx->num_slots; /* release 150 */
	uint32_t first_rel = rx->slot[rx->head].buf_idx;

	unm_ring_advance(rx, h);
	unm_rxsync(p, 0);
	if (!strcmp(mode, "swap")) {
		for (uint32_t k = 0, i = h; k < HOLD; k++, i = unm_ring_next(rx, i)) {
			struct unm_slot *r = &rx->slot[i], *t = &tx->slot[tx->head];
			uint32_t b = t->buf_idx;

			t->buf_idx = r->buf_idx;
			t->len = r->len;
			t->flags = UNM_NS_BUF_CHANGED;
			r->buf_idx = b;
			r->flags = UNM_NS_BUF_CHANGED;
			unm_ring_advance(tx, unm_ring_next(tx, tx->head));
		}
		if (unm_txsync(p, 0))
			_exit(5);
	} else if (!strcmp(mode, "hostile")) {
		uint32_t y = tx->slot[0].buf_idx;

		for (uint32_t k = 0, i = h; k < HOLD; k++, i = unm_ring_next(rx, i))
			rx->slot[i].buf_idx = k < 10 ? 0 : k < 20 ? 0xfffffff0u :
					      k < 30 ? first_rel /* the sender has it back */ : y;
	}
	if (write(ready, "d", 1) != 1)
		_exit(6);
	pause(); /* killed by the parent */
	_exit(7);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* TX ring (all slots) and RX ring [head, tail): valid, each index once.
 * Returns the number of slots checked. */
static unsigned check_once(struct unm_port *p, uint32_t nbufs)
{
	struct unm_ring *tx = unm_ring_get(p, 1, 0), *rx = unm_ring_get(p, 0, 0);
	uint8_t *seen = calloc(nbufs, 1);
	unsigned n = 0;

	T_ASSERT(seen);
	for (uint32_t i = 0; i < tx->num_slots; i++, n++) {
		uint32_t b = tx->slot[i].buf_idx;

		T_ASSERT(b >= 2 && b < nbufs);
		T_ASSERT(!seen[b]);
		seen[b] = 1;
	}
	for (uint32_t i = rx->head; i != rx->tail; i = unm_ring_next(rx, i), n++) {
		uint32_t b = rx->slot[i].buf_idx;

		T_ASSERT(b >= 2 && b < nbufs);
		T_ASSERT(!seen[b]);
		seen[b] = 1;
	}
	free(seen);
	return n;
}

static void run(const char *mode, int id)
{
	struct unm_open_opts o = { .sz = sizeof(o), .tx_slots = NS, .rx_slots = NS,
				   .flags = UNM_OPEN_PIPE_LOAN };
	char mn[96], sn[96];
	int go[2], ready[2];
	uint32_t before[NS], after[NS];
	struct unm_port *p;

	snprintf(mn, sizeof(mn), "%s{%d", base, id);
	snprintf(sn, sizeof(sn), "%s}%d", base, id);
	T_ASSERT(pipe(go) == 0 && pipe(ready) == 0);
	pid_t pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		close(go[1]);
		close(ready[0]);
		child(sn, mode, go[0], ready[1]);
	}
	close(go[0]);
	close(ready[1]);
	T_ASSERT_EQ(unm_open(mn, &p, &o), 0);
	T_ASSERT(write(go[1], "g", 1) == 1);
	struct unm_ring *tx = unm_ring_get(p, 1, 0), *rx = unm_ring_get(p, 0, 0);
	const uint32_t nbufs = pc_nbufs(p);
	uint64_t seq = 0;

	for (uint32_t i = 0; i < NS; i++)
		before[i] = tx->slot[i].buf_idx;
	T_ASSERT_EQ(pc_send(p, 0, &seq, SENT, 60), SENT);
	/* the owner answers the joiner from its syncs: keep syncing */
	struct pollfd pf = { .fd = ready[0], .events = POLLIN };
	double end0 = t_now() + 10;
	while (poll(&pf, 1, 1) == 0 && t_now() < end0)
		unm_txsync(p, 0);
	char c;
	T_ASSERT(read(ready[0], &c, 1) == 1);
	kill(pid, SIGKILL);
	T_ASSERT_EQ(pc_reap(pid, 5), 128 + SIGKILL);
	/* the lent slots come back once the hang-up is seen */
	int rc = 0;
	double end = t_now() + 5;
	while (unm_tx_pending(tx) && t_now() < end) {
		rc = unm_txsync(p, 0);
		usleep(1000);
	}
	T_ASSERT(!unm_tx_pending(tx));
	T_ASSERT_EQ(unm_txsync(p, 0), -EPIPE);
	(void)rc;
	T_ASSERT_EQ(unm_ring_space(tx), NS - 1);
	unm_rxsync(p, 0);
	unsigned n = check_once(p, nbufs);
	if (!strcmp(mode, "plain")) {
		for (uint32_t i = 0; i < NS; i++)
			after[i] = tx->slot[i].buf_idx;
		qsort(before, NS, sizeof(before[0]), cmp_u32);
		qsort(after, NS, sizeof(after[0]), cmp_u32);
		T_ASSERT(!memcmp(before, after, sizeof(before)));
		T_ASSERT_EQ(n, NS);
	} else if (!strcmp(mode, "swap")) {
		T_ASSERT_EQ(unm_ring_space(rx), HOLD); /* the bounced frames */
		T_ASSERT_EQ(n, NS + HOLD);
	} else {
		struct unm_port_stats st = { .sz = sizeof(st) };

		T_ASSERT_EQ(unm_port_stats(p, &st), 0);
		T_ASSERT(st.bad_buf >= 20);
	}
	/* nothing new: still drained */
	T_ASSERT_EQ(unm_txsync(p, 0), -EPIPE);
	T_ASSERT(!unm_tx_pending(tx));
	/* keep sending: one ring, then no room */
	T_ASSERT_EQ(pc_send(p, 0, &seq, NS, 60), -EPIPE);
	T_ASSERT_EQ(unm_ring_space(tx), 0);
	T_ASSERT_EQ(pc_send(p, 0, &seq, NS, 60), -EPIPE);
	T_ASSERT_EQ(unm_ring_space(tx), 0);
	unm_close(p);
	close(go[1]);
	close(ready[0]);
	printf("%s: ok (%u slots checked)\n", mode, n);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(base, sizeof(base), "unmloandead%d", (int)getpid());
	run("plain", 0);
	run("swap", 1);
	run("hostile", 2);
	printf("PASS\n");
	return 0;
}
