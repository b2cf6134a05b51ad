// SPDX-License-Identifier: BSD-2-Clause
/*
 * kern.c - what netmap's kernel module does for a /dev/netmap descriptor,
 * done here over libunm: the descriptor table, NIOCCTRL / NIOCREGIF /
 * NIOCGINFO, NIOCTXSYNC / NIOCRXSYNC and poll() with netmap's sync rules.
 *
 * Names: netmap:IF opens IF through AF_XDP (or AF_PACKET: see
 * UNM_NETMAP_BACKEND), NAME{N / NAME}N are unetmap pipes, valeX:Y VALE
 * ports of unmd, valeX:Y{N the pipe "valeX_Y{N" (unetmap pipes have no
 * parent port). Host rings do not exist without the netmap module: every
 * request for them fails with ENOTSUP and a message naming the way out.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "nmc.h"

__thread int nmc_in_lib;

static struct nmc_port *tab[NMC_MAX_FD];
static struct nmc_port *registered;   /* list, under lock */
static int n_open;                    /* netmap fds open (atomic) */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint16_t next_mem_id = 1;      /* 1 is netmap's global allocator */

struct nmc_port *nmc_lookup(int fd)
{
	if (fd < 0 || fd >= NMC_MAX_FD)
		return NULL;
	return __atomic_load_n(&tab[fd], __ATOMIC_ACQUIRE);
}

int nmc_have_ports(void)
{
	return __atomic_load_n(&n_open, __ATOMIC_RELAXED) != 0;
}

int nmc_unmap_region(void *addr)
{
	struct nmc_port *p;
	int found = 0;

	pthread_mutex_lock(&lock);
	for (p = registered; p; p = p->next)
		if (p->base == addr) { /* never let libunm's mapping go */
			if (p->mapped > 0)
				p->mapped--;
			found = 1;
			break;
		}
	pthread_mutex_unlock(&lock);
	return found;
}

int nmc_dev_open(int oflags)
{
	struct nmc_port *np;
	int fd = eventfd(0, EFD_NONBLOCK | ((oflags & O_CLOEXEC) ? EFD_CLOEXEC : 0));

	if (fd < 0)
		return nmc_fail(-errno, "/dev/netmap: eventfd: %s", strerror(errno));
	if (fd >= NMC_MAX_FD) {
		nmc_real_close(fd);
		return nmc_fail(-EMFILE, "/dev/netmap: descriptor %d above the table size %d",
				fd, NMC_MAX_FD);
	}
	np = calloc(1, sizeof(*np));
	if (!np) {
		nmc_real_close(fd);
		return nmc_fail(-ENOMEM, "/dev/netmap: out of memory");
	}
	np->fd = fd;
	__atomic_add_fetch(&n_open, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&tab[fd], np, __ATOMIC_RELEASE);
	return fd;
}

int nmc_dev_close(int fd)
{
	struct nmc_port *np = nmc_lookup(fd), **pp;

	if (!np)
		return -EBADF;
	pthread_mutex_lock(&lock);
	__atomic_store_n(&tab[fd], NULL, __ATOMIC_RELEASE);
	for (pp = &registered; *pp; pp = &(*pp)->next)
		if (*pp == np) {
			*pp = np->next;
			break;
		}
	pthread_mutex_unlock(&lock);
	nmc_real_close(fd);
	if (np->port)
		NMC_LIB_VOID(unm_close(np->port));
	free(np);
	__atomic_sub_fetch(&n_open, 1, __ATOMIC_RELAXED);
	return 0;
}

/* ---- names ------------------------------------------------------------ */

static const char host_rings_msg[] =
	"host-stack rings (^, *, NR_REG_SW/NIC_SW/ONE_SW) are not available over "
	"unetmap (the kernel stack has no rings without the netmap module): reach the "
	"stack through a tap instead, \"unm:tap:NAME\" with an address on NAME";

/*
 * The unetmap name for SP under mode/flags of REG, into OUT. backend is
 * "afxdp" or "afpacket" for host interfaces.
 */
