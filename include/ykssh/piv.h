/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PIV tokens (YubiKey PIV applet) through libykpiv.
 *
 *	ykssh_piv_open(ctx, reader, &piv)         reader, card, PIV applet
 *	ykssh_piv_pin_status(piv, &st)            retries, factory PIN/PUK
 *	ykssh_piv_verify_pin(piv, pin, allow_last)
 *	ykssh_piv_mgmt_status(piv, &mst)          algorithm, factory, stored
 *	ykssh_piv_authenticate(piv, key, len)     3DES or AES (by hand)
 *	ykssh_piv_slot_status(piv, slot, &ss)     what the slot holds
 *	ykssh_piv_generate(piv, slot, alg, pinp, touchp, &key)
 *	ykssh_piv_attest(piv, slot, &pem)         slot cert + F9 cert
 *	ykssh_piv_put_certificate(piv, slot, der, len)
 *	ykssh_piv_close(piv)                      card reset: PIN dropped
 *
 * Every APDU's status word is checked (libykpiv may answer YKPIV_OK with
 * SW 0000 when the card vanished).  Errors name the libykpiv code
 * (ykpiv_strerror_name) or the status word.  No global state: the handle
 * owns the libykpiv state and its PC/SC context.
 */
#ifndef YKSSH_PIV_H
#define YKSSH_PIV_H

#include <stddef.h>
#include <stdint.h>

#include "ykssh/ctx.h"
#include "ykssh/error.h"
#include "ykssh/secret.h"
#include "ykssh/sshkey.h"

/* Algorithm ids (GENERATE tag 80, metadata tag 01). */
#define YKSSH_PIV_ALG_3DES	0x03
#define YKSSH_PIV_ALG_AES128	0x08
#define YKSSH_PIV_ALG_AES192	0x0a
#define YKSSH_PIV_ALG_AES256	0x0c
#define YKSSH_PIV_ALG_RSA2048	0x07
#define YKSSH_PIV_ALG_ECCP256	0x11
#define YKSSH_PIV_ALG_ECCP384	0x14
#define YKSSH_PIV_ALG_ED25519	0xe0

/* Policies (tags AA / AB), as on the card. */
#define YKSSH_PIV_POLICY_DEFAULT	0
#define YKSSH_PIV_PIN_NEVER		1
#define YKSSH_PIV_PIN_ONCE		2
#define YKSSH_PIV_PIN_ALWAYS		3
#define YKSSH_PIV_TOUCH_NEVER		1
#define YKSSH_PIV_TOUCH_ALWAYS		2
#define YKSSH_PIV_TOUCH_CACHED		3

#define YKSSH_PIV_PIN_MAX	8
#define YKSSH_PIV_MGMT_KEY_MAX	32

struct ykssh_piv;

/*
 * Opens the card.  reader NULL: the first reader whose name contains
 * "Yubico" or "YubiKey" (case-insensitive); otherwise the reader with
 * exactly that name, else the first whose name contains it.
 * Errors: DEVICE_NOT_FOUND (no reader, no matching reader, no card, no
 * PIV applet: the message says which), DEVICE, NOMEM.
 */
struct ykssh_err *ykssh_piv_open(struct ykssh_ctx *ctx, const char *reader,
    struct ykssh_piv **pivp) YKSSH_MUST_CHECK;
/* Ends the session with a card reset (no PIN left verified).  NULL ok. */
void ykssh_piv_close(struct ykssh_piv *piv);

/* Facts read at open; valid until close. */
const char *ykssh_piv_reader(const struct ykssh_piv *piv);
const char *ykssh_piv_firmware(const struct ykssh_piv *piv);	/* "5.4.3" */
const char *ykssh_piv_model(const struct ykssh_piv *piv);
uint32_t ykssh_piv_serial(const struct ykssh_piv *piv);	/* 0: unknown */
/* Firmware as major * 10000 + minor * 100 + patch. */
unsigned ykssh_piv_fw(const struct ykssh_piv *piv);
/* APDUs exchanged through this handle (GET RESPONSE included). */
unsigned long ykssh_piv_apdus(const struct ykssh_piv *piv);

