// SPDX-License-Identifier: BSD-2-Clause
/*
 * vale_thread.c - the forwarding thread of unmd's VALE switches: rounds
 * of vs_round (vale_fwd.c) while they move frames, a short spin, then
 * the double check and a sleep until a kick.
 *
 * Threading model: ONE forwarding thread serves every ring of every port
 * of every switch. This machine class has 2 vCPUs that the forwarding
 * thread shares with the clients it serves; a thread per switch or per
 * ring would only add context switches and cache-line ping-pong between
 * threads competing for the same two CPUs, and a per-switch thread can
 * always be added later by giving each switch its own lock and epoll. The
 * thread busy-polls while rounds make progress (no syscall on the fast
 * path: clients see kern_need_kick == 0 and do not kick), keeps polling
 * for VS_SPIN_NS after the last progress, then does netmap's double
 * check: set kern_need_kick on every ring, full fence [H3], re-read
 * every head; only if still nothing is pending does it sleep in
 * epoll_wait on all kick eventfds (edge-triggered: a kick is never
 * read, the write itself wakes us).
 * Clients are interrupted (irq eventfd) at most once per ring per round,
 * and only if they asked (appl_need_kick) and the ring moved.
 *
 * Locking: see unmd.h. The forwarding thread holds d->lock except while
 * sleeping and while yielding to the control thread between rounds.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "unmd.h"

/* Going idle: interrupt every monitor still owed one (mon_round_end). */
static void mon_flush_all(struct unmd *d)
{
	for (unsigned s = 0; s < VS_MAX_SWITCHES; s++) {
		struct vswitch *sw = d->sw[s];

		for (unsigned k = 0; sw && k < sw->n_active; k++) {
			struct vport *p = sw->ports[sw->active[k]];

			if (unlikely(p->mons))
				mon_round_end(p, true);
		}
	}
}

/*
 * Does SW's sleep need to hear of room in its ports' out rings? Only
 * when lossless backpressure holds frames back: some port's input waits
 * for room (p->blocked, set by the last round that tried it). Asking
 * for out kicks without one made every receiver's release wake us (a
 * domain member's rxsync writes our kick fd once per UNM_DOM_WAIT_UNMD
 * bit), and a release we never delivered into (a domain's own traffic:
 * seen_head stays where it was) made pending() true forever: the
 * thread spun at 100% of a CPU beside a lossless domain it had nothing
 * to forward for. Stable under the lock from want_kicks_all to
 * pending_all; a port that becomes blocked later does so in a round,
 * i.e. awake, and the next sleep asks.
 */
static bool out_kicks(const struct vswitch *sw)
{
	if (!sw->lossless)
		return false;
	for (unsigned k = 0; k < sw->n_active; k++)
		if (sw->ports[sw->active[k]]->blocked)
			return true;
	return false;
}

static void want_kicks_all(struct unmd *d, bool on)
{
	for (unsigned s = 0; s < VS_MAX_SWITCHES; s++) {
		struct vswitch *sw = d->sw[s];
		bool out_too = sw && out_kicks(sw);

		for (unsigned k = 0; sw && k < sw->n_active; k++) {
			struct vport *p = sw->ports[sw->active[k]];

			if (!p->errored)
				p->ops->want_kicks(p, on, out_too);
		}
	}
}

static bool pending_all(struct unmd *d)
{
	for (unsigned s = 0; s < VS_MAX_SWITCHES; s++) {
		struct vswitch *sw = d->sw[s];
		bool out_too = sw && out_kicks(sw);

		for (unsigned k = 0; sw && k < sw->n_active; k++) {
			struct vport *p = sw->ports[sw->active[k]];

			if (!p->errored && p->ops->pending(p, out_too))
				return true;
		}
	}
	return false;
}

