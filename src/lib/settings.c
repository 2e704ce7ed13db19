/* SPDX-License-Identifier: BSD-2-Clause */
/* ~/.config/ykssh/config; see settings.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ykssh/atomicfile.h"
#include "ykssh/settings.h"

#define SETTINGS_MAX	(64 * 1024)

void
ykssh_settings_free(struct ykssh_settings *s)
{
	if (s == NULL)
		return;
	free(s->bitbucket_url);
	free(s->api_url);
	free(s->cacert);
	free(s->token_file);
	free(s->trust_dir);
	free(s->path);
	free(s);
}

static char *
trim(char *s)
{
	char *e;

	s += strspn(s, " \t");
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

struct ykssh_err *
ykssh_settings_parse(const char *text, size_t len, const char *name,
    struct ykssh_settings **sp)
{
	struct ykssh_settings *s;
	struct ykssh_err *err = NULL;
	char *copy, *line, *next, *key, *val, *eq, **slot;
	size_t lineno = 0;

	*sp = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (copy = strndup(text, len)) == NULL) {
		free(s);
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	}
	if (strlen(copy) != len) {
		err = YKSSH_ERR(YKSSH_ERR_CONFIG, "%s contains a NUL byte",
		    name);
		goto out;
	}
	for (line = copy; line != NULL && err == NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line = trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			err = YKSSH_ERR(YKSSH_ERR_CONFIG,
			    "%s:%zu: expected \"key = value\"", name, lineno);
			break;
		}
		*eq = '\0';
		key = trim(line);
		val = trim(eq + 1);
		if (strcmp(key, "bitbucket-url") == 0)
			slot = &s->bitbucket_url;
		else if (strcmp(key, "api-url") == 0)
			slot = &s->api_url;
		else if (strcmp(key, "cacert") == 0)
			slot = &s->cacert;
		else if (strcmp(key, "token-file") == 0)
			slot = &s->token_file;
		else if (strcmp(key, "trust-dir") == 0)
			slot = &s->trust_dir;
		else if (strcmp(key, "http-timeout") == 0) {
			char *end;
			long v = strtol(val, &end, 10);

			if (*end != '\0' || v < 1 || v > 600) {
				err = YKSSH_ERR(YKSSH_ERR_CONFIG,
				    "%s:%zu: http-timeout is 1 to 600 seconds",
				    name, lineno);
				break;
			}
			s->http_timeout = (int)v;
			continue;
		} else {
			err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG,
			    "%s:%zu: unknown setting \"%.40s\"", name, lineno,
			    key), "known settings: bitbucket-url, api-url, "
			    "cacert, token-file, http-timeout, trust-dir");
			break;
		}
		if (*slot != NULL) {
			err = YKSSH_ERR(YKSSH_ERR_CONFIG,
			    "%s:%zu: \"%s\" is set twice", name, lineno, key);
			break;
		}
		if (*val == '\0') {
			err = YKSSH_ERR(YKSSH_ERR_CONFIG,
			    "%s:%zu: \"%s\" has no value", name, lineno, key);
			break;
		}
		if ((*slot = strdup(val)) == NULL)
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	}
out:
	free(copy);
	if (err != NULL) {
		ykssh_settings_free(s);
		return err;
	}
	*sp = s;
	return NULL;
}

struct ykssh_err *
ykssh_settings_load(const char *home, struct ykssh_settings **sp)
{
	struct ykssh_err *err;
	char *path = NULL, *data = NULL;
	size_t len;
	int exists;

	*sp = NULL;
	if (asprintf(&path, "%s/.config/ykssh/config", home) < 0)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	if ((err = ykssh_atomicfile_read(path, SETTINGS_MAX, &data, &len,
	    &exists)) != NULL) {
		free(path);
		return YKSSH_ERR_WRAP(err, "cannot read the settings");
	}
	err = ykssh_settings_parse(data, len, path, sp);
	free(data);
	if (err == NULL && exists)
		(*sp)->path = path;	/* transferred */
	else
		free(path);
	return err;
}
