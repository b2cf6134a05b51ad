// SPDX-License-Identifier: BSD-2-Clause
/*
 * pipe.c - zero-copy pipes NAME{ID (master) / NAME}ID (slave) between any
 * two processes of the same user, with no daemon and nothing on disk.
 *
 * Rendezvous, the handshake with the peer and the service path that
 * accepts joiners and notices a hang-up: lib/pipe_rdv.c. This file: the
 * data path, notifications, and opening and closing an end.
 *
 * Liveness. The connected socket stays open, in both ends' epoll sets
 * (p->epfd = unm_fd()): POLLHUP means the peer closed or died. A sync that
 * finds nothing to do looks at it (one epoll_wait(0)) at most once per
 * PIPE_CHECK_NS per ring, so a spinning end notices a SIGKILLed peer
 * within about a millisecond and a busy one makes no syscall. Once the
 * peer is gone: txsync returns -EPIPE; rxsync returns the frames still
 * queued and -EPIPE once the ring is drained. An owner whose peer is gone
 * refuses later joiners with -EBUSY ("both ends must reopen").
 *
 * Data path (per ring pair i, per direction; "producer" = the end whose
 * TX ring i feeds the other end's RX ring i). The producer's txsync swaps
 * each TX slot [hwcur, head) with the next free slot of the peer's RX ring
 * (the whole 16-byte slot goes over; the RX slot's buffer, released earlier
 * by the consumer, comes back into the TX slot): no copy, one release store
 * of rx_hwtail per batch. The consumer's rxsync releases [hwcur, head) with
 * one release store of rx_hwcur and takes [hwtail, rx_hwtail), reading
 * and writing back each new slot's first 8 bytes once (check_rx_slots:
 * validation, and it makes the slot lines migrate back to the producer in
 * one transfer instead of two). TX slots
 * complete at once, so a TX ring's tail is always hwcur - 1 (not so with
 * UNM_OPEN_PIPE_LOAN: txsync_loan lends buffers and the tail trails the
 * consumer's releases). Each side keeps
 * private copies (kring hwcur/hwtail, prod_tail, cached rx_hwcur refreshed
 * only when the RX ring looks full), so the fast path touches one shared
 * line per batch besides the slots.
 *
 * Ordering (tags; docs/ordering.md has the table):
 *   [P1] producer release of ctl->rx_hwtail      <-> [C1] consumer acquire
 *   [C2] consumer release of ctl->rx_hwcur       <-> [P2] producer acquire
 *   [P3] producer full fence after [P1], then reads cons_need_wake;
 *        pairs with [C4] (consumer: need_wake = 1, fence, re-read rx_hwtail)
 *   [C3] consumer full fence after [C2], then reads prod_need_wake;
 *        pairs with [P4] (producer: need_wake = 1, fence, re-read rx_hwcur)
 *   [L1] release of pp->state (peer connected / gone) <-> [L2] acquire, in
 *        this process: publishes pp->peer_efd to the other ring threads.
 *   [W1] release of need_wake after the ring's wait word <-> [W2] full
 *        fence after a drain, before recheck() loads the wait words and
 *        indexes (the chain runs through the peer's kick and the eventfd).
 *
 * Notification suppression. An end whose ring would block (port.c calls
 * arm) first spins: for spin_ns after its last progress it does not ask
 * the peer for a kick but makes its own unm_fd() readable (one eventfd
 * write per idle spell), so a poller comes back and re-syncs and a busy
 * stream costs the peer no syscall. After that it arms for real: sets its
 * need_wake flag, full fence, re-checks the peer's index (double check).
 * The peer kicks (eventfd write) only when it published something and saw
 * the flag. spin_ns defaults to 50 us; $UNM_PIPE_SPIN_US overrides it (0 =
 * arm at once). Kicks are counted in st.kicks.
 *
 * One eventfd serves every ring of the end, so a drain done for one ring
 * can eat a kick meant for another ring that armed earlier and already
 * passed its double check. Rule: every drain is followed by a re-check of
 * every waiting ring before anyone sleeps. Each ring publishes what it
 * waits for in its wait word (W_SPIN, or W_ARMED | the peer index it armed
 * at); drains in the sync path (arm, the idle liveness check, an open
 * pumping its owner) call recheck(), which makes unm_fd() readable again
 * if a ring is spinning or its peer index moved. pipe_wakeup drains
 * without recheck(): its caller (unm_wait, unmd) re-syncs next every ring
 * it waits for; it also drops the W_SPIN of rings nobody re-syncs. Arm
 * drains only when the eventfd may hold our spin signal or a kick that
 * came after its ring moved (kick_left, set on disarm), so a poller does
 * not spin on a stale kick and a spinning caller makes no read.
 *
 * Trust. The peer maps the whole region and may write anything at any
 * time. Every value read from it is read once and validated: rx_hwtail
 * and rx_hwcur must lie in the span the peer may legally move them over
 * (else st.bad_ring, value ignored); each RX slot taken by rxsync must have
 * a buffer index in [2, buf_count) and len <= buf_size (else the slot is
 * rewritten to reserved buffer 1 with len 0: st.bad_buf / st.bad_len and
 * st.drops); each buffer index a producer takes back from the RX ring is
 * checked the same way (bad: buffer 1, st.bad_buf). Buffer 1 is real
 * memory inside the pool, so an application writing to it stays inside the
 * region. Ring pointers, geometry and buffer count are private copies
 * taken at open. Slots the application owns can still be rewritten by the
 * peer after a sync: an application that does not trust its peer must
 * range-check buf_idx itself before following it.
 *
 * Threads. One thread per ring pair: a sync of ring i touches only pair
 * i's kring, pipe_ring and ctl blocks. Shared per-port state (connection
 * state, the service path) uses atomics and a try-lock. Sleeping on
 * unm_fd()/unm_wait() is for one thread per port (one wake eventfd per
 * end); threads that each own a ring sleep with unm_ring_wait(), which
 * re-syncs every millisecond because they share (and may drain) that one
 * eventfd. st counters are plain increments (exact with one thread).
 * Do not fork with a pipe end open: the child would keep the sockets.
 *
 * Monitors of this end (NAME{ID/z zero-copy, NAME{ID/t /r copy without
 * unmd): lib/pipe_zmon.c, sharing this file's
 * state through lib/pipe_priv.h; the only cost to an unmonitored ring is
 * the pr->zm test at the top of pipe_txsync.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "internal.h"
#include "pipe_priv.h"

int pipe_ep_add(int epfd, int fd, uint32_t events, uint32_t tag)
{
	struct epoll_event ev = { .events = events, .data.u32 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void pipe_kick(struct unm_port *p, struct pipe_priv *pp)
{
	uint64_t one = 1;

	if (get_state(pp) != PS_CONNECTED)
		return;
	if (write(pp->peer_efd, &one, sizeof(one)) == (ssize_t)sizeof(one))
		p->st.kicks++;
}

/* Empty my_efd (one read resets an eventfd counter). Whoever drains must
 * then re-check every ring that waits: pipe_wakeup's caller re-syncs the
 * rings it waits for, everyone else calls recheck(). */
