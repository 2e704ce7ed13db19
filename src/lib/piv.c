/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PIV: reader and card, device facts, the checked APDU helper, PIN.
 * libykpiv and PC/SC errors are translated here (one function), keeping
 * ykpiv_strerror_name() in the message.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ykpiv.h>

#include "piv-internal.h"

#define READERS_MAX	4096

struct ykssh_piv {
	struct ykssh_ctx	*ctx;
	ykpiv_state		*st;
	char			 reader[256];
	char			 firmware[16];
	char			 model[32];
	unsigned		 fw;
	uint32_t		 serial;
	unsigned long		 apdus;
	uint8_t			 mgmt_alg;	/* 0: not read yet */
};

/* libykpiv → ykssh, at the boundary. */
static struct ykssh_err *
ykpiv_error(ykpiv_rc rc, const char *what)
{
	int code;

	switch (rc) {
	case YKPIV_MEMORY_ERROR:
		code = YKSSH_ERR_NOMEM;
		break;
	case YKPIV_WRONG_PIN:
		code = YKSSH_ERR_PIN_INVALID;
		break;
	case YKPIV_PIN_LOCKED:
		code = YKSSH_ERR_PIN_BLOCKED;
		break;
	case YKPIV_AUTHENTICATION_ERROR:
		code = YKSSH_ERR_AUTH_MGMT_KEY;
		break;
	case YKPIV_NOT_SUPPORTED:
	case YKPIV_ALGORITHM_ERROR:
		code = YKSSH_ERR_UNSUPPORTED;
		break;
	default:
		code = YKSSH_ERR_DEVICE;
		break;
	}
	return YKSSH_ERR(code, "%s: %s (%s)", what, ykpiv_strerror(rc),
	    ykpiv_strerror_name(rc));
}

struct ykssh_err *
ykssh_piv_sw_error(int sw, const char *what)
{
	switch (sw) {
	case 0x6982:
		return YKSSH_ERR(YKSSH_ERR_AUTH_MGMT_KEY, "%s: security "
		    "status not satisfied (SW 6982)", what);
	case 0x6983:
		return YKSSH_ERR(YKSSH_ERR_PIN_BLOCKED, "%s: blocked "
		    "(SW 6983)", what);
	case 0x6a80:
		return YKSSH_ERR(YKSSH_ERR_UNSUPPORTED, "%s: the token "
		    "refused the data (SW 6A80)", what);
	case 0x6d00:
		return YKSSH_ERR(YKSSH_ERR_UNSUPPORTED, "%s: instruction not "
		    "supported by this firmware (SW 6D00)", what);
	default:
		if ((sw & 0xfff0) == 0x63c0)
			return YKSSH_ERR(YKSSH_ERR_PIN_INVALID, "%s: wrong "
			    "(%d tries left)", what, sw & 0x0f);
		return YKSSH_ERR(YKSSH_ERR_DEVICE, "%s failed (SW %04X)",
		    what, (unsigned)sw);
	}
}

struct ykssh_err *
ykssh_piv_apdu(struct ykssh_piv *piv, uint8_t ins, uint8_t p1, uint8_t p2,
    const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen, int *swp)
{
	unsigned char templ[4] = { 0, ins, p1, p2 };
	unsigned char *buf = NULL;
	unsigned long n = PIV_REPLY_MAX;
	ykpiv_rc rc;
	int sw = 0;
	struct ykssh_err *err = NULL;

	*swp = 0;
	if (inlen > 0xffff || (out != NULL && outlen == NULL))
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT, "APDU sizes");
	if ((buf = calloc(1, PIV_REPLY_MAX)) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	piv->apdus++;
	rc = ykpiv_transfer_data(piv->st, templ, in, (long)inlen, buf, &n,
	    &sw);
	ykssh_debug(piv->ctx, "INS %02X P1 %02X P2 %02X: %zu bytes out, "
	    "%lu in, SW %04X", ins, p1, p2, inlen, n, (unsigned)sw);
	if (rc != YKPIV_OK) {
		err = ykpiv_error(rc, "card communication");
		goto out;
	}
	/* libykpiv says OK with SW 0000 when the card went away. */
	if (sw == 0 || n > PIV_REPLY_MAX) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_DEVICE,
		    "the card stopped answering (INS %02X)", ins),
		    "check that the YubiKey is still plugged in");
		goto out;
	}
	if (out != NULL) {
		if (n > *outlen) {
			err = YKSSH_ERR(YKSSH_ERR_DEVICE, "card reply of %lu "
			    "bytes is too long (INS %02X)", n, ins);
			goto out;
		}
		memcpy(out, buf, n);
		*outlen = n;
	}
	*swp = sw;
