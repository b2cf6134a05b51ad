// SPDX-License-Identifier: BSD-2-Clause
/*
 * domain.c - trust domains of a switch, unmd's side (lib/domain.c is the
 * member's; the layout is in lib/domain.h and unm/shm.h).
 *
 * A domain is made on demand when the first port joins it (ctl_server.c
 * decides who joins: switch setting `domains`, @conf:domain=NAME, one
 * uid per domain) and goes with its last member. It owns the region, one
 * kick eventfd per member slot (member -> unmd: frames in UP, or room in
 * its RX ring for a waiting unmd) and one wake eventfd per member slot
 * (anyone -> that member), all handed to every member at its open.
 *
 * Each member is also an ordinary switch port to unmd (struct vport with
 * these ops), so frames between the domain and the rest of the switch
 * (isolated ports, attached backends, other domains) go through the
 * forwarding thread as before: its "in" ring is the member's UP ring, its
 * "out" ring the member's RX ring, which unmd fills like any producer,
 * under the ring's claim. unmd never forwards a frame of a domain back
 * into the same domain (vale_fwd.c: the sender did it already).
 *
 * Nothing in the region is trusted: unmd keeps its own geometry (the
 * layout it computed), its own UP consumer index, reads every index
 * once and bounds it before use, and copies (it never swaps a buffer of
 * a domain into an isolated port or back). A member can make unmd see
 * garbage frames from that member only.
 *
 * Claims (the ctail word, unm/shm.h) are cleared only for holders that
 * can no longer write: a member's control connection closing removes its
 * port (ctl_server.c) and vdom_port_removed() clears every claim holding
 * its token once its process is gone (pidfd; at once when it died,
 * which is what closed the connection); vdom_sweep(), run by the
 * forwarding thread at least every VDOM_SWEEP_NS, clears claims holding
 * a token no live member has (garbage, dead or retired-and-exited
 * members): the domain's rings move again within 100 ms. A live
 * member's claim is never taken, however long held (see vdom_sweep): a
 * stopped or hostile member stalls its own domain, nothing else.
 *
 * Locking: d->lock for everything here but vdom_free (the domain is
 * unlinked then, nobody can reach it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "unmd.h"

#define VDOM_SWEEP_NS (20 * 1000000ull)
#define VDOM_HOLD_NS  (50 * 1000000ull)
#define VDOM_RETIRED  (2 * UNM_DOM_MAX_MEMBERS)

/* A member removed while its process may live on: its token stays
 * untouchable until that process is gone. */
struct vdom_retired {
	uint32_t token;
	int pidfd;
};

struct vdomain {
	char name[UNM_DOM_NAME_MAX + 16];
	uid_t uid;
	struct vswitch *sw;
	struct unm_dom_layout l;
	void *base;
	int fd;
	int kick[UNM_DOM_MAX_MEMBERS], wake[UNM_DOM_MAX_MEMBERS];
	struct vport *members[UNM_DOM_MAX_MEMBERS];
	unsigned n;
	uint32_t gen;
	uint32_t seen_claim[UNM_DOM_MAX_MEMBERS];
	uint64_t seen_since[UNM_DOM_MAX_MEMBERS];
	uint64_t last_sweep;
	uint64_t learn_mac;          /* last MAC learned as UPLINK (cache) */
	uint64_t last_log;           /* sweep messages: one a second at most */
	uint64_t cleared;            /* claims cleared by the sweep */
	unsigned n_mon;              /* of n: zero-copy monitors (on no switch) */
	uint64_t long_holds;         /* live holders seen holding >= VDOM_HOLD_NS */
	int pidfd[UNM_DOM_MAX_MEMBERS];  /* each member's process, -1: unknown */
	struct vdom_retired retired[VDOM_RETIRED];
	unsigned n_retired;
	struct vdomain *next;
};

struct dom_vpriv {
	struct vdomain *dom;
	unsigned k;
	uint32_t token;
	bool claimed;
	uint64_t held;               /* ctail word of our claim (claimed) */
	bool last;                   /* destroy frees the domain too */
};