static void drain(struct pipe_priv *pp)
{
	uint64_t v;

	__atomic_store_n(&pp->kick_left, 0, __ATOMIC_RELAXED);
	if (read(pp->my_efd, &v, sizeof(v)) < 0)
		v = 0; /* empty already */
	/* After the read: a self_signal racing with it saw 1 and wrote
	 * nothing; its ring is W_SPIN and recheck() signals again. */
	__atomic_store_n(&pp->self_sig, 0, __ATOMIC_RELAXED);
}

/* Make unm_fd() readable without involving the peer (spin phase). */
void pipe_self_signal(struct pipe_priv *pp)
{
	uint64_t one = 1;

	if (!__atomic_exchange_n(&pp->self_sig, 1, __ATOMIC_RELAXED))
		if (write(pp->my_efd, &one, sizeof(one)) < 0)
			__atomic_store_n(&pp->self_sig, 0, __ATOMIC_RELAXED);
}

/*
 * After a drain outside pipe_wakeup: the drain may have eaten a kick meant
 * for any armed ring (or the signal of a spinning one), whichever thread
 * syncs it and whenever it armed. Look at every ring's wait word and make
 * unm_fd() readable again if one can move now or is spinning. Idle path.
 */
static void recheck(struct unm_port *p, struct pipe_priv *pp)
{
	bool spin = false, ready = false;
	uint64_t one = 1;

	/* [W2] full fence: the eventfd read (after the peer's kick, which
	 * followed its [P3]/[C3] fence and its read of need_wake) before the
	 * loads of the wait words and the peer indexes; pairs with [W1]. */
	unm_smp_mb();
	for (unsigned i = 0; i < p->n_tx + p->n_rx; i++) {
		struct pipe_ring *pr = &pp->rings[i];
		uint64_t w = __atomic_load_n(&pr->wait, __ATOMIC_RELAXED);
		uint32_t idx;

		if (w == W_SPIN) {
			spin = true;
		} else if (w & W_ARMED) {
			idx = UNM_READ_ONCE(*(i < p->n_tx ? &pr->ctl->rx_hwcur : &pr->ctl->rx_hwtail));
			ready |= idx != (uint32_t)w; /* untrusted: only compared */
		}
		if (i < p->n_tx) {
			/* [Z14] acquire pairs with [Z13]: z.mc is set. */
			w = __atomic_load_n(&pr->zwait, __ATOMIC_ACQUIRE);
			if (w & W_ARMED)
				ready |= UNM_READ_ONCE(pr->z.mc->m_hwcur) != (uint32_t)w;
		}
	}
	if (spin) {
		pipe_self_signal(pp);
	} else if (ready && write(pp->my_efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, unm_fd() is readable */
	}
}

void pipe_drain_recheck(struct unm_port *p, struct pipe_priv *pp)
{
	drain(pp);
	recheck(p, pp);
}

/* Idle path of a sync: liveness/joiner check at most every PIPE_CHECK_NS. */
void pipe_idle_check(struct pipe_priv *pp, struct pipe_ring *pr)
{
	uint64_t now = unm_now_ns();

	if (now < pr->next_check)
		return;
	pr->next_check = now + PIPE_CHECK_NS;
	pipe_service(pp);
}

/* ---- data path ------------------------------------------------------------ */

/* Free peer RX slots after refreshing the cached rx_hwcur. */
static uint32_t refresh_space(struct unm_port *p, struct pipe_ring *pr, uint32_t ns)
{
	uint32_t c = unm_load_acquire(&pr->ctl->rx_hwcur); /* [P2] pairs with [C2]; untrusted */
	uint32_t used = pr->prod_tail >= pr->cons_cache ? pr->prod_tail - pr->cons_cache
						       : pr->prod_tail + ns - pr->cons_cache;
	uint32_t adv = c >= pr->cons_cache ? c - pr->cons_cache : c + ns - pr->cons_cache;

	/* The consumer may only release slots it was given. */
	if (likely(c < ns && adv <= used))
		pr->cons_cache = c;
	else
		p->st.bad_ring++;
	used = pr->prod_tail >= pr->cons_cache ? pr->prod_tail - pr->cons_cache
					       : pr->prod_tail + ns - pr->cons_cache;
	return ns - 1 - used;
}

/*
 * Swap M slots from our TX ring (from T) into the peer's RX ring (from J).
 * Each TX slot goes over whole; the RX slot's buffer (released by the
 * consumer, untrusted) comes back into the TX slot after a range check.
 */
static uint64_t swap_slots(struct unm_port *p, const struct pipe_priv *pp, struct pipe_ring *pr,
			   struct unm_slot *txs, uint32_t ns, uint32_t t, uint32_t j, uint32_t m)
{
	struct unm_slot *rxs = pr->peer_slot;
	const uint32_t nb = pp->nbufs;
	uint64_t bytes = 0;

	while (m) {
		uint32_t chunk = m;

		if (chunk > ns - t)
			chunk = ns - t;
		if (chunk > ns - j)
			chunk = ns - j;
		for (uint32_t k = 0; k < chunk; k++) {
			struct unm_slot s = txs[t + k];
			uint32_t rb = UNM_READ_ONCE(rxs[j + k].buf_idx); /* untrusted */

			s.flags |= UNM_NS_BUF_CHANGED;
			rxs[j + k] = s;
			bytes += s.len;
			if (unlikely(rb - 2 >= nb - 2)) {
				p->st.bad_buf++;
				rb = 1; /* reserved buffer: inside the pool, never valid */
			}
			txs[t + k].buf_idx = rb;
			txs[t + k].flags = UNM_NS_BUF_CHANGED;
		}
		t = t + chunk == ns ? 0 : t + chunk;
		j = j + chunk == ns ? 0 : j + chunk;
		m -= chunk;
	}
	return bytes;
}

/* The first 8 bytes of a slot: buf_idx | len << 32 | flags << 48. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "copy_slots and check_rx_slots read a slot's first 8 bytes as one little-endian word"
#endif
typedef uint64_t __attribute__((may_alias)) slot_word;

#define SW_IDX_MASK 0xffffffffull
#define SW_FLAGS(f) ((uint64_t)(f) << 48)

/* copy_slots for one slot the fast path does not take: a frame longer
 * than 64 bytes (copied in 32-byte blocks up to UNM_PIPE_COPY_MAX), a
 * fragment, a bad index on either side, or a buffer under 64 bytes. */
static __attribute__((noinline)) uint64_t copy_slot_slow(struct unm_port *p,
							 const struct pipe_priv *pp,
							 const struct unm_kring *kr,
							 struct unm_slot *ts, struct unm_slot *rs)
{
	char *pool = (char *)kr->ring + kr->buf_ofs;
	const uint32_t nb = pp->nbufs, bs = kr->buf_size;
	struct unm_slot s = *ts;
	uint32_t rb = UNM_READ_ONCE(rs->buf_idx); /* untrusted */

	if (s.len <= UNM_PIPE_COPY_MAX && s.len <= bs && !(s.flags & UNM_NS_MOREFRAG) &&
	    s.buf_idx - 2 < nb - 2 && rb - 2 < nb - 2) {
		char *d = pool + (uint64_t)rb * bs;
		const char *f = pool + (uint64_t)s.buf_idx * bs;

		if (((s.len + 31u) & ~31u) <= bs)
			for (uint32_t o = 0; o < s.len; o += 32)
				__builtin_memcpy(d + o, f + o, 32);
		else
			memcpy(d, f, s.len);
		s.buf_idx = rb;
		s.flags &= (uint16_t)~UNM_NS_BUF_CHANGED;
		*rs = s;
	} else {
		s.flags |= UNM_NS_BUF_CHANGED;
		*rs = s;
		if (unlikely(rb - 2 >= nb - 2)) {
			p->st.bad_buf++;
			rb = 1; /* reserved buffer: inside the pool, never valid */
		}
		ts->buf_idx = rb;
		ts->flags = UNM_NS_BUF_CHANGED;
	}
	return s.len;
}

/*
 * UNM_OPEN_PIPE_COPY: short single-slot frames are copied into the RX
 * slot's buffer (released by the consumer, index untrusted: checked) and
 * the TX slot is left as the application wrote it; anything else is
 * swapped as in swap_slots. Buffers are reached through the private
 * kring copies of the pool offset and size, never the shared ring's.
 *
 * This copy is the one per-frame cost the compat layer adds to a netmap
 * sender on a pipe, so the common case (one slot of at most 64 bytes,
 * both indexes good, buffers of at least 64 bytes) is one straight line:
 * the slot's first word read once, a fixed 64-byte block copied (inlined
 * moves; the bytes past len come from the sender's own buffer, inside the
 * pool both ends map), the RX slot written as two words. Runs stop at
 * either ring's end so the indexes need no wrap test per slot.
 */
static uint64_t copy_slots(struct unm_port *p, const struct pipe_priv *pp, struct pipe_ring *pr,
			   const struct unm_kring *kr, uint32_t t, uint32_t j, uint32_t m)
{
	struct unm_slot *txs = kr->ring->slot, *rxs = pr->peer_slot;
	char *pool = (char *)kr->ring + kr->buf_ofs;
	const uint32_t nb = pp->nbufs, ns = kr->nslots, bs = kr->buf_size;
	/* longest frame the fast path takes: none if a block would not fit */
	const uint32_t fast_max = bs >= 64 ? 64 : 0;
	uint64_t bytes = 0;

	while (m) {
		uint32_t chunk = m;

		if (chunk > ns - t)
			chunk = ns - t;
		if (chunk > ns - j)
			chunk = ns - j;
		for (struct unm_slot *ts = txs + t, *rs = rxs + j, *end = ts + chunk; ts != end;
		     ts++, rs++) {
			uint64_t w = *(const slot_word *)ts;
			/* len, and above it MOREFRAG: over fast_max if set */
			uint32_t lenmf = (uint32_t)(w >> 32) & (0xffffu | (uint32_t)UNM_NS_MOREFRAG << 16);
			uint32_t idx = (uint32_t)w, len = (uint16_t)(w >> 32);
			uint32_t rb = UNM_READ_ONCE(rs->buf_idx); /* untrusted */

			if (likely(lenmf <= fast_max && idx - 2 < nb - 2 && rb - 2 < nb - 2)) {
				__builtin_memcpy(pool + (uint64_t)rb * bs,
						 pool + (uint64_t)idx * bs, 64);
				rs->ptr = ts->ptr;
				*(slot_word *)rs = (w & ~(SW_IDX_MASK | SW_FLAGS(UNM_NS_BUF_CHANGED))) | rb;
				bytes += len;
			} else {
				bytes += copy_slot_slow(p, pp, kr, ts, rs);
			}
		}
		t = t + chunk == ns ? 0 : t + chunk;
		j = j + chunk == ns ? 0 : j + chunk;
		m -= chunk;
	}
	return bytes;
}

/* For lib/pipe_zmon.c; the fast path above keeps its inlined copies. */
uint32_t pipe_refresh_space(struct unm_port *p, struct pipe_ring *pr, uint32_t ns)
{
	return refresh_space(p, pr, ns);
}

uint64_t pipe_swap_slots(struct unm_port *p, const struct pipe_priv *pp, struct pipe_ring *pr,
			 struct unm_slot *txs, uint32_t ns, uint32_t t, uint32_t j, uint32_t m)
{
	return swap_slots(p, pp, pr, txs, ns, t, j, m);
}

/*
 * TX slots [hwcur, head) were handed over but the consumer's RX ring is
 * full. port.c arms a ring only when cur == tail, and an application
 * with free TX slots left (a bridge whose source ran dry) would then
 * sleep with frames stuck here and nobody to wake it: arm as if the
 * ring were full, so the consumer's release kicks us. Slow path only.
 */
void pipe_tx_blocked(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	(void)head;
	if (kr->ring->cur != kr->hwtail && pipe_arm(p, kr)) {
		struct pipe_priv *pp = p->priv;

		/* re-checked: space appeared; signal ourselves, the caller
		 * will sync again when its fd fires */
		pipe_self_signal(pp);
	}
}

/* The swap itself; pipe_txsync adds the monitor test. */
static inline __attribute__((always_inline)) int txsync_direct(struct unm_port *p,
							      struct unm_kring *kr, uint32_t head)
{
	struct pipe_priv *pp = p->priv;
	struct pipe_ring *pr = kr->priv;
	const uint32_t ns = kr->nslots;
	uint32_t n, space, m;
	int st;

	st = get_state(pp); /* [L2] */
	if (unlikely(st == PS_GONE))
		return tx_dead(kr, head);
	n = kr_dist(kr, kr->hwcur, head);
	m = 0;
	if (n) {
		uint32_t used = pr->prod_tail >= pr->cons_cache ? pr->prod_tail - pr->cons_cache
							       : pr->prod_tail + ns - pr->cons_cache;

		space = ns - 1 - used;
		if (space < n)
			space = refresh_space(p, pr, ns);
		m = n < space ? n : space;
	}
	if (likely(m)) {
		uint32_t j = pr->prod_tail;

		if (unlikely(pp->copy_small))
			p->st.tx_bytes += copy_slots(p, pp, pr, kr, kr->hwcur, j, m);
		else
			p->st.tx_bytes += swap_slots(p, pp, pr, kr->ring->slot, ns, kr->hwcur, j, m);
		p->st.tx_frames += m;
		j += m;
		if (j >= ns)
			j -= ns;
		pr->prod_tail = j;
		/* [P1] release: RX slots up to j are written; pairs with [C1]. */
		unm_store_release(&pr->ctl->rx_hwtail, j);
		kr->hwcur = kr->hwcur + m >= ns ? kr->hwcur + m - ns : kr->hwcur + m;
		kr->hwtail = kr->hwcur ? kr->hwcur - 1 : ns - 1;
		disarm(pp, pr);
		/* [P3] full fence: our rx_hwtail store before the read of
		 * cons_need_wake; pairs with [C4] (double check in pipe_arm). */
		unm_smp_mb();
		if (unlikely(UNM_READ_ONCE(pr->ctl->cons_need_wake)))
			pipe_kick(p, pp);
		if (unlikely(m < n))
			pipe_tx_blocked(p, kr, head);
		return 0;
	}
	if (n)
		pipe_tx_blocked(p, kr, head);
	pipe_idle_check(pp, pr);
	return get_state(pp) == PS_GONE ? tx_dead(kr, head) : 0;
}

/*
 * UNM_OPEN_PIPE_LOAN: lend each TX slot's buffer to the peer instead of
 * swapping or copying. The RX slot gets the TX slot whole (NS_BUF_CHANGED
 * set: its buffer index changed); the TX slot keeps its buffer and stays
 * the port's until the consumer has released the RX slot, so the TX ring's
 * tail trails hwcur by the slots on loan (pr->loans), as a NIC's does until
 * it has sent them. When the consumer's rx_hwcur passes a lent slot, the TX
 * slot gets back whatever buffer the RX slot holds then: its own, left
 * untouched (the common case: nothing is written), or the one the consumer
 * put there (a zero-copy forwarder swapped it out), range-checked like a
 * swap's, with NS_BUF_CHANGED. No frame byte is touched, and a netmap
 * sender that fills each buffer once never rewrites one.
 *
 * The RX ring's own buffers are overwritten in its slots and left unused.
 * The RX slots a release gave back are read after the acquire of rx_hwcur
 * in refresh_space ([P2], pairs with [C2]): the consumer's last writes to
 * them (check_rx_slots' write-back, its own swaps) came before its release.
 * In flight, the oldest (used - loans) slots of [cons_cache, prod_tail) were
 * swapped or copied before loan mode (a monitor's time): they need nothing
 * back. TX and RX ring i have the same size, so the loans are the newest
 * pr->loans TX slots before hwcur, in the order of their RX slots.
 */
static void return_loans(struct unm_port *p, const struct pipe_priv *pp, struct pipe_ring *pr,
			 struct unm_kring *kr, uint32_t t, uint32_t j, uint32_t k)
{
	struct unm_slot *txs = kr->ring->slot, *rxs = pr->peer_slot;
	const uint32_t nb = pp->nbufs, ns = kr->nslots;

	while (k) {
		uint32_t chunk = k;

		if (chunk > ns - t)
			chunk = ns - t;
		if (chunk > ns - j)
			chunk = ns - j;
		const struct unm_slot *rs = rxs + j;

		for (struct unm_slot *ts = txs + t, *end = ts + chunk; ts != end; ts++, rs++) {
			uint32_t rb = UNM_READ_ONCE(rs->buf_idx); /* untrusted */

			if (unlikely(rb != ts->buf_idx)) {
				if (rb - 2 >= nb - 2) {
					p->st.bad_buf++;
					rb = 1; /* reserved buffer: inside the pool, never valid */
				}
				ts->buf_idx = rb;
				ts->flags = UNM_NS_BUF_CHANGED;
			}
		}
		t = t + chunk == ns ? 0 : t + chunk;
		j = j + chunk == ns ? 0 : j + chunk;
		k -= chunk;
	}
}

/* Lend M TX slots from T into the peer's RX ring from J. */
static uint64_t lend_slots(struct pipe_ring *pr, const struct unm_kring *kr, uint32_t t,
			   uint32_t j, uint32_t m)
{
	const struct unm_slot *txs = kr->ring->slot;
	struct unm_slot *rxs = pr->peer_slot;
	const uint32_t ns = kr->nslots;
	uint64_t bytes = 0;

	while (m) {
		uint32_t chunk = m;

		if (chunk > ns - t)
			chunk = ns - t;
		if (chunk > ns - j)
			chunk = ns - j;
		struct unm_slot *rs = rxs + j;

		for (const struct unm_slot *ts = txs + t, *end = ts + chunk; ts != end; ts++, rs++) {
			struct unm_slot s = *ts;

			bytes += s.len;
			s.flags |= UNM_NS_BUF_CHANGED;
			*rs = s;
		}
		t = t + chunk == ns ? 0 : t + chunk;
		j = j + chunk == ns ? 0 : j + chunk;
		m -= chunk;
	}
	return bytes;
}

/*
 * The peer is gone while slots are on loan (its process exited or was
 * killed without releasing them; netmap's pkt-gen receiver stops at -n so):
 * nobody reads its RX ring any more, so the lent slots complete here, once,
 * and the slots queued after them are discarded, leaving the ring empty
 * (tail = head - 1): an application that waits for its TX ring to drain
 * (pkt-gen's nm_tx_pending() loop at its end) sees it drained. Each lent
 * slot gets the buffer its RX slot holds now, as a release would give it:
 * its own if the peer did not touch it, or the one a forwarding peer
 * swapped in before it died (it may have sent ours on, into our RX ring).
 * The peer wrote those indexes: one that is out of range, or that another
 * slot of this TX ring holds already, is refused and the slot keeps its
 * own buffer (if that is taken too: reserved buffer 1, st.bad_buf), so this
 * ring ends with each buffer at most once. One completion only: later
 * syncs discard what they are given and show no free slot (tx_dead), so a
 * sender that keeps sending stalls after one ring, as on a netmap pipe
 * whose peer's RX ring filled; a sync with nothing new changes nothing.
 */
static int txsync_loan_dead(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	const struct pipe_priv *pp = p->priv;
	struct pipe_ring *pr = kr->priv;
	struct unm_slot *txs = kr->ring->slot;
	const struct unm_slot *rxs = pr->peer_slot;
	const uint32_t ns = kr->nslots, nb = pp->nbufs, k = pr->loans;
	uint64_t *seen;

	if (!k) /* completed already, or nothing was on loan */
		return head != kr->hwcur || kr->hwtail != (head ? head - 1 : ns - 1) ? tx_dead(kr, head)
										: -EPIPE;
	pr->loans = 0;
	seen = calloc((nb + 63) / 64, sizeof(*seen));
	uint32_t t0 = kr->hwcur >= k ? kr->hwcur - k : kr->hwcur + ns - k;
	uint32_t j0 = pr->prod_tail >= k ? pr->prod_tail - k : pr->prod_tail + ns - k;

	/* the slots not on loan: the application's own buffers */
	for (uint32_t t = kr->hwcur; seen && t != t0; t = t + 1 == ns ? 0 : t + 1) {
		uint32_t b = UNM_READ_ONCE(txs[t].buf_idx);

		if (b - 2 < nb - 2)
			seen[b / 64] |= 1ull << (b % 64);
	}
	for (uint32_t i = 0, t = t0, j = j0; i < k;
	     i++, t = t + 1 == ns ? 0 : t + 1, j = j + 1 == ns ? 0 : j + 1) {
		uint32_t own = UNM_READ_ONCE(txs[t].buf_idx);
		uint32_t rb = UNM_READ_ONCE(rxs[j].buf_idx); /* untrusted */
		uint32_t b;

		if (rb - 2 < nb - 2 && !(seen && seen[rb / 64] & 1ull << (rb % 64)))
			b = rb;
		else if (own - 2 < nb - 2 && !(seen && seen[own / 64] & 1ull << (own % 64)))
			b = own;
		else
			b = 1; /* reserved buffer: inside the pool, never valid */
		if (b != rb)
			p->st.bad_buf++;
		if (b != 1 && seen)
			seen[b / 64] |= 1ull << (b % 64);
		if (b != own) {
			txs[t].buf_idx = b;
			txs[t].flags = UNM_NS_BUF_CHANGED;
		}
	}
	free(seen);
	kr->hwcur = head;
	kr->hwtail = head ? head - 1 : ns - 1;
	return -EPIPE;
}

static int txsync_loan(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct pipe_priv *pp = p->priv;
	struct pipe_ring *pr = kr->priv;
	const uint32_t ns = kr->nslots;
	uint32_t n, m, c0, used0, done, space;
	bool moved = false;

	if (unlikely(get_state(pp) == PS_GONE)) /* [L2] */
		return txsync_loan_dead(p, kr, head);
	/* back from the consumer: RX slots [c0, cons_cache) */
	c0 = pr->cons_cache;
	used0 = pr->prod_tail >= c0 ? pr->prod_tail - c0 : pr->prod_tail + ns - c0;
	space = refresh_space(p, pr, ns);
	done = pr->cons_cache >= c0 ? pr->cons_cache - c0 : pr->cons_cache + ns - c0;
	if (done > used0 - pr->loans) {
		uint32_t k = done - (used0 - pr->loans); /* loans back */
		uint32_t t = kr->hwcur >= pr->loans ? kr->hwcur - pr->loans
						    : kr->hwcur + ns - pr->loans;
		uint32_t j = c0 + (used0 - pr->loans);

		return_loans(p, pp, pr, kr, t, j >= ns ? j - ns : j, k);
		pr->loans -= k;
		moved = true;
	}
	n = kr_dist(kr, kr->hwcur, head);
	m = n < space ? n : space;
	if (likely(m)) {
		uint32_t j = pr->prod_tail;

		p->st.tx_bytes += lend_slots(pr, kr, kr->hwcur, j, m);
		p->st.tx_frames += m;
		j += m;
		if (j >= ns)
			j -= ns;
		pr->prod_tail = j;
		pr->loans += m;
		/* [P1] release: RX slots up to j are written; pairs with [C1]. */
		unm_store_release(&pr->ctl->rx_hwtail, j);
		kr->hwcur = kr->hwcur + m >= ns ? kr->hwcur + m - ns : kr->hwcur + m;
	}
	/* the slots before the oldest loan are ours again */
	kr->hwtail = kr->hwcur >= pr->loans + 1 ? kr->hwcur - pr->loans - 1
						: kr->hwcur + ns - pr->loans - 1;
	if (likely(m)) {
		disarm(pp, pr);
		/* [P3] full fence: our rx_hwtail store before the read of
		 * cons_need_wake; pairs with [C4] (double check in pipe_arm). */
		unm_smp_mb();
		if (unlikely(UNM_READ_ONCE(pr->ctl->cons_need_wake)))
			pipe_kick(p, pp);
		if (unlikely(m < n))
			pipe_tx_blocked(p, kr, head);
		return 0;
	}
	if (moved) {
		disarm(pp, pr);
		return 0;
	}
	if (n)
		pipe_tx_blocked(p, kr, head);
	pipe_idle_check(pp, pr);
	return get_state(pp) == PS_GONE ? txsync_loan_dead(p, kr, head) : 0;
}

int pipe_txsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct pipe_ring *pr = kr->priv;

	/* The one branch a monitor (zero-copy or copy) costs an
	 * unmonitored ring. A monitor starts once no slot is on loan. */
	if (unlikely(__atomic_load_n(&pr->zm, __ATOMIC_RELAXED))) {
		if (unlikely(pr->loans))
			return txsync_loan(p, kr, kr->hwcur);
		return zm_txsync(p, kr, head);
	}
	if (((struct pipe_priv *)p->priv)->loan)
		return txsync_loan(p, kr, head);
	return txsync_direct(p, kr, head);
}

