// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: two shmif ports on one bus file exchange exact frame
 * counts: first two ports in one process (both directions, own frames not
 * looped back, MOREFRAG chains on TX and RX with small buffers, frames
 * outside 14..1514 dropped and counted), then two processes (fork) in
 * windows acknowledged over the bus itself, waking each other through
 * unm_wait() (inotify on the wake-up pwrite). Also: MAC b2:a0:.., MTU
 * 1500, bus file of exactly 1 MiB with a v3 header, and the
 * non-promiscuous filter (UNM_SHMIF_PROMISC=0).
 */
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unm.h>
#include "unm-shmif-bus.h"
#include "shmif-common.h"

static uint8_t fbuf[4096];

static int send_frames(struct unm_port *p, uint32_t seq0, unsigned n, uint32_t len,
		       const uint8_t *dst)
{
	for (unsigned i = 0; i < n; i++) {
		tf_make(fbuf, seq0 + i, len, dst);
		int rc = unm_inject(p, fbuf, len);

		if (rc != (int)len)
			return rc;
	}
	return unm_txsync(p, UNM_RING_ALL);
}

static void one_process(const char *path)
{
	struct unm_port *a, *b;
	struct unm_port_info ia = { .sz = sizeof(ia) };
	struct unm_port_stats sa = { .sz = sizeof(sa) }, sb = { .sz = sizeof(sb) };
	struct rxstate ra = { .next_seq = 1000 }, rb = { .next_seq = 0 };
	char name[200];
	struct stat stb;
	uint8_t *bus;

	snprintf(name, sizeof(name), "shmif:%s", path);
	T_ASSERT_EQ(unm_open(name, &a, NULL), 0);
	/* small buffers on b: 1514-byte frames arrive as MOREFRAG chains */
	snprintf(name, sizeof(name), "shmif:%s@conf:bufsize=512,slots=256", path);
	T_ASSERT_EQ(unm_open(name, &b, NULL), 0);
	T_ASSERT(stat(path, &stb) == 0);
	T_ASSERT_EQ(stb.st_size, 1 << 20);
	bus = tb_map(path, NULL);
	T_ASSERT_EQ(tw_h32(bus, 0), 0xca11d054u);
	T_ASSERT_EQ(tw_h32(bus, 4), 3);
	T_ASSERT_EQ(tw_h32(bus, 16), TW_DATA);

	T_ASSERT_EQ(unm_port_info(a, &ia), 0);
	T_ASSERT_EQ(ia.mac[0], 0xb2);
	T_ASSERT_EQ(ia.mac[1], 0xa0);
	T_ASSERT_EQ(ia.mtu, 1500);
	T_ASSERT_EQ(ia.tx_rings, 1);
	T_ASSERT(!strcmp(ia.type, "shmif"));

	/* a -> b: 300 frames of every size 14..1514 (step), b chains them */
	for (unsigned i = 0; i < 300; i++) {
		uint32_t len = 22 + (i * 97) % (1514 - 22 + 1);

		tf_make(fbuf, i, len, tf_bcast);
		T_ASSERT_EQ(unm_inject(a, fbuf, len), (int)len);
		if (i % 50 == 49)
			T_ASSERT_EQ(unm_txsync(a, 0), 0);
	}
	rx_all(b, &rb);
	T_ASSERT_EQ(rb.got, 300);
	T_ASSERT_EQ(rb.bad, 0);
	/* a does not see its own frames */
	rx_all(a, &ra);
	T_ASSERT_EQ(ra.got, 0);

	/* b -> a: a 1514-byte frame injected in 512-byte slots (MOREFRAG TX) */
	T_ASSERT_EQ(send_frames(b, 1000, 40, 1514, tf_bcast), 0);
	rx_all(a, &ra);
	T_ASSERT_EQ(ra.got, 40);
	T_ASSERT_EQ(ra.bad, 0);

	/* out-of-range sizes are not sent: 13 bytes and 1515 bytes */
	memset(fbuf, 0xff, 1515);
	T_ASSERT_EQ(unm_inject(a, fbuf, 13), 13);
	T_ASSERT_EQ(unm_inject(a, fbuf, 1515), 1515);
	T_ASSERT_EQ(unm_txsync(a, 0), 0);
	rx_all(b, &rb);
	T_ASSERT_EQ(rb.got, 300);
	T_ASSERT_EQ(unm_port_stats(a, &sa), 0);
	T_ASSERT_EQ(unm_port_stats(b, &sb), 0);
	T_ASSERT_EQ(sa.tx_frames, 300);
	T_ASSERT_EQ(sa.drops, 2);
	T_ASSERT_EQ(sa.rx_frames, 40);
	T_ASSERT_EQ(sb.rx_frames, 300);
	T_ASSERT_EQ(sb.tx_frames, 40);
	T_ASSERT(sb.kicks >= 1);

	/* not promiscuous: only our MAC and group addresses */
	struct unm_port *c;
	struct unm_port_info ic = { .sz = sizeof(ic) };
	struct rxstate rc = { .next_seq = -1 };
	uint64_t filtered = 0;
	static const uint8_t other[6] = { 0xb2, 0xa0, 1, 2, 3, 4 };

	setenv("UNM_SHMIF_PROMISC", "0", 1);
	snprintf(name, sizeof(name), "shmif:%s", path);
	T_ASSERT_EQ(unm_open(name, &c, NULL), 0);
	unsetenv("UNM_SHMIF_PROMISC");
	T_ASSERT_EQ(unm_port_info(c, &ic), 0);
	T_ASSERT_EQ(send_frames(a, 0, 5, 100, other), 0);     /* not for c */
	T_ASSERT_EQ(send_frames(a, 10, 3, 100, ic.mac), 0);   /* for c */
	T_ASSERT_EQ(send_frames(a, 13, 2, 100, tf_bcast), 0); /* group */
	rx_all(c, &rc);
	T_ASSERT_EQ(rc.got, 5);
	T_ASSERT_EQ(rc.bad, 0);
	T_ASSERT_EQ(unm_shmif_port_stats(c, NULL, &filtered, NULL), 0);
	T_ASSERT_EQ(filtered, 5);
	unm_close(c);
	munmap(bus, 1 << 20);
	unm_close(a);
	unm_close(b);
}

