/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ykssh doctor's readers of outside text: ssh -G and ssh-add -L output
 * made by the real OpenSSH client (data/doctor/mktestdata.sh), and the
 * messages of ssh -v that classify a login attempt.  Every truncation of
 * the fixtures must parse or fail cleanly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "doctor-internal.h"

static char *
fixture(const char *name, size_t *lenp)
{
	char path[4096], *buf;
	const char *src = getenv("YKSSH_SOURCE_DIR");
	FILE *f;
	long n;

	assert_non_null(src);
	snprintf(path, sizeof(path), "%s/tests/unit/data/doctor/%s", src,
	    name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*lenp = (size_t)n;
	return buf;
}

static void
test_sshg_entry(void **state)
{
	struct dr_sshg g;
	size_t len;
	char *t = fixture("sshg-bitbucket.txt", &len);

	(void)state;
	assert_null(ykssh_dr_parse_sshg(t, len, &g));
	assert_string_equal(g.user, "git");
	assert_string_equal(g.hostname, "bitbucket.org");
	assert_string_equal(g.port, "22");
	assert_string_equal(g.hostkeyalias, "bb");
	assert_int_equal(g.identitiesonly, 1);
	assert_null(g.pkcs11provider);
	assert_int_equal(g.nidfiles, 2);	/* in config order */
	assert_string_equal(g.idfiles[0], "/home/u/.ssh/id_ed25519_sk_work");
	assert_string_equal(g.idfiles[1], "/home/u/.ssh/id_old");
	assert_int_equal(g.nkhfiles, 4);	/* global, user: both read */
	assert_string_equal(g.khfiles[0], "/etc/ssh/ssh_known_hosts");
	assert_string_equal(g.khfiles[3], "/home/u/kh2");
	ykssh_dr_sshg_clear(&g);
	free(t);
}

static void
test_sshg_defaults(void **state)
{
	struct dr_sshg g;
	size_t len;
	char *t = fixture("sshg-default.txt", &len);

	(void)state;
	assert_null(ykssh_dr_parse_sshg(t, len, &g));
	assert_string_equal(g.user, "alice");
	assert_string_equal(g.port, "7999");
	assert_int_equal(g.identitiesonly, 0);
	assert_null(g.hostkeyalias);		/* "none" */
	assert_int_equal(g.nidfiles, 7);
	assert_string_equal(g.idfiles[0], "~/.ssh/id_rsa");
	ykssh_dr_sshg_clear(&g);
	free(t);
}

static void
test_sshg_truncated(void **state)
{
	struct ykssh_err *err;
	struct dr_sshg g;
	size_t len, i;
	char *t = fixture("sshg-bitbucket.txt", &len);

	(void)state;
	for (i = 0; i < len; i++) {
		if ((err = ykssh_dr_parse_sshg(t, i, &g)) == NULL) {
			assert_non_null(g.user);
			ykssh_dr_sshg_clear(&g);
		} else {
			assert_int_equal(ykssh_err_code(err),
			    YKSSH_ERR_INVALID_FORMAT);
			ykssh_err_free(err);
		}
	}
	/* Not ssh -G output at all, or a NUL inside. */
	err = ykssh_dr_parse_sshg("hello\n", 6, &g);
	assert_int_equal(ykssh_err_code(err), YKSSH_ERR_INVALID_FORMAT);
	ykssh_err_free(err);
	err = ykssh_dr_parse_sshg("user a\0\nhostname b\nport 1\n", 26, &g);
	assert_int_equal(ykssh_err_code(err), YKSSH_ERR_INVALID_FORMAT);
	ykssh_err_free(err);
	free(t);
}

static void
test_agent(void **state)
{
	struct dr_agentkey *k;
	size_t len, fplen, n;
	char *t = fixture("agent-two.txt", &len);
	char *fp = fixture("agent-two.fp", &fplen);
	char *nl;

	(void)state;
	assert_null(ykssh_dr_parse_agent(t, len, &k, &n));
	assert_int_equal(n, 2);
	nl = strchr(fp, '\n');
	assert_non_null(nl);
	*nl = '\0';
	assert_string_equal(k[0].fingerprint, fp);
	assert_string_equal(k[0].comment, "work key");
	assert_string_equal(k[1].fingerprint, strtok(nl + 1, "\n"));
	/* An empty comment: ssh-add keeps the file name. */
	assert_string_equal(k[1].comment, "k2");
	ykssh_dr_agent_free(k, n);
	free(t);
	free(fp);
	t = fixture("agent-none.txt", &len);
	assert_null(ykssh_dr_parse_agent(t, len, &k, &n));
	assert_int_equal(n, 0);
	ykssh_dr_agent_free(k, n);
	free(t);
}

static void
test_agent_truncated(void **state)
{
	struct dr_agentkey *k;
	size_t len, n, i;
	char *t = fixture("agent-two.txt", &len);

	(void)state;
	for (i = 0; i < len; i++) {
		assert_null(ykssh_dr_parse_agent(t, i, &k, &n));
		assert_true(n <= 2);
		ykssh_dr_agent_free(k, n);
	}
	free(t);
}

static enum dr_auth
classify(const char *s, int timed_out, char **fpp)
{
	return ykssh_dr_classify_auth(s, strlen(s), timed_out, fpp, NULL);
}

static void
test_auth(void **state)
{
	char *fp = NULL, *line = NULL;
	const char *ok =
	    "debug1: Server accepts key: /h/.ssh/id_ed25519_sk_work "
	    "ED25519-SK SHA256:abc explicit authenticator\n"
	    "Authenticated to bitbucket.org ([127.0.0.1]:2222) using "
	    "\"publickey\".\n"
	    "fatal: unrecognized command ''\n";
	const char *bad = "debug1: x\nkex_exchange: bad\x01\n";

	(void)state;
	assert_int_equal(classify(ok, 0, &fp), DR_AUTH_OK);
	assert_string_equal(fp, "SHA256:abc");
	free(fp);
	assert_int_equal(classify("git@bitbucket.org: Permission denied "
	    "(publickey).\r\n", 0, NULL), DR_AUTH_DENIED);
	assert_int_equal(classify("@@@\n@    WARNING: REMOTE HOST "
	    "IDENTIFICATION HAS CHANGED!     @\nHost key verification "
	    "failed.\n", 0, NULL), DR_AUTH_HOSTKEY_CHANGED);
	assert_int_equal(classify("No ED25519 host key is known for x and "
	    "you have requested strict checking.\nHost key verification "
	    "failed.\n", 0, NULL), DR_AUTH_HOSTKEY_UNKNOWN);
	assert_int_equal(classify("ssh: Could not resolve hostname "
	    "bitbucket.org: Temporary failure in name resolution\n", 0, NULL),
	    DR_AUTH_NETWORK);
	assert_int_equal(classify("ssh: connect to host 1.2.3.4 port 22: "
	    "Connection timed out\n", 0, NULL), DR_AUTH_NETWORK);
	assert_int_equal(classify("Confirm user presence for key "
	    "ED25519-SK SHA256:x\n", 1, NULL), DR_AUTH_TOUCH);
	assert_int_equal(classify("", 1, NULL), DR_AUTH_NETWORK);
	assert_int_equal(ykssh_dr_classify_auth(bad, strlen(bad), 0, NULL,
	    &line), DR_AUTH_OTHER);
	assert_string_equal(line, "kex_exchange: bad?");	/* escaped */
	free(line);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sshg_entry),
		cmocka_unit_test(test_sshg_defaults),
		cmocka_unit_test(test_sshg_truncated),
		cmocka_unit_test(test_agent),
		cmocka_unit_test(test_agent_truncated),
		cmocka_unit_test(test_auth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