/* Nothing moved: double check, then sleep until a kick. Lock held. */
static void vs_sleep(struct unmd *d)
{
	struct epoll_event ev[64];

	mon_flush_all(d);
	want_kicks_all(d, true);
	/* [H3] full fence: kern_need_kick stores / head loads (double check);
	 * pairs with [A3] in lib/csb.c. */
	unm_smp_mb();
	if (!pending_all(d) && !__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		unmd_unlock(d);
		/* domains: wake up for vdom_sweep's repairs within 100 ms */
		if (epoll_wait(d->ep, ev, 64, d->n_domains ? 20 : d->idle_ms) < 0 && errno != EINTR)
			ulog("epoll_wait: %s", strerror(errno));
		unmd_lock(d);
		for (unsigned s = 0; s < VS_MAX_SWITCHES; s++) {
			struct vswitch *sw = d->sw[s];

			for (unsigned k = 0; sw && k < sw->n_active; k++) {
				struct vport *p = sw->ports[sw->active[k]];
				int rc;

				if (p->ops->on_wake && !p->errored && (rc = p->ops->on_wake(p)) < 0)
					vs_port_error(d, p, "%s", strerror(-rc));
			}
		}
	}
	want_kicks_all(d, false);
}

/*
 * After the last round that moved something, keep polling for VS_SPIN_NS
 * before the double check and epoll_wait: a client woken by our irq needs
 * some microseconds to refill, and catching that without sleeping saves
 * it a kick and us a wake-up. The spin pauses (cpu_relax) between rounds
 * and keeps the CPU: sched_yield() here handed it to unrelated processes
 * for ~100 us at a time on a loaded host, and a client we wake on this
 * CPU preempts the spinner anyway.
 */
#define VS_SPIN_NS  50000
#define VS_SPIN_RELAX 64       /* pauses between two idle rounds */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* A receiver we woke waits for this CPU (vport_csb.c: yield_owed): let
 * it run now rather than at the end of our time slice. The lock stays
 * held: the receiver is another process, and the control thread gets it
 * between rounds as usual. Returns true if it yielded. */
static bool vs_yield(struct unmd *d)
{
	if (!d->yield_owed)
		return false;
	d->yield_owed = false;
	sched_yield();
	return true;
}

static void *vs_thread(void *arg)
{
	struct unmd *d = arg;
	struct fwd_batch *b = vs_batch_new();
	uint64_t idle_since = 0;

	if (!b) {
		ulog("forwarding thread: out of memory");
		return NULL;
	}
	unmd_lock(d);
	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&d->ctl_waiting, __ATOMIC_ACQUIRE)) {
			unmd_unlock(d);
			while (__atomic_load_n(&d->ctl_waiting, __ATOMIC_ACQUIRE))
				sched_yield();
			unmd_lock(d);
		}
		uint64_t now = unm_now_ns();

		if (unlikely(d->n_domains))
			vdom_sweep(d, now); /* dead or stuck claim holders (domain.c) */
		if (vs_round(d, b, now) | vs_yield(d)) {
			idle_since = 0;
			continue;
		}
		if (!idle_since)
			idle_since = now;
		if (now - idle_since < VS_SPIN_NS) {
			for (unsigned i = 0; i < VS_SPIN_RELAX; i++)
				cpu_relax();
			continue;
		}
		vs_sleep(d);
		idle_since = 0;
	}
	unmd_unlock(d);
	free(b);
	return NULL;
}

int vs_start(struct unmd *d)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	int rc;

	/* The sleep is bounded only as a safety net: every event that makes
	 * work writes an eventfd. UNMD_IDLE_TIMEOUT_MS (tests) widens the
	 * net, so a lost wake-up shows as a stall instead of a 1 s hiccup. */
	const char *idle = getenv("UNMD_IDLE_TIMEOUT_MS");

	d->idle_ms = idle && atoi(idle) > 0 ? atoi(idle) : 1000;
	vport_csb_config();
	d->ep = epoll_create1(EPOLL_CLOEXEC);
	d->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->ep < 0 || d->wake_fd < 0)
		return -errno;
	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, d->wake_fd, &ev) < 0)
		return -errno;
	rc = pthread_create(&d->worker, NULL, vs_thread, d);
	return -rc;
}

void vs_stop(struct unmd *d)
{
	uint64_t one = 1;

	__atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
	if (write(d->wake_fd, &one, sizeof(one)) < 0)
		ulog("wake: %s", strerror(errno));
	pthread_join(d->worker, NULL);
	close(d->ep);
	close(d->wake_fd);
}
