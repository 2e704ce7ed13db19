/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Rotation of a PIV key (rotate.h): the new key is made in another slot
 * of the same card, so that the old one keeps working from its slot until
 * the new one is registered, proven and named by the entry.  The journal
 * (rotate-internal.h) holds the slots and the file names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enroll-internal.h"
#include "rotate-internal.h"
#include "ykssh/atomicfile.h"
#include "ykssh/attest.h"
#include "ykssh/bitbucket.h"
#include "ykssh/enroll.h"
#include "ykssh/piv.h"
#include "ykssh/sshconfig.h"

#define NAME_TRIES	100

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 || errno != ENOENT;
}

/* rename(2), where "from gone" means done before (or nothing to do). */
static struct ykssh_err *
rename_once(const char *from, const char *to)
{
	if (rename(from, to) == 0 || (errno == ENOENT && !exists(from)))
		return NULL;
	return YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot rename %s to %s", from,
	    to);
}

/* "<pub without .pub>-attestation.pem", as enroll --piv names it. */
static char *
attestation_name(const char *pub)
{
	size_t n = strlen(pub);
	char *s;

	if (n > 4 && strcmp(pub + n - 4, ".pub") == 0)
		n -= 4;
	if (asprintf(&s, "%.*s-attestation.pem", (int)n, pub) < 0)
		return NULL;
	return s;
}

static struct ykssh_err *
nomem(void)
{
	return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
}

/* The fingerprint of a slot's key, or NULL (no key). */
static struct ykssh_err *
slot_fp(const struct ykssh_piv_slot_key *sk, char **fpp)
{
	*fpp = NULL;
	if (sk->key == NULL)
		return NULL;
	return ykssh_sshkey_fingerprint(sk->key, fpp);
}

/* The old key's slot, and the new key's (free, never the old one's). */
static struct ykssh_err *
find_slots(struct ykssh_rotate_run *ru, struct ykssh_piv *piv)
{
	struct ykssh_rotate_journal *j = &ru->j;
	struct ykssh_piv_slot_key sk;
	struct ykssh_err *err;
	uint8_t slot, first_free = 0;
	int want_free = 0;
	char *fp;
	size_t i;

	for (i = 0; (slot = ykssh_piv_key_slot(i)) != 0; i++) {
		if ((err = ykssh_piv_read_slot_key(piv, slot, NULL, 0,
		    &sk)) != NULL)
			return err;
		if ((err = slot_fp(&sk, &fp)) != NULL) {
			ykssh_piv_slot_key_clear(&sk);
			return err;
		}
		if (fp != NULL && strcmp(fp, j->old_fp) == 0)
			j->old_slot = slot;
		if (slot == ru->o->piv_slot)
			want_free = sk.key == NULL && sk.cert == NULL;
		if (first_free == 0 && sk.key == NULL && sk.cert == NULL)
			first_free = slot;
		free(fp);
		ykssh_piv_slot_key_clear(&sk);
	}
	if (j->old_slot == 0)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_DEVICE_NOT_FOUND,
		    "no slot of the card in %s holds the key %s of \"%s\"",
		    ykssh_piv_reader(piv), j->old_fp, j->label), "insert the "
		    "card that holds it ('ykssh list --token --piv' shows a "
		    "card's keys), or use --reader");
	if (ru->o->piv_slot != 0) {
		if (ru->o->piv_slot == j->old_slot)
			return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_USAGE, "slot "
			    "%02x holds the old key of \"%s\": the new key "
			    "goes into another slot", j->old_slot, j->label),
			    "name an empty slot with --slot, or leave --slot "
			    "out (the first empty one)");
		if (!want_free)
			return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_SLOT_OCCUPIED,
			    "slot %02x of the card in %s is not empty",
			    ru->o->piv_slot, ykssh_piv_reader(piv)), "name an "
			    "empty slot with --slot ('ykssh list --token "
			    "--piv' shows the card's keys)");
		j->new_slot = ru->o->piv_slot;
		return NULL;
	}
	if (first_free == 0)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_SLOT_OCCUPIED, "no "
		    "empty PIV slot on the card in %s for the new key of "
		    "\"%s\" (9a, 9c, 9d, 9e and 82..95 are all used)",
		    ykssh_piv_reader(piv), j->label), "free a slot of a key "
		    "you no longer use ('ykssh revoke --on-token'), then run "
		    "the same command again");
	j->new_slot = first_free;
	return NULL;
}

