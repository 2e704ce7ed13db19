/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ykssh register [PUBFILE] | --list | --delete ID: the account's SSH keys
 * on Bitbucket Cloud or Data Center.  Logic in the library (bitbucket.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bbsetup.h"
#include "cli.h"
#include "prompt.h"
#include "ykssh/bitbucket.h"
#include "ykssh/sshkey.h"


static int cmd_register(struct cli *, int, char **);

const struct cli_cmd cli_cmd_register = {
	"register", cmd_register,
	"Register a public key with Bitbucket, list or delete keys",
	"register [options] [PUBFILE] | register --list | register --delete ID",
	"Adds the public key in PUBFILE (default ~/.ssh/id_ed25519_sk.pub) to\n"
	"your Bitbucket account.  Registering a key that is already there\n"
	"changes nothing and succeeds.\n"
	"Options:\n"
	"  --label LABEL         the key's label on Bitbucket (default: the\n"
	"                        key's comment and today's date)\n"
	"  --expires DAYS        the key expires after DAYS days\n"
	"  --list                list the keys of the account\n"
	"  --delete ID           delete the key with that id or SHA256:\n"
	"                        fingerprint\n"
	CLI_BB_HELP
	"Credentials: $YKSSH_BITBUCKET_TOKEN (and $YKSSH_BITBUCKET_USER, your\n"
	"Atlassian e-mail, for a Cloud API token), your git credential\n"
	"helper, the token file, or a prompt; never the command line.\n",
	NULL
};

enum { OPT_LABEL = 0x200, OPT_EXPIRES, OPT_LIST, OPT_DELETE };

static struct ykssh_err *
read_pub(const char *path, struct ykssh_sshkey **keyp, char **commentp)
{
	struct ykssh_err *err;
	int exists;

	if ((err = ykssh_sshkey_load_public(path, keyp, commentp,
	    &exists)) != NULL)
		return err;
	if (!exists)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_FILE_NOT_FOUND,
		    "%s does not exist", path),
		    "name the .pub file of your key, or make one with "
		    "'ykssh enroll'");
	return NULL;
}

static json_t *
key_json(const struct ykssh_bb_key *k)
{
	return json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s?}",
	    "id", k->id, "label", k->label, "fingerprint", k->fingerprint,
	    "created", k->created, "last_used", k->last_used,
	    "expires", k->expires);
}

static int
print_list(const struct cli *cli, const struct cli_bb *b,
    const struct ykssh_bb_keylist *l)
{
	json_t *arr;
	size_t i;

	if (cli->json) {
		if ((arr = json_array()) == NULL)
			return cli_print_json(cli, NULL);
		for (i = 0; i < l->n; i++)
			json_array_append_new(arr, key_json(&l->keys[i]));
		return cli_print_json(cli, json_pack("{s:s, s:o}", "server",
		    cli_bb_name(b), "keys", arr));
	}
	fprintf(cli->out, "%zu SSH key%s on %s\n", l->n, l->n == 1 ? "" : "s",
	    cli_bb_name(b));
	for (i = 0; i < l->n; i++) {
		const struct ykssh_bb_key *k = &l->keys[i];

		fprintf(cli->out, "%-40s %s\n  id %s, created %s, last used "
		    "%s%s%s\n", k->label != NULL ? k->label : "(no label)",
		    k->fingerprint != NULL ? k->fingerprint : "",
		    k->id, k->created != NULL ? k->created : "?",
		    k->last_used != NULL ? k->last_used : "never",
		    k->expires != NULL ? ", expires " : "",
		    k->expires != NULL ? k->expires : "");
	}
	return 0;
}

static int
parse_days(const char *s, unsigned *days)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < 1 || v > 3650)
		return -1;
	*days = (unsigned)v;
	return 0;
}

