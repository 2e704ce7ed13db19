/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ykssh rotate LABEL: replace the key of an entry with a new one, never
 * without a working key (rotate.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bbsetup.h"
#include "cli.h"
#include "prompt.h"
#include "trust.h"
#include "ykssh/fido.h"
#include "ykssh/piv.h"
#include "ykssh/rotate.h"
#include "ykssh/sshkey.h"

static int cmd_rotate(struct cli *, int, char **);

const struct cli_cmd cli_cmd_rotate = {
	"rotate", cmd_rotate,
	"Replace a key with a new one: enroll, register, prove, switch, remove",
	"rotate [options] LABEL",
	"Replaces the key of the ~/.ssh/config entry LABEL: makes a new key\n"
	"of the same kind and options (FIDO2: beside the old files, as .new;\n"
	"PIV: in another slot of the card, as id_piv_SLOT_LABEL.pub),\n"
	"registers it with Bitbucket, proves it with an ssh login to the\n"
	"entry's host using the new key alone, moves it into place (the old\n"
	"files are kept as .old), updates the entry, then removes the old key\n"
	"from Bitbucket and, with --on-token, from the token.  Each step is\n"
	"recorded in ~/.ssh/.ykssh-rotate-LABEL: after any failure or\n"
	"interruption the old key or the new one works, and running the same\n"
	"command again finishes the job.\n"
	"Options (default: as the old key):\n"
	"  --type TYPE           ed25519-sk or ecdsa-sk\n"
	"  --resident, --no-resident\n"
	"                        keep the new key on the token, or not\n"
	"  --verify-required, --no-verify-required\n"
	"                        every use needs the PIN, or not\n"
	"  --touch-required, --no-touch-required\n"
	"                        every use needs a touch, or not\n"
	"  --user USER           user id of a resident key (default: a new\n"
	"                        one, so the old resident key is not replaced)\n"
	"  --expires DAYS        the new registration expires after DAYS days\n"
	"                        (default: the old registration's lifetime)\n"
	"  --no-expires          the new registration does not expire\n"
	"  --on-token            also delete the old resident credential\n"
	"                        (asks for the token's PIN), or the old PIV\n"
	"                        slot's key and certificate\n"
	"  --slot SLOT           PIV: the new key's slot (default: the first\n"
	"                        empty one of 9a, 9c, 9d, 9e, 82..95)\n"
	"  --reader NAME         PIV: the card's reader (default: the first\n"
	"                        YubiKey)\n"
	"  --device PATH         the token: /dev/hidrawN, or\n"
	"                        udp://HOST:PORT[?local=PORT] for a simulator\n"
	"  --no-check            do not prove the new key with an ssh login\n"
	"                        (only when the server cannot be reached)\n"
	"  --check-user USER     log in as USER for the check (default: the\n"
	"                        entry's User, git)\n"
	"  --abort               undo an unfinished rotation (before the switch)\n"
	"  --trust-dir DIR       attestation roots, as for enroll\n"
	"  --allow-unattested    keep a new key whose attestation does not\n"
	"                        verify (else exit 86 before it is used)\n"
	CLI_BB_HELP
	"Exit status: 0 when the rotation is finished; otherwise the failed\n"
	"step's status (90: the server cannot be reached; 97: it refuses the\n"
	"new key), with the state each key is in.\n",
	NULL
};

enum {
	OPT_TYPE = 0x200, OPT_RESIDENT, OPT_NORESIDENT, OPT_VERIFY,
	OPT_NOVERIFY, OPT_TOUCH, OPT_NOTOUCH, OPT_USER, OPT_EXPIRES,
	OPT_NOEXPIRES, OPT_ONTOKEN, OPT_DEVICE, OPT_NOCHECK, OPT_CHECKUSER,
	OPT_ABORT, OPT_TRUSTDIR, OPT_UNATTESTED, OPT_SLOT, OPT_READER
};

static void
on_notice(void *arg, enum ykssh_notice notice, const char *detail)
{
	const struct cli *cli = arg;

	if (cli->quiet)
		return;
	if (notice == YKSSH_NOTICE_TOUCH)
		fprintf(cli->err, "ykssh: Touch your %s now.\n",
		    detail != NULL ? detail : "security key");
	else if (notice == YKSSH_NOTICE_SELECT_BY_TOUCH)
		fprintf(cli->err, "ykssh: Several security keys are plugged "
		    "in: touch the one to use.\n");
	fflush(cli->err);
}

static void
on_progress(void *arg, enum ykssh_rotate_step step, const char *detail)
{
	static const char *what[] = {
		NULL, "reading the old key of", "making the new key",
		"registering the new key", "proving the new key with ssh to",
		"keeping the old files as", "removing the old .pub",
		"moving the new stub to",
		"moving the new .pub to", "updating",
		"keeping the old .pub as", "removing the old key "
		"from Bitbucket:", "deleting the old key from the token:"
	};
	const struct cli *cli = arg;

	if (step == YKSSH_ROTATE_NONE) {
		cli_info(cli, "resuming the rotation recorded in %s", detail);
		return;
	}
	if ((size_t)step < sizeof(what) / sizeof(what[0]) &&
	    what[step] != NULL)
		cli_info(cli, "%s %s", what[step], detail != NULL ? detail :
		    "");
}

static void
print_state(const struct cli *cli, const struct ykssh_rotate_report *r)
{
	cli_warn(cli, "old key %s: %s", r->old_fingerprint, r->old_state);
	cli_warn(cli, "new key %s: %s", r->new_fingerprint != NULL ?
	    r->new_fingerprint : "(none)", r->new_state);
}

static int
print_json(const struct cli *cli, const struct ykssh_rotate_report *r)
{
	char os[8] = "", ns[8] = "";

	if (r->piv) {
		snprintf(os, sizeof(os), "%02x", r->old_slot);
		snprintf(ns, sizeof(ns), "%02x", r->new_slot);
	}
	return cli_print_json(cli, json_pack("{s:s, s:s, s:s?, s:s?, s:s,"
	    " s:s?, s:s, s:s, s:s, s:b, s:b, s:b, s:I, s:b, s:s?, s:s?,"
	    " s:s, s:s, s:s, s:b, s:s, s:s?, s:s?}",
	    "label", r->label,
	    "old_fingerprint", r->old_fingerprint,
	    "new_fingerprint", r->new_fingerprint,
	    "stub", r->stub_path,
	    "public_key_file", r->pub_path,
	    "old_stub", r->backup_stub,
	    "old_public_key_file", r->backup_pub,
	    "type", r->new_type,
	    "application", r->new_application,
	    "resident", (r->new_flags & YKSSH_SK_RESIDENT_KEY) != 0,
	    "touch_required", (r->new_flags & YKSSH_SK_USER_PRESENCE_REQD) !=
	    0,
	    "verify_required", (r->new_flags &
	    YKSSH_SK_USER_VERIFICATION_REQD) != 0,
	    "expires_days", (json_int_t)r->expires_days,
	    "checked", r->checked,
	    "check", r->check_detail,
	    "token", r->token_state == 1 ? "deleted" : r->token_state == 2 ?
	    "absent" : NULL,
	    "step", ykssh_rotate_step_name(r->done),
	    "old_key", r->old_state,
	    "new_key", r->new_state,
	    "resumed", r->resumed,
	    "kind", r->piv ? "piv" : "fido2",
	    "slot", r->piv ? ns : NULL,
	    "old_slot", r->piv ? os : NULL));
}

static void
print_human(const struct cli *cli, const struct ykssh_rotate_report *r)
{
	if (r->done == YKSSH_ROTATE_NONE) {
		fprintf(cli->out, "Rotation of \"%s\" aborted: %s is still "
		    "the key.\n", r->label, r->old_fingerprint);
		return;
	}
	fprintf(cli->out, "Rotated \"%s\".\n", r->label);
	fprintf(cli->out, "  new key      %s (%s)\n", r->new_fingerprint,
	    ykssh_sshkey_type_label(ykssh_sshkey_type_from_name(
	    r->new_type)));
	if (r->piv)
		fprintf(cli->out, "  slot         %02x (the old key's: %02x)\n",
		    r->new_slot, r->old_slot);
	else
		fprintf(cli->out, "  key stub     %s\n", r->stub_path);
	fprintf(cli->out, "  public key   %s\n", r->pub_path);
	fprintf(cli->out, "  checked      %s\n", !r->checked ?
	    "no (--no-check)" : r->check_detail != NULL ? r->check_detail :
	    "yes, before the interruption");
	if (r->expires_days > 0)
		fprintf(cli->out, "  expires      in %u days\n",
		    r->expires_days);
	fprintf(cli->out, "  old key      %s: %s\n", r->old_fingerprint,
	    r->old_state);
}

static int
cmd_rotate(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		CLI_COMMON_LONGOPTS,
		CLI_BB_LONGOPTS,
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "resident", no_argument, NULL, OPT_RESIDENT },
		{ "no-resident", no_argument, NULL, OPT_NORESIDENT },
		{ "verify-required", no_argument, NULL, OPT_VERIFY },
		{ "no-verify-required", no_argument, NULL, OPT_NOVERIFY },
		{ "touch-required", no_argument, NULL, OPT_TOUCH },
		{ "no-touch-required", no_argument, NULL, OPT_NOTOUCH },
		{ "user", required_argument, NULL, OPT_USER },
		{ "expires", required_argument, NULL, OPT_EXPIRES },
		{ "no-expires", no_argument, NULL, OPT_NOEXPIRES },
		{ "on-token", no_argument, NULL, OPT_ONTOKEN },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "no-check", no_argument, NULL, OPT_NOCHECK },
		{ "check-user", required_argument, NULL, OPT_CHECKUSER },
		{ "abort", no_argument, NULL, OPT_ABORT },
		{ "trust-dir", required_argument, NULL, OPT_TRUSTDIR },
		{ "allow-unattested", no_argument, NULL, OPT_UNATTESTED },
		{ "slot", required_argument, NULL, OPT_SLOT },
		{ "reader", required_argument, NULL, OPT_READER },
		{ NULL, 0, NULL, 0 }
	};
	struct ykssh_rotate_opts o;
	struct ykssh_rotate_report *r = NULL;
	struct ykssh_enroll_ui ui;
	struct ykssh_err *err = NULL;
	struct cli_bb b;
	const char *devices[YKSSH_FIDO_MAX_DEVICES];
	char *end;
	long days;
	int c, status = 0, newkey = 0, slot;
	const char *trust_dir = NULL;
	struct ykssh_attest_trust *trust = NULL;

	memset(&o, 0, sizeof(o));
	memset(&b, 0, sizeof(b));
	o.resident = o.verify_required = o.no_touch_required =
	    YKSSH_ROTATE_KEEP;
	while ((c = cli_getopt(cli, argc, argv, CLI_COMMON_SHORTOPTS, lo,
	    &status)) != -1) {
		if (c == CLI_GETOPT_EXIT)
			return status;
		if (cli_bb_option(&b, c, optarg))
			continue;
		if (c >= OPT_TYPE && c <= OPT_USER)
			newkey = 1;
		switch (c) {
		case OPT_TYPE:
			if (strcmp(optarg, "ed25519-sk") == 0)
				o.type = YKSSH_KEY_ED25519_SK;
			else if (strcmp(optarg, "ecdsa-sk") == 0)
				o.type = YKSSH_KEY_ECDSA_SK;
			else
				return cli_usage_error(cli, &cli_cmd_rotate,
				    "--type is ed25519-sk or ecdsa-sk, not "
				    "'%s'", optarg);
			break;
		case OPT_RESIDENT:
		case OPT_NORESIDENT:
			o.resident = c == OPT_RESIDENT;
			break;
		case OPT_VERIFY:
		case OPT_NOVERIFY:
			o.verify_required = c == OPT_VERIFY;
			break;
		case OPT_TOUCH:
		case OPT_NOTOUCH:
			o.no_touch_required = c == OPT_NOTOUCH;
			break;
		case OPT_USER:
			o.user = optarg;
			break;
		case OPT_EXPIRES:
			errno = 0;
			days = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || days < 1 ||
			    days > 3650)
				return cli_usage_error(cli, &cli_cmd_rotate,
				    "--expires takes 1 to 3650 days, not '%s'",
				    optarg);
			o.expires_set = 1;
			o.expires_days = (unsigned)days;
			break;
		case OPT_NOEXPIRES:
			o.expires_set = 1;
			o.expires_days = 0;
			break;
		case OPT_ONTOKEN:
			o.on_token = 1;
			break;
		case OPT_DEVICE:
			if ((status = cli_add_device(cli, &cli_cmd_rotate,
			    devices, &o.ndevices, YKSSH_FIDO_MAX_DEVICES,
			    optarg)) != 0)
				return status;
			o.devices = devices;
			break;
		case OPT_NOCHECK:
			o.no_check = 1;
			break;
		case OPT_CHECKUSER:
			o.check_user = optarg;
			break;
		case OPT_ABORT:
			o.abort = 1;
			break;
		case OPT_TRUSTDIR:
			trust_dir = optarg;
			break;
		case OPT_UNATTESTED:
			o.allow_unattested = 1;
			break;
		case OPT_SLOT:
			if ((slot = ykssh_piv_slot_from_name(optarg)) <= 0)
				return cli_usage_error(cli, &cli_cmd_rotate,
				    "--slot takes 9a, 9c, 9d, 9e or 82..95, "
				    "not '%s'", optarg);
			o.piv_slot = (uint8_t)slot;
			newkey = 1;
			break;
		case OPT_READER:
			o.reader = optarg;
			break;
		default:
			return cli_usage_error(cli, &cli_cmd_rotate,
			    "unexpected option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, &cli_cmd_rotate,
		    "name one key: the label of its ~/.ssh/config entry");
	if (o.abort && (newkey || o.expires_set || o.on_token || o.no_check))
		return cli_usage_error(cli, &cli_cmd_rotate,
		    "--abort takes no options of the new key");
	if (o.user != NULL && o.resident == 0)
		return cli_usage_error(cli, &cli_cmd_rotate,
		    "--user only applies to resident keys");
	o.label = argv[optind];
	if ((o.home = cli_need_home(cli, &status)) == NULL)
		return status;
	/* A broken trust directory stops us before the token is used. */
	if (!o.abort && (err = cli_trust_load(o.home, trust_dir, &trust)) !=
	    NULL)
		goto out;
	o.trust = trust;
	if ((err = cli_bb_connect(cli, &b, o.home)) != NULL)
		goto out;
	o.bb = b.bb;
	memset(&ui, 0, sizeof(ui));
	ui.get_pin = cli_get_pin;
	o.ui = &ui;
	o.progress = on_progress;
	o.arg = cli;
	ykssh_ctx_set_notice(cli->ctx, on_notice, cli);
	cli_token_begin(cli);
	err = ykssh_rotate(cli->ctx, &o, &r);
	cli_token_end(cli);
	if (err != NULL) {
		status = cli_fail(cli, err);
		err = NULL;
		if (r != NULL) {
			print_state(cli, r);
			if (r->done != YKSSH_ROTATE_NONE)
				cli_warn(cli, "not finished (step %s "
				    "recorded in %s): once the cause is "
				    "fixed, run the same command again "
				    "(or 'ykssh rotate --abort %s' before "
				    "the switch)",
				    ykssh_rotate_step_name(r->done),
				    r->journal, r->label);
		}
		goto out;
	}
	if (r->unattested)
		cli_warn(cli, "the new key's attestation did not verify; kept "
		    "because of --allow-unattested: nothing proves it was "
		    "made in hardware");
	if (r->resumed && !o.abort && newkey)
		cli_warn(cli, "an unfinished rotation was resumed: the new "
		    "key's options are those it started with");
	if (cli->json)
		status = print_json(cli, r);
	else
		print_human(cli, r);
out:
	if (err != NULL)
		status = cli_fail(cli, err);
	ykssh_rotate_report_free(r);
	ykssh_attest_trust_free(trust);
	cli_bb_close(&b);
	return status;
}
