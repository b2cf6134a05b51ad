// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a switch holds 254 ports (netmap's limit) and refuses the
 * 255th with ENOSPC and a clear message; a broadcast from port 0 reaches
 * all 253 others; unm-ctl's LIST shows 254 ports. Small rings keep the
 * memory (one region per port) and the run time low.
 */
#include <errno.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"

#define N 254

int main(void)
{
	static struct unm_port *p[N];
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t f[128], r[512];
	struct unm_port *extra;
	char name[64];
	pid_t d;

	t_watchdog(30);
	d = t_unmd_start(NULL);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "vale0:p%d@conf:slots=64,bufsize=256", i);
		p[i] = t_open(name);
	}
	T_ASSERT_EQ(unm_open("vale0:toomany@conf:slots=64,bufsize=256", &extra, NULL), -ENOSPC);
	T_ASSERT(strstr(unm_errmsg(), "full"));
	T_ASSERT_EQ(t_list_ports("vale0", NULL, 0), N);
	T_ASSERT_EQ(t_send(p[0], f, t_frame(f, 100, bcast, 1, 42), 1000), 0);
	for (int i = 1; i < N; i++) {
		long n = t_recv(p[i], r, sizeof(r), 2000);

		if (n != 100 || t_frame_check(r, 100) != 42)
			T_FAIL("port %d: got %ld", i, n);
	}
	T_ASSERT_EQ(t_recv(p[0], r, sizeof(r), 50), 0);
	for (int i = 0; i < N; i++)
		unm_close(p[i]);
	for (int i = 0; i < 100 && t_list_ports("vale0", NULL, 0) > 0; i++)
		usleep(10000);
	T_ASSERT_EQ(t_list_ports("vale0", NULL, 0), 0);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("ok\n");
	return 0;
}
