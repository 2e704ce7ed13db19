/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ykssh enroll: make an SSH key on the token and write the files OpenSSH
 * uses.  Options follow ssh-keygen -t ...-sk -O ... ; the logic is in the
 * library (enroll.h); this file parses, prompts and reports.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bbsetup.h"
#include "cli.h"
#include "prompt.h"
#include "trust.h"
#include "ykssh/atomicfile.h"
#include "ykssh/bitbucket.h"
#include "ykssh/enroll.h"
#include "ykssh/fido.h"
#include "ykssh/piv.h"
#include "ykssh/sshkey.h"

#define CHALLENGE_MAX	(64 * 1024)

static int cmd_enroll(struct cli *, int, char **);

const struct cli_cmd cli_cmd_enroll = {
	"enroll", cmd_enroll,
	"Make an SSH key on the YubiKey and write the files ssh uses",
	"enroll [options]",
	"Makes a FIDO2 key on the token (the private key never leaves it) and\n"
	"writes the key stub and the .pub file, as ssh-keygen -t ed25519-sk\n"
	"would.  The PIN is asked only when needed; touch the key when asked.\n"
	"Options:\n"
	"  --type TYPE           ed25519-sk (default) or ecdsa-sk\n"
	"  --resident            keep the key on the token (recoverable with\n"
	"                        ssh-keygen -K); needs a FIDO PIN\n"
	"  --verify-required     every use needs the PIN as well as a touch\n"
	"  --no-touch-required   signatures without a touch (the server must\n"
	"                        allow it with no-touch-required)\n"
	"  --label LABEL         names the files; with --resident also the\n"
	"                        application (ssh:LABEL), so resident keys do\n"
	"                        not replace each other\n"
	"  --application APP     FIDO application, ssh:NAME (default ssh:)\n"
	"  --user USER           user id of a resident key (up to 31 bytes)\n"
	"  --comment TEXT        key comment (default user@host)\n"
	"  --output PATH         stub path (default ~/.ssh/id_ed25519_sk..., a\n"
	"                        name no existing key uses); .pub beside it\n"
	"  --attestation PATH    also write the attestation as ssh-keygen\n"
	"                        -O write-attestation does\n"
	"  --challenge FILE      challenge for the attestation (default random)\n"
	"  --device PATH         the token: /dev/hidrawN, or\n"
	"                        udp://HOST:PORT[?local=PORT] for a simulator;\n"
	"                        repeat it to choose among several by touch\n"
	"                        (default: the one plugged in, or the one you\n"
	"                        touch when several are)\n"
	"  --force               replace existing files (backups are kept) and\n"
	"                        an existing resident key without asking,\n"
	"                        and an enrolled label's config entry\n"
	"  --backup LABEL        a key on a second token whose entry LABEL's\n"
	"                        shares: ssh tries LABEL's, then this one\n"
	"  --trust-dir DIR       attestation roots (see ykssh verify)\n"
	"  --allow-unattested    keep a key whose attestation does not chain\n"
	"                        to a trusted root (else exit 86, no files)\n",
	"PIV (a key in the YubiKey's PIV application, used by ssh through the\n"
	"PKCS#11 module libykcs11; IdentityFile names the .pub):\n"
	"  --piv                 make a PIV key instead of a FIDO2 key\n"
	"  --slot SLOT           9a (default), 9c, 9d, 9e or 82 to 95\n"
	"  --algorithm ALG       eccp256 (default), eccp384 or rsa2048\n"
	"  --pin-policy POL      once (default), always, never, or default\n"
	"                        (the slot's own)\n"
	"  --touch-policy POL    cached (default), always, never, or default\n"
	"  --reader NAME         the reader (exact name or part of it;\n"
	"                        default the first Yubico/YubiKey reader)\n"
	"  --setup               on a fresh token: new PIN and PUK and a\n"
	"                        random management key stored PIN-protected\n"
	"  --output and --label name the .pub (default ~/.ssh/id_piv_9a.pub);\n"
	"  the attestation chain goes beside it (-attestation.pem).\n"
	"Then the key is registered with Bitbucket and ~/.ssh/config points\n"
	"the Bitbucket host at it (registration first: ssh is not sent to a\n"
	"key the server refused).  What the server accepts is checked before\n"
	"the token is touched.\n"
	"  --no-register         do not register the key with Bitbucket\n"
	"  --no-config           do not add the ~/.ssh/config entry\n"
	"  --host ALIAS          the Host of the entry (default the server's\n"
	"                        SSH host; bitbucket.org-LABEL when another\n"
	"                        key has bitbucket.org)\n"
	"  --persist DURATION    keep connections open (ControlPersist) so a\n"
	"                        burst of git commands costs one touch\n"
	"  --expires DAYS        the registration expires after DAYS days\n"
	CLI_BB_HELP
	"The PIN is read from the terminal without echo, or from $SSH_ASKPASS\n"
	"when there is no terminal; never from the command line.\n"
};

