/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bitbucket client: what the server accepts, listing (every page),
 * idempotent registration and deletion.  HTTP in bitbucket-http.c, JSON in
 * bitbucket-json.c, credentials in bitbucket-cred.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "bitbucket-internal.h"
#include "ykssh/buf.h"

#define MAX_PAGES	100
#define CLOUD_PAGELEN	100
#define DC_LIMIT	100

/* DC supports sk keys from this version (reference: Atlassian release). */
#define DC_SK_MAJOR	8
#define DC_SK_MINOR	13

/* "https://host[:port]" of a URL, or NULL if it is not https. */
static char *
origin_of(const char *url)
{
	const char *p;

	if (strncmp(url, "https://", 8) != 0)
		return NULL;
	p = url + 8;
	p += strcspn(p, "/?#");
	if (p == url + 8)
		return NULL;
	return strndup(url, (size_t)(p - url));
}

struct ykssh_err *
ykssh_bb_open(struct ykssh_ctx *ctx, const struct ykssh_bb_opts *opts,
    const struct ykssh_bb_credentials *cred, struct ykssh_bb **bbp)
{
	struct ykssh_bb *bb;
	struct ykssh_err *err;
	const char *url = opts->url;
	size_t n;

	*bbp = NULL;
	if (opts->product == YKSSH_BB_CLOUD && url == NULL)
		url = YKSSH_BB_CLOUD_API;
	if (url == NULL)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_USAGE,
		    "Bitbucket Data Center needs the server's URL"),
		    "pass --bitbucket-url https://bitbucket.example.com");
	if ((bb = calloc(1, sizeof(*bb))) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	bb->ctx = ctx;
	bb->product = opts->product;
	bb->cred = cred;
	bb->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 30000;
	bb->max_retries = opts->max_retries > 0 ? opts->max_retries : 3;
	bb->max_wait_s = opts->max_wait_s > 0 ? opts->max_wait_s : 60;
	if ((bb->base = strdup(url)) == NULL) {
		ykssh_bb_free(bb);
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	}
	n = strlen(bb->base);
	while (n > 0 && bb->base[n - 1] == '/')
		bb->base[--n] = '\0';
	if ((bb->origin = origin_of(bb->base)) == NULL) {
		ykssh_bb_free(bb);
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_USAGE,
		    "\"%s\" is not an https:// URL", url),
		    "Bitbucket is reached over HTTPS only");
	}
	if ((err = ykssh_bb_curl_load(bb)) != NULL ||
	    (err = ykssh_bb_http_init(bb, opts->cacert)) != NULL) {
		ykssh_bb_free(bb);
		return err;
	}
	*bbp = bb;
	return NULL;
}

void
ykssh_bb_free(struct ykssh_bb *bb)
{
	if (bb == NULL)
		return;
	if (bb->curl != NULL)
		bb->c.easy_cleanup(bb->curl);
	ykssh_bb_curl_unload(bb);
	free(bb->base);
	free(bb->origin);
	free(bb->account);
	free(bb);
}

unsigned long
ykssh_bb_requests(const struct ykssh_bb *bb)
{
	return bb->requests;
}

unsigned long
ykssh_bb_connections(const struct ykssh_bb *bb)
{
	return bb->connections;
}

void
ykssh_bb_server_free(struct ykssh_bb_server *s)
{
	if (s == NULL)
		return;
	free(s->version);
	free(s->ssh_host);
	free(s);
}

/* Compares "8.19.1" with major.minor: <0, 0, >0; -2 if unparsable. */
static int
version_cmp(const char *v, int major, int minor)
{
	unsigned a = 0, b = 0;

	if (v == NULL || sscanf(v, "%u.%u", &a, &b) != 2)
		return -2;
	if ((int)a != major)
		return (int)a < major ? -1 : 1;
	if ((int)b != minor)
		return (int)b < minor ? -1 : 1;
	return 0;
}

static char *
host_of(const char *origin)
{
	const char *h = origin + 8, *colon = strrchr(h, ':');

	/* [v6]:port or host:port; the SSH host has no port. */
	if (colon != NULL && strchr(colon, ']') == NULL)
		return strndup(h, (size_t)(colon - h));
	return strdup(h);
}

/*
 * Data Center's SSH address: from GET /rest/ssh/1.0/settings ("baseUrl":
 * "ssh://host:7999"), else the web host and the default port 7999.
 */