/* The new key's file names in ~/.ssh; the old files' retired names. */
static struct ykssh_err *
plan_names(struct ykssh_rotate_run *ru)
{
	struct ykssh_rotate_journal *j = &ru->j;
	int i;

	for (i = 1; i <= NAME_TRIES; i++) {
		char sfx[16] = "";

		if (i > 1)
			snprintf(sfx, sizeof(sfx), "_%d", i);
		free(j->new_stub);
		free(j->new_pub);
		j->new_pub = NULL;
		if (asprintf(&j->new_stub, "%s/.ssh/id_piv_%02x_%s%s.pub",
		    ru->o->home, j->new_slot, j->label, sfx) < 0) {
			j->new_stub = NULL;
			return nomem();
		}
		if ((j->new_pub = attestation_name(j->new_stub)) == NULL)
			return nomem();
		if (!exists(j->new_stub) && !exists(j->new_pub))
			break;
	}
	for (i = 1; i <= NAME_TRIES; i++) {
		char sfx[16] = "";

		if (i > 1)
			snprintf(sfx, sizeof(sfx), ".%d", i);
		free(j->backup_stub);
		free(j->backup_pub);
		j->backup_stub = j->backup_pub = NULL;
		/* Not *.pub: 'ykssh list' is not about retired keys. */
		if (asprintf(&j->backup_stub, "%s.old%s", j->stub, sfx) < 0 ||
		    asprintf(&j->backup_pub, "%s.old%s", j->pub, sfx) < 0) {
			j->backup_stub = j->backup_pub = NULL;
			return nomem();
		}
		if (!exists(j->backup_stub) && !exists(j->backup_pub))
			break;
	}
	if (i > NAME_TRIES || exists(j->new_stub))
		return YKSSH_ERR(YKSSH_ERR_FILE_EXISTS, "no free key file name "
		    "in %s/.ssh", ru->o->home);
	return NULL;
}

struct ykssh_err *
ykssh_rotate_piv_plan(struct ykssh_rotate_run *ru)
{
	const struct ykssh_rotate_opts *o = ru->o;
	struct ykssh_rotate_journal *j = &ru->j;
	struct ykssh_piv_slot_status ss;
	struct ykssh_sshkey *old = NULL;
	struct ykssh_piv *piv = NULL;
	struct ykssh_err *err = NULL;
	int there;

	if (o->type != YKSSH_KEY_UNSPEC || o->resident != YKSSH_ROTATE_KEEP ||
	    o->verify_required != YKSSH_ROTATE_KEEP ||
	    o->no_touch_required != YKSSH_ROTATE_KEEP || o->user != NULL)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_USAGE, "\"%s\" is a "
		    "PIV key: --type, --resident, --verify-required, "
		    "--touch-required and --user are for FIDO2 keys",
		    o->label), "leave them out: the new PIV key gets the old "
		    "one's algorithm and PIN and touch policies");
	if ((j->kind = strdup("piv")) == NULL ||
	    (j->label = strdup(o->label)) == NULL ||
	    (j->stub = ykssh_rotate_expand(o->home, ru->e.identity)) == NULL ||
	    (j->pub = attestation_name(j->stub)) == NULL ||
	    (j->new_application = strdup("piv")) == NULL)
		return nomem();
	if ((err = ykssh_sshkey_load_public(j->stub, &old, &j->comment,
	    &there)) == NULL && !there)
		err = YKSSH_ERR(YKSSH_ERR_FILE_NOT_FOUND, "%s does not exist",
		    j->stub);
	if (err != NULL) {
		err = ykssh_err_hint(err, "the entry \"%s\" names %s: restore "
		    "it ('ykssh recover --piv' writes it from the card)",
		    o->label, j->stub);
		goto out;
	}
	if ((err = ykssh_rotate_take_old(ru, old)) != NULL)
		goto out;
	if ((j->new_type = strdup(ykssh_sshkey_type_name(
	    ykssh_sshkey_type(old)))) == NULL) {
		err = nomem();
		goto out;
	}
	if ((err = ykssh_piv_open(ru->ctx, o->reader, &piv)) != NULL ||
	    (err = find_slots(ru, piv)) != NULL ||
	    (err = ykssh_piv_slot_status(piv, j->old_slot, &ss)) != NULL)
		goto out;
	/* The old key's kind; unknown (before firmware 5.3): defaults. */
	j->piv_algorithm = ss.algorithm;
	j->piv_pin_policy = ss.pin_policy;
	j->piv_touch_policy = ss.touch_policy;
	if (ykssh_piv_alg_name(j->piv_algorithm) == NULL)
		j->piv_algorithm = 0;
	if (ykssh_piv_pin_policy_name(j->piv_pin_policy) == NULL)
		j->piv_pin_policy = 0;
	if (ykssh_piv_touch_policy_name(j->piv_touch_policy) == NULL)
		j->piv_touch_policy = 0;
	err = plan_names(ru);
