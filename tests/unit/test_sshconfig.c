/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sshconfig: byte-exact parsing, ssh's tokenising, quoting, markers,
 * apply/replace/remove, idempotence, placement for first-match-wins, the
 * diff, deterministic mutation, and the file-level edit killed between
 * steps.  The corpus test (tests/e2e/sshconfig) checks the same against
 * the real ssh -G.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sshconfig-internal.h"

static const char *const edge_cases[] = {
	"",
	"\n",
	"\r\n",
	"Host a",
	"Host a\n",
	"Host a\r\n  User b\r\n",
	"Host a\n  User b",
	"  \t\n\n# c\n",
	"Host=a\n\tUser = b\n Port= 22\nIdentityFile \"x y\"\n",
	"\"Host\" a\n",
	"Host a # trailing\n",
	"IdentityFile \"unterminated\n",
	"User\n",
	"User \n",
	"Host a\n\f\n",
	"Host a\0b\nUser c\n",
	"# ykssh:begin\n",
	"# ykssh:end x\n",
	"\n\n\n",
	"Host a\r\nHost b\nHost c\r",
	"\xff\xfe binary \x01\n",
	"m\r",			/* found by the fuzzer */
	"Host a\nm\r",
	"Host a\r\nUser b\n",
};

static struct sc_config *
parse(const char *s, size_t n)
{
	struct sc_config *cfg = NULL;

	assert_null(ykssh_sc_parse(s, n, &cfg));
	return cfg;
}

static void
assert_roundtrip(const char *s, size_t n)
{
	struct sc_config *cfg = parse(s, n);
	char *buf = malloc(n + 1);
	size_t off = 0, i;

	assert_non_null(buf);
	for (i = 0; i < cfg->n; i++) {
		memcpy(buf + off, cfg->lines[i].raw, cfg->lines[i].len);
		off += cfg->lines[i].len;
	}
	assert_int_equal(off, n);
	assert_memory_equal(buf, s, n);
	free(buf);
	ykssh_sc_free(cfg);
}

static void
test_roundtrip_edge_cases(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(edge_cases) / sizeof(edge_cases[0]); i++)
		assert_roundtrip(edge_cases[i], strlen(edge_cases[i]));
	assert_roundtrip("Host a\0b\nUser c\n", 16);
}

static void
test_line_types(void **state)
{
	const char *s = "Host=a\n\tUser = b\n  # c\n\nUser\nX \"q\n"
	    "Host x # y\nKey==v\n";
	struct sc_config *cfg = parse(s, strlen(s));

	(void)state;
	assert_int_equal(cfg->n, 8);
	assert_int_equal(cfg->lines[0].type, SC_OPTION);
	assert_string_equal(cfg->lines[0].kw, "host");
	assert_string_equal(cfg->lines[0].argv[0], "a");
	assert_int_equal(cfg->lines[1].type, SC_OPTION);
	assert_string_equal(cfg->lines[1].kw, "user");
	assert_string_equal(cfg->lines[1].argv[0], "b");
	assert_int_equal(cfg->lines[2].type, SC_COMMENT);
	assert_int_equal(cfg->lines[3].type, SC_BLANK);
	assert_int_equal(cfg->lines[4].type, SC_OPAQUE);  /* no argument */
	assert_int_equal(cfg->lines[5].type, SC_OPAQUE);  /* bad quotes */
	assert_int_equal(cfg->lines[6].argc, 1);	  /* # ends args */
	/* Only one '=' is a separator (misc.c strdelim). */
	assert_string_equal(cfg->lines[7].argv[0], "=v");
	ykssh_sc_free(cfg);
}

static void
test_quote_roundtrip(void **state)
{
	static const char *const v[] = {
		"plain", "~/.ssh/id", "a b", "tab\there", "q\"uote",
		"single'", "back\\slash", "#hash", "", "end\\", "\\\"mix' #",
	};
	char *q, **argv, line[256];
	size_t i, argc;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_non_null(q = ykssh_sc_quote_arg(v[i]));
		snprintf(line, sizeof(line), "%s", q);
		assert_int_equal(ykssh_sc_split_args(line, &argv, &argc), 0);
		assert_int_equal(argc, 1);
		assert_string_equal(argv[0], v[i]);
		ykssh_sc_strv_free(argv, argc);
		free(q);
	}
}

