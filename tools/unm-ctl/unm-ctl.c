// SPDX-License-Identifier: BSD-2-Clause
/*
 * unm-ctl - control unmd's VALE switches (iproute2-style grammar):
 *
 *   unm-ctl [-s SOCK] [-j] list
 *   unm-ctl port add vale0:p1[@conf:...] | port del vale0:p1
 *   unm-ctl attach vale0 PORTNAME | detach vale0 PORTNAME
 *   unm-ctl stats [PORT|SWITCH] [-w SECONDS]
 *   unm-ctl offload [PORT|SWITCH]
 *   unm-ctl mac vale0
 *   unm-ctl switch add vale0 | switch del vale0
 *   unm-ctl switch set vale0 lossless on|off
 *
 * attach opens the host resource itself, with the user's own rights, and
 * hands unmd the fd (shmif bus file, vhost-user listening socket, an
 * existing tap): unmd, running as root, opens resources by name only for
 * administrators (docs/threat-model.md).
 *
 * Exit: 0 ok, 1 runtime failure (unmd unreachable, request refused),
 * 2 usage error. Every printed field goes through one helper that writes
 * text or JSON (-j), so the two outputs cannot drift. Single-threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "unm-ctlmsg.h"
#include "unm-memif.h"
#include "unm/vxlan.h"

static const char usage_text[] =
"Usage: unm-ctl [OPTIONS] OBJECT COMMAND [ARGS]\n"
"Control the VALE switches of unmd.\n"
"\n"
"  list                                 switches and their ports\n"
"  port add SWITCH:PORT[@conf:...]      create a persistent port\n"
"  port del SWITCH:PORT                 delete a persistent port\n"
"  attach SWITCH PORTNAME               add PORTNAME to SWITCH, served by unmd:\n"
"                                       shmif, vhost-user, memif and existing\n"
"                                       taps are opened here, with your rights,\n"
"                                       and handed over; others (afpacket, afxdp,\n"
"                                       new taps) unmd opens for admins only\n"
"  detach SWITCH PORTNAME               remove an attached port\n"
"  stats [SWITCH|SWITCH:PORT] [-w SEC]  port counters; -w: live, every SEC s\n"
"  offload [SWITCH|SWITCH:PORT]         virtio-net header offload counters\n"
"  mac SWITCH                           the learning table\n"
"  switch add SWITCH                    create a switch you own; it keeps its\n"
"                                       settings until switch del\n"
"  switch del SWITCH                    delete a switch that has no ports\n"
"  switch set SWITCH lossless on|off    backpressure instead of drops\n"
"  switch set SWITCH domains off|uid|named\n"
"                                       trust domains: zero-copy forwarding among\n"
"                                       the client ports of one uid (uid) or of\n"
"                                       @conf:domain=NAME (named); off: isolation\n"
"\n"
"Options:\n"
"  -s, --socket PATH   unmd socket (default $UNM_SOCKET, then\n"
"                      /run/unetmap/unmd.sock)\n"
"  -j, --json          JSON output\n"
"  -w, --watch SEC     with stats: refresh every SEC seconds until ^C\n"
"  -h, --help          this text\n"
"      --version       print the version\n"
"\n"
"Every switch and port has an owner (uid in list): only the owner or an\n"
"administrator (root, unmd --admin-group) may delete, detach, monitor or\n"
"change it.\n"
"\n"
"Exit status: 0 success, 1 failure, 2 usage error.\n";

static const char *sock_opt;
static bool json;
static volatile sig_atomic_t interrupted;

static void usage_error(const char *what)
{
	fprintf(stderr, "unm-ctl: %s\ntry 'unm-ctl --help'\n", what);
	exit(2);
}

/* ---- output: one helper per field type, text or JSON --------------------- */

static int jdepth;
static bool jfirst = true;

static void jsep(void)
{
	if (!jfirst)
		fputc(',', stdout);
	jfirst = false;
}

static void jstr(const char *s)
{
	fputc('"', stdout);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			fputc(ch, stdout);
	}
	fputc('"', stdout);
}

/* Opens a JSON object ('{') or array ('['), named KEY inside an object. */
static void open_(const char *key, char c)
{
	if (!json)
		return;
	jsep();
	if (key) {
		jstr(key);
		fputc(':', stdout);
	}
	fputc(c, stdout);
	jfirst = true;
	jdepth++;
}

static void open_obj(const char *key)
{
	open_(key, '{');
}

static void open_arr(const char *key)
{
	open_(key, '[');
}

static void close_(char c)
{
	if (!json)
		return;
	fputc(c, stdout);
	jfirst = false;
	if (--jdepth == 0)
		fputc('\n', stdout);
}

/* JSON: the separator and "KEY": before a value. */
static void jkey(const char *key)
{
	jsep();
	jstr(key);
	fputc(':', stdout);
}

