/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Backup tokens: a second token's key for an enrolled label, so losing one
 * token locks nobody out.  The plan is made before any token is touched:
 * the label's ykssh entry (one FIDO2 key), the primary's stub (its key
 * handle tells the primary token from the backup), and free names for the
 * backup ("<primary stub>-backup", label "<label>-backup").  Enrollment
 * itself is ykssh_enroll_fido; the entry is extended by ykssh_enroll_wire.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ykssh/atomicfile.h"
#include "ykssh/bitbucket.h"
#include "ykssh/enroll.h"
#include "ykssh/sshconfig.h"
#include "ykssh/sshkey.h"

#define STUB_MAX	(64 * 1024)
#define SUFFIX		"-backup"

void
ykssh_enroll_backup_free(struct ykssh_enroll_backup *bp)
{
	if (bp == NULL)
		return;
	free(bp->label);
	free(bp->backup_label);
	free(bp->primary_stub);
	free(bp->primary_fp);
	free(bp->backup_stub);
	ykssh_sshkey_free(bp->primary);
	free(bp);
}

static char *
config_of(const char *home, const char *config_path)
{
	char *p;

	if (config_path != NULL)
		return strdup(config_path);
	if (asprintf(&p, "%s/.ssh/config", home) < 0)
		return NULL;
	return p;
}

/* "~/x" as ssh reads it (the home ykssh was given is ssh's; enroll-wire). */
static char *
expand(const char *home, const char *path)
{
	char *p;

	if (strncmp(path, "~/", 2) != 0)
		return strdup(path);
	if (asprintf(&p, "%s%s", home, path + 1) < 0)
		return NULL;
	return p;
}

static struct ykssh_err *
load_stub(const char *path, struct ykssh_sshkey **keyp)
{
	struct ykssh_err *err;
	char *data = NULL;
	size_t len;
	int exists, encrypted = 0;

	*keyp = NULL;
	if ((err = ykssh_atomicfile_read(path, STUB_MAX, &data, &len,
	    &exists)) != NULL)
		return err;
	if (!exists) {
		free(data);
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_FILE_NOT_FOUND,
		    "the primary key's stub %s is missing", path),
		    "'ykssh recover' it (resident key), or enroll the label "
		    "again");
	}
	err = ykssh_sshkey_parse_stub((const uint8_t *)data, len, keyp, NULL,
	    &encrypted);
	free(data);
	if (err != NULL)
		return YKSSH_ERR_WRAP(err, "cannot read %s", path);
	if (encrypted || !ykssh_sshkey_type_is_sk(ykssh_sshkey_type(*keyp)) ||
	    !ykssh_sshkey_has_key_handle(*keyp)) {
		ykssh_sshkey_free(*keyp);
		*keyp = NULL;
		return YKSSH_ERR(YKSSH_ERR_UNSUPPORTED, "%s is not an "
		    "unencrypted security key stub", path);
	}
	return NULL;
}

