/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Attestation verification (attest.h): the trust directory, FIDO2 packed
 * attestation (libfido2 checks the signature and parses authData; the
 * certificate rules and the chain are checked here with OpenSSL), the PIV
 * slot/F9 chain, and the ssh-sk-attest-v01 blob.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <fido.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attest-internal.h"
#include "ykssh/atomicfile.h"
#include "ykssh/attest.h"
#include "ykssh/buf.h"

#define TRUST_FILE_MAX		(1024 * 1024)
#define ATTEST_FILE_MAX		(256 * 1024)
#define OID_FIDO_AAGUID		"1.3.6.1.4.1.45724.1.1.4"
#define OID_YK_FIRMWARE		"1.3.6.1.4.1.41482.3.3"
#define OID_YK_SERIAL		"1.3.6.1.4.1.41482.3.7"
#define OID_YK_POLICY		"1.3.6.1.4.1.41482.3.8"
#define SK_ATTEST_MAGIC		"ssh-sk-attest-v01"

struct ykssh_attest_trust {
	X509_STORE		*store;
	STACK_OF(X509)		*intermediates;
	size_t			 nroots;
	char			*dir;
};

#define NOMEM()	YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory")

const char *
ykssh_attest_status_name(enum ykssh_attest_status s)
{
	switch (s) {
	case YKSSH_ATTEST_VERIFIED:
		return "verified";
	case YKSSH_ATTEST_UNTRUSTED:
		return "untrusted";
	case YKSSH_ATTEST_INVALID:
		return "invalid";
	case YKSSH_ATTEST_NONE:
		return "none";
	case YKSSH_ATTEST_MISSING:
		return "missing";
	}
	return "?";
}

void
ykssh_attest_result_free(struct ykssh_attest_result *r)
{
	if (r == NULL)
		return;
	free(r->reason);
	free(r->subject);
	free(r->root);
	free(r->path);
	free(r);
}

void
ykssh_attest_trust_free(struct ykssh_attest_trust *t)
{
	if (t == NULL)
		return;
	X509_STORE_free(t->store);
	sk_X509_pop_free(t->intermediates, X509_free);
	free(t->dir);
	free(t);
}

size_t
ykssh_attest_trust_count(const struct ykssh_attest_trust *t)
{
	return t->nroots;
}

const char *
ykssh_attest_trust_dir(const struct ykssh_attest_trust *t)
{
	return t->dir;
}

static int
is_cert_name(const char *name)
{
	size_t n = strlen(name);

	if (name[0] == '.' || n < 5)
		return 0;
	return strcmp(name + n - 4, ".pem") == 0 ||
	    strcmp(name + n - 4, ".crt") == 0 ||
	    strcmp(name + n - 4, ".cer") == 0;
}

/* Every certificate of one PEM text into the store or the stack. */
struct ykssh_err *
ykssh_attest_trust_add_pem(struct ykssh_attest_trust *t, const char *pem,
    size_t len, const char *name)
{
	BIO *bio;
	X509 *x;
	size_t n = 0;

	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return NOMEM();
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		n++;
		if (X509_check_issued(x, x) == X509_V_OK) {
			if (X509_STORE_add_cert(t->store, x) != 1) {
				X509_free(x);
				ERR_clear_error();
				continue;	/* a duplicate */
			}
			X509_free(x);
			t->nroots++;
		} else if (sk_X509_push(t->intermediates, x) <= 0) {
			X509_free(x);
			BIO_free(bio);
			return NOMEM();
		}
	}
	ERR_clear_error();
	BIO_free(bio);
	if (n == 0)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG,
		    "%s holds no PEM certificate", name),
		    "keep only PEM certificates (*.pem, *.crt) in the trust "
		    "directory");
	return NULL;
}

static struct ykssh_err *
load_dir(struct ykssh_attest_trust *t, const char *dir, int must)
{
	struct ykssh_err *err = NULL;
	struct dirent *de;
	char *path, *data;
	size_t len;
	int exists;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT && !must)
			return NULL;
		if (errno == ENOENT)
			return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_FILE_NOT_FOUND,
			    "trust directory %s does not exist", dir),
			    "create it and put the attestation root "
			    "certificates (PEM) in it");
		return YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot read %s", dir);
	}
	while (err == NULL && (de = readdir(d)) != NULL) {
		if (!is_cert_name(de->d_name))
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
			err = NOMEM();
			break;
		}
		data = NULL;
		if ((err = ykssh_atomicfile_read(path, TRUST_FILE_MAX, &data,
		    &len, &exists)) == NULL && exists)
			err = ykssh_attest_trust_add_pem(t, data, len, path);
		free(data);
		free(path);
	}
	closedir(d);
	return err;
}