/* FMT is the text form (printf with one argument); KEY the JSON key. */
static void print_u64(const char *key, const char *fmt, unsigned long long v)
{
	if (!json) {
		printf(fmt, v);
		return;
	}
	jkey(key);
	printf("%llu", v);
}

/*
 * The JSON object KEY of named counters V[FIRST..N) (NAMES[i] the key of
 * V[i]); as text each is FMT with its name for the %s (FMT keeps a %%llu
 * for the value). SKIP_ZERO: text leaves zero counters out.
 */
static void print_counters(const char *key, const char *const *names, const uint64_t *v,
			   unsigned first, unsigned n, const char *fmt, bool skip_zero)
{
	open_obj(key);
	for (unsigned i = first; i < n; i++) {
		char f[64];

		if (skip_zero && !json && !v[i])
			continue;
		snprintf(f, sizeof(f), fmt, names[i]);
		print_u64(names[i], f, v[i]);
	}
	close_('}');
}

static void print_str(const char *key, const char *fmt, const char *v)
{
	if (!json) {
		printf(fmt, v);
		return;
	}
	jkey(key);
	jstr(v);
}

static void print_bool(const char *key, const char *fmt, bool v)
{
	if (!json) {
		printf(fmt, v ? "on" : "off");
		return;
	}
	jkey(key);
	fputs(v ? "true" : "false", stdout);
}

static void text(const char *s)
{
	if (!json)
		fputs(s, stdout);
}

/* ---- requests ---------------------------------------------------------------- */

struct reply {
	struct unm_ctl_item *it;
	unsigned n;
	char msg[UNM_CTL_MSG_MAX];
};

static int request_fd(unsigned op, const char *name, const char *arg, uint32_t value,
		      int give_fd, struct reply *out, bool quiet);

static int request(unsigned op, const char *name, const char *arg, uint32_t value,
		   struct reply *out)
{
	return request_fd(op, name, arg, value, -1, out, false);
}

/* With GIVE_FD >= 0 it travels with the request (ATTACH). QUIET: a
 * refusal is returned (message in out->msg) instead of ending us. */
static int request_fd(unsigned op, const char *name, const char *arg, uint32_t value,
		      int give_fd, struct reply *out, bool quiet)
{
	static uint32_t seq = 1;
	struct unm_ctl_req req;
	struct unm_ctl_rep rep;
	int fd, rc;

	fd = unm_ctl_connect(unm_ctl_path(sock_opt));
	if (fd < 0) {
		fprintf(stderr, "unm-ctl: %s\n", unm_errmsg());
		exit(1);
	}
	unm_ctl_req_init(&req, op, ++seq);
	if (name && strlen(name) >= sizeof(req.name))
		usage_error("name too long");
	if (arg && strlen(arg) >= sizeof(req.arg))
		usage_error("argument too long");
	snprintf(req.name, sizeof(req.name), "%s", name ? name : "");
	snprintf(req.arg, sizeof(req.arg), "%s", arg ? arg : "");
	req.value = value;
	rc = unm_ctl_call_fds(fd, &req, give_fd >= 0 ? &give_fd : NULL, give_fd >= 0, &rep,
			      NULL, 0, 5000);
	if (rc && quiet) {
		memset(out, 0, sizeof(*out));
		snprintf(out->msg, sizeof(out->msg), "%s", unm_errmsg());
		close(fd);
		return rc;
	}
	if (rc) {
		fprintf(stderr, "unm-ctl: %s\n", unm_errmsg());
		close(fd);
		exit(1);
	}
	memset(out, 0, sizeof(*out));
	snprintf(out->msg, sizeof(out->msg), "%s", rep.msg);
	out->it = calloc(rep.n_items + 1, sizeof(*out->it));
	if (!out->it) {
		fprintf(stderr, "unm-ctl: out of memory\n");
		exit(1);
	}
	for (unsigned i = 0; i < rep.n_items; i++) {
		rc = unm_ctl_recv_item(fd, &out->it[i], seq, 5000);
		if (rc) {
			fprintf(stderr, "unm-ctl: %s\n", unm_errmsg());
			exit(1);
		}
	}
	out->n = rep.n_items;
	close(fd);
	return 0;
}

static const char *const drop_names[UNM_DROP__COUNT] = UNM_CTL_DROP_NAMES;

static uint64_t drops_total(const struct unm_ctl_port_info *p)
{
	uint64_t t = 0;

	for (unsigned i = 0; i < UNM_DROP__COUNT; i++)
		t += p->drops[i];
	return t;
}

