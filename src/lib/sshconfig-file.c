/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * File-level config edits: lock, ssh -G checks before and after, backup,
 * atomic replacement.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sshconfig-internal.h"

#define SSH_OUT_MAX	(1024 * 1024)

extern char **environ;

static const char *const query_keys[] = {
	"user", "hostname", "port", "identityfile", "identitiesonly",
	"pkcs11provider", "controlmaster", "controlpath", "controlpersist",
	NULL
};

void
ykssh_sshconfig_strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* A running "ssh -G -F path host". */
struct sshrun {
	pid_t		 pid;		/* -1 when it could not start */
	int		 out;		/* its stdout and stderr */
	int		 err;
	int		 errnum;	/* why it could not start */
};

/* Starts "ssh -G -F path host" with stdin from /dev/null. */
static void
ssh_start(const char *ssh, const char *path, const char *host,
    struct sshrun *r)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { (char *)(uintptr_t)"ssh", (char *)(uintptr_t)"-G",
	    (char *)(uintptr_t)"-F", (char *)(uintptr_t)path,
	    (char *)(uintptr_t)"--", (char *)(uintptr_t)host, NULL };
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, fa_init = 0, i;

	r->pid = -1;
	r->out = r->err = -1;
	r->errnum = 0;
	if (pipe2(po, O_CLOEXEC) == -1 || pipe2(pe, O_CLOEXEC) == -1)
		goto fail;
	if ((errno = posix_spawn_file_actions_init(&fa)) != 0)
		goto fail;
	fa_init = 1;
	if ((errno = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
	    O_RDONLY, 0)) != 0 ||
	    (errno = posix_spawn_file_actions_adddup2(&fa, po[1], 1)) != 0 ||
	    (errno = posix_spawn_file_actions_adddup2(&fa, pe[1], 2)) != 0)
		goto fail;
	if ((errno = posix_spawnp(&r->pid, ssh, &fa, NULL, argv,
	    environ)) != 0) {
		r->pid = -1;
		goto fail;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	close(pe[1]);
	r->out = po[0];
	r->err = pe[0];
	return;
fail:
	r->errnum = errno != 0 ? errno : EIO;
	if (fa_init)
		posix_spawn_file_actions_destroy(&fa);
	for (i = 0; i < 2; i++) {
		if (po[i] != -1)
			close(po[i]);
		if (pe[i] != -1)
			close(pe[i]);
	}
}

/*
 * Collects a started ssh's stdout and stderr and reaps it.  Returns 0 with
 * *statusp set, or -1 (errno) if it did not start or could not be read.
 */
static int
ssh_wait(struct sshrun *r, char **outp, char **errp, int *statusp)
{
	struct pollfd pfd[2];
	char *buf[2] = { NULL, NULL }, *nb, tmp[4096];
	size_t len[2] = { 0, 0 }, i;
	ssize_t n;
	int st, ret = -1, saved;

	*outp = *errp = NULL;
	if (r->pid == -1) {
		errno = r->errnum;
		return -1;
	}
	pfd[0].fd = r->out;
	pfd[1].fd = r->err;
	while (pfd[0].fd != -1 || pfd[1].fd != -1) {
		pfd[0].events = pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			n = read(pfd[i].fd, tmp, sizeof(tmp));
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				pfd[i].fd = -1;
				continue;
			}
			if (len[i] + (size_t)n > SSH_OUT_MAX)
				continue;	/* drain, keep the start */
			if ((nb = realloc(buf[i], len[i] + (size_t)n + 1)) ==
			    NULL)
				goto out;
			buf[i] = nb;
			memcpy(buf[i] + len[i], tmp, (size_t)n);
			len[i] += (size_t)n;
			buf[i][len[i]] = '\0';
		}
	}
	for (i = 0; i < 2; i++)
		if (buf[i] == NULL && (buf[i] = strdup("")) == NULL)
			goto out;
	ret = 0;
out:
	saved = errno;
	close(r->out);
	close(r->err);
	r->out = r->err = -1;
	while (waitpid(r->pid, &st, 0) == -1)
		if (errno != EINTR) {
			st = 255 << 8;
			break;
		}
	r->pid = -1;
	r->errnum = EIO;
	if (ret == 0) {
		*statusp = WIFEXITED(st) ? WEXITSTATUS(st) : 255;
		*outp = buf[0];
		*errp = buf[1];
		buf[0] = buf[1] = NULL; /* transferred */
	}
	free(buf[0]);
	free(buf[1]);
	errno = saved;
	return ret;
}

/*
 * ssh's complaint on one line ("a; b"), without the noise it adds for a
 * non-tty stdin.  In place: each newline becomes "; " only where a
 * dropped line or the newline itself left room, else " ".
 */
