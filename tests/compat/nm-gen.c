// SPDX-License-Identifier: BSD-2-Clause
/*
 * nm-gen.c - a lean netmap-API frame generator (libnetmap, poll(),
 * NIOCTXSYNC), built only with the unm-netmap pkg-config line. Used by
 * tests/compat/gen.sh and by bench/compat_pktgen.sh -g, where it measures
 * what the compat layer costs a netmap sender whose own loop is as cheap
 * as unm-pktgen's fixed-frame fill (netmap's pkt-gen tests its options for
 * every frame, which costs it about three times that loop).
 *
 *   nm-gen PORT LEN SECONDS [COUNT]
 *
 * Sends one fixed LEN-byte UDP frame (broadcast, 10.0.0.1:1234 ->
 * 10.1.0.1:1234) for SECONDS (0: no limit) or until COUNT frames (0: no
 * limit) have gone, 512 per batch: poll(POLLOUT), then on each TX ring
 * set the length of up to 512 slots, writing the frame only into a
 * buffer whose slot says NS_BUF_CHANGED (all of them at first), as
 * pkt-gen does; the next poll() sends them. Prints the rate as
 * "rate=MPPS" on its last line. Exit 0, 1 on error, 2 on usage.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <libnetmap.h>

#define BATCH 512

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void make_frame(uint8_t *f, unsigned len)
{
	static const uint8_t hdr[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x08, 0x00,                                     /* IPv4 */
		0x45, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
		10, 0, 0, 1, 10, 1, 0, 1,                       /* 10.0.0.1 -> 10.1.0.1 */
		0x04, 0xd2, 0x04, 0xd2, 0x00, 0x00, 0x00, 0x00, /* UDP 1234 -> 1234 */
	};
	unsigned ip_len = len - 14, udp_len = len - 34;
	uint32_t sum = 0;

	memset(f, 0, len);
	memcpy(f, hdr, sizeof(hdr));
	f[16] = (uint8_t)(ip_len >> 8);
	f[17] = (uint8_t)ip_len;
	f[38] = (uint8_t)(udp_len >> 8);
	f[39] = (uint8_t)udp_len;
	for (unsigned i = 14; i < 34; i += 2)
		sum += (uint32_t)(f[i] << 8 | f[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	f[24] = (uint8_t)(~sum >> 8);
	f[25] = (uint8_t)~sum;
}

/* Up to MAX frames into ring R; returns how many. */
static unsigned fill(struct netmap_ring *r, const uint8_t *frame, uint16_t len, unsigned max)
{
	uint32_t h = r->head, n = nm_ring_space(r);

	if (n > max)
		n = max;
	for (uint32_t k = 0; k < n; k++) {
		struct netmap_slot *s = &r->slot[h];

		if (s->flags & NS_BUF_CHANGED)
			memcpy(NETMAP_BUF(r, s->buf_idx), frame, len);
		s->len = len;
		s->flags = 0;
		h = nm_ring_next(r, h);
	}
	r->head = r->cur = h;
	return n;
}

int main(int argc, char **argv)
{
	uint8_t frame[2048];
	struct nmport_d *d;
	unsigned len;
	double secs, t0, t1;
	unsigned long long count = 0, sent = 0;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: nm-gen PORT LEN SECONDS [COUNT]\n");
		return 2;
	}
	len = (unsigned)strtoul(argv[2], NULL, 0);
	secs = strtod(argv[3], NULL);
	if (argc == 5)
		count = strtoull(argv[4], NULL, 0);
	if (len < 42 || len > sizeof(frame) || secs < 0) {
		fprintf(stderr, "nm-gen: LEN must be 42..%zu, SECONDS >= 0\n", sizeof(frame));
		return 2;
	}
	make_frame(frame, len);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	d = nmport_open(argv[1]);
	if (!d) {
		fprintf(stderr, "nm-gen: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (unsigned i = d->first_tx_ring; i <= d->last_tx_ring; i++) {
		struct netmap_ring *r = NETMAP_TXRING(d->nifp, i);

		if (len > r->nr_buf_size) {
			fprintf(stderr, "nm-gen: LEN %u above the buffer size %u\n", len, r->nr_buf_size);
			return 2;
		}
		for (uint32_t j = 0; j < r->num_slots; j++)
			r->slot[j].flags = NS_BUF_CHANGED;
	}
	t0 = now_s();
	while (!stop && (!count || sent < count)) {
		struct pollfd p = { .fd = d->fd, .events = POLLOUT };
		int rc = poll(&p, 1, 1000);

		if (rc < 0 && errno != EINTR) {
			fprintf(stderr, "nm-gen: poll: %s\n", strerror(errno));
			return 1;
		}
		if (p.revents & (POLLERR | POLLHUP)) {
			fprintf(stderr, "nm-gen: poll: %s\n", p.revents & POLLHUP ? "peer gone" : "error");
			return 1;
		}
		for (unsigned i = d->first_tx_ring; i <= d->last_tx_ring; i++) {
			unsigned max = BATCH;

			if (count && count - sent < max)
				max = (unsigned)(count - sent);
			sent += fill(NETMAP_TXRING(d->nifp, i), frame, (uint16_t)len, max);
		}
		if (secs > 0 && now_s() - t0 >= secs)
			break;
	}
	t1 = now_s();
	ioctl(d->fd, NIOCTXSYNC, NULL);
	/* let the port complete what it holds (a pipe whose peer is full),
	 * for up to 5 s */
	for (int k = 0; k < 5000; k++) {
		int pending = 0;

		for (unsigned i = d->first_tx_ring; i <= d->last_tx_ring; i++)
			pending |= nm_tx_pending(NETMAP_TXRING(d->nifp, i));
		if (!pending)
			break;
		usleep(1000);
		ioctl(d->fd, NIOCTXSYNC, NULL);
	}
	nmport_close(d);
	printf("nm-gen: sent %llu frames in %.3f s: %.3f Mpps rate=%.3f\n", sent, t1 - t0,
	       t1 > t0 ? (double)sent / (t1 - t0) / 1e6 : 0.0,
	       t1 > t0 ? (double)sent / (t1 - t0) / 1e6 : 0.0);
	return 0;
}
