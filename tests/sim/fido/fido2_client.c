/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small libfido2 1.12 client that reaches a token through ykssh's own
 * report I/O (src/lib/fido-io.c, via fido_dev_set_io_functions), as ykssh
 * does.  test_libfido2.py runs one
 * command per invocation and checks the key=value lines it prints.
 *
 *	fidosim_fido2_client URL info
 *	fidosim_fido2_client URL enroll es256|eddsa RK(0|1) PIN|- CREDPROT
 *	    RPID USER [X5C_OUT|-]
 *	fidosim_fido2_client URL assert RPID IDHEX|- es256|eddsa PUBHEX
 *	    PIN|- UP(0|1)
 *	fidosim_fido2_client URL setpin NEW
 *	fidosim_fido2_client URL changepin OLD NEW
 *	fidosim_fido2_client URL retries
 *	fidosim_fido2_client URL credman PIN RPID
 *	fidosim_fido2_client URL delete PIN IDHEX
 *	fidosim_fido2_client URL touch
 *	fidosim_fido2_client URL touch-cancel
 *
 * Exit status: 0 success, 3 libfido2 error ("error=<n> <name>" printed),
 * 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fido.h>
#include <fido/credman.h>
#include <fido/es256.h>
#include <fido/eddsa.h>
#include <openssl/rand.h>

#include "fido-io.h"

static void
hex(const char *key, const unsigned char *p, size_t len)
{
	size_t i;

	printf("%s=", key);
	for (i = 0; i < len; i++)
		printf("%02x", p[i]);
	printf("\n");
}

static int
unhex(const char *s, unsigned char **out, size_t *out_len)
{
	size_t n = strlen(s), i;
	unsigned char *p;
	unsigned int b;

	if (n % 2 != 0 || (p = malloc(n / 2 + 1)) == NULL)
		return -1;
	for (i = 0; i < n / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &b) != 1) {
			free(p);
			return -1;
		}
		p[i] = (unsigned char)b;
	}
	*out = p;
	*out_len = n / 2;
	return 0;
}

static int
fail(const char *what, int r)
{
	printf("error=%d %s\n", r, fido_strerr(r));
	fprintf(stderr, "%s: %s\n", what, fido_strerr(r));
	return 3;
}

static const char *
pin_arg(const char *s)
{
	return strcmp(s, "-") == 0 ? NULL : s;
}

static int
parse_alg(const char *s)
{
	if (strcmp(s, "es256") == 0)
		return COSE_ES256;
	if (strcmp(s, "eddsa") == 0)
		return COSE_EDDSA;
	return 0;
}

static int
cmd_info(fido_dev_t *dev)
{
	fido_cbor_info_t *ci;
	char **names;
	const bool *vals;
	size_t i, n;
	int r;

	if ((ci = fido_cbor_info_new()) == NULL)
		return 3;
	if ((r = fido_dev_get_cbor_info(dev, ci)) != FIDO_OK) {
		fido_cbor_info_free(&ci);
		return fail("get_cbor_info", r);
	}
	names = fido_cbor_info_versions_ptr(ci);
	printf("versions=");
	for (i = 0; i < fido_cbor_info_versions_len(ci); i++)
		printf("%s%s", i ? "," : "", names[i]);
	printf("\nextensions=");
	names = fido_cbor_info_extensions_ptr(ci);
	for (i = 0; i < fido_cbor_info_extensions_len(ci); i++)
		printf("%s%s", i ? "," : "", names[i]);
	printf("\n");
	hex("aaguid", fido_cbor_info_aaguid_ptr(ci),
	    fido_cbor_info_aaguid_len(ci));
	names = fido_cbor_info_options_name_ptr(ci);
	vals = fido_cbor_info_options_value_ptr(ci);
	n = fido_cbor_info_options_len(ci);
	printf("options=");
	for (i = 0; i < n; i++)
		printf("%s%s:%d", i ? "," : "", names[i], vals[i] ? 1 : 0);
	printf("\nalgorithms=");
	for (i = 0; i < fido_cbor_info_algorithm_count(ci); i++)
		printf("%s%d", i ? "," : "",
		    fido_cbor_info_algorithm_cose(ci, i));
	printf("\nprotocols=");
	for (i = 0; i < fido_cbor_info_protocols_len(ci); i++)
		printf("%s%u", i ? "," : "",
		    fido_cbor_info_protocols_ptr(ci)[i]);
	printf("\nmaxmsgsiz=%llu\n",
	    (unsigned long long)fido_cbor_info_maxmsgsiz(ci));
	printf("fwversion=%llu\n",
	    (unsigned long long)fido_cbor_info_fwversion(ci));
	printf("rk_remaining=%lld\n",
	    (long long)fido_cbor_info_rk_remaining(ci));
	printf("supports_cred_prot=%d\n", fido_dev_supports_cred_prot(dev));
	printf("supports_pin=%d\nhas_pin=%d\n", fido_dev_supports_pin(dev),
	    fido_dev_has_pin(dev));
	printf("supports_credman=%d\n", fido_dev_supports_credman(dev));
	printf("supports_uv=%d\n", fido_dev_supports_uv(dev));
	printf("is_fido2=%d\n", fido_dev_is_fido2(dev));
	fido_cbor_info_free(&ci);
	return 0;
}

