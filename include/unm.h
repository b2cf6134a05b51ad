/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unm.h - unetmap: netmap-style packet I/O in Linux userspace.
 *
 * A port is opened by name and exposes N TX and M RX rings of slots over a
 * pool of fixed-size buffers in one shared-memory region (see unm/shm.h for
 * the layout and the ownership rule). The application moves frames by
 * filling or consuming slots between head and tail with the inline helpers
 * of unm/ring.h and then calling unm_txsync()/unm_rxsync(), which hand a
 * whole batch to the port. Every kind of port (pipe end, VALE switch port,
 * tap, AF_PACKET, AF_XDP, shmif, monitor) is driven the same way.
 *
 * Port names (see unm_open()):
 *   NAME{ID  NAME}ID           master / slave end of zero-copy pipe NAME.ID
 *   valeX:PORT                 port PORT of VALE switch valeX (needs unmd)
 *   tap:IF  afpacket:IF  afxdp:IF[-Q]  shmif:PATH  monitor:PORT
 * followed by optional suffixes, in this order:
 *   -N                         bind only ring pair N
 *   /FLAGS                     T (TX rings only), R (RX rings only),
 *                              t r z (monitor TX / RX / zero-copy), x (exclusive)
 *   @conf:KEY=VAL,...          rings= tx-rings= rx-rings= slots= tx-slots=
 *                              rx-slots= bufsize= extra-bufs= vnet=
 *
 * Conventions:
 * - Functions return 0 (or a count) on success and a negative errno on
 *   failure; they never set errno as their error channel. When a failure has
 *   a more precise explanation (a parse error, a refused region) the text is
 *   kept per thread and returned by unm_errmsg().
 * - The library prints nothing; see unm_set_log().
 * - A port may be used by several threads as long as each ring is synced by
 *   one thread at a time (one thread per ring pair is the model).
 */
#ifndef UNM_H
#define UNM_H

#include <stddef.h>
#include <stdint.h>
#include <unm/shm.h>
#include <unm/ring.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define UNM_API __attribute__((visibility("default")))
#else
#define UNM_API
#endif

#define UNM_VERSION_MAJOR 0
#define UNM_VERSION_MINOR 1
#define UNM_VERSION_PATCH 0

/* The environment variable naming unmd's control socket. */
#define UNM_SOCKET_ENV     "UNM_SOCKET"
#define UNM_SOCKET_DEFAULT "/run/unetmap/unmd.sock"

/* Pass as ring to unm_txsync()/unm_rxsync() to sync every bound ring. */
#define UNM_RING_ALL (-1)

struct unm_port; /* opaque handle */

/*
 * Options for unm_open(). Zero-initialise, set sz = sizeof(struct
 * unm_open_opts), then the fields you need; zero means "default" (or "what
 * the name says": an @conf: option in the name wins over these fields).
 * Ring and slot counts and sizes are honoured only when the open creates
 * the port (netmap's rule); an existing port keeps its geometry.
 */
struct unm_open_opts {
	size_t sz;
	unsigned tx_rings, rx_rings;  /* 1..UNM_MAX_RINGS, default 1 */
	unsigned tx_slots, rx_slots;  /* UNM_MIN_SLOTS..UNM_MAX_SLOTS, default 1024 */
	unsigned buf_size;            /* UNM_MIN_BUF_SIZE..UNM_MAX_BUF_SIZE, default 2048
	                                 (a pipe, and a trust domain asked for 2048:
	                                 2112, UNM_PIPE_DEF_BUF_SIZE) */
	unsigned extra_bufs;          /* extra buffers in unm_if.ni_bufs_head */
	unsigned vnet_hdr_len;        /* 0, 10 or 12 (ports that support it) */
	int timeout_ms;               /* rendezvous/daemon timeout, default 5000 */
	const char *socket_path;      /* unmd socket; default $UNM_SOCKET, then
	                                 UNM_SOCKET_DEFAULT */
	unsigned flags;               /* UNM_OPEN_* */
};

/* A pipe end's open never waits for its peer: frames sent before the peer
 * joins wait in the peer's RX ring, and are lost if this end closes before
 * the peer joins. UNM_OPEN_NO_WAIT_PEER states that explicitly; it changes
 * nothing. */
#define UNM_OPEN_NO_WAIT_PEER 0x1
#define UNM_OPEN_VHOST_CLIENT 0x2 /* vhost-user: connect to PATH instead of
                                     listening on it (also UNM_VHOST_CLIENT=1) */
/* Pipe end: a frame of at most UNM_PIPE_COPY_MAX bytes in one TX slot is
 * copied into the peer's RX buffer instead of the two buffers being
 * swapped, so the TX slot keeps its buffer and gets no NS_BUF_CHANGED (an
 * application that fills its buffers once and resends them, as netmap's
 * pkt-gen does, then writes nothing per frame). Longer frames and slots
 * with a bad buffer are swapped as usual. The netmap compat layer sets it
 * on the pipes it opens. */