static void
test_match_pattern(void **state)
{
	(void)state;
	assert_true(ykssh_sc_match_pattern("bitbucket.org", "*"));
	assert_true(ykssh_sc_match_pattern("bitbucket.org", "bit*.o?g"));
	assert_false(ykssh_sc_match_pattern("bitbucket.org", "Bitbucket.org"));
	assert_int_equal(ykssh_sc_match_pattern_list("a.b", "x,!a.*", 0), -1);
	assert_int_equal(ykssh_sc_match_pattern_list("a.b", "x,A.*", 1), 1);
	assert_int_equal(ykssh_sc_match_pattern_list("a.b", "x,y", 0), 0);
}

static const struct ykssh_sshconfig_entry fido = {
	.kind = YKSSH_SSHCONFIG_FIDO2, .label = "work",
	.key_id = "SHA256:abc", .identity_file = "~/.ssh/id_ed25519_sk",
};

static struct ykssh_sshconfig_opts topts = {
	.ssh_dir = "/nonexistent-ykssh", .home = "/nonexistent-ykssh",
};

static char *apply(const char *, const struct ykssh_sshconfig_entry *,
    size_t *, struct ykssh_sshconfig_report **) __attribute__((noinline));

static char *
apply(const char *in, const struct ykssh_sshconfig_entry *e, size_t *n,
    struct ykssh_sshconfig_report **rep)
{
	char *out = NULL;

	assert_null(ykssh_sshconfig_apply_text(in, strlen(in), e, &topts,
	    &out, n, rep));
	return out;
}

static struct ykssh_err *
apply_err(const char *in, const struct ykssh_sshconfig_entry *e)
{
	struct ykssh_err *err;
	char *out = NULL;
	size_t n;

	err = ykssh_sshconfig_apply_text(in, strlen(in), e, &topts, &out, &n,
	    NULL);
	assert_null(out);
	return err;
}

static void
test_apply_idempotent_remove_restores(void **state)
{
	size_t i, n1, n2, n3;
	char *a, *b, *r;

	(void)state;
	for (i = 0; i < sizeof(edge_cases) / sizeof(edge_cases[0]); i++) {
		const char *in = edge_cases[i];

		if (strstr(in, "ykssh:") != NULL)
			continue;
		a = apply(in, &fido, &n1, NULL);
		b = apply(a, &fido, &n2, NULL);
		assert_int_equal(n1, n2);
		assert_memory_equal(a, b, n1);
		assert_null(ykssh_sshconfig_remove_text(a, n1, "work", NULL,
		    &r, &n3));
		assert_int_equal(n3, strlen(in));
		assert_memory_equal(r, in, n3);
		free(a);
		free(b);
		free(r);
	}
}

static void
test_apply_appends_block(void **state)
{
	const char *in = "Host github.com\n    User git\n";
	const char *want = "Host github.com\n    User git\n\n"
	    "# ykssh:begin work SHA256:abc\n"
	    "Host bitbucket.org\n"
	    "    User git\n"
	    "    IdentityFile ~/.ssh/id_ed25519_sk\n"
	    "    IdentitiesOnly yes\n";
	struct ykssh_sshconfig_report *rep = NULL;
	size_t n;
	char *out = apply(in, &fido, &n, &rep);

	(void)state;
	assert_memory_equal(out, want, strlen(want));
	assert_non_null(strstr(out + strlen(want), "# ykssh:end work "));
	assert_int_equal(rep->line, 4);
	assert_true(rep->changed);
	assert_int_equal(rep->nnotes, 0);
	ykssh_sshconfig_report_free(rep);
	free(out);
}

