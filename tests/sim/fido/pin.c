/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * clientPIN (CTAP 2.1 §6.5): PIN/UV auth protocols 1 and 2, retries (8 in
 * all, 3 in a row until the next power cycle), and the pinUvAuthToken with
 * permissions and an optional RP ID binding.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "fidosim-internal.h"

#define SUB_GET_RETRIES		0x01
#define SUB_GET_KEY_AGREEMENT	0x02
#define SUB_SET_PIN		0x03
#define SUB_CHANGE_PIN		0x04
#define SUB_GET_PIN_TOKEN	0x05
#define SUB_GET_TOKEN_UV	0x06
#define SUB_GET_UV_RETRIES	0x07
#define SUB_GET_TOKEN_PIN_PERM	0x09

/* New key-agreement key and a new, unusable token. */
int
pin_token_reset(struct fidosim *tok)
{
	EVP_PKEY_free(tok->ka_key);
	tok->ka_key = NULL;
	tok->token_valid = 0;
	tok->token_perms = 0;
	freezero_str(tok->token_rp_id);
	tok->token_rp_id = NULL;
	if (rand_bytes(tok, tok->pin_token, sizeof(tok->pin_token)) < 0)
		return -1;
	return ka_keygen(&tok->ka_key);
}

/*
 * Checks pinUvAuthParam = auth(token, msg) for a command that needs perm,
 * and binds the token to rp_id when it has no RP ID yet.
 */
int
pin_uv_verify(struct fidosim *tok, const cbor_item_t *proto_item,
    const uint8_t *param, size_t param_len, const uint8_t *msg,
    size_t msg_len, uint8_t perm, const char *rp_id)
{
	uint64_t proto;

	if (cb_get_uint(proto_item, &proto) < 0 || (proto != 1 && proto != 2) ||
	    (proto == 2 && tok->cfg.ctap21_pre))
		return CTAP1_ERR_INVALID_PARAMETER;
	if (!tok->pin_set)
		return CTAP2_ERR_PIN_NOT_SET;
	if (!tok->token_valid ||
	    !pin_auth_ok((int)proto, tok->pin_token, msg, msg_len, param,
	    param_len))
		return CTAP2_ERR_PIN_AUTH_INVALID;
	/* CTAP 2.1 §6.1.2 step 11, §6.2.2 step 6: these are AUTH_INVALID. */
	if ((tok->token_perms & perm) != perm)
		return CTAP2_ERR_PIN_AUTH_INVALID;
	if (rp_id != NULL && tok->token_rp_id != NULL &&
	    strcmp(rp_id, tok->token_rp_id) != 0)
		return CTAP2_ERR_PIN_AUTH_INVALID;
	if (rp_id != NULL && tok->token_rp_id == NULL && perm != PERM_CM &&
	    !tok->cfg.ctap21_pre && (tok->token_rp_id = strdup(rp_id)) == NULL)
		return CTAP1_ERR_OTHER;
	return CTAP_OK;
}

/* The shared secret from the platform key in request key 0x03. */
static int
shared_secret(struct fidosim *tok, const cbor_item_t *req, int proto,
    uint8_t *shared, size_t *shared_len)
{
	const cbor_item_t *ka = cb_map_get(req, 3);

	if (ka == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!cbor_isa_map(ka))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if (ka_shared(tok->ka_key, proto, ka, shared, shared_len) < 0)
		return CTAP1_ERR_INVALID_PARAMETER;
	return CTAP_OK;
}

/* Decrypts newPinEnc and applies the PIN policy. */
static int
decrypt_new_pin(int proto, const uint8_t *shared, const uint8_t *enc,
    size_t enc_len, uint8_t *hash)
{
	uint8_t pin[80];
	size_t len = 0, plen;
	int r;

	if (enc_len != (proto == 1 ? 64u : 80u))
		return CTAP1_ERR_INVALID_PARAMETER;
	if (pin_decrypt(proto, shared, enc, enc_len, pin, &len) < 0 ||
	    len != 64) {
		r = CTAP1_ERR_INVALID_PARAMETER;
		goto out;
	}
	for (plen = 0; plen < 64 && pin[plen] != 0; plen++)
		;
	if (plen < PIN_MIN_LEN || plen > PIN_MAX_LEN) {
		r = CTAP2_ERR_PIN_POLICY_VIOLATION;
		goto out;
	}
	if (sha256(pin, plen, pin) < 0) {
		r = CTAP1_ERR_OTHER;
		goto out;
	}
	memcpy(hash, pin, 16);
	r = CTAP_OK;
out:
	OPENSSL_cleanse(pin, sizeof(pin));
	return r;
}

/*
 * Checks pinHashEnc against the stored PIN, with the retry rules: every
 * attempt costs a retry, a match gives them back; a mismatch makes a new
 * key-agreement key.
 */
