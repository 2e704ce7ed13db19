/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The attestation verifier against attestations made here with OpenSSL:
 * a test root, attestation certificates that keep or break WebAuthn's
 * rules (8.2.1), authData for a fresh Ed25519 credential signed over
 * authData || SHA-256(challenge), and a PIV chain (root, F9, slot).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attest-internal.h"
#include "ykssh/attest.h"
#include "ykssh/buf.h"

#define APP	"ssh:"

static const uint8_t aaguid[16] = {
	0xee, 0x88, 0x28, 0x79, 0x72, 0x1c, 0x49, 0x13,
	0x97, 0x75, 0x3d, 0xfc, 0xce, 0x97, 0x07, 0x2a,
};
static const uint8_t challenge[] = "a challenge";
static const uint8_t handle[] = "key-handle-0123456789";

/* Certificate options. */
struct certopt {
	const char	*ou;
	int		 ca;		/* basicConstraints CA */
	int		 no_bc;
	const uint8_t	*aaguid;	/* extension, or NULL */
	long		 days;		/* validity from now (negative: past) */
};

static EVP_PKEY *
ec_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(k);
	return k;
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *v)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	assert_non_null(e = X509V3_EXT_conf_nid(NULL, &ctx, nid, v));
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

static X509 *
make_cert(EVP_PKEY *key, const char *cn, const char *ou, X509 *issuer,
    EVP_PKEY *ikey, const struct certopt *o)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	long days = o != NULL && o->days != 0 ? o->days : 3650;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
	X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
	    (const unsigned char *)"SE", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)"ykssh tests", -1, -1, 0);
	if (ou != NULL)
		X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC,
		    (const unsigned char *)ou, -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : n);
	X509_NAME_free(n);
	if (days > 0) {
		X509_gmtime_adj(X509_getm_notBefore(x), -86400);
		X509_gmtime_adj(X509_getm_notAfter(x), days * 86400);
	} else {
		X509_gmtime_adj(X509_getm_notBefore(x), (days - 2) * 86400);
		X509_gmtime_adj(X509_getm_notAfter(x), days * 86400);
	}
	X509_set_pubkey(x, key);
	if (o == NULL || !o->no_bc)
		add_ext(x, issuer != NULL ? issuer : x,
		    NID_basic_constraints, o != NULL && !o->ca ?
		    "critical,CA:FALSE" : "critical,CA:TRUE");
	if (o != NULL && o->aaguid != NULL) {
		ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.4.1.45724.1.1.4", 1);
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		X509_EXTENSION *e;
		uint8_t v[18] = { 0x04, 0x10 };

		memcpy(v + 2, o->aaguid, 16);
		ASN1_OCTET_STRING_set(os, v, sizeof(v));
		e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
		ASN1_OCTET_STRING_free(os);
		ASN1_OBJECT_free(obj);
	}
	assert_true(X509_sign(x, ikey, EVP_sha256()) > 0);
	return x;
}

static char *
pem_of(X509 *a, X509 *b, size_t *lenp)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p, *s;
	long n;

	PEM_write_bio_X509(bio, a);
	if (b != NULL)
		PEM_write_bio_X509(bio, b);
	n = BIO_get_mem_data(bio, &p);
	s = malloc((size_t)n + 1);
	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	*lenp = (size_t)n;
	BIO_free(bio);
	return s;
}

static struct ykssh_attest_trust *
trust_of(X509 *root)
{
	struct ykssh_attest_trust *t = ykssh_attest_trust_new();
	size_t len;
	char *pem;

	assert_non_null(t);
	if (root != NULL) {
		pem = pem_of(root, NULL, &len);
		assert_null(ykssh_attest_trust_add_pem(t, pem, len, "root"));
		free(pem);
	}
	return t;
}

/* A FIDO2 enrollment, made here. */
struct enrollment {
	EVP_PKEY	*root_key, *att_key, *cred_key;
	X509		*root, *att;
	uint8_t		 pk[32];
	uint8_t		 authdata[512];	/* CBOR byte string */
	size_t		 authdata_len;
	uint8_t		*x5c;
	int		 x5c_len;
	uint8_t		 sig[256];
	size_t		 sig_len;
	struct ykssh_sshkey *key;
};

