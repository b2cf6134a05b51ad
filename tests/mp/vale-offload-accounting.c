// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: exact accounting for ports with a virtio-net header. Every
 * port must keep tx_frames + tx_extra_copies == tx_delivered + drops (all
 * reasons), and the per-reason vnet drops must sum to drops[bad_vnet].
 * Crafted batches (each published with a single txsync, so the switch
 * takes them as one batch) from a vnet=12 port X and a header-less port P:
 *  1. a unicast to an errored persistent port V (its MAC still learned)
 *     and a broadcast in the same batch: the flood must not be counted
 *     on V (it was left out of tx_extra_copies) - the unm-hostile-switch "hv"
 *     mismatch;
 *  2. bad headers (unknown flag, frame shorter than header + Ethernet)
 *     as broadcast and unicast: one bad_vnet each, by reason;
 *  3. a TCP GSO broadcast that two destinations segment (no header) and
 *     one takes whole (a 64 x 512-byte chain holds it): one copy each;
 *  4. a GSO unicast whose destination W has a bad RX buffer index in the
 *     middle of the segments, followed by a broadcast: one dst_err for
 *     the segmented copy (nothing delivered), one for W's flood copy;
 *  5. a 65-slot MOREFRAG chain and a chain one byte over the limit,
 *     both with a bad header (too_long only), and frames at the limit:
 *     UNM_MAX_FRAME bytes after the header are accepted (delivered to P,
 *     no_room for Z's 64 x 512-byte chains), one byte more is too_long.
 * Each step checks the exact deltas and the identity on X and P.
 */
#include <errno.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"

#define HL      12
#define PAYLOAD 4000
#define MSS     1000
#define NSEGS   ((PAYLOAD + MSS - 1) / MSS)

static uint8_t fb[8][70000], r[70000];
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

enum { ID_X = 1, ID_P, ID_Y, ID_Z, ID_V, ID_W };

struct acct {
	struct unm_ctl_port_info pi;
	struct unm_ctl_offload_info oi;
	uint64_t drops, vnet_drops;
};

/* Counters of NAME, with the identities checked. */
static struct acct get_acct(const char *name)
{
	struct acct a;

	memset(&a, 0, sizeof(a));
	T_ASSERT_EQ(t_port_info(name, &a.pi), 0);
	T_ASSERT_EQ(t_port_offload(name, &a.oi), 0);
	for (unsigned i = 0; i < UNM_DROP__COUNT; i++)
		a.drops += a.pi.drops[i];
	for (unsigned i = 0; i < UNM_CTL_VNET_DROPS; i++)
		a.vnet_drops += a.oi.vnet_drops[i];
	if (a.pi.tx_frames + a.pi.tx_extra_copies != a.pi.tx_delivered + a.drops)
		T_FAIL("%s: tx %llu + extra %llu != delivered %llu + drops %llu", name,
		       (unsigned long long)a.pi.tx_frames, (unsigned long long)a.pi.tx_extra_copies,
		       (unsigned long long)a.pi.tx_delivered, (unsigned long long)a.drops);
	T_ASSERT_EQ(a.vnet_drops, a.pi.drops[UNM_DROP_BAD_VNET]);
	return a;
}

/* Wait until NAME's switch port has taken TX frames up to TOTAL. */
static void wait_tx(const char *name, uint64_t total)
{
	double end = t_now() + 5;
	struct unm_ctl_port_info pi;

	do {
		T_ASSERT_EQ(t_port_info(name, &pi), 0);
		if (pi.tx_frames >= total)
			break;
		usleep(2000);
	} while (t_now() < end);
	T_ASSERT_EQ(pi.tx_frames, total);
}

/* Wait until NAME's flags & MASK == WANT. */
static void wait_flags(const char *name, uint32_t mask, uint32_t want)
{
	double end = t_now() + 5;
	struct unm_ctl_port_info pi;

	do {
		T_ASSERT_EQ(t_port_info(name, &pi), 0);
		if ((pi.flags & mask) == want)
			return;
		usleep(2000);
	} while (t_now() < end);
	T_FAIL("%s: flags 0x%x, want 0x%x in 0x%x", name, (unsigned)pi.flags, want, mask);
}

/*
 * Publish N frames on TX ring 0 of P with ONE txsync. Frame i is LEN[i]
 * bytes of FB[i], cut into SEG[i]-byte slots (0: the buffer size); a
 * frame of NSL[i] > 0 slots is instead NSL[i] slots of 60 bytes each.
 */
static void post(struct unm_port *p, unsigned n, const size_t *len, const unsigned *seg,
		 const unsigned *nsl)
{
	struct unm_ring *t = unm_ring_get(p, 1, 0);
	uint32_t h = t->head;

	T_ASSERT(t != NULL);
	for (unsigned i = 0; i < n; i++) {
		size_t off = 0, step = seg && seg[i] ? seg[i] : t->nr_buf_size;
		unsigned k = 0, slots = nsl && nsl[i] ? nsl[i] : 0;

		do {
			struct unm_slot *s = &t->slot[h];
			size_t c = slots ? 60 : len[i] - off < step ? len[i] - off : step;

			T_ASSERT(h != t->tail);
			memcpy(unm_buf(t, s->buf_idx), fb[i] + (slots ? 0 : off), c);
			s->len = (uint16_t)c;
			off += c;
			k++;
			s->flags = (slots ? k < slots : off < len[i]) ? UNM_NS_MOREFRAG : 0;
			h = unm_ring_next(t, h);
		} while (slots ? k < slots : off < len[i]);
	}
	t->head = t->cur = h;
	T_ASSERT_EQ(unm_txsync(p, 0), 0);
}

static void drain(struct unm_port *p)
{
	while (t_recv(p, r, sizeof(r), 100) > 0)
		;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* vnet header + TCP/IPv4 GSO frame of PAYLOAD bytes to DST (checksums
 * left for the switch: partial pseudo-header sum is not needed for the
 * counting this test does). */
static size_t tcp_gso(uint8_t *b, const uint8_t dst[6])
{
	uint8_t *e = b + HL, *ip = e + 14, *t = ip + 20;

	memset(b, 0, HL + 54);
	b[0] = 1;                  /* NEEDS_CSUM */
	b[1] = 1;                  /* TCPV4 */
	b[2] = 54;                 /* hdr_len */
	b[4] = MSS & 0xff, b[5] = MSS >> 8;
	b[6] = 34;                 /* csum_start */
	b[8] = 16;                 /* csum_offset */
	memcpy(e, dst, 6);
	t_mac(e + 6, ID_X);
	put16(e + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, 20 + 20 + PAYLOAD);
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 6;
	ip[12] = 10, ip[15] = 1, ip[16] = 10, ip[19] = 2;
	put16(t, 1000);
	put16(t + 2, 2000);
	t[12] = 5 << 4;
	t[13] = 0x18;
	for (size_t i = 0; i < PAYLOAD; i++)
		t[20 + i] = (uint8_t)i;
	return HL + 54 + PAYLOAD;
}

/* A plain frame of LEN bytes (after a zero HL-byte header if HL). */
static size_t plain(uint8_t *b, unsigned hl, size_t len, const uint8_t dst[6], unsigned src)
{
	memset(b, 0, hl);
	if (len <= 1500)
		return hl + t_frame(b + hl, len, dst, src, 7);
	memset(b + hl, 0x5a, len);
	memcpy(b + hl, dst, 6);
	t_mac(b + hl + 6, src);
	put16(b + hl + 12, 0x0800);
	return hl + len;
}

static void hello(struct unm_port *p, unsigned id, unsigned hl)
{
	size_t len = plain(fb[0], hl, 60, bcast, id);

	T_ASSERT_EQ(t_send(p, fb[0], len, 1000), 0);
}

#define D(f) ((long long)(a1.f - a0.f))

int main(void)
{
	struct unm_port *x, *p, *y, *z, *v, *w;
	struct unm_ring *wr;
	struct acct a0, a1;
	uint8_t mv[6], mw[6], mx[6], my[6], mz[6];
	size_t len[8];
	unsigned nsl[8], seg[8];
	pid_t dmn;
	long n;

	t_watchdog(40);
	dmn = t_unmd_start(NULL);
	x = t_open("vale0:x@conf:vnet=12");
	p = t_open("vale0:p");
	y = t_open("vale0:y");
	z = t_open("vale0:z@conf:vnet=12,bufsize=512,slots=256");
	T_ASSERT_EQ(t_ctl(UNM_CTL_PORT_ADD, "vale0:v@conf:vnet=12", NULL, 0), 0);
	v = t_open("vale0:v");
	t_mac(mv, ID_V), t_mac(mw, ID_W), t_mac(mx, ID_X), t_mac(my, ID_Y), t_mac(mz, ID_Z);
	hello(x, ID_X, HL), hello(p, ID_P, 0), hello(y, ID_Y, 0), hello(z, ID_Z, HL);
	hello(v, ID_V, HL);
	drain(x), drain(p), drain(y), drain(z), drain(v);

	/* V errored: every RX buffer index bad, then a unicast from P */
	wr = unm_ring_get(v, 0, 0);
	for (uint32_t i = 0; i < wr->num_slots; i++)
		wr->slot[i].buf_idx = 0;
	a0 = get_acct("vale0:p");
	len[0] = plain(fb[0], 0, 60, mv, ID_P);
	post(p, 1, len, NULL, NULL);
	wait_tx("vale0:p", a0.pi.tx_frames + 1);
	a1 = get_acct("vale0:p");
	T_ASSERT_EQ(D(pi.drops[UNM_DROP_DST_ERR]), 1);
	/* unmd cuts the client off; the persistent port gets a fresh region
	 * (our mapping is no longer its) but stays errored, with no client,
	 * until someone opens it again */
	unm_close(v);
	wait_flags("vale0:v", UNM_CTL_PORT_CLIENT | UNM_CTL_PORT_ERRORED, UNM_CTL_PORT_ERRORED);

	/* 1. unicast to errored V + broadcast, one batch, from X then from P.
	 * Flood receivers: the 3 live ports other than the source. */
	for (int src = 0; src < 2; src++) {
		const char *name = src ? "vale0:p" : "vale0:x";
		unsigned hl = src ? 0 : HL, id = src ? ID_P : ID_X;

		a0 = get_acct(name);
		len[0] = plain(fb[0], hl, 60, mv, id);
		len[1] = plain(fb[1], hl, 60, bcast, id);
		post(src ? p : x, 2, len, NULL, NULL);
		wait_tx(name, a0.pi.tx_frames + 2);
		a1 = get_acct(name);
		printf("1.%d %s: tx %lld extra %lld delivered %lld dst_err %lld\n", src, name,
		       D(pi.tx_frames), D(pi.tx_extra_copies), D(pi.tx_delivered),
		       D(pi.drops[UNM_DROP_DST_ERR]));
		T_ASSERT_EQ(D(pi.tx_extra_copies), 2);
		T_ASSERT_EQ(D(pi.tx_delivered), 3);
		T_ASSERT_EQ(D(pi.drops[UNM_DROP_DST_ERR]), 1);
		T_ASSERT_EQ(D(drops), 1);
		drain(x), drain(p), drain(y), drain(z);
	}

	/* 2. bad headers: unknown flag (broadcast, unicast), too short for
	 * header + Ethernet */
	a0 = get_acct("vale0:x");
	len[0] = plain(fb[0], HL, 60, bcast, ID_X);
	len[1] = plain(fb[1], HL, 60, my, ID_X);
	fb[0][0] = fb[1][0] = 0x80;
	len[2] = plain(fb[2], HL, 60, my, ID_X);
	len[2] = HL + 13;
	post(x, 3, len, NULL, NULL);
	wait_tx("vale0:x", a0.pi.tx_frames + 3);
	a1 = get_acct("vale0:x");
	T_ASSERT_EQ(D(pi.drops[UNM_DROP_BAD_VNET]), 3);
	T_ASSERT_EQ(D(drops), 3);
	T_ASSERT_EQ(D(pi.tx_delivered) + D(pi.tx_extra_copies), 0);
	T_ASSERT_EQ(D(oi.vnet_drops[2]), 2); /* "flags" */
	T_ASSERT_EQ(D(oi.vnet_drops[9]), 1); /* "short" */

	/* 3. GSO broadcast: P and Y (no header) segment, Z takes it whole */
	a0 = get_acct("vale0:x");
	len[0] = tcp_gso(fb[0], bcast);
	post(x, 1, len, NULL, NULL);
	wait_tx("vale0:x", a0.pi.tx_frames + 1);
	a1 = get_acct("vale0:x");
	T_ASSERT_EQ(D(pi.tx_extra_copies), 2);
	T_ASSERT_EQ(D(pi.tx_delivered), 3);
	T_ASSERT_EQ(D(drops), 0);
	T_ASSERT_EQ(D(oi.gso_in), 1);
	T_ASSERT_EQ(D(oi.segmented), 2);
	T_ASSERT_EQ(D(oi.segments_out), 2 * NSEGS);
	for (unsigned k = 0; k < NSEGS; k++)
		T_ASSERT_EQ(t_recv(y, r, sizeof(r), 1000), 54 + MSS);
	T_ASSERT_EQ(t_recv(z, r, sizeof(r), 1000), (long)len[0]);
	drain(p), drain(y), drain(z);

	/* 4. segmentation into W fails at its third RX slot */
	w = t_open("vale0:w");
	hello(w, ID_W, 0);
	drain(x), drain(p), drain(y), drain(z), drain(w);
	wr = unm_ring_get(w, 0, 0);
	T_ASSERT_EQ(unm_rxsync(w, 0), 0);
	T_ASSERT(unm_ring_empty(wr));
	wr->slot[(wr->tail + 2) % wr->num_slots].buf_idx = 0;
	a0 = get_acct("vale0:x");
	len[0] = tcp_gso(fb[0], mw);
	len[1] = plain(fb[1], HL, 60, bcast, ID_X);
	post(x, 2, len, NULL, NULL);
	wait_tx("vale0:x", a0.pi.tx_frames + 2);
	a1 = get_acct("vale0:x");
	printf("4 vale0:x: tx %lld extra %lld delivered %lld dst_err %lld segmented %lld\n",
	       D(pi.tx_frames), D(pi.tx_extra_copies), D(pi.tx_delivered),
	       D(pi.drops[UNM_DROP_DST_ERR]), D(oi.segmented));
	T_ASSERT_EQ(D(pi.tx_extra_copies), 3);   /* P, Y, Z, W live at the start */
	T_ASSERT_EQ(D(pi.tx_delivered), 3);      /* the broadcast to P, Y, Z */
	T_ASSERT_EQ(D(pi.drops[UNM_DROP_DST_ERR]), 2);
	T_ASSERT_EQ(D(drops), 2);
	T_ASSERT_EQ(D(oi.segmented), 0);
	T_ASSERT_EQ(D(oi.segments_out), 0);
	n = t_recv(w, r, sizeof(r), 200);
	T_ASSERT(n <= 0); /* nothing published to W; the client is cut off */
	unm_close(w);
	drain(p), drain(y), drain(z);

	/* 5. over-long chains and the length limit (header not counted) */
	a0 = get_acct("vale0:x");
	memset(nsl, 0, sizeof(nsl));
	memset(seg, 0, sizeof(seg));
	len[0] = plain(fb[0], HL, 60, my, ID_X);
	fb[0][0] = 0x80;                       /* bad header, but too_long first */
	nsl[0] = UNM_MAX_FRAGS + 1;
	len[1] = plain(fb[1], HL, UNM_MAX_FRAME + 1, my, ID_X);
	fb[1][0] = 0x80;                       /* bad header, too long by one byte */
	len[2] = plain(fb[2], HL, UNM_MAX_FRAME, my, ID_X);
	len[3] = plain(fb[3], HL, UNM_MAX_FRAME + 1, my, ID_X);
	len[4] = plain(fb[4], HL, UNM_MAX_FRAME, mz, ID_X);
	post(x, 5, len, seg, nsl);
	wait_tx("vale0:x", a0.pi.tx_frames + 5);
	a1 = get_acct("vale0:x");
	printf("5 vale0:x: too_long %lld bad_vnet %lld no_room %lld delivered %lld\n",
	       D(pi.drops[UNM_DROP_TOO_LONG]), D(pi.drops[UNM_DROP_BAD_VNET]),
	       D(pi.drops[UNM_DROP_NO_ROOM]), D(pi.tx_delivered));
	T_ASSERT_EQ(D(pi.drops[UNM_DROP_TOO_LONG]), 3);
	T_ASSERT_EQ(D(pi.drops[UNM_DROP_BAD_VNET]), 0);
	T_ASSERT_EQ(D(pi.drops[UNM_DROP_NO_ROOM]), 1);
	T_ASSERT_EQ(D(pi.tx_delivered), 1);
	T_ASSERT_EQ(D(drops), 4);
	T_ASSERT_EQ(t_recv(y, r, sizeof(r), 1000), UNM_MAX_FRAME);
	T_ASSERT(!memcmp(r, fb[2] + HL, UNM_MAX_FRAME));

	/* and the reverse: UNM_MAX_FRAME bytes from P reach X behind a zero header */
	a0 = get_acct("vale0:p");
	len[0] = plain(fb[0], 0, UNM_MAX_FRAME, mx, ID_P);
	post(p, 1, len, NULL, NULL);
	wait_tx("vale0:p", a0.pi.tx_frames + 1);
	a1 = get_acct("vale0:p");
	T_ASSERT_EQ(D(pi.tx_delivered), 1);
	T_ASSERT_EQ(t_recv(x, r, sizeof(r), 1000), HL + UNM_MAX_FRAME);

	get_acct("vale0:x"), get_acct("vale0:p"), get_acct("vale0:y"), get_acct("vale0:z");
	get_acct("vale0:v");
	unm_close(x), unm_close(p), unm_close(y), unm_close(z);
	T_ASSERT_EQ(t_unmd_stop(dmn), 0);
	printf("ok\n");
	return 0;
}