static int
cmd_enroll(fido_dev_t *dev, char **argv)
{
	fido_cred_t *cred = NULL;
	unsigned char cdh[32], uid[32];
	const char *pin = pin_arg(argv[2]), *x5c_out = argv[6];
	int alg = parse_alg(argv[0]), rk = atoi(argv[1]);
	int prot = atoi(argv[3]), r, rc = 3;
	FILE *f;

	if (alg == 0)
		return 2;
	memset(uid, 0, sizeof(uid));
	strncpy((char *)uid, argv[5], sizeof(uid) - 1);
	if (RAND_bytes(cdh, sizeof(cdh)) != 1 ||
	    (cred = fido_cred_new()) == NULL)
		goto out;
	if ((r = fido_cred_set_type(cred, alg)) != FIDO_OK ||
	    (r = fido_cred_set_clientdata_hash(cred, cdh,
	    sizeof(cdh))) != FIDO_OK ||
	    (r = fido_cred_set_rk(cred, rk ? FIDO_OPT_TRUE :
	    FIDO_OPT_OMIT)) != FIDO_OK ||
	    (r = fido_cred_set_user(cred, uid, sizeof(uid), argv[5],
	    argv[5], NULL)) != FIDO_OK ||
	    (r = fido_cred_set_rp(cred, argv[4], NULL)) != FIDO_OK ||
	    (prot != 0 && (r = fido_cred_set_prot(cred, prot)) != FIDO_OK)) {
		rc = fail("cred setup", r);
		goto out;
	}
	if ((r = fido_dev_make_cred(dev, cred, pin)) != FIDO_OK) {
		rc = fail("make_cred", r);
		goto out;
	}
	printf("fmt=%s\n", fido_cred_fmt(cred));
	printf("x5c_len=%zu\n", fido_cred_x5c_len(cred));
	if (fido_cred_x5c_ptr(cred) != NULL)
		r = fido_cred_verify(cred);
	else
		r = fido_cred_verify_self(cred);
	if (r != FIDO_OK) {
		rc = fail("verify", r);
		goto out;
	}
	printf("verified=%s\n", fido_cred_x5c_ptr(cred) ? "x5c" : "self");
	printf("flags=%u\nsigcount=%u\nprot=%d\n", fido_cred_flags(cred),
	    fido_cred_sigcount(cred), fido_cred_prot(cred));
	hex("id", fido_cred_id_ptr(cred), fido_cred_id_len(cred));
	hex("pubkey", fido_cred_pubkey_ptr(cred), fido_cred_pubkey_len(cred));
	hex("aaguid", fido_cred_aaguid_ptr(cred), fido_cred_aaguid_len(cred));
	if (strcmp(x5c_out, "-") != 0 && fido_cred_x5c_ptr(cred) != NULL) {
		if ((f = fopen(x5c_out, "wb")) == NULL ||
		    fwrite(fido_cred_x5c_ptr(cred), 1, fido_cred_x5c_len(cred),
		    f) != fido_cred_x5c_len(cred)) {
			if (f != NULL)
				fclose(f);
			goto out;
		}
		fclose(f);
	}
	rc = 0;
out:
	fido_cred_free(&cred);
	return rc;
}

