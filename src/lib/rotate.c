/* SPDX-License-Identifier: BSD-2-Clause */
/* Rotation; see rotate.h.  The journal format is in rotate-journal.c. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rotate-internal.h"
#include "ykssh/atomicfile.h"
#include "ykssh/bitbucket.h"
#include "ykssh/enroll.h"
#include "ykssh/fido.h"
#include "ykssh/rotate.h"
#include "ykssh/sshconfig.h"

#define PIN_MAX		63
#define STUB_MAX	(64 * 1024)
#define BACKUP_TRIES	100

static const char *step_names[] = {
	"none", "planned", "enrolled", "registered", "proven", "backed-up",
	"pub-cleared", "stub-switched", "pub-switched", "config",
	"old-files", "old-removed", "token", "done"
};

const char *
ykssh_rotate_step_name(enum ykssh_rotate_step step)
{
	return (size_t)step < sizeof(step_names) / sizeof(step_names[0]) ?
	    step_names[step] : "?";
}

int
ykssh_rotate_step_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(step_names) / sizeof(step_names[0]); i++)
		if (strcmp(step_names[i], name) == 0)
			return (int)i;
	return -1;
}

void
ykssh_rotate_report_free(struct ykssh_rotate_report *r)
{
	if (r == NULL)
		return;
	free(r->label);
	free(r->journal);
	free(r->old_fingerprint);
	free(r->new_fingerprint);
	free(r->stub_path);
	free(r->pub_path);
	free(r->new_stub);
	free(r->new_pub);
	free(r->backup_stub);
	free(r->backup_pub);
	free(r->new_type);
	free(r->new_application);
	free(r->check_detail);
	free(r->old_state);
	free(r->new_state);
	free(r);
}

static void
entry_clear(struct ykssh_rotate_entry *e)
{
	free(e->key_id);
	free(e->host);
	free(e->identity);
	free(e->pkcs11);
	memset(e, 0, sizeof(*e));
}

/*
 * Reads ykssh's block of `label` in the config back into an entry.  An
 * entry with a backup token's key (two IdentityFile lines, key id
 * "FP1,FP2") is refused: rotating one key of a pair is not done here.
 */
static struct ykssh_err *
read_entry(const char *config, const char *label, struct ykssh_rotate_entry *e)
{
	struct ykssh_sshconfig_block *b = NULL;
	struct ykssh_err *err = NULL;
	char *text = NULL;
	size_t len, n = 0, i;
	int exists;

	memset(e, 0, sizeof(*e));
	if ((err = ykssh_atomicfile_read(config, YKSSH_SSHCONFIG_MAX_SIZE,
	    &text, &len, &exists)) != NULL ||
	    (err = ykssh_sshconfig_list(text, len, &b, &n)) != NULL)
		goto out;
	for (i = 0; i < n; i++)
		if (strcmp(b[i].label, label) == 0)
			break;
	if (i == n) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_FILE_NOT_FOUND,
		    "no ykssh entry \"%s\" in %s", label, config),
		    "'ykssh list' shows the labels of your keys");
		goto out;
	}
	if (b[i].host == NULL || b[i].nidentity_files == 0) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG, "the ykssh "
		    "entry \"%s\" in %s has no Host or IdentityFile", label,
		    config), "restore it with 'ykssh config apply'");
		goto out;
	}
	if (b[i].nidentity_files > 1) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_UNSUPPORTED,
		    "the entry \"%s\" offers a backup token's key too; "
		    "rotate replaces a single key", label),
		    "revoke the backup ('ykssh revoke %s-backup'), rotate, "
		    "then enroll a new backup ('ykssh enroll --backup %s')",
		    label, label);
		goto out;
	}
	if ((b[i].key_id != NULL &&
	    (e->key_id = strdup(b[i].key_id)) == NULL) ||
	    (e->host = strdup(b[i].host)) == NULL ||
	    (e->identity = strdup(b[i].identity_files[0])) == NULL ||
	    (b[i].pkcs11_provider != NULL &&
	    (e->pkcs11 = strdup(b[i].pkcs11_provider)) == NULL))
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
out:
	if (err != NULL)
		entry_clear(e);
	free(text);
	ykssh_sshconfig_blocks_free(b, n);
	return err;
}

/* "~/x" under home; anything else as it is. */
static char *
expand(const char *home, const char *path)
{
	char *s;

	if (path[0] == '~' && path[1] == '/') {
		if (asprintf(&s, "%s%s", home, path + 1) < 0)
			return NULL;
		return s;
	}
	return strdup(path);
}

char *
ykssh_rotate_expand(const char *home, const char *path)
{
	return expand(home, path);
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 || errno != ENOENT;
}

/* Reads a stub: the key (with its sk fields) and its comment. */
static struct ykssh_err *
load_stub(const char *path, struct ykssh_sshkey **keyp, char **commentp)
{
	struct ykssh_err *err;
	char *data = NULL;
	size_t len;
	int there, enc = 0;

	*keyp = NULL;
	if (commentp != NULL)
		*commentp = NULL;
	if ((err = ykssh_atomicfile_read(path, STUB_MAX, &data, &len,
	    &there)) != NULL) {
		free(data);
		return err;
	}
	if (!there) {
		free(data);
		return YKSSH_ERR(YKSSH_ERR_FILE_NOT_FOUND, "%s does not exist",
		    path);
	}
	err = ykssh_sshkey_parse_stub((const uint8_t *)data, len, keyp,
	    commentp, &enc);
	free(data);
	if (err != NULL)
		return YKSSH_ERR_WRAP(err, "cannot read %s", path);
	return NULL;
}

