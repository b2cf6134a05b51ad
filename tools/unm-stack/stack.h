/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stack.h - unm-stack's services (services.c) and client (client.c), all
 * lwIP raw-API callbacks run from main()'s loop, in its one thread.
 */
#ifndef UNM_STACK_H
#define UNM_STACK_H

#include <signal.h>
#include <stdint.h>
#include "lwip/ip_addr.h"

struct netif;

enum { CLIENT_RUNNING = 0, CLIENT_DONE, CLIENT_FAILED };

struct stack_cfg {
	struct netif *netif;
	unsigned echo_port, sink_port, http_port;
	const char *http_dir;
	int verbose, quiet;
	/* client mode */
	int url_http;               /* 1 http://, 0 tcp:// */
	ip_addr_t peer;
	unsigned peer_port;
	char path[1024];            /* http: request target */
	char host[80];              /* http: Host header value */
	uint64_t send_bytes;
	unsigned timeout_s;
	int out_fd;
	int client_state;           /* CLIENT_* */
};

extern volatile sig_atomic_t stack_stop;

/* Listen on the configured ports. Returns 0 or -1 (message printed). */
int services_start(struct stack_cfg *cfg);
/* Counters of the services (verbose). */
void services_report(const struct stack_cfg *cfg);

/* Parse --connect URL into cfg. Returns 0 or -1. */
int stack_parse_url(const char *url, struct stack_cfg *cfg);
/* Start the client transfer; cfg->client_state changes when it ends. */
int client_start(struct stack_cfg *cfg);

#endif
