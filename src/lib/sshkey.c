/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SSH public keys: types, validation, blobs, fingerprints and .pub lines.
 * The openssh-key-v1 stub file is in sshkey-stub.c.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "sshkey-internal.h"
#include "ykssh/secret.h"

#define RSA_MIN_BITS	1024
#define RSA_MAX_BITS	16384

static const struct keytype_info {
	enum ykssh_keytype	 type;
	const char		*name;
	const char		*label;
	const char		*curve;	/* ecdsa curve name on the wire */
	int			 nid;
	size_t			 pklen;	/* 0: variable (RSA) */
} keytypes[] = {
	{ YKSSH_KEY_ED25519_SK, "sk-ssh-ed25519@openssh.com", "ED25519-SK",
	    NULL, 0, 32 },
	{ YKSSH_KEY_ECDSA_SK, "sk-ecdsa-sha2-nistp256@openssh.com",
	    "ECDSA-SK", "nistp256", NID_X9_62_prime256v1, 65 },
	{ YKSSH_KEY_ED25519, "ssh-ed25519", "ED25519", NULL, 0, 32 },
	{ YKSSH_KEY_ECDSA_P256, "ecdsa-sha2-nistp256", "ECDSA", "nistp256",
	    NID_X9_62_prime256v1, 65 },
	{ YKSSH_KEY_ECDSA_P384, "ecdsa-sha2-nistp384", "ECDSA", "nistp384",
	    NID_secp384r1, 97 },
	{ YKSSH_KEY_RSA, "ssh-rsa", "RSA", NULL, 0, 0 },
};

static const struct keytype_info *
info(enum ykssh_keytype type)
{
	size_t i;

	for (i = 0; i < sizeof(keytypes) / sizeof(keytypes[0]); i++)
		if (keytypes[i].type == type)
			return &keytypes[i];
	return NULL;
}

const char *
ykssh_sshkey_type_name(enum ykssh_keytype type)
{
	const struct keytype_info *ki = info(type);

	return ki != NULL ? ki->name : NULL;
}

const char *
ykssh_sshkey_type_label(enum ykssh_keytype type)
{
	const struct keytype_info *ki = info(type);

	return ki != NULL ? ki->label : NULL;
}

enum ykssh_keytype
ykssh_sshkey_type_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(keytypes) / sizeof(keytypes[0]); i++)
		if (strcmp(keytypes[i].name, name) == 0)
			return keytypes[i].type;
	return YKSSH_KEY_UNSPEC;
}

int
ykssh_sshkey_type_is_sk(enum ykssh_keytype type)
{
	return type == YKSSH_KEY_ED25519_SK || type == YKSSH_KEY_ECDSA_SK;
}

struct ykssh_sshkey *
ykssh_sshkey_new(void)
{
	return calloc(1, sizeof(struct ykssh_sshkey));
}

static void
clear(struct ykssh_sshkey *key)
{
	free(key->rsa_n);
	free(key->rsa_e);
	free(key->application);
	ykssh_freezero(key->key_handle, key->key_handle_len);
	explicit_bzero(key, sizeof(*key));
}

void
ykssh_sshkey_free(struct ykssh_sshkey *key)
{
	if (key == NULL)
		return;
	clear(key);
	free(key);
}

/* The point must be uncompressed, on the curve and not at infinity. */
static struct ykssh_err *
check_ec_point(int nid, const uint8_t *p, size_t len)
{
	EC_GROUP *g = NULL;
	EC_POINT *pt = NULL;
	struct ykssh_err *err = NULL;

	if (len == 0 || p[0] != POINT_CONVERSION_UNCOMPRESSED)
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "EC public key is not an uncompressed point");
	if ((g = EC_GROUP_new_by_curve_name(nid)) == NULL ||
	    (pt = EC_POINT_new(g)) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot allocate EC point");
		goto out;
	}
	if (EC_POINT_oct2point(g, pt, p, len, NULL) != 1 ||
	    EC_POINT_is_at_infinity(g, pt) ||
	    EC_POINT_is_on_curve(g, pt, NULL) != 1)
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "EC public key is not a point on %s", OBJ_nid2sn(nid));
out:
	EC_POINT_free(pt);
	EC_GROUP_free(g);
	return err;
}

static struct ykssh_err *
check_pk(const struct keytype_info *ki, const uint8_t *pk, size_t pklen)
{
	if (pklen != ki->pklen)
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "%s public key has %zu bytes, expected %zu", ki->name,
		    pklen, ki->pklen);
	if (ki->nid != 0)
		return check_ec_point(ki->nid, pk, pklen);
	return NULL;
}

