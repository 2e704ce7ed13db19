/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rotate: the journal's strict format (round trip, every field missing,
 * repeated and damaged), step names, and the key-id-only config edit
 * (the same bytes apply_text writes for the new key id; a hand-edited
 * block refused; everything outside the block kept).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rotate-internal.h"
#include "ykssh/sshconfig.h"

static const char journal[] =
    "ykssh-rotate 1\n"
    "label work\n"
    "old-fingerprint SHA256:old\n"
    "old-flags 33\n"
    "stub /h/my keys/id_ed25519_sk_work\n"
    "pub /h/my keys/id_ed25519_sk_work.pub\n"
    "new-stub /h/my keys/id_ed25519_sk_work.new\n"
    "new-pub /h/my keys/id_ed25519_sk_work.new.pub\n"
    "backup-stub /h/my keys/id_ed25519_sk_work.old\n"
    "backup-pub /h/my keys/id_ed25519_sk_work.old.pub\n"
    "new-type sk-ssh-ed25519@openssh.com\n"
    "new-application ssh:work\n"
    "new-flags 37\n"
    "new-user rotated-1\n"
    "comment alice@laptop\n"
    "new-fingerprint SHA256:new\n"
    "expires-days 90\n"
    "on-token 1\n"
    "no-check 0\n"
    "step stub-switched\n";

static void
test_journal_round_trip(void **state)
{
	struct ykssh_rotate_journal j;
	char *text = NULL;

	(void)state;
	assert_null(ykssh_rotate_journal_parse(journal, strlen(journal), &j));
	assert_string_equal(j.stub, "/h/my keys/id_ed25519_sk_work");
	assert_int_equal(j.old_flags, 33);
	assert_int_equal(j.new_flags, 37);
	assert_int_equal(j.expires_days, 90);
	assert_int_equal(j.on_token, 1);
	assert_int_equal(j.step, YKSSH_ROTATE_STUB_SWITCHED);
	assert_null(ykssh_rotate_journal_format(&j, &text));
	assert_string_equal(text, journal);
	free(text);
	ykssh_rotate_journal_clear(&j);
}

/* A PIV key's fields follow the step; absent for a FIDO2 key. */
static void
test_journal_piv(void **state)
{
	static const char piv[] = "kind piv\nold-slot 154\nnew-slot 156\n"
	    "piv-algorithm 17\npiv-pin-policy 2\npiv-touch-policy 1\n";
	struct ykssh_rotate_journal j;
	char buf[sizeof(journal) + sizeof(piv)];
	char *text = NULL;

	(void)state;
	snprintf(buf, sizeof(buf), "%s%s", journal, piv);
	assert_null(ykssh_rotate_journal_parse(buf, strlen(buf), &j));
	assert_string_equal(j.kind, "piv");
	assert_int_equal(j.old_slot, 0x9a);
	assert_int_equal(j.new_slot, 0x9c);
	assert_int_equal(j.piv_algorithm, 0x11);
	assert_int_equal(j.piv_pin_policy, 2);
	assert_int_equal(j.piv_touch_policy, 1);
	assert_null(ykssh_rotate_journal_format(&j, &text));
	assert_string_equal(text, buf);
	free(text);
	ykssh_rotate_journal_clear(&j);
}

/* Each line dropped, doubled or damaged: refused (optional ones aside). */
static void
test_journal_strict(void **state)
{
	static const char *optional[] = { "new-user ", "comment " };
	struct ykssh_rotate_journal j;
	struct ykssh_err *err;
	char buf[sizeof(journal) * 2];
	const char *line, *nl;
	size_t pre, n, k;
	int opt;

	(void)state;
	for (line = journal; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		pre = (size_t)(line - journal);
		n = (size_t)(nl + 1 - line);
		opt = 0;
		for (k = 0; k < 2; k++)
			if (strncmp(line, optional[k], strlen(optional[k])) ==
			    0)
				opt = 1;
		/* dropped */
		memcpy(buf, journal, pre);
		strcpy(buf + pre, nl + 1);
		err = ykssh_rotate_journal_parse(buf, strlen(buf), &j);
		if (opt || strncmp(line, "new-fingerprint ", 16) == 0) {
			/* new-fingerprint: required once enrolled */
			if (strncmp(line, "new-fingerprint ", 16) == 0)
				assert_non_null(err);
			else
				assert_null(err);
		} else
			assert_non_null(err);
		ykssh_err_free(err);
		ykssh_rotate_journal_clear(&j);
		/* doubled */
		memcpy(buf, journal, pre + n);
		memcpy(buf + pre + n, line, n);
		strcpy(buf + pre + 2 * n, nl + 1);
		assert_non_null(err = ykssh_rotate_journal_parse(buf,
		    strlen(buf), &j));
		ykssh_err_free(err);
		/* cut in the middle of the line */
		if (nl > line + 1) {
			assert_non_null(err = ykssh_rotate_journal_parse(
			    journal, pre + n - 2, &j));
			ykssh_err_free(err);
		}
	}
	/* Bad values. */
	static const char *bad[] = { "old-flags 256\n", "new-flags x\n",
	    "expires-days 3651\n", "on-token 2\n", "step done\n",
	    "step none\n", "step nope\n", "label \n", "unknown 1\n" };
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		snprintf(buf, sizeof(buf), "%s%s", journal, bad[k]);
		assert_non_null(err = ykssh_rotate_journal_parse(buf,
		    strlen(buf), &j));
		ykssh_err_free(err);
	}
	assert_non_null(err = ykssh_rotate_journal_parse("", 0, &j));
	ykssh_err_free(err);
	assert_non_null(err = ykssh_rotate_journal_parse("x\0y", 3, &j));
	ykssh_err_free(err);
}

