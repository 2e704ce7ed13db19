/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bitbucket replies, parsed with jansson: strict JSON, duplicate keys
 * refused, types checked field by field.  Replies are bounded by the HTTP
 * layer (YKSSH_BB_MAX_REPLY).
 *
 * Cloud key: {"uuid","label","key","fingerprint","created_on","last_used",
 * "expires_on",...}; page: {"values":[...],"next":URL}.
 * Data Center key: {"id":N,"label","text","fingerprint","createdDate",
 * "lastAuthenticated","expiryDays"}; page: {"values":[...],"isLastPage",
 * "nextPageStart"}.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bitbucket-internal.h"

#define MAX_PAGE_VALUES	1000

static json_t *
load(const char *body, size_t len, const char *what, struct ykssh_err **errp)
{
	json_error_t je;
	json_t *j;

	*errp = NULL;
	if (body == NULL || len == 0) {
		*errp = YKSSH_ERR(YKSSH_ERR_PROTOCOL, "%s: empty reply", what);
		return NULL;
	}
	if ((j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		*errp = YKSSH_ERR(YKSSH_ERR_PROTOCOL,
		    "%s: the reply is not valid JSON (%s at line %d, column "
		    "%d)", what, je.text, je.line, je.column);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		*errp = YKSSH_ERR(YKSSH_ERR_PROTOCOL,
		    "%s: the reply is not a JSON object", what);
		return NULL;
	}
	return j;
}

/* A copy of a string member, NULL when absent or null; -1 if mistyped. */
static int
opt_str(json_t *o, const char *name, char **out)
{
	json_t *v = json_object_get(o, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	if ((*out = strndup(json_string_value(v), json_string_length(v))) ==
	    NULL)
		return -1;
	/* Strings with NULs would be cut silently: refuse them. */
	if (strlen(*out) != json_string_length(v)) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* An integer member as text (DC ids, dates). */
static int
opt_int_str(json_t *o, const char *name, char **out)
{
	json_t *v = json_object_get(o, name);
	char buf[32];

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_string(v))
		return opt_str(o, name, out);
	if (!json_is_integer(v))
		return -1;
	snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
	    json_integer_value(v));
	return (*out = strdup(buf)) != NULL ? 0 : -1;
}

void
ykssh_bb_key_free(struct ykssh_bb_key *k)
{
	if (k == NULL)
		return;
	free(k->id);
	free(k->label);
	free(k->text);
	free(k->fingerprint);
	free(k->created);
	free(k->last_used);
	free(k->expires);
	free(k);
}

static void
key_clear(struct ykssh_bb_key *k)
{
	free(k->id);
	free(k->label);
	free(k->text);
	free(k->fingerprint);
	free(k->created);
	free(k->last_used);
	free(k->expires);
	memset(k, 0, sizeof(*k));
}

void
ykssh_bb_keylist_free(struct ykssh_bb_keylist *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		key_clear(&l->keys[i]);
	free(l->keys);
	free(l);
}

/* Fingerprints come without "SHA256:"; ykssh shows them with it. */
static int
prefix_fp(char **fp)
{
	char *s;

	if (*fp == NULL || strncmp(*fp, "SHA256:", 7) == 0)
		return 0;
	if (asprintf(&s, "SHA256:%s", *fp) < 0)
		return -1;
	free(*fp);
	*fp = s;
	return 0;
}

static int
parse_key_obj(enum ykssh_bb_product product, json_t *o, struct ykssh_bb_key *k)
{
	memset(k, 0, sizeof(*k));
	if (!json_is_object(o))
		return -1;
	if (product == YKSSH_BB_CLOUD) {
		if (opt_str(o, "uuid", &k->id) != 0 ||
		    opt_str(o, "key", &k->text) != 0 ||
		    opt_str(o, "created_on", &k->created) != 0 ||
		    opt_str(o, "last_used", &k->last_used) != 0 ||
		    opt_str(o, "expires_on", &k->expires) != 0)
			goto fail;
	} else {
		if (opt_int_str(o, "id", &k->id) != 0 ||
		    opt_str(o, "text", &k->text) != 0 ||
		    opt_int_str(o, "createdDate", &k->created) != 0 ||
		    opt_int_str(o, "lastAuthenticated", &k->last_used) != 0 ||
		    opt_int_str(o, "expiryDays", &k->expires) != 0)
			goto fail;
	}
	if (opt_str(o, "label", &k->label) != 0 ||
	    opt_str(o, "fingerprint", &k->fingerprint) != 0 ||
	    prefix_fp(&k->fingerprint) != 0 || k->id == NULL)
		goto fail;
	return 0;
fail:
	key_clear(k);
	return -1;
}

struct ykssh_err *
ykssh_bb_json_key(enum ykssh_bb_product product, const char *body, size_t len,
    struct ykssh_bb_key **keyp)
{
	struct ykssh_bb_key *k = NULL;
	struct ykssh_err *err;
	json_t *j;

	*keyp = NULL;
	if ((j = load(body, len, "key", &err)) == NULL)
		return err;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	else if (parse_key_obj(product, j, k) != 0)
		err = YKSSH_ERR(YKSSH_ERR_PROTOCOL,
		    "the server's key object lacks an id or has mistyped "
		    "fields");
	json_decref(j);
	if (err != NULL) {
		free(k);
		return err;
	}
	*keyp = k;
	return NULL;
}

struct ykssh_err *
ykssh_bb_json_page(enum ykssh_bb_product product, const char *body, size_t len,
    struct ykssh_bb_keylist *append, char **cloud_next, long *dc_next_start)
{
	struct ykssh_bb_key *nk;
	struct ykssh_err *err = NULL;
	json_t *j, *values, *v;
	size_t i, n;

	*cloud_next = NULL;
	*dc_next_start = -1;
	if ((j = load(body, len, "key list", &err)) == NULL)
		return err;
	values = json_object_get(j, "values");
	if (!json_is_array(values) ||
	    (n = json_array_size(values)) > MAX_PAGE_VALUES) {
		err = YKSSH_ERR(YKSSH_ERR_PROTOCOL,
		    "the key list has no \"values\" array (or one of more "
		    "than %d keys)", MAX_PAGE_VALUES);
		goto out;
	}
	if (n > 0) {
		if ((nk = reallocarray(append->keys, append->n + n,
		    sizeof(*nk))) == NULL) {
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
			goto out;
		}
		append->keys = nk;
	}
	json_array_foreach(values, i, v) {
		if (parse_key_obj(product, v, &append->keys[append->n]) != 0) {
			err = YKSSH_ERR(YKSSH_ERR_PROTOCOL,
			    "key %zu of the list lacks an id or has mistyped "
			    "fields", i + 1);
			goto out;
		}
		append->n++;
	}
	if (product == YKSSH_BB_CLOUD) {
		if (opt_str(j, "next", cloud_next) != 0)
			err = YKSSH_ERR(YKSSH_ERR_PROTOCOL,
			    "the key list's \"next\" is not a string");
	} else {
		json_t *last = json_object_get(j, "isLastPage");
		json_t *next = json_object_get(j, "nextPageStart");

		if (!json_is_boolean(last))
			err = YKSSH_ERR(YKSSH_ERR_PROTOCOL,
			    "the key list has no \"isLastPage\"");
		else if (!json_is_true(last)) {
			if (!json_is_integer(next) ||
			    json_integer_value(next) < 0 ||
			    json_integer_value(next) > 1000000)
				err = YKSSH_ERR(YKSSH_ERR_PROTOCOL,
				    "the key list has no valid "
				    "\"nextPageStart\"");
			else
				*dc_next_start = (long)json_integer_value(next);
		}
	}
out:
	json_decref(j);
	return err;
}

/*
 * The one string member a reply is read for; `prefix` (or NULL) is what
 * it must start with.  PROTOCOL with `missing` when it is not there.
 */
static struct ykssh_err *
one_string(const char *body, size_t len, const char *what, const char *name,
    const char *prefix, const char *missing, char **outp)
{
	struct ykssh_err *err;
	json_t *j;

	*outp = NULL;
	if ((j = load(body, len, what, &err)) == NULL)
		return err;
	if (opt_str(j, name, outp) != 0 || *outp == NULL ||
	    (prefix != NULL && strncmp(*outp, prefix, strlen(prefix)) != 0)) {
		free(*outp);
		*outp = NULL;
		err = YKSSH_ERR(YKSSH_ERR_PROTOCOL, "%s", missing);
	}
	json_decref(j);
	return err;
}

struct ykssh_err *
ykssh_bb_json_user(const char *body, size_t len, char **uuidp)
{
	return one_string(body, len, "current user", "uuid", "{",
	    "the current user has no \"uuid\"", uuidp);
}

struct ykssh_err *
ykssh_bb_json_version(const char *body, size_t len, char **versionp)
{
	return one_string(body, len, "application properties", "version",
	    NULL, "the server did not report its version", versionp);
}

/* "a, b, c" from a JSON array of strings (others skipped). */
static char *
join(json_t *arr)
{
	char *out = NULL, *tmp;
	size_t i;
	json_t *v;

	if (!json_is_array(arr))
		return NULL;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			continue;
		if (asprintf(&tmp, "%s%s%s", out != NULL ? out : "",
		    out != NULL ? ", " : "", json_string_value(v)) < 0) {
			free(out);
			return NULL;
		}
		free(out);
		out = tmp;
	}
	return out != NULL ? out : strdup("");
}