#define UNM_OPEN_PIPE_COPY    0x4
#define UNM_PIPE_COPY_MAX     256
/* Pipe end: TX slots lend their buffers to the peer's RX ring instead of
 * swapping (or copying) them. A TX slot stays the port's (the ring's tail
 * does not pass it) until the peer has released the RX slot; it then has
 * its own buffer back, untouched by the pipe, with no NS_BUF_CHANGED, or
 * the buffer the peer left in the RX slot, with NS_BUF_CHANGED. No frame
 * byte is copied. The peer sees each RX slot with NS_BUF_CHANGED. Note: a
 * buffer the peer wrote to in place comes back so written. A TX ring with
 * a monitor copies (UNM_OPEN_PIPE_COPY) or swaps instead. A peer that
 * goes away holding lent slots: the txsync that finds it gone (-EPIPE)
 * gives them back (the buffer the RX slot holds, if valid and not in
 * another TX slot, else their own) and leaves the ring drained, once; see
 * unm_open(3). The netmap compat layer sets it on its pipes unless
 * UNM_NETMAP_PIPE_LOAN=0. */
#define UNM_OPEN_PIPE_LOAN    0x10
/* tap: each TX queue gets a writer thread of its own that writes the
 * frames txsync hands over (the kernel's copy and the receiving stack's
 * work then run on it, possibly another CPU); TX slots come back as the
 * thread finishes them, so a txsync may return with fewer free slots than
 * it was handed, and waits (at most 2 ms) while the thread is more than
 * half a ring behind. The environment variable UNM_TAP_TX_THREAD=0 or 1
 * overrides the flag for every tap the process opens (=1 in unmd's
 * environment gives it to the taps unmd attaches). Other port types
 * ignore it. */
#define UNM_OPEN_TAP_TX_THREAD 0x8

/*
 * unm_open - open the port NAME and map its rings.
 * On success stores a handle in *portp and returns 0. opts may be NULL.
 * Blocks at most opts->timeout_ms (pipe rendezvous, daemon round trip).
 * Errors: -EINVAL bad name or option (see unm_errmsg()), -EPROTONOSUPPORT
 * unknown port type or one not built in, -EBUSY the port (pipe end) is
 * already open, -ENOENT/-ECONNREFUSED unmd not running, -EACCES refused by
 * unmd or the peer's uid differs, -EBADMSG a region failed validation,
 * -ENOMEM, -ETIMEDOUT, or any errno of the underlying system calls.
 */
UNM_API int unm_open(const char *name, struct unm_port **portp,
		     const struct unm_open_opts *opts);

/*
 * unm_close - release the port: unmap the region, close every fd, tell the
 * peer (pipe end, unmd). Pending TX slots not yet synced are discarded.
 * Frames already handed over by a TX sync are delivered as far as the
 * port type allows:
 *   - switch ports (valeX:P): unmd takes TX frames asynchronously, so
 *     unm_close first waits until unmd has consumed every synced TX slot
 *     of this handle, at most UNM_CLOSE_FLUSH_MS; frames still in the
 *     ring then (a lossless switch whose receiver does not read) are lost
 *     and a warning is logged;
 *   - pipes: a synced frame is in the peer's RX ring already and stays
 *     there for the peer to read;
 *   - tap, afpacket, shmif: a TX sync hands frames to the kernel (bus)
 *     synchronously;
 *   - afxdp, vhost-user: frames the kernel or the guest had not taken
 *     at close are lost; if they matter, txsync (or unm_wait with
 *     UNM_WAIT_TX) until unm_tx_pending() of each TX ring is false
 *     before closing.
 * NULL is ignored. Not thread-safe with other calls on the same port.
 */
#define UNM_CLOSE_FLUSH_MS 1000
UNM_API void unm_close(struct unm_port *port);

/*
 * unm_txsync - hand TX slots [hwcur, head) of ring RING (or of every bound TX
 * ring with UNM_RING_ALL) to the port and reclaim completed ones (tail
 * moves forward). Never blocks. If, afterwards, cur == tail (the ring
 * would block), arms the port's notification so unm_fd() becomes readable
 * when space appears. Returns 0 or -EINVAL (head/cur outside the
 * application's slots: nothing is sent), -EPIPE (pipe peer closed),
 * -ECONNRESET (unmd went away), -EIO (port errored by its host).
 */
UNM_API int unm_txsync(struct unm_port *port, int ring);

/*
 * unm_rxsync - release RX slots [hwcur, head) of ring RING (or all bound RX
 * rings) to the port and make newly received frames visible up to tail.
 * Never blocks; arms the notification when cur == tail afterwards. Returns
 * as unm_txsync(). Frames already received are still returned when the
 * peer has gone: -EPIPE is reported only once the ring is drained.
 */
