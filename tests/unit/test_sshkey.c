/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sshkey: checked against the real OpenSSH.
 *  - fixtures made by ssh-keygen (data/sshkey/mktestdata.sh): we read its
 *    private and public files and must reproduce its .pub line and its
 *    fingerprint;
 *  - stubs we write are read back by the real ssh-keygen (-y and -l),
 *    which must print our .pub line and our fingerprint.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ykssh/buf.h"
#include "ykssh/sshkey.h"

static char *
slurp(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	if (lenp != NULL)
		*lenp = (size_t)n;
	return buf;
}

static char *
fixture(const char *name)
{
	static char path[4096];
	const char *src = getenv("YKSSH_SOURCE_DIR");

	assert_non_null(src);
	snprintf(path, sizeof(path), "%s/tests/unit/data/sshkey/%s", src,
	    name);
	return path;
}

/* Runs a command and returns its first output line (no newline). */
static char *
command_line(const char *cmd)
{
	char buf[8192], *nl;
	FILE *p = popen(cmd, "r");

	assert_non_null(p);
	if (fgets(buf, sizeof(buf), p) == NULL)
		buf[0] = '\0';
	assert_int_equal(pclose(p), 0);
	if ((nl = strchr(buf, '\n')) != NULL)
		*nl = '\0';
	return strdup(buf);
}

static void
chomp(char *s)
{
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == '\n')
		s[n - 1] = '\0';
}

static void
check_fixture(const char *name, enum ykssh_keytype type, unsigned bits,
    int encrypted)
{
	char fpname[256], pubname[256];
	struct ykssh_sshkey *key = NULL, *pub = NULL;
	struct ykssh_err *err;
	char *data, *pubtext, *fptext, *comment = NULL, *pubcomment = NULL;
	char *line = NULL, *fp = NULL, *want;
	size_t len;
	int enc = -1;

	snprintf(pubname, sizeof(pubname), "%s.pub", name);
	snprintf(fpname, sizeof(fpname), "%s.fp", name);
	data = slurp(fixture(name), &len);
	pubtext = slurp(fixture(pubname), NULL);
	fptext = slurp(fixture(fpname), NULL);
	chomp(pubtext);
	chomp(fptext);

	err = ykssh_sshkey_parse_stub((const uint8_t *)data, len, &key,
	    &comment, &enc);
	if (err != NULL)
		print_error("%s: %s\n", name, ykssh_err_message(err));
	assert_null(err);
	assert_int_equal(enc, encrypted);
	assert_int_equal(ykssh_sshkey_type(key), type);
	assert_int_equal(ykssh_sshkey_bits(key), bits);
	assert_null(ykssh_sshkey_parse_public(pubtext, &pub, &pubcomment));
	assert_true(ykssh_sshkey_equal_public(key, pub));

	/* Our fingerprint line equals ssh-keygen -l's. */
	assert_null(ykssh_sshkey_fingerprint(key, &fp));
	if (asprintf(&want, "%u %s %s (%s)", bits, fp,
	    pubcomment != NULL ? pubcomment : "no comment",
	    ykssh_sshkey_type_label(type)) < 0)
		fail();
	assert_string_equal(want, fptext);
	free(want);

	/* Our .pub line equals ssh-keygen's, byte for byte. */
	if (!encrypted) {
		assert_non_null(comment);
		assert_null(ykssh_sshkey_format_public(key, comment, &line));
		assert_string_equal(line, pubtext);
	} else
		assert_null(comment);
	free(line);
	free(fp);
	free(comment);
	free(pubcomment);
	free(data);
	free(pubtext);
	free(fptext);
	ykssh_sshkey_free(key);
	ykssh_sshkey_free(pub);
}

static void
test_fixtures_from_ssh_keygen(void **state)
{
	(void)state;
	check_fixture("ed25519", YKSSH_KEY_ED25519, 256, 0);
	check_fixture("ed25519_enc", YKSSH_KEY_ED25519, 256, 1);
	check_fixture("ecdsa256", YKSSH_KEY_ECDSA_P256, 256, 0);
	check_fixture("ecdsa384", YKSSH_KEY_ECDSA_P384, 384, 0);
	check_fixture("rsa2048", YKSSH_KEY_RSA, 2048, 0);
}

