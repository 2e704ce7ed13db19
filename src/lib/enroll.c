/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * FIDO2 enrollment orchestration: target files first, then the token (PIN
 * only when needed, the resident-key duplicate check, the ed25519-sk
 * fallback offer), then the files, atomically.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "enroll-internal.h"
#include "ykssh/atomicfile.h"
#include "ykssh/attest.h"
#include "ykssh/buf.h"
#include "ykssh/enroll.h"
#include "ykssh/fido.h"

#define PIN_MAX		63	/* CTAP: at most 63 bytes */
#define NAME_TRIES	100
#define LABEL_MAX	64
#define CHALLENGE_LEN	32

struct plan {
	char	*ssh_dir;
	char	*stub;
	char	*pub;
	char	*attest;	/* <stub>.attest */
	char	*application;
	char	*comment;
	uint8_t	 flags;
};

static void
plan_free(struct plan *p)
{
	free(p->ssh_dir);
	free(p->stub);
	free(p->pub);
	free(p->attest);
	free(p->application);
	free(p->comment);
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 || errno != ENOENT;
}

struct ykssh_err *
ykssh_enroll_check_label(const char *label)
{
	size_t i, len = strlen(label);

	if (len == 0 || len > LABEL_MAX)
		return YKSSH_ERR(YKSSH_ERR_USAGE,
		    "a label has 1 to %d characters", LABEL_MAX);
	for (i = 0; i < len; i++) {
		char c = label[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.') || (i == 0 && c == '.'))
			return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_USAGE,
			    "label \"%.64s\" has a character other than "
			    "letters, digits, '-', '_' and '.'", label),
			    "labels name files and the key's application");
	}
	return NULL;
}

struct ykssh_err *
ykssh_enroll_check_target(const char *path, int force)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return NULL;
		return YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot check %s", path);
	}
	if (S_ISLNK(st.st_mode))
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_UNSAFE_FILE,
		    "%s is a symbolic link; ykssh does not write keys "
		    "through links", path), "remove the link or choose "
		    "another --output");
	if (!S_ISREG(st.st_mode))
		return YKSSH_ERR(YKSSH_ERR_UNSAFE_FILE,
		    "%s exists and is not a regular file", path);
	if (!force)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_FILE_EXISTS,
		    "%s already exists", path),
		    "choose another --output, or pass --force to replace it "
		    "(a backup is kept)");
	return NULL;
}

static struct ykssh_err *
check_dir_writable(const char *dir)
{
	if (access(dir, W_OK | X_OK) != 0)
		return ykssh_err_hint(YKSSH_ERRNO(YKSSH_ERR_PERMISSION,
		    "cannot write to %s", dir),
		    "fix the directory's permissions (ssh wants 0700) or use "
		    "--output");
	return NULL;
}

char *
ykssh_enroll_default_comment(void)
{
	char host[HOST_NAME_MAX + 1], *s = NULL;
	struct passwd *pw = getpwuid(getuid());

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	if (asprintf(&s, "%s@%s", pw != NULL ? pw->pw_name : "user",
	    host) < 0)
		return NULL;
	return s;
}

static char *
dirname_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* Everything about where and what, decided before touching the token. */
static struct ykssh_err *
make_plan(const struct ykssh_enroll_opts *o, enum ykssh_keytype type,
    struct plan *p)
{
	struct ykssh_err *err;
	char *dir = NULL;
	const char *base;
	int i;

