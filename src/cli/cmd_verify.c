/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ykssh verify: checks the attestation saved beside each key against the
 * trusted roots and against the key itself (attest.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bbsetup.h"
#include "cli.h"
#include "trust.h"
#include "ykssh/atomicfile.h"
#include "ykssh/attest.h"
#include "ykssh/list.h"

#define CHALLENGE_MAX	(64 * 1024)

static int cmd_verify(struct cli *, int, char **);

const struct cli_cmd cli_cmd_verify = {
	"verify", cmd_verify,
	"Check that keys were made inside the hardware (attestation)",
	"verify [options] [LABEL|FILE...]",
	"Verifies the attestation enroll saved beside each key (FIDO2:\n"
	"<stub>.attest; PIV: <name>-attestation.pem) against the trusted\n"
	"attestation roots, and that it attests this very key.  A LABEL is a\n"
	"~/.ssh/config entry or key file name, a FILE the .pub or the stub;\n"
	"none: every key 'ykssh list' shows.\n"
	"Options:\n"
	"  --trust-dir DIR       the trusted roots (default $YKSSH_TRUST_DIR,\n"
	"                        the trust-dir setting, ~/.config/ykssh/trust,\n"
	"                        /etc/ykssh/trust, /usr/share/ykssh/trust)\n"
	"  --attestation FILE    the attestation to check (one key only), e.g.\n"
	"                        a file from ssh-keygen -O write-attestation\n"
	"  --challenge FILE      the challenge it was made with, for files\n"
	"                        that do not carry it (ssh-keygen's)\n"
	"Exit status: 0 when every attestation verifies, 86 otherwise.\n",
	NULL
};

enum { OPT_TRUSTDIR = 0x200, OPT_ATTESTATION, OPT_CHALLENGE };

struct target {
	char	*pub;
	char	*label;		/* what the user named, or the list's */
};

static int
is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

/* The .pub for a FILE argument: itself, or the stub's "<stub>.pub". */
static char *
pub_for_file(const char *arg)
{
	size_t n = strlen(arg);
	char *s;

	if (n > 4 && strcmp(arg + n - 4, ".pub") == 0)
		return strdup(arg);
	if (asprintf(&s, "%s.pub", arg) < 0)
		return NULL;
	return s;
}

/* A LABEL: config label, fingerprint, or key file name in the list. */
static const struct ykssh_list_item *
find_label(const struct ykssh_list *l, const char *arg)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct ykssh_list_item *it = &l->items[i];

		if (it->pub_path == NULL)
			continue;
		if ((it->config_label != NULL &&
		    strcmp(it->config_label, arg) == 0) ||
		    strcmp(it->fingerprint, arg) == 0 ||
		    strcmp(base_name(it->pub_path), arg) == 0 ||
		    (it->stub_path != NULL &&
		    strcmp(base_name(it->stub_path), arg) == 0))
			return it;
	}
	return NULL;
}

static struct ykssh_err *
add_target(struct target **tp, size_t *np, const char *pub, const char *label)
{
	struct target *t;

	if ((t = reallocarray(*tp, *np + 1, sizeof(*t))) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	*tp = t;
	t[*np].pub = strdup(pub);
	t[*np].label = label != NULL ? strdup(label) : NULL;
	(*np)++;
	if (t[*np - 1].pub == NULL || (label != NULL &&
	    t[*np - 1].label == NULL))
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	return NULL;
}

static struct ykssh_err *
targets(struct cli *cli, const char *home, int argc, char **argv,
    struct target **tp, size_t *np)
{
	struct ykssh_list_opts lo;
	struct ykssh_list *l = NULL;
	const struct ykssh_list_item *it;
	struct ykssh_err *err = NULL;
	char *pub;
	int i;
	size_t j;

	memset(&lo, 0, sizeof(lo));
	lo.home = home;
	for (i = 0; err == NULL && i < argc; i++) {
		if (strchr(argv[i], '/') != NULL || is_file(argv[i])) {
			if ((pub = pub_for_file(argv[i])) == NULL)
				return YKSSH_ERR(YKSSH_ERR_NOMEM,
				    "out of memory");
			err = add_target(tp, np, pub, NULL);
			free(pub);
			continue;
		}
		if (l == NULL && (err = ykssh_list(cli->ctx, &lo, &l)) !=
		    NULL)
			break;
		if ((it = find_label(l, argv[i])) == NULL) {
			err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_FILE_NOT_FOUND,
			    "no key \"%s\" in ~/.ssh or ~/.ssh/config",
			    argv[i]), "'ykssh list' shows the keys; or name "
			    "the .pub file");
			break;
		}
		err = add_target(tp, np, it->pub_path, it->config_label);
	}
	if (err == NULL && argc == 0) {
		if ((err = ykssh_list(cli->ctx, &lo, &l)) != NULL)
			goto out;
		for (j = 0; err == NULL && j < l->n; j++)
			if (l->items[j].pub_path != NULL)
				err = add_target(tp, np, l->items[j].pub_path,
				    l->items[j].config_label);
		if (err == NULL && *np == 0)
			err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_FILE_NOT_FOUND,
			    "no keys to verify in ~/.ssh"), "'ykssh enroll' "
			    "makes one");
	}
