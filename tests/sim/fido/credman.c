/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * credentialManagement (CTAP 2.1 §6.8), on both 0x0A and the preview
 * command 0x41 that libfido2 1.12 uses.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "fidosim-internal.h"

#define SUB_METADATA		0x01
#define SUB_RP_BEGIN		0x02
#define SUB_RP_NEXT		0x03
#define SUB_CRED_BEGIN		0x04
#define SUB_CRED_NEXT		0x05
#define SUB_DELETE		0x06
#define SUB_UPDATE_USER		0x07

void
credman_clear(struct fidosim *tok)
{
	free(tok->cm_rps);
	tok->cm_rps = NULL;
	tok->cm_rp_count = tok->cm_rp_index = 0;
	free(tok->cm_creds);
	tok->cm_creds = NULL;
	tok->cm_cred_count = tok->cm_cred_index = 0;
}

static int
rk_by_rp_hash(const struct fidosim *tok, const uint8_t *h)
{
	unsigned i;

	for (i = 0; i < tok->rk_cap; i++)
		if (tok->rks[i].used &&
		    memcmp(tok->rks[i].rp_id_hash, h, 32) == 0)
			return (int)i;
	return -1;
}

static int
rp_reply(struct fidosim *tok, const uint8_t *h, size_t total, uint8_t *resp,
    size_t *resp_len)
{
	const struct rk *rk;
	cbor_item_t *m = NULL, *rp;
	int i;

	if ((i = rk_by_rp_hash(tok, h)) < 0)
		return CTAP1_ERR_OTHER;
	rk = &tok->rks[i];
	if ((m = cbor_new_definite_map(3)) == NULL ||
	    (rp = cbor_new_definite_map(2)) == NULL)
		goto fail;
	if (cb_put_str(rp, "id", cb_text(rk->rp_id)) < 0 ||
	    (rk->rp_name != NULL &&
	    cb_put_str(rp, "name", cb_text(rk->rp_name)) < 0) ||
	    cb_put_int(m, 3, rp) < 0 ||
	    cb_put_int(m, 4, cb_bytes(h, 32)) < 0 ||
	    (total > 0 && cb_put_int(m, 5, cb_int((int64_t)total)) < 0))
		goto fail;
	return ctap2_reply(m, resp, resp_len);
fail:
	if (m != NULL)
		cbor_decref(&m);
	return CTAP1_ERR_OTHER;
}

static int
cred_reply(struct fidosim *tok, int idx, size_t total, uint8_t *resp,
    size_t *resp_len)
{
	const struct rk *rk = &tok->rks[idx];
	cbor_item_t *m = NULL, *u, *d, *pub = NULL;

	if ((m = cbor_new_definite_map(5)) == NULL ||
	    (u = cbor_new_definite_map(3)) == NULL)
		goto fail;
	if (cb_put_str(u, "id", cb_bytes(rk->user_id, rk->user_id_len)) < 0 ||
	    (rk->user_name != NULL &&
	    cb_put_str(u, "name", cb_text(rk->user_name)) < 0) ||
	    (rk->user_display != NULL &&
	    cb_put_str(u, "displayName", cb_text(rk->user_display)) < 0) ||
	    cb_put_int(m, 6, u) < 0)
		goto fail;
	if ((d = cbor_new_definite_map(2)) == NULL ||
	    cb_put_str(d, "id", cb_bytes(rk->id, RK_ID_LEN)) < 0 ||
	    cb_put_str(d, "type", cb_text("public-key")) < 0 ||
	    cb_put_int(m, 7, d) < 0)
		goto fail;
	if (cred_cose_pub(rk->alg, rk->priv, &pub) < 0 ||
	    cb_put_int(m, 8, pub) < 0)
		goto fail;
	if ((total > 0 && cb_put_int(m, 9, cb_int((int64_t)total)) < 0) ||
	    cb_put_int(m, 10, cb_int(rk->cred_protect ? rk->cred_protect :
	    1)) < 0)
		goto fail;
	return ctap2_reply(m, resp, resp_len);
fail:
	if (m != NULL)
		cbor_decref(&m);
	return CTAP1_ERR_OTHER;
}

