/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * FIDO2 enrollment: the makeCredential OpenSSH's middleware sends
 * (sk-usbhid.c sk_enroll), the resident-key duplicate check (key_lookup),
 * attestation verification and the ssh-sk-attest-v01 blob.
 */
#include <stdlib.h>
#include <string.h>

#include <fido.h>
#include <openssl/rand.h>

#include "fido-internal.h"
#include "fido-io.h"
#include "ykssh/attest.h"
#include "ykssh/secret.h"

#define CHALLENGE_LEN	32

struct ykssh_fido_enrollment {
	struct ykssh_sshkey	*key;
	char			*fmt;
	uint8_t			*x5c;
	size_t			 x5c_len;
	uint8_t			*sig;
	size_t			 sig_len;
	uint8_t			*authdata;	/* CBOR-wrapped, as OpenSSH */
	size_t			 authdata_len;
};

static int
cose_alg(enum ykssh_keytype type)
{
	return type == YKSSH_KEY_ED25519_SK ? COSE_EDDSA : COSE_ES256;
}

static const char *
app_of(const struct ykssh_fido_enroll_req *req)
{
	return req->application != NULL ? req->application :
	    YKSSH_FIDO_DEFAULT_APPLICATION;
}

/* The 32-byte user id: the given bytes, zero-padded (as OpenSSH). */
static void
user_id(const struct ykssh_fido_enroll_req *req,
    uint8_t out[YKSSH_FIDO_USER_ID_LEN])
{
	memset(out, 0, YKSSH_FIDO_USER_ID_LEN);
	if (req->user != NULL && req->user_len > 0)
		memcpy(out, req->user, req->user_len);
}

struct ykssh_err *
ykssh_fido_enroll_check(struct ykssh_fido_dev *dev,
    const struct ykssh_fido_enroll_req *req, int *needs_pinp)
{
	int protect = (req->flags & (YKSSH_SK_RESIDENT_KEY |
	    YKSSH_SK_USER_VERIFICATION_REQD)) != 0;
	const char *app = app_of(req);
	const struct ykssh_fido_info *fi = ykssh_fido_dev_info(dev);

	*needs_pinp = 0;
	if (req->type != YKSSH_KEY_ED25519_SK &&
	    req->type != YKSSH_KEY_ECDSA_SK)
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT,
		    "FIDO2 keys are ed25519-sk or ecdsa-sk");
	if (strncmp(app, "ssh:", 4) != 0 ||
	    strlen(app) > YKSSH_SK_APPLICATION_MAX)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_USAGE,
		    "application \"%.64s\" does not start with \"ssh:\"", app),
		    "use --application ssh:NAME (OpenSSH requires the "
		    "prefix)");
	/* OpenSSH keeps a NUL after the user id: 31 bytes at most. */
	if (req->user_len >= YKSSH_FIDO_USER_ID_LEN)
		return YKSSH_ERR(YKSSH_ERR_USAGE,
		    "the user id has %zu bytes; at most %d are allowed",
		    req->user_len, YKSSH_FIDO_USER_ID_LEN - 1);
	/* Known from getInfo: say so now rather than spend a request. */
	if (fi->valid && !ykssh_fido_supports_type(dev, req->type))
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_UNSUPPORTED,
		    "%s cannot make %s keys%s", dev->name,
		    req->type == YKSSH_KEY_ED25519_SK ? "ed25519-sk" :
		    "ecdsa-sk", req->type == YKSSH_KEY_ED25519_SK ?
		    " (YubiKey firmware before 5.2.3 has no Ed25519)" : ""),
		    req->type == YKSSH_KEY_ED25519_SK ? "use --type ecdsa-sk" :
		    "use --type ed25519-sk");
	/*
	 * A token with a PIN wants it for every new key unless it says
	 * otherwise (CTAP 2.1 makeCredUvNotRqd): ask before the first
	 * request instead of after a refusal.
	 */
	if (!protect) {
		if (fi->valid && ykssh_fido_has_pin(dev) &&
		    (!fi->make_cred_uv_not_rqd || fi->always_uv))
			*needs_pinp = 1;
		return NULL;
	}
	if (!ykssh_fido_supports_cred_prot(dev))
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_UNSUPPORTED,
		    "%s cannot protect resident or verify-required keys "
		    "(no credProtect support)", dev->name),
		    "make a non-resident key without --verify-required, "
		    "or use a YubiKey with firmware 5.2 or later");
	if (!ykssh_fido_has_pin(dev))
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_PIN_NOT_SET,
		    "%s has no FIDO PIN: %s keys need one", dev->name,
		    (req->flags & YKSSH_SK_RESIDENT_KEY) ? "resident" :
		    "verify-required"),
		    "set a PIN first (ykssh enroll offers to on a terminal)");
	*needs_pinp = 1;
	return NULL;
}

