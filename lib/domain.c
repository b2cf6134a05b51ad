// SPDX-License-Identifier: BSD-2-Clause
/*
 * domain.c - a switch port inside a trust domain (docs/architecture.md,
 * "Trust domains"): the region's layout (shared with unmd, which makes
 * it) and the member's port ops, which forward in the sender's own
 * txsync, as netmap's VALE does in the sender's system call.
 *
 * unm_open("vale0:p") on a switch whose domains are on gets, instead of
 * an isolated CSB region, the domain region (every member's rings and one
 * buffer pool), its member index and token, a kick eventfd to unmd and
 * the wake eventfd of every member slot (lib/vale.c asks, unmd decides).
 *
 * TX (dom_txsync): each frame's destination MAC is looked up in the
 * domain's learning table (its source MAC is learned); consecutive
 * frames for one destination are handed over as a run: claim the
 * destination's RX ring (a compare-and-swap of our token into its ctail
 * word, which holds the claim token and rx_hwtail together), swap our TX
 * slots with its free RX slots (the whole slot goes over, the free
 * buffer comes back, as pipes do: no copy), publish the new rx_hwtail
 * and release the claim in one CAS from the word our claim made [D1],
 * wake it if it sleeps. A run longer than DOM_PUB_CHUNK slots is
 * published in pieces (publish_held: the same CAS keeping our token in
 * the word), so the owner works on the first frames while we swap the
 * rest; a holder that dies between two pieces leaves the published ones
 * (unmd clears its claim, the word's tail half stays). If that CAS fails, unmd cleared our claim (it
 * does so only for holders it knows cannot write any more: it took us
 * for gone) or a member scribbled on the word: we publish nothing and
 * count the run in tx_lost. Frames for
 * ports outside the domain go by swap into our UP ring, which unmd reads
 * (unmd forwards them like any port's and never copies them back into
 * the domain). Broadcast and unknown unicast: copies to every other
 * member, and the last destination (UP if the switch has ports outside,
 * else the last member) gets the frame itself by swap. TX slots complete
 * at once; in lossless mode (hdr->lossless, set by unmd) a run that does
 * not fit stops the sync there and the ring waits for that destination:
 * for DOM_SPIN_NS after it last moved it polls (spin phase, as RX and
 * pipes), then arm sets our bit in its wait_mask (or up_wait), whose
 * owner (or unmd) wakes us when it releases slots; the next sync
 * resumes the rest of that run as it was planned (pend_*), without
 * routing its frames again.
 *
 * RX (dom_rxsync): release [hwcur, head) with one release store of
 * rx_hwcur [D3] (then wake producers in wait_mask), take [hwtail,
 * rx_hwtail) [D2], checking every new slot (buffer index, length) and
 * writing its first word back (the slot lines then move to the next
 * producer in one transfer each).
 *
 * Ordering: [D1] release CAS of ctail (new rx_hwtail, token 0; our
 * token kept for a piece) by the claim holder <-> [D2] acquire load of
 * ctail by the owner; [D3] release of rx_hwcur <-> [D4] acquire by the
 * next holder; [D5] owner sets
 * cons_need_wake, full fence, re-reads rx_hwtail <-> [D6] holder
 * publishes, full fence, reads cons_need_wake. The claim CAS (acquire)
 * and the [D1] CAS order successive holders; unmd never clears a live
 * holder's claim (daemon/domain.c), so a claim holder is the ring's only
 * writer from its claim to its publish, however long it is descheduled.
 * UP ring:
 * [D7] release of up_hwtail <-> unmd's acquire ([H1] in vport_dom); [D8]
 * full fence then up_need_kick, pairing with unmd's [H3].
 *
 * Trust: members trust each other for data and liveness (that is what a
 * domain is); still every index read from shared memory is range-checked
 * before it addresses memory, so a scribbling member can garble the
 * domain's frames or stall it, never make another member touch memory
 * outside the region. unmd trusts nothing here (daemon/vport_dom.c).
 *
 * Threads: the unm_port contract (one thread per ring; one TX and one RX
 * ring per member).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "domain.h"
#include "ctlmsg.h"

#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((uint64_t)(a) - 1))
#define PAGE 4096u
#define CLAIM_TRIES 256   /* CAS attempts (with a pause) before giving up */
#define DOM_SPIN_NS 50000 /* a ring keeps polling this long after it last moved */
/* A zero-copy monitor asleep is woken once 1/MON_WAKE_DIV of its ring is
 * queued, or at a lull of the monitored port (mon_flush): one wake-up per
 * many frames, never one per release. */
#define MON_WAKE_DIV 4
#define DOM_PUB_CHUNK 128 /* a longer run is published in pieces of this many slots */
#define SWAP_PF 32        /* swap_in: slots ahead to prefetch (for writing) */
#define MAC_PF 8          /* dom_txsync's stream path: frames ahead to prefetch */

/* ---- layout (unmd and members) --------------------------------------------- */

int unm_dom_layout(uint32_t max_members, uint32_t nslots, uint32_t buf_size,
		   struct unm_dom_layout *l)
{
	if (max_members < 1 || max_members > UNM_DOM_MAX_MEMBERS || nslots < UNM_MIN_SLOTS ||
	    nslots > UNM_MAX_SLOTS || buf_size < UNM_MIN_BUF_SIZE || buf_size > UNM_MAX_BUF_SIZE)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	l->max_members = max_members;
	l->nslots = nslots;
	l->buf_size = buf_size;
	l->lt_buckets = UNM_DOM_LT_BUCKETS;
	l->lt_ofs = PAGE;
	l->members_ofs = ALIGN_UP(l->lt_ofs + (uint64_t)UNM_DOM_LT_BUCKETS * UNM_DOM_LT_WAYS *
				  sizeof(struct unm_dom_lt_ent), PAGE);
	l->ring_bytes = ALIGN_UP(sizeof(struct unm_ring) + (uint64_t)nslots * sizeof(struct unm_slot),
				 UNM_CACHELINE);
	l->member_size = ALIGN_UP(UNM_DOM_RING0 + 3 * l->ring_bytes, PAGE);
	l->pool_ofs = l->members_ofs + max_members * l->member_size;
	l->buf_count = 2 + 3 * max_members * nslots;
	l->size = ALIGN_UP(l->pool_ofs + (uint64_t)l->buf_count * buf_size, PAGE);
	return 0;
}

static void init_ring(char *base, const struct unm_dom_layout *l, unsigned k, unsigned which)
{
	struct unm_ring *r = unm_dom_ring(base, l, k, which);
	uint64_t ofs = (uint64_t)((char *)r - base);
	uint32_t next = 2 + (3 * k + which) * l->nslots;

	*(int64_t *)&r->buf_ofs = (int64_t)l->pool_ofs - (int64_t)ofs;
	*(uint32_t *)&r->num_slots = l->nslots;
	*(uint32_t *)&r->nr_buf_size = l->buf_size;
	*(uint16_t *)&r->ringid = 0;
	*(uint16_t *)&r->dir = which == UNM_DOM_RX ? 1 : 0;
	for (unsigned s = 0; s < l->nslots; s++) {
		r->slot[s].buf_idx = next++;
		r->slot[s].len = 0;
		r->slot[s].flags = 0;
	}
}

