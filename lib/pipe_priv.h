/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pipe_priv.h - private to the pipe's files: lib/pipe.c (data path,
 * open/close), lib/pipe_rdv.c (rendezvous, handshake, service path) and
 * lib/pipe_zmon.c (monitors of an end): the pipe end's process-local
 * state (struct pipe_priv, one struct pipe_ring per ring) and what these
 * files call of each other. Nothing here is shared memory; see lib/pipe.c
 * for the threads and locking rules, docs/zmon.md for the monitor.
 *
 * Prefixes: pp = a pipe_priv; pr = a pipe_ring; PS_ = peer state; EV_ =
 * epoll tags; zm_ = the monitor rendezvous and zero-copy (/z) monitor
 * state of an end (pipe_zmon.c); zc_ = the copy monitor's rings of an
 * unattached end (monitor:/t /r without unmd, pipe_zmon.c).
 */
#ifndef UNM_PIPE_PRIV_H
#define UNM_PIPE_PRIV_H

#include <errno.h>
#include <sys/un.h>
#include <unistd.h>
#include "internal.h"

#define PIPE_MAGIC     0x50504e55u /* "UNPP" */
#define PIPE_PROTO     1
#define PIPE_CHECK_NS  1000000ull  /* liveness check period while idle */
#define PIPE_SPIN_NS   50000ull    /* default busy period before arming */
#define PIPE_KEYLEN    (2 * UNM_NAME_MAX + 2)
#define PIPE_PENDING   4           /* accepted joiners awaiting their request */

enum { PS_WAITING = 0, PS_CONNECTED, PS_GONE };
enum { EV_WAKE = 1, EV_LISTEN, EV_CONN, EV_PENDING, /* epoll data.u32 tags */
       EV_ZLISTEN = EV_PENDING + PIPE_PENDING, EV_ZPEND, EV_ZCONN };

struct pipe_req {                  /* joiner -> owner, + SCM_RIGHTS [wake efd] */
	uint32_t magic;
	uint16_t version;
	uint16_t role;                 /* UNM_PIPE_MASTER / SLAVE wanted */
	char name[PIPE_KEYLEN];        /* "NAME{ID" */
};

struct pipe_rep {                  /* owner -> joiner, + [memfd, wake efd] if ok */
	uint32_t magic;
	uint16_t version;
	uint16_t __pad;
	int32_t status;                /* 0 or -errno */
	char name[PIPE_KEYLEN];
	char msg[128];
};

/*
 * Zero-copy monitor state of one TX ring (docs/zmon.md). Written by the
 * service path only while pipe_ring.zm is 0, read and updated by the
 * ring's sync thread only while it is not (ordered by [Z9]/[Z10] and
 * [Z11]/[Z12]). TX slots [fwd, hwcur) are in flight: diverted to the
 * monitor, not yet forwarded; their descriptors are in shadow[], which
 * nobody else can write.
 */
struct pipe_zring {
	struct unm_slot *shadow;       /* nslots private descriptors */
	struct unm_slot *mslot;        /* monitor ring slots (shared, write only) */
	struct unm_zmon_ctl *mc;       /* shared, untrusted second line */
	int efd;                       /* the monitor's wake eventfd */
	uint16_t mflag;                /* UNM_NS_TXMON or 0 */
	bool armed;                    /* mc->prod_need_wake is 1 */
	uint32_t moff;                 /* monitor index = TX index - moff */
	uint32_t fwd;                  /* first TX slot in flight */
	uint32_t mseen;                /* last m_hwcur read (raw) */
	/* Copy monitor (ZM_COPY): the monitor ring has its own buffers. */
	char *mbufs;                   /* nslots buffers, buffer k = monitor slot k */
	uint32_t cpos;                 /* next TX slot to copy, in [hwcur, head] */
	uint32_t mtail;                /* = m_hwtail we published */
	uint32_t mcur;                 /* last valid m_hwcur */
};

