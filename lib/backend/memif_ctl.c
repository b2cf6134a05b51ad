// SPDX-License-Identifier: BSD-2-Clause
/*
 * memif_ctl.c - the memif control channel of the "memif:" port: the unix
 * SOCK_SEQPACKET socket, the handshake of either role, the slave's shared
 * memory (one sealed memfd region: rings, then buffers) and the master's
 * mappings of the slave's regions, and disconnects.
 *
 * Handshake (memif 2.0; each message is 128 bytes, at most one fd):
 *   master                         slave
 *   HELLO (limits)        ->
 *                         <-       INIT (version, id, secret)       ACK ->
 *                         <-       ADD_REGION i (memfd), i = 0..    ACK ->
 *                         <-       ADD_RING (eventfd): S2M 0.., M2S 0..  ACK ->
 *                         <-       CONNECT
 *   CONNECTED             ->
 * Either side may send DISCONNECT and close; EOF means the same. The slave
 * sends one message per ACK received (as DPDK and libmemif do).
 *
 * Trust (master side): every message field is checked before use: type
 * expected in this state, version exactly 2.0, id ours, mode Ethernet,
 * secret, region and ring indexes consecutive and within our limits, an
 * fd with every message that needs one (a region memfd whose size covers
 * the announced size; an eventfd), ring header and descriptors inside
 * their region, log2 ring size <= 14 and the same for every ring, private
 * header size 0, ring cookies at CONNECT. A violation is counted
 * (bad_msgs), answered with DISCONNECT and the connection dropped; the
 * listener keeps serving. A region that is not sealed against shrinking
 * is registered with unm_foreign_add(), so that unmd's SIGBUS handler
 * can replace it with zero pages if the slave truncates it.
 *
 * Threads: called with mf_dev.lock held.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>
#include "backend/memif.h"

#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 2U
#endif

#define RECONNECT_NS 100000000ull /* slave: retry the connect every 100 ms */

/* ---- @conf options -------------------------------------------------------- */

static const char *const conf_keys[] = { "role", "id", "secret", "zerocopy" };

bool unm_memif_conf_key(const char *key, size_t len)
{
	for (unsigned i = 0; i < ARRAY_SIZE(conf_keys); i++)
		if (strlen(conf_keys[i]) == len && !memcmp(conf_keys[i], key, len))
			return true;
	return false;
}

int unm_memif_conf_parse(const struct unm_spec *s, struct unm_memif_conf *c,
			 char *why, size_t whylen)
{
	const char *p = s->xconf;

	memset(c, 0, sizeof(*c));
	c->master = true;
	while (*p) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		const char *v;
		size_t klen, vlen;

		if (!eq)
			return snprintf(why, whylen, "memif option without a value"), -EINVAL;
		klen = (size_t)(eq - p);
		v = eq + 1;
		vlen = (size_t)(end - v);
#define IS(k, s_, n_) (strlen(k) == (n_) && !memcmp(k, s_, n_))
		if (IS("role", p, klen)) {
			if (IS("master", v, vlen) || IS("server", v, vlen))
				c->master = true;
			else if (IS("slave", v, vlen) || IS("client", v, vlen))
				c->master = false;
			else
				return snprintf(why, whylen, "role=%.*s: the memif role is master "
						"(or server) or slave (or client)", (int)(vlen > 20 ? 20 : vlen),
						v), -EINVAL;
		} else if (IS("id", p, klen)) {
			unsigned long long n = 0;

			if (!vlen || vlen > 10 || strspn(v, "0123456789") < vlen)
				return snprintf(why, whylen, "id=%.*s: not a number", (int)(vlen > 20 ? 20 : vlen),
						v), -EINVAL;
			for (size_t i = 0; i < vlen; i++)
				n = n * 10 + (unsigned)(v[i] - '0');
			if (n > UINT32_MAX)
				return snprintf(why, whylen, "id=%.*s out of range 0..4294967295",
						(int)vlen, v), -EINVAL;
			c->id = (uint32_t)n;
		} else if (IS("zerocopy", p, klen)) {
			if (vlen != 1 || (*v != '0' && *v != '1'))
				return snprintf(why, whylen, "zerocopy=%.*s: 0 or 1",
						(int)(vlen > 20 ? 20 : vlen), v), -EINVAL;
			c->zerocopy = *v == '1';
		} else if (IS("secret", p, klen)) {
			if (!vlen || vlen >= sizeof(c->secret))
				return snprintf(why, whylen, "secret: 1 to %zu characters",
						sizeof(c->secret) - 1), -EINVAL;
			memcpy(c->secret, v, vlen);
			c->secret[vlen] = '\0';
		} else {
			return snprintf(why, whylen, "unknown memif option '%.*s'",
					(int)(klen > 20 ? 20 : klen), p), -EINVAL;
		}
#undef IS
		p = comma ? comma + 1 : end;
	}
	return 0;
}