enum {
	OPT_TYPE = 0x200, OPT_RESIDENT, OPT_VERIFY, OPT_NOTOUCH, OPT_LABEL,
	OPT_APPLICATION, OPT_USER, OPT_COMMENT, OPT_OUTPUT, OPT_ATTESTATION,
	OPT_CHALLENGE, OPT_DEVICE, OPT_FORCE, OPT_NOREGISTER, OPT_NOCONFIG,
	OPT_HOST, OPT_PERSIST, OPT_EXPIRES, OPT_PIV, OPT_SLOT, OPT_ALGORITHM,
	OPT_PINPOLICY, OPT_TOUCHPOLICY, OPT_READER, OPT_SETUP, OPT_BACKUP,
	OPT_TRUSTDIR, OPT_UNATTESTED
};

/* Options that belong to one kind of key only (bits). */
#define ONLY_FIDO	0x01
#define ONLY_PIV	0x02

static struct ykssh_err *
ui_new_pin(void *arg, const char *token, struct ykssh_secret *pin)
{
	char what[128];

	(void)arg;
	snprintf(what, sizeof(what), "FIDO PIN for your %s (4 to 63 "
	    "characters)", token);
	return cli_read_new_secret(what, pin);
}

static int
ui_confirm(void *arg, const char *question)
{
	(void)arg;
	return cli_confirm(question);
}

static struct ykssh_err *
ui_new_secret(void *arg, const char *what, struct ykssh_secret *s)
{
	(void)arg;
	return cli_read_new_secret(what, s);
}

/* Offers go to a person at a terminal only, never to askpass. */
static int
ui_offer(void *arg, const char *question)
{
	(void)arg;
	if (!isatty(STDIN_FILENO) || getenv("SSH_ASKPASS_REQUIRE") != NULL)
		return 0;
	return cli_confirm(question);
}

static void
on_notice(void *arg, enum ykssh_notice notice, const char *detail)
{
	const struct cli *cli = arg;

	if (cli->quiet)
		return;
	switch (notice) {
	case YKSSH_NOTICE_TOUCH:
		fprintf(cli->err, "ykssh: Touch your %s now.\n",
		    detail != NULL ? detail : "security key");
		break;
	case YKSSH_NOTICE_SELECT_BY_TOUCH:
		fprintf(cli->err, "ykssh: Several security keys are plugged "
		    "in: touch the one to use.\n");
		break;
	}
	fflush(cli->err);
}

static const char *
flags_text(uint8_t flags)
{
	if ((flags & YKSSH_SK_USER_VERIFICATION_REQD) &&
	    (flags & YKSSH_SK_USER_PRESENCE_REQD))
		return "touch and PIN on every use";
	if (flags & YKSSH_SK_USER_VERIFICATION_REQD)
		return "PIN on every use, no touch";
	if (flags & YKSSH_SK_USER_PRESENCE_REQD)
		return "touch on every use";
	return "no touch, no PIN";
}

/* The verification's fields into the "attestation" object. */
static void
attest_json(json_t *dst, const struct ykssh_attest_result *a)
{
	json_t *src = cli_attest_json(a);

	if (dst != NULL && src != NULL)
		json_object_update(dst, src);
	json_decref(src);
}

/* --allow-unattested kept a key that did not verify: say so. */
static void
warn_unattested(const struct cli *cli, const struct ykssh_attest_result *a)
{
	if (a == NULL || a->status == YKSSH_ATTEST_VERIFIED)
		return;
	cli_warn(cli, "the key's attestation is %s (%s); kept because of "
	    "--allow-unattested: nothing proves it was made in hardware",
	    ykssh_attest_status_name(a->status), a->reason != NULL ?
	    a->reason : "?");
}