static void port_flags(const struct unm_ctl_port_info *p, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s%s%s%s%s%s", p->flags & UNM_CTL_PORT_PERSISTENT ? "persistent," : "",
		 p->flags & UNM_CTL_PORT_ATTACHED ? "attached," : "",
		 p->flags & UNM_CTL_PORT_POOLED ? "pooled," : "",
		 p->flags & UNM_CTL_PORT_MONITOR ? "monitor," : "",
		 p->flags & UNM_CTL_PORT_ERRORED ? "errored," : "",
		 p->flags & UNM_CTL_PORT_CLIENT ? "client," : "",
		 p->flags & UNM_CTL_PORT_TOTAL ? "total," : "");
	if (buf[0])
		buf[strlen(buf) - 1] = '\0';
}

/* An attached port's backend counters, inside its port's object (-j:
 * "backend": {...}); the zero-copy pair only where the port type moves
 * frames that way (dpdk:). */
static void print_backend(const struct unm_ctl_backend_info *b)
{
	open_obj("backend");
	if (!json) /* in -j the object sits in its port's, which has the name */
		printf("    backend %s", b->name);
	print_u64("tx_frames", " tx %llu frames", b->tx_frames);
	print_u64("tx_bytes", " %llu bytes", b->tx_bytes);
	print_u64("rx_frames", " rx %llu frames", b->rx_frames);
	print_u64("rx_bytes", " %llu bytes", b->rx_bytes);
	print_u64("drops", " drops %llu", b->drops);
	print_u64("bad_buf", " bad_buf %llu", b->bad_buf);
	print_u64("bad_len", " bad_len %llu", b->bad_len);
	print_u64("gso_rx_frames", " gso rx %llu", b->gso_rx_frames);
	print_u64("gso_tx_frames", " tx %llu", b->gso_tx_frames);
	print_u64("vnet_drops", " vnet_drops %llu", b->vnet_drops);
	if (json || b->zc_tx_frames || b->zc_rx_frames || b->copy_tx_frames || b->copy_rx_frames) {
		text("\n    ");
		print_u64("zc_tx_frames", "zero-copy tx %llu", b->zc_tx_frames);
		print_u64("zc_rx_frames", " rx %llu", b->zc_rx_frames);
		print_u64("copy_tx_frames", " copied tx %llu", b->copy_tx_frames);
		print_u64("copy_rx_frames", " rx %llu", b->copy_rx_frames);
	}
	text("\n");
	close_('}');
}

static void print_port(const struct unm_ctl_port_info *p, bool counters,
		       const struct unm_ctl_backend_info *be)
{
	char fl[64];

	port_flags(p, fl, sizeof(fl));
	open_obj(NULL);
	if (p->flags & UNM_CTL_PORT_TOTAL) {
		/* the switch's totals: every port it has had, closed ones too */
		if (json)
			print_u64("idx", "%llu", p->idx);
		text("  ");
		print_str("switch", "%s ", p->sw);
		print_str("name", "%s", p->name);
		print_str("flags", "%.0s", fl);
		print_u64("ports_gone", " (live ports and %llu closed)\n", p->ports_gone);
		goto counters;
	}
	text("  ");
	print_u64("idx", "%llu: ", p->idx);
	print_str("switch", "%s:", p->sw);
	print_str("name", "%s", p->name);
	print_str("type", " type %s", p->type);
	print_str("flags", " flags <%s>", fl);
	if (p->pid || json)
		print_u64("pid", " pid %llu", (unsigned long long)p->pid);
	print_u64("uid", " owner uid %llu", p->uid);
	text("\n    ");
	print_u64("tx_rings", "rings %llu", p->geom.tx_rings);
	print_u64("rx_rings", "/%llu", p->geom.rx_rings);
	print_u64("tx_slots", " slots %llu", p->geom.tx_slots);
	print_u64("rx_slots", "/%llu", p->geom.rx_slots);
	print_u64("buf_size", " bufsize %llu", p->geom.buf_size);
	print_u64("vnet_hdr_len", " vnet %llu", p->geom.vnet_hdr_len);
	print_u64("region_bytes", " memory %llu\n", p->region_size);
	if (p->flags & UNM_CTL_PORT_MONITOR) {
		text("    ");
		print_str("mon_dirs", "monitor %s", p->mon_dirs == UNM_CTL_OPEN_MON_TX ? "tx" :
			  p->mon_dirs == UNM_CTL_OPEN_MON_RX ? "rx" : "txrx");
		print_u64("mon_copies", " copies %llu", p->mon_copies);
		print_u64("mon_drops", " drops %llu\n", p->mon_drops);
	} else if (p->monitors || p->mon_copies || p->mon_drops || json) {
		text("    ");
		print_u64("monitors", "monitors %llu", p->monitors);
		print_u64("mon_copies", " copies %llu", p->mon_copies);
		print_u64("mon_drops", " drops %llu\n", p->mon_drops);
	}
counters:
	if (counters) {
		text("    ");
		print_u64("tx_frames", "tx %llu frames", p->tx_frames);
		print_u64("tx_bytes", " %llu bytes", p->tx_bytes);
		print_u64("tx_delivered", " delivered %llu", p->tx_delivered);
		print_u64("tx_extra_copies", " extra-copies %llu", p->tx_extra_copies);
		/* of the delivered, moved by buffer swap; the rest were copied */
		print_u64("tx_swapped", " swapped %llu", p->tx_swapped);
		print_u64("tx_copied", " copied %llu\n    ", p->tx_delivered - p->tx_swapped);
		print_u64("rx_frames", "rx %llu frames", p->rx_frames);
		print_u64("rx_bytes", " %llu bytes", p->rx_bytes);
		/* what was lost on the way to this port, whoever sent it */
		print_u64("rx_drops", " dropped-toward %llu", p->rx_drops);
		print_u64("rx_dst_full", " (dst_full %llu", p->rx_dst_full);
		print_u64("rx_no_room", " no_room %llu", p->rx_no_room);
		print_u64("rx_dst_err", " dst_err %llu)\n    ", p->rx_dst_err);
		print_u64("drops", "drops %llu", drops_total(p));
		print_counters("drop_reasons", drop_names, p->drops, 0, UNM_DROP__COUNT,
			       " %s %%llu", false);
		print_u64("bad_ring", " bad_ring %llu", p->bad_ring);
		print_u64("irqs", " irqs %llu", p->irqs_tx);
		print_u64("yields", " yields %llu\n", p->yields);
		if (be)
			print_backend(be);
	}
	close_('}');
}