static void
test_crlf_and_no_final_newline(void **state)
{
	size_t n;
	char *out = apply("Host a\r\n  User b", &fido, &n, NULL);

	(void)state;
	/* The user's last line got its end of line, in the file's style. */
	assert_memory_equal(out, "Host a\r\n  User b\r\n\r\n# ykssh:begin",
	    strlen("Host a\r\n  User b\r\n\r\n# ykssh:begin"));
	for (n = 1; out[n] != '\0'; n++)
		if (out[n] == '\n')
			assert_int_equal(out[n - 1], '\r');
	assert_non_null(strstr(out, "IdentitiesOnly yes\r\n# ykssh:end"));
	free(out);
}

static void
test_replace_in_place(void **state)
{
	const char *in = "Host a\n  User b\n\nHost c\n  User d\n";
	struct ykssh_sshconfig_entry e2 = fido;
	size_t n1, n2, n3;
	char *a, *b, *c, *p;

	(void)state;
	a = apply(in, &fido, &n1, NULL);
	/* The user adds a block after ours: a new key replaces in place. */
	assert_non_null(c = malloc(n1 + 32));
	memcpy(c, a, n1);
	memcpy(c + n1, "\nHost z\n  Port 9\n", 18);
	e2.identity_file = "/keys/new key";
	e2.key_id = "SHA256:new";
	b = apply(c, &e2, &n2, NULL);
	assert_non_null(strstr(b, "IdentityFile \"/keys/new key\"\n"));
	assert_null(strstr(b, "id_ed25519_sk"));
	assert_non_null(strstr(b, "# ykssh:begin work SHA256:new\n"));
	assert_memory_equal(b, in, strlen(in));
	assert_non_null(p = strstr(b, "\nHost z\n  Port 9\n"));
	assert_int_equal(strlen(p), 17);
	free(a);
	/* Removing takes out only the block and its separator. */
	assert_null(ykssh_sshconfig_remove_text(b, n2, "work", NULL, &a,
	    &n3));
	assert_string_equal(a, "Host a\n  User b\n\nHost c\n  User d\n"
	    "\nHost z\n  Port 9\n");
	free(a);
	free(b);
	free(c);
}

static void
test_markers(void **state)
{
	struct ykssh_err *e;
	size_t n;
	char *a, *edited, *p;

	(void)state;
	e = apply_err("# ykssh:begin work\nHost x\n", &fido);
	assert_int_equal(ykssh_err_code(e), YKSSH_ERR_CONFIG);
	assert_non_null(strstr(ykssh_err_message(e), "line 1"));
	assert_non_null(strstr(ykssh_err_message(e), "no ykssh:end"));
	ykssh_err_free(e);
	e = apply_err("# ykssh:end work 12345678\n", &fido);
	assert_non_null(strstr(ykssh_err_message(e), "does not close"));
	ykssh_err_free(e);
	e = apply_err("# ykssh:begin a\n# ykssh:begin b\n", &fido);
	assert_non_null(strstr(ykssh_err_message(e), "line 2"));
	ykssh_err_free(e);
	e = apply_err("# ykssh:begin b@d\n", &fido);
	assert_non_null(strstr(ykssh_err_message(e), "unreadable"));
	ykssh_err_free(e);

	/* A hand edit inside the block is detected; --force replaces it. */
	a = apply("", &fido, &n, NULL);
	assert_non_null(edited = strdup(a));
	p = strstr(edited, "IdentitiesOnly yes");
	memcpy(p, "IdentitiesOnly no ", 18);
	e = apply_err(edited, &fido);
	assert_int_equal(ykssh_err_code(e), YKSSH_ERR_CONFIG);
	assert_non_null(strstr(ykssh_err_message(e), "edited by hand"));
	assert_non_null(strstr(ykssh_err_find_hint(e), "--force"));
	ykssh_err_free(e);
	topts.flags = YKSSH_SSHCONFIG_FORCE;
	free(a);
	a = apply(edited, &fido, &n, NULL);
	topts.flags = 0;
	assert_non_null(strstr(a, "IdentitiesOnly yes"));
	free(a);
	free(edited);
}