static void
print_human(const struct cli *cli, const struct ykssh_enroll_result *r)
{
	uint8_t flags = ykssh_sshkey_sk_flags(r->key);
	size_t i;

	fprintf(cli->out, "Created %s key on %s (firmware %s).\n",
	    ykssh_sshkey_type_label(ykssh_sshkey_type(r->key)),
	    r->token_model, r->token_firmware);
	fprintf(cli->out, "  fingerprint  %s\n", r->fingerprint);
	fprintf(cli->out, "  key stub     %s\n", r->stub_path);
	fprintf(cli->out, "  public key   %s\n", r->pub_path);
	if (r->attestation_path != NULL)
		fprintf(cli->out, "  attestation  %s\n", r->attestation_path);
	if (r->attestation_copy != NULL)
		fprintf(cli->out, "  attestation  %s (as ssh-keygen writes "
		    "it)\n", r->attestation_copy);
	fprintf(cli->out, "  application  %s\n",
	    ykssh_sshkey_application(r->key));
	fprintf(cli->out, "  resident     %s\n",
	    (flags & YKSSH_SK_RESIDENT_KEY) ? "yes (ssh-keygen -K recovers "
	    "the stub)" : "no (keep the stub: it cannot be recovered)");
	fprintf(cli->out, "  policy       %s\n", flags_text(flags));
	fprintf(cli->out, "  token        %s, AAGUID %s\n", r->token_path,
	    r->token_aaguid[0] != '\0' ? r->token_aaguid : "unknown");
	if (r->attest != NULL) {
		char line[1024];

		cli_attest_line(r->attest, line, sizeof(line));
		fprintf(cli->out, "  attested     %s\n", line);
	}
	for (i = 0; i < sizeof(r->backups) / sizeof(r->backups[0]); i++)
		if (r->backups[i] != NULL)
			fprintf(cli->out, "  backup       %s\n", r->backups[i]);
	fprintf(cli->out, "%s\n", r->pub_line);
}

/* backup_of: the label whose key this one backs up, or NULL. */
static int
print_json(const struct cli *cli, const struct ykssh_enroll_result *r,
    const struct cli_bb *b, const struct ykssh_enroll_wired *w,
    const char *backup_of)
{
	uint8_t flags = ykssh_sshkey_sk_flags(r->key);
	json_t *o, *backups;
	size_t i;

	backups = json_array();
	for (i = 0; backups != NULL &&
	    i < sizeof(r->backups) / sizeof(r->backups[0]); i++)
		if (r->backups[i] != NULL)
			json_array_append_new(backups,
			    json_string(r->backups[i]));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s*, s:s, s:b, s:b, s:b,"
	    " s:{s:s, s:s, s:s, s:s}, s:{s:s, s:b}, s:b, s:o*, s:I}",
	    "kind", "fido2",
	    "type", ykssh_sshkey_type_name(ykssh_sshkey_type(r->key)),
	    "fingerprint", r->fingerprint,
	    "stub", r->stub_path,
	    "public_key_file", r->pub_path,
	    "attestation_file", r->attestation_path,
	    "application", ykssh_sshkey_application(r->key),
	    "resident", (flags & YKSSH_SK_RESIDENT_KEY) != 0,
	    "touch_required", (flags & YKSSH_SK_USER_PRESENCE_REQD) != 0,
	    "verify_required", (flags & YKSSH_SK_USER_VERIFICATION_REQD) != 0,
	    "token", "path", r->token_path, "model", r->token_model,
	    "aaguid", r->token_aaguid, "firmware", r->token_firmware,
	    "attestation", "format", r->attestation_fmt,
	    "certificate", r->attestation_has_x5c,
	    "pin_used", r->pin_used,
	    "backups", backups,
	    "ctap_requests", (json_int_t)r->ctap_requests);
	if (o != NULL)
		json_object_set_new(o, "public_key", json_string(r->pub_line));
	if (o != NULL && backup_of != NULL)
		json_object_set_new(o, "backup_of", json_string(backup_of));
	if (o != NULL && r->attestation_copy != NULL)
		json_object_set_new(o, "attestation_copy",
		    json_string(r->attestation_copy));
	if (o != NULL && r->attest != NULL)
		attest_json(json_object_get(o, "attestation"), r->attest);
	if (o != NULL)
		cli_wired_json(o, b, w);
	return cli_print_json(cli, o);
}

static struct ykssh_err *
read_challenge(const char *path, char **datap, size_t *lenp)
{
	int exists;
	struct ykssh_err *err;

	if ((err = ykssh_atomicfile_read(path, CHALLENGE_MAX, datap, lenp,
	    &exists)) != NULL)
		return YKSSH_ERR_WRAP(err, "cannot read the challenge");
	if (!exists) {
		free(*datap);
		*datap = NULL;
		return YKSSH_ERR(YKSSH_ERR_FILE_NOT_FOUND,
		    "challenge file %s does not exist", path);
	}
	if (*lenp == 0)
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "challenge file %s is empty", path);
	return NULL;
}

static const char *
policy_text(const char *name, uint8_t v, int pin)
{
	(void)pin;
	return v == 0 ? "slot default" : name;
}