UNM_API int unm_rxsync(struct unm_port *port, int ring);

/*
 * unm_fd - a file descriptor that poll/select/epoll report readable when
 * the port needs attention: a sync that armed notifications may now make
 * progress, or the peer/daemon went away (then also POLLHUP/POLLERR may be
 * seen). Call unm_txsync()/unm_rxsync() before sleeping on it and after
 * waking up. Owned by the port: do not close or read it.
 */
UNM_API int unm_fd(const struct unm_port *port);

/*
 * unm_wakeup - call after poll()/select()/epoll reported unm_fd() readable,
 * when the caller sleeps on unm_fd() itself instead of using unm_wait():
 * consumes the notification (so the fd does not stay readable) and lets
 * the port do the work the notification announced. Then sync as usual.
 * Returns 0, or a negative errno as the syncs do (-EPIPE, -ECONNRESET).
 */
UNM_API int unm_wakeup(struct unm_port *port);

#define UNM_WAIT_RX 0x1 /* some bound RX ring has frames */
#define UNM_WAIT_TX 0x2 /* some bound TX ring has free slots */

/*
 * unm_wait - sync, then sleep until one of EVENTS holds or TIMEOUT_MS
 * passes (-1 = forever, 0 = just check). Returns the mask of events that
 * hold (> 0), 0 on timeout, or a negative errno as the syncs do (-EPIPE
 * when the pipe peer closed and no frame is left, ...). -EINTR if a
 * signal interrupted the sleep.
 */
UNM_API int unm_wait(struct unm_port *port, unsigned events, int timeout_ms);

/*
 * unm_ring_wait - sync ring RING only (a TX ring if TX != 0, else an RX
 * ring), then sleep until it has a free slot (TX) or a frame (RX), i.e.
 * cur != tail, or TIMEOUT_MS passes (-1 = forever, 0 = just check).
 * Unlike unm_wait(), which syncs every ring, several threads may call it
 * at the same time on the same port, each for the ring(s) it alone syncs
 * (one thread per ring pair). It first re-syncs for up to 50 us,
 * calling sched_yield() between attempts (a busy stream rarely sleeps).
 * Then it sleeps, but the port has one notification fd (unm_fd()) for
 * all rings and one thread may consume a wake-up meant for another, so
 * the sleep is cut into slices of at most 1 ms, each followed by a
 * re-sync of the ring: a waiter is late by at most one slice, and an idle
 * waiter makes about a thousand poll()+sync calls per second (a few
 * percent of a CPU). Returns 1 (ready), 0 on timeout, -EINVAL if RING is not a bound
 * ring of that direction, -EINTR, or a negative errno as the syncs do.
 */
UNM_API int unm_ring_wait(struct unm_port *port, int tx, unsigned ring, int timeout_ms);

/* unm_if - the port descriptor (ring offsets), valid until unm_close(). */
UNM_API struct unm_if *unm_nifp(const struct unm_port *port);

/*
 * unm_ring_get - TX (tx != 0) or RX ring I of the port, or NULL if I is not
 * a bound ring. Fetch ring pointers once, outside the per-frame loop.
 */
UNM_API struct unm_ring *unm_ring_get(const struct unm_port *port, int tx,
				      unsigned i);

/* Information about an open port. */
struct unm_port_info {
	size_t sz;                      /* set by the caller */
	char name[128];                 /* the name as opened */
	char type[16];                  /* "pipe", "vale", "tap", ... */
	unsigned tx_rings, rx_rings;    /* rings in the port */
	unsigned first_tx, last_tx;     /* bound TX rings [first, last) */
	unsigned first_rx, last_rx;     /* bound RX rings [first, last) */
	unsigned tx_slots, rx_slots;
	unsigned buf_size, buf_count;
	unsigned vnet_hdr_len;
	unsigned mtu;                   /* 0 if not meaningful */
	uint8_t mac[6];                 /* all-zero if none */
	uint64_t mem_size;              /* bytes in the mapped region */
	int zero_copy_peer;             /* 1 for pipes: peer shares the region */
	unsigned link_up;               /* vhost-user: a device is connected and
	                                   both its queues run; dpdk: the
	                                   device says its link is up */
	unsigned peer;                  /* UNM_PEER_*: the other end of a pipe */
};

/* unm_port_info.peer. A pipe end sends before its peer opens: frames wait
 * in the peer's RX ring, and once that ring is full txsync makes no more
 * room (the sender looks stalled) until the peer opens and reads. */
#define UNM_PEER_NA        0 /* not a two-ended port (switch port, tap, ...) */
#define UNM_PEER_WAITING   1 /* the peer has not opened its end yet */
#define UNM_PEER_CONNECTED 2
#define UNM_PEER_GONE      3 /* the peer closed or died */