out:
	ykssh_list_free(l);
	return err;
}

static void
print_human(const struct cli *cli, const struct target *t,
    const struct ykssh_attest_result *a)
{
	char line[1024];

	cli_attest_line(a, line, sizeof(line));
	fprintf(cli->out, "%s: %s\n", t->label != NULL ? t->label : t->pub,
	    line);
	if (a->path != NULL && a->status != YKSSH_ATTEST_MISSING)
		fprintf(cli->out, "  attestation  %s\n", a->path);
	if (a->subject != NULL)
		fprintf(cli->out, "  certificate  %s\n", a->subject);
	if (a->aaguid[0] != '\0')
		fprintf(cli->out, "  AAGUID       %s\n", a->aaguid);
	if (a->serial != 0)
		fprintf(cli->out, "  serial       %u\n", (unsigned)a->serial);
	if (a->firmware[0] != '\0')
		fprintf(cli->out, "  firmware     %s\n", a->firmware);
}

static int
cmd_verify(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		CLI_COMMON_LONGOPTS,
		{ "trust-dir", required_argument, NULL, OPT_TRUSTDIR },
		{ "attestation", required_argument, NULL, OPT_ATTESTATION },
		{ "challenge", required_argument, NULL, OPT_CHALLENGE },
		{ NULL, 0, NULL, 0 }
	};
	struct ykssh_attest_trust *trust = NULL;
	struct ykssh_attest_result *a = NULL;
	struct ykssh_err *err = NULL;
	struct target *t = NULL;
	const char *home, *trust_dir = NULL, *att = NULL, *chal_path = NULL;
	char *chal = NULL;
	size_t nt = 0, chal_len = 0, i;
	json_t *arr = NULL, *o;
	int c, status = 0, exists, failed = 0;

	while ((c = cli_getopt(cli, argc, argv, CLI_COMMON_SHORTOPTS, lo,
	    &status)) != -1) {
		switch (c) {
		case CLI_GETOPT_EXIT:
			return status;
		case OPT_TRUSTDIR:
			trust_dir = optarg;
			break;
		case OPT_ATTESTATION:
			att = optarg;
			break;
		case OPT_CHALLENGE:
			chal_path = optarg;
			break;
		default:
			return cli_usage_error(cli, &cli_cmd_verify,
			    "unexpected option");
		}
	}
	if (att != NULL && argc - optind != 1)
		return cli_usage_error(cli, &cli_cmd_verify,
		    "--attestation needs exactly one key");
	if ((home = cli_need_home(cli, &status)) == NULL)
		return status;
	if (chal_path != NULL) {
		if ((err = ykssh_atomicfile_read(chal_path, CHALLENGE_MAX,
		    &chal, &chal_len, &exists)) != NULL)
			goto out;
		if (!exists || chal_len == 0) {
			err = YKSSH_ERR(YKSSH_ERR_FILE_NOT_FOUND, "challenge "
			    "file %s is missing or empty", chal_path);
			goto out;
		}
	}
	if ((err = cli_trust_load(home, trust_dir, &trust)) != NULL ||
	    (err = targets(cli, home, argc - optind, argv + optind, &t,
	    &nt)) != NULL)
		goto out;
	if (cli->json && (arr = json_array()) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nt; i++) {
		if ((err = ykssh_attest_verify_file(trust, t[i].pub, att,
		    (const uint8_t *)chal, chal_len, &a)) != NULL)
			goto out;
		if (a->status != YKSSH_ATTEST_VERIFIED)
			failed = 1;
		if (cli->json) {
			o = json_pack("{s:s, s:s?, s:o*}", "public_key_file",
			    t[i].pub, "label", t[i].label, "attestation",
			    cli_attest_json(a));
			if (o == NULL || json_array_append_new(arr, o) != 0) {
				err = YKSSH_ERR(YKSSH_ERR_NOMEM,
				    "out of memory");
				goto out;
			}
		} else
			print_human(cli, &t[i], a);
		ykssh_attest_result_free(a);
		a = NULL;
	}
	if (cli->json) {
		status = cli_print_json(cli, json_pack("{s:s?, s:I, s:b, s:O}",
		    "trust_dir", ykssh_attest_trust_dir(trust), "roots",
		    (json_int_t)ykssh_attest_trust_count(trust), "verified",
		    !failed, "keys", arr));
		if (status != 0)
			goto out;
	}
	if (failed) {
		if (!cli->json)
			cli_warn(cli, "not every attestation verifies against "
			    "the roots in %s (%zu loaded)",
			    ykssh_attest_trust_dir(trust),
			    ykssh_attest_trust_count(trust));
		status = ykssh_err_exit_status(YKSSH_ERR_ATTESTATION);
	}
out:
	if (err != NULL)
		status = cli_fail(cli, err);
	json_decref(arr);
	ykssh_attest_result_free(a);
	for (i = 0; i < nt; i++) {
		free(t[i].pub);
		free(t[i].label);
	}
	free(t);
	free(chal);
	ykssh_attest_trust_free(trust);
	return status;
}