struct ykssh_attest_trust *
ykssh_attest_trust_new(void)
{
	struct ykssh_attest_trust *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->store = X509_STORE_new()) == NULL ||
	    (t->intermediates = sk_X509_new_null()) == NULL) {
		ykssh_attest_trust_free(t);
		return NULL;
	}
	return t;
}

struct ykssh_err *
ykssh_attest_trust_load(const char *dir, const char *home,
    struct ykssh_attest_trust **tp)
{
	static const char *const system_dirs[] = { YKSSH_ATTEST_SYSTEM_DIRS };
	struct ykssh_attest_trust *t;
	struct ykssh_err *err = NULL;
	size_t i;

	*tp = NULL;
	if ((t = ykssh_attest_trust_new()) == NULL)
		return NOMEM();
	if (dir != NULL) {
		if ((t->dir = strdup(dir)) == NULL)
			err = NOMEM();
		else
			err = load_dir(t, dir, 1);
	} else {
		if (home == NULL || asprintf(&t->dir,
		    "%s/.config/ykssh/trust", home) < 0) {
			t->dir = NULL;
			err = home == NULL ? YKSSH_ERR(
			    YKSSH_ERR_INVALID_ARGUMENT, "no home") : NOMEM();
		}
		if (err == NULL)
			err = load_dir(t, t->dir, 0);
		for (i = 0; err == NULL &&
		    i < sizeof(system_dirs) / sizeof(system_dirs[0]); i++)
			err = load_dir(t, system_dirs[i], 0);
	}
	if (err != NULL) {
		ykssh_attest_trust_free(t);
		return err;
	}
	*tp = t;
	return NULL;
}

/* Result helpers. */
static struct ykssh_attest_result *
result_new(void)
{
	struct ykssh_attest_result *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->pin_policy = r->touch_policy = -1;
	return r;
}

static struct ykssh_err *
set_status(struct ykssh_attest_result *r, enum ykssh_attest_status s,
    const char *fmt, ...)
    YKSSH_PRINTF(3, 4);

static struct ykssh_err *
set_status(struct ykssh_attest_result *r, enum ykssh_attest_status s,
    const char *fmt, ...)
{
	va_list ap;
	int n;

	r->status = s;
	free(r->reason);
	r->reason = NULL;
	if (fmt == NULL)
		return NULL;
	va_start(ap, fmt);
	n = vasprintf(&r->reason, fmt, ap);
	va_end(ap);
	if (n < 0) {
		r->reason = NULL;
		return NOMEM();
	}
	return NULL;
}

static char *
name_line(const X509_NAME *name)
{
	BIO *bio;
	char *data, *s = NULL;
	long n;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_ONELINE &
	    ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (n = BIO_get_mem_data(bio, &data)) >= 0)
		s = strndup(data, (size_t)n);
	BIO_free(bio);
	return s;
}

/* The extension's extnValue bytes, or NULL (and *critp). */
static const ASN1_OCTET_STRING *
ext_value(const X509 *x, const char *oid, int *critp)
{
	ASN1_OBJECT *obj;
	X509_EXTENSION *e;
	int i;

	if ((obj = OBJ_txt2obj(oid, 1)) == NULL)
		return NULL;
	i = X509_get_ext_by_OBJ(x, obj, -1);
	ASN1_OBJECT_free(obj);
	if (i < 0 || (e = X509_get_ext(x, i)) == NULL)
		return NULL;
	if (critp != NULL)
		*critp = X509_EXTENSION_get_critical(e);
	return X509_EXTENSION_get_data(e);
}

/*
 * The chain from `leaf` up to a trusted root, with the trust directory's
 * intermediates (plus `extra`).  Sets the status: VERIFIED (root subject
 * recorded), UNTRUSTED (no path to a trusted root) or INVALID (expired,
 * bad signature, ...).
 */
static struct ykssh_err *
check_chain(const struct ykssh_attest_trust *t, X509 *leaf, X509 *extra,
    struct ykssh_attest_result *r)
{
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *untrusted = NULL, *chain;
	struct ykssh_err *err = NULL;
	X509 *top;
	int e, i;