out:
	ykssh_piv_close(piv);
	ykssh_sshkey_free(old);
	return err;
}

static struct ykssh_err *
write_text(struct ykssh_ctx *ctx, const char *path, const char *text,
    size_t len)
{
	struct ykssh_atomicfile_opts ao;

	memset(&ao, 0, sizeof(ao));
	ao.mode = ao.new_mode = 0644;
	return ykssh_atomicfile_write(ctx, path, text, len, &ao, NULL);
}

/*
 * A key an interrupted run made in the new slot: its .pub and chain
 * written again from the card (the certificate enroll stored is the
 * token's attestation of the key, checked when it was stored).
 */
static struct ykssh_err *
adopt(struct ykssh_rotate_run *ru, const struct ykssh_piv_slot_key *sk,
    const uint8_t *f9, size_t f9len)
{
	struct ykssh_rotate_journal *j = &ru->j;
	struct ykssh_err *err;
	char *line = NULL, *text = NULL, *pem = NULL;
	size_t pemlen;

	if ((err = ykssh_sshkey_format_public(sk->key, j->comment != NULL ?
	    j->comment : "", &line)) != NULL)
		return err;
	if (asprintf(&text, "%s\n", line) < 0) {
		text = NULL;
		err = nomem();
		goto out;
	}
	if ((err = ykssh_enroll_piv_chain_pem(sk->cert, sk->cert_len, f9,
	    f9len, &pem, &pemlen)) != NULL ||
	    (err = write_text(ru->ctx, j->new_pub, pem, pemlen)) != NULL ||
	    (err = write_text(ru->ctx, j->new_stub, text, strlen(text))) !=
	    NULL)
		goto out;
out:
	free(line);
	free(text);
	free(pem);
	return err;
}

/* What the new slot holds now: its key (maybe none) and the F9 cert. */
static struct ykssh_err *
read_new_slot(struct ykssh_rotate_run *ru, struct ykssh_piv_slot_key *sk,
    uint8_t **f9p, size_t *f9lenp)
{
	struct ykssh_piv *piv = NULL;
	struct ykssh_err *err;

	memset(sk, 0, sizeof(*sk));
	*f9p = NULL;
	*f9lenp = 0;
	if ((err = ykssh_piv_open(ru->ctx, ru->o->reader, &piv)) == NULL &&
	    (err = ykssh_piv_read_f9(piv, f9p, f9lenp)) == NULL)
		err = ykssh_piv_read_slot_key(piv, ru->j.new_slot, *f9p,
		    *f9lenp, sk);
	ykssh_piv_close(piv);
	return err;
}

