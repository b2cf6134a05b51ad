// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: interop stand-in for NetBSD's shmif_dumpbus. (1) The
 * library's writer and the independent writer of shmif-common.h, fed the
 * same frames, sender id and timestamps, produce byte-identical bus images
 * across several laps (same shm_first/shm_last/shm_gen, same records,
 * zeroed header padding). (2) A bus written by a shmif port (through the
 * file, with the wake-up pwrite) parses with the post-mortem walk of
 * section 7: version 3, records from shm_first to shm_last are the newest
 * frames, consecutive and intact.
 */
#include <errno.h>
#include <unm.h>
#include "unm-shmif-bus.h"
#include "shmif-common.h"

static uint8_t img_lib[TW_BUS], img_ref[TW_BUS];

static void same_images(void)
{
	struct shmif_bus b;
	char err[200];
	uint8_t f[1514];
	uint32_t seq = 0;

	T_ASSERT_EQ(unm_shmif_bus_attach_mem(&b, img_lib, err, sizeof(err)), 0);
	tw_init(img_ref);
	/* attach_mem initialised img_lib the same way */
	T_ASSERT(memcmp(img_lib, img_ref, TW_BUS) == 0);
	for (unsigned lap = 0; lap < 5; lap++) {
		uint64_t bytes = 0;

		while (bytes < TW_DATA) {
			uint32_t len = 14 + (seq * 613) % (1514 - 14 + 1);
			struct iovec iov[3];

			if (len < 22)
				len = 22;
			tf_make(f, seq, len, tf_bcast);
			/* gather in three pieces, as MOREFRAG chains arrive */
			iov[0] = (struct iovec){ f, len / 3 };
			iov[1] = (struct iovec){ f + len / 3, len / 3 };
			iov[2] = (struct iovec){ f + 2 * (len / 3), len - 2 * (len / 3) };
			tw_sec = seq;
			tw_usec = seq * 3;
			T_ASSERT_EQ(unm_shmif_bus_lock(&b), 0);
			T_ASSERT_EQ(unm_shmif_bus_write(&b, iov, 3, len, seq, seq * 3), 0);
			unm_shmif_bus_unlock(&b);
			tw_send_nolock(img_ref, b.sender, f, len);
			bytes += TW_PH + len;
			seq++;
			if (memcmp(img_lib, img_ref, 32) != 0)
				T_FAIL("frame %u: headers differ: first %u/%u last %u/%u gen %llu/%llu",
				       seq - 1, tw_h32(img_lib, 16), tw_h32(img_ref, 16),
				       tw_h32(img_lib, 20), tw_h32(img_ref, 20),
				       (unsigned long long)tw_gen(img_lib),
				       (unsigned long long)tw_gen(img_ref));
		}
		T_ASSERT(memcmp(img_lib, img_ref, TW_BUS) == 0);
	}
	T_ASSERT(tw_gen(img_lib) >= 4);
	T_ASSERT_EQ(b.st.bad_chain, 0);
	/* -EMSGSIZE outside 14..1514 or when the pieces do not add up */
	struct iovec one = { f, 13 };

	T_ASSERT_EQ(unm_shmif_bus_write(&b, &one, 1, 13, 0, 0), -EMSGSIZE);
	one.iov_len = 1515;
	T_ASSERT_EQ(unm_shmif_bus_write(&b, &one, 1, 1515, 0, 0), -EMSGSIZE);
	one.iov_len = 100;
	T_ASSERT_EQ(unm_shmif_bus_write(&b, &one, 1, 101, 0, 0), -EMSGSIZE);
	unm_shmif_bus_close(&b);
}

struct walkst {
	long prev;
	unsigned n, bad;
	uint64_t sender;
};

static void walk_cb(const struct tw_pkt *pk, void *arg)
{
	struct walkst *w = arg;
	long s = tf_check(pk->frame, pk->len);

	if (s < 0 || (w->prev >= 0 && s != w->prev + 1) || pk->sender != w->sender)
		w->bad++;
	w->prev = s;
	w->n++;
}

static void port_bus(void)
{
	const char *path = tb_newpath("walk");
	struct unm_port *p;
	char name[200];
	uint8_t f[1514], *bus;
	uint32_t seq;
	struct walkst w = { .prev = -1 };

	snprintf(name, sizeof(name), "shmif:%s", path);
	T_ASSERT_EQ(unm_open(name, &p, NULL), 0);
	T_ASSERT_EQ(unm_shmif_port_stats(p, NULL, NULL, &w.sender), 0);
	for (seq = 0; seq < 3000; seq++) {
		uint32_t len = 60 + (seq * 37) % 1454;

		tf_make(f, seq, len, tf_bcast);
		T_ASSERT_EQ(unm_inject(p, f, len), (int)len);
	}
	T_ASSERT_EQ(unm_txsync(p, 0), 0);
	unm_close(p);

	bus = tb_map(path, NULL);
	T_ASSERT_EQ(tw_h32(bus, 24), 0);
	T_ASSERT(tw_gen(bus) >= 2);
	long n = tw_walk(bus, walk_cb, &w);

	T_ASSERT(n > 1000);
	T_ASSERT_EQ(w.bad, 0);
	T_ASSERT_EQ(w.prev, 2999);
	munmap(bus, TW_BUS);
}

int main(void)
{
	t_watchdog(30);
	same_images();
	port_bus();
	printf("ok\n");
	return 0;
}
