/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ykssh list: the keys ykssh knows, across files, config, Bitbucket and
 * the token, with what is wrong (list.h).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bbsetup.h"
#include "cli.h"
#include "prompt.h"
#include "trust.h"
#include "ykssh/fido.h"
#include "ykssh/list.h"

static int cmd_list(struct cli *, int, char **);

const struct cli_cmd cli_cmd_list = {
	"list", cmd_list,
	"List your keys: files, ssh config, Bitbucket, token, problems",
	"list [options]",
	"Joins by fingerprint what ~/.ssh holds (security-key .pub files and\n"
	"stubs, and the .pub files ykssh's config entries name), ykssh's\n"
	"~/.ssh/config entries, the keys of your Bitbucket account and, with\n"
	"--token, the resident keys of the token, and says for each key what\n"
	"is inconsistent and how to fix it.\n"
	"Options:\n"
	"  --token               also read the token's resident keys (asks\n"
	"                        for its PIN)\n"
	"  --device PATH         the token: /dev/hidrawN, or\n"
	"                        udp://HOST:PORT[?local=PORT] for a simulator\n"
	"  --piv                 with --token: read the keys in the slots of\n"
	"                        a PIV card instead (no PIN needed)\n"
	"  --reader NAME         the PIV reader (default the first\n"
	"                        Yubico/YubiKey reader)\n"
	"  --no-bitbucket        do not ask Bitbucket\n"
	CLI_BB_HELP,
	NULL
};

enum { OPT_TOKEN = 0x200, OPT_DEVICE, OPT_NOBB, OPT_PIV, OPT_READER };

static const struct {
	unsigned	 flag;
	const char	*name;
} problems[] = {
	{ YKSSH_LIST_NO_FILES, "no_files" },
	{ YKSSH_LIST_NO_STUB, "no_stub" },
	{ YKSSH_LIST_NOT_REGISTERED, "not_registered" },
	{ YKSSH_LIST_NOT_LOCAL, "not_local" },
	{ YKSSH_LIST_EXPIRING, "expiring" },
	{ YKSSH_LIST_EXPIRED, "expired" },
	{ YKSSH_LIST_EDITED, "edited" },
	{ YKSSH_LIST_NO_CONFIG, "no_config" },
};
#define NPROBLEMS	(sizeof(problems) / sizeof(problems[0]))

static json_t *
tristate(int v)
{
	return v < 0 ? json_null() : json_boolean(v);
}

static int
print_json(const struct cli *cli, const struct ykssh_list *l)
{
	json_t *arr, *o, *pr;
	size_t i, j;

	if ((arr = json_array()) == NULL)
		return cli_print_json(cli, NULL);
	for (i = 0; i < l->n; i++) {
		const struct ykssh_list_item *it = &l->items[i];

		if ((pr = json_array()) == NULL) {
			json_decref(arr);
			return cli_print_json(cli, NULL);
		}
		for (j = 0; j < NPROBLEMS; j++)
			if (it->problems & problems[j].flag)
				json_array_append_new(pr,
				    json_string(problems[j].name));
		o = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:o,"
		    " s:s?, s:s?, s:s?, s:s?, s:o, s:o}",
		    "fingerprint", it->fingerprint, "type", it->type,
		    "application", it->application, "stub", it->stub_path,
		    "public_key_file", it->pub_path,
		    "config_label", it->config_label,
		    "config_host", it->config_host,
		    "registered", tristate(it->registered),
		    "bitbucket_id", it->bb_id, "bitbucket_label", it->bb_label,
		    "last_used", it->bb_last_used, "expires", it->bb_expires,
		    "on_token", tristate(it->on_token), "problems", pr);
		if (o != NULL && it->backup != NULL)
			json_object_set_new(o, "backup",
			    json_string(it->backup));
		if (o != NULL && it->backup_of != NULL)
			json_object_set_new(o, "backup_of",
			    json_string(it->backup_of));
		if (o != NULL)
			json_object_set_new(o, "attestation", it->attest < 0 ?
			    json_null() : json_string(ykssh_attest_status_name(
			    (enum ykssh_attest_status)it->attest)));
		if (o != NULL && it->bb_expires != NULL &&
		    it->days_left != INT_MAX)
			json_object_set_new(o, "days_left",
			    json_integer(it->days_left));
		if (o == NULL || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			return cli_print_json(cli, NULL);
		}
	}
	return cli_print_json(cli, json_pack("{s:s?, s:o}", "token",
	    l->token_model, "keys", arr));
}