	if (t->nroots == 0)
		return set_status(r, YKSSH_ATTEST_UNTRUSTED, "no trusted "
		    "attestation roots are installed (in %s)",
		    t->dir != NULL ? t->dir : "the trust directory");
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    (untrusted = sk_X509_new_null()) == NULL) {
		err = NOMEM();
		goto out;
	}
	for (i = 0; i < sk_X509_num(t->intermediates); i++)
		if (sk_X509_push(untrusted, sk_X509_value(t->intermediates,
		    i)) <= 0) {
			err = NOMEM();
			goto out;
		}
	if (extra != NULL && sk_X509_push(untrusted, extra) <= 0) {
		err = NOMEM();
		goto out;
	}
	if (X509_STORE_CTX_init(ctx, t->store, leaf, untrusted) != 1) {
		err = YKSSH_ERR(YKSSH_ERR_CRYPTO, "X509_STORE_CTX_init");
		goto out;
	}
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
	if (X509_verify_cert(ctx) == 1) {
		chain = X509_STORE_CTX_get0_chain(ctx);
		top = sk_X509_value(chain, sk_X509_num(chain) - 1);
		if ((r->root = name_line(X509_get_subject_name(top))) ==
		    NULL)
			err = NOMEM();
		else
			err = set_status(r, YKSSH_ATTEST_VERIFIED, NULL);
		goto out;
	}
	e = X509_STORE_CTX_get_error(ctx);
	switch (e) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		err = set_status(r, YKSSH_ATTEST_UNTRUSTED, "the attestation "
		    "does not chain to a trusted root in %s (%s)",
		    t->dir != NULL ? t->dir : "the trust directory",
		    X509_verify_cert_error_string(e));
		break;
	default:
		err = set_status(r, YKSSH_ATTEST_INVALID, "the attestation "
		    "chain does not verify (%s)",
		    X509_verify_cert_error_string(e));
		break;
	}
out:
	ERR_clear_error();
	sk_X509_free(untrusted);	/* certificates not owned */
	X509_STORE_CTX_free(ctx);
	return err;
}

/* WebAuthn 8.2.1: what a packed attestation certificate must be. */
const char *
ykssh_attest_check_packed_cert(X509 *x, const unsigned char *aaguid,
    size_t aaguid_len)
{
	const ASN1_OCTET_STRING *v;
	const unsigned char *p;
	X509_NAME *subj = X509_get_subject_name(x);
	ASN1_OCTET_STRING *inner = NULL;
	char ou[64];
	int crit = 0, ok;

	if (X509_get_version(x) != X509_VERSION_3)
		return "the attestation certificate is not X.509 version 3";
	if (X509_NAME_get_text_by_NID(subj, NID_organizationalUnitName, ou,
	    sizeof(ou)) < 0 || strcmp(ou, "Authenticator Attestation") != 0)
		return "the attestation certificate's subject OU is not "
		    "\"Authenticator Attestation\"";
	if (X509_NAME_get_index_by_NID(subj, NID_countryName, -1) < 0 ||
	    X509_NAME_get_index_by_NID(subj, NID_organizationName, -1) < 0 ||
	    X509_NAME_get_index_by_NID(subj, NID_commonName, -1) < 0)
		return "the attestation certificate's subject lacks C, O or "
		    "CN";
	/* X509_check_ca: 0 only for a certificate that is no CA. */
	if (X509_check_ca(x) != 0)
		return "the attestation certificate is a CA certificate";
	if ((v = ext_value(x, OID_FIDO_AAGUID, &crit)) == NULL)
		return NULL;
	if (crit)
		return "the attestation certificate's AAGUID extension is "
		    "critical";
	p = ASN1_STRING_get0_data(v);
	inner = d2i_ASN1_OCTET_STRING(NULL, &p, ASN1_STRING_length(v));
	ok = inner != NULL && p == ASN1_STRING_get0_data(v) +
	    ASN1_STRING_length(v) && ASN1_STRING_length(inner) == 16 &&
	    aaguid_len == 16 && memcmp(ASN1_STRING_get0_data(inner), aaguid,
	    16) == 0;
	ASN1_OCTET_STRING_free(inner);
	ERR_clear_error();
	if (!ok)
		return "the attestation certificate's AAGUID is not the "
		    "token's";
	return NULL;
}

static void
format_aaguid(const unsigned char *p, size_t len, char out[37])
{
	size_t i;
	int o = 0;

	out[0] = '\0';
	if (len != 16)
		return;
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		o += snprintf(out + o, (size_t)(37 - o), "%02x", p[i]);
	}
}

#define CBOR_DEPTH_MAX	8