static void
dc_ssh_address(struct ykssh_bb *bb, struct ykssh_bb_server *s)
{
	struct ykssh_bb_reply r = { 0 };
	char *url = NULL, *host = NULL;
	unsigned port = YKSSH_BB_DC_SSH_PORT;

	ykssh_bb_reply_clear(&r);
	if (asprintf(&url, "%s/rest/ssh/1.0/settings", bb->base) >= 0) {
		struct ykssh_err *err = ykssh_bb_request(bb, "GET", url, NULL,
		    &r);

		if (err == NULL && r.status == 200 &&
		    ykssh_bb_json_ssh_settings(r.body, r.len, &host,
		    &port) == 0)
			ykssh_debug(bb->ctx, "SSH at %s port %u", host, port);
		else {
			free(host);
			host = NULL;
			port = YKSSH_BB_DC_SSH_PORT;
		}
		ykssh_err_free(err);
		free(url);
	}
	ykssh_bb_reply_clear(&r);
	s->ssh_host = host != NULL ? host : host_of(bb->origin);
	s->ssh_port = port;
}

struct ykssh_err *
ykssh_bb_server_info(struct ykssh_bb *bb, struct ykssh_bb_server **srvp)
{
	struct ykssh_bb_server *s;
	struct ykssh_bb_reply r = { 0 };
	struct ykssh_err *err = NULL;
	char *url = NULL;

	*srvp = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	s->product = bb->product;
	ykssh_bb_reply_clear(&r);
	if (bb->product == YKSSH_BB_CLOUD) {
		/* Atlassian's documentation lists no sk key types for Cloud. */
		s->accepts_sk = -1;
		s->sk_verify_required_works = -1;
		s->ssh_host = strdup(YKSSH_BB_CLOUD_SSH_HOST);
		s->ssh_port = 0;
	} else {
		if (asprintf(&url, "%s/rest/api/1.0/application-properties",
		    bb->base) < 0) {
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((err = ykssh_bb_request(bb, "GET", url, NULL, &r)) != NULL)
			goto out;
		if (r.status != 200) {
			err = ykssh_bb_status_err(bb, &r,
			    "cannot read the server's version");
			goto out;
		}
		if ((err = ykssh_bb_json_version(r.body, r.len, &s->version)) != NULL)
			goto out;
		s->accepts_sk = version_cmp(s->version, DC_SK_MAJOR,
		    DC_SK_MINOR) >= 0 ? 1 : 0;
		/* Its SSH server ignores the sk flags: UV keys fail (KB). */
		s->sk_verify_required_works = 0;
		dc_ssh_address(bb, s);
	}
	if (s->ssh_host == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	*srvp = s;
	s = NULL;
out:
	free(url);
	ykssh_bb_reply_clear(&r);
	ykssh_bb_server_free(s);
	return err;
}

struct ykssh_err *
ykssh_bb_check_key(const struct ykssh_bb_server *srv, enum ykssh_keytype type,
    uint8_t flags, const char **warningp)
{
	*warningp = NULL;
	if (!ykssh_sshkey_type_is_sk(type))
		return NULL;
	if (srv->accepts_sk == 0)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_UNSUPPORTED,
		    "Bitbucket Data Center %s does not accept FIDO2 (sk) keys; "
		    "they need 8.13 or later", srv->version != NULL ?
		    srv->version : ""),
		    "use a PIV key (ykssh enroll --piv), which every version "
		    "accepts, or upgrade the server");
	if ((flags & YKSSH_SK_USER_VERIFICATION_REQD) &&
	    srv->sk_verify_required_works == 0)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_UNSUPPORTED,
		    "Bitbucket Data Center's SSH server rejects sk keys made "
		    "with verify-required (a known limitation)"),
		    "enroll without --verify-required, or use a PIV key "
		    "(ykssh enroll --piv)");
	if (srv->accepts_sk < 0)
		*warningp = "Bitbucket Cloud does not document FIDO2 (sk) keys; "
		    "if it refuses this one, use a PIV key (ykssh enroll "
		    "--piv)";
	return NULL;
}

