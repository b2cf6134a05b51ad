// SPDX-License-Identifier: BSD-2-Clause
/*
 * ivshmem.c - the guest side of a switch port passed through to a QEMU VM
 * by stock QEMU's ivshmem-doorbell device ("ivshmem:0000:00:04.0"), with
 * no guest kernel driver: everything goes through sysfs.
 *
 *   resource2 (BAR2)  the port's region, built by unmd; validated here
 *                     like any region before use (unm_region_attach: no
 *                     memfd and no seal to check, the host sealed it).
 *   resource0 (BAR0)  registers; a kick for CSB entry e is a 32-bit write
 *                     of (UNM_IVSHMEM_SERVER_ID << 16 | e) to Doorbell,
 *                     which QEMU turns into a write to unmd's kick
 *                     eventfd of entry e (ivshmem.h).
 *
 * The rings run the same CSB client code as a host process (csb.c).
 * Interrupts: none. Without a driver the guest cannot sleep on MSI-X;
 * the documented trick (enable MSI-X through config space and aim the
 * vector's table entry at BAR2) only turns an interrupt into a memory
 * write that must still be polled, and h2a.hwtail in the CSB is already
 * such a write, made by the host anyway. So the port has no arm op (the
 * first sync clears appl_need_kick and the host never interrupts) and no
 * fd: unm_wait() polls every millisecond, and a busy application polls
 * its rings directly.
 *
 * Threads: the unm_port contract (one thread per ring). Doorbell writes
 * from several rings' threads are independent 32-bit MMIO stores.
 * Trust: the host (unmd) and anything else with the shared memory can
 * write the region at any time; the CSB client validates every value it
 * takes from it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "csb.h"
#include "ivshmem.h"

struct ivsh_priv {
	struct unm_csb_client csb;  /* first: csb.h's shared port ops */
	char *bar0;
	size_t bar0_len;
	uint32_t peer_id;        /* our own id (IVPosition), informational */
};
_Static_assert(offsetof(struct ivsh_priv, csb) == 0, "csb first");