/*
 * The length of the well-formed CBOR item at p, or 0.  Definite lengths
 * only, no count larger than the bytes left, bounded nesting: what libcbor
 * is given afterwards cannot make it allocate for a claimed size.
 */
static size_t
cbor_item_len(const uint8_t *p, size_t len, int depth)
{
	uint64_t n = 0, k, i;
	size_t hdr, used, u;
	uint8_t mt, ai;

	if (len == 0 || depth > CBOR_DEPTH_MAX)
		return 0;
	mt = (uint8_t)(p[0] >> 5);
	ai = (uint8_t)(p[0] & 0x1f);
	if (ai < 24) {
		n = ai;
		hdr = 1;
	} else if (ai <= 27) {
		hdr = 1 + ((size_t)1 << (ai - 24));
		if (len < hdr)
			return 0;
		for (i = 1; i < hdr; i++)
			n = n << 8 | p[i];
	} else
		return 0;	/* indefinite length or reserved */
	switch (mt) {
	case 0:
	case 1:
	case 7:
		return hdr;
	case 2:
	case 3:
		return n <= len - hdr ? hdr + (size_t)n : 0;
	case 6:
		u = cbor_item_len(p + hdr, len - hdr, depth + 1);
		return u != 0 ? hdr + u : 0;
	default:	/* 4 array, 5 map: each item takes a byte at least */
		k = mt == 5 ? 2 * n : n;
		if (n > len - hdr || k > len - hdr)
			return 0;
		for (i = 0, used = hdr; i < k; i++) {
			if ((u = cbor_item_len(p + used, len - used,
			    depth + 1)) == 0)
				return 0;
			used += u;
		}
		return used;
	}
}

/*
 * authData as OpenSSH stores it: one CBOR byte string holding rpIdHash,
 * flags, counter, the attested credential (AAGUID, id, COSE key) and the
 * extensions, nothing more, each part well-formed.
 */
static int
authdata_ok(const uint8_t *p, size_t len)
{
	const uint8_t *a;
	size_t alen, off, u;

	if (p == NULL || (u = cbor_item_len(p, len, 0)) != len ||
	    (p[0] >> 5) != 2)
		return 0;
	/* The string's contents: after its 1 to 9 byte header. */
	alen = (size_t)(p[0] & 0x1f) < 24 ? len - 1 :
	    len - 1 - ((size_t)1 << ((p[0] & 0x1f) - 24));
	a = p + (len - alen);
	if (alen < 37 || (a[32] & 0x40) == 0)	/* AT: a credential */
		return 0;
	off = 37 + 16;
	if (alen < off + 2)
		return 0;
	u = (size_t)a[off] << 8 | a[off + 1];
	off += 2;
	if (u > alen - off)
		return 0;
	off += u;
	if ((u = cbor_item_len(a + off, alen - off, 0)) == 0)
		return 0;
	off += u;
	if ((a[32] & 0x80) != 0) {	/* ED: extensions */
		if ((u = cbor_item_len(a + off, alen - off, 0)) == 0)
			return 0;
		off += u;
	}
	return off == alen;
}

/* Is the credential in authData the SSH key? */
static const char *
check_fido_key(const fido_cred_t *c, const struct ykssh_sshkey *key)
{
	const unsigned char *pk = fido_cred_pubkey_ptr(c);
	size_t pklen = fido_cred_pubkey_len(c);
	const uint8_t *kp = ykssh_sshkey_pk_ptr(key);
	size_t klen = ykssh_sshkey_pk_len(key);

	if (ykssh_sshkey_type(key) == YKSSH_KEY_ED25519_SK) {
		if (pklen != 32 || klen != 32 || memcmp(pk, kp, 32) != 0)
			return "the attestation is for another key";
	} else if (pklen != 64 || klen != 65 || kp[0] != 0x04 ||
	    memcmp(pk, kp + 1, 64) != 0)
		return "the attestation is for another key";
	if (ykssh_sshkey_has_key_handle(key) &&
	    (fido_cred_id_len(c) != ykssh_sshkey_key_handle_len(key) ||
	    memcmp(fido_cred_id_ptr(c), ykssh_sshkey_key_handle_ptr(key),
	    fido_cred_id_len(c)) != 0))
		return "the attestation is for another key handle";
	return NULL;
}

/*
 * fido_cred_verify(_self), which also wants the credProtect level asked
 * for to be the one in authData.  That level is inside the signed data and
 * not known here (a .pub does not say whether the key is resident): each
 * is tried, and only the signature decides.
 */
