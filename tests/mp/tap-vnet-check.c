// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: a tap port with @conf:vnet=12 validates every virtio-net
 * header the application writes before the kernel sees it. In a private
 * network namespace (unshare), a TCP GSO frame with a good header is
 * sent (counted in tx_frames and gso_tx_frames), a GSO frame with
 * gso_size 0 and a frame whose header claims NEEDS_CSUM outside the frame
 * are dropped and counted (drops, vnet_drops), and the port keeps working.
 * SKIP without CAP_SYS_ADMIN/CAP_NET_ADMIN or /dev/net/tun.
 */
#include <errno.h>
#include <sched.h>
#include <unm.h>
#include "../lib/test.h"

static uint8_t f[20000];

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* 12-byte header + Ethernet + IPv4 + TCP + N payload bytes, TSO header. */
static size_t gso_frame(uint16_t gso_size, size_t n)
{
	uint8_t *e = f + 12, *ip = e + 14, *t = ip + 20;

	memset(f, 0, 12 + 54);
	f[0] = 1, f[1] = 1, f[2] = 54, f[4] = (uint8_t)gso_size, f[5] = (uint8_t)(gso_size >> 8);
	f[6] = 34, f[8] = 16;
	memset(e, 0xff, 6);
	e[6] = 2, e[11] = 1;
	put16(e + 12, 0x0800);
	ip[0] = 0x45, ip[8] = 64, ip[9] = 6;
	put16(ip + 2, (uint16_t)(40 + n));
	ip[12] = 10, ip[15] = 1, ip[16] = 10, ip[19] = 2;
	t[12] = 5 << 4, t[13] = 0x10;
	put16(t, 1000), put16(t + 2, 2000);
	memset(t + 20, 0xab, n);
	return 12 + 54 + n;
}

int main(void)
{
	struct unm_port_stats st = { .sz = sizeof(st) };
	struct unm_port *p;
	size_t len;
	int rc;

	t_watchdog(20);
	if (access("/dev/net/tun", R_OK | W_OK))
		T_SKIP("tap: /dev/net/tun not present");
	if (unshare(CLONE_NEWNET))
		T_SKIP("unshare(CLONE_NEWNET): %s (needs root)", strerror(errno));
	rc = unm_open("tap:unmvchk0@conf:vnet=12", &p, NULL);
	if (rc == -EPERM || rc == -EACCES)
		T_SKIP("tap: %s", unm_errmsg());
	T_ASSERT_EQ(rc, 0);
	len = gso_frame(1448, 10000);
	T_ASSERT_EQ(unm_inject(p, f, len), (int)len);
	len = gso_frame(0, 10000);              /* gso_size 0 */
	T_ASSERT_EQ(unm_inject(p, f, len), (int)len);
	len = gso_frame(0, 100);
	f[1] = 0, f[6] = 0xf0, f[7] = 0xff;     /* NEEDS_CSUM at 65520: outside */
	T_ASSERT_EQ(unm_inject(p, f, len), (int)len);
	len = gso_frame(0, 100);
	f[0] = f[1] = 0;                        /* plain frame, zero header */
	T_ASSERT_EQ(unm_inject(p, f, len), (int)len);
	T_ASSERT_EQ(unm_txsync(p, UNM_RING_ALL), 0);
	T_ASSERT_EQ(unm_port_stats(p, &st), 0);
	printf("tx_frames %llu gso_tx %llu drops %llu vnet_drops %llu\n",
	       (unsigned long long)st.tx_frames, (unsigned long long)st.gso_tx_frames,
	       (unsigned long long)st.drops, (unsigned long long)st.vnet_drops);
	T_ASSERT_EQ(st.vnet_drops, 2);
	T_ASSERT_EQ(st.drops, 2);
	T_ASSERT_EQ(st.tx_frames, 2);
	T_ASSERT_EQ(st.gso_tx_frames, 1);
	unm_close(p);
	printf("ok\n");
	return 0;
}