/* ---- helpers ------------------------------------------------------------- */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void ep_add(struct mf_dev *d, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	if (d->port->epfd >= 0 && epoll_ctl(d->port->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		unm_log(UNM_LOG_WARN, "%s: epoll_ctl: %s", d->port->name, strerror(errno));
}

static void ep_del(struct mf_dev *d, int fd)
{
	if (d->port->epfd >= 0 && fd >= 0)
		epoll_ctl(d->port->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* PATH as a unix address: "@name" is abstract (exact length, no NUL). */
static void timer_set(struct mf_dev *d, uint64_t ns)
{
	struct itimerspec it = { .it_value = { .tv_sec = (time_t)(ns / 1000000000ull),
					       .tv_nsec = (long)(ns % 1000000000ull) } };

	if (d->timer_fd >= 0)
		timerfd_settime(d->timer_fd, 0, &it, NULL);
}

static int send_msg(struct mf_dev *d, const struct memif_msg *m, int fd)
{
	int rc = unm_send_fds(d->conn_fd, m, sizeof(*m), &fd, fd >= 0 ? 1 : 0);

	if (rc)
		unm_log(UNM_LOG_INFO, "%s: memif send (type %u): %s", d->port->name, m->type,
			strerror(-rc));
	return rc;
}

static void send_simple(struct mf_dev *d, uint16_t type)
{
	struct memif_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	send_msg(d, &m, -1);
}

/* Copy a peer's name field (maybe not terminated) for messages. */
static void peer_str(char *dst, size_t n, const char *src, size_t srclen)
{
	size_t i;

	for (i = 0; i + 1 < n && i < srclen && src[i]; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

/* ---- regions and rings ---------------------------------------------------- */

static void rings_clear(struct mf_dev *d)
{
	for (unsigned i = 0; i < UNM_MAX_RINGS; i++) {
		struct mf_ring *rs[2] = { &d->s2m[i], &d->m2s[i] };

		for (unsigned k = 0; k < 2; k++) {
			struct mf_ring *r = rs[k];
			bool we_receive = (k == 0) == d->conf.master;

			if (r->efd >= 0 && we_receive)
				ep_del(d, r->efd);
			close_fd(&r->efd);
			/* zero copy: the connection is gone, so is every claim
			 * of the peer on our buffers */
			for (unsigned j = 0; r->zbuf && j < r->size; j++)
				if (r->zbuf[j])
					mf_zc_give(d, r->zbuf[j]);
			free(r->zbuf);
			memset(r, 0, sizeof(*r));
			r->efd = -1;
		}
	}
	for (unsigned i = 0; i < d->n_regions; i++) {
		struct mf_region *g = &d->reg[i];

		if (g->port) {
			memset(g, 0, sizeof(*g));
			g->fd = -1;
			continue;
		}
		if (g->base) {
			if (g->foreign)
				unm_foreign_del(g->base);
			munmap(g->base, g->size);
		}
		close_fd(&g->fd);
		memset(g, 0, sizeof(*g));
		g->fd = -1;
	}
	d->n_regions = 0;
	d->n_s2m = d->n_m2s = 0;
}

void mf_disconnect(struct mf_dev *d, const char *why)
{
	if (d->conn_fd >= 0) {
		if (why) {
			struct memif_msg m;

			memset(&m, 0, sizeof(m));
			m.type = MEMIF_MSG_DISCONNECT;
			snprintf(m.disconnect.string, sizeof(m.disconnect.string), "%s", why);
			send_msg(d, &m, -1);
		}
		ep_del(d, d->conn_fd);
		close_fd(&d->conn_fd);
		if (d->state == MF_UP)
			d->disconnects++;
		unm_log(UNM_LOG_INFO, "%s: memif peer disconnected: %s", d->port->name,
			why ? why : "closed");
	}
	rings_clear(d);
	d->state = MF_DOWN;
	d->step = 0;
	d->tx_blocked = false;
	/* a slave with a path tries again; a handed-over connection is gone */
	if (!d->conf.master && d->given_fd < 0 && !d->given_used)
		timer_set(d, RECONNECT_NS);
}

/* Slave: the region (rings, then one buffer per slot), eventfds, rings. */
static int slave_build(struct mf_dev *d)
{
	unsigned n = d->n_s2m + d->n_m2s, slots = 1u << d->log2;
	size_t rb = memif_ring_bytes(d->log2), size = (size_t)n * rb +
						   (size_t)n * slots * d->bsize;
	struct mf_region *g = &d->reg[0];
	int fd;

	fd = (int)memfd_create("unm-memif", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	g->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (g->base == MAP_FAILED) {
		int e = -errno;

		g->base = NULL;
		close(fd);
		return e;
	}
	g->size = size;
	g->fd = fd;
	d->n_regions = 1;
	if (d->zc) {
		/* region 1: the port's own region, whose buffers descriptors
		 * name (the peer maps all of it: see memif.c) */
		struct unm_port *p = d->port;

		d->reg[1].base = p->reg.base;
		d->reg[1].size = p->reg.size;
		d->reg[1].fd = p->reg.fd;
		d->reg[1].port = true;
		d->n_regions = 2;
	}
	for (unsigned k = 0; k < n; k++) {
		struct mf_ring *r = k < d->n_s2m ? &d->s2m[k] : &d->m2s[k - d->n_s2m];

		r->r = (struct memif_ring *)(void *)(g->base + (size_t)k * rb);
		r->size = slots;
		r->mask = slots - 1;
		r->buf0 = (size_t)n * rb + (size_t)k * slots * d->bsize;
		r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (r->efd < 0)
			return -errno;
		if (d->zc && !(r->zbuf = calloc(slots, sizeof(*r->zbuf))))
			return -ENOMEM;
		r->r->cookie = MEMIF_COOKIE;
		for (unsigned j = 0; j < slots; j++) {
			struct memif_desc *ds = &r->r->desc[j];

			ds->region = 0;
			ds->offset = (uint32_t)(r->buf0 + (size_t)j * d->bsize);
			ds->length = d->bsize;
		}
	}
	return 0;
}

/* ---- slave ------------------------------------------------------------- */

static void try_connect(struct mf_dev *d)
{
	int fd;

	if (d->conn_fd >= 0)
		return;
	fd = unm_usock_connect(d->path, UNM_USOCK_ABSTRACT, SOCK_SEQPACKET);
	if (fd == -ENAMETOOLONG)
		return;
	if (fd < 0) {
		timer_set(d, RECONNECT_NS);
		return;
	}
	d->conn_fd = fd;
	d->state = MF_WAIT_HELLO;
	ep_add(d, fd, MF_EV_CONN);
}

/* The message the slave sends after the ACK of step STEP - 1. */
static int slave_next(struct mf_dev *d)
{
	struct memif_msg m;
	unsigned s = d->step++;

	memset(&m, 0, sizeof(m));
	if (s < d->n_regions) {
		m.type = MEMIF_MSG_ADD_REGION;
		m.add_region.index = (uint16_t)s;
		m.add_region.size = d->reg[s].size;
		d->state = MF_WAIT_ACK;
		return send_msg(d, &m, d->reg[s].fd);
	}
	s -= d->n_regions;
	if (s < d->n_s2m + d->n_m2s) {
		bool s2m = s < d->n_s2m;
		unsigned i = s2m ? s : s - d->n_s2m;
		struct mf_ring *r = s2m ? &d->s2m[i] : &d->m2s[i];

		m.type = MEMIF_MSG_ADD_RING;
		m.add_ring.flags = s2m ? MEMIF_RING_FLAG_S2M : 0;
		m.add_ring.index = (uint16_t)i;
		m.add_ring.region = 0;
		m.add_ring.offset = (uint32_t)((uint8_t *)r->r - d->reg[0].base);
		m.add_ring.log2_ring_size = (uint8_t)d->log2;
		d->state = MF_WAIT_ACK;
		return send_msg(d, &m, r->efd);
	}
	m.type = MEMIF_MSG_CONNECT;
	snprintf(m.connect.if_name, sizeof(m.connect.if_name), "unetmap");
	d->state = MF_WAIT_CONNECTED;
	return send_msg(d, &m, -1);
}

static unsigned ilog2(unsigned v)
{
	unsigned l = 0;

	while ((2u << l) <= v)
		l++;
	return l;
}

static void slave_msg(struct mf_dev *d, const struct memif_msg *m)
{
	struct unm_port *p = d->port;

	switch (d->state) {
	case MF_WAIT_HELLO: {
		struct memif_msg r;
		unsigned own;

		if (m->type != MEMIF_MSG_HELLO)
			break;
		if (m->hello.min_version > MEMIF_VERSION || m->hello.max_version < MEMIF_VERSION) {
			mf_disconnect(d, "Incompatible memif version");
			return;
		}
		peer_str(d->peer_name, sizeof(d->peer_name), m->hello.name, sizeof(m->hello.name));
		d->n_s2m = p->n_tx < (unsigned)m->hello.max_s2m_ring + 1 ? p->n_tx
								    : (unsigned)m->hello.max_s2m_ring + 1;
		d->n_m2s = p->n_rx < (unsigned)m->hello.max_m2s_ring + 1 ? p->n_rx
								    : (unsigned)m->hello.max_m2s_ring + 1;
		own = ilog2(p->n_tx ? p->tx[0].nslots : p->rx[0].nslots);
		d->log2 = own < m->hello.max_log2_ring_size ? own : m->hello.max_log2_ring_size;
		if (d->log2 < 1 || (!d->n_s2m && !d->n_m2s)) {
			mf_disconnect(d, "No usable rings");
			return;
		}
		d->bsize = p->n_tx ? p->tx[0].buf_size : p->rx[0].buf_size;
		if (slave_build(d)) {
			mf_disconnect(d, "Out of memory");
			return;
		}
		memset(&r, 0, sizeof(r));
		r.type = MEMIF_MSG_INIT;
		r.init.version = MEMIF_VERSION;
		r.init.id = d->conf.id;
		r.init.mode = 0;
		memcpy(r.init.secret, d->conf.secret, sizeof(r.init.secret));
		snprintf(r.init.name, sizeof(r.init.name), "unetmap");
		d->state = MF_WAIT_ACK;
		d->step = 0;
		if (send_msg(d, &r, -1))
			mf_disconnect(d, NULL);
		return;
	}
	case MF_WAIT_ACK:
		if (m->type != MEMIF_MSG_ACK)
			break;
		if (slave_next(d))
			mf_disconnect(d, NULL);
		return;
	case MF_WAIT_CONNECTED:
		if (m->type != MEMIF_MSG_CONNECTED)
			break;
		peer_str(d->peer_name, sizeof(d->peer_name), m->connect.if_name,
			 sizeof(m->connect.if_name));
		mf_link_up(d);
		return;
	default:
		break;
	}
	d->bad_msgs++;
	mf_disconnect(d, "Unexpected message");
}

/* ---- master -------------------------------------------------------------- */

static void master_hello(struct mf_dev *d)
{
	struct unm_port *p = d->port;
	struct memif_msg m;

	memset(&m, 0, sizeof(m));
	m.type = MEMIF_MSG_HELLO;
	snprintf(m.hello.name, sizeof(m.hello.name), "unetmap");
	m.hello.min_version = m.hello.max_version = MEMIF_VERSION;
	m.hello.max_region = MF_MAX_REGIONS - 1;
	m.hello.max_m2s_ring = (uint16_t)(p->n_tx ? p->n_tx - 1 : 0);
	m.hello.max_s2m_ring = (uint16_t)(p->n_rx ? p->n_rx - 1 : 0);
	m.hello.max_log2_ring_size = MEMIF_MAX_LOG2;
	d->state = MF_WAIT_INIT;
	if (send_msg(d, &m, -1))
		mf_disconnect(d, NULL);
}

static int refuse(struct mf_dev *d, const char *why)
{
	d->bad_msgs++;
	unm_log(UNM_LOG_WARN, "%s: memif peer refused: %s", d->port->name, why);
	mf_disconnect(d, why);
	return -EPROTO;
}

static int master_region(struct mf_dev *d, const struct memif_msg_add_region *a, int fd)
{
	uint16_t idx = a->index;
	uint64_t size = a->size;
	struct mf_region *g;
	struct stat st;
	int seals;
	void *base;

	if (fd < 0)
		return refuse(d, "Missing region fd");
	if (idx != d->n_regions || idx >= MF_MAX_REGIONS) {
		d->bad_region++;
		return refuse(d, "Invalid region index");
	}
	if (size == 0 || size > ((uint64_t)1 << 40) || fstat(fd, &st) < 0 ||
	    (uint64_t)st.st_size < size) {
		d->bad_offset++;
		return refuse(d, "Invalid region size");
	}
	base = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return refuse(d, "Region mmap failed");
	g = &d->reg[d->n_regions++];
	g->base = base;
	g->size = (size_t)size;
	g->fd = fd;
	seals = fcntl(fd, F_GET_SEALS);
	g->foreign = seals < 0 || !(seals & F_SEAL_SHRINK);
	if (g->foreign)
		unm_foreign_add(base, (size_t)size);
	return 0;
}

static int master_ring(struct mf_dev *d, const struct memif_msg_add_ring *a, int fd)
{
	struct unm_port *p = d->port;
	bool s2m = a->flags & MEMIF_RING_FLAG_S2M;
	unsigned idx = a->index, reg = a->region, log2 = a->log2_ring_size;
	unsigned *n = s2m ? &d->n_s2m : &d->n_m2s;
	unsigned limit = s2m ? p->n_rx : p->n_tx;
	uint64_t off = a->offset;
	struct mf_ring *r;

	if (fd < 0 || !unm_efd_ok(fd)) {
		if (fd >= 0)
			close(fd);
		return refuse(d, "Missing interrupt fd");
	}
	if (idx != *n || idx >= limit) {
		close(fd);
		d->bad_index++;
		return refuse(d, "Invalid ring index");
	}
	if (reg >= d->n_regions) {
		close(fd);
		d->bad_region++;
		return refuse(d, "Invalid region index");
	}
	if (log2 < 1 || log2 > MEMIF_MAX_LOG2 || (d->log2 && log2 != d->log2) ||
	    a->private_hdr_size != 0) {
		close(fd);
		return refuse(d, "Invalid ring size");
	}
	if ((off & 63) || off > d->reg[reg].size ||
	    memif_ring_bytes(log2) > d->reg[reg].size - off) {
		close(fd);
		d->bad_offset++;
		return refuse(d, "Ring outside its region");
	}
	d->log2 = log2;
	r = s2m ? &d->s2m[idx] : &d->m2s[idx];
	r->r = (struct memif_ring *)(void *)(d->reg[reg].base + off);
	r->size = 1u << log2;
	r->mask = r->size - 1;
	r->efd = fd;
	(*n)++;
	return 0;
}

static void master_msg(struct mf_dev *d, const struct memif_msg *m, int fd)
{
	switch (d->state) {
	case MF_WAIT_INIT:
		if (m->type != MEMIF_MSG_INIT)
			break;
		if (fd >= 0)
			close(fd);
		if (m->init.version != MEMIF_VERSION) {
			refuse(d, "Incompatible memif version");
			return;
		}
		if (m->init.id != d->conf.id) {
			refuse(d, "ID not found");
			return;
		}
		if (m->init.mode != 0) {
			refuse(d, "Only ethernet mode supported");
			return;
		}
		if (d->conf.secret[0] &&
		    strncmp(d->conf.secret, m->init.secret, sizeof(m->init.secret))) {
			refuse(d, m->init.secret[0] ? "Incorrect secret" : "Secret required");
			return;
		}
		peer_str(d->peer_name, sizeof(d->peer_name), m->init.name, sizeof(m->init.name));
		d->state = MF_SETUP;
		send_simple(d, MEMIF_MSG_ACK);
		return;
	case MF_SETUP:
		if (m->type == MEMIF_MSG_ADD_REGION) {
			if (master_region(d, &m->add_region, fd) == 0)
				send_simple(d, MEMIF_MSG_ACK);
			return;
		}
		if (m->type == MEMIF_MSG_ADD_RING) {
			if (master_ring(d, &m->add_ring, fd) == 0)
				send_simple(d, MEMIF_MSG_ACK);
			return;
		}
		if (fd >= 0)
			close(fd);
		if (m->type == MEMIF_MSG_CONNECT) {
			struct memif_msg r;

			if (!d->n_s2m && !d->n_m2s) {
				refuse(d, "No rings");
				return;
			}
			for (unsigned i = 0; i < d->n_s2m + d->n_m2s; i++) {
				struct mf_ring *q = i < d->n_s2m ? &d->s2m[i] : &d->m2s[i - d->n_s2m];

				if (UNM_READ_ONCE(q->r->cookie) != MEMIF_COOKIE) { /* untrusted */
					refuse(d, "Wrong ring");
					return;
				}
			}
			peer_str(d->peer_name, sizeof(d->peer_name), m->connect.if_name,
				 sizeof(m->connect.if_name));
			memset(&r, 0, sizeof(r));
			r.type = MEMIF_MSG_CONNECTED;
			snprintf(r.connect.if_name, sizeof(r.connect.if_name), "unetmap");
			mf_link_up(d);
			if (send_msg(d, &r, -1))
				mf_disconnect(d, NULL);
			return;
		}
		break;
	default:
		break;
	}
	if (fd >= 0)
		close(fd);
	refuse(d, "Unexpected message");
}

/* ---- the socket ------------------------------------------------------------ */

static void ctl_read(struct mf_dev *d)
{
	/* a bounded number per call: a peer cannot keep us here */
	for (unsigned k = 0; k < 64 && d->conn_fd >= 0; k++) {
		struct memif_msg m;
		int fds[1] = { -1 };
		int rc = unm_recv_fds(d->conn_fd, &m, sizeof(m), fds, 1);

		if (rc == -EAGAIN || rc == -EWOULDBLOCK)
			return;
		if (rc == -EINTR)
			continue;
		if (rc < 0) {
			if (rc == -EBADMSG) {
				d->bad_msgs++;
				mf_disconnect(d, "Invalid message size");
			} else {
				mf_disconnect(d, NULL);
			}
			return;
		}
		if (m.type == MEMIF_MSG_DISCONNECT) {
			char why[MEMIF_ERR_LEN];

			if (rc > 0)
				close(fds[0]);
			peer_str(why, sizeof(why), m.disconnect.string, sizeof(m.disconnect.string));
			unm_log(UNM_LOG_INFO, "%s: memif peer says: %s", d->port->name, why);
			mf_disconnect(d, NULL);
			return;
		}
		if (d->conf.master) {
			master_msg(d, &m, rc > 0 ? fds[0] : -1);
		} else {
			if (rc > 0)
				close(fds[0]);
			slave_msg(d, &m);
		}
	}
}

static void master_accept(struct mf_dev *d)
{
	for (;;) {
		int fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (d->conn_fd >= 0) {
			/* one slave per id: tell a second one and drop it */
			struct memif_msg m;

			memset(&m, 0, sizeof(m));
			m.type = MEMIF_MSG_DISCONNECT;
			snprintf(m.disconnect.string, sizeof(m.disconnect.string),
				 "Already connected");
			unm_send_fds(fd, &m, sizeof(m), NULL, 0);
			close(fd);
			d->refused++;
			continue;
		}
		d->conn_fd = fd;
		ep_add(d, fd, MF_EV_CONN);
		master_hello(d);
	}
}

void mf_ctl_poll(struct mf_dev *d)
{
	uint64_t ticks;

	d->last_ctl_ns = unm_now_ns();
	if (d->timer_fd >= 0 && read(d->timer_fd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks) &&
	    !d->conf.master && d->conn_fd < 0 && d->given_fd < 0 && !d->given_used)
		try_connect(d);
	/* read first: a slave that went away (EOF queued) makes room for
	 * the one waiting in the backlog */
	ctl_read(d);
	if (d->conf.master && d->listen_fd >= 0 && d->conn_fd < 0) {
		master_accept(d);
		ctl_read(d);
	} else if (d->conf.master && d->listen_fd >= 0) {
		master_accept(d);
	}
}

static int check_given(struct mf_dev *d, char *why, size_t whylen)
{
	int type = 0, acc = 0;
	socklen_t len = sizeof(type), len2 = sizeof(acc);

	if (getsockopt(d->given_fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_SEQPACKET ||
	    getsockopt(d->given_fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len2) < 0 ||
	    !acc != !d->conf.master ||
	    fcntl(d->given_fd, F_SETFL, fcntl(d->given_fd, F_GETFL) | O_NONBLOCK) < 0) {
		snprintf(why, whylen, "the handed-over fd is not a %s unix SOCK_SEQPACKET socket",
			 d->conf.master ? "listening" : "connected");
		return -EINVAL;
	}
	return 0;
}

int mf_ctl_open(struct mf_dev *d, char *why, size_t whylen)
{
	struct sockaddr_un sa;
	socklen_t len;
	int rc;

	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->timer_fd < 0)
		return -errno;
	ep_add(d, d->timer_fd, MF_EV_TIMER);
	if (d->given_fd >= 0) {
		if ((rc = check_given(d, why, whylen)))
			return rc;
		if (d->conf.master) {
			d->listen_fd = d->given_fd;
			d->given_fd = -1;
			ep_add(d, d->listen_fd, MF_EV_LISTEN);
		} else {
			d->conn_fd = d->given_fd;
			d->given_fd = -1;
			d->given_used = true;
			d->state = MF_WAIT_HELLO;
			ep_add(d, d->conn_fd, MF_EV_CONN);
		}
		return 0;
	}
	if ((rc = unm_usock_addr(d->path, UNM_USOCK_ABSTRACT, &sa, &len))) {
		snprintf(why, whylen, "socket path too long");
		return rc;
	}
	if (!d->conf.master) {
		try_connect(d);
		return 0;
	}
	rc = unm_usock_listen(d->path, UNM_USOCK_ABSTRACT, SOCK_SEQPACKET, &d->sock_file, why,
			      whylen);
	if (rc < 0)
		return rc;
	d->listen_fd = rc;
	ep_add(d, d->listen_fd, MF_EV_LISTEN);
	return 0;
}

void mf_ctl_close(struct mf_dev *d)
{
	d->given_used = true; /* no reconnect */
	mf_disconnect(d, d->state != MF_DOWN ? "Device closed" : NULL);
	if (d->listen_fd >= 0) {
		ep_del(d, d->listen_fd);
		close_fd(&d->listen_fd);
		unm_usock_forget(&d->sock_file, d->path);
	}
	close_fd(&d->given_fd);
	close_fd(&d->sock_file.dir_fd);
	ep_del(d, d->timer_fd);
	close_fd(&d->timer_fd);
}
