/* SPDX-License-Identifier: BSD-2-Clause */
/* Revocation; see revoke.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ykssh/attest.h"
#include "ykssh/bitbucket.h"
#include "enroll-internal.h"
#include "ykssh/enroll.h"
#include "ykssh/fido.h"
#include "ykssh/piv.h"
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
	/* enroll --piv: id_piv_<slot>_<label>.pub */
	return strncmp(name, "id_piv_", 7) == 0 && strlen(name) > 10 &&
	    isxdigit((unsigned char)name[7]) &&
	    isxdigit((unsigned char)name[8]) && name[9] == '_' &&
	    (size_t)snprintf(want, sizeof(want), "%s.pub", label) <
	    sizeof(want) && strcmp(name + 10, want) == 0;
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

/*
 * The nth (0-based) fingerprint of a marker's key id: "fp" or, with a
 * backup token, "primary-fp,backup-fp".  NULL when absent or not SHA256.
 */
static char *
key_id_nth(const char *key_id, size_t nth)
{
	size_t len;

	if (key_id == NULL)
		return NULL;
	for (; nth > 0; nth--) {
		if ((key_id = strchr(key_id, ',')) == NULL)
			return NULL;
		key_id++;
	}
	len = strcspn(key_id, ",");
	if (len <= 7 || strncmp(key_id, "SHA256:", 7) != 0)
		return NULL;
	return strndup(key_id, len);
}

/* Where a key is in ykssh's config: its block, and its place there. */
struct place {
	size_t	 index;		/* of its IdentityFile in the block */
	size_t	 count;		/* identities in the block */
};

#define BACKUP_SUFFIX	"-backup"

/*
 * ykssh's config block for the label or for the fingerprint.  A block
 * names each of its keys in its marker, in IdentityFile order: the
 * block's label is the first key's; "<label>-backup" is the second's (a
 * backup token, ykssh enroll --backup).
 */