/* Cloud: the account's "{uuid}", from GET /user (once per client). */
static struct ykssh_err *
cloud_account(struct ykssh_bb *bb)
{
	struct ykssh_bb_reply r = { 0 };
	struct ykssh_err *err;
	char *url = NULL;

	if (bb->account != NULL)
		return NULL;
	ykssh_bb_reply_clear(&r);
	if (asprintf(&url, "%s/user", bb->base) < 0)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	err = ykssh_bb_request(bb, "GET", url, NULL, &r);
	free(url);
	if (err == NULL && r.status != 200)
		err = ykssh_bb_status_err(bb, &r, "cannot read the current user");
	if (err == NULL)
		err = ykssh_bb_json_user(r.body, r.len, &bb->account);
	ykssh_bb_reply_clear(&r);
	return err;
}

/* Base URL of the account's keys. */
static struct ykssh_err *
keys_url(struct ykssh_bb *bb, char **urlp)
{
	struct ykssh_err *err;
	char *enc;
	int n;

	*urlp = NULL;
	if (bb->product == YKSSH_BB_DC)
		n = asprintf(urlp, "%s/rest/ssh/1.0/keys", bb->base);
	else {
		if ((err = cloud_account(bb)) != NULL)
			return err;
		/* The braces of {uuid} are percent-encoded in the path. */
		if ((enc = bb->c.easy_escape(bb->curl, bb->account, 0)) == NULL)
			return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		n = asprintf(urlp, "%s/users/%s/ssh-keys", bb->base, enc);
		bb->c.free(enc);
	}
	if (n < 0) {
		*urlp = NULL;
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	}
	return NULL;
}

struct ykssh_err *
ykssh_bb_list(struct ykssh_bb *bb, struct ykssh_bb_keylist **listp)
{
	struct ykssh_bb_keylist *l = NULL;
	struct ykssh_bb_reply r = { 0 };
	struct ykssh_err *err = NULL;
	char *base = NULL, *url = NULL, *next = NULL;
	long start;
	int page;

	*listp = NULL;
	ykssh_bb_reply_clear(&r);
	if ((err = keys_url(bb, &base)) != NULL)
		return err;
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    asprintf(&url, "%s?%s=%d", base, bb->product == YKSSH_BB_CLOUD ?
	    "pagelen" : "limit", bb->product == YKSSH_BB_CLOUD ?
	    CLOUD_PAGELEN : DC_LIMIT) < 0) {
		url = NULL;
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (page = 0;; page++) {
		if (page == MAX_PAGES) {
			err = YKSSH_ERR(YKSSH_ERR_PROTOCOL,
			    "the key list goes on for more than %d pages",
			    MAX_PAGES);
			goto out;
		}
		if ((err = ykssh_bb_request(bb, "GET", url, NULL, &r)) != NULL)
			goto out;
		if (r.status != 200) {
			err = ykssh_bb_status_err(bb, &r, "cannot list SSH keys");
			goto out;
		}
		if ((err = ykssh_bb_json_page(bb->product, r.body, r.len, l, &next,
		    &start)) != NULL)
			goto out;
		free(url);
		url = NULL;
		if (bb->product == YKSSH_BB_CLOUD) {
			if (next == NULL)
				break;
			/*
			 * Follow "next" as given, but never to another
			 * origin: the credentials go with it.
			 */
			if (strncmp(next, bb->origin, strlen(bb->origin)) != 0 ||
			    (next[strlen(bb->origin)] != '/' &&
			    next[strlen(bb->origin)] != '\0')) {
				err = YKSSH_ERR(YKSSH_ERR_PROTOCOL,
				    "the next page of keys is on another "
				    "server; not following it");
				goto out;
			}
			url = next;
			next = NULL;
		} else {
			if (start < 0)
				break;
			if (asprintf(&url, "%s?limit=%d&start=%ld", base,
			    DC_LIMIT, start) < 0) {
				url = NULL;
				err = YKSSH_ERR(YKSSH_ERR_NOMEM,
				    "out of memory");
				goto out;
			}
		}
	}
	*listp = l;
	l = NULL;
out:
	free(base);
	free(url);
	free(next);
	ykssh_bb_reply_clear(&r);
	ykssh_bb_keylist_free(l);
	return err;
}

char *
ykssh_bb_default_label(const struct ykssh_sshkey *key, const char *comment)
{
	char date[16], *s = NULL;
	time_t t = time(NULL);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%d", &tm) == 0)
		date[0] = '\0';
	if (asprintf(&s, "%s %s %s", comment != NULL && *comment != '\0' ?
	    comment : "ykssh", ykssh_sshkey_type_label(ykssh_sshkey_type(key)),
	    date) < 0)
		return NULL;
	return s;
}

