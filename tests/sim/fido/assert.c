/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * getAssertion and getNextAssertion (CTAP 2.1 §6.2, §6.3).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "fidosim-internal.h"

void
ctap2_clear_next(struct fidosim *tok)
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
	ctap2_clear_next(tok);
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

int
ctap2_get_assertion(struct fidosim *tok, const cbor_item_t *req, uint8_t *resp,
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
		tok->token_perms &= tok->cfg.ctap21_pre ? 0xff :
		    (uint8_t)~(PERM_MC | PERM_GA);
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

int
ctap2_get_next_assertion(struct fidosim *tok, uint8_t *resp, size_t *resp_len)
{
	int r;

	if (tok->next_creds == NULL || tok->next_index >= tok->next_count ||
	    now_ms(tok) - tok->next_time > GETNEXT_WINDOW_MS) {
		ctap2_clear_next(tok);
		return CTAP2_ERR_NOT_ALLOWED;
	}
	r = assertion_reply(tok, &tok->next_creds[tok->next_index++],
	    tok->next_rp_id_hash, tok->next_cdh, tok->next_flags, 0,
	    tok->next_details, resp, resp_len);
	tok->next_time = now_ms(tok);
	return r;
}

