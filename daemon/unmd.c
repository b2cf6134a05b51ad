// SPDX-License-Identifier: BSD-2-Clause
/*
 * unmd.c - the daemon context (struct unmd) as a whole: set-up and
 * tear-down, the lock the two threads share, and logging. Everything of
 * unmd but main.c is built into an internal static library (libunmd.a)
 * that main.c, the tests and the fuzz targets link; the one context they
 * create is passed explicitly to every function that needs it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "unmd.h"

/* Process-wide like libunm's unm_set_log: where log lines go. */
static void (*log_sink)(const char *msg) = NULL;

void unmd_set_log(void (*sink)(const char *msg))
{
	log_sink = sink;
}

static void vlog(const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_sink)
		log_sink(msg);
	else
		fprintf(stderr, "unmd: %s\n", msg);
}

void ulog(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void udebug(struct unmd *d, const char *fmt, ...)
{
	va_list ap;

	if (!d->verbose)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
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

int unmd_init(struct unmd *d)
{
	memset(d, 0, sizeof(*d));
	d->ep = d->wake_fd = -1;
	d->max_ports_uid = 1024;
	d->max_mem_uid = 8ull << 30;
	d->max_switches_uid = 16;
	pthread_mutex_init(&d->lock, NULL);
	d->job_fd[0] = d->job_fd[1] = -1;
	d->reap_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->reap_fd < 0 || pipe2(d->job_fd, O_CLOEXEC | O_NONBLOCK) < 0) {
		int rc = -errno;

		if (d->reap_fd >= 0)
			close(d->reap_fd);
		pthread_mutex_destroy(&d->lock);
		return rc;
	}
	return 0;
}

void unmd_remove_all(struct unmd *d)
{
	for (unsigned i = 0; i < VS_MAX_SWITCHES; i++) {
		struct vswitch *sw = d->sw[i];

		while (sw && sw->n_active) {
			struct vport *p = sw->ports[sw->active[0]];
			bool last = sw->n_active == 1;

			vs_port_remove(d, p);
			p->ops->destroy(p);
			if (last)
				break; /* the switch went with its last port */
		}
		if (d->sw[i]) /* kept (switch add) */
			vs_switch_free(d, d->sw[i]);
	}
}

void unmd_fini(struct unmd *d)
{
	close(d->reap_fd);
	close(d->job_fd[0]);
	close(d->job_fd[1]);
	d->reap_fd = d->job_fd[0] = d->job_fd[1] = -1;
	pthread_mutex_destroy(&d->lock);
}
