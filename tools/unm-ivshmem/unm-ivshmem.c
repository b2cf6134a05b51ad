// SPDX-License-Identifier: BSD-2-Clause
/*
 * unm-ivshmem - serve a VALE switch port to a QEMU guest through stock
 * QEMU's ivshmem-doorbell device (Debian ships no ivshmem-server).
 *
 *   unm-ivshmem [-s UNMD_SOCKET] [-l LISTEN_SOCKET] [-i CHARDEV_ID] valeX:PORT[@conf...]
 *
 * It opens the port in unmd as any client does (OPEN_PORT, asking for a
 * power-of-two region so it can be a PCI BAR), receives the region memfd
 * and the kick/irq eventfds, and hands them to the QEMU that connects to
 * LISTEN_SOCKET, following the ivshmem protocol (lib/backend/ivshmem.h has the
 * mapping of vectors to CSB entries). Then it only waits: the data path
 * is unmd <-> shared memory <-> guest, and kicks and interrupts go
 * eventfd <-> QEMU directly. Once listening it prints the QEMU options on
 * stdout, one line:
 *   -chardev socket,path=LISTEN_SOCKET,id=ID -device ivshmem-doorbell,chardev=ID,vectors=N
 *
 * Why a separate tool and not a feature of unmd: unmd already serves
 * exactly this (a client holding a region and two eventfds per ring);
 * the ivshmem part is a fd hand-over at connect time, so unmd keeps a
 * single kind of client and stays free of QEMU's protocol and its
 * failure modes. The port lives as long as this process's connection to
 * unmd: unmd removes it when unm-ivshmem exits.
 *
 * One guest per port: a second QEMU connecting is refused. When the QEMU
 * connection closes (the VM is gone) unm-ivshmem exits 0. If unmd goes
 * away, nobody serves the rings any more: unm-ivshmem sets
 * UNM_CSB_F_ERROR in every CSB entry (as unmd does for a port it stops
 * serving), so the guest's next sync fails with -EIO instead of waiting
 * forever, and exits 1. SIGINT/SIGTERM: clean exit.
 *
 * Single-threaded.
 */
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "unm-ctlmsg.h"
#include "unm-ivshmem.h"

static const char usage_text[] =
"Usage: unm-ivshmem [OPTIONS] SWITCH:PORT[@conf:...]\n"
"Pass a VALE switch port through to a QEMU guest (ivshmem-doorbell).\n"
"\n"
"Options:\n"
"  -s, --socket PATH   unmd socket (default $UNM_SOCKET, then\n"
"                      /run/unetmap/unmd.sock).\n"
"  -l, --listen PATH   socket QEMU's chardev connects to (default\n"
"                      /run/unetmap/ivshmem-SWITCH-PORT.sock).\n"
"  -i, --id ID         chardev id in the printed QEMU options (default ivsh0).\n"
"  -q, --quiet         no log lines on standard error.\n"
"  -h, --help          print the usage text and exit.\n"
"      --version       print the library version and exit.\n"
"\n"
"Prints one line of QEMU options once ready, serves one guest, and exits\n"
"when that guest's QEMU disconnects. In the guest, open the port as\n"
"ivshmem:DDDD:BB:DD.F (the device's PCI address).\n"
"Exit status: 0 guest done or signal, 1 failure, 2 usage error.\n";

