// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: libunm-virtif, the rump kernel virtif backend, against a
 * FAKE rump kernel (this program): it provides rump_virtif_unm_deliverpkt
 * and the rumpuser component calls (two virtual CPUs as a semaphore, with
 * per-thread checks that every hypercall is entered scheduled, that the
 * upcall runs scheduled in a thread made a kernel thread, and that nothing
 * is delivered after DESTROY), then drives the hypercalls as if_virt.c
 * does. Two interfaces on the two ends of a pipe (link strings) exchange
 * frames of every length 14..1514 in 1..32 iovecs (short ones padded to
 * 60), a 4000-byte frame crosses as a MOREFRAG chain, two threads SEND at
 * once (no frame lost or mixed), a unit-number device string maps through
 * $UNM_VIRTIF<unit>, a CREATE on a missing daemon fails with an error, a
 * hostile raw peer's runts are dropped and counted, and DYING + DESTROY
 * stop deliveries.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <unm.h>
#include "../../rumpvif/unm_virtif.h"
#include "../lib/test.h"

/* ---- the fake rump kernel ------------------------------------------------ */

static sem_t vcpus;                 /* two virtual CPUs */
static __thread int t_sched, t_kthread;
static int kthreads_alive;

void rumpuser_component_schedule(void *cookie)
{
	(void)cookie;
	if (t_sched)
		T_FAIL("schedule while already scheduled");
	sem_wait(&vcpus);
	t_sched = 1;
}

void *rumpuser_component_unschedule(void)
{
	if (!t_sched)
		T_FAIL("unschedule while not scheduled");
	t_sched = 0;
	sem_post(&vcpus);
	return (void *)1;
}

int rumpuser_component_errtrans(int e)
{
	return e; /* NetBSD and Linux agree on the errnos seen here */
}

void rumpuser_component_kthread(void)
{
	if (t_kthread)
		T_FAIL("kthread twice in one thread");
	t_kthread = 1;
	__atomic_fetch_add(&kthreads_alive, 1, __ATOMIC_SEQ_CST);
}

void rumpuser_component_kthread_release(void)
{
	if (!t_kthread)
		T_FAIL("kthread_release without kthread");
	if (t_sched)
		T_FAIL("kthread_release while scheduled");
	t_kthread = 0;
	__atomic_fetch_sub(&kthreads_alive, 1, __ATOMIC_SEQ_CST);
}

#define MAXF 8192
struct virtif_sc { /* the kernel's softc, as far as the test cares */
	int id;
	int destroyed;
	pthread_mutex_t lock;
	unsigned n;                  /* frames delivered */
	unsigned short len[MAXF];
	unsigned char *data[MAXF];
	unsigned max_iov;
};

void rump_virtif_unm_deliverpkt(struct virtif_sc *sc, struct iovec *iov, size_t iovlen)
{
	if (!t_sched || !t_kthread)
		T_FAIL("deliverpkt outside a scheduled kernel thread (sched %d kthread %d)",
		       t_sched, t_kthread);
	if (__atomic_load_n(&sc->destroyed, __ATOMIC_SEQ_CST))
		T_FAIL("deliverpkt to interface %d after DESTROY", sc->id);
	size_t len = 0;
	for (size_t i = 0; i < iovlen; i++)
		len += iov[i].iov_len;
	if (len < 14 || len > 65535)
		T_FAIL("delivered a frame of %zu bytes", len);
	pthread_mutex_lock(&sc->lock);
	if (sc->n < MAXF) {
		unsigned char *d = malloc(len);
		size_t o = 0;
		for (size_t i = 0; i < iovlen; i++) {
			memcpy(d + o, iov[i].iov_base, iov[i].iov_len);
			o += iov[i].iov_len;
		}
		sc->data[sc->n] = d;
		sc->len[sc->n] = (unsigned short)len;
		if (iovlen > sc->max_iov)
			sc->max_iov = (unsigned)iovlen;
	}
	sc->n++;
	pthread_mutex_unlock(&sc->lock);
}

/* ---- the kernel side's calls, as if_virt.c makes them (scheduled) ------- */

static int k_create(const char *dev, struct virtif_sc *sc, uint8_t *mac, struct virtif_user **v)
{
	rumpuser_component_schedule(NULL);
	int rc = rumpcomp_unm_create(dev, sc, mac, v);
	rumpuser_component_unschedule();
	return rc;
}

static void k_send(struct virtif_user *v, struct iovec *iov, size_t n)
{
	rumpuser_component_schedule(NULL);
	rumpcomp_unm_send(v, iov, n);
	rumpuser_component_unschedule();
}

static void k_destroy(struct virtif_user *v, struct virtif_sc *sc)
{
	rumpuser_component_schedule(NULL);
	T_ASSERT_EQ(rumpcomp_unm_dying(v), 0);
	rumpcomp_unm_destroy(v);
	__atomic_store_n(&sc->destroyed, 1, __ATOMIC_SEQ_CST);
	rumpuser_component_unschedule();
}

static void sc_init(struct virtif_sc *sc, int id)
{
	memset(sc, 0, sizeof(*sc));
	sc->id = id;
	pthread_mutex_init(&sc->lock, NULL);
}