static struct ykssh_err *
find_block(const char *config, const char *label, const char *fp,
    char **labelp, char **fpp, struct place *pl)
{
	struct ykssh_sshconfig_block *b;
	struct ykssh_err *err;
	size_t n, i, j, sl = strlen(BACKUP_SUFFIX), ll;
	char *k;
	int pass;

	*labelp = *fpp = NULL;
	memset(pl, 0, sizeof(*pl));
	if ((err = ykssh_sshconfig_list_file(config, &b, &n)) != NULL)
		return err;
	ll = label != NULL ? strlen(label) : 0;
	/* An exact label first, then a backup's, then the fingerprint. */
	for (pass = 0; pass < 3 && *labelp == NULL; pass++) {
		for (i = 0; i < n && *labelp == NULL; i++) {
			pl->count = b[i].nidentity_files;
			if (pass == 0 && label != NULL &&
			    strcmp(b[i].label, label) == 0) {
				*labelp = strdup(b[i].label);
				*fpp = key_id_nth(b[i].key_id, 0);
				pl->index = 0;
			} else if (pass == 1 && label != NULL && ll > sl &&
			    strcmp(label + ll - sl, BACKUP_SUFFIX) == 0 &&
			    strncmp(b[i].label, label, ll - sl) == 0 &&
			    b[i].label[ll - sl] == '\0' &&
			    (*fpp = key_id_nth(b[i].key_id, 1)) != NULL) {
				*labelp = strdup(b[i].label);
				pl->index = 1;
			}
			for (j = 0; pass == 2 && fp != NULL &&
			    *labelp == NULL &&
			    (k = key_id_nth(b[i].key_id, j)) != NULL; j++) {
				if (strcmp(k, fp) == 0) {
					*labelp = strdup(b[i].label);
					*fpp = k;
					k = NULL;
					pl->index = j;
				}
				free(k);
			}
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

/*
 * A block with a backup token's key too: only this key's IdentityFile
 * (and fingerprint) leaves it.  When the first key goes, the block is
 * the backup's alone and takes its label, "<label>-backup".
 */
static struct ykssh_err *
drop_identity(struct ykssh_ctx *ctx, const char *config,
    const struct ykssh_sshconfig_opts *so, struct ykssh_revoke_report *r,
    const struct place *pl, char **keptp)
{
	struct ykssh_sshconfig_block *b = NULL;
	struct ykssh_sshconfig_report *rep = NULL;
	struct ykssh_sshconfig_entry e;
	struct ykssh_err *err = NULL;
	const char **ids = NULL;
	char *key_id = NULL, *label = NULL, *k, *tmp;
	size_t n = 0, i, j, m = 0;

	*keptp = NULL;
	if ((err = ykssh_sshconfig_list_file(config, &b, &n)) != NULL)
		return err;
	for (i = 0; i < n; i++)
		if (strcmp(b[i].label, r->label) == 0)
			break;
	if (i == n || b[i].nidentity_files != pl->count) {
		err = YKSSH_ERR(YKSSH_ERR_CONFIG, "the ykssh entry '%s' "
		    "changed while revoking", r->label);
		goto out;
	}
	if (b[i].edited) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG, "lines "
		    "%zu-%zu: the ykssh block '%s' was edited by hand",
		    b[i].first_line, b[i].last_line, r->label), "remove this "
		    "key's IdentityFile line by hand, or restore the block "
		    "with 'ykssh config apply --force'");
		goto out;
	}
	if ((err = ykssh_sshconfig_block_entry(&b[i], &e)) != NULL)
		goto out;
	if ((ids = calloc(b[i].nidentity_files, sizeof(*ids))) == NULL)
		goto nomem;
	for (j = 0; j < b[i].nidentity_files; j++) {
		if (j == pl->index)
			continue;
		ids[m++] = b[i].identity_files[j];
		if ((k = key_id_nth(b[i].key_id, j)) == NULL)
			continue;
		if (asprintf(&tmp, "%s%s%s", key_id != NULL ? key_id : "",
		    key_id != NULL ? "," : "", k) < 0) {
			free(k);
			goto nomem;
		}
		free(k);
		free(key_id);
		key_id = tmp;
	}
	e.identity_file = ids[0];
	e.more_identity_files = ids + 1;
	e.nmore_identity_files = m - 1;
	e.key_id = key_id;
	if (pl->index == 0) {
		if (asprintf(&label, "%s" BACKUP_SUFFIX, r->label) < 0) {
			label = NULL;
			goto nomem;
		}
		e.replaces = r->label;
		e.label = label;
	}
	if ((err = ykssh_sshconfig_apply_file(ctx, config, &e, so, &rep)) !=
	    NULL)
		goto out;
	if (asprintf(keptp, "%s: kept %s", r->label, ids[0]) < 0)
		*keptp = NULL;
	goto out;
nomem:
	err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
out:
	ykssh_sshconfig_report_free(rep);
	ykssh_sshconfig_blocks_free(b, n);
	free(ids);
	free(key_id);
	free(label);
	return err;
}

static void
step_config(struct ykssh_ctx *ctx, const char *config,
    struct ykssh_revoke_report *r, const struct place *pl)
{
	struct ykssh_sshconfig_opts so;
	struct ykssh_sshconfig_report *rep = NULL;
	struct ykssh_err *err;
	char *kept = NULL;

