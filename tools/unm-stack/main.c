// SPDX-License-Identifier: BSD-2-Clause
/*
 * unm-stack - an lwIP TCP/IP stack on any unetmap port (libunm-lwip).
 *
 * Server mode (default): ICMP/ICMPv6 echo (lwIP itself), TCP and UDP echo,
 * a TCP sink for iperf 2, a static HTTP/1.1 server. Client mode
 * (--connect): fetch one URL into a file, or send a bulk stream, then exit.
 *
 * One thread: lwIP's raw API and the port loop (unm_lwip_poll()) run in
 * main(); every service is a set of lwIP callbacks below (services.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <unm.h>
#include <unm/lwip.h>

#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/ip_addr.h"
#include "lwip/timeouts.h"
#include "stack.h"

volatile sig_atomic_t stack_stop;

static void on_signal(int sig)
{
	(void)sig;
	stack_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: unm-stack -i PORT -a ADDR/LEN [-g GW] [-6 ADDR6/64] [OPTIONS]\n"
"       unm-stack -i PORT -a ADDR/LEN --connect URL [-o FILE] [--send SIZE]\n"
"\n"
"Run the lwIP TCP/IP stack (Debian's liblwip) on the unetmap port PORT, with\n"
"no kernel networking in the data path: any port name unm_open() accepts\n"
"(vale0:web, pipeA{1, tap:tap0, afpacket:eth1, shmif:/tmp/bus, ...).\n"
"\n"
"Server mode (the default) answers ICMP and ICMPv6 echo and serves, on\n"
"every address of the interface:\n"
"  TCP and UDP echo           port 7 (--echo-port)\n"
"  TCP sink                   port 5001 (--sink-port): reads and discards,\n"
"                             so Debian's iperf (2) can measure against it:\n"
"                             iperf -c ADDR -t 2\n"
"  HTTP/1.1 static files      --http DIR, port 80 (--http-port): GET and\n"
"                             HEAD, Content-Length, files streamed from disk\n"
"It runs until SIGINT or SIGTERM, or until a pipe peer closes.\n"
"\n"
"Client mode (--connect URL) runs one transfer and exits 0 on success:\n"
"  http://ADDR[:PORT]/PATH    GET, body to -o FILE (default stdout); fails\n"
"                             on a status other than 200 or a short body\n"
"  tcp://ADDR:PORT            send --send SIZE bytes (default 100M), close,\n"
"                             report the rate once all is acknowledged\n"
"ADDR is a numeric IPv4 address or an IPv6 address in brackets.\n"
"\n"
"Options:\n"
"  -i, --port NAME        the unetmap port (required)\n"
"  -a, --addr A.B.C.D/LEN IPv4 address and prefix length\n"
"  -g, --gateway A.B.C.D  IPv4 default gateway\n"
"  -6, --addr6 ADDR/64    an IPv6 address (lwIP treats every prefix as /64);\n"
"                         a link-local address from the MAC is always added\n"
"  -m, --mac XX:XX:XX:XX:XX:XX  MAC if the port has none (default: random,\n"
"                         locally administered)\n"
"      --mtu N            MTU (576..9000; default the port's, else 1500)\n"
"      --http DIR         serve the files under DIR over HTTP\n"
"      --http-port N      HTTP port (default 80)\n"
"      --echo-port N      TCP/UDP echo port (default 7, 0 = off)\n"
"      --sink-port N      TCP sink port (default 5001, 0 = off)\n"
"  -c, --connect URL      client mode, see above\n"
"  -o, --output FILE      client mode: where the body goes (default stdout)\n"
"      --send SIZE        client mode, tcp://: bytes to send (K, M, G suffixes)\n"
"  -t, --timeout SEC      client mode: give up after SEC seconds (default 60)\n"
"      --vnet N           open the port with a virtio-net header of N bytes\n"
"                         (10 or 12) if the open creates it: partial checksums\n"
"                         and GSO frames from a peer are then accepted\n"
"  -v, --verbose          per-connection lines and counters at exit (stderr)\n"
"  -q, --quiet            print nothing but errors\n"
"  -h, --help             this text\n"
"      --version          print the versions of libunm and lwIP and exit\n"
"\n"
"Exit status: 0 success, 1 runtime failure (port, transfer, timeout), 2 usage.\n"
"Example: unm-stack -i vale0:web -a 198.18.0.10/24 -6 fd00::10/64 --http /srv\n");
}

static int parse_u(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	char *e;
	errno = 0;
	unsigned long v = strtoul(s, &e, 10);
	if (errno || e == s || *e || v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *e;
	errno = 0;
	unsigned long long v = strtoull(s, &e, 10);
	if (errno || e == s)
		return -1;
	switch (*e) {
	case 'k': case 'K': v <<= 10; e++; break;
	case 'm': case 'M': v <<= 20; e++; break;
	case 'g': case 'G': v <<= 30; e++; break;
	}
	if (*e || v == 0)
		return -1;
	*out = v;
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned m[6];
	char c;
	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &c) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (m[i] > 255)
			return -1;
		mac[i] = (uint8_t)m[i];
	}
	return (mac[0] & 1) ? -1 : 0;
}

/* "A.B.C.D/LEN" */
static int parse_v4(const char *s, ip4_addr_t *a, ip4_addr_t *mask)
{
	char buf[64];
	unsigned len = 32;
	const char *sl = strchr(s, '/');

	if (strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	if (sl) {
		buf[sl - s] = 0;
		if (parse_u(sl + 1, 1, 32, &len))
			return -1;
	} else if (mask) {
		return -1;
	}
	if (!ip4addr_aton(buf, a))
		return -1;
	if (mask)
		ip4_addr_set_u32(mask, lwip_htonl(len == 32 ? 0xffffffffu : ~(0xffffffffu >> len)));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "port", required_argument, 0, 'i' },
		{ "addr", required_argument, 0, 'a' },
		{ "gateway", required_argument, 0, 'g' },
		{ "addr6", required_argument, 0, '6' },
		{ "mac", required_argument, 0, 'm' },
		{ "mtu", required_argument, 0, 'M' },
		{ "http", required_argument, 0, 'H' },
		{ "http-port", required_argument, 0, 'P' },
		{ "echo-port", required_argument, 0, 'E' },
		{ "sink-port", required_argument, 0, 'S' },
		{ "connect", required_argument, 0, 'c' },
		{ "output", required_argument, 0, 'o' },
		{ "send", required_argument, 0, 'z' },
		{ "timeout", required_argument, 0, 't' },
		{ "vnet", required_argument, 0, 'V' },
		{ "verbose", no_argument, 0, 'v' },
		{ "quiet", no_argument, 0, 'q' },
		{ "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'R' },
		{ 0, 0, 0, 0 },
	};
	const char *port_name = NULL, *a4 = NULL, *gw = NULL, *a6 = NULL;
	const char *url = NULL, *output = NULL;
	struct stack_cfg cfg = { .echo_port = 7, .sink_port = 5001, .http_port = 80,
				 .send_bytes = 100u << 20, .timeout_s = 60 };
	struct unm_lwip_opts lo_opts = { .sz = sizeof(lo_opts), .flags = UNM_LWIP_DEFAULT };
	unsigned vnet = 0;
	int c;

	while ((c = getopt_long(argc, argv, "i:a:g:6:m:c:o:t:vqh", lo, NULL)) != -1) {
		switch (c) {
		case 'i': port_name = optarg; break;
		case 'a': a4 = optarg; break;
		case 'g': gw = optarg; break;
		case '6': a6 = optarg; break;
		case 'm':
			if (parse_mac(optarg, lo_opts.mac))
				goto bad_arg;
			break;
		case 'M':
			if (parse_u(optarg, 576, 9000, &lo_opts.mtu))
				goto bad_arg;
			break;
		case 'H': cfg.http_dir = optarg; break;
		case 'P':
			if (parse_u(optarg, 1, 65535, &cfg.http_port))
				goto bad_arg;
			break;
		case 'E':
			if (parse_u(optarg, 0, 65535, &cfg.echo_port))
				goto bad_arg;
			break;
		case 'S':
			if (parse_u(optarg, 0, 65535, &cfg.sink_port))
				goto bad_arg;
			break;
		case 'c': url = optarg; break;
		case 'o': output = optarg; break;
		case 'z':
			if (parse_size(optarg, &cfg.send_bytes))
				goto bad_arg;
			break;
		case 't':
			if (parse_u(optarg, 1, 86400, &cfg.timeout_s))
				goto bad_arg;
			break;
		case 'V':
			if (parse_u(optarg, 10, 12, &vnet) || vnet == 11)
				goto bad_arg;
			break;
		case 'v': cfg.verbose = 1; break;
		case 'q': cfg.quiet = 1; break;
		case 'h': usage(stdout); return 0;
		case 'R':
			printf("unm-stack (libunm %s, lwIP %d.%d.%d)\n", unm_version(), LWIP_VERSION_MAJOR,
			       LWIP_VERSION_MINOR, LWIP_VERSION_REVISION);
			return 0;
		default:
			fprintf(stderr, "Try 'unm-stack --help' for more information.\n");
			return 2;
		}
		continue;
bad_arg:
		fprintf(stderr, "unm-stack: bad value '%s' for option %s\n", optarg,
			argv[optind - 1]);
		return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "unm-stack: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!port_name || (!a4 && !a6)) {
		fprintf(stderr, "unm-stack: -i PORT and an address (-a or -6) are required (--help)\n");
		return 2;
	}
	ip4_addr_t ip4, mask4, gw4;
	ip4_addr_set_zero(&ip4);
	ip4_addr_set_zero(&mask4);
	ip4_addr_set_zero(&gw4);
	if (a4 && parse_v4(a4, &ip4, &mask4)) {
		fprintf(stderr, "unm-stack: bad IPv4 address '%s' (A.B.C.D/LEN)\n", a4);
		return 2;
	}
	if (gw && parse_v4(gw, &gw4, NULL)) {
		fprintf(stderr, "unm-stack: bad gateway '%s'\n", gw);
		return 2;
	}
	ip6_addr_t ip6;
	if (a6) {
		char b6[80];
		const char *sl = strchr(a6, '/');
		unsigned plen = 64;
		snprintf(b6, sizeof(b6), "%.*s", sl ? (int)(sl - a6) : (int)strlen(a6), a6);
		if ((sl && parse_u(sl + 1, 1, 128, &plen)) || !ip6addr_aton(b6, &ip6)) {
			fprintf(stderr, "unm-stack: bad IPv6 address '%s' (ADDR/64)\n", a6);
			return 2;
		}
		if (plen != 64 && !cfg.quiet)
			fprintf(stderr, "unm-stack: note: lwIP treats /%u as /64\n", plen);
	}
	if (url && stack_parse_url(url, &cfg) < 0) {
		fprintf(stderr, "unm-stack: bad URL '%s' (http://ADDR[:PORT]/PATH or tcp://ADDR:PORT)\n", url);
		return 2;
	}
	if (output && !url) {
		fprintf(stderr, "unm-stack: -o needs --connect\n");
		return 2;
	}
	if (cfg.http_dir && access(cfg.http_dir, R_OK | X_OK)) {
		fprintf(stderr, "unm-stack: --http %s: %s\n", cfg.http_dir, strerror(errno));
		return 1;
	}

	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: cut the sleep */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (url) {
		const char *o = output && strcmp(output, "-") ? output : NULL;
		cfg.out_fd = o ? open(o, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : 1;
		if (cfg.out_fd < 0) {
			fprintf(stderr, "unm-stack: %s: %s\n", output, strerror(errno));
			return 1;
		}
	}

	struct unm_open_opts oo = { .sz = sizeof(oo), .vnet_hdr_len = vnet };
	struct unm_port *port;
	int rc = unm_open(port_name, &port, &oo);
	if (rc < 0) {
		fprintf(stderr, "unm-stack: cannot open %s: %s%s%s\n", port_name, unm_strerror(rc),
			*unm_errmsg() ? ": " : "", unm_errmsg());
		return 1;
	}
	unm_lwip_init();
	struct unm_lwip *lw;
	rc = unm_lwip_attach(port, &lo_opts, &lw);
	if (rc < 0) {
		fprintf(stderr, "unm-stack: %s: cannot attach lwIP: %s\n", port_name, unm_strerror(rc));
		unm_close(port);
		return 1;
	}
	struct netif *nif = unm_lwip_netif(lw);
	if (a4)
		netif_set_addr(nif, &ip4, &mask4, &gw4);
	for (int k = 0; k < LWIP_IPV6_NUM_ADDRESSES; k++) /* skip DAD: addresses are given */
		if (ip6_addr_istentative(netif_ip6_addr_state(nif, k)))
			netif_ip6_addr_set_state(nif, k, IP6_ADDR_PREFERRED);
	if (a6) {
		s8_t idx;
		if (netif_add_ip6_address(nif, &ip6, &idx) != ERR_OK) {
			fprintf(stderr, "unm-stack: cannot add %s\n", a6);
			return 1;
		}
		netif_ip6_addr_set_state(nif, idx, IP6_ADDR_PREFERRED);
	}
	cfg.netif = nif;
	if (!cfg.quiet) {
		const uint8_t *m = nif->hwaddr;
		fprintf(stderr, "unm-stack: %s mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u%s%s%s%s\n",
			port_name, m[0], m[1], m[2], m[3], m[4], m[5], nif->mtu,
			a4 ? " " : "", a4 ? a4 : "", a6 ? " " : "", a6 ? a6 : "");
	}

	rc = url ? client_start(&cfg) : services_start(&cfg);
	if (rc < 0) {
		unm_lwip_detach(lw);
		unm_close(port);
		return 1;
	}
	if (!url && !cfg.quiet)
		fprintf(stderr, "unm-stack: ready\n");

	int status = 0, port_err = 0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stack_stop) {
		rc = unm_lwip_poll(lw, 100);
		if (rc < 0 && rc != -EINTR && !port_err) {
			port_err = rc;
			if (!cfg.quiet)
				fprintf(stderr, "unm-stack: %s: %s\n", port_name, unm_strerror(rc));
			if (!url) /* a closed pipe or a lost daemon does not come back */
				break;
		}
		if (url) {
			if (cfg.client_state != CLIENT_RUNNING) {
				/* let the last ACK/FIN leave */
				for (int k = 0; k < 5; k++)
					unm_lwip_poll(lw, 2);
				break;
			}
			struct timespec t;
			clock_gettime(CLOCK_MONOTONIC, &t);
			if (t.tv_sec - t0.tv_sec >= (time_t)cfg.timeout_s) {
				fprintf(stderr, "unm-stack: timed out after %u s\n", cfg.timeout_s);
				cfg.client_state = CLIENT_FAILED;
				break;
			}
		}
	}
	if (url)
		status = cfg.client_state == CLIENT_DONE ? 0 : 1;
	else if (port_err && port_err != -EPIPE)
		status = 1;
	if (cfg.verbose) {
		struct unm_lwip_stats st = { .sz = sizeof(st) };
		unm_lwip_stats(lw, &st);
		fprintf(stderr,
			"unm-stack: rx %" PRIu64 " frames %" PRIu64 " bytes, tx %" PRIu64 " frames %"
			PRIu64 " bytes, rx_bad %" PRIu64 " rx_nomem %" PRIu64 " csum_fixed %" PRIu64
			" gso %" PRIu64 " tx_full %" PRIu64 " tx_too_long %" PRIu64 " syn_dropped %" PRIu64 " nb_hits %" PRIu64 "\n",
			st.rx_frames, st.rx_bytes, st.tx_frames, st.tx_bytes, st.rx_bad, st.rx_nomem,
			st.rx_csum_fixed, st.rx_gso, st.tx_full, st.tx_too_long, st.syn_dropped, st.nb_hits);
		services_report(&cfg);
	}
	if (url && cfg.out_fd > 1)
		close(cfg.out_fd);
	unm_lwip_detach(lw);
	unm_close(port);
	return status;
}