static void
clean_stderr(char *s)
{
	char *p = s, *nl, *w = s;
	size_t n, step;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		step = n + (nl != NULL);
		while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' '))
			n--;
		if (n > 0 && strncmp(p, "Pseudo-terminal will not be allocated",
		    strlen("Pseudo-terminal will not be allocated")) != 0) {
			if (w != s)
				*w++ = ' ';
			memmove(w, p, n);
			w += n;
		}
		p += step;
	}
	*w = '\0';
}

/* Waits for a started ssh -G; an error unless ssh accepts the file. */
static struct ykssh_err *
ssh_finish(struct sshrun *r, const char *ssh, const char *what,
    const char *host, char **outp)
{
	struct ykssh_err *e = NULL;
	char *out = NULL, *err = NULL;
	int status;

	*outp = NULL;
	if (ssh_wait(r, &out, &err, &status) == -1)
		return ykssh_err_hint(YKSSH_ERRNO(YKSSH_ERR_SYSTEM,
		    "cannot run %s -G to check %s", ssh, what),
		    "install the OpenSSH client, or pass --no-ssh-check");
	if (status != 0) {
		clean_stderr(err);
		e = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG, "ssh rejects "
		    "%s: %s", what, *err != '\0' ? err : "(no message)"),
		    "fix the file first ('ssh -G -F %s %s' shows the "
		    "problem); ykssh changed nothing", what, host);
		goto out;
	}
	*outp = out;
	out = NULL; /* transferred */
out:
	free(out);
	free(err);
	return e;
}

static const char *
ssh_bin(const struct ykssh_sshconfig_opts *opts)
{
	return opts != NULL && opts->ssh_path != NULL ? opts->ssh_path :
	    "ssh";
}

/* Runs ssh -G; an error unless ssh accepts the file. */
static struct ykssh_err *
ssh_g(const struct ykssh_sshconfig_opts *opts, const char *path,
    const char *host, const char *what, char **outp)
{
	struct sshrun r;

	ssh_start(ssh_bin(opts), path, host, &r);
	return ssh_finish(&r, ssh_bin(opts), what, host, outp);
}

struct ykssh_err *
ykssh_sshconfig_ssh_query(const struct ykssh_sshconfig_opts *opts,
    const char *path, const char *host, char ***linesp)
{
	struct ykssh_err *e;
	char *out = NULL, *p, *nl, **v = NULL, **nv;
	size_t n = 0, i, kl;

	*linesp = NULL;
	if ((e = ssh_g(opts, path, host, path, &out)) != NULL)
		return e;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		goto nomem;
	for (p = out; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
		for (i = 0; query_keys[i] != NULL; i++) {
			kl = strlen(query_keys[i]);
			if (strncmp(p, query_keys[i], kl) == 0 && p[kl] == ' ')
				break;
		}
		if (query_keys[i] == NULL)
			continue;
		if ((nv = reallocarray(v, n + 2, sizeof(*v))) == NULL)
			goto nomem;
		v = nv;
		if ((v[n] = strdup(p)) == NULL)
			goto nomem;
		v[++n] = NULL;
	}
	free(out);
	*linesp = v;
	return NULL;
nomem:
	free(out);
	ykssh_sshconfig_strv_free(v);
	return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
}

struct verify_arg {
	const struct ykssh_sshconfig_opts	*opts;
	const struct ykssh_sshconfig_entry	*e;	/* NULL: remove */
	const char				*host;
	const char				*name;
};

/* The value of the nth (0-based) "key value" line of ssh -G output. */
static char *
g_nth(const char *out, const char *key, size_t nth)
{
	const char *p = out;
	size_t kl = strlen(key), n;

	while (*p != '\0') {
		n = strcspn(p, "\n");
		if (n > kl && strncmp(p, key, kl) == 0 && p[kl] == ' ' &&
		    nth-- == 0)
			return strndup(p + kl + 1, n - kl - 1);
		p += n;
		if (*p == '\n')
			p++;
	}
	return NULL;
}

static struct ykssh_err *
expect_nth(const char *out, const char *key, size_t nth, const char *want,
    const struct verify_arg *va)
{
	struct ykssh_err *e = NULL;
	char *got = g_nth(out, key, nth);

	if (got == NULL || (strcmp(key, "hostname") == 0 ?
	    strcasecmp(got, want) : strcmp(got, want)) != 0)
		e = YKSSH_ERR(YKSSH_ERR_CONFIG, "after the edit ssh would use "
		    "%s %s for %s, not %s as written in %s", key,
		    got ? got : "(nothing)", va->host, want, va->name);
	free(got);
	return e;
}

