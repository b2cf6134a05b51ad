// SPDX-License-Identifier: BSD-2-Clause
/*
 * main.c - unmd: options, the control socket, the control thread's event
 * loop (accept, requests, client hang-ups, errored ports, signals) and
 * clean shutdown.
 *
 * Threads: this file runs on the control thread; vale.c starts the
 * forwarding thread. Connections (struct ctl_conn) belong to the control
 * thread alone; ports point back at their connection (p->owner) under
 * d->lock, and a connection is freed only after its port left it.
 *
 * Access control is the socket file's: owner = the user running unmd,
 * group = -g GROUP (else unmd's group), mode = -m MODE (default 0660).
 * Whoever can connect can open, list and manage ports, within the per-uid
 * limits (--max-ports, --max-mem).
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "unmd.h"
#include "ctlmsg.h"

static struct unmd D;
static struct ctl_conn *conns;
/* Closed in this epoll batch: a later event of the same batch may still
 * point at them, so they are freed only when the batch is done. */
static struct ctl_conn *graveyard;

void ulog(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "unmd: %s\n", msg);
}

void udebug(struct unmd *d, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!d->verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "unmd: %s\n", msg);
}

/* The control thread announces itself so the forwarding thread, which
 * re-takes the lock after every round, lets it in (mutexes are not fair). */
void unmd_lock(struct unmd *d)
{
	__atomic_fetch_add(&d->ctl_waiting, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_lock(&d->lock);
	__atomic_fetch_sub(&d->ctl_waiting, 1, __ATOMIC_ACQ_REL);
}

void unmd_unlock(struct unmd *d)
{
	pthread_mutex_unlock(&d->lock);
}

static void lib_log(enum unm_log_level lvl, const char *msg, void *arg)
{
	if (lvl <= UNM_LOG_WARN || D.verbose)
		ulog("%s", msg);
}

static const char usage_text[] =
"Usage: unmd [OPTIONS]\n"
"Serve VALE switches to unetmap clients over a control socket.\n"
"\n"
"  -s, --socket PATH     control socket (default $UNM_SOCKET, then\n"
"                        /run/unetmap/unmd.sock); its directory is created\n"
"  -f, --foreground      stay in the foreground (default: detach once ready)\n"
"  -v, --verbose         log more (requests, library warnings)\n"
"  -m, --mode MODE       socket file mode, octal (default 0660)\n"
"  -g, --group GROUP     socket file group (default: unmd's group)\n"
"      --max-ports N     ports one uid may own (default 1024)\n"
"      --max-mem BYTES   port memory one uid may own, K/M/G suffix (default 8G)\n"
"      --max-conns N     control connections one uid may hold (default:\n"
"                        --max-ports + 16; each client port holds one)\n"
"  -h, --help            this text\n"
"      --version         print the version\n"
"\n"
"Access: whoever may connect to the socket (owner, group, mode) may open\n"
"and manage ports. SIGTERM or SIGINT stops unmd cleanly.\n";

struct opts {
	const char *sock;
	bool foreground;
	mode_t mode;
	gid_t gid;
	bool have_gid;
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "unmd: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\ntry 'unmd --help'\n");
	exit(2);
}

