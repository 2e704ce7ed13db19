/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ykssh revoke LABEL|SHA256:FP: take a key out of service (revoke.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bbsetup.h"
#include "cli.h"
#include "prompt.h"
#include "ykssh/fido.h"
#include "ykssh/revoke.h"

static int cmd_revoke(struct cli *, int, char **);

const struct cli_cmd cli_cmd_revoke = {
	"revoke", cmd_revoke,
	"Take a key out of service: Bitbucket, ~/.ssh/config, files, token",
	"revoke [options] LABEL|SHA256:FINGERPRINT",
	"Revokes the key enrolled under LABEL (its ~/.ssh/config entry or key\n"
	"file name) or with that fingerprint: deletes its Bitbucket\n"
	"registration, its ~/.ssh/config entry and its key files, and with\n"
	"--on-token its resident credential.  The token is not needed: a lost\n"
	"token is the reason to revoke.  Each step is reported; a step that\n"
	"fails does not stop the others, and running it again is safe.\n"
	"It asks before changing anything.\n"
	"Options:\n"
	"  --force               do not ask\n"
	"  --on-token            also delete the resident FIDO2 credential\n"
	"                        (asks for the token's PIN), or for a PIV\n"
	"                        key the slot's key and certificate (asks\n"
	"                        for the PIN or management key as enroll\n"
	"                        --piv does; firmware 5.7 deletes the key,\n"
	"                        older firmware overwrites it)\n"
	"  --piv                 the key is a PIV key (needed only when its\n"
	"                        .pub file is gone)\n"
	"  --reader NAME         the PIV reader (implies --piv; default the\n"
	"                        first Yubico/YubiKey reader)\n"
	"  --device PATH         the token: /dev/hidrawN, or\n"
	"                        udp://HOST:PORT[?local=PORT] for a simulator\n"
	"  --no-bitbucket        leave the Bitbucket registration alone\n"
	CLI_BB_HELP
	"Exit status: 0 when every step is done or had nothing to remove; a\n"
	"failed step's status; 69 when only the token step waits for a token.\n",
	NULL
};

enum {
	OPT_ONTOKEN = 0x200, OPT_DEVICE, OPT_NOBB, OPT_FORCE, OPT_PIV,
	OPT_READER
};

static int
ui_confirm(void *arg, const struct ykssh_revoke_report *r)
{
	char q[512];

	(void)arg;
	snprintf(q, sizeof(q), "Revoke %s%s%s%s%s: delete it from Bitbucket, "
	    "~/.ssh/config and ~/.ssh?", r->fingerprint,
	    r->label != NULL ? " (" : "", r->backup ? "backup of " : "",
	    r->label != NULL ? r->label : "", r->label != NULL ? ")" : "");
	return cli_confirm(q);
}

static int
report_status(const struct ykssh_revoke_report *r)
{
	int i, pending = 0;

	for (i = 0; i < YKSSH_REVOKE_NSTEPS; i++) {
		if (r->state[i] == YKSSH_REVOKE_FAILED)
			return ykssh_err_exit_status(r->code[i]);
		if (r->state[i] == YKSSH_REVOKE_PENDING)
			pending = 1;
	}
	return pending ? ykssh_err_exit_status(YKSSH_ERR_DEVICE_NOT_FOUND) :
	    0;
}

static int
print_json(const struct cli *cli, const struct ykssh_revoke_report *r)
{
	json_t *steps;
	int i;

	if ((steps = json_object()) == NULL)
		return cli_print_json(cli, NULL);
	for (i = 0; i < YKSSH_REVOKE_NSTEPS; i++) {
		if (json_object_set_new(steps,
		    ykssh_revoke_step_name((enum ykssh_revoke_step)i),
		    json_pack("{s:s, s:s?, s:s?, s:s?}", "state",
		    ykssh_revoke_state_name(r->state[i]), "detail",
		    r->detail[i], "hint", r->hint[i], "error", r->state[i] ==
		    YKSSH_REVOKE_FAILED ? ykssh_strerror_name(r->code[i]) :
		    NULL)) != 0) {
			json_decref(steps);
			return cli_print_json(cli, NULL);
		}
	}
	return cli_print_json(cli, json_pack("{s:s, s:s?, s:b, s:s?, s:s?,"
	    " s:o}", "fingerprint", r->fingerprint, "label", r->label,
	    "backup", r->backup, "stub", r->stub_path, "public_key",
	    r->pub_path, "steps", steps));
}

static void
print_human(const struct cli *cli, const struct ykssh_revoke_report *r)
{
	int i;

	fprintf(cli->out, "Revoking %s%s%s%s%s\n", r->fingerprint,
	    r->label != NULL ? " (" : "", r->backup ? "backup of " : "",
	    r->label != NULL ? r->label : "", r->label != NULL ? ")" : "");
	for (i = 0; i < YKSSH_REVOKE_NSTEPS; i++) {
		if (r->state[i] == YKSSH_REVOKE_SKIPPED)
			continue;
		fprintf(cli->out, "  %-10s %s%*s%s\n",
		    ykssh_revoke_step_name((enum ykssh_revoke_step)i),
		    ykssh_revoke_state_name(r->state[i]),
		    r->detail[i] != NULL ? (int)(9 -
		    strlen(ykssh_revoke_state_name(r->state[i]))) : 0, "",
		    r->detail[i] != NULL ? r->detail[i] : "");
		if (r->hint[i] != NULL)
			fprintf(cli->out, "             fix: %s\n", r->hint[i]);
	}
}

static int
cmd_revoke(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		CLI_COMMON_LONGOPTS,
		CLI_BB_LONGOPTS,
		{ "on-token", no_argument, NULL, OPT_ONTOKEN },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "no-bitbucket", no_argument, NULL, OPT_NOBB },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "piv", no_argument, NULL, OPT_PIV },
		{ "reader", required_argument, NULL, OPT_READER },
		{ NULL, 0, NULL, 0 }
	};
	struct ykssh_revoke_opts o;
	struct ykssh_revoke_report *r = NULL;
	struct ykssh_err *err = NULL;
	struct cli_bb b;
	const char *devices[YKSSH_FIDO_MAX_DEVICES];
	int c, status = 0, nobb = 0, force = 0;

	memset(&o, 0, sizeof(o));
	memset(&b, 0, sizeof(b));
	while ((c = cli_getopt(cli, argc, argv, CLI_COMMON_SHORTOPTS, lo,
	    &status)) != -1) {
		if (c == CLI_GETOPT_EXIT)
			return status;
		if (cli_bb_option(&b, c, optarg))
			continue;
		switch (c) {
		case OPT_ONTOKEN:
			o.on_token = 1;
			break;
		case OPT_DEVICE:
			if ((status = cli_add_device(cli, &cli_cmd_revoke,
			    devices, &o.ndevices, YKSSH_FIDO_MAX_DEVICES,
			    optarg)) != 0)
				return status;
			o.devices = devices;
			break;
		case OPT_NOBB:
			nobb = 1;
			break;
		case OPT_FORCE:
			force = 1;
			break;
		case OPT_PIV:
			o.piv = 1;
			break;
		case OPT_READER:
			o.piv = 1;
			o.reader = optarg;
			break;
		default:
			return cli_usage_error(cli, &cli_cmd_revoke,
			    "unexpected option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, &cli_cmd_revoke,
		    "name one key: its label or its SHA256: fingerprint");
	if (o.ndevices > 0 && !o.on_token)
		return cli_usage_error(cli, &cli_cmd_revoke,
		    "--device is for --on-token");
	if (o.piv && !o.on_token)
		return cli_usage_error(cli, &cli_cmd_revoke,
		    "--piv and --reader are for --on-token");
	if (o.piv && o.ndevices > 0)
		return cli_usage_error(cli, &cli_cmd_revoke,
		    "--device is for FIDO2 tokens, not with --piv");
	if (nobb && cli_bb_given(&b))
		return cli_usage_error(cli, &cli_cmd_revoke,
		    "--no-bitbucket takes no Bitbucket options");
	o.which = argv[optind];
	if ((o.home = cli_need_home(cli, &status)) == NULL)
		return status;
	/* Credentials first: a bad setup changes nothing. */
	if (!nobb) {
		if ((err = cli_bb_connect(cli, &b, o.home)) != NULL)
			goto out;
		o.bb = b.bb;
	}
	o.get_pin = cli_get_pin;
	if (!force)
		o.confirm = ui_confirm;
	cli_token_begin(cli);
	err = ykssh_revoke(cli->ctx, &o, &r);
	cli_token_end(cli);
	if (err != NULL)
		goto out;
	if (cli->json)
		status = print_json(cli, r);
	else
		print_human(cli, r);
	if (status == 0 && (status = report_status(r)) != 0)
		cli_warn(cli, "not finished: once the cause is fixed, run "
		    "'ykssh revoke %s' again", r->fingerprint);
out:
	if (err != NULL)
		status = cli_fail(cli, err);
	ykssh_revoke_report_free(r);
	cli_bb_close(&b);
	return status;
}
