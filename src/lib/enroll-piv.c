/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PIV enrollment orchestration: files first, then the card (slot check
 * before any credential is used), optional hardening of a factory token,
 * management-key authentication, GENERATE, ATTEST, the attestation
 * certificate into the slot, and the files.  The card is reset at the end
 * (ykssh_piv_close), so no PIN stays verified for the next client.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "enroll-internal.h"
#include "ykssh/atomicfile.h"
#include "ykssh/attest.h"
#include "ykssh/enroll.h"
#include "ykssh/piv.h"

#define NAME_TRIES	100
#define MGMT_HEX_MAX	64

static const char *const modules[] = {
	"/usr/lib/x86_64-linux-gnu/libykcs11.so",
	"/usr/lib/aarch64-linux-gnu/libykcs11.so",
	"/usr/lib64/libykcs11.so",
	"/usr/lib/libykcs11.so",
	"/usr/local/lib/libykcs11.so",
	"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
	"/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
	"/usr/lib64/opensc-pkcs11.so",
	"/usr/lib/opensc-pkcs11.so",
	"/usr/lib/pkcs11/opensc-pkcs11.so",
};

const char *
ykssh_enroll_piv_module(void)
{
	size_t i;

	for (i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
		if (access(modules[i], R_OK) == 0)
			return modules[i];
	return NULL;
}

void
ykssh_enroll_piv_result_free(struct ykssh_enroll_piv_result *r)
{
	if (r == NULL)
		return;
	ykssh_sshkey_free(r->key);
	free(r->fingerprint);
	free(r->pub_line);
	free(r->pub_path);
	free(r->attestation_path);
	ykssh_attest_result_free(r->attest);
	free(r->backups[0]);
	free(r->backups[1]);
	free(r->reader);
	free(r->model);
	free(r->firmware);
	free(r->replaced);
	free(r->pkcs11_module);
	free(r);
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 || errno != ENOENT;
}

/* "<pub without .pub>-attestation.pem" */
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
plan_files(const struct ykssh_enroll_piv_opts *o, uint8_t slot,
    struct ykssh_enroll_piv_result *r)
{
	struct ykssh_err *err;
	char *dir = NULL;
	int i;

	if (o->label != NULL && (err = ykssh_enroll_check_label(o->label)) != NULL)
		return err;
	if (o->output != NULL) {
		if ((r->pub_path = strdup(o->output)) == NULL ||
		    (r->attestation_path = attestation_name(o->output)) ==
		    NULL)
			return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		if ((err = ykssh_enroll_check_target(r->pub_path,
		    o->force)) != NULL ||
		    (err = ykssh_enroll_check_target(r->attestation_path,
		    o->force)) != NULL)
			return err;
		return NULL;
	}
	if (asprintf(&dir, "%s/.ssh", o->home) < 0)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	if ((err = ykssh_atomicfile_mkdir(dir, 0700)) != NULL) {
		free(dir);
		return YKSSH_ERR_WRAP(err, "cannot use %s", o->home);
	}
	for (i = 1; i <= NAME_TRIES; i++) {
		char suffix[16] = "";

		if (i > 1)
			snprintf(suffix, sizeof(suffix), "_%d", i);
		free(r->pub_path);
		free(r->attestation_path);
		r->attestation_path = NULL;
		if (asprintf(&r->pub_path, "%s/id_piv_%02x%s%s%s.pub", dir,
		    slot, o->label != NULL ? "_" : "", o->label != NULL ?
		    o->label : "", suffix) < 0) {
			r->pub_path = NULL;
			free(dir);
			return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		}
		if ((r->attestation_path = attestation_name(r->pub_path)) ==
		    NULL) {
			free(dir);
			return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		}
		if (!exists(r->pub_path) && !exists(r->attestation_path))
			break;
	}
	free(dir);
	if (i > NAME_TRIES)
		return YKSSH_ERR(YKSSH_ERR_FILE_EXISTS, "no free key file name "
		    "in %s/.ssh", o->home);
	return NULL;
}

static void
describe_slot(const struct ykssh_piv_slot_status *ss, char *out,
    size_t len)
{
	const char *alg = ykssh_piv_alg_name(ss->algorithm);

	if (ss->has_key)
		snprintf(out, len, "a%s %s key (%s, PIN %s, touch %s)%s%s%s",
		    alg != NULL && alg[0] == 'e' ? "n" : "",
		    alg != NULL ? alg : "unknown", ss->generated == 1 ?
		    "generated on the token" : ss->generated == 0 ?
		    "imported" : "origin unknown",
		    ykssh_piv_pin_policy_name(ss->pin_policy) != NULL ?
		    ykssh_piv_pin_policy_name(ss->pin_policy) : "?",
		    ykssh_piv_touch_policy_name(ss->touch_policy) != NULL ?
		    ykssh_piv_touch_policy_name(ss->touch_policy) : "?",
		    ss->has_cert ? " and a certificate \"" : "",
		    ss->has_cert ? ss->subject : "",
		    ss->has_cert ? "\"" : "");
	else
		snprintf(out, len, "a certificate \"%s\"", ss->subject);
}

static struct ykssh_err *
get_secret(const struct ykssh_enroll_ui *ui, const char *prompt,
    struct ykssh_secret *s)
{
	struct ykssh_err *err;

	if (ui == NULL || ui->get_pin == NULL)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_PIN_REQUIRED,
		    "%s", prompt), "run ykssh on a terminal, or set "
		    "SSH_ASKPASS");
	if ((err = ui->get_pin(ui->arg, prompt, s)) != NULL)
		return err;
	if (ykssh_secret_len(s) == 0)
		return YKSSH_ERR(YKSSH_ERR_CANCELLED, "nothing entered");
	return NULL;
}

