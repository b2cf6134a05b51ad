// SPDX-License-Identifier: BSD-2-Clause
/*
 * unm-netmap-run - run a program built against netmap's own headers over
 * unetmap: exec it with unm-netmap-preload.so in LD_PRELOAD, which serves
 * open("/dev/netmap"), ioctl, mmap, poll and close on netmap descriptors
 * (see unm-netmap(7)). Exit status: the program's; 2 usage error, 1 when
 * the shim is missing or the program cannot be started.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <unm.h>

#define SHIM "unm-netmap-preload.so"

static const char usage_text[] =
"Usage: unm-netmap-run [OPTIONS] [--] CMD [ARGS...]\n"
"Run CMD, a program built against netmap's headers (it opens /dev/netmap,\n"
"issues NIOCCTRL or NIOCREGIF, mmaps and polls), unchanged over unetmap.\n"
"Port names keep netmap's spelling: valeX:Y (VALE port of unmd),\n"
"netmap:NAME{N / netmap:NAME}N (pipes), netmap:IF (host interface IF).\n"
"\n"
"Options:\n"
"  -b, --backend afxdp|afpacket  how netmap:IF opens interfaces (sets\n"
"                                UNM_NETMAP_BACKEND; default: AF_XDP where it\n"
"                                binds, else AF_PACKET)\n"
"  -s, --socket PATH             unmd socket for VALE ports (sets UNM_SOCKET)\n"
"  -q, --quiet                   do not print why a netmap request failed\n"
"                                (sets UNM_NETMAP_QUIET)\n"
"  -p, --preload PATH            the shim to preload (default: $UNM_NETMAP_PRELOAD,\n"
"                                then ../lib/unetmap/" SHIM " next to this\n"
"                                program, then " SHIM " beside it)\n"
"  -v, --verbose                 print the shim path and the command\n"
"  -h, --help                    this text\n"
"      --version                 print the version of libunm and exit\n"
"\n"
"Static binaries and programs that call the system directly (syscall(2))\n"
"cannot be served. See unm-netmap-run(8) and unm-netmap(7).\n";

static int find_shim(char *out, size_t len)
{
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *env = getenv("UNM_NETMAP_PRELOAD");

	if (env && *env) {
		if ((size_t)snprintf(out, len, "%s", env) >= len)
			return -1;
		return access(out, R_OK);
	}
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	if ((size_t)snprintf(out, len, "%s/../lib/unetmap/" SHIM, exe) < len &&
	    access(out, R_OK) == 0)
		return 0;
	if ((size_t)snprintf(out, len, "%s/" SHIM, exe) >= len)
		return -1;
	return access(out, R_OK);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "socket", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "preload", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char shim[PATH_MAX], *pre = NULL;
	const char *old;
	int c, verbose = 0;

	shim[0] = '\0';
	/* '+': options after CMD belong to CMD */
	while ((c = getopt_long(argc, argv, "+b:s:qp:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (strcmp(optarg, "afxdp") && strcmp(optarg, "afpacket")) {
				fprintf(stderr, "unm-netmap-run: --backend: afxdp or afpacket\n");
				return 2;
			}
			setenv("UNM_NETMAP_BACKEND", optarg, 1);
			break;
		case 's':
			setenv("UNM_SOCKET", optarg, 1);
			break;
		case 'q':
			setenv("UNM_NETMAP_QUIET", "1", 1);
			break;
		case 'p':
			if ((size_t)snprintf(shim, sizeof(shim), "%s", optarg) >= sizeof(shim)) {
				fprintf(stderr, "unm-netmap-run: --preload: path too long\n");
				return 2;
			}
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("unm-netmap-run (libunm %s)\n", unm_version());
			return 0;
		default:
			fprintf(stderr, "Try 'unm-netmap-run --help' for more information.\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "unm-netmap-run: no command\n"
			"Try 'unm-netmap-run --help' for more information.\n");
		return 2;
	}
	if (shim[0] ? access(shim, R_OK) : find_shim(shim, sizeof(shim))) {
		fprintf(stderr, "unm-netmap-run: cannot find %s%s%s (set UNM_NETMAP_PRELOAD "
			"or --preload)\n", SHIM, shim[0] ? ": tried " : "", shim);
		return 1;
	}
	old = getenv("LD_PRELOAD");
	if (asprintf(&pre, "%s%s%s", shim, old && *old ? " " : "", old ? old : "") < 0) {
		perror("unm-netmap-run");
		return 1;
	}
	setenv("LD_PRELOAD", pre, 1);
	if (verbose)
		fprintf(stderr, "unm-netmap-run: LD_PRELOAD=%s %s\n", pre, argv[optind]);
	execvp(argv[optind], argv + optind);
	fprintf(stderr, "unm-netmap-run: %s: %s\n", argv[optind], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
