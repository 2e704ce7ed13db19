/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * openssh-key-v1 private key files (OpenSSH PROTOCOL.key): writing the
 * unencrypted stub of an sk key, and reading any such file far enough to
 * get its public key, comment and sk stub fields.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "sshkey-internal.h"
#include "ykssh/secret.h"

#define MARK_BEGIN	"-----BEGIN OPENSSH PRIVATE KEY-----"
#define MARK_END	"-----END OPENSSH PRIVATE KEY-----"
#define AUTH_MAGIC	"openssh-key-v1"	/* written with its NUL */
#define ARMOR_WRAP	70
/* A stub is a few hundred bytes; RSA-16384 private keys stay below this. */
#define KEYFILE_MAX	(64 * 1024)

static struct ykssh_err *
put_private_section(const struct ykssh_sshkey *key, const char *comment,
    struct ykssh_buf *priv)
{
	uint32_t check;
	uint8_t pad;
	int r;

	if (RAND_bytes((unsigned char *)&check, sizeof(check)) != 1)
		return YKSSH_ERR(YKSSH_ERR_CRYPTO, "random check value");
	if ((r = ykssh_buf_put_u32(priv, check)) != 0 ||
	    (r = ykssh_buf_put_u32(priv, check)) != 0 ||
	    (r = ykssh_buf_put_cstring(priv,
	    ykssh_sshkey_type_name(key->type))) != 0 ||
	    (key->type == YKSSH_KEY_ECDSA_SK &&
	    (r = ykssh_buf_put_cstring(priv, "nistp256")) != 0) ||
	    (r = ykssh_buf_put_string(priv, key->pk, key->pklen)) != 0 ||
	    (r = ykssh_buf_put_cstring(priv, key->application)) != 0 ||
	    (r = ykssh_buf_put_u8(priv, key->flags)) != 0 ||
	    (r = ykssh_buf_put_string(priv, key->key_handle,
	    key->key_handle_len)) != 0 ||
	    (r = ykssh_buf_put_string(priv, NULL, 0)) != 0 ||	/* reserved */
	    (r = ykssh_buf_put_cstring(priv,
	    comment != NULL ? comment : "")) != 0)
		return YKSSH_ERR(r, "cannot encode key stub");
	/* Pad to the cipher block size ("none": 8) with 1, 2, 3, ... */
	for (pad = 1; ykssh_buf_len(priv) % 8 != 0; pad++)
		if ((r = ykssh_buf_put_u8(priv, pad)) != 0)
			return YKSSH_ERR(r, "cannot encode key stub");
	return NULL;
}

struct ykssh_err *
ykssh_sshkey_write_stub(const struct ykssh_sshkey *key, const char *comment,
    struct ykssh_buf *out)
{
	struct ykssh_buf *pub = NULL, *priv = NULL, *bin = NULL, *text = NULL;
	struct ykssh_err *err = NULL;
	int r;

	if (!ykssh_sshkey_type_is_sk(key->type) || key->key_handle == NULL)
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT,
		    "only security keys with a key handle have stubs");
	if (comment != NULL && strpbrk(comment, "\r\n") != NULL)
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT,
		    "key comment contains a line break");
	if ((pub = ykssh_buf_new()) == NULL ||
	    (priv = ykssh_buf_new()) == NULL ||
	    (bin = ykssh_buf_new()) == NULL ||
	    (text = ykssh_buf_new()) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot encode key stub");
		goto out;
	}
	if ((err = ykssh_sshkey_to_blob(key, pub)) != NULL ||
	    (err = put_private_section(key, comment, priv)) != NULL)
		goto out;
	if ((r = ykssh_buf_put(bin, AUTH_MAGIC, sizeof(AUTH_MAGIC))) != 0 ||
	    (r = ykssh_buf_put_cstring(bin, "none")) != 0 ||	/* cipher */
	    (r = ykssh_buf_put_cstring(bin, "none")) != 0 ||	/* kdf */
	    (r = ykssh_buf_put_string(bin, NULL, 0)) != 0 ||	/* kdf opts */
	    (r = ykssh_buf_put_u32(bin, 1)) != 0 ||		/* keys */
	    (r = ykssh_buf_put_stringb(bin, pub)) != 0 ||
	    (r = ykssh_buf_put_stringb(bin, priv)) != 0 ||
	    (r = ykssh_buf_put(text, MARK_BEGIN "\n",
	    sizeof(MARK_BEGIN))) != 0 ||
	    (r = ykssh_buf_dtob64(bin, text, ARMOR_WRAP)) != 0 ||
	    (r = ykssh_buf_put(text, MARK_END "\n", sizeof(MARK_END))) != 0 ||
	    (r = ykssh_buf_putb(out, text)) != 0) {
		err = YKSSH_ERR(r, "cannot encode key stub");
		goto out;
	}
out:
	ykssh_buf_free(pub);
	ykssh_buf_free(priv);
	ykssh_buf_free(bin);
	ykssh_buf_free(text);
	return err;
}

