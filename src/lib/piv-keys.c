/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PIV key slots: what a slot holds (GET METADATA, certificate object),
 * GENERATE, ATTEST (+ the F9 device certificate), certificate objects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <ykpiv.h>

#include "piv-internal.h"

static void
cert_subject(const uint8_t *der, size_t len, char *out, size_t outlen)
{
	const unsigned char *p = der;
	X509 *x;

	out[0] = '\0';
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL)
		return;
	X509_NAME_oneline(X509_get_subject_name(x), out, (int)outlen);
	X509_free(x);
}

struct ykssh_err *
ykssh_piv_slot_status(struct ykssh_piv *piv, uint8_t slot,
    struct ykssh_piv_slot_status *st)
{
	struct piv_metadata md;
	struct ykssh_err *err;
	uint8_t *buf = NULL;
	const uint8_t *der;
	size_t len = PIV_REPLY_MAX, dlen;
	uint32_t obj = ykssh_piv_cert_object(slot);
	int found, sw;

	memset(st, 0, sizeof(*st));
	st->generated = -1;
	if (obj == 0)
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT, "slot %02x", slot);
	if ((buf = malloc(PIV_REPLY_MAX)) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	if ((err = ykssh_piv_get_metadata(piv, slot, buf, &len, &md,
	    &found)) != NULL)
		goto out;
	if (found) {
		st->has_key = 1;
		st->algorithm = md.algorithm;
		st->pin_policy = md.pin_policy;
		st->touch_policy = md.touch_policy;
		if (md.has & PIV_MD_HAS_ORIGIN)
			st->generated = md.origin == 1;
	}
	len = PIV_REPLY_MAX;
	if ((err = ykssh_piv_get_object(piv, obj, buf, &len, &sw)) != NULL)
		goto out;
	if (sw == PIV_SW_OK && len > 2) {
		st->has_cert = 1;
		if (ykssh_piv_certobj_parse(buf, len, &der, &dlen) == 0)
			cert_subject(der, dlen, st->subject,
			    sizeof(st->subject));
	} else if (sw != PIV_SW_OK && sw != 0x6a82) {
		err = ykssh_piv_sw_error(sw, "reading the slot certificate");
		goto out;
	}
out:
	free(buf);
	return err;
}

struct ykssh_err *
ykssh_piv_generate(struct ykssh_piv *piv, uint8_t slot, uint8_t alg,
    uint8_t pin_policy, uint8_t touch_policy, struct ykssh_sshkey **keyp)
{
	uint8_t cmd[16], *rsp = NULL;
	size_t n = 0, len = PIV_REPLY_MAX;
	struct ykssh_err *err = NULL;
	int sw;

	*keyp = NULL;
	if (alg == YKSSH_PIV_ALG_ED25519)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_UNSUPPORTED,
		    "Ed25519 PIV keys need YubiKey firmware 5.7 and libykpiv "
		    "2.5 or later (this is libykpiv %s; token firmware %s)",
		    YKPIV_VERSION_STRING, ykssh_piv_firmware(piv)),
		    "use --algorithm eccp256 (the default), or a FIDO2 "
		    "ed25519-sk key (ykssh enroll without --piv)");
	if (alg == YKSSH_PIV_ALG_ECCP384 && ykssh_piv_fw(piv) < 40000)
		return YKSSH_ERR(YKSSH_ERR_UNSUPPORTED, "ECC P-384 needs "
		    "firmware 4.0 or later (token: %s)",
		    ykssh_piv_firmware(piv));
	if ((pin_policy != 0 || touch_policy != 0) &&
	    ykssh_piv_fw(piv) < 40000)
		return YKSSH_ERR(YKSSH_ERR_UNSUPPORTED, "PIN and touch "
		    "policies need firmware 4.0 or later");
	cmd[n++] = 0xac;
	cmd[n++] = 0;
	cmd[n++] = 0x80;
	cmd[n++] = 1;
	cmd[n++] = alg;
	if (pin_policy != 0) {
		cmd[n++] = 0xaa;
		cmd[n++] = 1;
		cmd[n++] = pin_policy;
	}
	if (touch_policy != 0) {
		cmd[n++] = 0xab;
		cmd[n++] = 1;
		cmd[n++] = touch_policy;
	}
	cmd[1] = (uint8_t)(n - 2);
	if ((rsp = malloc(PIV_REPLY_MAX)) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	if ((err = ykssh_piv_apdu(piv, PIV_INS_GENERATE, 0, slot, cmd, n, rsp,
	    &len, &sw)) != NULL)
		goto out;
	if (sw == 0x6982) {
		err = YKSSH_ERR(YKSSH_ERR_AUTH_MGMT_KEY, "the token wants "
		    "management-key authentication to generate (SW 6982)");
		goto out;
	}
	if (sw == 0x6a80) {
		err = YKSSH_ERR(YKSSH_ERR_UNSUPPORTED, "the token (firmware "
		    "%s) refused algorithm %s with these policies (SW 6A80)",
		    ykssh_piv_firmware(piv), ykssh_piv_alg_name(alg));
		goto out;
	}
	if (sw != PIV_SW_OK) {
		err = ykssh_piv_sw_error(sw, "key generation");
		goto out;
	}
	if ((err = ykssh_piv_pubkey_parse(alg, rsp, len, 1, keyp)) != NULL)
		err = YKSSH_ERR_CAUSE(YKSSH_ERR_DEVICE, err, "the token's "
		    "GENERATE reply");
out:
	free(rsp);
	return err;
}

