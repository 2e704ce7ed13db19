/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SSH public keys and the files OpenSSH keeps them in.
 *
 * A struct ykssh_sshkey holds the public half of a key and, for security
 * key ("sk") types, what the key stub carries: the FIDO application (RP
 * id), the flags byte and the key handle (the credential id).  ykssh never
 * holds a private key: sk keys live on the token, PIV keys in a PIV slot.
 *
 *	blob       wire encoding of the public key (PROTOCOL.u2f, RFC 4253/5656)
 *	.pub line  "<type> <base64(blob)> <comment>"
 *	stub       "openssh-key-v1" private-key file of an sk key, unencrypted,
 *	           exactly as ssh-keygen writes it with an empty passphrase
 *	fingerprint "SHA256:" + unpadded base64 of SHA-256(blob)
 *
 * Formats: docs/formats.md; facts from OpenSSH's PROTOCOL.key and
 * PROTOCOL.u2f.  All outputs are checked against real ssh-keygen in tests.
 */
#ifndef YKSSH_SSHKEY_H
#define YKSSH_SSHKEY_H

#include <stddef.h>
#include <stdint.h>

#include "ykssh/buf.h"
#include "ykssh/error.h"

enum ykssh_keytype {
	YKSSH_KEY_UNSPEC = 0,
	YKSSH_KEY_ED25519_SK,	/* sk-ssh-ed25519@openssh.com */
	YKSSH_KEY_ECDSA_SK,	/* sk-ecdsa-sha2-nistp256@openssh.com */
	YKSSH_KEY_ED25519,	/* ssh-ed25519 */
	YKSSH_KEY_ECDSA_P256,	/* ecdsa-sha2-nistp256 */
	YKSSH_KEY_ECDSA_P384,	/* ecdsa-sha2-nistp384 */
	YKSSH_KEY_RSA		/* ssh-rsa */
};

/* Flags byte of sk keys (OpenSSH sk-api.h). */
#define YKSSH_SK_USER_PRESENCE_REQD	0x01
#define YKSSH_SK_USER_VERIFICATION_REQD	0x04
#define YKSSH_SK_FORCE_OPERATION	0x10
#define YKSSH_SK_RESIDENT_KEY		0x20

/* Largest key handle we accept (CTAP caps credential ids well below). */
#define YKSSH_SK_KEY_HANDLE_MAX		1024
/* Largest application string we accept. */
#define YKSSH_SK_APPLICATION_MAX	256

struct ykssh_sshkey;

/* An empty key (type UNSPEC).  NULL only on allocation failure. */
struct ykssh_sshkey *ykssh_sshkey_new(void) YKSSH_MUST_CHECK;
/* Frees (wiping the key handle).  NULL is ok. */
void ykssh_sshkey_free(struct ykssh_sshkey *key);

/* "sk-ssh-ed25519@openssh.com"; NULL for UNSPEC or unknown. */
const char *ykssh_sshkey_type_name(enum ykssh_keytype type);
/* What ssh-keygen -l shows in parentheses: "ED25519-SK", "RSA", ... */
const char *ykssh_sshkey_type_label(enum ykssh_keytype type);
/* The type for a name, YKSSH_KEY_UNSPEC if unknown. */
enum ykssh_keytype ykssh_sshkey_type_from_name(const char *name);
int ykssh_sshkey_type_is_sk(enum ykssh_keytype type);

/*
 * Setters.  Each validates its input (sizes; EC points must be on the
 * curve, uncompressed; RSA modulus at least 1024 bits) and on failure leaves
 * the key unchanged.  Errors: INVALID_ARGUMENT, INVALID_FORMAT, NOMEM.
 *
 * sk: type ED25519_SK (pk = 32 bytes) or ECDSA_SK (pk = 65-byte SEC1
 * uncompressed point); application of at most YKSSH_SK_APPLICATION_MAX
 * bytes (any text, as OpenSSH reads; enrollment requires "ssh:").
 */
struct ykssh_err *ykssh_sshkey_set_sk(struct ykssh_sshkey *key,
    enum ykssh_keytype type, const uint8_t *pk, size_t pklen,
    const char *application, uint8_t flags, const uint8_t *key_handle,
    size_t key_handle_len) YKSSH_MUST_CHECK;
/* ED25519: 32 bytes; ECDSA_P256/P384: SEC1 uncompressed point. */
struct ykssh_err *ykssh_sshkey_set_public(struct ykssh_sshkey *key,
    enum ykssh_keytype type, const uint8_t *pk, size_t pklen)
    YKSSH_MUST_CHECK;
/* RSA from big-endian modulus and exponent. */
struct ykssh_err *ykssh_sshkey_set_rsa(struct ykssh_sshkey *key,
    const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen)
    YKSSH_MUST_CHECK;
