/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unmd.h - test helpers for tests that need a private unmd: start it on a
 * socket in /tmp (fork/exec of $UNM_BUILD/unmd, else build/unmd), point
 * $UNM_SOCKET at it, stop it; build and check Ethernet test frames; talk
 * to it with control requests.
 */
#ifndef UNM_TEST_UNMD_H
#define UNM_TEST_UNMD_H

#include <stdint.h>
#include <sys/types.h>
#include <unm.h>
#include <unm/ctl.h>

/* Start unmd (extra args, NULL-terminated list, may be NULL) on a fresh
 * socket, wait until it answers, set $UNM_SOCKET. Skips (77) if there is
 * no unmd binary. Returns its pid. */
pid_t t_unmd_start(const char *const *extra);
/* The same on PATH (an existing socket file is left for unmd to handle). */
pid_t t_unmd_start_at(const char *path, const char *const *extra);
/* The socket of the last t_unmd_start. */
const char *t_unmd_sock(void);
/* SIGTERM, wait (SIGKILL after 3 s); returns its exit status or -1. */
int t_unmd_stop(pid_t pid);
/* Path of a built program (unm-ctl, ...): $UNM_BUILD/NAME or build/NAME. */
const char *t_prog(const char *name);

/* Test frame: dst, src = 02:00:00:00:00:<id>, ethertype 0x88b5, then a
 * 32-bit sequence number and a payload pattern; LEN bytes total. */
void t_mac(uint8_t mac[6], unsigned id);
size_t t_frame(uint8_t *buf, size_t len, const uint8_t dst[6], unsigned src_id,
	       uint32_t seq);
/* Check a frame built by t_frame: returns its seq, or -1 if mangled. */
long t_frame_check(const uint8_t *buf, size_t len);

/* Open with a timeout and a message on failure. */
struct unm_port *t_open(const char *name);

/* Receive one whole frame (MOREFRAG chains reassembled) into buf, waiting
 * up to timeout_ms. Returns its length, 0 on timeout, <0 on error. */
long t_recv(struct unm_port *p, uint8_t *buf, size_t cap, int timeout_ms);
/* Send one frame (waits up to timeout_ms for room). Returns 0 or <0. */
int t_send(struct unm_port *p, const void *buf, size_t len, int timeout_ms);

/* Port stats from unmd (PORT_STATS for "valeX:P"). Returns 0 or <0. */
int t_port_info(const char *name, struct unm_ctl_port_info *pi);
/* Offload counters from unmd (PORT_OFFLOAD for "valeX:P"). Returns 0 or <0. */
int t_port_offload(const char *name, struct unm_ctl_offload_info *oi);
/* Count of ports on switch SW per LIST (0 if none / no such switch). */
int t_list_ports(const char *sw, struct unm_ctl_port_info *out, int max);
/* One control request without a reply payload (PORT_ADD, SWITCH_SET...). */
int t_ctl(unsigned op, const char *name, const char *arg, uint32_t value);
/* Run the built unm-ctl with ARGS (shell words, stderr discarded); its
 * stdout, NUL-terminated and cut to CAP - 1 bytes, goes to OUT. Returns
 * its exit code, -1 if it did not exit. */
int t_ctl_run(const char *args, char *out, size_t cap);



/* Send N frames of LEN bytes to DST (seq0, seq0+1, ...) as fast as the TX
 * ring allows, then wait until the switch consumed them all (or timeout).
 * Returns the number queued, or <0. */
long t_blast(struct unm_port *p, const uint8_t dst[6], unsigned src_id, uint32_t seq0,
	     unsigned n, size_t len, int timeout_ms);
/* Check that every buffer P holds (ring 0's TX and RX slots, then, unless
 * SKIP_LIST, its extra-buffer list from ni_bufs_head) is a valid index
 * held once and that the list has at most MAX entries; fails the test
 * otherwise. Returns the list's length (0 with SKIP_LIST: its links live
 * in the buffers, which a peer may have written over). */
unsigned t_check_held_buffers(struct unm_port *p, unsigned max, int skip_list);
/* Shared page for forked test processes (MAP_SHARED, zeroed). */
void *t_shared(size_t size);
#endif
