// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: monitors count against --max-ports and --max-mem of the
 * uid that opens them, like ports. With --max-ports 4: one port and
 * three monitors of it open, a fourth monitor is refused with EDQUOT
 * naming --max-ports; the monitors still count once their port is gone
 * (one new port fits, a second is refused). With --max-mem set to the
 * port's region plus 1.5 monitor regions: the first monitor opens, the
 * second is refused naming --max-mem. Fails on commit 71d5c11: monitors
 * were not counted (any number of them, of any size).
 */
#include "limits-common.h"

int main(void)
{
	const char *const lim_ports[] = { "--max-ports", "4", NULL };
	struct unm_port *a, *b, *c, *m[4];
	struct unm_ctl_port_info pi[8];
	uint64_t port_sz = 0, mon_sz = 0;
	char mem[32];
	const char *lim_mem[] = { "--max-mem", mem, NULL };
	int n;
	pid_t d;

	t_watchdog(60);
	d = t_unmd_start(lim_ports);
	a = t_open("vale0:a");
	for (int i = 0; i < 3; i++)
		m[i] = t_open("monitor:vale0:a");
	T_ASSERT_EQ(unm_open("monitor:vale0:a", &m[3], NULL), -EDQUOT);
	printf("4th monitor: %s\n", unm_errmsg());
	T_ASSERT(strstr(unm_errmsg(), "--max-ports"));
	n = t_list_ports("vale0", pi, 8);
	T_ASSERT_EQ(n, 4); /* the port and its 3 monitors */
	for (int i = 0; i < n; i++) {
		if (pi[i].flags & UNM_CTL_PORT_MONITOR)
			mon_sz = pi[i].region_size;
		else
			port_sz = pi[i].region_size;
	}
	T_ASSERT(port_sz && mon_sz);
	/* its port goes: the monitors stay, and still count */
	unm_close(a);
	usleep(100000);
	b = t_open("vale0:b");
	T_ASSERT_EQ(unm_open("vale0:c", &c, NULL), -EDQUOT);
	printf("port beyond the limit with 3 orphan monitors: %s\n", unm_errmsg());
	unm_close(b);
	for (int i = 0; i < 3; i++)
		unm_close(m[i]);
	T_ASSERT_EQ(t_unmd_stop(d), 0);

	snprintf(mem, sizeof(mem), "%llu", (unsigned long long)(port_sz + mon_sz + mon_sz / 2));
	printf("port region %llu, monitor region %llu: --max-mem %s\n",
	       (unsigned long long)port_sz, (unsigned long long)mon_sz, mem);
	d = t_unmd_start(lim_mem);
	a = t_open("vale0:a");
	m[0] = t_open("monitor:vale0:a");
	T_ASSERT_EQ(unm_open("monitor:vale0:a", &m[1], NULL), -EDQUOT);
	printf("2nd monitor: %s\n", unm_errmsg());
	T_ASSERT(strstr(unm_errmsg(), "--max-mem"));
	unm_close(m[0]);
	unm_close(a);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("PASS\n");
	return 0;
}
