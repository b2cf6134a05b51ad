// SPDX-License-Identifier: BSD-2-Clause
/*
 * interpose.c - the C library entry points a netmap application uses on
 * its /dev/netmap descriptors: open/openat("/dev/netmap"), ioctl, poll,
 * ppoll, mmap, munmap, close. Each one serves our descriptors (see kern.c)
 * and hands every other call to the next definition (the C library), found
 * with dlsym(RTLD_NEXT).
 *
 * The same code interposes in two ways: linked into a program through
 * libunm-netmap.so (which comes before libc in the lookup order), or loaded
 * with LD_PRELOAD by unm-netmap-run for programs built against netmap's own
 * headers. Calls made by libunm itself (nmc_in_lib) always go straight
 * through, so the library never sees its own descriptors as netmap ones.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "nmc.h"

#define REAL(name, ret, args) \
	static ret (*real_##name) args; \
	static ret (*get_##name(void)) args \
	{ \
		if (!real_##name) \
			real_##name = (ret (*) args)dlsym(RTLD_NEXT, #name); \
		return real_##name; \
	}

REAL(open, int, (const char *, int, ...))
REAL(open64, int, (const char *, int, ...))
REAL(openat, int, (int, const char *, int, ...))
REAL(openat64, int, (int, const char *, int, ...))
REAL(ioctl, int, (int, unsigned long, ...))
REAL(close, int, (int))
REAL(poll, int, (struct pollfd *, nfds_t, int))
REAL(ppoll, int, (struct pollfd *, nfds_t, const struct timespec *, const sigset_t *))
REAL(mmap, void *, (void *, size_t, int, int, int, off_t))
REAL(mmap64, void *, (void *, size_t, int, int, int, off64_t))
REAL(munmap, int, (void *, size_t))

static int report(int err)
{
	/* the request failed for a reason errno alone cannot tell */
	if (!getenv("UNM_NETMAP_QUIET") && *nmc_errmsg())
		fprintf(stderr, "unm-netmap: %s\n", nmc_errmsg());
	errno = -err;
	return -1;
}

int nmc_real_close(int fd)
{
	if (get_close())
		return real_close(fd);
	return (int)syscall(SYS_close, fd);
}

int nmc_real_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
		   const sigset_t *mask)
{
	if (get_ppoll())
		return real_ppoll(fds, n, ts, mask);
	return (int)syscall(SYS_ppoll, fds, n, ts, mask, _NSIG / 8);
}

static int is_dev(const char *path)
{
	return path && !nmc_in_lib && !strcmp(path, NETMAP_DEVICE_PATH);
}

static int dev_open(int flags)
{
	int fd = nmc_dev_open(flags);

	return fd < 0 ? report(fd) : fd;
}

#define MODE_ARG(flags, mode) \
	mode_t mode = 0; \
	if ((flags) & (O_CREAT | O_TMPFILE)) { \
		va_list ap; \
		va_start(ap, flags); \
		mode = (mode_t)va_arg(ap, int); \
		va_end(ap); \
	}

NMC_API int open(const char *path, int flags, ...)
{
	MODE_ARG(flags, mode);
	if (is_dev(path))
		return dev_open(flags);
	return get_open()(path, flags, mode);
}

NMC_API int open64(const char *path, int flags, ...)
{
	MODE_ARG(flags, mode);
	if (is_dev(path))
		return dev_open(flags);
	return get_open64()(path, flags, mode);
}

NMC_API int openat(int dirfd, const char *path, int flags, ...)
{
	MODE_ARG(flags, mode);
	if (is_dev(path))
		return dev_open(flags);
	return get_openat()(dirfd, path, flags, mode);
}

NMC_API int openat64(int dirfd, const char *path, int flags, ...)
{
	MODE_ARG(flags, mode);
	if (is_dev(path))
		return dev_open(flags);
	return get_openat64()(dirfd, path, flags, mode);
}

/* _FORTIFY_SOURCE spellings */
NMC_API int __open_2(const char *path, int flags)
{
	return open(path, flags);
}

NMC_API int __open64_2(const char *path, int flags)
{
	return open64(path, flags);
}

NMC_API int __openat_2(int dirfd, const char *path, int flags)
{
	return openat(dirfd, path, flags);
}

