/* SPDX-License-Identifier: BSD-2-Clause */
/* Revocation; see revoke.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ykssh/attest.h"
#include "ykssh/bitbucket.h"
#include "ykssh/fido.h"
#include "ykssh/revoke.h"
#include "ykssh/sshconfig.h"

#define PIN_MAX		63

const char *
ykssh_revoke_step_name(enum ykssh_revoke_step step)
{
	static const char *names[] = { "bitbucket", "config", "files",
	    "token" };

	return (size_t)step < YKSSH_REVOKE_NSTEPS ? names[step] : "?";
}

const char *
ykssh_revoke_state_name(enum ykssh_revoke_state state)
{
	static const char *names[] = { "skipped", "done", "absent",
	    "pending", "failed" };

	return (size_t)state < sizeof(names) / sizeof(names[0]) ?
	    names[state] : "?";
}

void
ykssh_revoke_report_free(struct ykssh_revoke_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	free(r->fingerprint);
	free(r->label);
	free(r->stub_path);
	free(r->pub_path);
	for (i = 0; i < YKSSH_REVOKE_NSTEPS; i++) {
		free(r->detail[i]);
		free(r->hint[i]);
	}
	free(r);
}

/* Records a step's outcome; a failure keeps its message. */
static void
set_step(struct ykssh_revoke_report *r, enum ykssh_revoke_step s,
    enum ykssh_revoke_state st, const char *detail, struct ykssh_err *err)
{
	r->state[s] = st;
	r->code[s] = st == YKSSH_REVOKE_PENDING ?
	    YKSSH_ERR_DEVICE_NOT_FOUND : err != NULL ? ykssh_err_code(err) :
	    YKSSH_ERR_SUCCESS;
	free(r->detail[s]);
	free(r->hint[s]);
	r->detail[s] = r->hint[s] = NULL;
	if (err != NULL) {
		const struct ykssh_err *e;
		char *msg = NULL, *tmp;

		for (e = err; e != NULL; e = ykssh_err_cause(e)) {
			if (asprintf(&tmp, "%s%s%s", msg != NULL ? msg : "",
			    msg != NULL ? ": " : "", ykssh_err_message(e)) < 0)
				break;
			free(msg);
			msg = tmp;
		}
		r->detail[s] = msg;
		if (ykssh_err_find_hint(err) != NULL)
			r->hint[s] = strdup(ykssh_err_find_hint(err));
		ykssh_err_free(err);
	} else if (detail != NULL)
		r->detail[s] = strdup(detail);
}

/* Is name (a .pub file) the key ykssh enrolled under label? */
static int
name_is_label(const char *name, const char *label)
{
	static const char *bases[] = { "", "id_ed25519_sk_", "id_ecdsa_sk_" };
	char want[512];
	size_t i;

	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		if ((size_t)snprintf(want, sizeof(want), "%s%s.pub", bases[i],
		    label) < sizeof(want) && strcmp(name, want) == 0)
			return 1;
	}
	return 0;
}

/*
 * The .pub file of ~/.ssh whose key has fingerprint fp, or (fp NULL) that
 * ykssh named after label; the first match wins.
 */
static struct ykssh_err *
find_pub(const char *sshdir, const char *fp, const char *label,
    char **pathp, char **fpp, int *skp)
{
	DIR *d;
	struct dirent *de;
	struct ykssh_sshkey *k = NULL;
	struct ykssh_err *e;
	char *path = NULL, *kfp = NULL;
	size_t n;
	int exists;

	*pathp = *fpp = NULL;
	if ((d = opendir(sshdir)) == NULL)
		return NULL;
	while (*pathp == NULL && (de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".pub") != 0 ||
		    (fp == NULL && !name_is_label(de->d_name, label)))
			continue;
		free(path);
		free(kfp);
		ykssh_sshkey_free(k);
		kfp = NULL;
		k = NULL;
		if (asprintf(&path, "%s/%s", sshdir, de->d_name) < 0) {
			path = NULL;
			break;
		}
		if ((e = ykssh_sshkey_load_public(path, &k, NULL,
		    &exists)) == NULL && exists)
			e = ykssh_sshkey_fingerprint(k, &kfp);
		if (e != NULL || !exists) {
			/* Not a key we can read: not ours to judge. */
			ykssh_err_free(e);
			continue;
		}
		if (fp == NULL || strcmp(kfp, fp) == 0) {
			*skp = ykssh_sshkey_type_is_sk(ykssh_sshkey_type(k));
			*pathp = path;
			*fpp = kfp;
			path = kfp = NULL;
		}
	}
	closedir(d);
	free(path);
	free(kfp);
	ykssh_sshkey_free(k);
	return NULL;
}

