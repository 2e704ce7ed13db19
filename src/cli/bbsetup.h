/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bitbucket options shared by register and enroll: which server, which CA,
 * where the token is; options win over ~/.config/ykssh/config.
 */
#ifndef YKSSH_CLI_BBSETUP_H
#define YKSSH_CLI_BBSETUP_H

#include "cli.h"
#include "ykssh/bitbucket.h"
#include "ykssh/settings.h"

#define CLI_BB_LONGOPTS \
	{ "bitbucket-url", required_argument, NULL, CLI_OPT_BB_URL }, \
	{ "api-url", required_argument, NULL, CLI_OPT_BB_API }, \
	{ "cacert", required_argument, NULL, CLI_OPT_BB_CACERT }, \
	{ "token-file", required_argument, NULL, CLI_OPT_BB_TOKENFILE }

enum {
	CLI_OPT_BB_URL = 0x180, CLI_OPT_BB_API, CLI_OPT_BB_CACERT,
	CLI_OPT_BB_TOKENFILE
};

#define CLI_BB_HELP \
	"  --bitbucket-url URL   Bitbucket Data Center server (default:\n" \
	"                        Bitbucket Cloud)\n" \
	"  --api-url URL         Bitbucket Cloud API base (default\n" \
	"                        https://api.bitbucket.org/2.0)\n" \
	"  --cacert FILE         CA bundle for a server with a private CA\n" \
	"  --token-file FILE     token file (default ~/.config/ykssh/bitbucket,\n" \
	"                        mode 0600)\n"

struct cli_bb {
	const char			*url;
	const char			*api_url;
	const char			*cacert;
	const char			*token_file;
	struct ykssh_settings		*settings;
	struct ykssh_bb_credentials	*cred;
	struct ykssh_bb			*bb;
	struct ykssh_bb_opts		 opts;
};

/* Whether any Bitbucket option was given. */
int cli_bb_given(const struct cli_bb *b);
/* Takes one of the CLI_OPT_BB_* options; 1 if c was one. */
int cli_bb_option(struct cli_bb *b, int c, const char *arg);
/*
 * Settings, credentials (prompting as needed) and the client.  Errors are
 * the library's.
 */
struct ykssh_err *cli_bb_connect(struct cli *cli, struct cli_bb *b,
    const char *home) YKSSH_MUST_CHECK;
void cli_bb_close(struct cli_bb *b);
/* "Bitbucket Cloud" or "Bitbucket Data Center (https://...)". */
const char *cli_bb_name(const struct cli_bb *b);
/* The config entry and registration lines of enroll and recover. */
struct ykssh_enroll_wired;
void cli_print_wired(const struct cli *cli, const struct cli_bb *b,
    const struct ykssh_enroll_wired *w);
/* The same as "registration" and "ssh_config" members of o (w may be NULL). */
void cli_wired_json(json_t *o, const struct cli_bb *b,
    const struct ykssh_enroll_wired *w);
/* The user's home directory ($HOME, else the password database). */
const char *cli_home(void);
/* cli_home(), or NULL after reporting the error (*status: its exit). */
const char *cli_need_home(const struct cli *cli, int *status);

#endif /* YKSSH_CLI_BBSETUP_H */
