/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pktgen.h - unm-pktgen's shared types: the parsed configuration (args.c),
 * the frame generator (frame.c), per-thread state and counters (tx/rx
 * loops in txrx.c, ping.c) and the reporting helpers (stats.c).
 *
 * Threads: main parses arguments, opens the port once and reports; each
 * worker owns its rings (all bound rings with one thread, ring pair i with
 * -p: the threads share the handle, one thread per ring as libunm
 * requires, and sleep with unm_ring_wait()), its generator and its
 * statistics. The only data crossing threads are the counters in
 * struct pg_counters (written by the worker with relaxed atomic stores,
 * read by main with relaxed loads: monotonic counters, no ordering needed)
 * and the stop flag (pg_stop, written by the signal handler / main).
 */
#ifndef UNM_PKTGEN_H
#define UNM_PKTGEN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <unm.h>

#define PG_NAME "unm-pktgen"

enum pg_func { PG_TX, PG_RX, PG_PING, PG_PONG, PG_TXSEQ, PG_RXSEQ };

/* What the payload carries after the UDP header. */
#define PG_PAY_NONE 0 /* a fixed pattern */
#define PG_PAY_SEQ  1 /* 64-bit sequence number */
#define PG_PAY_PING 2 /* sequence number, then 64-bit send time (ns) */

/* --replay-timing */
enum pg_replay_timing { PG_REPLAY_ORIG, PG_REPLAY_FAST, PG_REPLAY_RATE };

/* A capture loaded by pcap.c: records in file order, frames back to back
 * in data. rel_ns is the capture time since the first record, made
 * non-decreasing; period_ns is the length of one pass (used when -n loops
 * the file). Read-only once loaded. */
struct pg_rec {
	uint64_t rel_ns;
	size_t off;
	uint32_t len;
};

struct pg_pcap {
	uint8_t *data;
	struct pg_rec *rec;
	size_t n;
	uint64_t period_ns;
	unsigned linktype;
	bool nsec, ng;                /* nanosecond stamps / pcapng */
	uint64_t skipped;             /* records too large or empty */
};

/* Load FILE (pcap, microsecond or nanosecond, either byte order, or
 * pcapng); records longer than MAXLEN are skipped. 0, or -1 with a reason
 * in err. */
int pg_pcap_load(const char *file, unsigned maxlen, struct pg_pcap *pc, char *err, size_t errlen);
/* The same on LEN bytes at DATA (malloc'd; owned by *pc from now on,
 * freed on error too). tests/fuzz/pcap_fuzz.c drives this. */
int pg_pcap_parse(struct pg_pcap *pc, uint8_t *data, size_t len, unsigned maxlen, char *err,
		  size_t errlen);
void pg_pcap_free(struct pg_pcap *pc);

/* One of -s / -d: IPv4 address or the low 32 bits of an IPv6 address,
 * both host order, and a port range. v6 addresses share the top 96 bits. */
struct pg_span {
	uint32_t ip_lo, ip_hi;
	uint8_t ip6_hi[12];           /* IPv6: the top 96 bits of both ends */
	uint16_t port_lo, port_hi;
	bool v6, given;
};

/* Everything the command line decides (args.c). Read-only after parsing. */
struct pg_conf {
	enum pg_func func;
	const char *ifname;
	unsigned len_min, len_max;    /* Ethernet frame, no CRC, no vnet header */
	uint64_t count;               /* 0 = forever */
	unsigned batch;
	double rate;                  /* packets/s in total, 0 = unlimited */
	unsigned report_ms;           /* 0 = no interval lines */
	unsigned wait_s;
	unsigned threads;
	int cpu;                      /* -1 = no affinity */
	struct pg_span src, dst;
	uint8_t smac[6], dmac[6];
	bool smac_given, dmac_given;
	bool rand_src, rand_dst, ipv6;
	int csum;                     /* -1 = default (off for v4, on for v6) */
	unsigned vnet_hdr_len;
	unsigned frags, frag_size;    /* -F / -M, 0 = not given */
	bool raw, json;
	int verbose;
	unsigned cpus;                /* -c: pin modulo this many CPUs, 0 = all */
	const char *pcap_file;        /* -P */
	enum pg_replay_timing replay_timing;
	bool ts;                      /* --ts: one-way latency */
	bool dump;                    /* -X */
	bool exit_empty;              /* -W */
	bool framing;                 /* -B: 24 bytes of framing per frame in bps */
	bool rubbish;                 /* -r */
	bool rate_stats;              /* -A */
};

