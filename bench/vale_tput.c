// SPDX-License-Identifier: BSD-2-Clause
/*
 * vale_tput - VALE port-to-port throughput through unmd.
 *
 *   vale_tput [-t SECONDS] [-l LEN] [-s SLOTS] [-p PORTS] [-f] [-N] [-u UNMD]
 *             [-S SOCKET] [-L] [-v]
 *
 * Starts its own unmd (UNMD, default: the unmd next to this program's
 * build directory) on a private socket, forks a receiver on vale0:rx,
 * sends LEN-byte frames (default 64, i.e. 60 + FCS the NIC would add)
 * from vale0:tx for SECONDS (default 2), and prints the rates measured
 * over the measured interval. Buffers are written once at start (as
 * pkt-gen does), so the sender's per-frame cost is setting a slot length.
 * Idle sides sleep (unm_wait), they do not spin: unmd, the sender and the
 * receiver share the machine's CPUs. With -S, uses a running unmd. -v
 * adds the sides' frames, syncs, kicks (to unmd), wake-ups (irqs from unmd) and
 * CPU seconds (user + system, whole process).
 * -p PORTS attaches PORTS - 2 more ports to the switch (small rings, held
 * open and idle by the sender process) to measure what idle ports cost.
 * -f sends to an unknown MAC (flooded: the path a broadcast takes). -N
 * replaces the receiver process by unmd's in-daemon null port (unm-ctl
 * attach vale_bench null, next to UNMD): the receiving port is then
 * driven in-process instead of through a CSB, and the rate is what the
 * sender handed over (null completes every frame, it never drops); use it
 * with -f and without -p. -L puts the switch in lossless mode
 * (backpressure: the sender waits for the receiver instead of the switch
 * dropping, as memif's shared ring does).
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <unm.h>

struct shared {
	volatile int ready, stop;
	volatile uint64_t rx;
	struct unm_port_stats rst; /* receiver's, written before it exits */
	double rcpu;               /* receiver's CPU seconds (user + system) */
};

/* CPU seconds (user + system) this process used so far. */
static double cpu_secs(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static pid_t unmd_pid; /* the unmd we started: killed on any exit of ours */

static void stop_unmd(void)
{
	if (unmd_pid > 0 && getpid() != unmd_pid) {
		kill(unmd_pid, SIGTERM);
		waitpid(unmd_pid, NULL, 0);
		unmd_pid = 0;
	}
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "vale_tput: %s: %s (%s)\n", what, strerror(-rc), unm_errmsg());
	exit(1);
}

static void fill(struct unm_ring *r, unsigned len, const uint8_t dst[6], uint8_t src)
{
	for (uint32_t i = 0; i < r->num_slots; i++) {
		uint8_t *b = (uint8_t *)unm_buf(r, r->slot[i].buf_idx);

		memset(b, 0, len);
		memcpy(b, dst, 6);
		memcpy(b + 6, (uint8_t[6]){ 2, 0, 0, 0, 0, src }, 6);
		b[12] = 0x88, b[13] = 0xb5;
		r->slot[i].len = (uint16_t)len;
		r->slot[i].flags = 0;
	}
}

static __attribute__((noinline)) int receiver(struct shared *sh, const char *name)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct unm_port *p;
	struct unm_ring *r;
	int rc = unm_open(name, &p, NULL);
	uint64_t n = 0;

	if (rc)
		die(name, rc);
	r = unm_ring_get(p, 0, 0);
	fill(unm_ring_get(p, 1, 0), 60, bcast, 2);
	{ /* announce our MAC: one broadcast */
		struct unm_ring *t = unm_ring_get(p, 1, 0);

		unm_ring_advance(t, unm_ring_next(t, t->head));
		unm_txsync(p, 0);
	}
	sh->ready = 1;
	while (!sh->stop) {
		uint32_t k = unm_ring_space(r);

		if (k) {
			n += k;
			unm_ring_advance(r, r->tail);
			sh->rx = n;
			unm_rxsync(p, 0);
			continue;
		}
		rc = unm_wait(p, UNM_WAIT_RX, 100);
		if (rc < 0)
			die("receiver wait", rc);
	}
	sh->rst.sz = sizeof(sh->rst);
	unm_port_stats(p, &sh->rst);
	sh->rcpu = cpu_secs();
	unm_close(p);
	return 0;
}