	memset(p, 0, sizeof(*p));
	if (o->label != NULL &&
	    (err = ykssh_enroll_check_label(o->label)) != NULL)
		return err;
	if (o->application != NULL)
		p->application = strdup(o->application);
	else if (o->resident && o->label != NULL) {
		/* One resident credential per (application, user). */
		if (asprintf(&p->application, "ssh:%s", o->label) < 0)
			p->application = NULL;
	} else
		p->application = strdup("ssh:");
	p->comment = o->comment != NULL ? strdup(o->comment) :
	    ykssh_enroll_default_comment();
	if (asprintf(&p->ssh_dir, "%s/.ssh", o->home) < 0)
		p->ssh_dir = NULL;
	if (p->application == NULL || p->comment == NULL ||
	    p->ssh_dir == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot plan enrollment");
	p->flags = (o->no_touch_required ? 0 : YKSSH_SK_USER_PRESENCE_REQD) |
	    (o->verify_required ? YKSSH_SK_USER_VERIFICATION_REQD : 0) |
	    (o->resident ? YKSSH_SK_RESIDENT_KEY : 0);

	if (o->output != NULL) {
		if ((p->stub = strdup(o->output)) == NULL ||
		    asprintf(&p->pub, "%s.pub", o->output) < 0 ||
		    (dir = dirname_of(o->output)) == NULL)
			return YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot plan files");
		err = check_dir_writable(dir);
		free(dir);
		if (err != NULL ||
		    (err = ykssh_enroll_check_target(p->stub, o->force)) !=
		    NULL ||
		    (err = ykssh_enroll_check_target(p->pub, o->force)) !=
		    NULL)
			return err;
		if ((p->attest = ykssh_attest_path(p->pub, type)) == NULL)
			return YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot plan files");
		if ((err = ykssh_enroll_check_target(p->attest, o->force)) !=
		    NULL)
			return err;
	} else {
		if ((err = ykssh_atomicfile_mkdir(p->ssh_dir, 0700)) != NULL)
			return YKSSH_ERR_WRAP(err, "cannot use %s",
			    p->ssh_dir);
		if ((err = check_dir_writable(p->ssh_dir)) != NULL)
			return err;
		base = type == YKSSH_KEY_ECDSA_SK ? "id_ecdsa_sk" :
		    "id_ed25519_sk";
		/* Never collide with an existing key: take a free name. */
		for (i = 1; i <= NAME_TRIES; i++) {
			char suffix[16] = "";

			if (i > 1)
				snprintf(suffix, sizeof(suffix), "_%d", i);
			free(p->stub);
			free(p->pub);
			free(p->attest);
			p->stub = p->pub = p->attest = NULL;
			if (asprintf(&p->stub, "%s/%s%s%s%s", p->ssh_dir, base,
			    o->label != NULL ? "_" : "",
			    o->label != NULL ? o->label : "", suffix) < 0 ||
			    asprintf(&p->pub, "%s.pub", p->stub) < 0) {
				p->stub = p->pub = NULL;
				return YKSSH_ERR(YKSSH_ERR_NOMEM,
				    "cannot plan files");
			}
			if ((p->attest = ykssh_attest_path(p->pub, type)) ==
			    NULL)
				return YKSSH_ERR(YKSSH_ERR_NOMEM,
				    "cannot plan files");
			if (!exists(p->stub) && !exists(p->pub) &&
			    !exists(p->attest))
				break;
		}
		if (i > NAME_TRIES)
			return YKSSH_ERR(YKSSH_ERR_FILE_EXISTS,
			    "no free key file name in %s", p->ssh_dir);
	}
	if (o->attestation != NULL &&
	    (err = ykssh_enroll_check_target(o->attestation, o->force)) !=
	    NULL)
		return err;
	return NULL;
}

static struct ykssh_err *
ask_pin(const struct ykssh_enroll_ui *ui, struct ykssh_fido_dev *dev,
    struct ykssh_secret *pin, struct ykssh_err *why)
{
	char prompt[128];
	struct ykssh_err *err;

	if (ui == NULL || ui->get_pin == NULL)
		return ykssh_err_hint(why != NULL ? why :
		    YKSSH_ERR(YKSSH_ERR_PIN_REQUIRED, "%s needs its PIN",
		    ykssh_fido_model(dev)),
		    "run ykssh on a terminal, or set SSH_ASKPASS");
	snprintf(prompt, sizeof(prompt), "Enter the FIDO PIN of your %s: ",
	    ykssh_fido_model(dev));
	if ((err = ui->get_pin(ui->arg, prompt, pin)) != NULL) {
		ykssh_err_free(why);
		return err;
	}
	ykssh_err_free(why);
	if (ykssh_secret_len(pin) == 0)
		return YKSSH_ERR(YKSSH_ERR_CANCELLED, "no PIN entered");
	return NULL;
}

/* No PIN on the token but the key needs one: offer to set it. */
static struct ykssh_err *
offer_set_pin(const struct ykssh_enroll_ui *ui, struct ykssh_fido_dev *dev,
    struct ykssh_secret *pin, struct ykssh_err *why)
{
	char question[256];
	struct ykssh_err *err;