/*
 * Strips the armour: the data must start with the BEGIN line and contain
 * the END line; only whitespace may follow it.  The base64 between them is
 * decoded into bin.
 */
static struct ykssh_err *
unarmor(const uint8_t *data, size_t len, struct ykssh_buf *bin)
{
	const char *p = (const char *)data, *body, *end;
	char *b64 = NULL;
	size_t i, blen;
	int r;

	if (len < sizeof(MARK_BEGIN) - 1 ||
	    memcmp(p, MARK_BEGIN, sizeof(MARK_BEGIN) - 1) != 0)
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "not an OpenSSH private key file (no \"%s\" line)",
		    MARK_BEGIN);
	if (memchr(p, '\0', len) != NULL)
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "key file contains a NUL byte");
	body = p + sizeof(MARK_BEGIN) - 1;
	if (body < p + len && *body == '\r')
		body++;
	if (body >= p + len || *body != '\n')
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "key file: garbage after the BEGIN line");
	body++;
	blen = len - (size_t)(body - p);
	end = memmem(body, blen, MARK_END, sizeof(MARK_END) - 1);
	if (end == NULL)
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "key file has no \"%s\" line", MARK_END);
	for (i = (size_t)(end - p) + sizeof(MARK_END) - 1; i < len; i++)
		if (strchr(" \t\r\n", p[i]) == NULL)
			return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
			    "key file: data after the END line");
	if ((b64 = strndup(body, (size_t)(end - body))) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot read key file");
	r = ykssh_buf_b64tod(bin, b64);
	ykssh_free_secret_string(b64);
	if (r != 0)
		return YKSSH_ERR(r == YKSSH_ERR_INVALID_FORMAT ?
		    YKSSH_ERR_INVALID_FORMAT : r,
		    "key file body is not valid base64");
	return NULL;
}

/* Skips the private fields of a non-sk key (without keeping them). */
static int
skip_private_fields(struct ykssh_buf *b, enum ykssh_keytype type)
{
	int i, r = 0;

	switch (type) {
	case YKSSH_KEY_ED25519:
		return ykssh_buf_get_string_direct(b, NULL, NULL); /* seed‖pk */
	case YKSSH_KEY_ECDSA_P256:
	case YKSSH_KEY_ECDSA_P384:
		return ykssh_buf_get_mpint_direct(b, NULL, NULL);  /* d */
	case YKSSH_KEY_RSA:
		for (i = 0; i < 4 && r == 0; i++)	/* d, iqmp, p, q */
			r = ykssh_buf_get_mpint_direct(b, NULL, NULL);
		return r;
	default:
		return YKSSH_ERR_INTERNAL;
	}
}

/*
 * The public fields of an RSA private section come n first, then e (the
 * blob has e first), so they are read here rather than by the shared code.
 */
static struct ykssh_err *
get_private_rsa_public(struct ykssh_buf *b, struct ykssh_sshkey *k)
{
	const uint8_t *n, *e;
	size_t nlen, elen;
	int r;

	if ((r = ykssh_buf_get_mpint_direct(b, &n, &nlen)) != 0 ||
	    (r = ykssh_buf_get_mpint_direct(b, &e, &elen)) != 0)
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "key file: bad RSA modulus or exponent: %s",
		    ykssh_strerror(r));
	return ykssh_sshkey_set_rsa(k, n, nlen, e, elen);
}

static struct ykssh_err *
parse_private_section(struct ykssh_buf *priv, const struct ykssh_sshkey *pub,
    struct ykssh_sshkey **privkeyp, char **commentp)
{
	struct ykssh_sshkey *k = NULL;
	struct ykssh_err *err = NULL;
	uint32_t check1, check2;
	const uint8_t *kh;
	size_t khlen, i, reslen;
	char *type = NULL, *app = NULL, *comment = NULL;
	uint8_t flags, pad;
	int r;

