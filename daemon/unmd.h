/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unmd.h - unmd's internal interfaces: switches, switch ports (one
 * abstraction, two implementations), the lookup-function ops, the daemon
 * object and its lock.
 *
 * Threads and locking (see vale_thread.c for why there is one forwarding
 * thread):
 *   - the control thread (ctl_loop.c, ctl_server.c) accepts connections,
 *     parses requests, creates and destroys ports and switches;
 *   - the forwarding thread (vale_thread.c) runs every switch.
 * d->lock protects the switch table, every switch, every port and all
 * counters. The forwarding thread holds it while it forwards and drops it
 * only to sleep in epoll_wait or to let the control thread in (between
 * rounds, when d->ctl_waiting is set). The control thread holds it only
 * for in-memory changes and snapshots: never across a socket send, a
 * unm_open() or anything else that may block.
 *
 * Prefixes: vs_ / VS_ = VALE switch (vale.c: table, membership, errored
 * ports; vale_fwd.c: vs_round; vale_thread.c: the thread); vr_ / VR_ = one ring as the switch sees it (struct vring);
 * vport_ = a switch port (vport_csb.c: a client's, vport_attached.c: one
 * opened inside unmd); fwd_ = vale_fwd.c's forwarding passes; vo_ = VALE
 * offload (vale_offload.h); mon_ = monitors (monitor.c; mo_ there: one
 * monitor's output during one copy); lt_ = learning table
 * (vale_learn.c); unmd_ / ulog = the daemon context (unmd.c).
 */
#ifndef UNMD_H
#define UNMD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include "unm-internal.h"
#include "unm/ctl.h"
#include "unm-domain.h"
#include "vale_offload.h"

#define VS_MAX_PORTS    254  /* per switch (netmap's NM_BDG_MAXPORTS) */
#define VS_BCAST        254  /* lookup result: every port but the source */
#define VS_DROP         255  /* lookup result: nobody */
#define VS_MAX_SWITCHES 64
#define VS_BATCH        512  /* slots taken from one source ring per round */

/*
 * One ring of a switch port as the switch sees it: "in" rings are those
 * the switch reads frames from (a client's TX rings, an in-daemon port's
 * RX rings), "out" rings those it writes into. Everything here is the
 * switch's own, trusted copy; only ->slot[] and the buffers at ->pool are
 * shared with whoever else maps the region, and are read once and
 * validated (buf_idx in [2, buf_count), len <= buf_size).
 */
struct vring {
	struct unm_ring *ring;     /* shared ring (header values never trusted) */
	struct unm_slot *slot;     /* ring->slot */
	char *pool;                /* buffer 0 */
	uint32_t nslots, buf_size, buf_count;
	uint32_t hwcur;            /* in: next slot to take; out: first slot the
	                              owner has not released (its head) */
	uint32_t hwtail;           /* in: hwcur - 1; out: next slot to fill */
	uint32_t seen_head;        /* out: owner's head when last looked at */
	unsigned id;               /* ring index within its direction */
	struct unm_csb *csb;       /* CSB entry (client ports), else NULL */
	int kick_fd, irq_fd;       /* eventfds (client ports), else -1 */
	bool progress;             /* moved this round: interrupt may be owed */
	bool waking;               /* out (client): interrupted, has not released
	                              a slot since (vport_csb.c) */
	bool yielded;              /* out: the thread yielded the CPU for it since */
	bool owed;                 /* CSB: interrupt deferred (vport_csb.c): in,
	                              while this ring drains; out, while a batch
	                              fills (UNMD_CSB_RX_MODERATION) */
	uint64_t owed_at;          /* out: when the deferred interrupt was first owed */
	uint64_t woke_at;          /* out: when the last interrupt was sent (only
	                              with UNMD_CSB_YIELD=N us) */
	bool dirty;                /* in-daemon port: a sync is owed */
	bool skip;                 /* in: inside an over-long chain being dropped */
	struct vshare *share;      /* out: who holds which slot (vale_fwd.c), or NULL */
};

/*
 * Per-source share of an out ring (drop mode only; vale_fwd.c). owner[i] is
 * the index of the source port whose frame fills slot i, VS_NO_OWNER for
 * a slot the switch has not filled since it was last released; occ[s]
 * counts the slots owner[] gives to s. Both live in unmd's own memory: the
 * receiver's head (validated monotone by out_space) only tells which
 * slots came back. Invariant: occ[s] == |{i : owner[i] == s}|, so a
 * wrong head can never make a count wrap.
 */
#define VS_NO_OWNER 0xff
struct vshare {
	uint32_t rel;                 /* free region's end when last walked */
	uint16_t occ[VS_MAX_PORTS];
	uint8_t owner[];              /* nslots entries */
};

/* Ring arithmetic on [0, nslots): callers pass indexes already validated. */
static inline uint32_t vr_next(const struct vring *vr, uint32_t i)
{
	return i + 1 == vr->nslots ? 0 : i + 1;
}

static inline uint32_t vr_prev(const struct vring *vr, uint32_t i)
{
	return i == 0 ? vr->nslots - 1 : i - 1;
}

static inline uint32_t vr_dist(const struct vring *vr, uint32_t from, uint32_t to)
{
	return to >= from ? to - from : to + vr->nslots - from;
}

/*
 * Copy exactly LEN <= VR_LINE bytes: two constant-size moves that
 * overlap in the middle (inlined vector moves, no memcpy call; the branch
 * is predictable because a stream's frame sizes repeat). Nothing past LEN
 * is read or written: the bytes after a short frame in the source buffer
 * are whatever that buffer held before (the sender's earlier frames, or
 * frames the sender itself received into it), and copying them would
 * hand them to every receiver.
 */
#define VR_LINE 64
static inline void vr_copy_small(char *d, const char *s, uint32_t len)
{
	if (len >= 32) {
		memcpy(d, s, 32);
		memcpy(d + len - 32, s + len - 32, 32);
	} else if (len >= 16) {
		memcpy(d, s, 16);
		memcpy(d + len - 16, s + len - 16, 16);
	} else if (len >= 8) {
		memcpy(d, s, 8);
		memcpy(d + len - 8, s + len - 8, 8);
	} else {
		for (uint32_t i = 0; i < len; i++)
			d[i] = s[i];
	}
}

/*
 * Short single-buffer frame (len <= VR_LINE, both buffers at least
 * VR_LINE bytes, checked by the caller) into slot *k of O. False on a bad
 * (untrusted) buffer index in O.
 */
static inline bool vr_copy_line(struct vring *o, const char *src, uint32_t len, uint16_t flags,
				uint32_t *k)
{
	struct unm_slot *s = &o->slot[*k];
	uint32_t idx = UNM_READ_ONCE(s->buf_idx); /* untrusted */

	if (idx < 2 || idx >= o->buf_count)
		return false;
	vr_copy_small(o->pool + (uint64_t)idx * o->buf_size, src, len);
	UNM_WRITE_ONCE(s->len, (uint16_t)len);
	UNM_WRITE_ONCE(s->flags, flags);
	*k = vr_next(o, *k);
	return true;
}

/* vale_fwd.c: copy a frame of NF fragments (LEN bytes in all) into out ring O
 * from slot *k on, re-fragmenting to O's buffer size, every slot flagged
 * FLAGS (plus MOREFRAG but on the last); *k ends after the frame. O's
 * buffer indexes are untrusted: false (nothing published) on a bad one.
 * The caller has checked the frame fits in the free slots. */
bool vr_copy_frame(struct vring *o, const struct fwd_frag *f, unsigned nf, uint32_t len,
		   uint16_t flags, uint32_t *k);

struct vport;

/*
 * Switch port operations: the single internal interface behind which a
 * client served through a CSB (vport_csb.c) and a port opened inside unmd
 * with unm_open() (vport_attached.c) look the same to the forwarding code.
 * All are called by the forwarding thread with d->lock held, except
 * destroy (control thread, after the port left its switch).
 */
struct vport_ops {
	const char *type;
	/* Frames are waiting in [vr->hwcur, *end). Returns 0 or -errno (e.g.
	 * an impossible head; the reason is in p->why, see vport_fail): the
	 * switch then decides what becomes of the port (vs_port_failed). */
	int (*in_fetch)(struct vport *p, struct vring *vr, uint32_t *end);
	/* Slots before upto are consumed: give them back to the owner. */
	void (*in_release)(struct vport *p, struct vring *vr, uint32_t upto);
	/* Optional: frames read in place from the owner's memory instead of
	 * from slots (vport_attached.c: a backend with rx_pull), for a ring
	 * with nothing in [vr->hwcur, ..): up to MAX frames into F[] (one
	 * fragment each), their count, or 0 (in_fetch then: nothing, frames
	 * in another form, or an error). On > 0 in_pull_done(N) must follow
	 * within the same batch: it consumes the first N, the rest wait. */
	unsigned (*in_pull)(struct vport *p, struct vring *vr, struct fwd_frag *f, unsigned max);
	void (*in_pull_done)(struct vport *p, struct vring *vr, unsigned n);
	/* Free slots are [vr->hwtail, *end). Returns 0 or -errno, as in_fetch. */
	int (*out_space)(struct vport *p, struct vring *vr, uint32_t *end);
	/* Slots [vr->hwtail, upto) have been filled: hand them to the owner. */
	void (*out_publish)(struct vport *p, struct vring *vr, uint32_t upto);
	/* Optional: out_space was called but nothing is published (domain
	 * ports: release the ring's claim). */
	void (*out_unclaim)(struct vport *p, struct vring *vr);
	/* End of a forwarding round: send owed notifications/syncs. Returns
	 * 0, 1 (the thread should yield the CPU once: a receiver it woke
	 * has half its ring waiting, vport_csb.c) or -errno. */
	int (*round_end)(struct vport *p);
	/* Going to sleep (on) / awake again (off): ask the owner for kicks on
	 * in rings, and on out rings too when out_too (lossless backpressure:
	 * some input of the switch waits for room, vale_thread.c out_kicks). */
	void (*want_kicks)(struct vport *p, bool on, bool out_too);
	/* After want_kicks(on) and a full fence: is there work (double check)? */
	bool (*pending)(struct vport *p, bool out_too);
	/* The forwarding thread woke up: drain this port's notifications. */
	int (*on_wake)(struct vport *p);
	/* Mark errored for the owner to see (CSB: UNM_CSB_F_ERROR + irq). */
	void (*set_error)(struct vport *p);
	void (*destroy)(struct vport *p);
	/* Optional: an fd the forwarding thread sleeps on (edge-triggered)
	 * besides the rings' kick eventfds, or -1. */
	int (*fd)(struct vport *p);
};

struct vport_stats { /* uint64_t only: vport_stats_add sums them as an array */
	uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes;
	uint64_t tx_delivered, tx_extra_copies;
	uint64_t drops[UNM_DROP__COUNT];
	uint64_t rx_drops[UNM_DROP__COUNT]; /* frames toward this port dropped */
	uint64_t bad_ring, irqs_tx;
	uint64_t yields;       /* CPU yielded to this (woken, half-full) receiver */
	uint64_t mon_copies, mon_drops; /* monitor.c */
	uint64_t tx_swapped;            /* of tx_delivered: by buffer swap (vale_fwd.c) */
};

struct ctl_conn;
struct vswitch;

struct vport {
	const struct vport_ops *ops;
	struct vswitch *sw;
	unsigned idx;               /* index on the switch */
	char name[64];              /* "p1" (CSB ports) or the unm_open() name
	                               without its @conf options (attached) */
	char base[64];              /* attached: name without any suffix (what a
	                               monitor's target is matched against) */
	char type[16];
	unsigned n_in, n_out;
	struct vring *in, *out;
	struct vport_stats st;
	struct vo_stats vo;         /* offload counters (vale_offload.c) */
	bool errored;               /* the forwarding thread stopped serving it */
	bool blocked;               /* lossless: its input waits for room */
	bool persistent, attached;
	struct ctl_conn *owner;     /* connected client, or NULL */
	uid_t uid;                  /* owner: creator (client, port add, attach,
	                               monitor); charged for limits */
	char res[96];               /* attached: the host resource it holds
	                               ("if:tap:t0", "ino:DEV:INO"), "" if none:
	                               one resource, one port */
	uint64_t region_size;
	struct unm_ctl_geom geom;
	void *priv;
	struct vmon *mons;          /* monitors of this port (monitor.c), or NULL */
	struct vmon *self_mon;      /* this port IS a monitor (not on a switch) */
	struct vdomain *dom;        /* trust domain it belongs to (domain.c), or NULL */
	/* attached, buffers in this shared pool (lib/bufpool.c, one per switch
	 * and buffer size), or NULL: a frame between two ports of one pool
	 * moves by buffer swap (vale_fwd.c). Identity only, never dereferenced */
	const void *pool;
	char why[128];              /* why its last op failed (vport_fail) */
};

/* A port op failed: record why in P (for the log) and return RC (-errno).
 * Ops never error a port themselves: their caller does, vs_port_failed. */
int vport_fail(struct vport *p, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Lookup function of a switch (netmap's bdg_ops.lookup): pluggable so the
 * learning bridge can be replaced (a static table, an OpenFlow-ish match,
 * a monitor). Called by the forwarding thread with d->lock held, once per
 * frame in pass 1 of a batch; FRAME is the first fragment (>= 14 bytes,
 * in memory the sender can still write: read what you need once). Return
 * the destination port index, VS_BCAST or VS_DROP. It may learn from the
 * frame (source MAC -> SRC). port_gone forgets a departing port so its
 * index can be reused; dump lists entries for MAC_TABLE.
 */
struct vs_lookup_ops {
	const char *name;
	/* The answer depends only on the frame's first 12 bytes (MACs), SRC
	 * and the table: pass 1 reuses it for consecutive frames that repeat
	 * those bytes within a batch, without calling lookup again. */
	bool l2_only;
	void *(*create)(void);
	void (*destroy)(void *t);
	unsigned (*lookup)(void *t, const uint8_t *frame, unsigned len, unsigned src,
			   uint64_t now_ns);
	void (*port_gone)(void *t, unsigned port);
	void (*dump)(void *t, uint64_t now_ns,
		     void (*cb)(void *arg, const uint8_t mac[6], unsigned port, uint32_t age_ms),
		     void *arg);
	unsigned (*count)(void *t, uint64_t now_ns);
};

extern const struct vs_lookup_ops vs_learning_ops;

/* Switch setting `domains` (unm-ctl switch set SW domains off|uid|named) */
#define VS_DOMAINS_OFF   0  /* every port isolated (the default) */
#define VS_DOMAINS_UID   1  /* a client's ports join its uid's domain, or
                               @conf:domain=NAME's */
#define VS_DOMAINS_NAMED 2  /* only ports naming a domain join one */

struct vswitch {
	char name[UNM_CTL_SW_MAX];
	struct vport *ports[VS_MAX_PORTS];
	uint8_t active[VS_MAX_PORTS];  /* indexes of ports[] in use, compact */
	unsigned n_active;
	const struct vs_lookup_ops *lookup;
	void *lt;
	bool lossless;
	uint8_t domains;            /* VS_DOMAINS_*: who joins a trust domain */
	struct vdomain *doms;       /* its trust domains (domain.c) */
	bool kept;                  /* made by SWITCH_ADD: outlives its ports */
	uid_t uid;                  /* owner: creator (SWITCH_ADD or first port) */
	uint64_t frames;
	/* counters of the ports that left, folded in by vs_port_remove: the
	 * switch's totals (PORT_STATS) outlive the clients that made them */
	struct vport_stats gone;
	uint64_t ports_gone;
};

/* Add every counter of FROM to TO (switch totals). */
void vport_stats_add(struct vport_stats *to, const struct vport_stats *from);

struct unmd {
	pthread_mutex_t lock;
	int ctl_waiting;            /* atomic: the control thread wants the lock */
	struct vswitch *sw[VS_MAX_SWITCHES];
	int ep;                     /* forwarding thread's epoll (kicks, ports) */
	int wake_fd;                /* eventfd: wake the forwarding thread */
	int reap_fd;                /* eventfd: a port errored (to the control thread) */
	int job_fd[2];              /* pipe: finished attach jobs (to the control thread) */
	int stop;                   /* atomic */
	bool yield_owed;            /* forwarding thread: a round_end asked */
	pthread_t worker;
	bool verbose;
	unsigned max_ports_uid;
	unsigned max_conns_uid;      /* default max_ports_uid + 16 (main.c) */
	uint64_t max_mem_uid;
	unsigned max_switches_uid;   /* switches a non-admin uid may own */
	/* control thread only (ctl_loop.c) */
	struct ctl_conn *conns;      /* open connections */
	struct uid_conns *uids;      /* per-uid connection counts */
	unsigned n_deadlines;        /* connections with a deadline set */
	/* Closed in this epoll batch: a later event of the same batch may
	 * still point at them, so they are freed only when it is done. */
	struct ctl_conn *closed_conns;
	unsigned n_domains;         /* trust domains on all switches (domain.c) */
	int idle_ms;                /* forwarding thread's sleep bound (vs_start) */
	bool have_admin_gid;        /* --admin-group given */
	gid_t admin_gid;
};

/* unmd.c: the context */
/* Zero D and give it the defaults (limits), its lock and reap eventfd.
 * Returns 0 or -errno. */
int unmd_init(struct unmd *d);
/* Take every port off every switch and destroy it (switches go with their
 * last port). Lock held, forwarding thread stopped or never started. */
void unmd_remove_all(struct unmd *d);
/* Release what unmd_init took (after unmd_remove_all). */
void unmd_fini(struct unmd *d);
/* Log lines go to SINK (NULL: stderr, "unmd: " prefixed). Process-wide. */
void unmd_set_log(void (*sink)(const char *msg));
void ulog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void udebug(struct unmd *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void unmd_lock(struct unmd *d);
void unmd_unlock(struct unmd *d);

/* vale_thread.c: the forwarding thread (started once, stopped at exit) */
int vs_start(struct unmd *d);
void vs_stop(struct unmd *d);
/* vale_fwd.c: one forwarding round over every switch, with the scratch
 * from vs_batch_new (NULL: out of memory; free() it). Returns the frames
 * moved. Lock held. */
struct fwd_batch;
struct fwd_batch *vs_batch_new(void);
unsigned vs_round(struct unmd *d, struct fwd_batch *b, uint64_t now);
/* vale.c: the switch table and port membership */
struct vswitch *vs_find(struct unmd *d, const char *name);
/* Add P to switch NAME (created on demand). Lock held. Returns 0 or -errno
 * (-ENOSPC switch full / too many switches). */
int vs_port_add(struct unmd *d, const char *name, struct vport *p, char *err, size_t errlen);
/* Take P off its switch (freed when empty unless kept). Lock held.
 * Destroy P after. */
void vs_port_remove(struct unmd *d, struct vport *p);
/* SWITCH_ADD: a kept switch NAME owned by UID. Lock held. 0, -EEXIST
 * (exists, another owner or already kept), -ENOSPC. */
int vs_switch_add(struct unmd *d, const char *name, uid_t uid);
/* SWITCH_DEL / shutdown: free SW, which has no ports. Lock held. */
void vs_switch_free(struct unmd *d, struct vswitch *sw);
struct vport *vs_port_find(struct vswitch *sw, const char *name);
/* Forwarding thread: stop serving P, tell its owner, log WHY. Lock held. */
void vs_port_error(struct unmd *d, struct vport *p, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* An op of P returned RC < 0: error P with the reason the op recorded
 * (vport_fail), else strerror(-RC). Lock held. */
void vs_port_failed(struct unmd *d, struct vport *p, int rc);
bool vs_name_ok(const char *name);
/* What vs_name_ok() accepts, for error messages. */
#define VS_NAME_RULE "a switch name is 'vale' followed by up to 11 letters, digits or '_' " \
	"(vale0, vale1, vale_lab)"
/* Ports (on switches) and monitors charged to UID; their region bytes in *MEM. */
unsigned vs_uid_ports(struct unmd *d, uid_t uid, uint64_t *mem);
/* May UID have one more port or monitor of SIZE region bytes? 0 or
 * -EDQUOT with the limit named in ERR. Lock held. */
int vs_uid_quota(struct unmd *d, uid_t uid, uint64_t size, char *err, size_t errlen);
/* EPOLL_CTL_ADD/DEL P's kick fds (and in-daemon port fd) in the
 * forwarding thread's epoll. Lock held. */
void vs_port_epoll(struct unmd *d, struct vport *p, int op);

/* vport_csb.c: a client port served through its own region and a CSB */
int vport_csb_create(struct vport **pp, const char *port, const struct unm_ctl_geom *g,
		     char *err, size_t errlen);
/* Bring rings and CSB to a consistent start for a (new) client. Lock held. */
void vport_csb_reset(struct vport *p);
/* Reads the CSB notification policy from unmd's environment
 * (UNMD_CSB_RX_MODERATION, UNMD_CSB_YIELD: unmd(8)); before the
 * forwarding thread starts. */
void vport_csb_config(void);
/* Fds for the OPEN_PORT reply: memfd, kicks, irqs. Returns the count.
 * The region counts as handed out from then on (vport_csb_stale). */
unsigned vport_csb_fds(struct vport *p, int *fds, unsigned max);
/* Has P's region been handed to a client, or received frames, since it
 * was made, or is P errored? Then the next client must not get it. Lock
 * held. */
bool vport_csb_stale(const struct vport *p);
/* Control thread, lock NOT held (taken for the swap only): give P a new
 * region and new eventfds, with empty rings. Whoever mapped the old one
 * keeps a mapping that is no longer P's: it sees none of P's frames from
 * now on and cannot touch its CSB; frames queued in it are gone. P stays
 * errored if it was and KEEP_ERROR (no client: it takes no frames until
 * the next one opens it). */
int vport_csb_renew(struct unmd *d, struct vport *p, bool keep_error, char *err,
		    size_t errlen);

/* vport_attached.c: any port type opened inside unmd. An attached tap or
 * AF_PACKET port whose name and request give no vnet length gets this one
 * (offloads on). */
#define UNM_TAP_ATTACH_VNET 12
/* W: the port as the client parsed it (a request's spec, checked by
 * unm_ctl_check_req), opened with unm_open_spec; nothing is parsed again.
 * SW: the switch it is for (names the shared buffer pool it joins if its
 * type allows: lib/bufpool.c; p->pool is then set).
 * LABEL: its name as the client wrote it (messages). FD: a resource
 * handed over by the client (unm_open_fd; stays the caller's), or -1.
 * The port is named W->name (the name without its @conf options). */
struct unm_ctl_portspec;
int vport_attached_create(struct vport **pp, const char *sw, const char *label,
			  const struct unm_ctl_portspec *w, int fd, const struct unm_ctl_geom *g,
			  char *err, size_t errlen);
/* The port unmd opened for P, or NULL if P is not such a port. */
struct unm_port *vport_attached_port(struct vport *p);

/* domain.c: trust domains (docs/architecture.md); lock held for all. */
struct vdomain;
/* A member port P named PORT of domain DNAME on SW (made on demand with
 * geometry G, owned by UID; another uid's domain: -EACCES; full: -ENOSPC).
 * The caller adds P to SW, then calls vdom_port_ready. */
int vdom_port_create(struct unmd *d, struct vswitch *sw, const char *dname, uid_t uid,
		     const char *port, const struct unm_ctl_geom *g, struct vport **pp,
		     char *err, size_t errlen);
/* P is on its switch with client PID: the other members may now see it. */
void vdom_port_ready(struct vport *p, pid_t pid);
/* OPEN_PORT fds of member P (region, kick, every wake fd) and its ids. */
unsigned vdom_fds(struct vport *p, int *fds, unsigned max, uint32_t *member, uint32_t *token);
/* vs_port_remove: P leaves its domain (its claims and MACs are dropped;
 * the domain goes with its last member, freed by P's destroy). */
void vdom_port_removed(struct unmd *d, struct vport *p);
/* A domain nobody joined after all. */
void vdom_unlink_free(struct unmd *d, struct vdomain *dom);
/* SW's ports or lossless changed: update its domains' headers. */
void vdom_switch_changed(struct vswitch *sw);
/* A frame from outside was delivered into DOM: learn MAC as "via unmd". */
void vdom_learn_uplink(struct vdomain *dom, const uint8_t *mac, uint64_t now_ns);
/* Forwarding thread: repair stale or garbage ring claims (rate-limited). */
void vdom_sweep(struct unmd *d, uint64_t now);
/* Zero-copy RX monitor of domain member T (monitor.c, lock held): a new
 * member of T's domain that receives only what T's rxsync hands over
 * (lib/domain.c mon_handoff), opened by process PID; -EBUSY if T has one. */
int vdom_mon_create(struct unmd *d, struct vport *t, pid_t pid, struct vport **pp, char *err,
		    size_t errlen);
/* Monitor MP's target T leaves (T may be NULL: already gone): T stops
 * handing frames over, MP's client sees mon_gone. Lock held. */
void vdom_mon_gone(struct vport *mp, struct vport *t);
/* Add domain member P's counts of frames handed to its zero-copy monitor
 * and not handed (its member block: informational, written by P). */
void vdom_mon_counts(const struct vport *p, uint64_t *handed, uint64_t *drops);
/* Monitor MP closes (target T or NULL): leaves the domain. Lock held. */
void vdom_mon_removed(struct unmd *d, struct vport *mp, struct vport *t);

/* monitor.c: monitors of switch ports (all with d->lock held) */
struct vmon;
/* Forwarding thread: slots [from, to) of ring VR of P were just taken from
 * it (in = true: one of P's in rings) or filled (in = false: an out ring,
 * before publishing). Copies the frames to P's monitors. */
void mon_ring(struct unmd *d, struct vport *p, const struct vring *vr, bool in, uint32_t from,
	      uint32_t to);
/* The same for frames already parsed (vale_fwd.c pass 1): N frames of ring VR
 * of P, each NF fragments and LEN bytes (both validated). */
struct mon_frame {
	const struct fwd_frag *f;
	uint16_t nf;
	uint32_t len;
};
void mon_frames(struct unmd *d, struct vport *p, const struct vring *vr, bool in,
		const struct mon_frame *fr, unsigned n);
/* Forwarding thread, end of a round (IDLE: before sleeping): interrupt
 * P's monitors that have copies queued and sleep, if enough are queued
 * (or IDLE). */
void mon_round_end(struct vport *p, bool idle);
/* P leaves its switch: its monitors see UNM_CSB_F_GONE. */
void mon_port_gone(struct vport *p);
/* Control thread: open a monitor for connection C (OPEN_PORT + MON flags);
 * its owner is C. Returns 0 or -errno with the reason in err. */
int mon_open(struct unmd *d, struct ctl_conn *c, const struct unm_ctl_req *req,
	     struct vport **pp, char *err, size_t errlen);
/* Control thread: unlink monitor P (its connection went); destroy P after. */
void mon_close(struct unmd *d, struct vport *p);
/* Monitors charged to UID: returns their count, adds their region bytes
 * to *MEM. Lock held. */
unsigned mon_uid_usage(uid_t uid, uint64_t *mem);
/* For LIST items: fill monitor fields of PI for port P / monitor M. */
void mon_port_info(const struct vport *p, struct unm_ctl_port_info *pi);
void mon_self_info(const struct vmon *m, struct unm_ctl_port_info *pi);
/* The Nth monitor of P, or NULL. */
const struct vmon *mon_nth(const struct vport *p, unsigned n);

/* authz.c: whose authority unmd acts with */
/* Is the caller (SO_PEERCRED uid, gid) an administrator: root, or in
 * --admin-group as primary or supplementary group of uid? */
bool authz_admin(const struct unmd *d, uid_t uid, gid_t gid);
/* May unmd open PATH by name for an administrator: absolute, no "." or
 * ".." component, no symbolic link on it. 0 or -errno, reason in err. */
int authz_path(const char *path, char *err, size_t errlen);
/* The host resource of parsed name S (FD: the handed-over one, or -1)
 * as a comparable key ("" if none): one resource, one attached port. */
void authz_res_key(const struct unm_spec *s, int fd, char *key, size_t keylen);
/* Is FD, handed over for memif port S, a unix SOCK_SEQPACKET socket that
 * listens on S's path (role=master) or is connected to it (role=slave)? */
bool authz_memif_fd(const struct unm_spec *s, int fd);

/* common */
struct vport *vport_alloc(unsigned n_in, unsigned n_out, size_t priv_size);
void vport_free(struct vport *p);

/* ctl_server.c / main.c: control connections */

/* Connections of one uid (main.c): counted from accept to close. */
struct uid_conns {
	uid_t uid;
	unsigned conns;             /* open connections within --max-conns */
	unsigned refusing;          /* over the limit, waiting for their refusal */
	unsigned jobs;              /* attaches in progress (ctl_server.c) */
	struct uid_conns *next;
};

/* A reply not yet fully sent (main.c sends it without blocking): the
 * header, then its items; the fds are unmd's own dups, closed once sent. */
struct ctl_out {
	struct unm_ctl_rep rep;
	struct unm_ctl_item *items;
	unsigned n_items, pos;      /* pos 0 = rep, k = items[k - 1] */
	int fds[UNM_CTL_MAX_FDS];
	unsigned nfds;
};

struct ctl_job;

struct ctl_conn {
	int fd;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool admin;                 /* root or in --admin-group (authz.c) */
	bool admin_known;           /* admin decided (at the first request) */
	struct uid_conns *uc;       /* its uid's counters */
	struct vport *port;         /* the port this connection opened */
	bool bye;
	bool over_quota;            /* beyond --max-conns: refused at its first request */
	struct ctl_out *out;        /* reply being sent, or NULL: no request is
	                               read until it is gone (one per connection) */
	struct ctl_job *job;        /* attach running off the control thread */
	uint64_t deadline_ns;       /* cut off then (slow reader, refusal), or 0 */
	uint32_t ev;                /* epoll events registered */
	struct ctl_conn *next;
};
/* Serve one request; < 0: the connection must go (closed or misbehaving).
 * The reply, if any, is left in c->out for main.c to send. */
int ctl_handle(struct unmd *d, struct ctl_conn *c);
/* Queue the reply REP (+ items, + fds, which are dup'ed) on C. */
int ctl_queue(struct ctl_conn *c, const struct unm_ctl_rep *rep, struct unm_ctl_item *items,
	      unsigned n_items, const int *fds, unsigned nfds);
void ctl_out_free(struct ctl_out *o);
/* Connection gone (closed, died, or cut because its port errored). */
void ctl_conn_gone(struct unmd *d, struct ctl_conn *c, const char *why);
/* Attach jobs: the worker thread is done with J (read from d->job_fd[0]):
 * finish it on the control thread and queue the reply on its connection.
 * Returns that connection (its reply in ->out, NULL if out of memory), or
 * NULL if it went meanwhile; *UCP = the counters of the job's uid. */
struct ctl_conn *ctl_job_done(struct unmd *d, struct ctl_job *j, struct uid_conns **ucp);

/* ctl_loop.c: the control thread. Serve listening socket LFD until signalfd
 * SFD reads a signal (returns 0) or epoll fails (1); either way every
 * connection and port is gone and the forwarding thread stopped on return.
 * The forwarding thread must be running (vs_start). */
int unmd_serve(struct unmd *d, int lfd, int sfd);

#endif
