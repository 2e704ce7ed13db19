/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pivsim: the software YubiKey PIV card as a vpcd client.
 *
 * usage: pivsim --port N [--host ADDR] [--profile 5.4|5.7] [--serial N]
 *	  [--state PATH] [--control PATH] [--ca-cert PATH]
 *	  [--touch approve|deny|never|delay:MS] [--touch-timeout MS]
 *	  [--reconnect-ms MS] [--no-piv] [-v]
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "app.h"

#define FRAME_MAX	65535

static struct app *the_app;		/* for the signal handler only */

uint64_t
now_ms(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static uint64_t
clock_cb(void *arg)
{
	(void)arg;
	return (now_ms());
}

/*
 * Touch: approve/deny at once, "delay" approves after the delay, "never"
 * times out like the token (touch-timeout).  The control channel is
 * served meanwhile, so a test may change the mode during a wait.
 */
static int
touch_cb(void *arg)
{
	struct app	*a = arg;
	uint64_t	 start = now_ms(), el;

	for (;;) {
		if (a->quit)
			return (0);
		el = now_ms() - start;
		switch (a->touch_mode) {
		case TOUCH_MODE_APPROVE:
			return (1);
		case TOUCH_MODE_DENY:
			return (0);
		case TOUCH_MODE_DELAY:
			if (el >= a->touch_delay_ms)
				return (1);
			(void)ctl_poll(a, (int)(a->touch_delay_ms - el), -1);
			break;
		case TOUCH_MODE_NEVER:
			if (el >= a->touch_timeout_ms)
				return (0);
			(void)ctl_poll(a, (int)(a->touch_timeout_ms - el), -1);
			break;
		}
	}
}

static void
on_signal(int sig)
{
	(void)sig;
	if (the_app != NULL)
		the_app->quit = 1;
}

static int
read_file(const char *path, uint8_t **out, size_t *outlen)
{
	struct stat	 st;
	uint8_t		*p = NULL;
	size_t		 off = 0;
	ssize_t		 r;
	int		 fd, ret = -1;

	memset(&st, 0, sizeof(st));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (-1);
	if (fstat(fd, &st) != 0 || st.st_size <= 0 ||
	    st.st_size > 16 * 1024 * 1024 ||
	    (p = malloc((size_t)st.st_size)) == NULL)
		goto out;
	while (off < (size_t)st.st_size) {
		r = read(fd, p + off, (size_t)st.st_size - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto out;
		off += (size_t)r;
	}
	*out = p;
	*outlen = off;
	p = NULL;			/* transferred */
	ret = 0;
out:
	pivsim_freezero(p, (size_t)st.st_size);
	close(fd);
	return (ret);
}

/* Write state to PATH.tmp, fsync, rename: a crash never leaves half. */
static int
save_state(struct app *a)
{
	char		 tmp[4096];
	uint8_t		*blob = NULL;
	size_t		 len = 0, off = 0;
	ssize_t		 r;
	int		 fd = -1, ret = -1;

	if (a->state_path == NULL)
		return (0);
	if (pivsim_save(a->card, &blob, &len) != 0 ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", a->state_path) >=
	    (int)sizeof(tmp) ||
	    (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0)
		goto out;
	while (off < len) {
		r = write(fd, blob + off, len - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto out;
		off += (size_t)r;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, a->state_path) != 0)
		goto out;
	pivsim_clear_dirty(a->card);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret != 0)
		fprintf(stderr, "pivsim: cannot save state to %s\n",
		    a->state_path);
	pivsim_freezero(blob, len);
	return (ret);
}

static int
write_ca(struct app *a, const char *path)
{
	const uint8_t	*der;
	size_t		 len;
	X509		*x = NULL;
	FILE		*f = NULL;
	int		 ret = -1;

	der = pivsim_ca_cert(a->card, &len);
	if ((x = d2i_X509(NULL, &der, (long)len)) == NULL ||
	    (f = fopen(path, "w")) == NULL || PEM_write_X509(f, x) != 1)
		goto out;
	ret = 0;
out:
	if (f != NULL && fclose(f) != 0)
		ret = -1;
	X509_free(x);
	return (ret);
}

static void
disconnect(struct app *a, int pulled)
{
	if (a->vfd >= 0)
		close(a->vfd);
	a->vfd = -1;
	a->powered = 0;
	pivsim_power_off(a->card);
	if (pulled) {
		a->pulls++;
		a->reconnect_at = now_ms() + a->reconnect_ms;
	}
}

static void
log_apdu(const struct app *a, const char *dir, const uint8_t *p, size_t n)
{
	size_t	i;

	if (a->verbose == 0)
		return;
	if (a->verbose == 1) {
		if (dir[0] == '>')
			fprintf(stderr, "pivsim: > INS %02x len %zu\n",
			    n > 1 ? p[1] : 0, n);
		else
			fprintf(stderr, "pivsim: < SW %02x%02x len %zu\n",
			    p[n - 2], p[n - 1], n);
		return;
	}
	fprintf(stderr, "pivsim: %s", dir);
	for (i = 0; i < n; i++)
		fprintf(stderr, " %02x", p[i]);
	fprintf(stderr, "\n");
}

/* One frame from vpcd. */
static void
handle_frame(struct app *a, const uint8_t *f, size_t n)
{
	uint8_t		 resp[PIVSIM_RESP_MAX];
	const uint8_t	*atr;
	size_t		 rlen;

	if (n == 1) {
		switch (f[0]) {
		case 0x00:		/* power off */
		case 0x02:		/* reset */
			pivsim_power_off(a->card);
			a->powered = f[0] == 0x02;
			break;
		case 0x01:		/* power on */
			pivsim_power_off(a->card);
			a->powered = 1;
			break;
		case 0x04:		/* get ATR (also the presence poll) */
			a->atr_polls++;
			atr = pivsim_atr(&rlen);
			if (vpcd_send(a->vfd, atr, rlen) != 0)
				disconnect(a, 0);
			break;
		default:
			break;
		}
		return;
	}
	if (n < 4)
		return;
	if (a->fault_after == 0) {
		/* Card pulled in the middle of this command. */
		a->fault_after = -1;
		fprintf(stderr, "pivsim: fault: card pulled\n");
		disconnect(a, 1);
		return;
	}
	if (a->fault_after > 0)
		a->fault_after--;
	log_apdu(a, ">", f, n);
	pivsim_transmit(a->card, f, n, resp, &rlen);
	log_apdu(a, "<", resp, rlen);
	if (pivsim_dirty(a->card))
		(void)save_state(a);
	if (vpcd_send(a->vfd, resp, rlen) != 0)
		disconnect(a, 0);
	OPENSSL_cleanse(resp, sizeof(resp));	/* ECDH/RSA decrypt output */
}

static int
run(struct app *a)
{
	static uint8_t	frame[FRAME_MAX];
	size_t		n;

	while (!a->quit) {
		if (a->vfd < 0) {
			if (now_ms() >= a->reconnect_at &&
			    (a->vfd = vpcd_connect(a->host, a->port)) >= 0) {
				a->connects++;
				continue;
			}
			(void)ctl_poll(a, 50, -1);
			continue;
		}
		if (ctl_poll(a, 1000, a->vfd) != 1)
			continue;
		if (vpcd_recv(a->vfd, frame, sizeof(frame), &n) != 0) {
			/* vpcd dropped us (pcscd exit, reader reset). */
			disconnect(a, 0);
			a->reconnect_at = now_ms() + 100;
			continue;
		}
		handle_frame(a, frame, n);
		OPENSSL_cleanse(frame, n);	/* PINs, PUKs, keys */
	}
	return (0);
}

static void
usage(void)
{
	fprintf(stderr, "usage: pivsim --port N [--host ADDR] "
	    "[--profile 5.4|5.7] [--serial N]\n"
	    "\t[--state PATH] [--control PATH] [--ca-cert PATH]\n"
	    "\t[--touch approve|deny|never|delay:MS] [--touch-timeout MS]\n"
	    "\t[--reconnect-ms MS] [--no-piv] [-v]\n");
}

static int
parse_num(const char *s, unsigned long max, unsigned long *v)
{
	char	*ep;

	errno = 0;
	*v = strtoul(s, &ep, 0);
	return (s[0] == '\0' || s[0] == '-' || *ep != '\0' || errno != 0 ||
	    *v > max ? -1 : 0);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "host", required_argument, NULL, 'H' },
		{ "profile", required_argument, NULL, 'P' },
		{ "serial", required_argument, NULL, 's' },
		{ "state", required_argument, NULL, 'S' },
		{ "control", required_argument, NULL, 'c' },
		{ "ca-cert", required_argument, NULL, 'C' },
		{ "touch", required_argument, NULL, 't' },
		{ "touch-timeout", required_argument, NULL, 'T' },
		{ "reconnect-ms", required_argument, NULL, 'r' },
		{ "no-piv", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct app		 a;
	struct sigaction	 sa;
	enum pivsim_profile	 profile = PIVSIM_PROFILE_54;
	const char		*ca_path = NULL;
	uint8_t			*blob = NULL;
	size_t			 blen = 0, i;
	unsigned long		 v, serial = 16000001;
	int			 ch, no_piv = 0, ret = 1;

	memset(&a, 0, sizeof(a));
	a.host = "127.0.0.1";
	a.vfd = a.lfd = -1;
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		a.cfd[i] = -1;
	a.touch_mode = TOUCH_MODE_APPROVE;
	a.touch_timeout_ms = 15000;
	a.fault_after = -1;
	a.reconnect_ms = 500;

	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (parse_num(optarg, 65534, &v) != 0 || v == 0)
				goto bad;
			a.port = (uint16_t)v;
			break;
		case 'H':
			a.host = optarg;
			break;
		case 'P':
			if (strcmp(optarg, "5.4") == 0)
				profile = PIVSIM_PROFILE_54;
			else if (strcmp(optarg, "5.7") == 0)
				profile = PIVSIM_PROFILE_57;
			else
				goto bad;
			break;
		case 's':
			if (parse_num(optarg, UINT32_MAX, &serial) != 0)
				goto bad;
			break;
		case 'S':
			a.state_path = optarg;
			break;
		case 'c':
			a.ctl_path = optarg;
			break;
		case 'C':
			ca_path = optarg;
			break;
		case 't':
			if (parse_touch(&a, optarg) != 0)
				goto bad;
			break;
		case 'T':
			if (parse_num(optarg, 600000, &v) != 0)
				goto bad;
			a.touch_timeout_ms = (unsigned int)v;
			break;
		case 'r':
			if (parse_num(optarg, 600000, &v) != 0)
				goto bad;
			a.reconnect_ms = (unsigned int)v;
			break;
		case 'n':
			no_piv = 1;
			break;
		case 'v':
			a.verbose++;
			break;
		default:
			goto bad;
		}
	}
	if (optind != argc || a.port == 0)
		goto bad;

	if (a.state_path != NULL && access(a.state_path, F_OK) == 0) {
		if (read_file(a.state_path, &blob, &blen) != 0 ||
		    (a.card = pivsim_load(blob, blen)) == NULL) {
			fprintf(stderr, "pivsim: invalid state file %s\n",
			    a.state_path);
			goto out;
		}
	} else if ((a.card = pivsim_new(profile,
	    (uint32_t)serial)) == NULL) {
		fprintf(stderr, "pivsim: cannot create card\n");
		goto out;
	}
	if (save_state(&a) != 0)
		goto out;
	if (ca_path != NULL && write_ca(&a, ca_path) != 0) {
		fprintf(stderr, "pivsim: cannot write %s\n", ca_path);
		goto out;
	}
	pivsim_set_no_piv(a.card, no_piv);
	pivsim_set_touch_cb(a.card, touch_cb, &a);
	pivsim_set_clock_cb(a.card, clock_cb, NULL);
	if (a.ctl_path != NULL && (a.lfd = ctl_listen(a.ctl_path)) < 0) {
		fprintf(stderr, "pivsim: cannot listen on %s\n", a.ctl_path);
		goto out;
	}

	the_app = &a;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll returns */
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);

	ret = run(&a);
	if (save_state(&a) != 0)
		ret = 1;
	goto out;
bad:
	usage();
	ret = 2;
out:
	the_app = NULL;
	if (a.vfd >= 0)
		close(a.vfd);
	ctl_close(&a);
	pivsim_freezero(blob, blen);
	pivsim_free(a.card);
	return (ret);
}
