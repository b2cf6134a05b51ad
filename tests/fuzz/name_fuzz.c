// SPDX-License-Identifier: BSD-2-Clause
/*
 * name_fuzz.c - fuzz target for unm_parse_name(), the port-name parser.
 *
 * The input, NUL-terminated (an embedded NUL ends the name), is parsed
 * twice: into a full error buffer and into a heap buffer of 1..32 bytes
 * (ASan checks the message is cut, not overrun). The outcomes must agree.
 * Invariants checked on success: every string field is NUL-terminated
 * inside its array; kind is a real kind and type its name; ring, flags and
 * every @conf value are inside the limits the parser promises (a domain
 * name, switch ports only, is 1..15 letters, digits, '_' or '-'); a pipe has
 * a role, a name and an id; a monitor has monitor flags and a path that
 * parses again as a port that is not a monitor (for monitor:valeX:TYPE:ARG,
 * the path after "valeX:" does, as a port that is not a switch port; a
 * VXLAN target with its own @conf options put back); a memif port has a
 * socket path that fits a sockaddr_un and options that parse again. A
 * name accepted travels: its control-protocol form (unm_ctl_spec_put,
 * lib/ctlspec.c) passes unmd's check (unm_ctl_spec_get) and gives back
 * the same spec; a monitor's target form passes too. On
 * failure: -EINVAL or
 * -EPROTONOSUPPORT and a message starting "bad port name '".
 * Single-threaded.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unm-internal.h"
#include "unm-memif.h"
#include "unm-ctlmsg.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static bool terminated(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

static bool conf_ok(unsigned v, unsigned lo, unsigned hi)
{
	return v == 0 || (v >= lo && v <= hi);
}

/*
 * Parse a monitor's target name. The path stops at the suffixes, which are
 * the monitor's own; a VXLAN target's own options (vni, port...) were
 * collected in xconf and are needed for the name alone to parse (the
 * daemon matches on the path, so they do not take part in finding it).
 */
static int reparse(const char *path, const char *xconf, struct unm_spec *out)
{
	char name[sizeof(((struct unm_spec *)0)->path) + sizeof(((struct unm_spec *)0)->xconf) + 8];
	char err[256];

	int rc = unm_parse_name(path, out, err, sizeof(err));

	if (rc == 0 || !xconf[0])
		return rc;
	snprintf(name, sizeof(name), "%s@conf:%s", path, xconf);
	return unm_parse_name(name, out, err, sizeof(err));
}

