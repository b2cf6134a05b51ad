/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * shmif_bus.h - NetBSD rump-kernel shmif bus (version 3), byte-compatible:
 * the bus file, its lock, the frame-record ring, transmit and receive. No
 * port logic here (that is shmif.c); internal to libunm, also used directly
 * by the tests and the fuzz target.
 *
 * The format is described in /work/shared/refs/shmif.md (NetBSD
 * shmifvar.h / shmif_busops.c / if_shmem.c). In short:
 *
 *   file offset 0   +------------------------------+
 *                   | magic 0xca11d054 | version 3 |  version = wake-up target
 *                   | gen (u64)                    |  times the writer hit the end
 *                   | first | last | lock | spare  |  data-area offsets, lock 0/1
 *   32              +------------------------------+
 *                   | data area, 1 MiB - 32 bytes  |  records back to back, no
 *                   |  [24-byte hdr][frame] ...    |  alignment, split at the end
 *   1 MiB           +------------------------------+
 *
 * Record header: len, sec, usec, pad (written 0), sender (u64 at +16).
 * `last` is the newest record, `first` the oldest intact one (DATASIZE =
 * "never wrapped, data starts at 0").
 *
 * Trust: every process that can open the file shares it, possibly hostile.
 * Every value read from the bus (magic, gen, first, last, record lengths,
 * the lock word) is read once into a local and validated before it is used
 * as an offset or a length; every walk is bounded. A malformed bus costs a
 * counted error (struct shmif_bus_stats), never a crash or a hang.
 *
 * Threads: a struct shmif_bus is used by one thread at a time (the port's
 * TX and RX syncs may run in different threads: they share the bus lock,
 * the fd, the read-only fields and the counters in st, which are then
 * approximate; reader state belongs to RX). Other processes are
 * serialised by the bus lock.
 *
 * Not defended: a peer that truncates the bus file below 1 MiB makes our
 * accesses to the mapping raise SIGBUS (NetBSD has the same exposure; a
 * library cannot install a process-wide SIGBUS handler).
 */
#ifndef UNM_SHMIF_BUS_H
#define UNM_SHMIF_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define SHMIF_MAGIC        0xca11d054u
#define SHMIF_VERSION      3u
#define SHMIF_BUS_SIZE     (1u << 20)                  /* BUSMEM_SIZE */
#define SHMIF_HDR_SIZE     32u                         /* IFMEM_DATA */
#define SHMIF_DATA_SIZE    (SHMIF_BUS_SIZE - SHMIF_HDR_SIZE)
#define SHMIF_WAKEUP_OFF   4u                          /* IFMEM_WAKEUP */
#define SHMIF_PKTHDR_SIZE  24u                         /* LP64 shmif_pkthdr */
#define SHMIF_MIN_FRAME    14u                         /* ETHER_HDR_LEN */
#define SHMIF_MAX_FRAME    1514u                       /* ETHERMTU + header */
#define SHMIF_LOCK_COOLDOWN 1001u                      /* CAS tries per 1 ms nap */

/* Bus header field offsets (file offsets). */
#define SHMIF_OFF_MAGIC    0
#define SHMIF_OFF_VERSION  4
#define SHMIF_OFF_GEN      8
#define SHMIF_OFF_FIRST    16
#define SHMIF_OFF_LAST     20
#define SHMIF_OFF_LOCK     24

/* Record header field offsets (from the record start). */
#define SHMIF_PH_LEN       0
#define SHMIF_PH_SEC       4
#define SHMIF_PH_USEC      8
#define SHMIF_PH_SENDER    16

struct shmif_bus_stats {
	uint64_t tx_frames;     /* records written */
	uint64_t tx_wraps;      /* frames that reached the end (gen++) */
	uint64_t rx_frames;     /* records handed to the caller */
	uint64_t rx_short;      /* records < 14 bytes skipped (not errors) */
	uint64_t rx_own;        /* own-sender records skipped */
	uint64_t overruns;      /* reader lapped: resynchronised to first */
	uint64_t bad_hdr;       /* bus header values out of range */
	uint64_t bad_rec;       /* record length > 1514 (reader skipped ahead) */
	uint64_t bad_chain;     /* writer: record chain from first broken, repaired */
	uint64_t lock_slow;     /* lock acquisitions that had to sleep */
	uint64_t lock_timeouts; /* gave up waiting for the lock */
	uint64_t lock_bad;      /* lock word held a value other than 0/1 */
	uint64_t lock_steals;   /* stale lock taken over (only if enabled) */
};

struct shmif_bus {
	uint8_t *mem;           /* SHMIF_BUS_SIZE bytes, shared */
	int fd;                 /* bus file, -1 for an in-memory bus */
	bool mapped;            /* mem is our mmap (unmap on close) */
	uint64_t sender;        /* our non-zero random sender id */
	/* reader state (RX only) */
	uint32_t nextpkt;       /* data offset of the next record to read */
	uint64_t devgen;        /* generation nextpkt belongs to */
	/* lock policy, ns; 0 = default */
	uint64_t lock_warn_ns;  /* log once after this long (default 1 s) */
	uint64_t lock_giveup_ns;/* fail with -ETIMEDOUT after this (default 2 s) */
	uint64_t lock_steal_ns; /* if non-zero: take the lock over after this */
	struct shmif_bus_stats st;
	char path[256];
};

