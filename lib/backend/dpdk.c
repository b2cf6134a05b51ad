// SPDX-License-Identifier: BSD-2-Clause
/*
 * dpdk.c - the "dpdk:DEVARGS" port: any DPDK ethdev (a NIC bound to
 * vfio-pci, "0000:03:00.0"; or a virtual device, "net_memif0,role=client,
 * socket=/run/m.sock", "net_af_packet0,iface=veth0", "net_tap0,iface=dt0")
 * driven through DPDK's public API. Built as the plugin libunm-dpdk.so
 * (see dpdk_load.c and dpdk.h for why and how it reaches libunm).
 *
 * EAL: initialised once per process, by the first dpdk: open, with
 * arguments that need neither hugepages nor shared files (DEFAULT_EAL
 * below); the environment variable UNM_DPDK_EAL (space-separated) or the
 * first port's @conf:eal=ARG+ARG+... replace them. EAL pins the thread that
 * initialises it to its main lcore: that thread's CPU affinity is restored
 * afterwards (it is the application's thread, or unmd's). The threads that
 * then sync the port need not be EAL threads: mbufs come from the pool's
 * ring without a per-lcore cache.
 *
 * Rings and queues: TX ring i is TX queue i, RX ring i is RX queue i (RSS
 * spreads flows over several RX queues where the device can). One ring's
 * queue is used only by the thread that syncs that ring (the port API's
 * rule), so no queue is shared between threads. The whole port is opened
 * at once: "-N" (one ring pair) is refused, as a device has one owner.
 *
 * Data path: a slot completes when its frame is in the device's queue;
 * frames the queue refuses are freed and their slots stay the
 * application's, to be sent by a later sync. RX takes a burst with
 * rte_eth_rx_burst() into a per-queue stash; what does not fit the ring
 * stays there for the next sync. Nothing is lost between the device's
 * queues and the rings. Each frame moves one of two ways:
 *
 * Zero copy (@conf:zerocopy=1, the default where the driver allows it,
 * see zc_driver_ok): the port's region has spare buffers of its own (taken
 * off the extra-buffer list at open, never the application's) and mbufs
 * point into the region. TX lends a one-slot frame's buffer to the device
 * as an external mbuf buffer (rte_pktmbuf_attach_extbuf, our shared info
 * per buffer, no headroom) and gives the slot a spare buffer in exchange
 * (UNM_NS_BUF_CHANGED, as a pipe's swap); the driver's free of the mbuf
 * returns the buffer to that TX queue's spares (zc_tx_free: drivers free a
 * queue's mbufs in its tx_burst, or at stop, so one thread at a time).
 * RX queues take their mbufs from a pool with pinned external buffers
 * (rte_pktmbuf_pool_create_extbuf) whose every buffer is a spare region
 * buffer, placed so that the data after DPDK's fixed headroom starts
 * exactly at the buffer (the headroom is the tail of the buffer before it:
 * only drivers that never write the headroom qualify); a received one-
 * segment frame is swapped into the RX slot: the slot takes the mbuf's
 * buffer, the mbuf the slot's free one. Who holds each buffer is tracked
 * (zc_own): a buffer an application hands in that the port holds, or one
 * an mbuf brings back that is not a region buffer where the port expects
 * it, is never swapped (the frame is copied, or dropped when its bounds
 * are wrong).
 *
 * Copy (zerocopy=0, other drivers, MOREFRAG chains, frames shorter than
 * ZC_TX_MIN, virtio-net header ports, no spare left): TX copies the frame
 * (a chain gathered) into an mbuf (a chain where the device takes
 * multi-segment frames); RX copies each mbuf (all its segments) into free
 * RX slots, frames larger than a buffer as MOREFRAG chains. Counters
 * zc_tx/rx_frames and copy_tx/rx_frames (unm_port_stats) tell which.
 *
 * Offloads: a port opened with a virtio-net header (@conf:vnet=10|12, as a
 * switch port that takes TSO frames) maps the header onto mbuf offload
 * fields on TX: GSO TCP frames go to the device as one TSO mbuf chain
 * (the device must have TCP_TSO and multi-segment TX, or the open fails),
 * partial TCP/UDP checksums to its checksum offloads, or are completed in
 * the mbuf copy where it has none; rte_eth_tx_prepare() vets them, and a
 * frame the driver refuses is dropped (counted), not retried. On RX the
 * header says DATA_VALID where the device checked the L4 checksum; frames
 * arrive whole (LRO is not asked for).
 *
 * Notifications: RX queues use DPDK's RX interrupts where the device has
 * them (intr_conf.rxq; among the vdevs of DPDK 22.11 only net_tap, whose
 * queue fd is the tap fd; PCI NICs through vfio, net_vhost, virtio): each
 * queue's event fd is registered (rte_eth_dev_rx_intr_ctl_q, edge
 * triggered) in an epoll set of DPDK's own (ifd, drained with
 * rte_epoll_wait, which also reads the counters of drivers that need it),
 * and that set is in the port's epoll set. An RX ring that would block
 * enables its queue's interrupt (rte_eth_dev_rx_intr_enable, where the
 * driver has one), drains ifd, then looks at the queue once more (double
 * check: a frame that came before the enable raised nothing): an idle port
 * sleeps with no wake-up at all and a frame wakes its receiver. rxsync
 * disables the interrupt again while it polls. A device without RX
 * interrupts (net_memif, net_af_packet, net_null, net_ring, net_pcap in
 * 22.11), and every TX ring waiting for room, arm a one-shot timerfd of
 * POLL_US instead: a waiter sleeps at most that long between looks. Busy
 * pollers never arm.
 */
/* rte_pktmbuf_pool_create_extbuf is still marked experimental in 22.11 */
#define ALLOW_EXPERIMENTAL_API 1
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <rte_eal.h>
#include <rte_dev.h>
#include <rte_epoll.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include "backend/dpdk.h"

#define BURST          64u
#define POLL_US        50u
#define MAX_DESC       4096u        /* per queue: bounds the mbuf pool */
#define POOL_CACHE     256u         /* mbufs cached per lcore (see lcore_of_thread) */
#define EAL_ARGS_MAX   64
#define DEFAULT_EAL    "--no-huge -m 256 --no-shconf --no-telemetry --log-level=*:warning"
#define ZC_HR          RTE_PKTMBUF_HEADROOM  /* where RX drivers put a frame in an mbuf */
#define ZC_TX_MIN      512u         /* shorter TX frames are copied: lending
                                       costs more instructions than copying
                                       a frame up to ~600 bytes (README) */
#define ZC_MAX_SPARE   49152u       /* spare buffers of ours at most (the
                                       region has 65536 extra at most) */

static const struct unm_dpdk_host *H;

/* EAL: once per process. */
static pthread_mutex_t eal_lock = PTHREAD_MUTEX_INITIALIZER;
static int eal_rc = 1;              /* 1 = not tried; 0 = up; -errno = failed */
static char eal_err[200];
static uint8_t ports_in_use[RTE_MAX_ETHPORTS];
static unsigned pool_seq;

struct dq_stash {                   /* RX: mbufs taken from the device, not yet copied */
	struct rte_mbuf *m[BURST];
	unsigned next, n;
};

/* Zero copy: one TX queue's spare region buffers (a LIFO stack). */
struct zc_txq {
	struct dpdk_priv *dp;
	uint32_t *idx;
	unsigned n, cap;
};

enum { ZC_APP = 0, ZC_PORT = 1 };  /* zc_own[]: who holds a region buffer */