static int cmd_list(void)
{
	struct reply r;
	bool in_ports = false;

	request(UNM_CTL_LIST, NULL, NULL, 0, &r);
	open_arr(NULL);
	for (unsigned i = 0; i < r.n; i++) {
		const struct unm_ctl_item *it = &r.it[i];

		if (it->kind == UNM_CTL_ITEM_SWITCH) {
			if (in_ports)
				close_(']'), close_('}');
			open_obj(NULL);
			print_str("switch", "%s:", it->u.sw.sw);
			print_u64("ports", " %llu ports", it->u.sw.n_ports);
			print_bool("lossless", " lossless %s", it->u.sw.lossless);
			print_str("lookup", " lookup %s", it->u.sw.lookup);
			print_u64("mac_entries", " mac-entries %llu", it->u.sw.mac_entries);
			print_u64("frames", " frames %llu", it->u.sw.frames);
			print_u64("uid", " owner uid %llu", it->u.sw.uid);
			print_str("domains", " domains %s",
				  it->u.sw.flags & UNM_CTL_SWITCH_DOMAINS_UID ? "uid" :
				  it->u.sw.flags & UNM_CTL_SWITCH_DOMAINS_NAMED ? "named" : "off");
			print_bool("kept", " kept %s\n", it->u.sw.flags & UNM_CTL_SWITCH_KEPT);
			open_arr("port_list");
			in_ports = true;
		} else if (it->kind == UNM_CTL_ITEM_PORT) {
			print_port(&it->u.port, false, NULL);
		}
	}
	if (in_ports)
		close_(']'), close_('}');
	close_(']');
	if (!json && r.n == 0)
		printf("no switches\n");
	free(r.it);
	return 0;
}

static void on_sigint(int s)
{
	(void)s;
	interrupted = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* V with a K/M/G/T suffix, 3 significant digits (4.42G, 812K, 37). */
static const char *human(char *buf, size_t n, double v)
{
	static const char units[] = " KMGT";
	unsigned u = 0;

	while (v >= 1000 && u < sizeof(units) - 2) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, n, "%.0f ", v);
	else
		snprintf(buf, n, "%.*f%c", v < 10 ? 2 : v < 100 ? 1 : 0, v, units[u]);
	return buf;
}

/* One line per port per interval, rates from deltas over the measured time. */
static void watch_line(const struct unm_ctl_port_info *p, const struct unm_ctl_port_info *o,
		       double dt, double t)
{
	open_obj(NULL);
	print_str("port", "%s:", p->sw);
	print_str("name", "%s", p->name);
	double txp = (p->tx_frames - o->tx_frames) / dt, rxp = (p->rx_frames - o->rx_frames) / dt;
	double txb = 8.0 * (p->tx_bytes - o->tx_bytes) / dt, rxb = 8.0 * (p->rx_bytes - o->rx_bytes) / dt;
	unsigned long long dr = drops_total(p) - drops_total(o), rd = p->rx_drops - o->rx_drops;

	if (json) {
		jsep();
		printf("\"t\":%.3f,\"tx_pps\":%.0f,\"rx_pps\":%.0f,\"tx_bps\":%.0f,\"rx_bps\":%.0f,"
		       "\"drops\":%llu,\"drops_ps\":%.0f,\"rx_drops\":%llu", t, txp, rxp, txb, rxb,
		       dr, dr / dt, rd);
	} else {
		char a[16], b[16], c[16], e[16];

		printf(" t=%.3f tx %spps %sbps rx %spps %sbps drops sent %llu toward %llu\n", t,
		       human(a, sizeof(a), txp), human(b, sizeof(b), txb), human(c, sizeof(c), rxp),
		       human(e, sizeof(e), rxb), dr, rd);
	}
	close_('}');
}