/* A fresh P-256 point (uncompressed) as a token would return it. */
static void
p256_point(uint8_t out[65])
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	size_t len = 0;

	assert_non_null(pk);
	assert_int_equal(EVP_PKEY_get_octet_string_param(pk, "pub", out, 65,
	    &len), 1);
	assert_int_equal(len, 65);
	EVP_PKEY_free(pk);
}

static struct ykssh_sshkey *
make_sk(enum ykssh_keytype type, const char *app, uint8_t flags,
    size_t khlen)
{
	struct ykssh_sshkey *key = ykssh_sshkey_new();
	uint8_t pk[65], kh[256];
	size_t pklen;

	assert_non_null(key);
	assert_true(khlen <= sizeof(kh));
	assert_int_equal(RAND_bytes(kh, (int)khlen), 1);
	if (type == YKSSH_KEY_ECDSA_SK) {
		p256_point(pk);
		pklen = 65;
	} else {
		assert_int_equal(RAND_bytes(pk, 32), 1);
		pklen = 32;
	}
	assert_null(ykssh_sshkey_set_sk(key, type, pk, pklen, app, flags, kh,
	    khlen));
	return key;
}

/* Write our stub, let ssh-keygen read it, and read it back ourselves. */
static void
check_stub_with_ssh_keygen(enum ykssh_keytype type, const char *app,
    uint8_t flags, size_t khlen, const char *comment)
{
	char dir[] = "/tmp/ykssh-sshkey.XXXXXX", path[256], cmd[1024];
	struct ykssh_sshkey *key = make_sk(type, app, flags, khlen), *back;
	struct ykssh_buf *stub = ykssh_buf_new();
	char *line = NULL, *fp = NULL, *got, *want, *backcomment = NULL;
	FILE *f;
	int enc = -1;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/id_sk", dir);
	assert_null(ykssh_sshkey_write_stub(key, comment, stub));
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(ykssh_buf_ptr(stub), 1, ykssh_buf_len(stub),
	    f), ykssh_buf_len(stub));
	fclose(f);
	assert_int_equal(chmod(path, 0600), 0);

	/* ssh-keygen -y prints the public key (no comment) of the stub. */
	assert_null(ykssh_sshkey_format_public(key, NULL, &line));
	snprintf(cmd, sizeof(cmd), "ssh-keygen -y -f '%s' 2>&1", path);
	got = command_line(cmd);
	/* 9.2 prints "<type> <base64> <comment>"; compare the key part. */
	assert_int_equal(strncmp(got, line, strlen(line)), 0);
	free(got);

	/*
	 * ssh-keygen -l prints bits, our fingerprint, the comment and the
	 * label.  From a private file an empty comment stays empty ("no
	 * comment" is what it says for a .pub file without one).
	 */
	assert_null(ykssh_sshkey_fingerprint(key, &fp));
	if (asprintf(&want, "256 %s %s (%s)", fp,
	    comment != NULL ? comment : "", ykssh_sshkey_type_label(type)) < 0)
		fail();
	snprintf(cmd, sizeof(cmd), "ssh-keygen -l -E sha256 -f '%s' 2>&1",
	    path);
	got = command_line(cmd);
	assert_string_equal(got, want);
	free(got);
	free(want);

	/* And we read back exactly what we wrote. */
	assert_null(ykssh_sshkey_parse_stub(ykssh_buf_ptr(stub),
	    ykssh_buf_len(stub), &back, &backcomment, &enc));
	assert_int_equal(enc, 0);
	assert_true(ykssh_sshkey_equal_public(key, back));
	assert_int_equal(ykssh_sshkey_sk_flags(back), flags);
	assert_string_equal(ykssh_sshkey_application(back), app);
	assert_int_equal(ykssh_sshkey_key_handle_len(back), khlen);
	assert_memory_equal(ykssh_sshkey_key_handle_ptr(back),
	    ykssh_sshkey_key_handle_ptr(key), khlen);
	assert_string_equal(backcomment, comment != NULL ? comment : "");

	unlink(path);
	rmdir(dir);
	free(backcomment);
	free(line);
	free(fp);
	ykssh_sshkey_free(back);
	ykssh_sshkey_free(key);
	ykssh_buf_free(stub);
}