static void
sign(EVP_PKEY *k, const uint8_t *ad, size_t adlen, int eddsa,
    uint8_t *sig, size_t *siglen)
{
	uint8_t msg[512];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	memcpy(msg, ad, adlen);
	SHA256(challenge, sizeof(challenge) - 1, msg + adlen);
	*siglen = 256;
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, eddsa ? NULL :
	    EVP_sha256(), NULL, k), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, siglen, msg, adlen + 32),
	    1);
	EVP_MD_CTX_free(ctx);
}

/* att_opt NULL: self attestation. */
static void
enroll(struct enrollment *e, const struct certopt *att_opt, const char *app)
{
	uint8_t raw[400], *p = raw;
	size_t pklen = sizeof(e->pk), n;
	unsigned char *der = NULL;

	memset(e, 0, sizeof(*e));
	e->root_key = ec_key();
	e->root = make_cert(e->root_key, "test root", NULL, NULL, e->root_key,
	    NULL);
	assert_non_null(e->cred_key = EVP_PKEY_Q_keygen(NULL, NULL,
	    "ED25519"));
	assert_int_equal(EVP_PKEY_get_raw_public_key(e->cred_key, e->pk,
	    &pklen), 1);
	/* authData: rpIdHash, flags UP|AT, counter, attested credential. */
	SHA256((const uint8_t *)app, strlen(app), p);
	p += 32;
	*p++ = 0x41;
	memset(p, 0, 4);
	p += 4;
	memcpy(p, aaguid, 16);
	p += 16;
	*p++ = 0;
	*p++ = (uint8_t)(sizeof(handle) - 1);
	memcpy(p, handle, sizeof(handle) - 1);
	p += sizeof(handle) - 1;
	/* COSE_Key {1: 1 (OKP), 3: -8 (EdDSA), -1: 6 (Ed25519), -2: x} */
	memcpy(p, "\xa4\x01\x01\x03\x27\x20\x06\x21\x58\x20", 10);
	p += 10;
	memcpy(p, e->pk, 32);
	p += 32;
	n = (size_t)(p - raw);
	e->authdata[0] = 0x58;
	e->authdata[1] = (uint8_t)n;
	memcpy(e->authdata + 2, raw, n);
	e->authdata_len = n + 2;
	if (att_opt != NULL) {
		e->att_key = ec_key();
		e->att = make_cert(e->att_key, "attestation", att_opt->ou !=
		    NULL ? att_opt->ou : "Authenticator Attestation", e->root,
		    e->root_key, att_opt);
		assert_true((e->x5c_len = i2d_X509(e->att, &der)) > 0);
		e->x5c = der;
		sign(e->att_key, raw, n, 0, e->sig, &e->sig_len);
	} else
		sign(e->cred_key, raw, n, 1, e->sig, &e->sig_len);
	assert_non_null(e->key = ykssh_sshkey_new());
	assert_null(ykssh_sshkey_set_sk(e->key, YKSSH_KEY_ED25519_SK, e->pk,
	    32, APP, YKSSH_SK_USER_PRESENCE_REQD, handle,
	    sizeof(handle) - 1));
}

static void
enrollment_free(struct enrollment *e)
{
	EVP_PKEY_free(e->root_key);
	EVP_PKEY_free(e->att_key);
	EVP_PKEY_free(e->cred_key);
	X509_free(e->root);
	X509_free(e->att);
	OPENSSL_free(e->x5c);
	ykssh_sshkey_free(e->key);
}

static void
input(const struct enrollment *e, struct ykssh_attest_fido_in *in)
{
	memset(in, 0, sizeof(*in));
	in->x5c = e->x5c;
	in->x5c_len = (size_t)e->x5c_len;
	in->sig = e->sig;
	in->sig_len = e->sig_len;
	in->authdata = e->authdata;
	in->authdata_len = e->authdata_len;
	in->challenge = challenge;
	in->challenge_len = sizeof(challenge) - 1;
}

/* Verifies e against a trust of `root` (NULL: e's root). */
static enum ykssh_attest_status
check(const struct enrollment *e, const struct ykssh_attest_fido_in *in,
    X509 *root, int no_roots, const char *reason)
{
	struct ykssh_attest_trust *t = trust_of(no_roots ? NULL :
	    root != NULL ? root : e->root);
	struct ykssh_attest_result *r = NULL;
	enum ykssh_attest_status s;

	assert_null(ykssh_attest_verify_fido(t, in, e->key, &r));
	s = r->status;
	if (reason != NULL) {
		assert_non_null(r->reason);
		if (strstr(r->reason, reason) == NULL)
			fail_msg("reason \"%s\" lacks \"%s\"", r->reason,
			    reason);
	}
	if (s == YKSSH_ATTEST_VERIFIED)
		assert_string_equal(r->aaguid,
		    "ee882879-721c-4913-9775-3dfcce97072a");
	ykssh_attest_result_free(r);
	ykssh_attest_trust_free(t);
	return s;
}