static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end || end == s || v == 0)
		usage_error("bad size '%s'", s);
	return v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "mode", required_argument, NULL, 'm' },
		{ "group", required_argument, NULL, 'g' },
		{ "max-ports", required_argument, NULL, 'P' },
		{ "max-conns", required_argument, NULL, 'C' },
		{ "max-mem", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:fvm:g:h", lo, NULL)) != -1) {
		char *end;

		switch (c) {
		case 's': o->sock = optarg; break;
		case 'f': o->foreground = true; break;
		case 'v': D.verbose = true; break;
		case 'm':
			o->mode = (mode_t)strtoul(optarg, &end, 8);
			if (*end || end == optarg || o->mode > 0777)
				usage_error("bad mode '%s' (octal, e.g. 0660)", optarg);
			break;
		case 'g': {
			struct group *g = getgrnam(optarg);

			if (!g) {
				o->gid = (gid_t)strtoul(optarg, &end, 10);
				if (*end || end == optarg)
					usage_error("unknown group '%s'", optarg);
			} else {
				o->gid = g->gr_gid;
			}
			o->have_gid = true;
			break;
		}
		case 'P':
			D.max_ports_uid = (unsigned)strtoul(optarg, &end, 10);
			if (*end || end == optarg || !D.max_ports_uid)
				usage_error("bad port limit '%s'", optarg);
			break;
		case 'C':
			D.max_conns_uid = (unsigned)strtoul(optarg, &end, 10);
			if (*end || end == optarg || !D.max_conns_uid)
				usage_error("bad connection limit '%s'", optarg);
			break;
		case 'M': D.max_mem_uid = parse_size(optarg); break;
		case 'h': fputs(usage_text, stdout); exit(0);
		case 'V': printf("unmd %s\n", unm_version()); exit(0);
		default: usage_error("%s", "bad option");
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!D.max_conns_uid) /* each client port holds a connection */
		D.max_conns_uid = D.max_ports_uid + 16;
}

static int mkdirs(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(dir, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	return mkdir(dir, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

static int listen_socket(const struct opts *o)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, rc;

	if (strlen(o->sock) >= sizeof(sa.sun_path)) {
		ulog("socket path too long: %s", o->sock);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, o->sock, strlen(o->sock) + 1);
	if ((rc = mkdirs(o->sock))) {
		ulog("cannot create the directory of %s: %s", o->sock, strerror(-rc));
		return rc;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc < 0 && errno == EADDRINUSE) {
		int probe = unm_ctl_connect(o->sock);

		if (probe >= 0) {
			close(probe);
			umask(old);
			close(fd);
			ulog("another unmd is serving %s", o->sock);
			return -EADDRINUSE;
		}
		unlink(o->sock); /* stale socket of a dead unmd */
		rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	umask(old);
	if (rc < 0 || chmod(o->sock, o->mode) < 0 ||
	    (o->have_gid && chown(o->sock, (uid_t)-1, o->gid) < 0) || listen(fd, 128) < 0) {
		rc = -errno;
		ulog("cannot listen on %s: %s", o->sock, strerror(errno));
		close(fd);
		return rc;
	}
	return fd;
}

static void conn_new(int ep, int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	struct timeval tv = { .tv_sec = 2 };
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct ctl_conn *c;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		free(c);
		close(fd);
		return;
	}
	/* a client that stops reading cannot stall us for more than 2 s */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c->fd = fd;
	c->pid = cr.pid;
	c->uid = cr.uid;
	c->gid = cr.gid;
	{ /* one uid cannot take unmd's fd table from the others */
		unsigned n = 0;

		for (struct ctl_conn *o = conns; o; o = o->next)
			n += o->uid == c->uid;
		c->over_quota = n >= D.max_conns_uid;
	}
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(c);
		close(fd);
		return;
	}
	c->next = conns;
	conns = c;
	udebug(&D, "connection from pid %d uid %u gid %u", (int)cr.pid, (unsigned)cr.uid,
	       (unsigned)cr.gid);
}

static void conn_close(int ep, struct ctl_conn *c, const char *why)
{
	if (c->fd < 0)
		return;
	ctl_conn_gone(&D, c, why);
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	shutdown(c->fd, SHUT_RDWR);
	close(c->fd);
	c->fd = -1;
	for (struct ctl_conn **pp = &conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	c->next = graveyard;
	graveyard = c;
}

static void bury(void)
{
	while (graveyard) {
		struct ctl_conn *c = graveyard;

		graveyard = c->next;
		free(c);
	}
}

/* Ports the forwarding thread errored: cut their clients off. */
static void reap(int ep)
{
	uint64_t cnt;
	struct ctl_conn *c, *next;

	if (read(D.reap_fd, &cnt, sizeof(cnt)) < 0)
		return;
	for (c = conns; c; c = next) {
		bool bad;

		next = c->next;
		unmd_lock(&D);
		bad = c->port && c->port->errored;
		unmd_unlock(&D);
		if (bad)
			conn_close(ep, c, "cut off (port errored)");
	}
}

static void shutdown_all(int ep)
{
	while (conns)
		conn_close(ep, conns, "disconnected at shutdown");
	vs_stop(&D);
	for (unsigned i = 0; i < VS_MAX_SWITCHES; i++) {
		struct vswitch *sw = D.sw[i];

		while (sw && sw->n_active) {
			struct vport *p = sw->ports[sw->active[0]];
			bool last = sw->n_active == 1;

			vs_port_remove(&D, p);
			p->ops->destroy(p);
			if (last)
				break; /* the switch went with its last port */
		}
	}
}

static int serve(int lfd, int sfd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		return -errno;
	ev.data.ptr = &lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.ptr = &sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.ptr = &D.reap_fd;
	epoll_ctl(ep, EPOLL_CTL_ADD, D.reap_fd, &ev);
	for (;;) {
		struct epoll_event evs[16];
		int n = epoll_wait(ep, evs, 16, -1);

		if (n < 0 && errno != EINTR) {
			ulog("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &lfd) {
				conn_new(ep, lfd);
			} else if (p == &sfd) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					ulog("signal %u: shutting down", si.ssi_signo);
					shutdown_all(ep);
					bury();
					close(ep);
					return 0;
				}
			} else if (p == &D.reap_fd) {
				reap(ep);
			} else {
				struct ctl_conn *c = p;

				/* a request, or the hang-up: ctl_handle sees both */
				if (c->fd >= 0 && ctl_handle(&D, c) < 0)
					conn_close(ep, c, NULL);
			}
		}
		bury();
	}
	shutdown_all(ep);
	bury();
	close(ep);
	return 1;
}

