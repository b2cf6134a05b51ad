/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctlmsg.h - helpers for the unmd control protocol (include/unm/ctl.h),
 * shared by libunm's vale client, unmd and unm-ctl (all link libunm.a).
 * Every receive validates the fixed-size message it gets; every call
 * returns 0 or a negative errno (and sets unm_errmsg() on failure).
 * No state: callers own their sockets; one thread per socket at a time.
 */
#ifndef UNM_CTLMSG_H
#define UNM_CTLMSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "unm/ctl.h"
#include "internal.h"

/* The socket path to use: OPT if non-empty, else $UNM_SOCKET, else the default. */
UNM_HIDDEN const char *unm_ctl_path(const char *opt);

/* Connect a SOCK_SEQPACKET socket to PATH. Returns the fd or -errno. */
UNM_HIDDEN int unm_ctl_connect(const char *path);

UNM_HIDDEN void unm_ctl_req_init(struct unm_ctl_req *r, unsigned op, uint32_t seq);
UNM_HIDDEN void unm_ctl_rep_init(struct unm_ctl_rep *rep, const struct unm_ctl_req *req);
UNM_HIDDEN void unm_ctl_item_init(struct unm_ctl_item *it, unsigned kind, uint32_t seq);

/* The geometry fields of open options <-> the wire's unm_ctl_geom (rings,
 * slots, buffer size, extra buffers, vnet header; nothing else is
 * touched). Copies only: neither checks ranges. */
UNM_HIDDEN void unm_ctl_geom_from_opts(struct unm_ctl_geom *g, const struct unm_open_opts *o);
UNM_HIDDEN void unm_ctl_geom_to_opts(const struct unm_ctl_geom *g, struct unm_open_opts *o);

/* Send one message (with up to UNM_CTL_MAX_FDS fds). Never raises SIGPIPE. */
UNM_HIDDEN int unm_ctl_send(int fd, const void *msg, size_t len, const int *fds,
			    unsigned nfds);

/*
 * Receive one message of exactly LEN bytes into MSG within TIMEOUT_MS
 * (-1 = forever). Received fds go to FDS (at most MAX_FDS; *NFDS set);
 * any surplus, or fds on a bad message, are closed. Returns 0, -ETIMEDOUT,
 * -ECONNRESET (peer closed), -EBADMSG (wrong size, truncated), -errno.
 */
UNM_HIDDEN int unm_ctl_recv(int fd, void *msg, size_t len, int *fds, unsigned max_fds,
			    unsigned *nfds, int timeout_ms);

/*
 * The parsed port name of a request (include/unm/ctl.h, struct
 * unm_ctl_portspec; lib/ctlspec.c).
 *
 * unm_ctl_spec_put - fill W from S, the parse of NAME (its text). TARGET:
 * S is a monitor and W is to describe the port it monitors (OPEN_PORT
 * with UNM_CTL_OPEN_MON_*). REQ_GEOM (or NULL): the request's geometry,
 * under the name's @conf in W->geom (switch ports). 0 or -errno, ERR.
 *
 * unm_ctl_req_spec - fill R->spec from R->name / R->arg as R->op says:
 * the one place a request's text is parsed. 0 or the parser's error.
 *
 * unm_ctl_spec_get - unmd: check W as untrusted input (every string
 * terminated and of the right characters, the type one of the table's,
 * every number in range, unused fields empty) and turn it into *S for
 * libunm (unm_open_spec). TARGET: W names a monitored port. An empty W
 * gives kind UNM_KIND_NONE. 0 or -EINVAL with the reason in ERR.
 *
 * unm_ctl_req_port - unm_ctl_spec_get of R->spec, and whether R->op must
 * (or must not) name a port. unm_ctl_check_req runs it.
 */
UNM_HIDDEN int unm_ctl_spec_put(struct unm_ctl_portspec *w, const struct unm_spec *s,
				const char *name, const struct unm_ctl_geom *req_geom,
				bool target, char *err, size_t errlen);
UNM_HIDDEN int unm_ctl_req_spec(struct unm_ctl_req *r, char *err, size_t errlen);
UNM_HIDDEN int unm_ctl_spec_get(const struct unm_ctl_portspec *w, bool target,
				struct unm_spec *s, char *err, size_t errlen);
UNM_HIDDEN int unm_ctl_req_port(const struct unm_ctl_req *r, struct unm_spec *s, char *err,
				size_t errlen);

/* Check a request as received by the server, its port spec too; text
 * reason in ERR. */
UNM_HIDDEN int unm_ctl_check_req(struct unm_ctl_req *r, size_t n, char *err, size_t errlen);

/*
 * Client round trip: send REQ, receive and validate the reply header
 * (magic, version, size, op/seq echo, n_fds == fds received). Returns the
 * reply's status (0 or -errno, with the reply text in unm_errmsg()) or a
 * transport error.
 */
UNM_HIDDEN int unm_ctl_call(int fd, const struct unm_ctl_req *req, struct unm_ctl_rep *rep,
			    int *fds, unsigned max_fds, int timeout_ms);

/* The same, handing N_SEND fds of ours (SEND_FDS) to unmd with the
 * request (ATTACH of a resource the client opened). They stay ours. */
UNM_HIDDEN int unm_ctl_call_fds(int fd, const struct unm_ctl_req *req, const int *send_fds,
				unsigned n_send, struct unm_ctl_rep *rep, int *fds,
				unsigned max_fds, int timeout_ms);

/* Receive and validate one reply item for request SEQ. */
UNM_HIDDEN int unm_ctl_recv_item(int fd, struct unm_ctl_item *it, uint32_t seq, int timeout_ms);

#endif