#define ZM_REQ    1u /* service: a monitor attached, start diverting */
#define ZM_ON     2u /* ring thread: diverting */
#define ZM_DETACH 4u /* service: monitor gone, forward everything, then 0 */
#define ZM_COPY   8u /* service, with ZM_REQ: a copy monitor (never diverts) */

/* Private state of one ring of this end; 64-byte aligned (one thread each). */
struct pipe_ring {
	struct unm_pipe_ctl *ctl;      /* this ring's direction of its pair */
	struct unm_slot *peer_slot;    /* TX: the peer's RX ring i slots */
	uint32_t *my_wake;             /* our need_wake flag in ctl */
	uint32_t prod_tail;            /* TX: next peer RX slot to fill (= last [P1]) */
	uint32_t cons_cache;           /* TX: last valid rx_hwcur seen */
	uint32_t loans;                /* TX, UNM_OPEN_PIPE_LOAN: slots lent, not back */
	bool armed;                    /* *my_wake is 1 */
	bool spinning;                 /* in the spin phase (wait is W_SPIN) */
	bool progressed;               /* progress since the last arm */
	uint64_t idle_since;           /* first idle arm after progress */
	uint64_t next_check;           /* next liveness check */
	/* What this ring waits for, for recheck() in any thread: 0, W_SPIN,
	 * or W_ARMED | the peer index it was armed at. Atomic. */
	uint64_t wait;
	/* Zero-copy monitor of this TX ring: ZM_* flags, atomic; set by the
	 * service path (ZM_REQ, ZM_DETACH), the ring's thread does the rest. */
	uint32_t zm;
	/* W_ARMED | m_hwcur seen at arm, or 0: for recheck(); atomic. */
	uint64_t zwait;
	struct pipe_zring z;
} __attribute__((aligned(UNM_CACHELINE)));

#define W_SPIN  (1ull << 32)
#define W_ARMED (2ull << 32)

struct pipe_priv {
	struct unm_port *p;
	int role;                      /* UNM_PIPE_MASTER / SLAVE: this end */
	bool owner;
	int lfd, cfd;                  /* listening (owner), connection */
	int my_efd, peer_efd;          /* woken by the peer / kicks the peer */
	int pending[PIPE_PENDING];
	int state;                     /* PS_*, atomic [L1]/[L2] */
	int svc_busy;                  /* try-lock of pipe_service */
	int self_sig;                  /* my_efd holds our own signal */
	int kick_left;                 /* a kick may have come after its ring moved */
	uint32_t nbufs, buf_size;      /* private copies of the region's */
	bool copy_small;               /* UNM_OPEN_PIPE_COPY (copy_slots) */
	bool loan;                     /* UNM_OPEN_PIPE_LOAN (txsync_loan) */
	uint64_t spin_ns;
	uint64_t next_service;         /* pipe_wakeup rate limit in the spin phase */
	char key[PIPE_KEYLEN];         /* "NAME{ID" */
	struct sockaddr_un addr;
	socklen_t addrlen;
	struct pipe_ring *rings;       /* n_tx TX then n_rx RX */
	struct pipe_priv *next;        /* owners of this process (registry) */
	/* Zero-copy monitor service (service path only, under svc_busy). */
	int zm_lfd, zm_pend, zm_cfd;   /* listening, request awaited, attached */
	int zm_efd;                    /* attached monitor's wake eventfd */
	int zm_memfd;                  /* /z monitor rings, created at the first attach */
	void *zm_base;
	size_t zm_size;
	int zc_memfd;                  /* copy monitor rings + buffers, likewise */
	void *zc_base;
	size_t zc_size;
};

static inline void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static inline int get_state(struct pipe_priv *pp)
{
	return __atomic_load_n(&pp->state, __ATOMIC_ACQUIRE); /* [L2] pairs with [L1] */
}

/* Progress after an arm: our need_wake flag goes back to 0 (own line).
 * The peer may have kicked (or still kick) for that arm: the next arm
 * empties the eventfd, so a poll() caller does not spin on a stale kick. */