/* Test hook: die as if killed at this point (docs/testing.md). */
static void
test_kill(enum ykssh_rotate_step step, int recorded)
{
	const char *v = getenv("YKSSH_TEST_ROTATE_KILL_AFTER");
	char want[64];

	if (v == NULL)
		return;
	snprintf(want, sizeof(want), "%s%s", ykssh_rotate_step_name(step),
	    recorded ? "" : "/unrecorded");
	if (strcmp(v, want) == 0)
		raise(SIGKILL);
}


struct ykssh_err *
ykssh_rotate_record(struct ykssh_rotate_run *ru, enum ykssh_rotate_step step)
{
	struct ykssh_atomicfile_opts ao;
	struct ykssh_err *err;
	char *text = NULL;

	test_kill(step, 0);
	ru->j.step = step;
	if ((err = ykssh_rotate_journal_format(&ru->j, &text)) != NULL)
		return err;
	memset(&ao, 0, sizeof(ao));
	ao.mode = 0600;
	ao.new_mode = 0600;
	err = ykssh_atomicfile_write(ru->ctx, ru->journal, text, strlen(text),
	    &ao, NULL);
	free(text);
	if (err != NULL)
		return YKSSH_ERR_WRAP(err, "cannot record the rotation in %s",
		    ru->journal);
	ru->r->done = step;
	test_kill(step, 1);
	return NULL;
}

void
ykssh_rotate_progress(struct ykssh_rotate_run *ru, enum ykssh_rotate_step step,
    const char *detail)
{
	if (ru->o->progress != NULL)
		ru->o->progress(ru->o->arg, step, detail);
}

static struct ykssh_err *
record(struct ykssh_rotate_run *ru, enum ykssh_rotate_step step)
{
	return ykssh_rotate_record(ru, step);
}

static void
progress(struct ykssh_rotate_run *ru, enum ykssh_rotate_step step,
    const char *detail)
{
	ykssh_rotate_progress(ru, step, detail);
}

/* The old registration's lifetime in days, or 0 (none or unknown). */
static unsigned
old_expiry(struct ykssh_bb *bb, const char *fp)
{
	struct ykssh_bb_keylist *kl = NULL;
	struct ykssh_err *err;
	struct tm a, b;
	unsigned days = 0;
	unsigned long n;
	time_t ta, tb;
	size_t i;
	char *end;

	if ((err = ykssh_bb_list(bb, &kl)) != NULL) {
		ykssh_err_free(err);
		return 0;
	}
	for (i = 0; i < kl->n; i++) {
		const struct ykssh_bb_key *k = &kl->keys[i];

		if (k->fingerprint == NULL || strcmp(k->fingerprint, fp) != 0 ||
		    k->expires == NULL)
			continue;
		/* Data Center: expiryDays; Cloud: two ISO dates. */
		n = strtoul(k->expires, &end, 10);
		if (*end == '\0' && n > 0 && n <= 3650) {
			days = (unsigned)n;
			break;
		}
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		if (k->created == NULL ||
		    strptime(k->created, "%Y-%m-%dT%H:%M:%S", &a) == NULL ||
		    strptime(k->expires, "%Y-%m-%dT%H:%M:%S", &b) == NULL)
			break;
		ta = timegm(&a);
		tb = timegm(&b);
		if (tb > ta && (tb - ta + 43200) / 86400 >= 1 &&
		    (tb - ta + 43200) / 86400 <= 3650)
			days = (unsigned)((tb - ta + 43200) / 86400);
		break;
	}
	ykssh_bb_keylist_free(kl);
	return days;
}

/* Free names for the old key's files once the new ones take theirs. */
static struct ykssh_err *
backup_names(struct ykssh_rotate_journal *j)
{
	int i;

	for (i = 1; i <= BACKUP_TRIES; i++) {
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
			return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		}
		if (!exists(j->backup_stub) && !exists(j->backup_pub))
			return NULL;
	}
	return YKSSH_ERR(YKSSH_ERR_FILE_EXISTS, "no free backup name for %s",
	    j->stub);
}

/* A fresh rotation: the old key read, the new one decided. */
/*
 * The old key as the journal records it: its fingerprint (which must be
 * the one the entry names) and its comment (none when empty).
 */
struct ykssh_err *
ykssh_rotate_take_old(struct ykssh_rotate_run *ru,
    const struct ykssh_sshkey *old)
{
	struct ykssh_rotate_journal *j = &ru->j;
	struct ykssh_err *err;
	char *fp;

	if (j->comment != NULL && *j->comment == '\0') {
		free(j->comment);
		j->comment = NULL;
	}
	if ((err = ykssh_sshkey_fingerprint(old, &fp)) != NULL)
		return err;
	if (ru->e.key_id != NULL && strcmp(ru->e.key_id, fp) != 0) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG, "%s holds "
		    "%s, not the key %s the entry \"%s\" names", j->stub, fp,
		    ru->e.key_id, ru->o->label), "restore the key file, or "
		    "point the entry at it with 'ykssh config apply'");
		free(fp);
		return err;
	}
	free(j->old_fp);
	j->old_fp = fp;
	return NULL;
}