static void sc_reset(struct virtif_sc *sc)
{
	pthread_mutex_lock(&sc->lock);
	for (unsigned i = 0; i < sc->n && i < MAXF; i++)
		free(sc->data[i]);
	sc->n = 0;
	sc->max_iov = 0;
	pthread_mutex_unlock(&sc->lock);
}

static unsigned sc_count(struct virtif_sc *sc)
{
	pthread_mutex_lock(&sc->lock);
	unsigned n = sc->n;
	pthread_mutex_unlock(&sc->lock);
	return n;
}

static int wait_count(struct virtif_sc *sc, unsigned want, double secs)
{
	double end = t_now() + secs;
	while (sc_count(sc) < want && t_now() < end)
		usleep(1000);
	return sc_count(sc) >= want;
}

/* Frame: broadcast dst, src 02:..:tag, type 0x88b5, then seq and pattern. */
static void mkframe(unsigned char *f, size_t len, unsigned tag, unsigned seq)
{
	memset(f, 0xff, 6);
	unsigned char src[6] = { 0x02, 0, 0, 0, 0, (unsigned char)tag };
	memcpy(f + 6, src, 6);
	f[12] = 0x88, f[13] = 0xb5;
	for (size_t i = 14; i < len; i++)
		f[i] = (unsigned char)(seq * 7 + i);
	if (len >= 18)
		memcpy(f + 14, &seq, 4);
}

/* Send FRAME of LEN bytes cut into N iovecs (1..32). */
static void send_cut(struct virtif_user *v, unsigned char *f, size_t len, unsigned n)
{
	struct iovec iov[32];
	size_t off = 0;
	if (n > len)
		n = (unsigned)len;
	for (unsigned i = 0; i < n; i++) {
		size_t part = i + 1 == n ? len - off : (len / n);
		iov[i].iov_base = f + off;
		iov[i].iov_len = part;
		off += part;
	}
	k_send(v, iov, n);
}

struct sender { struct virtif_user *v; unsigned tag, count; };

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	unsigned char f[1514];
	for (unsigned i = 0; i < s->count; i++) {
		size_t len = 60 + (i * 37) % 1400;
		mkframe(f, len, s->tag, i);
		send_cut(s->v, f, len, 1 + i % 4);
	}
	return NULL;
}

