// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a dpdk: port moves frames without copying them where the
 * driver allows (@conf:zerocopy, default on), and copies them with
 * zerocopy=0. Over dpdk:net_null0 in this process: 100,000 one-slot TX
 * frames of 600 bytes must all be lent (unm_port_stats zc_tx_frames ==
 * 100000, each slot back with UNM_NS_BUF_CHANGED and another valid
 * buffer), 1,000 two-slot frames and 1,000 frames of 60 bytes (below the
 * port's threshold) copied; 100,000 received frames must all arrive by
 * buffer swap (zc_rx_frames == rx_frames, no copy); afterwards every
 * buffer the application holds (TX and RX slots, extra buffers) is valid
 * and held once, and none of the port's spares reached the application's
 * extra-buffer list. With zerocopy=0 the same traffic is all copied, slots
 * keep their buffers. A bad value is refused. Then dpdk:net_memif0 as a
 * client of a dpdk-testpmd memif server (if installed), both settings:
 * testpmd counts exactly our burst of 1000-byte frames (all lent with
 * zerocopy on), and every
 * frame testpmd says it sent arrives (all swapped in). SKIPs without the
 * plugin or DPDK's net_null driver.
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
#include <unm/ring.h>
#include "../lib/test.h"
#include "../lib/testpmd.h"
#include "../lib/unmd.h"

#define NTX   100000u
#define NCHAIN  1000u
#define NSMALL  1000u
#define NRX   100000u

static struct unm_port_stats stats(void)
{
	struct unm_port_stats st = { .sz = sizeof(st) };

	T_ASSERT_EQ(unm_port_stats(port, &st), 0);
	return st;
}

/* Every buffer the application holds is valid and held once; the extra
 * list holds EXTRA of them. */
static void check_buffers(unsigned extra)
{
	T_ASSERT_EQ(t_check_held_buffers(port, extra, 0), extra);
}

static void null_tx(bool zc)
{
	struct unm_ring *r = unm_ring_get(port, 1, 0);
	unsigned sent = 0, chains = 0, small = 0, changed = 0;
	double end = t_now() + 60;

	while ((sent < NTX || chains < NCHAIN) && t_now() < end) {
		uint32_t i = r->head, old[1024], space = unm_ring_space(r);
		uint32_t h0 = r->head;

		for (; space >= 2 && (sent < NTX || chains < NCHAIN); space--) {
			bool chain = chains < NCHAIN && (sent % 100 == 0 || sent >= NTX);
			bool tiny = !chain && small < NSMALL && sent % 100 == 1;
			uint16_t len = chain || tiny ? 60 : 600;

			old[i % 1024] = r->slot[i].buf_idx;
			memset(unm_slot_buf(r, i), 0xab, len);
			r->slot[i].len = len;
			r->slot[i].flags = chain ? UNM_NS_MOREFRAG : 0;
			i = unm_ring_next(r, i);
			if (chain) {
				old[i % 1024] = r->slot[i].buf_idx;
				r->slot[i].len = 1000;
				r->slot[i].flags = 0;
				i = unm_ring_next(r, i);
				space--;
				chains++;
			} else if (tiny) {
				small++;
			} else {
				sent++;
			}
		}
		unm_ring_advance(r, i);
		T_ASSERT_EQ(unm_txsync(port, 0), 0);
		/* slots the port completed: [h0, tail + 1) */
		for (uint32_t k = h0; k != unm_ring_next(r, r->tail); k = unm_ring_next(r, k)) {
			bool ch = r->slot[k].flags & UNM_NS_BUF_CHANGED;

			if (ch && r->slot[k].buf_idx == old[k % 1024])
				T_FAIL("slot %u: BUF_CHANGED but the same buffer", k);
			changed += ch;
		}
		while (unm_tx_pending(r) && t_now() < end)
			T_ASSERT_EQ(unm_txsync(port, 0), 0);
	}
	struct unm_port_stats st = stats();
	printf("  tx: %u + %u chains + %u small: frames %llu zc %llu copied %llu, BUF_CHANGED slots %u\n",
	       sent, chains, small, (unsigned long long)st.tx_frames, (unsigned long long)st.zc_tx_frames,
	       (unsigned long long)st.copy_tx_frames, changed);
	T_ASSERT_EQ(st.tx_frames, NTX + NCHAIN + NSMALL);
	T_ASSERT_EQ(st.zc_tx_frames, zc ? NTX : 0);
	T_ASSERT_EQ(st.copy_tx_frames, zc ? NCHAIN + NSMALL : NTX + NCHAIN + NSMALL);
	T_ASSERT_EQ(changed, zc ? NTX : 0);
	T_ASSERT_EQ(st.drops, 0);
}

static void null_rx(bool zc)
{
	struct unm_ring *r = unm_ring_get(port, 0, 0);
	struct unm_port_info info = { .sz = sizeof(info) };
	unsigned got = 0, changed = 0;
	double end = t_now() + 60;

	T_ASSERT_EQ(unm_port_info(port, &info), 0);
	while (got < NRX && t_now() < end) {
		uint32_t i = r->head;

		T_ASSERT_EQ(unm_rxsync(port, 0), 0);
		for (; i != r->tail && got < NRX; i = unm_ring_next(r, i), got++) {
			const struct unm_slot *s = &r->slot[i];

			if (s->buf_idx < 2 || s->buf_idx >= info.buf_count || s->len != 64 ||
			    (s->flags & UNM_NS_MOREFRAG))
				T_FAIL("RX slot %u: buffer %u len %u flags %#x", i, s->buf_idx, s->len,
				       s->flags);
			changed += !!(s->flags & UNM_NS_BUF_CHANGED);
		}
		unm_ring_advance(r, i);
	}
	struct unm_port_stats st = stats();
	printf("  rx: %u: frames %llu zc %llu copied %llu, BUF_CHANGED slots %u\n", got,
	       (unsigned long long)st.rx_frames, (unsigned long long)st.zc_rx_frames,
	       (unsigned long long)st.copy_rx_frames, changed);
	T_ASSERT_EQ(got, NRX);
	T_ASSERT(st.rx_frames >= NRX);
	T_ASSERT_EQ(st.zc_rx_frames, zc ? st.rx_frames : 0);
	T_ASSERT_EQ(st.copy_rx_frames, zc ? 0 : st.rx_frames);
	T_ASSERT_EQ(changed, zc ? NRX : 0);
}

static void null_run(const char *name, bool zc)
{
	struct unm_open_opts o = { .sz = sizeof(o), .extra_bufs = 5 };
	int rc = unm_open(name, &port, &o);

	if (rc)
		T_FAIL("unm_open %s: %s", name, unm_errmsg());
	printf("%s:\n", name);
	check_buffers(5);
	null_tx(zc);
	check_buffers(5);
	null_rx(zc);
	check_buffers(5);
	unm_close(port);
	port = NULL;
}

/* port_to_testpmd with 1000-byte frames (above the lending threshold). */
static void big_to_testpmd(void)
{
	uint8_t frame[1000];
	unsigned long long got;
	unsigned sent = 0;
	double end = t_now() + 20;

	memset(frame, 0, sizeof(frame));
	memset(frame, 0xff, 6);
	frame[6] = 0x02, frame[11] = 0x01;
	frame[12] = 0x88, frame[13] = 0xb5;
	cmd("set fwd rxonly\nstart\n");
	T_ASSERT(expect("packet forwarding - ports=", 5000) != NULL);
	pump(100);
	while (sent < BURST && t_now() < end) {
		int r = unm_inject(port, frame, sizeof(frame));

		T_ASSERT(r >= 0);
		if (r > 0)
			sent++;
		else
			unm_wait(port, UNM_WAIT_TX, 1);
	}
	T_ASSERT_EQ(sent, BURST);
	for (int i = 0; i < 400 && unm_tx_pending(unm_ring_get(port, 1, 0)); i++) {
		unm_txsync(port, 0);
		pump(5);
	}
	pump(200);
	cmd("stop\nshow port stats all\n");
	got = stat_after("NIC statistics for port 0", "RX-packets: ");
	printf("port -> testpmd: sent %u, testpmd RX-packets %llu\n", sent, got);
	T_ASSERT_EQ(got, BURST);
	cmd("clear port stats all\n");
}

static void memif_run(const char *sock, bool zc)
{
	char name[300], vdev[200];

	snprintf(vdev, sizeof(vdev), "--vdev=net_memif0,socket=%s,socket-abstract=no,role=server",
		 sock);
	start_testpmd(vdev, "zc");
	if (!expect("testpmd>", 20000)) {
		char *log = slurp();

		if (strstr(log, "EAL: FATAL") || strstr(log, "Cannot init") || strstr(log, "No probed"))
			T_SKIP("dpdk-testpmd cannot start here: %.300s", log);
		T_FAIL("testpmd did not start:\n%s", log);
	}
	snprintf(name, sizeof(name), "dpdk:net_memif0,socket=%s,socket-abstract=no,role=client"
		 "@conf:zerocopy=%d", sock, zc);
	if (unm_open(name, &port, NULL))
		T_FAIL("unm_open %s: %s", name, unm_errmsg());
	printf("%s:\n", name);
	wait_link();
	big_to_testpmd();
	struct unm_port_stats st = stats();
	printf("  tx zc %llu copied %llu\n", (unsigned long long)st.zc_tx_frames,
	       (unsigned long long)st.copy_tx_frames);
	T_ASSERT_EQ(st.tx_frames, BURST);
	T_ASSERT_EQ(zc ? st.zc_tx_frames : st.copy_tx_frames, BURST);
	T_ASSERT_EQ(st.drops, 0);
	testpmd_to_port();
	st = stats();
	printf("  rx frames %llu zc %llu copied %llu\n", (unsigned long long)st.rx_frames,
	       (unsigned long long)st.zc_rx_frames, (unsigned long long)st.copy_rx_frames);
	T_ASSERT(st.rx_frames > 0);
	T_ASSERT_EQ(zc ? st.zc_rx_frames : st.copy_rx_frames, st.rx_frames);
	T_ASSERT_EQ(zc ? st.copy_rx_frames : st.zc_rx_frames, 0);
	quit_testpmd();
	unm_close(port);
	port = NULL;
}

int main(void)
{
	char sock[64];

	t_watchdog(240);
	atexit(cleanup);
	t_need_dpdk("net_null", NULL);

	null_run("dpdk:net_null0", true);
	null_run("dpdk:net_null0@conf:zerocopy=0", false);
	T_ASSERT(unm_open("dpdk:net_null0@conf:zerocopy=2", &port, NULL) < 0);
	T_ASSERT(strstr(unm_errmsg(), "zerocopy=2: 0 or 1") != NULL);
	port = NULL;

	if (access(TESTPMD, X_OK) != 0) {
		printf("memif: not run (dpdk-testpmd not installed)\n");
		printf("PASS\n");
		return 0;
	}
	snprintf(sock, sizeof(sock), "/tmp/unm-zc-%d.sock", (int)getpid());
	memif_run(sock, true);
	unlink(sock);
	memif_run(sock, false);
	unlink(sock);
	printf("PASS\n");
	return 0;
}
