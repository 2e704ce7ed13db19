/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Attestation: a test root CA (stand-in for Yubico's PIV root) made when
 * a card is created, the F9 device key and certificate it issues, and the
 * Yubico ATTEST instruction, whose certificates carry Yubico's extensions
 * 1.3.6.1.4.1.41482.3.{3,7,8,9}.
 */

#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pivsim-internal.h"

#define NOT_BEFORE	"20160314000000Z"
#define NOT_AFTER	"20520417000000Z"

static int
set_random_serial(X509 *x)
{
	uint8_t		 s[16];
	BIGNUM		*bn = NULL;
	int		 r = -1;

	if (RAND_bytes(s, sizeof(s)) != 1)
		goto out;
	s[0] &= 0x7f;
	s[0] |= 0x40;
	if ((bn = BN_bin2bn(s, sizeof(s), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto out;
	r = 0;
out:
	BN_free(bn);
	return (r);
}

static int
add_ext_nid(X509 *x, int nid, const char *value)
{
	X509_EXTENSION	*e;
	int		 r;

	if ((e = X509V3_EXT_conf_nid(NULL, NULL, nid, value)) == NULL)
		return (-1);
	r = X509_add_ext(x, e, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(e);
	return (r);
}

/* Extension whose extnValue holds the given bytes as they are. */
static int
add_ext_raw(X509 *x, const char *oid, const uint8_t *v, size_t n)
{
	ASN1_OBJECT		*obj = NULL;
	ASN1_OCTET_STRING	*os = NULL;
	X509_EXTENSION		*e = NULL;
	int			 r = -1;

	if ((obj = OBJ_txt2obj(oid, 1)) == NULL ||
	    (os = ASN1_OCTET_STRING_new()) == NULL ||
	    ASN1_OCTET_STRING_set(os, v, (int)n) != 1 ||
	    (e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) == NULL ||
	    X509_add_ext(x, e, -1) != 1)
		goto out;
	r = 0;
out:
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return (r);
}

static X509_NAME *
cn_name(const char *cn)
{
	X509_NAME	*n;

	if ((n = X509_NAME_new()) == NULL)
		return (NULL);
	if (X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) != 1) {
		X509_NAME_free(n);
		return (NULL);
	}
	return (n);
}

/* CA certificate for pub, issued (signed) by signer under issuer. */
static X509 *
make_ca_cert(const char *cn, const X509_NAME *issuer, EVP_PKEY *pub,
    EVP_PKEY *signer)
{
	X509		*x = NULL;
	X509_NAME	*subj = NULL;

	if ((x = X509_new()) == NULL || (subj = cn_name(cn)) == NULL ||
	    X509_set_version(x, 2) != 1 || set_random_serial(x) != 0 ||
	    X509_set_subject_name(x, subj) != 1 ||
	    X509_set_issuer_name(x, issuer != NULL ? issuer : subj) != 1 ||
	    ASN1_TIME_set_string_X509(X509_getm_notBefore(x),
	    NOT_BEFORE) != 1 ||
	    ASN1_TIME_set_string_X509(X509_getm_notAfter(x), NOT_AFTER) != 1 ||
	    X509_set_pubkey(x, pub) != 1 ||
	    add_ext_nid(x, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
	    add_ext_nid(x, NID_key_usage, "critical,keyCertSign,cRLSign") !=
	    0 || X509_sign(x, signer, EVP_sha256()) <= 0) {
		X509_free(x);
		x = NULL;
	}
	X509_NAME_free(subj);
	return (x);
}

/* Object value as ykpiv_util_write_cert stores it: 70 cert 71 00 FE 00. */
static int
store_cert_object(struct pivsim *c, uint32_t id, X509 *x)
{
	uint8_t		*der = NULL, buf[OBJ_MAX];
	struct ob	 b;
	int		 dl, r = -1;
	static const uint8_t tail[] = { 0x71, 0x01, 0x00, 0xfe, 0x00 };

	if ((dl = i2d_X509(x, &der)) <= 0)
		goto out;
	ob_init(&b, buf, sizeof(buf));
	ob_tlv(&b, 0x70, der, (size_t)dl);
	ob_put(&b, tail, sizeof(tail));
	if (b.err || obj_set(c, id, buf, b.len) != 0)
		goto out;
	r = 0;
out:
	OPENSSL_free(der);
	return (r);
}

int
attest_factory(struct pivsim *c)
{
	EVP_PKEY		*cakey = NULL, *f9key = NULL;
	X509			*ca = NULL, *f9 = NULL;
	struct pivsim_key	*k = &c->keys[slot_index(SLOT_ATTEST)];
	uint8_t			*der = NULL;
	int			 dl, r = -1;

	if ((cakey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    (f9key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    (ca = make_ca_cert("Yubico PIV Root CA (pivsim test)", NULL,
	    cakey, cakey)) == NULL ||
	    (f9 = make_ca_cert("Yubico PIV Attestation (pivsim test)",
	    X509_get_subject_name(ca), f9key, cakey)) == NULL ||
	    store_cert_object(c, OBJ_ID_ATTEST_CERT, f9) != 0 ||
	    (dl = i2d_X509(ca, &der)) <= 0)
		goto out;
	key_clear(k);
	k->slot = SLOT_ATTEST;
	k->alg = ALG_ECCP256;
	k->pin_policy = PIN_NEVER;
	k->touch_policy = TOUCH_NEVER;
	k->origin = ORIGIN_IMPORTED;
	k->pkey = f9key;
	f9key = NULL;			/* transferred */
	c->ca_der = der;
	c->ca_len = (size_t)dl;
	der = NULL;			/* transferred */
	r = 0;
out:
	EVP_PKEY_free(cakey);		/* the root key is not kept */
	EVP_PKEY_free(f9key);
	X509_free(ca);
	X509_free(f9);
	OPENSSL_free(der);
	return (r);
}

static X509 *
f9_cert(struct pivsim *c)
{
	const struct pivsim_obj	*o;
	const uint8_t		*v;
	size_t			 vl;

	if ((o = obj_find(c, OBJ_ID_ATTEST_CERT)) == NULL ||
	    tlv_find(o->data, o->len, 0x70, &v, &vl) != 0)
		return (NULL);
	return (d2i_X509(NULL, &v, (long)vl));
}

/* ATTEST: P1 = slot; the reply is the DER certificate. */
uint16_t
cmd_attest(struct pivsim *c, uint8_t slot)
{
	const struct pivsim_key	*k, *f9k;
	X509			*f9 = NULL, *x = NULL;
	X509_NAME		*subj = NULL;
	ASN1_INTEGER		*ser = NULL;
	uint8_t			*p, sbuf[16], v[3];
	char			 cn[64];
	int			 idx, sl, dl;
	uint16_t		 sw = SW_UNKNOWN;

	if ((idx = slot_index(slot)) < 0)
		return (SW_WRONG_P1P2);
	k = &c->keys[idx];
	f9k = &c->keys[slot_index(SLOT_ATTEST)];
	if (slot == SLOT_ATTEST || k->slot == 0 ||
	    k->origin != ORIGIN_GENERATED || f9k->slot == 0)
		return (SW_REF_NOT_FOUND);
	if ((f9 = f9_cert(c)) == NULL)
		return (SW_REF_NOT_FOUND);
	(void)snprintf(cn, sizeof(cn), "YubiKey PIV Attestation %02x", slot);
	if ((x = X509_new()) == NULL || (subj = cn_name(cn)) == NULL ||
	    X509_set_version(x, 2) != 1 || set_random_serial(x) != 0 ||
	    X509_set_subject_name(x, subj) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(f9)) != 1 ||
	    X509_set1_notBefore(x, X509_get0_notBefore(f9)) != 1 ||
	    X509_set1_notAfter(x, X509_get0_notAfter(f9)) != 1 ||
	    X509_set_pubkey(x, k->pkey) != 1)
		goto out;
	if ((ser = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set_uint64(ser, c->serial) != 1 ||
	    (sl = i2d_ASN1_INTEGER(ser, NULL)) <= 0 ||
	    (size_t)sl > sizeof(sbuf))
		goto out;
	p = sbuf;
	(void)i2d_ASN1_INTEGER(ser, &p);
	if (add_ext_raw(x, "1.3.6.1.4.1.41482.3.3", c->version, 3) != 0 ||
	    add_ext_raw(x, "1.3.6.1.4.1.41482.3.7", sbuf, (size_t)sl) != 0)
		goto out;
	v[0] = k->pin_policy;
	v[1] = k->touch_policy;
	if (add_ext_raw(x, "1.3.6.1.4.1.41482.3.8", v, 2) != 0 ||
	    add_ext_raw(x, "1.3.6.1.4.1.41482.3.9", &c->form_factor, 1) != 0 ||
	    X509_sign(x, f9k->pkey, EVP_sha256()) <= 0)
		goto out;
	if ((dl = i2d_X509(x, NULL)) <= 0 || (size_t)dl > sizeof(c->out))
		goto out;
	p = c->out;
	(void)i2d_X509(x, &p);
	c->out_len = (size_t)dl;
	sw = SW_OK;
out:
	ASN1_INTEGER_free(ser);
	X509_NAME_free(subj);
	X509_free(x);
	X509_free(f9);
	return (sw);
}
