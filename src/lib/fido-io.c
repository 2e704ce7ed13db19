/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libfido2 custom I/O: hidraw and HID-over-UDP reports, with KEEPALIVE
 * watching and cancellation.  See fido-io.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fido-io.h"

#define CTAPHID_INIT_BIT	0x80
#define CTAPHID_CBOR		0x90
#define CTAPHID_CANCEL		0x91
#define CTAPHID_KEEPALIVE	0xbb
#define CTAP_CBOR_GETINFO	0x04
/* getInfo replies are small; a YubiKey's is about 250 bytes. */
#define INFO_MAX		2048
#define KEEPALIVE_UPNEEDED	2
/* Poll slice: how quickly Ctrl-C reaches the token. */
#define SLICE_MS		100
/* hidraw is shared with other FIDO clients: wait for it a little. */
#define FLOCK_TRIES		10

struct handle {
	int			 fd;
	int			 udp;
	const struct ykssh_ctx	*ctx;
	ykssh_fido_io_touch_fn	*touch;
	void			*touch_arg;
	int			 touched;
	int			 cancel_sent;
	int			 silence_ms;	/* 0: no watchdog */
	uint8_t			 cid[4];	/* channel of the last request */
	unsigned long		 requests;
	unsigned long		 ctap[256];
	/* capture of the getInfo reply libfido2 asks for when opening */
	int			 info_capturing;
	size_t			 info_total;
	size_t			 info_len;
	uint8_t			 info_seq;
	uint8_t			 info_buf[INFO_MAX];
	struct ykssh_fido_info	 info;
};

int
ykssh_fido_io_is_udp(const char *path)
{
	return path != NULL && strncmp(path, YKSSH_FIDO_IO_UDP_PREFIX,
	    strlen(YKSSH_FIDO_IO_UDP_PREFIX)) == 0;
}

static int
parse_port(const char *s, size_t len, unsigned *port, int allow_zero)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535 || (v == 0 && !allow_zero))
		return -1;
	*port = (unsigned)v;
	return 0;
}

int
ykssh_fido_io_parse_udp(const char *path, char *host, size_t hostlen,
    unsigned *port, unsigned *local_port)
{
	const char *p, *colon, *q;
	size_t hl;

	if (!ykssh_fido_io_is_udp(path))
		return -1;
	p = path + strlen(YKSSH_FIDO_IO_UDP_PREFIX);
	q = strchr(p, '?');
	if ((colon = memchr(p, ':', q != NULL ? (size_t)(q - p) :
	    strlen(p))) == NULL)
		return -1;
	hl = (size_t)(colon - p);
	if (hl == 0 || hl >= hostlen)
		return -1;
	memcpy(host, p, hl);
	host[hl] = '\0';
	if (parse_port(colon + 1, q != NULL ? (size_t)(q - colon - 1) :
	    strlen(colon + 1), port, 0) != 0)
		return -1;
	*local_port = YKSSH_FIDO_IO_UDP_LOCAL_PORT;
	if (q != NULL) {
		if (strncmp(q, "?local=", 7) != 0 ||
		    parse_port(q + 7, strlen(q + 7), local_port, 1) != 0)
			return -1;
	}
	return 0;
}

