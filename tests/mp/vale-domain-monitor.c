// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: zero-copy RX monitors of trust-domain ports. "vale0:b/r"
 * opened by a process of b's domain joins the domain (same region) and
 * receives, after b's application released them, the very buffers b
 * received: same buffer index and bytes end to end, the frames a sent
 * by swap (nothing copied, unmd never carries them). A monitor nobody
 * reads never stalls b: b gets every frame, the monitor's ring fills
 * and the rest is counted in b's mon_drops. A sleeping monitor is woken
 * per quarter ring or at b's lull, not per release, and never spins. A
 * TX or TX+RX monitor stays a copy monitor; root monitoring another
 * uid's domain port gets a copy monitor; another uid cannot monitor b at all (-EPERM, as before).
 * When b closes, the monitor returns what is queued, then -EPIPE.
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"
#include "unm-internal.h"
#include "../lib/domain.h"

#define NOBODY 65534

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static ino_t region_ino(struct unm_port *p)
{
	struct stat st;

	T_ASSERT_EQ(fstat(p->reg.fd, &st), 0);
	return st.st_ino;
}

/* P's member block (P a domain member, mapped in this process). */
static struct unm_dom_member *member(struct unm_port *p)
{
	const struct unm_dom_hdr *h = unm_dom_hdr(p->reg.base);
	struct unm_dom_layout l;

	T_ASSERT_EQ(unm_dom_layout(h->max_members, h->nslots, h->buf_size, &l), 0);
	return unm_dom_member(p->reg.base, &l, unm_dom_member_of(p) - 1);
}

/* Send one frame SEQ from A to MAC DST; its TX buffer index. */
static uint32_t send_one(struct unm_port *a, const uint8_t *dst, uint32_t seq)
{
	struct unm_ring *tx = unm_ring_get(a, 1, 0);
	uint32_t idx;

	for (int i = 0; i < 2000 && unm_ring_empty(tx); i++) {
		T_ASSERT(unm_wait(a, UNM_WAIT_TX, 10) >= 0);
		tx = unm_ring_get(a, 1, 0);
	}
	T_ASSERT(!unm_ring_empty(tx));
	idx = tx->slot[tx->head].buf_idx;
	t_frame((uint8_t *)unm_buf(tx, idx), 60 + seq % 64, dst, 1, seq);
	tx->slot[tx->head].len = (uint16_t)(60 + seq % 64);
	tx->slot[tx->head].flags = 0;
	unm_ring_advance(tx, unm_ring_next(tx, tx->head));
	T_ASSERT_EQ(unm_txsync(a, 0), 0);
	return idx;
}

/* The next RX slot of P within 20 s (NULL: -EPIPE or nothing). */
static struct unm_slot *next_rx(struct unm_port *p, struct unm_ring **rp, int *rc)
{
	struct unm_ring *rx = unm_ring_get(p, 0, 0);

	*rc = 0;
	for (int i = 0; i < 2000 && unm_ring_empty(rx); i++) {
		if ((*rc = unm_rxsync(p, 0)) < 0)
			return NULL;
		if (unm_ring_empty(rx) && (*rc = unm_wait(p, UNM_WAIT_RX, 10)) < 0 &&
		    *rc != -EINTR)
			return NULL;
	}
	*rp = rx;
	return unm_ring_empty(rx) ? NULL : &rx->slot[rx->head];
}

static void release(struct unm_port *p, struct unm_ring *rx)
{
	unm_ring_advance(rx, unm_ring_next(rx, rx->head));
	T_ASSERT_EQ(unm_rxsync(p, 0), 0);
}

/* As NOBODY: open its own domain port, then try to monitor vale0:b. */
static int nobody_part(int fd)
{
	struct unm_port *n, *m;
	char ok = 1;
	int rc;

	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return 10;
	if (unm_open("vale0:n", &n, NULL) || !unm_dom_member_of(n))
		return 11;
	rc = unm_open("vale0:b/r", &m, NULL);
	if (rc != -EPERM)
		return 12;
	if (write(fd, &ok, 1) != 1) /* root may look at vale0:n now */
		return 13;
	if (read(fd, &ok, 1) != 1)
		return 14;
	unm_close(n);
	return 0;
}

