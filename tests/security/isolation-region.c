// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: each client of a persistent port gets a fresh region. A
 * first client opens persistent port vale0:pp, maps its memfd a second
 * time (a mapping it keeps), and closes. A second client opens vale0:pp
 * and receives 32 frames carrying a marker from vale0:s. The first
 * client's kept mapping must hold none of them and be a different file;
 * writing garbage over the CSB it holds (heads, flags) must not disturb
 * the second client (it receives 32 more, its port is not errored).
 * Fails on commit 71d5c11: a persistent port kept one memfd for all its
 * clients, so the kept mapping saw every frame of the next client and
 * could error its port.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include "unm-internal.h"
#include "limits-common.h"

static const char marker[] = "REGION-MARKER-c41d";

static unsigned exchange(struct unm_port *s, struct unm_port *r, unsigned n)
{
	uint8_t f[128], buf[2048], bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	unsigned got = 0;

	for (unsigned i = 0; i < n; i++) {
		t_frame(f, sizeof(f), bcast, 9, i);
		memcpy(f + 40, marker, sizeof(marker) - 1);
		T_ASSERT_EQ(t_send(s, f, sizeof(f), 1000), 0);
	}
	for (long len; got < n && (len = t_recv(r, buf, sizeof(buf), 1000)) > 0;)
		got += memmem(buf, (size_t)len, marker, sizeof(marker) - 1) != NULL;
	return got;
}

int main(void)
{
	struct unm_port *c1, *c2, *s;
	struct unm_ctl_port_info pi;
	struct stat st1, st2;
	size_t size, csb_ofs;
	char *keep;
	pid_t d;

	t_watchdog(30);
	d = t_unmd_start(NULL);
	T_ASSERT_EQ(t_ctl(UNM_CTL_PORT_ADD, "vale0:pp", NULL, 0), 0);
	c1 = t_open("vale0:pp");
	size = c1->reg.size;
	csb_ofs = c1->reg.csb_ofs;
	keep = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, c1->reg.fd, 0);
	T_ASSERT(keep != MAP_FAILED);
	T_ASSERT(fstat(c1->reg.fd, &st1) == 0);
	unm_close(c1);
	usleep(100000);

	s = t_open("vale0:s");
	c2 = t_open("vale0:pp");
	T_ASSERT(fstat(c2->reg.fd, &st2) == 0);
	printf("first client's memfd inode %lu, second's %lu\n", (unsigned long)st1.st_ino,
	       (unsigned long)st2.st_ino);
	T_ASSERT_EQ(exchange(s, c2, 32), 32);
	T_ASSERT(!memmem(keep, size, marker, sizeof(marker) - 1));
	T_ASSERT(st1.st_ino != st2.st_ino);

	/* scribble over every CSB entry the kept mapping holds */
	for (size_t o = csb_ofs; o + 64 <= size && o < csb_ofs + 64 * 64; o++)
		keep[o] = (char)0xff;
	usleep(50000);
	T_ASSERT_EQ(exchange(s, c2, 32), 32);
	T_ASSERT(!memmem(keep, size, marker, sizeof(marker) - 1));
	T_ASSERT_EQ(t_port_info("vale0:pp", &pi), 0);
	T_ASSERT(!(pi.flags & UNM_CTL_PORT_ERRORED));
	printf("the kept mapping saw none of the second client's 64 frames\n");
	munmap(keep, size);
	unm_close(c2);
	unm_close(s);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("PASS\n");
	return 0;
}
