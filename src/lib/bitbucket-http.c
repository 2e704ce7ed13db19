/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HTTP for the Bitbucket client: one libcurl handle, bounded replies, the
 * retry policy, and the translation of libcurl and HTTP failures.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "bitbucket-internal.h"
#include "ykssh/secret.h"
#include "ykssh/version.h"

#define CONNECT_TIMEOUT_MS	10000
#define BACKOFF_FIRST_MS	500

#define LIBCURL_SONAME	"libcurl.so.4"

struct ykssh_err *
ykssh_bb_curl_load(struct ykssh_bb *bb)
{
	struct ykssh_bb_curl *c = &bb->c;
	const char *e;

	/*
	 * Never unloaded once loaded (RTLD_NODELETE): libcurl and its TLS
	 * library keep thread-local and atexit state that must outlive a
	 * dlclose() (LeakSanitizer's exit-time scan crashed on it).
	 */
	if ((c->dl = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL |
	    RTLD_NODELETE)) == NULL) {
		e = dlerror();
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_UNSUPPORTED,
		    "cannot load %s: %s", LIBCURL_SONAME, e != NULL ? e : "?"),
		    "install libcurl (Debian: apt-get install libcurl4)");
	}
	/* POSIX allows converting dlsym's result to function pointers. */
#define SYM(field, name) \
	if ((*(void **)&c->field = dlsym(c->dl, name)) == NULL) \
		goto missing
	SYM(easy_init, "curl_easy_init");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(easy_escape, "curl_easy_escape");
	SYM(free, "curl_free");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
#undef SYM
	return NULL;
missing:
	ykssh_bb_curl_unload(bb);
	return YKSSH_ERR(YKSSH_ERR_UNSUPPORTED,
	    "%s lacks a function ykssh needs", LIBCURL_SONAME);
}

void
ykssh_bb_curl_unload(struct ykssh_bb *bb)
{
	if (bb->c.dl != NULL)
		dlclose(bb->c.dl);
	memset(&bb->c, 0, sizeof(bb->c));
}

void
ykssh_bb_reply_clear(struct ykssh_bb_reply *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct ykssh_bb_reply *r = arg;
	size_t n = size * nmemb;
	char *nb;

	/* Refuse oversized replies instead of growing without bound. */
	if (n > YKSSH_BB_MAX_REPLY - r->len)
		return 0;
	if ((nb = realloc(r->body, r->len + n + 1)) == NULL)
		return 0;
	r->body = nb;
	memcpy(r->body + r->len, p, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct ykssh_bb_reply *r = arg;
	size_t n = size * nmemb;
	char buf[64], *end;
	long v;

	if (n > 12 && n < sizeof(buf) && strncasecmp(p, "Retry-After:", 12) ==
	    0) {
		memcpy(buf, p + 12, n - 12);
		buf[n - 12] = '\0';
		errno = 0;
		v = strtol(buf, &end, 10);
		/* Only delta-seconds; an HTTP date is ignored (backoff). */
		if (errno == 0 && end != buf && v >= 0 && v < 86400)
			r->retry_after = v;
	}
	return n;
}

/* Waits ms, in slices, so Ctrl-C is not held up by a Retry-After. */
static int
wait_ms(const struct ykssh_bb *bb, long ms)
{
	struct timespec ts;
	long slice;

	while (ms > 0) {
		if (ykssh_ctx_cancelled(bb->ctx))
			return -1;
		slice = ms > 100 ? 100 : ms;
		ts.tv_sec = 0;
		ts.tv_nsec = slice * 1000000;
		nanosleep(&ts, NULL);
		ms -= slice;
	}
	return ykssh_ctx_cancelled(bb->ctx) ? -1 : 0;
}

static struct ykssh_err *
curl_err(const struct ykssh_bb *bb, CURLcode rc, const char *url)
{
	const char *what = bb->c.easy_strerror(rc);

	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_TLS,
		    "TLS with %s failed: %s", url, what),
		    "for a server with a private CA, pass --cacert FILE "
		    "(verification is never turned off)");
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_NETWORK,
		    "cannot reach %s: %s", url, what),
		    "check the URL and your network (proxies come from "
		    "https_proxy/no_proxy)");
	case CURLE_OPERATION_TIMEDOUT:
		return YKSSH_ERR(YKSSH_ERR_NETWORK, "%s timed out: %s", url,
		    what);
	case CURLE_WRITE_ERROR:
		return YKSSH_ERR(YKSSH_ERR_PROTOCOL,
		    "the reply from %s is larger than %d bytes", url,
		    YKSSH_BB_MAX_REPLY);
	case CURLE_UNSUPPORTED_PROTOCOL:
		return YKSSH_ERR(YKSSH_ERR_CONFIG,
		    "%s is not an https:// URL", url);
	default:
		return YKSSH_ERR(YKSSH_ERR_NETWORK, "request to %s failed: %s",
		    url, what);
	}
}

/* Connection-level failures worth another try for an idempotent read. */
static int
transient(CURLcode rc)
{
	return rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR ||
	    rc == CURLE_SEND_ERROR || rc == CURLE_PARTIAL_FILE ||
	    rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_COULDNT_CONNECT;
}