/* For a copy monitor's txsync (lib/pipe_zmon.c): copy done, now swap. */
int pipe_txsync_direct(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	return txsync_direct(p, kr, head);
}

/*
 * Check newly visible RX slots [from, to): each slot's buf_idx/len/flags
 * word is read once, and written back (with buffer 1 and len 0 if bad).
 * The write-back is also what keeps the swap fast: a line the consumer
 * has written migrates to the producer in one transfer when it refills
 * the slot, while a line the consumer only read would need a second
 * round trip (an invalidation) for the producer's store.
 */
static void check_rx_slots(struct unm_port *p, struct unm_kring *kr, uint32_t from, uint32_t to)
{
	const struct pipe_priv *pp = p->priv;
	struct unm_slot *s = kr->ring->slot;
	const uint32_t nb = pp->nbufs, bs = pp->buf_size;
	uint64_t bytes = 0, frags = 0, n = 0;

	for (uint32_t i = from; i != to; i = kr_next(kr, i), n++) {
		slot_word *wp = (slot_word *)&s[i];
		uint64_t w = UNM_READ_ONCE(*wp); /* untrusted */
		uint32_t idx = (uint32_t)w, len = (uint16_t)(w >> 32);

		if (unlikely(idx - 2 >= nb - 2 || len > bs)) {
			if (idx - 2 >= nb - 2)
				p->st.bad_buf++;
			else
				p->st.bad_len++;
			p->st.drops++;
			w = (w & 0xffff000000000000ull) | 1; /* buffer 1, len 0 */
			len = 0;
		}
		UNM_WRITE_ONCE(*wp, w);
		bytes += len;
		frags += (w >> 48 & UNM_NS_MOREFRAG) != 0;
	}
	p->st.rx_bytes += bytes;
	p->st.rx_frames += n - frags;
}