static int
cmd_assert(fido_dev_t *dev, char **argv)
{
	fido_assert_t *a = NULL;
	unsigned char cdh[32], *id = NULL, *pub = NULL;
	size_t id_len = 0, pub_len = 0, i;
	const char *pin = pin_arg(argv[4]);
	int alg = parse_alg(argv[2]), up = atoi(argv[5]), r, rc = 3;
	es256_pk_t *es = NULL;
	eddsa_pk_t *ed = NULL;
	const void *pk;

	if (alg == 0 || unhex(argv[3], &pub, &pub_len) < 0 ||
	    (strcmp(argv[1], "-") != 0 && unhex(argv[1], &id, &id_len) < 0))
		return 2;
	if (RAND_bytes(cdh, sizeof(cdh)) != 1 ||
	    (a = fido_assert_new()) == NULL)
		goto out;
	if ((r = fido_assert_set_clientdata_hash(a, cdh,
	    sizeof(cdh))) != FIDO_OK ||
	    (r = fido_assert_set_rp(a, argv[0])) != FIDO_OK ||
	    (id != NULL && (r = fido_assert_allow_cred(a, id,
	    id_len)) != FIDO_OK) ||
	    (r = fido_assert_set_up(a, up ? FIDO_OPT_TRUE :
	    FIDO_OPT_FALSE)) != FIDO_OK) {
		rc = fail("assert setup", r);
		goto out;
	}
	if ((r = fido_dev_get_assert(dev, a, pin)) != FIDO_OK) {
		rc = fail("get_assert", r);
		goto out;
	}
	if (alg == COSE_ES256) {
		if ((es = es256_pk_new()) == NULL ||
		    es256_pk_from_ptr(es, pub, pub_len) != FIDO_OK)
			goto out;
		pk = es;
	} else {
		if ((ed = eddsa_pk_new()) == NULL ||
		    eddsa_pk_from_ptr(ed, pub, pub_len) != FIDO_OK)
			goto out;
		pk = ed;
	}
	printf("count=%zu\n", fido_assert_count(a));
	for (i = 0; i < fido_assert_count(a); i++) {
		hex("assert_id", fido_assert_id_ptr(a, i),
		    fido_assert_id_len(a, i));
		hex("user_id", fido_assert_user_id_ptr(a, i),
		    fido_assert_user_id_len(a, i));
		printf("flags=%u\nsigcount=%u\nsig_len=%zu\n",
		    fido_assert_flags(a, i), fido_assert_sigcount(a, i),
		    fido_assert_sig_len(a, i));
	}
	/* The key given belongs to the first (newest) assertion. */
	if ((r = fido_assert_verify(a, 0, alg, pk)) != FIDO_OK) {
		rc = fail("assert_verify", r);
		goto out;
	}
	printf("assert_verified=1\n");
	rc = 0;
out:
	es256_pk_free(&es);
	eddsa_pk_free(&ed);
	fido_assert_free(&a);
	free(id);
	free(pub);
	return rc;
}

static int
cmd_credman(fido_dev_t *dev, const char *pin, const char *rp_id)
{
	fido_credman_metadata_t *md = NULL;
	fido_credman_rp_t *rp = NULL;
	fido_credman_rk_t *rk = NULL;
	const fido_cred_t *c;
	size_t i;
	int r, rc = 3;

	if ((md = fido_credman_metadata_new()) == NULL ||
	    (rp = fido_credman_rp_new()) == NULL ||
	    (rk = fido_credman_rk_new()) == NULL)
		goto out;
	if ((r = fido_credman_get_dev_metadata(dev, md, pin)) != FIDO_OK) {
		rc = fail("metadata", r);
		goto out;
	}
	printf("existing=%llu\nremaining=%llu\n",
	    (unsigned long long)fido_credman_rk_existing(md),
	    (unsigned long long)fido_credman_rk_remaining(md));
	if ((r = fido_credman_get_dev_rp(dev, rp, pin)) != FIDO_OK) {
		rc = fail("get_dev_rp", r);
		goto out;
	}
	for (i = 0; i < fido_credman_rp_count(rp); i++)
		printf("rp=%s\n", fido_credman_rp_id(rp, i));
	if ((r = fido_credman_get_dev_rk(dev, rp_id, rk, pin)) != FIDO_OK) {
		rc = fail("get_dev_rk", r);
		goto out;
	}
	for (i = 0; i < fido_credman_rk_count(rk); i++) {
		c = fido_credman_rk(rk, i);
		printf("rk=%d,%d,%s,", fido_cred_type(c), fido_cred_prot(c),
		    fido_cred_user_name(c) ? fido_cred_user_name(c) : "");
		hex("id", fido_cred_id_ptr(c), fido_cred_id_len(c));
	}
	rc = 0;
out:
	fido_credman_metadata_free(&md);
	fido_credman_rp_free(&rp);
	fido_credman_rk_free(&rk);
	return rc;
}