static struct ykssh_err *
plan(struct ykssh_rotate_run *ru)
{
	const struct ykssh_rotate_opts *o = ru->o;
	struct ykssh_rotate_journal *j = &ru->j;
	struct ykssh_sshkey *old = NULL;
	struct ykssh_bb_server *srv = NULL;
	struct ykssh_err *err = NULL;
	enum ykssh_keytype type;
	const char *warning;
	uint8_t f;

	if (ru->e.pkcs11 != NULL) {
		if ((err = ykssh_rotate_piv_plan(ru)) != NULL)
			goto out;
		j->expires_days = o->expires_set ? o->expires_days :
		    old_expiry(o->bb, j->old_fp);
		j->on_token = o->on_token;
		goto out;
	}
	if (o->piv_slot != 0) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_USAGE, "\"%s\" is a "
		    "FIDO2 key: --slot is for PIV keys", o->label),
		    "leave --slot out");
		goto out;
	}
	if ((j->stub = expand(o->home, ru->e.identity)) == NULL ||
	    asprintf(&j->pub, "%s.pub", j->stub) < 0 ||
	    asprintf(&j->new_stub, "%s.new", j->stub) < 0 ||
	    asprintf(&j->new_pub, "%s.new.pub", j->stub) < 0 ||
	    (j->label = strdup(o->label)) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((err = load_stub(j->stub, &old, &j->comment)) != NULL) {
		err = ykssh_err_hint(err, "the entry \"%s\" names %s: restore "
		    "the key file, or revoke the key with 'ykssh revoke %s'",
		    o->label, j->stub, o->label);
		goto out;
	}
	if (!ykssh_sshkey_type_is_sk(ykssh_sshkey_type(old)) ||
	    !ykssh_sshkey_has_key_handle(old)) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_UNSUPPORTED, "%s is "
		    "not a FIDO2 key stub and the entry names no PKCS#11 "
		    "provider: ykssh rotates FIDO2 and PIV keys only",
		    j->stub), "make the new key with 'ykssh enroll', then "
		    "'ykssh revoke %s'", o->label);
		goto out;
	}
	if ((err = ykssh_rotate_take_old(ru, old)) != NULL)
		goto out;
	j->old_flags = ykssh_sshkey_sk_flags(old);
	if (exists(j->new_stub) || exists(j->new_pub)) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_FILE_EXISTS, "%s "
		    "already exists and no rotation of \"%s\" is recorded",
		    j->new_stub, o->label), "move it (and its .pub) away, "
		    "then run the same command again");
		goto out;
	}
	if ((err = backup_names(j)) != NULL)
		goto out;
	/* The new key: the old one's kind and options unless told. */
	type = o->type != YKSSH_KEY_UNSPEC ? o->type : ykssh_sshkey_type(old);
	f = j->old_flags & (YKSSH_SK_USER_PRESENCE_REQD |
	    YKSSH_SK_USER_VERIFICATION_REQD | YKSSH_SK_RESIDENT_KEY);
	if (o->resident != YKSSH_ROTATE_KEEP)
		f = (uint8_t)((f & ~YKSSH_SK_RESIDENT_KEY) |
		    (o->resident ? YKSSH_SK_RESIDENT_KEY : 0));
	if (o->verify_required != YKSSH_ROTATE_KEEP)
		f = (uint8_t)((f & ~YKSSH_SK_USER_VERIFICATION_REQD) |
		    (o->verify_required ? YKSSH_SK_USER_VERIFICATION_REQD : 0));
	if (o->no_touch_required != YKSSH_ROTATE_KEEP)
		f = (uint8_t)((f & ~YKSSH_SK_USER_PRESENCE_REQD) |
		    (o->no_touch_required ? 0 : YKSSH_SK_USER_PRESENCE_REQD));
	j->new_flags = f;
	if (o->user != NULL && !(f & YKSSH_SK_RESIDENT_KEY)) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_USAGE, "--user is for "
		    "resident keys, and the new key of \"%s\" is not one",
		    o->label), "add --resident, or drop --user");
		goto out;
	}
	/* What the server takes, known before the token is touched. */
	if ((err = ykssh_bb_server_info(o->bb, &srv)) != NULL ||
	    (err = ykssh_bb_check_key(srv, type, f, &warning)) != NULL)
		goto out;
	if ((j->new_type = strdup(ykssh_sshkey_type_name(type))) == NULL ||
	    (j->new_application = strdup(ykssh_sshkey_application(old))) ==
	    NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	/*
	 * A resident key replaces the token's credential of the same
	 * (application, user): the new one gets its own user id, so the old
	 * key keeps working until it is removed.
	 */
	if (f & YKSSH_SK_RESIDENT_KEY) {
		if (o->user != NULL)
			j->new_user = strdup(o->user);
		else if (asprintf(&j->new_user, "rotated-%lld",
		    (long long)time(NULL)) < 0)
			j->new_user = NULL;
		if (j->new_user == NULL) {
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	j->expires_days = o->expires_set ? o->expires_days :
	    old_expiry(o->bb, j->old_fp);
	j->on_token = o->on_token;
out:
	ykssh_bb_server_free(srv);
	ykssh_sshkey_free(old);
	return err;
}

static int
no_confirm(void *arg, const char *question)
{
	(void)arg;
	(void)question;
	return 0;
}

/* Step 1: the new key, at the side names (adopted if already there). */
static struct ykssh_err *
step_enroll(struct ykssh_rotate_run *ru)
{
	struct ykssh_rotate_journal *j = &ru->j;
	struct ykssh_enroll_opts eo;
	struct ykssh_enroll_ui ui;
	struct ykssh_enroll_result *res = NULL;
	struct ykssh_sshkey *k = NULL;
	struct ykssh_atomicfile_opts ao;
	struct ykssh_err *err = NULL;
	char *line = NULL, *text = NULL;

	progress(ru, YKSSH_ROTATE_ENROLLED, j->new_stub);
	if (exists(j->new_stub)) {
		/* Made by an interrupted run: never a second new key. */
		if ((err = load_stub(j->new_stub, &k, NULL)) != NULL ||
		    (err = ykssh_sshkey_fingerprint(k, &j->new_fp)) != NULL)
			goto out;
		if (!exists(j->new_pub)) {
			if ((err = ykssh_sshkey_format_public(k, j->comment,
			    &line)) != NULL)
				goto out;
			if (asprintf(&text, "%s\n", line) < 0) {
				err = YKSSH_ERR(YKSSH_ERR_NOMEM,
				    "out of memory");
				goto out;
			}
			memset(&ao, 0, sizeof(ao));
			ao.mode = ao.new_mode = 0644;
			if ((err = ykssh_atomicfile_write(ru->ctx, j->new_pub,
			    text, strlen(text), &ao, NULL)) != NULL)
				goto out;
		}
		goto out;
	}
	memset(&eo, 0, sizeof(eo));
	eo.home = ru->o->home;
	eo.devices = ru->o->devices;
	eo.ndevices = ru->o->ndevices;
	eo.type = ykssh_sshkey_type_from_name(j->new_type);
	eo.application = j->new_application;
	eo.user = j->new_user;
	eo.resident = (j->new_flags & YKSSH_SK_RESIDENT_KEY) != 0;
	eo.verify_required = (j->new_flags &
	    YKSSH_SK_USER_VERIFICATION_REQD) != 0;
	eo.no_touch_required = (j->new_flags &
	    YKSSH_SK_USER_PRESENCE_REQD) == 0;
	eo.comment = j->comment != NULL ? j->comment : "";
	eo.output = j->new_stub;
	eo.trust = ru->o->trust;
	eo.allow_unattested = ru->o->allow_unattested;
	/*
	 * An interrupted run may have made the resident credential of this
	 * (application, user) without saving it: that one is ours to replace.
	 * The user id was made for this rotation (or chosen with --user).
	 */
	eo.force = ru->r->resumed && eo.resident;
	memset(&ui, 0, sizeof(ui));
	if (ru->o->ui != NULL)
		ui = *ru->o->ui;
	ui.confirm = no_confirm;	/* never replace another key */
	if ((err = ykssh_enroll_fido(ru->ctx, &eo, &ui, &res)) != NULL)
		goto out;
	ru->r->unattested = res->attest != NULL &&
	    res->attest->status != YKSSH_ATTEST_VERIFIED;
	if ((j->new_fp = strdup(res->fingerprint)) == NULL)
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
out:
	free(line);
	free(text);
	ykssh_sshkey_free(k);
	ykssh_enroll_result_free(res);
	if (err != NULL)
		return YKSSH_ERR_WRAP(err, "cannot make the new key");
	return record(ru, YKSSH_ROTATE_ENROLLED);
}

/* Step 2: registration (idempotent on the server's side). */
static struct ykssh_err *
step_register(struct ykssh_rotate_run *ru)
{
	struct ykssh_rotate_journal *j = &ru->j;
	struct ykssh_sshkey *k = NULL;
	struct ykssh_bb_key *bk = NULL;
	struct ykssh_err *err;
	char *comment = NULL;
	/* A PIV key's .pub is new_stub (rotate-internal.h). */
	const char *pub = j->kind != NULL ? j->new_stub : j->new_pub;
	int there, already;

	progress(ru, YKSSH_ROTATE_REGISTERED, j->new_fp);
	if ((err = ykssh_sshkey_load_public(pub, &k, &comment,
	    &there)) == NULL && !there)
		err = YKSSH_ERR(YKSSH_ERR_FILE_NOT_FOUND, "%s is missing",
		    pub);
	if (err == NULL)
		err = ykssh_bb_register(ru->o->bb, k, comment, j->label, 0,
		    j->expires_days, &bk, &already);
	free(comment);
	ykssh_sshkey_free(k);
	ykssh_bb_key_free(bk);
	if (err != NULL)
		return YKSSH_ERR_WRAP(err, "cannot register the new key");
	return record(ru, YKSSH_ROTATE_REGISTERED);
}

/* Step 3: a login with the new key alone. */
static struct ykssh_err *
step_check(struct ykssh_rotate_run *ru)
{
	struct ykssh_rotate_journal *j = &ru->j;
	struct ykssh_err *err;

	if (ru->o->no_check) {
		progress(ru, YKSSH_ROTATE_PROVEN, "skipped (--no-check)");
		return record(ru, YKSSH_ROTATE_PROVEN);
	}
	progress(ru, YKSSH_ROTATE_PROVEN, ru->e.host);
	/* ssh's own "Confirm user presence" goes to the captured stderr. */
	if (j->new_flags & YKSSH_SK_USER_PRESENCE_REQD)
		ykssh_ctx_notice(ru->ctx, YKSSH_NOTICE_TOUCH,
		    "security key (ssh logs in with the new key)");
	free(ru->r->check_detail);
	ru->r->check_detail = NULL;
	/* A PIV key: the entry's module, the new .pub picks the key. */
	if ((err = ykssh_rotate_check_login_pkcs11(ru->o->ssh_path,
	    ru->config, ru->e.host, ru->o->check_user, j->new_stub,
	    j->kind != NULL ? ru->e.pkcs11 : NULL,
	    &ru->r->check_detail)) != NULL) {
		/* Denied: the next run registers the key again first. */
		if (ykssh_err_code(err) == YKSSH_ERR_REJECTED &&
		    j->step == YKSSH_ROTATE_REGISTERED) {
			struct ykssh_err *e2 = record(ru,
			    YKSSH_ROTATE_ENROLLED);

			ykssh_err_free(e2);
			ru->refused = 1;
		}
		return err;
	}
	ru->r->checked = 1;
	return record(ru, YKSSH_ROTATE_PROVEN);
}

/* link(2), where an earlier run's identical link is fine. */
static struct ykssh_err *
link_once(const char *from, const char *to)
{
	struct stat a, b;

	if (link(from, to) == 0)
		return NULL;
	if (errno == EEXIST && lstat(from, &a) == 0 && lstat(to, &b) == 0 &&
	    a.st_ino == b.st_ino && a.st_dev == b.st_dev)
		return NULL;
	return YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot keep %s as %s", from, to);
}

/* rename(2), where "from gone and to in place" means done before. */
static struct ykssh_err *
rename_once(const char *from, const char *to)
{
	if (rename(from, to) == 0 || (errno == ENOENT && exists(to) &&
	    !exists(from)))
		return NULL;
	return YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot rename %s to %s", from,
	    to);
}

/* The attestation enroll saves beside a stub: "STUB.attest". */
static char *
attest_name(const char *stub)
{
	char *s;

	return asprintf(&s, "%s.attest", stub) < 0 ? NULL : s;
}

static int
same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return lstat(a, &sa) == 0 && lstat(b, &sb) == 0 &&
	    sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

/*
 * The attestation follows its key: the old one is kept with the old
 * files (backed-up), the new one takes the canonical name with the .pub
 * (pub-switched).  A key adopted from an interrupted enrollment may have
 * none: then the old key's must not stay beside the new key.
 */
static struct ykssh_err *
switch_attestation(const struct ykssh_rotate_journal *j, int backup)
{
	struct ykssh_err *err = NULL;
	char *cur, *nw, *old;

	cur = attest_name(j->stub);
	nw = attest_name(j->new_stub);
	old = attest_name(j->backup_stub);
	if (cur == NULL || nw == NULL || old == NULL)
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	else if (backup) {
		if (exists(cur) && !exists(old))
			err = link_once(cur, old);
	} else if (exists(nw))
		err = rename_once(nw, cur);
	else if (same_file(cur, old) && unlink(cur) != 0 && errno != ENOENT)
		err = YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot remove %s", cur);
	free(cur);
	free(nw);
	free(old);
	return err;
}

/* Steps 4-6: the old files kept under backup names, the new ones in. */
static struct ykssh_err *
step_switch(struct ykssh_rotate_run *ru)
{
	struct ykssh_rotate_journal *j = &ru->j;
	struct ykssh_err *err;

	if (j->step < YKSSH_ROTATE_BACKED_UP) {
		progress(ru, YKSSH_ROTATE_BACKED_UP, j->backup_stub);
		if ((err = link_once(j->stub, j->backup_stub)) != NULL ||
		    (err = link_once(j->pub, j->backup_pub)) != NULL ||
		    (err = switch_attestation(j, 1)) != NULL ||
		    (err = record(ru, YKSSH_ROTATE_BACKED_UP)) != NULL)
			return err;
	}
	/*
	 * ssh takes the public key from the .pub when there is one and
	 * refuses a stub that does not match it: the old .pub goes first, so
	 * that at every moment ssh finds one key, old or new, whole.
	 */
	if (j->step < YKSSH_ROTATE_PUB_CLEARED) {
		progress(ru, YKSSH_ROTATE_PUB_CLEARED, j->pub);
		if (unlink(j->pub) != 0 && errno != ENOENT)
			return YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot remove %s",
			    j->pub);
		if ((err = record(ru, YKSSH_ROTATE_PUB_CLEARED)) != NULL)
			return err;
	}
	if (j->step < YKSSH_ROTATE_STUB_SWITCHED) {
		progress(ru, YKSSH_ROTATE_STUB_SWITCHED, j->stub);
		if ((err = rename_once(j->new_stub, j->stub)) != NULL ||
		    (err = record(ru, YKSSH_ROTATE_STUB_SWITCHED)) != NULL)
			return err;
	}
	if (j->step < YKSSH_ROTATE_PUB_SWITCHED) {
		progress(ru, YKSSH_ROTATE_PUB_SWITCHED, j->pub);
		if ((err = switch_attestation(j, 0)) != NULL ||
		    (err = rename_once(j->new_pub, j->pub)) != NULL ||
		    (err = record(ru, YKSSH_ROTATE_PUB_SWITCHED)) != NULL)
			return err;
	}
	return NULL;
}

