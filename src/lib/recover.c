/* SPDX-License-Identifier: BSD-2-Clause */
/* Recovery of stubs from a token's resident keys; see recover.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ykssh/atomicfile.h"
#include "ykssh/fido.h"
#include "ykssh/recover.h"

#define STUB_MAX	(64 * 1024)
#define NAME_TRIES	100

const char *
ykssh_recover_state_name(enum ykssh_recover_state state)
{
	static const char *names[] = { "written", "present", "replaced",
	    "failed" };

	return (size_t)state < sizeof(names) / sizeof(names[0]) ?
	    names[state] : "?";
}

void
ykssh_recover_result_free(struct ykssh_recover_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		struct ykssh_recovered *k = &r->keys[i];

		ykssh_sshkey_free(k->key);
		free(k->fingerprint);
		free(k->user);
		free(k->label);
		free(k->pub_line);
		free(k->stub_path);
		free(k->pub_path);
		free(k->backups[0]);
		free(k->backups[1]);
		free(k->backups[2]);
		free(k->attestation_path);
		ykssh_err_free(k->error);
	}
	free(r->keys);
	free(r->token_path);
	free(r->token_model);
	free(r);
}

/* Does the stub at path hold this very key (blob, application, handle)? */
static int
stub_holds(const char *path, const struct ykssh_sshkey *key)
{
	struct ykssh_sshkey *k = NULL;
	struct ykssh_err *err;
	char *data = NULL;
	size_t len;
	int exists, same = 0, enc = 0;

	err = ykssh_atomicfile_read(path, STUB_MAX, &data, &len, &exists);
	if (err == NULL && exists)
		err = ykssh_sshkey_parse_stub((const uint8_t *)data, len, &k,
		    NULL, &enc);
	if (err == NULL && exists && !enc) {
		same = ykssh_sshkey_equal_public(k, key) &&
		    strcmp(ykssh_sshkey_application(k),
		    ykssh_sshkey_application(key)) == 0 &&
		    ykssh_sshkey_key_handle_len(k) ==
		    ykssh_sshkey_key_handle_len(key) &&
		    memcmp(ykssh_sshkey_key_handle_ptr(k),
		    ykssh_sshkey_key_handle_ptr(key),
		    ykssh_sshkey_key_handle_len(key)) == 0;
	}
	ykssh_err_free(err);
	ykssh_sshkey_free(k);
	free(data);
	return same;
}

static int
taken(const struct ykssh_recover_result *r, size_t upto, const char *path)
{
	size_t i;

	for (i = 0; i < upto; i++)
		if (r->keys[i].stub_path != NULL &&
		    strcmp(r->keys[i].stub_path, path) == 0)
			return 1;
	return 0;
}

/*
 * The stub's name: what enroll would have called it, unless an earlier key
 * of this run took it (several users under one application).
 */
static struct ykssh_err *
name_key(const char *sshdir, struct ykssh_recover_result *r, size_t i)
{
	struct ykssh_recovered *k = &r->keys[i];
	const char *app = ykssh_sshkey_application(k->key);
	const char *base = ykssh_sshkey_type(k->key) == YKSSH_KEY_ECDSA_SK ?
	    "id_ecdsa_sk" : "id_ed25519_sk";
	struct ykssh_err *err;
	int n;

	if (strlen(app) > 4) {
		if ((err = ykssh_enroll_check_label(app + 4)) != NULL)
			return ykssh_err_hint(YKSSH_ERR_WRAP(err, "application "
			    "\"%.64s\" cannot name a file", app), "recover "
			    "this key with 'ssh-keygen -K'");
		if ((k->label = strdup(app + 4)) == NULL)
			return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	}
	for (n = 1; n <= NAME_TRIES; n++) {
		char suffix[16] = "";

		if (n > 1)
			snprintf(suffix, sizeof(suffix), "_%d", n);
		free(k->stub_path);
		free(k->pub_path);
		k->pub_path = NULL;
		if (asprintf(&k->stub_path, "%s/%s%s%s%s", sshdir, base,
		    k->label != NULL ? "_" : "", k->label != NULL ? k->label :
		    "", suffix) < 0 || asprintf(&k->pub_path, "%s.pub",
		    k->stub_path) < 0) {
			k->stub_path = NULL;
			return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		}
		if (taken(r, i, k->stub_path))
			continue;
		/* A second key of one application: its own config label. */
		if (n > 1) {
			free(k->label);
			if ((k->label = strdup(strrchr(k->stub_path, '/') +
			    1)) == NULL)
				return YKSSH_ERR(YKSSH_ERR_NOMEM,
				    "out of memory");
		}
		return NULL;
	}
	return YKSSH_ERR(YKSSH_ERR_FILE_EXISTS, "too many keys named %s",
	    base);
}