/* Parse argv into *c. Returns 0, 1 when --help/--version was printed (exit
 * 0), or 2 after printing a usage error (exit 2). */
int pg_parse_args(int argc, char **argv, struct pg_conf *c);
const char *pg_func_name(enum pg_func f);
/* What the frames a sender makes carry (PG_PAY_*). */
int pg_payload(const struct pg_conf *c);
/* Parse "aa:bb:cc:dd:ee:ff"; 0 or -1. */
int pg_parse_mac(const char *s, uint8_t mac[6]);
/* Parse IP[:PORT][-IP[:PORT]] (IPv6 with a port in brackets). 0 or -1 with
 * a reason in err. */
int pg_parse_span(const char *s, struct pg_span *sp, char *err, size_t errlen);

/* ---- frames (frame.c) ---------------------------------------------------- */

struct pg_frame_cfg {
	bool v6, csum, rand_src, rand_dst;
	int payload;                  /* PG_PAY_* */
	unsigned vnet_hdr_len;
	unsigned len_min, len_max;    /* Ethernet frame length, no vnet header */
	uint8_t smac[6], dmac[6];
	struct pg_span src, dst;
};

/*
 * Per-thread frame generator. tmpl holds a complete frame of len_max bytes
 * (vnet header included) with fixed fields filled; pg_gen_next() copies it
 * and patches what varies (lengths, addresses, ports, payload, checksums).
 */
struct pg_gen {
	struct pg_frame_cfg cfg;
	uint8_t *tmpl;
	unsigned l2_ofs, l3_ofs, l4_ofs, pay_ofs; /* from the frame start */
	bool fixed;                   /* nothing varies: memcpy only */
	uint32_t sip, dip;            /* current addresses (host order) */
	uint16_t sport, dport;
	uint64_t rng;
};

/* Minimum frame length (no vnet header) for the header set and payload. */
unsigned pg_frame_min_len(bool v6, int payload);
int pg_gen_init(struct pg_gen *g, const struct pg_frame_cfg *cfg, uint64_t seed);
void pg_gen_free(struct pg_gen *g);
/* Length (vnet header included) of the next frame; advances the RNG only
 * when lengths are random. */
unsigned pg_gen_len(struct pg_gen *g);
/* Write a frame of LEN bytes (from pg_gen_len) into dst; seq and ts go in
 * the payload when the configuration asks for them. Advances addresses. */
void pg_gen_write(struct pg_gen *g, uint8_t *dst, unsigned len, uint64_t seq, uint64_t ts);
uint64_t pg_rand(uint64_t *state);

/* Internet checksum helpers (RFC 1071). sum is a running native-order sum. */
uint32_t pg_csum_add(uint32_t sum, const void *p, size_t len);
uint16_t pg_csum_fold(uint32_t sum);

/* Parse a received frame (vnet header of VNET bytes first): if it is
 * IPv4/IPv6 UDP with at least 8 payload bytes, store the sequence number
 * (and the timestamp if 16 bytes) and return the payload offset; else -1. */
int pg_parse(const uint8_t *f, unsigned len, unsigned vnet, uint64_t *seq, uint64_t *ts);
/* Swap Ethernet, IP addresses and UDP ports in place (pong). Checksums
 * stay valid: the sums are commutative. */
void pg_swap(uint8_t *f, unsigned len, unsigned vnet);

/* ---- sequence checking (stats.c) ------------------------------------------ */

