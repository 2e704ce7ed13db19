/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CTAP2 command dispatch, makeCredential, reset and selection (CTAP 2.1
 * §6), and request helpers shared with assert.c.
 *
 * User presence: a handler calls up_check() at the point where it needs a
 * touch.  When the touch is not decided yet it returns CTAP_PENDING_UP and
 * the transport (ctaphid.c) keeps the request; once the touch is decided the
 * same request runs again with the result forced.  Handlers therefore make
 * no state changes before their up_check().
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "fidosim-internal.h"

#define CMD_MAKE_CRED	0x01
#define CMD_GET_ASSERT	0x02
#define CMD_GET_INFO	0x04
#define CMD_CLIENT_PIN	0x06
#define CMD_RESET	0x07
#define CMD_GET_NEXT	0x08
#define CMD_CREDMAN	0x0a
#define CMD_SELECTION	0x0b
#define CMD_CREDMAN_PRE	0x41

/* Status byte 0 followed by the canonical encoding of map (consumed). */
int
ctap2_reply(cbor_item_t *map, uint8_t *resp, size_t *resp_len)
{
	uint8_t *enc = NULL;
	size_t len = 0;
	int r = CTAP1_ERR_OTHER;

	if (cb_encode(map, &enc, &len) < 0 || len + 1 > HID_MAX_PAYLOAD)
		goto out;
	resp[0] = CTAP_OK;
	memcpy(resp + 1, enc, len);
	*resp_len = len + 1;
	r = CTAP_OK;
out:
	if (enc != NULL) {
		OPENSSL_cleanse(enc, len);
		free(enc);
	}
	if (map != NULL)
		cbor_decref(&map);
	return r;
}

/* Looks a credential id up: resident store first, then unwrapping. */
int
find_cred(struct fidosim *tok, const uint8_t *rp_id_hash, const uint8_t *id,
    size_t id_len, struct cred_ref *out)
{
	unsigned i;

	if (id_len == RK_ID_LEN) {
		for (i = 0; i < tok->rk_cap; i++) {
			struct rk *rk = &tok->rks[i];

			if (!rk->used || memcmp(rk->id, id, RK_ID_LEN) != 0 ||
			    memcmp(rk->rp_id_hash, rp_id_hash, 32) != 0)
				continue;
			memset(out, 0, sizeof(*out));
			out->rk_index = (int)i;
			memcpy(out->id, rk->id, RK_ID_LEN);
			out->id_len = RK_ID_LEN;
			out->alg = rk->alg;
			memcpy(out->priv, rk->priv, 32);
			out->cred_protect = rk->cred_protect;
			return 0;
		}
		return -1;
	}
	return cred_unwrap(tok, rp_id_hash, id, id_len, out);
}

/* Descriptor {"id": bytes, "type": text}; 1 = not a public-key one. */
int
parse_descriptor(const cbor_item_t *d, const uint8_t **id, size_t *id_len)
{
	const cbor_item_t *t;

	if (d == NULL || !cbor_isa_map(d))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if ((t = cb_map_get_str(d, "type")) == NULL ||
	    cb_map_get_str(d, "id") == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!cbor_isa_string(t) ||
	    cb_get_bytes(cb_map_get_str(d, "id"), id, id_len) < 0)
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if (!cbor_string_is_definite(t) || cbor_string_length(t) != 10 ||
	    memcmp(cbor_string_handle(t), "public-key", 10) != 0)
		return 1;
	return CTAP_OK;
}

/* Parses {up, uv, rk}; absent entries keep their defaults. */
int
parse_options(const cbor_item_t *o, int *up, int *uv, int *rk, int *has_rk)
{
	const cbor_item_t *v;

	if (o == NULL)
		return CTAP_OK;
	if (!cbor_isa_map(o))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if ((v = cb_map_get_str(o, "up")) != NULL && cb_get_bool(v, up) < 0)
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if ((v = cb_map_get_str(o, "uv")) != NULL && cb_get_bool(v, uv) < 0)
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if ((v = cb_map_get_str(o, "rk")) != NULL) {
		if (cb_get_bool(v, rk) < 0)
			return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		*has_rk = 1;
	}
	return CTAP_OK;
}