	if (ui == NULL || ui->new_pin == NULL || ui->confirm == NULL)
		return why;
	snprintf(question, sizeof(question), "%s Set a FIDO PIN on your %s "
	    "now?", ykssh_err_message(why), ykssh_fido_model(dev));
	if (!ui->confirm(ui->arg, question))
		return why;
	ykssh_err_free(why);
	if ((err = ui->new_pin(ui->arg, ykssh_fido_model(dev), pin)) != NULL)
		return err;
	return ykssh_fido_set_pin(dev, ykssh_secret_str(pin), NULL);
}

static struct ykssh_err *
write_file(struct ykssh_ctx *ctx, const char *path, const void *data,
    size_t len, mode_t mode, int force, char **backupp)
{
	struct ykssh_atomicfile_opts ao;

	memset(&ao, 0, sizeof(ao));
	ao.mode = mode;
	ao.backup = force;
	ao.no_replace = !force;
	return ykssh_atomicfile_write(ctx, path, data, len, &ao, backupp);
}

static struct ykssh_err *
save(struct ykssh_ctx *ctx, const struct ykssh_enroll_opts *o,
    const struct plan *p, const struct ykssh_attest_fido_in *in,
    struct ykssh_enroll_result *r)
{
	struct ykssh_buf *stub = NULL, *att = NULL, *copy = NULL;
	struct ykssh_err *err = NULL;
	char *line = NULL;
	int n;

	if ((stub = ykssh_buf_new()) == NULL || (att = ykssh_buf_new()) ==
	    NULL || (copy = ykssh_buf_new()) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot save the key");
		goto out;
	}
	if ((err = ykssh_sshkey_write_stub(r->key, p->comment, stub)) != NULL ||
	    (err = ykssh_sshkey_format_public(r->key, p->comment,
	    &r->pub_line)) != NULL)
		goto out;
	if (asprintf(&line, "%s\n", r->pub_line) < 0) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot save the key");
		goto out;
	}
	n = 0;
	if ((err = write_file(ctx, p->stub, ykssh_buf_ptr(stub),
	    ykssh_buf_len(stub), 0600, o->force, &r->backups[n])) != NULL)
		goto out;
	if (r->backups[n] != NULL)
		n++;
	if ((err = write_file(ctx, p->pub, line, strlen(line), 0644,
	    o->force, &r->backups[n])) != NULL)
		goto out;
	if (r->backups[n] != NULL)
		n++;
	/* Beside the key, with the challenge: 'ykssh verify' reads it. */
	if ((err = ykssh_attest_encode_sk(in, 1, att)) != NULL ||
	    (err = write_file(ctx, p->attest, ykssh_buf_ptr(att),
	    ykssh_buf_len(att), 0644, o->force, &r->backups[n])) != NULL)
		goto out;
	if (r->backups[n] != NULL)
		n++;
	if ((r->attestation_path = strdup(p->attest)) == NULL ||
	    (r->attest != NULL && r->attest->path == NULL &&
	    (r->attest->path = strdup(p->attest)) == NULL)) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (o->attestation != NULL) {
		/* Exactly what ssh-keygen -O write-attestation writes. */
		if ((err = ykssh_attest_encode_sk(in, 0, copy)) != NULL ||
		    (err = write_file(ctx, o->attestation, ykssh_buf_ptr(copy),
		    ykssh_buf_len(copy), 0600, o->force,
		    &r->backups[n])) != NULL)
			goto out;
		if ((r->attestation_copy = strdup(o->attestation)) == NULL)
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	}
out:
	free(line);
	ykssh_buf_free(stub);
	ykssh_buf_free(att);
	ykssh_buf_free(copy);
	return err;
}

