// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: monitors of ports attached to a switch (unm-ctl attach),
 * addressed by the name they were attached with. A null port and a pipe
 * master end are attached to vale0; vale0:a floods NA broadcasts. The TX
 * monitor of null (monitor:vale0:null/t, TX = what the switch sends into
 * it) sees the NA frames flagged TXMON, its RX monitor nothing (null
 * never receives). For the pipe, addressed as "PIPE{1/t" and
 * "monitor:PIPE{1": TX = the NA floods going into the pipe, RX = the NB
 * frames this process sends from the slave end into the switch.
 */
#include <stdio.h>
#include "monitor-common.h"

#define NA 50
#define NB 30

int main(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct mon_count cnt = { 0 }, cnr = { 0 }, cpt = { 0 }, cpb = { 0 };
	struct unm_port *a, *nt, *nr, *slave, *pt, *pb;
	char master[96], sl[96], name[128];
	uint8_t ma[6];
	pid_t d;

	t_watchdog(20);
	d = t_unmd_start(NULL);
	snprintf(master, sizeof(master), "%s{1", t_uniq("mon"));
	snprintf(sl, sizeof(sl), "%.*s}1", (int)(strlen(master) - 2), master);
	a = t_open("vale0:a");
	T_ASSERT_EQ(t_ctl(UNM_CTL_ATTACH, "vale0", "null", 0), 0);
	T_ASSERT_EQ(t_ctl(UNM_CTL_ATTACH, "vale0", master, 0), 0);
	slave = t_open(sl);
	nt = t_open("monitor:vale0:null/t");
	nr = t_open("vale0:null/r");
	snprintf(name, sizeof(name), "%s/t", master);
	pt = t_open(name);
	snprintf(name, sizeof(name), "monitor:%s", master);
	pb = t_open(name);

	T_ASSERT_EQ(t_blast(a, bcast, 1, 0, NA, 90, 3000), NA);
	T_ASSERT_EQ(recv_n(slave, NA, 3000), NA);
	t_mac(ma, 1);
	T_ASSERT_EQ(t_blast(slave, ma, 7, 0, NB, 70, 3000), NB);
	T_ASSERT_EQ(recv_n(a, NB, 3000), NB);

	mon_wait(nt, &cnt, NA, 2000);
	mon_wait(pt, &cpt, NA, 2000);
	mon_wait(pb, &cpb, NA + NB, 2000);
	usleep(100000);
	mon_drain(nt, &cnt);
	mon_drain(nr, &cnr);
	mon_drain(pt, &cpt);
	mon_drain(pb, &cpb);
	printf("null: tx %ld (txmon %ld) rx %ld; pipe: tx %ld, both %ld (txmon %ld, %ld bytes)\n",
	       cnt.frames, cnt.txmon, cnr.frames, cpt.frames, cpb.frames, cpb.txmon, cpb.bytes);
	T_ASSERT_EQ(cnt.frames, NA);
	T_ASSERT_EQ(cnt.txmon, NA);
	T_ASSERT_EQ(cnt.bytes, NA * 90);
	T_ASSERT_EQ(cnr.frames, 0);
	T_ASSERT_EQ(cpt.frames, NA);
	T_ASSERT_EQ(cpt.txmon, NA);
	T_ASSERT_EQ(cpb.frames, NA + NB);
	T_ASSERT_EQ(cpb.txmon, NA);
	T_ASSERT_EQ(cpb.bytes, NA * 90 + NB * 70);
	T_ASSERT_EQ(cnt.bad + cnr.bad + cpt.bad + cpb.bad, 0);

	/* detach: the monitors see the port go */
	T_ASSERT_EQ(t_ctl(UNM_CTL_DETACH, "vale0", "null", 0), 0);
	cnt.err = 0;
	mon_wait(nt, &cnt, NA + 1, 2000);
	T_ASSERT_EQ(cnt.err, -EPIPE);
	unm_close(nt);
	unm_close(nr);
	unm_close(pt);
	unm_close(pb);
	unm_close(slave);
	unm_close(a);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("ok\n");
	return 0;
}