out:
	ykssh_freezero(buf, PIV_REPLY_MAX);
	return err;
}

static size_t
put_object_id(uint8_t *p, uint32_t id)
{
	p[0] = 0x5c;
	if (id == 0x7e) {
		p[1] = 1;
		p[2] = 0x7e;
		return 3;
	}
	p[1] = 3;
	p[2] = (uint8_t)(id >> 16);
	p[3] = (uint8_t)(id >> 8);
	p[4] = (uint8_t)id;
	return 5;
}

struct ykssh_err *
ykssh_piv_get_object(struct ykssh_piv *piv, uint32_t id, uint8_t *out,
    size_t *outlen, int *swp)
{
	uint8_t cmd[5];

	return ykssh_piv_apdu(piv, PIV_INS_GET_DATA, 0x3f, 0xff, cmd,
	    put_object_id(cmd, id), out, outlen, swp);
}

struct ykssh_err *
ykssh_piv_put_object(struct ykssh_piv *piv, uint32_t id, const uint8_t *val,
    size_t len)
{
	uint8_t *cmd;
	size_t n;
	int sw;
	struct ykssh_err *err;

	if (len > 3063)
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT, "object of %zu "
		    "bytes is too large", len);
	if ((cmd = malloc(len + 16)) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	n = put_object_id(cmd, id);
	cmd[n++] = 0x53;
	n += ykssh_piv_put_len(cmd + n, len);
	memcpy(cmd + n, val, len);
	n += len;
	err = ykssh_piv_apdu(piv, PIV_INS_PUT_DATA, 0x3f, 0xff, cmd, n, NULL,
	    NULL, &sw);
	ykssh_freezero(cmd, len + 16);
	if (err == NULL && sw != PIV_SW_OK)
		err = ykssh_piv_sw_error(sw, "storing a data object");
	return err;
}

struct ykssh_err *
ykssh_piv_get_metadata(struct ykssh_piv *piv, uint8_t ref, uint8_t *buf,
    size_t *lenp, struct piv_metadata *md, int *foundp)
{
	struct ykssh_err *err;
	int sw;

	*foundp = 0;
	memset(md, 0, sizeof(*md));
	if (piv->fw < 50300)
		return NULL;
	if ((err = ykssh_piv_apdu(piv, PIV_INS_METADATA, 0, ref, NULL, 0,
	    buf, lenp, &sw)) != NULL)
		return err;
	if (sw == 0x6a88 || sw == 0x6d00 || sw == 0x6b00)
		return NULL;
	if (sw != PIV_SW_OK)
		return ykssh_piv_sw_error(sw, "GET METADATA");
	if (ykssh_piv_metadata_parse(buf, *lenp, md) != 0)
		return YKSSH_ERR(YKSSH_ERR_DEVICE, "malformed metadata for "
		    "%02X", ref);
	*foundp = 1;
	return NULL;
}

static int
name_matches(const char *name, const char *want)
{
	return strcasestr(name, want) != NULL;
}

