// SPDX-License-Identifier: BSD-2-Clause
/*
 * client.c - unm-stack --connect: one HTTP GET into a file, or one bulk
 * TCP send, on lwIP's raw API. A refused or timed-out connection attempt
 * is retried every RETRY_MS until --timeout (the server stack may start
 * after us).
 *
 * Untrusted input: the response head is bounded (HEAD_MAX) and parsed as
 * text; a body longer than Content-Length is a failure, not a write.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "stack.h"

#define HEAD_MAX 16384
#define RETRY_MS 300

static struct {
	struct stack_cfg *cfg;
	struct tcp_pcb *pcb;
	char head[HEAD_MAX];
	unsigned head_len;
	int in_body;
	int64_t clen;               /* -1: until FIN */
	uint64_t got, sent, acked;
	struct timespec t0;
	int attempts;
} cl;

static double elapsed(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - cl.t0.tv_sec) + (double)(t.tv_nsec - cl.t0.tv_nsec) / 1e9;
}

int stack_parse_url(const char *url, struct stack_cfg *cfg)
{
	const char *h;
	char host[80];

	if (!strncmp(url, "http://", 7)) {
		cfg->url_http = 1;
		cfg->peer_port = 80;
		h = url + 7;
	} else if (!strncmp(url, "tcp://", 6)) {
		cfg->url_http = 0;
		cfg->peer_port = 0;
		h = url + 6;
	} else {
		return -1;
	}
	const char *end = h, *portp = NULL;
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end || (size_t)(end - h - 1) >= sizeof(host))
			return -1;
		snprintf(host, sizeof(host), "%.*s", (int)(end - h - 1), h + 1);
		end++;
	} else {
		end = h + strcspn(h, ":/");
		if ((size_t)(end - h) >= sizeof(host) || end == h)
			return -1;
		snprintf(host, sizeof(host), "%.*s", (int)(end - h), h);
	}
	if (*end == ':') {
		portp = end + 1;
		end = portp + strcspn(portp, "/");
		char pb[8];
		if (end == portp || end - portp >= (long)sizeof(pb))
			return -1;
		snprintf(pb, sizeof(pb), "%.*s", (int)(end - portp), portp);
		char *e;
		unsigned long v = strtoul(pb, &e, 10);
		if (*e || v == 0 || v > 65535)
			return -1;
		cfg->peer_port = (unsigned)v;
	}
	if (!ipaddr_aton(host, &cfg->peer))
		return -1;
	snprintf(cfg->host, sizeof(cfg->host), "%.*s", (int)(end - h), h);
	if (cfg->url_http) {
		const char *path = *end ? end : "/";
		if (*path != '/' || strlen(path) >= sizeof(cfg->path) || strpbrk(path, " \r\n"))
			return -1;
		snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	} else if (cfg->peer_port == 0 || *end) {
		return -1;
	}
	return 0;
}

static void finish(int ok, const char *why)
{
	if (cl.pcb) {
		tcp_arg(cl.pcb, NULL);
		tcp_recv(cl.pcb, NULL);
		tcp_sent(cl.pcb, NULL);
		tcp_err(cl.pcb, NULL);
		if (tcp_close(cl.pcb) != ERR_OK)
			tcp_abort(cl.pcb);
		cl.pcb = NULL;
	}
	if (!ok)
		fprintf(stderr, "unm-stack: %s\n", why);
	cl.cfg->client_state = ok ? CLIENT_DONE : CLIENT_FAILED;
}

static void report(const char *what, uint64_t bytes)
{
	double s = elapsed();
	if (!cl.cfg->quiet)
		fprintf(stderr, "unm-stack: %s %" PRIu64 " bytes in %.3f s: %.3f Gbit/s\n", what,
			bytes, s, s > 0 ? (double)bytes * 8 / s / 1e9 : 0.0);
}

/* ---- bulk send --------------------------------------------------------- */

static void send_push(void)
{
	static char pattern[16384];
	static int init;

	if (!init) {
		for (size_t i = 0; i < sizeof(pattern); i++)
			pattern[i] = (char)('a' + i % 26);
		init = 1;
	}
	while (cl.sent < cl.cfg->send_bytes) {
		u16_t room = tcp_sndbuf(cl.pcb);
		uint64_t left = cl.cfg->send_bytes - cl.sent;
		u16_t n = (u16_t)(left < room ? left : room);
		if (n > sizeof(pattern))
			n = sizeof(pattern);
		if (n == 0 || tcp_sndqueuelen(cl.pcb) >= TCP_SND_QUEUELEN - 4)
			break;
		/* no copy: the pattern is static and never changes */
		if (tcp_write(cl.pcb, pattern, n, cl.sent + n < cl.cfg->send_bytes ? TCP_WRITE_FLAG_MORE : 0) != ERR_OK)
			break;
		cl.sent += n;
	}
	tcp_output(cl.pcb);
}

static err_t send_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)arg;
	(void)pcb;
	cl.acked += len;
	if (cl.acked >= cl.cfg->send_bytes) {
		report("sent", cl.acked);
		finish(1, NULL);
		return ERR_OK;
	}
	send_push();
	return ERR_OK;
}

