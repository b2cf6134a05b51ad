// SPDX-License-Identifier: BSD-2-Clause
/*
 * fdpass.c - passing file descriptors over a Unix socket (SCM_RIGHTS):
 * the one place that packs and unpacks the control message. Used by the
 * pipe rendezvous (pipe_rdv.c, zmon.c, pipe_zmon.c), the unmd control
 * protocol (ctlmsg.c) and the vhost-user and memif backends
 * (backend/vhost_msg.c, backend/memif_ctl.c); and the check every received
 * wake fd gets (unm_efd_ok).
 *
 * Received fds are untrusted in number: every fd the kernel installed is
 * either handed to the caller or closed here, so a peer can never make us
 * leak one. Stateless; callers own their sockets.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"

#define CMSG_ROOM CMSG_SPACE(sizeof(int) * UNM_FDPASS_MAX)

ssize_t unm_fdpass_send(int sock, const void *buf, size_t len, const int *fds, unsigned nfds,
			int flags)
{
	union {
		char b[CMSG_ROOM];
		struct cmsghdr align;
	} cm;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds > UNM_FDPASS_MAX)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(sock, &mh, flags | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

unsigned unm_fdpass_take(struct msghdr *mh, int *fds, unsigned *n, unsigned max)
{
	unsigned closed = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*n < max) {
				fds[(*n)++] = fd;
			} else {
				close(fd);
				closed++;
			}
		}
	}
	return closed;
}

ssize_t unm_fdpass_recv(int sock, void *buf, size_t len, int flags, int *fds, unsigned max,
			unsigned *nfds)
{
	union {
		char b[CMSG_ROOM];
		struct cmsghdr align;
	} cm;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b };
	unsigned got = 0, extra;
	ssize_t n;

	*nfds = 0;
	if (max > UNM_FDPASS_MAX)
		return -EINVAL;
	/*
	 * Room for MAX fds (at least one, rounded up by CMSG_SPACE): the
	 * kernel installs what fits and closes the rest itself (MSG_CTRUNC);
	 * anything installed past MAX is closed by unm_fdpass_take.
	 */
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * (max ? max : 1));
	do
		n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	extra = unm_fdpass_take(&mh, fds, &got, max);
	if (n == 0 || extra || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		for (unsigned i = 0; i < got; i++)
			close(fds[i]);
		return n == 0 ? 0 : -EBADMSG;
	}
	*nfds = got;
	return n;
}

/* A wake fd received from another process must be an anonymous inode
 * (eventfd) and is made non-blocking, so a kick can never block or grow a
 * file whatever the peer sent. */
bool unm_efd_ok(int fd)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st) < 0 || (st.st_mode & S_IFMT) != 0)
		return false;
	fl = fcntl(fd, F_GETFL);
	return fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) >= 0;
}

/* Fixed-size, non-blocking messages (the pipe rendezvous, zmon, memif). */
int unm_send_fds(int fd, const void *buf, size_t len, const int *fds, int nfds)
{
	ssize_t r;

	if (nfds < 0 || nfds > 4)
		return -EINVAL;
	r = unm_fdpass_send(fd, buf, len, fds, (unsigned)nfds, MSG_DONTWAIT);
	if (r < 0)
		return (int)r;
	return (size_t)r == len ? 0 : -EIO;
}

int unm_recv_fds(int fd, void *buf, size_t len, int *fds, int maxfds)
{
	unsigned n;
	ssize_t r;

	if (maxfds < 0 || maxfds > 4)
		return -EINVAL;
	r = unm_fdpass_recv(fd, buf, len, MSG_DONTWAIT, fds, (unsigned)maxfds, &n);
	if (r < 0)
		return (int)r;
	if (r == 0)
		return -ECONNRESET;
	if ((size_t)r != len) {
		for (unsigned i = 0; i < n; i++)
			close(fds[i]);
		return -EBADMSG;
	}
	return (int)n;
}
