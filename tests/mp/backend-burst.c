// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a send-N / receive-N helper for the backend tests in
 * tests/netns/ (tap, AF_PACKET), usable from shell. Run without arguments
 * (as make check does) it checks itself on the null port and checks the
 * open-time error messages of the afpacket port.
 *
 *   backend-burst tx PORT N [opts]     send N test frames through PORT
 *   backend-burst rx PORT N [opts]     receive exactly N test frames on PORT
 *   backend-burst rawtx IF N [opts]    send N test frames with a plain
 *                                      AF_PACKET socket (no unetmap)
 *   backend-burst rawrx IF N [opts]    receive and check them likewise
 *   backend-burst hold PORT [opts]     open PORT, sync until a sync fails;
 *                                      exit 0 if it failed with ENXIO,
 *                                      ENODEV or ENETDOWN
 * Options: -l LEN frame length (default 60, without vnet header),
 *   -v VNET bytes of virtio-net header before each frame in the slots,
 *   -w MS time limit (default 5000), -r FILE created once the port is
 *   open (the shell waits for it), -t SEC rate mode (tx/rx: as many frames
 *   as possible for SEC seconds, prints "pps=..."), -b N frames per burst
 *   and -g US pause between bursts (rawtx, tx), -p busy-poll (hold),
 *   -L (rx) a loss is expected: pass only if the port counted drops and
 *   good + drops = N.
 *
 * Test frame: broadcast, source 02:00:00:00:00:01, EtherType 0x88b5,
 * payload "UNMB", 32-bit big-endian sequence number, then byte k of the
 * frame = (seq + k) & 0xff. rx/rawrx count only such frames, check every
 * byte and the length, flag duplicates, and wait 200 ms after the N-th for
 * extra ones: exit 0 only on exactly N good, distinct frames, or (rx) on
 * at least N/2 of them with the port counting the rest as dropped (a
 * kernel ring that overflowed while a loaded machine did not run us).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <unm.h>
#include "../lib/test.h"

#define ETH_TEST 0x88b5
#define MAXF 70000

static unsigned o_len = 60, o_vnet, o_burst, o_gap_us;
static int o_wait_ms = 5000, o_busy, o_loss;
static double o_time;
static const char *o_ready;

static void build(uint8_t *f, uint32_t seq, unsigned len)
{
	for (unsigned k = 0; k < len; k++)
		f[k] = (uint8_t)(seq + k);
	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = ETH_TEST >> 8, f[13] = ETH_TEST & 0xff;
	memcpy(f + 14, "UNMB", 4);
	f[18] = (uint8_t)(seq >> 24), f[19] = (uint8_t)(seq >> 16);
	f[20] = (uint8_t)(seq >> 8), f[21] = (uint8_t)seq;
}

struct rxcount {
	unsigned n;
	unsigned good, bad, dup, other;
	uint8_t *seen;
};

/* Classify one received frame (without vnet header). */
static void check(struct rxcount *c, const uint8_t *f, size_t len)
{
	uint32_t seq;

	if (len < 22 || f[12] != (ETH_TEST >> 8) || f[13] != (ETH_TEST & 0xff) ||
	    memcmp(f + 14, "UNMB", 4) != 0) {
		c->other++;
		return;
	}
	seq = (uint32_t)f[18] << 24 | (uint32_t)f[19] << 16 | (uint32_t)f[20] << 8 | f[21];
	if (len != o_len || seq >= c->n) {
		fprintf(stderr, "bad frame: len %zu (want %u) seq %u\n", len, o_len, seq);
		c->bad++;
		return;
	}
	for (size_t k = 22; k < len; k++)
		if (f[k] != (uint8_t)(seq + k)) {
			fprintf(stderr, "bad frame seq %u: byte %zu is %02x\n", seq, k, f[k]);
			c->bad++;
			return;
		}
	if (c->seen[seq]) {
		c->dup++;
		return;
	}
	c->seen[seq] = 1;
	c->good++;
}

static void ready(void)
{
	if (o_ready) {
		int fd = open(o_ready, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);

		if (fd >= 0)
			close(fd);
	}
}

static int report(const char *what, struct rxcount *c)
{
	printf("%s: good=%u bad=%u dup=%u other=%u (want %u)\n", what, c->good, c->bad,
	       c->dup, c->other, c->n);
	return c->good == c->n && !c->bad && !c->dup ? 0 : 1;
}

static struct unm_port *open_port(const char *name)
{
	struct unm_port *p;
	int rc = unm_open(name, &p, NULL);

