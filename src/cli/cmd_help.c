/* SPDX-License-Identifier: BSD-2-Clause */
/* ykssh help [COMMAND] */
#include "cli.h"

int
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
		return cli_usage_error(cli, cli_find_cmd("help"),
		    "unexpected option");
	}
	if (optind == argc) {
		cli_usage(cli->out);
		return 0;
	}
	if (argc - optind > 1)
		return cli_usage_error(cli, cli_find_cmd("help"),
		    "expected at most one command name");
	if ((cmd = cli_find_cmd(argv[optind])) == NULL)
		return cli_usage_error(cli, NULL, "unknown command '%s'",
		    argv[optind]);
	return cli_cmd_help(cli, cmd);
}