#define PG_SEQ_WINDOW 4096            /* seqs remembered for duplicate detection */

struct pg_seq {
	uint64_t next;                /* lowest sequence number not yet passed */
	uint64_t lost, ooo, dup, bad;
	uint64_t seen[PG_SEQ_WINDOW / 64];
};

void pg_seq_check(struct pg_seq *s, uint64_t seq);

/* ---- latency statistics (stats.c) ----------------------------------------- */

/* Exact count, min, max and log2 histogram; quantiles from a sample (all
 * values up to PG_RTT_SAMPLES, a uniform reservoir beyond). One owner. */
struct pg_lat {
	uint64_t *s;
	size_t n, cap;
	uint64_t count, min, max, hist[64];
};

#define PG_RTT_SAMPLES (1u << 20)

void pg_lat_record(struct pg_lat *l, uint64_t ns, uint64_t *rng);
/* Fold SRC into DST (main, after join); samples are appended while room. */
void pg_lat_merge(struct pg_lat *dst, const struct pg_lat *src);
void pg_lat_free(struct pg_lat *l);
/* "WHAT over N LABEL: min, median, p99, max" and the histogram lines. */
void pg_report_lat(const struct pg_conf *c, const char *type, const char *what,
		   const char *label, struct pg_lat *l);

/* ---- per-thread state -------------------------------------------------- */

/* Written by the worker only, read by main: each field on its own line
 * group so main's reads do not bounce the worker's hot line often. */
struct pg_counters {
	uint64_t pkts, bytes, batches, drops;
} __attribute__((aligned(64)));

struct pg_thread {
	int id;
	pthread_t tid;
	const struct pg_conf *conf;
	struct unm_port *port;
	bool shared;                  /* port handle shared: wait per ring */
	unsigned first_tx, last_tx, first_rx, last_rx;
	unsigned buf_size;
	struct pg_gen gen;
	struct pg_seq seq;
	uint8_t *scratch;             /* fragmented frames are built here */
	unsigned rx_in_frame;         /* bytes of a chain seen so far, per thread */
	bool rx_chain_bad;
	struct pg_counters c;         /* W:worker R:main (relaxed) */
	uint64_t t_first, t_last;     /* ns: first and last frame of the run */
	uint64_t peer_closed_at;      /* frames when the peer went away, or ~0 */
	int err;                      /* negative errno of a fatal sync error */
	bool done;                    /* W:worker R:main (relaxed) */
	struct pg_lat lat;            /* ping: RTT; rx --ts: one-way latency */
	uint64_t ping_lost, ping_stale;
	const struct pg_pcap *replay; /* -P: frames come from here */
	uint64_t rp_idx;              /* next record (counts passes) */
	/* tx of one fixed frame (txrx.c, tx_fill_fixed): the port only ever
	 * reads what we write into its TX buffers (a switch port), so a
	 * buffer still holding the frame need not be written again */
	bool tx_keep_ok;
};

extern int pg_stop;               /* set by signals; read relaxed */

static inline bool pg_stopping(void)
{
	return __atomic_load_n(&pg_stop, __ATOMIC_RELAXED) != 0;
}

static inline void pg_publish(uint64_t *dst, uint64_t v)
{
	__atomic_store_n(dst, v, __ATOMIC_RELAXED);
}

uint64_t pg_now_ns(void);
/* CLOCK_REALTIME in ns: --ts stamps, comparable across processes and
 * (with synchronised clocks) hosts. */
uint64_t pg_wall_ns(void);
/* Sync every ring of the thread; first error. */
int pg_txsync(struct pg_thread *t);
int pg_rxsync(struct pg_thread *t);
/* unm_wait() for a thread alone on its handle, unm_ring_wait() on its
 * own ring otherwise (EVENTS is one of UNM_WAIT_RX / UNM_WAIT_TX then). */
