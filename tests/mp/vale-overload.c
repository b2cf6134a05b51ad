// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: exact accounting under overload. Two sender processes
 * blast unicast frames at one slow receiver with small rings (64 slots).
 * Frames are dropped (dst_full), and for each sender
 * tx_frames == tx_delivered + drops, the receiver's rx_frames equals the
 * sum of the senders' tx_delivered and the frames the receiver counted,
 * and every frame that arrived is intact and in order per sender.
 * Built a second time with LOSSLESS (vale-lossless.c): with the switch in
 * lossless mode nothing is dropped and every frame arrives in order.
 */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"

#ifndef LOSSLESS
#define LOSSLESS 0
#endif
#define NFRAMES 30000u
#define RX_ID 100

struct shared {
	volatile int r_ready, stop, s_done[2];
	volatile long r_count, r_bad;
};

static int receiver(struct shared *sh)
{
	struct unm_port *p = t_open("vale0:r@conf:slots=64");
	struct unm_ring *r = unm_ring_get(p, 0, 0);
	uint32_t next[2] = { 0, 0 };
	uint8_t f[128];
	double idle_since = 0;

	t_frame(f, 60, (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, RX_ID, 0);
	if (t_send(p, f, 60, 1000))
		return 2;
	sh->r_ready = 1;
	for (;;) {
		unm_rxsync(p, 0);
		if (unm_ring_empty(r)) {
			if (sh->stop) {
				if (!idle_since)
					idle_since = t_now();
				else if (t_now() - idle_since > 0.3)
					break;
			}
			unm_wait(p, UNM_WAIT_RX, 20);
			continue;
		}
		idle_since = 0;
		while (!unm_ring_empty(r)) {
			struct unm_slot *s = &r->slot[r->head];
			const uint8_t *b = (const uint8_t *)unm_buf(r, s->buf_idx);
			long seq = t_frame_check(b, s->len);
			unsigned src = b[11] - 1;

			if (seq < 0 || src > 1 || (LOSSLESS && (uint32_t)seq != next[src]) ||
			    (uint32_t)seq < next[src])
				sh->r_bad++;
			else
				next[src] = (uint32_t)seq + 1;
			sh->r_count++;
			unm_ring_advance(r, unm_ring_next(r, r->head));
		}
		if (!LOSSLESS)
			usleep(500); /* slow consumer */
	}
	unm_close(p);
	return 0;
}

static int sender(struct shared *sh, int id)
{
	char name[64];
	uint8_t rx[6];
	struct unm_port *p;
	long n;

	snprintf(name, sizeof(name), "vale0:s%d@conf:slots=64", id);
	p = t_open(name);
	while (!sh->r_ready)
		usleep(1000);
	t_mac(rx, RX_ID);
	n = t_blast(p, rx, (unsigned)id + 1, 0, NFRAMES, 60, 15000);
	if (n != NFRAMES) {
		printf("sender %d: blast returned %ld\n", id, n);
		return 3;
	}
	sh->s_done[id] = 1;
	while (!sh->stop)
		usleep(1000);
	usleep(500000); /* stay until the parent has read our counters */
	unm_close(p);
	return 0;
}

int main(void)
{
	struct shared *sh = t_shared(sizeof(*sh));
	struct unm_ctl_port_info s[2], r;
	pid_t d, kids[3];
	uint64_t drops = 0, deliv = 0;
	int st;

	t_watchdog(40);
	d = t_unmd_start(NULL);
	if ((kids[0] = fork()) == 0)
		_exit(receiver(sh));
	while (!sh->r_ready)
		usleep(1000);
	if (LOSSLESS)
		T_ASSERT_EQ(t_ctl(UNM_CTL_SWITCH_SET, "vale0", "lossless", 1), 0);
	for (int i = 0; i < 2; i++)
		if ((kids[1 + i] = fork()) == 0)
			_exit(sender(sh, i));
	while (!(sh->s_done[0] && sh->s_done[1])) {
		for (int i = 0; i < 3; i++)
			if (waitpid(kids[i], &st, WNOHANG) == kids[i])
				T_FAIL("process %d exited early (0x%x)", i, st);
		usleep(5000);
	}
	sh->stop = 1;
	T_ASSERT_EQ(waitpid(kids[0], &st, 0), kids[0]);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	T_ASSERT_EQ(t_port_info("vale0:s0", &s[0]), 0);
	T_ASSERT_EQ(t_port_info("vale0:s1", &s[1]), 0);
	for (int i = 0; i < 2; i++) {
		uint64_t dr = 0;

		for (int k = 0; k < UNM_DROP__COUNT; k++)
			dr += s[i].drops[k];
		printf("sender %d: tx %llu delivered %llu drops %llu (dst_full %llu)\n", i,
		       (unsigned long long)s[i].tx_frames, (unsigned long long)s[i].tx_delivered,
		       (unsigned long long)dr, (unsigned long long)s[i].drops[UNM_DROP_DST_FULL]);
		T_ASSERT_EQ(s[i].tx_frames, NFRAMES);
		T_ASSERT_EQ(s[i].tx_frames + s[i].tx_extra_copies, s[i].tx_delivered + dr);
		T_ASSERT_EQ(dr, s[i].drops[UNM_DROP_DST_FULL]);
		drops += dr;
		deliv += s[i].tx_delivered;
	}
	printf("receiver counted %ld frames, %ld bad\n", sh->r_count, sh->r_bad);
	T_ASSERT_EQ(sh->r_bad, 0);
	T_ASSERT_EQ(sh->r_count, (long)deliv);
	T_ASSERT_EQ(2ull * NFRAMES, deliv + drops);
	if (LOSSLESS)
		T_ASSERT_EQ(drops, 0);
	else
		T_ASSERT(drops > 0);
	(void)r;
	for (int i = 1; i < 3; i++) {
		T_ASSERT_EQ(waitpid(kids[i], &st, 0), kids[i]);
		T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("ok\n");
	return 0;
}
