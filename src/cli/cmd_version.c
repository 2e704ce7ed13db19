/* SPDX-License-Identifier: BSD-2-Clause */
/* ykssh version: ykssh and library versions, for bug reports. */
#include "cli.h"
#include "ykssh/version.h"

static int cmd_version(struct cli *, int, char **);

const struct cli_cmd cli_cmd_version = {
	"version", cmd_version,
	"Show the versions of ykssh and the libraries it uses",
	"version",
	"Prints the version of ykssh and of libfido2, libykpiv, OpenSSL,\n"
	"libcurl, jansson and libcbor; with --json as an object.\n",
	NULL
};

static int
cmd_version(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct ykssh_component comp[YKSSH_VERSION_COMPONENTS_MAX];
	json_t *o, *libs;
	size_t i, n;
	int c, status = 0;

	while ((c = cli_getopt(cli, argc, argv, CLI_COMMON_SHORTOPTS, lo,
	    &status)) != -1) {
		if (c == CLI_GETOPT_EXIT)
			return status;
	}
	if (optind != argc)
		return cli_usage_error(cli, &cli_cmd_version,
		    "unexpected argument '%s'", argv[optind]);

	n = ykssh_version_components(comp, YKSSH_VERSION_COMPONENTS_MAX);
	if (!cli->json) {
		fprintf(cli->out, "ykssh %s\n", comp[0].version);
		for (i = 1; i < n; i++)
			fprintf(cli->out, "  %-10s %s%s\n", comp[i].name,
			    comp[i].version,
			    comp[i].runtime ? "" : " (built against)");
		return 0;
	}
	o = json_pack("{s:s}", "version", comp[0].version);
	libs = json_object();
	for (i = 1; o != NULL && libs != NULL && i < n; i++)
		if (json_object_set_new(libs, comp[i].name,
		    json_pack("{s:s, s:b}", "version", comp[i].version,
		    "runtime", comp[i].runtime)) != 0)
			break;
	if (o == NULL || libs == NULL || i < n ||
	    json_object_set_new(o, "libraries", libs) != 0) {
		json_decref(o);
		return cli_print_json(cli, NULL);
	}
	return cli_print_json(cli, o);
}