struct dpdk_priv {
	uint16_t port_id;
	bool started;
	bool in_use;                /* holds ports_in_use[port_id] */
	bool multi_seg;             /* TX takes mbuf chains */
	unsigned vnet;              /* virtio-net header bytes in a frame: 0, 10, 12 */
	uint64_t tx_capa;           /* RTE_ETH_TX_OFFLOAD_* enabled */
	bool rx_csum;               /* RX checksum status in mbufs */
	uint16_t tso_max;           /* largest tso_segsz + L2-L4 headers the
	                               driver takes (0: no limit of ours) */
	struct rte_device *dev;     /* set once configured: close it */
	struct rte_mempool *mp;
	unsigned mtu;
	int tfd;                    /* poll timer (see header) */
	bool timer_armed;
	/* RX interrupts (see header); intr false: the timer for RX too */
	bool intr;
	bool intr_ctl;              /* the driver has rx_intr_enable/disable */
	int ifd;                    /* DPDK's epoll set of the queues' fds, -1 */
	unsigned n_rxq;
	bool intr_added[UNM_MAX_RINGS];
	bool intr_on[UNM_MAX_RINGS];  /* enabled (intr_ctl), by the ring's thread */
	struct dq_stash stash[UNM_MAX_RINGS];
	/* zero copy (see header); zc_tx/zc_rx false: the copy path */
	bool zc_tx, zc_rx;
	uint32_t zc_tx_min;         /* ZC_TX_MIN */
	char *pool_base;            /* the region's buffer 0 */
	uint32_t buf_size, buf_count;  /* trusted copies (p->reg) */
	uint8_t *zc_own;            /* ZC_APP / ZC_PORT per buffer */
	struct rte_mbuf_ext_shared_info *zc_shinfo;  /* per buffer, TX lending */
	struct zc_txq zq[UNM_MAX_RINGS];
	struct rte_mempool *rxmp;   /* RX pool over region buffers (zc_rx) */
};

static void eal_rmdir(void)
{
	rmdir(rte_eal_get_runtime_dir());
}

/*
 * Split ARGS at SEP into argv[1..]; return argc or -E2BIG. ARGS is kept
 * (argv points into it).
 */
static int split_args(char *args, char sep, char **argv)
{
	int argc = 1;

	for (char *s = args; *s;) {
		while (*s == sep)
			s++;
		if (!*s)
			break;
		if (argc >= EAL_ARGS_MAX - 4)
			return -E2BIG;
		argv[argc++] = s;
		while (*s && *s != sep)
			s++;
		if (*s)
			*s++ = '\0';
	}
	return argc;
}

static bool is_pci(const char *devargs)
{
	unsigned a, b, c, d;
	char end;

	return sscanf(devargs, "%x:%x:%x.%x%c", &a, &b, &c, &d, &end) >= 4 ||
	       sscanf(devargs, "%x:%x.%x%c", &a, &b, &c, &end) >= 3;
}

/* Start EAL with CONF (CLEN bytes from @conf:eal, '+'-separated) or the
 * environment or the defaults. Lock held. */
static int eal_start(const char *conf, size_t clen, const char *devargs)
{
	static char buf[1024], prefix[64], lcore[32], allow[80];
	char *argv[EAL_ARGS_MAX] = { "unetmap" };
	const char *env = getenv("UNM_DPDK_EAL");
	cpu_set_t cpus;
	int argc, rc, first = 0;

	if (env && *env) {
		snprintf(buf, sizeof(buf), "%s", env);
		argc = split_args(buf, ' ', argv);
	} else if (conf && clen) {
		snprintf(buf, sizeof(buf), "%.*s", (int)clen, conf);
		argc = split_args(buf, '+', argv);
	} else {
		snprintf(buf, sizeof(buf), "%s", DEFAULT_EAL);
		argc = split_args(buf, ' ', argv);
		/* one lcore: a CPU this thread may run on; no PCI scan unless
		 * the device is a PCI one (and then only that device) */
		if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
			while (first < CPU_SETSIZE - 1 && !CPU_ISSET(first, &cpus))
				first++;
		snprintf(lcore, sizeof(lcore), "-l%d", first);
		argv[argc++] = lcore;
		if (is_pci(devargs)) {
			snprintf(allow, sizeof(allow), "-a%.70s", devargs);
			argv[argc++] = allow;
		} else {
			argv[argc++] = "--no-pci";
		}
	}
	if (argc < 0)
		return H->seterr(-E2BIG, "dpdk: more than %d EAL arguments", EAL_ARGS_MAX - 4);
	/* a prefix of our own: two processes never share EAL files */
	if (env && *env ? !strstr(env, "--file-prefix") :
	    !(conf && memmem(conf, clen, "--file-prefix", 13))) {
		snprintf(prefix, sizeof(prefix), "--file-prefix=unm%d", (int)getpid());
		argv[argc++] = prefix;
	}
	argv[argc] = NULL;
	if (sched_getaffinity(0, sizeof(cpus), &cpus) != 0)
		CPU_ZERO(&cpus);
	rc = rte_eal_init(argc, argv);
	if (CPU_COUNT(&cpus))
		sched_setaffinity(0, sizeof(cpus), &cpus);
	if (rc < 0) {
		rc = rte_errno ? -rte_errno : -EINVAL;
		snprintf(eal_err, sizeof(eal_err), "EAL did not start (%s); set its arguments "
			 "with UNM_DPDK_EAL or @conf:eal=ARG+ARG", rte_strerror(-rc));
		return rc;
	}
	/* Nothing is kept there without shared config: remove it now (a
	 * process killed later leaves nothing behind); else at exit. */
	if (rmdir(rte_eal_get_runtime_dir()) != 0)
		atexit(eal_rmdir);
	return 0;
}

/* The value of @conf option KEY ("KEY=") in the spec's type options
 * ("k=v,k=v"), running to the next ',' (*LEN bytes), or NULL. */
static const char *conf_val(const struct unm_spec *s, const char *key, size_t *len)
{
	size_t kl = strlen(key);

	for (const char *e = s->xconf; (e = strstr(e, key)); e += kl)
		if (e == s->xconf || e[-1] == ',') {
			*len = strcspn(e + kl, ",");
			return e + kl;
		}
	return NULL;
}

static int find_port(const char *devargs, uint16_t *pid)
{
	struct rte_dev_iterator it;
	uint16_t id;

	RTE_ETH_FOREACH_MATCHING_DEV(id, devargs, &it) {
		*pid = id;
		rte_eth_iterator_cleanup(&it);
		return 0;
	}
	return -ENODEV;
}

/* Undo intr_setup: the queues' fds leave ifd before the device stops. */
static void intr_stop(struct dpdk_priv *dp)
{
	for (unsigned q = 0; q < UNM_MAX_RINGS; q++) {
		if (dp->intr_on[q])
			rte_eth_dev_rx_intr_disable(dp->port_id, (uint16_t)q);
		if (dp->intr_added[q])
			rte_eth_dev_rx_intr_ctl_q(dp->port_id, (uint16_t)q, dp->ifd,
						  RTE_INTR_EVENT_DEL, NULL);
		dp->intr_on[q] = dp->intr_added[q] = false;
	}
	if (dp->ifd >= 0)
		close(dp->ifd);
	dp->ifd = -1;
	dp->intr = false;
}

/*
 * Started device: use its RX interrupts if every RX queue has one (else
 * the timer, and nothing of this stays). Called before the port's epoll
 * set exists; dpdk_open adds ifd to it.
 */