	if (rc) {
		fprintf(stderr, "unm_open %s: %s (%s)\n", name, unm_errmsg(), unm_strerror(rc));
		exit(rc == -EPERM || rc == -EACCES ? T_EXIT_SKIP : 1);
	}
	return p;
}

/* Put one frame (vnet header + test frame) into the TX ring from head.
 * Returns 0 if the ring has no room for it. */
static int put_frame(struct unm_ring *r, uint32_t seq)
{
	static uint8_t f[MAXF];
	unsigned total = o_vnet + o_len, need = (total + r->nr_buf_size - 1) / r->nr_buf_size;
	uint32_t i = r->head;

	static uint32_t built = UINT32_MAX;

	if (unm_ring_space(r) < need)
		return 0;
	if (seq != built) { /* rate mode sends seq 0 only: build it once */
		memset(f, 0, o_vnet);
		build(f + o_vnet, seq, o_len);
		built = seq;
	}
	for (unsigned off = 0; off < total;) {
		unsigned n = total - off > r->nr_buf_size ? r->nr_buf_size : total - off;

		memcpy(unm_slot_buf(r, i), f + off, n);
		r->slot[i].len = (uint16_t)n;
		off += n;
		r->slot[i].flags = off < total ? UNM_NS_MOREFRAG : 0;
		i = unm_ring_next(r, i);
	}
	unm_ring_advance(r, i);
	return 1;
}

/* CPU seconds (user + system) used by this process so far. */
static double cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int do_tx(const char *name, unsigned n)
{
	struct unm_port *p = open_port(name);
	struct unm_ring *r = unm_ring_get(p, 1, 0);
	struct unm_port_stats st = { .sz = sizeof(st) };
	double t0 = t_now(), tend = o_time > 0 ? t0 + o_time : 0, c0 = cpu_now();
	uint64_t sent = 0;
	unsigned inburst = 0;
	int rc;

	T_ASSERT(r != NULL);
	ready();
	for (;;) {
		if (tend ? (sent & 63) == 0 && t_now() >= tend : sent >= n)
			break;
		if (put_frame(r, (uint32_t)(tend ? 0 : sent))) {
			sent++;
			if (o_burst && ++inburst == o_burst) {
				inburst = 0;
				if ((rc = unm_txsync(p, 0)) < 0)
					T_FAIL("txsync: %s", unm_strerror(rc));
				usleep(o_gap_us);
			}
			continue;
		}
		rc = unm_wait(p, UNM_WAIT_TX, o_wait_ms);
		if (rc < 0)
			T_FAIL("unm_wait: %s (%s)", unm_strerror(rc), unm_errmsg());
		if (rc == 0)
			T_FAIL("TX ring stuck for %d ms", o_wait_ms);
	}
	/* Flush: every slot handed to the port and completed. */
	for (double tl = t_now() + o_wait_ms / 1000.0; t_now() < tl;) {
		if ((rc = unm_txsync(p, 0)) < 0)
			T_FAIL("txsync: %s (%s)", unm_strerror(rc), unm_errmsg());
		if (!unm_tx_pending(r))
			break;
		usleep(100);
	}
	unm_port_stats(p, &st);
	if (tend) {
		double dt = t_now() - t0;

		printf("tx: frames=%llu drops=%llu time=%.3f pps=%.0f cpu_ns_per_frame=%.0f\n",
		       (unsigned long long)st.tx_frames, (unsigned long long)st.drops, dt,
		       st.tx_frames / dt, (cpu_now() - c0) * 1e9 / (st.tx_frames ? st.tx_frames : 1));
	} else {
		printf("tx: sent=%llu frames=%llu drops=%llu\n", (unsigned long long)sent,
		       (unsigned long long)st.tx_frames, (unsigned long long)st.drops);
	}
	unm_close(p);
	return tend || (st.tx_frames == n && st.drops == 0) ? 0 : 1;
}

/* Consume every complete frame of RX ring r. */
static void drain(struct unm_ring *r, struct rxcount *c, uint64_t *frames)
{
	static uint8_t f[MAXF];
	uint32_t i = r->head;

	while (i != r->tail) {
		size_t len = 0;

		for (;;) {
			struct unm_slot *s = &r->slot[i];

			if (len + s->len <= sizeof(f) && c)
				memcpy(f + len, unm_slot_buf(r, i), s->len);
			len += s->len;
			i = unm_ring_next(r, i);
			if (!(s->flags & UNM_NS_MOREFRAG) || i == r->tail)
				break;
		}
		(*frames)++;
		if (!c)
			continue;
		if (len < o_vnet || len > sizeof(f)) {
			c->bad++;
			continue;
		}
		for (unsigned k = 0; k < o_vnet; k++)
			if (f[k]) {
				fprintf(stderr, "note: vnet header byte %u = %02x\n", k, f[k]);
				break;
			}
		check(c, f + o_vnet, len - o_vnet);
	}
	unm_ring_advance(r, i);
}