struct ykssh_err *
ykssh_fido_resident_exists(struct ykssh_fido_dev *dev,
    const struct ykssh_fido_enroll_req *req, const char *pin, int *existsp)
{
	uint8_t zero[CHALLENGE_LEN] = { 0 }, uid[YKSSH_FIDO_USER_ID_LEN];
	fido_assert_t *a = NULL;
	struct ykssh_err *err = NULL;
	size_t i;
	int rc;

	*existsp = 0;
	user_id(req, uid);
	if ((a = fido_assert_new()) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot look up keys");
	/* A silent assertion (no touch), as OpenSSH's key_lookup. */
	if ((rc = fido_assert_set_clientdata(a, zero, sizeof(zero))) !=
	    FIDO_OK ||
	    (rc = fido_assert_set_rp(a, app_of(req))) != FIDO_OK ||
	    (rc = fido_assert_set_up(a, FIDO_OPT_FALSE)) != FIDO_OK) {
		err = YKSSH_ERR(YKSSH_ERR_INTERNAL, "assertion: %s",
		    fido_strerr(rc));
		goto out;
	}
	ykssh_fido_io_rearm_touch(fido_dev_io_handle(dev->dev));
	rc = fido_dev_get_assert(dev->dev, a, pin);
	if (rc == FIDO_ERR_NO_CREDENTIALS)
		goto out;
	if (rc != FIDO_OK) {
		err = YKSSH_ERR_WRAP(ykssh_fido_err(dev, rc, "getAssertion"),
		    "cannot check %s for resident keys", dev->name);
		goto out;
	}
	for (i = 0; i < fido_assert_count(a); i++) {
		if (fido_assert_user_id_len(a, i) == sizeof(uid) &&
		    memcmp(fido_assert_user_id_ptr(a, i), uid,
		    sizeof(uid)) == 0) {
			*existsp = 1;
			break;
		}
	}
out:
	fido_assert_free(&a);
	return err;
}

struct ykssh_err *
ykssh_fido_has_key(struct ykssh_fido_dev *dev, const struct ykssh_sshkey *key,
    int *hasp)
{
	uint8_t zero[CHALLENGE_LEN] = { 0 };
	fido_assert_t *a = NULL;
	struct ykssh_err *err = NULL;
	int rc;

	*hasp = 0;
	if (!ykssh_sshkey_has_key_handle(key))
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT,
		    "not a security key with a key handle");
	if ((a = fido_assert_new()) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot look up keys");
	if ((rc = fido_assert_set_clientdata(a, zero, sizeof(zero))) !=
	    FIDO_OK ||
	    (rc = fido_assert_set_rp(a, ykssh_sshkey_application(key))) !=
	    FIDO_OK ||
	    (rc = fido_assert_allow_cred(a, ykssh_sshkey_key_handle_ptr(key),
	    ykssh_sshkey_key_handle_len(key))) != FIDO_OK ||
	    (rc = fido_assert_set_up(a, FIDO_OPT_FALSE)) != FIDO_OK) {
		err = YKSSH_ERR(YKSSH_ERR_INTERNAL, "assertion: %s",
		    fido_strerr(rc));
		goto out;
	}
	ykssh_fido_io_rearm_touch(fido_dev_io_handle(dev->dev));
	rc = fido_dev_get_assert(dev->dev, a, NULL);
	/* U2F-style answers: the credential is there, a touch is wanted. */
	if (rc == FIDO_OK || rc == FIDO_ERR_USER_PRESENCE_REQUIRED)
		*hasp = 1;
	else if (rc != FIDO_ERR_NO_CREDENTIALS &&
	    rc != FIDO_ERR_PIN_REQUIRED && rc != FIDO_ERR_INVALID_CREDENTIAL)
		err = YKSSH_ERR_WRAP(ykssh_fido_err(dev, rc, "getAssertion"),
		    "cannot ask %s about the key", dev->name);
out:
	fido_assert_free(&a);
	return err;
}

static uint8_t *
dup_bytes(const unsigned char *p, size_t len)
{
	uint8_t *d;

	if (p == NULL || len == 0)
		return NULL;
	if ((d = malloc(len)) != NULL)
		memcpy(d, p, len);
	return d;
}

/* Verifies the attestation the way OpenSSH 9.2's sk_enroll does. */
static struct ykssh_err *
verify_attestation(struct ykssh_fido_dev *dev, fido_cred_t *cred)
{
	int rc;

	if (fido_cred_x5c_ptr(cred) != NULL)
		rc = fido_cred_verify(cred);
	else
		rc = fido_cred_verify_self(cred);
	if (rc != FIDO_OK)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_ATTESTATION,
		    "the attestation of %s does not verify (%s)", dev->name,
		    fido_strerr(rc)),
		    "this token did not prove the key was made inside it; "
		    "do not use it");
	return NULL;
}

