/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Asymmetric keys: GENERATE ASYMMETRIC KEY PAIR, Yubico IMPORT KEY,
 * GENERAL AUTHENTICATE with a key slot (sign / RSA raw / ECDH) and
 * Yubico GET METADATA.
 */

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "pivsim-internal.h"

void
key_clear(struct pivsim_key *k)
{
	EVP_PKEY_free(k->pkey);		/* wipes the private parts */
	memset(k, 0, sizeof(*k));
}

static int
alg_supported(const struct pivsim *c, uint8_t alg)
{
	switch (alg) {
	case ALG_RSA1024:
	case ALG_RSA2048:
	case ALG_ECCP256:
	case ALG_ECCP384:
		return (1);
	case ALG_ED25519:
		return (c->profile == PIVSIM_PROFILE_57);
	default:
		return (0);
	}
}

static size_t
alg_size(uint8_t alg)
{
	switch (alg) {
	case ALG_RSA1024:
		return (128);
	case ALG_RSA2048:
		return (256);
	case ALG_ECCP256:
	case ALG_ED25519:
		return (32);
	case ALG_ECCP384:
		return (48);
	default:
		return (0);
	}
}

static const char *
alg_curve(uint8_t alg)
{
	return (alg == ALG_ECCP384 ? "P-384" : "P-256");
}

EVP_PKEY *
key_gen(struct pivsim *c, uint8_t alg)
{
	EVP_PKEY	*pk = NULL;
	int		 i;

	switch (alg) {
	case ALG_RSA1024:
	case ALG_RSA2048:
		i = alg == ALG_RSA2048;
		if (c->rsa_pool[i] != NULL) {
			if (EVP_PKEY_up_ref(c->rsa_pool[i]) == 1)
				pk = c->rsa_pool[i];
			break;
		}
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		    (size_t)(alg_size(alg) * 8));
		break;
	case ALG_ECCP256:
	case ALG_ECCP384:
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", alg_curve(alg));
		break;
	case ALG_ED25519:
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	default:
		break;
	}
	return (pk);
}

/* Public key as PIV TLVs: RSA 81 <n> 82 <e>, EC/Ed25519 86 <point>. */
int
key_public(EVP_PKEY *pk, uint8_t alg, struct ob *b)
{
	BIGNUM		*n = NULL, *e = NULL;
	uint8_t		 buf[512];
	size_t		 len = 0;
	int		 r = -1;

	switch (alg) {
	case ALG_RSA1024:
	case ALG_RSA2048:
		if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
		    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) != 1 ||
		    BN_bn2binpad(n, buf, (int)alg_size(alg)) < 0)
			goto out;
		ob_tlv(b, 0x81, buf, alg_size(alg));
		if (BN_num_bytes(e) > 8 || BN_bn2bin(e, buf) < 0)
			goto out;
		ob_tlv(b, 0x82, buf, (size_t)BN_num_bytes(e));
		break;
	case ALG_ECCP256:
	case ALG_ECCP384:
		if (EVP_PKEY_get_octet_string_param(pk,
		    OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof(buf), &len) != 1 ||
		    len != 2 * alg_size(alg) + 1 || buf[0] != 0x04)
			goto out;
		ob_tlv(b, 0x86, buf, len);
		break;
	case ALG_ED25519:
		len = 32;
		if (EVP_PKEY_get_raw_public_key(pk, buf, &len) != 1 ||
		    len != 32)
			goto out;
		ob_tlv(b, 0x86, buf, len);
		break;
	default:
		goto out;
	}
	r = b->err ? -1 : 0;
out:
	BN_free(n);
	BN_free(e);
	return (r);
}

/* Parse optional AA (PIN) / AB (touch) policy TLVs into resolved values. */
static int
parse_policies(const uint8_t *p, size_t n, uint8_t slot, uint8_t *pin,
    uint8_t *touch)
{
	const uint8_t	*v;
	size_t		 vl;
	uint8_t		 tag;

	*pin = 0;
	*touch = 0;
	while (n > 0) {
		if (tlv_read(&p, &n, &tag, &v, &vl) != 0)
			return (-1);
		if ((tag == 0xaa || tag == 0xab) && (vl != 1 || v[0] > 3))
			return (-1);
		if (tag == 0xaa)
			*pin = v[0];
		else if (tag == 0xab)
			*touch = v[0];
	}
	if (*pin == 0)
		*pin = slot == 0x9c ? PIN_ALWAYS :
		    slot == 0x9e ? PIN_NEVER : PIN_ONCE;
	if (*touch == 0)
		*touch = TOUCH_NEVER;
	return (0);
}