static struct ykssh_err *
check_application(const char *application)
{
	size_t len;

	if (application == NULL)
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT,
		    "security key application is missing");
	len = strlen(application);
	if (len > YKSSH_SK_APPLICATION_MAX)
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "security key application is %zu bytes long (limit %d)",
		    len, YKSSH_SK_APPLICATION_MAX);
	/*
	 * ssh-keygen only creates applications starting with "ssh:", but
	 * reads any: so do we.  Enrollment enforces the prefix.
	 */
	return NULL;
}

struct ykssh_err *
ykssh_sshkey_set_sk(struct ykssh_sshkey *key, enum ykssh_keytype type,
    const uint8_t *pk, size_t pklen, const char *application, uint8_t flags,
    const uint8_t *key_handle, size_t key_handle_len)
{
	const struct keytype_info *ki = info(type);
	struct ykssh_sshkey tmp;
	struct ykssh_err *err;

	if (!ykssh_sshkey_type_is_sk(type))
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT,
		    "not a security key type");
	if ((err = check_pk(ki, pk, pklen)) != NULL ||
	    (err = check_application(application)) != NULL)
		return err;
	if (key_handle_len == 0 || key_handle_len > YKSSH_SK_KEY_HANDLE_MAX)
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "key handle has %zu bytes (expected 1 to %d)",
		    key_handle_len, YKSSH_SK_KEY_HANDLE_MAX);
	memset(&tmp, 0, sizeof(tmp));
	tmp.type = type;
	memcpy(tmp.pk, pk, pklen);
	tmp.pklen = pklen;
	tmp.flags = flags;
	tmp.key_handle_len = key_handle_len;
	if ((tmp.application = strdup(application)) == NULL ||
	    (tmp.key_handle = malloc(key_handle_len)) == NULL) {
		clear(&tmp);
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot allocate key");
	}
	memcpy(tmp.key_handle, key_handle, key_handle_len);
	clear(key);
	*key = tmp;	/* transferred */
	return NULL;
}

struct ykssh_err *
ykssh_sshkey_set_public(struct ykssh_sshkey *key, enum ykssh_keytype type,
    const uint8_t *pk, size_t pklen)
{
	const struct keytype_info *ki = info(type);
	struct ykssh_err *err;

	if (ki == NULL || ki->pklen == 0 || ykssh_sshkey_type_is_sk(type))
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT,
		    "not a fixed-size plain key type");
	if ((err = check_pk(ki, pk, pklen)) != NULL)
		return err;
	clear(key);
	key->type = type;
	memcpy(key->pk, pk, pklen);
	key->pklen = pklen;
	return NULL;
}

/* Copies a big-endian magnitude without leading zeros. */
static uint8_t *
dup_magnitude(const uint8_t *p, size_t len, size_t *outlen)
{
	uint8_t *d;

	while (len > 0 && *p == 0) {
		p++;
		len--;
	}
	if ((d = malloc(len > 0 ? len : 1)) == NULL)
		return NULL;
	if (len > 0)
		memcpy(d, p, len);
	*outlen = len;
	return d;
}

struct ykssh_err *
ykssh_sshkey_set_rsa(struct ykssh_sshkey *key, const uint8_t *n, size_t nlen,
    const uint8_t *e, size_t elen)
{
	struct ykssh_sshkey tmp;
	BIGNUM *bn;
	int bits;

	if ((bn = BN_bin2bn(n, (int)nlen, NULL)) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot allocate modulus");
	bits = BN_num_bits(bn);
	BN_free(bn);
	if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS)
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "RSA modulus of %d bits (accepted: %d to %d)", bits,
		    RSA_MIN_BITS, RSA_MAX_BITS);
	if (elen == 0 || elen > 8 || (e[elen - 1] & 1) == 0)
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "RSA public exponent is not a small odd number");
	memset(&tmp, 0, sizeof(tmp));
	tmp.type = YKSSH_KEY_RSA;
	tmp.rsa_bits = (unsigned)bits;
	if ((tmp.rsa_n = dup_magnitude(n, nlen, &tmp.rsa_nlen)) == NULL ||
	    (tmp.rsa_e = dup_magnitude(e, elen, &tmp.rsa_elen)) == NULL) {
		clear(&tmp);
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot allocate RSA key");
	}
	if (tmp.rsa_elen == 0) {
		clear(&tmp);
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "RSA public exponent is zero");
	}
	clear(key);
	*key = tmp;	/* transferred */
	return NULL;
}

void
ykssh_sshkey_set_sk_flags(struct ykssh_sshkey *key, uint8_t flags)
{
	key->flags = flags;
}