static inline void disarm(struct pipe_priv *pp, struct pipe_ring *pr)
{
	pr->progressed = true;
	if (unlikely(pr->armed | pr->spinning)) {
		__atomic_store_n(&pr->wait, 0, __ATOMIC_RELAXED);
		if (pr->armed) {
			UNM_WRITE_ONCE(*pr->my_wake, 0);
			__atomic_store_n(&pp->kick_left, 1, __ATOMIC_RELAXED);
		}
		pr->armed = pr->spinning = false;
	}
}

/* Peer gone: pending slots are discarded and the ring shows no free slot,
 * so nothing waits for TX space that will never come. */
static inline int tx_dead(struct unm_kring *kr, uint32_t head)
{
	kr->hwcur = kr->hwtail = head;
	return -EPIPE;
}

/* lib/pipe.c */
UNM_HIDDEN int pipe_ep_add(int epfd, int fd, uint32_t events, uint32_t tag);
UNM_HIDDEN void pipe_kick(struct unm_port *p, struct pipe_priv *pp);
UNM_HIDDEN void pipe_self_signal(struct pipe_priv *pp);
/* Empty the wake eventfd, then re-check every waiting ring (the rule in
 * lib/pipe.c: whoever drains outside pipe_wakeup re-checks). */
UNM_HIDDEN void pipe_drain_recheck(struct unm_port *p, struct pipe_priv *pp);
UNM_HIDDEN void pipe_idle_check(struct pipe_priv *pp, struct pipe_ring *pr);
UNM_HIDDEN uint32_t pipe_refresh_space(struct unm_port *p, struct pipe_ring *pr, uint32_t ns);
UNM_HIDDEN uint64_t pipe_swap_slots(struct unm_port *p, const struct pipe_priv *pp,
				    struct pipe_ring *pr, struct unm_slot *txs, uint32_t ns,
				    uint32_t t, uint32_t j, uint32_t m);
UNM_HIDDEN void pipe_tx_blocked(struct unm_port *p, struct unm_kring *kr, uint32_t head);
UNM_HIDDEN int pipe_txsync(struct unm_port *p, struct unm_kring *kr, uint32_t head);
UNM_HIDDEN int pipe_txsync_direct(struct unm_port *p, struct unm_kring *kr, uint32_t head);
UNM_HIDDEN bool pipe_arm(struct unm_port *p, struct unm_kring *kr);

/* lib/pipe_rdv.c */
/* Become the owner of the pipe's name or join its owner, until
 * o->timeout_ms; 0 with the region mapped and the rings set up, or -errno
 * (unm_seterr). unm_open only. */
UNM_HIDDEN int pipe_rendezvous(struct unm_port *p, struct pipe_priv *pp,
			       const struct unm_open_opts *o);
/* The slow path: one epoll_wait(0) on unm_fd()'s set; accept and serve
 * joiners and monitors, notice a hung-up peer, drain the wake eventfd.
 * Never blocks; any thread, one at a time (others skip). */
UNM_HIDDEN void pipe_service(struct pipe_priv *pp);
/* Closing: an owner leaves this process' registry. */
UNM_HIDDEN void pipe_rdv_forget(struct pipe_priv *pp);

/* lib/pipe_zmon.c: service side (service path, under svc_busy) */
UNM_HIDDEN void zm_listen(struct unm_port *p, struct pipe_priv *pp);
UNM_HIDDEN void zm_accept(struct unm_port *p, struct pipe_priv *pp);
UNM_HIDDEN void zm_serve(struct unm_port *p, struct pipe_priv *pp);
UNM_HIDDEN void zm_hangup(struct unm_port *p, struct pipe_priv *pp);
UNM_HIDDEN void zm_free(struct unm_port *p, struct pipe_priv *pp);
/* lib/pipe_zmon.c: data path (the ring's sync thread) */
UNM_HIDDEN int zm_txsync(struct unm_port *p, struct unm_kring *kr, uint32_t head);
UNM_HIDDEN void zm_arm(struct pipe_ring *pr);

#endif /* UNM_PIPE_PRIV_H */