#define ROUNDS 40
#define WINDOW 200   /* 200 * (24 + 1000) bytes: a fifth of the bus */

/* Child: send ROUNDS windows of WINDOW frames; after each, wait for the
 * parent's acknowledgement frame (seq = frames received so far). */
static int child(const char *path)
{
	struct unm_port *p;
	char name[200];
	struct rxstate ack = { .next_seq = -1 };

	snprintf(name, sizeof(name), "shmif:%s", path);
	if (unm_open(name, &p, NULL))
		return 2;
	for (unsigned r = 0; r < ROUNDS; r++) {
		if (send_frames(p, r * WINDOW, WINDOW, 1000, tf_bcast))
			return 3;
		while (ack.got < r + 1) {
			if (unm_wait(p, UNM_WAIT_RX, 5000) <= 0)
				return 4;
			ack.next_seq = -1; /* acks jump by WINDOW */
			rx_all(p, &ack);
		}
		if (ack.bad || ack.next_seq != (long)((r + 1) * WINDOW) + 1)
			return 5;
	}
	unm_close(p);
	return 0;
}

static void two_processes(const char *path)
{
	struct unm_port *p;
	char name[200];
	struct rxstate rx = { .next_seq = 0, .len = 1000 };
	pid_t pid;
	int status;

	/* Open first so the child's frames are all after our reader. */
	snprintf(name, sizeof(name), "shmif:%s", path);
	T_ASSERT_EQ(unm_open(name, &p, NULL), 0);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0)
		_exit(child(path));
	for (unsigned r = 0; r < ROUNDS; r++) {
		double t0 = t_now();

		while (rx.got < (r + 1) * WINDOW) {
			int w = unm_wait(p, UNM_WAIT_RX, 1000);

			if (w < 0 || t_now() - t0 > 10) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
				T_FAIL("round %u: got %u frames, wait %d", r, rx.got, w);
			}
			rx_all(p, &rx);
		}
		if (rx.got != (r + 1) * WINDOW || rx.bad) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			T_FAIL("round %u: got %u bad %u", r, rx.got, rx.bad);
		}
		T_ASSERT_EQ(send_frames(p, rx.got, 1, 60, tf_bcast), 0);
	}
	T_ASSERT(waitpid(pid, &status, 0) == pid);
	T_ASSERT(WIFEXITED(status));
	T_ASSERT_EQ(WEXITSTATUS(status), 0);
	/* nothing more than the exact count */
	rx_all(p, &rx);
	T_ASSERT_EQ(rx.got, ROUNDS * WINDOW);
	T_ASSERT_EQ(rx.bad, 0);
	unm_close(p);
}

int main(void)
{
	const char *path = tb_newpath("xchg");

	t_watchdog(40);
	unsetenv("UNM_SHMIF_PROMISC");
	one_process(path);
	unlink(path);
	two_processes(path);
	/* a path that cannot be a bus */
	struct unm_port *p;

	T_ASSERT(unm_open("shmif:/proc/self", &p, NULL) < 0);
	printf("ok\n");
	return 0;
}
