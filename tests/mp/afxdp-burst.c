// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: AF_XDP port helper and self-test. Without arguments it
 * checks what needs no interface: the port type reports
 * -EPROTONOSUPPORT "afxdp: not built: ..." when libxdp is absent (then
 * SKIP), a missing interface is -ENODEV, a buffer size AF_XDP cannot use
 * is -EINVAL. With arguments it is the tool of tests/netns/afxdp-*.sh:
 *   afxdp-burst tx PORT COUNT [LEN]     send COUNT frames, wait for their
 *                                       completion, print "sent N"
 *   afxdp-burst rx PORT COUNT [SECS]    print "ready", count frames of our
 *                                       EtherType until COUNT or SECS, print
 *                                       "received N"; exit 0 iff N == COUNT
 *   afxdp-burst hold PORT [SECS]        print "ready", sleep in unm_wait()
 *                                       until the port fails (exit 0, prints
 *                                       the error) or SECS pass (exit 1)
 *   afxdp-burst pktsend IF COUNT [LEN]  send COUNT frames of our EtherType
 *                                       on IF with AF_PACKET (the peer side)
 * Every mode prints "mode: ..." once the port is open (from the library's
 * log) so the scripts can tell which XDP mode was used.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unm.h>
#include "../lib/test.h"

#define ETH_P_UNM 0x88b5 /* IEEE local experimental EtherType */

static void on_log(enum unm_log_level lvl, const char *msg, void *arg)
{
	(void)arg;
	if (lvl == UNM_LOG_INFO && strstr(msg, " XDP") && !strstr(msg, "leftover"))
		printf("mode: %s\n", msg);
	else if (lvl <= UNM_LOG_WARN)
		printf("log: %s\n", msg);
	fflush(stdout);
}

static void make_frame(char *f, unsigned len, const uint8_t src[6], uint32_t seq)
{
	uint16_t et = htons(ETH_P_UNM);

	memset(f, 0, len);
	memset(f, 0xff, 6);
	memcpy(f + 6, src, 6);
	memcpy(f + 12, &et, 2);
	memcpy(f + 14, &seq, 4);
	for (unsigned i = 18; i < len; i++)
		f[i] = (char)(i ^ seq);
}

/* The frame starts at the buffer start and carries make_frame()'s pattern. */
static int payload_ok(const unsigned char *f, unsigned len)
{
	uint32_t seq;

	memcpy(&seq, f + 14, 4);
	for (unsigned i = 18; i < len; i++)
		if (f[i] != (unsigned char)(i ^ seq))
			return 0;
	return 1;
}

static struct unm_port *open_port(const char *name)
{
	struct unm_port *p;
	int rc;

	unm_set_log(on_log, NULL);
	rc = unm_open(name, &p, NULL);
	if (rc) {
		printf("open %s: %s (%s)\n", name, unm_strerror(rc), unm_errmsg());
		exit(rc == -EOPNOTSUPP || rc == -EPROTONOSUPPORT ? 3 : 1);
	}
	return p;
}

static int do_tx(const char *name, unsigned count, unsigned len)
{
	struct unm_port *p = open_port(name);
	struct unm_port_info info = { .sz = sizeof(info) };
	unsigned sent = 0;
	int pending;
	double end;
	struct unm_ring *r;
	int rc;

	T_ASSERT_EQ(unm_port_info(p, &info), 0);
	r = unm_ring_get(p, 1, info.first_tx);
	T_ASSERT(r != NULL);
	end = t_now() + 10;
	while (sent < count && t_now() < end) {
		uint32_t i = r->head, n = unm_ring_space(r);

		for (; n && sent < count; n--, sent++) {
			make_frame(unm_slot_buf(r, i), len, info.mac, sent);
			r->slot[i].len = (uint16_t)len;
			r->slot[i].flags = 0;
			i = unm_ring_next(r, i);
		}
		unm_ring_advance(r, i);
		rc = unm_txsync(p, (int)info.first_tx);
		if (rc)
			T_FAIL("txsync: %s (%s)", unm_strerror(rc), unm_errmsg());
		if (sent < count && unm_ring_space(r) == 0)
			unm_wait(p, UNM_WAIT_TX, 100);
	}
	/* Wait for every frame to complete (the ring is whole again). */
	while (unm_tx_pending(r) && t_now() < end) {
		rc = unm_wait(p, UNM_WAIT_TX, 50);
		if (rc < 0)
			T_FAIL("wait: %s (%s)", unm_strerror(rc), unm_errmsg());
		unm_txsync(p, (int)info.first_tx);
	}
	pending = unm_tx_pending(r);
	printf("sent %u pending %d\n", sent, pending);
	unm_close(p);
	return sent == count && !pending ? 0 : 1;
}