static const char *const vxlan_drop_names[] = UNM_VXLAN_RX_DROP_NAMES;

/* A vxlan port's own state, after its port entry (unm-ctl stats). */
static void print_vxlan(const struct unm_ctl_vxlan_info *v)
{
	open_obj(NULL);
	text("    ");
	print_str("vxlan", "vxlan %s", v->name);
	print_u64("vni", " vni %llu", v->vni);
	print_u64("udp_port", " port %llu", v->port);
	print_str("underlay", " %s", v->family == AF_INET6 ? "ipv6" : "ipv4");
	print_u64("remotes", " remotes %llu", v->n_remotes);
	print_bool("multicast", " multicast %s", v->mcast);
	print_u64("ttl", " ttl %llu", v->ttl);
	print_u64("mtu", " mtu %llu", v->mtu);
	print_u64("underlay_mtu", " (underlay %llu)\n    ", v->underlay_mtu);
	print_u64("learned", "learned %llu", v->learn_entries);
	print_u64("learn_max", "/%llu", v->learn_max);
	print_u64("ageing_s", " ageing %llu s", v->ageing_s);
	print_u64("learn_full", " learn_full %llu", v->learn_full);
	print_u64("learn_moves", " moves %llu\n    ", v->learn_moves);
	print_u64("tx_frames", "vxlan tx %llu frames", v->tx_frames);
	print_u64("tx_datagrams", " %llu datagrams", v->tx_datagrams);
	print_u64("tx_flood", " flood %llu", v->tx_flood);
	print_u64("tx_gso_sends", " gso_sends %llu", v->tx_gso_sends);
	print_u64("tx_gso_frames", " tso_frames %llu", v->tx_gso_frames);
	print_u64("tx_csum", " csum %llu", v->tx_csum);
	print_u64("tx_errors", " errors %llu", v->tx_errors);
	print_u64("tx_drops", " drops %llu\n    ", v->tx_drops);
	print_u64("rx_datagrams", "vxlan rx %llu datagrams", v->rx_datagrams);
	print_u64("rx_frames", " %llu frames", v->rx_frames);
	print_u64("rx_gro", " gro_reads %llu", v->rx_gro);
	print_u64("rx_coalesced", " coalesced %llu", v->rx_coalesced);
	print_u64("rx_csum", " csum %llu", v->rx_csum);
	print_u64("rx_tso", " tso %llu", v->rx_tso);
	print_counters("rx_drops", vxlan_drop_names, v->rx_drop, 0,
		       sizeof(vxlan_drop_names) / sizeof(vxlan_drop_names[0]), " %s %%llu", false);
	text("\n");
	close_('}');
}

static int cmd_stats(const char *name, double watch)
{
	struct reply r, prev = { 0 };
	double t0 = now_s(), tp = t0;

	if (watch <= 0) {
		request(UNM_CTL_PORT_STATS, name, NULL, 0, &r);
		open_arr(NULL);
		for (unsigned i = 0; i < r.n; i++) {
			if (r.it[i].kind == UNM_CTL_ITEM_PORT)
				print_port(&r.it[i].u.port, true,
					   i + 1 < r.n && r.it[i + 1].kind == UNM_CTL_ITEM_BACKEND ?
					   &r.it[i + 1].u.backend : NULL);
			else if (r.it[i].kind == UNM_CTL_ITEM_VXLAN)
				print_vxlan(&r.it[i].u.vxlan);
		}
		close_(']');
		/* say it rather than print nothing: a script can tell */
		if (!json && r.n == 0)
			printf(name ? "no port matches %s\n" : "no switches%s\n", name ? name : "");
		free(r.it);
		return 0;
	}
	signal(SIGINT, on_sigint);
	while (!interrupted) {
		double t = now_s();

		request(UNM_CTL_PORT_STATS, name, NULL, 0, &r);
		if (prev.it && t - tp >= 0.01)
			for (unsigned i = 0; i < r.n; i++)
				/* monitors share their port's idx: not paired here */
				for (unsigned k = 0; k < prev.n && r.it[i].kind == UNM_CTL_ITEM_PORT &&
				     !(r.it[i].u.port.flags & UNM_CTL_PORT_MONITOR); k++)
					if (prev.it[k].kind == UNM_CTL_ITEM_PORT &&
					    prev.it[k].u.port.idx == r.it[i].u.port.idx &&
					    !(prev.it[k].u.port.flags & UNM_CTL_PORT_MONITOR) &&
					    !strcmp(prev.it[k].u.port.sw, r.it[i].u.port.sw))
						watch_line(&r.it[i].u.port, &prev.it[k].u.port,
							   t - tp, t - t0);
		fflush(stdout);
		free(prev.it);
		prev = r;
		tp = t;
		usleep((useconds_t)(watch * 1e6));
	}
	free(prev.it);
	return 0;
}