/* Record what the user will be shown. */
static struct ykssh_err *
fill_result(struct ykssh_fido_dev *dev, const struct plan *p,
    const struct ykssh_fido_enrollment *e, struct ykssh_enroll_result *r)
{
	const struct ykssh_sshkey *k = ykssh_fido_enrollment_key(e);
	struct ykssh_err *err;

	/* The result owns a copy of the key (public part and stub fields). */
	if ((r->key = ykssh_sshkey_new()) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	if ((err = ykssh_sshkey_set_sk(r->key, ykssh_sshkey_type(k),
	    ykssh_sshkey_pk_ptr(k), ykssh_sshkey_pk_len(k),
	    ykssh_sshkey_application(k), ykssh_sshkey_sk_flags(k),
	    ykssh_sshkey_key_handle_ptr(k),
	    ykssh_sshkey_key_handle_len(k))) != NULL ||
	    (err = ykssh_sshkey_fingerprint(r->key, &r->fingerprint)) != NULL)
		return err;
	r->stub_path = strdup(p->stub);
	r->pub_path = strdup(p->pub);
	r->token_path = strdup(ykssh_fido_path(dev));
	r->token_model = strdup(ykssh_fido_model(dev));
	r->token_aaguid = strdup(ykssh_fido_aaguid(dev));
	r->token_firmware = strdup(ykssh_fido_firmware(dev));
	r->attestation_fmt = strdup(ykssh_fido_enrollment_fmt(e));
	r->attestation_has_x5c = ykssh_fido_enrollment_has_x5c(e);
	if (r->stub_path == NULL || r->pub_path == NULL ||
	    r->token_path == NULL || r->token_model == NULL ||
	    r->token_aaguid == NULL || r->token_firmware == NULL ||
	    r->attestation_fmt == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	return NULL;
}

/*
 * The token cannot make ed25519-sk keys: offer ecdsa-sk instead, only when
 * the user did not ask for a type and can answer.  Returns 1 (and frees
 * err) if the user took it.
 */
static int
offer_ecdsa(const struct ykssh_enroll_opts *o, const struct ykssh_enroll_ui *ui,
    struct ykssh_fido_dev *dev, struct ykssh_fido_enroll_req *req,
    struct ykssh_err *err)
{
	char question[256];
	const char *hint = ykssh_err_find_hint(err);

	if (ykssh_err_code(err) != YKSSH_ERR_UNSUPPORTED ||
	    req->type != YKSSH_KEY_ED25519_SK || hint == NULL ||
	    strstr(hint, "ecdsa-sk") == NULL || o->type != YKSSH_KEY_UNSPEC ||
	    ui == NULL || ui->confirm == NULL)
		return 0;
	snprintf(question, sizeof(question), "Your %s cannot make ed25519-sk "
	    "keys. Make an ecdsa-sk key instead?", ykssh_fido_model(dev));
	if (!ui->confirm(ui->arg, question))
		return 0;
	ykssh_err_free(err);
	req->type = YKSSH_KEY_ECDSA_SK;
	return 1;
}

static struct ykssh_err *
make_key(struct ykssh_ctx *ctx, const struct ykssh_enroll_opts *o,
    const struct ykssh_enroll_ui *ui, struct ykssh_fido_dev *dev,
    struct ykssh_fido_enroll_req *req, struct ykssh_secret *pin,
    struct ykssh_fido_enrollment **ep, int *pin_usedp)
{
	struct ykssh_err *err;
	char question[256];
	int needs_pin = 0, have_pin = 0, dup;

	err = ykssh_fido_enroll_check(dev, req, &needs_pin);
	if (err != NULL && offer_ecdsa(o, ui, dev, req, err))
		err = ykssh_fido_enroll_check(dev, req, &needs_pin);
	if (err != NULL && ykssh_err_code(err) == YKSSH_ERR_PIN_NOT_SET) {
		if ((err = offer_set_pin(ui, dev, pin, err)) != NULL)
			return err;
		have_pin = 1;
		err = ykssh_fido_enroll_check(dev, req, &needs_pin);
	}
	if (err != NULL)
		return err;
	if (needs_pin && !have_pin) {
		if ((err = ask_pin(ui, dev, pin, NULL)) != NULL)
			return err;
		have_pin = 1;
	}
	if ((req->flags & YKSSH_SK_RESIDENT_KEY) != 0) {
		if ((err = ykssh_fido_resident_exists(dev, req, have_pin ?
		    ykssh_secret_str(pin) : NULL, &dup)) != NULL)
			return err;
		if (dup && !o->force) {
			snprintf(question, sizeof(question), "A resident key "
			    "for '%s'%s%s%s already exists on your %s. "
			    "Overwrite it (the old key stops working)?",
			    req->application, o->user != NULL ?
			    " with user id '" : "", o->user != NULL ?
			    o->user : "", o->user != NULL ? "'" : "",
			    ykssh_fido_model(dev));
			if (ui == NULL || ui->confirm == NULL ||
			    !ui->confirm(ui->arg, question))
				return ykssh_err_hint(YKSSH_ERR(
				    YKSSH_ERR_CREDENTIAL_EXISTS,
				    "a resident key for '%s' already exists "
				    "on the token", req->application),
				    "use another --label (or --application), "
				    "or --force to overwrite it");
		}
		if (dup)
			req->flags |= YKSSH_SK_FORCE_OPERATION;
	}
	for (;;) {
		err = ykssh_fido_enroll(dev, req, have_pin ?
		    ykssh_secret_str(pin) : NULL, ep);
		if (err == NULL)
			break;
		if (ykssh_err_code(err) == YKSSH_ERR_PIN_REQUIRED &&
		    !have_pin) {
			/* The token wants its PIN for this key too. */
			if ((err = ask_pin(ui, dev, pin, err)) != NULL)
				return err;
			have_pin = 1;
			continue;
		}
		if (offer_ecdsa(o, ui, dev, req, err))
			continue;
		return err;
	}
	*pin_usedp = have_pin;
	ykssh_log(ctx, YKSSH_LOG_INFO, "key made on %s",
	    ykssh_fido_path(dev));
	return NULL;
}

/* A backup must be made on another token than the primary's. */
static struct ykssh_err *
other_token(const struct ykssh_enroll_opts *o, struct ykssh_fido_dev *dev)
{
	struct ykssh_err *err;
	int has;

	if (o->not_on == NULL)
		return NULL;
	if ((err = ykssh_fido_has_key(dev, o->not_on, &has)) != NULL)
		return err;
	if (has)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CREDENTIAL_EXISTS,
		    "the %s at %s holds the primary key: a backup must be "
		    "another token", ykssh_fido_model(dev),
		    ykssh_fido_path(dev)), "attach the backup token and "
		    "unplug this one, or name the backup with --device");
	return NULL;
}

