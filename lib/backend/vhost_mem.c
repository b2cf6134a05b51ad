// SPDX-License-Identifier: BSD-2-Clause
/*
 * vhost_mem.c - the vhost-user memory table: map each region the frontend
 * passes (fd + offset), translate guest-physical and frontend-virtual
 * addresses, unmap on a new table and on disconnect.
 *
 * Threads: called with vu_dev.lock held (from the control path only).
 *
 * Trust: the table is untrusted. Each region must be non-empty, must not
 * overflow any of its three address spaces, and must lie inside the file
 * it names (checked with fstat, so an access inside a mapping never runs
 * past the end of the file at mapping time). A frontend that shrinks the
 * file afterwards can still make an access fault (SIGBUS): the vhost-user
 * protocol has no defence against that short of sealed memfds, which
 * QEMU and DPDK do not use. Each mapping is registered as foreign
 * (lib/foreign.c): a process with a SIGBUS handler (unmd) survives it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "backend/vhost_user.h"

void vu_mem_clear(struct vu_mem *mem)
{
	for (unsigned i = 0; i < mem->n; i++)
		if (mem->m[i].mmap_base) {
			unm_foreign_del(mem->m[i].mmap_base);
			munmap(mem->m[i].mmap_base, mem->m[i].mmap_len);
		}
	memset(mem, 0, sizeof(*mem));
}

static int map_one(struct vu_map *m, const struct vu_mem_region *r, int fd,
		   char *why, size_t whylen)
{
	struct stat st;
	uint64_t end, len, align;
	void *base;

	if (r->size == 0 || r->gpa + r->size < r->gpa || r->uva + r->size < r->uva ||
	    r->mmap_offset + r->size < r->mmap_offset) {
		snprintf(why, whylen, "region gpa 0x%llx size 0x%llx offset 0x%llx overflows",
			 (unsigned long long)r->gpa, (unsigned long long)r->size,
			 (unsigned long long)r->mmap_offset);
		return -EINVAL;
	}
	if (fstat(fd, &st) < 0)
		return -errno;
	end = r->mmap_offset + r->size;
	if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size < end) {
		snprintf(why, whylen, "region ends at 0x%llx, past its file (0x%llx bytes)",
			 (unsigned long long)end, (unsigned long long)st.st_size);
		return -EINVAL;
	}
	/* hugetlbfs wants mappings in whole huge pages (st_blksize). */
	align = (uint64_t)st.st_blksize;
	if (align < 4096 || (align & (align - 1)) || align > (1ull << 30))
		align = 4096;
	len = (end + align - 1) & ~(align - 1);
	if (len > SIZE_MAX)
		return -ENOMEM;
	base = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		int e = -errno;

		snprintf(why, whylen, "mmap of 0x%llx bytes: %s", (unsigned long long)len,
			 strerror(errno));
		return e;
	}
	m->gpa = r->gpa;
	m->uva = r->uva;
	m->size = r->size;
	m->mmap_base = base;
	m->mmap_len = (size_t)len;
	unm_foreign_add(base, (size_t)len); /* the frontend may shrink its file */
	m->host = (uint8_t *)base + r->mmap_offset;
	return 0;
}

int vu_mem_set(struct vu_mem *mem, const struct vu_mem_table_msg *msg, int *fds,
	       unsigned nfds, char *why, size_t whylen)
{
	unsigned n = msg->nregions;
	int rc = 0;

	vu_mem_clear(mem);
	if (n == 0 || n > VU_MAX_REGIONS || n != nfds) {
		snprintf(why, whylen, "memory table of %u regions with %u fds", n, nfds);
		rc = -EINVAL;
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		rc = map_one(&mem->m[i], &msg->r[i], fds[i], why, whylen);
		if (rc) {
			vu_mem_clear(mem);
			goto out;
		}
		mem->n = i + 1;
	}
out:
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	return rc;
}
