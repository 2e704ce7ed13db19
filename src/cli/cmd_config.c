/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ykssh config show|apply|remove: the ~/.ssh/config entries ykssh owns.
 * All logic is in the library (include/ykssh/sshconfig.h); this file
 * parses options and prints.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ykssh/atomicfile.h"
#include "ykssh/sshconfig.h"

static int cmd_config(struct cli *, int, char **);

const struct cli_cmd cli_cmd_config = {
	"config", cmd_config,
	"Show, add or remove the ~/.ssh/config entries ykssh owns",
	"config show [HOST] | apply --identity-file PATH [options] |"
	    " remove LABEL",
	"  show [HOST]           list the blocks ykssh owns; with HOST,\n"
	"                        also what 'ssh -G' computes for it (user,\n"
	"                        hostname, port, identityfile,\n"
	"                        identitiesonly, pkcs11provider, control*)\n"
	"  apply                 add or update the block of --label\n"
	"  remove LABEL          remove the block of LABEL\n"
	"Options:\n"
	"  --config FILE         edit FILE instead of ~/.ssh/config\n"
	"  --label LABEL         block name (default: the host alias)\n"
	"  --key-id ID           key fingerprint shown in the marker comment\n"
	"  --host ALIAS          Host alias (default bitbucket.org)\n"
	"  --hostname NAME       HostName (for an alias or Data Center)\n"
	"  --port N              Port (Data Center: 7999)\n"
	"  --user USER           User (default git)\n"
	"  --identity-file PATH  IdentityFile: the FIDO2 key stub, or the\n"
	"                        PIV key's .pub (required for apply); again\n"
	"                        for a backup token's key, tried after it\n"
	"  --pkcs11-provider SO  PKCS11Provider: makes a PIV entry\n"
	"  --persist DURATION    ControlMaster auto, ControlPath\n"
	"                        ~/.ssh/cm-%C, ControlPersist DURATION: one\n"
	"                        touch per burst of git commands, but\n"
	"                        anything running as you can reuse the open\n"
	"                        connection without a touch\n"
	"  --dry-run             print the change as a unified diff, write\n"
	"                        nothing\n"
	"  --force               replace or remove a block edited by hand\n"
	"  --no-backup           do not keep FILE.ykssh-backup-<time>\n"
	"  --no-ssh-check        do not run 'ssh -G' before and after the\n"
	"                        edit\n"
	"The file is replaced atomically (same mode and owner, symlinks kept)\n"
	"after a backup; lines ykssh does not own are never changed.\n",
	NULL
};

enum {
	OPT_CONFIG = 0x200, OPT_LABEL, OPT_KEYID, OPT_HOST, OPT_HOSTNAME,
	OPT_PORT, OPT_USER, OPT_IDFILE, OPT_PKCS11, OPT_PERSIST, OPT_DRYRUN,
	OPT_FORCE, OPT_NOBACKUP, OPT_NOSSHCHECK
};

struct args {
	const char			*config;
	struct ykssh_sshconfig_entry	 e;
	struct ykssh_sshconfig_opts	 o;
	int				 entry_opts;	/* apply-only seen */
	const char			*more[7];	/* --identity-file again */
};

static int
parse_port(const char *s, unsigned int *port)
{
	char *ep;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoul(s, &ep, 10);
	if (*ep != '\0' || v == 0 || v > 65535)
		return -1;
	*port = (unsigned int)v;
	return 0;
}

