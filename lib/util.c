// SPDX-License-Identifier: BSD-2-Clause
/*
 * util.c - per-thread error text, the log callback, version, clock.
 * The error buffer is thread-local; the log callback is process-wide and
 * set before ports are opened (unm_set_log contract).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "internal.h"

static __thread char errbuf[512];
static unm_log_fn log_fn;
static void *log_arg;

int unm_seterr(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return err;
}

void unm_clearerr(void)
{
	errbuf[0] = '\0';
}

UNM_API const char *unm_errmsg(void)
{
	return errbuf;
}

UNM_API const char *unm_strerror(int err)
{
	return strerror(err < 0 ? -err : err);
}

UNM_API void unm_set_log(unm_log_fn fn, void *arg)
{
	log_fn = fn;
	log_arg = arg;
}

void unm_log(enum unm_log_level lvl, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_fn(lvl, msg, log_arg);
}

#define STR2(x) #x
#define STR(x) STR2(x)
UNM_API const char *unm_version(void)
{
	return STR(UNM_VERSION_MAJOR) "." STR(UNM_VERSION_MINOR) "." STR(UNM_VERSION_PATCH);
}

uint64_t unm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