/* Detach once the socket is ready; the parent's exit status says so. */
static void daemonize(void)
{
	pid_t pid = fork();

	if (pid < 0) {
		ulog("fork: %s", strerror(errno));
		exit(1);
	}
	if (pid > 0)
		_exit(0);
	setsid();
	if (chdir("/") < 0)
		ulog("chdir /: %s", strerror(errno));
	if (!freopen("/dev/null", "r", stdin))
		ulog("stdin: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	struct opts o = { .mode = 0660 };
	struct rlimit rl;
	sigset_t ss;
	int lfd, sfd, rc;

	D.max_ports_uid = 1024;
	D.max_mem_uid = 8ull << 30;
	parse_args(argc, argv, &o);
	o.sock = unm_ctl_path(o.sock);
	setvbuf(stderr, NULL, _IOLBF, 0);
	unm_set_log(lib_log, NULL);
	/* every port holds 1 + 2 x rings fds: raise the soft limit */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &ss, NULL); /* inherited by the forwarding thread */
	sfd = signalfd(-1, &ss, SFD_CLOEXEC);
	pthread_mutex_init(&D.lock, NULL);
	D.reap_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sfd < 0 || D.reap_fd < 0) {
		ulog("signalfd/eventfd: %s", strerror(errno));
		return 1;
	}
	lfd = listen_socket(&o);
	if (lfd < 0)
		return 1;
	if (!o.foreground)
		daemonize();
	if ((rc = vs_start(&D))) {
		ulog("cannot start the forwarding thread: %s", strerror(-rc));
		unlink(o.sock);
		return 1;
	}
	ulog("serving %s (mode %04o, pid %d)", o.sock, (unsigned)o.mode, (int)getpid());
	rc = serve(lfd, sfd);
	close(lfd);
	unlink(o.sock);
	close(sfd);
	close(D.reap_fd);
	pthread_mutex_destroy(&D.lock);
	ulog("stopped");
	return rc;
}