static const struct certopt good = { NULL, 0, 0, NULL, 0 };

static void
test_fido_verified(void **state)
{
	struct enrollment e;
	struct ykssh_attest_fido_in in;
	struct certopt with_aaguid = { NULL, 0, 0, aaguid, 0 };

	(void)state;
	enroll(&e, &good, APP);
	input(&e, &in);
	assert_int_equal(check(&e, &in, NULL, 0, NULL),
	    YKSSH_ATTEST_VERIFIED);
	enrollment_free(&e);
	enroll(&e, &with_aaguid, APP);
	input(&e, &in);
	assert_int_equal(check(&e, &in, NULL, 0, NULL),
	    YKSSH_ATTEST_VERIFIED);
	enrollment_free(&e);
}

static void
test_fido_untrusted(void **state)
{
	struct enrollment e, other;
	struct ykssh_attest_fido_in in;
	EVP_PKEY *k = ec_key();
	X509 *stranger = make_cert(k, "another root", NULL, NULL, k, NULL);

	(void)state;
	enroll(&e, &good, APP);
	enroll(&other, &good, APP);
	input(&e, &in);
	assert_int_equal(check(&e, &in, NULL, 1, "no trusted"),
	    YKSSH_ATTEST_UNTRUSTED);
	assert_int_equal(check(&e, &in, stranger, 0, "trusted root"),
	    YKSSH_ATTEST_UNTRUSTED);
	/* A trusted root of the same name but another key: no chain. */
	assert_int_equal(check(&e, &in, other.root, 0, "signature"),
	    YKSSH_ATTEST_INVALID);
	X509_free(stranger);
	EVP_PKEY_free(k);
	enrollment_free(&e);
	enrollment_free(&other);
}

static void
test_fido_certificate_rules(void **state)
{
	static const uint8_t wrong[16] = { 1 };
	const struct {
		struct certopt	 o;
		const char	*why;
	} bad[] = {
		{ { NULL, 1, 0, NULL, 0 }, "CA certificate" },
		{ { "Some Unit", 0, 0, NULL, 0 }, "subject OU" },
		{ { NULL, 0, 0, wrong, 0 }, "AAGUID" },
		{ { NULL, 0, 0, NULL, -1 }, "expired" },
	};
	struct enrollment e;
	struct ykssh_attest_fido_in in;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enroll(&e, &bad[i].o, APP);
		input(&e, &in);
		assert_int_equal(check(&e, &in, NULL, 0, bad[i].why),
		    YKSSH_ATTEST_INVALID);
		enrollment_free(&e);
	}
}

static void
test_fido_tampered(void **state)
{
	struct enrollment e, other;
	struct ykssh_attest_fido_in in;
	uint8_t ad[512], sig[256], chal[] = "another challenge";

	(void)state;
	enroll(&e, &good, APP);
	/* Signature */
	input(&e, &in);
	memcpy(sig, e.sig, e.sig_len);
	sig[e.sig_len - 3] ^= 1;
	in.sig = sig;
	assert_int_equal(check(&e, &in, NULL, 0, "signature"),
	    YKSSH_ATTEST_INVALID);
	/* authData (the counter byte: still parses) */
	input(&e, &in);
	memcpy(ad, e.authdata, e.authdata_len);
	ad[2 + 33] ^= 1;
	in.authdata = ad;
	assert_int_equal(check(&e, &in, NULL, 0, NULL),
	    YKSSH_ATTEST_INVALID);
	/* Challenge */
	input(&e, &in);
	in.challenge = chal;
	in.challenge_len = sizeof(chal) - 1;
	assert_int_equal(check(&e, &in, NULL, 0, NULL),
	    YKSSH_ATTEST_INVALID);
	in.challenge = NULL;
	in.challenge_len = 0;
	assert_int_equal(check(&e, &in, NULL, 0, "challenge"),
	    YKSSH_ATTEST_INVALID);
	/* Another key's attestation */
	enroll(&other, &good, APP);
	input(&other, &in);
	assert_int_equal(check(&e, &in, other.root, 0, "another key"),
	    YKSSH_ATTEST_INVALID);
	/* Another certificate than the one that signed */
	input(&e, &in);
	in.x5c = other.x5c;
	in.x5c_len = (size_t)other.x5c_len;
	assert_int_equal(check(&e, &in, NULL, 0, "signature"),
	    YKSSH_ATTEST_INVALID);
	/* Garbage authData */
	input(&e, &in);
	in.authdata_len = 10;
	assert_int_equal(check(&e, &in, NULL, 0, "authenticator data"),
	    YKSSH_ATTEST_INVALID);
	enrollment_free(&e);
	enrollment_free(&other);
}