static struct ykssh_err *
new_secret(const struct ykssh_enroll_ui *ui, const char *what,
    struct ykssh_secret *s)
{
	if (ui == NULL || ui->new_secret == NULL)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_PIN_REQUIRED,
		    "--setup needs %s", what), "run ykssh on a terminal, or "
		    "set SSH_ASKPASS");
	return ui->new_secret(ui->arg, what, s);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The management key from the user, in hex. */
static struct ykssh_err *
ask_mgmt_key(const struct ykssh_enroll_ui *ui, struct ykssh_piv *piv,
    const struct ykssh_piv_mgmt_status *ms)
{
	struct ykssh_secret *s = NULL;
	struct ykssh_err *err = NULL;
	uint8_t key[YKSSH_PIV_MGMT_KEY_MAX];
	char prompt[160];
	const char *h;
	size_t i, n;

	if ((s = ykssh_secret_new(MGMT_HEX_MAX + 2)) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	snprintf(prompt, sizeof(prompt), "Enter the PIV management key "
	    "(%s, hex) of the token in %s: ", ykssh_piv_alg_name(
	    ms->algorithm), ykssh_piv_reader(piv));
	if ((err = get_secret(ui, prompt, s)) != NULL)
		goto out;
	h = ykssh_secret_str(s);
	n = ykssh_secret_len(s);
	if (n % 2 != 0 || n / 2 > sizeof(key)) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_AUTH_MGMT_KEY,
		    "the management key is not a %s key in hex",
		    ykssh_piv_alg_name(ms->algorithm)), "give it as "
		    "yubico-piv-tool and ykman show it");
		goto out;
	}
	for (i = 0; i < n / 2; i++) {
		int a = hexval(h[2 * i]), b = hexval(h[2 * i + 1]);

		if (a < 0 || b < 0) {
			err = YKSSH_ERR(YKSSH_ERR_AUTH_MGMT_KEY, "the "
			    "management key has a non-hex character");
			goto out;
		}
		key[i] = (uint8_t)(a << 4 | b);
	}
	err = ykssh_piv_authenticate(piv, key, n / 2);
out:
	explicit_bzero(key, sizeof(key));
	ykssh_secret_free(s);
	return err;
}

