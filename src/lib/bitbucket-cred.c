/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where Bitbucket credentials come from, in order: the environment, the
 * user's git credential helper, a token file, a prompt.  Never argv.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ykssh/bitbucket.h"

#define TOKEN_MAX	1024
#define GIT_TIMEOUT_MS	5000
#define FILE_MAX	4096

void
ykssh_bb_credentials_free(struct ykssh_bb_credentials *c)
{
	if (c == NULL)
		return;
	free(c->user);
	ykssh_secret_free(c->secret);
	free(c->source);
	free(c);
}

static struct ykssh_bb_credentials *
cred_new(const char *user, const char *token, size_t tlen, const char *src)
{
	struct ykssh_bb_credentials *c;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->secret = ykssh_secret_new(TOKEN_MAX)) == NULL ||
	    ykssh_secret_set(c->secret, token, tlen) != 0 ||
	    (c->source = strdup(src)) == NULL ||
	    (user != NULL && *user != '\0' && (c->user = strdup(user)) ==
	    NULL)) {
		ykssh_bb_credentials_free(c);
		return NULL;
	}
	c->kind = c->user != NULL ? YKSSH_BB_AUTH_BASIC : YKSSH_BB_AUTH_BEARER;
	return c;
}

/*
 * Bitbucket Cloud app passwords (prefix ATBB) stopped working in 2026.
 * Refuse them before sending one, naming the replacement.
 */
static struct ykssh_err *
check_token(const struct ykssh_bb_cred_req *req,
    const struct ykssh_bb_credentials *c)
{
	const char *t = ykssh_secret_str(c->secret);

	if (ykssh_secret_len(c->secret) == 0)
		return YKSSH_ERR(YKSSH_ERR_AUTH, "the token from %s is empty",
		    c->source);
	if (req->product == YKSSH_BB_CLOUD && strncmp(t, "ATBB", 4) == 0)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_AUTH,
		    "the token from %s is a Bitbucket app password; Bitbucket "
		    "Cloud removed app passwords in 2026", c->source),
		    "create an Atlassian API token with scopes "
		    "read:user:bitbucket, read:ssh-key:bitbucket, "
		    "write:ssh-key:bitbucket, delete:ssh-key:bitbucket, and "
		    "use it with your account e-mail");
	if (req->product == YKSSH_BB_DC && c->kind == YKSSH_BB_AUTH_BASIC &&
	    c->user == NULL)
		return YKSSH_ERR(YKSSH_ERR_AUTH, "no user for %s", c->source);
	return NULL;
}

static struct ykssh_bb_credentials *
from_env(void)
{
	const char *t = getenv("YKSSH_BITBUCKET_TOKEN");

	if (t == NULL || *t == '\0')
		return NULL;
	return cred_new(getenv("YKSSH_BITBUCKET_USER"), t, strlen(t),
	    "$YKSSH_BITBUCKET_TOKEN");
}

/* "https://host[:port]/..." -> host[:port] */
static char *
api_host(const struct ykssh_bb_cred_req *req)
{
	const char *url = req->url != NULL ? req->url : YKSSH_BB_CLOUD_API;
	const char *h;

	if (strncmp(url, "https://", 8) != 0)
		return NULL;
	h = url + 8;
	return strndup(h, strcspn(h, "/?#"));
}

/*
 * `git credential fill` with protocol/host: the user's credential helper
 * answers; git itself is told never to prompt.  Bounded in time and size;
 * any failure just means "no credentials there".
 */
