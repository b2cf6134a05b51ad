// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: unmd checks the parsed port name a request carries
 * (struct unm_ctl_portspec, include/unm/ctl.h) as untrusted input. Against
 * a private unmd, hand-built requests (public header only, no libunm):
 * an unknown type, an unterminated string, an out-of-range ring, @conf
 * value and geometry, a base length past the name, fields a type does not
 * use, a request that names a port without its parsed form, and a
 * version 1 request (640 bytes) each get one reply with -EINVAL (the old
 * version: -EPROTO naming both versions); unmd keeps running and then
 * opens a port from a well-formed hand-built spec (proving the fields
 * are what it reads: the text name of that request is deliberately
 * another port's) and lists it. Fails before the spec existed: every
 * request of this size was malformed (-EBADMSG) and no port opened.
 */
#include <signal.h>
#include <stdbool.h>
#include "limits-common.h"

/* Send LEN bytes of R on a new connection; return the reply's status
 * (its message in MSG) or fail. */
static int ask(const void *r, size_t len, char *msg, size_t msglen)
{
	int fd = lc_connect();
	struct timeval tv = { .tv_sec = 5 };
	union {
		struct unm_ctl_rep rep;
		char raw[4096];
	} u;
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (lc_send_fds(fd, r, len, -1, 0) != (ssize_t)len)
		T_FAIL("send: %s", strerror(errno));
	n = recv(fd, u.raw, sizeof(u.raw), 0);
	if (n != (ssize_t)sizeof(u.rep))
		T_FAIL("reply of %zd bytes (%s)", n, n < 0 ? strerror(errno) : "");
	T_ASSERT_EQ(u.rep.magic, UNM_CTL_MAGIC);
	u.rep.msg[sizeof(u.rep.msg) - 1] = '\0';
	snprintf(msg, msglen, "%s", u.rep.msg);
	close(fd);
	return u.rep.status;
}

/* A well-formed OPEN_PORT of vale0:PORT with its spec, as libunm sends it. */
static void open_req(struct unm_ctl_req *r, const char *port)
{
	lc_req(r, UNM_CTL_OPEN_PORT, "vale0:textname", 1);
	snprintf(r->spec.type, sizeof(r->spec.type), "vale");
	snprintf(r->spec.sw, sizeof(r->spec.sw), "vale0");
	snprintf(r->spec.port, sizeof(r->spec.port), "%s", port);
	snprintf(r->spec.name, sizeof(r->spec.name), "vale0:%s", port);
	r->spec.base_len = (uint32_t)strlen(r->spec.name);
	r->spec.ring = -1;
	r->spec.conf.vnet_hdr_len = UNM_CTL_UNSET;
	r->spec.geom.tx_rings = r->spec.geom.rx_rings = 1;
	r->spec.geom.tx_slots = r->spec.geom.rx_slots = 256;
	r->spec.geom.buf_size = 2048;
}

static void refused(const char *what, const struct unm_ctl_req *r, int want)
{
	char msg[UNM_CTL_MSG_MAX];
	int rc = ask(r, sizeof(*r), msg, sizeof(msg));

	printf("%-28s -> %d %s\n", what, rc, msg);
	if (rc != want)
		T_FAIL("%s: status %d, expected %d", what, rc, want);
}

int main(void)
{
	struct unm_ctl_req r;
	char msg[UNM_CTL_MSG_MAX];
	pid_t d;
	int rc;

	t_watchdog(60);
	d = t_unmd_start(NULL);

	open_req(&r, "p");
	snprintf(r.spec.type, sizeof(r.spec.type), "bogus");
	refused("unknown type", &r, -EINVAL);

	open_req(&r, "p");
	memset(r.spec.port, 'a', sizeof(r.spec.port));
	refused("unterminated port", &r, -EINVAL);

	open_req(&r, "p");
	memset(r.spec.type, 'v', sizeof(r.spec.type));
	refused("unterminated type", &r, -EINVAL);

	open_req(&r, "p");
	r.spec.ring = 5000;
	refused("ring out of range", &r, -EINVAL);

	open_req(&r, "p");
	r.spec.conf.tx_slots = 3;
	refused("@conf slots out of range", &r, -EINVAL);

	open_req(&r, "p");
	r.spec.geom.tx_rings = 100000;
	refused("geometry out of range", &r, -EINVAL);

	open_req(&r, "p");
	r.spec.base_len = 200;
	refused("base past the name", &r, -EINVAL);

	open_req(&r, "p");
	snprintf(r.spec.path, sizeof(r.spec.path), "/etc/passwd");
	refused("path on a switch port", &r, -EINVAL);

	open_req(&r, "p");
	snprintf(r.spec.port, sizeof(r.spec.port), "p:q");
	refused("bad port characters", &r, -EINVAL);

	open_req(&r, "p");
	memset(&r.spec, 0, sizeof(r.spec));
	refused("no parsed form", &r, -EINVAL);

	lc_req(&r, UNM_CTL_ATTACH, "vale0", 1);
	snprintf(r.arg, sizeof(r.arg), "null");
	snprintf(r.spec.type, sizeof(r.spec.type), "null");
	snprintf(r.spec.name, sizeof(r.spec.name), "null");
	snprintf(r.spec.port, sizeof(r.spec.port), "eth0");
	r.spec.ring = -1;
	r.spec.conf.vnet_hdr_len = UNM_CTL_UNSET;
	refused("argument of null", &r, -EINVAL);

	lc_req(&r, UNM_CTL_SWITCH_ADD, "vale7", 1);
	snprintf(r.spec.type, sizeof(r.spec.type), "null");
	refused("spec where none belongs", &r, -EINVAL);

	{ /* a version 1 client: 640 bytes, version 1 */
		lc_req(&r, UNM_CTL_LIST, "", 1);
		r.version = 1;
		r.size = 640;
		rc = ask(&r, 640, msg, sizeof(msg));
		printf("%-28s -> %d %s\n", "version 1 request", rc, msg);
		T_ASSERT_EQ(rc, -EPROTO);
		T_ASSERT(strstr(msg, "protocol version 1"));
	}

	T_ASSERT(kill(d, 0) == 0); /* still there */
	{
		/* the spec is what unmd reads: the text says vale0:textname */
		int fd = lc_connect();
		struct timeval tv = { .tv_sec = 5 };
		struct unm_ctl_rep rep;
		struct unm_ctl_item it;
		bool seen = false;

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		open_req(&r, "fromspec");
		T_ASSERT(lc_send_fds(fd, &r, sizeof(r), -1, 0) == sizeof(r));
		T_ASSERT(recv(fd, &rep, sizeof(rep), 0) == sizeof(rep)); /* fds: closed below */
		printf("%-28s -> %d %s\n", "well-formed spec", rep.status, rep.msg);
		T_ASSERT_EQ(rep.status, 0);

		/* list vale0 from another connection while the port is open */
		int fl = lc_connect();

		setsockopt(fl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		lc_req(&r, UNM_CTL_LIST, "vale0", 2);
		T_ASSERT(lc_send_fds(fl, &r, sizeof(r), -1, 0) == sizeof(r));
		T_ASSERT(recv(fl, &rep, sizeof(rep), 0) == sizeof(rep));
		T_ASSERT_EQ(rep.status, 0);
		for (unsigned i = 0; i < rep.n_items; i++) {
			T_ASSERT(recv(fl, &it, sizeof(it), 0) == sizeof(it));
			if (it.kind == UNM_CTL_ITEM_PORT) {
				printf("port %s:%s\n", it.u.port.sw, it.u.port.name);
				seen |= !strcmp(it.u.port.name, "fromspec");
				T_ASSERT(strcmp(it.u.port.name, "textname"));
			}
		}
		T_ASSERT(seen);
		close(fl);
		close(fd);
	}
	T_ASSERT_EQ(t_unmd_stop(d), 0);
	printf("PASS\n");
	return 0;
}
