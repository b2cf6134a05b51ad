// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: hostile input to unm-stack (lwIP). A private unmd; the
 * stack serves HTTP on vale0. A hostile port on the same switch sends
 * malformed frames (garbage, truncated and inconsistent IPv4/IPv6/ARP/TCP/
 * UDP/ICMP headers, bogus fragments, runts, oversize frames), then floods
 * SYNs from spoofed sources (outside and inside the subnet) while an
 * honest unm-stack client on a third port fetches a 4 MiB file: the fetch
 * must complete byte for byte, the stack must still be running, counted
 * the bad frames, and exit 0 on SIGTERM. SKIP if unm-stack was not built
 * (no lwIP).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <unm.h>
#include "../lib/test.h"
#include "../lib/unmd.h"
#include "../lib/pkt.h"

#define FILE_SIZE (4u << 20)

static const uint8_t srv_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x60, 0x01 };
static const uint8_t srv_ip[4] = { 198, 18, 60, 1 };
static char dir[64];

static pid_t spawn(const char *const argv[], const char *log)
{
	pid_t pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static int log_has(const char *log, const char *what)
{
	char buf[8192];
	int fd = open(log, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return strstr(buf, what) != NULL;
}

static void eth(uint8_t *f, const uint8_t *dst, uint32_t *rs, unsigned type)
{
	memcpy(f, dst, 6);
	f[6] = 0x02;
	t_fill(f + 7, 5, rs);
	t_be16(f + 12, type);
}

/* One malformed frame of kind K into F; returns its length. */
static size_t bad_frame(uint8_t *f, unsigned k, uint32_t *rs)
{
	uint32_t r = t_rand(rs);
	size_t len = 14 + r % 1500;
	uint8_t *ip = f + 14;

	t_fill(f, 1514, rs);
	switch (k % 12) {
	case 0: /* garbage with a real ethertype */
		eth(f, srv_mac, rs, (unsigned[]){ 0x0800, 0x86dd, 0x0806, 0x8100 }[r % 4]);
		return len;
	case 1: /* runt (a slot of 0 bytes is no frame: 1 at least) */
		eth(f, srv_mac, rs, 0x0800);
		return 1 + r % 19;
	case 2: /* IPv4 ihl < 5 or beyond the frame */
		eth(f, srv_mac, rs, 0x0800);
		ip[0] = (uint8_t)(0x40 | (r & 1 ? r % 5 : 15));
		memcpy(ip + 16, srv_ip, 4);
		return 14 + 20 + r % 20;
	case 3: /* tot_len larger than the frame / smaller than the header */
		eth(f, srv_mac, rs, 0x0800);
		ip[0] = 0x45;
		t_be16(ip + 2, r & 1 ? 1500 : 10);
		ip[9] = 6;
		memcpy(ip + 16, srv_ip, 4);
		t_be16(ip + 10, (uint16_t)~t_fold(t_sum(ip, 20, 0)) ^ (uint16_t)(r & 2 ? 0 : 0xbeef));
		return 14 + 40;
	default: {
		struct tpkt t = { .ttl = 64, .win = 1000, .sport = (uint16_t)r, .dport = 80 };
		uint8_t pay[1400];
		t_fill(pay, sizeof(pay), rs);
		t.ipv6 = k % 12 >= 9;
		t.udp = k % 12 == 6;
		if (t.ipv6) {
			t.src[0] = 0xfd;
			t.dst[0] = 0xfd;
			t_fill(t.src + 1, 15, rs);
			t.dst[15] = 1;
		} else {
			t.src[0] = 198, t.src[1] = 18, t.src[2] = 60, t.src[3] = (uint8_t)(100 + r % 100);
			memcpy(t.dst, srv_ip, 4);
		}
		t.flags = (uint8_t)t_rand(rs);
		t.seq = t_rand(rs);
		t.tcp_opts = (r >> 8) % 11 * 4;
		size_t n = t_build(&t, pay, (r >> 4) % 1400, f, T_CSUM_FULL);
		memcpy(f, srv_mac, 6);
		uint8_t *l4 = f + t_l4_off(&t);
		switch (k % 12) {
		case 4: /* TCP data offset below 5 or past the segment, checksum fixed later */
			l4[12] = (uint8_t)((r & 1 ? 2 : 15) << 4);
			break;
		case 5: /* fragments at random offsets, MF set or not */
			if (!t.ipv6) {
				t_be16(ip + 6, (uint16_t)((r & 0x2000) | (t_rand(rs) & 0x1fff)));
				ip[10] = ip[11] = 0;
				t_be16(ip + 10, (uint16_t)~t_fold(t_sum(ip, 20, 0)));
			}
			break;
		case 6: /* UDP length lying */
			t_be16(l4 + 4, (uint16_t)t_rand(rs));
			break;
		case 7: /* ICMP echo with a random body and type/code */
			ip[9] = 1;
			ip[10] = ip[11] = 0;
			t_be16(ip + 10, (uint16_t)~t_fold(t_sum(ip, 20, 0)));
			l4[0] = (uint8_t)(r & 1 ? 8 : t_rand(rs));
			break;
		case 8: /* oversize: longer than the MTU */
			return 1514 + r % 500;
		case 9: /* IPv6 payload length past the frame */
			t_be16(ip + 4, 60000);
			break;
		case 10: /* IPv6 extension header chain of garbage */
			ip[6] = (uint8_t[]){ 0, 43, 44, 60, 58 }[r % 5];
			break;
		default: /* checksum wrong */
			l4[16] ^= 0x55;
			break;
		}
		return n;
	}
	}
}

/* Queue one frame, syncing every 32 (and when the ring is full). */
static int send_batched(struct unm_port *p, const void *buf, size_t len)
{
	static unsigned queued;
	for (int tries = 0; tries < 50; tries++) {
		int rc = unm_inject(p, buf, len);
		if (rc < 0)
			return rc;
		if (rc > 0) {
			if (++queued % 32 == 0)
				unm_txsync(p, UNM_RING_ALL);
			return 0;
		}
		rc = unm_wait(p, UNM_WAIT_TX, 20);
		if (rc < 0)
			return rc;
	}
	return -ETIMEDOUT;
}

/* Flood SYNs to port 80 until killed. */
static void flooder(struct unm_port *p)
{
	uint32_t rs = (uint32_t)getpid();
	uint8_t f[128];
	for (unsigned i = 0;; i++) {
		struct tpkt t = { .ttl = 64, .win = 65535, .flags = 0x02, .dport = 80 };
		uint32_t r = t_rand(&rs);
		t.sport = (uint16_t)(1024 + r % 60000);
		t.seq = t_rand(&rs);
		if (i % 8 == 0) { /* inside the subnet: SYN-ACKs then need ARP */
			t.src[0] = 198, t.src[1] = 18, t.src[2] = 60, t.src[3] = (uint8_t)(10 + r % 200);
		} else {
			t.src[0] = 10;
			t_fill(t.src + 1, 3, &rs);
		}
		memcpy(t.dst, srv_ip, 4);
		size_t n = t_build(&t, NULL, 0, f, T_CSUM_FULL);
		memcpy(f, srv_mac, 6);
		f[6] = 0x02;
		t_fill(f + 7, 5, &rs);
		if (send_batched(p, f, n < 60 ? 60 : n) < 0)
			_exit(1);
		if (i % 4096 == 4095) { /* about a hundred thousand SYNs a second at most */
			struct timespec ts = { 0, 30 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
}

int main(void)
{
	t_watchdog(170);
	const char *stack = t_prog("unm-stack");
	if (access(stack, X_OK))
		T_SKIP("unm-stack not built: ./configure found no lwIP (apt-get install liblwip-dev)");
	pid_t unmd = t_unmd_start(NULL);

	snprintf(dir, sizeof(dir), "/tmp/unm-stackh.XXXXXX");
	T_ASSERT(mkdtemp(dir));
	char file[128], out[128], slog[128], clog[128];
	snprintf(file, sizeof(file), "%s/f.bin", dir);
	snprintf(out, sizeof(out), "%s/out.bin", dir);
	snprintf(slog, sizeof(slog), "%s/srv.log", dir);
	snprintf(clog, sizeof(clog), "%s/cli.log", dir);
	uint8_t *data = malloc(FILE_SIZE);
	T_ASSERT(data);
	uint32_t rs = 12345;
	t_fill(data, FILE_SIZE, &rs);
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	T_ASSERT(fd >= 0 && write(fd, data, FILE_SIZE) == FILE_SIZE);
	close(fd);

	char srv_port[64], evil_port[64], good_port[64];
	snprintf(srv_port, sizeof(srv_port), "vale0:%s", t_uniq("hs"));
	snprintf(evil_port, sizeof(evil_port), "vale0:%s", t_uniq("he"));
	snprintf(good_port, sizeof(good_port), "vale0:%s", t_uniq("hg"));
	const char *sargv[] = { stack, "-v", "-i", srv_port, "-a", "198.18.60.1/24",
				"-6", "fd00::1/64", "-m", "02:00:00:00:60:01", "--http", dir, NULL };
	pid_t srv = spawn(sargv, slog);
	for (int i = 0; i < 500 && !log_has(slog, "ready"); i++)
		usleep(20000);
	if (!log_has(slog, "ready"))
		T_FAIL("unm-stack did not start");

	struct unm_port *evil = t_open(evil_port);
	T_ASSERT(evil);
	uint8_t f[2100];
	unsigned sent = 0;
	for (unsigned k = 0; k < 30000; k++) {
		size_t n = bad_frame(f, k, &rs);
		if (send_batched(evil, f, n) == 0)
			sent++;
		if (k % 2000 == 1999) /* let the stack keep up (drops would hide nothing, but count less) */
			usleep(5000);
	}
	unm_txsync(evil, UNM_RING_ALL);
	printf("malformed frames sent: %u\n", sent);
	usleep(300000);
	int st;
	if (waitpid(srv, &st, WNOHANG) != 0)
		T_FAIL("unm-stack died under malformed frames (status 0x%x)", st);

	pid_t fl = fork();
	T_ASSERT(fl >= 0);
	if (fl == 0)
		flooder(evil);
	usleep(300000); /* the flood is running */

	const char *cargv[] = { stack, "-i", good_port, "-a", "198.18.60.2/24", "-t", "120",
				"--connect", "http://198.18.60.1/f.bin", "-o", out, NULL };
	double t0 = t_now();
	pid_t cli = spawn(cargv, clog);
	int cst;
	T_ASSERT(waitpid(cli, &cst, 0) == cli);
	double dt = t_now() - t0;
	kill(fl, SIGKILL);
	waitpid(fl, NULL, 0);
	if (!WIFEXITED(cst) || WEXITSTATUS(cst) != 0) {
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "tail -n 3 %s %s", clog, slog);
		if (system(cmd) < 0)
			perror("system");
		T_FAIL("honest fetch during the SYN flood failed (status 0x%x)", cst);
	}
	printf("honest 4 MiB fetch during the SYN flood: %.2f s\n", dt);
	fd = open(out, O_RDONLY);
	T_ASSERT(fd >= 0);
	uint8_t *got = malloc(FILE_SIZE + 1);
	T_ASSERT(got);
	ssize_t n = 0, r;
	while ((r = read(fd, got + n, FILE_SIZE + 1 - (size_t)n)) > 0)
		n += r;
	close(fd);
	T_ASSERT_EQ(n, FILE_SIZE);
	T_ASSERT(memcmp(got, data, FILE_SIZE) == 0);
	if (waitpid(srv, &st, WNOHANG) != 0)
		T_FAIL("unm-stack died during the SYN flood (status 0x%x)", st);

	kill(srv, SIGTERM);
	T_ASSERT(waitpid(srv, &st, 0) == srv);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "grep -h 'rx_bad\\|connections\\|embryonic' %s", slog);
	if (system(cmd) < 0)
		perror("system");
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	T_ASSERT(log_has(slog, "rx_bad ") && !log_has(slog, "rx_bad 0 "));
	unm_close(evil);
	t_unmd_stop(unmd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) < 0)
		perror("system");
	free(data);
	free(got);
	printf("PASS\n");
	return 0;
}
