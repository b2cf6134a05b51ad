// SPDX-License-Identifier: BSD-2-Clause
/*
 * testpmd.h - drive dpdk-testpmd through its interactive prompt on a pipe,
 * for the tests that put a unetmap port in front of one of DPDK's own
 * (tests/mp/vhost-testpmd.c: virtio_user; memif-testpmd.c: net_memif).
 * Included by one test program each (static state: one testpmd at a time,
 * one port). The test sets `port` (may stay NULL until it opens it) and
 * registers cleanup() with atexit; start_testpmd(VDEV, TAG) logs to
 * /tmp/unm-TAG-PID.log with EAL file prefix unmTAGPID. Then: expect(),
 * wait_link(), port_to_testpmd() (a counted burst, testpmd rxonly must
 * count it all), testpmd_to_port() (txonly, every frame testpmd counts as
 * sent must arrive), quit_testpmd(), link_up(). Functions are static
 * inline: a test need not use each one.
 */
#ifndef UNM_TESTS_TESTPMD_H
#define UNM_TESTS_TESTPMD_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unm.h>
#include "test.h"

#define TESTPMD "/usr/bin/dpdk-testpmd"
#define BURST 20000

struct tp {
	pid_t pid;
	int in;                 /* testpmd's stdin */
	char out[128];          /* its stdout+stderr, a file */
	size_t seen;            /* bytes of out already searched */
};

static struct tp tp = { .pid = -1, .in = -1 };
static struct unm_port *port;
static uint64_t rx_count;

static inline void cleanup(void)
{
	if (tp.pid > 0) {
		kill(tp.pid, SIGKILL);
		waitpid(tp.pid, NULL, 0);
		tp.pid = -1;
	}
	if (tp.out[0] && !getenv("UNM_KEEP_LOG"))
		unlink(tp.out);
}

static inline void count_rx(void *arg, const uint8_t *frame, size_t len, const struct unm_slot *s)
{
	(void)arg, (void)frame, (void)len, (void)s;
	rx_count++;
}

/* Run the port for MS milliseconds (counting what it receives). */
static inline void pump(int ms)
{
	double end = t_now() + ms / 1000.0;

	if (!port) { /* slave case: not opened yet */
		usleep((useconds_t)ms * 1000);
		return;
	}
	do {
		unm_wait(port, UNM_WAIT_RX, 1);
		while (unm_dispatch(port, 0, count_rx, NULL) > 0)
			;
	} while (t_now() < end);
}