static void
test_second_block_same_host(void **state)
{
	struct ykssh_sshconfig_entry e2 = fido;
	struct ykssh_err *e;
	size_t n;
	char *a = apply("", &fido, &n, NULL), *b;

	(void)state;
	e2.label = "home";
	e = apply_err(a, &e2);
	assert_int_equal(ykssh_err_code(e), YKSSH_ERR_CONFIG);
	assert_non_null(strstr(ykssh_err_find_hint(e), "--host "
	    "bitbucket.org-home --hostname bitbucket.org"));
	ykssh_err_free(e);
	e2.host = "bitbucket.org-home";
	e2.hostname = "bitbucket.org";
	b = apply(a, &e2, &n, NULL);
	assert_non_null(strstr(b, "Host bitbucket.org-home\n    HostName "
	    "bitbucket.org\n"));
	free(a);
	free(b);
}

/* Line number (1-based) of the first line starting with `prefix`. */
static size_t
line_of(const char *s, const char *prefix)
{
	size_t line = 1;
	const char *p = s;

	for (;;) {
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			return line;
		if ((p = strchr(p, '\n')) == NULL)
			return 0;
		p++;
		line++;
	}
}

static void
test_placement(void **state)
{
	struct ykssh_sshconfig_report *rep = NULL;
	size_t n;
	char *out;

	(void)state;
	/* Host * sets IdentityFile first: go above it and its comment. */
	out = apply("Host a\n  User b\n\n# defaults\nHost *\n"
	    "  IdentityFile ~/.ssh/id_rsa\n", &fido, &n, &rep);
	assert_int_equal(line_of(out, "# ykssh:begin"), 4);
	assert_int_equal(line_of(out, "# defaults"), 11);
	assert_int_equal(rep->nnotes, 2);
	assert_non_null(strstr(rep->notes[0], "config:6 sets IdentityFile "
	    "for bitbucket.org (block \"Host *\")"));
	ykssh_sshconfig_report_free(rep);
	free(out);

	/* Top-level options: a "Host *" gives them back to every host. */
	out = apply("User alice\nPort 22\n", &fido, &n, NULL);
	assert_int_equal(line_of(out, "# ykssh:begin"), 1);
	assert_non_null(strstr(out, "    IdentitiesOnly yes\nHost *\n# ykssh"));
	assert_non_null(strstr(out, "\n\nUser alice\nPort 22\n"));
	/* Port was set for everybody, so ours is explicit. */
	assert_non_null(strstr(out, "    Port 22\n"));
	free(out);

	/* Match exec cannot be judged: placed above it, said so. */
	out = apply("Host a\n  User b\nMatch exec \"true\"\n  User c\n",
	    &fido, &n, &rep);
	assert_int_equal(line_of(out, "# ykssh:begin"), 4);
	assert_non_null(strstr(rep->notes[0], "if it applies"));
	ykssh_sshconfig_report_free(rep);
	free(out);

	/* Blocks for other hosts do not move us. */
	out = apply("Host github.com !bitbucket.org\n  User x\n"
	    "Host *.example.com\n  User y\nMatch host github.com\n  User z\n",
	    &fido, &n, NULL);
	assert_int_equal(line_of(out, "# ykssh:begin"), 8);
	free(out);

	/* Never inside another ykssh block; refused when that would matter. */
	{
		struct ykssh_err *e = apply_err("# ykssh:begin other\n"
		    "Host foo\n  User x\nHost bitbucket.org\n  Port 2\n"
		    "# ykssh:end other 00000000\n", &fido);

		assert_int_equal(ykssh_err_code(e), YKSSH_ERR_CONFIG);
		assert_non_null(strstr(ykssh_err_message(e), "config:5 wins "
		    "for this host, and it is inside the ykssh block "
		    "'other' (line 1)"));
		ykssh_err_free(e);
		out = apply("# ykssh:begin other\nPort 3\n"
		    "# ykssh:end other 00000000\n", &fido, &n, NULL);
		assert_int_equal(line_of(out, "# ykssh:begin work"), 1);
		assert_int_equal(line_of(out, "# ykssh:begin other"), 10);
		free(out);
	}

	/* A block moved when something above it now wins. */
	out = apply("Host a\n  User b\n", &fido, &n, NULL);
	{
		char *in2, *out2;

		assert_true(asprintf(&in2, "Host *\n  User me\n%s", out) > 0);
		out2 = apply(in2, &fido, &n, &rep);
		assert_int_equal(line_of(out2, "# ykssh:begin"), 1);
		assert_non_null(strstr(rep->notes[0], "moved"));
		ykssh_sshconfig_report_free(rep);
		free(in2);
		free(out2);
	}
	free(out);
}

