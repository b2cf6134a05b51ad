// SPDX-License-Identifier: BSD-2-Clause
/*
 * Description: unm-hostile-shmif, a hostile writer on a shmif bus shared
 * by two honest ports: it ignores the bus rules (header, records, lock,
 * data) while the honest ports exchange sequence-checked frames; they
 * must never crash or fail a sync with anything but -EBADMSG, -ETIMEDOUT
 * or -EAGAIN, must detect every corrupted frame, and must recover once
 * the writer has left. With no -t or -n, the short test make check runs
 * (1.5 s).
 *
 *   unm-hostile-shmif [--mutations N] [--seconds S]
 *
 * Figures go to stdout (one JSON object with -j). Exit 0 when every
 * invariant held, 1 otherwise. Threads: none; the writer is a child
 * process.
 */
#include "unm-hostile.h"

static inline uint32_t *bus32(uint8_t *m, unsigned off)
{
	return (uint32_t *)(m + off);
}

/* A writer that ignores the rules: header, records, lock, data. */
static void shmif_scribble(const char *path, double secs, uint64_t max_mut)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	uint8_t *m;
	double end = t_now() + secs;

	if (fd < 0)
		_exit(3);
	m = mmap(NULL, SHMIF_BUS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		_exit(3);
	while (t_now() < end && (!max_mut || F->mutations < max_mut)) {
		for (int k = 0; k < 2000; k++) {
			uint32_t off = SHMIF_HDR_SIZE + (uint32_t)(rnd() % SHMIF_DATA_SIZE) - 8;

			switch (rnd() % 10) {
			case 0: *bus32(m, SHMIF_OFF_FIRST) = nasty(SHMIF_DATA_SIZE); break;
			case 1: *bus32(m, SHMIF_OFF_LAST) = nasty(SHMIF_DATA_SIZE); break;
			case 2: *(uint64_t *)(m + SHMIF_OFF_GEN) = rnd() % 4 ? rnd() % 8 : rnd(); break;
			case 3: *bus32(m, SHMIF_OFF_LOCK) = rnd() % 4 ? 0 : (uint32_t)rnd(); break;
			case 4: /* a record header where the next record is expected */
				off = SHMIF_HDR_SIZE + *bus32(m, SHMIF_OFF_LAST) % SHMIF_DATA_SIZE;
				if (off + 4 <= SHMIF_BUS_SIZE) { /* records are unaligned */
					uint32_t v = nasty(SHMIF_MAX_FRAME);

					memcpy(m + off, &v, 4);
				}
				break;
			case 5: /* hold the lock a while, as a stuck writer would */
				if (rnd() % 64 == 0 &&
				    __atomic_exchange_n(bus32(m, SHMIF_OFF_LOCK), 1, __ATOMIC_ACQ_REL) == 0) {
					usleep((useconds_t)(rnd() % 1000));
					__atomic_store_n(bus32(m, SHMIF_OFF_LOCK), 0, __ATOMIC_RELEASE);
				}
				break;
			case 6: if (rnd() % 64 == 0) *bus32(m, SHMIF_OFF_MAGIC) = (uint32_t)rnd(); break;
			case 7: if (rnd() % 64 == 0) *bus32(m, SHMIF_OFF_VERSION) = (uint32_t)rnd(); break;
			default: {
				uint64_t v = rnd();

				memcpy(m + off, &v, 8);
				break;
			}
			}
		}
		__atomic_add_fetch(&F->mutations, 2000, __ATOMIC_RELAXED);
		/* put the magic back now and then so the honest side gets to parse */
		if (rnd() % 4 == 0) {
			*bus32(m, SHMIF_OFF_MAGIC) = SHMIF_MAGIC;
			*bus32(m, SHMIF_OFF_VERSION) = SHMIF_VERSION;
		}
		usleep(100);
	}
	/* Leave a consistent header: one 14-byte record at 0, first = "never
	 * wrapped", a new generation. A garbage header wedges the bus (writers
	 * refuse a `last` whose record length is impossible) - an availability
	 * attack shmif does not defend against; what is checked is that the
	 * honest ports hold no poisoned state once the header is sane. */
	/* Take the lock as lock_try() does: any old value but 1 means free
	 * (our own mutations may have left garbage in it; waiting for 0 there
	 * would wait for ever, since the exchange itself stored the 1 that
	 * honest writers then wait on). A holder that keeps it for 1 s is
	 * overridden: we are the hostile side. */
	for (double give_up = t_now() + 1.0;
	     __atomic_exchange_n(bus32(m, SHMIF_OFF_LOCK), 1, __ATOMIC_ACQ_REL) == 1 &&
	     t_now() < give_up;)
		usleep(100);
	*bus32(m, SHMIF_OFF_MAGIC) = SHMIF_MAGIC;
	*bus32(m, SHMIF_OFF_VERSION) = SHMIF_VERSION;
	*bus32(m, SHMIF_HDR_SIZE) = 14;
	*bus32(m, SHMIF_OFF_FIRST) = SHMIF_DATA_SIZE;
	*bus32(m, SHMIF_OFF_LAST) = 0;
	*(uint64_t *)(m + SHMIF_OFF_GEN) += 1;
	__atomic_store_n(bus32(m, SHMIF_OFF_LOCK), 0, __ATOMIC_RELEASE);
	_exit(0);
}

struct shstat { uint64_t ok, bad_rc, rx_err; };

