/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test.h - helpers shared by the C tests: exit codes (0 pass, 1 fail,
 * 77 skip, always with a reason), checks that report file:line, and a
 * watchdog so no test can hang the runner.
 */
#ifndef UNM_TEST_H
#define UNM_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T_EXIT_PASS 0
#define T_EXIT_FAIL 1
#define T_EXIT_SKIP 77

#define T_SKIP(...) do { printf("SKIP: " __VA_ARGS__); printf("\n"); exit(T_EXIT_SKIP); } while (0)
#define T_FAIL(...) do { printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); \
	printf("\n"); fflush(stdout); exit(T_EXIT_FAIL); } while (0)
#define T_ASSERT(c) do { if (!(c)) T_FAIL("assertion '%s' failed", #c); } while (0)
#define T_ASSERT_EQ(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
	if (_a != _b) T_FAIL("%s == %lld, expected %s == %lld", #a, _a, #b, _b); } while (0)

/* Kill the whole process group after SECONDS (default for every test). */
void t_watchdog(unsigned seconds);
/* Unique name prefix for this test run (pid-based), e.g. for pipes. */
const char *t_uniq(const char *base);
/* Monotonic time in seconds. */
double t_now(void);
/* Point $UNM_DPDK_PLUGIN (unless set) at the libunm-dpdk.so of the build
 * this test program is in ($(B)/tests/DIR/prog -> $(B)/libunm-dpdk.so) and
 * skip if it is not there, then skip unless each NULL-terminated DPDK
 * driver name (e.g. "net_tap") is installed as a PMD plugin. */
void t_need_dpdk(const char *pmd, ...);

#endif
