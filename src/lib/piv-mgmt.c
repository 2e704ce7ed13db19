/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PIV management key: its algorithm and factory flag (GET METADATA 9B),
 * mutual authentication (3DES through libykpiv; AES-128/192/256 by hand,
 * since libykpiv 2.2 speaks only 3DES and firmware 5.7 ships an AES-192
 * factory key), and the PIN-protected key convention (5FC109 + admin
 * data 5FFF00 flag 0x02).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <ykpiv.h>

#include "piv-internal.h"

static const uint8_t factory_key[24] = {
	1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8
};

struct ykssh_err *
ykssh_piv_mgmt_status(struct ykssh_piv *piv, struct ykssh_piv_mgmt_status *st)
{
	struct piv_metadata md;
	struct ykssh_err *err;
	uint8_t buf[512];
	size_t len = sizeof(buf);
	int found, sw, flags;

	memset(st, 0, sizeof(*st));
	st->algorithm = YKSSH_PIV_ALG_3DES;
	st->is_default = -1;
	if ((err = ykssh_piv_get_metadata(piv, 0x9b, buf, &len, &md,
	    &found)) != NULL)
		return err;
	if (found) {
		if (md.has & PIV_MD_HAS_ALG)
			st->algorithm = md.algorithm;
		if (md.has & PIV_MD_HAS_DEFAULT)
			st->is_default = md.is_default != 0;
		if (md.has & PIV_MD_HAS_POLICY)
			st->touch = md.touch_policy == YKSSH_PIV_TOUCH_ALWAYS;
	}
	if (ykssh_piv_mgmt_key_len(st->algorithm) == 0)
		return YKSSH_ERR(YKSSH_ERR_UNSUPPORTED, "unknown management "
		    "key algorithm 0x%02x", st->algorithm);
	ykssh_piv_set_mgmt_alg(piv, st->algorithm);
	len = sizeof(buf);
	if ((err = ykssh_piv_get_object(piv, PIV_OBJ_ADMIN, buf, &len,
	    &sw)) != NULL)
		return err;
	if (sw == PIV_SW_OK && (flags = ykssh_piv_admin_flags(buf, len)) > 0)
		st->protected_stored = (flags & PIV_ADMIN_PROTECTED) != 0;
	explicit_bzero(buf, sizeof(buf));
	return NULL;
}

