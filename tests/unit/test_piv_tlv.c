/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Parsers of PIV card data (piv-tlv.c).  The metadata vectors are GET
 * METADATA replies captured from the test card (pivsim, profile 5.7) with
 * tests/sim/piv/ykpiv_check after 'ykssh enroll --piv'; the .pub line is
 * the one ykssh wrote and ssh-keygen -D printed for that key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "piv-internal.h"

static const uint8_t md_9a[] = {
	0x01, 0x01, 0x11, 0x02, 0x02, 0x02, 0x03, 0x03, 0x01, 0x01, 0x04, 0x43,
	0x86, 0x41, 0x04, 0xc0, 0xc4, 0xa2, 0x85, 0x54, 0x60, 0x8c, 0xe6, 0x61,
	0xed, 0x9f, 0xfd, 0xd6, 0x94, 0x50, 0x2d, 0x39, 0x35, 0x07, 0x8c, 0xfc,
	0xdc, 0x11, 0x65, 0x22, 0xc1, 0xa5, 0x78, 0x5d, 0x40, 0x22, 0xcf, 0x52,
	0x85, 0x4f, 0x4c, 0xfd, 0xcc, 0x4a, 0x0b, 0xfa, 0x43, 0x98, 0x38, 0xe0,
	0xe5, 0xdb, 0xeb, 0x5b, 0xbb, 0xdd, 0xb0, 0xbd, 0xb4, 0x60, 0xd0, 0x74,
	0x97, 0x90, 0x92, 0x70, 0x2b, 0x3d, 0xdc,
};
static const char pub_9a[] = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlz"
    "dHAyNTYAAAAIbmlzdHAyNTYAAABBBMDEooVUYIzmYe2f/daUUC05NQeM/NwRZSLBpXhdQCL"
    "PUoVPTP3MSgv6Q5g44OXb61u73bC9tGDQdJeQknArPdw=";
static const uint8_t md_80[] = { 0x05, 0x01, 0x01, 0x06, 0x02, 0x03, 0x03 };
static const uint8_t md_9b[] = {
	0x01, 0x01, 0x0a, 0x02, 0x02, 0x00, 0x01, 0x05, 0x01, 0x01
};

static void
test_metadata_key(void **state)
{
	struct piv_metadata md;
	struct ykssh_sshkey *key = NULL;
	char *line = NULL;

	(void)state;
	assert_int_equal(ykssh_piv_metadata_parse(md_9a, sizeof(md_9a), &md),
	    0);
	assert_int_equal(md.has, PIV_MD_HAS_ALG | PIV_MD_HAS_POLICY |
	    PIV_MD_HAS_ORIGIN | PIV_MD_HAS_PUBKEY);
	assert_int_equal(md.algorithm, YKSSH_PIV_ALG_ECCP256);
	assert_int_equal(md.pin_policy, YKSSH_PIV_PIN_ONCE);
	assert_int_equal(md.touch_policy, YKSSH_PIV_TOUCH_CACHED);
	assert_int_equal(md.origin, 1);
	assert_int_equal(md.pubkey_len, 67);
	assert_null(ykssh_piv_pubkey_parse(md.algorithm, md.pubkey,
	    md.pubkey_len, 0, &key));
	assert_null(ykssh_sshkey_format_public(key, NULL, &line));
	assert_string_equal(line, pub_9a);
	free(line);
	ykssh_sshkey_free(key);
}

static void
test_metadata_pin_mgmt(void **state)
{
	struct piv_metadata md;

	(void)state;
	assert_int_equal(ykssh_piv_metadata_parse(md_80, sizeof(md_80), &md),
	    0);
	assert_int_equal(md.has, PIV_MD_HAS_DEFAULT | PIV_MD_HAS_RETRIES);
	assert_int_equal(md.is_default, 1);
	assert_int_equal(md.retries_total, 3);
	assert_int_equal(md.retries_left, 3);
	assert_int_equal(ykssh_piv_metadata_parse(md_9b, sizeof(md_9b), &md),
	    0);
	assert_int_equal(md.algorithm, YKSSH_PIV_ALG_AES192);
	assert_int_equal(md.touch_policy, YKSSH_PIV_TOUCH_NEVER);
	assert_int_equal(md.is_default, 1);
	assert_int_equal(ykssh_piv_mgmt_key_len(md.algorithm), 24);
}

