/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A SecurityKeyProvider for tests: lets the real ssh, ssh-keygen and
 * ssh-add enroll, sign and download resident keys with a HID-over-UDP token
 * (our software token), through libfido2 and ykssh's report I/O.  It makes
 * the same CTAP requests as OpenSSH's built-in middleware (sk-usbhid.c), so
 * what works through it works with a YubiKey and the built-in one.
 *
 * The token is named by $YKSSH_SK_DEVICE ("udp://127.0.0.1:PORT?local=0"),
 * or by the "device" option.  $YKSSH_SK_DEVICE may name several tokens,
 * comma-separated, like several plugged in: signing then uses the one
 * that holds the key (a silent assertion with its key handle, as
 * sk-usbhid.c's sk_probe does), and a key no reachable token holds is
 * SSH_SK_ERR_DEVICE_NOT_FOUND, so ssh goes on to its next identity.
 * Other operations use the first token that answers.  Built only for
 * tests; never installed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fido.h>
#include <fido/credman.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/sha.h>

#include "fido-io.h"
#include "sk-api.h"

#define USER_ID_LEN	32

uint32_t
sk_api_version(void)
{
	return SSH_SK_VERSION_MAJOR;
}

static const char *
option(struct sk_option **options, const char *name, int *bad)
{
	size_t i;

	for (i = 0; options != NULL && options[i] != NULL; i++) {
		if (strcmp(options[i]->name, name) == 0)
			return options[i]->value;
		if (options[i]->required &&
		    strcmp(options[i]->name, "device") != 0 &&
		    strcmp(options[i]->name, "user") != 0)
			*bad = 1;
	}
	return NULL;
}

#define MAX_DEVS	8

static fido_dev_t *
open_path(const char *path)
{
	fido_dev_io_t io;
	fido_dev_t *dev;

	if ((dev = fido_dev_new()) == NULL)
		return NULL;
	fido_init(0);
	ykssh_fido_io_functions(&io);
	if (fido_dev_set_io_functions(dev, &io) != FIDO_OK ||
	    fido_dev_open(dev, path) != FIDO_OK) {
		fido_dev_free(&dev);
		return NULL;
	}
	return dev;
}

/*
 * The device paths: the "device" option, else $YKSSH_SK_DEVICE split at
 * commas into buf.  Returns how many.
 */
static size_t
dev_paths(struct sk_option **options, int *bad, char *buf, size_t buflen,
    const char *paths[MAX_DEVS])
{
	const char *path = option(options, "device", bad);
	size_t n = 0;
	char *p, *save = NULL;

	if (path != NULL) {
		paths[0] = path;
		return 1;
	}
	if ((path = getenv("YKSSH_SK_DEVICE")) == NULL ||
	    strlen(path) >= buflen)
		return 0;
	memcpy(buf, path, strlen(path) + 1);
	for (p = strtok_r(buf, ",", &save); p != NULL && n < MAX_DEVS;
	    p = strtok_r(NULL, ",", &save))
		paths[n++] = p;
	return n;
}

/* The first token that answers. */
static fido_dev_t *
open_dev(struct sk_option **options, int *bad)
{
	const char *paths[MAX_DEVS];
	char buf[1024];
	fido_dev_t *dev;
	size_t n, i;

	n = dev_paths(options, bad, buf, sizeof(buf), paths);
	for (i = 0; i < n; i++)
		if ((dev = open_path(paths[i])) != NULL)
			return dev;
	return NULL;
}

/* Does dev hold the key?  As sk-usbhid.c sk_try: a silent assertion. */
static int
holds(fido_dev_t *dev, const char *application, const uint8_t *key_handle,
    size_t key_handle_len)
{
	uint8_t msg[32] = { 0 };
	fido_assert_t *a;
	int rc;

	if ((a = fido_assert_new()) == NULL)
		return 0;
	if (fido_assert_set_clientdata(a, msg, sizeof(msg)) != FIDO_OK ||
	    fido_assert_set_rp(a, application) != FIDO_OK ||
	    fido_assert_allow_cred(a, key_handle, key_handle_len) != FIDO_OK ||
	    fido_assert_set_up(a, FIDO_OPT_FALSE) != FIDO_OK) {
		fido_assert_free(&a);
		return 0;
	}
	rc = fido_dev_get_assert(dev, a, NULL);
	fido_assert_free(&a);
	return rc == FIDO_OK || rc == FIDO_ERR_USER_PRESENCE_REQUIRED;
}

static void close_dev(fido_dev_t *);

/*
 * The token for a signature, as sk-usbhid.c sk_sign: the "device" option
 * opens that token; with a PIN or a verify-required key, the first token
 * that answers (ssh selects by touch there); otherwise the token that
 * holds the key, probed even when there is one (sk_select_by_cred).
 */
static fido_dev_t *
open_dev_for(struct sk_option **options, int *bad, const char *application,
    const uint8_t *key_handle, size_t key_handle_len, uint8_t flags,
    const char *pin)
{
	const char *paths[MAX_DEVS];
	char buf[1024];
	fido_dev_t *dev;
	size_t n, i;

	if (option(options, "device", bad) != NULL ||
	    (flags & SSH_SK_USER_VERIFICATION_REQD) || pin != NULL)
		return open_dev(options, bad);
	n = dev_paths(options, bad, buf, sizeof(buf), paths);
	for (i = 0; i < n; i++) {
		if ((dev = open_path(paths[i])) == NULL)
			continue;
		if (holds(dev, application, key_handle, key_handle_len))
			return dev;
		close_dev(dev);
	}
	return NULL;
}

static void
close_dev(fido_dev_t *dev)
{
	if (dev == NULL)
		return;
	fido_dev_cancel(dev);
	fido_dev_close(dev);
	fido_dev_free(&dev);
}

/* As sk-usbhid.c fidoerr_to_skerr. */
static int
skerr(int rc)
{
	switch (rc) {
	case FIDO_ERR_UNSUPPORTED_OPTION:
	case FIDO_ERR_UNSUPPORTED_ALGORITHM:
		return SSH_SK_ERR_UNSUPPORTED;
	case FIDO_ERR_PIN_REQUIRED:
	case FIDO_ERR_PIN_INVALID:
	case FIDO_ERR_OPERATION_DENIED:
		return SSH_SK_ERR_PIN_REQUIRED;
	default:
		return SSH_SK_ERR_GENERAL;
	}
}

static uint8_t *
dupb(const unsigned char *p, size_t len)
{
	uint8_t *d;

	if (len == 0 || (d = malloc(len)) == NULL)
		return NULL;
	memcpy(d, p, len);
	return d;
}

static void
user_id(struct sk_option **options, uint8_t uid[USER_ID_LEN], int *bad)
{
	const char *u = option(options, "user", bad);

	memset(uid, 0, USER_ID_LEN);
	if (u != NULL) {
		if (strlen(u) >= USER_ID_LEN)
			*bad = 1;
		else
			memcpy(uid, u, strlen(u));
	}
}

/* A resident credential for (application, user) exists (key_lookup). */
static int
exists(fido_dev_t *dev, const char *application, const uint8_t *uid,
    const char *pin)
{
	uint8_t zero[32] = { 0 };
	fido_assert_t *a = fido_assert_new();
	size_t i;
	int rc, found = 0;

	if (a == NULL)
		return -1;
	if (fido_assert_set_clientdata(a, zero, sizeof(zero)) != FIDO_OK ||
	    fido_assert_set_rp(a, application) != FIDO_OK ||
	    fido_assert_set_up(a, FIDO_OPT_FALSE) != FIDO_OK) {
		fido_assert_free(&a);
		return -1;
	}
	rc = fido_dev_get_assert(dev, a, pin);
	if (rc == FIDO_ERR_NO_CREDENTIALS)
		found = 0;
	else if (rc != FIDO_OK)
		found = -1;
	else
		for (i = 0; i < fido_assert_count(a); i++)
			if (fido_assert_user_id_len(a, i) == USER_ID_LEN &&
			    memcmp(fido_assert_user_id_ptr(a, i), uid,
			    USER_ID_LEN) == 0)
				found = 1;
	fido_assert_free(&a);
	return found;
}

int
sk_enroll(uint32_t alg, const uint8_t *challenge, size_t challenge_len,
    const char *application, uint8_t flags, const char *pin,
    struct sk_option **options, struct sk_enroll_response **out)
{
	struct sk_enroll_response *r = NULL;
	uint8_t uid[USER_ID_LEN];
	fido_dev_t *dev = NULL;
	fido_cred_t *cred = NULL;
	int rc, ret = SSH_SK_ERR_GENERAL, bad = 0, e;

	*out = NULL;
	user_id(options, uid, &bad);
	if (bad)
		return SSH_SK_ERR_UNSUPPORTED;
	if ((dev = open_dev(options, &bad)) == NULL)
		return SSH_SK_ERR_DEVICE_NOT_FOUND;
	if ((flags & (SSH_SK_RESIDENT_KEY | SSH_SK_USER_VERIFICATION_REQD)) &&
	    !fido_dev_supports_cred_prot(dev)) {
		ret = SSH_SK_ERR_UNSUPPORTED;
		goto out;
	}
	if ((flags & SSH_SK_RESIDENT_KEY) &&
	    !(flags & SSH_SK_FORCE_OPERATION)) {
		if ((e = exists(dev, application, uid, pin)) == 1) {
			ret = SSH_SK_ERR_CREDENTIAL_EXISTS;
			goto out;
		}
	}
	if ((cred = fido_cred_new()) == NULL ||
	    fido_cred_set_type(cred, alg == SSH_SK_ED25519 ? COSE_EDDSA :
	    COSE_ES256) != FIDO_OK ||
	    fido_cred_set_clientdata(cred, challenge, challenge_len) !=
	    FIDO_OK ||
	    fido_cred_set_rp(cred, application, NULL) != FIDO_OK ||
	    fido_cred_set_user(cred, uid, sizeof(uid), "openssh", "openssh",
	    NULL) != FIDO_OK ||
	    fido_cred_set_rk(cred, (flags & SSH_SK_RESIDENT_KEY) ?
	    FIDO_OPT_TRUE : FIDO_OPT_OMIT) != FIDO_OK)
		goto out;
	if ((flags & (SSH_SK_RESIDENT_KEY | SSH_SK_USER_VERIFICATION_REQD)) &&
	    fido_cred_set_prot(cred, (flags & SSH_SK_USER_VERIFICATION_REQD) ?
	    FIDO_CRED_PROT_UV_REQUIRED : FIDO_CRED_PROT_UV_OPTIONAL_WITH_ID) !=
	    FIDO_OK)
		goto out;
	if ((rc = fido_dev_make_cred(dev, cred, pin)) != FIDO_OK) {
		ret = skerr(rc);
		goto out;
	}
	rc = fido_cred_x5c_ptr(cred) != NULL ? fido_cred_verify(cred) :
	    fido_cred_verify_self(cred);
	if (rc != FIDO_OK || (r = calloc(1, sizeof(*r))) == NULL)
		goto out;
	r->flags = flags;
	if (alg == SSH_SK_ED25519) {
		r->public_key = dupb(fido_cred_pubkey_ptr(cred),
		    fido_cred_pubkey_len(cred));
		r->public_key_len = fido_cred_pubkey_len(cred);
	} else if (fido_cred_pubkey_len(cred) == 64 &&
	    (r->public_key = malloc(65)) != NULL) {
		r->public_key[0] = 0x04;
		memcpy(r->public_key + 1, fido_cred_pubkey_ptr(cred), 64);
		r->public_key_len = 65;
	}
	r->key_handle = dupb(fido_cred_id_ptr(cred), fido_cred_id_len(cred));
	r->key_handle_len = fido_cred_id_len(cred);
	r->signature = dupb(fido_cred_sig_ptr(cred), fido_cred_sig_len(cred));
	r->signature_len = fido_cred_sig_len(cred);
	r->attestation_cert = dupb(fido_cred_x5c_ptr(cred),
	    fido_cred_x5c_len(cred));
	r->attestation_cert_len = fido_cred_x5c_len(cred);
	r->authdata = dupb(fido_cred_authdata_ptr(cred),
	    fido_cred_authdata_len(cred));
	r->authdata_len = fido_cred_authdata_len(cred);
	if (r->public_key == NULL || r->key_handle == NULL)
		goto out;
	*out = r;
	r = NULL;
	ret = 0;
out:
	if (r != NULL) {
		free(r->public_key);
		free(r->key_handle);
		free(r->signature);
		free(r->attestation_cert);
		free(r->authdata);
		free(r);
	}
	fido_cred_free(&cred);
	close_dev(dev);
	return ret;
}

/* ES256 signatures arrive DER-encoded; ssh wants r and s. */
static int
split_ecdsa(const unsigned char *der, size_t len, struct sk_sign_response *r)
{
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &der, (long)len);
	const BIGNUM *br, *bs;
	int ok = -1;

	if (sig == NULL)
		return -1;
	ECDSA_SIG_get0(sig, &br, &bs);
	r->sig_r_len = (size_t)BN_num_bytes(br);
	r->sig_s_len = (size_t)BN_num_bytes(bs);
	if ((r->sig_r = calloc(1, r->sig_r_len + 1)) != NULL &&
	    (r->sig_s = calloc(1, r->sig_s_len + 1)) != NULL) {
		BN_bn2bin(br, r->sig_r);
		BN_bn2bin(bs, r->sig_s);
		ok = 0;
	}
	ECDSA_SIG_free(sig);
	return ok;
}