static void
test_fido_other_application(void **state)
{
	struct enrollment e;
	struct ykssh_attest_fido_in in;

	(void)state;
	enroll(&e, &good, "ssh:other");
	input(&e, &in);
	assert_int_equal(check(&e, &in, NULL, 0, NULL),
	    YKSSH_ATTEST_INVALID);
	enrollment_free(&e);
}

static void
test_fido_self_attestation(void **state)
{
	struct enrollment e;
	struct ykssh_attest_fido_in in;

	(void)state;
	enroll(&e, NULL, APP);
	input(&e, &in);
	assert_int_equal(check(&e, &in, NULL, 0, "self attestation"),
	    YKSSH_ATTEST_NONE);
	in.fmt = "none";
	assert_int_equal(check(&e, &in, NULL, 0, NULL), YKSSH_ATTEST_NONE);
	enrollment_free(&e);
}

static void
test_sk_blob(void **state)
{
	struct enrollment e;
	struct ykssh_attest_fido_in in, back;
	struct ykssh_buf *b;
	struct ykssh_err *err;

	(void)state;
	enroll(&e, &good, APP);
	input(&e, &in);
	assert_non_null(b = ykssh_buf_new());
	assert_null(ykssh_attest_encode_sk(&in, 1, b));
	assert_null(ykssh_attest_parse_sk(ykssh_buf_ptr(b), ykssh_buf_len(b),
	    &back));
	assert_int_equal(back.x5c_len, in.x5c_len);
	assert_memory_equal(back.sig, in.sig, in.sig_len);
	assert_memory_equal(back.authdata, in.authdata, in.authdata_len);
	assert_int_equal(back.challenge_len, in.challenge_len);
	assert_memory_equal(back.challenge, in.challenge, in.challenge_len);
	/* Truncated, trailing data: refused. */
	err = ykssh_attest_parse_sk(ykssh_buf_ptr(b), ykssh_buf_len(b) - 1,
	    &back);
	assert_non_null(err);
	assert_int_equal(ykssh_err_code(err), YKSSH_ERR_INVALID_FORMAT);
	ykssh_err_free(err);
	assert_null(back.sig);
	assert_int_equal(ykssh_buf_put_u8(b, 0), 0);
	err = ykssh_attest_parse_sk(ykssh_buf_ptr(b), ykssh_buf_len(b), &back);
	assert_non_null(err);
	ykssh_err_free(err);
	assert_null(back.authdata);
	/* ssh-keygen's: no challenge. */
	ykssh_buf_reset(b);
	assert_null(ykssh_attest_encode_sk(&in, 0, b));
	assert_null(ykssh_attest_parse_sk(ykssh_buf_ptr(b), ykssh_buf_len(b),
	    &back));
	assert_null(back.challenge);
	ykssh_buf_free(b);
	enrollment_free(&e);
}

static void
test_trust_files(void **state)
{
	struct ykssh_attest_trust *t = ykssh_attest_trust_new();
	struct ykssh_err *err;

	(void)state;
	err = ykssh_attest_trust_add_pem(t, "not a certificate", 17, "x.pem");
	assert_non_null(err);
	assert_int_equal(ykssh_err_code(err), YKSSH_ERR_CONFIG);
	ykssh_err_free(err);
	assert_int_equal(ykssh_attest_trust_count(t), 0);
	ykssh_attest_trust_free(t);
	err = ykssh_attest_trust_load("/nonexistent/ykssh-trust", "/", &t);
	assert_non_null(err);
	assert_int_equal(ykssh_err_code(err), YKSSH_ERR_FILE_NOT_FOUND);
	assert_null(t);
	ykssh_err_free(err);
}