/* Picks the reader: exact name, else substring; default Yubico/YubiKey. */
static struct ykssh_err *
pick_reader(struct ykssh_piv *piv, const char *want)
{
	char *list = NULL, *p, *pick = NULL;
	size_t len = READERS_MAX;
	ykpiv_rc rc;
	struct ykssh_err *err = NULL;
	int n = 0;

	if ((list = calloc(1, READERS_MAX)) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	rc = ykpiv_list_readers(piv->st, list, &len);
	if (rc != YKPIV_OK || len <= 1 || list[0] == '\0') {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_DEVICE_NOT_FOUND,
		    "no smart-card reader found (%s)", rc != YKPIV_OK ?
		    ykpiv_strerror_name(rc) : "empty list"),
		    "plug in the YubiKey; is pcscd running?");
		goto out;
	}
	list[READERS_MAX - 1] = '\0';
	for (p = list; p < list + len && *p != '\0'; p += strlen(p) + 1) {
		n++;
		if (want != NULL && strcmp(p, want) == 0) {
			pick = p;
			break;
		}
		if (pick != NULL)
			continue;
		if (want != NULL ? name_matches(p, want) :
		    (name_matches(p, "Yubico") || name_matches(p, "YubiKey")))
			pick = p;
	}
	if (pick == NULL) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_DEVICE_NOT_FOUND,
		    "no reader %s%s%s among %d", want != NULL ? "named \"" :
		    "of a YubiKey", want != NULL ? want : "",
		    want != NULL ? "\"" : "", n), want != NULL ?
		    "list the readers with 'opensc-tool -l' or "
		    "'pcsc_scan'" : "plug in the YubiKey, or name the "
		    "reader with --reader");
		goto out;
	}
	snprintf(piv->reader, sizeof(piv->reader), "%s", pick);
out:
	free(list);
	return err;
}

struct ykssh_err *
ykssh_piv_open(struct ykssh_ctx *ctx, const char *reader,
    struct ykssh_piv **pivp)
{
	struct ykssh_piv *piv = NULL;
	struct ykssh_err *err = NULL;
	char at[260];
	unsigned a = 0, b = 0, c = 0;
	ykpiv_rc rc;