static void intr_setup(struct dpdk_priv *dp, unsigned nrx)
{
	int rc;

	dp->n_rxq = nrx;
	if (!nrx || (dp->ifd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return;
	for (unsigned q = 0; q < nrx; q++) {
		/* most vdevs have none: ethdev's complaint is no news */
		int lvl = rte_log_get_level((uint32_t)rte_eth_dev_logtype);

		if (q == 0 && lvl >= 0)
			rte_log_set_level((uint32_t)rte_eth_dev_logtype, RTE_LOG_CRIT);
		rc = rte_eth_dev_rx_intr_ctl_q(dp->port_id, (uint16_t)q, dp->ifd,
					       RTE_INTR_EVENT_ADD, NULL);
		if (q == 0 && lvl >= 0)
			rte_log_set_level((uint32_t)rte_eth_dev_logtype, (uint32_t)lvl);
		if (rc != 0) {
			intr_stop(dp);
			return;
		}
		dp->intr_added[q] = true;
	}
	/* drivers without rx_intr_enable (net_tap) signal whenever a frame
	 * comes; the others are enabled before each sleep */
	rc = rte_eth_dev_rx_intr_enable(dp->port_id, 0);
	if (rc == 0) {
		rte_eth_dev_rx_intr_disable(dp->port_id, 0);
		dp->intr_ctl = true;
	} else if (rc != -ENOTSUP) {
		intr_stop(dp);
		return;
	}
	dp->intr = true;
}

static void dpdk_free(struct dpdk_priv *dp)
{
	if (!dp)
		return;
	for (unsigned q = 0; q < UNM_MAX_RINGS; q++)
		for (unsigned k = dp->stash[q].next; k < dp->stash[q].n; k++)
			rte_pktmbuf_free(dp->stash[q].m[k]);
	intr_stop(dp);
	if (dp->started)
		rte_eth_dev_stop(dp->port_id);
	if (dp->dev) {
		/* detach the driver too, whoever probed the device: the next
		 * open of it (in this process) probes it afresh */
		rte_eth_dev_close(dp->port_id);
		rte_dev_remove(dp->dev);
	}
	/* the device is closed: no mbuf is lent any more (its free gave
	 * each buffer back to its TX queue's spares) */
	if (dp->rxmp)
		rte_mempool_free(dp->rxmp);
	if (dp->mp)
		rte_mempool_free(dp->mp);
	for (unsigned q = 0; q < UNM_MAX_RINGS; q++)
		free(dp->zq[q].idx);
	free(dp->zc_own);
	free(dp->zc_shinfo);
	if (dp->tfd >= 0)
		close(dp->tfd);
	pthread_mutex_lock(&eal_lock);
	if (dp->in_use)
		ports_in_use[dp->port_id] = 0;
	pthread_mutex_unlock(&eal_lock);
	free(dp);
}

/*
 * Why the port cannot lend its buffers to this device, or NULL if it can.
 * Drivers that may DMA (a PCI NIC, virtio, ...) would need the region
 * registered with the device (rte_extmem_register, rte_dev_dma_map) and,
 * on RX, a driver that never writes an mbuf's headroom (which here is the
 * tail of another buffer): only drivers known to copy into and out of an
 * mbuf's data qualify.
 */
static const char *zc_refusal(const struct dpdk_priv *dp, const struct rte_eth_dev_info *di,
			      const char *devargs, unsigned buf_size, unsigned spares)
{
	static const char *const copying[] = { "net_null", "net_memif", "net_af_packet", "net_tap",
					       "net_ring", "net_pcap" };
	bool known = false;

	for (unsigned i = 0; i < RTE_DIM(copying); i++)
		known |= !strcmp(di->driver_name, copying[i]);
	if (!known)
		return "only drivers that copy frames in software (net_null, net_memif, "
		       "net_af_packet, net_tap, net_ring, net_pcap) take the port's buffers: "
		       "a device that may DMA would need the region registered for DMA, which "
		       "the port does not do";
	if (!strcmp(di->driver_name, "net_memif") && strstr(devargs, "zero-copy=yes"))
		return "net_memif's own zero-copy mode shares DPDK's memory with its peer, "
		       "never the port's region";
	if (dp->vnet)
		return "a virtio-net header comes before the frame in a slot, where no mbuf "
		       "can point (an mbuf's headroom is DPDK's)";
	if (buf_size + ZC_HR > UINT16_MAX)
		return "an mbuf cannot point at a buffer that large (buf-size at most 65407)";
	if (spares > ZC_MAX_SPARE)
		return "the port would need more spare buffers than a region holds (fewer "
		       "slots or rings)";
	return NULL;
}

/* A region buffer's address. */
static inline char *zc_buf(const struct dpdk_priv *dp, uint32_t idx)
{
	return dp->pool_base + (size_t)idx * dp->buf_size;
}

/* The region buffer at ADDR (+ OFF): its index, or 0 when ADDR is not
 * where a valid buffer starts. */
static inline uint32_t zc_idx(const struct dpdk_priv *dp, const void *addr, uintptr_t off)
{
	uintptr_t a = (uintptr_t)addr + off - (uintptr_t)dp->pool_base;  /* wraps if below */

	if (a % dp->buf_size || a / dp->buf_size >= dp->buf_count || a / dp->buf_size < 2)
		return 0;
	return (uint32_t)(a / dp->buf_size);
}

/*
 * Take NRX + NTXQ x (TX rings) spare buffers off the extra-buffer list
 * that unm_port_create_self made (ours come first: the application's own
 * extra buffers stay on the list), hand NTXQ to each TX queue and build
 * the RX pool over NRX of them. Before the application sees the region.
 */
static int zc_setup(struct unm_port *p, struct dpdk_priv *dp, const struct unm_open_opts *o,
		    unsigned nrx, unsigned ntxq, int sock)
{
	const char *da = p->spec.path;
	unsigned total = nrx + o->tx_rings * ntxq, k = 0;
	struct rte_pktmbuf_extmem *em = NULL;
	char pname[RTE_MEMPOOL_NAMESIZE];
	uint32_t head = p->nifp->ni_bufs_head;

	dp->pool_base = (char *)p->reg.base + p->reg.pool_ofs;
	dp->buf_size = p->reg.buf_size;
	dp->buf_count = p->reg.buf_count;
	dp->zc_own = calloc(dp->buf_count, 1);
	dp->zc_shinfo = calloc(dp->buf_count, sizeof(*dp->zc_shinfo));
	if (!dp->zc_own || !dp->zc_shinfo)
		return -ENOMEM;
	for (unsigned q = 0; q < o->tx_rings; q++) {
		dp->zq[q].dp = dp;
		dp->zq[q].cap = ntxq;
		if (!(dp->zq[q].idx = malloc(ntxq * sizeof(uint32_t))))
			return -ENOMEM;
	}
	if (nrx && !(em = calloc(nrx, sizeof(*em))))
		return -ENOMEM;
	for (k = 0; k < total; k++) {
		uint32_t idx = head;

		if (!unm_buf_ok(p, idx) || dp->zc_own[idx]) {  /* our own list, just built */
			free(em);
			return H->seterr(-EBADMSG, "dpdk: %s: extra buffer %u of the new region is "
					 "not valid", da, idx);
		}
		dp->zc_own[idx] = ZC_PORT;
		memcpy(&head, zc_buf(dp, idx), sizeof(head));
		if (k < nrx) {
			/* the data after DPDK's headroom is the buffer */
			em[k].buf_ptr = zc_buf(dp, idx) - ZC_HR;
			em[k].buf_iova = RTE_BAD_IOVA;  /* no DMA (zc_refusal) */
			em[k].buf_len = dp->buf_size + ZC_HR;
			em[k].elt_size = (uint16_t)(dp->buf_size + ZC_HR);
		} else {
			struct zc_txq *z = &dp->zq[(k - nrx) / ntxq];

			z->idx[z->n++] = idx;
		}
	}
	p->nifp->ni_bufs_head = head;
	if (nrx) {
		snprintf(pname, sizeof(pname), "unmz%d_%u", (int)getpid() % 100000,
			 __atomic_fetch_add(&pool_seq, 1, __ATOMIC_RELAXED));
		dp->rxmp = rte_pktmbuf_pool_create_extbuf(pname, nrx, POOL_CACHE, 0,
							  (uint16_t)(dp->buf_size + ZC_HR), sock,
							  em, nrx);
		free(em);
		if (!dp->rxmp)
			return H->seterr(-ENOMEM, "dpdk: %s: no memory for %u mbufs over the "
					 "port's buffers (%s): give EAL more with -m, or "
					 "@conf:zerocopy=0", da, nrx, rte_strerror(rte_errno));
	}
	return 0;
}

/* Set up the configured device's queues and start it. */
static int queues_start(struct unm_port *p, struct dpdk_priv *dp, const struct unm_open_opts *o,
			uint16_t nrxd, uint16_t ntxd, int sock)
{
	const char *da = p->spec.path;
	int rc;

	for (unsigned q = 0; q < o->rx_rings; q++)
		if ((rc = rte_eth_rx_queue_setup(dp->port_id, (uint16_t)q, nrxd, (unsigned)sock,
						 NULL, dp->zc_rx ? dp->rxmp : dp->mp)))
			return H->seterr(rc, "dpdk: %s: RX queue %u: %s", da, q, rte_strerror(-rc));
	for (unsigned q = 0; q < o->tx_rings; q++)
		if ((rc = rte_eth_tx_queue_setup(dp->port_id, (uint16_t)q, ntxd, (unsigned)sock,
						 NULL)))
			return H->seterr(rc, "dpdk: %s: TX queue %u: %s", da, q, rte_strerror(-rc));
	if ((rc = rte_eth_dev_start(dp->port_id)))
		return H->seterr(rc, "dpdk: %s: start: %s", da, rte_strerror(-rc));
	return 0;
}

static int dev_setup(struct unm_port *p, struct dpdk_priv *dp, const struct unm_open_opts *o,
		     int zc_conf)
{
	const char *da = p->spec.path;
	struct rte_eth_conf conf;
	struct rte_eth_dev_info di;
	struct rte_ether_addr ea;
	uint16_t nrxd = (uint16_t)(o->rx_slots < MAX_DESC ? o->rx_slots : MAX_DESC);
	uint16_t ntxd = (uint16_t)(o->tx_slots < MAX_DESC ? o->tx_slots : MAX_DESC);
	uint16_t mtu = 0;
	char pname[RTE_MEMPOOL_NAMESIZE];
	unsigned nmbufs, zc_nrx, zc_ntxq;
	struct unm_open_opts oz = *o;
	const char *no_zc;
	uint8_t mac[6] = { 0 };
	int sock, rc;

	if ((rc = rte_eth_dev_info_get(dp->port_id, &di)) != 0)
		return H->seterr(rc, "dpdk: %s: device info: %s", da, rte_strerror(-rc));
	dp->dev = di.device;
	if (o->tx_rings > di.max_tx_queues || o->rx_rings > di.max_rx_queues)
		return H->seterr(-EINVAL, "dpdk: %s has %u TX and %u RX queues at most (asked for "
				 "%u and %u)", da, di.max_tx_queues, di.max_rx_queues,
				 o->tx_rings, o->rx_rings);
	memset(&conf, 0, sizeof(conf));
	if (di.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
		dp->multi_seg = true;
	}
	if (dp->vnet) {
		/* A vnet port takes TSO frames from the switch: the device must
		 * segment them (a partial checksum it cannot do is done here). */
		if (!(di.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_TSO) || !dp->multi_seg)
			return H->seterr(-EOPNOTSUPP, "dpdk: %s has no TCP segmentation offload "
					 "(or takes no multi-segment frames): open it without "
					 "@conf:vnet (the switch then segments for it)", da);
		dp->tx_capa = di.tx_offload_capa & (RTE_ETH_TX_OFFLOAD_TCP_TSO |
						    RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
						    RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
						    RTE_ETH_TX_OFFLOAD_IPV4_CKSUM);
		conf.txmode.offloads |= dp->tx_capa;
		/* DPDK's tap driver refuses a TSO frame whose segments with
		 * their Ethernet header exceed the MTU (it compares a frame
		 * to the MTU): cut such segments to fit, a few bytes smaller
		 * than the sender's MSS (TCP takes any smaller segment). */
		if (!strcmp(di.driver_name, "net_tap") &&
		    rte_eth_dev_get_mtu(dp->port_id, &mtu) == 0)
			dp->tso_max = mtu;
		if ((di.rx_offload_capa & RTE_ETH_RX_OFFLOAD_CHECKSUM) ==
		    RTE_ETH_RX_OFFLOAD_CHECKSUM) {
			conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_CHECKSUM;
			dp->rx_csum = true;
		}
	}
	if (o->rx_rings > 1 && (di.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP |
							     RTE_ETH_RSS_UDP))) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = di.flow_type_rss_offloads &
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
	}
	/* RX interrupts where the driver has them (see header); a driver that
	 * refuses the request is configured again without */
	conf.intr_conf.rxq = 1;
	rc = rte_eth_dev_configure(dp->port_id, (uint16_t)o->rx_rings, (uint16_t)o->tx_rings,
				   &conf);
	if (rc) {
		conf.intr_conf.rxq = 0;
		rc = rte_eth_dev_configure(dp->port_id, (uint16_t)o->rx_rings,
					   (uint16_t)o->tx_rings, &conf);
	}
	if (rc)
		return H->seterr(rc, "dpdk: %s: configure: %s", da, rte_strerror(-rc));
	rte_eth_dev_adjust_nb_rx_tx_desc(dp->port_id, &nrxd, &ntxd);
	sock = rte_eth_dev_socket_id(dp->port_id);
	if (sock < 0)
		sock = SOCKET_ID_ANY;
	/* every descriptor may hold an mbuf, plus a stash and a TX burst per
	 * queue, plus what the lcore caches of the syncing threads may hold
	 * (up to 1.5 x POOL_CACHE each; one thread per ring pair) */
	nmbufs = o->rx_rings * (nrxd + BURST) + o->tx_rings * (ntxd + BURST) + 256 +
		 (o->rx_rings > o->tx_rings ? o->rx_rings : o->tx_rings) * POOL_CACHE * 3 / 2;
	/* zero copy: RX mbufs each hold a spare buffer (all of their pool,
	 * sized as the copy pool's RX share); a TX queue lends at most what
	 * its descriptors and a burst hold */
	zc_nrx = o->rx_rings * (nrxd + BURST) + 256 + o->rx_rings * POOL_CACHE * 3 / 2;
	zc_ntxq = ntxd + BURST;
	no_zc = zc_refusal(dp, &di, da, o->buf_size, zc_nrx + o->tx_rings * zc_ntxq);
	if (no_zc && zc_conf == 1)
		return H->seterr(-EOPNOTSUPP, "dpdk: %s (driver %s): no zero copy "
				 "(@conf:zerocopy=1): %s", da, di.driver_name, no_zc);
	dp->zc_tx = dp->zc_rx = !no_zc && zc_conf != 0;
	dp->zc_tx_min = ZC_TX_MIN;
	if (dp->zc_tx)
		oz.extra_bufs += zc_nrx + o->tx_rings * zc_ntxq;
	/* the region now: RX queues take their mbufs from it */
	if (rte_eth_dev_get_mtu(dp->port_id, &mtu) == 0)
		dp->mtu = mtu;
	if (rte_eth_macaddr_get(dp->port_id, &ea) == 0)
		memcpy(mac, ea.addr_bytes, 6);
	if ((rc = H->create_self(p, &oz, dp->mtu, mac)))
		return rc;
	if (dp->zc_tx && (rc = zc_setup(p, dp, o, zc_nrx, zc_ntxq, sock)))
		return rc;
	snprintf(pname, sizeof(pname), "unm%d_%u", (int)getpid() % 100000,
		 __atomic_fetch_add(&pool_seq, 1, __ATOMIC_RELAXED));
	dp->mp = rte_pktmbuf_pool_create(pname, nmbufs, POOL_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					 sock);
	if (!dp->mp)
		return H->seterr(-ENOMEM, "dpdk: %s: no memory for %u mbufs (%s): give EAL more "
				 "with -m (UNM_DPDK_EAL or @conf:eal)", da, nmbufs,
				 rte_strerror(rte_errno));
	rc = queues_start(p, dp, o, nrxd, ntxd, sock);
	if (rc && conf.intr_conf.rxq) {
		/* maybe the RX interrupts (vectors a device lacks): without */
		conf.intr_conf.rxq = 0;
		if (!rte_eth_dev_configure(dp->port_id, (uint16_t)o->rx_rings,
					   (uint16_t)o->tx_rings, &conf))
			rc = queues_start(p, dp, o, nrxd, ntxd, sock);
	}
	if (rc)
		return rc;
	dp->started = true;
	if (conf.intr_conf.rxq)
		intr_setup(dp, o->rx_rings);
	rte_eth_promiscuous_enable(dp->port_id);  /* a switch port sees every frame */
	return 0;
}