void unm_dom_member_reset(void *base, const struct unm_dom_layout *l, unsigned k)
{
	struct unm_dom_member *m = unm_dom_member(base, l, k);
	struct unm_ring *tx = unm_dom_ring(base, l, k, UNM_DOM_TX);
	struct unm_ring *rx = unm_dom_ring(base, l, k, UNM_DOM_RX);
	struct unm_if *nifp = (struct unm_if *)((char *)m + UNM_DOM_IF_OFS);

	/* constant fields back, in case a member scribbled on them */
	*(uint32_t *)&nifp->ni_version = UNM_SHM_VERSION;
	*(uint32_t *)&nifp->ni_tx_rings = 1;
	*(uint32_t *)&nifp->ni_rx_rings = 1;
	*(int64_t *)&nifp->ring_ofs[0] = UNM_DOM_RING0 - UNM_DOM_IF_OFS;
	*(int64_t *)&nifp->ring_ofs[1] = UNM_DOM_RING0 - UNM_DOM_IF_OFS + (int64_t)l->ring_bytes;
	for (unsigned w = 0; w < 3; w++) {
		struct unm_ring *r = unm_dom_ring(base, l, k, w);
		uint64_t ofs = (uint64_t)((char *)r - (char *)base);

		*(int64_t *)&r->buf_ofs = (int64_t)l->pool_ofs - (int64_t)ofs;
		*(uint32_t *)&r->num_slots = l->nslots;
		*(uint32_t *)&r->nr_buf_size = l->buf_size;
	}
	m->ctail = 0;
	m->rx_hwcur = 0;
	m->wait_mask = 0;
	m->cons_need_wake = 0;
	m->up_hwtail = m->up_hwcur = 0;
	m->up_wait = 0;
	m->up_need_kick = 1;
	m->tx_frames = m->tx_bytes = m->tx_local = m->tx_up = m->tx_drops = m->rx_frames = 0;
	m->tx_lost = 0;
	m->rx_mon = m->mon_of = m->mon_gone = 0;
	m->mon_handed = m->mon_drops = 0;
	tx->head = tx->cur = 0;
	tx->tail = l->nslots - 1;
	rx->head = rx->cur = rx->tail = 0;
}

int unm_dom_create(const struct unm_dom_layout *l, int *fdp, void **basep)
{
	struct unm_region_hdr *h;
	struct unm_dom_hdr *dh;
	char *base;
	int fd, rc;

	fd = memfd_create("unetmap-domain", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)l->size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	base = mmap(NULL, l->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		rc = -errno;
		close(fd);
		return rc;
	}
	h = (struct unm_region_hdr *)base;
	h->magic = UNM_REGION_MAGIC;
	h->version = UNM_SHM_VERSION;
	h->hdr_size = sizeof(*h);
	h->size = l->size;
	h->kind = UNM_REGION_DOMAIN;
	h->n_ifs = 0;
	h->csb_ofs = 256;
	h->buf_size = l->buf_size;
	h->buf_pool_ofs = l->pool_ofs;
	h->buf_count = l->buf_count;
	h->mtu = 1500;
	dh = unm_dom_hdr(base);
	dh->magic = UNM_DOM_MAGIC;
	dh->max_members = l->max_members;
	dh->nslots = l->nslots;
	dh->buf_size = l->buf_size;
	dh->lt_buckets = l->lt_buckets;
	dh->member_size = (uint32_t)l->member_size;
	dh->lt_ofs = l->lt_ofs;
	dh->members_ofs = l->members_ofs;
	for (unsigned k = 0; k < l->max_members; k++) {
		for (unsigned w = 0; w < 3; w++)
			init_ring(base, l, k, w);
		unm_dom_member_reset(base, l, k);
	}
	*fdp = fd;
	*basep = base;
	return 0;
}

#define BAD(...) (snprintf(err, errlen, __VA_ARGS__), -EBADMSG)

int unm_dom_map(int fd, struct unm_dom_layout *l, void **basep, char *err, size_t errlen)
{
	struct unm_region_hdr h;
	struct unm_dom_hdr dh;
	struct stat st;
	void *base;
	int seals;

	if (fstat(fd, &st) < 0)
		return snprintf(err, errlen, "fstat: %s", strerror(errno)), -errno;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return BAD("domain memfd is not sealed against shrinking");
	if (st.st_size < (off_t)PAGE || st.st_size > (1ll << 40))
		return BAD("domain region of %lld bytes", (long long)st.st_size);
	base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return snprintf(err, errlen, "mmap: %s", strerror(errno)), -errno;
	memcpy(&h, base, sizeof(h)); /* one copy: a member may be rewriting it */
	memcpy(&dh, unm_dom_hdr(base), sizeof(dh));
	if (h.magic != UNM_REGION_MAGIC || h.version != UNM_SHM_VERSION ||
	    h.kind != UNM_REGION_DOMAIN || dh.magic != UNM_DOM_MAGIC ||
	    unm_dom_layout(dh.max_members, dh.nslots, dh.buf_size, l) ||
	    l->size != (uint64_t)st.st_size || h.size != l->size || h.buf_size != l->buf_size ||
	    h.buf_pool_ofs != l->pool_ofs || h.buf_count != l->buf_count) {
		munmap(base, (size_t)st.st_size);
		return BAD("not a domain region of this version (or its header does not match "
			   "its own geometry)");
	}
	*basep = base;
	return 0;
}

/* ---- the member's port ------------------------------------------------------ */

struct dom_priv {
	int sock;
	uint64_t last_alive_ns;
	struct unm_dom_layout l;
	char *base, *pool;
	unsigned me;
	uint32_t token;
	struct unm_dom_hdr *hdr;
	struct unm_dom_member *m[UNM_DOM_MAX_MEMBERS], *my;
	struct unm_slot *rxs[UNM_DOM_MAX_MEMBERS];  /* every member's RX slots */
	struct unm_slot *up;                         /* our UP ring's slots */
	struct unm_dom_lt_ent *lt;
	int ukick;                                   /* to unmd */
	int wake[UNM_DOM_MAX_MEMBERS];               /* every member slot's */
	uint32_t up_tail, up_cons;                   /* UP: ours / cached unmd's */
	int blocked;                                 /* lossless: -1, member, UPLINK */
	uint64_t rx_progress_ns;                     /* last time RX moved */
	uint64_t tx_idle_since;                      /* TX arm: since when stuck */
	bool tx_moved;                               /* TX moved since the last arm */
	bool self_sig;                               /* our wake fd made readable
	                                                by ourselves (spin phase) */
	uint64_t c_local, c_up, c_drops;             /* since the last flush */
	/* lossless: the rest of a run a sync stopped in (its destination
	 * full), as planned: [pend_at, + pend_n) slots, pend_nfr frames,
	 * pend_bytes, to pend_dst. The next sync resumes it if hwcur is
	 * still pend_at and the destination still valid, instead of routing
	 * every pending frame again (reading each one's MACs) per retry. */
	uint32_t pend_at, pend_n, pend_nfr;
	int pend_dst;
	uint64_t pend_bytes;
	unsigned test_stall_us;                      /* test_stall() */
	/* zero-copy RX monitor (mon_handoff): the buffer index each RX slot
	 * had when rxsync handed it to the application, so a slot whose
	 * buffer the application swapped away is not handed on */
	uint32_t *rx_shadow;
	/* ... and the buffer index each slot of the monitor's RX ring holds,
	 * as we (its only producer) last wrote it, for the monitor whose
	 * token is mon_tok: the buffer we take back from a slot is the one
	 * we put there, whatever the monitor writes into its ring */
	uint32_t *mon_buf, mon_tok;
	/* frames handed to monitor member mon_lull - 1 since its last
	 * wake-up check that did not wake it (below MON_WAKE_DIV): the next
	 * lull (mon_flush) wakes it if asleep; 0: none */
	unsigned mon_lull;
	bool is_mon;                                 /* this port is a monitor */
};

static inline uint32_t nxt(uint32_t i, uint32_t ns)
{
	return i + 1 == ns ? 0 : i + 1;
}

static inline uint32_t dist(uint32_t from, uint32_t to, uint32_t ns)
{
	return to >= from ? to - from : to + ns - from;
}

static inline void cpu_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void efd_write(int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: saturated, the reader wakes anyway */
	}
}

/* Claim M's RX ring: *HELD = the ctail word our CAS made (our token and
 * the tail we found), which only unclaim() may change back. */