/* Does the registered key k hold the same public key? */
static int
same_key(const struct ykssh_bb_key *k, const struct ykssh_sshkey *key)
{
	struct ykssh_sshkey *other = NULL;
	struct ykssh_err *err;
	int eq;

	if (k->text == NULL)
		return 0;
	if ((err = ykssh_sshkey_parse_public(k->text, &other, NULL)) != NULL) {
		/* DSA and other types ykssh does not parse: not ours. */
		ykssh_err_free(err);
		return 0;
	}
	eq = ykssh_sshkey_equal_public(other, key);
	ykssh_sshkey_free(other);
	return eq;
}

static struct ykssh_bb_key *
dup_key(const struct ykssh_bb_key *k)
{
	struct ykssh_bb_key *d = calloc(1, sizeof(*d));

#define DUP(f)	if (k->f != NULL && (d->f = strdup(k->f)) == NULL) goto fail
	if (d == NULL)
		return NULL;
	DUP(id); DUP(label); DUP(text); DUP(fingerprint); DUP(created);
	DUP(last_used); DUP(expires);
#undef DUP
	return d;
fail:
	ykssh_bb_key_free(d);
	return NULL;
}

/* The matching key of a list, if any. */
static const struct ykssh_bb_key *
find(const struct ykssh_bb_keylist *l, const struct ykssh_sshkey *key)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (same_key(&l->keys[i], key))
			return &l->keys[i];
	return NULL;
}

static char *
add_body(const struct ykssh_bb *bb, const char *line, const char *label,
    unsigned expires_days)
{
	json_t *o;
	char *s;

	if (bb->product == YKSSH_BB_CLOUD)
		o = json_pack("{s:s, s:s}", "key", line, "label", label);
	else if (expires_days > 0)
		o = json_pack("{s:s, s:s, s:I}", "text", line, "label", label,
		    "expiryDays", (json_int_t)expires_days);
	else
		o = json_pack("{s:s, s:s}", "text", line, "label", label);
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* Cloud: expires_on is a query parameter, an ISO-8601 date. */
static int
add_url(const struct ykssh_bb *bb, const char *base, unsigned expires_days,
    char **urlp)
{
	char date[32];
	time_t t;
	struct tm tm;

	if (bb->product != YKSSH_BB_CLOUD || expires_days == 0)
		return (*urlp = strdup(base)) != NULL ? 0 : -1;
	t = time(NULL) + (time_t)expires_days * 86400;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -1;
	return asprintf(urlp, "%s?expires_on=%s", base, date) < 0 ? -1 : 0;
}

/* The key of the list that has that label, if any. */
static const struct ykssh_bb_key *
find_label(const struct ykssh_bb_keylist *l, const char *label)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->keys[i].label != NULL &&
		    strcmp(l->keys[i].label, label) == 0)
			return &l->keys[i];
	return NULL;
}