/* Step 7: the entry names the new key (the same file name). */
static struct ykssh_err *
step_config(struct ykssh_rotate_run *ru)
{
	struct ykssh_sshconfig_report *rep = NULL;
	struct ykssh_err *err;

	progress(ru, YKSSH_ROTATE_CONFIG, ru->config);
	err = ykssh_sshconfig_set_key_id_file(ru->ctx, ru->config,
	    ru->j.label, ru->j.new_fp, &rep);
	ykssh_sshconfig_report_free(rep);
	if (err != NULL)
		return YKSSH_ERR_WRAP(err, "cannot update the entry \"%s\"",
		    ru->j.label);
	return record(ru, YKSSH_ROTATE_CONFIG);
}

/* Step 8: the old key leaves Bitbucket. */
static struct ykssh_err *
step_remove_old(struct ykssh_rotate_run *ru)
{
	struct ykssh_bb_key *k = NULL;
	struct ykssh_err *err;

	progress(ru, YKSSH_ROTATE_OLD_REMOVED, ru->j.old_fp);
	err = ykssh_bb_delete(ru->o->bb, ru->j.old_fp, &k);
	ykssh_bb_key_free(k);
	if (err != NULL && ykssh_err_code(err) == YKSSH_ERR_NOT_FOUND) {
		ykssh_err_free(err);
		err = NULL;
		ru->r->old_bb_absent = 1;
	}
	if (err != NULL)
		return YKSSH_ERR_WRAP(err, "cannot remove the old key from "
		    "Bitbucket");
	return record(ru, YKSSH_ROTATE_OLD_REMOVED);
}