static inline struct unm_dom_member *mb(const struct vport *p)
{
	const struct dom_vpriv *v = p->priv;

	return unm_dom_member(v->dom->base, &v->dom->l, v->k);
}

static void efd_write(int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
		/* saturated: the reader wakes anyway */
	}
}

/* Wake everyone in M's wait_mask (room or the claim became free). */
static void wake_waiters(struct vdomain *dom, struct unm_dom_member *m)
{
	uint32_t wm = UNM_READ_ONCE(m->wait_mask);

	if (!(wm & ~UNM_DOM_WAIT_UNMD))
		return;
	wm = __atomic_exchange_n(&m->wait_mask, wm & UNM_DOM_WAIT_UNMD, __ATOMIC_ACQ_REL);
	for (unsigned i = 0; i < dom->l.max_members; i++)
		if (wm & (1u << i))
			efd_write(dom->wake[i]);
}

/* ---- vport ops ---------------------------------------------------------- */

static int dom_in_fetch(struct vport *p, struct vring *vr, uint32_t *end)
{
	/* [H1] acquire pairs with the member's [D7]. untrusted: any value
	 * below nslots is a state the member could reach; another is
	 * garbage any member of the domain may have written (not
	 * necessarily this port's client): counted and ignored, the port
	 * stays (erroring it would let one member cut another off). */
	uint32_t t = __atomic_load_n(&mb(p)->up_hwtail, __ATOMIC_ACQUIRE);

	if (t >= vr->nslots) {
		p->st.bad_ring++;
		t = vr->hwcur;
	}
	*end = t;
	return 0;
}

static void dom_in_release(struct vport *p, struct vring *vr, uint32_t upto)
{
	vr->hwcur = upto;
	vr->hwtail = vr_prev(vr, upto);
	__atomic_store_n(&mb(p)->up_hwcur, upto, __ATOMIC_RELEASE);
	vr->progress = true;
}

static void unclaim(struct vport *p)
{
	struct dom_vpriv *v = p->priv;
	struct unm_dom_member *m = mb(p);

	uint64_t h = v->held;

	if (!v->claimed)
		return;
	v->claimed = false;
	/* a CAS: a member may have scribbled on the word meanwhile */
	__atomic_compare_exchange_n(&m->ctail, &h, h & ~0xffffffffull, false, __ATOMIC_RELEASE,
				    __ATOMIC_RELAXED);
	unm_smp_mb();
	wake_waiters(v->dom, m);
}