static int pipe_rxsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct pipe_priv *pp = p->priv;
	struct pipe_ring *pr = kr->priv;
	const uint32_t ns = kr->nslots;
	uint32_t t, free_, adv;
	int st;

	if (head != kr->hwcur) {
		/* [C2] release: we are done with RX slots before head; pairs with [P2]. */
		unm_store_release(&pr->ctl->rx_hwcur, head);
		kr->hwcur = head;
		/* [C3] full fence: rx_hwcur store before the read of
		 * prod_need_wake; pairs with [P4] (double check in pipe_arm). */
		unm_smp_mb();
		if (unlikely(UNM_READ_ONCE(pr->ctl->prod_need_wake)))
			pipe_kick(p, pp);
	}
	st = get_state(pp); /* [L2]: before rx_hwtail, so a dead peer's last frames are seen */
	t = unm_load_acquire(&pr->ctl->rx_hwtail); /* [C1] pairs with [P1]; untrusted */
	if (t != kr->hwtail) {
		/* The producer may fill up to the slot before hwcur. */
		free_ = ns - 1 - kr_dist(kr, kr->hwcur, kr->hwtail);
		adv = t < ns ? kr_dist(kr, kr->hwtail, t) : ns;
		if (likely(adv <= free_)) {
			check_rx_slots(p, kr, kr->hwtail, t);
			kr->hwtail = t;
			disarm(pp, pr);
			return 0;
		}
		p->st.bad_ring++;
	}
	if (st == PS_GONE)
		return kr->hwtail == kr->hwcur ? -EPIPE : 0;
	/* Idle: forward what our monitor released on TX ring i of the same
	 * pair (same thread), so an end that only waits for RX delivers. */
	if (kr->ringid < p->n_tx) {
		struct unm_kring *tk = &p->tx[kr->ringid];

		if (__atomic_load_n(&((struct pipe_ring *)tk->priv)->zm, __ATOMIC_RELAXED))
			zm_txsync(p, tk, tk->hwcur);
	}
	pipe_idle_check(pp, pr);
	return 0;
}