static void
test_stubs_read_by_ssh_keygen(void **state)
{
	(void)state;
	check_stub_with_ssh_keygen(YKSSH_KEY_ED25519_SK, "ssh:", 0x01, 64,
	    "alice@laptop");
	check_stub_with_ssh_keygen(YKSSH_KEY_ED25519_SK, "ssh:work", 0x21, 16,
	    "resident key");
	check_stub_with_ssh_keygen(YKSSH_KEY_ECDSA_SK, "ssh:", 0x05, 64,
	    "verify required");
	check_stub_with_ssh_keygen(YKSSH_KEY_ECDSA_SK, "ssh:x", 0x00, 1, "");
	/* Key handle lengths that move the padding through all 8 values. */
	check_stub_with_ssh_keygen(YKSSH_KEY_ED25519_SK, "ssh:", 0x01, 65, "c");
	check_stub_with_ssh_keygen(YKSSH_KEY_ED25519_SK, "ssh:", 0x01, 66, "c");
	check_stub_with_ssh_keygen(YKSSH_KEY_ED25519_SK, "ssh:", 0x01, 67, "c");
}

/* Sizes given in reference: 74-byte ed25519-sk blob, 127-byte ecdsa-sk. */
static void
test_blob_sizes_and_round_trip(void **state)
{
	struct ykssh_sshkey *ed = make_sk(YKSSH_KEY_ED25519_SK, "ssh:", 1, 32);
	struct ykssh_sshkey *ec = make_sk(YKSSH_KEY_ECDSA_SK, "ssh:", 1, 32);
	struct ykssh_sshkey *back = NULL;
	struct ykssh_buf *b = ykssh_buf_new();

	(void)state;
	assert_null(ykssh_sshkey_to_blob(ed, b));
	assert_int_equal(ykssh_buf_len(b), 74);
	assert_null(ykssh_sshkey_from_blob(ykssh_buf_ptr(b),
	    ykssh_buf_len(b), &back));
	assert_true(ykssh_sshkey_equal_public(ed, back));
	/* A blob carries no stub fields. */
	assert_false(ykssh_sshkey_has_key_handle(back));
	ykssh_sshkey_free(back);
	ykssh_buf_reset(b);
	assert_null(ykssh_sshkey_to_blob(ec, b));
	assert_int_equal(ykssh_buf_len(b), 127);
	assert_false(ykssh_sshkey_equal_public(ed, ec));
	ykssh_sshkey_free(ed);
	ykssh_sshkey_free(ec);
	ykssh_buf_free(b);
}

static void
expect_parse_error(const char *line, int code)
{
	struct ykssh_sshkey *key = (struct ykssh_sshkey *)(uintptr_t)1;
	struct ykssh_err *err = ykssh_sshkey_parse_public(line, &key, NULL);

	if (err == NULL)
		print_error("accepted: %s\n", line);
	assert_non_null(err);
	assert_null(key);
	assert_int_equal(ykssh_err_code(err), code);
	ykssh_err_free(err);
}