static int do_rx(const char *name, unsigned n)
{
	struct unm_port *p = open_port(name);
	unsigned nr = unm_nifp(p)->ni_rx_rings;
	struct rxcount c = { .n = n, .seen = calloc(n + 1, 1) };
	struct unm_port_stats st = { .sz = sizeof(st) };
	double t0, tend, tdone = 0, c0;
	uint64_t frames = 0;
	int rc;

	ready();
	t0 = t_now();
	c0 = cpu_now();
	tend = t0 + (o_time > 0 ? o_time : o_wait_ms / 1000.0);
	while (t_now() < tend) {
		rc = unm_wait(p, UNM_WAIT_RX, 50);
		if (rc < 0 && rc != -EINTR) /* EINTR: SIGSTOP/SIGCONT (the -L test) */
			T_FAIL("unm_wait: %s (%s)", unm_strerror(rc), unm_errmsg());
		for (unsigned i = 0; i < nr; i++) {
			struct unm_ring *r = unm_ring_get(p, 0, i);

			if (r)
				drain(r, o_time > 0 ? NULL : &c, &frames);
		}
		unm_port_stats(p, &st);
		if (o_time <= 0 && c.good + c.bad + st.drops >= n && !tdone)
			tdone = t_now() + 0.2; /* then watch for extras */
		if (tdone && t_now() >= tdone)
			break;
	}
	if (o_time > 0) {
		double dt = t_now() - t0;

		printf("rx: frames=%llu time=%.3f pps=%.0f cpu_ns_per_frame=%.0f\n",
		       (unsigned long long)frames, dt, frames / dt,
		       (cpu_now() - c0) * 1e9 / (frames ? frames : 1));
		unm_close(p);
		return 0;
	}
	unm_port_stats(p, &st);
	unm_close(p);
	rc = report("rx", &c);
	/* A port may lose frames the kernel never gave it (an AF_PACKET ring
	 * full while a loaded machine did not run us): fine if it counted
	 * every one of them and most frames came through intact. */
	if (o_loss) {
		rc = st.drops && c.good + st.drops == c.n && !c.bad && !c.dup ? 0 : 1;
		printf("rx: %u good + %llu counted as dropped by the port (want %u, drops > 0)\n",
		       c.good, (unsigned long long)st.drops, c.n);
	} else if (rc && st.drops && c.good + st.drops == c.n && !c.bad && !c.dup &&
		   c.good >= c.n / 2) {
		printf("rx: the port counted the other %llu as dropped: every frame accounted\n",
		       (unsigned long long)st.drops);
		rc = 0;
	} else if (rc) {
		printf("rx: the port counted %llu drops\n", (unsigned long long)st.drops);
	}
	free(c.seen);
	return rc;
}

static int raw_socket(const char *ifname, uint16_t proto)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(proto) };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(proto));

	if (fd < 0) {
		printf("SKIP: AF_PACKET socket: %s\n", strerror(errno));
		exit(T_EXIT_SKIP);
	}
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex)
		T_FAIL("no interface %s", ifname);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		T_FAIL("bind %s: %s", ifname, strerror(errno));
	/* A loaded machine may not run us for a while: room for the whole
	 * burst, so a count mismatch is the port's, not this socket's. */
	int rcvbuf = 32 << 20;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return fd;
}

static int do_rawtx(const char *ifname, unsigned n)
{
	uint8_t f[MAXF];
	int fd = raw_socket(ifname, 0);

	for (unsigned i = 0; i < n;) {
		build(f, i, o_len);
		if (send(fd, f, o_len, 0) < 0) {
			if (errno == ENOBUFS || errno == EAGAIN) {
				usleep(1000);
				continue;
			}
			T_FAIL("send: %s", strerror(errno));
		}
		i++;
		if (o_burst && i % o_burst == 0)
			usleep(o_gap_us);
	}
	printf("rawtx: sent=%u\n", n);
	close(fd);
	return 0;
}

static int do_rawrx(const char *ifname, unsigned n)
{
	static uint8_t f[MAXF];
	struct rxcount c = { .n = n, .seen = calloc(n + 1, 1) };
	int fd = raw_socket(ifname, ETH_TEST);
	double tend, tdone = 0;

	ready();
	tend = t_now() + o_wait_ms / 1000.0;
	while (t_now() < tend && !(tdone && t_now() >= tdone)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t len;

		if (poll(&pfd, 1, 20) <= 0)
			continue;
		len = recv(fd, f, sizeof(f), MSG_DONTWAIT);
		if (len < 0)
			continue;
		check(&c, f, (size_t)len);
		if (c.good + c.bad >= n && !tdone)
			tdone = t_now() + 0.2;
	}
	close(fd);
	int rc = report("rawrx", &c);

	free(c.seen);
	return rc;
}

