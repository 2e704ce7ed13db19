/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ykssh doctor: the troubleshooting steps, one pass/fail line each with
 * its fix (doctor.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bbsetup.h"
#include "cli.h"
#include "prompt.h"
#include "ykssh/doctor.h"
#include "ykssh/fido.h"

static int cmd_doctor(struct cli *, int, char **);

const struct cli_cmd cli_cmd_doctor = {
	"doctor", cmd_doctor,
	"Check token, ssh config, agent, Bitbucket and a live login",
	"doctor [options] [[USER@]HOST]",
	"For each ykssh entry of ~/.ssh/config (or the one for HOST), does\n"
	"the troubleshooting steps in order and prints one line per check\n"
	"with the fix: token, config (ssh -G), key (stub on this token),\n"
	"agent, bitbucket (registered, not expired), hostkey (known_hosts)\n"
	"and auth (a live ssh login).  No PIN is asked.  USER@ sets the\n"
	"login name ssh uses, as in a git remote.  Exit status 89 when a\n"
	"check fails.\n"
	"Options:\n"
	"  --device PATH         the token: /dev/hidrawN, or\n"
	"                        udp://HOST:PORT[?local=PORT] for a simulator\n"
	"  --offline             no live login attempt\n"
	"  --no-bitbucket        do not ask Bitbucket\n"
	CLI_BB_HELP,
	NULL
};

enum { OPT_DEVICE = 0x200, OPT_OFFLINE, OPT_NOBB };

static void
on_notice(void *arg, enum ykssh_notice notice, const char *detail)
{
	const struct cli *cli = arg;

	if (cli->quiet)
		return;
	if (notice == YKSSH_NOTICE_TOUCH)
		fprintf(cli->err, "ykssh: Touch your %s when it blinks (the "
		    "live login signs with it).\n", detail != NULL ? detail :
		    "security key");
	else
		fprintf(cli->err, "ykssh: Several security keys are plugged "
		    "in: touch the one to check.\n");
	fflush(cli->err);
}

static json_t *
target_json(const struct ykssh_doctor_target *t)
{
	json_t *checks, *o;
	size_t i;

	if ((checks = json_array()) == NULL)
		return NULL;
	for (i = 0; i < YKSSH_DOCTOR_NCHECKS; i++) {
		const struct ykssh_doctor_check *c = &t->checks[i];

		if (json_array_append_new(checks, json_pack(
		    "{s:s, s:s, s:s?, s:s?}",
		    "id", ykssh_doctor_check_name(c->id),
		    "status", ykssh_doctor_status_name(c->status),
		    "finding", c->finding, "fix", c->fix)) != 0) {
			json_decref(checks);
			return NULL;
		}
	}
	o = json_pack("{s:s, s:s?, s:s?, s:s?, s:o}", "host", t->host,
	    "label", t->label, "fingerprint", t->fingerprint, "kind", t->kind,
	    "checks", checks);
	return o;
}

static int
print_json(const struct cli *cli, const struct ykssh_doctor *d)
{
	json_t *arr, *o;
	size_t i;

	if ((arr = json_array()) == NULL)
		return cli_print_json(cli, NULL);
	for (i = 0; i < d->n; i++)
		if ((o = target_json(&d->targets[i])) == NULL ||
		    json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			return cli_print_json(cli, NULL);
		}
	return cli_print_json(cli, json_pack("{s:o, s:I, s:I}", "targets", arr,
	    "failed", (json_int_t)d->failed, "warned",
	    (json_int_t)d->warned));
}

static void
print_human(const struct cli *cli, const struct ykssh_doctor *d)
{
	static const char *const plain[] = { "ok  ", "warn", "FAIL", "skip" };
	static const char *const colored[] = { "\033[32mok\033[0m  ",
	    "\033[33mwarn\033[0m", "\033[31mFAIL\033[0m",
	    "\033[2mskip\033[0m" };
	int color = cli->color && isatty(fileno(cli->out)) &&
	    getenv("NO_COLOR") == NULL;
	size_t i, j;

	for (i = 0; i < d->n; i++) {
		const struct ykssh_doctor_target *t = &d->targets[i];

		if (t->label != NULL)
			fprintf(cli->out, "%s%s (entry '%s'%s%s)\n",
			    i > 0 ? "\n" : "", t->host, t->label,
			    t->fingerprint != NULL ? ", " : "",
			    t->fingerprint != NULL ? t->fingerprint : "");
		else
			fprintf(cli->out, "%s%s\n", i > 0 ? "\n" : "",
			    t->host);
		for (j = 0; j < YKSSH_DOCTOR_NCHECKS; j++) {
			const struct ykssh_doctor_check *c = &t->checks[j];

			fprintf(cli->out, "  %s  %-9s  %s\n",
			    (color ? colored : plain)[c->status],
			    ykssh_doctor_check_name(c->id), c->finding);
			if (c->fix != NULL && c->status != YKSSH_DOCTOR_PASS)
				fprintf(cli->out, "  %4s  %-9s  fix: %s\n", "",
				    "", c->fix);
		}
	}
	if (d->failed > 0)
		fprintf(cli->out, "\n%zu check%s failed.\n", d->failed,
		    d->failed == 1 ? "" : "s");
	else
		fprintf(cli->out, "\nNo check failed%s.\n", d->warned > 0 ?
		    " (see the warnings)" : "");
}

static int
cmd_doctor(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		CLI_COMMON_LONGOPTS,
		CLI_BB_LONGOPTS,
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "offline", no_argument, NULL, OPT_OFFLINE },
		{ "no-bitbucket", no_argument, NULL, OPT_NOBB },
		{ NULL, 0, NULL, 0 }
	};
	struct ykssh_doctor_opts o;
	struct ykssh_doctor *d = NULL;
	struct ykssh_err *err = NULL, *bberr = NULL;
	struct cli_bb b;
	const char *devices[YKSSH_FIDO_MAX_DEVICES];
	char *user = NULL, *at;
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
		case OPT_DEVICE:
			if ((status = cli_add_device(cli, &cli_cmd_doctor,
			    devices, &o.ndevices, YKSSH_FIDO_MAX_DEVICES,
			    optarg)) != 0)
				return status;
			o.devices = devices;
			break;
		case OPT_OFFLINE:
			o.offline = 1;
			break;
		case OPT_NOBB:
			nobb = 1;
			break;
		default:
			return cli_usage_error(cli, &cli_cmd_doctor,
			    "unexpected option");
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(cli, &cli_cmd_doctor,
		    "unexpected argument '%s'", argv[optind + 1]);
	if (nobb && cli_bb_given(&b))
		return cli_usage_error(cli, &cli_cmd_doctor,
		    "--no-bitbucket takes no Bitbucket options");
	if (optind < argc) {
		if ((at = strrchr(argv[optind], '@')) != NULL) {
			if (at == argv[optind] || at[1] == '\0')
				return cli_usage_error(cli, &cli_cmd_doctor,
				    "'%s' is not [USER@]HOST", argv[optind]);
			if ((user = strndup(argv[optind], (size_t)(at -
			    argv[optind]))) == NULL)
				return cli_fail(cli, YKSSH_ERR(
				    YKSSH_ERR_NOMEM, "out of memory"));
			o.user = user;
			o.host = at + 1;
		} else
			o.host = argv[optind];
		if (*o.host == '-')
			return cli_usage_error(cli, &cli_cmd_doctor,
			    "'%s' is not a host name", o.host);
	}
	if ((o.home = cli_need_home(cli, &status)) == NULL)
		goto out;
	if (nobb)
		o.bb_skip = "--no-bitbucket";
	else if ((bberr = cli_bb_connect(cli, &b, o.home)) != NULL)
		o.bb_skip = ykssh_err_message(bberr);
	else {
		o.bb = b.bb;
		o.bb_name = cli_bb_name(&b);
	}
	ykssh_ctx_set_notice(cli->ctx, on_notice, cli);
	cli_token_begin(cli);
	err = ykssh_doctor_run(cli->ctx, &o, &d);
	cli_token_end(cli);
	ykssh_ctx_set_notice(cli->ctx, NULL, NULL);
	if (err != NULL)
		goto out;
	if (cli->json)
		status = print_json(cli, d);
	else
		print_human(cli, d);
	if (status == 0 && d->failed > 0)
		status = ykssh_err_exit_status(YKSSH_ERR_CHECK_FAILED);
out:
	if (err != NULL)
		status = cli_fail(cli, err);
	ykssh_err_free(bberr);
	ykssh_doctor_free(d);
	cli_bb_close(&b);
	free(user);
	return status;
}