static void
test_public_line_refusals(void **state)
{
	char *good = slurp(fixture("ed25519.pub"), NULL), *bad;
	char *b64 = strchr(good, ' ') + 1;

	(void)state;
	chomp(good);
	*strchr(b64, ' ') = '\0';
	expect_parse_error("", YKSSH_ERR_INVALID_FORMAT);
	expect_parse_error("ssh-ed25519", YKSSH_ERR_INVALID_FORMAT);
	expect_parse_error("ssh-dss AAAA", YKSSH_ERR_KEY_TYPE_UNKNOWN);
	expect_parse_error("ssh-ed25519 !!!!", YKSSH_ERR_INVALID_FORMAT);
	/* The type word must match the blob. */
	if (asprintf(&bad, "ecdsa-sha2-nistp256 %s c", b64) < 0)
		fail();
	expect_parse_error(bad, YKSSH_ERR_INVALID_FORMAT);
	free(bad);
	/* Two lines are not one key. */
	if (asprintf(&bad, "ssh-ed25519 %s a\nssh-ed25519 %s b", b64, b64) < 0)
		fail();
	expect_parse_error(bad, YKSSH_ERR_INVALID_FORMAT);
	free(bad);
	/* Truncated base64 of a valid blob. */
	b64[strlen(b64) - 8] = '\0';
	if (asprintf(&bad, "ssh-ed25519 %s", b64) < 0)
		fail();
	expect_parse_error(bad, YKSSH_ERR_INVALID_FORMAT);
	free(bad);
	free(good);
}

static void
test_public_line_forms(void **state)
{
	char *good = slurp(fixture("ed25519.pub"), NULL), *line;
	struct ykssh_sshkey *a = NULL, *b = NULL;
	char *comment = NULL;

	(void)state;
	assert_null(ykssh_sshkey_parse_public(good, &a, &comment));
	assert_string_equal(comment, "alice@laptop");
	free(comment);
	/* Leading blanks, CRLF, tabs, comment with spaces. */
	chomp(good);
	*strrchr(good, ' ') = '\0';
	if (asprintf(&line, " \t%s\tmy  laptop key\r\n", good) < 0)
		fail();
	assert_null(ykssh_sshkey_parse_public(line, &b, &comment));
	assert_string_equal(comment, "my  laptop key");
	assert_true(ykssh_sshkey_equal_public(a, b));
	free(comment);
	free(line);
	ykssh_sshkey_free(b);
	/* No comment at all. */
	assert_null(ykssh_sshkey_parse_public(good, &b, &comment));
	assert_null(comment);
	ykssh_sshkey_free(b);
	/* A comment with a control character is refused on output. */
	assert_non_null(line = (char *)(uintptr_t)1);
	{
		struct ykssh_err *err = ykssh_sshkey_format_public(a,
		    "evil\033[2J", &line);

		assert_int_equal(ykssh_err_code(err),
		    YKSSH_ERR_INVALID_ARGUMENT);
		assert_null(line);
		ykssh_err_free(err);
	}
	ykssh_sshkey_free(a);
	free(good);
}

static void
test_setter_validation(void **state)
{
	struct ykssh_sshkey *key = make_sk(YKSSH_KEY_ECDSA_SK, "ssh:", 1, 8);
	uint8_t bad[65], kh[4] = { 1, 2, 3, 4 };
	struct ykssh_err *err;
	char *fp1 = NULL, *fp2 = NULL;

	(void)state;
	assert_null(ykssh_sshkey_fingerprint(key, &fp1));
	/* Not on the curve: refused, and the key is unchanged. */
	memset(bad, 0x11, sizeof(bad));
	bad[0] = 0x04;
	err = ykssh_sshkey_set_sk(key, YKSSH_KEY_ECDSA_SK, bad, 65, "ssh:", 1,
	    kh, sizeof(kh));
	assert_int_equal(ykssh_err_code(err), YKSSH_ERR_INVALID_FORMAT);
	ykssh_err_free(err);
	/* Compressed form. */
	bad[0] = 0x02;
	err = ykssh_sshkey_set_sk(key, YKSSH_KEY_ECDSA_SK, bad, 33, "ssh:", 1,
	    kh, sizeof(kh));
	assert_non_null(err);
	ykssh_err_free(err);
	/* Wrong length, empty key handle, non-sk type. */
	err = ykssh_sshkey_set_sk(key, YKSSH_KEY_ED25519_SK, bad, 31, "ssh:",
	    1, kh, sizeof(kh));
	assert_non_null(err);
	ykssh_err_free(err);
	err = ykssh_sshkey_set_sk(key, YKSSH_KEY_ED25519_SK, bad, 32, "ssh:",
	    1, kh, 0);
	assert_non_null(err);
	ykssh_err_free(err);
	err = ykssh_sshkey_set_sk(key, YKSSH_KEY_ED25519, bad, 32, "ssh:", 1,
	    kh, 4);
	assert_int_equal(ykssh_err_code(err), YKSSH_ERR_INVALID_ARGUMENT);
	ykssh_err_free(err);
	assert_null(ykssh_sshkey_fingerprint(key, &fp2));
	assert_string_equal(fp1, fp2);
	/* Small RSA moduli are refused like OpenSSH does. */
	memset(bad, 0xff, sizeof(bad));
	err = ykssh_sshkey_set_rsa(key, bad, 64, (const uint8_t *)"\x01\x00\x01",
	    3);
	assert_int_equal(ykssh_err_code(err), YKSSH_ERR_INVALID_FORMAT);
	ykssh_err_free(err);
	free(fp1);
	free(fp2);
	ykssh_sshkey_free(key);
}

