// SPDX-License-Identifier: BSD-2-Clause
/*
 * shmif_bus.c - the NetBSD shmif bus (version 3): file, lock, records,
 * transmit and receive. Format and rules: shmif_bus.h and
 * /work/shared/refs/shmif.md (section numbers below refer to it).
 *
 * Owns: the mapping of one bus file and this process's view of it (sender
 * id, reader position). Threads: see shmif_bus.h; the shared state is
 * protected only by the bus lock word, which other processes (NetBSD rump
 * kernels, other unetmap ports) take too.
 *
 * Ordering: the lock is the only synchronisation. [SB1] acquire when the
 * CAS takes the lock pairs with [SB2] release when the previous holder
 * gave it back: everything written to the bus under the lock by one holder
 * is visible to the next. Header fields are accessed with relaxed atomics
 * (so a hostile writer racing us yields garbage values, not undefined
 * behaviour in the compiler's sense), the data area with memcpy.
 *
 * Untrusted input: every header field and record length read from the bus
 * goes through a local and a range check before it is used as an offset
 * or a length: offsets < DATASIZE (first may equal DATASIZE, the "never
 * wrapped" sentinel), lengths <= 1514. Every loop is bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"
#include "backend/shmif_bus.h"

#define DATASIZE SHMIF_DATA_SIZE
#define PKTHDR   SHMIF_PKTHDR_SIZE

#define LOCK_WARN_NS   1000000000ull   /* stale-lock warning after 1 s */
#define LOCK_GIVEUP_NS 2000000000ull   /* give up after 2 s */

/* A walk over records while advancing first: each step moves >= 24 bytes
 * and a piece is at most 1514 bytes, so a sane bus needs < 70 steps. */
#define FIRST_WALK_MAX 256

_Static_assert(SHMIF_DATA_SIZE == 1048544, "BUSMEM_DATASIZE");
_Static_assert(SHMIF_MAX_FRAME + PKTHDR < SHMIF_DATA_SIZE / 2, "one copy < half the ring");

static inline uint32_t *hdr32(const struct shmif_bus *b, unsigned off)
{
	return (uint32_t *)(void *)(b->mem + off);
}

static inline uint32_t ld32(const struct shmif_bus *b, unsigned off)
{
	return __atomic_load_n(hdr32(b, off), __ATOMIC_RELAXED);
}

static inline void st32(const struct shmif_bus *b, unsigned off, uint32_t v)
{
	__atomic_store_n(hdr32(b, off), v, __ATOMIC_RELAXED);
}

static inline uint64_t ld_gen(const struct shmif_bus *b)
{
	return __atomic_load_n((uint64_t *)(void *)(b->mem + SHMIF_OFF_GEN), __ATOMIC_RELAXED);
}

static inline void st_gen(const struct shmif_bus *b, uint64_t v)
{
	__atomic_store_n((uint64_t *)(void *)(b->mem + SHMIF_OFF_GEN), v, __ATOMIC_RELAXED);
}

static inline uint8_t *data(const struct shmif_bus *b)
{
	return b->mem + SHMIF_HDR_SIZE;
}

/* off + delta, wrapped once at the end of the data area (shmif_advance).
 * off <= DATASIZE and delta <= 24 + 1514: no overflow, result < DATASIZE. */
static inline uint32_t advance(uint32_t off, uint32_t delta)
{
	uint32_t n = off + delta;

	return n >= DATASIZE ? n - DATASIZE : n;
}

/* Copy N (< DATASIZE) bytes at data offset OFF (<= DATASIZE; DATASIZE reads
 * at 0 as NetBSD's busread does), split at the end of the ring. */
static void data_read(const struct shmif_bus *b, uint32_t off, void *dst, uint32_t n)
{
	uint32_t chunk;

	if (off >= DATASIZE)
		off = 0;
	chunk = n < DATASIZE - off ? n : DATASIZE - off;
	memcpy(dst, data(b) + off, chunk);
	if (n > chunk)
		memcpy((uint8_t *)dst + chunk, data(b), n - chunk);
}

static inline uint32_t rd_u32(const struct shmif_bus *b, uint32_t off)
{
	uint32_t v;

	data_read(b, off, &v, sizeof(v));
	return v;
}

/* The record after the one at OFF (shmif_nextpktoff); -EBADMSG if its
 * length is out of range. */
