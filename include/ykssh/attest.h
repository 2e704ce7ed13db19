/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Attestation: the proof that a key was made inside the hardware.
 *
 *	ykssh_attest_trust_load(dir, home, &t)      trusted roots
 *	ykssh_attest_verify_fido(t, &in, key, &r)   FIDO2 packed attestation
 *	ykssh_attest_verify_piv(t, pem, len, key, &r) PIV slot + F9 chain
 *	ykssh_attest_verify_file(t, pub, att, ...)  what enroll saved
 *
 * A trust directory holds PEM certificates (files *.pem, *.crt, *.cer):
 * self-signed ones are trusted roots, the others intermediates that may
 * complete a chain.  Yubico publishes its FIDO and PIV attestation roots
 * on its developer site (PKI pages); no Debian package ships them.
 *
 * FIDO2 (WebAuthn "packed", section 8.2): the signature over authData ||
 * SHA-256(challenge) verifies with the attestation certificate's key, the
 * certificate is v3, its subject OU is "Authenticator Attestation", it is
 * not a CA, its AAGUID extension (1.3.6.1.4.1.45724.1.1.4), when present,
 * matches authData, and it chains to a trusted root.  authData names the
 * key's application and holds the key's public key and handle.  Self
 * attestation (no certificate) proves nothing about the hardware: NONE.
 *
 * PIV (Yubico): the slot's attestation certificate is signed by the
 * token's F9 certificate, the F9 certificate chains to a trusted root, and
 * the attested public key is the key's.  Yubico's extensions (serial,
 * firmware, PIN and touch policy) are read for display.
 *
 * Verification outcomes are results, not errors: the functions fail only
 * for NOMEM, INTERNAL or unreadable inputs named in their comments.
 */
#ifndef YKSSH_ATTEST_H
#define YKSSH_ATTEST_H

#include <stddef.h>
#include <stdint.h>

#include "ykssh/buf.h"
#include "ykssh/error.h"
#include "ykssh/sshkey.h"

enum ykssh_attest_status {
	YKSSH_ATTEST_VERIFIED = 0,	/* chains to a trusted root */
	YKSSH_ATTEST_UNTRUSTED,		/* sound, but no trusted root */
	YKSSH_ATTEST_INVALID,		/* does not verify, or another key */
	YKSSH_ATTEST_NONE,		/* self attestation: no proof */
	YKSSH_ATTEST_MISSING,		/* no attestation saved */
};

/* "verified", "untrusted", "invalid", "none", "missing". */
const char *ykssh_attest_status_name(enum ykssh_attest_status s);

struct ykssh_attest_result {
	enum ykssh_attest_status status;
	char		*reason;	/* why not verified; NULL if verified */
	char		*subject;	/* attestation certificate, one line */
	char		*root;		/* the trusted root it chains to */
	char		*path;		/* the file verified, when one was */
	char		 aaguid[37];	/* FIDO2; "" unknown */
	uint32_t	 serial;	/* PIV; 0 unknown */
	char		 firmware[16];	/* PIV "5.4.3"; "" unknown */
	int		 pin_policy;	/* PIV card byte; -1 unknown */
	int		 touch_policy;
};
void ykssh_attest_result_free(struct ykssh_attest_result *r);

struct ykssh_attest_trust;

#define YKSSH_ATTEST_SYSTEM_DIRS	"/etc/ykssh/trust", \
					"/usr/share/ykssh/trust"

/*
 * Loads the trusted certificates: from `dir` alone when given (it must
 * exist), else from home/.config/ykssh/trust and the system directories
 * (YKSSH_ATTEST_SYSTEM_DIRS) that exist.  No certificate at all is not an
 * error: every attestation is then UNTRUSTED, and the reason says where to
 * put the roots.  Errors: FILE_NOT_FOUND (dir missing), CONFIG (a file in
 * it is not PEM certificates; named), SYSTEM, NOMEM.
 */
struct ykssh_err *ykssh_attest_trust_load(const char *dir, const char *home,
    struct ykssh_attest_trust **tp) YKSSH_MUST_CHECK;
void ykssh_attest_trust_free(struct ykssh_attest_trust *t);
/* Trusted roots loaded. */
size_t ykssh_attest_trust_count(const struct ykssh_attest_trust *t);
/* The directory roots are expected in, for messages (the given one, else
 * the user's). */
const char *ykssh_attest_trust_dir(const struct ykssh_attest_trust *t);

/* A FIDO2 attestation: what makeCredential returned, borrowed. */
struct ykssh_attest_fido_in {
	const char	*fmt;		/* NULL: "packed" */
	const uint8_t	*x5c;		/* DER attestation certificate */
	size_t		 x5c_len;	/* 0: self attestation */
	const uint8_t	*sig;
	size_t		 sig_len;
	const uint8_t	*authdata;	/* CBOR byte string, as OpenSSH */
	size_t		 authdata_len;
	const uint8_t	*challenge;	/* raw; hashed here */
	size_t		 challenge_len;
};

/* Errors: NOMEM, INTERNAL; the outcome is in *rp. */
struct ykssh_err *ykssh_attest_verify_fido(
    const struct ykssh_attest_trust *t, const struct ykssh_attest_fido_in *in,
    const struct ykssh_sshkey *key, struct ykssh_attest_result **rp)
    YKSSH_MUST_CHECK;

/* `pem`: slot attestation certificate then F9 certificate. */
struct ykssh_err *ykssh_attest_verify_piv(const struct ykssh_attest_trust *t,
    const char *pem, size_t pem_len, const struct ykssh_sshkey *key,
    struct ykssh_attest_result **rp) YKSSH_MUST_CHECK;

/*
 * The ssh-sk-attest-v01 blob (ssh-keygen -O write-attestation): the
 * fields borrow from `data`.  ykssh keeps the challenge in the reserved
 * string when it saves the attestation beside a key; OpenSSH leaves it
 * empty (then the challenge must come from elsewhere).  Errors:
 * INVALID_FORMAT.
 */
struct ykssh_err *ykssh_attest_parse_sk(const uint8_t *data, size_t len,
    struct ykssh_attest_fido_in *in) YKSSH_MUST_CHECK;
/*
 * Appends the blob to out; with_challenge keeps in->challenge in the
 * reserved string (what ykssh saves beside a key), else it is empty (what
 * ssh-keygen -O write-attestation writes).  Errors: NOMEM.
 */
struct ykssh_err *ykssh_attest_encode_sk(const struct ykssh_attest_fido_in
    *in, int with_challenge, struct ykssh_buf *out) YKSSH_MUST_CHECK;

/*
 * Where enroll saves the attestation of the key in pub_path: FIDO2
 * "<stub>.attest", PIV "<pub without .pub>-attestation.pem".  malloc'd.
 */
char *ykssh_attest_path(const char *pub_path, enum ykssh_keytype type);

/*
 * Verifies a saved attestation against the key of the .pub file
 * `pub_path`.  att_path NULL: the default path beside it (MISSING when it
 * is absent).  challenge: for FIDO2 blobs that do not carry it (NULL: the
 * blob's).  Errors: FILE_NOT_FOUND (.pub), INVALID_FORMAT (.pub), SYSTEM,
 * NOMEM; an unreadable or malformed attestation is INVALID in *rp.
 */
struct ykssh_err *ykssh_attest_verify_file(const struct ykssh_attest_trust *t,
    const char *pub_path, const char *att_path, const uint8_t *challenge,
    size_t challenge_len, struct ykssh_attest_result **rp) YKSSH_MUST_CHECK;

#endif /* YKSSH_ATTEST_H */
