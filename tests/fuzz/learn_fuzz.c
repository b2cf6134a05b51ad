// SPDX-License-Identifier: BSD-2-Clause
/*
 * learn_fuzz.c - libFuzzer target for the switch's frame lookup: the
 * learning bridge of daemon/vale_learn.c (linked from libunmd.a) fed frames as the
 * forwarding thread feeds them, checked against a shadow model.
 *
 * Input: records [op][port][len][len bytes of frame]. op & 3: 0 = look
 * up the frame from source port `port % VS_MAX_PORTS` (time advances by
 * op >> 2 seconds... up to 63 s), 1 = the port leaves (port_gone),
 * 2 = dump + count, 3 = time jumps by op * 10 s (ageing). Frames shorter
 * than 14 bytes are padded with zeros (the switch never passes runts).
 *
 * Oracle: a lookup returns VS_BCAST, VS_DROP, or a port that is not the
 * source; if it returns a port, the destination MAC was last learned on
 * that port (the shadow: last source port per MAC, forgotten on
 * port_gone, moved only after the 1 s hold) and not more than 300 s ago. Group destinations always
 * flood. Dumps list only ports that have not left.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../daemon/unmd.h"
#include "../../daemon/vale_learn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SHADOW 512

struct shadow_ent {
	uint8_t mac[6];
	int port;            /* -1: forgotten */
	int alt;             /* a move refused by the hold (or made, if the
	                        switch had evicted the entry): also allowed */
	uint64_t when;
};

static struct shadow_ent sh[SHADOW];
static unsigned nsh;
static bool gone_port[VS_MAX_PORTS];

static struct shadow_ent *sh_find(const uint8_t *mac)
{
	for (unsigned i = 0; i < nsh; i++)
		if (!memcmp(sh[i].mac, mac, 6))
			return &sh[i];
	return NULL;
}

static void dump_cb(void *arg, const uint8_t mac[6], unsigned port, uint32_t age_ms)
{
	(void)arg;
	(void)mac;
	(void)age_ms;
	if (port >= VS_MAX_PORTS || gone_port[port])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *t = vs_learning_ops.create();
	uint64_t now = 1000000000ull;

	if (!t)
		return 0;
	nsh = 0;
	memset(gone_port, 0, sizeof(gone_port));
	while (size >= 3) {
		uint8_t op = data[0], port = (uint8_t)(data[1] % VS_MAX_PORTS);
		size_t len = data[2];
		uint8_t frame[256] = { 0 };

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		memcpy(frame, data, len);
		data += len;
		size -= len;
		switch (op & 3) {
		case 0: {
			unsigned dst;
			struct shadow_ent *e;

			now += (uint64_t)(op >> 2) * 1000000000ull;
			dst = vs_learning_ops.lookup(t, frame, len < 14 ? 14 : (unsigned)len, port, now);
			if (!(frame[6] & 1)) { /* the model learns as the switch does */
				e = sh_find(frame + 6);
				if (!e && nsh < SHADOW) {
					e = &sh[nsh++];
					memcpy(e->mac, frame + 6, 6);
					e->port = e->alt = -1;
				}
				if (e && e->port >= 0 && e->port != port &&
				    now - e->when < LT_MOVE_HOLD_NS) {
					e->alt = port; /* still in use on e->port: no move */
				} else if (e) {
					e->port = port;
					e->alt = -1;
					e->when = now;
				}
				gone_port[port] = false;
			}
			if (dst == VS_BCAST || dst == VS_DROP) {
				if (dst == VS_DROP && (frame[0] & 1))
					abort(); /* group destinations flood */
				break;
			}
			if (dst >= VS_MAX_PORTS || dst == port || (frame[0] & 1))
				abort();
			e = sh_find(frame);
			if (!e && nsh < SHADOW)
				abort(); /* a port for a MAC never learned */
			if (e && ((e->port != (int)dst && e->alt != (int)dst) ||
				  now - e->when >= LT_AGE_NS))
				abort(); /* forwarded to a port the MAC is not on */
			break;
		}
		case 1:
			vs_learning_ops.port_gone(t, port);
			for (unsigned i = 0; i < nsh; i++)
				if (sh[i].port == port)
					sh[i].port = -1;
			gone_port[port] = true;
			break;
		case 2:
			vs_learning_ops.dump(t, now, dump_cb, NULL);
			if (vs_learning_ops.count(t, now) > LT_SETS * LT_WAYS)
				abort();
			break;
		default:
			now += (uint64_t)op * 10000000000ull;
			break;
		}
	}
	vs_learning_ops.destroy(t);
	return 0;
}
