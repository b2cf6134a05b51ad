// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: the guest side of the ivshmem passthrough (port type
 * ivshmem:BDF) without a VM. A fake sysfs PCI device ($UNM_IVSHMEM_SYSFS)
 * has resource2 = the region memfd of a unmd port opened with
 * UNM_CTL_GEOM_POW2 (as unm-ivshmem opens it) and resource0 = a plain file
 * standing for BAR0; a thread plays QEMU: it takes each Doorbell write
 * (peer << 16 | vector) and writes that vector's kick eventfd. Checks:
 * the region is a power of two; frames go both ways between the ivshmem
 * port and a vale0:host client, counted and in order; the doorbell names
 * the server's peer id; a missing device, a BAR2 with garbage and a BAR2
 * whose size disagrees with the region header are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unm.h>
#include "unm-ctlmsg.h"
#include "unm-ivshmem.h"
#include "../lib/test.h"
#include "../lib/unmd.h"

#define DB_IDLE 0xffffffffu

static struct {
	uint32_t *bar0;
	int kick[2 * UNM_MAX_RINGS];
	unsigned n;
	atomic_int stop;
	atomic_uint doorbells, bad_peer;
} q;

/* QEMU's part: doorbell -> kick eventfd. A 5 ms fallback kick covers two
 * writes landing between two exchanges (the fake register keeps one). */
static void *qemu_thread(void *arg)
{
	uint32_t *db = &q.bar0[UNM_IVSHMEM_DOORBELL / 4];
	double last = t_now();

	(void)arg;
	while (!atomic_load(&q.stop)) {
		uint32_t v = __atomic_exchange_n(db, DB_IDLE, __ATOMIC_SEQ_CST);
		uint64_t one = 1;

		if (v != DB_IDLE) {
			atomic_fetch_add(&q.doorbells, 1);
			if (v >> 16 != UNM_IVSHMEM_SERVER_ID)
				atomic_fetch_add(&q.bad_peer, 1);
			if ((v & 0xffff) < q.n && write(q.kick[v & 0xffff], &one, 8) < 0)
				break;
		}
		if (t_now() - last > 0.005) {
			for (unsigned i = 0; i < q.n; i++)
				if (write(q.kick[i], &one, 8) < 0)
					break;
			last = t_now();
		}
		usleep(20);
	}
	return NULL;
}

static void put(const char *dir, const char *name, const void *data, size_t len)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	T_ASSERT(fd >= 0);
	T_ASSERT_EQ(write(fd, data, len), (long long)len);
	close(fd);
}

static void fake_dev(const char *root, const char *bdf, char *dir, size_t dlen)
{
	static char bar0[4096];

	snprintf(dir, dlen, "%s/%s", root, bdf);
	T_ASSERT_EQ(mkdir(dir, 0700), 0);
	put(dir, "vendor", "0x1af4\n", 7);
	put(dir, "device", "0x1110\n", 7);
	put(dir, "enable", "0\n", 2);
	memset(bar0, 0, sizeof(bar0));
	*(uint32_t *)(bar0 + UNM_IVSHMEM_IVPOSITION) = UNM_IVSHMEM_GUEST_ID;
	*(uint32_t *)(bar0 + UNM_IVSHMEM_DOORBELL) = DB_IDLE;
	put(dir, "resource0", bar0, sizeof(bar0));
}

static int try_open(const char *name)
{
	struct unm_port *p;
	int rc = unm_open(name, &p, NULL);

	if (!rc)
		unm_close(p);
	return rc;
}

/* N frames a -> b, in batches that fit the rings; every one checked. */
static void stream(struct unm_port *a, struct unm_port *b, unsigned src, const uint8_t dst[6],
		   uint32_t seq0, unsigned n)
{
	uint8_t f[256], r[2048];

	for (unsigned done = 0; done < n; done += 200) {
		for (unsigned k = 0; k < 200 && done + k < n; k++)
			T_ASSERT_EQ(t_send(a, f, t_frame(f, 60 + k % 64, dst, src, seq0 + done + k),
					   3000), 0);
		for (unsigned k = 0; k < 200 && done + k < n; k++) {
			T_ASSERT_EQ(t_recv(b, r, sizeof(r), 3000), 60 + k % 64);
			T_ASSERT_EQ(t_frame_check(r, 60 + k % 64), seq0 + done + k);
		}
	}
}

