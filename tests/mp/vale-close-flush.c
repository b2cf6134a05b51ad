// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: closing a switch port right after unm_txsync delivers every
 * synced frame (unm_close waits, bounded, until unmd has consumed the TX
 * ring). A sender process fills its TX ring (1023 frames), txsyncs once
 * and closes at once, as the README's example does; the receiver must get
 * all 1023, in order, in both switch modes (lossless, then drop mode with
 * a receiver that keeps up). Before unm_close waited, unmd dropped the
 * frames it had not yet taken when the port went (512 of 1023 arrived).
 * Also: a close whose frames can never be consumed returns within the
 * documented bound (1 s) instead of hanging.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"

#define RX_ID 100
#define TX_ID 7

/* Child: open NAME, fill the TX ring with frames to DST, txsync, close, exit. */
static int sender(const char *name, const uint8_t dst[6], unsigned *sent)
{
	struct unm_port *p;
	struct unm_ring *tx;
	uint32_t i, n = 0;
	int rc = unm_open(name, &p, NULL);

	if (rc)
		return 2;
	tx = unm_ring_get(p, 1, 0);
	i = tx->head;
	for (unsigned k = unm_ring_space(tx); k--; i = unm_ring_next(tx, i))
		tx->slot[i].len = (uint16_t)t_frame((uint8_t *)unm_slot_buf(tx, i), 60, dst, TX_ID, n++);
	unm_ring_advance(tx, i);
	if (unm_txsync(p, 0) < 0)
		return 3;
	unm_close(p);
	*sent = n;
	return 0;
}

static void one_round(const char *rxname, const char *txname, bool lossless)
{
	struct unm_port *rx = t_open(rxname);
	volatile unsigned *sent = t_shared(sizeof(*sent));
	uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, buf[2048];
	unsigned got = 0, bad = 0;
	int st;
	pid_t pid;

	if (lossless)
		T_ASSERT_EQ(t_ctl(UNM_CTL_SWITCH_SET, "vale0", "lossless", 1), 0);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		unsigned n = 0;
		int r = sender(txname, bcast, &n);

		*sent = n;
		_exit(r);
	}
	for (;;) {
		long len = t_recv(rx, buf, sizeof(buf), 1500);

		if (len <= 0)
			break;
		if (t_frame_check(buf, (size_t)len) != (long)got)
			bad++;
		got++;
	}
	T_ASSERT(waitpid(pid, &st, 0) == pid);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	printf("%s: sent %u, received %u (%u out of order)\n", lossless ? "lossless" : "drop",
	       *sent, got, bad);
	T_ASSERT(*sent == 1023);
	T_ASSERT_EQ(got, *sent);
	T_ASSERT_EQ(bad, 0);
	if (lossless) /* while rx still holds the switch */
		T_ASSERT_EQ(t_ctl(UNM_CTL_SWITCH_SET, "vale0", "lossless", 0), 0);
	unm_close(rx);
}

/* Lossless switch, receiver that never reads: the sender's close must
 * give up after its bound, not hang. */
static void bounded(void)
{
	struct unm_port *rx = t_open("vale0:stuck@conf:slots=64");
	struct unm_port *tx;
	struct unm_ring *r;
	uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint32_t i, n = 0;
	double t0;

	T_ASSERT_EQ(t_ctl(UNM_CTL_SWITCH_SET, "vale0", "lossless", 1), 0);
	tx = t_open("vale0:tx2");
	r = unm_ring_get(tx, 1, 0);
	i = r->head;
	for (unsigned k = unm_ring_space(r); k--; i = unm_ring_next(r, i))
		r->slot[i].len = (uint16_t)t_frame((uint8_t *)unm_slot_buf(r, i), 60, bcast, TX_ID, n++);
	unm_ring_advance(r, i);
	T_ASSERT(unm_txsync(tx, 0) >= 0);
	t0 = t_now();
	unm_close(tx);
	printf("close with a stuck receiver took %.3f s\n", t_now() - t0);
	T_ASSERT(t_now() - t0 < 2.0);
	unm_close(rx);
}

int main(void)
{
	pid_t d;

	t_watchdog(60);
	d = t_unmd_start(NULL);
	one_round("vale0:rx", "vale0:tx", true);
	one_round("vale0:rx2@conf:rx-slots=4096", "vale0:tx", false); /* room for all: no share refusal */
	bounded();
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("PASS\n");
	return 0;
}