int
sk_sign(uint32_t alg, const uint8_t *data, size_t data_len,
    const char *application, const uint8_t *key_handle,
    size_t key_handle_len, uint8_t flags, const char *pin,
    struct sk_option **options, struct sk_sign_response **out)
{
	struct sk_sign_response *r = NULL;
	fido_dev_t *dev = NULL;
	fido_assert_t *a = NULL;
	int rc, ret = SSH_SK_ERR_GENERAL, bad = 0;

	*out = NULL;
	if ((dev = open_dev_for(options, &bad, application, key_handle,
	    key_handle_len, flags, pin)) == NULL)
		return SSH_SK_ERR_DEVICE_NOT_FOUND;
	/* verify-required without a PIN: ask ssh for one first. */
	if ((flags & SSH_SK_USER_VERIFICATION_REQD) && pin == NULL) {
		ret = SSH_SK_ERR_PIN_REQUIRED;
		goto out;
	}
	if ((a = fido_assert_new()) == NULL ||
	    fido_assert_set_clientdata(a, data, data_len) != FIDO_OK ||
	    fido_assert_set_rp(a, application) != FIDO_OK ||
	    fido_assert_allow_cred(a, key_handle, key_handle_len) != FIDO_OK ||
	    fido_assert_set_up(a, (flags & SSH_SK_USER_PRESENCE_REQD) ?
	    FIDO_OPT_TRUE : FIDO_OPT_FALSE) != FIDO_OK)
		goto out;
	if ((rc = fido_dev_get_assert(dev, a, pin)) != FIDO_OK) {
		ret = skerr(rc);
		goto out;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto out;
	r->flags = fido_assert_flags(a, 0);
	r->counter = fido_assert_sigcount(a, 0);
	if (alg == SSH_SK_ED25519) {
		if (fido_assert_sig_len(a, 0) != 64)
			goto out;
		r->sig_r = dupb(fido_assert_sig_ptr(a, 0), 64);
		r->sig_r_len = 64;
		if (r->sig_r == NULL)
			goto out;
	} else if (split_ecdsa(fido_assert_sig_ptr(a, 0),
	    fido_assert_sig_len(a, 0), r) != 0)
		goto out;
	*out = r;
	r = NULL;
	ret = 0;
out:
	if (r != NULL) {
		free(r->sig_r);
		free(r->sig_s);
		free(r);
	}
	fido_assert_free(&a);
	close_dev(dev);
	return ret;
}

static int
add_rk(struct sk_resident_key ***rks, size_t *nrks, const char *rp,
    const fido_cred_t *c)
{
	struct sk_resident_key *rk, **tmp;
	int type = fido_cred_type(c);

	if (type != COSE_ES256 && type != COSE_EDDSA)
		return 0;	/* ssh-keygen skips other algorithms */
	if ((rk = calloc(1, sizeof(*rk))) == NULL)
		return -1;
	rk->alg = type == COSE_EDDSA ? SSH_SK_ED25519 : SSH_SK_ECDSA;
	rk->slot = *nrks;
	rk->application = strdup(rp);
	if (type == COSE_EDDSA) {
		rk->key.public_key = dupb(fido_cred_pubkey_ptr(c),
		    fido_cred_pubkey_len(c));
		rk->key.public_key_len = fido_cred_pubkey_len(c);
	} else if ((rk->key.public_key = malloc(65)) != NULL) {
		rk->key.public_key[0] = 0x04;
		memcpy(rk->key.public_key + 1, fido_cred_pubkey_ptr(c), 64);
		rk->key.public_key_len = 65;
	}
	rk->key.key_handle = dupb(fido_cred_id_ptr(c), fido_cred_id_len(c));
	rk->key.key_handle_len = fido_cred_id_len(c);
	rk->user_id = dupb(fido_cred_user_id_ptr(c), fido_cred_user_id_len(c));
	rk->user_id_len = fido_cred_user_id_len(c);
	rk->flags = SSH_SK_USER_PRESENCE_REQD | SSH_SK_RESIDENT_KEY;
	if (fido_cred_prot(c) == FIDO_CRED_PROT_UV_REQUIRED)
		rk->flags |= SSH_SK_USER_VERIFICATION_REQD;
	if ((tmp = realloc(*rks, (*nrks + 1) * sizeof(*tmp))) == NULL)
		return -1;	/* rk leaks only on OOM in a test helper */
	*rks = tmp;
	(*rks)[(*nrks)++] = rk;
	return 0;
}

int
sk_load_resident_keys(const char *pin, struct sk_option **options,
    struct sk_resident_key ***rksp, size_t *nrksp)
{
	fido_credman_rp_t *rp = NULL;
	fido_credman_rk_t *rk = NULL;
	struct sk_resident_key **rks = NULL;
	size_t nrks = 0, i, j;
	fido_dev_t *dev;
	int bad = 0, ret = SSH_SK_ERR_GENERAL, rc;

