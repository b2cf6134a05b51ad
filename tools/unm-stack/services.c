// SPDX-License-Identifier: BSD-2-Clause
/*
 * services.c - unm-stack's servers on lwIP's raw API: TCP/UDP echo, TCP
 * sink, static HTTP/1.1.
 *
 * Flow control everywhere: received data is acknowledged to lwIP
 * (tcp_recved(), which reopens the peer's window) only once it has been
 * consumed (echoed into the send buffer, discarded, parsed), so a fast
 * peer is slowed by TCP, never by unbounded buffering here.
 *
 * Untrusted input: requests come from the network. The HTTP request head
 * is bounded (REQ_MAX), the target is confined under --http DIR (no ".."
 * component, no NUL, percent escapes decoded before the check), and only
 * regular files are served.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "lwip/pbuf.h"
#include "stack.h"

#define REQ_MAX   8192
#define CHUNK     16384

enum kind { K_ECHO, K_SINK, K_HTTP };

struct conn {
	enum kind kind;
	struct tcp_pcb *pcb;
	struct stack_cfg *cfg;
	struct pbuf *pend;          /* echo: received, not yet echoed */
	int fin;                    /* peer sent FIN */
	uint64_t bytes;
	/* http */
	char req[REQ_MAX];
	unsigned req_len;
	int fd;
	uint64_t remaining, off;
	int responded;
};

static struct {
	uint64_t conns, echo_bytes, sink_bytes, http_reqs, http_bytes, udp_echo;
} ctr;

static void conn_free(struct conn *c)
{
	if (c->pend)
		pbuf_free(c->pend);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* Detach callbacks and close gracefully (queued data and a FIN still go
 * out); abort if lwIP has no memory for the FIN. */
static err_t conn_close(struct conn *c)
{
	struct tcp_pcb *pcb = c->pcb;
	err_t ret = ERR_OK;

	if (pcb) {
		tcp_arg(pcb, NULL);
		tcp_recv(pcb, NULL);
		tcp_sent(pcb, NULL);
		tcp_err(pcb, NULL);
		tcp_poll(pcb, NULL, 0);
		if (tcp_close(pcb) != ERR_OK) {
			tcp_abort(pcb);
			ret = ERR_ABRT; /* callers return this to lwIP */
		}
	}
	if (c->cfg->verbose && c->kind == K_SINK)
		fprintf(stderr, "unm-stack: sink connection done: %" PRIu64 " bytes\n", c->bytes);
	conn_free(c);
	return ret;
}

static void on_err(void *arg, err_t err)
{
	struct conn *c = arg;

	if (c) { /* the pcb is already freed */
		c->pcb = NULL;
		conn_free(c);
	}
	(void)err;
}

/* ---- echo ---------------------------------------------------------------- */

static err_t echo_push(struct conn *c)
{
	while (c->pend) {
		u16_t room = tcp_sndbuf(c->pcb);
		u16_t n = c->pend->len < room ? c->pend->len : room;
		if (n == 0)
			break;
		if (tcp_write(c->pcb, c->pend->payload, n, TCP_WRITE_FLAG_COPY) != ERR_OK)
			break;
		tcp_recved(c->pcb, n);
		c->bytes += n;
		ctr.echo_bytes += n;
		c->pend = pbuf_free_header(c->pend, n);
	}
	tcp_output(c->pcb);
	if (!c->pend && c->fin)
		return conn_close(c);
	return ERR_OK;
}

/* ---- http ---------------------------------------------------------------- */

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9') return ch - '0';
	if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
	return -1;
}

/* Decode TARGET (path part only) into OUT and check it stays under the
 * root: absolute, no NUL, no "." or ".." component. Returns 0 or -1. */
static int http_path(const char *target, size_t tlen, char *out, size_t outlen)
{
	size_t o = 0;

	if (tlen == 0 || target[0] != '/')
		return -1;
	for (size_t i = 0; i < tlen && target[i] != '?' && target[i] != '#'; i++) {
		int ch = (unsigned char)target[i];
		if (ch == '%') {
			if (i + 2 >= tlen || hexval(target[i + 1]) < 0 || hexval(target[i + 2]) < 0)
				return -1;
			ch = hexval(target[i + 1]) * 16 + hexval(target[i + 2]);
			i += 2;
		}
		if (ch == 0 || o + 1 >= outlen)
			return -1;
		out[o++] = (char)ch;
	}
	out[o] = 0;
	for (char *s = out; (s = strchr(s, '/')); s++) {
		if (s[1] == '.' && (s[2] == '/' || s[2] == 0 || (s[2] == '.' && (s[3] == '/' || s[3] == 0))))
			return -1;
	}
	return 0;
}

