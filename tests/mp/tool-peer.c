// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: traffic helper for the unm-capture and unm-bridge tests
 * (tests/mp/capture-*.sh, bridge-*.sh), and its own self-test when run
 * with no arguments (as make check does): both ends of a pipe in one
 * process, a mixed stream with MOREFRAG chains sent and verified.
 *
 *   tool-peer send PORT [-n N] [-l MAXLEN] [-m] [-x]
 *       send N frames (sequence-numbered Ethernet/IPv4 frames; lengths
 *       cycle from 64 to MAXLEN, longer than a buffer = MOREFRAG chain);
 *       -m mixes UDP port 9, UDP port 10 and TCP port 9; prints
 *       "frames=N bytes=B udp9=K" (B = sum of frame lengths, K = frames
 *       that "udp port 9" matches); -x then keeps the port open until the
 *       peer closes (pipes: a capture that joins late still gets them);
 *       -H LEN puts LEN zero bytes (a virtio-net header) before each frame.
 *   tool-peer duplex PORT [-n N] [-l MAXLEN] [-g MS]
 *       send N frames and receive N frames at the same time, checking
 *       that every received frame is the next in sequence, with the
 *       right length and content (through a bridge from another peer);
 *       -g pauses MS milliseconds once half the frames have been sent and
 *       received (an idle gap in the middle of the stream).
 *
 * Exit 0 on success, 1 on failure. Every run has a watchdog.
 */
#include <errno.h>
#include <getopt.h>
#include "pipe-common.h"

struct peer {
	struct unm_port *p;
	uint32_t nbufs, buf_size;
	uint64_t n;
	unsigned maxlen;
	int mix;
	unsigned vhl;                  /* -H: zero virtio-net header before each frame */
	unsigned gap_ms;               /* -g: pause at half way (duplex) */
	uint64_t sent, bytes, udp9, rcvd;
	uint8_t frame[UNM_MAX_FRAME + 13], asm_buf[UNM_MAX_FRAME + 1];
};

static unsigned frame_len(uint64_t seq, unsigned maxlen)
{
	return maxlen <= 64 ? 64 : 64 + (unsigned)((seq * 7919) % (maxlen - 63));
}

static void be16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Frame SEQ: Ethernet + IPv4 + UDP/TCP + seq + pattern. Returns kind:
 * 0 = UDP port 9, 1 = UDP port 10, 2 = TCP port 9. */