static int dpdk_open(struct unm_port *p, const struct unm_spec *s, const struct unm_open_opts *o)
{
	struct dpdk_priv *dp;
	struct epoll_event ev = { .events = EPOLLIN };
	const char *zv, *ev_eal;
	size_t zl, el = 0;
	int zc_conf = -1;           /* @conf:zerocopy: -1 not given, 0, 1 */
	uint16_t pid;
	int rc;

	if (s->ring >= 0)
		return H->seterr(-EINVAL, "dpdk: %s: a device is opened whole (no -N): it has one "
				 "owner", s->path);
	if (o->tx_rings > UNM_MAX_RINGS || o->rx_rings > UNM_MAX_RINGS)
		return H->seterr(-EINVAL, "dpdk: at most %u rings", UNM_MAX_RINGS);
	if ((zv = conf_val(s, "zerocopy=", &zl))) {
		if (zl != 1 || (*zv != '0' && *zv != '1'))
			return H->seterr(-EINVAL, "dpdk: @conf:zerocopy=%.*s: 0 or 1", (int)zl, zv);
		zc_conf = *zv - '0';
	}
	ev_eal = conf_val(s, "eal=", &el);
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	dp->tfd = dp->ifd = -1;
	dp->vnet = o->vnet_hdr_len;
	pthread_mutex_lock(&eal_lock);
	if (eal_rc == 1)
		eal_rc = eal_start(ev_eal, el, s->path);
	rc = eal_rc;
	if (rc) {
		pthread_mutex_unlock(&eal_lock);
		free(dp);
		return H->seterr(rc, "dpdk: %s", eal_err[0] ? eal_err : "EAL did not start");
	}
	if (find_port(s->path, &pid) != 0) {
		rc = rte_dev_probe(s->path);
		if (rc != 0 || find_port(s->path, &pid) != 0) {
			pthread_mutex_unlock(&eal_lock);
			free(dp);
			return H->seterr(rc ? rc : -ENODEV, "dpdk: no device '%s' (%s): a PCI address "
					 "bound to vfio-pci, or a vdev such as "
					 "net_af_packet0,iface=IF", s->path,
					 rc ? "DPDK has no driver or device by that name" :
					 "probed, but it is not an Ethernet device");
		}
	}
	if (ports_in_use[pid]) {
		pthread_mutex_unlock(&eal_lock);
		free(dp);
		return H->seterr(-EBUSY, "dpdk: %s is already open in this process", s->path);
	}
	ports_in_use[pid] = 1;
	dp->in_use = true;
	pthread_mutex_unlock(&eal_lock);
	dp->port_id = pid;
	p->priv = dp;
	if ((rc = dev_setup(p, dp, o, zc_conf)))
		goto fail;
	dp->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (dp->tfd < 0 || p->epfd < 0 || epoll_ctl(p->epfd, EPOLL_CTL_ADD, dp->tfd, &ev) < 0) {
		rc = H->seterr(-errno, "dpdk: timerfd/epoll: %s", strerror(errno));
		goto fail;
	}
	if (dp->intr && epoll_ctl(p->epfd, EPOLL_CTL_ADD, dp->ifd, &ev) < 0)
		intr_stop(dp);  /* the timer it is */
	return 0;
fail:  /* unm_open's teardown calls dpdk_close, which frees what was made */
	return rc;
}