static int
verify_cred(fido_cred_t *c, int self)
{
	int prot, rc = FIDO_ERR_INVALID_PARAM;

	for (prot = 0; prot <= FIDO_CRED_PROT_UV_REQUIRED; prot++) {
		if (fido_cred_set_prot(c, prot) != FIDO_OK)
			continue;
		rc = self ? fido_cred_verify_self(c) : fido_cred_verify(c);
		if (rc != FIDO_ERR_INVALID_PARAM)
			break;
	}
	return rc;
}

struct ykssh_err *
ykssh_attest_verify_fido(const struct ykssh_attest_trust *t,
    const struct ykssh_attest_fido_in *in, const struct ykssh_sshkey *key,
    struct ykssh_attest_result **rp)
{
	struct ykssh_attest_result *r = NULL;
	struct ykssh_err *err = NULL;
	fido_cred_t *c = NULL;
	X509 *x = NULL;
	const unsigned char *p;
	const char *why, *fmt = in->fmt != NULL ? in->fmt : "packed";
	enum ykssh_keytype type = ykssh_sshkey_type(key);
	int rc;

	*rp = NULL;
	if ((r = result_new()) == NULL || (c = fido_cred_new()) == NULL) {
		err = NOMEM();
		goto out;
	}
	if (type != YKSSH_KEY_ED25519_SK && type != YKSSH_KEY_ECDSA_SK) {
		err = set_status(r, YKSSH_ATTEST_INVALID, "not a FIDO2 key");
		goto done;
	}
	if (strcmp(fmt, "none") == 0) {
		err = set_status(r, YKSSH_ATTEST_NONE, "the token gave no "
		    "attestation (format none)");
		goto done;
	}
	if (in->challenge == NULL || in->challenge_len == 0) {
		err = set_status(r, YKSSH_ATTEST_INVALID, "the enrollment "
		    "challenge is not known, so the signature cannot be "
		    "checked");
		goto done;
	}
	if ((rc = fido_cred_set_type(c, type == YKSSH_KEY_ED25519_SK ?
	    COSE_EDDSA : COSE_ES256)) != FIDO_OK ||
	    (rc = fido_cred_set_clientdata(c, in->challenge,
	    in->challenge_len)) != FIDO_OK ||
	    (rc = fido_cred_set_rp(c, ykssh_sshkey_application(key),
	    NULL)) != FIDO_OK ||
	    (rc = fido_cred_set_fmt(c, fmt)) != FIDO_OK) {
		err = set_status(r, YKSSH_ATTEST_INVALID, "unusable "
		    "attestation (%s)", fido_strerr(rc));
		goto done;
	}
	if (!authdata_ok(in->authdata, in->authdata_len) ||
	    (rc = fido_cred_set_authdata(c, in->authdata,
	    in->authdata_len)) != FIDO_OK) {
		err = set_status(r, YKSSH_ATTEST_INVALID, "the authenticator "
		    "data does not parse");
		goto done;
	}
	format_aaguid(fido_cred_aaguid_ptr(c), fido_cred_aaguid_len(c),
	    r->aaguid);
	if (in->sig_len == 0 || (rc = fido_cred_set_sig(c, in->sig,
	    in->sig_len)) != FIDO_OK) {
		err = set_status(r, YKSSH_ATTEST_INVALID, "the attestation "
		    "has no signature");
		goto done;
	}
	if ((why = check_fido_key(c, key)) != NULL) {
		err = set_status(r, YKSSH_ATTEST_INVALID, "%s", why);
		goto done;
	}
	if (in->x5c_len == 0) {
		rc = verify_cred(c, 1);
		if (rc != FIDO_OK)
			err = set_status(r, YKSSH_ATTEST_INVALID, "the self "
			    "attestation does not verify (%s)",
			    fido_strerr(rc));
		else
			err = set_status(r, YKSSH_ATTEST_NONE, "self "
			    "attestation: no certificate shows the key was "
			    "made in a hardware token");
		goto done;
	}
	if ((rc = fido_cred_set_x509(c, in->x5c, in->x5c_len)) != FIDO_OK ||
	    (rc = verify_cred(c, 0)) != FIDO_OK) {
		err = set_status(r, YKSSH_ATTEST_INVALID, "the attestation "
		    "signature does not verify (%s)", fido_strerr(rc));
		goto done;
	}
	p = in->x5c;
	if ((x = d2i_X509(NULL, &p, (long)in->x5c_len)) == NULL ||
	    p != in->x5c + in->x5c_len) {
		err = set_status(r, YKSSH_ATTEST_INVALID, "the attestation "
		    "certificate does not parse");
		goto done;
	}
	if ((r->subject = name_line(X509_get_subject_name(x))) == NULL) {
		err = NOMEM();
		goto out;
	}
	if (strcmp(fmt, "packed") == 0 && (why = ykssh_attest_check_packed_cert(x,
	    fido_cred_aaguid_ptr(c), fido_cred_aaguid_len(c))) != NULL) {
		err = set_status(r, YKSSH_ATTEST_INVALID, "%s", why);
		goto done;
	}
	err = check_chain(t, x, NULL, r);
done:
	if (err == NULL) {
		*rp = r;	/* transferred */
		r = NULL;
	}
out:
	ERR_clear_error();
	X509_free(x);
	fido_cred_free(&c);
	ykssh_attest_result_free(r);
	return err;
}

