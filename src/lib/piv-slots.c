/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PIV key slots after enrollment: the key a slot holds (GET METADATA and
 * the certificate object, compared), whether its certificate is the
 * token's attestation (what enroll --piv stores), and deleting a slot's
 * key and certificate (revoke --on-token).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "piv-internal.h"

#define PIV_INS_MOVE_KEY	0xf6
#define ATTEST_CN		"YubiKey PIV Attestation"

static const uint8_t key_slots[] = {
	0x9a, 0x9c, 0x9d, 0x9e,
	0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b,
	0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95,
};

uint8_t
ykssh_piv_key_slot(size_t i)
{
	return i < sizeof(key_slots) ? key_slots[i] : 0;
}

void
ykssh_piv_slot_key_clear(struct ykssh_piv_slot_key *sk)
{
	if (sk == NULL)
		return;
	ykssh_sshkey_free(sk->key);
	free(sk->cert);
	memset(sk, 0, sizeof(*sk));
}

/* The public key of a certificate as an SSH key (EC P-256/384, RSA). */
static struct ykssh_err *
cert_key(X509 *x, uint8_t *algp, struct ykssh_sshkey **keyp)
{
	EVP_PKEY *pk;
	BIGNUM *n = NULL, *e = NULL;
	struct ykssh_sshkey *key = NULL;
	struct ykssh_err *err = NULL;
	uint8_t pt[133], nb[512], eb[16];
	size_t ptlen = 0;
	int bits, nl, el;

	*keyp = NULL;
	*algp = 0;
	if ((pk = X509_get0_pubkey(x)) == NULL)
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT, "the certificate "
		    "has no usable public key");
	if ((key = ykssh_sshkey_new()) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	bits = EVP_PKEY_get_bits(pk);
	if (EVP_PKEY_is_a(pk, "EC") && (bits == 256 || bits == 384)) {
		if (EVP_PKEY_get_octet_string_param(pk,
		    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt),
		    &ptlen) != 1) {
			err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT, "the "
			    "certificate's EC point does not parse");
			goto out;
		}
		*algp = bits == 256 ? YKSSH_PIV_ALG_ECCP256 :
		    YKSSH_PIV_ALG_ECCP384;
		err = ykssh_sshkey_set_public(key, bits == 256 ?
		    YKSSH_KEY_ECDSA_P256 : YKSSH_KEY_ECDSA_P384, pt, ptlen);
	} else if (EVP_PKEY_is_a(pk, "RSA") && bits == 2048) {
		if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
		    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) != 1 ||
		    (nl = BN_bn2bin(n, nb)) <= 0 || BN_num_bytes(e) >
		    (int)sizeof(eb) || (el = BN_bn2bin(e, eb)) <= 0) {
			err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT, "the "
			    "certificate's RSA key does not parse");
			goto out;
		}
		*algp = YKSSH_PIV_ALG_RSA2048;
		err = ykssh_sshkey_set_rsa(key, nb, (size_t)nl, eb,
		    (size_t)el);
	} else
		err = YKSSH_ERR(YKSSH_ERR_UNSUPPORTED, "the certificate holds "
		    "a key ssh cannot use from PIV (%d bits)", bits);
	if (err == NULL) {
		*keyp = key;
		key = NULL;	/* transferred */
	}
out:
	BN_free(n);
	BN_free(e);
	ykssh_sshkey_free(key);
	return err;
}

struct ykssh_err *
ykssh_piv_read_f9(struct ykssh_piv *piv, uint8_t **derp, size_t *lenp)
{
	uint8_t *buf;
	const uint8_t *der;
	size_t len = PIV_REPLY_MAX, dlen;
	struct ykssh_err *err;
	int sw;

	*derp = NULL;
	*lenp = 0;
	if ((buf = malloc(PIV_REPLY_MAX)) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	err = ykssh_piv_get_object(piv, PIV_OBJ_ATTEST, buf, &len, &sw);
	if (err == NULL && sw == PIV_SW_OK &&
	    ykssh_piv_certobj_parse(buf, len, &der, &dlen) == 0) {
		if ((*derp = malloc(dlen)) == NULL)
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		else {
			memcpy(*derp, der, dlen);
			*lenp = dlen;
		}
	}
	free(buf);
	return err;
}

/* Is x the attestation of slot, signed by the token's F9 key? */
static int
is_attestation(X509 *x, const uint8_t *f9, size_t f9len, uint8_t slot)
{
	const unsigned char *p = f9;
	X509 *fx;
	EVP_PKEY *fk;
	char cn[64], want[64];
	int ok = 0;

	if (f9 == NULL || X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, cn, sizeof(cn)) < 0)
		return 0;
	snprintf(want, sizeof(want), "%s %02x", ATTEST_CN, slot);
	if (strcasecmp(cn, want) != 0)
		return 0;
	if ((fx = d2i_X509(NULL, &p, (long)f9len)) == NULL)
		return 0;
	if ((fk = X509_get0_pubkey(fx)) != NULL)
		ok = X509_verify(x, fk) == 1;
	X509_free(fx);
	return ok;
}

struct ykssh_err *
ykssh_piv_cert_parse(const uint8_t *der, size_t len, uint8_t slot,
    const uint8_t *f9, size_t f9len, uint8_t *algp,
    struct ykssh_sshkey **keyp, int *attestedp, char *subject,
    size_t subjectlen)
{
	const unsigned char *p = der;
	struct ykssh_err *err;
	X509 *x;

	*keyp = NULL;
	*algp = 0;
	*attestedp = 0;
	if (subjectlen > 0)
		subject[0] = '\0';
	if (len > LONG_MAX || (x = d2i_X509(NULL, &p, (long)len)) == NULL)
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT, "the slot "
		    "certificate does not parse");
	if (subjectlen > 0 && subjectlen <= INT_MAX)
		X509_NAME_oneline(X509_get_subject_name(x), subject,
		    (int)subjectlen);
	*attestedp = is_attestation(x, f9, f9len, slot);
	err = cert_key(x, algp, keyp);
	X509_free(x);
	return err;
}

