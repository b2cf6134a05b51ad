// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: unm-pktgen -P replays a capture exactly. This test writes
 * captures itself (pcap with microsecond stamps in host order, pcap with
 * nanosecond stamps in swapped order, pcapng with nanosecond EPBs and an
 * SPB), holding frames of 42 to 9000 bytes (MOREFRAG chains past one
 * 2048-byte buffer) and one record cut short at capture, replays each into
 * a pipe whose other end this test reads, and compares every frame byte
 * for byte and in order; -n loops over the file; three frames captured
 * 200 ms apart take at least 350 ms with the default (original) timing,
 * and -R paces them instead. Skips when pipes are not built in.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <unm.h>
#include "../lib/test.h"

#define NF      24
#define MAXF    9000

struct frame {
	uint8_t b[MAXF];
	uint32_t len;
	uint64_t ts_ns;
};

static struct frame fr[NF];
static char dir[64], pg[512];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void make_frames(unsigned n, uint64_t gap_ns)
{
	static const uint32_t lens[] = { 42, 60, 61, 128, 1514, 2047, 2048, 2049, 3000, 9000 };
	uint64_t x = 0x1234567;

	for (unsigned i = 0; i < n; i++) {
		fr[i].len = lens[i % (sizeof(lens) / sizeof(lens[0]))];
		fr[i].ts_ns = 1700000000ull * 1000000000ull + i * gap_ns + (i % 3) * 1000;
		for (uint32_t k = 0; k < fr[i].len; k++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			fr[i].b[k] = (uint8_t)(x >> 56);
		}
		fr[i].b[0] = (uint8_t)i; /* tell frames apart at a glance */
	}
}

static void put32(FILE *f, uint32_t v, bool swap)
{
	if (swap)
		v = __builtin_bswap32(v);
	T_ASSERT(fwrite(&v, 4, 1, f) == 1);
}

static void put16(FILE *f, uint16_t v, bool swap)
{
	if (swap)
		v = __builtin_bswap16(v);
	T_ASSERT(fwrite(&v, 2, 1, f) == 1);
}

/* Classic pcap; record CUT (or -1) claims 100 more bytes than captured. */
static void write_pcap(const char *path, unsigned n, bool nsec, bool swap, int cut)
{
	FILE *f = fopen(path, "wb");

	T_ASSERT(f);
	put32(f, nsec ? 0xa1b23c4du : 0xa1b2c3d4u, swap);
	put16(f, 2, swap);
	put16(f, 4, swap);
	put32(f, 0, swap);
	put32(f, 0, swap);
	put32(f, 65535, swap);
	put32(f, 1, swap);
	for (unsigned i = 0; i < n; i++) {
		uint64_t s = fr[i].ts_ns / 1000000000ull, frac = fr[i].ts_ns % 1000000000ull;

		put32(f, (uint32_t)s, swap);
		put32(f, (uint32_t)(nsec ? frac : frac / 1000), swap);
		put32(f, fr[i].len, swap);
		put32(f, fr[i].len + ((int)i == cut ? 100 : 0), swap);
		T_ASSERT(fwrite(fr[i].b, 1, fr[i].len, f) == fr[i].len);
	}
	fclose(f);
}

static void ng_block(FILE *f, uint32_t type, const void *body, uint32_t blen, const void *data,
		     uint32_t dlen)
{
	uint32_t pad = (4 - dlen % 4) % 4, total = 12 + blen + dlen + pad, zero = 0;

	put32(f, type, false);
	put32(f, total, false);
	T_ASSERT(fwrite(body, 1, blen, f) == blen);
	if (dlen)
		T_ASSERT(fwrite(data, 1, dlen, f) == dlen);
	if (pad)
		T_ASSERT(fwrite(&zero, 1, pad, f) == pad);
	put32(f, total, false);
}

/* pcapng: SHB, IDB with if_tsresol = 9 (ns), EPBs; frame 1 as an SPB. */
static void write_pcapng(const char *path, unsigned n)
{
	FILE *f = fopen(path, "wb");
	uint8_t shb[16] = { 0 }, idb[16] = { 0 };
	uint32_t bom = 0x1a2b3c4d, snap = 65535;
	int64_t seclen = -1;

	T_ASSERT(f);
	memcpy(shb, &bom, 4);
	shb[4] = 1;                        /* major 1, minor 0 */
	memcpy(shb + 8, &seclen, 8);
	ng_block(f, 0x0a0d0d0au, shb, sizeof(shb), NULL, 0);
	idb[0] = 1;                        /* linktype 1, reserved */
	memcpy(idb + 4, &snap, 4);
	idb[8] = 9, idb[10] = 1, idb[12] = 9; /* option if_tsresol len 1: 10^-9 */
	ng_block(f, 1, idb, sizeof(idb), NULL, 0);
	for (unsigned i = 0; i < n; i++) {
		if (i == 1) {
			uint32_t orig = fr[i].len;

			ng_block(f, 3, &orig, 4, fr[i].b, fr[i].len);
			fr[i].ts_ns = fr[0].ts_ns; /* an SPB has no stamp: the previous one */
			continue;
		}
		uint32_t epb[5] = { 0, (uint32_t)(fr[i].ts_ns >> 32), (uint32_t)fr[i].ts_ns,
				    fr[i].len, fr[i].len };

		ng_block(f, 6, epb, sizeof(epb), fr[i].b, fr[i].len);
	}
	fclose(f);
}