static bool claim(struct dom_priv *dp, struct unm_dom_member *m, uint64_t *held)
{
	for (unsigned t = 0; t < CLAIM_TRIES; t++) {
		uint64_t c = __atomic_load_n(&m->ctail, __ATOMIC_RELAXED);

		if (unm_dom_ct_token(c) == 0 &&
		    __atomic_compare_exchange_n(&m->ctail, &c, c | dp->token, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			*held = c | dp->token;
			return true;
		}
		cpu_pause();
	}
	return false;
}

/* Test hook (UNM_TEST_DOM_STALL_MS, read at open; tests only): a holder
 * descheduled between its swap and its publish, as a loaded host does. */
static void test_stall(const struct dom_priv *dp)
{
	if (unlikely(dp->test_stall_us))
		usleep(dp->test_stall_us);
}

/*
 * Publish TAIL and release M's claim in one CAS from HELD (what claim()
 * made). false: the word is not ours any more (unmd cleared the claim,
 * taking us for gone, or a member scribbled on it): nothing is published,
 * whatever we swapped into [tail of HELD, TAIL) stays unpublished (the
 * caller counts those frames lost). Then wake whoever waits for the
 * ring, and its owner if asleep.
 */
static bool unclaim(struct dom_priv *dp, unsigned k, uint64_t held, uint32_t tail, bool published)
{
	struct unm_dom_member *m = dp->m[k];
	uint32_t wm;
	bool ok;

	test_stall(dp);
	/* [D1] release: the slots before the new tail are written; pairs
	 * with [D2]. Also the claim's release for the next holder's CAS. */
	ok = __atomic_compare_exchange_n(&m->ctail, &held, unm_dom_ct(0, tail), false,
					 __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	/* [D6] full fence: ctail CAS / need_wake loads; pairs with [D5]
	 * (and the waiters' fence in dom_arm). */
	unm_smp_mb();
	if (!ok)
		return false;
	if (published && UNM_READ_ONCE(m->cons_need_wake))
		efd_write(dp->wake[k]);
	wm = UNM_READ_ONCE(m->wait_mask);
	if (unlikely(wm & ~(1u << dp->me))) {
		wm = __atomic_exchange_n(&m->wait_mask, 0, __ATOMIC_ACQ_REL);
		for (unsigned i = 0; i < dp->l.max_members; i++)
			if (wm & (1u << i))
				efd_write(dp->wake[i]);
		if (wm & UNM_DOM_WAIT_UNMD)
			efd_write(dp->ukick); /* unmd watches every member's kick fd */
	}
	return true;
}

/*
 * Publish TAIL of M's ring (member K) while keeping its claim: a long run
 * goes out in pieces, so the owner takes the first ones while we swap the
 * rest. [D1] release CAS from *HELD to (our token, TAIL); *HELD follows.
 * false: the word is not ours any more (as unclaim: nothing published).
 * Then wake the owner if asleep ([D6], as unclaim does).
 */
static bool publish_held(struct dom_priv *dp, unsigned k, uint64_t *held, uint32_t tail)
{
	struct unm_dom_member *m = dp->m[k];
	uint64_t old = *held, nw = unm_dom_ct(unm_dom_ct_token(old), tail);

	if (!__atomic_compare_exchange_n(&m->ctail, &old, nw, false, __ATOMIC_RELEASE,
					 __ATOMIC_RELAXED))
		return false;
	*held = nw;
	unm_smp_mb();
	if (UNM_READ_ONCE(m->cons_need_wake))
		efd_write(dp->wake[k]);
	return true;
}

/* Slots of the next piece of a run from I (LEFT slots left): DOM_PUB_CHUNK,
 * longer to end at a frame's end; LEFT if none before the run's end. */
static uint32_t piece(const struct unm_slot *txs, uint32_t i, uint32_t left, uint32_t ns)
{
	uint32_t c = DOM_PUB_CHUNK;

	while (c < left && (UNM_READ_ONCE(txs[(i + c - 1) % ns].flags) & UNM_NS_MOREFRAG))
		c++;
	return c < left ? c : left;
}

/* Free slots of member K's RX ring from tail T (a holder's: the one in
 * its claim word; else a hint); *AT = where to fill. Untrusted values
 * read once and bounded. */
static uint32_t rx_space_at(struct dom_priv *dp, struct unm_dom_member *m, uint32_t t,
			    uint32_t *at)
{
	const uint32_t ns = dp->l.nslots;
	uint32_t c = __atomic_load_n(&m->rx_hwcur, __ATOMIC_ACQUIRE); /* [D4] pairs with [D3] */

	if (unlikely(t >= ns || c >= ns))
		return 0;
	*at = t;
	return dist(t, c == 0 ? ns - 1 : c - 1, ns);
}

/* Free slots of member K's RX ring, a hint for a non-holder. */
static uint32_t rx_space(struct dom_priv *dp, struct unm_dom_member *m, uint32_t *at)
{
	return rx_space_at(dp, m, unm_dom_ct_tail(UNM_READ_ONCE(m->ctail)), at);
}

/* Frames of ours that went into a ring whose claim we had lost. */
static void lost(struct dom_priv *dp, uint32_t frames)
{
	dp->c_drops += frames;
	dp->my->tx_lost += frames;
}

/* Slots of frames from I before END fitting in SPACE slots: cut at a frame end. */
static uint32_t fit(const struct unm_slot *txs, uint32_t i, uint32_t end, uint32_t space,
		    uint32_t ns, uint32_t *frames)
{
	uint32_t n = 0, ok = 0, fr = 0;

	while (i != end && n < space) {
		uint16_t fl = UNM_READ_ONCE(txs[i].flags);

		n++;
		i = nxt(i, ns);
		if (!(fl & UNM_NS_MOREFRAG)) {
			ok = n;
			fr++;
		}
	}
	*frames = fr;
	return ok;
}

/* Swap N slots from TXS[t] into RING[j]; free buffers come back (checked). */
static uint64_t swap_in(struct dom_priv *dp, struct unm_port *p, struct unm_slot *txs, uint32_t t,
			struct unm_slot *dst, uint32_t j, uint32_t n)
{
	const uint32_t ns = dp->l.nslots, nb = dp->l.buf_count;
	uint64_t bytes = 0;

	while (n) {
		/* in chunks that wrap neither ring: no index test per slot */
		uint32_t chunk = n;

		if (chunk > ns - t)
			chunk = ns - t;
		if (chunk > ns - j)
			chunk = ns - j;
		for (uint32_t k = 0; k < chunk; k++) {
			struct unm_slot s = txs[t + k];
			uint32_t rb;

			/* The destination's slot lines come from its owner's
			 * cache: ask for them (for writing, one transfer each)
			 * a few lines ahead, so their latencies overlap
			 * instead of adding up. */
			if (!((j + k) & 3) && k + SWAP_PF < chunk)
				__builtin_prefetch(&dst[j + k + SWAP_PF], 1);
			rb = UNM_READ_ONCE(dst[j + k].buf_idx); /* from the ring's owner */

			if (unlikely(rb - 2 >= nb - 2)) {
				p->st.bad_buf++;
				rb = 1; /* reserved: inside the pool, never valid */
			}
			s.flags |= UNM_NS_BUF_CHANGED;
			dst[j + k] = s;
			txs[t + k].buf_idx = rb;
			txs[t + k].flags = UNM_NS_BUF_CHANGED;
			bytes += s.len;
		}
		t = t + chunk == ns ? 0 : t + chunk;
		j = j + chunk == ns ? 0 : j + chunk;
		n -= chunk;
	}
	return bytes;
}

/* Run [I, END) of NFR whole frames to member K by swap. Returns the slots
 * consumed (all of them but in lossless mode, where it may stop short). */
static uint32_t push_member(struct unm_port *p, struct dom_priv *dp, struct unm_slot *txs,
			    uint32_t i, uint32_t end, uint32_t nfr, unsigned k, bool lossless)
{
	const uint32_t ns = dp->l.nslots;
	uint32_t n = dist(i, end, ns), at = 0, space, m, fr = nfr, done = 0, pf;
	uint64_t held;
	bool ok = true;

	/* drop mode, ring full (a hint read without the claim: the owner
	 * only adds room): drop without writing its claim line, which the
	 * owner reads in every rxsync */
	if (!lossless && rx_space(dp, dp->m[k], &at) == 0) {
		dp->c_drops += fr;
		return n;
	}
	if (!claim(dp, dp->m[k], &held)) {
		/* busy (or its holder died: unmd frees it within 100 ms): wait
		 * in both modes, a busy ring is not a full one */
		dp->blocked = (int)k;
		return 0;
	}
	at = unm_dom_ct_tail(held);
	space = rx_space_at(dp, dp->m[k], at, &at);
	m = space >= n ? n : fit(txs, i, end, space, ns, &fr); /* all fits: NFR frames */
	/* a run longer than a piece: publish each piece as it is in, so
	 * the owner works on it while we swap the rest (one publish at the
	 * end would make it wait for the whole run, then us for it) */
	while (m - done > DOM_PUB_CHUNK) {
		uint32_t c = piece(txs, (i + done) % ns, m - done, ns);

		if (c == m - done)
			break;
		swap_in(dp, p, txs, (i + done) % ns, dp->rxs[k], (at + done) % ns, c);
		if (!publish_held(dp, k, &held, (at + done + c) % ns)) {
			ok = false; /* claim cleared under us: nothing more goes in */
			break;
		}
		done += c;
	}
	if (ok && m > done)
		swap_in(dp, p, txs, (i + done) % ns, dp->rxs[k], (at + done) % ns, m - done);
	if (ok && unclaim(dp, k, held, m ? (at + m) % ns : unm_dom_ct_tail(held), m != 0)) {
		dp->c_local += m ? fr : 0;
	} else if (m > done) {
		/* the frames after the last piece published: lost */
		fit(txs, (i + done) % ns, (i + m) % ns, m - done, ns, &pf);
		dp->c_local += fr - pf;
		lost(dp, pf);
	}
	if (m < n) {
		if (lossless) {
			dp->blocked = (int)k;
			return m;
		}
		fit(txs, (i + m) % ns, end, n - m, ns, &fr);
		dp->c_drops += fr;
	}
	return n;
}

/* Run [I, END) into our UP ring (unmd forwards it outside the domain). */
static uint32_t push_up(struct unm_port *p, struct dom_priv *dp, struct unm_slot *txs, uint32_t i,
			uint32_t end, bool lossless)
{
	const uint32_t ns = dp->l.nslots;
	uint32_t n = dist(i, end, ns), space, m, fr;
	uint32_t prev = dp->up_cons == 0 ? ns - 1 : dp->up_cons - 1;

	space = dist(dp->up_tail, prev, ns);
	if (space < n) {
		/* untrusted: unmd's copy is ours, but a member may scribble */
		uint32_t c = __atomic_load_n(&dp->my->up_hwcur, __ATOMIC_ACQUIRE);

		if (c < ns && dist(dp->up_cons, c, ns) <= dist(dp->up_cons, dp->up_tail, ns))
			dp->up_cons = c;
		else
			p->st.bad_ring++;
		prev = dp->up_cons == 0 ? ns - 1 : dp->up_cons - 1;
		space = dist(dp->up_tail, prev, ns);
	}
	m = fit(txs, i, end, space, ns, &fr);
	if (m) {
		swap_in(dp, p, txs, i, dp->up, dp->up_tail, m);
		dp->up_tail = (dp->up_tail + m) % ns;
		/* [D7] release: UP slots before up_hwtail are written. */
		__atomic_store_n(&dp->my->up_hwtail, dp->up_tail, __ATOMIC_RELEASE);
		dp->c_up += fr;
		/* [D8] full fence: up_hwtail store / up_need_kick load; pairs
		 * with unmd's [H3] (it sets up_need_kick, fences, re-reads). */
		unm_smp_mb();
		if (UNM_READ_ONCE(dp->my->up_need_kick))
			efd_write(dp->ukick);
	}
	if (m < n) {
		if (lossless) {
			dp->blocked = UNM_DOM_UPLINK;
			return m;
		}
		fit(txs, (i + m) % ns, end, n - m, ns, &fr);
		dp->c_drops += fr;
	}
	return n;
}

/* Copies of the run [I, END) of one-slot frames into member K (floods):
 * claim once, copy what fits. Returns false (nothing done) if lossless
 * and it does not all fit. */
static bool copy_member(struct unm_port *p, struct dom_priv *dp, const struct unm_slot *txs,
			uint32_t i, uint32_t end, unsigned k, bool lossless)
{
	const uint32_t ns = dp->l.nslots, nb = dp->l.buf_count, bs = dp->l.buf_size;
	struct unm_dom_member *m = dp->m[k];
	struct unm_slot *rxs = dp->rxs[k];
	uint32_t n = dist(i, end, ns), at = 0, space, c;
	uint64_t held;

	if (!claim(dp, m, &held)) {
		dp->blocked = (int)k; /* busy: wait, as push_member */
		return false;
	}
	at = unm_dom_ct_tail(held);
	space = rx_space_at(dp, m, at, &at);
	if (lossless && space < n) {
		unclaim(dp, k, held, unm_dom_ct_tail(held), false);
		dp->blocked = (int)k;
		return false;
	}
	c = n < space ? n : space;
	for (uint32_t q = 0; q < c; q++) {
		uint32_t rb = UNM_READ_ONCE(rxs[at].buf_idx);
		const struct unm_slot *s = &txs[i];

		if (rb - 2 < nb - 2) {
			memcpy(dp->pool + (uint64_t)rb * bs, dp->pool + (uint64_t)s->buf_idx * bs,
			       s->len);
			rxs[at].len = s->len;
		} else {
			p->st.bad_buf++;
			rxs[at].buf_idx = 1;
			rxs[at].len = 0;
		}
		rxs[at].flags = 0;
		at = nxt(at, ns);
		i = nxt(i, ns);
	}
	dp->c_drops += n - c;
	if (unclaim(dp, k, held, at, c != 0)) /* [D1] */
		dp->c_local += c;
	else
		lost(dp, c);
	return true;
}

/* Is member K a live destination other than us? (its token: unmd's
 * word; a zero-copy monitor is a member that takes no frames but its
 * target's, mon_handoff) */
static inline bool live(const struct dom_priv *dp, unsigned k)
{
	return k < dp->l.max_members && k != dp->me && UNM_READ_ONCE(dp->m[k]->token) != 0 &&
	       UNM_READ_ONCE(dp->m[k]->mon_of) == 0;
}

/* Broadcast / unknown unicast, a run of one-slot frames [I, END): copies
 * to every other member but the last destination, which gets the frames
 * themselves by swap (UP when the switch has ports outside the domain). */
static uint32_t flood(struct unm_port *p, struct dom_priv *dp, struct unm_slot *txs, uint32_t i,
		      uint32_t end, bool lossless)
{
	unsigned last = UNM_DOM_MAX_MEMBERS + 1, k;
	bool outside = UNM_READ_ONCE(dp->hdr->outside) != 0;
	uint32_t n = dist(i, end, dp->l.nslots);

	if (outside)
		last = UNM_DOM_UPLINK;
	else
		for (k = 0; k < dp->l.max_members; k++)
			if (live(dp, k))
				last = k;
	if (lossless) { /* every destination must have room: the slowest decides */
		for (k = 0; k < dp->l.max_members; k++) {
			uint32_t at;

			if (live(dp, k) && k != last && rx_space(dp, dp->m[k], &at) < n) {
				dp->blocked = (int)k;
				return 0;
			}
		}
	}
	for (k = 0; k < dp->l.max_members; k++)
		if (live(dp, k) && k != last && !copy_member(p, dp, txs, i, end, k, lossless))
			return 0;
	if (last == UNM_DOM_UPLINK)
		return push_up(p, dp, txs, i, end, lossless);
	if (last < UNM_DOM_MAX_MEMBERS)
		return push_member(p, dp, txs, i, end, n, last, lossless); /* one-slot frames */
	dp->c_drops += n; /* nobody else on the switch */
	return n;
}

#define DST_FLOOD  (-2)
#define DST_DROP   (-3)

/* Destination of the frame whose first slot is S (own ring: still checked).
 * Out of line: dom_txsync's loop has the fast path of a stream. */
static __attribute__((noinline)) int route(struct unm_port *p, struct dom_priv *dp, const struct unm_slot *s,
		 uint64_t *pd, uint64_t *ps, int *pdst, uint32_t *now_ms)
{
	const uint8_t *f;
	uint64_t dmac, smac;
	int dst;

	if (unlikely(s->buf_idx - 2 >= dp->l.buf_count - 2 || s->len < 14 ||
		     s->len > dp->l.buf_size)) {
		p->st.bad_buf += s->buf_idx - 2 >= dp->l.buf_count - 2;
		p->st.bad_len += !(s->buf_idx - 2 >= dp->l.buf_count - 2);
		return DST_DROP;
	}
	f = (const uint8_t *)dp->pool + (uint64_t)s->buf_idx * dp->l.buf_size;
	unm_dom_macs(f, &dmac, &smac);
	if (dmac == *pd && smac == *ps)
		return *pdst; /* a stream repeats its MAC pair: same answer */
	if (!*now_ms)
		*now_ms = (uint32_t)(unm_now_ns() / 1000000) | 1;
	unm_dom_learn(dp->lt, smac, dp->me, *now_ms);
	if (dmac & 1) {
		dst = DST_FLOOD;
	} else {
		dst = unm_dom_lookup(dp->lt, dmac);
		if (dst == (int)dp->me)
			dst = DST_DROP;
		else if (dst != UNM_DOM_UPLINK && !(dst >= 0 && live(dp, (unsigned)dst)))
			dst = DST_FLOOD;
		else if (dst == UNM_DOM_UPLINK && !UNM_READ_ONCE(dp->hdr->outside))
			dst = DST_FLOOD;
	}
	*pd = dmac;
	*ps = smac;
	*pdst = dst;
	return dst;
}

static int dom_txsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct dom_priv *dp = p->priv;
	struct unm_slot *txs = kr->ring->slot;
	const uint32_t ns = kr->nslots;
	bool lossless = UNM_READ_ONCE(dp->hdr->lossless) != 0;
	const char *pool = dp->pool;
	const uint32_t nb = dp->l.buf_count, bs = dp->l.buf_size;
	uint64_t pd = ~0ull, ps = ~0ull;
	uint32_t i = kr->hwcur, now_ms = 0, frames = 0;
	int pdst = DST_DROP;

	if (p->error)
		return p->error;
	dp->blocked = -1;
	if (UNM_READ_ONCE(dp->my->up_wait))
		UNM_WRITE_ONCE(dp->my->up_wait, 0);
	while (i != head) {
		uint32_t j = i, nfr = 0, done, want;
		uint64_t run_bytes = 0;
		int dst = -4;

		if (dp->pend_n && i == dp->pend_at && dp->pend_n <= dist(i, head, ns) && lossless &&
		    (dp->pend_dst == UNM_DOM_UPLINK ? UNM_READ_ONCE(dp->hdr->outside) != 0
						    : live(dp, (unsigned)dp->pend_dst))) {
			/* resume the run planned by the sync that stopped in it */
			j = (i + dp->pend_n) % ns;
			nfr = dp->pend_nfr;
			run_bytes = dp->pend_bytes;
			dst = dp->pend_dst;
		} else
		/* a run of whole frames with one destination */
		while (j != head) {
			uint32_t f = j, len = 1;
			uint64_t fb = UNM_READ_ONCE(txs[f].len);
			int d;

			/* fast path: one-slot frames with the previous frame's MAC
			 * pair (a stream) go where that one went, up to the ring's
			 * end or head; route() decides everything else */
			if (likely(dst == pdst)) {
				uint32_t lim = head > j ? head : ns, j0 = j;

				for (; j < lim; j++) {
					const struct unm_slot *s = &txs[j];
					uint32_t b = UNM_READ_ONCE(s->buf_idx);

					/* buffer heads are 2 KB apart, all in a few
					 * cache sets: fetch a later frame's MACs now
					 * (a prefetch of a bad index faults nothing) */
					if (j + MAC_PF < lim)
						__builtin_prefetch(pool + (uint64_t)UNM_READ_ONCE(
							s[MAC_PF].buf_idx) * bs);
					uint16_t l = UNM_READ_ONCE(s->len);
					uint64_t dm, sm;

					if (unlikely((UNM_READ_ONCE(s->flags) & UNM_NS_MOREFRAG) ||
						     b - 2 >= nb - 2 || l < 14 || l > bs))
						break;
					unm_dom_macs((const uint8_t *)pool + (uint64_t)b * bs, &dm, &sm);
					if (unlikely(dm != pd || sm != ps))
						break;
					run_bytes += l;
				}
				nfr += j - j0;
				if (j == ns)
					j = 0;
				if (j != j0)
					continue; /* the frame at j: next round (or none) */
				fb = UNM_READ_ONCE(txs[j].len);
			}
			while ((UNM_READ_ONCE(txs[f].flags) & UNM_NS_MOREFRAG) && len < UNM_MAX_FRAGS) {
				f = nxt(f, ns);
				if (f == head)
					break;
				len++;
				fb += UNM_READ_ONCE(txs[f].len);
			}
			if (f == head)
				break; /* open chain: its sender is still writing it */
			d = route(p, dp, &txs[j], &pd, &ps, &pdst, &now_ms);
			if (len > 1 && d == DST_FLOOD)
				d = DST_DROP; /* floods of chains: not supported in a domain */
			if (dst != -4 && d != dst)
				break;
			dst = d;
			nfr++;
			run_bytes += fb;
			j = nxt(f, ns);
		}
		dp->pend_n = 0;
		if (!nfr)
			break;
		want = dist(i, j, ns);
		if (dst == DST_DROP) {
			dp->c_drops += nfr;
			done = dist(i, j, ns);
		} else if (dst == DST_FLOOD) {
			done = flood(p, dp, txs, i, j, lossless);
		} else if (dst == UNM_DOM_UPLINK) {
			done = push_up(p, dp, txs, i, j, lossless);
		} else {
			done = push_member(p, dp, txs, i, j, nfr, (unsigned)dst, lossless);
		}
		if (likely(done == want)) {
			frames += nfr;
			p->st.tx_bytes += run_bytes;
		} else { /* lossless, stopped short: count what went */
			uint32_t fr;
			uint64_t b = 0;

			fit(txs, i, j, done, ns, &fr);
			frames += fr;
			for (uint32_t k = 0, x = i; k < done; k++, x = nxt(x, ns))
				b += txs[x].len;
			p->st.tx_bytes += b;
			if (dst >= 0 && nfr > fr) { /* a member or UP: remember the rest */
				dp->pend_at = (i + done) % ns;
				dp->pend_n = want - done;
				dp->pend_nfr = nfr - fr;
				dp->pend_bytes = run_bytes - b;
				dp->pend_dst = dst;
			}
		}
		i = (i + done) % ns;
		if (done < want || dp->blocked >= 0)
			break;
	}
	if (i != kr->hwcur) {
		kr->hwcur = i;
		kr->hwtail = i == 0 ? ns - 1 : i - 1;
		dp->tx_moved = true; /* dom_arm's spin phase starts again */
	}
	p->st.tx_frames += frames;
	p->st.drops += dp->c_drops;
	/* counters unmd lists (informational: we write them, it shows them) */
	dp->my->tx_frames += frames;
	dp->my->tx_local += dp->c_local;
	dp->my->tx_up += dp->c_up;
	dp->my->tx_drops += dp->c_drops;
	dp->c_local = dp->c_up = dp->c_drops = 0;
	return 0;
}

/*
 * Zero-copy RX monitor of this member (docs/architecture.md, "Monitors
 * of domain ports"): hand the frames the application releases, [hwcur,
 * head) of our RX ring, to the monitor's RX ring by swap, before [D3]
 * gives those slots back to producers. We are then the only producer of
 * the monitor's ring (it is no destination of anyone else: live()), and
 * the hand-off happens in our own rxsync: no copy, no unmd.
 *
 * Buffer ownership: a buffer belongs to the one ring slot that names it.
 * Until our release the frame's buffer X is in our RX slot (ours, the
 * application's to read); the swap puts X into a free slot of the
 * monitor's ring (the monitor's from our [D1] publish of its tail until
 * its own [D3] release) and that slot's free buffer Y into our slot,
 * which [D3] then offers to producers as any free slot. So the monitor
 * never holds a buffer the monitored traffic waits for, and we never
 * wait for the monitor: its ring full, its claim busy (one CAS attempt)
 * or the slot's buffer not the one rxsync delivered (the application
 * swapped it away; rx_shadow) and the frame is not handed on, counted in
 * mon_drops. A monitor that stops draining only loses frames. The
 * buffers we take back are the ones we gave (mon_buf: we are the ring's
 * only producer), so what a monitor writes into its own ring (buffer
 * indexes, lengths), its rx_hwcur (bounded by rx_space_at) or its ctail
 * (a claim we find busy) garbles only what it sees. The monitor ring's
 * buffers are read from the ring once, when we first see that monitor
 * (its token), and range-checked; an index out of range leaves that
 * slot unused. (A monitor maps the whole region, as every member does:
 * writes elsewhere are a member's, within the domain's trust.)
 */
static void mon_handoff(struct unm_port *p, struct dom_priv *dp, struct unm_kring *kr,
			uint32_t mk, uint32_t head)
{
	const uint32_t ns = dp->l.nslots, nb = dp->l.buf_count;
	struct unm_slot *rxs = kr->ring->slot, *ms;
	struct unm_dom_member *m;
	uint32_t i = kr->hwcur, at = 0, start, space, handed = 0, dropped = 0;
	uint64_t c;
	bool wake;

	/* untrusted (any member may write it): a monitor of ours, live */
	if (mk >= dp->l.max_members || mk == dp->me)
		return;
	m = dp->m[mk];
	ms = dp->rxs[mk];
	c = __atomic_load_n(&m->ctail, __ATOMIC_RELAXED);
	if (UNM_READ_ONCE(m->mon_of) != dp->me + 1 || !UNM_READ_ONCE(m->token) ||
	    unm_dom_ct_token(c) != 0 ||
	    !__atomic_compare_exchange_n(&m->ctail, &c, c | dp->token, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED)) {
		space = 0;      /* busy or not ours: every frame is a drop */
		c = 0;
	} else {
		uint32_t tok = UNM_READ_ONCE(m->token);

		c |= dp->token;
		space = rx_space_at(dp, m, unm_dom_ct_tail(c), &at);
		if (tok != dp->mon_tok) { /* a new monitor: its ring's buffers */
			for (uint32_t x = 0; x < ns; x++) {
				uint32_t b = UNM_READ_ONCE(ms[x].buf_idx);

				dp->mon_buf[x] = b - 2 < nb - 2 ? b : 0;
			}
			dp->mon_tok = tok;
		}
	}
	start = at;
	while (i != head) {
		uint32_t j = i, n = 0, chunk = dist(i, head, ns), k;
		bool ok = true, more;

		/* fast path: one-slot frames still in the buffers rxsync
		 * delivered, into monitor slots whose buffers we know, in
		 * chunks that wrap neither ring; the frame that stops it
		 * takes the general path below */
		if (chunk > space)
			chunk = space;
		if (chunk > ns - i)
			chunk = ns - i;
		if (chunk > ns - at)
			chunk = ns - at;
		for (k = 0; k < chunk; k++) {
			struct unm_slot s = rxs[i + k];
			uint32_t rb = dp->mon_buf[at + k];

			if (unlikely((s.flags & UNM_NS_MOREFRAG) || s.buf_idx != dp->rx_shadow[i + k] ||
				     s.buf_idx - 2 >= nb - 2 || !rb))
				break;
			dp->mon_buf[at + k] = s.buf_idx;
			s.flags = UNM_NS_BUF_CHANGED;
			ms[at + k] = s;
			rxs[i + k].buf_idx = rb;
			rxs[i + k].len = 0;
			rxs[i + k].flags = UNM_NS_BUF_CHANGED;
		}
		handed += k;
		space -= k;
		i = i + k == ns ? 0 : i + k;
		at = at + k == ns ? 0 : at + k;
		if (i == head)
			break;
		if (k == chunk && space)
			continue; /* a ring's end: the next chunk */
		j = i;

		do { /* one frame: [i, j) */
			uint32_t b = UNM_READ_ONCE(rxs[j].buf_idx);

			more = UNM_READ_ONCE(rxs[j].flags) & UNM_NS_MOREFRAG;
			ok = ok && b == dp->rx_shadow[j] && b - 2 < nb - 2;
			n++;
			j = nxt(j, ns);
		} while (more && j != head && n < UNM_MAX_FRAGS);
		for (uint32_t x = 0, y = at; ok && x < n && n <= space; x++, y = nxt(y, ns))
			ok = dp->mon_buf[y] != 0; /* a slot whose buffer we know */
		if (ok && !more && n <= space) {
			for (uint32_t x = i; x != j; x = nxt(x, ns)) {
				struct unm_slot s = rxs[x];
				uint32_t rb = dp->mon_buf[at]; /* what we put there */

				dp->mon_buf[at] = s.buf_idx;
				s.flags = (uint16_t)((s.flags & UNM_NS_MOREFRAG) | UNM_NS_BUF_CHANGED);
				ms[at] = s;
				rxs[x].buf_idx = rb;
				rxs[x].len = 0;
				rxs[x].flags = UNM_NS_BUF_CHANGED;
				at = nxt(at, ns);
			}
			space -= n;
			handed++;
		} else {
			dropped++;
		}
		i = j;
	}
	/* Wake a sleeping monitor only once 1/MON_WAKE_DIV of its ring is
	 * queued; below that, the next lull of ours does (mon_flush: when we
	 * stop spinning to sleep, or poll with nothing new for DOM_SPIN_NS).
	 * Not per release, not when our application merely caught up: a
	 * receiver that keeps up catches up at nearly every rxsync, and each
	 * wake-up costs us an eventfd write and the monitor a context switch
	 * (unmd's copy monitors: MON_IRQ_DIV). */
	wake = at != start && dist(UNM_READ_ONCE(m->rx_hwcur) % ns, at, ns) >= ns / MON_WAKE_DIV;
	if (c && !unclaim(dp, mk, c, at, wake)) {
		dropped += handed; /* unmd cleared our claim: nothing published */
		handed = 0;
	} else if (c && at != start) {
		dp->mon_lull = wake ? 0 : mk + 1;
	}
	dp->my->mon_handed += handed;
	dp->my->mon_drops += dropped;
}

/* A lull of ours: wake the monitor we handed frames to without waking it,
 * if it sleeps. Our publish ([D1] in unclaim, then [D6]) came before:
 * either the monitor's arm sees the frames ([D5]) or we see its need_wake. */
static void mon_flush(struct dom_priv *dp)
{
	unsigned k = dp->mon_lull - 1;

	dp->mon_lull = 0;
	if (k >= dp->l.max_members)
		return;
	unm_smp_mb();
	if (UNM_READ_ONCE(dp->m[k]->cons_need_wake))
		efd_write(dp->wake[k]);
}

/* A slot's first 8 bytes: buf_idx | len << 32 | flags << 48. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "dom_rxsync reads a slot's first 8 bytes as one little-endian word"
#endif
typedef uint64_t __attribute__((may_alias)) dom_slot_word;

static int dom_rxsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct dom_priv *dp = p->priv;
	struct unm_dom_member *my = dp->my;
	struct unm_slot *rxs = kr->ring->slot;
	const uint32_t ns = kr->nslots, nb = dp->l.buf_count;
	uint32_t t, limit, *shadow;

	if (UNM_READ_ONCE(my->cons_need_wake))
		UNM_WRITE_ONCE(my->cons_need_wake, 0);
	if (head != kr->hwcur) {
		uint32_t wm, mk = UNM_READ_ONCE(my->rx_mon);

		if (unlikely(mk) && !dp->is_mon)
			mon_handoff(p, dp, kr, mk - 1, head);
		/* [D3] release: we are done with the slots before head. */
		__atomic_store_n(&my->rx_hwcur, head, __ATOMIC_RELEASE);
		kr->hwcur = head;
		/* full fence: rx_hwcur store / wait_mask load; pairs with the
		 * waiters' fence in dom_arm. */
		unm_smp_mb();
		wm = UNM_READ_ONCE(my->wait_mask);
		if (unlikely(wm)) {
			wm = __atomic_exchange_n(&my->wait_mask, 0, __ATOMIC_ACQ_REL);
			for (unsigned i = 0; i < dp->l.max_members; i++)
				if (wm & (1u << i))
					efd_write(dp->wake[i]);
			if (wm & UNM_DOM_WAIT_UNMD)
				efd_write(dp->ukick);
		}
	}
	/* [D2] acquire: slots before rx_hwtail are filled; pairs with [D1].
	 * untrusted: producers may fill up to the slot before our head. */
	t = unm_dom_ct_tail(__atomic_load_n(&my->ctail, __ATOMIC_ACQUIRE));
	if (t == kr->hwtail) {
		/* a poller that never sleeps has its lull here */
		if (unlikely(dp->mon_lull) && unm_now_ns() - dp->rx_progress_ns >= DOM_SPIN_NS)
			mon_flush(dp);
		return 0;
	}
	limit = kr->hwcur == 0 ? ns - 1 : kr->hwcur - 1;
	if (t >= ns || dist(kr->hwtail, t, ns) > dist(kr->hwtail, limit, ns)) {
		p->st.bad_ring++;
		return 0;
	}
	/* with a zero-copy monitor, remember what each slot delivers */
	shadow = unlikely(UNM_READ_ONCE(my->rx_mon)) ? dp->rx_shadow : NULL;
	/* Each new slot's first 8 bytes (buf_idx, len, flags) read once and
	 * written back, as the pipe's check_rx_slots: a line we wrote goes to
	 * the next producer in one transfer when it swaps into the slot,
	 * one we only read would take two (a shared copy, then an
	 * invalidation for its store). */
	for (uint32_t i = kr->hwtail; i != t; i = nxt(i, ns)) {
		dom_slot_word *wp = (dom_slot_word *)&rxs[i];
		uint64_t w = UNM_READ_ONCE(*wp); /* untrusted */
		uint32_t b = (uint32_t)w;
		uint16_t len = (uint16_t)(w >> 32);

		if (unlikely(b - 2 >= nb - 2 || len > dp->l.buf_size)) {
			p->st.bad_buf += b - 2 >= nb - 2;
			p->st.bad_len += !(b - 2 >= nb - 2);
			p->st.drops++;
			UNM_WRITE_ONCE(*wp, 1); /* buffer 1, len 0, no flags */
			if (shadow)
				shadow[i] = 1;
			continue;
		}
		if (shadow)
			shadow[i] = b;
		UNM_WRITE_ONCE(*wp, w);
		p->st.rx_bytes += len;
		p->st.rx_frames += !((uint16_t)(w >> 48) & UNM_NS_MOREFRAG);
	}
	kr->hwtail = t;
	/* A monitor has no spin phase: its producer wakes it per many frames
	 * (MON_WAKE_DIV), polling between them would take a CPU from the
	 * port it watches. */
	if (!dp->is_mon)
		dp->rx_progress_ns = unm_now_ns();
	return 0;
}

