/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ykssh front end: argument parsing, prompts, human and --json output,
 * exit statuses.  No logic the library should own.  Only public headers
 * (include/ykssh/) are visible here.
 *
 * Each subcommand lives in cmd_<name>.c and exports its table entry,
 *	const struct cli_cmd cli_cmd_<name> = { name, handler, summary,
 *	    usage, help };
 * listed in the command table in main.c.  argv[0] is the command name;
 * handlers parse their options with cli_getopt() (which also takes the
 * global options and --help after the command, and reports unknown
 * options), and return an exit status (never exit()).  Results go to
 * stdout (JSON with --json, nothing else); progress, warnings and errors
 * go to stderr.
 */
#ifndef YKSSH_CLI_H
#define YKSSH_CLI_H

#include <getopt.h>
#include <stdio.h>

#include <jansson.h>

#include "ykssh/ctx.h"
#include "ykssh/error.h"

#define EXIT_USAGE	64

struct cli {
	struct ykssh_ctx *ctx;
	const char	*progname;	/* "ykssh" */
	int		 json;		/* --json: machine output on stdout */
	int		 verbose;	/* -v count */
	int		 quiet;		/* -q: no progress on stderr */
	int		 color;		/* stderr is a tty and NO_COLOR unset */
	FILE		*out;		/* stdout */
	FILE		*err;		/* stderr */
};

struct cli_cmd {
	const char	*name;
	int		(*fn)(struct cli *, int, char **);
	const char	*summary;	/* one line, for ykssh --help */
	const char	*usage;		/* "config apply [options] HOST" */
	const char	*help;		/* option list and notes */
	const char	*help_more;	/* its continuation, or NULL (C99
					   bounds a string literal to 4095) */
};

/*
 * Options every command accepts.  A handler's short option string starts
 * with CLI_COMMON_SHORTOPTS and its long option table includes
 * CLI_COMMON_LONGOPTS:
 *
 *	static const struct option lo[] = {
 *		CLI_COMMON_LONGOPTS,
 *		{ "force", no_argument, NULL, 'f' },
 *		{ NULL, 0, NULL, 0 }
 *	};
 *	while ((c = cli_getopt(cli, argc, argv, CLI_COMMON_SHORTOPTS "f",
 *	    lo, &status)) != -1) {
 *		if (c == CLI_GETOPT_EXIT)
 *			return status;
 *		...
 *	}
 */
#define CLI_COMMON_SHORTOPTS	":hqv"
#define CLI_OPT_JSON		0x100
#define CLI_COMMON_LONGOPTS \
	{ "help", no_argument, NULL, 'h' }, \
	{ "json", no_argument, NULL, CLI_OPT_JSON }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "verbose", no_argument, NULL, 'v' }
#define CLI_GETOPT_EXIT		(-2)

/*
 * getopt_long for handlers (argv[0] is the command name).  Handles the
 * common options itself; returns the next handler option, -1 at the end of
 * the options, or CLI_GETOPT_EXIT with *status set after printing the
 * command's help (0) or a usage error (64).
 */
int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
    const struct option *longopts, int *status);
/* Applies -v/-q to the library log level (main.c). */
void cli_setup_logging(struct cli *cli);

/* The overview shown by ykssh --help (main.c). */
void cli_usage(FILE *f);

/* The command table (main.c). */
const struct cli_cmd *cli_find_cmd(const char *name);
const struct cli_cmd *const *cli_commands(size_t *n);

/* Commands: each cmd_<name>.c defines its table entry and handler. */
extern const struct cli_cmd cli_cmd_config;
extern const struct cli_cmd cli_cmd_demo;
extern const struct cli_cmd cli_cmd_doctor;
extern const struct cli_cmd cli_cmd_enroll;
extern const struct cli_cmd cli_cmd_help;
extern const struct cli_cmd cli_cmd_list;
extern const struct cli_cmd cli_cmd_recover;
extern const struct cli_cmd cli_cmd_register;
extern const struct cli_cmd cli_cmd_revoke;
extern const struct cli_cmd cli_cmd_rotate;
extern const struct cli_cmd cli_cmd_verify;
extern const struct cli_cmd cli_cmd_version;

/*
 * Output helpers (output.c).
 *
 * cli_fail: reports err (one line "ykssh: <message>: <cause>: ...", then
 * "ykssh: hint: <fix>" if there is one; with -v each link with its source
 * location; with --json an {"error": ...} object on stdout), frees it and
 * returns its exit status.
 */
int cli_fail(const struct cli *cli, struct ykssh_err *err);
/*
 * A usage error: "ykssh: <message>" and "Try 'ykssh CMD --help'." on
 * stderr; returns EXIT_USAGE (64).  cmd may be NULL for global usage.
 */
int cli_usage_error(const struct cli *cli, const struct cli_cmd *cmd,
    const char *fmt, ...) YKSSH_PRINTF(3, 4);
/* Usage and help of a command on stdout; returns 0. */
int cli_print_cmd_help(const struct cli *cli, const struct cli_cmd *cmd);
/* Progress and notes on stderr (suppressed by -q and by --json). */
void cli_info(const struct cli *cli, const char *fmt, ...) YKSSH_PRINTF(2, 3);
/* A warning on stderr, always shown (even with -q). */
void cli_warn(const struct cli *cli, const char *fmt, ...) YKSSH_PRINTF(2, 3);
/*
 * Prints a JSON document on stdout followed by a newline and drops the
 * reference (json may be NULL after a failed build: reports NOMEM).
 * Returns 0 or an exit status.
 */
int cli_print_json(const struct cli *cli, json_t *json);

#endif /* YKSSH_CLI_H */
