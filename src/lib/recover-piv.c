/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Recovery of PIV keys: the .pub and attestation chain of every slot
 * enroll --piv filled, rebuilt from the card; see recover.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "enroll-internal.h"
#include "ykssh/atomicfile.h"
#include "ykssh/bitbucket.h"
#include "ykssh/enroll.h"
#include "ykssh/piv.h"
#include "ykssh/recover.h"

#define PUB_MAX		(64 * 1024)
#define NSLOTS		24

struct found {
	struct ykssh_piv_slot_key sk;
};

static struct ykssh_err *
write_one(struct ykssh_ctx *ctx, const char *path, const char *data,
    size_t len, int force, char **backupp)
{
	struct ykssh_atomicfile_opts ao;
	struct ykssh_err *err;

	memset(&ao, 0, sizeof(ao));
	ao.mode = 0644;
	ao.new_mode = 0644;
	ao.backup = force;
	ao.no_replace = !force;
	err = ykssh_atomicfile_write(ctx, path, data, len, &ao, backupp);
	if (err != NULL && ykssh_err_code(err) == YKSSH_ERR_FILE_EXISTS)
		return ykssh_err_hint(YKSSH_ERR_WRAP(err, "%s holds something "
		    "else", path), "move it away, or pass --force to replace "
		    "it (a backup is kept)");
	return err;
}

/* 1: path holds exactly data; 0: absent; -1: holds something else. */
static int
file_holds(const char *path, const char *data, size_t len)
{
	struct ykssh_err *err;
	char *old = NULL;
	size_t olen;
	int exists, r;

	err = ykssh_atomicfile_read(path, PUB_MAX, &old, &olen, &exists);
	if (err != NULL) {
		ykssh_err_free(err);
		return -1;
	}
	r = !exists ? 0 : olen == len && memcmp(old, data, len) == 0 ? 1 : -1;
	free(old);
	return r;
}

/* Does the .pub at path hold key (whatever its comment)? */
static int
pub_holds(const char *path, const struct ykssh_sshkey *key)
{
	struct ykssh_sshkey *k = NULL;
	struct ykssh_err *err;
	int exists = 0, same = 0;

	err = ykssh_sshkey_load_public(path, &k, NULL, &exists);
	if (err == NULL && exists)
		same = ykssh_sshkey_equal_public(k, key);
	ykssh_err_free(err);
	ykssh_sshkey_free(k);
	return same;
}

/* The label the key is registered under, if it can name a file. */
static char *
registered_label(const struct ykssh_bb_keylist *kl,
    const struct ykssh_sshkey *key)
{
	struct ykssh_sshkey *k;
	struct ykssh_err *err;
	size_t i;
	int same;

	for (i = 0; kl != NULL && i < kl->n; i++) {
		if (kl->keys[i].text == NULL || kl->keys[i].label == NULL)
			continue;
		k = NULL;
		if ((err = ykssh_sshkey_parse_public(kl->keys[i].text, &k,
		    NULL)) != NULL) {
			ykssh_err_free(err);
			continue;
		}
		same = ykssh_sshkey_equal_public(k, key);
		ykssh_sshkey_free(k);
		if (!same)
			continue;
		if ((err = ykssh_enroll_check_label(kl->keys[i].label)) !=
		    NULL) {
			/* ykssh's default labels have spaces: no label. */
			ykssh_err_free(err);
			return NULL;
		}
		return strdup(kl->keys[i].label);
	}
	return NULL;
}