/* The sending loop (a function of its own so that profilers can tell the
 * sender's per-frame cost from its set-up): frames sent until SECS after T0. */
static __attribute__((noinline)) uint64_t sender(struct unm_port *p, struct unm_ring *t, double t0,
						  double secs)
{
	uint64_t tx = 0;
	int rc;

	for (unsigned iter = 0;; iter++) {
		uint32_t k = unm_ring_space(t);

		if (k) {
			uint32_t i = t->head + k;

			if (i >= t->num_slots)
				i -= t->num_slots;
			unm_ring_advance(t, i);
			tx += k;
		}
		rc = unm_txsync(p, 0);
		if (rc < 0)
			die("txsync", rc);
		if (unm_ring_empty(t) && (rc = unm_wait(p, UNM_WAIT_TX, 100)) < 0)
			die("wait", rc);
		if ((iter & 63) == 0 && now() - t0 >= secs)
			break;
	}
	return tx;
}

static pid_t start_unmd(const char *bin, const char *sock)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl(bin, bin, "-f", "-s", sock, (char *)NULL);
		_exit(127);
	}
	setenv(UNM_SOCKET_ENV, sock, 1);
	for (int i = 0; i < 300; i++) {
		struct unm_port *p;

		if (unm_open("vale_probe:x", &p, NULL) == 0) {
			unm_close(p);
			return pid;
		}
		usleep(10000);
	}
	fprintf(stderr, "vale_tput: unmd (%s) did not start\n", bin);
	kill(pid, SIGKILL);
	exit(1);
}