static volatile sig_atomic_t stop;
static int quiet;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void logm(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "unm-ivshmem: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

struct server {
	int ctl;                 /* connection to unmd (holds the port) */
	int region;              /* memfd */
	unsigned n;              /* vectors = CSB entries = n_tx + n_rx */
	int kick[2 * UNM_MAX_RINGS];
	int irq[2 * UNM_MAX_RINGS];
	int lsock;               /* listening, for QEMU */
	int guest;               /* QEMU's connection, -1 if none */
	uint64_t region_size;
	struct unm_region reg;   /* our own validated mapping, for the CSB */
};

/* The host side is gone: tell the guest through every CSB entry. */
static void csb_error_all(struct server *s)
{
	if (!s->reg.base)
		return;
	for (unsigned e = 0; e < s->n && 2 * e + 1 < s->reg.csb_entries; e++) {
		struct unm_csb *c = unm_region_csb(&s->reg, 2 * e);

		__atomic_fetch_or(&c->h2a.host_flags, UNM_CSB_F_ERROR, __ATOMIC_SEQ_CST);
	}
}

static int open_port(struct server *s, const char *sock, const char *name)
{
	struct unm_ctl_req req;
	struct unm_ctl_rep rep;
	int fds[UNM_CTL_MAX_FDS];
	struct stat st;
	int rc;

	s->ctl = unm_ctl_connect(unm_ctl_path(sock));
	if (s->ctl < 0)
		return s->ctl;
	unm_ctl_req_init(&req, UNM_CTL_OPEN_PORT, 1);
	snprintf(req.name, sizeof(req.name), "%s", name);
	req.geom.flags = UNM_CTL_GEOM_POW2;
	rc = unm_ctl_call(s->ctl, &req, &rep, fds, UNM_CTL_MAX_FDS, 5000);
	if (rc)
		return rc;
	s->n = rep.n_tx + rep.n_rx;
	if (rep.n_tx < 1 || rep.n_rx < 1 || s->n > 2 * UNM_MAX_RINGS || rep.n_fds != 1 + 2 * s->n) {
		for (unsigned i = 0; i < rep.n_fds; i++)
			close(fds[i]);
		return unm_seterr(-EBADMSG, "unmd sent %u fds for %u/%u rings", rep.n_fds,
				  rep.n_tx, rep.n_rx);
	}
	s->region = fds[0];
	memcpy(s->kick, fds + 1, s->n * sizeof(int));
	memcpy(s->irq, fds + 1 + s->n, s->n * sizeof(int));
	/* QEMU sizes BAR2 from the memfd and refuses a size that is not a
	 * power of two; an old unmd ignores UNM_CTL_GEOM_POW2. */
	if (fstat(s->region, &st) < 0)
		return -errno;
	s->region_size = (uint64_t)st.st_size;
	if (!s->region_size || (s->region_size & (s->region_size - 1)))
		return unm_seterr(-EPROTO, "region of %llu bytes is not a power of two "
				  "(unmd too old for UNM_CTL_GEOM_POW2?)",
				  (unsigned long long)s->region_size);
	/* Our own mapping, validated like any client's, only to flag the CSB
	 * if unmd dies; a region we cannot map is not one to serve. */
	{
		char err[256];
		int dfd = dup(s->region);

		if (dfd < 0)
			return -errno;
		rc = unm_region_map(dfd, &s->reg, err, sizeof(err));
		if (rc) {
			close(dfd);
			return unm_seterr(rc, "region from unmd refused: %s", err);
		}
	}
	return 0;
}

static int listen_on(struct server *s, const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(a.sun_path))
		return unm_seterr(-ENAMETOOLONG, "%s: path too long", path);
	strcpy(a.sun_path, path);
	s->lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lsock < 0)
		return -errno;
	unlink(path);
	if (bind(s->lsock, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s->lsock, 4) < 0)
		return unm_seterr(-errno, "%s: %s", path, strerror(errno));
	return 0;
}