static struct ykssh_err *
ask_pin(const struct ykssh_enroll_ui *ui, struct ykssh_piv *piv,
    const struct ykssh_enroll_piv_opts *o, struct ykssh_secret *pin)
{
	struct ykssh_piv_pin_status ps;
	struct ykssh_err *err;
	char prompt[256];
	int allow = o->allow_last_pin;

	if ((err = ykssh_piv_pin_status(piv, &ps)) != NULL)
		return err;
	if (ps.pin_retries == 0)
		return ykssh_piv_verify_pin(piv, pin, 0);	/* blocked */
	if (ps.pin_retries == 1 && !allow && ui != NULL &&
	    ui->confirm != NULL)
		allow = ui->confirm(ui->arg, "Only one PIV PIN try is left: "
		    "a wrong PIN blocks the PIN. Try anyway?");
	if (ps.pin_retries == 1 && !allow)
		return ykssh_piv_verify_pin(piv, pin, 0);	/* refusal */
	if (ps.pin_retries > 0)
		snprintf(prompt, sizeof(prompt), "Enter the PIV PIN of the "
		    "token in %s (%d tries left): ", ykssh_piv_reader(piv),
		    ps.pin_retries);
	else
		snprintf(prompt, sizeof(prompt), "Enter the PIV PIN of the "
		    "token in %s: ", ykssh_piv_reader(piv));
	if ((err = get_secret(ui, prompt, pin)) != NULL)
		return err;
	return ykssh_piv_verify_pin(piv, pin, allow);
}

/* --setup: new PIN and PUK, random management key stored PIN-protected. */
static struct ykssh_err *
setup(const struct ykssh_enroll_ui *ui, struct ykssh_piv *piv,
    const struct ykssh_enroll_piv_opts *o, const struct ykssh_piv_pin_status
    *ps, const struct ykssh_piv_mgmt_status *ms,
    struct ykssh_enroll_piv_result *r)
{
	struct ykssh_secret *opin = NULL, *npin = NULL, *opuk = NULL;
	struct ykssh_secret *npuk = NULL;
	struct ykssh_err *err = NULL;