void
ykssh_bb_json_error(const char *body, size_t len, char **messagep,
    char **requiredp, char **grantedp)
{
	json_t *j, *e, *errs, *detail;

	*messagep = *requiredp = *grantedp = NULL;
	if (body == NULL || len == 0 ||
	    (j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return;
	/* Cloud: {"type":"error","error":{"message","detail"}} */
	if (json_is_object(e = json_object_get(j, "error"))) {
		(void)opt_str(e, "message", messagep);
		detail = json_object_get(e, "detail");
		if (json_is_object(detail)) {
			*requiredp = join(json_object_get(detail, "required"));
			*grantedp = join(json_object_get(detail, "granted"));
		}
	}
	/* Data Center: {"errors":[{"message","exceptionName"}]} */
	if (*messagep == NULL &&
	    json_is_array(errs = json_object_get(j, "errors")) &&
	    json_is_object(e = json_array_get(errs, 0)))
		(void)opt_str(e, "message", messagep);
	json_decref(j);
}

int
ykssh_bb_json_ssh_settings(const char *body, size_t len, char **hostp,
    unsigned *portp)
{
	struct ykssh_err *err;
	const char *u, *h, *colon, *end;
	char *base = NULL, *host = NULL;
	unsigned long port = 22;
	json_t *j;
	int r = -1;

	*hostp = NULL;
	if ((j = load(body, len, "SSH settings", &err)) == NULL) {
		ykssh_err_free(err);
		return -1;
	}
	if (!json_is_true(json_object_get(j, "enabled")) ||
	    opt_str(j, "baseUrl", &base) != 0 || base == NULL ||
	    strncmp(base, "ssh://", 6) != 0)
		goto out;
	u = base + 6;
	if ((h = strchr(u, '@')) != NULL && h < u + strcspn(u, "/"))
		u = h + 1;
	end = u + strcspn(u, "/");
	colon = memchr(u, ':', (size_t)(end - u));
	if (colon != NULL) {
		char *pe;

		port = strtoul(colon + 1, &pe, 10);
		if (pe != end || port == 0 || port > 65535)
			goto out;
	} else
		colon = end;
	if (colon == u || (host = strndup(u, (size_t)(colon - u))) == NULL ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != strlen(host)) {
		free(host);
		goto out;
	}
	*hostp = host;
	*portp = (unsigned)port;
	r = 0;
out:
	free(base);
	json_decref(j);
	return r;
}