/* ykssh's config block for the label or for the fingerprint. */
static struct ykssh_err *
find_block(const char *config, const char *label, const char *fp,
    char **labelp, char **fpp)
{
	struct ykssh_sshconfig_block *b;
	struct ykssh_err *err;
	size_t n, i;

	*labelp = *fpp = NULL;
	if ((err = ykssh_sshconfig_list_file(config, &b, &n)) != NULL)
		return err;
	for (i = 0; i < n; i++) {
		if ((label != NULL && strcmp(b[i].label, label) == 0) ||
		    (fp != NULL && b[i].key_id != NULL &&
		    strcmp(b[i].key_id, fp) == 0)) {
			*labelp = strdup(b[i].label);
			if (b[i].key_id != NULL &&
			    strncmp(b[i].key_id, "SHA256:", 7) == 0)
				*fpp = strdup(b[i].key_id);
			break;
		}
	}
	ykssh_sshconfig_blocks_free(b, n);
	return NULL;
}

static void
step_bitbucket(const struct ykssh_revoke_opts *o, struct ykssh_revoke_report *r)
{
	struct ykssh_bb_key *k = NULL;
	struct ykssh_err *err;

	if (o->bb == NULL)
		return;
	err = ykssh_bb_delete(o->bb, r->fingerprint, &k);
	if (err == NULL)
		set_step(r, YKSSH_REVOKE_BITBUCKET, YKSSH_REVOKE_DONE,
		    k->id, NULL);
	else if (ykssh_err_code(err) == YKSSH_ERR_NOT_FOUND) {
		ykssh_err_free(err);
		set_step(r, YKSSH_REVOKE_BITBUCKET, YKSSH_REVOKE_ABSENT,
		    "not registered on the account", NULL);
	} else
		set_step(r, YKSSH_REVOKE_BITBUCKET, YKSSH_REVOKE_FAILED, NULL,
		    err);
	ykssh_bb_key_free(k);
}

static void
step_config(struct ykssh_ctx *ctx, const char *config,
    struct ykssh_revoke_report *r)
{
	struct ykssh_sshconfig_opts so;
	struct ykssh_sshconfig_report *rep = NULL;
	struct ykssh_err *err;

	if (r->label == NULL) {
		set_step(r, YKSSH_REVOKE_CONFIG, YKSSH_REVOKE_ABSENT,
		    "no ykssh entry in ~/.ssh/config", NULL);
		return;
	}
	memset(&so, 0, sizeof(so));
	so.name = "~/.ssh/config";
	if ((err = ykssh_sshconfig_remove_file(ctx, config, r->label, &so,
	    &rep)) != NULL)
		set_step(r, YKSSH_REVOKE_CONFIG, YKSSH_REVOKE_FAILED, NULL,
		    err);
	else
		set_step(r, YKSSH_REVOKE_CONFIG, YKSSH_REVOKE_DONE, r->label,
		    NULL);
	ykssh_sshconfig_report_free(rep);
}

static void
step_files(struct ykssh_revoke_report *r, int sk)
{
	/* The attestation enroll saved beside the key goes too. */
	char *att = r->pub_path == NULL ? NULL : ykssh_attest_path(
	    r->pub_path, sk ? YKSSH_KEY_ED25519_SK : YKSSH_KEY_ECDSA_P256);
	const char *paths[3] = { r->stub_path, r->pub_path, att };
	int removed = 0, i;

	for (i = 0; i < 3; i++) {
		if (paths[i] == NULL)
			continue;
		if (unlink(paths[i]) == 0)
			removed++;
		else if (errno != ENOENT) {
			set_step(r, YKSSH_REVOKE_FILES, YKSSH_REVOKE_FAILED,
			    NULL, YKSSH_ERRNO(YKSSH_ERR_SYSTEM,
			    "cannot remove %s", paths[i]));
			free(att);
			return;
		}
	}
	free(att);
	set_step(r, YKSSH_REVOKE_FILES, removed ? YKSSH_REVOKE_DONE :
	    YKSSH_REVOKE_ABSENT, removed ? NULL : "no key files", NULL);
}

static void
step_token(struct ykssh_ctx *ctx, const struct ykssh_revoke_opts *o,
    struct ykssh_revoke_report *r, int sk)
{
	struct ykssh_fido_dev *dev = NULL;
	struct ykssh_secret *pin = NULL;
	struct ykssh_err *err;
	char prompt[128];
	int found = 0;