static void
test_placement_include(void **state)
{
	char dir[] = "/tmp/ykssh-sc-XXXXXX", path[64], *in, *out, cmd[64];
	struct ykssh_sshconfig_report *rep = NULL;
	FILE *f;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bb.conf", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("Host bitbucket.org\n  IdentityFile ~/.ssh/old\n", f);
	fclose(f);
	/* Relative to ssh_dir, with a glob. */
	topts.ssh_dir = dir;
	out = apply("Include b*.conf\nHost a\n  User b\n", &fido, &n, &rep);
	topts.ssh_dir = "/nonexistent-ykssh";
	assert_int_equal(line_of(out, "# ykssh:begin"), 1);
	assert_non_null(strstr(out, "Host *\n# ykssh:end"));
	assert_non_null(strstr(rep->notes[0], "bb.conf:2 sets IdentityFile"));
	assert_non_null(strstr(rep->notes[0], "included from line 1"));
	ykssh_sshconfig_report_free(rep);
	free(out);
	/* The same Include in a block for another host is inert. */
	assert_true(asprintf(&in, "Host a\n  Include %s/*.conf\n", dir) > 0);
	out = apply(in, &fido, &n, NULL);
	assert_int_equal(line_of(out, "# ykssh:begin"), 4);
	free(out);
	free(in);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_entry_check(void **state)
{
	struct ykssh_sshconfig_entry e;
	struct ykssh_err *err;

	(void)state;
#define BAD(field, val, frag) do {					\
	e = fido;							\
	e.field = val;							\
	err = ykssh_sshconfig_entry_check(&e);				\
	assert_int_equal(ykssh_err_code(err), YKSSH_ERR_INVALID_ARGUMENT); \
	assert_non_null(strstr(ykssh_err_message(err), frag));		\
	ykssh_err_free(err);						\
} while (0)
	BAD(label, "a b", "label");
	BAD(host, "Bitbucket.org", "lower case");
	BAD(host, "*.org", "host");
	BAD(identity_file, "id_rsa", "absolute");
	BAD(identity_file, "~/.ssh/${X}", "${");
	BAD(persist, "10 minutes", "duration");
	BAD(pkcs11_provider, "/usr/lib/x.so", "FIDO2");
	e = fido;
	e.kind = YKSSH_SSHCONFIG_PIV;
	err = ykssh_sshconfig_entry_check(&e);
	assert_non_null(strstr(ykssh_err_message(err), "PKCS#11"));
	ykssh_err_free(err);
	e.pkcs11_provider = "/usr/lib/x86_64-linux-gnu/libykcs11.so";
	e.persist = "1h30m";
	assert_null(ykssh_sshconfig_entry_check(&e));
#undef BAD
}

static void
test_percent_and_quotes_rendered(void **state)
{
	struct ykssh_sshconfig_entry e = fido;
	size_t n;
	char *out;

	(void)state;
	e.identity_file = "/keys/50% \"x\"";
	e.persist = "10m";
	out = apply("", &e, &n, NULL);
	assert_non_null(strstr(out,
	    "    IdentityFile \"/keys/50%% \\\"x\\\"\"\n"));
	assert_non_null(strstr(out, "    ControlMaster auto\n"
	    "    ControlPath ~/.ssh/cm-%C\n    ControlPersist 10m\n"));
	free(out);
}

