// SPDX-License-Identifier: BSD-2-Clause
/* test.c - implementation of tests/lib/test.h. */
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <time.h>
#include "test.h"

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "FAIL: watchdog expired\n";
	ssize_t r = write(1, msg, sizeof(msg) - 1);
	(void)r;
	kill(0, SIGKILL);
	_exit(T_EXIT_FAIL);
}

void t_watchdog(unsigned seconds)
{
	/* the watchdog ends the test with SIGKILL: keep what it printed */
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);
	alarm(seconds);
}

const char *t_uniq(const char *base)
{
	static char buf[8][64];
	static int n;
	char *b = buf[n++ & 7];

	snprintf(b, 64, "%s%d", base, (int)getpid());
	return b;
}

double t_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void t_need_dpdk(const char *pmd, ...)
{
	char exe[PATH_MAX], path[PATH_MAX + 32];
	va_list ap;
	ssize_t n;

	if (!getenv("UNM_DPDK_PLUGIN")) {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		T_ASSERT(n > 0);
		exe[n] = '\0';
		snprintf(path, sizeof(path), "%s/../../libunm-dpdk.so", dirname(exe));
		setenv("UNM_DPDK_PLUGIN", path, 1);
	}
	if (access(getenv("UNM_DPDK_PLUGIN"), F_OK))
		T_SKIP("%s not built (./configure found no libdpdk: apt-get install dpdk-dev)",
		       getenv("UNM_DPDK_PLUGIN"));
	va_start(ap, pmd);
	for (; pmd; pmd = va_arg(ap, const char *)) {
		glob_t g;
		int r;

		snprintf(path, sizeof(path), "/usr/lib/*/dpdk/pmds-*/librte_%s.so", pmd);
		r = glob(path, 0, NULL, &g);
		globfree(&g);
		if (r != 0)
			T_SKIP("DPDK's %s driver is not installed", pmd);
	}
	va_end(ap);
}