static int
open_udp(const char *path)
{
	char host[INET_ADDRSTRLEN];
	struct sockaddr_in peer, local;
	unsigned port, lport;
	int fd, saved;

	if (ykssh_fido_io_parse_udp(path, host, sizeof(host), &port,
	    &lport) != 0) {
		errno = EINVAL;
		return -1;
	}
	memset(&peer, 0, sizeof(peer));
	peer.sin_family = AF_INET;
	peer.sin_port = htons((uint16_t)port);
	if (strcmp(host, "localhost") == 0)
		peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &peer.sin_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	memset(&local, 0, sizeof(local));
	local.sin_family = AF_INET;
	local.sin_port = htons((uint16_t)lport);
	local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0 ||
	    connect(fd, (struct sockaddr *)&peer, sizeof(peer)) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int
open_hidraw(const char *path)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	int fd, i, saved;

	if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY)) < 0)
		return -1;
	for (i = 0; i < FLOCK_TRIES; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK)
			break;
		nanosleep(&ts, NULL);
	}
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static void *
io_open(const char *path)
{
	struct handle *h;
	int fd;

	if (path == NULL) {
		errno = EINVAL;
		return NULL;
	}
	fd = ykssh_fido_io_is_udp(path) ? open_udp(path) : open_hidraw(path);
	if (fd < 0)
		return NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		close(fd);
		return NULL;
	}
	h->fd = fd;
	h->udp = ykssh_fido_io_is_udp(path);
	/* Until attached: INIT and getInfo of fido_dev_open are bounded. */
	h->silence_ms = YKSSH_FIDO_IO_OPEN_SILENCE_MS;
	memset(h->cid, 0xff, sizeof(h->cid));
	return h;
}