struct ykssh_err *
ykssh_bb_register(struct ykssh_bb *bb, const struct ykssh_sshkey *key,
    const char *comment, const char *label, int label_explicit,
    unsigned expires_days, struct ykssh_bb_key **keyp, int *alreadyp)
{
	struct ykssh_bb_keylist *l = NULL, *again = NULL;
	const struct ykssh_bb_key *found, *taken;
	struct ykssh_bb_reply r = { 0 };
	struct ykssh_err *err = NULL, *werr = NULL;
	char *line = NULL, *body = NULL, *base = NULL, *url = NULL;
	char *free_label = NULL;
	int n;

	*keyp = NULL;
	*alreadyp = 0;
	ykssh_bb_reply_clear(&r);
	if ((err = ykssh_sshkey_format_public(key, comment, &line)) != NULL)
		return err;
	/* Idempotence: list every page, match on the key itself. */
	if ((err = ykssh_bb_list(bb, &l)) != NULL)
		goto out;
	if ((found = find(l, key)) != NULL) {
		if ((*keyp = dup_key(found)) == NULL)
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		*alreadyp = 1;
		goto out;
	}
	if ((taken = find_label(l, label)) != NULL && label_explicit) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFLICT,
		    "the label \"%s\" is already used by another key on the "
		    "account (%s, id %s)", label, taken->fingerprint != NULL ?
		    taken->fingerprint : "unknown fingerprint", taken->id),
		    "choose another --label, or remove that key first with "
		    "'ykssh register --delete %s'", taken->id);
		goto out;
	}
	/* A default label is never worth a refusal: take a free variant. */
	for (n = 2; taken != NULL && n < 100; n++) {
		free(free_label);
		if (asprintf(&free_label, "%s (%d)", label, n) < 0) {
			free_label = NULL;
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
			goto out;
		}
		taken = find_label(l, free_label);
	}
	if (free_label != NULL)
		label = free_label;
	if ((err = keys_url(bb, &base)) != NULL)
		goto out;
	if ((body = add_body(bb, line, label, expires_days)) == NULL ||
	    add_url(bb, base, expires_days, &url) != 0) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	werr = ykssh_bb_request(bb, "POST", url, body, &r);
	if (werr == NULL && r.status == 201) {
		err = ykssh_bb_json_key(bb->product, r.body, r.len, keyp);
		goto out;
	}
	/*
	 * The write failed or its answer was lost.  Before saying so, look:
	 * if the key landed after all, that is success.  A "key already
	 * exists" answer can be about our own write, too: libcurl resends a
	 * request once when a reused connection closed before answering.
	 */
	if (werr != NULL || r.status >= 500 || r.status == 409 ||
	    (r.status == 400 && r.body != NULL &&
	    strstr(r.body, "already registered") != NULL)) {
		if (ykssh_bb_list(bb, &again) == NULL &&
		    (found = find(again, key)) != NULL) {
			ykssh_log(bb->ctx, YKSSH_LOG_INFO, "the key was added "
			    "although the reply was lost");
			if ((*keyp = dup_key(found)) == NULL)
				err = YKSSH_ERR(YKSSH_ERR_NOMEM,
				    "out of memory");
			goto out;
		}
	}
	if (werr != NULL) {
		err = YKSSH_ERR_WRAP(werr, "cannot register the key");
		werr = NULL;
	} else
		err = ykssh_bb_status_err(bb, &r, "cannot register the key");
out:
	ykssh_err_free(werr);
	free(free_label);
	free(line);
	free(body);
	free(base);
	free(url);
	ykssh_bb_reply_clear(&r);
	ykssh_bb_keylist_free(l);
	ykssh_bb_keylist_free(again);
	return err;
}

struct ykssh_err *
ykssh_bb_delete(struct ykssh_bb *bb, const char *which,
    struct ykssh_bb_key **deletedp)
{
	struct ykssh_bb_keylist *l = NULL;
	const struct ykssh_bb_key *k = NULL;
	struct ykssh_bb_reply r = { 0 };
	struct ykssh_err *err = NULL;
	char *base = NULL, *url = NULL, *enc = NULL;
	size_t i;

	*deletedp = NULL;
	ykssh_bb_reply_clear(&r);
	if ((err = ykssh_bb_list(bb, &l)) != NULL)
		return err;
	for (i = 0; i < l->n && k == NULL; i++) {
		const struct ykssh_bb_key *c = &l->keys[i];
		const char *id = c->id;

		if (strcmp(id, which) == 0 ||
		    (c->fingerprint != NULL && strcmp(c->fingerprint, which) ==
		    0))
			k = c;
		/* Cloud ids may be given without their braces. */
		else if (id[0] == '{' && strlen(id) == strlen(which) + 2 &&
		    strncmp(id + 1, which, strlen(which)) == 0)
			k = c;
	}
	if (k == NULL) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_NOT_FOUND,
		    "no key \"%s\" on the account", which),
		    "'ykssh register --list' shows the ids and fingerprints");
		goto out;
	}
	if ((err = keys_url(bb, &base)) != NULL)
		goto out;
	if ((enc = bb->c.easy_escape(bb->curl, k->id, 0)) == NULL ||
	    asprintf(&url, "%s/%s", base, enc) < 0) {
		url = NULL;
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((err = ykssh_bb_request(bb, "DELETE", url, NULL, &r)) != NULL)
		goto out;
	if (r.status != 204 && r.status != 200) {
		err = ykssh_bb_status_err(bb, &r, "cannot delete the key");
		goto out;
	}
	if ((*deletedp = dup_key(k)) == NULL)
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
out:
	if (enc != NULL)
		bb->c.free(enc);
	free(base);
	free(url);
	ykssh_bb_reply_clear(&r);
	ykssh_bb_keylist_free(l);
	return err;
}