int pg_wait(struct pg_thread *t, unsigned events, int timeout_ms);
/* -X: print one slot as hex. */
void pg_dump(const struct pg_thread *t, const char *dir, unsigned ring, uint32_t slot,
	     const uint8_t *buf, unsigned len, unsigned flags);

/* The -n budget shared by all workers (exactly COUNT frames in total):
 * claim up to WANT, get back what may be used (0: budget spent); give
 * back what was claimed but not used. Without -n, claims always succeed. */
uint64_t pg_claim(uint64_t want);
void pg_unclaim(uint64_t n);
/* True once -n COUNT frames have all been claimed (and used). */
bool pg_budget_spent(void);

/* Slots a frame of LEN bytes (vnet header included) takes, and writing it
 * into ring R from slot *I on (advancing *I). Shared by tx and ping. */
unsigned pg_frame_slots(const struct pg_thread *t, unsigned len);
void pg_put_frame(struct pg_thread *t, struct unm_ring *r, uint32_t *i, unsigned len,
		  uint64_t seq, uint64_t ts);
/* One fixed frame (fill.c): put the LEN bytes at TMPL into up to MAX
 * slots of R from head (writing a buffer only where *KEPT does not say it
 * holds them already), advance head; returns the frames. *KEPT: from
 * pg_kept_new() (NULL: write every buffer), freed and set to NULL when
 * buffers are seen to move. REWRITTEN counts the buffers written. */
uint32_t *pg_kept_new(const struct unm_ring *r);
unsigned pg_fill_fixed(struct unm_ring *r, uint32_t **kept, const uint8_t *tmpl, uint16_t len,
		       unsigned max, uint64_t *rewritten);
/* Sleep for NS nanoseconds at most (interrupted by signals). */
void pg_sleep_ns(uint64_t ns);

/* Workers (txrx.c, ping.c). Return NULL; results are in the thread. */
void *pg_tx_main(void *arg);
void *pg_rx_main(void *arg);
void *pg_ping_main(void *arg);
void *pg_pong_main(void *arg);
/* Shared by tx and ping: the peer-gone test and its message. */
bool pg_peer_gone(int rc);
void pg_note_closed(struct pg_thread *t, int rc, uint64_t frames);
/* Any other sync failure: message, t->err = rc. */
void pg_fatal_sync(struct pg_thread *t, const char *what, int rc);

/* ---- reporting (stats.c) -------------------------------------------------- */

struct pg_out;
struct pg_out *pg_out_begin(const struct pg_conf *c, const char *type);
/* Emit one field. fmt contains one %s for the number as text (units
 * unless -N; exact when EXACT), surrounding words are text-only. */
void pg_out_u64(struct pg_out *o, const char *key, const char *fmt, uint64_t v, bool exact);
void pg_out_dbl(struct pg_out *o, const char *key, const char *fmt, double v, int prec);
void pg_out_rate(struct pg_out *o, const char *key, const char *fmt, double v);
void pg_out_str(struct pg_out *o, const char *key, const char *fmt, const char *v);
void pg_out_end(struct pg_out *o);

/* Format v with K/M/G suffix (or raw with -N). */
void pg_fmt_units(char *buf, size_t n, double v, bool raw);

struct pg_totals {
	uint64_t pkts, bytes, batches, drops;
};

void pg_report_interval(const struct pg_conf *c, double t, const struct pg_totals *d,
			double dt);
/* Final summary; returns the exit status (0 ok, 1 failure found). */
int pg_report_summary(const struct pg_conf *c, struct pg_thread *th, unsigned n);
/* -A: mean and standard deviation of the interval rates. */
struct pg_rate_acc {
	uint64_t n;
	double pps, pps2, bps, bps2;
};
void pg_report_rate_stats(const struct pg_conf *c, const struct pg_rate_acc *a);
/* Bits per second for BYTES and PKTS in SECS (-B adds framing). */
double pg_bps(const struct pg_conf *c, uint64_t bytes, uint64_t pkts, double secs);

#endif /* UNM_PKTGEN_H */