static void
key_store(struct pivsim *c, int idx, uint8_t slot, uint8_t alg,
    uint8_t pin, uint8_t touch, uint8_t origin, EVP_PKEY *pk)
{
	struct pivsim_key	*k = &c->keys[idx];

	key_clear(k);
	k->slot = slot;
	k->alg = alg;
	k->pin_policy = pin;
	k->touch_policy = touch;
	k->origin = origin;
	k->pkey = pk;
	c->dirty = 1;
}

/* GENERATE: data AC L { 80 01 alg [AA 01 pin] [AB 01 touch] }. */
uint16_t
cmd_generate(struct pivsim *c, uint8_t slot, const uint8_t *data, size_t len)
{
	EVP_PKEY	*pk = NULL;
	const uint8_t	*v, *a;
	size_t		 vl, al;
	uint8_t		 tag, alg, pin, touch, inner[600];
	struct ob	 b, ib;
	int		 idx;
	uint16_t	 sw = SW_WRONG_DATA;

	if (!c->mgm_ok)
		return (SW_SECURITY);
	if ((idx = slot_index(slot)) < 0 || slot == SLOT_ATTEST)
		return (SW_WRONG_P1P2);
	if (tlv_read(&data, &len, &tag, &v, &vl) != 0 || tag != 0xac ||
	    len != 0)
		goto out;
	if (tlv_find(v, vl, 0x80, &a, &al) != 0 || al != 1 ||
	    !alg_supported(c, a[0]))
		goto out;
	alg = a[0];
	if (parse_policies(v, vl, slot, &pin, &touch) != 0)
		goto out;
	if ((pk = key_gen(c, alg)) == NULL) {
		sw = SW_UNKNOWN;
		goto out;
	}
	ob_init(&ib, inner, sizeof(inner));
	ob_init(&b, c->out, sizeof(c->out));
	if (key_public(pk, alg, &ib) != 0) {
		sw = SW_UNKNOWN;
		goto out;
	}
	ob_tlv(&b, 0x7f49, inner, ib.len);
	if (b.err) {
		sw = SW_UNKNOWN;
		goto out;
	}
	c->out_len = b.len;
	key_store(c, idx, slot, alg, pin, touch, ORIGIN_GENERATED, pk);
	pk = NULL;			/* transferred */
	sw = SW_OK;
out:
	EVP_PKEY_free(pk);
	return (sw);
}

static EVP_PKEY *
from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	EVP_PKEY_CTX	*ctx = NULL;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY	*pk = NULL;

	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_KEYPAIR, params) != 1)
		pk = NULL;
	OSSL_PARAM_free(params);	/* XXX not cleared; test keys only */
	EVP_PKEY_CTX_free(ctx);
	return (pk);
}

/* RSA from the CRT parts the card receives; e is fixed to 65537. */
static EVP_PKEY *
import_rsa(uint8_t alg, const uint8_t *p, size_t n)
{
	BIGNUM		*bn[5] = { NULL }, *nn = NULL, *e = NULL, *d = NULL;
	BIGNUM		*p1 = NULL, *q1 = NULL, *phi = NULL, *t = NULL;
	BN_CTX		*bc = NULL;
	OSSL_PARAM_BLD	*bld = NULL;
	EVP_PKEY	*pk = NULL;
	const uint8_t	*v;
	size_t		 vl, half = alg_size(alg) / 2;
	int		 i;

	for (i = 0; i < 5; i++) {
		if (tlv_find(p, n, (uint8_t)(i + 1), &v, &vl) != 0 ||
		    vl == 0 || vl > half ||
		    (bn[i] = BN_bin2bn(v, (int)vl, NULL)) == NULL)
			goto out;
		BN_set_flags(bn[i], BN_FLG_CONSTTIME);
	}
	if ((bc = BN_CTX_new()) == NULL || (nn = BN_new()) == NULL ||
	    (e = BN_new()) == NULL || (p1 = BN_dup(bn[0])) == NULL ||
	    (q1 = BN_dup(bn[1])) == NULL || (phi = BN_new()) == NULL ||
	    (t = BN_new()) == NULL ||
	    BN_set_word(e, 65537) != 1 || BN_mul(nn, bn[0], bn[1], bc) != 1 ||
	    BN_num_bits(nn) != (int)(alg_size(alg) * 8) ||
	    BN_sub_word(p1, 1) != 1 || BN_sub_word(q1, 1) != 1 ||
	    BN_is_zero(p1) || BN_is_zero(q1) ||
	    BN_mul(phi, p1, q1, bc) != 1 ||
	    (d = BN_mod_inverse(NULL, e, phi, bc)) == NULL)
		goto out;
	/* The CRT exponents and coefficient must match p and q. */
	if (BN_mod(t, d, p1, bc) != 1 || BN_cmp(t, bn[2]) != 0 ||
	    BN_mod(t, d, q1, bc) != 1 || BN_cmp(t, bn[3]) != 0 ||
	    BN_mod_mul(t, bn[4], bn[1], bn[0], bc) != 1 || !BN_is_one(t))
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, nn) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1,
	    bn[0]) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2,
	    bn[1]) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1,
	    bn[2]) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2,
	    bn[3]) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	    bn[4]) != 1)
		goto out;
	pk = from_params("RSA", bld);
