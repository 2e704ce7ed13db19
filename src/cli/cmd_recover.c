/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ykssh recover: stubs, .pub files, config entries and registration
 * rebuilt from the token's resident keys on a new machine (recover.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bbsetup.h"
#include "cli.h"
#include "prompt.h"
#include "ykssh/enroll.h"
#include "ykssh/fido.h"
#include "ykssh/piv.h"
#include "ykssh/recover.h"

static int cmd_recover(struct cli *, int, char **);

const struct cli_cmd cli_cmd_recover = {
	"recover", cmd_recover,
	"Rebuild key files, ssh config and registration from the token",
	"recover [options]",
	"On a new machine: reads the resident SSH keys of the token (asks for\n"
	"its PIN) and writes their stubs and .pub files under ~/.ssh with the\n"
	"names enroll gives them, adds their ~/.ssh/config entries and makes\n"
	"sure Bitbucket has them.  Files that already hold the key are kept;\n"
	"running it again changes nothing.  Non-resident keys live only in\n"
	"their stub files and cannot be recovered from the token.\n"
	"With --piv: reads the PIV slots of the card (no PIN) and writes the\n"
	"~/.ssh/id_piv_SLOT[_LABEL].pub and attestation chain of each key\n"
	"enroll --piv made (its slot certificate is the token's attestation),\n"
	"with a PKCS11Provider entry.  The card keeps no label: a key\n"
	"registered under a label gets it back from Bitbucket.\n"
	"Options:\n"
	"  --device PATH         the token: /dev/hidrawN, or\n"
	"                        udp://HOST:PORT[?local=PORT] for a simulator\n"
	"  --piv                 recover PIV keys instead of FIDO2 keys\n"
	"  --slot SLOT           only this PIV slot (9a, 9c, 9d, 9e, 82 to 95),\n"
	"                        also a key enroll did not make\n"
	"  --reader NAME         the PIV reader (exact name or part of it;\n"
	"                        default the first Yubico/YubiKey reader)\n"
	"  --comment TEXT        the keys' comment (default: user@host)\n"
	"  --force               replace files that hold another key (a\n"
	"                        backup is kept)\n"
	"  --no-register         do not check the registration\n"
	"  --no-config           do not add ~/.ssh/config entries\n"
	CLI_BB_HELP,
	NULL
};

enum {
	OPT_DEVICE = 0x200, OPT_COMMENT, OPT_FORCE, OPT_NOREGISTER,
	OPT_NOCONFIG, OPT_PIV, OPT_SLOT, OPT_READER
};

static json_t *
key_json(const struct ykssh_recovered *k, const struct cli_bb *b,
    const struct ykssh_enroll_wired *w, const struct ykssh_err *werr)
{
	const struct ykssh_err *e = k->error != NULL ? k->error : werr;
	char slot[4];
	json_t *o;

	snprintf(slot, sizeof(slot), "%02x", k->slot);
	if (k->slot != 0)
		o = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s?, s:s, s:b}",
		    "type", ykssh_sshkey_type_name(ykssh_sshkey_type(k->key)),
		    "fingerprint", k->fingerprint, "slot", slot,
		    "label", k->label, "public_key_file", k->pub_path,
		    "attestation_file", k->attestation_path,
		    "files", ykssh_recover_state_name(k->state),
		    "verified", k->verified);
	else
		o = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s, s:s, s:s}",
	    "type", ykssh_sshkey_type_name(ykssh_sshkey_type(k->key)),
	    "fingerprint", k->fingerprint,
	    "application", ykssh_sshkey_application(k->key),
	    "user", k->user, "label", k->label,
	    "stub", k->stub_path, "public_key_file", k->pub_path,
	    "files", ykssh_recover_state_name(k->state));
	if (o == NULL)
		return NULL;
	if (e != NULL)
		json_object_set_new(o, "error", json_pack("{s:s, s:s}", "code",
		    ykssh_strerror_name(ykssh_err_code(e)), "message",
		    ykssh_err_message(e)));
	cli_wired_json(o, b, w);
	return o;
}

