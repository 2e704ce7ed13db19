/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * After enrollment: register the key, then point ssh at it.  In that
 * order: an entry sending bitbucket.org to a key the server refused would
 * break whatever key worked before.
 */
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ykssh/atomicfile.h"
#include "ykssh/bitbucket.h"
#include "ykssh/enroll.h"
#include "ykssh/sshconfig.h"

void
ykssh_enroll_wired_free(struct ykssh_enroll_wired *w)
{
	if (w == NULL)
		return;
	free(w->config_path);
	free(w->config_label);
	free(w->host);
	free(w->hostname);
	free(w->config_backup);
	free(w->bb_id);
	free(w->bb_label);
	free(w);
}

/* The block's label: the enrollment label, else the stub's file name. */
static char *
config_label(const struct ykssh_enroll_key *k)
{
	const char *base;

	if (k->label != NULL)
		return strdup(k->label);
	base = strrchr(k->identity, '/');
	return strdup(base != NULL ? base + 1 : k->identity);
}

/*
 * Is `home` the home ssh uses?  ssh expands "~" (and finds its config)
 * from the password database, not from $HOME.
 */
static int
is_ssh_home(const char *home)
{
	struct passwd *pw = getpwuid(getuid());
	char a[PATH_MAX], b[PATH_MAX];

	return pw != NULL && pw->pw_dir != NULL &&
	    realpath(home, a) != NULL && realpath(pw->pw_dir, b) != NULL &&
	    strcmp(a, b) == 0;
}

/*
 * "~/.ssh/id_..." when the stub is under the home ssh uses: stable across
 * machines.  Otherwise the absolute path, which ssh reads the same way
 * whatever $HOME says.
 */
static char *
identity_path(const char *home, const char *stub)
{
	size_t n = strlen(home);
	char *s;

	if (strncmp(stub, home, n) == 0 && stub[n] == '/' &&
	    strpbrk(stub + n, " \t\"") == NULL && is_ssh_home(home)) {
		if (asprintf(&s, "~%s", stub + n) < 0)
			return NULL;
		return s;
	}
	return strdup(stub);
}

static struct ykssh_err *
apply(struct ykssh_ctx *ctx, const char *path,
    struct ykssh_sshconfig_entry *e, struct ykssh_enroll_wired *wd)
{
	struct ykssh_sshconfig_opts so;
	struct ykssh_sshconfig_report *rep = NULL;
	struct ykssh_err *err;

	memset(&so, 0, sizeof(so));
	so.name = "~/.ssh/config";
	if ((err = ykssh_sshconfig_apply_file(ctx, path, e, &so, &rep)) !=
	    NULL)
		return err;
	wd->config_line = rep->line;
	if ((wd->config_path = strdup(rep->path)) == NULL ||
	    (rep->backup != NULL &&
	    (wd->config_backup = strdup(rep->backup)) == NULL))
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	ykssh_sshconfig_report_free(rep);
	return err;
}

/* Does another ykssh block already configure Host `host`? */
static struct ykssh_err *
host_taken(const char *path, const char *host, const char *label, int *takenp)
{
	struct ykssh_sshconfig_block *b;
	struct ykssh_err *err;
	size_t n, i;

	*takenp = 0;
	if ((err = ykssh_sshconfig_list_file(path, &b, &n)) != NULL)
		return err;
	for (i = 0; i < n; i++)
		if (b[i].host != NULL && strcmp(b[i].host, host) == 0 &&
		    strcmp(b[i].label, label) != 0)
			*takenp = 1;
	ykssh_sshconfig_blocks_free(b, n);
	return NULL;
}

/*
 * A backup token's key joins the entry of k->label: same block, its
 * identity after the primary's, both fingerprints in the marker.
 */