/*
 * port.c calls this when a ring would block (cur == tail). Spin phase:
 * make unm_fd() readable ourselves. Then: empty the eventfd if it may hold
 * our signal or a stale kick, and re-check every waiting ring (recheck);
 * then wait = W_ARMED | index, need_wake = 1, full fence, re-read the
 * peer's index (double check). True = re-sync.
 */
bool pipe_arm(struct unm_port *p, struct unm_kring *kr)
{
	struct pipe_priv *pp = p->priv;
	struct pipe_ring *pr = kr->priv;
	uint64_t now = unm_now_ns();
	uint32_t seen;

	if (get_state(pp) == PS_GONE)
		return false; /* the hung-up socket keeps unm_fd() readable */
	if (pr->progressed) {
		pr->progressed = false;
		pr->idle_since = now;
	}
	if (now - pr->idle_since < pp->spin_ns) {
		/* Before the signal: a drain that eats it sees W_SPIN. */
		__atomic_store_n(&pr->wait, W_SPIN, __ATOMIC_RELAXED);
		pr->spinning = true;
		pipe_self_signal(pp);
		return false;
	}
	if (__atomic_load_n(&pp->self_sig, __ATOMIC_RELAXED) |
	    __atomic_load_n(&pp->kick_left, __ATOMIC_RELAXED))
		pipe_drain_recheck(p, pp);
	seen = kr->dir == 0 ? pr->cons_cache : kr->hwtail;
	__atomic_store_n(&pr->wait, W_ARMED | seen, __ATOMIC_RELAXED);
	pr->spinning = false;
	if (kr->dir == 0)
		zm_arm(pr);
	if (!pr->armed) {
		/* [W1] release: the wait word before need_wake, so a thread
		 * that drains the kick answering need_wake sees it in
		 * recheck(); pairs with [W2] (through the peer's kick). */
		unm_store_release(pr->my_wake, 1u);
		pr->armed = true;
	}
	/* [P4]/[C4] full fence: need_wake store before the re-read of the
	 * peer's index; pairs with [C3] (TX ring) or [P3] (RX ring).
	 * With a monitor also [Z8]: prod_need_wake before the re-read of
	 * m_hwcur; pairs with [Z7] (zmon_rxsync). */
	unm_smp_mb();
	if (kr->dir == 0)
		return UNM_READ_ONCE(pr->ctl->rx_hwcur) != seen ||
		       ((__atomic_load_n(&pr->zm, __ATOMIC_RELAXED) & (ZM_ON | ZM_COPY)) == ZM_ON &&
			UNM_READ_ONCE(pr->z.mc->m_hwcur) != pr->z.mseen);
	return UNM_READ_ONCE(pr->ctl->rx_hwtail) != seen;
}

