/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CTAP2 command dispatch, getInfo, makeCredential, getAssertion,
 * getNextAssertion, reset and selection (CTAP 2.1 §6).
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

#define FLAG_UP	0x01
#define FLAG_UV	0x04
#define FLAG_AT	0x40
#define FLAG_ED	0x80

/* YubiKey AAGUIDs (see the reference sheet §6.13). */
static const uint8_t aaguid_51[16] = {	/* cb69481e-8ff7-4039-93ec-... */
	0xcb, 0x69, 0x48, 0x1e, 0x8f, 0xf7, 0x40, 0x39,
	0x93, 0xec, 0x0a, 0x27, 0x29, 0xa1, 0x54, 0xa8,
};
static const uint8_t aaguid_52[16] = {	/* ee882879-721c-4913-9775-... */
	0xee, 0x88, 0x28, 0x79, 0x72, 0x1c, 0x49, 0x13,
	0x97, 0x75, 0x3d, 0xfc, 0xce, 0x97, 0x07, 0x2a,
};
static const uint8_t aaguid_57[16] = {	/* 19083c3d-8383-4b18-bc03-... */
	0x19, 0x08, 0x3c, 0x3d, 0x83, 0x83, 0x4b, 0x18,
	0xbc, 0x03, 0x8f, 0x1c, 0x9a, 0xb2, 0xfd, 0x1b,
};

const uint8_t *
token_aaguid(const struct fidosim *tok)
{
	if (tok->cfg.no_eddsa)
		return aaguid_51;
	return tok->rk_cap == 100 ? aaguid_57 : aaguid_52;
}

int
token_fw(const struct fidosim *tok, uint8_t *maj, uint8_t *min,
    uint8_t *build)
{
	*maj = 5;
	if (tok->cfg.no_eddsa) {
		*min = 1;
		*build = 2;
	} else if (tok->rk_cap == 100) {
		*min = 7;
		*build = 1;
	} else {
		*min = 4;
		*build = 3;
	}
	return (*maj << 16) | (*min << 8) | *build;
}

static unsigned
rk_count(const struct fidosim *tok)
{
	unsigned i, n = 0;

	for (i = 0; i < tok->rk_cap; i++)
		n += tok->rks[i].used ? 1 : 0;
	return n;
}

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