static void
test_diff(void **state)
{
	char *d = NULL;

	(void)state;
	assert_null(ykssh_sc_unified_diff("a\nb\nc\n", 6, "a\nb\nc\n", 6, "x",
	    "y", &d));
	assert_string_equal(d, "");
	free(d);
	assert_null(ykssh_sc_unified_diff("", 0, "n\n", 2, "x", "y", &d));
	assert_string_equal(d, "--- x\n+++ y\n@@ -0,0 +1,1 @@\n+n\n");
	free(d);
	assert_null(ykssh_sc_unified_diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n", 18,
	    "1\n2\n3\n4\nX\n6\n7\n8\n9", 17, "x", "y", &d));
	assert_string_equal(d, "--- x\n+++ y\n"
	    "@@ -2,8 +2,8 @@\n 2\n 3\n 4\n-5\n+X\n 6\n 7\n 8\n-9\n+9\n"
	    "\\ No newline at end of file\n");
	free(d);
	/* Two far-apart changes: two hunks. */
	assert_null(ykssh_sc_unified_diff("a\n1\n2\n3\n4\n5\n6\n7\n8\nb\n", 20,
	    "A\n1\n2\n3\n4\n5\n6\n7\n8\nB\n", 20, "x", "y", &d));
	assert_string_equal(d, "--- x\n+++ y\n@@ -1,4 +1,4 @@\n-a\n+A\n"
	    " 1\n 2\n 3\n@@ -7,4 +7,4 @@\n 6\n 7\n 8\n-b\n+B\n");
	free(d);
}

/* Deterministic mutation: every truncation and byte flip of a config. */
static void
test_mutations(void **state)
{
	static const char base[] = "# c\nUser me\nHost a b\n\tPort=2\n"
	    "Match host x exec \"y z\"\n  IdentityFile '~/k'\r\nHost *\n";
	char buf[sizeof(base)], *a, *r;
	size_t i, len, n, n2;
	struct ykssh_err *e;
	int bit;

	(void)state;
	for (i = 0; i < sizeof(base) - 1; i++) {
		for (bit = -1; bit < 8; bit++) {
			memcpy(buf, base, sizeof(base));
			len = bit < 0 ? i : sizeof(base) - 1;
			if (bit >= 0)
				buf[i] = (char)(buf[i] ^ (1 << bit));
			assert_roundtrip(buf, len);
			e = ykssh_sshconfig_apply_text(buf, len, &fido, &topts,
			    &a, &n, NULL);
			if (e != NULL) {
				ykssh_err_free(e);
				continue;
			}
			assert_null(ykssh_sshconfig_remove_text(a, n, "work",
			    NULL, &r, &n2));
			assert_int_equal(n2, len);
			assert_memory_equal(r, buf, len);
			free(a);
			free(r);
		}
	}
}

static void
kill_at(void *arg, const char *step)
{
	if (strcmp(arg, step) == 0)
		raise(SIGKILL);
}

static char *
slurp(const char *path, size_t *n)
{
	char *d;
	int ex;

	assert_null(ykssh_atomicfile_read(path, 1 << 20, &d, n, &ex));
	return d;
}

/*
 * The whole file-level apply killed after each write step: the config is
 * byte for byte the old or the new one; the next run finishes the job.
 */