/* $UNM_IVSHMEM_SYSFS replaces /sys/bus/pci/devices (tests fake a device). */
static int dev_path(char *buf, size_t n, const char *bdf, const char *file)
{
	const char *root = getenv("UNM_IVSHMEM_SYSFS");
	int len = snprintf(buf, n, "%s/%s/%s", root && *root ? root : "/sys/bus/pci/devices",
			   bdf, file);

	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

static long read_hex(const char *bdf, const char *file)
{
	char path[512], txt[32];
	ssize_t n;
	int fd;

	if (dev_path(path, sizeof(path), bdf, file) || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, txt, sizeof(txt) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	txt[n] = '\0';
	return strtol(txt, NULL, 16);
}

/* Map sysfs resourceN of BDF whole; *len = its size. */
static int map_bar(const char *bdf, const char *file, char **base, size_t *len)
{
	char path[512];
	struct stat st;
	size_t sz;
	void *m;
	int fd, rc;

	if ((rc = dev_path(path, sizeof(path), bdf, file)))
		return unm_seterr(rc, "ivshmem:%s: path too long", bdf);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return unm_seterr(-errno, "ivshmem:%s: %s: %s", bdf, path, strerror(errno));
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		rc = st.st_size <= 0 ? -ENODEV : -errno;
		close(fd);
		return unm_seterr(rc, "ivshmem:%s: %s has no size", bdf, path);
	}
	sz = (size_t)st.st_size;
	/* BAR0 is 256 bytes; sysfs maps whole pages */
	sz = (sz + 4095) & ~(size_t)4095;
	m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	rc = -errno;
	close(fd);
	if (m == MAP_FAILED)
		return unm_seterr(rc, "ivshmem:%s: mmap %s: %s", bdf, path, strerror(-rc));
	*base = m;
	*len = (size_t)st.st_size < sz ? sz : (size_t)st.st_size;
	return 0;
}

static int ivsh_kick(void *arg, unsigned e)
{
	struct ivsh_priv *v = arg;

	if (e > 0xffff)
		return -EINVAL;
	UNM_WRITE_ONCE(*(uint32_t *)(v->bar0 + UNM_IVSHMEM_DOORBELL),
		       (uint32_t)UNM_IVSHMEM_SERVER_ID << 16 | e);
	return 0;
}

/*
 * Start each kring where the CSB says the previous user of the port left
 * it (unmd resets the CSB for every new client, but a second program in
 * the same guest finds the rings as the first one left them).
 * untrusted: both indexes come from shared memory; out-of-range values
 * fall back to the ring's own.
 */
static void resync(struct unm_port *p, struct ivsh_priv *v)
{
	for (unsigned i = 0; i < p->n_tx + p->n_rx; i++) {
		struct unm_kring *kr = i < p->n_tx ? &p->tx[i] : &p->rx[i - p->n_tx];
		struct unm_csb *e = unm_csb_entry(&v->csb, kr);
		uint32_t head = UNM_READ_ONCE(e->a2h.head);
		uint32_t hwtail = UNM_READ_ONCE(e->h2a.hwtail);

		if (head < kr->nslots && hwtail < kr->nslots) {
			kr->hwcur = head;
			kr->hwtail = hwtail;
		}
		kr->ring->head = kr->ring->cur = kr->hwcur;
		kr->ring->tail = kr->hwtail;
	}
}

static int check_region(struct unm_port *p)
{
	const struct unm_region *reg = &p->reg;
	const struct unm_if *nifp;
	uint32_t ntx, nrx;

	if (reg->n_ifs != 1 || unm_region_hdr(reg)->kind != UNM_REGION_PORT)
		return unm_seterr(-EBADMSG, "%s: BAR2 holds no CSB port region", p->name);
	nifp = unm_region_if(reg, 0);
	ntx = UNM_READ_ONCE(*(const uint32_t *)&nifp->ni_tx_rings);
	nrx = UNM_READ_ONCE(*(const uint32_t *)&nifp->ni_rx_rings);
	if (ntx > UNM_MAX_RINGS || nrx > UNM_MAX_RINGS || reg->csb_entries < 2 * (ntx + nrx))
		return unm_seterr(-EBADMSG, "%s: %u CSB entries for %u/%u rings", p->name,
				  reg->csb_entries, ntx, nrx);
	return 0;
}

static int ivsh_setup(struct unm_port *p, struct ivsh_priv *v, const char *bdf)
{
	char err[256], *bar2;
	size_t len2;
	int rc;

	if ((rc = map_bar(bdf, "resource2", &bar2, &len2)))
		return rc;
	rc = unm_region_attach(bar2, len2, &p->reg, err, sizeof(err));
	if (rc) {
		munmap(bar2, len2);
		return unm_seterr(rc, "%s: region in BAR2 refused: %s", p->name, err);
	}
	if ((rc = check_region(p)) || (rc = unm_port_bind_rings(p, unm_region_if(&p->reg, 0))))
		return rc;
	if ((rc = map_bar(bdf, "resource0", &v->bar0, &v->bar0_len)))
		return rc;
	if (v->bar0_len < UNM_IVSHMEM_DOORBELL + 4)
		return unm_seterr(-ENODEV, "%s: BAR0 of %zu bytes has no doorbell", p->name,
				  v->bar0_len);
	v->peer_id = UNM_READ_ONCE(*(uint32_t *)(v->bar0 + UNM_IVSHMEM_IVPOSITION));
	/* entry 0 of a port region; the CSB uses two 64-byte entries per ring */
	v->csb.csb = unm_region_csb(&p->reg, 0);
	v->csb.n_tx = p->n_tx;
	v->csb.n_rx = p->n_rx;
	v->csb.kick = ivsh_kick;
	v->csb.alive = NULL;
	v->csb.arg = v;
	resync(p, v);
	return 0;
}

static int ivsh_open(struct unm_port *p, const struct unm_spec *s, const struct unm_open_opts *o)
{
	struct ivsh_priv *v;
	char bdf[64], path[512];
	int fd;

	(void)o; /* the geometry is the host's */
	/* sysfs names carry the PCI domain */
	snprintf(bdf, sizeof(bdf), "%s%.40s", strchr(s->path, ':') != strrchr(s->path, ':') ?
		 "" : "0000:", s->path);
	if (read_hex(bdf, "vendor") != UNM_IVSHMEM_VENDOR ||
	    read_hex(bdf, "device") != UNM_IVSHMEM_DEVICE)
		return unm_seterr(-ENODEV, "%s: no ivshmem device at %s", p->name, bdf);
	/* Memory decoding is off until something enables the device; no
	 * driver does it for us. Already enabled or not allowed: go on,
	 * the mmap below says whether it matters. */
	if (!dev_path(path, sizeof(path), bdf, "enable") &&
	    (fd = open(path, O_WRONLY | O_CLOEXEC)) >= 0) {
		if (write(fd, "1", 1) < 0) { /* nothing to do */ }
		close(fd);
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->priv = v;
	return ivsh_setup(p, v, bdf); /* on failure unm_open runs ivsh_close and the rest */
}

static void ivsh_close(struct unm_port *p)
{
	struct ivsh_priv *v = p->priv;

	if (!v)
		return;
	if (v->bar0)
		munmap(v->bar0, v->bar0_len);
	free(v);
	p->priv = NULL;
}

const struct unm_port_ops unm_ivshmem_ops = {
	.type = "ivshmem",
	.open = ivsh_open,
	.txsync = unm_csb_port_txsync,
	.rxsync = unm_csb_port_rxsync,
	.close = ivsh_close,
};