static int
check_pin_hash(struct fidosim *tok, int proto, const uint8_t *shared,
    const cbor_item_t *req)
{
	const uint8_t *enc;
	size_t enc_len, len = 0;
	uint8_t hash[32];
	int r;

	if (cb_map_get(req, 6) == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (cb_get_bytes(cb_map_get(req, 6), &enc, &enc_len) < 0)
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if (enc_len != (proto == 1 ? 16u : 32u))
		return CTAP1_ERR_INVALID_PARAMETER;
	tok->pin_retries--;
	if (state_save(tok) < 0)
		return CTAP1_ERR_OTHER;
	if (pin_decrypt(proto, shared, enc, enc_len, hash, &len) < 0 ||
	    len != 16 || CRYPTO_memcmp(hash, tok->pin_hash, 16) != 0) {
		tok->pin_consecutive_fails++;
		EVP_PKEY_free(tok->ka_key);
		tok->ka_key = NULL;
		if (ka_keygen(&tok->ka_key) < 0)
			r = CTAP1_ERR_OTHER;
		else if (tok->pin_retries == 0)
			r = CTAP2_ERR_PIN_BLOCKED;
		else if (tok->pin_consecutive_fails >= PIN_MAX_CONSECUTIVE)
			r = CTAP2_ERR_PIN_AUTH_BLOCKED;
		else
			r = CTAP2_ERR_PIN_INVALID;
		goto out;
	}
	tok->pin_retries = PIN_MAX_RETRIES;
	tok->pin_consecutive_fails = 0;
	r = state_save(tok) < 0 ? CTAP1_ERR_OTHER : CTAP_OK;
out:
	OPENSSL_cleanse(hash, sizeof(hash));
	return r;
}

static int
pin_gate(struct fidosim *tok)
{
	if (!tok->pin_set)
		return CTAP2_ERR_PIN_NOT_SET;
	if (tok->pin_retries == 0)
		return CTAP2_ERR_PIN_BLOCKED;
	if (tok->pin_consecutive_fails >= PIN_MAX_CONSECUTIVE)
		return CTAP2_ERR_PIN_AUTH_BLOCKED;
	return CTAP_OK;
}

static int
get_auth_param(const cbor_item_t *req, const uint8_t **p, size_t *len)
{
	if (cb_map_get(req, 4) == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (cb_get_bytes(cb_map_get(req, 4), p, len) < 0)
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	return CTAP_OK;
}

static int
set_or_change_pin(struct fidosim *tok, const cbor_item_t *req, int proto,
    int change, const uint8_t *shared)
{
	const uint8_t *param, *npe, *phe = NULL;
	size_t param_len, npe_len, phe_len = 0;
	uint8_t msg[80 + 32], hash[16];
	int r;

	if ((r = get_auth_param(req, &param, &param_len)) != CTAP_OK)
		return r;
	if (cb_map_get(req, 5) == NULL ||
	    (change && cb_map_get(req, 6) == NULL))
		return CTAP2_ERR_MISSING_PARAMETER;
	if (cb_get_bytes(cb_map_get(req, 5), &npe, &npe_len) < 0 ||
	    (change && cb_get_bytes(cb_map_get(req, 6), &phe, &phe_len) < 0))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if (npe_len > 80 || phe_len > 32)
		return CTAP1_ERR_INVALID_PARAMETER;
	memcpy(msg, npe, npe_len);
	if (change)
		memcpy(msg + npe_len, phe, phe_len);
	if (!pin_auth_ok(proto, shared, msg, npe_len + phe_len, param,
	    param_len))
		return CTAP2_ERR_PIN_AUTH_INVALID;
	if (change && (r = check_pin_hash(tok, proto, shared, req)) != CTAP_OK)
		return r;
	if ((r = decrypt_new_pin(proto, shared, npe, npe_len, hash)) !=
	    CTAP_OK)
		return r;
	memcpy(tok->pin_hash, hash, 16);
	OPENSSL_cleanse(hash, sizeof(hash));
	tok->pin_set = 1;
	tok->pin_retries = PIN_MAX_RETRIES;
	if (pin_token_reset(tok) < 0 || state_save(tok) < 0)
		return CTAP1_ERR_OTHER;
	return CTAP_OK;
}

static int
get_token(struct fidosim *tok, const cbor_item_t *req, int proto, int sub,
    const uint8_t *shared, uint8_t *resp, size_t *resp_len)
{
	const cbor_item_t *pi = cb_map_get(req, 9), *ri = cb_map_get(req, 10);
	cbor_item_t *m = NULL;
	uint64_t perms = PERM_MC | PERM_GA;
	uint8_t enc[64];
	size_t enc_len;
	char *rp_id = NULL;
	int r;

	if (sub == SUB_GET_PIN_TOKEN) {
		if (pi != NULL || ri != NULL)
			return CTAP1_ERR_INVALID_PARAMETER;
		/* Before 2.1 a token was good for every command. */
		if (tok->cfg.ctap21_pre)
			perms = PERM_MC | PERM_GA | PERM_CM;
	} else {
		if (pi == NULL)
			return CTAP2_ERR_MISSING_PARAMETER;
		if (cb_get_uint(pi, &perms) < 0 ||
		    (ri != NULL && cb_get_text(ri, &rp_id) < 0))
			return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		if (perms == 0 || perms > 0xff) {
			r = CTAP1_ERR_INVALID_PARAMETER;
			goto out;
		}
		/* No bio enrollment, large blobs or config. */
		if (perms & ~(uint64_t)(PERM_MC | PERM_GA | PERM_CM)) {
			r = CTAP2_ERR_UNAUTHORIZED_PERM;
			goto out;
		}
	}
	if ((r = check_pin_hash(tok, proto, shared, req)) != CTAP_OK)
		goto out;
	/*
	 * 2.1: every token request makes a new token.  2.0/2.1-PRE: one
	 * token per power-up (or PIN change), returned again each time.
	 */
	if ((!tok->cfg.ctap21_pre || !tok->token_valid) &&
	    pin_token_reset(tok) < 0) {
		r = CTAP1_ERR_OTHER;
		goto out;
	}
	tok->token_valid = 1;
	tok->token_perms = (uint8_t)perms;
	tok->token_rp_id = rp_id;
	rp_id = NULL;	/* transferred */
	if (pin_encrypt(tok, proto, shared, tok->pin_token, 32, enc,
	    &enc_len) < 0 || (m = cbor_new_definite_map(1)) == NULL ||
	    cb_put_int(m, 2, cb_bytes(enc, enc_len)) < 0) {
		r = CTAP1_ERR_OTHER;
		goto out;
	}
	r = ctap2_reply(m, resp, resp_len);
	m = NULL;	/* consumed */
out:
	OPENSSL_cleanse(enc, sizeof(enc));
	if (m != NULL)
		cbor_decref(&m);
	free(rp_id);
	return r;
}

int
ctap2_client_pin(struct fidosim *tok, const cbor_item_t *req, uint8_t *resp,
    size_t *resp_len)
{
	const cbor_item_t *pi = cb_map_get(req, 1), *si = cb_map_get(req, 2);
	cbor_item_t *m = NULL, *cose = NULL;
	uint8_t shared[64];
	size_t shared_len = 0;
	uint64_t proto = 0, sub;
	int r;

	if (si == NULL) {
		r = CTAP2_ERR_MISSING_PARAMETER;
		goto out;
	}
	if (cb_get_uint(si, &sub) < 0 ||
	    (pi != NULL && cb_get_uint(pi, &proto) < 0)) {
		r = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		goto out;
	}
	if (sub == SUB_GET_TOKEN_UV || sub == SUB_GET_UV_RETRIES) {
		r = CTAP2_ERR_INVALID_SUBCOMMAND;	/* no built-in UV */
		goto out;
	}
	if (sub < SUB_GET_RETRIES || sub > SUB_GET_TOKEN_PIN_PERM ||
	    sub == 0x08) {
		r = CTAP2_ERR_INVALID_SUBCOMMAND;
		goto out;
	}
	if (pi == NULL) {
		r = CTAP2_ERR_MISSING_PARAMETER;
		goto out;
	}
	if ((proto != 1 && proto != 2) ||
	    (proto == 2 && tok->cfg.ctap21_pre)) {
		r = CTAP1_ERR_INVALID_PARAMETER;
		goto out;
	}
	if (sub == SUB_GET_TOKEN_PIN_PERM && tok->cfg.ctap21_pre) {
		r = CTAP2_ERR_INVALID_SUBCOMMAND;
		goto out;
	}
	switch (sub) {
	case SUB_GET_RETRIES:
		/* powerCycleState (2.1): true while PIN_AUTH_BLOCKED. */
		if ((m = cbor_new_definite_map(2)) == NULL ||
		    cb_put_int(m, 3, cb_int(tok->pin_retries)) < 0 ||
		    cb_put_int(m, 4, cb_bool(tok->pin_consecutive_fails >=
		    PIN_MAX_CONSECUTIVE)) < 0) {
			r = CTAP1_ERR_OTHER;
			goto out;
		}
		r = ctap2_reply(m, resp, resp_len);
		m = NULL;
		goto out;
	case SUB_GET_KEY_AGREEMENT:
		if ((m = cbor_new_definite_map(1)) == NULL ||
		    ka_cose_pub(tok->ka_key, &cose) < 0 ||
		    cb_put_int(m, 1, cose) < 0) {
			r = CTAP1_ERR_OTHER;
			goto out;
		}
		r = ctap2_reply(m, resp, resp_len);
		m = NULL;
		goto out;
	case SUB_SET_PIN:
		if (tok->pin_set) {
			r = CTAP2_ERR_PIN_AUTH_INVALID;
			goto out;
		}
		break;
	default:	/* change PIN, tokens */
		if ((r = pin_gate(tok)) != CTAP_OK)
			goto out;
		break;
	}
	if ((r = shared_secret(tok, req, (int)proto, shared, &shared_len)) !=
	    CTAP_OK)
		goto out;
	if (sub == SUB_SET_PIN || sub == SUB_CHANGE_PIN)
		r = set_or_change_pin(tok, req, (int)proto,
		    sub == SUB_CHANGE_PIN, shared);
	else
		r = get_token(tok, req, (int)proto, (int)sub, shared, resp,
		    resp_len);
out:
	OPENSSL_cleanse(shared, sizeof(shared));
	if (m != NULL)
		cbor_decref(&m);
	return r;
}