static struct ykssh_err *
write_one(struct ykssh_ctx *ctx, const char *path, const char *data,
    size_t len, mode_t mode, int force, char **backupp)
{
	struct ykssh_atomicfile_opts ao;
	struct ykssh_err *err;

	memset(&ao, 0, sizeof(ao));
	ao.mode = mode;
	ao.backup = force;
	ao.no_replace = !force;
	err = ykssh_atomicfile_write(ctx, path, data, len, &ao, backupp);
	if (err != NULL && ykssh_err_code(err) == YKSSH_ERR_FILE_EXISTS)
		return ykssh_err_hint(YKSSH_ERR_WRAP(err, "%s holds another "
		    "key", path), "move it away, or pass --force to replace "
		    "it (a backup is kept)");
	return err;
}

/* Writes (or finds) the stub and .pub of key i. */
static void
save_key(struct ykssh_ctx *ctx, const struct ykssh_recover_opts *o,
    const char *sshdir, const char *comment, struct ykssh_recover_result *r,
    size_t i)
{
	struct ykssh_recovered *k = &r->keys[i];
	struct ykssh_buf *stub = NULL;
	struct ykssh_err *err;
	char *line = NULL;
	struct stat st;
	int existed;

	if ((err = name_key(sshdir, r, i)) != NULL ||
	    (err = ykssh_sshkey_format_public(k->key, comment,
	    &k->pub_line)) != NULL)
		goto out;
	if (stub_holds(k->stub_path, k->key)) {
		k->state = YKSSH_RECOVER_PRESENT;
		/* The .pub may be missing or stale: it is derived data. */
		if (lstat(k->pub_path, &st) == 0)
			goto out;
	}
	existed = lstat(k->stub_path, &st) == 0 || errno != ENOENT;
	if ((stub = ykssh_buf_new()) == NULL || asprintf(&line, "%s\n",
	    k->pub_line) < 0) {
		line = NULL;
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (k->state != YKSSH_RECOVER_PRESENT &&
	    ((err = ykssh_sshkey_write_stub(k->key, comment, stub)) != NULL ||
	    (err = write_one(ctx, k->stub_path, (const char *)ykssh_buf_ptr(
	    stub), ykssh_buf_len(stub), 0600, o->force,
	    &k->backups[0])) != NULL))
		goto out;
	if ((err = write_one(ctx, k->pub_path, line, strlen(line), 0644,
	    o->force, &k->backups[1])) != NULL)
		goto out;
	if (k->state != YKSSH_RECOVER_PRESENT)
		k->state = existed ? YKSSH_RECOVER_REPLACED :
		    YKSSH_RECOVER_WRITTEN;
out:
	if (err != NULL) {
		k->state = YKSSH_RECOVER_FAILED;
		k->error = err;
	}
	free(line);
	ykssh_buf_free(stub);
}

struct ykssh_err *
ykssh_recover_fido(struct ykssh_ctx *ctx, const struct ykssh_recover_opts *o,
    const struct ykssh_enroll_ui *ui, struct ykssh_recover_result **resultp)
{
	struct ykssh_recover_result *r;
	struct ykssh_fido_residents rs;
	struct ykssh_fido_resident *rk;
	struct ykssh_err *err = NULL;
	char *sshdir = NULL, *defcomment = NULL;
	const char *comment = o->comment;
	size_t i, n;

	*resultp = NULL;
	memset(&rs, 0, sizeof(rs));
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    asprintf(&sshdir, "%s/.ssh", o->home) < 0) {
		sshdir = NULL;
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (comment == NULL && (comment = defcomment =
	    ykssh_enroll_default_comment()) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((err = ykssh_fido_read_residents(ctx, o->devices, o->ndevices,
	    ui != NULL ? ui->get_pin : NULL, ui != NULL ? ui->arg : NULL,
	    &rs)) != NULL)
		goto out;
	r->token_path = rs.path;
	r->token_model = rs.model;
	rs.path = rs.model = NULL;
	rk = rs.keys;
	if ((n = rs.n) == 0)
		goto out;
	if ((err = ykssh_atomicfile_mkdir(sshdir, 0700)) != NULL) {
		err = YKSSH_ERR_WRAP(err, "cannot use %s", sshdir);
		goto out;
	}
	if ((r->keys = calloc(n, sizeof(*r->keys))) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* The keys move from the token's list into the result. */
	for (i = 0; i < n; i++) {
		r->keys[i].key = rk[i].key;
		r->keys[i].fingerprint = rk[i].fingerprint;
		r->keys[i].user = rk[i].user;
		rk[i].key = NULL;
		rk[i].fingerprint = rk[i].user = NULL;
		r->n++;
		save_key(ctx, o, sshdir, comment, r, i);
	}
out:
	ykssh_fido_read_residents_clear(&rs);
	free(sshdir);
	free(defcomment);
	if (err != NULL) {
		ykssh_recover_result_free(r);
		return err;
	}
	*resultp = r;
	return NULL;
}
