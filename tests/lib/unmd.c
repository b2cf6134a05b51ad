// SPDX-License-Identifier: BSD-2-Clause
/* unmd.c - implementation of tests/lib/unmd.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "test.h"
#include "unmd.h"
#include "unm-ctlmsg.h"

static char sock_path[108];
static pid_t unmd_pid, owner_pid;

/* A failing test exits through T_FAIL: never leave its unmd behind. */
static void kill_unmd(void)
{
	if (unmd_pid > 0 && getpid() == owner_pid) {
		kill(unmd_pid, SIGKILL);
		waitpid(unmd_pid, NULL, 0);
	}
}

const char *t_prog(const char *name)
{
	static char buf[4][512];
	static int n;
	char *b = buf[n++ & 3];
	const char *dir = getenv("UNM_BUILD");

	snprintf(b, 512, "%s/%s", dir && dir[0] ? dir : "build", name);
	return b;
}

int t_ctl_run(const char *args, char *out, size_t cap)
{
	char cmd[1024];
	FILE *f;
	size_t n;
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s 2>/dev/null", t_prog("unm-ctl"), args);
	f = popen(cmd, "r");
	T_ASSERT(f != NULL);
	n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

unsigned t_check_held_buffers(struct unm_port *p, unsigned max, int skip_list)
{
	struct unm_port_info info = { .sz = sizeof(info) };
	struct unm_ring *r = unm_ring_get(p, 1, 0);
	unsigned char *seen;
	unsigned n = 0;

	T_ASSERT_EQ(unm_port_info(p, &info), 0);
	seen = calloc(info.buf_count, 1);
	T_ASSERT(seen);
	for (int tx = 0; tx < 2; tx++) {
		struct unm_ring *ring = unm_ring_get(p, tx, 0);

		for (uint32_t i = 0; i < ring->num_slots; i++) {
			uint32_t b = ring->slot[i].buf_idx;

			if (b < 2 || b >= info.buf_count || seen[b]++)
				T_FAIL("%s slot %u: buffer %u invalid or held twice", tx ? "TX" : "RX",
				       i, b);
		}
	}
	for (uint32_t b = skip_list ? 0 : unm_nifp(p)->ni_bufs_head; b; n++) {
		if (b < 2 || b >= info.buf_count || seen[b]++ || n >= max)
			T_FAIL("extra buffer %u invalid, held twice or past %u", b, max);
		memcpy(&b, unm_buf(r, b), sizeof(b));
	}
	free(seen);
	return n;
}

const char *t_unmd_sock(void)
{
	return sock_path;
}

pid_t t_unmd_start(const char *const *extra)
{
	static int gen;
	char path[108];

	snprintf(path, sizeof(path), "/tmp/unm-test-%d-%d.sock", (int)getpid(), gen++);
	unlink(path);
	return t_unmd_start_at(path, extra);
}

pid_t t_unmd_start_at(const char *path, const char *const *extra)
{
	const char *bin = t_prog("unmd");
	pid_t pid;

	if (access(bin, X_OK) != 0)
		T_SKIP("no unmd binary at %s", bin);
	snprintf(sock_path, sizeof(sock_path), "%s", path);
	pid = fork();
	if (pid < 0)
		T_FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		const char *argv[32] = { bin, "-f", "-s", sock_path };
		int n = 4;

		for (int i = 0; extra && extra[i] && n < 31; i++)
			argv[n++] = extra[i];
		argv[n] = NULL;
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	setenv(UNM_SOCKET_ENV, sock_path, 1);
	if (!owner_pid)
		atexit(kill_unmd);
	unmd_pid = pid;
	owner_pid = getpid();
	for (int i = 0; i < 500; i++) {
		int fd = unm_ctl_connect(sock_path);
		int st;

		if (fd >= 0) {
			close(fd);
			return pid;
		}
		if (waitpid(pid, &st, WNOHANG) == pid)
			T_FAIL("unmd exited at start (status 0x%x)", st);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	T_FAIL("unmd did not start listening on %s", sock_path);
}

int t_unmd_stop(pid_t pid)
{
	int st;

	if (pid == unmd_pid)
		unmd_pid = 0;
	kill(pid, SIGTERM);
	for (int i = 0; i < 300; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

void t_mac(uint8_t mac[6], unsigned id)
{
	mac[0] = 0x02;
	mac[1] = mac[2] = mac[3] = 0;
	mac[4] = (uint8_t)(id >> 8);
	mac[5] = (uint8_t)id;
}

size_t t_frame(uint8_t *buf, size_t len, const uint8_t dst[6], unsigned src_id, uint32_t seq)
{
	if (len < 22)
		len = 22;
	memcpy(buf, dst, 6);
	t_mac(buf + 6, src_id);
	buf[12] = 0x88;
	buf[13] = 0xb5;
	memcpy(buf + 14, &seq, 4);
	memcpy(buf + 18, &(uint32_t){ (uint32_t)len }, 4);
	for (size_t i = 22; i < len; i++)
		buf[i] = (uint8_t)(seq + i);
	return len;
}

long t_frame_check(const uint8_t *buf, size_t len)
{
	uint32_t seq, flen;

	if (len < 22 || buf[12] != 0x88 || buf[13] != 0xb5)
		return -1;
	memcpy(&seq, buf + 14, 4);
	memcpy(&flen, buf + 18, 4);
	if (flen != len)
		return -1;
	for (size_t i = 22; i < len; i++)
		if (buf[i] != (uint8_t)(seq + i))
			return -1;
	return seq;
}

struct unm_port *t_open(const char *name)
{
	struct unm_port *p;
	int rc = unm_open(name, &p, NULL);

	if (rc)
		T_FAIL("unm_open(%s): %s (%s)", name, strerror(-rc), unm_errmsg());
	return p;
}

long t_recv(struct unm_port *p, uint8_t *buf, size_t cap, int timeout_ms)
{
	double end = t_now() + timeout_ms / 1000.0;

	for (;;) {
		struct unm_ring *r = unm_ring_get(p, 0, 0);
		int rc;

		if (!r)
			return -EINVAL;
		if (!unm_ring_empty(r)) {
			uint32_t i = r->head;
			size_t n = 0;

			/* wait for the whole chain (it arrives in one sync) */
			for (;;) {
				struct unm_slot *s = &r->slot[i];

				if (n + s->len <= cap)
					memcpy(buf + n, unm_buf(r, s->buf_idx), s->len);
				n += s->len;
				i = unm_ring_next(r, i);
				if (!(s->flags & UNM_NS_MOREFRAG))
					break;
				if (i == r->tail)
					return -EBADMSG;
			}
			unm_ring_advance(r, i);
			return (long)n;
		}
		double left = end - t_now();

		if (left <= 0)
			return 0;
		rc = unm_wait(p, UNM_WAIT_RX, (int)(left * 1000) + 1);
		if (rc < 0)
			return rc;
	}
}

int t_send(struct unm_port *p, const void *buf, size_t len, int timeout_ms)
{
	double end = t_now() + timeout_ms / 1000.0;

	for (;;) {
		int rc = unm_inject(p, buf, len);

		if (rc < 0)
			return rc;
		if (rc > 0)
			return unm_txsync(p, UNM_RING_ALL);
		if (t_now() > end)
			return -ETIMEDOUT;
		rc = unm_wait(p, UNM_WAIT_TX, 100);
		if (rc < 0)
			return rc;
	}
}

static int call(unsigned op, const char *name, const char *arg, uint32_t value,
		struct unm_ctl_item **items, unsigned *n)
{
	struct unm_ctl_req req;
	struct unm_ctl_rep rep;
	/* a private unmd's socket, else the one $UNM_SOCKET names */
	const char *path = sock_path[0] ? sock_path : getenv(UNM_SOCKET_ENV);
	int fd = unm_ctl_connect(path ? path : ""), rc;

	if (fd < 0)
		return fd;
	unm_ctl_req_init(&req, op, 7);
	snprintf(req.name, sizeof(req.name), "%s", name ? name : "");
	snprintf(req.arg, sizeof(req.arg), "%s", arg ? arg : "");
	req.value = value;
	rc = unm_ctl_call(fd, &req, &rep, NULL, 0, 3000);
	if (!rc && items) {
		*items = calloc(rep.n_items + 1, sizeof(**items));
		*n = rep.n_items;
		for (unsigned i = 0; i < rep.n_items && !rc; i++)
			rc = unm_ctl_recv_item(fd, &(*items)[i], 7, 3000);
	}
	close(fd);
	return rc;
}

int t_ctl(unsigned op, const char *name, const char *arg, uint32_t value)
{
	return call(op, name, arg, value, NULL, NULL);
}

int t_port_info(const char *name, struct unm_ctl_port_info *pi)
{
	struct unm_ctl_item *it = NULL;
	unsigned n = 0;
	int rc = call(UNM_CTL_PORT_STATS, name, NULL, 0, &it, &n);

	/* the port's item first; an attached port's backend (and a vxlan
	 * port's own) items follow it */
	if (!rc && (n < 1 || it[0].kind != UNM_CTL_ITEM_PORT ||
		    (n > 1 && it[1].kind == UNM_CTL_ITEM_PORT)))
		rc = -ENOENT;
	if (!rc)
		*pi = it[0].u.port;
	free(it);
	return rc;
}

int t_port_offload(const char *name, struct unm_ctl_offload_info *oi)
{
	struct unm_ctl_item *it = NULL;
	unsigned n = 0;
	int rc = call(UNM_CTL_PORT_OFFLOAD, name, NULL, 0, &it, &n);

	if (!rc && (n != 1 || it[0].kind != UNM_CTL_ITEM_OFFLOAD))
		rc = -ENOENT;
	if (!rc)
		*oi = it[0].u.off;
	free(it);
	return rc;
}

int t_list_ports(const char *sw, struct unm_ctl_port_info *out, int max)
{
	struct unm_ctl_item *it = NULL;
	unsigned n = 0;
	int rc = call(UNM_CTL_LIST, sw, NULL, 0, &it, &n), k = 0;

	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	for (unsigned i = 0; i < n; i++)
		if (it[i].kind == UNM_CTL_ITEM_PORT) {
			if (out && k < max)
				out[k] = it[i].u.port;
			k++;
		}
	free(it);
	return k;
}

long t_blast(struct unm_port *p, const uint8_t dst[6], unsigned src_id, uint32_t seq0,
	     unsigned n, size_t len, int timeout_ms)
{
	struct unm_ring *r = unm_ring_get(p, 1, 0);
	double end = t_now() + timeout_ms / 1000.0;
	unsigned sent = 0;
	int rc;

	while (sent < n) {
		uint32_t i = r->head;

		while (sent < n && !unm_ring_empty(r) && i != r->tail) {
			t_frame((uint8_t *)unm_buf(r, r->slot[i].buf_idx), len, dst, src_id,
				seq0 + sent);
			r->slot[i].len = (uint16_t)len;
			r->slot[i].flags = 0;
			i = unm_ring_next(r, i);
			sent++;
		}
		unm_ring_advance(r, i);
		rc = unm_txsync(p, 0);
		if (rc < 0)
			return rc;
		if (t_now() > end)
			return -ETIMEDOUT;
		if (unm_ring_empty(r) && (rc = unm_wait(p, UNM_WAIT_TX, 200)) < 0)
			return rc;
	}
	while (unm_tx_pending(r)) {
		if (t_now() > end)
			return -ETIMEDOUT;
		usleep(200);
		if ((rc = unm_txsync(p, 0)) < 0)
			return rc;
	}
	return sent;
}

void *t_shared(size_t size)
{
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		T_FAIL("mmap: %s", strerror(errno));
	return m;
}