static int do_rx(const char *name, unsigned count, unsigned secs)
{
	struct unm_port *p = open_port(name);
	struct unm_port_stats st = { .sz = sizeof(st) };
	struct unm_port_info info = { .sz = sizeof(info) };
	unsigned got = 0, other = 0, corrupt = 0;
	double end = t_now() + secs;
	struct unm_ring *r;

	T_ASSERT_EQ(unm_port_info(p, &info), 0);
	r = unm_ring_get(p, 0, info.first_rx);
	T_ASSERT(r != NULL);
	printf("ready\n");
	fflush(stdout);
	while (got < count && t_now() < end) {
		int rc = unm_wait(p, UNM_WAIT_RX, 200);

		if (rc < 0)
			T_FAIL("wait: %s (%s)", unm_strerror(rc), unm_errmsg());
		for (uint32_t i = r->head; i != r->tail; i = unm_ring_next(r, i)) {
			const unsigned char *f = (const unsigned char *)unm_slot_buf(r, i);

			if (r->slot[i].len >= 18 && f[12] == 0x88 && f[13] == 0xb5) {
				got++;
				if (!payload_ok(f, r->slot[i].len))
					corrupt++;
			} else
				other++;
		}
		unm_ring_advance(r, r->tail);
	}
	unm_port_stats(p, &st);
	printf("received %u other %u corrupt %u (port: rx_frames %llu bad_buf %llu)\n", got, other, corrupt,
	       (unsigned long long)st.rx_frames, (unsigned long long)st.bad_buf);
	unm_close(p);
	return got == count && !corrupt ? 0 : 1;
}

static int do_hold(const char *name, unsigned secs)
{
	struct unm_port *p = open_port(name);
	double end = t_now() + secs;

	printf("ready\n");
	fflush(stdout);
	while (t_now() < end) {
		int rc = unm_wait(p, UNM_WAIT_RX, 500);
		struct unm_ring *r = unm_ring_get(p, 0, 0);

		if (r)
			unm_ring_advance(r, r->tail);
		if (rc < 0) {
			int rc2 = unm_txsync(p, UNM_RING_ALL);

			printf("error: %s (%s); txsync: %s\n", unm_strerror(rc), unm_errmsg(),
			       unm_strerror(rc2));
			unm_close(p);
			return rc2 < 0 ? 0 : 1;
		}
	}
	printf("no error within %u s\n", secs);
	unm_close(p);
	return 1;
}

static int do_pktsend(const char *ifname, unsigned count, unsigned len)
{
	struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_halen = 6 };
	uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	char f[2048];
	int fd = socket(AF_PACKET, SOCK_RAW, 0);

	if (fd < 0)
		T_FAIL("AF_PACKET socket: %s", strerror(errno));
	sa.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sa.sll_ifindex)
		T_FAIL("no interface %s", ifname);
	memset(sa.sll_addr, 0xff, 6);
	for (unsigned i = 0; i < count; i++) {
		make_frame(f, len, src, i);
		while (sendto(fd, f, len, 0, (struct sockaddr *)&sa, sizeof(sa)) != (ssize_t)len) {
			if (errno != ENOBUFS && errno != EAGAIN)
				T_FAIL("sendto: %s", strerror(errno));
			usleep(1000);
		}
	}
	printf("pktsend %u\n", count);
	return 0;
}

static int self_test(void)
{
	struct unm_port *p;
	int rc;

	rc = unm_open("afxdp:unmnoif0", &p, NULL);
	if (rc == -EPROTONOSUPPORT) {
		T_ASSERT(strstr(unm_errmsg(), "afxdp: not built: install libxdp-dev libbpf-dev"));
		T_SKIP("%s", unm_errmsg());
	}
	T_ASSERT_EQ(rc, -ENODEV);
	T_ASSERT(strstr(unm_errmsg(), "no such interface"));
	rc = unm_open("afxdp:lo@conf:bufsize=1024", &p, NULL);
	T_ASSERT_EQ(rc, -EINVAL);
	T_ASSERT(strstr(unm_errmsg(), "2048 or 4096"));
	printf("ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 0) : 0;
	unsigned a4 = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 0) : 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	t_watchdog(55);
	if (argc < 2)
		return self_test();
	if (!strcmp(argv[1], "tx") && argc >= 4)
		return do_tx(argv[2], n, a4 >= 60 && a4 <= 1500 ? a4 : 60);
	if (!strcmp(argv[1], "rx") && argc >= 4)
		return do_rx(argv[2], n, a4 ? a4 : 10);
	if (!strcmp(argv[1], "hold") && argc >= 3)
		return do_hold(argv[2], argc > 3 ? (unsigned)atoi(argv[3]) : 20);
	if (!strcmp(argv[1], "pktsend") && argc >= 4)
		return do_pktsend(argv[2], n, a4 >= 60 && a4 <= 1500 ? a4 : 60);
	fprintf(stderr, "usage: afxdp-burst [tx|rx|hold|pktsend] ...\n");
	return 2;
}
