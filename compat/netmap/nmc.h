/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nmc.h - private to libunm-netmap: the "kernel side" of the netmap
 * emulation (descriptor table, control requests, sync, poll) and the
 * port-name translation shared by nmport_*, nm_open() and the ioctl path.
 *
 * A netmap descriptor is a real fd owned by this layer: an eventfd from
 * open("/dev/netmap") until NETMAP_REQ_REGISTER, then (dup3) a duplicate of
 * the port's notification fd, unm_fd(), so that a plain poll() or epoll on
 * it wakes up when the port needs attention. nmc_lookup() maps it to the
 * unm_port. Built only against the public libunm API (unm.h).
 */
#ifndef NMC_H
#define NMC_H

#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unm.h>
#include <net/netmap.h>

#define NMC_API __attribute__((visibility("default")))

#define NETMAP_DEVICE_PATH "/dev/netmap"
#define NMC_MAX_FD 65536          /* netmap fds must be below this */
#define NMC_ERRLEN 512

/* One netmap descriptor. */
struct nmc_port {
	int fd;
	struct unm_port *port;        /* NULL until registered */
	void *base;                   /* region (libunm's mapping) */
	size_t size;
	uint64_t nifp_ofs;
	unsigned first_tx, last_tx;   /* bound rings, [first, last) */
	unsigned first_rx, last_rx;
	struct unm_ring *txr[UNM_MAX_RINGS], *rxr[UNM_MAX_RINGS];
	unsigned n_txr, n_rxr;        /* bound ring pointers cached */
	int txpoll;                   /* poll() syncs TX (no NR_NO_TX_POLL) */
	int rxpoll;                   /* poll() syncs RX without POLLIN */
	int peer_gone;                /* a pipe whose peer closed: poll() shows nothing */
	unsigned hdr_len;             /* virtio-net header length */
	uint16_t mem_id;
	int mapped;                   /* the application mmap()ed it */
	char name[NETMAP_REQ_IFNAMSIZ];  /* as registered (base part) */
	struct nmc_port *next;        /* list of registered ports */
};

/* A parsed netmap port specification. */
struct nmc_spec {
	char base[NETMAP_REQ_IFNAMSIZ]; /* "netmap:eth0", "vale0:p", "vale0:p{1", ... */
	uint32_t mode;                  /* NR_REG_* (0 = not given) */
	uint16_t ringid;
	uint64_t flags;                 /* NR_* from /FLAGS */
	uint32_t tx_slots, rx_slots;    /* @conf: (0 = not given) */
	uint16_t tx_rings, rx_rings;
	uint16_t host_tx_rings, host_rx_rings;
	uint32_t extra_bufs;
};

/* Per-thread text of the last failure (for messages). */
const char *nmc_errmsg(void);
int nmc_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * nmc_spec_parse - parse SPEC (libnetmap / nm_open syntax, or a kernel-side
 * nr_name: "eth0" without prefix names a host interface) into *SP. The
 * suffixes may come in any order. Returns 0 or a negative errno with the
 * reason in nmc_errmsg().
 */
int nmc_spec_parse(const char *spec, struct nmc_spec *sp);

/* The descriptor table. nmc_lookup() is lock-free (one load). */
struct nmc_port *nmc_lookup(int fd);
int nmc_dev_open(int oflags);                  /* new fd, or -errno */
int nmc_dev_close(int fd);                     /* 0, or -EBADF if not ours */
int nmc_ctrl(struct nmc_port *np, struct nmreq_header *hdr);   /* 0 / -errno */
/* NIOCREGIF / NIOCGINFO on *nmr; FULLNAME (if not NULL) replaces the
 * 16-byte nr_name (nm_open() keeps longer names). */
int nmc_legacy(struct nmc_port *np, unsigned long req, struct nmreq *nmr,
	       const char *fullname);
int nmc_sync(struct nmc_port *np, int tx);      /* 0 / -errno */
int nmc_have_ports(void);                      /* any netmap fd open? */
/* munmap(ADDR) of a region mmap() handed out: 1 if so (it stays mapped). */
int nmc_unmap_region(void *addr);

/* The real C library functions (for fds that are not ours). */
int nmc_real_close(int fd);
int nmc_real_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
		   const sigset_t *mask);

/* poll()/ppoll() with netmap semantics on our fds. */
int nmc_poll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
	     const sigset_t *mask);

/* Copy one packet into the next TX slot(s) of rings [first, last]
 * (inclusive), starting at *cur. Returns size, or 0 if no room. */
int nmc_inject(struct netmap_if *nifp, uint16_t first, uint16_t last,
	       uint16_t *cur, const void *buf, size_t size);

/* Calls into libunm are bracketed so that libunm's own close(), poll(),
 * mmap() ... go straight to the C library. */
extern __thread int nmc_in_lib;
#define NMC_LIB(expr) ({ nmc_in_lib++; __typeof__(expr) _r = (expr); nmc_in_lib--; _r; })
#define NMC_LIB_VOID(expr) do { nmc_in_lib++; expr; nmc_in_lib--; } while (0)

#endif /* NMC_H */