int main(void)
{
	t_watchdog(120);
	sem_init(&vcpus, 0, 2);
	static struct virtif_sc a, b, c, d;
	sc_init(&a, 1);
	sc_init(&b, 2);
	sc_init(&c, 3);
	sc_init(&d, 4);
	char pa[64], pb[64];
	const char *u = t_uniq("rv");
	snprintf(pa, sizeof(pa), "%s{1", u);
	snprintf(pb, sizeof(pb), "%s}1", u);

	/* link strings name the two ends of a pipe */
	uint8_t maca[6] = { 0xb2, 0x0a, 0x11, 0x0b, 0x0e, 0 }, macb[6] = { 0xb2, 0x0a, 0x22, 0x0b, 0x0e, 1 };
	struct virtif_user *va, *vb;
	T_ASSERT_EQ(k_create(pa, &a, maca, &va), 0);
	T_ASSERT_EQ(k_create(pb, &b, macb, &vb), 0);
	T_ASSERT(maca[0] == 0xb2 && macb[2] == 0x22); /* a pipe has no MAC: the kernel's stays */
	T_ASSERT(!strcmp(unm_virtif_port_name(va), pa));

	/* every length 14..1514, 1..32 iovecs, in order and intact */
	unsigned char f[4096];
	unsigned sent = 0;
	for (unsigned len = 14; len <= 1514; len++) {
		mkframe(f, len, 1, sent);
		send_cut(va, f, len, 1 + len % 32);
		sent++;
		if (sent % 256 == 0)
			T_ASSERT(wait_count(&b, sent, 10));
	}
	T_ASSERT(wait_count(&b, sent, 10));
	T_ASSERT_EQ(sc_count(&b), sent);
	for (unsigned i = 0; i < sent; i++) {
		unsigned len = 14 + i, want = len < 60 ? 60 : len;
		mkframe(f, len, 1, i);
		memset(f + len, 0, want - len);
		T_ASSERT_EQ(b.len[i], want);
		if (memcmp(b.data[i], f, want))
			T_FAIL("frame %u (%u bytes) differs", i, len);
	}
	printf("%u frames of 14..1514 bytes in 1..32 iovecs delivered intact\n", sent);
	sc_reset(&b);

	/* 4000 bytes: a MOREFRAG chain (2 KiB buffers) delivered as several iovecs */
	mkframe(f, 4000, 1, 77);
	send_cut(va, f, 4000, 3);
	T_ASSERT(wait_count(&b, 1, 5));
	T_ASSERT_EQ(b.len[0], 4000);
	T_ASSERT(memcmp(b.data[0], f, 4000) == 0);
	T_ASSERT(b.max_iov >= 2);
	sc_reset(&b);

	/* the other direction, and two SEND threads at once */
	struct sender s1 = { va, 5, 3000 }, s2 = { va, 6, 3000 };
	pthread_t t1, t2;
	pthread_create(&t1, NULL, sender_main, &s1);
	pthread_create(&t2, NULL, sender_main, &s2);
	mkframe(f, 100, 9, 1);
	send_cut(vb, f, 100, 2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	T_ASSERT(wait_count(&a, 1, 5));
	T_ASSERT_EQ(a.len[0], 100);
	struct unm_virtif_stats sa;
	unm_virtif_stats(va, &sa);
	wait_count(&b, 6000 - (unsigned)sa.tx_dropped, 10);
	usleep(100000);
	unsigned got = sc_count(&b);
	T_ASSERT_EQ(got + sa.tx_dropped, 6000);
	unsigned next[2] = { 0, 0 };
	for (unsigned i = 0; i < got && i < MAXF; i++) {
		unsigned tag = b.data[i][11], seq;
		T_ASSERT(tag == 5 || tag == 6);
		memcpy(&seq, b.data[i] + 14, 4);
		T_ASSERT(seq >= next[tag - 5]); /* per sender in order (drops allowed) */
		next[tag - 5] = seq + 1;
		size_t len = 60 + (seq * 37) % 1400;
		mkframe(f, len, tag, seq);
		T_ASSERT_EQ(b.len[i], len);
		if (memcmp(b.data[i], f, len))
			T_FAIL("concurrent frame %u of sender %u mixed up", seq, tag);
	}
	printf("two concurrent senders: %u delivered intact, %llu dropped (ring full)\n", got,
	       (unsigned long long)sa.tx_dropped);
	sc_reset(&b);

	/* DYING + DESTROY: B stops; A keeps sending, nothing reaches B's softc */
	k_destroy(vb, &b);
	for (unsigned i = 0; i < 50; i++) {
		mkframe(f, 64, 1, i);
		send_cut(va, f, 64, 1);
	}
	usleep(200000);
	k_destroy(va, &a);
	T_ASSERT_EQ(__atomic_load_n(&kthreads_alive, __ATOMIC_SEQ_CST), 0);

	/* unit number: $UNM_VIRTIF0 names the port; a hostile raw peer */
	char pc[64], pd[64];
	snprintf(pc, sizeof(pc), "%s{2", u);
	snprintf(pd, sizeof(pd), "%s}2", u);
	setenv("UNM_VIRTIF0", pd, 1);
	struct unm_port *raw;
	T_ASSERT_EQ(unm_open(pc, &raw, NULL), 0);
	struct virtif_user *vc;
	uint8_t macc[6] = { 0xb2, 0x0a, 0x33, 0x0b, 0x0e, 0 };
	T_ASSERT_EQ(k_create("0", &c, macc, &vc), 0);
	T_ASSERT(!strcmp(unm_virtif_port_name(vc), pd));
	unsigned good = 0;
	for (unsigned i = 0; i < 200; i++) {
		size_t len = i % 2 ? 1 + i % 13 : 60 + i;   /* odd: runts */
		mkframe(f, len < 14 ? 14 : len, 7, i);
		while (unm_inject(raw, f, len) == 0)
			unm_wait(raw, UNM_WAIT_TX, 100);
		good += !(i % 2);
	}
	unm_txsync(raw, UNM_RING_ALL);
	T_ASSERT(wait_count(&c, good, 5));
	usleep(50000);
	T_ASSERT_EQ(sc_count(&c), good);
	struct unm_virtif_stats sc_st;
	unm_virtif_stats(vc, &sc_st);
	T_ASSERT_EQ(sc_st.rx_dropped, 100);
	printf("raw peer: %u frames delivered, %llu runts dropped\n", good,
	       (unsigned long long)sc_st.rx_dropped);
	/* a raw frame the stack sends out arrives on the raw end, padded */
	mkframe(f, 20, 3, 0);
	send_cut(vc, f, 20, 1);
	unsigned char rb[2048];
	struct unm_ring *rr = unm_ring_get(raw, 0, 0);
	double end = t_now() + 5;
	while (unm_ring_empty(rr) && t_now() < end)
		unm_wait(raw, UNM_WAIT_RX, 100);
	T_ASSERT(!unm_ring_empty(rr));
	T_ASSERT_EQ(rr->slot[rr->head].len, 60);
	memcpy(rb, unm_slot_buf(rr, rr->head), 60);
	T_ASSERT(memcmp(rb, f, 20) == 0 && rb[20] == 0 && rb[59] == 0);
	k_destroy(vc, &c);
	unm_close(raw);
	sc_reset(&c);

	/* a VALE port without a daemon: CREATE fails with an errno */
	setenv("UNM_SOCKET", "/nonexistent/unm-rump-test.sock", 1);
	struct virtif_user *vd = NULL;
	uint8_t macd[6] = { 0 };
	int rc = k_create("1", &d, macd, &vd);
	T_ASSERT(rc > 0);
	printf("CREATE of vale0:unm1 without unmd: errno %d (%s)\n", rc, strerror(rc));
	printf("PASS\n");
	return 0;
}