/*
 * Ask OP about NAME and print, as one JSON array, every reply item of
 * KIND with EACH (other kinds are skipped). EMPTY: the text line when
 * there is no item at all (NULL: none). Exits on a failed request.
 */
static int print_items(unsigned op, const char *name, unsigned kind,
		       void (*each)(const struct unm_ctl_item *), const char *empty)
{
	struct reply r;

	request(op, name, NULL, 0, &r);
	open_arr(NULL);
	for (unsigned i = 0; i < r.n; i++)
		if (r.it[i].kind == kind)
			each(&r.it[i]);
	close_(']');
	if (!json && r.n == 0 && empty)
		printf("%s\n", empty);
	free(r.it);
	return 0;
}

static const char *const vnet_drop_names[] = UNM_CTL_VNET_DROP_NAMES;

/* Offload counters; only the nonzero vnet drop reasons in text mode. */
static void print_offload(const struct unm_ctl_item *it)
{
	const struct unm_ctl_offload_info *o = &it->u.off;

	open_obj(NULL);
	text("  ");
	print_u64("idx", "%llu: ", o->idx);
	print_str("switch", "%s:", o->sw);
	print_str("name", "%s", o->name);
	print_u64("vnet_hdr_len", " vnet %llu\n    ", o->vnet_hdr_len);
	print_u64("gso_in", "gso_in %llu", o->gso_in);
	print_u64("segmented", " segmented %llu", o->segmented);
	print_u64("segments_out", " segments_out %llu", o->segments_out);
	print_u64("csum_completed", " csum_completed %llu", o->csum_completed);
	print_u64("zero_hdr", " zero_hdr %llu\n", o->zero_hdr);
	print_counters("vnet_drops", vnet_drop_names, o->vnet_drops, 1,
		       sizeof(vnet_drop_names) / sizeof(vnet_drop_names[0]),
		       "    vnet_drop %s %%llu\n", true);
	close_('}');
}

static void print_mac(const struct unm_ctl_item *it)
{
	const struct unm_ctl_mac *m = &it->u.mac;
	char mac[18];

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m->mac[0], m->mac[1],
		 m->mac[2], m->mac[3], m->mac[4], m->mac[5]);
	open_obj(NULL);
	print_str("mac", "%s", mac);
	print_u64("port_idx", " port %llu", m->port_idx);
	print_str("port", " (%s)", m->port);
	if (m->remote[0])
		print_str("remote", " remote %s", m->remote);
	print_u64("age_ms", " age %llu ms\n", m->age_ms);
	close_('}');
}

static int simple(unsigned op, const char *name, const char *arg, uint32_t value,
		  const char *done)
{
	struct reply r;

	request(op, name, arg, value, &r);
	if (json) {
		open_obj(NULL);
		print_str("result", "%s", "ok");
		print_str("message", "%s", done);
		close_('}');
	}
	free(r.it);
	return 0;
}

/*
 * A listening AF_UNIX socket of TYPE at SA (LEN bytes; PATH names it in
 * messages, "@NAME" = abstract). A socket file at the path that nobody
 * accepts on is a stale one of an earlier run and is replaced; a live one
 * makes bind fail with EADDRINUSE, which is the caller's answer.
 */
static int listen_own(int type, const struct sockaddr_un *sa, socklen_t len,
		      const char *path, char *why, size_t whylen)
{
	struct stat st;
	int fd, e;

	if (path[0] != '@' && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (const struct sockaddr *)sa, len) < 0 && errno == ECONNREFUSED)
			unlink(path);
		close(fd);
	}
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (const struct sockaddr *)sa, len) < 0 || listen(fd, 4) < 0) {
		e = errno;
		close(fd);
		snprintf(why, whylen, "cannot listen on %s: %s", path, strerror(e));
		return -e;
	}
	return fd;
}

/*
 * Open the host resource of port NAME ourselves, with our own rights, for
 * unmd to use: shmif -> the bus file (created if missing, as we may);
 * vhost-user -> a listening socket bound at the path (a stale socket file
 * of ours is replaced); memif -> the same as a SOCK_SEQPACKET socket
 * (role=master) or a connection to the path (role=slave); tap -> an existing tap attached with TUNSETIFF.
 * Returns the fd, -ENOTSUP when the resource is not one to hand over (unmd
 * then opens it by name, for administrators), or -errno with WHY.
 */