static void
test_metadata_refusals(void **state)
{
	static const uint8_t bad_alg[] = { 0x01, 0x02, 0x11, 0x11 };
	static const uint8_t bad_retries[] = { 0x06, 0x02, 0x03, 0x04 };
	static const uint8_t bad_len[] = { 0x01, 0x05, 0x11 };
	static const uint8_t bad_81[] = { 0x04, 0x81, 0x05, 0, 0, 0, 0, 0 };
	struct piv_metadata md;

	(void)state;
	assert_int_equal(ykssh_piv_metadata_parse(bad_alg, sizeof(bad_alg),
	    &md), -1);
	assert_int_equal(md.has, 0);
	assert_int_equal(ykssh_piv_metadata_parse(bad_retries,
	    sizeof(bad_retries), &md), -1);
	assert_int_equal(ykssh_piv_metadata_parse(bad_len, sizeof(bad_len),
	    &md), -1);
	/* 81 xx must carry a length >= 0x80 (DER minimal length). */
	assert_int_equal(ykssh_piv_metadata_parse(bad_81, sizeof(bad_81),
	    &md), -1);
}

/* Every truncation and every bit flip: no crash, sane results. */
static void
test_mutations(void **state)
{
	uint8_t buf[sizeof(md_9a)];
	struct piv_metadata md;
	struct ykssh_sshkey *key;
	struct ykssh_err *err;
	size_t i, bit;

	(void)state;
	for (i = 0; i < sizeof(md_9a); i++) {
		if (ykssh_piv_metadata_parse(md_9a, i, &md) == 0 &&
		    (md.has & PIV_MD_HAS_PUBKEY))
			assert_true(md.pubkey + md.pubkey_len <= md_9a + i);
	}
	for (i = 0; i < sizeof(md_9a); i++)
		for (bit = 0; bit < 8; bit++) {
			memcpy(buf, md_9a, sizeof(buf));
			buf[i] ^= (uint8_t)(1u << bit);
			if (ykssh_piv_metadata_parse(buf, sizeof(buf), &md) !=
			    0 || !(md.has & PIV_MD_HAS_PUBKEY))
				continue;
			key = NULL;
			err = ykssh_piv_pubkey_parse(YKSSH_PIV_ALG_ECCP256,
			    md.pubkey, md.pubkey_len, 0, &key);
			/* A flipped point is off the curve or a new key. */
			if (err != NULL)
				assert_null(key);
			ykssh_err_free(err);
			ykssh_sshkey_free(key);
		}
}

static void
test_generate_reply(void **state)
{
	uint8_t ec[5 + 67], rsa[300];
	struct ykssh_sshkey *key = NULL;
	struct ykssh_err *err;
	char *line = NULL;
	size_t n = 0;

	(void)state;
	/* ECCP256: 7F 49 43 86 41 04 X Y (as the card answers GENERATE). */
	ec[0] = 0x7f;
	ec[1] = 0x49;
	ec[2] = 0x43;
	memcpy(ec + 3, md_9a + 12, 67);
	assert_null(ykssh_piv_pubkey_parse(YKSSH_PIV_ALG_ECCP256, ec, 70, 1,
	    &key));
	assert_null(ykssh_sshkey_format_public(key, NULL, &line));
	assert_string_equal(line, pub_9a);
	free(line);
	ykssh_sshkey_free(key);
	key = NULL;
	/* The same point as P-384 is refused. */
	err = ykssh_piv_pubkey_parse(YKSSH_PIV_ALG_ECCP384, ec, 70, 1, &key);
	assert_non_null(err);
	assert_null(key);
	ykssh_err_free(err);
	/* RSA2048: 7F 49 82 01 09 81 82 01 00 n 82 03 01 00 01. */
	rsa[n++] = 0x7f;
	rsa[n++] = 0x49;
	rsa[n++] = 0x82;
	rsa[n++] = 0x01;
	rsa[n++] = 0x09;
	rsa[n++] = 0x81;
	rsa[n++] = 0x82;
	rsa[n++] = 0x01;
	rsa[n++] = 0x00;
	memset(rsa + n, 0xc5, 256);
	rsa[n + 255] = 0x01;
	n += 256;
	rsa[n++] = 0x82;
	rsa[n++] = 0x03;
	rsa[n++] = 0x01;
	rsa[n++] = 0x00;
	rsa[n++] = 0x01;
	assert_null(ykssh_piv_pubkey_parse(YKSSH_PIV_ALG_RSA2048, rsa, n, 1,
	    &key));
	assert_int_equal(ykssh_sshkey_type(key), YKSSH_KEY_RSA);
	assert_int_equal(ykssh_sshkey_bits(key), 2048);
	ykssh_sshkey_free(key);
	key = NULL;
	/* Truncated template. */
	err = ykssh_piv_pubkey_parse(YKSSH_PIV_ALG_RSA2048, rsa, n - 1, 1,
	    &key);
	assert_non_null(err);
	assert_null(key);
	ykssh_err_free(err);
}