/* Step 9: the old resident credential leaves the token (if asked). */
static struct ykssh_err *
step_token(struct ykssh_rotate_run *ru)
{
	struct ykssh_fido_dev *dev = NULL;
	struct ykssh_secret *pin = NULL;
	struct ykssh_err *err = NULL;
	char prompt[128];
	int found = 0;

	if (!ru->j.on_token || !(ru->j.old_flags & YKSSH_SK_RESIDENT_KEY))
		return record(ru, YKSSH_ROTATE_TOKEN);
	progress(ru, YKSSH_ROTATE_TOKEN, ru->j.old_fp);
	if ((err = ykssh_fido_open(ru->ctx, ru->o->devices, ru->o->ndevices,
	    &dev)) != NULL)
		goto out;
	if ((pin = ykssh_secret_new(PIN_MAX)) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(prompt, sizeof(prompt), "Enter the FIDO PIN of your %s: ",
	    ykssh_fido_model(dev));
	if (ru->o->ui == NULL || ru->o->ui->get_pin == NULL)
		err = YKSSH_ERR(YKSSH_ERR_PIN_REQUIRED,
		    "deleting a resident key needs the token's PIN");
	else
		err = ru->o->ui->get_pin(ru->o->ui->arg, prompt, pin);
	if (err == NULL)
		err = ykssh_fido_delete_resident(dev, ru->j.old_fp,
		    ykssh_secret_str(pin), &found);
out:
	ykssh_secret_free(pin);
	ykssh_fido_close(dev);
	if (err != NULL)
		return YKSSH_ERR_WRAP(err, "cannot delete the old resident key "
		    "from the token");
	ru->r->token_state = found ? 1 : 2;
	return record(ru, YKSSH_ROTATE_TOKEN);
}

/* Where each key stands after the last step done. */
static struct ykssh_err *
describe(struct ykssh_rotate_run *ru)
{
	struct ykssh_rotate_report *r = ru->r;
	struct ykssh_rotate_journal *j = &ru->j;
	enum ykssh_rotate_step s = r->done;
	int a, b;

	if (j->kind != NULL)
		return ykssh_rotate_piv_describe(ru);
	free(r->old_state);
	free(r->new_state);
	r->old_state = r->new_state = NULL;
	if (s < YKSSH_ROTATE_STUB_SWITCHED)
		a = asprintf(&r->old_state, "in use: %s, registered on "
		    "Bitbucket, named by ~/.ssh/config%s%s", j->stub,
		    s >= YKSSH_ROTATE_BACKED_UP ? "; also linked as " : "",
		    s >= YKSSH_ROTATE_BACKED_UP ? j->backup_stub : "");
	else if (s < YKSSH_ROTATE_OLD_REMOVED)
		a = asprintf(&r->old_state, "still registered on Bitbucket "
		    "(removal pending); its files are %s and %s",
		    j->backup_stub, j->backup_pub);
	else
		a = asprintf(&r->old_state, "removed from Bitbucket%s; files "
		    "kept as %s and %s", s >= YKSSH_ROTATE_TOKEN &&
		    r->token_state == 1 ? " and from the token" :
		    (j->old_flags & YKSSH_SK_RESIDENT_KEY) && j->on_token ?
		    " (the token still has it)" : "", j->backup_stub,
		    j->backup_pub);
	switch (s) {
	case YKSSH_ROTATE_NONE:
	case YKSSH_ROTATE_PLANNED:
		b = asprintf(&r->new_state, "not made yet");
		break;
	case YKSSH_ROTATE_ENROLLED:
		b = ru->refused ? asprintf(&r->new_state, "registered on "
		    "Bitbucket but refused by its ssh server; files %s; the "
		    "next run registers it again and retries", j->new_stub) :
		    asprintf(&r->new_state, "made (%s), not registered yet",
		    j->new_stub);
		break;
	case YKSSH_ROTATE_REGISTERED:
		b = asprintf(&r->new_state, "registered on Bitbucket, not "
		    "yet proven by a login (%s)", j->new_stub);
		break;
	case YKSSH_ROTATE_PROVEN:
	case YKSSH_ROTATE_BACKED_UP:
	case YKSSH_ROTATE_PUB_CLEARED:
		b = asprintf(&r->new_state, "registered and %s; files %s, "
		    "not yet in use", j->no_check ? "not checked (--no-check)"
		    : "proven by a login", j->new_stub);
		break;
	case YKSSH_ROTATE_STUB_SWITCHED:
	case YKSSH_ROTATE_PUB_SWITCHED:
		b = asprintf(&r->new_state, "registered and proven; moving "
		    "into place as %s", j->stub);
		break;
	default:
		b = asprintf(&r->new_state, "in use: %s, registered on "
		    "Bitbucket, named by ~/.ssh/config", j->stub);
		break;
	}
	if (a < 0 || b < 0) {
		r->old_state = r->new_state = NULL;
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	}
	return NULL;
}

static struct ykssh_err *
fill_report(struct ykssh_rotate_run *ru)
{
	struct ykssh_rotate_report *r = ru->r;
	struct ykssh_rotate_journal *j = &ru->j;

#define DUP(dst, src) do { free(dst); dst = NULL; \
	if ((src) != NULL && ((dst) = strdup(src)) == NULL) \
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory"); } while (0)
	DUP(r->label, j->label);
	DUP(r->journal, ru->journal);
	DUP(r->old_fingerprint, j->old_fp);
	DUP(r->new_fingerprint, j->new_fp);
	DUP(r->stub_path, j->stub);
	DUP(r->pub_path, j->pub);
	DUP(r->new_stub, j->new_stub);
	DUP(r->new_pub, j->new_pub);
	DUP(r->backup_stub, j->backup_stub);
	DUP(r->backup_pub, j->backup_pub);
	DUP(r->new_type, j->new_type);
	DUP(r->new_application, j->new_application);
#undef DUP
	r->new_flags = j->new_flags;
	r->old_flags = j->old_flags;
	r->checked = r->done >= YKSSH_ROTATE_PROVEN && !j->no_check;
	r->expires_days = j->expires_days;
	if (j->kind != NULL) {
		/* PIV: the .pub in use and the old one's retired name. */
		r->piv = 1;
		r->old_slot = j->old_slot;
		r->new_slot = j->new_slot;
		free(r->stub_path);
		free(r->backup_stub);
		free(r->backup_pub);
		free(r->pub_path);
		r->stub_path = r->backup_stub = r->backup_pub = NULL;
		if ((r->pub_path = strdup(r->done >= YKSSH_ROTATE_CONFIG ?
		    j->new_stub : j->stub)) == NULL ||
		    (r->backup_pub = strdup(j->backup_stub)) == NULL)
			return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	}
	return describe(ru);
}

/* --abort: the new key's attestation and the old one's backup link go. */
static struct ykssh_err *
abort_attestation(const struct ykssh_rotate_journal *j)
{
	struct ykssh_err *err = NULL;
	char *nw, *old;
	char *paths[2];
	int i;

	nw = attest_name(j->new_stub);
	old = attest_name(j->backup_stub);
	paths[0] = nw;
	paths[1] = j->step >= YKSSH_ROTATE_BACKED_UP ? old : NULL;
	if (nw == NULL || old == NULL)
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	for (i = 0; err == NULL && i < 2; i++)
		if (paths[i] != NULL && unlink(paths[i]) != 0 &&
		    errno != ENOENT)
			err = YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot remove %s",
			    paths[i]);
	free(nw);
	free(old);
	return err;
}