/* libfido2's touch-to-select (what OpenSSH does with several tokens). */
static int
cmd_touch(fido_dev_t *dev)
{
	int r, touched = 0, i;

	if ((r = fido_dev_get_touch_begin(dev)) != FIDO_OK)
		return fail("touch_begin", r);
	for (i = 0; i < 100 && !touched; i++)
		if ((r = fido_dev_get_touch_status(dev, &touched,
		    50)) != FIDO_OK)
			return fail("touch_status", r);
	printf("touched=%d\n", touched);
	return touched ? 0 : 3;
}

/*
 * Starts touch-to-select, sees no touch for 300 ms, then cancels: what
 * OpenSSH does to the tokens that were not touched.
 */
static int
cmd_touch_cancel(fido_dev_t *dev)
{
	int r, touched = 0, i;

	if ((r = fido_dev_get_touch_begin(dev)) != FIDO_OK)
		return fail("touch_begin", r);
	for (i = 0; i < 6 && !touched; i++)
		if ((r = fido_dev_get_touch_status(dev, &touched,
		    50)) != FIDO_OK)
			return fail("touch_status", r);
	printf("touched=%d\n", touched);
	if ((r = fido_dev_cancel(dev)) != FIDO_OK)
		return fail("cancel", r);
	return touched ? 3 : 0;
}

int
main(int argc, char **argv)
{
	fido_dev_io_t io;
	fido_dev_t *dev = NULL;
	unsigned char *id = NULL;
	size_t id_len;
	const char *cmd;
	int r, rc = 2, retries;

	if (argc < 3)
		goto usage;
	cmd = argv[2];
	fido_init(getenv("FIDOSIM_CLIENT_DEBUG") ? FIDO_DEBUG : 0);
	ykssh_fido_io_functions(&io);
	if ((dev = fido_dev_new()) == NULL)
		return 3;
	if ((r = fido_dev_set_io_functions(dev, &io)) != FIDO_OK ||
	    (r = fido_dev_open(dev, argv[1])) != FIDO_OK) {
		rc = fail("open", r);
		goto out;
	}
	fido_dev_set_timeout(dev, 20000);
	if (strcmp(cmd, "info") == 0 && argc == 3)
		rc = cmd_info(dev);
	else if (strcmp(cmd, "enroll") == 0 && argc == 10)
		rc = cmd_enroll(dev, argv + 3);
	else if (strcmp(cmd, "assert") == 0 && argc == 9)
		rc = cmd_assert(dev, argv + 3);
	else if (strcmp(cmd, "setpin") == 0 && argc == 4)
		rc = (r = fido_dev_set_pin(dev, argv[3], NULL)) == FIDO_OK ?
		    0 : fail("set_pin", r);
	else if (strcmp(cmd, "changepin") == 0 && argc == 5)
		rc = (r = fido_dev_set_pin(dev, argv[4], argv[3])) ==
		    FIDO_OK ? 0 : fail("change_pin", r);
	else if (strcmp(cmd, "retries") == 0 && argc == 3) {
		if ((r = fido_dev_get_retry_count(dev, &retries)) != FIDO_OK)
			rc = fail("retries", r);
		else {
			printf("retries=%d\n", retries);
			rc = 0;
		}
	} else if (strcmp(cmd, "credman") == 0 && argc == 5)
		rc = cmd_credman(dev, argv[3], argv[4]);
	else if (strcmp(cmd, "delete") == 0 && argc == 5) {
		if (unhex(argv[4], &id, &id_len) < 0)
			goto out;
		rc = (r = fido_credman_del_dev_rk(dev, id, id_len,
		    argv[3])) == FIDO_OK ? 0 : fail("del_dev_rk", r);
	} else if (strcmp(cmd, "touch") == 0 && argc == 3)
		rc = cmd_touch(dev);
	else if (strcmp(cmd, "touch-cancel") == 0 && argc == 3)
		rc = cmd_touch_cancel(dev);
	else
		goto usage;
out:
	free(id);
	if (dev != NULL) {
		(void)fido_dev_close(dev);
		fido_dev_free(&dev);
	}
	if (rc == 0)
		printf("ok=1\n");
	return rc;
usage:
	fprintf(stderr, "usage: see fido2_client.c\n");
	rc = 2;
	goto out;
}