static void check_spec(const struct unm_spec *s)
{
	static const unsigned known = UNM_SPEC_TX_ONLY | UNM_SPEC_RX_ONLY | UNM_SPEC_MON_TX |
				      UNM_SPEC_MON_RX | UNM_SPEC_MON_ZCOPY | UNM_SPEC_EXCLUSIVE;
	struct unm_spec again;

	CHECK(terminated(s->type, sizeof(s->type)) && terminated(s->sw, sizeof(s->sw)) &&
	      terminated(s->port, sizeof(s->port)) &&
	      terminated(s->pipe_id, sizeof(s->pipe_id)) &&
	      terminated(s->path, sizeof(s->path)));
	CHECK(s->kind > UNM_KIND_NONE && s->kind < UNM_KIND__COUNT);
	CHECK(s->type[0]);
	CHECK(s->ring >= -1 && s->ring < UNM_MAX_RINGS);
	CHECK(!(s->flags & ~known));
	CHECK((s->flags & (UNM_SPEC_TX_ONLY | UNM_SPEC_RX_ONLY)) !=
	      (UNM_SPEC_TX_ONLY | UNM_SPEC_RX_ONLY));
	CHECK(conf_ok(s->tx_rings, 1, UNM_MAX_RINGS) && conf_ok(s->rx_rings, 1, UNM_MAX_RINGS));
	CHECK(conf_ok(s->tx_slots, UNM_MIN_SLOTS, UNM_MAX_SLOTS) &&
	      conf_ok(s->rx_slots, UNM_MIN_SLOTS, UNM_MAX_SLOTS));
	CHECK(conf_ok(s->buf_size, UNM_MIN_BUF_SIZE, UNM_MAX_BUF_SIZE));
	CHECK(s->extra_bufs <= 65536);
	CHECK(s->vnet_hdr_len == -1 || s->vnet_hdr_len == 0 || s->vnet_hdr_len == 10 ||
	      s->vnet_hdr_len == 12);
	CHECK(terminated(s->domain, sizeof(s->domain)));
	CHECK(!s->domain[0] || s->kind == UNM_KIND_VALE);
	for (const char *q = s->domain; *q; q++)
		CHECK((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		      (*q >= '0' && *q <= '9') || *q == '_' || *q == '-');
	switch (s->kind) {
	case UNM_KIND_PIPE:
		CHECK(!strcmp(s->type, "pipe"));
		CHECK(s->pipe_role == UNM_PIPE_MASTER || s->pipe_role == UNM_PIPE_SLAVE);
		CHECK(s->port[0] && s->pipe_id[0]);
		break;
	case UNM_KIND_VALE:
		CHECK(!strcmp(s->type, "vale") && !strncmp(s->sw, "vale", 4) && s->port[0]);
		CHECK(strlen(s->sw) < UNM_IFNAMSIZ && strlen(s->port) < UNM_IFNAMSIZ);
		break;
	case UNM_KIND_TAP:
	case UNM_KIND_AFPACKET:
	case UNM_KIND_AFXDP:
		CHECK(s->port[0] && strlen(s->port) < UNM_IFNAMSIZ);
		break;
	case UNM_KIND_SHMIF:
	case UNM_KIND_VHOST:
	case UNM_KIND_IVSHMEM:
		CHECK(s->path[0]);
		break;
	case UNM_KIND_MEMIF: {
		/* a socket path ("@NAME": abstract) that fits sun_path, and
		 * memif's own options, which parse again */
		struct unm_memif_conf mc;
		char why[160];

		CHECK(!strcmp(s->type, "memif"));
		CHECK(s->path[0] && strlen(s->path) < 108 && strcmp(s->path, "@"));
		CHECK(terminated(s->xconf, sizeof(s->xconf)));
		CHECK(unm_memif_conf_parse(s, &mc, why, sizeof(why)) == 0);
		CHECK(terminated(mc.secret, sizeof(mc.secret)));
		break;
	}
	case UNM_KIND_MONITOR:
		CHECK(!strcmp(s->type, "monitor"));
		CHECK(s->flags & (UNM_SPEC_MON_TX | UNM_SPEC_MON_RX | UNM_SPEC_MON_ZCOPY));
		/* the target's name alone parses as a port that is not a
		 * monitor; monitor:valeX:TYPE:ARG names a port attached to
		 * valeX, whose own name is what follows "valeX:" */
		if (reparse(s->path, s->xconf, &again) == 0) {
			CHECK(again.kind != UNM_KIND_MONITOR && again.kind != UNM_KIND_NONE);
		} else {
			size_t swl = strlen(s->sw);

			CHECK(swl && !strncmp(s->path, s->sw, swl) && s->path[swl] == ':');
			CHECK(reparse(s->path + swl + 1, s->xconf, &again) == 0);
			CHECK(again.kind != UNM_KIND_MONITOR && again.kind != UNM_KIND_VALE &&
			      again.kind != UNM_KIND_NONE);
		}
		break;
	default:
		break;
	}
}

/* The spec as the control protocol carries it, and back (unmd's check). */
static void check_wire(const char *name, const struct unm_spec *s)
{
	struct unm_ctl_portspec w;
	struct unm_spec back, want = *s;
	char err[256];

	if (unm_ctl_spec_put(&w, s, name, NULL, false, err, sizeof(err)))
		return; /* too long for the wire: refused in the client */
	CHECK(unm_ctl_spec_get(&w, false, &back, err, sizeof(err)) == 0);
	CHECK(back.base_len <= strlen(w.name) && w.base_len <= s->base_len);
	/* strings compared as strings: the parser may leave bytes of an
	 * earlier value after a field's NUL */
#define SAME_STR(f) do { CHECK(!strcmp(want.f, back.f)); \
	memset(want.f, 0, sizeof(want.f)); memset(back.f, 0, sizeof(back.f)); } while (0)
	SAME_STR(type);
	SAME_STR(sw);
	SAME_STR(port);
	SAME_STR(pipe_id);
	SAME_STR(path);
	SAME_STR(domain);
	SAME_STR(xconf);
#undef SAME_STR
	want.mon_kind = back.mon_kind = UNM_KIND_NONE;
	want.base_len = back.base_len;
	want.fd = back.fd;
	CHECK(!memcmp(&want, &back, sizeof(want)));
	if (s->kind == UNM_KIND_MONITOR) {
		CHECK(s->mon_kind > UNM_KIND_NONE && s->mon_kind < UNM_KIND__COUNT &&
		      s->mon_kind != UNM_KIND_MONITOR);
		if (unm_ctl_spec_put(&w, s, s->path, NULL, true, err, sizeof(err)) == 0) {
			CHECK(unm_ctl_spec_get(&w, true, &back, err, sizeof(err)) == 0);
			CHECK(back.kind == s->mon_kind);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = malloc(size + 1);
	size_t small = 1 + (size ? data[0] % 32 : 0);
	char *serr = malloc(small);
	struct unm_spec s1, s2;
	char err[512];
	int rc1, rc2;

	if (!name || !serr)
		abort();
	memcpy(name, data, size);
	name[size] = '\0';
	rc1 = unm_parse_name(name, &s1, err, sizeof(err));
	rc2 = unm_parse_name(name, &s2, serr, small);
	CHECK(rc1 == rc2);
	CHECK(!memcmp(&s1, &s2, sizeof(s1)) || rc1); /* deterministic */
	CHECK(terminated(err, sizeof(err)) && terminated(serr, small));
	CHECK(!strncmp(err, serr, small - 1));
	if (rc1 == 0) {
		CHECK(err[0] == '\0');
		check_spec(&s1);
		check_wire(name, &s1);
	} else {
		CHECK(rc1 == -EINVAL || rc1 == -EPROTONOSUPPORT);
		CHECK(!strncmp(err, "bad port name '", 15));
	}
	free(serr);
	free(name);
	return 0;
}