/* Sync until a sync fails (the interface is deleted under us). */
static int do_hold(const char *name)
{
	struct unm_port *p = open_port(name);
	double tend = t_now() + o_wait_ms / 1000.0;
	int rc = 0;

	ready();
	while (t_now() < tend) {
		if (o_busy) {
			rc = unm_rxsync(p, UNM_RING_ALL);
			struct unm_ring *r = unm_ring_get(p, 0, 0);

			if (r)
				unm_ring_advance(r, r->tail);
		} else {
			rc = unm_wait(p, UNM_WAIT_RX, 100);
			if (rc > 0) {
				struct unm_ring *r = unm_ring_get(p, 0, 0);

				unm_ring_advance(r, r->tail);
				rc = 0;
			}
		}
		if (rc < 0)
			break;
	}
	printf("hold: rc=%d (%s) msg='%s'\n", rc, rc ? unm_strerror(rc) : "none", unm_errmsg());
	if (rc < 0) {
		int rc2 = unm_txsync(p, UNM_RING_ALL);

		printf("hold: txsync after error: %d\n", rc2);
		if (rc2 >= 0)
			rc = 0;
	}
	unm_close(p);
	return rc == -ENXIO || rc == -ENODEV || rc == -ENETDOWN ? 0 : 1;
}

/* No arguments: check the helper itself on the null port. */
static int self_test(void)
{
	struct unm_port *p;
	int rc;

	t_watchdog(30);
	o_len = 3000; /* chains of two 2048-byte slots */
	T_ASSERT_EQ(do_tx("null", 1000), 0);
	o_len = 60;
	rc = unm_open("afpacket:unmnosuch0", &p, NULL);
	printf("afpacket:unmnosuch0 -> %d '%s'\n", rc, unm_errmsg());
	T_ASSERT(rc < 0);
	T_ASSERT(strstr(unm_errmsg(), "afpacket: no interface 'unmnosuch0'") ||
		 strstr(unm_errmsg(), "needs CAP_NET_RAW"));
	/* a virtio-net header carries the socket's offload state */
	rc = unm_open("afpacket:lo@conf:vnet=10", &p, NULL);
	printf("afpacket:lo@conf:vnet=10 -> %d '%s'\n", rc, unm_errmsg());
	if (rc == 0)
		unm_close(p);
	else
		T_ASSERT(strstr(unm_errmsg(), "needs CAP_NET_RAW"));
	printf("ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	int opt;

	if (argc < 2)
		return self_test();
	optind = 2;
	while ((opt = getopt(argc, argv, "l:v:w:r:t:b:g:pL")) != -1) {
		switch (opt) {
		case 'l': o_len = (unsigned)atoi(optarg); break;
		case 'v': o_vnet = (unsigned)atoi(optarg); break;
		case 'w': o_wait_ms = atoi(optarg); break;
		case 'r': o_ready = optarg; break;
		case 't': o_time = atof(optarg); break;
		case 'b': o_burst = (unsigned)atoi(optarg); break;
		case 'g': o_gap_us = (unsigned)atoi(optarg); break;
		case 'p': o_busy = 1; break;
		case 'L': o_loss = 1; break;
		default: fprintf(stderr, "bad option\n"); return 2;
		}
	}
	if (o_len < 22 || o_len > 65000) {
		fprintf(stderr, "-l: 22..65000\n");
		return 2;
	}
	const char *cmd = argv[1], *arg = optind < argc ? argv[optind] : NULL;
	unsigned n = optind + 1 < argc ? (unsigned)strtoul(argv[optind + 1], NULL, 0) : 0;

	t_watchdog((unsigned)(o_wait_ms / 1000 + o_time + 20));
	if (!arg) {
		fprintf(stderr, "usage: see the header of tests/mp/backend-burst.c\n");
		return 2;
	}
	if (!strcmp(cmd, "tx"))
		return do_tx(arg, n);
	if (!strcmp(cmd, "rx"))
		return do_rx(arg, n);
	if (!strcmp(cmd, "rawtx"))
		return do_rawtx(arg, n);
	if (!strcmp(cmd, "rawrx"))
		return do_rawrx(arg, n);
	if (!strcmp(cmd, "hold"))
		return do_hold(arg);
	fprintf(stderr, "unknown command %s\n", cmd);
	return 2;
}