	*rksp = NULL;
	*nrksp = 0;
	if ((dev = open_dev(options, &bad)) == NULL)
		return SSH_SK_ERR_DEVICE_NOT_FOUND;
	if ((rp = fido_credman_rp_new()) == NULL)
		goto out;
	if ((rc = fido_credman_get_dev_rp(dev, rp, pin)) != FIDO_OK) {
		ret = rc == FIDO_ERR_NO_CREDENTIALS ? 0 : skerr(rc);
		goto out;
	}
	for (i = 0; i < fido_credman_rp_count(rp); i++) {
		const char *id = fido_credman_rp_id(rp, i);

		if (id == NULL || strncmp(id, "ssh:", 4) != 0)
			continue;
		fido_credman_rk_free(&rk);
		if ((rk = fido_credman_rk_new()) == NULL ||
		    fido_credman_get_dev_rk(dev, id, rk, pin) != FIDO_OK)
			goto out;
		for (j = 0; j < fido_credman_rk_count(rk); j++)
			if (add_rk(&rks, &nrks, id,
			    fido_credman_rk(rk, j)) != 0)
				goto out;
	}
	*rksp = rks;
	*nrksp = nrks;
	rks = NULL;
	ret = 0;
out:
	free(rks);	/* entries of a failed call are a test-only leak */
	fido_credman_rk_free(&rk);
	fido_credman_rp_free(&rp);
	close_dev(dev);
	return ret;
}
