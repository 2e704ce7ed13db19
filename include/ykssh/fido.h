/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * FIDO2 tokens through libfido2.
 *
 *	ykssh_fido_open(ctx, paths, n, &dev)  find and open a token
 *	ykssh_fido_enroll(dev, &req, pin, &e) makeCredential -> sk key
 *	ykssh_fido_enrollment_key(e)          the key for the stub/.pub
 *	ykssh_fido_close(dev)
 *
 * Paths: "/dev/hidrawN", or "udp://HOST:PORT[?local=PORT]" for HID-over-UDP
 * simulators; none means every token plugged in.  Every token is driven
 * through ykssh's own report I/O (libfido2 custom I/O), so the front end is
 * told through the context's notice callback exactly when the token waits
 * for a touch, and Ctrl-C (the context's cancel flag) sends
 * CTAPHID_CANCEL.
 *
 * PINs are passed in, never asked for here: the caller asks only when an
 * operation returns YKSSH_ERR_PIN_REQUIRED (or knows in advance that it
 * will, see ykssh_fido_enroll_needs_pin).  A wrong PIN is never retried.
 *
 * Token errors map to: PIN_REQUIRED, PIN_NOT_SET, PIN_INVALID (message has
 * the retries left), PIN_BLOCKED, PIN_POLICY, TOUCH_DENIED, TOUCH_TIMEOUT,
 * CANCELLED, UNSUPPORTED (algorithm, option, full key store),
 * CREDENTIAL_EXISTS, DEVICE_NOT_FOUND, DEVICE (token gone, I/O), ATTESTATION
 * (the token's attestation does not verify).  The libfido2 error name is
 * kept in the message.
 */
#ifndef YKSSH_FIDO_H
#define YKSSH_FIDO_H

#include <stddef.h>
#include <stdint.h>

#include "ykssh/buf.h"
#include "ykssh/ctx.h"
#include "ykssh/error.h"
#include "ykssh/secret.h"
#include "ykssh/sshkey.h"

#define YKSSH_FIDO_USER_ID_LEN		32	/* OpenSSH's user id size */
#define YKSSH_FIDO_DEFAULT_APPLICATION	"ssh:"

struct ykssh_fido_dev;

#define YKSSH_FIDO_MAX_DEVICES		16

/*
 * Opens a token: the one path given; with several paths (or none: every
 * token plugged in) the one that opens, or, when several do, the one the
 * user touches (the context's SELECT_BY_TOUCH notice), as ssh-keygen does.
 * Errors: DEVICE_NOT_FOUND (none attached, or path missing: the hint says
 * what to check), PERMISSION (no access to the hidraw node: udev rules),
 * DEVICE, TOUCH_TIMEOUT (several tokens and none touched), UNSUPPORTED (a
 * U2F-only token), USAGE (too many paths).
 */
struct ykssh_err *ykssh_fido_open(struct ykssh_ctx *ctx,
    const char *const *paths, size_t npaths, struct ykssh_fido_dev **devp)
    YKSSH_MUST_CHECK;
/* Cancels anything pending and closes.  NULL is ok. */
void ykssh_fido_close(struct ykssh_fido_dev *dev);

/* What getInfo said; strings owned by dev. */
const char *ykssh_fido_path(const struct ykssh_fido_dev *dev);
/* "YubiKey 5 Series", "Security Key by Yubico", or "FIDO2 token". */
const char *ykssh_fido_model(const struct ykssh_fido_dev *dev);
/* AAGUID as 8-4-4-4-12 lowercase hex. */
const char *ykssh_fido_aaguid(const struct ykssh_fido_dev *dev);
/* "5.4.3" from getInfo firmwareVersion, else the CTAPHID INIT version. */
const char *ykssh_fido_firmware(const struct ykssh_fido_dev *dev);
int ykssh_fido_has_pin(const struct ykssh_fido_dev *dev);
int ykssh_fido_supports_type(const struct ykssh_fido_dev *dev,
    enum ykssh_keytype type);
int ykssh_fido_supports_cred_prot(const struct ykssh_fido_dev *dev);
int ykssh_fido_supports_credman(const struct ykssh_fido_dev *dev);
/* CTAPHID requests sent so far (for benchmarks). */
unsigned long ykssh_fido_requests(const struct ykssh_fido_dev *dev);
/* CTAP2 commands of one kind sent so far (0x01 makeCredential, ...). */
unsigned long ykssh_fido_ctap_commands(const struct ykssh_fido_dev *dev,
    unsigned cmd);

/* Retries left before the PIN blocks. */
struct ykssh_err *ykssh_fido_pin_retries(struct ykssh_fido_dev *dev,
    int *retriesp) YKSSH_MUST_CHECK;
/* Sets the PIN (old_pin NULL) or changes it.  4 to 63 bytes. */
struct ykssh_err *ykssh_fido_set_pin(struct ykssh_fido_dev *dev,
    const char *new_pin, const char *old_pin) YKSSH_MUST_CHECK;

/* What to make (the ssh-keygen -t ...-sk -O ... vocabulary). */
struct ykssh_fido_enroll_req {
	enum ykssh_keytype	 type;		/* ED25519_SK or ECDSA_SK */
	const char		*application;	/* NULL: "ssh:" */
	const uint8_t		*user;		/* NULL: 32 zero bytes */
	size_t			 user_len;	/* at most 32 */
	uint8_t			 flags;		/* YKSSH_SK_* */
	const uint8_t		*challenge;	/* NULL: 32 random bytes */
	size_t			 challenge_len;
};

/*
 * Whether an enrollment needs the PIN whatever the token says: resident
 * and verify-required keys on a token with a PIN.  (A token may still
 * demand it for others: then ykssh_fido_enroll returns PIN_REQUIRED.)
 * Returns PIN_NOT_SET as an error when such a key is asked of a token
 * without a PIN, and UNSUPPORTED when the token cannot protect it
 * (no credProtect) or lacks the key type (naming the alternative).
 */
struct ykssh_err *ykssh_fido_enroll_check(struct ykssh_fido_dev *dev,
    const struct ykssh_fido_enroll_req *req, int *needs_pinp)
    YKSSH_MUST_CHECK;

/*
 * Resident keys: is there already a credential for (application, user)?
 * Needs the PIN on tokens that have one.
 */
struct ykssh_err *ykssh_fido_resident_exists(struct ykssh_fido_dev *dev,
    const struct ykssh_fido_enroll_req *req, const char *pin, int *existsp)
    YKSSH_MUST_CHECK;

/*
 * Does this token hold the sk key (its application and key handle)?  A
 * silent assertion (no touch, no PIN), as OpenSSH's sk_probe picks the
 * token for a key: the token that made the key answers, any other says it
 * has no such credential.  A verify-required key (credProtect
 * userVerificationRequired) is invisible without the PIN: then *hasp is 0
 * whichever token it is.
 */
struct ykssh_err *ykssh_fido_has_key(struct ykssh_fido_dev *dev,
    const struct ykssh_sshkey *key, int *hasp) YKSSH_MUST_CHECK;

struct ykssh_fido_enrollment;

/*
 * makeCredential.  With YKSSH_SK_FORCE_OPERATION in req->flags an existing
 * resident credential for (application, user) is overwritten; that flag is
 * not stored in the key.  The attestation is verified as OpenSSH does
 * (full attestation with the x5c certificate, else self attestation).
 */
struct ykssh_err *ykssh_fido_enroll(struct ykssh_fido_dev *dev,
    const struct ykssh_fido_enroll_req *req, const char *pin,
    struct ykssh_fido_enrollment **enrollmentp) YKSSH_MUST_CHECK;
void ykssh_fido_enrollment_free(struct ykssh_fido_enrollment *e);
/* The new key (public key, application, flags, key handle). */
const struct ykssh_sshkey *ykssh_fido_enrollment_key(
    const struct ykssh_fido_enrollment *e);
/* Attestation format ("packed") and whether it has a certificate. */
const char *ykssh_fido_enrollment_fmt(const struct ykssh_fido_enrollment *e);
int ykssh_fido_enrollment_has_x5c(const struct ykssh_fido_enrollment *e);
/*
 * The attestation's fields (fmt, certificate, signature, CBOR authData),
 * borrowed from e; the challenge is left unset (see attest.h).
 */
struct ykssh_attest_fido_in;
void ykssh_fido_enrollment_attest_in(const struct ykssh_fido_enrollment *e,
    struct ykssh_attest_fido_in *in);
/*
 * Appends what ssh-keygen -O write-attestation writes
 * ("ssh-sk-attest-v01": certificate, signature, CBOR authenticator data).
 */
struct ykssh_err *ykssh_fido_enrollment_attestation(
    const struct ykssh_fido_enrollment *e, struct ykssh_buf *out)
    YKSSH_MUST_CHECK;

/*
 * The token's resident SSH keys ("ssh:" applications, ed25519/es256) as
 * ssh-keygen -K reads them: each key with its stub data (flags: user
 * presence, resident, verification if the credential requires it; the
 * credential id as key handle), its fingerprint and user name (or NULL).
 * Needs the PIN (credential management).  UNSUPPORTED without it.
 */
struct ykssh_fido_resident {
	struct ykssh_sshkey	*key;
	char			*fingerprint;
	char			*user;
};
struct ykssh_err *ykssh_fido_list_resident(struct ykssh_fido_dev *dev,
    const char *pin, struct ykssh_fido_resident **keysp, size_t *np)
    YKSSH_MUST_CHECK;
void ykssh_fido_residents_free(struct ykssh_fido_resident *keys, size_t n);

/*
 * Opens the token, asks for its PIN through get_pin (NULL: PIN_REQUIRED
 * with a hint) and lists its resident SSH keys into *out (cleared with
 * ykssh_fido_read_residents_clear(); nothing to clear on error).
 */
typedef struct ykssh_err *(*ykssh_fido_pin_cb)(void *arg, const char *prompt,
    struct ykssh_secret *pin);
struct ykssh_fido_residents {
	char				*path;
	char				*model;
	struct ykssh_fido_resident	*keys;
	size_t				 n;
};
struct ykssh_err *ykssh_fido_read_residents(struct ykssh_ctx *ctx,
    const char *const *devices, size_t ndevices, ykssh_fido_pin_cb get_pin,
    void *arg, struct ykssh_fido_residents *out) YKSSH_MUST_CHECK;
void ykssh_fido_read_residents_clear(struct ykssh_fido_residents *r);

/*
 * Deletes the resident credential whose SSH key (the credential's public
 * key under its "ssh:" application) has the fingerprint "SHA256:...".
 * *foundp is 0 when the token has no such credential.  Needs the PIN.
 */
struct ykssh_err *ykssh_fido_delete_resident(struct ykssh_fido_dev *dev,
    const char *fingerprint, const char *pin, int *foundp) YKSSH_MUST_CHECK;

/*
 * Whether the token holds the credential of an sk key (with its stub
 * data): a silent assertion (no touch, no PIN) with the key handle, as
 * ssh's sk_probe does.  *presentp 0: not this token's credential (or a
 * credential only usable with the PIN: verify-required keys).  Errors:
 * INVALID_ARGUMENT (no stub data), DEVICE, and the token errors above.
 */
struct ykssh_err *ykssh_fido_probe_key(struct ykssh_fido_dev *dev,
    const struct ykssh_sshkey *key, int *presentp) YKSSH_MUST_CHECK;

#endif /* YKSSH_FIDO_H */