static struct ykssh_err *
perform(struct ykssh_bb *bb, const char *method, const char *url,
    const char *json_body, struct ykssh_bb_reply *r, CURLcode *rcp)
{
	struct curl_slist *hdr = NULL, *h;
	char ua[64];
	long conns = 0;
	CURLcode rc;

	ykssh_bb_reply_clear(r);
	snprintf(ua, sizeof(ua), "User-Agent: ykssh/%s", ykssh_version());
	if ((h = bb->c.slist_append(hdr, "Accept: application/json")) == NULL)
		goto nomem;
	hdr = h;
	if ((h = bb->c.slist_append(hdr, ua)) == NULL)
		goto nomem;
	hdr = h;
	if (json_body != NULL) {
		if ((h = bb->c.slist_append(hdr,
		    "Content-Type: application/json")) == NULL)
			goto nomem;
		hdr = h;
	}
	bb->c.easy_setopt(bb->curl, CURLOPT_URL, url);
	bb->c.easy_setopt(bb->curl, CURLOPT_HTTPHEADER, hdr);
	bb->c.easy_setopt(bb->curl, CURLOPT_WRITEDATA, r);
	bb->c.easy_setopt(bb->curl, CURLOPT_HEADERDATA, r);
	if (strcmp(method, "GET") == 0) {
		bb->c.easy_setopt(bb->curl, CURLOPT_HTTPGET, 1L);
		bb->c.easy_setopt(bb->curl, CURLOPT_CUSTOMREQUEST, NULL);
	} else if (strcmp(method, "POST") == 0) {
		bb->c.easy_setopt(bb->curl, CURLOPT_POSTFIELDS, json_body);
		bb->c.easy_setopt(bb->curl, CURLOPT_CUSTOMREQUEST, NULL);
	} else {
		bb->c.easy_setopt(bb->curl, CURLOPT_HTTPGET, 1L);
		bb->c.easy_setopt(bb->curl, CURLOPT_CUSTOMREQUEST, method);
	}
	bb->requests++;
	rc = bb->c.easy_perform(bb->curl);
	bb->c.easy_setopt(bb->curl, CURLOPT_HTTPHEADER, NULL);
	bb->c.slist_free_all(hdr);
	if (bb->c.easy_getinfo(bb->curl, CURLINFO_NUM_CONNECTS, &conns) ==
	    CURLE_OK && conns > 0)
		bb->connections += (unsigned long)conns;
	*rcp = rc;
	if (rc != CURLE_OK)
		return curl_err(bb, rc, url);
	bb->c.easy_getinfo(bb->curl, CURLINFO_RESPONSE_CODE, &r->status);
	ykssh_debug(bb->ctx, "%s %s -> %ld (%zu bytes)", method, url,
	    r->status, r->len);
	return NULL;
nomem:
	bb->c.slist_free_all(hdr);
	*rcp = CURLE_OUT_OF_MEMORY;
	return YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot build the request");
}

struct ykssh_err *
ykssh_bb_request(struct ykssh_bb *bb, const char *method, const char *url,
    const char *json_body, struct ykssh_bb_reply *r)
{
	struct ykssh_err *err;
	int attempt, idempotent = strcmp(method, "POST") != 0;
	long backoff = BACKOFF_FIRST_MS, wait;
	CURLcode rc;

	for (attempt = 0;; attempt++) {
		err = perform(bb, method, url, json_body, r, &rc);
		if (err == NULL && r->status == 429) {
			/* Not processed: safe to repeat, writes included. */
			wait = r->retry_after >= 0 ? r->retry_after * 1000 :
			    backoff;
			if (attempt >= bb->max_retries ||
			    wait > (long)bb->max_wait_s * 1000)
				return NULL;	/* the caller reports 429 */
			ykssh_log(bb->ctx, YKSSH_LOG_INFO, "rate limited; "
			    "retrying in %ld ms", wait);
		} else if (err == NULL && r->status >= 500 && idempotent) {
			if (attempt >= bb->max_retries)
				return NULL;
			wait = backoff;
		} else if (err != NULL && idempotent && transient(rc)) {
			if (attempt >= bb->max_retries)
				return err;
			ykssh_err_free(err);
			wait = backoff;
		} else
			return err;
		if (wait_ms(bb, wait) != 0)
			return YKSSH_ERR(YKSSH_ERR_CANCELLED,
			    "cancelled while waiting to retry");
		backoff *= 2;
	}
}

/* Scope lists as the server gave them, for the message and the hint. */
static struct ykssh_err *
forbidden(const char *what, const char *msg, const char *required,
    const char *granted, const struct ykssh_bb *bb)
{
	if (required != NULL)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_FORBIDDEN,
		    "%s: the credentials lack the scope%s %s (granted: %s)",
		    what, strchr(required, ',') != NULL ? "s" : "", required,
		    granted != NULL && *granted != '\0' ? granted : "none"),
		    "create an API token with the scopes read:user:bitbucket, "
		    "read:ssh-key:bitbucket, write:ssh-key:bitbucket and "
		    "delete:ssh-key:bitbucket");
	return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_FORBIDDEN, "%s: %s", what,
	    msg != NULL ? msg : "forbidden"),
	    bb->product == YKSSH_BB_DC ? "the access token needs to act for "
	    "its own user (a personal HTTP access token)" :
	    "use an API token of the account that owns the keys");
}