/* One round of the shmif exchange between X (sender id) and Y. */
static unsigned shmif_round(struct hport *x, struct hport *y, int d, uint32_t *seq,
			    uint32_t *expect, struct shstat *ss, bool send)
{
	uint8_t ymac[6];
	unsigned moved = 0;
	int rc;

	t_mac(ymac, y->id);
	if (send)
		moved += hsend(x, ymac, seq, 16, false);
	F->sent[d] = *seq;
	rc = unm_txsync(x->p, 0);
	if (rc && rc != -EBADMSG && rc != -ETIMEDOUT && rc != -EAGAIN)
		honest_fail("shmif txsync: %s", strerror(-rc));
	ss->bad_rc += rc != 0;
	rc = unm_rxsync(y->p, 0);
	if (rc && rc != -EBADMSG && rc != -ETIMEDOUT && rc != -EAGAIN)
		honest_fail("shmif rxsync: %s", strerror(-rc));
	ss->bad_rc += rc != 0;
	moved += hrecv(y, x->id, d, expect);
	return moved;
}

static int run_shmif(double secs, uint64_t max_mut)
{
	char path[128];
	struct hport a = { .id = ID_A }, b = { .id = ID_B };
	uint32_t seq[2] = { 0, 0 }, expect[2] = { 0, 0 };
	uint64_t base_recv[2];
	struct shstat ss = { 0 };
	int fail = 0, rc;
	pid_t pid;
	double end;

	memset(F, 0, sizeof(*F));
	snprintf(path, sizeof(path), "/tmp/unm-hostile-%d.bus", (int)getpid());
	unlink(path);
	snprintf(F->why, sizeof(F->why), "shmif:%s", path);
	if (unm_open(F->why, &a.p, NULL) || unm_open(F->why, &b.p, NULL))
		T_FAIL("open %s: %s", F->why, unm_errmsg());
	F->why[0] = 0;
	pid = fork();
	if (pid == 0) {
		reseed(5);
		shmif_scribble(path, secs, max_mut);
	}
	end = t_now() + secs + 10;
	for (;;) { /* honest exchange while the hostile writer runs */
		int st;

		if (waitpid(pid, &st, WNOHANG) == pid) {
			rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			break;
		}
		if (t_now() > end) {
			printf("FAIL: shmif: the hostile writer did not finish 10 s after its end\n");
			kill(pid, SIGKILL);
			rc = reap(pid, 5);
			break;
		}
		unsigned m0 = shmif_round(&a, &b, 0, &seq[0], &expect[0], &ss, true);
		unsigned m1 = shmif_round(&b, &a, 1, &seq[1], &expect[1], &ss, true);

		if (!m0 && !m1)
			usleep(100);
		if (F->honest_err) {
			kill(pid, SIGKILL);
			rc = reap(pid, 5);
			break;
		}
	}
	/* recovery: with the writer gone, a clean windowed exchange */
	for (int d = 0; d < 2; d++)
		base_recv[d] = F->recv[d];
	/* a hostile writer can desynchronise readers (first/last/gen/record
	 * lengths); they resynchronise at the latest when the bus wraps */
	end = t_now() + 5;
	while (t_now() < end && !F->honest_err &&
	       (F->recv[0] - base_recv[0] < 50 || F->recv[1] - base_recv[1] < 50)) {
		unsigned m0 = shmif_round(&a, &b, 0, &seq[0], &expect[0], &ss, true);
		unsigned m1 = shmif_round(&b, &a, 1, &seq[1], &expect[1], &ss, true);

		if (!m0 && !m1)
			usleep(200);
	}
	unm_close(a.p);
	unm_close(b.p);
	unlink(path);
	if (F->recv[0] - base_recv[0] < 50 || F->recv[1] - base_recv[1] < 50)
		honest_fail("shmif: the bus did not recover in 5 s after the hostile writer left");
	fail = rc != 0 || F->honest_err;
	if (O.json)
		printf("{\"mode\":\"shmif\",\"mutations\":%llu,\"honest\":{\"sent\":%llu,"
		       "\"received\":%llu,\"corrupted_detected\":%llu,\"foreign\":%llu},"
		       "\"sync_errors\":%llu,\"pass\":%s}\n", (unsigned long long)F->mutations,
		       (unsigned long long)(F->sent[0] + F->sent[1]),
		       (unsigned long long)(F->recv[0] + F->recv[1]),
		       (unsigned long long)(F->corrupt[0] + F->corrupt[1]),
		       (unsigned long long)(F->foreign[0] + F->foreign[1]),
		       (unsigned long long)ss.bad_rc, fail ? "false" : "true");
	else
		printf("shmif: %llu mutations; honest sent %llu received %llu (corrupted, detected "
		       "by the frame check: %llu; foreign records %llu); sync errors %llu%s%s\n"
		       "shmif: %s\n", (unsigned long long)F->mutations,
		       (unsigned long long)(F->sent[0] + F->sent[1]),
		       (unsigned long long)(F->recv[0] + F->recv[1]),
		       (unsigned long long)(F->corrupt[0] + F->corrupt[1]),
		       (unsigned long long)(F->foreign[0] + F->foreign[1]),
		       (unsigned long long)ss.bad_rc, F->honest_err ? "; " : "",
		       F->honest_err ? F->why : "", fail ? "FAIL" : "PASS");
	if (rc)
		printf("FAIL: hostile shmif writer exit %d\n", rc);
	return fail;
}

static const char usage_text[] =
"Usage: unm-hostile-shmif [OPTIONS]\n"
"A hostile writer on a shmif bus two honest ports share; with no -t or -n,\n"
"the short test make check runs (exit 0 pass, 1 fail).\n"
"\n"
HOSTILE_OPTS_RUN
HOSTILE_OPTS_OUT;

int main(int argc, char **argv)
{
	hostile_init(argc, argv, usage_text, false);
	if (O.selftest)
		return run_shmif(1.5, 0);
	return run_shmif(O.seconds, O.mutations);
}