static int unm_name(const struct nmc_spec *sp, uint32_t mode, uint16_t ringid,
		    uint64_t flags, const char *backend, char *out, size_t outlen)
{
	const char *b = sp->base;
	size_t n;
	int pipe;

	if (!strncmp(b, "unm:", 4)) {
		snprintf(out, outlen, "%s", b + 4);
		return 0;
	}
	pipe = strchr(b, '{') || strchr(b, '}');
	switch (mode) {
	case NR_REG_SW:
	case NR_REG_NIC_SW:
	case NR_REG_ONE_SW:
		return nmc_fail(-ENOTSUP, "port '%s': %s", b, host_rings_msg);
	case NR_REG_NULL:
		return nmc_fail(-ENOTSUP, "port '%s': NR_REG_NULL (memory only, no rings) is "
				"not supported over unetmap: each port has its own region", b);
	default:
		break;
	}
	if (!strncmp(b, "vale", 4)) {
		n = (size_t)snprintf(out, outlen, "%s", b);
		if (pipe) { /* valeX:Y{N -> pipe valeX_Y{N */
			char *c = strchr(out, ':');
			if (c)
				*c = '_';
		}
	} else {
		if (!strncmp(b, "netmap:", 7))
			b += 7;
		if (pipe)
			n = (size_t)snprintf(out, outlen, "%s", b);
		else
			n = (size_t)snprintf(out, outlen, "%s:%s", backend, b);
	}
	if ((mode == NR_REG_PIPE_MASTER || mode == NR_REG_PIPE_SLAVE) && !pipe)
		n += (size_t)snprintf(out + n, outlen > n ? outlen - n : 0, "%c%u",
				      mode == NR_REG_PIPE_MASTER ? '{' : '}', ringid);
	if (mode == NR_REG_ONE_NIC)
		n += (size_t)snprintf(out + n, outlen > n ? outlen - n : 0, "-%u", ringid);
	if (flags & (NR_EXCLUSIVE | NR_ZCOPY_MON | NR_MONITOR_TX | NR_MONITOR_RX |
		     NR_RX_RINGS_ONLY | NR_TX_RINGS_ONLY)) {
		n += (size_t)snprintf(out + n, outlen > n ? outlen - n : 0, "/%s%s%s%s%s%s",
			flags & NR_EXCLUSIVE ? "x" : "", flags & NR_ZCOPY_MON ? "z" : "",
			flags & NR_MONITOR_TX ? "t" : "", flags & NR_MONITOR_RX ? "r" : "",
			flags & NR_RX_RINGS_ONLY ? "R" : "", flags & NR_TX_RINGS_ONLY ? "T" : "");
	}
	if (n >= outlen)
		return nmc_fail(-ENAMETOOLONG, "port name '%s' too long", sp->base);
	return 0;
}

static int is_ifname(const struct nmc_spec *sp)
{
	return strncmp(sp->base, "unm:", 4) && strncmp(sp->base, "vale", 4) &&
	       !strchr(sp->base, '{') && !strchr(sp->base, '}');
}

/* Open the unetmap port for SP; host interfaces try AF_XDP, then AF_PACKET,
 * unless UNM_NETMAP_BACKEND names one. */
static int open_port(const struct nmc_spec *sp, uint32_t mode, uint16_t ringid,
		     uint64_t flags, const struct unm_open_opts *o, struct unm_port **pp)
{
	const char *env = getenv("UNM_NETMAP_BACKEND"), *swap = getenv("UNM_NETMAP_PIPE_SWAP");
	const char *loan = getenv("UNM_NETMAP_PIPE_LOAN");
	const char *backends[2] = { "afxdp", "afpacket" };
	char name[256], first_err[NMC_ERRLEN] = "";
	struct unm_open_opts oc = *o;
	int nb = 2, rc = -EINVAL;

	/* A pipe swaps buffers and marks both slots NS_BUF_CHANGED; netmap
	 * applications take that flag as "rewrite this frame" (pkt-gen copies
	 * and re-addresses every frame then). So the compat layer's pipes
	 * lend TX buffers to the peer instead (UNM_OPEN_PIPE_LOAN: no copy;
	 * the buffer comes back unchanged, without NS_BUF_CHANGED, once the
	 * peer released it, or at once if the peer is gone), and fall back
	 * to copying short frames (UNM_OPEN_PIPE_COPY) where a monitor
	 * watches the ring. UNM_NETMAP_PIPE_LOAN=0 copies short frames
	 * instead of lending; UNM_NETMAP_PIPE_SWAP=1 keeps netmap's swapping
	 * for every frame. */
	if ((strchr(sp->base, '{') || strchr(sp->base, '}')) && !(swap && !strcmp(swap, "1"))) {
		oc.flags |= UNM_OPEN_PIPE_COPY;
		if (!(loan && !strcmp(loan, "0")))
			oc.flags |= UNM_OPEN_PIPE_LOAN;
	}
	o = &oc;

	if (env && *env) {
		if (strcmp(env, "afxdp") && strcmp(env, "afpacket"))
			return nmc_fail(-EINVAL, "UNM_NETMAP_BACKEND=%.20s: use afxdp or afpacket", env);
		backends[0] = env;
		nb = 1;
	}
	if (!is_ifname(sp))
		nb = 1;
	for (int i = 0; i < nb; i++) {
		rc = unm_name(sp, mode, ringid, flags, backends[i], name, sizeof(name));
		if (rc)
			return rc;
		rc = NMC_LIB(unm_open(name, pp, o));
		if (rc == 0)
			return 0;
		if (i == 0 && nb > 1)
			snprintf(first_err, sizeof(first_err), "%s", NMC_LIB(unm_errmsg()));
		else
			nmc_fail(rc, "%s: %s%s%s%s", name, *NMC_LIB(unm_errmsg()) ?
				 NMC_LIB(unm_errmsg()) : strerror(-rc),
				 first_err[0] ? " (AF_XDP first: " : "", first_err,
				 first_err[0] ? ")" : "");
	}
	return rc;
}