/* unm_port_info - fill *info (info->sz must be set). Returns 0 or -EINVAL. */
UNM_API int unm_port_info(const struct unm_port *port, struct unm_port_info *info);

/*
 * unm_port_mem - the port's mapped region: its start address in *base and
 * its length in *size (either may be NULL). unm_nifp(port) and every ring
 * and buffer of the port lie inside it, so a layer that speaks netmap's
 * (region, offset) language, such as libunm-netmap, can hand out
 * nr_offset = (char *)unm_nifp(port) - (char *)base and nr_memsize = size.
 * Valid until unm_close(). Returns 0, or -EINVAL if port is NULL.
 */
UNM_API int unm_port_mem(const struct unm_port *port, void **base, size_t *size);

/* Counters kept by the library for this port, in this process. */
struct unm_port_stats {
	size_t sz;
	uint64_t tx_frames, tx_bytes;   /* handed to the port by txsync */
	uint64_t rx_frames, rx_bytes;   /* made visible by rxsync */
	uint64_t tx_syncs, rx_syncs;
	uint64_t kicks, wakeups;        /* notifications sent / received */
	uint64_t bad_ring;              /* head/cur or shared index out of range */
	uint64_t bad_buf;               /* slot with an invalid buffer index */
	uint64_t bad_len;               /* slot length larger than the buffer */
	uint64_t fixups;                /* constant ring fields restored */
	uint64_t drops;                 /* frames dropped by this end */
	/* Ports with a virtio-net header (vnet_hdr_len != 0): */
	uint64_t gso_rx_frames;         /* received with gso_type != NONE */
	uint64_t gso_tx_frames;         /* sent with gso_type != NONE */
	uint64_t vnet_drops;            /* TX frames with a bad header (also in drops) */
	/* Ports that can hand a slot's buffer to their device instead of
	 * copying (dpdk:, memif: as slave; see unm(7) @conf:zerocopy), and
	 * memif: counts its copies in both roles; vhost-user: counts the
	 * guest's frames it copied into RX slots (inside unmd's switch the
	 * rest, rx_frames - copy_rx_frames, were read in place and copied
	 * once, to their destination); 0 on the others: */
	uint64_t zc_tx_frames;          /* sent by lending the slot's buffer */
	uint64_t zc_rx_frames;          /* received by a buffer swap */
	uint64_t copy_tx_frames;        /* sent by copying the frame */
	uint64_t copy_rx_frames;        /* received by copying the frame */
};

/* unm_port_stats - fill *st (st->sz must be set). Returns 0 or -EINVAL. */
UNM_API int unm_port_stats(const struct unm_port *port, struct unm_port_stats *st);

/*
 * unm_inject - copy one frame of LEN bytes into the next free TX slot of
 * the bound TX rings (rotating from the last one used) and sync it if the
 * ring filled up. Frames longer than a buffer become MOREFRAG chains.
 * Returns LEN, 0 if no ring has room (call unm_txsync()/unm_wait()), or a
 * negative errno.
 */
UNM_API int unm_inject(struct unm_port *port, const void *buf, size_t len);

/* Callback for unm_dispatch(): one frame (first fragment only if chained). */
typedef void (*unm_frame_cb)(void *arg, const uint8_t *frame, size_t len,
			     const struct unm_slot *slot);

/*
 * unm_dispatch - call CB for up to CNT received frames (all available if
 * CNT <= 0) across the bound RX rings, releasing their slots, then rxsync.
 * Returns the number of frames passed to CB (0 if none were available), or
 * a negative errno. Never blocks.
 */
UNM_API int unm_dispatch(struct unm_port *port, int cnt, unm_frame_cb cb, void *arg);

/*
 * unm_errmsg - text explaining the last failure of a unetmap call in this
 * thread (e.g. "bad port name 'pipeA{': missing pipe id"); "" if none.
 * Valid until the next unetmap call in this thread.
 */
UNM_API const char *unm_errmsg(void);

/* unm_strerror - text for a negative errno returned by this library. */
UNM_API const char *unm_strerror(int err);

/* Log levels for unm_set_log(). */
enum unm_log_level { UNM_LOG_ERR = 0, UNM_LOG_WARN, UNM_LOG_INFO, UNM_LOG_DEBUG };
typedef void (*unm_log_fn)(enum unm_log_level level, const char *msg, void *arg);

/*
 * unm_set_log - route the library's diagnostics (bad values from a peer,
 * daemon events) to FN; NULL restores the default, which is silent.
 * Process-wide; call before opening ports.
 */
UNM_API void unm_set_log(unm_log_fn fn, void *arg);

/* unm_version - "MAJOR.MINOR.PATCH" of the library in use. */
UNM_API const char *unm_version(void);

#ifdef __cplusplus
}
#endif
#endif /* UNM_H */