	if (r->label == NULL) {
		set_step(r, YKSSH_REVOKE_CONFIG, YKSSH_REVOKE_ABSENT,
		    "no ykssh entry in ~/.ssh/config", NULL);
		return;
	}
	memset(&so, 0, sizeof(so));
	so.name = "~/.ssh/config";
	if (pl->count > 1)
		err = drop_identity(ctx, config, &so, r, pl, &kept);
	else
		err = ykssh_sshconfig_remove_file(ctx, config, r->label, &so,
		    &rep);
	if (err != NULL)
		set_step(r, YKSSH_REVOKE_CONFIG, YKSSH_REVOKE_FAILED, NULL,
		    err);
	else
		set_step(r, YKSSH_REVOKE_CONFIG, YKSSH_REVOKE_DONE,
		    kept != NULL ? kept : r->label, NULL);
	free(kept);
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

/* The slot of the card holding the key with fingerprint fp, or 0. */
static struct ykssh_err *
find_slot(struct ykssh_piv *piv, const char *fp, uint8_t *slotp)
{
	struct ykssh_piv_slot_key sk;
	struct ykssh_err *err;
	char *kfp;
	uint8_t slot;
	size_t i;

	*slotp = 0;
	for (i = 0; *slotp == 0 && (slot = ykssh_piv_key_slot(i)) != 0;
	    i++) {
		if ((err = ykssh_piv_read_slot_key(piv, slot, NULL, 0,
		    &sk)) != NULL)
			return err;
		kfp = NULL;
		if (sk.key != NULL && (err = ykssh_sshkey_fingerprint(sk.key,
		    &kfp)) != NULL) {
			ykssh_piv_slot_key_clear(&sk);
			return err;
		}
		if (kfp != NULL && strcmp(kfp, fp) == 0)
			*slotp = slot;
		free(kfp);
		ykssh_piv_slot_key_clear(&sk);
	}
	return NULL;
}

static void
step_token_piv(struct ykssh_ctx *ctx, const struct ykssh_revoke_opts *o,
    struct ykssh_revoke_report *r)
{
	struct ykssh_piv *piv = NULL;
	struct ykssh_piv_mgmt_status ms;
	struct ykssh_enroll_ui ui;
	struct ykssh_err *err;
	const char *how = NULL;
	char detail[320];
	uint8_t slot = 0;
	int pin_used;

	if ((err = ykssh_piv_open(ctx, o->reader, &piv)) != NULL) {
		if (ykssh_err_code(err) == YKSSH_ERR_DEVICE_NOT_FOUND) {
			ykssh_err_free(err);
			set_step(r, YKSSH_REVOKE_TOKEN, YKSSH_REVOKE_PENDING,
			    "no PIV card: when it is found, run 'ykssh revoke "
			    "--on-token --piv' with the fingerprint", NULL);
		} else
			set_step(r, YKSSH_REVOKE_TOKEN, YKSSH_REVOKE_FAILED,
			    NULL, err);
		return;
	}
	if ((err = find_slot(piv, r->fingerprint, &slot)) != NULL)
		goto out;
	if (slot == 0) {
		snprintf(detail, sizeof(detail), "no PIV slot of the card in "
		    "%s holds that key", ykssh_piv_reader(piv));
		set_step(r, YKSSH_REVOKE_TOKEN, YKSSH_REVOKE_ABSENT, detail,
		    NULL);
		goto out;
	}
	memset(&ui, 0, sizeof(ui));
	ui.get_pin = o->get_pin;
	ui.arg = o->arg;
	if ((err = ykssh_piv_mgmt_status(piv, &ms)) != NULL ||
	    (err = ykssh_enroll_piv_auth(&ui, piv, &ms, &pin_used)) != NULL ||
	    (err = ykssh_piv_delete_key(piv, slot, &how)) != NULL)
		goto out;
	snprintf(detail, sizeof(detail), "slot %02x of the card in %s: key "
	    "%s, certificate removed", slot, ykssh_piv_reader(piv), how);
	set_step(r, YKSSH_REVOKE_TOKEN, YKSSH_REVOKE_DONE, detail, NULL);
out:
	if (err != NULL)
		set_step(r, YKSSH_REVOKE_TOKEN, YKSSH_REVOKE_FAILED, NULL,
		    slot != 0 ? YKSSH_ERR_WRAP(err, "the key is still in "
		    "slot %02x", slot) : err);
	ykssh_piv_close(piv);
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
		step_token_piv(ctx, o, r);
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
	struct place pl;
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
	if ((err = find_block(config, label, fp_given, &r->label, &bfp,
	    &pl)) != NULL)
		goto out;
	r->backup = r->label != NULL && pl.index > 0;
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
	step_config(ctx, config, r, &pl);
	step_files(r, sk);
	step_token(ctx, o, r, sk && !o->piv);
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