/* The public key of a certificate as an SSH key. */
static struct ykssh_err *
cert_key(X509 *x, struct ykssh_sshkey **kp)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	struct ykssh_sshkey *k = NULL;
	struct ykssh_err *err = NULL;
	BIGNUM *n = NULL, *e = NULL;
	unsigned char pt[133], nb[1024], eb[16];
	char group[32];
	size_t len = 0;
	int nl, el;

	*kp = NULL;
	if (pk == NULL)
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT, "no public key");
	if ((k = ykssh_sshkey_new()) == NULL)
		return NOMEM();
	if (EVP_PKEY_is_a(pk, "EC")) {
		enum ykssh_keytype type;

		if (EVP_PKEY_get_utf8_string_param(pk,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
		    NULL) != 1 ||
		    EVP_PKEY_get_octet_string_param(pk,
		    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt),
		    &len) != 1) {
			err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT, "EC key");
			goto out;
		}
		if (strcmp(group, "prime256v1") == 0)
			type = YKSSH_KEY_ECDSA_P256;
		else if (strcmp(group, "secp384r1") == 0)
			type = YKSSH_KEY_ECDSA_P384;
		else {
			err = YKSSH_ERR(YKSSH_ERR_KEY_TYPE_UNKNOWN, "curve %s",
			    group);
			goto out;
		}
		err = ykssh_sshkey_set_public(k, type, pt, len);
	} else if (EVP_PKEY_is_a(pk, "ED25519")) {
		len = sizeof(pt);
		if (EVP_PKEY_get_raw_public_key(pk, pt, &len) != 1)
			err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT, "Ed25519");
		else
			err = ykssh_sshkey_set_public(k, YKSSH_KEY_ED25519, pt,
			    len);
	} else if (EVP_PKEY_is_a(pk, "RSA")) {
		if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
		    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) != 1 ||
		    (nl = BN_bn2binpad(n, nb, BN_num_bytes(n))) <= 0 ||
		    BN_num_bytes(n) > (int)sizeof(nb) ||
		    BN_num_bytes(e) > (int)sizeof(eb) ||
		    (el = BN_bn2binpad(e, eb, BN_num_bytes(e))) <= 0)
			err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT, "RSA key");
		else
			err = ykssh_sshkey_set_rsa(k, nb, (size_t)nl, eb,
			    (size_t)el);
	} else
		err = YKSSH_ERR(YKSSH_ERR_KEY_TYPE_UNKNOWN, "key type");
out:
	ERR_clear_error();
	BN_free(n);
	BN_free(e);
	if (err != NULL) {
		ykssh_sshkey_free(k);
		return err;
	}
	*kp = k;
	return NULL;
}

/* Yubico's extensions of a PIV attestation certificate, when present. */
static void
read_yubico_exts(X509 *x, struct ykssh_attest_result *r)
{
	const ASN1_OCTET_STRING *v;
	const unsigned char *p;
	ASN1_INTEGER *ai;
	uint64_t serial;

	if ((v = ext_value(x, OID_YK_FIRMWARE, NULL)) != NULL &&
	    ASN1_STRING_length(v) == 3) {
		p = ASN1_STRING_get0_data(v);
		snprintf(r->firmware, sizeof(r->firmware), "%u.%u.%u", p[0],
		    p[1], p[2]);
	}
	if ((v = ext_value(x, OID_YK_SERIAL, NULL)) != NULL) {
		p = ASN1_STRING_get0_data(v);
		if ((ai = d2i_ASN1_INTEGER(NULL, &p,
		    ASN1_STRING_length(v))) != NULL) {
			if (ASN1_INTEGER_get_uint64(&serial, ai) == 1 &&
			    serial <= UINT32_MAX)
				r->serial = (uint32_t)serial;
			ASN1_INTEGER_free(ai);
		}
	}
	if ((v = ext_value(x, OID_YK_POLICY, NULL)) != NULL &&
	    ASN1_STRING_length(v) == 2) {
		p = ASN1_STRING_get0_data(v);
		r->pin_policy = p[0];
		r->touch_policy = p[1];
	}
	ERR_clear_error();
}