static int
seq_desc(const void *a, const void *b, void *arg)
{
	const struct fidosim *tok = arg;
	const struct rk *x = &tok->rks[*(const int *)a];
	const struct rk *y = &tok->rks[*(const int *)b];

	return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

static int
rp_begin(struct fidosim *tok, uint8_t *resp, size_t *resp_len)
{
	unsigned i;
	size_t j, n = 0;

	if ((tok->cm_rps = calloc(tok->rk_cap, 32)) == NULL)
		return CTAP1_ERR_OTHER;
	for (i = 0; i < tok->rk_cap; i++) {
		if (!tok->rks[i].used)
			continue;
		for (j = 0; j < n; j++)
			if (memcmp(tok->cm_rps[j], tok->rks[i].rp_id_hash,
			    32) == 0)
				break;
		if (j == n)
			memcpy(tok->cm_rps[n++], tok->rks[i].rp_id_hash, 32);
	}
	if (n == 0) {
		credman_clear(tok);
		return CTAP2_ERR_NO_CREDENTIALS;
	}
	tok->cm_rp_count = n;
	tok->cm_rp_index = 1;
	return rp_reply(tok, tok->cm_rps[0], n, resp, resp_len);
}

static int
cred_begin(struct fidosim *tok, const uint8_t *h, uint8_t *resp,
    size_t *resp_len)
{
	unsigned i;
	size_t n = 0;

	if ((tok->cm_creds = calloc(tok->rk_cap, sizeof(int))) == NULL)
		return CTAP1_ERR_OTHER;
	for (i = 0; i < tok->rk_cap; i++)
		if (tok->rks[i].used &&
		    memcmp(tok->rks[i].rp_id_hash, h, 32) == 0)
			tok->cm_creds[n++] = (int)i;
	if (n == 0) {
		credman_clear(tok);
		return CTAP2_ERR_NO_CREDENTIALS;
	}
	qsort_r(tok->cm_creds, n, sizeof(int), seq_desc, tok);
	tok->cm_cred_count = n;
	tok->cm_cred_index = 1;
	return cred_reply(tok, tok->cm_creds[0], n, resp, resp_len);
}

static int
find_rk_by_descriptor(struct fidosim *tok, const cbor_item_t *d)
{
	const uint8_t *id;
	size_t id_len;
	unsigned i;

	if (d == NULL || !cbor_isa_map(d) ||
	    cb_get_bytes(cb_map_get_str(d, "id"), &id, &id_len) < 0)
		return -2;
	for (i = 0; i < tok->rk_cap; i++)
		if (tok->rks[i].used && id_len == RK_ID_LEN &&
		    memcmp(tok->rks[i].id, id, RK_ID_LEN) == 0)
			return (int)i;
	return -1;
}

/* Token bound to an RP: it may touch only that RP's credentials. */
static int
rp_allowed(const struct fidosim *tok, const uint8_t *h)
{
	uint8_t th[32];

	if (tok->token_rp_id == NULL)
		return 1;
	if (sha256(tok->token_rp_id, strlen(tok->token_rp_id), th) < 0)
		return 0;
	return memcmp(th, h, 32) == 0;
}

static int
update_user(struct fidosim *tok, int idx, const cbor_item_t *user)
{
	struct rk *rk = &tok->rks[idx];
	const uint8_t *uid;
	size_t uid_len;
	const cbor_item_t *v;
	char *name = NULL, *disp = NULL;

	if (user == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!cbor_isa_map(user) ||
	    cb_get_bytes(cb_map_get_str(user, "id"), &uid, &uid_len) < 0)
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if (uid_len != rk->user_id_len ||
	    memcmp(uid, rk->user_id, uid_len) != 0)
		return CTAP1_ERR_INVALID_PARAMETER;
	if (((v = cb_map_get_str(user, "name")) != NULL &&
	    cb_get_text(v, &name) < 0) ||
	    ((v = cb_map_get_str(user, "displayName")) != NULL &&
	    cb_get_text(v, &disp) < 0)) {
		free(name);
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	}
	/* Absent fields are removed (CTAP 2.1 §6.8.6). */
	free(rk->user_name);
	free(rk->user_display);
	rk->user_name = name;
	rk->user_display = disp;
	return state_save(tok) < 0 ? CTAP1_ERR_OTHER : CTAP_OK;
}

int
ctap2_credman(struct fidosim *tok, const cbor_item_t *req, uint8_t *resp,
    size_t *resp_len)
{
	const cbor_item_t *params = cb_map_get(req, 2), *pa = cb_map_get(req, 4);
	const uint8_t *param, *h;
	size_t param_len, len, h_len;
	uint8_t *msg = NULL, *enc = NULL;
	cbor_item_t *m;
	uint64_t sub;
	int r, idx;

	if (cb_map_get(req, 1) == NULL) {
		r = CTAP2_ERR_MISSING_PARAMETER;
		goto out;
	}
	if (cb_get_uint(cb_map_get(req, 1), &sub) < 0 ||
	    (params != NULL && !cbor_isa_map(params))) {
		r = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		goto out;
	}
	if (sub == SUB_RP_NEXT) {
		if (tok->cm_rps == NULL ||
		    tok->cm_rp_index >= tok->cm_rp_count) {
			r = CTAP2_ERR_NOT_ALLOWED;
			goto out;
		}
		r = rp_reply(tok, tok->cm_rps[tok->cm_rp_index++], 0, resp,
		    resp_len);
		goto out;
	}
	if (sub == SUB_CRED_NEXT) {
		if (tok->cm_creds == NULL ||
		    tok->cm_cred_index >= tok->cm_cred_count) {
			r = CTAP2_ERR_NOT_ALLOWED;
			goto out;
		}
		r = cred_reply(tok, tok->cm_creds[tok->cm_cred_index++], 0,
		    resp, resp_len);
		goto out;
	}
	credman_clear(tok);
	if (sub < SUB_METADATA || sub > SUB_UPDATE_USER) {
		r = CTAP2_ERR_INVALID_SUBCOMMAND;
		goto out;
	}
	/* Authenticated subcommands: auth(token, sub || params). */
	if (pa == NULL) {
		r = CTAP2_ERR_PUAT_REQUIRED;
		goto out;
	}
	if (cb_get_bytes(pa, &param, &param_len) < 0) {
		r = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		goto out;
	}
	if (cb_map_get(req, 3) == NULL) {
		r = CTAP2_ERR_MISSING_PARAMETER;
		goto out;
	}
	len = 0;
	if (params != NULL && cb_serialize(params, &enc, &len) < 0) {
		r = CTAP1_ERR_OTHER;
		goto out;
	}
	if ((msg = malloc(len + 1)) == NULL) {
		r = CTAP1_ERR_OTHER;
		goto out;
	}
	msg[0] = (uint8_t)sub;
	if (len > 0)
		memcpy(msg + 1, enc, len);
	if ((r = pin_uv_verify(tok, cb_map_get(req, 3), param, param_len, msg,
	    len + 1, PERM_CM, NULL)) != CTAP_OK)
		goto out;
	switch (sub) {
	case SUB_METADATA:
	case SUB_RP_BEGIN:
		if (tok->token_rp_id != NULL) {
			r = CTAP2_ERR_PIN_AUTH_INVALID;
			goto out;
		}
		break;
	}
	switch (sub) {
	case SUB_METADATA:
		idx = 0;
		for (unsigned i = 0; i < tok->rk_cap; i++)
			idx += tok->rks[i].used ? 1 : 0;
		if ((m = cbor_new_definite_map(2)) == NULL ||
		    cb_put_int(m, 1, cb_int(idx)) < 0 ||
		    cb_put_int(m, 2, cb_int((int64_t)tok->rk_cap - idx)) < 0) {
			if (m != NULL)
				cbor_decref(&m);
			r = CTAP1_ERR_OTHER;
			goto out;
		}
		r = ctap2_reply(m, resp, resp_len);
		break;
	case SUB_RP_BEGIN:
		r = rp_begin(tok, resp, resp_len);
		break;
	case SUB_CRED_BEGIN:
		if (cb_map_get(params, 1) == NULL) {
			r = CTAP2_ERR_MISSING_PARAMETER;
			goto out;
		}
		if (cb_get_bytes(cb_map_get(params, 1), &h, &h_len) < 0) {
			r = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
			goto out;
		}
		if (h_len != 32) {
			r = CTAP1_ERR_INVALID_PARAMETER;
			goto out;
		}
		if (!rp_allowed(tok, h)) {
			r = CTAP2_ERR_PIN_AUTH_INVALID;
			goto out;
		}
		r = cred_begin(tok, h, resp, resp_len);
		break;
	case SUB_DELETE:
	case SUB_UPDATE_USER:
		if (cb_map_get(params, 2) == NULL) {
			r = CTAP2_ERR_MISSING_PARAMETER;
			goto out;
		}
		if ((idx = find_rk_by_descriptor(tok,
		    cb_map_get(params, 2))) == -2) {
			r = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
			goto out;
		}
		if (idx < 0) {
			r = CTAP2_ERR_NO_CREDENTIALS;
			goto out;
		}
		if (!rp_allowed(tok, tok->rks[idx].rp_id_hash)) {
			r = CTAP2_ERR_PIN_AUTH_INVALID;
			goto out;
		}
		if (sub == SUB_UPDATE_USER) {
			r = update_user(tok, idx, cb_map_get(params, 3));
			goto out;
		}
		rk_clear(&tok->rks[idx]);
		r = state_save(tok) < 0 ? CTAP1_ERR_OTHER : CTAP_OK;
		break;
	}
out:
	free(msg);
	free(enc);
	return r;
}