	if ((opin = ykssh_secret_new(YKSSH_PIV_PIN_MAX)) == NULL ||
	    (npin = ykssh_secret_new(YKSSH_PIV_PIN_MAX)) == NULL ||
	    (opuk = ykssh_secret_new(YKSSH_PIV_PIN_MAX)) == NULL ||
	    (npuk = ykssh_secret_new(YKSSH_PIV_PIN_MAX)) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* Current values: the factory ones when the token says so. */
	if (ps->pin_default == 1) {
		if (ykssh_secret_set(opin, "123456", 6) != 0)
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		else
			err = ykssh_piv_verify_pin(piv, opin, 0);
	} else
		err = ask_pin(ui, piv, o, opin);
	if (err != NULL)
		goto out;
	r->pin_used = 1;
	if (ms->is_default == 1 || (ms->is_default == -1 &&
	    !ms->protected_stored))
		err = ykssh_piv_authenticate(piv, NULL, 0);
	else if (ms->protected_stored)
		err = ykssh_piv_authenticate_protected(piv);
	else
		err = ask_mgmt_key(ui, piv, ms);
	if (err != NULL)
		goto out;
	if (ps->puk_default == 1) {
		if (ykssh_secret_set(opuk, "12345678", 8) != 0) {
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
			goto out;
		}
	} else if ((err = get_secret(ui, "Enter the current PIV PUK: ",
	    opuk)) != NULL)
		goto out;
	if ((err = new_secret(ui, "new PIV PIN (6 to 8 characters)",
	    npin)) != NULL ||
	    (err = new_secret(ui, "new PIV PUK (6 to 8 characters; it "
	    "unblocks the PIN)", npuk)) != NULL)
		goto out;
	if ((err = ykssh_piv_setup(piv, opin, npin, opuk, npuk)) != NULL)
		goto out;
	r->setup_done = 1;
	r->mgmt_protected = 1;
	r->factory_pin = r->factory_puk = r->factory_mgmt = 0;
out:
	ykssh_secret_free(opin);
	ykssh_secret_free(npin);
	ykssh_secret_free(opuk);
	ykssh_secret_free(npuk);
	return err;
}

/* Management-key authentication, asking only for what is needed. */
static struct ykssh_err *
authenticate(const struct ykssh_enroll_ui *ui, struct ykssh_piv *piv,
    const struct ykssh_enroll_piv_opts *o,
    const struct ykssh_piv_mgmt_status *ms, struct ykssh_enroll_piv_result *r)
{
	struct ykssh_secret *pin = NULL;
	struct ykssh_err *err = NULL;

	if (ms->protected_stored) {
		if ((pin = ykssh_secret_new(YKSSH_PIV_PIN_MAX)) == NULL)
			return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		if ((err = ask_pin(ui, piv, o, pin)) == NULL) {
			r->pin_used = 1;
			r->mgmt_protected = 1;
			err = ykssh_piv_authenticate_protected(piv);
		}
		ykssh_secret_free(pin);
		return err;
	}
	if (ms->is_default != 0) {
		err = ykssh_piv_authenticate(piv, NULL, 0);
		/* Unknown (no metadata) and not the factory key: ask. */
		if (err == NULL || ms->is_default == 1 ||
		    !ykssh_err_has(err, YKSSH_ERR_AUTH_MGMT_KEY))
			return err;
		ykssh_err_free(err);
	}
	return ask_mgmt_key(ui, piv, ms);
}

struct ykssh_err *
ykssh_enroll_piv_auth(const struct ykssh_enroll_ui *ui, struct ykssh_piv *piv,
    const struct ykssh_piv_mgmt_status *ms, int *pin_usedp)
{
	struct ykssh_enroll_piv_opts o;
	struct ykssh_enroll_piv_result r;
	struct ykssh_err *err;

	memset(&o, 0, sizeof(o));
	memset(&r, 0, sizeof(r));
	err = authenticate(ui, piv, &o, ms, &r);
	*pin_usedp = r.pin_used;
	return err;
}

static struct ykssh_err *
write_file(struct ykssh_ctx *ctx, const char *path, const void *data,
    size_t len, int force, char **backupp)
{
	struct ykssh_atomicfile_opts ao;

	memset(&ao, 0, sizeof(ao));
	ao.mode = 0644;
	ao.new_mode = 0644;
	ao.backup = force;
	ao.no_replace = !force;
	return ykssh_atomicfile_write(ctx, path, data, len, &ao, backupp);
}

/* PEM of the two DER certificates, slot attestation first. */
struct ykssh_err *
ykssh_enroll_piv_chain_pem(const uint8_t *c, size_t clen, const uint8_t *f,
    size_t flen, char **pemp, size_t *lenp)
{
	BIO *bio = NULL;
	X509 *x = NULL;
	const unsigned char *p;
	struct ykssh_err *err = NULL;
	char *data;
	long n;

	*pemp = NULL;
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	p = c;
	if ((x = d2i_X509(NULL, &p, (long)clen)) == NULL ||
	    PEM_write_bio_X509(bio, x) != 1) {
		err = YKSSH_ERR(YKSSH_ERR_DEVICE, "the attestation "
		    "certificate does not parse");
		goto out;
	}
	X509_free(x);
	x = NULL;
	if (f != NULL) {
		p = f;
		if ((x = d2i_X509(NULL, &p, (long)flen)) == NULL ||
		    PEM_write_bio_X509(bio, x) != 1) {
			err = YKSSH_ERR(YKSSH_ERR_DEVICE, "the F9 attestation "
			    "certificate does not parse");
			goto out;
		}
	}
	n = BIO_get_mem_data(bio, &data);
	if (n <= 0 || (*pemp = malloc((size_t)n)) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*pemp, data, (size_t)n);
	*lenp = (size_t)n;
out:
	X509_free(x);
	BIO_free(bio);
	return err;
}

/* The attestation, verified before anything is stored or written. */
static struct ykssh_err *
check_attestation(const struct ykssh_enroll_piv_opts *o, const char *pem,
    size_t pemlen, struct ykssh_enroll_piv_result *r)
{
	struct ykssh_attest_trust *own = NULL;
	const struct ykssh_attest_trust *t = o->trust;
	const struct ykssh_attest_result *a;
	struct ykssh_err *err;

	if (t == NULL) {
		if ((err = ykssh_attest_trust_load(NULL, o->home, &own)) !=
		    NULL)
			return err;
		t = own;
	}
	err = ykssh_attest_verify_piv(t, pem, pemlen, r->key, &r->attest);
	if (err != NULL || r->attest->status == YKSSH_ATTEST_VERIFIED ||
	    o->allow_unattested)
		goto out;
	a = r->attest;
	if (a->status == YKSSH_ATTEST_UNTRUSTED)
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_ATTESTATION,
		    "the PIV attestation is untrusted: %s; nothing was "
		    "written, the new key stays unused in the slot",
		    a->reason),
		    "install Yubico's PIV attestation root (PEM) in %s (see "
		    "ATTESTATION in ykssh(1)), or pass --allow-unattested",
		    ykssh_attest_trust_dir(t));
	else
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_ATTESTATION,
		    "the PIV attestation is %s: %s; nothing was written, the "
		    "new key stays unused in the slot",
		    ykssh_attest_status_name(a->status), a->reason != NULL ?
		    a->reason : "?"), "use a token whose attestation "
		    "verifies, or pass --allow-unattested");
