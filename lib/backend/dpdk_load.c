// SPDX-License-Identifier: BSD-2-Clause
/*
 * dpdk_load.c - the "dpdk:DEVARGS" port type as libunm sees it: a loader.
 *
 * The port itself (lib/backend/dpdk.c) links DPDK's many libraries, so it is
 * built as a plugin, libunm-dpdk.so, when ./configure finds libdpdk; libunm
 * stays libc-only and loads the plugin with dlopen() the first time a dpdk:
 * name is opened. The plugin is built from the same tree, shares the private
 * structures of internal.h, and reaches libunm's hidden functions only
 * through the table below (its own copies would keep their own error
 * message and region code). UNM_DPDK_PLUGIN names another plugin file (the
 * build tree's, in tests).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "backend/dpdk.h"

#ifndef UNM_PLUGIN_DIR
#define UNM_PLUGIN_DIR "/usr/local/lib/unetmap"
#endif

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const struct unm_port_ops *plugin_ops;
static char load_err[320];

static const struct unm_dpdk_host host = {
	.abi = UNM_DPDK_ABI,
	.port_size = sizeof(struct unm_port),
	.seterr = unm_seterr,
	.create_self = unm_port_create_self,
	.now_ns = unm_now_ns,
	.vnet_parse = unm_vnet_parse,
	.vnet_encode = unm_vnet_hdr_encode,
	.csum_complete = unm_csum_complete,
};

/*
 * Where the plugin may be, in order: $UNM_DPDK_PLUGIN; beside the object
 * that holds this code (a build tree: unmd, the tools and the plugin share
 * $(B)/); DIR/unetmap/ when that object is libunm.so in DIR; DIR/../lib/
 * unetmap/ when it is a program in DIR (libunm linked statically); the
 * install's plugin directory.
 */
static void *try_open(char *tried, size_t tlen)
{
	const char *env = getenv("UNM_DPDK_PLUGIN");
	char dir[512], path[600];
	const char *subs[] = { "", "/unetmap", "/../lib/unetmap" };
	Dl_info di;
	void *h;

	/* RTLD_LOCAL: DPDK's symbols stay out of the application's namespace;
	 * RTLD_NODELETE: DPDK's EAL threads outlive any port, never unload. */
#define TRY(p)                                                                   \
	do {                                                                     \
		if ((h = dlopen((p), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)))    \
			return h;                                                \
		snprintf(tried, tlen, "%s", dlerror());                          \
	} while (0)
	if (env && *env) {
		TRY(env);
		return NULL;
	}
	/* the object holding this code, then the program (dladdr names a
	 * statically linked program as it was started, maybe without a '/') */
	for (unsigned k = 0; k < 2; k++) {
		char *slash;
		ssize_t n;

		if (k == 0) {
			if (!dladdr((void *)&unm_dpdk_ops, &di) || !di.dli_fname ||
			    di.dli_fname[0] != '/')
				continue;
			snprintf(dir, sizeof(dir), "%s", di.dli_fname);
		} else {
			if ((n = readlink("/proc/self/exe", dir, sizeof(dir) - 1)) <= 0)
				continue;
			dir[n] = '\0';
		}
		if (!(slash = strrchr(dir, '/')))
			continue;
		*slash = '\0';
		for (unsigned i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
			snprintf(path, sizeof(path), "%s%s/libunm-dpdk.so", dir, subs[i]);
			if (access(path, F_OK) == 0)
				TRY(path);
		}
	}
	TRY(UNM_PLUGIN_DIR "/libunm-dpdk.so");
#undef TRY
	return NULL;
}

static void load(void)
{
	const struct unm_port_ops *(*entry)(const struct unm_dpdk_host *);
	void *h = try_open(load_err, sizeof(load_err));

	if (!h)
		return;
	*(void **)&entry = dlsym(h, UNM_DPDK_ENTRY);
	if (!entry) {
		snprintf(load_err, sizeof(load_err), "the plugin has no %s", UNM_DPDK_ENTRY);
		return;
	}
	plugin_ops = entry(&host);
	if (!plugin_ops)
		snprintf(load_err, sizeof(load_err), "the plugin was built from another unetmap "
			 "tree (its ABI differs from this libunm's)");
}

static int dpdk_open(struct unm_port *p, const struct unm_spec *s, const struct unm_open_opts *o)
{
	pthread_once(&load_once, load);
	if (!plugin_ops)
		return unm_seterr(-EPROTONOSUPPORT, "dpdk: cannot load the DPDK plugin: %s "
				  "(libunm-dpdk.so is built when ./configure finds DPDK: apt-get "
				  "install dpdk-dev; UNM_DPDK_PLUGIN names the file)", load_err);
	/* from here on the port is the plugin's: unm_close calls its close */
	p->ops = plugin_ops;
	return plugin_ops->open(p, s, o);
}

const struct unm_port_ops unm_dpdk_ops = {
	.type = "dpdk",
	.open = dpdk_open,
};