/* -ECONNRESET once unmd has closed its end (it died or dropped us). */
static int sock_check(struct dom_priv *dp)
{
	char b;
	ssize_t n = recv(dp->sock, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		return -ECONNRESET;
	return 0;
}

static bool dom_arm(struct unm_port *p, struct unm_kring *kr)
{
	struct dom_priv *dp = p->priv;
	uint64_t now = unm_now_ns();

	if (now - dp->last_alive_ns >= 1000000) {
		int rc;

		dp->last_alive_ns = now;
		if ((rc = sock_check(dp))) {
			p->error = rc;
			return true;
		}
	}
	if (kr->dir) {
		/* Spin phase (as pipes): shortly after RX last moved, a busy
		 * stream refills within microseconds; make unm_fd() readable
		 * ourselves instead of asking producers for a wake-up, so a
		 * poller re-syncs at the cost of one epoll_wait. */
		if (now - dp->rx_progress_ns < DOM_SPIN_NS) {
			if (!dp->self_sig) {
				dp->self_sig = true;
				efd_write(dp->wake[dp->me]);
			}
			return false;
		}
		if (dp->self_sig) {
			uint64_t cnt;

			/* may eat a producer's wake-up too: the double check
			 * below covers RX, a re-signal covers a waiting TX */
			dp->self_sig = false;
			if (read(dp->wake[dp->me], &cnt, sizeof(cnt)) < 0)
				cnt = 0;
			if (dp->blocked >= 0)
				efd_write(dp->wake[dp->me]);
		}
		if (dp->mon_lull) /* about to sleep: our monitor's lull too */
			mon_flush(dp);
		UNM_WRITE_ONCE(dp->my->cons_need_wake, 1);
		/* [D5] full fence: need_wake store / rx_hwtail load; pairs with [D6]. */
		unm_smp_mb();
		return unm_dom_ct_tail(UNM_READ_ONCE(dp->my->ctail)) != kr->hwtail;
	}
	/* TX spin phase: a destination that was taking frames a moment ago
	 * (lossless: its owner releases slots in batches) makes room again
	 * within microseconds; poll for it (our own signal keeps unm_fd()
	 * readable) instead of setting our wait bit, which would make its
	 * owner write our eventfd once per rxsync. */
	if (dp->tx_moved) {
		dp->tx_moved = false;
		dp->tx_idle_since = now;
	}
	if (dp->blocked >= 0 && now - dp->tx_idle_since < DOM_SPIN_NS) {
		if (!dp->self_sig) {
			dp->self_sig = true;
			efd_write(dp->wake[dp->me]);
		}
		return false;
	}
	if (dp->self_sig && now - dp->rx_progress_ns >= DOM_SPIN_NS) {
		uint64_t cnt;

		/* our signal is stale: drain it before sleeping. This may eat
		 * a producer's wake-up for RX: re-signal if RX is armed and
		 * has something (its own double check has passed). */
		dp->self_sig = false;
		if (read(dp->wake[dp->me], &cnt, sizeof(cnt)) < 0)
			cnt = 0;
		unm_smp_mb();
		if (UNM_READ_ONCE(dp->my->cons_need_wake) && p->n_rx &&
		    unm_dom_ct_tail(UNM_READ_ONCE(dp->my->ctail)) != p->rx[0].hwtail)
			efd_write(dp->wake[dp->me]);
	}
	if (dp->blocked == UNM_DOM_UPLINK) {
		uint32_t c;

		UNM_WRITE_ONCE(dp->my->up_wait, 1);
		unm_smp_mb();
		c = UNM_READ_ONCE(dp->my->up_hwcur);
		return c != dp->up_cons;
	}
	if (dp->blocked >= 0 && (unsigned)dp->blocked < dp->l.max_members) {
		struct unm_dom_member *m = dp->m[dp->blocked];
		uint32_t at;

		__atomic_fetch_or(&m->wait_mask, 1u << dp->me, __ATOMIC_RELAXED);
		unm_smp_mb(); /* wait bit store / claim and rx_hwcur loads */
		return unm_dom_ct_token(UNM_READ_ONCE(m->ctail)) == 0 && rx_space(dp, m, &at) > 0;
	}
	return true;
}

/* Is a ring in its spin phase? (RX moved, or TX blocked and moved, lately) */
static bool dom_spinning(const struct dom_priv *dp, uint64_t now)
{
	return now - dp->rx_progress_ns < DOM_SPIN_NS ||
	       (dp->blocked >= 0 && !dp->tx_moved && now - dp->tx_idle_since < DOM_SPIN_NS);
}

static int dom_wakeup(struct unm_port *p)
{
	struct dom_priv *dp = p->priv;
	uint64_t cnt;
	int rc;

	uint64_t now = unm_now_ns();

	/* our own spin signal stays while a ring spins: the fd keeps waking
	 * the poller (each re-sync ends in arm, which drops it when done);
	 * unm_wait loops through here then, so look at the socket only once
	 * a millisecond (a hang-up is seen within that) */
	if (dp->self_sig && dom_spinning(dp, now)) {
		if (now - dp->last_alive_ns < 1000000)
			return 0;
	} else {
		dp->self_sig = false;
		while (read(dp->wake[dp->me], &cnt, sizeof(cnt)) == sizeof(cnt))
			;
	}
	dp->last_alive_ns = now;
	rc = sock_check(dp);
	if (rc && !p->error)
		p->error = rc;
	return rc;
}

static void dom_close(struct unm_port *p)
{
	struct dom_priv *dp = p->priv;
	uint64_t end = unm_now_ns() + UNM_CLOSE_FLUSH_MS * 1000000ull;

	if (!dp)
		return;
	/* Frames in UP are unmd's to take (ours to wait for, shortly): the
	 * others left with the sync that handed them over. */
	while (dp->sock >= 0 && !p->error && unm_now_ns() < end) {
		uint32_t c = UNM_READ_ONCE(dp->my->up_hwcur);

		if (c == dp->up_tail || sock_check(dp))
			break;
		UNM_WRITE_ONCE(dp->my->up_wait, 1);
		unm_smp_mb();
		efd_write(dp->ukick);
		usleep(200);
	}
	if (dp->sock >= 0 && !p->error) {
		struct unm_ctl_req req;

		unm_ctl_req_init(&req, UNM_CTL_BYE, 2);
		unm_ctl_send(dp->sock, &req, sizeof(req), NULL, 0);
	}
	for (unsigned i = 0; i < UNM_DOM_MAX_MEMBERS; i++)
		if (dp->wake[i] >= 0)
			close(dp->wake[i]);
	if (dp->ukick >= 0)
		close(dp->ukick);
	if (dp->sock >= 0)
		close(dp->sock);
	free(dp->rx_shadow);
	free(dp);
	p->priv = NULL;
}

static void dom_info(const struct unm_port *p, struct unm_port_info *info)
{
	(void)p;
	(void)info;
}

const struct unm_port_ops unm_dom_ops = {
	.type = "vale",
	.txsync = dom_txsync,
	.rxsync = dom_rxsync,
	.arm = dom_arm,
	.wakeup = dom_wakeup,
	.close = dom_close,
	.info = dom_info,
};

/*
 * A zero-copy monitor of a member (monitor:valeX:P/r opened by a process
 * of P's domain; daemon/domain.c vdom_mon_create): a member block of the
 * domain whose RX ring only P's rxsync fills (mon_handoff). Its TX ring
 * is unused (nothing put there is sent). When P leaves, unmd sets
 * mon_gone: rxsync returns what is still queued, then -EPIPE.
 */
static bool dmon_gone(const struct dom_priv *dp)
{
	/* [D10] acquire: unmd sets it after clearing P's rx_mon [D9] */
	return __atomic_load_n(&dp->my->mon_gone, __ATOMIC_ACQUIRE) != 0;
}

static int dmon_txsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	(void)kr;
	(void)head;
	if (p->error)
		return p->error;
	return dmon_gone(p->priv) ? -EPIPE : 0;
}

