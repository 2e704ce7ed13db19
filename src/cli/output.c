/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Output: errors, usage errors, progress, JSON, and option parsing shared
 * by every command.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/*
 * Text that reaches a terminal may come from outside (a key comment, a
 * server's error message): print control characters as \xNN so it cannot
 * move the cursor or rewrite earlier lines.
 */
static void
put_safe(FILE *f, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

static void vprint_line(FILE *, int, const char *, const char *,
    const char *, va_list) YKSSH_PRINTF(5, 0);

static void
vprint_line(FILE *f, int color, const char *color_on, const char *label,
    const char *fmt, va_list ap)
{
	char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	fputs("ykssh: ", f);
	if (label != NULL) {
		if (color)
			fputs(color_on, f);
		fputs(label, f);
		if (color)
			fputs("\033[0m", f);
		fputs(": ", f);
	}
	put_safe(f, msg != NULL ? msg : "(out of memory)");
	fputc('\n', f);
	free(msg);
}

#define RED	"\033[1;31m"
#define YELLOW	"\033[1;33m"

void
cli_info(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (cli->quiet || cli->json)
		return;
	va_start(ap, fmt);
	vprint_line(cli->err, 0, NULL, NULL, fmt, ap);
	va_end(ap);
}

void
cli_warn(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_line(cli->err, cli->color, YELLOW, "warning", fmt, ap);
	va_end(ap);
}

int
cli_usage_error(const struct cli *cli, const struct cli_cmd *cmd,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_line(cli->err, cli->color, RED, "error", fmt, ap);
	va_end(ap);
	if (cmd != NULL)
		fprintf(cli->err, "Try 'ykssh %s --help'.\n", cmd->name);
	else
		fprintf(cli->err, "Try 'ykssh --help'.\n");
	return EXIT_USAGE;
}

int
cli_print_cmd_help(const struct cli *cli, const struct cli_cmd *cmd)
{
	fprintf(cli->out, "usage: ykssh %s\n\n%s.\n\n%s", cmd->usage,
	    cmd->summary, cmd->help);
	if (cmd->help_more != NULL)
		fputs(cmd->help_more, cli->out);
	fprintf(cli->out,
	    "\nCommon options: --json, -v/--verbose, -q/--quiet, "
	    "-h/--help.\n");
	return 0;
}

int
cli_print_json(const struct cli *cli, json_t *json)
{
	int r;

	if (json == NULL)
		return cli_fail(cli,
		    YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot build JSON output"));
	r = json_dumpf(json, cli->out, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_ENSURE_ASCII);
	json_decref(json);
	if (r != 0 || fputc('\n', cli->out) == EOF)
		return 74;
	return 0;
}

static json_t *
err_to_json(const struct ykssh_err *err, const char *joined)
{
	const struct ykssh_err *e;
	const char *hint;
	json_t *o, *chain, *link;

	o = json_object();
	chain = json_array();
	if (o == NULL || chain == NULL)
		goto fail;
	for (e = err; e != NULL; e = ykssh_err_cause(e)) {
		link = json_pack("{s:s, s:s}",
		    "code", ykssh_strerror_name(ykssh_err_code(e)),
		    "message", ykssh_err_message(e));
		if (link == NULL || json_array_append_new(chain, link) != 0)
			goto fail;
	}
	hint = ykssh_err_find_hint(err);
	if (json_object_set_new(o, "code",
	    json_string(ykssh_strerror_name(ykssh_err_code(err)))) != 0 ||
	    json_object_set_new(o, "message", json_string(joined)) != 0 ||
	    json_object_set_new(o, "hint",
	    hint != NULL ? json_string(hint) : json_null()) != 0 ||
	    json_object_set_new(o, "exit_status",
	    json_integer(ykssh_err_exit_status(ykssh_err_code(err)))) != 0 ||
	    json_object_set_new(o, "chain", chain) != 0)
		goto fail_o;
	return json_pack("{s:o}", "error", o);
fail:
	json_decref(chain);
fail_o:
	json_decref(o);
	return NULL;
}

int
cli_fail(const struct cli *cli, struct ykssh_err *err)
{
	const struct ykssh_err *e;
	const char *hint;
	char *joined = NULL;
	size_t len = 0;
	FILE *mem;
	int status;

	if (err == NULL)
		return 0;
	status = ykssh_err_exit_status(ykssh_err_code(err));

	/* "outer: cause: cause" on one line. */
	if ((mem = open_memstream(&joined, &len)) != NULL) {
		for (e = err; e != NULL; e = ykssh_err_cause(e)) {
			if (e != err)
				fputs(": ", mem);
			fputs(ykssh_err_message(e), mem);
		}
		fclose(mem);
	}
	if (joined == NULL) {
		fputs("ykssh: error: out of memory\n", cli->err);
		ykssh_err_free(err);
		return status;
	}

	if (!cli->json || !cli->quiet) {
		fputs("ykssh: ", cli->err);
		if (cli->color)
			fputs(RED "error" "\033[0m" ": ", cli->err);
		else
			fputs("error: ", cli->err);
		put_safe(cli->err, joined);
		fputc('\n', cli->err);
		if ((hint = ykssh_err_find_hint(err)) != NULL) {
			fputs("ykssh: hint: ", cli->err);
			put_safe(cli->err, hint);
			fputc('\n', cli->err);
		}
		if (cli->verbose > 0) {
			for (e = err; e != NULL; e = ykssh_err_cause(e))
				fprintf(cli->err, "ykssh:   %s at %s (%s:%d)\n",
				    ykssh_strerror_name(ykssh_err_code(e)),
				    ykssh_err_func(e), ykssh_err_file(e),
				    ykssh_err_line(e));
		}
	}
	if (cli->json)
		(void)cli_print_json(cli, err_to_json(err, joined));
	free(joined);
	ykssh_err_free(err);
	return status;
}

int
cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
    const struct option *longopts, int *status)
{
	const struct cli_cmd *cmd = cli_find_cmd(argv[0]);
	int c;

	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, shortopts, longopts, NULL);
		switch (c) {
		case 'h':
			*status = cli_print_cmd_help(cli, cmd);
			return CLI_GETOPT_EXIT;
		case 'q':
			cli->quiet = 1;
			cli_setup_logging(cli);
			continue;
		case 'v':
			cli->verbose++;
			cli_setup_logging(cli);
			continue;
		case CLI_OPT_JSON:
			cli->json = 1;
			continue;
		case ':':
			if (optopt > 0 && optopt < 0x100)
				*status = cli_usage_error(cli, cmd,
				    "option '-%c' needs a value", optopt);
			else
				*status = cli_usage_error(cli, cmd,
				    "option '%s' needs a value",
				    argv[optind - 1]);
			return CLI_GETOPT_EXIT;
		case '?':
			if (optopt > 0 && optopt < 0x100)
				*status = cli_usage_error(cli, cmd,
				    "unknown option '-%c'", optopt);
			else
				*status = cli_usage_error(cli, cmd,
				    "unknown option '%s'", argv[optind - 1]);
			return CLI_GETOPT_EXIT;
		default:
			return c;
		}
	}
}