static void
print_key(const struct cli *cli, const struct ykssh_recovered *k,
    const struct cli_bb *b, const struct ykssh_enroll_wired *w)
{
	static const char *what[] = { "written", "already there",
	    "replaced (backup kept)", "not written" };

	if (k->slot != 0) {
		fprintf(cli->out, "%s %s (PIV slot %02x%s)\n",
		    ykssh_sshkey_type_name(ykssh_sshkey_type(k->key)),
		    k->fingerprint, k->slot, k->verified ? "" :
		    ", key taken from the slot certificate");
		fprintf(cli->out, "  public key   %s: %s\n", k->pub_path,
		    what[k->state]);
		if (w != NULL)
			cli_print_wired(cli, b, w);
		return;
	}
	fprintf(cli->out, "%s %s (%s%s%s)\n", ykssh_sshkey_type_name(
	    ykssh_sshkey_type(k->key)), k->fingerprint,
	    ykssh_sshkey_application(k->key), k->user != NULL ? ", user " :
	    "", k->user != NULL ? k->user : "");
	fprintf(cli->out, "  stub         %s: %s\n", k->stub_path,
	    what[k->state]);
	if (w != NULL)
		cli_print_wired(cli, b, w);
}

static int
cmd_recover(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		CLI_COMMON_LONGOPTS,
		CLI_BB_LONGOPTS,
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "comment", required_argument, NULL, OPT_COMMENT },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "no-register", no_argument, NULL, OPT_NOREGISTER },
		{ "no-config", no_argument, NULL, OPT_NOCONFIG },
		{ "piv", no_argument, NULL, OPT_PIV },
		{ "slot", required_argument, NULL, OPT_SLOT },
		{ "reader", required_argument, NULL, OPT_READER },
		{ NULL, 0, NULL, 0 }
	};
	struct ykssh_recover_opts o;
	struct ykssh_enroll_wire_opts wo;
	struct ykssh_enroll_ui ui;
	struct ykssh_recover_result *r = NULL;
	struct ykssh_bb_server *srv = NULL;
	struct ykssh_enroll_wired **wired = NULL;
	struct ykssh_err *err = NULL, **werr = NULL;
	struct cli_bb b;
	const char *devices[YKSSH_FIDO_MAX_DEVICES];
	json_t *arr = NULL;
	const char *module = NULL, *piv_opt = NULL;
	size_t i;
	int c, status = 0, no_register = 0, piv = 0, slot;

	memset(&o, 0, sizeof(o));
	memset(&wo, 0, sizeof(wo));
	memset(&b, 0, sizeof(b));
	while ((c = cli_getopt(cli, argc, argv, CLI_COMMON_SHORTOPTS, lo,
	    &status)) != -1) {
		if (c == CLI_GETOPT_EXIT)
			return status;
		if (cli_bb_option(&b, c, optarg))
			continue;
		switch (c) {
		case OPT_DEVICE:
			if ((status = cli_add_device(cli, &cli_cmd_recover,
			    devices, &o.ndevices, YKSSH_FIDO_MAX_DEVICES,
			    optarg)) != 0)
				return status;
			o.devices = devices;
			break;
		case OPT_COMMENT:
			o.comment = optarg;
			break;
		case OPT_FORCE:
			o.force = 1;
			break;
		case OPT_NOREGISTER:
			no_register = 1;
			break;
		case OPT_NOCONFIG:
			wo.no_config = 1;
			break;
		case OPT_PIV:
			piv = 1;
			break;
		case OPT_SLOT:
			if ((slot = ykssh_piv_slot_from_name(optarg)) < 0)
				return cli_usage_error(cli, &cli_cmd_recover,
				    "--slot is 9a, 9c, 9d, 9e or 82 to 95, not "
				    "'%s'", optarg);
			o.slot = (uint8_t)slot;
			piv_opt = "--slot";
			break;
		case OPT_READER:
			o.reader = optarg;
			piv_opt = "--reader";
			break;
		default:
			return cli_usage_error(cli, &cli_cmd_recover,
			    "unexpected option");
		}
	}
	if (optind != argc)
		return cli_usage_error(cli, &cli_cmd_recover,
		    "unexpected argument '%s'", argv[optind]);
	if (piv_opt != NULL && !piv)
		return cli_usage_error(cli, &cli_cmd_recover, "%s needs --piv",
		    piv_opt);
	if (piv && o.ndevices > 0)
		return cli_usage_error(cli, &cli_cmd_recover,
		    "--device is for FIDO2 tokens, not with --piv");
	if (piv && !wo.no_config && (module = ykssh_enroll_piv_module()) ==
	    NULL)
		return cli_fail(cli, ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG,
		    "no PKCS#11 module for PIV is installed: ssh cannot use "
		    "the keys"), "install ykcs11 (libykcs11.so) or opensc, "
		    "or pass --no-config"));
	if (no_register && cli_bb_given(&b))
		return cli_usage_error(cli, &cli_cmd_recover,
		    "Bitbucket options need registration (drop --no-register)");
	if ((o.home = cli_need_home(cli, &status)) == NULL)
		return status;
	/* Credentials and server first: a bad setup changes nothing. */
	if (!no_register) {
		if ((err = cli_bb_connect(cli, &b, o.home)) != NULL ||
		    (err = ykssh_bb_server_info(b.bb, &srv)) != NULL)
			goto out;
		wo.bb = b.bb;
		wo.srv = srv;
		o.bb = b.bb;
	}
	memset(&ui, 0, sizeof(ui));
	ui.get_pin = cli_get_pin;
	cli_token_begin(cli);
	if (piv)
		err = ykssh_recover_piv(cli->ctx, &o, &r);
	else
		err = ykssh_recover_fido(cli->ctx, &o, &ui, &r);
	if (err == NULL && r->n > 0 &&
	    ((wired = calloc(r->n, sizeof(*wired))) == NULL ||
	    (werr = calloc(r->n, sizeof(*werr))) == NULL))
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	for (i = 0; err == NULL && i < r->n; i++) {
		const struct ykssh_recovered *k = &r->keys[i];
		struct ykssh_enroll_key ek;
		const char *warning = NULL;
		char *bblabel = NULL;

		if (k->state == YKSSH_RECOVER_FAILED)
			continue;
		if (wo.bb != NULL && (werr[i] = ykssh_bb_check_key(srv,
		    ykssh_sshkey_type(k->key), ykssh_sshkey_sk_flags(k->key),
		    &warning)) != NULL)
			continue;
		if (warning != NULL && i == 0)
			cli_warn(cli, "%s", warning);
		if (k->label == NULL && wo.bb != NULL && (bblabel =
		    ykssh_bb_default_label(k->key, o.comment)) == NULL) {
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
			break;
		}
		wo.bb_label = k->label != NULL ? k->label : bblabel;
		wo.bb_label_explicit = 0;
		memset(&ek, 0, sizeof(ek));
		ek.key = k->key;
		ek.fingerprint = k->fingerprint;
		ek.pub_line = k->pub_line;
		ek.pub_path = k->pub_path;
		ek.identity = k->slot != 0 ? k->pub_path : k->stub_path;
		ek.pkcs11_provider = k->slot != 0 ? module : NULL;
		ek.label = k->label;
		werr[i] = ykssh_enroll_wire(cli->ctx, o.home, &ek, &wo,
		    &wired[i]);
		free(bblabel);
	}
	cli_token_end(cli);
	if (err != NULL)
		goto out;
	if (r->n == 0 && !piv)
		cli_warn(cli, "no resident SSH keys on the %s: keys made "
		    "without --resident live only in their stub files",
		    r->token_model);
	if (r->n == 0 && piv)
		cli_warn(cli, "no PIV key made by 'ykssh enroll --piv' on the "
		    "card in %s%s", r->token_path, r->nskipped > 0 ?
		    " (other keys: name their slot with --slot)" : "");
	for (i = 0; piv && o.slot == 0 && i < r->nskipped; i++)
		cli_warn(cli, "slot %02x holds a key 'ykssh enroll --piv' did "
		    "not make (its certificate is not the token's attestation):"
		    " skipped; '--slot %02x' recovers it", r->skipped[i],
		    r->skipped[i]);
	if (cli->json && (arr = json_array()) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < r->n; i++) {
		const struct ykssh_recovered *k = &r->keys[i];
		struct ykssh_err *e = k->error != NULL ? k->error : werr[i];

		if (cli->json)
			json_array_append_new(arr, key_json(k, &b, wired[i],
			    werr[i]));
		else
			print_key(cli, k, &b, wired[i]);
		if (e != NULL) {
			if (!cli->json)
				cli_warn(cli, "%s: %s%s%s", k->fingerprint,
				    ykssh_err_message(e),
				    ykssh_err_find_hint(e) != NULL ? "; " : "",
				    ykssh_err_find_hint(e) != NULL ?
				    ykssh_err_find_hint(e) : "");
			if (status == 0)
				status = ykssh_err_exit_status(
				    ykssh_err_code(e));
		}
	}
	if (cli->json) {
		int s = cli_print_json(cli, json_pack("{s:s, s:s, s:o}",
		    "token", r->token_path, "model", r->token_model, "keys",
		    arr));

		if (status == 0)
			status = s;
	}
out:
	if (err != NULL)
		status = cli_fail(cli, err);
	for (i = 0; r != NULL && i < r->n; i++) {
		if (wired != NULL)
			ykssh_enroll_wired_free(wired[i]);
		if (werr != NULL)
			ykssh_err_free(werr[i]);
	}
	free(wired);
	free(werr);
	ykssh_recover_result_free(r);
	ykssh_bb_server_free(srv);
	cli_bb_close(&b);
	return status;
}