static struct ykssh_err *
ecb(uint8_t alg, const uint8_t *key, const uint8_t *in, uint8_t *out,
    size_t len, int enc)
{
	const EVP_CIPHER *c;
	EVP_CIPHER_CTX *cx = NULL;
	struct ykssh_err *err = NULL;
	int n = 0, m = 0;

	switch (alg) {
	case YKSSH_PIV_ALG_AES128:
		c = EVP_aes_128_ecb();
		break;
	case YKSSH_PIV_ALG_AES192:
		c = EVP_aes_192_ecb();
		break;
	case YKSSH_PIV_ALG_AES256:
		c = EVP_aes_256_ecb();
		break;
	default:
		c = EVP_des_ede3_ecb();
		break;
	}
	if ((cx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(cx, c, NULL, key, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_set_padding(cx, 0) != 1 ||
	    EVP_CipherUpdate(cx, out, &n, in, (int)len) != 1 ||
	    EVP_CipherFinal_ex(cx, out + n, &m) != 1 ||
	    (size_t)(n + m) != len)
		err = YKSSH_ERR(YKSSH_ERR_CRYPTO, "management-key cipher "
		    "failed");
	EVP_CIPHER_CTX_free(cx);
	return err;
}

/*
 * Mutual GENERAL AUTHENTICATE by hand (AES):
 *	7C 02 80 00              → 7C L 80 B <E(witness)>
 *	7C L 80 B <witness> 81 B <challenge> → 7C L 82 B <E(challenge)>
 */
static struct ykssh_err *
auth_by_hand(struct ykssh_piv *piv, uint8_t alg, const uint8_t *key)
{
	static const uint8_t step1[] = { 0x7c, 0x02, 0x80, 0x00 };
	uint8_t rsp[64], cmd[40], wit[16], chal[16], expect[16];
	const uint8_t *v, *w;
	size_t len = sizeof(rsp), vlen, wlen;
	size_t bs = alg == YKSSH_PIV_ALG_3DES ? 8 : 16;
	struct ykssh_err *err = NULL;
	int sw;

	if ((err = ykssh_piv_apdu(piv, PIV_INS_AUTH, alg, 0x9b, step1,
	    sizeof(step1), rsp, &len, &sw)) != NULL)
		goto out;
	if (sw == 0x6a80 || sw == 0x6a86) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_AUTH_MGMT_KEY,
		    "the management key is not %s (SW %04X)",
		    ykssh_piv_alg_name(alg), (unsigned)sw), "give the "
		    "management key of the token's kind");
		goto out;
	}
	if (sw != PIV_SW_OK) {
		err = ykssh_piv_sw_error(sw, "management-key witness");
		goto out;
	}
	if (ykssh_piv_tlv_find(rsp, len, 0x7c, &v, &vlen) != 0 ||
	    ykssh_piv_tlv_find(v, vlen, 0x80, &w, &wlen) != 0 ||
	    wlen != bs) {
		err = YKSSH_ERR(YKSSH_ERR_DEVICE, "malformed management-key "
		    "witness");
		goto out;
	}
	if ((err = ecb(alg, key, w, wit, bs, 0)) != NULL)
		goto out;
	if (RAND_bytes(chal, (int)bs) != 1) {
		err = YKSSH_ERR(YKSSH_ERR_CRYPTO, "no random challenge");
		goto out;
	}
	cmd[0] = 0x7c;
	cmd[1] = (uint8_t)(4 + 2 * bs);
	cmd[2] = 0x80;
	cmd[3] = (uint8_t)bs;
	memcpy(cmd + 4, wit, bs);
	cmd[4 + bs] = 0x81;
	cmd[5 + bs] = (uint8_t)bs;
	memcpy(cmd + 6 + bs, chal, bs);
	len = sizeof(rsp);
	if ((err = ykssh_piv_apdu(piv, PIV_INS_AUTH, alg, 0x9b, cmd,
	    6 + 2 * bs, rsp, &len, &sw)) != NULL)
		goto out;
	if (sw == 0x6982) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_AUTH_MGMT_KEY,
		    "wrong PIV management key (the token refused it)"),
		    "give the right management key; the management key has "
		    "no retry counter");
		goto out;
	}
	if (sw != PIV_SW_OK) {
		err = ykssh_piv_sw_error(sw, "management-key response");
		goto out;
	}
	if (ykssh_piv_tlv_find(rsp, len, 0x7c, &v, &vlen) != 0 ||
	    ykssh_piv_tlv_find(v, vlen, 0x82, &w, &wlen) != 0 ||
	    wlen != bs || (err = ecb(alg, key, chal, expect, bs, 1)) != NULL ||
	    ykssh_timingsafe_bcmp(expect, w, bs) != 0) {
		if (err == NULL)
			err = YKSSH_ERR(YKSSH_ERR_AUTH_MGMT_KEY, "the token "
			    "did not prove it holds the management key");
		goto out;
	}
out:
	explicit_bzero(wit, sizeof(wit));
	explicit_bzero(cmd, sizeof(cmd));
	explicit_bzero(expect, sizeof(expect));
	return err;
}

static struct ykssh_err *
authenticate(struct ykssh_piv *piv, uint8_t alg, const uint8_t *key,
    size_t len)
{
	ykpiv_rc rc;

	if (len != ykssh_piv_mgmt_key_len(alg))
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_AUTH_MGMT_KEY,
		    "a %s management key has %zu bytes, not %zu",
		    ykssh_piv_alg_name(alg), ykssh_piv_mgmt_key_len(alg), len),
		    "give it as %zu hex digits",
		    2 * ykssh_piv_mgmt_key_len(alg));
	if (alg != YKSSH_PIV_ALG_3DES)
		return auth_by_hand(piv, alg, key);
	rc = ykpiv_authenticate(ykssh_piv_state(piv), key);
	if (rc == YKPIV_AUTHENTICATION_ERROR)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_AUTH_MGMT_KEY,
		    "wrong PIV management key (%s)",
		    ykpiv_strerror_name(rc)), "give the right management "
		    "key; the management key has no retry counter");
	if (rc != YKPIV_OK)
		return YKSSH_ERR(YKSSH_ERR_DEVICE, "management-key "
		    "authentication: %s (%s)", ykpiv_strerror(rc),
		    ykpiv_strerror_name(rc));
	return NULL;
}