/*
 * After an epoll_wait on unm_fd() (unm_wait, unmd): empty the eventfd
 * without recheck(), since the caller re-syncs every ring it waits for
 * next; accept; notice a hang-up. The syncs that follow report -EPIPE
 * (after RX drained). Spinning rings stop asking for signals: the caller
 * re-syncs those it still waits for, which spin again.
 */
static int pipe_wakeup(struct unm_port *p)
{
	struct pipe_priv *pp = p->priv;
	uint64_t now;

	for (unsigned i = 0; i < p->n_tx + p->n_rx; i++) {
		uint64_t w = W_SPIN;

		__atomic_compare_exchange_n(&pp->rings[i].wait, &w, 0, false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED);
	}
	/* In the spin phase unm_fd() stays readable on purpose and unm_wait
	 * loops through here: look at the sockets only every PIPE_CHECK_NS. */
	if (__atomic_load_n(&pp->self_sig, __ATOMIC_RELAXED)) {
		now = unm_now_ns();
		/* relaxed: several unm_ring_wait() threads may get here */
		if (now < __atomic_load_n(&pp->next_service, __ATOMIC_RELAXED))
			return 0;
		__atomic_store_n(&pp->next_service, now + PIPE_CHECK_NS, __ATOMIC_RELAXED);
	} else {
		drain(pp);
	}
	pipe_service(pp);
	return 0;
}