	*pivp = NULL;
	if ((piv = calloc(1, sizeof(*piv))) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	piv->ctx = ctx;
	if ((rc = ykpiv_init(&piv->st, 0)) != YKPIV_OK) {
		piv->st = NULL;
		err = ykpiv_error(rc, "libykpiv init");
		goto out;
	}
	if ((err = pick_reader(piv, reader)) != NULL)
		goto out;
	snprintf(at, sizeof(at), "@%s", piv->reader);
	if ((rc = ykpiv_connect(piv->st, at)) != YKPIV_OK) {
		if (rc == YKPIV_PCSC_ERROR)
			err = ykssh_err_hint(YKSSH_ERR(
			    YKSSH_ERR_DEVICE_NOT_FOUND, "no card in reader "
			    "\"%s\" (%s)", piv->reader,
			    ykpiv_strerror_name(rc)), "insert the YubiKey "
			    "(or check that no other program holds it)");
		else
			err = ykssh_err_hint(YKSSH_ERR(
			    YKSSH_ERR_DEVICE_NOT_FOUND, "the card in \"%s\" "
			    "is not a PIV card (%s)", piv->reader,
			    ykpiv_strerror_name(rc)), "use a YubiKey with "
			    "the PIV application enabled (ykman config)");
		goto out;
	}
	piv->apdus += 3;	/* SELECT, VERIFY status, GET VERSION */
	if ((rc = ykpiv_get_version(piv->st, piv->firmware,
	    sizeof(piv->firmware))) != YKPIV_OK ||
	    sscanf(piv->firmware, "%u.%u.%u", &a, &b, &c) != 3) {
		err = ykpiv_error(rc, "reading the firmware version");
		goto out;
	}
	piv->fw = a * 10000 + b * 100 + c;
	if (ykpiv_get_serial(piv->st, &piv->serial) != YKPIV_OK)
		piv->serial = 0;
	else
		piv->apdus++;
	snprintf(piv->model, sizeof(piv->model), "%s",
	    ykpiv_util_devicemodel(piv->st) == DEVTYPE_YK5 ? "YubiKey 5" :
	    ykpiv_util_devicemodel(piv->st) == DEVTYPE_YK4 ? "YubiKey 4" :
	    "PIV token");
	ykssh_debug(ctx, "reader \"%s\", firmware %s, serial %u",
	    piv->reader, piv->firmware, (unsigned)piv->serial);
	*pivp = piv;
	piv = NULL;	/* transferred */
out:
	ykssh_piv_close(piv);
	return err;
}

void
ykssh_piv_close(struct ykssh_piv *piv)
{
	if (piv == NULL)
		return;
	/* ykpiv_done disconnects with SCARD_RESET_CARD: PIN unverified. */
	if (piv->st != NULL)
		ykpiv_done(piv->st);
	explicit_bzero(piv, sizeof(*piv));
	free(piv);
}

const char *
ykssh_piv_reader(const struct ykssh_piv *piv)
{
	return piv->reader;
}

const char *
ykssh_piv_firmware(const struct ykssh_piv *piv)
{
	return piv->firmware;
}

const char *
ykssh_piv_model(const struct ykssh_piv *piv)
{
	return piv->model;
}

uint32_t
ykssh_piv_serial(const struct ykssh_piv *piv)
{
	return piv->serial;
}

unsigned
ykssh_piv_fw(const struct ykssh_piv *piv)
{
	return piv->fw;
}

unsigned long
ykssh_piv_apdus(const struct ykssh_piv *piv)
{
	return piv->apdus;
}

struct ykssh_ctx *
ykssh_piv_ctx(struct ykssh_piv *piv)
{
	return piv->ctx;
}

uint8_t
ykssh_piv_mgmt_alg_cached(const struct ykssh_piv *piv)
{
	return piv->mgmt_alg;
}

void
ykssh_piv_set_mgmt_alg(struct ykssh_piv *piv, uint8_t alg)
{
	piv->mgmt_alg = alg;
}

void *
ykssh_piv_state(struct ykssh_piv *piv)
{
	return piv->st;
}

struct ykssh_err *
ykssh_piv_pin_status(struct ykssh_piv *piv, struct ykssh_piv_pin_status *st)
{
	struct piv_metadata md;
	struct ykssh_err *err;
	uint8_t buf[64];
	size_t len;
	int found, sw;

	st->pin_retries = st->puk_retries = -1;
	st->pin_default = st->puk_default = -1;
	st->pin_verified = 0;
	len = sizeof(buf);
	if ((err = ykssh_piv_get_metadata(piv, 0x80, buf, &len, &md,
	    &found)) != NULL)
		return err;
	if (found && (md.has & PIV_MD_HAS_RETRIES))
		st->pin_retries = md.retries_left;
	if (found && (md.has & PIV_MD_HAS_DEFAULT))
		st->pin_default = md.is_default != 0;
	len = sizeof(buf);
	if ((err = ykssh_piv_get_metadata(piv, 0x81, buf, &len, &md,
	    &found)) != NULL)
		return err;
	if (found && (md.has & PIV_MD_HAS_RETRIES))
		st->puk_retries = md.retries_left;
	if (found && (md.has & PIV_MD_HAS_DEFAULT))
		st->puk_default = md.is_default != 0;
	/* Empty VERIFY: 9000 verified, 63Cx not (x left), 6983 blocked. */
	if ((err = ykssh_piv_apdu(piv, PIV_INS_VERIFY, 0, 0x80, NULL, 0,
	    NULL, NULL, &sw)) != NULL)
		return err;
	if (sw == PIV_SW_OK)
		st->pin_verified = 1;
	else if ((sw & 0xfff0) == 0x63c0 && st->pin_retries < 0)
		st->pin_retries = sw & 0x0f;
	else if (sw == 0x6983)
		st->pin_retries = 0;
	return NULL;
}

struct ykssh_err *
ykssh_piv_verify_pin(struct ykssh_piv *piv, const struct ykssh_secret *pin,
    int allow_last)
{
	struct ykssh_piv_pin_status ps;
	struct ykssh_err *err;
	size_t len = pin != NULL ? ykssh_secret_len(pin) : 0;
	int tries = -1;
	ykpiv_rc rc;

	if ((err = ykssh_piv_pin_status(piv, &ps)) != NULL)
		return err;
	if (ps.pin_retries == 0)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_PIN_BLOCKED,
		    "the PIV PIN is blocked"), "unblock it with the PUK: "
		    "yubico-piv-tool -a unblock-pin (or ykman piv access "
		    "unblock-pin)");
	if (ps.pin_retries == 1 && !allow_last)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_PIN_REQUIRED,
		    "one PIN attempt left: ykssh did not use it"),
		    "a wrong PIN now blocks the PIN; run again and confirm "
		    "if you are sure of the PIN");
	if (len < 6 || len > YKSSH_PIV_PIN_MAX)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_PIN_POLICY,
		    "a PIV PIN has 6 to 8 characters"), "no attempt was "
		    "used; enter the PIV PIN (not the FIDO PIN)");
	rc = ykpiv_verify(piv->st, ykssh_secret_str(pin), &tries);
	piv->apdus++;
	if (rc == YKPIV_WRONG_PIN && tries == 0)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_PIN_BLOCKED,
		    "wrong PIV PIN: the PIN is now blocked"), "unblock it "
		    "with the PUK: yubico-piv-tool -a unblock-pin");
	if (rc == YKPIV_WRONG_PIN)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_PIN_INVALID,
		    "wrong PIV PIN (%d %s left)", tries, tries == 1 ?
		    "try" : "tries"), tries == 1 ? "one more wrong PIN "
		    "blocks it" : "check the PIN and try again");
	if (rc == YKPIV_PIN_LOCKED)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_PIN_BLOCKED,
		    "the PIV PIN is blocked (no tries left)"), "unblock it "
		    "with the PUK: yubico-piv-tool -a unblock-pin");
	if (rc != YKPIV_OK)
		return ykpiv_error(rc, "PIN verification");
	return NULL;
}

