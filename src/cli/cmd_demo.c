/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ykssh demo: the whole product on this machine only, with a software
 * YubiKey, a local Bitbucket and a git server (scripts/ykssh-demo).  The
 * simulators are test tools that are never installed, so the demo runs
 * from the build tree it was built in.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int cmd_demo(struct cli *, int, char **);

const struct cli_cmd cli_cmd_demo = {
	"demo", cmd_demo,
	"See ykssh work end to end without a YubiKey (software token)",
	"demo [--piv] [--keep]",
	"In a throwaway directory, starts a software YubiKey, a local\n"
	"Bitbucket and a git server on 127.0.0.1, runs the real 'ykssh\n"
	"enroll' against them, shows what it wrote, and finishes with a real\n"
	"'git push' over SSH.  Every process and file it started is removed\n"
	"at the end, also on Ctrl-C.  Your ~/.ssh and your Bitbucket account\n"
	"are never touched.  Runs from a source build.\n"
	"Options:\n"
	"  --piv                 a software PIV card and 'ykssh enroll --piv'\n"
	"                        instead of FIDO2 (needs root: the card's\n"
	"                        private pcscd runs in namespaces)\n"
	"  --keep                keep the demo's directory for a look\n",
	NULL
};

static int
cmd_demo(struct cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {
		CLI_COMMON_LONGOPTS,
		{ "keep", no_argument, NULL, 'k' },
		{ "piv", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	char self[PATH_MAX], expect[PATH_MAX], script[PATH_MAX];
	const char *opt[2] = { NULL, NULL };
	size_t nopt = 0;
	int keep = 0, piv = 0;
	ssize_t n;
	int c, status = 0;

	while ((c = cli_getopt(cli, argc, argv, CLI_COMMON_SHORTOPTS "k", lo,
	    &status)) != -1) {
		if (c == CLI_GETOPT_EXIT)
			return status;
		if (c == 'k')
			keep = 1;
		else if (c == 'p')
			piv = 1;
		else
			return cli_usage_error(cli, &cli_cmd_demo,
			    "unexpected option");
	}
	if (optind != argc)
		return cli_usage_error(cli, &cli_cmd_demo,
		    "unexpected argument '%s'", argv[optind]);
	if (cli->json)
		return cli_usage_error(cli, &cli_cmd_demo,
		    "the demo narrates; it has no --json output");
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0)
		return cli_fail(cli, YKSSH_ERRNO(YKSSH_ERR_SYSTEM,
		    "cannot find the ykssh binary"));
	self[n] = '\0';
	snprintf(expect, sizeof(expect), "%s/src/cli/ykssh",
	    YKSSH_BUILD_DIR);
	snprintf(script, sizeof(script), "%s/scripts/ykssh-demo",
	    YKSSH_SOURCE_DIR);
	if (strcmp(self, expect) != 0 || access(script, R_OK) != 0)
		return cli_fail(cli, ykssh_err_hint(YKSSH_ERR(
		    YKSSH_ERR_UNSUPPORTED, "the demo runs from a source build: "
		    "its software YubiKey and local Bitbucket are test tools, "
		    "not installed"), "in a source tree: scripts/install-deps "
		    "&& cmake -S . -B build && cmake --build build -j2 && "
		    "build/src/cli/ykssh demo"));
	fflush(NULL);
	/* Optional arguments first, so a NULL one ends the list. */
	if (keep)
		opt[nopt++] = "--keep";
	if (piv)
		opt[nopt++] = "--piv";
	execl("/usr/bin/python3", "python3", script, "--ykssh", self,
	    "--source", YKSSH_SOURCE_DIR, "--build", YKSSH_BUILD_DIR, opt[0],
	    opt[1], (char *)NULL);
	return cli_fail(cli, ykssh_err_hint(YKSSH_ERRNO(YKSSH_ERR_SYSTEM,
	    "cannot run /usr/bin/python3 %s", script),
	    "install python3 (scripts/install-deps)"));
}