struct ykssh_err *
ykssh_piv_attest(struct ykssh_piv *piv, uint8_t slot, uint8_t **certp,
    size_t *certlenp, uint8_t **f9p, size_t *f9lenp)
{
	uint8_t *buf = NULL, *c = NULL, *f = NULL;
	const uint8_t *der;
	size_t len = PIV_REPLY_MAX, dlen;
	struct ykssh_err *err = NULL;
	int sw;

	*certp = *f9p = NULL;
	*certlenp = *f9lenp = 0;
	if (ykssh_piv_fw(piv) < 40300)
		return YKSSH_ERR(YKSSH_ERR_UNSUPPORTED, "attestation needs "
		    "firmware 4.3 or later (token: %s)",
		    ykssh_piv_firmware(piv));
	if ((buf = malloc(PIV_REPLY_MAX)) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	if ((err = ykssh_piv_apdu(piv, PIV_INS_ATTEST, slot, 0, NULL, 0, buf,
	    &len, &sw)) != NULL)
		goto out;
	if (sw != PIV_SW_OK) {
		err = ykssh_piv_sw_error(sw, "attestation");
		goto out;
	}
	if (len < 4 || buf[0] != 0x30 || (c = malloc(len)) == NULL) {
		err = YKSSH_ERR(c == NULL && len >= 4 && buf[0] == 0x30 ?
		    YKSSH_ERR_NOMEM : YKSSH_ERR_DEVICE, "the attestation is "
		    "not a certificate");
		goto out;
	}
	memcpy(c, buf, len);
	*certlenp = len;
	len = PIV_REPLY_MAX;
	if ((err = ykssh_piv_get_object(piv, PIV_OBJ_ATTEST, buf, &len,
	    &sw)) != NULL)
		goto out;
	if (sw == PIV_SW_OK && ykssh_piv_certobj_parse(buf, len, &der,
	    &dlen) == 0) {
		if ((f = malloc(dlen)) == NULL) {
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
			goto out;
		}
		memcpy(f, der, dlen);
		*f9lenp = dlen;
	}
	*certp = c;
	*f9p = f;
	c = f = NULL;	/* transferred */
out:
	if (err != NULL)
		*certlenp = *f9lenp = 0;
	free(c);
	free(f);
	free(buf);
	return err;
}

struct ykssh_err *
ykssh_piv_put_certificate(struct ykssh_piv *piv, uint8_t slot,
    const uint8_t *der, size_t len)
{
	uint8_t *obj;
	size_t n = 0;
	uint32_t id = ykssh_piv_cert_object(slot);
	struct ykssh_err *err;

	if (id == 0 || len == 0 || len > 3000)
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT, "certificate "
		    "for slot %02x (%zu bytes)", slot, len);
	if ((obj = malloc(len + 16)) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	/* 70 <DER> 71 01 00 (uncompressed) FE 00, as libykpiv writes. */
	obj[n++] = 0x70;
	n += ykssh_piv_put_len(obj + n, len);
	memcpy(obj + n, der, len);
	n += len;
	obj[n++] = 0x71;
	obj[n++] = 1;
	obj[n++] = 0;
	obj[n++] = 0xfe;
	obj[n++] = 0;
	err = ykssh_piv_put_object(piv, id, obj, n);
	free(obj);
	return err;
}