static struct ykssh_err *
expect(const char *out, const char *key, const char *want,
    const struct verify_arg *va)
{
	return expect_nth(out, key, 0, want, va);
}

/* ssh -G prints IdentityFile as written: '%' still doubled. */
static char *
doubled(const char *v)
{
	char *d, *p;
	const char *s;

	if ((d = malloc(strlen(v) * 2 + 1)) == NULL)
		return NULL;
	for (p = d, s = v; *s != '\0'; s++) {
		if (*s == '%')
			*p++ = '%';
		*p++ = *s;
	}
	*p = '\0';
	return d;
}

/* Called on the fsynced temporary file before it replaces the config. */
static struct ykssh_err *
verify_new(void *arg, const char *tmp)
{
	const struct verify_arg *va = arg;
	const struct ykssh_sshconfig_entry *e = va->e;
	struct ykssh_err *err;
	char *out = NULL, *idf = NULL, port[16];
	size_t i;

	if ((err = ssh_g(va->opts, tmp, va->host, "the edited config",
	    &out)) != NULL)
		return err;
	if (e == NULL)
		goto out;
	snprintf(port, sizeof(port), "%u", e->port ? e->port : 22);
	if ((idf = doubled(e->identity_file)) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((err = expect(out, "user", e->user ? e->user : "git", va)) ||
	    (err = expect(out, "hostname", e->hostname ? e->hostname :
	    va->host, va)) ||
	    (err = expect(out, "port", port, va)) ||
	    (err = expect(out, "identitiesonly", "yes", va)) ||
	    (err = expect(out, "identityfile", idf, va)))
		goto out;
	/* The block's identities come first, in order. */
	for (i = 0; i < e->nmore_identity_files; i++) {
		free(idf);
		if ((idf = doubled(e->more_identity_files[i])) == NULL) {
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((err = expect_nth(out, "identityfile", i + 1, idf, va)))
			goto out;
	}
	if (e->kind == YKSSH_SSHCONFIG_PIV &&
	    (err = expect(out, "pkcs11provider", e->pkcs11_provider, va)))
		goto out;
	if (e->persist != NULL &&
	    (err = expect(out, "controlmaster", "auto", va)))
		goto out;
out:
	if (err != NULL)
		err = ykssh_err_hint(err, "nothing was written; please report "
		    "this with the config file if you can");
	free(idf);
	free(out);
	return err;
}

struct ykssh_err *
ykssh_sshconfig_default_path(char **pathp)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	*pathp = NULL;
	if (home == NULL || *home == '\0') {
		if ((pw = getpwuid(getuid())) == NULL || pw->pw_dir == NULL)
			return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG,
			    "cannot find the home directory"),
			    "set HOME or pass --config FILE");
		home = pw->pw_dir;
	}
	if (asprintf(pathp, "%s/.ssh/config", home) == -1) {
		*pathp = NULL;
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	}
	return NULL;
}

static struct ykssh_err *
parent_dir(const char *path)
{
	struct ykssh_err *e;
	char *dir, *slash;

	if ((dir = strdup(path)) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir) {
		free(dir);
		return NULL;
	}
	*slash = '\0';
	e = ykssh_atomicfile_mkdir(dir, 0700);
	free(dir);
	return e;
}

/* Shared by apply and remove: e == NULL means remove `label`. */
static struct ykssh_err *
edit_file(struct ykssh_ctx *ctx, const char *path,
    const struct ykssh_sshconfig_entry *e, const char *label,
    const struct ykssh_sshconfig_opts *opts,
    struct ykssh_sshconfig_report **repp)
{
	struct ykssh_sshconfig_opts o;
	struct ykssh_sshconfig_report *rep = NULL;
	struct ykssh_atomicfile_lock *lock = NULL;
	struct ykssh_atomicfile_opts ao;
	struct verify_arg va;
	struct ykssh_err *err = NULL, *perr;
	struct sshrun pre;
	char *target = NULL, *old = NULL, *new = NULL, *gout = NULL;
	const char *host;
	size_t oldlen, newlen;
	int exists, dry, pre_started = 0;

