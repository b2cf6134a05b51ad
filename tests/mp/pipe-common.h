/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pipe-common.h - helpers for the pipe tests (header only: each .c file
 * in tests/mp is one program). Frames carry a 64-bit sequence number followed
 * by a pattern derived from it, so loss, reordering, duplication and
 * corruption are all detected.
 */
#ifndef UNM_PIPE_COMMON_H
#define UNM_PIPE_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unm.h>
#include "../lib/test.h"

/* Sanitizer builds run slower: tests scale their work down. */
#if defined(__SANITIZE_ADDRESS__)
#define PC_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PC_SANITIZED 1
#endif
#endif
#ifndef PC_SANITIZED
#define PC_SANITIZED 0
#endif

/* Set by a test that wants cheap frames: only the sequence number. */
static int pc_light;

static inline void pc_fill(char *buf, uint64_t seq, unsigned len)
{
	memcpy(buf, &seq, 8);
	if (pc_light)
		return;
	for (unsigned k = 8; k < len; k++)
		buf[k] = (char)(seq * 31 + k);
}

static inline int pc_check(const char *buf, uint64_t seq, unsigned len)
{
	uint64_t got;

	memcpy(&got, buf, 8);
	if (got != seq)
		return -1;
	if (pc_light)
		return 0;
	for (unsigned k = 8; k < len; k++)
		if (buf[k] != (char)(seq * 31 + k))
			return -2;
	return 0;
}

/* Queue up to n frames (seq from *seq) on TX ring RING and sync. Returns
 * frames queued, or a negative errno from the sync. */
static inline int pc_send(struct unm_port *p, unsigned ring, uint64_t *seq, unsigned n,
			  unsigned len)
{
	struct unm_ring *r = unm_ring_get(p, 1, ring);
	uint32_t i = r->head, space = unm_ring_space(r);
	unsigned k;

	if (n > space)
		n = space;
	for (k = 0; k < n; k++) {
		struct unm_slot *s = &r->slot[i];

		pc_fill(unm_buf(r, s->buf_idx), (*seq)++, len);
		s->len = (uint16_t)len;
		s->flags = 0;
		i = unm_ring_next(r, i);
	}
	unm_ring_advance(r, i);
	int rc = unm_txsync(p, (int)ring);

	return rc < 0 ? rc : (int)n;
}

/* Consume every frame on RX ring RING, checking sequence and content
 * against *seq. Returns frames consumed, -1000 on a bad frame, or the
 * negative errno of the sync. */
static inline int pc_recv(struct unm_port *p, unsigned ring, uint64_t *seq, unsigned len,
			  uint32_t nbufs)
{
	struct unm_ring *r = unm_ring_get(p, 0, ring);
	int rc = unm_rxsync(p, (int)ring), n = 0;
	uint32_t i;

	if (rc < 0 && rc != -EPIPE)
		return rc;
	for (i = r->head; i != r->tail; i = unm_ring_next(r, i), n++) {
		struct unm_slot *s = &r->slot[i];

		if (s->buf_idx < 2 || s->buf_idx >= nbufs || s->len != len ||
		    pc_check(unm_buf(r, s->buf_idx), *seq, len)) {
			printf("bad frame on ring %u: expected seq %llu, idx %u len %u\n", ring,
			       (unsigned long long)*seq, s->buf_idx, s->len);
			return -1000;
		}
		(*seq)++;
	}
	unm_ring_advance(r, i);
	return n ? n : rc;
}

/* Names of the files in /dev/shm (count only). */
static inline int pc_shm_count(void)
{
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Wait for child PID up to SECS; kill it if still running. Returns its
 * exit status (128 + signal if killed by one, -1 on timeout). */
static inline int pc_reap(pid_t pid, double secs)
{
	double end = t_now() + secs;
	int st;

	while (t_now() < end) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(2000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static inline uint32_t pc_nbufs(struct unm_port *p)
{
	struct unm_port_info info = { .sz = sizeof(info) };

	unm_port_info(p, &info);
	return info.buf_count;
}

#endif
