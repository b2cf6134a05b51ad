// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a monitor that never syncs never slows down or loses
 * traffic of the port it watches, even on a lossless switch. vale0:a
 * streams N frames to vale0:b (a receiver process) with a TX+RX monitor
 * of a that is opened and never read. Checks: every frame arrives at b in
 * order, a's tx_frames == tx_delivered == N with no drops, and the
 * monitor took exactly what fits in its RX ring (slots - 1 copies) and
 * counted the rest: copies + mon_drops == N, mon_drops > 0, on the
 * monitor and on the monitored port.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include "monitor-common.h"

#define N 20000u
#define MON_SLOTS 64

struct shared {
	volatile int ready;
	volatile long got, bad;
};

static int receiver(struct shared *sh)
{
	struct unm_port *b = t_open("vale0:b");
	uint8_t buf[2048];
	uint32_t next = 0;

	sh->ready = 1;
	while (sh->got < (long)N) {
		long len = t_recv(b, buf, sizeof(buf), 5000);

		if (len <= 0)
			break;
		if (t_frame_check(buf, (size_t)len) != (long)next)
			sh->bad++;
		next++;
		sh->got++;
	}
	unm_close(b);
	return 0;
}

int main(void)
{
	struct shared *sh = t_shared(sizeof(*sh));
	struct unm_ctl_port_info pa, list[8];
	struct unm_port *a, *m;
	uint8_t mb[6];
	int st, n, found = 0;
	pid_t d, r;
	uint64_t drops = 0;
	double t0;

	t_watchdog(20);
	d = t_unmd_start(NULL);
	a = t_open("vale0:a");
	if ((r = fork()) == 0)
		_exit(receiver(sh));
	while (!sh->ready)
		usleep(1000);
	T_ASSERT_EQ(t_ctl(UNM_CTL_SWITCH_SET, "vale0", "lossless", 1), 0);
	m = t_open("monitor:vale0:a@conf:slots=64"); /* never synced below */
	t_mac(mb, 2);
	t0 = t_now();
	T_ASSERT_EQ(t_blast(a, mb, 1, 0, N, 60, 10000), N);
	T_ASSERT_EQ(waitpid(r, &st, 0), r);
	printf("%u frames in %.3f s; receiver got %ld, %ld bad\n", N, t_now() - t0, sh->got,
	       sh->bad);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	T_ASSERT_EQ(sh->got, N);
	T_ASSERT_EQ(sh->bad, 0);
	T_ASSERT_EQ(t_port_info("vale0:a", &pa), 0);
	for (int i = 0; i < UNM_DROP__COUNT; i++)
		drops += pa.drops[i];
	T_ASSERT_EQ(pa.tx_frames, N);
	T_ASSERT_EQ(pa.tx_delivered, N);
	T_ASSERT_EQ(drops, 0);
	printf("port a: monitors %u copies %llu mon_drops %llu\n", pa.monitors,
	       (unsigned long long)pa.mon_copies, (unsigned long long)pa.mon_drops);
	T_ASSERT_EQ(pa.monitors, 1);
	T_ASSERT(pa.mon_drops > 0);
	/* a received nothing: all copies are TX copies */
	T_ASSERT_EQ(pa.mon_copies + pa.mon_drops, N);
	T_ASSERT_EQ(pa.mon_copies, MON_SLOTS - 1);
	n = t_list_ports("vale0", list, 8);
	for (int i = 0; i < n; i++)
		if (list[i].flags & UNM_CTL_PORT_MONITOR) {
			found++;
			T_ASSERT_EQ(list[i].mon_copies, MON_SLOTS - 1);
			T_ASSERT_EQ(list[i].mon_drops, N - (MON_SLOTS - 1));
			T_ASSERT_EQ(list[i].rx_frames, MON_SLOTS - 1);
		}
	T_ASSERT_EQ(found, 1);
	/* what it holds is intact and in order */
	{
		struct mon_count c = { 0 };

		mon_drain(m, &c);
		T_ASSERT_EQ(c.frames, MON_SLOTS - 1);
		T_ASSERT_EQ(c.txmon, MON_SLOTS - 1);
		T_ASSERT_EQ(c.bad, 0);
	}
	unm_close(m);
	unm_close(a);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("ok\n");
	return 0;
}
