/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpcd framing: the card is a TCP client of the vpcd driver inside
 * pcscd.  Every message is a 2-byte big-endian length and a payload; a
 * 1-byte payload is a control message (power off/on, reset, get ATR).
 */

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "app.h"

/* One connection attempt; -1 if vpcd is not (yet) listening. */
int
vpcd_connect(const char *host, uint16_t port)
{
	struct sockaddr_in	sin;
	int			fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		return (-1);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return (-1);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(fd);
		return (-1);
	}
	return (fd);
}

static int
recv_all(int fd, uint8_t *p, size_t n)
{
	ssize_t	r;

	while (n > 0) {
		r = recv(fd, p, n, MSG_WAITALL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return (-1);
		p += r;
		n -= (size_t)r;
	}
	return (0);
}

/* One frame; -1 when vpcd closed the connection or the frame is too big. */
int
vpcd_recv(int fd, uint8_t *buf, size_t cap, size_t *len)
{
	uint8_t	h[2];
	size_t	n;

	if (recv_all(fd, h, 2) != 0)
		return (-1);
	n = ((size_t)h[0] << 8) | h[1];
	if (n > cap || recv_all(fd, buf, n) != 0)
		return (-1);
	*len = n;
	return (0);
}

int
vpcd_send(int fd, const uint8_t *p, size_t n)
{
	uint8_t	frame[2 + 65535];
	size_t	off = 0;
	ssize_t	r;

	if (n == 0 || n > 65535)
		return (-1);
	frame[0] = (uint8_t)(n >> 8);
	frame[1] = (uint8_t)n;
	memcpy(frame + 2, p, n);
	n += 2;
	while (off < n) {
		r = send(fd, frame + off, n - off, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return (-1);
		off += (size_t)r;
	}
	return (0);
}