static struct ykssh_err *
collect(struct ykssh_fido_dev *dev, const struct ykssh_fido_enroll_req *req,
    fido_cred_t *cred, struct ykssh_fido_enrollment *e)
{
	uint8_t pk[65];
	size_t pklen = fido_cred_pubkey_len(cred);
	const unsigned char *p = fido_cred_pubkey_ptr(cred);

	if (req->type == YKSSH_KEY_ED25519_SK) {
		if (pklen != 32)
			return YKSSH_ERR(YKSSH_ERR_PROTOCOL,
			    "token returned a %zu-byte Ed25519 key", pklen);
		memcpy(pk, p, 32);
	} else {
		if (pklen != 64)
			return YKSSH_ERR(YKSSH_ERR_PROTOCOL,
			    "token returned a %zu-byte P-256 key", pklen);
		pk[0] = 0x04;	/* SEC1 uncompressed, as OpenSSH stores it */
		memcpy(pk + 1, p, 64);
		pklen = 65;
	}
	if ((e->key = ykssh_sshkey_new()) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot store the key");
	if (fido_cred_id_len(cred) == 0)
		return YKSSH_ERR(YKSSH_ERR_PROTOCOL,
		    "token returned no credential id");
	{
		struct ykssh_err *err = ykssh_sshkey_set_sk(e->key, req->type,
		    pk, pklen, app_of(req),
		    (uint8_t)(req->flags & ~YKSSH_SK_FORCE_OPERATION),
		    fido_cred_id_ptr(cred), fido_cred_id_len(cred));

		if (err != NULL)
			return YKSSH_ERR_WRAP(err, "token returned a bad key");
	}
	e->fmt = strdup(fido_cred_fmt(cred) != NULL ? fido_cred_fmt(cred) :
	    "none");
	e->x5c_len = fido_cred_x5c_len(cred);
	e->x5c = dup_bytes(fido_cred_x5c_ptr(cred), e->x5c_len);
	e->sig_len = fido_cred_sig_len(cred);
	e->sig = dup_bytes(fido_cred_sig_ptr(cred), e->sig_len);
	e->authdata_len = fido_cred_authdata_len(cred);
	e->authdata = dup_bytes(fido_cred_authdata_ptr(cred),
	    e->authdata_len);
	if (e->fmt == NULL || (e->x5c_len > 0 && e->x5c == NULL) ||
	    (e->sig_len > 0 && e->sig == NULL) ||
	    (e->authdata_len > 0 && e->authdata == NULL))
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot store attestation");
	ykssh_fido_set_aaguid(dev, fido_cred_aaguid_ptr(cred),
	    fido_cred_aaguid_len(cred));
	return NULL;
}

struct ykssh_err *
ykssh_fido_enroll(struct ykssh_fido_dev *dev,
    const struct ykssh_fido_enroll_req *req, const char *pin,
    struct ykssh_fido_enrollment **enrollmentp)
{
	uint8_t challenge[CHALLENGE_LEN], uid[YKSSH_FIDO_USER_ID_LEN];
	const uint8_t *chal = req->challenge;
	size_t chal_len = req->challenge_len;
	struct ykssh_fido_enrollment *e = NULL;
	fido_cred_t *cred = NULL;
	struct ykssh_err *err = NULL;
	int needs_pin, rc;
	int resident = (req->flags & YKSSH_SK_RESIDENT_KEY) != 0;
	int uv = (req->flags & YKSSH_SK_USER_VERIFICATION_REQD) != 0;

	*enrollmentp = NULL;
	if ((err = ykssh_fido_enroll_check(dev, req, &needs_pin)) != NULL)
		return err;
	if (chal == NULL) {
		if (RAND_bytes(challenge, sizeof(challenge)) != 1)
			return YKSSH_ERR(YKSSH_ERR_CRYPTO, "random challenge");
		chal = challenge;
		chal_len = sizeof(challenge);
	}
	user_id(req, uid);
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (cred = fido_cred_new()) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot enroll");
		goto out;
	}
	if ((rc = fido_cred_set_type(cred, cose_alg(req->type))) != FIDO_OK ||
	    (rc = fido_cred_set_clientdata(cred, chal, chal_len)) != FIDO_OK ||
	    (rc = fido_cred_set_rp(cred, app_of(req), NULL)) != FIDO_OK ||
	    (rc = fido_cred_set_user(cred, uid, sizeof(uid), "openssh",
	    "openssh", NULL)) != FIDO_OK ||
	    (rc = fido_cred_set_rk(cred, resident ? FIDO_OPT_TRUE :
	    FIDO_OPT_OMIT)) != FIDO_OK ||
	    ((resident || uv) && (rc = fido_cred_set_prot(cred, uv ?
	    FIDO_CRED_PROT_UV_REQUIRED :
	    FIDO_CRED_PROT_UV_OPTIONAL_WITH_ID)) != FIDO_OK)) {
		err = YKSSH_ERR(YKSSH_ERR_INTERNAL, "credential request: %s",
		    fido_strerr(rc));
		goto out;
	}
	ykssh_debug(dev->ctx, "makeCredential %s app %s%s%s%s",
	    ykssh_sshkey_type_name(req->type), app_of(req),
	    resident ? " resident" : "", uv ? " verify-required" : "",
	    pin != NULL ? " with PIN" : "");
	ykssh_fido_io_rearm_touch(fido_dev_io_handle(dev->dev));
	if ((rc = fido_dev_make_cred(dev->dev, cred, pin)) != FIDO_OK) {
		err = ykssh_fido_err(dev, rc, "makeCredential");
		if (rc == FIDO_ERR_UNSUPPORTED_ALGORITHM &&
		    req->type == YKSSH_KEY_ED25519_SK)
			err = ykssh_err_hint(YKSSH_ERR_WRAP(err,
			    "%s cannot make ed25519-sk keys (YubiKey firmware "
			    "before 5.2.3 has no Ed25519)", dev->name),
			    "use --type ecdsa-sk");
		goto out;
	}
	if ((err = verify_attestation(dev, cred)) != NULL ||
	    (err = collect(dev, req, cred, e)) != NULL)
		goto out;
	*enrollmentp = e;	/* transferred */
	e = NULL;
out:
	explicit_bzero(challenge, sizeof(challenge));
	fido_cred_free(&cred);
	ykssh_fido_enrollment_free(e);
	return err;
}

