// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a process opens a memif: port directly (no unmd) against
 * DPDK's net_memif in dpdk-testpmd, in both roles: our port as master
 * (testpmd role=client connects to our socket) and as slave (testpmd
 * role=server listens, we connect). Both directions with exact counts:
 * we send a counted burst that testpmd receives (rxonly, "show port stats
 * all" RX-packets must equal it, no drop on our side), then testpmd sends
 * (txonly, stopped after a moment) and every frame its port stats count
 * as sent must arrive in our RX ring. Then testpmd quits and the port
 * sees the disconnect. A filesystem socket (socket-abstract=no) for the
 * master case, an abstract one ("memif:@NAME") for the slave case.
 * Counters (unm_port_stats zc_/copy_tx/rx_frames) say how each frame
 * crossed: copied in both roles by default, and all of them lent (TX)
 * and swapped (RX) as slave with @conf:zerocopy=1, which a master
 * refuses. testpmd runs with --no-huge. SKIPs if dpdk-testpmd is not installed or
 * cannot start.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/testpmd.h"

/* How every frame crossed (unm_port_stats): all lent/swapped (zero copy,
 * ZC) or all copied, both ways, counts exact. */
static void check_how(bool zc)
{
	struct unm_port_stats st = { .sz = sizeof(st) };

	T_ASSERT_EQ(unm_port_stats(port, &st), 0);
	printf("  tx %llu: zc %llu copied %llu; rx %llu: zc %llu copied %llu\n",
	       (unsigned long long)st.tx_frames, (unsigned long long)st.zc_tx_frames,
	       (unsigned long long)st.copy_tx_frames, (unsigned long long)st.rx_frames,
	       (unsigned long long)st.zc_rx_frames, (unsigned long long)st.copy_rx_frames);
	T_ASSERT_EQ(st.tx_frames, BURST);
	T_ASSERT_EQ(st.rx_frames, rx_count);
	T_ASSERT_EQ(st.zc_tx_frames, zc ? BURST : 0);
	T_ASSERT_EQ(st.copy_tx_frames, zc ? 0 : BURST);
	T_ASSERT_EQ(st.zc_rx_frames, zc ? rx_count : 0);
	T_ASSERT_EQ(st.copy_rx_frames, zc ? 0 : rx_count);
}

static void run(const char *name, const char *vdev, bool we_master, bool zc)
{
	if (we_master)
		T_ASSERT_EQ(unm_open(name, &port, NULL), 0);
	start_testpmd(vdev, "mf");
	if (!expect("testpmd>", 20000)) {
		char *log = slurp();

		if (strstr(log, "EAL: FATAL") || strstr(log, "Cannot init") || strstr(log, "No probed"))
			T_SKIP("dpdk-testpmd cannot start here: %.300s", log);
		T_FAIL("testpmd did not start:\n%s", log);
	}
	if (!we_master) {
		int rc = unm_open(name, &port, NULL);

		if (rc)
			T_FAIL("unm_open %s: %s", name, unm_errmsg());
	}
	wait_link();
	port_to_testpmd();
	testpmd_to_port();
	check_how(zc);
	quit_testpmd();
	for (int i = 0; i < 100 && link_up(); i++)
		pump(10);
	T_ASSERT_EQ(link_up(), 0);
	unm_close(port);
	port = NULL;
}

int main(void)
{
	char name[200], vdev[240], path[100];

	t_watchdog(110);
	if (access(TESTPMD, X_OK) != 0)
		T_SKIP("%s not installed (package dpdk-dev)", TESTPMD);
	atexit(cleanup);

	/* we listen (master), testpmd connects (role=client), file socket */
	snprintf(path, sizeof(path), "/tmp/unm-memif-tp-%d.sock", (int)getpid());
	snprintf(name, sizeof(name), "memif:%s@conf:role=master", path);
	snprintf(vdev, sizeof(vdev), "--vdev=net_memif0,role=client,socket=%s,socket-abstract=no",
		 path);
	run(name, vdev, true, false);
	T_ASSERT(access(path, F_OK) != 0); /* closing removed our socket file */
	/* a master has no buffers to lend */
	snprintf(name, sizeof(name), "memif:%s@conf:role=master,zerocopy=1", path);
	T_ASSERT(unm_open(name, &port, NULL) < 0);
	T_ASSERT(strstr(unm_errmsg(), "zerocopy=1 is for role=slave") != NULL);
	port = NULL;

	/* testpmd listens (role=server), we connect (slave), abstract socket */
	snprintf(path, sizeof(path), "unm-memif-tp-%d", (int)getpid());
	snprintf(name, sizeof(name), "memif:@%s@conf:role=slave", path);
	snprintf(vdev, sizeof(vdev), "--vdev=net_memif0,role=server,socket=%s", path);
	run(name, vdev, false, false);
	/* the same, lending our buffers (zero copy) */
	snprintf(name, sizeof(name), "memif:@%s@conf:role=slave,zerocopy=1", path);
	run(name, vdev, false, true);
	printf("ok\n");
	return 0;
}
