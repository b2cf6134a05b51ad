// SPDX-License-Identifier: BSD-2-Clause
/*
 * unm_virtif.c - the host side of a NetBSD rump kernel's virtif network
 * interface (sys/rump/net/lib/libvirtif, hypercall revision 20140313)
 * over any unetmap port: a rump kernel links this in place of its own
 * backend (virtif_user.c, tap) and its TCP/IP stack then runs over a pipe
 * end, a VALE port, a tap, AF_PACKET, AF_XDP, shmif, vhost-user...
 *
 * Hypercalls (VIRTIF_BASE, default "unm": interface unm0, unm1, ...):
 *   rumpcomp_<base>_create(devstr, sc, enaddr, &viu)  open the port
 *   rumpcomp_<base>_send(viu, iov, iovlen)            one frame out
 *   rumpcomp_<base>_dying(viu)                         stop receiving
 *   rumpcomp_<base>_destroy(viu)                       join, close, free
 * and the kernel's upcall rump_virtif_<base>_deliverpkt(sc, iov, iovlen)
 * for every received frame.
 *
 * Device string: with RUMP_VIF_LINKSTR (ifconfig unm0 linkstr PORT) it is
 * the port name. Otherwise it is the unit number ("0"): the port is then
 * $UNM_VIRTIF<unit> (UNM_VIRTIF0=vale0:rump), else "vale0:<base><unit>".
 *
 * Threads: CREATE, SEND, DYING and DESTROY come from kernel threads,
 * scheduled on a rump virtual CPU; SEND may run in several at once (the
 * kernel does not serialise it once a backend unschedules), so TX is under
 * a host mutex. Each interface has one receive thread, a host thread made
 * a kernel thread with rumpuser_component_kthread(); it sleeps on the RX
 * ring unscheduled and delivers a batch of frames per scheduling. Every
 * host call that can block (opening the port, waiting for TX room,
 * joining the thread) is made unscheduled, as the rump kernel requires.
 *
 * Frames delivered point straight into the port's RX buffers: the kernel
 * copies them into mbufs before the slots are released. A frame that
 * spans several slots (MOREFRAG) is delivered as one iovec per slot.
 * Untrusted: slot lengths are checked against the buffer size and chains
 * against UNM_MAX_FRAGS; a port with a virtio-net header gets partial
 * checksums completed and GSO frames dropped (the kernel side has no
 * offloads), the header read once.
 */
#include <errno.h>
#include <endian.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <unm.h>
#include "unm_virtif.h"

#define ETH_MIN 60
#define RX_WAIT_MS 100      /* how late DYING is noticed at worst */
#define TX_WAIT_MS 5        /* how long SEND waits for room, unscheduled */

struct virtif_user {
	struct virtif_sc *sc;
	struct unm_port *port;
	char name[128];
	unsigned first_tx, first_rx, last_rx, vnet, buf_size, max_frame;
	pthread_t rx_thread;
	int thread_started;
	int running;                /* atomic: cleared by DYING/DESTROY */
	pthread_mutex_t txlock;
	struct unm_virtif_stats st;
};

/* ---- helpers ------------------------------------------------------------- */