out:
	for (i = 0; i < 5; i++)
		BN_clear_free(bn[i]);
	BN_free(nn);
	BN_free(e);
	BN_clear_free(d);
	BN_clear_free(p1);
	BN_clear_free(q1);
	BN_clear_free(phi);
	BN_clear_free(t);
	BN_CTX_free(bc);
	OSSL_PARAM_BLD_free(bld);
	return (pk);
}

/* EC key from its scalar; the public point is computed here. */
static EVP_PKEY *
import_ec(uint8_t alg, const uint8_t *s, size_t sl)
{
	EC_GROUP	*g = NULL;
	EC_POINT	*pt = NULL;
	BIGNUM		*priv = NULL;
	BN_CTX		*bc = NULL;
	OSSL_PARAM_BLD	*bld = NULL;
	EVP_PKEY	*pk = NULL;
	uint8_t		 pub[97];
	size_t		 pl;

	if (sl != alg_size(alg))
		goto out;
	if ((g = EC_GROUP_new_by_curve_name(alg == ALG_ECCP384 ?
	    NID_secp384r1 : NID_X9_62_prime256v1)) == NULL ||
	    (bc = BN_CTX_new()) == NULL ||
	    (priv = BN_bin2bn(s, (int)sl, NULL)) == NULL ||
	    BN_is_zero(priv) || BN_cmp(priv, EC_GROUP_get0_order(g)) >= 0 ||
	    (pt = EC_POINT_new(g)) == NULL ||
	    EC_POINT_mul(g, pt, priv, NULL, NULL, bc) != 1 ||
	    (pl = EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED,
	    pub, sizeof(pub), bc)) == 0)
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    alg_curve(alg), 0) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    pub, pl) != 1)
		goto out;
	pk = from_params("EC", bld);
out:
	EC_POINT_free(pt);
	EC_GROUP_free(g);
	BN_clear_free(priv);
	BN_CTX_free(bc);
	OSSL_PARAM_BLD_free(bld);
	return (pk);
}

/*
 * IMPORT KEY: P1 alg, P2 slot.  RSA: 01 P 02 Q 03 DP 04 DQ 05 QINV;
 * EC: 06 <scalar>; Ed25519 (5.7): 07 <32>; then optional AA / AB.
 */
uint16_t
cmd_import(struct pivsim *c, uint8_t alg, uint8_t slot, const uint8_t *data,
    size_t len)
{
	EVP_PKEY	*pk = NULL;
	const uint8_t	*v;
	size_t		 vl;
	uint8_t		 pin, touch;
	int		 idx;

	if (!c->mgm_ok)
		return (SW_SECURITY);
	if ((idx = slot_index(slot)) < 0 || slot == SLOT_ATTEST)
		return (SW_WRONG_P1P2);
	if (!alg_supported(c, alg) ||
	    parse_policies(data, len, slot, &pin, &touch) != 0)
		return (SW_WRONG_DATA);
	switch (alg) {
	case ALG_RSA1024:
	case ALG_RSA2048:
		pk = import_rsa(alg, data, len);
		break;
	case ALG_ECCP256:
	case ALG_ECCP384:
		if (tlv_find(data, len, 0x06, &v, &vl) == 0)
			pk = import_ec(alg, v, vl);
		break;
	case ALG_ED25519:
		if (tlv_find(data, len, 0x07, &v, &vl) == 0 && vl == 32)
			pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519,
			    NULL, v, vl);
		break;
	default:
		break;
	}
	if (pk == NULL)
		return (SW_WRONG_DATA);
	key_store(c, idx, slot, alg, pin, touch, ORIGIN_IMPORTED, pk);
	return (SW_OK);
}