static void
test_apply_file_killed(void **state)
{
	static const char *const steps[] = {
		YKSSH_ATOMICFILE_STEP_BACKUP, YKSSH_ATOMICFILE_STEP_TEMP,
		YKSSH_ATOMICFILE_STEP_WRITTEN, YKSSH_ATOMICFILE_STEP_SYNCED,
		YKSSH_ATOMICFILE_STEP_RENAMED, YKSSH_ATOMICFILE_STEP_DIRSYNCED
	};
	static const char old[] = "Host *\n  IdentityFile ~/.ssh/id_rsa\n";
	char dir[] = "/tmp/ykssh-kill-XXXXXX", path[64], cmd[64], *want, *got;
	struct ykssh_sshconfig_opts o;
	struct ykssh_sshconfig_report *rep;
	size_t i, wn, gn;
	pid_t pid;
	int st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/.ssh/config", dir);
	want = apply(old, &fido, &wn, NULL);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s/.ssh", dir);
		assert_int_equal(system(cmd), 0);
		assert_int_equal(mkdir(cmd + 7, 0700), 0);
		assert_non_null(f = fopen(path, "w"));
		fputs(old, f);
		fclose(f);
		memset(&o, 0, sizeof(o));
		o.ssh_dir = topts.ssh_dir;
		o.home = topts.home;
		o.step_hook = kill_at;
		o.step_arg = (void *)(uintptr_t)steps[i];
		if ((pid = fork()) == 0) {
			rep = NULL;
			ykssh_err_free(ykssh_sshconfig_apply_file(NULL, path,
			    &fido, &o, &rep));
			_exit(3);
		}
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFSIGNALED(st));
		got = slurp(path, &gn);
		if (i < 4)
			assert_string_equal(got, old);
		else {
			assert_int_equal(gn, wn);
			assert_memory_equal(got, want, wn);
		}
		free(got);
		/* Next run: completes (or finds it done); no temp left. */
		o.step_hook = NULL;
		rep = NULL;
		assert_null(ykssh_sshconfig_apply_file(NULL, path, &fido, &o,
		    &rep));
		assert_int_equal(rep->changed, i < 4);
		ykssh_sshconfig_report_free(rep);
		got = slurp(path, &gn);
		assert_memory_equal(got, want, wn);
		free(got);
		snprintf(cmd, sizeof(cmd), "ls -a %s/.ssh | grep -q tmp",
		    dir);
		assert_int_not_equal(system(cmd), 0);
	}
	free(want);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_apply_file_locked_and_new_dir(void **state)
{
	char dir[] = "/tmp/ykssh-lock-XXXXXX", path[64], cmd[64];
	struct ykssh_sshconfig_opts o;
	struct ykssh_sshconfig_report *rep = NULL;
	struct ykssh_atomicfile_lock *l = NULL;
	struct ykssh_err *e;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/.ssh/config", dir);
	memset(&o, 0, sizeof(o));
	o.ssh_dir = topts.ssh_dir;
	o.home = topts.home;
	o.lock_timeout_ms = 100;
	/* ~/.ssh is created 0700, the config 0600. */
	assert_null(ykssh_sshconfig_apply_file(NULL, path, &fido, &o, &rep));
	assert_true(rep->written);
	assert_null(rep->backup);
	ykssh_sshconfig_report_free(rep);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(cmd, sizeof(cmd), "%s/.ssh", dir);
	assert_int_equal(stat(cmd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* Another holder of the lock: LOCKED, clear message. */
	assert_null(ykssh_atomicfile_lock(path, 0, &l));
	if (fork() == 0) {
		rep = NULL;
		e = ykssh_sshconfig_apply_file(NULL, path, &fido, &o, &rep);
		_exit(ykssh_err_code(e) == YKSSH_ERR_LOCKED &&
		    strstr(ykssh_err_message(e), "another ykssh") ? 0 : 1);
	}
	{
		int status;

		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	ykssh_atomicfile_unlock(l);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* A backup token's key: two identities, read back, renamed, removed. */
static void
test_two_identities(void **state)
{
	const char *in = "Host a\n  User b\n";
	const char *more[] = { "/keys/100% backup" };
	const char *want = "# ykssh:begin work SHA256:abc,SHA256:def\n"
	    "Host bitbucket.org\n"
	    "    HostName bitbucket.org\n"
	    "    Port 7999\n"
	    "    User git\n"
	    "    IdentityFile ~/.ssh/id_ed25519_sk\n"
	    "    IdentityFile \"/keys/100%% backup\"\n"
	    "    IdentitiesOnly yes\n"
	    "    ControlMaster auto\n";
	struct ykssh_sshconfig_entry e = fido, back, one, other;
	struct ykssh_sshconfig_block *b = NULL;
	size_t n1, n2, n3, nb;
	char *a, *c, *d, *r;

	(void)state;
	e.key_id = "SHA256:abc,SHA256:def";
	e.more_identity_files = more;
	e.nmore_identity_files = 1;
	e.hostname = "bitbucket.org";
	e.port = 7999;
	e.persist = "10m";
	a = apply(in, &e, &n1, NULL);
	assert_non_null(strstr(a, want));
	/* Read back, the block's entry writes the same bytes again. */
	assert_null(ykssh_sshconfig_list(a, n1, &b, &nb));
	assert_int_equal(nb, 1);
	assert_int_equal(b[0].nidentity_files, 2);
	assert_string_equal(b[0].identity_files[1], "/keys/100% backup");
	assert_int_equal(b[0].port, 7999);
	assert_string_equal(b[0].persist, "10m");
	assert_null(b[0].pkcs11_provider);
	assert_null(ykssh_sshconfig_block_entry(&b[0], &back));
	c = apply(a, &back, &n2, NULL);
	assert_int_equal(n1, n2);
	assert_memory_equal(a, c, n1);
	free(c);
	/* The first key goes: the backup's block, in place, renamed. */
	one = back;
	one.label = "work-backup";
	one.replaces = "work";
	one.key_id = "SHA256:def";
	one.identity_file = b[0].identity_files[1];
	one.more_identity_files = NULL;
	one.nmore_identity_files = 0;
	c = apply(a, &one, &n2, NULL);
	assert_memory_equal(c, in, strlen(in));
	assert_non_null(strstr(c, "\n# ykssh:begin work-backup SHA256:def\n"));
	assert_null(strstr(c, "id_ed25519_sk"));
	assert_non_null(strstr(c, "# ykssh:end work-backup "));
	/* Its removal gives the user's bytes back. */
	assert_null(ykssh_sshconfig_remove_text(c, n2, "work-backup", NULL,
	    &r, &n3));
	assert_string_equal(r, in);
	free(r);
	/* Renaming onto another block's label is refused. */
	other = fido;
	other.host = "other";
	d = apply(c, &other, &n3, NULL);
	{
		struct ykssh_sshconfig_entry clash = one;
		struct ykssh_err *err;

		clash.replaces = "work-backup";
		clash.label = "work";
		clash.host = "other";
		clash.hostname = NULL;
		err = apply_err(d, &clash);
		assert_non_null(err);
		assert_int_equal(ykssh_err_code(err), YKSSH_ERR_CONFIG);
		assert_non_null(strstr(ykssh_err_message(err),
		    "labelled 'work' already exists"));
		ykssh_err_free(err);
	}
	/* An identity ssh could not read back is refused. */
	more[0] = "relative/path";
	{
		struct ykssh_err *err = ykssh_sshconfig_entry_check(&e);

		assert_non_null(err);
		assert_int_equal(ykssh_err_code(err),
		    YKSSH_ERR_INVALID_ARGUMENT);
		ykssh_err_free(err);
	}
	ykssh_sshconfig_blocks_free(b, nb);
	free(a);
	free(c);
	free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_edge_cases),
		cmocka_unit_test(test_line_types),
		cmocka_unit_test(test_quote_roundtrip),
		cmocka_unit_test(test_match_pattern),
		cmocka_unit_test(test_apply_idempotent_remove_restores),
		cmocka_unit_test(test_apply_appends_block),
		cmocka_unit_test(test_crlf_and_no_final_newline),
		cmocka_unit_test(test_replace_in_place),
		cmocka_unit_test(test_markers),
		cmocka_unit_test(test_second_block_same_host),
		cmocka_unit_test(test_placement),
		cmocka_unit_test(test_placement_include),
		cmocka_unit_test(test_entry_check),
		cmocka_unit_test(test_percent_and_quotes_rendered),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_apply_file_killed),
		cmocka_unit_test(test_apply_file_locked_and_new_dir),
		cmocka_unit_test(test_two_identities),
	};

	/* No ssh -G in unit tests: the corpus test runs the real ssh. */
	topts.flags = 0;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
