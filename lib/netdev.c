// SPDX-License-Identifier: BSD-2-Clause
/*
 * netdev.c - what the backends that sit on a kernel interface (tap,
 * afpacket, afxdp) ask the kernel about it: MTU and MAC address. Any
 * socket answers SIOCGIF*; failures are not fatal to the callers, which
 * keep their defaults.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "internal.h"

int unm_netdev_query(const char *ifname, int sock, unsigned *mtu, uint8_t mac[6])
{
	struct ifreq ifr;
	int s = sock, rc = 0;

	if (s < 0)
		s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) /* no IPv4 in this namespace/sandbox: any family answers */
		s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
		*mtu = (unsigned)ifr.ifr_mtu;
	else
		rc = -errno;
	if (ioctl(s, SIOCGIFHWADDR, &ifr) == 0)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	else if (!rc)
		rc = -errno;
	if (s != sock)
		close(s);
	return rc;
}