static int build(uint8_t *f, uint64_t seq, unsigned len, int mix)
{
	int kind = mix ? (int)(seq % 3) : 0;
	unsigned l4 = kind == 2 ? 20 : 8, sum = 0;

	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	be16(f + 12, 0x0800);
	f[14] = 0x45, f[15] = 0;
	be16(f + 16, len - 14);
	be16(f + 18, (unsigned)seq), be16(f + 20, 0);
	f[22] = 64, f[23] = kind == 2 ? 6 : 17;
	be16(f + 24, 0);
	memcpy(f + 26, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	for (int i = 14; i < 34; i += 2)
		sum += (unsigned)f[i] << 8 | f[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	be16(f + 24, ~sum & 0xffff);
	memset(f + 34, 0, l4);
	be16(f + 34, 1234);
	be16(f + 36, kind == 1 ? 10 : 9);
	if (kind == 2)
		f[46] = 0x50; /* data offset 5 words */
	else
		be16(f + 38, len - 34);
	unsigned off = 34 + l4;

	if (len >= off + 8) {
		memcpy(f + off, &seq, 8);
		for (unsigned k = off + 8; k < len; k++)
			f[k] = (uint8_t)(seq * 31 + k);
	}
	return kind;
}

/* Queue frames until the TX rings are full or LIMIT are sent. Returns 0 or -errno. */
static int send_some_upto(struct peer *pr, uint64_t limit)
{
	while (pr->sent < limit) {
		unsigned len = frame_len(pr->sent, pr->maxlen);
		int kind = build(pr->frame + pr->vhl, pr->sent, len, pr->mix), rc;

		memset(pr->frame, 0, pr->vhl);
		rc = unm_inject(pr->p, pr->frame, len + pr->vhl);
		if (rc == 0)
			break;
		if (rc < 0)
			return rc;
		pr->bytes += len;
		pr->udp9 += kind == 0;
		pr->sent++;
	}
	int rc = unm_txsync(pr->p, UNM_RING_ALL);

	return rc == -EINVAL ? 0 : rc;
}

static int send_some(struct peer *pr)
{
	return send_some_upto(pr, pr->n);
}

/* Check one received frame against the expected sequence. */
static int check_frame(struct peer *pr, const uint8_t *f, unsigned len)
{
	unsigned want = frame_len(pr->rcvd, pr->maxlen);

	build(pr->frame, pr->rcvd, want, pr->mix);
	if (len != want || memcmp(f, pr->frame, len)) {
		uint64_t got = 0;

		if (len >= 50)
			memcpy(&got, f + 42, 8);
		printf("frame %llu: len %u (want %u), carries seq %llu\n",
		       (unsigned long long)pr->rcvd, len, want, (unsigned long long)got);
		return -1;
	}
	pr->rcvd++;
	return 0;
}

/* Receive every complete frame (chains reassembled). Returns frames or -errno. */
static int recv_some(struct peer *pr)
{
	struct unm_port_info info = { .sz = sizeof(info) };
	int rc = unm_rxsync(pr->p, UNM_RING_ALL), got = 0;

	if (rc < 0 && rc != -EPIPE)
		return rc;
	unm_port_info(pr->p, &info);
	for (unsigned ri = info.first_rx; ri < info.last_rx; ri++) {
		struct unm_ring *r = unm_ring_get(pr->p, 0, ri);
		uint32_t i = r->head;

		while (i != r->tail) {
			uint32_t j = i, total = 0;
			int complete = 0;

			do {
				struct unm_slot *s = &r->slot[j];

				if (s->buf_idx < 2 || s->buf_idx >= pr->nbufs ||
				    total + s->len > UNM_MAX_FRAME)
					return -EBADMSG;
				memcpy(pr->asm_buf + total, unm_buf(r, s->buf_idx), s->len);
				total += s->len;
				j = unm_ring_next(r, j);
				complete = !(s->flags & UNM_NS_MOREFRAG);
			} while (!complete && j != r->tail);
			if (!complete)
				break;
			if (check_frame(pr, pr->asm_buf, total))
				return -EBADMSG;
			got++;
			i = j;
		}
		r->head = i;
		r->cur = i == r->tail ? i : r->tail;
	}
	if (got)
		unm_rxsync(pr->p, UNM_RING_ALL);
	return got ? got : (rc == -EPIPE ? -EPIPE : 0);
}

/* Slots queued on a TX ring but not yet taken by the port (peer full). */
static int tx_pending(struct peer *pr)
{
	struct unm_port_info info = { .sz = sizeof(info) };

	unm_port_info(pr->p, &info);
	for (unsigned i = info.first_tx; i < info.last_tx; i++)
		if (unm_tx_pending(unm_ring_get(pr->p, 1, i)))
			return 1;
	return 0;
}

static int do_send(struct peer *pr, int linger)
{
	int rc;

	while (pr->sent < pr->n || tx_pending(pr)) {
		rc = send_some(pr);
		if (rc < 0) {
			printf("send: %s after %llu frames\n", unm_strerror(rc),
			       (unsigned long long)pr->sent);
			return 1;
		}
		if ((pr->sent < pr->n || tx_pending(pr)) &&
		    (rc = unm_wait(pr->p, UNM_WAIT_TX, 100)) < 0) {
			printf("wait: %s\n", unm_strerror(rc));
			return 1;
		}
	}
	printf("frames=%llu bytes=%llu udp9=%llu\n", (unsigned long long)pr->sent,
	       (unsigned long long)pr->bytes, (unsigned long long)pr->udp9);
	fflush(stdout);
	for (double end = t_now() + 30; linger && t_now() < end;)
		if (unm_txsync(pr->p, UNM_RING_ALL) == -EPIPE)
			break;
		else
			usleep(2000);
	return 0;
}

static int do_duplex(struct peer *pr)
{
	uint64_t limit = pr->gap_ms ? pr->n / 2 : pr->n;

	while (pr->sent < pr->n || pr->rcvd < pr->n || tx_pending(pr)) {
		int rc, got;

		if (limit < pr->n && pr->sent >= limit && pr->rcvd >= limit && !tx_pending(pr)) {
			usleep(pr->gap_ms * 1000u); /* both ways drained: idle gap */
			limit = pr->n;
		}
		rc = pr->sent < limit || tx_pending(pr) ? send_some_upto(pr, limit) : 0;

		if (rc < 0) {
			printf("send: %s after %llu frames\n", unm_strerror(rc),
			       (unsigned long long)pr->sent);
			return 1;
		}
		got = recv_some(pr);
		if (got < 0) {
			printf("recv: %s after %llu frames\n", unm_strerror(got),
			       (unsigned long long)pr->rcvd);
			return 1;
		}
		if (!got)
			unm_wait(pr->p, UNM_WAIT_RX | (pr->sent < pr->n || tx_pending(pr) ?
							UNM_WAIT_TX : 0), 10);
	}
	printf("sent=%llu received=%llu\n", (unsigned long long)pr->sent,
	       (unsigned long long)pr->rcvd);
	return 0;
}

static void peer_init(struct peer *pr, struct unm_port *p)
{
	struct unm_port_info info = { .sz = sizeof(info) };

	unm_port_info(p, &info);
	pr->p = p;
	pr->nbufs = info.buf_count;
	pr->buf_size = info.buf_size;
}

/* No arguments: both ends of a pipe here, 3000 mixed frames up to 5000 B. */
static int self_test(void)
{
	static struct peer a, b;
	struct unm_port *pa, *pb;
	char na[64], nb[64];

	snprintf(na, sizeof(na), "%s{0", t_uniq("toolpeer"));
	snprintf(nb, sizeof(nb), "%s}0", t_uniq("toolpeer"));
	T_ASSERT_EQ(unm_open(na, &pa, NULL), 0);
	T_ASSERT_EQ(unm_open(nb, &pb, NULL), 0);
	peer_init(&a, pa);
	peer_init(&b, pb);
	a.n = b.n = 3000;
	a.maxlen = b.maxlen = 5000;
	a.mix = b.mix = 1;
	while (b.rcvd < b.n) {
		T_ASSERT(send_some(&a) == 0);
		T_ASSERT(recv_some(&b) >= 0);
	}
	T_ASSERT_EQ(a.sent, 3000);
	T_ASSERT_EQ(a.udp9, 1000);
	unm_close(pa);
	unm_close(pb);
	printf("self-test: 3000 frames, chains included, received in order\n");
	return 0;
}

int main(int argc, char **argv)
{
	static struct peer pr;
	struct unm_port *p;
	int opt, linger = 0, rc;

	/* own process group: the watchdog kills the group, not the calling test */
	setpgid(0, 0);
	t_watchdog(50);
	if (argc < 2)
		return self_test();
	if (argc < 3) {
		fprintf(stderr, "usage: tool-peer send|duplex PORT [-n N] [-l MAXLEN] [-m] [-x] [-g MS]\n");
		return 2;
	}
	pr.n = 1000;
	pr.maxlen = 64;
	optind = 3;
	while ((opt = getopt(argc, argv, "n:l:mxH:g:")) != -1) {
		switch (opt) {
		case 'n': pr.n = strtoull(optarg, NULL, 0); break;
		case 'l': pr.maxlen = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'm': pr.mix = 1; break;
		case 'x': linger = 1; break;
		case 'g': pr.gap_ms = (unsigned)strtoul(optarg, NULL, 0) % 20000u; break;
		case 'H': pr.vhl = (unsigned)strtoul(optarg, NULL, 0) > 12 ? 12 :
				   (unsigned)strtoul(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	if (pr.maxlen > UNM_MAX_FRAME - 12)
		pr.maxlen = UNM_MAX_FRAME - 12;
	rc = unm_open(argv[2], &p, NULL);
	if (rc) {
		printf("open %s: %s\n", argv[2], unm_errmsg());
		return 1;
	}
	peer_init(&pr, p);
	if (!strcmp(argv[1], "send"))
		rc = do_send(&pr, linger);
	else if (!strcmp(argv[1], "duplex"))
		rc = do_duplex(&pr);
	else
		rc = 2;
	unm_close(p);
	return rc;
}