static struct ykssh_err *
read_slot(struct ykssh_piv *piv, uint8_t slot, const uint8_t *f9,
    size_t f9len, struct ykssh_piv_slot_key *sk, uint8_t *buf)
{
	struct piv_metadata md;
	struct ykssh_sshkey *ckey = NULL;
	struct ykssh_err *err;
	const uint8_t *der;
	size_t len = PIV_REPLY_MAX, dlen;
	uint32_t obj = ykssh_piv_cert_object(slot);
	uint8_t calg = 0;
	int found = 0, sw;

	if (obj == 0)
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT, "slot %02x", slot);
	sk->slot = slot;
	sk->cert_matches = -1;
	if ((err = ykssh_piv_get_metadata(piv, slot, buf, &len, &md,
	    &found)) != NULL)
		return err;
	if (found && (md.has & PIV_MD_HAS_PUBKEY)) {
		sk->algorithm = md.algorithm;
		if ((err = ykssh_piv_pubkey_parse(md.algorithm, md.pubkey,
		    md.pubkey_len, 0, &sk->key)) != NULL)
			return YKSSH_ERR_CAUSE(YKSSH_ERR_DEVICE, err, "the "
			    "public key of slot %02x (GET METADATA)", slot);
		sk->from_metadata = 1;
	} else if (ykssh_piv_fw(piv) >= 50300 && !found)
		return NULL;	/* the card says: no key */
	len = PIV_REPLY_MAX;
	if ((err = ykssh_piv_get_object(piv, obj, buf, &len, &sw)) != NULL)
		return err;
	if (sw == 0x6a82 || (sw == PIV_SW_OK && len <= 2))
		return NULL;
	if (sw != PIV_SW_OK)
		return ykssh_piv_sw_error(sw, "reading the slot certificate");
	if (ykssh_piv_certobj_parse(buf, len, &der, &dlen) != 0)
		return NULL;	/* not a certificate: nothing to tell */
	if ((err = ykssh_piv_cert_parse(der, dlen, slot, f9, f9len, &calg,
	    &ckey, &sk->attested, sk->subject, sizeof(sk->subject))) !=
	    NULL) {
		if (ykssh_err_code(err) == YKSSH_ERR_NOMEM)
			return err;
		/* A certificate ssh cannot use: only the metadata counts. */
		ykssh_err_free(err);
		sk->attested = 0;
		if (sk->key != NULL)
			sk->cert_matches = 0;
		return NULL;
	}
	if ((sk->cert = malloc(dlen)) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(sk->cert, der, dlen);
	sk->cert_len = dlen;
	if (sk->key != NULL)
		sk->cert_matches = ykssh_sshkey_equal_public(sk->key, ckey);
	else {
		sk->key = ckey;
		sk->algorithm = calg;
		ckey = NULL;	/* transferred */
	}
out:
	ykssh_sshkey_free(ckey);
	return err;
}

struct ykssh_err *
ykssh_piv_read_slot_key(struct ykssh_piv *piv, uint8_t slot,
    const uint8_t *f9, size_t f9len, struct ykssh_piv_slot_key *sk)
{
	struct ykssh_err *err;
	uint8_t *buf = NULL;

	memset(sk, 0, sizeof(*sk));
	if ((buf = malloc(PIV_REPLY_MAX)) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	if ((err = read_slot(piv, slot, f9, f9len, sk, buf)) != NULL)
		ykssh_piv_slot_key_clear(sk);
	free(buf);
	return err;
}

struct ykssh_err *
ykssh_piv_delete_key(struct ykssh_piv *piv, uint8_t slot, const char **howp)
{
	static const uint8_t none[1];
	struct ykssh_sshkey *junk = NULL;
	struct ykssh_err *err;
	uint32_t obj = ykssh_piv_cert_object(slot);
	int sw = 0;

	*howp = NULL;
	if (obj == 0)
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT, "slot %02x", slot);
	if (ykssh_piv_fw(piv) >= 50700) {
		if ((err = ykssh_piv_apdu(piv, PIV_INS_MOVE_KEY, 0xff, slot,
		    NULL, 0, NULL, NULL, &sw)) != NULL)
			return err;
		if (sw == 0x6982)
			return YKSSH_ERR(YKSSH_ERR_AUTH_MGMT_KEY, "the token "
			    "wants management-key authentication to delete "
			    "a key (SW 6982)");
		if (sw != PIV_SW_OK && sw != 0x6d00 && sw != 0x6a88)
			return ykssh_piv_sw_error(sw, "deleting the key");
		if (sw != 0x6d00)
			*howp = "deleted";
	}
	if (*howp == NULL) {
		/* A throwaway key over it: the old one is gone for good. */
		if ((err = ykssh_piv_generate(piv, slot,
		    YKSSH_PIV_ALG_ECCP256, 0, 0, &junk)) != NULL)
			return YKSSH_ERR_WRAP(err, "overwriting the key in "
			    "slot %02x", slot);
		ykssh_sshkey_free(junk);
		*howp = "overwritten";
	}
	/* An empty object: PKCS#11 modules show no certificate. */
	if ((err = ykssh_piv_put_object(piv, obj, none, 0)) != NULL)
		return YKSSH_ERR_WRAP(err, "the key in slot %02x is %s but "
		    "its certificate is left", slot, *howp);
	return NULL;
}
