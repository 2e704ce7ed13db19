/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bitbucket replies in the shapes Atlassian documents (reference §5, §6):
 * Cloud key objects and pages with "next", Data Center pages with
 * isLastPage/nextPageStart, both error bodies (the Cloud scope error has
 * an object as "detail"), and the refusals (duplicate keys, wrong types).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bitbucket-internal.h"
#include "ykssh/settings.h"

static const char cloud_page[] =
	"{\"pagelen\": 2, \"size\": 3, \"page\": 1, \"values\": ["
	"{\"type\": \"ssh_key\", \"uuid\": \"{b15b6026-9c02-4626-b4ad-"
	"b905f99f763a}\", \"key\": \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK"
	"ZBG4yLEgnVqMiEqh9GSk3C0l2xeDqDX0BMwYjIT/5W\", \"comment\": \"u@h\", "
	"\"label\": \"laptop\", \"created_on\": \"2026-11-01T10:00:00.000000"
	"+00:00\", \"last_used\": null, \"expires_on\": null, \"fingerprint\": "
	"\"lOuyzr1VUXjCFrv3qEWzv7P8+K4B2IOnR24+u2JdbIA\", \"links\": {\"self\":"
	" {\"href\": \"https://api.example/2.0/users/x/ssh-keys/y\"}}},"
	"{\"type\": \"ssh_key\", \"uuid\": \"{2}\", \"key\": \"ssh-rsa AAAA\","
	" \"label\": \"old\", \"created_on\": \"2020-01-01\", \"last_used\": "
	"\"2026-10-01\", \"expires_on\": \"2027-01-01T00:00:00+00:00\", "
	"\"fingerprint\": \"abc\"}],"
	"\"next\": \"https://api.example/2.0/users/x/ssh-keys?page=2\"}";

static const char dc_page[] =
	"{\"size\": 1, \"limit\": 1, \"isLastPage\": false, \"start\": 0, "
	"\"nextPageStart\": 1, \"values\": [{\"id\": 42, \"text\": "
	"\"ecdsa-sha2-nistp256 AAAA c\", \"label\": \"piv\", "
	"\"algorithmType\": \"ECDSA\", \"bitLength\": 256, \"createdDate\": "
	"1700000000000, \"expiryDays\": 90, \"fingerprint\": \"xyz\", "
	"\"lastAuthenticated\": \"1710000000000\"}]}";

static void
test_cloud_page(void **state)
{
	struct ykssh_bb_keylist l = { 0 };
	char *next = NULL;
	long start = 0;

	(void)state;
	assert_null(ykssh_bb_json_page(YKSSH_BB_CLOUD, cloud_page,
	    sizeof(cloud_page) - 1, &l, &next, &start));
	assert_int_equal(l.n, 2);
	assert_string_equal(l.keys[0].id,
	    "{b15b6026-9c02-4626-b4ad-b905f99f763a}");
	assert_string_equal(l.keys[0].label, "laptop");
	assert_string_equal(l.keys[0].fingerprint,
	    "SHA256:lOuyzr1VUXjCFrv3qEWzv7P8+K4B2IOnR24+u2JdbIA");
	assert_null(l.keys[0].last_used);
	assert_string_equal(l.keys[1].expires, "2027-01-01T00:00:00+00:00");
	assert_string_equal(next,
	    "https://api.example/2.0/users/x/ssh-keys?page=2");
	free(next);
	free(l.keys[0].id);
	/* (the rest is freed through a heap copy below) */
	{
		struct ykssh_bb_keylist *h = malloc(sizeof(*h));

		l.keys[0].id = NULL;
		*h = l;
		ykssh_bb_keylist_free(h);
	}
}

static void
test_dc_page(void **state)
{
	struct ykssh_bb_keylist *l = calloc(1, sizeof(*l));
	char *next = NULL;
	long start = -5;

	(void)state;
	assert_null(ykssh_bb_json_page(YKSSH_BB_DC, dc_page,
	    sizeof(dc_page) - 1, l, &next, &start));
	assert_null(next);
	assert_int_equal(start, 1);
	assert_int_equal(l->n, 1);
	assert_string_equal(l->keys[0].id, "42");
	assert_string_equal(l->keys[0].created, "1700000000000");
	assert_string_equal(l->keys[0].last_used, "1710000000000");
	assert_string_equal(l->keys[0].expires, "90");
	ykssh_bb_keylist_free(l);
}

static void
expect_page_error(enum ykssh_bb_product p, const char *body)
{
	struct ykssh_bb_keylist *l = calloc(1, sizeof(*l));
	struct ykssh_err *err;
	char *next = NULL;
	long start;

	err = ykssh_bb_json_page(p, body, strlen(body), l, &next, &start);
	if (err == NULL)
		print_error("accepted: %s\n", body);
	assert_non_null(err);
	assert_int_equal(ykssh_err_code(err), YKSSH_ERR_PROTOCOL);
	ykssh_err_free(err);
	free(next);
	ykssh_bb_keylist_free(l);
}

