/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libfido2 custom I/O over UDP; see udp_io.h.  Library-grade: no output,
 * no exit, errno preserved for the caller.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "udp_io.h"

#define UDP_REPORT_LEN	64

struct udp_handle {
	int	fd;
};

static int
parse_path(const char *path, struct sockaddr_in *sa)
{
	char host[INET_ADDRSTRLEN];
	const char *p, *colon;
	char *end;
	unsigned long port;
	size_t hl;

	if (path == NULL || strncmp(path, YKSSH_UDP_PREFIX,
	    strlen(YKSSH_UDP_PREFIX)) != 0)
		return -1;
	p = path + strlen(YKSSH_UDP_PREFIX);
	if ((colon = strrchr(p, ':')) == NULL)
		return -1;
	hl = (size_t)(colon - p);
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, p, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || port == 0 ||
	    port > 65535)
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -1;
	return 0;
}

void *
ykssh_udp_open(const char *path)
{
	struct udp_handle *h = NULL;
	struct sockaddr_in peer, local;
	int fd = -1, saved;

	if (parse_path(path, &peer) < 0) {
		errno = EINVAL;
		return NULL;
	}
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	memset(&local, 0, sizeof(local));
	local.sin_family = AF_INET;
	local.sin_port = 0;	/* ephemeral: never the simulators' 7112 */
	local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0 ||
	    connect(fd, (struct sockaddr *)&peer, sizeof(peer)) < 0)
		goto fail;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		goto fail;
	h->fd = fd;
	return h;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	errno = saved;
	return NULL;
}

void
ykssh_udp_close(void *handle)
{
	struct udp_handle *h = handle;

	if (h == NULL)
		return;
	close(h->fd);
	free(h);
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
ykssh_udp_read(void *handle, unsigned char *buf, size_t len, int ms)
{
	struct udp_handle *h = handle;
	struct pollfd pfd;
	int64_t deadline = ms < 0 ? 0 : mono_ms() + ms, left;
	unsigned char pkt[UDP_REPORT_LEN + 1];
	ssize_t n;
	int rc, wait;

	if (h == NULL || buf == NULL || len < UDP_REPORT_LEN) {
		errno = EINVAL;
		return -1;
	}
	for (;;) {
		if (ms < 0)
			wait = -1;
		else {
			left = deadline - mono_ms();
			wait = left < 0 ? 0 : left > INT_MAX ? INT_MAX :
			    (int)left;
		}
		pfd.fd = h->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if ((rc = poll(&pfd, 1, wait)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (rc == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if ((n = recv(h->fd, pkt, sizeof(pkt), 0)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		/* Anything but a whole report is not CTAPHID: skip it. */
		if (n != UDP_REPORT_LEN)
			continue;
		memcpy(buf, pkt, UDP_REPORT_LEN);
		return UDP_REPORT_LEN;
	}
}

int
ykssh_udp_write(void *handle, const unsigned char *buf, size_t len)
{
	struct udp_handle *h = handle;
	ssize_t n;

	/* libfido2 passes the HID report id first: send the 64 after it. */
	if (h == NULL || buf == NULL || len != UDP_REPORT_LEN + 1) {
		errno = EINVAL;
		return -1;
	}
	if ((n = send(h->fd, buf + 1, UDP_REPORT_LEN, 0)) != UDP_REPORT_LEN)
		return -1;
	return (int)len;
}

void
ykssh_udp_io(fido_dev_io_t *io)
{
	memset(io, 0, sizeof(*io));
	io->open = ykssh_udp_open;
	io->close = ykssh_udp_close;
	io->read = ykssh_udp_read;
	io->write = ykssh_udp_write;
}