/* ---- registration -------------------------------------------------------- */

static void fill_from_port(struct nmc_port *np)
{
	struct unm_port_info info = { .sz = sizeof(info) };
	struct unm_if *nifp = NMC_LIB(unm_nifp(np->port));

	NMC_LIB(unm_port_info(np->port, &info));
	NMC_LIB(unm_port_mem(np->port, &np->base, &np->size));
	np->nifp_ofs = (uint64_t)((char *)nifp - (char *)np->base);
	np->first_tx = info.first_tx;
	np->last_tx = info.last_tx;
	np->first_rx = info.first_rx;
	np->last_rx = info.last_rx;
	np->hdr_len = info.vnet_hdr_len;
	np->n_txr = np->n_rxr = 0;
	for (unsigned i = info.first_tx; i < info.last_tx && np->n_txr < UNM_MAX_RINGS; i++)
		np->txr[np->n_txr++] = NMC_LIB(unm_ring_get(np->port, 1, i));
	for (unsigned i = info.first_rx; i < info.last_rx && np->n_rxr < UNM_MAX_RINGS; i++)
		np->rxr[np->n_rxr++] = NMC_LIB(unm_ring_get(np->port, 0, i));
}

static void reg_out(const struct nmc_port *np, struct nmreq_register *reg)
{
	const struct unm_if *nifp = (const struct unm_if *)((char *)np->base + np->nifp_ofs);
	const struct unm_ring *t = unm_txring(nifp, 0), *r = unm_rxring(nifp, 0);

	reg->nr_offset = np->nifp_ofs;
	reg->nr_memsize = np->size;
	reg->nr_tx_rings = (uint16_t)nifp->ni_tx_rings;
	reg->nr_rx_rings = (uint16_t)nifp->ni_rx_rings;
	reg->nr_tx_slots = nifp->ni_tx_rings ? t->num_slots : 0;
	reg->nr_rx_slots = nifp->ni_rx_rings ? r->num_slots : 0;
	reg->nr_host_tx_rings = reg->nr_host_rx_rings = 0;
	reg->nr_mem_id = np->mem_id;
}

static int check_options(struct nmreq_header *hdr)
{
	struct nmreq_option *o = (struct nmreq_option *)(uintptr_t)hdr->nr_options;
	int n = 0;

	for (; o && n < 64; o = (struct nmreq_option *)(uintptr_t)o->nro_next, n++) {
		o->nro_status = EOPNOTSUPP;
		return nmc_fail(-EOPNOTSUPP, "port '%.64s': request option %u (%s) is not "
				"supported over unetmap", hdr->nr_name, o->nro_reqtype,
				o->nro_reqtype == NETMAP_REQ_OPT_EXTMEM ? "extmem" :
				o->nro_reqtype == NETMAP_REQ_OPT_CSB ? "csb" :
				o->nro_reqtype == NETMAP_REQ_OPT_OFFSETS ? "offsets" : "kloop");
	}
	return 0;
}

static int do_register(struct nmc_port *np, struct nmreq_header *hdr,
		       struct nmreq_register *reg)
{
	struct unm_open_opts o = { .sz = sizeof(o) };
	struct nmc_spec sp;
	char name[NETMAP_REQ_IFNAMSIZ + 1];
	uint32_t mode = reg->nr_mode;
	uint16_t ringid = reg->nr_ringid;
	uint64_t flags = reg->nr_flags;
	int rc;

