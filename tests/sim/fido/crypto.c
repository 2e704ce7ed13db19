/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Cryptography of the token, all through OpenSSL 3: credential keys
 * (ES256, Ed25519), credential-id wrapping (AES-256-GCM), the PIN/UV auth
 * protocols 1 and 2 (ECDH P-256, AES-256-CBC, HMAC-SHA-256, HKDF) and the
 * attestation key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "fidosim-internal.h"

int
sha256(const void *p, size_t len, uint8_t *out)
{
	unsigned int n = 0;

	if (EVP_Digest(p, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return -1;
	return 0;
}

int
hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg,
    size_t msg_len, uint8_t *out)
{
	size_t n = 0;

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, msg,
	    msg_len, out, 32, &n) == NULL || n != 32)
		return -1;
	return 0;
}

/* P-256 private scalar + public point as an EVP_PKEY. */
static EVP_PKEY *
ec_from_priv(const uint8_t *priv)
{
	EC_GROUP *grp = NULL;
	EC_POINT *pt = NULL;
	BIGNUM *d = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	uint8_t pub[65];

	if ((grp = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) == NULL ||
	    (pt = EC_POINT_new(grp)) == NULL ||
	    (d = BN_bin2bn(priv, 32, NULL)) == NULL)
		goto out;
	if (EC_POINT_mul(grp, pt, d, NULL, NULL, NULL) != 1 ||
	    EC_POINT_point2oct(grp, pt, POINT_CONVERSION_UNCOMPRESSED, pub,
	    sizeof(pub), NULL) != sizeof(pub))
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "P-256", 0) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
	    sizeof(pub)) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1) {
		pkey = NULL;
		goto out;
	}
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(d);
	EC_POINT_free(pt);
	EC_GROUP_free(grp);
	return pkey;
}

static EVP_PKEY *
ec_from_pub(const uint8_t *pub65)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "P-256", 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    pub65, 65) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		pkey = NULL;
		goto out;
	}
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

static EVP_PKEY *
cred_pkey(int alg, const uint8_t *priv)
{
	if (alg == COSE_EDDSA)
		return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
		    priv, 32);
	if (alg == COSE_ES256)
		return ec_from_priv(priv);
	return NULL;
}

/* P-256 order n, big-endian. */
static const uint8_t p256_order[32] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
	0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};

/*
 * New credential private key from the token's random source (so a fuzzer's
 * fake randomness makes key generation deterministic).
 */
int
cred_keygen(struct fidosim *tok, int alg, uint8_t *priv)
{
	static const uint8_t zero[32];
	int tries;

	for (tries = 0; tries < 64; tries++) {
		if (rand_bytes(tok, priv, 32) < 0)
			return -1;
		if (alg == COSE_EDDSA)
			return 0;
		if (memcmp(priv, zero, 32) != 0 &&
		    memcmp(priv, p256_order, 32) < 0)
			return 0;
	}
	return -1;
}

static int
ec_pub_octets(EVP_PKEY *pkey, uint8_t *pub65)
{
	size_t n = 0;

	if (EVP_PKEY_get_octet_string_param(pkey,
	    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub65, 65, &n) != 1 ||
	    n != 65 || pub65[0] != 0x04)
		return -1;
	return 0;
}

static int
cose_ec2(int alg, const uint8_t *pub65, cbor_item_t **out)
{
	cbor_item_t *m;

	*out = NULL;
	if ((m = cbor_new_definite_map(5)) == NULL)
		return -1;
	if (cb_put_int(m, 1, cb_int(2)) < 0 ||
	    cb_put_int(m, 3, cb_int(alg)) < 0 ||
	    cb_put(m, cb_int(-1), cb_int(1)) < 0 ||
	    cb_put(m, cb_int(-2), cb_bytes(pub65 + 1, 32)) < 0 ||
	    cb_put(m, cb_int(-3), cb_bytes(pub65 + 33, 32)) < 0) {
		cbor_decref(&m);
		return -1;
	}
	*out = m;
	return 0;
}