static void
test_stub_refusals(void **state)
{
	struct ykssh_sshkey *key = make_sk(YKSSH_KEY_ED25519_SK, "ssh:", 1, 16);
	struct ykssh_buf *stub = ykssh_buf_new();
	struct ykssh_sshkey *back = NULL;
	struct ykssh_err *err;
	char *text;
	size_t len, i;

	(void)state;
	assert_null(ykssh_sshkey_write_stub(key, "c", stub));
	len = ykssh_buf_len(stub);
	text = malloc(len + 1);
	memcpy(text, ykssh_buf_ptr(stub), len);
	text[len] = '\0';
	/* Every truncation fails cleanly. */
	for (i = 0; i < len - 1; i++) {
		err = ykssh_sshkey_parse_stub((uint8_t *)text, i, &back, NULL,
		    NULL);
		if (err == NULL)
			print_error("truncation at %zu accepted\n", i);
		assert_non_null(err);
		assert_null(back);
		ykssh_err_free(err);
	}
	/* Garbage after the END line. */
	text[len - 1] = 'x';
	err = ykssh_sshkey_parse_stub((uint8_t *)text, len, &back, NULL, NULL);
	assert_int_equal(ykssh_err_code(err), YKSSH_ERR_INVALID_FORMAT);
	ykssh_err_free(err);
	/* A public .pub file is not a stub. */
	err = ykssh_sshkey_parse_stub((const uint8_t *)"ssh-ed25519 AAAA", 16,
	    &back, NULL, NULL);
	assert_int_equal(ykssh_err_code(err), YKSSH_ERR_INVALID_FORMAT);
	ykssh_err_free(err);
	/* Non-sk keys have no stub. */
	{
		char *data = slurp(fixture("ed25519"), &len);
		struct ykssh_sshkey *plain = NULL;

		assert_null(ykssh_sshkey_parse_stub((uint8_t *)data, len,
		    &plain, NULL, NULL));
		ykssh_buf_reset(stub);
		err = ykssh_sshkey_write_stub(plain, "c", stub);
		assert_int_equal(ykssh_err_code(err),
		    YKSSH_ERR_INVALID_ARGUMENT);
		assert_int_equal(ykssh_buf_len(stub), 0);
		ykssh_err_free(err);
		ykssh_sshkey_free(plain);
		free(data);
	}
	free(text);
	ykssh_sshkey_free(key);
	ykssh_buf_free(stub);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures_from_ssh_keygen),
		cmocka_unit_test(test_stubs_read_by_ssh_keygen),
		cmocka_unit_test(test_blob_sizes_and_round_trip),
		cmocka_unit_test(test_public_line_refusals),
		cmocka_unit_test(test_public_line_forms),
		cmocka_unit_test(test_setter_validation),
		cmocka_unit_test(test_stub_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