static int open_own(const char *name, char *why, size_t whylen)
{
	struct unm_spec s;
	char err[256];
	int fd, e;

	if (unm_parse_name(name, &s, err, sizeof(err)))
		return -ENOTSUP; /* unmd words the error */
	/* which types open from a resource of ours: the type table says */
	if (!(unm_port_type(s.kind)->caps & UNM_TYPE_FD))
		return -ENOTSUP;
	switch (s.kind) {
	case UNM_KIND_SHMIF:
		fd = open(s.path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			e = errno;
			snprintf(why, whylen, "cannot open %s: %s", s.path, strerror(e));
			return -e;
		}
		return fd;
	case UNM_KIND_VHOST: {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		if (getenv("UNM_VHOST_CLIENT") || strlen(s.path) >= sizeof(sa.sun_path))
			return -ENOTSUP;
		memcpy(sa.sun_path, s.path, strlen(s.path) + 1);
		return listen_own(SOCK_STREAM, &sa, sizeof(sa), s.path, why, whylen);
	}
	case UNM_KIND_MEMIF: {
		/* master: a listening SOCK_SEQPACKET socket bound here (a
		 * stale socket file nobody accepts on is replaced); slave: a
		 * connection to the master's socket. "@NAME": abstract. */
		struct unm_memif_conf mc;
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		size_t n = strlen(s.path);
		socklen_t len;

		if (unm_memif_conf_parse(&s, &mc, err, sizeof(err)) || n >= sizeof(sa.sun_path))
			return -ENOTSUP;
		memcpy(sa.sun_path, s.path, n);
		if (s.path[0] == '@') {
			sa.sun_path[0] = '\0';
			len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
		} else {
			len = (socklen_t)sizeof(sa);
		}
		if (!mc.master) {
			fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
			if (fd < 0)
				return -errno;
			if (connect(fd, (struct sockaddr *)&sa, len) < 0) {
				e = errno;
				close(fd);
				snprintf(why, whylen, "cannot connect to %s: %s", s.path, strerror(e));
				return -e;
			}
			return fd;
		}
		return listen_own(SOCK_SEQPACKET, &sa, len, s.path, why, whylen);
	}
	case UNM_KIND_TAP: {
		struct ifreq ifr;

		/* a new tap (CAP_NET_ADMIN) or a multi-queue one: unmd, by name */
		if (!if_nametoindex(s.port) || s.ring >= 0 || s.tx_rings > 1 || s.rx_rings > 1)
			return -ENOTSUP;
		fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			e = errno;
			snprintf(why, whylen, "cannot open /dev/net/tun: %s", strerror(e));
			return -e;
		}
		if (strlen(s.port) >= sizeof(ifr.ifr_name)) {
			close(fd);
			return -ENOTSUP;
		}
		memset(&ifr, 0, sizeof(ifr));
		memcpy(ifr.ifr_name, s.port, strlen(s.port));
		/* no vnet= in the name: unmd attaches taps with a header by
		 * default (offloads), so the fd must have one too */
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (s.vnet_hdr_len != 0 ? IFF_VNET_HDR : 0);
		if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
			e = errno;
			close(fd);
			snprintf(why, whylen, "cannot attach to tap %s: %s%s", s.port, strerror(e),
				 e == EPERM ? " (not yours: ip tuntap add ... user YOU)" : "");
			return -e;
		}
		return fd;
	}
	default:
		return -ENOTSUP;
	}
}

static int cmd_attach(const char *sw, const char *name, const char *done)
{
	char why[300] = "";
	struct reply r;
	int fd = open_own(name, why, sizeof(why));
	int rc;

	if (fd >= 0) {
		rc = request_fd(UNM_CTL_ATTACH, sw, name, 0, fd, &r, false);
		close(fd);
	} else {
		/* unmd opens it by name: only for administrators */
		rc = request_fd(UNM_CTL_ATTACH, sw, name, 0, -1, &r, true);
		if (rc) {
			if (why[0])
				fprintf(stderr, "unm-ctl: %s; and by name: %s\n", why, r.msg);
			else
				fprintf(stderr, "unm-ctl: %s\n", r.msg);
			exit(1);
		}
	}
	if (json) {
		open_obj(NULL);
		print_str("result", "%s", "ok");
		print_str("message", "%s", done);
		close_('}');
	}
	free(r.it);
	return 0;
}

