/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ~/.config/ykssh/config: defaults for options, one "key = value" per line,
 * '#' comments.  Keys:
 *	bitbucket-url	Bitbucket Data Center server (selects Data Center)
 *	api-url		Bitbucket Cloud API base (default the real one)
 *	cacert		extra CA bundle for the Bitbucket server
 *	token-file	where the Bitbucket token is kept
 *	http-timeout	seconds a Bitbucket request may take (default 30)
 *	trust-dir	attestation roots (default ~/.config/ykssh/trust and
 *			the system directories, see attest.h)
 * Command-line options win over the file.  Unknown keys are an error (a
 * typo must not silently fall back to a default).
 */
#ifndef YKSSH_SETTINGS_H
#define YKSSH_SETTINGS_H

#include <stddef.h>

#include "ykssh/error.h"

struct ykssh_settings {
	char	*bitbucket_url;
	char	*api_url;
	char	*cacert;
	char	*token_file;
	int	 http_timeout;	/* seconds, 0: default */
	char	*trust_dir;
	char	*path;		/* the file read, or NULL if there was none */
};

/*
 * Parses settings text (name used in messages: "file:line").  Errors:
 * CONFIG (unknown key, missing '=', duplicate key; the line is named).
 */
struct ykssh_err *ykssh_settings_parse(const char *text, size_t len,
    const char *name, struct ykssh_settings **sp) YKSSH_MUST_CHECK;
/* Reads home/.config/ykssh/config; a missing file gives empty settings. */
struct ykssh_err *ykssh_settings_load(const char *home,
    struct ykssh_settings **sp) YKSSH_MUST_CHECK;
void ykssh_settings_free(struct ykssh_settings *s);

#endif /* YKSSH_SETTINGS_H */