static void
print_human(const struct cli *cli, const struct ykssh_list *l,
    const struct cli_bb *b)
{
	size_t i, j;

	if (l->n == 0)
		fprintf(cli->out, "No keys: 'ykssh enroll' makes one.\n");
	for (i = 0; i < l->n; i++) {
		const struct ykssh_list_item *it = &l->items[i];

		fprintf(cli->out, "%s%s %s%s%s\n", i > 0 ? "\n" : "",
		    it->fingerprint, it->type != NULL ? it->type : "?",
		    it->application != NULL ? " " : "",
		    it->application != NULL ? it->application : "");
		if (it->pub_path != NULL)
			fprintf(cli->out, "  files      %s\n", it->stub_path !=
			    NULL ? it->stub_path : it->pub_path);
		if (it->config_label != NULL)
			fprintf(cli->out, "  config     %s (Host %s)\n",
			    it->config_label, it->config_host != NULL ?
			    it->config_host : "?");
		if (it->backup != NULL)
			fprintf(cli->out, "  backup     %s, on another token "
			    "(ssh tries this key first)\n", it->backup);
		if (it->backup_of != NULL)
			fprintf(cli->out, "  backup of  %s (ssh tries this key "
			    "when %s's token is missing)\n", it->backup_of,
			    it->backup_of);
		if (it->registered == 1)
			fprintf(cli->out, "  bitbucket  \"%s\" on %s, last used "
			    "%s%s%s\n", it->bb_label != NULL ? it->bb_label :
			    "", cli_bb_name(b), it->bb_last_used != NULL ?
			    it->bb_last_used : "never", it->bb_expires !=
			    NULL ? ", expires " : "", it->bb_expires != NULL ?
			    it->bb_expires : "");
		if (it->on_token == 1)
			fprintf(cli->out, "  token      %s the %s\n",
			    l->token_piv ? "in a slot of" : "resident on",
			    l->token_model);
		if (it->attest >= 0)
			fprintf(cli->out, "  attested   %s\n",
			    ykssh_attest_status_name(
			    (enum ykssh_attest_status)it->attest));
		for (j = 0; j < NPROBLEMS; j++)
			if (it->problems & problems[j].flag)
				fprintf(cli->out, "  %s %s\n", cli->color ?
				    "\033[33m!\033[0m" : "!",
				    ykssh_list_problem_text(
				    problems[j].flag));
	}
}

static int
cmd_list(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		CLI_COMMON_LONGOPTS,
		CLI_BB_LONGOPTS,
		{ "token", no_argument, NULL, OPT_TOKEN },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "piv", no_argument, NULL, OPT_PIV },
		{ "reader", required_argument, NULL, OPT_READER },
		{ "no-bitbucket", no_argument, NULL, OPT_NOBB },
		{ NULL, 0, NULL, 0 }
	};
	struct ykssh_list_opts o;
	struct ykssh_list *l = NULL;
	struct ykssh_attest_trust *trust = NULL;
	struct ykssh_err *err = NULL;
	struct cli_bb b;
	const char *devices[YKSSH_FIDO_MAX_DEVICES];
	int c, status = 0, nobb = 0;

	memset(&o, 0, sizeof(o));
	memset(&b, 0, sizeof(b));
	while ((c = cli_getopt(cli, argc, argv, CLI_COMMON_SHORTOPTS, lo,
	    &status)) != -1) {
		if (c == CLI_GETOPT_EXIT)
			return status;
		if (cli_bb_option(&b, c, optarg))
			continue;
		switch (c) {
		case OPT_PIV:
			o.piv = 1;
			break;
		case OPT_READER:
			o.piv = 1;
			o.reader = optarg;
			break;
		case OPT_TOKEN:
			o.on_token = 1;
			break;
		case OPT_DEVICE:
			if ((status = cli_add_device(cli, &cli_cmd_list,
			    devices, &o.ndevices, YKSSH_FIDO_MAX_DEVICES,
			    optarg)) != 0)
				return status;
			o.devices = devices;
			break;
		case OPT_NOBB:
			nobb = 1;
			break;
		default:
			return cli_usage_error(cli, &cli_cmd_list,
			    "unexpected option");
		}
	}
	if (optind != argc)
		return cli_usage_error(cli, &cli_cmd_list,
		    "unexpected argument '%s'", argv[optind]);
	if ((o.ndevices > 0 || o.piv) && !o.on_token)
		return cli_usage_error(cli, &cli_cmd_list,
		    "--device, --piv and --reader are for --token");
	if (o.ndevices > 0 && o.piv)
		return cli_usage_error(cli, &cli_cmd_list,
		    "--device is for FIDO2 tokens, not with --piv");
	if (nobb && cli_bb_given(&b))
		return cli_usage_error(cli, &cli_cmd_list,
		    "--no-bitbucket takes no Bitbucket options");
	if ((o.home = cli_need_home(cli, &status)) == NULL)
		return status;
	if (!nobb) {
		if ((err = cli_bb_connect(cli, &b, o.home)) != NULL)
			goto out;
		o.bb = b.bb;
	}
	/* Attestation status is extra: a broken trust dir only warns. */
	if ((err = cli_trust_load(o.home, NULL, &trust)) != NULL) {
		cli_warn(cli, "attestation not checked: %s",
		    ykssh_err_message(err));
		ykssh_err_free(err);
		err = NULL;
	}
	o.trust = trust;
	o.get_pin = cli_get_pin;
	cli_token_begin(cli);
	err = ykssh_list(cli->ctx, &o, &l);
	cli_token_end(cli);
	if (err != NULL)
		goto out;
	if (cli->json)
		status = print_json(cli, l);
	else
		print_human(cli, l, &b);
out:
	if (err != NULL)
		status = cli_fail(cli, err);
	ykssh_list_free(l);
	ykssh_attest_trust_free(trust);
	cli_bb_close(&b);
	return status;
}