static void
test_page_refusals(void **state)
{
	(void)state;
	expect_page_error(YKSSH_BB_CLOUD, "");
	expect_page_error(YKSSH_BB_CLOUD, "[]");
	expect_page_error(YKSSH_BB_CLOUD, "{\"values\": {}}");
	expect_page_error(YKSSH_BB_CLOUD, "{\"values\": [], \"values\": []}");
	expect_page_error(YKSSH_BB_CLOUD, "{\"values\": [{\"label\": \"x\"}]}");
	expect_page_error(YKSSH_BB_CLOUD, "{\"values\": [], \"next\": 3}");
	expect_page_error(YKSSH_BB_CLOUD,
	    "{\"values\": [{\"uuid\": \"{1}\", \"label\": 7}]}");
	expect_page_error(YKSSH_BB_CLOUD,
	    "{\"values\": [{\"uuid\": \"{1}\", \"key\": \"a\\u0000b\"}]}");
	expect_page_error(YKSSH_BB_CLOUD, "{\"values\": [");
	expect_page_error(YKSSH_BB_DC, "{\"values\": []}");
	expect_page_error(YKSSH_BB_DC,
	    "{\"values\": [], \"isLastPage\": false}");
	expect_page_error(YKSSH_BB_DC,
	    "{\"values\": [], \"isLastPage\": false, \"nextPageStart\": -1}");
}

static void
test_error_bodies(void **state)
{
	static const char scope[] = "{\"type\": \"error\", \"error\": "
	    "{\"message\": \"Your credentials lack one or more required "
	    "privilege scopes.\", \"detail\": {\"granted\": "
	    "[\"read:user:bitbucket\"], \"required\": "
	    "[\"write:ssh-key:bitbucket\", \"read:ssh-key:bitbucket\"]}}}";
	static const char cloud[] = "{\"type\": \"error\", \"error\": "
	    "{\"message\": \"Someone has already registered that SSH key.\","
	    " \"detail\": \"x\"}}";
	static const char dc[] = "{\"errors\": [{\"context\": null, "
	    "\"message\": \"This SSH key is already registered.\", "
	    "\"exceptionName\": \"com.atlassian.DuplicateKeyException\"}]}";
	char *m, *req, *gr;

	(void)state;
	ykssh_bb_json_error(scope, sizeof(scope) - 1, &m, &req, &gr);
	assert_string_equal(req,
	    "write:ssh-key:bitbucket, read:ssh-key:bitbucket");
	assert_string_equal(gr, "read:user:bitbucket");
	assert_non_null(strstr(m, "privilege scopes"));
	free(m);
	free(req);
	free(gr);
	ykssh_bb_json_error(cloud, sizeof(cloud) - 1, &m, &req, &gr);
	assert_string_equal(m, "Someone has already registered that SSH key.");
	assert_null(req);
	free(m);
	ykssh_bb_json_error(dc, sizeof(dc) - 1, &m, &req, &gr);
	assert_string_equal(m, "This SSH key is already registered.");
	free(m);
	ykssh_bb_json_error("<html>502</html>", 16, &m, &req, &gr);
	assert_null(m);
	ykssh_bb_json_error(NULL, 0, &m, &req, &gr);
	assert_null(m);
}

static void
test_user_and_version(void **state)
{
	char *s = NULL;
	struct ykssh_err *err;
	static const char user[] = "{\"uuid\": \"{a-b}\", \"account_id\": "
	    "\"557058:x\"}";
	static const char props[] = "{\"version\": \"8.19.1\", "
	    "\"buildNumber\": \"8019001\", \"displayName\": \"Bitbucket\"}";

	(void)state;
	assert_null(ykssh_bb_json_user(user, strlen(user), &s));
	assert_string_equal(s, "{a-b}");
	free(s);
	err = ykssh_bb_json_user("{\"account_id\": \"x\"}",
	    strlen("{\"account_id\": \"x\"}"), &s);
	assert_int_equal(ykssh_err_code(err), YKSSH_ERR_PROTOCOL);
	ykssh_err_free(err);
	assert_null(ykssh_bb_json_version(props, strlen(props), &s));
	assert_string_equal(s, "8.19.1");
	free(s);
}

static void
test_settings(void **state)
{
	static const char ok[] = "# comment\n\n bitbucket-url = "
	    "https://bb.example.com \ncacert=/etc/ca.pem\r\n";
	struct ykssh_settings *s = NULL;
	struct ykssh_err *err;

	(void)state;
	assert_null(ykssh_settings_parse(ok, sizeof(ok) - 1, "cfg", &s));
	assert_string_equal(s->bitbucket_url, "https://bb.example.com");
	assert_string_equal(s->cacert, "/etc/ca.pem");
	assert_null(s->api_url);
	ykssh_settings_free(s);
	err = ykssh_settings_parse("bitbucket_url = x\n", 18, "cfg", &s);
	assert_int_equal(ykssh_err_code(err), YKSSH_ERR_CONFIG);
	assert_non_null(strstr(ykssh_err_message(err), "cfg:1"));
	assert_null(s);
	ykssh_err_free(err);
	err = ykssh_settings_parse("cacert = a\ncacert = b\n", 22, "cfg", &s);
	assert_non_null(strstr(ykssh_err_message(err), "cfg:2"));
	ykssh_err_free(err);
	err = ykssh_settings_parse("cacert\n", 7, "cfg", &s);
	assert_int_equal(ykssh_err_code(err), YKSSH_ERR_CONFIG);
	ykssh_err_free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cloud_page),
		cmocka_unit_test(test_dc_page),
		cmocka_unit_test(test_page_refusals),
		cmocka_unit_test(test_error_bodies),
		cmocka_unit_test(test_user_and_version),
		cmocka_unit_test(test_settings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