struct ykssh_err *
ykssh_enroll_backup_plan(const char *home, const char *config_path,
    const char *label, struct ykssh_enroll_backup **bpp)
{
	struct ykssh_enroll_backup *bp = NULL;
	struct ykssh_sshconfig_block *b = NULL, *own = NULL;
	struct ykssh_err *err = NULL;
	char *config = NULL;
	size_t n = 0, i;

	*bpp = NULL;
	if ((err = ykssh_enroll_check_label(label)) != NULL)
		return err;
	if ((bp = calloc(1, sizeof(*bp))) == NULL ||
	    (bp->label = strdup(label)) == NULL ||
	    asprintf(&bp->backup_label, "%s" SUFFIX, label) < 0 ||
	    (config = config_of(home, config_path)) == NULL) {
		if (bp != NULL)
			bp->backup_label = NULL;
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((err = ykssh_enroll_check_label(bp->backup_label)) != NULL)
		goto out;
	if ((err = ykssh_sshconfig_list_file(config, &b, &n)) != NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if (strcmp(b[i].label, label) == 0)
			own = &b[i];
		else if (strcmp(b[i].label, bp->backup_label) == 0) {
			err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_FILE_EXISTS,
			    "%s already has a ykssh entry '%s' (line %zu)",
			    config, bp->backup_label, b[i].first_line),
			    "revoke it first ('ykssh revoke %s')",
			    bp->backup_label);
			goto out;
		}
	}
	if (own == NULL) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_FILE_NOT_FOUND,
		    "no ykssh entry '%s' in %s: a backup joins an enrolled "
		    "key", label, config), "enroll the first token with "
		    "'ykssh enroll --label %s', then the backup; 'ykssh "
		    "list' shows the labels", label);
		goto out;
	}
	if (own->edited) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG, "lines "
		    "%zu-%zu of %s: the ykssh entry '%s' was edited by hand",
		    own->first_line, own->last_line, config, label),
		    "'ykssh config apply --force' restores it; then add the "
		    "backup");
		goto out;
	}
	if (own->pkcs11_provider != NULL) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_UNSUPPORTED,
		    "'%s' is a PIV key: backup tokens are for FIDO2 keys",
		    label), "enroll the second token's PIV key under its own "
		    "--label and --host");
		goto out;
	}
	if (own->nidentity_files > 1) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_FILE_EXISTS,
		    "the ykssh entry '%s' has a backup already (%s)", label,
		    own->identity_files[1]), "to replace it, 'ykssh revoke "
		    "%s' first", bp->backup_label);
		goto out;
	}
	if (own->nidentity_files == 0) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG,
		    "the ykssh entry '%s' has no IdentityFile", label),
		    "enroll '%s' again", label);
		goto out;
	}
	if ((bp->primary_stub = expand(home, own->identity_files[0])) ==
	    NULL || asprintf(&bp->backup_stub, "%s" SUFFIX,
	    bp->primary_stub) < 0) {
		bp->backup_stub = NULL;
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((err = load_stub(bp->primary_stub, &bp->primary)) != NULL ||
	    (err = ykssh_sshkey_fingerprint(bp->primary,
	    &bp->primary_fp)) != NULL)
		goto out;
	bp->type = ykssh_sshkey_type(bp->primary);
	*bpp = bp;
	bp = NULL; /* transferred */
out:
	ykssh_sshconfig_blocks_free(b, n);
	free(config);
	ykssh_enroll_backup_free(bp);
	return err;
}

struct ykssh_err *
ykssh_enroll_backup_bb_label(struct ykssh_bb *bb,
    const struct ykssh_enroll_backup *bp, char **labelp)
{
	struct ykssh_bb_keylist *kl = NULL;
	struct ykssh_err *err;
	size_t i;

	*labelp = NULL;
	if ((err = ykssh_bb_list(bb, &kl)) != NULL)
		return err;
	for (i = 0; i < kl->n; i++)
		if (kl->keys[i].fingerprint != NULL &&
		    kl->keys[i].label != NULL &&
		    strcmp(kl->keys[i].fingerprint, bp->primary_fp) == 0)
			break;
	if (i < kl->n) {
		if (asprintf(labelp, "%s (backup)", kl->keys[i].label) < 0)
			*labelp = NULL;
	} else
		*labelp = strdup(bp->backup_label);
	ykssh_bb_keylist_free(kl);
	if (*labelp == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	return NULL;
}

struct ykssh_err *
ykssh_enroll_check_entry(const char *home, const char *config_path,
    const char *label, int force)
{
	struct ykssh_sshconfig_block *b = NULL;
	struct ykssh_err *err;
	char *config;
	size_t n = 0, i;

	if (force || label == NULL)
		return NULL;
	if ((config = config_of(home, config_path)) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	if ((err = ykssh_sshconfig_list_file(config, &b, &n)) != NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if (strcmp(b[i].label, label) != 0)
			continue;
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_FILE_EXISTS,
		    "'%s' is enrolled already (%s, line %zu)", label, config,
		    b[i].first_line), "to add this token as a backup, run "
		    "'ykssh enroll --backup %s'; to replace the key, add "
		    "--force; or choose another --label", label);
		break;
	}
out:
	ykssh_sshconfig_blocks_free(b, n);
	free(config);
	return err;
}