NMC_API int __openat64_2(int dirfd, const char *path, int flags)
{
	return openat64(dirfd, path, flags);
}

NMC_API int ioctl(int fd, unsigned long req, ...)
{
	struct nmc_port *np;
	va_list ap;
	void *arg;
	int rc;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (nmc_in_lib || !(np = nmc_lookup(fd)))
		return get_ioctl()(fd, req, arg);
	nmc_fail(0, "%s", ""); /* no stale message */
	switch ((unsigned)req) {
	case (unsigned)NIOCTXSYNC:
	case (unsigned)NIOCRXSYNC:
		rc = nmc_sync(np, (unsigned)req == (unsigned)NIOCTXSYNC);
		break;
	case (unsigned)NIOCCTRL:
		rc = arg ? nmc_ctrl(np, arg) : nmc_fail(-EFAULT, "NIOCCTRL without a request");
		break;
	case (unsigned)NIOCREGIF:
	case (unsigned)NIOCGINFO:
		rc = arg ? nmc_legacy(np, req, arg, NULL) : nmc_fail(-EFAULT, "NIOCREGIF without a request");
		break;
	case (unsigned)NIOCCONFIG:
		rc = nmc_fail(-EOPNOTSUPP, "NIOCCONFIG is not supported over unetmap");
		break;
	case (unsigned)FIONBIO:
		rc = 0; /* syncs never block anyway */
		break;
	default:
		rc = nmc_fail(-ENOTTY, "ioctl 0x%lx on a netmap descriptor", req);
		break;
	}
	if (rc < 0)
		return report(rc);
	return 0;
}

NMC_API int close(int fd)
{
	if (!nmc_in_lib && nmc_lookup(fd))
		return nmc_dev_close(fd);
	return nmc_real_close(fd);
}

NMC_API int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	struct timespec ts;

	if (nmc_in_lib || !nmc_have_ports())
		return get_poll() ? real_poll(fds, n, timeout) : nmc_real_ppoll(fds, n, NULL, NULL);
	if (timeout >= 0) {
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = (long)(timeout % 1000) * 1000000;
	}
	return nmc_poll(fds, n, timeout >= 0 ? &ts : NULL, NULL);
}

NMC_API int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
		  const sigset_t *mask)
{
	if (nmc_in_lib || !nmc_have_ports())
		return nmc_real_ppoll(fds, n, ts, mask);
	return nmc_poll(fds, n, ts, mask);
}

NMC_API int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return poll(fds, n, timeout);
}

NMC_API int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts,
			const sigset_t *mask, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return ppoll(fds, n, ts, mask);
}

/* mmap of a registered descriptor returns libunm's mapping of the region. */
static void *nm_mmap(struct nmc_port *np, size_t len, int flags, off_t off)
{
	int rc;

	if (!np->port)
		rc = nmc_fail(-ENODEV, "mmap of a netmap descriptor before NIOCREGIF/"
			      "NETMAP_REQ_REGISTER: over unetmap each port has its own region");
	else if (off != 0 || len > np->size)
		rc = nmc_fail(-EINVAL, "mmap of '%s': offset must be 0 and length at most %zu",
			      np->name, np->size);
	else if (flags & MAP_FIXED)
		rc = nmc_fail(-ENOTSUP, "mmap of '%s': MAP_FIXED is not supported", np->name);
	else {
		np->mapped++;
		return np->base;
	}
	report(rc);
	return MAP_FAILED;
}

NMC_API void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	struct nmc_port *np;

	if (!nmc_in_lib && fd >= 0 && (np = nmc_lookup(fd)))
		return nm_mmap(np, len, flags, off);
	if (get_mmap())
		return real_mmap(addr, len, prot, flags, fd, off);
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

NMC_API void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	struct nmc_port *np;

	if (!nmc_in_lib && fd >= 0 && (np = nmc_lookup(fd)))
		return nm_mmap(np, len, flags, (off_t)off);
	if (get_mmap64())
		return real_mmap64(addr, len, prot, flags, fd, off);
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

/* munmap of a region we handed out: it stays mapped until close(). */
NMC_API int munmap(void *addr, size_t len)
{
	if (!nmc_in_lib && nmc_have_ports() && nmc_unmap_region(addr))
		return 0;
	if (get_munmap())
		return real_munmap(addr, len);
	return (int)syscall(SYS_munmap, addr, len);
}