struct ykssh_piv_pin_status {
	int	pin_retries;	/* -1: unknown */
	int	puk_retries;	/* -1: unknown */
	int	pin_default;	/* 1 yes, 0 no, -1 unknown */
	int	puk_default;
	int	pin_verified;
};
/* Errors: DEVICE. */
struct ykssh_err *ykssh_piv_pin_status(struct ykssh_piv *piv,
    struct ykssh_piv_pin_status *st) YKSSH_MUST_CHECK;

/*
 * Verifies the PIN, reading the retry counter first.  With one retry
 * left the attempt is refused unless allow_last.
 * Errors: PIN_INVALID (message gives the retries left), PIN_BLOCKED,
 * PIN_POLICY (length), PIN_REQUIRED (refused last retry), DEVICE.
 */
struct ykssh_err *ykssh_piv_verify_pin(struct ykssh_piv *piv,
    const struct ykssh_secret *pin, int allow_last) YKSSH_MUST_CHECK;

struct ykssh_piv_mgmt_status {
	uint8_t	algorithm;	/* YKSSH_PIV_ALG_3DES/AES* */
	int	is_default;	/* factory key: 1, 0, -1 unknown */
	int	protected_stored;	/* key kept in 5FC109 (needs PIN) */
	int	touch;		/* authentication needs a touch */
};
/* Errors: DEVICE. */
struct ykssh_err *ykssh_piv_mgmt_status(struct ykssh_piv *piv,
    struct ykssh_piv_mgmt_status *st) YKSSH_MUST_CHECK;
/*
 * Authenticates with the management key (mutual GENERAL AUTHENTICATE):
 * 3DES through libykpiv, AES by hand.  key NULL: the factory key.
 * Errors: AUTH_MGMT_KEY, UNSUPPORTED, DEVICE.
 */
struct ykssh_err *ykssh_piv_authenticate(struct ykssh_piv *piv,
    const uint8_t *key, size_t len) YKSSH_MUST_CHECK;
/*
 * After the PIN: reads the PIN-protected management key (5FC109) and
 * authenticates with it.  Errors: AUTH_MGMT_KEY, PIN_REQUIRED, DEVICE.
 */
struct ykssh_err *ykssh_piv_authenticate_protected(struct ykssh_piv *piv)
    YKSSH_MUST_CHECK;

struct ykssh_piv_slot_status {
	int	has_key;	/* metadata (or attestation) found a key */
	int	has_cert;	/* certificate object present */
	uint8_t	algorithm;	/* 0 if unknown */
	uint8_t	pin_policy;
	uint8_t	touch_policy;
	int	generated;	/* 1 generated, 0 imported, -1 unknown */
	char	subject[128];	/* certificate subject, or "" */
};
/* Errors: INVALID_ARGUMENT (slot), DEVICE. */
struct ykssh_err *ykssh_piv_slot_status(struct ykssh_piv *piv, uint8_t slot,
    struct ykssh_piv_slot_status *st) YKSSH_MUST_CHECK;

/*
 * Generates a key in `slot` (needs management-key authentication) and
 * returns its public half as an ecdsa-sha2-nistp256/384 or ssh-rsa key.
 * Errors: UNSUPPORTED (algorithm/policy), AUTH_MGMT_KEY, DEVICE.
 */
struct ykssh_err *ykssh_piv_generate(struct ykssh_piv *piv, uint8_t slot,
    uint8_t alg, uint8_t pin_policy, uint8_t touch_policy,
    struct ykssh_sshkey **keyp) YKSSH_MUST_CHECK;
/*
 * ATTEST: the slot's attestation certificate (DER) and the F9 device
 * certificate (DER, NULL/0 if absent).  Free with free().
 * Errors: UNSUPPORTED (firmware), DEVICE.
 */
struct ykssh_err *ykssh_piv_attest(struct ykssh_piv *piv, uint8_t slot,
    uint8_t **certp, size_t *certlenp, uint8_t **f9p, size_t *f9lenp)
    YKSSH_MUST_CHECK;
