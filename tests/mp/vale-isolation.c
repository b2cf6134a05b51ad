// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: VALE isolation. Each client port has its own region: a
 * second open of port A (from another process) is refused with EBUSY,
 * B's region is a different memfd from A's, and a marker that A sends
 * unicast to C never appears in B's mapped region nor in B's RX ring,
 * while C receives it intact.
 */
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unm.h>
#include "unm-internal.h"
#include "../lib/test.h"
#include "../lib/unmd.h"

static const char marker[] = "ISOLATION-MARKER-7f3a9c";

static bool mem_has(const char *base, size_t size)
{
	return memmem(base, size, marker, sizeof(marker) - 1) != NULL;
}

static int child(int rd, int wr, ino_t a_ino)
{
	struct unm_port *b, *a2;
	uint8_t r[2048];
	struct stat st;
	char go;
	long n;

	b = t_open("vale0:b");
	if (unm_open("vale0:a", &a2, NULL) != -EBUSY)
		return 10;
	if (fstat(b->reg.fd, &st) || st.st_ino == a_ino)
		return 11;
	if (write(wr, "r", 1) != 1 || read(rd, &go, 1) != 1)
		return 12;
	/* drain whatever reached B: only C's broadcast may */
	while ((n = t_recv(b, r, sizeof(r), 300)) > 0)
		if (memmem(r, (size_t)n, marker, sizeof(marker) - 1))
			return 13;
	if (mem_has(b->reg.base, b->reg.size))
		return 14;
	unm_close(b);
	return 0;
}

int main(void)
{
	uint8_t f[256], r[2048], mc[6];
	int to_child[2], to_parent[2], st;
	struct unm_port *a, *c;
	struct stat ast;
	pid_t d, kid;
	char ch;

	t_watchdog(20);
	d = t_unmd_start(NULL);
	a = t_open("vale0:a");
	c = t_open("vale0:c");
	T_ASSERT_EQ(fstat(a->reg.fd, &ast), 0);
	T_ASSERT(pipe(to_child) == 0 && pipe(to_parent) == 0);
	kid = fork();
	if (kid == 0)
		_exit(child(to_child[0], to_parent[1], ast.st_ino));
	T_ASSERT_EQ(read(to_parent[0], &ch, 1), 1);
	/* C announces itself (flood: B sees this one), then A -> C unicast */
	t_mac(mc, 3);
	T_ASSERT_EQ(t_send(c, f, t_frame(f, 60, (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 3, 1), 1000), 0);
	T_ASSERT_EQ(t_recv(a, r, sizeof(r), 2000), 60);
	for (uint32_t s = 0; s < 20; s++) {
		size_t len = t_frame(f, 200, mc, 1, s);

		memcpy(f + 100, marker, sizeof(marker) - 1);
		T_ASSERT_EQ(t_send(a, f, len, 1000), 0);
		T_ASSERT_EQ(t_recv(c, r, sizeof(r), 2000), 200);
		T_ASSERT(memmem(r, 200, marker, sizeof(marker) - 1));
	}
	T_ASSERT(mem_has(c->reg.base, c->reg.size));
	T_ASSERT_EQ(write(to_child[1], "g", 1), 1);
	T_ASSERT_EQ(waitpid(kid, &st, 0), kid);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		T_FAIL("child B failed (status 0x%x)", st);
	unm_close(a);
	unm_close(c);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("ok\n");
	return 0;
}