static void
io_close(void *handle)
{
	struct handle *h = handle;

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

static int
send_report(struct handle *h, const uint8_t report[YKSSH_FIDO_IO_REPORT_LEN])
{
	uint8_t buf[YKSSH_FIDO_IO_REPORT_LEN + 1];
	ssize_t n;

	if (h->udp)
		n = send(h->fd, report, YKSSH_FIDO_IO_REPORT_LEN, 0);
	else {
		buf[0] = 0;	/* report id */
		memcpy(buf + 1, report, YKSSH_FIDO_IO_REPORT_LEN);
		n = write(h->fd, buf, sizeof(buf));
	}
	return n < 0 ? -1 : 0;
}

static void
send_cancel(struct handle *h)
{
	uint8_t report[YKSSH_FIDO_IO_REPORT_LEN];

	memset(report, 0, sizeof(report));
	memcpy(report, h->cid, sizeof(h->cid));
	report[4] = CTAPHID_CANCEL;
	if (send_report(h, report) == 0)
		ykssh_debug(h->ctx, "sent CTAPHID_CANCEL");
	h->cancel_sent = 1;
}

/* Collects the getInfo reply as libfido2 receives it. */
static void
capture_info(struct handle *h, const uint8_t *r)
{
	size_t n;

	if ((r[4] & CTAPHID_INIT_BIT) != 0) {
		if (r[4] != CTAPHID_CBOR)
			return;
		h->info_total = ((size_t)r[5] << 8) | r[6];
		if (h->info_total == 0 || h->info_total > INFO_MAX) {
			h->info_capturing = 0;
			return;
		}
		n = h->info_total < 57 ? h->info_total : 57;
		memcpy(h->info_buf, r + 7, n);
		h->info_len = n;
		h->info_seq = 0;
	} else {
		if (h->info_len == 0 || r[4] != h->info_seq++) {
			h->info_capturing = 0;
			return;
		}
		n = h->info_total - h->info_len < 59 ?
		    h->info_total - h->info_len : 59;
		memcpy(h->info_buf + h->info_len, r + 5, n);
		h->info_len += n;
	}
	if (h->info_len == h->info_total) {
		h->info_capturing = 0;
		if (ykssh_fido_info_parse(h->info_buf, h->info_len,
		    &h->info) != 0)
			memset(&h->info, 0, sizeof(h->info));
	}
}

static void
watch(struct handle *h, const uint8_t *r)
{
	if (memcmp(r, h->cid, 4) != 0)
		return;
	if (h->info_capturing && r[4] != CTAPHID_KEEPALIVE)
		capture_info(h, r);
	if (r[4] != CTAPHID_KEEPALIVE)
		return;
	if (r[7] == KEEPALIVE_UPNEEDED && !h->touched) {
		h->touched = 1;
		ykssh_debug(h->ctx, "token waits for user presence");
		if (h->touch != NULL)
			h->touch(h->touch_arg);
	}
}

static int
io_read(void *handle, unsigned char *buf, size_t len, int ms)
{
	struct handle *h = handle;
	struct pollfd pfd;
	int64_t deadline = ms < 0 ? INT64_MAX : mono_ms() + ms, now;
	int64_t quiet_until;
	uint8_t pkt[YKSSH_FIDO_IO_REPORT_LEN + 1];
	ssize_t n;
	int rc, slice;

	if (h == NULL || buf == NULL || len < YKSSH_FIDO_IO_REPORT_LEN) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * A token that works on a request answers or sends KEEPALIVE every
	 * ~100 ms; one silent for silence_ms is gone (a UDP token gives no
	 * other sign of being unplugged).
	 */
	quiet_until = h->silence_ms > 0 ? mono_ms() + h->silence_ms :
	    INT64_MAX;
	for (;;) {
		if (ykssh_ctx_cancelled(h->ctx) && !h->cancel_sent)
			send_cancel(h);
		now = mono_ms();
		if (now >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (now >= quiet_until) {
			ykssh_debug(h->ctx, "token silent for %d ms",
			    h->silence_ms);
			errno = ENODEV;
			return -1;
		}
		slice = deadline - now > SLICE_MS ? SLICE_MS :
		    (int)(deadline - now);
		pfd.fd = h->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if ((rc = poll(&pfd, 1, slice)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (rc == 0)
			continue;
		if ((pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0 &&
		    (pfd.revents & POLLIN) == 0) {
			errno = ENODEV;
			return -1;
		}
		if (h->udp)
			n = recv(h->fd, pkt, sizeof(pkt), 0);
		else
			n = read(h->fd, pkt, sizeof(pkt));
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			/* UDP: nobody listens on the token's port. */
			if (errno == ECONNREFUSED)
				errno = ENODEV;
			return -1;
		}
		/* Only whole reports are CTAPHID. */
		if (n != YKSSH_FIDO_IO_REPORT_LEN)
			continue;
		watch(h, pkt);
		memcpy(buf, pkt, YKSSH_FIDO_IO_REPORT_LEN);
		return YKSSH_FIDO_IO_REPORT_LEN;
	}
}

static int
io_write(void *handle, const unsigned char *buf, size_t len)
{
	struct handle *h = handle;

	/* libfido2 passes the report id first, then the 64-byte report. */
	if (h == NULL || buf == NULL || len != YKSSH_FIDO_IO_REPORT_LEN + 1) {
		errno = EINVAL;
		return -1;
	}
	if ((buf[5] & CTAPHID_INIT_BIT) != 0) {
		memcpy(h->cid, buf + 1, sizeof(h->cid));
		h->requests++;
		h->info_capturing = 0;
		if (buf[5] == CTAPHID_CBOR) {
			h->ctap[buf[8]]++;
			if (buf[8] == CTAP_CBOR_GETINFO) {
				h->info_capturing = 1;
				h->info_len = 0;
			}
		}
	}
	if (send_report(h, buf + 1) != 0)
		return -1;
	return (int)len;
}

void
ykssh_fido_io_functions(fido_dev_io_t *io)
{
	memset(io, 0, sizeof(*io));
	io->open = io_open;
	io->close = io_close;
	io->read = io_read;
	io->write = io_write;
}

void
ykssh_fido_io_attach(void *handle, const struct ykssh_ctx *ctx,
    int silence_ms, ykssh_fido_io_touch_fn *touch, void *touch_arg)
{
	struct handle *h = handle;

	h->ctx = ctx;
	h->silence_ms = silence_ms;
	h->touch = touch;
	h->touch_arg = touch_arg;
}

void
ykssh_fido_io_rearm_touch(void *handle)
{
	struct handle *h = handle;

	h->touched = 0;
	h->cancel_sent = 0;
}

const struct ykssh_fido_info *
ykssh_fido_io_info(const void *handle)
{
	const struct handle *h = handle;

	return &h->info;
}

unsigned long
ykssh_fido_io_requests(const void *handle)
{
	const struct handle *h = handle;

	return h->requests;
}

unsigned long
ykssh_fido_io_ctap_commands(const void *handle, unsigned cmd)
{
	const struct handle *h = handle;

	return cmd < 256 ? h->ctap[cmd] : 0;
}