/*
 * Verifies the new key's attestation.  Refused (not verified, no
 * allow_unattested): a resident key is deleted from the token again.
 */
static struct ykssh_err *
check_attestation(const struct ykssh_enroll_opts *o,
    struct ykssh_fido_dev *dev, const struct ykssh_fido_enroll_req *req,
    const struct ykssh_secret *pin, const struct ykssh_attest_fido_in *in,
    struct ykssh_enroll_result *r)
{
	struct ykssh_attest_trust *own = NULL;
	const struct ykssh_attest_trust *t = o->trust;
	const struct ykssh_attest_result *a;
	struct ykssh_err *err, *derr = NULL;
	const char *fate = "nothing was written and the token keeps nothing";
	int found = 0;

	if (t == NULL) {
		if ((err = ykssh_attest_trust_load(NULL, o->home, &own)) !=
		    NULL)
			return err;
		t = own;
	}
	err = ykssh_attest_verify_fido(t, in, r->key, &r->attest);
	if (err != NULL || r->attest->status == YKSSH_ATTEST_VERIFIED ||
	    o->allow_unattested)
		goto out;
	a = r->attest;
	if (req->flags & YKSSH_SK_RESIDENT_KEY) {
		derr = ykssh_fido_delete_resident(dev, r->fingerprint,
		    ykssh_secret_len(pin) > 0 ? ykssh_secret_str(pin) : NULL,
		    &found);
		fate = derr == NULL && found ? "nothing was written and the "
		    "resident key was deleted from the token again" :
		    "nothing was written, but the resident key could not be "
		    "deleted from the token ('ykssh revoke' it)";
		ykssh_err_free(derr);
	}
	if (a->status == YKSSH_ATTEST_UNTRUSTED)
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_ATTESTATION,
		    "the attestation of the key made on %s is untrusted: "
		    "%s; %s", ykssh_fido_model(dev), a->reason, fate),
		    "install the token vendor's attestation root (PEM) in "
		    "%s (see ATTESTATION in ykssh(1)), or pass "
		    "--allow-unattested to keep such a key",
		    ykssh_attest_trust_dir(t));
	else
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_ATTESTATION,
		    "the attestation of the key made on %s is %s: %s; %s",
		    ykssh_fido_model(dev), ykssh_attest_status_name(
		    a->status), a->reason != NULL ? a->reason : "?", fate),
		    "use a token that proves its keys are made in hardware, "
		    "or pass --allow-unattested to keep such a key");
