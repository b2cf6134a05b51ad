// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: the generic port layer on the null port: open by name,
 * ring geometry from @conf, TX sync moves head/tail as netmap does,
 * head outside the application's slots is refused and the ring reset,
 * a peer-overwritten constant field is restored, inject/dispatch work.
 */
#include <errno.h>
#include <unm.h>
#include "../lib/test.h"

int main(void)
{
	struct unm_port *p;
	struct unm_port_info info = { .sz = sizeof(info) };
	struct unm_port_stats st = { .sz = sizeof(st) };
	struct unm_ring *r;
	char frame[3000];

	t_watchdog(30);
	T_ASSERT_EQ(unm_open("null@conf:rings=2,slots=100,bufsize=1024", &p, NULL), 0);
	T_ASSERT_EQ(unm_port_info(p, &info), 0);
	T_ASSERT_EQ(info.tx_rings, 2);
	T_ASSERT_EQ(info.tx_slots, 100);
	T_ASSERT_EQ(info.buf_size, 1024);
	r = unm_ring_get(p, 1, 0);
	T_ASSERT(r != NULL);
	T_ASSERT_EQ(r->num_slots, 100);
	T_ASSERT_EQ(unm_ring_space(r), 99);
	for (int i = 0; i < 10; i++) {
		r->slot[r->head].len = 60;
		unm_ring_advance(r, unm_ring_next(r, r->head));
	}
	T_ASSERT_EQ(unm_ring_space(r), 89);
	T_ASSERT_EQ(unm_txsync(p, 0), 0);
	T_ASSERT_EQ(unm_ring_space(r), 99);
	T_ASSERT_EQ(r->tail, 9);
	/* head outside the ring, then cur behind head: refused, ring reset */
	r->head = r->cur = r->num_slots + 5;
	T_ASSERT_EQ(unm_txsync(p, 0), -EINVAL);
	T_ASSERT_EQ(r->head, 10);
	r->head = 12;
	r->cur = 11;
	T_ASSERT_EQ(unm_txsync(p, 0), -EINVAL);
	T_ASSERT_EQ(r->head, 10);
	/* a peer writes num_slots: restored by the next sync */
	*(uint32_t *)&r->num_slots = 7;
	T_ASSERT_EQ(unm_txsync(p, 0), 0);
	T_ASSERT_EQ(r->num_slots, 100);
	/* inject a 3000-byte frame: three fragments of 1024 */
	memset(frame, 0xab, sizeof(frame));
	T_ASSERT_EQ(unm_inject(p, frame, sizeof(frame)), (int)sizeof(frame));
	T_ASSERT_EQ(unm_txsync(p, UNM_RING_ALL), 0);
	T_ASSERT_EQ(unm_port_stats(p, &st), 0);
	T_ASSERT_EQ(st.tx_frames, 11);
	T_ASSERT_EQ(st.tx_bytes, 600 + 3000);
	T_ASSERT_EQ(st.bad_ring, 2);
	T_ASSERT_EQ(st.fixups, 1);
	T_ASSERT_EQ(unm_ring_get(p, 1, 2), NULL);
	unm_close(p);
	/* ring selection: -1 binds only pair 1 */
	T_ASSERT_EQ(unm_open("null-1@conf:rings=2", &p, NULL), 0);
	T_ASSERT(unm_ring_get(p, 1, 0) == NULL);
	T_ASSERT(unm_ring_get(p, 1, 1) != NULL);
	unm_close(p);
	T_ASSERT_EQ(unm_open("bogus:x", &p, NULL), -EPROTONOSUPPORT);
	T_ASSERT(strstr(unm_errmsg(), "unknown port type 'bogus'"));
	T_ASSERT_EQ(unm_open("pipeA{", &p, NULL), -EINVAL);
	T_ASSERT(strstr(unm_errmsg(), "bad port name 'pipeA{': missing pipe id"));
	printf("ok\n");
	return 0;
}