/* One protocol message: a little-endian int64, optionally with one fd. */
static int send_msg(int sock, int64_t val, int fd)
{
	int64_t le = (int64_t)htole64((uint64_t)val);
	struct iovec iov = { &le, sizeof(le) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(le) ? 0 : n < 0 ? -errno : -EIO;
}

/* The ivshmem setup sequence (QEMU docs/specs/ivshmem-spec.rst). */
static int serve_guest(struct server *s, int g)
{
	int rc;

	if ((rc = send_msg(g, UNM_IVSHMEM_PROTO, -1)) ||
	    (rc = send_msg(g, UNM_IVSHMEM_GUEST_ID, -1)) ||
	    (rc = send_msg(g, -1, s->region)))
		return rc;
	/* the peer the guest rings: unmd, through the kick eventfds */
	for (unsigned v = 0; v < s->n; v++)
		if ((rc = send_msg(g, UNM_IVSHMEM_SERVER_ID, s->kick[v])))
			return rc;
	/* the guest's own vectors: unmd's interrupts */
	for (unsigned v = 0; v < s->n; v++)
		if ((rc = send_msg(g, UNM_IVSHMEM_GUEST_ID, s->irq[v])))
			return rc;
	return 0;
}

static void on_connect(struct server *s)
{
	int g = accept4(s->lsock, NULL, NULL, SOCK_CLOEXEC);
	int rc;

	if (g < 0)
		return;
	if (s->guest >= 0) {
		logm("refusing a second QEMU: this port already has a guest");
		close(g);
		return;
	}
	rc = serve_guest(s, g);
	if (rc) {
		logm("setup of the QEMU connection failed: %s", strerror(-rc));
		close(g);
		return;
	}
	s->guest = g;
	logm("guest connected: peer id %d, %u vectors, region %llu bytes", UNM_IVSHMEM_GUEST_ID,
	     s->n, (unsigned long long)s->region_size);
}

/* Returns the exit status once something ends the service, else -1. */
static int poll_once(struct server *s)
{
	struct pollfd pf[3] = {
		{ .fd = s->lsock, .events = POLLIN },
		{ .fd = s->ctl, .events = POLLIN | POLLRDHUP },
		{ .fd = s->guest, .events = POLLIN | POLLRDHUP },
	};
	char buf[64];

	if (poll(pf, s->guest >= 0 ? 3 : 2, -1) < 0)
		return errno == EINTR ? -1 : 1;
	if (pf[1].revents) {
		/* unmd never speaks first: anything here is a hang-up */
		logm("unmd closed the connection; the port is gone (CSB flagged errored)");
		csb_error_all(s);
		return 1;
	}
	if (s->guest >= 0 && pf[2].revents) {
		ssize_t n = recv(s->guest, buf, sizeof(buf), MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) ||
		    (pf[2].revents & (POLLHUP | POLLRDHUP | POLLERR))) {
			logm("QEMU disconnected");
			return 0;
		}
	}
	if (pf[0].revents & POLLIN)
		on_connect(s);
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "id", required_argument, NULL, 'i' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct server s = { .ctl = -1, .region = -1, .lsock = -1, .guest = -1, .reg.fd = -1 };
	const char *sock = NULL, *lpath = NULL, *id = "ivsh0";
	char defpath[300];
	struct sigaction sa = { .sa_handler = on_signal };
	int c, rc;

	while ((c = getopt_long(argc, argv, "s:l:i:qh", lo, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'l': lpath = optarg; break;
		case 'i': id = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(usage_text, stdout); return 0;
		case 'V': printf("unm-ivshmem (libunm %s)\n", unm_version()); return 0;
		default:
			fprintf(stderr, "unm-ivshmem: try --help\n");
			return 2;
		}
	}
	if (optind != argc - 1 || strncmp(argv[optind], "vale", 4) || !strchr(argv[optind], ':') ||
	    strchr(id, ',')) {
		fprintf(stderr, "unm-ivshmem: expected one SWITCH:PORT argument (try --help)\n");
		return 2;
	}
	if (!lpath) {
		const char *n = argv[optind];
		size_t k = strcspn(n, "@/");

		snprintf(defpath, sizeof(defpath), "/run/unetmap/ivshmem-%.*s.sock", (int)k, n);
		for (char *p = defpath + strlen("/run/unetmap/"); *p; p++)
			if (*p == ':')
				*p = '-';
		lpath = defpath;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = open_port(&s, sock, argv[optind]);
	if (rc) {
		fprintf(stderr, "unm-ivshmem: %s: %s\n", argv[optind],
			unm_errmsg()[0] ? unm_errmsg() : strerror(-rc));
		return 1;
	}
	rc = listen_on(&s, lpath);
	if (rc) {
		fprintf(stderr, "unm-ivshmem: %s\n", unm_errmsg()[0] ? unm_errmsg() : strerror(-rc));
		return 1;
	}
	printf("-chardev socket,path=%s,id=%s -device ivshmem-doorbell,chardev=%s,vectors=%u\n",
	       lpath, id, id, s.n);
	fflush(stdout);
	logm("%s: %u vectors, region %llu bytes, waiting for QEMU on %s", argv[optind], s.n,
	     (unsigned long long)s.region_size, lpath);
	rc = -1;
	while (rc < 0 && !stop)
		rc = poll_once(&s);
	if (rc < 0)
		rc = 0;
	unlink(lpath);
	if (rc == 0) {
		struct unm_ctl_req req;

		unm_ctl_req_init(&req, UNM_CTL_BYE, 2);
		unm_ctl_send(s.ctl, &req, sizeof(req), NULL, 0);
	}
	return rc;
}