enum ykssh_keytype
ykssh_sshkey_type(const struct ykssh_sshkey *key)
{
	return key->type;
}

unsigned
ykssh_sshkey_bits(const struct ykssh_sshkey *key)
{
	switch (key->type) {
	case YKSSH_KEY_ED25519_SK:
	case YKSSH_KEY_ECDSA_SK:
	case YKSSH_KEY_ED25519:
	case YKSSH_KEY_ECDSA_P256:
		return 256;
	case YKSSH_KEY_ECDSA_P384:
		return 384;
	case YKSSH_KEY_RSA:
		return key->rsa_bits;
	default:
		return 0;
	}
}

const uint8_t *
ykssh_sshkey_pk_ptr(const struct ykssh_sshkey *key)
{
	return key->type == YKSSH_KEY_RSA ? key->rsa_n : key->pk;
}

size_t
ykssh_sshkey_pk_len(const struct ykssh_sshkey *key)
{
	return key->type == YKSSH_KEY_RSA ? key->rsa_nlen : key->pklen;
}

const char *
ykssh_sshkey_application(const struct ykssh_sshkey *key)
{
	return key->application;
}

uint8_t
ykssh_sshkey_sk_flags(const struct ykssh_sshkey *key)
{
	return key->flags;
}

const uint8_t *
ykssh_sshkey_key_handle_ptr(const struct ykssh_sshkey *key)
{
	return key->key_handle;
}

size_t
ykssh_sshkey_key_handle_len(const struct ykssh_sshkey *key)
{
	return key->key_handle_len;
}

int
ykssh_sshkey_has_key_handle(const struct ykssh_sshkey *key)
{
	return key->key_handle != NULL;
}

struct ykssh_err *
ykssh_sshkey_to_blob(const struct ykssh_sshkey *key, struct ykssh_buf *out)
{
	const struct keytype_info *ki = info(key->type);
	struct ykssh_buf *b;
	int r;

	if (ki == NULL)
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT, "key has no type");
	if ((b = ykssh_buf_new()) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot allocate blob");
	if ((r = ykssh_buf_put_cstring(b, ki->name)) != 0)
		goto out;
	switch (key->type) {
	case YKSSH_KEY_RSA:
		if ((r = ykssh_buf_put_mpint(b, key->rsa_e,
		    key->rsa_elen)) != 0 ||
		    (r = ykssh_buf_put_mpint(b, key->rsa_n,
		    key->rsa_nlen)) != 0)
			goto out;
		break;
	default:
		if (ki->curve != NULL &&
		    (r = ykssh_buf_put_cstring(b, ki->curve)) != 0)
			goto out;
		if ((r = ykssh_buf_put_string(b, key->pk, key->pklen)) != 0)
			goto out;
		if (ykssh_sshkey_type_is_sk(key->type) &&
		    (r = ykssh_buf_put_cstring(b, key->application)) != 0)
			goto out;
		break;
	}
	r = ykssh_buf_putb(out, b);
out:
	ykssh_buf_free(b);
	if (r != 0)
		return YKSSH_ERR(r, "cannot encode %s public key: %s",
		    ki->name, ykssh_strerror(r));
	return NULL;
}

/*
 * Reads the type-specific public fields (after the type name) from b into
 * key.  Used for blobs and for the public part of stub private sections,
 * which share the layout up to the application.
 */
struct ykssh_err *
ykssh_sshkey_get_public_fields(struct ykssh_buf *b, enum ykssh_keytype type,
    struct ykssh_sshkey *key, char **applicationp)
{
	const struct keytype_info *ki = info(type);
	const uint8_t *pk, *n, *e;
	size_t pklen, nlen, elen;
	char *curve = NULL, *app = NULL;
	struct ykssh_err *err = NULL;
	int r;