	if (!o->on_token)
		return;
	if (!sk) {
		set_step(r, YKSSH_REVOKE_TOKEN, YKSSH_REVOKE_FAILED, NULL,
		    ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_UNSUPPORTED, "not a "
		    "FIDO2 key: ykssh cannot delete a PIV slot's key yet"),
		    "on firmware 5.7, 'ykman piv keys delete SLOT'; else "
		    "overwrite the slot with 'ykssh enroll --piv --force'"));
		return;
	}
	if ((err = ykssh_fido_open(ctx, o->devices, o->ndevices, &dev)) !=
	    NULL) {
		if (ykssh_err_code(err) == YKSSH_ERR_DEVICE_NOT_FOUND) {
			ykssh_err_free(err);
			set_step(r, YKSSH_REVOKE_TOKEN, YKSSH_REVOKE_PENDING,
			    "no token: when it is found, run 'ykssh revoke "
			    "--on-token' with the fingerprint", NULL);
		} else
			set_step(r, YKSSH_REVOKE_TOKEN, YKSSH_REVOKE_FAILED,
			    NULL, err);
		return;
	}
	if ((pin = ykssh_secret_new(PIN_MAX)) == NULL) {
		set_step(r, YKSSH_REVOKE_TOKEN, YKSSH_REVOKE_FAILED, NULL,
		    YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory"));
		goto out;
	}
	snprintf(prompt, sizeof(prompt), "Enter the FIDO PIN of your %s: ",
	    ykssh_fido_model(dev));
	if (o->get_pin == NULL)
		err = YKSSH_ERR(YKSSH_ERR_PIN_REQUIRED,
		    "deleting a resident key needs the token's PIN");
	else
		err = o->get_pin(o->arg, prompt, pin);
	if (err == NULL)
		err = ykssh_fido_delete_resident(dev, r->fingerprint,
		    ykssh_secret_str(pin), &found);
	if (err != NULL)
		set_step(r, YKSSH_REVOKE_TOKEN, YKSSH_REVOKE_FAILED, NULL, err);
	else
		set_step(r, YKSSH_REVOKE_TOKEN, found ? YKSSH_REVOKE_DONE :
		    YKSSH_REVOKE_ABSENT, found ? ykssh_fido_model(dev) :
		    "no resident key with that fingerprint on the token", NULL);
out:
	ykssh_secret_free(pin);
	ykssh_fido_close(dev);
}

struct ykssh_err *
ykssh_revoke(struct ykssh_ctx *ctx, const struct ykssh_revoke_opts *o,
    struct ykssh_revoke_report **reportp)
{
	struct ykssh_revoke_report *r;
	struct ykssh_err *err = NULL;
	const char *fp_given = strncmp(o->which, "SHA256:", 7) == 0 ?
	    o->which : NULL;
	const char *label = fp_given == NULL ? o->which : NULL;
	char *sshdir = NULL, *config = NULL, *bfp = NULL, *pfp = NULL;
	struct stat st;
	size_t n;
	int sk = 1;	/* no .pub to tell: try the FIDO2 token */

	*reportp = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    asprintf(&sshdir, "%s/.ssh", o->home) < 0 ||
	    (o->config_path != NULL ? (config = strdup(o->config_path)) ==
	    NULL : asprintf(&config, "%s/config", sshdir) < 0)) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* The config entry names the key; the .pub file holds it. */
	if ((err = find_block(config, label, fp_given, &r->label, &bfp)) !=
	    NULL)
		goto out;
	r->fingerprint = fp_given != NULL ? strdup(fp_given) : bfp;
	if (fp_given != NULL)
		free(bfp);
	bfp = NULL;
	if ((err = find_pub(sshdir, r->fingerprint, r->fingerprint == NULL ?
	    label : NULL, &r->pub_path, &pfp, &sk)) != NULL)
		goto out;
	if (r->fingerprint == NULL) {
		r->fingerprint = pfp;
		pfp = NULL;
	}
	if (r->fingerprint == NULL) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_FILE_NOT_FOUND,
		    "no key \"%s\": no ykssh entry in ~/.ssh/config and no "
		    "key file by that name", o->which),
		    "name the key by its SHA256 fingerprint ('ykssh register "
		    "--list' shows them)");
		goto out;
	}
	if (r->pub_path != NULL && (n = strlen(r->pub_path)) > 4 &&
	    (r->stub_path = strndup(r->pub_path, n - 4)) != NULL &&
	    (lstat(r->stub_path, &st) != 0 || !S_ISREG(st.st_mode))) {
		free(r->stub_path);
		r->stub_path = NULL;
	}
	if (o->confirm != NULL && !o->confirm(o->arg, r)) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CANCELLED,
		    "not revoked: not confirmed"), "answer y, or use --force "
		    "to revoke without asking");
		goto out;
	}
	/* Access first: the registration, then where ssh looks, then files. */
	step_bitbucket(o, r);
	step_config(ctx, config, r);
	step_files(r, sk);
	step_token(ctx, o, r, sk);
	*reportp = r;
	r = NULL;
out:
	free(sshdir);
	free(config);
	free(bfp);
	free(pfp);
	ykssh_revoke_report_free(r);
	return err;
}