static void
test_step_names(void **state)
{
	int s;

	(void)state;
	for (s = YKSSH_ROTATE_NONE; s <= YKSSH_ROTATE_DONE; s++)
		assert_int_equal(ykssh_rotate_step_from_name(
		    ykssh_rotate_step_name((enum ykssh_rotate_step)s)), s);
	assert_int_equal(ykssh_rotate_step_from_name("pub-cleared"),
	    YKSSH_ROTATE_PUB_CLEARED);
	assert_int_equal(ykssh_rotate_step_from_name("x"), -1);
}

static char *
apply(const char *in, const char *key_id)
{
	struct ykssh_sshconfig_entry e;
	struct ykssh_sshconfig_opts o;
	char *out = NULL;
	size_t len;

	memset(&e, 0, sizeof(e));
	e.kind = YKSSH_SSHCONFIG_FIDO2;
	e.label = "work";
	e.key_id = key_id;
	e.identity_file = "~/.ssh/id_ed25519_sk_work";
	e.persist = "10m";
	memset(&o, 0, sizeof(o));
	o.flags = YKSSH_SSHCONFIG_NO_INCLUDE;
	assert_null(ykssh_sshconfig_apply_text(in, strlen(in), &e, &o, &out,
	    &len, NULL));
	return out;
}

static void
test_set_key_id(void **state)
{
	static const char *before[] = { "", "# mine\nHost x\n  User y\n",
	    "Host x\r\n  User y\r\n", "Host *\n  User z" };
	struct ykssh_err *err;
	char *a, *b, *c, *edited;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(before) / sizeof(before[0]); i++) {
		a = apply(before[i], "SHA256:old");
		b = apply(before[i], "SHA256:new");
		assert_null(ykssh_sshconfig_set_key_id_text(a, strlen(a),
		    "work", "SHA256:new", &c, &len));
		assert_int_equal(len, strlen(c));
		assert_string_equal(c, b);
		free(c);
		/* A hand edit inside the block: refused. */
		edited = strdup(a);
		assert_non_null(edited);
		memcpy(strstr(edited, "User git"), "User gxt", 8);
		assert_non_null(err = ykssh_sshconfig_set_key_id_text(edited,
		    strlen(edited), "work", "SHA256:new", &c, &len));
		assert_int_equal(ykssh_err_code(err), YKSSH_ERR_CONFIG);
		ykssh_err_free(err);
		assert_non_null(err = ykssh_sshconfig_set_key_id_text(a,
		    strlen(a), "other", "SHA256:new", &c, &len));
		ykssh_err_free(err);
		assert_non_null(err = ykssh_sshconfig_set_key_id_text(a,
		    strlen(a), "work", "SHA256:a b", &c, &len));
		ykssh_err_free(err);
		free(edited);
		free(a);
		free(b);
	}
}

static char *
apply_piv(const char *in, const char *key_id, const char *pub)
{
	struct ykssh_sshconfig_entry e;
	struct ykssh_sshconfig_opts o;
	char *out = NULL;
	size_t len;

	memset(&e, 0, sizeof(e));
	e.kind = YKSSH_SSHCONFIG_PIV;
	e.label = "work";
	e.key_id = key_id;
	e.identity_file = pub;
	e.pkcs11_provider = "/usr/lib/libykcs11.so";
	memset(&o, 0, sizeof(o));
	o.flags = YKSSH_SSHCONFIG_NO_INCLUDE;
	assert_null(ykssh_sshconfig_apply_text(in, strlen(in), &e, &o, &out,
	    &len, NULL));
	return out;
}

/* A rotated PIV key: the IdentityFile and the key id, nothing else. */
static void
test_switch_key(void **state)
{
	static const char *before[] = { "", "# mine\nHost x\n  User y\n",
	    "Host x\r\n  User y\r\n" };
	struct ykssh_err *err;
	char *a, *b, *c;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(before) / sizeof(before[0]); i++) {
		a = apply_piv(before[i], "SHA256:old", "~/.ssh/id_piv_9a_w.pub");
		b = apply_piv(before[i], "SHA256:new",
		    "~/.ssh/id_piv_9c_w 100%.pub");
		assert_null(ykssh_sshconfig_switch_key_text(a, strlen(a),
		    "work", "SHA256:new", "~/.ssh/id_piv_9c_w 100%.pub", &c,
		    &len));
		assert_int_equal(len, strlen(c));
		assert_string_equal(c, b);
		free(c);
		assert_non_null(err = ykssh_sshconfig_switch_key_text(a,
		    strlen(a), "other", "SHA256:new", "x.pub", &c, &len));
		ykssh_err_free(err);
		free(a);
		free(b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_round_trip),
		cmocka_unit_test(test_journal_strict),
		cmocka_unit_test(test_journal_piv),
		cmocka_unit_test(test_step_names),
		cmocka_unit_test(test_set_key_id),
		cmocka_unit_test(test_switch_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