int main(void)
{
	char root[] = "/tmp/unm-ivfake.XXXXXX", dir[600], path[700], target[64];
	int fds[UNM_CTL_MAX_FDS], ctl;
	struct unm_ctl_req req;
	struct unm_ctl_rep rep;
	struct unm_port *g, *h;
	uint8_t mg[6], mh[6];
	pthread_t th;
	struct stat st;
	pid_t d;

	t_watchdog(40);
	d = t_unmd_start(NULL);
	T_ASSERT(mkdtemp(root));
	setenv("UNM_IVSHMEM_SYSFS", root, 1);

	/* the server's side: the port, as unm-ivshmem opens it */
	ctl = unm_ctl_connect(t_unmd_sock());
	T_ASSERT(ctl >= 0);
	unm_ctl_req_init(&req, UNM_CTL_OPEN_PORT, 1);
	snprintf(req.name, sizeof(req.name), "vale0:vm");
	req.geom.flags = UNM_CTL_GEOM_POW2;
	T_ASSERT_EQ(unm_ctl_call(ctl, &req, &rep, fds, UNM_CTL_MAX_FDS, 3000), 0);
	q.n = rep.n_tx + rep.n_rx;
	T_ASSERT_EQ(rep.n_fds, 1 + 2 * q.n);
	memcpy(q.kick, fds + 1, q.n * sizeof(int));
	T_ASSERT_EQ(fstat(fds[0], &st), 0);
	T_ASSERT_EQ(st.st_size, rep.region_size);
	T_ASSERT(st.st_size > 0 && (st.st_size & (st.st_size - 1)) == 0);

	/* the guest's view of it */
	fake_dev(root, "0000:00:04.0", dir, sizeof(dir));
	snprintf(target, sizeof(target), "/proc/%d/fd/%d", (int)getpid(), fds[0]);
	snprintf(path, sizeof(path), "%s/resource2", dir);
	T_ASSERT_EQ(symlink(target, path), 0);
	snprintf(path, sizeof(path), "%s/resource0", dir);
	{
		int fd = open(path, O_RDWR);

		T_ASSERT(fd >= 0);
		q.bar0 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		T_ASSERT(q.bar0 != MAP_FAILED);
		close(fd);
	}
	T_ASSERT_EQ(pthread_create(&th, NULL, qemu_thread, NULL), 0);

	T_ASSERT_EQ(try_open("ivshmem:00:05.0"), -ENODEV);
	T_ASSERT_EQ(unm_open("ivshmem:00:04.0", &g, NULL), 0); /* domain added */
	h = t_open("vale0:host");
	T_ASSERT_EQ(t_ctl(UNM_CTL_SWITCH_SET, "vale0", "lossless", 1), 0);
	t_mac(mg, 1), t_mac(mh, 2);
	stream(g, h, 1, mh, 1000, 3000);
	stream(h, g, 2, mg, 5000, 3000);
	T_ASSERT(atomic_load(&q.doorbells) > 0);
	T_ASSERT_EQ(atomic_load(&q.bad_peer), 0);
	printf("6000 frames through the fake device, %u doorbells\n", atomic_load(&q.doorbells));
	unm_close(h);
	unm_close(g);

	/* BAR2 with garbage: refused by validation, nothing mapped is used */
	{
		static char junk[1 << 16];

		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (char)(i * 7 + 3);
		fake_dev(root, "0000:00:06.0", dir, sizeof(dir));
		put(dir, "resource2", junk, sizeof(junk));
		T_ASSERT_EQ(try_open("ivshmem:0000:00:06.0"), -EBADMSG);
		/* the real header over a BAR of another size */
		memcpy(junk, mmap(NULL, 4096, PROT_READ, MAP_SHARED, fds[0], 0), 4096);
		fake_dev(root, "0000:00:07.0", dir, sizeof(dir));
		put(dir, "resource2", junk, sizeof(junk));
		T_ASSERT_EQ(try_open("ivshmem:0000:00:07.0"), -EBADMSG);
	}

	atomic_store(&q.stop, 1);
	pthread_join(th, NULL);
	close(ctl);
	for (unsigned i = 0; i < 1 + 2 * q.n; i++)
		close(fds[i]);
	T_ASSERT_EQ(system(strcat(strcpy(path, "rm -rf "), root)), 0);
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("PASS\n");
	return 0;
}
