// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: copy monitors of a VALE client port see exactly its
 * traffic. vale0:a sends NA frames to vale0:b, b sends NB frames back.
 * A TX monitor (vale0:a/t) sees exactly the NA frames, all flagged
 * UNM_NS_TXMON; an RX monitor (vale0:a/r) exactly the NB frames, none
 * flagged; two TX+RX monitors (monitor:vale0:a and vale0:a/tr) both see
 * all NA + NB, with exact byte counts and intact contents. A monitor of
 * b sees nothing of a port it does not watch beyond b's own traffic.
 * unm-ctl list shows the monitors (text and -j) with their counters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "monitor-common.h"

#define NA 100
#define NB 60
#define LA 100
#define LB 200

static char out[65536];

static int ctl(const char *args)
{
	return t_ctl_run(args, out, sizeof(out));
}

int main(void)
{
	struct unm_port *a, *b, *mt, *mr, *m1, *m2, *mb;
	struct mon_count ct = { 0 }, cr = { 0 }, c1 = { 0 }, c2 = { 0 }, cb = { 0 };
	struct unm_ctl_port_info pi, list[16];
	uint8_t ma[6], mbm[6];
	int n, seen = 0;
	pid_t d;

	t_watchdog(20);
	d = t_unmd_start(NULL);
	a = t_open("vale0:a");
	b = t_open("vale0:b");
	mt = t_open("vale0:a/t");
	mr = t_open("vale0:a/r");
	m1 = t_open("monitor:vale0:a");
	m2 = t_open("vale0:a/tr");
	mb = t_open("vale0:b/r");
	t_mac(ma, 1);
	t_mac(mbm, 2);
	T_ASSERT_EQ(t_blast(a, mbm, 1, 0, NA, LA, 3000), NA);
	T_ASSERT_EQ(recv_n(b, NA, 2000), NA);
	T_ASSERT_EQ(t_blast(b, ma, 2, 0, NB, LB, 3000), NB);
	T_ASSERT_EQ(recv_n(a, NB, 2000), NB);

	mon_wait(mt, &ct, NA, 2000);
	mon_wait(mr, &cr, NB, 2000);
	mon_wait(m1, &c1, NA + NB, 2000);
	mon_wait(m2, &c2, NA + NB, 2000);
	mon_wait(mb, &cb, NA, 2000);
	usleep(100000); /* anything extra would show up now */
	mon_drain(mt, &ct);
	mon_drain(mr, &cr);
	mon_drain(m1, &c1);
	mon_drain(m2, &c2);
	mon_drain(mb, &cb);
	printf("tx mon %ld/%ld txmon %ld; rx mon %ld/%ld txmon %ld; both %ld %ld\n", ct.frames,
	       ct.bytes, ct.txmon, cr.frames, cr.bytes, cr.txmon, c1.frames, c2.frames);
	T_ASSERT_EQ(ct.frames, NA);
	T_ASSERT_EQ(ct.bytes, (long)NA * LA);
	T_ASSERT_EQ(ct.txmon, NA);
	T_ASSERT_EQ(cr.frames, NB);
	T_ASSERT_EQ(cr.bytes, (long)NB * LB);
	T_ASSERT_EQ(cr.txmon, 0);
	T_ASSERT_EQ(c1.frames, NA + NB);
	T_ASSERT_EQ(c1.bytes, (long)NA * LA + (long)NB * LB);
	T_ASSERT_EQ(c1.txmon, NA);
	T_ASSERT_EQ(c2.frames, NA + NB);
	T_ASSERT_EQ(c2.bytes, c1.bytes);
	T_ASSERT_EQ(c2.txmon, NA);
	T_ASSERT_EQ(cb.frames, NA); /* b's RX: what a sent */
	T_ASSERT_EQ(cb.txmon, 0);
	T_ASSERT_EQ(ct.bad + cr.bad + c1.bad + c2.bad + cb.bad, 0);

	/* counters: the port's and each monitor's */
	T_ASSERT_EQ(t_port_info("vale0:a", &pi), 0);
	T_ASSERT_EQ(pi.monitors, 4);
	T_ASSERT_EQ(pi.mon_copies, NA + NB + 2 * (NA + NB));
	T_ASSERT_EQ(pi.mon_drops, 0);
	n = t_list_ports("vale0", list, 16);
	T_ASSERT_EQ(n, 2 + 5);
	for (int i = 0; i < n; i++)
		if (list[i].flags & UNM_CTL_PORT_MONITOR) {
			seen++;
			T_ASSERT(!strcmp(list[i].type, "monitor"));
			T_ASSERT(list[i].mon_dirs != 0);
			if (!strcmp(list[i].name, "a") && list[i].mon_dirs == UNM_CTL_OPEN_MON_TX)
				T_ASSERT_EQ(list[i].mon_copies, NA);
		}
	T_ASSERT_EQ(seen, 5);
	if (access(t_prog("unm-ctl"), X_OK) == 0) {
		T_ASSERT_EQ(ctl("list"), 0);
		T_ASSERT(strstr(out, "vale0:a type monitor flags <monitor,client>"));
		T_ASSERT(strstr(out, "monitors 4"));
		T_ASSERT_EQ(ctl("stats vale0"), 0);
		T_ASSERT(strstr(out, "monitor tx copies 100 drops 0"));
		T_ASSERT_EQ(ctl("-j list"), 0);
		T_ASSERT(strstr(out, "\"mon_dirs\":\"tx\""));
	}
	unm_close(mt);
	unm_close(mr);
	unm_close(m1);
	unm_close(m2);
	unm_close(mb);
	for (int i = 0; i < 200 && t_list_ports("vale0", NULL, 0) != 2; i++)
		usleep(10000);
	T_ASSERT_EQ(t_list_ports("vale0", NULL, 0), 2);
	unm_close(a);
	unm_close(b);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("ok\n");
	return 0;
}