/* Names, then writes (or finds) the .pub and the chain of key i. */
static void
save_key(struct ykssh_ctx *ctx, const struct ykssh_recover_opts *o,
    const char *sshdir, const char *comment,
    const struct ykssh_bb_keylist *kl, const struct ykssh_piv_slot_key *sk,
    const uint8_t *f9, size_t f9len, struct ykssh_recovered *k)
{
	struct ykssh_err *err = NULL;
	char *line = NULL, *pem = NULL;
	size_t pemlen = 0;
	int replaced = 0, written = 0, h;
	struct stat st;

	k->label = registered_label(kl, k->key);
	if (asprintf(&k->pub_path, "%s/id_piv_%02x%s%s.pub", sshdir,
	    k->slot, k->label != NULL ? "_" : "", k->label != NULL ?
	    k->label : "") < 0 || asprintf(&k->attestation_path,
	    "%s/id_piv_%02x%s%s-attestation.pem", sshdir, k->slot,
	    k->label != NULL ? "_" : "", k->label != NULL ? k->label : "") <
	    0) {
		k->pub_path = k->attestation_path = NULL;
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((err = ykssh_sshkey_format_public(k->key, comment,
	    &k->pub_line)) != NULL)
		goto out;
	if (asprintf(&line, "%s\n", k->pub_line) < 0) {
		line = NULL;
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!pub_holds(k->pub_path, k->key)) {
		if (lstat(k->pub_path, &st) == 0 || errno != ENOENT)
			replaced = 1;
		if ((err = write_one(ctx, k->pub_path, line, strlen(line),
		    o->force, &k->backups[1])) != NULL)
			goto out;
		written = 1;
	}
	/* The chain enroll wrote: the slot certificate, then F9's. */
	if (sk->attested) {
		if ((err = ykssh_enroll_piv_chain_pem(sk->cert, sk->cert_len,
		    f9, f9len, &pem, &pemlen)) != NULL)
			goto out;
		if ((h = file_holds(k->attestation_path, pem, pemlen)) != 1) {
			if (h < 0)
				replaced = 1;
			if ((err = write_one(ctx, k->attestation_path, pem,
			    pemlen, o->force, &k->backups[2])) != NULL)
				goto out;
			written = 1;
		}
	} else {
		free(k->attestation_path);
		k->attestation_path = NULL;
	}
	k->state = replaced ? YKSSH_RECOVER_REPLACED : written ?
	    YKSSH_RECOVER_WRITTEN : YKSSH_RECOVER_PRESENT;
out:
	if (err != NULL) {
		k->state = YKSSH_RECOVER_FAILED;
		k->error = err;
	}
	free(line);
	free(pem);
}

/* Reads the slots; keeps those to recover in f[], *np of them. */
static struct ykssh_err *
read_card(struct ykssh_piv *piv, const struct ykssh_recover_opts *o,
    const uint8_t *f9, size_t f9len, struct found *f, size_t *np,
    struct ykssh_recover_result *r)
{
	struct ykssh_piv_slot_key sk;
	struct ykssh_err *err;
	uint8_t slot;
	size_t i;

	*np = 0;
	for (i = 0; (slot = ykssh_piv_key_slot(i)) != 0; i++) {
		if (o->slot != 0 && slot != o->slot)
			continue;
		if ((err = ykssh_piv_read_slot_key(piv, slot, f9, f9len,
		    &sk)) != NULL)
			return err;
		if (sk.key == NULL || (o->slot == 0 && !sk.attested)) {
			if (sk.key != NULL && r->nskipped < NSLOTS)
				r->skipped[r->nskipped++] = slot;
			ykssh_piv_slot_key_clear(&sk);
			continue;
		}
		f[(*np)++].sk = sk;
	}
	return NULL;
}

struct ykssh_err *
ykssh_recover_piv(struct ykssh_ctx *ctx, const struct ykssh_recover_opts *o,
    struct ykssh_recover_result **resultp)
{
	struct ykssh_recover_result *r;
	struct ykssh_bb_keylist *kl = NULL;
	struct ykssh_piv *piv = NULL;
	struct ykssh_err *err = NULL;
	struct found f[NSLOTS];
	char *sshdir = NULL, *defcomment = NULL;
	const char *comment = o->comment;
	uint8_t *f9 = NULL;
	size_t i, n = 0, f9len = 0;

	*resultp = NULL;
	memset(f, 0, sizeof(f));
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
	if ((err = ykssh_piv_open(ctx, o->reader, &piv)) != NULL)
		goto out;
	if ((r->token_path = strdup(ykssh_piv_reader(piv))) == NULL ||
	    asprintf(&r->token_model, "%s (firmware %s)",
	    ykssh_piv_model(piv), ykssh_piv_firmware(piv)) < 0) {
		r->token_model = NULL;
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((err = ykssh_piv_read_f9(piv, &f9, &f9len)) != NULL ||
	    (err = read_card(piv, o, f9, f9len, f, &n, r)) != NULL)
		goto out;
	ykssh_piv_close(piv);	/* reset: nothing left verified */
	piv = NULL;
	if (n == 0)
		goto out;
	if (o->bb != NULL && (err = ykssh_bb_list(o->bb, &kl)) != NULL) {
		err = YKSSH_ERR_WRAP(err, "cannot read the account's keys");
		goto out;
	}
	if ((err = ykssh_atomicfile_mkdir(sshdir, 0700)) != NULL) {
		err = YKSSH_ERR_WRAP(err, "cannot use %s", sshdir);
		goto out;
	}
	if ((r->keys = calloc(n, sizeof(*r->keys))) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct ykssh_recovered *k = &r->keys[i];

		k->key = f[i].sk.key;
		f[i].sk.key = NULL;	/* transferred */
		k->slot = f[i].sk.slot;
		k->verified = f[i].sk.from_metadata &&
		    f[i].sk.cert_matches == 1;
		r->n++;
		if ((err = ykssh_sshkey_fingerprint(k->key,
		    &k->fingerprint)) != NULL)
			goto out;
		if (f[i].sk.from_metadata && f[i].sk.cert_matches == 0) {
			k->state = YKSSH_RECOVER_FAILED;
			k->error = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_DEVICE,
			    "the certificate in slot %02x is not the slot's "
			    "key", k->slot), "the slot was changed after "
			    "enrollment: enroll a new key ('ykssh enroll "
			    "--piv --force')");
		} else
			save_key(ctx, o, sshdir, comment, kl, &f[i].sk, f9,
			    f9len, k);
	}
out:
	ykssh_piv_close(piv);
	for (i = 0; i < NSLOTS; i++)
		ykssh_piv_slot_key_clear(&f[i].sk);
	ykssh_bb_keylist_free(kl);
	free(f9);
	free(sshdir);
	free(defcomment);
	if (err != NULL) {
		ykssh_recover_result_free(r);
		return err;
	}
	*resultp = r;
	return NULL;
}
