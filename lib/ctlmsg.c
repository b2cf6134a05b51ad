// SPDX-License-Identifier: BSD-2-Clause
/*
 * ctlmsg.c - framing and validation of unmd control messages (see
 * include/unm/ctl.h): connect, send with SCM_RIGHTS, receive exactly one
 * fixed-size message with a timeout, check magic/version/size/echo.
 * Stateless; the caller owns the socket and uses it from one thread.
 */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "ctlmsg.h"

const char *unm_ctl_path(const char *opt)
{
	const char *env;

	if (opt && opt[0])
		return opt;
	env = getenv(UNM_SOCKET_ENV);
	if (env && env[0])
		return env;
	return UNM_SOCKET_DEFAULT;
}

/* Name of group GID into buf ("" if unknown); getgrgid_r: thread-safe. */
static void group_name(gid_t gid, char *buf, size_t n)
{
	struct group gr, *res = NULL;
	char tmp[1024];

	buf[0] = '\0';
	if (getgrgid_r(gid, &gr, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, n, "%s", res->gr_name);
}

/*
 * Explain a failed connect to PATH (rc = -errno) in terms of what the
 * user can do: connect() says "Connection refused" for a path that is a
 * directory or a regular file, and "Permission denied" without naming
 * the group that grants access (unmd's socket is owner/group/mode
 * controlled: unmd(8)). The group comes from the socket, or from the
 * directory holding it when the socket itself cannot be examined.
 */
static int connect_err(const char *path, int rc)
{
	struct stat st;
	char gname[64], dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *what = path;

	if (rc == -EACCES || rc == -EPERM) {
		if (stat(path, &st) < 0) {
			snprintf(dir, sizeof(dir), "%s", path);
			what = dirname(dir);
			if (stat(what, &st) < 0)
				return unm_seterr(rc, "cannot reach unmd at %s: %s", path,
						  strerror(-rc));
		}
		group_name(st.st_gid, gname, sizeof(gname));
		if (!gname[0])
			snprintf(gname, sizeof(gname), "%u", (unsigned)st.st_gid);
		return unm_seterr(rc, "cannot reach unmd at %s: %s: %s belongs to group '%s' "
				  "(mode %03o); join it (usermod -aG %s $USER, then log in again) "
				  "or ask the administrator", path, strerror(-rc), what, gname,
				  (unsigned)(st.st_mode & 0777), gname);
	}
	if (stat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
		return unm_seterr(rc, "cannot reach unmd at %s: it is %s, not a socket%s%s%s",
				  path, S_ISDIR(st.st_mode) ? "a directory" : "a file",
				  S_ISDIR(st.st_mode) ? " (give the socket inside it, e.g. " : "",
				  S_ISDIR(st.st_mode) ? path : "",
				  S_ISDIR(st.st_mode) ? "/unmd.sock)" : "");
	return unm_seterr(rc, "cannot reach unmd at %s: %s%s", path, strerror(-rc),
			  rc == -ENOENT || rc == -ECONNREFUSED ? " (is unmd running?)" : "");
}

int unm_ctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return unm_seterr(-ENAMETOOLONG, "unmd socket path '%s' is too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return unm_seterr(-errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		close(fd);
		return connect_err(path, rc);
	}
	return fd;
}

void unm_ctl_req_init(struct unm_ctl_req *r, unsigned op, uint32_t seq)
{
	memset(r, 0, sizeof(*r));
	r->magic = UNM_CTL_MAGIC;
	r->version = UNM_CTL_VERSION;
	r->op = (uint16_t)op;
	r->size = sizeof(*r);
	r->seq = seq;
}

void unm_ctl_rep_init(struct unm_ctl_rep *rep, const struct unm_ctl_req *req)
{
	memset(rep, 0, sizeof(*rep));
	rep->magic = UNM_CTL_MAGIC;
	rep->version = UNM_CTL_VERSION;
	rep->size = sizeof(*rep);
	rep->op = req->op;
	rep->seq = req->seq;
}

void unm_ctl_item_init(struct unm_ctl_item *it, unsigned kind, uint32_t seq)
{
	memset(it, 0, sizeof(*it));
	it->magic = UNM_CTL_MAGIC;
	it->version = UNM_CTL_VERSION;
	it->kind = (uint16_t)kind;
	it->size = sizeof(*it);
	it->seq = seq;
}

/* The fields unm_ctl_geom and unm_open_opts share, by name. */
#define GEOM_FIELDS(X) \
	X(tx_rings) X(rx_rings) X(tx_slots) X(rx_slots) X(buf_size) X(extra_bufs) X(vnet_hdr_len)

void unm_ctl_geom_from_opts(struct unm_ctl_geom *g, const struct unm_open_opts *o)
{
#define FROM(f) g->f = o->f;
	GEOM_FIELDS(FROM)
#undef FROM
}

void unm_ctl_geom_to_opts(const struct unm_ctl_geom *g, struct unm_open_opts *o)
{
#define TO(f) o->f = g->f;
	GEOM_FIELDS(TO)
#undef TO
}

_Static_assert(UNM_CTL_MAX_FDS <= UNM_FDPASS_MAX, "fdpass.c carries every ctl fd");

int unm_ctl_send(int fd, const void *msg, size_t len, const int *fds, unsigned nfds)
{
	ssize_t n;

	if (nfds > UNM_CTL_MAX_FDS)
		return -EINVAL;
	n = unm_fdpass_send(fd, msg, len, fds, nfds, 0);
	if (n < 0)
		return n == -EPIPE ? -ECONNRESET : (int)n;
	return (size_t)n == len ? 0 : -EIO;
}

static void close_fds(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
}

int unm_ctl_recv(int fd, void *msg, size_t len, int *fds, unsigned max_fds,
		 unsigned *nfds, int timeout_ms)
{
	unsigned got;
	ssize_t n;

	if (nfds)
		*nfds = 0;
	if (timeout_ms >= 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r;

		do
			r = poll(&pfd, 1, timeout_ms);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
	}
	/* Every fd received is either kept (at most MAX_FDS) or closed:
	 * a message with more, or truncated, is refused (-EBADMSG). */
	if (max_fds > UNM_CTL_MAX_FDS)
		max_fds = UNM_CTL_MAX_FDS;
	n = unm_fdpass_recv(fd, msg, len, 0, fds, max_fds, &got);
	if (n < 0)
		return n == -EPIPE ? -ECONNRESET : (int)n;
	if (n == 0)
		return -ECONNRESET;
	if ((size_t)n != len) {
		close_fds(fds, got);
		return -EBADMSG;
	}
	if (nfds)
		*nfds = got;
	return 0;
}

int unm_ctl_check_req(struct unm_ctl_req *r, size_t n, char *err, size_t errlen)
{
	if (n != sizeof(*r))
		return snprintf(err, errlen, "request of %zu bytes, expected %zu", n, sizeof(*r)),
		       -EBADMSG;
	if (r->magic != UNM_CTL_MAGIC)
		return snprintf(err, errlen, "bad magic 0x%08x", r->magic), -EBADMSG;
	if (r->version != UNM_CTL_VERSION)
		return snprintf(err, errlen, "protocol version %u, unmd speaks %u", r->version,
				UNM_CTL_VERSION), -EPROTO;
	if (r->size != sizeof(*r))
		return snprintf(err, errlen, "size field %u", r->size), -EBADMSG;
	if (r->op < UNM_CTL_OPEN_PORT || r->op >= UNM_CTL__OP_MAX)
		return snprintf(err, errlen, "unknown operation %u", r->op), -EOPNOTSUPP;
	if (r->flags && (r->op != UNM_CTL_OPEN_PORT || (r->flags & ~(UNM_CTL_OPEN_MON_MASK | UNM_CTL_OPEN_DOMAIN))))
		return snprintf(err, errlen, "unknown flags 0x%x", r->flags), -EINVAL;
	if (!memchr(r->name, '\0', sizeof(r->name)) || !memchr(r->arg, '\0', sizeof(r->arg)))
		return snprintf(err, errlen, "unterminated string"), -EINVAL;
	{
		struct unm_spec s;

		return unm_ctl_req_port(r, &s, err, errlen);
	}
}

static int check_hdr(uint32_t magic, uint16_t version, uint32_t size, size_t want,
		     uint32_t seq, uint32_t want_seq)
{
	if (magic != UNM_CTL_MAGIC || size != want)
		return unm_seterr(-EBADMSG, "malformed reply from unmd");
	if (version != UNM_CTL_VERSION)
		return unm_seterr(-EPROTO, "unmd speaks protocol version %u, we speak %u",
				  version, UNM_CTL_VERSION);
	if (seq != want_seq)
		return unm_seterr(-EBADMSG, "reply from unmd out of sequence");
	return 0;
}

int unm_ctl_call(int fd, const struct unm_ctl_req *req, struct unm_ctl_rep *rep,
		 int *fds, unsigned max_fds, int timeout_ms)
{
	return unm_ctl_call_fds(fd, req, NULL, 0, rep, fds, max_fds, timeout_ms);
}

int unm_ctl_call_fds(int fd, const struct unm_ctl_req *req, const int *send_fds,
		     unsigned n_send, struct unm_ctl_rep *rep, int *fds, unsigned max_fds,
		     int timeout_ms)
{
	struct unm_ctl_req with_spec;
	unsigned nfds = 0;
	char err[256];
	int rc;

	/* the name travels parsed: every request gets its spec here unless
	 * its maker filled it (lib/vale.c) */
	if (!req->spec.type[0] && !req->spec.name[0]) {
		with_spec = *req;
		if ((rc = unm_ctl_req_spec(&with_spec, err, sizeof(err))))
			return unm_seterr(rc, "%s", err);
		req = &with_spec;
	}
	rc = unm_ctl_send(fd, req, sizeof(*req), send_fds, n_send);
	if (rc)
		return unm_seterr(rc, "sending to unmd: %s", strerror(-rc));
	rc = unm_ctl_recv(fd, rep, sizeof(*rep), fds, max_fds, &nfds, timeout_ms);
	if (rc)
		return unm_seterr(rc, "no reply from unmd: %s", strerror(-rc));
	rc = check_hdr(rep->magic, rep->version, rep->size, sizeof(*rep), rep->seq, req->seq);
	if (!rc && (rep->op != req->op || rep->n_fds != nfds || rep->status > 0 ||
		    rep->status < -4095 || rep->n_items > 1000000))
		rc = unm_seterr(-EBADMSG, "inconsistent reply from unmd");
	if (rc) {
		close_fds(fds, nfds);
		return rc;
	}
	rep->msg[sizeof(rep->msg) - 1] = '\0';
	if (rep->status) {
		close_fds(fds, nfds);
		return unm_seterr(rep->status, "%s", rep->msg[0] ? rep->msg : strerror(-rep->status));
	}
	return 0;
}

int unm_ctl_recv_item(int fd, struct unm_ctl_item *it, uint32_t seq, int timeout_ms)
{
	int rc = unm_ctl_recv(fd, it, sizeof(*it), NULL, 0, NULL, timeout_ms);

	if (rc)
		return unm_seterr(rc, "receiving from unmd: %s", strerror(-rc));
	rc = check_hdr(it->magic, it->version, it->size, sizeof(*it), it->seq, seq);
	if (rc)
		return rc;
	if (it->kind < UNM_CTL_ITEM_SWITCH || it->kind > UNM_CTL_ITEM_BACKEND)
		return unm_seterr(-EBADMSG, "unknown item kind %u from unmd", it->kind);
	/* force every string to terminate */
	switch (it->kind) {
	case UNM_CTL_ITEM_PORT:
		it->u.port.sw[UNM_CTL_SW_MAX - 1] = '\0';
		it->u.port.name[sizeof(it->u.port.name) - 1] = '\0';
		it->u.port.type[sizeof(it->u.port.type) - 1] = '\0';
		break;
	case UNM_CTL_ITEM_SWITCH:
		it->u.sw.sw[UNM_CTL_SW_MAX - 1] = '\0';
		it->u.sw.lookup[sizeof(it->u.sw.lookup) - 1] = '\0';
		break;
	case UNM_CTL_ITEM_MAC:
		it->u.mac.sw[UNM_CTL_SW_MAX - 1] = '\0';
		it->u.mac.port[sizeof(it->u.mac.port) - 1] = '\0';
		break;
	case UNM_CTL_ITEM_OFFLOAD:
		it->u.off.sw[UNM_CTL_SW_MAX - 1] = '\0';
		it->u.off.name[sizeof(it->u.off.name) - 1] = '\0';
		break;
	case UNM_CTL_ITEM_VXLAN:
		it->u.vxlan.sw[UNM_CTL_SW_MAX - 1] = '\0';
		it->u.vxlan.name[sizeof(it->u.vxlan.name) - 1] = '\0';
		break;
	case UNM_CTL_ITEM_BACKEND:
		it->u.backend.sw[UNM_CTL_SW_MAX - 1] = '\0';
		it->u.backend.name[sizeof(it->u.backend.name) - 1] = '\0';
		break;
	}
	return 0;
}