/* --abort: before the switch, back to the old key alone. */
static struct ykssh_err *
abort_rotation(struct ykssh_rotate_run *ru)
{
	struct ykssh_rotate_journal *j = &ru->j;
	struct ykssh_bb_key *k = NULL;
	struct ykssh_err *err = NULL;
	const char *paths[4] = { j->new_stub, j->new_pub, j->backup_stub,
	    j->backup_pub };
	int i;

	if (j->step >= YKSSH_ROTATE_STUB_SWITCHED)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG, "too late "
		    "to abort: the new key of \"%s\" is already in place",
		    j->label), "run 'ykssh rotate %s' to finish", j->label);
	if (j->new_fp != NULL && j->step >= YKSSH_ROTATE_ENROLLED) {
		err = ykssh_bb_delete(ru->o->bb, j->new_fp, &k);
		ykssh_bb_key_free(k);
		if (err != NULL && ykssh_err_code(err) != YKSSH_ERR_NOT_FOUND)
			return YKSSH_ERR_WRAP(err, "cannot remove the new key "
			    "from Bitbucket");
		ykssh_err_free(err);
	}
	/* The backups are links of the old files (the .pub maybe gone). */
	if (!exists(j->pub) && exists(j->backup_pub) &&
	    (err = link_once(j->backup_pub, j->pub)) != NULL)
		return err;
	for (i = j->step >= YKSSH_ROTATE_BACKED_UP ? 4 : 2; i-- > 0;)
		if (unlink(paths[i]) != 0 && errno != ENOENT)
			return YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot remove %s",
			    paths[i]);
	if ((err = abort_attestation(j)) != NULL)
		return err;
	if (unlink(ru->journal) != 0 && errno != ENOENT)
		return YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot remove %s",
		    ru->journal);
	ru->r->done = YKSSH_ROTATE_NONE;
	return NULL;
}