struct ykssh_err *
ykssh_rotate_piv_enroll(struct ykssh_rotate_run *ru)
{
	struct ykssh_rotate_journal *j = &ru->j;
	struct ykssh_enroll_piv_opts eo;
	struct ykssh_enroll_piv_result *res = NULL;
	struct ykssh_piv_slot_key sk;
	struct ykssh_sshkey *k = NULL;
	struct ykssh_err *err = NULL;
	uint8_t *f9 = NULL;
	size_t f9len = 0;
	char *fp = NULL, *pfp = NULL;
	int there, force = 0;

	ykssh_rotate_progress(ru, YKSSH_ROTATE_ENROLLED, j->new_stub);
	memset(&sk, 0, sizeof(sk));
	if (ru->r->resumed) {
		/* Made by an interrupted run: never a second new key. */
		if ((err = read_new_slot(ru, &sk, &f9, &f9len)) != NULL ||
		    (err = slot_fp(&sk, &fp)) != NULL)
			goto out;
		if ((err = ykssh_sshkey_load_public(j->new_stub, &k, NULL,
		    &there)) != NULL)
			goto out;
		if (there && (err = ykssh_sshkey_fingerprint(k, &pfp)) != NULL)
			goto out;
		if (fp != NULL && pfp != NULL && strcmp(fp, pfp) == 0 &&
		    exists(j->new_pub)) {
			j->new_fp = fp;
			fp = NULL;
			goto out;
		}
		if (fp != NULL && sk.attested && sk.cert != NULL &&
		    (pfp == NULL || strcmp(fp, pfp) == 0)) {
			if ((err = adopt(ru, &sk, f9, f9len)) != NULL)
				goto out;
			j->new_fp = fp;
			fp = NULL;
			goto out;
		}
		if (pfp != NULL) {
			err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG, "%s "
			    "holds %s, not the key in slot %02x", j->new_stub,
			    pfp, j->new_slot), "move it away and run the same "
			    "command again, or 'ykssh rotate --abort %s'",
			    j->label);
			goto out;
		}
		/*
		 * A key without any certificate: the run died inside
		 * enrollment (between GENERATE and storing the attestation),
		 * before anything was written or registered.  That unused
		 * key is replaced; anything else in the slot is not ours.
		 */
		if (sk.cert != NULL) {
			err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_SLOT_OCCUPIED,
			    "slot %02x now holds a key or certificate this "
			    "rotation did not make", j->new_slot), "'ykssh "
			    "rotate --abort %s', then rotate again (another "
			    "slot is chosen)", j->label);
			goto out;
		}
		force = fp != NULL;
	}
	memset(&eo, 0, sizeof(eo));
	eo.home = ru->o->home;
	eo.reader = ru->o->reader;
	eo.slot = j->new_slot;
	eo.algorithm = j->piv_algorithm;
	eo.pin_policy = j->piv_pin_policy;
	eo.touch_policy = j->piv_touch_policy;
	eo.label = j->label;
	eo.comment = j->comment != NULL ? j->comment : "";
	eo.output = j->new_stub;
	eo.force = force;
	eo.trust = ru->o->trust;
	eo.allow_unattested = ru->o->allow_unattested;
	if ((err = ykssh_enroll_piv(ru->ctx, &eo, ru->o->ui, &res)) != NULL)
		goto out;
	ru->r->unattested = res->attest != NULL &&
	    res->attest->status != YKSSH_ATTEST_VERIFIED;
	if ((j->new_fp = strdup(res->fingerprint)) == NULL)
		err = nomem();
out:
	ykssh_enroll_piv_result_free(res);
	ykssh_piv_slot_key_clear(&sk);
	ykssh_sshkey_free(k);
	free(f9);
	free(fp);
	free(pfp);
	if (err != NULL)
		return YKSSH_ERR_WRAP(err, "cannot make the new key in slot "
		    "%02x", j->new_slot);
	return ykssh_rotate_record(ru, YKSSH_ROTATE_ENROLLED);
}

/* "~/.ssh/x.pub" when the old entry was written so, else the path. */
static char *
identity_name(const struct ykssh_rotate_run *ru)
{
	const char *home = ru->o->home, *p = ru->j.new_stub;
	size_t n = strlen(home);
	char *s;

	if (ru->e.identity[0] == '~' && strncmp(p, home, n) == 0 &&
	    p[n] == '/') {
		if (asprintf(&s, "~%s", p + n) < 0)
			return NULL;
		return s;
	}
	return strdup(p);
}

struct ykssh_err *
ykssh_rotate_piv_config(struct ykssh_rotate_run *ru)
{
	struct ykssh_sshconfig_report *rep = NULL;
	struct ykssh_err *err;
	char *ident;

	ykssh_rotate_progress(ru, YKSSH_ROTATE_CONFIG, ru->config);
	if ((ident = identity_name(ru)) == NULL)
		return nomem();
	/* Only the key id and the IdentityFile: nothing else ssh reads. */
	err = ykssh_sshconfig_switch_key_file(ru->ctx, ru->config,
	    ru->j.label, ru->j.new_fp, ident, &rep);
	ykssh_sshconfig_report_free(rep);
	free(ident);
	if (err != NULL)
		return YKSSH_ERR_WRAP(err, "cannot update the entry \"%s\"",
		    ru->j.label);
	return ykssh_rotate_record(ru, YKSSH_ROTATE_CONFIG);
}