int
ykssh_piv_slot_from_name(const char *name)
{
	char *end;
	unsigned long v;

	if (name == NULL || strlen(name) != 2 || !isxdigit((unsigned char)
	    name[0]) || !isxdigit((unsigned char)name[1]))
		return -1;
	v = strtoul(name, &end, 16);
	if (*end != '\0')
		return -1;
	if (v == 0x9a || v == 0x9c || v == 0x9d || v == 0x9e ||
	    (v >= 0x82 && v <= 0x95))
		return (int)v;
	return -1;
}

uint32_t
ykssh_piv_cert_object(uint8_t slot)
{
	switch (slot) {
	case 0x9a:
		return 0x5fc105;
	case 0x9c:
		return 0x5fc10a;
	case 0x9d:
		return 0x5fc10b;
	case 0x9e:
		return 0x5fc101;
	default:
		if (slot >= 0x82 && slot <= 0x95)
			return 0x5fc10du + (uint32_t)(slot - 0x82);
		return 0;
	}
}

const char *
ykssh_piv_alg_name(uint8_t alg)
{
	switch (alg) {
	case YKSSH_PIV_ALG_3DES:
		return "3des";
	case YKSSH_PIV_ALG_AES128:
		return "aes128";
	case YKSSH_PIV_ALG_AES192:
		return "aes192";
	case YKSSH_PIV_ALG_AES256:
		return "aes256";
	case 0x06:
		return "rsa1024";
	case YKSSH_PIV_ALG_RSA2048:
		return "rsa2048";
	case YKSSH_PIV_ALG_ECCP256:
		return "eccp256";
	case YKSSH_PIV_ALG_ECCP384:
		return "eccp384";
	case YKSSH_PIV_ALG_ED25519:
		return "ed25519";
	default:
		return NULL;
	}
}

const char *
ykssh_piv_pin_policy_name(uint8_t p)
{
	static const char *const n[] = { "default", "never", "once",
	    "always" };

	return p < 4 ? n[p] : NULL;
}

const char *
ykssh_piv_touch_policy_name(uint8_t p)
{
	static const char *const n[] = { "default", "never", "always",
	    "cached" };

	return p < 4 ? n[p] : NULL;
}
