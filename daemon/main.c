// SPDX-License-Identifier: BSD-2-Clause
/*
 * main.c - unmd's program: options, the control socket, detaching, then
 * the daemon's core (libunmd.a: unmd.c, ctl_loop.c, ...) with one context.
 *
 * Threads: this file runs on the control thread (ctl_loop.c); vale_thread.c
 * starts the forwarding thread.
 *
 * Who may connect is the socket file's business: owner = the user running
 * unmd, group = -g GROUP (else unmd's group), mode = -m MODE (default
 * 0660). What a connected client may do is authz.c's: its own switches and
 * ports, resources it hands over as fds, and by-name host resources only
 * if it is an administrator (root or --admin-group), within the per-uid
 * limits (--max-ports, --max-mem).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "unmd.h"
#include "unm-ctlmsg.h"

/*
 * SIGBUS: a client shrank a file we map (its shmif bus, a vhost-user
 * frontend's memory). The library swaps that mapping for zero pages and
 * the access is retried; that client's port sees only zeros (drops).
 * Anything else is a real bug: die of it as usual.
 */
static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (unm_foreign_fault(si->si_addr))
		return;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void lib_log(enum unm_log_level lvl, const char *msg, void *arg)
{
	const struct unmd *d = arg;

	if (lvl <= UNM_LOG_WARN || d->verbose)
		ulog("%s", msg);
}

static const char usage_text[] =
"Usage: unmd [OPTIONS]\n"
"Serve VALE switches to unetmap clients over a control socket.\n"
"\n"
"  -s, --socket PATH     control socket (default $UNM_SOCKET, then\n"
"                        /run/unetmap/unmd.sock); its directory is created,\n"
"                        and it and those above must be root's (or unmd's)\n"
"                        and not writable by others unless sticky\n"
"  -f, --foreground      stay in the foreground, log to stderr (default: detach\n"
"                        once ready, then log to syslog)\n"
"  -v, --verbose         log more (requests, library warnings)\n"
"  -m, --mode MODE       socket file mode, octal (default 0660)\n"
"  -g, --group GROUP     socket file group (default: unmd's group)\n"
"      --admin-group GROUP  members may do what root may: attach host\n"
"                        resources by name (tap, afpacket, afxdp, shmif and\n"
"                        vhost-user paths) and manage every user's ports\n"
"      --max-ports N     ports and monitors one uid may own (default 1024)\n"
"      --max-mem BYTES   port and monitor memory one uid may own, K/M/G\n"
"                        suffix (default 8G)\n"
"      --max-switches N  switches a user (not an administrator) may own\n"
"                        (default 16; 64 switches in all)\n"
"      --max-conns N     control connections one uid may hold, counted at\n"
"                        accept (default: --max-ports + 16; each client\n"
"                        port holds one)\n"
"  -h, --help            this text\n"
"      --version         print the version\n"
"\n"
"Access: whoever may connect to the socket (owner, group, mode) may open\n"
"ports and manage their own; host resources they hand over as fds (unm-ctl\n"
"attach does). Opening a host resource by name, and managing other users'\n"
"ports, is for root and --admin-group. SIGTERM or SIGINT stops unmd cleanly.\n";

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

static void parse_args(struct unmd *d, int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "mode", required_argument, NULL, 'm' },
		{ "group", required_argument, NULL, 'g' },
		{ "admin-group", required_argument, NULL, 'A' },
		{ "max-ports", required_argument, NULL, 'P' },
		{ "max-conns", required_argument, NULL, 'C' },
		{ "max-mem", required_argument, NULL, 'M' },
		{ "max-switches", required_argument, NULL, 'S' },
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
		case 'v': d->verbose = true; break;
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
		case 'A': {
			struct group *g = getgrnam(optarg);

			if (!g) {
				d->admin_gid = (gid_t)strtoul(optarg, &end, 10);
				if (*end || end == optarg)
					usage_error("unknown group '%s'", optarg);
			} else {
				d->admin_gid = g->gr_gid;
			}
			d->have_admin_gid = true;
			break;
		}
		case 'P':
			d->max_ports_uid = (unsigned)strtoul(optarg, &end, 10);
			if (*end || end == optarg || !d->max_ports_uid)
				usage_error("bad port limit '%s'", optarg);
			break;
		case 'C':
			d->max_conns_uid = (unsigned)strtoul(optarg, &end, 10);
			if (*end || end == optarg || !d->max_conns_uid)
				usage_error("bad connection limit '%s'", optarg);
			break;
		case 'M': d->max_mem_uid = parse_size(optarg); break;
		case 'S':
			d->max_switches_uid = (unsigned)strtoul(optarg, &end, 10);
			if (*end || end == optarg || !d->max_switches_uid)
				usage_error("bad switch limit '%s'", optarg);
			break;
		case 'h': fputs(usage_text, stdout); exit(0);
		case 'V': printf("unmd %s\n", unm_version()); exit(0);
		default: usage_error("%s", "bad option");
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!d->max_conns_uid) /* each client port holds a connection */
		d->max_conns_uid = d->max_ports_uid + 16;
}