/* ---- http GET ---------------------------------------------------------- */

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Parse the response head in cl.head[0..end). Returns 0 or -1. */
static int parse_head(unsigned end)
{
	int code;
	cl.head[end] = 0;
	if (sscanf(cl.head, "HTTP/1.%*d %d", &code) != 1) {
		finish(0, "bad HTTP status line");
		return -1;
	}
	if (code != 200) {
		char msg[64];
		snprintf(msg, sizeof(msg), "HTTP status %d", code);
		finish(0, msg);
		return -1;
	}
	cl.clen = -1;
	for (char *l = strstr(cl.head, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
		if (!strncasecmp(l + 2, "Content-Length:", 15)) {
			char *e;
			long long v = strtoll(l + 17, &e, 10);
			if (v < 0 || (*e != '\r' && *e != ' ')) {
				finish(0, "bad Content-Length");
				return -1;
			}
			cl.clen = v;
		}
	}
	return 0;
}

static int body(const char *p, size_t n)
{
	if (cl.clen >= 0 && cl.got + n > (uint64_t)cl.clen) {
		finish(0, "body longer than Content-Length");
		return -1;
	}
	if (n && write_all(cl.cfg->out_fd, p, n)) {
		finish(0, "cannot write the output");
		return -1;
	}
	cl.got += n;
	if (cl.clen >= 0 && cl.got == (uint64_t)cl.clen) {
		report("received", cl.got);
		finish(1, NULL);
		return 1;
	}
	return 0;
}

static err_t http_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg;
	if (err != ERR_OK || !cl.pcb) {
		if (p)
			pbuf_free(p);
		return ERR_OK;
	}
	if (!p) { /* FIN */
		if (cl.in_body && cl.clen < 0) {
			report("received", cl.got);
			finish(1, NULL);
		} else {
			finish(0, "connection closed before the whole body arrived");
		}
		return ERR_OK;
	}
	tcp_recved(pcb, p->tot_len);
	for (struct pbuf *q = p; q; q = q->next) {
		const char *d = q->payload;
		size_t n = q->len;
		if (!cl.in_body) {
			size_t room = HEAD_MAX - 1 - cl.head_len;
			size_t take = n < room ? n : room;
			memcpy(cl.head + cl.head_len, d, take);
			unsigned old = cl.head_len;
			cl.head_len += (unsigned)take;
			char *e = memmem(cl.head, cl.head_len, "\r\n\r\n", 4);
			if (!e) {
				if (cl.head_len == HEAD_MAX - 1) {
					finish(0, "response head too long");
					break;
				}
				continue;
			}
			unsigned end = (unsigned)(e - cl.head) + 4;
			if (parse_head(end))
				break;
			cl.in_body = 1;
			size_t used = end - old; /* bytes of this pbuf that were head */
			d += used;
			n -= used;
			if (cl.clen == 0) {
				report("received", 0);
				finish(1, NULL);
				break;
			}
		}
		if (body(d, n))
			break;
	}
	pbuf_free(p);
	return ERR_OK;
}

/* ---- connection ---------------------------------------------------------- */

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK)
		return err;
	clock_gettime(CLOCK_MONOTONIC, &cl.t0);
	if (cl.cfg->url_http) {
		char req[1300];
		int n = snprintf(req, sizeof(req),
				 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: unm-stack\r\n"
				 "Connection: close\r\n\r\n", cl.cfg->path, cl.cfg->host);
		tcp_recv(pcb, http_recv);
		tcp_write(pcb, req, (u16_t)n, TCP_WRITE_FLAG_COPY);
		tcp_output(pcb);
	} else {
		tcp_sent(pcb, send_sent);
		send_push();
	}
	return ERR_OK;
}

static void attempt(void *arg);

static void on_cerr(void *arg, err_t err)
{
	(void)arg;
	cl.pcb = NULL; /* freed by lwIP */
	if (cl.cfg->client_state != CLIENT_RUNNING)
		return;
	if (cl.got || cl.acked || cl.in_body) {
		char msg[64];
		snprintf(msg, sizeof(msg), "connection lost (lwIP error %d)", err);
		finish(0, msg);
		return;
	}
	sys_timeout(RETRY_MS, attempt, NULL); /* refused or no answer yet: retry */
}

static void attempt(void *arg)
{
	(void)arg;
	if (cl.cfg->client_state != CLIENT_RUNNING)
		return;
	cl.attempts++;
	cl.pcb = tcp_new_ip_type(IP_GET_TYPE(&cl.cfg->peer));
	if (!cl.pcb) {
		finish(0, "no memory for a TCP connection");
		return;
	}
	tcp_err(cl.pcb, on_cerr);
	tcp_nagle_disable(cl.pcb);
	if (tcp_connect(cl.pcb, &cl.cfg->peer, (u16_t)cl.cfg->peer_port, on_connected) != ERR_OK) {
		tcp_close(cl.pcb); /* never connected: freed without callbacks */
		cl.pcb = NULL;
		sys_timeout(RETRY_MS, attempt, NULL);
	}
}

int client_start(struct stack_cfg *cfg)
{
	memset(&cl, 0, sizeof(cl));
	cl.cfg = cfg;
	cfg->client_state = CLIENT_RUNNING;
	attempt(NULL);
	return 0;
}