struct ykssh_err *
ykssh_rotate_piv_old_files(struct ykssh_rotate_run *ru)
{
	struct ykssh_rotate_journal *j = &ru->j;
	struct ykssh_err *err;

	ykssh_rotate_progress(ru, YKSSH_ROTATE_OLD_FILES, j->backup_stub);
	if ((err = rename_once(j->pub, j->backup_pub)) != NULL ||
	    (err = rename_once(j->stub, j->backup_stub)) != NULL)
		return err;
	return ykssh_rotate_record(ru, YKSSH_ROTATE_OLD_FILES);
}

/*
 * Deletes the key with fingerprint fp from slot (key and certificate,
 * as revoke --on-token does).  *foundp: 0 when the slot does not hold
 * that key (nothing done).
 */
static struct ykssh_err *
delete_slot(struct ykssh_rotate_run *ru, uint8_t slot, const char *fp,
    int *foundp)
{
	struct ykssh_piv *piv = NULL;
	struct ykssh_piv_slot_key sk;
	struct ykssh_piv_mgmt_status ms;
	struct ykssh_enroll_ui ui;
	struct ykssh_err *err;
	const char *how;
	char *kfp = NULL;
	int pin_used;

	*foundp = 0;
	memset(&sk, 0, sizeof(sk));
	if ((err = ykssh_piv_open(ru->ctx, ru->o->reader, &piv)) != NULL ||
	    (err = ykssh_piv_read_slot_key(piv, slot, NULL, 0, &sk)) !=
	    NULL || (err = slot_fp(&sk, &kfp)) != NULL)
		goto out;
	if (kfp == NULL || strcmp(kfp, fp) != 0)
		goto out;
	*foundp = 1;
	memset(&ui, 0, sizeof(ui));
	if (ru->o->ui != NULL)
		ui = *ru->o->ui;
	if ((err = ykssh_piv_mgmt_status(piv, &ms)) != NULL ||
	    (err = ykssh_enroll_piv_auth(&ui, piv, &ms, &pin_used)) != NULL)
		goto out;
	err = ykssh_piv_delete_key(piv, slot, &how);
out:
	ykssh_piv_slot_key_clear(&sk);
	ykssh_piv_close(piv);
	free(kfp);
	return err;
}

struct ykssh_err *
ykssh_rotate_piv_token(struct ykssh_rotate_run *ru)
{
	struct ykssh_rotate_journal *j = &ru->j;
	struct ykssh_err *err;
	int found;

	if (!j->on_token)
		return ykssh_rotate_record(ru, YKSSH_ROTATE_TOKEN);
	ykssh_rotate_progress(ru, YKSSH_ROTATE_TOKEN, j->old_fp);
	if ((err = delete_slot(ru, j->old_slot, j->old_fp, &found)) != NULL)
		return YKSSH_ERR_WRAP(err, "cannot delete the old key from "
		    "slot %02x", j->old_slot);
	ru->r->token_state = found ? 1 : 2;
	return ykssh_rotate_record(ru, YKSSH_ROTATE_TOKEN);
}