static int port_name(const char *devstr, char *out, size_t len)
{
	const char *d = devstr;

	if (!d || !*d)
		return -EINVAL;
	while (*d >= '0' && *d <= '9')
		d++;
	if (*d) { /* a link string: the port name itself */
		if (strlen(devstr) >= len)
			return -ENAMETOOLONG;
		snprintf(out, len, "%s", devstr);
		return 0;
	}
	char env[32];
	snprintf(env, sizeof(env), "UNM_VIRTIF%s", devstr);
	const char *e = getenv(env);
	if (e && *e) {
		if (strlen(e) >= len)
			return -ENAMETOOLONG;
		snprintf(out, len, "%s", e);
	} else {
		snprintf(out, len, "vale0:%s%s", UNM_VIF_NAME, devstr);
	}
	return 0;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

/* Complete a virtio NEEDS_CSUM checksum in a single-buffer frame. */
static int fix_csum(uint8_t *f, unsigned len, unsigned start, unsigned off)
{
	if (start < 14 || start >= len || off > len - start || len - start - off < 2)
		return -1;
	uint32_t acc = sum16(f + start, len - start, 0);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	uint16_t c = (uint16_t)~acc;
	if (c == 0)
		c = 0xffff;
	f[start + off] = (uint8_t)(c >> 8);
	f[start + off + 1] = (uint8_t)c;
	return 0;
}

/* ---- receive ------------------------------------------------------------- */

/*
 * Collect the frame at slot i of R into IOV (header stripped). Returns the
 * number of slots it uses (0 = incomplete chain: wait), with *niov = 0 if
 * the frame is to be dropped.
 */
static unsigned rx_frame(struct virtif_user *viu, struct unm_ring *r, uint32_t i,
			 struct iovec *iov, size_t *niov)
{
	unsigned used = 0, n = 0, total = 0, bad = 0;
	uint32_t j = i;

	for (;;) {
		if (j == r->tail)
			return 0;
		unsigned len = r->slot[j].len; /* one read */
		uint16_t fl = r->slot[j].flags;
		if (len > viu->buf_size)
			bad = 1;
		else if (len) {
			iov[n].iov_base = unm_slot_buf(r, j);
			iov[n].iov_len = len;
			n++;
		}
		total += len;
		used++;
		j = unm_ring_next(r, j);
		if (!(fl & UNM_NS_MOREFRAG) || used >= UNM_MAX_FRAGS)
			break;
	}
	*niov = 0;
	if (bad || n == 0)
		return used;
	if (viu->vnet) {
		uint8_t h[10];
		if (iov[0].iov_len < viu->vnet)
			return used;
		memcpy(h, iov[0].iov_base, sizeof(h));
		uint8_t flags = h[0], gso = h[1];
		unsigned cs = h[6] | h[7] << 8, co = h[8] | h[9] << 8;
		if ((gso & 0x7f) != 0) {
			viu->st.rx_gso_dropped++;
			return used;
		}
		iov[0].iov_base = (char *)iov[0].iov_base + viu->vnet;
		iov[0].iov_len -= viu->vnet;
		total -= viu->vnet;
		if (flags & 1) {
			if (n != 1 || fix_csum(iov[0].iov_base, (unsigned)iov[0].iov_len, cs, co))
				return used; /* chains with partial checksums: none in practice */
			viu->st.rx_csum_fixed++;
		}
	}
	if (total < 14)
		return used;
	*niov = n;
	return used;
}

static void *rx_main(void *arg)
{
	struct virtif_user *viu = arg;
	struct iovec iov[UNM_MAX_FRAGS];

	rumpuser_component_kthread();
	while (__atomic_load_n(&viu->running, __ATOMIC_RELAXED)) {
		/*
		 * SEND has no end-of-batch call, and a txsync moves only what
		 * the peer has room for (a pipe): frames left pending are
		 * pushed from here, and the sleep is short while some are.
		 */
		int pending = 0;
		if (pthread_mutex_trylock(&viu->txlock) == 0) {
			struct unm_ring *t = unm_ring_get(viu->port, 1, viu->first_tx);
			if (t && unm_tx_pending(t)) {
				unm_txsync(viu->port, (int)viu->first_tx);
				pending = unm_tx_pending(t);
			}
			pthread_mutex_unlock(&viu->txlock);
		}
		int rc = unm_ring_wait(viu->port, 0, viu->first_rx, pending ? 1 : RX_WAIT_MS);
		if (rc < 0 && rc != -EINTR) {
			viu->st.rx_errors++;
			if (rc == -EPIPE || rc == -ECONNRESET || rc == -EIO) {
				/* the port is gone: idle until DYING */
				struct timespec ts = { 0, RX_WAIT_MS * 1000000L };
				nanosleep(&ts, NULL);
			}
			continue;
		}
		for (unsigned q = viu->first_rx; q < viu->last_rx && viu->running; q++) {
			struct unm_ring *r = unm_ring_get(viu->port, 0, q);
			if (!r || (q != viu->first_rx && unm_rxsync(viu->port, (int)q) < 0))
				continue;
			uint32_t i = r->head;
			int scheduled = 0;
			while (i != r->tail && viu->running) {
				size_t niov;
				unsigned used = rx_frame(viu, r, i, iov, &niov);
				if (!used)
					break;
				if (niov) {
					if (!scheduled) {
						rumpuser_component_schedule(NULL);
						scheduled = 1;
					}
					UNM_VIF_DELIVERPKT(viu->sc, iov, niov);
					viu->st.rx_frames++;
				} else {
					viu->st.rx_dropped++;
				}
				while (used--)
					i = unm_ring_next(r, i);
			}
			if (scheduled)
				rumpuser_component_unschedule();
			unm_ring_advance(r, i);
			unm_rxsync(viu->port, (int)q);
		}
	}
	rumpuser_component_kthread_release();
	return NULL;
}

/* ---- hypercalls ------------------------------------------------------- */

int UNM_VIFHYPER_CREATE(const char *devstr, struct virtif_sc *sc, uint8_t *enaddr,
			struct virtif_user **viup)
{
	struct virtif_user *viu = calloc(1, sizeof(*viu));
	struct unm_port_info pi = { .sz = sizeof(pi) };
	int rc;

	if (!viu)
		return rumpuser_component_errtrans(ENOMEM);
	rc = port_name(devstr, viu->name, sizeof(viu->name));
	if (rc < 0)
		goto fail;
	void *cookie = rumpuser_component_unschedule(); /* open may wait (pipe, unmd) */
	rc = unm_open(viu->name, &viu->port, NULL);
	rumpuser_component_schedule(cookie);
	if (rc < 0)
		goto fail;
	rc = unm_port_info(viu->port, &pi);
	if (rc < 0)
		goto fail_close;
	if (pi.last_tx <= pi.first_tx || pi.last_rx <= pi.first_rx) {
		rc = -EINVAL; /* /T or /R: the interface needs both directions */
		goto fail_close;
	}
	viu->sc = sc;
	viu->first_tx = pi.first_tx;
	viu->first_rx = pi.first_rx;
	viu->last_rx = pi.last_rx;
	viu->vnet = pi.vnet_hdr_len;
	viu->buf_size = pi.buf_size;
	unsigned frags = pi.tx_slots - 1 < UNM_MAX_FRAGS ? pi.tx_slots - 1 : UNM_MAX_FRAGS;
	uint64_t cap = (uint64_t)frags * pi.buf_size - viu->vnet;
	viu->max_frame = cap > 65535 ? 65535 : (unsigned)cap;
	static const uint8_t zero[6];
	if (memcmp(pi.mac, zero, 6))
		memcpy(enaddr, pi.mac, 6); /* the port's own address wins */
	pthread_mutex_init(&viu->txlock, NULL);
	viu->running = 1;
	if (pthread_create(&viu->rx_thread, NULL, rx_main, viu)) {
		rc = -EAGAIN;
		pthread_mutex_destroy(&viu->txlock);
		goto fail_close;
	}
	viu->thread_started = 1;
	*viup = viu;
	return 0;
fail_close:
	unm_close(viu->port);
fail:
	free(viu);
	return rumpuser_component_errtrans(-rc);
}

/* Copy the frame into TX slots of R from head. Caller checked room. */
static void tx_copy(struct virtif_user *viu, struct unm_ring *r, const struct iovec *iov,
		    size_t iovlen, unsigned flen, unsigned total)
{
	uint32_t i = r->head;
	size_t v = 0, voff = 0;
	unsigned done = 0, hdr = viu->vnet;

	while (done < total) {
		char *b = unm_slot_buf(r, i);
		unsigned n = total - done < viu->buf_size ? total - done : viu->buf_size;
		unsigned k = 0;
		if (hdr) { /* first buffer: zero header */
			memset(b, 0, hdr);
			k = hdr;
			hdr = 0;
		}
		while (k < n) {
			if (v < iovlen) {
				size_t take = iov[v].iov_len - voff;
				if (take > n - k)
					take = n - k;
				memcpy(b + k, (const char *)iov[v].iov_base + voff, take);
				k += (unsigned)take;
				voff += take;
				if (voff == iov[v].iov_len)
					v++, voff = 0;
			} else { /* padding up to ETH_MIN */
				memset(b + k, 0, n - k);
				k = n;
			}
		}
		r->slot[i].len = (uint16_t)n;
		done += n;
		r->slot[i].flags = done < total ? UNM_NS_MOREFRAG : 0;
		i = unm_ring_next(r, i);
	}
	(void)flen;
	unm_ring_advance(r, i);
}

void UNM_VIFHYPER_SEND(struct virtif_user *viu, struct iovec *iov, size_t iovlen)
{
	struct unm_ring *r = unm_ring_get(viu->port, 1, viu->first_tx);
	size_t len = 0;

	for (size_t k = 0; k < iovlen; k++)
		len += iov[k].iov_len;
	unsigned flen = len < ETH_MIN ? ETH_MIN : (unsigned)(len > 65535 ? 65535 : len);
	if (!r || len > viu->max_frame || len < 14) {
		__atomic_fetch_add(&viu->st.tx_dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	unsigned total = flen + viu->vnet;
	unsigned need = (total + viu->buf_size - 1) / viu->buf_size;

	pthread_mutex_lock(&viu->txlock);
	for (int attempt = 0;; attempt++) {
		if (unm_ring_space(r) >= need)
			break;
		unm_txsync(viu->port, (int)viu->first_tx);
		if (unm_ring_space(r) >= need)
			break;
		if (attempt == 1) {
			__atomic_fetch_add(&viu->st.tx_dropped, 1, __ATOMIC_RELAXED);
			pthread_mutex_unlock(&viu->txlock);
			return;
		}
		/*
		 * Full: the sync above armed the port's notification; sleep on
		 * its fd a little, neither locked nor scheduled. Only poll():
		 * syncing here would race with a SEND that holds the lock.
		 */
		pthread_mutex_unlock(&viu->txlock);
		void *cookie = rumpuser_component_unschedule();
		struct pollfd pfd = { .fd = unm_fd(viu->port), .events = POLLIN };
		poll(&pfd, 1, TX_WAIT_MS);
		rumpuser_component_schedule(cookie);
		pthread_mutex_lock(&viu->txlock);
	}
	tx_copy(viu, r, iov, iovlen, flen, total);
	viu->st.tx_frames++;
	unm_txsync(viu->port, (int)viu->first_tx); /* no end-of-batch call exists */
	pthread_mutex_unlock(&viu->txlock);
}

int UNM_VIFHYPER_DYING(struct virtif_user *viu)
{
	/* the receive thread sees it within RX_WAIT_MS */
	__atomic_store_n(&viu->running, 0, __ATOMIC_RELAXED);
	return 0;
}

void UNM_VIFHYPER_DESTROY(struct virtif_user *viu)
{
	viu->running = 0;
	if (viu->thread_started) {
		void *cookie = rumpuser_component_unschedule();
		pthread_join(viu->rx_thread, NULL);
		rumpuser_component_schedule(cookie);
	}
	unm_close(viu->port);
	pthread_mutex_destroy(&viu->txlock);
	free(viu);
}

int unm_virtif_stats(const struct virtif_user *viu, struct unm_virtif_stats *st)
{
	if (!viu || !st)
		return -EINVAL;
	*st = viu->st;
	return 0;
}

const char *unm_virtif_port_name(const struct virtif_user *viu)
{
	return viu->name;
}