	*repp = NULL;
	memset(&o, 0, sizeof(o));
	if (opts != NULL)
		o = *opts;
	if (o.name == NULL)
		o.name = path;
	dry = (o.flags & YKSSH_SSHCONFIG_DRY_RUN) != 0;
	host = e != NULL && e->host != NULL ? e->host : "bitbucket.org";
	if (e != NULL && (err = ykssh_sshconfig_entry_check(e)) != NULL)
		goto out;
	if (!dry && (err = parent_dir(path)) != NULL)
		goto out;
	if ((err = ykssh_atomicfile_resolve(path, &target)) != NULL)
		goto out;
	if (strcmp(target, path) != 0)
		ykssh_debug(ctx, "%s is a link to %s", path, target);
	/* Lock (and back up) next to the name given: for a symlinked
	 * config that is ~/.ssh, not the dotfiles repository. */
	if (!dry && (err = ykssh_atomicfile_lock(path, o.lock_timeout_ms ?
	    o.lock_timeout_ms : 2000, &lock)) != NULL)
		goto out;
	if ((err = ykssh_atomicfile_read(target, YKSSH_SSHCONFIG_MAX_SIZE,
	    &old, &oldlen, &exists)) != NULL)
		goto out;
	/*
	 * ssh must accept the file as it is.  Its ssh -G runs while the
	 * edit is computed; its verdict is awaited before anything is
	 * written, and wins over our own complaints about the file.
	 */
	if (exists && !(o.flags & YKSSH_SSHCONFIG_NO_SSH_CHECK)) {
		ssh_start(ssh_bin(&o), target, e != NULL ? host :
		    "ykssh.invalid", &pre);
		pre_started = 1;
	}
	if (e != NULL)
		err = ykssh_sshconfig_apply_text(old, oldlen, e, &o, &new,
		    &newlen, &rep);
	else {
		err = ykssh_sshconfig_remove_text(old, oldlen, label, &o, &new,
		    &newlen);
		if (err == NULL && (rep = calloc(1, sizeof(*rep))) == NULL)
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		if (err == NULL)
			rep->changed = 1;
	}
	if (pre_started) {
		pre_started = 0;
		if ((perr = ssh_finish(&pre, ssh_bin(&o), path, e != NULL ?
		    host : "ykssh.invalid", &gout)) != NULL) {
			ykssh_err_free(err);
			err = perr;
			goto out;
		}
	}
	if (err != NULL) {
		err = YKSSH_ERR_WRAP(err, "%s", path);
		goto out;
	}
	if ((rep->path = strdup(target)) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((err = ykssh_sc_unified_diff(old, oldlen, new, newlen, path, path,
	    &rep->diff)) != NULL)
		goto out;
	if (dry || !rep->changed)
		goto done;
	memset(&ao, 0, sizeof(ao));
	ao.new_mode = 0600;
	ao.backup = !(o.flags & YKSSH_SSHCONFIG_NO_BACKUP);
	ao.backup_base = path;
	ao.step_hook = o.step_hook;
	ao.step_arg = o.step_arg;
	if (!(o.flags & YKSSH_SSHCONFIG_NO_SSH_CHECK)) {
		va.opts = &o;
		va.e = e;
		va.host = e != NULL ? host : "ykssh.invalid";
		va.name = path;
		ao.verify = verify_new;
		ao.verify_arg = &va;
	}
	if ((err = ykssh_atomicfile_write(ctx, target, new, newlen, &ao,
	    &rep->backup)) != NULL)
		goto out;
	rep->written = 1;
done:
	*repp = rep;
	rep = NULL; /* transferred */
out:
	if (pre_started)	/* reap it */
		ykssh_err_free(ssh_finish(&pre, ssh_bin(&o), path, host,
		    &gout));
	ykssh_atomicfile_unlock(lock);
	ykssh_sshconfig_report_free(rep);
	free(target);
	free(old);
	free(new);
	free(gout);
	return err;
}

struct ykssh_err *
ykssh_sshconfig_apply_file(struct ykssh_ctx *ctx, const char *path,
    const struct ykssh_sshconfig_entry *e,
    const struct ykssh_sshconfig_opts *opts,
    struct ykssh_sshconfig_report **repp)
{
	return edit_file(ctx, path, e, NULL, opts, repp);
}

struct ykssh_err *
ykssh_sshconfig_remove_file(struct ykssh_ctx *ctx, const char *path,
    const char *label, const struct ykssh_sshconfig_opts *opts,
    struct ykssh_sshconfig_report **repp)
{
	return edit_file(ctx, path, NULL, label, opts, repp);
}

struct ykssh_err *
ykssh_sshconfig_list_file(const char *path,
    struct ykssh_sshconfig_block **blocksp, size_t *np)
{
	struct ykssh_err *err;
	char *data = NULL;
	size_t len;
	int exists;

	*blocksp = NULL;
	*np = 0;
	if ((err = ykssh_atomicfile_read(path, YKSSH_SSHCONFIG_MAX_SIZE, &data,
	    &len, &exists)) != NULL)
		return err;
	if (exists)
		err = ykssh_sshconfig_list(data, len, blocksp, np);
	free(data);
	return err;
}