	*applicationp = NULL;
	if (type == YKSSH_KEY_RSA) {
		if ((r = ykssh_buf_get_mpint_direct(b, &e, &elen)) != 0 ||
		    (r = ykssh_buf_get_mpint_direct(b, &n, &nlen)) != 0)
			return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
			    "RSA key: bad exponent or modulus: %s",
			    ykssh_strerror(r));
		return ykssh_sshkey_set_rsa(key, n, nlen, e, elen);
	}
	if (ki->curve != NULL) {
		if ((r = ykssh_buf_get_cstring(b, &curve, NULL)) != 0)
			return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
			    "%s key: bad curve name: %s", ki->name,
			    ykssh_strerror(r));
		if (strcmp(curve, ki->curve) != 0) {
			err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
			    "%s key names curve \"%s\"", ki->name, curve);
			goto out;
		}
	}
	if ((r = ykssh_buf_get_string_direct(b, &pk, &pklen)) != 0) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "%s key: bad public key field: %s", ki->name,
		    ykssh_strerror(r));
		goto out;
	}
	if (ykssh_sshkey_type_is_sk(type)) {
		if ((r = ykssh_buf_get_cstring(b, &app, NULL)) != 0) {
			err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
			    "%s key: bad application field: %s", ki->name,
			    ykssh_strerror(r));
			goto out;
		}
		if ((err = check_application(app)) != NULL ||
		    (err = check_pk(ki, pk, pklen)) != NULL)
			goto out;
		clear(key);
		key->type = type;
		memcpy(key->pk, pk, pklen);
		key->pklen = pklen;
		if ((key->application = strdup(app)) == NULL) {
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot allocate key");
			goto out;
		}
		*applicationp = app;	/* transferred */
		app = NULL;
	} else
		err = ykssh_sshkey_set_public(key, type, pk, pklen);
out:
	free(curve);
	free(app);
	return err;
}

struct ykssh_err *
ykssh_sshkey_from_blob(const uint8_t *blob, size_t len,
    struct ykssh_sshkey **keyp)
{
	struct ykssh_buf *b = NULL;
	struct ykssh_sshkey *key = NULL;
	struct ykssh_err *err = NULL;
	enum ykssh_keytype type;
	char *name = NULL, *app = NULL;
	int r;

	*keyp = NULL;
	if ((b = ykssh_buf_from(blob, len)) == NULL ||
	    (key = ykssh_sshkey_new()) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot parse key");
		goto out;
	}
	if ((r = ykssh_buf_get_cstring(b, &name, NULL)) != 0) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "public key blob: bad key type field: %s",
		    ykssh_strerror(r));
		goto out;
	}
	if ((type = ykssh_sshkey_type_from_name(name)) == YKSSH_KEY_UNSPEC) {
		err = YKSSH_ERR(YKSSH_ERR_KEY_TYPE_UNKNOWN,
		    "unsupported key type \"%.64s\"", name);
		goto out;
	}
	if ((err = ykssh_sshkey_get_public_fields(b, type, key, &app)) != NULL)
		goto out;
	if (ykssh_buf_check_empty(b) != 0) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "public key blob has %zu bytes of trailing data",
		    ykssh_buf_len(b));
		goto out;
	}
	*keyp = key;	/* transferred */
	key = NULL;
out:
	free(name);
	free(app);
	ykssh_sshkey_free(key);
	ykssh_buf_free(b);
	return err;
}

int
ykssh_sshkey_equal_public(const struct ykssh_sshkey *a,
    const struct ykssh_sshkey *b)
{
	struct ykssh_buf *ba = ykssh_buf_new(), *bb = ykssh_buf_new();
	struct ykssh_err *ea = NULL, *eb = NULL;
	int eq = 0;

	if (ba == NULL || bb == NULL || a->type != b->type)
		goto out;
	ea = ykssh_sshkey_to_blob(a, ba);
	eb = ykssh_sshkey_to_blob(b, bb);
	eq = ea == NULL && eb == NULL &&
	    ykssh_buf_len(ba) == ykssh_buf_len(bb) &&
	    memcmp(ykssh_buf_ptr(ba), ykssh_buf_ptr(bb),
	    ykssh_buf_len(ba)) == 0;
out:
	ykssh_err_free(ea);
	ykssh_err_free(eb);
	ykssh_buf_free(ba);
	ykssh_buf_free(bb);
	return eq;
}

struct ykssh_err *
ykssh_sshkey_fingerprint(const struct ykssh_sshkey *key, char **fpp)
{
	struct ykssh_buf *blob = NULL, *dig = NULL, *b64 = NULL;
	struct ykssh_err *err = NULL;
	uint8_t md[32];
	unsigned mdlen = sizeof(md);
	char *s = NULL;
	int r;

	*fpp = NULL;
	if ((blob = ykssh_buf_new()) == NULL ||
	    (b64 = ykssh_buf_new()) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot compute fingerprint");
		goto out;
	}
	if ((err = ykssh_sshkey_to_blob(key, blob)) != NULL)
		goto out;
	if (EVP_Digest(ykssh_buf_ptr(blob), ykssh_buf_len(blob), md, &mdlen,
	    EVP_sha256(), NULL) != 1 || mdlen != sizeof(md) ||
	    (dig = ykssh_buf_from(md, sizeof(md))) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_CRYPTO, "SHA-256 failed");
		goto out;
	}
	if ((r = ykssh_buf_put(b64, "SHA256:", 7)) != 0 ||
	    (r = ykssh_buf_dtob64(dig, b64, 0)) != 0) {
		err = YKSSH_ERR(r, "cannot encode fingerprint");
		goto out;
	}
	/* OpenSSH drops the base64 padding. */
	while (ykssh_buf_len(b64) > 0 &&
	    ykssh_buf_ptr(b64)[ykssh_buf_len(b64) - 1] == '=')
		if (ykssh_buf_consume_end(b64, 1) != 0)
			break;
	if ((s = ykssh_buf_dup_string(b64)) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot compute fingerprint");
		goto out;
	}
	*fpp = s;	/* transferred */