static void dpdk_close(struct unm_port *p)
{
	dpdk_free(p->priv);
	p->priv = NULL;
}

/*
 * The mempool caches mbufs per lcore; a thread that is not one of EAL's
 * (unmd's threads, an application's) has no lcore and would take every
 * mbuf from the pool's shared ring. Register each syncing thread once as
 * an lcore of its own (it stays one until the process ends); if EAL has
 * none left, the thread works as before, uncached.
 */
static __thread bool lcore_tried;

static inline void lcore_of_thread(void)
{
	if (unlikely(!lcore_tried)) {
		lcore_tried = true;
		if (rte_lcore_id() == LCORE_ID_ANY)
			rte_thread_register();
	}
}

/* ---- TX ------------------------------------------------------------------ */

/* Copy the fragments F (NF) into a new mbuf (chain). NULL: no mbuf free,
 * or the frame needs a chain the device does not take (*never set). */
static struct rte_mbuf *to_mbuf(struct dpdk_priv *dp, const struct unm_frag *f, unsigned nf,
				bool *never)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->mp), *tail = m;

	for (unsigned k = 0; m && k < nf; k++) {
		const char *src = f[k].ptr;
		size_t left = f[k].len;

		while (left) {
			uint16_t room = rte_pktmbuf_tailroom(tail), n;

			if (!room) {
				struct rte_mbuf *seg = dp->multi_seg ? rte_pktmbuf_alloc(dp->mp) : NULL;

				if (!seg || rte_pktmbuf_chain(m, seg)) {
					rte_pktmbuf_free(seg);
					rte_pktmbuf_free(m);
					*never = !dp->multi_seg;
					return NULL;
				}
				tail = seg;
				room = rte_pktmbuf_tailroom(tail);
			}
			n = (uint16_t)(left < room ? left : room);
			memcpy(rte_pktmbuf_append(tail, n), src, n);
			if (tail != m)
				m->pkt_len += n;  /* append on a segment counts only there */
			src += n;
			left -= n;
		}
	}
	return m;
}