static void http_simple(struct conn *c, int code, const char *text)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf),
			 "HTTP/1.1 %d %s\r\nServer: unm-stack\r\nContent-Type: text/plain\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
			 code, text, strlen(text) + 1, text);
	tcp_write(c->pcb, buf, (u16_t)n, TCP_WRITE_FLAG_COPY);
	c->responded = 1;
	c->remaining = 0;
}

/* Queue file data while the send buffer has room; close once all is queued. */
static err_t http_push(struct conn *c)
{
	static char buf[CHUNK];

	while (c->remaining > 0) {
		u16_t room = tcp_sndbuf(c->pcb);
		if (room < 1024 && room < c->remaining)
			break;
		if (tcp_sndqueuelen(c->pcb) >= TCP_SND_QUEUELEN - 4)
			break;
		size_t n = c->remaining < room ? c->remaining : room;
		if (n > sizeof(buf))
			n = sizeof(buf);
		ssize_t r = pread(c->fd, buf, n, (off_t)c->off);
		if (r <= 0) { /* file shrank: the length was promised, so cut the connection */
			tcp_abort(c->pcb);
			c->pcb = NULL;
			conn_free(c);
			return ERR_ABRT;
		}
		u8_t fl = TCP_WRITE_FLAG_COPY | ((uint64_t)r < c->remaining ? TCP_WRITE_FLAG_MORE : 0);
		if (tcp_write(c->pcb, buf, (u16_t)r, fl) != ERR_OK)
			break;
		c->off += (uint64_t)r;
		c->remaining -= (uint64_t)r;
		c->bytes += (uint64_t)r;
		ctr.http_bytes += (uint64_t)r;
	}
	tcp_output(c->pcb);
	if (c->responded && c->remaining == 0)
		return conn_close(c);
	return ERR_OK;
}

static void http_request(struct conn *c)
{
	char method[8], path[1024], full[4096];
	const char *sp1 = memchr(c->req, ' ', c->req_len);
	const char *eol = memchr(c->req, '\r', c->req_len);

	ctr.http_reqs++;
	if (!sp1 || !eol || sp1 > eol || (size_t)(sp1 - c->req) >= sizeof(method)) {
		http_simple(c, 400, "Bad Request");
		return;
	}
	memcpy(method, c->req, (size_t)(sp1 - c->req));
	method[sp1 - c->req] = 0;
	const char *tgt = sp1 + 1;
	const char *sp2 = memchr(tgt, ' ', (size_t)(eol - tgt));
	if (!sp2 || strncmp(sp2 + 1, "HTTP/1.", 7)) {
		http_simple(c, 400, "Bad Request");
		return;
	}
	int head = !strcmp(method, "HEAD");
	if (!head && strcmp(method, "GET")) {
		http_simple(c, 501, "Not Implemented");
		return;
	}
	if (http_path(tgt, (size_t)(sp2 - tgt), path, sizeof(path))) {
		http_simple(c, 403, "Forbidden");
		return;
	}
	snprintf(full, sizeof(full), "%s%s%s", c->cfg->http_dir, path,
		 path[strlen(path) - 1] == '/' ? "index.html" : "");
	c->fd = open(full, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (c->fd < 0 || fstat(c->fd, &st) || !S_ISREG(st.st_mode)) {
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		http_simple(c, errno == EACCES ? 403 : 404, errno == EACCES ? "Forbidden" : "Not Found");
		return;
	}
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 200 OK\r\nServer: unm-stack\r\n"
			 "Content-Type: application/octet-stream\r\n"
			 "Content-Length: %" PRIu64 "\r\nConnection: close\r\n\r\n",
			 (uint64_t)st.st_size);
	tcp_write(c->pcb, hdr, (u16_t)n, TCP_WRITE_FLAG_COPY | TCP_WRITE_FLAG_MORE);
	c->responded = 1;
	c->remaining = head ? 0 : (uint64_t)st.st_size;
	if (c->cfg->verbose)
		fprintf(stderr, "unm-stack: http %s %s %" PRIu64 " bytes\n", method, path,
			(uint64_t)st.st_size);
}

/* ---- TCP callbacks ----------------------------------------------------- */

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct conn *c = arg;
	(void)pcb;
	(void)len;
	if (!c)
		return ERR_OK;
	if (c->kind == K_ECHO)
		return echo_push(c);
	if (c->kind == K_HTTP && c->responded)
		return http_push(c);
	return ERR_OK;
}