static int run(int argc, char **argv, double watch)
{
	const char *obj = argc > 0 ? argv[0] : NULL;
	char what[300];

#define NEED(n, u) do { if (argc != (n)) usage_error("usage: unm-ctl " u); } while (0)
	if (!obj)
		usage_error("missing OBJECT (list, port, attach, detach, stats, offload, mac, switch)");
	if (!strcmp(obj, "list")) {
		NEED(1, "list");
		return cmd_list();
	}
	if (!strcmp(obj, "port")) {
		if (argc == 3 && !strcmp(argv[1], "add")) {
			snprintf(what, sizeof(what), "port %s added", argv[2]);
			return simple(UNM_CTL_PORT_ADD, argv[2], NULL, 0, what);
		}
		if (argc == 3 && !strcmp(argv[1], "del")) {
			snprintf(what, sizeof(what), "port %s deleted", argv[2]);
			return simple(UNM_CTL_PORT_DEL, argv[2], NULL, 0, what);
		}
		usage_error("usage: unm-ctl port add|del SWITCH:PORT[@conf:...]");
	}
	if (!strcmp(obj, "attach") || !strcmp(obj, "detach")) {
		bool at = obj[0] == 'a';

		NEED(3, "attach|detach SWITCH PORTNAME");
		snprintf(what, sizeof(what), "%s %s %s", argv[2], at ? "attached to" : "detached from",
			 argv[1]);
		if (at)
			return cmd_attach(argv[1], argv[2], what);
		return simple(UNM_CTL_DETACH, argv[1], argv[2], 0, what);
	}
	if (!strcmp(obj, "stats")) {
		if (argc > 2)
			usage_error("usage: unm-ctl stats [SWITCH|SWITCH:PORT] [-w SECONDS]");
		return cmd_stats(argc == 2 ? argv[1] : NULL, watch);
	}
	if (!strcmp(obj, "offload")) {
		if (argc > 2)
			usage_error("usage: unm-ctl offload [SWITCH|SWITCH:PORT]");
		return print_items(UNM_CTL_PORT_OFFLOAD, argc == 2 ? argv[1] : NULL,
				   UNM_CTL_ITEM_OFFLOAD, print_offload, NULL);
	}
	if (!strcmp(obj, "mac")) {
		NEED(2, "mac SWITCH");
		return print_items(UNM_CTL_MAC_TABLE, argv[1], UNM_CTL_ITEM_MAC, print_mac,
				   "no entries");
	}
	if (!strcmp(obj, "switch")) {
		if (argc == 3 && (!strcmp(argv[1], "add") || !strcmp(argv[1], "del"))) {
			bool add = argv[1][0] == 'a';

			snprintf(what, sizeof(what), "switch %s %s", argv[2], add ? "added" : "deleted");
			return simple(add ? UNM_CTL_SWITCH_ADD : UNM_CTL_SWITCH_DEL, argv[2], NULL, 0,
				      what);
		}
		NEED(5, "switch add|del SWITCH, or switch set SWITCH lossless on|off, or switch set "
		     "SWITCH domains off|uid|named");
		if (!strcmp(argv[1], "set") && !strcmp(argv[3], "domains")) {
			unsigned v = !strcmp(argv[4], "off") ? 0 : !strcmp(argv[4], "uid") ? 1 :
				     !strcmp(argv[4], "named") ? 2 : 3;

			if (v == 3)
				usage_error("usage: unm-ctl switch set SWITCH domains off|uid|named");
			snprintf(what, sizeof(what), "%s domains %s", argv[2], argv[4]);
			return simple(UNM_CTL_SWITCH_SET, argv[2], "domains", v, what);
		}
		if (strcmp(argv[1], "set") || strcmp(argv[3], "lossless") ||
		    (strcmp(argv[4], "on") && strcmp(argv[4], "off")))
			usage_error("usage: unm-ctl switch set SWITCH lossless on|off");
		snprintf(what, sizeof(what), "%s lossless %s", argv[2], argv[4]);
		return simple(UNM_CTL_SWITCH_SET, argv[2], "lossless", !strcmp(argv[4], "on"), what);
	}
#undef NEED
	snprintf(what, sizeof(what), "unknown object '%.100s'", obj);
	usage_error(what);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "watch", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static char *rest[64];
	int nrest = 0;
	double watch = 0;
	int c;

	/* options may follow the command (stats vale0:p1 -w 1) */
	while ((c = getopt_long(argc, argv, "+s:jw:h", lo, NULL)) != -1 || optind < argc) {
		char *end;

		if (c == -1) {
			/* a non-option: keep it, continue after it */
			if (nrest < 63)
				rest[nrest++] = argv[optind];
			optind++;
			continue;
		}
		switch (c) {
		case 's': sock_opt = optarg; break;
		case 'j': json = true; break;
		case 'w':
			watch = strtod(optarg, &end);
			if (*end || watch <= 0)
				usage_error("-w takes a positive number of seconds");
			break;
		case 'h': fputs(usage_text, stdout); return 0;
		case 'V': printf("unm-ctl (libunm %s)\n", unm_version()); return 0;
		default: usage_error("bad option");
		}
	}
	return run(nrest, rest, watch);
}