static int
get_info(struct fidosim *tok, uint8_t *resp, size_t *resp_len)
{
	cbor_item_t *m = NULL, *a, *o, *alg;
	uint8_t maj, min, build;
	int fw;

	fw = token_fw(tok, &maj, &min, &build);
	if ((m = cbor_new_definite_map(16)) == NULL)
		goto fail;
	if ((a = cbor_new_definite_array(3)) == NULL ||
	    cb_push(a, cb_text("FIDO_2_0")) < 0 ||
	    cb_push(a, cb_text("FIDO_2_1_PRE")) < 0 ||
	    cb_push(a, cb_text("FIDO_2_1")) < 0 || cb_put_int(m, 1, a) < 0)
		goto fail;
	if ((a = cbor_new_definite_array(1)) == NULL ||
	    cb_push(a, cb_text("credProtect")) < 0 || cb_put_int(m, 2, a) < 0)
		goto fail;
	if (cb_put_int(m, 3, cb_bytes(token_aaguid(tok), 16)) < 0)
		goto fail;
	if ((o = cbor_new_definite_map(8)) == NULL ||
	    cb_put_str(o, "rk", cb_bool(1)) < 0 ||
	    cb_put_str(o, "up", cb_bool(1)) < 0 ||
	    cb_put_str(o, "plat", cb_bool(0)) < 0 ||
	    cb_put_str(o, "clientPin", cb_bool(tok->pin_set)) < 0 ||
	    cb_put_str(o, "credMgmt", cb_bool(1)) < 0 ||
	    cb_put_str(o, "credentialMgmtPreview", cb_bool(1)) < 0 ||
	    cb_put_str(o, "pinUvAuthToken", cb_bool(1)) < 0 ||
	    cb_put_int(m, 4, o) < 0)
		goto fail;
	if (cb_put_int(m, 5, cb_int(CTAP_MAX_MSG_SIZE)) < 0)
		goto fail;
	if ((a = cbor_new_definite_array(2)) == NULL ||
	    cb_push(a, cb_int(2)) < 0 || cb_push(a, cb_int(1)) < 0 ||
	    cb_put_int(m, 6, a) < 0)
		goto fail;
	if (cb_put_int(m, 7, cb_int(8)) < 0 ||
	    cb_put_int(m, 8, cb_int(MAX_CRED_ID_LEN)) < 0)
		goto fail;
	if ((a = cbor_new_definite_array(1)) == NULL ||
	    cb_push(a, cb_text("usb")) < 0 || cb_put_int(m, 9, a) < 0)
		goto fail;
	if ((a = cbor_new_definite_array(2)) == NULL)
		goto fail;
	if ((alg = cbor_new_definite_map(2)) == NULL ||
	    cb_put_str(alg, "alg", cb_int(COSE_ES256)) < 0 ||
	    cb_put_str(alg, "type", cb_text("public-key")) < 0 ||
	    cb_push(a, alg) < 0) {
		cbor_decref(&a);
		goto fail;
	}
	if (!tok->cfg.no_eddsa &&
	    ((alg = cbor_new_definite_map(2)) == NULL ||
	    cb_put_str(alg, "alg", cb_int(COSE_EDDSA)) < 0 ||
	    cb_put_str(alg, "type", cb_text("public-key")) < 0 ||
	    cb_push(a, alg) < 0)) {
		cbor_decref(&a);
		goto fail;
	}
	if (cb_put_int(m, 10, a) < 0)
		goto fail;
	if (cb_put_int(m, 13, cb_int(PIN_MIN_LEN)) < 0 ||
	    cb_put_int(m, 14, cb_int(fw)) < 0 ||
	    cb_put_int(m, 20, cb_int(tok->rk_cap - rk_count(tok))) < 0)
		goto fail;
	return ctap2_reply(m, resp, resp_len);
fail:
	if (m != NULL)
		cbor_decref(&m);
	return CTAP1_ERR_OTHER;
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
static int
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
static int
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
static int
touch_probe(struct fidosim *tok)
{
	int r = up_check(tok);

	if (r == CTAP_PENDING_UP)
		return r;
	if (r != CTAP_OK)
		return CTAP2_ERR_OPERATION_DENIED;
	return tok->pin_set ? CTAP2_ERR_PIN_INVALID : CTAP2_ERR_PIN_NOT_SET;
}

static int
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
	/* With a PIN set, makeCredUvNotRqd is absent: a token is needed. */
	if (pa == NULL && tok->pin_set) {
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
		tok->token_perms &= (uint8_t)~(PERM_MC | PERM_GA);
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

static void
clear_next(struct fidosim *tok)
{
	if (tok->next_creds != NULL) {
		OPENSSL_cleanse(tok->next_creds,
		    tok->next_count * sizeof(*tok->next_creds));
		free(tok->next_creds);
	}
	tok->next_creds = NULL;
	tok->next_count = tok->next_index = 0;
}

void
ctap2_clear_volatile(struct fidosim *tok)
{
	clear_next(tok);
	credman_clear(tok);
}

/*
 * One assertion for ref; ncreds > 1 adds numberOfCredentials.  details:
 * user name/displayName may be returned (UV done, several accounts).
 */
static int
assertion_reply(struct fidosim *tok, const struct cred_ref *ref,
    const uint8_t *rp_id_hash, const uint8_t *cdh, uint8_t flags,
    size_t ncreds, int details, uint8_t *resp, size_t *resp_len)
{
	cbor_item_t *m = NULL, *d, *u;
	uint8_t tbs[37 + 32], sig[80];
	size_t sig_len;
	int r = CTAP1_ERR_OTHER;

	tok->counter++;
	if (state_save(tok) < 0)
		goto out;
	memcpy(tbs, rp_id_hash, 32);
	tbs[32] = flags;
	tbs[33] = (uint8_t)(tok->counter >> 24);
	tbs[34] = (uint8_t)(tok->counter >> 16);
	tbs[35] = (uint8_t)(tok->counter >> 8);
	tbs[36] = (uint8_t)tok->counter;
	memcpy(tbs + 37, cdh, 32);
	if (cred_sign(ref->alg, ref->priv, tbs, sizeof(tbs), sig,
	    &sig_len) < 0)
		goto out;
	if ((m = cbor_new_definite_map(5)) == NULL ||
	    (d = cbor_new_definite_map(2)) == NULL)
		goto out;
	if (cb_put_str(d, "id", cb_bytes(ref->id, ref->id_len)) < 0 ||
	    cb_put_str(d, "type", cb_text("public-key")) < 0 ||
	    cb_put_int(m, 1, d) < 0 ||
	    cb_put_int(m, 2, cb_bytes(tbs, 37)) < 0 ||
	    cb_put_int(m, 3, cb_bytes(sig, sig_len)) < 0)
		goto out;
	if (ref->rk_index >= 0) {
		const struct rk *rk = &tok->rks[ref->rk_index];

		if ((u = cbor_new_definite_map(3)) == NULL ||
		    cb_put_str(u, "id", cb_bytes(rk->user_id,
		    rk->user_id_len)) < 0 ||
		    (details && rk->user_name != NULL &&
		    cb_put_str(u, "name", cb_text(rk->user_name)) < 0) ||
		    (details && rk->user_display != NULL &&
		    cb_put_str(u, "displayName",
		    cb_text(rk->user_display)) < 0) ||
		    cb_put_int(m, 4, u) < 0)
			goto out;
	}
	if (ncreds > 1 && cb_put_int(m, 5, cb_int((int64_t)ncreds)) < 0)
		goto out;
	r = ctap2_reply(m, resp, resp_len);
	m = NULL;	/* consumed */
out:
	if (m != NULL)
		cbor_decref(&m);
	return r;
}

static int
seq_cmp(const void *a, const void *b)
{
	const struct rk *const *x = a, *const *y = b;

	return (*x)->seq < (*y)->seq ? 1 : (*x)->seq > (*y)->seq ? -1 : 0;
}

static int
get_assertion(struct fidosim *tok, const cbor_item_t *req, uint8_t *resp,
    size_t *resp_len)
{
	const cbor_item_t *allow, *pa;
	const uint8_t *cdh, *pin_param = NULL, *id;
	size_t cdh_len, pin_param_len = 0, id_len, i, n, count = 0;
	struct cred_ref *creds = NULL;
	struct rk **sorted = NULL;
	uint8_t rp_id_hash[32];
	char *rp_id = NULL;
	int up = 1, uv = 0, rk = 0, has_rk = 0, details, r;

	if (cb_map_get(req, 1) == NULL || cb_map_get(req, 2) == NULL) {
		r = CTAP2_ERR_MISSING_PARAMETER;
		goto out;
	}
	if (cb_get_text(cb_map_get(req, 1), &rp_id) < 0 ||
	    cb_get_bytes(cb_map_get(req, 2), &cdh, &cdh_len) < 0) {
		r = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		goto out;
	}
	if (cdh_len != 32) {
		r = CTAP1_ERR_INVALID_LENGTH;
		goto out;
	}
	if ((pa = cb_map_get(req, 6)) != NULL &&
	    cb_get_bytes(pa, &pin_param, &pin_param_len) < 0) {
		r = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		goto out;
	}
	if (pa != NULL && pin_param_len == 0) {
		r = touch_probe(tok);
		goto out;
	}
	if (pa != NULL && (r = check_protocol(cb_map_get(req, 7))) != CTAP_OK)
		goto out;
	if ((r = parse_options(cb_map_get(req, 5), &up, &uv, &rk, &has_rk)) !=
	    CTAP_OK)
		goto out;
	if (has_rk) {
		r = CTAP2_ERR_UNSUPPORTED_OPTION;
		goto out;
	}
	if (uv) {
		r = CTAP2_ERR_INVALID_OPTION;
		goto out;
	}
	if (pa != NULL) {
		if ((r = pin_uv_verify(tok, cb_map_get(req, 7), pin_param,
		    pin_param_len, cdh, 32, PERM_GA, rp_id)) != CTAP_OK)
			goto out;
		uv = 1;
	}
	if (sha256(rp_id, strlen(rp_id), rp_id_hash) < 0) {
		r = CTAP1_ERR_OTHER;
		goto out;
	}
	if ((creds = calloc(tok->rk_cap + 1, sizeof(*creds))) == NULL) {
		r = CTAP1_ERR_OTHER;
		goto out;
	}
	if ((allow = cb_map_get(req, 3)) != NULL) {
		if (!cbor_isa_array(allow)) {
			r = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
			goto out;
		}
		n = cbor_array_size(allow);
		/* The first usable credential of the list is used. */
		for (i = 0; i < n && count == 0; i++) {
			r = parse_descriptor(cbor_array_handle(allow)[i], &id,
			    &id_len);
			if (r == 1)
				continue;
			if (r != CTAP_OK)
				goto out;
			if (find_cred(tok, rp_id_hash, id, id_len,
			    &creds[0]) < 0)
				continue;
			if (creds[0].cred_protect == 3 && !uv) {
				OPENSSL_cleanse(&creds[0], sizeof(creds[0]));
				continue;
			}
			count = 1;
		}
	} else {
		if ((sorted = calloc(tok->rk_cap, sizeof(*sorted))) == NULL) {
			r = CTAP1_ERR_OTHER;
			goto out;
		}
		for (i = 0, n = 0; i < tok->rk_cap; i++) {
			struct rk *k = &tok->rks[i];

			if (!k->used || memcmp(k->rp_id_hash, rp_id_hash,
			    32) != 0)
				continue;
			/* credProtect 2 and 3 hide it from discovery w/o UV */
			if (k->cred_protect >= 2 && !uv)
				continue;
			sorted[n++] = k;
		}
		qsort(sorted, n, sizeof(*sorted), seq_cmp);
		for (i = 0; i < n; i++) {
			struct cred_ref *c = &creds[count++];

			c->rk_index = (int)(sorted[i] - tok->rks);
			memcpy(c->id, sorted[i]->id, RK_ID_LEN);
			c->id_len = RK_ID_LEN;
			c->alg = sorted[i]->alg;
			memcpy(c->priv, sorted[i]->priv, 32);
			c->cred_protect = sorted[i]->cred_protect;
		}
	}
	if (count == 0) {
		r = CTAP2_ERR_NO_CREDENTIALS;
		goto out;
	}
	if (up && (r = up_check(tok)) != CTAP_OK)
		goto out;
	if (uv && tok->token_valid)
		tok->token_perms &= (uint8_t)~(PERM_MC | PERM_GA);
	/* User name/displayName: only with UV and several accounts. */
	details = uv && allow == NULL && count > 1;
	r = assertion_reply(tok, &creds[0], rp_id_hash, cdh,
	    (uint8_t)((up ? FLAG_UP : 0) | (uv ? FLAG_UV : 0)),
	    allow == NULL ? count : 1, details, resp, resp_len);
	if (r == CTAP_OK && allow == NULL && count > 1) {
		tok->next_creds = creds;
		creds = NULL;	/* transferred */
		tok->next_count = count;
		tok->next_index = 1;
		memcpy(tok->next_cdh, cdh, 32);
		memcpy(tok->next_rp_id_hash, rp_id_hash, 32);
		tok->next_flags = (uint8_t)((up ? FLAG_UP : 0) |
		    (uv ? FLAG_UV : 0));
		tok->next_time = now_ms(tok);
		tok->next_details = details;
	}
out:
	if (creds != NULL) {
		OPENSSL_cleanse(creds, (tok->rk_cap + 1) * sizeof(*creds));
		free(creds);
	}
	free(sorted);
	free(rp_id);
	return r;
}

static int
get_next_assertion(struct fidosim *tok, uint8_t *resp, size_t *resp_len)
{
	int r;

	if (tok->next_creds == NULL || tok->next_index >= tok->next_count ||
	    now_ms(tok) - tok->next_time > GETNEXT_WINDOW_MS) {
		clear_next(tok);
		return CTAP2_ERR_NOT_ALLOWED;
	}
	r = assertion_reply(tok, &tok->next_creds[tok->next_index++],
	    tok->next_rp_id_hash, tok->next_cdh, tok->next_flags, 0,
	    tok->next_details, resp, resp_len);
	tok->next_time = now_ms(tok);
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
		clear_next(tok);
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
		r = get_info(tok, resp, resp_len);
		break;
	case CMD_MAKE_CRED:
		r = map == NULL ? CTAP2_ERR_MISSING_PARAMETER :
		    make_credential(tok, map, resp, resp_len);
		break;
	case CMD_GET_ASSERT:
		r = map == NULL ? CTAP2_ERR_MISSING_PARAMETER :
		    get_assertion(tok, map, resp, resp_len);
		break;
	case CMD_GET_NEXT:
		r = get_next_assertion(tok, resp, resp_len);
		break;
	case CMD_CLIENT_PIN:
		r = map == NULL ? CTAP2_ERR_MISSING_PARAMETER :
		    ctap2_client_pin(tok, map, resp, resp_len);
		break;
	case CMD_CREDMAN:
	case CMD_CREDMAN_PRE:
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