static json_t *
json_strv(char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static int
print_report(struct cli *cli, const char *verb,
    const struct ykssh_sshconfig_report *rep, int dry)
{
	json_t *o;
	size_t i;

	if (cli->json) {
		o = json_pack("{s:s, s:b, s:b, s:s?, s:s, s:I}",
		    "path", rep->path, "changed", rep->changed,
		    "written", rep->written, "backup", rep->backup,
		    "diff", rep->diff != NULL ? rep->diff : "",
		    "line", (json_int_t)rep->line);
		if (o != NULL && json_object_set_new(o, "notes",
		    json_strv(rep->notes, rep->nnotes)) != 0) {
			json_decref(o);
			o = NULL;
		}
		return cli_print_json(cli, o);
	}
	if (dry && rep->diff != NULL)
		fputs(rep->diff, cli->out);
	for (i = 0; i < rep->nnotes; i++)
		cli_info(cli, "note: %s", rep->notes[i]);
	if (!rep->changed)
		cli_info(cli, "%s: already up to date", rep->path);
	else if (dry)
		cli_info(cli, "%s: would be %s (dry run, nothing written)",
		    rep->path, verb);
	else
		cli_info(cli, "%s: %s%s%s%s", rep->path, verb,
		    rep->backup ? " (backup: " : "",
		    rep->backup ? rep->backup : "", rep->backup ? ")" : "");
	return 0;
}

static int
do_show(struct cli *cli, const struct args *a, const char *host)
{
	struct ykssh_sshconfig_block *b = NULL;
	struct ykssh_err *err;
	char *data = NULL, **lines = NULL;
	size_t len, n = 0, i, nl = 0;
	json_t *o = NULL, *arr, *h;
	int exists, r;

	if ((err = ykssh_atomicfile_read(a->config, YKSSH_SSHCONFIG_MAX_SIZE,
	    &data, &len, &exists)) != NULL ||
	    (err = ykssh_sshconfig_list(data, len, &b, &n)) != NULL) {
		free(data);
		return cli_fail(cli, YKSSH_ERR_WRAP(err, "%s", a->config));
	}
	free(data);
	if (host != NULL && exists && (err = ykssh_sshconfig_ssh_query(&a->o,
	    a->config, host, &lines)) != NULL) {
		ykssh_sshconfig_blocks_free(b, n);
		return cli_fail(cli, err);
	}
	for (nl = 0; lines != NULL && lines[nl] != NULL; nl++)
		;
	if (cli->json) {
		o = json_pack("{s:s}", "path", a->config);
		arr = json_array();
		for (i = 0; o != NULL && arr != NULL && i < n; i++)
			json_array_append_new(arr, json_pack("{s:s, s:s?, "
			    "s:s?, s:I, s:I, s:b}", "label", b[i].label,
			    "key_id", b[i].key_id, "host", b[i].host,
			    "first_line", (json_int_t)b[i].first_line,
			    "last_line", (json_int_t)b[i].last_line,
			    "edited", b[i].edited));
		if (o != NULL && json_object_set_new(o, "blocks", arr) != 0) {
			json_decref(o);
			o = NULL;
		}
		if (o != NULL && host != NULL) {
			h = json_pack("{s:s, s:o}", "name", host, "ssh_g",
			    json_strv(lines, nl));
			if (json_object_set_new(o, "host", h) != 0) {
				json_decref(o);
				o = NULL;
			}
		}
		r = cli_print_json(cli, o);
		goto out;
	}
	if (n == 0)
		cli_info(cli, "%s: no blocks owned by ykssh", a->config);
	for (i = 0; i < n; i++)
		fprintf(cli->out, "%s\tlines %zu-%zu\tHost %s%s%s%s\n",
		    b[i].label, b[i].first_line, b[i].last_line,
		    b[i].host ? b[i].host : "(none)",
		    b[i].key_id ? "\tkey " : "", b[i].key_id ? b[i].key_id : "",
		    b[i].edited ? "\t(edited by hand)" : "");
	if (host != NULL) {
		fprintf(cli->out, "ssh -G %s:\n", host);
		if (!exists)
			fprintf(cli->out, "  (%s does not exist)\n", a->config);
		for (i = 0; i < nl; i++)
			fprintf(cli->out, "  %s\n", lines[i]);
	}
	r = 0;
out:
	ykssh_sshconfig_strv_free(lines);
	ykssh_sshconfig_blocks_free(b, n);
	return r;
}

static int
cmd_config(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		CLI_COMMON_LONGOPTS,
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "key-id", required_argument, NULL, OPT_KEYID },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "hostname", required_argument, NULL, OPT_HOSTNAME },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "user", required_argument, NULL, OPT_USER },
		{ "identity-file", required_argument, NULL, OPT_IDFILE },
		{ "pkcs11-provider", required_argument, NULL, OPT_PKCS11 },
		{ "persist", required_argument, NULL, OPT_PERSIST },
		{ "dry-run", no_argument, NULL, OPT_DRYRUN },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "no-backup", no_argument, NULL, OPT_NOBACKUP },
		{ "no-ssh-check", no_argument, NULL, OPT_NOSSHCHECK },
		{ NULL, 0, NULL, 0 }
	};
	const struct cli_cmd *cmd = &cli_cmd_config;
	struct ykssh_sshconfig_report *rep = NULL;
	struct ykssh_err *err;
	struct args a;
	char *defpath = NULL;
	const char *sub;
	int c, status = 0, dry, r;

	memset(&a, 0, sizeof(a));
	a.e.kind = YKSSH_SSHCONFIG_FIDO2;
	while ((c = cli_getopt(cli, argc, argv, CLI_COMMON_SHORTOPTS, lo,
	    &status)) != -1) {
		switch (c) {
		case CLI_GETOPT_EXIT:
			return status;
		case OPT_CONFIG:
			a.config = optarg;
			break;
		case OPT_LABEL:
			a.e.label = optarg;
			a.entry_opts++;
			break;
		case OPT_KEYID:
			a.e.key_id = optarg;
			a.entry_opts++;
			break;
		case OPT_HOST:
			a.e.host = optarg;
			a.entry_opts++;
			break;
		case OPT_HOSTNAME:
			a.e.hostname = optarg;
			a.entry_opts++;
			break;
		case OPT_PORT:
			if (parse_port(optarg, &a.e.port) == -1)
				return cli_usage_error(cli, cmd,
				    "invalid port '%s'", optarg);
			a.entry_opts++;
			break;
		case OPT_USER:
			a.e.user = optarg;
			a.entry_opts++;
			break;
		case OPT_IDFILE:
			if (a.e.identity_file == NULL)
				a.e.identity_file = optarg;
			else if (a.e.nmore_identity_files <
			    sizeof(a.more) / sizeof(a.more[0]))
				a.more[a.e.nmore_identity_files++] = optarg;
			else
				return cli_usage_error(cli, cmd, "at most %zu "
				    "--identity-file", sizeof(a.more) /
				    sizeof(a.more[0]) + 1);
			a.e.more_identity_files = a.more;
			a.entry_opts++;
			break;
		case OPT_PKCS11:
			a.e.pkcs11_provider = optarg;
			a.e.kind = YKSSH_SSHCONFIG_PIV;
			a.entry_opts++;
			break;
		case OPT_PERSIST:
			a.e.persist = optarg;
			a.entry_opts++;
			break;
		case OPT_DRYRUN:
			a.o.flags |= YKSSH_SSHCONFIG_DRY_RUN;
			break;
		case OPT_FORCE:
			a.o.flags |= YKSSH_SSHCONFIG_FORCE;
			break;
		case OPT_NOBACKUP:
			a.o.flags |= YKSSH_SSHCONFIG_NO_BACKUP;
			break;
		case OPT_NOSSHCHECK:
			a.o.flags |= YKSSH_SSHCONFIG_NO_SSH_CHECK;
			break;
		default:
			return cli_usage_error(cli, cmd, "unexpected option");
		}
	}
	if (optind >= argc)
		return cli_usage_error(cli, cmd,
		    "say which: show, apply or remove");
	sub = argv[optind++];
	if (a.config == NULL) {
		if ((err = ykssh_sshconfig_default_path(&defpath)) != NULL)
			return cli_fail(cli, err);
		a.config = defpath;
	}
	dry = (a.o.flags & YKSSH_SSHCONFIG_DRY_RUN) != 0;
	if (strcmp(sub, "show") == 0) {
		if (a.entry_opts || a.o.flags)
			r = cli_usage_error(cli, cmd, "show takes only "
			    "--config and an optional HOST");
		else if (argc - optind > 1)
			r = cli_usage_error(cli, cmd, "unexpected argument "
			    "'%s'", argv[optind + 1]);
		else
			r = do_show(cli, &a, optind < argc ? argv[optind] :
			    NULL);
	} else if (strcmp(sub, "apply") == 0) {
		if (optind < argc)
			r = cli_usage_error(cli, cmd, "unexpected argument "
			    "'%s'", argv[optind]);
		else if (a.e.identity_file == NULL)
			r = cli_usage_error(cli, cmd, "apply needs "
			    "--identity-file");
		else {
			if (a.e.label == NULL)
				a.e.label = a.e.host != NULL ? a.e.host :
				    "bitbucket.org";
			err = ykssh_sshconfig_apply_file(cli->ctx, a.config,
			    &a.e, &a.o, &rep);
			r = err != NULL ? cli_fail(cli, err) :
			    print_report(cli, "updated", rep, dry);
		}
	} else if (strcmp(sub, "remove") == 0) {
		if (a.entry_opts)
			r = cli_usage_error(cli, cmd, "remove takes a LABEL, "
			    "not entry options");
		else if (argc - optind != 1)
			r = cli_usage_error(cli, cmd, "remove needs one LABEL");
		else {
			err = ykssh_sshconfig_remove_file(cli->ctx, a.config,
			    argv[optind], &a.o, &rep);
			r = err != NULL ? cli_fail(cli, err) :
			    print_report(cli, "updated", rep, dry);
		}
	} else
		r = cli_usage_error(cli, cmd, "unknown config command '%s'",
		    sub);
	ykssh_sshconfig_report_free(rep);
	free(defpath);
	return r;
}
