// SPDX-License-Identifier: BSD-2-Clause
/*
 * tap_iouring.c - does io_uring make a tap port cheaper than one write()
 * per frame? Writes 60-byte frames into a tap device for SECONDS with
 * (a) write() in a loop (what lib/backend/tap.c does) and (b) raw io_uring
 * (no liburing): BATCH IORING_OP_WRITE SQEs per io_uring_enter, alternating
 * ROUNDS times, and prints frames/s and CPU ns per frame for each.
 * Runs in a private network namespace (unshare), so the tap vanishes with
 * the process. Needs root. Usage: tap_iouring [SECONDS] [ROUNDS] [BATCH]
 *
 * Result (2 vCPU VM, kernel 6.18, loaded by other builds; 0.5 s x 4):
 * see the report in lib/backend/tap.c's header.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/io_uring.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct uring {
	int fd;
	unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

static int uring_init(struct uring *u, unsigned entries)
{
	struct io_uring_params p;
	uint8_t *sq, *cq;

	memset(&p, 0, sizeof(p));
	u->fd = (int)syscall(__NR_io_uring_setup, entries, &p);
	if (u->fd < 0)
		return -errno;
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_CQ_RING);
	u->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || u->sqes == MAP_FAILED)
		return -ENOMEM;
	u->sq_tail = (unsigned *)(sq + p.sq_off.tail);
	u->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	u->sq_array = (unsigned *)(sq + p.sq_off.array);
	u->cq_head = (unsigned *)(cq + p.cq_off.head);
	u->cq_tail = (unsigned *)(cq + p.cq_off.tail);
	u->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return 0;
}

/* Submit BATCH writes of the frame, wait for all, return frames written. */
static int o_link; /* LINK=1 in the environment: chain the SQEs with IOSQE_IO_LINK */

static unsigned uring_batch(struct uring *u, int fd, const void *buf, unsigned len, unsigned batch)
{
	unsigned tail = *u->sq_tail, done = 0, head;

	for (unsigned k = 0; k < batch; k++, tail++) {
		unsigned i = tail & *u->sq_mask;
		struct io_uring_sqe *e = &u->sqes[i];

		memset(e, 0, sizeof(*e));
		e->opcode = IORING_OP_WRITE;
		e->fd = fd;
		e->addr = (uintptr_t)buf;
		e->len = len;
		e->off = (uint64_t)-1;
		if (o_link && k + 1 < batch)
			e->flags = IOSQE_IO_LINK;
		u->sq_array[i] = i;
	}
	__atomic_store_n(u->sq_tail, tail, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, u->fd, batch, batch, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return 0;
	head = *u->cq_head;
	while (head != __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE)) {
		if (u->cqes[head & *u->cq_mask].res > 0)
			done++;
		head++;
	}
	__atomic_store_n(u->cq_head, head, __ATOMIC_RELEASE);
	return done;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1, t0, c0;
	int rounds = argc > 2 ? atoi(argv[2]) : 2;
	unsigned batch = argc > 3 ? (unsigned)atoi(argv[3]) : 64;
	uint8_t frame[60];
	struct ifreq ifr;
	struct uring u = { .fd = -1 };
	int fd, s;

	o_link = getenv("LINK") != NULL;
	if (batch < 1 || batch > 256)
		batch = 64;
	if (unshare(CLONE_NEWNET) < 0) {
		printf("SKIP: unshare(CLONE_NEWNET): %s (needs root)\n", strerror(errno));
		return 77;
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "unmbench0");
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
		printf("SKIP: tap: %s\n", strerror(errno));
		return 77;
	}
	s = socket(AF_INET, SOCK_DGRAM, 0);
	ioctl(s, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	ioctl(s, SIOCSIFFLAGS, &ifr);
	memset(frame, 0, sizeof(frame));
	memset(frame, 0xff, 6);
	frame[6] = 2, frame[11] = 1, frame[12] = 0x88, frame[13] = 0xb5;
	if (uring_init(&u, 256) < 0) {
		printf("SKIP: io_uring_setup: %s\n", strerror(errno));
		return 77;
	}
	for (int r = 0; r < rounds; r++) {
		uint64_t n = 0;

		t0 = now(), c0 = cpu();
		while (now() - t0 < secs)
			for (unsigned k = 0; k < batch; k++)
				n += write(fd, frame, sizeof(frame)) > 0;
		printf("write     pps=%.0f cpu_ns_per_frame=%.0f\n", n / (now() - t0),
		       (cpu() - c0) * 1e9 / (double)(n ? n : 1));
		n = 0;
		t0 = now(), c0 = cpu();
		while (now() - t0 < secs)
			n += uring_batch(&u, fd, frame, sizeof(frame), batch);
		printf("io_uring  pps=%.0f cpu_ns_per_frame=%.0f (batch %u)\n", n / (now() - t0),
		       (cpu() - c0) * 1e9 / (double)(n ? n : 1), batch);
	}
	return 0;
}