static struct ykssh_bb_credentials *
from_git(const struct ykssh_bb_cred_req *req, const struct ykssh_ctx *ctx)
{
	char out[FILE_MAX + 1], in[512], *host, *line, *save = NULL;
	char *user = NULL, *pass = NULL, src[300];
	struct ykssh_bb_credentials *c = NULL;
	int inpipe[2] = { -1, -1 }, outpipe[2] = { -1, -1 }, status = 0;
	size_t len = 0;
	ssize_t n;
	pid_t pid;
	struct pollfd pfd;
	struct timespec t0, t1;

	if ((host = api_host(req)) == NULL)
		return NULL;
	snprintf(in, sizeof(in), "protocol=https\nhost=%s\n\n", host);
	snprintf(src, sizeof(src), "git credential helper for %s", host);
	free(host);
	if (pipe2(inpipe, O_CLOEXEC) != 0 || pipe2(outpipe, O_CLOEXEC) != 0)
		goto out;
	if ((pid = fork()) < 0)
		goto out;
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		if (dup2(inpipe[0], 0) < 0 || dup2(outpipe[1], 1) < 0 ||
		    (devnull >= 0 && dup2(devnull, 2) < 0))
			_exit(127);
		setenv("GIT_TERMINAL_PROMPT", "0", 1);
		unsetenv("GIT_ASKPASS");
		unsetenv("SSH_ASKPASS");
		execlp("git", "git", "credential", "fill", (char *)NULL);
		_exit(127);
	}
	close(inpipe[0]);
	inpipe[0] = -1;
	close(outpipe[1]);
	outpipe[1] = -1;
	(void)!write(inpipe[1], in, strlen(in));
	close(inpipe[1]);
	inpipe[1] = -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		long el;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		el = (t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (el >= GIT_TIMEOUT_MS) {
			kill(pid, SIGKILL);
			break;
		}
		pfd.fd = outpipe[0];
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(GIT_TIMEOUT_MS - el)) <= 0)
			continue;
		n = read(outpipe[0], out + len, sizeof(out) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(out) - 1)
			break;
	}
	out[len] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		goto out;
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "username=", 9) == 0)
			user = line + 9;
		else if (strncmp(line, "password=", 9) == 0)
			pass = line + 9;
	}
	if (pass != NULL && *pass != '\0') {
		c = cred_new(user, pass, strlen(pass), src);
		if (c != NULL)
			c->from_git = 1;
		ykssh_debug(ctx, "credentials from git's credential helper");
	}
out:
	explicit_bzero(out, sizeof(out));
	if (inpipe[0] >= 0)
		close(inpipe[0]);
	if (inpipe[1] >= 0)
		close(inpipe[1]);
	if (outpipe[0] >= 0)
		close(outpipe[0]);
	if (outpipe[1] >= 0)
		close(outpipe[1]);
	return c;
}

/*
 * The token file: "token = ..." and optionally "user = ..." lines (or a
 * single line holding only the token).  It must be a regular file owned by
 * the user, mode 0600 (or stricter), as OpenSSH wants of private keys.
 */
static struct ykssh_err *
from_file(const char *path, int required, struct ykssh_bb_credentials **cp)
{
	char buf[FILE_MAX + 1], *line, *save = NULL, *user = NULL;
	char *token = NULL, src[PATH_MAX + 16];
	struct stat st;
	ssize_t n;
	int fd;
	struct ykssh_err *err = NULL;

	*cp = NULL;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT && !required)
			return NULL;
		return YKSSH_ERRNO(errno == ENOENT ? YKSSH_ERR_FILE_NOT_FOUND :
		    YKSSH_ERR_PERMISSION, "cannot open token file %s", path);
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return YKSSH_ERR(YKSSH_ERR_UNSAFE_FILE,
		    "token file %s is not a regular file", path);
	}
	if (st.st_uid != getuid() || (st.st_mode & 077) != 0) {
		close(fd);
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_UNSAFE_FILE,
		    "token file %s is readable by others or not yours "
		    "(mode %04o)", path, (unsigned)(st.st_mode & 07777)),
		    "run 'chmod 600 %s'", path);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot read %s", path);
	buf[n] = '\0';
	for (line = strtok_r(buf, "\r\n", &save); line != NULL;
	    line = strtok_r(NULL, "\r\n", &save)) {
		char *v;

		line += strspn(line, " \t");
		if (*line == '#' || *line == '\0')
			continue;
		if ((v = strchr(line, '=')) == NULL) {
			token = line;
			continue;
		}
		*v++ = '\0';
		v += strspn(v, " \t");
		line[strcspn(line, " \t")] = '\0';
		v[strcspn(v, " \t")] = '\0';
		if (strcmp(line, "token") == 0)
			token = v;
		else if (strcmp(line, "user") == 0)
			user = v;
	}
	snprintf(src, sizeof(src), "%s", path);
	if (token == NULL || *token == '\0')
		err = YKSSH_ERR(YKSSH_ERR_CONFIG, "token file %s holds no token",
		    path);
	else if ((*cp = cred_new(user, token, strlen(token), src)) == NULL)
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	explicit_bzero(buf, sizeof(buf));
	return err;
}