/* Zero-length pinUvAuthParam: libfido2's touch-to-select probe. */
int
touch_probe(struct fidosim *tok)
{
	int r = up_check(tok);

	if (r == CTAP_PENDING_UP)
		return r;
	if (r != CTAP_OK)
		return CTAP2_ERR_OPERATION_DENIED;
	return tok->pin_set ? CTAP2_ERR_PIN_INVALID : CTAP2_ERR_PIN_NOT_SET;
}

int
check_protocol(const cbor_item_t *p)
{
	uint64_t v;

	if (p == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (cb_get_uint(p, &v) < 0)
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if (v != 1 && v != 2)
		return CTAP1_ERR_INVALID_PARAMETER;
	return CTAP_OK;
}

static int
dup_opt_text(const cbor_item_t *m, const char *key, char **out)
{
	const cbor_item_t *v = cb_map_get_str(m, key);

	*out = NULL;
	if (v == NULL)
		return CTAP_OK;
	return cb_get_text(v, out) < 0 ? CTAP2_ERR_CBOR_UNEXPECTED_TYPE :
	    CTAP_OK;
}

static int
store_rk(struct fidosim *tok, const char *rp_id, const cbor_item_t *rp,
    const cbor_item_t *user, const uint8_t *uid, size_t uid_len,
    const uint8_t *rp_id_hash, int alg, const uint8_t *priv, uint8_t cp,
    uint8_t *id_out)
{
	struct rk nrk;
	unsigned i;
	int slot = -1, r;

	memset(&nrk, 0, sizeof(nrk));
	for (i = 0; i < tok->rk_cap; i++) {
		struct rk *rk = &tok->rks[i];

		if (rk->used && memcmp(rk->rp_id_hash, rp_id_hash, 32) == 0 &&
		    rk->user_id_len == uid_len &&
		    memcmp(rk->user_id, uid, uid_len) == 0) {
			slot = (int)i;	/* same rp.id + user.id: overwrite */
			break;
		}
	}
	for (i = 0; slot < 0 && i < tok->rk_cap; i++)
		if (!tok->rks[i].used)
			slot = (int)i;
	if (slot < 0)
		return CTAP2_ERR_KEY_STORE_FULL;
	if ((nrk.rp_id = strdup(rp_id)) == NULL) {
		r = CTAP1_ERR_OTHER;
		goto fail;
	}
	if ((r = dup_opt_text(rp, "name", &nrk.rp_name)) != CTAP_OK ||
	    (r = dup_opt_text(user, "name", &nrk.user_name)) != CTAP_OK ||
	    (r = dup_opt_text(user, "displayName", &nrk.user_display)) !=
	    CTAP_OK)
		goto fail;
	if (rand_bytes(tok, nrk.id, RK_ID_LEN) < 0) {
		r = CTAP1_ERR_OTHER;
		goto fail;
	}
	nrk.used = 1;
	memcpy(nrk.rp_id_hash, rp_id_hash, 32);
	memcpy(nrk.user_id, uid, uid_len);
	nrk.user_id_len = uid_len;
	nrk.alg = alg;
	memcpy(nrk.priv, priv, 32);
	nrk.cred_protect = cp;
	nrk.seq = ++tok->rk_seq;
	rk_clear(&tok->rks[slot]);
	tok->rks[slot] = nrk;
	memcpy(id_out, nrk.id, RK_ID_LEN);
	return CTAP_OK;
fail:
	rk_clear(&nrk);
	return r;
}

static int
make_credential(struct fidosim *tok, const cbor_item_t *req, uint8_t *resp,
    size_t *resp_len)
{
	const cbor_item_t *cdh_i, *rp, *user, *params, *excl, *ext, *pa;
	const uint8_t *cdh, *uid, *pin_param = NULL, *id;
	size_t cdh_len, uid_len, pin_param_len = 0, id_len, i, n;
	cbor_item_t *cose = NULL, *m = NULL, *att = NULL, *x5c, *extm = NULL;
	uint8_t rp_id_hash[32], priv[32], cred_id[MAX_CRED_ID_LEN];
	uint8_t *auth = NULL, *cose_enc = NULL, *ext_enc = NULL, *tbs = NULL;
	size_t cred_id_len, cose_len = 0, ext_len = 0, auth_len, sig_len;
	uint8_t sig[80], flags;
	char *rp_id = NULL;
	int up = 1, uv = 0, rk = 0, has_rk = 0, alg = 0, r, found;
	uint64_t cp = 0;
	int64_t a;
	struct cred_ref ref;

	memset(priv, 0, sizeof(priv));
	cdh_i = cb_map_get(req, 1);
	rp = cb_map_get(req, 2);
	user = cb_map_get(req, 3);
	params = cb_map_get(req, 4);
	if (cdh_i == NULL || rp == NULL || user == NULL || params == NULL) {
		r = CTAP2_ERR_MISSING_PARAMETER;
		goto out;
	}
	if (cb_get_bytes(cdh_i, &cdh, &cdh_len) < 0 || !cbor_isa_map(rp) ||
	    !cbor_isa_map(user) || !cbor_isa_array(params)) {
		r = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		goto out;
	}
	if (cdh_len != 32) {
		r = CTAP1_ERR_INVALID_LENGTH;
		goto out;
	}
	if (cb_map_get_str(rp, "id") == NULL ||
	    cb_map_get_str(user, "id") == NULL) {
		r = CTAP2_ERR_MISSING_PARAMETER;
		goto out;
	}
	if (cb_get_text(cb_map_get_str(rp, "id"), &rp_id) < 0 ||
	    cb_get_bytes(cb_map_get_str(user, "id"), &uid, &uid_len) < 0) {
		r = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		goto out;
	}
	if (uid_len > MAX_USER_ID_LEN) {
		r = CTAP1_ERR_INVALID_LENGTH;
		goto out;
	}
	if ((pa = cb_map_get(req, 8)) != NULL &&
	    cb_get_bytes(pa, &pin_param, &pin_param_len) < 0) {
		r = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		goto out;
	}
	if (pa != NULL && pin_param_len == 0) {
		r = touch_probe(tok);
		goto out;
	}
	if (pa != NULL && (r = check_protocol(cb_map_get(req, 9))) != CTAP_OK)
		goto out;
	/* First supported algorithm in the platform's order of preference. */
	n = cbor_array_size(params);
	for (i = 0; i < n && alg == 0; i++) {
		const cbor_item_t *e = cbor_array_handle(params)[i], *t;

		if (!cbor_isa_map(e) || (t = cb_map_get_str(e, "type")) ==
		    NULL || cb_get_int(cb_map_get_str(e, "alg"), &a) < 0) {
			r = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
			goto out;
		}
		if (!cbor_isa_string(t) || cbor_string_length(t) != 10 ||
		    !cbor_string_is_definite(t) ||
		    memcmp(cbor_string_handle(t), "public-key", 10) != 0)
			continue;
		if (a == COSE_ES256 || (a == COSE_EDDSA && !tok->cfg.no_eddsa))
			alg = (int)a;
	}
	if (alg == 0) {
		r = CTAP2_ERR_UNSUPPORTED_ALGORITHM;
		goto out;
	}
	if ((r = parse_options(cb_map_get(req, 7), &up, &uv, &rk, &has_rk)) !=
	    CTAP_OK)
		goto out;
	if (uv || !up) {
		r = CTAP2_ERR_INVALID_OPTION;	/* no built-in UV; up:false */
		goto out;
	}
	if ((ext = cb_map_get(req, 6)) != NULL) {
		const cbor_item_t *v;

		if (!cbor_isa_map(ext)) {
			r = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
			goto out;
		}
		if ((v = cb_map_get_str(ext, "credProtect")) != NULL) {
			if (cb_get_uint(v, &cp) < 0) {
				r = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
				goto out;
			}
			if (cp < 1 || cp > 3) {
				r = CTAP1_ERR_INVALID_PARAMETER;
				goto out;
			}
		}
	}
	if (sha256(rp_id, strlen(rp_id), rp_id_hash) < 0) {
		r = CTAP1_ERR_OTHER;
		goto out;
	}
	/*
	 * PIN set, no token: 0x36, except for a non-resident credential when
	 * makeCredUvNotRqd is advertised (CTAP 2.1 §6.1.2 steps 7, 8, 10).
	 */
	if (pa == NULL && tok->pin_set && (rk || !tok->cfg.mc_uv_not_rqd)) {
		r = CTAP2_ERR_PUAT_REQUIRED;
		goto out;
	}
	if (pa != NULL) {
		if ((r = pin_uv_verify(tok, cb_map_get(req, 9), pin_param,
		    pin_param_len, cdh, 32, PERM_MC, rp_id)) != CTAP_OK)
			goto out;
		uv = 1;
	}
	if ((excl = cb_map_get(req, 5)) != NULL) {
		if (!cbor_isa_array(excl)) {
			r = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
			goto out;
		}
		n = cbor_array_size(excl);
		for (i = 0, found = 0; i < n && !found; i++) {
			r = parse_descriptor(cbor_array_handle(excl)[i], &id,
			    &id_len);
			if (r == 1)
				continue;
			if (r != CTAP_OK)
				goto out;
			if (find_cred(tok, rp_id_hash, id, id_len, &ref) == 0) {
				found = ref.cred_protect != 3 || uv;
				OPENSSL_cleanse(&ref, sizeof(ref));
			}
		}
		if (found) {
			/* After the touch, whatever its outcome (2.1 step 12). */
			if ((r = up_check(tok)) != CTAP_PENDING_UP)
				r = CTAP2_ERR_CREDENTIAL_EXCLUDED;
			goto out;
		}
	}
	if ((r = up_check(tok)) != CTAP_OK)
		goto out;

	/* The touch is done: from here on the token changes. */
	if (cred_keygen(tok, alg, priv) < 0 ||
	    cred_cose_pub(alg, priv, &cose) < 0 ||
	    cb_encode(cose, &cose_enc, &cose_len) < 0) {
		r = CTAP1_ERR_OTHER;
		goto out;
	}
	if (rk) {
		if ((r = store_rk(tok, rp_id, rp, user, uid, uid_len,
		    rp_id_hash, alg, priv, (uint8_t)cp, cred_id)) != CTAP_OK)
			goto out;
		cred_id_len = RK_ID_LEN;
	} else {
		if (cred_wrap(tok, rp_id_hash, alg, (uint8_t)cp, priv,
		    cred_id) < 0) {
			r = CTAP1_ERR_OTHER;
			goto out;
		}
		cred_id_len = WRAPPED_ID_LEN;
	}
	tok->counter++;
	if (tok->token_valid && uv)
		tok->token_perms &= tok->cfg.ctap21_pre ? 0xff :
		    (uint8_t)~(PERM_MC | PERM_GA);
	if (state_save(tok) < 0) {
		r = CTAP1_ERR_OTHER;
		goto out;
	}
	if (cp != 0) {
		if ((extm = cbor_new_definite_map(1)) == NULL ||
		    cb_put_str(extm, "credProtect", cb_int((int64_t)cp)) < 0 ||
		    cb_encode(extm, &ext_enc, &ext_len) < 0) {
			r = CTAP1_ERR_OTHER;
			goto out;
		}
	}
	flags = FLAG_UP | FLAG_AT | (uv ? FLAG_UV : 0) | (cp ? FLAG_ED : 0);
	auth_len = 37 + 16 + 2 + cred_id_len + cose_len + ext_len;
	if ((auth = malloc(auth_len)) == NULL ||
	    (tbs = malloc(auth_len + 32)) == NULL) {
		r = CTAP1_ERR_OTHER;
		goto out;
	}
	memcpy(auth, rp_id_hash, 32);
	auth[32] = flags;
	auth[33] = (uint8_t)(tok->counter >> 24);
	auth[34] = (uint8_t)(tok->counter >> 16);
	auth[35] = (uint8_t)(tok->counter >> 8);
	auth[36] = (uint8_t)tok->counter;
	memcpy(auth + 37, token_aaguid(tok), 16);
	auth[53] = (uint8_t)(cred_id_len >> 8);
	auth[54] = (uint8_t)cred_id_len;
	memcpy(auth + 55, cred_id, cred_id_len);
	memcpy(auth + 55 + cred_id_len, cose_enc, cose_len);
	if (ext_len > 0)
		memcpy(auth + 55 + cred_id_len + cose_len, ext_enc, ext_len);
	memcpy(tbs, auth, auth_len);
	memcpy(tbs + auth_len, cdh, 32);
	if ((att = cbor_new_definite_map(3)) == NULL) {
		r = CTAP1_ERR_OTHER;
		goto out;
	}
	if (tok->att_key != NULL) {
		if (att_sign(tok->att_key, tbs, auth_len + 32, sig,
		    &sig_len) < 0 ||
		    cb_put_str(att, "alg", cb_int(COSE_ES256)) < 0 ||
		    (x5c = cbor_new_definite_array(1)) == NULL ||
		    cb_push(x5c, cb_bytes(tok->att_cert,
		    tok->att_cert_len)) < 0 ||
		    cb_put_str(att, "x5c", x5c) < 0) {
			r = CTAP1_ERR_OTHER;
			goto out;
		}
	} else if (cred_sign(alg, priv, tbs, auth_len + 32, sig,
	    &sig_len) < 0 || cb_put_str(att, "alg", cb_int(alg)) < 0) {
		r = CTAP1_ERR_OTHER;
		goto out;
	}
	if (cb_put_str(att, "sig", cb_bytes(sig, sig_len)) < 0) {
		r = CTAP1_ERR_OTHER;
		goto out;
	}
	if ((m = cbor_new_definite_map(3)) == NULL ||
	    cb_put_int(m, 1, cb_text("packed")) < 0 ||
	    cb_put_int(m, 2, cb_bytes(auth, auth_len)) < 0 ||
	    cb_put_int(m, 3, att) < 0) {
		att = NULL;
		r = CTAP1_ERR_OTHER;
		goto out;
	}
	att = NULL;	/* transferred */
	r = ctap2_reply(m, resp, resp_len);
	m = NULL;	/* consumed */
out:
	OPENSSL_cleanse(priv, sizeof(priv));
	free(rp_id);
	free(auth);
	free(tbs);
	free(cose_enc);
	free(ext_enc);
	if (cose != NULL)
		cbor_decref(&cose);
	if (extm != NULL)
		cbor_decref(&extm);
	if (att != NULL)
		cbor_decref(&att);
	if (m != NULL)
		cbor_decref(&m);
	return r;
}

static int
reset(struct fidosim *tok)
{
	unsigned i;
	int r;

	if (now_ms(tok) - tok->power_on_ms > RESET_WINDOW_MS)
		return CTAP2_ERR_NOT_ALLOWED;
	if ((r = up_check(tok)) != CTAP_OK)
		return r;
	for (i = 0; i < tok->rk_cap; i++)
		rk_clear(&tok->rks[i]);
	if (rand_bytes(tok, tok->secret, sizeof(tok->secret)) < 0)
		return CTAP1_ERR_OTHER;
	tok->pin_set = 0;
	OPENSSL_cleanse(tok->pin_hash, sizeof(tok->pin_hash));
	tok->pin_retries = PIN_MAX_RETRIES;
	tok->pin_consecutive_fails = 0;
	tok->counter = 0;
	tok->rk_seq = 0;
	if (pin_token_reset(tok) < 0 || state_save(tok) < 0)
		return CTAP1_ERR_OTHER;
	return CTAP_OK;
}

static int
kind_of(uint8_t cmd)
{
	switch (cmd) {
	case CMD_MAKE_CRED:
		return FIDOSIM_CK_MAKE_CRED;
	case CMD_GET_ASSERT:
		return FIDOSIM_CK_GET_ASSERT;
	case CMD_GET_INFO:
		return FIDOSIM_CK_GET_INFO;
	case CMD_CLIENT_PIN:
		return FIDOSIM_CK_CLIENT_PIN;
	case CMD_RESET:
		return FIDOSIM_CK_RESET;
	case CMD_GET_NEXT:
		return FIDOSIM_CK_GET_NEXT;
	case CMD_CREDMAN:
	case CMD_CREDMAN_PRE:
		return FIDOSIM_CK_CREDMAN;
	case CMD_SELECTION:
		return FIDOSIM_CK_SELECTION;
	default:
		return FIDOSIM_CK_OTHER;
	}
}

/*
 * req = command byte || CBOR map.  Returns a CTAP status (resp holds status
 * byte + map when CTAP_OK) or CTAP_PENDING_UP.
 */
int
ctap2_dispatch(struct fidosim *tok, const uint8_t *req, size_t req_len,
    uint8_t *resp, size_t *resp_len)
{
	cbor_item_t *map = NULL;
	uint8_t cmd = req[0];
	int r;

	*resp_len = 0;
	/* Count each request once, not again when it re-runs after UP. */
	if (tok->up_forced == UP_NONE)
		tok->stats.ctap[kind_of(cmd)]++;
	if (req_len > CTAP_MAX_MSG_SIZE) {
		r = CTAP2_ERR_REQUEST_TOO_LARGE;
		goto out;
	}
	/* Enumeration state survives only the matching "next" commands. */
	if (cmd != CMD_GET_NEXT)
		ctap2_clear_next(tok);
	if (cmd != CMD_CREDMAN && cmd != CMD_CREDMAN_PRE)
		credman_clear(tok);
	if (req_len > 1) {
		if (cb_parse(req + 1, req_len - 1, &map) < 0) {
			r = CTAP2_ERR_INVALID_CBOR;
			goto out;
		}
		if (!cbor_isa_map(map)) {
			r = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
			goto out;
		}
	}
	switch (cmd) {
	case CMD_GET_INFO:
		r = ctap2_get_info(tok, resp, resp_len);
		break;
	case CMD_MAKE_CRED:
		r = map == NULL ? CTAP2_ERR_MISSING_PARAMETER :
		    make_credential(tok, map, resp, resp_len);
		break;
	case CMD_GET_ASSERT:
		r = map == NULL ? CTAP2_ERR_MISSING_PARAMETER :
		    ctap2_get_assertion(tok, map, resp, resp_len);
		break;
	case CMD_GET_NEXT:
		r = ctap2_get_next_assertion(tok, resp, resp_len);
		break;
	case CMD_CLIENT_PIN:
		r = map == NULL ? CTAP2_ERR_MISSING_PARAMETER :
		    ctap2_client_pin(tok, map, resp, resp_len);
		break;
	case CMD_CREDMAN:
	case CMD_CREDMAN_PRE:
		if (cmd == CMD_CREDMAN && tok->cfg.ctap21_pre)
			r = CTAP1_ERR_INVALID_COMMAND;	/* preview only */
		else
			r = map == NULL ? CTAP2_ERR_MISSING_PARAMETER :
			    ctap2_credman(tok, map, resp, resp_len);
		break;
	case CMD_RESET:
		r = reset(tok);
		break;
	case CMD_SELECTION:
		r = up_check(tok);
		break;
	default:
		r = CTAP1_ERR_INVALID_COMMAND;
		break;
	}
out:
	if (map != NULL)
		cbor_decref(&map);
	if (r != CTAP_OK && r != CTAP_PENDING_UP)
		*resp_len = 0;
	if (r == CTAP_OK && *resp_len == 0) {
		resp[0] = CTAP_OK;
		*resp_len = 1;
	}
	return r;
}

