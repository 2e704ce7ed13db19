/* SPDX-License-Identifier: BSD-2-Clause */
/* ykssh help [COMMAND] */
#include "cli.h"

static int cmd_help(struct cli *, int, char **);

const struct cli_cmd cli_cmd_help = {
	"help", cmd_help, "Show help for ykssh or one of its commands",
	"help [COMMAND]",
	"Shows the overview, or the usage and options of COMMAND\n"
	"(the same as 'ykssh COMMAND --help').\n",
	NULL
};

static int
cmd_help(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const struct cli_cmd *cmd;
	int c, status = 0;

	while ((c = cli_getopt(cli, argc, argv, CLI_COMMON_SHORTOPTS, lo,
	    &status)) != -1) {
		if (c == CLI_GETOPT_EXIT)
			return status;
		return cli_usage_error(cli, &cli_cmd_help,
		    "unexpected option");
	}
	if (optind == argc) {
		cli_usage(cli->out);
		return 0;
	}
	if (argc - optind > 1)
		return cli_usage_error(cli, &cli_cmd_help,
		    "expected at most one command name");
	if ((cmd = cli_find_cmd(argv[optind])) == NULL)
		return cli_usage_error(cli, NULL, "unknown command '%s'",
		    argv[optind]);
	return cli_print_cmd_help(cli, cmd);
}