struct ykssh_err *
ykssh_attest_verify_piv(const struct ykssh_attest_trust *t, const char *pem,
    size_t pem_len, const struct ykssh_sshkey *key,
    struct ykssh_attest_result **rp)
{
	struct ykssh_attest_result *r = NULL;
	struct ykssh_sshkey *ck = NULL;
	struct ykssh_err *err = NULL, *e2;
	BIO *bio = NULL;
	X509 *slot = NULL, *f9 = NULL;
	EVP_PKEY *f9key;

	*rp = NULL;
	if ((r = result_new()) == NULL ||
	    (bio = BIO_new_mem_buf(pem, (int)pem_len)) == NULL) {
		err = NOMEM();
		goto out;
	}
	if ((slot = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		err = set_status(r, YKSSH_ATTEST_INVALID, "no attestation "
		    "certificate in the file");
		goto done;
	}
	if ((f9 = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		err = set_status(r, YKSSH_ATTEST_INVALID, "no F9 (device "
		    "attestation) certificate after the slot's");
		goto done;
	}
	if ((r->subject = name_line(X509_get_subject_name(slot))) == NULL) {
		err = NOMEM();
		goto out;
	}
	read_yubico_exts(slot, r);
	if ((f9key = X509_get0_pubkey(f9)) == NULL ||
	    X509_verify(slot, f9key) != 1) {
		err = set_status(r, YKSSH_ATTEST_INVALID, "the slot's "
		    "attestation certificate is not signed by the token's F9 "
		    "certificate");
		goto done;
	}
	if ((e2 = cert_key(slot, &ck)) != NULL) {
		err = set_status(r, YKSSH_ATTEST_INVALID, "the attested key "
		    "is unusable (%s)", ykssh_err_message(e2));
		ykssh_err_free(e2);
		goto done;
	}
	if (!ykssh_sshkey_equal_public(ck, key)) {
		err = set_status(r, YKSSH_ATTEST_INVALID, "the attestation "
		    "is for another key");
		goto done;
	}
	/*
	 * The F9 certificate is checked as the leaf of its own chain: some
	 * tokens' F9 certificates are not marked as CAs, so a chain through
	 * them to the slot certificate would fail on that alone.
	 */
	err = check_chain(t, f9, NULL, r);
done:
	if (err == NULL) {
		*rp = r;	/* transferred */
		r = NULL;
	}
out:
	ERR_clear_error();
	BIO_free(bio);
	X509_free(slot);
	X509_free(f9);
	ykssh_sshkey_free(ck);
	ykssh_attest_result_free(r);
	return err;
}

struct ykssh_err *
ykssh_attest_parse_sk(const uint8_t *data, size_t len,
    struct ykssh_attest_fido_in *in)
{
	struct ykssh_buf *b;
	const uint8_t *magic;
	size_t mlen;
	uint32_t flags;
	int r;

	memset(in, 0, sizeof(*in));
	if ((b = ykssh_buf_from(data, len)) == NULL)
		return NOMEM();
	if ((r = ykssh_buf_get_string_direct(b, &magic, &mlen)) != 0 ||
	    mlen != strlen(SK_ATTEST_MAGIC) ||
	    memcmp(magic, SK_ATTEST_MAGIC, mlen) != 0 ||
	    (r = ykssh_buf_get_string_direct(b, &in->x5c,
	    &in->x5c_len)) != 0 ||
	    (r = ykssh_buf_get_string_direct(b, &in->sig,
	    &in->sig_len)) != 0 ||
	    (r = ykssh_buf_get_string_direct(b, &in->authdata,
	    &in->authdata_len)) != 0 ||
	    (r = ykssh_buf_get_u32(b, &flags)) != 0 ||
	    (r = ykssh_buf_get_string_direct(b, &in->challenge,
	    &in->challenge_len)) != 0 ||
	    (r = ykssh_buf_check_empty(b)) != 0) {
		ykssh_buf_free(b);
		memset(in, 0, sizeof(*in));
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT, "not an "
		    "ssh-sk-attest-v01 attestation");
	}
	ykssh_buf_free(b);
	if (in->x5c_len == 0)
		in->x5c = NULL;
	if (in->challenge_len == 0)
		in->challenge = NULL;
	return NULL;
}

struct ykssh_err *
ykssh_attest_encode_sk(const struct ykssh_attest_fido_in *in,
    int with_challenge, struct ykssh_buf *out)
{
	struct ykssh_buf *b;
	int r;

	if ((b = ykssh_buf_new()) == NULL)
		return NOMEM();
	if ((r = ykssh_buf_put_cstring(b, SK_ATTEST_MAGIC)) != 0 ||
	    (r = ykssh_buf_put_string(b, in->x5c, in->x5c_len)) != 0 ||
	    (r = ykssh_buf_put_string(b, in->sig, in->sig_len)) != 0 ||
	    (r = ykssh_buf_put_string(b, in->authdata,
	    in->authdata_len)) != 0 ||
	    (r = ykssh_buf_put_u32(b, 0)) != 0 ||		/* flags */
	    (r = ykssh_buf_put_string(b, with_challenge ? in->challenge :
	    NULL, with_challenge ? in->challenge_len : 0)) != 0 ||
	    (r = ykssh_buf_putb(out, b)) != 0) {
		ykssh_buf_free(b);
		return YKSSH_ERR(r, "cannot encode the attestation");
	}
	ykssh_buf_free(b);
	return NULL;
}

char *
ykssh_attest_path(const char *pub_path, enum ykssh_keytype type)
{
	size_t n = strlen(pub_path);
	char *s;

	if (n > 4 && strcmp(pub_path + n - 4, ".pub") == 0)
		n -= 4;
	if (asprintf(&s, "%.*s%s", (int)n, pub_path,
	    ykssh_sshkey_type_is_sk(type) ? ".attest" :
	    "-attestation.pem") < 0)
		return NULL;
	return s;
}

struct ykssh_err *
ykssh_attest_verify_file(const struct ykssh_attest_trust *t,
    const char *pub_path, const char *att_path, const uint8_t *challenge,
    size_t challenge_len, struct ykssh_attest_result **rp)
{
	struct ykssh_attest_result *r = NULL;
	struct ykssh_attest_fido_in in;
	struct ykssh_sshkey *key = NULL;
	struct ykssh_err *err = NULL, *e2;
	char *path = NULL, *data = NULL;
	size_t len = 0;
	int exists;

	*rp = NULL;
	if ((err = ykssh_sshkey_load_public(pub_path, &key, NULL,
	    &exists)) != NULL)
		goto out;
	if (!exists) {
		err = YKSSH_ERR(YKSSH_ERR_FILE_NOT_FOUND, "%s does not exist",
		    pub_path);
		goto out;
	}
	path = att_path != NULL ? strdup(att_path) :
	    ykssh_attest_path(pub_path, ykssh_sshkey_type(key));
	if (path == NULL) {
		err = NOMEM();
		goto out;
	}
	if ((e2 = ykssh_atomicfile_read(path, ATTEST_FILE_MAX, &data, &len,
	    &exists)) != NULL || !exists) {
		if ((r = result_new()) == NULL) {
			ykssh_err_free(e2);
			err = NOMEM();
			goto out;
		}
		if (e2 != NULL)
			err = set_status(r, YKSSH_ATTEST_INVALID, "cannot "
			    "read %s (%s)", path, ykssh_err_message(e2));
		else
			err = set_status(r, YKSSH_ATTEST_MISSING, "no "
			    "attestation saved (%s)", path);
		ykssh_err_free(e2);
	} else if (ykssh_sshkey_type_is_sk(ykssh_sshkey_type(key))) {
		if ((e2 = ykssh_attest_parse_sk((const uint8_t *)data, len,
		    &in)) != NULL) {
			ykssh_err_free(e2);
			if ((r = result_new()) == NULL)
				err = NOMEM();
			else
				err = set_status(r, YKSSH_ATTEST_INVALID,
				    "%s is not an ssh-sk-attest-v01 "
				    "attestation", path);
		} else {
			if (challenge != NULL) {
				in.challenge = challenge;
				in.challenge_len = challenge_len;
			}
			err = ykssh_attest_verify_fido(t, &in, key, &r);
		}
	} else
		err = ykssh_attest_verify_piv(t, data, len, key, &r);
	if (err == NULL) {
		r->path = path;
		path = NULL;
		*rp = r;
		r = NULL;
	}
out:
	ykssh_sshkey_free(key);
	ykssh_attest_result_free(r);
	free(path);
	free(data);
	return err;
}