static int dmon_rxsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	bool g = dmon_gone(p->priv);
	int rc = dom_rxsync(p, kr, head);

	if (rc == 0 && g && head == kr->hwtail)
		return -EPIPE; /* monitored port gone, every frame consumed */
	return rc;
}

static bool dmon_arm(struct unm_port *p, struct unm_kring *kr)
{
	if (!kr->dir)
		return p->error || dmon_gone(p->priv);
	return dom_arm(p, kr) || dmon_gone(p->priv);
}

const struct unm_port_ops unm_dom_mon_ops = {
	.type = "monitor",
	.txsync = dmon_txsync,
	.rxsync = dmon_rxsync,
	.arm = dmon_arm,
	.wakeup = dom_wakeup,
	.close = dom_close,
	.info = dom_info,
};

/* unm_dom_open failed after mapping: undo, leaving the fds to the caller. */
static int dom_undo(struct unm_port *p, struct dom_priv *dp, int rc)
{
	if (p->epfd >= 0)
		close(p->epfd);
	p->epfd = -1;
	munmap(dp->base, dp->l.size);
	free(dp->rx_shadow);
	memset(&p->reg, 0, sizeof(p->reg));
	p->reg.fd = -1;
	free(p->tx);
	free(p->rx);
	p->tx = p->rx = NULL;
	p->priv = NULL;
	free(dp);
	return rc;
}

