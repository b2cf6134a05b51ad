// SPDX-License-Identifier: BSD-2-Clause
/* test.c - implementation of tests/lib/test.h. */
#include <signal.h>
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
