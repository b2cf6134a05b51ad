// SPDX-License-Identifier: BSD-2-Clause
/*
 * unixsock.c - a Unix socket at a path a backend listens on or connects
 * to (vhost-user, memif): the address (optionally "@NAME" = abstract), a
 * listening socket that first removes a stale socket file nobody accepts
 * on but never a file that is not a socket or one another process serves,
 * and removing on close the socket file we bound - only if it is still
 * that file: the path may have been re-pointed (a directory swapped for a
 * symlink) since, so the directory is held open and the file's identity
 * compared.
 *
 * Messages and fd passing on these sockets are lib/fdpass.c's. Stateless
 * but for struct unm_usock_file, which its caller owns.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "internal.h"

static bool is_abstract(const char *path, unsigned flags)
{
	return (flags & UNM_USOCK_ABSTRACT) && path[0] == '@';
}

int unm_usock_addr(const char *path, unsigned flags, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n = strlen(path);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (n >= sizeof(sa->sun_path) || n == 0)
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, n);
	if (is_abstract(path, flags)) {
		sa->sun_path[0] = '\0';
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		*len = (socklen_t)sizeof(*sa);
	}
	return 0;
}

int unm_usock_connect(const char *path, unsigned flags, int type)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd, rc;

	if ((rc = unm_usock_addr(path, flags, &sa, &len)))
		return rc;
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, len) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* Remove a stale socket file at PATH that nobody accepts on. */
static int clear_stale(const char *path, int type, const struct sockaddr_un *sa, socklen_t len)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, len);
	close(fd);
	if (rc == 0)
		return -EADDRINUSE;
	unlink(path);
	return 0;
}

/* Hold the directory PATH was bound in and the socket file's identity. */
static void remember(struct unm_usock_file *f, const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[UNM_PATH_MAX];
	struct stat st;

	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
	else
		snprintf(dir, sizeof(dir), ".");
	f->dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (f->dir_fd >= 0 &&
	    fstatat(f->dir_fd, slash ? slash + 1 : path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISSOCK(st.st_mode)) {
		f->dev = st.st_dev;
		f->ino = st.st_ino;
	} else if (f->dir_fd >= 0) {
		close(f->dir_fd); /* cannot tell it again: leave it there */
		f->dir_fd = -1;
	}
}

int unm_usock_listen(const char *path, unsigned flags, int type, struct unm_usock_file *f,
		     char *why, size_t whylen)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd, rc;

	f->dir_fd = -1;
	if ((rc = unm_usock_addr(path, flags, &sa, &len))) {
		snprintf(why, whylen, "socket path too long");
		return rc;
	}
	if (!is_abstract(path, flags) && (rc = clear_stale(path, type, &sa, len))) {
		snprintf(why, whylen, "%s", rc == -EEXIST ? "path exists and is not a socket"
							  : "another process listens on it");
		return rc;
	}
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 4) < 0) {
		rc = -errno;
		snprintf(why, whylen, "bind/listen: %s", strerror(errno));
		close(fd);
		return rc;
	}
	if (!is_abstract(path, flags))
		remember(f, path);
	return fd;
}

void unm_usock_forget(struct unm_usock_file *f, const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	struct stat st;

	if (f->dir_fd < 0)
		return;
	if (fstatat(f->dir_fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == f->dev && st.st_ino == f->ino)
		unlinkat(f->dir_fd, base, 0);
	close(f->dir_fd);
	f->dir_fd = -1;
}
