// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: lossless mode with frames of several sizes toward ports
 * with different buffer sizes: one sender blasts broadcast and unicast
 * frames of 60 to 1500 bytes at two slow receivers on 64-slot rings, one
 * with 256-byte buffers (a 1500-byte frame takes 6 slots there, 1 in the
 * other). The switch's reservation (per frame, per destination: the
 * one-slot fast path and the general one) must never promise room it
 * does not have: no drop at all, and each receiver gets exactly its
 * frames, whole, in order.
 */
#include <stdbool.h>
#include <sys/wait.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"

#define NF 6000u

static const unsigned lens[] = { 60, 700, 1500, 200, 270, 60, 60 };
#define NLENS (sizeof(lens) / sizeof(lens[0]))

struct shared {
	volatile int ready[2];
	volatile long got[2], bad[2];
};

/* Frame I goes to: 0 both (broadcast), 1 receiver 1 (c), 2 receiver 0 (b). */
static bool for_rx(unsigned i, int me)
{
	return i % 3 == 0 || i % 3 == (me ? 1u : 2u);
}

static long expected(int me)
{
	long n = 0;

	for (unsigned i = 0; i < NF; i++)
		n += for_rx(i, me);
	return n;
}

static int receiver(struct shared *sh, int me)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct unm_port *p = t_open(me ? "vale0:c@conf:slots=64" :
				    "vale0:b@conf:slots=64,bufsize=256");
	long want = expected(me);
	uint8_t f[2048];
	unsigned next = 0;

	t_frame(f, 60, bcast, 20 + (unsigned)me, 0); /* announce our MAC */
	if (t_send(p, f, 60, 1000))
		return 2;
	sh->ready[me] = 1;
	while (sh->got[me] < want) {
		long n = t_recv(p, f, sizeof(f), 10000);
		long seq;

		if (n <= 0)
			return 3;
		if (n >= 12 && f[11] != 1)
			continue; /* the other receiver's announcement */
		seq = t_frame_check(f, (size_t)n);
		while (next < NF && !for_rx(next, me))
			next++;
		if (seq != (long)next || (size_t)n != lens[next % NLENS])
			sh->bad[me]++;
		next = (unsigned)seq + 1;
		sh->got[me]++;
		if (sh->got[me] % 40 == 0)
			usleep(300); /* slow: the rings fill */
	}
	unm_close(p);
	return 0;
}

int main(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct shared *sh = t_shared(sizeof(*sh));
	struct unm_ctl_port_info a;
	uint8_t mac[2][6], f[2048];
	uint64_t copies = 0;
	struct unm_port *p;
	pid_t d, kids[2];
	int st;

	t_watchdog(60);
	d = t_unmd_start(NULL);
	for (int i = 0; i < 2; i++) {
		if ((kids[i] = fork()) == 0)
			_exit(receiver(sh, i));
		while (!sh->ready[i])
			usleep(1000);
		t_mac(mac[i], 20 + (unsigned)i);
	}
	T_ASSERT_EQ(t_ctl(UNM_CTL_SWITCH_SET, "vale0", "lossless", 1), 0);
	p = t_open("vale0:a@conf:slots=64");
	for (unsigned i = 0; i < NF; i++) {
		const uint8_t *dst = i % 3 == 0 ? bcast : mac[i % 3 == 1 ? 1 : 0];

		t_frame(f, lens[i % NLENS], dst, 1, i);
		T_ASSERT_EQ(t_send(p, f, lens[i % NLENS], 10000), 0);
		copies += i % 3 == 0 ? 2 : 1;
	}
	for (int i = 0; i < 2; i++) {
		T_ASSERT_EQ(waitpid(kids[i], &st, 0), kids[i]);
		printf("receiver %d: %ld frames, %ld bad, exit 0x%x\n", i, sh->got[i], sh->bad[i], st);
		T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		T_ASSERT_EQ(sh->bad[i], 0);
		T_ASSERT_EQ(sh->got[i], expected(i));
	}
	T_ASSERT_EQ(t_port_info("vale0:a", &a), 0);
	for (int k = 0; k < UNM_DROP__COUNT; k++)
		T_ASSERT_EQ(a.drops[k], 0);
	T_ASSERT_EQ(a.tx_frames, NF);
	T_ASSERT_EQ(a.tx_delivered, copies);
	unm_close(p);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("ok\n");
	return 0;
}