int
cred_cose_pub(int alg, const uint8_t *priv, cbor_item_t **out)
{
	EVP_PKEY *pkey = NULL;
	cbor_item_t *m = NULL;
	uint8_t pub[65];
	size_t n = 32;
	int r = -1;

	*out = NULL;
	if ((pkey = cred_pkey(alg, priv)) == NULL)
		goto out;
	if (alg == COSE_EDDSA) {
		if (EVP_PKEY_get_raw_public_key(pkey, pub, &n) != 1 || n != 32)
			goto out;
		if ((m = cbor_new_definite_map(4)) == NULL)
			goto out;
		if (cb_put_int(m, 1, cb_int(1)) < 0 ||
		    cb_put_int(m, 3, cb_int(COSE_EDDSA)) < 0 ||
		    cb_put(m, cb_int(-1), cb_int(6)) < 0 ||
		    cb_put(m, cb_int(-2), cb_bytes(pub, 32)) < 0)
			goto out;
	} else {
		if (ec_pub_octets(pkey, pub) < 0 ||
		    cose_ec2(COSE_ES256, pub, &m) < 0)
			goto out;
	}
	*out = m;
	m = NULL;	/* transferred */
	r = 0;
out:
	if (m != NULL)
		cbor_decref(&m);
	EVP_PKEY_free(pkey);
	return r;
}

static int
pkey_sign(EVP_PKEY *pkey, const EVP_MD *md, const uint8_t *msg,
    size_t msg_len, uint8_t *sig, size_t *sig_len)
{
	EVP_MD_CTX *ctx = NULL;
	int r = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, md, NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, sig_len, msg, msg_len) != 1)
		goto out;
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

/* sig must hold 72 bytes; ES256 signatures are DER, Ed25519 64 raw. */
int
cred_sign(int alg, const uint8_t *priv, const uint8_t *msg, size_t msg_len,
    uint8_t *sig, size_t *sig_len)
{
	EVP_PKEY *pkey;
	int r;

	*sig_len = 72;
	if ((pkey = cred_pkey(alg, priv)) == NULL)
		return -1;
	r = pkey_sign(pkey, alg == COSE_EDDSA ? NULL : EVP_sha256(), msg,
	    msg_len, sig, sig_len);
	EVP_PKEY_free(pkey);
	return r;
}

int
att_sign(EVP_PKEY *key, const uint8_t *msg, size_t msg_len, uint8_t *sig,
    size_t *sig_len)
{
	*sig_len = 72;
	return pkey_sign(key, EVP_sha256(), msg, msg_len, sig, sig_len);
}

static int
wrap_key(struct fidosim *tok, uint8_t *key)
{
	static const char label[] = "fidosim credential wrapping";

	return hmac_sha256(tok->secret, sizeof(tok->secret),
	    (const uint8_t *)label, sizeof(label) - 1, key);
}

/*
 * Non-resident credential id: 0x01 || nonce(12) || AES-256-GCM(alg ||
 * credProtect || priv(32)) || tag(16), with the rpIdHash as AAD so an id
 * only works for the RP it was made for.
 */
int
cred_wrap(struct fidosim *tok, const uint8_t *rp_id_hash, int alg,
    uint8_t cred_protect, const uint8_t *priv, uint8_t *id)
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t key[32], pt[34];
	int n, r = -1;

	if (wrap_key(tok, key) < 0)
		goto out;
	pt[0] = alg == COSE_EDDSA ? 1 : 2;
	pt[1] = cred_protect;
	memcpy(pt + 2, priv, 32);
	id[0] = 0x01;
	if (rand_bytes(tok, id + 1, 12) < 0)
		goto out;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key, id + 1) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, rp_id_hash, 32) != 1 ||
	    EVP_EncryptUpdate(ctx, id + 13, &n, pt, sizeof(pt)) != 1 ||
	    n != (int)sizeof(pt) ||
	    EVP_EncryptFinal_ex(ctx, id + 13 + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, id + 47) != 1)
		goto out;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(pt, sizeof(pt));
	return r;
}