static inline char *slurp(void)
{
	static char buf[1 << 20];
	int fd = open(tp.out, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Wait (pumping the port) until testpmd's output past what we have seen
 * contains WHAT; returns a pointer to it in a static buffer, or NULL. */
static inline char *expect(const char *what, int ms)
{
	double end = t_now() + ms / 1000.0;

	while (t_now() < end) {
		char *b = slurp(), *p = strstr(b + tp.seen, what);

		if (p) {
			tp.seen = (size_t)(p - b) + strlen(what);
			return p;
		}
		if (waitpid(tp.pid, NULL, WNOHANG) == tp.pid) {
			tp.pid = -1;
			return NULL;
		}
		pump(5);
	}
	return NULL;
}

static inline void cmd(const char *c)
{
	if (write(tp.in, c, strlen(c)) != (ssize_t)strlen(c))
		T_FAIL("write to testpmd: %s", strerror(errno));
}

static inline void start_testpmd(const char *vdev, const char *tag)
{
	int pin[2];
	char prefix[64];

	snprintf(tp.out, sizeof(tp.out), "/tmp/unm-%s-%d.log", tag, (int)getpid());
	snprintf(prefix, sizeof(prefix), "--file-prefix=unm%s%d", tag, (int)getpid());
	T_ASSERT(pipe(pin) == 0);
	tp.pid = fork();
	T_ASSERT(tp.pid >= 0);
	if (tp.pid == 0) {
		int fd = open(tp.out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(pin[0], 0);
		dup2(fd, 1);
		dup2(fd, 2);
		close(pin[1]);
		/* stdbuf: testpmd's printf output is block-buffered in a file */
		execl("/usr/bin/stdbuf", "stdbuf", "-oL", TESTPMD, "--no-huge", "--no-pci", "-m", "512",
		      "--single-file-segments", prefix, "--lcores=0@0,1@0", "--log-level=7",
		      vdev, "--", "-i", "--total-num-mbufs=16384", "--nb-cores=1",
		      (char *)NULL);
		_exit(127);
	}
	close(pin[0]);
	tp.in = pin[1];
	tp.seen = 0;
}

static inline void quit_testpmd(void)
{
	cmd("quit\n");
	close(tp.in);
	tp.in = -1;
	for (int i = 0; i < 400 && tp.pid > 0; i++) {
		if (waitpid(tp.pid, NULL, WNOHANG) == tp.pid)
			tp.pid = -1;
		else
			pump(10);
	}
	cleanup();
}

static inline unsigned long long stat_after(const char *anchor, const char *key)
{
	char *p = expect(anchor, 5000);

	if (!p)
		T_FAIL("testpmd did not print '%s':\n%s", anchor, slurp());
	p = strstr(p, key);
	if (!p)
		T_FAIL("no '%s' in testpmd's stats", key);
	return strtoull(p + strlen(key), NULL, 10);
}

static inline int link_up(void)
{
	struct unm_port_info info = { .sz = sizeof(info) };

	unm_port_info(port, &info);
	return (int)info.link_up;
}

static inline void wait_link(void)
{
	for (int i = 0; i < 3000 && !link_up(); i += 10)
		pump(10);
	if (!link_up())
		T_FAIL("testpmd never brought the link up:\n%s", slurp());
}

/* We send BURST frames; testpmd (rxonly) must count exactly BURST. */
static inline void port_to_testpmd(void)
{
	uint8_t frame[60];
	unsigned long long got;
	unsigned sent = 0;
	double end = t_now() + 10;

	memset(frame, 0, sizeof(frame));
	memset(frame, 0xff, 6);                 /* broadcast */
	frame[6] = 0x02, frame[11] = 0x01;      /* locally administered source */
	frame[12] = 0x88, frame[13] = 0xb5;     /* local experimental ethertype */
	cmd("set fwd rxonly\nstart\n");
	T_ASSERT(expect("packet forwarding - ports=", 5000) != NULL);
	pump(100);
	while (sent < BURST && t_now() < end) {
		int r;

		memcpy(frame + 14, &sent, sizeof(sent));
		r = unm_inject(port, frame, sizeof(frame));
		T_ASSERT(r >= 0);
		if (r > 0)
			sent++;
		else
			unm_wait(port, UNM_WAIT_TX, 1);
	}
	T_ASSERT_EQ(sent, BURST);
	for (int i = 0; i < 200; i++) {
		struct unm_ring *r = unm_ring_get(port, 1, 0);

		unm_txsync(port, 0);
		if (!unm_tx_pending(r))
			break;
		pump(5);
	}
	pump(200);
	cmd("stop\nshow port stats all\n");
	got = stat_after("NIC statistics for port 0", "RX-packets: ");
	struct unm_port_stats st = { .sz = sizeof(st) };
	unm_port_stats(port, &st);
	printf("port -> testpmd: sent %u, testpmd RX-packets %llu, our drops %llu\n", sent, got,
	       (unsigned long long)st.drops);
	T_ASSERT_EQ(got, BURST);
	T_ASSERT_EQ(st.drops, 0);
}

/* testpmd (txonly) sends for a moment; we must receive every frame it
 * counts as sent. */
static inline void testpmd_to_port(void)
{
	unsigned long long sent;
	uint64_t last;

	cmd("clear port stats all\nset fwd txonly\nstart\n");
	T_ASSERT(expect("packet forwarding - ports=", 5000) != NULL);
	rx_count = 0;
	pump(500);
	cmd("stop\n");
	T_ASSERT(expect("Done.", 5000) != NULL);
	do {
		last = rx_count;
		pump(100);
	} while (rx_count != last);
	cmd("show port stats all\n");
	sent = stat_after("NIC statistics for port 0", "TX-packets: ");
	printf("testpmd -> port: testpmd TX-packets %llu, we received %llu\n", sent,
	       (unsigned long long)rx_count);
	T_ASSERT(sent > 0);
	T_ASSERT_EQ(rx_count, sent);
}

#endif /* UNM_TESTS_TESTPMD_H */