static void
print_piv_human(const struct cli *cli,
    const struct ykssh_enroll_piv_result *r)
{
	size_t i;

	fprintf(cli->out, "Created %s key in PIV slot %02x of %s (firmware "
	    "%s, serial %u).\n", ykssh_sshkey_type_label(ykssh_sshkey_type(
	    r->key)), r->slot, r->model, r->firmware, (unsigned)r->serial);
	fprintf(cli->out, "  fingerprint  %s\n", r->fingerprint);
	fprintf(cli->out, "  public key   %s\n", r->pub_path);
	fprintf(cli->out, "  attestation  %s (slot certificate, then the "
	    "token's F9 certificate)\n", r->attestation_path);
	if (r->attest != NULL) {
		char line[1024];

		cli_attest_line(r->attest, line, sizeof(line));
		fprintf(cli->out, "  attested     %s\n", line);
	}
	fprintf(cli->out, "  reader       %s\n", r->reader);
	fprintf(cli->out, "  algorithm    %s\n",
	    ykssh_piv_alg_name(r->algorithm));
	fprintf(cli->out, "  PIN policy   %s\n", policy_text(
	    ykssh_piv_pin_policy_name(r->pin_policy), r->pin_policy, 1));
	fprintf(cli->out, "  touch policy %s\n", policy_text(
	    ykssh_piv_touch_policy_name(r->touch_policy), r->touch_policy, 0));
	fprintf(cli->out, "  certificate  the attestation certificate, "
	    "stored in the slot\n");
	fprintf(cli->out, "  PKCS#11      %s\n", r->pkcs11_module != NULL ?
	    r->pkcs11_module : "none found (install ykcs11 or opensc)");
	if (r->replaced != NULL)
		fprintf(cli->out, "  replaced     %s\n", r->replaced);
	if (r->setup_done)
		fprintf(cli->out, "  setup        new PIN and PUK; random %s "
		    "management key stored PIN-protected\n",
		    r->mgmt_algorithm);
	for (i = 0; i < 2; i++)
		if (r->backups[i] != NULL)
			fprintf(cli->out, "  backup       %s\n", r->backups[i]);
	fprintf(cli->out, "%s\n", r->pub_line);
}

static void
warn_factory(const struct cli *cli, const struct ykssh_enroll_piv_result *r)
{
	if (r->factory_pin == 1)
		cli_warn(cli, "the token still has the factory PIV "
		    "PIN (123456): anyone holding it can use the key; run "
		    "'ykssh enroll --piv --setup --force' or 'ykman piv access "
		    "change-pin'");
	if (r->factory_puk == 1)
		cli_warn(cli, "the token still has the factory PIV "
		    "PUK (12345678): anyone can reset the PIN");
	if (r->factory_mgmt == 1)
		cli_warn(cli, "the token still has the factory PIV "
		    "management key: anyone can replace its keys");
}

static int
print_piv_json(const struct cli *cli, const struct ykssh_enroll_piv_result *r,
    const struct cli_bb *b, const struct ykssh_enroll_wired *w)
{
	json_t *o, *warn;
	char slot[4];

	snprintf(slot, sizeof(slot), "%02x", r->slot);
	warn = json_array();
	if (warn != NULL && r->factory_pin == 1)
		json_array_append_new(warn, json_string("factory PIN"));
	if (warn != NULL && r->factory_puk == 1)
		json_array_append_new(warn, json_string("factory PUK"));
	if (warn != NULL && r->factory_mgmt == 1)
		json_array_append_new(warn,
		    json_string("factory management key"));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s?,"
	    " s:{s:s, s:s, s:s, s:I}, s:s?, s:b, s:b, s:b, s:o*, s:s?,"
	    " s:I}",
	    "kind", "piv",
	    "type", ykssh_sshkey_type_name(ykssh_sshkey_type(r->key)),
	    "fingerprint", r->fingerprint,
	    "public_key_file", r->pub_path,
	    "attestation_file", r->attestation_path,
	    "slot", slot,
	    "algorithm", ykssh_piv_alg_name(r->algorithm),
	    "pin_policy", ykssh_piv_pin_policy_name(r->pin_policy),
	    "touch_policy", ykssh_piv_touch_policy_name(r->touch_policy),
	    "pkcs11_module", r->pkcs11_module,
	    "token", "reader", r->reader, "model", r->model,
	    "firmware", r->firmware, "serial", (json_int_t)r->serial,
	    "management_key", r->mgmt_algorithm,
	    "management_key_protected", r->mgmt_protected,
	    "setup", r->setup_done,
	    "pin_used", r->pin_used,
	    "factory_credentials", warn,
	    "replaced", r->replaced,
	    "apdus", (json_int_t)r->apdus);
	if (o != NULL)
		json_object_set_new(o, "public_key", json_string(r->pub_line));
	if (o != NULL && r->attest != NULL)
		json_object_set_new(o, "attestation", cli_attest_json(
		    r->attest));
	if (o != NULL)
		cli_wired_json(o, b, w);
	return cli_print_json(cli, o);
}