	*privkeyp = NULL;
	*commentp = NULL;
	if (ykssh_buf_len(priv) % 8 != 0)
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "key file: private section is not padded to 8 bytes");
	if ((r = ykssh_buf_get_u32(priv, &check1)) != 0 ||
	    (r = ykssh_buf_get_u32(priv, &check2)) != 0 ||
	    check1 != check2)
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "key file: check values differ (corrupt file)");
	if ((k = ykssh_sshkey_new()) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot read key file");
	if ((r = ykssh_buf_get_cstring(priv, &type, NULL)) != 0) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "key file: bad private key type field");
		goto out;
	}
	if (ykssh_sshkey_type_from_name(type) != pub->type) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "key file: private part is \"%.64s\", public part is %s",
		    type, ykssh_sshkey_type_name(pub->type));
		goto out;
	}
	if (pub->type == YKSSH_KEY_RSA)
		err = get_private_rsa_public(priv, k);
	else
		err = ykssh_sshkey_get_public_fields(priv, pub->type, k, &app);
	if (err != NULL)
		goto out;
	if (!ykssh_sshkey_equal_public(k, pub)) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "key file: private part does not match the public key");
		goto out;
	}
	if (ykssh_sshkey_type_is_sk(pub->type)) {
		if ((r = ykssh_buf_get_u8(priv, &flags)) != 0 ||
		    (r = ykssh_buf_get_string_direct(priv, &kh, &khlen)) != 0 ||
		    (r = ykssh_buf_get_string_direct(priv, NULL,
		    &reslen)) != 0) {
			err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
			    "key file: bad security key fields: %s",
			    ykssh_strerror(r));
			goto out;
		}
		if ((err = ykssh_sshkey_set_sk(k, pub->type, pub->pk,
		    pub->pklen, app, flags, kh, khlen)) != NULL)
			goto out;
	} else if ((r = skip_private_fields(priv, pub->type)) != 0) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "key file: bad private key fields: %s", ykssh_strerror(r));
		goto out;
	}
	if ((r = ykssh_buf_get_cstring(priv, &comment, NULL)) != 0) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "key file: bad comment field");
		goto out;
	}
	for (i = 1; ykssh_buf_len(priv) > 0; i++) {
		if (ykssh_buf_get_u8(priv, &pad) != 0 || pad != (uint8_t)i) {
			err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
			    "key file: bad padding");
			goto out;
		}
	}
	*privkeyp = k;		/* transferred */
	k = NULL;
	*commentp = comment;	/* transferred */
	comment = NULL;
out:
	free(type);
	free(app);
	free(comment);
	ykssh_sshkey_free(k);
	return err;
}

struct ykssh_err *
ykssh_sshkey_parse_stub(const uint8_t *data, size_t len,
    struct ykssh_sshkey **keyp, char **commentp, int *encryptedp)
{
	struct ykssh_buf *bin = NULL, *priv = NULL;
	struct ykssh_sshkey *pub = NULL, *full = NULL;
	struct ykssh_err *err = NULL;
	char *cipher = NULL, *kdf = NULL, *comment = NULL;
	const uint8_t *pubblob, *kdfopts;
	size_t pubbloblen, kdfoptslen;
	uint32_t nkeys;
	int r;

	*keyp = NULL;
	if (commentp != NULL)
		*commentp = NULL;
	if (encryptedp != NULL)
		*encryptedp = 0;
	if (len > KEYFILE_MAX)
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "key file is %zu bytes, larger than any key file", len);
	if ((bin = ykssh_buf_new()) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot read key file");
	if ((err = unarmor(data, len, bin)) != NULL)
		goto out;
	if ((r = ykssh_buf_cmp(bin, 0, AUTH_MAGIC, sizeof(AUTH_MAGIC))) != 0 ||
	    (r = ykssh_buf_consume(bin, sizeof(AUTH_MAGIC))) != 0) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "key file: no \"openssh-key-v1\" magic");
		goto out;
	}
	if ((r = ykssh_buf_get_cstring(bin, &cipher, NULL)) != 0 ||
	    (r = ykssh_buf_get_cstring(bin, &kdf, NULL)) != 0 ||
	    (r = ykssh_buf_get_string_direct(bin, &kdfopts,
	    &kdfoptslen)) != 0 ||
	    (r = ykssh_buf_get_u32(bin, &nkeys)) != 0) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "key file: truncated header");
		goto out;
	}
	if (nkeys != 1) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "key file holds %u keys; OpenSSH writes exactly one",
		    nkeys);
		goto out;
	}
	if ((r = ykssh_buf_get_string_direct(bin, &pubblob,
	    &pubbloblen)) != 0) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "key file: truncated public key");
		goto out;
	}
	if ((err = ykssh_sshkey_from_blob(pubblob, pubbloblen, &pub)) != NULL)
		goto out;
	if (strcmp(cipher, "none") != 0) {
		/* Passphrase-protected: only the public part is readable. */
		if (strcmp(kdf, "bcrypt") != 0 || kdfoptslen == 0) {
			err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
			    "key file: cipher \"%.32s\" with kdf \"%.32s\"",
			    cipher, kdf);
			goto out;
		}
		if (encryptedp != NULL)
			*encryptedp = 1;
		*keyp = pub;	/* transferred */
		pub = NULL;
		goto out;
	}
	if (strcmp(kdf, "none") != 0 || kdfoptslen != 0) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "key file: unencrypted but kdf \"%.32s\" is set", kdf);
		goto out;
	}
	if ((r = ykssh_buf_froms(bin, &priv)) != 0) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "key file: truncated private section");
		goto out;
	}
	if (ykssh_buf_check_empty(bin) != 0) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "key file: trailing data after the private section");
		goto out;
	}
	if ((err = parse_private_section(priv, pub, &full, &comment)) != NULL)
		goto out;
	*keyp = full;		/* transferred */
	full = NULL;
	if (commentp != NULL) {
		*commentp = comment;	/* transferred */
		comment = NULL;
	}
out:
	free(cipher);
	free(kdf);
	free(comment);
	ykssh_sshkey_free(pub);
	ykssh_sshkey_free(full);
	ykssh_buf_free(priv);
	ykssh_buf_free(bin);
	return err;
}
