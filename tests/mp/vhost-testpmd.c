// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: DPDK's virtio-net device (dpdk-testpmd with a
 * net_virtio_user vdev, a vhost-user frontend in a process) attached to
 * our vhost-user port, we being the server. Both directions with exact
 * counts: we send a counted burst that testpmd receives (rxonly, "show
 * port stats all" RX-packets must equal it), then testpmd sends
 * (txonly, stopped after a moment) and every frame its port stats count
 * as sent must arrive in our RX ring. Then testpmd quits and the port
 * sees the disconnect. testpmd is driven through its interactive prompt
 * on a pipe. SKIPs if dpdk-testpmd is not installed or cannot start.
 * Client mode (UNM_OPEN_VHOST_CLIENT, testpmd's virtio_user server=1) is
 * checked with a short receive too.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/testpmd.h"

int main(void)
{
	char name[160], vdev[200], path[100];

	t_watchdog(55);
	if (access(TESTPMD, X_OK) != 0)
		T_SKIP("%s not installed (package dpdk-dev)", TESTPMD);
	atexit(cleanup);
	snprintf(path, sizeof(path), "/tmp/unm-vtp-%d.sock", (int)getpid());
	snprintf(name, sizeof(name), "vhost-user:%s", path);
	T_ASSERT_EQ(unm_open(name, &port, NULL), 0);
	snprintf(vdev, sizeof(vdev), "--vdev=net_virtio_user0,path=%s,queues=1", path);
	start_testpmd(vdev, "tp");
	if (!expect("testpmd>", 15000)) {
		char *log = slurp();

		if (strstr(log, "EAL: FATAL") || strstr(log, "Cannot") || strstr(log, "No probed"))
			T_SKIP("dpdk-testpmd cannot start here: %.300s", log);
		T_FAIL("testpmd did not start:\n%s", log);
	}
	wait_link();
	port_to_testpmd();
	testpmd_to_port();
	quit_testpmd();
	for (int i = 0; i < 100 && link_up(); i++)
		pump(10);
	T_ASSERT_EQ(link_up(), 0);
	unm_close(port);

	/* client mode: testpmd listens (server=1), we connect */
	struct unm_open_opts o = { .sz = sizeof(o), .flags = UNM_OPEN_VHOST_CLIENT };
	snprintf(vdev, sizeof(vdev), "--vdev=net_virtio_user0,path=%s,queues=1,server=1", path);
	start_testpmd(vdev, "tp");
	T_ASSERT_EQ(unm_open(name, &port, &o), 0);
	T_ASSERT(expect("testpmd>", 15000) != NULL);
	wait_link();
	testpmd_to_port();
	quit_testpmd();
	unm_close(port);
	printf("ok\n");
	return 0;
}
