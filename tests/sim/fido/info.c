/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * getInfo and the YubiKey 5 profile the token shows (firmware version,
 * AAGUID) - CTAP 2.1 §6.4.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "fidosim-internal.h"

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

unsigned
rk_count(const struct fidosim *tok)
{
	unsigned i, n = 0;

	for (i = 0; i < tok->rk_cap; i++)
		n += tok->rks[i].used ? 1 : 0;
	return n;
}


int
ctap2_get_info(struct fidosim *tok, uint8_t *resp, size_t *resp_len)
{
	cbor_item_t *m = NULL, *a, *o, *alg;
	uint8_t maj, min, build;
	int fw, pre = tok->cfg.ctap21_pre;

	fw = token_fw(tok, &maj, &min, &build);
	if ((m = cbor_new_definite_map(16)) == NULL)
		goto fail;
	if ((a = cbor_new_definite_array(3)) == NULL ||
	    cb_push(a, cb_text("FIDO_2_0")) < 0 ||
	    cb_push(a, cb_text("FIDO_2_1_PRE")) < 0 ||
	    (!pre && cb_push(a, cb_text("FIDO_2_1")) < 0) ||
	    cb_put_int(m, 1, a) < 0)
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
	    (!pre && cb_put_str(o, "credMgmt", cb_bool(1)) < 0) ||
	    cb_put_str(o, "credentialMgmtPreview", cb_bool(1)) < 0 ||
	    (!pre && cb_put_str(o, "pinUvAuthToken", cb_bool(1)) < 0) ||
	    (tok->cfg.mc_uv_not_rqd &&
	    cb_put_str(o, "makeCredUvNotRqd", cb_bool(1)) < 0) ||
	    cb_put_int(m, 4, o) < 0)
		goto fail;
	if (cb_put_int(m, 5, cb_int(CTAP_MAX_MSG_SIZE)) < 0)
		goto fail;
	if ((a = cbor_new_definite_array(2)) == NULL ||
	    (!pre && cb_push(a, cb_int(2)) < 0) ||
	    cb_push(a, cb_int(1)) < 0 || cb_put_int(m, 6, a) < 0)
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
	/* Keys 0x0D, 0x0E and 0x14 are CTAP 2.1 additions. */
	if (!pre && (cb_put_int(m, 13, cb_int(PIN_MIN_LEN)) < 0 ||
	    cb_put_int(m, 14, cb_int(fw)) < 0 ||
	    cb_put_int(m, 20, cb_int(tok->rk_cap - rk_count(tok))) < 0))
		goto fail;
	return ctap2_reply(m, resp, resp_len);
fail:
	if (m != NULL)
		cbor_decref(&m);
	return CTAP1_ERR_OTHER;
}