static pid_t spawn(char *const argv[])
{
	pid_t pid = fork();

	T_ASSERT(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0 && !getenv("PG_VERBOSE"))
			dup2(fd, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Receive COUNT frames from the pipe end this test owns and compare frame
 * k with fr[k % n]; arrival times of the first three go in at[]. */
static void receive(struct unm_port *p, unsigned count, unsigned n, uint64_t *at, pid_t child)
{
	struct unm_ring *r = unm_ring_get(p, 0, 0);
	static uint8_t buf[MAXF + 2048];
	uint64_t deadline = now_ns() + 20000000000ull;
	unsigned got = 0, blen = 0;

	while (got < count) {
		int rc = unm_wait(p, UNM_WAIT_RX, 100);

		T_ASSERT(now_ns() < deadline);
		if (rc < 0 && rc != -EPIPE)
			T_FAIL("unm_wait: %s", unm_strerror(rc));
		for (uint32_t i = r->head; i != r->tail; i = unm_ring_next(r, i)) {
			const struct unm_slot *s = &r->slot[i];

			T_ASSERT(blen + s->len <= sizeof(buf));
			memcpy(buf + blen, unm_buf(r, s->buf_idx), s->len);
			blen += s->len;
			if (s->flags & UNM_NS_MOREFRAG)
				continue;
			T_ASSERT(got < count);
			if (got < 3 && at)
				at[got] = now_ns();
			const struct frame *e = &fr[got % n];

			if (blen != e->len || memcmp(buf, e->b, blen))
				T_FAIL("frame %u: %u bytes, expected %u%s", got, blen, e->len,
				       blen == e->len ? " (contents differ)" : "");
			got++;
			blen = 0;
		}
		unm_ring_advance(r, r->tail);
		rc = unm_rxsync(p, 0);
		if (rc == -EPIPE && r->head == r->tail && got < count)
			T_FAIL("sender left after %u of %u frames", got, count);
	}
	int st;

	T_ASSERT(waitpid(child, &st, 0) == child);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		T_FAIL("unm-pktgen exit status %d", st);
}

/* Replay FILE (extra args in EXTRA) into a fresh pipe; expect COUNT frames. */
static void replay(const char *file, unsigned count, unsigned n, const char *const *extra,
		   uint64_t *at)
{
	static unsigned seq;
	char name[64], peer[64];
	char *argv[24];
	int k = 0, rc;
	struct unm_port *p;

	snprintf(name, sizeof(name), "pgpcap%d_%u}0", (int)getpid(), seq);
	snprintf(peer, sizeof(peer), "pgpcap%d_%u{0", (int)getpid(), seq++);
	rc = unm_open(name, &p, NULL);
	if (rc == -EPROTONOSUPPORT)
		T_SKIP("pipes are not built into this libunm");
	T_ASSERT_EQ(rc, 0);
	argv[k++] = pg;
	argv[k++] = (char *)"-f";
	argv[k++] = (char *)"tx";
	argv[k++] = (char *)"-i";
	argv[k++] = peer;
	argv[k++] = (char *)"-P";
	argv[k++] = (char *)file;
	argv[k++] = (char *)"-T";
	argv[k++] = (char *)"0";
	for (; extra && *extra; extra++)
		argv[k++] = (char *)*extra;
	argv[k] = NULL;
	receive(p, count, n, at, spawn(argv));
	unm_close(p);
}

static void cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (dir[0] && system(cmd)) {
		/* best effort */
	}
}

int main(void)
{
	const char *b = getenv("UNM_BUILD");
	char f1[128], f2[128], f3[128], f4[128];
	uint64_t at[3];

	t_watchdog(50);
	snprintf(pg, sizeof(pg), "%s/unm-pktgen", b ? b : "build");
	if (access(pg, X_OK))
		T_FAIL("%s not built", pg);
	snprintf(dir, sizeof(dir), "/tmp/pktgen-pcap.XXXXXX");
	T_ASSERT(mkdtemp(dir));
	atexit(cleanup);
	snprintf(f1, sizeof(f1), "%s/us.pcap", dir);
	snprintf(f2, sizeof(f2), "%s/ns-swapped.pcap", dir);
	snprintf(f3, sizeof(f3), "%s/ng.pcapng", dir);
	snprintf(f4, sizeof(f4), "%s/slow.pcap", dir);

	/* exact bytes, three formats, fast */
	static const char *const fast[] = { "--replay-timing=fast", NULL };

	make_frames(NF, 1000);
	write_pcap(f1, NF, false, false, 5);
	replay(f1, NF, NF, fast, NULL);
	write_pcap(f2, NF, true, true, -1);
	replay(f2, NF, NF, fast, NULL);
	write_pcapng(f3, NF);
	replay(f3, NF, NF, fast, NULL);
	printf("ok: %u frames of 42..9000 bytes, pcap us/ns/swapped and pcapng, byte for byte\n", NF);

	/* -n loops the file */
	static const char *const loop[] = { "--replay-timing=fast", "-n", "60", NULL };

	replay(f1, 60, NF, loop, NULL);
	printf("ok: -n 60 loops a %u-frame file\n", NF);

	/* original timing: 3 frames 200 ms apart */
	make_frames(3, 200000000ull);
	write_pcap(f4, 3, false, false, -1);
	replay(f4, 3, 3, NULL, at);
	printf("ok: original timing: %.0f ms from first to third frame\n", (at[2] - at[0]) / 1e6);
	T_ASSERT(at[2] - at[0] >= 350000000ull);
	T_ASSERT(at[2] - at[0] < 3000000000ull);

	/* -R 10: 100 ms apart whatever the stamps */
	static const char *const rate[] = { "-R", "10", NULL };

	make_frames(3, 1000);
	write_pcap(f4, 3, true, false, -1);
	replay(f4, 3, 3, rate, at);
	printf("ok: -R 10: %.0f ms from first to third frame\n", (at[2] - at[0]) / 1e6);
	T_ASSERT(at[2] - at[0] >= 150000000ull);
	T_ASSERT(at[2] - at[0] < 3000000000ull);
	return 0;
}