static struct ykssh_err *
no_credentials(struct ykssh_err *cause)
{
	return ykssh_err_hint(YKSSH_ERR_CAUSE(YKSSH_ERR_AUTH, cause,
	    "no Bitbucket credentials found"),
	    "set YKSSH_BITBUCKET_TOKEN (and, for Bitbucket Cloud, "
	    "YKSSH_BITBUCKET_USER to your Atlassian e-mail), store them with "
	    "a git credential helper, or write them to "
	    "~/.config/ykssh/bitbucket (mode 0600)");
}

static struct ykssh_err *
from_prompt(const struct ykssh_bb_cred_req *req,
    struct ykssh_bb_credentials **cp)
{
	struct ykssh_secret *s = NULL;
	struct ykssh_err *err = NULL;
	char *user = NULL, *host = api_host(req), prompt[300];

	*cp = NULL;
	if (req->get_secret == NULL) {
		free(host);
		return no_credentials(NULL);
	}
	if (req->product == YKSSH_BB_CLOUD && req->get_text != NULL) {
		snprintf(prompt, sizeof(prompt), "Atlassian account e-mail "
		    "for %s (empty for an OAuth token): ", host);
		if ((err = req->get_text(req->arg, prompt, &user)) != NULL)
			goto out;
	}
	if ((s = ykssh_secret_new(TOKEN_MAX)) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(prompt, sizeof(prompt), "%s for %s: ",
	    req->product == YKSSH_BB_CLOUD ? "Bitbucket API token" :
	    "Bitbucket HTTP access token", host);
	if ((err = req->get_secret(req->arg, prompt, s)) != NULL)
		goto out;
	if ((*cp = cred_new(user, ykssh_secret_str(s), ykssh_secret_len(s),
	    "the prompt")) == NULL)
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
out:
	free(host);
	free(user);
	ykssh_secret_free(s);
	/* Nobody to ask (no terminal, no askpass): say where they go. */
	if (err != NULL && ykssh_err_code(err) != YKSSH_ERR_CANCELLED &&
	    ykssh_err_code(err) != YKSSH_ERR_NOMEM)
		err = no_credentials(err);
	return err;
}

struct ykssh_err *
ykssh_bb_find_credentials(struct ykssh_ctx *ctx,
    const struct ykssh_bb_cred_req *req, struct ykssh_bb_credentials **credp)
{
	struct ykssh_bb_credentials *c = NULL;
	struct ykssh_err *err = NULL;
	char *path = NULL;

	*credp = NULL;
	if ((c = from_env()) == NULL && (c = from_git(req, ctx)) == NULL) {
		if (req->token_file != NULL)
			err = from_file(req->token_file, 1, &c);
		else if (req->home != NULL) {
			if (asprintf(&path, "%s/.config/ykssh/bitbucket",
			    req->home) < 0)
				return YKSSH_ERR(YKSSH_ERR_NOMEM,
				    "out of memory");
			err = from_file(path, 0, &c);
			free(path);
		}
		if (err == NULL && c == NULL)
			err = from_prompt(req, &c);
		if (err != NULL)
			return err;
	}
	if ((err = check_token(req, c)) != NULL) {
		ykssh_bb_credentials_free(c);
		return err;
	}
	ykssh_debug(ctx, "Bitbucket credentials from %s (%s)", c->source,
	    c->kind == YKSSH_BB_AUTH_BASIC ? "basic" : "bearer");
	*credp = c;
	return NULL;
}