static int next_rec(const struct shmif_bus *b, uint32_t off, uint32_t *next)
{
	uint32_t len = rd_u32(b, off); /* untrusted */

	if (len > SHMIF_MAX_FRAME)
		return -EBADMSG;
	*next = advance(off, PKTHDR + len);
	return 0;
}

/* Bus header snapshot, validated. */
struct snap {
	uint64_t gen;
	uint32_t first, last, end; /* end: offset after the last record */
};

static int take_snap(struct shmif_bus *b, struct snap *s)
{
	s->gen = ld_gen(b);              /* untrusted */
	s->first = ld32(b, SHMIF_OFF_FIRST); /* untrusted */
	s->last = ld32(b, SHMIF_OFF_LAST);   /* untrusted */
	if (s->last >= DATASIZE || s->first > DATASIZE || next_rec(b, s->last, &s->end)) {
		b->st.bad_hdr++;
		return -EBADMSG;
	}
	return 0;
}

/* ---- lock (section 5) ---------------------------------------------------- */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static bool lock_try(struct shmif_bus *b)
{
	uint32_t *w = hdr32(b, SHMIF_OFF_LOCK);
	uint32_t exp = 0;

	/* [SB1] acquire: pairs with [SB2] of the previous holder. */
	if (__atomic_compare_exchange_n(w, &exp, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return true;
	if (exp == 1)
		return false;
	/* Neither 0 nor 1: a NetBSD peer's CAS loop would proceed as if it got
	 * the lock. Do the same, but put the word back to 1 so the invariant
	 * 0/1 holds again. [SB1] as above. */
	b->st.lock_bad++;
	return __atomic_compare_exchange_n(w, &exp, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

int unm_shmif_bus_lock(struct shmif_bus *b)
{
	uint64_t warn = b->lock_warn_ns ? b->lock_warn_ns : LOCK_WARN_NS;
	uint64_t giveup = b->lock_giveup_ns ? b->lock_giveup_ns : LOCK_GIVEUP_NS;
	uint64_t t0 = 0;
	bool warned = false;

	if (b->lock_steal_ns && b->lock_steal_ns > giveup)
		giveup = b->lock_steal_ns;
	for (;;) {
		for (unsigned i = 0; i < SHMIF_LOCK_COOLDOWN; i++) {
			if (lock_try(b))
				return 0;
			cpu_relax();
		}
		uint64_t now = unm_now_ns();

		if (!t0) {
			t0 = now;
			b->st.lock_slow++;
		}
		if (b->lock_steal_ns && now - t0 >= b->lock_steal_ns) {
			/* Documented opt-in only: the holder is presumed dead. [SB1] */
			__atomic_exchange_n(hdr32(b, SHMIF_OFF_LOCK), 1, __ATOMIC_ACQUIRE);
			b->st.lock_steals++;
			unm_log(UNM_LOG_WARN, "shmif %s: bus lock held for %llu ms: taken over",
				b->path, (unsigned long long)((now - t0) / 1000000));
			return 0;
		}
		if (now - t0 >= giveup) {
			b->st.lock_timeouts++;
			unm_log(UNM_LOG_ERR, "shmif %s: bus lock held for %llu ms; giving up "
				"(a process that died holding it wedges the bus)",
				b->path, (unsigned long long)((now - t0) / 1000000));
			return -ETIMEDOUT;
		}
		if (!warned && now - t0 >= warn) {
			warned = true;
			unm_log(UNM_LOG_WARN, "shmif %s: bus lock held for %llu ms (stale?)",
				b->path, (unsigned long long)((now - t0) / 1000000));
		}
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
}

void unm_shmif_bus_unlock(struct shmif_bus *b)
{
	/* [SB2] release: publishes everything written under the lock; pairs
	 * with [SB1] of the next holder. */
	__atomic_exchange_n(hdr32(b, SHMIF_OFF_LOCK), 0, __ATOMIC_RELEASE);
}

/* ---- attach (sections 1, 2) ------------------------------------------------ */

static int attach(struct shmif_bus *b, char *err, size_t errlen)
{
	uint32_t magic = ld32(b, SHMIF_OFF_MAGIC); /* untrusted */
	int rc;

	/* Refuse a foreign file before touching its would-be lock word. */
	if (magic != 0 && magic != SHMIF_MAGIC) {
		/* the value itself is not quoted: the file may be a secret */
		snprintf(err, errlen, "shmif %s: bus is not magical%s", b->path,
			 magic == __builtin_bswap32(SHMIF_MAGIC) ? " (other byte order)" : "");
		return -EBADMSG;
	}
	while (!b->sender)
		if (getrandom(&b->sender, sizeof(b->sender), 0) != sizeof(b->sender))
			b->sender = unm_now_ns() ^ ((uint64_t)getpid() << 32);
	rc = unm_shmif_bus_lock(b);
	if (rc) {
		snprintf(err, errlen, "shmif %s: bus lock is held and never released", b->path);
		return rc;
	}
	if (ld32(b, SHMIF_OFF_MAGIC) == 0) {
		/* initbackend: first = the never-wrapped sentinel; version 3 now
		 * rather than at the first wake-up, so a fresh bus is dumpable. */
		st32(b, SHMIF_OFF_FIRST, DATASIZE);
		st32(b, SHMIF_OFF_VERSION, SHMIF_VERSION);
		st32(b, SHMIF_OFF_MAGIC, SHMIF_MAGIC);
	} else if (ld32(b, SHMIF_OFF_MAGIC) != SHMIF_MAGIC) {
		unm_shmif_bus_unlock(b);
		snprintf(err, errlen, "shmif %s: bus is not magical", b->path);
		return -EBADMSG;
	}
	rc = unm_shmif_bus_reader_reset(b);
	unm_shmif_bus_unlock(b);
	if (rc)
		snprintf(err, errlen, "shmif %s: bus header out of range (first %u, last %u)",
			 b->path, ld32(b, SHMIF_OFF_FIRST), ld32(b, SHMIF_OFF_LAST));
	return rc;
}

int unm_shmif_bus_open(struct shmif_bus *b, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		int rc = -errno;

		memset(b, 0, sizeof(*b));
		b->fd = -1;
		snprintf(err, errlen, "shmif %s: open: %s", path, strerror(errno));
		return rc;
	}
	return unm_shmif_bus_open_fd(b, fd, path, err, errlen);
}

int unm_shmif_bus_open_fd(struct shmif_bus *b, int fd, const char *label, char *err,
			  size_t errlen)
{
	struct stat stb;
	uint32_t magic = 0;
	void *mem;
	int rc;

	memset(b, 0, sizeof(*b));
	b->fd = fd;
	snprintf(b->path, sizeof(b->path), "%s", label);
	if (fstat(b->fd, &stb) < 0 || !S_ISREG(stb.st_mode)) {
		snprintf(err, errlen, "shmif %s: not a regular file", label);
		rc = -EINVAL;
		goto fail;
	}
	/* Only an empty file (a new bus) or a bus is sized: anything else is
	 * somebody's data, refused before a byte of it is changed. Its
	 * content is never quoted (it may be a secret). */
	if (stb.st_size != 0 &&
	    (stb.st_size < 4 || pread(b->fd, &magic, sizeof(magic), SHMIF_OFF_MAGIC) !=
	     (ssize_t)sizeof(magic) || (magic != SHMIF_MAGIC && magic != 0) ||
	     (magic == 0 && stb.st_size != SHMIF_BUS_SIZE))) {
		snprintf(err, errlen, "shmif %s: not a shmif bus (bus is not magical%s, %lld "
			 "bytes): left untouched", label,
			 magic == __builtin_bswap32(SHMIF_MAGIC) ? ", other byte order" : "",
			 (long long)stb.st_size);
		rc = -EBADMSG;
		goto fail;
	}
	/* NetBSD re-truncates on every attach: the bus is exactly 1 MiB. */
	if (stb.st_size != SHMIF_BUS_SIZE && ftruncate(b->fd, SHMIF_BUS_SIZE) < 0) {
		rc = -errno;
		snprintf(err, errlen, "shmif %s: ftruncate: %s", label, strerror(errno));
		goto fail;
	}
	mem = mmap(NULL, SHMIF_BUS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	if (mem == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "shmif %s: mmap: %s", label, strerror(errno));
		goto fail;
	}
	b->mem = mem;
	b->mapped = true;
	unm_foreign_add(mem, SHMIF_BUS_SIZE); /* other processes may shrink it */
	rc = attach(b, err, errlen);
	if (rc)
		goto fail;
	return 0;
fail:
	unm_shmif_bus_close(b);
	return rc;
}

int unm_shmif_bus_attach_mem(struct shmif_bus *b, void *mem, char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->mem = mem;
	snprintf(b->path, sizeof(b->path), "(memory)");
	return attach(b, err, errlen);
}

void unm_shmif_bus_close(struct shmif_bus *b)
{
	if (b->mapped && b->mem) {
		unm_foreign_del(b->mem);
		munmap(b->mem, SHMIF_BUS_SIZE);
	}
	if (b->fd >= 0)
		close(b->fd);
	b->mem = NULL;
	b->mapped = false;
	b->fd = -1;
}

int unm_shmif_bus_wakeup(struct shmif_bus *b)
{
	static const uint32_t v = SHMIF_VERSION;

	if (b->fd < 0) {
		st32(b, SHMIF_WAKEUP_OFF, v);
		return 0;
	}
	/* A store through the mapping raises no inotify/kqueue event; only a
	 * write-family syscall does (section 6). */
	if (pwrite(b->fd, &v, sizeof(v), SHMIF_WAKEUP_OFF) != sizeof(v))
		return -errno;
	return 0;
}

/* ---- transmit (section 4) -------------------------------------------------- */

struct wctx {
	uint32_t first;         /* working copy of shm_first */
	bool wrap;              /* a piece of this frame ended at DATASIZE */
	bool repaired;          /* first was reset to this record */
	uint32_t rec;           /* offset of the record being written */
};

/* Advance first over the records a piece [off, off + n) overwrites
 * (advancefirst). If the chain from first is broken (bad length, or a
 * walk that does not end), the record being written becomes first: the
 * only record known to be intact. */
static void first_adv(struct shmif_bus *b, struct wctx *w, uint32_t off, uint32_t n)
{
	if (w->repaired)
		return;
	for (unsigned i = 0; off <= w->first + PKTHDR && off + n > w->first; i++) {
		if (i == FIRST_WALK_MAX || next_rec(b, w->first, &w->first)) {
			b->st.bad_chain++;
			w->first = w->rec;
			w->repaired = true;
			return;
		}
	}
}

/* One copy step (shmif_buswrite): N < DATASIZE / 2 bytes at OFF < DATASIZE.
 * Returns the offset after the copy, wrapped. */
static uint32_t put(struct shmif_bus *b, struct wctx *w, uint32_t off, const void *src, uint32_t n)
{
	uint32_t chunk, rest;

	if (n == 0)
		return off;
	chunk = n < DATASIZE - off ? n : DATASIZE - off;
	rest = n - chunk;
	/* A piece ending exactly at the end also overwrites the sentinel
	 * position DATASIZE: test n + 1 there. */
	first_adv(b, w, off, chunk + (off + chunk == DATASIZE ? 1 : 0));
	memcpy(data(b) + off, src, chunk);
	if (off + chunk == DATASIZE)
		w->wrap = true;
	if (rest == 0)
		return advance(off, chunk);
	first_adv(b, w, 0, rest);
	memcpy(data(b), (const uint8_t *)src + chunk, rest);
	return rest;
}

int unm_shmif_bus_write(struct shmif_bus *b, const struct iovec *iov, int iovcnt,
		    uint32_t len, uint32_t sec, uint32_t usec)
{
	struct wctx w = { .wrap = false, .repaired = false };
	uint8_t ph[PKTHDR];
	struct snap s;
	uint32_t off, zero = 0;
	size_t sum = 0;

	for (int i = 0; i < iovcnt; i++)
		sum += iov[i].iov_len;
	if (len < SHMIF_MIN_FRAME || len > SHMIF_MAX_FRAME || sum != len)
		return -EMSGSIZE;
	if (take_snap(b, &s))
		return -EBADMSG;
	w.first = s.first;
	w.rec = off = s.end;
	st32(b, SHMIF_OFF_LAST, off);
	memcpy(ph + SHMIF_PH_LEN, &len, 4);
	memcpy(ph + SHMIF_PH_SEC, &sec, 4);
	memcpy(ph + SHMIF_PH_USEC, &usec, 4);
	memcpy(ph + 12, &zero, 4);
	memcpy(ph + SHMIF_PH_SENDER, &b->sender, 8);
	off = put(b, &w, off, ph, PKTHDR);
	for (int i = 0; i < iovcnt; i++)
		off = put(b, &w, off, iov[i].iov_base, (uint32_t)iov[i].iov_len);
	st32(b, SHMIF_OFF_FIRST, w.first);
	if (w.wrap) {
		st_gen(b, s.gen + 1);
		b->st.tx_wraps++;
	}
	b->st.tx_frames++;
	return 0;
}

/* ---- receive (section 7) ----------------------------------------------------- */

int unm_shmif_bus_reader_reset(struct shmif_bus *b)
{
	struct snap s;

	if (take_snap(b, &s))
		return -EBADMSG;
	/* Start after the newest record rather than re-reading it (allowed by
	 * section 7): a fresh port sees no stale frame. */
	b->nextpkt = s.end;
	b->devgen = s.gen;
	return 0;
}

/* stillvalid_p: is nextpkt/devgen still inside the intact records
 * [first, end), mapped onto a doubled ring when they wrap? */
static bool still_valid(const struct shmif_bus *b, const struct snap *s)
{
	uint64_t gendiff = s->gen - b->devgen;
	uint64_t np = b->nextpkt, end = s->end;

	if (gendiff > 1)
		return false;
	if (s->first >= s->end) {
		end += DATASIZE;
		if (gendiff == 0)
			np += DATASIZE;
	} else if (gendiff != 0) {
		return false;
	}
	return s->first <= np && np <= end;
}

static inline bool nothing_new(const struct shmif_bus *b, const struct snap *s)
{
	return b->devgen == s->gen && b->nextpkt == s->end;
}

bool unm_shmif_bus_pending(struct shmif_bus *b)
{
	struct snap s;
	bool r;

	if (unm_shmif_bus_lock(b))
		return false;
	r = take_snap(b, &s) == 0 && !nothing_new(b, &s);
	unm_shmif_bus_unlock(b);
	return r;
}

/* Move the reader past REC; a record that reached the end of the ring
 * belongs to the next generation's start (the writer did gen++ for it). */
static void pass_rec(struct shmif_bus *b, const struct shmif_rec *rec)
{
	uint32_t end = rec->off + PKTHDR + rec->len; /* < 2 * DATASIZE */

	if (end >= DATASIZE) {
		end -= DATASIZE;
		b->devgen++;
	}
	b->nextpkt = end;
}

int unm_shmif_bus_rx_next(struct shmif_bus *b, struct shmif_rec *rec)
{
	uint8_t ph[PKTHDR];
	struct snap s;

	if (take_snap(b, &s))
		return -EBADMSG;
	if (nothing_new(b, &s))
		return SHMIF_RX_EMPTY;
	if (!still_valid(b, &s)) {
		/* Lapped: jump to the oldest intact record. It belongs to the
		 * previous generation iff the intact records wrap, first >= end.
		 * (NetBSD tests first > last, which differs only when the newest
		 * record reaches the end of the ring: then its reader would end
		 * up one generation ahead of the bus and resync for ever.) The
		 * sentinel means nothing was ever overwritten: start at 0. */
		b->st.overruns++;
		if (s.first == DATASIZE) {
			b->nextpkt = 0;
			b->devgen = s.gen;
		} else {
			b->nextpkt = s.first;
			b->devgen = s.first >= s.end ? s.gen - 1 : s.gen;
		}
	}
	data_read(b, b->nextpkt, ph, PKTHDR);
	memcpy(&rec->len, ph + SHMIF_PH_LEN, 4); /* untrusted */
	if (rec->len > SHMIF_MAX_FRAME) {
		/* Cannot walk past it: skip to the writer's position. */
		b->st.bad_rec++;
		b->nextpkt = s.end;
		b->devgen = s.gen;
		return SHMIF_RX_SKIP;
	}
	rec->off = b->nextpkt;
	memcpy(&rec->sec, ph + SHMIF_PH_SEC, 4);
	memcpy(&rec->usec, ph + SHMIF_PH_USEC, 4);
	memcpy(&rec->sender, ph + SHMIF_PH_SENDER, 8);
	if (rec->len < SHMIF_MIN_FRAME) {
		b->st.rx_short++;
		pass_rec(b, rec);
		return SHMIF_RX_SKIP;
	}
	if (rec->sender == b->sender) {
		b->st.rx_own++;
		pass_rec(b, rec);
		return SHMIF_RX_SKIP;
	}
	return SHMIF_RX_FRAME;
}

void unm_shmif_bus_rx_copy(const struct shmif_bus *b, const struct shmif_rec *rec,
		       uint32_t from, void *dst, uint32_t n)
{
	if (from > rec->len || n > rec->len - from)
		return; /* caller bug; never read past the record */
	data_read(b, advance(rec->off, PKTHDR + from), dst, n);
}

void unm_shmif_bus_rx_consume(struct shmif_bus *b, const struct shmif_rec *rec)
{
	pass_rec(b, rec);
	b->st.rx_frames++;
}
