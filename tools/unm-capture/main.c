// SPDX-License-Identifier: BSD-2-Clause
/*
 * unm-capture - write the frames received on a unetmap port to a pcap or
 * pcapng file, with tcpdump's option spelling where tcpdump has one.
 *
 * Loop: rxsync every bound RX ring, walk [head, tail) frame by frame
 * (a MOREFRAG chain is reassembled into one record; a chain whose end has
 * not arrived yet stays in the ring with cur moved to tail, so the next
 * wake-up comes only when more slots exist), strip the virtio-net header
 * if the port has one, run the BPF filter (compiled on a dead pcap handle,
 * run with pcap_offline_filter), write, release. One timestamp per sync
 * (CLOCK_REALTIME, nanoseconds). Sleeps in unm_wait() when idle.
 * Slot contents come from another process: each buffer index and length
 * is checked against the port's geometry before it is followed.
 *
 * Single-threaded; SIGINT/SIGTERM only set a flag (no SA_RESTART, so the
 * sleep returns -EINTR) and the loop finishes with a summary line.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <unm.h>
#include "config-host.h"
#include "unm-ctlmsg.h"
#include "capture.h"
#ifdef CONFIG_HAVE_PCAP
#include <pcap/pcap.h>
#endif

#define PROG "unm-capture"
#define DEF_SNAPLEN 262144u

/* Kept word for word in unm-capture.8 (tests/unit/tool-help.sh diffs them). */
static const char usage_text[] =
"Usage: unm-capture -i PORT -w FILE [OPTIONS] [FILTER...]\n"
"Write the frames received on a unetmap port to a pcap or pcapng file.\n"
"FILTER is a pcap-filter(7) expression; only matching frames are written.\n"
"\n"
"Options:\n"
"  -i, --interface PORT\n"
"        Port to capture from: any unetmap port name, typically a monitor\n"
"        such as monitor:vale0:p1.\n"
"  -w, --write FILE\n"
"        Write the frames to FILE (- for standard output).\n"
"  -c, --count COUNT\n"
"        Stop after COUNT frames have been written.\n"
"  -s, --snaplen SNAPLEN\n"
"        Keep at most SNAPLEN bytes of each frame (default 262144).\n"
"  -C, --file-size SIZE\n"
"        Before a frame would make the file larger than SIZE million bytes,\n"
"        close it and continue in FILE1, FILE2 and so on. SIZE may end in\n"
"        k, m or g for thousands, millions or billions of bytes.\n"
"  -W, --file-count N\n"
"        With -C, use at most N files, then overwrite FILE, FILE1 and so on\n"
"        again.\n"
"  --pcapng\n"
"        Write pcapng (nanosecond timestamps) instead of pcap.\n"
"  -q, --quiet\n"
"        Do not print the counts every second; the summary is still printed.\n"
"  -h, --help\n"
"        Print this help and exit.\n"
"  --version\n"
"        Print the version of libunm and exit.\n";

static volatile sig_atomic_t stop_sig;

struct cap {
	struct unm_port *port;
	struct out out;
	uint32_t nbufs, buf_size, vhl, snaplen;
	uint64_t count;                  /* -c, 0 = no limit */
	uint64_t received, matched, written, bytes, bad;
	bool unmd_mon;                   /* a monitor served by unmd */
	uint64_t mon_drops;              /* unmd's count for it, last seen */
	struct timespec ts;              /* time of the current batch */
	uint8_t asm_buf[UNM_MAX_FRAME + 1]; /* one reassembled chain */
#ifdef CONFIG_HAVE_PCAP
	struct bpf_program prog;
#endif
	int have_filter;
};

static void on_signal(int sig)
{
	stop_sig = sig;
}

static void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '" PROG " --help' for more information.\n");
	exit(2);
}

static uint64_t parse_num(const char *s, const char *what, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		usage_error(what, s);
	return v;
}

/* -C SIZE: millions of bytes, or a k/m/g suffix (tcpdump's units). */
static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1000000;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end && !end[1]) {
		switch (*end) {
		case 'k': case 'K': mult = 1000; end++; break;
		case 'm': case 'M': mult = 1000000; end++; break;
		case 'g': case 'G': mult = 1000000000; end++; break;
		}
	}
	if (errno || end == s || *end || s[0] == '-' || v == 0 || v > (1ull << 40))
		usage_error("bad file size '%s'", s);
	return v * mult;
}

