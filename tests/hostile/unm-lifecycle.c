// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: lifecycle soak (run with no arguments: a short test of 100
 * cycles; bench/soak-lifecycle.sh runs 1000). Each cycle opens, loads
 * and SIGKILLs: a switch client (vale0:cN, killed mid-traffic, sometimes
 * mid-open), a pipe pair (both ends killed, the same name reused every
 * cycle), and an in-daemon port attached to the switch (null, or a tap
 * with --tap; attach, traffic, detach). Throughout, an honest pair A <-> B
 * on vale0 exchanges a windowed, sequence-checked stream that must keep
 * moving and lose nothing. Before and after: unmd's open fds
 * (/proc/PID/fd), VmRSS, and the port table (LIST) must come back to the
 * baseline (RSS within a bound). Then unmd is SIGKILLed under traffic: the
 * honest clients must see an error within 2 s (no hang, no crash) and
 * reopen against a new unmd on the same socket path.
 *
 *   unm-lifecycle [--cycles N] [--tap] [-j]
 * Threads: none; the honest pair and each victim are forked processes.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unm.h>
#include <unm/ctl.h>
#include "unm-internal.h"
#include "../lib/test.h"
#include "../lib/unmd.h"

struct shared {
	volatile int stop, ready, reopened, restart_phase;
	volatile uint64_t sent[2], recv[2], lost[2], corrupt[2], foreign;
	volatile int err, saw_error;
	volatile double err_latency;    /* s from unmd's death to the error */
	volatile double killed_at;
	char why[200];
};

static struct shared *S;
static char sock[108];
static unsigned cycles = 100;
static bool use_tap, json;

/* ---- unmd on a fixed path (restartable) ------------------------------------ */

/* The first start goes through the test library (it owns the path the
 * control helpers use); a restart reuses that path. */