static int
do_sign(const struct pivsim_key *k, const uint8_t *in, size_t inlen,
    uint8_t *sig, size_t *siglen)
{
	EVP_PKEY_CTX	*ctx = NULL;
	EVP_MD_CTX	*md = NULL;
	int		 r = -1;

	if (k->alg == ALG_ED25519) {
		if ((md = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey) != 1 ||
		    EVP_DigestSign(md, sig, siglen, in, inlen) != 1)
			goto out;
		r = 0;
		goto out;
	}
	if ((k->alg == ALG_RSA1024 || k->alg == ALG_RSA2048) ?
	    inlen != alg_size(k->alg) : inlen > alg_size(k->alg))
		goto out;
	if ((ctx = EVP_PKEY_CTX_new(k->pkey, NULL)) == NULL ||
	    EVP_PKEY_sign_init(ctx) != 1)
		goto out;
	if ((k->alg == ALG_RSA1024 || k->alg == ALG_RSA2048) &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) != 1)
		goto out;
	if (EVP_PKEY_sign(ctx, sig, siglen, in, inlen) != 1)
		goto out;
	r = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_MD_CTX_free(md);
	return (r);
}

static int
do_ecdh(const struct pivsim_key *k, const uint8_t *pt, size_t ptlen,
    uint8_t *sec, size_t *seclen)
{
	OSSL_PARAM_BLD	*bld = NULL;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*pctx = NULL, *ctx = NULL;
	EVP_PKEY	*peer = NULL;
	int		 r = -1;

	if ((k->alg != ALG_ECCP256 && k->alg != ALG_ECCP384) ||
	    ptlen != 2 * alg_size(k->alg) + 1 || pt[0] != 0x04)
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    alg_curve(k->alg), 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    pt, ptlen) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &peer, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new(k->pkey, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, peer) != 1 ||
	    EVP_PKEY_derive(ctx, sec, seclen) != 1)
		goto out;
	r = 0;
out:
	OSSL_PARAM_BLD_free(bld);
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	return (r);
}

/*
 * GENERAL AUTHENTICATE with a key slot: 7C { 82 00, 81 <input> } signs
 * (ECDSA DER over the given digest, RSA raw m^d mod n, Ed25519 over the
 * message); 7C { 82 00, 85 <point> } is ECDH.  PIN and touch policy are
 * enforced here.
 */
uint16_t
cmd_key_auth(struct pivsim *c, uint8_t alg, uint8_t slot,
    const uint8_t *data, size_t len)
{
	const struct pivsim_key	*k;
	const uint8_t		*v, *in = NULL, *t82 = NULL;
	size_t			 vl, inlen = 0, outlen = 512;
	uint8_t			 tag, res[512];
	struct ob		 b;
	int			 idx, ecdh = 0, r;
	uint16_t		 sw = SW_WRONG_DATA;

	if ((idx = slot_index(slot)) < 0 || slot == SLOT_ATTEST)
		return (SW_WRONG_P1P2);
	k = &c->keys[idx];
	if (k->slot == 0)
		return (SW_REF_NOT_FOUND);
	if (alg != k->alg)
		return (SW_WRONG_DATA);
	if (tlv_read(&data, &len, &tag, &v, &vl) != 0 || tag != 0x7c ||
	    len != 0)
		return (SW_WRONG_DATA);
	while (vl > 0) {
		const uint8_t	*tv;
		size_t		 tl;

		if (tlv_read(&v, &vl, &tag, &tv, &tl) != 0)
			return (SW_WRONG_DATA);
		if (tag == 0x82 && tl == 0)
			t82 = tv;
		else if ((tag == 0x81 || tag == 0x85) && in == NULL) {
			in = tv;
			inlen = tl;
			ecdh = tag == 0x85;
		} else
			return (SW_WRONG_DATA);
	}
	if (t82 == NULL || in == NULL)
		return (SW_WRONG_DATA);

	if ((k->pin_policy == PIN_ONCE && !c->pin_ok) ||
	    (k->pin_policy == PIN_ALWAYS && !c->pin_always_ok))
		return (SW_SECURITY);
	if (k->pin_policy == PIN_ALWAYS)
		c->pin_always_ok = 0;
	if (!need_touch(c, k->touch_policy))
		return (SW_SECURITY);

	r = ecdh ? do_ecdh(k, in, inlen, res, &outlen) :
	    do_sign(k, in, inlen, res, &outlen);
	if (r != 0)
		goto out;
	ob_init(&b, c->out, sizeof(c->out));
	ob_hdr(&b, 0x7c, outlen + 2 + (outlen >= 0x80) + (outlen >= 0x100));
	ob_tlv(&b, 0x82, res, outlen);
	if (b.err) {
		sw = SW_UNKNOWN;
		goto out;
	}
	c->out_len = b.len;
	sw = SW_OK;
out:
	OPENSSL_cleanse(res, sizeof(res));
	return (sw);
}