/* ---- the control socket ------------------------------------------------------
 *
 * The socket is made in a directory nobody but root (or unmd's own user)
 * can change, and unmd works inside that directory through a descriptor
 * (sock_dir) from the moment it checked it:
 *   - every directory on the way (the path made canonical with realpath,
 *     then walked one component at a time with O_NOFOLLOW, created 0755
 *     if missing) must be owned by root or unmd's uid and not writable by
 *     group or others, unless sticky (like /tmp: there a name can only be
 *     removed or renamed by its owner or the directory's);
 *   - bind() goes through /proc/self/fd/N/NAME, i.e. into the directory
 *     that was checked, whatever was renamed or swapped on the path since;
 *   - the mode comes from the umask at bind (no chmod at all), and the
 *     group from fchownat(AT_SYMLINK_NOFOLLOW) on NAME in that directory,
 *     then checked with fstatat to be our socket (same inode as bound): in
 *     a directory only we can write, nobody can put a link or another file
 *     at NAME in between, and in a sticky one nobody can remove ours; and
 *     NOFOLLOW would change a link itself, never its target.
 */
static int sock_dir = -1;
static char sock_name[108];
static dev_t sock_dev;
static ino_t sock_ino;

/* Is directory FD (named PATH) safe to hold the socket? 0 or -EPERM with
 * the reason logged. */
static int dir_ok(int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		ulog("refusing socket directory %s: owned by uid %u, not by root or unmd's uid %u",
		     path, (unsigned)st.st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		ulog("refusing socket directory %s: mode %04o lets %s write it (chmod go-w, or use "
		     "a directory only root can write)", path, (unsigned)(st.st_mode & 07777),
		     st.st_mode & S_IWOTH ? "others" : "its group");
		return -EPERM;
	}
	return 0;
}

/* Open (creating what is missing) and check every directory of DIR, an
 * absolute path; returns an O_PATH fd of the last one or -errno. */
static int open_dir_checked(const char *dir)
{
	char buf[PATH_MAX], *comp, *save = NULL;
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	if ((rc = dir_ok(fd, "/"))) {
		close(fd);
		return rc;
	}
	snprintf(buf, sizeof(buf), "%s", dir);
	for (comp = strtok_r(buf, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		int next;

		if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
			rc = -errno;
			ulog("cannot create the socket directory %s: %s", dir, strerror(errno));
			close(fd);
			return rc;
		}
		next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		rc = next < 0 ? -errno : 0;
		close(fd);
		if (rc) {
			ulog("cannot open the socket directory %s (at %s): %s", dir, comp,
			     strerror(-rc));
			return rc;
		}
		fd = next;
		if ((rc = dir_ok(fd, dir))) {
			close(fd);
			return rc;
		}
	}
	return fd;
}