out:
	ykssh_attest_trust_free(own);
	return err;
}

struct ykssh_err *
ykssh_enroll_fido(struct ykssh_ctx *ctx, const struct ykssh_enroll_opts *o,
    const struct ykssh_enroll_ui *ui, struct ykssh_enroll_result **resultp)
{
	struct ykssh_fido_enroll_req req;
	struct ykssh_fido_dev *dev = NULL;
	struct ykssh_fido_enrollment *e = NULL;
	struct ykssh_enroll_result *r = NULL;
	struct ykssh_secret *pin = NULL;
	struct ykssh_err *err = NULL;
	struct ykssh_attest_fido_in in;
	struct plan p;
	uint8_t challenge[CHALLENGE_LEN];
	enum ykssh_keytype type = o->type != YKSSH_KEY_UNSPEC ? o->type :
	    YKSSH_KEY_ED25519_SK;

	*resultp = NULL;
	if ((err = make_plan(o, type, &p)) != NULL)
		goto out;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (pin = ykssh_secret_new(PIN_MAX)) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot enroll");
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.type = type;
	req.application = p.application;
	req.flags = p.flags;
	if (o->user != NULL) {
		req.user = (const uint8_t *)o->user;
		req.user_len = strlen(o->user);
	}
	req.challenge = o->challenge;
	req.challenge_len = o->challenge_len;
	if (req.challenge == NULL) {
		/* Ours, kept: the saved attestation needs it to verify. */
		if (RAND_bytes(challenge, sizeof(challenge)) != 1) {
			err = YKSSH_ERR(YKSSH_ERR_CRYPTO, "random challenge");
			goto out;
		}
		req.challenge = challenge;
		req.challenge_len = sizeof(challenge);
	}

	if ((err = ykssh_fido_open(ctx, o->devices, o->ndevices,
	    &dev)) != NULL ||
	    (err = other_token(o, dev)) != NULL ||
	    (err = make_key(ctx, o, ui, dev, &req, pin, &e,
	    &r->pin_used)) != NULL)
		goto out;
	/* A fallback to ecdsa-sk changes the default file names. */
	if (req.type != type && o->output == NULL) {
		plan_free(&p);
		if ((err = make_plan(o, req.type, &p)) != NULL)
			goto out;
	}
	ykssh_fido_enrollment_attest_in(e, &in);
	in.challenge = req.challenge;
	in.challenge_len = req.challenge_len;
	if ((err = fill_result(dev, &p, e, r)) != NULL ||
	    (err = check_attestation(o, dev, &req, pin, &in, r)) != NULL ||
	    (err = save(ctx, o, &p, &in, r)) != NULL)
		goto out;
	r->ctap_requests = ykssh_fido_requests(dev);
	*resultp = r;	/* transferred */
	r = NULL;
out:
	ykssh_secret_free(pin);
	ykssh_fido_enrollment_free(e);
	ykssh_fido_close(dev);
	ykssh_enroll_result_free(r);
	plan_free(&p);
	return err;
}

void
ykssh_enroll_result_free(struct ykssh_enroll_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	ykssh_sshkey_free(r->key);
	free(r->fingerprint);
	free(r->pub_line);
	free(r->stub_path);
	free(r->pub_path);
	free(r->attestation_path);
	free(r->attestation_copy);
	ykssh_attest_result_free(r->attest);
	for (i = 0; i < sizeof(r->backups) / sizeof(r->backups[0]); i++)
		free(r->backups[i]);
	free(r->token_path);
	free(r->token_model);
	free(r->token_aaguid);
	free(r->token_firmware);
	free(r->attestation_fmt);
	free(r);
}