/* Replaces the flags byte of an sk key. */
void ykssh_sshkey_set_sk_flags(struct ykssh_sshkey *key, uint8_t flags);

/* Accessors; pointers owned by the key, valid until it changes. */
enum ykssh_keytype ykssh_sshkey_type(const struct ykssh_sshkey *key);
/* Key size in bits as ssh-keygen -l reports it (256, 384, RSA modulus). */
unsigned ykssh_sshkey_bits(const struct ykssh_sshkey *key);
const uint8_t *ykssh_sshkey_pk_ptr(const struct ykssh_sshkey *key);
size_t ykssh_sshkey_pk_len(const struct ykssh_sshkey *key);
const char *ykssh_sshkey_application(const struct ykssh_sshkey *key);
uint8_t ykssh_sshkey_sk_flags(const struct ykssh_sshkey *key);
const uint8_t *ykssh_sshkey_key_handle_ptr(const struct ykssh_sshkey *key);
size_t ykssh_sshkey_key_handle_len(const struct ykssh_sshkey *key);
/* Whether the key came with stub data (flags, key handle). */
int ykssh_sshkey_has_key_handle(const struct ykssh_sshkey *key);

/* Non-zero if both keys have the same type and public blob. */
int ykssh_sshkey_equal_public(const struct ykssh_sshkey *a,
    const struct ykssh_sshkey *b);

/* Appends the public key blob to out. */
struct ykssh_err *ykssh_sshkey_to_blob(const struct ykssh_sshkey *key,
    struct ykssh_buf *out) YKSSH_MUST_CHECK;
/*
 * Parses a public key blob (no trailing data allowed).  *keyp is set on
 * success only.  Errors: KEY_TYPE_UNKNOWN, INVALID_FORMAT (with the
 * field), NOMEM.
 */
struct ykssh_err *ykssh_sshkey_from_blob(const uint8_t *blob, size_t len,
    struct ykssh_sshkey **keyp) YKSSH_MUST_CHECK;

/* "SHA256:<43 chars>" into *fpp (free it). */
struct ykssh_err *ykssh_sshkey_fingerprint(const struct ykssh_sshkey *key,
    char **fpp) YKSSH_MUST_CHECK;

/*
 * The .pub line "<type> <base64> <comment>" without a newline.  With a NULL
 * comment the line ends after the base64; an empty comment leaves a trailing
 * space, as ssh-keygen writes it.  A comment containing a newline or other
 * control character is refused (INVALID_ARGUMENT): it would break the file.
 */
struct ykssh_err *ykssh_sshkey_format_public(const struct ykssh_sshkey *key,
    const char *comment, char **linep) YKSSH_MUST_CHECK;
/*
 * Parses one .pub / authorized_keys-style line "<type> <base64>
 * [comment]" (leading blanks and one trailing newline or CRLF allowed; no
 * options).  The type word must name the blob's type.  *commentp (if not
 * NULL) gets the comment or NULL.
 */
struct ykssh_err *ykssh_sshkey_parse_public(const char *line,
    struct ykssh_sshkey **keyp, char **commentp) YKSSH_MUST_CHECK;
/*
 * Reads and parses a .pub file (a regular file of at most 64 KiB).
 * *existsp is 0 and nothing else is set when the file does not exist.
 * Parse errors name the file.
 */
struct ykssh_err *ykssh_sshkey_load_public(const char *path,
    struct ykssh_sshkey **keyp, char **commentp, int *existsp)
    YKSSH_MUST_CHECK;

/*
 * Writes the stub of an sk key: the openssh-key-v1 armoured text ssh-keygen
 * writes for an unencrypted key, appended to out.  The check integers are
 * random.  Only sk types with a key handle (INVALID_ARGUMENT otherwise).
 */
struct ykssh_err *ykssh_sshkey_write_stub(const struct ykssh_sshkey *key,
    const char *comment, struct ykssh_buf *out) YKSSH_MUST_CHECK;
/*
 * Reads any openssh-key-v1 private key file.  The public key is always
 * returned.  For unencrypted files the comment is returned and, for sk
 * keys, the application, flags and key handle are loaded into the key;
 * private material of other key types is skipped and wiped, never kept.
 * For passphrase-protected files *encryptedp is set and the comment is
 * NULL (it is inside the encrypted part).
 * Errors: INVALID_FORMAT (naming the field), KEY_TYPE_UNKNOWN, NOMEM.
 */
struct ykssh_err *ykssh_sshkey_parse_stub(const uint8_t *data, size_t len,
    struct ykssh_sshkey **keyp, char **commentp, int *encryptedp)
    YKSSH_MUST_CHECK;

#endif /* YKSSH_SSHKEY_H */