int main(int argc, char **argv)
{
	double secs = 2, t0, t1;
	unsigned len = 60, slots = 1024, nports = 2;
	struct unm_port **idle = NULL;
	char unmd_bin[1024], dir[1024], sock[108], name[128];
	const char *ext_sock = NULL;
	struct shared *sh;
	struct unm_port *p;
	struct unm_ring *t;
	uint64_t tx = 0, rx0;
	pid_t rxp;
	int c, rc, verbose = 0, flood = 0, null_rx = 0, lossless = 0;

	snprintf(dir, sizeof(dir), "%s", argv[0]);
	snprintf(unmd_bin, sizeof(unmd_bin), "%s/../unmd", dirname(dir));
	while ((c = getopt(argc, argv, "t:l:s:p:fNLu:S:vh")) != -1) {
		switch (c) {
		case 't': secs = atof(optarg); break;
		case 'l': len = (unsigned)atoi(optarg); break;
		case 's': slots = (unsigned)atoi(optarg); break;
		case 'p': nports = (unsigned)atoi(optarg); break;
		case 'u': snprintf(unmd_bin, sizeof(unmd_bin), "%s", optarg); break;
		case 'S': ext_sock = optarg; break;
		case 'v': verbose = 1; break;
		case 'f': flood = 1; break;
		case 'N': null_rx = 1; break;
		case 'L': lossless = 1; break;
		case 'h':
			printf("usage: vale_tput [-t SECONDS] [-l LEN] [-s SLOTS] [-p PORTS] [-f] [-N] [-u UNMD] "
			       "[-S SOCKET] [-L] [-v]\n");
			return 0;
		default: return 2;
		}
	}
	if (len < 60 || len > 2048 || secs <= 0 || nports < 2 || nports > 254) {
		fprintf(stderr, "vale_tput: LEN 60..2048, SECONDS > 0, PORTS 2..254\n"
			"try 'vale_tput -h'\n");
		return 2;
	}
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ext_sock) {
		setenv(UNM_SOCKET_ENV, ext_sock, 1);
	} else {
		snprintf(sock, sizeof(sock), "/tmp/vale_tput-%d.sock", (int)getpid());
		unmd_pid = start_unmd(unmd_bin, sock);
		atexit(stop_unmd);
	}
	idle = calloc(nports, sizeof(*idle));
	for (unsigned i = 2; i < nports; i++) {
		snprintf(name, sizeof(name), "vale_bench:idle%u@conf:slots=64,bufsize=256", i);
		if ((rc = unm_open(name, &idle[i], NULL)))
			die(name, rc);
	}
	if (null_rx) {
		char cmd[1400];

		snprintf(dir, sizeof(dir), "%s", unmd_bin);
		snprintf(cmd, sizeof(cmd), "'%s/unm-ctl' -s '%s' attach vale_bench null",
			 dirname(dir), getenv(UNM_SOCKET_ENV));
		if (system(cmd) != 0) {
			fprintf(stderr, "vale_tput: %s failed\n", cmd);
			exit(1);
		}
		rxp = 0;
		sh->ready = 1;
	} else {
		snprintf(name, sizeof(name), "vale_bench:rx@conf:slots=%u", slots);
		if ((rxp = fork()) == 0)
			_exit(receiver(sh, name));
	}
	snprintf(name, sizeof(name), "vale_bench:tx@conf:slots=%u", slots);
	if ((rc = unm_open(name, &p, NULL)))
		die(name, rc);
	t = unm_ring_get(p, 1, 0);
	fill(t, len, (uint8_t[6]){ 2, 0, 0, 0, 0, flood ? 0x99 : 2 }, 1);
	while (!sh->ready)
		usleep(1000);
	if (lossless) {
		char cmd[1400];

		snprintf(dir, sizeof(dir), "%s", unmd_bin);
		snprintf(cmd, sizeof(cmd), "'%s/unm-ctl' -s '%s' switch set vale_bench lossless on",
			 dirname(dir), getenv(UNM_SOCKET_ENV));
		if (system(cmd) != 0) {
			fprintf(stderr, "vale_tput: %s failed\n", cmd);
			exit(1);
		}
	}
	usleep(100000); /* the announce frame has been learned */
	rx0 = sh->rx;
	t0 = now();
	tx = sender(p, t, t0, secs);
	t1 = now();
	usleep(50000);
	{
		double dt = t1 - t0;
		uint64_t rx = null_rx ? tx : sh->rx - rx0;

		printf("vale_tput: %u ports, %u-byte frames, %.2f s: tx %.2f Mpps, rx %.2f Mpps (%.2f Gbit/s), "
		       "lost %.2f%% rate=%.2f\n", nports, len + 4, dt, tx / dt / 1e6, rx / dt / 1e6,
		       rx * (len + 4) * 8 / dt / 1e9, tx ? 100.0 * (double)(tx - rx) / tx : 0, rx / dt / 1e6);
	}
	sh->stop = 1;
	if (rxp > 0)
		waitpid(rxp, NULL, 0);
	if (verbose) {
		struct unm_port_stats st = { .sz = sizeof(st) };

		unm_port_stats(p, &st);
		printf("sender: %lu frames, %lu syncs, %lu kicks, %lu wake-ups, %.3f s CPU; receiver: "
		       "%lu frames, %lu syncs, %lu kicks, %lu wake-ups, %.3f s CPU\n",
		       (unsigned long)st.tx_frames, (unsigned long)st.tx_syncs,
		       (unsigned long)st.kicks, (unsigned long)st.wakeups, cpu_secs(),
		       (unsigned long)sh->rst.rx_frames, (unsigned long)sh->rst.rx_syncs,
		       (unsigned long)sh->rst.kicks, (unsigned long)sh->rst.wakeups, sh->rcpu);
	}
	unm_close(p);
	for (unsigned i = 2; i < nports; i++)
		unm_close(idle[i]);
	free(idle);
	stop_unmd();
	return 0;
}
