// SPDX-License-Identifier: BSD-2-Clause
/*
 * afxdp_vs_afpacket.c - the timed sender/receiver behind
 * bench/afxdp_vs_afpacket.sh. Single-threaded; every mode runs for SECS
 * seconds and prints one line "MODE pkts=N secs=S pps=P".
 *   port-tx NAME SECS LEN   frames through any unetmap port (afxdp:IF,
 *                           afpacket:IF, ...): fill the TX ring, txsync
 *   port-rx NAME SECS       count frames received by a port
 *   raw-tx IF SECS LEN      baseline: AF_PACKET sendmmsg(), 64 per call
 *   raw-rx IF SECS          baseline: AF_PACKET recvmmsg(), 64 per call
 * Frames are broadcast, EtherType 0x88b5, so a Linux peer drops them early.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <unm.h>

#define BATCH 64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void frame(char *f, unsigned len)
{
	memset(f, 0, len);
	memset(f, 0xff, 6);
	f[6] = 0x02;
	f[11] = 0x01;
	f[12] = (char)0x88;
	f[13] = (char)0xb5;
}

static void report(const char *mode, unsigned long long n, double secs)
{
	printf("%s pkts=%llu secs=%.3f pps=%.0f\n", mode, n, secs, n / secs);
}

static int port_tx(const char *name, double secs, unsigned len)
{
	struct unm_port_info info = { .sz = sizeof(info) };
	struct unm_port *p;
	struct unm_ring *r;
	unsigned long long n = 0;
	double t0, end;
	int rc = unm_open(name, &p, NULL);

	if (rc)
		return fprintf(stderr, "%s: %s\n", name, unm_errmsg()), 1;
	unm_port_info(p, &info);
	r = unm_ring_get(p, 1, info.first_tx);
	/* Pre-fill every TX buffer once: the frames do not change. */
	for (uint32_t i = 0; i < r->num_slots; i++)
		frame(unm_slot_buf(r, i), len);
	t0 = now();
	end = t0 + secs;
	while (now() < end) {
		uint32_t i = r->head, k = unm_ring_space(r);

		for (; k; k--, n++) {
			r->slot[i].len = (uint16_t)len;
			r->slot[i].flags = 0;
			i = unm_ring_next(r, i);
		}
		unm_ring_advance(r, i);
		rc = unm_txsync(p, (int)info.first_tx);
		if (rc)
			return fprintf(stderr, "txsync: %s\n", unm_strerror(rc)), 1;
		if (unm_ring_space(r) == 0)
			unm_wait(p, UNM_WAIT_TX, 10);
		/* buffers swapped in by completions carry old frames: refresh
		 * the header only where a slot's buffer changed */
		for (uint32_t j = r->head; j != r->tail; j = unm_ring_next(r, j))
			if (r->slot[j].flags & UNM_NS_BUF_CHANGED) {
				frame(unm_slot_buf(r, j), 14);
				r->slot[j].flags = 0;
			}
	}
	report("port-tx", n, now() - t0);
	unm_close(p);
	return 0;
}

static int port_rx(const char *name, double secs)
{
	struct unm_port_info info = { .sz = sizeof(info) };
	struct unm_port *p;
	struct unm_ring *r;
	unsigned long long n = 0;
	double t0, end;
	int rc = unm_open(name, &p, NULL);

	if (rc)
		return fprintf(stderr, "%s: %s\n", name, unm_errmsg()), 1;
	unm_port_info(p, &info);
	r = unm_ring_get(p, 0, info.first_rx);
	printf("ready\n");
	fflush(stdout);
	t0 = now();
	end = t0 + secs;
	while (now() < end) {
		unm_wait(p, UNM_WAIT_RX, 10);
		n += unm_ring_space(r);
		unm_ring_advance(r, r->tail);
	}
	report("port-rx", n, now() - t0);
	unm_close(p);
	return 0;
}

static int raw_socket(const char *ifname, struct sockaddr_ll *sa)
{
	int fd = socket(AF_PACKET, SOCK_RAW, htons(0x88b5));

	memset(sa, 0, sizeof(*sa));
	sa->sll_family = AF_PACKET;
	sa->sll_protocol = htons(0x88b5);
	sa->sll_ifindex = (int)if_nametoindex(ifname);
	sa->sll_halen = 6;
	memset(sa->sll_addr, 0xff, 6);
	if (fd < 0 || !sa->sll_ifindex || bind(fd, (struct sockaddr *)sa, sizeof(*sa)) < 0) {
		perror(ifname);
		exit(1);
	}
	return fd;
}

static int raw_tx(const char *ifname, double secs, unsigned len)
{
	struct sockaddr_ll sa;
	struct mmsghdr m[BATCH];
	struct iovec iov;
	char f[2048];
	unsigned long long n = 0;
	int fd = raw_socket(ifname, &sa);
	double t0 = now(), end = t0 + secs;

	frame(f, len);
	iov.iov_base = f;
	iov.iov_len = len;
	memset(m, 0, sizeof(m));
	for (int i = 0; i < BATCH; i++) {
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
		m[i].msg_hdr.msg_name = &sa;
		m[i].msg_hdr.msg_namelen = sizeof(sa);
	}
	while (now() < end) {
		int k = sendmmsg(fd, m, BATCH, 0);

		if (k > 0)
			n += (unsigned)k;
		else if (errno != ENOBUFS && errno != EAGAIN)
			return perror("sendmmsg"), 1;
	}
	report("raw-tx", n, now() - t0);
	return 0;
}

static int raw_rx(const char *ifname, double secs)
{
	static char bufs[BATCH][2048];
	struct sockaddr_ll sa;
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	unsigned long long n = 0;
	int fd = raw_socket(ifname, &sa);
	double t0, end;

	memset(m, 0, sizeof(m));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	printf("ready\n");
	fflush(stdout);
	t0 = now();
	end = t0 + secs;
	while (now() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int k;

		if (poll(&pfd, 1, 10) <= 0)
			continue;
		k = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
		if (k > 0)
			n += (unsigned)k;
	}
	report("raw-rx", n, now() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	double secs = argc > 3 ? atof(argv[3]) : 1;
	unsigned len = argc > 4 ? (unsigned)atoi(argv[4]) : 60;

	if (len < 60 || len > 1500)
		len = 60;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && !strcmp(argv[1], "port-tx"))
		return port_tx(argv[2], secs, len);
	if (argc >= 3 && !strcmp(argv[1], "port-rx"))
		return port_rx(argv[2], secs);
	if (argc >= 3 && !strcmp(argv[1], "raw-tx"))
		return raw_tx(argv[2], secs, len);
	if (argc >= 3 && !strcmp(argv[1], "raw-rx"))
		return raw_rx(argv[2], secs);
	fprintf(stderr, "usage: afxdp_vs_afpacket {port-tx|port-rx|raw-tx|raw-rx} NAME [SECS [LEN]]\n");
	return 2;
}
