/* SPDX-License-Identifier: BSD-2-Clause */
/* Bitbucket options shared by register and enroll; see bbsetup.h. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bbsetup.h"
#include "prompt.h"
#include "ykssh/enroll.h"

const char *
cli_home(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h != NULL && *h == '/')
		return h;
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir != NULL)
		return pw->pw_dir;
	return NULL;
}

int
cli_bb_option(struct cli_bb *b, int c, const char *arg)
{
	switch (c) {
	case CLI_OPT_BB_URL:
		b->url = arg;
		return 1;
	case CLI_OPT_BB_API:
		b->api_url = arg;
		return 1;
	case CLI_OPT_BB_CACERT:
		b->cacert = arg;
		return 1;
	case CLI_OPT_BB_TOKENFILE:
		b->token_file = arg;
		return 1;
	default:
		return 0;
	}
}

static struct ykssh_err *
get_secret(void *arg, const char *prompt, struct ykssh_secret *s)
{
	(void)arg;
	return cli_read_secret(prompt, s);
}

static struct ykssh_err *
get_text(void *arg, const char *prompt, char **textp)
{
	(void)arg;
	return cli_read_text(prompt, textp);
}

struct ykssh_err *
cli_bb_connect(struct cli *cli, struct cli_bb *b, const char *home)
{
	struct ykssh_bb_cred_req req;
	struct ykssh_err *err;

	if (b->settings == NULL &&
	    (err = ykssh_settings_load(home, &b->settings)) != NULL)
		return err;
	if (b->url == NULL)
		b->url = b->settings->bitbucket_url;
	if (b->api_url == NULL)
		b->api_url = b->settings->api_url;
	if (b->cacert == NULL)
		b->cacert = b->settings->cacert;
	if (b->token_file == NULL)
		b->token_file = b->settings->token_file;
	memset(&b->opts, 0, sizeof(b->opts));
	b->opts.product = b->url != NULL ? YKSSH_BB_DC : YKSSH_BB_CLOUD;
	b->opts.url = b->url != NULL ? b->url : b->api_url;
	b->opts.cacert = b->cacert;
	b->opts.timeout_ms = b->settings->http_timeout * 1000;

	memset(&req, 0, sizeof(req));
	req.product = b->opts.product;
	req.url = b->opts.url;
	req.token_file = b->token_file;
	req.home = home;
	req.get_secret = get_secret;
	req.get_text = get_text;
	if ((err = ykssh_bb_find_credentials(cli->ctx, &req, &b->cred)) !=
	    NULL)
		return err;
	return ykssh_bb_open(cli->ctx, &b->opts, b->cred, &b->bb);
}

void
cli_bb_close(struct cli_bb *b)
{
	ykssh_bb_free(b->bb);
	ykssh_bb_credentials_free(b->cred);
	ykssh_settings_free(b->settings);
	b->bb = NULL;
	b->cred = NULL;
	b->settings = NULL;
}

const char *
cli_bb_name(const struct cli_bb *b)
{
	static char name[300];

	if (b->opts.product == YKSSH_BB_DC)
		snprintf(name, sizeof(name), "Bitbucket Data Center (%s)",
		    b->url);
	else
		snprintf(name, sizeof(name), "Bitbucket Cloud");
	return name;
}

void
cli_print_wired(const struct cli *cli, const struct cli_bb *b,
    const struct ykssh_enroll_wired *w)
{
	if (w->bb_id != NULL)
		fprintf(cli->out, "  bitbucket    %s on %s as \"%s\" (id %s)\n",
		    w->bb_already ? "already registered" : "registered",
		    cli_bb_name(b), w->bb_label, w->bb_id);
	if (w->config_path != NULL) {
		fprintf(cli->out, "  ssh config   %s line %zu: Host %s%s%s\n",
		    w->config_path, w->config_line, w->host,
		    w->hostname != NULL ? " (HostName " : "",
		    w->hostname != NULL ? w->hostname : "");
		if (w->hostname != NULL)
			fprintf(cli->out, "               use git@%s:... in "
			    "your git remotes\n", w->host);
	}
}

int
cli_bb_given(const struct cli_bb *b)
{
	return b->url != NULL || b->api_url != NULL || b->cacert != NULL ||
	    b->token_file != NULL;
}

void
cli_wired_json(json_t *o, const struct cli_bb *b,
    const struct ykssh_enroll_wired *w)
{
	if (w != NULL && w->bb_id != NULL)
		json_object_set_new(o, "registration", json_pack("{s:s, s:s, "
		    "s:s, s:b}", "server", cli_bb_name(b), "id", w->bb_id,
		    "label", w->bb_label, "already", w->bb_already));
	if (w != NULL && w->config_path != NULL)
		json_object_set_new(o, "ssh_config", json_pack("{s:s, s:s, s:s,"
		    " s:s?, s:I, s:I}", "path", w->config_path, "label",
		    w->config_label, "host", w->host, "hostname", w->hostname,
		    "port", (json_int_t)w->port, "line",
		    (json_int_t)w->config_line));
}

const char *
cli_need_home(const struct cli *cli, int *status)
{
	const char *home = cli_home();

	if (home == NULL)
		*status = cli_fail(cli, ykssh_err_hint(YKSSH_ERR(
		    YKSSH_ERR_CONFIG, "cannot tell your home directory"),
		    "set HOME"));
	return home;
}
