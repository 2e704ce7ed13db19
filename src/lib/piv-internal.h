/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PIV internals: the handle, the APDU helper and the parsers of card data
 * (BER-TLV, GET METADATA, GENERATE replies, certificate and protected
 * management-key objects).  For src/lib/piv*.c and their tests/fuzzers.
 */
#ifndef YKSSH_PIV_INTERNAL_H
#define YKSSH_PIV_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ykssh/piv.h"

#define PIV_SW_OK		0x9000
#define PIV_INS_VERIFY		0x20
#define PIV_INS_AUTH		0x87
#define PIV_INS_GENERATE	0x47
#define PIV_INS_GET_DATA	0xcb
#define PIV_INS_PUT_DATA	0xdb
#define PIV_INS_METADATA	0xf7
#define PIV_INS_ATTEST		0xf9
#define PIV_INS_SET_MGMT	0xff

#define PIV_OBJ_ADMIN		0x5fff00
#define PIV_OBJ_PRINTED		0x5fc109
#define PIV_OBJ_ATTEST		0x5fff01
#define PIV_ADMIN_PROTECTED	0x02

#define PIV_REPLY_MAX		4096

/* GET METADATA reply (tags 01..06); *_HAS bits say what was present. */
#define PIV_MD_HAS_ALG		0x01
#define PIV_MD_HAS_POLICY	0x02
#define PIV_MD_HAS_ORIGIN	0x04
#define PIV_MD_HAS_PUBKEY	0x08
#define PIV_MD_HAS_DEFAULT	0x10
#define PIV_MD_HAS_RETRIES	0x20
struct piv_metadata {
	unsigned	 has;
	uint8_t		 algorithm;
	uint8_t		 pin_policy;
	uint8_t		 touch_policy;
	uint8_t		 origin;
	uint8_t		 is_default;
	uint8_t		 retries_total;
	uint8_t		 retries_left;
	const uint8_t	*pubkey;	/* points into the parsed data */
	size_t		 pubkey_len;
};

/*
 * Finds the first TLV with `tag` (one byte, or 0x7f49-style two bytes)
 * at the top level of data[0..len).  Lengths: 1 byte, 81 xx, 82 xx xx.
 * Returns 0 and the value, or -1 (absent or malformed: a malformed
 * TLV before the tag ends the search with -1).
 */
int ykssh_piv_tlv_find(const uint8_t *data, size_t len, unsigned tag,
    const uint8_t **valp, size_t *vlenp);
/* Parses a whole TLV sequence; 0 if every TLV is well formed and fills. */
int ykssh_piv_tlv_check(const uint8_t *data, size_t len);
/* GET METADATA reply.  0 ok, -1 malformed (a field of the wrong size). */
int ykssh_piv_metadata_parse(const uint8_t *data, size_t len,
    struct piv_metadata *md);
/*
 * A public key from GENERATE's 7F49 template or metadata tag 04 (inner
 * 86 point / 81 modulus 82 exponent) for `alg`.
 */
struct ykssh_err *ykssh_piv_pubkey_parse(uint8_t alg, const uint8_t *data,
    size_t len, int outer_7f49, struct ykssh_sshkey **keyp)
    YKSSH_MUST_CHECK;
/* Certificate object (53 { 70 DER 71 info FE lrc }) → the DER inside. */
int ykssh_piv_certobj_parse(const uint8_t *data, size_t len,
    const uint8_t **derp, size_t *derlenp);
/* Printed-information object (53 { 88 { 89 key } }) → the key. */
int ykssh_piv_protected_parse(const uint8_t *data, size_t len,
    const uint8_t **keyp, size_t *keylenp);
/* Admin data (53 { 80 { 81 flags ... } }) → flags byte, or -1. */
int ykssh_piv_admin_flags(const uint8_t *data, size_t len);
/* Appends a BER length; returns bytes written (at most 3). */
size_t ykssh_piv_put_len(uint8_t *p, size_t len);
/* Key length of a management-key algorithm, 0 if unknown. */
size_t ykssh_piv_mgmt_key_len(uint8_t alg);

/*
 * One APDU through ykpiv_transfer_data (chaining, GET RESPONSE).  *swp is
 * the status word; a transport failure or SW 0000 (card gone) is an
 * error.  `out` may be NULL when no reply data is wanted.
 */
struct ykssh_err *ykssh_piv_apdu(struct ykssh_piv *piv, uint8_t ins,
    uint8_t p1, uint8_t p2, const uint8_t *in, size_t inlen, uint8_t *out,
    size_t *outlen, int *swp) YKSSH_MUST_CHECK;
/* GET DATA of a 3-byte object id; *swp 6A82 when absent. */
struct ykssh_err *ykssh_piv_get_object(struct ykssh_piv *piv, uint32_t id,
    uint8_t *out, size_t *outlen, int *swp) YKSSH_MUST_CHECK;
struct ykssh_err *ykssh_piv_put_object(struct ykssh_piv *piv, uint32_t id,
    const uint8_t *val, size_t len) YKSSH_MUST_CHECK;
/* GET METADATA; *foundp 0 when the card answered 6A88/6D00. */
struct ykssh_err *ykssh_piv_get_metadata(struct ykssh_piv *piv, uint8_t ref,
    uint8_t *buf, size_t *lenp, struct piv_metadata *md, int *foundp)
    YKSSH_MUST_CHECK;
/* Error for an unexpected status word of `what`. */
struct ykssh_err *ykssh_piv_sw_error(int sw, const char *what)
    YKSSH_MUST_CHECK;
/* Certificate object id of a key slot, 0 if none. */
uint32_t ykssh_piv_cert_object(uint8_t slot);
struct ykssh_ctx *ykssh_piv_ctx(struct ykssh_piv *piv);
void *ykssh_piv_state(struct ykssh_piv *piv);	/* ykpiv_state * */
/* The management-key algorithm once read (0 before), to save APDUs. */
uint8_t ykssh_piv_mgmt_alg_cached(const struct ykssh_piv *piv);
void ykssh_piv_set_mgmt_alg(struct ykssh_piv *piv, uint8_t alg);

/*
 * A slot certificate (DER): its key as an SSH key (EC P-256/384, RSA-2048;
 * *keyp NULL and UNSUPPORTED/INVALID_FORMAT otherwise), its algorithm, its
 * subject, and whether it is the token's attestation of `slot` (subject
 * "YubiKey PIV Attestation <slot>", signed by the key of the F9
 * certificate f9, DER, NULL: never).  Errors: INVALID_FORMAT (not a
 * certificate), UNSUPPORTED (a key ssh cannot use), NOMEM.
 */
struct ykssh_err *ykssh_piv_cert_parse(const uint8_t *der, size_t len,
    uint8_t slot, const uint8_t *f9, size_t f9len, uint8_t *algp,
    struct ykssh_sshkey **keyp, int *attestedp, char *subject,
    size_t subjectlen) YKSSH_MUST_CHECK;

#endif /* YKSSH_PIV_INTERNAL_H */