int
cred_unwrap(struct fidosim *tok, const uint8_t *rp_id_hash, const uint8_t *id,
    size_t id_len, struct cred_ref *out)
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t key[32], pt[34], tag[16];
	int n, r = -1;

	if (id_len != WRAPPED_ID_LEN || id[0] != 0x01)
		return -1;
	memcpy(tag, id + 47, 16);
	if (wrap_key(tok, key) < 0)
		goto out;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, id + 1) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, rp_id_hash, 32) != 1 ||
	    EVP_DecryptUpdate(ctx, pt, &n, id + 13, 34) != 1 || n != 34 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1 ||
	    EVP_DecryptFinal_ex(ctx, pt + n, &n) != 1)
		goto out;
	if ((pt[0] != 1 && pt[0] != 2) || pt[1] > 3)
		goto out;
	memset(out, 0, sizeof(*out));
	out->rk_index = -1;
	memcpy(out->id, id, id_len);
	out->id_len = id_len;
	out->alg = pt[0] == 1 ? COSE_EDDSA : COSE_ES256;
	out->cred_protect = pt[1];
	memcpy(out->priv, pt + 2, 32);
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(pt, sizeof(pt));
	return r;
}

int
ka_keygen(EVP_PKEY **out)
{
	*out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return *out == NULL ? -1 : 0;
}

int
ka_cose_pub(EVP_PKEY *key, cbor_item_t **out)
{
	uint8_t pub[65];

	*out = NULL;
	if (ec_pub_octets(key, pub) < 0)
		return -1;
	/* alg -25 (ECDH-ES+HKDF-256) is what the spec says to send. */
	return cose_ec2(-25, pub, out);
}

static int
hkdf32(const uint8_t *ikm, size_t ikm_len, const char *info, uint8_t *out)
{
	static const uint8_t salt[32];
	EVP_PKEY_CTX *ctx = NULL;
	size_t n = 32;
	int r = -1;

	if ((ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) != 1 ||
	    EVP_PKEY_CTX_set1_hkdf_salt(ctx, salt, sizeof(salt)) != 1 ||
	    EVP_PKEY_CTX_set1_hkdf_key(ctx, ikm, (int)ikm_len) != 1 ||
	    EVP_PKEY_CTX_add1_hkdf_info(ctx, (const unsigned char *)info,
	    (int)strlen(info)) != 1 ||
	    EVP_PKEY_derive(ctx, out, &n) != 1 || n != 32)
		goto out;
	r = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/*
 * Shared secret with the platform key (a COSE map): protocol 1 =
 * SHA-256(Z) (32 bytes), protocol 2 = HKDF HMAC key || HKDF AES key (64).
 */
int
ka_shared(EVP_PKEY *key, int proto, const cbor_item_t *peer, uint8_t *shared,
    size_t *shared_len)
{
	EVP_PKEY *pub = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	const uint8_t *x, *y;
	size_t xl, yl, zl = 32;
	uint8_t pt[65], z[32];
	int64_t kty, crv;
	int r = -1;

	if (peer == NULL || !cbor_isa_map(peer) ||
	    cb_get_int(cb_map_get(peer, 1), &kty) < 0 || kty != 2)
		goto out;
	/* Negative keys: look them up by walking the map. */
	{
		struct cbor_pair *p = cbor_map_handle(peer);
		size_t i, n = cbor_map_size(peer);
		int64_t k;

		x = y = NULL;
		xl = yl = 0;
		crv = 0;
		for (i = 0; i < n; i++) {
			if (!cbor_isa_negint(p[i].key) ||
			    cb_get_int(p[i].key, &k) < 0)
				continue;
			if (k == -1 && cb_get_int(p[i].value, &crv) < 0)
				goto out;
			if (k == -2 && cb_get_bytes(p[i].value, &x, &xl) < 0)
				goto out;
			if (k == -3 && cb_get_bytes(p[i].value, &y, &yl) < 0)
				goto out;
		}
	}
	if (crv != 1 || x == NULL || y == NULL || xl != 32 || yl != 32)
		goto out;
	pt[0] = 0x04;
	memcpy(pt + 1, x, 32);
	memcpy(pt + 33, y, 32);
	if ((pub = ec_from_pub(pt)) == NULL)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new(key, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, pub) != 1 ||
	    EVP_PKEY_derive(ctx, z, &zl) != 1 || zl != 32)
		goto out;
	if (proto == 1) {
		if (sha256(z, 32, shared) < 0)
			goto out;
		*shared_len = 32;
	} else {
		if (hkdf32(z, 32, "CTAP2 HMAC key", shared) < 0 ||
		    hkdf32(z, 32, "CTAP2 AES key", shared + 32) < 0)
			goto out;
		*shared_len = 64;
	}
	r = 0;
out:
	OPENSSL_cleanse(z, sizeof(z));
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pub);
	ERR_clear_error();
	return r;
}