	if (np->port)
		return nmc_fail(-EBUSY, "descriptor already bound to '%s'", np->name);
	rc = check_options(hdr);
	if (rc)
		return rc;
	memcpy(name, hdr->nr_name, NETMAP_REQ_IFNAMSIZ);
	name[NETMAP_REQ_IFNAMSIZ] = '\0';
	rc = nmc_spec_parse(name, &sp);
	if (rc)
		return rc;
	/* suffixes spelled in the name win over the register fields */
	if (sp.mode) {
		mode = sp.mode;
		ringid = sp.ringid;
	}
	flags |= sp.flags;
	if (mode == NR_REG_DEFAULT)
		mode = NR_REG_ALL_NIC;
	o.tx_rings = sp.tx_rings ? sp.tx_rings : reg->nr_tx_rings;
	o.rx_rings = sp.rx_rings ? sp.rx_rings : reg->nr_rx_rings;
	o.tx_slots = sp.tx_slots ? sp.tx_slots : reg->nr_tx_slots;
	o.rx_slots = sp.rx_slots ? sp.rx_slots : reg->nr_rx_slots;
	o.extra_bufs = sp.extra_bufs ? sp.extra_bufs : reg->nr_extra_bufs;
	if (sp.host_tx_rings || sp.host_rx_rings || reg->nr_host_tx_rings || reg->nr_host_rx_rings)
		return nmc_fail(-ENOTSUP, "port '%s': %s", sp.base, host_rings_msg);
	rc = open_port(&sp, mode, ringid, flags, &o, &np->port);
	if (rc)
		return rc;
	snprintf(np->name, sizeof(np->name), "%s", sp.base);
	fill_from_port(np);
	if (np->hdr_len && !(flags & NR_ACCEPT_VNET_HDR)) {
		NMC_LIB_VOID(unm_close(np->port));
		np->port = NULL;
		return nmc_fail(-EINVAL, "port '%s' carries %u-byte virtio-net headers: "
				"register with NR_ACCEPT_VNET_HDR", sp.base, np->hdr_len);
	}
	np->txpoll = !(flags & NR_NO_TX_POLL);
	np->rxpoll = !!(flags & NR_DO_RX_POLL);
	pthread_mutex_lock(&lock);
	np->mem_id = ++next_mem_id < 2 ? (next_mem_id = 2) : next_mem_id;
	np->next = registered;
	registered = np;
	pthread_mutex_unlock(&lock);
	/* the fd becomes the port's notification fd: poll/epoll on it wake up */
	int pfd = NMC_LIB(unm_fd(np->port));
	if (pfd >= 0) {
		int fdfl = fcntl(np->fd, F_GETFD);
		if (dup3(pfd, np->fd, (fdfl > 0 && (fdfl & FD_CLOEXEC)) ? O_CLOEXEC : 0) < 0)
			return nmc_fail(-errno, "port '%s': dup3: %s", sp.base, strerror(errno));
	}
	reg->nr_extra_bufs = o.extra_bufs;
	reg_out(np, reg);
	return 0;
}

/* An open port named NAME (base part): ours, or another registered one. */
static struct nmc_port *find_registered(struct nmc_port *np, const char *name)
{
	struct nmc_port *p;

	if (np && np->port && !strcmp(np->name, name))
		return np;
	pthread_mutex_lock(&lock);
	for (p = registered; p; p = p->next)
		if (!strcmp(p->name, name))
			break;
	pthread_mutex_unlock(&lock);
	return p;
}

/* Port information for NAME: from an open port, else by opening it for a
 * moment (VALE ports and interfaces; a pipe end in use elsewhere is busy). */
struct pinfo {
	uint64_t memsize;
	uint32_t tx_slots, rx_slots;
	uint16_t tx_rings, rx_rings, mem_id;
	unsigned hdr_len;
};

static int port_info(struct nmc_port *np, const char *name_in, struct pinfo *pi)
{
	char name[NETMAP_REQ_IFNAMSIZ + 1];
	struct nmc_spec sp;
	struct nmreq_register reg;
	struct nmc_port tmp, *p;
	struct unm_open_opts o = { .sz = sizeof(o) };
	int rc;

	memcpy(name, name_in, NETMAP_REQ_IFNAMSIZ);
	name[NETMAP_REQ_IFNAMSIZ] = '\0';
	if (!name[0])
		return nmc_fail(-EINVAL, "port information needs a port name");
	rc = nmc_spec_parse(name, &sp);
	if (rc)
		return rc;
	p = find_registered(np, sp.base);
	if (!p) {
		memset(&tmp, 0, sizeof(tmp));
		rc = open_port(&sp, NR_REG_ALL_NIC, 0, 0, &o, &tmp.port);
		if (rc)
			return rc;
		fill_from_port(&tmp);
		p = &tmp;
	}
	memset(&reg, 0, sizeof(reg));
	reg_out(p, &reg);
	pi->memsize = reg.nr_memsize;
	pi->tx_slots = reg.nr_tx_slots;
	pi->rx_slots = reg.nr_rx_slots;
	pi->tx_rings = reg.nr_tx_rings;
	pi->rx_rings = reg.nr_rx_rings;
	pi->mem_id = p->mem_id;
	pi->hdr_len = p->hdr_len;
	if (p == &tmp)
		NMC_LIB_VOID(unm_close(tmp.port));
	return 0;
}