static int listen_socket(const struct opts *o)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], real[PATH_MAX];
	const char *slash = strrchr(o->sock, '/');
	struct stat st;
	mode_t old;
	int fd, rc;

	if (strlen(o->sock) >= sizeof(sa.sun_path)) {
		ulog("socket path too long: %s", o->sock);
		return -ENAMETOOLONG;
	}
	snprintf(sock_name, sizeof(sock_name), "%s", slash ? slash + 1 : o->sock);
	if (!sock_name[0] || !strcmp(sock_name, ".") || !strcmp(sock_name, "..")) {
		ulog("bad socket path %s", o->sock);
		return -EINVAL;
	}
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == o->sock)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - o->sock), o->sock);
	/* canonical path of the deepest existing ancestor, then the rest */
	{
		char probe[PATH_MAX], rest[PATH_MAX] = "";

		snprintf(probe, sizeof(probe), "%s%s", dir[0] == '/' ? "" : "./", dir);
		while (!realpath(probe, real)) {
			char *s = strrchr(probe, '/');

			if (errno != ENOENT || !s) {
				ulog("socket directory %s: %s", dir, strerror(errno));
				return -errno;
			}
			snprintf(real, sizeof(real), "%s%s", s, rest);
			snprintf(rest, sizeof(rest), "%s", real);
			if (s == probe)
				s[1] = '\0';
			else
				*s = '\0';
		}
		if (strlen(real) + strlen(rest) + 1 > sizeof(real)) {
			ulog("socket directory %s: path too long", dir);
			return -ENAMETOOLONG;
		}
		strcat(real, rest);
	}
	if ((sock_dir = open_dir_checked(real)) < 0)
		return sock_dir;
	/* bind inside the directory just checked (see above) */
	if (strlen(sock_name) + 30 >= sizeof(sa.sun_path)) {
		ulog("socket name too long: %s", sock_name);
		return -ENAMETOOLONG;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%.70s", sock_dir, sock_name);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	old = umask(0777 & ~o->mode); /* the socket is born with MODE: no chmod */
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc < 0 && errno == EADDRINUSE) {
		int probe;

		if (fstatat(sock_dir, sock_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISSOCK(st.st_mode)) {
			umask(old);
			close(fd);
			ulog("%s exists and is not a socket: not touching it", o->sock);
			return -EEXIST;
		}
		probe = unm_ctl_connect(sa.sun_path);
		if (probe >= 0) {
			close(probe);
			umask(old);
			close(fd);
			ulog("another unmd is serving %s", o->sock);
			return -EADDRINUSE;
		}
		unlinkat(sock_dir, sock_name, 0); /* stale socket of a dead unmd */
		rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	umask(old);
	if (rc < 0 || fstatat(sock_dir, sock_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    (o->have_gid && fchownat(sock_dir, sock_name, (uid_t)-1, o->gid,
				     AT_SYMLINK_NOFOLLOW) < 0) || listen(fd, 128) < 0) {
		rc = -errno;
		ulog("cannot listen on %s: %s", o->sock, strerror(errno));
		close(fd);
		return rc;
	}
	sock_dev = st.st_dev;
	sock_ino = st.st_ino;
	if (!S_ISSOCK(st.st_mode)) { /* cannot happen: the directory is ours */
		ulog("%s is not the socket unmd bound", o->sock);
		close(fd);
		return -EEXIST;
	}
	return fd;
}

/* Remove our socket, and nothing else that may have taken its name. */
static void unlink_socket(void)
{
	struct stat st;

	if (sock_dir >= 0 && fstatat(sock_dir, sock_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == sock_dev && st.st_ino == sock_ino)
		unlinkat(sock_dir, sock_name, 0);
}

/* Log lines go to standard error in the foreground (-f, where a service
 * manager such as systemd collects it), to syslog (facility daemon) once
 * detached, when no terminal is there to read them. */
static void syslog_sink(const char *msg)
{
	syslog(LOG_NOTICE, "%s", msg);
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
	/* from here on nobody reads the starting shell's terminal */
	openlog("unmd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	unmd_set_log(syslog_sink);
	if (chdir("/") < 0)
		ulog("chdir /: %s", strerror(errno));
	if (!freopen("/dev/null", "r", stdin))
		ulog("stdin: %s", strerror(errno));
	if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
		ulog("stdout/stderr: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	struct opts o = { .mode = 0660 };
	struct unmd daemon, *d = &daemon;
	struct rlimit rl;
	sigset_t ss;
	int lfd, sfd, rc;

	if ((rc = unmd_init(d))) {
		ulog("eventfd: %s", strerror(-rc));
		return 1;
	}
	parse_args(d, argc, argv, &o);
	o.sock = unm_ctl_path(o.sock);
	setvbuf(stderr, NULL, _IOLBF, 0);
	unm_set_log(lib_log, d);
	/* every port holds 1 + 2 x rings fds: raise the soft limit */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	{
		struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGBUS, &sa, NULL);
	}
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &ss, NULL); /* inherited by the forwarding thread */
	sfd = signalfd(-1, &ss, SFD_CLOEXEC);
	if (sfd < 0) {
		ulog("signalfd: %s", strerror(errno));
		return 1;
	}
	lfd = listen_socket(&o);
	if (lfd < 0)
		return 1;
	if (!o.foreground)
		daemonize();
	if ((rc = vs_start(d))) {
		ulog("cannot start the forwarding thread: %s", strerror(-rc));
		unlink_socket();
		return 1;
	}
	ulog("serving %s (mode %04o, pid %d)", o.sock, (unsigned)o.mode, (int)getpid());
	rc = unmd_serve(d, lfd, sfd);
	close(lfd);
	unlink_socket();
	close(sfd);
	unmd_fini(d);
	ulog("stopped");
	return rc;
}