static struct ykssh_err *
load_journal(struct ykssh_rotate_run *ru, int *foundp)
{
	struct ykssh_err *err;
	char *text = NULL;
	size_t len;

	*foundp = 0;
	if ((err = ykssh_atomicfile_read(ru->journal,
	    YKSSH_ROTATE_JOURNAL_MAX, &text, &len, foundp)) != NULL) {
		free(text);
		return err;
	}
	if (*foundp)
		err = ykssh_rotate_journal_parse(text, len, &ru->j);
	free(text);
	if (err != NULL)
		return ykssh_err_hint(YKSSH_ERR_WRAP(err, "cannot read %s",
		    ru->journal), "look at it: it records an unfinished "
		    "rotation; remove it only if the old key still works");
	if (*foundp && strcmp(ru->j.label, ru->o->label) != 0)
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT, "%s is the journal "
		    "of \"%s\", not \"%s\"", ru->journal, ru->j.label,
		    ru->o->label);
	return NULL;
}

/* The steps of a PIV key after the plan (rotate.h). */
static struct ykssh_err *
rotate_piv(struct ykssh_rotate_run *ru)
{
	struct ykssh_rotate_journal *j = &ru->j;
	struct ykssh_err *err;

	if (j->step < YKSSH_ROTATE_ENROLLED &&
	    (err = ykssh_rotate_piv_enroll(ru)) != NULL)
		return err;
	if (j->step < YKSSH_ROTATE_REGISTERED &&
	    (err = step_register(ru)) != NULL)
		return err;
	if (j->step < YKSSH_ROTATE_PROVEN &&
	    (err = step_check(ru)) != NULL)
		return err;
	if (j->step < YKSSH_ROTATE_CONFIG &&
	    (err = ykssh_rotate_piv_config(ru)) != NULL)
		return err;
	if (j->step < YKSSH_ROTATE_OLD_FILES &&
	    (err = ykssh_rotate_piv_old_files(ru)) != NULL)
		return err;
	if (j->step < YKSSH_ROTATE_OLD_REMOVED &&
	    (err = step_remove_old(ru)) != NULL)
		return err;
	if (j->step < YKSSH_ROTATE_TOKEN &&
	    (err = ykssh_rotate_piv_token(ru)) != NULL)
		return err;
	if (unlink(ru->journal) != 0 && errno != ENOENT)
		return YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "rotation finished but "
		    "%s cannot be removed", ru->journal);
	ru->r->done = YKSSH_ROTATE_DONE;
	return NULL;
}