static int set_hdr_len(struct nmc_port *np, const char *name, unsigned len)
{
	struct pinfo pi;
	int rc;

	if (len != 0 && len != 10 && len != 12)
		return nmc_fail(-EINVAL, "port '%.64s': virtio-net header length %u: use 0, 10 or 12",
				name, len);
	rc = port_info(np, name, &pi);
	if (rc)
		return rc;
	if (pi.hdr_len == len)
		return 0;
	return nmc_fail(-ENOTSUP, "port '%.64s' has a %u-byte virtio-net header; unetmap fixes "
			"it when the port is created: open it with @conf:vnet=%u (tap ports) "
			"instead of changing it afterwards", name, pi.hdr_len, len);
}

static const char *unsupported_why(unsigned t)
{
	switch (t) {
	case NETMAP_REQ_VALE_ATTACH:
	case NETMAP_REQ_VALE_DETACH:
		return "use unm-ctl attach/detach SWITCH PORT";
	case NETMAP_REQ_VALE_LIST:
		return "use unm-ctl list";
	case NETMAP_REQ_VALE_NEWIF:
	case NETMAP_REQ_VALE_DELIF:
		return "use unm-ctl port add/del SWITCH:PORT";
	case NETMAP_REQ_VALE_POLLING_ENABLE:
	case NETMAP_REQ_VALE_POLLING_DISABLE:
		return "unmd forwards between ports itself";
	case NETMAP_REQ_POOLS_INFO_GET:
		return "there are no global buffer pools: each port has its own region";
	default:
		return "the in-kernel sync loop and CSB mode are netmap-module features";
	}
}

int nmc_ctrl(struct nmc_port *np, struct nmreq_header *hdr)
{
	void *body = (void *)(uintptr_t)hdr->nr_body;
	struct pinfo pi;
	int rc;

	if (hdr->nr_version < NETMAP_MIN_API || hdr->nr_version > NETMAP_MAX_API)
		return nmc_fail(-EINVAL, "netmap API version %u not supported (%d..%d)",
				hdr->nr_version, NETMAP_MIN_API, NETMAP_MAX_API);
	if (!body)
		return nmc_fail(-EINVAL, "netmap request %u without a body", hdr->nr_reqtype);
	switch (hdr->nr_reqtype) {
	case NETMAP_REQ_REGISTER:
		return do_register(np, hdr, body);
	case NETMAP_REQ_PORT_INFO_GET: {
		struct nmreq_port_info_get *r = body;
		rc = port_info(np, hdr->nr_name, &pi);
		if (rc)
			return rc;
		r->nr_memsize = pi.memsize;
		r->nr_tx_slots = pi.tx_slots;
		r->nr_rx_slots = pi.rx_slots;
		r->nr_tx_rings = pi.tx_rings;
		r->nr_rx_rings = pi.rx_rings;
		r->nr_host_tx_rings = r->nr_host_rx_rings = 0;
		r->nr_mem_id = pi.mem_id;
		return 0;
	}
	case NETMAP_REQ_PORT_HDR_GET: {
		struct nmreq_port_hdr *r = body;
		rc = port_info(np, hdr->nr_name, &pi);
		if (rc)
			return rc;
		r->nr_hdr_len = pi.hdr_len;
		return 0;
	}
	case NETMAP_REQ_PORT_HDR_SET:
		return set_hdr_len(np, hdr->nr_name, ((struct nmreq_port_hdr *)body)->nr_hdr_len);
	default:
		if (hdr->nr_reqtype < NETMAP_REQ_VALE_ATTACH || hdr->nr_reqtype > NETMAP_REQ_CSB_ENABLE)
			return nmc_fail(-EINVAL, "unknown netmap request %u", hdr->nr_reqtype);
		return nmc_fail(-EOPNOTSUPP, "netmap request %u is not supported over unetmap: %s",
				hdr->nr_reqtype, unsupported_why(hdr->nr_reqtype));
	}
}