out:
	ykssh_buf_free(dig);
	ykssh_buf_free(blob);
	ykssh_buf_free(b64);
	return err;
}

static int
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

struct ykssh_err *
ykssh_sshkey_format_public(const struct ykssh_sshkey *key,
    const char *comment, char **linep)
{
	struct ykssh_buf *blob = NULL, *line = NULL;
	struct ykssh_err *err = NULL;
	int r;

	*linep = NULL;
	if (comment != NULL && has_control(comment))
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT,
		    "key comment contains a control character");
	if ((blob = ykssh_buf_new()) == NULL ||
	    (line = ykssh_buf_new()) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot format key");
		goto out;
	}
	if ((err = ykssh_sshkey_to_blob(key, blob)) != NULL)
		goto out;
	if ((r = ykssh_buf_putf(line, "%s ",
	    ykssh_sshkey_type_name(key->type))) != 0 ||
	    (r = ykssh_buf_dtob64(blob, line, 0)) != 0 ||
	    (comment != NULL &&
	    (r = ykssh_buf_putf(line, " %s", comment)) != 0)) {
		err = YKSSH_ERR(r, "cannot format key");
		goto out;
	}
	if ((*linep = ykssh_buf_dup_string(line)) == NULL)
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot format key");
out:
	ykssh_buf_free(blob);
	ykssh_buf_free(line);
	return err;
}

struct ykssh_err *
ykssh_sshkey_parse_public(const char *line, struct ykssh_sshkey **keyp,
    char **commentp)
{
	struct ykssh_buf *blob = NULL;
	struct ykssh_sshkey *key = NULL;
	struct ykssh_err *err = NULL;
	char *copy = NULL, *type, *b64, *comment, *end;
	int r;

	*keyp = NULL;
	if (commentp != NULL)
		*commentp = NULL;
	if ((copy = strdup(line)) == NULL ||
	    (blob = ykssh_buf_new()) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot parse key");
		goto out;
	}
	/* One trailing newline (LF or CRLF) is allowed, nothing after. */
	end = copy + strlen(copy);
	if (end > copy && end[-1] == '\n')
		*--end = '\0';
	if (end > copy && end[-1] == '\r')
		*--end = '\0';
	if (strpbrk(copy, "\r\n") != NULL) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "public key text has more than one line");
		goto out;
	}
	type = copy + strspn(copy, " \t");
	if ((b64 = strpbrk(type, " \t")) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "public key text has no base64 field");
		goto out;
	}
	*b64++ = '\0';
	b64 += strspn(b64, " \t");
	if ((comment = strpbrk(b64, " \t")) != NULL) {
		*comment++ = '\0';
		comment += strspn(comment, " \t");
	}
	if (ykssh_sshkey_type_from_name(type) == YKSSH_KEY_UNSPEC) {
		err = YKSSH_ERR(YKSSH_ERR_KEY_TYPE_UNKNOWN,
		    "unsupported key type \"%.64s\"", type);
		goto out;
	}
	if (*b64 == '\0' || (r = ykssh_buf_b64tod(blob, b64)) != 0) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "public key base64 field is not valid base64");
		goto out;
	}
	if ((err = ykssh_sshkey_from_blob(ykssh_buf_ptr(blob),
	    ykssh_buf_len(blob), &key)) != NULL)
		goto out;
	if (strcmp(ykssh_sshkey_type_name(key->type), type) != 0) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "public key text says \"%s\" but the key is \"%s\"", type,
		    ykssh_sshkey_type_name(key->type));
		goto out;
	}
	if (commentp != NULL && comment != NULL && *comment != '\0' &&
	    (*commentp = strdup(comment)) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot parse key");
		goto out;
	}
	*keyp = key;	/* transferred */
	key = NULL;
out:
	free(copy);
	ykssh_buf_free(blob);
	ykssh_sshkey_free(key);
	return err;
}