/* ---- open / close ---------------------------------------------------------- */

static void pipe_free(struct unm_port *p, struct pipe_priv *pp)
{
	pipe_rdv_forget(pp);
	close_fd(&pp->cfd);
	close_fd(&pp->lfd);
	for (int i = 0; i < PIPE_PENDING; i++)
		close_fd(&pp->pending[i]);
	close_fd(&pp->peer_efd);
	close_fd(&pp->my_efd);
	zm_free(p, pp);
	free(pp->rings);
	free(pp);
	p->priv = NULL;
}

static int pipe_open(struct unm_port *p, const struct unm_spec *s, const struct unm_open_opts *o)
{
	struct pipe_priv *pp = calloc(1, sizeof(*pp));
	const char *env = getenv("UNM_PIPE_SPIN_US");
	int rc;

	if (!pp)
		return -ENOMEM;
	pp->p = p;
	pp->role = s->pipe_role;
	pp->copy_small = (o->flags & UNM_OPEN_PIPE_COPY) != 0;
	pp->loan = (o->flags & UNM_OPEN_PIPE_LOAN) != 0;
	pp->lfd = pp->cfd = pp->my_efd = pp->peer_efd = -1;
	pp->zm_lfd = pp->zm_pend = pp->zm_cfd = pp->zm_efd = pp->zm_memfd = pp->zc_memfd = -1;
	for (int i = 0; i < PIPE_PENDING; i++)
		pp->pending[i] = -1;
	pp->spin_ns = env ? strtoull(env, NULL, 10) * 1000ull : PIPE_SPIN_NS;
	if (pp->spin_ns > 1000000000ull)
		pp->spin_ns = 1000000000ull;
	snprintf(pp->key, sizeof(pp->key), "%s{%s", s->port, s->pipe_id);
	p->priv = pp;
	pp->my_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (pp->my_efd < 0 || p->epfd < 0)
		rc = unm_seterr(-errno, "%s: %s", p->name, strerror(errno));
	else if (!(rc = pipe_ep_add(p->epfd, pp->my_efd, EPOLLIN, EV_WAKE)))
		rc = pipe_rendezvous(p, pp, o);
	if (!rc)
		zm_listen(p, pp);
	if (rc) { /* no ring to flush: free what the rendezvous built, unm_open the rest */
		pipe_free(p, pp);
		p->priv = NULL;
	}
	return rc;
}

static void pipe_close(struct unm_port *p)
{
	struct pipe_priv *pp = p->priv;

	if (!pp)
		return;
	for (unsigned i = 0; pp->rings && i < p->n_tx + p->n_rx; i++) {
		struct pipe_ring *pr = &pp->rings[i];

		if (pr->ctl)
			UNM_WRITE_ONCE(*(i < p->n_tx ? &pr->ctl->prod_state : &pr->ctl->cons_state),
				       UNM_PIPE_CLOSED);
	}
	pipe_free(p, pp);
}

static void pipe_info(const struct unm_port *p, struct unm_port_info *info)
{
	struct pipe_priv *pp = p->priv;
	int st = pp ? get_state(pp) : PS_GONE;

	info->zero_copy_peer = 1;
	info->peer = st == PS_WAITING ? UNM_PEER_WAITING :
		     st == PS_CONNECTED ? UNM_PEER_CONNECTED : UNM_PEER_GONE;
}

const struct unm_port_ops unm_pipe_ops = {
	.type = "pipe",
	.open = pipe_open,
	.txsync = pipe_txsync,
	.rxsync = pipe_rxsync,
	.arm = pipe_arm,
	.wakeup = pipe_wakeup,
	.close = pipe_close,
	.info = pipe_info,
};