struct ykssh_err *
ykssh_piv_authenticate(struct ykssh_piv *piv, const uint8_t *key,
    size_t len)
{
	struct ykssh_piv_mgmt_status ms;
	struct ykssh_err *err;
	uint8_t alg = ykssh_piv_mgmt_alg_cached(piv);

	if (alg == 0) {
		if ((err = ykssh_piv_mgmt_status(piv, &ms)) != NULL)
			return err;
		alg = ms.algorithm;
	}
	if (key == NULL) {
		key = factory_key;
		len = sizeof(factory_key);
	}
	return authenticate(piv, alg, key, len);
}

struct ykssh_err *
ykssh_piv_authenticate_protected(struct ykssh_piv *piv)
{
	struct ykssh_piv_mgmt_status ms;
	struct ykssh_err *err;
	uint8_t *buf = NULL;
	const uint8_t *key;
	size_t len = 512, klen;
	uint8_t alg = ykssh_piv_mgmt_alg_cached(piv);
	int sw;

	if (alg == 0) {
		if ((err = ykssh_piv_mgmt_status(piv, &ms)) != NULL)
			return err;
		alg = ms.algorithm;
	}
	if ((buf = calloc(1, len)) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	if ((err = ykssh_piv_get_object(piv, PIV_OBJ_PRINTED, buf, &len,
	    &sw)) != NULL)
		goto out;
	if (sw == 0x6982) {
		err = YKSSH_ERR(YKSSH_ERR_PIN_REQUIRED, "reading the "
		    "PIN-protected management key needs the PIN");
		goto out;
	}
	if (sw != PIV_SW_OK || ykssh_piv_protected_parse(buf, len, &key,
	    &klen) != 0) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_AUTH_MGMT_KEY,
		    "the token has no PIN-protected management key"),
		    "give the management key, or run 'ykssh enroll --piv "
		    "--setup' on a fresh token");
		goto out;
	}
	err = authenticate(piv, alg, key, klen);
out:
	ykssh_freezero(buf, 512);
	return err;
}

/* New management key of `alg`, PIN-protected (needs auth and PIN). */
static struct ykssh_err *
set_protected_key(struct ykssh_piv *piv, uint8_t alg)
{
	static const uint8_t admin[] = { 0x80, 0x03, 0x81, 0x01,
	    PIV_ADMIN_PROTECTED };
	uint8_t key[32], cmd[40], obj[40];
	size_t klen = ykssh_piv_mgmt_key_len(alg);
	struct ykssh_err *err = NULL;
	ykpiv_mgm mgm;
	ykpiv_rc rc;
	int sw;

	if (alg == YKSSH_PIV_ALG_3DES) {
		/* libykpiv 2.2 does the 3DES case: key, 5FC109, 5FFF00. */
		memset(&mgm, 0, sizeof(mgm));
		rc = ykpiv_util_set_protected_mgm(ykssh_piv_state(piv), &mgm);
		explicit_bzero(&mgm, sizeof(mgm));
		if (rc != YKPIV_OK)
			return YKSSH_ERR(YKSSH_ERR_DEVICE, "storing a new "
			    "PIN-protected management key: %s (%s)",
			    ykpiv_strerror(rc), ykpiv_strerror_name(rc));
		return NULL;
	}
	if (klen == 0 || RAND_bytes(key, (int)klen) != 1)
		return YKSSH_ERR(YKSSH_ERR_CRYPTO, "no random management key");
	/* SET MANAGEMENT KEY: alg, 9B, length, key (no touch). */
	cmd[0] = alg;
	cmd[1] = 0x9b;
	cmd[2] = (uint8_t)klen;
	memcpy(cmd + 3, key, klen);
	if ((err = ykssh_piv_apdu(piv, PIV_INS_SET_MGMT, 0xff, 0xff, cmd,
	    3 + klen, NULL, NULL, &sw)) != NULL)
		goto out;
	if (sw != PIV_SW_OK) {
		err = ykssh_piv_sw_error(sw, "setting the management key");
		goto out;
	}
	/* Stay authenticated under the new key for the objects. */
	if ((err = authenticate(piv, alg, key, klen)) != NULL)
		goto out;
	obj[0] = 0x88;
	obj[1] = (uint8_t)(2 + klen);
	obj[2] = 0x89;
	obj[3] = (uint8_t)klen;
	memcpy(obj + 4, key, klen);
	if ((err = ykssh_piv_put_object(piv, PIV_OBJ_PRINTED, obj,
	    4 + klen)) != NULL ||
	    (err = ykssh_piv_put_object(piv, PIV_OBJ_ADMIN, admin,
	    sizeof(admin))) != NULL)
		err = YKSSH_ERR_WRAP(err, "the new management key is set "
		    "but could not be stored PIN-protected");
out:
	explicit_bzero(key, sizeof(key));
	explicit_bzero(cmd, sizeof(cmd));
	explicit_bzero(obj, sizeof(obj));
	return err;
}