int main(void)
{
	static const char *const perm[] = { "-m", "0666", NULL };
	uint8_t f[2048], r[2048], ma[6], mb[6];
	struct unm_port *a, *b, *mon, *cm;
	struct unm_dom_member *bm;
	struct unm_ctl_port_info pi;
	struct unm_ring *rx, *mrx;
	struct unm_slot *s, *ms;
	uint32_t ns, got;
	int rc, sv[2], st;
	pid_t pid;
	char c;

	t_watchdog(90);
	t_unmd_start(perm);
	t_mac(ma, 1);
	t_mac(mb, 2);
	t_dom_switch("vale0");
	a = t_open("vale0:a");
	b = t_open("vale0:b");
	T_ASSERT(unm_dom_member_of(a) && unm_dom_member_of(b));

	/* an RX monitor from b's domain: a member of it, same region */
	mon = t_open("vale0:b/r");
	T_ASSERT(unm_dom_member_of(mon) != 0);
	T_ASSERT(region_ino(mon) == region_ino(b));
	bm = member(b);
	T_ASSERT_EQ(bm->rx_mon, unm_dom_member_of(mon));
	/* TX (or both) stays a copy monitor of unmd's */
	cm = t_open("monitor:vale0:b");
	T_ASSERT(!unm_dom_member_of(cm));
	unm_close(cm);

	/* b announces itself: a gets it, the monitor (b's RX) does not */
	T_ASSERT_EQ(t_send(b, f, t_frame(f, 60, bcast, 2, 0), 1000), 0);
	T_ASSERT_EQ(t_recv(a, r, sizeof(r), 2000), 60);
	T_ASSERT_EQ(t_recv(mon, r, sizeof(r), 50), 0);

	/* a -> b -> monitor: one buffer end to end */
	for (uint32_t q = 1; q <= 300; q++) {
		uint32_t idx = send_one(a, mb, q);

		T_ASSERT((s = next_rx(b, &rx, &rc)) != NULL);
		got = s->buf_idx;
		if (got != idx)
			T_FAIL("frame %u: sent in buffer %u, b got buffer %u", q, idx, got);
		T_ASSERT_EQ(t_frame_check((const uint8_t *)unm_buf(rx, got), s->len), q);
		release(b, rx);
		T_ASSERT((ms = next_rx(mon, &mrx, &rc)) != NULL);
		if (ms->buf_idx != got)
			T_FAIL("frame %u: b got buffer %u, its monitor buffer %u", q, got,
			       ms->buf_idx);
		T_ASSERT_EQ(ms->len, 60 + q % 64);
		T_ASSERT(!(ms->flags & UNM_NS_TXMON));
		T_ASSERT_EQ(t_frame_check((const uint8_t *)unm_buf(mrx, ms->buf_idx), ms->len), q);
		release(mon, mrx);
	}
	T_ASSERT_EQ(bm->mon_handed, 300);
	T_ASSERT_EQ(bm->mon_drops, 0);
	/* unm-ctl shows them (as b counts them) */
	T_ASSERT_EQ(t_port_info("vale0:b", &pi), 0);
	T_ASSERT_EQ(pi.monitors, 1);
	T_ASSERT_EQ(pi.mon_copies, 300);
	T_ASSERT_EQ(pi.mon_drops, 0);

	/* Wake-ups (lib/domain.c MON_WAKE_DIV, mon_flush): a sleeping
	 * monitor is not woken by each release of b, even one that leaves b
	 * with nothing (a receiver that keeps up does that at nearly every
	 * rxsync), but once a quarter of its ring is queued, or at b's lull
	 * (b going to sleep). All checked in one thread: whether an eventfd
	 * was written is known when the call that would write it returns. */
	{
		struct pollfd pfd = { .fd = unm_fd(mon), .events = POLLIN };
		uint32_t quarter = unm_ring_get(b, 0, 0)->num_slots / 4;
		uint64_t w0;

		T_ASSERT_EQ(unm_wait(mon, UNM_WAIT_RX, 1), 0); /* mon asleep */
		T_ASSERT_EQ(member(mon)->cons_need_wake, 1);
		send_one(a, mb, 400);
		T_ASSERT((s = next_rx(b, &rx, &rc)) != NULL);
		release(b, rx); /* b has consumed all it got */
		if (poll(&pfd, 1, 0) != 0)
			T_FAIL("monitor woken by a release of one frame");
		T_ASSERT_EQ(unm_wait(b, UNM_WAIT_RX, 5), 0); /* b sleeps: its lull */
		if (poll(&pfd, 1, 0) != 1)
			T_FAIL("monitor not woken when b went to sleep");
		T_ASSERT((ms = next_rx(mon, &mrx, &rc)) != NULL);
		T_ASSERT_EQ(t_frame_check((const uint8_t *)unm_buf(mrx, ms->buf_idx), ms->len),
			    400);
		release(mon, mrx);

		/* a monitor has no spin phase: right after it took a frame,
		 * with nothing queued, its wait sleeps (one wake-up: b's
		 * signal, which its rxsync did not need) where a member's
		 * would poll for 50 us */
		w0 = mon->st.wakeups;
		T_ASSERT_EQ(unm_wait(mon, UNM_WAIT_RX, 2), 0);
		if (mon->st.wakeups - w0 > 1)
			T_FAIL("idle monitor woke %llu times in 2 ms",
			       (unsigned long long)(mon->st.wakeups - w0));

		/* a quarter of the ring released at once wakes it at once */
		T_ASSERT_EQ(member(mon)->cons_need_wake, 1);
		for (uint32_t q = 0; q < quarter; q++)
			send_one(a, mb, 500 + q);
		rx = unm_ring_get(b, 0, 0);
		for (int i = 0; i < 2000 && unm_ring_space(rx) < quarter; i++) {
			T_ASSERT(unm_rxsync(b, 0) >= 0);
			if (unm_ring_space(rx) < quarter)
				T_ASSERT(unm_wait(b, UNM_WAIT_RX, 10) >= 0);
		}
		T_ASSERT_EQ(unm_ring_space(rx), quarter);
		unm_ring_advance(rx, rx->tail);
		T_ASSERT_EQ(unm_rxsync(b, 0), 0);
		if (poll(&pfd, 1, 0) != 1)
			T_FAIL("monitor not woken by %u frames queued", quarter);
		for (uint32_t q = 0; q < quarter; q++) {
			T_ASSERT((ms = next_rx(mon, &mrx, &rc)) != NULL);
			T_ASSERT_EQ(t_frame_check((const uint8_t *)unm_buf(mrx, ms->buf_idx),
						  ms->len),
				    500 + q);
			release(mon, mrx);
		}
		T_ASSERT_EQ(bm->mon_handed, 301 + quarter);
		T_ASSERT_EQ(bm->mon_drops, 0);
	}

	/* a monitor nobody reads: b still gets everything, the monitor what
	 * fits in its ring, the rest is counted */
	ns = unm_ring_get(b, 0, 0)->num_slots;
	for (uint32_t q = 1; q <= 3 * ns; q++) {
		send_one(a, mb, q);
		T_ASSERT((s = next_rx(b, &rx, &rc)) != NULL);
		T_ASSERT_EQ(t_frame_check((const uint8_t *)unm_buf(rx, s->buf_idx), s->len), q);
		release(b, rx);
	}
	T_ASSERT_EQ(bm->mon_handed, 301 + ns / 4 + ns - 1);
	T_ASSERT_EQ(bm->mon_drops, 3 * ns - (ns - 1));
	for (uint32_t q = 1; q < ns; q++) {
		T_ASSERT((ms = next_rx(mon, &mrx, &rc)) != NULL);
		T_ASSERT_EQ(t_frame_check((const uint8_t *)unm_buf(mrx, ms->buf_idx), ms->len), q);
		release(mon, mrx);
	}

	/* other uids: nobody may not monitor b; root monitoring nobody's
	 * domain port is an administrator's copy monitor, not a member */
	T_ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0)
		_exit(nobody_part(sv[1]));
	if (read(sv[0], &c, 1) == 1) {
		cm = t_open("vale0:n/r");
		T_ASSERT(!unm_dom_member_of(cm));
		unm_close(cm);
		T_ASSERT_EQ(write(sv[0], &c, 1), 1);
	}
	T_ASSERT_EQ(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		T_FAIL("nobody's part failed: status %#x", st);

	/* b goes: what is queued, then -EPIPE */
	send_one(a, mb, 7);
	T_ASSERT((s = next_rx(b, &rx, &rc)) != NULL);
	release(b, rx);
	unm_close(b);
	T_ASSERT((ms = next_rx(mon, &mrx, &rc)) != NULL);
	T_ASSERT_EQ(t_frame_check((const uint8_t *)unm_buf(mrx, ms->buf_idx), ms->len), 7);
	unm_ring_advance(mrx, unm_ring_next(mrx, mrx->head));
	rc = unm_rxsync(mon, 0);
	for (int i = 0; i < 200 && rc == 0; i++) {
		unm_wait(mon, UNM_WAIT_RX, 10);
		rc = unm_rxsync(mon, 0);
	}
	T_ASSERT_EQ(rc, -EPIPE);
	unm_close(mon);
	unm_close(a);
	printf("PASS\n");
	return 0;
}
