/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fidosim: the software FIDO2 token on HID-over-UDP.
 *
 * One 64-byte CTAPHID report per datagram, no report-id byte.  Replies go to
 * the address that last spoke on the reply's channel.  A Unix-domain control
 * socket takes one text command per line and answers one line.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fidosim.h"

#define MAX_PEERS	64
#define MAX_CTL		8
#define CTL_LINE	256

struct peer {
	uint32_t		cid;
	struct sockaddr_in	addr;
	unsigned long		used;
};

struct ctl_client {
	int	fd;
	size_t	len;
	char	buf[CTL_LINE];
};

struct app {
	int			udp;
	int			ctl;
	struct ctl_client	clients[MAX_CTL];
	struct fidosim		*tok;
	struct peer		peers[MAX_PEERS];
	unsigned long		tick;
	struct sockaddr_in	last;
	int			have_last;
	int			in_feed;
	int			quit;
};

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	(void)sig;
	got_signal = 1;
}

static uint64_t
clock_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint32_t
report_cid(const uint8_t *r)
{
	return (uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 |
	    (uint32_t)r[2] << 8 | r[3];
}

static void
remember_peer(struct app *app, uint32_t cid, const struct sockaddr_in *sa)
{
	struct peer *victim = &app->peers[0];
	size_t i;

	app->tick++;
	for (i = 0; i < MAX_PEERS; i++) {
		if (app->peers[i].used && app->peers[i].cid == cid) {
			app->peers[i].addr = *sa;
			app->peers[i].used = app->tick;
			return;
		}
		if (app->peers[i].used < victim->used)
			victim = &app->peers[i];
	}
	victim->cid = cid;
	victim->addr = *sa;
	victim->used = app->tick;
}

static void
send_report(void *arg, const uint8_t *report)
{
	struct app *app = arg;
	const struct sockaddr_in *to = app->have_last ? &app->last : NULL;
	uint32_t cid = report_cid(report);
	size_t i;

	/*
	 * A reply made while a report is being fed answers that report's
	 * sender; later ones (KEEPALIVE, the answer after a touch, timeouts)
	 * go to whoever last spoke on the channel.
	 */
	for (i = 0; !app->in_feed && i < MAX_PEERS; i++)
		if (app->peers[i].used && app->peers[i].cid == cid) {
			to = &app->peers[i].addr;
			break;
		}
	if (to == NULL)
		return;
	if (sendto(app->udp, report, FIDOSIM_REPORT_LEN, 0,
	    (const struct sockaddr *)to, sizeof(*to)) < 0)
		fprintf(stderr, "fidosim: sendto: %s\n", strerror(errno));
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s == NULL || *s == '\0' || *s == '-')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "approve" | "deny" | "never" | "delay MS" (also "delay:MS"). */
static int
parse_up(const char *mode, const char *arg, enum fidosim_up_mode *m,
    unsigned *delay)
{
	unsigned long v = 0;

	*delay = 0;
	if (strcmp(mode, "approve") == 0)
		*m = FIDOSIM_UP_APPROVE;
	else if (strcmp(mode, "deny") == 0)
		*m = FIDOSIM_UP_DENY;
	else if (strcmp(mode, "never") == 0)
		*m = FIDOSIM_UP_NEVER;
	else if (strcmp(mode, "delay") == 0) {
		if (parse_uint(arg, 600000, &v) < 0)
			return -1;
		*m = FIDOSIM_UP_DELAY;
		*delay = (unsigned)v;
		return 0;
	} else
		return -1;
	return arg == NULL ? 0 : -1;
}

static void
stats_json(struct app *app, char *out, size_t len)
{
	struct fidosim_stats st;
	size_t off = 0;
	int i, n;

	fidosim_get_stats(app->tok, &st);
	n = snprintf(out, len, "{\"ctap\":{");
	off = n > 0 ? (size_t)n : 0;
	for (i = 0; i < FIDOSIM_CK_COUNT && off < len; i++) {
		n = snprintf(out + off, len - off, "%s\"%s\":%lu",
		    i ? "," : "", fidosim_ctap_kind_name(i), st.ctap[i]);
		off += n > 0 ? (size_t)n : 0;
	}
	if (off < len)
		snprintf(out + off, len - off, "},\"reports_in\":%lu,"
		    "\"reports_out\":%lu,\"keepalives\":%lu,\"touches\":%lu,"
		    "\"hid_errors\":%lu}", st.reports_in, st.reports_out,
		    st.keepalives, st.touches, st.hid_errors);
}

static void
control_command(struct app *app, char *line, char *reply, size_t len)
{
	char *argv[4] = { NULL, NULL, NULL, NULL };
	char *save = NULL, *t;
	enum fidosim_up_mode m;
	unsigned long v;
	unsigned delay;
	int argc = 0;

	for (t = strtok_r(line, " \t\r", &save); t != NULL && argc < 4;
	    t = strtok_r(NULL, " \t\r", &save))
		argv[argc++] = t;
	snprintf(reply, len, "OK");
	if (argc == 0 || t != NULL)
		goto bad;
	if (strcmp(argv[0], "up") == 0 && argc >= 2) {
		if (parse_up(argv[1], argv[2], &m, &delay) < 0 || argc > 3)
			goto bad;
		fidosim_set_up(app->tok, m, delay);
	} else if (strcmp(argv[0], "up-timeout") == 0 && argc == 2) {
		if (parse_uint(argv[1], 600000, &v) < 0)
			goto bad;
		fidosim_set_up_timeout(app->tok, (unsigned)v);
	} else if (strcmp(argv[0], "stats") == 0 && argc == 1) {
		stats_json(app, reply, len);
	} else if (strcmp(argv[0], "fault") == 0 && argc >= 2) {
		if (strcmp(argv[1], "drop-after") == 0 && argc == 3 &&
		    parse_uint(argv[2], LONG_MAX, &v) == 0)
			fidosim_fault_drop_after(app->tok, (long)v);
		else if (strcmp(argv[1], "corrupt-next") == 0 && argc == 2)
			fidosim_fault_corrupt_next(app->tok);
		else if (strcmp(argv[1], "bad-cbor-next") == 0 && argc == 2)
			fidosim_fault_bad_cbor_next(app->tok);
		else
			goto bad;
	} else if (strcmp(argv[0], "powercycle") == 0 && argc == 1) {
		fidosim_powercycle(app->tok);
	} else if (strcmp(argv[0], "ping") == 0 && argc == 1) {
		;
	} else if (strcmp(argv[0], "quit") == 0 && argc == 1) {
		app->quit = 1;
	} else
		goto bad;
	return;
bad:
	snprintf(reply, len, "ERR bad command");
}

static void
control_read(struct app *app, struct ctl_client *c)
{
	char reply[1024], *nl;
	ssize_t n;
	size_t used;

	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n <= 0) {
		close(c->fd);
		c->fd = -1;
		c->len = 0;
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	while ((nl = strchr(c->buf, '\n')) != NULL) {
		*nl = '\0';
		control_command(app, c->buf, reply, sizeof(reply) - 1);
		strcat(reply, "\n");
		if (write(c->fd, reply, strlen(reply)) < 0)
			fprintf(stderr, "fidosim: control write failed\n");
		used = (size_t)(nl - c->buf) + 1;
		memmove(c->buf, nl + 1, c->len - used + 1);
		c->len -= used;
	}
	if (c->len == sizeof(c->buf) - 1) {	/* overlong line */
		close(c->fd);
		c->fd = -1;
		c->len = 0;
	}
}

static int
open_udp(unsigned port, unsigned *bound)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		close(fd);
		return -1;
	}
	*bound = ntohs(sa.sin_port);
	return fd;
}