/* Stores a certificate (DER) in the slot's object.  Errors: DEVICE. */
struct ykssh_err *ykssh_piv_put_certificate(struct ykssh_piv *piv,
    uint8_t slot, const uint8_t *der, size_t len) YKSSH_MUST_CHECK;

/*
 * New-token hardening (needs the factory PIN verified and management-key
 * authentication): new PUK, a random management key of the token's kind
 * stored PIN-protected (5FC109 and the admin-data flag), then the new PIN.
 * Errors: PIN_POLICY, PIN_INVALID, AUTH_MGMT_KEY, DEVICE.
 */
struct ykssh_err *ykssh_piv_setup(struct ykssh_piv *piv,
    const struct ykssh_secret *old_pin, const struct ykssh_secret *new_pin,
    const struct ykssh_secret *old_puk, const struct ykssh_secret *new_puk)
    YKSSH_MUST_CHECK;

/* Names: "9a", "eccp256", "once"... NULL/0 when unknown. */
int ykssh_piv_slot_from_name(const char *name);	/* -1 if invalid */
const char *ykssh_piv_alg_name(uint8_t alg);
const char *ykssh_piv_pin_policy_name(uint8_t p);
const char *ykssh_piv_touch_policy_name(uint8_t p);

/*
 * The key slots ykssh uses, in scan order (9a, 9c, 9d, 9e, 82..95):
 * slot i, or 0 past the end.
 */
uint8_t ykssh_piv_key_slot(size_t i);

/* What a key slot holds, read without PIN or management key. */
struct ykssh_piv_slot_key {
	uint8_t		 slot;
	uint8_t		 algorithm;	/* 0 if unknown */
	struct ykssh_sshkey *key;	/* NULL: no key found */
	int		 from_metadata;	/* key from GET METADATA (the card's
					   own word), else from the cert */
	int		 cert_matches;	/* 1 the certificate holds the slot's
					   key, 0 another key, -1 no cert or
					   nothing to compare (no metadata) */
	int		 attested;	/* the certificate is the token's
					   attestation of the slot (signed by
					   its F9 key): what enroll stores */
	uint8_t		*cert;		/* DER of the slot certificate, or NULL */
	size_t		 cert_len;
	char		 subject[128];	/* certificate subject, or "" */
};
/*
 * Reads slot's key: GET METADATA (firmware 5.3+) and the certificate
 * object, whose key is compared with the metadata's; before 5.3 the key
 * is the certificate's.  f9: the F9 certificate (ykssh_piv_read_f9), to
 * tell an attestation certificate; NULL: never attested.  No key:
 * sk->key NULL.  Errors: INVALID_ARGUMENT (slot), DEVICE, NOMEM.
 */
struct ykssh_err *ykssh_piv_read_slot_key(struct ykssh_piv *piv,
    uint8_t slot, const uint8_t *f9, size_t f9len,
    struct ykssh_piv_slot_key *sk) YKSSH_MUST_CHECK;
void ykssh_piv_slot_key_clear(struct ykssh_piv_slot_key *sk);
/* The F9 device certificate (DER), NULL/0 if absent.  free() it. */
struct ykssh_err *ykssh_piv_read_f9(struct ykssh_piv *piv, uint8_t **derp,
    size_t *lenp) YKSSH_MUST_CHECK;

/*
 * Destroys the private key of slot (needs management-key authentication)
 * and deletes the slot certificate, so PKCS#11 modules no longer show
 * it.  Firmware 5.7+: DELETE KEY (MOVE KEY, INS F6, P1 FF); before 5.7,
 * or when the card refuses F6 (SW 6D00): a throwaway ECC P-256 key
 * generated over it.  *howp: "deleted" or "overwritten" (static).
 * Errors: AUTH_MGMT_KEY, DEVICE.
 */
struct ykssh_err *ykssh_piv_delete_key(struct ykssh_piv *piv, uint8_t slot,
    const char **howp) YKSSH_MUST_CHECK;

#endif /* YKSSH_PIV_H */