static void
test_objects(void **state)
{
	static const uint8_t cert[] = {
		0x53, 0x0b, 0x70, 0x04, 0x30, 0x02, 0x05, 0x00, 0x71, 0x01,
		0x00, 0xfe, 0x00, 0x00
	};
	static const uint8_t gz[] = {
		0x53, 0x09, 0x70, 0x04, 0x30, 0x02, 0x05, 0x00, 0x71, 0x01,
		0x01
	};
	uint8_t prot[30], admin[] = { 0x53, 0x05, 0x80, 0x03, 0x81, 0x01,
	    0x02 };
	static const uint8_t admin_noflags[] = { 0x53, 0x04, 0x80, 0x02, 0x82,
	    0x00 };
	const uint8_t *v;
	size_t vlen;

	(void)state;
	/* The extra 00 after the object is ignored: the 53 length rules. */
	assert_int_equal(ykssh_piv_certobj_parse(cert, sizeof(cert), &v,
	    &vlen), 0);
	assert_ptr_equal(v, cert + 4);
	assert_int_equal(vlen, 4);
	assert_int_equal(ykssh_piv_certobj_parse(gz, sizeof(gz), &v, &vlen),
	    -1);
	assert_null(v);
	prot[0] = 0x53;
	prot[1] = 0x1c;
	prot[2] = 0x88;
	prot[3] = 0x1a;
	prot[4] = 0x89;
	prot[5] = 0x18;
	memset(prot + 6, 0xa5, 24);
	assert_int_equal(ykssh_piv_protected_parse(prot, 30, &v, &vlen), 0);
	assert_int_equal(vlen, 24);
	assert_ptr_equal(v, prot + 6);
	prot[5] = 0x17;		/* 23 bytes: no management key has that */
	prot[3] = 0x19;
	prot[1] = 0x1b;
	assert_int_equal(ykssh_piv_protected_parse(prot, 29, &v, &vlen), -1);
	assert_int_equal(ykssh_piv_admin_flags(admin, sizeof(admin)), 2);
	assert_int_equal(ykssh_piv_admin_flags(admin_noflags,
	    sizeof(admin_noflags)), 0);
	admin[1] = 0x06;	/* longer than the data */
	assert_int_equal(ykssh_piv_admin_flags(admin, sizeof(admin)), -1);
}

static void
test_lengths(void **state)
{
	uint8_t b[3], big[4 + 300];
	const uint8_t *v;
	size_t vlen;

	(void)state;
	assert_int_equal(ykssh_piv_put_len(b, 0x7f), 1);
	assert_int_equal(b[0], 0x7f);
	assert_int_equal(ykssh_piv_put_len(b, 0x80), 2);
	assert_int_equal(b[0], 0x81);
	assert_int_equal(ykssh_piv_put_len(b, 300), 3);
	assert_int_equal(b[0], 0x82);
	assert_int_equal(b[1], 0x01);
	assert_int_equal(b[2], 0x2c);
	big[0] = 0x70;
	memcpy(big + 1, b, 3);
	memset(big + 4, 0, 300);
	assert_int_equal(ykssh_piv_tlv_find(big, sizeof(big), 0x70, &v,
	    &vlen), 0);
	assert_int_equal(vlen, 300);
	assert_int_equal(ykssh_piv_tlv_find(big, sizeof(big) - 1, 0x70, &v,
	    &vlen), -1);
	assert_int_equal(ykssh_piv_tlv_check(big, sizeof(big)), 0);
	assert_int_equal(ykssh_piv_tlv_check(big, 2), -1);
}

static void
test_names(void **state)
{
	(void)state;
	assert_int_equal(ykssh_piv_slot_from_name("9a"), 0x9a);
	assert_int_equal(ykssh_piv_slot_from_name("95"), 0x95);
	assert_int_equal(ykssh_piv_slot_from_name("9b"), -1);
	assert_int_equal(ykssh_piv_slot_from_name("f9"), -1);
	assert_int_equal(ykssh_piv_slot_from_name("9a0"), -1);
	assert_int_equal(ykssh_piv_cert_object(0x9a), 0x5fc105);
	assert_int_equal(ykssh_piv_cert_object(0x82), 0x5fc10d);
	assert_int_equal(ykssh_piv_cert_object(0x95), 0x5fc120);
	assert_int_equal(ykssh_piv_cert_object(0x9b), 0);
	assert_string_equal(ykssh_piv_touch_policy_name(3), "cached");
	assert_string_equal(ykssh_piv_pin_policy_name(2), "once");
	assert_null(ykssh_piv_pin_policy_name(4));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metadata_key),
		cmocka_unit_test(test_metadata_pin_mgmt),
		cmocka_unit_test(test_metadata_refusals),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_generate_reply),
		cmocka_unit_test(test_objects),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