/* GET METADATA (P2 = key slot, 9B, 80 PIN, 81 PUK). */
uint16_t
cmd_metadata(struct pivsim *c, uint8_t p2)
{
	const struct pivsim_key	*k;
	uint8_t			 inner[600], v[2];
	struct ob		 b, ib;
	int			 idx;

	ob_init(&b, c->out, sizeof(c->out));
	switch (p2) {
	case 0x9b:
		ob_tlv(&b, 0x01, &c->mgm_alg, 1);
		v[0] = 0x00;
		v[1] = c->mgm_touch ? TOUCH_ALWAYS : TOUCH_NEVER;
		ob_tlv(&b, 0x02, v, 2);
		v[0] = (uint8_t)mgmt_key_is_default(c);
		ob_tlv(&b, 0x05, v, 1);
		break;
	case 0x80:
	case 0x81:
		v[0] = (uint8_t)pin_is_default(c, p2 == 0x81);
		ob_tlv(&b, 0x05, v, 1);
		v[0] = p2 == 0x80 ? c->pin_max : c->puk_max;
		v[1] = p2 == 0x80 ? c->pin_left : c->puk_left;
		ob_tlv(&b, 0x06, v, 2);
		break;
	default:
		if ((idx = slot_index(p2)) < 0)
			return (SW_WRONG_P1P2);
		k = &c->keys[idx];
		if (k->slot == 0)
			return (SW_REF_NOT_FOUND);
		ob_tlv(&b, 0x01, &k->alg, 1);
		v[0] = k->pin_policy;
		v[1] = k->touch_policy;
		ob_tlv(&b, 0x02, v, 2);
		ob_tlv(&b, 0x03, &k->origin, 1);
		ob_init(&ib, inner, sizeof(inner));
		if (key_public(k->pkey, k->alg, &ib) != 0)
			return (SW_UNKNOWN);
		ob_tlv(&b, 0x04, inner, ib.len);
		break;
	}
	if (b.err)
		return (SW_UNKNOWN);
	c->out_len = b.len;
	return (SW_OK);
}

/*
 * MOVE KEY (P1 = destination slot, P2 = source slot) and DELETE KEY (P1 =
 * FF): needs the management key; the attestation slot F9 is neither
 * source nor destination; an empty source is 6A88, an occupied
 * destination is replaced (as on the card).
 */
uint16_t
cmd_move_key(struct pivsim *c, uint8_t to, uint8_t from)
{
	int	fi, ti;

	if (!c->mgm_ok)
		return (SW_SECURITY);
	if ((fi = slot_index(from)) < 0 || from == SLOT_ATTEST ||
	    (to != 0xff && ((ti = slot_index(to)) < 0 || to == SLOT_ATTEST ||
	    to == from)))
		return (SW_INCORRECT_P1P2);
	if (c->keys[fi].slot == 0)
		return (SW_REF_NOT_FOUND);
	if (to == 0xff) {
		key_clear(&c->keys[fi]);
		c->dirty = 1;
		return (SW_OK);
	}
	key_clear(&c->keys[ti]);
	c->keys[ti] = c->keys[fi];
	c->keys[ti].slot = to;
	memset(&c->keys[fi], 0, sizeof(c->keys[fi]));	/* moved, not freed */
	c->dirty = 1;
	return (SW_OK);
}