/* The byte at OFF of the mbuf chain M (OFF < pkt_len). */
static uint8_t *mbuf_at(struct rte_mbuf *m, uint32_t off)
{
	while (m && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	return m ? rte_pktmbuf_mtod_offset(m, uint8_t *, off) : NULL;
}

/*
 * The offloads a virtio-net header asks for, as mbuf TX offload fields:
 * TSO (TCP) with the device's TCP_TSO, a partial TCP/UDP checksum with its
 * checksum offload, else completed here. The header was checked with
 * unm_vnet_parse (VI); the L4 field already holds the pseudo-header sum,
 * without the length for TSO, as DPDK wants it too. Returns false to drop.
 */
static bool tx_offloads(struct unm_port *p, struct dpdk_priv *dp, struct rte_mbuf *m,
			const struct unm_vnet_info *vi)
{
	const struct unm_vnet_hdr *h = &vi->hdr;
	uint16_t l2 = 14, et;
	uint8_t *e;

	if (!(h->flags & UNM_VNET_F_NEEDS_CSUM))
		return true;
	if (h->gso_type != UNM_VNET_GSO_NONE) {
		if ((h->gso_type & ~UNM_VNET_GSO_ECN) == UNM_VNET_GSO_UDP_L4 ||
		    !(dp->tx_capa & RTE_ETH_TX_OFFLOAD_TCP_TSO)) {
			p->st.drops++;  /* USO, or open refused vnet without TSO */
			return false;
		}
		m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
		m->tso_segsz = h->gso_size;
		if (dp->tso_max && h->gso_size + vi->payload_off > dp->tso_max)
			m->tso_segsz = (uint16_t)(dp->tso_max - vi->payload_off);
		m->l2_len = vi->l3_off;
		m->l3_len = vi->l4_off - vi->l3_off;
		m->l4_len = vi->payload_off - vi->l4_off;
		if (!vi->ipv6) {
			uint8_t *ck = mbuf_at(m, vi->l3_off + 10);

			m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
			if (ck)  /* recomputed per segment from 0 */
				ck[0] = 0, ck[1] = 0;
		} else {
			m->ol_flags |= RTE_MBUF_F_TX_IPV6;
		}
		return true;
	}
	/* a partial checksum: where is L3? (one VLAN tag at most) */
	e = mbuf_at(m, 12);
	et = e && m->data_len >= 18 ? (uint16_t)(e[0] << 8 | e[1]) : 0;
	if (et == 0x8100 || et == 0x88a8) {
		l2 = 18;
		et = (uint16_t)(e[4] << 8 | e[5]);
	}
	if ((et == 0x0800 || et == 0x86dd) && h->csum_start > l2 &&
	    ((h->csum_offset == 16 && (dp->tx_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM)) ||
	     (h->csum_offset == 6 && (dp->tx_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM)))) {
		m->ol_flags |= (h->csum_offset == 16 ? RTE_MBUF_F_TX_TCP_CKSUM :
				RTE_MBUF_F_TX_UDP_CKSUM) |
			       (et == 0x0800 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6);
		m->l2_len = l2;
		m->l3_len = h->csum_start - l2;
		return true;
	}
	/* the device cannot: complete it in our copy (the slots stay as the
	 * application wrote them) */
	{
		struct unm_frag mf[UNM_MAX_FRAME / 1024 + 2];
		unsigned n = 0;

		for (struct rte_mbuf *seg = m; seg && n < RTE_DIM(mf); seg = seg->next, n++) {
			mf[n].ptr = rte_pktmbuf_mtod(seg, void *);
			mf[n].len = seg->data_len;
		}
		if (H->csum_complete(mf, n, h->csum_start, h->csum_offset) == 0)
			return true;
	}
	p->st.drops++;
	return false;
}

/* The driver freed a lent mbuf: buffer ADDR is a spare of TX queue
 * OPAQUE again (NULL: the lending was undone, the buffer is a slot's). */
static void zc_tx_free(void *addr, void *opaque)
{
	struct zc_txq *z = opaque;
	uint32_t idx;

	if (!z || !(idx = zc_idx(z->dp, addr, 0)))
		return;
	if (z->n < z->cap)  /* it always fits: each lent buffer took a spare */
		z->idx[z->n++] = idx;
}

/*
 * Lend region buffer X (a one-slot frame of LEN bytes, of TX queue Q) to
 * the device as an mbuf's external buffer, reserving a spare for the slot
 * in *SPARE. NULL: not now (X is not the application's to lend, e.g. the
 * same buffer in two slots; no spare; no mbuf): copy the frame.
 */
static struct rte_mbuf *tx_lend(struct dpdk_priv *dp, unsigned q, uint32_t x, uint32_t len,
				uint32_t *spare)
{
	struct zc_txq *z = &dp->zq[q];
	struct rte_mbuf_ext_shared_info *sh = &dp->zc_shinfo[x];
	struct rte_mbuf *m;

	if (!z->n || __atomic_load_n(&dp->zc_own[x], __ATOMIC_RELAXED) != ZC_APP ||
	    !(m = rte_pktmbuf_alloc(dp->mp)))
		return NULL;
	sh->free_cb = zc_tx_free;
	sh->fcb_opaque = z;
	rte_mbuf_ext_refcnt_set(sh, 1);
	/* no headroom: a driver that prepends finds none and adds a segment */
	rte_pktmbuf_attach_extbuf(m, zc_buf(dp, x), RTE_BAD_IOVA, (uint16_t)dp->buf_size, sh);
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	__atomic_store_n(&dp->zc_own[x], ZC_PORT, __ATOMIC_RELAXED);
	*spare = z->idx[--z->n];
	return m;
}

/* The device did not take lent mbuf M: its buffer stays the slot's, the
 * spare goes back; then M can be freed. */
static void tx_unlend(struct dpdk_priv *dp, unsigned q, struct rte_mbuf *m, uint32_t spare)
{
	struct zc_txq *z = &dp->zq[q];
	uint32_t x = zc_idx(dp, m->buf_addr, 0);

	m->shinfo->fcb_opaque = NULL;
	if (x)
		__atomic_store_n(&dp->zc_own[x], ZC_APP, __ATOMIC_RELAXED);
	if (z->n < z->cap)
		z->idx[z->n++] = spare;
}

/*
 * Gather the frame starting at slot *I (a MOREFRAG chain ending before
 * HEAD) into a new mbuf (chain), with the offloads its virtio-net header
 * asks for on a vnet port; or lend its buffer (zero copy: *SPARE is then
 * the buffer the slot gets once the device takes the mbuf, else 0).
 * Returns the mbuf and moves *I past the frame; NULL with *I moved: a bad
 * frame, dropped and counted; NULL with *I unchanged: not complete yet,
 * or no mbuf free (try again later).
 */
static struct rte_mbuf *build(struct unm_port *p, struct dpdk_priv *dp, struct unm_kring *kr,
			      uint32_t *i, uint32_t head, uint32_t *spare)
{
	struct unm_frag f[UNM_MAX_FRAGS];
	struct unm_vnet_info vi;
	struct rte_mbuf *m;
	uint32_t j = *i, total = 0, idx0 = 0;
	unsigned nf = 0;
	bool bad = false, never = false;

	*spare = 0;
	for (;;) {  /* the chain, each slot read once (app-written) */
		const struct unm_slot *sl;
		uint32_t idx, len;

		if (j == head)
			return NULL;  /* MOREFRAG runs to head: the rest is not there yet */
		sl = &kr->ring->slot[j];
		idx = sl->buf_idx;
		len = sl->len;
		if (!unm_buf_ok(p, idx) || len > kr->buf_size || nf >= UNM_MAX_FRAGS) {
			bad = true;
		} else {
			f[nf].ptr = kr_buf(kr, idx);
			f[nf++].len = len;
			idx0 = nf == 1 ? idx : idx0;
			total += len;
		}
		j = kr_next(kr, j);
		if (!(sl->flags & UNM_NS_MOREFRAG))
			break;
	}
	if (!bad && dp->vnet) {
		uint8_t raw[UNM_VNET_HDR_LEN_MRG];
		enum unm_vnet_drop why;

		bad = nf == 0 || f[0].len < dp->vnet + 14u;
		if (!bad) {
			memcpy(raw, f[0].ptr, dp->vnet);  /* untrusted: read once */
			f[0].ptr = (uint8_t *)f[0].ptr + dp->vnet;
			f[0].len -= dp->vnet;
			total -= dp->vnet;
			bad = H->vnet_parse(raw, dp->vnet, f, nf, &vi, &why) != 0;
		}
	}
	if (bad || total > UNM_MAX_FRAME || total == 0) {
		p->st.drops++;
		*i = j;
		return NULL;
	}
	if (dp->zc_tx && nf == 1 && total >= dp->zc_tx_min &&
	    (m = tx_lend(dp, kr->ringid, idx0, total, spare))) {
		*i = j;
		return m;
	}
	m = to_mbuf(dp, f, nf, &never);
	if (!m) {
		if (never) {  /* cannot ever be sent */
			p->st.drops++;
			*i = j;
		}
		return NULL;
	}
	if (dp->vnet && !tx_offloads(p, dp, m, &vi)) {
		rte_pktmbuf_free(m);
		*i = j;
		return NULL;
	}
	*i = j;
	return m;
}

static int dpdk_txsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct dpdk_priv *dp = p->priv;
	struct rte_mbuf *m[BURST];
	uint32_t start[BURST], spare[BURST], i = kr->hwcur;

	lcore_of_thread();
	kr->armed = false;
	while (i != head) {
		unsigned n = 0, sent;
		uint32_t j = i;

		while (j != head && n < BURST) {
			uint32_t was = j;
			struct rte_mbuf *mb = build(p, dp, kr, &j, head, &spare[n]);

			if (mb) {
				start[n] = was;
				m[n++] = mb;
			} else if (j == was) {
				break;  /* incomplete chain or pool empty */
			}
		}
		if (!n) {
			i = j;
			break;
		}
		if (dp->vnet) {
			/* the driver's own check of the offload requests: a
			 * frame it would never take is dropped, not retried
			 * (its slots are passed over with the burst's) */
			unsigned ok;

			while (n && (ok = rte_eth_tx_prepare(dp->port_id, kr->ringid, m,
							     (uint16_t)n)) < n) {
				p->st.drops++;
				rte_pktmbuf_free(m[ok]);
				n--;
				for (unsigned k = ok; k < n; k++)  /* (never lent: vnet) */
					m[k] = m[k + 1], start[k] = start[k + 1],
					spare[k] = spare[k + 1];
			}
			if (!n) {
				i = j;
				continue;
			}
		}
		/* (pkt_len read before: the device may free a frame at once) */
		for (unsigned k = 0; k < n; k++)
			p->st.tx_bytes += m[k]->pkt_len;
		sent = rte_eth_tx_burst(dp->port_id, kr->ringid, m, (uint16_t)n);
		for (unsigned k = 0; k < sent; k++) {
			p->st.tx_frames++;
			if (spare[k]) {  /* lent: the slot takes the spare */
				struct unm_slot *sl = &kr->ring->slot[start[k]];

				__atomic_store_n(&dp->zc_own[spare[k]], ZC_APP, __ATOMIC_RELAXED);
				sl->buf_idx = spare[k];
				sl->flags = UNM_NS_BUF_CHANGED;
				p->st.zc_tx_frames++;
			} else {
				p->st.copy_tx_frames++;
			}
		}
		if (sent < n) {  /* queue full: those slots stay the application's */
			for (unsigned k = sent; k < n; k++) {
				p->st.tx_bytes -= m[k]->pkt_len;
				if (spare[k])
					tx_unlend(dp, kr->ringid, m[k], spare[k]);
			}
			rte_pktmbuf_free_bulk(m + sent, n - sent);
			i = start[sent];
			break;
		}
		i = j;
	}
	kr->hwcur = i;
	kr->hwtail = i == 0 ? kr->nslots - 1 : i - 1;
	return 0;
}