struct ykssh_err *
ykssh_rotate(struct ykssh_ctx *ctx, const struct ykssh_rotate_opts *o,
    struct ykssh_rotate_report **reportp)
{
	struct ykssh_atomicfile_lock *lock = NULL;
	struct ykssh_err *err = NULL, *e2;
	struct ykssh_rotate_run ru;
	int found = 0;

	*reportp = NULL;
	memset(&ru, 0, sizeof(ru));
	ru.ctx = ctx;
	ru.o = o;
	if (o->home == NULL || o->label == NULL || o->bb == NULL)
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT,
		    "rotate needs a home, a label and a Bitbucket client");
	if ((err = ykssh_enroll_check_label(o->label)) != NULL)
		return err;
	if ((ru.r = calloc(1, sizeof(*ru.r))) == NULL ||
	    (o->config_path != NULL ? (ru.config = strdup(o->config_path)) ==
	    NULL : asprintf(&ru.config, "%s/.ssh/config", o->home) < 0) ||
	    asprintf(&ru.journal, "%s/.ssh/.ykssh-rotate-%s", o->home,
	    o->label) < 0) {
		ru.journal = NULL;
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* The entry stays in place all along: it is needed to resume too. */
	if ((err = read_entry(ru.config, o->label, &ru.e)) != NULL)
		goto out;
	/* One rotation of a label at a time. */
	if ((err = ykssh_atomicfile_lock(ru.journal, 2000, &lock)) != NULL ||
	    (err = load_journal(&ru, &found)) != NULL)
		goto out;
	ru.r->resumed = found;
	if (found) {
		progress(&ru, YKSSH_ROTATE_NONE, ru.journal);
		ru.r->done = ru.j.step;
		/* Options of the run, not of the key: this run's. */
		ru.j.on_token = o->on_token;
		/* Once proven (or not), the journal says which. */
		if (ru.j.step < YKSSH_ROTATE_PROVEN)
			ru.j.no_check = o->no_check;
	} else if (o->abort) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_FILE_NOT_FOUND, "no "
		    "unfinished rotation of \"%s\" to abort", o->label),
		    "nothing to undo");
		goto out;
	} else {
		progress(&ru, YKSSH_ROTATE_PLANNED, o->label);
		if ((err = plan(&ru)) != NULL)
			goto out;
		ru.j.no_check = o->no_check;
		if ((err = record(&ru, YKSSH_ROTATE_PLANNED)) != NULL)
			goto out;
	}
	if (o->abort) {
		err = ru.j.kind != NULL ? ykssh_rotate_piv_abort(&ru) :
		    abort_rotation(&ru);
		goto report;
	}
	if (ru.j.kind != NULL) {
		err = rotate_piv(&ru);
		goto report;
	}
	if (ru.j.step < YKSSH_ROTATE_ENROLLED &&
	    (err = step_enroll(&ru)) != NULL)
		goto report;
	if (ru.j.step < YKSSH_ROTATE_REGISTERED &&
	    (err = step_register(&ru)) != NULL)
		goto report;
	if (ru.j.step < YKSSH_ROTATE_PROVEN &&
	    (err = step_check(&ru)) != NULL)
		goto report;
	if (ru.j.step < YKSSH_ROTATE_PUB_SWITCHED &&
	    (err = step_switch(&ru)) != NULL)
		goto report;
	if (ru.j.step < YKSSH_ROTATE_CONFIG &&
	    (err = step_config(&ru)) != NULL)
		goto report;
	if (ru.j.step < YKSSH_ROTATE_OLD_REMOVED &&
	    (err = step_remove_old(&ru)) != NULL)
		goto report;
	if (ru.j.step < YKSSH_ROTATE_TOKEN &&
	    (err = step_token(&ru)) != NULL)
		goto report;
	if (unlink(ru.journal) != 0 && errno != ENOENT) {
		err = YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "rotation finished but "
		    "%s cannot be removed", ru.journal);
		goto report;
	}
	ru.r->done = YKSSH_ROTATE_DONE;
report:
	if (ru.j.label != NULL && (e2 = fill_report(&ru)) != NULL) {
		ykssh_err_free(err);
		err = e2;
		goto out;
	}
	if (ru.j.label != NULL) {
		*reportp = ru.r;
		ru.r = NULL;	/* transferred */
	}
out:
	ykssh_atomicfile_unlock(lock);
	ykssh_rotate_report_free(ru.r);
	ykssh_rotate_journal_clear(&ru.j);
	entry_clear(&ru.e);
	free(ru.config);
	free(ru.journal);
	return err;
}