static double now_mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/*
 * Copies unmd dropped because this monitor's RX ring was full: unmd
 * counts them (mon_drops of the monitor's item in PORT_STATS, the one
 * whose client is this process), the library cannot see them. Asked at
 * most once a second and at the end; the last answer is kept when unmd
 * no longer lists the monitor (its port went away). 0 for ports that are
 * not unmd monitors (a pipe's copy monitor counts in the library).
 */
static uint64_t unmd_mon_drops(struct cap *c)
{
	static uint32_t seq;
	struct unm_ctl_req req;
	struct unm_ctl_rep rep;
	uint64_t sum = 0;
	bool found = false;
	int fd;

	if (!c->unmd_mon || (fd = unm_ctl_connect(unm_ctl_path(NULL))) < 0)
		return c->mon_drops;
	unm_ctl_req_init(&req, UNM_CTL_PORT_STATS, ++seq);
	if (unm_ctl_call(fd, &req, &rep, NULL, 0, 1000) == 0 && rep.status == 0) {
		for (unsigned i = 0; i < rep.n_items; i++) {
			struct unm_ctl_item it;

			if (unm_ctl_recv_item(fd, &it, seq, 1000))
				break;
			if (it.kind == UNM_CTL_ITEM_PORT && (it.u.port.flags & UNM_CTL_PORT_MONITOR) &&
			    it.u.port.pid == (int32_t)getpid()) {
				sum += it.u.port.mon_drops;
				found = true;
			}
		}
	}
	close(fd);
	if (found && sum > c->mon_drops)
		c->mon_drops = sum;
	return c->mon_drops;
}

/* Frames lost before they reached us: the library's count for the port,
 * plus unmd's for a monitor it serves. */
static uint64_t port_drops(struct cap *c)
{
	struct unm_port_stats st = { .sz = sizeof(st) };

	return (unm_port_stats(c->port, &st) ? 0 : st.drops) + unmd_mon_drops(c);
}

/* One complete frame FRAME[0..len): strip, filter, write. Returns 0 or -errno. */
static int deliver(struct cap *c, const uint8_t *frame, uint32_t len)
{
	uint32_t caplen;
	int rc;

	c->received++;
	if (len < c->vhl) {
		c->bad++;
		return 0;
	}
	frame += c->vhl;
	len -= c->vhl;
#ifdef CONFIG_HAVE_PCAP
	if (c->have_filter) {
		struct pcap_pkthdr h = { .caplen = len, .len = len };

		if (!pcap_offline_filter(&c->prog, &h, frame))
			return 0;
	}
#endif
	c->matched++;
	caplen = len < c->snaplen ? len : c->snaplen;
	rc = out_write(&c->out, &c->ts, frame, caplen, len);
	if (rc)
		return rc;
	c->written++;
	c->bytes += len;
	return 0;
}

/* Is slot S safe to follow? (The peer may have written anything.) */
static int slot_ok(const struct cap *c, const struct unm_slot *s, uint32_t *len)
{
	uint32_t idx = UNM_READ_ONCE(s->buf_idx); /* untrusted */
	uint32_t l = UNM_READ_ONCE(s->len);       /* untrusted */

	if (idx < 2 || idx >= c->nbufs || l > c->buf_size)
		return 0;
	*len = l;
	return 1;
}

/*
 * Consume the complete frames of RX ring R. Returns 0, 1 when -c was
 * reached, or -errno from the writer.
 */