static int
parse_policy(const char *arg, int touch, uint8_t *out)
{
	uint8_t v;

	for (v = 0; v < 4; v++) {
		const char *n = touch ? ykssh_piv_touch_policy_name(v) :
		    ykssh_piv_pin_policy_name(v);

		if (n != NULL && strcmp(arg, n) == 0) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

static const char *
opt_name(const struct option *lo, int c)
{
	for (; lo->name != NULL; lo++)
		if (lo->val == c)
			return lo->name;
	return "?";
}

/* ykssh enroll --piv, after option parsing. */
static int
enroll_piv(struct cli *cli, const struct ykssh_enroll_piv_opts *po,
    struct ykssh_enroll_wire_opts *wo, struct cli_bb *b, int no_register)
{
	struct ykssh_enroll_ui ui;
	struct ykssh_enroll_piv_result *r = NULL;
	struct ykssh_enroll_wired *wired = NULL;
	struct ykssh_bb_server *srv = NULL;
	struct ykssh_err *err = NULL;
	const char *warning;
	char *bblabel = NULL;
	int status = 0;

	memset(&ui, 0, sizeof(ui));
	ui.get_pin = cli_get_pin;
	ui.confirm = ui_confirm;
	ui.new_secret = ui_new_secret;
	ui.offer = ui_offer;
	if (!no_register) {
		enum ykssh_keytype t = po->algorithm == YKSSH_PIV_ALG_RSA2048 ?
		    YKSSH_KEY_RSA : po->algorithm == YKSSH_PIV_ALG_ECCP384 ?
		    YKSSH_KEY_ECDSA_P384 : YKSSH_KEY_ECDSA_P256;

		if ((err = cli_bb_connect(cli, b, po->home)) != NULL ||
		    (err = ykssh_bb_server_info(b->bb, &srv)) != NULL ||
		    (err = ykssh_bb_check_key(srv, t, 0, &warning)) != NULL)
			goto out;
		if (warning != NULL)
			cli_warn(cli, "%s", warning);
		wo->bb = b->bb;
		wo->srv = srv;
	}
	err = ykssh_enroll_piv(cli->ctx, po, &ui, &r);
	if (r != NULL)
		warn_unattested(cli, r->attest);
	if (err == NULL && !wo->no_config && r->pkcs11_module == NULL)
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG, "no PKCS#11 "
		    "module for PIV is installed: ssh cannot use the key"),
		    "install ykcs11 (libykcs11.so) or opensc, then run "
		    "'ykssh config apply'");
	if (err == NULL && wo->bb != NULL) {
		if ((bblabel = ykssh_bb_default_label(r->key, po->comment)) ==
		    NULL)
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		wo->bb_label = po->label != NULL ? po->label : bblabel;
		wo->bb_label_explicit = po->label != NULL;
	}
	if (err == NULL) {
		struct ykssh_enroll_key k;

		memset(&k, 0, sizeof(k));
		k.key = r->key;
		k.fingerprint = r->fingerprint;
		k.pub_line = r->pub_line;
		k.pub_path = r->pub_path;
		k.identity = r->pub_path;
		k.pkcs11_provider = r->pkcs11_module;
		k.label = po->label;
		err = ykssh_enroll_wire(cli->ctx, po->home, &k, wo, &wired);
	}
	if (r != NULL)
		warn_factory(cli, r);
	if (err != NULL && r != NULL && !cli->json)
		print_piv_human(cli, r);
	if (err != NULL)
		goto out;
	if (cli->json)
		status = print_piv_json(cli, r, b, wired);
	else {
		print_piv_human(cli, r);
		cli_print_wired(cli, b, wired);
	}
out:
	if (err != NULL)
		status = cli_fail(cli, err);
	free(bblabel);
	ykssh_enroll_wired_free(wired);
	ykssh_bb_server_free(srv);
	ykssh_enroll_piv_result_free(r);
	return status;
}

