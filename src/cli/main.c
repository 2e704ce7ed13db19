/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ykssh: global options, the command table and dispatch.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"
#include "ykssh/version.h"

/* The command table: drives dispatch, --help and the man page check. */
static const struct cli_cmd *const commands[] = {
	&cli_cmd_enroll,
	&cli_cmd_list,
	&cli_cmd_recover,
	&cli_cmd_register,
	&cli_cmd_revoke,
	&cli_cmd_rotate,
	&cli_cmd_verify,
	&cli_cmd_config,
	&cli_cmd_demo,
	&cli_cmd_doctor,
	&cli_cmd_help,
	&cli_cmd_version,
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

const struct cli_cmd *const *
cli_commands(size_t *n)
{
	*n = NCOMMANDS;
	return commands;
}

const struct cli_cmd *
cli_find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

void
cli_usage(FILE *f)
{
	size_t i;

	fprintf(f,
	    "usage: ykssh [--json] [-v] [-q] COMMAND [ARGS...]\n"
	    "       ykssh --help | --version\n"
	    "\n"
	    "Put your SSH identity on a YubiKey and wire it up for "
	    "Bitbucket.\n"
	    "\n"
	    "Commands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i]->name,
		    commands[i]->summary);
	fprintf(f,
	    "\n"
	    "Global options (before or after the command):\n"
	    "  --json          machine-readable result on stdout\n"
	    "  -v, --verbose   more detail on stderr (repeat for debug)\n"
	    "  -q, --quiet     only warnings and errors on stderr\n"
	    "  -h, --help      show this help\n"
	    "  -V, --version   show the version\n"
	    "\n"
	    "Run 'ykssh COMMAND --help' for the options of a command.\n"
	    "See ykssh(1) for files, environment and exit statuses.\n");
}

/*
 * Edit distance, to suggest the command the user probably meant.  Command
 * names are short, so the quadratic table is fine.
 */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[32][32];

	if (la >= 32 || lb >= 32)
		return 32;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			size_t sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;

			d[i][j] = sub < del ? (sub < ins ? sub : ins) :
			    (del < ins ? del : ins);
		}
	}
	return d[la][lb];
}

static const char *
suggest(const char *name)
{
	const char *best = NULL;
	size_t i, dist, bestd = 3;

	for (i = 0; i < NCOMMANDS; i++) {
		dist = distance(name, commands[i]->name);
		if (dist < bestd) {
			bestd = dist;
			best = commands[i]->name;
		}
	}
	return best;
}

static void
log_sink(void *arg, enum ykssh_log_level level, const char *msg)
{
	static const char *names[] = { "error", "warning", "info", "debug",
	    "trace" };
	const struct cli *cli = arg;

	fprintf(cli->err, "ykssh: %s: %s\n",
	    (size_t)level < sizeof(names) / sizeof(names[0]) ?
	    names[level] : "log", msg);
}

/*
 * Make sure descriptors 0-2 are open, so a file we open later can never
 * become "stdout" by accident (as OpenSSH's sanitise_stdfd does).
 */
static int
sanitise_stdfd(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0 && fd <= 2)
		;
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/*
 * Keep secrets out of core dumps and away from other processes of the same
 * user (ptrace, /proc/PID/mem), as ssh-agent does.
 */
static void
harden_process(void)
{
	struct rlimit rl = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/*
 * YKSSH_TOKEN_TIMEOUT: seconds a token may stay completely silent during a
 * request before it is taken to be unplugged (default 10).
 */
static void
token_timeout(struct cli *cli)
{
	const char *s = getenv("YKSSH_TOKEN_TIMEOUT");
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 3600) {
		cli_warn(cli, "ignoring YKSSH_TOKEN_TIMEOUT=%s (1 to 3600 "
		    "seconds)", s);
		return;
	}
	ykssh_ctx_set_token_timeout(cli->ctx, (int)v * 1000);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, CLI_OPT_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli cli = { 0 };
	const struct cli_cmd *cmd;
	const char *hint;
	int c, status;

	if (sanitise_stdfd() != 0)
		return 71;
	harden_process();

	cli.progname = "ykssh";
	cli.out = stdout;
	cli.err = stderr;
	cli.color = isatty(STDERR_FILENO) && getenv("NO_COLOR") == NULL;
	if ((cli.ctx = ykssh_ctx_new()) == NULL) {
		fprintf(stderr, "ykssh: out of memory\n");
		return 71;
	}
	cli_setup_logging(&cli);
	token_timeout(&cli);

	/* '+': stop at the command; its options are its handler's. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:hqvV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			cli_usage(stdout);
			status = 0;
			goto out;
		case 'V':
			printf("ykssh %s\n", ykssh_version());
			status = 0;
			goto out;
		case CLI_OPT_JSON:
			cli.json = 1;
			break;
		case 'q':
			cli.quiet = 1;
			cli_setup_logging(&cli);
			break;
		case 'v':
			cli.verbose++;
			cli_setup_logging(&cli);
			break;
		default:
			if (optopt > 0 && optopt < 0x100)
				status = cli_usage_error(&cli, NULL,
				    "unknown option '-%c'", optopt);
			else
				status = cli_usage_error(&cli, NULL,
				    "unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	if (optind >= argc) {
		status = cli_usage_error(&cli, NULL, "no command given");
		goto out;
	}
	if ((cmd = cli_find_cmd(argv[optind])) == NULL) {
		if ((hint = suggest(argv[optind])) != NULL)
			status = cli_usage_error(&cli, NULL,
			    "unknown command '%s'; did you mean '%s'?",
			    argv[optind], hint);
		else
			status = cli_usage_error(&cli, NULL,
			    "unknown command '%s'", argv[optind]);
		goto out;
	}
	/*
	 * The handler sees argv[0] = command name and parses from 1.  optind
	 * 0 makes glibc re-initialise getopt, so the handler's options may
	 * follow its operands (the '+' above must not stick).
	 */
	argc -= optind;
	argv += optind;
	optind = 0;
	status = cmd->fn(&cli, argc, argv);
out:
	if (fflush(stdout) != 0 && status == 0) {
		fprintf(stderr, "ykssh: cannot write output: %s\n",
		    strerror(errno));
		status = 74;
	}
	ykssh_ctx_free(cli.ctx);
	return status;
}

void
cli_setup_logging(struct cli *cli)
{
	enum ykssh_log_level level = YKSSH_LOG_WARN;

	/* -q keeps warnings and errors: they are never silenced. */
	if (cli->quiet)
		level = YKSSH_LOG_WARN;
	else if (cli->verbose >= 3)
		level = YKSSH_LOG_TRACE;
	else if (cli->verbose == 2)
		level = YKSSH_LOG_DEBUG;
	else if (cli->verbose == 1)
		level = YKSSH_LOG_INFO;
	ykssh_ctx_set_log(cli->ctx, log_sink, cli, level);
}