/* struct nmreq (legacy) -> header + register, and back. */
int nmc_legacy(struct nmc_port *np, unsigned long req, struct nmreq *nmr,
	       const char *fullname)
{
	struct nmreq_header hdr;
	struct nmreq_register reg;
	struct pinfo pi;
	int rc;

	memset(&hdr, 0, sizeof(hdr));
	if (fullname) {
		snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", fullname);
	} else {
		memcpy(hdr.nr_name, nmr->nr_name, sizeof(nmr->nr_name));
		hdr.nr_name[sizeof(nmr->nr_name) - 1] = '\0';
	}
	if ((unsigned)req == (unsigned)NIOCGINFO) {
		rc = port_info(np, hdr.nr_name, &pi);
		if (rc)
			return rc;
		nmr->nr_memsize = (uint32_t)pi.memsize;
		nmr->nr_tx_slots = pi.tx_slots;
		nmr->nr_rx_slots = pi.rx_slots;
		nmr->nr_tx_rings = pi.tx_rings;
		nmr->nr_rx_rings = pi.rx_rings;
		nmr->nr_arg2 = pi.mem_id;
		return 0;
	}
	switch (nmr->nr_cmd) {
	case 0:
		break;
	case NETMAP_BDG_VNET_HDR:
		return set_hdr_len(np, hdr.nr_name, nmr->nr_arg1);
	case NETMAP_VNET_HDR_GET:
		rc = port_info(np, hdr.nr_name, &pi);
		if (!rc)
			nmr->nr_arg1 = (uint16_t)pi.hdr_len;
		return rc;
	case NETMAP_BDG_ATTACH:
	case NETMAP_BDG_DETACH:
		return nmc_fail(-EOPNOTSUPP, "nr_cmd %u: use unm-ctl attach/detach", nmr->nr_cmd);
	case NETMAP_BDG_NEWIF:
	case NETMAP_BDG_DELIF:
		return nmc_fail(-EOPNOTSUPP, "nr_cmd %u: use unm-ctl port add/del", nmr->nr_cmd);
	default:
		return nmc_fail(-EOPNOTSUPP, "legacy nr_cmd %u is not supported over unetmap",
				nmr->nr_cmd);
	}
	memset(&reg, 0, sizeof(reg));
	hdr.nr_version = NETMAP_API;
	hdr.nr_reqtype = NETMAP_REQ_REGISTER;
	reg.nr_mode = nmr->nr_flags & NR_REG_MASK;
	reg.nr_flags = nmr->nr_flags & ~(uint32_t)NR_REG_MASK;
	reg.nr_ringid = nmr->nr_ringid & NETMAP_RING_MASK;
	if (reg.nr_mode == NR_REG_DEFAULT) {
		if (nmr->nr_ringid & NETMAP_SW_RING)
			reg.nr_mode = NR_REG_SW;
		else if (nmr->nr_ringid & NETMAP_HW_RING)
			reg.nr_mode = NR_REG_ONE_NIC;
		else
			reg.nr_mode = NR_REG_ALL_NIC;
	}
	if (nmr->nr_ringid & NETMAP_NO_TX_POLL)
		reg.nr_flags |= NR_NO_TX_POLL;
	if (nmr->nr_ringid & NETMAP_DO_RX_POLL)
		reg.nr_flags |= NR_DO_RX_POLL;
	/* legacy applications predate the flag: accept headers as netmap did */
	reg.nr_flags |= NR_ACCEPT_VNET_HDR;
	reg.nr_tx_slots = nmr->nr_tx_slots;
	reg.nr_rx_slots = nmr->nr_rx_slots;
	reg.nr_tx_rings = nmr->nr_tx_rings;
	reg.nr_rx_rings = nmr->nr_rx_rings;
	reg.nr_extra_bufs = nmr->nr_arg3;
	hdr.nr_body = (uintptr_t)&reg;
	rc = do_register(np, &hdr, &reg);
	if (rc)
		return rc;
	if (reg.nr_memsize > UINT32_MAX) {
		nmc_dev_close(np->fd);
		return nmc_fail(-EOVERFLOW, "region of '%s' too large for struct nmreq", hdr.nr_name);
	}
	nmr->nr_offset = (uint32_t)reg.nr_offset;
	nmr->nr_memsize = (uint32_t)reg.nr_memsize;
	nmr->nr_tx_slots = reg.nr_tx_slots;
	nmr->nr_rx_slots = reg.nr_rx_slots;
	nmr->nr_tx_rings = reg.nr_tx_rings;
	nmr->nr_rx_rings = reg.nr_rx_rings;
	nmr->nr_arg2 = reg.nr_mem_id;
	nmr->nr_arg3 = reg.nr_extra_bufs;
	return 0;
}

int nmc_sync(struct nmc_port *np, int tx)
{
	if (!np->port)
		return nmc_fail(-ENXIO, "sync on a netmap descriptor that is not registered");
	return NMC_LIB(tx ? unm_txsync(np->port, UNM_RING_ALL) : unm_rxsync(np->port, UNM_RING_ALL));
}

/* ---- poll ---------------------------------------------------------------- */

/* netmap's rules: TX synced unless NR_NO_TX_POLL (or if POLLOUT asked), RX
 * synced when POLLIN is asked (or NR_DO_RX_POLL); ready means cur != tail.
 * A pipe whose peer closed (-EPIPE) reports nothing, as netmap's pipes do:
 * applications test POLLERR only (pkt-gen's receiver took a POLLHUP for
 * "ready" and spun on it), and the frames still queued stay readable. */