/* PIV: root -> F9 (device) -> slot certificate of the key. */
static void
test_piv_chain(void **state)
{
	EVP_PKEY *root_key = ec_key(), *f9_key = ec_key(), *slot_key =
	    ec_key(), *stranger = ec_key();
	X509 *root, *f9, *slot, *forged, *other_root;
	struct ykssh_attest_trust *t, *t2;
	struct ykssh_attest_result *r;
	struct ykssh_sshkey *key, *wrong;
	struct certopt leaf = { NULL, 0, 1, NULL, 0 };
	uint8_t pt[65];
	size_t len, ptlen;
	char *pem;

	(void)state;
	root = make_cert(root_key, "Yubico PIV test root", NULL, NULL,
	    root_key, NULL);
	other_root = make_cert(stranger, "another root", NULL, NULL, stranger,
	    NULL);
	/* Like some real F9 certificates: no basicConstraints at all. */
	f9 = make_cert(f9_key, "Yubico PIV Attestation", NULL, root,
	    root_key, &leaf);
	slot = make_cert(slot_key, "YubiKey PIV Attestation 9a", NULL, f9,
	    f9_key, &leaf);
	forged = make_cert(slot_key, "YubiKey PIV Attestation 9a", NULL, f9,
	    stranger, &leaf);
	assert_int_equal(EVP_PKEY_get_octet_string_param(slot_key,
	    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt), &ptlen), 1);
	assert_non_null(key = ykssh_sshkey_new());
	assert_null(ykssh_sshkey_set_public(key, YKSSH_KEY_ECDSA_P256, pt,
	    ptlen));
	assert_int_equal(EVP_PKEY_get_octet_string_param(stranger,
	    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt), &ptlen), 1);
	assert_non_null(wrong = ykssh_sshkey_new());
	assert_null(ykssh_sshkey_set_public(wrong, YKSSH_KEY_ECDSA_P256, pt,
	    ptlen));
	t = trust_of(root);
	t2 = trust_of(other_root);

	pem = pem_of(slot, f9, &len);
	assert_null(ykssh_attest_verify_piv(t, pem, len, key, &r));
	assert_int_equal(r->status, YKSSH_ATTEST_VERIFIED);
	assert_non_null(strstr(r->root, "Yubico PIV test root"));
	ykssh_attest_result_free(r);
	assert_null(ykssh_attest_verify_piv(t2, pem, len, key, &r));
	assert_int_equal(r->status, YKSSH_ATTEST_UNTRUSTED);
	ykssh_attest_result_free(r);
	assert_null(ykssh_attest_verify_piv(t, pem, len, wrong, &r));
	assert_int_equal(r->status, YKSSH_ATTEST_INVALID);
	assert_non_null(strstr(r->reason, "another key"));
	ykssh_attest_result_free(r);
	free(pem);

	pem = pem_of(forged, f9, &len);
	assert_null(ykssh_attest_verify_piv(t, pem, len, key, &r));
	assert_int_equal(r->status, YKSSH_ATTEST_INVALID);
	assert_non_null(strstr(r->reason, "not signed by the token's F9"));
	ykssh_attest_result_free(r);
	free(pem);

	pem = pem_of(slot, NULL, &len);
	assert_null(ykssh_attest_verify_piv(t, pem, len, key, &r));
	assert_int_equal(r->status, YKSSH_ATTEST_INVALID);
	ykssh_attest_result_free(r);
	free(pem);

	ykssh_attest_trust_free(t);
	ykssh_attest_trust_free(t2);
	ykssh_sshkey_free(key);
	ykssh_sshkey_free(wrong);
	X509_free(root);
	X509_free(other_root);
	X509_free(f9);
	X509_free(slot);
	X509_free(forged);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(f9_key);
	EVP_PKEY_free(slot_key);
	EVP_PKEY_free(stranger);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fido_verified),
		cmocka_unit_test(test_fido_untrusted),
		cmocka_unit_test(test_fido_certificate_rules),
		cmocka_unit_test(test_fido_tampered),
		cmocka_unit_test(test_fido_other_application),
		cmocka_unit_test(test_fido_self_attestation),
		cmocka_unit_test(test_sk_blob),
		cmocka_unit_test(test_trust_files),
		cmocka_unit_test(test_piv_chain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