static err_t on_poll(void *arg, struct tcp_pcb *pcb)
{
	return on_sent(arg, pcb, 0);
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct conn *c = arg;

	if (!c) {
		if (p) {
			tcp_recved(pcb, p->tot_len);
			pbuf_free(p);
		}
		return ERR_OK;
	}
	if (err != ERR_OK) {
		if (p)
			pbuf_free(p);
		return ERR_OK;
	}
	if (!p) { /* FIN */
		c->fin = 1;
		if (c->kind == K_ECHO && c->pend)
			return ERR_OK; /* close once echoed */
		if (c->kind == K_HTTP && c->responded)
			return ERR_OK; /* finish the response first */
		return conn_close(c);
	}
	switch (c->kind) {
	case K_SINK:
		c->bytes += p->tot_len;
		ctr.sink_bytes += p->tot_len;
		tcp_recved(pcb, p->tot_len);
		pbuf_free(p);
		break;
	case K_ECHO:
		if (c->pend)
			pbuf_cat(c->pend, p);
		else
			c->pend = p;
		return echo_push(c);
	case K_HTTP:
		tcp_recved(pcb, p->tot_len);
		if (c->responded) { /* one request per connection: ignore the rest */
			pbuf_free(p);
			break;
		}
		{
			unsigned room = REQ_MAX - 1 - c->req_len;
			unsigned n = p->tot_len < room ? p->tot_len : room;
			pbuf_copy_partial(p, c->req + c->req_len, (u16_t)n, 0);
			c->req_len += n;
			c->req[c->req_len] = 0;
			int over = p->tot_len > room;
			pbuf_free(p);
			if (memmem(c->req, c->req_len, "\r\n\r\n", 4))
				http_request(c);
			else if (over)
				http_simple(c, 431, "Request Header Fields Too Large");
			else
				break;
			return http_push(c);
		}
	}
	return ERR_OK;
}

/* A listening pcb's arg. */
static struct listener {
	struct stack_cfg *cfg;
	enum kind kind;
} listeners[3];

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct listener *li = arg;

	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return ERR_MEM; /* lwIP aborts the connection */
	ctr.conns++;
	c->kind = li->kind;
	c->pcb = pcb;
	c->cfg = li->cfg;
	c->fd = -1;
	tcp_arg(pcb, c);
	tcp_recv(pcb, on_recv);
	tcp_sent(pcb, on_sent);
	tcp_err(pcb, on_err);
	tcp_poll(pcb, on_poll, 2);
	tcp_nagle_disable(pcb);
	return ERR_OK;
}

/* ---- UDP echo ------------------------------------------------------------ */

static void on_udp(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
	(void)arg;
	ctr.udp_echo++;
	udp_sendto(pcb, p, addr, port);
	pbuf_free(p);
}


static int tcp_listen_on(struct stack_cfg *cfg, unsigned port, enum kind kind)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_ANY);

	if (!pcb || tcp_bind(pcb, IP_ANY_TYPE, (u16_t)port) != ERR_OK) {
		fprintf(stderr, "unm-stack: cannot bind TCP port %u\n", port);
		return -1;
	}
	struct tcp_pcb *l = tcp_listen_with_backlog(pcb, 64);
	if (!l) {
		fprintf(stderr, "unm-stack: cannot listen on TCP port %u\n", port);
		tcp_close(pcb);
		return -1;
	}
	listeners[kind].cfg = cfg;
	listeners[kind].kind = kind;
	tcp_arg(l, &listeners[kind]);
	tcp_accept(l, on_accept);
	return 0;
}

int services_start(struct stack_cfg *cfg)
{
	if (cfg->echo_port) {
		if (tcp_listen_on(cfg, cfg->echo_port, K_ECHO))
			return -1;
		struct udp_pcb *u = udp_new_ip_type(IPADDR_TYPE_ANY);
		if (!u || udp_bind(u, IP_ANY_TYPE, (u16_t)cfg->echo_port) != ERR_OK) {
			fprintf(stderr, "unm-stack: cannot bind UDP port %u\n", cfg->echo_port);
			return -1;
		}
		udp_recv(u, on_udp, NULL);
	}
	if (cfg->sink_port && tcp_listen_on(cfg, cfg->sink_port, K_SINK))
		return -1;
	if (cfg->http_dir && tcp_listen_on(cfg, cfg->http_port, K_HTTP))
		return -1;
	return 0;
}

void services_report(const struct stack_cfg *cfg)
{
	(void)cfg;
	fprintf(stderr,
		"unm-stack: %" PRIu64 " connections, echo %" PRIu64 " bytes, udp echo %" PRIu64
		", sink %" PRIu64 " bytes, http %" PRIu64 " requests %" PRIu64 " bytes\n",
		ctr.conns, ctr.echo_bytes, ctr.udp_echo, ctr.sink_bytes, ctr.http_reqs,
		ctr.http_bytes);
}