static struct ykssh_err *
join_config(struct ykssh_ctx *ctx, const char *path, const char *ident,
    const struct ykssh_enroll_key *k, struct ykssh_enroll_wired *wd)
{
	struct ykssh_sshconfig_block *b = NULL;
	struct ykssh_sshconfig_entry e;
	struct ykssh_err *err = NULL;
	const char *more[1];
	char *key_id = NULL;
	size_t n = 0, i;

	if ((err = ykssh_sshconfig_list_file(path, &b, &n)) != NULL)
		return err;
	for (i = 0; i < n; i++)
		if (strcmp(b[i].label, wd->config_label) == 0)
			break;
	if (i == n) {
		err = YKSSH_ERR(YKSSH_ERR_FILE_NOT_FOUND, "no ykssh entry "
		    "'%s' in %s", wd->config_label, path);
		goto out;
	}
	if ((err = ykssh_sshconfig_block_entry(&b[i], &e)) != NULL)
		goto out;
	if (e.nmore_identity_files != 0) {
		err = YKSSH_ERR(YKSSH_ERR_FILE_EXISTS, "the ykssh entry '%s' "
		    "has a backup already", wd->config_label);
		goto out;
	}
	if (e.key_id == NULL || strchr(e.key_id, ',') != NULL) {
		err = YKSSH_ERR(YKSSH_ERR_CONFIG, "the ykssh entry '%s' does "
		    "not name its key", wd->config_label);
		goto out;
	}
	if (asprintf(&key_id, "%s,%s", e.key_id, k->fingerprint) < 0) {
		key_id = NULL;
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	more[0] = ident;
	e.more_identity_files = more;
	e.nmore_identity_files = 1;
	e.key_id = key_id;
	if ((err = apply(ctx, path, &e, wd)) != NULL)
		goto out;
	/* A HostName the block writes only to win over another line. */
	if ((wd->host = strdup(e.host)) == NULL ||
	    (e.hostname != NULL && strcmp(e.hostname, e.host) != 0 &&
	    (wd->hostname = strdup(e.hostname)) == NULL))
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	wd->port = e.port;
out:
	free(key_id);
	ykssh_sshconfig_blocks_free(b, n);
	return err;
}

/* Is fp the nth fingerprint of a marker's key id ("fp1,fp2")? */
static int
key_id_has(const char *key_id, const char *fp, size_t *nthp)
{
	size_t n = 0, len, fl = strlen(fp);

	for (; key_id != NULL; n++) {
		len = strcspn(key_id, ",");
		if (len == fl && strncmp(key_id, fp, len) == 0) {
			*nthp = n;
			return 1;
		}
		key_id = key_id[len] == ',' ? key_id + len + 1 : NULL;
	}
	return 0;
}

/*
 * Entries with a backup token's key (ykssh enroll --backup).  Wiring a
 * backup's key again (recover) leaves its entry alone (*donep); the
 * entry `label` with a backup is written again with the backup kept,
 * whether its first key is this one (recover) or replaced (--force):
 * *keepp, the block's entry in *ep (strings borrowed from *bp and
 * *key_idp).
 */
static struct ykssh_err *
in_pair(const char *path, const struct ykssh_enroll_key *k,
    const char *label, struct ykssh_sshconfig_block **bp, size_t *nbp,
    struct ykssh_sshconfig_entry *ep, char **key_idp, int *keepp,
    int *donep, struct ykssh_enroll_wired *wd)
{
	struct ykssh_sshconfig_block *b;
	struct ykssh_err *err;
	size_t n, i, nth;

	*keepp = *donep = 0;
	*key_idp = NULL;
	if ((err = ykssh_sshconfig_list_file(path, bp, nbp)) != NULL)
		return err;
	b = *bp;
	n = *nbp;
	for (i = 0; i < n; i++) {
		if (b[i].nidentity_files < 2 || b[i].edited ||
		    !key_id_has(b[i].key_id, k->fingerprint, &nth))
			continue;
		if (nth > 0) {
			*donep = 1;
			wd->config_line = b[i].first_line;
			free(wd->config_label);
			if ((wd->config_label = strdup(b[i].label)) == NULL ||
			    (wd->config_path = strdup(path)) == NULL ||
			    (wd->host = strdup(b[i].host != NULL ? b[i].host :
			    "?")) == NULL)
				return YKSSH_ERR(YKSSH_ERR_NOMEM,
				    "out of memory");
			wd->port = b[i].port;
			return NULL;
		}
	}
	/* The entry's first key is replaced (--force): its backup stays. */
	for (i = 0; i < n; i++) {
		if (strcmp(b[i].label, label) != 0 ||
		    b[i].nidentity_files < 2 || b[i].edited ||
		    b[i].key_id == NULL || strchr(b[i].key_id, ',') == NULL)
			continue;
		if ((err = ykssh_sshconfig_block_entry(&b[i], ep)) != NULL)
			return err;
		if (asprintf(key_idp, "%s%s", k->fingerprint,
		    strchr(b[i].key_id, ',')) < 0) {
			*key_idp = NULL;
			return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		}
		ep->key_id = *key_idp;
		*keepp = 1;
		break;
	}
	return NULL;
}

static struct ykssh_err *
write_config(struct ykssh_ctx *ctx, const char *home,
    const struct ykssh_enroll_key *k, const struct ykssh_enroll_wire_opts *w,
    struct ykssh_enroll_wired *wd)
{
	struct ykssh_sshconfig_entry e;
	struct ykssh_err *err;
	char *path = NULL, *ident = NULL, *alias = NULL;
	const char *server = w->srv != NULL ? w->srv->ssh_host :
	    YKSSH_BB_CLOUD_SSH_HOST;
	const char *fp = k->fingerprint;
	struct ykssh_sshconfig_block *pair = NULL;
	char *pair_id = NULL;
	size_t npair = 0;
	int keep, done;

	if (w->config_path != NULL)
		path = strdup(w->config_path);
	else if (asprintf(&path, "%s/.ssh/config", home) < 0)
		path = NULL;
	if ((wd->config_label = config_label(k)) == NULL ||
	    (ident = identity_path(home, k->identity)) == NULL ||
	    path == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (k->backup) {
		err = join_config(ctx, path, ident, k, wd);
		goto out;
	}
	if ((err = in_pair(path, k, wd->config_label, &pair, &npair, &e,
	    &pair_id, &keep, &done, wd)) != NULL || done)
		goto out;
	if (keep) {
		/* Written again as it is, the backup's identity kept. */
		e.identity_file = ident;
		if (w->persist != NULL)
			e.persist = w->persist;
		if ((err = apply(ctx, path, &e, wd)) != NULL)
			goto out;
		if ((wd->host = strdup(e.host)) == NULL)
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		wd->port = e.port;
		goto out;
	}
	memset(&e, 0, sizeof(e));
	e.kind = k->pkcs11_provider != NULL ? YKSSH_SSHCONFIG_PIV :
	    YKSSH_SSHCONFIG_FIDO2;
	e.pkcs11_provider = k->pkcs11_provider;
	e.label = wd->config_label;
	e.key_id = fp;
	e.identity_file = ident;
	e.persist = w->persist;
	e.port = w->srv != NULL ? w->srv->ssh_port : 0;
	if (w->host != NULL) {
		e.host = w->host;
		if (strcmp(w->host, server) != 0)
			e.hostname = server;
	} else
		e.host = server;
	/* Another key owns the host already: add this one under an alias. */
	if (w->host == NULL) {
		int taken;

		if ((err = host_taken(path, server, wd->config_label,
		    &taken)) != NULL)
			goto out;
		if (taken) {
			char *c;

			if (asprintf(&alias, "%s-%s", server,
			    wd->config_label) < 0) {
				alias = NULL;
				err = YKSSH_ERR(YKSSH_ERR_NOMEM,
				    "out of memory");
				goto out;
			}
			/* Host names are matched as typed: keep them lower. */
			for (c = alias; *c != '\0'; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c - 'A' + 'a');
			e.host = alias;
			e.hostname = server;
		}
	}
	if ((err = apply(ctx, path, &e, wd)) != NULL)
		goto out;
	if ((wd->host = strdup(e.host)) == NULL ||
	    (e.hostname != NULL && (wd->hostname = strdup(e.hostname)) ==
	    NULL))
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	wd->port = e.port;
out:
	ykssh_sshconfig_blocks_free(pair, npair);
	free(pair_id);
	free(path);
	free(ident);
	free(alias);
	return err;
}

struct ykssh_err *
ykssh_enroll_wire(struct ykssh_ctx *ctx, const char *home,
    const struct ykssh_enroll_key *k, const struct ykssh_enroll_wire_opts *w,
    struct ykssh_enroll_wired **wiredp)
{
	struct ykssh_enroll_wired *wd;
	struct ykssh_bb_key *bk = NULL;
	struct ykssh_err *err = NULL;
	const char *comment = strchr(k->pub_line, ' ');

	*wiredp = NULL;
	if ((wd = calloc(1, sizeof(*wd))) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	if (w->bb != NULL) {
		/* The comment is the third field of the .pub line. */
		if (comment != NULL)
			comment = strchr(comment + 1, ' ');
		comment = comment != NULL ? comment + 1 : NULL;
		if ((err = ykssh_bb_register(w->bb, k->key, comment,
		    w->bb_label, w->bb_label_explicit, w->expires_days, &bk,
		    &wd->bb_already)) != NULL) {
			err = ykssh_err_hint(YKSSH_ERR_WRAP(err,
			    "the key is in %s but not registered",
			    k->pub_path), "fix the cause, then run 'ykssh "
			    "register %s'", k->pub_path);
			goto out;
		}
		if ((wd->bb_id = strdup(bk->id)) == NULL ||
		    (wd->bb_label = strdup(bk->label != NULL ? bk->label :
		    w->bb_label)) == NULL) {
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if (!w->no_config && k->backup && (err = write_config(ctx, home, k,
	    w, wd)) != NULL) {
		err = ykssh_err_hint(YKSSH_ERR_WRAP(err,
		    "the backup key is%s ready but ~/.ssh/config was not "
		    "changed", w->bb != NULL ? " registered and" : ""),
		    "fix the cause, then add it after the first key: 'ykssh "
		    "config apply --label %s --key-id <first key's "
		    "fingerprint>,%s --identity-file <first key's stub> "
		    "--identity-file %s' (and --host as in the entry)",
		    k->label, k->fingerprint, k->identity);
		goto out;
	}
	if (!w->no_config && !k->backup && (err = write_config(ctx, home, k,
	    w, wd)) != NULL) {
		err = ykssh_err_hint(YKSSH_ERR_WRAP(err,
		    "the key is%s ready but ~/.ssh/config was not changed",
		    w->bb != NULL ? " registered and" : ""),
		    "fix the cause, then run 'ykssh config apply "
		    "--identity-file %s%s%s'", k->identity,
		    k->pkcs11_provider != NULL ? " --pkcs11-provider " : "",
		    k->pkcs11_provider != NULL ? k->pkcs11_provider : "");
		goto out;
	}
	*wiredp = wd;
	wd = NULL;
out:
	ykssh_bb_key_free(bk);
	ykssh_enroll_wired_free(wd);
	return err;
}