static int
aes_cbc(int enc, const uint8_t *key, const uint8_t *iv, const uint8_t *in,
    size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = NULL;
	int n, r = -1;

	if (len == 0 || len % 16 != 0 || len > 1024)
		return -1;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv, enc) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1 ||
	    n != (int)len)
		goto out;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int
pin_decrypt(int proto, const uint8_t *shared, const uint8_t *in,
    size_t in_len, uint8_t *out, size_t *out_len)
{
	static const uint8_t zero_iv[16];

	if (proto == 1) {
		if (aes_cbc(0, shared, zero_iv, in, in_len, out) < 0)
			return -1;
		*out_len = in_len;
		return 0;
	}
	if (in_len < 32)
		return -1;
	if (aes_cbc(0, shared + 32, in, in + 16, in_len - 16, out) < 0)
		return -1;
	*out_len = in_len - 16;
	return 0;
}

int
pin_encrypt(struct fidosim *tok, int proto, const uint8_t *shared,
    const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
	static const uint8_t zero_iv[16];

	if (proto == 1) {
		if (aes_cbc(1, shared, zero_iv, in, in_len, out) < 0)
			return -1;
		*out_len = in_len;
		return 0;
	}
	if (rand_bytes(tok, out, 16) < 0 ||
	    aes_cbc(1, shared + 32, out, in, in_len, out + 16) < 0)
		return -1;
	*out_len = in_len + 16;
	return 0;
}

/* Protocol 1: LEFT(HMAC, 16); protocol 2: the whole HMAC. */
int
pin_auth_ok(int proto, const uint8_t *key, const uint8_t *msg, size_t msg_len,
    const uint8_t *param, size_t param_len)
{
	uint8_t mac[32];
	size_t want = proto == 1 ? 16 : 32;
	int ok;

	if (param_len != want || hmac_sha256(key, 32, msg, msg_len, mac) < 0)
		return 0;
	ok = CRYPTO_memcmp(mac, param, want) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	return ok;
}

/* Reads the attestation certificate (PEM or DER) and P-256 key (PEM). */
int
load_attestation(struct fidosim *tok)
{
	FILE *f = NULL;
	X509 *cert = NULL;
	unsigned char *der = NULL;
	int len, r = -1;

	if (tok->cfg.att_cert_path == NULL && tok->cfg.att_key_path == NULL)
		return 0;
	if (tok->cfg.att_cert_path == NULL || tok->cfg.att_key_path == NULL) {
		fprintf(stderr, "fidosim: attestation needs cert and key\n");
		return -1;
	}
	if ((f = fopen(tok->cfg.att_cert_path, "rb")) == NULL)
		goto out;
	if ((cert = PEM_read_X509(f, NULL, NULL, NULL)) == NULL) {
		rewind(f);
		if ((cert = d2i_X509_fp(f, NULL)) == NULL)
			goto out;
	}
	fclose(f);
	f = NULL;
	if ((len = i2d_X509(cert, &der)) <= 0)
		goto out;
	if ((f = fopen(tok->cfg.att_key_path, "rb")) == NULL ||
	    (tok->att_key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
		goto out;
	if (!EVP_PKEY_is_a(tok->att_key, "EC"))
		goto out;
	tok->att_cert = der;
	tok->att_cert_len = (size_t)len;
	der = NULL;	/* transferred */
	r = 0;
out:
	if (r < 0)
		fprintf(stderr, "fidosim: cannot load attestation cert/key\n");
	if (f != NULL)
		fclose(f);
	OPENSSL_free(der);
	X509_free(cert);
	ERR_clear_error();
	return r;
}
