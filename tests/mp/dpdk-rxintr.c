// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a dpdk: port over a device with RX interrupts (DPDK's
 * net_tap, in a network namespace of the test's own) sleeps without any
 * wake-up while idle and wakes for each frame. Idle: unm_wait() for RX
 * over 300 ms and a poll() of unm_fd() after an arming rxsync count no
 * wake-up (unm_port_stats wakeups stays 0; poll times out). Traffic: a
 * thread sends 40 bursts of 50 frames into the tap (AF_PACKET), each only
 * once the receiver, asleep in poll() on unm_fd() (10 s limit), has taken
 * the previous one: every one of the 2,000 frames arrives, and no poll
 * times out. Control: over dpdk:net_ring0 (no RX interrupts: the 50 us
 * timer) the same idle wait does count wake-ups, so the counter sees
 * timer wake-ups. Root only (a network namespace); SKIPs without the
 * plugin or DPDK's net_tap / net_ring drivers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <unm.h>
#include <unm/ring.h>
#include "../lib/test.h"

#define BURSTS 40u
#define PER    50u
#define FLEN   120u

static struct unm_port *port;
static char ifname[IFNAMSIZ];
static unsigned got;            /* frames received (receiver thread) */

static struct unm_port_stats stats(void)
{
	struct unm_port_stats st = { .sz = sizeof(st) };

	T_ASSERT_EQ(unm_port_stats(port, &st), 0);
	return st;
}

static void write_file(const char *path, const char *v)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(v, f) < 0 || fclose(f) != 0)
		T_FAIL("write %s: %s", path, strerror(errno));
}

/* Sender: burst k goes out once the receiver has all of burst k - 1. */
static void *sender(void *arg)
{
	struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_halen = 6 };
	uint8_t f[FLEN];
	int s = socket(AF_PACKET, SOCK_RAW, 0);

	(void)arg;
	if (s < 0)
		T_FAIL("AF_PACKET socket: %s", strerror(errno));
	sa.sll_ifindex = (int)if_nametoindex(ifname);
	T_ASSERT(sa.sll_ifindex > 0);
	memset(f, 0, sizeof(f));
	memset(f, 0xff, 6);                          /* broadcast */
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x88, f[13] = 0xb5;                  /* local experimental */
	for (unsigned b = 0; b < BURSTS; b++) {
		double end = t_now() + 30;

		while (__atomic_load_n(&got, __ATOMIC_ACQUIRE) < b * PER)
			if (t_now() > end)
				T_FAIL("receiver stuck at %u frames", got);
			else
				usleep(200);
		for (unsigned k = 0; k < PER; k++) {
			f[14] = (uint8_t)b, f[15] = (uint8_t)k;
			if (sendto(s, f, sizeof(f), 0, (struct sockaddr *)&sa, sizeof(sa)) !=
			    (ssize_t)sizeof(f))
				T_FAIL("sendto %s: %s", ifname, strerror(errno));
		}
	}
	close(s);
	return NULL;
}

/* Idle: no wake-up while waiting for RX. */
static void idle_check(void)
{
	struct unm_port_stats a = stats(), b;
	struct pollfd pfd = { .fd = unm_fd(port), .events = POLLIN };

	T_ASSERT_EQ(unm_wait(port, UNM_WAIT_RX, 300), 0);
	T_ASSERT_EQ(unm_rxsync(port, 0), 0);  /* arms: the ring is empty */
	T_ASSERT_EQ(poll(&pfd, 1, 200), 0);
	b = stats();
	printf("  idle: wakeups %llu, rx_syncs %llu\n", (unsigned long long)(b.wakeups - a.wakeups),
	       (unsigned long long)(b.rx_syncs - a.rx_syncs));
	T_ASSERT_EQ(b.wakeups, a.wakeups);
	T_ASSERT_EQ(b.rx_frames, a.rx_frames);
}