static short sync_rev(struct nmc_port *np, int tx)
{
	int rc = nmc_sync(np, tx);

	if (rc == -EPIPE) {
		np->peer_gone = 1;
		return 0;
	}
	return rc < 0 ? POLLERR : 0;
}

static short np_ready(struct nmc_port *np, short events)
{
	short want_tx = events & (POLLOUT | POLLWRNORM);
	short want_rx = events & (POLLIN | POLLRDNORM);
	short rev = 0;

	if (!np->port)
		return POLLERR;
	if (want_tx || np->txpoll)
		rev |= sync_rev(np, 1);
	if (want_rx || np->rxpoll)
		rev |= sync_rev(np, 0);
	if (want_tx)
		for (unsigned i = 0; i < np->n_txr; i++)
			if (np->txr[i]->cur != np->txr[i]->tail) {
				rev |= want_tx;
				break;
			}
	if (want_rx)
		for (unsigned i = 0; i < np->n_rxr; i++)
			if (np->rxr[i]->cur != np->rxr[i]->tail) {
				rev |= want_rx;
				break;
			}
	return rev;
}

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Sleeps are cut into slices so that a wake-up consumed elsewhere costs
 * at most one slice. There is no spin of our own before sleeping, as in
 * unm_wait(): a port that gains from spinning does it in its arm op
 * (pipes), and a sched_yield() loop here kept the CPU from unmd, which
 * must run for a VALE sender's ring to drain (a netmap sender pinned to
 * the CPU unmd shares got half the rate of one sleeping in unm_wait). */
#define NMC_SLICE_NS 1000000

/* Readiness of every entry (syncing netmap ones); returns the count. */
static int scan(struct pollfd *fds, nfds_t n, int others_too)
{
	int count = 0;

	for (nfds_t i = 0; i < n; i++) {
		struct nmc_port *np = nmc_lookup(fds[i].fd);

		if (np)
			fds[i].revents = np_ready(np, fds[i].events);
		else if (others_too)
			fds[i].revents = 0;
		count += fds[i].revents != 0;
	}
	return count;
}

/*
 * poll() on one netmap descriptor that is not ready (a generator waiting
 * for room, a receiver for frames): sleep on the port's own epoll set, as
 * unm_wait() does (it wakes a sender sooner than ppoll() on the duplicate
 * of that descriptor: pkt-gen and nm-gen sent about 1.2 times as many
 * frames to vale0, interleaved), in slices of NMC_SLICE_NS, then sync and
 * look again with netmap's rules.
 *
 * Signals: poll() must fail with EINTR when a handler runs during it
 * (pkt-gen stops on SIGINT so). A signal that came while we were between
 * slices, in user space, would run its handler there and be missed, so
 * every signal is blocked for the call and unblocked only inside the
 * sleeping system call (epoll_pwait/ppoll with the caller's mask), as
 * ppoll() itself does: a signal pending at any moment ends the next sleep.
 */
static int wait_one(struct pollfd *fd, const struct timespec *ts)
{
	struct nmc_port *np = nmc_lookup(fd->fd);
	unsigned ev = (fd->events & (POLLOUT | POLLWRNORM) ? UNM_WAIT_TX : 0) |
		      (fd->events & (POLLIN | POLLRDNORM) ? UNM_WAIT_RX : 0);
	int64_t deadline = ts ? now_ns() + ts->tv_sec * 1000000000LL + ts->tv_nsec : -1;
	/* a pipe whose peer closed keeps its notification fd readable (the
	 * hang-up): sleep on the clock instead, or the wait would spin */
	int epfd = np && np->port && ev && !np->peer_gone ? NMC_LIB(unm_fd(np->port)) : -1;
	int count = 0, e = 0;
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (;;) {
		int64_t left = deadline < 0 ? NMC_SLICE_NS : deadline - now_ns();
		int rc;

		if (left <= 0)
			break;
		if (left > NMC_SLICE_NS)
			left = NMC_SLICE_NS;
		if (epfd >= 0) {
			struct epoll_event evs[4];

			rc = epoll_pwait(epfd, evs, 4, (int)((left + 999999) / 1000000), &old);
			if (rc > 0) /* consume it; a dead peer shows in the scan */
				NMC_LIB(unm_wakeup(np->port));
		} else { /* nothing to wait for on the port: just the timeout */
			struct timespec t = { .tv_sec = left / 1000000000, .tv_nsec = left % 1000000000 };

			rc = nmc_real_ppoll(NULL, 0, &t, &old);
		}
		if (rc < 0) { /* EINTR: a handler ran */
			e = errno;
			count = -1;
			break;
		}
		if ((count = scan(fd, 1, 1)))
			break;
		if (np && np->peer_gone)
			epfd = -1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e)
		errno = e;
	return count;
}