static pid_t unmd_start(void)
{
	const char *bin = t_prog("unmd");
	pid_t pid;

	if (!sock[0]) {
		pid = t_unmd_start(NULL);
		snprintf(sock, sizeof(sock), "%s", t_unmd_sock());
		return pid;
	}
	pid = fork();
	if (pid == 0) {
		execl(bin, bin, "-f", "-s", sock, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		struct unm_ctl_port_info pi;

		if (t_list_ports("", &pi, 0) >= 0 && access(sock, F_OK) == 0)
			return pid;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	T_FAIL("unmd did not start on %s", sock);
}

static unsigned count_fds(pid_t pid)
{
	char path[64];
	unsigned n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if (!(d = opendir(path)))
		return 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 2;
}

static unsigned long rss_kb(pid_t pid)
{
	char path[64], line[256];
	unsigned long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lu", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* ---- the honest pair --------------------------------------------------------- */

static void hfail(const char *what, int rc)
{
	if (!S->err) {
		snprintf(S->why, sizeof(S->why), "%s: %s (%s)", what, strerror(-rc), unm_errmsg());
		S->err = 1;
	}
}

static int pair_open(struct unm_port **a, struct unm_port **b)
{
	int rc = unm_open("vale0:a", a, NULL);

	if (rc)
		return rc;
	rc = unm_open("vale0:b", b, NULL);
	if (rc)
		unm_close(*a);
	return rc;
}

/* Send within the window, receive, check. Returns 0 or the sync error. */
static int pair_step(struct unm_port *p[2], uint32_t seq[2], uint32_t expect[2], unsigned win)
{
	static uint8_t fb[2048];
	int moved = 0, rc;

	for (int d = 0; d < 2; d++) {
		struct unm_ring *tx = unm_ring_get(p[d], 1, 0);
		uint8_t dst[6];
		uint32_t i = tx->head;

		t_mac(dst, d ? 0xa : 0xb);
		while (seq[d] - expect[d] < win && i != tx->tail) {
			size_t len = 60 + (seq[d] * 13u) % 1000u;

			t_frame((uint8_t *)unm_buf(tx, tx->slot[i].buf_idx), len, dst,
				d ? 0xb : 0xa, seq[d]++);
			tx->slot[i].len = (uint16_t)len;
			tx->slot[i].flags = 0;
			i = unm_ring_next(tx, i);
			moved++;
		}
		unm_ring_advance(tx, i);
		if ((rc = unm_txsync(p[d], 0)) || (rc = unm_rxsync(p[d], 0)))
			return rc;
	}
	for (int d = 0; d < 2; d++) { /* port d receives direction 1 - d */
		struct unm_ring *rx = unm_ring_get(p[d], 0, 0);
		int dir = 1 - d;
		uint32_t i = rx->head;
		uint8_t src[6];

		t_mac(src, dir ? 0xb : 0xa);
		for (; i != rx->tail; i = unm_ring_next(rx, i), moved++) {
			struct unm_slot *s = &rx->slot[i];
			long q;

			if (s->len < 14 || (s->flags & UNM_NS_MOREFRAG) ||
			    memcmp(unm_buf(rx, s->buf_idx) + 6, src, 6)) {
				S->foreign++; /* victims' floods, or chain pieces */
				continue;
			}
			memcpy(fb, unm_buf(rx, s->buf_idx), s->len);
			q = t_frame_check(fb, s->len);
			S->recv[dir]++;
			if (q < 0 || (uint32_t)q < expect[dir]) {
				S->corrupt[dir]++;
			} else {
				S->lost[dir] += (uint32_t)q - expect[dir];
				expect[dir] = (uint32_t)q + 1;
			}
		}
		unm_ring_advance(rx, i);
	}
	S->sent[0] = seq[0];
	S->sent[1] = seq[1];
	/* unm_wait, not a sleep: a ring that would block is where a dead unmd
	 * is noticed (lib/vale.c) */
	if (!moved && (rc = unm_wait(p[0], UNM_WAIT_RX, 1)) < 0)
		return rc;
	return 0;
}

static void pair_main(void)
{
	struct unm_port *p[2];
	uint32_t seq[2] = { 0, 0 }, expect[2] = { 0, 0 };
	int rc;

	if ((rc = pair_open(&p[0], &p[1]))) {
		hfail("open the honest pair", rc);
		_exit(1);
	}
	S->ready = 1;
	while (!S->stop) {
		rc = pair_step(p, seq, expect, 256);
		if (!rc)
			continue;
		if (!S->restart_phase) {
			hfail("honest pair sync", rc);
			break;
		}
		/* unmd died: the error must come quickly, then reopen */
		S->err_latency = t_now() - S->killed_at;
		S->saw_error = rc;
		unm_close(p[0]);
		unm_close(p[1]);
		for (int i = 0; i < 500 && (rc = pair_open(&p[0], &p[1])); i++)
			usleep(10000);
		if (rc) {
			hfail("reopen after the unmd restart", rc);
			_exit(1);
		}
		/* frames in flight died with unmd: start a fresh stream */
		expect[0] = seq[0];
		expect[1] = seq[1];
		S->restart_phase = 0;
		S->reopened = 1;
	}
	for (double end = t_now() + 2; t_now() < end &&
	     (expect[0] != seq[0] || expect[1] != seq[1]);)
		pair_step(p, seq, expect, 0); /* drain: window 0 sends nothing */
	S->lost[0] += seq[0] - expect[0];
	S->lost[1] += seq[1] - expect[1];
	unm_close(p[0]);
	unm_close(p[1]);
	_exit(0);
}

/* ---- victims ------------------------------------------------------------------ */

/* A switch client: open, flood a little, signal, keep sending until killed. */
static void switch_victim(unsigned n, int ready_fd)
{
	static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	char name[64];
	struct unm_port *p;

	snprintf(name, sizeof(name), "vale0:c%u", n % 7);
	if (unm_open(name, &p, NULL))
		_exit(3);
	if (write(ready_fd, "r", 1) != 1)
		_exit(3);
	for (uint32_t seq = 0;; seq += 16) {
		t_blast(p, bc, 0x100 + n % 7, seq, 16, 60, 100);
		usleep(200);
	}
}

static void pipe_victim(const char *name, int ready_fd)
{
	struct unm_open_opts o = { .sz = sizeof(o), .flags = UNM_OPEN_NO_WAIT_PEER };
	struct unm_port *p;
	uint8_t dst[6] = { 2, 0, 0, 0, 0, 1 };

	if (unm_open(name, &p, &o))
		_exit(3);
	if (write(ready_fd, "r", 1) != 1)
		_exit(3);
	for (uint32_t seq = 0;; seq++) {
		uint8_t f[64];
		struct unm_ring *rx = unm_ring_get(p, 0, 0);

		t_frame(f, sizeof(f), dst, 1, seq);
		unm_inject(p, f, sizeof(f));
		unm_txsync(p, 0);
		unm_rxsync(p, 0);
		unm_ring_advance(rx, rx->tail);
		usleep(50);
	}
}

static pid_t spawn_victim(void (*fn)(unsigned, int), unsigned n, const char *pname,
			  bool wait_ready)
{
	int pfd[2];
	char c;
	pid_t pid;

	if (pipe(pfd) < 0)
		T_FAIL("pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		if (fn)
			fn(n, pfd[1]);
		pipe_victim(pname, pfd[1]);
	}
	close(pfd[1]);
	if (wait_ready && read(pfd[0], &c, 1) != 1) {
		close(pfd[0]);
		return -pid; /* died before it was ready */
	}
	close(pfd[0]);
	return pid;
}

static void kill_reap(pid_t pid)
{
	int st;

	if (pid < 0)
		pid = -pid;
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

/* One cycle of every kind. Returns false on a hard failure. */
static bool cycle(unsigned n, const char *pipename)
{
	char m[96], s[96], att[64];
	pid_t v, a, b;
	int rc;

	/* switch client: mostly killed mid-traffic; every 5th mid-open */
	v = spawn_victim(switch_victim, n, NULL, n % 5 != 0);
	if (n % 5 != 0)
		usleep(1000 + (n % 4) * 1000);
	kill_reap(v);
	if (v < 0) {
		printf("FAIL: switch victim %u could not open\n", n);
		return false;
	}
	/* pipe pair: same name every cycle, both ends killed */
	snprintf(m, sizeof(m), "%s{0", pipename);
	snprintf(s, sizeof(s), "%s}0", pipename);
	a = spawn_victim(NULL, n, m, true);
	b = spawn_victim(NULL, n, s, true);
	usleep(1000);
	kill_reap(a);
	kill_reap(b);
	if (a < 0 || b < 0) {
		printf("FAIL: pipe %s could not be reopened in cycle %u\n", pipename, n);
		return false;
	}
	/* in-daemon port: attach, carry the victims' floods, detach */
	if (use_tap)
		snprintf(att, sizeof(att), "tap:unmlc%d", (int)(getpid() % 10000));
	else
		snprintf(att, sizeof(att), "null");
	rc = t_ctl(UNM_CTL_ATTACH, "vale0", att, 0);
	if (rc) {
		printf("FAIL: attach %s: %s\n", att, unm_errmsg());
		return false;
	}
	usleep(500);
	rc = t_ctl(UNM_CTL_DETACH, "vale0", att, 0);
	if (rc) {
		printf("FAIL: detach %s: %s\n", att, unm_errmsg());
		return false;
	}
	return true;
}

static int port_names(char out[][80], int max)
{
	struct unm_ctl_port_info pi[64];
	int n = t_list_ports("vale0", pi, 64);

	for (int i = 0; i < n && i < max; i++)
		snprintf(out[i], 80, "%s", pi[i].name);
	return n;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "cycles", required_argument, NULL, 'c' },
		{ "tap", no_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char before[64][80], after[64][80], pipename[64];
	unsigned fd0, fd1, stalls = 0;
	unsigned long rss0, rss1, rss_mid;
	int n0, n1, c, fail = 0;
	pid_t unmd, pair;
	double t0, t_cycles;
	uint64_t last_recv;

	while ((c = getopt_long(argc, argv, "c:tjh", lo, NULL)) != -1) {
		switch (c) {
		case 'c': cycles = (unsigned)strtoul(optarg, NULL, 0); break;
		case 't': use_tap = true; break;
		case 'j': json = true; break;
		case 'h':
			printf("Usage: unm-lifecycle [--cycles N] [--tap] [--json]\n");
			return 0;
		default: fprintf(stderr, "try 'unm-lifecycle --help'\n"); return 2;
		}
	}
	if (argc == 1)
		t_watchdog(60);
	signal(SIGPIPE, SIG_IGN);
	S = t_shared(sizeof(*S));
	snprintf(pipename, sizeof(pipename), "%s", t_uniq("lcpipe"));
	unmd = unmd_start();
	pair = fork();
	if (pair == 0)
		pair_main();
	for (int i = 0; i < 500 && !S->ready && !S->err; i++)
		usleep(10000);
	if (!S->ready)
		T_FAIL("honest pair: %s", S->why);
	usleep(100000);
	fd0 = count_fds(unmd);
	rss0 = rss_kb(unmd);
	n0 = port_names(before, 64);
	t0 = t_now();
	last_recv = S->recv[0] + S->recv[1];
	for (unsigned i = 0; i < cycles && !S->err; i++) {
		if (!cycle(i, pipename)) {
			fail = 1;
			break;
		}
		if (i % 10 == 9) { /* the honest pair moved since the last check */
			uint64_t r = S->recv[0] + S->recv[1];

			stalls += r == last_recv;
			last_recv = r;
		}
		if (waitpid(unmd, NULL, WNOHANG) == unmd) {
			printf("FAIL: unmd died in cycle %u\n", i);
			return 1;
		}
	}
	t_cycles = t_now() - t0;
	rss_mid = rss_kb(unmd);
	/* unmd notices hang-ups asynchronously: give the table a moment */
	for (int i = 0; i < 200 && (n1 = port_names(after, 64)) != n0; i++)
		usleep(10000);
	usleep(50000);
	fd1 = count_fds(unmd);
	rss1 = rss_kb(unmd);
	n1 = port_names(after, 64);

	/* unmd killed under traffic, restarted on the same path */
	S->restart_phase = 1;
	S->killed_at = t_now();
	kill(unmd, SIGKILL);
	waitpid(unmd, NULL, 0);
	for (int i = 0; i < 300 && !S->saw_error && !S->err; i++)
		usleep(10000);
	unmd = unmd_start();
	for (int i = 0; i < 500 && !S->reopened && !S->err; i++)
		usleep(10000);
	last_recv = S->recv[0] + S->recv[1];
	usleep(200000);
	bool resumed = S->recv[0] + S->recv[1] > last_recv;

	S->stop = 1;
	{
		int st;

		for (int i = 0; i < 500 && waitpid(pair, &st, WNOHANG) != pair; i++)
			usleep(10000);
		kill(pair, SIGKILL);
		waitpid(pair, NULL, WNOHANG);
	}
	if (t_unmd_stop(unmd) != 0) {
		printf("FAIL: unmd did not stop cleanly (sanitizer report?)\n");
		fail = 1;
	}
	unlink(sock);

	if (fd1 != fd0 || n1 != n0) {
		printf("FAIL: unmd leaked: fds %u -> %u, ports %d -> %d\n", fd0, fd1, n0, n1);
		fail = 1;
	}
	if (rss1 > rss0 + 16384) {
		printf("FAIL: unmd RSS grew from %lu to %lu kB\n", rss0, rss1);
		fail = 1;
	}
	if (stalls) {
		printf("FAIL: the honest pair stalled in %u of %u ten-cycle windows\n", stalls,
		       cycles / 10);
		fail = 1;
	}
	if (S->err) {
		printf("FAIL: honest pair: %s\n", S->why);
		fail = 1;
	}
	if (S->lost[0] || S->lost[1] || S->corrupt[0] || S->corrupt[1]) {
		printf("FAIL: honest frames lost %llu/%llu corrupted %llu/%llu\n",
		       (unsigned long long)S->lost[0], (unsigned long long)S->lost[1],
		       (unsigned long long)S->corrupt[0], (unsigned long long)S->corrupt[1]);
		fail = 1;
	}
	if (!S->saw_error || S->err_latency > 2.0 || !S->reopened || !resumed) {
		printf("FAIL: unmd restart: error seen %d (%s) after %.3f s, reopened %d, resumed %d\n",
		       S->saw_error != 0, S->saw_error ? strerror(-S->saw_error) : "-",
		       S->err_latency, S->reopened, resumed);
		fail = 1;
	}
	if (json)
		printf("{\"cycles\":%u,\"seconds\":%.1f,\"fds_before\":%u,\"fds_after\":%u,"
		       "\"rss_kb_before\":%lu,\"rss_kb_peak_after_cycles\":%lu,\"rss_kb_after\":%lu,"
		       "\"ports_before\":%d,\"ports_after\":%d,\"honest_sent\":%llu,"
		       "\"honest_received\":%llu,\"honest_lost\":%llu,\"foreign\":%llu,"
		       "\"restart_error\":\"%s\",\"restart_error_s\":%.3f,\"reopened\":%d,"
		       "\"pass\":%s}\n", cycles, t_cycles, fd0, fd1, rss0, rss_mid, rss1, n0, n1,
		       (unsigned long long)(S->sent[0] + S->sent[1]),
		       (unsigned long long)(S->recv[0] + S->recv[1]),
		       (unsigned long long)(S->lost[0] + S->lost[1]),
		       (unsigned long long)S->foreign,
		       S->saw_error ? strerror(-S->saw_error) : "", S->err_latency, S->reopened,
		       fail ? "false" : "true");
	else
		printf("lifecycle: %u cycles (switch client, pipe pair, attached %s) in %.1f s\n"
		       "  unmd fds %u -> %u, VmRSS %lu -> %lu kB (%lu after the cycles), ports %d -> %d\n"
		       "  honest pair: sent %llu received %llu lost %llu corrupted %llu "
		       "(foreign %llu)\n"
		       "  unmd SIGKILL: clients saw %s after %.3f s, reopened %s, traffic %s\n"
		       "lifecycle: %s\n", cycles, use_tap ? "tap" : "null", t_cycles, fd0, fd1,
		       rss0, rss1, rss_mid, n0, n1,
		       (unsigned long long)(S->sent[0] + S->sent[1]),
		       (unsigned long long)(S->recv[0] + S->recv[1]),
		       (unsigned long long)(S->lost[0] + S->lost[1]),
		       (unsigned long long)(S->corrupt[0] + S->corrupt[1]),
		       (unsigned long long)S->foreign,
		       S->saw_error ? strerror(-S->saw_error) : "no error", S->err_latency,
		       S->reopened ? "yes" : "no", resumed ? "resumed" : "did not resume",
		       fail ? "FAIL" : "PASS");
	(void)before;
	(void)after;
	return fail;
}