int unm_dom_open(struct unm_port *p, int sock, const struct unm_ctl_rep *rep, int *fds,
		 unsigned nfds)
{
	struct dom_priv *dp;
	struct epoll_event ev = { .events = EPOLLIN };
	struct unm_if *nifp;
	char err[200];
	void *base;
	int rc;
	unsigned k = rep->dom_member - 1;

	if (nfds != 2 + UNM_DOM_MAX_MEMBERS || rep->dom_member < 1 ||
	    rep->dom_member > UNM_DOM_MAX_MEMBERS || rep->n_tx != 1 || rep->n_rx != 1)
		return unm_seterr(-EBADMSG, "%s: unmd sent a domain membership with %u fds, member %u",
				  p->name, nfds, rep->dom_member);
	for (unsigned i = 2; i < nfds; i++)
		if (!unm_efd_ok(fds[i]))
			return unm_seterr(-EBADMSG, "%s: domain wake fd %u is not an eventfd",
					  p->name, i);
	if (!unm_efd_ok(fds[1]))
		return unm_seterr(-EBADMSG, "%s: domain kick fd is not an eventfd", p->name);
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	rc = unm_dom_map(fds[0], &dp->l, &base, err, sizeof(err));
	if (rc) {
		free(dp);
		return unm_seterr(rc, "%s: domain region from unmd refused: %s", p->name, err);
	}
	if (k >= dp->l.max_members) {
		unsigned max = dp->l.max_members;

		munmap(base, dp->l.size);
		free(dp);
		return unm_seterr(-EBADMSG, "%s: member %u of a %u-member domain", p->name, k + 1,
				  max);
	}
	dp->rx_shadow = calloc(2ull * dp->l.nslots, sizeof(*dp->rx_shadow));
	dp->mon_buf = dp->rx_shadow ? dp->rx_shadow + dp->l.nslots : NULL;
	if (!dp->rx_shadow) {
		munmap(base, dp->l.size);
		free(dp);
		return -ENOMEM;
	}
	dp->base = base;
	dp->pool = dp->base + dp->l.pool_ofs;
	dp->me = k;
	dp->token = rep->dom_token;
	dp->hdr = unm_dom_hdr(base);
	dp->lt = unm_dom_lt(base, &dp->l);
	for (unsigned i = 0; i < dp->l.max_members; i++) {
		dp->m[i] = unm_dom_member(base, &dp->l, i);
		dp->rxs[i] = unm_dom_ring(base, &dp->l, i, UNM_DOM_RX)->slot;
	}
	for (unsigned i = 0; i < UNM_DOM_MAX_MEMBERS; i++)
		dp->wake[i] = fds[2 + i];
	dp->my = dp->m[k];
	dp->up = unm_dom_ring(base, &dp->l, k, UNM_DOM_UP)->slot;
	dp->up_tail = dp->up_cons = 0;
	dp->ukick = fds[1];
	dp->sock = sock;
	dp->blocked = -1;
	if (getenv("UNM_TEST_DOM_STALL_MS"))
		dp->test_stall_us = (unsigned)atoi(getenv("UNM_TEST_DOM_STALL_MS")) * 1000u;
	/* the port's region is the domain's: kring_init checks rings against it */
	p->reg.base = base;
	p->reg.size = dp->l.size;
	p->reg.fd = fds[0];
	p->reg.pool_ofs = dp->l.pool_ofs;
	p->reg.buf_count = dp->l.buf_count;
	p->reg.buf_size = dp->l.buf_size;
	p->reg.n_ifs = 0;
	p->priv = dp;
	dp->is_mon = p->spec.kind == UNM_KIND_MONITOR;
	p->ops = dp->is_mon ? &unm_dom_mon_ops : &unm_dom_ops;
	nifp = (struct unm_if *)((char *)dp->my + UNM_DOM_IF_OFS);
	p->epfd = -1;
	if (dp->is_mon && UNM_READ_ONCE(dp->my->mon_of) == 0)
		return dom_undo(p, dp, unm_seterr(-EBADMSG, "%s: unmd made a monitor a plain "
						  "domain member", p->name));
	if ((rc = unm_port_bind_rings(p, nifp)))
		return dom_undo(p, dp, rc);
	if (p->n_tx != 1 || p->n_rx != 1 || p->tx[0].nslots != dp->l.nslots ||
	    p->rx[0].nslots != dp->l.nslots ||
	    (char *)p->tx[0].ring != (char *)unm_dom_ring(base, &dp->l, k, UNM_DOM_TX) ||
	    (char *)p->rx[0].ring != (char *)unm_dom_ring(base, &dp->l, k, UNM_DOM_RX))
		return dom_undo(p, dp, unm_seterr(-EBADMSG, "%s: domain member rings are not "
						  "where they belong", p->name));
	p->tx[0].hwcur = 0;
	p->tx[0].hwtail = dp->l.nslots - 1;
	p->rx[0].hwcur = p->rx[0].hwtail = 0;
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	ev.data.u32 = 0;
	if (p->epfd < 0 || epoll_ctl(p->epfd, EPOLL_CTL_ADD, dp->wake[k], &ev) < 0)
		return dom_undo(p, dp, unm_seterr(-errno, "epoll: %s", strerror(errno)));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.u32 = ~0u;
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, sock, &ev) < 0)
		return dom_undo(p, dp, unm_seterr(-errno, "epoll_ctl: %s", strerror(errno)));
	return 0;
}

uint32_t unm_dom_member_of(const struct unm_port *p)
{
	const struct dom_priv *dp =
		p->ops == &unm_dom_ops || p->ops == &unm_dom_mon_ops ? p->priv : NULL;

	return dp ? dp->me + 1 : 0;
}