static int
cmd_register(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		CLI_COMMON_LONGOPTS,
		CLI_BB_LONGOPTS,
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "expires", required_argument, NULL, OPT_EXPIRES },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "delete", required_argument, NULL, OPT_DELETE },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_bb b;
	struct ykssh_bb_keylist *l = NULL;
	struct ykssh_bb_key *k = NULL;
	struct ykssh_sshkey *key = NULL;
	struct ykssh_err *err = NULL;
	const char *label = NULL, *del = NULL, *home, *pubfile = NULL;
	char *comment = NULL, *deflabel = NULL, *fp = NULL, defpub[PATH_MAX];
	unsigned days = 0;
	int c, status = 0, list = 0, already = 0;

	memset(&b, 0, sizeof(b));
	while ((c = cli_getopt(cli, argc, argv, CLI_COMMON_SHORTOPTS, lo,
	    &status)) != -1) {
		if (c == CLI_GETOPT_EXIT)
			return status;
		if (cli_bb_option(&b, c, optarg))
			continue;
		switch (c) {
		case OPT_LABEL:
			label = optarg;
			break;
		case OPT_EXPIRES:
			if (parse_days(optarg, &days) != 0)
				return cli_usage_error(cli, &cli_cmd_register,
				    "--expires takes 1 to 3650 days, not "
				    "'%s'", optarg);
			break;
		case OPT_LIST:
			list = 1;
			break;
		case OPT_DELETE:
			del = optarg;
			break;
		default:
			return cli_usage_error(cli, &cli_cmd_register,
			    "unexpected option");
		}
	}
	if (list + (del != NULL) > 1 || ((list || del != NULL) &&
	    (optind != argc || label != NULL || days != 0)))
		return cli_usage_error(cli, &cli_cmd_register,
		    "--list and --delete take no key file, label or expiry");
	if (argc - optind > 1)
		return cli_usage_error(cli, &cli_cmd_register,
		    "expected at most one public key file");
	if ((home = cli_need_home(cli, &status)) == NULL)
		return status;
	if (!list && del == NULL) {
		if (optind < argc)
			pubfile = argv[optind];
		else {
			snprintf(defpub, sizeof(defpub),
			    "%s/.ssh/id_ed25519_sk.pub", home);
			pubfile = defpub;
		}
		/* A bad key file is found before any network traffic. */
		if ((err = read_pub(pubfile, &key, &comment)) != NULL)
			goto out;
		if (label == NULL &&
		    (label = deflabel = ykssh_bb_default_label(key,
		    comment)) == NULL) {
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if ((err = cli_bb_connect(cli, &b, home)) != NULL)
		goto out;
	if (list) {
		if ((err = ykssh_bb_list(b.bb, &l)) == NULL)
			status = print_list(cli, &b, l);
		goto out;
	}
	if (del != NULL) {
		if ((err = ykssh_bb_delete(b.bb, del, &k)) != NULL)
			goto out;
		if (cli->json)
			status = cli_print_json(cli, json_pack("{s:s, s:o}",
			    "deleted", k->id, "key", key_json(k)));
		else
			fprintf(cli->out, "Deleted %s (%s) from %s.\n",
			    k->fingerprint != NULL ? k->fingerprint : k->id,
			    k->label != NULL ? k->label : "no label",
			    cli_bb_name(&b));
		goto out;
	}
	if ((err = ykssh_bb_register(b.bb, key, comment, label,
	    deflabel == NULL, days, &k, &already)) != NULL)
		goto out;
	if ((err = ykssh_sshkey_fingerprint(key, &fp)) != NULL)
		goto out;
	if (cli->json)
		status = cli_print_json(cli, json_pack("{s:s, s:s, s:b, s:o,"
		    " s:I, s:I}", "server", cli_bb_name(&b), "fingerprint", fp,
		    "already_registered", already, "key", key_json(k),
		    "requests", (json_int_t)ykssh_bb_requests(b.bb),
		    "connections", (json_int_t)ykssh_bb_connections(b.bb)));
	else
		fprintf(cli->out, "%s %s on %s as \"%s\" (id %s).\n", fp,
		    already ? "was already registered" : "registered",
		    cli_bb_name(&b), k->label != NULL ? k->label : label,
		    k->id);
out:
	if (err != NULL)
		status = cli_fail(cli, err);
	ykssh_bb_key_free(k);
	ykssh_bb_keylist_free(l);
	ykssh_sshkey_free(key);
	cli_bb_close(&b);
	free(comment);
	free(deflabel);
	free(fp);
	return status;
}