static void traffic(void)
{
	struct unm_ring *r = unm_ring_get(port, 0, 0);
	struct unm_port_stats a = stats(), b;
	unsigned polls = 0;
	pthread_t th;

	T_ASSERT_EQ(pthread_create(&th, NULL, sender, NULL), 0);
	while (got < BURSTS * PER) {
		uint32_t i;

		T_ASSERT_EQ(unm_rxsync(port, 0), 0);
		for (i = r->head; i != r->tail; i = unm_ring_next(r, i)) {
			if (r->slot[i].len != FLEN)
				T_FAIL("frame %u: %u bytes", got, r->slot[i].len);
			__atomic_store_n(&got, got + 1, __ATOMIC_RELEASE);
		}
		unm_ring_advance(r, i);
		if (got < BURSTS * PER && r->cur == r->tail) {
			struct pollfd pfd = { .fd = unm_fd(port), .events = POLLIN };

			int rc;

			/* asleep until a frame comes: no timer would wake us.
			 * net_tap raises SIGIO for each frame it gets (its RX
			 * trigger), which may land in this thread first: EINTR
			 * is no wake-up, sleep again */
			do
				rc = poll(&pfd, 1, 10000);
			while (rc < 0 && errno == EINTR);
			if (rc != 1)
				T_FAIL("not woken by a frame (%u of %u received)", got,
				       BURSTS * PER);
			polls++;
			T_ASSERT_EQ(unm_wakeup(port), 0);
		}
	}
	pthread_join(th, NULL);
	b = stats();
	printf("  traffic: %u frames, %u sleeps, wakeups %llu\n", got, polls,
	       (unsigned long long)(b.wakeups - a.wakeups));
	T_ASSERT_EQ(got, BURSTS * PER);
	T_ASSERT_EQ(b.rx_frames - a.rx_frames, BURSTS * PER);
	T_ASSERT(polls >= 1);
}

static void open_port(const char *name)
{
	struct unm_open_opts o = { .sz = sizeof(o), .tx_rings = 1, .rx_rings = 1 };

	if (unm_open(name, &port, &o))
		T_FAIL("unm_open %s: %s", name, unm_errmsg());
}

int main(void)
{
	char name[96];
	struct unm_port_stats a, b;
	double end;

	t_watchdog(120);
	t_need_dpdk("net_tap", "net_ring", NULL);
	if (geteuid() != 0)
		T_SKIP("needs root (a network namespace and a tap)");
	if (unshare(CLONE_NEWNET) != 0)
		T_SKIP("unshare(CLONE_NEWNET): %s", strerror(errno));
	if (access("/dev/net/tun", R_OK | W_OK) != 0)
		T_SKIP("no /dev/net/tun");
	/* our own namespace: the tap sends nothing of the kernel's (no IPv6
	 * autoconfiguration, no address) and vanishes with us */
	if (access("/proc/sys/net/ipv6/conf/default/disable_ipv6", W_OK) == 0)
		write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");

	snprintf(ifname, sizeof(ifname), "dri%d", (int)getpid() % 100000);
	snprintf(name, sizeof(name), "dpdk:net_tap0,iface=%s", ifname);
	printf("%s:\n", name);
	open_port(name);
	idle_check();
	traffic();
	idle_check();
	unm_close(port);

	/* control: no RX interrupts, so the timer: the idle wait is woken */
	printf("dpdk:net_ring0 (no RX interrupts):\n");
	open_port("dpdk:net_ring0");
	a = stats();
	end = t_now() + 10;
	do
		T_ASSERT_EQ(unm_wait(port, UNM_WAIT_RX, 100), 0);
	while ((b = stats()).wakeups == a.wakeups && t_now() < end);
	printf("  idle: wakeups %llu\n", (unsigned long long)(b.wakeups - a.wakeups));
	T_ASSERT(b.wakeups > a.wakeups);
	unm_close(port);
	printf("PASS\n");
	return 0;
}
