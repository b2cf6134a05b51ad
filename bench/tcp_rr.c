// SPDX-License-Identifier: BSD-2-Clause
/*
 * tcp_rr.c - TCP request/response rate through the kernel's sockets (for
 * bench/stack.sh): "tcp_rr -s PORT" is an echo server (one connection at a
 * time, TCP_NODELAY); "tcp_rr -c ADDR -p PORT -t SECS -l LEN" sends LEN
 * bytes, waits for the LEN bytes echoed back, and repeats for SECS seconds
 * on one connection, then prints "rate=<transactions per second>".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int full(int fd, char *b, size_t n, int wr)
{
	while (n) {
		ssize_t r = wr ? write(fd, b, n) : read(fd, b, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static int serve(int port)
{
	int one = 1, l = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 16)) {
		perror("tcp_rr: bind/listen");
		return 1;
	}
	for (;;) {
		int c = accept(l, NULL, NULL);
		if (c < 0)
			continue;
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		char b[65536];
		ssize_t r;
		while ((r = read(c, b, sizeof(b))) > 0)
			if (full(c, b, (size_t)r, 1))
				break;
		close(c);
	}
}

int main(int argc, char **argv)
{
	const char *addr = NULL;
	int port = 7, opt, one = 1;
	double secs = 2;
	size_t len = 64;

	while ((opt = getopt(argc, argv, "s:c:p:t:l:h")) != -1) {
		switch (opt) {
		case 's': return serve(atoi(optarg));
		case 'c': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'l': len = (size_t)atol(optarg); break;
		default:
			fprintf(stderr, "usage: tcp_rr -s PORT | -c ADDR [-p PORT] [-t SECS] [-l LEN]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!addr || len == 0 || len > 65536) {
		fprintf(stderr, "usage: tcp_rr -s PORT | -c ADDR [-p PORT] [-t SECS] [-l LEN]\n");
		return 2;
	}
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1)
		return 2;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("tcp_rr: connect");
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	char *b = calloc(1, len);
	unsigned long n = 0;
	double t0 = now(), end = t0 + secs, t;
	do {
		if (full(fd, b, len, 1) || full(fd, b, len, 0)) {
			fprintf(stderr, "tcp_rr: connection lost after %lu transactions\n", n);
			return 1;
		}
		n++;
	} while ((n & 15) || (t = now()) < end);
	printf("transactions=%lu secs=%.3f rate=%.0f\n", n, t - t0, (double)n / (t - t0));
	close(fd);
	free(b);
	return 0;
}
