/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test front end for "ykssh config" before (and independently of) the
 * command table in main.c: runs the real cmd_config() and output.c with a
 * one-entry table.  Usage: sctool [--json] [-v] config ARGS...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

extern const struct cli_cmd cli_cmd_config;

const struct cli_cmd *
cli_commands(size_t *n)
{
	*n = 1;
	return &cli_cmd_config;
}

const struct cli_cmd *
cli_find_cmd(const char *name)
{
	return strcmp(name, "config") == 0 ? &cli_cmd_config : NULL;
}

void
cli_usage(FILE *f)
{
	fprintf(f, "usage: sctool [--json] [-v] config ...\n");
}

static void
sink(void *arg, enum ykssh_log_level level, const char *msg)
{
	(void)level;
	fprintf(arg, "sctool: %s\n", msg);
}

void
cli_setup_logging(struct cli *cli)
{
	ykssh_ctx_set_log(cli->ctx, sink, cli->err, cli->verbose ?
	    YKSSH_LOG_DEBUG : YKSSH_LOG_WARN);
}

int
main(int argc, char **argv)
{
	struct cli cli;
	int i = 1, r;

	memset(&cli, 0, sizeof(cli));
	cli.progname = "ykssh";
	cli.out = stdout;
	cli.err = stderr;
	if ((cli.ctx = ykssh_ctx_new()) == NULL)
		return 71;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0)
			cli.json = 1;
		else if (strcmp(argv[i], "-v") == 0)
			cli.verbose++;
		else if (strcmp(argv[i], "-q") == 0)
			cli.quiet = 1;
	}
	cli_setup_logging(&cli);
	if (i >= argc || strcmp(argv[i], "config") != 0) {
		cli_usage(stderr);
		return 64;
	}
	r = cmd_config(&cli, argc - i, argv + i);
	ykssh_ctx_free(cli.ctx);
	return r;
}