/* --abort before the switch: the new key leaves Bitbucket, files, slot. */
struct ykssh_err *
ykssh_rotate_piv_abort(struct ykssh_rotate_run *ru)
{
	struct ykssh_rotate_journal *j = &ru->j;
	struct ykssh_bb_key *k = NULL;
	struct ykssh_piv_slot_key sk;
	struct ykssh_err *err = NULL;
	uint8_t *f9 = NULL;
	size_t f9len;
	char *fp = NULL;
	int found;

	if (j->step >= YKSSH_ROTATE_CONFIG)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG, "too late "
		    "to abort: the entry \"%s\" already names the new key",
		    j->label), "run 'ykssh rotate %s' to finish", j->label);
	if (j->new_fp != NULL) {
		err = ykssh_bb_delete(ru->o->bb, j->new_fp, &k);
		ykssh_bb_key_free(k);
		if (err != NULL && ykssh_err_code(err) != YKSSH_ERR_NOT_FOUND)
			return YKSSH_ERR_WRAP(err, "cannot remove the new key "
			    "from Bitbucket");
		ykssh_err_free(err);
		err = NULL;
	}
	/* The new slot's key, if this rotation made it. */
	if (j->new_fp == NULL) {
		if ((err = read_new_slot(ru, &sk, &f9, &f9len)) != NULL)
			return err;
		err = slot_fp(&sk, &fp);
		/* Only an attested key can be ours; else leave it be. */
		if (err == NULL && fp != NULL && !sk.attested) {
			free(fp);
			fp = NULL;
		}
		ykssh_piv_slot_key_clear(&sk);
		free(f9);
		if (err != NULL)
			return err;
	}
	if ((j->new_fp != NULL || fp != NULL) && (err = delete_slot(ru,
	    j->new_slot, j->new_fp != NULL ? j->new_fp : fp, &found)) !=
	    NULL) {
		free(fp);
		return YKSSH_ERR_WRAP(err, "cannot delete the new key from "
		    "slot %02x", j->new_slot);
	}
	free(fp);
	if ((unlink(j->new_stub) != 0 && errno != ENOENT) ||
	    (unlink(j->new_pub) != 0 && errno != ENOENT))
		return YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot remove %s",
		    j->new_stub);
	if (unlink(ru->journal) != 0 && errno != ENOENT)
		return YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot remove %s",
		    ru->journal);
	ru->r->done = YKSSH_ROTATE_NONE;
	return NULL;
}

struct ykssh_err *
ykssh_rotate_piv_describe(struct ykssh_rotate_run *ru)
{
	struct ykssh_rotate_report *r = ru->r;
	struct ykssh_rotate_journal *j = &ru->j;
	enum ykssh_rotate_step s = r->done;
	int a, b;

	free(r->old_state);
	free(r->new_state);
	r->old_state = r->new_state = NULL;
	if (s < YKSSH_ROTATE_CONFIG)
		a = asprintf(&r->old_state, "in use: slot %02x, %s, "
		    "registered on Bitbucket, named by ~/.ssh/config",
		    j->old_slot, j->stub);
	else if (s < YKSSH_ROTATE_OLD_REMOVED)
		a = asprintf(&r->old_state, "still registered on Bitbucket "
		    "(removal pending), in slot %02x; %s", j->old_slot,
		    s >= YKSSH_ROTATE_OLD_FILES ? j->backup_stub : j->stub);
	else
		a = asprintf(&r->old_state, "removed from Bitbucket%s; its "
		    ".pub kept as %s", s >= YKSSH_ROTATE_TOKEN &&
		    r->token_state != 0 ? " and from the card" : j->on_token ?
		    " (the card still has it)" : ", still in its slot",
		    j->backup_stub);
	switch (s) {
	case YKSSH_ROTATE_NONE:
	case YKSSH_ROTATE_PLANNED:
		b = asprintf(&r->new_state, "not made yet (slot %02x)",
		    j->new_slot);
		break;
	case YKSSH_ROTATE_ENROLLED:
		b = ru->refused ? asprintf(&r->new_state, "registered on "
		    "Bitbucket but refused by its ssh server; slot %02x, %s; "
		    "the next run registers it again and retries",
		    j->new_slot, j->new_stub) : asprintf(&r->new_state,
		    "made in slot %02x (%s), not registered yet", j->new_slot,
		    j->new_stub);
		break;
	case YKSSH_ROTATE_REGISTERED:
		b = asprintf(&r->new_state, "in slot %02x, registered on "
		    "Bitbucket, not yet proven by a login (%s)", j->new_slot,
		    j->new_stub);
		break;
	case YKSSH_ROTATE_PROVEN:
		b = asprintf(&r->new_state, "in slot %02x, registered and %s; "
		    "%s not yet named by ~/.ssh/config", j->new_slot,
		    j->no_check ? "not checked (--no-check)" :
		    "proven by a login", j->new_stub);
		break;
	default:
		b = asprintf(&r->new_state, "in use: slot %02x, %s, "
		    "registered on Bitbucket, named by ~/.ssh/config",
		    j->new_slot, j->new_stub);
		break;
	}
	if (a < 0 || b < 0) {
		r->old_state = r->new_state = NULL;
		return nomem();
	}
	return NULL;
}