static struct ykssh_err *
ykpiv_change(struct ykssh_piv *piv, int puk, const struct ykssh_secret *o,
    const struct ykssh_secret *n)
{
	int tries = -1;
	ykpiv_rc rc;
	const char *what = puk ? "PUK" : "PIN";

	if (ykssh_secret_len(n) < 6 || ykssh_secret_len(n) > 8)
		return YKSSH_ERR(YKSSH_ERR_PIN_POLICY, "a new %s has 6 to 8 "
		    "characters", what);
	if (ykssh_secret_len(o) == ykssh_secret_len(n) &&
	    memcmp(ykssh_secret_str(o), ykssh_secret_str(n),
	    ykssh_secret_len(o)) == 0)
		return YKSSH_ERR(YKSSH_ERR_PIN_POLICY, "the new %s is the "
		    "factory %s", what, what);
	if (puk)
		rc = ykpiv_change_puk(ykssh_piv_state(piv),
		    ykssh_secret_str(o), ykssh_secret_len(o),
		    ykssh_secret_str(n), ykssh_secret_len(n), &tries);
	else
		rc = ykpiv_change_pin(ykssh_piv_state(piv),
		    ykssh_secret_str(o), ykssh_secret_len(o),
		    ykssh_secret_str(n), ykssh_secret_len(n), &tries);
	if (rc == YKPIV_WRONG_PIN)
		return YKSSH_ERR(YKSSH_ERR_PIN_INVALID, "wrong current %s "
		    "(%d tries left)", what, tries);
	if (rc == YKPIV_PIN_LOCKED)
		return YKSSH_ERR(YKSSH_ERR_PIN_BLOCKED, "the %s is blocked",
		    what);
	if (rc != YKPIV_OK)
		return YKSSH_ERR(YKSSH_ERR_DEVICE, "changing the %s: %s (%s)",
		    what, ykpiv_strerror(rc), ykpiv_strerror_name(rc));
	return NULL;
}

struct ykssh_err *
ykssh_piv_setup(struct ykssh_piv *piv, const struct ykssh_secret *old_pin,
    const struct ykssh_secret *new_pin, const struct ykssh_secret *old_puk,
    const struct ykssh_secret *new_puk)
{
	struct ykssh_piv_mgmt_status ms;
	struct ykssh_err *err;
	uint8_t alg = ykssh_piv_mgmt_alg_cached(piv);

	/* The caller verified old_pin and authenticated. */
	if (alg == 0) {
		if ((err = ykssh_piv_mgmt_status(piv, &ms)) != NULL)
			return err;
		alg = ms.algorithm;
	}
	if ((err = set_protected_key(piv, alg)) != NULL)
		return YKSSH_ERR_WRAP(err, "setup: management key");
	if (new_puk != NULL &&
	    (err = ykpiv_change(piv, 1, old_puk, new_puk)) != NULL)
		return YKSSH_ERR_WRAP(err, "setup: PUK");
	if (new_pin != NULL &&
	    (err = ykpiv_change(piv, 0, old_pin, new_pin)) != NULL)
		return YKSSH_ERR_WRAP(err, "setup: PIN");
	return NULL;
}