int nmc_poll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
	     const sigset_t *mask)
{
	struct pollfd stack[32], *cp = stack;
	int64_t deadline = -1;
	int nmfds = 0, others = 0, count, rc;

	for (nfds_t i = 0; i < n; i++) {
		if (nmc_lookup(fds[i].fd))
			nmfds++;
		else if (fds[i].fd >= 0)
			others++;
	}
	if (!nmfds)
		return nmc_real_ppoll(fds, n, ts, mask);
	count = scan(fds, n, 1);
	/* the common case of a busy application: rings ready, nothing else
	 * watched; no clock read, no system call */
	if (count && !others)
		return count;
	if (!count && n == 1 && !mask)
		return wait_one(fds, ts);
	if (ts) /* from after the first scan: its syncs take microseconds */
		deadline = now_ns() + ts->tv_sec * 1000000000LL + ts->tv_nsec;
	if (n > sizeof(stack) / sizeof(stack[0])) {
		cp = malloc(n * sizeof(*cp));
		if (!cp) {
			errno = ENOMEM;
			return -1;
		}
	}
	for (;;) {
		int64_t left = deadline < 0 ? -1 : deadline - now_ns();

		if (count || (deadline >= 0 && left <= 0)) {
			if (!others)
				break;
			left = 0; /* just look at the ordinary fds */
		}
		for (nfds_t i = 0; i < n; i++) {
			struct nmc_port *np = nmc_lookup(fds[i].fd);

			cp[i] = fds[i];
			cp[i].revents = 0;
			if (np) {
				cp[i].events = POLLIN; /* the port's notification fd */
				if (count || np->peer_gone) /* gone: a hang-up, always readable */
					cp[i].fd = -1;
			}
		}
		if (left < 0 || left > NMC_SLICE_NS)
			left = NMC_SLICE_NS;
		struct timespec t = { .tv_sec = left / 1000000000, .tv_nsec = left % 1000000000 };
		rc = nmc_real_ppoll(cp, n, &t, mask);
		if (rc < 0) {
			int e = errno;
			if (cp != stack)
				free(cp);
			errno = e;
			return -1;
		}
		int other_ready = 0;
		for (nfds_t i = 0; i < n; i++) {
			struct nmc_port *np = nmc_lookup(fds[i].fd);

			if (np && cp[i].revents && np->port)
				NMC_LIB(unm_wakeup(np->port));
			else if (!np && cp[i].revents) {
				fds[i].revents = cp[i].revents;
				other_ready = 1;
			}
		}
		if (count) {
			count = 0;
			for (nfds_t i = 0; i < n; i++)
				count += fds[i].revents != 0;
			break;
		}
		count = scan(fds, n, 0);
		if (other_ready || count)
			break;
		if (deadline >= 0 && now_ns() >= deadline)
			break;
	}
	if (cp != stack)
		free(cp);
	return count;
}

/* ---- inject (shared by nm_inject and nmport_inject) ---------------------- */

int nmc_inject(struct netmap_if *nifp, uint16_t first, uint16_t last,
	       uint16_t *cur, const void *buf, size_t size)
{
	unsigned nrings = (unsigned)(last - first) + 1;
	uint16_t ri = *cur;

	if (last < first || size == 0)
		return 0;
	for (unsigned c = 0; c < nrings; c++, ri = ri >= last ? first : ri + 1) {
		struct netmap_ring *r;
		uint32_t need, i, space;
		size_t done = 0;

		if (ri < first || ri > last)
			ri = first;
		r = (struct netmap_ring *)((char *)nifp + nifp->ring_ofs[ri]);
		need = (uint32_t)((size + r->nr_buf_size - 1) / r->nr_buf_size);
		space = r->tail >= r->head ? r->tail - r->head : r->tail + r->num_slots - r->head;
		if (need > space || need > NETMAP_MAX_FRAGS)
			continue;
		i = r->head;
		while (done < size) {
			struct netmap_slot *s = &r->slot[i];
			size_t chunk = size - done < r->nr_buf_size ? size - done : r->nr_buf_size;

			memcpy((char *)r + r->buf_ofs + (size_t)s->buf_idx * r->nr_buf_size,
			       (const char *)buf + done, chunk);
			s->len = (uint16_t)chunk;
			done += chunk;
			s->flags = done < size ? NS_MOREFRAG : 0;
			i = i + 1 == r->num_slots ? 0 : i + 1;
		}
		r->head = r->cur = i;
		*cur = ri;
		return (int)size;
	}
	return 0;
}