static int drain_ring(struct cap *c, struct unm_ring *r)
{
	uint32_t i = r->head, tail = r->tail, cur;
	int rc = 0;

	while (i != tail && rc == 0) {
		uint32_t j = i, nfr = 0, total = 0, len, idx;
		int complete = 0, bad = 0;
		const uint8_t *frame = NULL;

		for (;;) {
			const struct unm_slot *s = &r->slot[j];
			uint16_t fl = UNM_READ_ONCE(s->flags);

			nfr++;
			if (!slot_ok(c, s, &len) || total + len > UNM_MAX_FRAME) {
				bad = 1;
			} else if (!bad) {
				idx = UNM_READ_ONCE(s->buf_idx);
				if (nfr == 1 && !(fl & UNM_NS_MOREFRAG)) {
					frame = (const uint8_t *)unm_buf(r, idx);
				} else {
					memcpy(c->asm_buf + total, unm_buf(r, idx), len);
					frame = c->asm_buf;
				}
				total += len;
			}
			j = unm_ring_next(r, j);
			if (!(fl & UNM_NS_MOREFRAG) || nfr >= UNM_MAX_FRAGS) {
				/* a chain longer than UNM_MAX_FRAGS is cut here */
				bad |= (fl & UNM_NS_MOREFRAG) != 0;
				complete = 1;
				break;
			}
			if (j == tail)
				break;
		}
		if (!complete)
			break; /* the rest of the chain has not arrived */
		if (bad)
			c->bad++, c->received++;
		else
			rc = deliver(c, frame, total);
		i = j;
		if (rc == 0 && c->count && c->written >= c->count)
			rc = 1;
	}
	/* Keep an incomplete chain (head stays at its start) but wake only
	 * when more slots arrive (cur = tail). */
	cur = (i != tail && rc == 0) ? tail : i;
	r->head = i;
	r->cur = cur;
	return rc;
}

static void print_stats(struct cap *c, double t, double dt, uint64_t prev_rx)
{
	fprintf(stderr, "t=%.3f received=%llu matched=%llu written=%llu dropped=%llu pps=%.0f\n",
		t, (unsigned long long)c->received, (unsigned long long)c->matched,
		(unsigned long long)c->written, (unsigned long long)port_drops(c),
		dt > 0 ? (double)(c->received - prev_rx) / dt : 0.0);
}

/* The capture loop. Returns the exit status. */
static int run(struct cap *c, const char *pname, int quiet)
{
	struct unm_port_info info = { .sz = sizeof(info) };
	double t0 = now_mono(), last = t0, next = t0 + 1.0;
	uint64_t prev_rx = 0;
	int status = 0, rc;

	unm_port_info(c->port, &info);
	c->nbufs = info.buf_count;
	c->buf_size = info.buf_size;
	c->vhl = info.vnet_hdr_len;
	c->unmd_mon = !strcmp(info.type, "monitor");
	if (info.last_rx <= info.first_rx) {
		fprintf(stderr, PROG ": %s: port has no RX ring bound\n", pname);
		return 1;
	}
	while (!stop_sig) {
		int done = 0, peer_gone = 0;

		rc = unm_rxsync(c->port, UNM_RING_ALL);
		if (rc == -EPIPE)
			peer_gone = 1;
		else if (rc && rc != -EINVAL) {
			fprintf(stderr, PROG ": %s: %s\n", pname, unm_strerror(rc));
			status = 1;
			break;
		}
		clock_gettime(CLOCK_REALTIME, &c->ts);
		for (unsigned i = info.first_rx; i < info.last_rx && !done; i++) {
			struct unm_ring *r = unm_ring_get(c->port, 0, i);

			rc = r ? drain_ring(c, r) : 0;
			if (rc < 0) {
				fprintf(stderr, PROG ": %s\n", c->out.err);
				return 1;
			}
			done = rc == 1;
		}
		if (done) {
			unm_rxsync(c->port, UNM_RING_ALL); /* release the last frames */
			break;
		}
		double now = now_mono();

		if (now >= next) {
			if (!quiet)
				print_stats(c, now - t0, now - last, prev_rx);
			prev_rx = c->received;
			last = now;
			next = now + 1.0;
		}
		if (peer_gone) {
			fprintf(stderr, PROG ": %s: peer closed\n", pname);
			break;
		}
		rc = unm_wait(c->port, UNM_WAIT_RX, (int)((next - now) * 1000) + 1);
		if (rc == -EPIPE || rc == -EINTR)
			continue; /* next rxsync drains what is left / sees the flag */
		if (rc < 0) {
			fprintf(stderr, PROG ": %s: %s\n", pname, unm_strerror(rc));
			status = 1;
			break;
		}
	}
	return status;
}

