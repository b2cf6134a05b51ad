// SPDX-License-Identifier: BSD-2-Clause
/*
 * foreign.c - mappings of files another process controls (a shmif bus
 * file, a vhost-user frontend's memory), and what to do when that process
 * shrinks the file under us: the next access raises SIGBUS.
 *
 * A library cannot own the process's SIGBUS disposition, so it only keeps
 * the table; a process that must survive such peers (unmd, which maps the
 * files of clients it does not trust) installs a SIGBUS handler that
 * calls unm_foreign_fault(). That replaces the whole faulting mapping with
 * private zero pages at the same address (MAP_FIXED), so the access that
 * faulted, once retried, reads zeros: an empty bus or a frame of zeros,
 * which the port's validation already turns into drops. Only the peer
 * that shrank its own file loses its port's traffic.
 *
 * Threads: add/del from any thread (a lock-free table of atomics);
 * unm_foreign_fault is async-signal-safe (atomics and mmap only).
 */
#include <stdint.h>
#include <sys/mman.h>
#include "internal.h"

#define FOREIGN_MAX 512

static struct {
	uintptr_t base; /* atomic; 0 = free */
	size_t len;     /* written before base is published */
} tab[FOREIGN_MAX];
static uint64_t faults;

void unm_foreign_add(void *base, size_t len)
{
	for (unsigned i = 0; i < FOREIGN_MAX; i++) {
		uintptr_t zero = 0;

		if (__atomic_load_n(&tab[i].base, __ATOMIC_ACQUIRE))
			continue;
		/* claim with a placeholder so len is set before base means it */
		if (__atomic_compare_exchange_n(&tab[i].base, &zero, (uintptr_t)1, false,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			__atomic_store_n(&tab[i].len, len, __ATOMIC_RELAXED);
			__atomic_store_n(&tab[i].base, (uintptr_t)base, __ATOMIC_RELEASE);
			return;
		}
	}
	/* table full: that mapping stays unguarded (a SIGBUS then kills) */
}

void unm_foreign_del(void *base)
{
	for (unsigned i = 0; i < FOREIGN_MAX; i++)
		if (__atomic_load_n(&tab[i].base, __ATOMIC_ACQUIRE) == (uintptr_t)base) {
			__atomic_store_n(&tab[i].base, (uintptr_t)0, __ATOMIC_RELEASE);
			return;
		}
}

bool unm_foreign_fault(void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	for (unsigned i = 0; i < FOREIGN_MAX; i++) {
		uintptr_t b = __atomic_load_n(&tab[i].base, __ATOMIC_ACQUIRE);
		size_t len = __atomic_load_n(&tab[i].len, __ATOMIC_RELAXED);

		if (b <= 1 || a < b || a - b >= len)
			continue;
		if (mmap((void *)b, len, PROT_READ | PROT_WRITE,
			 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
			return false;
		__atomic_fetch_add(&faults, 1, __ATOMIC_RELAXED);
		return true;
	}
	return false;
}

uint64_t unm_foreign_faults(void)
{
	return __atomic_load_n(&faults, __ATOMIC_RELAXED);
}