static int dom_out_space(struct vport *p, struct vring *vr, uint32_t *end)
{
	struct dom_vpriv *v = p->priv;
	struct unm_dom_member *m = mb(p);
	uint32_t t, c;

	if (!v->claimed) {
		uint64_t w = __atomic_load_n(&m->ctail, __ATOMIC_RELAXED);

		if (unm_dom_ct_token(w) ||
		    !__atomic_compare_exchange_n(&m->ctail, &w, w | UNM_DOM_UNMD_TOKEN, false,
						 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			vr->hwtail = 0;
			*end = 0; /* a member holds it: no room this round */
			return 0;
		}
		v->claimed = true;
		v->held = w | UNM_DOM_UNMD_TOKEN;
	}
	t = unm_dom_ct_tail(v->held);                         /* untrusted */
	c = __atomic_load_n(&m->rx_hwcur, __ATOMIC_ACQUIRE); /* untrusted; pairs with [D3] */
	if (t >= vr->nslots || c >= vr->nslots) {
		p->st.bad_ring++;
		vr->hwtail = 0;
		*end = 0;
		return 0;
	}
	vr->hwtail = t;
	vr->hwcur = c;
	vr->seen_head = c;
	*end = vr_prev(vr, c);
	/* Drop mode: frames from outside never take the last quarter of a
	 * member's ring, which stays for the domain's own traffic (its
	 * producers are not under the switch's fair share): a flood from
	 * outside cannot make a domain lose its own frames. */
	if (!p->sw->lossless) {
		uint32_t free = vr_dist(vr, t, *end), keep = vr->nslots / 4;

		*end = free > keep ? (t + free - keep) % vr->nslots : t;
	}
	return 0;
}

static void dom_out_publish(struct vport *p, struct vring *vr, uint32_t upto)
{
	struct dom_vpriv *v = p->priv;
	uint64_t h = v->held;

	if (!v->claimed)
		return;
	v->claimed = false;
	/* [D1]-like release: the slots before the new tail are written; the
	 * tail and the release in one CAS, as members do (lib/domain.c). It
	 * fails only if a member scribbled on the word: nothing published. */
	if (__atomic_compare_exchange_n(&mb(p)->ctail, &h, unm_dom_ct(0, upto), false,
					__ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
		vr->hwtail = upto;
		vr->progress = true;
	} else {
		p->st.bad_ring++;
	}
	unm_smp_mb();
	wake_waiters(v->dom, mb(p));
}

static void dom_out_unclaim(struct vport *p, struct vring *vr)
{
	(void)vr;
	unclaim(p);
}

static int dom_round_end(struct vport *p)
{
	struct dom_vpriv *v = p->priv;
	struct unm_dom_member *m = mb(p);
	bool owe;

	unclaim(p); /* a lossless reservation nobody delivered into */
	owe = p->out[0].progress || p->in[0].progress;
	if (!owe)
		return 0;
	/* [H4]-like full fence: rx_hwtail / up_hwcur stores, then the flags */
	unm_smp_mb();
	if ((p->out[0].progress && UNM_READ_ONCE(m->cons_need_wake)) ||
	    (p->in[0].progress && UNM_READ_ONCE(m->up_wait))) {
		efd_write(v->dom->wake[v->k]);
		p->st.irqs_tx++;
	}
	p->out[0].progress = p->in[0].progress = false;
	return 0;
}

static void dom_want_kicks(struct vport *p, bool on, bool out_too)
{
	struct unm_dom_member *m = mb(p);

	UNM_WRITE_ONCE(m->up_need_kick, on);
	if (on && out_too)
		__atomic_fetch_or(&m->wait_mask, UNM_DOM_WAIT_UNMD, __ATOMIC_RELAXED);
}

static bool dom_pending(struct vport *p, bool out_too)
{
	struct unm_dom_member *m = mb(p);

	if (!p->blocked && UNM_READ_ONCE(m->up_hwtail) != p->in[0].hwcur)
		return true;
	return out_too && UNM_READ_ONCE(m->rx_hwcur) != p->out[0].seen_head;
}

static void dom_set_error(struct vport *p)
{
	struct dom_vpriv *v = p->priv;

	unclaim(p);
	efd_write(v->dom->wake[v->k]);
}

static void vdom_free(struct vdomain *dom)
{
	for (unsigned i = 0; i < UNM_DOM_MAX_MEMBERS; i++) {
		if (dom->kick[i] >= 0)
			close(dom->kick[i]);
		if (dom->wake[i] >= 0)
			close(dom->wake[i]);
	}
	for (unsigned i = 0; i < UNM_DOM_MAX_MEMBERS; i++)
		if (dom->pidfd[i] >= 0)
			close(dom->pidfd[i]);
	for (unsigned i = 0; i < dom->n_retired; i++)
		close(dom->retired[i].pidfd);
	if (dom->base)
		munmap(dom->base, dom->l.size);
	if (dom->fd >= 0)
		close(dom->fd);
	free(dom);
}

static void dom_destroy(struct vport *p)
{
	struct dom_vpriv *v = p->priv;

	if (v->last)
		vdom_free(v->dom);
	vport_free(p);
}

static const struct vport_ops dom_ops = {
	.type = "domain",
	.in_fetch = dom_in_fetch,
	.in_release = dom_in_release,
	.out_space = dom_out_space,
	.out_publish = dom_out_publish,
	.out_unclaim = dom_out_unclaim,
	.round_end = dom_round_end,
	.want_kicks = dom_want_kicks,
	.pending = dom_pending,
	.set_error = dom_set_error,
	.destroy = dom_destroy,
};

/* ---- membership (control thread, lock held) ------------------------------- */

static struct vdomain *vdom_find(struct vswitch *sw, const char *name)
{
	for (struct vdomain *dom = sw->doms; dom; dom = dom->next)
		if (!strcmp(dom->name, name))
			return dom;
	return NULL;
}

static struct vdomain *vdom_create(struct unmd *d, struct vswitch *sw, const char *name, uid_t uid,
				   const struct unm_ctl_geom *g, char *err, size_t errlen)
{
	struct vdomain *dom = calloc(1, sizeof(*dom));
	uint32_t slots = g->tx_slots > g->rx_slots ? g->tx_slots : g->rx_slots;
	int rc;

	if (!dom)
		return snprintf(err, errlen, "out of memory"), NULL;
	dom->fd = -1;
	for (unsigned i = 0; i < UNM_DOM_MAX_MEMBERS; i++)
		dom->kick[i] = dom->wake[i] = dom->pidfd[i] = -1;
	snprintf(dom->name, sizeof(dom->name), "%s", name);
	dom->uid = uid;
	dom->sw = sw;
	/* The default 2048 becomes the pipes' 2112-byte stride: members write
	 * and read the first line of every buffer in flight, and at a
	 * power-of-two stride those lines share a thirty-second of the cache
	 * sets (bench/NOTES.md). */
	if (unm_dom_layout(UNM_DOM_MAX_MEMBERS, slots,
			   g->buf_size == UNM_DEF_BUF_SIZE ? UNM_PIPE_DEF_BUF_SIZE : g->buf_size,
			   &dom->l)) {
		snprintf(err, errlen, "domain geometry out of range");
		goto fail;
	}
	if ((rc = unm_dom_create(&dom->l, &dom->fd, &dom->base))) {
		snprintf(err, errlen, "domain region of %llu bytes: %s",
			 (unsigned long long)dom->l.size, strerror(-rc));
		dom->base = NULL;
		goto fail;
	}
	for (unsigned i = 0; i < UNM_DOM_MAX_MEMBERS; i++) {
		dom->kick[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		dom->wake[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (dom->kick[i] < 0 || dom->wake[i] < 0) {
			snprintf(err, errlen, "eventfd: %s", strerror(errno));
			goto fail;
		}
	}
	unm_dom_hdr(dom->base)->lossless = sw->lossless;
	dom->next = sw->doms;
	sw->doms = dom;
	d->n_domains++;
	ulog("switch %s: trust domain %s made (uid %u, %u slots, %u-byte buffers)", sw->name,
	     name, (unsigned)uid, dom->l.nslots, dom->l.buf_size);
	return dom;
fail:
	vdom_free(dom);
	return NULL;
}

static void vring_init(struct vring *vr, struct vdomain *dom, unsigned k, unsigned which)
{
	struct unm_ring *r = unm_dom_ring(dom->base, &dom->l, k, which);

	vr->ring = r;
	vr->slot = r->slot;
	vr->pool = (char *)dom->base + dom->l.pool_ofs;
	vr->nslots = dom->l.nslots;
	vr->buf_size = dom->l.buf_size;
	vr->buf_count = dom->l.buf_count;
	vr->hwcur = 0;
	vr->hwtail = which == UNM_DOM_UP ? dom->l.nslots - 1 : 0;
	vr->seen_head = 0;
	vr->id = 0;
	vr->csb = NULL;
	vr->kick_fd = which == UNM_DOM_UP ? dom->kick[k] : -1;
	vr->irq_fd = -1;
}

int vdom_port_create(struct unmd *d, struct vswitch *sw, const char *dname, uid_t uid,
		     const char *port, const struct unm_ctl_geom *g, struct vport **pp,
		     char *err, size_t errlen)
{
	struct vdomain *dom = vdom_find(sw, dname);
	struct dom_vpriv *v;
	struct vport *p;
	unsigned k = UNM_DOM_MAX_MEMBERS;

	if (dom && dom->uid != uid)
		return snprintf(err, errlen, "trust domain %s of %s belongs to uid %u: a domain "
				"holds the ports of one uid", dname, sw->name, (unsigned)dom->uid),
		       -EACCES;
	if (!dom && !(dom = vdom_create(d, sw, dname, uid, g, err, errlen)))
		return -ENOMEM;
	for (unsigned i = 0; i < dom->l.max_members && k == UNM_DOM_MAX_MEMBERS; i++)
		if (!dom->members[i])
			k = i;
	if (k == UNM_DOM_MAX_MEMBERS)
		return snprintf(err, errlen, "trust domain %s of %s is full (%u members)", dname,
				sw->name, dom->l.max_members), -ENOSPC;
	p = vport_alloc(1, 1, sizeof(*v));
	if (!p) {
		if (!dom->n)
			vdom_unlink_free(d, dom);
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	}
	v = p->priv;
	v->dom = dom;
	v->k = k;
	dom->gen = (dom->gen + 1) & 0xffffff;
	v->token = (dom->gen << 8) | (k + 1);
	p->ops = &dom_ops;
	snprintf(p->name, sizeof(p->name), "%s", port);
	snprintf(p->type, sizeof(p->type), "domain");
	p->geom = *g;
	p->geom.tx_rings = p->geom.rx_rings = 1;
	p->geom.tx_slots = p->geom.rx_slots = dom->l.nslots;
	p->geom.buf_size = dom->l.buf_size;
	p->geom.extra_bufs = 0;
	p->region_size = dom->l.member_size + 3ull * dom->l.nslots * dom->l.buf_size;
	p->dom = dom;
	unm_dom_member_reset(dom->base, &dom->l, k);
	vring_init(&p->in[0], dom, k, UNM_DOM_UP);
	vring_init(&p->out[0], dom, k, UNM_DOM_RX);
	dom->members[k] = p;
	dom->n++;
	*pp = p;
	return 0;
}

/* The port is on its switch with an owner: let the others see it. */
void vdom_port_ready(struct vport *p, pid_t pid)
{
	struct dom_vpriv *v = p->priv;
	struct unm_dom_member *m = mb(p);

	m->pid = (uint32_t)pid;
	m->port_idx = p->idx;
	/* to know when it can no longer write (vdom_forget); the client is
	 * connected and waiting for our reply: PID is still its process */
	if (v->dom->pidfd[v->k] >= 0)
		close(v->dom->pidfd[v->k]);
#ifdef SYS_pidfd_open
	v->dom->pidfd[v->k] = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
#else
	v->dom->pidfd[v->k] = -1;
#endif
	if (v->dom->pidfd[v->k] >= 0)
		(void)fcntl(v->dom->pidfd[v->k], F_SETFD, FD_CLOEXEC);
	__atomic_store_n(&m->token, v->token, __ATOMIC_RELEASE);
}

unsigned vdom_fds(struct vport *p, int *fds, unsigned max, uint32_t *member, uint32_t *token)
{
	struct dom_vpriv *v = p->priv;
	unsigned n = 0;

	if (max < 2 + UNM_DOM_MAX_MEMBERS)
		return 0;
	fds[n++] = v->dom->fd;
	fds[n++] = v->dom->kick[v->k];
	for (unsigned i = 0; i < UNM_DOM_MAX_MEMBERS; i++)
		fds[n++] = v->dom->wake[i];
	*member = v->k + 1;
	*token = v->token;
	return n;
}

void vdom_unlink_free(struct unmd *d, struct vdomain *dom)
{
	for (struct vdomain **q = &dom->sw->doms; *q; q = &(*q)->next)
		if (*q == dom) {
			*q = dom->next;
			break;
		}
	d->n_domains--;
	vdom_free(dom);
}

/* Has the process behind PIDFD exited (-1: unknown, taken as gone)?
 * Exited = it can no longer write the region. */
static bool proc_gone(int pidfd)
{
	struct pollfd pf = { .fd = pidfd, .events = POLLIN };

	return pidfd < 0 || poll(&pf, 1, 0) != 0;
}

/* Clear every claim token TOKEN holds in DOM (its holder can no longer
 * write: what it swapped in but had not published stays unpublished). */
static void clear_claims(struct vdomain *dom, uint32_t token)
{
	for (unsigned i = 0; i < dom->l.max_members; i++) {
		struct unm_dom_member *m = unm_dom_member(dom->base, &dom->l, i);

		if (unm_dom_ct_clear(&m->ctail, token))
			wake_waiters(dom, m);
	}
}

/*
 * Forget member K: its claims, its learning entries, its slot. Its
 * claims are cleared now if its process is gone (a member's connection
 * closes when it dies: files close after its memory is released); if it
 * may live on (removed by unmd or an administrator, or it closed the
 * socket itself), its token is retired: vdom_sweep clears what it holds
 * once the process has exited, never before, so a holder stalled in the
 * middle of a swap cannot find a second writer in its ring when it
 * resumes.
 */
static void vdom_forget(struct vdomain *dom, unsigned k, uint32_t token)
{
	struct unm_dom_lt_ent *lt = unm_dom_lt(dom->base, &dom->l);
	int pidfd = dom->pidfd[k];

	dom->pidfd[k] = -1;
	__atomic_store_n(&unm_dom_member(dom->base, &dom->l, k)->token, 0, __ATOMIC_RELEASE);
	if (!proc_gone(pidfd) && dom->n_retired < VDOM_RETIRED) {
		dom->retired[dom->n_retired].token = token;
		dom->retired[dom->n_retired++].pidfd = pidfd;
	} else {
		if (pidfd >= 0)
			close(pidfd);
		clear_claims(dom, token);
	}
	for (unsigned e = 0; e < dom->l.lt_buckets * UNM_DOM_LT_WAYS; e++) {
		uint64_t key = __atomic_load_n(&lt[e].key, __ATOMIC_RELAXED);

		if (key && (key >> 48) == k + 1)
			__atomic_store_n(&lt[e].key, 0, __ATOMIC_RELAXED);
	}
}

void vdom_port_removed(struct unmd *d, struct vport *p)
{
	struct dom_vpriv *v = p->priv;
	struct vdomain *dom = v->dom;

	unclaim(p);
	vdom_forget(dom, v->k, v->token);
	dom->members[v->k] = NULL;
	if (--dom->n == 0) {
		/* unlinked now, freed with the port (after the lock) */
		for (struct vdomain **q = &dom->sw->doms; *q; q = &(*q)->next)
			if (*q == dom) {
				*q = dom->next;
				break;
			}
		d->n_domains--;
		v->last = true;
		ulog("switch %s: trust domain %s gone with its last member", dom->sw->name,
		     dom->name);
	}
	p->dom = NULL;
}

/* Switch membership or mode changed: tell every domain of SW. */
void vdom_switch_changed(struct vswitch *sw)
{
	for (struct vdomain *dom = sw->doms; dom; dom = dom->next) {
		struct unm_dom_hdr *h = unm_dom_hdr(dom->base);

		UNM_WRITE_ONCE(h->lossless, sw->lossless);
		UNM_WRITE_ONCE(h->outside, sw->n_active > dom->n - dom->n_mon);
	}
}

/* A frame from outside DOM (source MAC at MAC) was delivered into DOM:
 * its members send there through unmd, not by flooding. */
void vdom_learn_uplink(struct vdomain *dom, const uint8_t *mac, uint64_t now_ns)
{
	uint64_t m = unm_dom_mac(mac);

	struct unm_dom_lt_ent *lt = unm_dom_lt(dom->base, &dom->l), *b;
	uint32_t now_ms = (uint32_t)(now_ns / 1000000) | 1;

	if (m == dom->learn_mac)
		return;
	dom->learn_mac = m;
	/* The switch's rule (vale_learn.c): an address moves only after 1 s
	 * of silence where it was learned, so a frame from outside carrying
	 * a member's address (spoofed, or replayed by a hostile port) does
	 * not divert the domain's traffic to that member. Table values are
	 * untrusted: only compared. */
	b = lt + (size_t)unm_dom_bucket(m) * UNM_DOM_LT_WAYS;
	for (unsigned w = 0; w < UNM_DOM_LT_WAYS; w++) {
		uint64_t k = __atomic_load_n(&b[w].key, __ATOMIC_RELAXED);
		uint32_t seen = __atomic_load_n(&b[w].seen_ms, __ATOMIC_RELAXED);

		if (k && (k & 0xffffffffffffull) == m && (k >> 48) != UNM_DOM_UPLINK + 1 &&
		    now_ms - seen < 1000)
			return;
	}
	unm_dom_learn(lt, m, UNM_DOM_UPLINK, now_ms);
}

/* Who holds TOKEN in DOM: 1 a member on the switch (or unmd itself,
 * holding K's ring), 2 a retired member whose process lives on, 0 nobody
 * who can still write (a dead member's token, or garbage). Retired
 * members whose process is gone are dropped here. */
static int holder_of(struct vdomain *dom, unsigned k, uint32_t token)
{
	if (token == UNM_DOM_UNMD_TOKEN)
		return dom->members[k] && ((struct dom_vpriv *)dom->members[k]->priv)->claimed;
	for (unsigned i = 0; i < dom->l.max_members; i++)
		if (dom->members[i] && ((struct dom_vpriv *)dom->members[i]->priv)->token == token)
			return 1;
	for (unsigned i = 0; i < dom->n_retired; i++) {
		if (dom->retired[i].token != token)
			continue;
		if (!proc_gone(dom->retired[i].pidfd))
			return 2;
		close(dom->retired[i].pidfd);
		dom->retired[i] = dom->retired[--dom->n_retired];
		return 0;
	}
	return 0;
}

/*
 * Forwarding thread: repair claims that nobody who can still write holds
 * (a dead member's, a retired member's whose process has exited, garbage
 * a member wrote), so the domain's rings move again within 100 ms. A
 * claim held by a live member is never taken from it, however long it
 * is held: the holder may be descheduled between its swap and its
 * publish, and clearing its claim would make two writers of one ring
 * (duplicated buffers, stale frames published). A live member holding a
 * ring stalls that ring for its own domain only (unmd's deliveries from
 * outside find no room and drop, as at a full ring); long holds are
 * counted and logged.
 */
void vdom_sweep(struct unmd *d, uint64_t now)
{
	for (unsigned s = 0; s < VS_MAX_SWITCHES; s++) {
		struct vswitch *sw = d->sw[s];

		for (struct vdomain *dom = sw ? sw->doms : NULL; dom; dom = dom->next) {
			if (now - dom->last_sweep < VDOM_SWEEP_NS)
				continue;
			dom->last_sweep = now;
			dom->learn_mac = 0;
			for (unsigned i = 0; i < dom->n_retired;) /* prune the gone */
				if (proc_gone(dom->retired[i].pidfd)) {
					clear_claims(dom, dom->retired[i].token);
					close(dom->retired[i].pidfd);
					dom->retired[i] = dom->retired[--dom->n_retired];
				} else {
					i++;
				}
			for (unsigned k = 0; k < dom->l.max_members; k++) {
				struct unm_dom_member *m = unm_dom_member(dom->base, &dom->l, k);
				uint32_t c = unm_dom_ct_token(__atomic_load_n(&m->ctail,
									      __ATOMIC_ACQUIRE));
				int who;

				if (!c) {
					dom->seen_claim[k] = 0;
					continue;
				}
				who = holder_of(dom, k, c);
				if (who) {
					/* a sample: the same token twice may be two holds */
					if (c != dom->seen_claim[k]) {
						dom->seen_claim[k] = c;
						dom->seen_since[k] = now;
					} else if (now - dom->seen_since[k] >= VDOM_HOLD_NS &&
						   dom->seen_since[k] != 0) {
						dom->long_holds++;
						dom->seen_since[k] = 0; /* counted once */
						if (now - dom->last_log >= 1000000000ull) {
							ulog("switch %s: domain %s: member %u's ring "
							     "claimed by %s token %#x for %llu ms or "
							     "more: left to it (%llu long holds so "
							     "far)", sw->name, dom->name, k,
							     who == 1 ? "live" : "retired live", c,
							     (unsigned long long)(VDOM_HOLD_NS /
										  1000000),
							     (unsigned long long)dom->long_holds);
							dom->last_log = now;
						}
					}
					continue;
				}
				/* garbage, or a holder that can no longer write */
				if (unm_dom_ct_clear(&m->ctail, c)) {
					if (now - dom->last_log >= 1000000000ull) {
						ulog("switch %s: domain %s: claim %#x on member "
						     "%u's ring by no live member; cleared (%llu so "
						     "far)", sw->name, dom->name, c, k,
						     (unsigned long long)dom->cleared + 1);
						dom->last_log = now;
					}
					dom->cleared++;
					wake_waiters(dom, m);
					if (dom->members[k])
						dom->members[k]->st.bad_ring++;
				}
				dom->seen_claim[k] = 0;
			}
		}
	}
}

/* ---- zero-copy RX monitors (monitor.c; lib/domain.c mon_handoff) ------------ */

int vdom_mon_create(struct unmd *d, struct vport *t, pid_t pid, struct vport **pp, char *err,
		    size_t errlen)
{
	struct vdomain *dom = t->dom;
	struct unm_dom_member *tm = mb(t);
	struct dom_vpriv *v;
	struct vport *p;
	int rc;

	/* unmd's own record decides, not the shared word: one per target */
	for (unsigned i = 0; i < dom->l.max_members; i++)
		if (dom->members[i] && dom->members[i]->self_mon &&
		    UNM_READ_ONCE(unm_dom_member(dom->base, &dom->l, i)->mon_of) ==
			    ((struct dom_vpriv *)t->priv)->k + 1)
			return snprintf(err, errlen, "%s:%s already has a zero-copy monitor",
					t->sw->name, t->name), -EBUSY;
	rc = vdom_port_create(d, dom->sw, dom->name, dom->uid, "monitor", &t->geom, &p, err,
			      errlen);
	if (rc)
		return rc;
	v = p->priv;
	dom->n_mon++;
	snprintf(p->type, sizeof(p->type), "monitor");
	/* a monitor before it has a token: never a destination (live()) */
	UNM_WRITE_ONCE(unm_dom_member(dom->base, &dom->l, v->k)->mon_of,
		       ((struct dom_vpriv *)t->priv)->k + 1);
	vdom_port_ready(p, pid);
	/* after its token: T's next release hands frames over */
	__atomic_store_n(&tm->rx_mon, v->k + 1, __ATOMIC_RELEASE);
	*pp = p;
	return 0;
}

void vdom_mon_gone(struct vport *mp, struct vport *t)
{
	struct dom_vpriv *v = mp->priv;
	struct unm_dom_member *m = mb(mp);

	if (t && t->dom == v->dom && UNM_READ_ONCE(mb(t)->rx_mon) == v->k + 1)
		__atomic_store_n(&mb(t)->rx_mon, 0, __ATOMIC_RELEASE);
	/* [D9] release: after rx_mon's clearing; pairs with [D10] */
	__atomic_store_n(&m->mon_gone, 1, __ATOMIC_RELEASE);
	efd_write(v->dom->wake[v->k]);
}

void vdom_mon_removed(struct unmd *d, struct vport *mp, struct vport *t)
{
	struct dom_vpriv *v = mp->priv;

	if (t)
		vdom_mon_gone(mp, t);
	v->dom->n_mon--;
	vdom_port_removed(d, mp);
}

void vdom_mon_counts(const struct vport *p, uint64_t *handed, uint64_t *drops)
{
	const struct unm_dom_member *m = mb(p);

	*handed += UNM_READ_ONCE(m->mon_handed);
	*drops += UNM_READ_ONCE(m->mon_drops);
}