/* ---- RX ------------------------------------------------------------------ */

/*
 * Is segment M of an mbuf from the zero-copy RX pool where it should be: a
 * spare region buffer the port holds, with its data inside it? A driver
 * bug (or an mbuf that is not what it says) must not make the port read
 * outside the buffer.
 */
static bool zc_seg_ok(const struct dpdk_priv *dp, const struct rte_mbuf *m)
{
	uint32_t x = zc_idx(dp, m->buf_addr, ZC_HR);

	return x && __atomic_load_n(&dp->zc_own[x], __ATOMIC_RELAXED) == ZC_PORT &&
	       m->buf_len == dp->buf_size + ZC_HR &&
	       (uint32_t)m->data_off + m->data_len <= m->buf_len;
}

/*
 * Zero copy: swap mbuf M's frame into the RX slot at hwtail (M's buffer
 * becomes the slot's, the slot's free buffer M's). 1 done; 0 not a frame
 * to swap (several segments, not where a slot's data starts, a slot
 * buffer the port holds): copy it.
 */
static int rx_swap(struct unm_port *p, struct dpdk_priv *dp, struct unm_kring *kr,
		   struct rte_mbuf *m)
{
	struct unm_slot *sl = &kr->ring->slot[kr->hwtail];
	uint32_t len = m->data_len, x, y;

	if (m->pool != dp->rxmp || m->nb_segs != 1 || m->next || m->data_off != ZC_HR ||
	    len != m->pkt_len || len == 0 || len > dp->buf_size || !zc_seg_ok(dp, m))
		return 0;
	x = zc_idx(dp, m->buf_addr, ZC_HR);
	y = UNM_READ_ONCE(sl->buf_idx);  /* app-written: read once, checked */
	if (!unm_buf_ok(p, y) || y >= dp->buf_count ||
	    __atomic_load_n(&dp->zc_own[y], __ATOMIC_RELAXED) != ZC_APP)
		return 0;
	__atomic_store_n(&dp->zc_own[y], ZC_PORT, __ATOMIC_RELAXED);
	__atomic_store_n(&dp->zc_own[x], ZC_APP, __ATOMIC_RELAXED);
	m->buf_addr = zc_buf(dp, y) - ZC_HR;  /* back to the pool with the slot's */
	sl->buf_idx = x;
	sl->len = (uint16_t)len;
	sl->flags = UNM_NS_BUF_CHANGED;
	kr->hwtail = kr_next(kr, kr->hwtail);
	p->st.rx_frames++;
	p->st.rx_bytes += len;
	p->st.zc_rx_frames++;
	return 1;
}

/* Copy mbuf M into free RX slots: 1 done, 0 no room (keep it), -1 dropped. */
static int copy_in(struct unm_port *p, struct dpdk_priv *dp, struct unm_kring *kr,
		   struct rte_mbuf *m, uint32_t free_slots)
{
	uint32_t total = m->pkt_len + dp->vnet, need = (total + kr->buf_size - 1) / kr->buf_size;
	uint32_t off = 0;  /* into the current slot */
	struct unm_slot *sl = NULL;