static void summary(struct cap *c)
{
	fprintf(stderr, PROG ": received=%llu matched=%llu written=%llu bytes=%llu "
		"dropped=%llu bad=%llu files=%u\n",
		(unsigned long long)c->received, (unsigned long long)c->matched,
		(unsigned long long)c->written, (unsigned long long)c->bytes,
		(unsigned long long)port_drops(c), (unsigned long long)c->bad,
		c->out.files);
}

static char *join_args(int argc, char **argv)
{
	size_t n = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	s = calloc(1, n);
	if (!s)
		return NULL;
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* Everything after option parsing. Returns the exit status. */
static int capture(struct cap *c, const char *pname, const char *filter, int quiet)
{
	struct sigaction sa;
	int status;

#ifndef CONFIG_HAVE_PCAP
	/* pcapng would not need libpcap, but the filter and pcap output do:
	 * one simple rule for users and tests. */
	fprintf(stderr, PROG ": not built with libpcap: install libpcap-dev\n");
	return 1;
#else
	if (filter) {
		pcap_t *dead = pcap_open_dead(DLT_EN10MB, (int)c->snaplen);

		if (!dead || pcap_compile(dead, &c->prog, filter, 1, PCAP_NETMASK_UNKNOWN)) {
			fprintf(stderr, PROG ": bad filter '%s': %s\n", filter,
				dead ? pcap_geterr(dead) : "pcap_open_dead failed");
			fprintf(stderr, "Try '" PROG " --help' for more information.\n");
			if (dead)
				pcap_close(dead);
			return 2;
		}
		pcap_close(dead);
		c->have_filter = 1;
	}
#endif
	status = unm_open(pname, &c->port, NULL);
	if (status) {
		const char *m = unm_errmsg();

		fprintf(stderr, PROG ": %s: %s\n", pname, m[0] ? m : unm_strerror(status));
		return 1;
	}
	c->out.snaplen = c->snaplen;
	c->out.ifname = pname;
	if (out_open(&c->out)) {
		fprintf(stderr, PROG ": %s\n", c->out.err);
		unm_close(c->port);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: the sleep returns -EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	status = run(c, pname, quiet);
	if (out_close(&c->out)) {
		fprintf(stderr, PROG ": %s\n", c->out.err);
		status = 1;
	}
	summary(c);
	unm_close(c->port);
#ifdef CONFIG_HAVE_PCAP
	if (c->have_filter)
		pcap_freecode(&c->prog);
#endif
	return status;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "write", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "snaplen", required_argument, NULL, 's' },
		{ "file-size", required_argument, NULL, 'C' },
		{ "file-count", required_argument, NULL, 'W' },
		{ "pcapng", no_argument, NULL, 'P' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct cap c; /* large reassembly buffer: not on the stack */
	const char *pname = NULL;
	char *filter = NULL;
	int quiet = 0, opt, status;

	c.snaplen = DEF_SNAPLEN;
	while ((opt = getopt_long(argc, argv, "+i:w:c:s:C:W:qh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'i': pname = optarg; break;
		case 'w': c.out.base = optarg; break;
		case 'c': c.count = parse_num(optarg, "bad count '%s'", UINT64_MAX); break;
		case 's':
			c.snaplen = (uint32_t)parse_num(optarg, "bad snaplen '%s'", DEF_SNAPLEN);
			if (c.snaplen == 0) /* tcpdump: 0 means the default */
				c.snaplen = DEF_SNAPLEN;
			break;
		case 'C': c.out.limit = parse_size(optarg); break;
		case 'W':
			c.out.max_files = (unsigned)parse_num(optarg, "bad file count '%s'", 1000000);
			if (!c.out.max_files)
				usage_error("bad file count '%s'", optarg);
			break;
		case 'P': c.out.pcapng = 1; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(usage_text, stdout); return 0;
		case 'V': printf(PROG " (libunm %s)\n", unm_version()); return 0;
		default:
			fprintf(stderr, "Try '" PROG " --help' for more information.\n");
			return 2;
		}
	}
	if (!pname)
		usage_error("%s", "missing -i PORT");
	if (!c.out.base)
		usage_error("%s", "missing -w FILE");
	if (c.out.max_files && !c.out.limit)
		usage_error("%s", "-W needs -C");
	if (optind < argc && !(filter = join_args(argc - optind, argv + optind))) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	status = capture(&c, pname, filter, quiet);
	free(filter);
	return status;
}
