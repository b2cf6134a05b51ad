// SPDX-License-Identifier: BSD-2-Clause
/*
 * authz.c - whose authority unmd acts with (docs/threat-model.md).
 *
 * unmd runs as root, its clients do not: a request may make unmd do only
 * what its caller could do alone. Two rules follow.
 *   1. Host resources a client names (a shmif bus file, a vhost-user
 *      or memif socket, a tap) are opened by the client and handed over as an fd
 *      (ATTACH with SCM_RIGHTS; unm-ctl does it). Opening one BY NAME
 *      inside unmd, as root, is for administrators only: root, or a member
 *      of unmd --admin-group. Even then a path is taken literally: absolute,
 *      no "." or ".." component, no symbolic link anywhere on it.
 *   2. Every switch and port has an owner uid; only the owner or an
 *      administrator may delete, detach, monitor or reconfigure it, and
 *      nobody opens a port of another uid.
 * Administrators are decided once per connection, from SO_PEERCRED's uid
 * and gid and the uid's supplementary groups (the group database).
 *
 * Threads: control thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "unmd.h"
#include "unm-memif.h"

bool authz_admin(const struct unmd *d, uid_t uid, gid_t gid)
{
	struct passwd pw, *res = NULL;
	gid_t groups[256];
	int n = (int)(sizeof(groups) / sizeof(groups[0]));
	char buf[4096];

	if (uid == 0)
		return true;
	if (!d->have_admin_gid)
		return false;
	if (gid == d->admin_gid)
		return true;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return false;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
		return false; /* more than 256 groups: not worth guessing */
	for (int i = 0; i < n; i++)
		if (groups[i] == d->admin_gid)
			return true;
	return false;
}

int authz_path(const char *path, char *err, size_t errlen)
{
	char buf[UNM_PATH_MAX];
	struct stat st;
	char *p;

	if (path[0] != '/')
		return snprintf(err, errlen, "%.100s: give an absolute path", path), -EINVAL;
	if (strlen(path) >= sizeof(buf))
		return snprintf(err, errlen, "path too long"), -ENAMETOOLONG;
	snprintf(buf, sizeof(buf), "%s", path);
	/* every component: no "." or "..", and no symbolic link (lstat) */
	for (p = buf + 1;; p++) {
		char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return snprintf(err, errlen, "%.100s: '.' and '..' are not followed", path),
			       -EINVAL;
		if (slash)
			*slash = '\0';
		if (lstat(buf, &st) == 0 && S_ISLNK(st.st_mode))
			return snprintf(err, errlen, "%.100s: %.100s is a symbolic link (not followed "
					"on a client's behalf)", path, buf), -ELOOP;
		if (!slash)
			break;
		*slash = '/';
		p = slash;
	}
	return 0;
}

void authz_res_key(const struct unm_spec *s, int fd, char *key, size_t keylen)
{
	struct stat st;

	key[0] = '\0';
	switch (s->kind) {
	case UNM_KIND_TAP:
	case UNM_KIND_AFPACKET:
	case UNM_KIND_AFXDP:
		/* an interface: one port per interface and type */
		snprintf(key, keylen, "if:%s:%s", s->type, s->port);
		break;
	case UNM_KIND_SHMIF:
	case UNM_KIND_VHOST:
		/* a file: by identity when we hold it, else by the path */
		if (fd >= 0 && s->kind == UNM_KIND_SHMIF && fstat(fd, &st) == 0)
			snprintf(key, keylen, "ino:%llu:%llu", (unsigned long long)st.st_dev,
				 (unsigned long long)st.st_ino);
		else if (s->kind == UNM_KIND_SHMIF && stat(s->path, &st) == 0)
			snprintf(key, keylen, "ino:%llu:%llu", (unsigned long long)st.st_dev,
				 (unsigned long long)st.st_ino);
		else
			snprintf(key, keylen, "path:%s:%.80s", s->type, s->path);
		break;
	case UNM_KIND_MEMIF:
		/* a socket: one port per address */
		snprintf(key, keylen, "path:memif:%.80s", s->path);
		break;
	case UNM_KIND_IVSHMEM:
		snprintf(key, keylen, "pci:%s", s->path);
		break;
	default:
		break;
	}
}

bool authz_memif_fd(const struct unm_spec *s, int fd)
{
	struct unm_memif_conf mc;
	char why[160];
	bool slave;
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	int type = 0, acc = 0;
	socklen_t tl = sizeof(type), al = sizeof(acc);
	size_t n = strlen(s->path);

	if (unm_memif_conf_parse(s, &mc, why, sizeof(why)))
		return false;
	slave = !mc.master;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_SEQPACKET ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &al) < 0 || !acc != slave)
		return false;
	memset(&sa, 0, sizeof(sa));
	/* the listener's own address, or the address it is connected to */
	if ((slave ? getpeername(fd, (struct sockaddr *)&sa, &len)
		   : getsockname(fd, (struct sockaddr *)&sa, &len)) < 0 ||
	    sa.sun_family != AF_UNIX || n >= sizeof(sa.sun_path))
		return false;
	if (s->path[0] == '@') /* abstract: NUL + name, exact length */
		return len == offsetof(struct sockaddr_un, sun_path) + n && sa.sun_path[0] == '\0' &&
		       !memcmp(sa.sun_path + 1, s->path + 1, n - 1);
	return len > offsetof(struct sockaddr_un, sun_path) &&
	       !strncmp(sa.sun_path, s->path, sizeof(sa.sun_path));
}