/*
 * unm_shmif_bus_open - open or create the bus file PATH, size it to exactly
 * 1 MiB, map it shared, initialise it under the lock if its magic is 0
 * (magic, first = DATASIZE, version 3), pick a random sender id and put
 * the reader at the current end of the bus. Returns 0, -EBADMSG (non-zero
 * wrong magic, or header values out of range; message in err) or -errno.
 */
int unm_shmif_bus_open(struct shmif_bus *b, const char *path, char *err, size_t errlen);

/*
 * unm_shmif_bus_open_fd - the same on FD, a bus file already open for
 * reading and writing (handed over by a client: unmd). FD is owned from
 * here on (closed on failure too); LABEL names it in messages. A non-empty
 * file that is not a bus (no bus magic, or a zero magic with a size other
 * than 1 MiB) is refused with -EBADMSG and left untouched; its content is
 * never quoted in ERR.
 */
int unm_shmif_bus_open_fd(struct shmif_bus *b, int fd, const char *label, char *err,
			  size_t errlen);

/*
 * unm_shmif_bus_attach_mem - the same on SHMIF_BUS_SIZE bytes at MEM (no file,
 * no wake-up write): used by the fuzz target and the tests. MEM is not
 * owned. Initialises a zero magic as unm_shmif_bus_open() does.
 */
int unm_shmif_bus_attach_mem(struct shmif_bus *b, void *mem, char *err, size_t errlen);

/* unm_shmif_bus_close - unmap and close (the file stays). Idempotent. */
void unm_shmif_bus_close(struct shmif_bus *b);

/*
 * unm_shmif_bus_lock - take the bus lock as NetBSD does (CAS 0 -> 1, 1001
 * tries then 1 ms sleep) with a stale-lock diagnostic. Returns 0 or
 * -ETIMEDOUT after lock_giveup_ns (counted, logged). Never leaves a
 * value other than 0/1 in the word.
 */
int unm_shmif_bus_lock(struct shmif_bus *b);
void unm_shmif_bus_unlock(struct shmif_bus *b);

/*
 * unm_shmif_bus_write - append one frame of LEN bytes gathered from IOV
 * (IOVCNT pieces summing to LEN) as a record, per NetBSD's shmif_start:
 * advance last, overwrite and skip old records (first), gen++ if the
 * record reached the end of the data area. Lock held. LEN must be
 * 14..1514 (-EMSGSIZE otherwise). Returns 0, or -EBADMSG if the bus
 * header is malformed (nothing written, counted). Does not wake readers:
 * call unm_shmif_bus_wakeup() once per batch.
 */
int unm_shmif_bus_write(struct shmif_bus *b, const struct iovec *iov, int iovcnt,
		    uint32_t len, uint32_t sec, uint32_t usec);

/* unm_shmif_bus_wakeup - pwrite the 4-byte 3 at offset 4 (inotify/kqueue). */
int unm_shmif_bus_wakeup(struct shmif_bus *b);

/* A record located by unm_shmif_bus_rx_next(), not yet consumed. */
struct shmif_rec {
	uint32_t off;           /* data offset of the record header */
	uint32_t len;           /* frame bytes, 14..1514 */
	uint32_t sec, usec;
	uint64_t sender;
};

#define SHMIF_RX_EMPTY 0        /* nothing new */
#define SHMIF_RX_FRAME 1        /* *rec is a frame from another sender */
#define SHMIF_RX_SKIP  2        /* a record was skipped or the reader resynced:
				   call again (bound the calls) */

/*
 * unm_shmif_bus_rx_next - locate the next record for the reader (lock held):
 * the "nothing new" and "still valid" tests of NetBSD's shmif_rcv, resync
 * on overrun, skip short, own and malformed records. Returns SHMIF_RX_*,
 * or -EBADMSG if the bus header is malformed (counted; treat as empty).
 * O(1): the caller bounds the number of calls.
 */
int unm_shmif_bus_rx_next(struct shmif_bus *b, struct shmif_rec *rec);

/* Copy N frame bytes starting at byte FROM of REC's frame to DST (lock held).
 * FROM + N <= rec->len. */
void unm_shmif_bus_rx_copy(const struct shmif_bus *b, const struct shmif_rec *rec,
		       uint32_t from, void *dst, uint32_t n);

/* Move the reader past REC (devgen++ if REC reached the end of the ring). */
void unm_shmif_bus_rx_consume(struct shmif_bus *b, const struct shmif_rec *rec);

/*
 * unm_shmif_bus_reader_reset - put the reader after the newest record
 * (nextpkt = end of last, devgen = gen), as an interface "up" does. Lock
 * held. Returns 0 or -EBADMSG.
 */
int unm_shmif_bus_reader_reset(struct shmif_bus *b);

/* unm_shmif_bus_pending - true if the reader has something new (takes the lock). */
bool unm_shmif_bus_pending(struct shmif_bus *b);

/* For tests (shmif.c): bus counters, filtered count and sender id of a
 * shmif port. Returns 0 or -EINVAL if P is not a shmif port. */
struct unm_port;
int unm_shmif_port_stats(const struct unm_port *p, struct shmif_bus_stats *st,
			 uint64_t *filtered, uint64_t *sender);

#endif /* UNM_SHMIF_BUS_H */