void
ykssh_fido_enrollment_free(struct ykssh_fido_enrollment *e)
{
	if (e == NULL)
		return;
	ykssh_sshkey_free(e->key);
	free(e->fmt);
	free(e->x5c);
	free(e->sig);
	free(e->authdata);
	free(e);
}

const struct ykssh_sshkey *
ykssh_fido_enrollment_key(const struct ykssh_fido_enrollment *e)
{
	return e->key;
}

const char *
ykssh_fido_enrollment_fmt(const struct ykssh_fido_enrollment *e)
{
	return e->fmt;
}

int
ykssh_fido_enrollment_has_x5c(const struct ykssh_fido_enrollment *e)
{
	return e->x5c != NULL;
}

struct ykssh_err *
ykssh_fido_enrollment_attestation(const struct ykssh_fido_enrollment *e,
    struct ykssh_buf *out)
{
	struct ykssh_buf *b;
	int r;

	if ((b = ykssh_buf_new()) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot encode attestation");
	if ((r = ykssh_buf_put_cstring(b, "ssh-sk-attest-v01")) != 0 ||
	    (r = ykssh_buf_put_string(b, e->x5c, e->x5c_len)) != 0 ||
	    (r = ykssh_buf_put_string(b, e->sig, e->sig_len)) != 0 ||
	    (r = ykssh_buf_put_string(b, e->authdata, e->authdata_len)) != 0 ||
	    (r = ykssh_buf_put_u32(b, 0)) != 0 ||		/* flags */
	    (r = ykssh_buf_put_string(b, NULL, 0)) != 0 ||	/* reserved */
	    (r = ykssh_buf_putb(out, b)) != 0) {
		ykssh_buf_free(b);
		return YKSSH_ERR(r, "cannot encode attestation");
	}
	ykssh_buf_free(b);
	return NULL;
}

void
ykssh_fido_enrollment_attest_in(const struct ykssh_fido_enrollment *e,
    struct ykssh_attest_fido_in *in)
{
	memset(in, 0, sizeof(*in));
	in->fmt = e->fmt;
	in->x5c = e->x5c;
	in->x5c_len = e->x5c_len;
	in->sig = e->sig;
	in->sig_len = e->sig_len;
	in->authdata = e->authdata;
	in->authdata_len = e->authdata_len;
}