out:
	ykssh_attest_trust_free(own);
	return err;
}

static struct ykssh_err *
make_key(struct ykssh_ctx *ctx, struct ykssh_piv *piv,
    const struct ykssh_enroll_piv_opts *o, struct ykssh_enroll_piv_result *r)
{
	struct ykssh_piv_slot_status ss;
	struct ykssh_err *err;
	uint8_t *cert = NULL, *f9 = NULL;
	size_t certlen = 0, f9len = 0, pemlen = 0;
	char *comment = NULL, *line = NULL, *pem = NULL;

	if ((err = ykssh_piv_generate(piv, r->slot, r->algorithm,
	    o->pin_policy, o->touch_policy, &r->key)) != NULL)
		return err;
	/* From here the old key in the slot is gone: say so on errors. */
	if ((err = ykssh_piv_attest(piv, r->slot, &cert, &certlen, &f9,
	    &f9len)) != NULL ||
	    (err = ykssh_enroll_piv_chain_pem(cert, certlen, f9, f9len,
	    &pem, &pemlen)) != NULL ||
	    (err = check_attestation(o, pem, pemlen, r)) != NULL ||
	    (err = ykssh_piv_put_certificate(piv, r->slot, cert,
	    certlen)) != NULL)
		goto out;
	if ((err = ykssh_piv_slot_status(piv, r->slot, &ss)) != NULL)
		goto out;
	r->pin_policy = ss.has_key ? ss.pin_policy : o->pin_policy;
	r->touch_policy = ss.has_key ? ss.touch_policy : o->touch_policy;
	if ((comment = o->comment != NULL ? strdup(o->comment) :
	    ykssh_enroll_default_comment()) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((err = ykssh_sshkey_fingerprint(r->key, &r->fingerprint)) !=
	    NULL || (err = ykssh_sshkey_format_public(r->key, comment,
	    &r->pub_line)) != NULL)
		goto out;
	if (asprintf(&line, "%s\n", r->pub_line) < 0) {
		line = NULL;
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((err = write_file(ctx, r->pub_path, line, strlen(line), o->force,
	    &r->backups[0])) != NULL ||
	    (err = write_file(ctx, r->attestation_path, pem, pemlen, o->force,
	    &r->backups[1])) != NULL)
		goto out;
	if (r->attest != NULL && (r->attest->path =
	    strdup(r->attestation_path)) == NULL)
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
out:
	if (err != NULL)
		err = YKSSH_ERR_WRAP(err, "the key was generated in slot %02x "
		    "but enrollment did not finish", r->slot);
	free(cert);
	free(f9);
	free(comment);
	free(line);
	free(pem);
	return err;
}

struct ykssh_err *
ykssh_enroll_piv(struct ykssh_ctx *ctx,
    const struct ykssh_enroll_piv_opts *o, const struct ykssh_enroll_ui *ui,
    struct ykssh_enroll_piv_result **resultp)
{
	struct ykssh_enroll_piv_result *r = NULL;
	struct ykssh_piv *piv = NULL;
	struct ykssh_piv_pin_status ps;
	struct ykssh_piv_mgmt_status ms;
	struct ykssh_piv_slot_status ss;
	struct ykssh_err *err = NULL;
	const char *mod;
	char what[320];
	int do_setup;

	*resultp = NULL;
	if (o->home == NULL)
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT, "no home");
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	r->slot = o->slot != 0 ? o->slot : 0x9a;
	r->algorithm = o->algorithm != 0 ? o->algorithm :
	    YKSSH_PIV_ALG_ECCP256;
	if (ykssh_piv_alg_name(r->algorithm) == NULL ||
	    ykssh_piv_pin_policy_name(o->pin_policy) == NULL ||
	    ykssh_piv_touch_policy_name(o->touch_policy) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT, "bad algorithm "
		    "or policy");
		goto out;
	}
	if (r->algorithm == YKSSH_PIV_ALG_ED25519) {
		/* Before any file or card: libykpiv 2.2 cannot do it. */
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_UNSUPPORTED,
		    "Ed25519 PIV keys need YubiKey firmware 5.7 and libykpiv "
		    "2.5 or later (this ykssh uses libykpiv 2.2; OpenSSH needs "
		    "10.1 for Ed25519 over PKCS#11)"), "use --algorithm "
		    "eccp256 (the default), or a FIDO2 ed25519-sk key "
		    "(ykssh enroll without --piv)");
		goto out;
	}
	if ((err = plan_files(o, r->slot, r)) != NULL)
		goto out;
	if ((err = ykssh_piv_open(ctx, o->reader, &piv)) != NULL)
		goto out;
	if ((r->reader = strdup(ykssh_piv_reader(piv))) == NULL ||
	    (r->model = strdup(ykssh_piv_model(piv))) == NULL ||
	    (r->firmware = strdup(ykssh_piv_firmware(piv))) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	r->serial = ykssh_piv_serial(piv);
	/* What is in the slot, before any credential is used. */
	if ((err = ykssh_piv_slot_status(piv, r->slot, &ss)) != NULL)
		goto out;
	if (ss.has_key || ss.has_cert) {
		describe_slot(&ss, what, sizeof(what));
		if (!o->force) {
			err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_SLOT_OCCUPIED,
			    "slot %02x of the token in %s already holds %s",
			    r->slot, r->reader, what), "choose another "
			    "--slot, or pass --force to replace it (the old "
			    "key is destroyed)");
			goto out;
		}
		if ((r->replaced = strdup(what)) == NULL) {
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if ((err = ykssh_piv_pin_status(piv, &ps)) != NULL ||
	    (err = ykssh_piv_mgmt_status(piv, &ms)) != NULL)
		goto out;
	r->mgmt_algorithm = ykssh_piv_alg_name(ms.algorithm);
	r->factory_pin = ps.pin_default;
	r->factory_puk = ps.puk_default;
	r->factory_mgmt = ms.protected_stored ? 0 : ms.is_default;
	do_setup = o->setup;
	if (!do_setup && (r->factory_pin == 1 || r->factory_puk == 1 ||
	    r->factory_mgmt == 1) && ui != NULL && ui->offer != NULL)
		do_setup = ui->offer(ui->arg, "This token still has factory "
		    "credentials (PIN, PUK or management key). Set a new PIN "
		    "and PUK and a random PIN-protected management key now?");
	/* A management key set with touch (P2=FE) waits for a touch. */
	if (ms.touch)
		ykssh_ctx_notice(ctx, YKSSH_NOTICE_TOUCH, "YubiKey (management "
		    "key)");
	if (do_setup)
		err = setup(ui, piv, o, &ps, &ms, r);
	else
		err = authenticate(ui, piv, o, &ms, r);
	if (err != NULL)
		goto out;
	if ((err = make_key(ctx, piv, o, r)) != NULL)
		goto out;
	if ((mod = ykssh_enroll_piv_module()) != NULL &&
	    (r->pkcs11_module = strdup(mod)) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	r->apdus = ykssh_piv_apdus(piv);
	*resultp = r;
	r = NULL;	/* transferred */
out:
	ykssh_piv_close(piv);
	ykssh_enroll_piv_result_free(r);
	return err;
}