static int
open_control(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, MAX_CTL) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
usage(void)
{
	fprintf(stderr,
"usage: fidosim [--port N] [--state PATH] [--control PATH]\n"
"               [--rk-capacity 25|100] [--no-eddsa] [--make-cred-uv-not-rqd]\n"
"               [--ctap21-pre]\n"
"               [--attestation-cert PEM --attestation-key PEM]\n"
"               [--up approve|deny|never|delay:MS] [--up-timeout MS]\n"
"               [--die-with-parent]\n");
}

static int
run(struct app *app)
{
	struct pollfd pfd[2 + MAX_CTL];
	uint8_t buf[FIDOSIM_REPORT_LEN + 1];
	struct sockaddr_in from;
	socklen_t fl;
	ssize_t n;
	int i, np, timeout, fd;

	while (!app->quit && !got_signal) {
		np = 0;
		pfd[np].fd = app->udp;
		pfd[np++].events = POLLIN;
		pfd[np].fd = app->ctl;
		pfd[np++].events = POLLIN;
		for (i = 0; i < MAX_CTL; i++) {
			pfd[np].fd = app->clients[i].fd;
			pfd[np++].events = POLLIN;
		}
		timeout = fidosim_next_timeout(app->tok);
		if (poll(pfd, (nfds_t)np, timeout) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		fidosim_tick(app->tok);
		if (pfd[0].revents & POLLIN) {
			fl = sizeof(from);
			n = recvfrom(app->udp, buf, sizeof(buf), 0,
			    (struct sockaddr *)&from, &fl);
			/* Only whole 64-byte reports are CTAPHID packets. */
			if (n == FIDOSIM_REPORT_LEN) {
				remember_peer(app, report_cid(buf), &from);
				app->last = from;
				app->have_last = 1;
				app->in_feed = 1;
				fidosim_feed(app->tok, buf);
				app->in_feed = 0;
			}
		}
		if (app->ctl >= 0 && (pfd[1].revents & POLLIN) &&
		    (fd = accept4(app->ctl, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
			for (i = 0; i < MAX_CTL; i++)
				if (app->clients[i].fd < 0)
					break;
			if (i == MAX_CTL)
				close(fd);
			else {
				app->clients[i].fd = fd;
				app->clients[i].len = 0;
			}
		}
		for (i = 0; i < MAX_CTL; i++)
			if (app->clients[i].fd >= 0 &&
			    (pfd[2 + i].revents & (POLLIN | POLLHUP | POLLERR)))
				control_read(app, &app->clients[i]);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "state", required_argument, NULL, 's' },
		{ "control", required_argument, NULL, 'c' },
		{ "rk-capacity", required_argument, NULL, 'r' },
		{ "no-eddsa", no_argument, NULL, 'E' },
		{ "make-cred-uv-not-rqd", no_argument, NULL, 'M' },
		{ "ctap21-pre", no_argument, NULL, 'P' },
		{ "attestation-cert", required_argument, NULL, 'C' },
		{ "attestation-key", required_argument, NULL, 'K' },
		{ "up", required_argument, NULL, 'u' },
		{ "up-timeout", required_argument, NULL, 't' },
		{ "die-with-parent", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fidosim_config cfg;
	struct app app;
	enum fidosim_up_mode up = FIDOSIM_UP_APPROVE;
	unsigned up_delay = 0, up_timeout = 30000, port = 8111, bound = 0;
	unsigned long v;
	pid_t parent = getppid();
	int die_with_parent = 0;
	const char *control = NULL;
	char *colon;
	int ch, i, rc = 1;

	memset(&cfg, 0, sizeof(cfg));
	memset(&app, 0, sizeof(app));
	app.udp = app.ctl = -1;
	for (i = 0; i < MAX_CTL; i++)
		app.clients[i].fd = -1;
	cfg.rk_capacity = 25;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (parse_uint(optarg, 65535, &v) < 0)
				goto bad_usage;
			port = (unsigned)v;
			break;
		case 's':
			cfg.state_path = optarg;
			break;
		case 'c':
			control = optarg;
			break;
		case 'r':
			if (parse_uint(optarg, 100, &v) < 0 ||
			    (v != 25 && v != 100))
				goto bad_usage;
			cfg.rk_capacity = (unsigned)v;
			break;
		case 'E':
			cfg.no_eddsa = 1;
			break;
		case 'M':
			cfg.mc_uv_not_rqd = 1;
			break;
		case 'P':
			cfg.ctap21_pre = 1;
			break;
		case 'C':
			cfg.att_cert_path = optarg;
			break;
		case 'K':
			cfg.att_key_path = optarg;
			break;
		case 'u':
			if ((colon = strchr(optarg, ':')) != NULL)
				*colon++ = '\0';
			if (parse_up(optarg, colon, &up, &up_delay) < 0)
				goto bad_usage;
			break;
		case 't':
			if (parse_uint(optarg, 600000, &v) < 0)
				goto bad_usage;
			up_timeout = (unsigned)v;
			break;
		case 'D':
			die_with_parent = 1;
			break;
		case 'h':
			usage();
			return 0;
		default:
			goto bad_usage;
		}
	}
	if (optind != argc)
		goto bad_usage;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	/* A test runner killed by a timeout must not leave a token behind. */
	if (die_with_parent && (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 ||
	    getppid() != parent))
		goto out;
	cfg.clock_ms = clock_ms;
	cfg.send = send_report;
	cfg.arg = &app;
	if (fidosim_new(&cfg, &app.tok) < 0)
		goto out;
	fidosim_set_up(app.tok, up, up_delay);
	fidosim_set_up_timeout(app.tok, up_timeout);
	if ((app.udp = open_udp(port, &bound)) < 0) {
		fprintf(stderr, "fidosim: cannot bind 127.0.0.1:%u: %s\n",
		    port, strerror(errno));
		goto out;
	}
	if (control != NULL && (app.ctl = open_control(control)) < 0) {
		fprintf(stderr, "fidosim: cannot listen on %s\n", control);
		goto out;
	}
	printf("READY port=%u\n", bound);
	fflush(stdout);
	if (run(&app) < 0)
		goto out;
	rc = 0;
out:
	for (i = 0; i < MAX_CTL; i++)
		if (app.clients[i].fd >= 0)
			close(app.clients[i].fd);
	if (app.ctl >= 0) {
		close(app.ctl);
		(void)unlink(control);
	}
	if (app.udp >= 0)
		close(app.udp);
	fidosim_free(app.tok);
	return rc;
bad_usage:
	usage();
	return 2;
}
