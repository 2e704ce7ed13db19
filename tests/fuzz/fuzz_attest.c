/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz the attestation parsers.  The first byte picks the input:
 *	0  an ssh-sk-attest-v01 blob (parsed, re-encoded, verified)
 *	1  a PIV attestation PEM (slot certificate, F9 certificate)
 *	2  a trust directory file (PEM certificates)
 *	3  a DER attestation certificate (WebAuthn 8.2.1 rules)
 * A parsed blob must encode to one that parses to the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "attest-internal.h"
#include "ykssh/attest.h"
#include "ykssh/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

static const uint8_t pk[32] = { 1, 2, 3 };

static int
same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static void
sk_blob(const uint8_t *data, size_t size)
{
	struct ykssh_attest_fido_in in, again;
	struct ykssh_attest_trust *t;
	struct ykssh_attest_result *r = NULL;
	struct ykssh_sshkey *key;
	struct ykssh_buf *b;
	struct ykssh_err *err;

	if ((err = ykssh_attest_parse_sk(data, size, &in)) != NULL) {
		CHECK(in.authdata == NULL);
		ykssh_err_free(err);
		return;
	}
	/* Encoded again (flags 0), it parses to the same fields. */
	CHECK((b = ykssh_buf_new()) != NULL);
	CHECK(ykssh_attest_encode_sk(&in, 1, b) == NULL);
	CHECK(ykssh_attest_parse_sk(ykssh_buf_ptr(b), ykssh_buf_len(b),
	    &again) == NULL);
	CHECK(same(again.x5c, again.x5c_len, in.x5c, in.x5c_len));
	CHECK(same(again.sig, again.sig_len, in.sig, in.sig_len));
	CHECK(same(again.authdata, again.authdata_len, in.authdata,
	    in.authdata_len));
	CHECK(same(again.challenge, again.challenge_len, in.challenge,
	    in.challenge_len));
	ykssh_buf_free(b);
	CHECK((key = ykssh_sshkey_new()) != NULL);
	CHECK(ykssh_sshkey_set_sk(key, YKSSH_KEY_ED25519_SK, pk, sizeof(pk),
	    "ssh:", 1, pk, sizeof(pk)) == NULL);
	CHECK((t = ykssh_attest_trust_new()) != NULL);
	CHECK(ykssh_attest_verify_fido(t, &in, key, &r) == NULL);
	CHECK(r->status != YKSSH_ATTEST_VERIFIED);
	ykssh_attest_result_free(r);
	ykssh_attest_trust_free(t);
	ykssh_sshkey_free(key);
}

static void
piv_pem(const uint8_t *data, size_t size)
{
	struct ykssh_attest_trust *t;
	struct ykssh_attest_result *r = NULL;
	struct ykssh_sshkey *key;

	CHECK((key = ykssh_sshkey_new()) != NULL);
	CHECK(ykssh_sshkey_set_public(key, YKSSH_KEY_ED25519, pk,
	    sizeof(pk)) == NULL);
	CHECK((t = ykssh_attest_trust_new()) != NULL);
	CHECK(ykssh_attest_verify_piv(t, (const char *)data, size, key,
	    &r) == NULL);
	CHECK(r->status != YKSSH_ATTEST_VERIFIED);
	ykssh_attest_result_free(r);
	ykssh_attest_trust_free(t);
	ykssh_sshkey_free(key);
}

static void
trust_pem(const uint8_t *data, size_t size)
{
	struct ykssh_attest_trust *t;

	CHECK((t = ykssh_attest_trust_new()) != NULL);
	ykssh_err_free(ykssh_attest_trust_add_pem(t, (const char *)data,
	    size, "fuzz"));
	ykssh_attest_trust_free(t);
}

static void
der_cert(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	X509 *x;

	if ((x = d2i_X509(NULL, &p, (long)size)) == NULL)
		return;
	(void)ykssh_attest_check_packed_cert(x, pk, 16);
	X509_free(x);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 64 * 1024)
		return 0;
	switch (data[0]) {
	case 0:
		sk_blob(data + 1, size - 1);
		break;
	case 1:
		piv_pem(data + 1, size - 1);
		break;
	case 2:
		trust_pem(data + 1, size - 1);
		break;
	case 3:
		der_cert(data + 1, size - 1);
		break;
	}
	return 0;
}