struct ykssh_err *
ykssh_bb_status_err(const struct ykssh_bb *bb, const struct ykssh_bb_reply *r,
    const char *what)
{
	char *msg = NULL, *required = NULL, *granted = NULL;
	struct ykssh_err *err;
	const char *m;

	ykssh_bb_json_error(r->body, r->len, &msg, &required, &granted);
	m = msg != NULL ? msg : "no message";
	switch (r->status) {
	case 400:
		if (strstr(m, "already registered") != NULL)
			err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFLICT,
			    "%s: the key is already registered to another "
			    "Bitbucket account (%s)", what, m),
			    "delete it there first, or make another key");
		else
			err = YKSSH_ERR(YKSSH_ERR_REJECTED, "%s: %s", what, m);
		break;
	case 401:
		if (strcasestr(m, "app password") != NULL)
			err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_AUTH,
			    "%s: app passwords no longer work (%s)", what, m),
			    "Bitbucket Cloud removed app passwords in 2026: "
			    "create an API token with scopes");
		else
			err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_AUTH,
			    "%s: Bitbucket did not accept the credentials "
			    "from %s (%s)", what, bb->cred->source, m),
			    bb->product == YKSSH_BB_CLOUD ? "use your Atlassian "
			    "account e-mail with an API token "
			    "($YKSSH_BITBUCKET_USER, $YKSSH_BITBUCKET_TOKEN)" :
			    "use a personal HTTP access token "
			    "($YKSSH_BITBUCKET_TOKEN)");
		break;
	case 403:
		err = forbidden(what, msg, required, granted, bb);
		break;
	case 404:
		err = YKSSH_ERR(YKSSH_ERR_NOT_FOUND, "%s: not found (%s)", what,
		    m);
		break;
	case 409:
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFLICT,
		    "%s: the key already exists on the server (%s)", what, m),
		    "it may belong to another user; delete it there or make "
		    "another key");
		break;
	case 429:
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_RATE_LIMITED,
		    "%s: rate limited%s", what, r->retry_after >= 0 ?
		    " for longer than ykssh waits" : ""),
		    "try again later (Bitbucket Cloud counts requests per "
		    "hour)");
		break;
	default:
		if (r->status >= 500)
			err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_SERVER,
			    "%s: server error %ld (%s)", what, r->status, m),
			    "try again later");
		else
			err = YKSSH_ERR(YKSSH_ERR_PROTOCOL,
			    "%s: unexpected status %ld (%s)", what, r->status,
			    m);
		break;
	}
	free(msg);
	free(required);
	free(granted);
	return err;
}

/* Sets up the one handle every request of this client uses. */
struct ykssh_err *
ykssh_bb_http_init(struct ykssh_bb *bb, const char *cacert)
{
	const struct ykssh_bb_credentials *c = bb->cred;

	if ((bb->curl = bb->c.easy_init()) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "cannot start libcurl");
	bb->c.easy_setopt(bb->curl, CURLOPT_NOSIGNAL, 1L);
	bb->c.easy_setopt(bb->curl, CURLOPT_PROTOCOLS_STR, "https");
	bb->c.easy_setopt(bb->curl, CURLOPT_FOLLOWLOCATION, 0L);
	bb->c.easy_setopt(bb->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	bb->c.easy_setopt(bb->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cacert != NULL)
		bb->c.easy_setopt(bb->curl, CURLOPT_CAINFO, cacert);
	bb->c.easy_setopt(bb->curl, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)CONNECT_TIMEOUT_MS);
	bb->c.easy_setopt(bb->curl, CURLOPT_TIMEOUT_MS, (long)bb->timeout_ms);
	bb->c.easy_setopt(bb->curl, CURLOPT_WRITEFUNCTION, on_body);
	bb->c.easy_setopt(bb->curl, CURLOPT_HEADERFUNCTION, on_header);
	bb->c.easy_setopt(bb->curl, CURLOPT_ACCEPT_ENCODING, "");
	if (c->kind == YKSSH_BB_AUTH_BASIC) {
		bb->c.easy_setopt(bb->curl, CURLOPT_HTTPAUTH,
		    (long)CURLAUTH_BASIC);
		bb->c.easy_setopt(bb->curl, CURLOPT_USERNAME, c->user);
		bb->c.easy_setopt(bb->curl, CURLOPT_PASSWORD,
		    ykssh_secret_str(c->secret));
	} else {
		bb->c.easy_setopt(bb->curl, CURLOPT_HTTPAUTH,
		    (long)CURLAUTH_BEARER);
		bb->c.easy_setopt(bb->curl, CURLOPT_XOAUTH2_BEARER,
		    ykssh_secret_str(c->secret));
	}
	return NULL;
}
