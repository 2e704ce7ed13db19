/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Control channel: a Unix-domain stream socket; one text line per
 * command, one reply line per command.
 *
 *   touch approve|deny|never|delay MS   -> ok
 *   touch-timeout MS                    -> ok
 *   fault pull-after N                  -> ok
 *   stats                               -> {JSON}
 *   quit                                -> ok (then the card exits)
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"

int
ctl_listen(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return (-1);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	(void)unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return (-1);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chmod(path, 0600) != 0 || listen(fd, 8) != 0) {
		close(fd);
		return (-1);
	}
	return (fd);
}

void
ctl_close(struct app *a)
{
	size_t	i;

	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (a->cfd[i] >= 0) {
			close(a->cfd[i]);
			a->cfd[i] = -1;
		}
	if (a->lfd >= 0) {
		close(a->lfd);
		a->lfd = -1;
		(void)unlink(a->ctl_path);
	}
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char	*ep;

	if (*s < '0' || *s > '9')
		return (-1);
	errno = 0;
	*v = strtoul(s, &ep, 10);
	if (errno != 0 || *ep != '\0' || *v > max)
		return (-1);
	return (0);
}

/* "approve", "deny", "never", "delay MS" (also "delay:MS"). */
int
parse_touch(struct app *a, const char *s)
{
	unsigned long	v;

	if (strcmp(s, "approve") == 0)
		a->touch_mode = TOUCH_MODE_APPROVE;
	else if (strcmp(s, "deny") == 0)
		a->touch_mode = TOUCH_MODE_DENY;
	else if (strcmp(s, "never") == 0)
		a->touch_mode = TOUCH_MODE_NEVER;
	else if (strncmp(s, "delay", 5) == 0 && (s[5] == ' ' || s[5] == ':')
	    && parse_uint(s + 6, 600000, &v) == 0) {
		a->touch_mode = TOUCH_MODE_DELAY;
		a->touch_delay_ms = (unsigned int)v;
	} else
		return (-1);
	return (0);
}

static void
stats_json(const struct app *a, char *out, size_t cap)
{
	const struct pivsim_stats *st = pivsim_stats(a->card);
	size_t	n;
	int	i, first = 1, w;

	w = snprintf(out, cap, "{\"connected\":%s,\"powered\":%s,"
	    "\"connects\":%u,\"atr_polls\":%u,\"pulls\":%u,\"apdus\":%u,"
	    "\"touches\":%u,\"touches_failed\":%u,\"ins\":{",
	    a->vfd >= 0 ? "true" : "false", a->powered ? "true" : "false",
	    a->connects, a->atr_polls, a->pulls, st->apdus, st->touches,
	    st->touches_failed);
	if (w < 0 || (size_t)w >= cap)
		goto trunc;
	n = (size_t)w;
	for (i = 0; i < 256; i++) {
		if (st->ins[i] == 0)
			continue;
		w = snprintf(out + n, cap - n, "%s\"%02x\":%u",
		    first ? "" : ",", i, st->ins[i]);
		if (w < 0 || (size_t)w >= cap - n)
			goto trunc;
		n += (size_t)w;
		first = 0;
	}
	w = snprintf(out + n, cap - n, "}}");
	if (w < 0 || (size_t)w >= cap - n)
		goto trunc;
	return;
trunc:
	(void)snprintf(out, cap, "error stats too long");
}

static void
command(struct app *a, char *line, char *reply, size_t cap)
{
	unsigned long	v;

	(void)snprintf(reply, cap, "ok");
	if (strncmp(line, "touch ", 6) == 0) {
		if (parse_touch(a, line + 6) != 0)
			(void)snprintf(reply, cap, "error bad touch mode");
	} else if (strncmp(line, "touch-timeout ", 14) == 0) {
		if (parse_uint(line + 14, 600000, &v) != 0)
			(void)snprintf(reply, cap, "error bad timeout");
		else
			a->touch_timeout_ms = (unsigned int)v;
	} else if (strncmp(line, "fault pull-after ", 17) == 0) {
		if (parse_uint(line + 17, LONG_MAX, &v) != 0)
			(void)snprintf(reply, cap, "error bad count");
		else
			a->fault_after = (long)v;
	} else if (strcmp(line, "stats") == 0) {
		stats_json(a, reply, cap);
	} else if (strcmp(line, "quit") == 0) {
		a->quit = 1;
	} else
		(void)snprintf(reply, cap, "error unknown command");
}

static void
client_read(struct app *a, size_t i)
{
	char	 reply[4096], *nl;
	size_t	 l;
	ssize_t	 r;

	r = read(a->cfd[i], a->cbuf[i] + a->clen[i],
	    CTL_LINE_MAX - 1 - a->clen[i]);
	if (r <= 0) {
		close(a->cfd[i]);
		a->cfd[i] = -1;
		a->clen[i] = 0;
		return;
	}
	a->clen[i] += (size_t)r;
	a->cbuf[i][a->clen[i]] = '\0';
	while ((nl = strchr(a->cbuf[i], '\n')) != NULL) {
		*nl = '\0';
		if (nl > a->cbuf[i] && nl[-1] == '\r')
			nl[-1] = '\0';
		command(a, a->cbuf[i], reply, sizeof(reply) - 1);
		l = strlen(reply);
		reply[l++] = '\n';
		if (send(a->cfd[i], reply, l, MSG_NOSIGNAL) != (ssize_t)l) {
			close(a->cfd[i]);
			a->cfd[i] = -1;
			a->clen[i] = 0;
			return;
		}
		l = (size_t)(nl + 1 - a->cbuf[i]);
		memmove(a->cbuf[i], nl + 1, a->clen[i] - l + 1);
		a->clen[i] -= l;
	}
	if (a->clen[i] == CTL_LINE_MAX - 1) {	/* overlong line */
		close(a->cfd[i]);
		a->cfd[i] = -1;
		a->clen[i] = 0;
	}
}

/*
 * Wait up to ms for the control channel (and for extra, if >= 0).
 * Returns 1 when extra is readable, 0 otherwise.
 */
int
ctl_poll(struct app *a, int ms, int extra)
{
	struct pollfd	pfd[2 + CTL_MAX_CLIENTS];
	size_t		i, n = 0, first_client;
	int		fd, ready = 0;

	if (extra >= 0) {
		pfd[n].fd = extra;
		pfd[n++].events = POLLIN;
	}
	if (a->lfd >= 0) {
		pfd[n].fd = a->lfd;
		pfd[n++].events = POLLIN;
	}
	first_client = n;
	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		pfd[n].fd = a->cfd[i];	/* negative fds are ignored */
		pfd[n++].events = POLLIN;
	}
	if (poll(pfd, n, ms) <= 0)
		return (0);
	if (extra >= 0 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
		ready = 1;
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (a->cfd[i] >= 0 &&
		    (pfd[first_client + i].revents & (POLLIN | POLLHUP)))
			client_read(a, i);
	if (a->lfd >= 0 && (pfd[first_client - 1].revents & POLLIN) &&
	    (fd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		for (i = 0; i < CTL_MAX_CLIENTS && a->cfd[i] >= 0; i++)
			;
		if (i == CTL_MAX_CLIENTS)
			close(fd);
		else {
			a->cfd[i] = fd;
			a->clen[i] = 0;
		}
	}
	return (ready);
}