	if (m->pkt_len == 0 || total > UNM_MAX_FRAME || need > UNM_MAX_FRAGS ||
	    dp->vnet > kr->buf_size)
		return -1;
	if (dp->rxmp) {
		uint32_t sum = 0;

		for (const struct rte_mbuf *seg = m; seg; seg = seg->next) {
			if (seg->pool == dp->rxmp && !zc_seg_ok(dp, seg)) {
				p->st.bad_len++;
				return -1;
			}
			sum += seg->data_len;
		}
		if (sum != m->pkt_len) {
			p->st.bad_len++;
			return -1;
		}
	}
	if (need > free_slots)
		return 0;
	if (dp->vnet) {
		/* what the device says of the checksums; no GSO (LRO is off) */
		struct unm_vnet_hdr h = { 0 };

		if (dp->rx_csum && (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
				   RTE_MBUF_F_RX_L4_CKSUM_GOOD)
			h.flags = UNM_VNET_F_DATA_VALID;
		sl = &kr->ring->slot[kr->hwtail];
		if (unlikely(!unm_buf_ok(p, sl->buf_idx))) {  /* app-written */
			p->st.bad_buf++;
			return H->seterr(-EINVAL, "dpdk: RX slot %u has invalid buffer %u",
					 kr->hwtail, sl->buf_idx);
		}
		H->vnet_encode(kr_buf(kr, sl->buf_idx), dp->vnet, &h);
		off = dp->vnet;
		sl->len = (uint16_t)off;
	}
	for (struct rte_mbuf *seg = m; seg; seg = seg->next) {
		const char *src = rte_pktmbuf_mtod(seg, const char *);
		uint32_t left = seg->data_len;

		while (left) {
			uint32_t n;

			if (!sl || off == kr->buf_size) {
				if (sl) {
					sl->flags = UNM_NS_MOREFRAG;
					kr->hwtail = kr_next(kr, kr->hwtail);
				}
				sl = &kr->ring->slot[kr->hwtail];
				off = 0;
				if (unlikely(!unm_buf_ok(p, sl->buf_idx))) {  /* app-written */
					p->st.bad_buf++;
					return H->seterr(-EINVAL, "dpdk: RX slot %u has invalid "
							 "buffer %u", kr->hwtail, sl->buf_idx);
				}
			}
			n = kr->buf_size - off < left ? kr->buf_size - off : left;
			memcpy(kr_buf(kr, sl->buf_idx) + off, src, n);
			off += n;
			src += n;
			left -= n;
			sl->len = (uint16_t)off;
		}
	}
	if (!sl)
		return -1;
	sl->flags = 0;
	kr->hwtail = kr_next(kr, kr->hwtail);
	p->st.rx_frames++;
	p->st.rx_bytes += m->pkt_len;
	p->st.copy_rx_frames++;
	return 1;
}

static int dpdk_rxsync(struct unm_port *p, struct unm_kring *kr, uint32_t head)
{
	struct dpdk_priv *dp = p->priv;
	struct dq_stash *st = &dp->stash[kr->ringid];
	uint32_t free_slots;

	lcore_of_thread();
	kr->armed = false;
	if (dp->intr_on[kr->ringid]) {  /* polling now: no interrupts */
		rte_eth_dev_rx_intr_disable(dp->port_id, kr->ringid);
		dp->intr_on[kr->ringid] = false;
	}
	kr->hwcur = head;
	free_slots = kr->nslots - 1 - kr_dist(kr, kr->hwcur, kr->hwtail);
	while (free_slots) {
		uint32_t before = kr->hwtail;
		int r;

		if (st->next == st->n) {
			st->next = 0;
			st->n = rte_eth_rx_burst(dp->port_id, kr->ringid, st->m,
						 (uint16_t)(free_slots < BURST ? free_slots : BURST));
			if (!st->n)
				break;
		}
		r = dp->zc_rx ? rx_swap(p, dp, kr, st->m[st->next]) : 0;
		if (!r)
			r = copy_in(p, dp, kr, st->m[st->next], free_slots);
		if (r == 0)
			break;  /* ring full: the mbuf waits in the stash */
		if (r < -1)
			return r;
		if (r < 0)
			p->st.drops++;
		rte_pktmbuf_free(st->m[st->next++]);
		free_slots -= kr_dist(kr, before, kr->hwtail);
	}
	return 0;
}

/* ---- notifications ---------------------------------------------------- */

/* Consume what ifd reported (and reset the drivers' counters). */
static void intr_drain(struct dpdk_priv *dp)
{
	struct rte_epoll_event ev[16];

	while (rte_epoll_wait(dp->ifd, ev, (int)RTE_DIM(ev), 0) == (int)RTE_DIM(ev))
		;
}

/*
 * RX ring KR would block: enable its queue's interrupt, then look at the
 * queue once more (a frame that came before the enable raised nothing;
 * one that comes after wakes the port's fd). True: there are frames.
 */
static bool rx_intr_arm(struct dpdk_priv *dp, struct unm_kring *kr)
{
	struct dq_stash *st = &dp->stash[kr->ringid];

	if (dp->intr_ctl && !dp->intr_on[kr->ringid]) {
		if (rte_eth_dev_rx_intr_enable(dp->port_id, kr->ringid) != 0)
			return false;  /* caller arms the timer */
		dp->intr_on[kr->ringid] = true;
	}
	intr_drain(dp);
	if (st->next != st->n)
		return true;
	st->next = 0;
	st->n = rte_eth_rx_burst(dp->port_id, kr->ringid, st->m, BURST);
	return st->n != 0;
}

static bool dpdk_arm(struct unm_port *p, struct unm_kring *kr)
{
	struct dpdk_priv *dp = p->priv;
	struct itimerspec its = { .it_value.tv_nsec = POLL_US * 1000 };

	kr->armed = true;
	if (kr->dir == 1 && dp->intr) {
		if (rx_intr_arm(dp, kr))
			return true;
		if (!dp->intr_ctl || dp->intr_on[kr->ringid])
			return false;  /* the interrupt wakes us */
		/* the driver refused to enable it: the timer */
	}
	if (!__atomic_exchange_n(&dp->timer_armed, true, __ATOMIC_ACQ_REL))
		timerfd_settime(dp->tfd, 0, &its, NULL);
	return false;  /* the timer fires whether or not a frame came */
}

static int dpdk_wakeup(struct unm_port *p)
{
	struct dpdk_priv *dp = p->priv;
	uint64_t n;

	if (read(dp->tfd, &n, sizeof(n)) == (ssize_t)sizeof(n))
		__atomic_store_n(&dp->timer_armed, false, __ATOMIC_RELEASE);
	if (dp->intr)
		intr_drain(dp);
	return 0;
}

static void dpdk_info(const struct unm_port *p, struct unm_port_info *info)
{
	const struct dpdk_priv *dp = p->priv;

	struct rte_eth_link l;

	snprintf(info->type, sizeof(info->type), "dpdk");
	info->mtu = dp->mtu;
	if (rte_eth_link_get_nowait(dp->port_id, &l) == 0)
		info->link_up = l.link_status == RTE_ETH_LINK_UP;
}

static const struct unm_port_ops dpdk_ops = {
	.type = "dpdk",
	.open = dpdk_open,
	.txsync = dpdk_txsync,
	.rxsync = dpdk_rxsync,
	.arm = dpdk_arm,
	.wakeup = dpdk_wakeup,
	.close = dpdk_close,
	.info = dpdk_info,
};

__attribute__((visibility("default"))) const struct unm_port_ops *
unm_dpdk_plugin(const struct unm_dpdk_host *host)
{
	if (!host || host->abi != UNM_DPDK_ABI || host->port_size != sizeof(struct unm_port))
		return NULL;
	H = host;
	return &dpdk_ops;
}