static int
cmd_enroll(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		CLI_COMMON_LONGOPTS,
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "resident", no_argument, NULL, OPT_RESIDENT },
		{ "verify-required", no_argument, NULL, OPT_VERIFY },
		{ "no-touch-required", no_argument, NULL, OPT_NOTOUCH },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "application", required_argument, NULL, OPT_APPLICATION },
		{ "user", required_argument, NULL, OPT_USER },
		{ "comment", required_argument, NULL, OPT_COMMENT },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "attestation", required_argument, NULL, OPT_ATTESTATION },
		{ "challenge", required_argument, NULL, OPT_CHALLENGE },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "no-register", no_argument, NULL, OPT_NOREGISTER },
		{ "no-config", no_argument, NULL, OPT_NOCONFIG },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "persist", required_argument, NULL, OPT_PERSIST },
		{ "expires", required_argument, NULL, OPT_EXPIRES },
		{ "piv", no_argument, NULL, OPT_PIV },
		{ "slot", required_argument, NULL, OPT_SLOT },
		{ "algorithm", required_argument, NULL, OPT_ALGORITHM },
		{ "pin-policy", required_argument, NULL, OPT_PINPOLICY },
		{ "touch-policy", required_argument, NULL, OPT_TOUCHPOLICY },
		{ "reader", required_argument, NULL, OPT_READER },
		{ "setup", no_argument, NULL, OPT_SETUP },
		{ "backup", required_argument, NULL, OPT_BACKUP },
		{ "trust-dir", required_argument, NULL, OPT_TRUSTDIR },
		{ "allow-unattested", no_argument, NULL, OPT_UNATTESTED },
		CLI_BB_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const char *devices[YKSSH_FIDO_MAX_DEVICES];
	struct ykssh_enroll_opts o;
	struct ykssh_enroll_piv_opts po;
	struct ykssh_enroll_ui ui;
	struct ykssh_enroll_result *r = NULL;
	struct ykssh_enroll_wire_opts wo;
	struct ykssh_enroll_wired *wired = NULL;
	struct ykssh_bb_server *srv = NULL;
	struct cli_bb b;
	struct ykssh_err *err = NULL;
	const char *warning;
	char *bblabel = NULL, *end;
	int no_register = 0;
	long days;
	const char *challenge_path = NULL;
	char *challenge = NULL;
	size_t challenge_len = 0;
	int c, status = 0, piv = 0, kinds = 0, slot;
	const char *fido_opt = NULL, *piv_opt = NULL, *backup = NULL;
	const char *nobackup_opt = NULL, *trust_dir = NULL;
	struct ykssh_enroll_backup *bp = NULL;
	struct ykssh_attest_trust *trust = NULL;

	memset(&o, 0, sizeof(o));
	memset(&po, 0, sizeof(po));
	po.pin_policy = YKSSH_PIV_PIN_ONCE;
	po.touch_policy = YKSSH_PIV_TOUCH_CACHED;
	memset(&wo, 0, sizeof(wo));
	memset(&b, 0, sizeof(b));
	while ((c = cli_getopt(cli, argc, argv, CLI_COMMON_SHORTOPTS, lo,
	    &status)) != -1) {
		if (cli_bb_option(&b, c, optarg))
			continue;
		switch (c) {
		case OPT_TYPE: case OPT_RESIDENT: case OPT_VERIFY:
		case OPT_NOTOUCH: case OPT_APPLICATION: case OPT_USER:
		case OPT_ATTESTATION: case OPT_CHALLENGE: case OPT_DEVICE:
			kinds |= ONLY_FIDO;
			fido_opt = opt_name(lo, c);
			break;
		case OPT_SLOT: case OPT_ALGORITHM: case OPT_PINPOLICY:
		case OPT_TOUCHPOLICY: case OPT_READER: case OPT_SETUP:
			kinds |= ONLY_PIV;
			piv_opt = opt_name(lo, c);
			break;
		default:
			break;
		}
		switch (c) {
		case OPT_LABEL: case OPT_OUTPUT: case OPT_HOST:
		case OPT_NOCONFIG: case OPT_PERSIST: case OPT_APPLICATION:
			nobackup_opt = opt_name(lo, c);
			break;
		default:
			break;
		}
		switch (c) {
		case CLI_GETOPT_EXIT:
			return status;
		case OPT_TYPE:
			o.type = ykssh_sshkey_type_from_name(optarg);
			if (strcmp(optarg, "ed25519-sk") == 0)
				o.type = YKSSH_KEY_ED25519_SK;
			else if (strcmp(optarg, "ecdsa-sk") == 0)
				o.type = YKSSH_KEY_ECDSA_SK;
			if (!ykssh_sshkey_type_is_sk(o.type))
				return cli_usage_error(cli, &cli_cmd_enroll,
				    "--type is ed25519-sk or ecdsa-sk, not "
				    "'%s'", optarg);
			break;
		case OPT_RESIDENT:
			o.resident = 1;
			break;
		case OPT_VERIFY:
			o.verify_required = 1;
			break;
		case OPT_NOTOUCH:
			o.no_touch_required = 1;
			break;
		case OPT_LABEL:
			o.label = optarg;
			break;
		case OPT_APPLICATION:
			o.application = optarg;
			break;
		case OPT_USER:
			o.user = optarg;
			break;
		case OPT_COMMENT:
			o.comment = optarg;
			break;
		case OPT_OUTPUT:
			o.output = optarg;
			break;
		case OPT_ATTESTATION:
			o.attestation = optarg;
			break;
		case OPT_CHALLENGE:
			challenge_path = optarg;
			break;
		case OPT_DEVICE:
			if ((status = cli_add_device(cli, &cli_cmd_enroll,
			    devices, &o.ndevices, YKSSH_FIDO_MAX_DEVICES,
			    optarg)) != 0)
				return status;
			o.devices = devices;
			break;
		case OPT_FORCE:
			o.force = 1;
			break;
		case OPT_NOREGISTER:
			no_register = 1;
			break;
		case OPT_PIV:
			piv = 1;
			break;
		case OPT_SLOT:
			if ((slot = ykssh_piv_slot_from_name(optarg)) < 0)
				return cli_usage_error(cli, &cli_cmd_enroll,
				    "--slot is 9a, 9c, 9d, 9e or 82 to 95, not "
				    "'%s'", optarg);
			po.slot = (uint8_t)slot;
			break;
		case OPT_ALGORITHM:
			if (strcmp(optarg, "eccp256") == 0)
				po.algorithm = YKSSH_PIV_ALG_ECCP256;
			else if (strcmp(optarg, "eccp384") == 0)
				po.algorithm = YKSSH_PIV_ALG_ECCP384;
			else if (strcmp(optarg, "rsa2048") == 0)
				po.algorithm = YKSSH_PIV_ALG_RSA2048;
			else if (strcmp(optarg, "ed25519") == 0)
				po.algorithm = YKSSH_PIV_ALG_ED25519;
			else
				return cli_usage_error(cli, &cli_cmd_enroll,
				    "--algorithm is eccp256, eccp384 or "
				    "rsa2048, not '%s'", optarg);
			break;
		case OPT_PINPOLICY:
			if (parse_policy(optarg, 0, &po.pin_policy) != 0)
				return cli_usage_error(cli, &cli_cmd_enroll,
				    "--pin-policy is once, always, never or "
				    "default, not '%s'", optarg);
			break;
		case OPT_TOUCHPOLICY:
			if (parse_policy(optarg, 1, &po.touch_policy) != 0)
				return cli_usage_error(cli, &cli_cmd_enroll,
				    "--touch-policy is cached, always, never "
				    "or default, not '%s'", optarg);
			break;
		case OPT_READER:
			po.reader = optarg;
			break;
		case OPT_SETUP:
			po.setup = 1;
			break;
		case OPT_BACKUP:
			backup = optarg;
			break;
		case OPT_TRUSTDIR:
			trust_dir = optarg;
			break;
		case OPT_UNATTESTED:
			o.allow_unattested = po.allow_unattested = 1;
			break;
		case OPT_NOCONFIG:
			wo.no_config = 1;
			break;
		case OPT_HOST:
			wo.host = optarg;
			break;
		case OPT_PERSIST:
			wo.persist = optarg;
			break;
		case OPT_EXPIRES:
			errno = 0;
			days = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || days < 1 ||
			    days > 3650)
				return cli_usage_error(cli, &cli_cmd_enroll,
				    "--expires takes 1 to 3650 days, not '%s'",
				    optarg);
			wo.expires_days = (unsigned)days;
			break;
		default:
			return cli_usage_error(cli, &cli_cmd_enroll,
			    "unexpected option");
		}
	}
	if (optind != argc)
		return cli_usage_error(cli, &cli_cmd_enroll,
		    "unexpected argument '%s'", argv[optind]);
	if (piv && (kinds & ONLY_FIDO))
		return cli_usage_error(cli, &cli_cmd_enroll,
		    "--%s is for FIDO2 keys, not with --piv", fido_opt);
	if (!piv && (kinds & ONLY_PIV))
		return cli_usage_error(cli, &cli_cmd_enroll,
		    "--%s needs --piv", piv_opt);
	if (o.user != NULL && !o.resident)
		return cli_usage_error(cli, &cli_cmd_enroll,
		    "--user only applies to --resident keys");
	if (no_register && (cli_bb_given(&b) || wo.expires_days != 0))
		return cli_usage_error(cli, &cli_cmd_enroll,
		    "Bitbucket options need registration (drop --no-register)");
	if (backup != NULL && nobackup_opt != NULL)
		return cli_usage_error(cli, &cli_cmd_enroll, "--%s does not go "
		    "with --backup: the backup joins %s's entry and names its "
		    "files after it", nobackup_opt, backup);
	if (backup != NULL && piv)
		return cli_fail(cli, ykssh_err_hint(YKSSH_ERR(
		    YKSSH_ERR_UNSUPPORTED, "--backup is for FIDO2 keys, not "
		    "with --piv"), "enroll the second token's PIV key under its "
		    "own --label and --host"));
	if ((o.home = cli_need_home(cli, &status)) == NULL)
		return status;
	/*
	 * A second FIDO2 key under an enrolled label: a backup, or a
	 * replacement (PIV's --force also overwrites slots: not asked).
	 */
	if (backup == NULL && !piv && !wo.no_config && (err =
	    ykssh_enroll_check_entry(o.home, NULL, o.label, o.force)) != NULL)
		return cli_fail(cli, err);
	if (backup != NULL) {
		if ((err = ykssh_enroll_backup_plan(o.home, NULL, backup,
		    &bp)) != NULL)
			return cli_fail(cli, err);
		o.output = bp->backup_stub;
		o.label = bp->backup_label;
		if (o.type == YKSSH_KEY_UNSPEC)
			o.type = bp->type;
		o.not_on = bp->primary;
	}
	/* A broken trust directory stops us before the token is used. */
	if ((err = cli_trust_load(o.home, trust_dir, &trust)) != NULL) {
		ykssh_enroll_backup_free(bp);
		return cli_fail(cli, err);
	}
	o.trust = po.trust = trust;
	if (piv) {
		po.home = o.home;
		po.label = o.label;
		po.comment = o.comment;
		po.output = o.output;
		po.force = o.force;
		ykssh_ctx_set_notice(cli->ctx, on_notice, cli);
		cli_token_begin(cli);
		status = enroll_piv(cli, &po, &wo, &b, no_register);
		cli_token_end(cli);
		cli_bb_close(&b);
		ykssh_attest_trust_free(trust);
		return status;
	}
	if (challenge_path != NULL) {
		if ((err = read_challenge(challenge_path, &challenge,
		    &challenge_len)) != NULL)
			goto out;
		o.challenge = (const uint8_t *)challenge;
		o.challenge_len = challenge_len;
	}
	memset(&ui, 0, sizeof(ui));
	ui.get_pin = cli_get_pin;
	ui.new_pin = ui_new_pin;
	ui.confirm = ui_confirm;

	/* Know the target before touching the token. */
	if (!no_register) {
		uint8_t flags = (o.no_touch_required ? 0 :
		    YKSSH_SK_USER_PRESENCE_REQD) | (o.verify_required ?
		    YKSSH_SK_USER_VERIFICATION_REQD : 0);

		if ((err = cli_bb_connect(cli, &b, o.home)) != NULL ||
		    (err = ykssh_bb_server_info(b.bb, &srv)) != NULL ||
		    (err = ykssh_bb_check_key(srv, o.type != YKSSH_KEY_UNSPEC ?
		    o.type : YKSSH_KEY_ED25519_SK, flags, &warning)) != NULL)
			goto out;
		if (warning != NULL)
			cli_warn(cli, "%s", warning);
		wo.bb = b.bb;
		wo.srv = srv;
	}

	ykssh_ctx_set_notice(cli->ctx, on_notice, cli);
	cli_token_begin(cli);
	err = ykssh_enroll_fido(cli->ctx, &o, &ui, &r);
	if (r != NULL)
		warn_unattested(cli, r->attest);
	if (err == NULL && wo.bb != NULL && bp != NULL) {
		/* "<the primary's label> (backup)", the first free one. */
		err = ykssh_enroll_backup_bb_label(b.bb, bp, &bblabel);
		wo.bb_label = bblabel;
		wo.bb_label_explicit = 0;
	} else if (err == NULL && wo.bb != NULL) {
		if ((bblabel = ykssh_bb_default_label(r->key, o.comment)) ==
		    NULL)
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		wo.bb_label = o.label != NULL ? o.label : bblabel;
		wo.bb_label_explicit = o.label != NULL;
	}
	if (err == NULL) {
		struct ykssh_enroll_key k;

		memset(&k, 0, sizeof(k));
		k.key = r->key;
		k.fingerprint = r->fingerprint;
		k.pub_line = r->pub_line;
		k.pub_path = r->pub_path;
		k.identity = r->stub_path;
		k.label = bp != NULL ? bp->label : o.label;
		k.backup = bp != NULL;
		err = ykssh_enroll_wire(cli->ctx, o.home, &k, &wo, &wired);
	}
	cli_token_end(cli);
	if (err != NULL && r != NULL && !cli->json)
		/* The key exists: say where, whatever failed after. */
		print_human(cli, r);
	if (err != NULL)
		goto out;
	if (cli->json)
		status = print_json(cli, r, &b, wired, bp != NULL ? bp->label :
		    NULL);
	else {
		print_human(cli, r);
		cli_print_wired(cli, &b, wired);
		if (bp != NULL)
			fprintf(cli->out, "  backup of    %s: ssh tries %s's "
			    "key first, then this one\n", bp->label, bp->label);
	}
out:
	if (err != NULL)
		status = cli_fail(cli, err);
	free(challenge);
	free(bblabel);
	ykssh_enroll_wired_free(wired);
	ykssh_bb_server_free(srv);
	cli_bb_close(&b);
	ykssh_enroll_result_free(r);
	ykssh_enroll_backup_free(bp);
	ykssh_attest_trust_free(trust);
	return status;
}
